//! Attribution methods: exact answers on linear models, completeness and the Grad-CAM split on a
//! trained LeNet, the randomisation check, text and cancelling.

use glassbox_engine::data::{load_bundled, sentiment, split, Bundled, Dataset};
use glassbox_engine::explain::{
    explain, sanity, segments, Attribution, Baseline, Method, Reference, Segmentation, Settings,
};
use glassbox_engine::graph::{examples, GraphSpec, LayerSpec};
use glassbox_engine::tensor::{LossSpec, Model, Optimizer, OptimizerSpec, Probe};
use glassbox_engine::EngineError;

/// Input [4] -> Dense 3: `score_c = sum_i x_i W[i, c] + b_c`, with chosen weights.
fn linear() -> (Model, Vec<f32>) {
    let graph =
        GraphSpec::sequential(vec![LayerSpec::Input { shape: vec![4] }, LayerSpec::Dense { units: 3, bias: true }]);
    let mut model = Model::new(&graph, 0).expect("valid");
    let w: Vec<f32> = vec![0.5, -1.0, 2.0, 1.5, 0.25, -0.75, -2.0, 1.0, 0.0, 3.0, -0.5, 0.125];
    model.set_weight("dense1.weight", &w).expect("fits");
    model.set_weight("dense1.bias", &[0.1, -0.2, 0.3]).expect("fits");
    (model, w)
}

fn column(w: &[f32], c: usize) -> Vec<f32> {
    (0..4).map(|i| w[i * 3 + c]).collect()
}

fn run(model: &mut Model, input: &[f32], settings: &Settings, reference: &Reference) -> Attribution {
    explain(model, input, settings, reference, &mut |_| true).expect("explains")
}

fn close(got: &[f32], want: &[f32], tol: f32) -> bool {
    got.len() == want.len() && got.iter().zip(want).all(|(g, w)| (g - w).abs() <= tol * (1.0 + w.abs()))
}

const X: [f32; 4] = [1.0, -2.0, 0.5, 3.0];

fn table_reference() -> Reference {
    Reference { min: -3.0, max: 4.0, mean: vec![0.25, 0.5, -1.0, 2.0] }
}

#[test]
fn on_a_linear_model_saliency_is_the_weights_and_gradient_x_input_their_product() {
    let (mut model, w) = linear();
    for target in 0..3 {
        let s = Settings { target: Some(target), ..Settings::of(Method::Saliency) };
        let a = run(&mut model, &X, &s, &table_reference());
        assert!(close(&a.values, &column(&w, target), 1e-6), "saliency {:?}", a.values);
        let s = Settings { method: Method::GradientXInput, ..s };
        let a = run(&mut model, &X, &s, &table_reference());
        let want: Vec<f32> = column(&w, target).iter().zip(X).map(|(w, x)| w * x).collect();
        assert!(close(&a.values, &want, 1e-6), "gradient x input {:?}", a.values);
    }
    // SmoothGrad of a linear model: the gradient is the same everywhere.
    let s = Settings { target: Some(1), ..Settings::of(Method::SmoothGrad) };
    assert!(close(&run(&mut model, &X, &s, &table_reference()).values, &column(&w, 1), 1e-5));
}

#[test]
fn on_a_linear_model_integrated_gradients_occlusion_and_kernel_shap_are_w_times_x_minus_baseline() {
    let (mut model, w) = linear();
    let reference = table_reference();
    let mean = reference.mean.clone();
    for target in 0..3 {
        let want: Vec<f32> = column(&w, target).iter().zip(X).zip(&mean).map(|((w, x), m)| w * (x - m)).collect();
        let ig = Settings {
            target: Some(target),
            baseline: Baseline::Mean,
            steps: 7,
            ..Settings::of(Method::IntegratedGradients)
        };
        let a = run(&mut model, &X, &ig, &reference);
        assert!(close(&a.values, &want, 1e-5), "IG {:?} against {want:?}", a.values);
        let c = a.completeness.expect("IG states its completeness");
        assert!(c.relative_gap() < 1e-5, "{c:?}");
        let shap = Settings { method: Method::KernelShap, ..ig.clone() };
        let a = run(&mut model, &X, &shap, &reference);
        assert!(close(&a.values, &want, 1e-4), "Kernel SHAP {:?} against {want:?}", a.values);
        let occlusion = Settings { method: Method::Occlusion, patch: 1, stride: 1, ..ig.clone() };
        let a = run(&mut model, &X, &occlusion, &reference);
        assert!(close(&a.values, &want, 1e-5), "occlusion {:?} against {want:?}", a.values);
        // LIME's ridge penalty shrinks the coefficients a little; their order and signs hold.
        let lime = Settings { method: Method::Lime, ..ig };
        let a = run(&mut model, &X, &lime, &reference);
        assert!(close(&a.values, &want, 0.1), "LIME {:?} against {want:?}", a.values);
    }
    // Black: IG and SHAP start from the smallest value everywhere.
    let s = Settings { target: Some(0), baseline: Baseline::Black, ..Settings::of(Method::IntegratedGradients) };
    let want: Vec<f32> = column(&w, 0).iter().zip(X).map(|(w, x)| w * (x - reference.min)).collect();
    assert!(close(&run(&mut model, &X, &s, &reference).values, &want, 1e-5));
}

#[test]
fn kernel_shap_by_sampling_adds_up_and_finds_the_linear_answer() {
    // 20 features: too many to visit every coalition, so they are sampled.
    let graph =
        GraphSpec::sequential(vec![LayerSpec::Input { shape: vec![20] }, LayerSpec::Dense { units: 2, bias: true }]);
    let mut model = Model::new(&graph, 3).expect("valid");
    let w = model.weights()["dense1.weight"].clone();
    let x: Vec<f32> = (0..20).map(|i| (i as f32 * 0.7).sin()).collect();
    let reference = Reference { min: -1.0, max: 1.0, mean: vec![0.1; 20] };
    let s = Settings { target: Some(1), baseline: Baseline::Mean, samples: 2000, ..Settings::of(Method::KernelShap) };
    let a = run(&mut model, &x, &s, &reference);
    let want: Vec<f32> = (0..20).map(|i| w[i * 2 + 1] * (x[i] - 0.1)).collect();
    assert!(close(&a.values, &want, 1e-3), "{:?} against {want:?}", a.values);
    assert!(a.completeness.expect("stated").relative_gap() < 1e-4);
}

fn mnist() -> (Dataset, Dataset) {
    let (train, test) = load_bundled(Bundled::Mnist).expect("bundled");
    (train, test.expect("a test split"))
}

fn trained_lenet(train: &Dataset) -> Model {
    let mut model = Model::new(&examples::lenet(), 1).expect("valid");
    let mut opt = Optimizer::new(OptimizerSpec::adam(2e-3));
    for (i, idx) in train.epoch_batches(64, 1).iter().take(120).enumerate() {
        model.train_step(&train.batch(idx), LossSpec::CrossEntropy, &mut opt, i as u64).expect("fits");
    }
    model
}

#[test]
fn on_a_trained_lenet_ig_adds_up_grad_cam_splits_and_randomising_changes_the_map() {
    let (train, test) = mnist();
    let mut model = trained_lenet(&train);
    let reference = Reference::of(&train);
    let x = test.sample(0);

    // Completeness within 1% at 64 steps, from black.
    let ig = Settings { steps: 64, ..Settings::of(Method::IntegratedGradients) };
    let a = run(&mut model, x, &ig, &reference);
    assert_eq!(a.predicted, test.labels().expect("labels")[0], "the model reads the digit");
    let c = a.completeness.expect("stated");
    assert!(c.relative_gap() < 0.01, "IG sums to {} for a change of {}", c.sum, c.change);

    // Grad-CAM in one pass against the forward split at the layer: the recorded maps handed
    // back in, and the gradient caught there.
    let cam =
        run(&mut model, x, &Settings { layer: Some("conv2d2".into()), ..Settings::of(Method::GradCam) }, &reference);
    assert_eq!(cam.shape, vec![1, 28, 28]);
    let outputs = model.forward_record(x, 1).expect("runs");
    let maps = outputs.iter().find(|o| o.id == "conv2d2").expect("recorded").values.clone();
    let mut weights = vec![0.0; 10];
    weights[cam.target] = 1.0;
    let split = model
        .score_gradients(x, 1, &weights, Some(Probe { node: "conv2d2", replacement: Some(&maps), seed: None }))
        .expect("runs");
    let (k, plane) = (16, 8 * 8);
    let mut by_hand = vec![0.0f32; plane];
    for c in 0..k {
        let alpha = split.probe_grad[c * plane..(c + 1) * plane].iter().sum::<f32>() / plane as f32;
        for (o, m) in by_hand.iter_mut().zip(&maps[c * plane..(c + 1) * plane]) {
            *o += alpha * m;
        }
    }
    let by_hand: Vec<f32> = by_hand.iter().map(|v| v.max(0.0)).collect();
    let upsampled = glassbox_engine::explain::upsample(&by_hand, (8, 8), (28, 28));
    assert!(close(&cam.values, &upsampled, 1e-5), "Grad-CAM differs from the split forward");
    assert!(cam.values.iter().any(|&v| v > 0.0), "the map is not empty");

    // Grad-CAM++ from the same split: each map's weight is the sum over positions of
    // alpha * ReLU(g), alpha = g^2 / (2 g^2 + sum(A) g^3).
    let plus = run(
        &mut model,
        x,
        &Settings { layer: Some("conv2d2".into()), ..Settings::of(Method::GradCamPlusPlus) },
        &reference,
    );
    let mut by_hand = vec![0.0f64; plane];
    for c in 0..k {
        let (a, g) = (&maps[c * plane..(c + 1) * plane], &split.probe_grad[c * plane..(c + 1) * plane]);
        let total: f64 = a.iter().map(|&v| f64::from(v)).sum();
        let mut weight = 0.0f64;
        for &g in g {
            let g = f64::from(g);
            if g > 0.0 {
                weight += g * g / (2.0 * g * g + total * g * g * g) * g;
            }
        }
        for (o, m) in by_hand.iter_mut().zip(a) {
            *o += weight * f64::from(*m);
        }
    }
    let by_hand: Vec<f32> = by_hand.iter().map(|v| v.max(0.0) as f32).collect();
    let upsampled = glassbox_engine::explain::upsample(&by_hand, (8, 8), (28, 28));
    assert!(close(&plus.values, &upsampled, 1e-4), "Grad-CAM++ differs from the split forward");
    assert!(plus.values.iter().any(|&v| v > 0.0) && plus.values != cam.values, "its own map");

    // Randomising every weight changes the map: the gradient methods' clearly (Integrated
    // Gradients' strength still follows the ink, its signs do not), Grad-CAM's at least in part.
    for method in [Method::Saliency, Method::IntegratedGradients, Method::GradCam] {
        let s = Settings::of(method);
        let trained = run(&mut model, x, &s, &reference);
        let check = sanity::randomisation(&model, &trained, x, &s, &reference, 99, &mut |_| true).expect("runs");
        if method == Method::GradCam {
            assert!(check.signed < sanity::Randomisation::SAME_ABOVE, "{method}: {}", check.verdict());
        } else {
            assert!(check.passed(), "{method}: {}", check.verdict());
        }
        if method == Method::IntegratedGradients {
            assert!(check.absolute > check.signed && check.verdict().contains("signs do not"), "{}", check.verdict());
        }
        // The trained map against itself would not pass.
        assert!((sanity::rank_correlation(&trained.values, &trained.values) - 1.0).abs() < 1e-6);
    }
}

#[test]
fn occlusion_lime_and_shap_cover_an_image_by_patches_and_segments() {
    let (train, test) = mnist();
    let mut model = trained_lenet(&train);
    let reference = Reference::of(&train);
    let x = test.sample(1);
    let occlusion = run(&mut model, x, &Settings::of(Method::Occlusion), &reference);
    assert_eq!(occlusion.shape, vec![1, 28, 28]);
    // Covering the digit's strokes costs score; the empty corner was never ink.
    let ink: f32 = (0..784).filter(|&i| x[i] > 0.5).map(|i| occlusion.values[i]).sum();
    assert!(ink > 0.0, "covering ink lowers the score");
    assert!(occlusion.values[0].abs() < 1e-6, "a patch of black over black changes nothing");
    for method in [Method::Lime, Method::KernelShap] {
        let s = Settings { samples: 600, ..Settings::of(method) };
        let a = run(&mut model, x, &s, &reference);
        let labels = a.segments.as_ref().expect("segments");
        assert_eq!(labels.len(), 784);
        assert_eq!(*labels.iter().max().expect("some"), 48, "a 4-pixel grid makes 49 cells");
        // Every pixel of a cell gets the cell's value.
        assert!((0..784).all(|i| a.values[i].to_bits()
            == a.values[labels.iter().position(|&l| l == labels[i]).expect("first")].to_bits()));
    }
    let shap = run(&mut model, x, &Settings { samples: 600, ..Settings::of(Method::KernelShap) }, &reference);
    assert!(shap.completeness.expect("stated").relative_gap() < 1e-3);
    // Superpixels follow the image: at most about the number asked, each a label.
    let sp = segments::slic(x, 1, 28, 28, 40);
    assert!((20..=60).contains(&sp.count), "{} superpixels", sp.count);
    assert_eq!(sp.labels.len(), 784);
    let s =
        Settings { segmentation: Segmentation::Superpixels { count: 40 }, samples: 300, ..Settings::of(Method::Lime) };
    assert!(run(&mut model, x, &s, &reference).values.iter().any(|v| *v != 0.0));
}

#[test]
fn text_is_explained_token_by_token_and_ig_adds_up_on_the_embeddings() {
    let (data, _) = sentiment(1500, 8);
    let vocab = data.vocab.clone().expect("words");
    let words = data.shape[0];
    let (train, test) = split(&data, 0.1, 1);
    let graph = examples::words_attention(vocab.len(), words);
    let mut model = Model::new(&graph, 2).expect("valid");
    let mut opt = Optimizer::new(OptimizerSpec::adam(3e-3));
    for epoch in 1..=3 {
        for (i, idx) in train.epoch_batches(32, epoch).iter().enumerate() {
            model
                .train_step(&train.batch(idx), LossSpec::CrossEntropy, &mut opt, epoch * 1000 + i as u64)
                .expect("fits");
        }
    }
    let reference = Reference::of(&train);
    let x = test.sample(0);
    for method in Method::ALL {
        let s = Settings { samples: 200, patch: 1, stride: 1, ..Settings::of(method) };
        let got = explain(&mut model, x, &s, &reference, &mut |_| true);
        if matches!(method, Method::GradCam | Method::GradCamPlusPlus) {
            assert!(matches!(got, Err(EngineError::Settings(_))), "{method} explains images only");
            continue;
        }
        let a = got.unwrap_or_else(|e| panic!("{method}: {e}"));
        assert_eq!(a.shape, vec![words], "{method}: one value per token");
        assert!(a.values.iter().any(|v| *v != 0.0), "{method}: {:?}", a.values);
        if method == Method::IntegratedGradients {
            let c = a.completeness.expect("stated");
            assert!(c.relative_gap() < 0.05, "IG on embeddings sums to {} for {}", c.sum, c.change);
        }
        if method == Method::Occlusion {
            // Padding covered by padding changes nothing.
            assert!(x.iter().zip(&a.values).filter(|(t, _)| **t == 0.0).all(|(_, v)| v.abs() < 1e-6));
        }
    }
}

#[test]
fn a_long_method_stops_when_told_and_bad_settings_say_what_to_do() {
    let (mut model, _) = linear();
    let s = Settings { samples: 5000, ..Settings::of(Method::Lime) };
    let mut calls = 0;
    let got = explain(&mut model, &X, &s, &table_reference(), &mut |_| {
        calls += 1;
        calls < 3
    });
    assert!(matches!(got, Err(EngineError::Cancelled)), "{got:?}");
    assert_eq!(calls, 3);
    let bad = Settings { steps: 0, ..Settings::of(Method::IntegratedGradients) };
    let e = explain(&mut model, &X, &bad, &table_reference(), &mut |_| true).expect_err("refused");
    assert!(e.to_string().contains("steps"), "{e}");
    let e = explain(
        &mut model,
        &X,
        &Settings { target: Some(7), ..Settings::of(Method::Saliency) },
        &table_reference(),
        &mut |_| true,
    )
    .expect_err("no class 7");
    assert!(e.to_string().contains("0 to 2"), "{e}");
    let e = explain(&mut model, &X, &Settings::of(Method::GradCam), &table_reference(), &mut |_| true)
        .expect_err("no image");
    assert!(e.to_string().contains("image"), "{e}");
    assert_eq!("ig".parse::<Method>(), Ok(Method::IntegratedGradients));
    assert!("integrated".parse::<Method>().expect_err("no such method").contains("saliency, gradxinput"));
}

#[test]
fn a_table_gets_permutation_importance_mean_shap_and_a_surrogate_tree_whose_fidelity_is_counted() {
    use glassbox_engine::explain::global::{global_view, GlobalSettings, TreeNode};
    let (all, _) = load_bundled(Bundled::Iris).expect("bundled");
    let (train, test) = split(&all, 0.3, 4);
    let graph = GraphSpec::sequential(vec![
        LayerSpec::Input { shape: vec![4] },
        LayerSpec::Dense { units: 16, bias: true },
        LayerSpec::Relu,
        LayerSpec::Dense { units: 3, bias: true },
    ]);
    let mut model = Model::new(&graph, 5).expect("valid");
    let mut opt = Optimizer::new(OptimizerSpec::adam(2e-2));
    for epoch in 1..=60 {
        for (i, idx) in train.epoch_batches(16, epoch).iter().enumerate() {
            model
                .train_step(&train.batch(idx), LossSpec::CrossEntropy, &mut opt, epoch * 100 + i as u64)
                .expect("fits");
        }
    }
    let view = global_view(&mut model, &train, &test, GlobalSettings::default(), &mut |_| true).expect("a table");
    assert!(view.accuracy > 0.9, "the model learnt iris: {}", view.accuracy);
    let top = |v: &[f32]| v.iter().enumerate().fold((0, f32::MIN), |b, (i, &x)| if x > b.1 { (i, x) } else { b }).0;
    assert_eq!(view.permutation.len(), 4);
    assert!([2, 3].contains(&top(&view.permutation)), "a petal feature matters most: {:?}", view.permutation);
    assert!([2, 3].contains(&top(&view.mean_abs_shap)), "and has the largest SHAP values: {:?}", view.mean_abs_shap);
    // The fidelity, counted again here from the tree's and the model's answers.
    let outputs = model.predict(&test.inputs, test.len()).expect("runs");
    let agree = (0..test.len())
        .filter(|&i| {
            let row = &outputs[i * 3..(i + 1) * 3];
            let model_class = (0..3).fold(0, |b, c| if row[c] > row[b] { c } else { b });
            view.tree.predict(test.sample(i)) == model_class
        })
        .count();
    assert!((view.tree.fidelity - agree as f32 / test.len() as f32).abs() < 1e-6);
    assert!(view.tree.fidelity > 0.8, "a depth-3 tree imitates an iris model: {}", view.tree.fidelity);
    assert!(matches!(view.tree.nodes[0], TreeNode::Split { .. }), "the root asks a question");
    let leaves = view.tree.nodes.iter().filter(|n| matches!(n, TreeNode::Leaf { .. })).count();
    assert!((2..=8).contains(&leaves), "{leaves} leaves at depth 3");
    // Images are not tables.
    let (mut lenet, _) = (Model::new(&examples::lenet(), 0).expect("valid"), ());
    let (mtrain, mtest) = mnist();
    let refused = global_view(&mut lenet, &mtrain, &mtest, GlobalSettings::default(), &mut |_| true);
    assert!(matches!(refused, Err(EngineError::Settings(m)) if m.contains("tables")));
}

#[test]
fn feature_visualisation_finds_inputs_that_excite_a_class_a_channel_and_a_unit_more_than_real_samples() {
    use glassbox_engine::explain::visualise::{visualise, Unit, VisualiseSettings};
    let (train, test) = mnist();
    let mut model = trained_lenet(&train);
    let reference = Reference::of(&train);
    let settings = VisualiseSettings::default();
    // Class 3's score: higher for the dreamt image than for any of the first 200 test samples.
    let dreamt = visualise(&mut model, &Unit::Class(3), &settings, &reference, &mut |_| true).expect("runs");
    assert_eq!(dreamt.image.len(), 784);
    assert!(dreamt.image.iter().all(|v| (reference.min..=reference.max).contains(v)), "kept in the data's range");
    let scores = model.predict(&test.inputs[..200 * 784], 200).expect("runs");
    let best_real = scores.chunks_exact(10).map(|r| r[3]).fold(f32::MIN, f32::max);
    let last = *dreamt.activation.last().expect("traced");
    assert!(last > dreamt.activation[0] && last > best_real, "score {last} against {best_real} for real samples");
    // One channel of the second convolution, and one unit of it.
    for unit in
        [Unit::Channel { node: "conv2d2".into(), channel: 5 }, Unit::Neuron { node: "conv2d2".into(), index: 300 }]
    {
        let v = visualise(&mut model, &unit, &settings, &reference, &mut |_| true).expect("runs");
        let (first, last) = (v.activation[0], *v.activation.last().expect("traced"));
        assert!(last > first + 0.1, "{unit:?}: {first} -> {last}");
    }
    let e =
        visualise(&mut model, &Unit::Channel { node: "dense1".into(), channel: 0 }, &settings, &reference, &mut |_| {
            true
        })
        .expect_err("a dense layer has no maps");
    assert!(e.to_string().contains("does not give maps"), "{e}");
}

#[test]
fn step_by_step_numbers_recompute_every_nodes_output() {
    use glassbox_engine::explain::steps::walkthrough;
    let (train, test) = mnist();
    let mut lenet = trained_lenet(&train);
    let mlp = GraphSpec::sequential(vec![
        LayerSpec::Input { shape: vec![4] },
        LayerSpec::Dense { units: 5, bias: true },
        LayerSpec::Tanh,
        LayerSpec::Dense { units: 3, bias: true },
        LayerSpec::Softmax,
    ]);
    let mut small = Model::new(&mlp, 2).expect("valid");
    let mut checked = 0;
    for (model, x) in [(&mut lenet, test.sample(2).to_vec()), (&mut small, X.to_vec())] {
        let outputs = model.forward_record(&x, 1).expect("runs");
        let weights = model.weights();
        for out in &outputs {
            let size: usize = out.shape.iter().product();
            for index in [0, size / 3, size - 1] {
                let w = walkthrough(model.spec(), model.report(), &outputs, &weights, &out.id, index).expect("walks");
                let last = w.operations.last().expect("an operation").result;
                assert!(
                    (last - w.recorded).abs() <= 1e-5 * (1.0 + w.recorded.abs()),
                    "{} at {index}: {last} against {}",
                    out.id,
                    w.recorded
                );
                assert!((w.recorded - out.values[index]).abs() < 1e-9);
                checked += 1;
            }
        }
    }
    assert!(checked >= 30, "{checked}");
    // An attention output: the scores' softmax is the recorded map's row, the last sum the output.
    let (data, _) = sentiment(200, 1);
    let vocab = data.vocab.clone().expect("words");
    let mut attention = Model::new(&examples::words_attention(vocab.len(), data.shape[0]), 3).expect("valid");
    let (outputs, extras) = attention.forward_record_all(data.sample(3), 1).expect("runs");
    let map = extras.iter().find(|e| e.id == "multiheadattention1.attention").expect("kept");
    let [heads, time, _] = map.shape[..] else { panic!("[heads, time, time]") };
    let dim = outputs.iter().find(|o| o.id == "multiheadattention1").expect("recorded").shape[1];
    for (t, j) in [(0, 0), (5, dim - 1), (time - 1, dim / 2)] {
        let w = walkthrough(
            attention.spec(),
            attention.report(),
            &outputs,
            &attention.weights(),
            "multiheadattention1",
            t * dim + j,
        )
        .expect("walks");
        let last = w.operations.last().expect("ops").result;
        assert!(
            (last - w.recorded).abs() <= 1e-5 * (1.0 + w.recorded.abs()),
            "({t}, {j}): {last} against {}",
            w.recorded
        );
        let h = j / (dim / heads);
        let row = &map.values[(h * time + t) * time..][..time];
        let probs: Vec<f32> = w.operations[2].terms.iter().map(|t| t.1).collect();
        assert!(probs.iter().zip(row).all(|(a, b)| (a - b).abs() < 1e-5), "head {h}, position {t}");
    }
    // A kind without a walkthrough says so.
    let mut lstm = Model::new(&examples::lstm_text_classifier(vocab.len(), data.shape[0]), 0).expect("valid");
    let outputs = lstm.forward_record(data.sample(0), 1).expect("runs");
    // An LSTM's last hidden state, unit 5 and unit 63: the gates and the cell state over the steps.
    for unit in [5, 63] {
        let w = walkthrough(lstm.spec(), lstm.report(), &outputs, &lstm.weights(), "lstm1", unit).expect("walks");
        let last = w.operations.last().expect("ops").result;
        assert!(
            (last - w.recorded).abs() <= 1e-5 * (1.0 + w.recorded.abs()),
            "unit {unit}: {last} against {}",
            w.recorded
        );
        assert_eq!(w.operations[3].terms.len(), 4, "four gates");
    }
    let mut gru = Model::new(
        &GraphSpec::sequential(vec![
            LayerSpec::Input { shape: vec![6, 3] },
            LayerSpec::Gru(glassbox_engine::graph::Recurrent {
                hidden: 4,
                return_sequences: false,
                bidirectional: false,
            }),
        ]),
        0,
    )
    .expect("valid");
    let outputs = gru.forward_record(&[0.5; 18], 1).expect("runs");
    let e = walkthrough(gru.spec(), gru.report(), &outputs, &gru.weights(), "gru1", 4).expect_err("4 values");
    assert!(e.to_string().contains("has 4 values a sample, 0 to 3"), "{e}");
    let e = walkthrough(gru.spec(), gru.report(), &outputs, &gru.weights(), "nope", 0).expect_err("no node");
    assert!(e.to_string().contains("nope is not in this inspection"), "{e}");
}

/// Every number of a training walk that the engine also has equals it; the update equals the one
/// a real optimiser step on the same sample makes. Returns how many numbers were compared.
fn check_training_walks(model: &mut Model, opt: &mut Optimizer, loss: LossSpec, data: &Dataset, index: usize) -> usize {
    use glassbox_engine::explain::backprop::training_step;
    let mut compared = 0;
    let shapes = model.weight_shapes();
    for (k, (param, shape)) in shapes.iter().enumerate() {
        let size: usize = shape.iter().product();
        let entry = (size / 3 + k) % size;
        let sample = data.batch(&[index + k]);
        let walk = training_step(model, opt, loss, &sample, (param, entry), &data.classes).expect("walks");
        assert_eq!(walk.steps_done, opt.steps());
        assert!(walk.backward_at < walk.update_at && walk.update_at < walk.operations.len(), "{param}");
        for op in &walk.operations {
            if let Some(check) = op.check {
                let scale: f32 = op.terms.iter().map(|t| t.1.abs()).sum::<f32>() + check.abs();
                assert!(
                    (op.result - check).abs() <= 1e-5 * scale + 1e-9,
                    "{param}[{entry}], '{}': by hand {} against the engine's {check}",
                    op.what,
                    op.result
                );
                compared += 1;
            }
        }
        // The weight's gradient is worked out by hand for dense and convolution weights.
        let grad = &walk.operations[walk.update_at - 1];
        if param.starts_with("dense") || param.starts_with("conv") {
            assert!(grad.check.is_some() && !grad.terms.is_empty(), "{param}: {}", grad.what);
        }
        // The update, against a real step on the same sample.
        let before = model.weights()[param.as_str()][entry];
        assert_eq!(before.to_bits(), walk.before.to_bits(), "the walk starts from the weight");
        let stats = model.train_step(&sample, loss, opt, 0).expect("steps");
        assert!(stats.grads_finite);
        let after = model.weights()[param.as_str()][entry];
        assert!(
            (after - walk.after).abs() <= 1e-6 * (1.0 + after.abs()),
            "{param}[{entry}]: the optimiser moved it {before} -> {after}, the walk says {}",
            walk.after
        );
        let gradient = walk.operations[walk.update_at - 1].result;
        assert!(walk.after.to_bits() != walk.before.to_bits() || gradient.abs() < f32::MIN_POSITIVE, "{param} moved");
        compared += 1;
    }
    compared
}

#[test]
fn a_training_step_by_hand_matches_the_engines_gradients_and_the_optimisers_update() {
    use glassbox_engine::explain::backprop::training_step;
    // LeNet after 120 Adam steps (its moments far from 0): every weight tensor, one entry each.
    let (train, test) = mnist();
    let mut lenet = Model::new(&examples::lenet(), 1).expect("valid");
    let mut adam = Optimizer::new(OptimizerSpec::adam(2e-3));
    for (i, idx) in train.epoch_batches(64, 1).iter().take(60).enumerate() {
        lenet.train_step(&train.batch(idx), LossSpec::CrossEntropy, &mut adam, i as u64).expect("fits");
    }
    let mut compared = check_training_walks(&mut lenet, &mut adam, LossSpec::CrossEntropy, &test, 0);
    // The route through LeNet's convolution, pooling, flattening and dense layers is worked out by
    // hand at every node (each with the engine's number beside it).
    let walk =
        training_step(&mut lenet, &mut adam, LossSpec::CrossEntropy, &test.batch(&[9]), ("conv2d1.weight", 7), &[])
            .expect("walks");
    let back = &walk.operations[walk.backward_at + 1..walk.update_at - 1];
    assert!(back.len() >= 6, "{} nodes back", back.len());
    assert!(back.iter().all(|op| op.check.is_some() && !op.terms.is_empty()), "{back:#?}");
    assert!(walk.operations[walk.update_at..].iter().any(|op| op.formula.contains("β₂")), "Adam's moments shown");

    // A small MLP under SGD with Nesterov momentum and weight decay, and under AdamW with mean
    // squared error on one-hot targets.
    let mlp = GraphSpec::sequential(vec![
        LayerSpec::Input { shape: vec![4] },
        LayerSpec::Dense { units: 6, bias: true },
        LayerSpec::Gelu,
        LayerSpec::Dense { units: 5, bias: true },
        LayerSpec::Sigmoid,
        LayerSpec::Dense { units: 3, bias: false },
        LayerSpec::Softmax,
    ]);
    let (all, _) = load_bundled(Bundled::Iris).expect("bundled");
    let (itrain, itest) = split(&all, 0.2, 3);
    let (itrain, itest) = (&itrain, &itest);
    for (spec, loss) in [
        (OptimizerSpec::Sgd { lr: 0.1, momentum: 0.9, nesterov: true, weight_decay: 1e-3 }, LossSpec::CrossEntropy),
        (
            OptimizerSpec::AdamW { lr: 0.01, beta1: 0.8, beta2: 0.99, eps: 1e-7, weight_decay: 0.05 },
            LossSpec::MeanSquaredError,
        ),
    ] {
        let mut model = Model::new(&mlp, 5).expect("valid");
        let mut opt = Optimizer::new(spec);
        for (i, idx) in itrain.epoch_batches(16, 2).iter().take(15).enumerate() {
            model.train_step(&itrain.batch(idx), loss, &mut opt, i as u64).expect("fits");
        }
        compared += check_training_walks(&mut model, &mut opt, loss, itest, 0);
    }

    // A sequence model with a loss at every position: token ids through an embedding, learned
    // positions, layer norm, a dense layer at each position and one over them, then a
    // Transformer block and an LSTM (worked out by the engine), under Adam.
    use glassbox_engine::data::{sequence_task, SequenceTask};
    let (data, _) = sequence_task(SequenceTask::Reverse, 6, 8, 400, 1);
    let (strain, stest) = split(&data, 0.2, 2);
    let seq = GraphSpec::sequential(vec![
        LayerSpec::Input { shape: vec![6] },
        LayerSpec::Embedding { vocab: 8, dim: 8 },
        LayerSpec::PositionalEncoding { learned: true },
        LayerSpec::LayerNorm { eps: 1e-5 },
        LayerSpec::Dense { units: 8, bias: true },
        LayerSpec::Relu,
        LayerSpec::TransformerBlock { heads: 2, ff: 16, causal: false },
        LayerSpec::Lstm(glassbox_engine::graph::Recurrent { hidden: 8, return_sequences: true, bidirectional: false }),
        LayerSpec::Dense { units: 8, bias: true },
    ]);
    let mut model = Model::new(&seq, 3).expect("valid");
    let mut opt = Optimizer::new(OptimizerSpec::adam(3e-3));
    for (i, idx) in strain.epoch_batches(16, 2).iter().take(10).enumerate() {
        model.train_step(&strain.batch(idx), LossSpec::CrossEntropy, &mut opt, i as u64).expect("fits");
    }
    compared += check_training_walks(&mut model, &mut opt, LossSpec::CrossEntropy, &stest, 0);
    // The embedding's row of a token in the sample: the walk follows a position holding it, and
    // its loss operations show that position's scores.
    let sample = stest.batch(&[1]);
    let token = sample.inputs[2] as usize;
    let walk =
        training_step(&mut model, &mut opt, LossSpec::CrossEntropy, &sample, ("embedding1.weight", token * 8 + 3), &[])
            .expect("walks");
    let grad = &walk.operations[walk.update_at - 1];
    assert!(!grad.terms.is_empty() && grad.terms.iter().all(|t| t.0.contains(&format!("token {token}"))), "{grad:?}");
    assert!(walk.operations[0].what.contains("at position"), "{}", walk.operations[0].what);
    let norm = walk.operations.iter().find(|op| op.what.contains("(LayerNorm)")).expect("back through layer norm");
    assert!(norm.check.is_some() && norm.terms.len() == 5, "{norm:?}");
    // A token that is not in the sample gets no gradient, and the walk says why.
    let absent = (0..8).find(|t| !sample.inputs.iter().any(|&x| x as usize == *t));
    if let Some(absent) = absent {
        let walk = training_step(
            &mut model,
            &mut opt,
            LossSpec::CrossEntropy,
            &sample,
            ("embedding1.weight", absent * 8),
            &[],
        )
        .expect("walks");
        let grad = &walk.operations[walk.update_at - 1];
        assert!(grad.what.contains("does not occur in this sample") && grad.result == 0.0, "{grad:?}");
    }
    assert!(compared >= 40, "{compared} numbers compared");

    // Batch norm in evaluation behaviour: its backward rule by hand agrees with the engine; its
    // running statistics are not trained and are refused with the reason.
    let bn = GraphSpec::sequential(vec![
        LayerSpec::Input { shape: vec![4] },
        LayerSpec::Dense { units: 6, bias: true },
        LayerSpec::BatchNorm { momentum: 0.5, eps: 1e-5 },
        LayerSpec::Dense { units: 3, bias: true },
    ]);
    let mut model = Model::new(&bn, 2).expect("valid");
    let mut opt = Optimizer::new(OptimizerSpec::adam(1e-2));
    for (i, idx) in itrain.epoch_batches(16, 2).iter().take(5).enumerate() {
        model.train_step(&itrain.batch(idx), LossSpec::CrossEntropy, &mut opt, i as u64).expect("fits");
    }
    let walk =
        training_step(&mut model, &mut opt, LossSpec::CrossEntropy, &itest.batch(&[0]), ("dense1.weight", 5), &[])
            .expect("walks");
    let norm = walk.operations.iter().find(|op| op.what.contains("(BatchNorm)")).expect("back through batch norm");
    let check = norm.check.expect("checked");
    assert!((norm.result - check).abs() <= 1e-5 * (norm.result.abs() + check.abs()) + 1e-9, "{norm:?}");
    let e = training_step(
        &mut model,
        &mut opt,
        LossSpec::CrossEntropy,
        &itest.batch(&[0]),
        ("batchnorm1.running_mean", 0),
        &[],
    )
    .expect_err("not trained");
    assert!(e.to_string().contains("running statistic"), "{e}");

    // Bad choices say what to do.
    let e = training_step(&mut lenet, &mut adam, LossSpec::CrossEntropy, &test.batch(&[0]), ("nope.weight", 0), &[])
        .expect_err("no such weight");
    assert!(e.to_string().contains("its weights are"), "{e}");
    let e =
        training_step(&mut lenet, &mut adam, LossSpec::CrossEntropy, &test.batch(&[0]), ("dense1.bias", 10_000), &[])
            .expect_err("past the end");
    assert!(e.to_string().contains("values, 0 to"), "{e}");
}

/// Walks every node of `model` at its first, a middle and its last output value (and a few more
/// for recurrent layers, whose states run through time) and compares with the recorded value.
fn walk_every_node(model: &mut Model, x: &[f32]) -> usize {
    use glassbox_engine::explain::steps::walkthrough;
    let outputs = model.forward_record(x, 1).expect("runs");
    let weights = model.weights();
    let mut checked = 0;
    for out in &outputs {
        let size: usize = out.shape.iter().product();
        for index in [0, size / 3, size / 2 + 1, size - 1] {
            let index = index.min(size - 1);
            let w = walkthrough(model.spec(), model.report(), &outputs, &weights, &out.id, index)
                .unwrap_or_else(|e| panic!("{}: {e}", out.id));
            let last = w.operations.last().expect("an operation").result;
            assert!(
                (last - w.recorded).abs() <= 2e-5 * (1.0 + w.recorded.abs()),
                "{} ({}) at {index}: {last} by hand against {} recorded",
                out.id,
                w.layer,
                w.recorded
            );
            checked += 1;
        }
    }
    checked
}

#[test]
fn every_layer_kind_has_a_step_by_step_view_that_recomputes_its_output() {
    use glassbox_engine::graph::{EdgeSpec, Recurrent, SequencePooling};
    let recurrent = |hidden, return_sequences, bidirectional| Recurrent { hidden, return_sequences, bidirectional };
    // Token ids in, through every sequence layer kind: learned positions, a two-way GRU, a plain
    // RNN, an LSTM over both (two-way, its last states), layer norm, a Transformer block.
    let mut graph = GraphSpec::sequential(vec![
        LayerSpec::Input { shape: vec![7] },
        LayerSpec::Embedding { vocab: 12, dim: 6 },
        LayerSpec::PositionalEncoding { learned: true },
        LayerSpec::Gru(recurrent(5, true, true)),
        LayerSpec::Rnn(recurrent(4, true, false)),
        LayerSpec::LayerNorm { eps: 1e-5 },
        LayerSpec::TransformerBlock { heads: 2, ff: 12, causal: true },
        LayerSpec::Lstm(recurrent(3, false, true)),
        LayerSpec::Dense { units: 3, bias: true },
    ]);
    let mut model = Model::new(&graph, 4).expect("valid");
    let tokens = [3.0, 0.0, 11.0, 5.0, 5.0, 1.0, 9.0];
    let mut checked = walk_every_node(&mut model, &tokens);

    // Images through batch norm (its running statistics moved by training first), a residual
    // add, a concatenation, global average pooling, dropout and sinusoidal positions on a
    // sequence read by a dense layer at every position and pooled three ways.
    graph = GraphSpec::sequential(vec![
        LayerSpec::Input { shape: vec![2, 6, 6] },
        LayerSpec::Conv2d { filters: 3, kernel: 3, stride: 1, padding: 1 },
        LayerSpec::BatchNorm { momentum: 0.5, eps: 1e-5 },
        LayerSpec::Gelu,
        LayerSpec::Add,
        LayerSpec::GlobalAvgPool,
        LayerSpec::Dropout { rate: 0.5 },
        LayerSpec::Reshape { shape: vec![3, 1] },
        LayerSpec::PositionalEncoding { learned: false },
        LayerSpec::Dense { units: 4, bias: true },
        LayerSpec::SequencePool { mode: SequencePooling::Last },
        LayerSpec::Concat,
        LayerSpec::Dense { units: 2, bias: true },
    ]);
    // The add also reads the convolution (a residual), the concatenation the dropout's output.
    graph.edges.push(EdgeSpec { from: "conv2d1".into(), to: "add1".into(), port: 1 });
    graph.edges.push(EdgeSpec { from: "dropout1".into(), to: "concat1".into(), port: 1 });
    let mut model = Model::new(&graph, 6).expect("valid");
    assert!(model.report().problems.is_empty(), "{:?}", model.report().problems);
    let images: Vec<f32> = (0..2 * 2 * 36).map(|i| ((i * 37 % 23) as f32 / 11.0) - 1.0).collect();
    let batch = glassbox_engine::data::Batch {
        inputs: images.clone(),
        targets: glassbox_engine::data::Targets::Classes(vec![0, 1]),
        len: 2,
    };
    let mut opt = Optimizer::new(OptimizerSpec::adam(1e-2));
    for step in 0..3 {
        model.train_step(&batch, LossSpec::CrossEntropy, &mut opt, step).expect("trains");
    }
    let running = &model.weights()["batchnorm1.running_mean"];
    assert!(running.iter().any(|&m| m != 0.0), "the running mean moved: {running:?}");
    checked += walk_every_node(&mut model, &images[72..]);
    for mode in [SequencePooling::Mean, SequencePooling::First] {
        let mut pooled = graph.clone();
        if let Some(n) = pooled.nodes.iter_mut().find(|n| n.id == "sequencepool1") {
            n.layer = LayerSpec::SequencePool { mode };
        }
        checked += walk_every_node(&mut Model::new(&pooled, 7).expect("valid"), &images[..72]);
    }
    assert!(checked >= 100, "{checked}");
}
