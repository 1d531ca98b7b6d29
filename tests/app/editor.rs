//! The graph editor in the model cell, driven through the window (`egui_kittest`): the palette,
//! wiring with the mouse, problems on their nodes, the editing keys, undo, templates, weights
//! kept across an edit, graph files, and the comparison between a model and its copy.

use std::time::Duration;

use eframe::egui;
use egui_kittest::kittest::Queryable as _;
use egui_kittest::Harness;
use glassbox::{assets_path, AppCommand, GlassboxApp, ModelCommand, DEFAULT_NOTEBOOK};
use glassbox_engine::graph::{GraphSpec, LayerKind};
use glassbox_engine::train::RunState;

const LENET: &str = "assets/notebooks/mnist-lenet.json";

fn harness(app: GlassboxApp) -> Harness<'static, GlassboxApp> {
    Harness::builder().with_size([1280.0, 3600.0]).build_ui_state(|ui, app: &mut GlassboxApp| app.show(ui), app)
}

fn opened(path: &str) -> Harness<'static, GlassboxApp> {
    let mut h = harness(GlassboxApp::new(assets_path(path)));
    // The editor measures its nodes in the first frames and fits them into view.
    h.run_steps(6);
    h
}

fn graph(h: &Harness<'_, GlassboxApp>, model: &str) -> GraphSpec {
    h.state().notebook().and_then(|nb| nb.model(model)).expect("model").graph.clone()
}

use crate::{click_at, pointer};

fn click_node(h: &mut Harness<'_, GlassboxApp>, model: &str, node: &str) {
    let at = h.state().node_on_screen(model, node).unwrap_or_else(|| panic!("{node} is drawn"));
    click_at(h, at);
}

/// Drags a wire from `from`'s output pin to `to`'s input `port`, as a student does.
fn wire(h: &mut Harness<'_, GlassboxApp>, model: &str, from: &str, to: &str, port: usize) {
    let a = h.state().pin_on_screen(model, from, None).expect("output pin");
    let b = h.state().pin_on_screen(model, to, Some(port)).expect("input pin");
    h.hover_at(a);
    h.run_steps(1);
    pointer(h, a, true);
    h.run_steps(1);
    for t in [0.25, 0.5, 0.75, 1.0] {
        h.hover_at(a.lerp(b, t));
        h.run_steps(1);
    }
    pointer(h, b, false);
    h.run_steps(3);
}

/// Clicks a layer in the palette (it comes before the canvas's nodes in the page).
fn palette(h: &mut Harness<'_, GlassboxApp>, kind: LayerKind) {
    let button = h.query_all_by_label(kind.label()).next().unwrap_or_else(|| panic!("{} in the palette", kind.label()));
    button.scroll_to_me();
    // The palette scrolls smoothly: let it arrive.
    h.run_steps(20);
    h.query_all_by_label(kind.label()).next().expect("still there").click();
    h.run_steps(3);
}

fn step_until(h: &mut Harness<'_, GlassboxApp>, what: &str, done: impl FnMut(&GlassboxApp) -> bool) {
    crate::step_within(h, Duration::from_secs(60), what, done);
}

#[test]
fn a_layer_from_the_palette_goes_after_the_selected_one_with_its_shape_and_undo_takes_it_back() {
    let mut h = opened(DEFAULT_NOTEBOOK);
    let before = graph(&h, "MLP");
    click_node(&mut h, "MLP", "dense3");
    assert_eq!(h.state().inspected_node("MLP"), Some("dense3"), "a click shows the node in detail");
    // The selected node's parameters, each explained, and its formula.
    h.get_by_label_contains("How many outputs");
    h.get_by_label("y = x · W + b");
    palette(&mut h, LayerKind::Dense);
    let after = graph(&h, "MLP");
    assert_eq!(after.nodes.len(), before.nodes.len() + 1);
    assert!(after.edges.iter().any(|e| e.from == "dense3" && e.to == "dense4"), "wired after the selected node");
    assert_eq!(after.output.as_deref(), Some("dense4"), "added after the output, it is the output");
    // Its shape is on the node, and in its details.
    h.get_by_label("dense4");
    h.get_by_label("[8]");
    h.get_by_label_contains("output [8] · 24 parameters");
    h.state_mut().push(AppCommand::Undo);
    h.run_steps(3);
    assert_eq!(graph(&h, "MLP"), before, "Undo restores the graph");
    assert!(h.query_by_label("dense4").is_none());
    h.state_mut().push(AppCommand::Redo);
    h.run_steps(3);
    assert_eq!(graph(&h, "MLP"), after);
}

#[test]
fn wiring_a_conv_straight_into_a_dense_marks_the_dense_and_fixing_it_clears_the_mark() {
    let mut h = opened(LENET);
    let model = "LeNet";
    assert!(h.state().problem_nodes(model).is_empty());
    wire(&mut h, model, "conv2", "dense", 0);
    let g = graph(&h, model);
    assert!(g.edges.iter().any(|e| e.from == "conv2" && e.to == "dense"), "the wire was made: {:?}", g.edges);
    let marked = h.state().problem_nodes(model);
    assert!(marked.contains(&"dense".to_owned()), "the Dense is marked: {marked:?}");
    // The message is listed under the canvas; a click on it selects the node.
    let problem = h.get_by_label_contains("add a Flatten before dense");
    problem.click();
    h.run_steps(3);
    assert_eq!(h.state().inspected_node(model), Some("dense"));
    assert!(h.query_all_by_label_contains("It cannot train").count() == 0, "a graph problem is not a data misfit");
    // Fixing it: the Flatten back into the Dense.
    wire(&mut h, model, "flatten", "dense", 0);
    assert!(h.state().problem_nodes(model).is_empty(), "fixed: no mark");
    assert!(h.query_all_by_label_contains("add a Flatten before dense").count() == 0);
    // Each wire was one step of undo.
    h.state_mut().push(AppCommand::Undo);
    h.run_steps(2);
    assert!(h.state().problem_nodes(model).contains(&"dense".to_owned()));
    h.state_mut().push(AppCommand::Undo);
    h.run_steps(2);
    assert_eq!(graph(&h, model), graph(&opened(LENET), model));
}

#[test]
fn delete_copy_and_paste_with_the_keys_and_a_loop_is_refused() {
    let mut h = opened(DEFAULT_NOTEBOOK);
    click_node(&mut h, "MLP", "tanh1");
    h.key_press(egui::Key::Delete);
    h.run_steps(3);
    let g = graph(&h, "MLP");
    assert!(g.node("tanh1").is_none(), "Delete removes the selected node");
    assert!(g.edges.iter().any(|e| e.from == "dense1" && e.to == "dense2"), "and the chain heals around it");
    assert!(h.state().problem_nodes("MLP").is_empty());
    click_node(&mut h, "MLP", "dense2");
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::C);
    h.run_steps(2);
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::V);
    h.run_steps(3);
    let pasted = graph(&h, "MLP");
    assert_eq!(pasted.nodes.len(), g.nodes.len() + 1, "Ctrl+V pastes the copy");
    let copy = pasted.nodes.last().expect("a node");
    assert_eq!(copy.layer, g.node("dense2").expect("dense2").layer, "with its parameters");
    assert_eq!(h.state().inspected_node("MLP"), Some(copy.id.as_str()), "and selects it");
    // A wire from a later node back into an earlier one would make a loop: refused, with why.
    wire(&mut h, "MLP", "dense3", "dense1", 0);
    assert_eq!(graph(&h, "MLP"), pasted);
    h.get_by_label_contains("would make a loop");
}

#[test]
fn each_template_trains_a_few_steps_on_its_own_data() {
    let mut h = opened(DEFAULT_NOTEBOOK);
    for (i, t) in glassbox_engine::templates::templates().iter().enumerate() {
        h.state_mut().push(AppCommand::UseTemplate { model: "MLP".into(), template: i });
        h.run_steps(3);
        let nb = h.state().notebook().expect("loaded").clone();
        assert_eq!(nb.model("MLP").expect("model").graph, t.graph, "{}", t.name);
        assert_eq!(nb.data, t.data, "{} brings its data", t.name);
        assert!(h.state().problem_nodes("MLP").is_empty(), "{}", t.name);
        h.state_mut().push(AppCommand::model("MLP", ModelCommand::StepBatch));
        step_until(&mut h, t.name, |app| {
            app.record().latest.is_some_and(|p| p.step >= 1) || matches!(app.record().state, RunState::Failed(_))
        });
        assert!(!matches!(h.state().record().state, RunState::Failed(_)), "{}: {:?}", t.name, h.state().record().state);
        let loss = h.state().record().latest.expect("progress").loss;
        assert!(loss.is_finite(), "{}: loss {loss}", t.name);
    }
    // One step of undo takes a template back, data and all.
    h.state_mut().push(AppCommand::Undo);
    h.run_steps(3);
    let all = glassbox_engine::templates::templates();
    let before_last = &all[all.len() - 2];
    assert_eq!(graph(&h, "MLP"), before_last.graph);
}

/// Test loss of the model's weights as they are now.
fn evaluate(h: &mut Harness<'_, GlassboxApp>) -> f32 {
    h.state_mut().push(AppCommand::model("MLP", ModelCommand::Evaluate));
    h.run_steps(1);
    step_until(h, "an evaluation", |app| !app.record().evaluations.is_empty());
    h.state().record().evaluations.last().expect("evaluated").loss
}

#[test]
fn an_edit_after_training_keeps_the_weights_that_fit_and_undo_brings_back_all_of_them() {
    let mut h = opened(DEFAULT_NOTEBOOK);
    h.state_mut().push(AppCommand::SetSpeed(None));
    h.state_mut().push(AppCommand::model("MLP", ModelCommand::StepEpoch));
    h.run_steps(1);
    step_until(&mut h, "an epoch", |app| {
        matches!(app.record().state, RunState::Paused(_)) && app.record().latest.is_some_and(|p| p.step > 0)
    });
    let trained = evaluate(&mut h);
    h.get_by_label_contains("an edit keeps the weights of every layer whose shapes still fit");
    // A Dropout after tanh2: the same function in evaluation, so the same loss if the trained
    // weights carried over (a fresh model would not score the same).
    click_node(&mut h, "MLP", "tanh2");
    assert_eq!(h.state().inspected_node("MLP"), Some("tanh2"));
    palette(&mut h, LayerKind::Dropout);
    assert!(graph(&h, "MLP").node("dropout1").is_some(), "{:?}", graph(&h, "MLP").nodes);
    let note = h.state().weights_note("MLP").expect("the cell says what happens to the weights").to_owned();
    assert!(note.contains("all trained weights are kept"), "{note}");
    h.get_by_label_contains("all trained weights are kept");
    let after_edit = evaluate(&mut h);
    assert_eq!(after_edit.to_bits(), trained.to_bits(), "{after_edit} vs {trained}");
    h.state_mut().push(AppCommand::Undo);
    h.run_steps(3);
    assert!(graph(&h, "MLP").node("dropout1").is_none());
    assert!(h.state().weights_note("MLP").is_some_and(|n| n.contains("are back")));
    assert_eq!(evaluate(&mut h).to_bits(), trained.to_bits(), "Undo brings back the graph and its weights");
    // A change of shapes: the layers it touches start fresh, and the cell says which and why.
    let mut wider = graph(&h, "MLP");
    if let Some(n) = wider.nodes.iter_mut().find(|n| n.id == "dense2") {
        n.layer = glassbox_engine::graph::LayerSpec::Dense { units: 32, bias: true };
    }
    h.state_mut().push(AppCommand::EditGraph {
        model: "MLP".into(),
        graph: wider,
        layout: Default::default(),
        merge: None,
    });
    h.run_steps(3);
    let note = h.state().weights_note("MLP").expect("a note").to_owned();
    assert!(
        note.contains("kept for dense1") && note.contains("dense2 (its weights were [24, 24], now [24, 32])"),
        "{note}"
    );
    // A second edit before training again: the weights still come from the trained graph, so
    // dense2 is still fresh, not "kept".
    let mut again = graph(&h, "MLP");
    glassbox_engine::graph::edit::insert_on_wire(&mut again, "dense3", 0, glassbox_engine::graph::LayerSpec::Relu)
        .expect("insert");
    h.state_mut().push(AppCommand::EditGraph {
        model: "MLP".into(),
        graph: again,
        layout: Default::default(),
        merge: None,
    });
    h.run_steps(3);
    let note = h.state().weights_note("MLP").expect("a note").to_owned();
    assert!(note.contains("dense2 (its weights were [24, 24], now [24, 32])"), "{note}");
    h.state_mut().push(AppCommand::Undo);
    h.run_steps(3);
    assert_ne!(evaluate(&mut h).to_bits(), trained.to_bits(), "fresh layers change the function");
    h.state_mut().push(AppCommand::Undo);
    h.run_steps(3);
    // An edit while training pauses the run and says so (slowly, so the run is still going).
    h.state_mut().push(AppCommand::SetSpeed(Some(10.0)));
    h.state_mut().push(AppCommand::model("MLP", ModelCommand::Train));
    step_until(&mut h, "training", |app| matches!(app.record().state, RunState::Running));
    click_node(&mut h, "MLP", "tanh1");
    palette(&mut h, LayerKind::Relu);
    h.get_by_label_contains("Paused MLP for your edit");
    assert!(!matches!(h.state().record().state, RunState::Running));
}

#[test]
fn graphs_go_to_and_come_from_files_with_their_layout_and_the_table_is_a_click_away() {
    let dir = std::env::temp_dir().join(format!("glassbox-editor-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let mut h = opened(LENET);
    let original = graph(&h, "LeNet");
    let file = dir.join("lenet.graph.json");
    h.state_mut().push(AppCommand::Focus("LeNet".into()));
    h.state_mut().push(AppCommand::ExportGraph(file.clone()));
    h.run_steps(2);
    let text = std::fs::read_to_string(&file).expect("written");
    let json: serde_json::Value = serde_json::from_str(&text).expect("json");
    assert_eq!(json["layout"].as_object().expect("a layout").len(), original.nodes.len(), "every node has a place");
    // Change the model, then import the file: the graph comes back (one step of undo).
    click_node(&mut h, "LeNet", "relu1");
    h.key_press(egui::Key::Delete);
    h.run_steps(3);
    assert_ne!(graph(&h, "LeNet"), original);
    h.state_mut().push(AppCommand::ImportGraph(file.clone()));
    h.run_steps(3);
    assert_eq!(graph(&h, "LeNet"), original);
    // A file that is not a graph changes nothing and says why.
    let bad = dir.join("bad.json");
    std::fs::write(&bad, r#"{"graph": {"nodes": 3}}"#).expect("write");
    h.state_mut().push(AppCommand::ImportGraph(bad));
    h.run_steps(2);
    h.get_by_label_contains("Could not import");
    assert_eq!(graph(&h, "LeNet"), original);
    // Places are saved with the notebook (an example has none, so it was laid out).
    let saved = dir.join("saved.json");
    h.state_mut().push(AppCommand::SaveAs(saved.clone()));
    h.run_steps(2);
    let nb = glassbox::notebook::Notebook::load(&saved).expect("loads");
    assert_eq!(nb.models[0].layout.len(), original.nodes.len());
    // The table view, for a quick read and for screen readers.
    h.get_by_label("Table").click();
    h.run_steps(3);
    h.get_by_label("output shape");
    assert!(h.state().notebook().expect("loaded").view.table_view);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_copy_shows_what_differs_from_its_original() {
    let mut h = opened(DEFAULT_NOTEBOOK);
    h.state_mut().push(AppCommand::DuplicateModel("MLP".into()));
    h.run_steps(4);
    assert_eq!(h.query_all_by_label("Same graph as MLP.").count(), 1);
    let mut g = graph(&h, "MLP copy");
    glassbox_engine::graph::edit::insert_on_wire(
        &mut g,
        "dense3",
        0,
        glassbox_engine::graph::LayerSpec::Dropout { rate: 0.2 },
    )
    .expect("insert");
    if let Some(n) = g.nodes.iter_mut().find(|n| n.id == "dense1") {
        n.layer = glassbox_engine::graph::LayerSpec::Dense { units: 48, bias: true };
    }
    h.state_mut().push(AppCommand::EditGraph {
        model: "MLP copy".into(),
        graph: g,
        layout: Default::default(),
        merge: None,
    });
    h.run_steps(4);
    // On the copy's canvas: what it added and changed; on the original's: what it lacks.
    h.get_by_label("added dropout1");
    assert_eq!(h.query_all_by_label("changed dense1, dense3").count(), 2, "marked on both canvases");
    h.get_by_label("removed dropout1");
    h.get_by_label("Compared with MLP copy:");
}

#[test]
fn shift_click_selects_several_and_delete_takes_them_all() {
    let mut h = opened(DEFAULT_NOTEBOOK);
    for node in ["tanh1", "dense2"] {
        let at = h.state().node_on_screen("MLP", node).expect("drawn");
        h.hover_at(at);
        h.run_steps(1);
        h.event_modifiers(
            egui::Event::PointerButton {
                pos: at,
                button: egui::PointerButton::Primary,
                pressed: true,
                modifiers: egui::Modifiers::SHIFT,
            },
            egui::Modifiers::SHIFT,
        );
        h.run_steps(1);
        h.event_modifiers(
            egui::Event::PointerButton {
                pos: at,
                button: egui::PointerButton::Primary,
                pressed: false,
                modifiers: egui::Modifiers::SHIFT,
            },
            egui::Modifiers::SHIFT,
        );
        h.run_steps(2);
    }
    h.key_press(egui::Key::Delete);
    h.run_steps(3);
    let g = graph(&h, "MLP");
    assert!(g.node("tanh1").is_none() && g.node("dense2").is_none(), "{:?}", g.nodes);
    assert!(g.edges.iter().any(|e| e.from == "dense1" && e.to == "tanh2"), "the chain heals: {:?}", g.edges);
    h.state_mut().push(AppCommand::Undo);
    h.run_steps(3);
    assert_eq!(graph(&h, "MLP").nodes.len(), 6, "one step of undo brings both back");
}

#[test]
fn ctrl_and_the_wheel_zoom_the_canvas_and_the_wheel_alone_leaves_it_as_it_is() {
    let mut h = opened(DEFAULT_NOTEBOOK);
    let apart = |h: &Harness<'_, GlassboxApp>| {
        let a = h.state().node_on_screen("MLP", "input").expect("drawn");
        let b = h.state().node_on_screen("MLP", "dense1").expect("drawn");
        a.distance(b)
    };
    let a = h.state().node_on_screen("MLP", "input").expect("drawn");
    let b = h.state().node_on_screen("MLP", "dense1").expect("drawn");
    let wheel = |modifiers| egui::Event::MouseWheel {
        unit: egui::MouseWheelUnit::Line,
        delta: egui::vec2(0.0, 3.0),
        phase: egui::TouchPhase::Move,
        modifiers,
    };
    let before = apart(&h);
    h.hover_at(a.lerp(b, 0.5) + egui::vec2(0.0, 40.0));
    h.run_steps(1);
    h.event(wheel(egui::Modifiers::NONE));
    h.run_steps(3);
    // (The whole page fits this tall harness, so nothing scrolls, and the nodes stay put.)
    let moved = h.state().node_on_screen("MLP", "input").expect("drawn").distance(a);
    assert!(moved < 0.5, "the wheel alone neither pans nor zooms the canvas (moved {moved})");
    h.event_modifiers(wheel(egui::Modifiers::COMMAND), egui::Modifiers::COMMAND);
    h.run_steps(3);
    assert!(apart(&h) > before * 1.3, "Ctrl and the wheel zoom in: {before} to {}", apart(&h));
}
