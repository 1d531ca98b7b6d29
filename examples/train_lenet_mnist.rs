//! Trains a LeNet-style network on the bundled MNIST subset (10,000 training images, 2,000 test
//! images) and prints the time per epoch; ends with `test accuracy: 0.9xxx`.
//!
//! `cargo run --release --example train_lenet_mnist`

use std::time::Instant;

use glassbox_engine::data::{load_bundled, Bundled, Dataset};
use glassbox_engine::graph::examples::lenet;
use glassbox_engine::tensor::{LossSpec, Model, Optimizer, OptimizerSpec, StepStats};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn evaluate(model: &mut Model, data: &Dataset) -> anyhow::Result<StepStats> {
    let mut total = StepStats::default();
    let mut loss_sum = 0.0;
    for idx in (0..data.len()).collect::<Vec<_>>().chunks(500) {
        let s = model.evaluate(&data.batch(idx), LossSpec::CrossEntropy)?;
        loss_sum += s.loss * idx.len() as f32;
        total.correct += s.correct;
        total.count += s.count;
    }
    total.loss = loss_sum / data.len() as f32;
    Ok(total)
}

fn main() -> anyhow::Result<()> {
    let (train, test) = load_bundled(Bundled::Mnist)?;
    let test = test.ok_or_else(|| anyhow::anyhow!("MNIST ships with a test split"))?;
    println!("MNIST subset: {} training and {} test images", train.len(), test.len());
    let mut model = Model::new(&lenet(), 42)?;
    println!("LeNet: {} parameters, {} threads", model.param_count(), rayon::current_num_threads());
    let mut opt = Optimizer::new(OptimizerSpec::adam(2e-3));
    let epochs = 12;
    let start = Instant::now();
    for epoch in 1..=epochs {
        if epoch == 9 {
            opt.set_spec(opt.spec().with_lr(5e-4));
        }
        let t0 = Instant::now();
        let mut seen = StepStats::default();
        let mut loss_sum = 0.0;
        for (i, idx) in train.epoch_batches(64, epoch).iter().enumerate() {
            let s = model.train_step(&train.batch(idx), LossSpec::CrossEntropy, &mut opt, epoch << 20 | i as u64)?;
            loss_sum += s.loss * idx.len() as f32;
            seen.correct += s.correct;
            seen.count += s.count;
        }
        let secs = t0.elapsed().as_secs_f32();
        let tested = evaluate(&mut model, &test)?;
        println!(
            "epoch {epoch:2}: {secs:.2} s  train loss {:.4} acc {:.4}  test loss {:.4} acc {:.4}",
            loss_sum / seen.count as f32,
            seen.accuracy(),
            tested.loss,
            tested.accuracy()
        );
    }
    println!("total training time {:.1} s", start.elapsed().as_secs_f32());
    let tested = evaluate(&mut model, &test)?;
    println!("test accuracy: {:.4}", tested.accuracy());
    Ok(())
}
