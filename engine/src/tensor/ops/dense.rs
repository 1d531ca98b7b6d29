//! Dense (fully connected) layer over the last axis: `y = x W + b`, with `W` stored `[in, units]`.

use dfdx::prelude::*;

use super::{take_grad, values, Act, Flat, Grads};
use crate::tensor::gemm::{matmul, Stored};

/// Sizes of a dense layer application. `rows` counts every position of every sample.
#[derive(Clone, Copy, Debug)]
pub(crate) struct DenseDims {
    pub batch: usize,
    pub rows: usize,
    pub fan_in: usize,
    pub units: usize,
}

/// `y[rows, units] = x[rows, fan_in] W + b`. With `need_dx` false the input gets no gradient
/// (the first layer in training: nobody reads it).
pub(crate) fn dense<T: Tape<f32, Cpu>>(
    dev: &Cpu,
    x: &Act,
    w: &Flat,
    b: Option<&Flat>,
    d: DenseDims,
    need_dx: bool,
    tape: &mut T,
) -> Act {
    let DenseDims { batch, rows, fan_in, units } = d;
    let xd = values(x);
    let wd = values(w);
    let mut y = vec![0.0; rows * units];
    if let Some(b) = b {
        let bd = values(b);
        for row in y.chunks_exact_mut(units) {
            row.copy_from_slice(&bd);
        }
    }
    matmul(&mut y, &xd, Stored::Plain, &wd, Stored::Plain, (rows, fan_in, units), b.is_some());
    let out = dev.tensor_from_vec(y, (batch, rows / batch.max(1) * units));
    if T::OWNS_TAPE {
        let (x_g, w_g, b_g, out_g) = (x.ghost(), w.ghost(), b.map(Tensor::ghost), out.ghost());
        let dev = dev.clone();
        tape.add_backward_op(move |grads: &mut Grads| {
            let gy = take_grad(&dev, grads.get_or_alloc_mut(&out_g)?)?;
            // dW[in, units] = x^T gy
            let gw = grads.get_or_alloc_mut(&w_g)?;
            matmul(gw, &xd, Stored::Transposed, &gy, Stored::Plain, (fan_in, rows, units), true);
            if let Some(b_g) = &b_g {
                let gb = grads.get_or_alloc_mut(b_g)?;
                for row in gy.chunks_exact(units) {
                    super::add_into(gb, row);
                }
            }
            if need_dx {
                // dx[rows, in] = gy W^T
                let gx = grads.get_or_alloc_mut(&x_g)?;
                matmul(gx, &gy, Stored::Plain, &wd, Stored::Transposed, (rows, units, fan_in), true);
            }
            Ok(())
        });
    }
    out
}
