//! Dataset loading speed: the bundled MNIST subset decoded and ready (goal < 200 ms), and a
//! 100,000-row, 20-column CSV file imported (goal < 2 s). Medians over repeated runs.
//!
//! Also what the memory checks cost, beside what they guard: the size estimate of a dataset
//! spec against building that dataset, and the preflight of a model (shapes, every label, the
//! memory estimate) against compiling it. The checks must be negligible.
//!
//! `cargo bench --bench data_load`

use std::time::Instant;

use glassbox_engine::data::{import_csv, load_bundled, Bundled, CsvOptions, DataSource, DataSpec, Pattern2d};
use glassbox_engine::graph::examples::lenet;
use glassbox_engine::tensor::Model;
use glassbox_engine::train::{preflight, TrainConfig};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn median_ms(runs: usize, mut f: impl FnMut()) -> f64 {
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let t0 = Instant::now();
            f();
            t0.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --all-targets` (CI) runs this binary with no
    // arguments, and the timings are not wanted there.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let mnist = median_ms(9, || {
        let (train, test) = load_bundled(Bundled::Mnist).expect("bundled MNIST loads");
        assert_eq!(train.len() + test.map_or(0, |t| t.len()), 12_000);
    });
    println!("mnist_load median_ms={mnist:.1} goal_ms=200");

    let path = std::env::temp_dir().join(format!("glassbox-bench-{}.csv", std::process::id()));
    let mut text = String::with_capacity(100_000 * 20 * 8);
    text.push_str(&(0..20).map(|c| format!("f{c}")).collect::<Vec<_>>().join(","));
    text.push_str(",label\n");
    for row in 0..100_000u64 {
        for col in 0..20u64 {
            let v = ((row * 31 + col * 17) % 1000) as f64 / 7.0;
            text.push_str(&format!("{v:.4},"));
        }
        text.push_str(&format!("{}\n", row % 5));
    }
    std::fs::write(&path, &text).expect("temp file written");
    let csv = median_ms(5, || {
        let d = import_csv(&path, &CsvOptions::default()).expect("imports");
        assert_eq!(d.len(), 100_000);
    });
    println!("csv_100k_x_20 median_ms={csv:.1} goal_ms=2000 file_mb={:.1}", text.len() as f64 / 1e6);

    // The checks DataSpec::build runs first, against the whole build (which includes them).
    let specs = [
        ("mnist", DataSpec::new(DataSource::Bundled { name: Bundled::Mnist }), 9),
        ("csv_100k_x_20", DataSpec::new(DataSource::Csv { path: path.clone(), options: CsvOptions::default() }), 5),
        (
            "spiral_500",
            DataSpec::new(DataSource::Toy2d { pattern: Pattern2d::Spiral, samples: 500, noise: 0.1, seed: 0 }),
            51,
        ),
    ];
    for (name, spec, runs) in &specs {
        let check = median_ms(1001, || {
            spec.validate().expect("valid");
            assert!(spec.estimate_bytes() > 0.0);
        });
        let build = median_ms(*runs, || {
            spec.build().expect("builds");
        });
        println!(
            "estimate_{name} check_median_us={:.2} build_median_ms={build:.2} share_of_build={:.5}",
            check * 1e3,
            check / build
        );
    }
    let _ = std::fs::remove_file(&path);
    let mnist = specs[0].1.build().expect("builds");
    let graph = lenet();
    let config = TrainConfig { batch_size: 64, ..TrainConfig::default() };
    let check = median_ms(1001, || {
        preflight(&graph, &config, &mnist).expect("LeNet fits MNIST");
    });
    let compile = median_ms(51, || {
        Model::new(&graph, 0).expect("compiles");
    });
    println!(
        "preflight_lenet_mnist check_median_us={:.1} model_new_median_ms={compile:.3} share_of_compile={:.3}",
        check * 1e3,
        check / compile
    );
}
