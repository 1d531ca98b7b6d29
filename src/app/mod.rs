//! The notebook window. Each concern has a room of its own:
//! - `document`: the notebook, its file, unsaved changes, undo and redo;
//! - `runs`: one training run per model, kept in step with the notebook;
//! - `files`: open, save, recover, recent files, autosave, and the file dialogs (native, with the
//!   window's own as the fallback);
//! - `commands`: what cells may ask ([`AppCommand`]) and the one place it is applied;
//! - `toolbar`: menus, shortcuts, the run bar, the title, and the unsaved-changes question;
//! - `cells`: one file per kind of cell;
//! - `widgets`: what cells share (class colours, metric plots, number formats).
//!
//! This file holds the app's state and the frame loop.

mod cells;
mod commands;
mod document;
mod figures;
mod files;
mod inspect;
mod present;
mod runs;
mod toolbar;
pub(crate) mod widgets;

pub(crate) use cells::{image_shape, softmax};

pub use commands::{AppCommand, ModelCommand};
pub use inspect::Sample;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use eframe::egui;
use glassbox_engine::data::Splits;
use glassbox_engine::train::{RunRecord, RunState};

use crate::notebook::Notebook;
use document::Document;
use files::{load_with_data, recovery_origin, warnings_status, Files};
use runs::ModelRun;
use widgets::palette::Palette;

/// The app's state.
pub struct GlassboxApp {
    doc: Document,
    /// The dataset, built once per notebook.
    splits: Option<Splits>,
    /// The dataset's class colours (set with the dataset).
    palette: Palette,
    /// Each model's trainer and record, by model name.
    runs: BTreeMap<String, ModelRun>,
    /// The model the run bar and the keyboard shortcuts act on: the last one whose controls were
    /// used.
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
    /// Rendered Markdown, kept between frames.
    markdown: egui_commonmark::CommonMarkCache,
    /// Each model's graph editor, by model name (view state only).
    editors: BTreeMap<String, cells::GraphEditor>,
    pending: Vec<AppCommand>,
    /// A message about the last file operation (saved, or why an open failed).
    status: Option<String>,
    files: Files,
    /// Asking whether to save before the window closes; `closing` once the answer is to close.
    confirm_close: bool,
    closing: bool,
    /// A command that would replace the notebook (New, Open) while it has unsaved changes:
    /// waiting for the answer to "save your changes?".
    confirm_replace: Option<AppCommand>,
    /// What to do once the next save succeeds (New or Open, after "Save" in that question).
    after_save: Option<AppCommand>,
    /// Why the last dataset change failed (shown in the dataset cell).
    data_error: Option<String>,
    /// The first training samples of an image set, as textures for the sample grid, with their
    /// label and class.
    thumbnails: Vec<(egui::TextureHandle, String, usize)>,
    /// Heatmaps and sample pictures of the inspection cells, kept between frames.
    textures: widgets::heatmap::Textures,
    /// Counts dataset changes (textures of samples are keyed by it).
    data_version: u64,
    /// The training inputs' smallest and largest value (drawn ink is mapped onto it).
    ink: (f32, f32),
    /// A notebook was just opened: show it from its top.
    scroll_to_top: bool,
    /// The window title last sent (it is sent again only when it changes).
    window_title: String,
    /// Whether the projector-friendly text colours are set.
    styled: bool,
    /// Presentation mode, while it is on: the slide shown.
    presentation: Option<present::Presentation>,
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
                app.doc.set_path(Some(path));
            }
        }
        app
    }

    fn empty() -> Self {
        Self {
            doc: Document::default(),
            splits: None,
            palette: Palette::for_classes(&[]),
            runs: BTreeMap::new(),
            active: String::new(),
            error: None,
            warnings: Vec::new(),
            editing: None,
            editing_title: None,
            markdown: egui_commonmark::CommonMarkCache::default(),
            editors: BTreeMap::new(),
            pending: Vec::new(),
            status: None,
            files: Files::default(),
            confirm_close: false,
            closing: false,
            confirm_replace: None,
            after_save: None,
            data_error: None,
            thumbnails: Vec::new(),
            textures: widgets::heatmap::Textures::default(),
            data_version: 0,
            ink: (0.0, 1.0),
            scroll_to_top: true,
            presentation: None,
            window_title: String::new(),
            styled: false,
        }
    }

    /// Turns on autosave to `path` every minute, and offers a recovery file found there (left by
    /// a session that crashed) before anything else.
    #[must_use]
    pub fn with_recovery(mut self, path: PathBuf) -> Self {
        if path.exists() {
            self.files.offer_recovery = Some(path.clone());
        }
        self.files.recovery_path = Some(path);
        self
    }

    /// The recent-files list to start with (eframe keeps it between starts).
    #[must_use]
    pub fn with_recent(mut self, recent: Vec<PathBuf>) -> Self {
        self.files.recent = recent;
        self
    }

    /// Never tries the native file dialog: the window's own opens at once (as it does after a
    /// native dialog could not be shown). `GLASSBOX_FILE_DIALOG=builtin` does the same.
    #[must_use]
    pub fn with_builtin_dialogs(mut self) -> Self {
        self.files.native = false;
        self
    }

    /// Recently opened or saved notebooks, newest first.
    #[must_use]
    pub fn recent(&self) -> &[PathBuf] {
        &self.files.recent
    }

    /// Whether the first model will start from weights saved beside the notebook.
    #[must_use]
    pub fn has_initial_weights(&self) -> bool {
        self.first_model().and_then(|m| self.runs.get(&m)).is_some_and(|r| r.saved_weights.is_some())
    }

    /// The file the notebook was opened from or last saved to (`None` for a new notebook).
    #[must_use]
    pub fn path(&self) -> Option<&Path> {
        self.doc.path()
    }

    /// The open notebook, if one loaded.
    #[must_use]
    pub fn notebook(&self) -> Option<&Notebook> {
        self.doc.notebook.as_ref()
    }

    /// Whether the notebook has changes that are not saved to its file.
    #[must_use]
    pub fn has_unsaved_changes(&self) -> bool {
        self.doc.unsaved
    }

    /// The window's title (with a mark while there are unsaved changes).
    #[must_use]
    pub fn window_title(&self) -> String {
        self.doc.window_title()
    }

    /// Queues a command as if a control had been used (menus, shortcuts, tests).
    /// The message line under the toolbar (what the last file operation did), if any.
    #[must_use]
    pub fn status(&self) -> Option<&str> {
        self.status.as_deref()
    }

    pub fn push(&mut self, command: AppCommand) {
        self.pending.push(command);
    }

    fn first_model(&self) -> Option<String> {
        self.doc.notebook.as_ref().and_then(|nb| nb.models.first()).map(|m| m.name.clone())
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

    /// The sample and the moment (`None`: now) the named model's inspection cells show.
    #[must_use]
    pub fn inspecting(&self, model: &str) -> Option<(&Sample, Option<usize>)> {
        self.runs.get(model).map(|r| (&r.inspector.sample, r.inspector.moment))
    }

    /// The newest inspection of the named model, with the sample it shows.
    #[must_use]
    pub fn inspection_shown(&self, model: &str) -> Option<(&glassbox_engine::train::Inspection, &Sample)> {
        self.runs.get(model).and_then(|r| r.inspector.shown(r.record.inspection.as_ref()))
    }

    /// The newest attribution maps a model's attribution cells show, if they were asked for
    /// (tests).
    #[doc(hidden)]
    #[must_use]
    pub fn explanation_shown(&self, model: &str) -> Option<&glassbox_engine::train::Explanation> {
        self.runs.get(model).and_then(|r| r.inspector.shown_explanation(r.record.explanation.as_ref())).map(|(e, _)| e)
    }

    /// The training step worked out by hand that a model's step-by-step cell asked for last, once
    /// it has arrived (tests).
    #[doc(hidden)]
    #[must_use]
    pub fn training_walk_shown(
        &self,
        model: &str,
    ) -> Option<&Result<glassbox_engine::explain::backprop::TrainingWalk, String>> {
        let run = self.runs.get(model)?;
        let (sent, _) = run.inspector.training_sent.as_ref()?;
        run.record.training_walk.as_ref().filter(|(id, ..)| id == sent).map(|(_, _, walk)| walk)
    }

    /// Changes every model's planned number of epochs (tests and benchmarks use short runs).
    #[doc(hidden)]
    pub fn set_epochs_for_test(&mut self, epochs: usize) {
        if let Some(nb) = self.doc.notebook.as_mut() {
            for m in &mut nb.models {
                m.training.epochs = epochs;
            }
        }
    }

    /// The nodes of a model the editor marks in red (they have a problem), for tests.
    #[doc(hidden)]
    #[must_use]
    pub fn problem_nodes(&self, model: &str) -> Vec<String> {
        self.runs
            .get(model)
            .map_or_else(Vec::new, |r| r.report.problems.iter().filter_map(|p| p.node.clone()).collect())
    }

    /// The nodes of a model's editor that drew a preview last frame, for tests.
    #[doc(hidden)]
    #[must_use]
    pub fn previewed_nodes(&self, model: &str) -> Vec<String> {
        self.editors.get(model).map_or_else(Vec::new, |e| e.previewed.clone())
    }

    /// The node the model's editor shows in detail, for tests.
    #[doc(hidden)]
    #[must_use]
    pub fn inspected_node(&self, model: &str) -> Option<&str> {
        self.editors.get(model).and_then(|e| e.inspected.as_deref())
    }

    /// Where a node's output pin (`input: None`) or an input pin is drawn, for tests that wire
    /// nodes with the mouse.
    #[doc(hidden)]
    #[must_use]
    pub fn pin_on_screen(&self, model: &str, node: &str, input: Option<usize>) -> Option<egui::Pos2> {
        self.editors.get(model).and_then(|e| e.pin_on_screen(node, input))
    }

    /// Where a node's header is drawn, for tests that click it.
    #[doc(hidden)]
    #[must_use]
    pub fn node_on_screen(&self, model: &str, node: &str) -> Option<egui::Pos2> {
        self.editors.get(model).and_then(|e| e.node_on_screen(node))
    }

    /// What the last edit did to the model's trained weights, as the model cell says it.
    #[must_use]
    pub fn weights_note(&self, model: &str) -> Option<&str> {
        self.runs.get(model).and_then(|r| r.weights_note.as_deref())
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
            let class = labels.get(i).copied().unwrap_or(0);
            let label = train.classes.get(class).cloned().unwrap_or_default();
            self.thumbnails.push((texture, label, class));
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
        let ctx = ui.ctx().clone();
        if !std::mem::replace(&mut self.styled, true) {
            // egui's faint text (about 2.7:1 against the background) is lost on a projector:
            // about 6:1 in both themes.
            ctx.style_mut_of(egui::Theme::Dark, |s| s.visuals.weak_text_color = Some(egui::Color32::from_gray(160)));
            ctx.style_mut_of(egui::Theme::Light, |s| s.visuals.weak_text_color = Some(egui::Color32::from_gray(88)));
        }
        self.ask_for_boundary();
        self.ask_for_inspections(&ctx);
        self.dialogs_ui(&ctx);
        self.presentation_keys(ui);
        if self.presentation.is_none() {
            self.shortcuts(ui);
        } else {
            self.live_shortcuts(ui);
        }
        let title = self.doc.window_title();
        if title != self.window_title {
            ctx.send_viewport_cmd(egui::ViewportCommand::Title(title.clone()));
            self.window_title = title;
        }
        if self.presentation.is_some() {
            egui::Panel::top("slide-bar").show(ui, |ui| self.slide_bar_ui(ui));
        } else {
            egui::Panel::top("toolbar").show(ui, |ui| self.toolbar_ui(ui));
        }
        egui::Panel::bottom("run-bar").show(ui, |ui| {
            ui.add_space(2.0);
            self.run_bar_ui(ui);
        });
        egui::CentralPanel::default().show(ui, |ui| {
            if let Some(p) = self.presentation {
                egui::ScrollArea::vertical().id_salt(("slide", p.slide)).show(ui, |ui| self.slide_ui(ui));
                return;
            }
            let mut scroll = egui::ScrollArea::vertical();
            if std::mem::take(&mut self.scroll_to_top) {
                scroll = scroll.vertical_scroll_offset(0.0);
            }
            let output = scroll.show(ui, |ui| self.page_ui(ui));
            // A menu opened in the page would stay where it opened while the page scrolls away
            // under it: close it instead.
            let scrolled = ui.input(|i| i.smooth_scroll_delta.y != 0.0);
            if scrolled && output.inner_rect.contains(ui.input(|i| i.pointer.hover_pos()).unwrap_or_default()) {
                egui::Popup::close_all(&ctx);
            }
        });
        self.unsaved_question(&ctx);
        self.apply(&ctx);
        if self.files.last_autosave.elapsed() >= Duration::from_secs(60) {
            self.autosave();
        }
        if self.runs.values().any(|r| matches!(r.record.state, RunState::Running)) {
            ctx.request_repaint_after(Duration::from_millis(100));
        }
    }

    /// The scrolling page: title, file, errors and warnings, the cells, the licenses.
    fn page_ui(&mut self, ui: &mut egui::Ui) {
        self.title_ui(ui);
        match self.doc.path() {
            Some(path) if self.doc.is_example() => {
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
        self.show_cells(ui, None);
        ui.separator();
        cells::licenses_ui(ui);
    }

    /// The notebook's cells: all of them down the page, or one presentation slide's row.
    fn show_cells(&mut self, ui: &mut egui::Ui, slide: Option<&[usize]>) {
        self.ensure_thumbnails(&ui.ctx().clone());
        if let Some(notebook) = self.doc.notebook.as_ref() {
            let mut cx = cells::CellContext {
                notebook,
                splits: self.splits.as_ref(),
                runs: &self.runs,
                active: &self.active,
                thumbnails: &self.thumbnails,
                data_error: self.data_error.as_deref(),
                palette: &self.palette,
                editing: &mut self.editing,
                markdown: &mut self.markdown,
                editors: &mut self.editors,
                textures: &mut self.textures,
                data_version: self.data_version,
                ink: self.ink,
                out: &mut self.pending,
            };
            match slide {
                Some(row) => cells::show_slide(ui, row, &mut cx),
                None => cells::show_all(ui, &mut cx),
            }
            self.textures.end_frame();
        }
    }
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
        if let Some(path) = self.doc.path() {
            eframe::set_value(storage, LAST_NOTEBOOK_KEY, &path.to_path_buf());
        }
        eframe::set_value(storage, RECENT_KEY, &self.files.recent);
    }

    fn on_exit(&mut self, _gl: Option<&eframe::glow::Context>) {
        // A clean exit needs no recovery.
        if let Some(path) = &self.files.recovery_path {
            let _ = std::fs::remove_file(path);
            let _ = std::fs::remove_file(recovery_origin(path));
        }
    }
}
