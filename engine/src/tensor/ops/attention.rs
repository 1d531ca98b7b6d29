//! The core of multi-head self-attention as one op: from the projected queries, keys and values
//! (`[batch, time, 3 * dim]`, as one Dense layer gives them) to each head's weighted sums
//! (`[batch, time, dim]`), keeping the attention probabilities for the backward pass and for
//! looking at. Samples run in parallel (rayon).

use dfdx::prelude::*;
use rayon::prelude::*;

use super::{take_grad, values, Act, Grads};

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

/// One head's queries, keys and values of one sample, each `[time, head]` and contiguous (the
/// inner loops then run over contiguous slices and vectorise).
fn gather(qkv: &[f32], h: usize, d: AttentionDims) -> [Vec<f32>; 3] {
    let (t, dim, dh) = (d.time, d.dim, d.head());
    let row = 3 * dim;
    let part = |offset: usize| -> Vec<f32> {
        let mut out = Vec::with_capacity(t * dh);
        for i in 0..t {
            out.extend_from_slice(&qkv[i * row + offset + h * dh..][..dh]);
        }
        out
    };
    [part(0), part(dim), part(2 * dim)]
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// `dst += w * src`.
fn axpy(dst: &mut [f32], w: f32, src: &[f32]) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d += w * s;
    }
}

/// One sample's attention: fills `ctx` (`[time, dim]`) and `probs` (`[heads, time, time]`, zero
/// where masked) from `qkv` (`[time, 3 * dim]`).
fn forward_sample(qkv: &[f32], ctx: &mut [f32], probs: &mut [f32], d: AttentionDims) {
    let (t, dim, dh) = (d.time, d.dim, d.head());
    let scale = 1.0 / (dh as f32).sqrt();
    let mut out = vec![0.0; dh];
    for h in 0..d.heads {
        let [q, k, v] = gather(qkv, h, d);
        for i in 0..t {
            let p = &mut probs[(h * t + i) * t..][..t];
            let qi = &q[i * dh..][..dh];
            let seen = d.seen(i);
            let mut largest = f32::NEG_INFINITY;
            for (j, pj) in p.iter_mut().enumerate().take(seen) {
                *pj = dot(qi, &k[j * dh..][..dh]) * scale;
                largest = largest.max(*pj);
            }
            let mut total = 0.0;
            for pj in &mut p[..seen] {
                *pj = (*pj - largest).exp();
                total += *pj;
            }
            let inv = 1.0 / total;
            out.fill(0.0);
            for (j, pj) in p[..seen].iter_mut().enumerate() {
                *pj *= inv;
                axpy(&mut out, *pj, &v[j * dh..][..dh]);
            }
            p[seen..].fill(0.0);
            ctx[i * dim + h * dh..][..dh].copy_from_slice(&out);
        }
    }
}

/// One sample's backward pass: adds the gradient of `qkv` into `dqkv` from `dctx`.
fn backward_sample(qkv: &[f32], probs: &[f32], dctx: &[f32], dqkv: &mut [f32], d: AttentionDims) {
    let (t, dim, dh) = (d.time, d.dim, d.head());
    let scale = 1.0 / (dh as f32).sqrt();
    let row = 3 * dim;
    let mut dp = vec![0.0; t];
    let mut dq = vec![0.0; t * dh];
    let mut dk = vec![0.0; t * dh];
    let mut dv = vec![0.0; t * dh];
    for h in 0..d.heads {
        let [q, k, v] = gather(qkv, h, d);
        dq.fill(0.0);
        dk.fill(0.0);
        dv.fill(0.0);
        for i in 0..t {
            let p = &probs[(h * t + i) * t..][..t];
            let g = &dctx[i * dim + h * dh..][..dh];
            let seen = d.seen(i);
            // dP[i, j] = dctx_i . v_j; dv_j += P[i, j] dctx_i.
            let mut weighted = 0.0;
            for j in 0..seen {
                dp[j] = dot(g, &v[j * dh..][..dh]);
                weighted += p[j] * dp[j];
                axpy(&mut dv[j * dh..][..dh], p[j], g);
            }
            // Through the softmax: dS[i, j] = P[i, j] (dP[i, j] - sum_k P[i, k] dP[i, k]).
            let qi = &q[i * dh..][..dh];
            let dqi = &mut dq[i * dh..][..dh];
            for j in 0..seen {
                let ds = p[j] * (dp[j] - weighted) * scale;
                axpy(dqi, ds, &k[j * dh..][..dh]);
                axpy(&mut dk[j * dh..][..dh], ds, qi);
            }
        }
        for i in 0..t {
            for (offset, part) in [(0, &dq), (dim, &dk), (2 * dim, &dv)] {
                super::add_into(&mut dqkv[i * row + offset + h * dh..][..dh], &part[i * dh..][..dh]);
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
        let dev = dev.clone();
        tape.add_backward_op(move |grads: &mut Grads| {
            let gy = take_grad(&dev, grads.get_or_alloc_mut(&out_g)?)?;
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
