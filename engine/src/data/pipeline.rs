//! Splitting, normalising and shuffling: the steps between a raw dataset and training batches.

use rand::seq::SliceRandom as _;
use rand::SeedableRng as _;
use serde::{Deserialize, Serialize};

use super::Dataset;

/// How inputs are rescaled. Statistics come from the training split only and are applied to both
/// splits, so the test split never leaks into training.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Normalization {
    /// Inputs as they are.
    #[default]
    None,
    /// Each feature to mean 0 and standard deviation 1 (for tables).
    Standardize,
    /// Each feature to `[0, 1]` by its minimum and maximum.
    UnitRange,
    /// One mean and standard deviation over all values (for images: keeps pixels comparable).
    GlobalMeanStd,
}

/// The pipeline settings a notebook stores with its dataset.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct PipelineSpec {
    /// Fraction of samples held out for testing, for sets without a bundled split.
    #[serde(default = "default_test_fraction")]
    pub test_fraction: f32,
    #[serde(default)]
    pub normalization: Normalization,
    /// Seed of the train/test split.
    #[serde(default)]
    pub seed: u64,
}

fn default_test_fraction() -> f32 {
    0.2
}

impl Default for PipelineSpec {
    fn default() -> Self {
        Self { test_fraction: default_test_fraction(), normalization: Normalization::None, seed: 0 }
    }
}

/// Splits `data` into `(train, test)` with `test_fraction` of the samples, shuffled by `seed`. For
/// single-label classification each class is split in the same proportion (stratified), so a
/// small table keeps every class in both splits.
#[must_use]
pub fn split(data: &Dataset, test_fraction: f32, seed: u64) -> (Dataset, Dataset) {
    // `DataSpec::validate` refuses shares outside [0, 1); a direct caller gets them clamped.
    let fraction = test_fraction.clamp(0.0, 1.0);
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut train = Vec::new();
    let mut test = Vec::new();
    let mut take = |mut group: Vec<usize>| {
        group.shuffle(&mut rng);
        let n_test = (group.len() as f32 * fraction).round() as usize;
        test.extend_from_slice(&group[..n_test]);
        train.extend_from_slice(&group[n_test..]);
    };
    match (data.labels(), data.targets_per_sample) {
        (Some(labels), 1) if !data.classes.is_empty() => {
            for class in 0..data.classes.len() {
                take((0..data.len()).filter(|&i| labels[i] == class).collect());
            }
        }
        _ => take((0..data.len()).collect()),
    }
    // Interleave the classes again.
    train.shuffle(&mut rng);
    test.shuffle(&mut rng);
    (data.subset(&train), data.subset(&test))
}

/// Fitted rescaling: `x' = (x - shift) / scale`, per feature (or one pair for all).
#[derive(Clone, Debug, PartialEq)]
pub struct Normalizer {
    pub shift: Vec<f32>,
    pub scale: Vec<f32>,
}

impl Normalizer {
    /// Fits the rescaling to a (training) set.
    #[must_use]
    pub fn fit(data: &Dataset, how: Normalization) -> Self {
        let n = data.sample_len().max(1);
        let count = data.len().max(1) as f64;
        match how {
            Normalization::None => Self { shift: vec![0.0], scale: vec![1.0] },
            Normalization::GlobalMeanStd => {
                let len = data.inputs.len().max(1) as f64;
                let mean = data.inputs.iter().map(|&v| f64::from(v)).sum::<f64>() / len;
                let var = data.inputs.iter().map(|&v| (f64::from(v) - mean).powi(2)).sum::<f64>() / len;
                Self { shift: vec![mean as f32], scale: vec![nonzero(var.sqrt() as f32)] }
            }
            Normalization::Standardize => {
                let mut sum = vec![0.0f64; n];
                let mut sq = vec![0.0f64; n];
                for row in data.inputs.chunks_exact(n) {
                    for ((s, q), &v) in sum.iter_mut().zip(&mut sq).zip(row) {
                        *s += f64::from(v);
                        *q += f64::from(v) * f64::from(v);
                    }
                }
                let mean: Vec<f64> = sum.iter().map(|s| s / count).collect();
                let std: Vec<f32> =
                    sq.iter().zip(&mean).map(|(q, m)| nonzero(((q / count) - m * m).max(0.0).sqrt() as f32)).collect();
                Self { shift: mean.iter().map(|&m| m as f32).collect(), scale: std }
            }
            Normalization::UnitRange => {
                let mut lo = vec![f32::INFINITY; n];
                let mut hi = vec![f32::NEG_INFINITY; n];
                for row in data.inputs.chunks_exact(n) {
                    for ((l, h), &v) in lo.iter_mut().zip(&mut hi).zip(row) {
                        *l = l.min(v);
                        *h = h.max(v);
                    }
                }
                let scale = lo.iter().zip(&hi).map(|(l, h)| nonzero((f64::from(*h) - f64::from(*l)) as f32)).collect();
                Self { shift: lo.iter().map(|l| if l.is_finite() { *l } else { 0.0 }).collect(), scale }
            }
        }
    }

    /// Rescales a set in place. The arithmetic is done in 64 bits, so values near the 32-bit
    /// limit (a feature from -3e38 to 3e38) rescale instead of overflowing.
    pub fn apply(&self, data: &mut Dataset) {
        let per = self.shift.len().max(1);
        for row in data.inputs.chunks_mut(per) {
            for ((v, s), k) in row.iter_mut().zip(&self.shift).zip(&self.scale) {
                *v = ((f64::from(*v) - f64::from(*s)) / f64::from(*k)) as f32;
            }
        }
    }
}

/// A spread of zero (a constant feature) would divide by zero: leave such features unscaled. A
/// spread too wide for 32 bits divides by the largest 32-bit number instead.
fn nonzero(scale: f32) -> f32 {
    if scale == f32::INFINITY {
        f32::MAX
    } else if scale > 1e-12 && scale.is_finite() {
        scale
    } else {
        1.0
    }
}
