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
use glassbox_engine::explain::{Baseline, Method, Reference, Scorer as _, Settings};
use glassbox_engine::files::{self, brief};
use glassbox_engine::train::{
    weights_file_limit, Command, Evaluation, Event, PauseReason, Session, StartRun, WeightsFile,
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
    /// Writes every node's output for one test sample to a safetensors file, each tensor named by
    /// its node id, so the numbers can be checked or plotted outside the app.
    Inspect(InspectArgs),
    /// Explains one test sample's prediction with an attribution method and writes the map: as a
    /// tensor named `attribution` (.safetensors), drawn over the input (.png), or as a figure
    /// with its title and colour bar for any input (.svg).
    Explain(ExplainArgs),
    /// Exports a notebook's model as a self-contained PyTorch script (--pytorch OUT.py), with its
    /// weights (OUT.safetensors) and its dataset (a folder of raw train and test splits) beside
    /// it.
    Export(ExportArgs),
    /// Writes a new notebook from one of the model templates (its data, model and standard
    /// cells); --list names them.
    New {
        /// The notebook file to write.
        #[arg(required_unless_present = "list")]
        out: Option<PathBuf>,
        /// The template's name, as --list prints it.
        #[arg(long, required_unless_present = "list")]
        template: Option<String>,
        /// Prints the templates' names, one a line.
        #[arg(long)]
        list: bool,
    },
}

/// What `glassbox export` writes.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    pub notebook: PathBuf,
    /// Which of the notebook's models (default: the first).
    #[arg(long)]
    pub model: Option<String>,
    /// The weights to export (default: the ones saved beside the notebook, else the model's
    /// starting weights from its seed).
    #[arg(long)]
    pub weights: Option<PathBuf>,
    /// The Python file to write (the model, with its weights and data beside it).
    #[arg(long, required_unless_present_any = ["html", "figures"])]
    pub pytorch: Option<PathBuf>,
    /// The handout to write: the whole notebook as one HTML page, every cell's figure inline
    /// (every model, with the weights saved beside the notebook).
    #[arg(long)]
    pub html: Option<PathBuf>,
    /// A folder to write every cell's figure into, as PNG and SVG.
    #[arg(long)]
    pub figures: Option<PathBuf>,
    /// For --html and --figures: train every model as the notebook says first (its curves then
    /// show in the handout).
    #[arg(long)]
    pub train: bool,
    /// For --html and --figures: the test sample the sample, activation and attribution views show.
    #[arg(long, default_value_t = 0)]
    pub sample: usize,
    /// For --figures: the size, "slide" (1920x1080) or "print" (A4 at 300 dpi, 3508x2480).
    #[arg(long, default_value = "slide", value_parser = size_arg)]
    pub size: crate::figures::FigureSize,
}

fn size_arg(text: &str) -> Result<crate::figures::FigureSize, String> {
    match text {
        "slide" => Ok(crate::figures::SLIDE),
        "print" => Ok(crate::figures::PRINT),
        _ => Err(format!("\"{text}\" is not a size: use slide (1920x1080) or print (3508x2480)")),
    }
}

/// What `glassbox explain` is asked to do. Unset options take the app's defaults.
#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    pub notebook: PathBuf,
    /// Which of the notebook's models (default: the first).
    #[arg(long)]
    pub model: Option<String>,
    /// The trained weights (a .safetensors file saved by Glassbox).
    #[arg(long)]
    pub weights: PathBuf,
    /// Which test sample, counting from 0.
    #[arg(long)]
    pub sample: usize,
    /// saliency, gradxinput, smoothgrad, ig, gradcam, gradcam++, occlusion, lime or shap.
    #[arg(long, value_parser = method_arg)]
    pub method: Method,
    /// The class to explain (default: the predicted one).
    #[arg(long)]
    pub target: Option<usize>,
    /// Integrated Gradients: points along the path (default 32).
    #[arg(long)]
    pub steps: Option<usize>,
    /// SmoothGrad: noisy copies (default 25); LIME and Kernel SHAP: covered copies (default 1000).
    #[arg(long)]
    pub samples: Option<usize>,
    /// What "nothing" is: black, blur, noise or mean (default black; mean for tables).
    #[arg(long, value_parser = baseline_arg)]
    pub baseline: Option<Baseline>,
    /// Grad-CAM: the node whose maps are weighed (default: the last convolution).
    #[arg(long)]
    pub layer: Option<String>,
    /// Occlusion: the patch's side (default 4 pixels; 1 token or feature).
    #[arg(long)]
    pub patch: Option<usize>,
    /// Occlusion: the patch's step (default 2 pixels; 1 token or feature).
    #[arg(long)]
    pub stride: Option<usize>,
    /// Seed of the sampling methods (SmoothGrad, LIME, Kernel SHAP, the noise baseline).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Where to write: FILE.safetensors (the raw map), FILE.png (an image's map over it) or
    /// FILE.svg (a figure with a title and a colour bar: the map over an image, bars for a text's
    /// tokens or a table's features).
    #[arg(long)]
    pub out: PathBuf,
    /// Replace the file given to --out even if it is not a safetensors file.
    #[arg(long)]
    pub overwrite: bool,
}

fn method_arg(text: &str) -> Result<Method, String> {
    text.parse()
}

fn baseline_arg(text: &str) -> Result<Baseline, String> {
    text.parse()
}

/// What `glassbox inspect` is asked to do.
#[derive(Debug, clap::Args)]
pub struct InspectArgs {
    pub notebook: PathBuf,
    /// Which of the notebook's models (default: the first).
    #[arg(long)]
    pub model: Option<String>,
    /// The trained weights (a .safetensors file saved by Glassbox).
    #[arg(long)]
    pub weights: PathBuf,
    /// Which test sample, counting from 0.
    #[arg(long)]
    pub sample: usize,
    /// Where to write the outputs (a .safetensors file).
    #[arg(long)]
    pub out: PathBuf,
    /// Replace the file given to --out even if it is not a safetensors file.
    #[arg(long)]
    pub overwrite: bool,
}

/// What `glassbox train` is asked to do.
#[derive(Debug, Default, clap::Args)]
pub struct TrainArgs {
    pub notebook: PathBuf,
    /// Which of the notebook's models (default: the first).
    #[arg(long)]
    pub model: Option<String>,
    /// Epochs to train (default: the notebook's setting), 1 to 1,000,000.
    #[arg(long, value_parser = epochs_arg)]
    pub epochs: Option<usize>,
    /// Train this many steps (batches) instead of whole epochs, 1 to 1,000,000,000.
    #[arg(long, conflicts_with = "epochs", value_parser = steps_arg)]
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

/// The most steps `--steps` takes: more is a typo (or a run of days), not a plan.
const MAX_STEPS: usize = 1_000_000_000;

fn count_arg(text: &str, most: usize) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(n) if (1..=most).contains(&n) => Ok(n),
        _ => Err(format!("use a whole number from 1 to {most}")),
    }
}

fn epochs_arg(text: &str) -> Result<usize, String> {
    count_arg(text, glassbox_engine::train::MAX_EPOCHS)
}

fn steps_arg(text: &str) -> Result<usize, String> {
    count_arg(text, MAX_STEPS)
}

/// A command-line mistake as one line: clap's message without its usage block.
#[must_use]
pub fn usage_error(e: &clap::Error) -> String {
    let text = e.to_string();
    let message: Vec<&str> =
        text.lines().take_while(|l| !l.trim().is_empty() && !l.starts_with("Usage:")).map(str::trim).collect();
    let message = message.join(" ");
    format!("{} (glassbox --help lists the commands and their options)", message.trim_start_matches("error: "))
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
        // One line, and nothing in it that acts on the terminal (user text can hold escapes).
        Self { code, message: files::printable(&format!("{message:#}").replace('\n', " ")) }
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
    glassbox_engine::memory::limit_from_env().map_err(bad_input)?;
    match command {
        Cmd::Train(args) => train(&args),
        Cmd::Eval { notebook, model, weights } => eval(&notebook, model.as_deref(), &weights),
        Cmd::Inspect(args) => inspect(&args),
        Cmd::Explain(args) => explain(&args),
        Cmd::Export(args) => export(&args),
        Cmd::New { out, template, list } => new_notebook(out.as_deref(), template.as_deref(), list),
    }
}

/// `glassbox new OUT.json --template NAME`, or `--list`.
fn new_notebook(out: Option<&Path>, template: Option<&str>, list: bool) -> Result<(), CliError> {
    let templates = glassbox_engine::templates::templates();
    if list {
        for t in &templates {
            println!("{}", t.name);
        }
        return Ok(());
    }
    let (Some(out), Some(name)) = (out, template) else {
        return Err(bad_input("give the notebook to write and --template NAME (or --list)"));
    };
    let names: Vec<&str> = templates.iter().map(|t| t.name).collect();
    let chosen = templates.iter().position(|t| t.name.eq_ignore_ascii_case(name)).ok_or_else(|| {
        bad_input(format!("there is no template \"{name}\"; the templates are: {}", names.join(", ")))
    })?;
    let template = templates.into_iter().nth(chosen).ok_or_else(|| bad_input("no such template"))?;
    if out.exists() {
        return Err(bad_input(format!("{} exists: give a new file name", files::brief_path(out))));
    }
    let title = template.name;
    Notebook::from_template(template)
        .save(out)
        .map_err(|e| CliError::new(1, format!("cannot write {}: {e:#}", files::brief_path(out))))?;
    println!("{} written: the template \"{title}\"", files::brief_path(out));
    Ok(())
}

/// `glassbox export --pytorch OUT.py`: the script, the weights beside it as OUT.safetensors and
/// the dataset as `OUT_data/{train,test}.safetensors` (`x`: raw inputs `[samples, ...shape]`, `y`:
/// class ids as floats or target values; the test file also holds `glassbox_outputs`, what
/// Glassbox computes for it with these weights, to check the export by).
///
/// # Errors
/// Bad input (code 2): a notebook, model, weights file or output path that cannot be used; code 1
/// when a file cannot be written.
pub fn export(args: &ExportArgs) -> Result<(), CliError> {
    if args.html.is_some() || args.figures.is_some() {
        handout(args)?;
    }
    match &args.pytorch {
        Some(pytorch) => export_pytorch(args, pytorch),
        None => Ok(()),
    }
}

/// `glassbox export --html` and `--figures`: every model's record (trained first with --train),
/// then the handout page and every cell's figure files.
fn handout(args: &ExportArgs) -> Result<(), CliError> {
    let check_ext = |path: &Path, ext: &str, what: &str| {
        if path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() == Some(ext) {
            Ok(())
        } else {
            Err(bad_input(format!("{}: give {what}", files::brief_path(path))))
        }
    };
    if let Some(html) = &args.html {
        check_ext(html, "html", "an .html file name, such as --html handout.html")?;
    }
    let (nb, warnings) = Notebook::load_with_warnings(&args.notebook).map_err(bad_input)?;
    for warning in warnings {
        eprintln!("glassbox: warning: {}", files::printable(&warning.replace('\n', " ")));
    }
    let splits = nb
        .data
        .build()
        .map_err(|e| bad_input(format!("{}: its dataset cannot be built: {e}", files::brief_path(&args.notebook))))?;
    if !splits.test.is_empty() && args.sample >= splits.test.len() {
        return Err(bad_input(format!(
            "--sample {}: the test split has {} samples, 0 to {}",
            args.sample,
            splits.test.len(),
            splits.test.len() - 1
        )));
    }
    let records =
        crate::handout::records_for(&args.notebook, &nb, &splits, args.train, args.sample).map_err(bad_input)?;
    let sources = crate::figures::Sources {
        notebook: &nb,
        splits: Some(&splits),
        records: records.iter().map(|(k, v)| (k.as_str(), v)).collect(),
        class_colours: crate::figures::cells::class_colours(&splits.train.classes),
    };
    let write = |path: &Path, bytes: &[u8]| {
        files::write_atomically(path, bytes)
            .map_err(|e| CliError::new(1, format!("cannot write {}: {e}", files::brief_path(path))))
    };
    if let Some(html) = &args.html {
        write(html, crate::handout::handout_html(&sources).as_bytes())?;
        println!("{} written: the handout of \"{}\" ({} cells)", files::brief_path(html), nb.title, nb.cells.len());
    }
    if let Some(dir) = &args.figures {
        std::fs::create_dir_all(dir)
            .map_err(|e| CliError::new(1, format!("cannot make {}: {e}", files::brief_path(dir))))?;
        let mut written = 0;
        for (i, cell) in nb.cells.iter().enumerate() {
            if matches!(cell.kind, crate::notebook::CellKind::Markdown { .. }) {
                continue;
            }
            match crate::figures::cell_figure(&sources, i) {
                Ok(figure) => {
                    let stem = crate::figures::file_stem(i, &cell.kind);
                    for ext in ["png", "svg"] {
                        figure.save(&dir.join(format!("{stem}.{ext}")), args.size).map_err(|e| CliError::new(1, e))?;
                    }
                    written += 1;
                }
                Err(why) => println!("cell {} ({}): no figure: {why}", i + 1, cell.kind.title()),
            }
        }
        println!("{written} figures written to {} (PNG and SVG, {})", files::brief_path(dir), args.size.name);
    }
    Ok(())
}

fn export_pytorch(args: &ExportArgs, pytorch: &Path) -> Result<(), CliError> {
    if pytorch.extension().and_then(|e| e.to_str()) != Some("py") {
        return Err(bad_input(format!(
            "--pytorch {}: give a Python file name, such as --pytorch model.py",
            files::brief_path(pytorch)
        )));
    }
    let stem = pytorch
        .file_stem()
        .and_then(|s| s.to_str())
        .filter(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        .ok_or_else(|| {
            bad_input("--pytorch: name the file with letters, digits, - and _ (it becomes a Python module)")
        })?
        .to_owned();
    let (nb, warnings) = Notebook::load_with_warnings(&args.notebook).map_err(bad_input)?;
    for warning in warnings {
        eprintln!("glassbox: warning: {}", files::printable(&warning.replace('\n', " ")));
    }
    let def = nb.pick_model(args.model.as_deref()).map_err(bad_input)?.clone();
    let saved = crate::notebook::weights_path(&args.notebook, &def.name);
    let weights = args.weights.clone().or_else(|| saved.is_file().then_some(saved));
    let weights = match &weights {
        Some(path) => {
            let limit = weights_file_limit(glassbox_engine::graph::infer_shapes(&def.graph).total_params());
            let bytes = files::read_file_at_most(path, "the weights file", limit).map_err(bad_input)?;
            Some(WeightsFile { source: files::brief_path(path), bytes })
        }
        None => None,
    };
    let message = crate::export::write_pytorch(&nb, &def, weights.as_ref(), pytorch, &stem).map_err(|e| match e {
        crate::export::ExportError::Input(m) => bad_input(m),
        crate::export::ExportError::Write(m) => CliError::new(1, m),
    })?;
    println!("{message}");
    Ok(())
}

/// `glassbox inspect`: every node's output for one test sample, written as safetensors.
///
/// # Errors
/// Bad input (code 2): a notebook, weights file, sample number or output path that cannot be used.
pub fn inspect(args: &InspectArgs) -> Result<(), CliError> {
    let loaded = load(&args.notebook, args.model.as_deref())?;
    test_sample(&loaded, &args.notebook, args.sample)?;
    let out = check_out(&args.out, &args.notebook, args.overwrite)?;
    let mut model = model_with_weights(&loaded, &args.weights)?;
    let test = &loaded.splits.test;
    let outputs =
        glassbox_engine::inspect::activations(&mut model, test.sample(args.sample)).map_err(|e| CliError::new(1, e))?;
    let written = glassbox_engine::inspect::tensors_to_bytes(&outputs).map_err(|e| CliError::new(1, e))?;
    files::write_atomically(&out, &written)
        .map_err(|e| CliError::new(1, format!("cannot write {}: {e}", files::brief_path(&out))))?;
    println!(
        "wrote {} tensors (every node's output, and attention maps and recurrent states where the model has them) for test sample {} to {}",
        outputs.len(),
        args.sample,
        files::brief_path(&out)
    );
    for o in &outputs {
        println!("  {}: {}", brief(&o.id), glassbox_engine::graph::shape_text(&o.shape));
    }
    Ok(())
}

/// A test sample that exists, or why not.
fn test_sample(loaded: &Loaded, notebook: &Path, sample: usize) -> Result<(), CliError> {
    let test = &loaded.splits.test;
    if test.is_empty() {
        return Err(bad_input(format!(
            "{}: there is no test sample: {}",
            files::brief_path(notebook),
            no_test_reason(loaded.test_share, !test.classes.is_empty())
        )));
    }
    if sample >= test.len() {
        return Err(bad_input(format!(
            "--sample {sample} is past the test split, which has {} samples: use 0 to {}",
            test.len(),
            test.len() - 1
        )));
    }
    Ok(())
}

/// The notebook's model with the given weights.
fn model_with_weights(loaded: &Loaded, weights: &Path) -> Result<glassbox_engine::tensor::Model, CliError> {
    let mut model =
        glassbox_engine::tensor::Model::new(&loaded.def.graph, loaded.def.training.seed).map_err(bad_input)?;
    let bytes = files::read_file_at_most(weights, "the weights file", weights_file_limit(model.param_count()))
        .map_err(bad_input)?;
    glassbox_engine::train::load_weights_bytes(&mut model, &bytes, &files::brief_path(weights), false)
        .map_err(bad_input)?;
    Ok(model)
}

/// `glassbox explain`: one attribution method on one test sample, written as a tensor or a PNG.
///
/// # Errors
/// Bad input (code 2): a notebook, weights file, sample, setting or output path that cannot be
/// used; code 1 when the method fails.
pub fn explain(args: &ExplainArgs) -> Result<(), CliError> {
    let format = args.out.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    if !matches!(format.as_deref(), Some("png" | "svg" | "safetensors")) {
        return Err(bad_input(format!(
            "--out {}: write a .safetensors file (the raw map), a .png file (an image's map drawn over it) or an \
             .svg figure (any input)",
            files::brief_path(&args.out)
        )));
    }
    let loaded = load(&args.notebook, args.model.as_deref())?;
    test_sample(&loaded, &args.notebook, args.sample)?;
    let out = check_out(&args.out, &args.notebook, args.overwrite)?;
    let mut model = model_with_weights(&loaded, &args.weights)?;
    let kind = model.input_kind();
    let defaults = Settings::for_input(args.method, &kind);
    let settings = Settings {
        target: args.target,
        steps: args.steps.unwrap_or(defaults.steps),
        samples: args.samples.unwrap_or(defaults.samples),
        baseline: args.baseline.unwrap_or(defaults.baseline),
        layer: args.layer.clone(),
        patch: args.patch.unwrap_or(defaults.patch),
        stride: args.stride.unwrap_or(defaults.stride),
        seed: args.seed,
        ..defaults
    };
    let input = loaded.splits.test.sample(args.sample);
    let reference = Reference::of(&loaded.splits.train);
    let bar = indicatif::ProgressBar::new(1000);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg} {bar:30} {percent}%")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.set_message(args.method.title());
    let result = glassbox_engine::explain::explain(&mut model, input, &settings, &reference, &mut |done| {
        bar.set_position((done * 1000.0) as u64);
        true
    });
    bar.finish_and_clear();
    let attribution = result.map_err(|e| match e {
        glassbox_engine::EngineError::Settings(_) | glassbox_engine::EngineError::Batch(_) => bad_input(e),
        other => CliError::new(1, other),
    })?;
    let classes = &loaded.splits.test.classes;
    let class = |c: usize| match classes.get(c) {
        Some(name) if *name != c.to_string() => format!("{c} ({})", brief(name)),
        _ => c.to_string(),
    };
    let bytes = if format.as_deref() == Some("png") {
        crate::figures::attribution_png(&attribution, input, 10).map_err(bad_input)?
    } else if format.as_deref() == Some("svg") {
        let test = &loaded.splits.test;
        let names = match (&test.vocab, model.input_kind()) {
            (Some(vocab), glassbox_engine::explain::InputKind::Tokens { .. }) => input
                .iter()
                .map(|&id| vocab.tokens().get(id as usize).cloned().unwrap_or_else(|| format!("#{id}")))
                .collect(),
            _ => test.features.clone(),
        };
        let mut subtitle = format!(
            "class {} explained; the model says {} (score {:.3})",
            class(attribution.target),
            class(attribution.predicted),
            attribution.score
        );
        if let Some(c) = attribution.completeness {
            subtitle.push_str(&format!("; shares add up to {:.3} for a change of {:.3}", c.sum, c.change));
        }
        let text = crate::figures::FigureText {
            title: format!("{} of test sample {}", args.method.title(), args.sample),
            subtitle,
            names,
        };
        crate::figures::attribution_svg(&attribution, input, &text).map_err(|e| CliError::new(1, e))?.into_bytes()
    } else {
        let tensor = glassbox_engine::tensor::NodeOutput {
            id: "attribution".to_owned(),
            shape: attribution.shape.clone(),
            values: attribution.values.clone(),
        };
        glassbox_engine::inspect::tensors_to_bytes(&[tensor]).map_err(|e| CliError::new(1, e))?
    };
    files::write_atomically(&out, &bytes)
        .map_err(|e| CliError::new(1, format!("cannot write {}: {e}", files::brief_path(&out))))?;
    println!(
        "{} of class {} for test sample {} (the model says {}; score {:.4}) written to {} as {}",
        args.method.title(),
        class(attribution.target),
        args.sample,
        class(attribution.predicted),
        attribution.score,
        files::brief_path(&out),
        glassbox_engine::graph::shape_text(&attribution.shape)
    );
    if let Some(c) = attribution.completeness {
        println!(
            "the attributions add up to {:.4}; the score changes by {:.4} from the baseline (a gap of {:.2}%)",
            c.sum,
            c.change,
            100.0 * c.relative_gap()
        );
    }
    Ok(())
}

/// A notebook's chosen model, its dataset, and the dataset's test share.
struct Loaded {
    def: ModelDef,
    splits: Splits,
    test_share: f32,
}

/// The notebook's chosen model and its dataset.
fn load(notebook: &Path, model: Option<&str>) -> Result<Loaded, CliError> {
    let (nb, warnings) = Notebook::load_with_warnings(notebook).map_err(bad_input)?;
    for warning in warnings {
        eprintln!("glassbox: warning: {}", files::printable(&warning.replace('\n', " ")));
    }
    let def = nb.pick_model(model).map_err(bad_input)?.clone();
    let splits = nb
        .data
        .build()
        .map_err(|e| bad_input(format!("{}: its dataset cannot be built: {e}", files::brief_path(notebook))))?;
    Ok(Loaded { def, splits, test_share: nb.data.pipeline.test_fraction })
}

/// Why a dataset has no test samples.
fn no_test_reason(test_share: f32, classification: bool) -> String {
    if test_share > 0.0 && !classification {
        format!("the test split is empty: a test share of {test_share} of so few samples rounds to none; add samples, or raise the test share (data.pipeline.test_fraction)")
    } else if test_share > 0.0 {
        format!("the test split is empty: with a test share of {test_share}, each class has too few samples to set one aside; add samples, or raise the test share (data.pipeline.test_fraction)")
    } else {
        "there is no test split (the dataset's test share is 0); set data.pipeline.test_fraction, such as 0.2, to measure how well the model does on data it has not seen".to_owned()
    }
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
        keep_matching_weights: false,
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

fn print_metrics(evaluation: &Evaluation, classes: &[String], test_share: f32) {
    if evaluation.samples == 0 {
        println!("no test metrics: {}", no_test_reason(test_share, !classes.is_empty()));
        return;
    }
    println!("test loss: {:.4}", evaluation.loss + 0.0);
    if !classes.is_empty() {
        println!("test accuracy: {:.4}", evaluation.accuracy);
    }
    print_confusion(evaluation, classes);
}

fn print_confusion(evaluation: &Evaluation, classes: &[String]) {
    if evaluation.confusion.is_empty() {
        return;
    }
    const WIDEST: usize = 12;
    // Names as they print: no control characters (a newline would break the table).
    let names: Vec<String> =
        classes.iter().map(|c| c.chars().map(|ch| if ch.is_control() { '?' } else { ch }).collect()).collect();
    let cut: Vec<String> = names.iter().map(|n| n.chars().take(WIDEST).collect()).collect();
    let distinct: std::collections::BTreeSet<&String> = cut.iter().collect();
    // Long or clashing names would be ambiguous when cut: number the classes and list them.
    let numbered = distinct.len() < cut.len() || names.iter().any(|n| n.chars().count() > WIDEST);
    let headers: Vec<String> = if numbered { (0..names.len()).map(|i| i.to_string()).collect() } else { cut };
    // Outputs beyond the data's classes (a last layer wider than needed) get columns of their own.
    let scored = evaluation.confusion.first().map_or(0, Vec::len);
    let columns: Vec<String> =
        headers.iter().cloned().chain((headers.len()..scored).map(|i| format!("out {i}"))).collect();
    let widest_count = evaluation.confusion.iter().flatten().max().map_or(1, |n| n.to_string().len());
    let width = columns.iter().map(|h| h.chars().count()).max().unwrap_or(1).max(widest_count).max(5);
    println!("confusion matrix (rows: true class, columns: predicted):");
    if numbered {
        let legend: Vec<String> = names.iter().enumerate().map(|(i, n)| format!("{i} = {}", brief(n))).collect();
        println!("classes: {}", legend.join(", "));
    }
    if scored > headers.len() {
        println!(
            "the model scores {scored} outputs but the data has {} classes: predictions of outputs {} to {} are wrong by definition",
            headers.len(),
            headers.len(),
            scored - 1
        );
    }
    print!("{:>width$} ", "");
    for h in &columns {
        print!("{h:>width$} ");
    }
    println!();
    for (h, row) in headers.iter().zip(&evaluation.confusion) {
        print!("{h:>width$} ");
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

/// Where to save at the end of a run: `out`, unless something that must not be replaced took
/// its place during training (then a new name beside it, and why).
#[must_use]
pub fn save_target(out: &Path, overwrite: bool) -> (PathBuf, Option<String>) {
    let shown = files::brief_path(out);
    let why = if out.exists() && !out.is_file() {
        Some(format!("--out {shown} became something other than a file during training"))
    } else if out.is_file() && !overwrite && !glassbox_engine::train::looks_like_weights_file(out) {
        Some(format!("--out {shown} appeared during training and is not a weights file"))
    } else {
        None
    };
    match why {
        Some(why) => (files::unique_beside(out, "safetensors"), Some(why)),
        None => (out.to_path_buf(), None),
    }
}

/// Saves the run's weights to `path`; if that fails (the folder went away during training), to
/// the system's temporary folder instead, so the training is not lost. Returns what happened
/// when the weights did not go where they were asked to.
fn save_weights(session: &Session, path: &Path) -> Result<Option<String>, CliError> {
    let mut target = path.to_path_buf();
    let mut failure: Option<String> = None;
    loop {
        session.send(Command::SaveWeights(target.clone()));
        let outcome = loop {
            match next_event(session)? {
                Event::Saved { path, .. } => break Ok(path),
                Event::Failed { message, .. } | Event::Refused { message, .. } => break Err(message),
                _ => {}
            }
        };
        match (outcome, &failure) {
            (Ok(saved), None) => {
                println!("weights saved to {}", files::brief_path(&saved));
                return Ok(None);
            }
            (Ok(saved), Some(why)) => {
                return Ok(Some(format!("{why}; the weights were saved to {} instead", files::brief_path(&saved))));
            }
            (Err(message), None) => {
                failure = Some(message);
                target = std::env::temp_dir().join(format!("glassbox-weights-{}.safetensors", std::process::id()));
            }
            (Err(message), Some(why)) => {
                return Err(CliError::new(
                    1,
                    format!("{why}; saving to {} failed too: {message}", files::brief_path(&target)),
                ))
            }
        }
    }
}

/// The file a chain of symbolic links ends at (it need not exist yet); `None` for a loop.
fn follow_links(path: &Path) -> Option<PathBuf> {
    let mut path = path.to_path_buf();
    for _ in 0..40 {
        match std::fs::read_link(&path) {
            Ok(target) => path = path.parent().map_or(target.clone(), |dir| dir.join(&target)),
            Err(_) => return Some(path),
        }
    }
    None
}

/// Checks `--out` before any training and returns the file to write: a symbolic link is
/// followed to the file it names (so the link stays a link). Refused: the notebook itself, a
/// folder, anything that is not a regular file (a device, a pipe; even with `--overwrite`), an
/// existing file that is not weights (unless `overwrite`), and a folder where nothing can be
/// written.
fn check_out(out: &Path, notebook: &Path, overwrite: bool) -> Result<PathBuf, CliError> {
    let shown = files::brief_path(out);
    if out.as_os_str().to_string_lossy().ends_with(std::path::MAIN_SEPARATOR) || out.file_name().is_none() {
        return Err(bad_input(format!(
            "--out {shown} names a folder, not a file: give a file name, such as --out model.safetensors"
        )));
    }
    let out = follow_links(out).ok_or_else(|| {
        bad_input(format!("--out {shown} is a symbolic link that goes round in a loop: give a file name"))
    })?;
    if same_file(&out, notebook) {
        return Err(bad_input(format!(
            "--out {shown} is the notebook itself: saving weights there would overwrite the notebook; give a .safetensors file, such as --out model.safetensors"
        )));
    }
    if out.is_dir() {
        return Err(bad_input(format!(
            "--out {shown} is a folder: give a file name in it, such as --out {}",
            files::brief_path(&out.join("model.safetensors"))
        )));
    }
    if out.exists() {
        if !out.is_file() {
            return Err(bad_input(format!(
                "--out {shown} is not a regular file (a device, a pipe or a socket): weights go into a file; give a file name"
            )));
        }
        if !glassbox_engine::train::looks_like_weights_file(&out) && !overwrite {
            return Err(bad_input(format!(
                "--out {shown} exists and is not a weights file: choose another name, or add --overwrite to replace it"
            )));
        }
    }
    // A save that fails after an hour of training loses the hour: try the folder now, with a
    // file of our own (created afresh, so no file of the user's is touched).
    let probe = files::unique_beside(&out, "probe");
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
        .map_err(|e| bad_input(format!("--out {shown} cannot be written ({e}): choose a folder you can write to")))?;
    let _ = std::fs::remove_file(&probe);
    Ok(out)
}

/// `glassbox train`.
///
/// # Errors
/// Bad input (code 2) or a failed run (code 1).
pub fn train(args: &TrainArgs) -> Result<(), CliError> {
    let out = args.out.as_deref().map(|out| check_out(out, &args.notebook, args.overwrite)).transpose()?;
    let loaded = load(&args.notebook, args.model.as_deref())?;
    let (mut def, classes) = (loaded.def.clone(), loaded.splits.test.classes.clone());
    // The schedule plans over the run this command makes, not the notebook's epochs.
    let train_len = loaded.splits.train.len().max(1);
    let planned_epochs = match (args.steps, args.epochs) {
        (Some(steps), _) => steps.div_ceil(train_len.div_ceil(def.training.batch_size.clamp(1, train_len))),
        (None, Some(epochs)) => epochs,
        (None, None) => def.training.epochs,
    };
    def.training.epochs = planned_epochs.clamp(1, glassbox_engine::train::MAX_EPOCHS);
    let regression = classes.is_empty();
    if regression && def.training.loss == glassbox_engine::tensor::LossSpec::CrossEntropy {
        println!("note: the data are numbers to predict, so the loss is the mean squared error (cross-entropy needs classes)");
    }
    let mut session = Session::spawn(Arc::new(|| {})).map_err(|e| CliError::new(1, e))?;
    let test_share = loaded.test_share;
    let steps_per_epoch = start(&mut session, &def, loaded.splits, None)?;
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
    // The same averaged numbers as the window's curves, not the last batch alone (a small last
    // batch can read 1.000 beside a test accuracy of 0.97).
    let window = glassbox_engine::train::smoothing_window(steps_per_epoch);
    let mut smoother = glassbox_engine::train::Smoother::new(window);
    let mut averaged = None;
    loop {
        match next_event(&session)? {
            Event::Progress { progress, steps, .. } => {
                bar.set_position(progress.step as u64);
                let steps =
                    if steps.is_empty() { vec![(progress.step, progress.loss, progress.accuracy)] } else { steps };
                for point in steps {
                    averaged = smoother.push(point).or(averaged);
                }
                let (loss, accuracy) = averaged.map_or((progress.loss, progress.accuracy), |(_, l, a)| (l, a));
                let accuracy = if regression { String::new() } else { format!("  accuracy {accuracy:.3}") };
                bar.set_message(format!(
                    "epoch {:.2}  loss {:.4}{accuracy}  {:.0} samples/s",
                    progress.epoch,
                    loss + 0.0,
                    progress.samples_per_sec
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
        let (loss, accuracy) = averaged.map_or((p.loss, p.accuracy), |(_, l, a)| (l, a));
        let accuracy = if regression { String::new() } else { format!(", accuracy {accuracy:.4}") };
        println!("trained {what}: training loss {:.4}{accuracy} (averaged over the last {window} batches)", loss + 0.0);
    }
    let evaluation = evaluate(&session)?;
    print_metrics(&evaluation, &classes, test_share);
    if evaluation.samples > 0 && !evaluation.loss.is_finite() && diverged.is_none() {
        diverged = Some(format!(
            "the model's outputs on the test split are not finite numbers (the test loss is {}): the trained weights cannot be used; lower the learning rate and train again",
            evaluation.loss
        ));
    }
    let save = out.filter(|_| diverged.is_none() || args.save_anyway);
    let mut moved = None;
    if let Some(out) = &save {
        let (path, why) = save_target(out, args.overwrite);
        if let Some(why) = why {
            moved = Some(format!("{why}, so the weights were saved to {} instead", files::brief_path(&path)));
        }
        moved = save_weights(&session, &path)?.or(moved);
    }
    if let Some(moved) = moved {
        return Err(CliError::new(1, moved));
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
/// Bad input (code 2): a missing or malformed notebook or weights file, weights that do not fit,
/// or no test split to evaluate on; a failed run (code 1): weights whose outputs are not numbers.
pub fn eval(notebook: &Path, model: Option<&str>, weights: &Path) -> Result<(), CliError> {
    let loaded = load(notebook, model)?;
    if loaded.splits.test.is_empty() {
        return Err(bad_input(format!(
            "{}: there is nothing to evaluate: {}",
            files::brief_path(notebook),
            no_test_reason(loaded.test_share, !loaded.splits.test.classes.is_empty())
        )));
    }
    let params = glassbox_engine::graph::infer_shapes(&loaded.def.graph).total_params();
    let bytes = files::read_file_at_most(weights, "the weights file", weights_file_limit(params)).map_err(bad_input)?;
    if let Some(largest) = glassbox_engine::train::largest_weight(&bytes).filter(|&w| w > 1e6) {
        eprintln!(
            "glassbox: warning: {} holds weights up to {largest:.2e}, far beyond a healthy network's (were they saved from a run that diverged?)",
            files::brief_path(weights)
        );
    }
    let classes = loaded.splits.test.classes.clone();
    let mut session = Session::spawn(Arc::new(|| {})).map_err(|e| CliError::new(1, e))?;
    let file = WeightsFile { source: files::brief_path(weights), bytes };
    start(&mut session, &loaded.def, loaded.splits, Some(file))?;
    let evaluation = evaluate(&session)?;
    if !evaluation.loss.is_finite() {
        return Err(CliError::new(
            1,
            format!(
                "with the weights of {} the model's outputs are not finite numbers (the test loss is {}): these weights are too large or broken; train the model again",
                files::brief_path(weights),
                evaluation.loss
            ),
        ));
    }
    print_metrics(&evaluation, &classes, loaded.test_share);
    Ok(())
}
