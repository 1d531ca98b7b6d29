//! Custom operations written through dfdx's public tape API: the forward pass computes on plain
//! slices, and each op records its own backward closure on the tape.
//!
//! Dense, convolution and pooling are the hot paths of training; doing them here (gemm straight
//! on the buffers, rayon across the batch) is several times faster than composing dfdx ops.

mod attention;
mod conv;
mod dense;
mod dropout;
mod join;
mod norm;
mod pointwise;
mod pool;
mod probe;
mod recurrent;
mod sequence;

pub(crate) use attention::{attention, AttentionDims};
pub(crate) use conv::{conv2d, ConvDims};
pub(crate) use dense::{dense, DenseDims};
pub(crate) use dropout::dropout;
pub(crate) use join::{concat, sum};
pub(crate) use norm::layer_norm;
pub(crate) use pointwise::{gelu, leaky_relu, relu, tanh};
pub(crate) use pool::{avg_pool2d, max_pool2d, PoolDims};
pub(crate) use probe::{probe, CaughtSlot};
pub(crate) use recurrent::{recurrent, Direction, RecurrentDims};
pub(crate) use sequence::{add_positions, embedding, pool_sequence, sinusoids, Positions};

use dfdx::prelude::*;

/// Every activation is stored as `[batch, per-sample values]`; layers view it in their own shape.
pub(crate) type Act = Tensor<(usize, usize), f32, Cpu>;
/// A parameter: one flat tensor, so dfdx's optimiser kernels can update it in place.
pub(crate) type Flat = Tensor<(usize,), f32, Cpu>;
pub(crate) type Grads = Gradients<f32, Cpu>;
/// One tensor's gradient buffer as the tape keeps it.
pub(crate) type GradVec = <Cpu as Storage<f32>>::Vec;

/// Moves an op's output gradient out of `grads`, leaving an empty buffer in its place. The op
/// that made a tensor is the last to read its gradient (the tape runs every consumer's backward
/// first, and only parameters and the input are read after the pass), so it can read the
/// gradient while it writes its inputs' gradients without copying it first.
pub(crate) fn take_grad(dev: &Cpu, slot: &mut GradVec) -> Result<GradVec, CpuError> {
    Ok(std::mem::replace(slot, dev.try_alloc_len(0)?))
}

/// A copy of a contiguous tensor's values.
pub(crate) fn values<S: Shape, T>(t: &Tensor<S, f32, Cpu, T>) -> Vec<f32> {
    let mut out = vec![0.0; t.shape().num_elements()];
    t.copy_into(&mut out);
    out
}

/// `dst += src`, element-wise.
pub(crate) fn add_into(dst: &mut [f32], src: &[f32]) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d += s;
    }
}
