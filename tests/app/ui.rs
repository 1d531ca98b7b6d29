//! The window, driven through its accessibility tree with `egui_kittest` (no GPU, no display).

use std::time::{Duration, Instant};

use eframe::egui;
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use egui_kittest::Harness;
use glassbox::notebook::CellKind;
use glassbox::{assets_path, AppCommand, GlassboxApp, ModelCommand, DEFAULT_NOTEBOOK};

fn harness(app: GlassboxApp) -> Harness<'static, GlassboxApp> {
    Harness::builder().with_size([1200.0, 3600.0]).build_ui_state(|ui, app: &mut GlassboxApp| app.show(ui), app)
}

/// Steps the harness (the trainer keeps asking for repaints, so `run()` would never settle) until
/// `done` holds or 20 s pass.
fn step_until(harness: &mut Harness<'_, GlassboxApp>, done: impl FnMut(&GlassboxApp) -> bool) {
    crate::step_within(harness, Duration::from_secs(20), "the condition", done);
}

/// An empty folder of this test's own (and this process's).
fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("glassbox-ui-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn step_of(app: &GlassboxApp) -> usize {
    app.record().latest.map_or(0, |p| p.step)
}

#[test]
fn the_example_opens_with_its_cells() {
    let mut harness = harness(GlassboxApp::new(assets_path(DEFAULT_NOTEBOOK)));
    harness.run_steps(3);
    harness.get_by_label("Two spirals: a first network");
    harness.get_by_label("400 training and 100 test samples, each [2]");
    // The model cell opens on the graph editor: each node with its name, shape and parameters.
    harness.get_by_label("dense2");
    harness.get_by_label("600 params");
    harness.get_by_label_contains("722 trainable parameters");
    assert_eq!(harness.query_all_by_label("▶ Train").count(), 2, "the run bar's and the training cell's");
    harness.get_by_label_contains("step 0 ");
    harness.get_by_label("Bundled datasets and their licenses").click();
    harness.run_steps(2);
    harness.get_by_label_contains("CC BY-SA 3.0 (attribution: Yann LeCun and Corinna Cortes)");
}

#[test]
fn clicking_train_advances_the_step_counter_and_pause_stops_it() {
    let mut harness = harness(GlassboxApp::new(assets_path(DEFAULT_NOTEBOOK)));
    harness.run_steps(2);
    harness.query_all_by_label("▶ Train").next().expect("▶ Train").click();
    step_until(&mut harness, |app| step_of(app) > 20);
    harness.query_all_by_label("⏸ Pause").next().expect("⏸ Pause").click();
    step_until(&mut harness, |app| matches!(app.record().state, glassbox_engine::train::RunState::Paused(_)));
    let paused_at = step_of(harness.state());
    harness.run_steps(5);
    assert_eq!(step_of(harness.state()), paused_at, "paused means no more steps");
    harness.get_by_label_contains(&format!("step {paused_at} "));
}

#[test]
fn changing_the_learning_rate_reaches_the_worker() {
    let mut harness = harness(GlassboxApp::new(assets_path(DEFAULT_NOTEBOOK)));
    harness.run_steps(2);
    harness.query_all_by_label("Step").next().expect("Step").click();
    step_until(&mut harness, |app| step_of(app) == 1);
    harness.get_by_label_contains("lr in use: 0.02 ");
    harness.get_by_label("×10").click();
    harness.run_steps(2);
    harness.query_all_by_label("Step").next().expect("Step").click();
    step_until(&mut harness, |app| step_of(app) == 2);
    harness.get_by_label_contains("lr in use: 0.2 ");
}

/// A model with problems lists them, says so in its training cell, and cannot start training.
fn harness_problems(h: &mut Harness<'_, GlassboxApp>) {
    h.get_by_label_contains("add a Flatten before d");
    h.get_by_label_contains("This model has problems");
    h.query_all_by_label("▶ Train").next().expect("▶ Train").click();
    h.run_steps(3);
    assert!(h.state().record().run.is_none(), "no run starts");
}

#[test]
fn a_graph_with_problems_lists_them_and_a_broken_file_says_why() {
    let dir = temp_dir("shapes");
    let bad_shapes = dir.join("bad.json");
    std::fs::write(
        &bad_shapes,
        r#"{"data": {"source": {"kind": "Toy2d", "pattern": "Spiral"}}, "graph": {"nodes":[{"id":"in","layer":{"kind":"Input","shape":[1,8,8]}},{"id":"d","layer":{"kind":"Dense","units":3}}],"edges":[{"from":"in","to":"d"}]}}"#,
    )
    .expect("write");
    let mut h = harness(GlassboxApp::new(bad_shapes));
    h.run_steps(2);
    harness_problems(&mut h);
    drop(h);

    let broken = dir.join("broken.json");
    std::fs::write(&broken, "{ not json").expect("write");
    let mut h = harness(GlassboxApp::new(broken));
    h.run_steps(2);
    h.get_by_label_contains("is not valid JSON (line 1");
    drop(h);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn train_stops_after_the_notebooks_epochs() {
    let mut app = GlassboxApp::new(assets_path(DEFAULT_NOTEBOOK));
    app.set_epochs_for_test(2);
    let mut harness = harness(app);
    harness.run_steps(2);
    harness.query_all_by_label("▶ Train").next().expect("▶ Train").click();
    step_until(&mut harness, |app| {
        matches!(
            app.record().state,
            glassbox_engine::train::RunState::Paused(glassbox_engine::train::PauseReason::Done)
        ) && step_of(app) > 0
    });
    // 400 training samples in batches of 16: 25 steps an epoch.
    assert_eq!(step_of(harness.state()), 50);
}

#[test]
fn save_then_open_gives_an_equal_notebook_and_a_corrupt_file_keeps_the_current_one() {
    let dir = temp_dir("files");
    let mut harness = harness(GlassboxApp::new(assets_path("assets/notebooks/mnist-lenet.json")));
    harness.run_steps(2);
    let original = harness.state().notebook().cloned().expect("the example loads");
    let copy = dir.join("copy.json");
    harness.state_mut().push(AppCommand::SaveAs(copy.clone()));
    harness.run_steps(2);
    harness.get_by_label_contains("Saved");
    assert_eq!(harness.state().path(), Some(copy.as_path()));

    let other = GlassboxApp::new(copy.clone());
    assert_eq!(other.notebook(), Some(&original), "save then open gives an equal notebook");

    let corrupt = dir.join("corrupt.json");
    std::fs::write(&corrupt, "{\"graph\": oops}").expect("write");
    harness.state_mut().push(AppCommand::Open(corrupt));
    harness.run_steps(2);
    harness.get_by_label_contains("The notebook you had open is unchanged");
    assert_eq!(harness.state().notebook(), Some(&original));
    assert_eq!(harness.state().path(), Some(copy.as_path()));
    harness.get_by_label("LeNet on handwritten digits (MNIST)");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn space_trains_and_pauses_and_the_theme_switches() {
    let mut harness = harness(GlassboxApp::new(assets_path(DEFAULT_NOTEBOOK)));
    harness.run_steps(2);
    harness.key_press(egui::Key::Space);
    step_until(&mut harness, |app| step_of(app) > 0);
    harness.key_press(egui::Key::Space);
    step_until(&mut harness, |app| matches!(app.record().state, glassbox_engine::train::RunState::Paused(_)));
    let dark = harness.ctx.theme() == egui::Theme::Dark;
    harness.get_by_label(if dark { "☀ Light" } else { "🌙 Dark" }).click();
    harness.run_steps(2);
    assert_ne!(harness.ctx.theme() == egui::Theme::Dark, dark);
}

#[test]
fn cells_move_delete_add_and_fold() {
    let mut harness = harness(GlassboxApp::new(assets_path(DEFAULT_NOTEBOOK)));
    harness.run_steps(2);
    let kinds = |h: &Harness<'_, GlassboxApp>| -> Vec<String> {
        h.state().notebook().expect("loaded").cells.iter().map(|c| format!("{c:?}").chars().take(8).collect()).collect()
    };
    let before = kinds(&harness);
    assert_eq!(before.len(), 4);
    harness.state_mut().push(AppCommand::MoveCell { index: 3, up: true });
    harness.run_steps(2);
    assert!(matches!(harness.state().notebook().expect("loaded").cells[2].kind, CellKind::Training { .. }));
    harness.state_mut().push(AppCommand::DeleteCell(0));
    harness.run_steps(2);
    assert_eq!(kinds(&harness).len(), 3);
    harness.state_mut().push(AppCommand::AddCell { after: 0, kind: CellKind::Markdown { text: String::new() } });
    harness.run_steps(2);
    assert!(matches!(harness.state().notebook().expect("loaded").cells[1].kind, CellKind::Markdown { .. }));
    harness.get_by_label("Done");
    // Any kind of cell can be added back from a cell's "+ cell" menu.
    let before = harness.state().notebook().expect("loaded").cells.len();
    harness.query_all_by_label("+ cell").next().expect("a menu").click();
    harness.run_steps(2);
    harness.get_by_label("Training: MLP").click();
    harness.run_steps(2);
    let cells = &harness.state().notebook().expect("loaded").cells;
    assert_eq!(cells.len(), before + 1);
    assert_eq!(cells[1].kind, CellKind::Training { model: "MLP".into() });
    // Folding the dataset cell hides its contents.
    harness.get_by_label("400 training and 100 test samples, each [2]");
    harness.state_mut().push(AppCommand::ToggleFolded(0));
    harness.run_steps(2);
    assert!(harness.query_by_label("400 training and 100 test samples, each [2]").is_none());
    assert!(harness.state().notebook().expect("loaded").cells[0].folded, "the fold is saved with the notebook");
}

#[test]
fn test_metrics_arrive_after_each_epoch() {
    let mut app = GlassboxApp::new(assets_path(DEFAULT_NOTEBOOK));
    app.set_epochs_for_test(2);
    let mut harness = harness(app);
    harness.run_steps(2);
    harness.query_all_by_label("▶ Train").next().expect("▶ Train").click();
    step_until(&mut harness, |app| app.record().evaluations.len() >= 2);
    harness.get_by_label_contains("test loss 0.");
}

#[test]
fn unsaved_work_is_autosaved_and_offered_after_a_crash() {
    let dir = temp_dir("recovery");
    let recovery = dir.join("recovery.json");
    let mut harness = harness(GlassboxApp::new(assets_path(DEFAULT_NOTEBOOK)).with_recovery(recovery.clone()));
    harness.run_steps(2);
    harness.state_mut().push(AppCommand::model("MLP", ModelCommand::SetEpochs(7)));
    harness.run_steps(2);
    harness.state_mut().autosave();
    assert!(recovery.exists(), "unsaved changes were written to the recovery file");
    drop(harness); // a crash: no clean exit removes the file

    let mut after = self::harness(GlassboxApp::new(assets_path(DEFAULT_NOTEBOOK)).with_recovery(recovery.clone()));
    after.run_steps(2);
    after.get_by_label("Recover").click();
    after.run_steps(3);
    assert_eq!(after.state().notebook().expect("recovered").models[0].training.epochs, 7);
    // The recovered work belongs to the file it came from, and is not saved yet.
    assert_eq!(after.state().path(), Some(assets_path(DEFAULT_NOTEBOOK).as_path()));
    assert!(after.state().has_unsaved_changes());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn saving_a_trained_notebook_writes_its_weights_beside_it() {
    let dir = temp_dir("sidecar");
    let mut harness = harness(GlassboxApp::new(assets_path(DEFAULT_NOTEBOOK)));
    harness.run_steps(2);
    harness.query_all_by_label("Step").next().expect("Step").click();
    step_until(&mut harness, |app| step_of(app) == 1);
    let path = dir.join("trained.json");
    harness.state_mut().push(AppCommand::SaveAs(path.clone()));
    let weights = dir.join("trained.MLP.safetensors");
    step_until(&mut harness, |_| weights.exists());
    step_until(&mut harness, |app| app.record().saved_to.is_some());
    let reopened = GlassboxApp::new(path);
    assert!(reopened.has_initial_weights(), "the notebook reopens with its trained weights");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_dataset_switch_updates_the_samples_and_a_bad_import_keeps_the_previous_one() {
    use glassbox_engine::data::{Bundled, CsvOptions, DataSource, DataSpec};
    let mut harness = harness(GlassboxApp::new(assets_path(DEFAULT_NOTEBOOK)));
    harness.run_steps(2);
    assert!(harness.query_by_label("The first training samples:").is_none(), "2-D points have no image grid");
    harness.state_mut().push(AppCommand::SetData(DataSpec::new(DataSource::Bundled { name: Bundled::Mnist })));
    harness.run_steps(3);
    harness.get_by_label("10000 training and 2000 test samples, each [1, 28, 28]");
    harness.get_by_label("The first training samples:");
    // The first training digit is a 5.
    assert!(harness.query_all_by_label("5").count() >= 1);
    let bad = std::env::temp_dir().join(format!("glassbox-ui-bad-{}.csv", std::process::id()));
    std::fs::write(&bad, "a,b,label\n1,2,x\n3,oops,y\n").expect("write");
    harness.state_mut().push(AppCommand::SetData(DataSpec::new(DataSource::Csv {
        path: bad.clone(),
        options: CsvOptions::default(),
    })));
    harness.run_steps(3);
    harness.get_by_label_contains("line 3, column 2 ('b') holds 'oops'");
    harness.get_by_label_contains("The previous dataset is still in use.");
    harness.get_by_label("10000 training and 2000 test samples, each [1, 28, 28]");
    std::fs::remove_file(&bad).ok();
}

#[test]
fn the_schedule_reaches_the_worker_and_curves_go_logarithmic() {
    use glassbox_engine::train::Schedule;
    let mut harness = harness(GlassboxApp::new(assets_path(DEFAULT_NOTEBOOK)));
    harness.run_steps(2);
    harness.query_all_by_label("Step").next().expect("Step").click();
    step_until(&mut harness, |app| step_of(app) == 1);
    harness
        .state_mut()
        .push(AppCommand::model("MLP", ModelCommand::SetSchedule(Schedule::Cosine { min_factor: 0.05 })));
    harness.run_steps(2);
    step_until(&mut harness, |app| app.record().config.is_some_and(|c| matches!(c.schedule, Schedule::Cosine { .. })));
    // The log-scale switch is there once there is a curve.
    harness.get_by_label("log scale").click();
    harness.run_steps(2);
    assert!(harness.state().notebook().expect("loaded").view.log_scale, "saved as view state");
}

#[test]
fn two_models_train_side_by_side_and_models_can_be_copied_renamed_and_deleted() {
    let mut harness = harness(GlassboxApp::new(assets_path("assets/notebooks/compare-optimizers.json")));
    harness.run_steps(2);
    // Two training cells, one per model; the first belongs to SGD.
    // The run bar's buttons come first, then one set per training cell.
    assert_eq!(harness.query_all_by_label("▶ Train").count(), 3);
    harness.query_all_by_label("Step").nth(1).expect("SGD's Step").click();
    step_until(&mut harness, |app| app.record_of("SGD").is_some_and(|r| r.latest.is_some_and(|p| p.step == 1)));
    assert!(harness.state().record_of("Adam").is_some_and(|r| r.run.is_none()), "Adam has not started");
    harness.query_all_by_label("Step").nth(2).expect("Adam's Step").click();
    step_until(&mut harness, |app| app.record_of("Adam").is_some_and(|r| r.latest.is_some_and(|p| p.step == 1)));
    // Each trains with its own optimizer: after one update from the same start, the losses differ.
    for (i, model) in [(1, "SGD"), (2, "Adam")] {
        harness.query_all_by_label("Step").nth(i).expect("Step").click();
        step_until(&mut harness, |app| app.record_of(model).is_some_and(|r| r.latest.is_some_and(|p| p.step == 2)));
    }
    let loss = |m: &str| harness.state().record_of(m).and_then(|r| r.latest).map(|p| p.loss).expect("a loss");
    assert!((loss("SGD") - loss("Adam")).abs() > 1e-6, "SGD and Adam made different updates");

    harness.state_mut().push(AppCommand::DuplicateModel("Adam".into()));
    harness.run_steps(2);
    let nb = harness.state().notebook().cloned().expect("loaded");
    assert_eq!(nb.models.iter().map(|m| m.name.as_str()).collect::<Vec<_>>(), ["SGD", "Adam", "Adam copy"]);
    assert_eq!(nb.cells.iter().filter(|c| c.model() == Some("Adam copy")).count(), 2, "its model and training cells");
    assert_eq!(harness.query_all_by_label("▶ Train").count(), 4);

    harness.state_mut().push(AppCommand::RenameModel { from: "Adam".into(), to: "Adam fast".into() });
    harness.run_steps(2);
    let nb = harness.state().notebook().cloned().expect("loaded");
    assert!(nb.cells.iter().any(|c| c.model() == Some("Adam fast")) && nb.model("Adam").is_none());
    let adam = harness.state().record_of("Adam fast").expect("the run kept its record");
    assert_eq!(adam.latest.map(|p| p.step), Some(2));
    harness.state_mut().push(AppCommand::RenameModel { from: "SGD".into(), to: "Adam copy".into() });
    harness.run_steps(2);
    harness.get_by_label_contains("There is already a model called \"Adam copy\"");

    harness.state_mut().push(AppCommand::DeleteModel("Adam copy".into()));
    harness.run_steps(2);
    let nb = harness.state().notebook().cloned().expect("loaded");
    assert_eq!(nb.models.len(), 2);
    assert!(nb.cells.iter().all(|c| c.model() != Some("Adam copy")));
    assert!(harness.state().record_of("Adam copy").is_none());
    // A training cell can be pointed at another model.
    let sgd_training = nb.cells.iter().position(|c| c.kind == CellKind::Training { model: "SGD".into() });
    let cell = sgd_training.expect("SGD's training cell");
    harness.state_mut().push(AppCommand::SetCellModel { cell, model: "Adam fast".into() });
    harness.run_steps(2);
    assert_eq!(harness.state().notebook().expect("loaded").cells[cell].model(), Some("Adam fast"));
}

#[test]
fn undo_and_redo_take_back_changes_and_a_drag_is_one_step() {
    let mut harness = harness(GlassboxApp::new(assets_path(DEFAULT_NOTEBOOK)));
    harness.run_steps(2);
    let original = harness.state().notebook().cloned().expect("loaded");
    harness.state_mut().push(AppCommand::DeleteCell(1));
    harness.run_steps(2);
    assert_eq!(harness.state().notebook().expect("loaded").cells.len(), 3);
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
    harness.run_steps(2);
    assert_eq!(harness.state().notebook(), Some(&original), "Ctrl+Z brings the cell back");
    harness.key_press_modifiers(egui::Modifiers::COMMAND | egui::Modifiers::SHIFT, egui::Key::Z);
    harness.run_steps(2);
    assert_eq!(harness.state().notebook().expect("loaded").cells.len(), 3, "Ctrl+Shift+Z deletes it again");
    harness.get_by_label("Undo").click();
    harness.run_steps(2);
    assert_eq!(harness.state().notebook(), Some(&original));

    // A dragged value sends a change every frame; one undo takes the whole drag back.
    for epochs in 61..70 {
        harness.state_mut().push(AppCommand::model("MLP", ModelCommand::SetEpochs(epochs)));
        harness.run_steps(1);
    }
    assert_eq!(harness.state().notebook().expect("loaded").models[0].training.epochs, 69);
    harness.state_mut().push(AppCommand::Undo);
    harness.run_steps(2);
    assert_eq!(harness.state().notebook(), Some(&original));

    // Undoing a dataset change brings the old data back.
    use glassbox_engine::data::{DataSource, DataSpec, Pattern2d};
    let xor = DataSpec::new(DataSource::Toy2d { pattern: Pattern2d::Xor, samples: 300, noise: 0.0, seed: 0 });
    harness.state_mut().push(AppCommand::SetData(xor));
    harness.run_steps(2);
    harness.get_by_label("240 training and 60 test samples, each [2]");
    harness.state_mut().push(AppCommand::Undo);
    harness.run_steps(2);
    harness.get_by_label("400 training and 100 test samples, each [2]");
    // Folding is a step of undo; the speed is a view setting that undo keeps.
    harness.state_mut().push(AppCommand::ToggleFolded(0));
    harness.run_steps(2);
    harness.state_mut().push(AppCommand::SetSpeed(Some(3.0)));
    harness.run_steps(2);
    harness.state_mut().push(AppCommand::Undo);
    harness.run_steps(2);
    let nb = harness.state().notebook().cloned().expect("loaded");
    assert!(!nb.cells[0].folded, "the fold was taken back");
    assert_eq!(nb.view.steps_per_second, Some(3.0), "the speed stays");
    // Back to the file's notebook (but for the speed), and then all the way: nothing unsaved.
    harness.state_mut().push(AppCommand::SetSpeed(Some(100.0)));
    harness.run_steps(2);
    assert_eq!(harness.state().notebook(), Some(&original));
    assert!(!harness.state().has_unsaved_changes(), "undone back to the file: nothing to save");
}

#[test]
fn new_examples_and_recent_files() {
    let dir = temp_dir("recent");
    let mut harness = harness(GlassboxApp::new(assets_path(DEFAULT_NOTEBOOK)));
    harness.run_steps(2);
    assert!(harness.state().recent().is_empty(), "examples are not recent files");
    harness.get_by_label("New").click();
    harness.run_steps(2);
    assert_eq!(harness.state().path(), None);
    assert_eq!(harness.state().notebook().expect("new").title, "Untitled");
    harness.get_by_label("A new notebook, not saved yet");
    let (first, second) = (dir.join("first.json"), dir.join("second.json"));
    harness.state_mut().push(AppCommand::SaveAs(first.clone()));
    harness.run_steps(2);
    harness.state_mut().push(AppCommand::SaveAs(second.clone()));
    harness.run_steps(2);
    harness.state_mut().push(AppCommand::Open(first.clone()));
    harness.run_steps(2);
    assert_eq!(harness.state().recent(), [first.clone(), second.clone()], "newest first, no repeats");
    // The Examples menu opens a bundled lesson.
    harness.get_by_label("Examples").click();
    harness.run_steps(2);
    harness.get_by_label("LeNet on handwritten digits (MNIST)").click();
    harness.run_steps(3);
    assert!(harness.state().path().is_some_and(|p| p.ends_with("mnist-lenet.json")));
    harness.get_by_label("Recent").click();
    harness.run_steps(2);
    let folder = dir.file_name().expect("a folder name").to_string_lossy().into_owned();
    harness.get_by_label(format!("second.json   (in {folder})").as_str()).click();
    harness.run_steps(2);
    assert_eq!(harness.state().path(), Some(second.as_path()));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn closing_with_unsaved_changes_asks_first() {
    let close = |h: &mut Harness<'_, GlassboxApp>| {
        h.input_mut().viewports.entry(egui::ViewportId::ROOT).or_default().events.push(egui::ViewportEvent::Close);
        h.run_steps(2);
    };
    let mut harness = harness(GlassboxApp::new(assets_path(DEFAULT_NOTEBOOK)));
    harness.run_steps(2);
    close(&mut harness);
    assert!(harness.query_by_label("Save your changes?").is_none(), "nothing to lose, nothing to ask");
    harness.state_mut().push(AppCommand::DeleteCell(0));
    harness.run_steps(2);
    close(&mut harness);
    harness.get_by_label("Save your changes?");
    // An example is never overwritten: only Save as is offered.
    assert_eq!(harness.query_all_by_label("Save as…").count(), 2, "the toolbar's and the question's");
    assert!(harness.query_by_label("Save and close").is_some_and(|n| n.accesskit_node().is_disabled()));
    harness.get_by_label("Cancel").click();
    harness.run_steps(2);
    assert!(harness.query_by_label("Save your changes?").is_none());
    assert_eq!(harness.state().notebook().expect("kept").cells.len(), 3, "the change is still there");
}

#[test]
fn the_title_renames_on_double_click_and_data_that_does_not_fit_says_so_before_training() {
    use glassbox_engine::data::{Bundled, DataSource, DataSpec};
    // Frames 50 ms apart, so that two clicks on consecutive frames make a double click.
    let mut harness = Harness::builder()
        .with_size([1200.0, 2400.0])
        .with_step_dt(0.05)
        .build_ui_state(|ui, app: &mut GlassboxApp| app.show(ui), GlassboxApp::new(assets_path(DEFAULT_NOTEBOOK)));
    harness.run_steps(2);
    let title = harness.get_by_label("Two spirals: a first network");
    title.click();
    title.click();
    harness.run_steps(2);
    let field = harness.query_all_by_value("Two spirals: a first network").find(egui_kittest::Node::is_focused);
    field.expect("the title field, focused").type_text(" (my copy)");
    harness.run_steps(1);
    harness.key_press(egui::Key::Enter);
    harness.run_steps(2);
    assert_eq!(harness.state().notebook().expect("loaded").title, "Two spirals: a first network (my copy)");
    harness.state_mut().push(AppCommand::Undo);
    harness.run_steps(2);
    assert_eq!(harness.state().notebook().expect("loaded").title, "Two spirals: a first network");
    // Lesson text opens for editing on a double click too.
    let text = harness.get_by_label_contains("Press");
    text.click();
    text.click();
    harness.run_steps(2);
    harness.get_by_label("Done");

    // Images into a model that takes two numbers: the training cell says what does not fit.
    harness.state_mut().push(AppCommand::SetData(DataSpec::new(DataSource::Bundled { name: Bundled::Mnist })));
    harness.run_steps(2);
    // Said before anything is clicked, in the model cell and the training cell, and Train waits.
    let says = "the data's samples are [1, 28, 28] and it needs a score for each of its 10 classes; the model takes [2] and gives [2]";
    assert_eq!(harness.query_all_by_label_contains(says).count(), 2);
    harness.query_all_by_label("Step").next().expect("Step").click();
    harness.run_steps(3);
    assert!(harness.state().record().run.is_none(), "no run starts");
    // A dataset that fits clears it.
    harness.state_mut().push(AppCommand::Undo);
    harness.run_steps(2);
    assert!(harness.query_by_label_contains(says).is_none());
}

#[test]
fn every_generated_set_has_its_settings_and_the_split_can_change() {
    use glassbox_engine::data::{DataSource, DataSpec, SequenceTask};
    let mut harness = harness(GlassboxApp::new(assets_path(DEFAULT_NOTEBOOK)));
    harness.run_steps(2);
    for label in ["points", "noise", "seed", "test share", "normalise", "split seed"] {
        harness.get_by_label(label);
    }
    // The test-share slider, moved with the keyboard as a student might.
    let share = |app: &GlassboxApp| app.notebook().expect("loaded").data.pipeline.test_fraction;
    let before = share(harness.state());
    // Sliders in order: the points' noise, the test share, the learning rate.
    let sliders: Vec<_> = harness.query_all_by_role(egui::accesskit::Role::Slider).collect();
    assert_eq!(sliders.len(), 3);
    let test_share = &sliders[1];
    test_share.focus();
    harness.run_steps(1);
    harness.key_press(egui::Key::ArrowRight);
    harness.run_steps(2);
    assert!(share(harness.state()) > before, "the split changed");
    assert!(harness.query_by_label("400 training and 100 test samples, each [2]").is_none(), "new counts");

    let task = DataSource::Sequence { task: SequenceTask::Reverse, length: 5, vocab: 6, samples: 500, seed: 0 };
    harness.state_mut().push(AppCommand::SetData(DataSpec::new(task)));
    harness.run_steps(2);
    for label in ["length", "vocabulary", "sequences"] {
        harness.get_by_label(label);
    }
    assert!(harness.query_by_label("points").is_none());
}

#[test]
fn a_learning_rate_that_blows_up_pauses_with_a_message_and_the_good_weights_come_back() {
    use glassbox::notebook::{spiral_model, ModelDef, Notebook};
    use glassbox_engine::graph::{GraphSpec, LayerSpec};
    use glassbox_engine::tensor::OptimizerSpec;
    let dir = temp_dir("nan");
    let mut model = ModelDef {
        graph: GraphSpec::sequential(vec![
            LayerSpec::Input { shape: vec![2] },
            LayerSpec::Dense { units: 16, bias: true },
            LayerSpec::Dense { units: 2, bias: true },
        ]),
        ..spiral_model("Explosive")
    };
    // A linear network with a huge learning rate: the weights grow geometrically to infinity.
    model.training.optimizer = OptimizerSpec::sgd(1e12);
    let nb = Notebook { models: vec![model], ..Notebook::default() };
    let nb = Notebook { cells: glassbox::notebook::standard_cells(&nb.models), ..nb };
    let path = dir.join("explosive.json");
    nb.save(&path).expect("saves");
    let nb = Notebook::load(&path).expect("loads");
    let mut harness = harness(GlassboxApp::new(path));
    harness.run_steps(2);
    // Values outside the controls' ranges are shown as they are, not quietly clamped.
    harness.get_by_value("1e12");
    assert!(!harness.state().has_unsaved_changes());
    assert_eq!(harness.state().notebook(), Some(&nb));
    train_until_alarm_then_go_back(&mut harness, "The learning rate (1e12) is probably too high");
    // With a sane learning rate it trains on, and the averaged curve is numbers again.
    harness.state_mut().push(AppCommand::model("Explosive", ModelCommand::SetLearningRate(1e-2)));
    harness.run_steps(1);
    let before = step_of(harness.state());
    harness.query_all_by_label("Step").next().expect("Step").click();
    step_until(&mut harness, |app| step_of(app) > before);
    let last = harness.state().record().smoothed.points.last().copied().expect("a point");
    assert!(last.1.is_finite() && last.0 > before, "{last:?}");
    std::fs::remove_dir_all(&dir).ok();
}

/// Trains until the run pauses with an alarm (non-finite values, divergence) whose message
/// contains `says`, then goes back to the last good weights with the cell's button.
fn train_until_alarm_then_go_back(harness: &mut Harness<'_, GlassboxApp>, says: &str) {
    harness.query_all_by_label("▶ Train").next().expect("▶ Train").click();
    step_until(
        harness,
        |app| matches!(&app.record().state, glassbox_engine::train::RunState::Paused(r) if r.alarm().is_some()),
    );
    harness.run_steps(1);
    harness.get_by_label_contains(says);
    harness.get_by_label_contains("Go back to the last good weights").click();
    step_until(harness, |app| app.record().restored_from.is_some());
    harness.run_steps(1);
    harness.get_by_label_contains("Went back to the weights of step 0");
    assert!(harness.query_by_label_contains(says).is_none(), "the alarm is over");
}

/// A notebook of one spiral model, changed by `change`, saved in `dir`.
fn spiral_notebook_with(
    dir: &std::path::Path,
    name: &str,
    change: impl FnOnce(&mut glassbox::notebook::Notebook),
) -> std::path::PathBuf {
    let mut nb = glassbox::notebook::Notebook::default();
    change(&mut nb);
    let path = dir.join(name);
    nb.save(&path).expect("saves");
    path
}

#[test]
fn a_run_that_diverges_pauses_with_a_message_and_the_good_weights_come_back() {
    use glassbox_engine::tensor::OptimizerSpec;
    let dir = temp_dir("diverge");
    // Tanh layers keep every value finite while SGD at 1e6 drives the loss to millions.
    let path =
        spiral_notebook_with(&dir, "diverging.json", |nb| nb.models[0].training.optimizer = OptimizerSpec::sgd(1e6));
    let mut harness = harness(GlassboxApp::new(path));
    harness.run_steps(2);
    train_until_alarm_then_go_back(&mut harness, "Training is diverging");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_model_too_large_for_memory_says_so_in_its_cells_and_does_not_train() {
    use glassbox_engine::graph::{GraphSpec, LayerSpec};
    let dir = temp_dir("huge");
    let path = spiral_notebook_with(&dir, "huge.json", |nb| {
        nb.models[0].graph = GraphSpec::sequential(vec![
            LayerSpec::Input { shape: vec![2] },
            LayerSpec::Dense { units: 1_000_000_000, bias: true },
            LayerSpec::Dense { units: 2, bias: true },
        ]);
    });
    let mut harness = harness(GlassboxApp::new(path));
    harness.run_steps(2);
    // The same message as the trainer's, in the model cell and the training cell.
    let says = "this model needs about";
    assert_eq!(harness.query_all_by_label_contains(says).count(), 2);
    assert_eq!(harness.query_all_by_label_contains("GB for its 5.0 billion weights").count(), 2);
    harness.query_all_by_label("▶ Train").next().expect("▶ Train").click();
    harness.run_steps(3);
    assert!(harness.state().record().run.is_none(), "no run starts");
    // A dataset too large is refused in the dataset cell, and the previous one stays.
    harness.state_mut().push(AppCommand::SetData(glassbox_engine::data::DataSpec::new(
        glassbox_engine::data::DataSource::Toy2d {
            pattern: glassbox_engine::data::Pattern2d::Circle,
            samples: 1_000_000_000_000,
            noise: 0.0,
            seed: 0,
        },
    )));
    harness.run_steps(2);
    harness.get_by_label_contains("this dataset needs about");
    harness.get_by_label_contains("The previous dataset is still in use");
    harness.get_by_label("400 training and 100 test samples, each [2]");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_notebook_with_an_unknown_key_opens_with_a_warning_and_no_test_split_is_said() {
    let dir = temp_dir("warned");
    let path = spiral_notebook_with(&dir, "typo.json", |nb| nb.data.pipeline.test_fraction = 0.0);
    let text = std::fs::read_to_string(&path).expect("read").replacen("\"noise\"", "\"nosie\"", 1);
    std::fs::write(&path, text).expect("write");
    let mut harness = harness(GlassboxApp::new(path));
    harness.run_steps(2);
    harness.get_by_label_contains("the key \"nosie\"");
    harness.get_by_label_contains("No test split (the dataset's test share is 0)");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn fitting_the_model_to_new_data_makes_train_work() {
    use glassbox_engine::data::{Bundled, DataSource, DataSpec, SequenceTask};
    let mut harness = harness(GlassboxApp::new(assets_path(DEFAULT_NOTEBOOK)));
    harness.run_steps(2);
    // The spiral MLP and the 8x8 digits: the input and the output both do not fit.
    harness.state_mut().push(AppCommand::SetData(DataSpec::new(DataSource::Bundled { name: Bundled::Digits })));
    harness.run_steps(2);
    harness.get_all_by_label_contains("the model takes [2] and gives [2]").next().expect("the mismatch is said");
    harness.query_all_by_label("Step").next().expect("Step").click();
    harness.run_steps(3);
    assert!(harness.state().record().run.is_none(), "blocked: no run starts");
    harness.query_all_by_label("Fit the model to this data").next().expect("the fix is offered").click();
    harness.run_steps(3);
    let graph = &harness.state().notebook().expect("loaded").models[0].graph;
    let kinds: Vec<&str> = graph.nodes.iter().map(|n| n.layer.kind().label()).collect();
    assert_eq!(kinds, ["Input", "Flatten", "Dense", "Tanh", "Dense", "Tanh", "Dense"], "a Flatten in front");
    assert!(harness.query_by_label_contains("It cannot train on this dataset yet").is_none());
    // Train is enabled and trains.
    harness.query_all_by_label("Step").next().expect("Step").click();
    step_until(&mut harness, |app| step_of(app) == 1);
    // Undo takes the fit back.
    harness.state_mut().push(AppCommand::Undo);
    harness.run_steps(2);
    assert_eq!(harness.state().notebook().expect("loaded").models[0].graph.nodes.len(), 6);

    // A task with a label per position gets a Reshape to [positions, classes].
    let copy = DataSource::Sequence { task: SequenceTask::Copy, length: 5, vocab: 6, samples: 300, seed: 0 };
    harness.state_mut().push(AppCommand::SetData(DataSpec::new(copy)));
    harness.run_steps(2);
    harness.state_mut().push(AppCommand::model("MLP", ModelCommand::FitToData));
    harness.run_steps(2);
    harness.query_all_by_label("Step").next().expect("Step").click();
    step_until(&mut harness, |app| step_of(app) == 1);
}

#[test]
fn the_speed_slows_training_down() {
    let mut harness = harness(GlassboxApp::new(assets_path(DEFAULT_NOTEBOOK)));
    harness.run_steps(2);
    harness.query_all_by_label("10/s").next().expect("a speed of 10 steps a second").click();
    harness.run_steps(2);
    assert_eq!(harness.state().notebook().expect("loaded").view.steps_per_second, Some(10.0));
    harness.query_all_by_label("▶ Train").next().expect("Train").click();
    let started = Instant::now();
    step_until(&mut harness, |app| step_of(app) >= 3);
    std::thread::sleep(Duration::from_millis(1000));
    harness.step();
    let steps = step_of(harness.state());
    let elapsed = started.elapsed().as_secs_f32();
    // Unpaced, this model takes thousands of steps a second.
    assert!((steps as f32) < elapsed * 10.0 + 5.0, "{steps} steps in {elapsed:.1} s is faster than 10 a second");
    // Fastest again: it speeds up while running.
    harness.query_all_by_label("fastest").next().expect("fastest").click();
    step_until(&mut harness, |app| step_of(app) > steps + 200);
}

#[test]
fn new_with_unsaved_changes_asks_first_and_the_title_shows_them() {
    let mut harness = harness(GlassboxApp::new(assets_path(DEFAULT_NOTEBOOK)));
    harness.run_steps(2);
    assert!(!harness.state().window_title().contains("unsaved"));
    harness.state_mut().push(AppCommand::DeleteCell(0));
    harness.run_steps(2);
    assert!(harness.state().window_title().starts_with('●'), "{}", harness.state().window_title());
    harness.get_by_label("• unsaved changes");
    harness.get_by_label("New").click();
    harness.run_steps(2);
    harness.get_by_label("Save your changes before starting a new notebook?");
    harness.get_by_label("Cancel").click();
    harness.run_steps(2);
    assert_eq!(harness.state().notebook().expect("kept").cells.len(), 3, "nothing was replaced");
    // Opening an example asks too; discarding opens it.
    harness.state_mut().push(AppCommand::Open(assets_path("assets/notebooks/mnist-lenet.json")));
    harness.run_steps(2);
    harness.get_by_label("Save your changes before opening another notebook?");
    assert!(harness.state().path().is_some_and(|p| p.ends_with("spiral-mlp.json")));
    harness.get_by_label("Discard changes").click();
    harness.run_steps(3);
    assert!(harness.state().path().is_some_and(|p| p.ends_with("mnist-lenet.json")));
    assert!(!harness.state().has_unsaved_changes());
}

#[test]
fn without_a_native_dialog_the_windows_own_opens() {
    let dir = temp_dir("dialog");
    let mut harness = harness(GlassboxApp::new(assets_path(DEFAULT_NOTEBOOK)).with_builtin_dialogs());
    harness.run_steps(2);
    harness.get_by_label("Save as…").click();
    harness.run_steps(3);
    assert!(harness.state().in_app_dialog_open());
    harness.get_all_by_label_contains("Save the notebook as").next().expect("the dialog's title");
    harness.key_press(egui::Key::Escape);
    harness.run_steps(3);
    assert!(!harness.state().in_app_dialog_open(), "Escape closes it");
    // Open asks too, with its own title.
    harness.state_mut().push(AppCommand::OpenDialog);
    harness.run_steps(3);
    harness.get_all_by_label_contains("Open a notebook").next().expect("the open dialog");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_cell_placed_beside_keeps_its_place_after_save_and_open() {
    let dir = temp_dir("beside");
    let mut harness = harness(GlassboxApp::new(assets_path(DEFAULT_NOTEBOOK)));
    harness.run_steps(2);
    harness.state_mut().push(AppCommand::PlaceBeside { cell: 2, beside: true });
    harness.state_mut().push(AppCommand::PlaceBeside { cell: 3, beside: true });
    harness.run_steps(2);
    let path = dir.join("beside.json");
    harness.state_mut().push(AppCommand::SaveAs(path.clone()));
    harness.run_steps(2);
    let mut reopened = harness_of(GlassboxApp::new(path));
    reopened.run_steps(2);
    let beside: Vec<bool> = reopened.state().notebook().expect("loaded").cells.iter().map(|c| c.beside).collect();
    assert_eq!(beside, [false, false, true, true]);
    // Both are drawn: the training cell's controls are there in its row.
    assert_eq!(reopened.query_all_by_label("▶ Train").count(), 2);
    // Moving a cell trades places within the layout; deleting the first of a row leaves the
    // next one starting the row.
    let mut h = harness_of(GlassboxApp::new(assets_path(DEFAULT_NOTEBOOK)));
    h.run_steps(2);
    h.state_mut().push(AppCommand::PlaceBeside { cell: 2, beside: true });
    h.run_steps(2);
    h.state_mut().push(AppCommand::MoveCell { index: 3, up: true });
    h.run_steps(2);
    let cells: Vec<(String, bool)> = h
        .state()
        .notebook()
        .expect("loaded")
        .cells
        .iter()
        .map(|c| (format!("{:?}", c.kind).chars().take(5).collect(), c.beside))
        .collect();
    assert_eq!(cells[2], ("Train".to_owned(), true), "training now beside the dataset: {cells:?}");
    assert_eq!(cells[3], ("Model".to_owned(), false));
    h.state_mut().push(AppCommand::DeleteCell(1));
    h.run_steps(2);
    assert!(!h.state().notebook().expect("loaded").cells[1].beside, "the dataset's row partner starts its own row");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn the_plots_are_two_with_their_own_axes_and_a_comparison_when_models_are_copied() {
    let mut harness = harness(GlassboxApp::new(assets_path(DEFAULT_NOTEBOOK)));
    harness.run_steps(2);
    // Loss and accuracy each have a plot (titled), empty until training.
    assert_eq!(harness.query_all_by_label("Train to see the curves").count(), 0, "painted text is not a node");
    harness.get_by_label("loss");
    harness.get_by_label("accuracy");
    harness.state_mut().push(AppCommand::DuplicateModel("MLP".into()));
    harness.run_steps(2);
    let nb = harness.state().notebook().cloned().expect("loaded");
    assert!(nb.cells.iter().any(|c| c.kind == CellKind::Compare), "a comparison cell comes with the copy");
    harness.get_by_label("MLP: test");
    harness.get_by_label("MLP copy: test");
    // Far down the page, below two model cells: scrolled to first, as a student would.
    harness.get_by_label("training curves too").scroll_to_me();
    harness.run_steps(20);
    harness.get_by_label("training curves too").click();
    harness.run_steps(2);
    assert!(harness.state().notebook().expect("loaded").view.compare_training);
    harness.get_by_label("MLP copy: training");
}

fn harness_of(app: GlassboxApp) -> Harness<'static, GlassboxApp> {
    harness(app)
}

#[test]
fn the_layout_stays_put_through_training_and_reset() {
    let mut harness = Harness::builder()
        .with_size([1280.0, 1600.0])
        .build_ui_state(|ui, app: &mut GlassboxApp| app.show(ui), GlassboxApp::new(assets_path(DEFAULT_NOTEBOOK)));
    harness.run_steps(3);
    let rect_of = |h: &Harness<'_, GlassboxApp>, label: &str| h.query_all_by_label(label).last().expect(label).rect();
    // What comes after the training cell moves if the cell grows or shrinks.
    let below = "Bundled datasets and their licenses";
    let before = rect_of(&harness, below);
    harness.state_mut().push(AppCommand::SetSpeed(None));
    harness.state_mut().push(AppCommand::model("MLP", ModelCommand::StepEpoch));
    step_until(&mut harness, |app| !app.record().evaluations.is_empty());
    harness.run_steps(2);
    assert_eq!(rect_of(&harness, below), before, "training filled in the numbers and curves without moving the page");
    harness.query_all_by_label("Reset").last().expect("Reset").click();
    step_until(&mut harness, |app| app.record().latest.is_none());
    harness.run_steps(2);
    assert_eq!(rect_of(&harness, below), before, "Reset keeps the page's layout");
    // The run bar stays in view at the bottom of the window.
    let bar = harness.query_all_by_label("Reset").next().expect("the run bar's Reset").rect();
    assert!(bar.bottom() <= 1600.0 && bar.top() > 1530.0, "{bar:?}");
}

#[test]
fn a_notebook_opens_at_its_top() {
    let mut harness = Harness::builder()
        .with_size([1280.0, 720.0])
        .build_ui_state(|ui, app: &mut GlassboxApp| app.show(ui), GlassboxApp::new(assets_path(DEFAULT_NOTEBOOK)));
    harness.run_steps(3);
    // Scroll down the page, as a student reading the lesson does.
    harness.input_mut().events.push(egui::Event::PointerMoved(egui::pos2(900.0, 400.0)));
    for _ in 0..10 {
        harness.input_mut().events.push(egui::Event::MouseWheel {
            unit: egui::MouseWheelUnit::Point,
            delta: egui::vec2(0.0, -200.0),
            phase: egui::TouchPhase::Move,
            modifiers: egui::Modifiers::NONE,
        });
        harness.run_steps(1);
    }
    harness.run_steps(2);
    let title = harness.get_by_label("Two spirals: a first network").rect();
    assert!(title.top() < 0.0, "the page scrolled: {title:?}");
    harness.state_mut().push(AppCommand::Open(assets_path("assets/notebooks/mnist-lenet.json")));
    harness.run_steps(3);
    let title = harness.get_by_label("LeNet on handwritten digits (MNIST)").rect();
    assert!(title.top() > 0.0 && title.top() < 120.0, "the new notebook shows from its top: {title:?}");
}

#[test]
fn where_no_native_dialog_can_open_the_windows_own_follows() {
    // The real detection: with no desktop portal (no session bus) and no zenity, rfd answers at
    // once with nothing, and the window's own dialog opens instead. On a desktop with a portal
    // a real dialog would open, so the check runs only where there is none (CI, Xvfb).
    let has_zenity =
        std::env::var_os("PATH").is_some_and(|p| std::env::split_paths(&p).any(|d| d.join("zenity").is_file()));
    if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some() || has_zenity {
        eprintln!("skipped: this machine may show a native dialog");
        return;
    }
    let mut harness = harness(GlassboxApp::new(assets_path(DEFAULT_NOTEBOOK)));
    harness.run_steps(2);
    harness.state_mut().push(AppCommand::OpenDialog);
    step_until(&mut harness, GlassboxApp::in_app_dialog_open);
    harness.run_steps(2);
    harness.get_all_by_label_contains("Open a notebook").next().expect("the window's own dialog");
}

#[test]
fn a_2d_set_is_shaded_with_the_focused_models_decision_boundary_as_it_trains() {
    let mut harness = harness(GlassboxApp::new(assets_path(DEFAULT_NOTEBOOK)));
    harness.run_steps(2);
    assert!(harness.query_by_label_contains("Shaded: what MLP predicts").is_none(), "nothing to shade before a run");
    harness.state_mut().push(AppCommand::SetSpeed(None));
    harness.state_mut().push(AppCommand::model("MLP", ModelCommand::StepEpoch));
    step_until(&mut harness, |app| {
        let r = app.record();
        matches!(r.state, glassbox_engine::train::RunState::Paused(_))
            && r.grid.as_ref().is_some_and(|g| Some(g.step) == r.latest.map(|p| p.step))
    });
    harness.run_steps(2);
    let grid = harness.state().record().grid.clone().expect("a grid");
    assert_eq!(grid.request.n, 100);
    assert_eq!(grid.outputs.len(), 100 * 100 * 2);
    harness
        .get_by_label_contains(&format!("Shaded: what MLP predicts at each point of the plane (step {})", grid.step));
}

#[test]
fn an_evaluation_cell_shows_the_confusion_matrix_after_an_epoch() {
    let mut harness = harness(GlassboxApp::new(assets_path(DEFAULT_NOTEBOOK)));
    harness.run_steps(2);
    harness.state_mut().push(AppCommand::AddCell { after: 3, kind: CellKind::Evaluation { model: "MLP".into() } });
    harness.run_steps(2);
    harness.get_by_label_contains("Train MLP for an epoch");
    harness.state_mut().push(AppCommand::SetSpeed(None));
    harness.state_mut().push(AppCommand::model("MLP", ModelCommand::StepEpoch));
    step_until(&mut harness, |app| !app.record().evaluations.is_empty());
    harness.run_steps(2);
    let evaluation = harness.state().record().evaluations.last().cloned().expect("evaluated");
    harness.get_by_label_contains(&format!("After step {}: test accuracy", evaluation.step));
    // The counts of the matrix, and each class's accuracy from its diagonal.
    let orange = &evaluation.confusion[0];
    let total: usize = orange.iter().sum();
    assert_eq!(evaluation.confusion.iter().flatten().sum::<usize>(), evaluation.samples);
    harness.get_by_label(&format!("{:.0}% ({} of {total})", orange[0] as f32 / total as f32 * 100.0, orange[0]));
    harness.get_by_label("row-normalised").scroll_to_me();
    harness.run_steps(20);
    harness.get_by_label("row-normalised").click();
    harness.run_steps(2);
    harness.get_by_label(&format!("{:.0}%", orange[0] as f32 / total as f32 * 100.0));
    // Saved with the notebook like any cell.
    let nb = harness.state().notebook().expect("loaded");
    assert!(nb.cells.iter().any(|c| c.kind == CellKind::Evaluation { model: "MLP".into() }));
}
