//! Small graphs around each layer kind, shared by the gradient and training tests.

#![allow(dead_code, reason = "each test module uses part of the helpers")]

use glassbox_engine::data::{Batch, Targets};
use glassbox_engine::graph::{EdgeSpec, GraphSpec, LayerKind, LayerSpec, NodeSpec};

pub fn node(id: &str, layer: LayerSpec) -> NodeSpec {
    NodeSpec { id: id.to_owned(), layer }
}

pub fn edge(from: &str, to: &str, port: usize) -> EdgeSpec {
    EdgeSpec { from: from.to_owned(), to: to.to_owned(), port }
}

/// Deterministic pseudo-random values in [-1, 1].
pub fn wave(n: usize, phase: f32) -> Vec<f32> {
    (0..n).map(|i| ((i as f32 + 1.0) * 1.618 + phase).sin() * ((i as f32) * 0.37 + phase).cos()).collect()
}

/// Appends a head that reduces any node to 3 class scores: Flatten, Dense(3).
fn with_head(mut nodes: Vec<NodeSpec>, mut edges: Vec<EdgeSpec>, last: &str) -> GraphSpec {
    nodes.push(node("head_flat", LayerSpec::Flatten));
    nodes.push(node("head", LayerSpec::Dense { units: 3, bias: true }));
    edges.push(edge(last, "head_flat", 0));
    edges.push(edge("head_flat", "head", 0));
    GraphSpec { nodes, edges, output: Some("head".to_owned()) }
}

/// A small trainable graph that exercises `layer` (of any kind), and its input shape.
/// Parameters sit before the layer where it has none, so that its backward pass is on the path
/// of some parameter's gradient.
pub fn graph_around(layer: &LayerSpec) -> (GraphSpec, Vec<usize>) {
    let image = vec![2, 5, 5];
    let vector = vec![6];
    let kind = layer.kind();
    let input_shape = match kind {
        LayerKind::Conv2d
        | LayerKind::MaxPool2d
        | LayerKind::AvgPool2d
        | LayerKind::GlobalAvgPool
        | LayerKind::BatchNorm => image,
        LayerKind::Flatten => vec![2, 3, 3],
        LayerKind::Embedding => vec![5],
        kind if is_sequence_kind(kind) => vec![4, 3],
        _ => vector,
    };
    let input = node("input", LayerSpec::Input { shape: input_shape.clone() });
    let graph = match kind {
        LayerKind::Input => with_head(vec![input], vec![], "input"),
        LayerKind::Add | LayerKind::Concat => {
            let units_b = if kind == LayerKind::Add { 4 } else { 5 };
            with_head(
                vec![
                    input,
                    node("a", LayerSpec::Dense { units: 4, bias: true }),
                    node("b", LayerSpec::Dense { units: units_b, bias: true }),
                    node("b_act", LayerSpec::Tanh),
                    node("layer", layer.clone()),
                ],
                vec![
                    edge("input", "a", 0),
                    edge("input", "b", 0),
                    edge("b", "b_act", 0),
                    edge("a", "layer", 0),
                    edge("b_act", "layer", 1),
                ],
                "layer",
            )
        }
        LayerKind::Reshape => with_head(
            vec![
                input,
                node("pre", LayerSpec::Dense { units: 6, bias: true }),
                node("layer", LayerSpec::Reshape { shape: vec![2, 3] }),
            ],
            vec![edge("input", "pre", 0), edge("pre", "layer", 0)],
            "layer",
        ),
        LayerKind::Conv2d | LayerKind::Dense | LayerKind::Flatten | LayerKind::Embedding => {
            with_head(vec![input, node("layer", layer.clone())], vec![edge("input", "layer", 0)], "layer")
        }
        LayerKind::MaxPool2d | LayerKind::AvgPool2d | LayerKind::GlobalAvgPool | LayerKind::BatchNorm => with_head(
            vec![
                input,
                node("pre", LayerSpec::Conv2d { filters: 3, kernel: 2, stride: 1, padding: 0 }),
                node("layer", layer.clone()),
            ],
            vec![edge("input", "pre", 0), edge("pre", "layer", 0)],
            "layer",
        ),
        kind if is_sequence_kind(kind) => with_head(
            vec![input, node("pre", LayerSpec::Dense { units: 4, bias: true }), node("layer", layer.clone())],
            vec![edge("input", "pre", 0), edge("pre", "layer", 0)],
            "layer",
        ),
        _ => with_head(
            vec![input, node("pre", LayerSpec::Dense { units: 5, bias: true }), node("layer", layer.clone())],
            vec![edge("input", "pre", 0), edge("pre", "layer", 0)],
            "layer",
        ),
    };
    (graph, input_shape)
}

/// The kinds that read a sequence `[time, features]`.
pub fn is_sequence_kind(kind: LayerKind) -> bool {
    matches!(
        kind,
        LayerKind::PositionalEncoding
            | LayerKind::Rnn
            | LayerKind::Lstm
            | LayerKind::Gru
            | LayerKind::Attention
            | LayerKind::TransformerBlock
            | LayerKind::SequencePool
    )
}

/// A batch for the graph `graph_around(layer)` builds: token ids for an Embedding (its
/// `LayerKind::example` has a vocabulary of 10), [`batch`] otherwise.
pub fn batch_for(layer: &LayerSpec, shape: &[usize], n: usize, phase: f32) -> Batch {
    let mut b = batch(shape, n, phase);
    if let LayerSpec::Embedding { vocab, .. } = layer {
        b.inputs = b.inputs.iter().map(|v| ((v + 1.0) * 4.7).floor() % *vocab as f32).collect();
    }
    b
}

/// A batch of `n` samples of `shape` with labels among 3 classes.
pub fn batch(shape: &[usize], n: usize, phase: f32) -> Batch {
    let per: usize = shape.iter().product();
    Batch { inputs: wave(per * n, phase), targets: Targets::Classes((0..n).map(|i| i % 3).collect()), len: n }
}
