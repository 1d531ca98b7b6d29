//! The engine's integration tests, as one test binary (each binary links the whole engine and
//! dfdx, so one binary with modules builds much faster than one binary per file).

mod bundled_anywhere;
mod common;
mod datasets;
mod edit;
mod explain;
mod fit;
mod forward;
mod gradients;
mod hostile;
mod import;
mod random_graphs;
mod sequences;
mod session;
mod shapes;
mod templates;
mod timeline;
mod training;
