//! The window, driven through its accessibility tree with `egui_kittest` (no GPU, no display).

use egui_kittest::kittest::Queryable as _;
use egui_kittest::Harness;
use glassbox::{assets_path, GlassboxApp, DEFAULT_NOTEBOOK};

#[test]
fn the_window_shows_the_model_and_the_dataset_licenses() {
    let mut app = GlassboxApp::new(assets_path(DEFAULT_NOTEBOOK));
    let mut harness = Harness::new_ui(|ui| app.show(ui));
    harness.run();
    harness.get_by_label("dense2");
    harness.get_by_label("600");
    harness.get_by_label("722 trainable parameters");
    harness.get_by_label_contains("CC BY-SA 3.0 (attribution: Yann LeCun and Corinna Cortes)");
    harness.get_by_label_contains("MIT, Copyright (c) 2017 Zalando SE");
}

#[test]
fn a_graph_with_problems_lists_them_and_a_broken_file_says_why() {
    let dir = std::env::temp_dir().join(format!("glassbox-ui-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let bad_shapes = dir.join("bad.json");
    std::fs::write(
        &bad_shapes,
        r#"{"graph": {"nodes":[{"id":"in","layer":{"kind":"Input","shape":[1,8,8]}},{"id":"d","layer":{"kind":"Dense","units":3}}],"edges":[{"from":"in","to":"d"}]}}"#,
    )
    .expect("write");
    let mut app = GlassboxApp::new(bad_shapes);
    let mut harness = Harness::new_ui(|ui| app.show(ui));
    harness.run();
    harness.get_by_label_contains("add a Flatten before d");
    drop(harness);

    let broken = dir.join("broken.json");
    std::fs::write(&broken, "{ not json").expect("write");
    let mut app = GlassboxApp::new(broken);
    let mut harness = Harness::new_ui(|ui| app.show(ui));
    harness.run();
    harness.get_by_label_contains("is not valid JSON (line 1");
    drop(harness);
    std::fs::remove_dir_all(&dir).ok();
}
