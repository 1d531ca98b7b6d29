//! Shape inference: output shapes, parameter counts, and a clear message for every problem.

use crate::common::{edge, node};
use glassbox_engine::graph::examples::lenet;
use glassbox_engine::graph::{infer_shapes, GraphSpec, LayerSpec, ShapeReport};
use glassbox_engine::tensor::Model;
use glassbox_engine::EngineError;

fn messages(report: &ShapeReport) -> Vec<String> {
    report.problems.iter().map(ToString::to_string).collect()
}

fn assert_problem(report: &ShapeReport, node: Option<&str>, needle: &str) {
    assert!(
        report.problems.iter().any(|p| p.node.as_deref() == node && p.message.contains(needle)),
        "expected a problem on {node:?} containing {needle:?}, got {:#?}",
        messages(report)
    );
}

#[test]
fn lenet_shapes_and_parameter_counts() {
    let report = infer_shapes(&lenet());
    assert!(report.is_ok(), "{:?}", messages(&report));
    let shape = |id: &str| report.shape_of(id).expect("known").to_vec();
    assert_eq!(shape("conv2d1"), vec![8, 24, 24]);
    assert_eq!(shape("maxpool2d1"), vec![8, 12, 12]);
    assert_eq!(shape("conv2d2"), vec![16, 8, 8]);
    assert_eq!(shape("maxpool2d2"), vec![16, 4, 4]);
    assert_eq!(shape("flatten1"), vec![256]);
    assert_eq!(shape("dense1"), vec![10]);
    assert_eq!(report.nodes["conv2d1"].param_count, 8 * 25 + 8);
    assert_eq!(report.nodes["conv2d2"].param_count, 16 * 8 * 25 + 16);
    assert_eq!(report.nodes["dense1"].param_count, 256 * 10 + 10);
    assert_eq!(report.total_params(), 208 + 3216 + 2570);
    assert_eq!(report.order.first().map(String::as_str), Some("input"));
    assert_eq!(report.output.as_deref(), Some("dense1"));
}

#[test]
fn padding_stride_and_residual_shapes() {
    let g = GraphSpec {
        nodes: vec![
            node("in", LayerSpec::Input { shape: vec![3, 32, 32] }),
            node("c1", LayerSpec::Conv2d { filters: 16, kernel: 3, stride: 2, padding: 1 }),
            node("c2", LayerSpec::Conv2d { filters: 16, kernel: 3, stride: 1, padding: 1 }),
            node("sum", LayerSpec::Add),
            node("cat", LayerSpec::Concat),
            node("gap", LayerSpec::GlobalAvgPool),
            node("bn", LayerSpec::BatchNorm { momentum: 0.1, eps: 1e-5 }),
        ],
        edges: vec![
            edge("in", "c1", 0),
            edge("c1", "c2", 0),
            edge("c1", "sum", 0),
            edge("c2", "sum", 1),
            edge("sum", "cat", 0),
            edge("c1", "cat", 1),
            edge("cat", "gap", 0),
            edge("gap", "bn", 0),
        ],
        output: None,
    };
    let report = infer_shapes(&g);
    assert!(report.is_ok(), "{:?}", messages(&report));
    assert_eq!(report.shape_of("c1"), Some(&[16, 16, 16][..]));
    assert_eq!(report.shape_of("sum"), Some(&[16, 16, 16][..]));
    assert_eq!(report.shape_of("cat"), Some(&[32, 16, 16][..]));
    assert_eq!(report.shape_of("bn"), Some(&[32][..]));
    assert_eq!(report.nodes["bn"].param_count, 64);
    assert_eq!(report.output.as_deref(), Some("bn"));
}

#[test]
fn dense_on_an_image_says_to_flatten() {
    let g = GraphSpec::sequential(vec![
        LayerSpec::Input { shape: vec![1, 28, 28] },
        LayerSpec::Conv2d { filters: 4, kernel: 3, stride: 1, padding: 0 },
        LayerSpec::Dense { units: 10, bias: true },
    ]);
    let report = infer_shapes(&g);
    assert_problem(&report, Some("dense1"), "add a Flatten before dense1");
    assert_problem(&report, Some("dense1"), "[4, 26, 26]");
}

#[test]
fn conv_on_a_vector_says_what_it_expects() {
    let g = GraphSpec::sequential(vec![
        LayerSpec::Input { shape: vec![784] },
        LayerSpec::Dense { units: 128, bias: true },
        LayerSpec::Conv2d { filters: 4, kernel: 3, stride: 1, padding: 0 },
    ]);
    let report = infer_shapes(&g);
    assert_problem(&report, Some("conv2d1"), "expects an image [channels, height, width] but dense1 gives [128]");
    assert_problem(&report, Some("conv2d1"), "add a Reshape");
}

#[test]
fn kernel_larger_than_input() {
    let g = GraphSpec::sequential(vec![
        LayerSpec::Input { shape: vec![1, 4, 4] },
        LayerSpec::Conv2d { filters: 2, kernel: 5, stride: 1, padding: 0 },
    ]);
    assert_problem(&infer_shapes(&g), Some("conv2d1"), "5x5 kernel is larger than its 4x4 input");
    let g = GraphSpec::sequential(vec![
        LayerSpec::Input { shape: vec![1, 3, 3] },
        LayerSpec::MaxPool2d { size: 4, stride: None },
    ]);
    assert_problem(&infer_shapes(&g), Some("maxpool2d1"), "4x4 window is larger than its 3x3 input");
}

#[test]
fn mismatched_add_and_concat() {
    let g = GraphSpec {
        nodes: vec![
            node("in", LayerSpec::Input { shape: vec![8] }),
            node("a", LayerSpec::Dense { units: 4, bias: true }),
            node("b", LayerSpec::Dense { units: 5, bias: true }),
            node("sum", LayerSpec::Add),
        ],
        edges: vec![edge("in", "a", 0), edge("in", "b", 0), edge("a", "sum", 0), edge("b", "sum", 1)],
        output: None,
    };
    assert_problem(&infer_shapes(&g), Some("sum"), "a gives [4] and b gives [5]");
    let g = GraphSpec {
        nodes: vec![
            node("in", LayerSpec::Input { shape: vec![1, 8, 8] }),
            node("a", LayerSpec::Conv2d { filters: 2, kernel: 3, stride: 1, padding: 0 }),
            node("b", LayerSpec::Conv2d { filters: 2, kernel: 3, stride: 1, padding: 1 }),
            node("cat", LayerSpec::Concat),
        ],
        edges: vec![edge("in", "a", 0), edge("in", "b", 0), edge("a", "cat", 0), edge("b", "cat", 1)],
        output: None,
    };
    assert_problem(&infer_shapes(&g), Some("cat"), "the other axes must match");
}

#[test]
fn cycle_dangling_and_missing_input_are_each_reported() {
    let g = GraphSpec {
        nodes: vec![
            node("in", LayerSpec::Input { shape: vec![4] }),
            node("d1", LayerSpec::Dense { units: 4, bias: true }),
            node("loop_a", LayerSpec::Relu),
            node("loop_b", LayerSpec::Tanh),
            node("spare", LayerSpec::Sigmoid),
            node("orphan", LayerSpec::Relu),
        ],
        edges: vec![
            edge("in", "d1", 0),
            edge("loop_a", "loop_b", 0),
            edge("loop_b", "loop_a", 0),
            edge("in", "spare", 0),
        ],
        output: Some("d1".to_owned()),
    };
    let report = infer_shapes(&g);
    assert!(!report.is_ok());
    assert_problem(&report, Some("loop_a"), "part of a loop");
    assert_problem(&report, Some("loop_b"), "part of a loop");
    assert_problem(&report, Some("spare"), "does not lead to the output");
    assert_problem(&report, Some("orphan"), "has no input");
    // Still, the healthy part has shapes.
    assert_eq!(report.shape_of("d1"), Some(&[4][..]));
}

#[test]
fn no_input_unknown_edge_several_ends_and_bad_reshape() {
    let g =
        GraphSpec { nodes: vec![node("d", LayerSpec::Dense { units: 2, bias: true })], edges: vec![], output: None };
    assert_problem(&infer_shapes(&g), None, "no Input node");

    let g = GraphSpec {
        nodes: vec![
            node("in", LayerSpec::Input { shape: vec![2] }),
            node("a", LayerSpec::Relu),
            node("b", LayerSpec::Tanh),
        ],
        edges: vec![edge("in", "a", 0), edge("in", "b", 0), edge("ghost", "a", 1)],
        output: None,
    };
    let report = infer_shapes(&g);
    assert_problem(&report, None, "several ends (a, b)");
    assert_problem(&report, Some("a"), "comes from 'ghost', which is not in the graph");

    let g = GraphSpec::sequential(vec![LayerSpec::Input { shape: vec![10] }, LayerSpec::Reshape { shape: vec![3, 3] }]);
    assert_problem(&infer_shapes(&g), Some("reshape1"), "[10] (10 numbers) to [3, 3] (9 numbers)");
}

#[test]
fn every_problem_at_once_and_compile_refuses() {
    let g = GraphSpec::sequential(vec![
        LayerSpec::Input { shape: vec![1, 4, 4] },
        LayerSpec::Dropout { rate: 1.5 },
        LayerSpec::Conv2d { filters: 2, kernel: 9, stride: 1, padding: 0 },
    ]);
    let report = infer_shapes(&g);
    assert_eq!(
        report.problems.len(),
        1,
        "conv is not reported twice when its input is unknown: {:?}",
        messages(&report)
    );
    assert_problem(&report, Some("dropout1"), "use a rate from 0 up to");
    let err = Model::new(&g, 0).expect_err("a bad graph does not compile");
    assert!(matches!(err, EngineError::Graph(ref p) if p.len() == 1));
    assert!(err.to_string().contains("dropout1"), "{err}");
}

#[test]
fn graph_specs_round_trip_through_json() {
    let g = lenet();
    let text = serde_json::to_string_pretty(&g).expect("serialises");
    let back: GraphSpec = serde_json::from_str(&text).expect("parses");
    assert_eq!(back, g);
    let minimal: GraphSpec = serde_json::from_str(r#"{"nodes":[{"id":"in","layer":{"kind":"Input","shape":[3]}},{"id":"d","layer":{"kind":"Dense","units":2}}],"edges":[{"from":"in","to":"d"}]}"#).expect("defaults fill in");
    assert_eq!(minimal.nodes[1].layer, LayerSpec::Dense { units: 2, bias: true });
    assert!(infer_shapes(&minimal).is_ok());
}

#[test]
fn multiply_adds_are_counted_per_sample() {
    let report = glassbox_engine::graph::infer_shapes(&glassbox_engine::graph::examples::lenet());
    // conv 1->8 5x5 on 28x28: 8*24*24 outputs x 25 taps; conv 8->16 5x5: 16*8*8 x 8*25; dense 256x10.
    assert_eq!(report.nodes["conv2d1"].multiply_adds, 8 * 24 * 24 * 25);
    assert_eq!(report.nodes["conv2d2"].multiply_adds, 16 * 8 * 8 * 8 * 25);
    assert_eq!(report.nodes["dense1"].multiply_adds, 256 * 10);
    assert_eq!(report.nodes["relu1"].multiply_adds, 0);
    assert_eq!(report.total_multiply_adds(), 115_200 + 204_800 + 2_560);
}

#[test]
fn one_missing_wire_is_said_once_on_each_side_of_the_cut() {
    let mut g = GraphSpec::sequential(vec![
        LayerSpec::Input { shape: vec![2] },
        LayerSpec::Dense { units: 8, bias: true },
        LayerSpec::Tanh,
        LayerSpec::Dense { units: 8, bias: true },
        LayerSpec::Tanh,
        LayerSpec::Dense { units: 2, bias: true },
    ]);
    g.edges.retain(|e| !(e.from == "dense2" && e.to == "tanh2"));
    let report = infer_shapes(&g);
    let on: Vec<&str> = report.problems.iter().filter_map(|p| p.node.as_deref()).collect();
    assert_eq!(on, ["dense2", "tanh2"], "{:?}", messages(&report));
    assert_problem(&report, Some("tanh2"), "has no input");
    assert_problem(&report, Some("dense2"), "does not lead to the output");
}

#[test]
fn sequence_layers_shapes_parameter_counts_and_messages() {
    use glassbox_engine::graph::{Recurrent, SequencePooling};
    let both = Recurrent { hidden: 16, return_sequences: true, bidirectional: true };
    let graph = GraphSpec::sequential(vec![
        LayerSpec::Input { shape: vec![12] },
        LayerSpec::Embedding { vocab: 50, dim: 8 },
        LayerSpec::PositionalEncoding { learned: true },
        LayerSpec::Lstm(both),
        LayerSpec::Gru(Recurrent { hidden: 6, return_sequences: true, bidirectional: false }),
        LayerSpec::Attention { heads: 2, dim: 10, causal: true },
        LayerSpec::TransformerBlock { heads: 5, ff: 20, causal: false },
        LayerSpec::SequencePool { mode: SequencePooling::Last },
        LayerSpec::Rnn(Recurrent { hidden: 4, return_sequences: false, bidirectional: false }),
    ]);
    let report = infer_shapes(&graph);
    // The RNN after the pooling gets a vector: the one problem, on it, saying what to do.
    assert_eq!(report.problems.len(), 1, "{:?}", messages(&report));
    assert_problem(&report, Some("rnn1"), "reads a sequence [time, features] but sequencepool1 gives [10]");
    let shape = |id: &str| report.shape_of(id).expect("known").to_vec();
    assert_eq!(shape("embedding1"), vec![12, 8]);
    assert_eq!(shape("positionalencoding1"), vec![12, 8]);
    assert_eq!(shape("lstm1"), vec![12, 32], "both directions' states side by side");
    assert_eq!(shape("gru1"), vec![12, 6]);
    assert_eq!(shape("multiheadattention1"), vec![12, 10]);
    assert_eq!(shape("transformerblock1"), vec![12, 10]);
    assert_eq!(shape("sequencepool1"), vec![10]);
    let params = |id: &str| report.nodes[id].param_count;
    assert_eq!(params("embedding1"), 50 * 8);
    assert_eq!(params("positionalencoding1"), 12 * 8);
    // Per direction: W_ih [8, 64], W_hh [16, 64], two biases of 64 (PyTorch's count).
    assert_eq!(params("lstm1"), 2 * (8 * 64 + 16 * 64 + 2 * 64));
    assert_eq!(params("gru1"), 32 * 18 + 6 * 18 + 2 * 18);
    assert_eq!(params("multiheadattention1"), 6 * 30 + 30 + 10 * 10 + 10);
    assert_eq!(params("transformerblock1"), 4 * 10 + 10 * 30 + 30 + 10 * 10 + 10 + 10 * 20 + 20 + 20 * 10 + 10);
    // The usual mistakes, each said on its node with what to do.
    let tokens_into_lstm = GraphSpec::sequential(vec![
        LayerSpec::Input { shape: vec![12] },
        LayerSpec::Lstm(Recurrent { hidden: 4, return_sequences: false, bidirectional: false }),
    ]);
    assert_problem(&infer_shapes(&tokens_into_lstm), Some("lstm1"), "add an Embedding before lstm1");
    let uneven_heads = GraphSpec::sequential(vec![
        LayerSpec::Input { shape: vec![5, 4] },
        LayerSpec::Attention { heads: 3, dim: 10, causal: false },
    ]);
    assert_problem(
        &infer_shapes(&uneven_heads),
        Some("multiheadattention1"),
        "make dim a multiple of heads (for example 12)",
    );
    let embedding_of_features =
        GraphSpec::sequential(vec![LayerSpec::Input { shape: vec![5, 4] }, LayerSpec::Embedding { vocab: 10, dim: 4 }]);
    assert_problem(&infer_shapes(&embedding_of_features), Some("embedding1"), "turns token ids [time] into vectors");
    let block_heads = GraphSpec::sequential(vec![
        LayerSpec::Input { shape: vec![5, 6] },
        LayerSpec::TransformerBlock { heads: 4, ff: 8, causal: false },
    ]);
    assert_problem(&infer_shapes(&block_heads), Some("transformerblock1"), "use a number of heads that divides 6");
}
