//! Each layer's forward pass on hand-computed values.

use crate::common::{edge, node};
use glassbox_engine::graph::{GraphSpec, LayerSpec};
use glassbox_engine::tensor::Model;

fn run(layers: Vec<LayerSpec>, weights: &[(&str, Vec<f32>)], input: &[f32]) -> Vec<f32> {
    let mut model = Model::new(&GraphSpec::sequential(layers), 0).expect("valid graph");
    for (name, w) in weights {
        model.set_weight(name, w).expect("weight fits");
    }
    model.predict(input, 1).expect("input fits")
}

fn assert_close(got: &[f32], want: &[f32]) {
    assert_eq!(got.len(), want.len(), "{got:?} vs {want:?}");
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() < 1e-4, "{got:?} vs {want:?}");
    }
}

#[test]
fn dense_is_x_w_plus_b() {
    let y = run(
        vec![LayerSpec::Input { shape: vec![2] }, LayerSpec::Dense { units: 3, bias: true }],
        &[("dense1.weight", vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]), ("dense1.bias", vec![0.5, 0.0, -1.0])],
        &[1.0, 2.0],
    );
    assert_close(&y, &[9.5, 12.0, 14.0]);
}

#[test]
fn dense_applies_per_position_of_a_sequence() {
    let y = run(
        vec![LayerSpec::Input { shape: vec![2, 2] }, LayerSpec::Dense { units: 1, bias: false }],
        &[("dense1.weight", vec![1.0, 10.0])],
        &[1.0, 2.0, 3.0, 4.0],
    );
    assert_close(&y, &[21.0, 43.0]);
}

#[test]
fn conv_with_and_without_padding_and_stride() {
    let x: Vec<f32> = (1..=9).map(|v| v as f32).collect();
    let kernel = vec![1.0, 0.0, 0.0, 1.0];
    let y = run(
        vec![
            LayerSpec::Input { shape: vec![1, 3, 3] },
            LayerSpec::Conv2d { filters: 1, kernel: 2, stride: 1, padding: 0 },
        ],
        &[("conv2d1.weight", kernel.clone()), ("conv2d1.bias", vec![0.0])],
        &x,
    );
    assert_close(&y, &[6.0, 8.0, 12.0, 14.0]);
    let y = run(
        vec![
            LayerSpec::Input { shape: vec![1, 3, 3] },
            LayerSpec::Conv2d { filters: 1, kernel: 2, stride: 2, padding: 1 },
        ],
        &[("conv2d1.weight", kernel), ("conv2d1.bias", vec![1.0])],
        &x,
    );
    assert_close(&y, &[2.0, 4.0, 8.0, 15.0]);
}

#[test]
fn conv_sums_over_channels_per_filter() {
    // Two channels, two 1x1 filters: filter 0 adds the channels, filter 1 subtracts.
    let y = run(
        vec![
            LayerSpec::Input { shape: vec![2, 1, 2] },
            LayerSpec::Conv2d { filters: 2, kernel: 1, stride: 1, padding: 0 },
        ],
        &[("conv2d1.weight", vec![1.0, 1.0, 1.0, -1.0]), ("conv2d1.bias", vec![0.0, 0.0])],
        &[1.0, 2.0, 10.0, 20.0],
    );
    assert_close(&y, &[11.0, 22.0, -9.0, -18.0]);
}

#[test]
fn pooling() {
    let x: Vec<f32> = (1..=16).map(|v| v as f32).collect();
    let shape = LayerSpec::Input { shape: vec![1, 4, 4] };
    assert_close(
        &run(vec![shape.clone(), LayerSpec::MaxPool2d { size: 2, stride: None }], &[], &x),
        &[6.0, 8.0, 14.0, 16.0],
    );
    assert_close(
        &run(vec![shape.clone(), LayerSpec::AvgPool2d { size: 2, stride: None }], &[], &x),
        &[3.5, 5.5, 11.5, 13.5],
    );
    assert_close(
        &run(vec![shape.clone(), LayerSpec::MaxPool2d { size: 3, stride: Some(1) }], &[], &x),
        &[11.0, 12.0, 15.0, 16.0],
    );
    assert_close(&run(vec![shape, LayerSpec::GlobalAvgPool], &[], &x), &[8.5]);
}

#[test]
fn activations() {
    let x = [-2.0, 0.0, 3.0];
    let input = LayerSpec::Input { shape: vec![3] };
    assert_close(&run(vec![input.clone(), LayerSpec::Relu], &[], &x), &[0.0, 0.0, 3.0]);
    assert_close(&run(vec![input.clone(), LayerSpec::LeakyRelu { slope: 0.1 }], &[], &x), &[-0.2, 0.0, 3.0]);
    assert_close(&run(vec![input.clone(), LayerSpec::Tanh], &[], &x), &x.map(f32::tanh));
    assert_close(&run(vec![input.clone(), LayerSpec::Sigmoid], &[], &x), &x.map(|v: f32| 1.0 / (1.0 + (-v).exp())));
    // GELU(x) = x * Phi(x): Phi(-2) = 0.0227501, Phi(3) = 0.9986501.
    assert_close(&run(vec![input.clone(), LayerSpec::Gelu], &[], &x), &[-2.0 * 0.022_750_1, 0.0, 3.0 * 0.998_650_1]);
    let e: Vec<f32> = x.iter().map(|v| v.exp()).collect();
    let s: f32 = e.iter().sum();
    assert_close(&run(vec![input.clone(), LayerSpec::Softmax], &[], &x), &e.iter().map(|v| v / s).collect::<Vec<_>>());
    // Dropout is the identity outside training.
    assert_close(&run(vec![input, LayerSpec::Dropout { rate: 0.5 }], &[], &x), &x);
}

#[test]
fn normalisations() {
    let x = [1.0, 2.0, 3.0];
    let sd = (2.0f32 / 3.0 + 1e-5).sqrt();
    let y = run(
        vec![LayerSpec::Input { shape: vec![3] }, LayerSpec::LayerNorm { eps: 1e-5 }],
        &[("layernorm1.gamma", vec![1.0, 2.0, 1.0]), ("layernorm1.beta", vec![0.0, 0.0, 1.0])],
        &x,
    );
    assert_close(&y, &[-1.0 / sd, 0.0, 1.0 / sd + 1.0]);
    // Batch norm in evaluation uses the running statistics.
    let mut model = Model::new(
        &GraphSpec::sequential(vec![
            LayerSpec::Input { shape: vec![2, 1, 1] },
            LayerSpec::BatchNorm { momentum: 0.1, eps: 1e-9 },
        ]),
        0,
    )
    .expect("valid");
    model.set_weight("batchnorm1.running_mean", &[1.0, -1.0]).expect("fits");
    model.set_weight("batchnorm1.running_var", &[4.0, 1.0]).expect("fits");
    model.set_weight("batchnorm1.gamma", &[1.0, 3.0]).expect("fits");
    assert_close(&model.predict(&[5.0, 0.0], 1).expect("fits"), &[2.0, 3.0]);
}

#[test]
fn add_concat_and_recording() {
    let g = GraphSpec {
        nodes: vec![
            node("in", LayerSpec::Input { shape: vec![2] }),
            node("relu", LayerSpec::Relu),
            node("sum", LayerSpec::Add),
            node("cat", LayerSpec::Concat),
        ],
        edges: vec![
            edge("in", "relu", 0),
            edge("in", "sum", 0),
            edge("relu", "sum", 1),
            edge("sum", "cat", 0),
            edge("in", "cat", 1),
        ],
        output: None,
    };
    let mut model = Model::new(&g, 0).expect("valid");
    let rec = model.forward_record(&[-1.0, 2.0, 3.0, -4.0], 2).expect("fits");
    let ids: Vec<&str> = rec.iter().map(|o| o.id.as_str()).collect();
    assert_eq!(ids, ["in", "relu", "sum", "cat"]);
    assert_close(&rec[2].values, &[-1.0, 4.0, 6.0, -4.0]);
    assert_eq!(rec[3].shape, vec![4]);
    assert_close(&rec[3].values, &[-1.0, 4.0, -1.0, 2.0, 6.0, -4.0, 3.0, -4.0]);
    let predicted = model.predict(&[-1.0, 2.0, 3.0, -4.0], 2).expect("fits");
    assert_eq!(predicted, rec[3].values, "recording does not change results");
}

#[test]
fn evaluating_with_outputs_agrees_with_evaluate_and_predict() {
    use glassbox_engine::data::{toy_2d, Pattern2d};
    use glassbox_engine::tensor::LossSpec;
    let graph = GraphSpec::sequential(vec![
        LayerSpec::Input { shape: vec![2] },
        LayerSpec::Dense { units: 8, bias: true },
        LayerSpec::Tanh,
        LayerSpec::Dense { units: 2, bias: true },
    ]);
    let mut model = Model::new(&graph, 4).expect("compiles");
    let data = toy_2d(Pattern2d::Xor, 40, 0.0, 2);
    let batch = data.batch(&(0..40).collect::<Vec<_>>());
    let (stats, outputs) = model.evaluate_with_outputs(&batch, LossSpec::CrossEntropy).expect("runs");
    let alone = model.evaluate(&batch, LossSpec::CrossEntropy).expect("runs");
    assert_eq!((stats.loss.to_bits(), stats.correct, stats.count), (alone.loss.to_bits(), alone.correct, alone.count));
    assert_eq!(outputs, model.predict(&batch.inputs, batch.len).expect("runs"));
    assert_eq!(outputs.len(), 80);
}

/// One recurrent step of `cell` written from the textbook equations, with PyTorch's layouts
/// transposed as Glassbox stores them (`w_ih[f][gate * h + j]`).
fn textbook_step(
    cell: &str,
    w: &std::collections::BTreeMap<String, Vec<f32>>,
    x: &[f32],
    hc: (&[f32], &[f32]),
) -> (Vec<f32>, Vec<f32>) {
    let (h_prev, c_prev) = hc;
    let h = h_prev.len();
    let gates = match cell {
        "lstm" => 4,
        "gru" => 3,
        _ => 1,
    };
    let (w_ih, w_hh, b_ih, b_hh) = (&w["rec.weight_ih"], &w["rec.weight_hh"], &w["rec.bias_ih"], &w["rec.bias_hh"]);
    let pre = |k: usize, with_hidden: bool| -> (f32, f32) {
        let xi: f32 = x.iter().enumerate().map(|(f, v)| v * w_ih[f * gates * h + k]).sum::<f32>() + b_ih[k];
        let hi: f32 = if with_hidden {
            h_prev.iter().enumerate().map(|(q, v)| v * w_hh[q * gates * h + k]).sum::<f32>() + b_hh[k]
        } else {
            0.0
        };
        (xi, hi)
    };
    let sig = |v: f32| 1.0 / (1.0 + (-v).exp());
    let mut h_new = vec![0.0; h];
    let mut c_new = vec![0.0; h];
    for j in 0..h {
        match cell {
            "lstm" => {
                let s = |g: usize| {
                    let (a, b) = pre(g * h + j, true);
                    a + b
                };
                let (i, f, g, o) = (sig(s(0)), sig(s(1)), s(2).tanh(), sig(s(3)));
                c_new[j] = f * c_prev[j] + i * g;
                h_new[j] = o * c_new[j].tanh();
            }
            "gru" => {
                let (xr, hr) = pre(j, true);
                let (xz, hz) = pre(h + j, true);
                let (xn, hn) = pre(2 * h + j, true);
                let (r, z) = (sig(xr + hr), sig(xz + hz));
                let n = (xn + r * hn).tanh();
                h_new[j] = (1.0 - z) * n + z * h_prev[j];
            }
            _ => {
                let (a, b) = pre(j, true);
                h_new[j] = (a + b).tanh();
            }
        }
    }
    (h_new, c_new)
}

#[test]
fn recurrent_layers_follow_the_textbook_equations() {
    use glassbox_engine::graph::Recurrent;
    let (time, features, hidden) = (6, 3, 4);
    let x: Vec<f32> = crate::common::wave(time * features, 0.4).iter().map(|v| v * 2.0).collect();
    for cell in ["rnn", "lstm", "gru"] {
        let r = Recurrent { hidden, return_sequences: true, bidirectional: false };
        let layer = match cell {
            "lstm" => LayerSpec::Lstm(r),
            "gru" => LayerSpec::Gru(r),
            _ => LayerSpec::Rnn(r),
        };
        let graph = GraphSpec {
            nodes: vec![node("input", LayerSpec::Input { shape: vec![time, features] }), node("rec", layer)],
            edges: vec![edge("input", "rec", 0)],
            output: None,
        };
        let mut model = Model::new(&graph, 3).expect("valid");
        // Random biases too, so every term is exercised.
        for name in ["rec.bias_ih", "rec.bias_hh"] {
            let n = model.weights()[name].len();
            model.set_weight(name, &crate::common::wave(n, 1.3)).expect("fits");
        }
        let w = model.weights();
        let got = model.predict(&x, 1).expect("runs");
        let (mut h, mut c) = (vec![0.0; hidden], vec![0.0; hidden]);
        let mut want = Vec::new();
        for t in 0..time {
            (h, c) = textbook_step(cell, &w, &x[t * features..][..features], (&h, &c));
            want.extend_from_slice(&h);
        }
        assert_close(&got, &want);
    }
}

#[test]
fn lstm_forget_bias_starts_at_one() {
    use glassbox_engine::graph::Recurrent;
    let graph = GraphSpec::sequential(vec![
        LayerSpec::Input { shape: vec![3, 2] },
        LayerSpec::Lstm(Recurrent { hidden: 2, return_sequences: false, bidirectional: false }),
    ]);
    let model = Model::new(&graph, 0).expect("valid");
    assert_eq!(model.weights()["lstm1.bias_ih"], vec![0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0]);
}

#[test]
fn attention_is_a_softmax_of_scaled_dot_products() {
    // One head, identity projections: scores are x_i . x_j / sqrt(2).
    let x = [1.0, 0.0, 0.0, 1.0, 1.0, 1.0];
    let mut qkv = vec![0.0; 2 * 6];
    for k in 0..3 {
        qkv[k * 2] = 1.0;
        qkv[6 + k * 2 + 1] = 1.0;
    }
    for causal in [false, true] {
        let graph = GraphSpec::sequential(vec![
            LayerSpec::Input { shape: vec![3, 2] },
            LayerSpec::Attention { heads: 1, dim: 2, causal },
        ]);
        let mut model = Model::new(&graph, 0).expect("valid");
        model.set_weight("multiheadattention1.qkv_weight", &qkv).expect("fits");
        model.set_weight("multiheadattention1.qkv_bias", &[0.0; 6]).expect("fits");
        model.set_weight("multiheadattention1.out_weight", &[1.0, 0.0, 0.0, 1.0]).expect("fits");
        model.set_weight("multiheadattention1.out_bias", &[0.0; 2]).expect("fits");
        let (outputs, extras) = model.forward_record_all(&x, 1).expect("runs");
        let mut want_probs = Vec::new();
        let mut want = Vec::new();
        for i in 0..3 {
            let seen = if causal { i + 1 } else { 3 };
            let scores: Vec<f32> =
                (0..seen).map(|j| (x[i * 2] * x[j * 2] + x[i * 2 + 1] * x[j * 2 + 1]) / 2f32.sqrt()).collect();
            let total: f32 = scores.iter().map(|s| s.exp()).sum();
            let p: Vec<f32> = (0..3).map(|j| if j < seen { scores[j].exp() / total } else { 0.0 }).collect();
            want.extend((0..2).map(|c| (0..3).map(|j| p[j] * x[j * 2 + c]).sum::<f32>()));
            want_probs.extend(p);
        }
        assert_close(&outputs[1].values, &want);
        let probs = extras.iter().find(|e| e.id == "multiheadattention1.attention").expect("kept");
        assert_eq!(probs.shape, vec![1, 3, 3]);
        assert_close(&probs.values, &want_probs);
    }
}

#[test]
fn embeddings_positions_and_pooling() {
    let graph = GraphSpec::sequential(vec![
        LayerSpec::Input { shape: vec![3] },
        LayerSpec::Embedding { vocab: 4, dim: 2 },
        LayerSpec::PositionalEncoding { learned: false },
        LayerSpec::SequencePool { mode: glassbox_engine::graph::SequencePooling::Mean },
    ]);
    let mut model = Model::new(&graph, 0).expect("valid");
    model.set_weight("embedding1.weight", &[0.0, 0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).expect("fits");
    let (outputs, _) = model.forward_record_all(&[2.0, 0.0, 3.0], 1).expect("runs");
    assert_close(&outputs[1].values, &[3.0, 4.0, 0.0, 0.0, 5.0, 6.0]);
    // PE[t, 0] = sin(t), PE[t, 1] = cos(t) for a dimension of 2.
    let pe: Vec<f32> = (0..3).flat_map(|t| [(t as f32).sin(), (t as f32).cos()]).collect();
    let with_pe: Vec<f32> = outputs[1].values.iter().zip(&pe).map(|(a, b)| a + b).collect();
    assert_close(&outputs[2].values, &with_pe);
    let mean: Vec<f32> = (0..2).map(|c| (0..3).map(|t| with_pe[t * 2 + c]).sum::<f32>() / 3.0).collect();
    assert_close(&outputs[3].values, &mean);
    // An id outside the vocabulary is refused with a message that names the layer.
    let err = model.predict(&[2.0, 4.0, 0.0], 1).expect_err("4 is not in a vocabulary of 4");
    assert!(err.to_string().contains("embedding1 looks up token ids from 0 to 3"), "{err}");
}
