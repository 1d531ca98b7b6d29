//! The notebook window: the cells of one notebook, one training session, and the one place where
//! the cells' commands are applied.

mod cells;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use eframe::egui;
use glassbox_engine::data::Splits;
use glassbox_engine::graph::{infer_shapes, ShapeReport};
use glassbox_engine::train::{Command, RunRecord, RunState, Session, StartRun};

use crate::notebook::{Cell, Notebook};

/// What a cell asks for; applied by [`GlassboxApp::apply`] after the frame's cells are drawn, so
/// cells only read the notebook and never change it themselves.
#[derive(Clone, Debug, PartialEq)]
pub enum AppCommand {
    /// Start (if needed) and run until paused.
    Train,
    Pause,
    StepBatch,
    StepEpoch,
    Reset,
    SetLearningRate(f64),
    EditMarkdown {
        cell: usize,
        text: String,
    },
    /// Opens a notebook file; on failure the current notebook stays.
    Open(PathBuf),
    /// Saves to the current path.
    Save,
    /// Saves to a new path, which becomes the current one.
    SaveAs(PathBuf),
    /// Asks for a file to open, in a native dialog on its own thread.
    OpenDialog,
    /// Asks where to save, in a native dialog on its own thread.
    SaveAsDialog,
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
    /// Adds an empty text cell after this one, ready to edit.
    AddTextCell {
        after: usize,
    },
    ToggleCollapsed(usize),
    SetEpochs(usize),
    SetBatchSize(usize),
    SetOptimizer(glassbox_engine::tensor::OptimizerSpec),
    SetSchedule(glassbox_engine::train::Schedule),
    /// Shows the loss curves on a logarithmic scale, or not.
    ToggleLogScale,
    /// Switches the dataset; if it cannot be built, the current one stays and the cell says why.
    SetData(glassbox_engine::data::DataSpec),
    /// Asks for a CSV file to import (`true`) or a folder of images (`false`).
    ImportDialog {
        csv: bool,
    },
}

/// A file chosen in a dialog, delivered to the next frame.
enum Chosen {
    Open(PathBuf),
    SaveAs(PathBuf),
    Import(glassbox_engine::data::DataSpec),
}

/// The app's state.
pub struct GlassboxApp {
    path: PathBuf,
    notebook: Option<Notebook>,
    report: ShapeReport,
    /// The dataset, built once per notebook.
    splits: Option<Splits>,
    /// An error to show at the top (a file that did not load, a dataset that did not build).
    error: Option<String>,
    session: Option<Session>,
    record: RunRecord,
    /// Transient view state: the markdown cell being edited, and its draft.
    editing: Option<(usize, String)>,
    pending: Vec<AppCommand>,
    /// A message about the last file operation (saved, or why an open failed).
    status: Option<String>,
    /// Weights to start the next run from (the notebook's sidecar weights file, when it has one).
    initial_weights: Option<Vec<u8>>,
    /// Where unsaved work is written every minute; `None` turns autosave off (tests).
    recovery_path: Option<PathBuf>,
    /// A recovery file left by a session that did not end cleanly, offered at start.
    offer_recovery: Option<PathBuf>,
    /// Whether the notebook changed since it was opened, saved or autosaved.
    dirty: bool,
    last_autosave: std::time::Instant,
    /// Why the last dataset change failed (shown in the dataset cell).
    data_error: Option<String>,
    /// The first training samples of an image set, as textures for the sample grid.
    thumbnails: Vec<(egui::TextureHandle, String)>,
    /// Transient view state: curves on a log scale.
    log_scale: bool,
    /// Transient view state: collapsed cells, by index.
    collapsed: std::collections::BTreeSet<usize>,
    /// Answers of file dialogs, which run on their own threads so no frame waits for them.
    dialogs: (std::sync::mpsc::Sender<Chosen>, std::sync::mpsc::Receiver<Chosen>),
}

impl GlassboxApp {
    /// Opens the notebook at `path`; a file that cannot be read shows its error in the window.
    #[must_use]
    pub fn new(path: PathBuf) -> Self {
        let mut app = Self {
            path,
            notebook: None,
            report: ShapeReport::default(),
            splits: None,
            error: None,
            session: None,
            record: RunRecord::default(),
            editing: None,
            pending: Vec::new(),
            status: None,
            collapsed: std::collections::BTreeSet::new(),
            log_scale: false,
            initial_weights: None,
            data_error: None,
            thumbnails: Vec::new(),
            recovery_path: None,
            offer_recovery: None,
            dirty: false,
            last_autosave: std::time::Instant::now(),
            dialogs: std::sync::mpsc::channel(),
        };
        app.initial_weights = std::fs::read(sidecar(&app.path)).ok();
        match Notebook::load(&app.path) {
            Ok(nb) => {
                app.report = infer_shapes(&nb.graph);
                match nb.data.build() {
                    Ok(splits) => app.splits = Some(splits),
                    Err(e) => app.error = Some(format!("the dataset could not be built: {e}")),
                }
                app.notebook = Some(nb);
            }
            Err(e) => app.error = Some(format!("{e:#}")),
        }
        app
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

    /// Writes the recovery file now if there are unsaved changes (the app does this every minute).
    pub fn autosave(&mut self) {
        self.last_autosave = std::time::Instant::now();
        if let (true, Some(nb), Some(path)) = (self.dirty, self.notebook.as_ref(), self.recovery_path.as_ref()) {
            if let Some(folder) = path.parent() {
                let _ = std::fs::create_dir_all(folder);
            }
            if nb.save(path).is_ok() {
                self.dirty = false;
            }
        }
    }

    /// Whether the weights to start the next run from came from a sidecar file.
    #[must_use]
    pub fn has_initial_weights(&self) -> bool {
        self.initial_weights.is_some()
    }

    /// The file the notebook was opened from or last saved to.
    #[must_use]
    pub fn path(&self) -> &std::path::Path {
        &self.path
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

    /// New data ends the current run (it trained on the old data) and drops what was drawn from it.
    fn replace_data(&mut self, splits: Splits) {
        if let Some(session) = &self.session {
            session.send(Command::Stop);
        }
        self.record = RunRecord::default();
        self.splits = Some(splits);
        self.thumbnails.clear();
        self.data_error = None;
    }

    /// Replaces the notebook with the one at `path`, or leaves everything as it was and says why.
    fn open(&mut self, path: PathBuf) {
        let loaded = Notebook::load(&path).and_then(|nb| {
            let splits = nb.data.build().map_err(|e| anyhow::anyhow!("its dataset could not be built: {e}"))?;
            Ok((nb, splits))
        });
        match loaded {
            Ok((nb, splits)) => {
                self.replace_data(splits);
                self.report = infer_shapes(&nb.graph);
                self.notebook = Some(nb);
                self.editing = None;
                self.error = None;
                self.dirty = false;
                self.initial_weights = std::fs::read(sidecar(&path)).ok();
                self.status = Some(format!("Opened {}", path.display()));
                self.path = path;
            }
            Err(e) => {
                self.status =
                    Some(format!("Could not open {}: {e:#}. The notebook you had open is unchanged.", path.display()));
            }
        }
    }

    fn save_to(&mut self, path: PathBuf) {
        let Some(nb) = self.notebook.as_ref() else { return };
        match nb.save(&path) {
            Ok(()) => {
                self.status = Some(format!("Saved {}", path.display()));
                // The trained weights go beside the notebook, so it reopens trained.
                if self.record.run.is_some() {
                    if let Some(session) = &self.session {
                        session.send(Command::SaveWeights(sidecar(&path)));
                    }
                }
                self.dirty = false;
                self.path = path;
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
        let folder = self.path.parent().map(std::path::Path::to_path_buf);
        self.spawn_dialog(ctx, move || {
            let mut dialog = rfd::FileDialog::new().add_filter("Glassbox notebook", &["json"]);
            if let Some(folder) = folder {
                dialog = dialog.set_directory(folder);
            }
            if open {
                dialog.pick_file().map(Chosen::Open)
            } else {
                dialog.save_file().map(Chosen::SaveAs)
            }
        });
    }

    /// Changes the planned number of epochs (tests use short runs).
    #[doc(hidden)]
    pub fn set_epochs_for_test(&mut self, epochs: usize) {
        if let Some(nb) = self.notebook.as_mut() {
            nb.training.epochs = epochs;
        }
    }

    /// The run record (the fold of the trainer's events), for tests and the cells.
    #[must_use]
    pub fn record(&self) -> &RunRecord {
        &self.record
    }

    fn session(&mut self, ctx: &egui::Context) -> Option<&Session> {
        if self.session.is_none() {
            let ctx = ctx.clone();
            // Repaint at most every ~30 ms while the trainer reports, never per step.
            let waker = Arc::new(move || ctx.request_repaint_after(Duration::from_millis(30)));
            match Session::spawn(waker) {
                Ok(s) => self.session = Some(s),
                Err(e) => self.error = Some(format!("cannot start the training thread: {e}")),
            }
        }
        self.session.as_ref()
    }

    /// Makes sure a run exists; returns whether one does.
    fn ensure_run(&mut self, ctx: &egui::Context) -> bool {
        if self.record.run.is_some() && !matches!(self.record.state, RunState::Stopped | RunState::Failed(_)) {
            return true;
        }
        let (Some(nb), Some(splits)) = (self.notebook.as_ref(), self.splits.as_ref()) else { return false };
        if !self.report.is_ok() {
            return false;
        }
        let start =
            StartRun { graph: nb.graph.clone(), data: splits.clone(), config: nb.training, initial_weights: None };
        self.session(ctx);
        if let Some(session) = self.session.as_mut() {
            // Test metrics after every epoch, for the test curves.
            session.send(Command::EvaluateEachEpoch(true));
            let run = session.start(start);
            // Later events of older runs are dropped by the fold from here on.
            self.record = RunRecord { run: Some(run), ..RunRecord::default() };
            return true;
        }
        false
    }

    fn send(&mut self, ctx: &egui::Context, command: Command) {
        if let Some(session) = self.session(ctx) {
            session.send(command);
        }
    }

    /// Applies the commands the cells pushed this frame.
    fn apply(&mut self, ctx: &egui::Context) {
        for command in std::mem::take(&mut self.pending) {
            self.dirty |= matches!(
                command,
                AppCommand::EditMarkdown { .. }
                    | AppCommand::MoveCell { .. }
                    | AppCommand::DeleteCell(_)
                    | AppCommand::AddTextCell { .. }
                    | AppCommand::SetEpochs(_)
                    | AppCommand::SetBatchSize(_)
                    | AppCommand::SetOptimizer(_)
                    | AppCommand::SetSchedule(_)
                    | AppCommand::SetData(_)
                    | AppCommand::SetLearningRate(_)
            );
            match command {
                AppCommand::Train => {
                    if self.ensure_run(ctx) {
                        // Up to the notebook's number of epochs; once there, another as many.
                        let planned = self.notebook.as_ref().map_or(1, |nb| nb.training.epochs.max(1));
                        let done = self.record.latest.map_or(0, |p| p.epoch.floor() as usize);
                        let epochs = if done < planned { planned - done } else { planned };
                        self.send(ctx, Command::Run { epochs, until_accuracy: None });
                    }
                }
                AppCommand::Pause => self.send(ctx, Command::Pause),
                AppCommand::StepBatch => {
                    if self.ensure_run(ctx) {
                        self.send(ctx, Command::StepBatch);
                    }
                }
                AppCommand::StepEpoch => {
                    if self.ensure_run(ctx) {
                        self.send(ctx, Command::StepEpoch);
                    }
                }
                AppCommand::Reset => {
                    if self.record.run.is_some() {
                        self.record.history = Default::default();
                        self.send(ctx, Command::Reset);
                    }
                }
                AppCommand::SetLearningRate(lr) => {
                    if let Some(nb) = self.notebook.as_mut() {
                        nb.training.optimizer = nb.training.optimizer.with_lr(lr);
                    }
                    if self.record.run.is_some() {
                        self.send(ctx, Command::SetLearningRate(lr));
                    }
                }
                AppCommand::EditMarkdown { cell, text } => {
                    if let Some(Cell::Markdown { text: old }) =
                        self.notebook.as_mut().and_then(|nb| nb.cells.get_mut(cell))
                    {
                        *old = text;
                    }
                }
                AppCommand::Open(path) => self.open(path),
                AppCommand::Save => self.save_to(self.path.clone()),
                AppCommand::SaveAs(path) => self.save_to(path),
                AppCommand::OpenDialog => self.dialog(true, ctx),
                AppCommand::SaveAsDialog => self.dialog(false, ctx),
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
                            self.collapsed.clear();
                            self.editing = None;
                        }
                    }
                }
                AppCommand::DeleteCell(index) => {
                    if let Some(nb) = self.notebook.as_mut().filter(|nb| index < nb.cells.len()) {
                        nb.cells.remove(index);
                        self.collapsed.clear();
                        self.editing = None;
                    }
                }
                AppCommand::AddTextCell { after } => {
                    if let Some(nb) = self.notebook.as_mut() {
                        let at = (after + 1).min(nb.cells.len());
                        nb.cells.insert(at, Cell::Markdown { text: String::new() });
                        self.collapsed.clear();
                        self.editing = Some((at, String::new()));
                    }
                }
                AppCommand::ToggleCollapsed(index) => {
                    if !self.collapsed.remove(&index) {
                        self.collapsed.insert(index);
                    }
                }
                AppCommand::SetEpochs(epochs) => {
                    if let Some(nb) = self.notebook.as_mut() {
                        nb.training.epochs = epochs.max(1);
                    }
                }
                AppCommand::SetBatchSize(size) => {
                    if let Some(nb) = self.notebook.as_mut() {
                        nb.training.batch_size = size.max(1);
                    }
                    if self.record.run.is_some() {
                        self.send(ctx, Command::SetBatchSize(size.max(1)));
                    }
                }
                AppCommand::SetData(spec) => match spec.build() {
                    Ok(splits) => {
                        self.replace_data(splits);
                        if let Some(nb) = self.notebook.as_mut() {
                            nb.data = spec;
                        }
                        self.dirty = true;
                    }
                    Err(e) => self.data_error = Some(format!("{e} The previous dataset is still in use.")),
                },
                AppCommand::ImportDialog { csv } => self.import_dialog(csv, ctx),
                AppCommand::ToggleLogScale => self.log_scale = !self.log_scale,
                AppCommand::SetSchedule(schedule) => {
                    let warmup_steps = self.notebook.as_ref().map_or(0, |nb| nb.training.warmup_steps);
                    if let Some(nb) = self.notebook.as_mut() {
                        nb.training.schedule = schedule;
                    }
                    if self.record.run.is_some() {
                        self.send(ctx, Command::SetSchedule { schedule, warmup_steps });
                    }
                }
                AppCommand::SetOptimizer(spec) => {
                    if let Some(nb) = self.notebook.as_mut() {
                        nb.training.optimizer = spec;
                    }
                    if self.record.run.is_some() {
                        self.send(ctx, Command::SetOptimizer(spec));
                    }
                }
            }
        }
    }

    /// Draws the whole window's contents (the eframe entry point calls this; tests drive it with
    /// `egui_kittest`).
    pub fn show(&mut self, ui: &mut egui::Ui) {
        if let Some(session) = &self.session {
            for event in session.poll() {
                self.record.apply(event);
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
                ui.heading(self.notebook.as_ref().map_or("Glassbox", |nb| nb.title.as_str()));
                ui.weak(format!("Notebook: {}", self.path.display()));
                if let Some(error) = &self.error {
                    ui.colored_label(ui.visuals().error_fg_color, error);
                }
                ui.separator();
                self.cells_ui(ui);
                ui.separator();
                cells::licenses_ui(ui);
            });
        });
        let ctx = ui.ctx().clone();
        self.apply(&ctx);
        if self.last_autosave.elapsed() >= Duration::from_secs(60) {
            self.autosave();
        }
        if matches!(self.record.state, RunState::Running) {
            ctx.request_repaint_after(Duration::from_millis(100));
        }
    }

    fn toolbar_ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            if ui.button("Open…").on_hover_text("Open a notebook file (Ctrl+O)").clicked() {
                self.pending.push(AppCommand::OpenDialog);
            }
            if ui.button("Save").on_hover_text("Save this notebook to its file (Ctrl+S)").clicked() {
                self.pending.push(AppCommand::Save);
            }
            if ui.button("Save as…").on_hover_text("Save this notebook to a new file").clicked() {
                self.pending.push(AppCommand::SaveAsDialog);
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
                    self.pending.push(AppCommand::Open(recovery.clone()));
                    self.offer_recovery = None;
                }
                if ui.button("Discard").on_hover_text("Delete the automatically saved copy").clicked() {
                    let _ = std::fs::remove_file(&recovery);
                    self.offer_recovery = None;
                }
            });
        }
    }

    /// Space: train or pause; S: one step; Ctrl+S: save; Ctrl+O: open. Not while typing.
    fn shortcuts(&mut self, ui: &egui::Ui) {
        if ui.ctx().egui_wants_keyboard_input() {
            return;
        }
        let running = matches!(self.record.state, RunState::Running);
        let (save, open, space, step) = ui.input(|i| {
            let command = i.modifiers.command;
            (
                command && i.key_pressed(egui::Key::S),
                command && i.key_pressed(egui::Key::O),
                i.key_pressed(egui::Key::Space),
                !command && i.key_pressed(egui::Key::S),
            )
        });
        if save {
            self.pending.push(AppCommand::Save);
        }
        if open {
            self.pending.push(AppCommand::OpenDialog);
        }
        if space {
            self.pending.push(if running { AppCommand::Pause } else { AppCommand::Train });
        }
        if step && !running {
            self.pending.push(AppCommand::StepBatch);
        }
    }

    fn cells_ui(&mut self, ui: &mut egui::Ui) {
        self.ensure_thumbnails(&ui.ctx().clone());
        let Some(nb) = self.notebook.as_ref() else { return };
        let count = nb.cells.len();
        for (index, cell) in nb.cells.iter().enumerate() {
            let frame = egui::Frame::group(ui.style()).inner_margin(8.0);
            frame.show(ui, |ui| {
                ui.set_width(ui.available_width());
                let collapsed = self.collapsed.contains(&index);
                cells::cell_header_ui(ui, index, count, cells::cell_name(cell), collapsed, &mut self.pending);
                if collapsed {
                    return;
                }
                match cell {
                    Cell::Markdown { text } => {
                        cells::markdown_ui(ui, index, text, &mut self.editing, &mut self.pending);
                    }
                    Cell::Dataset => cells::dataset_ui(
                        ui,
                        &nb.data,
                        self.splits.as_ref(),
                        &self.thumbnails,
                        self.data_error.as_deref(),
                        &mut self.pending,
                    ),
                    Cell::Model => cells::model_ui(ui, &nb.graph, &self.report),
                    Cell::Training => cells::training_ui(ui, nb, &self.record, self.log_scale, &mut self.pending),
                }
            });
            ui.add_space(6.0);
        }
    }
}

/// The key under which eframe remembers the last notebook.
pub const LAST_NOTEBOOK_KEY: &str = "last_notebook";

impl eframe::App for GlassboxApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.show(ui);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, LAST_NOTEBOOK_KEY, &self.path);
    }

    fn on_exit(&mut self, _gl: Option<&eframe::glow::Context>) {
        // A clean exit needs no recovery.
        if let Some(path) = &self.recovery_path {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// The weights file that goes with a notebook: the same name with `.safetensors`.
#[must_use]
pub fn sidecar(notebook: &std::path::Path) -> PathBuf {
    notebook.with_extension("safetensors")
}
