//! Max and average pooling over `size x size` windows, one image plane per rayon task.

use dfdx::prelude::*;
use rayon::prelude::*;

use super::{take_grad, values, Act, Grads};

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
    // Where each window's largest value is, for the backward pass (not needed without a tape).
    let mut argmax = vec![0u32; if T::OWNS_TAPE { d.planes() * plane_out } else { 0 }];
    if T::OWNS_TAPE {
        y.par_chunks_mut(plane_out).zip(argmax.par_chunks_mut(plane_out)).zip(xd.par_chunks(plane_in)).for_each(
            |((yp, ap), xp)| {
                if d.size == 2 && d.stride == 2 {
                    max_pool_plane_2x2(xp, yp, ap, &d);
                } else {
                    max_pool_plane(xp, yp, ap, &d);
                }
            },
        );
    } else {
        y.par_chunks_mut(plane_out).zip(xd.par_chunks(plane_in)).for_each(|(yp, xp)| max_pool_values(xp, yp, &d));
    }
    let out = dev.tensor_from_vec(y, (d.batch, d.channels * plane_out));
    if T::OWNS_TAPE {
        let (x_g, out_g) = (x.ghost(), out.ghost());
        let dev = dev.clone();
        tape.add_backward_op(move |grads: &mut Grads| {
            let gy = take_grad(&dev, grads.get_or_alloc_mut(&out_g)?)?;
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

/// Of two candidates `(value, index)`, the one max pooling keeps when `b` comes after `a` in
/// the window: the first largest, and a NaN wins and propagates, as in PyTorch.
fn later_wins(a: (f32, usize), b: (f32, usize)) -> (f32, usize) {
    if b.0 > a.0 || b.0.is_nan() {
        b
    } else {
        a
    }
}

/// One plane of max pooling, the values alone (a pass without a tape needs no positions).
fn max_pool_values(xp: &[f32], yp: &mut [f32], d: &PoolDims) {
    for (yv, (y0, x0)) in yp.iter_mut().zip(d.window_starts()) {
        let mut best = f32::NEG_INFINITY;
        for wy in y0..y0 + d.size {
            for &v in &xp[wy * d.width + x0..wy * d.width + x0 + d.size] {
                if v > best || v.is_nan() {
                    best = v;
                }
            }
        }
        *yv = best;
    }
}

/// One plane of max pooling, any window and stride.
fn max_pool_plane(xp: &[f32], yp: &mut [f32], ap: &mut [u32], d: &PoolDims) {
    for ((yv, av), (y0, x0)) in yp.iter_mut().zip(ap.iter_mut()).zip(d.window_starts()) {
        let mut best = (f32::NEG_INFINITY, y0 * d.width + x0);
        for wy in y0..y0 + d.size {
            for wx in x0..x0 + d.size {
                let at = wy * d.width + wx;
                best = later_wins(best, (xp[at], at));
            }
        }
        *yv = best.0;
        *av = u32::try_from(best.1).unwrap_or(u32::MAX);
    }
}

/// One plane of the common 2x2, stride 2 pooling as two rounds of pairs (the same choice as
/// [`max_pool_plane`]: the earlier pair wins ties): the four comparisons in a chain made
/// pooling an eighth of a LeNet step.
fn max_pool_plane_2x2(xp: &[f32], yp: &mut [f32], ap: &mut [u32], d: &PoolDims) {
    let w = d.width;
    for (oy, (yrow, arow)) in yp.chunks_exact_mut(d.out_width).zip(ap.chunks_exact_mut(d.out_width)).enumerate() {
        let (top, bottom) = (2 * oy * w, (2 * oy + 1) * w);
        let (r0, r1) = (&xp[top..top + w], &xp[bottom..bottom + w]);
        for (ox, (yv, av)) in yrow.iter_mut().zip(arow.iter_mut()).enumerate() {
            let i = 2 * ox;
            let upper = later_wins((r0[i], top + i), (r0[i + 1], top + i + 1));
            let lower = later_wins((r1[i], bottom + i), (r1[i + 1], bottom + i + 1));
            let best = later_wins(upper, lower);
            *yv = best.0;
            *av = u32::try_from(best.1).unwrap_or(u32::MAX);
        }
    }
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
        let dev = dev.clone();
        tape.add_backward_op(move |grads: &mut Grads| {
            let gy = take_grad(&dev, grads.get_or_alloc_mut(&out_g)?)?;
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

#[cfg(test)]
mod tests {
    use super::{max_pool_plane, max_pool_plane_2x2, max_pool_values, PoolDims};

    #[test]
    fn the_2x2_path_and_the_values_alone_choose_as_the_general_one_with_ties_and_nans() {
        // 5x7: odd sizes leave a row and a column out; few distinct values make ties common.
        let d =
            PoolDims { batch: 1, channels: 1, height: 5, width: 7, size: 2, stride: 2, out_height: 2, out_width: 3 };
        for seed in 0..200u32 {
            let x: Vec<f32> = (0..35u32)
                .map(|i| match (i.wrapping_mul(2_654_435_761) ^ seed.wrapping_mul(40_503)) % 7 {
                    0 => f32::NAN,
                    1 => f32::NEG_INFINITY,
                    v => (v % 3) as f32,
                })
                .collect();
            let (mut y1, mut a1) = (vec![0.0; 6], vec![0; 6]);
            let (mut y2, mut a2) = (vec![0.0; 6], vec![0; 6]);
            max_pool_plane(&x, &mut y1, &mut a1, &d);
            max_pool_plane_2x2(&x, &mut y2, &mut a2, &d);
            assert_eq!(a1, a2, "seed {seed}: {x:?}");
            assert!(y1.iter().zip(&y2).all(|(p, q)| p.to_bits() == q.to_bits()), "seed {seed}");
            // Without a tape only the values are worked out: the same values.
            let mut y3 = vec![0.0; 6];
            max_pool_values(&x, &mut y3, &d);
            assert!(y1.iter().zip(&y3).all(|(p, q)| p.to_bits() == q.to_bits()), "seed {seed}: values alone");
        }
    }
}
