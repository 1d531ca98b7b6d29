//! Pooling: `MaxPool2d` and `AvgPool2d` over windows, `GlobalAvgPool` over each whole map.

use dfdx::prelude::*;

use super::{taped, Step};
use crate::tensor::ops::{self, Act};

pub(super) fn pool2d<T: Tape<f32, Cpu>>(step: &mut Step<'_, T>, size: usize, stride: usize, max: bool) -> Act {
    let (in_shape, out) = (step.in_shape(), &step.node.out_shape);
    let dims = ops::PoolDims {
        batch: step.batch,
        channels: in_shape[0],
        height: in_shape[1],
        width: in_shape[2],
        size,
        stride,
        out_height: out[1],
        out_width: out[2],
    };
    if max {
        ops::max_pool2d(step.dev, step.inputs[0], dims, step.tape)
    } else {
        ops::avg_pool2d(step.dev, step.inputs[0], dims, step.tape)
    }
}

/// The mean of each channel's map: `[channels, ...]` to `[channels]`.
pub(super) fn global_avg<T: Tape<f32, Cpu>>(step: &mut Step<'_, T>) -> Act {
    let (batch, c) = (step.batch, step.in_shape()[0]);
    let rest = step.numel() / c;
    taped(step.tape, step.inputs[0].clone(), |t| t.reshape_like(&(batch, c, rest)).mean::<(usize, usize), Axis<2>>())
}
