//! Editing a graph as data: what the node editor does to a [`GraphSpec`], each operation a pure
//! function from one graph to the next (so undo is keeping the previous graph), tested without a
//! window.

use std::collections::{BTreeMap, BTreeSet};

use super::spec::{EdgeSpec, GraphSpec, LayerKind, LayerSpec, NodeId, NodeSpec};

/// The group a layer kind is listed under in the editor's palette.
#[must_use]
pub fn palette_group(kind: LayerKind) -> &'static str {
    match kind {
        LayerKind::Input => "input",
        LayerKind::Dense | LayerKind::Flatten | LayerKind::Reshape => "core",
        LayerKind::Conv2d => "convolution",
        LayerKind::MaxPool2d | LayerKind::AvgPool2d | LayerKind::GlobalAvgPool => "pooling",
        LayerKind::BatchNorm | LayerKind::LayerNorm => "normalisation",
        LayerKind::Relu
        | LayerKind::LeakyRelu
        | LayerKind::Tanh
        | LayerKind::Sigmoid
        | LayerKind::Gelu
        | LayerKind::Softmax => "activation",
        LayerKind::Dropout => "regularisation",
        LayerKind::Add | LayerKind::Concat => "merge",
        LayerKind::Embedding | LayerKind::PositionalEncoding | LayerKind::SequencePool => "sequence",
        LayerKind::Rnn | LayerKind::Lstm | LayerKind::Gru => "recurrent",
        LayerKind::Attention | LayerKind::TransformerBlock => "attention",
    }
}

/// A node id not yet in the graph, from the kind's name: `dense1`, `dense2`, ...
#[must_use]
pub fn fresh_id(graph: &GraphSpec, kind: LayerKind) -> NodeId {
    let base = if kind == LayerKind::Input { "input".to_owned() } else { kind.label().to_lowercase() };
    (1..)
        .map(|i| if kind == LayerKind::Input && i == 1 { base.clone() } else { format!("{base}{i}") })
        .find(|id| graph.node(id).is_none())
        .unwrap_or(base)
}

/// Adds a node of `layer`, unconnected; returns its id.
pub fn add_node(graph: &mut GraphSpec, layer: LayerSpec) -> NodeId {
    let id = fresh_id(graph, layer.kind());
    graph.nodes.push(NodeSpec { id: id.clone(), layer });
    id
}

/// Wires `from`'s output into `to`'s input `port`, replacing what was wired there. Refused (false)
/// for unknown nodes, a port the kind does not have, a node into itself, or a wire that would
/// close a loop.
pub fn connect(graph: &mut GraphSpec, from: &str, to: &str, port: usize) -> bool {
    let (Some(_), Some(target)) = (graph.node(from), graph.node(to)) else { return false };
    let (_, max) = target.layer.arity();
    if port >= max || from == to || reaches(graph, to, from) {
        return false;
    }
    graph.edges.retain(|e| !(e.to == to && e.port == port));
    graph.edges.push(EdgeSpec { from: from.to_owned(), to: to.to_owned(), port });
    true
}

/// Whether `target` can be reached from `start` along the wires.
fn reaches(graph: &GraphSpec, start: &str, target: &str) -> bool {
    let mut stack = vec![start.to_owned()];
    let mut seen = BTreeSet::new();
    while let Some(node) = stack.pop() {
        if node == target {
            return true;
        }
        if seen.insert(node.clone()) {
            stack.extend(graph.edges.iter().filter(|e| e.from == node).map(|e| e.to.clone()));
        }
    }
    false
}

/// Removes the wire into `to`'s `port`.
/// The ports of a merge node close up, so its remaining inputs stay 0, 1, 2, ...
pub fn disconnect(graph: &mut GraphSpec, to: &str, port: usize) {
    graph.edges.retain(|e| !(e.to == to && e.port == port));
    close_ports(graph);
}

/// Numbers every node's input ports 0, 1, 2, ... in their order.
fn close_ports(graph: &mut GraphSpec) {
    let mut by_target: BTreeMap<NodeId, Vec<usize>> = BTreeMap::new();
    for (i, e) in graph.edges.iter().enumerate() {
        by_target.entry(e.to.clone()).or_default().push(i);
    }
    for positions in by_target.values_mut() {
        positions.sort_by_key(|&i| graph.edges[i].port);
        for (port, &i) in positions.iter().enumerate() {
            graph.edges[i].port = port;
        }
    }
}

/// Puts a new node of `layer` on the wire into `to`'s `port`: `from -> new -> to`. Returns the new
/// node's id, or `None` when there is no such wire or the layer takes no input.
pub fn insert_on_wire(graph: &mut GraphSpec, to: &str, port: usize, layer: LayerSpec) -> Option<NodeId> {
    if layer.arity().1 == 0 {
        return None;
    }
    let from = graph.edges.iter().find(|e| e.to == to && e.port == port)?.from.clone();
    let id = add_node(graph, layer);
    // Listed just before the node it feeds, so the file reads in order.
    if let Some(at) = graph.nodes.iter().position(|n| n.id == to) {
        if let Some(new) = graph.nodes.pop() {
            graph.nodes.insert(at, new);
        }
    }
    graph.edges.retain(|e| !(e.to == to && e.port == port));
    graph.edges.push(EdgeSpec { from, to: id.clone(), port: 0 });
    graph.edges.push(EdgeSpec { from: id.clone(), to: to.to_owned(), port });
    Some(id)
}

/// Deletes nodes and every wire to or from them. A deleted node with one input passes it on:
/// what it fed is fed by that input instead (a chain heals), unless that input feeds it already.
/// A deleted output passes its role to the node that fed it (the last kept node, when that was
/// deleted too).
pub fn delete_nodes(graph: &mut GraphSpec, ids: &BTreeSet<NodeId>) {
    let mut output = graph.output.clone();
    while let Some(current) = output.clone().filter(|o| ids.contains(o)) {
        output = graph.edges.iter().find(|e| e.to == current && e.port == 0).map(|e| e.from.clone());
    }
    // The kept node a deleted one gets its data from, through a chain of one-input nodes.
    let source = |start: &str| -> Option<NodeId> {
        let mut id = start.to_owned();
        for _ in 0..=graph.nodes.len() {
            if !ids.contains(&id) {
                return Some(id);
            }
            let mut inputs = graph.edges.iter().filter(|e| e.to == id);
            match (inputs.next(), inputs.next()) {
                (Some(only), None) => id.clone_from(&only.from),
                _ => return None,
            }
        }
        None
    };
    let mut healed: Vec<EdgeSpec> = Vec::new();
    for e in graph.edges.iter().filter(|e| ids.contains(&e.from) && !ids.contains(&e.to)) {
        if let Some(from) = source(&e.from) {
            let feeds = |x: &EdgeSpec| x.from == from && x.to == e.to;
            if !graph.edges.iter().any(feeds) && !healed.iter().any(feeds) {
                healed.push(EdgeSpec { from, to: e.to.clone(), port: e.port });
            }
        }
    }
    graph.nodes.retain(|n| !ids.contains(&n.id));
    graph.edges.retain(|e| !ids.contains(&e.from) && !ids.contains(&e.to));
    graph.edges.extend(healed);
    close_ports(graph);
    graph.output = output.or_else(|| graph.nodes.last().map(|n| n.id.clone())).filter(|o| graph.node(o).is_some());
}

/// Copies nodes (with the wires among them) into the graph under fresh ids; wires from outside
/// the copied set are left out. Returns the new ids, in the order given.
pub fn paste(graph: &mut GraphSpec, nodes: &[NodeSpec], edges: &[EdgeSpec]) -> Vec<NodeId> {
    let mut renamed = BTreeMap::new();
    let mut added = Vec::new();
    for node in nodes {
        // An Input is never copied: a graph has one.
        if node.layer.kind() == LayerKind::Input {
            continue;
        }
        let id = add_node(graph, node.layer.clone());
        renamed.insert(node.id.clone(), id.clone());
        added.push(id);
    }
    for e in edges {
        if let (Some(from), Some(to)) = (renamed.get(&e.from), renamed.get(&e.to)) {
            graph.edges.push(EdgeSpec { from: from.clone(), to: to.clone(), port: e.port });
        }
    }
    added
}

/// Duplicates the named nodes (and the wires among them); returns the copies' ids.
pub fn duplicate(graph: &mut GraphSpec, ids: &BTreeSet<NodeId>) -> Vec<NodeId> {
    let nodes: Vec<NodeSpec> = graph.nodes.iter().filter(|n| ids.contains(&n.id)).cloned().collect();
    let edges: Vec<EdgeSpec> =
        graph.edges.iter().filter(|e| ids.contains(&e.from) && ids.contains(&e.to)).cloned().collect();
    paste(graph, &nodes, &edges)
}
