//! 2-D convolution as im2col + gemm, one sample per rayon task.
//!
//! Per sample, the input patches are unfolded into `col[c*k*k, oh*ow]` so that the output is one
//! product `y[f, oh*ow] = W[f, c*k*k] col`. The columns are kept for the backward pass when a tape
//! records, which saves unfolding again.

use dfdx::prelude::*;
use rayon::prelude::*;

use super::{add_into, values, Act, Flat, Grads};
use crate::tensor::gemm::{matmul, Stored, Threads};

/// Samples per task when summing weight gradients over the batch.
const GROUP_SAMPLES: usize = 8;

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

/// Visits every (patch row, output position, input index) of the unfolding; `None` is padding.
fn for_each_tap(d: &ConvDims, mut f: impl FnMut(usize, Option<usize>)) {
    let (k, s, p) = (d.kernel, d.stride, d.padding);
    let positions = d.positions();
    for c in 0..d.channels {
        for ky in 0..k {
            for kx in 0..k {
                let row = (c * k + ky) * k + kx;
                for oy in 0..d.out_height {
                    let iy = (oy * s + ky).checked_sub(p).filter(|&iy| iy < d.height);
                    for ox in 0..d.out_width {
                        let ix = (ox * s + kx).checked_sub(p).filter(|&ix| ix < d.width);
                        let at = row * positions + oy * d.out_width + ox;
                        f(at, iy.zip(ix).map(|(iy, ix)| (c * d.height + iy) * d.width + ix));
                    }
                }
            }
        }
    }
}

fn im2col(x: &[f32], col: &mut [f32], d: &ConvDims) {
    for_each_tap(d, |at, src| col[at] = src.map_or(0.0, |i| x[i]));
}

fn col2im_add(dcol: &[f32], dx: &mut [f32], d: &ConvDims) {
    for_each_tap(d, |at, src| {
        if let Some(i) = src {
            dx[i] += dcol[at];
        }
    });
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
    let mut cols = vec![0.0; d.batch * patch * positions];
    let mut y = vec![0.0; d.batch * out_len];
    cols.par_chunks_mut(patch * positions).zip(y.par_chunks_mut(out_len)).zip(xd.par_chunks(in_len)).for_each(
        |((col, yb), xb)| {
            im2col(xb, col, &d);
            for (row, bias) in yb.chunks_exact_mut(positions).zip(&bd) {
                row.fill(*bias);
            }
            matmul(yb, &wd, Stored::Plain, col, Stored::Plain, (d.filters, patch, positions), true, Threads::One);
        },
    );
    drop(xd);
    let out = dev.tensor_from_vec(y, (d.batch, out_len));
    if T::OWNS_TAPE {
        let (x_g, w_g, b_g, out_g) = (x.ghost(), w.ghost(), b.ghost(), out.ghost());
        tape.add_backward_op(move |grads: &mut Grads| {
            let gy = grads.get_or_alloc_mut(&out_g)?.to_vec();
            // dW[f, patch] = sum over samples of gy_b[f, positions] col_b^T. Fixed groups of
            // samples, summed in order, keep the result bit-identical whatever the thread count.
            let group = GROUP_SAMPLES;
            let partials: Vec<Vec<f32>> = gy
                .par_chunks(out_len * group)
                .zip(cols.par_chunks(patch * positions * group))
                .map(|(gys, cs)| {
                    let mut acc = vec![0.0; d.filters * patch];
                    for (gyb, col) in gys.chunks_exact(out_len).zip(cs.chunks_exact(patch * positions)) {
                        matmul(
                            &mut acc,
                            gyb,
                            Stored::Plain,
                            col,
                            Stored::Transposed,
                            (d.filters, positions, patch),
                            true,
                            Threads::One,
                        );
                    }
                    acc
                })
                .collect();
            let mut gw_sum = vec![0.0; d.filters * patch];
            for p in &partials {
                add_into(&mut gw_sum, p);
            }
            add_into(grads.get_or_alloc_mut(&w_g)?, &gw_sum);
            let gb = grads.get_or_alloc_mut(&b_g)?;
            for gyb in gy.chunks_exact(out_len) {
                for (g, row) in gb.iter_mut().zip(gyb.chunks_exact(positions)) {
                    *g += row.iter().sum::<f32>();
                }
            }
            if need_dx {
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
                        Threads::One,
                    );
                    col2im_add(&dcol, gxb, &d);
                });
            }
            Ok(())
        });
    }
    out
}
