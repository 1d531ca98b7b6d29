//! What each kind of cell draws. Cells read the notebook and the run record and push
//! [`AppCommand`]s; they never change the notebook themselves.

use eframe::egui;
use egui_plot::{Legend, Line, Plot, PlotPoints, Points};
use glassbox_engine::data::{
    bundled_info, text_source_info, Bundled, ColorMode, DataSource, DataSpec, DatasetInfo, LabelColumn, Normalization,
    Pattern2d, PipelineSpec, SequenceTask, Splits, TaskKind, TextSource,
};
use glassbox_engine::graph::{shape_text, ShapeReport};
use glassbox_engine::train::{smoothing_window, RunRecord, RunState, Schedule};

use super::{AppCommand, ModelCommand};
use crate::notebook::{Cell, CellKind, ModelDef};
use glassbox_engine::tensor::OptimizerSpec;

/// What a cell is called in its header.
fn cell_name(cell: &CellKind) -> &'static str {
    match cell {
        CellKind::Markdown { .. } => "Text",
        CellKind::Dataset => "Dataset",
        CellKind::Model { .. } => "Model",
        CellKind::Training { .. } => "Training",
    }
}

/// A cell's header: its kind (and model, for model and training cells), fold, move, delete, and
/// "add text below".
pub(super) struct Header<'a> {
    pub index: usize,
    pub count: usize,
    pub folded: bool,
    /// The notebook's model names.
    pub models: &'a [&'a str],
}

impl Header<'_> {
    pub(super) fn show(&self, ui: &mut egui::Ui, cell: &Cell, out: &mut Vec<AppCommand>) {
        let index = self.index;
        ui.horizontal(|ui| {
            let arrow = if self.folded { "⏵" } else { "⏷" };
            if ui
                .small_button(arrow)
                .on_hover_text(if self.folded { "Show this cell" } else { "Fold this cell away" })
                .clicked()
            {
                out.push(AppCommand::ToggleFolded(index));
            }
            ui.weak(cell_name(&cell.kind));
            if let Some(current) = cell.model() {
                egui::ComboBox::from_id_salt(("cell-model", index))
                    .selected_text(current)
                    .show_ui(ui, |ui| {
                        for &name in self.models {
                            if ui.selectable_label(name == current, name).clicked() && name != current {
                                out.push(AppCommand::SetCellModel { cell: index, model: name.to_owned() });
                            }
                        }
                    })
                    .response
                    .on_hover_text("Which of the notebook's models this cell shows");
            }
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                if ui.small_button("✖").on_hover_text("Delete this cell (Ctrl+Z brings it back)").clicked() {
                    out.push(AppCommand::DeleteCell(index));
                }
                if ui
                    .add_enabled(index + 1 < self.count, egui::Button::new("⏷").small())
                    .on_hover_text("Move this cell down")
                    .clicked()
                {
                    out.push(AppCommand::MoveCell { index, up: false });
                }
                if ui
                    .add_enabled(index > 0, egui::Button::new("⏶").small())
                    .on_hover_text("Move this cell up")
                    .clicked()
                {
                    out.push(AppCommand::MoveCell { index, up: true });
                }
                ui.menu_button("+ cell", |ui| {
                    let mut add = |ui: &mut egui::Ui, label: String, kind: CellKind, help: &str| {
                        if ui.button(label).on_hover_text(help).clicked() {
                            out.push(AppCommand::AddCell { after: index, kind });
                            ui.close();
                        }
                    };
                    add(ui, "Text".into(), CellKind::Markdown { text: String::new() }, "Lesson text, in Markdown");
                    add(ui, "Dataset".into(), CellKind::Dataset, "The data, its samples and license");
                    for &name in self.models {
                        let model = name.to_owned();
                        add(ui, format!("Model: {name}"), CellKind::Model { model }, "The model's layers and shapes");
                        let model = name.to_owned();
                        add(
                            ui,
                            format!("Training: {name}"),
                            CellKind::Training { model },
                            "Train the model and watch its curves",
                        );
                    }
                })
                .response
                .on_hover_text("Add a cell below this one");
            });
        });
    }
}

/// Lesson text: `#` headings, `-` bullets, paragraphs, `**bold**` spans. Double-click to edit.
pub(super) fn markdown_ui(
    ui: &mut egui::Ui,
    index: usize,
    text: &str,
    editing: &mut Option<(usize, String)>,
    out: &mut Vec<AppCommand>,
) {
    if let Some((cell, draft)) = editing.as_mut().filter(|(c, _)| *c == index) {
        ui.add(egui::TextEdit::multiline(draft).desired_width(f32::INFINITY).desired_rows(6));
        if ui.button("Done").on_hover_text("Keep the edited text").clicked() {
            out.push(AppCommand::EditMarkdown { cell: *cell, text: draft.clone() });
            *editing = None;
        }
        return;
    }
    let response = ui
        .vertical(|ui| {
            // Selectable labels would take the clicks that open the text for editing.
            ui.style_mut().interaction.selectable_labels = false;
            if text.trim().is_empty() {
                ui.weak("An empty text cell: double-click here to write in it.");
            }
            for line in text.lines() {
                let trimmed = line.trim_start();
                if let Some(h) = trimmed.strip_prefix("# ") {
                    ui.heading(h);
                } else if let Some(h) = trimmed.strip_prefix("## ") {
                    ui.strong(h);
                } else if let Some(item) = trimmed.strip_prefix("- ") {
                    ui.horizontal_wrapped(|ui| {
                        ui.label("•");
                        rich_line(ui, item);
                    });
                } else if trimmed.is_empty() {
                    ui.add_space(4.0);
                } else {
                    ui.horizontal_wrapped(|ui| rich_line(ui, trimmed));
                }
            }
        })
        .response;
    if response.interact(egui::Sense::click()).double_clicked() {
        *editing = Some((index, text.to_owned()));
    }
}

/// A line with `**bold**` spans.
fn rich_line(ui: &mut egui::Ui, line: &str) {
    ui.spacing_mut().item_spacing.x = 0.0;
    for (i, part) in line.split("**").enumerate() {
        if part.is_empty() {
            continue;
        }
        if i % 2 == 1 {
            ui.strong(part);
        } else {
            ui.label(part);
        }
    }
}

/// Every dataset a student can pick without a file.
fn choices() -> Vec<(String, DataSource)> {
    let mut out: Vec<(String, DataSource)> =
        Bundled::all().map(|b| (bundled_info(b).title, DataSource::Bundled { name: b })).collect();
    let patterns = [
        ("Circle", Pattern2d::Circle),
        ("XOR", Pattern2d::Xor),
        ("Two Gaussians", Pattern2d::Gauss),
        ("Spiral", Pattern2d::Spiral),
        ("Moons", Pattern2d::Moons),
        ("Blobs (3 classes)", Pattern2d::Blobs { classes: 3 }),
        ("Plane (regression)", Pattern2d::Plane),
        ("Gaussian surface (regression)", Pattern2d::GaussianSurface),
    ];
    for (name, pattern) in patterns {
        out.push((format!("2-D: {name}"), DataSource::Toy2d { pattern, samples: 500, noise: 0.1, seed: 0 }));
    }
    for task in SequenceTask::ALL {
        out.push((
            format!("Sequence: {task:?}"),
            DataSource::Sequence { task, length: 6, vocab: 8, samples: 2000, seed: 0 },
        ));
    }
    out.push(("Sentiment sentences".into(), DataSource::Sentiment { samples: 2000, seed: 0 }));
    out.push((
        "Moby-Dick characters".into(),
        DataSource::CharWindows { text: TextSource::MobyDick, window: 8, samples: 20_000, seed: 0 },
    ));
    out.push((
        "First names characters".into(),
        DataSource::CharWindows { text: TextSource::FirstNames, window: 4, samples: 20_000, seed: 0 },
    ));
    out
}

/// The dataset: a picker, its parameters, what it is, its license, size, class balance, and its
/// samples (points of a 2-D set, a grid of images).
pub(super) fn dataset_ui(
    ui: &mut egui::Ui,
    spec: &DataSpec,
    splits: Option<&Splits>,
    thumbnails: &[(egui::TextureHandle, String)],
    error: Option<&str>,
    out: &mut Vec<AppCommand>,
) {
    ui.horizontal(|ui| {
        let current = splits.map_or_else(|| "choose…".to_owned(), |s| s.info.title.clone());
        egui::ComboBox::from_id_salt("dataset-choice")
            .selected_text(current)
            .width(260.0)
            .show_ui(ui, |ui| {
                for (name, source) in choices() {
                    if ui.selectable_label(same_kind(&source, &spec.source), &name).clicked() {
                        out.push(AppCommand::SetData(DataSpec { source, pipeline: spec.pipeline }));
                    }
                }
            })
            .response
            .on_hover_text("The data every model of this notebook learns from; choosing another stops their training");
        if ui.button("Import CSV…").on_hover_text("Use a table of numbers with a label column from a file").clicked()
        {
            out.push(AppCommand::ImportDialog { csv: true });
        }
        if ui
            .button("Import images…")
            .on_hover_text("Use a folder with one subfolder of PNG or JPEG images per class")
            .clicked()
        {
            out.push(AppCommand::ImportDialog { csv: false });
        }
    });
    if let Some(source) = source_params_ui(ui, &spec.source) {
        out.push(AppCommand::SetData(DataSpec { source, pipeline: spec.pipeline }));
    }
    if let Some(pipeline) = pipeline_ui(ui, spec.pipeline) {
        out.push(AppCommand::SetData(DataSpec { source: spec.source.clone(), pipeline }));
    }
    if let Some(error) = error {
        ui.colored_label(ui.visuals().error_fg_color, error);
    }
    let Some(splits) = splits else {
        ui.label("No dataset is loaded.");
        return;
    };
    let info = &splits.info;
    ui.label(format!("{} — {}", info.title, info.license));
    ui.weak(&info.description);
    let train = &splits.train;
    ui.label(format!(
        "{} training and {} test samples, each {}",
        train.len(),
        splits.test.len(),
        shape_text(&train.shape)
    ));
    let counts = train.class_counts();
    if let Some(&most) = counts.iter().max().filter(|&&m| m > 0) {
        ui.label("Class balance (training split):");
        egui::Grid::new("balance").num_columns(2).show(ui, |ui| {
            for (name, &count) in train.classes.iter().zip(&counts).take(20) {
                ui.label(name);
                ui.add(egui::ProgressBar::new(count as f32 / most as f32).text(count.to_string()).desired_width(240.0));
                ui.end_row();
            }
        });
    }
    if !thumbnails.is_empty() {
        ui.label("The first training samples:");
        let per_row = ((ui.available_width() / 64.0).floor() as usize).max(1);
        egui::Grid::new("samples").spacing([6.0, 6.0]).show(ui, |ui| {
            for (i, (texture, label)) in thumbnails.iter().enumerate() {
                ui.vertical(|ui| {
                    ui.add(egui::Image::new(texture).fit_to_exact_size(egui::vec2(56.0, 56.0)));
                    ui.label(label);
                });
                if (i + 1) % per_row == 0 {
                    ui.end_row();
                }
            }
        });
    }
    if let (true, Some(vocab)) = (train.vocab.is_some(), train.vocab.as_ref()) {
        ui.label("The first training samples, each with what the model should answer:");
        let labels = train.labels().unwrap_or(&[]);
        let per = train.targets_per_sample.max(1);
        for i in 0..train.len().min(5) {
            let ids: Vec<usize> = train.sample(i).iter().map(|&v| v as usize).collect();
            let answer: Vec<&str> = labels
                .get(i * per..(i + 1) * per)
                .unwrap_or(&[])
                .iter()
                .filter_map(|&l| train.classes.get(l).map(String::as_str))
                .collect();
            ui.monospace(format!("{:?}  →  {}", vocab.decode(&ids), answer.join(" ")));
        }
    }
    if train.shape == [2] {
        let labels = train.labels().unwrap_or(&[]);
        // Square, so the pattern fills the plot at its true proportions.
        Plot::new("dataset-points")
            .width(320.0)
            .height(300.0)
            .data_aspect(1.0)
            .legend(Legend::default())
            .allow_scroll(false)
            .allow_zoom(false)
            .show(ui, |plot| {
                for (class, name) in train.classes.iter().enumerate() {
                    let points: Vec<[f64; 2]> = (0..train.len())
                        .filter(|&i| labels.get(i) == Some(&class))
                        .map(|i| [f64::from(train.sample(i)[0]), f64::from(train.sample(i)[1])])
                        .collect();
                    plot.points(Points::new(name.clone(), PlotPoints::from(points)).radius(2.5));
                }
            });
    }
}

/// Whether two sources are the same choice of the dataset picker (settings aside).
fn same_kind(a: &DataSource, b: &DataSource) -> bool {
    match (a, b) {
        (DataSource::Bundled { name: x }, DataSource::Bundled { name: y }) => x == y,
        (DataSource::Toy2d { pattern: x, .. }, DataSource::Toy2d { pattern: y, .. }) => x == y,
        (DataSource::Sequence { task: x, .. }, DataSource::Sequence { task: y, .. }) => x == y,
        (DataSource::CharWindows { text: x, .. }, DataSource::CharWindows { text: y, .. }) => x == y,
        (DataSource::Sentiment { .. }, DataSource::Sentiment { .. }) => true,
        _ => false,
    }
}

/// A labelled number field, limited to `range` for edits (a value already outside it is shown as
/// it is); returns whether the user changed it.
fn number(
    ui: &mut egui::Ui,
    label: &str,
    value: &mut usize,
    range: std::ops::RangeInclusive<usize>,
    help: &str,
) -> bool {
    ui.label(label);
    ui.add(egui::DragValue::new(value).range(range).clamp_existing_to_range(false)).on_hover_text(help).changed()
}

/// The seed field every generated set has; returns whether it changed.
fn seed_field(ui: &mut egui::Ui, seed: &mut u64) -> bool {
    ui.label("seed");
    ui.add(egui::DragValue::new(seed)).on_hover_text("Another seed draws other samples of the same kind").changed()
}

/// The settings of the dataset's source (sizes, noise, seeds, how a file is read); returns the
/// changed source.
fn source_params_ui(ui: &mut egui::Ui, source: &DataSource) -> Option<DataSource> {
    let mut next = source.clone();
    ui.horizontal_wrapped(|ui| match &mut next {
        DataSource::Toy2d { samples, noise, seed, .. } => {
            number(ui, "points", samples, 20..=5000, "How many points to generate");
            ui.label("noise");
            ui.add(egui::Slider::new(noise, 0.0..=0.5).clamping(egui::SliderClamping::Edits))
                .on_hover_text("How far points stray from the pattern");
            seed_field(ui, seed);
        }
        DataSource::Sequence { length, vocab, samples, seed, .. } => {
            number(ui, "length", length, 2..=32, "Tokens in each sequence: longer is harder");
            number(ui, "vocabulary", vocab, 2..=64, "How many different tokens a sequence uses");
            number(ui, "sequences", samples, 100..=20_000, "How many sequences to generate");
            seed_field(ui, seed);
        }
        DataSource::Sentiment { samples, seed } => {
            number(ui, "sentences", samples, 100..=20_000, "How many sentences to generate");
            seed_field(ui, seed);
        }
        DataSource::CharWindows { window, samples, seed, .. } => {
            number(ui, "window", window, 2..=64, "Characters the model sees before predicting the next");
            number(ui, "windows", samples, 100..=50_000, "How many windows to cut from the text");
            seed_field(ui, seed);
        }
        DataSource::Csv { options, .. } => {
            let current = options.clone();
            let label = match &current.label {
                LabelColumn::Last => "last column".to_owned(),
                LabelColumn::Index(i) => format!("column {}", i + 1),
                LabelColumn::Name(n) => format!("\"{n}\""),
            };
            ui.label("label");
            egui::ComboBox::from_id_salt("csv-label")
                .selected_text(label)
                .show_ui(ui, |ui| {
                    if ui.selectable_label(current.label == LabelColumn::Last, "last column").clicked() {
                        options.label = LabelColumn::Last;
                    }
                    for i in 0..8 {
                        let choice = LabelColumn::Index(i);
                        if ui.selectable_label(current.label == choice, format!("column {}", i + 1)).clicked() {
                            options.label = choice;
                        }
                    }
                })
                .response
                .on_hover_text("Which column holds what the model should predict");
            let header = match current.has_header {
                None => "guess",
                Some(true) => "yes",
                Some(false) => "no",
            };
            ui.label("header line");
            egui::ComboBox::from_id_salt("csv-header")
                .selected_text(header)
                .show_ui(ui, |ui| {
                    for (text, value) in [("guess", None), ("yes", Some(true)), ("no", Some(false))] {
                        if ui.selectable_label(current.has_header == value, text).clicked() {
                            options.has_header = value;
                        }
                    }
                })
                .response
                .on_hover_text("Whether the first line names the columns");
            let mut regression = current.task == TaskKind::Regression;
            if ui
                .checkbox(&mut regression, "predict a number")
                .on_hover_text("Regression: the label is a number to predict, not a class")
                .changed()
            {
                options.task = if regression { TaskKind::Regression } else { TaskKind::Classification };
            }
        }
        DataSource::ImageFolder { size, color, .. } => {
            number(ui, "size", size, 8..=64, "Images are resized to this many pixels a side");
            let mut rgb = *color == ColorMode::Rgb;
            if ui
                .checkbox(&mut rgb, "colour")
                .on_hover_text("Keep red, green and blue (3 channels) instead of grey (1)")
                .changed()
            {
                *color = if rgb { ColorMode::Rgb } else { ColorMode::Grey };
            }
        }
        DataSource::Bundled { .. } => {}
    });
    (next != *source).then_some(next)
}

/// The train/test split and the normalisation; returns the changed settings.
fn pipeline_ui(ui: &mut egui::Ui, pipeline: PipelineSpec) -> Option<PipelineSpec> {
    let mut next = pipeline;
    ui.horizontal_wrapped(|ui| {
        ui.label("test share");
        ui.add(egui::Slider::new(&mut next.test_fraction, 0.05..=0.5).clamping(egui::SliderClamping::Edits))
            .on_hover_text(
                "Samples kept out of training to test on (bundled MNIST and Fashion-MNIST keep their own split)",
            );
        let name = |n: Normalization| match n {
            Normalization::None => "none",
            Normalization::Standardize => "standardise each feature",
            Normalization::UnitRange => "each feature to 0..1",
            Normalization::GlobalMeanStd => "one mean and spread",
        };
        ui.label("normalise");
        egui::ComboBox::from_id_salt("normalization")
            .selected_text(name(pipeline.normalization))
            .show_ui(ui, |ui| {
                for n in [
                    Normalization::None,
                    Normalization::Standardize,
                    Normalization::UnitRange,
                    Normalization::GlobalMeanStd,
                ] {
                    if ui.selectable_label(pipeline.normalization == n, name(n)).clicked() {
                        next.normalization = n;
                    }
                }
            })
            .response
            .on_hover_text("Rescale inputs (fitted on the training split): features on similar scales train faster");
        ui.label("split seed");
        ui.add(egui::DragValue::new(&mut next.seed)).on_hover_text("Another seed puts other samples in the test split");
    });
    (next != pipeline).then_some(next)
}

/// The model: its name (editable), copy and delete, and, read-only until the graph editor comes,
/// every layer with its output shape and parameter count, and the graph's problems.
pub(super) fn model_ui(
    ui: &mut egui::Ui,
    def: &ModelDef,
    report: &ShapeReport,
    models: usize,
    out: &mut Vec<AppCommand>,
) {
    ui.horizontal(|ui| {
        ui.label("name");
        let id = ui.id().with(("model-name", &def.name));
        let mut draft = ui.data_mut(|d| d.get_temp::<String>(id)).unwrap_or_else(|| def.name.clone());
        let response = ui
            .add(egui::TextEdit::singleline(&mut draft).desired_width(160.0))
            .on_hover_text("The model's name, shown in the cells that use it and in the curves' legends");
        if response.lost_focus() {
            if draft.trim() != def.name && !draft.trim().is_empty() {
                out.push(AppCommand::RenameModel { from: def.name.clone(), to: draft.clone() });
            }
            ui.data_mut(|d| d.remove::<String>(id));
        } else if response.has_focus() {
            ui.data_mut(|d| d.insert_temp(id, draft));
        }
        if ui
            .button("Copy to compare")
            .on_hover_text("Add a copy of this model with its own training cell: change one setting, train both, compare the curves")
            .clicked()
        {
            out.push(AppCommand::DuplicateModel(def.name.clone()));
        }
        if ui
            .add_enabled(models > 1, egui::Button::new("Delete model"))
            .on_hover_text("Remove this model and its cells from the notebook (Ctrl+Z brings it back)")
            .clicked()
        {
            out.push(AppCommand::DeleteModel(def.name.clone()));
        }
    });
    let graph = &def.graph;
    egui::Grid::new(("layers", &def.name)).striped(true).num_columns(4).show(ui, |ui| {
        ui.strong("node");
        ui.strong("layer");
        ui.strong("output shape");
        ui.strong("parameters");
        ui.end_row();
        for id in &report.order {
            let Some(node) = graph.node(id) else { continue };
            ui.label(id);
            ui.label(node.layer.kind().label());
            ui.label(report.shape_of(id).map_or_else(|| "?".to_owned(), shape_text));
            ui.label(report.nodes.get(id).map_or(0, |n| n.param_count).to_string());
            ui.end_row();
        }
    });
    ui.label(format!("{} trainable parameters", report.total_params()));
    for problem in &report.problems {
        ui.colored_label(ui.visuals().warn_fg_color, problem.to_string());
    }
}

/// What a training cell shows: one model's controls, progress and curves, with the other models'
/// curves beside its own for comparison.
pub(super) struct TrainingView<'a> {
    pub def: &'a ModelDef,
    pub record: &'a RunRecord,
    /// The other models' names and records.
    pub others: &'a [(&'a str, &'a RunRecord)],
    pub log_scale: bool,
    /// Whether the next run starts from weights saved beside the notebook.
    pub saved_weights: bool,
    /// Why the model cannot train now (graph problems, data that does not fit), if it cannot.
    pub blocked: Option<String>,
    /// Whether the dataset has a test split (with a test share of 0 it has none).
    pub has_test_split: bool,
}

impl TrainingView<'_> {
    pub(super) fn show(&self, ui: &mut egui::Ui, out: &mut Vec<AppCommand>) {
        let name = self.def.name.as_str();
        let mut send = |command: ModelCommand| out.push(AppCommand::model(name, command));
        self.controls_ui(ui, &mut send);
        self.progress_ui(ui, &mut send);
        self.curves_ui(ui, out);
    }

    fn controls_ui(&self, ui: &mut egui::Ui, send: &mut impl FnMut(ModelCommand)) {
        let running = matches!(self.record.state, RunState::Running);
        if let Some(why) = &self.blocked {
            ui.colored_label(ui.visuals().warn_fg_color, why);
        }
        ui.add_enabled_ui(self.blocked.is_none() || running, |ui| self.buttons_ui(ui, running, send));
        self.settings_ui(ui, send);
    }

    fn buttons_ui(&self, ui: &mut egui::Ui, running: bool, send: &mut impl FnMut(ModelCommand)) {
        ui.horizontal(|ui| {
            if running {
                if ui.button("⏸ Pause").on_hover_text("Stop after the current batch (Space)").clicked() {
                    send(ModelCommand::Pause);
                }
            } else if ui
                .button("▶ Train")
                .on_hover_text("Train until you pause: the curves below update as it learns (Space)")
                .clicked()
            {
                send(ModelCommand::Train);
            }
            if ui
                .add_enabled(!running, egui::Button::new("Step"))
                .on_hover_text("Train on one batch, then pause (S)")
                .clicked()
            {
                send(ModelCommand::StepBatch);
            }
            if ui
                .add_enabled(!running, egui::Button::new("Epoch"))
                .on_hover_text("Train to the end of this pass over the data, then pause")
                .clicked()
            {
                send(ModelCommand::StepEpoch);
            }
            if ui
                .button("Reset")
                .on_hover_text("Back to this run's starting weights (same seed); the curves are cleared")
                .clicked()
            {
                send(ModelCommand::Reset);
            }
        });
        if self.saved_weights {
            ui.horizontal(|ui| {
                ui.label("Starts from the trained weights saved beside the notebook.");
                if ui
                    .button("Start fresh")
                    .on_hover_text("Forget the saved weights: the next run starts from new random weights")
                    .clicked()
                {
                    send(ModelCommand::ForgetSavedWeights);
                }
            });
        }
    }

    fn settings_ui(&self, ui: &mut egui::Ui, send: &mut impl FnMut(ModelCommand)) {
        let training = &self.def.training;
        let lr = training.optimizer.lr();
        ui.horizontal(|ui| {
            let mut epochs = training.epochs;
            if number(ui, "epochs", &mut epochs, 1..=10_000, "How many passes over the training data Train makes") {
                send(ModelCommand::SetEpochs(epochs));
            }
            let mut batch = training.batch_size;
            let help = "Samples per step: larger batches give smoother but fewer updates (applies from the next epoch)";
            if number(ui, "batch size", &mut batch, 1..=4096, help) {
                send(ModelCommand::SetBatchSize(batch));
            }
            let current = training.optimizer;
            let name = match current {
                OptimizerSpec::Sgd { .. } => "SGD",
                OptimizerSpec::Adam { .. } => "Adam",
                OptimizerSpec::AdamW { .. } => "AdamW",
            };
            egui::ComboBox::from_id_salt(("optimizer", &self.def.name))
                .selected_text(name)
                .show_ui(ui, |ui| {
                    let lr = current.lr();
                    let choices = [
                        ("SGD", OptimizerSpec::Sgd { lr, momentum: 0.9, nesterov: false, weight_decay: 0.0 }),
                        ("Adam", OptimizerSpec::adam(lr)),
                        ("AdamW", OptimizerSpec::AdamW { lr, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 1e-2 }),
                    ];
                    for (label, spec) in choices {
                        if ui.selectable_label(name == label, label).on_hover_text(optimizer_help(label)).clicked()
                            && name != label
                        {
                            send(ModelCommand::SetOptimizer(spec));
                        }
                    }
                })
                .response
                .on_hover_text("How the weights move against the gradient");
            ui.label("optimizer");
        });
        ui.horizontal(|ui| {
            let schedule = training.schedule;
            let name = match schedule {
                Schedule::Constant => "constant",
                Schedule::Step { .. } => "step",
                Schedule::Cosine { .. } => "cosine",
            };
            egui::ComboBox::from_id_salt(("schedule", &self.def.name))
                .selected_text(name)
                .show_ui(ui, |ui| {
                    let choices = [
                        ("constant", Schedule::Constant, "The same learning rate all the way"),
                        (
                            "step",
                            Schedule::Step { every_epochs: 10, factor: 0.5 },
                            "Halve the learning rate every 10 epochs",
                        ),
                        (
                            "cosine",
                            Schedule::Cosine { min_factor: 0.05 },
                            "Lower the learning rate smoothly to 5% by the last epoch",
                        ),
                    ];
                    for (label, choice, help) in choices {
                        if ui.selectable_label(name == label, label).on_hover_text(help).clicked() && name != label {
                            send(ModelCommand::SetSchedule(choice));
                        }
                    }
                })
                .response
                .on_hover_text("How the learning rate changes over the epochs");
            ui.label("learning-rate schedule");
        });
        ui.horizontal(|ui| {
            let mut value = lr;
            if ui
                .add(
                    egui::Slider::new(&mut value, 1e-5..=3.0)
                        .clamping(egui::SliderClamping::Edits)
                        .logarithmic(true)
                        .text("learning rate")
                        .custom_formatter(|v, _| format!("{v:.2e}")),
                )
                .on_hover_text("How big a step each update takes: too small learns slowly, too large jumps or blows up")
                .changed()
            {
                send(ModelCommand::SetLearningRate(value));
            }
            if ui.button("÷10").on_hover_text("Smaller steps: slower but steadier learning").clicked() {
                send(ModelCommand::SetLearningRate(lr / 10.0));
            }
            if ui.button("×10").on_hover_text("Bigger steps: faster, until the loss jumps or becomes NaN").clicked() {
                send(ModelCommand::SetLearningRate(lr * 10.0));
            }
        });
    }

    fn progress_ui(&self, ui: &mut egui::Ui, send: &mut impl FnMut(ModelCommand)) {
        let record = self.record;
        match (&record.latest, record.steps_per_epoch) {
            (Some(p), spe) => {
                let epochs = self.def.training.epochs.max(1) as f32;
                let done = (p.epoch / epochs).min(1.0);
                let mut text = format!("epoch {:.2} of {epochs}", p.epoch);
                if matches!(record.state, RunState::Running) && p.samples_per_sec > 0.0 && spe > 0 {
                    let steps_left = ((epochs - p.epoch).max(0.0) * spe as f32).round();
                    let batch = self.def.training.batch_size as f32;
                    let seconds = steps_left * batch / p.samples_per_sec;
                    text.push_str(&format!("   about {} left", eta_text(seconds)));
                }
                ui.add(egui::ProgressBar::new(done).text(text));
                ui.label(format!(
                    "step {}   loss {:.4}   accuracy {:.3}   {:.0} samples/s   ({spe} steps an epoch)",
                    p.step, p.loss, p.accuracy, p.samples_per_sec
                ));
                ui.label(format!("lr in use: {:.3e}", p.lr));
            }
            (None, _) => {
                ui.label("step 0");
            }
        }
        match &record.state {
            RunState::Failed(message) => {
                ui.colored_label(ui.visuals().error_fg_color, message);
            }
            RunState::Paused(reason) if reason.alarm().is_some() => {
                let (message, can_restore) = reason.alarm().unwrap_or_default();
                ui.colored_label(ui.visuals().error_fg_color, message);
                if can_restore {
                    let step = record.last_checkpoint.map_or_else(String::new, |s| format!(" (step {s})"));
                    if ui
                        .button(format!("Go back to the last good weights{step}"))
                        .on_hover_text("Restore the weights saved at the last checkpoint; then lower the learning rate and train on")
                        .clicked()
                    {
                        send(ModelCommand::RestoreCheckpoint);
                    }
                }
            }
            _ => {
                if let Some(step) = record.restored_from {
                    ui.colored_label(
                        ui.visuals().warn_fg_color,
                        format!("Went back to the weights of step {step}. Lower the learning rate before training on."),
                    );
                }
            }
        }
        if let Some(message) = &record.refused {
            ui.colored_label(ui.visuals().warn_fg_color, message);
        }
        if let Some(e) = record.evaluations.last() {
            ui.label(format!("test loss {:.4}   test accuracy {:.3}   (after step {})", e.loss, e.accuracy, e.step));
        } else if !self.has_test_split {
            ui.label("No test split (the dataset's test share is 0): there are no test metrics. Raise the test share in the dataset cell to measure how well the model generalises.");
        }
    }

    fn curves_ui(&self, ui: &mut egui::Ui, out: &mut Vec<AppCommand>) {
        let record = self.record;
        let others: Vec<&(&str, &RunRecord)> =
            self.others.iter().filter(|(_, r)| !r.history.points.is_empty()).collect();
        if record.history.points.is_empty() && others.is_empty() {
            return;
        }
        let log_scale = self.log_scale;
        let mut log = log_scale;
        if ui
            .checkbox(&mut log, "log scale")
            .on_hover_text("Show log10 of the values: small losses stay visible")
            .changed()
        {
            out.push(AppCommand::ToggleLogScale);
        }
        let y = |v: f32| if log_scale { f64::from(v.max(1e-8)).log10() } else { f64::from(v) };
        // Batch metrics jump from batch to batch: show their trend over a few dozen batches.
        let window = smoothing_window(record.steps_per_epoch);
        // The averaged curve is smooth: a point every few pixels draws it (and costs little to draw).
        let points = record.smoothed.thin(400);
        let loss: Vec<[f64; 2]> = points.iter().map(|p| [p.0 as f64, y(p.1)]).collect();
        let accuracy: Vec<[f64; 2]> = points.iter().map(|p| [p.0 as f64, y(p.2)]).collect();
        // At most about 150 test points (a long run evaluates after every one of many epochs).
        let stride = record.evaluations.len().div_ceil(150).max(1);
        let evaluations: Vec<_> = record.evaluations.iter().rev().step_by(stride).rev().collect();
        let markers = evaluations.len() <= 60;
        let test_loss: Vec<[f64; 2]> = evaluations.iter().map(|e| [e.step as f64, y(e.loss)]).collect();
        let test_accuracy: Vec<[f64; 2]> = evaluations.iter().map(|e| [e.step as f64, y(e.accuracy)]).collect();
        ui.weak(format!(
            "Training curves are averaged over about the last {window} batches; test points come after each epoch."
        ));
        Plot::new(("curves", &self.def.name))
            .height(200.0)
            .y_axis_formatter(|mark, _| axis_number(mark.value))
            .legend(Legend::default())
            .x_axis_label("step")
            .allow_scroll(false)
            .allow_zoom(false)
            .show(ui, |plot| {
                // Loss in one colour, accuracy in another; test curves dashed with a dot per epoch.
                let (loss_color, accuracy_color) = (LOSS_COLOR, ACCURACY_COLOR);
                plot.line(Line::new("training loss", PlotPoints::from(loss)).color(loss_color).width(2.0));
                plot.line(Line::new("training accuracy", PlotPoints::from(accuracy)).color(accuracy_color).width(2.0));
                if !test_loss.is_empty() {
                    let dashed = egui_plot::LineStyle::dashed_dense();
                    if markers {
                        plot.points(Points::new("test loss", test_loss.clone()).color(loss_color).radius(3.0));
                        plot.points(
                            Points::new("test accuracy", test_accuracy.clone()).color(accuracy_color).radius(3.0),
                        );
                    }
                    plot.line(Line::new("test loss", PlotPoints::from(test_loss)).color(loss_color).style(dashed));
                    plot.line(
                        Line::new("test accuracy", PlotPoints::from(test_accuracy)).color(accuracy_color).style(dashed),
                    );
                }
                // The other models' training loss, dashed, to compare (click a legend entry to hide it).
                for (name, other) in &others {
                    let points = other.smoothed.thin(400);
                    let line: Vec<[f64; 2]> = points.iter().map(|p| [p.0 as f64, y(p.1)]).collect();
                    plot.line(
                        Line::new(format!("{name}: training loss"), PlotPoints::from(line))
                            .color(egui::Color32::GRAY)
                            .style(egui_plot::LineStyle::dashed_loose()),
                    );
                }
            });
    }
}

/// The colour of loss curves (training and test) and of accuracy curves, in both themes.
const LOSS_COLOR: egui::Color32 = egui::Color32::from_rgb(235, 110, 70);
const ACCURACY_COLOR: egui::Color32 = egui::Color32::from_rgb(70, 150, 235);

/// An axis label: plain for everyday numbers, scientific for huge or tiny ones (a loss that
/// blew up to 4e25 would otherwise print 26 digits).
fn axis_number(v: f64) -> String {
    let a = v.abs();
    if a != 0.0 && !(1e-3..1e5).contains(&a) {
        format!("{v:.1e}")
    } else {
        let text = format!("{v:.4}");
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    }
}

/// "42 s", "3 min 5 s", "1 h 2 min".
fn eta_text(seconds: f32) -> String {
    let s = seconds.max(0.0).round() as u64;
    match s {
        0..=59 => format!("{s} s"),
        60..=3599 => format!("{} min {} s", s / 60, s % 60),
        _ => format!("{} h {} min", s / 3600, (s % 3600) / 60),
    }
}

/// Every bundled dataset with its source and license (MNIST's CC BY-SA attribution among them).
pub(super) fn licenses_ui(ui: &mut egui::Ui) {
    egui::CollapsingHeader::new("Bundled datasets and their licenses").default_open(false).show(ui, |ui| {
        let infos: Vec<DatasetInfo> = Bundled::all()
            .map(bundled_info)
            .chain([TextSource::MobyDick, TextSource::FirstNames].map(text_source_info))
            .collect();
        for info in infos {
            ui.horizontal_wrapped(|ui| {
                ui.strong(&info.title);
                ui.label(format!("— {}", info.license));
            });
            ui.indent(&info.title, |ui| {
                ui.weak(format!("{} Source: {}.", info.description, info.source));
            });
            ui.add_space(4.0);
        }
    });
}

fn optimizer_help(name: &str) -> &'static str {
    match name {
        "SGD" => "Stochastic gradient descent with momentum: each step moves the weights against the gradient",
        "Adam" => "Adam: scales each weight's step by its recent gradients; a good default",
        _ => "AdamW: Adam with weight decay that shrinks the weights a little every step",
    }
}
