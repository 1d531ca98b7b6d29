//! A compiled graph: parameters as flat dfdx tensors, and one generic forward pass that serves
//! training (with a tape) and inference (without), and can keep every node's output.

use std::collections::BTreeMap;

use dfdx::prelude::*;
use rand::{Rng as _, SeedableRng as _};

use super::layers;
use super::ops::{self, values, Act, Flat};
use crate::graph::{infer_shapes, param_shapes, GraphSpec, LayerSpec, ShapeReport};
use crate::EngineError;

/// One trainable tensor, named `<node id>.<param>`.
pub(crate) struct Param {
    pub name: String,
    pub shape: Vec<usize>,
    pub tensor: Flat,
}

/// A node ready to run, in evaluation order.
pub(crate) struct Node {
    pub id: String,
    pub layer: LayerSpec,
    /// Indices of input nodes in [`Model::nodes`], in port order.
    pub inputs: Vec<usize>,
    pub in_shapes: Vec<Vec<usize>>,
    pub out_shape: Vec<usize>,
    /// Indices into [`Model::params`], in the order of [`param_shapes`].
    pub params: Vec<usize>,
}

/// How a forward pass runs.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Mode {
    /// Training behaviour: dropout drops, batch norm uses batch statistics and updates its
    /// running averages.
    pub train: bool,
    /// Seed for this pass's dropout masks.
    pub dropout_seed: u64,
    /// Whether the gradient of the input itself is wanted (attribution), not only parameters'.
    pub input_grad: bool,
    /// Whether layers keep what they compute besides their output (attention probabilities,
    /// recurrent states) in [`Model::extras`].
    pub record: bool,
}

impl Mode {
    /// Evaluation: no dropout, running statistics, nothing kept.
    pub(crate) const EVAL: Self = Self { train: false, dropout_seed: 0, input_grad: false, record: false };
}

/// A graph compiled into tensors. Built from a spec and a seed; the same spec and seed always
/// give the same initial weights.
pub struct Model {
    pub(crate) dev: Cpu,
    pub(crate) spec: GraphSpec,
    pub(crate) report: ShapeReport,
    pub(crate) nodes: Vec<Node>,
    pub(crate) params: Vec<Param>,
    /// Batch norm running means and variances, by `<node id>.running_mean` / `.running_var`.
    pub(crate) buffers: BTreeMap<String, Vec<f32>>,
    /// What the last recording pass kept besides the nodes' outputs, `<node id>.<what>`.
    pub(crate) extras: Vec<super::NodeOutput>,
    /// A probe on one node's output for the next pass (attribution), taken by that pass.
    pub(crate) probe: Option<ProbeAt>,
}

/// Where a pass puts a probe, and what it hands on there.
pub(crate) struct ProbeAt {
    /// The node's index in [`Model::nodes`].
    pub node: usize,
    /// Values to hand on instead of the node's own (all samples'), if any.
    pub replacement: Option<Vec<f32>>,
    /// A gradient to add at the node on the way back (all samples'), if any.
    pub seed: Option<Vec<f32>>,
    pub slot: ops::CaughtSlot,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("nodes", &self.nodes.iter().map(|n| &n.id).collect::<Vec<_>>())
            .field("params", &self.params.iter().map(|p| &p.name).collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// A stable 64-bit hash (FNV-1a), so seeds derived from names never change between builds.
pub(crate) fn stable_hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

impl Model {
    /// Compiles a graph. Fails with every shape problem of the graph if it has any.
    ///
    /// # Errors
    /// [`EngineError::Graph`] when shape inference found problems.
    pub fn new(spec: &GraphSpec, seed: u64) -> Result<Self, EngineError> {
        let report = infer_shapes(spec);
        if !report.is_ok() {
            return Err(EngineError::Graph(report.problems));
        }
        // A last net for callers that did not run the trainer's preflight: the weights alone.
        crate::memory::check(
            "this model",
            4.0 * report.total_params() as f64,
            &format!(" for its {} weights alone", report.total_params()),
            "use fewer units or filters, or a smaller input",
        )?;
        let position: BTreeMap<&str, usize> = report.order.iter().enumerate().map(|(i, id)| (id.as_str(), i)).collect();
        let dev = Cpu::seed_from_u64(seed);
        let mut nodes = Vec::with_capacity(report.order.len());
        let mut params = Vec::new();
        let mut buffers = BTreeMap::new();
        // Looked up once, so compiling stays linear in the graph's size.
        let by_id: BTreeMap<&str, &crate::graph::NodeSpec> = spec.nodes.iter().map(|n| (n.id.as_str(), n)).collect();
        let mut relu_consumers: BTreeMap<&str, bool> = BTreeMap::new();
        for edge in &spec.edges {
            let relu = by_id.get(edge.to.as_str()).is_some_and(|n| n.layer.is_relu_like());
            *relu_consumers.entry(edge.from.as_str()).or_default() |= relu;
        }
        for id in &report.order {
            let (Some(&node_spec), Some(info)) = (by_id.get(id.as_str()), report.nodes.get(id)) else {
                return Err(EngineError::Internal(format!("node {id} vanished during compilation")));
            };
            let inputs: Vec<usize> = info.inputs.iter().filter_map(|i| position.get(i.as_str()).copied()).collect();
            let in_shapes: Vec<Vec<usize>> =
                info.inputs.iter().filter_map(|i| report.shape_of(i).map(<[usize]>::to_vec)).collect();
            let out_shape = info.output_shape.clone().unwrap_or_default();
            let consumers_relu = relu_consumers.get(id.as_str()).copied().unwrap_or(false);
            let mut node_params = Vec::new();
            if let Some(first_in) = in_shapes.first() {
                for (pname, pshape) in param_shapes(&node_spec.layer, first_in) {
                    let name = format!("{id}.{pname}");
                    let init = initial_values(&name, pname, &pshape, &node_spec.layer, consumers_relu, seed);
                    node_params.push(params.len());
                    params.push(Param {
                        tensor: dev.tensor_from_vec(init, (pshape.iter().product(),)),
                        name,
                        shape: pshape,
                    });
                }
            }
            if let LayerSpec::BatchNorm { .. } = node_spec.layer {
                let channels = in_shapes.first().and_then(|s| s.first()).copied().unwrap_or(0);
                buffers.insert(format!("{id}.running_mean"), vec![0.0; channels]);
                buffers.insert(format!("{id}.running_var"), vec![1.0; channels]);
            }
            nodes.push(Node {
                id: id.clone(),
                layer: node_spec.layer.clone(),
                inputs,
                in_shapes,
                out_shape,
                params: node_params,
            });
        }
        Ok(Self { dev, spec: spec.clone(), report, nodes, params, buffers, extras: Vec::new(), probe: None })
    }

    /// The spec this model was compiled from.
    #[must_use]
    pub fn spec(&self) -> &GraphSpec {
        &self.spec
    }

    /// Shapes and parameter counts of every node.
    #[must_use]
    pub fn report(&self) -> &ShapeReport {
        &self.report
    }

    /// The per-sample input shape.
    #[must_use]
    pub fn input_shape(&self) -> &[usize] {
        self.nodes.first().map_or(&[], |n| n.out_shape.as_slice())
    }

    /// The per-sample output shape.
    #[must_use]
    pub fn output_shape(&self) -> &[usize] {
        self.nodes.last().map_or(&[], |n| n.out_shape.as_slice())
    }

    /// Number of trainable values.
    #[must_use]
    pub fn param_count(&self) -> usize {
        self.params.iter().map(|p| p.shape.iter().product::<usize>()).sum()
    }

    /// Parameter names and shapes, in node order.
    #[must_use]
    pub fn param_shapes(&self) -> Vec<(String, Vec<usize>)> {
        self.params.iter().map(|p| (p.name.clone(), p.shape.clone())).collect()
    }

    /// Every parameter's values, by name; batch norm running statistics included.
    #[must_use]
    pub fn weights(&self) -> BTreeMap<String, Vec<f32>> {
        let mut out: BTreeMap<String, Vec<f32>> =
            self.params.iter().map(|p| (p.name.clone(), values(&p.tensor))).collect();
        out.extend(self.buffers.iter().map(|(k, v)| (k.clone(), v.clone())));
        out
    }

    /// The shape of every parameter and buffer, by name (what [`Model::weights`] returns, flat).
    #[must_use]
    pub fn weight_shapes(&self) -> BTreeMap<String, Vec<usize>> {
        let mut out: BTreeMap<String, Vec<usize>> =
            self.params.iter().map(|p| (p.name.clone(), p.shape.clone())).collect();
        out.extend(self.buffers.iter().map(|(k, v)| (k.clone(), vec![v.len()])));
        out
    }

    /// Whether every parameter value is finite.
    #[must_use]
    pub fn weights_finite(&self) -> bool {
        self.weight_extent().is_some()
    }

    /// The largest magnitude of any parameter value; `None` when one is not finite.
    #[must_use]
    pub fn weight_extent(&self) -> Option<f32> {
        let mut largest = 0.0f32;
        for p in &self.params {
            for v in values(&p.tensor) {
                if !v.is_finite() {
                    return None;
                }
                largest = largest.max(v.abs());
            }
        }
        Some(largest)
    }

    /// Replaces one parameter's (or buffer's) values.
    ///
    /// # Errors
    /// When no tensor has that name or the number of values differs.
    pub fn set_weight(&mut self, name: &str, data: &[f32]) -> Result<(), EngineError> {
        if let Some(p) = self.params.iter_mut().find(|p| p.name == name) {
            let want: usize = p.shape.iter().product();
            if data.len() != want {
                return Err(EngineError::Weights(format!(
                    "{name} has {want} values in this model but {} were given",
                    data.len()
                )));
            }
            p.tensor = self.dev.tensor_from_vec(data.to_vec(), (want,));
            return Ok(());
        }
        if let Some(b) = self.buffers.get_mut(name) {
            if data.len() != b.len() {
                return Err(EngineError::Weights(format!(
                    "{name} has {} values in this model but {} were given",
                    b.len(),
                    data.len()
                )));
            }
            b.copy_from_slice(data);
            return Ok(());
        }
        Err(EngineError::Weights(format!("this model has no tensor called {name}")))
    }

    /// Runs every node on `x` (`[batch, input values]`), threading one tape through every op.
    /// Returns every node's output in evaluation order. Each node is run by its family's file in
    /// `super::layers`.
    pub(crate) fn forward<T: Tape<f32, Cpu>>(&mut self, x: &Act, tape: &mut T, mode: Mode) -> Vec<Act> {
        let batch = x.shape().0;
        let Self { dev, nodes, params, buffers, extras, probe, .. } = self;
        let probe = probe.take();
        extras.clear();
        let mut outs: Vec<Act> = Vec::with_capacity(nodes.len());
        // Which node's tensor each output is: some layers hand on their input tensor itself (same
        // dfdx id), so a layer after them may be reading the input itself.
        let mut alias: Vec<usize> = Vec::with_capacity(nodes.len());
        for (index, node) in nodes.iter().enumerate() {
            // The first node is the input, whose gradient nobody needs while training.
            let need_dx = mode.input_grad || node.inputs.first().is_none_or(|&i| alias[i] != 0);
            alias.push(match node.inputs.first() {
                Some(&i) if layers::passes_input_on(&node.layer, mode) => alias[i],
                _ => index,
            });
            let inputs: Vec<&Act> =
                if node.inputs.is_empty() { vec![x] } else { node.inputs.iter().map(|&i| &outs[i]).collect() };
            let mut step = layers::Step {
                dev,
                node,
                inputs,
                params: node.params.iter().map(|&k| &params[k].tensor).collect(),
                batch,
                mode,
                need_dx,
                tape,
                buffers,
                extras,
            };
            let mut y = layers::forward(&mut step);
            if let Some(p) = probe.as_ref().filter(|p| p.node == index) {
                y = ops::probe(dev, &y, (p.replacement.as_deref(), p.seed.as_deref()), &p.slot, tape);
            }
            debug_assert_eq!(
                y.shape().1,
                node.out_shape.iter().product::<usize>(),
                "node {} produced the wrong number of values",
                node.id
            );
            outs.push(y);
        }
        outs
    }
}

/// Seeded initial values: He-uniform for weights followed by a ReLU-like layer, Xavier-uniform
/// otherwise; biases and shifts zero, scales one; recurrent layers' input weights uniform in
/// ±1/√hidden as in PyTorch, their hidden-to-hidden weights orthogonal per gate as in Keras (up
/// to 512 units; uniform beyond), an LSTM's forget-gate bias at 1; embeddings uniform in ±1, learned position codes
/// in ±0.02. Each tensor's generator is seeded from the model seed and the tensor's name, so
/// adding a node leaves the others' weights unchanged.
fn initial_values(
    name: &str,
    param: &str,
    shape: &[usize],
    layer: &LayerSpec,
    relu_follows: bool,
    seed: u64,
) -> Vec<f32> {
    let n: usize = shape.iter().product();
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed ^ stable_hash(name));
    let uniform = |rng: &mut rand::rngs::StdRng, bound: f32| -> Vec<f32> {
        (0..n).map(|_| rng.gen_range(-bound..=bound)).collect()
    };
    if let Some((cell, r)) = layer.recurrent() {
        let bound = 1.0 / (r.hidden.max(1) as f32).sqrt();
        if param.starts_with("bias_ih") && cell == crate::graph::Cell::Lstm {
            // The forget gate (the second block of i, f, g, o) starts open.
            let mut b = vec![0.0; n];
            b[r.hidden..2 * r.hidden].fill(1.0);
            return b;
        }
        if param.starts_with("weight_hh") && r.hidden <= 512 {
            return orthogonal_blocks(r.hidden, cell.gates(), &mut rng);
        }
        return if param.starts_with("weight") { uniform(&mut rng, bound) } else { vec![0.0; n] };
    }
    match layer {
        LayerSpec::Embedding { .. } => return uniform(&mut rng, 1.0),
        LayerSpec::PositionalEncoding { .. } => return uniform(&mut rng, 0.02),
        _ => {}
    }
    if param.ends_with("gamma") {
        return vec![1.0; n];
    }
    if !param.ends_with("weight") {
        return vec![0.0; n];
    }
    let (fan_in, fan_out) = match shape {
        [i, o] => (*i, *o),
        [f, c, kh, kw] => (c * kh * kw, f * kh * kw),
        _ => (n, n),
    };
    // The feed-forward's first layer in a Transformer block is followed by a GELU.
    let relu_follows = relu_follows || param == "ff1_weight";
    let bound = if relu_follows {
        (6.0 / fan_in.max(1) as f64).sqrt()
    } else {
        (6.0 / (fan_in + fan_out).max(1) as f64).sqrt()
    } as f32;
    uniform(&mut rng, bound)
}

/// A `[hidden, gates * hidden]` recurrent weight whose every gate's `hidden x hidden` block is a
/// random orthogonal matrix (Gram-Schmidt on Gaussian rows), as Keras initialises recurrent
/// weights: a state multiplied by it keeps its length, so memories neither fade nor blow up at
/// the start of training.
fn orthogonal_blocks(hidden: usize, gates: usize, rng: &mut rand::rngs::StdRng) -> Vec<f32> {
    let width = gates * hidden;
    let mut out = vec![0.0f32; hidden * width];
    for g in 0..gates {
        let mut rows: Vec<Vec<f64>> = Vec::with_capacity(hidden);
        while rows.len() < hidden {
            // Box-Muller normals.
            let mut v: Vec<f64> = (0..hidden)
                .map(|_| {
                    let (u1, u2): (f64, f64) = (rng.gen_range(f64::EPSILON..1.0), rng.gen_range(0.0..1.0));
                    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
                })
                .collect();
            for r in &rows {
                let dot: f64 = v.iter().zip(r).map(|(a, b)| a * b).sum();
                for (a, b) in v.iter_mut().zip(r) {
                    *a -= dot * b;
                }
            }
            let length = v.iter().map(|a| a * a).sum::<f64>().sqrt();
            if length > 1e-6 {
                rows.push(v.into_iter().map(|a| a / length).collect());
            }
        }
        for (i, row) in rows.iter().enumerate() {
            for (j, &value) in row.iter().enumerate() {
                out[i * width + g * hidden + j] = value as f32;
            }
        }
    }
    out
}
