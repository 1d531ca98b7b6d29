//! Input, Flatten and Reshape (the values as they are: only the per-sample shape changes, and
//! every activation is stored flat per sample) and Dense.

use dfdx::prelude::*;

use super::Step;
use crate::tensor::ops::{self, Act};

/// The input itself (Input: the model's input; Flatten, Reshape: their input's tensor).
pub(super) fn pass_on<T: Tape<f32, Cpu>>(step: &mut Step<'_, T>) -> Act {
    step.inputs[0].clone()
}

/// `y = x W + b` over the last axis (a per-position Dense for inputs with more axes).
pub(super) fn dense<T: Tape<f32, Cpu>>(step: &mut Step<'_, T>, units: usize, bias: bool) -> Act {
    let fan_in = step.in_shape().last().copied().unwrap_or(1);
    let dims = ops::DenseDims { batch: step.batch, rows: step.batch * step.numel() / fan_in, fan_in, units };
    let b = bias.then(|| step.params[1]);
    ops::dense(step.dev, step.inputs[0], step.params[0], b, dims, step.need_dx, step.tape)
}
