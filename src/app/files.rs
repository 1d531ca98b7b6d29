//! Files: opening, saving, recovering, the recent list, autosave, and the file dialogs: the
//! native one on its own thread, and the window's own where no native dialog can be shown (no
//! desktop portal and no zenity: bare X sessions, many lab machines, Xvfb).

use std::path::{Path, PathBuf};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::time::{Duration, Instant};

use eframe::egui;
use glassbox_engine::data::{ColorMode, CsvOptions, DataSource, DataSpec, Splits};

use super::{AppCommand, GlassboxApp};
use crate::notebook::Notebook;

/// How many recent files the menu lists.
const RECENT_FILES: usize = 8;
/// A native dialog that answers "nothing chosen" faster than this was never shown (rfd returns
/// at once when neither the portal nor zenity is there); no one cancels a dialog that fast.
const NATIVE_FAILED_WITHIN: Duration = Duration::from_millis(400);

/// What a file dialog is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum DialogPurpose {
    Open,
    SaveAs,
    ImportCsv,
    ImportImages,
    ImportGraph,
    ExportGraph,
    /// A cell's figure: PNG or SVG, at the slide's or the print size.
    SaveFigure {
        cell: usize,
        print: bool,
        svg: bool,
    },
    /// The whole notebook as one HTML page.
    ExportHandout,
    /// The active model as a PyTorch script, its weights and data beside it.
    ExportPytorch,
}

impl DialogPurpose {
    fn title(self) -> &'static str {
        match self {
            Self::Open => "Open a notebook",
            Self::SaveAs => "Save the notebook as",
            Self::ImportCsv => "Import a CSV table",
            Self::ImportImages => "Import a folder of images (one subfolder per class)",
            Self::ImportGraph => "Import a model's graph",
            Self::ExportGraph => "Export the model's graph as",
            Self::SaveFigure { .. } => "Save the figure as",
            Self::ExportHandout => "Export the handout (one HTML page) as",
            Self::ExportPytorch => "Export the model as a PyTorch script",
        }
    }

    /// The command a chosen path becomes.
    fn command(self, path: PathBuf) -> AppCommand {
        match self {
            Self::Open => AppCommand::Open(path),
            Self::SaveAs => AppCommand::SaveAs(path),
            Self::ImportCsv => {
                AppCommand::SetData(DataSpec::new(DataSource::Csv { path, options: CsvOptions::default() }))
            }
            Self::ImportImages => {
                AppCommand::SetData(DataSpec::new(DataSource::ImageFolder { path, size: 28, color: ColorMode::Grey }))
            }
            Self::ImportGraph => AppCommand::ImportGraph(path),
            Self::ExportGraph => AppCommand::ExportGraph(path),
            Self::SaveFigure { cell, print, .. } => AppCommand::SaveFigure { cell, path, print },
            Self::ExportHandout => AppCommand::ExportHandout(path),
            Self::ExportPytorch => AppCommand::ExportPytorch(path),
        }
    }

    /// What a saved file of this purpose is called in the dialog's filter, and its extension.
    fn save_filter(self) -> Option<(&'static str, &'static str)> {
        match self {
            Self::SaveAs => Some(("Glassbox notebook", "json")),
            Self::ExportGraph => Some(("Graph (JSON)", "json")),
            Self::SaveFigure { svg: true, .. } => Some(("SVG picture", "svg")),
            Self::SaveFigure { svg: false, .. } => Some(("PNG picture", "png")),
            Self::ExportHandout => Some(("Web page", "html")),
            Self::ExportPytorch => Some(("Python script", "py")),
            _ => None,
        }
    }
}

/// What a native dialog thread answers.
enum Answer {
    Chosen(DialogPurpose, PathBuf),
    /// The native dialog could not be shown: use the window's own.
    NoNativeDialog(DialogPurpose),
}

/// The app's files: recent ones, autosave and recovery, and the dialogs.
pub(super) struct Files {
    /// Recently opened or saved notebooks, newest first (kept by eframe between starts).
    pub recent: Vec<PathBuf>,
    /// Where unsaved work is written every minute; `None` turns autosave off (tests).
    pub recovery_path: Option<PathBuf>,
    /// A recovery file left by a session that did not end cleanly, offered at start.
    pub offer_recovery: Option<PathBuf>,
    pub last_autosave: Instant,
    answers: (Sender<Answer>, Receiver<Answer>),
    /// Whether to try the native dialog (false after one could not be shown, or when asked).
    pub native: bool,
    /// The window's own dialog, while one is open.
    in_app: Option<(DialogPurpose, egui_file_dialog::FileDialog)>,
    /// A dialog asked for in this frame, opened where it can be (the next frame).
    requested: Option<(DialogPurpose, Option<PathBuf>, Option<String>)>,
}

impl Default for Files {
    fn default() -> Self {
        Self {
            recent: Vec::new(),
            recovery_path: None,
            offer_recovery: None,
            last_autosave: Instant::now(),
            answers: channel(),
            // GLASSBOX_FILE_DIALOG=builtin always uses the window's own dialog.
            native: std::env::var("GLASSBOX_FILE_DIALOG").map_or(true, |v| v != "builtin"),
            in_app: None,
            requested: None,
        }
    }
}

/// A notebook file and its dataset, built: both or an error (nothing half-loaded); with the
/// warnings of reading it (keys it has that Glassbox does not know).
pub(super) fn load_with_data(path: &Path) -> anyhow::Result<(Notebook, Splits, Vec<String>)> {
    let (nb, warnings) = Notebook::load_with_warnings(path)?;
    let splits = nb.data.build().map_err(|e| anyhow::anyhow!("its dataset could not be built: {e}"))?;
    Ok((nb, splits, warnings))
}

/// The status line for a notebook that opened with warnings.
pub(super) fn warnings_status(warnings: &[String]) -> Option<String> {
    match warnings.len() {
        0 => None,
        1 => Some("Opened, with a warning (shown under the title)".into()),
        n => Some(format!("Opened, with {n} warnings (shown under the title)")),
    }
}

/// The file beside the recovery file that names the notebook file the work came from.
pub(super) fn recovery_origin(recovery: &Path) -> PathBuf {
    recovery.with_extension("origin")
}

/// How the Recent menu names a file: its name, then its folder's name.
pub(super) fn recent_label(path: &Path) -> String {
    let name = path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
    match path.parent().and_then(Path::file_name) {
        Some(folder) => format!("{name}   (in {})", folder.to_string_lossy()),
        None => name,
    }
}

/// The example notebooks that come with Glassbox: (title, file), sorted by title.
pub(super) fn examples() -> &'static [(String, PathBuf)] {
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

/// The native dialog for `purpose`, run on the calling (dialog) thread.
fn native_dialog(purpose: DialogPurpose, folder: Option<PathBuf>, name: Option<String>) -> Option<PathBuf> {
    let mut dialog = rfd::FileDialog::new().set_title(purpose.title());
    if let Some(folder) = folder {
        dialog = dialog.set_directory(folder);
    }
    match purpose {
        DialogPurpose::Open => dialog.add_filter("Glassbox notebook", &["json"]).pick_file(),
        DialogPurpose::SaveAs => dialog
            .add_filter("Glassbox notebook", &["json"])
            .set_file_name(name.unwrap_or_else(|| "notebook.json".into()))
            .save_file(),
        DialogPurpose::ImportCsv => dialog.add_filter("CSV table", &["csv", "txt"]).pick_file(),
        DialogPurpose::ImportImages => dialog.pick_folder(),
        DialogPurpose::ImportGraph => dialog.add_filter("Graph (JSON)", &["json"]).pick_file(),
        DialogPurpose::ExportGraph => dialog
            .add_filter("Graph (JSON)", &["json"])
            .set_file_name(name.unwrap_or_else(|| "graph.json".into()))
            .save_file(),
        DialogPurpose::SaveFigure { .. } | DialogPurpose::ExportHandout | DialogPurpose::ExportPytorch => {
            let (filter, ext) = purpose.save_filter().unwrap_or(("File", "txt"));
            dialog.add_filter(filter, &[ext]).set_file_name(name.unwrap_or_else(|| format!("figure.{ext}"))).save_file()
        }
    }
}

/// The window's own dialog for `purpose`, opened.
fn in_app_dialog(purpose: DialogPurpose, folder: Option<PathBuf>, name: Option<&str>) -> egui_file_dialog::FileDialog {
    let mut dialog = egui_file_dialog::FileDialog::new()
        .title(purpose.title())
        .id(egui::Id::new(("in-app-file-dialog", purpose.title())))
        .default_size([760.0, 460.0]);
    if let Some(folder) = folder {
        dialog = dialog.initial_directory(folder);
    }
    match purpose {
        DialogPurpose::Open => {
            dialog = dialog
                .add_file_filter_extensions("Glassbox notebook", vec!["json"])
                .default_file_filter("Glassbox notebook");
            dialog.pick_file();
        }
        DialogPurpose::SaveAs => {
            dialog = dialog
                .add_save_extension("Glassbox notebook", "json")
                .default_save_extension("Glassbox notebook")
                .default_file_name(name.unwrap_or("notebook.json"));
            dialog.save_file();
        }
        DialogPurpose::ImportCsv => {
            dialog =
                dialog.add_file_filter_extensions("CSV table", vec!["csv", "txt"]).default_file_filter("CSV table");
            dialog.pick_file();
        }
        DialogPurpose::ImportImages => dialog.pick_directory(),
        DialogPurpose::ImportGraph => {
            dialog =
                dialog.add_file_filter_extensions("Graph (JSON)", vec!["json"]).default_file_filter("Graph (JSON)");
            dialog.pick_file();
        }
        DialogPurpose::ExportGraph
        | DialogPurpose::SaveFigure { .. }
        | DialogPurpose::ExportHandout
        | DialogPurpose::ExportPytorch => {
            let (filter, ext) = purpose.save_filter().unwrap_or(("File", "txt"));
            dialog = dialog.add_save_extension(filter, ext).default_save_extension(filter);
            if let Some(name) = name {
                dialog = dialog.default_file_name(name);
            }
            dialog.save_file();
        }
    }
    dialog
}

impl GlassboxApp {
    /// Puts the notebook's file at the top of the recent files (examples are not listed).
    pub(super) fn remember(&mut self) {
        let Some(path) = self.doc.own_path().map(Path::to_path_buf) else { return };
        self.files.recent.retain(|p| p != &path);
        self.files.recent.insert(0, path);
        self.files.recent.truncate(RECENT_FILES);
    }

    /// Writes the recovery file now if there are unsaved changes (the app does this every minute).
    pub fn autosave(&mut self) {
        self.files.last_autosave = Instant::now();
        if let (true, Some(nb), Some(path)) =
            (self.doc.dirty, self.doc.notebook.as_ref(), self.files.recovery_path.as_ref())
        {
            if let Some(folder) = path.parent() {
                let _ = std::fs::create_dir_all(folder);
            }
            if nb.save(path).is_ok() {
                // Where the work belongs, so recovering it saves to the right file.
                let origin = self.doc.path().map(|p| p.display().to_string()).unwrap_or_default();
                let _ = std::fs::write(recovery_origin(path), origin);
                self.doc.dirty = false;
            }
        }
    }

    /// Replaces the notebook with the one at `path`, or leaves everything as it was and says why.
    pub(super) fn open(&mut self, path: PathBuf) {
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
                self.files.recent.retain(|p| p != &path || p.exists());
                self.status =
                    Some(format!("Could not open {}: {e:#}. The notebook you had open is unchanged.", path.display()));
            }
        }
    }

    pub(super) fn recover(&mut self, recovery: &Path) {
        let origin = std::fs::read_to_string(recovery_origin(recovery)).ok().filter(|o| !o.is_empty());
        match load_with_data(recovery) {
            Ok((nb, splits, _)) => {
                let path = origin.map(PathBuf::from);
                self.status = Some(match &path {
                    Some(p) => format!("Recovered your unsaved work on {}: save it to keep it", p.display()),
                    None => "Recovered your unsaved work: save it to keep it".into(),
                });
                self.install(nb, splits, path);
                self.doc.mark_unsaved();
            }
            Err(e) => self.status = Some(format!("Could not recover the autosaved work: {e:#}")),
        }
    }

    pub(super) fn new_notebook(&mut self) {
        let nb = Notebook { title: "Untitled".into(), ..Notebook::default() };
        match nb.data.build() {
            Ok(splits) => {
                self.install(nb, splits, None);
                self.status = Some("New notebook: Save (Ctrl+S) asks where to keep it".into());
            }
            Err(e) => self.status = Some(format!("Could not make a new notebook: {e}")),
        }
    }

    pub(super) fn save_to(&mut self, path: PathBuf) {
        let Some(nb) = self.doc.notebook.as_ref() else { return };
        match nb.save(&path) {
            Ok(()) => {
                self.status = Some(format!("Saved {}", path.display()));
                // Each trained model's weights go beside the notebook, so it reopens trained.
                for (name, run) in &self.runs {
                    if let (Some(session), Some(_)) = (&run.session, run.record.run) {
                        session.send(glassbox_engine::train::Command::SaveWeights(crate::notebook::weights_path(
                            &path, name,
                        )));
                    }
                }
                self.doc.saved_to(path);
                self.remember();
                // What waited for this save (New or Open after "Save"), now that it is saved.
                if let Some(next) = self.after_save.take() {
                    self.pending.push(AppCommand::Discarding(Box::new(next)));
                }
            }
            Err(e) => {
                self.after_save = None;
                self.status = Some(format!("Could not save: {e:#}"));
            }
        }
    }

    /// Asks for a file: the native dialog on its own thread (so no frame waits), or the window's
    /// own where the native one cannot be shown.
    pub(super) fn file_dialog(&mut self, purpose: DialogPurpose, ctx: &egui::Context) {
        let (folder, mut name) = self.dialog_place();
        let stem = self
            .doc
            .path()
            .and_then(Path::file_stem)
            .map_or_else(|| "notebook".to_owned(), |s| s.to_string_lossy().into_owned());
        match purpose {
            DialogPurpose::ExportGraph => name = Some(format!("{}.graph.json", self.active)),
            DialogPurpose::SaveFigure { cell, svg, print } => {
                let kind = self.doc.notebook.as_ref().and_then(|nb| nb.cells.get(cell)).map(|c| &c.kind);
                let figure =
                    kind.map_or_else(|| format!("cell{:02}", cell + 1), |k| crate::figures::file_stem(cell, k));
                // The print-size picture is a file of its own, beside the slide's.
                let size = if print && !svg { "-print" } else { "" };
                name = Some(format!("{stem}-{figure}{size}.{}", if svg { "svg" } else { "png" }));
            }
            DialogPurpose::ExportHandout => name = Some(format!("{stem}-handout.html")),
            DialogPurpose::ExportPytorch => {
                let model: String = self
                    .active
                    .chars()
                    .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' })
                    .collect();
                name = Some(format!("{}.py", if model.is_empty() { "model".to_owned() } else { model }));
            }
            _ => {}
        }
        if !self.files.native {
            self.files.requested = Some((purpose, folder, name));
            return;
        }
        let answer = self.files.answers.0.clone();
        let ctx = ctx.clone();
        let spawned = std::thread::Builder::new().name("file-dialog".into()).spawn(move || {
            let asked = Instant::now();
            let chosen = native_dialog(purpose, folder, name);
            let reply = match chosen {
                Some(path) => Answer::Chosen(purpose, path),
                None if asked.elapsed() < NATIVE_FAILED_WITHIN => Answer::NoNativeDialog(purpose),
                None => return,
            };
            let _ = answer.send(reply);
            ctx.request_repaint();
        });
        if spawned.is_err() {
            self.files.requested = Some((purpose, None, None));
        }
    }

    /// Where a dialog starts, and the name it offers for saving: the notebook's own folder, else
    /// the user's home folder (examples live with the program, which is no place for a student's
    /// files); the notebook's file name.
    fn dialog_place(&self) -> (Option<PathBuf>, Option<String>) {
        let folder = self
            .doc
            .own_path()
            .and_then(Path::parent)
            .map(Path::to_path_buf)
            .or_else(|| std::env::var_os("HOME").map(PathBuf::from).filter(|h| h.is_dir()));
        let name = self.doc.path().and_then(Path::file_name).map(|n| n.to_string_lossy().into_owned());
        (folder, name)
    }

    /// Turns the dialogs' answers into commands, and draws the window's own dialog while open.
    pub(super) fn dialogs_ui(&mut self, ctx: &egui::Context) {
        while let Ok(answer) = self.files.answers.1.try_recv() {
            match answer {
                Answer::Chosen(purpose, path) => self.pending.push(purpose.command(path)),
                Answer::NoNativeDialog(purpose) => {
                    // Not shown: from now on, the window's own dialog.
                    self.files.native = false;
                    let (folder, name) = self.dialog_place();
                    self.files.requested = Some((purpose, folder, name));
                }
            }
        }
        if let Some((purpose, folder, name)) = self.files.requested.take() {
            self.files.in_app = Some((purpose, in_app_dialog(purpose, folder, name.as_deref())));
        }
        let Some((purpose, dialog)) = self.files.in_app.as_mut() else { return };
        // Escape closes it, as it closes every other window and menu.
        if ctx.input(|i| i.key_pressed(egui::Key::Escape)) {
            self.files.in_app = None;
            self.after_save = None;
            return;
        }
        dialog.update(ctx);
        if let Some(path) = dialog.take_picked() {
            let purpose = *purpose;
            self.pending.push(purpose.command(path));
            self.files.in_app = None;
        } else if matches!(
            dialog.state(),
            egui_file_dialog::DialogState::Closed | egui_file_dialog::DialogState::Cancelled
        ) {
            self.files.in_app = None;
            self.after_save = None;
        }
    }

    /// Whether the window's own file dialog is open (tests look for it).
    #[must_use]
    pub fn in_app_dialog_open(&self) -> bool {
        self.files.in_app.is_some() || self.files.requested.is_some()
    }
}

/// A model's graph on its own, as "Export graph…" writes it: its layers and wires, and where the
/// editor draws each node. "Import graph…" also takes a bare graph (`nodes`, `edges`, `output`).
#[derive(Debug, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GraphFile {
    pub graph: glassbox_engine::graph::GraphSpec,
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub layout: std::collections::BTreeMap<String, [f32; 2]>,
}

impl GraphFile {
    /// Reads a graph file (or a bare graph), saying where it went wrong.
    ///
    /// # Errors
    /// When the file cannot be read or holds no graph.
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        use anyhow::Context as _;
        let bytes = glassbox_engine::files::read_file_at_most(path, "the graph file", 64 << 20)?;
        let text = std::str::from_utf8(&bytes).context("the graph file is not text (UTF-8)")?;
        match serde_json::from_str::<Self>(text) {
            Ok(file) => Ok(file),
            Err(first) => serde_json::from_str::<glassbox_engine::graph::GraphSpec>(text)
                .map(|graph| Self { graph, layout: std::collections::BTreeMap::new() })
                .map_err(|_| anyhow::anyhow!("it is not a Glassbox graph file: {first}")),
        }
    }
}
