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

/// More epochs than this is a typo, not a plan (a million passes over the data).
pub const MAX_EPOCHS: usize = 1_000_000;
/// A warm-up longer than this keeps the rate near 0 for longer than any run here lasts.
const MAX_WARMUP_STEPS: usize = 1_000_000;

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
    /// Settings no run can train with, as a message naming the setting (`training.batch_size`).
    ///
    /// # Errors
    /// The first bad setting.
    pub fn validate(&self) -> Result<(), String> {
        self.optimizer.validate().map_err(|m| format!("training.{m}"))?;
        if self.batch_size == 0 {
            return Err("training.batch_size is 0: use at least 1, such as 32".into());
        }
        if self.epochs == 0 || self.epochs > MAX_EPOCHS {
            return Err(format!("training.epochs is {}: use 1 to {MAX_EPOCHS}", self.epochs));
        }
        if self.warmup_steps > MAX_WARMUP_STEPS {
            return Err(format!(
                "training.warmup_steps is {}: the rate would stay near 0 for the whole run; use 0 to {MAX_WARMUP_STEPS}, such as 100",
                self.warmup_steps
            ));
        }
        match self.schedule {
            Schedule::Constant => {}
            Schedule::Step { every_epochs, factor } => {
                if every_epochs == 0 || !(factor > 0.0 && factor <= 10.0) {
                    return Err(format!(
                        "training.schedule (Step) multiplies the rate by {factor:e} every {every_epochs} epochs: use at least 1 epoch and a factor above 0 and at most 10, such as 0.5"
                    ));
                }
            }
            Schedule::Cosine { min_factor } => {
                if !(0.0..=1.0).contains(&min_factor) {
                    return Err(format!(
                        "training.schedule (Cosine) ends at {min_factor} times the rate: use a factor from 0 to 1, such as 0.05"
                    ));
                }
            }
        }
        Ok(())
    }

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
                let total = self.epochs.saturating_mul(steps_per_epoch).max(1) as f64;
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
