//! Layer normalisation as one op: each row of `d` values to mean 0 and variance 1, then scaled
//! and shifted per feature. dfdx's composition (normalise, broadcast, multiply, add) ran as
//! several serial passes with a tape entry each, about a tenth of a small Transformer's step.

use dfdx::prelude::*;

use super::{take_grad, values, Act, Flat, Grads};

/// `y = gamma * (x - mean) / sqrt(var + eps) + beta` over every row of `d` values of `x`.
pub(crate) fn layer_norm<T: Tape<f32, Cpu>>(
    dev: &Cpu,
    x: &Act,
    (gamma, beta): (&Flat, &Flat),
    d: usize,
    eps: f32,
    tape: &mut T,
) -> Act {
    let shape = *x.shape();
    let xd = values(x);
    let (g, b) = (values(gamma), values(beta));
    let rows = xd.len() / d.max(1);
    let mut y = vec![0.0; xd.len()];
    // The normalised values and each row's 1 / std, for the backward pass.
    let mut xhat = vec![0.0; if T::OWNS_TAPE { xd.len() } else { 0 }];
    let mut rstd = vec![0.0; if T::OWNS_TAPE { rows } else { 0 }];
    for (r, (row, out)) in xd.chunks_exact(d).zip(y.chunks_exact_mut(d)).enumerate() {
        let mean = row.iter().sum::<f32>() / d as f32;
        let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / d as f32;
        let inv = 1.0 / (var + eps).sqrt();
        for (k, (o, v)) in out.iter_mut().zip(row).enumerate() {
            let h = (v - mean) * inv;
            *o = g[k] * h + b[k];
            if T::OWNS_TAPE {
                xhat[r * d + k] = h;
            }
        }
        if T::OWNS_TAPE {
            rstd[r] = inv;
        }
    }
    let out = dev.tensor_from_vec(y, shape);
    if T::OWNS_TAPE {
        let (x_g, g_g, b_g, out_g) = (x.ghost(), gamma.ghost(), beta.ghost(), out.ghost());
        let dev = dev.clone();
        tape.add_backward_op(move |grads: &mut Grads| {
            let gy = take_grad(&dev, grads.get_or_alloc_mut(&out_g)?)?;
            let mut dgamma = vec![0.0; d];
            let mut dbeta = vec![0.0; d];
            let mut dx = vec![0.0; gy.len()];
            let mut dh = vec![0.0; d];
            for (r, (gr, dxr)) in gy.chunks_exact(d).zip(dx.chunks_exact_mut(d)).enumerate() {
                let h = &xhat[r * d..][..d];
                for k in 0..d {
                    dgamma[k] += gr[k] * h[k];
                    dbeta[k] += gr[k];
                    dh[k] = gr[k] * g[k];
                }
                let mean_dh = dh.iter().sum::<f32>() / d as f32;
                let mean_dh_h = dh.iter().zip(h).map(|(a, b)| a * b).sum::<f32>() / d as f32;
                for k in 0..d {
                    dxr[k] = rstd[r] * (dh[k] - mean_dh - h[k] * mean_dh_h);
                }
            }
            super::add_into(grads.get_or_alloc_mut(&x_g)?, &dx);
            super::add_into(grads.get_or_alloc_mut(&g_g)?, &dgamma);
            super::add_into(grads.get_or_alloc_mut(&b_g)?, &dbeta);
            Ok(())
        });
    }
    out
}
