//! What can be known about a run before anything is allocated: the settings, the graph's shapes,
//! whether the data fits the model (every label, not one sample), and whether the model fits in
//! memory. The trainer runs it before it builds a model; the app and the command line run the same
//! check to say what is wrong before Train is pressed.

use super::config::TrainConfig;
use crate::data::{Dataset, Splits, Targets};
use crate::files::brief;
use crate::graph::{infer_shapes, numel, shape_text, GraphSpec, LayerSpec, ShapeReport};
use crate::memory::{self, format_bytes};
use crate::EngineError;

/// Evaluation and inspection run the test split in chunks of this many samples.
pub(crate) const EVAL_CHUNK: usize = 256;
/// Copies of the weights a run keeps besides the weights themselves: the gradient, three
/// checkpoints, the starting weights, and two while a checkpoint is serialised.
const WEIGHT_COPIES: f64 = 7.0;

/// The memory a model takes while it trains, in bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ModelMemory {
    /// The parameters' values.
    pub weights: f64,
    /// Gradients, optimiser moments and checkpoints: copies of the weights.
    pub training: f64,
    /// Every layer's output (and its gradient) for a training batch, or for an evaluation chunk.
    pub activations: f64,
    /// The number of parameters.
    pub params: f64,
}

impl ModelMemory {
    /// All of it.
    #[must_use]
    pub fn total(&self) -> f64 {
        self.weights + self.training + self.activations
    }
}

/// Estimates the memory of training the graph of `report` with `config` on a split of
/// `train_len` samples (a batch is never larger than the split). Works from shapes alone, in
/// `f64`, so absurd sizes give absurd numbers rather than overflows.
#[must_use]
pub fn estimate_model_memory(
    graph: &GraphSpec,
    report: &ShapeReport,
    config: &TrainConfig,
    train_len: usize,
) -> ModelMemory {
    let size = |shape: Option<&[usize]>| shape.map_or(0.0, |s| s.iter().map(|&d| d as f64).product::<f64>());
    let (mut per_sample_train, mut per_sample_eval) = (0.0f64, 0.0f64);
    let layers: std::collections::BTreeMap<&str, &LayerSpec> =
        graph.nodes.iter().map(|n| (n.id.as_str(), &n.layer)).collect();
    for id in &report.order {
        let out = size(report.shape_of(id));
        // Training keeps each output, its gradient, the copy of its input an op keeps for its
        // backward pass, and temporaries: measured up to about 6 times the output (a Dense
        // after a Dense on sequences); evaluation up to about twice (2.5 leaves room).
        per_sample_train += 6.0 * out;
        per_sample_eval += 2.5 * out;
        if let Some(LayerSpec::Conv2d { kernel, .. }) = layers.get(id.as_str()) {
            // The unfolded patches (im2col) of a convolution, and their gradient.
            let channels = report.nodes[id].inputs.first().and_then(|i| report.shape_of(i)).and_then(|s| s.first());
            let positions = report.shape_of(id).map_or(0.0, |s| s.iter().skip(1).map(|&d| d as f64).product());
            let cols = channels.map_or(0.0, |&c| c as f64) * (*kernel as f64).powi(2) * positions;
            per_sample_train += 2.0 * cols;
            per_sample_eval += cols;
        }
    }
    let batch = config.batch_size.min(train_len).max(1) as f64;
    let chunk = EVAL_CHUNK.min(train_len.max(1)) as f64;
    let params: f64 = report.nodes.values().map(|n| n.param_count as f64).sum();
    let weights = 4.0 * params;
    ModelMemory {
        weights,
        training: weights * (WEIGHT_COPIES + config.optimizer.buffers_per_param() as f64),
        activations: 4.0 * (batch * per_sample_train).max(chunk * per_sample_eval),
        params,
    }
}

/// Whether the data fits the model: the input's size, and every target of both splits against
/// the output (each label below the number of classes scored).
///
/// # Errors
/// [`EngineError::Batch`] saying what does not fit and what to change.
pub fn check_data_fits(report: &ShapeReport, data: &Splits) -> Result<(), EngineError> {
    let input = report.input.as_deref().and_then(|id| report.shape_of(id)).unwrap_or(&[]);
    let output = report.output.as_deref().and_then(|id| report.shape_of(id)).unwrap_or(&[]);
    let in_numel = numel(input).unwrap_or(usize::MAX);
    let sample_len = data.train.sample_len();
    if in_numel != sample_len {
        return Err(EngineError::Batch(format!(
            "the model's input takes {} ({in_numel} values a sample) but the data gives {} ({sample_len} values a sample): change the Input node's shape to {}",
            shape_text(input),
            shape_text(&data.train.shape),
            shape_text(&data.train.shape)
        )));
    }
    let out_numel = numel(output).unwrap_or(usize::MAX);
    match &data.train.targets {
        Targets::Classes(_) => {
            let classes = output.last().copied().unwrap_or(1).max(1);
            let positions = out_numel / classes;
            if positions != data.train.targets_per_sample {
                return Err(EngineError::Batch(format!(
                    "the output {} scores {positions} position(s) a sample, but the data has {} label(s) a sample: make the output {}",
                    shape_text(output),
                    data.train.targets_per_sample,
                    if data.train.targets_per_sample == 1 {
                        "one vector of class scores (add a Flatten before the last Dense layer)".to_owned()
                    } else {
                        format!("one row of class scores per position, [{}, classes]", data.train.targets_per_sample)
                    }
                )));
            }
            if data.train.classes.len() < 2 && data.train.targets_per_sample == 1 {
                let only = data.train.classes.first().map(|c| format!(" (\"{}\")", brief(c))).unwrap_or_default();
                return Err(EngineError::Batch(format!(
                    "the data has only one class{only}: there is nothing to tell apart, and every prediction would be right; choose data with two or more classes"
                )));
            }
            // The classes the training split really holds: a test share can take a rare class
            // away from it entirely.
            if let (Some(labels), 1) = (data.train.labels(), data.train.targets_per_sample) {
                if labels.iter().all(|&l| Some(&l) == labels.first()) {
                    let name = labels
                        .first()
                        .and_then(|&l| data.train.classes.get(l))
                        .map(|c| format!(" (\"{}\")", brief(c)))
                        .unwrap_or_default();
                    return Err(EngineError::Batch(format!(
                        "the training split holds samples of one class only{name}, so there is nothing to tell apart: add samples of the other classes, or lower the test share"
                    )));
                }
            }
            let highest = |d: &Dataset| d.labels().and_then(|l| l.iter().copied().max());
            if let Some(top) = highest(&data.train).max(highest(&data.test)).filter(|&t| t >= classes) {
                let name = data.train.classes.get(top).map(|n| format!(" (\"{}\")", brief(n))).unwrap_or_default();
                return Err(EngineError::Batch(format!(
                    "the data has class {top}{name}, but the output layer scores only {classes} classes (0 to {}): give the last Dense layer {} units",
                    classes - 1,
                    data.train.classes.len().max(top + 1)
                )));
            }
        }
        Targets::Values(_) => {
            if out_numel != data.train.targets_per_sample {
                return Err(EngineError::Batch(format!(
                    "the output {} has {out_numel} values a sample but the data's targets have {}: make the last layer's size {}",
                    shape_text(output),
                    data.train.targets_per_sample,
                    data.train.targets_per_sample
                )));
            }
        }
    }
    Ok(())
}

/// Refuses a model whose training would not fit in memory, with the figures.
///
/// # Errors
/// [`EngineError::TooLarge`].
pub fn check_model_memory(estimate: &ModelMemory, batch: usize) -> Result<(), EngineError> {
    let detail = format!(
        " to train ({} for its {} weights, {} for their gradients, optimiser state and checkpoints, {} for the layers' outputs at batch size {batch})",
        format_bytes(estimate.weights),
        count_text(estimate.params),
        format_bytes(estimate.training),
        format_bytes(estimate.activations)
    );
    memory::check(
        "this model",
        estimate.total(),
        &detail,
        "use fewer units or filters, less padding, a smaller input or a smaller batch",
    )
}

/// A count for people: `"1,234"`, `"3.2 million"`, `"4.6e18"`.
fn count_text(n: f64) -> String {
    if n < 1e6 {
        format!("{n:.0}")
    } else if n < 1e9 {
        format!("{:.1} million", n / 1e6)
    } else if n < 1e12 {
        format!("{:.1} billion", n / 1e9)
    } else {
        format!("{n:.1e}")
    }
}

/// Everything that can be checked before a model is built: the training settings, the graph's
/// shapes, the data against the model, and the memory. Returns the shape report.
///
/// # Errors
/// [`EngineError::Settings`], [`EngineError::Graph`], [`EngineError::Batch`] or
/// [`EngineError::TooLarge`], in that order.
pub fn preflight(graph: &GraphSpec, config: &TrainConfig, data: &Splits) -> Result<ShapeReport, EngineError> {
    config.validate().map_err(EngineError::Settings)?;
    let report = infer_shapes(graph);
    if !report.is_ok() {
        return Err(EngineError::Graph(report.problems));
    }
    if data.train.is_empty() {
        return Err(EngineError::Data("the training split is empty: choose a dataset with samples".into()));
    }
    if report.total_params() == 0 {
        return Err(EngineError::Graph(vec![crate::graph::Problem {
            node: report.output.clone(),
            message: "the model has no weights, so training cannot change anything: add a layer with weights (Dense or Conv2d) before the output".into(),
        }]));
    }
    check_data_fits(&report, data)?;
    check_vocabulary(graph, data)?;
    let estimate = estimate_model_memory(graph, &report, config, data.train.len());
    check_model_memory(&estimate, config.batch_size.min(data.train.len()))?;
    Ok(report)
}

/// Refuses an Embedding reading the input whose table is smaller than the data's vocabulary (or,
/// for data without one, than its largest token id + 1), or data whose values are not token ids.
fn check_vocabulary(graph: &GraphSpec, data: &Splits) -> Result<(), EngineError> {
    for node in &graph.nodes {
        let LayerSpec::Embedding { vocab, .. } = node.layer else { continue };
        if !graph.reads_input(&node.id) {
            continue;
        }
        let id = brief(&node.id);
        if let Some(bad) = data.train.inputs.iter().find(|&&v| crate::data::token_id(v, usize::MAX).is_none()) {
            return Err(EngineError::Batch(format!(
                "{id} (Embedding) looks up token ids, but the data gives numbers such as {bad}: use a text or sequence dataset, or remove {id}"
            )));
        }
        let needed = match &data.train.vocab {
            Some(v) => v.len(),
            None => data.train.inputs.iter().fold(0.0f32, |m, v| m.max(*v)) as usize + 1,
        };
        if vocab < needed {
            return Err(EngineError::Batch(format!(
                "{id} has a vocabulary of {vocab} tokens, but the data has {needed}: set its vocab to {needed} (Fit to data does it)"
            )));
        }
    }
    Ok(())
}

/// What the data's targets need from a model's output, for fitting a model to it
/// ([`crate::graph::fit_to_data`]).
#[must_use]
pub fn output_need(data: &Dataset) -> crate::graph::OutputNeed {
    use crate::graph::OutputNeed;
    match (&data.targets, data.targets_per_sample) {
        (Targets::Classes(_), 0 | 1) => OutputNeed::Classes(data.classes.len().max(2)),
        (Targets::Classes(_), positions) => OutputNeed::PerPosition { positions, classes: data.classes.len().max(2) },
        (Targets::Values(_), n) => OutputNeed::Values(n.max(1)),
    }
}
