//! What crosses between the trainer thread and its owner: commands in, events out. All plain,
//! owned data; no tensor type appears here.

use std::collections::BTreeMap;

use super::config::{Schedule, TrainConfig};
use crate::data::Splits;
use crate::graph::GraphSpec;
use crate::tensor::{NodeOutput, OptimizerSpec};

/// Identifies one run; every event carries it, so events of an older run can be dropped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RunId(pub u64);

/// Everything a run starts from.
#[derive(Clone, Debug)]
pub struct StartRun {
    pub graph: GraphSpec,
    pub data: Splits,
    pub config: TrainConfig,
    /// Weights to start from instead of the seeded initial weights.
    pub initial_weights: Option<WeightsFile>,
    /// Load only the tensors of `initial_weights` whose names and shapes fit the graph (the rest
    /// start from the seeded weights): for a graph edited after training. Otherwise every
    /// tensor must fit.
    pub keep_matching_weights: bool,
}

/// A weights file's bytes (safetensors), with where they came from for messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WeightsFile {
    /// The file's path, or what else the bytes are ("the checkpoint").
    pub source: String,
    pub bytes: Vec<u8>,
}

/// Which split a sample comes from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Split {
    Train,
    #[default]
    Test,
}

/// What to look at, and at which moment of the run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct InspectRequest {
    /// Chosen by the caller; the answer carries it back.
    pub id: u64,
    pub split: Split,
    /// The samples (one for a single sample).
    pub indices: Vec<usize>,
    /// A sample that is not in the data (drawn, clicked on the plane, typed), in the model's
    /// input shape: looked at instead of `indices` (no gradients: it has no label).
    pub input: Option<Vec<f32>>,
    /// The weights of the timeline's snapshot at this step ([`Event::Snapshot`]); `None`: the
    /// current weights.
    pub moment: Option<usize>,
}

/// Sequences to write with a model that scores the next token of a window of token ids (see
/// [`crate::generate::generate`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GenerateRequest {
    /// Chosen by the caller; the answer carries it back.
    pub id: u64,
    /// How many sequences, each from its own seed (`seed`, `seed + 1`, ...).
    pub count: usize,
    pub prompt: Vec<usize>,
    pub max_tokens: usize,
    pub temperature: f32,
    /// A token that ends a sequence (kept).
    pub stop: Option<usize>,
    pub seed: u64,
    /// The timeline's snapshot at this step; `None`: the current weights.
    pub moment: Option<usize>,
}

/// Attribution maps of one sample by several methods (see [`crate::explain`]), answered with
/// [`Event::Explained`] and, while they run, [`Event::Explaining`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ExplainRequest {
    /// Chosen by the caller; the answer carries it back.
    pub id: u64,
    pub split: Split,
    pub index: usize,
    /// A sample that is not in the data (drawn, typed), in the model's input shape: explained
    /// instead of `index`.
    pub input: Option<Vec<f32>>,
    /// The timeline's snapshot at this step; `None`: the current weights.
    pub moment: Option<usize>,
    /// One map per method, each with its defaults for the model's kind of input
    /// ([`crate::explain::Settings::for_input`]) but for the class and baseline below.
    pub methods: Vec<crate::explain::Method>,
    /// The class to explain; `None`: the predicted one.
    pub target: Option<usize>,
    /// What "nothing" is; `None`: the method's default for the input.
    pub baseline: Option<crate::explain::Baseline>,
    /// Also explain each with freshly initialised weights and compare (the randomisation check).
    pub randomisation: bool,
    /// For a table: also the whole test set's view (permutation importance, mean |SHAP|, the
    /// surrogate tree).
    pub global: bool,
    /// For images: also an input that excites this class, channel or unit (feature visualisation).
    pub visualise: Option<crate::explain::visualise::Unit>,
}

/// One training step worked out by hand for one weight entry (see
/// [`crate::explain::backprop`]), on a test sample as if it were the whole batch, with the current
/// weights and the optimiser's current state; answered with [`Event::TrainingStepWorked`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TrainingStepRequest {
    /// Chosen by the caller; the answer carries it back.
    pub id: u64,
    pub split: Split,
    pub index: usize,
    /// The parameter (`<node>.<name>`) and the entry followed, as a flat index.
    pub param: String,
    pub entry: usize,
}

/// What an explanation found.
#[derive(Clone, Debug, PartialEq)]
pub struct Explanation {
    pub id: u64,
    /// The step of the weights explained, and whether they were a snapshot's.
    pub step: usize,
    pub moment: Option<usize>,
    /// The sample's input values, and how the model reads them.
    pub input: Vec<f32>,
    pub kind: crate::explain::InputKind,
    /// One answer per requested method, in order: the map, or why there is none.
    pub maps: Vec<Result<crate::explain::Attribution, String>>,
    /// With the randomisation check: its outcome per map (`None` where the map failed).
    pub checks: Vec<Option<crate::explain::sanity::Randomisation>>,
    /// The whole test set's view, when asked for, or why there is none.
    pub global: Option<Result<crate::explain::global::GlobalView, String>>,
    /// The feature visualisation, when asked for, or why there is none.
    pub visualised: Option<Result<crate::explain::visualise::Visualisation, String>>,
}

/// Where and how finely to evaluate a model over the plane.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct GridRequest {
    pub low: [f32; 2],
    pub high: [f32; 2],
    pub n: usize,
    /// The timeline's snapshot at this step; `None`: the current weights.
    pub moment: Option<usize>,
    /// Also every node's output over the grid (each hidden neuron's response over the plane).
    pub neurons: bool,
}

/// A model's outputs over a grid of the plane (see [`crate::inspect::grid_points`] for the order).
#[derive(Clone, Debug, PartialEq)]
pub struct Grid {
    pub request: GridRequest,
    /// The training step the weights were at.
    pub step: usize,
    /// `n * n` rows of `width` outputs.
    pub outputs: Vec<f32>,
    pub width: usize,
    /// With `request.neurons`: every node's output over the grid (`n * n` samples each).
    pub nodes: Vec<NodeOutput>,
}

/// Why a snapshot of the weights was kept for the timeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SnapshotReason {
    /// The weights the run started from.
    Start,
    /// An epoch ended (its number, counted from 1).
    EpochEnd(usize),
    /// Training paused.
    Pause,
}

/// One moment of the run's timeline: a snapshot of the weights the trainer keeps, which
/// inspections, grids and evaluations can be asked at.
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    pub step: usize,
    /// Epochs done at this step, with the fraction of the current one.
    pub epoch: f32,
    pub reason: SnapshotReason,
    /// For every ReLU node, the fraction of its units that are zero for every one of up to 256
    /// training samples (dead: no gradient flows through them).
    pub dead_relus: BTreeMap<String, f32>,
}

/// One layer's health at a training step (see [`crate::tensor::ParamHealth`]), its parameter
/// tensors taken together.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerHealth {
    /// The node id.
    pub node: String,
    pub grad_norm: f32,
    pub weight_norm: f32,
    pub update_norm: f32,
}

impl LayerHealth {
    /// How far one step moves the weights, relative to their size (healthy: around 1e-3).
    #[must_use]
    pub fn update_ratio(&self) -> f32 {
        if self.weight_norm > 0.0 {
            self.update_norm / self.weight_norm
        } else {
            0.0
        }
    }
}

/// A command to the trainer.
#[derive(Clone, Debug)]
pub enum Command {
    /// Compiles the graph and gets ready, paused at step 0.
    Start(RunId, Box<StartRun>),
    Pause,
    Resume,
    /// One batch, then pause.
    StepBatch,
    /// This many batches, then pause.
    RunSteps(usize),
    /// To the end of the current epoch, then pause.
    StepEpoch,
    /// Train `epochs` more epochs (or, with `until_accuracy`, until the test accuracy reaches it,
    /// checked after each epoch), then pause.
    Run {
        epochs: usize,
        until_accuracy: Option<f32>,
    },
    /// Ends the run; the model is dropped.
    Stop,
    /// Back to step 0 with the same seed: the same initial weights as at the start.
    Reset,
    SetLearningRate(f64),
    SetBatchSize(usize),
    SetOptimizer(OptimizerSpec),
    SetSchedule {
        schedule: Schedule,
        warmup_steps: usize,
    },
    /// Test loss, accuracy and confusion matrix.
    Evaluate,
    /// The same, with the weights of the timeline's snapshot at this step (the answer's
    /// evaluation carries that step).
    EvaluateAt(usize),
    /// Whether to evaluate on the test split at the end of every epoch (for test curves).
    EvaluateEachEpoch(bool),
    /// How fast training runs, in steps a second (`None`: as fast as it can), so a class can
    /// watch it learn; kept for every later run of the session. Commands are answered at once
    /// while the trainer waits between steps.
    SetPace(Option<f32>),
    /// Every node's output, every parameter's gradient and the weights, for some samples.
    Inspect(InspectRequest),
    /// The model's outputs over an `n` x `n` grid of the plane (models of 2-D points): the
    /// decision boundary, answered with [`Event::Grid`].
    PredictGrid(GridRequest),
    /// Sequences written by the model, token by token, answered with [`Event::Generated`].
    Generate(GenerateRequest),
    /// Attribution maps of one sample. Cancelled like an inspection
    /// ([`super::Session::cancel_inspection`]).
    Explain(ExplainRequest),
    /// One training step worked out by hand for one weight (nothing is changed).
    WorkTrainingStep(TrainingStepRequest),
    /// Writes the current weights to a safetensors file.
    SaveWeights(std::path::PathBuf),
    /// Answers with the current weights as safetensors bytes (`None` without a run), on the
    /// channel given: for an owner that must keep them before it changes the graph.
    ShareWeights(std::sync::mpsc::Sender<Option<Vec<u8>>>),
    /// Restores the newest in-memory checkpoint (after the run paused on a non-finite value).
    RestoreCheckpoint,
    /// For tests of panic isolation: makes the next training step or inspection panic.
    #[doc(hidden)]
    InjectPanic,
    /// Ends the thread.
    Shutdown,
}

/// One measurement of the running training.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Progress {
    /// Steps done since the start.
    pub step: usize,
    /// Epochs done, with the fraction of the current one.
    pub epoch: f32,
    /// Loss and accuracy of the last batch.
    pub loss: f32,
    pub accuracy: f32,
    pub lr: f64,
    pub samples_per_sec: f32,
}

/// Test-split metrics.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Evaluation {
    pub step: usize,
    /// How many test samples were evaluated; 0 when there is no test split (the metrics are
    /// then meaningless and shown as absent).
    pub samples: usize,
    pub loss: f32,
    pub accuracy: f32,
    /// `confusion[true class][predicted class]` counts (single-label classification only): a row
    /// per class of the data, a column per output the model scores (at least one per class).
    pub confusion: Vec<Vec<usize>>,
    /// Each test sample's predicted class and the softmax probability the model gave it, in
    /// sample order (single-label classification only).
    pub predictions: Vec<(usize, f32)>,
}

/// Why a run paused.
#[derive(Clone, Debug, PartialEq)]
pub enum PauseReason {
    /// Asked to.
    Requested,
    /// A step, an epoch or a number of epochs finished.
    Done,
    /// The target accuracy was reached.
    TargetReached,
    /// The loss or a weight became NaN or infinite.
    NonFinite {
        /// The first node whose output is not finite, if one is.
        node: Option<String>,
        message: String,
        /// Whether [`Command::RestoreCheckpoint`] can go back to good weights.
        can_restore: bool,
    },
    /// Training is diverging: the loss stayed far above where it started, or weights exploded.
    Diverged {
        message: String,
        /// Whether [`Command::RestoreCheckpoint`] can go back to good weights.
        can_restore: bool,
    },
}

impl PauseReason {
    /// For a pause that is an alarm (non-finite values, divergence): its message, and whether
    /// the last good checkpoint can be restored.
    #[must_use]
    pub fn alarm(&self) -> Option<(&str, bool)> {
        match self {
            Self::NonFinite { message, can_restore, .. } | Self::Diverged { message, can_restore } => {
                Some((message, *can_restore))
            }
            Self::Requested | Self::Done | Self::TargetReached => None,
        }
    }
}

/// What an inspection found, as plain data.
#[derive(Clone, Debug, PartialEq)]
pub struct Inspection {
    pub id: u64,
    /// The step of the weights looked at, and whether they were a snapshot's (`Some(step)`).
    pub step: usize,
    pub moment: Option<usize>,
    /// Every node's output for the samples, in evaluation order.
    pub outputs: Vec<NodeOutput>,
    /// What layers keep besides their outputs, for the samples: `<node id>.attention`
    /// (`[heads, time, time]` a sample), `<node id>.hidden` and an LSTM's or GRU's gates
    /// (`[time, units]` a sample).
    pub extras: Vec<NodeOutput>,
    /// The gradient of the loss with respect to every parameter, over these samples.
    pub gradients: BTreeMap<String, Vec<f32>>,
    /// Every parameter's values.
    pub weights: BTreeMap<String, Vec<f32>>,
    /// Every parameter's shape (`weights` are flat).
    pub shapes: BTreeMap<String, Vec<usize>>,
}

/// What the trainer reports.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    Started {
        run: RunId,
        params: usize,
        steps_per_epoch: usize,
    },
    /// The latest step, and every step's `(step, loss, accuracy)` since the last progress event
    /// (events are throttled; the curves still get every step).
    Progress {
        run: RunId,
        progress: Progress,
        steps: Vec<(usize, f32, f32)>,
        /// Layer health measured at some of those steps: `(step, layers)`.
        health: Vec<(usize, Vec<LayerHealth>)>,
    },
    Paused {
        run: RunId,
        step: usize,
        reason: PauseReason,
    },
    Resumed {
        run: RunId,
    },
    Evaluated {
        run: RunId,
        evaluation: Evaluation,
    },
    Inspected {
        run: RunId,
        inspection: Box<Inspection>,
    },
    /// The answer to [`Command::PredictGrid`].
    Grid {
        run: RunId,
        grid: Box<Grid>,
    },
    /// The answer to [`Command::Generate`]: the tokens each sequence added to the prompt.
    Generated {
        run: RunId,
        id: u64,
        step: usize,
        sequences: Vec<Vec<usize>>,
    },
    /// The answer to [`Command::Explain`].
    Explained {
        run: RunId,
        explanation: Box<Explanation>,
    },
    /// The answer to [`Command::WorkTrainingStep`]: the walk, or why there is none.
    TrainingStepWorked {
        run: RunId,
        id: u64,
        /// The training step the weights had reached.
        step: usize,
        walk: Box<Result<crate::explain::backprop::TrainingWalk, String>>,
    },
    /// How far an explanation has got (0 to 1), a few times a second.
    Explaining {
        run: RunId,
        id: u64,
        done: f32,
    },
    /// A moment was added to the timeline.
    Snapshot {
        run: RunId,
        snapshot: Snapshot,
        /// Older snapshots dropped to make room (their steps).
        forgotten: Vec<usize>,
    },
    /// A checkpoint was kept in memory (at the start of each epoch).
    Checkpointed {
        run: RunId,
        step: usize,
    },
    /// The weights were written to this file.
    Saved {
        run: RunId,
        path: std::path::PathBuf,
    },
    /// A setting changed; the new effective configuration.
    Configured {
        run: RunId,
        config: TrainConfig,
    },
    Stopped {
        run: RunId,
        step: usize,
    },
    /// The run ended on an error; the message is for the student.
    Failed {
        run: RunId,
        message: String,
    },
    /// A command could not be carried out (a sample that does not exist, a file that cannot be
    /// written); the run goes on.
    Refused {
        run: RunId,
        message: String,
    },
}

impl Event {
    /// The run this event belongs to.
    #[must_use]
    pub fn run(&self) -> RunId {
        match self {
            Self::Started { run, .. }
            | Self::Progress { run, .. }
            | Self::Paused { run, .. }
            | Self::Resumed { run }
            | Self::Evaluated { run, .. }
            | Self::Inspected { run, .. }
            | Self::Grid { run, .. }
            | Self::Generated { run, .. }
            | Self::Explained { run, .. }
            | Self::Explaining { run, .. }
            | Self::TrainingStepWorked { run, .. }
            | Self::Snapshot { run, .. }
            | Self::Checkpointed { run, .. }
            | Self::Saved { run, .. }
            | Self::Configured { run, .. }
            | Self::Stopped { run, .. }
            | Self::Failed { run, .. }
            | Self::Refused { run, .. } => *run,
        }
    }
}
