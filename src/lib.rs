//! The Glassbox app: the window a student opens. It never names dfdx; all computing goes through
//! `glassbox_engine`.
//!
//! The window shows a notebook as a list of cells (lesson text, the dataset, the model with every
//! layer's shape, training with live curves); `cli` is the headless command line.

mod app;
pub mod cli;
pub mod export;
pub mod figures;
pub mod handout;
pub mod notebook;

pub use app::{AppCommand, GlassboxApp, ModelCommand, Sample, LAST_NOTEBOOK_KEY, RECENT_KEY};

use std::path::{Path, PathBuf};

/// The notebook a fresh start opens.
pub const DEFAULT_NOTEBOOK: &str = "assets/notebooks/spiral-mlp.json";

/// Where the bundled assets are: beside the binary's crate in a checkout.
///
/// ```
/// let path = glassbox::assets_path(glassbox::DEFAULT_NOTEBOOK);
/// assert!(path.ends_with("assets/notebooks/spiral-mlp.json"));
/// assert!(path.exists());
/// ```
#[must_use]
pub fn assets_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}
