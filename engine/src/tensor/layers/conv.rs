//! Conv2d: `[channels, height, width]` to `[filters, out height, out width]`.

use dfdx::prelude::*;

use super::Step;
use crate::tensor::ops::{self, Act};

pub(super) fn conv2d<T: Tape<f32, Cpu>>(
    step: &mut Step<'_, T>,
    filters: usize,
    kernel: usize,
    stride: usize,
    padding: usize,
) -> Act {
    let (in_shape, out) = (step.in_shape(), &step.node.out_shape);
    let dims = ops::ConvDims {
        batch: step.batch,
        channels: in_shape[0],
        height: in_shape[1],
        width: in_shape[2],
        filters,
        kernel,
        stride,
        padding,
        out_height: out[1],
        out_width: out[2],
    };
    ops::conv2d(step.dev, step.inputs[0], step.params[0], step.params[1], dims, step.need_dx, step.tape)
}
