//! Ready-made models a student starts from with one click, each with the bundled dataset it
//! trains on out of the box and training settings that work for it.

use crate::data::{Bundled, DataSource, DataSpec, Pattern2d, SequenceTask, TextSource};
use crate::graph::{examples, EdgeSpec, GraphSpec, LayerSpec, NodeSpec, Recurrent};
use crate::tensor::OptimizerSpec;
use crate::train::TrainConfig;

/// A model to start from.
#[derive(Clone, Debug, PartialEq)]
pub struct Template {
    pub name: &'static str,
    /// What it is and what it shows, in a sentence or two.
    pub about: &'static str,
    pub graph: GraphSpec,
    /// The bundled data it trains on out of the box.
    pub data: DataSpec,
    pub training: TrainConfig,
}

/// Builds a graph node by node, wiring each to the nodes it names.
#[derive(Default)]
struct Builder {
    graph: GraphSpec,
}

impl Builder {
    fn add(mut self, id: &str, layer: LayerSpec, inputs: &[&str]) -> Self {
        for (port, from) in inputs.iter().enumerate() {
            self.graph.edges.push(EdgeSpec { from: (*from).to_owned(), to: id.to_owned(), port });
        }
        self.graph.nodes.push(NodeSpec { id: id.to_owned(), layer });
        self
    }

    /// Adds a node fed by the last one added.
    fn then(self, id: &str, layer: LayerSpec) -> Self {
        let last = self.graph.nodes.last().map(|n| n.id.clone()).unwrap_or_default();
        self.add(id, layer, &[&last])
    }

    fn output(mut self, id: &str) -> GraphSpec {
        self.graph.output = Some(id.to_owned());
        self.graph
    }
}

fn conv(filters: usize, kernel: usize, padding: usize) -> LayerSpec {
    LayerSpec::Conv2d { filters, kernel, stride: 1, padding }
}

fn dense(units: usize) -> LayerSpec {
    LayerSpec::Dense { units, bias: true }
}

fn pool() -> LayerSpec {
    LayerSpec::MaxPool2d { size: 2, stride: None }
}

fn last_state(hidden: usize) -> Recurrent {
    Recurrent { hidden, return_sequences: false, bidirectional: false }
}

/// The synthetic reviews' vocabulary and sentence length in words (a test checks them).
const SENTIMENT_WORDS: (usize, usize) = (66, 12);

fn sentiment() -> DataSpec {
    DataSpec::new(DataSource::Sentiment { samples: 6000, seed: 0 })
}

fn sequence(task: SequenceTask, length: usize, vocab: usize, samples: usize) -> DataSpec {
    DataSpec::new(DataSource::Sequence { task, length, vocab, samples, seed: 0 })
}

fn bundled(name: Bundled) -> DataSpec {
    DataSpec::new(DataSource::Bundled { name })
}

fn settings(lr: f64, batch_size: usize, epochs: usize) -> TrainConfig {
    TrainConfig { optimizer: OptimizerSpec::adam(lr), batch_size, epochs, ..TrainConfig::default() }
}

/// Every template, in the order a course meets them.
#[must_use]
pub fn templates() -> Vec<Template> {
    vec![
        Template {
            name: "MLP for 2-D points",
            about: "Two hidden layers of 16 tanh units: enough to wind a boundary around the two spirals.",
            graph: GraphSpec::sequential(vec![
                LayerSpec::Input { shape: vec![2] },
                dense(16),
                LayerSpec::Tanh,
                dense(16),
                LayerSpec::Tanh,
                dense(2),
            ]),
            data: DataSpec::new(DataSource::Toy2d { pattern: Pattern2d::Spiral, samples: 500, noise: 0.1, seed: 0 }),
            training: settings(0.01, 16, 60),
        },
        Template {
            name: "MLP for MNIST",
            about: "Every pixel into 128 ReLU units, then a score per digit: no idea of neighbouring pixels.",
            graph: GraphSpec::sequential(vec![
                LayerSpec::Input { shape: vec![1, 28, 28] },
                LayerSpec::Flatten,
                dense(128),
                LayerSpec::Relu,
                dense(10),
            ]),
            data: bundled(Bundled::Mnist),
            training: settings(1e-3, 64, 5),
        },
        Template {
            name: "LeNet-5",
            about: "LeCun et al. (1998): two convolutions with average pooling, then 120, 84 and 10 units (ReLU here instead of the original tanh).",
            graph: Builder::default()
                .add("input", LayerSpec::Input { shape: vec![1, 28, 28] }, &[])
                .then("c1", conv(6, 5, 2))
                .then("relu1", LayerSpec::Relu)
                .then("s2", LayerSpec::AvgPool2d { size: 2, stride: None })
                .then("c3", conv(16, 5, 0))
                .then("relu2", LayerSpec::Relu)
                .then("s4", LayerSpec::AvgPool2d { size: 2, stride: None })
                .then("flatten", LayerSpec::Flatten)
                .then("f5", dense(120))
                .then("relu3", LayerSpec::Relu)
                .then("f6", dense(84))
                .then("relu4", LayerSpec::Relu)
                .then("output", dense(10))
                .output("output"),
            data: bundled(Bundled::Mnist),
            training: settings(1e-3, 64, 5),
        },
        Template {
            name: "Small CNN",
            about: "The first convolutional network most courses show: 32, 64 and 64 filters of 3x3 with max pooling, then 64 units and a score per class.",
            graph: GraphSpec::sequential(vec![
                LayerSpec::Input { shape: vec![1, 28, 28] },
                conv(32, 3, 0),
                LayerSpec::Relu,
                pool(),
                conv(64, 3, 0),
                LayerSpec::Relu,
                pool(),
                conv(64, 3, 0),
                LayerSpec::Relu,
                LayerSpec::Flatten,
                dense(64),
                LayerSpec::Relu,
                dense(10),
            ]),
            data: bundled(Bundled::FashionMnist),
            training: settings(1e-3, 64, 5),
        },
        Template {
            name: "Small VGG-style net",
            about: "Simonyan and Zisserman's pattern in small: pairs of 3x3 convolutions that keep the size, then a pooling that halves it.",
            graph: GraphSpec::sequential(vec![
                LayerSpec::Input { shape: vec![1, 28, 28] },
                conv(8, 3, 1),
                LayerSpec::Relu,
                conv(8, 3, 1),
                LayerSpec::Relu,
                pool(),
                conv(16, 3, 1),
                LayerSpec::Relu,
                conv(16, 3, 1),
                LayerSpec::Relu,
                pool(),
                LayerSpec::Flatten,
                dense(64),
                LayerSpec::Relu,
                dense(10),
            ]),
            data: bundled(Bundled::FashionMnist),
            training: settings(1e-3, 64, 5),
        },
        Template {
            name: "Residual CNN",
            about: "He et al. (2016): a block adds its input to its output (Add), so it learns a correction and gradients pass the skip unchanged.",
            graph: Builder::default()
                .add("input", LayerSpec::Input { shape: vec![1, 8, 8] }, &[])
                .then("stem", conv(16, 3, 1))
                .then("stem_relu", LayerSpec::Relu)
                .then("conv1", conv(16, 3, 1))
                .then("relu1", LayerSpec::Relu)
                .then("conv2", conv(16, 3, 1))
                .add("skip", LayerSpec::Add, &["stem_relu", "conv2"])
                .then("relu2", LayerSpec::Relu)
                .then("pool", LayerSpec::GlobalAvgPool)
                .then("output", dense(10))
                .output("output"),
            data: bundled(Bundled::Digits),
            training: settings(3e-3, 32, 30),
        },
        Template {
            name: "Inception-style block",
            about: "Szegedy et al. (2015): 1x1, 3x3 and 5x5 convolutions side by side, their maps joined (Concat), so the next layer picks the scale that helps.",
            graph: Builder::default()
                .add("input", LayerSpec::Input { shape: vec![1, 8, 8] }, &[])
                .add("branch1x1", conv(8, 1, 0), &["input"])
                .add("branch3x3", conv(8, 3, 1), &["input"])
                .add("branch5x5", conv(8, 5, 2), &["input"])
                .add("join", LayerSpec::Concat, &["branch1x1", "branch3x3", "branch5x5"])
                .then("relu", LayerSpec::Relu)
                .then("pool", pool())
                .then("flatten", LayerSpec::Flatten)
                .then("output", dense(10))
                .output("output"),
            data: bundled(Bundled::Digits),
            training: settings(3e-3, 32, 30),
        },
        Template {
            name: "LSTM: remember the first symbol",
            about: "An LSTM reads 20 symbols and must say the first at the end: its gates keep it in the cell state. Swap the LSTM for an RNN or a GRU to compare.",
            graph: GraphSpec::sequential(vec![
                LayerSpec::Input { shape: vec![20] },
                LayerSpec::Embedding { vocab: 8, dim: 8 },
                LayerSpec::Lstm(last_state(64)),
                dense(8),
            ]),
            data: sequence(SequenceTask::FirstToken, 20, 8, 12_000),
            training: settings(3e-3, 32, 12),
        },
        Template {
            name: "LSTM text classifier",
            about: "The seed survey's text model: word vectors, an LSTM of 64 units with dropout, 64 ReLU units and a score per class, on reviews with negation (\"not good\").",
            graph: examples::lstm_text_classifier(SENTIMENT_WORDS.0, SENTIMENT_WORDS.1),
            data: sentiment(),
            training: settings(3e-3, 32, 6),
        },
        Template {
            name: "Attention over words",
            about: "Word vectors with their positions, one layer of self-attention (4 heads) and the mean over the sentence: the attention map shows which words each word looks at.",
            graph: examples::words_attention(SENTIMENT_WORDS.0, SENTIMENT_WORDS.1),
            data: sentiment(),
            training: settings(3e-3, 32, 6),
        },
        Template {
            name: "Transformer: reverse a sequence",
            about: "Vaswani et al. (2017) in small: two pre-norm encoder blocks with 4 heads write 8 symbols backwards, a score per position; watch a head's map turn into the anti-diagonal.",
            graph: examples::reverse_transformer(),
            data: sequence(SequenceTask::Reverse, 8, 10, 12_000),
            training: settings(3e-3, 32, 3),
        },
        Template {
            name: "Character-level names (LSTM)",
            about: "Reads the last 8 letters of a first name and scores the next one; sampling letter by letter writes new names.",
            graph: GraphSpec::sequential(vec![
                LayerSpec::Input { shape: vec![8] },
                LayerSpec::Embedding { vocab: 30, dim: 24 },
                LayerSpec::Lstm(last_state(128)),
                dense(30),
            ]),
            data: DataSpec::new(DataSource::CharWindows { text: TextSource::FirstNames, window: 8, samples: 60_000, seed: 0 }),
            training: settings(3e-3, 32, 6),
        },
    ]
}
