//! The training session on a real thread: event order, stale runs, determinism, NaN recovery,
//! panic isolation, inspection; weights files; schedules; the metrics fold.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use glassbox_engine::data::{split, toy_2d, DatasetInfo, Pattern2d, Splits};
use glassbox_engine::graph::{GraphSpec, LayerSpec};
use glassbox_engine::tensor::{Model, OptimizerSpec};
use glassbox_engine::train::{
    load_weights_bytes, weights_to_bytes, Command, Event, InspectRequest, MetricsHistory, PauseReason, Progress, RunId,
    RunRecord, RunState, Schedule, Session, Split, StartRun, TrainConfig,
};

pub(crate) fn graph() -> GraphSpec {
    GraphSpec::sequential(vec![
        LayerSpec::Input { shape: vec![2] },
        LayerSpec::Dense { units: 16, bias: true },
        LayerSpec::Tanh,
        LayerSpec::Dense { units: 2, bias: true },
    ])
}

pub(crate) fn start(lr: f64, seed: u64) -> StartRun {
    let data = toy_2d(Pattern2d::Circle, 400, 0.0, 1);
    let (train, test) = split(&data, 0.25, 0);
    StartRun {
        graph: graph(),
        data: Splits { train, test, info: DatasetInfo::default() },
        config: TrainConfig {
            optimizer: OptimizerSpec::adam(lr),
            batch_size: 16,
            epochs: 5,
            seed,
            ..TrainConfig::default()
        },
        initial_weights: None,
        keep_matching_weights: false,
    }
}

/// Collects events until one matches `stop` (included), failing after 30 s.
pub(crate) fn until(session: &Session, mut stop: impl FnMut(&Event) -> bool) -> Vec<Event> {
    let mut seen = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while std::time::Instant::now() < deadline {
        if let Some(e) = session.wait(Duration::from_millis(100)) {
            let done = stop(&e);
            seen.push(e);
            if done {
                return seen;
            }
        }
    }
    panic!("timed out; events so far: {:?}", seen.iter().map(short).collect::<Vec<_>>());
}

pub(crate) fn short(e: &Event) -> String {
    format!("{e:?}").chars().take(80).collect()
}

pub(crate) fn is_paused(e: &Event) -> bool {
    matches!(e, Event::Paused { .. })
}

pub(crate) fn weights_via_inspection(session: &Session) -> std::collections::BTreeMap<String, Vec<f32>> {
    session.send(Command::Inspect(InspectRequest {
        id: 7,
        split: Split::Test,
        indices: vec![0, 1],
        ..InspectRequest::default()
    }));
    let events = until(session, |e| matches!(e, Event::Inspected { .. }));
    match events.last() {
        Some(Event::Inspected { inspection, .. }) => inspection.weights.clone(),
        _ => unreachable!("until() returns on an inspection"),
    }
}

#[test]
fn events_come_in_order_and_the_waker_is_called() {
    let wakes = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&wakes);
    let mut session = Session::spawn(Arc::new(move || {
        counter.fetch_add(1, Ordering::Relaxed);
    }))
    .expect("thread starts");
    let run = session.start(start(1e-2, 1));
    // Started, the first checkpoint, and the timeline's first moment.
    let events = until(&session, |e| matches!(e, Event::Snapshot { .. }));
    assert!(
        matches!(events[0], Event::Started { run: r, params: 82, steps_per_epoch: 19 } if r == run),
        "{:?}",
        short(&events[0])
    );

    session.send(Command::StepBatch);
    let events = until(&session, is_paused);
    assert!(matches!(events[0], Event::Resumed { .. }));
    assert!(matches!(events[1], Event::Progress { progress: Progress { step: 1, .. }, .. }), "{}", short(&events[1]));
    assert!(matches!(events.last(), Some(Event::Paused { step: 1, reason: PauseReason::Done, .. })));

    session.send(Command::Run { epochs: 2, until_accuracy: None });
    let events = until(&session, is_paused);
    let steps: Vec<usize> = events
        .iter()
        .filter_map(|e| if let Event::Progress { progress, .. } = e { Some(progress.step) } else { None })
        .collect();
    assert!(steps.windows(2).all(|w| w[0] < w[1]), "progress steps rise: {steps:?}");
    // Epoch 0 had 18 steps left, epoch 1 has 19: the run pauses at the end of epoch 1.
    assert!(matches!(events.last(), Some(Event::Paused { step: 38, .. })), "{}", short(events.last().expect("some")));
    assert_eq!(steps.last(), Some(&38), "the last progress is always delivered");
    assert!(events.iter().filter(|e| matches!(e, Event::Checkpointed { .. })).count() >= 2);

    session.send(Command::Resume);
    std::thread::sleep(Duration::from_millis(50));
    session.send(Command::Pause);
    let events = until(&session, is_paused);
    assert!(matches!(events.last(), Some(Event::Paused { reason: PauseReason::Requested, .. })));

    session.send(Command::Evaluate);
    let events = until(&session, |e| matches!(e, Event::Evaluated { .. }));
    let Some(Event::Evaluated { evaluation, .. }) = events.last() else { unreachable!() };
    assert_eq!(evaluation.confusion.iter().flatten().sum::<usize>(), 100, "the confusion matrix counts the test split");
    session.send(Command::Stop);
    until(&session, |e| matches!(e, Event::Stopped { .. }));
    assert!(wakes.load(Ordering::Relaxed) >= 10, "the waker runs after events");
}

#[test]
fn a_stale_run_is_dropped_by_the_fold() {
    let mut session = Session::spawn(Arc::new(|| {})).expect("thread starts");
    let first = session.start(start(1e-2, 1));
    session.send(Command::Resume);
    std::thread::sleep(Duration::from_millis(30));
    let second = session.start(start(1e-2, 2));
    let events = until(&session, |e| matches!(e, Event::Started { run, .. } if *run == second));
    let mut record = RunRecord::default();
    for e in events {
        assert!(record.apply(e), "every event up to the second start is current when it arrives");
    }
    // A late event of the first run, after the second started:
    assert!(!record.apply(Event::Progress {
        run: first,
        progress: Progress::default(),
        steps: vec![],
        health: vec![]
    }));
    assert_eq!(record.run, Some(second));
    assert!(record.history.points.is_empty(), "nothing of the first run shows");
    assert!(record.apply(Event::Progress {
        run: second,
        progress: Progress { step: 1, ..Progress::default() },
        steps: vec![],
        health: vec![]
    }));
    assert_eq!(record.history.points.len(), 1);
}

#[test]
fn same_seed_same_weights_and_reset_returns_to_them() {
    let mut a = Session::spawn(Arc::new(|| {})).expect("thread starts");
    let mut b = Session::spawn(Arc::new(|| {})).expect("thread starts");
    a.start(start(1e-2, 5));
    b.start(start(1e-2, 5));
    let initial = weights_via_inspection(&a);
    for s in [&a, &b] {
        s.send(Command::StepEpoch);
        until(s, is_paused);
    }
    let wa = weights_via_inspection(&a);
    assert_eq!(wa, weights_via_inspection(&b), "two runs with one seed agree bit for bit");
    assert_ne!(wa, initial, "training changed the weights");
    a.send(Command::Reset);
    until(&a, |e| matches!(e, Event::Started { .. }));
    assert_eq!(weights_via_inspection(&a), initial, "reset gives the same initial weights");
}

#[test]
fn a_huge_learning_rate_pauses_with_a_message_naming_a_node_and_the_checkpoint_restores() {
    let mut session = Session::spawn(Arc::new(|| {})).expect("thread starts");
    let mut explosive = start(1e6, 3);
    explosive.config.optimizer = OptimizerSpec::sgd(1e6);
    explosive.graph = GraphSpec::sequential(vec![
        LayerSpec::Input { shape: vec![2] },
        LayerSpec::Dense { units: 16, bias: true },
        LayerSpec::Relu,
        LayerSpec::Dense { units: 16, bias: true },
        LayerSpec::Relu,
        LayerSpec::Dense { units: 2, bias: true },
    ]);
    session.start(explosive);
    let initial = weights_via_inspection(&session);
    session.send(Command::Run { epochs: 3, until_accuracy: None });
    let events = until(&session, is_paused);
    let Some(Event::Paused { reason: PauseReason::NonFinite { node, message, can_restore }, .. }) = events.last()
    else {
        panic!("expected a non-finite pause, got {}", short(events.last().expect("some")));
    };
    let node = node.clone().expect("a node is named");
    assert!(["dense1", "relu1", "dense2", "relu2", "dense3"].contains(&node.as_str()), "{node}");
    assert!(message.contains(&node) && message.contains("learning rate"), "{message}");
    assert!(can_restore);
    session.send(Command::RestoreCheckpoint);
    until(&session, |e| matches!(e, Event::Checkpointed { .. }));
    let restored = weights_via_inspection(&session);
    assert!(restored.values().flatten().all(|v| v.is_finite()));
    assert_eq!(restored, initial, "the only checkpoint was taken at the start");
}

#[test]
fn a_panicking_step_fails_the_run_and_the_thread_lives_on() {
    let mut session = Session::spawn(Arc::new(|| {})).expect("thread starts");
    let run = session.start(start(1e-2, 1));
    session.send(Command::InjectPanic);
    session.send(Command::StepBatch);
    let events = until(&session, |e| matches!(e, Event::Failed { .. }));
    let Some(Event::Failed { run: failed, message }) = events.last() else { unreachable!() };
    assert_eq!(*failed, run);
    assert!(message.contains("a training step failed") && message.contains("injected"), "{message}");
    let again = session.start(start(1e-2, 1));
    session.send(Command::StepBatch);
    let events = until(&session, is_paused);
    assert!(events.iter().any(|e| matches!(e, Event::Started { run, .. } if *run == again)));
}

#[test]
fn a_graph_that_does_not_fit_the_data_fails_with_a_message() {
    let mut session = Session::spawn(Arc::new(|| {})).expect("thread starts");
    let mut bad = start(1e-2, 1);
    bad.graph =
        GraphSpec::sequential(vec![LayerSpec::Input { shape: vec![3] }, LayerSpec::Dense { units: 2, bias: true }]);
    session.start(bad);
    let events = until(&session, |e| matches!(e, Event::Failed { .. }));
    let Some(Event::Failed { message, .. }) = events.last() else { unreachable!() };
    assert!(message.contains("takes [3]") && message.contains("2 values a sample"), "{message}");
}

#[test]
fn inspection_while_paused_and_settings_reach_the_worker() {
    let mut session = Session::spawn(Arc::new(|| {})).expect("thread starts");
    session.start(start(1e-2, 1));
    session.send(Command::Inspect(InspectRequest {
        id: 3,
        split: Split::Train,
        indices: vec![4],
        ..InspectRequest::default()
    }));
    let events = until(&session, |e| matches!(e, Event::Inspected { .. }));
    let Some(Event::Inspected { inspection, .. }) = events.last() else { unreachable!() };
    assert_eq!(inspection.id, 3);
    assert_eq!(
        inspection.outputs.iter().map(|o| o.id.as_str()).collect::<Vec<_>>(),
        ["input", "dense1", "tanh1", "dense2"]
    );
    assert_eq!(inspection.outputs[1].values.len(), 16);
    assert!(inspection.gradients["dense1.weight"].iter().any(|g| *g != 0.0));
    session.send(Command::SetLearningRate(0.5));
    session.send(Command::SetSchedule { schedule: Schedule::Cosine { min_factor: 0.0 }, warmup_steps: 4 });
    session.send(Command::StepBatch);
    let events = until(&session, is_paused);
    let configured: Vec<&TrainConfig> = events
        .iter()
        .filter_map(|e| if let Event::Configured { config, .. } = e { Some(config) } else { None })
        .collect();
    assert_eq!(configured.len(), 2);
    assert!((configured[0].optimizer.lr() - 0.5).abs() < 1e-12);
    let lr = events
        .iter()
        .find_map(|e| if let Event::Progress { progress, .. } = e { Some(progress.lr) } else { None })
        .expect("progress");
    assert!((lr - 0.5 / 4.0).abs() < 1e-9, "warm-up step 1 of 4 uses a quarter of the rate: {lr}");
    session.send(Command::Inspect(InspectRequest {
        id: 4,
        split: Split::Test,
        indices: vec![999],
        ..InspectRequest::default()
    }));
    let events = until(&session, |e| matches!(e, Event::Refused { .. }));
    assert!(format!("{:?}", events.last()).contains("sample 999 does not exist"));
    // A refused inspection does not end the run.
    session.send(Command::StepBatch);
    let events = until(&session, is_paused);
    assert!(!events.iter().any(|e| matches!(e, Event::Failed { .. })));
}

#[test]
fn a_long_inspection_can_be_cancelled() {
    let (train, test) = glassbox_engine::data::load_bundled(glassbox_engine::data::Bundled::Mnist).expect("bundled");
    let mut session = Session::spawn(Arc::new(|| {})).expect("thread starts");
    session.start(StartRun {
        graph: glassbox_engine::graph::examples::lenet(),
        data: Splits { train, test: test.expect("test split"), info: DatasetInfo::default() },
        config: TrainConfig::default(),
        initial_weights: None,
        keep_matching_weights: false,
    });
    until(&session, |e| matches!(e, Event::Checkpointed { .. }));
    session.send(Command::Inspect(InspectRequest {
        id: 1,
        split: Split::Train,
        indices: (0..5000).collect(),
        ..InspectRequest::default()
    }));
    session.cancel_inspection();
    session.send(Command::Inspect(InspectRequest {
        id: 2,
        split: Split::Test,
        indices: vec![0],
        ..InspectRequest::default()
    }));
    let events = until(&session, |e| matches!(e, Event::Inspected { .. }));
    let Some(Event::Inspected { inspection, .. }) = events.last() else { unreachable!() };
    assert_eq!(inspection.id, 2, "the cancelled inspection answered nothing; the next one did");
    assert_eq!(inspection.outputs[0].values.len(), 784);
}

#[test]
fn schedules() {
    let config = |schedule, warmup_steps| TrainConfig {
        optimizer: OptimizerSpec::sgd(1.0),
        epochs: 10,
        schedule,
        warmup_steps,
        ..TrainConfig::default()
    };
    let constant = config(Schedule::Constant, 0);
    assert!((constant.lr_at(500, 10) - 1.0).abs() < 1e-12);
    let step = config(Schedule::Step { every_epochs: 3, factor: 0.1 }, 0);
    assert!(
        (step.lr_at(29, 10) - 1.0).abs() < 1e-12
            && (step.lr_at(30, 10) - 0.1).abs() < 1e-12
            && (step.lr_at(65, 10) - 0.01).abs() < 1e-12
    );
    let cosine = config(Schedule::Cosine { min_factor: 0.1 }, 0);
    assert!((cosine.lr_at(0, 10) - 1.0).abs() < 1e-12);
    assert!((cosine.lr_at(50, 10) - 0.55).abs() < 1e-9, "half way: {}", cosine.lr_at(50, 10));
    assert!((cosine.lr_at(100, 10) - 0.1).abs() < 1e-9);
    let warm = config(Schedule::Constant, 10);
    assert!(
        (warm.lr_at(0, 10) - 0.1).abs() < 1e-12
            && (warm.lr_at(9, 10) - 1.0).abs() < 1e-12
            && (warm.lr_at(10, 10) - 1.0).abs() < 1e-12
    );
}

#[test]
fn safetensors_round_trip_is_bit_exact_and_misfits_are_listed() {
    let bn_graph = GraphSpec::sequential(vec![
        LayerSpec::Input { shape: vec![1, 6, 6] },
        LayerSpec::Conv2d { filters: 3, kernel: 3, stride: 1, padding: 0 },
        LayerSpec::BatchNorm { momentum: 0.1, eps: 1e-5 },
        LayerSpec::Flatten,
        LayerSpec::Dense { units: 4, bias: true },
    ]);
    let mut model = Model::new(&bn_graph, 9).expect("valid");
    model.set_weight("batchnorm1.running_mean", &[0.1, 0.2, 0.3]).expect("fits");
    let bytes = weights_to_bytes(&model).expect("serialises");
    let mut other = Model::new(&bn_graph, 10).expect("valid");
    assert_ne!(other.weights(), model.weights());
    let report = load_weights_bytes(&mut other, &bytes, "test", false).expect("fits");
    assert!(report.is_complete());
    let bits = |m: &Model| {
        m.weights().into_iter().map(|(k, v)| (k, v.iter().map(|x| x.to_bits()).collect::<Vec<_>>())).collect::<Vec<_>>()
    };
    assert_eq!(bits(&other), bits(&model));

    let wider = GraphSpec::sequential(vec![
        LayerSpec::Input { shape: vec![1, 6, 6] },
        LayerSpec::Conv2d { filters: 3, kernel: 3, stride: 1, padding: 0 },
        LayerSpec::BatchNorm { momentum: 0.1, eps: 1e-5 },
        LayerSpec::Flatten,
        LayerSpec::Dense { units: 5, bias: true },
    ]);
    let mut changed = Model::new(&wider, 1).expect("valid");
    let before = changed.weights();
    let err = load_weights_bytes(&mut changed, &bytes, "old.safetensors", false).expect_err("shapes changed");
    let text = err.to_string();
    assert!(text.contains("dense1.weight: the file has shape [48, 4] but the model needs [48, 5]"), "{text}");
    assert_eq!(changed.weights(), before, "nothing loads unless asked");
    let report = load_weights_bytes(&mut changed, &bytes, "old.safetensors", true).expect("partial load");
    assert_eq!(report.mismatched.len(), 2);
    assert!(report.loaded.contains(&"conv2d1.weight".to_owned()));
    assert_eq!(changed.weights()["conv2d1.weight"], model.weights()["conv2d1.weight"]);
    assert!(load_weights_bytes(&mut changed, b"not safetensors", "junk.bin", true).is_err());
}

#[test]
fn downsampling_keeps_extremes() {
    let points: Vec<(usize, f32, f32)> = (0..10_000).map(|i| (i, 1.0 + (i as f32 * 0.01).sin() * 0.1, 0.5)).collect();
    let mut history = MetricsHistory { points };
    history.points[4321].1 = 99.0;
    history.points[777].1 = -5.0;
    let shown = history.downsample(200);
    assert!(shown.len() <= 200);
    assert!(shown.iter().any(|p| p.0 == 4321 && (p.1 - 99.0).abs() < 1e-6), "the spike survives");
    assert!(shown.iter().any(|p| p.0 == 777), "the minimum survives");
    assert!(shown.windows(2).all(|w| w[0].0 < w[1].0), "in step order");
    // Smoothing: a constant stays itself from the first point, and alternating batches average out.
    let flat = MetricsHistory { points: (0..50).map(|i| (i, 2.0, 0.25)).collect() }.smoothed(10);
    assert!(flat.points.iter().all(|p| (p.1 - 2.0).abs() < 1e-5 && (p.2 - 0.25).abs() < 1e-5));
    let noisy = MetricsHistory { points: (0..400).map(|i| (i, if i % 2 == 0 { 0.0 } else { 1.0 }, 0.5)).collect() };
    let smooth = noisy.smoothed(25);
    assert!(smooth.points[300..].iter().all(|p| (p.1 - 0.5).abs() < 0.05), "the trend, not the jumps");
    assert_eq!(smooth.points.len(), 400);
    // A NaN leaves no point and does not poison what follows.
    let mut with_nan = MetricsHistory { points: (0..20).map(|i| (i, 1.0, 0.5)).collect() };
    with_nan.points[10].1 = f32::NAN;
    with_nan.points[11].1 = f32::INFINITY;
    let smoothed = with_nan.smoothed(5);
    assert_eq!(smoothed.points.len(), 18);
    assert!(smoothed.points.iter().all(|p| (p.1 - 1.0).abs() < 1e-5));
    let thin = smooth.thin(50);
    assert!(thin.len() <= 50 && thin.len() >= 40, "{}", thin.len());
    assert_eq!(thin.first().map(|p| p.0), Some(0));
    assert_eq!(thin.last().map(|p| p.0), Some(399), "the newest point is always drawn");
    let record = RunRecord::default();
    assert_eq!(record.state, RunState::Idle);
    let _ = RunId::default();
}

#[test]
fn the_curves_get_every_step_though_progress_events_are_throttled() {
    let mut session = Session::spawn(Arc::new(|| {})).expect("thread starts");
    session.start(start(1e-2, 3));
    // 300 training samples in batches of 16: 19 steps an epoch, 95 in five epochs, done far
    // faster than the 20-a-second progress events.
    session.send(Command::Run { epochs: 5, until_accuracy: None });
    let events = until(&session, |e| matches!(e, Event::Paused { reason: PauseReason::Done, .. }));
    let progress_events = events.iter().filter(|e| matches!(e, Event::Progress { .. })).count();
    let mut record = RunRecord::default();
    for e in events {
        record.apply(e);
    }
    let steps: Vec<usize> = record.history.points.iter().map(|p| p.0).collect();
    assert_eq!(steps, (1..=95).collect::<Vec<_>>(), "one point per step, in order");
    assert!(progress_events < 95, "progress events are throttled ({progress_events})");
    assert_eq!(record.latest.map(|p| p.step), Some(95));
}

#[test]
fn paced_training_takes_its_time_and_still_answers_at_once() {
    let mut session = Session::spawn(Arc::new(|| {})).expect("thread starts");
    session.send(Command::SetPace(Some(20.0)));
    session.start(start(1e-2, 1));
    until(&session, |e| matches!(e, Event::Started { .. }));
    let began = std::time::Instant::now();
    session.send(Command::RunSteps(10));
    until(&session, is_paused);
    let took = began.elapsed();
    // Ten steps at 20 a second: the ninth waits until 0.45 s (unpaced, this model takes < 10 ms).
    assert!(took >= Duration::from_millis(440), "10 steps at 20/s took only {took:?}");
    // At one step a second a pause is answered at once, not after the wait.
    session.send(Command::SetPace(Some(1.0)));
    session.send(Command::Resume);
    until(&session, |e| matches!(e, Event::Progress { .. }));
    let asked = std::time::Instant::now();
    session.send(Command::Pause);
    until(&session, is_paused);
    assert!(asked.elapsed() < Duration::from_millis(500), "the pause waited {:?}", asked.elapsed());
    // Faster again applies while running.
    session.send(Command::SetPace(None));
    let began = std::time::Instant::now();
    session.send(Command::RunSteps(200));
    until(&session, is_paused);
    assert!(began.elapsed() < Duration::from_secs(5), "unpaced again");
}

#[test]
fn going_back_to_good_weights_takes_the_diverged_points_off_the_curves() {
    let run = RunId(1);
    let mut record = RunRecord::default();
    record.apply(Event::Started { run, params: 10, steps_per_epoch: 10 });
    let steps: Vec<(usize, f32, f32)> = (1..=10).map(|s| (s, if s <= 3 { 0.7 } else { 1500.0 }, 0.5)).collect();
    record.apply(Event::Progress {
        run,
        progress: Progress { step: 10, ..Progress::default() },
        steps,
        health: vec![],
    });
    record.apply(Event::Paused {
        run,
        step: 10,
        reason: PauseReason::Diverged { message: "diverging".into(), can_restore: true },
    });
    record.apply(Event::Checkpointed { run, step: 3 });
    assert_eq!(record.restored_from, Some(3));
    assert_eq!(record.history.points.len(), 3, "the steps after the good weights are gone");
    let last = record.smoothed.points.last().expect("the averaged curve up to step 3");
    assert!(last.1 < 1.0, "the average is the good run's: {last:?}");
}

/// An edit after training: the trainer hands its weights over, and a run of the edited graph
/// starts from every tensor that still fits. An edit that leaves the evaluated function as it
/// was (a Dropout is the identity in evaluation) evaluates to the same loss.
#[test]
fn an_edited_graph_starts_from_the_weights_that_still_fit() {
    let mut session = Session::spawn(Arc::new(|| {})).expect("thread");
    assert!(session.current_weights(Duration::from_secs(5)).is_none(), "no run, no weights");
    let first = session.start(start(0.05, 3));
    session.send(Command::RunSteps(40));
    until(&session, is_paused);
    session.send(Command::Evaluate);
    let events = until(&session, |e| matches!(e, Event::Evaluated { .. }));
    let Some(Event::Evaluated { evaluation: before, .. }) = events.last() else { unreachable!() };
    let bytes = session.current_weights(Duration::from_secs(5)).expect("the run's weights");

    let mut edited = start(0.05, 3);
    glassbox_engine::graph::edit::insert_on_wire(&mut edited.graph, "dense2", 0, LayerSpec::Dropout { rate: 0.3 })
        .expect("insert");
    edited.initial_weights =
        Some(glassbox_engine::train::WeightsFile { source: "the weights before the edit".into(), bytes });
    edited.keep_matching_weights = true;
    let second = session.start(edited);
    assert_ne!(first, second);
    session.send(Command::Evaluate);
    let events = until(&session, |e| matches!(e, Event::Evaluated { .. } | Event::Failed { .. }));
    let Some(Event::Evaluated { evaluation: after, .. }) = events.last() else { panic!("{:?}", events.last()) };
    assert_eq!(after.loss.to_bits(), before.loss.to_bits(), "{} vs {}", after.loss, before.loss);

    // Without keep_matching_weights the same start would be refused if a tensor did not fit;
    // with it, a changed layer starts fresh and the run still starts.
    let mut grown = start(0.05, 3);
    grown.graph.nodes[1].layer = LayerSpec::Dense { units: 32, bias: true };
    grown.initial_weights = Some(glassbox_engine::train::WeightsFile {
        source: "the weights before the edit".into(),
        bytes: session.current_weights(Duration::from_secs(5)).expect("weights"),
    });
    grown.keep_matching_weights = true;
    session.start(grown);
    let events = until(&session, |e| matches!(e, Event::Started { .. } | Event::Failed { .. }));
    assert!(matches!(events.last(), Some(Event::Started { .. })), "{:?}", events.last().map(short));
}

/// The decision boundary, asked of the trainer: the model's outputs over a grid of the plane,
/// the same numbers the model computes for those points with the run's weights.
#[test]
fn the_trainer_answers_a_decision_grid_with_the_runs_weights() {
    let mut session = Session::spawn(Arc::new(|| {})).expect("thread");
    session.start(start(0.05, 5));
    session.send(Command::RunSteps(15));
    until(&session, is_paused);
    let request =
        glassbox_engine::train::GridRequest { low: [-2.0, -2.0], high: [2.0, 2.0], n: 10, ..Default::default() };
    session.send(Command::PredictGrid(request));
    let events = until(&session, |e| matches!(e, Event::Grid { .. }));
    let Some(Event::Grid { grid, .. }) = events.last() else { unreachable!() };
    assert_eq!(grid.step, 15);
    assert_eq!(grid.width, 2);
    assert_eq!(grid.outputs.len(), 10 * 10 * 2);
    let bytes = session.current_weights(Duration::from_secs(5)).expect("weights");
    let mut model = Model::new(&graph(), 5).expect("model");
    load_weights_bytes(&mut model, &bytes, "run", false).expect("fits");
    let points = glassbox_engine::inspect::grid_points([-2.0, -2.0], [2.0, 2.0], 10);
    assert_eq!(grid.outputs, model.predict(&points, 100).expect("predicts"));
}
