//! Sequence models in the real window (`egui_kittest`): the reverse Transformer's attention maps
//! (each head and their mean, the sentence shaded by where a hovered token looks, the mirrored
//! position found after an epoch), its answer per position; an LSTM's gates over time; an
//! attention model on typed text; the embedding vectors on their principal plane.

use std::time::Duration;

use eframe::egui;
use egui_kittest::kittest::Queryable as _;
use egui_kittest::Harness;
use glassbox::notebook::CellKind;
use glassbox::{assets_path, AppCommand, GlassboxApp, ModelCommand, Sample};

fn harness(file: &str) -> Harness<'static, GlassboxApp> {
    let mut h = Harness::builder()
        .with_size([1280.0, 9000.0])
        .build_ui_state(|ui, app: &mut GlassboxApp| app.show(ui), GlassboxApp::new(assets_path(file)));
    h.run_steps(2);
    h.state_mut().push(AppCommand::SetSpeed(None));
    h.run_steps(1);
    h
}

fn wait(h: &mut Harness<'_, GlassboxApp>, what: &str, done: impl FnMut(&GlassboxApp) -> bool) {
    crate::step_within(h, Duration::from_secs(90), what, done);
}

/// Trains `model` one epoch and waits until the cells show its newest inspection.
fn one_epoch(h: &mut Harness<'_, GlassboxApp>, model: &str) {
    h.state_mut().push(AppCommand::model(model, ModelCommand::StepEpoch));
    wait(h, "an epoch", |app| app.record_of(model).is_some_and(|r| r.timeline.len() >= 2));
    wait(h, "an inspection after the epoch", |app| {
        let now = app.record_of(model).and_then(|r| r.latest).map_or(0, |p| p.step);
        app.inspection_shown(model).is_some_and(|(i, _)| i.step == now && i.moment.is_none())
    });
    h.run_steps(3);
}

fn add_cell(h: &mut Harness<'_, GlassboxApp>, kind: CellKind) {
    let after = h.state().notebook().map_or(0, |n| n.cells.len() - 1);
    h.state_mut().push(AppCommand::AddCell { after, kind });
    h.run_steps(2);
}

#[test]
fn the_reverse_transformer_shows_its_heads_and_a_token_looks_at_its_mirror() {
    let mut h = harness("assets/notebooks/reverse-transformer.json");
    one_epoch(&mut h, "Transformer");
    for label in ["transformerblock1", "transformerblock2"] {
        assert!(h.get_all_by_label(label).count() >= 1, "the attention cell names {label}");
    }
    assert_eq!(h.get_all_by_label("Mean over heads").count(), 2, "one mean map per block");
    assert_eq!(h.get_all_by_label("Head 4").count(), 2, "four heads per block");
    assert_eq!(h.get_all_by_label_contains("Hover a row of a map").count(), 2);
    // The answer and the model's class at each position, and the header's answer.
    h.get_by_label_contains("positions right");
    assert!(h.get_all_by_label_contains("(answer: ").count() >= 1);
    // Hovering the first token of the second block's sentence: it looks at the last position.
    let sentence = h.get_all_by_label("Sentence:").nth(1).expect("the second block's sentence").rect();
    let first_token = egui::pos2(sentence.right() + 12.0, sentence.center().y);
    h.hover_at(first_token);
    h.run_steps(3);
    let said = h.get_by_label_contains("(position 1) looks most at");
    let text = format!("{said:?}");
    assert!(text.contains("(position 8,"), "the first position looks at the eighth: {text}");
}

#[test]
fn an_lstm_shows_its_gates_and_an_attention_model_reads_typed_text() {
    let mut h = harness("assets/notebooks/sentiment-lstm.json");
    add_cell(&mut h, CellKind::Weights { model: "Attention".into() });
    // Two unrelated models are not compared node by node (every node would be marked).
    assert_eq!(h.query_all_by_label_contains("Compared with").count(), 0);
    assert_eq!(h.query_all_by_label_contains("Same graph as").count(), 0);
    one_epoch(&mut h, "LSTM");
    // The LSTM's states over time under its node in the activations cell.
    for title in
        ["forget gate f", "cell state c over time", "hidden state h over time", "input gate i", "output gate o"]
    {
        h.get_by_label_contains(title);
    }
    assert!(h.get_all_by_label_contains("rows: the 12 steps").count() >= 5);
    // The attention model, on a typed sentence.
    h.state_mut().push(AppCommand::SetSample { model: "Attention".into(), sample: Sample::Typed("not good".into()) });
    one_epoch(&mut h, "Attention");
    wait(&mut h, "the typed sentence", |app| {
        app.inspection_shown("Attention").is_some_and(|(_, s)| *s == Sample::Typed("not good".into()))
    });
    h.run_steps(3);
    assert!(h.get_all_by_label("multiheadattention1").count() >= 2, "the editor's node and the attention cell's map");
    h.get_by_label_contains("Hover a row of a map");
    let inspection = h.state().inspection_shown("Attention").map(|(i, _)| i.clone()).expect("shown");
    let map = inspection.extras.iter().find(|e| e.id == "multiheadattention1.attention").expect("kept");
    assert_eq!(map.shape, vec![4, 12, 12]);
    // The typed words are the sentence under the map ("not", "good", then padding).
    assert!(h.get_all_by_label("not").count() >= 1 && h.get_all_by_label("good").count() >= 1);
    assert!(h.get_all_by_label("·").count() >= 10, "ten padding tokens after the two words");
    // The embedding's vectors on their plane.
    h.get_by_label_contains("Each token's vector on the plane of its two main directions");
}

#[test]
fn a_names_model_writes_names_from_a_typed_beginning() {
    let mut h = harness("assets/notebooks/names-lstm.json");
    h.state_mut().push(AppCommand::SetSample { model: "Names".into(), sample: Sample::Typed("ma".into()) });
    h.run_steps(2);
    wait(&mut h, "the typed beginning", |app| {
        app.inspection_shown("Names").is_some_and(|(_, s)| *s == Sample::Typed("ma".into()))
    });
    h.run_steps(2);
    h.get_by_label_contains("continuing \"ma\"");
    h.get_by_label("Write 8").click();
    wait(&mut h, "written names", |app| app.record_of("Names").is_some_and(|r| r.generated.is_some()));
    h.run_steps(3);
    h.get_by_label_contains("Written at step 0");
    let (_, _, sequences) = h.state().record_of("Names").and_then(|r| r.generated.clone()).expect("written");
    assert_eq!(sequences.len(), 8);
    assert!(sequences.iter().all(|s| !s.is_empty() && s.len() <= 24), "{sequences:?}");
    // Each is shown after the typed beginning.
    let shown = h.get_all_by_label_contains("ma").count();
    assert!(shown >= 8, "8 written names start with the typed beginning ({shown} labels)");
}
