//! The comparison cell: every model's test curves on one pair of plots (loss and accuracy), one
//! colour per model, and their training curves on demand.

use eframe::egui;

use super::CellContext;
use crate::app::widgets::palette::model_color;
use crate::app::widgets::plots::{legend, MetricPlot, RunCurves, Series};
use crate::app::widgets::short_number;
use crate::app::AppCommand;

pub(super) fn show(ui: &mut egui::Ui, cx: &mut CellContext<'_>) {
    let nb = cx.notebook;
    let with_training = nb.view.compare_training;
    let log = nb.view.log_scale;
    let mut loss = Vec::new();
    let mut accuracy = Vec::new();
    let mut summary = Vec::new();
    for (i, model) in nb.models.iter().enumerate() {
        let Some(run) = cx.runs.get(&model.name) else { continue };
        let record = &run.record;
        let spe = record.steps_per_epoch.max(1) as f64;
        let color = model_color(i);
        let curves = RunCurves::of(record, log);
        let markers = curves.test_markers();
        let series = |name: &str, points: Vec<[f64; 2]>, dashed: bool| Series {
            name: format!("{}: {name}", model.name),
            color,
            points,
            dashed,
            markers: markers && !dashed,
        };
        loss.push(series("test", curves.test_loss, false));
        accuracy.push(series("test", curves.test_accuracy, false));
        if with_training {
            loss.push(series("training", curves.train_loss, true));
            accuracy.push(series("training", curves.train_accuracy, true));
        }
        if let Some(e) = record.evaluations.last() {
            summary.push(format!(
                "{}: test loss {}, accuracy {:.3} after epoch {}",
                model.name,
                short_number(f64::from(e.loss)),
                e.accuracy,
                short_number(e.step as f64 / spe)
            ));
        }
    }
    if nb.models.len() < 2 {
        ui.weak("One model so far: \"Copy to compare\" in its model cell adds a second to compare with.");
    }
    ui.horizontal_wrapped(|ui| {
        let entries: Vec<&Series> = loss.iter().collect();
        legend(ui, &entries);
        let mut training = with_training;
        if ui
            .checkbox(&mut training, "training curves too")
            .on_hover_text("Also draw each model's averaged training curve (dashed)")
            .changed()
        {
            cx.out.push(AppCommand::ToggleCompareTraining);
        }
    });
    let width = crate::app::widgets::plots::plot_width(ui, 2.0);
    let empty = "Train the models to compare them";
    ui.horizontal_top(|ui| {
        MetricPlot {
            id: egui::Id::new("compare-loss"),
            title: "loss",
            steps_per_epoch: 0,
            y_range: None,
            log,
            width,
            height: 200.0,
        }
        .show(ui, &loss, empty);
        ui.add_space(crate::app::widgets::plots::PLOT_GAP);
        MetricPlot {
            id: egui::Id::new("compare-accuracy"),
            title: "accuracy",
            steps_per_epoch: 0,
            y_range: Some((0.0, 1.0)),
            log: false,
            width,
            height: 200.0,
        }
        .show(ui, &accuracy, empty);
    });
    for line in summary {
        ui.label(line);
    }
}
