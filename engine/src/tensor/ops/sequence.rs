//! Sequence ops: looking token ids up in an embedding table, adding position codes, and pooling
//! a sequence into one vector.

use dfdx::prelude::*;

use super::{add_into, take_grad, values, Act, Flat, Grads};
use crate::data::token_id;
use crate::graph::SequencePooling;

/// Row `id` of `table` (`[vocab, dim]`) for every token id of `ids` (`[batch, time]`, ids stored
/// as numbers): `[batch, time * dim]`. The ids get no gradient; an id outside the table (the batch
/// check refuses those first) gives zeros.
pub(crate) fn embedding<T: Tape<f32, Cpu>>(
    dev: &Cpu,
    ids: &Act,
    table: &Flat,
    (vocab, dim): (usize, usize),
    tape: &mut T,
) -> Act {
    let (batch, time) = *ids.shape();
    let rows: Vec<Option<usize>> = values(ids).iter().map(|&v| token_id(v, vocab)).collect();
    let w = values(table);
    let mut y = vec![0.0; batch * time * dim];
    for (out, row) in y.chunks_exact_mut(dim).zip(&rows) {
        if let Some(r) = row {
            out.copy_from_slice(&w[r * dim..][..dim]);
        }
    }
    let out = dev.tensor_from_vec(y, (batch, time * dim));
    if T::OWNS_TAPE {
        let (w_g, out_g) = (table.ghost(), out.ghost());
        let dev = dev.clone();
        tape.add_backward_op(move |grads: &mut Grads| {
            let gy = take_grad(&dev, grads.get_or_alloc_mut(&out_g)?)?;
            let gw = grads.get_or_alloc_mut(&w_g)?;
            for (g, row) in gy.chunks_exact(dim).zip(&rows) {
                if let Some(r) = row {
                    add_into(&mut gw[r * dim..][..dim], g);
                }
            }
            Ok(())
        });
    }
    out
}

/// The sinusoidal position codes of Vaswani et al. (2017), `[time, dim]`:
/// `PE[t, 2i] = sin(t / 10000^(2i/dim))`, `PE[t, 2i+1] = cos(t / 10000^(2i/dim))`.
pub(crate) fn sinusoids(time: usize, dim: usize) -> Vec<f32> {
    let mut pe = vec![0.0; time * dim];
    for t in 0..time {
        for c in 0..dim {
            let pair = (c / 2 * 2) as f64;
            let angle = t as f64 / 10000f64.powf(pair / dim as f64);
            pe[t * dim + c] = if c % 2 == 0 { angle.sin() } else { angle.cos() } as f32;
        }
    }
    pe
}

/// Where a layer's position codes come from.
pub(crate) enum Positions<'a> {
    Fixed(Vec<f32>),
    Learned(&'a Flat),
}

/// `x + codes` for every sample (`codes` is one sample's size).
pub(crate) fn add_positions<T: Tape<f32, Cpu>>(dev: &Cpu, x: &Act, codes: &Positions<'_>, tape: &mut T) -> Act {
    let shape = *x.shape();
    let pe = match codes {
        Positions::Fixed(v) => v.clone(),
        Positions::Learned(w) => values(*w),
    };
    let mut y = values(x);
    for row in y.chunks_exact_mut(shape.1) {
        add_into(row, &pe);
    }
    let out = dev.tensor_from_vec(y, shape);
    if T::OWNS_TAPE {
        let (x_g, out_g) = (x.ghost(), out.ghost());
        let w_g = match codes {
            Positions::Learned(w) => Some(w.ghost()),
            Positions::Fixed(_) => None,
        };
        let dev = dev.clone();
        tape.add_backward_op(move |grads: &mut Grads| {
            let gy = take_grad(&dev, grads.get_or_alloc_mut(&out_g)?)?;
            add_into(grads.get_or_alloc_mut(&x_g)?, &gy);
            if let Some(w_g) = &w_g {
                let gw = grads.get_or_alloc_mut(w_g)?;
                for row in gy.chunks_exact(shape.1) {
                    add_into(gw, row);
                }
            }
            Ok(())
        });
    }
    out
}

/// One vector `[batch, features]` of each sequence `[batch, time * features]`.
pub(crate) fn pool_sequence<T: Tape<f32, Cpu>>(
    dev: &Cpu,
    x: &Act,
    (time, features): (usize, usize),
    mode: SequencePooling,
    tape: &mut T,
) -> Act {
    let batch = x.shape().0;
    let xd = values(x);
    // Each position's weight in the result.
    let weight = move |t: usize| -> f32 {
        match mode {
            SequencePooling::Mean => 1.0 / time as f32,
            SequencePooling::Last => f32::from(u8::from(t + 1 == time)),
            SequencePooling::First => f32::from(u8::from(t == 0)),
        }
    };
    let mut y = vec![0.0; batch * features];
    for (out, sample) in y.chunks_exact_mut(features).zip(xd.chunks_exact(time * features)) {
        for (t, row) in sample.chunks_exact(features).enumerate() {
            let w = weight(t);
            if w != 0.0 {
                for (o, v) in out.iter_mut().zip(row) {
                    *o += w * v;
                }
            }
        }
    }
    let out = dev.tensor_from_vec(y, (batch, features));
    if T::OWNS_TAPE {
        let (x_g, out_g) = (x.ghost(), out.ghost());
        let dev = dev.clone();
        tape.add_backward_op(move |grads: &mut Grads| {
            let gy = take_grad(&dev, grads.get_or_alloc_mut(&out_g)?)?;
            let gx = grads.get_or_alloc_mut(&x_g)?;
            for (dx, g) in gx.chunks_exact_mut(time * features).zip(gy.chunks_exact(features)) {
                for (t, row) in dx.chunks_exact_mut(features).enumerate() {
                    let w = weight(t);
                    for (d, v) in row.iter_mut().zip(g) {
                        *d += w * v;
                    }
                }
            }
            Ok(())
        });
    }
    out
}
