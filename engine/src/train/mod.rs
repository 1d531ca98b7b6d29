//! Training sessions: a named worker thread that owns a compiled model, its optimiser and the
//! data, driven by [`Command`]s and answering with [`Event`]s; the owner folds events into a
//! [`RunRecord`]. Weights files are safetensors.

mod config;
mod health;
mod preflight;
mod protocol;
mod record;
mod weights;
mod worker;

pub use config::{Schedule, TrainConfig, MAX_EPOCHS};
pub use health::{divergence_stretch, divergence_threshold, readable};
pub use preflight::{check_data_fits, check_model_memory, estimate_model_memory, output_need, preflight, ModelMemory};
pub use protocol::{
    Command, Evaluation, Event, ExplainRequest, Explanation, GenerateRequest, Grid, GridRequest, InspectRequest,
    Inspection, LayerHealth, PauseReason, Progress, RunId, Snapshot, SnapshotReason, Split, StartRun,
    TrainingStepRequest, WeightsFile,
};
pub use record::{smoothing_window, MetricsHistory, RunRecord, RunState, Smoother, HEALTH_KEPT};
pub use weights::{
    is_weights_file, largest_weight, load_weights, load_weights_bytes, looks_like_weights_file, save_weights,
    weights_file_limit, weights_to_bytes, LoadReport,
};
pub use worker::{Session, Waker};
