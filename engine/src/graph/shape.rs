//! Shape inference: every node's output shape and parameter count, and every problem at once.
//!
//! Nothing here panics on a bad graph: each problem becomes a [`Problem`] tied to its node, in
//! words a student can act on. The tensor module refuses to compile a graph with problems, so no
//! tensor operation ever sees shapes that do not fit.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt::Write as _;

use super::spec::{GraphSpec, LayerKind, LayerSpec, NodeId};
use crate::files::brief;

/// One thing wrong with a graph.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The node the problem is on, if it is on one node.
    pub node: Option<NodeId>,
    /// What is wrong and what to do, in a sentence or two.
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.node {
            // Most messages begin with the node's name already.
            Some(node) if !self.message.starts_with(&brief(node)) => write!(f, "{}: {}", brief(node), self.message),
            _ => f.write_str(&self.message),
        }
    }
}

/// What inference found out about one node.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeInfo {
    /// The per-sample output shape, when it could be worked out.
    pub output_shape: Option<Vec<usize>>,
    /// The number of trainable numbers in the node.
    pub param_count: usize,
    /// Multiply-adds the node does for one sample (dense and convolution layers; the cheap
    /// element-wise work of the others is not counted), saturating at `usize::MAX`.
    pub multiply_adds: usize,
    /// The node's input node ids, in port order.
    pub inputs: Vec<NodeId>,
}

/// The result of shape inference over a whole graph.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ShapeReport {
    /// Every node, by id.
    pub nodes: BTreeMap<NodeId, NodeInfo>,
    /// Every problem found, in node order; empty for a graph that can be trained.
    pub problems: Vec<Problem>,
    /// Node ids from input to output in an order where each node comes after its inputs
    /// (only the nodes that lie on a path from the input to the output).
    pub order: Vec<NodeId>,
    /// The input node.
    pub input: Option<NodeId>,
    /// The output node.
    pub output: Option<NodeId>,
}

impl ShapeReport {
    /// Whether the graph can be compiled and trained.
    #[must_use]
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }

    /// The sum of every node's parameter count (saturating: shape inference refuses counts that
    /// do not fit a `usize`, so only a graph with problems can reach the cap).
    #[must_use]
    pub fn total_params(&self) -> usize {
        self.nodes.values().fold(0, |sum, n| sum.saturating_add(n.param_count))
    }

    /// Multiply-adds for one sample through the whole graph (saturating).
    #[must_use]
    pub fn total_multiply_adds(&self) -> usize {
        self.nodes.values().fold(0, |sum, n| sum.saturating_add(n.multiply_adds))
    }

    /// The output shape of a node, if known.
    #[must_use]
    pub fn shape_of(&self, id: &str) -> Option<&[usize]> {
        self.nodes.get(id).and_then(|n| n.output_shape.as_deref())
    }

    /// All problems as one message, a line each.
    #[must_use]
    pub fn problems_text(&self) -> String {
        let mut out = String::new();
        for p in &self.problems {
            let _ = writeln!(out, "{p}");
        }
        out
    }
}

/// Formats a per-sample shape the way the app shows it: `[1, 28, 28]`.
#[must_use]
pub fn shape_text(shape: &[usize]) -> String {
    let parts: Vec<String> = shape.iter().map(ToString::to_string).collect();
    format!("[{}]", parts.join(", "))
}

fn describe(shape: &[usize]) -> String {
    let what = match shape.len() {
        1 => "a vector of features",
        2 => "a sequence [positions, features]",
        3 => "an image [channels, height, width]",
        _ => "a tensor",
    };
    format!("{} ({what})", shape_text(shape))
}

/// Infers every node's shape and parameter count, and lists every problem of the graph.
///
/// ```
/// use glassbox_engine::graph::{infer_shapes, GraphSpec, LayerSpec};
///
/// let graph = GraphSpec::sequential(vec![
///     LayerSpec::Input { shape: vec![1, 28, 28] },
///     LayerSpec::Conv2d { filters: 8, kernel: 5, stride: 1, padding: 0 },
///     LayerSpec::Dense { units: 10, bias: true },
/// ]);
/// let report = infer_shapes(&graph);
/// assert_eq!(report.shape_of("conv2d1"), Some(&[8, 24, 24][..]));
/// assert_eq!(report.nodes["conv2d1"].param_count, 8 * 25 + 8);
/// // The dense layer cannot take an image: the report says what to do, on that node.
/// assert_eq!(report.problems[0].node.as_deref(), Some("dense1"));
/// assert!(report.problems[0].message.contains("add a Flatten before dense1"));
/// ```
#[must_use]
pub fn infer_shapes(graph: &GraphSpec) -> ShapeReport {
    let mut report = ShapeReport::default();
    let mut problems: Vec<Problem> = Vec::new();

    // Ids: unique, non-empty.
    let mut index: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, node) in graph.nodes.iter().enumerate() {
        if node.id.trim().is_empty() {
            problems.push(report_problem(None, format!("node number {} has an empty id: give it a name", i + 1)));
        } else if index.insert(node.id.as_str(), i).is_some() {
            problems.push(report_problem(
                Some(&node.id),
                format!("two nodes are called '{}': rename one of them", brief(&node.id)),
            ));
        }
    }

    // Edges: known ends; inputs per node in port order.
    let mut inputs: Vec<Vec<(usize, usize)>> = vec![Vec::new(); graph.nodes.len()];
    let mut consumers: Vec<Vec<usize>> = vec![Vec::new(); graph.nodes.len()];
    for edge in &graph.edges {
        let from = index.get(edge.from.as_str()).copied();
        let to = index.get(edge.to.as_str()).copied();
        match (from, to) {
            (Some(from), Some(to)) => {
                inputs[to].push((edge.port, from));
                consumers[from].push(to);
            }
            (None, _) => problems.push(report_problem(
                Some(&edge.to),
                format!(
                    "a connection comes from '{}', which is not in the graph: delete the connection",
                    brief(&edge.from)
                ),
            )),
            (_, None) => problems.push(report_problem(
                Some(&edge.from),
                format!("a connection goes to '{}', which is not in the graph: delete the connection", brief(&edge.to)),
            )),
        }
    }
    for list in &mut inputs {
        list.sort_by_key(|(port, _)| *port);
    }

    // Input node.
    let input_nodes: Vec<usize> =
        (0..graph.nodes.len()).filter(|&i| graph.nodes[i].layer.kind() == LayerKind::Input).collect();
    let input = match input_nodes.as_slice() {
        [] => {
            problems.push(report_problem(
                None,
                "the graph has no Input node: add one from the palette and connect it to the first layer".to_owned(),
            ));
            None
        }
        [one] => Some(*one),
        [first, rest @ ..] => {
            for &other in rest {
                problems.push(report_problem(
                    Some(&graph.nodes[other].id),
                    format!(
                        "the graph already takes its data through '{}'; Glassbox trains graphs with one input: delete this Input or connect its consumers to '{}'",
                        brief(&graph.nodes[*first].id), brief(&graph.nodes[*first].id)
                    ),
                ));
            }
            Some(*first)
        }
    };

    // Output node.
    let output = match &graph.output {
        Some(id) => match index.get(id.as_str()) {
            Some(&i) => Some(i),
            None => {
                problems.push(report_problem(None, format!("the output is set to '{}', which is not in the graph: choose the layer whose result the loss should read", brief(id))));
                None
            }
        },
        None => {
            let sinks: Vec<usize> = (0..graph.nodes.len())
                .filter(|&i| consumers[i].is_empty() && graph.nodes[i].layer.kind() != LayerKind::Input)
                .collect();
            match sinks.as_slice() {
                [one] => Some(*one),
                [] => {
                    if !graph.nodes.is_empty() {
                        problems.push(report_problem(
                            None,
                            "no layer is free to be the output (every layer feeds another): mark the output layer"
                                .to_owned(),
                        ));
                    }
                    None
                }
                many => {
                    let names: Vec<String> = many.iter().map(|&i| brief(&graph.nodes[i].id)).collect();
                    problems.push(report_problem(None, format!("the graph has several ends ({}): mark which one is the output, or connect the others to it", names.join(", "))));
                    None
                }
            }
        }
    };

    // Arity.
    for (i, node) in graph.nodes.iter().enumerate() {
        let (min, max) = node.layer.arity();
        let n = inputs[i].len();
        let label = node.layer.kind().label();
        if max == 0 && n > 0 {
            problems.push(report_problem(
                Some(&node.id),
                format!(
                    "{} is an Input and takes no connections into it: delete the {} connection(s) going into it",
                    brief(&node.id),
                    n
                ),
            ));
        } else if n < min {
            let msg = if min == 1 {
                format!("{} ({label}) has no input: connect a layer into it, or delete it", brief(&node.id))
            } else {
                format!(
                    "{} ({label}) joins {min} or more inputs but has {n}: connect another layer into it",
                    brief(&node.id)
                )
            };
            problems.push(report_problem(Some(&node.id), msg));
        } else if n > max {
            problems.push(report_problem(Some(&node.id), format!("{} ({label}) takes one input but {n} are connected: keep one, or join them first with Add or Concat", brief(&node.id))));
        }
    }

    // Topological order (Kahn); what is left over lies on a cycle.
    let mut indegree: Vec<usize> = inputs.iter().map(Vec::len).collect();
    let mut queue: VecDeque<usize> = (0..graph.nodes.len()).filter(|&i| indegree[i] == 0).collect();
    let mut topo = Vec::with_capacity(graph.nodes.len());
    while let Some(i) = queue.pop_front() {
        topo.push(i);
        for &c in &consumers[i] {
            indegree[c] -= 1;
            if indegree[c] == 0 {
                queue.push_back(c);
            }
        }
    }
    let on_cycle: BTreeSet<usize> = (0..graph.nodes.len()).filter(|&i| indegree[i] > 0).collect();
    for &i in &on_cycle {
        problems.push(report_problem(
            Some(&graph.nodes[i].id),
            format!(
                "{} is part of a loop: data would flow back into itself. Remove one connection of the loop",
                brief(&graph.nodes[i].id)
            ),
        ));
    }

    // Reachability: from the input forwards, from the output backwards.
    let forward = reach(input, &consumers);
    let backward_edges: Vec<Vec<usize>> = inputs.iter().map(|l| l.iter().map(|&(_, f)| f).collect()).collect();
    let backward = reach(output, &backward_edges);
    // One missing wire cuts off everything after it (or before it): the problem is said once,
    // where the cut is, not on every node past it. A node the input's data cannot reach is cut
    // off at a node with no input, a second Input or a loop, each of which has its own problem
    // above; a node whose result never reaches the output is said at the end of its branch.
    if input.is_some() && output.is_some() {
        for (i, node) in graph.nodes.iter().enumerate() {
            if on_cycle.contains(&i) || !forward.contains(&i) {
                continue;
            }
            if !backward.contains(&i) && consumers[i].is_empty() {
                problems.push(report_problem(
                    Some(&node.id),
                    format!(
                        "{} does not lead to the output, so its result is never used: connect it onwards, or delete it",
                        brief(&node.id)
                    ),
                ));
            }
        }
    }

    // Shapes, in topological order.
    let mut shapes: Vec<Option<Vec<usize>>> = vec![None; graph.nodes.len()];
    for &i in &topo {
        let node = &graph.nodes[i];
        let ins: Vec<Option<&Vec<usize>>> = inputs[i].iter().map(|&(_, f)| shapes[f].as_ref()).collect();
        let (min, max) = node.layer.arity();
        if ins.len() < min || ins.len() > max {
            continue;
        }
        if ins.iter().any(Option::is_none) {
            // An upstream problem was reported already; do not cascade.
            continue;
        }
        let ins: Vec<&Vec<usize>> = ins.into_iter().flatten().collect();
        let names: Vec<String> = inputs[i].iter().map(|&(_, f)| brief(&graph.nodes[f].id)).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let id = brief(&node.id);
        match layer_output(&id, &node.layer, &ins, &names).and_then(|shape| countable(&id, &node.layer, &ins, shape)) {
            Ok(shape) => shapes[i] = Some(shape),
            Err(message) => problems.push(report_problem(Some(&node.id), message)),
        }
    }

    // Order of evaluation: the nodes on a path from input to output.
    report.order = topo
        .iter()
        .filter(|&&i| forward.contains(&i) && backward.contains(&i))
        .map(|&i| graph.nodes[i].id.clone())
        .collect();
    for (i, node) in graph.nodes.iter().enumerate() {
        let input_shapes: Vec<&Vec<usize>> = inputs[i].iter().filter_map(|&(_, f)| shapes[f].as_ref()).collect();
        let param_count = match input_shapes.first() {
            Some(first) if shapes[i].is_some() => param_count(&node.layer, first).unwrap_or(usize::MAX),
            _ => 0,
        };
        let multiply_adds = match (input_shapes.first(), shapes[i].as_ref()) {
            (Some(first), Some(out)) => multiply_adds(&node.layer, first, out),
            _ => 0,
        };
        report.nodes.insert(
            node.id.clone(),
            NodeInfo {
                output_shape: shapes[i].clone(),
                param_count,
                multiply_adds,
                inputs: inputs[i].iter().map(|&(_, f)| graph.nodes[f].id.clone()).collect(),
            },
        );
    }
    report.input = input.map(|i| graph.nodes[i].id.clone());
    report.output = output.map(|i| graph.nodes[i].id.clone());
    // Problems in the order of the nodes, graph-wide ones first, so the app lists them stably.
    problems.sort_by_key(|p| p.node.as_ref().and_then(|n| index.get(n.as_str()).copied()).map_or(0, |i| i + 1));
    report.problems = problems;
    report
}

fn report_problem(node: Option<&str>, message: String) -> Problem {
    Problem { node: node.map(str::to_owned), message }
}

fn reach(start: Option<usize>, next: &[Vec<usize>]) -> BTreeSet<usize> {
    let mut seen = BTreeSet::new();
    let mut stack: Vec<usize> = start.into_iter().collect();
    while let Some(i) = stack.pop() {
        if seen.insert(i) {
            stack.extend(next[i].iter().copied());
        }
    }
    seen
}

/// The trainable tensors of a layer, by name and shape, given its (first) input shape.
/// Dense weights are `[in, units]`; conv weights `[filters, channels, kernel, kernel]`.
#[must_use]
pub fn param_shapes(layer: &LayerSpec, input: &[usize]) -> Vec<(&'static str, Vec<usize>)> {
    match layer {
        LayerSpec::Dense { units, bias } => {
            let fan_in = input.last().copied().unwrap_or(0);
            let mut out = vec![("weight", vec![fan_in, *units])];
            if *bias {
                out.push(("bias", vec![*units]));
            }
            out
        }
        LayerSpec::Conv2d { filters, kernel, .. } => {
            let channels = input.first().copied().unwrap_or(0);
            vec![("weight", vec![*filters, channels, *kernel, *kernel]), ("bias", vec![*filters])]
        }
        LayerSpec::BatchNorm { .. } => {
            let c = input.first().copied().unwrap_or(0);
            vec![("gamma", vec![c]), ("beta", vec![c])]
        }
        LayerSpec::LayerNorm { .. } => {
            let d = input.last().copied().unwrap_or(0);
            vec![("gamma", vec![d]), ("beta", vec![d])]
        }
        LayerSpec::Embedding { vocab, dim } => vec![("weight", vec![*vocab, *dim])],
        LayerSpec::PositionalEncoding { learned: true } => vec![("weight", input.to_vec())],
        LayerSpec::Rnn(r) | LayerSpec::Lstm(r) | LayerSpec::Gru(r) => {
            let cell = layer.recurrent().map_or(super::Cell::Rnn, |(c, _)| c);
            let (f, h, g) = (input.last().copied().unwrap_or(0), r.hidden, cell.gates() * r.hidden);
            let mut out =
                vec![("weight_ih", vec![f, g]), ("weight_hh", vec![h, g]), ("bias_ih", vec![g]), ("bias_hh", vec![g])];
            if r.bidirectional {
                out.extend([
                    ("weight_ih_reverse", vec![f, g]),
                    ("weight_hh_reverse", vec![h, g]),
                    ("bias_ih_reverse", vec![g]),
                    ("bias_hh_reverse", vec![g]),
                ]);
            }
            out
        }
        LayerSpec::Attention { dim, .. } => {
            let f = input.last().copied().unwrap_or(0);
            vec![
                ("qkv_weight", vec![f, 3 * dim]),
                ("qkv_bias", vec![3 * dim]),
                ("out_weight", vec![*dim, *dim]),
                ("out_bias", vec![*dim]),
            ]
        }
        LayerSpec::TransformerBlock { ff, .. } => {
            let d = input.last().copied().unwrap_or(0);
            vec![
                ("ln1_gamma", vec![d]),
                ("ln1_beta", vec![d]),
                ("qkv_weight", vec![d, 3 * d]),
                ("qkv_bias", vec![3 * d]),
                ("out_weight", vec![d, d]),
                ("out_bias", vec![d]),
                ("ln2_gamma", vec![d]),
                ("ln2_beta", vec![d]),
                ("ff1_weight", vec![d, *ff]),
                ("ff1_bias", vec![*ff]),
                ("ff2_weight", vec![*ff, d]),
                ("ff2_bias", vec![d]),
            ]
        }
        _ => Vec::new(),
    }
}

/// The number of values in a tensor of this shape, unless it does not fit a `usize`.
#[must_use]
pub fn numel(shape: &[usize]) -> Option<usize> {
    shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d))
}

/// Multiply-adds a layer does for one sample, given its (first) input and its output shape:
/// a dense layer one per input value and unit, a convolution one per output value and kernel
/// tap over the input channels; other kinds 0.
#[must_use]
pub fn multiply_adds(layer: &LayerSpec, input: &[usize], output: &[usize]) -> usize {
    let count = match layer {
        LayerSpec::Dense { units, .. } => numel(input).and_then(|n| n.checked_mul(*units)),
        LayerSpec::Conv2d { kernel, .. } => {
            let channels = input.first().copied().unwrap_or(0);
            numel(output)
                .and_then(|n| n.checked_mul(channels))
                .and_then(|n| n.checked_mul(kernel.checked_mul(*kernel)?))
        }
        LayerSpec::Rnn(r) | LayerSpec::Lstm(r) | LayerSpec::Gru(r) => {
            let gates = layer.recurrent().map_or(1, |(c, _)| c.gates());
            let (t, f) = (input.first().copied().unwrap_or(0), input.last().copied().unwrap_or(0));
            let directions = if r.bidirectional { 2 } else { 1 };
            f.checked_add(r.hidden)
                .and_then(|n| n.checked_mul(gates.checked_mul(r.hidden)?))
                .and_then(|n| n.checked_mul(t.checked_mul(directions)?))
        }
        LayerSpec::Attention { dim, .. } => {
            let (t, f) = (input.first().copied().unwrap_or(0), input.last().copied().unwrap_or(0));
            attention_multiply_adds(t, f, *dim)
        }
        LayerSpec::TransformerBlock { ff, .. } => {
            let (t, d) = (input.first().copied().unwrap_or(0), input.last().copied().unwrap_or(0));
            let feed_forward = t.checked_mul(d).and_then(|n| n.checked_mul(ff.checked_mul(2)?));
            attention_multiply_adds(t, d, d).and_then(|a| a.checked_add(feed_forward?))
        }
        _ => Some(0),
    };
    count.unwrap_or(usize::MAX)
}

/// Multiply-adds of self-attention over `t` positions of `f` features into `dim`: the Q, K, V
/// projections, the scores and the weighted sums, and the output projection.
fn attention_multiply_adds(t: usize, f: usize, dim: usize) -> Option<usize> {
    let projections = t.checked_mul(f)?.checked_mul(dim.checked_mul(3)?)?;
    let scores = t.checked_mul(t)?.checked_mul(dim.checked_mul(2)?)?;
    let out = t.checked_mul(dim)?.checked_mul(dim)?;
    projections.checked_add(scores)?.checked_add(out)
}

/// The number of trainable values of a layer, given its (first) input shape, unless it does not
/// fit a `usize`.
#[must_use]
pub fn param_count(layer: &LayerSpec, input: &[usize]) -> Option<usize> {
    param_shapes(layer, input).iter().try_fold(0usize, |sum, (_, shape)| sum.checked_add(numel(shape)?))
}

/// Refuses an output or a parameter tensor too large to count: such sizes can only come from a
/// typo, and every later computation of sizes may then overflow.
fn countable(id: &str, layer: &LayerSpec, ins: &[&Vec<usize>], shape: Vec<usize>) -> Result<Vec<usize>, String> {
    if numel(&shape).is_none() {
        return Err(format!(
            "{id}'s output {} would hold more numbers than a computer can count: use much smaller sizes",
            shape_text(&shape)
        ));
    }
    if let Some(first) = ins.first() {
        if param_count(layer, first).is_none() {
            return Err(format!(
                "{id} would have more weights than a computer can count: use far fewer units or filters"
            ));
        }
    }
    Ok(shape)
}

/// A sequence's `(time, features)`, or a message that says what to add before `what`.
fn need_sequence(id: &str, what: &str, x: &[usize], from: &str) -> Result<(usize, usize), String> {
    match x {
        [t, f] => Ok((*t, *f)),
        [_] => Err(format!(
            "{id} ({what}) reads a sequence [time, features] but {from} gives {}: if these are token ids, add an Embedding before {id}; otherwise a Reshape to [time, 1]",
            describe(x)
        )),
        _ => Err(format!(
            "{id} ({what}) reads a sequence [time, features] but {from} gives {}: add a Reshape before it (an image's rows can be read as a sequence: [height, channels x width])",
            describe(x)
        )),
    }
}

/// Pool or conv output length along one axis, if the window fits.
fn window_out(len: usize, window: usize, stride: usize, padding: usize) -> Option<usize> {
    let padded = padding.checked_mul(2).and_then(|p| p.checked_add(len))?;
    (window <= padded && stride > 0).then(|| (padded - window) / stride + 1)
}

#[expect(clippy::too_many_lines, reason = "one arm per layer kind reads best as one match")]
fn layer_output(id: &str, layer: &LayerSpec, ins: &[&Vec<usize>], names: &[&str]) -> Result<Vec<usize>, String> {
    let x = ins.first().map_or(&[][..], |v| v.as_slice());
    let from = names.first().copied().unwrap_or("its input");
    let need_image = |what: &str| -> Result<(usize, usize, usize), String> {
        match x {
            [c, h, w] => Ok((*c, *h, *w)),
            _ => Err(format!(
                "{id} ({what}) expects an image [channels, height, width] but {from} gives {}: add a Reshape before it (for example to [1, 28, 28]), or remove the {what}",
                describe(x)
            )),
        }
    };
    match layer {
        LayerSpec::Input { shape } => {
            if shape.is_empty() || shape.len() > 3 {
                Err(format!("{id} has shape {}: an input is a vector [features], a sequence [positions, features] or an image [channels, height, width]", shape_text(shape)))
            } else if shape.contains(&0) {
                Err(format!("{id} has a zero-sized axis in {}: every axis needs at least 1", shape_text(shape)))
            } else {
                Ok(shape.clone())
            }
        }
        LayerSpec::Dense { units, .. } => {
            if *units == 0 {
                return Err(format!("{id} has 0 units: give it at least 1"));
            }
            match x {
                [_] => Ok(vec![*units]),
                [t, _] => Ok(vec![*t, *units]),
                _ => Err(format!(
                    "{id} (Dense) expects a vector of features but {from} gives {}: add a Flatten before {id}",
                    describe(x)
                )),
            }
        }
        LayerSpec::Conv2d { filters, kernel, stride, padding } => {
            let (_, h, w) = need_image("Conv2d")?;
            if *filters == 0 || *kernel == 0 || *stride == 0 {
                return Err(format!("{id} needs at least 1 filter, a kernel of at least 1 and a stride of at least 1"));
            }
            match (window_out(h, *kernel, *stride, *padding), window_out(w, *kernel, *stride, *padding)) {
                (Some(oh), Some(ow)) => Ok(vec![*filters, oh, ow]),
                _ => Err(format!(
                    "{id}'s {kernel}x{kernel} kernel is larger than its {h}x{w} input (with padding {padding}): use a smaller kernel, more padding, or fewer pooling layers before it"
                )),
            }
        }
        LayerSpec::MaxPool2d { size, stride } | LayerSpec::AvgPool2d { size, stride } => {
            let what = layer.kind().label();
            let (c, h, w) = need_image(what)?;
            let stride = stride.unwrap_or(*size);
            if *size == 0 || stride == 0 {
                return Err(format!("{id} needs a window and a stride of at least 1"));
            }
            match (window_out(h, *size, stride, 0), window_out(w, *size, stride, 0)) {
                (Some(oh), Some(ow)) => Ok(vec![c, oh, ow]),
                _ => Err(format!("{id}'s {size}x{size} window is larger than its {h}x{w} input: use a smaller window, or remove a pooling layer before it")),
            }
        }
        LayerSpec::GlobalAvgPool => {
            let (c, _, _) = need_image("GlobalAvgPool")?;
            Ok(vec![c])
        }
        LayerSpec::Flatten => Ok(vec![numel(x).unwrap_or(usize::MAX)]),
        LayerSpec::Reshape { shape } => {
            let have = numel(x).unwrap_or(usize::MAX);
            let want = numel(shape);
            if shape.is_empty() || shape.len() > 3 {
                Err(format!("{id} reshapes to {}: use 1 to 3 axes", shape_text(shape)))
            } else if shape.contains(&0) {
                Err(format!("{id} reshapes to {}: every axis needs at least 1", shape_text(shape)))
            } else if want == Some(have) {
                Ok(shape.clone())
            } else {
                let want = want.map_or_else(|| "too many".to_owned(), |w| w.to_string());
                Err(format!(
                    "{id} reshapes {} ({have} numbers) to {} ({want} numbers): the counts must match; for {have} numbers try [{have}]",
                    shape_text(x),
                    shape_text(shape)
                ))
            }
        }
        LayerSpec::Relu | LayerSpec::Tanh | LayerSpec::Sigmoid | LayerSpec::Gelu | LayerSpec::Softmax => Ok(x.to_vec()),
        LayerSpec::LeakyRelu { slope } => {
            if slope.is_finite() {
                Ok(x.to_vec())
            } else {
                Err(format!("{id}'s slope must be a finite number"))
            }
        }
        LayerSpec::Dropout { rate } => {
            if (0.0..1.0).contains(rate) {
                Ok(x.to_vec())
            } else {
                Err(format!(
                    "{id} drops a fraction {rate} of values: use a rate from 0 up to (not including) 1, such as 0.5"
                ))
            }
        }
        LayerSpec::BatchNorm { momentum, eps } => {
            if !(0.0..=1.0).contains(momentum) || eps.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
                Err(format!("{id} needs a momentum between 0 and 1 and an epsilon above 0"))
            } else {
                Ok(x.to_vec())
            }
        }
        LayerSpec::LayerNorm { eps } => {
            if *eps > 0.0 {
                Ok(x.to_vec())
            } else {
                Err(format!("{id} needs an epsilon above 0"))
            }
        }
        LayerSpec::Add => {
            for (shape, name) in ins.iter().zip(names).skip(1) {
                if *shape != ins[0] {
                    return Err(format!(
                        "{id} (Add) sums inputs of one shape, but {} gives {} and {name} gives {}: make them match (a Dense or 1x1 Conv2d on one branch can change its size)",
                        names[0],
                        shape_text(ins[0]),
                        shape_text(shape)
                    ));
                }
            }
            Ok(ins[0].clone())
        }
        LayerSpec::Embedding { vocab, dim } => match x {
            [t] if *vocab > 0 && *dim > 0 => Ok(vec![*t, *dim]),
            [_] => Err(format!("{id} needs a vocabulary and a dimension of at least 1")),
            _ => Err(format!(
                "{id} (Embedding) turns token ids [time] into vectors, but {from} gives {}: connect it straight after the Input of a text or sequence dataset",
                describe(x)
            )),
        },
        LayerSpec::PositionalEncoding { .. } => need_sequence(id, "PositionalEncoding", x, from).map(|_| x.to_vec()),
        LayerSpec::Rnn(r) | LayerSpec::Lstm(r) | LayerSpec::Gru(r) => {
            let (t, _) = need_sequence(id, layer.kind().label(), x, from)?;
            if r.hidden == 0 {
                return Err(format!("{id} has a hidden size of 0: give it at least 1"));
            }
            let width = if r.bidirectional { r.hidden.saturating_mul(2) } else { r.hidden };
            Ok(if r.return_sequences { vec![t, width] } else { vec![width] })
        }
        LayerSpec::Attention { heads, dim, .. } => {
            let (t, _) = need_sequence(id, "MultiHeadAttention", x, from)?;
            if *heads == 0 || *dim == 0 {
                Err(format!("{id} needs at least 1 head and a dimension of at least 1"))
            } else if dim % heads != 0 {
                Err(format!(
                    "{id} splits its dimension {dim} between {heads} heads, which does not divide evenly: make dim a multiple of heads (for example {})",
                    dim.div_ceil(*heads) * heads
                ))
            } else {
                Ok(vec![t, *dim])
            }
        }
        LayerSpec::TransformerBlock { heads, ff, .. } => {
            let (_, d) = need_sequence(id, "TransformerBlock", x, from)?;
            if *heads == 0 || *ff == 0 {
                Err(format!("{id} needs at least 1 head and at least 1 feed-forward unit"))
            } else if d % heads != 0 {
                Err(format!(
                    "{id} splits the {d} features {from} gives between {heads} heads, which does not divide evenly: use a number of heads that divides {d}, or change the size before it"
                ))
            } else {
                Ok(x.to_vec())
            }
        }
        LayerSpec::SequencePool { .. } => need_sequence(id, "SequencePool", x, from).map(|(_, d)| vec![d]),
        LayerSpec::Concat => {
            let first = ins[0];
            let mut joined = first[0];
            for (shape, name) in ins.iter().zip(names).skip(1) {
                if shape.len() != first.len() || shape[1..] != first[1..] {
                    return Err(format!(
                        "{id} (Concat) joins along the first axis, so the other axes must match, but {} gives {} and {name} gives {}",
                        names[0],
                        shape_text(first),
                        shape_text(shape)
                    ));
                }
                joined = joined
                    .checked_add(shape[0])
                    .ok_or_else(|| format!("{id} (Concat) would join more numbers than a computer can count"))?;
            }
            let mut out = first.clone();
            out[0] = joined;
            Ok(out)
        }
    }
}
