//! Datasets as plain `f32` buffers: bundled files, generated sets, batching. No dfdx here.

mod idx;
mod toy;

pub use idx::{load_idx_images, load_idx_labels, Mnist};
pub use toy::spiral;

use rand::seq::SliceRandom as _;
use rand::SeedableRng as _;

/// What each sample is trained towards.
#[derive(Clone, Debug, PartialEq)]
pub enum Targets {
    /// One class index per sample (or per position, for sequence outputs).
    Classes(Vec<usize>),
    /// Target values, `len * output values` of them.
    Values(Vec<f32>),
}

/// A batch of samples, ready for the model: `len` samples of inputs, row after row.
#[derive(Clone, Debug, PartialEq)]
pub struct Batch {
    pub inputs: Vec<f32>,
    pub targets: Targets,
    pub len: usize,
}

/// A labelled set of samples of one shape, in memory.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    /// Per-sample shape, e.g. `[1, 28, 28]` or `[2]`.
    pub shape: Vec<usize>,
    /// All samples' values, sample after sample.
    pub inputs: Vec<f32>,
    /// One class per sample.
    pub labels: Vec<usize>,
    /// Class names, indexed by label.
    pub classes: Vec<String>,
}

impl Dataset {
    /// Number of samples.
    #[must_use]
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether the set has no samples.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Values per sample.
    #[must_use]
    pub fn sample_len(&self) -> usize {
        self.shape.iter().product()
    }

    /// The samples at `indices`, as one batch.
    #[must_use]
    pub fn batch(&self, indices: &[usize]) -> Batch {
        let n = self.sample_len();
        let mut inputs = Vec::with_capacity(indices.len() * n);
        let mut labels = Vec::with_capacity(indices.len());
        for &i in indices {
            inputs.extend_from_slice(&self.inputs[i * n..(i + 1) * n]);
            labels.push(self.labels[i]);
        }
        Batch { inputs, targets: Targets::Classes(labels), len: indices.len() }
    }

    /// One epoch of batches of `batch_size` (the last may be smaller), shuffled by `seed`.
    #[must_use]
    pub fn epoch_batches(&self, batch_size: usize, seed: u64) -> Vec<Vec<usize>> {
        let mut order: Vec<usize> = (0..self.len()).collect();
        order.shuffle(&mut rand::rngs::StdRng::seed_from_u64(seed));
        order.chunks(batch_size.max(1)).map(<[usize]>::to_vec).collect()
    }
}
