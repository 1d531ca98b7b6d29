//! Trains a small MLP on the two-spiral set and prints progress, headless.
//!
//! `cargo run --release --example train_mlp_spiral` ends with `train accuracy: 0.99..`.

use glassbox_engine::data::spiral;
use glassbox_engine::graph::{GraphSpec, LayerSpec};
use glassbox_engine::tensor::{LossSpec, Model, Optimizer, OptimizerSpec};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    let data = spiral(1000, 0.1, 7);
    let graph = GraphSpec::sequential(vec![
        LayerSpec::Input { shape: vec![2] },
        LayerSpec::Dense { units: 32, bias: true },
        LayerSpec::Tanh,
        LayerSpec::Dense { units: 32, bias: true },
        LayerSpec::Tanh,
        LayerSpec::Dense { units: 2, bias: true },
    ]);
    let mut model = Model::new(&graph, 1)?;
    let mut opt = Optimizer::new(OptimizerSpec::adam(0.01));
    let all: Vec<usize> = (0..data.len()).collect();
    let everything = data.batch(&all);
    let start = std::time::Instant::now();
    for epoch in 1..=300 {
        for (i, idx) in data.epoch_batches(32, epoch).iter().enumerate() {
            model.train_step(&data.batch(idx), LossSpec::CrossEntropy, &mut opt, epoch * 1000 + i as u64)?;
        }
        if epoch % 25 == 0 {
            let stats = model.evaluate(&everything, LossSpec::CrossEntropy)?;
            println!(
                "epoch {epoch:3}  loss {:.4}  accuracy {:.4}  ({:.1} s)",
                stats.loss,
                stats.accuracy(),
                start.elapsed().as_secs_f32()
            );
        }
    }
    let stats = model.evaluate(&everything, LossSpec::CrossEntropy)?;
    println!("train accuracy: {:.4}", stats.accuracy());
    Ok(())
}
