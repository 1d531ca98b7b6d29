//! Training-step time (batch 64, forward + backward + Adam) for the LeNet, an MLP 784-128-10, the
//! reverse task's Transformer (2 pre-norm blocks, 4 heads, model dimension 32, 8 positions, a
//! class per position) and the seed survey's LSTM text classifier (12 words, Embedding 32, LSTM
//! 64, dropout, Dense 64 ReLU, Dense 2), median over 300 steps after 30 warm-up steps. Prints one
//! line per model:
//! `<name> median_ms=<m> p10_ms=<a> p90_ms=<b> threads=<n>`.
//!
//! `cargo bench --bench train_step`; `scripts/bench.sh` runs it beside the PyTorch reference
//! (`benches/reference_pytorch.py`) and prints the ratios.

use std::time::Instant;

use glassbox_engine::data::{Batch, Targets};
use glassbox_engine::graph::examples::{lenet, lstm_text_classifier, reverse_transformer};
use glassbox_engine::graph::{GraphSpec, LayerSpec};
use glassbox_engine::tensor::{LossSpec, Model, Optimizer, OptimizerSpec};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const BATCH: usize = 64;
const WARMUP: usize = 30;
const STEPS: usize = 300;

fn mlp() -> GraphSpec {
    GraphSpec::sequential(vec![
        LayerSpec::Input { shape: vec![784] },
        LayerSpec::Dense { units: 128, bias: true },
        LayerSpec::Relu,
        LayerSpec::Dense { units: 10, bias: true },
    ])
}

/// Synthetic MNIST-sized batches (the step's cost does not depend on the pixel values).
fn batches(count: usize) -> Vec<Batch> {
    (0..count)
        .map(|b| Batch {
            inputs: (0..BATCH * 784).map(|i| ((i * 7 + b * 13) % 256) as f32 / 255.0).collect(),
            targets: Targets::Classes((0..BATCH).map(|i| (i + b) % 10).collect()),
            len: BATCH,
        })
        .collect()
}

/// Batches of `length` token ids below `vocab`, with `labels` labels a sample among `classes`.
fn token_batches(count: usize, (length, vocab): (usize, usize), (labels, classes): (usize, usize)) -> Vec<Batch> {
    (0..count)
        .map(|b| Batch {
            inputs: (0..BATCH * length).map(|i| ((i * 7 + b * 13) % vocab) as f32).collect(),
            targets: Targets::Classes((0..BATCH * labels).map(|i| (i * 3 + b) % classes).collect()),
            len: BATCH,
        })
        .collect()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn bench(name: &str, graph: &GraphSpec, data: &[Batch]) {
    let mut model = Model::new(graph, 0).expect("valid graph");
    let mut opt = Optimizer::new(OptimizerSpec::adam(1e-3));
    let mut times = Vec::with_capacity(STEPS);
    for step in 0..WARMUP + STEPS {
        let batch = &data[step % data.len()];
        let t0 = Instant::now();
        model.train_step(batch, LossSpec::CrossEntropy, &mut opt, step as u64).expect("batch fits");
        if step >= WARMUP {
            times.push(t0.elapsed().as_secs_f64() * 1e3);
        }
    }
    times.sort_by(f64::total_cmp);
    println!(
        "{name} median_ms={:.4} p10_ms={:.4} p90_ms={:.4} threads={}",
        percentile(&times, 0.5),
        percentile(&times, 0.1),
        percentile(&times, 0.9),
        rayon::current_num_threads()
    );
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --all-targets` (CI) runs this binary with no
    // arguments, and the timings are not wanted there.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let only = std::env::var("ONLY").ok();
    let wanted = |name: &str| only.as_deref().is_none_or(|o| o.split(',').any(|w| w == name));
    let data = batches(8);
    if wanted("lenet") {
        bench("lenet", &lenet(), &data);
    }
    if wanted("mlp") {
        bench("mlp", &mlp(), &data);
    }
    if wanted("transformer") {
        bench("transformer", &reverse_transformer(), &token_batches(8, (8, 10), (8, 10)));
    }
    if wanted("lstm") {
        bench("lstm", &lstm_text_classifier(66, 12), &token_batches(8, (12, 66), (1, 2)));
    }
}
