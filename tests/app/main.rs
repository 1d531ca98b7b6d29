//! The app's integration tests, as one test binary (each binary links the whole app, eframe and
//! the engine, so one binary with modules builds much faster than one binary per file).

mod architecture;
mod attribution;
mod cli;
mod editor;
mod figures;
mod hostile_notebooks;
mod inspection;
mod present;
mod sequences;
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

/// Every text an SVG writes, trimmed.
pub(crate) fn svg_texts(doc: &roxmltree::Document<'_>) -> Vec<String> {
    doc.descendants().filter(|n| n.has_tag_name("text")).filter_map(|n| n.text()).map(|t| t.trim().to_owned()).collect()
}

/// Every example notebook the Examples menu offers, in name order.
pub(crate) fn example_notebooks() -> Vec<std::path::PathBuf> {
    let mut examples: Vec<_> = std::fs::read_dir(glassbox::assets_path("assets/notebooks"))
        .expect("examples")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    examples.sort();
    examples
}

/// The primary button goes down (`pressed`) or up at `pos`.
pub(crate) fn pointer(h: &egui_kittest::Harness<'_, glassbox::GlassboxApp>, pos: eframe::egui::Pos2, pressed: bool) {
    h.event(eframe::egui::Event::PointerButton {
        pos,
        button: eframe::egui::PointerButton::Primary,
        pressed,
        modifiers: eframe::egui::Modifiers::NONE,
    });
}

/// A click where the app drew something that the accessibility tree does not place on the
/// screen (the editor's zoomed layer gives its own units) or does not name (a painted plot).
pub(crate) fn click_at(h: &mut egui_kittest::Harness<'_, glassbox::GlassboxApp>, pos: eframe::egui::Pos2) {
    h.hover_at(pos);
    h.run_steps(1);
    pointer(h, pos, true);
    h.run_steps(1);
    pointer(h, pos, false);
    h.run_steps(3);
}
