//! Recurrent layers (RNN, LSTM, GRU) over a whole sequence as one op, with backpropagation
//! through time written out: the input projections of every step are one matrix product before
//! the loop and one after it (for the gradients), so only the `h W_hh` products run step by step.
//!
//! Weights are stored as PyTorch's transposed (`weight_ih` is `[features, gates * hidden]`, like a
//! Dense layer's) with PyTorch's gate order: LSTM `i, f, g, o`, GRU `r, z, n`.

use dfdx::prelude::*;

use super::pointwise::{sigmoid_approx, tanh_approx};
use super::{add_into, take_grad, values, Act, Flat, Grads};
use crate::graph::Cell;
use crate::tensor::gemm::{matmul, matmul_serial, Stored};
use rayon::prelude::*;
use std::ops::Range;

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
        matmul_serial(&mut hp, &h_prev, Stored::Plain, w_hh, Stored::Plain, (batch, h, gh), true);
        // Pre-activations (input and hidden parts summed) in place, then each gate's
        // non-linearity over its contiguous block: plain loops the compiler vectorises.
        for b in 0..batch {
            let x = &xp[(b * time + t) * gh..][..gh];
            let p = &mut hp[b * gh..][..gh];
            let at = (t * batch + b) * h;
            match cell {
                Cell::Rnn => {
                    for ((out, &xv), &pv) in trace.h[at..at + h].iter_mut().zip(x).zip(p.iter()) {
                        *out = tanh_approx(xv + pv);
                    }
                }
                Cell::Lstm => {
                    let gates = &mut trace.gates[(t * batch + b) * gh..][..gh];
                    for k in 0..gh {
                        p[k] += x[k];
                    }
                    for (g, &v) in gates[..2 * h].iter_mut().zip(&p[..2 * h]) {
                        *g = sigmoid_approx(v);
                    }
                    for (g, &v) in gates[2 * h..3 * h].iter_mut().zip(&p[2 * h..3 * h]) {
                        *g = tanh_approx(v);
                    }
                    for (g, &v) in gates[3 * h..].iter_mut().zip(&p[3 * h..]) {
                        *g = sigmoid_approx(v);
                    }
                    let (c_out, h_out) = (&mut trace.extra[at..at + h], &mut trace.h[at..at + h]);
                    let c_in = &c_prev[b * h..][..h];
                    for j in 0..h {
                        let c = gates[h + j] * c_in[j] + gates[j] * gates[2 * h + j];
                        c_out[j] = c;
                        h_out[j] = gates[3 * h + j] * tanh_approx(c);
                    }
                }
                Cell::Gru => {
                    let gates = &mut trace.gates[(t * batch + b) * gh..][..gh];
                    for k in 0..2 * h {
                        gates[k] = sigmoid_approx(x[k] + p[k]);
                    }
                    let h_in = &h_prev[b * h..][..h];
                    for j in 0..h {
                        let (r, z) = (gates[j], gates[h + j]);
                        let n = tanh_approx(x[2 * h + j] + r * p[2 * h + j]);
                        gates[2 * h + j] = n;
                        trace.extra[at + j] = p[2 * h + j];
                        trace.h[at + j] = (1.0 - z) * n + z * h_in[j];
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
    let mut dh = vec![0.0; h];
    let steps = order(time, reverse);
    for (s, &t) in steps.iter().enumerate().rev() {
        let prev = s.checked_sub(1).map(|p| steps[p]);
        match prev {
            Some(p) => h_prev.copy_from_slice(&trace.h[p * batch * h..][..batch * h]),
            None => h_prev.fill(0.0),
        }
        let mut carry = if cell == Cell::Gru { vec![0.0; batch * h] } else { Vec::new() };
        for b in 0..batch {
            let at = (t * batch + b) * h;
            let da = &mut dhp[b * gh..][..gh];
            // The gradient reaching h_t: from the output and from step t + 1.
            for ((d, &next), &out) in dh.iter_mut().zip(&dh_next[b * h..][..h]).zip(&dh_out[at..at + h]) {
                *d = next + out;
            }
            match cell {
                Cell::Rnn => {
                    for ((a, &d), &y) in da.iter_mut().zip(&dh).zip(&trace.h[at..at + h]) {
                        *a = d * (1.0 - y * y);
                    }
                }
                Cell::Lstm => {
                    let g4 = &trace.gates[(t * batch + b) * gh..][..gh];
                    let c_now = &trace.extra[at..at + h];
                    let zeros = [0.0f32; 0];
                    let c_before: &[f32] = match prev {
                        Some(p) => &trace.extra[(p * batch + b) * h..][..h],
                        None => &zeros,
                    };
                    let dc_carry = &mut dc_next[b * h..][..h];
                    for j in 0..h {
                        let (i, f, g, o) = (g4[j], g4[h + j], g4[2 * h + j], g4[3 * h + j]);
                        let c_prev = c_before.get(j).copied().unwrap_or(0.0);
                        let tc = tanh_approx(c_now[j]);
                        let dc = dc_carry[j] + dh[j] * o * (1.0 - tc * tc);
                        da[j] = dc * g * i * (1.0 - i);
                        da[h + j] = dc * c_prev * f * (1.0 - f);
                        da[2 * h + j] = dc * i * (1.0 - g * g);
                        da[3 * h + j] = dh[j] * tc * o * (1.0 - o);
                        dc_carry[j] = dc * f;
                    }
                }
                Cell::Gru => {
                    let g3 = &trace.gates[(t * batch + b) * gh..][..gh];
                    for j in 0..h {
                        let (r, z, n) = (g3[j], g3[h + j], g3[2 * h + j]);
                        let hp_n = trace.extra[at + j];
                        let dn = dh[j] * (1.0 - z) * (1.0 - n * n);
                        let dz = dh[j] * (h_prev[b * h + j] - n) * z * (1.0 - z);
                        let dr = dn * hp_n * r * (1.0 - r);
                        // The xp side of n is dn; the hidden side is dn * r (fixed below).
                        da[j] = dr;
                        da[h + j] = dz;
                        da[2 * h + j] = dn;
                        carry[b * h + j] = dh[j] * z;
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
        matmul_serial(g_hh, &h_prev, Stored::Transposed, &dhp, Stored::Plain, (h, batch, gh), true);
        for row in dhp.chunks_exact(gh) {
            add_into(g_bhh, row);
        }
        matmul_serial(&mut dh_next, &dhp, Stored::Plain, w_hh, Stored::Transposed, (batch, gh, h), false);
        if cell == Cell::Gru {
            add_into(&mut dh_next, &carry);
        }
    }
    dxp
}

/// The batch cut into one contiguous share of samples per thread: each share runs its whole
/// recurrence (every step's small products) on its own thread, so the threads meet once per
/// layer instead of once per step.
fn shares(batch: usize) -> Vec<Range<usize>> {
    let parts = rayon::current_num_threads().clamp(1, batch.max(1));
    (0..parts).map(|p| p * batch / parts..(p + 1) * batch / parts).filter(|r| !r.is_empty()).collect()
}

/// One direction's forward pass, share by share: each share's samples and its trace.
type Traces = Vec<(Range<usize>, Trace)>;

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
    let shares = shares(batch);
    let share_dims = |r: &Range<usize>| RecurrentDims { batch: r.len(), ..d };
    let mut traces: Vec<Traces> = Vec::with_capacity(nd);
    let mut weights = Vec::with_capacity(nd);
    for dir in directions {
        let (w_ih, w_hh, b_ih, b_hh) =
            (values(dir.weight_ih), values(dir.weight_hh), values(dir.bias_ih), values(dir.bias_hh));
        let mut xp = vec![0.0; batch * time * gh];
        for row in xp.chunks_exact_mut(gh) {
            row.copy_from_slice(&b_ih);
        }
        matmul(&mut xp, &xd, Stored::Plain, &w_ih, Stored::Plain, (batch * time, f, gh), true);
        // A share's rows `b * time + t` are contiguous.
        let per_share: Traces = shares
            .par_iter()
            .map(|r| {
                let rows = &xp[r.start * time * gh..r.end * time * gh];
                (r.clone(), run_direction(rows, &w_hh, &b_hh, share_dims(r), dir.reverse))
            })
            .collect();
        traces.push(per_share);
        weights.push((w_ih, w_hh));
    }
    // The output, from each direction's states.
    let last_of = move |reverse: bool| if reverse { 0 } else { time - 1 };
    let mut y = vec![0.0; batch * if return_sequences { time * width } else { width }];
    for (k, (per_share, dir)) in traces.iter().zip(directions).enumerate() {
        for (r, trace) in per_share {
            let n = r.len();
            for (local, b) in r.clone().enumerate() {
                if return_sequences {
                    for t in 0..time {
                        y[(b * time + t) * width + k * h..][..h].copy_from_slice(&trace.h[(t * n + local) * h..][..h]);
                    }
                } else {
                    let t = last_of(dir.reverse);
                    y[b * width + k * h..][..h].copy_from_slice(&trace.h[(t * n + local) * h..][..h]);
                }
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
        let dev = dev.clone();
        tape.add_backward_op(move |grads: &mut Grads| {
            let gy = take_grad(&dev, grads.get_or_alloc_mut(&out_g)?)?;
            let mut gx = need_dx.then(|| vec![0.0; batch * time * f]);
            for (k, ((per_share, (w_ih, w_hh)), ghost)) in traces.iter().zip(&weights).zip(&ghosts).enumerate() {
                // Each share's states get their gradient from the output (time-major), and run
                // back through time on their own thread.
                let parts: Vec<(Vec<f32>, Vec<f32>, Vec<f32>)> = per_share
                    .par_iter()
                    .map(|(r, trace)| {
                        let n = r.len();
                        let mut dh_out = vec![0.0; time * n * h];
                        for (local, b) in r.clone().enumerate() {
                            if return_sequences {
                                for t in 0..time {
                                    add_into(
                                        &mut dh_out[(t * n + local) * h..][..h],
                                        &gy[(b * time + t) * width + k * h..][..h],
                                    );
                                }
                            } else {
                                let t = last_of(reverse[k]);
                                add_into(&mut dh_out[(t * n + local) * h..][..h], &gy[b * width + k * h..][..h]);
                            }
                        }
                        let mut g_hh = vec![0.0; h * gh];
                        let mut g_bhh = vec![0.0; gh];
                        let dims = RecurrentDims { batch: n, ..d };
                        let dxp = back_direction(trace, &dh_out, w_hh, dims, reverse[k], &mut g_hh, &mut g_bhh);
                        (dxp, g_hh, g_bhh)
                    })
                    .collect();
                let mut dxp = Vec::with_capacity(batch * time * gh);
                let mut g_hh = vec![0.0; h * gh];
                let mut g_bhh = vec![0.0; gh];
                for (part, gw, gb) in parts {
                    dxp.extend(part);
                    add_into(&mut g_hh, &gw);
                    add_into(&mut g_bhh, &gb);
                }
                matmul(
                    grads.get_or_alloc_mut(&ghost[0])?,
                    &xd,
                    Stored::Transposed,
                    &dxp,
                    Stored::Plain,
                    (f, batch * time, gh),
                    true,
                );
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
fn states_of(traces: &[Traces], d: RecurrentDims) -> States {
    let RecurrentDims { batch, time, hidden: h, cell, .. } = d;
    let nd = traces.len();
    let width = nd * h;
    let gh = cell.gates() * h;
    // (name, which buffer, which block of the gates)
    let wanted: &[(&'static str, u8, usize)] = match cell {
        Cell::Rnn => &[("hidden", 0, 0)],
        Cell::Lstm => {
            &[("hidden", 0, 0), ("input_gate", 1, 0), ("forget_gate", 1, 1), ("output_gate", 1, 3), ("cell", 2, 0)]
        }
        Cell::Gru => &[("hidden", 0, 0), ("reset_gate", 1, 0), ("update_gate", 1, 1)],
    };
    wanted
        .iter()
        .map(|&(name, buffer, block)| {
            let mut out = vec![0.0; batch * time * width];
            for (k, per_share) in traces.iter().enumerate() {
                for (r, trace) in per_share {
                    let n = r.len();
                    for (local, b) in r.clone().enumerate() {
                        for t in 0..time {
                            let at = t * n + local;
                            let src = match buffer {
                                0 => &trace.h[at * h..][..h],
                                1 => &trace.gates[at * gh + block * h..][..h],
                                _ => &trace.extra[at * h..][..h],
                            };
                            out[(b * time + t) * width + k * h..][..h].copy_from_slice(src);
                        }
                    }
                }
            }
            (name, out)
        })
        .collect()
}
