//! Ready-made graphs that examples, benchmarks and tests share.

use super::spec::{GraphSpec, LayerSpec};

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
