//! Element-wise activations (`Relu`, `LeakyRelu`, `Tanh`, `Sigmoid`, `Gelu`) and `Softmax` over the last axis.

use dfdx::prelude::*;

use super::{taped, Step};
use crate::tensor::ops::{self, Act};

pub(super) fn relu<T: Tape<f32, Cpu>>(step: &mut Step<'_, T>) -> Act {
    ops::relu(step.dev, step.inputs[0], step.tape)
}

pub(super) fn leaky_relu<T: Tape<f32, Cpu>>(step: &mut Step<'_, T>, slope: f32) -> Act {
    ops::leaky_relu(step.dev, step.inputs[0], slope, step.tape)
}

pub(super) fn tanh<T: Tape<f32, Cpu>>(step: &mut Step<'_, T>) -> Act {
    ops::tanh(step.dev, step.inputs[0], step.tape)
}

pub(super) fn sigmoid<T: Tape<f32, Cpu>>(step: &mut Step<'_, T>) -> Act {
    taped(step.tape, step.inputs[0].clone(), Tensor::sigmoid)
}

pub(super) fn gelu<T: Tape<f32, Cpu>>(step: &mut Step<'_, T>) -> Act {
    ops::gelu(step.dev, step.inputs[0], step.tape)
}

/// Softmax over the last axis (each position of a sequence on its own).
pub(super) fn softmax<T: Tape<f32, Cpu>>(step: &mut Step<'_, T>) -> Act {
    let (batch, numel) = (step.batch, step.numel());
    let last = step.in_shape().last().copied().unwrap_or(1);
    let rows = batch * numel / last;
    taped(step.tape, step.inputs[0].clone(), |t| {
        t.reshape_like(&(rows, last)).softmax::<Axis<1>>().reshape_like(&(batch, numel))
    })
}
