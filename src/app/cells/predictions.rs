//! The sample-and-prediction cell: the sample every inspection cell of a model looks at, the
//! ways to choose another (test samples, drawing, a point of the plane, typed text), the
//! timeline, and the model's top classes for the sample as bars.

use eframe::egui::{self, Vec2};
use glassbox_engine::train::Inspection;

use super::inspecting::{self, image_shape, sample_pixels};
use super::CellContext;
use crate::app::inspect::Sample;

/// How many classes the bars show.
const TOP: usize = 5;

/// The softmax of scores.
pub(crate) fn softmax(scores: &[f32]) -> Vec<f32> {
    let top = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exps: Vec<f32> = scores.iter().map(|&s| (s - top).exp()).collect();
    let sum: f32 = exps.iter().sum();
    exps.into_iter().map(|e| if sum > 0.0 { e / sum } else { 0.0 }).collect()
}

pub(super) fn show(ui: &mut egui::Ui, name: &str, cx: &mut CellContext<'_>) {
    let Some(run) = cx.runs.get(name) else {
        super::unknown_model(ui, name);
        return;
    };
    let inspection = inspecting::header(ui, name, run, cx, true);
    ui.separator();
    ui.columns(2, |columns| {
        let [left, right] = columns else { return };
        left.push_id("chooser", |ui| inspecting::chooser(ui, name, run, cx));
        if let Some(inspection) = inspection {
            right.push_id("prediction", |ui| prediction(ui, name, inspection, &run.inspector.sample, cx));
        }
    });
    writer(ui, name, run, cx);
}

/// For a model that scores the next token of a window of tokens (a character-level model of
/// names, say): a button that has it write a few sequences, sampled with a temperature, from the
/// typed text (or from nothing).
fn writer(ui: &mut egui::Ui, name: &str, run: &crate::app::runs::ModelRun, cx: &mut CellContext<'_>) {
    let Some(splits) = cx.splits else { return };
    let Some(vocab) = splits.train.vocab.as_ref() else { return };
    // The run's shapes, kept in step with the graph (no inference each frame).
    let report = &run.report;
    let shape = |id: Option<&str>| id.and_then(|i| report.shape_of(i)).map(<[usize]>::to_vec);
    let (Some(input), Some(output)) = (shape(report.input.as_deref()), shape(report.output.as_deref())) else {
        return;
    };
    // A window of tokens in, one score per token out, and a single label a sample.
    if input.len() != 1 || output != [vocab.len()] || splits.train.targets_per_sample != 1 {
        return;
    }
    ui.separator();
    let temperature_id = ui.id().with(("temperature", name));
    let mut temperature = ui.data(|d| d.get_temp::<f32>(temperature_id)).unwrap_or(0.8);
    let prompt_text = match &run.inspector.sample {
        Sample::Typed(text) => text.clone(),
        _ => String::new(),
    };
    let mut asked = false;
    ui.horizontal_wrapped(|ui| {
        asked = ui
            .button("Write 8")
            .on_hover_text("The model writes 8 sequences token by token: it scores the next token, one is drawn with those chances (sharpened or flattened by the temperature), added, and the model reads again")
            .clicked();
        ui.label("temperature");
        ui.add(egui::Slider::new(&mut temperature, 0.1..=2.0).step_by(0.05)).on_hover_text(
            "Low: the model's safest choices, often the same; 1: its own chances; high: more surprising, less like the data",
        );
        if prompt_text.is_empty() {
            ui.weak("from the start (type a beginning under Type to continue it)");
        } else {
            ui.weak(format!("continuing \"{prompt_text}\""));
        }
    });
    ui.data_mut(|d| d.insert_temp(temperature_id, temperature));
    if asked {
        let prompt = vocab.encode(&prompt_text, None);
        let stop = [".", "\n"].iter().find_map(|t| vocab.tokens().iter().position(|x| x == t));
        let id = run.record.generated.as_ref().map_or(1, |g| g.0 + 1);
        let seed = id.wrapping_mul(7919);
        let request = glassbox_engine::train::GenerateRequest {
            id,
            count: 8,
            prompt,
            max_tokens: 24,
            temperature,
            stop,
            seed,
            moment: run.inspector.moment,
        };
        cx.out.push(crate::app::AppCommand::model(name, crate::app::ModelCommand::Generate(request)));
    }
    if let Some((_, step, sequences)) = &run.record.generated {
        let sep = if vocab.kind == glassbox_engine::data::VocabKind::Char { "" } else { " " };
        ui.label(format!("Written at step {step}:"));
        ui.horizontal_wrapped(|ui| {
            for tokens in sequences {
                let text = vocab.decode(tokens);
                let shown = format!("{prompt_text}{sep}{}", text.trim_end_matches(['.', '\n']));
                ui.label(egui::RichText::new(shown.trim()).monospace().strong());
                ui.add_space(12.0);
            }
        });
    }
}

/// The sample as the model sees it, and its top classes.
fn prediction(ui: &mut egui::Ui, name: &str, inspection: &Inspection, sample: &Sample, cx: &mut CellContext<'_>) {
    let Some(splits) = cx.splits else { return };
    let (Some(input), Some(output)) = (inspection.outputs.first(), inspection.outputs.last()) else { return };
    if let Some(shape) = image_shape(&input.shape) {
        let range = cx.ink;
        let texture =
            cx.textures.get(ui.ctx(), &format!("prediction-input/{name}"), inspection.id, [shape[2], shape[1]], || {
                sample_pixels(&input.values, shape, range)
            });
        ui.add(egui::Image::new((texture.id(), Vec2::new(112.0, 112.0 * shape[1] as f32 / shape[2] as f32))));
    } else if let (Some(vocab), Sample::Test(_) | Sample::Typed(_)) = (splits.train.vocab.as_ref(), sample) {
        let ids: Vec<usize> = input.values.iter().map(|&v| v as usize).collect();
        ui.label(format!("Tokens: {}", vocab.decode(&ids)));
    } else if input.values.len() <= 16 {
        // Named features (a table's columns) by name.
        let features = &splits.test.features;
        let values: Vec<String> = input
            .values
            .iter()
            .enumerate()
            .map(|(i, v)| features.get(i).map_or_else(|| format!("{v:.2}"), |f| format!("{f} {v:.2}")))
            .collect();
        ui.label(format!("Input: {}", values.join(", ")));
    }
    let truth = match sample {
        Sample::Test(i) => inspecting::test_label(splits, *i).map(|(c, _)| c),
        _ => None,
    };
    let classes = &splits.test.classes;
    if let [positions, width] = output.shape[..] {
        if !classes.is_empty() && width == classes.len() && output.values.len() == positions * width {
            per_position(ui, name, inspection, sample, cx);
            return;
        }
    }
    if classes.is_empty() || output.values.len() != output.shape.iter().product::<usize>() || output.shape.len() != 1 {
        let values: Vec<String> = output.values.iter().take(16).map(|v| format!("{v:.3}")).collect();
        ui.label(format!("Output: {}", values.join(", ")));
        return;
    }
    let probabilities = softmax(&output.values);
    let mut order: Vec<usize> = (0..probabilities.len()).collect();
    order.sort_by(|&a, &b| probabilities[b].total_cmp(&probabilities[a]));
    ui.label(format!("{name}'s top classes (softmax of its outputs):"));
    egui::Grid::new(("top-classes", name)).spacing(egui::vec2(8.0, 3.0)).show(ui, |ui| {
        for &c in order.iter().take(TOP) {
            let class = classes.get(c).cloned().unwrap_or_else(|| format!("output {c}"));
            ui.colored_label(cx.palette.color(c), class);
            let (rect, _) = ui.allocate_exact_size(Vec2::new(180.0, 14.0), egui::Sense::hover());
            ui.painter().rect_filled(rect, 2.0, ui.visuals().extreme_bg_color);
            let mut bar = rect;
            bar.set_width(rect.width() * probabilities[c].clamp(0.0, 1.0));
            ui.painter().rect_filled(bar, 2.0, cx.palette.color(c));
            let mark = if truth == Some(c) { "  the true class" } else { "" };
            ui.label(format!("{:.1}%{mark}", probabilities[c] * 100.0));
            ui.end_row();
        }
    });
    // One line either way, so the cells below do not move as the verdict changes.
    match truth {
        Some(t) if order.first() != Some(&t) => {
            let class = classes.get(t).map_or("?", String::as_str);
            ui.colored_label(
                ui.visuals().warn_fg_color,
                format!(
                    "Wrong: the answer is {class} ({:.1}% for it)",
                    probabilities.get(t).copied().unwrap_or(0.0) * 100.0
                ),
            );
        }
        Some(_) => {
            ui.colored_label(egui::Color32::from_rgb(60, 170, 90), "Right");
        }
        None => {
            ui.label(" ");
        }
    }
}

/// For a class per position (reverse, sort, ...): the answer, and the model's class at each
/// position with its probability, wrong ones marked.
fn per_position(ui: &mut egui::Ui, name: &str, inspection: &Inspection, sample: &Sample, cx: &CellContext<'_>) {
    let Some(splits) = cx.splits else { return };
    let Some(output) = inspection.outputs.last() else { return };
    let [positions, width] = output.shape[..] else { return };
    let classes = &splits.test.classes;
    let answer = match sample {
        Sample::Test(i) => inspecting::test_answer(splits, *i),
        _ => None,
    };
    let mut right = 0;
    ui.label(format!("{name}'s class at each position (softmax of its outputs):"));
    egui::Grid::new(("per-position", name)).spacing(egui::vec2(10.0, 3.0)).show(ui, |ui| {
        ui.weak("position");
        for p in 0..positions {
            ui.weak(format!("{}", p + 1));
        }
        ui.end_row();
        if let Some(answer) = &answer {
            ui.label("answer");
            for a in answer {
                ui.monospace(*a);
            }
            ui.end_row();
        }
        ui.label(name);
        for (p, scores) in output.values.chunks_exact(width).enumerate() {
            let probabilities = softmax(scores);
            let best = (0..width).max_by(|&a, &b| probabilities[a].total_cmp(&probabilities[b])).unwrap_or(0);
            let class = classes.get(best).map_or("?", String::as_str);
            let ok = answer.as_ref().is_none_or(|a| a.get(p) == Some(&class));
            right += usize::from(ok);
            let text = egui::RichText::new(class).monospace().strong();
            let text = if ok { text } else { text.color(ui.visuals().warn_fg_color) };
            ui.label(text).on_hover_text(format!("{:.1}% sure", probabilities[best] * 100.0));
        }
        ui.end_row();
    });
    if answer.is_some() {
        ui.label(format!("{right} of {positions} positions right"));
    } else {
        ui.label(" ");
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn softmax_sums_to_one_and_keeps_the_order() {
        let p = super::softmax(&[1.0, 3.0, 0.0]);
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert!(p[1] > p[0] && p[0] > p[2]);
        // By hand: e^1 / (e^1 + e^3 + e^0).
        let e = std::f32::consts::E;
        assert!((p[0] - e / (e + e.powi(3) + 1.0)).abs() < 1e-6);
    }
}
