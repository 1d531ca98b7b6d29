//! The activations cell: every node's output for the chosen sample at the chosen moment.
//! Feature maps as a grid of small images, vectors as bar strips, sequences (time x feature) as
//! heatmaps; for 2-D data each hidden neuron's response over the whole plane, as TensorFlow
//! Playground draws its neurons. Hovering shows the value and where it is; selecting a node in
//! the graph editor scrolls here to it.

use eframe::egui::{self, Vec2};
use glassbox_engine::graph::shape_text;
use glassbox_engine::tensor::NodeOutput;
use glassbox_engine::train::{Grid, Inspection};

use super::inspecting;
use super::CellContext;
use crate::app::widgets::heatmap::{self, Scale};

/// Feature maps shown per node at most (the rest are counted).
const MAPS_SHOWN: usize = 128;
/// Neurons over the plane shown per node at most.
const NEURONS_SHOWN: usize = 64;

pub(super) fn show(ui: &mut egui::Ui, name: &str, cx: &mut CellContext<'_>) {
    let Some(run) = cx.runs.get(name) else {
        super::unknown_model(ui, name);
        return;
    };
    let Some(inspection) = inspecting::header_and_chooser(ui, name, run, cx, "activations-chooser") else { return };
    let shared_id = ui.id().with("shared-scale");
    let mut shared = ui.data(|d| d.get_temp::<bool>(shared_id)).unwrap_or(true);
    let planar = cx.splits.is_some_and(|s| s.test.shape == [2]);
    let plane_id = ui.id().with("over-plane");
    let mut over_plane = ui.data(|d| d.get_temp::<bool>(plane_id)).unwrap_or(true);
    ui.horizontal_wrapped(|ui| {
        ui.checkbox(&mut shared, "one colour scale per layer").on_hover_text(
            "On: all of a layer's maps share one scale, so maps compare with each other. Off: each map is scaled to its own range, so faint maps show their pattern.",
        );
        if planar {
            ui.checkbox(&mut over_plane, "neurons over the plane").on_hover_text(
                "Each unit's output at every point of the plane, as TensorFlow Playground draws its neurons",
            );
        }
        ui.weak("Colours: black 0 to yellow the largest for values that are never negative; blue negative, white 0, red positive otherwise.");
    });
    ui.data_mut(|d| {
        d.insert_temp(shared_id, shared);
        d.insert_temp(plane_id, over_plane);
    });
    // The node selected in the graph editor is framed; its details there can ask to scroll here.
    let selected = cx.editors.get(name).and_then(|e| e.inspected.clone());
    let jump: Option<String> = ui.data_mut(|d| d.remove_temp(super::model::activation_jump(name)));
    let def = cx.notebook.model(name);
    let classes: Vec<String> = cx.splits.map(|s| s.test.classes.clone()).unwrap_or_default();
    let features: Vec<String> = cx.splits.map(|s| s.test.features.clone()).unwrap_or_default();
    let grid = run
        .record
        .grid
        .as_ref()
        .filter(|g| g.request.neurons && planar && over_plane && g.request.moment == run.inspector.moment);
    let last = inspection.outputs.len().saturating_sub(1);
    for (k, output) in inspection.outputs.iter().enumerate() {
        let kind =
            def.and_then(|d| d.graph.node(&output.id)).map_or_else(String::new, |n| format!("{:?}", n.layer.kind()));
        let is_selected = selected.as_deref() == Some(output.id.as_str());
        let frame = egui::Frame::new().inner_margin(4.0).stroke(if is_selected {
            ui.visuals().selection.stroke
        } else {
            egui::Stroke::NONE
        });
        let response = frame
            .show(ui, |ui| {
                ui.horizontal(|ui| {
                    ui.strong(&output.id);
                    ui.weak(format!("{kind} · {}", shape_text(&output.shape)));
                });
                // The output's bars are named by class, the input's by feature (a table's columns).
                let labels = if k == last {
                    classes.as_slice()
                } else if k == 0 && features.len() == output.values.len() {
                    features.as_slice()
                } else {
                    &[]
                };
                node_view(ui, cx, inspection, output, shared, labels);
                states_view(ui, cx, inspection, &output.id);
                if k == last && !classes.is_empty() && output.values.len() == classes.len() {
                    let p = super::predictions::softmax(&output.values);
                    let best = (0..p.len()).max_by(|&a, &b| p[a].total_cmp(&p[b])).unwrap_or(0);
                    ui.label(format!(
                        "predicts {} ({:.1}%, the softmax of these outputs)",
                        classes[best],
                        p[best] * 100.0
                    ));
                }
                if let Some(grid) = grid {
                    if let Some(over) = grid.nodes.iter().find(|n| n.id == output.id) {
                        let point = match run.inspector.sample {
                            crate::app::inspect::Sample::Point(p) => Some(p),
                            _ => None,
                        };
                        neurons(ui, cx, grid, over, point);
                    }
                }
            })
            .response;
        if jump.as_deref() == Some(output.id.as_str()) {
            response.scroll_to_me(Some(egui::Align::TOP));
        }
    }
}

/// One node's output, drawn by its shape.
fn node_view(
    ui: &mut egui::Ui,
    cx: &mut CellContext<'_>,
    inspection: &Inspection,
    output: &NodeOutput,
    shared: bool,
    labels: &[String],
) {
    let key = format!("act/{}/{}", inspection.id, output.id);
    match *output.shape.as_slice() {
        [c, h, w] if h * w > 1 => {
            let cell = if h.max(w) >= 20 {
                56.0
            } else if h.max(w) >= 8 {
                44.0
            } else {
                28.0
            };
            let shown = c.min(MAPS_SHOWN);
            if let Some(hover) =
                heatmap::map_grid(ui, cx.textures, &key, inspection.id, &output.values, [shown, h, w], shared, cell)
            {
                egui::Tooltip::always_open(
                    ui.ctx().clone(),
                    ui.layer_id(),
                    ui.id().with("hover"),
                    egui::PopupAnchor::Pointer,
                )
                .show(|ui| {
                    ui.label(format!("map {}, row {}, column {}: {:.4}", hover.map, hover.row, hover.col, hover.value))
                });
            }
            if c > shown {
                ui.weak(format!("(the first {shown} of {c} maps)"));
            }
        }
        [t, f] if t * f > 1 => {
            let scale = Scale::of(&output.values);
            let size = Vec2::new(
                (f as f32 * 8.0).clamp(80.0, ui.available_width().min(600.0)),
                (t as f32 * 8.0).clamp(24.0, 320.0),
            );
            let (_, hover) = heatmap::image(ui, cx.textures, &key, inspection.id, &output.values, [t, f], scale, size);
            if let Some(hover) = hover {
                egui::Tooltip::always_open(
                    ui.ctx().clone(),
                    ui.layer_id(),
                    ui.id().with("hover"),
                    egui::PopupAnchor::Pointer,
                )
                .show(|ui| ui.label(format!("position {}, feature {}: {:.4}", hover.row, hover.col, hover.value)));
            }
            ui.weak(format!("rows: the {t} positions; columns: the {f} features · {}", scale.describe()));
        }
        _ => {
            if let Some((i, v)) = heatmap::bar_strip(ui, &output.values, labels, 44.0) {
                let name = labels.get(i).map_or_else(|| format!("unit {i}"), |l| format!("unit {i} ({l})"));
                egui::Tooltip::always_open(
                    ui.ctx().clone(),
                    ui.layer_id(),
                    ui.id().with("hover"),
                    egui::PopupAnchor::Pointer,
                )
                .show(|ui| ui.label(format!("{name}: {v:.4}")));
            }
        }
    }
}

/// What a recurrent layer kept over time (its hidden state and, for an LSTM or GRU, its gates),
/// as time x unit heatmaps under the layer's output; an attention layer points to the attention
/// cell.
fn states_view(ui: &mut egui::Ui, cx: &mut CellContext<'_>, inspection: &Inspection, node: &str) {
    let prefix = format!("{node}.");
    if !inspection.extras.iter().any(|e| e.id.starts_with(&prefix)) {
        return;
    }
    let tokens = super::attention::token_labels(cx, inspection);
    for extra in inspection.extras.iter().filter(|e| e.id.starts_with(&prefix)) {
        let what = &extra.id[prefix.len()..];
        let [t, units] = extra.shape[..] else {
            if what == "attention" {
                ui.weak("Its attention maps (where each token looks) are in the Attention cell (add one with \"+ cell\" if the notebook has none).");
            }
            continue;
        };
        let Some(values) = extra.values.get(..t * units) else { continue };
        let (title, gate) = match what {
            "hidden" => ("hidden state h over time", false),
            "cell" => ("cell state c over time (the LSTM's memory)", false),
            "forget_gate" => ("forget gate f: 1 keeps the memory, 0 forgets it", true),
            "input_gate" => ("input gate i: how much of the new input is written", true),
            "output_gate" => ("output gate o: how much of the memory is shown", true),
            "reset_gate" => ("reset gate r: how much of the old state the candidate sees", true),
            "update_gate" => ("update gate z: 1 keeps the old state, 0 takes the new", true),
            other => (other, false),
        };
        let scale = if gate { Scale { low: 0.0, high: 1.0, diverging: false } } else { Scale::of(values) };
        ui.label(title);
        let size = Vec2::new(
            (units as f32 * 8.0).clamp(80.0, ui.available_width().min(600.0)),
            (t as f32 * if t <= 24 { 14.0 } else { 10.0 }).clamp(24.0, 340.0),
        );
        let key = format!("state/{}/{}", inspection.id, extra.id);
        // The tokens read at each step, beside the rows.
        let row_height = size.y / t as f32;
        let hover = ui
            .horizontal_top(|ui| {
                if row_height >= 9.0 {
                    let font = egui::FontId::monospace((row_height * 0.8).min(12.0));
                    let widest = tokens.iter().map(|s| s.chars().count()).max().unwrap_or(1) as f32;
                    let (rect, _) = ui
                        .allocate_exact_size(Vec2::new(widest * font.size * 0.62 + 4.0, size.y), egui::Sense::hover());
                    for (r, token) in tokens.iter().take(t).enumerate() {
                        let y = rect.top() + (r as f32 + 0.5) * row_height;
                        ui.painter().text(
                            egui::pos2(rect.right() - 2.0, y),
                            egui::Align2::RIGHT_CENTER,
                            token,
                            font.clone(),
                            ui.visuals().text_color(),
                        );
                    }
                }
                heatmap::image(ui, cx.textures, &key, inspection.id, values, [t, units], scale, size).1
            })
            .inner;
        if let Some(hover) = hover {
            let token = tokens.get(hover.row).map_or_else(String::new, |s| format!(" (\"{s}\")"));
            egui::Tooltip::always_open(
                ui.ctx().clone(),
                ui.layer_id(),
                ui.id().with("hover"),
                egui::PopupAnchor::Pointer,
            )
            .show(|ui| ui.label(format!("step {}{token}, unit {}: {:.4}", hover.row + 1, hover.col, hover.value)));
        }
        ui.weak(format!(
            "rows: the {t} steps (the tokens read), first at the top; columns: the {units} units · {}",
            scale.describe()
        ));
    }
}

/// Each unit of a node over the plane: small heatmaps, the plane's bottom at the bottom.
fn neurons(ui: &mut egui::Ui, cx: &mut CellContext<'_>, grid: &Grid, over: &NodeOutput, point: Option<[f32; 2]>) {
    let n = grid.request.n;
    let units: usize = over.shape.iter().product();
    if units == 0 || over.values.len() != units * n * n {
        return;
    }
    ui.weak(format!("Each unit over the plane (step {}):", grid.step));
    let shown = units.min(NEURONS_SHOWN);
    let version = grid.step as u64 ^ (u64::from(grid.request.moment.is_some()) << 63);
    ui.horizontal_wrapped(|ui| {
        for u in 0..shown {
            // Rows of the grid go from the bottom up; an image's from the top down. The picture
            // is made only when the grid is new.
            let key = format!("plane/{}/{u}", over.id);
            let texture = cx.textures.get(ui.ctx(), &key, version, [n, n], || {
                let mut picture = Vec::with_capacity(n * n);
                for row in (0..n).rev() {
                    for col in 0..n {
                        picture.push(over.values[(row * n + col) * units + u]);
                    }
                }
                let scale = Scale::of(&picture);
                picture.iter().map(|&v| scale.color(v)).collect()
            });
            let response = ui.add(egui::Image::new((texture.id(), Vec2::splat(56.0))).sense(egui::Sense::hover()));
            if let Some(p) = point {
                // The chosen point, so a bar above can be found on the map.
                let (low, high) = (grid.request.low, grid.request.high);
                let r = response.rect;
                let at = egui::pos2(
                    r.left() + (p[0] - low[0]) / (high[0] - low[0]).max(1e-6) * r.width(),
                    r.bottom() - (p[1] - low[1]) / (high[1] - low[1]).max(1e-6) * r.height(),
                );
                if r.contains(at) {
                    ui.painter().circle_stroke(at, 3.5, (1.5, egui::Color32::BLACK));
                    ui.painter().circle_stroke(at, 2.0, (1.0, egui::Color32::WHITE));
                }
            }
            if let Some(p) = response.hover_pos() {
                let col = (((p.x - response.rect.left()) / response.rect.width()) * n as f32) as usize;
                let row =
                    n - 1 - ((((p.y - response.rect.top()) / response.rect.height()) * n as f32) as usize).min(n - 1);
                let (low, high) = (grid.request.low, grid.request.high);
                let at = |lo: f32, hi: f32, i: usize| lo + (hi - lo) * i as f32 / (n - 1).max(1) as f32;
                let value = over.values[(row * n + col.min(n - 1)) * units + u];
                response.on_hover_text(format!(
                    "{} unit {u} at ({:.2}, {:.2}): {value:.4}",
                    over.id,
                    at(low[0], high[0], col.min(n - 1)),
                    at(low[1], high[1], row)
                ));
            }
        }
    });
    if units > shown {
        ui.weak(format!("(the first {shown} of {units} units)"));
    }
}
