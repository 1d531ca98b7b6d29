//! Sequence layers without recurrence: `Embedding` (token ids to vectors), `PositionalEncoding`
//! (sinusoidal or learned) and `SequencePool` (a sequence to one vector).

use dfdx::prelude::*;

use super::Step;
use crate::graph::SequencePooling;
use crate::tensor::ops::{self, Act};

pub(super) fn embedding<T: Tape<f32, Cpu>>(step: &mut Step<'_, T>, vocab: usize, dim: usize) -> Act {
    ops::embedding(step.dev, step.inputs[0], step.params[0], (vocab, dim), step.tape)
}

pub(super) fn positional_encoding<T: Tape<f32, Cpu>>(step: &mut Step<'_, T>, learned: bool) -> Act {
    let codes = if learned {
        ops::Positions::Learned(step.params[0])
    } else {
        let (time, dim) = (step.in_shape()[0], step.in_shape()[1]);
        ops::Positions::Fixed(ops::sinusoids(time, dim))
    };
    ops::add_positions(step.dev, step.inputs[0], &codes, step.tape)
}

pub(super) fn sequence_pool<T: Tape<f32, Cpu>>(step: &mut Step<'_, T>, mode: SequencePooling) -> Act {
    let (time, features) = (step.in_shape()[0], step.in_shape()[1]);
    ops::pool_sequence(step.dev, step.inputs[0], (time, features), mode, step.tape)
}
