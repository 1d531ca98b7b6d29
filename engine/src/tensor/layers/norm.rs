//! Normalisation: `BatchNorm` (per channel over the batch and positions, with running statistics
//! for evaluation, updated in training as PyTorch does) and `LayerNorm` (over the last axis).

use std::collections::BTreeMap;

use dfdx::prelude::*;

use super::{taped, Step};
use crate::tensor::ops::{self, values, Act};

pub(super) fn batch_norm<T: Tape<f32, Cpu>>(step: &mut Step<'_, T>, momentum: f32, eps: f32) -> Act {
    let (batch, numel) = (step.batch, step.numel());
    let c = step.in_shape()[0];
    let dims = (batch, c, numel / c);
    let (gamma, beta) = (step.params[0].clone(), step.params[1].clone());
    let x3 = taped(step.tape, step.inputs[0].clone(), |t| t.reshape_like(&dims));
    let (mean, var) = if step.mode.train {
        let mean = taped(step.tape, x3.clone(), MeanTo::mean::<(usize,), Axes2<0, 2>>);
        let centered = taped(step.tape, x3.clone(), |t| t - mean.clone().broadcast_like::<_, Axes2<0, 2>>(&dims));
        let var = taped(step.tape, centered, |t| t.square().mean::<(usize,), Axes2<0, 2>>());
        update_running_stats(step.buffers, &step.node.id, &values(&mean), &values(&var), momentum, batch * dims.2);
        (mean, var)
    } else {
        let running = |which: &str| step.buffers.get(&format!("{}.{which}", step.node.id)).cloned().unwrap_or_default();
        (
            step.dev.tensor_from_vec(running("running_mean"), (c,)),
            step.dev.tensor_from_vec(running("running_var"), (c,)),
        )
    };
    // Each statistic is put on the tape before use, so gradients reach through it.
    let tape = &mut *step.tape;
    let mean_b = taped(tape, mean, |t| t.broadcast_like::<_, Axes2<0, 2>>(&dims));
    let std_b = taped(tape, var, |t| (t + eps).sqrt().broadcast_like::<_, Axes2<0, 2>>(&dims));
    let gamma_b = taped(tape, gamma, |t| t.broadcast_like::<_, Axes2<0, 2>>(&dims));
    let beta_b = taped(tape, beta, |t| t.broadcast_like::<_, Axes2<0, 2>>(&dims));
    let centered = taped(tape, x3, |t| t - mean_b);
    let xhat = taped(tape, centered, |t| t / std_b);
    let scaled = taped(tape, xhat, |t| t * gamma_b);
    taped(tape, scaled, |t| (t + beta_b).reshape_like(&(batch, numel)))
}

pub(super) fn layer_norm<T: Tape<f32, Cpu>>(step: &mut Step<'_, T>, eps: f32) -> Act {
    let d = step.in_shape().last().copied().unwrap_or(1);
    ops::layer_norm(step.dev, step.inputs[0], (step.params[0], step.params[1]), d, eps, step.tape)
}

fn update_running_stats(
    buffers: &mut BTreeMap<String, Vec<f32>>,
    id: &str,
    mean: &[f32],
    var: &[f32],
    momentum: f32,
    count: usize,
) {
    // Running variance is unbiased, as in PyTorch.
    let unbias = if count > 1 { count as f32 / (count - 1) as f32 } else { 1.0 };
    if let Some(rm) = buffers.get_mut(&format!("{id}.running_mean")) {
        for (r, m) in rm.iter_mut().zip(mean) {
            *r = (1.0 - momentum) * *r + momentum * m;
        }
    }
    if let Some(rv) = buffers.get_mut(&format!("{id}.running_var")) {
        for (r, v) in rv.iter_mut().zip(var) {
            *r = (1.0 - momentum) * *r + momentum * v * unbias;
        }
    }
}
