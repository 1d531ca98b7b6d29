//! The attention cell: for every attention layer (`MultiHeadAttention`, and the attention inside a
//! `TransformerBlock`) the token x token map of each head and their mean, for the chosen sequence
//! and moment, with the tokens along both sides. Hovering a square highlights its row (the token
//! that looks) and column (the token looked at) and shades the sentence below by where the
//! hovered token looks; hovering a token of the sentence does the same. The timeline slider
//! replays the maps, so a class can watch a head form.

use eframe::egui::{self, Color32, Pos2, Rect, Sense, Stroke, Vec2};
use glassbox_engine::tensor::NodeOutput;
use glassbox_engine::train::Inspection;

use super::inspecting;
use super::CellContext;
use crate::app::widgets::heatmap::Scale;

/// The widest a token's label is drawn, in characters.
const LABEL_CHARS: usize = 9;

pub(super) fn show(ui: &mut egui::Ui, name: &str, cx: &mut CellContext<'_>) {
    let Some(run) = cx.runs.get(name) else {
        super::unknown_model(ui, name);
        return;
    };
    let Some(inspection) = inspecting::header_and_chooser(ui, name, run, cx, "attention-chooser") else { return };
    let maps: Vec<&NodeOutput> = inspection.extras.iter().filter(|e| e.id.ends_with(".attention")).collect();
    if maps.is_empty() {
        ui.label(format!(
            "{name} has no attention layer. Add a MultiHeadAttention or TransformerBlock node (palette group \"attention\") to see where each position looks."
        ));
        return;
    }
    let tokens = token_labels(cx, inspection);
    ui.weak("Each row is a token looking at the others: a square's brightness is how much of its attention goes to that column's token (each row adds up to 1). Hover a square or a token of the sentence.");
    for map in maps {
        layer_maps(ui, cx, inspection, map, &tokens);
    }
}

/// The chosen sequence's tokens, as the model saw them: the vocabulary's words or characters, or
/// the numbers themselves.
pub(super) fn token_labels(cx: &CellContext<'_>, inspection: &Inspection) -> Vec<String> {
    let vocab = cx.splits.and_then(|s| s.test.vocab.as_ref());
    let Some(input) = inspection.outputs.first() else { return Vec::new() };
    input
        .values
        .iter()
        .map(|&v| {
            let token = vocab.and_then(|voc| voc.tokens().get(v.max(0.0) as usize)).cloned();
            let text = token.unwrap_or_else(|| format!("{v}"));
            let text = match text.as_str() {
                " " => "␣".to_owned(),
                glassbox_engine::data::PAD => "·".to_owned(),
                _ => text,
            };
            if text.chars().count() > LABEL_CHARS {
                format!("{}…", text.chars().take(LABEL_CHARS - 1).collect::<String>())
            } else {
                text
            }
        })
        .collect()
}

/// One layer's heads and their mean, then the sentence shaded by the hovered token's attention.
fn layer_maps(
    ui: &mut egui::Ui,
    cx: &mut CellContext<'_>,
    inspection: &Inspection,
    map: &NodeOutput,
    tokens: &[String],
) {
    let [heads, time, _] = map.shape[..] else { return };
    let layer = map.id.trim_end_matches(".attention");
    let per_sample = heads * time * time;
    // The first sample's maps (an inspection of a drawn or typed input has one sample).
    let Some(values) = map.values.get(..per_sample) else { return };
    let mut mean = vec![0.0; time * time];
    for head in values.chunks_exact(time * time) {
        for (m, v) in mean.iter_mut().zip(head) {
            *m += v / heads as f32;
        }
    }
    let labels: Vec<String> = (0..time).map(|i| tokens.get(i).cloned().unwrap_or_else(|| format!("{i}"))).collect();
    ui.separator();
    ui.horizontal(|ui| {
        ui.strong(layer);
        ui.weak(format!("{heads} head(s) over {time} positions"));
    });
    // What was hovered last frame, so every map of the layer highlights the same row and column.
    let hover_id = ui.id().with(("attention-hover", layer));
    let previous: Option<(usize, Option<usize>)> = ui.data(|d| d.get_temp(hover_id)).flatten();
    let mut hovered: Option<(usize, Option<usize>, Option<usize>)> = None;
    let cell = (300.0 / time as f32).clamp(4.0, 28.0);
    let small = (220.0 / time as f32).clamp(3.0, 20.0);
    ui.horizontal_wrapped(|ui| {
        let mut panel =
            |ui: &mut egui::Ui, title: String, values: &[f32], key: String, size: f32, head: Option<usize>| {
                ui.vertical(|ui| {
                    ui.label(title);
                    if let Some((i, j)) = square_map(ui, cx, &key, inspection.id, values, &labels, size, previous) {
                        hovered = Some((i, Some(j), head));
                    }
                });
            };
        panel(ui, "Mean over heads".to_owned(), &mean, format!("attn/{layer}/mean"), cell, None);
        if heads > 1 {
            for (h, head) in values.chunks_exact(time * time).enumerate() {
                panel(ui, format!("Head {}", h + 1), head, format!("attn/{layer}/{h}"), small, Some(h));
            }
        }
    });
    // The sentence, each token shaded by how much the hovered token looks at it.
    let query = hovered.map(|(i, ..)| i).or(previous.map(|(i, _)| i));
    let head = hovered.and_then(|(_, _, h)| h);
    let row: Option<&[f32]> = query.map(|i| match head {
        Some(h) => &values[(h * time + i) * time..][..time],
        None => &mean[i * time..][..time],
    });
    ui.horizontal_wrapped(|ui| {
        ui.spacing_mut().item_spacing.x = 2.0;
        ui.weak("Sentence:");
        for (j, label) in labels.iter().enumerate() {
            let weight = row.map_or(0.0, |r| r[j]);
            let fill = Scale { low: 0.0, high: 1.0, diverging: false }.color(weight.sqrt() * 0.85);
            let text_color = if weight > 0.3 { Color32::BLACK } else { Color32::WHITE };
            let stroke =
                if query == Some(j) { Stroke::new(2.0, ui.visuals().selection.stroke.color) } else { Stroke::NONE };
            let response = egui::Frame::new()
                .fill(if row.is_some() { fill } else { ui.visuals().faint_bg_color })
                .stroke(stroke)
                .inner_margin(egui::Margin::symmetric(4, 2))
                .show(ui, |ui| {
                    let text = egui::RichText::new(label).monospace();
                    ui.label(if row.is_some() { text.color(text_color) } else { text })
                })
                .response
                .interact(Sense::hover());
            if response.hovered() {
                hovered = Some((j, None, head));
            }
        }
    });
    match (query, row) {
        (Some(i), Some(r)) => {
            let best = (0..time).max_by(|&a, &b| r[a].total_cmp(&r[b])).unwrap_or(0);
            let which = head.map_or_else(|| ", averaged over the heads".to_owned(), |h| format!(", head {}", h + 1));
            let pair = hovered.and_then(|(_, j, _)| j).map_or_else(String::new, |j| {
                format!("; it gives \"{}\" (position {}) {:.1}%", labels[j], j + 1, r[j] * 100.0)
            });
            ui.label(format!(
                "\"{}\" (position {}) looks most at \"{}\" (position {}, {:.0}%){pair}{which}",
                labels[i],
                i + 1,
                labels[best],
                best + 1,
                r[best] * 100.0,
            ));
        }
        _ => {
            ui.weak("Hover a row of a map, or a token, to see where that token looks.");
        }
    }
    let keep = hovered.map(|(i, j, _)| (i, j));
    ui.data_mut(|d| d.insert_temp(hover_id, keep));
}

/// A `time` x `time` map of probabilities (black 0, yellow 1) with the tokens along the left
/// (queries) and the top (keys), `cell` points a square; the highlighted row and column framed.
/// Returns the hovered (row, column).
#[expect(clippy::too_many_arguments, reason = "the pieces of one picture")]
fn square_map(
    ui: &mut egui::Ui,
    cx: &mut CellContext<'_>,
    key: &str,
    version: u64,
    values: &[f32],
    labels: &[String],
    cell: f32,
    highlight: Option<(usize, Option<usize>)>,
) -> Option<(usize, usize)> {
    let time = labels.len();
    let font = egui::FontId::monospace((cell * 0.75).clamp(8.0, 13.0));
    let show_labels = cell >= 8.0;
    let text_color = ui.visuals().text_color();
    let label_width = if show_labels {
        let widest = labels.iter().map(|l| l.chars().count()).max().unwrap_or(1) as f32;
        widest * font.size * 0.62 + 6.0
    } else {
        0.0
    };
    let side = cell * time as f32;
    let (rect, response) = ui.allocate_exact_size(Vec2::new(label_width + side, label_width + side), Sense::hover());
    let grid = Rect::from_min_size(rect.min + Vec2::splat(label_width), Vec2::splat(side));
    let scale = Scale { low: 0.0, high: 1.0, diverging: false };
    let texture =
        cx.textures.get(ui.ctx(), key, version, [time, time], || values.iter().map(|&v| scale.color(v)).collect());
    let painter = ui.painter_at(rect.expand(2.0));
    painter.image(texture.id(), grid, Rect::from_min_max(Pos2::ZERO, Pos2::new(1.0, 1.0)), Color32::WHITE);
    if show_labels {
        for (i, label) in labels.iter().enumerate() {
            let y = grid.top() + (i as f32 + 0.5) * cell;
            painter.text(Pos2::new(grid.left() - 4.0, y), egui::Align2::RIGHT_CENTER, label, font.clone(), text_color);
            // Column labels read upwards.
            let galley = painter.layout_no_wrap(label.clone(), font.clone(), text_color);
            let x = grid.left() + (i as f32 + 0.5) * cell - galley.size().y / 2.0;
            let at = Pos2::new(x, grid.top() - 4.0);
            painter.add(egui::epaint::TextShape::new(at, galley, text_color).with_angle(-std::f32::consts::FRAC_PI_2));
        }
    }
    let hovered = response.hover_pos().and_then(|p| {
        let col = ((p.x - grid.left()) / cell).floor();
        let row = ((p.y - grid.top()) / cell).floor();
        (col >= 0.0 && row >= 0.0 && (col as usize) < time && (row as usize) < time)
            .then_some((row as usize, col as usize))
    });
    let frame = Stroke::new(1.5, ui.visuals().selection.stroke.color);
    if let Some((row, col)) = hovered.map(|(r, c)| (r, Some(c))).or(highlight) {
        let band = |i: usize, horizontal: bool| {
            if horizontal {
                Rect::from_min_size(Pos2::new(grid.left(), grid.top() + i as f32 * cell), Vec2::new(side, cell))
            } else {
                Rect::from_min_size(Pos2::new(grid.left() + i as f32 * cell, grid.top()), Vec2::new(cell, side))
            }
        };
        if row < time {
            painter.rect_stroke(band(row, true), 0.0, frame, egui::StrokeKind::Inside);
        }
        if let Some(col) = col.filter(|&c| c < time) {
            painter.rect_stroke(band(col, false), 0.0, frame, egui::StrokeKind::Inside);
        }
    }
    // No tooltip: it would cover the sentence and the line under the maps, which say it.
    drop(response);
    hovered
}
