//! Optimisers: plain-data settings, and state kept per parameter, updated with dfdx's own kernels.

use dfdx::prelude::*;
use serde::{Deserialize, Serialize};

use super::model::Param;
use super::ops::Grads;

/// Which optimiser, with its settings. Saved in notebooks.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind")]
pub enum OptimizerSpec {
    /// Stochastic gradient descent, optionally with (Nesterov) momentum and L2 weight decay.
    Sgd {
        lr: f64,
        #[serde(default)]
        momentum: f64,
        #[serde(default)]
        nesterov: bool,
        #[serde(default)]
        weight_decay: f64,
    },
    /// Adam, with L2 weight decay added to the gradient.
    Adam {
        lr: f64,
        #[serde(default = "default_beta1")]
        beta1: f64,
        #[serde(default = "default_beta2")]
        beta2: f64,
        #[serde(default = "default_adam_eps")]
        eps: f64,
        #[serde(default)]
        weight_decay: f64,
    },
    /// Adam with decoupled weight decay (Loshchilov and Hutter).
    AdamW {
        lr: f64,
        #[serde(default = "default_beta1")]
        beta1: f64,
        #[serde(default = "default_beta2")]
        beta2: f64,
        #[serde(default = "default_adam_eps")]
        eps: f64,
        #[serde(default = "default_adamw_decay")]
        weight_decay: f64,
    },
}

fn default_beta1() -> f64 {
    0.9
}
fn default_beta2() -> f64 {
    0.999
}
fn default_adam_eps() -> f64 {
    1e-8
}
fn default_adamw_decay() -> f64 {
    1e-2
}

impl OptimizerSpec {
    /// Adam with the usual defaults and this learning rate.
    #[must_use]
    pub fn adam(lr: f64) -> Self {
        Self::Adam { lr, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0.0 }
    }

    /// Plain SGD with this learning rate.
    #[must_use]
    pub fn sgd(lr: f64) -> Self {
        Self::Sgd { lr, momentum: 0.0, nesterov: false, weight_decay: 0.0 }
    }

    /// The learning rate.
    #[must_use]
    pub fn lr(&self) -> f64 {
        match self {
            Self::Sgd { lr, .. } | Self::Adam { lr, .. } | Self::AdamW { lr, .. } => *lr,
        }
    }

    /// Moment buffers kept per parameter (each the parameter's size).
    #[must_use]
    pub fn buffers_per_param(&self) -> usize {
        match self {
            Self::Sgd { .. } => 1,
            Self::Adam { .. } | Self::AdamW { .. } => 2,
        }
    }

    /// Settings no optimiser can train with, as a message naming the setting (`optimizer.lr`).
    ///
    /// # Errors
    /// The first bad setting.
    pub fn validate(&self) -> Result<(), String> {
        // Very large or small numbers in scientific notation (1e300 has 301 digits otherwise).
        let num = |v: f64| {
            if v == 0.0 || (1e-4..1e6).contains(&v.abs()) || !v.is_finite() {
                format!("{v}")
            } else {
                format!("{v:e}")
            }
        };
        let lr = self.lr();
        // The update runs in 32 bits: a rate that is 0 or infinite there cannot train.
        if !(lr > 0.0 && (lr as f32).is_normal()) {
            return Err(format!(
                "optimizer.lr (the learning rate) is {}: it must be a number above 0, such as 0.01 for Adam or 0.1 for SGD",
                num(lr)
            ));
        }
        let fraction = |name: &str, v: f64| {
            if (0.0..1.0).contains(&v) {
                Ok(())
            } else {
                Err(format!("optimizer.{name} is {}: use a number from 0 up to (not including) 1", num(v)))
            }
        };
        let decay = |v: f64| {
            // A decay of 1 or more wipes the weights out (or flips them) at every step.
            if (0.0..1.0).contains(&v) {
                Ok(())
            } else {
                Err(format!(
                    "optimizer.weight_decay is {}: use 0 (none) or a small positive number such as 1e-4",
                    num(v)
                ))
            }
        };
        match *self {
            Self::Sgd { momentum, weight_decay, .. } => {
                fraction("momentum", momentum)?;
                decay(weight_decay)
            }
            Self::Adam { beta1, beta2, eps, weight_decay, .. }
            | Self::AdamW { beta1, beta2, eps, weight_decay, .. } => {
                fraction("beta1", beta1)?;
                fraction("beta2", beta2)?;
                if !(eps > 0.0 && (eps as f32).is_normal()) {
                    return Err(format!("optimizer.eps is {}: use a small number above 0, such as 1e-8", num(eps)));
                }
                decay(weight_decay)
            }
        }
    }

    /// The same optimiser with another learning rate.
    #[must_use]
    pub fn with_lr(mut self, new_lr: f64) -> Self {
        match &mut self {
            Self::Sgd { lr, .. } | Self::Adam { lr, .. } | Self::AdamW { lr, .. } => *lr = new_lr,
        }
        self
    }
}

/// An optimiser's running state: the step count and one or two moment buffers per parameter.
pub struct Optimizer {
    spec: OptimizerSpec,
    step: i32,
    first_moment: Grads,
    second_moment: Grads,
}

impl std::fmt::Debug for Optimizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Optimizer").field("spec", &self.spec).field("step", &self.step).finish_non_exhaustive()
    }
}

impl Optimizer {
    /// A fresh optimiser (zero moments).
    #[must_use]
    pub fn new(spec: OptimizerSpec) -> Self {
        Self { spec, step: 0, first_moment: Gradients::leaky(), second_moment: Gradients::leaky() }
    }

    /// The settings in use.
    #[must_use]
    pub fn spec(&self) -> OptimizerSpec {
        self.spec
    }

    /// Changes settings mid-run. Moments are kept when the kind stays the same.
    pub fn set_spec(&mut self, spec: OptimizerSpec) {
        if std::mem::discriminant(&spec) == std::mem::discriminant(&self.spec) {
            self.spec = spec;
        } else {
            *self = Self::new(spec);
        }
    }

    /// How many updates have been applied.
    #[must_use]
    pub fn steps(&self) -> i32 {
        self.step
    }

    /// Parameter `name`'s running state before the next update, entry by entry: the first
    /// moment (SGD's velocity, Adam's mean of gradients) and the second (Adam's mean of squared
    /// gradients; empty for SGD). Zeros before the first update. `None`: no such parameter.
    pub fn moments(&mut self, model: &super::Model, name: &str) -> Option<(Vec<f32>, Vec<f32>)> {
        let p = model.params.iter().find(|p| p.name == name)?;
        let first = self.first_moment.get_or_alloc_mut(&p.tensor).ok()?.to_vec();
        let second = match self.spec {
            OptimizerSpec::Sgd { .. } => Vec::new(),
            _ => self.second_moment.get_or_alloc_mut(&p.tensor).ok()?.to_vec(),
        };
        Some((first, second))
    }

    /// Applies one update to every parameter from its gradient. When a gradient holds a NaN or
    /// an infinity nothing is updated (so the weights stay good) and `false` is returned.
    pub(crate) fn update(&mut self, params: &mut [Param], grads: &mut Grads) -> Result<bool, CpuError> {
        for p in params.iter() {
            if !grads.get_or_alloc_mut(&p.tensor)?.iter().all(|g| g.is_finite()) {
                return Ok(false);
            }
        }
        self.step += 1;
        for p in params {
            let g = grads.get_or_alloc_mut(&p.tensor)?;
            let m = self.first_moment.get_or_alloc_mut(&p.tensor)?;
            match self.spec {
                OptimizerSpec::Sgd { lr, momentum, nesterov, weight_decay } => {
                    let cfg = SgdConfig {
                        lr,
                        momentum: match (momentum > 0.0, nesterov) {
                            (false, _) => None,
                            (true, false) => Some(Momentum::Classic(momentum)),
                            (true, true) => Some(Momentum::Nesterov(momentum)),
                        },
                        weight_decay: (weight_decay > 0.0).then_some(WeightDecay::L2(weight_decay)),
                    };
                    cfg.try_update(&mut p.tensor, m, g)?;
                }
                OptimizerSpec::Adam { lr, beta1, beta2, eps, weight_decay }
                | OptimizerSpec::AdamW { lr, beta1, beta2, eps, weight_decay } => {
                    let decay = match self.spec {
                        OptimizerSpec::AdamW { .. } => WeightDecay::Decoupled(weight_decay),
                        _ => WeightDecay::L2(weight_decay),
                    };
                    let cfg = AdamConfig {
                        lr,
                        betas: [beta1, beta2],
                        eps,
                        weight_decay: (weight_decay > 0.0).then_some(decay),
                    };
                    let v = self.second_moment.get_or_alloc_mut(&p.tensor)?;
                    cfg.try_update(self.step, &mut p.tensor, m, v, g)?;
                }
            }
        }
        Ok(true)
    }
}
