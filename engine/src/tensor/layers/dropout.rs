//! Dropout: in training, each value is zeroed with probability `rate` and the rest scaled by
//! `1 / (1 - rate)`; otherwise the input passes on as it is.

use dfdx::prelude::*;

use super::Step;
use crate::tensor::model::stable_hash;
use crate::tensor::ops::{self, Act};

pub(super) fn dropout<T: Tape<f32, Cpu>>(step: &mut Step<'_, T>, rate: f32) -> Act {
    if step.mode.train && rate > 0.0 {
        let seed = step.mode.dropout_seed ^ stable_hash(&step.node.id);
        ops::dropout(step.dev, step.inputs[0], rate, seed, step.tape)
    } else {
        step.inputs[0].clone()
    }
}
