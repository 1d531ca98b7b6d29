//! The notebook file: a versioned JSON document holding the dataset, one or more models (each a
//! graph with its training settings), the cells that show them, and view state.
//!
//! Format history (each released format keeps a fixture in `tests/fixtures/` that must load):
//! - 1: one `graph` and one `training` at the top level; cells without model names.
//! - 2: `models` (named graphs, each with its training settings); model and training cells name
//!   their model; cells remember whether they are folded; `view` holds the curves' log scale.
//! - 3: the `Compare` cell; cells may sit `beside` the one before; `view` holds the training
//!   speed (`steps_per_second`) and whether comparisons show training curves.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{bail, Context as _};
use glassbox_engine::data::{DataSource, DataSpec, Pattern2d};
use glassbox_engine::files::{self, brief, brief_quoted};
use glassbox_engine::graph::{GraphSpec, LayerSpec};
use glassbox_engine::tensor::OptimizerSpec;
use glassbox_engine::train::TrainConfig;
use serde::{Deserialize, Serialize};

/// The largest notebook file Glassbox reads (weights live in files of their own).
const MAX_NOTEBOOK_BYTES: u64 = 256 << 20;

/// The format this build writes, and the newest it reads.
pub const FORMAT_VERSION: u32 = 3;

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
    /// Every model's curves on one pair of plots, one colour per model.
    Compare,
    /// How one model does on the test split: the confusion matrix and each class's accuracy.
    Evaluation {
        #[serde(default)]
        model: String,
    },
    /// The chosen sample, how to choose another, and the model's top classes for it.
    Predictions {
        #[serde(default)]
        model: String,
    },
    /// Every node's output for the chosen sample (feature maps, bar strips, heatmaps; for 2-D
    /// data each neuron over the plane).
    Activations {
        #[serde(default)]
        model: String,
    },
    /// Every parameter tensor: filters as images, dense weights as heatmaps, histograms.
    Weights {
        #[serde(default)]
        model: String,
    },
    /// Gradient norms, update sizes and dead ReLU units per layer over training, with warnings.
    Health {
        #[serde(default)]
        model: String,
    },
    /// Every attention layer's token x token maps (each head and their mean) for the chosen
    /// sequence.
    Attention {
        #[serde(default)]
        model: String,
    },
    /// Which parts of the chosen sample moved the model's score: two to four attribution
    /// methods side by side (heatmaps over an image, coloured tokens, bars over features).
    Attribution {
        #[serde(default)]
        model: String,
        #[serde(default = "default_attribution_methods")]
        methods: Vec<glassbox_engine::explain::Method>,
    },
    /// One output value of a chosen node worked out one operation at a time, with the chosen
    /// sample's real numbers.
    StepByStep {
        #[serde(default)]
        model: String,
        #[serde(default)]
        view: StepView,
    },
}

/// How a cell's step-by-step view is set (saved with the notebook, so a lesson can point at a
/// node).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepView {
    /// The node shown (`None`: the first that has a walkthrough after the input).
    #[serde(default)]
    pub node: Option<String>,
    /// The output value worked out, as a flat index of the node's output.
    #[serde(default)]
    pub index: usize,
    /// A training step instead of the forward pass: the loss, the way back to one weight, and
    /// its update.
    #[serde(default)]
    pub training: bool,
    /// The weight followed (`<node>.<name>`; `None`: the first weight tensor) and its entry, as a
    /// flat index.
    #[serde(default)]
    pub param: Option<String>,
    #[serde(default)]
    pub entry: usize,
}

/// The maps a new attribution cell shows: a gradient, a path integral, a perturbation.
#[must_use]
pub fn default_attribution_methods() -> Vec<glassbox_engine::explain::Method> {
    use glassbox_engine::explain::Method;
    vec![Method::Saliency, Method::IntegratedGradients, Method::Occlusion]
}

impl CellKind {
    /// What a cell is called in its header, its menus and the handout.
    #[must_use]
    pub fn title(&self) -> &'static str {
        match self {
            CellKind::Markdown { .. } => "Text",
            CellKind::Dataset => "Dataset",
            CellKind::Model { .. } => "Model",
            CellKind::Training { .. } => "Training",
            CellKind::Compare => "Compare models",
            CellKind::Evaluation { .. } => "Evaluation",
            CellKind::Predictions { .. } => "Sample and prediction",
            CellKind::Activations { .. } => "Activations",
            CellKind::Weights { .. } => "Weights",
            CellKind::Health { .. } => "Gradients and health",
            CellKind::Attention { .. } => "Attention",
            CellKind::Attribution { .. } => "Attribution",
            CellKind::StepByStep { .. } => "Step by step",
        }
    }

    /// The model a cell shows (`None` for cells of the whole notebook).
    #[must_use]
    pub fn model(&self) -> Option<&str> {
        match self {
            Self::Model { model }
            | Self::Training { model }
            | Self::Evaluation { model }
            | Self::Predictions { model }
            | Self::Activations { model }
            | Self::Weights { model }
            | Self::Health { model }
            | Self::Attention { model }
            | Self::Attribution { model, .. }
            | Self::StepByStep { model, .. } => Some(model),
            Self::Markdown { .. } | Self::Dataset | Self::Compare => None,
        }
    }

    /// The model a cell shows, to change (`None` for cells of the whole notebook).
    pub fn model_mut(&mut self) -> Option<&mut String> {
        match self {
            Self::Model { model }
            | Self::Training { model }
            | Self::Evaluation { model }
            | Self::Predictions { model }
            | Self::Activations { model }
            | Self::Weights { model }
            | Self::Health { model }
            | Self::Attention { model }
            | Self::Attribution { model, .. }
            | Self::StepByStep { model, .. } => Some(model),
            Self::Markdown { .. } | Self::Dataset | Self::Compare => None,
        }
    }

    /// Whether the cell looks inside a model at the chosen sample and moment.
    pub fn inspects(&self) -> bool {
        matches!(
            self,
            Self::Predictions { .. }
                | Self::Activations { .. }
                | Self::Weights { .. }
                | Self::Attention { .. }
                | Self::Attribution { .. }
                | Self::StepByStep { .. }
        )
    }
}

/// One cell of the notebook, shown in order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    #[serde(flatten)]
    pub kind: CellKind,
    /// Folded away to its header (view state, saved with the notebook).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub folded: bool,
    /// Shown beside the cell before it, in one row (so data, network and curves fit one screen).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub beside: bool,
}

impl From<CellKind> for Cell {
    fn from(kind: CellKind) -> Self {
        Self { kind, folded: false, beside: false }
    }
}

impl Cell {
    /// The model this cell shows, if it shows one.
    #[must_use]
    pub fn model(&self) -> Option<&str> {
        self.kind.model()
    }
}

/// A named model: its graph and how it is trained.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelDef {
    pub name: String,
    pub graph: GraphSpec,
    #[serde(default)]
    pub training: TrainConfig,
    /// Where the editor draws each node (its top-left corner), by node id. Nodes without a place
    /// (a file written by hand, a graph imported) are laid out automatically.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub layout: BTreeMap<String, [f32; 2]>,
}

/// How the notebook was last looked at, saved with it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ViewState {
    /// Loss curves on a log scale.
    pub log_scale: bool,
    /// How fast Train runs, in steps a second (`None`: as fast as the machine can).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub steps_per_second: Option<f32>,
    /// The comparison plots show the training curves too, not only the test curves.
    pub compare_training: bool,
    /// Model cells show the table of layers instead of the graph editor.
    pub table_view: bool,
    /// The graph editor draws a small live preview in each node (its output for the chosen
    /// sample, or for 2-D data its response over the plane).
    #[serde(default)]
    pub node_previews: bool,
    /// Controls a lesson hides because it does not need them (as TensorFlow Playground's hide
    /// options do); every other control stays.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hide: Vec<Control>,
}

/// A control a lesson can hide.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Control {
    /// Each cell's menu, move and delete buttons and "+ cell" (folding stays).
    CellControls,
    /// The training speed buttons.
    Speed,
    /// Step and Epoch (Train and Pause stay).
    StepButtons,
    /// Reset.
    Reset,
}

/// A notebook. Format-1 files are read into format 2. The dataset and at least one model are
/// required; cells, title and view state have defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "StoredNotebook")]
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
        layout: BTreeMap::new(),
    }
}

impl Notebook {
    /// A notebook of one template (its data, its model, the standard cells), titled after it.
    #[must_use]
    pub fn from_template(template: glassbox_engine::templates::Template) -> Self {
        let models = vec![ModelDef {
            name: "Model".into(),
            graph: template.graph,
            training: template.training,
            layout: BTreeMap::new(),
        }];
        Self {
            format_version: FORMAT_VERSION,
            title: template.name.into(),
            data: template.data,
            cells: standard_cells(&models),
            models,
            view: ViewState::default(),
        }
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

impl TryFrom<StoredNotebook> for Notebook {
    type Error = String;

    fn try_from(stored: StoredNotebook) -> Result<Self, String> {
        let fallback = Self::default();
        let mut models = match (stored.models, stored.graph) {
            (Some(models), _) if !models.is_empty() => models,
            (_, Some(graph)) => {
                vec![ModelDef {
                    name: "Model".into(),
                    graph,
                    training: stored.training.unwrap_or_default(),
                    layout: BTreeMap::new(),
                }]
            }
            (Some(_), None) => {
                return Err("the notebook's \"models\" list is empty: a notebook needs at least one model (a name and a graph)".into())
            }
            (None, None) => {
                return Err("the notebook has no \"models\": a notebook needs at least one model (a name and a graph); copy one from an example notebook".into())
            }
        };
        let Some(data) = stored.data else {
            return Err("the notebook has no \"data\" (its dataset): add one, for example \"data\": {\"source\": {\"kind\": \"Bundled\", \"name\": \"Mnist\"}}".into());
        };
        // Names must be unique, since cells find their model by name. A renamed model never
        // takes a name another model has in the file (`--model "A 2"` must not find the second
        // of two models called "A"); `Notebook::read` warns about each renaming.
        let written: std::collections::BTreeSet<String> = models.iter().map(|m| m.name.clone()).collect();
        let mut seen = std::collections::BTreeSet::new();
        for m in &mut models {
            if m.name.trim().is_empty() || seen.contains(&m.name) {
                let base = if m.name.trim().is_empty() { "Model".to_owned() } else { m.name.clone() };
                m.name = unique_name(&base, |n| seen.contains(n) || written.contains(n));
            }
            seen.insert(m.name.clone());
        }
        let mut cells = stored.cells.unwrap_or_else(|| standard_cells(&models));
        // A cell without a model name (format 1) shows the first model.
        for cell in &mut cells {
            if let Some(model) = cell.kind.model_mut() {
                if model.is_empty() {
                    model.clone_from(&models[0].name);
                }
            }
        }
        Ok(Self {
            format_version: FORMAT_VERSION,
            title: stored.title.unwrap_or(fallback.title),
            data,
            models,
            cells,
            view: stored.view.unwrap_or_default(),
        })
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
                const LISTED: usize = 10;
                let mut names: Vec<String> = self.models.iter().take(LISTED).map(|m| brief(&m.name)).collect();
                if self.models.len() > LISTED {
                    names.push(format!("and {} more", self.models.len() - LISTED));
                }
                format!("the notebook has no model called \"{}\"; its models are: {}", brief(name), names.join(", "))
            }),
        }
    }

    /// Parses a notebook (see [`Notebook::read`]), dropping the warnings.
    ///
    /// # Errors
    /// As [`Notebook::read`].
    pub fn from_json(text: &str, what: &str) -> anyhow::Result<Self> {
        Self::read(text, what).map(|(nb, _)| nb)
    }

    /// Parses a notebook, with a warning for every key it does not know (a typo such as
    /// `"smaples"` would otherwise be ignored without a word). A file from a newer Glassbox, one
    /// that is not a notebook, one without a dataset or a model, or one with a setting no run can
    /// use gives an error that says where (line, column, the field's path) and what to do, and
    /// nothing is half-read.
    ///
    /// # Errors
    /// Malformed JSON, a newer format, a missing dataset or model, fields of the wrong kind, or
    /// training settings that cannot work (a learning rate of 0 or less, a batch size of 0).
    pub fn read(text: &str, what: &str) -> anyhow::Result<(Self, Vec<String>)> {
        // A byte-order mark (which some editors write) is not JSON, but harmless.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        if text.trim().is_empty() {
            bail!("{what} is empty: a notebook is a JSON object with \"data\" and \"models\"; open one of the examples to start from");
        }
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
            let advice = match e.classify() {
                serde_json::error::Category::Eof => {
                    ": the file ends before the JSON does, so it was probably cut short; use an earlier copy (or the autosaved work Glassbox offers after a crash)"
                }
                _ if e.to_string().contains("recursion limit") => {
                    ": the brackets are nested too deeply for a notebook; check that the right file was chosen"
                }
                _ => ": fix the JSON there (a missing comma, quote or bracket is the usual cause)",
            };
            anyhow::anyhow!(
                "{what} is not valid JSON (line {}, column {}): {}{advice}",
                e.line(),
                e.column(),
                without_position(&e)
            )
        })?;
        let Some(object) = value.as_object() else {
            bail!("{what} is not a Glassbox notebook: it holds a JSON {}, where a notebook is an object with \"data\" and \"models\"", json_kind(&value));
        };
        let version = match object.get("format_version") {
            None => 1,
            Some(v) => v.as_u64().filter(|&v| v >= 1).with_context(|| {
                format!(
                    "{what}: \"format_version\" is {}: it must be a notebook format number from 1 to {FORMAT_VERSION}",
                    brief(&v.to_string())
                )
            })?,
        };
        if version > u64::from(FORMAT_VERSION) {
            bail!("{what} was written by a newer Glassbox (notebook format {version}; this one reads up to {FORMAT_VERSION}): update Glassbox to open it");
        }
        let mut de = serde_json::Deserializer::from_str(text);
        let nb: Self = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let mut field = e.path().to_string();
            // Inside a layer or a data source (tagged by "kind"), serde loses the field's name:
            // find it by the value the message quotes.
            if let Some(key) = value_at(&value, e.path()).and_then(|v| guess_field(v, &e.inner().to_string())) {
                field = if field == "." { key } else { format!("{field}.{key}") };
            }
            let inner = e.into_inner();
            if inner.line() == 0 {
                // A check of the whole notebook (no dataset, no models), not of one place in it.
                return anyhow::anyhow!("{what}: {}", without_position(&inner));
            }
            let at = if field == "." { String::new() } else { format!(" in {field}") };
            anyhow::anyhow!(
                "{what} is not a Glassbox notebook: line {}, column {}{at}: {}",
                inner.line(),
                inner.column(),
                without_position(&inner)
            )
        })?;
        for m in &nb.models {
            if let Err(problem) = m.training.validate() {
                bail!("{what}: model \"{}\": {problem}", brief(&m.name));
            }
        }
        let mut warnings = Vec::new();
        let written = serde_json::to_value(&nb)?;
        unknown_keys(&value, &written, "", &mut |path, key, known| {
            let line = line_of_key_in(text, path, key).map_or_else(String::new, |l| format!(" (line {l})"));
            warnings.push(format!(
                "{what}: the key \"{}\"{line} in {} is not one Glassbox knows, so it was ignored; the keys there are: {}",
                brief(key),
                if path.is_empty() { "the notebook" } else { path },
                known.join(", ")
            ));
        });
        if let Some(read_models) = value.get("models").and_then(serde_json::Value::as_array) {
            for (m, raw) in nb.models.iter().zip(read_models) {
                let written = raw.get("name").and_then(serde_json::Value::as_str).unwrap_or("");
                if written != m.name {
                    let was = if written.trim().is_empty() {
                        "a model without a name".to_owned()
                    } else {
                        format!("a second model called \"{}\"", brief(written))
                    };
                    warnings.push(format!(
                        "{what}: {was} is called \"{}\" here (every model needs a name of its own); rename it in the notebook to choose its name",
                        brief(&m.name)
                    ));
                }
            }
        }
        for key in ["graph", "training"] {
            if value.get(key).is_some() && value.get("models").is_some() {
                let line = line_of_key(text, key).map_or_else(String::new, |l| format!(" (line {l})"));
                warnings.push(format!(
                    "{what}: the key \"{key}\"{line} is from notebook format 1, and this notebook has \"models\" too, which are used: the \"{key}\" was ignored"
                ));
            }
        }
        Ok((nb, warnings))
    }

    /// Reads a notebook file (see [`Notebook::read`]), dropping the warnings.
    ///
    /// # Errors
    /// As [`Notebook::load_with_warnings`].
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        Self::load_with_warnings(path).map(|(nb, _)| nb)
    }

    /// Reads a notebook file: a regular file of UTF-8 text (a named pipe or a binary file is
    /// refused with a message, never waited on), parsed by [`Notebook::read`].
    ///
    /// # Errors
    /// When the file cannot be read or is not a notebook.
    pub fn load_with_warnings(path: &Path) -> anyhow::Result<(Self, Vec<String>)> {
        let text = files::read_text(path, "the notebook", MAX_NOTEBOOK_BYTES)?;
        Self::read(&text, &files::brief_path(path))
    }

    /// Writes the notebook atomically: to a temporary file beside it, then renamed over it; a
    /// failed save leaves nothing behind.
    ///
    /// # Errors
    /// When the folder is not writable.
    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        let text = serde_json::to_string_pretty(self)?;
        files::write_atomically(path, text.as_bytes())
            .with_context(|| format!("cannot write {}", files::brief_path(path)))
    }
}

/// `serde_json`'s message without its trailing "at line L column C" (which the caller words).
fn without_position(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let cut = text.rfind(" at line ").map_or(text.as_str(), |at| &text[..at]);
    brief_quoted(cut)
}

/// The part of the document a `serde_path_to_error` path points to.
fn value_at<'a>(value: &'a serde_json::Value, path: &serde_path_to_error::Path) -> Option<&'a serde_json::Value> {
    use serde_path_to_error::Segment;
    path.iter().try_fold(value, |v, segment| match segment {
        Segment::Seq { index } => v.get(index),
        Segment::Map { key } => v.get(key.as_str()),
        Segment::Enum { .. } | Segment::Unknown => Some(v),
    })
}

/// For "invalid type: floating point `1.5`, expected usize" about an object, the one key of
/// the object that holds that value, if exactly one does.
fn guess_field(object: &serde_json::Value, message: &str) -> Option<String> {
    let object = object.as_object()?;
    let rest = message.strip_prefix("invalid type: ").or_else(|| message.strip_prefix("invalid value: "))?;
    let unexpected = &rest[..rest.find(", expected")?];
    let same = |v: &serde_json::Value| {
        let number = unexpected
            .strip_prefix("integer `")
            .or_else(|| unexpected.strip_prefix("floating point `"))
            .and_then(|n| n.trim_end_matches('`').parse::<f64>().ok());
        if let Some(n) = number {
            return v.as_f64() == Some(n);
        }
        if let Some(text) = unexpected.strip_prefix("string \"").and_then(|t| t.strip_suffix('"')) {
            return v.as_str() == Some(text);
        }
        match unexpected {
            "boolean `true`" => v.as_bool() == Some(true),
            "boolean `false`" => v.as_bool() == Some(false),
            "sequence" => v.is_array(),
            "map" => v.is_object(),
            "null" | "unit value" => v.is_null(),
            _ => false,
        }
    };
    let mut keys = object.iter().filter(|(key, v)| key.as_str() != "kind" && same(v)).map(|(key, _)| key);
    match (keys.next(), keys.next()) {
        (Some(key), None) => Some(key.clone()),
        _ => None,
    }
}

fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "true or false",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "list",
        serde_json::Value::Object(_) => "object",
    }
}

/// Keys of `read` (what the file holds) that `written` (the notebook as Glassbox writes it
/// again) lacks, at any depth: those were ignored. Lists are matched item by item. Keys that are
/// written only when they differ from their default (a cell's `folded`) and the format-1 keys
/// (`graph`, `training`) are known.
fn unknown_keys(
    read: &serde_json::Value,
    written: &serde_json::Value,
    path: &str,
    report: &mut impl FnMut(&str, &str, Vec<String>),
) {
    use serde_json::Value;
    const KNOWN_UNWRITTEN: [&str; 3] = ["folded", "beside", "steps_per_second"];
    match (read, written) {
        (Value::Object(read), Value::Object(written)) => {
            for (key, value) in read {
                let child = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                match written.get(key) {
                    Some(w) => unknown_keys(value, w, &child, report),
                    None if path.is_empty() && (key == "graph" || key == "training") => {
                        if read.contains_key("models") {
                            // A format-1 key beside format 2's models: said on its own, in `read`.
                        } else if let Some(w) = written.get("models").and_then(|m| m.get(0)).and_then(|m| m.get(key)) {
                            // Format 1: the one model's graph and training, now in models[0].
                            unknown_keys(value, w, key, report);
                        }
                    }
                    None if KNOWN_UNWRITTEN.contains(&key.as_str()) => {}
                    None => {
                        let mut known: Vec<String> = written.keys().cloned().collect();
                        known.sort();
                        report(path, key, known);
                    }
                }
            }
        }
        (Value::Array(read), Value::Array(written)) => {
            for (i, (r, w)) in read.iter().zip(written).enumerate() {
                unknown_keys(r, w, &format!("{path}[{i}]"), report);
            }
        }
        _ => {}
    }
}

/// The line (from 1) of `"key":` under `path` (`models[0].training`): the first occurrence
/// after the path's own keys, in order (close enough to find the right one of several).
fn line_of_key_in(text: &str, path: &str, key: &str) -> Option<usize> {
    let mut from = 0;
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let name = part.split('[').next().unwrap_or(part);
        if let Some(at) = key_position(&text[from..], name) {
            from += at;
        }
    }
    key_position(&text[from..], key).map(|at| text[..from + at].matches('\n').count() + 1)
}

/// The byte where `"key":` first appears in the text.
fn key_position(text: &str, key: &str) -> Option<usize> {
    let quoted = format!("\"{key}\"");
    let mut from = 0;
    while let Some(found) = text[from..].find(&quoted) {
        let at = from + found;
        if text[at + quoted.len()..].trim_start().starts_with(':') {
            return Some(at);
        }
        from = at + quoted.len();
    }
    None
}

/// The line (from 1) where `"key":` first appears in the text.
fn line_of_key(text: &str, key: &str) -> Option<usize> {
    key_position(text, key).map(|at| text[..at].matches('\n').count() + 1)
}

/// The weights file of one model of a notebook: `NAME.MODEL.safetensors` beside it.
#[must_use]
pub fn weights_path(notebook: &Path, model: &str) -> std::path::PathBuf {
    let slug: String =
        model.chars().map(|c| if c.is_alphanumeric() || c == '-' || c == '_' { c } else { '-' }).collect();
    let stem = notebook.file_stem().map_or_else(|| "notebook".into(), |s| s.to_string_lossy().into_owned());
    notebook.with_file_name(format!("{stem}.{slug}.safetensors"))
}
