//! One run per model, kept in step with the notebook: each model's trainer, the fold of its
//! events, its shapes, and whether it fits the data.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use eframe::egui;
use glassbox_engine::data::Splits;
use glassbox_engine::files;
use glassbox_engine::graph::{fit_to_data, infer_shapes, GraphSpec, ShapeReport};
use glassbox_engine::train::{Command, RunRecord, RunState, Session, StartRun, WeightsFile};

use super::{GlassboxApp, ModelCommand};
use crate::notebook::{weights_path, CellKind, ModelDef, Notebook};

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
    /// `saved_weights` belong to another graph (the model before an edit): the next run loads
    /// the tensors that still fit and starts the rest fresh.
    pub weights_partial: bool,
    /// The graph `saved_weights` were trained for, when they came from an edit (`None`: this
    /// model's graph, as loaded).
    weights_graph: Option<GraphSpec>,
    /// Weights of graphs this model had, newest last, so Undo brings back a graph with its
    /// trained weights.
    weights_by_graph: Vec<(GraphSpec, WeightsFile)>,
    /// What the last edit did to the trained weights, shown in the model cell until the next run.
    pub weights_note: Option<String>,
    /// When a decision-boundary grid was last asked for, and for which step.
    grid_asked: Option<(std::time::Instant, usize)>,
    /// Which sample and moment the inspection cells show, and what was asked of the trainer.
    pub inspector: super::inspect::Inspector,
}

/// How finely the decision boundary of a 2-D set is drawn: this many points a side.
pub(super) const BOUNDARY_GRID: usize = 100;

/// The part of the plane a 2-D set's plot shows: its points' box, with a margin (the same box a
/// saved figure shows).
fn plane_bounds(splits: &Splits) -> ([f32; 2], [f32; 2]) {
    crate::figures::cells::bounds(splits)
}

/// What weights taken from the trainer (before an edit) are called in messages.
const REMEMBERED: &str = "the weights trained before the edit";

/// How many earlier graphs' weights a model keeps for Undo.
const WEIGHTS_REMEMBERED: usize = 16;

/// Why a model cannot train on the data, and what fitting it would change (when it can be
/// fitted by setting its Input and output).
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Misfit {
    pub message: String,
    /// The changes "Fit the model to this data" makes, in words; empty when fitting cannot help.
    pub fix: Vec<String>,
}

impl ModelRun {
    /// Whether the model has a run its trainer can answer questions about (started, not stopped
    /// or failed).
    pub fn is_live(&self) -> bool {
        self.record.run.is_some()
            && !matches!(
                self.record.state,
                glassbox_engine::train::RunState::Stopped | glassbox_engine::train::RunState::Failed(_)
            )
    }

    /// The model's input shape per sample, when its graph has one.
    pub fn input_shape(&self) -> Option<Vec<usize>> {
        self.report.input.as_ref().and_then(|id| self.report.shape_of(id)).map(<[usize]>::to_vec)
    }

    /// Ends the run (its trainer stays, idle) and forgets what it recorded.
    pub fn stop(&mut self) {
        if let Some(session) = &self.session {
            session.send(Command::Stop);
        }
        self.record = RunRecord::default();
        self.target_epochs = None;
    }

    /// Where the next run starts from, in words, when not from fresh random weights.
    pub fn starts_from(&self) -> Option<&'static str> {
        let weights = self.saved_weights.as_ref()?;
        Some(if self.weights_partial {
            "Starts from the weights kept after your edit (the layers it changed start fresh)."
        } else if weights.source == REMEMBERED {
            "Starts from the weights trained for this graph before."
        } else {
            "Starts from the trained weights saved beside the notebook."
        })
    }

    /// The next run starts from the seeded initial weights.
    fn start_fresh(&mut self) {
        self.saved_weights = None;
        self.weights_partial = false;
        self.weights_graph = None;
    }

    /// Keeps `weights` as the weights of `graph` (for Undo).
    fn remember(&mut self, graph: GraphSpec, weights: WeightsFile) {
        self.weights_by_graph.retain(|(g, _)| *g != graph);
        self.weights_by_graph.push((graph, weights));
        if self.weights_by_graph.len() > WEIGHTS_REMEMBERED {
            self.weights_by_graph.remove(0);
        }
    }

    /// The weights of the current run, asked of the trainer (it answers between two steps), if
    /// it has trained at all; else the weights the next run would start from.
    pub(super) fn current_weights(&self) -> Option<WeightsFile> {
        let trained = self.record.run.is_some()
            && self.record.latest.is_some_and(|p| p.step > 0)
            && !matches!(self.record.state, RunState::Stopped | RunState::Failed(_));
        if !trained {
            return self.saved_weights.clone();
        }
        let session = self.session.as_ref()?;
        session.send(Command::Pause);
        let bytes = session.current_weights(Duration::from_secs(5))?;
        Some(WeightsFile { source: REMEMBERED.into(), bytes })
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
    let fix = match fit_to_data(
        &def.graph,
        &splits.train.shape,
        need,
        splits.train.vocab.as_ref().map(glassbox_engine::data::Vocab::len),
    ) {
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
    /// For a classification set of 2-D points, asks the focused model's trainer for its outputs
    /// over the plane (the decision boundary the dataset cell shades), at most every 150 ms and
    /// only when the weights changed since the last grid.
    pub(super) fn ask_for_boundary(&mut self) {
        let Some(splits) = self.splits.as_ref() else { return };
        if splits.train.shape != [2] || splits.train.labels().is_none() {
            return;
        }
        let Some(run) = self.runs.get_mut(&self.active) else { return };
        let (Some(session), Some(_)) = (&run.session, run.record.run) else { return };
        if matches!(run.record.state, RunState::Failed(_) | RunState::Stopped) {
            return;
        }
        let moment = run.inspector.moment;
        let step = moment.unwrap_or_else(|| run.record.latest.map_or(0, |p| p.step));
        // Each hidden neuron over the plane too, when an activations cell or the editor's
        // previews show them.
        let neurons = self.doc.notebook.as_ref().is_some_and(|nb| {
            nb.cells.iter().any(|c| {
                !c.folded
                    && c.model() == Some(self.active.as_str())
                    && (matches!(c.kind, CellKind::Activations { .. })
                        || (nb.view.node_previews && matches!(c.kind, CellKind::Model { .. })))
            })
        });
        let drawn = run
            .record
            .grid
            .as_ref()
            .filter(|g| g.request.moment == moment && (g.request.neurons || !neurons))
            .map(|g| g.step);
        let recently = run.grid_asked.is_some_and(|(at, asked)| {
            // Not more often than every 150 ms; an answer for this step on its way gets 2 s.
            at.elapsed() < Duration::from_millis(150)
                || (asked == step && drawn != Some(step) && at.elapsed() < Duration::from_secs(2))
        });
        if drawn == Some(step) || recently {
            return;
        }
        let (low, high) = plane_bounds(splits);
        let request = glassbox_engine::train::GridRequest { low, high, n: BOUNDARY_GRID, moment, neurons };
        session.send(Command::PredictGrid(request));
        run.grid_asked = Some((std::time::Instant::now(), step));
    }

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
        self.ink = super::inspect::ink_range(&splits);
        self.splits = Some(splits);
        self.data_version += 1;
        for run in self.runs.values_mut() {
            run.inspector = super::inspect::Inspector::default();
        }
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
                // A graph this model had before (Undo, Redo) comes back with its weights.
                if let Some((_, weights)) = run.weights_by_graph.iter().rev().find(|(g, _)| *g == m.graph) {
                    run.saved_weights = Some(weights.clone());
                    run.weights_partial = false;
                    run.weights_graph = None;
                    run.weights_note =
                        Some("The weights trained for this graph are back: Train goes on from them.".into());
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
    pub(super) fn ensure_run(&mut self, model: &str, ctx: &egui::Context) -> bool {
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
            keep_matching_weights: run.weights_partial,
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
            run.weights_note = None;
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
            ModelCommand::Evaluate => {
                if self.ensure_run(model, ctx) {
                    self.send(model, ctx, Command::Evaluate);
                }
            }
            ModelCommand::Generate(request) => {
                if self.ensure_run(model, ctx) {
                    self.send(model, ctx, Command::Generate(request));
                }
            }
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
                    run.start_fresh();
                    run.weights_note = None;
                    run.stop();
                }
            }
            ModelCommand::FitToData => {
                let Some(splits) = self.splits.as_ref() else { return };
                let need = glassbox_engine::train::output_need(&splits.train);
                match fit_to_data(
                    &def.graph,
                    &splits.train.shape,
                    need,
                    splits.train.vocab.as_ref().map(glassbox_engine::data::Vocab::len),
                ) {
                    Ok(fitted) => {
                        def.graph = fitted.graph;
                        // Weights saved for the old shapes would not load: the fitted model starts fresh.
                        if let Some(run) = self.runs.get_mut(model) {
                            run.start_fresh();
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
        // The view's settings are not part of the history: undo keeps the current ones, and the
        // nodes stay where they were moved to.
        nb.view = current.view.clone();
        for m in &mut nb.models {
            let Some(old) = current.model(&m.name) else { continue };
            for (id, place) in &old.layout {
                if m.graph.node(id).is_some() {
                    m.layout.insert(id.clone(), *place);
                }
            }
            // Weights trained on the graph being left are kept for Redo.
            if old.graph != m.graph {
                if let Some(run) = self.runs.get_mut(&m.name) {
                    if let Some(weights) = run.current_weights() {
                        // They are the old graph's own unless carried over by an edit and not
                        // trained since.
                        if !run.weights_partial || run.record.run.is_some() {
                            run.remember(old.graph.clone(), weights);
                        }
                    }
                }
            }
        }
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

impl GlassboxApp {
    /// An edit in the graph editor: the new graph replaces the model's, and a model that has
    /// trained keeps the weights whose shapes still fit (the next run starts from them; Undo
    /// brings back the graph with all its weights). An edit while training pauses the run.
    pub(super) fn edit_graph(&mut self, model: &str, graph: GraphSpec, layout: BTreeMap<String, [f32; 2]>) {
        let Some(def) = self.doc.notebook.as_mut().and_then(|nb| nb.model_mut(model)) else { return };
        def.layout = layout;
        if def.graph == graph {
            return;
        }
        let old = std::mem::replace(&mut def.graph, graph);
        let Some(run) = self.runs.get_mut(model) else { return };
        let was_running = matches!(run.record.state, RunState::Running);
        let trained = run.record.run.is_some() && run.record.latest.is_some_and(|p| p.step > 0);
        self.status = None;
        if let Some(weights) = run.current_weights() {
            // The weights belong to the graph before this edit, unless they came through an
            // earlier edit without training since (then they belong to that older graph).
            let own = trained || !run.weights_partial;
            if own {
                run.remember(old.clone(), weights.clone());
            }
            let source = if own { old.clone() } else { run.weights_graph.clone().unwrap_or_else(|| old.clone()) };
            let new = self.doc.notebook.as_ref().and_then(|nb| nb.model(model)).map(|d| d.graph.clone());
            if let Some(new) = new {
                let carried = glassbox_engine::graph::layout::carried_weights(
                    &source,
                    &infer_shapes(&source),
                    &new,
                    &infer_shapes(&new),
                );
                run.weights_note = Some(format!(
                    "After this edit: {}. The next Train starts from them; Ctrl+Z brings back the graph before, with all its weights.",
                    carried.describe()
                ));
            }
            run.saved_weights = Some(weights);
            run.weights_partial = true;
            run.weights_graph = Some(source);
        }
        if was_running {
            self.status = Some(format!("Paused {model} for your edit: Train goes on with the new graph"));
        }
    }

    /// Replaces a model with a template, and the data with the template's when it differs.
    pub(super) fn use_template(&mut self, model: &str, index: usize) {
        let Some(template) = glassbox_engine::templates::templates().into_iter().nth(index) else { return };
        if self.doc.notebook.as_ref().is_some_and(|nb| nb.data != template.data) {
            match template.data.build() {
                Ok(splits) => {
                    self.replace_data(splits);
                    if let Some(nb) = self.doc.notebook.as_mut() {
                        nb.data = template.data.clone();
                    }
                }
                Err(e) => {
                    self.status = Some(format!("Could not load the data of \"{}\": {e}", template.name));
                    return;
                }
            }
        }
        let Some(def) = self.doc.notebook.as_mut().and_then(|nb| nb.model_mut(model)) else { return };
        def.graph = template.graph;
        def.training = template.training;
        def.layout = BTreeMap::new();
        if let Some(run) = self.runs.get_mut(model) {
            run.start_fresh();
            run.weights_note = None;
        }
        if let Some(editor) = self.editors.get_mut(model) {
            editor.fit();
        }
        self.status =
            Some(format!("{model} is now the template \"{}\": press Train (Ctrl+Z undoes it)", template.name));
    }

    /// Replaces the active model's graph with the one in a graph file.
    pub(super) fn import_graph(&mut self, path: &Path) {
        let model = self.active.clone();
        match super::files::GraphFile::read(path) {
            Ok(file) => {
                self.edit_graph(&model, file.graph, file.layout);
                if let Some(editor) = self.editors.get_mut(&model) {
                    editor.fit();
                }
                self.status = Some(format!("Imported the graph of {} into {model} (Ctrl+Z undoes it)", path.display()));
            }
            Err(e) => self.status = Some(format!("Could not import {}: {e:#}. {model} is unchanged.", path.display())),
        }
    }

    /// Writes the active model's graph (with its layout) to a graph file.
    pub(super) fn export_graph(&mut self, path: &Path) {
        let Some(def) = self.doc.notebook.as_ref().and_then(|nb| nb.model(&self.active)) else { return };
        let file = super::files::GraphFile {
            graph: def.graph.clone(),
            layout: super::cells::graph_editor::complete_layout(&def.graph, &def.layout),
        };
        let written = serde_json::to_string_pretty(&file)
            .map_err(anyhow::Error::from)
            .and_then(|json| std::fs::write(path, json).map_err(anyhow::Error::from));
        self.status = Some(match written {
            Ok(()) => format!("Exported the graph of {} to {}", def.name, path.display()),
            Err(e) => format!("Could not export the graph to {}: {e}", path.display()),
        });
    }
}
