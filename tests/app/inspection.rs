//! The inspection cells in the real window (`egui_kittest`): each renders for each example
//! notebook, follows a change of sample and a change of moment; a drawn digit, a clicked point
//! and a click in the confusion matrix each become the sample every cell looks at.

use std::time::Duration;

use eframe::egui;
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use egui_kittest::Harness;
use glassbox::notebook::CellKind;
use glassbox::{assets_path, AppCommand, GlassboxApp, ModelCommand, Sample};

fn harness(app: GlassboxApp) -> Harness<'static, GlassboxApp> {
    Harness::builder().with_size([1280.0, 9000.0]).build_ui_state(|ui, app: &mut GlassboxApp| app.show(ui), app)
}

fn wait(harness: &mut Harness<'_, GlassboxApp>, what: &str, done: impl FnMut(&GlassboxApp) -> bool) {
    crate::step_within(harness, Duration::from_secs(60), what, done);
}

/// The newest inspection of `model` shows `sample` at `moment` (at the current step for now).
fn shows(app: &GlassboxApp, model: &str, sample: &Sample, moment: Option<usize>) -> bool {
    let Some(record) = app.record_of(model) else { return false };
    let now = record.latest.map_or(0, |p| p.step);
    app.inspecting(model).is_some_and(|(s, m)| s == sample && m == moment)
        && app
            .inspection_shown(model)
            .is_some_and(|(i, s)| s == sample && i.moment == moment && (moment.is_some() || i.step == now))
}

/// Opens an example with all the inspection cells of its first model at the end.
fn open_with_cells(file: &str) -> (Harness<'static, GlassboxApp>, String) {
    let mut harness = harness(GlassboxApp::new(assets_path(file)));
    harness.run_steps(2);
    let nb = harness.state().notebook().expect("opens").clone();
    let model = nb.models[0].name.clone();
    let kinds = [
        CellKind::Predictions { model: model.clone() },
        CellKind::Activations { model: model.clone() },
        CellKind::Weights { model: model.clone() },
        CellKind::Evaluation { model: model.clone() },
        CellKind::Health { model: model.clone() },
    ];
    for kind in kinds {
        if !nb.cells.iter().any(|c| c.kind == kind) {
            let after = harness.state().notebook().map_or(0, |n| n.cells.len() - 1);
            harness.state_mut().push(AppCommand::AddCell { after, kind });
            harness.run_steps(1);
        }
    }
    harness.state_mut().push(AppCommand::SetSpeed(None));
    harness.run_steps(2);
    (harness, model)
}

#[test]
fn every_inspection_cell_renders_for_each_example_and_follows_sample_and_moment() {
    for file in [
        "assets/notebooks/spiral-mlp.json",
        "assets/notebooks/spiral-inside.json",
        "assets/notebooks/mnist-lenet.json",
        "assets/notebooks/compare-optimizers.json",
    ] {
        let (mut h, model) = open_with_cells(file);
        // Before any training, the cells start the run and show the untrained model.
        wait(&mut h, "the untrained model's inspection", |app| shows(app, &model, &Sample::Test(0), None));
        h.state_mut().push(AppCommand::model(&model, ModelCommand::StepEpoch));
        wait(&mut h, "an epoch with its snapshot and evaluation", |app| {
            app.record_of(&model)
                .is_some_and(|r| r.timeline.len() >= 2 && !r.evaluations.is_empty() && !r.health.is_empty())
        });
        wait(&mut h, "an inspection at the epoch's end", |app| shows(app, &model, &Sample::Test(0), None));
        h.run_steps(3);
        let record = h.state().record_of(&model).expect("record").clone();
        let inspection = record.inspection.clone().expect("inspected");
        let step = record.latest.map_or(0, |p| p.step);
        // Every cell drew what it is for.
        assert!(!h.get_all_by_label_contains("Looking at test sample 0").collect::<Vec<_>>().is_empty(), "{file}");
        for output in &inspection.outputs {
            assert!(
                h.get_all_by_label(&output.id).count() >= 1,
                "{file}: the activations cell names node {}",
                output.id
            );
        }
        let first_weight = inspection.weights.keys().find(|k| k.ends_with(".weight")).expect("a weight").clone();
        h.get_by_label(&first_weight);
        h.get_by_label_contains("top classes");
        h.get_by_label_contains(&format!("After step {step}: test accuracy"));
        assert!(h.get_all_by_label("gradient norm").count() >= 1);
        // A change of sample: every cell follows.
        h.state_mut().push(AppCommand::SetSample { model: model.clone(), sample: Sample::Test(3) });
        wait(&mut h, "sample 3", |app| shows(app, &model, &Sample::Test(3), None));
        h.run_steps(2);
        let third = h.state().record_of(&model).and_then(|r| r.inspection.clone()).expect("inspected");
        assert_ne!(third.outputs[0].values, inspection.outputs[0].values, "{file}: another input");
        assert!(h.get_all_by_label_contains("Looking at test sample 3").count() >= 2, "{file}");
        // A change of moment: back to the start of the run.
        h.state_mut().push(AppCommand::SetMoment { model: model.clone(), moment: Some(0) });
        wait(&mut h, "the start's moment", |app| {
            shows(app, &model, &Sample::Test(3), Some(0))
                && app.record_of(&model).is_some_and(|r| r.evaluations.iter().any(|e| e.step == 0))
        });
        h.run_steps(3);
        let start = h.state().record_of(&model).and_then(|r| r.inspection.clone()).expect("inspected");
        assert_eq!(start.step, 0);
        assert_eq!(start.outputs[0].values, third.outputs[0].values, "{file}: the same input");
        assert_ne!(
            start.outputs.last().map(|o| &o.values),
            third.outputs.last().map(|o| &o.values),
            "{file}: untrained outputs"
        );
        assert!(h.get_all_by_label("step 0 (the start)").count() >= 4, "{file}: every cell's timeline says the moment");
        h.get_by_label_contains("After step 0: test accuracy");
        // Back to now.
        h.state_mut().push(AppCommand::SetMoment { model: model.clone(), moment: None });
        wait(&mut h, "now again", |app| shows(app, &model, &Sample::Test(3), None));
    }
}

#[test]
fn a_drawn_digit_is_what_the_cells_look_at() {
    let (mut h, model) = open_with_cells("assets/notebooks/mnist-lenet.json");
    wait(&mut h, "the first inspection", |app| shows(app, &model, &Sample::Test(0), None));
    let draw = h.get_all_by_label("Draw").next().expect("a Draw tab");
    draw.scroll_to_me();
    h.run_steps(10);
    h.get_all_by_label("Draw").next().expect("a Draw tab").click();
    h.run_steps(3);
    let hint = h.get_by_label_contains("Draw with the mouse").rect();
    // The canvas is right under its hint: a stroke down its middle.
    let (x, top) = (hint.left() + 112.0, hint.bottom() + 40.0);
    h.event(egui::Event::PointerMoved(egui::pos2(x, top)));
    crate::pointer(&h, egui::pos2(x, top), true);
    h.run_steps(1);
    for k in 1..=12 {
        h.event(egui::Event::PointerMoved(egui::pos2(x, top + k as f32 * 10.0)));
        h.run_steps(1);
    }
    crate::pointer(&h, egui::pos2(x, top + 120.0), false);
    h.run_steps(2);
    let Some((Sample::Drawn(ink), None)) = h.state().inspecting(&model).map(|(s, m)| (s.clone(), m)) else {
        panic!("the drawing is the sample: {:?}", h.state().inspecting(&model))
    };
    assert_eq!(ink.len(), 28 * 28);
    // A vertical stroke in column 14, from row 5 down to row 20.
    assert!(ink[10 * 28 + 14] > 0.5 && ink[10 * 28 + 3] == 0.0, "ink where the stroke went");
    let drawn = Sample::Drawn(ink.clone());
    wait(&mut h, "the drawing's inspection", |app| shows(app, &model, &drawn, None));
    let inspection = h.state().record_of(&model).and_then(|r| r.inspection.clone()).expect("inspected");
    // MNIST is kept as it is (0 to 1): the model sees the ink itself.
    assert_eq!(inspection.outputs[0].values, ink);
    h.run_steps(2);
    assert!(
        h.get_all_by_label("Looking at your drawing").count() >= 2,
        "each inspection cell that shows a sample says it"
    );
}

#[test]
fn a_clicked_point_and_a_confusion_cell_choose_the_sample() {
    let (mut h, model) = open_with_cells("assets/notebooks/spiral-mlp.json");
    h.state_mut().push(AppCommand::model(&model, ModelCommand::StepEpoch));
    wait(&mut h, "an epoch", |app| app.record_of(&model).is_some_and(|r| !r.evaluations.is_empty()));
    let pick = h.get_by_label("Pick a point");
    pick.scroll_to_me();
    h.run_steps(10);
    h.get_by_label("Pick a point").click();
    h.run_steps(3);
    let hint = h.get_by_label_contains("Click a point of the plane").rect();
    let at = egui::pos2(hint.left() + 110.0, hint.bottom() + 115.0);
    crate::click_at(&mut h, at);
    let Some(Sample::Point(p)) = h.state().inspecting(&model).map(|(s, _)| s.clone()) else {
        panic!("a point is the sample: {:?}", h.state().inspecting(&model))
    };
    // The middle of the plot is the middle of the plane.
    let grid = h.state().record_of(&model).and_then(|r| r.grid.clone()).expect("a grid");
    let middle =
        [(grid.request.low[0] + grid.request.high[0]) / 2.0, (grid.request.low[1] + grid.request.high[1]) / 2.0];
    assert!((p[0] - middle[0]).abs() < 0.1 && (p[1] - middle[1]).abs() < 0.1, "{p:?} vs {middle:?}");
    wait(&mut h, "the point's inspection", |app| shows(app, &model, &Sample::Point(p), None));
    let inspection = h.state().record_of(&model).and_then(|r| r.inspection.clone()).expect("inspected");
    assert_eq!(inspection.outputs[0].values, p.to_vec());
    // A confusion cell lists its samples; a click on one makes it the sample.
    let evaluation = h.state().record_of(&model).and_then(|r| r.evaluations.last().cloned()).expect("evaluated");
    let count = evaluation.confusion[0][0];
    h.get_by_label("true \\ predicted").scroll_to_me();
    h.run_steps(10);
    // The matrix's first cell: the nearest label with its count under the header.
    let header = h.get_by_label("true \\ predicted").rect();
    let text = count.to_string();
    let cell = h
        .get_all_by_label(&text)
        .filter(|n| n.rect().top() > header.top())
        .min_by(|a, b| (a.rect().top() - header.top()).total_cmp(&(b.rect().top() - header.top())))
        .expect("the first cell");
    let at = cell.rect().center();
    crate::click_at(&mut h, at);
    // The list is under the matrix: bring it into view.
    h.get_by_label_contains("Each class's accuracy").scroll_to_me();
    h.run_steps(10);
    let listed = h.get_by_label_contains("test samples of orange predicted orange");
    let text = listed.accesskit_node().value().unwrap_or_default();
    assert!(text.starts_with(&format!("{count} test samples")), "{text}");
    let button = h
        .get_all_by_label_contains("#")
        .find(|n| n.accesskit_node().label().is_some_and(|l| l.trim_start_matches('#').parse::<usize>().is_ok()))
        .expect("a listed sample");
    let index: usize =
        button.accesskit_node().label().unwrap_or_default().trim_start_matches('#').parse().expect("a number");
    let labels = glassbox::notebook::Notebook::clone(h.state().notebook().expect("open")).data.build().expect("data");
    assert_eq!(labels.test.labels().map(|l| l[index]), Some(0), "an orange sample");
    assert_eq!(evaluation.predictions[index].0, 0, "predicted orange");
    button.click();
    h.run_steps(3);
    assert_eq!(h.state().inspecting(&model).map(|(s, _)| s.clone()), Some(Sample::Test(index)));
    h.get_by_label_contains(&format!("look at test sample {index}, a orange"));
    // Paused after a step, the evaluation cell scores the current weights (not the last epoch's).
    let before = h.state().record_of(&model).and_then(|r| r.latest).map_or(0, |p| p.step);
    h.state_mut().push(AppCommand::model(&model, ModelCommand::StepBatch));
    wait(&mut h, "the paused step's evaluation", |app| {
        let Some(r) = app.record_of(&model) else { return false };
        let now = r.latest.map_or(0, |p| p.step);
        // The step was taken (until its progress arrives, the last epoch's evaluation matches).
        now > before
            && matches!(r.state, glassbox_engine::train::RunState::Paused(_))
            && r.evaluations.last().is_some_and(|e| e.step == now)
    });
    // Drawn within a few frames (on a loaded machine the cell may need more than one to catch up).
    for _ in 0..300 {
        h.run_steps(1);
        if h.query_by_label_contains("Scored with MLP's current weights").is_some() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    h.get_by_label_contains("Scored with MLP's current weights");
}

#[test]
fn node_previews_draw_each_nodes_output_or_its_response_over_the_plane() {
    // 2-D data: each node over the plane.
    let mut h = harness(GlassboxApp::new(assets_path("assets/notebooks/spiral-mlp.json")));
    h.run_steps(2);
    h.get_by_label("Previews").click();
    h.run_steps(2);
    assert!(h.state().notebook().is_some_and(|nb| nb.view.node_previews), "saved with the notebook's view");
    wait(&mut h, "previews over the plane", |app| app.previewed_nodes("MLP").len() >= 4);
    let grid = h.state().record_of("MLP").and_then(|r| r.grid.clone()).expect("a grid");
    assert!(grid.request.neurons);
    let previewed = h.state().previewed_nodes("MLP");
    // Every node but the input (whose "response" is the plane itself) is drawn over the plane.
    assert!(
        previewed.iter().filter(|id| *id != "input").all(|id| grid.nodes.iter().any(|n| &n.id == id)),
        "{previewed:?}"
    );
    // Images: feature maps and bars for the chosen sample, with no inspection cell open.
    let mut h = harness(GlassboxApp::new(assets_path("assets/notebooks/mnist-lenet.json")));
    h.run_steps(2);
    let cells = h.state().notebook().map_or(0, |nb| nb.cells.len());
    for index in (0..cells).rev() {
        let inspects = h.state().notebook().is_some_and(|nb| nb.cells[index].kind.inspects());
        if inspects {
            h.state_mut().push(AppCommand::DeleteCell(index));
            h.run_steps(1);
        }
    }
    h.get_by_label("Previews").click();
    let nodes: Vec<String> = h
        .state()
        .notebook()
        .map(|nb| nb.models[0].graph.nodes.iter().map(|n| n.id.clone()).collect())
        .unwrap_or_default();
    wait(&mut h, "a preview in every node", |app| app.previewed_nodes("LeNet").len() == nodes.len());
}

#[test]
fn a_two_dimensional_output_is_a_position_by_feature_heatmap() {
    use glassbox_engine::graph::{GraphSpec, LayerSpec};
    let (mut h, model) = open_with_cells("assets/notebooks/mnist-lenet.json");
    let graph = GraphSpec::sequential(vec![
        LayerSpec::Input { shape: vec![1, 28, 28] },
        LayerSpec::Reshape { shape: vec![28, 28] },
        LayerSpec::Flatten,
        LayerSpec::Dense { units: 10, bias: true },
    ]);
    h.state_mut().push(AppCommand::EditGraph { model: model.clone(), graph, layout: Default::default(), merge: None });
    h.run_steps(2);
    wait(&mut h, "the new graph's inspection", |app| {
        shows(app, &model, &Sample::Test(0), None)
            && app.inspection_shown(&model).is_some_and(|(i, _)| i.outputs.iter().any(|o| o.shape == [28, 28]))
    });
    h.run_steps(2);
    h.get_by_label_contains("rows: the 28 positions; columns: the 28 features");
}

#[test]
fn a_typed_sentence_is_what_the_cells_look_at_with_unknown_words_named() {
    // The spirals example on the synthetic sentiment set, fitted to it.
    let mut nb: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(assets_path(glassbox::DEFAULT_NOTEBOOK)).expect("example"))
            .expect("json");
    nb["data"] = serde_json::json!({ "source": { "kind": "Sentiment", "samples": 300, "seed": 1 } });
    let dir = std::env::temp_dir().join(format!("glassbox-typed-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("sentiment.json");
    std::fs::write(&path, nb.to_string()).expect("written");
    let mut h = harness(GlassboxApp::new(path));
    h.run_steps(2);
    h.state_mut().push(AppCommand::model("MLP", ModelCommand::FitToData));
    h.state_mut().push(AppCommand::AddCell { after: 3, kind: CellKind::Predictions { model: "MLP".into() } });
    h.run_steps(3);
    wait(&mut h, "the first inspection", |app| shows(app, "MLP", &Sample::Test(0), None));
    h.get_by_label("Type").click();
    h.run_steps(3);
    // The chooser's field: the text input lowest on the page (the title, the model's name and the
    // palette's search are above it).
    let field = h
        .get_all_by_role(egui::accesskit::Role::TextInput)
        .max_by(|a, b| a.rect().top().total_cmp(&b.rect().top()))
        .expect("the sentence field");
    field.focus();
    field.type_text("the film was not good zzqx");
    h.run_steps(3);
    h.get_by_label("Not in the vocabulary (read as <unk>): zzqx");
    let typed = Sample::Typed("the film was not good zzqx".into());
    wait(&mut h, "the sentence's inspection", |app| shows(app, "MLP", &typed, None));
    let inspection = h.state().inspection_shown("MLP").map(|(i, _)| i.clone()).expect("inspected");
    let splits = h.state().notebook().expect("open").data.build().expect("data");
    let vocab = splits.train.vocab.as_ref().expect("a vocabulary");
    let ids: Vec<usize> = inspection.outputs[0].values.iter().map(|&v| v as usize).collect();
    assert_eq!(ids.len(), splits.train.shape[0]);
    assert!(vocab.decode(&ids).starts_with("the film was not good <unk>"), "{}", vocab.decode(&ids));
}

#[test]
fn a_cell_added_far_below_is_brought_into_view() {
    let mut h = Harness::builder().with_size([1280.0, 720.0]).build_ui_state(
        |ui, app: &mut GlassboxApp| app.show(ui),
        GlassboxApp::new(assets_path(glassbox::DEFAULT_NOTEBOOK)),
    );
    h.run_steps(3);
    // From the first cell's "+ cell" menu, as a student would after reading the lesson text,
    // but placed at the end of the page (below the training cell).
    let last = h.state().notebook().map_or(0, |nb| nb.cells.len() - 1);
    h.state_mut().push(AppCommand::AddCell { after: last, kind: CellKind::Health { model: "MLP".into() } });
    h.run_steps(12);
    let header = h.get_by_label("Gradients and health").rect();
    assert!(header.top() >= 0.0 && header.bottom() <= 720.0, "the new cell's header is in view: {header:?}");
}
