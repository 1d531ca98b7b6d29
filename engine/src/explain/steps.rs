//! One output value of one node, worked out step by step with the real numbers of a sample: a
//! convolution's patch, kernel, products, their sum and the bias; a dense unit's inputs, weights
//! and sum; a pooling window; an activation; a softmax. Built from what an inspection already
//! holds (every node's output for the sample, every weight), so it needs no model; each
//! walkthrough ends on the value the model computed, which the tests compare.

use std::collections::BTreeMap;

use crate::graph::{Cell, GraphSpec, LayerKind, LayerSpec, SequencePooling, ShapeReport};
use crate::tensor::NodeOutput;
use crate::EngineError;

/// One operation: what it does, its formula, the numbers going in, and its result.
#[derive(Clone, Debug, PartialEq)]
pub struct Operation {
    pub what: String,
    pub formula: String,
    /// Labelled numbers going in (a patch, a kernel, products...).
    pub terms: Vec<(String, f32)>,
    /// How many columns the terms make when they are a picture (a patch, a kernel, a window:
    /// row by row, channel after channel); `None` for a plain list.
    pub columns: Option<usize>,
    pub result: f32,
    /// The same number as the engine's own pass computed it, where the walkthrough works a
    /// number out by hand that the engine also has (a gradient on the way back): shown beside the
    /// result so the two can be compared, and compared by the tests.
    pub check: Option<f32>,
}

/// A node's output value at one position, one operation at a time.
#[derive(Clone, Debug, PartialEq)]
pub struct Walkthrough {
    pub node: String,
    pub layer: String,
    /// The position in the node's output, as coordinates of its shape.
    pub position: Vec<usize>,
    pub operations: Vec<Operation>,
    /// What the model computed there (the last operation's result should match it).
    pub recorded: f32,
}

/// The coordinates of flat index `i` in `shape`.
pub(super) fn coords(mut i: usize, shape: &[usize]) -> Vec<usize> {
    let mut out = vec![0; shape.len()];
    for (o, &n) in out.iter_mut().zip(shape).rev() {
        *o = i % n.max(1);
        i /= n.max(1);
    }
    out
}

pub(super) fn label(at: &[usize]) -> String {
    format!("[{}]", at.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "))
}

/// Works out output value `index` (flat, of one sample) of node `id`. `outputs` are every node's
/// output for one sample (a recording pass), `weights` every parameter by `<node>.<param>`.
///
/// # Errors
/// A node that is not there or a kind without a walkthrough yet (it says which kinds have one).
pub fn walkthrough(
    spec: &GraphSpec,
    report: &ShapeReport,
    outputs: &[NodeOutput],
    weights: &BTreeMap<String, Vec<f32>>,
    id: &str,
    index: usize,
) -> Result<Walkthrough, EngineError> {
    let missing = |what: &str| EngineError::Settings(format!("{what} is not in this inspection"));
    let node = spec.node(id).ok_or_else(|| missing(id))?;
    let output = outputs.iter().find(|o| o.id == id).ok_or_else(|| missing(id))?;
    let size: usize = output.shape.iter().product();
    if index >= size {
        return Err(EngineError::Settings(format!("{id} has {size} values a sample, 0 to {}", size.saturating_sub(1))));
    }
    // The Input node reads the sample itself.
    let input = match report.nodes.get(id).and_then(|n| n.inputs.first()) {
        Some(input_id) => outputs.iter().find(|o| &o.id == input_id).ok_or_else(|| missing(input_id))?,
        None => output,
    };
    let x = &input.values[..input.shape.iter().product::<usize>()];
    // Every input (a merge has several).
    let inputs: Vec<&NodeOutput> = match report.nodes.get(id) {
        Some(n) if !n.inputs.is_empty() => n
            .inputs
            .iter()
            .map(|i| outputs.iter().find(|o| &o.id == i).ok_or_else(|| missing(i)))
            .collect::<Result<_, _>>()?,
        _ => vec![input],
    };
    let param = |p: &str| weights.get(&format!("{id}.{p}")).ok_or_else(|| missing(&format!("{id}.{p}")));
    let position = coords(index, &output.shape);
    let operations = match &node.layer {
        LayerSpec::Dense { bias, .. } => {
            // On a sequence the same weights act at every position: row t of the input.
            let units = *output.shape.last().unwrap_or(&1);
            let features = *input.shape.last().unwrap_or(&1);
            let (t, unit) = (index / units, index % units);
            let x = &x[t * features..(t + 1) * features];
            let at = if input.shape.len() > 1 { format!(" at position {t}") } else { String::new() };
            let w = param("weight")?;
            let products: Vec<(String, f32)> =
                x.iter()
                    .enumerate()
                    .map(|(i, &xi)| {
                        let wi = w[i * units + unit];
                        (format!("x{i} · w{i} ({xi:.4} × {wi:.4})"), xi * wi)
                    })
                    .collect();
            let sum: f32 = products.iter().map(|p| p.1).sum();
            let mut ops = vec![
                Operation {
                    what: format!("the {} inputs{at}", x.len()),
                    formula: "x".to_owned(),
                    terms: x.iter().enumerate().map(|(i, &v)| (format!("x{i}"), v)).collect(),
                    columns: None,
                    result: f32::NAN,
                    check: None,
                },
                Operation {
                    what: format!("unit {unit}'s weights (column {unit} of the weight matrix)"),
                    formula: format!("w = W[:, {unit}]"),
                    terms: (0..x.len()).map(|i| (format!("w{i}"), w[i * units + unit])).collect(),
                    columns: None,
                    result: f32::NAN,
                    check: None,
                },
                Operation {
                    what: "each input times its weight, added up".to_owned(),
                    formula: "s = Σ x_i · w_i".to_owned(),
                    terms: products,
                    columns: None,
                    result: sum,
                    check: None,
                },
            ];
            if *bias {
                let b = param("bias")?[unit];
                ops.push(Operation {
                    what: "plus the bias".to_owned(),
                    formula: "y = s + b".to_owned(),
                    terms: vec![("s".to_owned(), sum), ("b".to_owned(), b)],
                    columns: None,
                    result: sum + b,
                    check: None,
                });
            }
            ops
        }
        LayerSpec::Conv2d { kernel, stride, padding, .. } => {
            let [c_in, h, w_in] = input.shape[..] else { return Err(missing("an image input")) };
            let (f, oy, ox) = (position[0], position[1], position[2]);
            let w = param("weight")?;
            let k = *kernel;
            let mut patch = Vec::new();
            let mut kern = Vec::new();
            let mut products = Vec::new();
            for c in 0..c_in {
                for ky in 0..k {
                    for kx in 0..k {
                        let (iy, ix) = (
                            (oy * stride + ky) as isize - *padding as isize,
                            (ox * stride + kx) as isize - *padding as isize,
                        );
                        let v = if iy >= 0 && ix >= 0 && (iy as usize) < h && (ix as usize) < w_in {
                            x[(c * h + iy as usize) * w_in + ix as usize]
                        } else {
                            0.0
                        };
                        let wv = w[((f * c_in + c) * k + ky) * k + kx];
                        let tag = if c_in > 1 { format!("{c},{ky},{kx}") } else { format!("{ky},{kx}") };
                        patch.push((format!("x[{tag}]"), v));
                        kern.push((format!("w[{tag}]"), wv));
                        products.push((format!("x·w [{tag}]"), v * wv));
                    }
                }
            }
            let sum: f32 = products.iter().map(|p| p.1).sum();
            let b = param("bias")?[f];
            vec![
                Operation {
                    what: format!(
                        "the {k}x{k} patch under filter {f} at row {oy}, column {ox} ({c_in} channel(s); 0 outside the image)"
                    ),
                    formula: "x = the input's patch".to_owned(),
                    terms: patch,
                    columns: Some(k),
                    result: f32::NAN, check: None,
                },
                Operation {
                    what: format!("filter {f}'s kernel"),
                    formula: "w = W[f]".to_owned(),
                    terms: kern,
                    columns: Some(k),
                    result: f32::NAN, check: None,
                },
                Operation {
                    what: "each value times the kernel's weight there, added up".to_owned(),
                    formula: "s = Σ x · w".to_owned(),
                    terms: products,
                    columns: Some(k), result: sum, check: None,
                },
                Operation {
                    what: "plus the filter's bias".to_owned(),
                    formula: "y = s + b".to_owned(),
                    terms: vec![("s".to_owned(), sum), ("b".to_owned(), b)],
                    columns: None, result: sum + b, check: None,
                },
            ]
        }
        LayerSpec::MaxPool2d { size, stride } | LayerSpec::AvgPool2d { size, stride } => {
            let [_, h, w_in] = input.shape[..] else { return Err(missing("an image input")) };
            let stride = stride.unwrap_or(*size);
            let (c, oy, ox) = (position[0], position[1], position[2]);
            let window: Vec<(String, f32)> = (0..*size)
                .flat_map(|dy| (0..*size).map(move |dx| (dy, dx)))
                .map(|(dy, dx)| {
                    let (iy, ix) = (oy * stride + dy, ox * stride + dx);
                    (format!("x[{iy},{ix}]"), x[(c * h + iy) * w_in + ix])
                })
                .collect();
            let max = node.layer.kind() == LayerKind::MaxPool2d;
            let mut window = window;
            if max {
                // The first largest is the one the gradient goes back to.
                let top = window.iter().map(|t| t.1).fold(f32::NEG_INFINITY, f32::max);
                if let Some(t) = window.iter_mut().find(|t| t.1.to_bits() == top.to_bits()) {
                    t.0.push_str(" (the largest)");
                }
            }
            let result = if max {
                window.iter().map(|t| t.1).fold(f32::NEG_INFINITY, f32::max)
            } else {
                window.iter().map(|t| t.1).sum::<f32>() / window.len() as f32
            };
            vec![Operation {
                what: format!("the {size}x{size} window of channel {c} at row {oy}, column {ox}"),
                formula: if max { "y = max(window)".to_owned() } else { "y = mean(window)".to_owned() },
                terms: window,
                columns: Some(*size),
                result,
                check: None,
            }]
        }
        LayerSpec::Relu | LayerSpec::LeakyRelu { .. } | LayerSpec::Tanh | LayerSpec::Sigmoid | LayerSpec::Gelu => {
            let v = x[index];
            let y = match node.layer {
                LayerSpec::Relu => v.max(0.0),
                LayerSpec::LeakyRelu { slope } => {
                    if v > 0.0 {
                        v
                    } else {
                        slope * v
                    }
                }
                LayerSpec::Tanh => v.tanh(),
                LayerSpec::Sigmoid => 1.0 / (1.0 + (-v).exp()),
                _ => 0.5 * v * (1.0 + libm::erff(v / std::f32::consts::SQRT_2)),
            };
            vec![Operation {
                what: format!("the input at {} through the activation", label(&position)),
                formula: node.layer.kind().formula().to_owned(),
                terms: vec![("x".to_owned(), v)],
                columns: None,
                result: y, check: None,
            }]
        }
        LayerSpec::Softmax => {
            let classes = *output.shape.last().unwrap_or(&1);
            let row = index / classes * classes;
            let scores = &x[row..row + classes];
            let top = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let exps: Vec<(String, f32)> =
                scores.iter().enumerate().map(|(i, &s)| (format!("exp(z{i} - max)"), (s - top).exp())).collect();
            let total: f32 = exps.iter().map(|e| e.1).sum();
            let mine = exps[index - row].1;
            vec![
                Operation {
                    what: "the scores, each raised to e (less the largest, which changes nothing but keeps the numbers small)".to_owned(),
                    formula: "e^(z_i − max)".to_owned(),
                    terms: exps,
                    columns: None, result: total, check: None,
                },
                Operation {
                    what: format!("score {}'s share of their sum", index - row),
                    formula: "p = e^z / Σ e^(z_i)".to_owned(),
                    terms: vec![("e^z".to_owned(), mine), ("Σ".to_owned(), total)],
                    columns: None, result: mine / total, check: None,
                },
            ]
        }
        LayerSpec::Rnn(r) | LayerSpec::Lstm(r) | LayerSpec::Gru(r) => {
            let cell = node.layer.recurrent().map_or(Cell::Rnn, |(c, _)| c);
            let (time, hidden) = (input.shape[0], r.hidden);
            let column = if r.return_sequences { position[1] } else { position[0] };
            // A two-way layer's second half of units is the reverse direction's, whose last
            // state is the one at the first position.
            let reverse = column >= hidden;
            let suffix = if reverse { "_reverse" } else { "" };
            let params = [
                param(&format!("weight_ih{suffix}"))?,
                param(&format!("weight_hh{suffix}"))?,
                param(&format!("bias_ih{suffix}"))?,
                param(&format!("bias_hh{suffix}"))?,
            ];
            let t = match (r.return_sequences, reverse) {
                (true, _) => position[0],
                (false, false) => time - 1,
                (false, true) => 0,
            };
            recurrent_steps(cell, x, input.shape[1], hidden, params, (t, column % hidden), reverse)
        }
        LayerSpec::LayerNorm { eps } => {
            let d = *input.shape.last().unwrap_or(&1);
            let row = index / d * d;
            layer_norm_steps(&x[row..row + d], index - row, (param("gamma")?, param("beta")?), *eps, ("x", ""))
        }
        LayerSpec::BatchNorm { eps, .. } => {
            let c = position[0];
            let (mean, var) = (param("running_mean")?[c], param("running_var")?[c]);
            let (gamma, beta) = (param("gamma")?[c], param("beta")?[c]);
            let xhat = (x[index] - mean) / (var + eps).sqrt();
            vec![
                Operation {
                    what: format!(
                        "the value, and channel {c}'s mean and variance as training kept them (running averages over the batches; evaluation uses these, not this sample's)"
                    ),
                    formula: "x, μ_c, σ²_c".to_owned(),
                    terms: vec![("x".to_owned(), x[index]), ("μ".to_owned(), mean), ("σ²".to_owned(), var)],
                    columns: None,
                    result: f32::NAN,
                    check: None,
                },
                Operation {
                    what: "normalised: how many standard deviations from the channel's mean".to_owned(),
                    formula: format!("x̃ = (x − μ) / √(σ² + ε), ε = {eps}"),
                    terms: vec![("x − μ".to_owned(), x[index] - mean), ("√(σ² + ε)".to_owned(), (var + eps).sqrt())],
                    columns: None,
                    result: xhat,
                    check: None,
                },
                Operation {
                    what: format!("scaled and shifted by channel {c}'s learned γ and β"),
                    formula: "y = γ · x̃ + β".to_owned(),
                    terms: vec![("γ".to_owned(), gamma), ("x̃".to_owned(), xhat), ("β".to_owned(), beta)],
                    columns: None,
                    result: gamma * xhat + beta,
                    check: None,
                },
            ]
        }
        LayerSpec::Embedding { dim, .. } => {
            let (t, j) = (position[0], position[1]);
            let token = x[t] as usize;
            let table = param("weight")?;
            vec![
                Operation {
                    what: format!("the token id at position {t}"),
                    formula: "id = x[t]".to_owned(),
                    terms: vec![("id".to_owned(), x[t])],
                    columns: None,
                    result: f32::NAN,
                    check: None,
                },
                Operation {
                    what: format!("row {token} of the embedding table: that token's learned vector ({dim} numbers)"),
                    formula: format!("e = W[{token}, :]"),
                    terms: (0..*dim).map(|k| (format!("e{k}"), table[token * dim + k])).collect(),
                    columns: None,
                    result: f32::NAN,
                    check: None,
                },
                Operation {
                    what: format!("its number {j}: a lookup, no arithmetic"),
                    formula: format!("y = W[{token}, {j}]"),
                    terms: Vec::new(),
                    columns: None,
                    result: table[token * dim + j],
                    check: None,
                },
            ]
        }
        LayerSpec::PositionalEncoding { learned } => {
            let (t, c) = (position[0], position[1]);
            let dim = output.shape[1];
            let (code, what, formula) = if *learned {
                (param("weight")?[index], format!("position {t}'s learned code, number {c}"), format!("p = P[{t}, {c}]"))
            } else {
                let pair = (c / 2 * 2) as f64;
                let angle = t as f64 / 10000f64.powf(pair / dim as f64);
                let code = if c % 2 == 0 { angle.sin() } else { angle.cos() } as f32;
                (
                    code,
                    format!("position {t}'s code, number {c}: a wave whose speed depends on the number"),
                    format!(
                        "p = {}({t} / 10000^({}/{dim}))",
                        if c % 2 == 0 { "sin" } else { "cos" },
                        c / 2 * 2
                    ),
                )
            };
            vec![Operation {
                what: format!("{what}, added to the input there"),
                formula: format!("{formula};  y = x + p"),
                terms: vec![("x".to_owned(), x[index]), ("p".to_owned(), code)],
                columns: None,
                result: x[index] + code,
                check: None,
            }]
        }
        LayerSpec::Add => {
            let terms: Vec<(String, f32)> =
                inputs.iter().map(|i| (format!("{}{}", i.id, label(&position)), i.values[index])).collect();
            vec![Operation {
                what: "the inputs' values at the same position, added (a residual connection adds a layer's input to its output)".to_owned(),
                formula: "y = Σ inputs".to_owned(),
                result: terms.iter().map(|t| t.1).sum(),
                terms,
                columns: None,
                check: None,
            }]
        }
        LayerSpec::Concat => {
            let mut at = index;
            let mut from = inputs[0];
            for i in &inputs {
                let size: usize = i.shape.iter().product();
                if at < size {
                    from = i;
                    break;
                }
                at -= size;
            }
            let coords_in = coords(at, &from.shape);
            vec![Operation {
                what: format!("the inputs laid one after another: this value is {}{}", from.id, label(&coords_in)),
                formula: "y = [x₁, x₂, ...]".to_owned(),
                terms: vec![("x".to_owned(), from.values[at])],
                columns: None,
                result: from.values[at],
                check: None,
            }]
        }
        LayerSpec::Dropout { rate } => vec![Operation {
            what: format!(
                "outside training dropout does nothing (in training it zeroes a share {rate} of the values at random and scales the rest by 1/(1 − {rate}))"
            ),
            formula: "y = x".to_owned(),
            terms: vec![("x".to_owned(), x[index])],
            columns: None,
            result: x[index],
            check: None,
        }],
        LayerSpec::GlobalAvgPool => {
            let area: usize = input.shape[1..].iter().product();
            let c = index;
            let plane = &x[c * area..(c + 1) * area];
            vec![Operation {
                what: format!("the mean of channel {c}'s {area} values"),
                formula: "y = (1/n) Σ x".to_owned(),
                terms: plane.iter().enumerate().map(|(k, &v)| (format!("x{k}"), v)).collect(),
                columns: input.shape.last().copied(),
                result: plane.iter().sum::<f32>() / area as f32,
                check: None,
            }]
        }
        LayerSpec::SequencePool { mode } => {
            let (time, features) = (input.shape[0], input.shape[1]);
            let column: Vec<(String, f32)> = (0..time).map(|t| (format!("x[{t},{index}]"), x[t * features + index])).collect();
            let (what, formula, result) = match mode {
                SequencePooling::Mean => (
                    format!("feature {index} averaged over the {time} positions"),
                    "y = (1/T) Σ_t x[t]",
                    column.iter().map(|t| t.1).sum::<f32>() / time as f32,
                ),
                SequencePooling::Last => {
                    (format!("feature {index} at the last position"), "y = x[T − 1]", column[time - 1].1)
                }
                SequencePooling::First => (format!("feature {index} at the first position"), "y = x[0]", column[0].1),
            };
            vec![Operation { what, formula: formula.to_owned(), terms: column, columns: None, result, check: None }]
        }
        LayerSpec::TransformerBlock { heads, causal, .. } => transformer_steps(
            x,
            &input.shape,
            &|p: &str| param(p).map(Vec::as_slice),
            (*heads, *causal),
            (position[0], position[1]),
        )?,
        LayerSpec::Attention { heads, dim, causal } => {
            attention_steps(
                x,
                &input.shape,
                (param("qkv_weight")?, param("qkv_bias")?, param("out_weight")?, param("out_bias")?),
                (*heads, *dim, *causal),
                &position,
            )
        }
        LayerSpec::Input { .. } | LayerSpec::Flatten | LayerSpec::Reshape { .. } => vec![Operation {
            what: "the value as it comes in (this node only rearranges values)".to_owned(),
            formula: "y = x".to_owned(),
            terms: vec![("x".to_owned(), x.get(index).copied().unwrap_or(f32::NAN))],
            columns: None,
            result: x.get(index).copied().unwrap_or(f32::NAN), check: None,
        }],
    };
    Ok(Walkthrough {
        node: id.to_owned(),
        layer: node.layer.kind().label().to_owned(),
        position,
        operations,
        recorded: output.values[index],
    })
}

/// Self-attention at position `t`: every head's query there, scaled scores against every key,
/// their softmax, and the values mixed by it (all heads' side by side, `dim` numbers).
struct Attended {
    mixed: Vec<f32>,
    /// Per head: the query, the scores, the probabilities.
    heads: Vec<(Vec<f32>, Vec<f32>, Vec<f32>)>,
}

fn attend_at(
    x: &[f32],
    in_shape: &[usize],
    (qkv_w, qkv_b): (&[f32], &[f32]),
    (heads, dim, causal): (usize, usize, bool),
    t: usize,
) -> Attended {
    let (time, features) = (in_shape[0], in_shape[1]);
    let dh = dim / heads.max(1);
    // Every position's queries, keys and values: qkv[s, c] = x[s] . W[:, c] + b[c].
    let qkv: Vec<f32> = (0..time)
        .flat_map(|s| {
            (0..3 * dim).map(move |c| {
                (0..features).map(|i| x[s * features + i] * qkv_w[i * 3 * dim + c]).sum::<f32>() + qkv_b[c]
            })
        })
        .collect();
    let part = |s: usize, offset: usize, head: usize| -> &[f32] { &qkv[s * 3 * dim + offset + head * dh..][..dh] };
    let scale = 1.0 / (dh as f32).sqrt();
    let mut mixed = vec![0.0f32; dim];
    let mut per_head = Vec::with_capacity(heads);
    for head in 0..heads {
        let q = part(t, 0, head).to_vec();
        let scores: Vec<f32> = (0..time)
            .map(|s| {
                if causal && s > t {
                    f32::NEG_INFINITY
                } else {
                    q.iter().zip(part(s, dim, head)).map(|(a, b)| a * b).sum::<f32>() * scale
                }
            })
            .collect();
        let top = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let exps: Vec<f32> = scores.iter().map(|&z| (z - top).exp()).collect();
        let total: f32 = exps.iter().sum();
        let probs: Vec<f32> = exps.iter().map(|e| e / total).collect();
        for (s, p) in probs.iter().enumerate() {
            for (m, v) in mixed[head * dh..(head + 1) * dh].iter_mut().zip(part(s, 2 * dim, head)) {
                *m += p * v;
            }
        }
        per_head.push((q, scores, probs));
    }
    Attended { mixed, heads: per_head }
}

fn list(name: &str, v: &[f32]) -> Vec<(String, f32)> {
    v.iter().enumerate().map(|(i, &x)| (format!("{name}{i}"), x)).collect()
}

fn listed(what: String, formula: &str, terms: Vec<(String, f32)>, result: f32) -> Operation {
    Operation { what, formula: formula.to_owned(), terms, columns: None, result, check: None }
}

/// `y[t, j]` of multi-head self-attention: head `j / head size`'s query at `t`, its scaled
/// scores against every key, their softmax (the attention map's row), the weighted sum of the
/// values, and the output projection over every head's sums.
fn attention_steps(
    x: &[f32],
    in_shape: &[usize],
    (qkv_w, qkv_b, out_w, out_b): (&[f32], &[f32], &[f32], &[f32]),
    (heads, dim, causal): (usize, usize, bool),
    position: &[usize],
) -> Vec<Operation> {
    let (t, j) = (position[0], position[1]);
    let dh = dim / heads.max(1);
    let h = j / dh.max(1);
    let Attended { mixed, heads: per_head } = attend_at(x, in_shape, (qkv_w, qkv_b), (heads, dim, causal), t);
    let (q, scores_h, probs_h) = &per_head[h];
    let y: f32 = (0..dim).map(|i| mixed[i] * out_w[i * dim + j]).sum::<f32>() + out_b[j];
    vec![
        listed(
            format!("head {}'s query at position {t} (the input at {t} through the query weights)", h + 1),
            "q = x W_q + b_q",
            list("q", q),
            f32::NAN,
        ),
        listed(
            format!(
                "its score against each position's key, scaled by 1/√{dh}{}",
                if causal { " (later positions masked out)" } else { "" }
            ),
            &format!("z_s = (q · k_s) / √{dh}"),
            list("z", scores_h),
            f32::NAN,
        ),
        listed(
            format!("the softmax of the scores: where position {t} looks (row {t} of head {}'s attention map)", h + 1),
            "p_s = e^z_s / Σ e^z_r",
            list("p", probs_h),
            f32::NAN,
        ),
        listed(
            format!("the values mixed by those shares, every head's side by side ({dim} numbers)"),
            "m = Σ_s p_s v_s",
            list("m", &mixed),
            f32::NAN,
        ),
        listed(
            format!("output feature {j}: the mixed values through the output weights, plus the bias"),
            "y = Σ_i m_i W_o[i, j] + b_o[j]",
            (0..dim).map(|i| (format!("m{i} · W_o[{i},{j}]"), mixed[i] * out_w[i * dim + j])).collect(),
            y,
        ),
    ]
}

/// One row of layer norm: its mean and variance, the value normalised, scaled and shifted.
/// `names` tell the parameters apart inside a Transformer block.
fn layer_norm_steps(
    row: &[f32],
    j: usize,
    (gamma, beta): (&[f32], &[f32]),
    eps: f32,
    names: (&str, &str),
) -> Vec<Operation> {
    let d = row.len() as f32;
    let mean = row.iter().sum::<f32>() / d;
    let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / d;
    let xhat = (row[j] - mean) / (var + eps).sqrt();
    let (x, tag) = names;
    vec![
        listed(format!("the {} values of {x}'s row", row.len()), x, list(x, row), f32::NAN),
        listed("their mean".to_owned(), "μ = (1/d) Σ x_i", Vec::new(), mean),
        listed(
            "their variance: the mean squared distance from the mean".to_owned(),
            "σ² = (1/d) Σ (x_i − μ)²",
            Vec::new(),
            var,
        ),
        listed(
            format!("value {j} normalised: how many standard deviations from the row's mean"),
            &format!("x̃ = (x_{j} − μ) / √(σ² + ε), ε = {eps}"),
            vec![("x".to_owned(), row[j]), ("μ".to_owned(), mean), ("√(σ² + ε)".to_owned(), (var + eps).sqrt())],
            xhat,
        ),
        listed(
            format!("scaled and shifted by the learned γ{tag}[{j}] and β{tag}[{j}]"),
            "y = γ · x̃ + β",
            vec![("γ".to_owned(), gamma[j]), ("x̃".to_owned(), xhat), ("β".to_owned(), beta[j])],
            gamma[j] * xhat + beta[j],
        ),
    ]
}

/// Layer norm of a whole row (what the block's next part reads).
fn normalise(row: &[f32], gamma: &[f32], beta: &[f32], eps: f32) -> Vec<f32> {
    let d = row.len() as f32;
    let mean = row.iter().sum::<f32>() / d;
    let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / d;
    row.iter().zip(gamma.iter().zip(beta)).map(|(v, (g, b))| g * (v - mean) / (var + eps).sqrt() + b).collect()
}

fn gelu(v: f32) -> f32 {
    0.5 * v * (1.0 + libm::erff(v / std::f32::consts::SQRT_2))
}

/// `y[t, j]` of a pre-norm Transformer block: `u = x + Attention(LayerNorm₁(x))`, then
/// `y = u + W₂ GELU(W₁ LayerNorm₂(u) + b₁) + b₂`, at position `t`.
fn transformer_steps<'a>(
    x: &[f32],
    in_shape: &[usize],
    param: &dyn Fn(&str) -> Result<&'a [f32], EngineError>,
    (heads, causal): (usize, bool),
    (t, j): (usize, usize),
) -> Result<Vec<Operation>, EngineError> {
    const EPS: f32 = 1e-5;
    let (time, d) = (in_shape[0], in_shape[1]);
    let (g1, b1) = (param("ln1_gamma")?, param("ln1_beta")?);
    let normed: Vec<f32> = (0..time).flat_map(|s| normalise(&x[s * d..(s + 1) * d], g1, b1, EPS)).collect();
    let attended = attend_at(&normed, in_shape, (param("qkv_weight")?, param("qkv_bias")?), (heads, d, causal), t);
    let (out_w, out_b) = (param("out_weight")?, param("out_bias")?);
    let a: Vec<f32> =
        (0..d).map(|c| (0..d).map(|i| attended.mixed[i] * out_w[i * d + c]).sum::<f32>() + out_b[c]).collect();
    let u: Vec<f32> = (0..d).map(|c| x[t * d + c] + a[c]).collect();
    let (g2, b2) = (param("ln2_gamma")?, param("ln2_beta")?);
    let v = normalise(&u, g2, b2, EPS);
    let (w1, c1, w2, c2) = (param("ff1_weight")?, param("ff1_bias")?, param("ff2_weight")?, param("ff2_bias")?);
    let ff = c1.len();
    let hidden: Vec<f32> = (0..ff).map(|k| gelu((0..d).map(|i| v[i] * w1[i * ff + k]).sum::<f32>() + c1[k])).collect();
    let back: f32 = (0..ff).map(|k| hidden[k] * w2[k * d + j]).sum::<f32>() + c2[j];
    let dh = d / heads.max(1);
    let (_, _, probs) = &attended.heads[j / dh.max(1)];
    Ok(vec![
        listed(
            format!("position {t}'s input, normalised (layer norm 1: each row to mean 0 and spread 1, then γ₁ and β₁)"),
            "n = LayerNorm₁(x_t)",
            list("n", &normed[t * d..(t + 1) * d]),
            f32::NAN,
        ),
        listed(
            format!(
                "attention over the normalised rows: where position {t} looks, for head {} (every head mixes the values by its own shares)",
                j / dh.max(1) + 1
            ),
            "p_s = softmax_s((q · k_s) / √d_head)",
            list("p", probs),
            f32::NAN,
        ),
        listed(
            "the heads' mixed values through the output weights: the attention's answer at this position".to_owned(),
            "a = m W_o + b_o",
            list("a", &a),
            f32::NAN,
        ),
        listed(
            format!("the residual connection: the input added back, u[{j}] shown"),
            "u = x_t + a",
            vec![("x".to_owned(), x[t * d + j]), ("a".to_owned(), a[j])],
            u[j],
        ),
        listed("u normalised again (layer norm 2)".to_owned(), "v = LayerNorm₂(u)", list("v", &v), f32::NAN),
        listed(
            format!("the feed-forward layer's {ff} hidden units: v through W₁ plus b₁, then GELU"),
            "h = GELU(v W₁ + b₁)",
            list("h", &hidden),
            f32::NAN,
        ),
        listed(
            format!("back to feature {j}: the hidden units through W₂, plus b₂"),
            "f = Σ_k h_k W₂[k, j] + b₂[j]",
            (0..ff)
                .map(|k| (format!("h{k} · W₂[{k},{j}]"), hidden[k] * w2[k * d + j]))
                .chain(std::iter::once((format!("b₂[{j}]"), c2[j])))
                .collect(),
            back,
        ),
        listed(
            "the second residual connection: u added back".to_owned(),
            "y = u + f",
            vec![("u".to_owned(), u[j]), ("f".to_owned(), back)],
            u[j] + back,
        ),
    ])
}

/// `h[t, j]` of a recurrent layer (PyTorch's gate orders: an LSTM's `i, f, g, o`, a GRU's
/// `r, z, n`; weights stored `[in, gates * hidden]`), one direction of it: the states before `t`
/// (worked out from the sequence's start, or its end for the reverse direction), unit `j`'s gate
/// sums, the gates, and the new state.
fn recurrent_steps(
    cell: Cell,
    x: &[f32],
    features: usize,
    hidden: usize,
    [w_ih, w_hh, b_ih, b_hh]: [&Vec<f32>; 4],
    (t, j): (usize, usize),
    reverse: bool,
) -> Vec<Operation> {
    let time = x.len() / features.max(1);
    let gates = cell.gates() * hidden;
    let sigmoid = |v: f32| 1.0 / (1.0 + (-v).exp());
    // The input's part and the state's part of every gate sum at step s.
    let parts = |s: usize, h: &[f32]| -> (Vec<f32>, Vec<f32>) {
        let from_x = (0..gates)
            .map(|g| (0..features).map(|i| x[s * features + i] * w_ih[i * gates + g]).sum::<f32>() + b_ih[g])
            .collect();
        let from_h =
            (0..gates).map(|g| (0..hidden).map(|k| h[k] * w_hh[k * gates + g]).sum::<f32>() + b_hh[g]).collect();
        (from_x, from_h)
    };
    // Runs one step from state (h, c).
    let advance = |s: usize, h: &mut Vec<f32>, c: &mut Vec<f32>| {
        let (ax, ah) = parts(s, h);
        let old = h.clone();
        for k in 0..hidden {
            match cell {
                Cell::Rnn => h[k] = (ax[k] + ah[k]).tanh(),
                Cell::Lstm => {
                    let a = |g: usize| ax[g * hidden + k] + ah[g * hidden + k];
                    let (i, f, g, o) = (sigmoid(a(0)), sigmoid(a(1)), a(2).tanh(), sigmoid(a(3)));
                    c[k] = f * c[k] + i * g;
                    h[k] = o * c[k].tanh();
                }
                Cell::Gru => {
                    let r = sigmoid(ax[k] + ah[k]);
                    let z = sigmoid(ax[hidden + k] + ah[hidden + k]);
                    let n = (ax[2 * hidden + k] + r * ah[2 * hidden + k]).tanh();
                    h[k] = (1.0 - z) * n + z * old[k];
                }
            }
        }
    };
    let (mut h, mut c) = (vec![0.0f32; hidden], vec![0.0f32; hidden]);
    let before: Vec<usize> = if reverse { (t + 1..time).rev().collect() } else { (0..t).collect() };
    for &s in &before {
        advance(s, &mut h, &mut c);
    }
    let (ax, ah) = parts(t, &h);
    let direction = if reverse { " (the reverse direction reads the sequence from its end)" } else { "" };
    let previous = match (before.last(), reverse) {
        (Some(&s), _) => format!("the hidden state after step {s}{direction}"),
        (None, false) => "the hidden state before the first step: all 0".to_owned(),
        (None, true) => {
            "the hidden state before the reverse direction's first step (the last position): all 0".to_owned()
        }
    };
    let mut ops = vec![
        listed(format!("the input at step {t}"), "x_t", list("x", &x[t * features..(t + 1) * features]), f32::NAN),
        listed(previous, "h_prev", list("h", &h), f32::NAN),
    ];
    let sum_at = |g: usize| ax[g * hidden + j] + ah[g * hidden + j];
    match cell {
        Cell::Rnn => {
            let a = sum_at(0);
            ops.push(listed(
                format!("unit {j}'s sum: the input and the last hidden state through their weights, plus two biases"),
                "a = x_t W_ih[:, j] + h_prev W_hh[:, j] + b_ih[j] + b_hh[j]",
                vec![("from x".to_owned(), ax[j]), ("from h".to_owned(), ah[j])],
                a,
            ));
            ops.push(listed(
                "the new hidden state: the sum squashed to -1..1".to_owned(),
                "h_t = tanh(a)",
                vec![("a".to_owned(), a)],
                a.tanh(),
            ));
        }
        Cell::Lstm => {
            let pre = [sum_at(0), sum_at(1), sum_at(2), sum_at(3)];
            let (i, f, g, o) = (sigmoid(pre[0]), sigmoid(pre[1]), pre[2].tanh(), sigmoid(pre[3]));
            let cell_state = f * c[j] + i * g;
            ops.extend([
                listed(
                    format!("unit {j}'s four gate sums: each the input and the last hidden state through their weights, plus two biases"),
                    "a_k = x_t W_ih[:, k] + h_prev W_hh[:, k] + b_ih[k] + b_hh[k]",
                    vec![("a_i".to_owned(), pre[0]), ("a_f".to_owned(), pre[1]), ("a_g".to_owned(), pre[2]), ("a_o".to_owned(), pre[3])],
                    f32::NAN,
                ),
                listed(
                    "the gates: input, forget and output squashed to 0..1, the candidate to -1..1".to_owned(),
                    "i = σ(a_i), f = σ(a_f), g = tanh(a_g), o = σ(a_o)",
                    vec![("i".to_owned(), i), ("f".to_owned(), f), ("g".to_owned(), g), ("o".to_owned(), o)],
                    f32::NAN,
                ),
                listed(
                    "the cell state: the old one kept as far as f says, plus the candidate let in as far as i says".to_owned(),
                    "c_t = f · c_prev + i · g",
                    vec![("f".to_owned(), f), ("c_prev".to_owned(), c[j]), ("i".to_owned(), i), ("g".to_owned(), g)],
                    cell_state,
                ),
                listed(
                    "the hidden state: the cell state squashed, let out as far as o says".to_owned(),
                    "h_t = o · tanh(c_t)",
                    vec![("o".to_owned(), o), ("c_t".to_owned(), cell_state)],
                    o * cell_state.tanh(),
                ),
            ]);
        }
        Cell::Gru => {
            let (r, z) = (sigmoid(sum_at(0)), sigmoid(sum_at(1)));
            let (nx, nh) = (ax[2 * hidden + j], ah[2 * hidden + j]);
            let n = (nx + r * nh).tanh();
            ops.extend([
                listed(
                    format!("unit {j}'s reset and update gate sums: the input and the last hidden state through their weights, plus two biases"),
                    "a_r = x_t W_ih[:, r] + h_prev W_hh[:, r] + biases;  a_z likewise",
                    vec![("a_r".to_owned(), sum_at(0)), ("a_z".to_owned(), sum_at(1))],
                    f32::NAN,
                ),
                listed(
                    "the gates squashed to 0..1: r says how much of the old state the candidate may read, z how much of the old state to keep".to_owned(),
                    "r = σ(a_r), z = σ(a_z)",
                    vec![("r".to_owned(), r), ("z".to_owned(), z)],
                    f32::NAN,
                ),
                listed(
                    "the candidate: the input's part plus the old state's part as far as r lets it, squashed to -1..1".to_owned(),
                    "n = tanh(x_t W_ih[:, n] + b_ih[n] + r · (h_prev W_hh[:, n] + b_hh[n]))",
                    vec![("from x".to_owned(), nx), ("r".to_owned(), r), ("from h".to_owned(), nh)],
                    n,
                ),
                listed(
                    "the new hidden state: a blend of the candidate and the old state, z deciding".to_owned(),
                    "h_t = (1 − z) · n + z · h_prev",
                    vec![("z".to_owned(), z), ("n".to_owned(), n), ("h_prev".to_owned(), h[j])],
                    (1.0 - z) * n + z * h[j],
                ),
            ]);
        }
    }
    ops
}
