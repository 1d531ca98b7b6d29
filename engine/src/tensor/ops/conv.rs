//! 2-D convolution as im2col + gemm.
//!
//! Per sample (one rayon task each), the input patches are unfolded into `col[c*k*k, oh*ow]` and
//! the output is one product `y[f, oh*ow] = W[f, c*k*k] col`. The columns are kept for the
//! backward pass when a tape records. One product over the whole batch was measured too: its
//! weight gradient is a long thin sum (`k` = batch x positions) that gemm neither parallelises
//! nor runs fast (6 GFLOP/s against 43 for the per-sample products), and the step got slower.

use dfdx::prelude::*;
use rayon::prelude::*;

use super::{add_into, take_grad, values, Act, Flat, Grads};
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

/// Appends one tap's values for one sample to `col`: `x[c, iy, ix]` for every output position
/// in order, 0 in the padding. Appending (rather than zero-filling a buffer and copying in) writes
/// each value once, which matters: the unfolding is most of a small conv's memory traffic.
fn unfold_tap(x: &[f32], col: &mut Vec<f32>, d: &ConvDims, tap: Tap) {
    let ow = d.out_width;
    for_each_output_row(d, tap, |_, iy, (lo, hi), first| {
        let Some(iy) = iy else {
            col.resize(col.len() + ow, 0.0);
            return;
        };
        let src = &x[(tap.channel * d.height + iy) * d.width..(tap.channel * d.height + iy + 1) * d.width];
        if lo > 0 {
            col.resize(col.len() + lo, 0.0);
        }
        // A tap whose columns all fall in the padding reads nothing (and `first` lies past the
        // row then, so it must not be sliced).
        if hi > lo && d.stride == 1 {
            col.extend_from_slice(&src[first..first + hi - lo]);
        } else if hi > lo {
            col.extend((first..).step_by(d.stride).take(hi - lo).map(|ix| src[ix]));
        }
        if hi < ow {
            col.resize(col.len() + ow - hi, 0.0);
        }
    });
}

/// The transpose of [`unfold_tap`]: adds one tap's gradients back onto one sample's input gradient.
fn fold_tap_add(dcol: &[f32], dx: &mut [f32], d: &ConvDims, tap: Tap) {
    let ow = d.out_width;
    for_each_output_row(d, tap, |oy, iy, (lo, hi), first| {
        let Some(iy) = iy.filter(|_| hi > lo) else { return };
        let src = &dcol[oy * ow + lo..oy * ow + hi];
        let dst = &mut dx[(tap.channel * d.height + iy) * d.width..(tap.channel * d.height + iy + 1) * d.width];
        if d.stride == 1 {
            add_into(&mut dst[first..first + hi - lo], src);
        } else {
            for (g, ix) in src.iter().zip((first..).step_by(d.stride)) {
                dst[ix] += g;
            }
        }
    });
}

/// Samples per task when summing weight gradients over the batch: fixed groups, summed in order,
/// keep the result bit-identical whatever the thread count.
const GROUP_SAMPLES: usize = 8;

/// Unfolds one sample into `col[c*k*k, positions]`.
fn im2col(x: &[f32], d: &ConvDims) -> Vec<f32> {
    let mut col = Vec::with_capacity(d.patch_len() * d.positions());
    for row in 0..d.patch_len() {
        unfold_tap(x, &mut col, d, Tap::of_row(row, d.kernel));
    }
    debug_assert_eq!(col.len(), d.patch_len() * d.positions(), "im2col fills every value once");
    col
}

/// Adds one sample's column gradients `dcol[c*k*k, positions]` back onto its input gradient.
fn col2im_add(dcol: &[f32], dx: &mut [f32], d: &ConvDims) {
    for (row, src) in dcol.chunks_exact(d.positions()).enumerate() {
        fold_tap_add(src, dx, d, Tap::of_row(row, d.kernel));
    }
}

/// `y[b, f, oy, ox] = bias[f] + sum over c, ky, kx of W[f, c, ky, kx] x[b, c, oy*s+ky-p, ox*s+kx-p]`.
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
    let xd = values(x);
    let wd = values(w);
    let bd = values(b);
    let mut y = vec![0.0; d.batch * out_len];
    let cols: Vec<Vec<f32>> = y
        .par_chunks_mut(out_len)
        .zip(xd.par_chunks(in_len))
        .map(|(yb, xb)| {
            let col = im2col(xb, &d);
            for (row, bias) in yb.chunks_exact_mut(positions).zip(&bd) {
                row.fill(*bias);
            }
            // y_b[f, positions] = W[f, patch] col_b
            matmul(yb, &wd, Stored::Plain, &col, Stored::Plain, (d.filters, patch, positions), true);
            col
        })
        .collect();
    drop(xd);
    let out = dev.tensor_from_vec(y, (d.batch, out_len));
    if T::OWNS_TAPE {
        let (x_g, w_g, b_g, out_g) = (x.ghost(), w.ghost(), b.ghost(), out.ghost());
        let dev = dev.clone();
        tape.add_backward_op(move |grads: &mut Grads| {
            let gy = take_grad(&dev, grads.get_or_alloc_mut(&out_g)?)?;
            // dW^T[patch, f] = sum over samples of col_b gy_b^T. Written this way round, gemm
            // reads the columns as they lie; dW = gy_b col_b^T made it repack every sample's
            // columns (a transposing copy as large as the unfolding itself).
            let partials: Vec<Vec<f32>> = gy
                .par_chunks(out_len * GROUP_SAMPLES)
                .zip(cols.par_chunks(GROUP_SAMPLES))
                .map(|(gys, cs)| {
                    let mut acc = vec![0.0; patch * d.filters];
                    for (gyb, col) in gys.chunks_exact(out_len).zip(cs) {
                        matmul(
                            &mut acc,
                            col,
                            Stored::Plain,
                            gyb,
                            Stored::Transposed,
                            (patch, positions, d.filters),
                            true,
                        );
                    }
                    acc
                })
                .collect();
            let gw = grads.get_or_alloc_mut(&w_g)?;
            for p in &partials {
                for (r, row) in p.chunks_exact(d.filters).enumerate() {
                    for (f, v) in row.iter().enumerate() {
                        gw[f * patch + r] += v;
                    }
                }
            }
            let gb = grads.get_or_alloc_mut(&b_g)?;
            for gyb in gy.chunks_exact(out_len) {
                for (g, row) in gb.iter_mut().zip(gyb.chunks_exact(positions)) {
                    *g += row.iter().sum::<f32>();
                }
            }
            if need_dx {
                drop(cols);
                let gx = grads.get_or_alloc_mut(&x_g)?;
                gx.par_chunks_mut(in_len).zip(gy.par_chunks(out_len)).for_each(|(gxb, gyb)| {
                    // dcol[patch, positions] = W^T gy_b
                    let mut dcol = vec![0.0; patch * positions];
                    matmul(
                        &mut dcol,
                        &wd,
                        Stored::Transposed,
                        gyb,
                        Stored::Plain,
                        (patch, d.filters, positions),
                        false,
                    );
                    col2im_add(&dcol, gxb, &d);
                });
            }
            Ok(())
        });
    }
    out
}
