//! The trainer thread: owns the model, the optimiser and the data, runs commands between steps,
//! and reports events. It never blocks on its owner: events go into an unbounded channel and the
//! owner is woken through a closure it handed over.

use std::collections::{BTreeMap, VecDeque};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::config::TrainConfig;
use super::health::{divergence_stretch, readable, Health, WEIGHT_LIMIT};
use super::protocol::{
    Command, Evaluation, Event, Grid, GridRequest, InspectRequest, Inspection, LayerHealth, PauseReason, Progress,
    RunId, Snapshot, SnapshotReason, Split, StartRun,
};
use super::weights::{load_weights_bytes, weights_to_bytes};
use crate::data::{Dataset, Targets};
use crate::graph::LayerSpec;
use crate::tensor::{LossSpec, Model, Optimizer, ParamHealth};
use crate::EngineError;

/// Called after events were sent, so the owner can wake up (the app requests a repaint).
pub type Waker = Arc<dyn Fn() + Send + Sync>;

/// Progress events go out at most this often; the latest value is always delivered at a pause.
const PROGRESS_EVERY: Duration = Duration::from_millis(50);
/// In-memory checkpoints kept for recovering from a non-finite loss.
const CHECKPOINTS_KEPT: usize = 3;
/// Steps between full checks that every weight is finite.
const WEIGHT_CHECK_EVERY: usize = 16;
/// Samples per chunk of a batch inspection, between which cancellation is checked.
const INSPECT_CHUNK: usize = 64;
/// Layer health (gradient, weight and update norms) is measured every this many steps (and at
/// every step of paced training, where each step is watched).
const HEALTH_EVERY: usize = 10;
/// The timeline keeps at most this many snapshots, and at most [`SNAPSHOT_BYTES`] of them; past
/// either, every other older snapshot is forgotten (the start and the newest stay).
const SNAPSHOTS_KEPT: usize = 200;
const SNAPSHOT_BYTES: usize = 384 << 20;
/// Training samples whose ReLU outputs decide which units are dead, at each snapshot.
const DEAD_RELU_PROBE: usize = 256;

/// The owner's handle on the trainer thread. Dropping it ends the thread.
pub struct Session {
    commands: Sender<Command>,
    events: Receiver<Event>,
    /// Inspections sent so far, and how many of them are cancelled (the first `n`): the channel
    /// keeps order, so the trainer's own count names the same inspections.
    inspections_sent: AtomicU64,
    cancelled_through: Arc<AtomicU64>,
    next_run: u64,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").field("next_run", &self.next_run).finish_non_exhaustive()
    }
}

impl Session {
    /// Starts the trainer thread (named "trainer").
    ///
    /// # Errors
    /// When the operating system cannot start a thread.
    pub fn spawn(waker: Waker) -> std::io::Result<Self> {
        let (commands, command_rx) = channel();
        let (event_tx, events) = channel();
        let cancelled_through = Arc::new(AtomicU64::new(0));
        let cancel = Arc::clone(&cancelled_through);
        let thread = std::thread::Builder::new().name("trainer".into()).spawn(move || {
            Worker {
                commands: command_rx,
                events: event_tx,
                waker,
                cancel,
                inspections_seen: 0,
                evaluate_each_epoch: false,
                run: None,
                inject_panic: false,
                pace: None,
                next_step_at: None,
            }
            .run();
        })?;
        Ok(Self {
            commands,
            events,
            inspections_sent: AtomicU64::new(0),
            cancelled_through,
            next_run: 1,
            thread: Some(thread),
        })
    }

    /// Starts a new run (ending any current one) and returns its id.
    pub fn start(&mut self, start: StartRun) -> RunId {
        let run = RunId(self.next_run);
        self.next_run += 1;
        self.send(Command::Start(run, Box::new(start)));
        run
    }

    /// Sends a command. A dead trainer (it cannot die short of a bug) ignores it.
    pub fn send(&self, command: Command) {
        match command {
            Command::Inspect(_) | Command::Explain(_) => {
                self.inspections_sent.fetch_add(1, Ordering::Relaxed);
            }
            Command::Stop | Command::Shutdown => self.cancel_inspection(),
            _ => {}
        }
        let _ = self.commands.send(command);
    }

    /// Cancels every inspection sent so far that has not finished; the trainer answers nothing
    /// for them.
    pub fn cancel_inspection(&self) {
        self.cancelled_through.store(self.inspections_sent.load(Ordering::Relaxed), Ordering::Relaxed);
    }

    /// Every event that has arrived, without waiting.
    #[must_use]
    pub fn poll(&self) -> Vec<Event> {
        self.events.try_iter().collect()
    }

    /// The current run's weights as safetensors bytes, waiting up to `timeout` for the trainer
    /// (it answers between two steps); `None` without a run or when it did not answer in time.
    #[must_use]
    pub fn current_weights(&self, timeout: Duration) -> Option<Vec<u8>> {
        let (reply, answer) = channel();
        self.send(Command::ShareWeights(reply));
        answer.recv_timeout(timeout).ok().flatten()
    }

    /// Waits up to `timeout` for the next event.
    #[must_use]
    pub fn wait(&self, timeout: Duration) -> Option<Event> {
        self.events.recv_timeout(timeout).ok()
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.commands.send(Command::Shutdown);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// How far a running session goes before it pauses.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Goal {
    Steps(usize),
    EndOfEpoch(usize),
    Epochs { last_epoch: usize, until_accuracy: Option<f32> },
}

struct Run {
    id: RunId,
    start: StartRun,
    model: Model,
    optimizer: Optimizer,
    config: TrainConfig,
    /// Batches of the current epoch, as sample indices.
    order: Vec<Vec<usize>>,
    batch_in_epoch: usize,
    epoch: usize,
    step: usize,
    goal: Option<Goal>,
    checkpoints: VecDeque<(usize, Vec<u8>)>,
    /// The timeline: weights (safetensors bytes) by step, oldest first.
    snapshots: Vec<(usize, Vec<u8>)>,
    /// A second model holding a snapshot's weights (the step), for looking at a past moment
    /// without touching the training model.
    scratch: Option<(usize, Model)>,
    /// Layer health measured since the last progress event.
    unsent_health: Vec<(usize, Vec<LayerHealth>)>,
    /// The weights the run started from, to tell a bad setting from a bad learning rate.
    initial: Vec<u8>,
    health: Health,
    last_sent: Option<Instant>,
    /// Every step's progress since the last progress event (the newest is the one it reports).
    unsent: Vec<Progress>,
    rate: Option<(Instant, usize)>,
    /// The training split's range and mean (the attribution baselines), worked out on the first
    /// explanation: the data does not change during a run.
    reference: Option<crate::explain::Reference>,
}

impl Run {
    /// The progress event for the steps since the last one: the newest step, with every step's
    /// metrics for the curves; `None` when no step was taken since.
    fn take_progress(&mut self) -> Option<Event> {
        let progress = *self.unsent.last()?;
        let steps = self.unsent.drain(..).map(|p| (p.step, p.loss, p.accuracy)).collect();
        let health = std::mem::take(&mut self.unsent_health);
        Some(Event::Progress { run: self.id, progress, steps, health })
    }

    /// The model with the weights of `moment` (a snapshot's step; `None`: the training model's
    /// own), and the step they are from.
    fn model_at(&mut self, moment: Option<usize>) -> Result<(&mut Model, usize, &crate::data::Splits), EngineError> {
        let Self { model, step: now, snapshots, scratch, start, config, .. } = self;
        let Some(step) = moment else { return Ok((model, *now, &start.data)) };
        let Some((_, bytes)) = snapshots.iter().find(|(s, _)| *s == step) else {
            let kept: Vec<String> = snapshots.iter().map(|(s, _)| s.to_string()).collect();
            return Err(EngineError::Batch(format!(
                "the timeline has no snapshot at step {step} (it keeps steps {}); choose one of those",
                kept.join(", ")
            )));
        };
        let fresh = match scratch {
            Some((at, _)) if *at == step => false,
            Some(_) => true,
            None => {
                *scratch = Some((usize::MAX, Model::new(&start.graph, config.seed)?));
                true
            }
        };
        let Some((at, past)) = scratch.as_mut() else {
            return Err(EngineError::Internal("the scratch model is missing".into()));
        };
        if fresh {
            *at = usize::MAX;
            load_weights_bytes(past, bytes, &format!("the snapshot at step {step}"), false)?;
            *at = step;
        }
        Ok((past, step, &start.data))
    }

    /// Adds the current weights to the timeline (unless this step is there already, or the
    /// weights are broken); returns the snapshot and the steps forgotten to make room.
    fn snapshot(&mut self, reason: SnapshotReason) -> Option<(Snapshot, Vec<usize>)> {
        if self.snapshots.last().is_some_and(|(s, _)| *s == self.step)
            || !self.model.weight_extent().is_some_and(|w| w <= WEIGHT_LIMIT)
        {
            return None;
        }
        let bytes = weights_to_bytes(&self.model).ok()?;
        let probe: Vec<usize> = (0..self.start.data.train.len().min(DEAD_RELU_PROBE)).collect();
        let dead_relus = if probe.is_empty() {
            BTreeMap::new()
        } else {
            let batch = self.start.data.train.batch(&probe);
            self.model
                .forward_record(&batch.inputs, batch.len)
                .map(|outs| crate::inspect::dead_relu_fractions(&self.model, &outs, batch.len))
                .unwrap_or_default()
        };
        self.snapshots.push((self.step, bytes));
        let mut forgotten = Vec::new();
        let total = |s: &[(usize, Vec<u8>)]| s.iter().map(|(_, b)| b.len()).sum::<usize>();
        while self.snapshots.len() > 2
            && (self.snapshots.len() > SNAPSHOTS_KEPT || total(&self.snapshots) > SNAPSHOT_BYTES)
        {
            // Every other snapshot between the first and the newest.
            let last = self.snapshots.len() - 1;
            let mut index = 0;
            self.snapshots.retain(|(step, _)| {
                let keep = index == 0 || index == last || index % 2 == 0;
                if !keep {
                    forgotten.push(*step);
                }
                index += 1;
                keep
            });
        }
        let epoch = self.epoch as f32 + self.batch_in_epoch as f32 / self.steps_per_epoch().max(1) as f32;
        Some((Snapshot { step: self.step, epoch, reason, dead_relus }, forgotten))
    }

    fn steps_per_epoch(&self) -> usize {
        self.start.data.train.len().div_ceil(self.config.batch_size.max(1))
    }

    fn shuffle(&mut self) {
        self.order = self.start.data.train.epoch_batches(
            self.config.batch_size.max(1),
            self.config.seed ^ (self.epoch as u64).wrapping_mul(0x9e37_79b9),
        );
        self.batch_in_epoch = 0;
    }
}

struct Worker {
    commands: Receiver<Command>,
    events: Sender<Event>,
    waker: Waker,
    /// The owner's count of cancelled inspections, and the trainer's count of those received.
    cancel: Arc<AtomicU64>,
    inspections_seen: u64,
    evaluate_each_epoch: bool,
    /// The time between steps while running, when training is paced ([`Command::SetPace`]).
    pace: Option<Duration>,
    /// When the next paced step is due.
    next_step_at: Option<Instant>,
    run: Option<Run>,
    inject_panic: bool,
}

fn build(id: RunId, start: StartRun) -> Result<Run, EngineError> {
    // Settings, shapes, every label and the memory are checked before any weight is allocated.
    super::preflight(&start.graph, &start.config, &start.data)?;
    let mut model = Model::new(&start.graph, start.config.seed)?;
    if let Some(file) = &start.initial_weights {
        load_weights_bytes(&mut model, &file.bytes, &file.source, start.keep_matching_weights)?;
    }
    let config = start.config;
    let initial = weights_to_bytes(&model)?;
    let mut run = Run {
        initial,
        health: Health::default(),
        id,
        optimizer: Optimizer::new(config.optimizer),
        model,
        config,
        start,
        order: Vec::new(),
        batch_in_epoch: 0,
        epoch: 0,
        step: 0,
        goal: None,
        checkpoints: VecDeque::new(),
        snapshots: Vec::new(),
        scratch: None,
        unsent_health: Vec::new(),
        last_sent: None,
        unsent: Vec::new(),
        rate: None,
        reference: None,
    };
    // One sample through the model, so anything the preflight cannot see is a message now.
    let first = run.start.data.train.batch(&[0]);
    run.model.evaluate(&first, run.config.loss)?;
    run.shuffle();
    Ok(run)
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned())
}

impl Worker {
    fn emit(&self, event: Event) {
        let _ = self.events.send(event);
        (self.waker)();
    }

    fn run(mut self) {
        loop {
            let running = self.run.as_ref().is_some_and(|r| r.goal.is_some());
            // Paced: wait for the next step's time, answering commands meanwhile.
            let wait = self.next_step_at.filter(|_| running).and_then(|at| at.checked_duration_since(Instant::now()));
            let command = if let Some(wait) = wait {
                match self.commands.recv_timeout(wait) {
                    Ok(c) => Some(c),
                    Err(RecvTimeoutError::Timeout) => None,
                    Err(RecvTimeoutError::Disconnected) => return,
                }
            } else if running {
                match self.commands.try_recv() {
                    Ok(c) => Some(c),
                    Err(TryRecvError::Empty) => None,
                    Err(TryRecvError::Disconnected) => return,
                }
            } else {
                match self.commands.recv() {
                    Ok(c) => Some(c),
                    Err(_) => return,
                }
            };
            if let Some(command) = command {
                if matches!(command, Command::Shutdown) {
                    return;
                }
                self.handle(command);
                continue;
            }
            let started = Instant::now();
            self.train_one_step();
            // The next step is due one interval after this one started (a step slower than the
            // interval is followed at once).
            self.next_step_at = self.pace.map(|interval| started + interval);
        }
    }

    fn pause(&mut self, reason: PauseReason) {
        let Some(run) = self.run.as_mut() else { return };
        run.goal = None;
        run.rate = None;
        let (id, step) = (run.id, run.step);
        if let Some(progress) = run.take_progress() {
            self.emit(progress);
        }
        if reason.alarm().is_none() {
            self.snapshot(SnapshotReason::Pause);
        }
        self.emit(Event::Paused { run: id, step, reason });
    }

    /// Keeps the current weights on the timeline and says so.
    fn snapshot(&mut self, reason: SnapshotReason) {
        let Some(run) = self.run.as_mut() else { return };
        let id = run.id;
        if let Some((snapshot, forgotten)) = run.snapshot(reason) {
            self.emit(Event::Snapshot { run: id, snapshot, forgotten });
        }
    }

    fn set_goal(&mut self, goal: Goal) {
        if let Some(run) = self.run.as_mut() {
            let was_paused = run.goal.is_none();
            run.goal = Some(goal);
            let id = run.id;
            if was_paused {
                self.emit(Event::Resumed { run: id });
            }
        }
    }

    /// Changes the run's settings, unless the new ones cannot work (a learning rate of 0, a batch
    /// too large for memory): those are refused with a message and the run keeps its settings.
    fn reconfigure(&mut self, change: impl FnOnce(&mut TrainConfig)) {
        let Some(run) = self.run.as_mut() else { return };
        let mut config = run.config;
        change(&mut config);
        let checked = config.validate().map_err(EngineError::Settings).and_then(|()| {
            let estimate =
                super::estimate_model_memory(&run.start.graph, run.model.report(), &config, run.start.data.train.len());
            super::check_model_memory(&estimate, config.batch_size.min(run.start.data.train.len()))
        });
        let id = run.id;
        match checked {
            Ok(()) => {
                run.config = config;
                run.optimizer.set_spec(config.optimizer);
                self.emit(Event::Configured { run: id, config });
            }
            Err(e) => self.emit(Event::Refused { run: id, message: e.to_string() }),
        }
    }

    #[expect(clippy::too_many_lines, reason = "one arm per command reads best as one match")]
    fn handle(&mut self, command: Command) {
        match command {
            Command::Start(id, start) => {
                self.run = None;
                match catch_unwind(AssertUnwindSafe(|| build(id, *start))) {
                    Ok(Ok(run)) => {
                        let (params, steps_per_epoch) = (run.model.param_count(), run.steps_per_epoch());
                        self.run = Some(run);
                        self.emit(Event::Started { run: id, params, steps_per_epoch });
                        self.checkpoint();
                        self.snapshot(SnapshotReason::Start);
                    }
                    Ok(Err(e)) => self.emit(Event::Failed { run: id, message: e.to_string() }),
                    Err(p) => self.emit(Event::Failed {
                        run: id,
                        message: format!("Glassbox failed to start the run: {}", panic_message(&*p)),
                    }),
                }
            }
            Command::Pause => self.pause(PauseReason::Requested),
            Command::Resume => self.set_goal(Goal::Epochs { last_epoch: usize::MAX, until_accuracy: None }),
            Command::StepBatch => {
                if let Some(step) = self.run.as_ref().map(|r| r.step) {
                    self.set_goal(Goal::Steps(step + 1));
                }
            }
            Command::RunSteps(steps) => {
                if let Some(step) = self.run.as_ref().map(|r| r.step) {
                    self.set_goal(Goal::Steps(step.saturating_add(steps.max(1))));
                }
            }
            Command::StepEpoch => {
                if let Some(epoch) = self.run.as_ref().map(|r| r.epoch) {
                    self.set_goal(Goal::EndOfEpoch(epoch));
                }
            }
            Command::Run { epochs, until_accuracy } => {
                if let Some(epoch) = self.run.as_ref().map(|r| r.epoch) {
                    self.set_goal(Goal::Epochs { last_epoch: epoch.saturating_add(epochs.max(1) - 1), until_accuracy });
                }
            }
            Command::Stop => {
                if let Some(run) = self.run.take() {
                    self.emit(Event::Stopped { run: run.id, step: run.step });
                }
            }
            Command::Reset => {
                if let Some(run) = self.run.take() {
                    let id = run.id;
                    let mut start = run.start;
                    start.config = run.config;
                    match build(id, start) {
                        Ok(fresh) => {
                            let (params, steps_per_epoch) = (fresh.model.param_count(), fresh.steps_per_epoch());
                            self.run = Some(fresh);
                            self.emit(Event::Started { run: id, params, steps_per_epoch });
                            self.checkpoint();
                            self.snapshot(SnapshotReason::Start);
                        }
                        Err(e) => self.emit(Event::Failed { run: id, message: e.to_string() }),
                    }
                }
            }
            Command::SetLearningRate(lr) => self.reconfigure(|c| c.optimizer = c.optimizer.with_lr(lr)),
            // The new size applies from the next epoch; the current one keeps its batches.
            Command::SetBatchSize(size) => self.reconfigure(|c| c.batch_size = size),
            Command::SetOptimizer(spec) => self.reconfigure(|c| c.optimizer = spec),
            Command::SetSchedule { schedule, warmup_steps } => self.reconfigure(|c| {
                c.schedule = schedule;
                c.warmup_steps = warmup_steps;
            }),
            Command::PredictGrid(request) => {
                if let Some(run) = self.run.as_mut() {
                    let id = run.id;
                    let n = request.n.clamp(1, 512);
                    let answer = catch_unwind(AssertUnwindSafe(|| {
                        let (model, step, _) = run.model_at(request.moment)?;
                        if request.neurons {
                            let mut nodes = crate::inspect::grid_activations(model, request.low, request.high, n)?;
                            let last = nodes.last().map(|o| o.values.clone()).unwrap_or_default();
                            // The input's own "response" is the plane itself: not worth sending.
                            nodes.retain(|o| {
                                model
                                    .spec()
                                    .node(&o.id)
                                    .is_some_and(|node| !matches!(node.layer, LayerSpec::Input { .. }))
                            });
                            Ok((last, nodes, step))
                        } else {
                            crate::inspect::decision_grid(model, request.low, request.high, n)
                                .map(|o| (o, Vec::new(), step))
                        }
                    }));
                    match answer {
                        Ok(Ok((outputs, nodes, step))) => {
                            let width = outputs.len() / (n * n).max(1);
                            let request = GridRequest { n, ..request };
                            self.emit(Event::Grid {
                                run: id,
                                grid: Box::new(Grid { request, step, outputs, width, nodes }),
                            });
                        }
                        Ok(Err(e)) => self.emit(Event::Refused { run: id, message: e.to_string() }),
                        Err(p) => self.emit(Event::Refused {
                            run: id,
                            message: format!("the decision boundary failed inside Glassbox ({})", panic_message(&*p)),
                        }),
                    }
                }
            }
            Command::Evaluate => {
                if let Some(run) = self.run.as_mut() {
                    let id = run.id;
                    match evaluate(&mut run.model, &run.start.data.test, run.config.loss, run.step) {
                        Ok(evaluation) => self.emit(Event::Evaluated { run: id, evaluation }),
                        Err(e) => self.emit(Event::Failed { run: id, message: e.to_string() }),
                    }
                }
            }
            Command::EvaluateAt(step) => {
                if let Some(run) = self.run.as_mut() {
                    let (id, loss) = (run.id, run.config.loss);
                    let answer = run
                        .model_at(Some(step))
                        .and_then(|(model, step, data)| evaluate(model, &data.test, loss, step));
                    match answer {
                        Ok(evaluation) => self.emit(Event::Evaluated { run: id, evaluation }),
                        Err(e) => self.emit(Event::Refused { run: id, message: e.to_string() }),
                    }
                }
            }
            Command::Inspect(request) => {
                self.inspections_seen += 1;
                let (seq, cancel) = (self.inspections_seen, Arc::clone(&self.cancel));
                let cancelled = move || cancel.load(Ordering::Relaxed) >= seq;
                if let Some(run) = self.run.as_mut() {
                    let id = run.id;
                    // Guarded like a training step: a panic here must not take the trainer down.
                    let inject = std::mem::take(&mut self.inject_panic);
                    match catch_unwind(AssertUnwindSafe(|| {
                        assert!(!inject, "a panic injected by a test");
                        inspect(run, &request, &cancelled)
                    })) {
                        Ok(Ok(Some(inspection))) => {
                            self.emit(Event::Inspected { run: id, inspection: Box::new(inspection) });
                        }
                        Ok(Ok(None)) => {}
                        Ok(Err(e)) => self.emit(Event::Refused { run: id, message: e.to_string() }),
                        Err(p) => self.emit(Event::Refused {
                            run: id,
                            message: format!(
                                "looking inside the model failed inside Glassbox ({}); training can go on",
                                panic_message(&*p)
                            ),
                        }),
                    }
                }
            }
            Command::WorkTrainingStep(request) => {
                if let Some(run) = self.run.as_mut() {
                    let id = run.id;
                    let step = run.step;
                    let answer =
                        catch_unwind(AssertUnwindSafe(|| work_training_step(run, &request))).unwrap_or_else(|p| {
                            Err(format!("working out the step failed inside Glassbox ({})", panic_message(&*p)))
                        });
                    self.emit(Event::TrainingStepWorked { run: id, id: request.id, step, walk: Box::new(answer) });
                }
            }
            Command::Explain(request) => {
                self.inspections_seen += 1;
                let (seq, cancel) = (self.inspections_seen, Arc::clone(&self.cancel));
                let cancelled = move || cancel.load(Ordering::Relaxed) >= seq;
                if let Some(run) = self.run.as_mut() {
                    let id = run.id;
                    let (events, waker) = (self.events.clone(), Arc::clone(&self.waker));
                    let mut last = Instant::now();
                    let mut progress = |done: f32| {
                        if last.elapsed() > Duration::from_millis(150) {
                            last = Instant::now();
                            let _ = events.send(Event::Explaining { run: id, id: request.id, done });
                            waker();
                        }
                        !cancelled()
                    };
                    let answer = catch_unwind(AssertUnwindSafe(|| explain(run, &request, &mut progress)));
                    match answer {
                        Ok(Ok(explanation)) => {
                            self.emit(Event::Explained { run: id, explanation: Box::new(explanation) });
                        }
                        Ok(Err(EngineError::Cancelled)) => {}
                        Ok(Err(e)) => self.emit(Event::Refused { run: id, message: e.to_string() }),
                        Err(p) => self.emit(Event::Refused {
                            run: id,
                            message: format!(
                                "explaining the prediction failed inside Glassbox ({})",
                                panic_message(&*p)
                            ),
                        }),
                    }
                }
            }
            Command::Generate(request) => {
                if let Some(run) = self.run.as_mut() {
                    let id = run.id;
                    let answer = catch_unwind(AssertUnwindSafe(|| {
                        let (model, step, data) = run.model_at(request.moment)?;
                        let vocab = data.train.vocab.clone().ok_or_else(|| {
                            EngineError::Settings("this dataset has no vocabulary to write tokens of".to_owned())
                        })?;
                        let sequences = (0..request.count.min(64))
                            .map(|k| {
                                let generation = crate::generate::Generation {
                                    prompt: request.prompt.clone(),
                                    max_tokens: request.max_tokens.min(1000),
                                    temperature: request.temperature,
                                    stop: request.stop,
                                    seed: request.seed.wrapping_add(k as u64),
                                };
                                crate::generate::generate(model, &vocab, &generation)
                            })
                            .collect::<Result<Vec<_>, _>>()?;
                        Ok::<_, EngineError>((step, sequences))
                    }));
                    match answer {
                        Ok(Ok((step, sequences))) => {
                            self.emit(Event::Generated { run: id, id: request.id, step, sequences });
                        }
                        Ok(Err(e)) => self.emit(Event::Refused { run: id, message: e.to_string() }),
                        Err(p) => self.emit(Event::Refused {
                            run: id,
                            message: format!("writing with the model failed inside Glassbox ({})", panic_message(&*p)),
                        }),
                    }
                }
            }
            Command::RestoreCheckpoint => {
                if let Some(run) = self.run.as_mut() {
                    if let Some((step, bytes)) = run.checkpoints.back().cloned() {
                        let id = run.id;
                        match load_weights_bytes(&mut run.model, &bytes, "the checkpoint", false) {
                            Ok(_) => {
                                // The moments may hold the non-finite values: start them afresh.
                                run.optimizer = Optimizer::new(run.config.optimizer);
                                run.health.forgive();
                                self.emit(Event::Checkpointed { run: id, step });
                            }
                            Err(e) => self.emit(Event::Failed { run: id, message: e.to_string() }),
                        }
                    }
                }
            }
            Command::SaveWeights(path) => {
                if let Some(run) = self.run.as_ref() {
                    let id = run.id;
                    match super::weights::save_weights(&run.model, &path) {
                        Ok(()) => self.emit(Event::Saved { run: id, path }),
                        Err(e) => self.emit(Event::Refused { run: id, message: e.to_string() }),
                    }
                }
            }
            Command::ShareWeights(reply) => {
                let bytes = self.run.as_ref().and_then(|run| super::weights::weights_to_bytes(&run.model).ok());
                let _ = reply.send(bytes);
            }
            Command::EvaluateEachEpoch(on) => self.evaluate_each_epoch = on,
            Command::SetPace(steps_per_second) => {
                self.pace = steps_per_second
                    .filter(|s| s.is_finite() && *s > 0.0)
                    .map(|s| Duration::from_secs_f32(1.0 / s.clamp(0.01, 1e6)));
                // A faster pace applies at once; a slower one from the next step.
                self.next_step_at = match (self.next_step_at, self.pace) {
                    (Some(at), Some(interval)) => Some(at.min(Instant::now() + interval)),
                    _ => None,
                };
            }
            Command::InjectPanic => self.inject_panic = true,
            Command::Shutdown => {}
        }
    }

    /// Keeps the weights in memory, if they are good: finite, not exploding, and taken while the
    /// loss is at a normal level (so going back never lands on diverged weights).
    fn checkpoint(&mut self) {
        let Some(run) = self.run.as_mut() else { return };
        let good = run.health.is_calm() && run.model.weight_extent().is_some_and(|w| w <= WEIGHT_LIMIT);
        if !good {
            return;
        }
        if let Ok(bytes) = weights_to_bytes(&run.model) {
            run.checkpoints.push_back((run.step, bytes));
            if run.checkpoints.len() > CHECKPOINTS_KEPT {
                run.checkpoints.pop_front();
            }
            let (id, step) = (run.id, run.step);
            self.emit(Event::Checkpointed { run: id, step });
        }
    }

    fn train_one_step(&mut self) {
        let inject = std::mem::take(&mut self.inject_panic);
        let Some(run) = self.run.as_mut() else { return };
        if run.batch_in_epoch >= run.order.len() {
            run.shuffle();
        }
        let indices = run.order.get(run.batch_in_epoch).cloned().unwrap_or_default();
        let batch = run.start.data.train.batch(&indices);
        let steps_per_epoch = run.steps_per_epoch();
        let lr = run.config.lr_at(run.step, steps_per_epoch);
        let spec = run.config.optimizer.with_lr(lr);
        run.optimizer.set_spec(spec);
        let dropout_seed = run.config.seed ^ (run.step as u64).wrapping_mul(0x2545_f491_4f6c_dd1d);
        let (loss, model, optimizer) = (run.config.loss, &mut run.model, &mut run.optimizer);
        let measure = run.step % HEALTH_EVERY == 0 || self.pace.is_some();
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            assert!(!inject, "a panic injected by a test");
            if measure {
                model.train_step_measured(&batch, loss, optimizer, dropout_seed)
            } else {
                model.train_step(&batch, loss, optimizer, dropout_seed).map(|stats| (stats, Vec::new()))
            }
        }));
        let id = run.id;
        let stats = match outcome {
            Ok(Ok((stats, health))) => {
                if measure && stats.grads_finite {
                    run.unsent_health.push((run.step + 1, layer_health(&health)));
                }
                stats
            }
            Ok(Err(e)) => {
                self.run = None;
                self.emit(Event::Failed { run: id, message: e.to_string() });
                return;
            }
            Err(p) => {
                self.run = None;
                self.emit(Event::Failed {
                    run: id,
                    message: format!(
                        "a training step failed inside Glassbox ({}); the run was stopped, start it again",
                        panic_message(&*p)
                    ),
                });
                return;
            }
        };
        run.step += 1;
        run.batch_in_epoch += 1;
        let now = Instant::now();
        let (since, samples) = run.rate.get_or_insert((now, 0));
        *samples += batch.len;
        let elapsed = now.duration_since(*since).as_secs_f32();
        let samples_per_sec = if elapsed > 0.0 { *samples as f32 / elapsed } else { 0.0 };
        let progress = Progress {
            step: run.step,
            epoch: run.epoch as f32 + run.batch_in_epoch as f32 / steps_per_epoch.max(1) as f32,
            loss: stats.loss,
            accuracy: stats.accuracy(),
            lr,
            samples_per_sec,
        };
        run.unsent.push(progress);
        // Gradients are checked every step (a non-finite one blocks the update); the weights
        // themselves, which only an overflowing update can spoil, every few steps, since reading
        // them means copying them out of the tensors.
        let extent = (run.step % WEIGHT_CHECK_EVERY == 0).then(|| run.model.weight_extent());
        let weights_bad = matches!(extent, Some(None));
        if !stats.loss.is_finite() || !stats.grads_finite || weights_bad {
            let node = first_non_finite_node(&mut run.model, &batch.inputs, batch.len);
            let can_restore = !run.checkpoints.is_empty();
            let what = if stats.loss.is_finite() {
                if stats.grads_finite {
                    "a weight became infinite".to_owned()
                } else {
                    "the gradients became infinite or NaN".to_owned()
                }
            } else {
                format!("the loss became {}", stats.loss)
            };
            let at = match &node {
                Some(n) => {
                    format!(" at step {}: {n} was the first layer whose output was not a finite number", run.step)
                }
                None => format!(" at step {}", run.step),
            };
            let message = match not_the_learning_rate(run, &batch) {
                Some(cause) => format!("{what}{at}. {cause}"),
                None => {
                    format!("{what}{at}. The learning rate ({}) is probably too high: lower it", readable(lr))
                }
            };
            self.pause(PauseReason::NonFinite { node, message, can_restore });
            return;
        }
        let above_for = run.health.observe(run.step, stats.loss);
        let exploded = extent.flatten().filter(|&w| w > WEIGHT_LIMIT);
        if above_for >= divergence_stretch(steps_per_epoch) || exploded.is_some() {
            let can_restore = !run.checkpoints.is_empty();
            let what = match exploded {
                Some(w) => format!(
                    "a weight reached {} at step {} (the weights of a healthy network stay within a few units)",
                    readable(f64::from(w)),
                    run.step
                ),
                None => format!(
                    "the loss has stayed far above where it started for the last {above_for} steps (now {}; at the start {})",
                    readable(f64::from(stats.loss)),
                    readable(f64::from(run.health.start().unwrap_or(f32::NAN)))
                ),
            };
            let message = format!(
                "Training is diverging: {what}. The learning rate ({}) is probably too high: lower it",
                readable(lr)
            );
            run.health.forgive();
            self.pause(PauseReason::Diverged { message, can_restore });
            return;
        }
        if run.last_sent.is_none_or(|t| now.duration_since(t) >= PROGRESS_EVERY) {
            run.last_sent = Some(now);
            if let Some(progress) = run.take_progress() {
                self.emit(progress);
            }
        }
        let Some(run) = self.run.as_mut() else { return };
        let epoch_done = run.batch_in_epoch >= run.order.len();
        if epoch_done {
            run.epoch += 1;
            run.shuffle();
        }
        let goal = run.goal;
        let reached = match goal {
            Some(Goal::Steps(n)) => run.step >= n,
            Some(Goal::EndOfEpoch(e)) => run.epoch > e,
            Some(Goal::Epochs { last_epoch, .. }) => run.epoch > last_epoch,
            None => false,
        };
        if epoch_done {
            self.checkpoint();
            let epoch = self.run.as_ref().map_or(0, |r| r.epoch);
            self.snapshot(SnapshotReason::EpochEnd(epoch));
        }
        let target = match goal {
            Some(Goal::Epochs { until_accuracy, .. }) => until_accuracy,
            _ => None,
        };
        if epoch_done && (target.is_some() || self.evaluate_each_epoch) {
            let Some(run) = self.run.as_mut() else { return };
            if let Ok(evaluation) = evaluate(&mut run.model, &run.start.data.test, run.config.loss, run.step) {
                let hit = target.is_some_and(|t| evaluation.accuracy >= t);
                self.emit(Event::Evaluated { run: id, evaluation });
                if hit {
                    self.pause(PauseReason::TargetReached);
                    return;
                }
            }
        }
        if reached {
            // A run that ends far above where it started, or with broken weights, has not
            // trained: say so (a short run never reaches the checks that pause one midway).
            let Some(run) = self.run.as_mut() else { return };
            let extent = run.model.weight_extent();
            if extent.is_none() {
                let can_restore = !run.checkpoints.is_empty();
                let message = format!(
                    "a weight became infinite or NaN by step {}. The learning rate ({}) or another optimiser setting is probably too large: lower it",
                    run.step,
                    readable(lr)
                );
                self.pause(PauseReason::NonFinite { node: None, message, can_restore });
            } else if let Some(w) = extent.filter(|&w| w > WEIGHT_LIMIT) {
                let can_restore = !run.checkpoints.is_empty();
                let message = format!(
                    "Training is diverging: a weight reached {} by step {} (the weights of a healthy network stay within a few units). The learning rate ({}) is probably too high: lower it",
                    readable(f64::from(w)),
                    run.step,
                    readable(lr)
                );
                self.pause(PauseReason::Diverged { message, can_restore });
            } else if run.health.is_calm() {
                self.pause(PauseReason::Done);
            } else {
                let can_restore = !run.checkpoints.is_empty();
                let message = format!(
                    "Training is diverging: the run ended with the loss far above where it started (now {}; at the start {}). The learning rate ({}) is probably too high: lower it",
                    readable(f64::from(stats.loss)),
                    readable(f64::from(run.health.start().unwrap_or(f32::NAN))),
                    readable(lr)
                );
                run.health.forgive();
                self.pause(PauseReason::Diverged { message, can_restore });
            }
        }
    }
}

/// The first node whose output has a non-finite value on these inputs.
fn first_non_finite_node(model: &mut Model, inputs: &[f32], len: usize) -> Option<String> {
    let outputs = catch_unwind(AssertUnwindSafe(|| model.forward_record(inputs, len))).ok()?.ok()?;
    outputs.into_iter().find(|o| o.values.iter().any(|v| !v.is_finite())).map(|o| o.id)
}

/// When a non-finite value is not the learning rate's doing, what is: the data itself, or a
/// layer that overflows with the weights the run started from (before any update). `None` when
/// the starting weights give finite values, so training made them bad.
fn not_the_learning_rate(run: &mut Run, batch: &crate::data::Batch) -> Option<String> {
    if let Some(at) = batch.inputs.iter().position(|v| !v.is_finite()) {
        return Some(format!(
            "The data itself holds {} (value {at} of this batch), so the learning rate is not the cause: check the dataset and its normalisation",
            batch.inputs[at]
        ));
    }
    let largest_input = batch.inputs.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    // Run the batch through the starting weights, then put the current ones (which may not be
    // finite, so they go back value by value, unchecked) back.
    let current = run.model.weights();
    load_weights_bytes(&mut run.model, &run.initial, "the starting weights", false).ok()?;
    let node = first_non_finite_node(&mut run.model, &batch.inputs, batch.len);
    for (name, values) in &current {
        run.model.set_weight(name, values).ok()?;
    }
    let Some(node) = node else {
        // Every layer's output is finite with the starting weights: only the loss overflowed.
        if let Targets::Values(targets) = &batch.targets {
            let largest = targets.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            if largest > 1e15 || largest.is_nan() {
                return Some(format!(
                    "The targets reach {largest:.2e}, and their squared errors overflow 32-bit numbers, so the learning rate is not the cause: rescale the targets (divide them by a large number)"
                ));
            }
        }
        return (run.step <= 1).then(|| {
            "The loss was not a finite number at the very first step, before any update, so the learning rate is not the cause: check the data's targets and the model's last layer".to_owned()
        });
    };
    // A layer up to the first non-finite one whose settings make values overflow is the cause.
    let order = &run.model.report().order;
    let upto = order.iter().position(|id| *id == node).map_or(order.len(), |i| i + 1);
    let suspect = order[..upto].iter().find_map(|id| {
        let layer = &run.model.spec().node(id)?.layer;
        let why = match layer {
            LayerSpec::LeakyRelu { slope } if slope.abs() > 10.0 => {
                format!("its slope {slope:e} multiplies negative values far too much: use a small slope such as 0.01")
            }
            LayerSpec::BatchNorm { eps, .. } | LayerSpec::LayerNorm { eps } if *eps < 1e-12 => {
                format!("its epsilon {eps:e} is too small to keep the division finite: use 1e-5")
            }
            _ => return None,
        };
        Some((id.clone(), layer.kind().label(), why))
    });
    let (culprit, kind, why) = match suspect {
        Some(found) => found,
        None => {
            let kind = run.model.spec().node(&node).map_or("layer", |n| n.layer.kind().label());
            let why = if largest_input > 1e6 {
                format!("the inputs reach {largest_input:.2e}: rescale the data (choose Standardize or Unit range in the dataset's normalisation)")
            } else {
                "check its settings, and the scale of the data".to_owned()
            };
            (node, kind, why)
        }
    };
    Some(format!(
        "The values overflow already with the starting weights, before training changed anything, so the learning rate is not the cause: {culprit} ({kind}): {why}"
    ))
}

/// Parameter tensors' health taken together by layer (`<node>.<param>` names).
fn layer_health(params: &[ParamHealth]) -> Vec<LayerHealth> {
    let per_tensor = params.iter().map(|p| (p.name.as_str(), [p.grad_norm, p.weight_norm, p.update_norm]));
    crate::inspect::norms_by_layer(per_tensor)
        .into_iter()
        .map(|(node, [grad_norm, weight_norm, update_norm])| LayerHealth { node, grad_norm, weight_norm, update_norm })
        .collect()
}

/// Loss, accuracy and confusion matrix over a whole split.
fn evaluate(model: &mut Model, data: &Dataset, loss: LossSpec, step: usize) -> Result<Evaluation, EngineError> {
    let mut evaluation = Evaluation { step, samples: data.len(), ..Evaluation::default() };
    if data.is_empty() {
        return Ok(evaluation);
    }
    let classes = data.classes.len();
    let single_label = data.targets_per_sample == 1 && matches!(data.targets, Targets::Classes(_)) && classes > 0;
    if single_label {
        // A column for every output the model scores: an output wider than the data's classes
        // can predict a class the data does not have, and those predictions must show.
        let scored = model.output_shape().last().copied().unwrap_or(classes).max(classes);
        evaluation.confusion = vec![vec![0; scored]; classes];
    }
    let (mut loss_sum, mut correct, mut count) = (0.0f64, 0usize, 0usize);
    let indices: Vec<usize> = (0..data.len()).collect();
    for chunk in indices.chunks(super::preflight::EVAL_CHUNK) {
        let batch = data.batch(chunk);
        // One forward pass gives the metrics and the predictions for the confusion matrix.
        let (stats, outputs) = model.evaluate_with_outputs(&batch, loss)?;
        loss_sum += f64::from(stats.loss) * chunk.len() as f64;
        correct += stats.correct;
        count += stats.count;
        if let (true, Targets::Classes(labels)) = (single_label, &batch.targets) {
            let width = outputs.len() / batch.len.max(1);
            for (row, &truth) in outputs.chunks_exact(width.max(1)).zip(labels) {
                let (predicted, top) =
                    row.iter().enumerate().fold((0, f32::NEG_INFINITY), |b, (i, &v)| if v > b.1 { (i, v) } else { b });
                // The softmax probability of the predicted class: 1 / sum(exp(v - top)).
                let spread: f32 = row.iter().map(|&v| (v - top).exp()).sum();
                evaluation.predictions.push((predicted, if spread > 0.0 { 1.0 / spread } else { 0.0 }));
                if let Some(cell) = evaluation.confusion.get_mut(truth).and_then(|r| r.get_mut(predicted)) {
                    *cell += 1;
                }
            }
        }
    }
    evaluation.loss = (loss_sum / data.len() as f64) as f32;
    evaluation.accuracy = if count == 0 { 0.0 } else { correct as f32 / count as f32 };
    Ok(evaluation)
}

/// Every requested map of one sample (a method that cannot explain this model says why in its
/// place), and with the randomisation check, each again with random weights.
fn explain(
    run: &mut Run,
    request: &super::ExplainRequest,
    watch: &mut dyn FnMut(f32) -> bool,
) -> Result<super::Explanation, EngineError> {
    use crate::explain::{self, Scorer as _};
    let reference = run.reference.get_or_insert_with(|| explain::Reference::of(&run.start.data.train)).clone();
    let (model, step, data) = run.model_at(request.moment)?;
    let split = match request.split {
        Split::Train => &data.train,
        Split::Test => &data.test,
    };
    let input = match &request.input {
        Some(input) => input.clone(),
        None if request.index < split.len() => split.sample(request.index).to_vec(),
        None => {
            return Err(EngineError::Batch(format!(
                "sample {} does not exist: the split has {} samples",
                request.index,
                split.len()
            )))
        }
    };
    let kind = model.input_kind();
    let total = request.methods.len() * if request.randomisation { 2 } else { 1 }
        + usize::from(request.global)
        + usize::from(request.visualise.is_some());
    let mut maps = Vec::with_capacity(request.methods.len());
    let mut checks = Vec::with_capacity(request.methods.len());
    for (k, &method) in request.methods.iter().enumerate() {
        let defaults = explain::Settings::for_input(method, &kind);
        let settings = &explain::Settings {
            target: request.target,
            baseline: request.baseline.unwrap_or(defaults.baseline),
            ..defaults
        };
        let part = |done: f32, round: usize| (round as f32 + done) / total.max(1) as f32;
        let got = explain::explain(model, &input, settings, &reference, &mut |d| watch(part(d, k)));
        let check = match (&got, request.randomisation) {
            (Ok(map), true) => {
                let seed = run_seed(step, k);
                let round = request.methods.len() + k;
                Some(explain::sanity::randomisation(model, map, &input, settings, &reference, seed, &mut |d| {
                    watch(part(d, round))
                })?)
            }
            _ => None,
        };
        maps.push(match got {
            Ok(map) => Ok(map),
            Err(EngineError::Cancelled) => return Err(EngineError::Cancelled),
            Err(e) => Err(e.to_string()),
        });
        checks.push(check);
    }
    let global = if request.global {
        let slot = total - 1 - usize::from(request.visualise.is_some());
        let part = |done: f32| (slot as f32 + done) / total as f32;
        match explain::global::global_view(
            model,
            &data.train,
            &data.test,
            explain::global::GlobalSettings::default(),
            &mut |d| watch(part(d)),
        ) {
            Ok(view) => Some(Ok(view)),
            Err(EngineError::Cancelled) => return Err(EngineError::Cancelled),
            Err(e) => Some(Err(e.to_string())),
        }
    } else {
        None
    };
    let visualised = match &request.visualise {
        Some(unit) => {
            let part = |done: f32| (total as f32 - 1.0 + done) / total as f32;
            let settings = explain::visualise::VisualiseSettings::default();
            match explain::visualise::visualise(model, unit, &settings, &reference, &mut |d| watch(part(d))) {
                Ok(v) => Some(Ok(v)),
                Err(EngineError::Cancelled) => return Err(EngineError::Cancelled),
                Err(e) => Some(Err(e.to_string())),
            }
        }
        None => None,
    };
    Ok(super::Explanation {
        id: request.id,
        step,
        moment: request.moment,
        input,
        kind,
        maps,
        checks,
        global,
        visualised,
    })
}

/// One training step of a sample worked out by hand for one weight, with the current weights and
/// the optimiser's state (neither changes).
fn work_training_step(
    run: &mut Run,
    request: &super::TrainingStepRequest,
) -> Result<crate::explain::backprop::TrainingWalk, String> {
    let data = match request.split {
        Split::Train => &run.start.data.train,
        Split::Test => &run.start.data.test,
    };
    if request.index >= data.len() {
        return Err(format!("sample {} does not exist: the split has {} samples", request.index, data.len()));
    }
    let sample = data.batch(&[request.index]);
    crate::explain::backprop::training_step(
        &mut run.model,
        &mut run.optimizer,
        run.config.loss,
        &sample,
        (&request.param, request.entry),
        &data.classes,
    )
    .map_err(|e| e.to_string())
}

/// A seed for the randomisation check's weights that differs from any training seed's use.
fn run_seed(step: usize, k: usize) -> u64 {
    0x5eed_0000_u64 ^ (step as u64).wrapping_mul(31) ^ k as u64
}

fn inspect(
    run: &mut Run,
    request: &InspectRequest,
    cancelled: &dyn Fn() -> bool,
) -> Result<Option<Inspection>, EngineError> {
    let loss = run.config.loss;
    let (model, step, data) = run.model_at(request.moment)?;
    if let Some(input) = &request.input {
        let (outputs, extras) = model.forward_record_all(input, 1)?;
        let (moment, weights) = (request.moment, model.weights());
        let shapes = model.weight_shapes();
        return Ok(Some(Inspection {
            id: request.id,
            step,
            moment,
            outputs,
            extras,
            gradients: BTreeMap::new(),
            weights,
            shapes,
        }));
    }
    let data = match request.split {
        Split::Train => &data.train,
        Split::Test => &data.test,
    };
    if let Some(&bad) = request.indices.iter().find(|&&i| i >= data.len()) {
        return Err(EngineError::Batch(format!("sample {bad} does not exist: the split has {} samples", data.len())));
    }
    if request.indices.is_empty() {
        return Err(EngineError::Batch("choose at least one sample to inspect".into()));
    }
    let mut outputs: Vec<crate::tensor::NodeOutput> = Vec::new();
    let mut extras: Vec<crate::tensor::NodeOutput> = Vec::new();
    for chunk in request.indices.chunks(INSPECT_CHUNK) {
        if cancelled() {
            return Ok(None);
        }
        let batch = data.batch(chunk);
        let (part, part_extras) = model.forward_record_all(&batch.inputs, batch.len)?;
        for (all, more) in [(&mut outputs, part), (&mut extras, part_extras)] {
            if all.is_empty() {
                *all = more;
            } else {
                for (a, m) in all.iter_mut().zip(more) {
                    a.values.extend(m.values);
                }
            }
        }
    }
    if cancelled() {
        return Ok(None);
    }
    // Gradients in evaluation behaviour, so inspecting never moves batch norm statistics.
    let batch = data.batch(&request.indices);
    let gradients = model.gradients(&batch, loss, false, 0)?.params;
    let moment = request.moment;
    let (weights, shapes) = (model.weights(), model.weight_shapes());
    Ok(Some(Inspection { id: request.id, step, moment, outputs, extras, gradients, weights, shapes }))
}
