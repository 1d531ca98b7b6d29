//! One file per family of layer kinds, each holding its kinds' forward pass: the model runs a
//! node by handing its family a [`Step`] (the node, its inputs and parameters, the tape). A new
//! kind is a function in its family's file (or a new file) plus its line in [`forward`].
//! Kernels that several families share live in `super::ops`; parameter shapes are the graph's
//! (`graph::param_shapes`, which shape inference counts without any tensor).

mod activation;
mod attention;
mod conv;
mod core;
mod dropout;
mod merge;
mod norm;
mod pool;
mod recurrent;
mod sequence;

use std::collections::BTreeMap;

use dfdx::prelude::*;

use super::model::{Mode, Node};
use super::ops::{Act, Flat};
use super::NodeOutput;
use crate::graph::LayerSpec;

/// What running one node needs.
pub(crate) struct Step<'a, T> {
    pub dev: &'a Cpu,
    pub node: &'a Node,
    /// The outputs of the node's inputs, in port order (the model's input for the Input node).
    pub inputs: Vec<&'a Act>,
    /// The node's parameters, in the order of `graph::param_shapes`.
    pub params: Vec<&'a Flat>,
    pub batch: usize,
    pub mode: Mode,
    /// Whether the gradient with respect to the input is needed.
    pub need_dx: bool,
    pub tape: &'a mut T,
    /// Running statistics (batch norm), by `<node id>.<name>`.
    pub buffers: &'a mut BTreeMap<String, Vec<f32>>,
    /// What a recording pass keeps besides the nodes' outputs (attention probabilities, states
    /// over time), named `<node id>.<what>`.
    pub extras: &'a mut Vec<NodeOutput>,
}

impl<T> Step<'_, T> {
    /// The first input's per-sample shape.
    pub fn in_shape(&self) -> &[usize] {
        self.node.in_shapes.first().map_or(&[][..], Vec::as_slice)
    }

    /// The first input's values per sample.
    pub fn numel(&self) -> usize {
        self.in_shape().iter().product()
    }

    /// Keeps `values` (every sample's, each of `shape`) as `<node id>.<what>` when the pass records.
    pub fn keep(&mut self, what: &str, shape: Vec<usize>, values: Vec<f32>) {
        if self.mode.record {
            self.extras.push(NodeOutput { id: format!("{}.{what}", self.node.id), shape, values });
        }
    }
}

/// Whether a node hands on its input tensor itself (the same dfdx tensor), so a layer after it
/// may be reading the model's input.
pub(crate) fn passes_input_on(layer: &LayerSpec, mode: Mode) -> bool {
    match layer {
        LayerSpec::Flatten | LayerSpec::Reshape { .. } => true,
        LayerSpec::Dropout { rate } => !(mode.train && *rate > 0.0),
        _ => false,
    }
}

/// Runs one node: the one list of which family runs which kind.
pub(crate) fn forward<T: Tape<f32, Cpu>>(step: &mut Step<'_, T>) -> Act {
    match &step.node.layer {
        LayerSpec::Input { .. } | LayerSpec::Flatten | LayerSpec::Reshape { .. } => core::pass_on(step),
        LayerSpec::Dense { units, bias } => core::dense(step, *units, *bias),
        LayerSpec::Conv2d { filters, kernel, stride, padding } => {
            conv::conv2d(step, *filters, *kernel, *stride, *padding)
        }
        LayerSpec::MaxPool2d { size, stride } => pool::pool2d(step, *size, stride.unwrap_or(*size), true),
        LayerSpec::AvgPool2d { size, stride } => pool::pool2d(step, *size, stride.unwrap_or(*size), false),
        LayerSpec::GlobalAvgPool => pool::global_avg(step),
        LayerSpec::Relu => activation::relu(step),
        LayerSpec::LeakyRelu { slope } => activation::leaky_relu(step, *slope),
        LayerSpec::Tanh => activation::tanh(step),
        LayerSpec::Sigmoid => activation::sigmoid(step),
        LayerSpec::Gelu => activation::gelu(step),
        LayerSpec::Softmax => activation::softmax(step),
        LayerSpec::Dropout { rate } => dropout::dropout(step, *rate),
        LayerSpec::BatchNorm { momentum, eps } => norm::batch_norm(step, *momentum, *eps),
        LayerSpec::LayerNorm { eps } => norm::layer_norm(step, *eps),
        LayerSpec::Add => merge::add(step),
        LayerSpec::Concat => merge::concat(step),
        LayerSpec::Embedding { vocab, dim } => sequence::embedding(step, *vocab, *dim),
        LayerSpec::PositionalEncoding { learned } => sequence::positional_encoding(step, *learned),
        LayerSpec::SequencePool { mode } => sequence::sequence_pool(step, *mode),
        LayerSpec::Rnn(r) => recurrent::recurrent(step, crate::graph::Cell::Rnn, *r),
        LayerSpec::Lstm(r) => recurrent::recurrent(step, crate::graph::Cell::Lstm, *r),
        LayerSpec::Gru(r) => recurrent::recurrent(step, crate::graph::Cell::Gru, *r),
        LayerSpec::Attention { heads, dim, causal } => attention::attention(step, *heads, *dim, *causal),
        LayerSpec::TransformerBlock { heads, ff, causal } => attention::transformer_block(step, *heads, *ff, *causal),
    }
}

/// Runs `f` on `x` with the shared tape on it, and takes the tape back off the result.
pub(crate) fn taped<T, S1, S2>(
    tape: &mut T,
    x: Tensor<S1, f32, Cpu>,
    f: impl FnOnce(Tensor<S1, f32, Cpu, T>) -> Tensor<S2, f32, Cpu, T>,
) -> Tensor<S2, f32, Cpu>
where
    T: Tape<f32, Cpu>,
    S1: Shape,
    S2: Shape,
{
    let (y, t) = f(x.put_tape(std::mem::take(tape))).split_tape();
    *tape = t;
    y
}
