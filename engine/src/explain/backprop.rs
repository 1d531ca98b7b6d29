//! One training step worked out by hand for one weight: the sample's loss, the gradient at the
//! output, the chain rule back through every node between the output and the weight (one
//! operation per node, each with the real numbers), the weight's gradient, and its update under
//! the run's optimiser with its real state (Adam's moments, SGD's velocity).
//!
//! The step is the one the optimiser would take if this sample were the whole batch, in
//! evaluation behaviour (no dropout; batch norm with its running averages). Every number the walk
//! works out by hand that the engine also has (a node's gradient, the weight's gradient, the loss)
//! carries the engine's value beside it ([`Operation::check`]); the tests compare them, and the
//! update against a real optimiser step.

use std::collections::BTreeSet;

use super::steps::{coords, label, Operation};
use crate::data::{Batch, Targets};
use crate::graph::{LayerKind, LayerSpec, SequencePooling};
use crate::tensor::{LossSpec, Model, NodeOutput, Optimizer, OptimizerSpec, Probe};
use crate::EngineError;

/// One weight's training step, one operation at a time.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainingWalk {
    /// The parameter (`<node>.<name>`), the entry followed, and where it sits in its shape.
    pub param: String,
    pub entry: usize,
    pub position: Vec<usize>,
    /// The node that owns the weight, and its layer kind.
    pub node: String,
    pub layer: String,
    /// Updates the optimiser had applied before this one, and its settings.
    pub steps_done: i32,
    pub optimizer: OptimizerSpec,
    /// The loss (forward), the way back (from `backward_at`), the update (from `update_at`).
    pub operations: Vec<Operation>,
    pub backward_at: usize,
    pub update_at: usize,
    /// The weight before and after the update.
    pub before: f32,
    pub after: f32,
}

/// A local rule's numbers at one entry: the terms and what they make.
struct Rule {
    formula: String,
    terms: Vec<(String, f32)>,
    columns: Option<usize>,
    value: f32,
}

/// What the rules need to know of one node on the way back.
struct Local<'a> {
    layer: &'a LayerSpec,
    x: &'a [f32],
    in_shape: &'a [usize],
    y: &'a [f32],
    out_shape: &'a [usize],
    /// The gradient at the node's output.
    dy: &'a [f32],
    /// The node's weight (`<node>.weight`), when it has one; a norm's scale and running variance.
    w: Option<&'a [f32]>,
    gamma: Option<&'a [f32]>,
    running_var: Option<&'a [f32]>,
}

/// A number in a label: four significant digits, tiny ones in e-notation.
fn num(v: f32) -> String {
    if v == 0.0 {
        "0".to_owned()
    } else if v.abs() < 1e-3 {
        format!("{v:.2e}")
    } else {
        format!("{v:.4}")
    }
}

fn sum(terms: &[(String, f32)]) -> f32 {
    terms.iter().map(|t| t.1).sum()
}

fn argmax_abs(values: impl Iterator<Item = f32>) -> usize {
    values
        .enumerate()
        .fold((0, f32::NEG_INFINITY), |(bi, bv), (i, v)| if v.abs() > bv { (i, v.abs()) } else { (bi, bv) })
        .0
}

/// The pooling windows (output positions) that read input position `(iy, ix)`.
fn windows_over(at: usize, size: usize, stride: usize, out: usize) -> impl Iterator<Item = usize> {
    (0..out).filter(move |o| o * stride <= at && at < o * stride + size)
}

/// Where window `(oy, ox)` of channel `c` has its first largest value (the one max pooling
/// sends the gradient to; a NaN counts as largest, as in the engine).
fn first_max(
    x: &[f32],
    (c, h, w): (usize, usize, usize),
    (oy, ox): (usize, usize),
    size: usize,
    stride: usize,
) -> (usize, usize) {
    let mut best = (oy * stride, ox * stride);
    let mut top = x[(c * h + best.0) * w + best.1];
    for k in 1..size * size {
        let (yy, xx) = (oy * stride + k / size, ox * stride + k % size);
        let v = x[(c * h + yy) * w + xx];
        if v > top || (v.is_nan() && !top.is_nan()) {
            (best, top) = ((yy, xx), v);
        }
    }
    best
}

/// The slope of an activation at `x` (with its output `y`).
fn slope(layer: &LayerSpec, x: f32, y: f32) -> f32 {
    match layer {
        LayerSpec::Relu => f32::from(u8::from(x > 0.0)),
        LayerSpec::LeakyRelu { slope } => {
            if x > 0.0 {
                1.0
            } else {
                *slope
            }
        }
        LayerSpec::Tanh => 1.0 - y * y,
        LayerSpec::Sigmoid => y * (1.0 - y),
        _ => {
            let phi = 0.5 * (1.0 + libm::erff(x / std::f32::consts::SQRT_2));
            let density = (-0.5 * x * x).exp() / (2.0 * std::f32::consts::PI).sqrt();
            phi + x * density
        }
    }
}

impl Local<'_> {
    /// The gradient at input entry `e`, from the gradient at the output, by the node's own rule
    /// (`None` for kinds the walk does not work out by hand).
    fn rule(&self, e: usize) -> Option<Rule> {
        let (x, dy) = (self.x, self.dy);
        let features = *self.in_shape.last()?;
        Some(match self.layer {
            LayerSpec::Dense { .. } => {
                let (units, w) = (*self.out_shape.last()?, self.w?);
                let (t, i) = (e / features, e % features);
                let terms: Vec<(String, f32)> = (0..units)
                    .map(|j| {
                        let (a, b) = (w[i * units + j], dy[t * units + j]);
                        (format!("W[{i},{j}] · δy[{j}] ({} × {})", num(a), num(b)), a * b)
                    })
                    .collect();
                Rule {
                    formula: format!("δx[{i}] = Σ_j W[{i}, j] · δy[j]"), value: sum(&terms), terms, columns: None
                }
            }
            LayerSpec::Relu | LayerSpec::LeakyRelu { .. } | LayerSpec::Tanh | LayerSpec::Sigmoid | LayerSpec::Gelu => {
                let s = slope(self.layer, x[e], self.y[e]);
                Rule {
                    formula: format!("δx = δy · f′(x), with f′ the slope of {}", self.layer.kind().label()),
                    terms: vec![("x".to_owned(), x[e]), ("δy".to_owned(), dy[e]), ("f′(x)".to_owned(), s)],
                    columns: None,
                    value: dy[e] * s,
                }
            }
            LayerSpec::Flatten
            | LayerSpec::Reshape { .. }
            | LayerSpec::Dropout { .. }
            | LayerSpec::Add
            | LayerSpec::PositionalEncoding { .. } => Rule {
                formula: "δx = δy (this node passes each value on unchanged)".to_owned(),
                terms: vec![("δy".to_owned(), dy[e])],
                columns: None,
                value: dy[e],
            },
            LayerSpec::Softmax => {
                let row = e / features * features;
                let p = &self.y[row..row + features];
                let d = &dy[row..row + features];
                let mixed: f32 = p.iter().zip(d).map(|(a, b)| a * b).sum();
                let k = e - row;
                Rule {
                    formula: "δz_k = p_k · (δp_k − Σ_i p_i δp_i)".to_owned(),
                    terms: vec![
                        ("p_k".to_owned(), p[k]),
                        ("δp_k".to_owned(), d[k]),
                        ("Σ_i p_i δp_i".to_owned(), mixed),
                    ],
                    columns: None,
                    value: p[k] * (d[k] - mixed),
                }
            }
            LayerSpec::MaxPool2d { size, stride } | LayerSpec::AvgPool2d { size, stride } => {
                let [_, h, w_in] = self.in_shape[..] else { return None };
                let [_, oh, ow] = self.out_shape[..] else { return None };
                let (size, stride) = (*size, stride.unwrap_or(*size));
                let (c, iy, ix) = (e / (h * w_in), e / w_in % h, e % w_in);
                let max = self.layer.kind() == LayerKind::MaxPool2d;
                let mut terms = Vec::new();
                for oy in windows_over(iy, size, stride, oh) {
                    for ox in windows_over(ix, size, stride, ow) {
                        let g = dy[(c * oh + oy) * ow + ox];
                        if max {
                            // The first largest value of the window takes the whole gradient.
                            let mine = first_max(x, (c, h, w_in), (oy, ox), size, stride) == (iy, ix);
                            terms.push((
                                format!(
                                    "window ({oy},{ox}): {}",
                                    if mine { "largest here, δy" } else { "largest elsewhere, 0" }
                                ),
                                if mine { g } else { 0.0 },
                            ));
                        } else {
                            terms.push((format!("δy[{oy},{ox}] / {}", size * size), g / (size * size) as f32));
                        }
                    }
                }
                Rule {
                    formula: if max {
                        "δx = δy of each window whose largest value x is, else 0".to_owned()
                    } else {
                        format!("δx = Σ δy / {} over the windows that hold x", size * size)
                    },
                    value: sum(&terms),
                    terms,
                    columns: None,
                }
            }
            LayerSpec::LayerNorm { eps } => {
                // x̂ = (x − μ)/σ over the row; with g = γ δy: δx_i = (g_i − mean(g) − x̂_i mean(g x̂)) / σ.
                let (gamma, row) = (self.gamma?, e / features * features);
                let xs = &x[row..row + features];
                let d = features as f32;
                let mean = xs.iter().sum::<f32>() / d;
                let sigma = (xs.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / d + eps).sqrt();
                let xhat: Vec<f32> = xs.iter().map(|v| (v - mean) / sigma).collect();
                let g: Vec<f32> = (0..features).map(|i| gamma[i] * dy[row + i]).collect();
                let mean_g = g.iter().sum::<f32>() / d;
                let mean_gx = g.iter().zip(&xhat).map(|(a, b)| a * b).sum::<f32>() / d;
                let i = e - row;
                Rule {
                    formula: "δx_i = (g_i − mean(g) − x̂_i · mean(g · x̂)) / σ, with g = γ · δy".to_owned(),
                    terms: vec![
                        ("g_i".to_owned(), g[i]),
                        ("mean(g)".to_owned(), mean_g),
                        ("x̂_i".to_owned(), xhat[i]),
                        ("mean(g · x̂)".to_owned(), mean_gx),
                        ("σ".to_owned(), sigma),
                    ],
                    columns: None,
                    value: (g[i] - mean_g - xhat[i] * mean_gx) / sigma,
                }
            }
            LayerSpec::BatchNorm { eps, .. } => {
                // In evaluation the statistics are constants: a fixed scale per channel.
                let (gamma, var) = (self.gamma?, self.running_var?);
                let per_channel: usize = self.in_shape[1..].iter().product();
                let c = e / per_channel.max(1);
                let scale = gamma[c] / (var[c] + eps).sqrt();
                Rule {
                    formula: "δx = δy · γ / √(σ² + ε) (the running statistics are constants here)".to_owned(),
                    terms: vec![("δy".to_owned(), dy[e]), ("γ / √(σ² + ε)".to_owned(), scale)],
                    columns: None,
                    value: dy[e] * scale,
                }
            }
            LayerSpec::GlobalAvgPool => {
                let area: usize = self.in_shape[1..].iter().product();
                let c = e / area.max(1);
                Rule {
                    formula: format!("δx = δy[{c}] / {area} (every value of the channel shares its mean)"),
                    terms: vec![("δy".to_owned(), dy[c])],
                    columns: None,
                    value: dy[c] / area as f32,
                }
            }
            LayerSpec::SequencePool { mode } => {
                let time = self.in_shape[0];
                let (t, f) = (e / features, e % features);
                let (share, why) = match mode {
                    SequencePooling::Mean => (1.0 / time as f32, format!("δx = δy / {time} (the mean over time)")),
                    SequencePooling::Last => {
                        (f32::from(u8::from(t + 1 == time)), "δx = δy at the last position, else 0".to_owned())
                    }
                    SequencePooling::First => {
                        (f32::from(u8::from(t == 0)), "δx = δy at the first position, else 0".to_owned())
                    }
                };
                Rule {
                    formula: why,
                    terms: vec![("δy".to_owned(), dy[f]), ("share".to_owned(), share)],
                    columns: None,
                    value: dy[f] * share,
                }
            }
            LayerSpec::Conv2d { kernel, stride, padding, .. } => {
                let [c_in, h, w_in] = self.in_shape[..] else { return None };
                let [filters, oh, ow] = self.out_shape[..] else { return None };
                let (k, s, p, w) = (*kernel, *stride, *padding, self.w?);
                let (c, iy, ix) = (e / (h * w_in), e / w_in % h, e % w_in);
                let mut terms = Vec::new();
                for f in 0..filters {
                    for ky in 0..k {
                        for kx in 0..k {
                            let (ty, tx) = (iy + p, ix + p);
                            if ty < ky || tx < kx || (ty - ky) % s != 0 || (tx - kx) % s != 0 {
                                continue;
                            }
                            let (oy, ox) = ((ty - ky) / s, (tx - kx) / s);
                            if oy >= oh || ox >= ow {
                                continue;
                            }
                            let (wv, g) = (w[((f * c_in + c) * k + ky) * k + kx], dy[(f * oh + oy) * ow + ox]);
                            terms.push((
                                format!("W[{f},{c},{ky},{kx}] · δy[{f},{oy},{ox}] ({} × {})", num(wv), num(g)),
                                wv * g,
                            ));
                        }
                    }
                }
                Rule {
                    formula: "δx = Σ W · δy over every filter position whose patch covers x".to_owned(),
                    value: sum(&terms),
                    terms,
                    columns: None,
                }
            }
            _ => return None,
        })
    }

    /// The output entry the walk follows from input entry `e`: the one through which `e` moved
    /// the loss most.
    fn next(&self, e: usize) -> usize {
        let features = self.in_shape.last().copied().unwrap_or(1).max(1);
        let strongest = || argmax_abs(self.dy.iter().copied());
        match self.layer {
            LayerSpec::Dense { .. } => {
                let (units, Some(w)) = (self.out_shape.last().copied().unwrap_or(1), self.w) else {
                    return strongest();
                };
                let (t, i) = (e / features, e % features);
                t * units + argmax_abs((0..units).map(|j| w[i * units + j] * self.dy[t * units + j]))
            }
            LayerSpec::Relu
            | LayerSpec::LeakyRelu { .. }
            | LayerSpec::Tanh
            | LayerSpec::Sigmoid
            | LayerSpec::Gelu
            | LayerSpec::Flatten
            | LayerSpec::Reshape { .. }
            | LayerSpec::Dropout { .. }
            | LayerSpec::Add
            | LayerSpec::PositionalEncoding { .. }
            | LayerSpec::LayerNorm { .. }
            | LayerSpec::BatchNorm { .. }
            | LayerSpec::Softmax => e,
            LayerSpec::GlobalAvgPool => e / self.in_shape[1..].iter().product::<usize>().max(1),
            LayerSpec::SequencePool { .. } => e % features,
            LayerSpec::MaxPool2d { size, stride } | LayerSpec::AvgPool2d { size, stride } => {
                let (&[_, h, w_in], &[_, oh, ow]) = (self.in_shape, self.out_shape) else {
                    return strongest();
                };
                let stride = stride.unwrap_or(*size);
                let (c, iy, ix) = (e / (h * w_in), e / w_in % h, e % w_in);
                let oy = windows_over(iy, *size, stride, oh).next().unwrap_or(0);
                let ox = windows_over(ix, *size, stride, ow).next().unwrap_or(0);
                // The window where the value counted (as the largest), when one of them did.
                let max = self.layer.kind() == LayerKind::MaxPool2d;
                let (oy, ox) = windows_over(iy, *size, stride, oh)
                    .flat_map(|y| windows_over(ix, *size, stride, ow).map(move |x| (y, x)))
                    .find(|&(y, x)| !max || first_max(self.x, (c, h, w_in), (y, x), *size, stride) == (iy, ix))
                    .unwrap_or((oy, ox));
                (c * oh + oy) * ow + ox
            }
            _ => strongest(),
        }
    }
}

/// One training step of `sample` (a batch of one) for entry `entry` of parameter `param`, under
/// `optimizer`'s settings and state, without changing either.
///
/// # Errors
/// A parameter the model does not have, an entry past its end, a sample that does not fit, or a
/// batch of more than one sample.
pub fn training_step(
    model: &mut Model,
    optimizer: &mut Optimizer,
    loss: LossSpec,
    sample: &Batch,
    (param, entry): (&str, usize),
    classes: &[String],
) -> Result<TrainingWalk, EngineError> {
    if sample.len != 1 {
        return Err(EngineError::Settings("a training step is worked out for one sample".to_owned()));
    }
    let shapes = model.weight_shapes();
    let Some(shape) = shapes.get(param).cloned() else {
        let names: Vec<&str> = shapes.keys().map(String::as_str).collect();
        return Err(EngineError::Settings(format!(
            "{param} is not a weight of this model; its weights are {}",
            names.join(", ")
        )));
    };
    let size: usize = shape.iter().product();
    if entry >= size {
        return Err(EngineError::Settings(format!("{param} has {size} values, 0 to {}", size.saturating_sub(1))));
    }
    let (node_id, pname) = param.rsplit_once('.').unwrap_or((param, ""));
    if matches!(pname, "running_mean" | "running_var") {
        return Err(EngineError::Settings(format!(
            "{param} is a running statistic of batch norm: training keeps it as an average of the batches, \
             it has no gradient; choose {node_id}.gamma or {node_id}.beta"
        )));
    }
    let weights = model.weights();
    let before = weights[param][entry];
    let outputs = model.forward_record(&sample.inputs, 1)?;
    let engine = model.gradients(sample, loss, false, 0)?;
    let engine_grad = engine.params.get(param).map_or(f32::NAN, |g| g[entry]);
    let (first, second) = optimizer
        .moments(model, param)
        .ok_or_else(|| EngineError::Internal(format!("no optimiser state for {param}")))?;
    let report = model.report().clone();
    let spec = model.spec().clone();
    let inputs_of = |id: &str| report.nodes.get(id).map(|n| n.inputs.clone()).unwrap_or_default();
    let output_of = |id: &str| outputs.iter().find(|o| o.id == id);
    let out = outputs.last().ok_or_else(|| EngineError::Internal("a model without nodes".to_owned()))?;

    // The loss's gradient at the output (its operations are written once the walk's entry at the
    // output is known).
    let (_, dz) = loss_operations(loss, out, &sample.targets, engine.loss, (0, classes))?;

    // The route from the weight's node to the output, following the first consumer each time.
    let mut leads: BTreeSet<&str> = BTreeSet::from([out.id.as_str()]);
    for o in outputs.iter().rev() {
        if leads.contains(o.id.as_str()) {
            for i in inputs_of(&o.id) {
                if let Some(found) = outputs.iter().find(|p| p.id == i) {
                    leads.insert(found.id.as_str());
                }
            }
        }
    }
    if !leads.contains(node_id) {
        return Err(EngineError::Settings(format!("{node_id} does not lead to the output")));
    }
    let mut route = vec![node_id.to_owned()];
    while route.last().is_some_and(|r| *r != out.id) {
        let current = route.last().cloned().unwrap_or_default();
        let next = outputs
            .iter()
            .find(|o| leads.contains(o.id.as_str()) && inputs_of(&o.id).contains(&current))
            .ok_or_else(|| EngineError::Internal(format!("no way on from {current}")))?;
        route.push(next.id.clone());
    }
    let consumers = |id: &str| outputs.iter().filter(|o| inputs_of(&o.id).iter().any(|i| i == id)).count();
    // The loss's gradient at every node of the route, as the engine's backward pass has it.
    let mut deltas = Vec::with_capacity(route.len());
    for id in &route {
        deltas.push(if *id == out.id {
            dz.clone()
        } else {
            model.score_gradients(&sample.inputs, 1, &dz, Some(Probe::at(id)))?.probe_grad
        });
    }
    let layer_of = |id: &str| spec.node(id).map(|n| n.layer.clone());
    let local = |k: usize| -> Option<Local<'_>> {
        let id = &route[k];
        let input = output_of(&inputs_of(id).into_iter().find(|i| *i == route[k - 1])?)?;
        let output = output_of(id)?;
        Some(Local {
            layer: &spec.node(id)?.layer,
            x: &input.values,
            in_shape: &input.shape,
            y: &output.values,
            out_shape: &output.shape,
            dy: &deltas[k],
            w: weights.get(&format!("{id}.weight")).map(Vec::as_slice),
            gamma: weights.get(&format!("{id}.gamma")).map(Vec::as_slice),
            running_var: weights.get(&format!("{id}.running_var")).map(Vec::as_slice),
        })
    };

    // The weight's own gradient, and the entry of its node's output the walk follows.
    let owner = output_of(node_id).ok_or_else(|| EngineError::Internal(format!("{node_id} has no output")))?;
    let owner_input = inputs_of(node_id).first().and_then(|i| output_of(i));
    let layer = layer_of(node_id).ok_or_else(|| EngineError::Internal(format!("{node_id} is not in the graph")))?;
    let position = coords(entry, &shape);
    let (gradient_op, mut entry_at) =
        weight_gradient(&layer, pname, &position, owner_input, owner, &deltas[0], engine_grad, param);
    let mut entries = vec![entry_at];
    for (k, delta) in deltas.iter().enumerate().skip(1) {
        entry_at = local(k).map_or_else(|| argmax_abs(delta.iter().copied()), |l| l.next(entry_at));
        entries.push(entry_at);
    }

    // The loss at the row the walk follows, then back from the output, one node at a time.
    let focus = entries.last().copied().unwrap_or(0);
    let (mut operations, _) = loss_operations(loss, out, &sample.targets, engine.loss, (focus, classes))?;
    let backward_at = operations.len() - 1;
    for k in (1..route.len()).rev() {
        let (id, before_id) = (&route[k], &route[k - 1]);
        let e = entries[k - 1];
        let in_shape = output_of(before_id).map(|o| o.shape.clone()).unwrap_or_default();
        let at = label(&coords(e, &in_shape));
        let kind = layer_of(id).map_or("?", |l| l.kind().label());
        let shared = consumers(before_id) > 1;
        let engine_value = deltas[k - 1][e];
        let operation = match local(k).and_then(|l| l.rule(e)) {
            Some(rule) => Operation {
                what: format!(
                    "back through {id} ({kind}): the gradient at {before_id}{at}{}",
                    if shared { ", this path's share (other paths add theirs)" } else { "" }
                ),
                formula: rule.formula,
                terms: rule.terms,
                columns: rule.columns,
                result: rule.value,
                check: (!shared).then_some(engine_value),
            },
            None => Operation {
                what: format!(
                    "back through {id} ({kind}): the gradient at {before_id}{at}, as the engine's backward pass \
                     works it out (this view does not spell out the backward rule of {kind} layers{})",
                    if matches!(kind, "LSTM" | "GRU" | "RNN") { ": it runs back through every time step" } else { "" }
                ),
                formula: format!("δx = ∂L/∂x through {kind}"),
                terms: Vec::new(),
                columns: None,
                result: engine_value,
                check: None,
            },
        };
        operations.push(operation);
    }
    operations.push(gradient_op);

    // The update.
    let update_at = operations.len();
    let steps_done = optimizer.steps();
    let spec_opt = optimizer.spec();
    let (update, after) = update_operations(
        spec_opt,
        steps_done + 1,
        before,
        engine_grad,
        first.get(entry).copied().unwrap_or(0.0),
        second.get(entry).copied().unwrap_or(0.0),
    );
    operations.extend(update);
    Ok(TrainingWalk {
        param: param.to_owned(),
        entry,
        position,
        node: node_id.to_owned(),
        layer: layer.kind().label().to_owned(),
        steps_done,
        optimizer: spec_opt,
        operations,
        backward_at,
        update_at,
        before,
        after,
    })
}

/// The loss of one sample, and its gradient at the model's output (the last operation).
fn loss_operations(
    loss: LossSpec,
    out: &NodeOutput,
    targets: &Targets,
    engine_loss: f32,
    (focus, names): (usize, &[String]),
) -> Result<(Vec<Operation>, Vec<f32>), EngineError> {
    let y = &out.values;
    let list = |name: &str, v: &[f32]| -> Vec<(String, f32)> {
        v.iter().enumerate().map(|(i, &x)| (format!("{name}{i}"), x)).collect()
    };
    let op = |what: String, formula: &str, terms: Vec<(String, f32)>, result: f32, check: Option<f32>| Operation {
        what,
        formula: formula.to_owned(),
        terms,
        columns: None,
        result,
        check,
    };
    match (loss, targets) {
        (LossSpec::CrossEntropy, Targets::Classes(labels)) => {
            let classes = out.shape.last().copied().unwrap_or(1).max(1);
            let rows = y.len() / classes;
            if labels.len() != rows {
                return Err(EngineError::Batch(format!("{} labels for {rows} outputs", labels.len())));
            }
            let mut probs = Vec::with_capacity(y.len());
            let mut losses = Vec::with_capacity(rows);
            for (row, &l) in y.chunks_exact(classes).zip(labels) {
                let top = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                let total: f32 = row.iter().map(|z| (z - top).exp()).sum();
                probs.extend(row.iter().map(|z| (z - top).exp() / total));
                losses.push(-(row[l] - top - total.ln()));
            }
            let mean = losses.iter().sum::<f32>() / rows as f32;
            let dz: Vec<f32> = probs
                .iter()
                .enumerate()
                .map(|(i, p)| (p - f32::from(u8::from(labels[i / classes] == i % classes))) / rows as f32)
                .collect();
            // The row the walk follows back (a sequence has one per position).
            let row = (focus / classes).min(rows - 1);
            let name = |c: usize| match names.get(c) {
                Some(n) if *n != c.to_string() => format!("{c} ({n})"),
                _ => c.to_string(),
            };
            let (at, right) = if rows == 1 {
                (String::new(), format!("the right class is {}", name(labels[0])))
            } else {
                (format!(" at position {row}"), format!("the right token there is {}", name(labels[row])))
            };
            let span = row * classes..(row + 1) * classes;
            let mut ops = vec![
                op(
                    format!("the model's output scores{at} for this sample (logits; {right})"),
                    "z",
                    list("z", &y[span.clone()]),
                    f32::NAN,
                    None,
                ),
                op(
                    "the softmax turns them into probabilities".to_owned(),
                    "p_k = e^z_k / Σ_i e^z_i",
                    list("p", &probs[span.clone()]),
                    f32::NAN,
                    None,
                ),
            ];
            if rows == 1 {
                ops.push(op(
                    format!("the loss: how surprised the model is by the right class, {}", name(labels[0])),
                    "L = −ln p_y",
                    vec![("p_y".to_owned(), probs[labels[0]])],
                    mean,
                    Some(engine_loss),
                ));
            } else {
                ops.push(op(
                    format!(
                        "the loss at each of the {rows} positions (−ln of the right token's probability), averaged"
                    ),
                    "L = (1/T) Σ_t −ln p(y_t)",
                    list("L", &losses),
                    mean,
                    Some(engine_loss),
                ));
            }
            ops.push(op(
                if rows == 1 {
                    "the way back starts: the loss's gradient at each score is its probability, less 1 for the right class"
                        .to_owned()
                } else {
                    format!(
                        "the way back starts: at each score, its probability less 1 for the right token, over {rows} \
                         positions (position {row} shown)"
                    )
                },
                if rows == 1 { "δz_k = p_k − [k = y]" } else { "δz_k = (p_k − [k = y]) / T" },
                list("δz", &dz[span]),
                f32::NAN,
                None,
            ));
            Ok((ops, dz))
        }
        (_, targets) => {
            let want: Vec<f32> = match targets {
                Targets::Values(v) => v.clone(),
                Targets::Classes(labels) => {
                    let classes = out.shape.last().copied().unwrap_or(1).max(1);
                    let mut onehot = vec![0.0; y.len()];
                    for (row, &l) in onehot.chunks_exact_mut(classes).zip(labels) {
                        row[l] = 1.0;
                    }
                    onehot
                }
            };
            if want.len() != y.len() {
                return Err(EngineError::Batch(format!("{} targets for {} outputs", want.len(), y.len())));
            }
            let n = y.len() as f32;
            let squares: Vec<(String, f32)> = y
                .iter()
                .zip(&want)
                .enumerate()
                .map(|(i, (a, b))| (format!("(y{i} − t{i})²"), (a - b) * (a - b)))
                .collect();
            let dz: Vec<f32> = y.iter().zip(&want).map(|(a, b)| 2.0 * (a - b) / n).collect();
            Ok((
                vec![
                    op("the model's outputs".to_owned(), "y", list("y", y), f32::NAN, None),
                    op("the targets".to_owned(), "t", list("t", &want), f32::NAN, None),
                    op(
                        "the loss: the mean of the squared differences".to_owned(),
                        "L = (1/n) Σ (y_i − t_i)²",
                        squares,
                        y.iter().zip(&want).map(|(a, b)| (a - b) * (a - b)).sum::<f32>() / n,
                        Some(engine_loss),
                    ),
                    op(
                        "the way back starts: the loss's gradient at each output".to_owned(),
                        "δy_i = 2 (y_i − t_i) / n",
                        list("δy", &dz),
                        f32::NAN,
                        None,
                    ),
                ],
                dz,
            ))
        }
    }
}

/// The weight's gradient from its node's input and the gradient at its output (for Dense and
/// Conv2d weights and biases; the engine's value for the rest), and the output entry it touches
/// most.
#[allow(clippy::too_many_arguments)]
fn weight_gradient(
    layer: &LayerSpec,
    pname: &str,
    at: &[usize],
    input: Option<&NodeOutput>,
    output: &NodeOutput,
    delta: &[f32],
    engine: f32,
    param: &str,
) -> (Operation, usize) {
    let done = |formula: String, terms: Vec<(String, f32)>, columns: Option<usize>, what: String| Operation {
        what,
        formula,
        result: sum(&terms),
        terms,
        columns,
        check: Some(engine),
    };
    let out_shape = &output.shape;
    match (layer, pname, input) {
        (LayerSpec::Dense { .. }, "weight", Some(x)) => {
            let (features, units) = (*x.shape.last().unwrap_or(&1), *out_shape.last().unwrap_or(&1));
            let (i, j) = (at[0], at[1]);
            let rows = x.values.len() / features.max(1);
            let terms: Vec<(String, f32)> = (0..rows)
                .map(|t| {
                    let (a, b) = (x.values[t * features + i], delta[t * units + j]);
                    let tag =
                        if rows > 1 { format!("x[{t},{i}] · δy[{t},{j}]") } else { format!("x[{i}] · δy[{j}]") };
                    (format!("{tag} ({} × {})", num(a), num(b)), a * b)
                })
                .collect();
            let t = argmax_abs(terms.iter().map(|t| t.1));
            let what = format!(
                "{param}[{i},{j}]'s gradient: the input it multiplies times the gradient at the unit it feeds{}",
                if rows > 1 { ", added over the positions" } else { "" }
            );
            (done(format!("∂L/∂W[{i},{j}] = Σ x[{i}] · δy[{j}]"), terms, None, what), t * units + j)
        }
        (LayerSpec::Dense { .. }, "bias", _) => {
            let units = *out_shape.last().unwrap_or(&1);
            let j = at[0];
            let rows = delta.len() / units.max(1);
            let terms: Vec<(String, f32)> = (0..rows).map(|t| (format!("δy[{t},{j}]"), delta[t * units + j])).collect();
            let t = argmax_abs(terms.iter().map(|t| t.1));
            (
                done(
                    format!("∂L/∂b[{j}] = Σ δy[{j}]"),
                    terms,
                    None,
                    format!("{param}[{j}]'s gradient: the gradient at the unit it is added to"),
                ),
                t * units + j,
            )
        }
        (LayerSpec::Conv2d { stride, padding, .. }, "weight", Some(x)) => {
            let (&[_, h, w_in], &[_, oh, ow]) = (x.shape.as_slice(), out_shape.as_slice()) else {
                return engine_gradient(layer, param, engine, delta);
            };
            let (f, c, ky, kx) = (at[0], at[1], at[2], at[3]);
            let mut terms = Vec::with_capacity(oh * ow);
            for oy in 0..oh {
                for ox in 0..ow {
                    let (iy, ix) = (
                        (oy * stride + ky) as isize - *padding as isize,
                        (ox * stride + kx) as isize - *padding as isize,
                    );
                    let v = if iy >= 0 && ix >= 0 && (iy as usize) < h && (ix as usize) < w_in {
                        x.values[(c * h + iy as usize) * w_in + ix as usize]
                    } else {
                        0.0
                    };
                    let g = delta[(f * oh + oy) * ow + ox];
                    terms.push((format!("x[{c},{iy},{ix}] · δy[{f},{oy},{ox}] ({} × {})", num(v), num(g)), v * g));
                }
            }
            let best = argmax_abs(terms.iter().map(|t| t.1));
            (
                done(
                    format!("∂L/∂W[{f},{c},{ky},{kx}] = Σ over output positions of x under the weight · δy"),
                    terms,
                    Some(ow),
                    format!(
                        "{param}[{f},{c},{ky},{kx}]'s gradient: the filter slides, so this weight met {} input values; \
                         each times the gradient where it landed, added up (laid out as filter {f}'s output)",
                        oh * ow
                    ),
                ),
                f * oh * ow + best,
            )
        }
        (LayerSpec::Conv2d { .. }, "bias", _) => {
            let [_, oh, ow] = out_shape[..] else { return engine_gradient(layer, param, engine, delta) };
            let f = at[0];
            let terms: Vec<(String, f32)> =
                (0..oh * ow).map(|k| (format!("δy[{f},{},{}]", k / ow, k % ow), delta[f * oh * ow + k])).collect();
            let best = argmax_abs(terms.iter().map(|t| t.1));
            (
                done(
                    format!("∂L/∂b[{f}] = Σ δy[{f}, ·, ·]"),
                    terms,
                    Some(ow),
                    format!("{param}[{f}]'s gradient: the bias is added at every position of filter {f}'s output"),
                ),
                f * oh * ow + best,
            )
        }
        (LayerSpec::Embedding { dim, .. }, "weight", Some(ids)) => {
            let (token, d) = (at[0], at[1]);
            let positions: Vec<usize> =
                ids.values.iter().enumerate().filter(|(_, &id)| id as usize == token).map(|(t, _)| t).collect();
            let terms: Vec<(String, f32)> = positions
                .iter()
                .map(|&t| (format!("δy[{t},{d}] (token {token} at position {t})"), delta[t * dim + d]))
                .collect();
            let what = if positions.is_empty() {
                format!(
                    "{param}[{token},{d}]'s gradient: row {token} of the table is looked up only where token {token} \
                     occurs, and it does not occur in this sample, so this step gives it no gradient (an optimiser \
                     with momentum still moves it)"
                )
            } else {
                format!(
                    "{param}[{token},{d}]'s gradient: the gradient at number {d} of every position holding token {token}, added up"
                )
            };
            let best = positions.get(argmax_abs(terms.iter().map(|t| t.1))).copied().unwrap_or(0);
            (
                done(
                    format!("∂L/∂W[{token},{d}] = Σ δy[t, {d}] over positions t with token {token}"),
                    terms,
                    None,
                    what,
                ),
                best * dim + d,
            )
        }
        _ => engine_gradient(layer, param, engine, delta),
    }
}

fn engine_gradient(layer: &LayerSpec, param: &str, engine: f32, delta: &[f32]) -> (Operation, usize) {
    (
        Operation {
            what: format!(
                "{param}'s gradient, as the engine's backward pass works it out inside the {} layer",
                layer.kind().label()
            ),
            formula: "∂L/∂w".to_owned(),
            terms: Vec::new(),
            columns: None,
            result: engine,
            check: None,
        },
        argmax_abs(delta.iter().copied()),
    )
}

/// A setting as a student reads it: four significant digits (`0.001266`, `1e-8`).
#[must_use]
pub fn short(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return v.to_string();
    }
    if v.abs() < 1e-4 {
        let text = format!("{v:.3e}");
        let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
        return format!("{}e{exponent}", mantissa.trim_end_matches('0').trim_end_matches('.'));
    }
    let digits = (3 - v.abs().log10().floor() as i32).clamp(0, 12) as usize;
    let text = format!("{v:.digits$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    }
}

/// The optimiser's update of one weight `w` with gradient `g` and state `(m, v)` at update
/// number `t`, computed as the optimiser's own kernel does (in f32, in its order).
fn update_operations(spec: OptimizerSpec, t: i32, w: f32, g: f32, m: f32, v: f32) -> (Vec<Operation>, f32) {
    let op = |what: &str, formula: String, terms: Vec<(&str, f32)>, result: f32| Operation {
        what: what.to_owned(),
        formula,
        terms: terms.into_iter().map(|(l, v)| (l.to_owned(), v)).collect(),
        columns: None,
        result,
        check: None,
    };
    let mut ops = Vec::new();
    let mut g = g;
    // L2 weight decay (Adam's and SGD's, not AdamW's decoupled one) joins the gradient first.
    let l2 = match spec {
        OptimizerSpec::Adam { weight_decay, .. } | OptimizerSpec::Sgd { weight_decay, .. } => weight_decay,
        OptimizerSpec::AdamW { .. } => 0.0,
    };
    if l2 > 0.0 {
        let decayed = g + l2 as f32 * w;
        ops.push(op(
            "weight decay (L2) adds a pull towards 0 to the gradient",
            format!("g = g + λ · w, λ = {l2}"),
            vec![("g", g), ("w", w)],
            decayed,
        ));
        g = decayed;
    }
    let step = match spec {
        OptimizerSpec::Adam { lr, beta1, beta2, eps, weight_decay }
        | OptimizerSpec::AdamW { lr, beta1, beta2, eps, weight_decay } => {
            let decoupled = matches!(spec, OptimizerSpec::AdamW { .. });
            let (b1, b2, eps32, lr32) = (beta1 as f32, beta2 as f32, eps as f32, lr as f32);
            let m1 = m * b1 + g * (1.0 - b1);
            ops.push(op(
                &format!(
                    "Adam's first moment: a running mean of this weight's gradients (it was {m:.6} after {} updates)",
                    t - 1
                ),
                format!("m = β₁ · m + (1 − β₁) · g, β₁ = {beta1}"),
                vec![("m before", m), ("g", g)],
                m1,
            ));
            let v1 = v * b2 + g.powi(2) * (1.0 - b2);
            ops.push(op(
                "Adam's second moment: a running mean of the squared gradients (how large they have been)",
                format!("v = β₂ · v + (1 − β₂) · g², β₂ = {beta2}"),
                vec![("v before", v), ("g²", g.powi(2))],
                v1,
            ));
            let m_hat = m1 * (1.0 - b1.powi(t)).recip();
            ops.push(op(
                &format!("the first moment corrected for starting at 0 (update number {t})"),
                format!("m_hat = m / (1 − β₁^{t})"),
                vec![("m", m1), ("1 − β₁^t", 1.0 - b1.powi(t))],
                m_hat,
            ));
            let v_hat = v1 * (1.0 - b2.powi(t)).recip();
            ops.push(op(
                "the second moment corrected the same way",
                format!("v_hat = v / (1 − β₂^{t})"),
                vec![("v", v1), ("1 − β₂^t", 1.0 - b2.powi(t))],
                v_hat,
            ));
            let mut step = lr32 * m_hat / (v_hat.sqrt() + eps32);
            ops.push(op(
                "the step: the learning rate times the mean gradient over its typical size, so every weight moves about lr",
                format!("Δ = lr · m_hat / (√v_hat + ε), lr = {}, ε = {}", short(lr), short(eps)),
                vec![("m_hat", m_hat), ("√v_hat", v_hat.sqrt())],
                step,
            ));
            if weight_decay > 0.0 && decoupled {
                let decay = (weight_decay * lr) as f32 * w;
                ops.push(op(
                    "AdamW's decoupled weight decay shrinks the weight a little on its own",
                    format!("Δ = Δ + λ · lr · w, λ = {weight_decay}"),
                    vec![("Δ", step), ("w", w)],
                    step + decay,
                ));
                step += decay;
            }
            step
        }
        OptimizerSpec::Sgd { lr, momentum, nesterov, .. } => {
            let lr32 = lr as f32;
            if momentum > 0.0 {
                let mu = momentum as f32;
                let velocity = g + mu * m;
                ops.push(op(
                    "the velocity: this gradient plus the last velocity, kept as far as the momentum says",
                    format!("v = g + μ · v, μ = {momentum}"),
                    vec![("g", g), ("v before", m)],
                    velocity,
                ));
                let step = if nesterov { (g + mu * velocity) * lr32 } else { velocity * lr32 };
                ops.push(op(
                    if nesterov { "the step (Nesterov: looking one velocity ahead)" } else { "the step" },
                    if nesterov {
                        format!("Δ = lr · (g + μ · v), lr = {}", short(lr))
                    } else {
                        format!("Δ = lr · v, lr = {}", short(lr))
                    },
                    vec![("v", velocity)],
                    step,
                ));
                step
            } else {
                let step = g * lr32;
                ops.push(op(
                    "the step: the gradient times the learning rate",
                    format!("Δ = lr · g, lr = {}", short(lr)),
                    vec![("g", g)],
                    step,
                ));
                step
            }
        }
    };
    let after = w - step;
    ops.push(op(
        "the new weight: downhill, against the gradient",
        "w′ = w − Δ".to_owned(),
        vec![("w", w), ("Δ", step)],
        after,
    ));
    (ops, after)
}
