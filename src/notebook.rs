//! The notebook file: a versioned JSON document holding a model graph, its dataset and its
//! training settings. (The app issue adds cells and view state.)

use std::path::Path;

use anyhow::{bail, Context as _};
use glassbox_engine::data::{DataSource, DataSpec, Pattern2d};
use glassbox_engine::graph::{GraphSpec, LayerSpec};
use glassbox_engine::tensor::OptimizerSpec;
use glassbox_engine::train::TrainConfig;
use serde::{Deserialize, Serialize};

/// The format this build writes, and the newest it reads.
pub const FORMAT_VERSION: u32 = 1;

/// One cell of the notebook, shown in order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind")]
pub enum Cell {
    /// Lesson text, in a small subset of Markdown (headings, paragraphs, bullet lists).
    Markdown { text: String },
    /// The dataset: its source, samples and license.
    Dataset,
    /// The model graph with every layer's shape.
    Model,
    /// Training controls and live curves.
    Training,
}

/// A notebook. Missing fields take their defaults, so older files keep loading.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Notebook {
    pub format_version: u32,
    pub title: String,
    pub graph: GraphSpec,
    pub data: DataSpec,
    pub training: TrainConfig,
    /// The cells, in order. A file without cells gets the standard ones.
    pub cells: Vec<Cell>,
}

/// The cells a notebook without any gets: dataset, model, training.
#[must_use]
pub fn standard_cells() -> Vec<Cell> {
    vec![Cell::Dataset, Cell::Model, Cell::Training]
}

impl Default for Notebook {
    /// A small MLP on the two spirals: the notebook a fresh start shows.
    fn default() -> Self {
        Self {
            format_version: FORMAT_VERSION,
            title: "Two spirals".into(),
            graph: GraphSpec::sequential(vec![
                LayerSpec::Input { shape: vec![2] },
                LayerSpec::Dense { units: 16, bias: true },
                LayerSpec::Tanh,
                LayerSpec::Dense { units: 16, bias: true },
                LayerSpec::Tanh,
                LayerSpec::Dense { units: 2, bias: true },
            ]),
            data: DataSpec::new(DataSource::Toy2d { pattern: Pattern2d::Spiral, samples: 500, noise: 0.1, seed: 0 }),
            training: TrainConfig {
                optimizer: OptimizerSpec::adam(0.01),
                batch_size: 16,
                epochs: 60,
                ..TrainConfig::default()
            },
            cells: standard_cells(),
        }
    }
}

impl Notebook {
    /// Parses a notebook. A file from a newer Glassbox, or one that is not a notebook, gives an
    /// error that says so (with line and column), and nothing is half-read.
    ///
    /// # Errors
    /// Malformed JSON, a newer format, or fields of the wrong kind.
    pub fn from_json(text: &str, what: &str) -> anyhow::Result<Self> {
        let value: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| anyhow::anyhow!("{what} is not valid JSON (line {}, column {}): {e}", e.line(), e.column()))?;
        let version = value.get("format_version").and_then(serde_json::Value::as_u64).unwrap_or(1);
        if version > u64::from(FORMAT_VERSION) {
            bail!("{what} was written by a newer Glassbox (notebook format {version}; this one reads up to {FORMAT_VERSION}): update Glassbox to open it");
        }
        serde_json::from_str(text).map_err(|e| {
            anyhow::anyhow!("{what} is not a Glassbox notebook (line {}, column {}): {e}", e.line(), e.column())
        })
    }

    /// Reads a notebook file.
    ///
    /// # Errors
    /// When the file cannot be read or is not a notebook.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        Self::from_json(&text, &path.display().to_string())
    }

    /// Writes the notebook atomically: to a temporary file beside it, then renamed over it.
    ///
    /// # Errors
    /// When the folder is not writable.
    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        let text = serde_json::to_string_pretty(self)?;
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, text).with_context(|| format!("cannot write {}", tmp.display()))?;
        std::fs::rename(&tmp, path).with_context(|| format!("cannot replace {}", path.display()))?;
        Ok(())
    }
}
