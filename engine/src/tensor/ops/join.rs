//! Layers that join several inputs, as one op each: the sum of the inputs (Add) and their
//! concatenation along the first per-sample axis (Concat).
//!
//! One op for all the inputs, rather than a chain of two-input ops, keeps memory linear in the
//! number of inputs (a chain of concatenations keeps every partial result on the tape, which grew
//! with the square of the fan-in) and takes the same tensor twice without trouble: each input's
//! gradient is added in turn, so a tensor wired into two ports simply gets both shares.

use dfdx::prelude::*;

use super::{take_grad, values, Act, Grads};

/// The element-wise sum of `inputs` (all of one shape).
pub(crate) fn sum<T: Tape<f32, Cpu>>(dev: &Cpu, inputs: &[&Act], tape: &mut T) -> Act {
    let shape = *inputs[0].shape();
    let mut y = values(inputs[0]);
    for x in &inputs[1..] {
        super::add_into(&mut y, &values(*x));
    }
    let out = dev.tensor_from_vec(y, shape);
    if T::OWNS_TAPE {
        let ghosts: Vec<_> = inputs.iter().map(|x| x.ghost()).collect();
        let out_g = out.ghost();
        let dev = dev.clone();
        tape.add_backward_op(move |grads: &mut Grads| {
            let gy = take_grad(&dev, grads.get_or_alloc_mut(&out_g)?)?;
            for x_g in &ghosts {
                super::add_into(grads.get_or_alloc_mut(x_g)?, &gy);
            }
            Ok(())
        });
    }
    out
}

/// Each sample's values of `inputs`, one after the other: a concatenation along the first
/// per-sample axis (the others match, so each sample's values of one input are contiguous).
pub(crate) fn concat<T: Tape<f32, Cpu>>(dev: &Cpu, inputs: &[&Act], tape: &mut T) -> Act {
    let batch = inputs[0].shape().0;
    let widths: Vec<usize> = inputs.iter().map(|x| x.shape().1).collect();
    let total: usize = widths.iter().sum();
    let mut y = vec![0.0; batch * total];
    let mut offset = 0;
    for (x, &width) in inputs.iter().zip(&widths) {
        let xd = values(*x);
        for (row, src) in y.chunks_exact_mut(total).zip(xd.chunks_exact(width)) {
            row[offset..offset + width].copy_from_slice(src);
        }
        offset += width;
    }
    let out = dev.tensor_from_vec(y, (batch, total));
    if T::OWNS_TAPE {
        let ghosts: Vec<_> = inputs.iter().map(|x| x.ghost()).collect();
        let out_g = out.ghost();
        let dev = dev.clone();
        tape.add_backward_op(move |grads: &mut Grads| {
            let gy = take_grad(&dev, grads.get_or_alloc_mut(&out_g)?)?;
            let mut offset = 0;
            for (x_g, &width) in ghosts.iter().zip(&widths) {
                let gx = grads.get_or_alloc_mut(x_g)?;
                for (dst, row) in gx.chunks_exact_mut(width).zip(gy.chunks_exact(total)) {
                    super::add_into(dst, &row[offset..offset + width]);
                }
                offset += width;
            }
            Ok(())
        });
    }
    out
}
