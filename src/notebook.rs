//! The notebook file: a versioned JSON document holding the dataset, one or more models (each a
//! graph with its training settings), the cells that show them, and view state.
//!
//! Format history (each released format keeps a fixture in `tests/fixtures/` that must load):
//! - 1: one `graph` and one `training` at the top level; cells without model names.
//! - 2: `models` (named graphs, each with its training settings); model and training cells name
//!   their model; cells remember whether they are folded; `view` holds the curves' log scale.

use std::path::Path;

use anyhow::{bail, Context as _};
use glassbox_engine::data::{DataSource, DataSpec, Pattern2d};
use glassbox_engine::graph::{GraphSpec, LayerSpec};
use glassbox_engine::tensor::OptimizerSpec;
use glassbox_engine::train::TrainConfig;
use serde::{Deserialize, Serialize};

/// The format this build writes, and the newest it reads.
pub const FORMAT_VERSION: u32 = 2;

/// What a cell shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind")]
pub enum CellKind {
    /// Lesson text, in a small subset of Markdown (headings, paragraphs, bullet lists).
    Markdown { text: String },
    /// The dataset: its source, samples and license.
    Dataset,
    /// A model graph with every layer's shape. `model` names one of the notebook's models.
    Model {
        #[serde(default)]
        model: String,
    },
    /// Training controls and live curves of one model.
    Training {
        #[serde(default)]
        model: String,
    },
}

/// One cell of the notebook, shown in order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    #[serde(flatten)]
    pub kind: CellKind,
    /// Folded away to its header (view state, saved with the notebook).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub folded: bool,
}

impl From<CellKind> for Cell {
    fn from(kind: CellKind) -> Self {
        Self { kind, folded: false }
    }
}

impl Cell {
    /// The model this cell shows, if it shows one.
    #[must_use]
    pub fn model(&self) -> Option<&str> {
        match &self.kind {
            CellKind::Model { model } | CellKind::Training { model } => Some(model),
            CellKind::Markdown { .. } | CellKind::Dataset => None,
        }
    }
}

/// A named model: its graph and how it is trained.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelDef {
    pub name: String,
    pub graph: GraphSpec,
    #[serde(default)]
    pub training: TrainConfig,
}

/// How the notebook was last looked at, saved with it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ViewState {
    /// Loss curves on a log scale.
    pub log_scale: bool,
}

/// A notebook. Missing fields take their defaults, and format-1 files are read into format 2.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(from = "StoredNotebook")]
pub struct Notebook {
    pub format_version: u32,
    pub title: String,
    pub data: DataSpec,
    /// At least one model; names are unique.
    pub models: Vec<ModelDef>,
    /// The cells, in order. A file without cells gets the standard ones.
    pub cells: Vec<Cell>,
    pub view: ViewState,
}

/// The cells a notebook without any gets: dataset, then each model's model and training cells.
#[must_use]
pub fn standard_cells(models: &[ModelDef]) -> Vec<Cell> {
    let mut cells = vec![Cell::from(CellKind::Dataset)];
    for m in models {
        cells.push(CellKind::Model { model: m.name.clone() }.into());
        cells.push(CellKind::Training { model: m.name.clone() }.into());
    }
    cells
}

/// The two-spirals MLP a fresh start shows.
#[must_use]
pub fn spiral_model(name: &str) -> ModelDef {
    ModelDef {
        name: name.into(),
        graph: GraphSpec::sequential(vec![
            LayerSpec::Input { shape: vec![2] },
            LayerSpec::Dense { units: 16, bias: true },
            LayerSpec::Tanh,
            LayerSpec::Dense { units: 16, bias: true },
            LayerSpec::Tanh,
            LayerSpec::Dense { units: 2, bias: true },
        ]),
        training: TrainConfig {
            optimizer: OptimizerSpec::adam(0.01),
            batch_size: 16,
            epochs: 60,
            ..TrainConfig::default()
        },
    }
}

impl Default for Notebook {
    /// A small MLP on the two spirals.
    fn default() -> Self {
        let models = vec![spiral_model("MLP")];
        Self {
            format_version: FORMAT_VERSION,
            title: "Two spirals".into(),
            data: DataSpec::new(DataSource::Toy2d { pattern: Pattern2d::Spiral, samples: 500, noise: 0.1, seed: 0 }),
            cells: standard_cells(&models),
            models,
            view: ViewState::default(),
        }
    }
}

/// What a file may hold: every field of every released format, all optional.
#[derive(Default, Deserialize)]
#[serde(default)]
struct StoredNotebook {
    title: Option<String>,
    data: Option<DataSpec>,
    models: Option<Vec<ModelDef>>,
    cells: Option<Vec<Cell>>,
    view: Option<ViewState>,
    /// Format 1: the one model's graph and training settings.
    graph: Option<GraphSpec>,
    training: Option<TrainConfig>,
}

impl From<StoredNotebook> for Notebook {
    fn from(stored: StoredNotebook) -> Self {
        let fallback = Self::default();
        let mut models = match (stored.models, stored.graph) {
            (Some(models), _) if !models.is_empty() => models,
            (_, Some(graph)) => {
                vec![ModelDef { name: "Model".into(), graph, training: stored.training.unwrap_or_default() }]
            }
            _ => fallback.models,
        };
        // Names must be unique, since cells find their model by name.
        let mut seen = std::collections::BTreeSet::new();
        for m in &mut models {
            if m.name.trim().is_empty() {
                m.name = "Model".into();
            }
            m.name = unique_name(&m.name, |n| seen.contains(n));
            seen.insert(m.name.clone());
        }
        let mut cells = stored.cells.unwrap_or_else(|| standard_cells(&models));
        // A cell without a model name (format 1) shows the first model.
        for cell in &mut cells {
            if let CellKind::Model { model } | CellKind::Training { model } = &mut cell.kind {
                if model.is_empty() {
                    model.clone_from(&models[0].name);
                }
            }
        }
        Self {
            format_version: FORMAT_VERSION,
            title: stored.title.unwrap_or(fallback.title),
            data: stored.data.unwrap_or(fallback.data),
            models,
            cells,
            view: stored.view.unwrap_or_default(),
        }
    }
}

/// `base`, or `base 2`, `base 3`, ... : the first that `taken` refuses.
#[must_use]
pub fn unique_name(base: &str, taken: impl Fn(&str) -> bool) -> String {
    if !taken(base) {
        return base.to_owned();
    }
    (2..).map(|i| format!("{base} {i}")).find(|n| !taken(n)).unwrap_or_else(|| base.to_owned())
}

impl Notebook {
    /// The index of the model called `name`.
    #[must_use]
    pub fn model_index(&self, name: &str) -> Option<usize> {
        self.models.iter().position(|m| m.name == name)
    }

    /// The model called `name`.
    #[must_use]
    pub fn model(&self, name: &str) -> Option<&ModelDef> {
        self.models.iter().find(|m| m.name == name)
    }

    /// The model called `name`, to change.
    pub fn model_mut(&mut self, name: &str) -> Option<&mut ModelDef> {
        self.models.iter_mut().find(|m| m.name == name)
    }

    /// The model called `name`, or the first when `name` is `None`; an unknown name is an error
    /// that lists the models there are.
    ///
    /// # Errors
    /// When no model has that name.
    pub fn pick_model(&self, name: Option<&str>) -> anyhow::Result<&ModelDef> {
        match name {
            None => self.models.first().context("the notebook has no model"),
            Some(name) => self.model(name).with_context(|| {
                let names: Vec<&str> = self.models.iter().map(|m| m.name.as_str()).collect();
                format!("the notebook has no model called \"{name}\"; its models are: {}", names.join(", "))
            }),
        }
    }

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

/// The weights file of one model of a notebook: `NAME.MODEL.safetensors` beside it.
#[must_use]
pub fn weights_path(notebook: &Path, model: &str) -> std::path::PathBuf {
    let slug: String =
        model.chars().map(|c| if c.is_alphanumeric() || c == '-' || c == '_' { c } else { '-' }).collect();
    let stem = notebook.file_stem().map_or_else(|| "notebook".into(), |s| s.to_string_lossy().into_owned());
    notebook.with_file_name(format!("{stem}.{slug}.safetensors"))
}
