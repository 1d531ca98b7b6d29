//! Ready-made graphs that examples, benchmarks and tests share.

use super::spec::{GraphSpec, LayerSpec, Recurrent, SequencePooling};

/// The LeNet-style network of the benchmarks: conv 1-8 5x5, ReLU, max pool, conv 8-16 5x5, ReLU,
/// max pool, dense 10, for `[1, 28, 28]` images.
#[must_use]
pub fn lenet() -> GraphSpec {
    GraphSpec::sequential(vec![
        LayerSpec::Input { shape: vec![1, 28, 28] },
        LayerSpec::Conv2d { filters: 8, kernel: 5, stride: 1, padding: 0 },
        LayerSpec::Relu,
        LayerSpec::MaxPool2d { size: 2, stride: None },
        LayerSpec::Conv2d { filters: 16, kernel: 5, stride: 1, padding: 0 },
        LayerSpec::Relu,
        LayerSpec::MaxPool2d { size: 2, stride: None },
        LayerSpec::Flatten,
        LayerSpec::Dense { units: 10, bias: true },
    ])
}

/// The reverse task's Transformer: 8 token ids out of 10, an embedding of 32 with sinusoidal
/// positions, two pre-norm blocks of 4 heads (feed-forward 64), a score per position.
#[must_use]
pub fn reverse_transformer() -> GraphSpec {
    GraphSpec::sequential(vec![
        LayerSpec::Input { shape: vec![8] },
        LayerSpec::Embedding { vocab: 10, dim: 32 },
        LayerSpec::PositionalEncoding { learned: false },
        LayerSpec::TransformerBlock { heads: 4, ff: 64, causal: false },
        LayerSpec::TransformerBlock { heads: 4, ff: 64, causal: false },
        LayerSpec::Dense { units: 10, bias: true },
    ])
}

/// The seed survey's text classifier for `words` token ids out of `vocab`: an embedding of 32,
/// an LSTM of 64 (its last state), dropout 0.3, 64 ReLU units, a score for each of 2 classes.
#[must_use]
pub fn lstm_text_classifier(vocab: usize, words: usize) -> GraphSpec {
    GraphSpec::sequential(vec![
        LayerSpec::Input { shape: vec![words] },
        LayerSpec::Embedding { vocab, dim: 32 },
        LayerSpec::Lstm(Recurrent { hidden: 64, return_sequences: false, bidirectional: false }),
        LayerSpec::Dropout { rate: 0.3 },
        LayerSpec::Dense { units: 64, bias: true },
        LayerSpec::Relu,
        LayerSpec::Dense { units: 2, bias: true },
    ])
}

/// Attention over words: an embedding of 32 with sinusoidal positions, one self-attention layer
/// of 4 heads, the mean over the sentence, a score for each of 2 classes.
#[must_use]
pub fn words_attention(vocab: usize, words: usize) -> GraphSpec {
    GraphSpec::sequential(vec![
        LayerSpec::Input { shape: vec![words] },
        LayerSpec::Embedding { vocab, dim: 32 },
        LayerSpec::PositionalEncoding { learned: false },
        LayerSpec::Attention { heads: 4, dim: 32, causal: false },
        LayerSpec::SequencePool { mode: SequencePooling::Mean },
        LayerSpec::Dense { units: 2, bias: true },
    ])
}
