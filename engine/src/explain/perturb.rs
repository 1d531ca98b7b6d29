//! Methods that only run the model: occlusion (a patch slid over the input), LIME and Kernel SHAP
//! (a weighted linear fit over segments switched on and off).

use rand::Rng as _;

use super::segments::Segments;
use super::{Attribution, Completeness, Explaining, InputKind, Method, Scorer, Watch};
use crate::EngineError;

pub(super) fn attribute(
    model: &mut dyn Scorer,
    e: &Explaining<'_>,
    watch: Watch<'_>,
) -> Result<Attribution, EngineError> {
    match e.settings.method {
        Method::Occlusion => occlusion(model, e, watch),
        method => {
            let segments = Segments::of(&e.kind, e.input, e.settings.segmentation);
            let weights = if method == Method::Lime {
                lime(model, e, &segments, watch)?
            } else {
                kernel_shap(model, e, &segments, watch)?
            };
            let (shape, labels) = match e.kind {
                InputKind::Image { height, width, .. } => (vec![1, height, width], segments.labels.clone()),
                _ => (vec![segments.labels.len()], segments.labels.clone()),
            };
            let mut a = e.answer(shape, labels.iter().map(|&l| weights.coefficients[l]).collect());
            a.completeness = weights.completeness;
            a.segments = Some(labels);
            Ok(a)
        }
    }
}

/// Positions `0, stride, ...` of a window of `patch` in `len`, the last flush with the end.
fn window_starts(len: usize, patch: usize, stride: usize) -> Vec<usize> {
    let patch = patch.min(len);
    let mut starts: Vec<usize> = (0..=len - patch).step_by(stride).collect();
    if starts.last() != Some(&(len - patch)) {
        starts.push(len - patch);
    }
    starts
}

/// Each covered copy's drop of the score, shared out evenly over the positions it covered (each
/// position gets the mean drop of the windows that covered it).
fn occlusion(model: &mut dyn Scorer, e: &Explaining<'_>, watch: Watch<'_>) -> Result<Attribution, EngineError> {
    let s = e.settings;
    let base = e.baseline();
    let (rows, cols, channels, shape) = match e.kind {
        InputKind::Image { channels, height, width } => (height, width, channels, vec![1, height, width]),
        _ => (1, e.input.len(), 1, vec![e.input.len()]),
    };
    let plane = rows * cols;
    let ys = if rows == 1 { vec![0] } else { window_starts(rows, s.patch, s.stride) };
    let xs = window_starts(cols, s.patch, s.stride);
    let (ph, pw) = (s.patch.min(rows), s.patch.min(cols));
    let windows: Vec<(usize, usize)> = ys.iter().flat_map(|&y| xs.iter().map(move |&x| (y, x))).collect();
    let mut copies = Vec::with_capacity(windows.len() * e.input.len());
    for &(y0, x0) in &windows {
        let mut copy = e.input.to_vec();
        for c in 0..channels {
            for y in y0..y0 + ph {
                let row = c * plane + y * cols;
                copy[row + x0..row + x0 + pw].copy_from_slice(&base[row + x0..row + x0 + pw]);
            }
        }
        copies.extend(copy);
    }
    let f_x = model.predict(e.input, 1)?[e.target];
    let scores = e.target_scores(model, &copies, windows.len(), watch, (0.0, 1.0))?;
    let (mut total, mut count) = (vec![0.0f32; plane], vec![0u32; plane]);
    for (&(y0, x0), score) in windows.iter().zip(&scores) {
        for y in y0..y0 + ph {
            for x in x0..x0 + pw {
                total[y * cols + x] += f_x - score;
                count[y * cols + x] += 1;
            }
        }
    }
    Ok(e.answer(shape, total.iter().zip(&count).map(|(t, &n)| if n > 0 { t / n as f32 } else { 0.0 }).collect()))
}

/// A fit's answer: a coefficient per segment, and, for Shapley values, their sum against the change.
struct Fit {
    coefficients: Vec<f32>,
    completeness: Option<Completeness>,
}

/// LIME: `samples` copies with each segment kept at random (the first copy whole), weighted by
/// `sqrt(exp(-d^2 / 0.25^2))` with `d` the cosine distance of the kept pattern to the whole
/// input (LIME's image defaults); a ridge regression (alpha 1, with an intercept) of the score
/// on the kept pattern gives each segment's coefficient.
fn lime(model: &mut dyn Scorer, e: &Explaining<'_>, segments: &Segments, watch: Watch<'_>) -> Result<Fit, EngineError> {
    let m = segments.count;
    let mut rng = super::rng(e.settings.seed);
    let patterns: Vec<Vec<bool>> = (0..e.settings.samples)
        .map(|i| if i == 0 { vec![true; m] } else { (0..m).map(|_| rng.gen::<bool>()).collect() })
        .collect();
    let scores = score_patterns(model, e, segments, &patterns, watch)?;
    let weights: Vec<f64> = patterns
        .iter()
        .map(|p| {
            let on = p.iter().filter(|&&b| b).count() as f64;
            let d = 1.0 - (on / m as f64).sqrt();
            (-(d * d) / (0.25 * 0.25)).exp().sqrt()
        })
        .collect();
    let rows: Vec<Vec<f64>> = patterns
        .iter()
        .map(|p| std::iter::once(1.0).chain(p.iter().map(|&b| f64::from(u8::from(b)))).collect())
        .collect();
    let targets: Vec<f64> = scores.iter().map(|&s| f64::from(s)).collect();
    let beta = weighted_ridge(&rows, &targets, &weights, 1.0, true)?;
    Ok(Fit { coefficients: beta[1..].iter().map(|&b| b as f32).collect(), completeness: None })
}

/// Kernel SHAP: coalitions of segments weighted by the Shapley kernel
/// `(M - 1) / (C(M, s) s (M - s))`, every coalition when there are at most 14 segments, else `samples` drawn in proportion
/// to the kernel (sizes first, each with its complement); a least-squares fit constrained so the
/// values add up to `f(input) - f(baseline)`.
fn kernel_shap(
    model: &mut dyn Scorer,
    e: &Explaining<'_>,
    segments: &Segments,
    watch: Watch<'_>,
) -> Result<Fit, EngineError> {
    let m = segments.count;
    let base = e.baseline();
    let f_x = model.predict(e.input, 1)?[e.target];
    let f_base = model.predict(&base, 1)?[e.target];
    let change = f_x - f_base;
    if m == 1 {
        return Ok(Fit { coefficients: vec![change], completeness: Some(Completeness { sum: change, change }) });
    }
    let (patterns, weights): (Vec<Vec<bool>>, Vec<f64>) = if m <= 14 {
        (1..(1usize << m) - 1)
            .map(|bits| {
                let p: Vec<bool> = (0..m).map(|j| bits >> j & 1 == 1).collect();
                let s = p.iter().filter(|&&b| b).count();
                (p, shapley_kernel(m, s))
            })
            .unzip()
    } else {
        let size_weight: Vec<f64> = (1..m).map(|s| (m - 1) as f64 / (s * (m - s)) as f64).collect();
        let total: f64 = size_weight.iter().sum();
        let mut rng = super::rng(e.settings.seed);
        let mut patterns = Vec::with_capacity(e.settings.samples);
        while patterns.len() < e.settings.samples.max(2) {
            let mut pick = rng.gen::<f64>() * total;
            let mut size = 1;
            for (i, w) in size_weight.iter().enumerate() {
                size = i + 1;
                if pick < *w {
                    break;
                }
                pick -= w;
            }
            // A random coalition of `size` segments (a partial Fisher-Yates shuffle) and its complement.
            let mut order: Vec<usize> = (0..m).collect();
            for i in 0..size {
                let j = rng.gen_range(i..m);
                order.swap(i, j);
            }
            let mut p = vec![false; m];
            for &j in &order[..size] {
                p[j] = true;
            }
            let complement = p.iter().map(|b| !b).collect();
            patterns.push(p);
            patterns.push(complement);
        }
        let n = patterns.len();
        (patterns, vec![1.0; n])
    };
    let scores = score_patterns(model, e, segments, &patterns, watch)?;
    // Eliminating the last value (it is the change minus the others): y - z_M change = sum over
    // j < M of phi_j (z_j - z_M).
    let last = m - 1;
    let rows: Vec<Vec<f64>> = patterns
        .iter()
        .map(|p| {
            let zl = f64::from(u8::from(p[last]));
            p[..last].iter().map(|&b| f64::from(u8::from(b)) - zl).collect()
        })
        .collect();
    let targets: Vec<f64> = patterns
        .iter()
        .zip(&scores)
        .map(|(p, &s)| f64::from(s - f_base) - f64::from(u8::from(p[last])) * f64::from(change))
        .collect();
    let phi = weighted_ridge(&rows, &targets, &weights, 1e-9, false)?;
    let mut coefficients: Vec<f32> = phi.iter().map(|&v| v as f32).collect();
    coefficients.push(change - coefficients.iter().sum::<f32>());
    let sum = coefficients.iter().sum();
    Ok(Fit { coefficients, completeness: Some(Completeness { sum, change }) })
}

/// The Shapley kernel's weight of one coalition of `s` of `m` segments.
fn shapley_kernel(m: usize, s: usize) -> f64 {
    let mut choose = 1.0f64;
    for i in 0..s {
        choose = choose * (m - i) as f64 / (i + 1) as f64;
    }
    (m - 1) as f64 / (choose * (s * (m - s)) as f64)
}

/// The target score of the input with each pattern's segments kept and the rest covered.
fn score_patterns(
    model: &mut dyn Scorer,
    e: &Explaining<'_>,
    segments: &Segments,
    patterns: &[Vec<bool>],
    watch: Watch<'_>,
) -> Result<Vec<f32>, EngineError> {
    let base = e.baseline();
    let inputs: Vec<f32> = patterns.iter().flat_map(|p| segments.cover(e.input, &base, p)).collect();
    e.target_scores(model, &inputs, patterns.len(), watch, (0.0, 1.0))
}

/// `argmin over b of sum_i w_i (y_i - rows_i . b)^2 + alpha |b|^2` (the first coefficient free of
/// the penalty when `intercept`), by the normal equations.
fn weighted_ridge(
    rows: &[Vec<f64>],
    y: &[f64],
    w: &[f64],
    alpha: f64,
    intercept: bool,
) -> Result<Vec<f64>, EngineError> {
    let k = rows.first().map_or(0, Vec::len);
    let z = nalgebra::DMatrix::from_fn(rows.len(), k, |i, j| rows[i][j]);
    let weights = nalgebra::DVector::from_column_slice(w);
    let weighted = nalgebra::DMatrix::from_fn(rows.len(), k, |i, j| rows[i][j] * weights[i]);
    let mut normal = weighted.transpose() * &z;
    for i in usize::from(intercept)..k {
        normal[(i, i)] += alpha;
    }
    let rhs = weighted.transpose() * nalgebra::DVector::from_column_slice(y);
    let solved = match normal.clone().cholesky() {
        Some(c) => Some(c.solve(&rhs)),
        None => normal.lu().solve(&rhs),
    };
    solved
        .map(|b| b.iter().copied().collect())
        .ok_or_else(|| EngineError::Settings("the samples do not tell the segments apart: use more samples".to_owned()))
}
