//! 2-D convolution as im2col + gemm.
//!
//! The whole batch's input patches are unfolded into `cols[c*k*k, batch*oh*ow]` (one rayon task
//! per kernel tap), so that the forward pass and both gradients are each one large product.
//! Per-sample products were tried first: ~400 small gemm calls a LeNet step cost more in call
//! overhead than the arithmetic. The columns are kept for the backward pass when a tape records.

use dfdx::prelude::*;
use rayon::prelude::*;

use super::{values, Act, Flat, Grads};
use crate::tensor::gemm::{matmul, Stored};

/// Sizes of one convolution.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ConvDims {
    pub batch: usize,
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    pub filters: usize,
    pub kernel: usize,
    pub stride: usize,
    pub padding: usize,
    pub out_height: usize,
    pub out_width: usize,
}

impl ConvDims {
    fn patch_len(&self) -> usize {
        self.channels * self.kernel * self.kernel
    }
    fn positions(&self) -> usize {
        self.out_height * self.out_width
    }
    fn in_len(&self) -> usize {
        self.channels * self.height * self.width
    }
    fn out_len(&self) -> usize {
        self.filters * self.positions()
    }
}

/// For one kernel tap column `kx`, the output columns `[lo, hi)` whose input column
/// `ox * stride + kx - padding` lies inside the image (outside them is padding).
fn tap_columns(d: &ConvDims, kx: usize) -> (usize, usize) {
    let lo = d.padding.saturating_sub(kx).div_ceil(d.stride).min(d.out_width);
    let hi =
        if d.width + d.padding > kx { ((d.width + d.padding - kx - 1) / d.stride + 1).min(d.out_width) } else { 0 };
    (lo, hi.max(lo))
}

/// One kernel tap: which channel and offset a row of the unfolding reads.
#[derive(Clone, Copy)]
struct Tap {
    channel: usize,
    ky: usize,
    kx: usize,
}

impl Tap {
    fn of_row(row: usize, k: usize) -> Self {
        Self { channel: row / (k * k), ky: row / k % k, kx: row % k }
    }
}

/// Visits each output row `oy` of one tap: `f(oy, input row or None for padding, [lo, hi), first
/// input column)`.
fn for_each_output_row(d: &ConvDims, tap: Tap, mut f: impl FnMut(usize, Option<usize>, (usize, usize), usize)) {
    let (lo, hi) = tap_columns(d, tap.kx);
    let first = (lo * d.stride + tap.kx).saturating_sub(d.padding);
    for oy in 0..d.out_height {
        let iy = (oy * d.stride + tap.ky).checked_sub(d.padding).filter(|&iy| iy < d.height);
        f(oy, iy, (lo, hi), first);
    }
}

/// Writes one tap's values for one sample: `dst[oy * ow + ox] = x[c, iy, ix]` (0 in the padding).
fn unfold_tap(x: &[f32], dst: &mut [f32], d: &ConvDims, tap: Tap) {
    let ow = d.out_width;
    for_each_output_row(d, tap, |oy, iy, (lo, hi), first| {
        let dst = &mut dst[oy * ow..(oy + 1) * ow];
        let Some(iy) = iy else {
            dst.fill(0.0);
            return;
        };
        dst[..lo].fill(0.0);
        dst[hi..].fill(0.0);
        let src = &x[(tap.channel * d.height + iy) * d.width..(tap.channel * d.height + iy + 1) * d.width];
        if d.stride == 1 {
            dst[lo..hi].copy_from_slice(&src[first..first + hi - lo]);
        } else {
            for (v, ix) in dst[lo..hi].iter_mut().zip((first..).step_by(d.stride)) {
                *v = src[ix];
            }
        }
    });
}

/// The transpose of [`unfold_tap`]: adds one tap's gradients back onto one sample's input gradient.
fn fold_tap_add(dcol: &[f32], dx: &mut [f32], d: &ConvDims, tap: Tap) {
    let ow = d.out_width;
    for_each_output_row(d, tap, |oy, iy, (lo, hi), first| {
        let Some(iy) = iy else { return };
        let src = &dcol[oy * ow + lo..oy * ow + hi];
        let dst = &mut dx[(tap.channel * d.height + iy) * d.width..(tap.channel * d.height + iy + 1) * d.width];
        if d.stride == 1 {
            super::add_into(&mut dst[first..first + hi - lo], src);
        } else {
            for (g, ix) in src.iter().zip((first..).step_by(d.stride)) {
                dst[ix] += g;
            }
        }
    });
}

/// Moves `[outer, inner, len]` blocks to `[inner, outer, len]`.
fn swap_outer_axes(src: &[f32], outer: usize, inner: usize, len: usize) -> Vec<f32> {
    let mut out = vec![0.0; src.len()];
    out.par_chunks_mut(outer * len).enumerate().for_each(|(i, dst)| {
        for (o, chunk) in dst.chunks_exact_mut(len).enumerate() {
            chunk.copy_from_slice(&src[(o * inner + i) * len..(o * inner + i + 1) * len]);
        }
    });
    out
}

/// `y[b, f, oy, ox] = bias[f] + sum over c, ky, kx of W[f, c, ky, kx] x[b, c, oy*s+ky-p, ox*s+kx-p]`.
///
/// The whole batch is unfolded into `cols[c*k*k, batch*positions]`, so each pass is one large
/// product (`Y[f, batch*positions] = W cols`) that gemm spreads over every core.
pub(crate) fn conv2d<T: Tape<f32, Cpu>>(
    dev: &Cpu,
    x: &Act,
    w: &Flat,
    b: &Flat,
    d: ConvDims,
    need_dx: bool,
    tape: &mut T,
) -> Act {
    let (patch, positions, in_len, out_len) = (d.patch_len(), d.positions(), d.in_len(), d.out_len());
    let wide = d.batch * positions;
    let xd = values(x);
    let wd = values(w);
    let bd = values(b);
    let mut cols = vec![0.0; patch * wide];
    cols.par_chunks_mut(wide).enumerate().for_each(|(row, dst)| {
        let tap = Tap::of_row(row, d.kernel);
        for (xb, db) in xd.chunks_exact(in_len).zip(dst.chunks_exact_mut(positions)) {
            unfold_tap(xb, db, &d, tap);
        }
    });
    drop(xd);
    // y_fb[f, batch, positions], bias first, then the product added on.
    let mut y_fb = vec![0.0; d.filters * wide];
    for (row, bias) in y_fb.chunks_exact_mut(wide).zip(&bd) {
        row.fill(*bias);
    }
    matmul(&mut y_fb, &wd, Stored::Plain, &cols, Stored::Plain, (d.filters, patch, wide), true);
    let y = swap_outer_axes(&y_fb, d.filters, d.batch, positions);
    drop(y_fb);
    let out = dev.tensor_from_vec(y, (d.batch, out_len));
    if T::OWNS_TAPE {
        let (x_g, w_g, b_g, out_g) = (x.ghost(), w.ghost(), b.ghost(), out.ghost());
        tape.add_backward_op(move |grads: &mut Grads| {
            let gy = grads.get_or_alloc_mut(&out_g)?.to_vec();
            let gy_fb = swap_outer_axes(&gy, d.batch, d.filters, positions);
            drop(gy);
            // dW[f, patch] = gy_fb[f, wide] cols^T
            let gw = grads.get_or_alloc_mut(&w_g)?;
            matmul(gw, &gy_fb, Stored::Plain, &cols, Stored::Transposed, (d.filters, wide, patch), true);
            let gb = grads.get_or_alloc_mut(&b_g)?;
            for (g, row) in gb.iter_mut().zip(gy_fb.chunks_exact(wide)) {
                *g += row.iter().sum::<f32>();
            }
            if need_dx {
                drop(cols);
                // dcols[patch, wide] = W^T gy_fb, then folded back sample by sample.
                let mut dcols = vec![0.0; patch * wide];
                matmul(&mut dcols, &wd, Stored::Transposed, &gy_fb, Stored::Plain, (patch, d.filters, wide), false);
                let gx = grads.get_or_alloc_mut(&x_g)?;
                gx.par_chunks_mut(in_len).enumerate().for_each(|(sample, gxb)| {
                    for (row, dcol) in dcols.chunks_exact(wide).enumerate() {
                        let tap = Tap::of_row(row, d.kernel);
                        fold_tap_add(&dcol[sample * positions..(sample + 1) * positions], gxb, &d, tap);
                    }
                });
            }
            Ok(())
        });
    }
    out
}
