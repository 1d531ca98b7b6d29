//! The comparison cell: every model's test curves on one pair of plots (loss and accuracy), one
//! colour per model, and their training curves on demand.

use eframe::egui;

use super::CellContext;
use crate::app::widgets::palette::model_color;
use crate::app::widgets::plots::{legend, MetricPlot, Series};
use crate::app::widgets::short_number;
use crate::app::AppCommand;

pub(super) fn show(ui: &mut egui::Ui, cx: &mut CellContext<'_>) {
    let nb = cx.notebook;
    let with_training = nb.view.compare_training;
    let log = nb.view.log_scale;
    let y = |v: f32| if log { f64::from(v.max(1e-8)).log10() } else { f64::from(v) };
    let mut loss = Vec::new();
    let mut accuracy = Vec::new();
    let mut summary = Vec::new();
    for (i, model) in nb.models.iter().enumerate() {
        let Some(run) = cx.runs.get(&model.name) else { continue };
        let record = &run.record;
        let spe = record.steps_per_epoch.max(1) as f64;
        let color = model_color(i);
        let test = |value: &dyn Fn(&glassbox_engine::train::Evaluation) -> f64| -> Vec<[f64; 2]> {
            record.evaluations.iter().map(|e| [e.step as f64 / spe, value(e)]).collect()
        };
        let markers = record.evaluations.len() <= 60;
        loss.push(Series {
            name: format!("{}: test", model.name),
            color,
            points: test(&|e| y(e.loss)),
            dashed: false,
            markers,
        });
        accuracy.push(Series {
            name: format!("{}: test", model.name),
            color,
            points: test(&|e| f64::from(e.accuracy)),
            dashed: false,
            markers,
        });
        if with_training {
            let points = record.smoothed.thin(400);
            loss.push(Series {
                name: format!("{}: training", model.name),
                color,
                points: points.iter().map(|p| [p.0 as f64 / spe, y(p.1)]).collect(),
                dashed: true,
                markers: false,
            });
            accuracy.push(Series {
                name: format!("{}: training", model.name),
                color,
                points: points.iter().map(|p| [p.0 as f64 / spe, f64::from(p.2)]).collect(),
                dashed: true,
                markers: false,
            });
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
