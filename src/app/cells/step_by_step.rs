//! The step-by-step cell: one output value of a chosen node, worked out with the chosen sample's
//! real numbers one operation at a time (a convolution's patch, kernel, products, sum and bias; a
//! dense unit's inputs, weights and sum; a pooling window; an activation; a softmax), the formula
//! beside the numbers, Back and Next to move through the operations. It follows the sample
//! chooser and the timeline like the other inspection cells. Its second view is one training
//! step for one weight: the loss, the chain rule back through every node to the weight, the
//! weight's gradient and its update under the run's optimiser (worked out by the trainer, with
//! the engine's own gradients beside the hand-worked ones).

use eframe::egui::{self, RichText};
use glassbox_engine::explain::backprop::TrainingWalk;
use glassbox_engine::explain::steps::{walkthrough, Operation, Walkthrough};
use glassbox_engine::tensor::OptimizerSpec;

use super::{inspecting, CellContext};
use crate::app::inspect::Sample;
use crate::app::AppCommand;
use crate::notebook::StepView;

/// The most numbers an operation lists (a 5x5 patch over 16 channels has 400).
const SHOWN: usize = 60;

pub(super) fn show(ui: &mut egui::Ui, index: usize, name: &str, view: &StepView, cx: &mut CellContext<'_>) {
    let Some(run) = cx.runs.get(name) else {
        super::unknown_model(ui, name);
        return;
    };
    let Some(inspection) = inspecting::header_and_chooser(ui, name, run, cx, "steps-chooser") else { return };
    let Some(graph) = cx.notebook.models.iter().find(|m| m.name == name).map(|m| &m.graph) else { return };
    ui.horizontal(|ui| {
        let mut training = view.training;
        ui.selectable_value(&mut training, false, "Forward: one output value")
            .on_hover_text("How a node computed one of its output values from its inputs");
        ui.selectable_value(&mut training, true, "Training step: one weight")
            .on_hover_text("The loss, the way back to one weight by the chain rule, and the weight's update");
        if training != view.training {
            cx.out.push(AppCommand::SetStepView { cell: index, view: StepView { training, ..view.clone() } });
        }
    });
    if view.training {
        training_step(ui, index, name, view, run, inspection, cx);
        return;
    }
    // The nodes that have a walkthrough: every output but the input's.
    let nodes: Vec<(&str, usize)> =
        inspection.outputs.iter().skip(1).map(|o| (o.id.as_str(), o.shape.iter().product::<usize>())).collect();
    let Some(&(first, _)) = nodes.first() else { return };
    let node = view.node.as_deref().filter(|n| nodes.iter().any(|(id, _)| id == n)).unwrap_or(first);
    let size = nodes.iter().find(|(id, _)| *id == node).map_or(1, |(_, s)| *s);
    let mut next = view.clone();
    ui.horizontal_wrapped(|ui| {
        ui.label("Node:");
        egui::ComboBox::from_id_salt(("steps-node", index)).selected_text(node).show_ui(ui, |ui| {
            for (id, _) in &nodes {
                if ui.selectable_label(*id == node, *id).clicked() {
                    next = StepView { node: Some((*id).to_owned()), index: 0, ..view.clone() };
                }
            }
        });
        ui.label("output value:");
        let mut at = view.index.min(size - 1);
        if ui
            .add(egui::DragValue::new(&mut at).range(0..=size - 1))
            .on_hover_text("Which of the node's output values (counting from 0, row by row)")
            .changed()
        {
            next = StepView { node: Some(node.to_owned()), index: at, ..view.clone() };
        }
    });
    if next != *view {
        cx.out.push(AppCommand::SetStepView { cell: index, view: next });
    }
    // Worked out once per inspection, node and value (an LSTM's runs through every step).
    let at = view.index.min(size - 1);
    let key = ui.id().with(("steps-walk", index, inspection.id, node, at));
    let walk: Option<Result<Walkthrough, String>> = ui.data(|d| d.get_temp(key));
    let walk = walk.unwrap_or_else(|| {
        let made = walkthrough(graph, &run.report, &inspection.outputs, &inspection.weights, node, at)
            .map_err(|e| e.to_string());
        ui.data_mut(|d| d.insert_temp(key, made.clone()));
        made
    });
    match walk {
        Ok(mut walk) => {
            // A token id read with its word.
            if let (Some(vocab), Some(first)) =
                (cx.splits.and_then(|s| s.test.vocab.as_ref()), walk.operations.first_mut())
            {
                if walk.layer == "Embedding" {
                    for (label, id) in &mut first.terms {
                        if let Some(word) = vocab.tokens().get(*id as usize) {
                            *label = format!("{label} (\"{word}\")");
                        }
                    }
                }
            }
            ui.strong(format!("{} ({}) at {:?}", walk.node, walk.layer, walk.position));
            let salt = (index, walk.node.as_str(), walk.position.clone());
            if operations(ui, salt, &walk.operations, &[]) {
                let last = walk.operations[walk.operations.len() - 1].result;
                ui.label(format!(
                    "The model computed {:.5} here{}.",
                    walk.recorded,
                    if (last - walk.recorded).abs() <= 1e-4 * (1.0 + walk.recorded.abs()) {
                        ": the same number"
                    } else {
                        ""
                    }
                ));
            }
        }
        Err(e) => {
            ui.colored_label(ui.visuals().warn_fg_color, e);
        }
    }
}

/// The training-step view: a weight and an entry, the walk the trainer worked out for them on
/// the chosen sample (asked for when they change), stepped like the forward view.
fn training_step(
    ui: &mut egui::Ui,
    index: usize,
    name: &str,
    view: &StepView,
    run: &crate::app::ModelRun,
    inspection: &glassbox_engine::train::Inspection,
    cx: &mut CellContext<'_>,
) {
    // The weights in the graph's order, each node's weight before its bias.
    // (Batch norm's running statistics are kept, not trained: they have no training step.)
    let mut params: Vec<(&String, usize)> = inspection
        .shapes
        .iter()
        .filter(|(n, _)| !n.ends_with(".running_mean") && !n.ends_with(".running_var"))
        .map(|(n, s)| (n, s.iter().product()))
        .collect();
    let place = |name: &str| {
        let (node, part) = name.rsplit_once('.').unwrap_or((name, ""));
        (inspection.outputs.iter().position(|o| o.id == node).unwrap_or(usize::MAX), part != "weight")
    };
    params.sort_by_key(|(n, _)| place(n));
    let Some(&(first, _)) = params.first() else {
        ui.label("This model has no weights to train.");
        return;
    };
    let param = view.param.as_ref().filter(|p| params.iter().any(|(n, _)| n == p)).unwrap_or(first);
    let size = params.iter().find(|(n, _)| *n == param).map_or(1, |(_, s)| *s).max(1);
    let entry = view.entry.min(size - 1);
    let shape = inspection.shapes.get(param).cloned().unwrap_or_default();
    let mut next = view.clone();
    ui.horizontal_wrapped(|ui| {
        ui.label("Weight:");
        egui::ComboBox::from_id_salt(("steps-param", index)).selected_text(param.as_str()).show_ui(ui, |ui| {
            for (n, s) in &params {
                if ui.selectable_label(*n == param, format!("{n}  ({s} values)")).clicked() {
                    next = StepView { param: Some((*n).clone()), entry: 0, ..view.clone() };
                }
            }
        });
        ui.label("entry:");
        let mut at = entry;
        if ui
            .add(egui::DragValue::new(&mut at).range(0..=size - 1))
            .on_hover_text("Which of the weight's values (counting from 0, row by row)")
            .changed()
        {
            next = StepView { param: Some(param.clone()), entry: at, ..view.clone() };
        }
        ui.weak(format!("= {param}{:?} of a {:?} tensor", coords(entry, &shape), shape));
    });
    if next != *view {
        cx.out.push(AppCommand::SetStepView { cell: index, view: next });
    }
    let Sample::Test(sample) = run.inspector.sample else {
        ui.label("A training step needs a sample with its right answer: choose a test sample above.");
        return;
    };
    let wanted = (sample, param.clone(), entry);
    let sent = run.inspector.training_sent.as_ref();
    if sent.is_none_or(|(_, key)| *key != wanted) {
        cx.out.push(AppCommand::WorkTrainingStep { model: name.to_owned(), param: param.clone(), entry });
        ui.spinner();
        return;
    }
    let answer = run.record.training_walk.as_ref().filter(|(id, ..)| sent.is_some_and(|(s, _)| s == id));
    let Some((_, step, walk)) = answer else {
        ui.horizontal(|ui| {
            ui.spinner();
            ui.label("working out the step...");
        });
        return;
    };
    let walk = match walk {
        Ok(walk) => walk,
        Err(e) => {
            ui.colored_label(ui.visuals().warn_fg_color, e);
            return;
        }
    };
    let now = run.record.latest.map_or(0, |p| p.step);
    ui.horizontal_wrapped(|ui| {
        ui.strong(format!(
            "One training step on test sample {sample} at step {step}: {}{:?} goes from {} to {} (a change of {})",
            walk.param,
            walk.position,
            number(walk.before),
            number(walk.after),
            number(walk.after - walk.before)
        ));
        if now != *step && ui.button(format!("Again with step {now}'s weights")).clicked() {
            cx.out.push(AppCommand::WorkTrainingStep { model: name.to_owned(), param: param.clone(), entry });
        }
    });
    ui.weak(format!(
        "As if this sample were the whole batch (training averages the steps of a batch's samples), without \
         dropout, under {}; nothing is changed.",
        optimizer_text(walk)
    ));
    let phases = [
        (0, "Forward: the loss".to_owned()),
        (
            walk.backward_at,
            "Backward: the chain rule, from the loss back to the weight\n(the gradient flows back along every \
             path; this walk follows the one that carries the most to the weight, and each node's number from the \
             engine is the sum over all paths)"
                .to_owned(),
        ),
        (walk.update_at, format!("The update: {}", optimizer_name(walk.optimizer))),
    ];
    operations(ui, (index, walk.param.as_str(), vec![walk.entry, *step]), &walk.operations, &phases);
}

fn optimizer_name(spec: OptimizerSpec) -> &'static str {
    match spec {
        OptimizerSpec::Sgd { momentum, nesterov, .. } if momentum > 0.0 => {
            if nesterov {
                "SGD with Nesterov momentum"
            } else {
                "SGD with momentum"
            }
        }
        OptimizerSpec::Sgd { .. } => "SGD",
        OptimizerSpec::Adam { .. } => "Adam",
        OptimizerSpec::AdamW { .. } => "AdamW",
    }
}

fn optimizer_text(walk: &TrainingWalk) -> String {
    format!(
        "{} at learning rate {} after {} updates",
        optimizer_name(walk.optimizer),
        glassbox_engine::explain::backprop::short(walk.optimizer.lr()),
        walk.steps_done
    )
}

/// The coordinates of flat index `i` in `shape`.
fn coords(mut i: usize, shape: &[usize]) -> Vec<usize> {
    let mut out = vec![0; shape.len()];
    for (o, &n) in out.iter_mut().zip(shape).rev() {
        *o = i % n.max(1);
        i /= n.max(1);
    }
    out
}

/// Operations up to the current one, with Back and Next (and a heading where each phase starts);
/// `true` when the last is shown.
fn operations(
    ui: &mut egui::Ui,
    salt: impl std::hash::Hash + std::fmt::Debug,
    ops: &[Operation],
    phases: &[(usize, String)],
) -> bool {
    let count = ops.len();
    if count == 0 {
        return true;
    }
    let at_id = ui.id().with(("steps-at", salt));
    let mut at: usize = ui.data(|d| d.get_temp(at_id)).unwrap_or(count - 1).min(count - 1);
    ui.horizontal(|ui| {
        if ui.add_enabled(at > 0, egui::Button::new("⏮ Start")).on_hover_text("Back to the first operation").clicked()
        {
            at = 0;
        }
        if ui.add_enabled(at > 0, egui::Button::new("◀ Back")).clicked() {
            at -= 1;
        }
        ui.label(format!("operation {} of {count}", at + 1));
        if ui.add_enabled(at + 1 < count, egui::Button::new("Next ▶")).clicked() {
            at += 1;
        }
        if ui.add_enabled(at + 1 < count, egui::Button::new("All ⏭")).on_hover_text("Show every operation").clicked()
        {
            at = count - 1;
        }
    });
    ui.data_mut(|d| d.insert_temp(at_id, at));
    for (k, op) in ops.iter().enumerate().take(at + 1) {
        if let Some((_, title)) = phases.iter().find(|(start, _)| *start == k) {
            ui.add_space(6.0);
            let (head, more) = title.split_once('\n').unwrap_or((title, ""));
            ui.label(RichText::new(head).strong().size(16.0));
            if !more.is_empty() {
                ui.weak(more);
            }
        }
        ui.separator();
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new(format!("{}.", k + 1)).strong());
            ui.label(&op.what);
        });
        ui.label(RichText::new(&op.formula).monospace().size(15.0));
        terms(ui, k, op);
        if op.result.is_finite() {
            ui.label(RichText::new(format!("= {}", number(op.result))).monospace().strong());
        }
        if let Some(check) = op.check {
            let same = (op.result - check).abs() <= 1e-4 * (op.result.abs() + check.abs()) + 1e-9;
            let text = format!(
                "the engine's own pass computed {}{}",
                number(check),
                if same { ": the same number" } else { ": a different number" }
            );
            if same {
                ui.weak(text);
            } else {
                ui.colored_label(ui.visuals().warn_fg_color, text);
            }
        }
    }
    at + 1 == count
}

/// A number with five significant digits, however small (gradients can be 1e-6).
fn number(v: f32) -> String {
    if v != 0.0 && v.abs() < 1e-3 {
        format!("{v:.4e}")
    } else {
        format!("{v:.5}")
    }
}

/// An operation's numbers: a picture (a patch, a kernel, a window) laid out as one, each
/// channel's square apart with the labels on hover; else a list.
fn terms(ui: &mut egui::Ui, k: usize, op: &Operation) {
    match op.columns {
        // A whole map (a weight's gradient over every position it met): coloured squares, red
        // above 0 and blue below, each value on hover.
        Some(columns)
            if columns > 0
                && op.terms.len() > SHOWN
                && (!op.terms.len().is_multiple_of(columns * columns) || columns * columns > SHOWN) =>
        {
            picture(ui, &op.terms, columns);
        }
        // Squares (a patch, a kernel, a window per channel) as numbers, the labels on hover.
        Some(columns) if columns > 0 => {
            let per_square = columns * columns;
            let squares = SHOWN / per_square + 1;
            ui.horizontal_wrapped(|ui| {
                for (square, terms) in op.terms.chunks(per_square).take(squares).enumerate() {
                    egui::Grid::new(("steps-grid", ui.id(), k, square)).spacing([6.0, 2.0]).show(ui, |ui| {
                        for row in terms.chunks(columns) {
                            for (label, value) in row {
                                let text = RichText::new(format!("{value:+.3}")).monospace();
                                let text =
                                    if label.ends_with("(the largest)") { text.strong().underline() } else { text };
                                ui.label(text).on_hover_text(label);
                            }
                            ui.end_row();
                        }
                    });
                    ui.add_space(12.0);
                }
            });
            if op.terms.len() > squares * per_square {
                ui.weak(format!("... and {} more values (other channels)", op.terms.len() - squares * per_square));
            }
        }
        _ => {
            // A long sum: its largest terms that are not 0 (by size), in their order; the rest
            // counted.
            let long = op.terms.len() > SHOWN + SHOWN / 3;
            let mut shown: Vec<usize> = (0..op.terms.len()).collect();
            if long {
                shown.retain(|&i| op.terms[i].1 != 0.0);
                shown.sort_by(|&a, &b| op.terms[b].1.abs().total_cmp(&op.terms[a].1.abs()));
                shown.truncate(SHOWN);
                shown.sort_unstable();
            }
            if !shown.is_empty() {
                ui.horizontal_wrapped(|ui| {
                    ui.spacing_mut().item_spacing.x = 10.0;
                    for &i in &shown {
                        let (label, value) = &op.terms[i];
                        ui.add(
                            egui::Label::new(RichText::new(format!("{label} = {}", number(*value))).monospace())
                                .extend(),
                        );
                    }
                });
            }
            if long {
                let zeros = op.terms.iter().filter(|t| t.1 == 0.0).count();
                ui.weak(format!(
                    "the {} largest of {} terms shown; {} more are smaller{}",
                    shown.len(),
                    op.terms.len(),
                    op.terms.len() - shown.len() - zeros,
                    if zeros > 0 { format!(", and {zeros} are exactly 0") } else { String::new() }
                ));
            }
        }
    }
}

/// Values laid out `columns` wide as coloured squares (red above 0, blue below, the strongest
/// full), with the value under the pointer shown.
fn picture(ui: &mut egui::Ui, terms: &[(String, f32)], columns: usize) {
    let rows = terms.len().div_ceil(columns);
    let cell = (360.0 / columns.max(rows) as f32).clamp(4.0, 16.0);
    let (rect, response) =
        ui.allocate_exact_size(egui::vec2(cell * columns as f32, cell * rows as f32), egui::Sense::hover());
    let top = terms.iter().map(|t| t.1.abs()).fold(0.0f32, f32::max).max(f32::MIN_POSITIVE);
    let painter = ui.painter_at(rect);
    for (i, (_, v)) in terms.iter().enumerate() {
        let at = rect.min + egui::vec2((i % columns) as f32 * cell, (i / columns) as f32 * cell);
        let strength = (v.abs() / top).sqrt();
        let full = if *v >= 0.0 { egui::Color32::from_rgb(215, 48, 39) } else { egui::Color32::from_rgb(49, 104, 189) };
        let colour = egui::Color32::from_gray(245).lerp_to_gamma(full, strength);
        painter.rect_filled(egui::Rect::from_min_size(at, egui::vec2(cell, cell)), 0.0, colour);
    }
    painter.rect_stroke(rect, 0.0, egui::Stroke::new(1.0, ui.visuals().weak_text_color()), egui::StrokeKind::Outside);
    if let Some(pos) = response.hover_pos() {
        let (x, y) = (((pos.x - rect.min.x) / cell) as usize, ((pos.y - rect.min.y) / cell) as usize);
        if let Some((label, v)) = terms.get(y * columns + x) {
            let text = format!("{label} = {}", number(*v));
            response.on_hover_text_at_pointer(text);
        }
    }
    ui.weak(format!("{} values, {columns} a row: red above 0, blue below; point at one to read it", terms.len()));
}
