//! The owner's view of a run: a pure fold of the trainer's events.

use super::config::TrainConfig;
use super::protocol::{Evaluation, Event, Grid, Inspection, LayerHealth, PauseReason, Progress, RunId, Snapshot};

/// Where the run is.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum RunState {
    /// No run.
    #[default]
    Idle,
    Running,
    Paused(PauseReason),
    Stopped,
    Failed(String),
}

/// Loss and accuracy over steps, for the curves.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MetricsHistory {
    /// `(step, loss, accuracy)`, in step order.
    pub points: Vec<(usize, f32, f32)>,
}

impl MetricsHistory {
    /// The curve averaged over about the last `window` steps (see [`Smoother`]).
    #[must_use]
    pub fn smoothed(&self, window: usize) -> Self {
        let mut smoother = Smoother::new(window);
        Self { points: self.points.iter().filter_map(|&p| smoother.push(p)).collect() }
    }

    /// At most `max_points` evenly spaced points, always with the last: for drawing a smooth
    /// curve (use [`Self::downsample`] where spikes must survive).
    #[must_use]
    pub fn thin(&self, max_points: usize) -> Vec<(usize, f32, f32)> {
        let n = self.points.len();
        let stride = n.div_ceil(max_points.max(2) - 1).max(1);
        let mut out: Vec<_> = self.points.iter().step_by(stride).copied().collect();
        if let Some(&last) = self.points.last() {
            if out.last() != Some(&last) {
                out.push(last);
            }
        }
        out
    }

    /// At most about `max_points` points for display, keeping each stretch's lowest and highest
    /// loss (so spikes and the best value survive), in step order.
    #[must_use]
    pub fn downsample(&self, max_points: usize) -> Vec<(usize, f32, f32)> {
        let n = self.points.len();
        if n <= max_points.max(2) {
            return self.points.clone();
        }
        let buckets = (max_points / 2).max(1);
        let mut out = Vec::with_capacity(buckets * 2);
        for b in 0..buckets {
            let bucket = &self.points[b * n / buckets..(b + 1) * n / buckets];
            let lowest = bucket.iter().enumerate().min_by(|x, y| x.1 .1.total_cmp(&y.1 .1)).map(|(i, _)| i);
            let highest = bucket.iter().enumerate().max_by(|x, y| x.1 .1.total_cmp(&y.1 .1)).map(|(i, _)| i);
            let (Some(lo), Some(hi)) = (lowest, highest) else { continue };
            let (first, second) = if lo <= hi { (lo, hi) } else { (hi, lo) };
            out.push(bucket[first]);
            if second != first {
                out.push(bucket[second]);
            }
        }
        out
    }
}

/// An exponential moving average over about `window` steps, corrected at the start so the first
/// points are not pulled towards zero. Per-batch loss and accuracy jump from batch to batch; the
/// average is the trend a student should read.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Smoother {
    alpha: f64,
    loss: f64,
    accuracy: f64,
    weight: f64,
}

impl Smoother {
    #[must_use]
    pub fn new(window: usize) -> Self {
        Self { alpha: 2.0 / (window.max(1) as f64 + 1.0), ..Self::default() }
    }

    /// Takes the next `(step, loss, accuracy)` and returns the averages up to it. A NaN or
    /// infinite value is left out (it would poison every later average) and gives no point.
    pub fn push(&mut self, (step, loss, accuracy): (usize, f32, f32)) -> Option<(usize, f32, f32)> {
        if !loss.is_finite() || !accuracy.is_finite() {
            return None;
        }
        let a = self.alpha;
        self.loss = (1.0 - a) * self.loss + a * f64::from(loss);
        self.accuracy = (1.0 - a) * self.accuracy + a * f64::from(accuracy);
        self.weight = (1.0 - a) * self.weight + a;
        Some((step, (self.loss / self.weight) as f32, (self.accuracy / self.weight) as f32))
    }
}

/// The smoothing window of a run's curves: about a quarter of an epoch, within 8 to 50 steps.
/// Longer windows read smoother but lag: over a whole LeNet epoch (157 steps) the averaged
/// training loss trailed the test loss by a factor of three early on, which reads as a
/// misleading gap.
#[must_use]
pub fn smoothing_window(steps_per_epoch: usize) -> usize {
    (steps_per_epoch / 4).clamp(8, 50)
}

/// Layer health points a record keeps; past this every other one is dropped.
pub const HEALTH_KEPT: usize = 2000;

/// Everything the owner knows about the current run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunRecord {
    pub run: Option<RunId>,
    pub state: RunState,
    pub params: usize,
    pub steps_per_epoch: usize,
    pub latest: Option<Progress>,
    pub history: MetricsHistory,
    /// `history` averaged over a quarter of an epoch or so ([`smoothing_window`]), kept up as steps arrive.
    pub smoothed: MetricsHistory,
    smoother: Smoother,
    pub evaluations: Vec<Evaluation>,
    pub last_checkpoint: Option<usize>,
    pub config: Option<TrainConfig>,
    pub inspection: Option<Inspection>,
    /// The newest decision-boundary grid.
    pub grid: Option<Grid>,
    /// The newest attribution maps, and how far the one being worked out has got.
    pub explanation: Option<super::protocol::Explanation>,
    pub explaining: Option<(u64, f32)>,
    /// The newest training step worked out by hand: `(request id, step, the walk or why not)`.
    pub training_walk: Option<(u64, usize, Result<crate::explain::backprop::TrainingWalk, String>)>,
    /// The newest sequences the model wrote: `(request id, step, each sequence's tokens)`.
    pub generated: Option<(u64, usize, Vec<Vec<usize>>)>,
    /// The timeline: the moments whose weights the trainer keeps, oldest first.
    pub timeline: Vec<Snapshot>,
    /// Layer health measured during training, `(step, layers)` in step order (thinned to at most
    /// [`HEALTH_KEPT`] points, evenly).
    pub health: Vec<(usize, Vec<LayerHealth>)>,
    /// The last weights file written.
    pub saved_to: Option<std::path::PathBuf>,
    /// Why the last refused command was refused.
    pub refused: Option<String>,
    /// The step whose weights the run went back to after a non-finite value, if it did.
    pub restored_from: Option<usize>,
}

impl RunRecord {
    /// A record waiting for the events of `run` (those of any other run are dropped).
    #[must_use]
    pub fn for_run(run: RunId) -> Self {
        Self { run: Some(run), ..Self::default() }
    }

    /// Forgets the curves (a reset starts them again).
    pub fn clear_curves(&mut self) {
        self.history = MetricsHistory::default();
        self.smoothed = MetricsHistory::default();
        self.smoother = Smoother::new(smoothing_window(self.steps_per_epoch));
        self.evaluations.clear();
    }

    /// Folds in one event. Events of any run but the newest started one are dropped (returns
    /// false), so late events of a stopped run never show.
    pub fn apply(&mut self, event: Event) -> bool {
        if let Event::Started { run, params, steps_per_epoch } = event {
            *self = Self {
                run: Some(run),
                state: RunState::Paused(PauseReason::Done),
                params,
                steps_per_epoch,
                smoother: Smoother::new(smoothing_window(steps_per_epoch)),
                ..Self::default()
            };
            return true;
        }
        if self.run != Some(event.run()) {
            return false;
        }
        match event {
            Event::Started { .. } => {}
            Event::Progress { progress, mut steps, health, .. } => {
                self.health.extend(health);
                if self.health.len() > HEALTH_KEPT {
                    let mut index = 0;
                    self.health.retain(|_| {
                        index += 1;
                        index % 2 == 1
                    });
                }
                if steps.is_empty() {
                    steps.push((progress.step, progress.loss, progress.accuracy));
                }
                for point in steps {
                    self.history.points.push(point);
                    self.smoothed.points.extend(self.smoother.push(point));
                }
                self.latest = Some(progress);
            }
            Event::Paused { reason, .. } => self.state = RunState::Paused(reason),
            Event::Resumed { .. } => {
                self.state = RunState::Running;
                self.restored_from = None;
            }
            // Without a test split there are no test metrics to draw.
            Event::Evaluated { evaluation, .. } => {
                // An evaluation of a past moment goes in step order (or replaces that step's).
                if evaluation.samples > 0 {
                    match self.evaluations.binary_search_by_key(&evaluation.step, |e| e.step) {
                        Ok(i) => self.evaluations[i] = evaluation,
                        Err(i) => self.evaluations.insert(i, evaluation),
                    }
                }
            }
            Event::Inspected { inspection, .. } => self.inspection = Some(*inspection),
            Event::Grid { grid, .. } => self.grid = Some(*grid),
            Event::Generated { id, step, sequences, .. } => self.generated = Some((id, step, sequences)),
            Event::Explained { explanation, .. } => {
                self.explaining = None;
                self.explanation = Some(*explanation);
            }
            Event::Explaining { id, done, .. } => self.explaining = Some((id, done)),
            Event::TrainingStepWorked { id, step, walk, .. } => self.training_walk = Some((id, step, *walk)),
            Event::Snapshot { snapshot, forgotten, .. } => {
                self.timeline.retain(|s| !forgotten.contains(&s.step) && s.step != snapshot.step);
                self.timeline.push(snapshot);
            }
            Event::Checkpointed { step, .. } => {
                // After an alarm (non-finite values, divergence), a checkpoint event answers RestoreCheckpoint.
                if matches!(&self.state, RunState::Paused(reason) if reason.alarm().is_some()) {
                    self.state = RunState::Paused(PauseReason::Requested);
                    self.restored_from = Some(step);
                    // The steps after the good weights are taken back: so are their points, so
                    // the curves' scale and averages are those of the run that goes on (a loss
                    // spike of 1,500 would flatten everything after it).
                    self.history.points.retain(|p| p.0 <= step);
                    self.evaluations.retain(|e| e.step <= step);
                    self.health.retain(|h| h.0 <= step);
                    self.smoother = Smoother::new(smoothing_window(self.steps_per_epoch));
                    let smoother = &mut self.smoother;
                    self.smoothed = MetricsHistory {
                        points: self.history.points.iter().filter_map(|&p| smoother.push(p)).collect(),
                    };
                }
                self.last_checkpoint = Some(step);
            }
            Event::Saved { path, .. } => self.saved_to = Some(path),
            Event::Configured { config, .. } => self.config = Some(config),
            Event::Stopped { .. } => self.state = RunState::Stopped,
            Event::Failed { message, .. } => self.state = RunState::Failed(message),
            Event::Refused { message, .. } => self.refused = Some(message),
        }
        true
    }
}
