//! The open notebook as a document: the notebook itself, the file it belongs to, whether it has
//! unsaved changes, and its undo/redo history.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::notebook::Notebook;

/// How many steps Undo can go back.
const UNDO_DEPTH: usize = 100;
/// Edits of one dragged value closer together than this are one step of undo.
const MERGE_WITHIN: Duration = Duration::from_secs(2);

/// The notebook being worked on and its history.
#[derive(Default)]
pub(super) struct Document {
    pub notebook: Option<Notebook>,
    /// The file the notebook came from or was last saved to; `None` for a new notebook.
    path: Option<PathBuf>,
    /// Whether `path` is a bundled example (worked out once per path: it reads the file system).
    example: bool,
    /// Whether the notebook changed since it was opened, saved or autosaved.
    pub dirty: bool,
    /// Whether the notebook changed since it was opened or saved (autosave does not count).
    pub unsaved: bool,
    /// Notebooks as they were before each change (newest last), and changes taken back by Undo.
    undo: Vec<Notebook>,
    redo: Vec<Notebook>,
    /// The last change, when it was a dragged value (merged into one undo step), and when.
    last_edit: Option<(String, Instant)>,
    /// The notebook as its file holds it (as opened or last saved, or as a new one started);
    /// `None` for work recovered from the autosave.
    saved: Option<Notebook>,
}

/// Whether `path` is one of the bundled example notebooks (which Save does not overwrite).
fn is_example(path: &Path) -> bool {
    let examples = crate::assets_path("assets/notebooks");
    match (path.canonicalize(), examples.canonicalize()) {
        (Ok(p), Ok(e)) => p.starts_with(e),
        _ => false,
    }
}

impl Document {
    /// A notebook just opened (or made, or recovered): no history, nothing unsaved.
    pub fn replace(&mut self, notebook: Notebook, path: Option<PathBuf>) {
        // A new notebook counts as saved as it starts: there is nothing to lose in it yet.
        let saved = Some(notebook.clone());
        *self = Self { notebook: Some(notebook), saved, ..Self::default() };
        self.set_path(path);
    }

    /// Unsaved changes are differences from the file: undoing back to it leaves none.
    pub fn compare_with_saved(&mut self) {
        self.unsaved = self.notebook != self.saved;
    }

    /// The notebook has changes its file does not hold (recovered work).
    pub fn mark_unsaved(&mut self) {
        self.saved = None;
        self.unsaved = true;
        self.dirty = true;
    }

    pub fn set_path(&mut self, path: Option<PathBuf>) {
        self.example = path.as_deref().is_some_and(is_example);
        self.path = path;
    }

    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    pub fn is_example(&self) -> bool {
        self.example
    }

    /// The notebook's own file: its path unless it is a bundled example (which Save never
    /// overwrites).
    pub fn own_path(&self) -> Option<&Path> {
        self.path.as_deref().filter(|_| !self.example)
    }

    /// Saved to `path`, which becomes its file.
    pub fn saved_to(&mut self, path: PathBuf) {
        self.dirty = false;
        self.unsaved = false;
        self.saved.clone_from(&self.notebook);
        self.set_path(Some(path));
    }

    pub fn can_undo(&self) -> bool {
        !self.undo.is_empty()
    }

    pub fn can_redo(&self) -> bool {
        !self.redo.is_empty()
    }

    /// Takes the notebook to go back to (`redo`: forward to), keeping the current one on the
    /// other side of the history.
    pub fn step_history(&mut self, redo: bool) -> Option<Notebook> {
        let (from, to) = if redo { (&mut self.redo, &mut self.undo) } else { (&mut self.undo, &mut self.redo) };
        let target = from.pop()?;
        if let Some(current) = self.notebook.clone() {
            to.push(current);
        }
        self.last_edit = None;
        self.dirty = true;
        Some(target)
    }

    /// Records a change the frame's commands made: `before` is the notebook before them. View
    /// changes (`view_only`) are saved but not undone; edits with the same `merge` key close
    /// together (a dragged value) are one step.
    pub fn record(&mut self, before: Option<Notebook>, view_only: bool, merge: Option<String>) {
        if self.notebook == before {
            return;
        }
        self.dirty = true;
        self.compare_with_saved();
        let Some(before) = before.filter(|_| !view_only) else { return };
        let now = Instant::now();
        let merged = matches!((&merge, &self.last_edit), (Some(key), Some((last, at))) if key == last && now.duration_since(*at) < MERGE_WITHIN);
        if !merged {
            self.undo.push(before);
            if self.undo.len() > UNDO_DEPTH {
                self.undo.remove(0);
            }
        }
        self.redo.clear();
        self.last_edit = merge.map(|key| (key, now));
    }

    /// The window's title: the notebook's, with a mark while there are unsaved changes.
    pub fn window_title(&self) -> String {
        let title = self.notebook.as_ref().map_or("Glassbox", |nb| nb.title.as_str());
        if self.unsaved {
            format!("● {title} (unsaved) — Glassbox")
        } else {
            format!("{title} — Glassbox")
        }
    }
}
