//! The attribution cell: which parts of the chosen sample moved the model's score for a class,
//! by two to four methods side by side (saliency, gradient x input, SmoothGrad, Integrated
//! Gradients, Grad-CAM, occlusion, LIME, Kernel SHAP). An image gets each map over it (an
//! opacity slider; signed or absolute values), a text gets its tokens coloured, a table gets a
//! bar per feature. Integrated Gradients and Kernel SHAP say whether their shares add up to the
//! score's change; the randomisation check says whether a map changes when the weights are
//! random. It follows the sample chooser and the timeline like the other inspection cells, so a
//! class can watch the explanation sharpen as the model learns.

use eframe::egui::{self, Color32, RichText, Sense, Vec2};
use glassbox_engine::explain::global::{GlobalView, SurrogateTree, TreeNode};
use glassbox_engine::explain::visualise::Unit;
use glassbox_engine::explain::{Attribution, Baseline, InputKind, Method};
use glassbox_engine::train::Explanation;

use super::{inspecting, CellContext};
use crate::app::inspect::ExplainOptions;
use crate::app::widgets::heatmap::Scale;
use crate::app::AppCommand;

/// The most maps a cell shows side by side.
const MOST: usize = 4;

/// How a cell draws its maps (view state, kept in egui's memory per cell).
#[derive(Clone, Copy, Debug, PartialEq)]
struct Look {
    opacity: f32,
    absolute: bool,
}

impl Default for Look {
    fn default() -> Self {
        Self { opacity: 0.8, absolute: false }
    }
}

pub(super) fn show(ui: &mut egui::Ui, index: usize, name: &str, methods: &[Method], cx: &mut CellContext<'_>) {
    let Some(run) = cx.runs.get(name) else {
        super::unknown_model(ui, name);
        return;
    };
    let _ = inspecting::header_and_chooser(ui, name, run, cx, "attribution-chooser");
    let shown = run.inspector.shown_explanation(run.record.explanation.as_ref());
    let kind = shown.map(|(e, _)| &e.kind);
    method_toggles(ui, index, methods, kind, cx);
    let look_id = ui.id().with(("attribution-look", index));
    let mut look: Look = ui.data(|d| d.get_temp(look_id)).unwrap_or_default();
    options(ui, name, &run.inspector.explain, kind, &mut look, cx);
    ui.data_mut(|d| d.insert_temp(look_id, look));
    if methods.is_empty() {
        ui.weak("Choose a method above to explain the sample.");
        return;
    }
    if run.inspector.explaining(run.record.explanation.as_ref()).is_some() {
        ui.horizontal(|ui| {
            let done = run.record.explaining.map_or(0.0, |(_, d)| d);
            ui.add(
                egui::ProgressBar::new(done).desired_width(220.0).text(format!("explaining... {:.0}%", 100.0 * done)),
            );
            if ui.button("Stop").on_hover_text("Stop working out these maps").clicked() {
                cx.out.push(AppCommand::CancelExplanation(name.to_owned()));
            }
        });
    }
    let Some((explanation, key)) = shown else {
        ui.weak("The maps appear here once the model has looked at the sample.");
        return;
    };
    let classes = cx.splits.map(|s| s.test.classes.clone()).unwrap_or_default();
    let class = |c: usize| classes.get(c).cloned().unwrap_or_else(|| format!("class {c}"));
    let first = explanation.maps.iter().flatten().next();
    if let Some(a) = first {
        let colours = if look.absolute {
            "black to yellow: how much each part moved it, whichever way"
        } else {
            "red raised it, blue lowered it (maps that are never negative run from black to yellow)"
        };
        ui.label(format!(
            "Explaining the score of \"{}\" (the model says \"{}\"): {colours}; each map is scaled to its own largest value.",
            class(a.target),
            class(a.predicted)
        ));
    }
    let wanted: Vec<(usize, Method)> =
        methods.iter().filter_map(|m| key.methods.iter().position(|k| k == m).map(|k| (k, *m))).collect();
    if wanted.is_empty() {
        return;
    }
    match &explanation.kind {
        InputKind::Image { channels, height, width } => {
            image_maps(ui, cx, explanation, &wanted, [*channels, *height, *width], look, index);
            ui.separator();
            excite(ui, name, run, cx, explanation, [*channels, *height, *width], index);
        }
        InputKind::Tokens { .. } => token_maps(ui, cx, explanation, &wanted, look),
        InputKind::Table { .. } => {
            feature_bars(ui, cx, explanation, &wanted, look);
            if let Some(global) = &explanation.global {
                ui.separator();
                match global {
                    Ok(view) => global_view(ui, cx, view, &class),
                    Err(e) => {
                        ui.colored_label(ui.visuals().warn_fg_color, e);
                    }
                }
            }
        }
    }
}

/// Feature visualisation: choose a class or a channel of a layer of maps, and the input that
/// excites it most is worked out (gradient ascent from a grey image) and shown.
fn excite(
    ui: &mut egui::Ui,
    name: &str,
    run: &crate::app::runs::ModelRun,
    cx: &mut CellContext<'_>,
    explanation: &Explanation,
    shape: [usize; 3],
    cell: usize,
) {
    let classes = cx.splits.map(|s| s.test.classes.clone()).unwrap_or_default();
    let layers: Vec<(String, usize)> = run
        .record
        .inspection
        .as_ref()
        .map(|i| {
            i.outputs
                .iter()
                .skip(1)
                .filter_map(|o| match o.shape[..] {
                    [k, h, w] if h > 1 && w > 1 => Some((o.id.clone(), k)),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    let mut options = run.inspector.explain.clone();
    let describe = |unit: &Option<Unit>| match unit {
        None => "nothing (off)".to_owned(),
        Some(Unit::Class(c)) => format!("class {}", classes.get(*c).cloned().unwrap_or_else(|| c.to_string())),
        Some(Unit::Channel { node, channel }) => format!("{node}, channel {channel}"),
        Some(Unit::Neuron { node, index }) => format!("{node}, unit {index}"),
    };
    ui.horizontal_wrapped(|ui| {
        ui.strong("What excites it?").on_hover_text(
            "Feature visualisation: starting from a grey image, the input is changed step by step (gradient ascent, with a little jitter, blur and a pull back to the average picture) so that the chosen class's score, or a channel's mean activation, grows as much as it can. A channel of the first convolution is often excited most by a flat picture (its filter is a sum over a small patch): later layers and classes show more.",
        );
        egui::ComboBox::from_id_salt(("attribution-excite", name)).selected_text(describe(&options.visualise)).height(600.0).show_ui(
            ui,
            |ui| {
                ui.selectable_value(&mut options.visualise, None, "nothing (off)");
                for c in 0..classes.len() {
                    let unit = Some(Unit::Class(c));
                    let text = describe(&unit);
                    ui.selectable_value(&mut options.visualise, unit, text);
                }
                for (node, _) in &layers {
                    let unit = Some(Unit::Channel { node: node.clone(), channel: 0 });
                    ui.selectable_value(&mut options.visualise, unit, format!("a channel of {node}"));
                }
            },
        );
        if let Some(Unit::Channel { node, channel }) = &mut options.visualise {
            let most = layers.iter().find(|(n, _)| n == node).map_or(1, |(_, k)| *k);
            ui.label("channel");
            ui.add(egui::DragValue::new(channel).range(0..=most.saturating_sub(1)));
        }
    });
    if options != run.inspector.explain {
        cx.out.push(AppCommand::SetExplainOptions { model: name.to_owned(), options });
    }
    match &explanation.visualised {
        Some(Ok(v)) => {
            let pixels = inspecting::sample_pixels(&v.image, shape, cx.ink);
            let key = format!("attribution/{cell}/excite");
            let texture = cx.textures.get(ui.ctx(), &key, explanation.id, [shape[2], shape[1]], || pixels);
            ui.horizontal(|ui| {
                ui.add(egui::Image::new((texture.id(), Vec2::new(160.0, 160.0 * shape[1] as f32 / shape[2] as f32))));
                let (first, last) =
                    (v.activation.first().copied().unwrap_or(0.0), v.activation.last().copied().unwrap_or(0.0));
                ui.label(format!(
                    "{}: from {first:.3} for the grey start to {last:.3} after {} steps.",
                    describe(&Some(v.unit.clone())),
                    v.activation.len().saturating_sub(1)
                ));
            });
        }
        Some(Err(e)) => {
            ui.colored_label(ui.visuals().warn_fg_color, e);
        }
        None => {}
    }
}

/// The whole test set: two rankings of the features and the surrogate tree.
fn global_view(ui: &mut egui::Ui, cx: &CellContext<'_>, view: &GlobalView, class: &dyn Fn(usize) -> String) {
    let names: Vec<String> = cx.splits.map(|s| s.test.features.clone()).unwrap_or_default();
    let name = |i: usize| names.get(i).cloned().unwrap_or_else(|| format!("feature {i}"));
    ui.strong("The whole test set");
    let gap = ui.spacing().item_spacing.x;
    let width = ((ui.available_width() - gap) / 2.0).max(240.0);
    ui.horizontal_wrapped(|ui| {
        ui.vertical(|ui| {
            ui.set_width(width);
            ui.label("Accuracy lost when a feature is shuffled").on_hover_text(
                "Permutation importance: each feature's column is shuffled among the test samples (5 times) and the drop of the model's accuracy averaged",
            );
            ranked_bars(ui, &view.permutation, &name, width, |v| format!("{:+.1} points", 100.0 * v));
        });
        ui.vertical(|ui| {
            ui.set_width(width);
            ui.label("Mean size of the SHAP values").on_hover_text(
                "Kernel SHAP for the predicted class of the first 40 test samples (from the training mean), each feature's |value| averaged",
            );
            ranked_bars(ui, &view.mean_abs_shap, &name, width, |v| format!("{v:.3}"));
        });
    });
    ui.label(format!(
        "A decision tree of depth 3 fitted to the model's answers on the training set: it gives the model's class for {:.0}% of the test samples (its fidelity) and the true class for {:.0}% (the model: {:.0}%). Its thresholds are in the units the model reads (after the dataset's normalisation).",
        100.0 * view.tree.fidelity,
        100.0 * view.tree.accuracy,
        100.0 * view.accuracy
    ));
    tree(ui, &view.tree, &name, class);
}

/// Values as bars from 0, largest first (the 12 largest).
fn ranked_bars(
    ui: &mut egui::Ui,
    values: &[f32],
    name: &dyn Fn(usize) -> String,
    width: f32,
    text: impl Fn(f32) -> String,
) {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&i, &j| values[j].total_cmp(&values[i]));
    let top = values.iter().fold(0.0f32, |m, v| m.max(v.abs())).max(1e-12);
    let label_width = (width * 0.45).min(160.0);
    for &i in order.iter().take(12) {
        let (rect, response) = ui.allocate_exact_size(Vec2::new(width, 16.0), Sense::hover());
        let painter = ui.painter_at(rect);
        painter.text(
            rect.left_center(),
            egui::Align2::LEFT_CENTER,
            name(i),
            egui::FontId::proportional(12.0),
            ui.visuals().text_color(),
        );
        let start = rect.left() + label_width;
        let end = start + (rect.right() - start) * (values[i].max(0.0) / top);
        let bar = egui::Rect::from_x_y_ranges(start..=end.max(start + 1.0), rect.top() + 2.0..=rect.bottom() - 2.0);
        painter.rect_filled(bar, 0.0, ui.visuals().selection.bg_fill);
        response.on_hover_text(format!("{}: {}", name(i), text(values[i])));
    }
}

/// The surrogate tree, drawn top down: a question in each inner box, a class in each leaf.
fn tree(ui: &mut egui::Ui, tree: &SurrogateTree, name: &dyn Fn(usize) -> String, class: &dyn Fn(usize) -> String) {
    // Each node's depth and horizontal slot (leaves one slot each, a question over its answers).
    let mut place = vec![(0usize, 0.0f32); tree.nodes.len()];
    let mut next_leaf = 0.0f32;
    fn walk(t: &SurrogateTree, at: usize, depth: usize, place: &mut [(usize, f32)], next: &mut f32) -> f32 {
        let x = match t.nodes.get(at) {
            Some(TreeNode::Split { left, right, .. }) => {
                let l = walk(t, *left, depth + 1, place, next);
                let r = walk(t, *right, depth + 1, place, next);
                (l + r) / 2.0
            }
            _ => {
                *next += 1.0;
                *next - 1.0
            }
        };
        if let Some(p) = place.get_mut(at) {
            *p = (depth, x);
        }
        x
    }
    if tree.nodes.is_empty() {
        return;
    }
    walk(tree, 0, 0, &mut place, &mut next_leaf);
    let depth = place.iter().map(|p| p.0).max().unwrap_or(0);
    let (slot, level) = ((ui.available_width() / next_leaf.max(1.0)).min(170.0), 58.0);
    let (rect, _) = ui.allocate_exact_size(Vec2::new(slot * next_leaf, level * (depth as f32 + 1.0)), Sense::hover());
    let painter = ui.painter_at(rect);
    let centre = |at: usize| {
        let (d, x) = place[at];
        egui::pos2(rect.left() + slot * (x + 0.5), rect.top() + level * d as f32 + 18.0)
    };
    let line = egui::Stroke::new(1.0, ui.visuals().weak_text_color());
    let font = egui::FontId::proportional(12.0);
    for (at, node) in tree.nodes.iter().enumerate() {
        let c = centre(at);
        let (text, fill) = match node {
            TreeNode::Split { feature, threshold, left, right } => {
                for (child, answer) in [(*left, "yes"), (*right, "no")] {
                    let to = centre(child);
                    painter.line_segment([c + Vec2::new(0.0, 12.0), to - Vec2::new(0.0, 12.0)], line);
                    let mid = c + (to - c) * 0.5;
                    painter.text(
                        mid,
                        egui::Align2::CENTER_CENTER,
                        answer,
                        font.clone(),
                        ui.visuals().weak_text_color(),
                    );
                }
                (format!("{} < {:.3}?", name(*feature), threshold), ui.visuals().faint_bg_color)
            }
            TreeNode::Leaf { class: c } => (class(*c), ui.visuals().selection.bg_fill),
        };
        let galley = painter.layout_no_wrap(text, font.clone(), ui.visuals().text_color());
        let boxed = egui::Rect::from_center_size(c, galley.size() + Vec2::new(10.0, 6.0));
        painter.rect_filled(boxed, 4.0, fill);
        painter.galley(boxed.min + Vec2::new(5.0, 3.0), galley, ui.visuals().text_color());
    }
}

/// A button for each method: on or off, at most [`MOST`] on (a fifth turns the first off).
fn method_toggles(
    ui: &mut egui::Ui,
    index: usize,
    methods: &[Method],
    kind: Option<&InputKind>,
    cx: &mut CellContext<'_>,
) {
    ui.horizontal_wrapped(|ui| {
        ui.label("Methods:");
        for method in Method::ALL {
            let on = methods.contains(&method);
            let usable = !matches!(method, Method::GradCam | Method::GradCamPlusPlus)
                || kind.is_none_or(|k| matches!(k, InputKind::Image { .. }));
            let button = ui.add_enabled(usable, egui::Button::selectable(on, method.title()));
            let button = if usable {
                button.on_hover_text(method.explanation())
            } else {
                button.on_disabled_hover_text(
                    "Grad-CAM and Grad-CAM++ weigh a convolution layer's maps: they explain images",
                )
            };
            if button.clicked() {
                let mut next: Vec<Method> = methods.to_vec();
                if on {
                    next.retain(|m| *m != method);
                } else {
                    next.push(method);
                    if next.len() > MOST {
                        next.remove(0);
                    }
                }
                cx.out.push(AppCommand::SetAttributionMethods { cell: index, methods: next });
            }
        }
        ui.weak(format!("(up to {MOST} side by side: one more turns the first off)"));
    });
}

/// The class, the baseline, the check with random weights, and how the maps are drawn.
fn options(
    ui: &mut egui::Ui,
    name: &str,
    current: &ExplainOptions,
    kind: Option<&InputKind>,
    look: &mut Look,
    cx: &mut CellContext<'_>,
) {
    let mut options = current.clone();
    let classes = cx.splits.map(|s| s.test.classes.clone()).unwrap_or_default();
    ui.horizontal_wrapped(|ui| {
        ui.label("Class:");
        let shown = options.target.map_or_else(
            || "the one it predicts".to_owned(),
            |c| classes.get(c).cloned().unwrap_or_else(|| c.to_string()),
        );
        egui::ComboBox::from_id_salt(("attribution-class", name)).selected_text(shown).width(150.0).height(480.0).show_ui(ui, |ui| {
            ui.selectable_value(&mut options.target, None, "the one it predicts");
            for (c, label) in classes.iter().enumerate() {
                ui.selectable_value(&mut options.target, Some(c), label);
            }
        });
        if !matches!(kind, Some(InputKind::Tokens { .. })) {
            ui.label("Baseline:").on_hover_text(
                "What \"nothing\" is: where Integrated Gradients starts, and what covers a patch or segment for occlusion, LIME and Kernel SHAP",
            );
            let text = options.baseline.map_or("default", Baseline::name);
            egui::ComboBox::from_id_salt(("attribution-baseline", name)).selected_text(text).width(90.0).show_ui(ui, |ui| {
                ui.selectable_value(&mut options.baseline, None, "default")
                    .on_hover_text("Black for images, the training mean for tables");
                for b in Baseline::ALL {
                    ui.selectable_value(&mut options.baseline, Some(b), b.name());
                }
            });
        }
        if matches!(kind, Some(InputKind::Table { .. })) {
            ui.checkbox(&mut options.global, "Whole test set").on_hover_text(
                "Which features matter over the whole test set: how much accuracy drops when a feature's column is shuffled, the mean size of its SHAP values, and a small decision tree that imitates the model",
            );
        }
        ui.checkbox(&mut options.randomisation, "Check with random weights").on_hover_text(
            "Adebayo et al. (2018): a map that explains the model must change when its weights are replaced by random ones. Each map is worked out again with fresh weights and compared.",
        );
    });
    ui.horizontal_wrapped(|ui| {
        if matches!(kind, Some(InputKind::Image { .. }) | None) {
            ui.label("Opacity:");
            ui.add(egui::Slider::new(&mut look.opacity, 0.0..=1.0).show_value(false))
                .on_hover_text("How strongly each map covers the picture");
        }
        ui.checkbox(&mut look.absolute, "Absolute values")
            .on_hover_text("Show how much each part mattered, whichever way it pushed");
    });
    if options != *current {
        cx.out.push(AppCommand::SetExplainOptions { model: name.to_owned(), options });
    }
}

/// The values drawn: signed, or their sizes.
fn drawn(a: &Attribution, look: Look) -> Vec<f32> {
    if look.absolute {
        a.values.iter().map(|v| v.abs()).collect()
    } else {
        a.values.clone()
    }
}

/// Under each map: whether its shares add up, and the randomisation check's verdict.
fn notes(ui: &mut egui::Ui, explanation: &Explanation, k: usize, width: f32) {
    let Some(Ok(a)) = explanation.maps.get(k) else { return };
    if let Some(c) = a.completeness {
        let baseline = match explanation.kind {
            InputKind::Tokens { .. } => "an input of padding only",
            _ => "the baseline",
        };
        let text = format!(
            "Shares add up to {:.3}; the score changed by {:.3} from {baseline} ({:.1}% apart).",
            c.sum,
            c.change,
            100.0 * c.relative_gap()
        );
        ui.add(egui::Label::new(RichText::new(text).small()).wrap()).on_hover_text(
            "Completeness: these methods split the change of the score between the baseline and the input among the input's parts, so the parts should add up to it.",
        );
    }
    if matches!(a.method, Method::GradCam | Method::GradCamPlusPlus) {
        ui.scope(|ui| {
            ui.set_max_width(width);
            ui.add(
                egui::Label::new(
                    RichText::new(
                        "Coarse by design: the map has the layer's own small grid, scaled up to the picture, so it marks \
                         regions, not strokes, and can spill onto the background beside them.",
                    )
                    .small(),
                )
                .wrap(),
            );
        });
    }
    if let Some(Some(check)) = explanation.checks.get(k) {
        let colour = if check.passed() { ui.visuals().text_color() } else { ui.visuals().warn_fg_color };
        ui.scope(|ui| {
            ui.set_max_width(width);
            ui.add(egui::Label::new(RichText::new(check.verdict()).color(colour)).wrap());
        });
    }
}

/// A method's title, with what it does on hover, and its error if it has none.
fn title(ui: &mut egui::Ui, method: Method, map: Option<&Result<Attribution, String>>) -> Option<Attribution> {
    ui.strong(method.title()).on_hover_text(method.explanation());
    match map {
        Some(Ok(a)) => Some(a.clone()),
        Some(Err(e)) => {
            ui.colored_label(ui.visuals().warn_fg_color, e);
            None
        }
        None => None,
    }
}

/// Each map over the picture, side by side.
fn image_maps(
    ui: &mut egui::Ui,
    cx: &mut CellContext<'_>,
    explanation: &Explanation,
    wanted: &[(usize, Method)],
    [channels, height, width]: [usize; 3],
    look: Look,
    cell: usize,
) {
    let gap = ui.spacing().item_spacing.x;
    let side = ((ui.available_width() - gap * wanted.len() as f32) / wanted.len() as f32).clamp(120.0, 260.0);
    // The picture dimmed, so the colours over it read.
    let under: Vec<Color32> = inspecting::sample_pixels(&explanation.input, [channels, height, width], cx.ink)
        .into_iter()
        .map(|c| blend(c, Color32::from_gray(60), 0.55))
        .collect();
    let mut hovered: Option<(Method, f32)> = None;
    ui.horizontal_wrapped(|ui| {
        for &(k, method) in wanted {
            ui.vertical(|ui| {
                ui.set_width(side);
                let Some(a) = title(ui, method, explanation.maps.get(k)) else { return };
                let Some((h, w, pixels)) = a.pixels() else { return };
                let values = if look.absolute { pixels.iter().map(|v| v.abs()).collect() } else { pixels };
                let scale = Scale::of(&values);
                let extent = scale.high.abs().max(scale.low.abs()).max(1e-12);
                let version = explanation.id.wrapping_mul(1_000_003)
                    ^ (k as u64) << 40
                    ^ u64::from((look.opacity * 100.0) as u8) << 48
                    ^ u64::from(look.absolute) << 56;
                let key = format!("attribution/{cell}/{k}");
                let texture = cx.textures.get(ui.ctx(), &key, version, [w, h], || {
                    values
                        .iter()
                        .zip(&under)
                        .map(|(&v, base)| {
                            // The square root lifts the weaker parts into view.
                            let alpha = look.opacity * (v.abs() / extent).min(1.0).sqrt();
                            blend(*base, scale.color(v), alpha)
                        })
                        .collect()
                });
                let size = Vec2::new(side, side * h as f32 / w as f32);
                let response = ui.add(egui::Image::new((texture.id(), size)).sense(Sense::hover()));
                if let Some(p) = response.hover_pos() {
                    let col = (((p.x - response.rect.left()) / response.rect.width()) * w as f32) as usize;
                    let row = (((p.y - response.rect.top()) / response.rect.height()) * h as f32) as usize;
                    if let Some(v) =
                        a.pixels().and_then(|(_, _, px)| px.get(row.min(h - 1) * w + col.min(w - 1)).copied())
                    {
                        hovered = Some((method, v));
                    }
                }
                ui.add(egui::Label::new(RichText::new(scale.describe()).small().weak()).wrap());
                notes(ui, explanation, k, side);
                // The randomisation check's map beside the verdict, so the change can be seen.
                if let Some((rh, rw, random)) =
                    explanation.checks.get(k).and_then(Option::as_ref).and_then(|c| c.randomised.pixels())
                {
                    let random: Vec<f32> =
                        if look.absolute { random.iter().map(|v| v.abs()).collect() } else { random };
                    let rscale = Scale::of(&random);
                    let rextent = rscale.high.abs().max(rscale.low.abs()).max(1e-12);
                    let rkey = format!("attribution/{cell}/{k}/random");
                    let texture = cx.textures.get(ui.ctx(), &rkey, version, [rw, rh], || {
                        random
                            .iter()
                            .zip(&under)
                            .map(|(&v, base)| {
                                blend(*base, rscale.color(v), look.opacity * (v.abs() / rextent).min(1.0).sqrt())
                            })
                            .collect()
                    });
                    ui.label(RichText::new("The same method with random weights:").small());
                    ui.add(egui::Image::new((texture.id(), Vec2::new(side * 0.5, side * 0.5 * rh as f32 / rw as f32))));
                }
            });
        }
    });
    match hovered {
        Some((method, v)) => ui.label(format!("{}: {v:+.4} at the pointer", method.title())),
        None => ui.weak("Hover a map for the value under the pointer."),
    };
}

fn blend(base: Color32, over: Color32, alpha: f32) -> Color32 {
    let mix = |b: u8, o: u8| (f32::from(b) * (1.0 - alpha) + f32::from(o) * alpha).round() as u8;
    Color32::from_rgb(mix(base.r(), over.r()), mix(base.g(), over.g()), mix(base.b(), over.b()))
}

/// Black or white, whichever reads on `background`.
fn ink_on(background: Color32) -> Color32 {
    let luma =
        0.299 * f32::from(background.r()) + 0.587 * f32::from(background.g()) + 0.114 * f32::from(background.b());
    if luma > 140.0 {
        Color32::BLACK
    } else {
        Color32::WHITE
    }
}

/// A row of coloured tokens per method.
fn token_maps(
    ui: &mut egui::Ui,
    cx: &CellContext<'_>,
    explanation: &Explanation,
    wanted: &[(usize, Method)],
    look: Look,
) {
    let vocab = cx.splits.and_then(|s| s.test.vocab.as_ref());
    let tokens: Vec<String> = explanation
        .input
        .iter()
        .map(|&v| {
            let t =
                vocab.and_then(|voc| voc.tokens().get(v.max(0.0) as usize)).cloned().unwrap_or_else(|| format!("{v}"));
            if t == glassbox_engine::data::PAD {
                "·".to_owned()
            } else {
                t
            }
        })
        .collect();
    for &(k, method) in wanted {
        ui.separator();
        let Some(a) = title(ui, method, explanation.maps.get(k)) else { continue };
        let values = drawn(&a, look);
        let scale = Scale::of(&values);
        ui.horizontal_wrapped(|ui| {
            ui.spacing_mut().item_spacing.x = 3.0;
            for (token, &v) in tokens.iter().zip(&values) {
                let background = scale.color(v);
                ui.label(
                    RichText::new(format!(" {token} "))
                        .size(16.0)
                        .background_color(background)
                        .color(ink_on(background)),
                )
                .on_hover_text(format!("{token}: {v:+.4}"));
            }
        });
        ui.add(egui::Label::new(RichText::new(scale.describe()).small().weak()));
        notes(ui, explanation, k, ui.available_width());
    }
}

/// A bar per feature and method, longest first.
fn feature_bars(
    ui: &mut egui::Ui,
    cx: &CellContext<'_>,
    explanation: &Explanation,
    wanted: &[(usize, Method)],
    look: Look,
) {
    let names: Vec<String> = cx.splits.map(|s| s.test.features.clone()).unwrap_or_default();
    let gap = ui.spacing().item_spacing.x;
    let width = ((ui.available_width() - gap * wanted.len() as f32) / wanted.len() as f32).max(200.0);
    ui.horizontal_wrapped(|ui| {
        for &(k, method) in wanted {
            ui.vertical(|ui| {
                ui.set_width(width);
                let Some(a) = title(ui, method, explanation.maps.get(k)) else { return };
                let values = drawn(&a, look);
                let scale = Scale::of(&values);
                let extent = scale.high.abs().max(scale.low.abs()).max(1e-12);
                let mut order: Vec<usize> = (0..values.len()).collect();
                order.sort_by(|&i, &j| values[j].abs().total_cmp(&values[i].abs()));
                let row = 16.0;
                let label_width = (width * 0.45).min(160.0);
                for &i in order.iter().take(12) {
                    let name = names.get(i).cloned().unwrap_or_else(|| format!("feature {i}"));
                    let (rect, response) = ui.allocate_exact_size(Vec2::new(width, row), Sense::hover());
                    let painter = ui.painter_at(rect);
                    painter.text(
                        rect.left_center(),
                        egui::Align2::LEFT_CENTER,
                        &name,
                        egui::FontId::proportional(12.0),
                        ui.visuals().text_color(),
                    );
                    let bars = egui::Rect::from_min_max(
                        rect.min + Vec2::new(label_width, 2.0),
                        rect.max - Vec2::new(0.0, 2.0),
                    );
                    let zero = if scale.diverging { bars.center().x } else { bars.left() };
                    let reach = if scale.diverging { bars.width() / 2.0 } else { bars.width() };
                    let end = zero + reach * (values[i] / extent).clamp(-1.0, 1.0);
                    let bar = egui::Rect::from_x_y_ranges(zero.min(end)..=zero.max(end), bars.y_range());
                    painter.rect_filled(bar, 0.0, scale.color(values[i]));
                    painter.vline(zero, bars.y_range(), egui::Stroke::new(1.0, ui.visuals().weak_text_color()));
                    response.on_hover_text(format!("{name}: {:+.4}", values[i]));
                }
                if values.len() > 12 {
                    ui.weak(format!("the 12 largest of {} features", values.len()));
                }
                notes(ui, explanation, k, width);
            });
        }
    });
}
