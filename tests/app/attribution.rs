//! The attribution cell in the real window (`egui_kittest`): maps side by side over a digit,
//! completeness and the randomisation check under them, methods switched on and off; a text
//! explained token by token.

use std::time::Duration;

use egui_kittest::kittest::{NodeT as _, Queryable as _};
use egui_kittest::Harness;
use glassbox::notebook::CellKind;
use glassbox::{assets_path, AppCommand, GlassboxApp, ModelCommand};
use glassbox_engine::explain::{InputKind, Method};

fn harness(file: &str) -> Harness<'static, GlassboxApp> {
    let mut h = Harness::builder()
        .with_size([1280.0, 12000.0])
        .build_ui_state(|ui, app: &mut GlassboxApp| app.show(ui), GlassboxApp::new(assets_path(file)));
    h.run_steps(2);
    h.state_mut().push(AppCommand::SetSpeed(None));
    h.run_steps(1);
    h
}

fn wait(h: &mut Harness<'_, GlassboxApp>, what: &str, done: impl FnMut(&GlassboxApp) -> bool) {
    crate::step_within(h, Duration::from_secs(120), what, done);
}

fn attribution_methods(app: &GlassboxApp) -> Vec<Vec<Method>> {
    app.notebook()
        .map(|nb| {
            nb.cells
                .iter()
                .filter_map(|c| match &c.kind {
                    CellKind::Attribution { methods, .. } => Some(methods.clone()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_digit_is_explained_four_ways_and_the_maps_pass_the_randomisation_check() {
    let mut h = harness("assets/notebooks/mnist-lenet.json");
    h.state_mut().push(AppCommand::model("LeNet", ModelCommand::StepEpoch));
    wait(&mut h, "an epoch", |app| app.record_of("LeNet").is_some_and(|r| r.timeline.len() >= 2));
    wait(&mut h, "the maps after the epoch", |app| {
        let now = app.record_of("LeNet").and_then(|r| r.latest).map_or(0, |p| p.step);
        app.explanation_shown("LeNet").is_some_and(|e| e.step == now && e.moment.is_none())
    });
    h.run_steps(3);
    let explanation = h.state().explanation_shown("LeNet").cloned().expect("shown");
    assert!(matches!(explanation.kind, InputKind::Image { height: 28, width: 28, .. }));
    assert!(
        explanation.maps.iter().all(Result::is_ok),
        "{:?}",
        explanation.maps.iter().map(|m| m.as_ref().err()).collect::<Vec<_>>()
    );
    for title in ["Saliency", "Integrated Gradients", "Grad-CAM", "Occlusion"] {
        // The method's button and the map's title.
        assert!(h.get_all_by_label(title).count() >= 2, "{title}");
    }
    h.get_by_label_contains("Explaining the score of \"7\"");
    h.get_by_label_contains("Shares add up to");
    // The randomisation check: each map worked out again with random weights.
    h.get_all_by_label("Check with random weights").last().expect("the checkbox").click();
    wait(&mut h, "the randomisation check", |app| {
        app.explanation_shown("LeNet").is_some_and(|e| e.checks.iter().all(Option::is_some))
    });
    h.run_steps(3);
    assert_eq!(h.get_all_by_label_contains("With random weights the map").count(), 4);
    let checks = h.state().explanation_shown("LeNet").map(|e| e.checks.clone()).expect("shown");
    let saliency = checks[0].as_ref().expect("checked");
    assert!(saliency.passed(), "saliency after an epoch depends on the weights: {}", saliency.verdict());
    // A fifth method turns the first off.
    h.get_by_label("LIME").click();
    h.run_steps(2);
    assert_eq!(
        attribution_methods(h.state()),
        vec![vec![Method::IntegratedGradients, Method::GradCam, Method::Occlusion, Method::Lime]]
    );
    wait(&mut h, "LIME's map", |app| {
        app.explanation_shown("LeNet")
            .is_some_and(|e| e.maps.len() == 4 && e.maps[3].as_ref().is_ok_and(|m| m.method == Method::Lime))
    });
}

#[test]
fn a_review_is_explained_token_by_token() {
    let mut h = harness("assets/notebooks/sentiment-lstm.json");
    let after = h.state().notebook().map_or(0, |n| n.cells.len() - 1);
    h.state_mut().push(AppCommand::AddCell {
        after,
        kind: CellKind::Attribution {
            model: "Attention".into(),
            methods: vec![Method::IntegratedGradients, Method::Occlusion],
        },
    });
    h.run_steps(2);
    h.state_mut().push(AppCommand::model("Attention", ModelCommand::StepEpoch));
    wait(&mut h, "an epoch", |app| app.record_of("Attention").is_some_and(|r| r.timeline.len() >= 2));
    wait(&mut h, "the token maps", |app| {
        let now = app.record_of("Attention").and_then(|r| r.latest).map_or(0, |p| p.step);
        app.explanation_shown("Attention").is_some_and(|e| e.step == now)
    });
    h.run_steps(3);
    let explanation = h.state().explanation_shown("Attention").cloned().expect("shown");
    assert!(matches!(explanation.kind, InputKind::Tokens { positions: 12, .. }), "{:?}", explanation.kind);
    let ig = explanation.maps[0].as_ref().expect("IG");
    assert_eq!(ig.values.len(), 12, "a value per token");
    assert!(ig.completeness.is_some_and(|c| c.relative_gap() < 0.05), "{:?}", ig.completeness);
    // The sentence's tokens, coloured, once per map; padding shown as dots.
    assert!(h.get_all_by_label(" · ").count() >= 2, "padding tokens in both rows");
    // Grad-CAM cannot explain a text: its button is off (in the notebook's own attribution cell
    // for the LSTM and in the one added here).
    let buttons: Vec<_> = h.get_all_by_label("Grad-CAM").collect();
    assert_eq!(buttons.len(), 2);
    assert!(buttons.iter().all(|b| b.accesskit_node().is_disabled()), "Grad-CAM is for images");
}

#[test]
fn a_table_gets_bars_per_feature_and_the_whole_test_set_with_a_surrogate_tree() {
    // The two-spirals notebook turned into a breast-cancer one: 30 features, two classes.
    let dir = std::env::temp_dir().join(format!("glassbox-attribution-table-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut nb: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(assets_path("assets/notebooks/spiral-mlp.json")).expect("reads"))
            .expect("json");
    nb["data"] = serde_json::json!({"source": {"kind": "Bundled", "name": "BreastCancer"},
        "pipeline": {"test_fraction": 0.2, "normalization": "Standardize", "seed": 0}});
    nb["models"][0]["graph"]["nodes"][0]["layer"]["shape"] = serde_json::json!([30]);
    let model = nb["models"][0]["name"].as_str().expect("named").to_owned();
    nb["cells"] = serde_json::json!([{"kind": "Training", "model": model},
        {"kind": "Attribution", "model": model, "methods": ["IntegratedGradients", "KernelShap"]}]);
    let path = dir.join("table.json");
    std::fs::write(&path, nb.to_string()).expect("writes");
    let mut h = Harness::builder()
        .with_size([1280.0, 6000.0])
        .build_ui_state(|ui, app: &mut GlassboxApp| app.show(ui), GlassboxApp::new(path));
    h.run_steps(2);
    h.state_mut().push(AppCommand::SetSpeed(None));
    h.state_mut().push(AppCommand::model(&model, ModelCommand::StepEpoch));
    wait(&mut h, "an epoch", |app| app.record_of(&model).is_some_and(|r| r.timeline.len() >= 2));
    h.get_by_label("Whole test set").click();
    wait(&mut h, "the whole test set's view", |app| {
        app.explanation_shown(&model).is_some_and(|e| e.global.as_ref().is_some_and(Result::is_ok))
    });
    h.run_steps(3);
    let explanation = h.state().explanation_shown(&model).cloned().expect("shown");
    assert!(matches!(explanation.kind, InputKind::Table { features: 30 }));
    assert_eq!(h.get_all_by_label("the 12 largest of 30 features").count(), 2, "a bar list per map");
    h.get_by_label("Accuracy lost when a feature is shuffled");
    h.get_by_label("Mean size of the SHAP values");
    let view = explanation.global.and_then(Result::ok).expect("a view");
    h.get_by_label_contains(&format!(
        "class for {:.0}% of the test samples (its fidelity)",
        100.0 * view.tree.fidelity
    ));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_convolution_output_is_worked_out_one_operation_at_a_time() {
    let mut h = harness("assets/notebooks/mnist-lenet.json");
    wait(&mut h, "the first inspection", |app| app.inspection_shown("LeNet").is_some());
    h.run_steps(3);
    // The notebook points the cell at conv1's value 300: filter 0, row 12, column 12.
    h.get_by_label_contains("conv1 (Conv2d) at [0, 12, 12]");
    h.get_by_label("operation 4 of 4");
    h.get_by_label_contains("the 5x5 patch under filter 0 at row 12, column 12");
    h.get_by_label_contains(": the same number");
    h.get_by_label("◀ Back").click();
    h.run_steps(2);
    h.get_by_label("operation 3 of 4");
    assert_eq!(h.query_all_by_label_contains(": the same number").count(), 0, "shown at the last operation");
    // Another node: the model's dense layer, unit 7.
    let cell =
        h.state().notebook().and_then(|nb| nb.cells.iter().position(|c| matches!(c.kind, CellKind::StepByStep { .. })));
    h.state_mut().push(AppCommand::SetStepView {
        cell: cell.expect("the cell"),
        view: glassbox::notebook::StepView { node: Some("dense".into()), index: 7, ..Default::default() },
    });
    h.run_steps(3);
    h.get_by_label_contains("dense (Dense) at [7]");
    h.get_by_label_contains("unit 7's weights");

    // The training step of one of conv1's weights: the loss, back through every node to conv1,
    // the gradient and Adam's update, each hand-worked number beside the engine's.
    h.get_by_label("Training step: one weight").click();
    h.run_steps(2);
    h.state_mut().push(AppCommand::SetStepView {
        cell: cell.expect("the cell"),
        view: glassbox::notebook::StepView {
            training: true,
            param: Some("conv1.weight".into()),
            entry: 7,
            ..Default::default()
        },
    });
    wait(&mut h, "the training step", |app| app.training_walk_shown("LeNet").is_some());
    h.run_steps(3);
    let walk = h.state().training_walk_shown("LeNet").cloned().expect("asked").expect("worked out");
    assert_eq!((walk.param.as_str(), walk.entry, walk.position.clone()), ("conv1.weight", 7, vec![0, 0, 1, 2]));
    h.get_by_label_contains("One training step on test sample");
    h.get_by_label("Backward: the chain rule, from the loss back to the weight");
    h.get_by_label("The update: Adam");
    h.get_by_label_contains("back through pool1 (MaxPool2d)");
    h.get_by_label_contains("conv1.weight[0,0,1,2]'s gradient");
    let checked = walk.operations.iter().filter(|op| op.check.is_some()).count();
    assert!(checked >= 6, "{checked}");
    assert_eq!(h.query_all_by_label_contains(": the same number").count(), checked, "every check agrees");
    assert_eq!(h.query_all_by_label_contains(": a different number").count(), 0);
    // Stepped from the start: only the first operation.
    h.get_by_label("⏮ Start").click();
    h.run_steps(2);
    h.get_by_label(&format!("operation 1 of {}", walk.operations.len()));
    assert!(h.query_by_label("The update: Adam").is_none(), "later phases hidden");
    h.get_by_label("Next ▶").click();
    h.run_steps(2);
    h.get_by_label(&format!("operation 2 of {}", walk.operations.len()));
}
