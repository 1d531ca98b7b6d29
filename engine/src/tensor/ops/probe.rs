//! A probe on one node's output for attribution: it hands on the node's values (or values given
//! in their place) and, on the way back, keeps the gradient that reaches them. Ops take their
//! output's gradient out of the tape (see `take_grad`), so this is the one way to read the
//! gradient with respect to a node's output after a backward pass.

use std::sync::{Arc, Mutex, PoisonError};

use dfdx::prelude::*;

use super::{add_into, take_grad, values, Act, Grads};

/// What a probe saw: the values it handed on, and the gradient that reached them.
#[derive(Debug, Default)]
pub(crate) struct Caught {
    pub values: Vec<f32>,
    pub grad: Vec<f32>,
}

pub(crate) type CaughtSlot = Arc<Mutex<Caught>>;

/// `y = x`, or `y = replacement` (then nothing flows back into `x`), keeping `y` and `dL/dy`.
/// With `seed`, the backward pass adds it to `dL/dy` (so `x` gets the gradient of `seed . y`
/// besides the loss's: a unit's own activation can be differentiated).
pub(crate) fn probe<T: Tape<f32, Cpu>>(
    dev: &Cpu,
    x: &Act,
    (replacement, seed): (Option<&[f32]>, Option<&[f32]>),
    slot: &CaughtSlot,
    tape: &mut T,
) -> Act {
    let y = replacement.map_or_else(|| values(x), <[f32]>::to_vec);
    slot.lock().unwrap_or_else(PoisonError::into_inner).values.clone_from(&y);
    let out = dev.tensor_from_vec(y, *x.shape());
    if T::OWNS_TAPE {
        let (x_g, out_g) = (x.ghost(), out.ghost());
        let (dev, slot, replaced) = (dev.clone(), Arc::clone(slot), replacement.is_some());
        let seed = seed.map(<[f32]>::to_vec);
        tape.add_backward_op(move |grads: &mut Grads| {
            let mut gy = take_grad(&dev, grads.get_or_alloc_mut(&out_g)?)?;
            if let Some(seed) = &seed {
                add_into(&mut gy, seed);
            }
            if !replaced {
                add_into(grads.get_or_alloc_mut(&x_g)?, &gy);
            }
            slot.lock().unwrap_or_else(PoisonError::into_inner).grad = gy.to_vec();
            Ok(())
        });
    }
    out
}
