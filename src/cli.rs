//! The command line: `glassbox train` and `glassbox eval` run headless, with the same engine
//! session the app uses.
//!
//! Bad input is one line on standard error and exit code 2; a run that goes wrong (a loss that
//! becomes NaN, training that diverges) is exit code 1 and saves nothing unless asked. Warnings
//! (keys the notebook has that Glassbox does not know) go to standard error and do not stop a run.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand};
use glassbox_engine::data::Splits;
use glassbox_engine::files::{self, brief};
use glassbox_engine::train::{
    temporary_beside, Command, Evaluation, Event, PauseReason, Session, StartRun, WeightsFile,
};

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
    Train(TrainArgs),
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

/// What `glassbox train` is asked to do.
#[derive(Debug, Default, clap::Args)]
pub struct TrainArgs {
    pub notebook: PathBuf,
    /// Which of the notebook's models (default: the first).
    #[arg(long)]
    pub model: Option<String>,
    /// Epochs to train (default: the notebook's setting).
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Train this many steps (batches) instead of whole epochs.
    #[arg(long, conflicts_with = "epochs")]
    pub steps: Option<usize>,
    /// Where to save the trained weights (a .safetensors file).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Replace the file given to --out even if it is not a weights file.
    #[arg(long, requires = "out")]
    pub overwrite: bool,
    /// Save the weights even if training diverged (the exit code is still 1).
    #[arg(long, requires = "out")]
    pub save_anyway: bool,
}

/// A failure of a command: bad input (exit code 2) or a run that went wrong (1).
#[derive(Debug)]
pub struct CliError {
    pub code: u8,
    /// One line.
    pub message: String,
}

impl CliError {
    fn new(code: u8, message: impl std::fmt::Display) -> Self {
        Self { code, message: format!("{message:#}").replace('\n', " ") }
    }
}

fn bad_input(e: impl std::fmt::Display) -> CliError {
    CliError::new(2, e)
}

/// `first`, ended as a sentence, then `then`.
fn and_then(first: &str, then: &str) -> String {
    let first = first.trim_end();
    if first.ends_with(['.', '!', '?']) {
        format!("{first} {then}")
    } else {
        format!("{first}. {then}")
    }
}

/// Runs a headless command, printing its results on standard output and its warnings on
/// standard error.
///
/// # Errors
/// Bad input (code 2) or a failed run (code 1).
pub fn run(command: Cmd) -> Result<(), CliError> {
    match command {
        Cmd::Train(args) => train(&args),
        Cmd::Eval { notebook, model, weights } => eval(&notebook, model.as_deref(), &weights),
    }
}

/// The notebook's chosen model and its dataset.
fn load(notebook: &Path, model: Option<&str>) -> Result<(ModelDef, Splits), CliError> {
    let (nb, warnings) = Notebook::load_with_warnings(notebook).map_err(bad_input)?;
    for warning in warnings {
        eprintln!("glassbox: warning: {}", warning.replace('\n', " "));
    }
    let def = nb.pick_model(model).map_err(bad_input)?.clone();
    let splits =
        nb.data.build().map_err(|e| bad_input(format!("{}: its dataset cannot be built: {e}", notebook.display())))?;
    Ok((def, splits))
}

/// Waits for the next event of the session (the trainer never goes silent for long while busy).
fn next_event(session: &Session) -> Result<Event, CliError> {
    session.wait(Duration::from_secs(600)).ok_or_else(|| CliError::new(1, "the trainer stopped answering"))
}

/// Starts a run and waits until it is ready; a graph that does not fit its data is bad input.
fn start(
    session: &mut Session,
    def: &ModelDef,
    splits: Splits,
    weights: Option<WeightsFile>,
) -> Result<usize, CliError> {
    let run = session.start(StartRun {
        graph: def.graph.clone(),
        data: splits,
        config: def.training,
        initial_weights: weights,
    });
    loop {
        match next_event(session)? {
            Event::Started { run: r, steps_per_epoch, .. } if r == run => return Ok(steps_per_epoch),
            Event::Failed { message, .. } => {
                return Err(bad_input(format!("model \"{}\": {message}", brief(&def.name))))
            }
            _ => {}
        }
    }
}

fn evaluate(session: &Session) -> Result<Evaluation, CliError> {
    session.send(Command::Evaluate);
    loop {
        match next_event(session)? {
            Event::Evaluated { evaluation, .. } => return Ok(evaluation),
            Event::Failed { message, .. } => return Err(CliError::new(1, message)),
            _ => {}
        }
    }
}

fn print_metrics(evaluation: &Evaluation, classes: &[String]) {
    if evaluation.samples == 0 {
        println!("no test split (the dataset's test share is 0): there are no test metrics");
        return;
    }
    println!("test loss: {:.4}", evaluation.loss);
    if !classes.is_empty() {
        println!("test accuracy: {:.4}", evaluation.accuracy);
    }
    print_confusion(evaluation, classes);
}

fn print_confusion(evaluation: &Evaluation, classes: &[String]) {
    if evaluation.confusion.is_empty() {
        return;
    }
    let width = classes.iter().map(|c| c.chars().count()).max().unwrap_or(1).clamp(5, 12);
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

/// Whether two paths name the same file (the second need not exist yet).
fn same_file(a: &Path, b: &Path) -> bool {
    let canonical = |p: &Path| {
        p.canonicalize().ok().or_else(|| {
            let parent = p.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
            Some(parent.canonicalize().ok()?.join(p.file_name()?))
        })
    };
    matches!((canonical(a), canonical(b)), (Some(x), Some(y)) if x == y)
}

/// Checks `--out` before any training: not the notebook, not a folder, not a file that is not
/// weights (unless `overwrite`), and in a folder where a file can be written.
fn check_out(out: &Path, notebook: &Path, overwrite: bool) -> Result<(), CliError> {
    let shown = out.display();
    if same_file(out, notebook) {
        return Err(bad_input(format!(
            "--out {shown} is the notebook itself: saving weights there would overwrite the notebook; give a .safetensors file, such as --out model.safetensors"
        )));
    }
    if out.is_dir() {
        return Err(bad_input(format!(
            "--out {shown} is a folder: give a file name in it, such as --out {}",
            out.join("model.safetensors").display()
        )));
    }
    if out.exists() {
        let is_weights =
            files::read_file(out, "--out").is_ok_and(|bytes| glassbox_engine::train::is_weights_file(&bytes));
        if !is_weights && !overwrite {
            return Err(bad_input(format!(
                "--out {shown} exists and is not a weights file: choose another name, or add --overwrite to replace it"
            )));
        }
    }
    // A save that fails after an hour of training loses the hour: try the folder now.
    let probe = temporary_beside(out);
    std::fs::write(&probe, b"")
        .map_err(|e| bad_input(format!("--out {shown} cannot be written ({e}): choose a folder you can write to")))?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// `glassbox train`.
///
/// # Errors
/// Bad input (code 2) or a failed run (code 1).
pub fn train(args: &TrainArgs) -> Result<(), CliError> {
    if let Some(out) = &args.out {
        check_out(out, &args.notebook, args.overwrite)?;
    }
    let (def, splits) = load(&args.notebook, args.model.as_deref())?;
    let classes = splits.test.classes.clone();
    let mut session = Session::spawn(Arc::new(|| {})).map_err(|e| CliError::new(1, e))?;
    let steps_per_epoch = start(&mut session, &def, splits, None)?;
    let epochs = args.epochs.unwrap_or(def.training.epochs).max(1);
    let total = args.steps.unwrap_or_else(|| epochs.saturating_mul(steps_per_epoch));
    let bar = indicatif::ProgressBar::new(total as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} steps  {msg}  [{elapsed} < {eta}]")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    session.send(match args.steps {
        Some(steps) => Command::RunSteps(steps),
        None => Command::Run { epochs, until_accuracy: None },
    });
    let mut last = None;
    let mut diverged = None;
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
                return Err(CliError::new(1, and_then(&message, "Nothing was saved.")));
            }
            Event::Paused { reason: PauseReason::Diverged { message, .. }, .. } => {
                bar.abandon();
                diverged = Some(message);
                break;
            }
            Event::Paused { .. } => break,
            _ => {}
        }
    }
    bar.finish_and_clear();
    if let Some(p) = last {
        let what = if args.steps.is_some() {
            format!("{} step(s)", p.step)
        } else {
            format!("{epochs} epoch(s), {} steps", p.step)
        };
        println!("trained {what}: last batch loss {:.4}, accuracy {:.4}", p.loss, p.accuracy);
    }
    let evaluation = evaluate(&session)?;
    print_metrics(&evaluation, &classes);
    let save = args.out.as_ref().filter(|_| diverged.is_none() || args.save_anyway);
    if let Some(out) = save {
        session.send(Command::SaveWeights(out.clone()));
        loop {
            match next_event(&session)? {
                Event::Saved { path, .. } => {
                    println!("weights saved to {}", path.display());
                    break;
                }
                Event::Failed { message, .. } | Event::Refused { message, .. } => {
                    return Err(CliError::new(1, message))
                }
                _ => {}
            }
        }
    }
    match diverged {
        Some(message) => {
            let saved = match (&args.out, save) {
                (Some(_), Some(_)) => "The weights were saved, as asked (--save-anyway).",
                (Some(_), None) => "Nothing was saved (add --save-anyway to keep the weights).",
                _ => "The run stopped there.",
            };
            Err(CliError::new(1, and_then(&message, saved)))
        }
        None => Ok(()),
    }
}

/// `glassbox eval`.
///
/// # Errors
/// Bad input (code 2): a missing or malformed notebook or weights file, or weights that do not fit.
pub fn eval(notebook: &Path, model: Option<&str>, weights: &Path) -> Result<(), CliError> {
    let bytes = files::read_file(weights, "the weights file").map_err(bad_input)?;
    let (def, splits) = load(notebook, model)?;
    let classes = splits.test.classes.clone();
    let mut session = Session::spawn(Arc::new(|| {})).map_err(|e| CliError::new(1, e))?;
    let file = WeightsFile { source: weights.display().to_string(), bytes };
    start(&mut session, &def, splits, Some(file))?;
    let evaluation = evaluate(&session)?;
    print_metrics(&evaluation, &classes);
    Ok(())
}
