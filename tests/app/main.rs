//! The app's integration tests, as one test binary (each binary links the whole app, eframe and
//! the engine, so one binary with modules builds much faster than one binary per file).

mod architecture;
mod cli;
mod editor;
mod hostile_notebooks;
mod ui;
