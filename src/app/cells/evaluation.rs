//! The evaluation cell: how one model does on the test split at its last evaluation (after each
//! epoch): the confusion matrix, in counts or row-normalised, and each class's accuracy.

use eframe::egui;

use super::CellContext;

/// The confusion matrix and each class's accuracy, from the model's newest test evaluation.
pub(super) fn show(ui: &mut egui::Ui, name: &str, cx: &mut CellContext<'_>) {
    let Some(run) = cx.runs.get(name) else {
        super::unknown_model(ui, name);
        return;
    };
    let classes: Vec<String> = cx.splits.map(|s| s.test.classes.clone()).unwrap_or_default();
    let Some(evaluation) = run.record.evaluations.last() else {
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
                egui::Frame::new()
                    .fill(accent.gamma_multiply(share.max(0.04)))
                    .inner_margin(egui::Margin::symmetric(8, 3))
                    .show(ui, |ui| {
                        ui.set_min_width(44.0);
                        ui.colored_label(text, label).on_hover_text(format!(
                            "{count} of the {total} test samples of {} were predicted {} ({:.0}%)",
                            column(i),
                            column(j),
                            share * 100.0
                        ));
                    });
            }
            ui.end_row();
        }
    });
    ui.label("Each class's accuracy (its share of the diagonal):");
    for (i, row) in evaluation.confusion.iter().enumerate() {
        let total: usize = row.iter().sum();
        let right = row.get(i).copied().unwrap_or(0);
        let accuracy = if total > 0 { right as f32 / total as f32 } else { 0.0 };
        ui.add(egui::ProgressBar::new(accuracy).desired_width(260.0).fill(palette.color(i)).text(format!(
            "{}: {:.0}% ({right} of {total})",
            column(i),
            accuracy * 100.0
        )));
    }
}
