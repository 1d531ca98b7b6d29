//! Explaining one prediction: how much each part of an input moved the model's score for a
//! class. Every method is written against [`Scorer`] (predict a batch; the gradient of a class
//! score with respect to the input or to one node's output), so the methods know nothing of
//! tensors, and a test can hand them a model whose right answer is known.
//!
//! Gradient methods (`gradient.rs`): saliency, gradient x input, SmoothGrad, Integrated
//! Gradients; a class activation map (`cam.rs`): Grad-CAM; perturbation methods (`perturb.rs`)
//! over segments (`segments.rs`: a grid or superpixels of an image, a table's features, a text's
//! tokens): occlusion, LIME, Kernel SHAP. `sanity.rs` checks a map against one from randomised
//! weights. Scores are the model's raw outputs (before any softmax), as Captum explains them.

pub mod backprop;
mod cam;
pub mod global;
mod gradient;
mod perturb;
pub mod sanity;
pub mod segments;
pub mod steps;
pub mod visualise;

pub use cam::upsample;

use std::fmt;
use std::str::FromStr;

use rand::Rng as _;
use serde::{Deserialize, Serialize};

use crate::data::Dataset;
use crate::graph::{LayerKind, LayerSpec};
use crate::tensor::{Model, Probe, ScoreGradients};
use crate::EngineError;

/// What a method needs from a model.
pub trait Scorer {
    /// How the input is read (an image, a table, token ids).
    fn input_kind(&self) -> InputKind;
    /// Output values per sample (one score per class for a classifier).
    fn output_len(&self) -> usize;
    /// The outputs of `count` samples, sample after sample.
    ///
    /// # Errors
    /// When the inputs do not fit the model.
    fn predict(&mut self, inputs: &[f32], count: usize) -> Result<Vec<f32>, EngineError>;
    /// The gradient of `sum(weights * outputs)` with respect to the input and, with a probe, to
    /// one node's output (whose values it may replace).
    ///
    /// # Errors
    /// When the inputs, weights or probe do not fit the model.
    fn gradients(
        &mut self,
        inputs: &[f32],
        count: usize,
        weights: &[f32],
        probe: Option<Probe<'_>>,
    ) -> Result<ScoreGradients, EngineError>;
    /// Nodes with an image-shaped output `[channels, height, width]`, in evaluation order, for
    /// Grad-CAM.
    fn map_nodes(&self) -> Vec<MapNode>;
    /// A node's output shape per sample, if the model has that node.
    fn node_shape(&self, id: &str) -> Option<Vec<usize>>;
}

/// A node whose output is a stack of maps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MapNode {
    pub id: String,
    pub shape: [usize; 3],
    pub convolution: bool,
}

/// How a model reads its input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InputKind {
    /// `[channels, height, width]` values.
    Image { channels: usize, height: usize, width: usize },
    /// Any other shape of numbers: each value a feature.
    Table { features: usize },
    /// Token ids looked up by an Embedding node: attributions are per token, and gradient
    /// methods work on the embedding's vectors.
    Tokens { positions: usize, embedding: String, dim: usize },
}

impl InputKind {
    /// Input values per sample.
    #[must_use]
    pub fn input_len(&self) -> usize {
        match self {
            Self::Image { channels, height, width } => channels * height * width,
            Self::Table { features } => *features,
            Self::Tokens { positions, .. } => *positions,
        }
    }
}

impl Scorer for Model {
    fn input_kind(&self) -> InputKind {
        let spec = self.spec();
        if let Some(node) =
            spec.nodes.iter().find(|n| n.layer.kind() == LayerKind::Embedding && spec.reads_input(&n.id))
        {
            let dim = match node.layer {
                LayerSpec::Embedding { dim, .. } => dim,
                _ => 0,
            };
            return InputKind::Tokens {
                positions: self.input_shape().iter().product(),
                embedding: node.id.clone(),
                dim,
            };
        }
        match *self.input_shape() {
            [channels, height, width] => InputKind::Image { channels, height, width },
            ref shape => InputKind::Table { features: shape.iter().product() },
        }
    }
    fn output_len(&self) -> usize {
        self.output_shape().iter().product()
    }
    fn predict(&mut self, inputs: &[f32], count: usize) -> Result<Vec<f32>, EngineError> {
        Model::predict(self, inputs, count)
    }
    fn gradients(
        &mut self,
        inputs: &[f32],
        count: usize,
        weights: &[f32],
        probe: Option<Probe<'_>>,
    ) -> Result<ScoreGradients, EngineError> {
        self.score_gradients(inputs, count, weights, probe)
    }
    fn node_shape(&self, id: &str) -> Option<Vec<usize>> {
        self.report().shape_of(id).map(<[usize]>::to_vec)
    }
    fn map_nodes(&self) -> Vec<MapNode> {
        let report = self.report();
        let spec = self.spec();
        report
            .order
            .iter()
            .filter_map(|id| {
                let &[c, h, w] = report.shape_of(id)? else { return None };
                let node = spec.node(id)?;
                (node.layer.kind() != LayerKind::Input).then(|| MapNode {
                    id: id.clone(),
                    shape: [c, h, w],
                    convolution: node.layer.kind() == LayerKind::Conv2d,
                })
            })
            .collect()
    }
}

/// The attribution methods.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Method {
    /// The gradient of the class score with respect to the input (Simonyan et al. 2014).
    Saliency,
    /// The gradient times the input (Shrikumar et al. 2016).
    GradientXInput,
    /// The gradient averaged over noisy copies of the input (Smilkov et al. 2017).
    SmoothGrad,
    /// The gradient integrated along the line from a baseline to the input, times their
    /// difference (Sundararajan et al. 2017).
    IntegratedGradients,
    /// A convolution layer's maps weighted by their mean gradients, through a ReLU, upsampled to
    /// the input (Selvaraju et al. 2017).
    GradCam,
    /// Grad-CAM with each map's weight from its positive gradients, each position weighted by
    /// higher derivatives of the exponentiated score (Chattopadhay et al. 2018): fairer to
    /// several objects of one class and to maps active over a small area.
    GradCamPlusPlus,
    /// How much the score drops when a patch is covered (Zeiler and Fergus 2014).
    Occlusion,
    /// A weighted linear model of the score over segments switched on and off (Ribeiro et al. 2016).
    Lime,
    /// Shapley values of the segments estimated by a weighted regression (Lundberg and Lee 2017).
    KernelShap,
}

impl Method {
    pub const ALL: [Self; 9] = [
        Self::Saliency,
        Self::GradientXInput,
        Self::SmoothGrad,
        Self::IntegratedGradients,
        Self::GradCam,
        Self::GradCamPlusPlus,
        Self::Occlusion,
        Self::Lime,
        Self::KernelShap,
    ];

    /// The name on the command line.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Saliency => "saliency",
            Self::GradientXInput => "gradxinput",
            Self::SmoothGrad => "smoothgrad",
            Self::IntegratedGradients => "ig",
            Self::GradCam => "gradcam",
            Self::GradCamPlusPlus => "gradcam++",
            Self::Occlusion => "occlusion",
            Self::Lime => "lime",
            Self::KernelShap => "shap",
        }
    }

    /// The name a student reads.
    #[must_use]
    pub fn title(self) -> &'static str {
        match self {
            Self::Saliency => "Saliency",
            Self::GradientXInput => "Gradient x input",
            Self::SmoothGrad => "SmoothGrad",
            Self::IntegratedGradients => "Integrated Gradients",
            Self::GradCam => "Grad-CAM",
            Self::GradCamPlusPlus => "Grad-CAM++",
            Self::Occlusion => "Occlusion",
            Self::Lime => "LIME",
            Self::KernelShap => "Kernel SHAP",
        }
    }

    /// One sentence on what the map shows.
    #[must_use]
    pub fn explanation(self) -> &'static str {
        match self {
            Self::Saliency => "How fast the class score changes with each input value: the gradient.",
            Self::GradientXInput => "The gradient times the input: a first-order guess at each value's share of the score.",
            Self::SmoothGrad => "The gradient averaged over noisy copies of the input, which removes much of its speckle.",
            Self::IntegratedGradients => "The gradient summed along the straight path from a baseline to the input, times their difference; the shares add up to the score's change.",
            Self::GradCam => "Where a convolution layer's maps that raise the class score are active, scaled up to the input.",
            Self::GradCamPlusPlus => "Grad-CAM with each map weighted by where its gradient is positive, position by position: it covers every part that raised the score, not only the largest.",
            Self::Occlusion => "How much the class score drops when a patch of the input is covered.",
            Self::Lime => "A linear model fitted to the score of copies with some segments covered, weighted by how close each copy is to the input.",
            Self::KernelShap => "Each segment's average contribution over all ways of covering the others (Shapley values), estimated by a weighted fit; the shares add up to the score's change.",
        }
    }

    /// Whether the method uses the gradient (and so needs numbers in, not token ids, or an
    /// embedding to differentiate).
    #[must_use]
    pub fn uses_gradient(self) -> bool {
        matches!(
            self,
            Self::Saliency
                | Self::GradientXInput
                | Self::SmoothGrad
                | Self::IntegratedGradients
                | Self::GradCam
                | Self::GradCamPlusPlus
        )
    }

    /// Whether the method draws random samples (the seed matters).
    #[must_use]
    pub fn samples(self) -> bool {
        matches!(self, Self::SmoothGrad | Self::Lime | Self::KernelShap)
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.title())
    }
}

impl FromStr for Method {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        by_name(s, &Self::ALL, Self::name, "method")
    }
}

/// The one of `all` whose `name` is `text` (any case), or a message listing the names.
fn by_name<T: Copy>(text: &str, all: &[T], name: impl Fn(T) -> &'static str, what: &str) -> Result<T, String> {
    let wanted = text.trim().to_ascii_lowercase();
    all.iter().copied().find(|&t| name(t) == wanted).ok_or_else(|| {
        format!(
            "there is no {what} called {text:?}: use one of {}",
            all.iter().map(|&t| name(t)).collect::<Vec<_>>().join(", ")
        )
    })
}

/// What "nothing there" is, for Integrated Gradients' starting point and for what covers a
/// patch or segment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Baseline {
    /// The darkest value of the training set (black, for images); for text, the padding token.
    #[default]
    Black,
    /// The input blurred (a Gaussian of a sixth of the image's side).
    Blur,
    /// Uniform noise over the training set's range (seeded).
    Noise,
    /// The training set's mean, value by value.
    Mean,
}

impl Baseline {
    pub const ALL: [Self; 4] = [Self::Black, Self::Blur, Self::Noise, Self::Mean];

    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Black => "black",
            Self::Blur => "blur",
            Self::Noise => "noise",
            Self::Mean => "mean",
        }
    }
}

impl FromStr for Baseline {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        by_name(s, &Self::ALL, Self::name, "baseline")
    }
}

/// How an image is cut into segments for LIME and Kernel SHAP.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Segmentation {
    /// Square cells of this side, in pixels.
    Grid { cell: usize },
    /// About this many SLIC superpixels (Achanta et al. 2012).
    Superpixels { count: usize },
}

impl Default for Segmentation {
    fn default() -> Self {
        Self::Grid { cell: 4 }
    }
}

/// Everything a method can be asked; each uses the fields that concern it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub method: Method,
    /// The class explained; by default the predicted one.
    pub target: Option<usize>,
    /// Integrated Gradients: points along the path.
    pub steps: usize,
    /// SmoothGrad: noisy copies; LIME and Kernel SHAP: covered copies.
    pub samples: usize,
    /// SmoothGrad: the noise's standard deviation as a share of the training set's range.
    pub noise: f32,
    pub baseline: Baseline,
    /// Grad-CAM: the node whose maps are weighed (by default the last convolution).
    pub layer: Option<String>,
    /// Occlusion: the patch's side and its step, in pixels (values, for a table; tokens, for text).
    pub patch: usize,
    pub stride: usize,
    pub segmentation: Segmentation,
    pub seed: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            method: Method::IntegratedGradients,
            target: None,
            steps: 32,
            samples: 1000,
            noise: 0.15,
            baseline: Baseline::Black,
            layer: None,
            patch: 4,
            stride: 2,
            segmentation: Segmentation::default(),
            seed: 0,
        }
    }
}

impl Settings {
    /// The defaults for one method.
    #[must_use]
    pub fn of(method: Method) -> Self {
        let samples = if method == Method::SmoothGrad { 25 } else { 1000 };
        Self { method, samples, ..Self::default() }
    }

    /// The defaults for one method on one kind of input: occlusion covers one value (one token,
    /// one feature) at a time outside images, and tables start from their mean.
    #[must_use]
    pub fn for_input(method: Method, kind: &InputKind) -> Self {
        match kind {
            InputKind::Image { .. } => Self::of(method),
            InputKind::Table { .. } => Self { patch: 1, stride: 1, baseline: Baseline::Mean, ..Self::of(method) },
            InputKind::Tokens { .. } => Self { patch: 1, stride: 1, ..Self::of(method) },
        }
    }
}

/// What the training set says "nothing" and "typical" are.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Reference {
    pub min: f32,
    pub max: f32,
    /// The mean of each input value.
    pub mean: Vec<f32>,
}

impl Reference {
    /// From a (training) set.
    #[must_use]
    pub fn of(data: &Dataset) -> Self {
        let n = data.sample_len();
        let mut sum = vec![0.0f64; n];
        for row in data.inputs.chunks_exact(n.max(1)) {
            for (s, &v) in sum.iter_mut().zip(row) {
                *s += f64::from(v);
            }
        }
        let count = data.len().max(1) as f64;
        let (min, max) =
            data.inputs.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v)));
        Self {
            min: if min.is_finite() { min } else { 0.0 },
            max: if max.is_finite() { max } else { 1.0 },
            mean: sum.iter().map(|s| (s / count) as f32).collect(),
        }
    }
}

/// The sum of the attributions against the change of the score they explain.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Completeness {
    /// The attributions added up.
    pub sum: f32,
    /// `f(input) - f(baseline)`.
    pub change: f32,
}

impl Completeness {
    /// `|sum - change|` relative to `|change|`.
    #[must_use]
    pub fn relative_gap(&self) -> f32 {
        (self.sum - self.change).abs() / self.change.abs().max(1e-12)
    }
}

/// One method's answer for one sample.
#[derive(Clone, Debug, PartialEq)]
pub struct Attribution {
    pub method: Method,
    /// The class explained, the model's own choice, and the class's score for the input.
    pub target: usize,
    pub predicted: usize,
    pub score: f32,
    /// The attributions' shape: the input's (`[channels, height, width]`, features), `[1,
    /// height, width]` for Grad-CAM, `[positions]` for text.
    pub shape: Vec<usize>,
    /// Signed: positive values raised the score.
    pub values: Vec<f32>,
    /// For methods whose shares should add up to the score's change.
    pub completeness: Option<Completeness>,
    /// The segment of each attribution value, for LIME and Kernel SHAP (outlines).
    pub segments: Option<Vec<usize>>,
}

impl Attribution {
    /// An image attribution as one value per pixel (channels added up): `(height, width, values)`.
    #[must_use]
    pub fn pixels(&self) -> Option<(usize, usize, Vec<f32>)> {
        let &[channels, height, width] = self.shape.as_slice() else { return None };
        let plane = height * width;
        let mut out = vec![0.0; plane];
        for c in 0..channels {
            for (o, v) in out.iter_mut().zip(&self.values[c * plane..(c + 1) * plane]) {
                *o += v;
            }
        }
        Some((height, width, out))
    }
}

/// Reports progress (0 to 1); returns false to cancel.
pub type Watch<'a> = &'a mut dyn FnMut(f32) -> bool;

/// Samples per gradient pass in the methods that need many (SmoothGrad, Integrated Gradients).
pub(crate) const CHUNK: usize = 64;
/// Samples per forward pass in the methods that only score copies (occlusion, LIME, Kernel
/// SHAP): larger batches keep both cores busy for longer between the calls.
pub(crate) const SCORE_CHUNK: usize = 64;

/// Explains one sample (its input values) with one method.
///
/// # Errors
/// Settings the method cannot use (with what to change), a model the method does not fit
/// (Grad-CAM without maps), [`EngineError::Cancelled`] when `watch` says stop.
pub fn explain(
    model: &mut dyn Scorer,
    input: &[f32],
    settings: &Settings,
    reference: &Reference,
    watch: Watch<'_>,
) -> Result<Attribution, EngineError> {
    let kind = model.input_kind();
    if input.len() != kind.input_len() {
        return Err(EngineError::Batch(format!(
            "the sample has {} values, the model reads {}",
            input.len(),
            kind.input_len()
        )));
    }
    check_settings(settings)?;
    let scores = model.predict(input, 1)?;
    if scores.len() != model.output_len() || scores.is_empty() {
        return Err(EngineError::Settings(
            "only a model with one prediction a sample can be explained (this one predicts at every position)"
                .to_owned(),
        ));
    }
    let predicted = argmax(&scores);
    let target = settings.target.unwrap_or(predicted);
    if target >= scores.len() {
        return Err(EngineError::Settings(format!(
            "class {target} does not exist: the model scores {} classes, 0 to {}",
            scores.len(),
            scores.len() - 1
        )));
    }
    let base = Explaining { kind, input, target, settings, reference, outputs: scores.len() };
    let mut attribution = match settings.method {
        Method::Saliency | Method::GradientXInput | Method::SmoothGrad | Method::IntegratedGradients => {
            gradient::attribute(model, &base, watch)?
        }
        Method::GradCam => cam::grad_cam(model, &base, false)?,
        Method::GradCamPlusPlus => cam::grad_cam(model, &base, true)?,
        Method::Occlusion | Method::Lime | Method::KernelShap => perturb::attribute(model, &base, watch)?,
    };
    attribution.predicted = predicted;
    attribution.score = scores[target];
    Ok(attribution)
}

fn check_settings(s: &Settings) -> Result<(), EngineError> {
    let bad = |what: &str| Err(EngineError::Settings(what.to_owned()));
    match s.method {
        Method::IntegratedGradients if !(1..=4096).contains(&s.steps) => {
            bad("give Integrated Gradients 1 to 4096 steps (32 is usual; 64 or more for a closer sum)")
        }
        Method::SmoothGrad | Method::Lime | Method::KernelShap if !(1..=100_000).contains(&s.samples) => {
            bad("give the method 1 to 100000 samples")
        }
        Method::SmoothGrad if !(s.noise.is_finite() && s.noise >= 0.0 && s.noise <= 1.0) => {
            bad("give SmoothGrad a noise level from 0 to 1 (a share of the data's range; 0.15 is usual)")
        }
        Method::Occlusion if s.patch == 0 || s.stride == 0 => bad("give occlusion a patch and a stride of at least 1"),
        _ => Ok(()),
    }
}

/// One explanation's givens, shared by the methods.
pub(crate) struct Explaining<'a> {
    pub kind: InputKind,
    pub input: &'a [f32],
    pub target: usize,
    pub settings: &'a Settings,
    pub reference: &'a Reference,
    /// Scores per sample.
    pub outputs: usize,
}

impl Explaining<'_> {
    /// Score weights selecting the target class of each of `count` samples.
    pub fn target_weights(&self, count: usize) -> Vec<f32> {
        let mut w = vec![0.0; count * self.outputs];
        for row in w.chunks_exact_mut(self.outputs) {
            row[self.target] = 1.0;
        }
        w
    }

    /// An attribution with the method's values (target and scores are filled in by [`explain`]).
    pub fn answer(&self, shape: Vec<usize>, values: Vec<f32>) -> Attribution {
        Attribution {
            method: self.settings.method,
            target: self.target,
            predicted: self.target,
            score: 0.0,
            shape,
            values,
            completeness: None,
            segments: None,
        }
    }

    /// The baseline input for the settings (for text, padding everywhere).
    pub fn baseline(&self) -> Vec<f32> {
        let n = self.input.len();
        if let InputKind::Tokens { .. } = self.kind {
            return vec![0.0; n];
        }
        let r = self.reference;
        match self.settings.baseline {
            Baseline::Black => vec![r.min; n],
            Baseline::Mean if r.mean.len() == n => r.mean.clone(),
            Baseline::Mean => vec![(r.min + r.max) / 2.0; n],
            Baseline::Noise => {
                let mut rng = rng(self.settings.seed);
                (0..n).map(|_| r.min + (r.max - r.min) * rng.gen::<f32>()).collect()
            }
            Baseline::Blur => match self.kind {
                InputKind::Image { channels, height, width } => {
                    segments::blur(self.input, channels, height, width, height.max(width) as f32 / 6.0)
                }
                _ => vec![r.mean.iter().sum::<f32>() / r.mean.len().max(1) as f32; n],
            },
        }
    }

    /// Scores of the target class for `count` inputs, in chunks, reporting progress from `from`
    /// to `to`.
    pub fn target_scores(
        &self,
        model: &mut dyn Scorer,
        inputs: &[f32],
        count: usize,
        watch: &mut dyn FnMut(f32) -> bool,
        (from, to): (f32, f32),
    ) -> Result<Vec<f32>, EngineError> {
        let n = self.input.len();
        let mut scores = Vec::with_capacity(count);
        for (done, chunk) in inputs.chunks(SCORE_CHUNK * n).enumerate() {
            let rows = chunk.len() / n;
            let out = model.predict(chunk, rows)?;
            scores.extend(out.chunks_exact(self.outputs).map(|row| row[self.target]));
            if !watch(from + (to - from) * ((done + 1) * SCORE_CHUNK).min(count) as f32 / count.max(1) as f32) {
                return Err(EngineError::Cancelled);
            }
        }
        Ok(scores)
    }
}

pub(crate) use crate::tensor::argmax;

/// The methods' seeded generator.
pub(crate) fn rng(seed: u64) -> rand::rngs::StdRng {
    rand::SeedableRng::seed_from_u64(seed)
}
