//! Recurrent layers: `RNN`, `LSTM` and `GRU`, one or two directions, the whole sequence of
//! states or the last one. The loop and its backward pass are one op (`ops::recurrent`); a
//! recording pass also keeps the states over time (`<id>.hidden`, and the gates of an LSTM or a
//! GRU) for the inspection cells.

use dfdx::prelude::*;

use super::Step;
use crate::graph::{Cell, Recurrent};
use crate::tensor::ops::{self, Act};

pub(super) fn recurrent<T: Tape<f32, Cpu>>(step: &mut Step<'_, T>, cell: Cell, r: Recurrent) -> Act {
    let (time, features) = (step.in_shape()[0], step.in_shape()[1]);
    let dims = ops::RecurrentDims {
        batch: step.batch,
        time,
        features,
        hidden: r.hidden,
        cell,
        return_sequences: r.return_sequences,
    };
    let p = &step.params;
    let mut directions =
        vec![ops::Direction { weight_ih: p[0], weight_hh: p[1], bias_ih: p[2], bias_hh: p[3], reverse: false }];
    if r.bidirectional {
        directions.push(ops::Direction {
            weight_ih: p[4],
            weight_hh: p[5],
            bias_ih: p[6],
            bias_hh: p[7],
            reverse: true,
        });
    }
    let record = step.mode.record;
    let (y, states) = ops::recurrent(step.dev, step.inputs[0], &directions, dims, step.need_dx, record, step.tape);
    let width = directions.len() * r.hidden;
    for (name, values) in states {
        step.keep(name, vec![time, width], values);
    }
    y
}
