//! Feature visualisation: the input that most excites a class, a channel of a layer of maps or
//! one unit, found by gradient ascent from a grey image with the usual regularisers (Olah et al.
//! 2017): the image jittered a few pixels at random before each step, a pull back towards the
//! training mean (L2), and a light blur every few steps, so the picture shows shapes rather than
//! high-frequency noise.

use rand::Rng as _;

use super::{segments, InputKind, Reference, Scorer, Watch};
use crate::tensor::Probe;
use crate::EngineError;

/// What to excite.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unit {
    /// A class's score.
    Class(usize),
    /// The mean of one channel of a node's maps (`[channels, height, width]`).
    Channel { node: String, channel: usize },
    /// One value of a node's output.
    Neuron { node: String, index: usize },
}

/// How the ascent runs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct VisualiseSettings {
    pub steps: usize,
    /// Each step's size, as a share of the training set's value range (the gradient is scaled to
    /// a root mean square of 1 first).
    pub rate: f32,
    /// The largest random shift before each step, in pixels.
    pub jitter: usize,
    /// The pull towards the training mean each step.
    pub decay: f32,
    /// A Gaussian blur of this many pixels every `blur_every` steps.
    pub blur: f32,
    pub blur_every: usize,
    pub seed: u64,
}

impl Default for VisualiseSettings {
    fn default() -> Self {
        Self { steps: 128, rate: 0.05, jitter: 1, decay: 0.002, blur: 0.5, blur_every: 8, seed: 0 }
    }
}

/// The image found, and the unit's activation before each step and at the end.
#[derive(Clone, Debug, PartialEq)]
pub struct Visualisation {
    pub unit: Unit,
    pub image: Vec<f32>,
    pub activation: Vec<f32>,
}

/// Finds an input that excites `unit`.
///
/// # Errors
/// A model that does not read images, a unit it does not have, or [`EngineError::Cancelled`].
pub fn visualise(
    model: &mut dyn Scorer,
    unit: &Unit,
    settings: &VisualiseSettings,
    reference: &Reference,
    watch: Watch<'_>,
) -> Result<Visualisation, EngineError> {
    let InputKind::Image { channels, height, width } = model.input_kind() else {
        return Err(EngineError::Settings(
            "feature visualisation makes images: this model does not read one".to_owned(),
        ));
    };
    let n = channels * height * width;
    let outputs = model.output_len();
    // The weights of the output, and the gradient added at a node, that make the unit the score.
    let (weights, node, seed) = match unit {
        Unit::Class(c) if *c < outputs => {
            let mut w = vec![0.0; outputs];
            w[*c] = 1.0;
            (w, None, Vec::new())
        }
        Unit::Class(c) => {
            return Err(EngineError::Settings(format!("class {c} does not exist: the model scores {outputs} classes")))
        }
        Unit::Channel { node, channel } => {
            let shape = model.node_shape(node).ok_or_else(|| no_node(node))?;
            let &[k, h, w] = shape.as_slice() else {
                return Err(EngineError::Settings(format!(
                    "{node} does not give maps: choose a convolution or pooling layer"
                )));
            };
            if *channel >= k {
                return Err(EngineError::Settings(format!("{node} has {k} channels, 0 to {}", k - 1)));
            }
            let mut seed = vec![0.0; k * h * w];
            seed[channel * h * w..(channel + 1) * h * w].fill(1.0 / (h * w) as f32);
            (vec![0.0; outputs], Some(node.as_str()), seed)
        }
        Unit::Neuron { node, index } => {
            let size: usize = model.node_shape(node).ok_or_else(|| no_node(node))?.iter().product();
            if *index >= size {
                return Err(EngineError::Settings(format!(
                    "{node} has {size} values, 0 to {}",
                    size.saturating_sub(1)
                )));
            }
            let mut seed = vec![0.0; size];
            seed[*index] = 1.0;
            (vec![0.0; outputs], Some(node.as_str()), seed)
        }
    };
    let range = (reference.max - reference.min).max(1e-6);
    let mean: Vec<f32> =
        if reference.mean.len() == n { reference.mean.clone() } else { vec![(reference.min + reference.max) / 2.0; n] };
    let mut rng = super::rng(settings.seed);
    let mut x: Vec<f32> = mean.iter().map(|m| m + 0.01 * range * (rng.gen::<f32>() - 0.5)).collect();
    let mut activation = Vec::with_capacity(settings.steps + 1);
    for step in 0..=settings.steps {
        let jitter = settings.jitter as isize;
        let (dy, dx) = if step < settings.steps && jitter > 0 {
            (rng.gen_range(-jitter..=jitter), rng.gen_range(-jitter..=jitter))
        } else {
            (0, 0)
        };
        let shifted = roll(&x, [channels, height, width], (dy, dx));
        let probe = node.map(|node| Probe { node, replacement: None, seed: Some(&seed) });
        let got = model.gradients(&shifted, 1, &weights, probe)?;
        activation.push(match node {
            None => got.outputs.iter().zip(&weights).map(|(o, w)| o * w).sum(),
            Some(_) => got.probe_values.iter().zip(&seed).map(|(v, s)| v * s).sum(),
        });
        if step == settings.steps {
            break;
        }
        let g = roll(&got.input, [channels, height, width], (-dy, -dx));
        let rms = (g.iter().map(|v| v * v).sum::<f32>() / n as f32).sqrt().max(1e-12);
        for ((v, gv), m) in x.iter_mut().zip(&g).zip(&mean) {
            *v += settings.rate * range * gv / rms - settings.decay * (*v - m);
        }
        if settings.blur_every > 0 && (step + 1) % settings.blur_every == 0 && settings.blur > 0.0 {
            x = segments::blur(&x, channels, height, width, settings.blur);
        }
        for v in &mut x {
            *v = v.clamp(reference.min, reference.max);
        }
        if !watch((step + 1) as f32 / settings.steps as f32) {
            return Err(EngineError::Cancelled);
        }
    }
    Ok(Visualisation { unit: unit.clone(), image: x, activation })
}

fn no_node(node: &str) -> EngineError {
    EngineError::Settings(format!("this model has no node called {node}"))
}

/// The image shifted by `(dy, dx)` pixels, wrapping around the edges.
fn roll(x: &[f32], [channels, height, width]: [usize; 3], (dy, dx): (isize, isize)) -> Vec<f32> {
    let mut out = vec![0.0; x.len()];
    let wrap = |v: isize, n: usize| v.rem_euclid(n as isize) as usize;
    for c in 0..channels {
        for y in 0..height {
            let sy = wrap(y as isize - dy, height);
            for xx in 0..width {
                out[(c * height + y) * width + xx] = x[(c * height + sy) * width + wrap(xx as isize - dx, width)];
            }
        }
    }
    out
}
