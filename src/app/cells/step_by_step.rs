//! The step-by-step cell: one output value of a chosen node, worked out with the chosen sample's
//! real numbers one operation at a time (a convolution's patch, kernel, products, sum and bias; a
//! dense unit's inputs, weights and sum; a pooling window; an activation; a softmax), the formula
//! beside the numbers, Back and Next to move through the operations. It follows the sample
//! chooser and the timeline like the other inspection cells.

use eframe::egui::{self, RichText};
use glassbox_engine::explain::steps::{walkthrough, Walkthrough};

use super::{inspecting, CellContext};
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
                    next = StepView { node: Some((*id).to_owned()), index: 0 };
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
            next = StepView { node: Some(node.to_owned()), index: at };
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
        Ok(walk) => operations(ui, index, &walk),
        Err(e) => {
            ui.colored_label(ui.visuals().warn_fg_color, e);
        }
    }
}

/// The walkthrough's operations up to the current one, with Back and Next.
fn operations(ui: &mut egui::Ui, cell: usize, walk: &Walkthrough) {
    let count = walk.operations.len();
    let at_id = ui.id().with(("steps-at", cell, &walk.node, &walk.position));
    let mut at: usize = ui.data(|d| d.get_temp(at_id)).unwrap_or(count - 1).min(count - 1);
    ui.horizontal(|ui| {
        ui.strong(format!("{} ({}) at {:?}", walk.node, walk.layer, walk.position));
        if ui.add_enabled(at > 0, egui::Button::new("◀ Back")).clicked() {
            at -= 1;
        }
        ui.label(format!("operation {} of {count}", at + 1));
        if ui.add_enabled(at + 1 < count, egui::Button::new("Next ▶")).clicked() {
            at += 1;
        }
    });
    ui.data_mut(|d| d.insert_temp(at_id, at));
    for (k, op) in walk.operations.iter().enumerate().take(at + 1) {
        ui.separator();
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new(format!("{}.", k + 1)).strong());
            ui.label(&op.what);
        });
        ui.label(RichText::new(&op.formula).monospace().size(15.0));
        match op.columns {
            // A patch, a kernel or a window: laid out as the picture it is, each channel's
            // square apart, the labels on hover.
            Some(columns) if columns > 0 => {
                let per_square = columns * columns;
                ui.horizontal_wrapped(|ui| {
                    for (square, terms) in op.terms.chunks(per_square).take(SHOWN / per_square.max(1) + 1).enumerate() {
                        egui::Grid::new(("steps-grid", cell, k, square)).spacing([6.0, 2.0]).show(ui, |ui| {
                            for row in terms.chunks(columns) {
                                for (label, value) in row {
                                    ui.label(RichText::new(format!("{value:+.3}")).monospace()).on_hover_text(label);
                                }
                                ui.end_row();
                            }
                        });
                        ui.add_space(12.0);
                    }
                });
                let shown = (SHOWN / per_square.max(1) + 1) * per_square;
                if op.terms.len() > shown {
                    ui.weak(format!("... and {} more values (other channels)", op.terms.len() - shown));
                }
            }
            _ => {
                ui.horizontal_wrapped(|ui| {
                    ui.spacing_mut().item_spacing.x = 10.0;
                    for (label, value) in op.terms.iter().take(SHOWN) {
                        ui.label(RichText::new(format!("{label} = {value:.4}")).monospace());
                    }
                    if op.terms.len() > SHOWN {
                        ui.weak(format!("... and {} more", op.terms.len() - SHOWN));
                    }
                });
            }
        }
        if op.result.is_finite() {
            ui.label(RichText::new(format!("= {:.5}", op.result)).monospace().strong());
        }
    }
    if at + 1 == count {
        let last = walk.operations[count - 1].result;
        ui.label(format!(
            "The model computed {:.5} here{}.",
            walk.recorded,
            if (last - walk.recorded).abs() <= 1e-4 * (1.0 + walk.recorded.abs()) { ": the same number" } else { "" }
        ));
    }
}
