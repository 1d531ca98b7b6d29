//! The evaluation cell: how one model does on the test split at its last evaluation (after each
//! epoch), or at the timeline's chosen moment: the confusion matrix, in counts or row-normalised
//! (a click on a cell lists its samples, a click on a sample looks at it in the inspection
//! cells), the most confidently wrong test samples, and each class's accuracy.

use eframe::egui::{self, Vec2};

use super::inspecting;
use super::CellContext;
use crate::app::inspect::Sample;
use crate::app::AppCommand;

/// Samples listed for a confusion cell, and most confidently wrong ones shown.
const LISTED: usize = 24;
const WORST: usize = 12;

/// The confusion matrix and each class's accuracy, from the model's newest test evaluation.
pub(super) fn show(ui: &mut egui::Ui, name: &str, cx: &mut CellContext<'_>) {
    let Some(run) = cx.runs.get(name) else {
        super::unknown_model(ui, name);
        return;
    };
    let classes: Vec<String> = cx.splits.map(|s| s.test.classes.clone()).unwrap_or_default();
    ui.horizontal_wrapped(|ui| inspecting::timeline(ui, name, run, cx));
    let moment = run.inspector.moment;
    let evaluation = match moment {
        Some(step) => run.record.evaluations.iter().find(|e| e.step == step),
        None => run.record.evaluations.last(),
    };
    if let (Some(step), None) = (moment, evaluation) {
        ui.weak(format!("Scoring the test samples with the weights of step {step}..."));
        return;
    }
    let Some(evaluation) = evaluation else {
        ui.weak(format!(
            "Train {name} for an epoch: after each epoch its test samples are scored, and this cell shows which classes it confuses."
        ));
        return;
    };
    if evaluation.confusion.is_empty() || classes.is_empty() {
        ui.weak("This dataset has no classes to confuse (a number to predict, or an answer per position): its test loss is in the training cell.");
        return;
    }
    ui.label(format!(
        "After step {}: test accuracy {:.3} on {} samples. Rows: the true class; columns: what {name} predicted.",
        evaluation.step, evaluation.accuracy, evaluation.samples
    ));
    let id = ui.id().with("row-normalised");
    let mut normalised = ui.data(|d| d.get_temp::<bool>(id)).unwrap_or(false);
    if ui
        .checkbox(&mut normalised, "row-normalised")
        .on_hover_text("Each row as shares of that class's test samples, so rare classes read as well as common ones")
        .changed()
    {
        ui.data_mut(|d| d.insert_temp(id, normalised));
    }
    let palette = cx.palette;
    let predicted = evaluation.confusion.first().map_or(0, Vec::len);
    let column = |j: usize| classes.get(j).cloned().unwrap_or_else(|| format!("out {j}"));
    let accent = ui.visuals().selection.bg_fill;
    let text = ui.visuals().strong_text_color();
    let picked_id = ui.id().with("picked-cell");
    let mut picked: Option<(usize, usize)> = ui.data(|d| d.get_temp::<Option<(usize, usize)>>(picked_id)).flatten();
    egui::Grid::new(("confusion", name)).spacing(egui::vec2(3.0, 3.0)).show(ui, |ui| {
        ui.weak("true \\ predicted");
        for j in 0..predicted {
            ui.colored_label(palette.color(j), column(j));
        }
        ui.end_row();
        for (i, row) in evaluation.confusion.iter().enumerate() {
            ui.colored_label(palette.color(i), column(i));
            let total: usize = row.iter().sum();
            for (j, &count) in row.iter().enumerate() {
                let share = if total > 0 { count as f32 / total as f32 } else { 0.0 };
                let label = if normalised { format!("{:.0}%", share * 100.0) } else { count.to_string() };
                let chosen = picked == Some((i, j));
                // One button a cell (a frame with a label inside cost about 10 us a cell a frame).
                let response = ui
                    .add(
                        egui::Button::new(egui::RichText::new(label).color(text))
                            .fill(accent.gamma_multiply(share.max(0.04)))
                            .stroke(if chosen { egui::Stroke::new(2.0, text) } else { egui::Stroke::NONE })
                            .min_size(Vec2::new(52.0, 20.0)),
                    )
                    .on_hover_text(format!(
                        "{count} of the {total} test samples of {} were predicted {} ({:.0}%). Click to list them.",
                        column(i),
                        column(j),
                        share * 100.0
                    ));
                if response.clicked() {
                    picked = if chosen { None } else { Some((i, j)) };
                }
            }
            ui.end_row();
        }
    });
    ui.data_mut(|d| d.insert_temp(picked_id, picked));
    let splits = cx.splits;
    let labels = splits.and_then(|s| s.test.labels());
    let predictions = &evaluation.predictions;
    if let (Some((i, j)), Some(labels), Some(splits)) = (picked, labels, splits) {
        let samples: Vec<usize> =
            (0..labels.len()).filter(|&k| labels[k] == i && predictions.get(k).is_some_and(|p| p.0 == j)).collect();
        ui.label(format!(
            "{} test samples of {} predicted {}{}; click one to look inside the model with it:",
            samples.len(),
            column(i),
            column(j),
            if samples.len() > LISTED { format!(" (the first {LISTED})") } else { String::new() }
        ));
        sample_row(ui, name, splits, &samples[..samples.len().min(LISTED)], predictions, &column, cx);
    }
    if let (Some(labels), Some(splits)) = (labels, splits) {
        let mut wrong: Vec<usize> =
            (0..labels.len()).filter(|&k| predictions.get(k).is_some_and(|p| p.0 != labels[k])).collect();
        wrong.sort_by(|&a, &b| predictions[b].1.total_cmp(&predictions[a].1));
        if !wrong.is_empty() {
            ui.label(format!("The most confidently wrong test samples ({} are wrong in all):", wrong.len()));
            sample_row(ui, name, splits, &wrong[..wrong.len().min(WORST)], predictions, &column, cx);
        }
    }
    if let (Sample::Test(k), Some(splits)) = (&run.inspector.sample, splits) {
        let truth = inspecting::test_label(splits, *k).map_or_else(String::new, |(_, l)| format!(", a {l}"));
        ui.colored_label(
            ui.visuals().selection.stroke.color,
            format!("The inspection cells (Sample and prediction, Activations) look at test sample {k}{truth}."),
        );
    }
    // One line either way, so what is below does not move when the scores catch up.
    let now = run.record.latest.map_or(0, |p| p.step);
    if moment.is_none() && evaluation.step < now {
        ui.weak(format!(
            "Scored at step {}; {name} is now at step {now} (scored again at each epoch's end and when training pauses).",
            evaluation.step
        ));
    } else if moment.is_none() {
        ui.weak(format!("Scored with {name}'s current weights (step {now})."));
    }
    ui.label("Each class's accuracy (its share of the diagonal):");
    for (i, row) in evaluation.confusion.iter().enumerate() {
        let total: usize = row.iter().sum();
        let right = row.get(i).copied().unwrap_or(0);
        let accuracy = if total > 0 { right as f32 / total as f32 } else { 0.0 };
        ui.horizontal(|ui| {
            let (rect, _) = ui.allocate_exact_size(Vec2::new(200.0, 14.0), egui::Sense::hover());
            ui.painter().rect_filled(rect, 2.0, ui.visuals().extreme_bg_color);
            let mut bar = rect;
            bar.set_width(rect.width() * accuracy.clamp(0.0, 1.0));
            ui.painter().rect_filled(bar, 2.0, palette.color(i));
            ui.colored_label(palette.color(i), column(i));
            ui.label(format!("{:.0}% ({right} of {total})", accuracy * 100.0));
        });
    }
}

/// Test samples as pictures (or numbered buttons), each saying what it is and what was predicted;
/// a click makes it the model's sample for every inspection cell.
fn sample_row(
    ui: &mut egui::Ui,
    name: &str,
    splits: &glassbox_engine::data::Splits,
    samples: &[usize],
    predictions: &[(usize, f32)],
    column: &dyn Fn(usize) -> String,
    cx: &mut CellContext<'_>,
) {
    let images = inspecting::image_shape(&splits.test.shape).is_some();
    ui.horizontal_wrapped(|ui| {
        for &k in samples {
            let truth = inspecting::test_label(splits, k).map_or_else(String::new, |(_, l)| l.to_owned());
            let said = predictions
                .get(k)
                .map_or_else(String::new, |p| format!("; predicted {} ({:.0}%)", column(p.0), p.1 * 100.0));
            let response =
                if images { inspecting::test_picture(ui, cx, splits, k, 40.0) } else { ui.button(format!("#{k}")) };
            if response.on_hover_text(format!("test sample {k}: {truth}{said}. Click to look at it.")).clicked() {
                cx.out.push(AppCommand::SetSample { model: name.to_owned(), sample: Sample::Test(k) });
            }
        }
    });
}
