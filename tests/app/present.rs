//! Presentation mode: F5 turns a notebook into slides (a row of cells each, folded cells left
//! out), arrow keys move, the editing controls are hidden and the live ones kept, Escape returns;
//! and a lesson's hidden controls.

use eframe::egui;
use egui_kittest::kittest::Queryable as _;
use egui_kittest::Harness;
use glassbox::{assets_path, AppCommand, GlassboxApp};

fn harness(path: std::path::PathBuf) -> Harness<'static, GlassboxApp> {
    let mut h = Harness::builder()
        .with_size([1280.0, 720.0])
        .build_ui_state(|ui, app: &mut GlassboxApp| app.show(ui), GlassboxApp::new(path));
    h.run_steps(3);
    h
}

fn key(h: &mut Harness<'_, GlassboxApp>, key: egui::Key) {
    h.key_press(key);
    h.run_steps(3);
}

#[test]
fn every_example_is_presented_slide_by_slide_and_escape_returns() {
    let examples = crate::example_notebooks();
    assert!(examples.len() >= 5, "{examples:?}");
    for path in examples {
        let mut h = harness(path.clone());
        let nb = h.state().notebook().expect("opens").clone();
        let unfolded: Vec<usize> = (0..nb.cells.len()).filter(|&i| !nb.cells[i].folded).collect();
        // A row of cells placed beside each other is one slide.
        let rows =
            unfolded.iter().filter(|&&i| !(nb.cells[i].beside && unfolded.contains(&(i.wrapping_sub(1))))).count();
        h.get_by_label("New");
        key(&mut h, egui::Key::F5);
        assert_eq!(h.state().presenting(), Some((0, rows)), "{}", path.display());
        h.get_by_label(&format!("Slide 1 of {rows}"));
        assert!(h.query_by_label("New").is_none() && h.query_by_label("+ cell").is_none(), "editing controls hidden");
        h.get_by_label("▶ Train");
        for slide in 1..rows {
            key(&mut h, egui::Key::ArrowRight);
            assert_eq!(h.state().presenting(), Some((slide, rows)), "{}", path.display());
            h.get_by_label(&format!("Slide {} of {rows}", slide + 1));
        }
        // Past the last slide it stays; Home goes back to the first; Left from there stays.
        key(&mut h, egui::Key::ArrowRight);
        assert_eq!(h.state().presenting(), Some((rows - 1, rows)));
        key(&mut h, egui::Key::Home);
        key(&mut h, egui::Key::ArrowLeft);
        assert_eq!(h.state().presenting(), Some((0, rows)));
        key(&mut h, egui::Key::Escape);
        assert_eq!(h.state().presenting(), None);
        h.get_by_label("New");
    }
}

#[test]
fn presenting_keeps_training_live_and_gives_the_text_size_back() {
    let mut h = harness(assets_path("assets/notebooks/spiral-mlp.json"));
    let zoom = h.ctx.zoom_factor();
    h.get_by_label("▶ Present").click();
    h.run_steps(3);
    assert!(h.state().presenting().is_some());
    assert!(h.ctx.zoom_factor() > zoom * 1.2, "larger text on a projector");
    // Space trains while presenting, as in the notebook.
    key(&mut h, egui::Key::Space);
    crate::step_within(&mut h, std::time::Duration::from_secs(60), "training", |app| {
        app.record().latest.is_some_and(|p| p.step > 0)
    });
    h.get_by_label("Leave (Esc)").click();
    h.run_steps(3);
    assert_eq!(h.state().presenting(), None);
    assert!((h.ctx.zoom_factor() - zoom).abs() < 1e-6);
}

#[test]
fn a_lesson_hides_the_controls_it_does_not_need_and_folded_cells_are_not_slides() {
    use glassbox::notebook::{Control, Notebook};
    let dir = std::env::temp_dir().join(format!("glassbox-present-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut nb = Notebook::load(&assets_path("assets/notebooks/spiral-mlp.json")).expect("loads");
    nb.view.hide = vec![Control::CellControls, Control::Speed, Control::StepButtons, Control::Reset];
    nb.cells[1].folded = true;
    let path = dir.join("lesson.json");
    nb.save(&path).expect("saves");
    let mut h = harness(path);
    assert!(h.query_by_label("+ cell").is_none() && h.query_by_label("☰").is_none(), "cell controls hidden");
    assert!(h.query_by_label("fastest").is_none() && h.query_by_label("Reset").is_none(), "speed and reset hidden");
    assert!(h.query_by_label("Step").is_none() && h.query_by_label("Epoch").is_none());
    h.get_all_by_label("▶ Train").next().expect("Train stays");
    let unfolded = nb.cells.iter().filter(|c| !c.folded).count();
    h.state_mut().push(AppCommand::Present(true));
    h.run_steps(3);
    let (_, slides) = h.state().presenting().expect("presenting");
    assert!(slides < nb.cells.len() && slides <= unfolded, "the folded cell is left out: {slides}");
    std::fs::remove_dir_all(&dir).ok();
}
