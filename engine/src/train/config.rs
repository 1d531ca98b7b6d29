//! Training settings, as saved in a notebook.

use serde::{Deserialize, Serialize};

use crate::tensor::{LossSpec, OptimizerSpec};

/// How the learning rate changes over a run. Every schedule scales the optimiser's base rate.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind")]
pub enum Schedule {
    /// The base rate throughout.
    #[default]
    Constant,
    /// Multiply by `factor` every `every_epochs` epochs.
    Step { every_epochs: usize, factor: f64 },
    /// Half a cosine from the base rate down to `min_factor` times it over the planned epochs.
    Cosine {
        #[serde(default)]
        min_factor: f64,
    },
}

/// Settings of a training run.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    pub optimizer: OptimizerSpec,
    #[serde(default)]
    pub loss: LossSpec,
    #[serde(default = "default_batch")]
    pub batch_size: usize,
    /// Epochs a plain "train" runs for, and the length the schedule plans with.
    #[serde(default = "default_epochs")]
    pub epochs: usize,
    #[serde(default)]
    pub schedule: Schedule,
    /// Steps of linear warm-up from 0 to the scheduled rate (0: none).
    #[serde(default)]
    pub warmup_steps: usize,
    /// Seed of the initial weights, the shuffling and the dropout masks.
    #[serde(default)]
    pub seed: u64,
}

fn default_batch() -> usize {
    32
}
fn default_epochs() -> usize {
    10
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            optimizer: OptimizerSpec::adam(1e-3),
            loss: LossSpec::CrossEntropy,
            batch_size: default_batch(),
            epochs: default_epochs(),
            schedule: Schedule::Constant,
            warmup_steps: 0,
            seed: 0,
        }
    }
}

impl TrainConfig {
    /// The learning rate at `step` (counted from 0) of a run with `steps_per_epoch` steps an epoch.
    #[must_use]
    pub fn lr_at(&self, step: usize, steps_per_epoch: usize) -> f64 {
        let base = self.optimizer.lr();
        let epoch = step / steps_per_epoch.max(1);
        let scheduled = match self.schedule {
            Schedule::Constant => base,
            Schedule::Step { every_epochs, factor } => {
                base * factor.powi(i32::try_from(epoch / every_epochs.max(1)).unwrap_or(i32::MAX))
            }
            Schedule::Cosine { min_factor } => {
                let total = (self.epochs * steps_per_epoch).max(1) as f64;
                let progress = (step as f64 / total).min(1.0);
                let cos = 0.5 * (1.0 + (std::f64::consts::PI * progress).cos());
                base * (min_factor + (1.0 - min_factor) * cos)
            }
        };
        if step < self.warmup_steps {
            scheduled * (step + 1) as f64 / self.warmup_steps as f64
        } else {
            scheduled
        }
    }
}
