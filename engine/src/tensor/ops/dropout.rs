//! Inverted dropout with a mask drawn from a seeded generator, so a training step is repeatable.

use dfdx::prelude::*;
use rand::{Rng as _, SeedableRng as _};

use super::{take_grad, values, Act, Grads};

/// Zeroes each value with probability `rate` and scales the kept ones by `1 / (1 - rate)`.
pub(crate) fn dropout<T: Tape<f32, Cpu>>(dev: &Cpu, x: &Act, rate: f32, seed: u64, tape: &mut T) -> Act {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let keep_scale = 1.0 / (1.0 - rate);
    let mask: Vec<f32> =
        (0..x.shape().num_elements()).map(|_| if rng.gen::<f32>() < rate { 0.0 } else { keep_scale }).collect();
    let y: Vec<f32> = values(x).iter().zip(&mask).map(|(v, m)| v * m).collect();
    let out = dev.tensor_from_vec(y, *x.shape());
    if T::OWNS_TAPE {
        let (x_g, out_g) = (x.ghost(), out.ghost());
        let dev = dev.clone();
        tape.add_backward_op(move |grads: &mut Grads| {
            let gy = take_grad(&dev, grads.get_or_alloc_mut(&out_g)?)?;
            let gx = grads.get_or_alloc_mut(&x_g)?;
            for ((g, dy), m) in gx.iter_mut().zip(gy.iter()).zip(&mask) {
                *g += dy * m;
            }
            Ok(())
        });
    }
    out
}
