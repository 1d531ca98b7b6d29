//! One run per model, kept in step with the notebook: each model's trainer, the fold of its
//! events, its shapes, and whether it fits the data.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use eframe::egui;
use glassbox_engine::data::Splits;
use glassbox_engine::files;
use glassbox_engine::graph::{fit_to_data, infer_shapes, GraphSpec, ShapeReport};
use glassbox_engine::train::{Command, RunRecord, RunState, Session, StartRun, WeightsFile};

use super::{GlassboxApp, ModelCommand};
use crate::notebook::{weights_path, ModelDef, Notebook};

/// One model's side of the app: its trainer, the fold of its events, its shapes.
#[derive(Default)]
pub(super) struct ModelRun {
    pub session: Option<Session>,
    pub record: RunRecord,
    /// The shapes of `graph`, which is the model's graph when they were worked out.
    pub report: ShapeReport,
    graph: Option<GraphSpec>,
    /// Weights to start the next run from (the model's weights file beside the notebook).
    pub saved_weights: Option<WeightsFile>,
    /// Why the model cannot take the dataset (`Some(None)`: it can; `None`: not checked yet).
    pub misfit: Option<Option<Misfit>>,
    /// The training settings `misfit` was worked out for.
    misfit_for: Option<glassbox_engine::train::TrainConfig>,
    /// The epoch the last Train runs to (past the planned epochs, Train adds as many again).
    pub target_epochs: Option<usize>,
}

/// Why a model cannot train on the data, and what fitting it would change (when it can be
/// fitted by setting its Input and output).
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Misfit {
    pub message: String,
    /// The changes "Fit the model to this data" makes, in words; empty when fitting cannot help.
    pub fix: Vec<String>,
}

impl ModelRun {
    /// Ends the run (its trainer stays, idle) and forgets what it recorded.
    pub fn stop(&mut self) {
        if let Some(session) = &self.session {
            session.send(Command::Stop);
        }
        self.record = RunRecord::default();
        self.target_epochs = None;
    }

    /// The epoch the progress counts to: the last Train's goal, or the planned epochs.
    pub fn target(&self, planned: usize) -> usize {
        self.target_epochs.unwrap_or(planned).max(1)
    }
}

/// The weights saved beside a notebook for one of its models. The first model also takes the
/// format-1 name (`NAME.safetensors`), which `glassbox train --out` users may have written.
pub(super) fn read_saved_weights(notebook: &Path, model: &ModelDef, first: bool) -> Option<WeightsFile> {
    // A file far larger than the model's weights is not its weights: not read at all.
    let limit = glassbox_engine::train::weights_file_limit(infer_shapes(&model.graph).total_params());
    let read = |path: PathBuf| {
        files::read_file_at_most(&path, "the weights file", limit)
            .ok()
            .map(|bytes| WeightsFile { source: files::brief_path(&path), bytes })
    };
    read(weights_path(notebook, &model.name))
        .or_else(|| first.then(|| read(notebook.with_extension("safetensors"))).flatten())
}

/// Why a model (whose graph has no problems) cannot train on the data: the trainer's own checks,
/// run here so the cells can say it before Train. First the preflight, which allocates nothing
/// (settings, every label against the output, the memory a run would take), then one sample
/// through a freshly built model. When fitting the Input and output would help, the message
/// names every mismatch (input and output) and the fix lists the changes.
fn misfit(def: &ModelDef, report: &ShapeReport, splits: &Splits) -> Option<Misfit> {
    if !report.is_ok() {
        // The graph's own problems are shown on their own.
        return None;
    }
    let problem = match glassbox_engine::train::preflight(&def.graph, &def.training, splits) {
        Err(e) => e.to_string(),
        Ok(_) => {
            let sample = splits.train.batch(&[0]);
            let mut model = glassbox_engine::tensor::Model::new(&def.graph, def.training.seed).ok()?;
            model.evaluate(&sample, def.training.loss).err()?.to_string()
        }
    };
    let need = glassbox_engine::train::output_need(&splits.train);
    let fix = match fit_to_data(&def.graph, &splits.train.shape, need) {
        Ok(fitted) if !fitted.changes.is_empty() => fitted.changes,
        _ => Vec::new(),
    };
    // With a fix at hand, say every mismatch it mends, not only the first the checks met.
    let message = if fix.is_empty() {
        problem
    } else {
        let takes = report.input.as_deref().and_then(|id| report.shape_of(id)).map(glassbox_engine::graph::shape_text);
        let gives = report.output.as_deref().and_then(|id| report.shape_of(id)).map(glassbox_engine::graph::shape_text);
        format!(
            "the data's samples are {} and it needs {need}; the model takes {} and gives {}.",
            glassbox_engine::graph::shape_text(&splits.train.shape),
            takes.unwrap_or_else(|| "?".into()),
            gives.unwrap_or_else(|| "?".into()),
        )
    };
    Some(Misfit { message, fix })
}

impl GlassboxApp {
    /// Stops every run (they trained on data or graphs that are going away).
    pub(super) fn stop_all(&mut self) {
        for run in self.runs.values_mut() {
            run.stop();
        }
    }

    /// New data ends the current runs (they trained on the old data) and drops what was drawn.
    pub(super) fn replace_data(&mut self, splits: Splits) {
        self.stop_all();
        for run in self.runs.values_mut() {
            run.misfit = None;
        }
        self.palette = super::widgets::palette::Palette::for_classes(&splits.train.classes);
        self.splits = Some(splits);
        self.thumbnails.clear();
        self.data_error = None;
    }

    /// Makes `nb` the open notebook, with its data, its saved weights and a fresh history.
    pub(super) fn install(&mut self, nb: Notebook, splits: Splits, path: Option<PathBuf>) {
        self.replace_data(splits);
        self.runs.clear();
        for (i, m) in nb.models.iter().enumerate() {
            let saved_weights = path.as_deref().and_then(|p| read_saved_weights(p, m, i == 0));
            self.runs.insert(m.name.clone(), ModelRun { saved_weights, ..ModelRun::default() });
        }
        self.active = nb.models.first().map(|m| m.name.clone()).unwrap_or_default();
        self.doc.replace(nb, path);
        self.editing = None;
        self.editing_title = None;
        self.error = None;
        self.warnings.clear();
        // A notebook opens at its top.
        self.scroll_to_top = true;
        self.remember();
        self.sync_models();
    }

    /// Keeps one `ModelRun` per model of the notebook, each with the shapes of its graph; a run
    /// whose graph changed (undo, another file) is stopped.
    pub(super) fn sync_models(&mut self) {
        let Some(nb) = self.doc.notebook.as_ref() else { return };
        self.runs.retain(|name, _| nb.model(name).is_some());
        for m in &nb.models {
            let run = self.runs.entry(m.name.clone()).or_default();
            if run.graph.as_ref() != Some(&m.graph) {
                if run.graph.is_some() {
                    run.stop();
                }
                run.report = infer_shapes(&m.graph);
                run.graph = Some(m.graph.clone());
                run.misfit = None;
            }
            // The settings matter too: a batch size decides the memory a run takes.
            if run.misfit_for != Some(m.training) {
                run.misfit_for = Some(m.training);
                run.misfit = None;
            }
            if run.misfit.is_none() {
                run.misfit = Some(self.splits.as_ref().and_then(|splits| misfit(m, &run.report, splits)));
            }
        }
        if nb.model(&self.active).is_none() {
            self.active = nb.models.first().map(|m| m.name.clone()).unwrap_or_default();
        }
    }

    fn session(&mut self, model: &str, ctx: &egui::Context) -> Option<&Session> {
        let pace = self.doc.notebook.as_ref().and_then(|nb| nb.view.steps_per_second);
        let run = self.runs.get_mut(model)?;
        if run.session.is_none() {
            let ctx = ctx.clone();
            // Repaint at most every ~30 ms while the trainer reports, never per step.
            let waker = Arc::new(move || ctx.request_repaint_after(Duration::from_millis(30)));
            match Session::spawn(waker) {
                Ok(s) => {
                    s.send(Command::SetPace(pace));
                    run.session = Some(s);
                }
                Err(e) => self.error = Some(format!("cannot start the training thread: {e}")),
            }
        }
        run.session.as_ref()
    }

    /// Tells every trainer the notebook's speed.
    pub(super) fn send_pace_to_all(&self) {
        let pace = self.doc.notebook.as_ref().and_then(|nb| nb.view.steps_per_second);
        for run in self.runs.values() {
            if let Some(session) = &run.session {
                session.send(Command::SetPace(pace));
            }
        }
    }

    /// Makes sure the model has a live run; returns whether it does.
    fn ensure_run(&mut self, model: &str, ctx: &egui::Context) -> bool {
        let Some(run) = self.runs.get(model) else { return false };
        if run.record.run.is_some() && !matches!(run.record.state, RunState::Stopped | RunState::Failed(_)) {
            return true;
        }
        let (Some(def), Some(splits)) =
            (self.doc.notebook.as_ref().and_then(|nb| nb.model(model)), self.splits.as_ref())
        else {
            return false;
        };
        if !run.report.is_ok() {
            return false;
        }
        let start = StartRun {
            graph: def.graph.clone(),
            data: splits.clone(),
            config: def.training,
            initial_weights: run.saved_weights.clone(),
        };
        self.session(model, ctx);
        let Some(run) = self.runs.get_mut(model) else { return false };
        if let Some(session) = run.session.as_mut() {
            // Test metrics after every epoch, for the test curves.
            session.send(Command::EvaluateEachEpoch(true));
            let id = session.start(start);
            // Later events of older runs are dropped by the fold from here on.
            run.record = RunRecord::for_run(id);
            run.target_epochs = None;
            return true;
        }
        false
    }

    /// Sends a command to the model's trainer if it has a run.
    fn send_if_running(&self, model: &str, command: Command) {
        if let Some(run) = self.runs.get(model) {
            if let (Some(session), Some(_)) = (&run.session, run.record.run) {
                session.send(command);
            }
        }
    }

    fn send(&mut self, model: &str, ctx: &egui::Context, command: Command) {
        if let Some(session) = self.session(model, ctx) {
            session.send(command);
        }
    }

    pub(super) fn apply_model(&mut self, model: &str, command: ModelCommand, ctx: &egui::Context) {
        self.active = model.to_owned();
        let Some(def) = self.doc.notebook.as_mut().and_then(|nb| nb.model_mut(model)) else { return };
        match command {
            ModelCommand::Train => {
                let planned = def.training.epochs.max(1);
                if self.ensure_run(model, ctx) {
                    // Up to the model's number of epochs; once there, another as many.
                    let done =
                        self.runs.get(model).and_then(|r| r.record.latest).map_or(0, |p| p.epoch.floor() as usize);
                    let epochs = if done < planned { planned - done } else { planned };
                    if let Some(run) = self.runs.get_mut(model) {
                        run.target_epochs = Some(done + epochs);
                    }
                    self.send(model, ctx, Command::Run { epochs, until_accuracy: None });
                }
            }
            ModelCommand::Pause => self.send_if_running(model, Command::Pause),
            ModelCommand::StepBatch => {
                if self.ensure_run(model, ctx) {
                    self.send(model, ctx, Command::StepBatch);
                }
            }
            ModelCommand::StepEpoch => {
                if self.ensure_run(model, ctx) {
                    self.send(model, ctx, Command::StepEpoch);
                }
            }
            ModelCommand::Reset => {
                if let Some(run) = self.runs.get_mut(model).filter(|r| r.record.run.is_some()) {
                    run.record.clear_curves();
                    run.target_epochs = None;
                    self.send_if_running(model, Command::Reset);
                }
            }
            ModelCommand::SetLearningRate(lr) => {
                def.training.optimizer = def.training.optimizer.with_lr(lr);
                self.send_if_running(model, Command::SetLearningRate(lr));
            }
            ModelCommand::SetEpochs(epochs) => def.training.epochs = epochs.max(1),
            ModelCommand::SetBatchSize(size) => {
                def.training.batch_size = size.max(1);
                self.send_if_running(model, Command::SetBatchSize(size.max(1)));
            }
            ModelCommand::SetOptimizer(spec) => {
                def.training.optimizer = spec;
                self.send_if_running(model, Command::SetOptimizer(spec));
            }
            ModelCommand::SetSchedule(schedule) => {
                def.training.schedule = schedule;
                let warmup_steps = def.training.warmup_steps;
                self.send_if_running(model, Command::SetSchedule { schedule, warmup_steps });
            }
            ModelCommand::RestoreCheckpoint => self.send_if_running(model, Command::RestoreCheckpoint),
            ModelCommand::ForgetSavedWeights => {
                if let Some(run) = self.runs.get_mut(model) {
                    run.saved_weights = None;
                    run.stop();
                }
            }
            ModelCommand::FitToData => {
                let Some(splits) = self.splits.as_ref() else { return };
                let need = glassbox_engine::train::output_need(&splits.train);
                match fit_to_data(&def.graph, &splits.train.shape, need) {
                    Ok(fitted) => {
                        def.graph = fitted.graph;
                        // Weights saved for the old shapes would not load: the fitted model starts fresh.
                        if let Some(run) = self.runs.get_mut(model) {
                            run.saved_weights = None;
                        }
                        self.status = Some(if fitted.changes.is_empty() {
                            format!("{model} already fits this data")
                        } else {
                            format!("Fitted {model} to the data: {} (Ctrl+Z undoes it)", fitted.changes.join("; "))
                        });
                    }
                    Err(e) => self.status = Some(format!("Could not fit {model} to this data: {e}")),
                }
            }
        }
    }

    /// Brings back a notebook from the undo or redo history: its data (rebuilt if it differs),
    /// and the training settings of runs in progress.
    pub(super) fn restore(&mut self, mut nb: Notebook) {
        let Some(current) = self.doc.notebook.take() else { return };
        // The view's settings are not part of the history: undo keeps the current ones.
        nb.view = current.view.clone();
        if nb.data != current.data {
            match nb.data.build() {
                Ok(splits) => self.replace_data(splits),
                Err(e) => self.data_error = Some(format!("{e}")),
            }
        }
        for m in &nb.models {
            let Some(old) = current.model(&m.name).map(|o| o.training) else { continue };
            let (new, name) = (m.training, m.name.as_str());
            if new.optimizer != old.optimizer {
                self.send_if_running(name, Command::SetOptimizer(new.optimizer));
            }
            if new.batch_size != old.batch_size {
                self.send_if_running(name, Command::SetBatchSize(new.batch_size));
            }
            if new.schedule != old.schedule {
                self.send_if_running(
                    name,
                    Command::SetSchedule { schedule: new.schedule, warmup_steps: new.warmup_steps },
                );
            }
        }
        // Renamed models keep their runs.
        if nb.models.len() == current.models.len() {
            for (new, old) in nb.models.iter().zip(&current.models) {
                if new.name != old.name {
                    if let Some(run) = self.runs.remove(&old.name) {
                        self.runs.insert(new.name.clone(), run);
                    }
                }
            }
        }
        self.doc.notebook = Some(nb);
        self.doc.compare_with_saved();
        self.editing = None;
    }
}
