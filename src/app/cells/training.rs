//! The training cell: one model's controls (train, pause, step, epoch, reset, the speed), its
//! settings, its progress in averaged numbers, and its loss and accuracy curves in two plots.

use eframe::egui;
use glassbox_engine::data::Targets;
use glassbox_engine::tensor::OptimizerSpec;
use glassbox_engine::train::{smoothing_window, RunRecord, RunState, Schedule};

use super::{number, CellContext};
use crate::app::widgets::plots::{legend, MetricPlot, RunCurves, Series};
use crate::app::widgets::{eta_text, short_number};
use crate::app::{AppCommand, ModelCommand};
use crate::notebook::{Control, ModelDef};

/// The named speeds of training, in steps a second (`None`: as fast as the machine can).
pub(in crate::app) const SPEEDS: [(Option<f32>, &str, &str); 6] = [
    (Some(1.0), "1/s", "One step a second: follow every update"),
    (Some(3.0), "3/s", "Three steps a second"),
    (Some(10.0), "10/s", "Ten steps a second"),
    (Some(30.0), "30/s", "Thirty steps a second: the curves move smoothly"),
    (Some(100.0), "100/s", "A hundred steps a second"),
    (None, "fastest", "As fast as this machine trains"),
];

/// The speed control: one button per named speed.
pub(in crate::app) fn speed_ui(ui: &mut egui::Ui, current: Option<f32>, out: &mut Vec<AppCommand>) {
    ui.label("speed").on_hover_text("How many training steps a second: slow it down to watch it learn");
    for (speed, label, help) in SPEEDS {
        let selected = current == speed;
        if ui.selectable_label(selected, label).on_hover_text(help).clicked() && !selected {
            out.push(AppCommand::SetSpeed(speed));
        }
    }
}

/// The averaged training loss and accuracy (the last point of the curves), if any.
pub(in crate::app) fn averaged(record: &RunRecord) -> Option<(f32, f32)> {
    record.smoothed.points.last().map(|&(_, loss, accuracy)| (loss, accuracy))
}

pub(super) fn show(ui: &mut egui::Ui, name: &str, cx: &mut CellContext<'_>) {
    let (Some(def), Some(run)) = (cx.notebook.model(name), cx.runs.get(name)) else {
        super::unknown_model(ui, name);
        return;
    };
    let blocked =
        if run.report.is_ok() { run.misfit.clone().flatten().map(Blocked::Misfit) } else { Some(Blocked::Problems) };
    let view = TrainingView {
        def,
        record: &run.record,
        log_scale: cx.notebook.view.log_scale,
        target_epochs: run.target(def.training.epochs),
        speed: cx.notebook.view.steps_per_second,
        hide: &cx.notebook.view.hide,
        starts_from: run.starts_from(),
        has_test_split: cx.splits.is_some_and(|s| !s.test.is_empty()),
        regression: cx.splits.is_some_and(|s| matches!(s.train.targets, Targets::Values(_))),
        // Token ids into a network without an embedding: numbers whose size means nothing.
        tokens_as_numbers: cx.splits.is_some_and(|s| s.train.vocab.is_some() && s.train.targets_per_sample == 1)
            && !def.graph.nodes.iter().any(|n| matches!(n.layer, glassbox_engine::graph::LayerSpec::Embedding { .. })),
        blocked,
    };
    view.show(ui, cx.out);
}

/// Why a model cannot train.
enum Blocked {
    /// Its graph has problems (its model cell lists them).
    Problems,
    /// It does not fit the data.
    Misfit(crate::app::runs::Misfit),
}

/// What a training cell shows: one model's controls, progress and curves.
struct TrainingView<'a> {
    def: &'a ModelDef,
    record: &'a RunRecord,
    log_scale: bool,
    /// The epoch the progress counts to (past the planned epochs, Train adds as many again).
    target_epochs: usize,
    speed: Option<f32>,
    /// The controls the lesson hides.
    hide: &'a [Control],
    /// Where the next run starts from, when not from fresh random weights.
    starts_from: Option<&'static str>,
    /// Why the model cannot train now (graph problems, data that does not fit), if it cannot.
    blocked: Option<Blocked>,
    /// Whether the dataset has a test split (with a test share of 0 it has none).
    has_test_split: bool,
    /// The data's targets are numbers: there is no accuracy.
    regression: bool,
    /// The data is token ids (words, characters) for a single answer: read as plain numbers.
    tokens_as_numbers: bool,
}

impl TrainingView<'_> {
    fn show(&self, ui: &mut egui::Ui, out: &mut Vec<AppCommand>) {
        let name = self.def.name.as_str();
        let running = matches!(self.record.state, RunState::Running);
        match &self.blocked {
            Some(Blocked::Misfit(why)) => super::model::misfit_ui(ui, name, why, out),
            Some(Blocked::Problems) => {
                ui.colored_label(
                    ui.visuals().warn_fg_color,
                    "This model has problems (listed in its model cell): it can train once they are fixed.",
                );
            }
            None => {}
        }
        ui.add_enabled_ui(self.blocked.is_none() || running, |ui| {
            ui.horizontal_wrapped(|ui| {
                buttons_ui(ui, name, self.record, self.hide, out);
                if !self.hide.contains(&Control::Speed) {
                    ui.separator();
                    speed_ui(ui, self.speed, out);
                }
            });
        });
        if let Some(starts_from) = self.starts_from.filter(|_| self.record.run.is_none()) {
            ui.horizontal_wrapped(|ui| {
                ui.label(starts_from);
                if ui
                    .button("Start fresh")
                    .on_hover_text("Forget these weights: the next run starts from new random weights")
                    .clicked()
                {
                    out.push(AppCommand::model(name, ModelCommand::ForgetSavedWeights));
                }
            });
        }
        if self.tokens_as_numbers && self.blocked.is_none() {
            ui.colored_label(
                ui.visuals().warn_fg_color,
                "This data is token ids (words or characters), and this network reads each id as a plain number, as if word 40 were twice word 20: it can learn little more than the most common answer. Put an Embedding layer (palette group \"sequence\") right after the Input: it gives every token a vector of its own to learn.",
            );
        }
        let mut send = |command: ModelCommand| out.push(AppCommand::model(name, command));
        self.settings_ui(ui, &mut send);
        self.progress_ui(ui, &mut send);
        self.curves_ui(ui, out);
    }

    fn settings_ui(&self, ui: &mut egui::Ui, send: &mut impl FnMut(ModelCommand)) {
        let training = &self.def.training;
        let lr = training.optimizer.lr();
        ui.horizontal_wrapped(|ui| {
            let mut epochs = training.epochs;
            if number(ui, "epochs", &mut epochs, 1..=10_000, "How many passes over the training data Train makes") {
                send(ModelCommand::SetEpochs(epochs));
            }
            let mut batch = training.batch_size;
            let help = "Samples per step: larger batches give smoother but fewer updates (applies from the next epoch)";
            if number(ui, "batch size", &mut batch, 1..=4096, help) {
                send(ModelCommand::SetBatchSize(batch));
            }
            let current = training.optimizer;
            ui.label("optimizer");
            let name = match current {
                OptimizerSpec::Sgd { .. } => "SGD",
                OptimizerSpec::Adam { .. } => "Adam",
                OptimizerSpec::AdamW { .. } => "AdamW",
            };
            egui::ComboBox::from_id_salt(("optimizer", &self.def.name))
                .selected_text(name)
                .show_ui(ui, |ui| {
                    let lr = current.lr();
                    let choices = [
                        ("SGD", OptimizerSpec::Sgd { lr, momentum: 0.9, nesterov: false, weight_decay: 0.0 }),
                        ("Adam", OptimizerSpec::adam(lr)),
                        ("AdamW", OptimizerSpec::AdamW { lr, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 1e-2 }),
                    ];
                    for (label, spec) in choices {
                        if ui.selectable_label(name == label, label).on_hover_text(optimizer_help(label)).clicked()
                            && name != label
                        {
                            send(ModelCommand::SetOptimizer(spec));
                        }
                    }
                })
                .response
                .on_hover_text("How the weights move against the gradient");
        });
        ui.horizontal_wrapped(|ui| {
            let schedule = training.schedule;
            ui.label("learning-rate schedule");
            let name = match schedule {
                Schedule::Constant => "constant",
                Schedule::Step { .. } => "step",
                Schedule::Cosine { .. } => "cosine",
            };
            egui::ComboBox::from_id_salt(("schedule", &self.def.name))
                .selected_text(name)
                .show_ui(ui, |ui| {
                    let choices = [
                        ("constant", Schedule::Constant, "The same learning rate all the way"),
                        (
                            "step",
                            Schedule::Step { every_epochs: 10, factor: 0.5 },
                            "Halve the learning rate every 10 epochs",
                        ),
                        (
                            "cosine",
                            Schedule::Cosine { min_factor: 0.05 },
                            "Lower the learning rate smoothly to 5% by the last epoch",
                        ),
                    ];
                    for (label, choice, help) in choices {
                        if ui.selectable_label(name == label, label).on_hover_text(help).clicked() && name != label {
                            send(ModelCommand::SetSchedule(choice));
                        }
                    }
                })
                .response
                .on_hover_text("How the learning rate changes over the epochs");
        });
        ui.horizontal_wrapped(|ui| {
            let mut value = lr;
            ui.label("learning rate");
            if ui
                .add(
                    egui::Slider::new(&mut value, 1e-5..=3.0)
                        .clamping(egui::SliderClamping::Edits)
                        .logarithmic(true)
                        .custom_formatter(|v, _| short_number(v)),
                )
                .on_hover_text("How big a step each update takes: too small learns slowly, too large jumps or blows up")
                .changed()
            {
                send(ModelCommand::SetLearningRate(value));
            }
            if ui.button("÷10").on_hover_text("Smaller steps: slower but steadier learning").clicked() {
                send(ModelCommand::SetLearningRate(lr / 10.0));
            }
            if ui.button("×10").on_hover_text("Bigger steps: faster, until the loss jumps or becomes NaN").clicked() {
                send(ModelCommand::SetLearningRate(lr * 10.0));
            }
        });
    }

    fn progress_ui(&self, ui: &mut egui::Ui, send: &mut impl FnMut(ModelCommand)) {
        let record = self.record;
        let epochs = self.target_epochs as f32;
        let spe = record.steps_per_epoch;
        // The same lines before and after training, so nothing below jumps when they fill in.
        let (epoch, step) = record.latest.map_or((0.0, 0), |p| (p.epoch, p.step));
        let mut text = format!("epoch {} of {epochs}", short_number(f64::from(epoch)));
        if let Some(p) =
            record.latest.filter(|p| matches!(record.state, RunState::Running) && p.samples_per_sec > 0.0 && spe > 0)
        {
            let steps_left = ((epochs - p.epoch).max(0.0) * spe as f32).round();
            let batch = self.def.training.batch_size as f32;
            let seconds = steps_left * batch / p.samples_per_sec;
            text.push_str(&format!("   about {} left", eta_text(seconds)));
            if let Some(speed) = self.speed.filter(|_| seconds > 60.0) {
                text.push_str(&format!(
                    " at {} steps a second (\"fastest\" lifts the limit)",
                    short_number(f64::from(speed))
                ));
            }
        }
        ui.add(egui::ProgressBar::new((epoch / epochs).min(1.0)).text(text).corner_radius(2.0));
        let mut line = format!("step {step} ");
        match averaged(record) {
            Some((loss, accuracy)) => {
                let window = smoothing_window(spe);
                line.push_str(&format!("   loss {}", short_number(f64::from(loss))));
                if !self.regression {
                    line.push_str(&format!("   accuracy {accuracy:.3}"));
                }
                line.push_str(&format!("   (training, averaged over the last {window} batches, as in the curves)"));
            }
            None => line.push_str("   loss and accuracy appear after the first step"),
        }
        ui.label(line);
        let mut detail = Vec::new();
        if let Some(p) = record.latest {
            detail.push(format!("lr in use: {}", short_number(p.lr)));
            // A rate needs two steps to mean anything.
            if p.step > 1 && p.samples_per_sec > 0.0 {
                detail.push(format!("{:.0} samples/s", p.samples_per_sec));
            }
        }
        if spe > 0 {
            detail.push(format!("{spe} steps an epoch"));
        }
        ui.weak(if detail.is_empty() { " ".to_owned() } else { detail.join("   ") });
        match &record.state {
            RunState::Failed(message) => {
                ui.colored_label(ui.visuals().error_fg_color, message);
            }
            RunState::Paused(reason) if reason.alarm().is_some() => {
                let (message, can_restore) = reason.alarm().unwrap_or_default();
                ui.colored_label(ui.visuals().error_fg_color, message);
                if can_restore {
                    let step = record.last_checkpoint.map_or_else(String::new, |s| format!(" (step {s})"));
                    if ui
                        .button(format!("Go back to the last good weights{step}"))
                        .on_hover_text("Restore the weights saved at the last checkpoint; then lower the learning rate and train on")
                        .clicked()
                    {
                        send(ModelCommand::RestoreCheckpoint);
                    }
                }
            }
            _ => {
                if let Some(step) = record.restored_from {
                    ui.colored_label(
                        ui.visuals().warn_fg_color,
                        format!("Went back to the weights of step {step}. Lower the learning rate before training on."),
                    );
                }
            }
        }
        if let Some(message) = &record.refused {
            ui.colored_label(ui.visuals().warn_fg_color, message);
        }
        if let Some(e) = record.evaluations.last() {
            let accuracy = if self.regression { String::new() } else { format!("   test accuracy {:.3}", e.accuracy) };
            ui.label(format!("test loss {}{accuracy}   (after step {})", short_number(f64::from(e.loss)), e.step));
        } else if !self.has_test_split {
            ui.label("No test split (the dataset's test share is 0): there are no test metrics. Raise the test share in the dataset cell to measure how well the model generalises.");
        } else {
            ui.weak("test loss and accuracy: after each epoch");
        }
    }

    fn curves_ui(&self, ui: &mut egui::Ui, out: &mut Vec<AppCommand>) {
        let record = self.record;
        let log_scale = self.log_scale;
        let curves = RunCurves::of(record, log_scale);
        let markers = curves.test_markers();
        let series = |name: &str, color, dashed, points: Vec<[f64; 2]>| Series {
            name: name.to_owned(),
            color,
            points,
            dashed,
            markers: dashed && markers,
        };
        let loss = [
            series("training", TRAIN_COLOR, false, curves.train_loss),
            series("test", TEST_COLOR, true, curves.test_loss),
        ];
        let accuracy = [
            series("training", TRAIN_COLOR, false, curves.train_accuracy),
            series("test", TEST_COLOR, true, curves.test_accuracy),
        ];
        ui.horizontal_wrapped(|ui| {
            legend(ui, &[&loss[0], &loss[1]]);
            let mut log = log_scale;
            if ui
                .checkbox(&mut log, "log scale")
                .on_hover_text("Show the loss on a logarithmic scale: small losses stay visible")
                .changed()
            {
                out.push(AppCommand::ToggleLogScale);
            }
        });
        let window = smoothing_window(record.steps_per_epoch);
        ui.weak(format!("Training curves are averaged over about the last {window} batches; a test point comes after each epoch. Hover a curve for its step."));
        let plots = if self.regression { 1.0 } else { 2.0 };
        let width = super::super::widgets::plots::plot_width(ui, plots);
        let empty = "Train to see the curves";
        ui.horizontal_top(|ui| {
            MetricPlot {
                id: egui::Id::new(("loss-plot", &self.def.name)),
                title: "loss",
                steps_per_epoch: record.steps_per_epoch,
                y_range: None,
                log: log_scale,
                width,
                height: 180.0,
            }
            .show(ui, &loss, empty);
            if !self.regression {
                ui.add_space(crate::app::widgets::plots::PLOT_GAP);
                MetricPlot {
                    id: egui::Id::new(("accuracy-plot", &self.def.name)),
                    title: "accuracy",
                    steps_per_epoch: record.steps_per_epoch,
                    y_range: Some((0.0, 1.0)),
                    log: false,
                    width,
                    height: 180.0,
                }
                .show(ui, &accuracy, empty);
            }
        });
    }
}

/// Training curves in one colour, test curves (dashed, a dot per epoch) in another, in both
/// themes; the plot's title says whether it is loss or accuracy.
const TRAIN_COLOR: egui::Color32 = egui::Color32::from_rgb(70, 130, 220);
const TEST_COLOR: egui::Color32 = egui::Color32::from_rgb(235, 120, 50);

/// Train or Pause, Step, Epoch and Reset for one model (the training cell and the run bar).
pub(in crate::app) fn buttons_ui(
    ui: &mut egui::Ui,
    model: &str,
    record: &RunRecord,
    hide: &[Control],
    out: &mut Vec<AppCommand>,
) {
    let running = matches!(record.state, RunState::Running);
    let mut send = |command: ModelCommand| out.push(AppCommand::model(model, command));
    if running {
        if ui.button("⏸ Pause").on_hover_text("Stop after the current batch (Space)").clicked() {
            send(ModelCommand::Pause);
        }
    } else if ui
        .button("▶ Train")
        .on_hover_text("Train for the notebook's epochs (once they are done, as many again); the curves update as it learns (Space)")
        .clicked()
    {
        send(ModelCommand::Train);
    }
    if !hide.contains(&Control::StepButtons) {
        if ui
            .add_enabled(!running, egui::Button::new("Step"))
            .on_hover_text("Train on one batch, then pause (S)")
            .clicked()
        {
            send(ModelCommand::StepBatch);
        }
        if ui
            .add_enabled(!running, egui::Button::new("Epoch"))
            .on_hover_text("Train to the end of this pass over the data, then pause")
            .clicked()
        {
            send(ModelCommand::StepEpoch);
        }
    }
    if !hide.contains(&Control::Reset)
        && ui
            .button("Reset")
            .on_hover_text("Back to this run's starting weights (same seed); the curves are cleared")
            .clicked()
    {
        send(ModelCommand::Reset);
    }
}

fn optimizer_help(name: &str) -> &'static str {
    match name {
        "SGD" => "Stochastic gradient descent with momentum: each step moves the weights against the gradient",
        "Adam" => "Adam: scales each weight's step by its recent gradients; a good default",
        _ => "AdamW: Adam with weight decay that shrinks the weights a little every step",
    }
}
