//! The app's integration tests, as one test binary (each binary links the whole app, eframe and
//! the engine, so one binary with modules builds much faster than one binary per file).

mod architecture;
mod cli;
mod editor;
mod hostile_notebooks;
mod inspection;
mod ui;

/// Steps the harness (the trainer keeps asking for repaints, so `run()` would never settle) until
/// `done` holds, failing with the run's state after `limit`.
pub(crate) fn step_within(
    harness: &mut egui_kittest::Harness<'_, glassbox::GlassboxApp>,
    limit: std::time::Duration,
    what: &str,
    mut done: impl FnMut(&glassbox::GlassboxApp) -> bool,
) {
    let deadline = std::time::Instant::now() + limit;
    while std::time::Instant::now() < deadline {
        harness.step();
        if done(harness.state()) {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    panic!("timed out waiting for {what}; record: {:?}", harness.state().record().state);
}
