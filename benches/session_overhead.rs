//! The training session's overhead over the bare training loop: the same model, data, batches
//! and seeds, trained for the same epochs by `Model::train_step` in a plain loop and by a
//! `Session` on its worker thread. Goal: under 5% fewer steps per second. Prints the median and
//! the best of seven alternating runs of each (the best is the steadier figure on a noisy machine).
//!
//! `cargo bench --bench session_overhead`

use std::sync::Arc;
use std::time::{Duration, Instant};

use glassbox_engine::data::{load_bundled, Bundled, DatasetInfo, Splits};
use glassbox_engine::graph::{GraphSpec, LayerSpec};
use glassbox_engine::tensor::{Model, Optimizer, OptimizerSpec};
use glassbox_engine::train::{Command, Event, Session, StartRun, TrainConfig};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const EPOCHS: usize = 2;

fn graph() -> GraphSpec {
    GraphSpec::sequential(vec![
        LayerSpec::Input { shape: vec![1, 28, 28] },
        LayerSpec::Flatten,
        LayerSpec::Dense { units: 128, bias: true },
        LayerSpec::Relu,
        LayerSpec::Dense { units: 10, bias: true },
    ])
}

fn bare(splits: &Splits, config: &TrainConfig) -> f64 {
    let mut model = Model::new(&graph(), config.seed).expect("valid");
    let mut opt = Optimizer::new(config.optimizer);
    let t0 = Instant::now();
    let mut steps = 0;
    for epoch in 0..EPOCHS {
        for idx in splits.train.epoch_batches(config.batch_size, epoch as u64) {
            model.train_step(&splits.train.batch(&idx), config.loss, &mut opt, steps as u64).expect("fits");
            steps += 1;
        }
    }
    steps as f64 / t0.elapsed().as_secs_f64()
}

fn session(splits: &Splits, config: &TrainConfig) -> f64 {
    let mut session = Session::spawn(Arc::new(|| {})).expect("thread");
    session.start(StartRun {
        graph: graph(),
        data: splits.clone(),
        config: *config,
        initial_weights: None,
        keep_matching_weights: false,
    });
    let mut steps_per_epoch = 0;
    while let Some(e) = session.wait(Duration::from_secs(60)) {
        if let Event::Started { steps_per_epoch: s, .. } = e {
            steps_per_epoch = s;
            break;
        }
    }
    let t0 = Instant::now();
    session.send(Command::Run { epochs: EPOCHS, until_accuracy: None });
    while let Some(e) = session.wait(Duration::from_secs(60)) {
        if matches!(e, Event::Paused { .. }) {
            break;
        }
    }
    (EPOCHS * steps_per_epoch) as f64 / t0.elapsed().as_secs_f64()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --all-targets` (CI) runs this binary with no
    // arguments, and the timings are not wanted there.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let (train, test) = load_bundled(Bundled::Mnist).expect("bundled");
    let splits = Splits { train, test: test.expect("test split"), info: DatasetInfo::default() };
    let config =
        TrainConfig { optimizer: OptimizerSpec::adam(1e-3), batch_size: 64, epochs: EPOCHS, ..TrainConfig::default() };
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for _ in 0..7 {
        a.push(bare(&splits, &config));
        b.push(session(&splits, &config));
    }
    let best = |v: &[f64]| v.iter().copied().fold(0.0, f64::max);
    let (bare_best, session_best) = (best(&a), best(&b));
    let (bare_rate, session_rate) = (median(a), median(b));
    println!(
        "mlp_784_128_10 median: bare_steps_per_sec={bare_rate:.1} session_steps_per_sec={session_rate:.1} overhead_percent={:.2}",
        (1.0 - session_rate / bare_rate) * 100.0
    );
    println!(
        "mlp_784_128_10 best:   bare_steps_per_sec={bare_best:.1} session_steps_per_sec={session_best:.1} overhead_percent={:.2} goal_percent=5",
        (1.0 - session_best / bare_best) * 100.0
    );
}
