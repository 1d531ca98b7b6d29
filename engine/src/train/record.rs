//! The owner's view of a run: a pure fold of the trainer's events.

use super::config::TrainConfig;
use super::protocol::{Evaluation, Event, Inspection, PauseReason, Progress, RunId};

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
    /// The curve averaged over about the last `window` steps (an exponential moving average,
    /// corrected at the start so the first points are not pulled towards zero). Per-batch loss
    /// and accuracy jump from batch to batch; this is the trend a student should read.
    #[must_use]
    pub fn smoothed(&self, window: usize) -> Self {
        let alpha = 2.0 / (window.max(1) as f64 + 1.0);
        let (mut loss, mut accuracy, mut weight) = (0.0_f64, 0.0_f64, 0.0_f64);
        let points = self
            .points
            .iter()
            .map(|&(step, l, a)| {
                loss = (1.0 - alpha) * loss + alpha * f64::from(l);
                accuracy = (1.0 - alpha) * accuracy + alpha * f64::from(a);
                weight = (1.0 - alpha) * weight + alpha;
                (step, (loss / weight) as f32, (accuracy / weight) as f32)
            })
            .collect();
        Self { points }
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

/// Everything the owner knows about the current run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunRecord {
    pub run: Option<RunId>,
    pub state: RunState,
    pub params: usize,
    pub steps_per_epoch: usize,
    pub latest: Option<Progress>,
    pub history: MetricsHistory,
    pub evaluations: Vec<Evaluation>,
    pub last_checkpoint: Option<usize>,
    pub config: Option<TrainConfig>,
    pub inspection: Option<Inspection>,
    /// The last weights file written.
    pub saved_to: Option<std::path::PathBuf>,
    /// Why the last refused command was refused.
    pub refused: Option<String>,
}

impl RunRecord {
    /// Folds in one event. Events of any run but the newest started one are dropped (returns
    /// false), so late events of a stopped run never show.
    pub fn apply(&mut self, event: Event) -> bool {
        if let Event::Started { run, params, steps_per_epoch } = event {
            *self = Self {
                run: Some(run),
                state: RunState::Paused(PauseReason::Done),
                params,
                steps_per_epoch,
                ..Self::default()
            };
            return true;
        }
        if self.run != Some(event.run()) {
            return false;
        }
        match event {
            Event::Started { .. } => {}
            Event::Progress { progress, steps, .. } => {
                if steps.is_empty() {
                    self.history.points.push((progress.step, progress.loss, progress.accuracy));
                }
                self.history.points.extend(steps);
                self.latest = Some(progress);
            }
            Event::Paused { reason, .. } => self.state = RunState::Paused(reason),
            Event::Resumed { .. } => self.state = RunState::Running,
            Event::Evaluated { evaluation, .. } => self.evaluations.push(evaluation),
            Event::Inspected { inspection, .. } => self.inspection = Some(*inspection),
            Event::Checkpointed { step, .. } => self.last_checkpoint = Some(step),
            Event::Saved { path, .. } => self.saved_to = Some(path),
            Event::Configured { config, .. } => self.config = Some(config),
            Event::Stopped { .. } => self.state = RunState::Stopped,
            Event::Failed { message, .. } => self.state = RunState::Failed(message),
            Event::Refused { message, .. } => self.refused = Some(message),
        }
        true
    }
}
