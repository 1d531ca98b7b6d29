//! UI frame time while training: the real app (the spiral example) driven through `egui_kittest`
//! with no GPU, training in the background, 600 frames. Prints the median and 99th percentile of
//! the time one frame of UI code takes (layout, plots, event folding; not GPU drawing). The
//! budget of a 60 fps frame is 16.7 ms.
//!
//! `cargo bench --bench frame_time`

use std::time::Instant;

use egui_kittest::kittest::Queryable as _;
use egui_kittest::Harness;
use glassbox::{assets_path, AppCommand, GlassboxApp, DEFAULT_NOTEBOOK};

fn main() {
    if std::env::args().any(|a| a == "--test" || a == "--list") {
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
}
