//! Fitting a graph to a dataset: the changes that make a model take the data's samples and give
//! the outputs its targets need, said in words before they are made.

use super::edit::{add_node, connect, insert_on_wire};
use super::shape::{infer_shapes, shape_text};
use super::spec::{GraphSpec, LayerSpec, NodeSpec};

/// What the data needs at the model's output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputNeed {
    /// A score for each of this many classes.
    Classes(usize),
    /// A row of class scores for each position: `[positions, classes]`.
    PerPosition { positions: usize, classes: usize },
    /// This many numbers to predict.
    Values(usize),
}

impl OutputNeed {
    fn shape(self) -> Vec<usize> {
        match self {
            Self::Classes(n) | Self::Values(n) => vec![n],
            Self::PerPosition { positions, classes } => vec![positions, classes],
        }
    }
}

/// What the output must give, in words ("a score for each of its 10 classes").
impl std::fmt::Display for OutputNeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Classes(n) => write!(f, "a score for each of its {n} classes"),
            Self::Values(1) => write!(f, "one number to predict"),
            Self::Values(n) => write!(f, "{n} numbers to predict"),
            Self::PerPosition { positions, classes } => {
                write!(f, "{classes} class scores at each of {positions} positions")
            }
        }
    }
}

/// A graph changed to fit the data, with each change in words.
#[derive(Clone, Debug, PartialEq)]
pub struct Fitted {
    pub graph: GraphSpec,
    /// What was changed ("the Input's shape from [2] to [1, 28, 28]"); empty when the graph already fit.
    pub changes: Vec<String>,
}

/// Layers that pass their input's shape through unchanged and have no size of their own, so the
/// output's size is set by the layer before them.
fn passes_shape(layer: &LayerSpec) -> bool {
    matches!(
        layer,
        LayerSpec::Relu
            | LayerSpec::LeakyRelu { .. }
            | LayerSpec::Tanh
            | LayerSpec::Sigmoid
            | LayerSpec::Gelu
            | LayerSpec::Softmax
            | LayerSpec::Dropout { .. }
            | LayerSpec::BatchNorm { .. }
            | LayerSpec::LayerNorm { .. }
    )
}

/// The changes that make `graph` take samples of `sample_shape` and give what `need` asks: the
/// Input's shape; a Flatten before each Dense layer that would get an image; the units of the
/// last Dense layer before the output (through activations, dropout and normalisation); and a
/// Reshape to `[positions, classes]` where the data has a label per position (none when the last
/// Dense layer already works per position of a sequence); and, for data of token ids (`vocab`
/// tokens), the vocabulary of every Embedding that reads the input.
///
/// # Errors
/// In words, when the graph cannot be fitted this way (no Input, no Dense layer that sets the
/// output, or layers that cannot take this kind of data, such as a convolution given vectors).
pub fn fit_to_data(
    graph: &GraphSpec,
    sample_shape: &[usize],
    need: OutputNeed,
    vocab: Option<usize>,
) -> Result<Fitted, String> {
    let mut graph = graph.clone();
    let mut changes = Vec::new();
    if let Some(tokens) = vocab {
        let readers: Vec<String> =
            graph.nodes.iter().filter(|n| graph.reads_input(&n.id)).map(|n| n.id.clone()).collect();
        for node in graph.nodes.iter_mut().filter(|n| readers.contains(&n.id)) {
            if let LayerSpec::Embedding { vocab, .. } = &mut node.layer {
                if *vocab != tokens {
                    changes.push(format!("{}'s vocabulary from {vocab} to {tokens}, the data's tokens", node.id));
                    *vocab = tokens;
                }
            }
        }
    }
    let input = graph
        .nodes
        .iter_mut()
        .find(|n| matches!(n.layer, LayerSpec::Input { .. }))
        .ok_or("the model has no Input node to take the data")?;
    if let LayerSpec::Input { shape } = &mut input.layer {
        if shape.as_slice() != sample_shape {
            changes.push(format!("the Input's shape from {} to {}", shape_text(shape), shape_text(sample_shape)));
            *shape = sample_shape.to_vec();
        }
    }
    // A Dense layer takes vectors (or rows of a sequence): an image first goes through a Flatten.
    for _ in 0..graph.nodes.len() {
        let report = infer_shapes(&graph);
        let needs_flatten = graph.nodes.iter().find_map(|n| {
            if !matches!(n.layer, LayerSpec::Dense { .. }) {
                return None;
            }
            let from = graph.edges.iter().find(|e| e.to == n.id && e.port == 0)?;
            let shape = report.shape_of(&from.from)?;
            (shape.len() > 2).then(|| (n.id.clone(), shape.to_vec()))
        });
        let Some((dense, shape)) = needs_flatten else { break };
        changes.push(format!("a Flatten before {dense}, which takes vectors, not {} images", shape_text(&shape)));
        if insert_on_wire(&mut graph, &dense, 0, LayerSpec::Flatten).is_none() {
            break;
        }
    }
    // The layer that sets the output's size: back from the output through shape-keeping layers.
    let report = infer_shapes(&graph);
    let mut at = report.output.clone().or_else(|| graph.output.clone()).ok_or("the model has no output node")?;
    let want = need.shape();
    if report.shape_of(&at) != Some(want.as_slice()) {
        // A Reshape already at the output (from an earlier fit) is replaced.
        let mut last = at.clone();
        loop {
            let node = graph.node(&last).ok_or("the output node is missing")?;
            if matches!(node.layer, LayerSpec::Dense { .. }) {
                break;
            }
            if !passes_shape(&node.layer) && !matches!(node.layer, LayerSpec::Reshape { .. }) {
                return Err(format!(
                    "the output comes from {last} ({}), not from a Dense layer whose units can be set: end the model with a Dense layer",
                    node.layer.kind().label()
                ));
            }
            last = graph
                .edges
                .iter()
                .find(|e| e.to == last && e.port == 0)
                .map(|e| e.from.clone())
                .ok_or_else(|| format!("{last} has no input"))?;
        }
        // A Dense layer reading a sequence scores each position itself: it needs only the classes.
        let per_position = match need {
            OutputNeed::PerPosition { positions, classes } => {
                let from = graph.edges.iter().find(|e| e.to == last && e.port == 0).map(|e| e.from.clone());
                let reads = from.and_then(|f| report.shape_of(&f).map(<[usize]>::to_vec));
                (reads.as_ref().and_then(|r| r.first()) == Some(&positions) && reads.map(|r| r.len()) == Some(2))
                    .then_some(classes)
            }
            _ => None,
        };
        let units = per_position.unwrap_or_else(|| want.iter().product::<usize>());
        if let Some(NodeSpec { layer: LayerSpec::Dense { units: old, .. }, .. }) =
            graph.nodes.iter_mut().find(|n| n.id == last)
        {
            if *old != units {
                changes.push(format!("{last}'s units from {old} to {units}, {need}"));
                *old = units;
            }
        }
        // A model that ended in a Reshape (an earlier fit) loses it when the data no longer
        // needs one; a label per position needs one.
        if let Some(node) = graph.node(&at).filter(|n| matches!(n.layer, LayerSpec::Reshape { .. })) {
            let id = node.id.clone();
            let from = graph.edges.iter().find(|e| e.to == id).map(|e| e.from.clone());
            graph.nodes.retain(|n| n.id != id);
            graph.edges.retain(|e| e.to != id && e.from != id);
            if let Some(from) = from {
                graph.output = Some(from.clone());
                at = from;
            }
            changes.push(format!("the Reshape {id} removed"));
        }
        if let (OutputNeed::PerPosition { positions, classes }, None) = (need, per_position) {
            changes.push(format!("a Reshape to [{positions}, {classes}] at the end, a row of scores per position"));
            let id = add_node(&mut graph, LayerSpec::Reshape { shape: vec![positions, classes] });
            connect(&mut graph, &at, &id, 0);
            graph.output = Some(id);
        }
    }
    let report = infer_shapes(&graph);
    if let Some(problem) = report.problems.first() {
        return Err(format!("even with its Input and output changed, the model does not fit: {problem}"));
    }
    Ok(Fitted { graph, changes })
}
