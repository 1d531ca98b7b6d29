//! Looking inside, timed (issue 12's speed goals):
//! - a LeNet test sample's activations, from the click's command to the trainer's answer
//!   (the round trip the window waits for; goal 20 ms), and the engine's forward pass alone;
//! - the spiral MLP's decision boundary on a 100 x 100 grid (goal 10 ms), and with every
//!   neuron's response over the plane;
//! - the MNIST example with every inspection cell open while training, against the same notebook
//!   without them, alternating three times: the UI code per frame (goal under 8 ms) and the
//!   training throughput (goal: no more than 10% lower with the cells open). In a 1280 x 3000
//!   window, where every cell is drawn at once, and in a 1280 x 720 one scrolled down to the
//!   inspection cells (cells out of view are not drawn).
//!
//! - every attribution method on the benchmark LeNet and one 28 x 28 input (issue 14's goals:
//!   saliency and Grad-CAM under 5 ms, Integrated Gradients with 32 steps and occlusion with
//!   patch 4 and stride 2 under 20 ms, LIME and Kernel SHAP with 1,000 samples under 1 s);
//!   `scripts/bench-explain.sh` runs these beside the same methods in Captum.
//!
//! `cargo bench --bench inspection` (`ONLY=explain` for the attribution methods alone)

use std::sync::Arc;
use std::time::{Duration, Instant};

use eframe::egui;
use egui_kittest::Harness;
use glassbox::notebook::{CellKind, Notebook};
use glassbox::{assets_path, AppCommand, GlassboxApp, ModelCommand};
use glassbox_engine::train::{Command, Event, InspectRequest, Session, StartRun};

// As the app's binary (src/main.rs).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn p99(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[(v.len() * 99 / 100).min(v.len() - 1)]
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --all-targets` (CI) runs this binary with no
    // arguments, and the timings are not wanted there.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    if std::env::var("ONLY").is_ok_and(|o| o == "explain") {
        explain_methods();
        return;
    }
    lenet_activations();
    decision_grid();
    explain_methods();
    cells_while_training();
}

/// Each method's median time over repeated runs on the benchmark LeNet (random weights, seed 0)
/// and one fixed 28 x 28 input, as `explain <method> median_ms=<m> runs=<n>`.
fn explain_methods() {
    use glassbox_engine::explain::{explain, Method, Reference, Settings};
    let mut model = glassbox_engine::tensor::Model::new(&glassbox_engine::graph::examples::lenet(), 0).expect("model");
    let x: Vec<f32> = (0..784).map(|i| ((i * 7) % 256) as f32 / 255.0).collect();
    let reference = Reference { min: 0.0, max: 1.0, mean: vec![0.5; 784] };
    for (method, runs) in [
        (Method::Saliency, 50),
        (Method::IntegratedGradients, 30),
        (Method::GradCam, 50),
        (Method::Occlusion, 30),
        (Method::Lime, 7),
        (Method::KernelShap, 7),
    ] {
        let settings = Settings { target: Some(0), steps: 32, samples: 1000, ..Settings::of(method) };
        let _ = explain(&mut model, &x, &settings, &reference, &mut |_| true).expect("explains");
        let mut times: Vec<f64> = (0..runs)
            .map(|_| {
                let t0 = Instant::now();
                let a = explain(&mut model, &x, &settings, &reference, &mut |_| true).expect("explains");
                assert!(!a.values.is_empty());
                t0.elapsed().as_secs_f64() * 1e3
            })
            .collect();
        println!("explain {} median_ms={:.3} runs={runs}", method.name(), median(&mut times));
    }
}

fn lenet_activations() {
    let nb = Notebook::load(&assets_path("assets/notebooks/mnist-lenet.json")).expect("example");
    let splits = nb.data.build().expect("data");
    let def = &nb.models[0];
    let mut model = glassbox_engine::tensor::Model::new(&def.graph, def.training.seed).expect("model");
    let mut engine: Vec<f64> = (0..50)
        .map(|i| {
            let t0 = Instant::now();
            let outs = glassbox_engine::inspect::activations(&mut model, splits.test.sample(i)).expect("runs");
            assert_eq!(outs.len(), def.graph.nodes.len());
            t0.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    let mut session = Session::spawn(Arc::new(|| {})).expect("thread");
    session.start(StartRun {
        graph: def.graph.clone(),
        data: splits,
        config: def.training,
        initial_weights: None,
        keep_matching_weights: false,
    });
    while !matches!(session.wait(Duration::from_secs(30)), Some(Event::Snapshot { .. })) {}
    let mut round: Vec<f64> = (0..50)
        .map(|i| {
            let t0 = Instant::now();
            session.send(Command::Inspect(InspectRequest {
                id: i,
                indices: vec![i as usize],
                ..InspectRequest::default()
            }));
            loop {
                if let Some(Event::Inspected { inspection, .. }) = session.wait(Duration::from_secs(10)) {
                    assert_eq!(inspection.id, i);
                    break;
                }
            }
            t0.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    println!(
        "lenet_activations round_trip median_ms={:.3} p99_ms={:.3} (goal 20) | engine forward alone median_ms={:.3}",
        median(&mut round),
        p99(&mut round),
        median(&mut engine)
    );
}

fn decision_grid() {
    let nb = Notebook::load(&assets_path("assets/notebooks/spiral-mlp.json")).expect("example");
    let def = &nb.models[0];
    let mut model = glassbox_engine::tensor::Model::new(&def.graph, def.training.seed).expect("model");
    let mut time = |neurons: bool| {
        let mut t: Vec<f64> = (0..40)
            .map(|_| {
                let t0 = Instant::now();
                if neurons {
                    glassbox_engine::inspect::grid_activations(&mut model, [-6.0, -6.0], [6.0, 6.0], 100)
                        .expect("grid");
                } else {
                    glassbox_engine::inspect::decision_grid(&mut model, [-6.0, -6.0], [6.0, 6.0], 100).expect("grid");
                }
                t0.elapsed().as_secs_f64() * 1e3
            })
            .collect();
        (median(&mut t), p99(&mut t))
    };
    let (boundary, boundary_max) = time(false);
    let (neurons, neurons_max) = time(true);
    println!(
        "decision_grid_100x100 median_ms={boundary:.3} p99_ms={boundary_max:.3} (goal 10) | with every neuron over the plane median_ms={neurons:.3} p99_ms={neurons_max:.3}"
    );
}

/// The MNIST example with its inspection cells, or without them.
fn mnist(with_cells: bool, height: f32) -> Harness<'static, GlassboxApp> {
    let mut app = GlassboxApp::new(assets_path("assets/notebooks/mnist-lenet.json"));
    app.set_epochs_for_test(1000);
    let mut harness =
        Harness::builder().with_size([1280.0, height]).build_ui_state(|ui, app: &mut GlassboxApp| app.show(ui), app);
    harness.run_steps(2);
    if !with_cells {
        let cells = harness.state().notebook().map_or(0, |nb| nb.cells.len());
        for index in (0..cells).rev() {
            let kind = harness.state().notebook().map(|nb| nb.cells[index].kind.clone());
            if kind.is_some_and(|k| k.inspects() || matches!(k, CellKind::Health { .. } | CellKind::Evaluation { .. }))
            {
                harness.state_mut().push(AppCommand::DeleteCell(index));
                harness.run_steps(1);
            }
        }
    }
    harness.state_mut().push(AppCommand::SetSpeed(None));
    harness.state_mut().push(AppCommand::model("LeNet", ModelCommand::Train));
    harness.run_steps(2);
    if height < 1000.0 {
        // Down the page with the mouse wheel, past the training cell to the inspection cells.
        harness.event(egui::Event::PointerMoved(egui::pos2(640.0, 400.0)));
        for _ in 0..10 {
            harness.event(egui::Event::MouseWheel {
                unit: egui::MouseWheelUnit::Point,
                delta: egui::vec2(0.0, -260.0),
                phase: egui::TouchPhase::Move,
                modifiers: egui::Modifiers::NONE,
            });
            harness.step();
        }
    }
    harness
}

/// Frames for `seconds` of training: the UI time of each frame, and training steps a second.
fn measure(harness: &mut Harness<'_, GlassboxApp>, seconds: f64) -> (Vec<f64>, f64) {
    // Let the run get going (the first steps and the first inspections).
    let warm = Instant::now();
    while warm.elapsed().as_secs_f64() < 1.0 {
        harness.step();
    }
    let step0 = harness.state().record().latest.map_or(0, |p| p.step);
    let start = Instant::now();
    let mut frames = Vec::new();
    while start.elapsed().as_secs_f64() < seconds {
        let t0 = Instant::now();
        harness.step();
        frames.push(t0.elapsed().as_secs_f64() * 1e3);
        // About 60 frames a second, as the window would draw.
        std::thread::sleep(Duration::from_millis(16).saturating_sub(t0.elapsed()));
    }
    let steps = harness.state().record().latest.map_or(0, |p| p.step) - step0;
    (frames, steps as f64 / start.elapsed().as_secs_f64())
}

fn cells_while_training() {
    for height in [3000.0, 720.0] {
        window(height);
    }
}

fn window(height: f32) {
    let mut rows = Vec::new();
    for round in 0..3 {
        for with_cells in [false, true] {
            let mut harness = mnist(with_cells, height);
            let (mut frames, rate) = measure(&mut harness, 6.0);
            rows.push((round, with_cells, median(&mut frames), p99(&mut frames), rate));
        }
    }
    for (round, with_cells, med, p, rate) in &rows {
        println!(
            "mnist_while_training window=1280x{height} round={round} inspection_cells={with_cells} ui_frame median_ms={med:.3} p99_ms={p:.3} (goal 8) steps_per_s={rate:.1}"
        );
    }
    let rate = |cells: bool| rows.iter().filter(|r| r.1 == cells).map(|r| r.4).collect::<Vec<_>>();
    let (without, with) = (rate(false), rate(true));
    let ratios: Vec<String> = without.iter().zip(&with).map(|(a, b)| format!("{:.3}", b / a)).collect();
    println!("throughput with cells / without, per round: {} (goal >= 0.90)", ratios.join(", "));
}
