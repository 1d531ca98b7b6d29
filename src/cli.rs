//! The command line: `glassbox train` and `glassbox eval` run headless, with the same engine
//! session the app uses.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand};
use glassbox_engine::data::Splits;
use glassbox_engine::train::{Command, Evaluation, Event, PauseReason, Session, StartRun};

use crate::notebook::{ModelDef, Notebook};

/// Glassbox: build neural networks from layers, train them, and look inside them.
#[derive(Debug, Parser)]
#[command(name = "glassbox", version, args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Cmd>,
    /// A notebook to open in the app (default: the two-spirals example).
    pub notebook: Option<PathBuf>,
}

/// Headless commands.
#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Trains a notebook's model on its dataset, with a progress bar, and prints the final metrics.
    Train {
        notebook: PathBuf,
        /// Which of the notebook's models (default: the first).
        #[arg(long)]
        model: Option<String>,
        /// Epochs to train (default: the notebook's setting).
        #[arg(long)]
        epochs: Option<usize>,
        /// Where to save the trained weights (safetensors).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Prints test metrics and the confusion matrix of a notebook's model with saved weights.
    Eval {
        notebook: PathBuf,
        /// Which of the notebook's models (default: the first).
        #[arg(long)]
        model: Option<String>,
        #[arg(long)]
        weights: PathBuf,
    },
}

/// A failure of a command: bad input (exit code 2) or a run that went wrong (1).
#[derive(Debug)]
pub struct CliError {
    pub code: u8,
    pub message: String,
}

fn bad_input(e: impl std::fmt::Display) -> CliError {
    CliError { code: 2, message: format!("{e:#}").replace('\n', " ") }
}

/// The notebook's chosen model and its dataset.
fn load(notebook: &Path, model: Option<&str>) -> Result<(ModelDef, Splits), CliError> {
    let nb = Notebook::load(notebook).map_err(bad_input)?;
    let def = nb.pick_model(model).map_err(bad_input)?.clone();
    let splits = nb.data.build().map_err(bad_input)?;
    Ok((def, splits))
}

/// Waits for the next event of the session (the trainer never goes silent for long while busy).
fn next_event(session: &Session) -> Result<Event, CliError> {
    session
        .wait(Duration::from_secs(600))
        .ok_or_else(|| CliError { code: 1, message: "the trainer stopped answering".into() })
}

/// Starts a run and waits until it is ready; a graph that does not fit its data is bad input.
fn start(session: &mut Session, def: &ModelDef, splits: Splits, weights: Option<Vec<u8>>) -> Result<usize, CliError> {
    let run = session.start(StartRun {
        graph: def.graph.clone(),
        data: splits,
        config: def.training,
        initial_weights: weights,
    });
    loop {
        match next_event(session)? {
            Event::Started { run: r, steps_per_epoch, .. } if r == run => return Ok(steps_per_epoch),
            Event::Failed { message, .. } => return Err(bad_input(message)),
            _ => {}
        }
    }
}

fn evaluate(session: &Session) -> Result<Evaluation, CliError> {
    session.send(Command::Evaluate);
    loop {
        match next_event(session)? {
            Event::Evaluated { evaluation, .. } => return Ok(evaluation),
            Event::Failed { message, .. } => return Err(CliError { code: 1, message }),
            _ => {}
        }
    }
}

fn print_confusion(evaluation: &Evaluation, classes: &[String]) {
    if evaluation.confusion.is_empty() {
        return;
    }
    let width = classes.iter().map(String::len).max().unwrap_or(1).clamp(5, 12);
    println!("confusion matrix (rows: true class, columns: predicted):");
    print!("{:>width$} ", "");
    for c in classes {
        print!("{:>width$} ", c.chars().take(width).collect::<String>());
    }
    println!();
    for (c, row) in classes.iter().zip(&evaluation.confusion) {
        print!("{:>width$} ", c.chars().take(width).collect::<String>());
        for n in row {
            print!("{n:>width$} ");
        }
        println!();
    }
}

/// `glassbox train`.
///
/// # Errors
/// Bad input (code 2) or a failed run (code 1).
pub fn train(notebook: &Path, model: Option<&str>, epochs: Option<usize>, out: Option<&Path>) -> Result<(), CliError> {
    let (nb, splits) = load(notebook, model)?;
    let classes = splits.test.classes.clone();
    let epochs = epochs.unwrap_or(nb.training.epochs).max(1);
    let mut session = Session::spawn(Arc::new(|| {})).map_err(|e| CliError { code: 1, message: e.to_string() })?;
    let steps_per_epoch = start(&mut session, &nb, splits, None)?;
    let bar = indicatif::ProgressBar::new((epochs * steps_per_epoch) as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} steps  {msg}  [{elapsed} < {eta}]")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    session.send(Command::Run { epochs, until_accuracy: None });
    let mut last = None;
    loop {
        match next_event(&session)? {
            Event::Progress { progress, .. } => {
                bar.set_position(progress.step as u64);
                bar.set_message(format!(
                    "epoch {:.2}  loss {:.4}  accuracy {:.3}  {:.0} samples/s",
                    progress.epoch, progress.loss, progress.accuracy, progress.samples_per_sec
                ));
                last = Some(progress);
            }
            Event::Paused { reason: PauseReason::NonFinite { message, .. }, .. } | Event::Failed { message, .. } => {
                bar.abandon();
                return Err(CliError { code: 1, message });
            }
            Event::Paused { .. } => break,
            _ => {}
        }
    }
    bar.finish_and_clear();
    if let Some(p) = last {
        println!(
            "trained {epochs} epoch(s), {} steps: last batch loss {:.4}, accuracy {:.4}",
            p.step, p.loss, p.accuracy
        );
    }
    let evaluation = evaluate(&session)?;
    println!("test loss: {:.4}", evaluation.loss);
    println!("test accuracy: {:.4}", evaluation.accuracy);
    print_confusion(&evaluation, &classes);
    if let Some(out) = out {
        session.send(Command::SaveWeights(out.to_path_buf()));
        loop {
            match next_event(&session)? {
                Event::Saved { path, .. } => {
                    println!("weights saved to {}", path.display());
                    break;
                }
                Event::Failed { message, .. } | Event::Refused { message, .. } => {
                    return Err(CliError { code: 1, message })
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// `glassbox eval`.
///
/// # Errors
/// Bad input (code 2): a missing or malformed notebook or weights file, or weights that do not fit.
pub fn eval(notebook: &Path, model: Option<&str>, weights: &Path) -> Result<(), CliError> {
    let (nb, splits) = load(notebook, model)?;
    let classes = splits.test.classes.clone();
    let bytes = std::fs::read(weights).map_err(|e| bad_input(format!("cannot read {}: {e}", weights.display())))?;
    let mut session = Session::spawn(Arc::new(|| {})).map_err(|e| CliError { code: 1, message: e.to_string() })?;
    start(&mut session, &nb, splits, Some(bytes))?;
    let evaluation = evaluate(&session)?;
    println!("test loss: {:.4}", evaluation.loss);
    println!("test accuracy: {:.4}", evaluation.accuracy);
    print_confusion(&evaluation, &classes);
    Ok(())
}
