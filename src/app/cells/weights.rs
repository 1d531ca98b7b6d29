//! The weights cell: every parameter tensor at the chosen moment. Convolution filters as a grid
//! of small images (the first layer's in the input's own space, in colour for colour images),
//! dense weights as a heatmap (or, for a layer that reads an image directly, each unit's
//! weights as a picture in the image's space), biases as bars, and a histogram of every tensor.

use eframe::egui::{self, Vec2};
use glassbox_engine::train::Inspection;

use super::inspecting::{self, image_shape};
use super::CellContext;
use crate::app::widgets::heatmap::{self, Scale};

/// Filters (or kernels) shown per tensor at most.
const FILTERS_SHOWN: usize = 128;

pub(super) fn show(ui: &mut egui::Ui, name: &str, cx: &mut CellContext<'_>) {
    let Some(run) = cx.runs.get(name) else {
        super::unknown_model(ui, name);
        return;
    };
    let Some(inspection) = inspecting::header(ui, name, run, cx, false) else { return };
    let Some(def) = cx.notebook.model(name) else { return };
    let input_image = cx.splits.and_then(|s| image_shape(&s.test.shape));
    // Tensors in the graph's order (the map is sorted by name).
    let order: Vec<&str> = def.graph.nodes.iter().map(|n| n.id.as_str()).collect();
    let mut names: Vec<&String> = inspection.weights.keys().collect();
    names.sort_by_key(|n| {
        let node = glassbox_engine::inspect::param_node(n);
        // A layer's weight first, then its bias and the rest.
        (order.iter().position(|&o| o == node).unwrap_or(usize::MAX), !n.ends_with(".weight"), (*n).clone())
    });
    if names.is_empty() {
        ui.weak(format!("{name} has no weights (no Dense, convolution or normalisation layer)."));
    }
    for tensor in names {
        let values = &inspection.weights[tensor];
        let shape = inspection.shapes.get(tensor).cloned().unwrap_or_else(|| vec![values.len()]);
        ui.separator();
        let scale = Scale::of(values);
        ui.horizontal_wrapped(|ui| {
            ui.strong(tensor);
            ui.weak(format!(
                "{} · {} values · {}",
                glassbox_engine::graph::shape_text(&shape),
                values.len(),
                scale.describe()
            ));
        });
        let node = def.graph.node(glassbox_engine::inspect::param_node(tensor));
        if let (Some(node), [rows, cols]) = (node, shape.as_slice()) {
            if matches!(node.layer, glassbox_engine::graph::LayerSpec::Embedding { .. }) {
                embedding_plane(ui, cx, (tensor, inspection.id), values, [*rows, *cols]);
            }
        }
        ui.horizontal(|ui| {
            ui.vertical(|ui| {
                ui.set_max_width(ui.available_width() - 190.0);
                picture(ui, cx, inspection, tensor, values, &shape, input_image);
            });
            ui.vertical(|ui| {
                ui.weak("histogram");
                heatmap::histogram(ui, values, 30, Vec2::new(170.0, 60.0));
            });
        });
    }
}

fn picture(
    ui: &mut egui::Ui,
    cx: &mut CellContext<'_>,
    inspection: &Inspection,
    tensor: &str,
    values: &[f32],
    shape: &[usize],
    input_image: Option<[usize; 3]>,
) {
    let key = format!("weights/{tensor}");
    let version = inspection.id;
    let tooltip = |ui: &egui::Ui, text: String| {
        egui::Tooltip::always_open(ui.ctx().clone(), ui.layer_id(), ui.id().with("hover"), egui::PopupAnchor::Pointer)
            .show(|ui| ui.label(text));
    };
    match *shape {
        // Convolution: [out, in, kh, kw].
        [out, inputs, kh, kw] => {
            let per = inputs * kh * kw;
            if inputs == 3 && input_image.is_some_and(|[c, ..]| c == 3) {
                ui.weak("Each filter in colour, as it looks at the image:");
                rgb_filters(ui, cx, &key, version, values, [out.min(FILTERS_SHOWN), kh, kw], per);
            } else {
                let count = (out * inputs).min(FILTERS_SHOWN);
                let first = if inputs == 1 {
                    "Each filter, in the input's own space:"
                } else {
                    "Each kernel (filter, input channel):"
                };
                ui.weak(first);
                let size = if inputs <= 3 { 52.0 } else { 36.0 };
                if let Some(h) = heatmap::map_grid(ui, cx.textures, &key, version, values, [count, kh, kw], true, size)
                {
                    tooltip(
                        ui,
                        format!(
                            "filter {}, input channel {}, row {}, column {}: {:.4}",
                            h.map / inputs,
                            h.map % inputs,
                            h.row,
                            h.col,
                            h.value
                        ),
                    );
                }
                if out * inputs > count {
                    ui.weak(format!("(the first {count} of {} kernels)", out * inputs));
                }
            }
        }
        // Dense: [in, out].
        [inputs, out] => {
            if let Some([1, h, w]) = input_image.filter(|&[c, h, w]| c * h * w == inputs) {
                ui.weak("Each unit's weights as a picture over the input (red: ink there raises the unit; blue: lowers it):");
                let count = out.min(FILTERS_SHOWN);
                let mut maps = Vec::with_capacity(count * inputs);
                for u in 0..count {
                    maps.extend((0..inputs).map(|i| values[i * out + u]));
                }
                if let Some(hv) = heatmap::map_grid(ui, cx.textures, &key, version, &maps, [count, h, w], true, 48.0) {
                    tooltip(ui, format!("unit {}, pixel row {}, column {}: {:.4}", hv.map, hv.row, hv.col, hv.value));
                }
                if out > count {
                    ui.weak(format!("(the first {count} of {out} units)"));
                }
            } else {
                let features = cx.splits.map(|s| s.test.features.clone()).unwrap_or_default();
                if features.len() == inputs {
                    ui.weak(format!("Rows: the inputs ({}); columns: the {out} units.", features.join(", ")));
                } else {
                    ui.weak(format!("Rows: the {inputs} inputs; columns: the {out} units."));
                }
                let width = (out as f32 * 10.0).clamp(60.0, ui.available_width().max(60.0));
                let height = (inputs as f32 * 10.0).clamp(20.0, 260.0);
                let (_, hover) = heatmap::image(
                    ui,
                    cx.textures,
                    &key,
                    version,
                    values,
                    [inputs, out],
                    Scale::of(values),
                    Vec2::new(width, height),
                );
                if let Some(hv) = hover {
                    tooltip(ui, format!("input {} to unit {}: {:.4}", hv.row, hv.col, hv.value));
                }
            }
        }
        _ => {
            if let Some((i, v)) = heatmap::bar_strip(ui, values, &[], 36.0) {
                tooltip(ui, format!("{tensor}[{i}] = {v:.4}"));
            }
        }
    }
}

/// Tokens whose vectors are drawn on the plane at most (the vocabulary's first, the most frequent).
const TOKENS_SHOWN: usize = 300;

/// An embedding's token vectors on their first two principal components, each labelled with its
/// token: tokens the model treats alike end up near each other.
fn embedding_plane(
    ui: &mut egui::Ui,
    cx: &CellContext<'_>,
    (tensor, version): (&str, u64),
    values: &[f32],
    [rows, cols]: [usize; 2],
) {
    // Worked out once per inspection, not every frame (a large vocabulary's covariance costs).
    type Plane = std::sync::Arc<(Vec<[f32; 2]>, [f32; 2])>;
    let cache_id = ui.id().with(("embedding-plane", tensor));
    let cached = ui.data(|d| d.get_temp::<(u64, Plane)>(cache_id)).filter(|(v, _)| *v == version);
    let plane = cached.map_or_else(
        || {
            let plane: Plane = std::sync::Arc::new(glassbox_engine::inspect::principal_plane(values, rows, cols));
            ui.data_mut(|d| d.insert_temp(cache_id, (version, plane.clone())));
            plane
        },
        |(_, plane)| plane,
    );
    let (points, shares) = (&plane.0, plane.1);
    let vocab = cx.splits.and_then(|s| s.test.vocab.as_ref());
    let token = |i: usize| -> String {
        let t = vocab.and_then(|v| v.tokens().get(i)).cloned().unwrap_or_else(|| i.to_string());
        match t.as_str() {
            " " => "␣".to_owned(),
            _ => t,
        }
    };
    ui.weak(format!(
        "Each token's vector on the plane of its two main directions (PCA: {:.0}% and {:.0}% of the spread); tokens the model treats alike lie close together.",
        shares[0] * 100.0,
        shares[1] * 100.0
    ));
    let shown = rows.min(TOKENS_SHOWN);
    let text_color = ui.visuals().text_color();
    egui_plot::Plot::new(("embedding-plane", tensor))
        .height(300.0)
        .width(ui.available_width().min(520.0))
        .data_aspect(1.0)
        .allow_scroll(false)
        .show_axes([false, false])
        .show(ui, |plot| {
            let at: Vec<[f64; 2]> = points[..shown].iter().map(|p| [f64::from(p[0]), f64::from(p[1])]).collect();
            plot.points(egui_plot::Points::new("tokens", at.clone()).radius(2.5));
            for (i, p) in at.iter().enumerate() {
                let label = egui::RichText::new(token(i)).size(12.0).color(text_color);
                plot.text(
                    egui_plot::Text::new("token", egui_plot::PlotPoint::new(p[0], p[1]), label)
                        .anchor(egui::Align2::LEFT_BOTTOM),
                );
            }
        });
    if rows > shown {
        ui.weak(format!("(the {shown} most frequent of {rows} tokens)"));
    }
}

/// Colour filters ([3, kh, kw] each) as RGB pictures, each scaled symmetrically around 0.
fn rgb_filters(
    ui: &mut egui::Ui,
    cx: &mut CellContext<'_>,
    key: &str,
    version: u64,
    values: &[f32],
    [count, kh, kw]: [usize; 3],
    per: usize,
) {
    ui.horizontal_wrapped(|ui| {
        for f in 0..count {
            let filter = &values[f * per..(f + 1) * per];
            let m = filter.iter().fold(1e-12f32, |m, v| m.max(v.abs()));
            let level = |v: f32| ((v / m * 0.5 + 0.5).clamp(0.0, 1.0) * 255.0) as u8;
            let texture = cx.textures.get(ui.ctx(), &format!("{key}/{f}"), version, [kw, kh], || {
                (0..kh * kw)
                    .map(|p| {
                        egui::Color32::from_rgb(
                            level(filter[p]),
                            level(filter[kh * kw + p]),
                            level(filter[2 * kh * kw + p]),
                        )
                    })
                    .collect()
            });
            ui.add(egui::Image::new((texture.id(), Vec2::splat(52.0)))).on_hover_text(format!("filter {f}"));
        }
    });
}
