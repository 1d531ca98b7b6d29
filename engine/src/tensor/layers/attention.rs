//! Attention: `MultiHeadAttention` (one Dense layer projects queries, keys and values, the
//! attention op mixes the positions, a second Dense layer projects the heads back) and the
//! pre-norm `TransformerBlock` built from the same pieces. A recording pass keeps every head's
//! attention probabilities as `<id>.attention`, `[heads, time, time]` per sample.

use dfdx::prelude::*;

use super::Step;
use crate::tensor::ops::{self, Act, Flat};

/// Self-attention of `x` (`[batch, time * features]`) into `dim` features per position, with
/// the parameters `qkv_weight, qkv_bias, out_weight, out_bias`.
fn attend<T: Tape<f32, Cpu>>(
    step: &mut Step<'_, T>,
    x: &Act,
    params: [&Flat; 4],
    (heads, dim, causal): (usize, usize, bool),
    need_dx: bool,
) -> Act {
    let (batch, time, features) = (step.batch, step.in_shape()[0], step.in_shape()[1]);
    let rows = batch * time;
    let qkv_dims = ops::DenseDims { batch, rows, fan_in: features, units: 3 * dim };
    let qkv = ops::dense(step.dev, x, params[0], Some(params[1]), qkv_dims, need_dx, step.tape);
    let dims = ops::AttentionDims { batch, time, dim, heads, causal };
    let (mixed, probs) = ops::attention(step.dev, &qkv, dims, step.tape);
    step.keep("attention", vec![heads, time, time], probs);
    let out_dims = ops::DenseDims { batch, rows, fan_in: dim, units: dim };
    ops::dense(step.dev, &mixed, params[2], Some(params[3]), out_dims, true, step.tape)
}

pub(super) fn attention<T: Tape<f32, Cpu>>(step: &mut Step<'_, T>, heads: usize, dim: usize, causal: bool) -> Act {
    let x = step.inputs[0].clone();
    let p = [step.params[0], step.params[1], step.params[2], step.params[3]];
    let need_dx = step.need_dx;
    attend(step, &x, p, (heads, dim, causal), need_dx)
}

/// `u = x + Attention(LayerNorm(x))`, `y = u + W2 GELU(W1 LayerNorm(u))`.
pub(super) fn transformer_block<T: Tape<f32, Cpu>>(
    step: &mut Step<'_, T>,
    heads: usize,
    ff: usize,
    causal: bool,
) -> Act {
    const EPS: f32 = 1e-5;
    let (batch, time, d) = (step.batch, step.in_shape()[0], step.in_shape()[1]);
    let rows = batch * time;
    let p = step.params.clone();
    let x = step.inputs[0].clone();
    let normed = ops::layer_norm(step.dev, &x, (p[0], p[1]), d, EPS, step.tape);
    let attended = attend(step, &normed, [p[2], p[3], p[4], p[5]], (heads, d, causal), true);
    let u = ops::sum(step.dev, &[&x, &attended], step.tape);
    let normed = ops::layer_norm(step.dev, &u, (p[6], p[7]), d, EPS, step.tape);
    let wide = ops::DenseDims { batch, rows, fan_in: d, units: ff };
    let hidden = ops::dense(step.dev, &normed, p[8], Some(p[9]), wide, true, step.tape);
    let hidden = ops::gelu(step.dev, &hidden, step.tape);
    let narrow = ops::DenseDims { batch, rows, fan_in: ff, units: d };
    let back = ops::dense(step.dev, &hidden, p[10], Some(p[11]), narrow, true, step.tape);
    ops::sum(step.dev, &[&u, &back], step.tape)
}
