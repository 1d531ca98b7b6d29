//! What the editor needs to know about a graph besides its shapes: where its nodes go when it
//! is laid out automatically, how two graphs differ (a model and its copy), and which trained
//! weights survive an edit.

use std::collections::{BTreeMap, BTreeSet};

use super::shape::{param_shapes, shape_text, ShapeReport};
use super::spec::{GraphSpec, NodeId};

/// Which way a laid-out graph reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    LeftToRight,
    TopToBottom,
}

/// The size a node is taken to have before the editor has measured it (graph units: the
/// editor's points at zoom 1), and the room left between layers and between nodes of a layer.
const NODE: [f32; 2] = [170.0, 110.0];
const GAP_ALONG: f32 = 70.0;
const GAP_ACROSS: f32 = 40.0;

/// A layered layout: each node one layer further than the furthest of its inputs (so every wire
/// points the reading way), nodes of a layer ordered by where their inputs sit (fewer crossing
/// wires), each layer centred on the same line. A wire that skips layers (a residual connection)
/// holds a place in each layer it passes, so it runs in a lane of its own instead of behind the
/// nodes it skips. Returns each node's top-left corner.
#[must_use]
pub fn layered(graph: &GraphSpec, direction: Direction) -> BTreeMap<NodeId, [f32; 2]> {
    layered_sized(graph, direction, &|_| None, None)
}

/// [`layered`] for nodes of known sizes (`size` gives a node's width and height, where known):
/// each layer is as wide as its widest node, so the graph takes no more room than it needs.
/// With `wrap`, a graph longer than that along its reading direction continues in another band
/// below (or beside) the first, as text wraps, so a long chain of layers stays readable.
#[must_use]
pub fn layered_sized(
    graph: &GraphSpec,
    direction: Direction,
    size: &dyn Fn(&str) -> Option<[f32; 2]>,
    wrap: Option<f32>,
) -> BTreeMap<NodeId, [f32; 2]> {
    let ids: Vec<&str> = graph.nodes.iter().map(|n| n.id.as_str()).collect();
    let edges: Vec<(&str, &str)> = graph
        .edges
        .iter()
        .filter(|e| ids.contains(&e.from.as_str()) && ids.contains(&e.to.as_str()))
        .map(|e| (e.from.as_str(), e.to.as_str()))
        .collect();
    // Longest path from a source, by relaxation (a graph has no loops; a hand-edited file might,
    // so the passes are bounded by the node count).
    let mut layer: BTreeMap<&str, usize> = ids.iter().map(|&id| (id, 0)).collect();
    for _ in 0..ids.len() {
        let mut changed = false;
        for &(from, to) in &edges {
            let want = layer[from] + 1;
            if want > layer[to] && want < ids.len() {
                layer.insert(to, want);
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    // Every place in the layout: the nodes, then one stand-in per layer a long wire passes.
    let mut places: Vec<(String, usize)> = ids.iter().map(|&id| (id.to_owned(), layer[id])).collect();
    let mut inputs: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (k, &(from, to)) in edges.iter().enumerate() {
        let mut prev = from.to_owned();
        for l in layer[from] + 1..layer[to] {
            let lane = format!("\u{0}lane{k}.{l}");
            inputs.entry(lane.clone()).or_default().push(prev);
            places.push((lane.clone(), l));
            prev = lane;
        }
        inputs.entry(to.to_owned()).or_default().push(prev);
    }
    let depth = places.iter().map(|(_, l)| *l).max().unwrap_or(0);
    let mut rows: Vec<Vec<&str>> = vec![Vec::new(); depth + 1];
    for (id, l) in &places {
        rows[*l].push(id.as_str());
    }
    // Order each layer by the mean place of its inputs in the layers before (the barycentre).
    let mut place: BTreeMap<&str, f32> = BTreeMap::new();
    for row in &mut rows {
        let key = |id: &str| {
            let ins = inputs.get(id).map_or(&[][..], Vec::as_slice);
            let known: Vec<f32> = ins.iter().filter_map(|i| place.get(i.as_str()).copied()).collect();
            if known.is_empty() {
                f32::MAX
            } else {
                known.iter().sum::<f32>() / known.len() as f32
            }
        };
        let mut keyed: Vec<(f32, usize, &str)> = row.iter().enumerate().map(|(i, &id)| (key(id), i, id)).collect();
        keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        *row = keyed.into_iter().map(|(_, _, id)| id).collect();
        let offset = -(row.len() as f32 - 1.0) / 2.0;
        for (i, id) in row.iter().enumerate() {
            place.insert(id, offset + i as f32);
        }
    }
    // Along the reading direction, each layer starts after the largest node of the one before;
    // across it, places are as far apart as the largest node.
    let (along_axis, across_axis) = match direction {
        Direction::LeftToRight => (0, 1),
        Direction::TopToBottom => (1, 0),
    };
    let extent = |id: &str, axis: usize| size(id).unwrap_or(NODE)[axis];
    let mut starts = vec![0.0f32; depth + 2];
    for l in 0..=depth {
        let largest = ids.iter().filter(|&&id| layer[id] == l).map(|&id| extent(id, along_axis)).fold(0.0, f32::max);
        starts[l + 1] = starts[l] + largest.max(40.0) + GAP_ALONG;
    }
    let lane = ids.iter().map(|&id| extent(id, across_axis)).fold(0.0, f32::max) + GAP_ACROSS;
    // Bands: as few as fit `wrap`, of about equal length (no band of one lone layer): each layer
    // goes to the band its middle falls in.
    let total = starts[depth + 1] - GAP_ALONG;
    let count = wrap.filter(|w| *w > 0.0 && total > *w).map_or(1, |w| (total / w).ceil() as usize).max(1);
    let band_of: Vec<usize> = (0..=depth)
        .map(|l| {
            let middle = (starts[l] + starts[l + 1] - GAP_ALONG) / 2.0;
            ((middle / total * count as f32) as usize).min(count - 1)
        })
        .collect();
    let mut first: Vec<Option<f32>> = vec![None; count];
    for l in 0..=depth {
        first[band_of[l]] = Some(first[band_of[l]].map_or(starts[l], |s: f32| s.min(starts[l])));
    }
    let band_start: Vec<f32> = first.into_iter().map(|s| s.unwrap_or(0.0)).collect();
    // Each band as deep as its places need, one after the other.
    let bands = band_start.len();
    let mut lowest = vec![f32::MAX; bands];
    let mut highest = vec![f32::MIN; bands];
    for &id in &ids {
        let b = band_of[layer[id]];
        lowest[b] = lowest[b].min(place[id]);
        highest[b] = highest[b].max(place[id]);
    }
    let mut offset = vec![0.0f32; bands];
    for b in 1..bands {
        let previous = if highest[b - 1] >= lowest[b - 1] { (highest[b - 1] - lowest[b - 1]) * lane } else { 0.0 };
        offset[b] = offset[b - 1] + previous + lane + GAP_ACROSS;
    }
    let mut out = BTreeMap::new();
    for &id in &ids {
        let b = band_of[layer[id]];
        let mut pos = [0.0; 2];
        pos[along_axis] = starts[layer[id]] - band_start[b];
        pos[across_axis] = if bands > 1 { offset[b] + (place[id] - lowest[b]) * lane } else { place[id] * lane };
        out.insert(id.to_owned(), pos);
    }
    out
}

/// How a graph differs from another (the model it was copied from): nodes matched by id.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GraphDiff {
    /// In this graph, not in the other.
    pub added: BTreeSet<NodeId>,
    /// In the other graph, not in this one.
    pub removed: BTreeSet<NodeId>,
    /// In both, with other parameters or other inputs.
    pub changed: BTreeSet<NodeId>,
}

impl GraphDiff {
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

/// What `graph` changed compared with `other`.
#[must_use]
pub fn diff(graph: &GraphSpec, other: &GraphSpec) -> GraphDiff {
    let inputs_of = |g: &GraphSpec, id: &str| {
        let mut ins: Vec<(usize, String)> =
            g.edges.iter().filter(|e| e.to == id).map(|e| (e.port, e.from.clone())).collect();
        ins.sort();
        ins
    };
    let mut d = GraphDiff::default();
    for node in &graph.nodes {
        match other.node(&node.id) {
            None => {
                d.added.insert(node.id.clone());
            }
            Some(o) if o.layer != node.layer || inputs_of(graph, &node.id) != inputs_of(other, &node.id) => {
                d.changed.insert(node.id.clone());
            }
            Some(_) => {}
        }
    }
    for node in &other.nodes {
        if graph.node(&node.id).is_none() {
            d.removed.insert(node.id.clone());
        }
    }
    d
}

/// Which trained weights an edit keeps: those of nodes whose parameters keep their names and
/// shapes; the rest start fresh (from the seeded initial weights), each with the reason.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Carried {
    pub kept: Vec<NodeId>,
    pub fresh: Vec<(NodeId, String)>,
}

impl Carried {
    /// In a sentence: what happens to the trained weights.
    #[must_use]
    pub fn describe(&self) -> String {
        let fresh: Vec<String> = self.fresh.iter().map(|(id, why)| format!("{id} ({why})")).collect();
        match (self.kept.is_empty(), fresh.is_empty()) {
            (true, true) => "the model has no trained weights to keep".into(),
            (false, true) => format!("all trained weights are kept ({})", self.kept.join(", ")),
            (true, false) => format!("no trained weights fit any more: {} start fresh", fresh.join(", ")),
            (false, false) => {
                format!("trained weights kept for {}; fresh for {}", self.kept.join(", "), fresh.join(", "))
            }
        }
    }
}

/// The parameter shapes of every node of a graph, from its shape report.
fn node_params(graph: &GraphSpec, report: &ShapeReport) -> BTreeMap<NodeId, Vec<(&'static str, Vec<usize>)>> {
    graph
        .nodes
        .iter()
        .filter_map(|n| {
            let info = report.nodes.get(&n.id)?;
            let input = info.inputs.first().and_then(|i| report.shape_of(i))?;
            let params = param_shapes(&n.layer, input);
            (!params.is_empty()).then(|| (n.id.clone(), params))
        })
        .collect()
}

/// Which of `old`'s trained weights `new` can start from (by node id and parameter shape, as
/// the trainer loads them).
#[must_use]
pub fn carried_weights(
    old: &GraphSpec,
    old_report: &ShapeReport,
    new: &GraphSpec,
    new_report: &ShapeReport,
) -> Carried {
    let before = node_params(old, old_report);
    let after = node_params(new, new_report);
    let mut carried = Carried::default();
    for (id, params) in &after {
        match before.get(id) {
            Some(old_params) if old_params == params => carried.kept.push(id.clone()),
            Some(old_params) => {
                let shape = |p: &[(&str, Vec<usize>)]| p.first().map(|(_, s)| shape_text(s)).unwrap_or_default();
                carried
                    .fresh
                    .push((id.clone(), format!("its weights were {}, now {}", shape(old_params), shape(params))));
            }
            None => carried.fresh.push((id.clone(), "new".into())),
        }
    }
    carried
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::{edit, infer_shapes, LayerSpec};

    fn mlp() -> GraphSpec {
        GraphSpec::sequential(vec![
            LayerSpec::Input { shape: vec![2] },
            LayerSpec::Dense { units: 8, bias: true },
            LayerSpec::Relu,
            LayerSpec::Dense { units: 2, bias: true },
        ])
    }

    #[test]
    fn layered_layout_puts_each_node_after_its_inputs() {
        let mut g = mlp();
        // A skip: relu1 also feeds an Add with dense2.
        let add = edit::add_node(&mut g, LayerSpec::Add);
        assert!(edit::connect(&mut g, "relu1", &add, 0));
        assert!(edit::connect(&mut g, "dense2", &add, 1));
        for direction in [Direction::LeftToRight, Direction::TopToBottom] {
            let pos = layered(&g, direction);
            assert_eq!(pos.len(), g.nodes.len());
            let axis = usize::from(direction == Direction::TopToBottom);
            for e in &g.edges {
                assert!(pos[&e.from][axis] < pos[&e.to][axis], "{} before {} ({direction:?})", e.from, e.to);
            }
            let distinct: BTreeSet<[u32; 2]> = pos.values().map(|p| [p[0].to_bits(), p[1].to_bits()]).collect();
            assert_eq!(distinct.len(), g.nodes.len(), "no two nodes on one spot");
        }
        // The skip relu1 -> add passes dense2's layer: it keeps a lane there, off dense2's line,
        // so the wire is not hidden behind dense2.
        let pos = layered(&g, Direction::LeftToRight);
        let apart = |a: &str, b: &str| (pos[a][1] - pos[b][1]).abs() > 1.0;
        assert!(apart("dense2", "relu1") || apart("add1", "relu1"), "{pos:?}");
        assert!(apart("dense2", "add1"), "{pos:?}");
    }

    #[test]
    fn a_long_chain_wraps_into_bands_that_keep_the_reading_order() {
        let mut layers = vec![LayerSpec::Input { shape: vec![2] }];
        for _ in 0..11 {
            layers.push(LayerSpec::Relu);
        }
        let g = GraphSpec::sequential(layers);
        let pos = layered_sized(&g, Direction::LeftToRight, &|_| Some([100.0, 50.0]), Some(700.0));
        let xs: Vec<f32> = g.nodes.iter().map(|n| pos[&n.id][0]).collect();
        let ys: Vec<f32> = g.nodes.iter().map(|n| pos[&n.id][1]).collect();
        assert!(xs.iter().all(|&x| x + 100.0 <= 700.0 + 0.01), "every band fits the width: {xs:?}");
        let bands: BTreeSet<u32> = ys.iter().map(|y| y.to_bits()).collect();
        assert_eq!(bands.len(), 3, "12 nodes, 170 units apart, in 700: bands of 4: {ys:?}");
        assert!(ys.windows(2).all(|w| w[1] >= w[0]), "later layers are never above earlier ones: {ys:?}");
        assert!(xs[0].abs() < 1e-6, "the first node starts the first band: {xs:?}");
        let unwrapped = layered_sized(&g, Direction::LeftToRight, &|_| Some([100.0, 50.0]), None);
        assert!(unwrapped.values().all(|p| p[1] == 0.0), "without a width, one line");
    }

    #[test]
    fn diff_names_added_removed_and_changed_nodes() {
        let a = mlp();
        let mut b = a.clone();
        b.nodes[1].layer = LayerSpec::Dense { units: 16, bias: true };
        let id = edit::insert_on_wire(&mut b, "dense2", 0, LayerSpec::Dropout { rate: 0.2 }).expect("insert");
        let d = diff(&b, &a);
        assert_eq!(d.added, BTreeSet::from([id]));
        assert!(d.changed.contains("dense1") && d.changed.contains("dense2"), "{d:?}");
        assert!(d.removed.is_empty());
        let back = diff(&a, &b);
        assert_eq!(back.removed.len(), 1);
        assert!(diff(&a, &a).is_empty());
    }

    #[test]
    fn an_edit_keeps_the_weights_whose_shapes_still_fit() {
        let old = mlp();
        let mut new = old.clone();
        new.nodes[1].layer = LayerSpec::Dense { units: 16, bias: true };
        let carried = carried_weights(&old, &infer_shapes(&old), &new, &infer_shapes(&new));
        // dense1 grew, so dense2's input grew with it: both fresh.
        assert!(carried.kept.is_empty(), "{carried:?}");
        assert_eq!(carried.fresh.len(), 2);
        assert!(carried.fresh[0].1.contains("[2, 8], now [2, 16]"), "{carried:?}");
        let mut same = old.clone();
        edit::insert_on_wire(&mut same, "dense2", 0, LayerSpec::Relu).expect("insert");
        let carried = carried_weights(&old, &infer_shapes(&old), &same, &infer_shapes(&same));
        assert_eq!(carried.kept, vec!["dense1".to_owned(), "dense2".to_owned()]);
        assert!(carried.describe().starts_with("all trained weights are kept"));
    }
}
