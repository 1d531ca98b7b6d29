//! UI frame time while training: the real app (the spiral example) driven through `egui_kittest`
//! with no GPU, training in the background, 600 frames. Prints the median and 99th percentile of
//! the time one frame of UI code takes (layout, plots, event folding; not GPU drawing). The
//! budget of a 60 fps frame is 16.7 ms.
//!
//! Then the graph editor with a 60-node graph (Input, 29 Dense+ReLU pairs, a Dense output; laid
//! out automatically), the pointer moving over the canvas, 300 frames; and the same graph as a
//! table, as the reference measured in the same run. Then the spiral MLP's decision boundary on
//! a 100 x 100 grid (engine only).
//!
//! `cargo bench --bench frame_time`

use std::time::Instant;

use eframe::egui;
use egui_kittest::kittest::Queryable as _;
use egui_kittest::Harness;
use glassbox::{assets_path, AppCommand, GlassboxApp, DEFAULT_NOTEBOOK};
use glassbox_engine::graph::{GraphSpec, LayerSpec};

fn main() {
    // `cargo bench` passes --bench; `cargo test --all-targets` (CI) runs this binary with no
    // arguments, and the timings are not wanted there.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let mut app = GlassboxApp::new(assets_path(DEFAULT_NOTEBOOK));
    app.set_epochs_for_test(100_000);
    let mut harness =
        Harness::builder().with_size([1200.0, 2400.0]).build_ui_state(|ui, app: &mut GlassboxApp| app.show(ui), app);
    harness.run_steps(3);
    // Unpaced, so the trainer competes with the frames as hard as it can.
    harness.state_mut().push(AppCommand::SetSpeed(None));
    harness.run_steps(1);
    // The run bar's Train (the training cell has one too).
    harness.query_all_by_label("▶ Train").next().expect("a Train button").click();
    let mut times = Vec::with_capacity(600);
    for _ in 0..600 {
        let t0 = Instant::now();
        harness.step();
        times.push(t0.elapsed().as_secs_f64() * 1e3);
    }
    let steps = harness.state().record().latest.map_or(0, |p| p.step);
    times.sort_by(f64::total_cmp);
    println!(
        "ui_frame_while_training median_ms={:.3} p99_ms={:.3} budget_ms=16.7 training_steps_meanwhile={steps}",
        times[times.len() / 2],
        times[times.len() * 99 / 100]
    );
    editor_with_60_nodes();
    decision_grid();
}

/// The spiral MLP's outputs over a 100 x 100 grid of the plane (the decision boundary the
/// dataset cell shades), on the engine alone: 30 repetitions.
fn decision_grid() {
    let nb = glassbox::notebook::Notebook::load(&assets_path(DEFAULT_NOTEBOOK)).expect("example");
    let def = &nb.models[0];
    let mut model = glassbox_engine::tensor::Model::new(&def.graph, def.training.seed).expect("model");
    let mut times: Vec<f64> = (0..30)
        .map(|_| {
            let t0 = Instant::now();
            let out = glassbox_engine::inspect::decision_grid(&mut model, [-6.0, -6.0], [6.0, 6.0], 100).expect("grid");
            assert_eq!(out.len(), 100 * 100 * 2);
            t0.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    println!(
        "decision_grid_100x100 median_ms={:.3} max_ms={:.3} budget_ms=10",
        times[times.len() / 2],
        times[times.len() - 1]
    );
}

/// A 60-node chain: Input, 29 x (Dense 16, ReLU), Dense 2.
fn sixty_nodes() -> GraphSpec {
    let mut layers = vec![LayerSpec::Input { shape: vec![2] }];
    for _ in 0..29 {
        layers.push(LayerSpec::Dense { units: 16, bias: true });
        layers.push(LayerSpec::Relu);
    }
    layers.push(LayerSpec::Dense { units: 2, bias: true });
    GraphSpec::sequential(layers)
}

fn frames(harness: &mut Harness<'_, GlassboxApp>, n: usize) -> Vec<f64> {
    let mut times = Vec::with_capacity(n);
    for i in 0..n {
        // The pointer sweeps over the canvas, so hovering and hit-testing are in the frames.
        let t = i as f32 / n as f32;
        harness.hover_at(egui::pos2(200.0 + 900.0 * t, 900.0 + 200.0 * (t * 12.0).sin()));
        let t0 = Instant::now();
        harness.step();
        times.push(t0.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    times
}

fn editor_with_60_nodes() {
    let app = GlassboxApp::new(assets_path(DEFAULT_NOTEBOOK));
    let mut harness =
        Harness::builder().with_size([1280.0, 2400.0]).build_ui_state(|ui, app: &mut GlassboxApp| app.show(ui), app);
    harness.run_steps(3);
    let graph = sixty_nodes();
    assert_eq!(graph.nodes.len(), 60);
    harness.state_mut().push(AppCommand::EditGraph {
        model: "MLP".into(),
        graph,
        layout: std::collections::BTreeMap::new(),
        merge: None,
    });
    harness.run_steps(10);
    let editor = frames(&mut harness, 300);
    harness.state_mut().push(AppCommand::ToggleTableView);
    harness.run_steps(5);
    let table = frames(&mut harness, 300);
    let median = |t: &[f64]| t[t.len() / 2];
    println!(
        "editor_60_nodes median_ms={:.3} p99_ms={:.3} budget_ms=16.0 | same graph as a table median_ms={:.3} p99_ms={:.3} | ratio {:.2}",
        median(&editor),
        editor[editor.len() * 99 / 100],
        median(&table),
        table[table.len() * 99 / 100],
        median(&editor) / median(&table)
    );
}
