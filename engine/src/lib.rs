//! Glassbox's engine: everything that computes. It does not depend on egui; only its `tensor`
//! module names dfdx, and nothing it hands out holds a dfdx type.
//!
//! - [`graph`]: the model as data (layer specs, graph, shape inference).
//! - [`tensor`]: a graph compiled into tensors; forward, backward, optimisers.
//! - [`data`]: datasets as plain `f32` buffers and batches.
//! - [`train`]: the training session (a worker thread, commands in, events out) and weights files.
//! - [`memory`]: memory estimates and the limit past which a dataset or model is refused.
//! - [`files`]: reading user-named files (regular files only, messages naming the file).
//! - [`generate`]: sampling sequences from a trained model, with a temperature.
//! - [`templates`]: ready-made models, each with the bundled data it trains on.
//! - [`inspect`]: looking inside a model as plain data (activations, dead units, gradient norms,
//!   decision boundaries).

pub mod data;
pub mod explain;
pub mod files;
pub mod generate;
pub mod graph;
pub mod inspect;
pub mod memory;
pub mod templates;
pub mod tensor;
pub mod train;

/// Everything that can go wrong in the engine, with a message for the student.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The graph cannot be compiled: every problem, each tied to its node.
    #[error("the graph has {} problem(s):\n{}", .0.len(), problems_text(.0))]
    Graph(Vec<graph::Problem>),
    /// A training setting no run can use (a learning rate of 0, a batch size of 0, ...).
    #[error("{0}")]
    Settings(String),
    /// A batch does not fit the model.
    #[error("{0}")]
    Batch(String),
    /// Weights do not fit the model.
    #[error("{0}")]
    Weights(String),
    /// A dataset file could not be read, or a dataset setting cannot work.
    #[error("{0}")]
    Data(String),
    /// A file the user named is missing, is not a regular file, or is not text.
    #[error("{0}")]
    File(String),
    /// A dataset or model would need more memory than this machine lets it have.
    #[error("{0}")]
    TooLarge(String),
    /// The user stopped a long computation.
    #[error("cancelled")]
    Cancelled,
    /// A bug in Glassbox rather than in the input.
    #[error("internal error: {0}")]
    Internal(String),
}

/// The first few problems, a line each, and how many more there are: a message stays short
/// even for a graph with dozens of problems (the app lists them all, on their nodes).
fn problems_text(problems: &[graph::Problem]) -> String {
    const SHOWN: usize = 5;
    let mut lines: Vec<String> = problems.iter().take(SHOWN).map(ToString::to_string).collect();
    if problems.len() > SHOWN {
        lines.push(format!("and {} more", problems.len() - SHOWN));
    }
    lines.join("\n")
}
