//! Every bundled example graph loads, passes shape inference and compiles.

use glassbox::{assets_path, load_graph, DEFAULT_GRAPH};
use glassbox_engine::tensor::Model;

#[test]
fn bundled_graphs_load_and_compile() {
    let dir = assets_path("assets/graphs");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).expect("assets/graphs exists").flatten() {
        let graph = load_graph(&entry.path()).expect("a valid graph file");
        let model = Model::new(&graph, 0).unwrap_or_else(|e| panic!("{}: {e}", entry.path().display()));
        assert!(model.param_count() > 0);
        count += 1;
    }
    assert!(count >= 2, "expected the spiral and LeNet graphs, found {count}");
    assert!(assets_path(DEFAULT_GRAPH).exists());
}

#[test]
fn a_malformed_graph_file_says_where() {
    let dir = std::env::temp_dir().join(format!("glassbox-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("broken.json");
    std::fs::write(&path, "{\n  \"nodes\": [\n    {\"id\": \"in\", \"layer\": {\"kind\": \"Imput\"}}\n  ]\n}\n")
        .expect("write");
    let err = load_graph(&path).expect_err("unknown layer kind");
    let text = format!("{err:#}");
    assert!(text.contains("broken.json") && text.contains("line 3"), "{text}");
    assert!(text.contains("Imput"), "{text}");
    std::fs::remove_dir_all(&dir).ok();
}
