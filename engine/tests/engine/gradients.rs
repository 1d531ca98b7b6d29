//! Gradient checks against central differences, for every layer kind (driven by
//! `LayerKind::all()`, derived from the enum, so a new kind cannot skip them), and a check that every parameter of a
//! small net of each kind gets a non-zero gradient (which catches a dropped tape).

use crate::common::{batch, batch_for, edge, graph_around, node};
use glassbox_engine::data::Batch;
use glassbox_engine::graph::{GraphSpec, LayerKind, LayerSpec, Recurrent, SequencePooling};
use glassbox_engine::tensor::{LossSpec, Model};

const EPS: f32 = 2e-3;

fn loss_at(model: &mut Model, batch: &Batch, loss: LossSpec) -> f32 {
    model.gradients(batch, loss, true, 99).expect("batch fits").loss
}

/// Compares analytic and numeric gradients of every parameter value and every input value.
pub(crate) fn check(graph: &GraphSpec, batch: &Batch, loss: LossSpec, what: &str) {
    let mut model = Model::new(graph, 5).unwrap_or_else(|e| panic!("{what}: {e}"));
    let analytic = model.gradients(batch, loss, true, 99).expect("batch fits");
    let mut worst = (0.0f32, String::new());
    let mut compare = |name: String, a: f32, n: f32| {
        let err = (a - n).abs() / (1e-2 + n.abs().max(a.abs()));
        if err > worst.0 {
            worst = (err, format!("{name}: analytic {a:.6} numeric {n:.6}"));
        }
    };
    for (name, grad) in &analytic.params {
        let base = model.weights()[name].clone();
        for (i, &a) in grad.iter().enumerate() {
            let mut w = base.clone();
            w[i] = base[i] + EPS;
            model.set_weight(name, &w).expect("same size");
            let up = loss_at(&mut model, batch, loss);
            w[i] = base[i] - EPS;
            model.set_weight(name, &w).expect("same size");
            let down = loss_at(&mut model, batch, loss);
            model.set_weight(name, &base).expect("same size");
            compare(format!("{name}[{i}]"), a, (up - down) / (2.0 * EPS));
        }
    }
    // Token ids are looked up, not differentiated.
    let tokens = graph.nodes.iter().any(|n| matches!(n.layer, LayerSpec::Embedding { .. }));
    for (i, &a) in analytic.input.iter().enumerate().filter(|_| !tokens) {
        let mut b = batch.clone();
        b.inputs[i] += EPS;
        let up = loss_at(&mut model, &b, loss);
        b.inputs[i] -= 2.0 * EPS;
        let down = loss_at(&mut model, &b, loss);
        compare(format!("input[{i}]"), a, (up - down) / (2.0 * EPS));
    }
    assert!(worst.0 < 0.05, "{what}: gradient mismatch at {} (relative error {:.4})", worst.1, worst.0);
}

#[test]
fn every_layer_kind_matches_central_differences() {
    for kind in LayerKind::all() {
        let layer = kind.example();
        let (graph, shape) = graph_around(&layer);
        check(&graph, &batch_for(&layer, &shape, 4, 0.3), LossSpec::CrossEntropy, kind.label());
    }
}

#[test]
fn layer_variants_match_central_differences() {
    let variants = [
        LayerSpec::Conv2d { filters: 3, kernel: 3, stride: 2, padding: 1 },
        LayerSpec::Conv2d { filters: 2, kernel: 1, stride: 1, padding: 0 },
        LayerSpec::MaxPool2d { size: 2, stride: Some(1) },
        LayerSpec::AvgPool2d { size: 3, stride: Some(2) },
        LayerSpec::Dense { units: 4, bias: false },
        LayerSpec::BatchNorm { momentum: 0.1, eps: 1e-3 },
        LayerSpec::Dropout { rate: 0.0 },
        LayerSpec::PositionalEncoding { learned: true },
        LayerSpec::Attention { heads: 3, dim: 6, causal: true },
        LayerSpec::TransformerBlock { heads: 1, ff: 6, causal: true },
        LayerSpec::SequencePool { mode: SequencePooling::Last },
        LayerSpec::SequencePool { mode: SequencePooling::First },
    ];
    let recurrent = [
        Recurrent { hidden: 3, return_sequences: true, bidirectional: false },
        Recurrent { hidden: 3, return_sequences: false, bidirectional: true },
        Recurrent { hidden: 2, return_sequences: true, bidirectional: true },
    ];
    let variants = variants
        .into_iter()
        .chain(recurrent.iter().flat_map(|r| [LayerSpec::Rnn(*r), LayerSpec::Lstm(*r), LayerSpec::Gru(*r)]));
    for layer in variants {
        let (graph, shape) = graph_around(&layer);
        check(&graph, &batch(&shape, 3, 1.1), LossSpec::CrossEntropy, &format!("{layer:?}"));
    }
}

#[test]
fn batch_norm_on_vectors_and_layer_norm_on_sequences_match() {
    let graph = GraphSpec {
        nodes: vec![
            node("input", LayerSpec::Input { shape: vec![3, 4] }),
            node("d", LayerSpec::Dense { units: 5, bias: true }),
            node("ln", LayerSpec::LayerNorm { eps: 1e-5 }),
            node("flat", LayerSpec::Flatten),
            node("d2", LayerSpec::Dense { units: 6, bias: true }),
            node("bn", LayerSpec::BatchNorm { momentum: 0.1, eps: 1e-5 }),
            node("soft", LayerSpec::Softmax),
            node("head", LayerSpec::Dense { units: 3, bias: true }),
        ],
        edges: vec![
            edge("input", "d", 0),
            edge("d", "ln", 0),
            edge("ln", "flat", 0),
            edge("flat", "d2", 0),
            edge("d2", "bn", 0),
            edge("bn", "soft", 0),
            edge("soft", "head", 0),
        ],
        output: None,
    };
    check(&graph, &batch(&[3, 4], 5, 0.7), LossSpec::CrossEntropy, "sequence net");
}

#[test]
fn mean_squared_error_and_a_self_residual_match() {
    // add(x, x) uses one tensor twice in one op, which dfdx cannot do directly.
    let graph = GraphSpec {
        nodes: vec![
            node("input", LayerSpec::Input { shape: vec![4] }),
            node("d", LayerSpec::Dense { units: 3, bias: true }),
            node("twice", LayerSpec::Add),
            node("out", LayerSpec::Dense { units: 2, bias: true }),
        ],
        edges: vec![edge("input", "d", 0), edge("d", "twice", 0), edge("d", "twice", 1), edge("twice", "out", 0)],
        output: None,
    };
    let mut b = batch(&[4], 3, 0.2);
    b.targets = glassbox_engine::data::Targets::Values(crate::common::wave(6, 2.0));
    check(&graph, &b, LossSpec::MeanSquaredError, "self residual with MSE");
}

#[test]
fn every_parameter_of_every_kind_gets_a_gradient() {
    for kind in LayerKind::all() {
        let layer = kind.example();
        let (graph, shape) = graph_around(&layer);
        let mut model = Model::new(&graph, 11).expect("valid graph");
        let report =
            model.gradients(&batch_for(&layer, &shape, 4, 0.9), LossSpec::CrossEntropy, true, 3).expect("batch fits");
        assert!(!report.params.is_empty(), "{}: no parameters", kind.label());
        for (name, grad) in &report.params {
            assert!(grad.iter().any(|g| *g != 0.0), "{}: parameter {name} got an all-zero gradient", kind.label());
        }
        if kind == LayerKind::Embedding {
            assert!(report.input.iter().all(|g| *g == 0.0), "token ids get no gradient");
        } else {
            assert!(report.input.iter().any(|g| *g != 0.0), "{}: the input got an all-zero gradient", kind.label());
        }
    }
}

#[test]
fn the_kind_list_covers_every_kind_once() {
    use strum::EnumCount as _;
    let kinds: Vec<LayerKind> = LayerKind::all().collect();
    assert_eq!(kinds.len(), LayerKind::COUNT);
    for kind in kinds {
        assert_eq!(kind.example().kind(), kind, "the example of {} is of its own kind", kind.label());
    }
}
