//! The model as data: layers, nodes and edges, as saved in a notebook.
//!
//! A graph spec holds no tensors and no sizes that can be inferred: the input node states its
//! per-sample shape and every other shape follows from the layers (see [`super::infer_shapes`]).

use serde::{Deserialize, Serialize};

/// A node's stable id, unique within its graph. Parameter tensors are named `<id>.<param>`.
pub type NodeId = String;

/// One layer, with its hyper-parameters. The closed set of layer kinds Glassbox can train.
///
/// Per-sample shapes: an image is `[channels, height, width]`, a vector `[features]`, a sequence
/// `[positions, features]`. The batch dimension is never written in a spec.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind")]
pub enum LayerSpec {
    /// Where the data enters: one sample's shape, without the batch dimension.
    Input {
        shape: Vec<usize>,
    },
    /// A fully connected layer over the last axis: `y = x W + b`.
    Dense {
        units: usize,
        #[serde(default = "default_true")]
        bias: bool,
    },
    /// 2-D convolution over `[channels, height, width]`.
    Conv2d {
        filters: usize,
        kernel: usize,
        #[serde(default = "default_one")]
        stride: usize,
        #[serde(default)]
        padding: usize,
    },
    /// The maximum over each `size` x `size` window.
    MaxPool2d {
        size: usize,
        #[serde(default)]
        stride: Option<usize>,
    },
    /// The mean over each `size` x `size` window.
    AvgPool2d {
        size: usize,
        #[serde(default)]
        stride: Option<usize>,
    },
    /// The mean of each channel over the whole image: `[c, h, w]` to `[c]`.
    GlobalAvgPool,
    /// All axes into one: `[c, h, w]` to `[c * h * w]`.
    Flatten,
    /// The same numbers in another per-sample shape with the same element count.
    Reshape {
        shape: Vec<usize>,
    },
    #[serde(rename = "ReLU")]
    Relu,
    #[serde(rename = "LeakyReLU")]
    LeakyRelu {
        #[serde(default = "default_leak")]
        slope: f32,
    },
    Tanh,
    Sigmoid,
    #[serde(rename = "GELU")]
    Gelu,
    /// Softmax over the last axis.
    Softmax,
    /// Zeroes a fraction `rate` of values while training and scales the rest by `1 / (1 - rate)`.
    Dropout {
        rate: f32,
    },
    /// Normalises each channel (the first per-sample axis) over the batch while training, and with
    /// running averages in evaluation.
    BatchNorm {
        #[serde(default = "default_bn_momentum")]
        momentum: f32,
        #[serde(default = "default_eps")]
        eps: f32,
    },
    /// Normalises each sample over its last axis.
    LayerNorm {
        #[serde(default = "default_eps")]
        eps: f32,
    },
    /// The element-wise sum of two or more inputs of one shape (a residual connection).
    Add,
    /// Joins inputs along the first per-sample axis (channels of images, features of vectors).
    Concat,
    /// Token ids `[time]` to learned vectors `[time, dim]`: row `id` of a `[vocab, dim]` table.
    Embedding {
        vocab: usize,
        dim: usize,
    },
    /// Adds each position's code to a sequence `[time, features]`: the fixed sinusoids of
    /// Vaswani et al. (2017), or a learned `[time, features]` table.
    PositionalEncoding {
        #[serde(default)]
        learned: bool,
    },
    /// A plain recurrent layer over `[time, features]`: `h_t = tanh(x_t W_ih + h_{t-1} W_hh + b)`.
    #[serde(rename = "RNN")]
    Rnn(Recurrent),
    /// Long short-term memory, with a cell state (gates i, f, g, o as in PyTorch).
    #[serde(rename = "LSTM")]
    Lstm(Recurrent),
    /// Gated recurrent unit (gates r, z, n as in PyTorch).
    #[serde(rename = "GRU")]
    Gru(Recurrent),
    /// Multi-head self-attention over `[time, features]` to `[time, dim]`.
    #[serde(rename = "MultiHeadAttention")]
    Attention {
        heads: usize,
        dim: usize,
        #[serde(default)]
        causal: bool,
    },
    /// A pre-norm Transformer encoder block: `x + Attention(LayerNorm(x))`, then
    /// `+ FeedForward(LayerNorm(.))` with a GELU between the feed-forward's two Dense layers.
    TransformerBlock {
        heads: usize,
        /// The feed-forward's hidden units.
        ff: usize,
        #[serde(default)]
        causal: bool,
    },
    /// A sequence `[time, features]` to one vector `[features]`.
    SequencePool {
        #[serde(default)]
        mode: SequencePooling,
    },
}

/// The settings every recurrent layer shares.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recurrent {
    /// The hidden state's size.
    pub hidden: usize,
    /// The whole sequence of hidden states `[time, hidden]` (to stack another recurrent layer, or
    /// for an output per position), or only the last one `[hidden]`.
    #[serde(default)]
    pub return_sequences: bool,
    /// A second layer reads the sequence backwards; their states are joined, `[.., 2 * hidden]`.
    #[serde(default)]
    pub bidirectional: bool,
}

/// How [`LayerSpec::SequencePool`] makes one vector of a sequence.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum SequencePooling {
    /// The mean over time.
    #[default]
    Mean,
    /// The last position.
    Last,
    /// The first position (a classification token).
    First,
}

/// Which recurrent cell a [`LayerSpec::Rnn`], [`LayerSpec::Lstm`] or [`LayerSpec::Gru`] runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cell {
    Rnn,
    Lstm,
    Gru,
}

impl Cell {
    /// How many blocks of `hidden` units the cell's weights hold (its gates and candidate).
    #[must_use]
    pub fn gates(self) -> usize {
        match self {
            Self::Rnn => 1,
            Self::Lstm => 4,
            Self::Gru => 3,
        }
    }
}

fn default_true() -> bool {
    true
}
fn default_one() -> usize {
    1
}
fn default_leak() -> f32 {
    0.01
}
fn default_bn_momentum() -> f32 {
    0.1
}
fn default_eps() -> f32 {
    1e-5
}

/// The layer kinds, without their parameters: for palettes, and for tests that must cover every
/// kind. [`LayerKind::all`] is derived from the enum itself, and [`LayerSpec::kind`] and
/// [`LayerKind::example`] are exhaustive matches, so a new layer cannot be added without the
/// compiler pointing here and every per-kind test picking it up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, strum::EnumIter, strum::EnumCount)]
pub enum LayerKind {
    Input,
    Dense,
    Conv2d,
    MaxPool2d,
    AvgPool2d,
    GlobalAvgPool,
    Flatten,
    Reshape,
    Relu,
    LeakyRelu,
    Tanh,
    Sigmoid,
    Gelu,
    Softmax,
    Dropout,
    BatchNorm,
    LayerNorm,
    Add,
    Concat,
    Embedding,
    PositionalEncoding,
    Rnn,
    Lstm,
    Gru,
    Attention,
    TransformerBlock,
    SequencePool,
}

impl LayerKind {
    /// Every kind, in palette order.
    pub fn all() -> impl Iterator<Item = Self> {
        <Self as strum::IntoEnumIterator>::iter()
    }

    /// A typical layer of this kind, as a palette would insert it.
    #[must_use]
    pub fn example(self) -> LayerSpec {
        match self {
            Self::Input => LayerSpec::Input { shape: vec![2] },
            Self::Dense => LayerSpec::Dense { units: 8, bias: true },
            Self::Conv2d => LayerSpec::Conv2d { filters: 4, kernel: 3, stride: 1, padding: 1 },
            Self::MaxPool2d => LayerSpec::MaxPool2d { size: 2, stride: None },
            Self::AvgPool2d => LayerSpec::AvgPool2d { size: 2, stride: None },
            Self::GlobalAvgPool => LayerSpec::GlobalAvgPool,
            Self::Flatten => LayerSpec::Flatten,
            Self::Reshape => LayerSpec::Reshape { shape: vec![1, 2] },
            Self::Relu => LayerSpec::Relu,
            Self::LeakyRelu => LayerSpec::LeakyRelu { slope: 0.1 },
            Self::Tanh => LayerSpec::Tanh,
            Self::Sigmoid => LayerSpec::Sigmoid,
            Self::Gelu => LayerSpec::Gelu,
            Self::Softmax => LayerSpec::Softmax,
            Self::Dropout => LayerSpec::Dropout { rate: 0.5 },
            Self::BatchNorm => LayerSpec::BatchNorm { momentum: 0.1, eps: 1e-5 },
            Self::LayerNorm => LayerSpec::LayerNorm { eps: 1e-5 },
            Self::Add => LayerSpec::Add,
            Self::Concat => LayerSpec::Concat,
            Self::Embedding => LayerSpec::Embedding { vocab: 10, dim: 16 },
            Self::PositionalEncoding => LayerSpec::PositionalEncoding { learned: false },
            Self::Rnn => LayerSpec::Rnn(Recurrent::example()),
            Self::Lstm => LayerSpec::Lstm(Recurrent::example()),
            Self::Gru => LayerSpec::Gru(Recurrent::example()),
            Self::Attention => LayerSpec::Attention { heads: 2, dim: 16, causal: false },
            Self::TransformerBlock => LayerSpec::TransformerBlock { heads: 2, ff: 64, causal: false },
            Self::SequencePool => LayerSpec::SequencePool { mode: SequencePooling::Mean },
        }
    }

    /// The name a student sees in the palette.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::Input => "Input",
            Self::Dense => "Dense",
            Self::Conv2d => "Conv2d",
            Self::MaxPool2d => "MaxPool2d",
            Self::AvgPool2d => "AvgPool2d",
            Self::GlobalAvgPool => "GlobalAvgPool",
            Self::Flatten => "Flatten",
            Self::Reshape => "Reshape",
            Self::Relu => "ReLU",
            Self::LeakyRelu => "LeakyReLU",
            Self::Tanh => "Tanh",
            Self::Sigmoid => "Sigmoid",
            Self::Gelu => "GELU",
            Self::Softmax => "Softmax",
            Self::Dropout => "Dropout",
            Self::BatchNorm => "BatchNorm",
            Self::LayerNorm => "LayerNorm",
            Self::Add => "Add",
            Self::Concat => "Concat",
            Self::Embedding => "Embedding",
            Self::PositionalEncoding => "PositionalEncoding",
            Self::Rnn => "RNN",
            Self::Lstm => "LSTM",
            Self::Gru => "GRU",
            Self::Attention => "MultiHeadAttention",
            Self::TransformerBlock => "TransformerBlock",
            Self::SequencePool => "SequencePool",
        }
    }
}

impl LayerSpec {
    /// This layer's kind.
    #[must_use]
    pub fn kind(&self) -> LayerKind {
        match self {
            Self::Input { .. } => LayerKind::Input,
            Self::Dense { .. } => LayerKind::Dense,
            Self::Conv2d { .. } => LayerKind::Conv2d,
            Self::MaxPool2d { .. } => LayerKind::MaxPool2d,
            Self::AvgPool2d { .. } => LayerKind::AvgPool2d,
            Self::GlobalAvgPool => LayerKind::GlobalAvgPool,
            Self::Flatten => LayerKind::Flatten,
            Self::Reshape { .. } => LayerKind::Reshape,
            Self::Relu => LayerKind::Relu,
            Self::LeakyRelu { .. } => LayerKind::LeakyRelu,
            Self::Tanh => LayerKind::Tanh,
            Self::Sigmoid => LayerKind::Sigmoid,
            Self::Gelu => LayerKind::Gelu,
            Self::Softmax => LayerKind::Softmax,
            Self::Dropout { .. } => LayerKind::Dropout,
            Self::BatchNorm { .. } => LayerKind::BatchNorm,
            Self::LayerNorm { .. } => LayerKind::LayerNorm,
            Self::Add => LayerKind::Add,
            Self::Concat => LayerKind::Concat,
            Self::Embedding { .. } => LayerKind::Embedding,
            Self::PositionalEncoding { .. } => LayerKind::PositionalEncoding,
            Self::Rnn(_) => LayerKind::Rnn,
            Self::Lstm(_) => LayerKind::Lstm,
            Self::Gru(_) => LayerKind::Gru,
            Self::Attention { .. } => LayerKind::Attention,
            Self::TransformerBlock { .. } => LayerKind::TransformerBlock,
            Self::SequencePool { .. } => LayerKind::SequencePool,
        }
    }

    /// The recurrent cell and its settings, for the recurrent kinds.
    #[must_use]
    pub fn recurrent(&self) -> Option<(Cell, Recurrent)> {
        match self {
            Self::Rnn(r) => Some((Cell::Rnn, *r)),
            Self::Lstm(r) => Some((Cell::Lstm, *r)),
            Self::Gru(r) => Some((Cell::Gru, *r)),
            _ => None,
        }
    }

    /// How many inputs the layer takes: `(min, max)`.
    #[must_use]
    pub fn arity(&self) -> (usize, usize) {
        match self.kind() {
            LayerKind::Input => (0, 0),
            LayerKind::Add | LayerKind::Concat => (2, usize::MAX),
            _ => (1, 1),
        }
    }

    /// Whether the layer is a non-linearity that follows a weighted layer (for initialisation).
    #[must_use]
    pub fn is_relu_like(&self) -> bool {
        matches!(self, Self::Relu | Self::LeakyRelu { .. } | Self::Gelu)
    }
}

impl Recurrent {
    fn example() -> Self {
        Self { hidden: 16, return_sequences: false, bidirectional: false }
    }
}

/// One node of the graph: a stable id and its layer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NodeSpec {
    pub id: NodeId,
    pub layer: LayerSpec,
}

/// A connection from one node's output to an input of another. `port` orders the inputs of a
/// multi-input node (Concat joins them in port order).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EdgeSpec {
    pub from: NodeId,
    pub to: NodeId,
    #[serde(default)]
    pub port: usize,
}

/// A model: nodes, the edges between them, and the node whose output the loss reads.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GraphSpec {
    pub nodes: Vec<NodeSpec>,
    #[serde(default)]
    pub edges: Vec<EdgeSpec>,
    /// The output node. When absent, the graph's only node without consumers is the output.
    #[serde(default)]
    pub output: Option<NodeId>,
}

impl GraphSpec {
    /// A plain stack: each layer feeds the next, the first is the input, the last the output.
    /// Node ids are `<kind><n>` in lower case (`dense1`, `relu2`, ...).
    #[must_use]
    pub fn sequential(layers: Vec<LayerSpec>) -> Self {
        let mut counts = std::collections::BTreeMap::<&'static str, usize>::new();
        let mut graph = Self::default();
        for layer in layers {
            let label = layer.kind().label();
            let n = counts.entry(label).or_insert(0);
            *n += 1;
            let id = if layer.kind() == LayerKind::Input {
                "input".to_owned()
            } else {
                format!("{}{n}", label.to_lowercase())
            };
            if let Some(prev) = graph.nodes.last() {
                graph.edges.push(EdgeSpec { from: prev.id.clone(), to: id.clone(), port: 0 });
            }
            graph.nodes.push(NodeSpec { id, layer });
        }
        graph.output = graph.nodes.last().map(|n| n.id.clone());
        graph
    }

    /// The node with this id.
    #[must_use]
    pub fn node(&self, id: &str) -> Option<&NodeSpec> {
        self.nodes.iter().find(|n| n.id == id)
    }

    /// Whether `id` is wired straight to an Input node (an Embedding there reads token ids).
    #[must_use]
    pub fn reads_input(&self, id: &str) -> bool {
        self.edges.iter().any(|e| e.to == id && self.node(&e.from).is_some_and(|n| n.layer.kind() == LayerKind::Input))
    }
}
