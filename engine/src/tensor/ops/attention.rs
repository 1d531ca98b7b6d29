//! The core of multi-head self-attention as one op: from the projected queries, keys and values
//! (`[batch, time, 3 * dim]`, as one Dense layer gives them) to each head's weighted sums
//! (`[batch, time, dim]`), keeping the attention probabilities for the backward pass and for
//! looking at. Samples run in parallel (rayon).

use dfdx::prelude::*;
use rayon::prelude::*;

use super::{values, Act, Grads};

/// Sizes of one attention application.
#[derive(Clone, Copy, Debug)]
pub(crate) struct AttentionDims {
    pub batch: usize,
    pub time: usize,
    /// The model dimension, split evenly between the heads.
    pub dim: usize,
    pub heads: usize,
    /// Whether position `i` sees only positions `0..=i`.
    pub causal: bool,
}

impl AttentionDims {
    fn head(&self) -> usize {
        self.dim / self.heads.max(1)
    }

    /// How many positions query `i` sees.
    fn seen(&self, i: usize) -> usize {
        if self.causal {
            i + 1
        } else {
            self.time
        }
    }
}

/// One sample's attention: fills `ctx` (`[time, dim]`) and `probs` (`[heads, time, time]`, zero
/// where masked) from `qkv` (`[time, 3 * dim]`).
fn forward_sample(qkv: &[f32], ctx: &mut [f32], probs: &mut [f32], d: AttentionDims) {
    let (t, dim, dh) = (d.time, d.dim, d.head());
    let scale = 1.0 / (dh as f32).sqrt();
    let row = 3 * dim;
    for h in 0..d.heads {
        let (qo, ko, vo) = (h * dh, dim + h * dh, 2 * dim + h * dh);
        for i in 0..t {
            let p = &mut probs[(h * t + i) * t..][..t];
            let q = &qkv[i * row + qo..][..dh];
            let seen = d.seen(i);
            let mut largest = f32::NEG_INFINITY;
            for (j, pj) in p.iter_mut().enumerate().take(seen) {
                let k = &qkv[j * row + ko..][..dh];
                *pj = q.iter().zip(k).map(|(a, b)| a * b).sum::<f32>() * scale;
                largest = largest.max(*pj);
            }
            let mut total = 0.0;
            for pj in &mut p[..seen] {
                *pj = (*pj - largest).exp();
                total += *pj;
            }
            for pj in &mut p[..seen] {
                *pj /= total;
            }
            p[seen..].fill(0.0);
            let out = &mut ctx[i * dim + h * dh..][..dh];
            out.fill(0.0);
            for (j, &pj) in p.iter().enumerate().take(seen) {
                let v = &qkv[j * row + vo..][..dh];
                for (o, &vv) in out.iter_mut().zip(v) {
                    *o += pj * vv;
                }
            }
        }
    }
}

/// One sample's backward pass: adds the gradient of `qkv` into `dqkv` from `dctx`.
fn backward_sample(qkv: &[f32], probs: &[f32], dctx: &[f32], dqkv: &mut [f32], d: AttentionDims) {
    let (t, dim, dh) = (d.time, d.dim, d.head());
    let scale = 1.0 / (dh as f32).sqrt();
    let row = 3 * dim;
    let mut dp = vec![0.0; t];
    for h in 0..d.heads {
        let (qo, ko, vo) = (h * dh, dim + h * dh, 2 * dim + h * dh);
        for i in 0..t {
            let p = &probs[(h * t + i) * t..][..t];
            let g = &dctx[i * dim + h * dh..][..dh];
            let seen = d.seen(i);
            // dP[i, j] = dctx_i . v_j; dv_j += P[i, j] dctx_i.
            let mut weighted = 0.0;
            for j in 0..seen {
                let v = &qkv[j * row + vo..][..dh];
                dp[j] = g.iter().zip(v).map(|(a, b)| a * b).sum();
                weighted += p[j] * dp[j];
                let dv = &mut dqkv[j * row + vo..][..dh];
                for (o, &gg) in dv.iter_mut().zip(g) {
                    *o += p[j] * gg;
                }
            }
            // Through the softmax: dS[i, j] = P[i, j] (dP[i, j] - sum_k P[i, k] dP[i, k]).
            for j in 0..seen {
                let ds = p[j] * (dp[j] - weighted) * scale;
                if ds == 0.0 {
                    continue;
                }
                for c in 0..dh {
                    dqkv[i * row + qo + c] += ds * qkv[j * row + ko + c];
                    dqkv[j * row + ko + c] += ds * qkv[i * row + qo + c];
                }
            }
        }
    }
}

/// Attention of every head over `qkv` (`[batch, time * 3 * dim]`: each position's queries, keys
/// and values, each `dim` wide and split into heads). Returns the heads' outputs side by side,
/// `[batch, time * dim]`, and the attention probabilities `[batch, heads, time, time]`.
pub(crate) fn attention<T: Tape<f32, Cpu>>(dev: &Cpu, qkv: &Act, d: AttentionDims, tape: &mut T) -> (Act, Vec<f32>) {
    let (batch, t, dim) = (d.batch, d.time, d.dim);
    let xd = values(qkv);
    let mut ctx = vec![0.0; batch * t * dim];
    let mut probs = vec![0.0; batch * d.heads * t * t];
    xd.par_chunks(t * 3 * dim)
        .zip(ctx.par_chunks_mut(t * dim))
        .zip(probs.par_chunks_mut(d.heads * t * t))
        .for_each(|((x, c), p)| forward_sample(x, c, p, d));
    let out = dev.tensor_from_vec(ctx, (batch, t * dim));
    if T::OWNS_TAPE {
        let (x_g, out_g) = (qkv.ghost(), out.ghost());
        let kept = probs.clone();
        tape.add_backward_op(move |grads: &mut Grads| {
            let gy = grads.get_or_alloc_mut(&out_g)?.to_vec();
            let gx = grads.get_or_alloc_mut(&x_g)?;
            xd.par_chunks(t * 3 * dim)
                .zip(kept.par_chunks(d.heads * t * t))
                .zip(gy.par_chunks(t * dim))
                .zip(gx.par_chunks_mut(t * 3 * dim))
                .for_each(|(((x, p), g), dx)| backward_sample(x, p, g, dx, d));
            Ok(())
        });
    }
    (out, probs)
}
