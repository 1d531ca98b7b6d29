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
