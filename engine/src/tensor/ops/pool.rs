//! Max and average pooling over `size x size` windows, one image plane per rayon task.

use dfdx::prelude::*;
use rayon::prelude::*;

use super::{values, Act, Grads};

/// Sizes of one pooling.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PoolDims {
    pub batch: usize,
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    pub size: usize,
    pub stride: usize,
    pub out_height: usize,
    pub out_width: usize,
}

impl PoolDims {
    fn planes(&self) -> usize {
        self.batch * self.channels
    }
    fn window_starts(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        (0..self.out_height).flat_map(move |oy| (0..self.out_width).map(move |ox| (oy * self.stride, ox * self.stride)))
    }
}

/// The largest value in each window; the gradient goes to the first largest element.
pub(crate) fn max_pool2d<T: Tape<f32, Cpu>>(dev: &Cpu, x: &Act, d: PoolDims, tape: &mut T) -> Act {
    let (plane_in, plane_out) = (d.height * d.width, d.out_height * d.out_width);
    let xd = values(x);
    let mut y = vec![0.0; d.planes() * plane_out];
    let mut argmax = vec![0u32; d.planes() * plane_out];
    y.par_chunks_mut(plane_out).zip(argmax.par_chunks_mut(plane_out)).zip(xd.par_chunks(plane_in)).for_each(
        |((yp, ap), xp)| {
            for ((yv, av), (y0, x0)) in yp.iter_mut().zip(ap.iter_mut()).zip(d.window_starts()) {
                let mut best = f32::NEG_INFINITY;
                let mut best_at = y0 * d.width + x0;
                for wy in y0..y0 + d.size {
                    for wx in x0..x0 + d.size {
                        let at = wy * d.width + wx;
                        // A NaN wins and propagates, as in PyTorch.
                        if xp[at] > best || xp[at].is_nan() {
                            best = xp[at];
                            best_at = at;
                        }
                    }
                }
                *yv = best;
                *av = u32::try_from(best_at).unwrap_or(u32::MAX);
            }
        },
    );
    let out = dev.tensor_from_vec(y, (d.batch, d.channels * plane_out));
    if T::OWNS_TAPE {
        let (x_g, out_g) = (x.ghost(), out.ghost());
        tape.add_backward_op(move |grads: &mut Grads| {
            let gy = grads.get_or_alloc_mut(&out_g)?.to_vec();
            let gx = grads.get_or_alloc_mut(&x_g)?;
            gx.par_chunks_mut(plane_in).zip(gy.par_chunks(plane_out)).zip(argmax.par_chunks(plane_out)).for_each(
                |((gxp, gyp), ap)| {
                    for (g, &a) in gyp.iter().zip(ap) {
                        gxp[a as usize] += g;
                    }
                },
            );
            Ok(())
        });
    }
    out
}

/// The mean of each window.
pub(crate) fn avg_pool2d<T: Tape<f32, Cpu>>(dev: &Cpu, x: &Act, d: PoolDims, tape: &mut T) -> Act {
    let (plane_in, plane_out) = (d.height * d.width, d.out_height * d.out_width);
    let inv_area = 1.0 / (d.size * d.size) as f32;
    let xd = values(x);
    let mut y = vec![0.0; d.planes() * plane_out];
    y.par_chunks_mut(plane_out).zip(xd.par_chunks(plane_in)).for_each(|(yp, xp)| {
        for (yv, (y0, x0)) in yp.iter_mut().zip(d.window_starts()) {
            let mut sum = 0.0;
            for wy in y0..y0 + d.size {
                sum += xp[wy * d.width + x0..wy * d.width + x0 + d.size].iter().sum::<f32>();
            }
            *yv = sum * inv_area;
        }
    });
    let out = dev.tensor_from_vec(y, (d.batch, d.channels * plane_out));
    if T::OWNS_TAPE {
        let (x_g, out_g) = (x.ghost(), out.ghost());
        tape.add_backward_op(move |grads: &mut Grads| {
            let gy = grads.get_or_alloc_mut(&out_g)?.to_vec();
            let gx = grads.get_or_alloc_mut(&x_g)?;
            gx.par_chunks_mut(plane_in).zip(gy.par_chunks(plane_out)).for_each(|(gxp, gyp)| {
                for (g, (y0, x0)) in gyp.iter().zip(d.window_starts()) {
                    let share = g * inv_area;
                    for wy in y0..y0 + d.size {
                        for v in &mut gxp[wy * d.width + x0..wy * d.width + x0 + d.size] {
                            *v += share;
                        }
                    }
                }
            });
            Ok(())
        });
    }
    out
}
