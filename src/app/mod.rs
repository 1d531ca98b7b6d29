//! The notebook window: the cells of one notebook, one training session, and the one place where
//! the cells' commands are applied.

mod cells;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use eframe::egui;
use glassbox_engine::data::Splits;
use glassbox_engine::files;
use glassbox_engine::graph::{infer_shapes, GraphSpec, ShapeReport};
use glassbox_engine::train::{Command, RunRecord, RunState, Session, StartRun, WeightsFile};

use crate::notebook::{unique_name, weights_path, CellKind, ModelDef, Notebook};

/// What a model's training cell asks for.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ModelCommand {
    /// Start (if needed) and run until paused.
    Train,
    Pause,
    StepBatch,
    StepEpoch,
    Reset,
    SetLearningRate(f64),
    SetEpochs(usize),
    SetBatchSize(usize),
    SetOptimizer(glassbox_engine::tensor::OptimizerSpec),
    SetSchedule(glassbox_engine::train::Schedule),
    /// Start the next run from the seeded initial weights instead of the saved ones.
    ForgetSavedWeights,
    /// After a NaN or infinity, go back to the newest checkpoint of good weights.
    RestoreCheckpoint,
}

/// What a cell (or a menu, a shortcut, a test) asks for; applied by [`GlassboxApp::apply`] after
/// the frame's cells are drawn, so cells only read the notebook and never change it themselves.
#[derive(Clone, Debug, PartialEq)]
pub enum AppCommand {
    /// A command for the named model.
    Model {
        model: String,
        command: ModelCommand,
    },
    /// Adds a copy of the named model (graph and training settings) with its own cells, to compare.
    DuplicateModel(String),
    /// Deletes a model and its cells (never the last one).
    DeleteModel(String),
    RenameModel {
        from: String,
        to: String,
    },
    /// Makes a model or training cell show another model.
    SetCellModel {
        cell: usize,
        model: String,
    },
    EditMarkdown {
        cell: usize,
        text: String,
    },
    /// Starts a new, unsaved notebook (the two-spirals MLP).
    New,
    /// Opens a notebook file; on failure the current notebook stays.
    Open(PathBuf),
    /// Opens the work autosaved before a crash, as unsaved changes to the file it came from.
    Recover(PathBuf),
    /// Saves to the current path (asks for one when the notebook has none, or is an example).
    Save,
    /// Saves to a new path, which becomes the current one.
    SaveAs(PathBuf),
    /// Asks for a file to open, in a native dialog on its own thread.
    OpenDialog,
    /// Asks where to save, in a native dialog on its own thread.
    SaveAsDialog,
    /// Takes back the last change to the notebook (Ctrl+Z).
    Undo,
    /// Does again what Undo took back (Ctrl+Shift+Z, Ctrl+Y).
    Redo,
    /// Switches between the dark and the light theme.
    ToggleTheme,
    /// Multiplies the size of everything (text included) by this factor.
    Zoom(f32),
    /// Moves a cell one place up (`up`) or down.
    MoveCell {
        index: usize,
        up: bool,
    },
    DeleteCell(usize),
    /// Adds a cell after this one (a text cell opens ready to edit).
    AddCell {
        after: usize,
        kind: CellKind,
    },
    /// Renames the notebook.
    SetTitle(String),
    /// Folds a cell to its header, or unfolds it (saved with the notebook as view state).
    ToggleFolded(usize),
    /// Shows the loss curves on a logarithmic scale, or not.
    ToggleLogScale,
    /// Switches the dataset; if it cannot be built, the current one stays and the cell says why.
    SetData(glassbox_engine::data::DataSpec),
    /// Asks for a CSV file to import (`true`) or a folder of images (`false`).
    ImportDialog {
        csv: bool,
    },
}

impl AppCommand {
    /// A command for the named model.
    #[must_use]
    pub fn model(model: &str, command: ModelCommand) -> Self {
        Self::Model { model: model.to_owned(), command }
    }

    /// Changes that only alter how the notebook looks: saved, but not steps of undo.
    fn is_view_only(&self) -> bool {
        matches!(self, Self::ToggleFolded(_) | Self::ToggleLogScale)
    }

    /// Edits that arrive every frame while a value is dragged; one undo step takes them all back.
    fn merge_key(&self) -> Option<String> {
        match self {
            Self::Model { model, command: ModelCommand::SetEpochs(_) } => Some(format!("epochs {model}")),
            Self::Model { model, command: ModelCommand::SetBatchSize(_) } => Some(format!("batch {model}")),
            Self::Model { model, command: ModelCommand::SetLearningRate(_) } => Some(format!("lr {model}")),
            // Dragging the points or noise of a generated set.
            Self::SetData(_) => Some("data".into()),
            _ => None,
        }
    }
}

/// A file chosen in a dialog, delivered to the next frame.
enum Chosen {
    Open(PathBuf),
    SaveAs(PathBuf),
    Import(glassbox_engine::data::DataSpec),
}

/// One model's side of the app: its trainer, the fold of its events, its shapes.
#[derive(Default)]
struct ModelRun {
    session: Option<Session>,
    record: RunRecord,
    /// The shapes of `graph`, which is the model's graph when they were worked out.
    report: ShapeReport,
    graph: Option<GraphSpec>,
    /// Weights to start the next run from (the model's weights file beside the notebook).
    saved_weights: Option<WeightsFile>,
    /// Why the model cannot take the dataset (`Some(None)`: it can; `None`: not checked yet).
    misfit: Option<Option<String>>,
    /// The training settings `misfit` was worked out for.
    misfit_for: Option<glassbox_engine::train::TrainConfig>,
}

impl ModelRun {
    /// Ends the run (its trainer stays, idle) and forgets what it recorded.
    fn stop(&mut self) {
        if let Some(session) = &self.session {
            session.send(Command::Stop);
        }
        self.record = RunRecord::default();
    }
}

/// How many steps Undo can go back.
const UNDO_DEPTH: usize = 100;
/// How many recent files the menu lists.
const RECENT_FILES: usize = 8;

/// The app's state.
pub struct GlassboxApp {
    /// The file the notebook came from or was last saved to; `None` for a new notebook.
    path: Option<PathBuf>,
    /// Whether `path` is a bundled example (worked out once per path: it reads the file system).
    example: bool,
    notebook: Option<Notebook>,
    /// The dataset, built once per notebook.
    splits: Option<Splits>,
    /// Each model's trainer and record, by model name.
    runs: BTreeMap<String, ModelRun>,
    /// The model the keyboard shortcuts act on: the last one whose controls were used.
    active: String,
    /// An error to show at the top (a file that did not load, a dataset that did not build).
    error: Option<String>,
    /// What reading the open notebook warned about (keys Glassbox does not know), shown under
    /// the title until dismissed.
    warnings: Vec<String>,
    /// Transient view state: the markdown cell being edited, and its draft.
    editing: Option<(usize, String)>,
    /// Transient view state: the notebook title being edited.
    editing_title: Option<String>,
    pending: Vec<AppCommand>,
    /// A message about the last file operation (saved, or why an open failed).
    status: Option<String>,
    /// Where unsaved work is written every minute; `None` turns autosave off (tests).
    recovery_path: Option<PathBuf>,
    /// A recovery file left by a session that did not end cleanly, offered at start.
    offer_recovery: Option<PathBuf>,
    /// Whether the notebook changed since it was opened, saved or autosaved.
    dirty: bool,
    /// Whether the notebook changed since it was opened or saved (autosave does not count).
    unsaved: bool,
    /// Asking whether to save before the window closes; `closing` once the answer is to close.
    confirm_close: bool,
    closing: bool,
    last_autosave: Instant,
    /// Notebooks as they were before each change (newest last), and changes taken back by Undo.
    undo: Vec<Notebook>,
    redo: Vec<Notebook>,
    /// The last change, when it was a dragged value (merged into one undo step), and when.
    last_edit: Option<(String, Instant)>,
    /// Recently opened or saved notebooks, newest first (kept by eframe between starts).
    recent: Vec<PathBuf>,
    /// Why the last dataset change failed (shown in the dataset cell).
    data_error: Option<String>,
    /// The first training samples of an image set, as textures for the sample grid.
    thumbnails: Vec<(egui::TextureHandle, String)>,
    /// Answers of file dialogs, which run on their own threads so no frame waits for them.
    dialogs: (std::sync::mpsc::Sender<Chosen>, std::sync::mpsc::Receiver<Chosen>),
}

/// A notebook file and its dataset, built: both or an error (nothing half-loaded); with the
/// warnings of reading it (keys it has that Glassbox does not know).
fn load_with_data(path: &Path) -> anyhow::Result<(Notebook, Splits, Vec<String>)> {
    let (nb, warnings) = Notebook::load_with_warnings(path)?;
    let splits = nb.data.build().map_err(|e| anyhow::anyhow!("its dataset could not be built: {e}"))?;
    Ok((nb, splits, warnings))
}

/// Whether `path` is one of the bundled example notebooks (which Save does not overwrite).
fn is_example(path: &Path) -> bool {
    let examples = crate::assets_path("assets/notebooks");
    match (path.canonicalize(), examples.canonicalize()) {
        (Ok(p), Ok(e)) => p.starts_with(e),
        _ => false,
    }
}

/// The weights saved beside a notebook for one of its models. The first model also takes the
/// format-1 name (`NAME.safetensors`), which `glassbox train --out` users may have written.
fn read_saved_weights(notebook: &Path, model: &ModelDef, first: bool) -> Option<WeightsFile> {
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

impl GlassboxApp {
    /// Opens the notebook at `path`; a file that cannot be read shows its error in the window.
    #[must_use]
    pub fn new(path: PathBuf) -> Self {
        let mut app = Self::empty();
        match load_with_data(&path) {
            Ok((nb, splits, warnings)) => {
                app.install(nb, splits, Some(path));
                app.status = warnings_status(&warnings);
                app.warnings = warnings;
            }
            Err(e) => {
                app.error = Some(format!("{e:#}"));
                app.set_path(Some(path));
            }
        }
        app
    }

    fn empty() -> Self {
        Self {
            path: None,
            example: false,
            notebook: None,
            splits: None,
            runs: BTreeMap::new(),
            active: String::new(),
            error: None,
            editing: None,
            editing_title: None,
            pending: Vec::new(),
            status: None,
            warnings: Vec::new(),
            recovery_path: None,
            offer_recovery: None,
            dirty: false,
            unsaved: false,
            confirm_close: false,
            closing: false,
            last_autosave: Instant::now(),
            undo: Vec::new(),
            redo: Vec::new(),
            last_edit: None,
            recent: Vec::new(),
            data_error: None,
            thumbnails: Vec::new(),
            dialogs: std::sync::mpsc::channel(),
        }
    }

    /// Turns on autosave to `path` every minute, and offers a recovery file found there (left by
    /// a session that crashed) before anything else.
    #[must_use]
    pub fn with_recovery(mut self, path: PathBuf) -> Self {
        if path.exists() {
            self.offer_recovery = Some(path.clone());
        }
        self.recovery_path = Some(path);
        self
    }

    /// The recent-files list to start with (eframe keeps it between starts).
    #[must_use]
    pub fn with_recent(mut self, recent: Vec<PathBuf>) -> Self {
        self.recent = recent;
        self
    }

    /// Recently opened or saved notebooks, newest first.
    #[must_use]
    pub fn recent(&self) -> &[PathBuf] {
        &self.recent
    }

    fn set_path(&mut self, path: Option<PathBuf>) {
        self.example = path.as_deref().is_some_and(is_example);
        self.path = path;
    }

    /// The notebook's own file: its path unless it is a bundled example (which Save never
    /// overwrites).
    fn own_path(&self) -> Option<&Path> {
        self.path.as_deref().filter(|_| !self.example)
    }

    /// Puts the notebook's file at the top of the recent files (examples are not listed).
    fn remember(&mut self) {
        let Some(path) = self.own_path().map(Path::to_path_buf) else { return };
        self.recent.retain(|p| p != &path);
        self.recent.insert(0, path);
        self.recent.truncate(RECENT_FILES);
    }

    /// Writes the recovery file now if there are unsaved changes (the app does this every minute).
    pub fn autosave(&mut self) {
        self.last_autosave = Instant::now();
        if let (true, Some(nb), Some(path)) = (self.dirty, self.notebook.as_ref(), self.recovery_path.as_ref()) {
            if let Some(folder) = path.parent() {
                let _ = std::fs::create_dir_all(folder);
            }
            if nb.save(path).is_ok() {
                // Where the work belongs, so recovering it saves to the right file.
                let origin = self.path.as_ref().map(|p| p.display().to_string()).unwrap_or_default();
                let _ = std::fs::write(recovery_origin(path), origin);
                self.dirty = false;
            }
        }
    }

    /// Whether the first model will start from weights saved beside the notebook.
    #[must_use]
    pub fn has_initial_weights(&self) -> bool {
        self.first_model().and_then(|m| self.runs.get(&m)).is_some_and(|r| r.saved_weights.is_some())
    }

    /// The file the notebook was opened from or last saved to (`None` for a new notebook).
    #[must_use]
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The open notebook, if one loaded.
    #[must_use]
    pub fn notebook(&self) -> Option<&Notebook> {
        self.notebook.as_ref()
    }

    /// Queues a command as if a control had been used (menus, shortcuts, tests).
    pub fn push(&mut self, command: AppCommand) {
        self.pending.push(command);
    }

    fn first_model(&self) -> Option<String> {
        self.notebook.as_ref().and_then(|nb| nb.models.first()).map(|m| m.name.clone())
    }

    /// The run record of the model the shortcuts act on (the first model until another is used).
    #[must_use]
    pub fn record(&self) -> &RunRecord {
        static NONE: std::sync::OnceLock<RunRecord> = std::sync::OnceLock::new();
        self.runs.get(&self.active).map_or_else(|| NONE.get_or_init(RunRecord::default), |r| &r.record)
    }

    /// The run record of the named model.
    #[must_use]
    pub fn record_of(&self, model: &str) -> Option<&RunRecord> {
        self.runs.get(model).map(|r| &r.record)
    }

    /// Changes every model's planned number of epochs (tests and benchmarks use short runs).
    #[doc(hidden)]
    pub fn set_epochs_for_test(&mut self, epochs: usize) {
        if let Some(nb) = self.notebook.as_mut() {
            for m in &mut nb.models {
                m.training.epochs = epochs;
            }
        }
    }

    /// Stops every run (they trained on data or graphs that are going away).
    fn stop_all(&mut self) {
        for run in self.runs.values_mut() {
            run.stop();
        }
    }

    /// New data ends the current runs (they trained on the old data) and drops what was drawn.
    fn replace_data(&mut self, splits: Splits) {
        self.stop_all();
        for run in self.runs.values_mut() {
            run.misfit = None;
        }
        self.splits = Some(splits);
        self.thumbnails.clear();
        self.data_error = None;
    }

    /// Makes `nb` the open notebook, with its data, its saved weights and a fresh history.
    fn install(&mut self, nb: Notebook, splits: Splits, path: Option<PathBuf>) {
        self.replace_data(splits);
        self.runs.clear();
        for (i, m) in nb.models.iter().enumerate() {
            let saved_weights = path.as_deref().and_then(|p| read_saved_weights(p, m, i == 0));
            self.runs.insert(m.name.clone(), ModelRun { saved_weights, ..ModelRun::default() });
        }
        self.active = nb.models.first().map(|m| m.name.clone()).unwrap_or_default();
        self.notebook = Some(nb);
        self.editing = None;
        self.editing_title = None;
        self.error = None;
        self.warnings.clear();
        self.dirty = false;
        self.unsaved = false;
        self.undo.clear();
        self.redo.clear();
        self.last_edit = None;
        self.set_path(path);
        self.remember();
        self.sync_models();
    }

    /// Keeps one `ModelRun` per model of the notebook, each with the shapes of its graph; a run
    /// whose graph changed (undo, another file) is stopped.
    fn sync_models(&mut self) {
        let Some(nb) = self.notebook.as_ref() else { return };
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
                run.misfit = Some(self.splits.as_ref().and_then(|splits| misfit(m, splits)));
            }
        }
        if nb.model(&self.active).is_none() {
            self.active = nb.models.first().map(|m| m.name.clone()).unwrap_or_default();
        }
    }

    /// Replaces the notebook with the one at `path`, or leaves everything as it was and says why.
    fn open(&mut self, path: PathBuf) {
        match load_with_data(&path) {
            Ok((nb, splits, warnings)) => {
                self.status = Some(format!("Opened {}", path.display()));
                if let Some(warned) = warnings_status(&warnings) {
                    self.status = Some(warned);
                }
                self.install(nb, splits, Some(path));
                self.warnings = warnings;
            }
            Err(e) => {
                self.recent.retain(|p| p != &path || p.exists());
                self.status =
                    Some(format!("Could not open {}: {e:#}. The notebook you had open is unchanged.", path.display()));
            }
        }
    }

    fn recover(&mut self, recovery: &Path) {
        let origin = std::fs::read_to_string(recovery_origin(recovery)).ok().filter(|o| !o.is_empty());
        match load_with_data(recovery) {
            Ok((nb, splits, _)) => {
                let path = origin.map(PathBuf::from);
                self.status = Some(match &path {
                    Some(p) => format!("Recovered your unsaved work on {}: save it to keep it", p.display()),
                    None => "Recovered your unsaved work: save it to keep it".into(),
                });
                self.install(nb, splits, path);
                self.unsaved = true;
                self.dirty = true;
            }
            Err(e) => self.status = Some(format!("Could not recover the autosaved work: {e:#}")),
        }
    }

    /// Whether the notebook has changes that are not saved to its file.
    #[must_use]
    pub fn has_unsaved_changes(&self) -> bool {
        self.unsaved
    }

    fn new_notebook(&mut self) {
        let nb = Notebook { title: "Untitled".into(), ..Notebook::default() };
        match nb.data.build() {
            Ok(splits) => {
                self.install(nb, splits, None);
                self.status = Some("New notebook: Save (Ctrl+S) asks where to keep it".into());
            }
            Err(e) => self.status = Some(format!("Could not make a new notebook: {e}")),
        }
    }

    fn save_to(&mut self, path: PathBuf) {
        let Some(nb) = self.notebook.as_ref() else { return };
        match nb.save(&path) {
            Ok(()) => {
                self.status = Some(format!("Saved {}", path.display()));
                // Each trained model's weights go beside the notebook, so it reopens trained.
                for (name, run) in &self.runs {
                    if let (Some(session), Some(_)) = (&run.session, run.record.run) {
                        session.send(Command::SaveWeights(weights_path(&path, name)));
                    }
                }
                self.dirty = false;
                self.unsaved = false;
                self.set_path(Some(path));
                self.remember();
            }
            Err(e) => self.status = Some(format!("Could not save: {e:#}")),
        }
    }

    /// Runs a native dialog on its own thread; its answer arrives through `dialogs` and wakes the
    /// UI. Without a thread there is simply no dialog.
    fn spawn_dialog(&self, ctx: &egui::Context, ask: impl FnOnce() -> Option<Chosen> + Send + 'static) {
        let answer = self.dialogs.0.clone();
        let ctx = ctx.clone();
        let _ = std::thread::Builder::new().name("file-dialog".into()).spawn(move || {
            if let Some(chosen) = ask() {
                let _ = answer.send(chosen);
                ctx.request_repaint();
            }
        });
    }

    fn import_dialog(&self, csv: bool, ctx: &egui::Context) {
        use glassbox_engine::data::{ColorMode, CsvOptions, DataSource, DataSpec};
        self.spawn_dialog(ctx, move || {
            let source = if csv {
                rfd::FileDialog::new()
                    .add_filter("CSV table", &["csv", "txt"])
                    .pick_file()
                    .map(|path| DataSource::Csv { path, options: CsvOptions::default() })
            } else {
                rfd::FileDialog::new().pick_folder().map(|path| DataSource::ImageFolder {
                    path,
                    size: 28,
                    color: ColorMode::Grey,
                })
            };
            source.map(|s| Chosen::Import(DataSpec::new(s)))
        });
    }

    /// Makes the sample-grid textures of an image dataset, once per dataset.
    fn ensure_thumbnails(&mut self, ctx: &egui::Context) {
        let Some(train) = self.splits.as_ref().map(|s| &s.train) else { return };
        if !self.thumbnails.is_empty() || train.shape.len() != 3 || train.is_empty() {
            return;
        }
        let (channels, h, w) = (train.shape[0], train.shape[1], train.shape[2]);
        let labels = train.labels().unwrap_or(&[]);
        for i in 0..train.len().min(24) {
            let x = train.sample(i);
            let byte = |v: f32| (v.clamp(0.0, 1.0) * 255.0).round() as u8;
            let pixels: Vec<egui::Color32> = (0..h * w)
                .map(|p| {
                    if channels >= 3 {
                        egui::Color32::from_rgb(byte(x[p]), byte(x[h * w + p]), byte(x[2 * h * w + p]))
                    } else {
                        egui::Color32::from_gray(byte(x[p]))
                    }
                })
                .collect();
            let image = egui::ColorImage::new([w, h], pixels);
            let texture = ctx.load_texture(format!("sample-{i}"), image, egui::TextureOptions::NEAREST);
            let label = labels.get(i).and_then(|&l| train.classes.get(l)).cloned().unwrap_or_default();
            self.thumbnails.push((texture, label));
        }
    }

    fn dialog(&self, open: bool, ctx: &egui::Context) {
        // Examples live with the program: offer the user's own folder for saving them.
        let folder = self.own_path().and_then(Path::parent).map(Path::to_path_buf);
        let name = self.path.as_deref().and_then(Path::file_name).map(|n| n.to_string_lossy().into_owned());
        self.spawn_dialog(ctx, move || {
            let mut dialog = rfd::FileDialog::new().add_filter("Glassbox notebook", &["json"]);
            if let Some(folder) = folder {
                dialog = dialog.set_directory(folder);
            }
            if open {
                dialog.pick_file().map(Chosen::Open)
            } else {
                dialog.set_file_name(name.unwrap_or_else(|| "notebook.json".into())).save_file().map(Chosen::SaveAs)
            }
        });
    }

    fn session(&mut self, model: &str, ctx: &egui::Context) -> Option<&Session> {
        let run = self.runs.get_mut(model)?;
        if run.session.is_none() {
            let ctx = ctx.clone();
            // Repaint at most every ~30 ms while the trainer reports, never per step.
            let waker = Arc::new(move || ctx.request_repaint_after(Duration::from_millis(30)));
            match Session::spawn(waker) {
                Ok(s) => run.session = Some(s),
                Err(e) => self.error = Some(format!("cannot start the training thread: {e}")),
            }
        }
        run.session.as_ref()
    }

    /// Makes sure the model has a live run; returns whether it does.
    fn ensure_run(&mut self, model: &str, ctx: &egui::Context) -> bool {
        let Some(run) = self.runs.get(model) else { return false };
        if run.record.run.is_some() && !matches!(run.record.state, RunState::Stopped | RunState::Failed(_)) {
            return true;
        }
        let (Some(def), Some(splits)) = (self.notebook.as_ref().and_then(|nb| nb.model(model)), self.splits.as_ref())
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

    fn apply_model(&mut self, model: &str, command: ModelCommand, ctx: &egui::Context) {
        self.active = model.to_owned();
        let Some(def) = self.notebook.as_mut().and_then(|nb| nb.model_mut(model)) else { return };
        match command {
            ModelCommand::Train => {
                let planned = def.training.epochs.max(1);
                if self.ensure_run(model, ctx) {
                    // Up to the model's number of epochs; once there, another as many.
                    let done =
                        self.runs.get(model).and_then(|r| r.record.latest).map_or(0, |p| p.epoch.floor() as usize);
                    let epochs = if done < planned { planned - done } else { planned };
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
        }
    }

    /// Brings back a notebook from the undo or redo history: its data (rebuilt if it differs),
    /// and the training settings of runs in progress.
    fn restore(&mut self, nb: Notebook) {
        let Some(current) = self.notebook.take() else { return };
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
        self.notebook = Some(nb);
        self.editing = None;
    }

    /// Applies the commands the cells pushed this frame. Every change to the notebook becomes one
    /// step of undo (values being dragged merge into one step); view changes are saved but not
    /// undone.
    fn apply(&mut self, ctx: &egui::Context) {
        // Most frames (curves moving while training) bring no command: no snapshot then.
        if self.pending.is_empty() {
            return;
        }
        let before = self.notebook.clone();
        let mut history_reset = false;
        let mut view_only = true;
        let mut merge = None;
        for command in std::mem::take(&mut self.pending) {
            view_only &= command.is_view_only();
            merge = command.merge_key();
            match command {
                AppCommand::Model { model, command } => self.apply_model(&model, command, ctx),
                AppCommand::DuplicateModel(name) => self.duplicate_model(&name),
                AppCommand::DeleteModel(name) => {
                    if let Some(nb) = self.notebook.as_mut().filter(|nb| nb.models.len() > 1) {
                        nb.models.retain(|m| m.name != name);
                        nb.cells.retain(|c| c.model() != Some(name.as_str()));
                        self.editing = None;
                    }
                }
                AppCommand::RenameModel { from, to } => self.rename_model(&from, to.trim()),
                AppCommand::SetCellModel { cell, model } => {
                    if let Some(nb) = self.notebook.as_mut() {
                        let known = nb.model(&model).is_some();
                        if let Some(CellKind::Model { model: m } | CellKind::Training { model: m }) =
                            nb.cells.get_mut(cell).map(|c| &mut c.kind)
                        {
                            if known {
                                *m = model;
                            }
                        }
                    }
                }
                AppCommand::EditMarkdown { cell, text } => {
                    if let Some(CellKind::Markdown { text: old }) =
                        self.notebook.as_mut().and_then(|nb| nb.cells.get_mut(cell)).map(|c| &mut c.kind)
                    {
                        *old = text;
                    }
                }
                AppCommand::New => {
                    self.new_notebook();
                    history_reset = true;
                }
                AppCommand::Open(path) => {
                    self.open(path);
                    history_reset = true;
                }
                AppCommand::Recover(recovery) => {
                    self.recover(&recovery);
                    history_reset = true;
                }
                AppCommand::Save => match self.own_path().map(Path::to_path_buf) {
                    Some(path) => self.save_to(path),
                    None => self.dialog(false, ctx),
                },
                AppCommand::SaveAs(path) => self.save_to(path),
                AppCommand::OpenDialog => self.dialog(true, ctx),
                AppCommand::SaveAsDialog => self.dialog(false, ctx),
                AppCommand::Undo | AppCommand::Redo => {
                    let redo = matches!(command, AppCommand::Redo);
                    let (from, to) =
                        if redo { (&mut self.redo, &mut self.undo) } else { (&mut self.undo, &mut self.redo) };
                    if let (Some(nb), Some(current)) = (from.pop(), self.notebook.clone()) {
                        to.push(current);
                        self.restore(nb);
                        self.dirty = true;
                        self.unsaved = true;
                        self.status =
                            Some(if redo { "Redone".into() } else { "Undone (Ctrl+Shift+Z redoes it)".into() });
                    }
                    history_reset = true;
                    merge = None;
                }
                AppCommand::ToggleTheme => {
                    let next = match ctx.theme() {
                        egui::Theme::Dark => egui::Theme::Light,
                        egui::Theme::Light => egui::Theme::Dark,
                    };
                    ctx.set_theme(next);
                }
                AppCommand::Zoom(factor) => ctx.set_zoom_factor((ctx.zoom_factor() * factor).clamp(0.6, 3.0)),
                AppCommand::MoveCell { index, up } => {
                    if let Some(nb) = self.notebook.as_mut() {
                        let other = if up { index.checked_sub(1) } else { Some(index + 1) };
                        if let Some(other) = other.filter(|&o| o < nb.cells.len() && index < nb.cells.len()) {
                            nb.cells.swap(index, other);
                            self.editing = None;
                        }
                    }
                }
                AppCommand::DeleteCell(index) => {
                    if let Some(nb) = self.notebook.as_mut().filter(|nb| index < nb.cells.len()) {
                        nb.cells.remove(index);
                        self.editing = None;
                    }
                }
                AppCommand::AddCell { after, kind } => {
                    if let Some(nb) = self.notebook.as_mut() {
                        let at = (after + 1).min(nb.cells.len());
                        if let CellKind::Markdown { text } = &kind {
                            self.editing = Some((at, text.clone()));
                        }
                        nb.cells.insert(at, kind.into());
                    }
                }
                AppCommand::SetTitle(title) => {
                    if let Some(nb) = self.notebook.as_mut().filter(|_| !title.trim().is_empty()) {
                        nb.title = title.trim().to_owned();
                    }
                }
                AppCommand::ToggleFolded(index) => {
                    if let Some(cell) = self.notebook.as_mut().and_then(|nb| nb.cells.get_mut(index)) {
                        cell.folded = !cell.folded;
                    }
                }
                AppCommand::SetData(spec) => match spec.build() {
                    Ok(splits) => {
                        self.replace_data(splits);
                        if let Some(nb) = self.notebook.as_mut() {
                            nb.data = spec;
                        }
                    }
                    Err(e) => self.data_error = Some(format!("{e} The previous dataset is still in use.")),
                },
                AppCommand::ImportDialog { csv } => self.import_dialog(csv, ctx),
                AppCommand::ToggleLogScale => {
                    if let Some(nb) = self.notebook.as_mut() {
                        nb.view.log_scale = !nb.view.log_scale;
                    }
                }
            }
        }
        self.sync_models();
        if history_reset || self.notebook == before {
            return;
        }
        self.dirty = true;
        self.unsaved = true;
        let Some(before) = before.filter(|_| !view_only) else { return };
        let now = Instant::now();
        let merged = matches!((&merge, &self.last_edit), (Some(key), Some((last, at))) if key == last && now.duration_since(*at) < Duration::from_secs(2));
        if !merged {
            self.undo.push(before);
            if self.undo.len() > UNDO_DEPTH {
                self.undo.remove(0);
            }
        }
        self.redo.clear();
        self.last_edit = merge.map(|key| (key, now));
    }

    fn duplicate_model(&mut self, name: &str) {
        let Some(nb) = self.notebook.as_mut() else { return };
        let Some(source) = nb.model(name).cloned() else { return };
        let base = format!("{name} copy");
        let copy_name = unique_name(&base, |n| nb.model(n).is_some());
        nb.models.push(ModelDef { name: copy_name.clone(), ..source });
        // The copy's cells go right after the last cell of the original.
        let at = nb.cells.iter().rposition(|c| c.model() == Some(name)).map_or(nb.cells.len(), |i| i + 1);
        nb.cells.insert(at, CellKind::Training { model: copy_name.clone() }.into());
        nb.cells.insert(at, CellKind::Model { model: copy_name.clone() }.into());
        self.active = copy_name;
        self.status = Some("Copied the model: change its settings, train both, and compare the curves".into());
    }

    fn rename_model(&mut self, from: &str, to: &str) {
        let Some(nb) = self.notebook.as_mut() else { return };
        if to.is_empty() || from == to {
            return;
        }
        if nb.model(to).is_some() {
            self.status = Some(format!("There is already a model called \"{to}\": choose another name"));
            return;
        }
        let Some(def) = nb.model_mut(from) else { return };
        def.name = to.to_owned();
        for cell in &mut nb.cells {
            if let CellKind::Model { model } | CellKind::Training { model } = &mut cell.kind {
                if model == from {
                    *model = to.to_owned();
                }
            }
        }
        if let Some(run) = self.runs.remove(from) {
            self.runs.insert(to.to_owned(), run);
        }
        if self.active == from {
            self.active = to.to_owned();
        }
    }

    /// Draws the whole window's contents (the eframe entry point calls this; tests drive it with
    /// `egui_kittest`).
    pub fn show(&mut self, ui: &mut egui::Ui) {
        for run in self.runs.values_mut() {
            if let Some(session) = &run.session {
                for event in session.poll() {
                    run.record.apply(event);
                }
            }
        }
        while let Ok(chosen) = self.dialogs.1.try_recv() {
            self.pending.push(match chosen {
                Chosen::Open(path) => AppCommand::Open(path),
                Chosen::SaveAs(path) => AppCommand::SaveAs(path),
                Chosen::Import(spec) => AppCommand::SetData(spec),
            });
        }
        self.shortcuts(ui);
        egui::Panel::top("toolbar").show(ui, |ui| self.toolbar_ui(ui));
        egui::CentralPanel::default().show(ui, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| {
                self.title_ui(ui);
                match &self.path {
                    Some(path) if self.example => {
                        ui.weak(format!("Example notebook: {} (Save asks where to keep your copy)", path.display()))
                    }
                    Some(path) => ui.weak(format!("Notebook: {}", path.display())),
                    None => ui.weak("A new notebook, not saved yet"),
                };
                if let Some(error) = &self.error {
                    ui.colored_label(ui.visuals().error_fg_color, error);
                }
                if !self.warnings.is_empty() {
                    for warning in &self.warnings {
                        ui.colored_label(ui.visuals().warn_fg_color, format!("⚠ {warning}"));
                    }
                    if ui
                        .button("Dismiss")
                        .on_hover_text("Hide these warnings; saving the notebook drops the ignored keys")
                        .clicked()
                    {
                        self.warnings.clear();
                    }
                }
                ui.separator();
                self.cells_ui(ui);
                ui.separator();
                cells::licenses_ui(ui);
            });
        });
        let ctx = ui.ctx().clone();
        self.close_guard(&ctx);
        self.apply(&ctx);
        if self.last_autosave.elapsed() >= Duration::from_secs(60) {
            self.autosave();
        }
        if self.runs.values().any(|r| matches!(r.record.state, RunState::Running)) {
            ctx.request_repaint_after(Duration::from_millis(100));
        }
    }

    /// The notebook's title; double-click to rename it.
    fn title_ui(&mut self, ui: &mut egui::Ui) {
        let Some(nb) = self.notebook.as_ref() else {
            ui.heading("Glassbox");
            return;
        };
        if let Some(draft) = self.editing_title.as_mut() {
            let response =
                ui.add(egui::TextEdit::singleline(draft).font(egui::TextStyle::Heading).desired_width(500.0));
            if !response.has_focus() && !response.lost_focus() {
                response.request_focus();
            }
            if response.lost_focus() {
                let escaped = ui.input(|i| i.key_pressed(egui::Key::Escape));
                if let Some(title) = self.editing_title.take().filter(|_| !escaped) {
                    self.pending.push(AppCommand::SetTitle(title));
                }
            }
            return;
        }
        let title = ui
            .add(
                egui::Label::new(egui::RichText::new(&nb.title).heading())
                    .selectable(false)
                    .sense(egui::Sense::click()),
            )
            .on_hover_text("Double-click to rename the notebook");
        if title.double_clicked() {
            self.editing_title = Some(nb.title.clone());
        }
    }

    /// Closing the window with unsaved changes asks first: save, close anyway, or stay.
    fn close_guard(&mut self, ctx: &egui::Context) {
        if ctx.input(|i| i.viewport().close_requested()) && self.unsaved && !self.closing {
            ctx.send_viewport_cmd(egui::ViewportCommand::CancelClose);
            self.confirm_close = true;
        }
        if !self.confirm_close {
            return;
        }
        let can_save = self.own_path().is_some();
        egui::Modal::new(egui::Id::new("confirm-close")).show(ctx, |ui| {
            ui.heading("Save your changes?");
            ui.label("This notebook has changes that are not saved. Closing without saving loses them.");
            ui.horizontal(|ui| {
                if ui
                    .add_enabled(can_save, egui::Button::new("Save and close"))
                    .on_hover_text("Save the notebook (and its trained weights) to its file, then close")
                    .clicked()
                {
                    self.pending.push(AppCommand::Save);
                    self.closing = true;
                    ctx.send_viewport_cmd(egui::ViewportCommand::Close);
                }
                if !can_save
                    && ui.button("Save as…").on_hover_text("Choose where to keep this notebook first").clicked()
                {
                    self.pending.push(AppCommand::SaveAsDialog);
                    self.confirm_close = false;
                }
                if ui.button("Close without saving").on_hover_text("Lose the changes and close").clicked() {
                    self.closing = true;
                    ctx.send_viewport_cmd(egui::ViewportCommand::Close);
                }
                if ui.button("Cancel").on_hover_text("Keep working").clicked() {
                    self.confirm_close = false;
                }
            });
        });
    }

    fn toolbar_ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            if ui.button("New").on_hover_text("Start a new notebook: a small network on the two spirals").clicked() {
                self.pending.push(AppCommand::New);
            }
            if ui.button("Open…").on_hover_text("Open a notebook file (Ctrl+O)").clicked() {
                self.pending.push(AppCommand::OpenDialog);
            }
            ui.menu_button("Examples", |ui| {
                for (title, path) in examples() {
                    if ui.button(title).on_hover_text(path.display().to_string()).clicked() {
                        self.pending.push(AppCommand::Open(path.clone()));
                        ui.close();
                    }
                }
            })
            .response
            .on_hover_text("The lessons that come with Glassbox");
            ui.add_enabled_ui(!self.recent.is_empty(), |ui| {
                ui.menu_button("Recent", |ui| {
                    for path in &self.recent {
                        if ui.button(recent_label(path)).on_hover_text(path.display().to_string()).clicked() {
                            self.pending.push(AppCommand::Open(path.clone()));
                            ui.close();
                        }
                    }
                })
                .response
                .on_hover_text("Notebooks you opened or saved lately");
            });
            if ui.button("Save").on_hover_text("Save this notebook to its file (Ctrl+S)").clicked() {
                self.pending.push(AppCommand::Save);
            }
            if ui.button("Save as…").on_hover_text("Save this notebook to a new file").clicked() {
                self.pending.push(AppCommand::SaveAsDialog);
            }
            ui.separator();
            if ui
                .add_enabled(!self.undo.is_empty(), egui::Button::new("Undo"))
                .on_hover_text("Take back the last change to the notebook (Ctrl+Z)")
                .clicked()
            {
                self.pending.push(AppCommand::Undo);
            }
            if ui
                .add_enabled(!self.redo.is_empty(), egui::Button::new("Redo"))
                .on_hover_text("Do again what Undo took back (Ctrl+Shift+Z)")
                .clicked()
            {
                self.pending.push(AppCommand::Redo);
            }
            ui.separator();
            let theme = if ui.visuals().dark_mode { "☀ Light" } else { "🌙 Dark" };
            if ui.button(theme).on_hover_text("Switch between the dark and the light theme").clicked() {
                self.pending.push(AppCommand::ToggleTheme);
            }
            if ui.button("A−").on_hover_text("Smaller text and controls").clicked() {
                self.pending.push(AppCommand::Zoom(1.0 / 1.15));
            }
            if ui.button("A+").on_hover_text("Larger text and controls, for a projector").clicked() {
                self.pending.push(AppCommand::Zoom(1.15));
            }
            if let Some(status) = &self.status {
                ui.separator();
                ui.label(status);
            }
        });
        if let Some(recovery) = self.offer_recovery.clone() {
            ui.horizontal(|ui| {
                ui.colored_label(
                    ui.visuals().warn_fg_color,
                    "Glassbox did not close cleanly last time. Unsaved work was kept.",
                );
                if ui.button("Recover").on_hover_text("Open the work saved automatically before the crash").clicked() {
                    self.pending.push(AppCommand::Recover(recovery.clone()));
                    self.offer_recovery = None;
                }
                if ui.button("Discard").on_hover_text("Delete the automatically saved copy").clicked() {
                    let _ = std::fs::remove_file(&recovery);
                    let _ = std::fs::remove_file(recovery_origin(&recovery));
                    self.offer_recovery = None;
                }
            });
        }
    }

    /// Space: train or pause; S: one step; Ctrl+S: save; Ctrl+O: open; Ctrl+N: new; Ctrl+Z:
    /// undo; Ctrl+Shift+Z or Ctrl+Y: redo. Not while typing (text fields have their own undo).
    fn shortcuts(&mut self, ui: &egui::Ui) {
        if ui.ctx().egui_wants_keyboard_input() {
            return;
        }
        let running = matches!(self.record().state, RunState::Running);
        let (save, open, new, undo, redo, space, step) = ui.input(|i| {
            let (command, shift) = (i.modifiers.command, i.modifiers.shift);
            (
                command && i.key_pressed(egui::Key::S),
                command && i.key_pressed(egui::Key::O),
                command && i.key_pressed(egui::Key::N),
                command && !shift && i.key_pressed(egui::Key::Z),
                command && ((shift && i.key_pressed(egui::Key::Z)) || i.key_pressed(egui::Key::Y)),
                i.key_pressed(egui::Key::Space),
                !command && i.key_pressed(egui::Key::S),
            )
        });
        for (pressed, command) in [
            (save, AppCommand::Save),
            (open, AppCommand::OpenDialog),
            (new, AppCommand::New),
            (undo, AppCommand::Undo),
            (redo, AppCommand::Redo),
        ] {
            if pressed {
                self.pending.push(command);
            }
        }
        let active = self.active.clone();
        if space {
            let command = if running { ModelCommand::Pause } else { ModelCommand::Train };
            self.pending.push(AppCommand::model(&active, command));
        }
        if step && !running {
            self.pending.push(AppCommand::model(&active, ModelCommand::StepBatch));
        }
    }

    fn cells_ui(&mut self, ui: &mut egui::Ui) {
        self.ensure_thumbnails(&ui.ctx().clone());
        let Some(nb) = self.notebook.as_ref() else { return };
        let count = nb.cells.len();
        let names: Vec<&str> = nb.models.iter().map(|m| m.name.as_str()).collect();
        for (index, cell) in nb.cells.iter().enumerate() {
            let frame = egui::Frame::group(ui.style()).inner_margin(8.0);
            frame.show(ui, |ui| {
                ui.set_width(ui.available_width());
                let header = cells::Header { index, count, folded: cell.folded, models: &names };
                header.show(ui, cell, &mut self.pending);
                if cell.folded {
                    return;
                }
                let model = cell.model().map(|name| (name, nb.model(name), self.runs.get(name)));
                match (&cell.kind, model) {
                    (CellKind::Markdown { text }, _) => {
                        cells::markdown_ui(ui, index, text, &mut self.editing, &mut self.pending);
                    }
                    (CellKind::Dataset, _) => cells::dataset_ui(
                        ui,
                        &nb.data,
                        self.splits.as_ref(),
                        &self.thumbnails,
                        self.data_error.as_deref(),
                        &mut self.pending,
                    ),
                    (CellKind::Model { .. }, Some((_, Some(def), Some(run)))) => {
                        cells::model_ui(ui, def, &run.report, nb.models.len(), &mut self.pending);
                        if let Some(Some(problem)) = &run.misfit {
                            ui.colored_label(
                                ui.visuals().warn_fg_color,
                                format!("It cannot train on this dataset yet: {problem}"),
                            );
                        }
                    }
                    (CellKind::Training { .. }, Some((_, Some(def), Some(run)))) => {
                        let others: Vec<(&str, &RunRecord)> = self
                            .runs
                            .iter()
                            .filter(|(name, _)| **name != def.name)
                            .map(|(name, r)| (name.as_str(), &r.record))
                            .collect();
                        let view = cells::TrainingView {
                            def,
                            record: &run.record,
                            others: &others,
                            log_scale: nb.view.log_scale,
                            saved_weights: run.saved_weights.is_some(),
                            has_test_split: self.splits.as_ref().is_some_and(|s| !s.test.is_empty()),
                            blocked: if run.report.is_ok() {
                                run.misfit.clone().flatten().map(|m| format!("This model cannot train on this dataset yet: {m}"))
                            } else {
                                Some("This model has problems (listed in its model cell): it can train once they are fixed.".into())
                            },
                        };
                        view.show(ui, &mut self.pending);
                    }
                    (_, model) => {
                        let name = model.map_or("", |m| m.0);
                        ui.colored_label(
                            ui.visuals().warn_fg_color,
                            format!("This cell shows the model \"{name}\", which this notebook does not have: pick one of its models in the cell's header."),
                        );
                    }
                }
            });
            ui.add_space(6.0);
        }
    }
}

/// How the Recent menu names a file: its name, then its folder's name.
fn recent_label(path: &Path) -> String {
    let name = path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
    match path.parent().and_then(Path::file_name) {
        Some(folder) => format!("{name}   (in {})", folder.to_string_lossy()),
        None => name,
    }
}

/// Why a model (whose graph has no problems) cannot train on the data: the trainer's own checks,
/// run here so the cells can say it before Train. First the preflight, which allocates nothing
/// (settings, every label against the output, the memory a run would take), then one sample
/// through a freshly built model.
fn misfit(def: &ModelDef, splits: &Splits) -> Option<String> {
    if !infer_shapes(&def.graph).is_ok() {
        // The graph's own problems are shown on their own.
        return None;
    }
    if let Err(e) = glassbox_engine::train::preflight(&def.graph, &def.training, splits) {
        return Some(e.to_string());
    }
    let sample = splits.train.batch(&[0]);
    let mut model = glassbox_engine::tensor::Model::new(&def.graph, def.training.seed).ok()?;
    model.evaluate(&sample, def.training.loss).err().map(|e| e.to_string())
}

/// The status line for a notebook that opened with warnings.
fn warnings_status(warnings: &[String]) -> Option<String> {
    match warnings.len() {
        0 => None,
        1 => Some("Opened, with a warning (shown under the title)".into()),
        n => Some(format!("Opened, with {n} warnings (shown under the title)")),
    }
}

/// The file beside the recovery file that names the notebook file the work came from.
fn recovery_origin(recovery: &Path) -> PathBuf {
    recovery.with_extension("origin")
}

/// The example notebooks that come with Glassbox: (title, file), sorted by title.
fn examples() -> &'static [(String, PathBuf)] {
    static EXAMPLES: std::sync::OnceLock<Vec<(String, PathBuf)>> = std::sync::OnceLock::new();
    EXAMPLES.get_or_init(|| {
        let Ok(entries) = std::fs::read_dir(crate::assets_path("assets/notebooks")) else { return Vec::new() };
        let mut out: Vec<(String, PathBuf)> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .filter_map(|p| Notebook::load(&p).ok().map(|nb| (nb.title, p)))
            .collect();
        out.sort();
        out
    })
}

/// The key under which eframe remembers the last notebook.
pub const LAST_NOTEBOOK_KEY: &str = "last_notebook";
/// The key under which eframe remembers the recent files.
pub const RECENT_KEY: &str = "recent_notebooks";

impl eframe::App for GlassboxApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.show(ui);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        if let Some(path) = &self.path {
            eframe::set_value(storage, LAST_NOTEBOOK_KEY, path);
        }
        eframe::set_value(storage, RECENT_KEY, &self.recent);
    }

    fn on_exit(&mut self, _gl: Option<&eframe::glow::Context>) {
        // A clean exit needs no recovery.
        if let Some(path) = &self.recovery_path {
            let _ = std::fs::remove_file(path);
            let _ = std::fs::remove_file(recovery_origin(path));
        }
    }
}
