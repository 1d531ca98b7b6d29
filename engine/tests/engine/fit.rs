//! Fitting a graph to a dataset: what changes, that the result trains, and what cannot be fitted.

use glassbox_engine::graph::{examples, fit_to_data, infer_shapes, GraphSpec, LayerKind, OutputNeed};

/// The 2-16-2 tanh MLP the session tests train.
use crate::session::graph as mlp;

fn kinds(graph: &GraphSpec) -> Vec<LayerKind> {
    graph.nodes.iter().map(|n| n.layer.kind()).collect()
}

#[test]
fn an_mlp_takes_images_through_a_flatten_and_scores_every_class() {
    let fitted = fit_to_data(&mlp(), &[1, 28, 28], OutputNeed::Classes(10), None).expect("fits");
    assert_eq!(
        kinds(&fitted.graph),
        [LayerKind::Input, LayerKind::Flatten, LayerKind::Dense, LayerKind::Tanh, LayerKind::Dense]
    );
    let report = infer_shapes(&fitted.graph);
    assert!(report.is_ok(), "{:?}", report.problems);
    assert_eq!(report.output.as_deref().and_then(|o| report.shape_of(o)), Some(&[10][..]));
    assert_eq!(fitted.changes.len(), 3, "input, flatten, units: {:?}", fitted.changes);
    assert!(fitted.changes[0].contains("from [2] to [1, 28, 28]"), "{:?}", fitted.changes);
    // Fitting what already fits changes nothing.
    let again = fit_to_data(&fitted.graph, &[1, 28, 28], OutputNeed::Classes(10), None).expect("fits");
    assert!(again.changes.is_empty(), "{:?}", again.changes);
    assert_eq!(again.graph, fitted.graph);
}

#[test]
fn a_label_per_position_gets_a_reshape_and_losing_it_removes_it() {
    let fitted = fit_to_data(&mlp(), &[6], OutputNeed::PerPosition { positions: 6, classes: 8 }, None).expect("fits");
    let report = infer_shapes(&fitted.graph);
    assert_eq!(report.output.as_deref().and_then(|o| report.shape_of(o)), Some(&[6, 8][..]));
    let back = fit_to_data(&fitted.graph, &[2], OutputNeed::Classes(2), None).expect("fits");
    assert_eq!(kinds(&back.graph), kinds(&mlp()), "the Reshape went again");
    assert_eq!(infer_shapes(&back.graph).output.as_deref(), Some("dense2"));
}

#[test]
fn a_conv_net_given_points_says_why_it_cannot_be_fitted() {
    let lenet = examples::lenet();
    let e = fit_to_data(&lenet, &[2], OutputNeed::Classes(2), None).expect_err("a convolution needs images");
    assert!(e.contains("does not fit"), "{e}");
    // Regression needs the last Dense's units set to the number of targets.
    let fitted = fit_to_data(&mlp(), &[2], OutputNeed::Values(1), None).expect("fits");
    let report = infer_shapes(&fitted.graph);
    assert_eq!(report.output.as_deref().and_then(|o| report.shape_of(o)), Some(&[1][..]));
}

#[test]
fn a_sequence_model_gets_the_data_vocabulary_and_a_score_per_position_without_a_reshape() {
    use glassbox_engine::graph::LayerSpec;
    let transformer = GraphSpec::sequential(vec![
        LayerSpec::Input { shape: vec![8] },
        LayerSpec::Embedding { vocab: 10, dim: 8 },
        LayerSpec::TransformerBlock { heads: 2, ff: 16, causal: false },
        LayerSpec::Dense { units: 4, bias: true },
    ]);
    let need = OutputNeed::PerPosition { positions: 6, classes: 12 };
    let fitted = fit_to_data(&transformer, &[6], need, Some(12)).expect("fits");
    assert_eq!(kinds(&fitted.graph), kinds(&transformer), "no Reshape: the Dense scores each position");
    let report = infer_shapes(&fitted.graph);
    assert_eq!(report.output.as_deref().and_then(|o| report.shape_of(o)), Some(&[6, 12][..]));
    assert!(fitted.changes.iter().any(|c| c.contains("embedding1's vocabulary from 10 to 12")), "{:?}", fitted.changes);
    assert!(fitted.changes.iter().any(|c| c.contains("units from 4 to 12")), "{:?}", fitted.changes);
}
