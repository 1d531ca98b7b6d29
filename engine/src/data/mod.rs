//! Datasets as plain `f32` buffers: bundled files, generated sets, imported files, and the
//! pipeline that splits, normalises, shuffles and batches them. No dfdx here.
//!
//! A dataset is described by a [`DataSpec`] (where it comes from, plus the pipeline settings) that
//! a notebook stores; [`DataSpec::build`] rebuilds exactly the same samples from it.

mod bundled;
mod csv;
mod idx;
mod images;
mod pipeline;
pub mod sentiment;
mod sequence;
mod spec;
mod text;
mod toy;

pub use bundled::{bundled_info, load_bundled, text_source_info, Bundled, LICENSES};
pub use csv::{import_csv, CsvOptions, LabelColumn, TaskKind};
pub use idx::{parse_idx_images, parse_idx_labels};
pub use images::{import_image_folder, ColorMode};
pub use pipeline::split;
pub use pipeline::{Normalization, Normalizer, PipelineSpec};
pub use sentiment::{sentence_of, sentiment};
pub use sequence::{sequence_task, SequenceTask};
pub use spec::{DataSource, DataSpec};
pub use text::{char_windows, token_id, TextSource, Vocab, VocabKind, PAD, UNK};
pub use toy::{spiral, toy_2d, Pattern2d};

use rand::seq::SliceRandom as _;
use rand::SeedableRng as _;

/// What each sample is trained towards.
#[derive(Clone, Debug, PartialEq)]
pub enum Targets {
    /// Class indices: one per sample, or one per position for sequence outputs.
    Classes(Vec<usize>),
    /// Target values, the same count for every sample.
    Values(Vec<f32>),
}

impl Targets {
    /// How many class labels or values there are in all.
    #[must_use]
    pub fn len(&self) -> usize {
        match self {
            Self::Classes(c) => c.len(),
            Self::Values(v) => v.len(),
        }
    }

    /// Whether there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A batch of samples, ready for the model: `len` samples of inputs, row after row.
#[derive(Clone, Debug, PartialEq)]
pub struct Batch {
    pub inputs: Vec<f32>,
    pub targets: Targets,
    pub len: usize,
}

/// Where a dataset came from, its license, and what it holds: the text the app shows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DatasetInfo {
    pub title: String,
    /// Who made it and where Glassbox got it.
    pub source: String,
    pub license: String,
    /// One or two sentences on what the samples are.
    pub description: String,
}

/// A set of samples of one shape with their targets, in memory.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    /// Per-sample input shape, e.g. `[1, 28, 28]`, `[2]`, or `[positions]` of token ids.
    pub shape: Vec<usize>,
    /// All samples' values, sample after sample.
    pub inputs: Vec<f32>,
    /// Targets of all samples, sample after sample.
    pub targets: Targets,
    /// Targets per sample: 1 for a class per sample, `positions` for a class per position, the
    /// number of output values for regression.
    pub targets_per_sample: usize,
    /// Class names, indexed by label (empty for regression).
    pub classes: Vec<String>,
    /// Names of the input features, for tables and 2-D sets (empty for images and text).
    pub features: Vec<String>,
    /// The vocabulary, when inputs are token ids.
    pub vocab: Option<Vocab>,
}

impl Dataset {
    /// A classification set with one label per sample.
    #[must_use]
    pub fn classification(shape: Vec<usize>, inputs: Vec<f32>, labels: Vec<usize>, classes: Vec<String>) -> Self {
        Self {
            shape,
            inputs,
            targets: Targets::Classes(labels),
            targets_per_sample: 1,
            classes,
            features: Vec::new(),
            vocab: None,
        }
    }

    /// Number of samples.
    #[must_use]
    pub fn len(&self) -> usize {
        self.targets.len() / self.targets_per_sample.max(1)
    }

    /// Whether the set has no samples.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Values per sample.
    #[must_use]
    pub fn sample_len(&self) -> usize {
        self.shape.iter().product()
    }

    /// One sample's input values.
    #[must_use]
    pub fn sample(&self, index: usize) -> &[f32] {
        let n = self.sample_len();
        &self.inputs[index * n..(index + 1) * n]
    }

    /// The class labels, for a classification set.
    #[must_use]
    pub fn labels(&self) -> Option<&[usize]> {
        match &self.targets {
            Targets::Classes(c) => Some(c),
            Targets::Values(_) => None,
        }
    }

    /// How many samples carry each class (single-label classification; empty otherwise).
    #[must_use]
    pub fn class_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.classes.len()];
        if let (Some(labels), 1) = (self.labels(), self.targets_per_sample) {
            for &l in labels {
                if let Some(c) = counts.get_mut(l) {
                    *c += 1;
                }
            }
        }
        counts
    }

    /// The samples at `indices`, as one batch.
    #[must_use]
    pub fn batch(&self, indices: &[usize]) -> Batch {
        let n = self.sample_len();
        let t = self.targets_per_sample;
        let mut inputs = Vec::with_capacity(indices.len() * n);
        for &i in indices {
            inputs.extend_from_slice(&self.inputs[i * n..(i + 1) * n]);
        }
        let targets = match &self.targets {
            Targets::Classes(c) => {
                Targets::Classes(indices.iter().flat_map(|&i| c[i * t..(i + 1) * t].iter().copied()).collect())
            }
            Targets::Values(v) => {
                Targets::Values(indices.iter().flat_map(|&i| v[i * t..(i + 1) * t].iter().copied()).collect())
            }
        };
        Batch { inputs, targets, len: indices.len() }
    }

    /// The samples at `indices`, as a new dataset with the same names and vocabulary.
    #[must_use]
    pub fn subset(&self, indices: &[usize]) -> Self {
        let batch = self.batch(indices);
        Self { inputs: batch.inputs, targets: batch.targets, ..self.clone_meta() }
    }

    fn clone_meta(&self) -> Self {
        Self {
            shape: self.shape.clone(),
            inputs: Vec::new(),
            targets: Targets::Classes(Vec::new()),
            targets_per_sample: self.targets_per_sample,
            classes: self.classes.clone(),
            features: self.features.clone(),
            vocab: self.vocab.clone(),
        }
    }

    /// One epoch of batches of `batch_size` (the last may be smaller), shuffled by `seed`.
    #[must_use]
    pub fn epoch_batches(&self, batch_size: usize, seed: u64) -> Vec<Vec<usize>> {
        let mut order: Vec<usize> = (0..self.len()).collect();
        order.shuffle(&mut rand::rngs::StdRng::seed_from_u64(seed));
        order.chunks(batch_size.max(1)).map(<[usize]>::to_vec).collect()
    }

    /// Token-id inputs turned into one-hot vectors: shape `[positions, vocabulary size]`, so that
    /// Dense layers can read text before embedding layers exist.
    #[must_use]
    pub fn one_hot(&self) -> Option<Self> {
        let vocab = self.vocab.as_ref()?;
        let v = vocab.len();
        let positions = self.sample_len();
        let mut inputs = vec![0.0; self.inputs.len() * v];
        for (i, &id) in self.inputs.iter().enumerate() {
            let id = id as usize;
            if id < v {
                inputs[i * v + id] = 1.0;
            }
        }
        Some(Self { shape: vec![positions, v], inputs, targets: self.targets.clone(), ..self.clone_meta() })
    }
}

/// A dataset ready for training: its train and test splits and where it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Splits {
    pub train: Dataset,
    pub test: Dataset,
    pub info: DatasetInfo,
}
