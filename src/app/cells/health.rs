//! The gradients-and-health cell: each layer's gradient norm over training (vanishing and
//! exploding gradients show as lines far below or above the others), how far each step moves
//! its weights relative to their size, the share of dead ReLU units per layer at each moment of the
//! timeline, and warnings in words when something is out of the healthy range.

use std::collections::BTreeMap;

use eframe::egui;
use glassbox_engine::inspect::{health_warnings, DEAD_RELUS, EXPLODING_GRADIENT, UPDATE_TOO_LARGE, UPDATE_TOO_SMALL};
use glassbox_engine::train::LayerHealth;

use super::inspecting;
use super::CellContext;
use crate::app::widgets::palette::Palette;
use crate::app::widgets::plots::{legend, plot_width, MetricPlot, Series};
use crate::app::widgets::short_number;

pub(super) fn show(ui: &mut egui::Ui, name: &str, cx: &mut CellContext<'_>) {
    let Some(run) = cx.runs.get(name) else {
        super::unknown_model(ui, name);
        return;
    };
    ui.horizontal_wrapped(|ui| inspecting::timeline(ui, name, run, cx));
    let record = &run.record;
    let moment = run.inspector.moment;
    if record.health.is_empty() {
        ui.weak(format!(
            "Train {name}: every 10 steps (every step when training is slowed down) each layer's gradient, weights and update are measured, and drawn here."
        ));
        return;
    }
    // The measurement at the moment (the newest at or before it), and the dead ReLUs there.
    let at = moment.unwrap_or(usize::MAX);
    let Some((step, layers)) = record.health.iter().rev().find(|(s, _)| *s <= at).or(record.health.first()) else {
        return;
    };
    let snapshot = record.timeline.iter().rev().find(|s| s.step <= at);
    let dead = snapshot.map(|s| s.dead_relus.clone()).unwrap_or_default();
    let warnings = health_warnings(layers, &dead);
    if warnings.is_empty() {
        ui.colored_label(
            egui::Color32::from_rgb(60, 170, 90),
            format!(
                "At step {step} nothing is out of range: no gradient norm above {} or vanishing towards the input, every step moving weights by between {} and {}% of their size, no ReLU layer {:.0}% dead or more.",
                short_number(f64::from(EXPLODING_GRADIENT)),
                short_number(f64::from(UPDATE_TOO_SMALL)),
                short_number(f64::from(UPDATE_TOO_LARGE) * 100.0),
                DEAD_RELUS * 100.0
            ),
        );
    }
    for w in &warnings {
        ui.colored_label(ui.visuals().warn_fg_color, format!("⚠ {w}"));
    }
    table(ui, name, *step, layers, &dead);
    let names: Vec<String> = layers.iter().map(|l| l.node.clone()).collect();
    let palette = Palette::for_classes(&names);
    let spe = record.steps_per_epoch.max(1) as f64;
    let series_of = |value: &dyn Fn(&LayerHealth) -> f32| -> Vec<Series> {
        names
            .iter()
            .enumerate()
            .map(|(i, node)| Series {
                name: node.clone(),
                color: palette.color(i),
                // At most about 300 points a curve (a long run measures thousands of steps).
                points: record
                    .health
                    .iter()
                    .step_by(record.health.len().div_ceil(300).max(1))
                    .filter_map(|(s, ls)| {
                        let v = value(ls.iter().find(|l| &l.node == node)?);
                        (v > 0.0 && v.is_finite()).then(|| [*s as f64 / spe, f64::from(v).log10()])
                    })
                    .collect(),
                dashed: false,
                markers: false,
            })
            .collect()
    };
    let gradients = series_of(&|l| l.grad_norm);
    let updates = series_of(&|l| l.update_ratio());
    ui.horizontal_wrapped(|ui| {
        ui.weak("layers with weights:");
        legend(ui, &gradients.iter().collect::<Vec<_>>());
    });
    // Each ReLU layer's dead share at each snapshot, its legend above the plots.
    let relus: Vec<String> = record.timeline.last().map(|s| s.dead_relus.keys().cloned().collect()).unwrap_or_default();
    let relu_palette = Palette::for_classes(&relus);
    let dead_series: Vec<Series> = relus
        .iter()
        .enumerate()
        .map(|(i, node)| Series {
            name: node.clone(),
            color: relu_palette.color(i),
            points: record
                .timeline
                .iter()
                .filter_map(|s| s.dead_relus.get(node).map(|&d| [s.step as f64 / spe, f64::from(d)]))
                .collect(),
            dashed: false,
            markers: true,
        })
        .collect();
    if !dead_series.is_empty() {
        ui.horizontal_wrapped(|ui| {
            ui.weak("ReLU layers (dead ReLUs plot):");
            legend(ui, &dead_series.iter().collect::<Vec<_>>());
        });
    }
    let width = plot_width(ui, 3.0);
    ui.horizontal(|ui| {
        MetricPlot {
            id: ui.id().with(("grad-norms", name)),
            title: "gradient norm",
            steps_per_epoch: record.steps_per_epoch,
            y_range: None,
            log: true,
            width,
            height: 170.0,
        }
        .show(ui, &gradients, "no measurements yet");
        MetricPlot {
            id: ui.id().with(("update-ratio", name)),
            title: "update / weight",
            steps_per_epoch: record.steps_per_epoch,
            y_range: None,
            log: true,
            width,
            height: 170.0,
        }
        .show(ui, &updates, "no measurements yet");
        MetricPlot {
            id: ui.id().with(("dead-relus", name)),
            title: "dead ReLUs",
            steps_per_epoch: record.steps_per_epoch,
            y_range: Some((0.0, 1.0)),
            log: false,
            width,
            height: 170.0,
        }
        .show(ui, &dead_series, "no ReLU layers");
    });
    ui.weak(format!("Gradient norm: how strongly the loss pulls on a layer's weights. Update / weight: how far one step moves them, relative to their size: around 0.001 is typical; much above 0.01 the steps are large (above {} is warned about), much below 1e-5 the layer barely learns (below {} is warned about). Dead ReLUs: the share of a ReLU layer's units that are zero for every one of the first 256 training samples (or all of them, for a smaller set), at each moment of the timeline.", short_number(f64::from(UPDATE_TOO_LARGE)), short_number(f64::from(UPDATE_TOO_SMALL))));
}

/// One row per layer at the measured step.
fn table(ui: &mut egui::Ui, name: &str, step: usize, layers: &[LayerHealth], dead: &BTreeMap<String, f32>) {
    ui.label(format!("Step {step}:"));
    egui::Grid::new(("health-table", name)).striped(true).spacing(egui::vec2(16.0, 2.0)).show(ui, |ui| {
        ui.strong("layer");
        ui.strong("gradient norm");
        ui.strong("weight norm");
        ui.strong("update / weight");
        ui.end_row();
        for l in layers {
            ui.label(&l.node);
            ui.label(short_number(f64::from(l.grad_norm)));
            ui.label(short_number(f64::from(l.weight_norm)));
            ui.label(short_number(f64::from(l.update_ratio())));
            ui.end_row();
        }
        for (node, d) in dead {
            ui.label(node);
            ui.label(format!("{:.0}% dead", d * 100.0));
            ui.end_row();
        }
    });
}
