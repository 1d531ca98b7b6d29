//! Hostile input, one regression test per promise: no panic, no runaway memory, no hang, no
//! result reported as success that means nothing, and messages that say where and what to do.

use std::time::{Duration, Instant};

use crate::common::{batch, edge, node};
use crate::gradients::check;
use crate::session::{short, start, until};
use glassbox_engine::data::{
    import_csv, split, toy_2d, Bundled, CsvOptions, DataSource, DataSpec, DatasetInfo, Pattern2d, PipelineSpec,
    SequenceTask, Splits, TextSource,
};
use glassbox_engine::graph::{infer_shapes, GraphSpec, LayerSpec};
use glassbox_engine::tensor::{LossSpec, Model, Optimizer, OptimizerSpec};
use glassbox_engine::train::{
    load_weights, load_weights_bytes, preflight, save_weights, weights_to_bytes, Command, Event, InspectRequest,
    PauseReason, Session, Split, TrainConfig,
};
use glassbox_engine::EngineError;

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("glassbox-hostile-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Input [4] -> Dense d (4) -> `views` of d -> a Concat or Add of `inputs` -> Flatten -> Dense(3).
fn joined(join: LayerSpec, views: Vec<(&str, LayerSpec, &str)>, inputs: &[&str]) -> GraphSpec {
    let mut nodes =
        vec![node("input", LayerSpec::Input { shape: vec![4] }), node("d", LayerSpec::Dense { units: 4, bias: true })];
    let mut edges = vec![edge("input", "d", 0)];
    for (id, layer, from) in views {
        nodes.push(node(id, layer));
        edges.push(edge(from, id, 0));
    }
    nodes.push(node("join", join));
    for (port, from) in inputs.iter().enumerate() {
        edges.push(edge(from, "join", port));
    }
    nodes.push(node("flat", LayerSpec::Flatten));
    nodes.push(node("head", LayerSpec::Dense { units: 3, bias: true }));
    edges.push(edge("join", "flat", 0));
    edges.push(edge("flat", "head", 0));
    GraphSpec { nodes, edges, output: Some("head".into()) }
}

#[test]
fn joining_one_tensor_to_itself_trains_and_its_gradients_are_right() {
    // Each of these handed dfdx one tensor twice in one op, which panicked in every step.
    let cases = [
        ("Concat of one node twice", joined(LayerSpec::Concat, vec![], &["d", "d"])),
        ("Concat of the input twice", {
            let mut g = joined(LayerSpec::Concat, vec![], &["input", "input"]);
            g.nodes.retain(|n| n.id != "d");
            g.edges.retain(|e| e.to != "d");
            g
        }),
        (
            "Concat of a node and its Flatten view",
            joined(LayerSpec::Concat, vec![("view", LayerSpec::Flatten, "d")], &["d", "view"]),
        ),
        (
            "Concat of a node and its Reshape view",
            joined(LayerSpec::Concat, vec![("view", LayerSpec::Reshape { shape: vec![4] }, "d")], &["view", "d"]),
        ),
        (
            "Concat of a node and a Dropout(0) of it",
            joined(LayerSpec::Concat, vec![("drop", LayerSpec::Dropout { rate: 0.0 }, "d")], &["d", "drop", "d"]),
        ),
        (
            "Add of a node and a Dropout(0) of it",
            joined(LayerSpec::Add, vec![("drop", LayerSpec::Dropout { rate: 0.0 }, "d")], &["drop", "d"]),
        ),
    ];
    for (what, graph) in cases {
        let report = infer_shapes(&graph);
        assert!(report.is_ok(), "{what}: {}", report.problems_text());
        let mut model = Model::new(&graph, 1).expect("compiles");
        let mut optimizer = Optimizer::new(OptimizerSpec::adam(0.01));
        let b = batch(&[4], 5, 0.4);
        model.train_step(&b, LossSpec::CrossEntropy, &mut optimizer, 3).unwrap_or_else(|e| panic!("{what}: {e}"));
        model.gradients(&b, LossSpec::CrossEntropy, false, 0).unwrap_or_else(|e| panic!("{what}: {e}"));
        check(&graph, &b, LossSpec::CrossEntropy, what);
    }
}

#[test]
fn a_panic_while_inspecting_is_refused_and_the_trainer_lives_on() {
    let mut session = Session::spawn(std::sync::Arc::new(|| {})).expect("thread");
    session.start(start(0.01, 1));
    until(&session, |e| matches!(e, Event::Started { .. }));
    session.send(Command::InjectPanic);
    session.send(Command::Inspect(InspectRequest {
        id: 1,
        split: Split::Test,
        indices: vec![0],
        ..InspectRequest::default()
    }));
    let events = until(&session, |e| matches!(e, Event::Refused { .. }));
    let Some(Event::Refused { message, .. }) = events.last() else { unreachable!("until returns a refusal") };
    assert!(message.contains("looking inside the model failed") && message.contains("injected"), "{message}");
    session.send(Command::StepBatch);
    let events = until(&session, |e| matches!(e, Event::Paused { .. } | Event::Failed { .. }));
    assert!(matches!(events.last(), Some(Event::Paused { step: 1, .. })), "{}", short(events.last().expect("some")));
}

fn too_large(result: Result<impl std::fmt::Debug, EngineError>, what: &str) -> String {
    match result {
        Err(EngineError::TooLarge(message)) => message,
        other => panic!("{what}: expected a refusal for its size, got {other:?}"),
    }
}

#[test]
fn sizes_that_cannot_fit_are_refused_before_anything_is_allocated() {
    let started = Instant::now();
    let toy =
        |samples: usize| DataSpec::new(DataSource::Toy2d { pattern: Pattern2d::Spiral, samples, noise: 0.1, seed: 0 });
    for samples in [usize::MAX, 1_000_000_000, 1_000_000_000_000] {
        let message = too_large(toy(samples).build(), &format!("{samples} samples"));
        assert!(
            message.contains("this dataset needs about") && (message.contains("GB") || message.contains("TB")),
            "{message}"
        );
        assert!(message.contains("this machine has"), "{message}");
    }
    let windows = DataSpec::new(DataSource::CharWindows {
        text: TextSource::FirstNames,
        window: 1_000_000_000,
        samples: 20_000,
        seed: 0,
    });
    too_large(windows.build(), "a text window of 1e9");
    let long = DataSpec::new(DataSource::Sequence {
        task: SequenceTask::Copy,
        length: 1_000_000_000,
        vocab: 8,
        samples: 2000,
        seed: 0,
    });
    too_large(long.build(), "sequences of 1e9");
    let blobs = DataSpec::new(DataSource::Toy2d {
        pattern: Pattern2d::Blobs { classes: 1 << 62 },
        samples: 100,
        noise: 0.1,
        seed: 0,
    });
    let e = blobs.build().expect_err("2^62 classes").to_string();
    assert!(e.contains("classes: use 2 to 100"), "{e}");

    // Models: the message gives the figure, and nothing is allocated (this test would be
    // killed otherwise).
    let data = spiral_splits(0.2);
    let wide = |units: usize| {
        GraphSpec::sequential(vec![
            LayerSpec::Input { shape: vec![2] },
            LayerSpec::Dense { units, bias: true },
            LayerSpec::Dense { units: 2, bias: true },
        ])
    };
    let message = too_large(preflight(&wide(1_000_000_000), &TrainConfig::default(), &data), "1e9 units");
    assert!(message.starts_with("this model needs about") && message.contains("GB"), "{message}");
    assert!(message.contains("billion weights") && message.contains("batch size 32"), "{message}");
    too_large(Model::new(&wide(1_000_000_000), 0), "Model::new with 1e9 units");
    too_large(preflight(&wide(1 << 62), &TrainConfig::default(), &data), "2^62 units");
    too_large(Model::new(&wide(1 << 62), 0), "Model::new with 2^62 units");
    let e = infer_shapes(&wide(1 << 63)).problems_text();
    assert!(e.contains("more weights than a computer can count"), "{e}");
    let padded = GraphSpec::sequential(vec![
        LayerSpec::Input { shape: vec![1, 28, 28] },
        LayerSpec::Conv2d { filters: 4, kernel: 3, stride: 1, padding: 10_000 },
        LayerSpec::GlobalAvgPool,
        LayerSpec::Dense { units: 10, bias: true },
    ]);
    let mnist = DataSpec::new(DataSource::Bundled { name: Bundled::Digits }).build().expect("digits");
    let digits_graph = |g: &GraphSpec| {
        let mut g = g.clone();
        g.nodes[0].layer = LayerSpec::Input { shape: vec![1, 8, 8] };
        g
    };
    too_large(preflight(&digits_graph(&padded), &TrainConfig::default(), &mnist), "padding 10000");
    // A huge input is refused for not fitting the data, before its weights are counted.
    let huge_input = GraphSpec::sequential(vec![
        LayerSpec::Input { shape: vec![1_000_000_000] },
        LayerSpec::Dense { units: 16, bias: true },
        LayerSpec::Dense { units: 2, bias: true },
    ]);
    let e = preflight(&huge_input, &TrainConfig::default(), &data).expect_err("does not fit").to_string();
    assert!(
        e.contains("the model's input takes [1000000000]") && e.contains("change the Input node's shape to [2]"),
        "{e}"
    );
    assert!(started.elapsed() < Duration::from_secs(20), "refusals are quick: {:?}", started.elapsed());
}

fn spiral_splits(test_fraction: f32) -> Splits {
    let data = toy_2d(Pattern2d::Spiral, 200, 0.1, 0);
    let (train, test) = split(&data, test_fraction, 0);
    Splits { train, test, info: DatasetInfo::default() }
}

#[cfg(unix)]
#[test]
fn named_pipes_are_refused_not_waited_on() {
    let dir = temp_dir("fifo");
    let fifo = dir.join("data.csv");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().expect("mkfifo").success());
    let started = Instant::now();
    let e = DataSpec::new(DataSource::Csv { path: fifo.clone(), options: CsvOptions::default() })
        .build()
        .expect_err("a FIFO")
        .to_string();
    assert!(e.contains("not a regular file"), "{e}");
    let mut model = Model::new(&crate::session::graph(), 0).expect("compiles");
    let e = load_weights(&mut model, &fifo, false).expect_err("a FIFO").to_string();
    assert!(e.contains("not a regular file") && e.contains("data.csv"), "{e}");
    assert!(started.elapsed() < Duration::from_secs(5));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn weights_files_are_checked_and_named() {
    let dir = temp_dir("weights");
    let graph = crate::session::graph();
    let mut model = Model::new(&graph, 0).expect("compiles");
    // Non-finite values are refused, naming the tensor.
    let mut poisoned = Model::new(&graph, 0).expect("compiles");
    let mut w = poisoned.weights()["dense1.weight"].clone();
    w[3] = f32::NAN;
    poisoned.set_weight("dense1.weight", &w).expect("fits");
    let e = load_weights_bytes(&mut model, &weights_to_bytes(&poisoned).expect("bytes"), "nan.safetensors", false)
        .expect_err("NaN weights")
        .to_string();
    assert!(e.contains("nan.safetensors: dense1.weight holds NaN at position 3"), "{e}");
    // A tensor of the wrong shape is reported once, accurately.
    let other = Model::new(
        &GraphSpec::sequential(vec![
            LayerSpec::Input { shape: vec![3] },
            LayerSpec::Dense { units: 16, bias: true },
            LayerSpec::Tanh,
            LayerSpec::Dense { units: 2, bias: true },
        ]),
        0,
    )
    .expect("compiles");
    let e = load_weights_bytes(&mut model, &weights_to_bytes(&other).expect("bytes"), "other.safetensors", false)
        .expect_err("shapes differ")
        .to_string();
    assert!(e.contains("dense1.weight: the file has shape [3, 16] but the model needs [2, 16]"), "{e}");
    assert!(!e.contains("dense1.weight: the model has it, the file does not"), "said twice: {e}");
    // Not a safetensors file: named, and said so.
    let junk = dir.join("notes.safetensors");
    std::fs::write(&junk, [0xffu8; 64]).expect("write");
    let e = load_weights(&mut model, &junk, false).expect_err("junk").to_string();
    assert!(e.contains("notes.safetensors is not a safetensors weights file"), "{e}");
    // A save into a folder fails and leaves no temporary file behind.
    let folder = dir.join("out");
    std::fs::create_dir(&folder).expect("mkdir");
    assert!(save_weights(&model, &folder).is_err());
    let leftovers: Vec<_> = std::fs::read_dir(&dir).expect("list").flatten().map(|e| e.file_name()).collect();
    assert!(leftovers.iter().all(|n| !n.to_string_lossy().ends_with(".tmp")), "{leftovers:?}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_learning_rate_that_diverges_pauses_the_run_and_can_go_back() {
    // SGD at 1e6 on tanh layers: the loss climbs to millions and stays there, finite.
    let mut session = Session::spawn(std::sync::Arc::new(|| {})).expect("thread");
    let mut run = start(1e6, 3);
    run.config.optimizer = OptimizerSpec::sgd(1e6);
    session.start(run);
    let initial = crate::session::weights_via_inspection(&session);
    session.send(Command::Run { epochs: 20, until_accuracy: None });
    let events = until(&session, |e| matches!(e, Event::Paused { .. } | Event::Failed { .. }));
    let Some(Event::Paused { reason: PauseReason::Diverged { message, can_restore }, step, .. }) = events.last() else {
        panic!("expected a divergence pause, got {}", short(events.last().expect("some")));
    };
    assert!(*step < 100, "caught within a few epochs, at step {step}");
    assert!(message.contains("Training is diverging") && message.contains("learning rate (1e6)"), "{message}");
    assert!(*can_restore);
    session.send(Command::RestoreCheckpoint);
    until(&session, |e| matches!(e, Event::Checkpointed { .. }));
    assert_eq!(crate::session::weights_via_inspection(&session), initial, "back to the only good checkpoint");
}

#[test]
fn a_healthy_run_never_counts_as_diverging() {
    let mut session = Session::spawn(std::sync::Arc::new(|| {})).expect("thread");
    session.start(start(0.05, 2));
    session.send(Command::Run { epochs: 15, until_accuracy: None });
    let events = until(&session, |e| matches!(e, Event::Paused { .. } | Event::Failed { .. }));
    assert!(
        matches!(events.last(), Some(Event::Paused { reason: PauseReason::Done, .. })),
        "{}",
        short(events.last().expect("some"))
    );
}

#[test]
fn bad_training_settings_are_refused_when_read_and_when_changed() {
    let mut session = Session::spawn(std::sync::Arc::new(|| {})).expect("thread");
    let mut run = start(0.01, 1);
    run.config.optimizer = OptimizerSpec::sgd(-0.1);
    session.start(run);
    let events = until(&session, |e| matches!(e, Event::Failed { .. } | Event::Started { .. }));
    let Some(Event::Failed { message, .. }) = events.last() else { panic!("a negative rate starts nothing") };
    assert!(
        message.contains("training.optimizer.lr (the learning rate) is -0.1: it must be a number above 0"),
        "{message}"
    );
    session.start(start(0.01, 1));
    until(&session, |e| matches!(e, Event::Started { .. }));
    for command in [Command::SetLearningRate(0.0), Command::SetLearningRate(f64::NAN), Command::SetBatchSize(0)] {
        session.send(command);
        let events = until(&session, |e| matches!(e, Event::Refused { .. } | Event::Configured { .. }));
        assert!(matches!(events.last(), Some(Event::Refused { .. })), "{}", short(events.last().expect("some")));
    }
    session.send(Command::SetBatchSize(64));
    let events = until(&session, |e| matches!(e, Event::Refused { .. } | Event::Configured { .. }));
    assert!(matches!(events.last(), Some(Event::Configured { config, .. }) if config.batch_size == 64));
}

#[test]
fn a_huge_slope_is_named_instead_of_the_learning_rate() {
    let mut session = Session::spawn(std::sync::Arc::new(|| {})).expect("thread");
    let mut run = start(1e-4, 1);
    run.graph = GraphSpec::sequential(vec![
        LayerSpec::Input { shape: vec![2] },
        LayerSpec::Dense { units: 16, bias: true },
        LayerSpec::LeakyRelu { slope: 1e38 },
        LayerSpec::Dense { units: 16, bias: true },
        LayerSpec::Dense { units: 2, bias: true },
    ]);
    session.start(run);
    session.send(Command::Run { epochs: 1, until_accuracy: None });
    let events = until(&session, |e| matches!(e, Event::Paused { .. } | Event::Failed { .. }));
    let Some(Event::Paused { reason: PauseReason::NonFinite { message, .. }, .. }) = events.last() else {
        panic!("expected a non-finite pause, got {}", short(events.last().expect("some")));
    };
    assert!(message.contains("leakyrelu1 (LeakyReLU): its slope 1e38"), "{message}");
    assert!(message.contains("the learning rate is not the cause"), "{message}");
    assert!(!message.contains("probably too high"), "{message}");
}

#[test]
fn every_label_is_checked_before_the_run_starts() {
    // The first sample is of class 0, so a check of one sample passes; class 2 comes later.
    let set = |labels: Vec<usize>| {
        let n = labels.len();
        let names = vec!["a".to_owned(), "b".to_owned(), "c".to_owned()];
        glassbox_engine::data::Dataset::classification(vec![2], crate::common::wave(2 * n, 0.3), labels, names)
    };
    let splits = Splits { train: set(vec![0, 1, 0, 2]), test: set(vec![1, 0]), info: DatasetInfo::default() };
    let mut model = Model::new(&crate::session::graph(), 0).expect("compiles");
    assert!(model.evaluate(&splits.train.batch(&[0]), LossSpec::CrossEntropy).is_ok(), "one sample fits");
    let e = preflight(&crate::session::graph(), &TrainConfig::default(), &splits).expect_err("3 classes, 2 outputs");
    let e = e.to_string();
    assert!(e.contains("the data has class 2 (\"c\"), but the output layer scores only 2 classes (0 to 1): give the last Dense layer 3 units"), "{e}");
}

#[test]
fn test_shares_outside_zero_to_one_are_refused_and_zero_means_no_test_split() {
    let with_share = |share: f32| DataSpec {
        source: DataSource::Toy2d { pattern: Pattern2d::Xor, samples: 100, noise: 0.0, seed: 0 },
        pipeline: PipelineSpec { test_fraction: share, ..PipelineSpec::default() },
    };
    for share in [1.5, 1.0, -0.1, f32::NAN] {
        let e = with_share(share).build().expect_err("refused").to_string();
        assert!(
            e.contains("the test share (pipeline.test_fraction) is") && e.contains("from 0 (no test split)"),
            "{share}: {e}"
        );
    }
    let splits = with_share(0.0).build().expect("0 is no test split");
    assert!(splits.test.is_empty() && splits.train.len() == 100);
    let mut session = Session::spawn(std::sync::Arc::new(|| {})).expect("thread");
    let mut run = start(0.01, 0);
    run.data = splits;
    session.start(run);
    session.send(Command::Evaluate);
    let events = until(&session, |e| matches!(e, Event::Evaluated { .. } | Event::Failed { .. }));
    assert!(matches!(events.last(), Some(Event::Evaluated { evaluation, .. }) if evaluation.samples == 0));
}

#[test]
fn csv_files_name_the_empty_label_and_find_their_separator() {
    let dir = temp_dir("csv");
    let empty_label = dir.join("empty-label.csv");
    std::fs::write(&empty_label, "a,b,species\n1,2,x\n3,4,\n5,6,y\n").expect("write");
    let e = import_csv(&empty_label, &CsvOptions::default()).expect_err("empty label").to_string();
    assert!(e.contains("empty-label.csv: line 3, column 3 ('species') is empty"), "{e}");
    let semicolons = dir.join("semicolons.csv");
    std::fs::write(&semicolons, "a;b;label\n1,5;2;x\n3;4;y\n").expect("write");
    let e = import_csv(&semicolons, &CsvOptions::default()).expect_err("a decimal comma is not a number").to_string();
    assert!(e.contains("line 2, column 1 ('a') holds '1,5'"), "semicolons were found: {e}");
    std::fs::write(&semicolons, "a;b;label\n1.5;2;x\n3;4;y\n").expect("write");
    let data = import_csv(&semicolons, &CsvOptions::default()).expect("semicolon-separated");
    assert_eq!(
        (data.shape.clone(), data.len(), data.classes.clone()),
        (vec![2], 2, vec!["x".to_owned(), "y".to_owned()])
    );
    let one_column = dir.join("one-column.csv");
    std::fs::write(&one_column, "value\n1\n2\n").expect("write");
    let e = import_csv(&one_column, &CsvOptions::default()).expect_err("one column").to_string();
    assert!(e.contains("one-column.csv: every line has a single column (tried commas, semicolons, tabs and |)"), "{e}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn echoed_names_are_cut_to_80_characters() {
    let long = "n".repeat(10_000_000);
    let graph = GraphSpec {
        nodes: vec![
            node("input", LayerSpec::Input { shape: vec![2] }),
            node(&long, LayerSpec::Dense { units: 0, bias: true }),
        ],
        edges: vec![edge("input", &long, 0)],
        output: None,
    };
    let text = infer_shapes(&graph).problems_text();
    assert!(text.len() < 1000, "{} bytes", text.len());
    assert!(text.contains("(10000000 characters)"), "{}", &text[..200.min(text.len())]);
}

#[test]
fn long_windows_of_names_cost_memory_for_the_kept_windows_only() {
    // Every window of every name used to be built before `samples` were kept: a window of
    // 100,000 characters was ~55 GB. Now the kept windows are built, and they are the same ones.
    let started = Instant::now();
    let (data, _) = glassbox_engine::data::char_windows(TextSource::FirstNames, 100_000, 2, 5).expect("builds");
    assert_eq!((data.len(), data.sample_len()), (2, 100_000));
    assert!(started.elapsed() < Duration::from_secs(10));
    let spec =
        DataSpec::new(DataSource::CharWindows { text: TextSource::FirstNames, window: 100_000, samples: 2, seed: 5 });
    assert!(spec.estimate_bytes() < 100e6, "{}", spec.estimate_bytes());
    // A short window: the contexts are the characters before each position, `<pad>` (0) first.
    let (small, _) = glassbox_engine::data::char_windows(TextSource::FirstNames, 4, 300, 1).expect("builds");
    let vocab = small.vocab.as_ref().expect("a vocabulary");
    for i in 0..small.len() {
        let context: Vec<usize> = small.sample(i).iter().map(|&v| v as usize).collect();
        let text = vocab.decode(&context);
        let padding = context.iter().take_while(|&&id| id == 0).count();
        assert!(context[padding..].iter().all(|&id| id != 0), "padding only at the start: {context:?}");
        assert_eq!(text.chars().count(), 4 - padding, "{text:?}");
    }
    let e =
        DataSpec::new(DataSource::CharWindows { text: TextSource::MobyDick, window: 10_000_000, samples: 10, seed: 0 })
            .build()
            .expect_err("longer than the book")
            .to_string();
    assert!(e.contains("a window of 10000000 characters is longer than the text"), "{e}");
}

#[test]
fn a_concat_of_many_inputs_takes_memory_linear_in_them() {
    // A chain of two-input concatenations kept every partial result: 1,400 inputs took 8.4 GB
    // and over a minute. One op for all of them takes a few MB.
    let started = Instant::now();
    let fan_in = 1400;
    let mut nodes = vec![node("input", LayerSpec::Input { shape: vec![64] }), node("join", LayerSpec::Concat)];
    let mut edges: Vec<_> = (0..fan_in).map(|port| edge("input", "join", port)).collect();
    nodes.push(node("head", LayerSpec::Dense { units: 3, bias: true }));
    edges.push(edge("join", "head", 0));
    let graph = GraphSpec { nodes, edges, output: Some("head".into()) };
    let mut model = Model::new(&graph, 0).expect("compiles");
    let mut optimizer = Optimizer::new(OptimizerSpec::adam(0.01));
    let b = batch(&[64], 32, 0.1);
    model.train_step(&b, LossSpec::CrossEntropy, &mut optimizer, 0).expect("trains");
    let grads = model.gradients(&b, LossSpec::CrossEntropy, false, 0).expect("gradients");
    // The input feeds every port, so its gradient is the sum over all of them.
    assert!(grads.input.iter().any(|g| *g != 0.0));
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
}

#[test]
fn schedules_and_epoch_counts_cannot_overflow() {
    let config = TrainConfig {
        epochs: usize::MAX,
        schedule: glassbox_engine::train::Schedule::Cosine { min_factor: 0.1 },
        ..TrainConfig::default()
    };
    assert!(config.lr_at(3, 10).is_finite(), "no overflow in the schedule's length");
    let e = config.validate().expect_err("a typo, not a plan");
    assert!(e.contains("training.epochs is 18446744073709551615: use 1 to 1000000"), "{e}");
    let bad_decay = TrainConfig {
        optimizer: OptimizerSpec::Sgd { lr: 0.1, momentum: 0.0, nesterov: false, weight_decay: 1e300 },
        ..TrainConfig::default()
    };
    assert!(bad_decay.validate().expect_err("a decay of 1e300").contains("optimizer.weight_decay is 1e300"));
}

#[test]
fn a_model_without_weights_or_data_of_one_class_is_refused() {
    let data = spiral_splits(0.2);
    let only_input = GraphSpec::sequential(vec![LayerSpec::Input { shape: vec![2] }, LayerSpec::Softmax]);
    let e = preflight(&only_input, &TrainConfig::default(), &data).expect_err("nothing to train").to_string();
    assert!(e.contains("the model has no weights"), "{e}");
    let one = glassbox_engine::data::Dataset::classification(vec![2], vec![0.0; 8], vec![0; 4], vec!["only".into()]);
    let splits = Splits { train: one.clone(), test: one, info: DatasetInfo::default() };
    let e = preflight(&crate::session::graph(), &TrainConfig::default(), &splits).expect_err("one class").to_string();
    assert!(e.contains("the data has only one class (\"only\")"), "{e}");
}

#[test]
fn short_runs_that_blow_up_are_caught_at_their_end() {
    // Eight steps are too few for the stretch that pauses a run midway; the end says it.
    let mut session = Session::spawn(std::sync::Arc::new(|| {})).expect("thread");
    let mut run = start(1e3, 4);
    run.config.optimizer = OptimizerSpec::adam(1e3);
    session.start(run);
    session.send(Command::RunSteps(8));
    let events = until(&session, |e| matches!(e, Event::Paused { .. } | Event::Failed { .. }));
    let Some(Event::Paused { reason: PauseReason::Diverged { message, .. }, step, .. }) = events.last() else {
        panic!("expected a divergence at the end, got {}", short(events.last().expect("some")));
    };
    assert_eq!(*step, 8);
    assert!(message.contains("the run ended with the loss far above where it started"), "{message}");
}

#[test]
fn a_kernel_column_wholly_in_the_padding_reads_nothing() {
    // Stride 1, kernel 15 over 8 columns with padding 5: the last kernel columns see only padding.
    let graph = GraphSpec::sequential(vec![
        LayerSpec::Input { shape: vec![1, 8, 8] },
        LayerSpec::Conv2d { filters: 1, kernel: 15, stride: 1, padding: 5 },
        LayerSpec::Flatten,
        LayerSpec::Dense { units: 3, bias: true },
    ]);
    let mut model = Model::new(&graph, 0).expect("compiles");
    let mut optimizer = Optimizer::new(OptimizerSpec::adam(0.01));
    let b = batch(&[1, 8, 8], 2, 0.3);
    model.train_step(&b, LossSpec::CrossEntropy, &mut optimizer, 0).expect("trains");
    let small = GraphSpec::sequential(vec![
        LayerSpec::Input { shape: vec![1, 2, 2] },
        LayerSpec::Conv2d { filters: 1, kernel: 6, stride: 1, padding: 3 },
        LayerSpec::Flatten,
        LayerSpec::Dense { units: 3, bias: true },
    ]);
    check(&small, &batch(&[1, 2, 2], 2, 0.6), LossSpec::CrossEntropy, "a kernel wider than the image and its padding");
}

#[test]
fn settings_that_are_zero_or_infinite_in_32_bits_are_refused() {
    let with = |optimizer: OptimizerSpec| TrainConfig { optimizer, ..TrainConfig::default() };
    for (config, says) in [
        (with(OptimizerSpec::sgd(1e300)), "optimizer.lr (the learning rate) is 1e300"),
        (with(OptimizerSpec::adam(1e-300)), "optimizer.lr (the learning rate) is 1e-300"),
        (
            with(OptimizerSpec::Adam { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-300, weight_decay: 0.0 }),
            "optimizer.eps is 1e-300",
        ),
        (
            TrainConfig {
                schedule: glassbox_engine::train::Schedule::Step { every_epochs: 1, factor: 1e30 },
                ..TrainConfig::default()
            },
            "multiplies the rate by 1e30",
        ),
        (
            TrainConfig { warmup_steps: 1_000_000_000_000, ..TrainConfig::default() },
            "training.warmup_steps is 1000000000000",
        ),
    ] {
        let e = config.validate().expect_err(says);
        assert!(e.contains(says), "{e}");
    }
}

#[test]
fn a_long_chain_of_layers_compiles_in_linear_time() {
    // Compiling looked nodes up one by one: 50,000 layers took 26 s. Now they take well under one.
    let mut layers = vec![LayerSpec::Input { shape: vec![2] }];
    layers.extend(std::iter::repeat_n(LayerSpec::Relu, 50_000));
    layers.push(LayerSpec::Dense { units: 3, bias: true });
    let graph = GraphSpec::sequential(layers);
    let started = Instant::now();
    let mut model = Model::new(&graph, 0).expect("compiles");
    let mut optimizer = Optimizer::new(OptimizerSpec::adam(0.01));
    model.train_step(&batch(&[2], 4, 0.2), LossSpec::CrossEntropy, &mut optimizer, 0).expect("trains");
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
}

#[test]
fn a_training_split_of_one_class_and_huge_targets_are_named() {
    let labelled = |labels: Vec<usize>| {
        let n = labels.len();
        glassbox_engine::data::Dataset::classification(
            vec![2],
            crate::common::wave(2 * n, 0.1),
            labels,
            vec!["a".into(), "b".into()],
        )
    };
    let splits = Splits { train: labelled(vec![1, 1, 1]), test: labelled(vec![0, 1]), info: DatasetInfo::default() };
    let e = preflight(&crate::session::graph(), &TrainConfig::default(), &splits).expect_err("one class").to_string();
    assert!(e.contains("the training split holds samples of one class only (\"b\")"), "{e}");
    // Regression targets whose squares overflow: the targets are named, not the learning rate.
    let regression = |n: usize| {
        let mut d = labelled(vec![0; n]);
        d.targets = glassbox_engine::data::Targets::Values(vec![3e38; n]);
        d.classes.clear();
        d
    };
    let mut session = Session::spawn(std::sync::Arc::new(|| {})).expect("thread");
    let mut run = start(0.01, 0);
    run.graph = GraphSpec::sequential(vec![
        LayerSpec::Input { shape: vec![2] },
        LayerSpec::Dense { units: 4, bias: true },
        LayerSpec::Dense { units: 1, bias: true },
    ]);
    run.config.loss = LossSpec::MeanSquaredError;
    run.data = Splits { train: regression(8), test: regression(2), info: DatasetInfo::default() };
    session.start(run);
    session.send(Command::StepBatch);
    let events = until(&session, |e| matches!(e, Event::Paused { .. } | Event::Failed { .. }));
    let Some(Event::Paused { reason: PauseReason::NonFinite { message, .. }, .. }) = events.last() else {
        panic!("expected a non-finite pause, got {}", short(events.last().expect("some")));
    };
    assert!(message.contains("The targets reach 3.00e38") && !message.contains("probably too high"), "{message}");
}

#[test]
fn normalising_values_near_the_32_bit_limit_stays_finite_and_noise_is_bounded() {
    let mut data = glassbox_engine::data::Dataset::classification(
        vec![1],
        vec![-3e38, 0.0, 3e38, 1.0],
        vec![0, 1, 0, 1],
        vec!["a".into(), "b".into()],
    );
    let norm = glassbox_engine::data::Normalizer::fit(&data, glassbox_engine::data::Normalization::UnitRange);
    norm.apply(&mut data);
    assert!(data.inputs.iter().all(|v| v.is_finite()), "{:?}", data.inputs);
    let noisy = DataSpec::new(DataSource::Toy2d { pattern: Pattern2d::Circle, samples: 100, noise: 3e38, seed: 0 });
    assert!(noisy.build().expect_err("too noisy").to_string().contains("noise is 3e38: use a number from 0 to 10"));
    let adding = DataSpec::new(DataSource::Sequence {
        task: SequenceTask::Addition,
        length: 100,
        vocab: 10,
        samples: 10,
        seed: 0,
    });
    assert!(adding.build().expect_err("too many digits").to_string().contains("use 1 to 9 digits"));
}

#[test]
fn a_picture_too_large_to_decode_is_refused_by_its_header() {
    // A PNG whose header claims 13000 x 13000 colour pixels (500 MB decoded) in a few bytes.
    let dir = temp_dir("bomb");
    let class = dir.join("big");
    std::fs::create_dir_all(&class).expect("mkdir");
    let chunk = |kind: &[u8], data: &[u8]| {
        let mut crc = flate2::Crc::new();
        crc.update(kind);
        crc.update(data);
        let mut out = (data.len() as u32).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        out.extend_from_slice(&crc.sum().to_be_bytes());
        out
    };
    let mut ihdr = 13_000u32.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&13_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend(chunk(b"IHDR", &ihdr));
    // The start of the pixel data (a decoder asks for some before it sizes its buffer).
    let mut zlib = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut zlib, &[0u8; 4096]).expect("compress");
    png.extend(chunk(b"IDAT", &zlib.finish().expect("compress")));
    png.extend(chunk(b"IEND", &[]));
    std::fs::write(class.join("bomb.png"), &png).expect("write");
    std::fs::create_dir_all(dir.join("small")).expect("mkdir");
    std::fs::write(dir.join("small").join("other.png"), &png).expect("write");
    let started = Instant::now();
    let e = glassbox_engine::data::import_image_folder(&dir, 28, glassbox_engine::data::ColorMode::Rgb)
        .expect_err("too large")
        .to_string();
    assert!(e.contains("is too large a picture to import"), "{e}");
    assert!(started.elapsed() < Duration::from_secs(5));
    std::fs::remove_dir_all(&dir).ok();
}
