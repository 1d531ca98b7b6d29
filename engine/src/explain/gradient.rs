//! Saliency, gradient x input, SmoothGrad and Integrated Gradients. For a model reading token
//! ids they work on the first Embedding's vectors (a token id has no gradient) and give one value
//! per token: the gradient's length for saliency and SmoothGrad, the products with the vectors
//! (from the padding token's vectors, for Integrated Gradients) added up over the dimensions
//! otherwise.

use rand::Rng as _;
use rand_distr::StandardNormal;

use super::{Attribution, Completeness, Explaining, InputKind, Method, Scorer, Watch, CHUNK};
use crate::tensor::Probe;
use crate::EngineError;

pub(super) fn attribute(
    model: &mut dyn Scorer,
    e: &Explaining<'_>,
    watch: Watch<'_>,
) -> Result<Attribution, EngineError> {
    match &e.kind {
        InputKind::Tokens { positions, embedding, dim } => tokens(model, e, embedding, (*positions, *dim), watch),
        _ => values(model, e, watch),
    }
}

/// The input's own values.
fn values(model: &mut dyn Scorer, e: &Explaining<'_>, watch: Watch<'_>) -> Result<Attribution, EngineError> {
    let x = e.input;
    let n = x.len();
    let shape = match e.kind {
        InputKind::Image { channels, height, width } => vec![channels, height, width],
        _ => vec![n],
    };
    let s = e.settings;
    match s.method {
        Method::Saliency | Method::GradientXInput => {
            let g = model.gradients(x, 1, &e.target_weights(1), None)?.input;
            let v = if s.method == Method::Saliency { g } else { g.iter().zip(x).map(|(g, x)| g * x).collect() };
            Ok(e.answer(shape, v))
        }
        Method::SmoothGrad => {
            let sigma = s.noise * (e.reference.max - e.reference.min);
            let mut rng = super::rng(s.seed);
            let copies: Vec<f32> = (0..s.samples)
                .flat_map(|_| x.iter().map(|v| v + sigma * rng.sample::<f32, _>(StandardNormal)).collect::<Vec<_>>())
                .collect();
            let mean = mean_gradient(model, e, &copies, None, watch)?;
            Ok(e.answer(shape, mean))
        }
        _ => {
            let b = e.baseline();
            let path: Vec<f32> =
                alphas(s.steps).flat_map(|a| x.iter().zip(&b).map(move |(x, b)| b + a * (x - b))).collect();
            let mean = mean_gradient(model, e, &path, None, watch)?;
            let values: Vec<f32> = mean.iter().zip(x).zip(&b).map(|((g, x), b)| g * (x - b)).collect();
            let f_base = model.predict(&b, 1)?[e.target];
            let f_x = model.predict(x, 1)?[e.target];
            let mut a = e.answer(shape, values);
            a.completeness = Some(Completeness { sum: sum(&a.values), change: f_x - f_base });
            Ok(a)
        }
    }
}

/// Token ids: the embedding's vectors are what varies.
fn tokens(
    model: &mut dyn Scorer,
    e: &Explaining<'_>,
    embedding: &str,
    (positions, dim): (usize, usize),
    watch: Watch<'_>,
) -> Result<Attribution, EngineError> {
    let x = e.input;
    let s = e.settings;
    let at = Probe::at(embedding);
    let here = model.gradients(x, 1, &e.target_weights(1), Some(at))?;
    let vectors = here.probe_values;
    let per_token = |f: &dyn Fn(usize) -> f32| (0..positions).map(f).collect::<Vec<f32>>();
    let row = |v: &[f32], t: usize| v[t * dim..(t + 1) * dim].to_vec();
    let values = match s.method {
        Method::Saliency => per_token(&|t| length(&row(&here.probe_grad, t))),
        Method::GradientXInput => per_token(&|t| dot(&row(&here.probe_grad, t), &row(&vectors, t))),
        Method::SmoothGrad => {
            let (lo, hi) = vectors.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(l, h), &v| (l.min(v), h.max(v)));
            let sigma = s.noise * (hi - lo);
            let mut rng = super::rng(s.seed);
            let noisy: Vec<f32> = (0..s.samples)
                .flat_map(|_| {
                    vectors.iter().map(|v| v + sigma * rng.sample::<f32, _>(StandardNormal)).collect::<Vec<_>>()
                })
                .collect();
            let mean = mean_gradient(model, e, &noisy, Some((embedding, vectors.len())), watch)?;
            per_token(&|t| length(&row(&mean, t)))
        }
        _ => {
            let pad = vec![0.0; x.len()];
            let base = model.gradients(&pad, 1, &e.target_weights(1), Some(Probe::at(embedding)))?;
            let b = base.probe_values;
            let path: Vec<f32> =
                alphas(s.steps).flat_map(|a| vectors.iter().zip(&b).map(move |(v, b)| b + a * (v - b))).collect();
            let mean = mean_gradient(model, e, &path, Some((embedding, vectors.len())), watch)?;
            let diff: Vec<f32> = vectors.iter().zip(&b).map(|(v, b)| v - b).collect();
            let values = per_token(&|t| dot(&row(&mean, t), &row(&diff, t)));
            let change = here.outputs[e.target] - base.outputs[e.target];
            let mut a = e.answer(vec![positions], values);
            a.completeness = Some(Completeness { sum: sum(&a.values), change });
            return Ok(a);
        }
    };
    Ok(e.answer(vec![positions], values))
}

/// The midpoints of `steps` equal pieces of `[0, 1]` (the Riemann middle rule).
fn alphas(steps: usize) -> impl Iterator<Item = f32> {
    (0..steps).map(move |k| (k as f32 + 0.5) / steps as f32)
}

/// The mean over `points` of the target score's gradient: with respect to the input, or, with
/// `(node, size)`, to that node's output with each point's `size` values handed on in its place.
fn mean_gradient(
    model: &mut dyn Scorer,
    e: &Explaining<'_>,
    points: &[f32],
    replace: Option<(&str, usize)>,
    watch: Watch<'_>,
) -> Result<Vec<f32>, EngineError> {
    let width = replace.map_or(e.input.len(), |(_, size)| size);
    let count = points.len() / width;
    let mut total = vec![0.0f64; width];
    for (done, chunk) in points.chunks(CHUNK * width).enumerate() {
        let rows = chunk.len() / width;
        let g = match replace {
            None => model.gradients(chunk, rows, &e.target_weights(rows), None)?.input,
            Some((node, _)) => {
                let ids: Vec<f32> = (0..rows).flat_map(|_| e.input.iter().copied()).collect();
                let probe = Probe { node, replacement: Some(chunk), seed: None };
                model.gradients(&ids, rows, &e.target_weights(rows), Some(probe))?.probe_grad
            }
        };
        for row in g.chunks_exact(width) {
            for (t, v) in total.iter_mut().zip(row) {
                *t += f64::from(*v);
            }
        }
        if !watch(((done + 1) * CHUNK).min(count) as f32 / count as f32) {
            return Err(EngineError::Cancelled);
        }
    }
    Ok(total.iter().map(|t| (t / count as f64) as f32).collect())
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(a, b)| a * b).sum()
}

fn length(a: &[f32]) -> f32 {
    dot(a, a).sqrt()
}

fn sum(v: &[f32]) -> f32 {
    v.iter().map(|&x| f64::from(x)).sum::<f64>() as f32
}
