//! Recurrent layers (RNN, LSTM, GRU) over a whole sequence as one op, with backpropagation
//! through time written out: the input projections of every step are one matrix product before
//! the loop and one after it (for the gradients), so only the `h W_hh` products run step by step.
//!
//! Weights are stored as PyTorch's transposed (`weight_ih` is `[features, gates * hidden]`, like a
//! Dense layer's) with PyTorch's gate order: LSTM `i, f, g, o`, GRU `r, z, n`.

use dfdx::prelude::*;

use super::{add_into, values, Act, Flat, Grads};
use crate::graph::Cell;
use crate::tensor::gemm::{matmul, Stored};

/// Sizes and settings of one recurrent layer application.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RecurrentDims {
    pub batch: usize,
    pub time: usize,
    pub features: usize,
    pub hidden: usize,
    pub cell: Cell,
    pub return_sequences: bool,
}

/// One direction's weights, in `graph::param_shapes` order.
pub(crate) struct Direction<'a> {
    pub weight_ih: &'a Flat,
    pub weight_hh: &'a Flat,
    pub bias_ih: &'a Flat,
    pub bias_hh: &'a Flat,
    /// Whether this direction reads the sequence backwards.
    pub reverse: bool,
}

/// What one direction's forward pass kept, time-major (`[time][batch][...]`, by position in the
/// sequence, not by processing order).
struct Trace {
    /// The hidden state after each step, `[time][batch][hidden]`.
    h: Vec<f32>,
    /// The gates after their non-linearity, `[time][batch][gates * hidden]` (not kept for a plain
    /// RNN, whose only "gate" is `h`).
    gates: Vec<f32>,
    /// LSTM: the cell state `c_t`; GRU: `h_{t-1} W_hn + b_hn` (what the reset gate scales).
    extra: Vec<f32>,
}

/// The states over time of every direction, per sample `[time, directions * hidden]`, by name:
/// `hidden`, and the LSTM's `input_gate`, `forget_gate`, `output_gate`, `cell` or the GRU's
/// `reset_gate`, `update_gate`.
pub(crate) type States = Vec<(&'static str, Vec<f32>)>;

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// The order positions are processed in.
fn order(time: usize, reverse: bool) -> Vec<usize> {
    if reverse {
        (0..time).rev().collect()
    } else {
        (0..time).collect()
    }
}

/// Runs one direction forward. `xp` is `x W_ih + b_ih` for every row `b * time + t`.
fn run_direction(xp: &[f32], w_hh: &[f32], b_hh: &[f32], d: RecurrentDims, reverse: bool) -> Trace {
    let RecurrentDims { batch, time, hidden: h, cell, .. } = d;
    let gh = cell.gates() * h;
    let keep_gates = cell != Cell::Rnn;
    let mut trace = Trace {
        h: vec![0.0; time * batch * h],
        gates: if keep_gates { vec![0.0; time * batch * gh] } else { Vec::new() },
        extra: if keep_gates { vec![0.0; time * batch * h] } else { Vec::new() },
    };
    let mut h_prev = vec![0.0; batch * h];
    let mut c_prev = vec![0.0; batch * h];
    let mut hp = vec![0.0; batch * gh];
    for t in order(time, reverse) {
        for row in hp.chunks_exact_mut(gh) {
            row.copy_from_slice(b_hh);
        }
        matmul(&mut hp, &h_prev, Stored::Plain, w_hh, Stored::Plain, (batch, h, gh), true);
        for b in 0..batch {
            let x = &xp[(b * time + t) * gh..][..gh];
            let p = &hp[b * gh..][..gh];
            let at = (t * batch + b) * h;
            match cell {
                Cell::Rnn => {
                    for j in 0..h {
                        trace.h[at + j] = super::pointwise::tanh_value(x[j] + p[j]);
                    }
                }
                Cell::Lstm => {
                    let gates = &mut trace.gates[(t * batch + b) * gh..][..gh];
                    for j in 0..h {
                        let i = sigmoid(x[j] + p[j]);
                        let f = sigmoid(x[h + j] + p[h + j]);
                        let g = super::pointwise::tanh_value(x[2 * h + j] + p[2 * h + j]);
                        let o = sigmoid(x[3 * h + j] + p[3 * h + j]);
                        let c = f * c_prev[b * h + j] + i * g;
                        (gates[j], gates[h + j], gates[2 * h + j], gates[3 * h + j]) = (i, f, g, o);
                        trace.extra[at + j] = c;
                        trace.h[at + j] = o * super::pointwise::tanh_value(c);
                    }
                }
                Cell::Gru => {
                    let gates = &mut trace.gates[(t * batch + b) * gh..][..gh];
                    for j in 0..h {
                        let r = sigmoid(x[j] + p[j]);
                        let z = sigmoid(x[h + j] + p[h + j]);
                        let n = super::pointwise::tanh_value(x[2 * h + j] + r * p[2 * h + j]);
                        (gates[j], gates[h + j], gates[2 * h + j]) = (r, z, n);
                        trace.extra[at + j] = p[2 * h + j];
                        trace.h[at + j] = (1.0 - z) * n + z * h_prev[b * h + j];
                    }
                }
            }
        }
        h_prev.copy_from_slice(&trace.h[t * batch * h..][..batch * h]);
        if cell == Cell::Lstm {
            c_prev.copy_from_slice(&trace.extra[t * batch * h..][..batch * h]);
        }
    }
    trace
}

/// The gradients of one direction, given the gradient of every hidden state it output (`dh_out`,
/// time-major `[time][batch][hidden]`): returns the gradient of `xp` (rows `b * time + t`) and
/// adds into `g_hh` and `g_bhh`.
fn back_direction(
    trace: &Trace,
    dh_out: &[f32],
    w_hh: &[f32],
    d: RecurrentDims,
    reverse: bool,
    g_hh: &mut [f32],
    g_bhh: &mut [f32],
) -> Vec<f32> {
    let RecurrentDims { batch, time, hidden: h, cell, .. } = d;
    let gh = cell.gates() * h;
    let mut dxp = vec![0.0; batch * time * gh];
    let mut dh_next = vec![0.0; batch * h];
    let mut dc_next = vec![0.0; batch * h];
    let mut dhp = vec![0.0; batch * gh];
    let mut h_prev = vec![0.0; batch * h];
    let steps = order(time, reverse);
    for (s, &t) in steps.iter().enumerate().rev() {
        let prev = s.checked_sub(1).map(|p| steps[p]);
        match prev {
            Some(p) => h_prev.copy_from_slice(&trace.h[p * batch * h..][..batch * h]),
            None => h_prev.fill(0.0),
        }
        let mut carry = vec![0.0; batch * h];
        for b in 0..batch {
            let at = (t * batch + b) * h;
            let da = &mut dhp[b * gh..][..gh];
            for j in 0..h {
                let dh = dh_next[b * h + j] + dh_out[at + j];
                match cell {
                    Cell::Rnn => {
                        let y = trace.h[at + j];
                        da[j] = dh * (1.0 - y * y);
                    }
                    Cell::Lstm => {
                        let g4 = &trace.gates[(t * batch + b) * gh..][..gh];
                        let (i, f, g, o) = (g4[j], g4[h + j], g4[2 * h + j], g4[3 * h + j]);
                        let c_prev = prev.map_or(0.0, |p| trace.extra[(p * batch + b) * h + j]);
                        let tc = super::pointwise::tanh_value(trace.extra[at + j]);
                        let dc = dc_next[b * h + j] + dh * o * (1.0 - tc * tc);
                        da[j] = dc * g * i * (1.0 - i);
                        da[h + j] = dc * c_prev * f * (1.0 - f);
                        da[2 * h + j] = dc * i * (1.0 - g * g);
                        da[3 * h + j] = dh * tc * o * (1.0 - o);
                        dc_next[b * h + j] = dc * f;
                    }
                    Cell::Gru => {
                        let g3 = &trace.gates[(t * batch + b) * gh..][..gh];
                        let (r, z, n) = (g3[j], g3[h + j], g3[2 * h + j]);
                        let hp_n = trace.extra[at + j];
                        let dn = dh * (1.0 - z) * (1.0 - n * n);
                        let dz = dh * (h_prev[b * h + j] - n) * z * (1.0 - z);
                        let dr = dn * hp_n * r * (1.0 - r);
                        // The xp side of n is dn; the hidden side is dn * r (fixed below).
                        da[j] = dr;
                        da[h + j] = dz;
                        da[2 * h + j] = dn;
                        carry[b * h + j] = dh * z;
                    }
                }
            }
            let row = &mut dxp[(b * time + t) * gh..][..gh];
            row.copy_from_slice(da);
            if cell == Cell::Gru {
                let r = &trace.gates[(t * batch + b) * gh..][..h];
                for j in 0..h {
                    da[2 * h + j] *= r[j];
                }
            }
        }
        matmul(g_hh, &h_prev, Stored::Transposed, &dhp, Stored::Plain, (h, batch, gh), true);
        for row in dhp.chunks_exact(gh) {
            add_into(g_bhh, row);
        }
        matmul(&mut dh_next, &dhp, Stored::Plain, w_hh, Stored::Transposed, (batch, gh, h), false);
        if cell == Cell::Gru {
            add_into(&mut dh_next, &carry);
        }
    }
    dxp
}

/// Runs a recurrent layer of one or two directions over `x` (`[batch, time * features]`).
/// The output is `[batch, time * directions * hidden]` with `return_sequences` (each position's
/// states side by side, forward first), else `[batch, directions * hidden]`: each direction's
/// last state (the backward direction's is at position 0). With `record`, also the states over
/// time (see [`States`]).
pub(crate) fn recurrent<T: Tape<f32, Cpu>>(
    dev: &Cpu,
    x: &Act,
    directions: &[Direction<'_>],
    d: RecurrentDims,
    need_dx: bool,
    record: bool,
    tape: &mut T,
) -> (Act, States) {
    let RecurrentDims { batch, time, features: f, hidden: h, cell, return_sequences } = d;
    let gh = cell.gates() * h;
    let nd = directions.len();
    let width = nd * h;
    let xd = values(x);
    let mut traces = Vec::with_capacity(nd);
    let mut weights = Vec::with_capacity(nd);
    for dir in directions {
        let (w_ih, w_hh, b_ih, b_hh) =
            (values(dir.weight_ih), values(dir.weight_hh), values(dir.bias_ih), values(dir.bias_hh));
        let mut xp = vec![0.0; batch * time * gh];
        for row in xp.chunks_exact_mut(gh) {
            row.copy_from_slice(&b_ih);
        }
        matmul(&mut xp, &xd, Stored::Plain, &w_ih, Stored::Plain, (batch * time, f, gh), true);
        traces.push(run_direction(&xp, &w_hh, &b_hh, d, dir.reverse));
        weights.push((w_ih, w_hh));
    }
    // The output, from each direction's states.
    let last_of = move |reverse: bool| if reverse { 0 } else { time - 1 };
    let mut y = vec![0.0; batch * if return_sequences { time * width } else { width }];
    for (k, (trace, dir)) in traces.iter().zip(directions).enumerate() {
        for b in 0..batch {
            if return_sequences {
                for t in 0..time {
                    y[(b * time + t) * width + k * h..][..h].copy_from_slice(&trace.h[(t * batch + b) * h..][..h]);
                }
            } else {
                let t = last_of(dir.reverse);
                y[b * width + k * h..][..h].copy_from_slice(&trace.h[(t * batch + b) * h..][..h]);
            }
        }
    }
    let states = if record { states_of(&traces, d) } else { Vec::new() };
    let out = dev.tensor_from_vec(y, (batch, if return_sequences { time * width } else { width }));
    if T::OWNS_TAPE {
        let x_g = x.ghost();
        let out_g = out.ghost();
        let ghosts: Vec<[_; 4]> = directions
            .iter()
            .map(|dir| [dir.weight_ih.ghost(), dir.weight_hh.ghost(), dir.bias_ih.ghost(), dir.bias_hh.ghost()])
            .collect();
        let reverse: Vec<bool> = directions.iter().map(|dir| dir.reverse).collect();
        tape.add_backward_op(move |grads: &mut Grads| {
            let gy = grads.get_or_alloc_mut(&out_g)?.to_vec();
            let mut gx = need_dx.then(|| vec![0.0; batch * time * f]);
            for (k, ((trace, (w_ih, w_hh)), ghost)) in traces.iter().zip(&weights).zip(&ghosts).enumerate() {
                // Each state's gradient from the output, time-major.
                let mut dh_out = vec![0.0; time * batch * h];
                for b in 0..batch {
                    if return_sequences {
                        for t in 0..time {
                            add_into(&mut dh_out[(t * batch + b) * h..][..h], &gy[(b * time + t) * width + k * h..][..h]);
                        }
                    } else {
                        let t = last_of(reverse[k]);
                        add_into(&mut dh_out[(t * batch + b) * h..][..h], &gy[b * width + k * h..][..h]);
                    }
                }
                let mut g_hh = vec![0.0; h * gh];
                let mut g_bhh = vec![0.0; gh];
                let dxp = back_direction(trace, &dh_out, w_hh, d, reverse[k], &mut g_hh, &mut g_bhh);
                matmul(grads.get_or_alloc_mut(&ghost[0])?, &xd, Stored::Transposed, &dxp, Stored::Plain, (f, batch * time, gh), true);
                add_into(grads.get_or_alloc_mut(&ghost[1])?, &g_hh);
                let g_bih = grads.get_or_alloc_mut(&ghost[2])?;
                for row in dxp.chunks_exact(gh) {
                    add_into(g_bih, row);
                }
                add_into(grads.get_or_alloc_mut(&ghost[3])?, &g_bhh);
                if let Some(gx) = gx.as_mut() {
                    matmul(gx, &dxp, Stored::Plain, w_ih, Stored::Transposed, (batch * time, gh, f), true);
                }
            }
            if let Some(gx) = gx {
                add_into(grads.get_or_alloc_mut(&x_g)?, &gx);
            }
            Ok(())
        });
    }
    (out, states)
}

/// Every direction's states over time, per sample `[time, directions * hidden]`.
fn states_of(traces: &[Trace], d: RecurrentDims) -> States {
    let RecurrentDims { batch, time, hidden: h, cell, .. } = d;
    let nd = traces.len();
    let width = nd * h;
    let gh = cell.gates() * h;
    // (name, which buffer, which block of the gates)
    let wanted: &[(&'static str, u8, usize)] = match cell {
        Cell::Rnn => &[("hidden", 0, 0)],
        Cell::Lstm => &[("hidden", 0, 0), ("input_gate", 1, 0), ("forget_gate", 1, 1), ("output_gate", 1, 3), ("cell", 2, 0)],
        Cell::Gru => &[("hidden", 0, 0), ("reset_gate", 1, 0), ("update_gate", 1, 1)],
    };
    wanted
        .iter()
        .map(|&(name, buffer, block)| {
            let mut out = vec![0.0; batch * time * width];
            for (k, trace) in traces.iter().enumerate() {
                for b in 0..batch {
                    for t in 0..time {
                        let src = match buffer {
                            0 => &trace.h[(t * batch + b) * h..][..h],
                            1 => &trace.gates[(t * batch + b) * gh + block * h..][..h],
                            _ => &trace.extra[(t * batch + b) * h..][..h],
                        };
                        out[(b * time + t) * width + k * h..][..h].copy_from_slice(src);
                    }
                }
            }
            (name, out)
        })
        .collect()
}
