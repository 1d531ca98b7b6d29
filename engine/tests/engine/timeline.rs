//! The timeline of weight snapshots and the health measurements, checked against direct
//! computation: a snapshot reproduces its epoch's test metrics and its model's outputs; layer
//! health equals norms computed by hand; dead ReLU fractions equal a direct count.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use glassbox_engine::data::{split, toy_2d, DatasetInfo, Pattern2d, Splits};
use glassbox_engine::graph::{GraphSpec, LayerSpec};
use glassbox_engine::tensor::{LossSpec, Model, Optimizer, OptimizerSpec};
use glassbox_engine::train::{
    load_weights_bytes, Command, Event, GridRequest, InspectRequest, Session, SnapshotReason, StartRun,
};

use crate::session::{is_paused, until};

fn relu_graph() -> GraphSpec {
    GraphSpec::sequential(vec![
        LayerSpec::Input { shape: vec![2] },
        LayerSpec::Dense { units: 12, bias: true },
        LayerSpec::Relu,
        LayerSpec::Dense { units: 2, bias: true },
    ])
}

fn relu_start() -> StartRun {
    // The session tests' start, on XOR with a ReLU network, for three epochs.
    let mut start = crate::session::start(0.02, 9);
    let (train, test) = split(&toy_2d(Pattern2d::Xor, 320, 0.0, 3), 0.25, 0);
    start.data = Splits { train, test, info: DatasetInfo::default() };
    start.graph = relu_graph();
    start.config.epochs = 3;
    start
}

#[test]
fn each_epochs_snapshot_reproduces_that_epochs_test_metrics_and_outputs() {
    let mut session = Session::spawn(Arc::new(|| {})).expect("thread");
    let started = relu_start();
    let (test, train, graph) = (started.data.test.clone(), started.data.train.clone(), started.graph.clone());
    session.send(Command::EvaluateEachEpoch(true));
    session.start(started);
    session.send(Command::Run { epochs: 3, until_accuracy: None });
    let events = until(&session, is_paused);
    let snapshots: Vec<_> = events
        .iter()
        .filter_map(|e| if let Event::Snapshot { snapshot, .. } = e { Some(snapshot.clone()) } else { None })
        .collect();
    let reasons: Vec<SnapshotReason> = snapshots.iter().map(|s| s.reason).collect();
    assert_eq!(
        reasons,
        [SnapshotReason::Start, SnapshotReason::EpochEnd(1), SnapshotReason::EpochEnd(2), SnapshotReason::EpochEnd(3)],
        "the pause at the end of epoch 3 is the same moment, kept once"
    );
    let evaluations: BTreeMap<usize, _> = events
        .iter()
        .filter_map(|e| {
            if let Event::Evaluated { evaluation, .. } = e {
                Some((evaluation.step, evaluation.clone()))
            } else {
                None
            }
        })
        .collect();
    assert_eq!(evaluations.len(), 3);
    // Ask for the epochs out of order, so the snapshot model is reloaded each time.
    for snapshot in [&snapshots[2], &snapshots[1], &snapshots[3]] {
        session.send(Command::EvaluateAt(snapshot.step));
        let answer = until(&session, |e| matches!(e, Event::Evaluated { .. } | Event::Refused { .. }));
        let Some(Event::Evaluated { evaluation, .. }) = answer.last() else { panic!("{:?}", answer.last()) };
        let at_epoch_end = &evaluations[&snapshot.step];
        assert_eq!(evaluation.step, snapshot.step);
        assert_eq!(evaluation.loss.to_bits(), at_epoch_end.loss.to_bits(), "step {}", snapshot.step);
        assert_eq!(evaluation.accuracy.to_bits(), at_epoch_end.accuracy.to_bits());
        assert_eq!(evaluation.confusion, at_epoch_end.confusion);
        assert_eq!(evaluation.predictions, at_epoch_end.predictions);
        assert_eq!(evaluation.predictions.len(), test.len());
    }
    // The start's snapshot is the seeded model: an inspection there equals a fresh model's forward.
    session.send(Command::Inspect(InspectRequest {
        id: 5,
        indices: vec![3],
        moment: Some(0),
        ..InspectRequest::default()
    }));
    let answer = until(&session, |e| matches!(e, Event::Inspected { .. } | Event::Refused { .. }));
    let Some(Event::Inspected { inspection, .. }) = answer.last() else { panic!("{:?}", answer.last()) };
    assert_eq!((inspection.step, inspection.moment), (0, Some(0)));
    let mut fresh = Model::new(&graph, 9).expect("model");
    let direct = fresh.forward_record(test.sample(3), 1).expect("forward");
    assert_eq!(inspection.outputs, direct);
    // A point of the plane that is in no split, at epoch 1's weights.
    session.send(Command::Inspect(InspectRequest {
        id: 6,
        input: Some(vec![0.25, -0.5]),
        moment: Some(snapshots[1].step),
        ..InspectRequest::default()
    }));
    let answer = until(&session, |e| matches!(e, Event::Inspected { .. } | Event::Refused { .. }));
    let Some(Event::Inspected { inspection, .. }) = answer.last() else { panic!("{:?}", answer.last()) };
    assert_eq!(inspection.step, snapshots[1].step);
    let bytes = inspection_weights_bytes(&inspection.weights, &fresh);
    let mut epoch1 = Model::new(&graph, 9).expect("model");
    load_weights_bytes(&mut epoch1, &bytes, "epoch 1", false).expect("fits");
    assert_eq!(inspection.outputs, epoch1.forward_record(&[0.25, -0.5], 1).expect("forward"));
    // Each snapshot's dead ReLU fraction equals a direct count over the first 256 training samples.
    let probe: Vec<usize> = (0..train.len().min(256)).collect();
    let batch = train.batch(&probe);
    let outs = epoch1.forward_record(&batch.inputs, batch.len).expect("forward");
    let direct = glassbox_engine::inspect::dead_relu_fractions(&epoch1, &outs, batch.len);
    assert_eq!(snapshots[1].dead_relus, direct);
    // Each hidden neuron over the plane, at epoch 1: the same numbers as a forward pass there.
    let request =
        GridRequest { low: [-1.0, -1.0], high: [1.0, 1.0], n: 6, moment: Some(snapshots[1].step), neurons: true };
    session.send(Command::PredictGrid(request));
    let answer = until(&session, |e| matches!(e, Event::Grid { .. } | Event::Refused { .. }));
    let Some(Event::Grid { grid, .. }) = answer.last() else { panic!("{:?}", answer.last()) };
    let points = glassbox_engine::inspect::grid_points([-1.0, -1.0], [1.0, 1.0], 6);
    let expected = epoch1.forward_record(&points, 36).expect("forward");
    assert_eq!(grid.step, snapshots[1].step);
    assert_eq!(grid.nodes, expected[1..], "every node but the input");
    assert_eq!(grid.outputs, expected[3].values);
    // A moment the timeline does not have is refused with the steps it has.
    session.send(Command::EvaluateAt(7));
    let answer = until(&session, |e| matches!(e, Event::Evaluated { .. } | Event::Refused { .. }));
    let Some(Event::Refused { message, .. }) = answer.last() else { panic!("{:?}", answer.last()) };
    assert!(message.contains("no snapshot at step 7") && message.contains(&snapshots[1].step.to_string()), "{message}");
    // Pausing mid-epoch adds a moment.
    session.send(Command::RunSteps(3));
    let events = until(&session, is_paused);
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::Snapshot { snapshot, .. } if snapshot.reason == SnapshotReason::Pause)),
        "a pause is a moment"
    );
    let _ = Duration::ZERO;
}

/// The weights an inspection reports, as a safetensors file a model can load.
fn inspection_weights_bytes(weights: &BTreeMap<String, Vec<f32>>, like: &Model) -> Vec<u8> {
    let shapes = like.weight_shapes();
    let data: Vec<(String, Vec<usize>, Vec<u8>)> = weights
        .iter()
        .map(|(name, v)| (name.clone(), shapes[name].clone(), v.iter().flat_map(|x| x.to_le_bytes()).collect()))
        .collect();
    let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = data
        .iter()
        .map(|(n, s, b)| {
            (n.clone(), safetensors::tensor::TensorView::new(safetensors::Dtype::F32, s.clone(), b).expect("view"))
        })
        .collect();
    safetensors::serialize(views, &None).expect("serialises")
}

#[test]
fn a_measured_step_reports_the_norms_of_its_gradient_weights_and_update() {
    let start = relu_start();
    let mut model = Model::new(&start.graph, 4).expect("model");
    let batch = start.data.train.batch(&(0..32).collect::<Vec<_>>());
    let before = model.weights();
    let grads = model.gradients(&batch, LossSpec::CrossEntropy, true, 0).expect("grads").params;
    // Plain SGD: the update is exactly lr times the gradient.
    let mut sgd = Optimizer::new(OptimizerSpec::Sgd { lr: 0.5, momentum: 0.0, nesterov: false, weight_decay: 0.0 });
    let (stats, health) = model.train_step_measured(&batch, LossSpec::CrossEntropy, &mut sgd, 0).expect("step");
    assert!(stats.grads_finite);
    let after = model.weights();
    let norm = |v: &mut dyn Iterator<Item = f32>| v.map(|x| f64::from(x) * f64::from(x)).sum::<f64>().sqrt() as f32;
    assert_eq!(health.len(), 4, "two dense layers, weight and bias each");
    for h in &health {
        let g = norm(&mut grads[&h.name].iter().copied());
        let w = norm(&mut before[&h.name].iter().copied());
        let u = norm(&mut after[&h.name].iter().zip(&before[&h.name]).map(|(a, b)| a - b));
        assert!((h.grad_norm - g).abs() <= 1e-5 * g.max(1.0), "{}: {} vs {g}", h.name, h.grad_norm);
        assert!((h.weight_norm - w).abs() <= 1e-5 * w.max(1.0), "{}", h.name);
        assert!((h.update_norm - u).abs() <= 1e-5 * u.max(1.0), "{}", h.name);
        assert!((h.update_norm - 0.5 * g).abs() <= 1e-4 * g.max(1.0), "SGD moves lr x gradient: {}", h.name);
    }
}

#[test]
fn training_reports_layer_health_every_few_steps() {
    let mut session = Session::spawn(Arc::new(|| {})).expect("thread");
    session.start(relu_start());
    session.send(Command::RunSteps(25));
    let events = until(&session, is_paused);
    let health: Vec<_> = events
        .iter()
        .flat_map(|e| if let Event::Progress { health, .. } = e { health.clone() } else { Vec::new() })
        .collect();
    let steps: Vec<usize> = health.iter().map(|h| h.0).collect();
    assert_eq!(steps, [1, 11, 21], "measured at steps 0, 10, 20 (reported as the step they make)");
    for (_, layers) in &health {
        let names: Vec<&str> = layers.iter().map(|l| l.node.as_str()).collect();
        assert_eq!(names, ["dense1", "dense2"]);
        assert!(layers.iter().all(|l| l.grad_norm > 0.0 && l.weight_norm > 0.0 && l.update_ratio() > 0.0));
    }
}
