//! One output value of one node, worked out step by step with the real numbers of a sample: a
//! convolution's patch, kernel, products, their sum and the bias; a dense unit's inputs, weights
//! and sum; a pooling window; an activation; a softmax. Built from what an inspection already
//! holds (every node's output for the sample, every weight), so it needs no model; each
//! walkthrough ends on the value the model computed, which the tests compare.

use std::collections::BTreeMap;

use crate::graph::{GraphSpec, LayerKind, LayerSpec, ShapeReport};
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
    let param = |p: &str| weights.get(&format!("{id}.{p}")).ok_or_else(|| missing(&format!("{id}.{p}")));
    let position = coords(index, &output.shape);
    let operations = match &node.layer {
        LayerSpec::Dense { bias, .. } if input.shape.len() == 1 => {
            let units = output.shape[0];
            let w = param("weight")?;
            let products: Vec<(String, f32)> =
                x.iter().enumerate().map(|(i, &xi)| (format!("x{i} · w{i}"), xi * w[i * units + index])).collect();
            let sum: f32 = products.iter().map(|p| p.1).sum();
            let mut ops = vec![
                Operation {
                    what: format!("the {} inputs", x.len()),
                    formula: "x".to_owned(),
                    terms: x.iter().enumerate().map(|(i, &v)| (format!("x{i}"), v)).collect(),
                    columns: None,
                    result: f32::NAN, check: None,
                },
                Operation {
                    what: format!("unit {index}'s weights (column {index} of the weight matrix)"),
                    formula: format!("w = W[:, {index}]"),
                    terms: (0..x.len()).map(|i| (format!("w{i}"), w[i * units + index])).collect(),
                    columns: None,
                    result: f32::NAN, check: None,
                },
                Operation {
                    what: "each input times its weight, added up".to_owned(),
                    formula: "s = Σ x_i · w_i".to_owned(),
                    terms: products,
                    columns: None,
                    result: sum, check: None,
                },
            ];
            if *bias {
                let b = param("bias")?[index];
                ops.push(Operation {
                    what: "plus the bias".to_owned(),
                    formula: "y = s + b".to_owned(),
                    terms: vec![("s".to_owned(), sum), ("b".to_owned(), b)],
                    columns: None,
                    result: sum + b, check: None,
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
        LayerSpec::Lstm(r) if !r.bidirectional => {
            let params = [param("weight_ih")?, param("weight_hh")?, param("bias_ih")?, param("bias_hh")?];
            let (time, hidden) = (input.shape[0], r.hidden);
            let (t, j) = if r.return_sequences { (position[0], position[1]) } else { (time - 1, position[0]) };
            lstm_steps(x, input.shape[1], hidden, params, (t, j))
        }
        LayerSpec::Attention { heads, dim, causal } => {
            attention_steps(x, &input.shape, (param("qkv_weight")?, param("qkv_bias")?, param("out_weight")?, param("out_bias")?), (*heads, *dim, *causal), &position)
        }
        LayerSpec::Input { .. } | LayerSpec::Flatten | LayerSpec::Reshape { .. } => vec![Operation {
            what: "the value as it comes in (this node only rearranges values)".to_owned(),
            formula: "y = x".to_owned(),
            terms: vec![("x".to_owned(), x.get(index).copied().unwrap_or(f32::NAN))],
            columns: None,
            result: x.get(index).copied().unwrap_or(f32::NAN), check: None,
        }],
        other => {
            return Err(EngineError::Settings(format!(
                "{id} ({}) has no step-by-step view yet: it exists for Dense, Conv2d, pooling, activations, Softmax, MultiHeadAttention and (one-way) LSTM",
                other.kind().label()
            )))
        }
    };
    Ok(Walkthrough {
        node: id.to_owned(),
        layer: node.layer.kind().label().to_owned(),
        position,
        operations,
        recorded: output.values[index],
    })
}

/// `y[t, j]` of multi-head self-attention: head `j / head size`'s query at `t`, its scaled
/// scores against every key, their softmax (the attention map's row), the weighted sum of the
/// values, and the output projection over every head's sums.
fn attention_steps(
    x: &[f32],
    in_shape: &[usize],
    (qkv_w, qkv_b, out_w, out_b): (&Vec<f32>, &Vec<f32>, &Vec<f32>, &Vec<f32>),
    (heads, dim, causal): (usize, usize, bool),
    position: &[usize],
) -> Vec<Operation> {
    let (time, features) = (in_shape[0], in_shape[1]);
    let (t, j) = (position[0], position[1]);
    let dh = dim / heads.max(1);
    let h = j / dh.max(1);
    // Every position's queries, keys and values: qkv[s, c] = x[s] . W[:, c] + b[c].
    let qkv: Vec<f32> = (0..time)
        .flat_map(|s| {
            (0..3 * dim).map(move |c| {
                (0..features).map(|i| x[s * features + i] * qkv_w[i * 3 * dim + c]).sum::<f32>() + qkv_b[c]
            })
        })
        .collect();
    let part =
        |s: usize, offset: usize, head: usize| -> Vec<f32> { qkv[s * 3 * dim + offset + head * dh..][..dh].to_vec() };
    let scale = 1.0 / (dh as f32).sqrt();
    // Every head's weighted sums at t (the output projection reads them all).
    let mut mixed = vec![0.0f32; dim];
    let mut probs_h = Vec::new();
    let mut scores_h = Vec::new();
    for head in 0..heads {
        let q = part(t, 0, head);
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
        if head == h {
            probs_h = probs;
            scores_h = scores;
        }
    }
    let q = part(t, 0, h);
    let y: f32 = (0..dim).map(|i| mixed[i] * out_w[i * dim + j]).sum::<f32>() + out_b[j];
    let list = |name: &str, v: &[f32]| v.iter().enumerate().map(|(i, &x)| (format!("{name}{i}"), x)).collect();
    vec![
        Operation {
            what: format!("head {h}'s query at position {t} (the input at {t} through the query weights)"),
            formula: "q = x W_q + b_q".to_owned(),
            terms: list("q", &q),
            columns: None,
            result: f32::NAN,
            check: None,
        },
        Operation {
            what: format!(
                "its score against each position's key, scaled by 1/√{dh}{}",
                if causal { " (later positions masked out)" } else { "" }
            ),
            formula: format!("z_s = (q · k_s) / √{dh}"),
            terms: list("z", &scores_h),
            columns: None,
            result: f32::NAN,
            check: None,
        },
        Operation {
            what: format!("the softmax of the scores: where position {t} looks (row {t} of head {h}'s attention map)"),
            formula: "p_s = e^z_s / Σ e^z_r".to_owned(),
            terms: list("p", &probs_h),
            columns: None,
            result: f32::NAN,
            check: None,
        },
        Operation {
            what: format!("the values mixed by those shares, every head's side by side ({dim} numbers)"),
            formula: "m = Σ_s p_s v_s".to_owned(),
            terms: list("m", &mixed),
            columns: None,
            result: f32::NAN,
            check: None,
        },
        Operation {
            what: format!("output feature {j}: the mixed values through the output weights, plus the bias"),
            formula: "y = Σ_i m_i W_o[i, j] + b_o[j]".to_owned(),
            terms: (0..dim).map(|i| (format!("m{i} · W_o[{i},{j}]"), mixed[i] * out_w[i * dim + j])).collect(),
            columns: None,
            result: y,
            check: None,
        },
    ]
}

/// `h[t, j]` of an LSTM (PyTorch's gate order `i, f, g, o`; weights stored `[in, 4 * hidden]`):
/// the states at `t - 1` (worked out from the start), unit `j`'s four gate sums, the gates, the
/// new cell state and the hidden state.
fn lstm_steps(
    x: &[f32],
    features: usize,
    hidden: usize,
    [w_ih, w_hh, b_ih, b_hh]: [&Vec<f32>; 4],
    (t, j): (usize, usize),
) -> Vec<Operation> {
    let gates = 4 * hidden;
    let sigmoid = |v: f32| 1.0 / (1.0 + (-v).exp());
    // The gate sums of every unit at step s from the states before it.
    let sums = |s: usize, h: &[f32]| -> Vec<f32> {
        (0..gates)
            .map(|g| {
                let from_x: f32 = (0..features).map(|i| x[s * features + i] * w_ih[i * gates + g]).sum();
                let from_h: f32 = (0..hidden).map(|k| h[k] * w_hh[k * gates + g]).sum();
                from_x + from_h + b_ih[g] + b_hh[g]
            })
            .collect()
    };
    let (mut h, mut c) = (vec![0.0f32; hidden], vec![0.0f32; hidden]);
    for s in 0..t {
        let a = sums(s, &h);
        for k in 0..hidden {
            let (i, f, g, o) =
                (sigmoid(a[k]), sigmoid(a[hidden + k]), a[2 * hidden + k].tanh(), sigmoid(a[3 * hidden + k]));
            c[k] = f * c[k] + i * g;
            h[k] = o * c[k].tanh();
        }
    }
    let a = sums(t, &h);
    let pre = [a[j], a[hidden + j], a[2 * hidden + j], a[3 * hidden + j]];
    let (i, f, g, o) = (sigmoid(pre[0]), sigmoid(pre[1]), pre[2].tanh(), sigmoid(pre[3]));
    let cell = f * c[j] + i * g;
    let out = o * cell.tanh();
    let list = |name: &str, v: &[f32]| v.iter().enumerate().map(|(k, &x)| (format!("{name}{k}"), x)).collect();
    vec![
        Operation {
            what: format!("the input at step {t}"),
            formula: "x_t".to_owned(),
            terms: list("x", &x[t * features..(t + 1) * features]),
            columns: None,
            result: f32::NAN, check: None,
        },
        Operation {
            what: format!("the hidden state after step {} (all 0 before the first step)", t.saturating_sub(1)),
            formula: "h_(t−1)".to_owned(),
            terms: list("h", &h),
            columns: None,
            result: f32::NAN, check: None,
        },
        Operation {
            what: format!("unit {j}'s four gate sums: each the input and the last hidden state through their weights, plus two biases"),
            formula: "a_k = x_t W_ih[:, k] + h_(t−1) W_hh[:, k] + b_ih[k] + b_hh[k]".to_owned(),
            terms: vec![("a_i".to_owned(), pre[0]), ("a_f".to_owned(), pre[1]), ("a_g".to_owned(), pre[2]), ("a_o".to_owned(), pre[3])],
            columns: None,
            result: f32::NAN, check: None,
        },
        Operation {
            what: "the gates: input, forget and output squashed to 0..1, the candidate to -1..1".to_owned(),
            formula: "i = σ(a_i), f = σ(a_f), g = tanh(a_g), o = σ(a_o)".to_owned(),
            terms: vec![("i".to_owned(), i), ("f".to_owned(), f), ("g".to_owned(), g), ("o".to_owned(), o)],
            columns: None,
            result: f32::NAN, check: None,
        },
        Operation {
            what: "the cell state: the old one kept as far as f says, plus the candidate let in as far as i says".to_owned(),
            formula: "c_t = f · c_(t−1) + i · g".to_owned(),
            terms: vec![("f".to_owned(), f), ("c_(t−1)".to_owned(), c[j]), ("i".to_owned(), i), ("g".to_owned(), g)],
            columns: None,
            result: cell, check: None,
        },
        Operation {
            what: "the hidden state: the cell state squashed, let out as far as o says".to_owned(),
            formula: "h_t = o · tanh(c_t)".to_owned(),
            terms: vec![("o".to_owned(), o), ("c_t".to_owned(), cell)],
            columns: None,
            result: out, check: None,
        },
    ]
}
