//! Editing a graph as data (what the node editor will do): add, connect, insert on a wire,
//! delete, paste and duplicate, with shape inference judging each result; undo is keeping the
//! previous graph, so it is checked as equality with it.

use std::collections::BTreeSet;

use glassbox_engine::graph::edit::{
    add_node, connect, delete_nodes, disconnect, duplicate, fresh_id, insert_on_wire, palette_group,
};
use glassbox_engine::graph::{infer_shapes, GraphSpec, LayerKind, LayerSpec};

/// The 2-16-2 tanh MLP the session tests train.
use crate::session::graph as mlp;

fn ids(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn every_kind_has_a_palette_group_and_fresh_ids_do_not_clash() {
    for kind in LayerKind::all() {
        assert!(!palette_group(kind).is_empty());
    }
    let g = mlp();
    assert_eq!(fresh_id(&g, LayerKind::Dense), "dense3", "dense1 and dense2 are taken");
    assert_eq!(fresh_id(&g, LayerKind::Relu), "relu1");
}

#[test]
fn adding_and_wiring_a_node_gives_it_a_shape() {
    let before = mlp();
    let mut g = before.clone();
    let relu = add_node(&mut g, LayerSpec::Relu);
    assert!(infer_shapes(&g).nodes[&relu].output_shape.is_none(), "unconnected: no shape yet");
    assert!(connect(&mut g, "dense1", &relu, 0));
    assert_eq!(infer_shapes(&g).nodes[&relu].output_shape.as_deref(), Some(&[16][..]));
    // Refused: a port the kind lacks, a loop, a node into itself.
    assert!(!connect(&mut g, "dense1", &relu, 1));
    assert!(!connect(&mut g, &relu, "dense1", 0), "dense1 feeds relu: a loop");
    assert!(!connect(&mut g, &relu, &relu, 0));
    // Rewiring a port replaces its wire.
    assert!(connect(&mut g, "tanh1", &relu, 0));
    assert_eq!(g.edges.iter().filter(|e| e.to == relu).count(), 1);
    disconnect(&mut g, &relu, 0);
    assert!(g.edges.iter().all(|e| e.to != relu));
    assert_ne!(g, before, "undo is the graph kept from before");
}

#[test]
fn a_conv_wired_into_a_dense_is_a_problem_on_the_dense_and_a_flatten_on_the_wire_fixes_it() {
    let mut g = GraphSpec::sequential(vec![
        LayerSpec::Input { shape: vec![1, 8, 8] },
        LayerSpec::Conv2d { filters: 4, kernel: 3, stride: 1, padding: 0 },
        LayerSpec::Dense { units: 10, bias: true },
    ]);
    let report = infer_shapes(&g);
    assert!(report.problems.iter().any(|p| p.node.as_deref() == Some("dense1")), "{:?}", report.problems);
    let flatten = insert_on_wire(&mut g, "dense1", 0, LayerSpec::Flatten).expect("a wire to insert on");
    let report = infer_shapes(&g);
    assert!(report.is_ok(), "{:?}", report.problems);
    assert_eq!(report.nodes[&flatten].output_shape.as_deref(), Some(&[144][..]));
    assert!(insert_on_wire(&mut g, "dense1", 1, LayerSpec::Relu).is_none(), "no wire on port 1");
}

#[test]
fn deleting_nodes_takes_their_wires_passes_the_output_back_and_closes_merge_ports() {
    let mut g = mlp();
    delete_nodes(&mut g, &ids(&["dense2"]));
    assert_eq!(g.output.as_deref(), Some("tanh1"), "the output passes to what fed it");
    assert!(g.edges.iter().all(|e| e.to != "dense2" && e.from != "dense2"));
    assert!(infer_shapes(&g).is_ok());
    // A Concat of three loses its middle input: the ports close up to 0, 1.
    let mut g = mlp();
    let join = add_node(&mut g, LayerSpec::Concat);
    for (port, from) in ["dense1", "tanh1", "dense2"].iter().enumerate() {
        assert!(connect(&mut g, from, &join, port));
    }
    delete_nodes(&mut g, &ids(&["tanh1"]));
    let mut ports: Vec<usize> = g.edges.iter().filter(|e| e.to == join).map(|e| e.port).collect();
    ports.sort_unstable();
    assert_eq!(ports, [0, 1]);
    // A layer deleted from the middle of a chain: the chain heals around it.
    let mut g = mlp();
    delete_nodes(&mut g, &ids(&["tanh1"]));
    assert!(g.edges.iter().any(|e| e.from == "dense1" && e.to == "dense2"), "{:?}", g.edges);
    assert!(infer_shapes(&g).is_ok());
    // Two in a row too.
    let mut g = mlp();
    delete_nodes(&mut g, &ids(&["dense1", "tanh1"]));
    assert!(g.edges.iter().any(|e| e.from == "input" && e.to == "dense2"), "{:?}", g.edges);
}

#[test]
fn duplicating_copies_nodes_and_the_wires_among_them_under_new_ids() {
    let mut g = mlp();
    let copies = duplicate(&mut g, &ids(&["input", "dense1", "tanh1"]));
    assert_eq!(copies, ["dense3", "tanh2"], "the Input is never copied");
    assert!(g.edges.iter().any(|e| e.from == "dense3" && e.to == "tanh2"), "the wire between them came along");
    assert!(g.edges.iter().all(|e| e.to != "dense3"), "wires from outside the copy do not");
    assert_eq!(g.nodes.len(), 6);
}

#[test]
fn every_parameter_a_layer_has_in_a_file_is_explained() {
    for kind in LayerKind::all() {
        assert!(!kind.about().is_empty() && !kind.formula().is_empty(), "{kind:?}");
        let json = serde_json::to_value(kind.example()).expect("serialises");
        let mut in_file: Vec<String> =
            json.as_object().expect("a layer is an object").keys().filter(|k| *k != "kind").cloned().collect();
        in_file.sort();
        let mut explained: Vec<String> = kind.params().iter().map(|p| p.name.to_owned()).collect();
        explained.sort();
        assert_eq!(in_file, explained, "{kind:?}: the file's keys and the explained parameters");
        assert!(kind.params().iter().all(|p| !p.about.is_empty()));
    }
}
