//! What each layer kind does, in words and as a formula, and what each of its parameters means:
//! what the editor shows for a selected node (a test checks that every parameter a layer has in
//! a notebook file is explained here).

use super::spec::LayerKind;

/// One parameter of a layer: its name in the notebook file, and a line on what it does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParamDoc {
    pub name: &'static str,
    pub about: &'static str,
}

/// The causal mask of the attention kinds.
const CAUSAL: ParamDoc =
    ParamDoc { name: "causal", about: "Each position sees only itself and earlier ones (for writing text)" };
/// The normalisations' epsilon.
const EPS: ParamDoc = ParamDoc { name: "eps", about: "A small number added to the spread so no division is by zero" };

impl LayerKind {
    /// What the layer does, in a sentence.
    #[must_use]
    pub fn about(self) -> &'static str {
        match self {
            Self::Input => "Where one sample enters the network, in its shape.",
            Self::Dense => "Every output is a weighted sum of every input plus a bias: the layer learns the weights.",
            Self::Conv2d => {
                "Slides small learned filters over the image; each filter gives one map of where its pattern appears."
            }
            Self::MaxPool2d => {
                "Keeps the largest value of each window: smaller maps that still say whether a pattern was there."
            }
            Self::AvgPool2d => "Keeps the mean of each window: smaller, smoother maps.",
            Self::GlobalAvgPool => "The mean of each whole map: one number per channel.",
            Self::Flatten => "Lays all values out in one row, so a Dense layer can take an image.",
            Self::Reshape => "The same numbers in another shape.",
            Self::Relu => "Keeps positive values and sets negative ones to 0.",
            Self::LeakyRelu => {
                "Like ReLU, but negative values are scaled down instead of set to 0, so they still learn."
            }
            Self::Tanh => "Squashes every value into -1 to 1, smoothly.",
            Self::Sigmoid => "Squashes every value into 0 to 1, smoothly.",
            Self::Gelu => "A smooth ReLU: values are weighted by how likely they are to be positive.",
            Self::Softmax => "Turns scores into probabilities that add up to 1.",
            Self::Dropout => {
                "While training, sets a random share of values to 0, so the network cannot rely on any one of them."
            }
            Self::BatchNorm => {
                "Rescales each channel to mean 0 and spread 1 over the batch, then learns its own scale and shift."
            }
            Self::LayerNorm => "Rescales each sample's features to mean 0 and spread 1, then learns a scale and shift.",
            Self::Add => "Adds its inputs value by value (a residual connection when one input skips layers).",
            Self::Concat => "Joins its inputs along the channels (or features), in port order.",
            Self::Embedding => {
                "Turns each token id into a learned vector: similar tokens end up with similar vectors."
            }
            Self::PositionalEncoding => {
                "Adds to each position a code of where it is, so the layers after it can tell first from last."
            }
            Self::Rnn => {
                "Reads the sequence one step at a time, mixing each input into a hidden state it carries along."
            }
            Self::Lstm => {
                "A recurrent layer with a memory cell and gates that learn what to keep, forget and show, so information survives long sequences."
            }
            Self::Gru => "A recurrent layer with two gates (reset, update): nearly an LSTM's memory, with fewer weights.",
            Self::Attention => {
                "Every position looks at every other and takes a weighted mix of them; each head learns its own way of looking."
            }
            Self::TransformerBlock => {
                "The Transformer's building block: attention over the sequence, then a small network at each position, each with a normalisation before it and a residual connection around it."
            }
            Self::SequencePool => "Turns a sequence into one vector: its mean, its last position or its first.",
        }
    }

    /// The layer's computation, written out.
    #[must_use]
    pub fn formula(self) -> &'static str {
        match self {
            Self::Input => "x",
            Self::Dense => "y = x · W + b",
            Self::Conv2d => "y[f, i, j] = b[f] + Σ_c Σ_u Σ_v W[f, c, u, v] · x[c, s·i + u − p, s·j + v − p]",
            Self::MaxPool2d => "y[c, i, j] = max of x[c, …] over the window at (s·i, s·j)",
            Self::AvgPool2d => "y[c, i, j] = mean of x[c, …] over the window at (s·i, s·j)",
            Self::GlobalAvgPool => "y[c] = mean over i, j of x[c, i, j]",
            Self::Flatten => "y = (x[0], x[1], …, x[n−1])",
            Self::Reshape => "y = x, in the new shape",
            Self::Relu => "y = max(0, x)",
            Self::LeakyRelu => "y = x if x > 0, else slope · x",
            Self::Tanh => "y = (e^x − e^−x) / (e^x + e^−x)",
            Self::Sigmoid => "y = 1 / (1 + e^−x)",
            Self::Gelu => "y = x · Φ(x), Φ the normal distribution's CDF",
            Self::Softmax => "y_i = e^x_i / Σ_j e^x_j",
            Self::Dropout => "y = x · m / (1 − rate), m = 0 with probability rate (training only)",
            Self::BatchNorm => "y = γ · (x − μ_batch) / (σ_batch² + eps)^½ + β",
            Self::LayerNorm => "y = γ · (x − μ) / (σ² + eps)^½ + β, over the last axis",
            Self::Add => "y = x₁ + x₂ + …",
            Self::Concat => "y = (x₁, x₂, …) along the first axis",
            Self::Embedding => "y[t] = E[x[t]], E a learned [vocab, dim] table",
            Self::PositionalEncoding => {
                "y[t] = x[t] + PE[t];  PE[t, 2i] = sin(t / 10000^(2i/d)), PE[t, 2i+1] = cos(t / 10000^(2i/d)) (or learned)"
            }
            Self::Rnn => "h_t = tanh(x_t · W_ih + h_{t−1} · W_hh + b)",
            Self::Lstm => {
                "i, f, o = σ(x_t · W + h_{t−1} · U + b),  g = tanh(x_t · W_g + h_{t−1} · U_g + b_g);  c_t = f ⊙ c_{t−1} + i ⊙ g,  h_t = o ⊙ tanh(c_t)"
            }
            Self::Gru => {
                "r, z = σ(x_t · W + h_{t−1} · U + b),  n = tanh(x_t · W_n + b_n + r ⊙ (h_{t−1} · U_n + c_n));  h_t = (1 − z) ⊙ n + z ⊙ h_{t−1}"
            }
            Self::Attention => {
                "per head: A = softmax(Q Kᵀ / √d_head) (causal: future masked), head = A V;  Q, K, V = x · W_q, x · W_k, x · W_v;  y = [heads] · W_o"
            }
            Self::TransformerBlock => "u = x + Attention(LayerNorm(x));  y = u + W₂ · GELU(W₁ · LayerNorm(u))",
            Self::SequencePool => "y = mean over t of x[t]  (or x[last], or x[0])",
        }
    }

    /// Every parameter the layer has in a notebook file, each with what it does.
    #[must_use]
    pub fn params(self) -> &'static [ParamDoc] {
        match self {
            Self::Input => &[ParamDoc {
                name: "shape",
                about: "One sample's shape: [features], [channels, height, width] or [time]",
            }],
            Self::Dense => &[
                ParamDoc { name: "units", about: "How many outputs: more can learn more, and cost more weights" },
                ParamDoc { name: "bias", about: "Whether each output adds a learned constant" },
            ],
            Self::Conv2d => &[
                ParamDoc { name: "filters", about: "How many patterns to learn: one output map each" },
                ParamDoc { name: "kernel", about: "The filter's side in pixels (3 looks at 3x3 neighbourhoods)" },
                ParamDoc { name: "stride", about: "How far the filter moves each step: 2 halves the map" },
                ParamDoc {
                    name: "padding",
                    about: "Zeros added around the image, so the edges are seen and the size kept",
                },
            ],
            Self::MaxPool2d | Self::AvgPool2d => &[
                ParamDoc { name: "size", about: "The window's side in pixels" },
                ParamDoc {
                    name: "stride",
                    about: "How far the window moves each step (empty: its size, so windows do not overlap)",
                },
            ],
            Self::Reshape => &[ParamDoc {
                name: "shape",
                about: "The new per-sample shape: it must hold as many numbers as the input",
            }],
            Self::LeakyRelu => {
                &[ParamDoc { name: "slope", about: "How much of a negative value passes (0.01 lets 1% through)" }]
            }
            Self::Dropout => {
                &[ParamDoc { name: "rate", about: "The share of values set to 0 while training (0.5: half)" }]
            }
            Self::BatchNorm => &[
                ParamDoc {
                    name: "momentum",
                    about: "How fast the running mean and spread used at test time follow the batches",
                },
                EPS,
            ],
            Self::LayerNorm => &[EPS],
            Self::Embedding => &[
                ParamDoc { name: "vocab", about: "How many different tokens there are (the largest id + 1)" },
                ParamDoc { name: "dim", about: "The length of each token's vector" },
            ],
            Self::PositionalEncoding => {
                &[ParamDoc { name: "learned", about: "Learn each position's code instead of the fixed sine waves" }]
            }
            Self::Rnn | Self::Lstm | Self::Gru => &[
                ParamDoc { name: "hidden", about: "The size of the state carried from step to step" },
                ParamDoc {
                    name: "return_sequences",
                    about: "Every step's state (to stack layers, or an output per position), not only the last",
                },
                ParamDoc {
                    name: "bidirectional",
                    about: "Also read backwards and join both states: each step sees what follows",
                },
            ],
            Self::Attention => &[
                ParamDoc { name: "heads", about: "How many separate ways of attending; dim is split between them" },
                ParamDoc { name: "dim", about: "The size of the output at each position (a multiple of heads)" },
                CAUSAL,
            ],
            Self::TransformerBlock => &[
                ParamDoc { name: "heads", about: "How many attention heads; the features are split between them" },
                ParamDoc { name: "ff", about: "The hidden units of the network applied at each position" },
                CAUSAL,
            ],
            Self::SequencePool => {
                &[ParamDoc { name: "mode", about: "Mean (over time), Last (the last step) or First (the first token)" }]
            }
            Self::GlobalAvgPool
            | Self::Flatten
            | Self::Relu
            | Self::Tanh
            | Self::Sigmoid
            | Self::Gelu
            | Self::Softmax
            | Self::Add
            | Self::Concat => &[],
        }
    }
}
