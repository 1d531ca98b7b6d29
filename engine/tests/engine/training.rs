//! Training: optimiser updates, determinism, smoke training, and batches that do not fit.

use crate::common::{batch, wave};
use glassbox_engine::data::{spiral, Batch, Targets};
use glassbox_engine::graph::{GraphSpec, LayerSpec};
use glassbox_engine::tensor::{LossSpec, Model, Optimizer, OptimizerSpec};
use glassbox_engine::EngineError;

fn small_mlp() -> GraphSpec {
    GraphSpec::sequential(vec![
        LayerSpec::Input { shape: vec![6] },
        LayerSpec::Dense { units: 8, bias: true },
        LayerSpec::Relu,
        LayerSpec::Dense { units: 3, bias: true },
    ])
}

fn small_convnet() -> GraphSpec {
    GraphSpec::sequential(vec![
        LayerSpec::Input { shape: vec![1, 8, 8] },
        LayerSpec::Conv2d { filters: 4, kernel: 3, stride: 1, padding: 1 },
        LayerSpec::BatchNorm { momentum: 0.1, eps: 1e-5 },
        LayerSpec::Relu,
        LayerSpec::MaxPool2d { size: 2, stride: None },
        LayerSpec::Flatten,
        LayerSpec::Dropout { rate: 0.3 },
        LayerSpec::Dense { units: 3, bias: true },
    ])
}

#[test]
fn sgd_step_is_w_minus_lr_g() {
    let b = batch(&[6], 5, 0.4);
    let mut model = Model::new(&small_mlp(), 3).expect("valid");
    let before = model.weights();
    let grads = model.gradients(&b, LossSpec::CrossEntropy, true, 0).expect("fits").params;
    let mut opt = Optimizer::new(OptimizerSpec::sgd(0.5));
    model.train_step(&b, LossSpec::CrossEntropy, &mut opt, 0).expect("fits");
    for (name, after) in model.weights() {
        for ((a, w), g) in after.iter().zip(&before[&name]).zip(&grads[&name]) {
            assert!((a - (w - 0.5 * g)).abs() < 1e-6, "{name}: {a} != {w} - 0.5 * {g}");
        }
    }
}

#[test]
fn first_adam_step_moves_each_weight_by_lr_and_adamw_adds_decoupled_decay() {
    let b = batch(&[6], 5, 0.8);
    let lr = 1e-2;
    let grads = Model::new(&small_mlp(), 4)
        .expect("valid")
        .gradients(&b, LossSpec::CrossEntropy, true, 0)
        .expect("fits")
        .params;
    let mut adam_model = Model::new(&small_mlp(), 4).expect("valid");
    let w0 = adam_model.weights();
    adam_model.train_step(&b, LossSpec::CrossEntropy, &mut Optimizer::new(OptimizerSpec::adam(lr)), 0).expect("fits");
    let mut adamw_model = Model::new(&small_mlp(), 4).expect("valid");
    let adamw = OptimizerSpec::AdamW { lr, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0.1 };
    adamw_model.train_step(&b, LossSpec::CrossEntropy, &mut Optimizer::new(adamw), 0).expect("fits");
    let (wa, ww) = (adam_model.weights(), adamw_model.weights());
    let mut checked = 0;
    for (name, start) in &w0 {
        for i in 0..start.len() {
            let g = grads[name][i];
            let step_adam = wa[name][i] - start[i];
            if g.abs() > 1e-4 {
                // m_hat / sqrt(v_hat) = g / |g| on the first step.
                assert!(
                    (step_adam + (lr as f32) * g.signum()).abs() < 1e-4,
                    "{name}[{i}]: step {step_adam} for gradient {g}"
                );
                checked += 1;
            }
            let decay = (ww[name][i] - start[i]) - step_adam;
            assert!((decay + (lr as f32) * 0.1 * start[i]).abs() < 1e-6, "{name}[{i}]: AdamW decay {decay}");
        }
    }
    assert!(checked > 20, "too few weights with a clear gradient: {checked}");
}

#[test]
fn every_optimiser_lowers_the_loss() {
    let b = batch(&[6], 12, 0.1);
    let optimisers = [
        OptimizerSpec::sgd(0.5),
        OptimizerSpec::Sgd { lr: 0.05, momentum: 0.9, nesterov: false, weight_decay: 1e-4 },
        OptimizerSpec::Sgd { lr: 0.05, momentum: 0.9, nesterov: true, weight_decay: 0.0 },
        OptimizerSpec::adam(0.01),
        OptimizerSpec::AdamW { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0.01 },
    ];
    for spec in optimisers {
        let mut model = Model::new(&small_mlp(), 9).expect("valid");
        let mut opt = Optimizer::new(spec);
        let first = model.evaluate(&b, LossSpec::CrossEntropy).expect("fits").loss;
        for step in 0..150 {
            model.train_step(&b, LossSpec::CrossEntropy, &mut opt, step).expect("fits");
        }
        let last = model.evaluate(&b, LossSpec::CrossEntropy).expect("fits").loss;
        assert!(last < 0.5 * first, "{spec:?}: loss went from {first} to {last}");
        assert_eq!(opt.steps(), 150);
    }
}

fn train_convnet(seed: u64, steps: u64) -> std::collections::BTreeMap<String, Vec<f32>> {
    let mut model = Model::new(&small_convnet(), seed).expect("valid");
    let mut opt = Optimizer::new(OptimizerSpec::adam(1e-2));
    for step in 0..steps {
        let b = Batch {
            inputs: wave(64 * 16, step as f32),
            targets: Targets::Classes((0..16).map(|i| (i + step as usize) % 3).collect()),
            len: 16,
        };
        model.train_step(&b, LossSpec::CrossEntropy, &mut opt, seed ^ step).expect("fits");
    }
    model.weights()
}

#[test]
fn same_seed_gives_bit_identical_weights() {
    let a = train_convnet(21, 15);
    let b = train_convnet(21, 15);
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (name, wa) in &a {
        let bits_a: Vec<u32> = wa.iter().map(|v| v.to_bits()).collect();
        let bits_b: Vec<u32> = b[name].iter().map(|v| v.to_bits()).collect();
        assert_eq!(bits_a, bits_b, "{name} differs between two runs with the same seed");
    }
    let c = train_convnet(22, 15);
    assert_ne!(a["conv2d1.weight"], c["conv2d1.weight"], "another seed gives other weights");
    assert!(a.contains_key("batchnorm1.running_mean"));
}

#[test]
fn spiral_mlp_reaches_99_percent() {
    let data = spiral(400, 0.05, 3);
    let graph = GraphSpec::sequential(vec![
        LayerSpec::Input { shape: vec![2] },
        LayerSpec::Dense { units: 24, bias: true },
        LayerSpec::Tanh,
        LayerSpec::Dense { units: 24, bias: true },
        LayerSpec::Tanh,
        LayerSpec::Dense { units: 2, bias: true },
    ]);
    let mut model = Model::new(&graph, 1).expect("valid");
    let mut opt = Optimizer::new(OptimizerSpec::adam(0.02));
    let all = data.batch(&(0..data.len()).collect::<Vec<_>>());
    for epoch in 0..250 {
        for idx in data.epoch_batches(32, epoch) {
            model.train_step(&data.batch(&idx), LossSpec::CrossEntropy, &mut opt, epoch).expect("fits");
        }
    }
    let acc = model.evaluate(&all, LossSpec::CrossEntropy).expect("fits").accuracy();
    assert!(acc >= 0.99, "spiral accuracy {acc}");
}

#[test]
fn batches_that_do_not_fit_get_a_message_not_a_panic() {
    let mut model = Model::new(&small_mlp(), 0).expect("valid");
    let mut opt = Optimizer::new(OptimizerSpec::adam(1e-3));
    let wrong_size = Batch { inputs: vec![0.0; 10], targets: Targets::Classes(vec![0, 1]), len: 2 };
    let err = model.train_step(&wrong_size, LossSpec::CrossEntropy, &mut opt, 0).expect_err("5 values do not fit [6]");
    assert!(matches!(err, EngineError::Batch(_)));
    assert!(err.to_string().contains("takes [6] (6 values a sample) but the data gives 5 values a sample"), "{err}");
    let bad_label = Batch { inputs: vec![0.0; 12], targets: Targets::Classes(vec![0, 7]), len: 2 };
    let err = model.train_step(&bad_label, LossSpec::CrossEntropy, &mut opt, 0).expect_err("class 7 of 3");
    assert!(err.to_string().contains("give the last Dense layer at least 8 units"), "{err}");
    let err = model.predict(&[1.0; 7], 1).expect_err("7 values");
    assert!(err.to_string().contains("expected 1 sample(s) of [6]"), "{err}");
    assert_eq!(opt.steps(), 0, "a rejected batch does not step the optimiser");
}
