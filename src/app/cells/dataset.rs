//! The dataset cell: a picker, the source's settings, the split and normalisation, what the
//! data is and its license, its size and class balance, and its samples (points of a 2-D set in
//! class colours, a grid of images, token sequences with their answers).

use eframe::egui;
use egui_plot::{Legend, Plot, PlotPoints, Points};
use glassbox_engine::data::{
    bundled_info, text_source_info, Bundled, ColorMode, DataSource, DataSpec, DatasetInfo, LabelColumn, Normalization,
    Pattern2d, PipelineSpec, SequenceTask, TaskKind, TextSource,
};
use glassbox_engine::graph::shape_text;

use super::{number, CellContext};
use crate::app::widgets::visible_whitespace;
use crate::app::AppCommand;

/// What a sequence task is called where a student picks it.
fn task_name(task: SequenceTask) -> &'static str {
    match task {
        SequenceTask::Copy => "copy",
        SequenceTask::Reverse => "reverse",
        SequenceTask::Sort => "sort",
        SequenceTask::Majority => "majority vote",
        SequenceTask::FirstToken => "first-token recall",
        SequenceTask::Parity => "parity",
        SequenceTask::Brackets => "balanced brackets",
        SequenceTask::Addition => "addition",
    }
}

/// Every dataset a student can pick without a file, by the name the picker shows (the same name
/// in the closed box and in its list).
fn choices() -> Vec<(String, DataSource)> {
    let mut out: Vec<(String, DataSource)> =
        Bundled::all().map(|b| (bundled_info(b).title, DataSource::Bundled { name: b })).collect();
    let patterns = [
        ("circle", Pattern2d::Circle),
        ("XOR", Pattern2d::Xor),
        ("two Gaussians", Pattern2d::Gauss),
        ("spiral", Pattern2d::Spiral),
        ("moons", Pattern2d::Moons),
        ("blobs (3 classes)", Pattern2d::Blobs { classes: 3 }),
        ("plane (regression)", Pattern2d::Plane),
        ("Gaussian surface (regression)", Pattern2d::GaussianSurface),
    ];
    for (name, pattern) in patterns {
        out.push((format!("2-D points: {name}"), DataSource::Toy2d { pattern, samples: 500, noise: 0.1, seed: 0 }));
    }
    for task in SequenceTask::ALL {
        out.push((
            format!("Sequences: {}", task_name(task)),
            DataSource::Sequence { task, length: 6, vocab: 8, samples: 2000, seed: 0 },
        ));
    }
    out.push(("Sentences: sentiment".into(), DataSource::Sentiment { samples: 2000, seed: 0 }));
    out.push((
        "Text: Moby-Dick characters".into(),
        DataSource::CharWindows { text: TextSource::MobyDick, window: 8, samples: 20_000, seed: 0 },
    ));
    out.push((
        "Text: first names characters".into(),
        DataSource::CharWindows { text: TextSource::FirstNames, window: 4, samples: 20_000, seed: 0 },
    ));
    out
}

/// A dataset's name as the picker shows it (templates say which data they bring).
pub(super) fn data_name(source: &DataSource) -> String {
    choices().into_iter().find(|(_, s)| same_kind(s, source)).map_or_else(|| "its own data".into(), |(name, _)| name)
}

/// The dataset: a picker, its parameters, what it is, its license, size, class balance, and its
/// samples (points of a 2-D set, a grid of images).
pub(super) fn show(ui: &mut egui::Ui, cx: &mut CellContext<'_>) {
    let spec = &cx.notebook.data;
    let splits = cx.splits;
    let out = &mut *cx.out;
    let choices = choices();
    ui.horizontal_wrapped(|ui| {
        ui.label("dataset");
        let current = choices
            .iter()
            .find(|(_, source)| same_kind(source, &spec.source))
            .map(|(name, _)| name.clone())
            .or_else(|| splits.map(|s| s.info.title.clone()))
            .unwrap_or_else(|| "choose…".to_owned());
        egui::ComboBox::from_id_salt("dataset-choice")
            .selected_text(current)
            .width(260.0)
            .height(520.0)
            .show_ui(ui, |ui| {
                for (name, source) in &choices {
                    if ui.selectable_label(same_kind(source, &spec.source), name).clicked() {
                        out.push(AppCommand::SetData(DataSpec { source: source.clone(), pipeline: spec.pipeline }));
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
    let own_split = matches!(spec.source, DataSource::Bundled { name } if name.has_own_split());
    if let Some(pipeline) = pipeline_ui(ui, spec.pipeline, own_split) {
        out.push(AppCommand::SetData(DataSpec { source: spec.source.clone(), pipeline }));
    }
    if let Some(error) = cx.data_error {
        ui.colored_label(ui.visuals().error_fg_color, error);
    }
    let Some(splits) = splits else {
        ui.label("No dataset is loaded.");
        return;
    };
    let info = &splits.info;
    // The picker above names the set; here what it is and its license.
    ui.label(format!("License: {}", info.license));
    ui.weak(&info.description);
    let train = &splits.train;
    ui.label(format!(
        "{} training and {} test samples, each {}",
        train.len(),
        splits.test.len(),
        shape_text(&train.shape)
    ));
    let counts = train.class_counts();
    let palette = cx.palette;
    if let Some(&most) = counts.iter().max().filter(|&&m| m > 0) {
        ui.label("Class balance (training split):");
        egui::Grid::new("balance").num_columns(3).spacing([8.0, 2.0]).show(ui, |ui| {
            // Vocabulary markers no sample has (padding, unknown) are not classes to balance.
            let shown = train
                .classes
                .iter()
                .zip(&counts)
                .enumerate()
                .filter(|(_, (name, &count))| count > 0 || !(name.starts_with('<') && name.ends_with('>')));
            for (class, (name, &count)) in shown.take(20) {
                ui.colored_label(palette.text_color(class, ui.visuals().dark_mode), visible_whitespace(name));
                // The count beside the bar, not in it: a short bar has no room for it.
                let (rect, _) = ui.allocate_exact_size(egui::vec2(200.0, 12.0), egui::Sense::hover());
                let filled = egui::Rect::from_min_size(rect.min, egui::vec2(200.0 * count as f32 / most as f32, 12.0));
                ui.painter().rect_filled(rect, 2.0, ui.visuals().extreme_bg_color);
                ui.painter().rect_filled(filled, 2.0, palette.color(class));
                ui.label(count.to_string());
                ui.end_row();
            }
        });
        if train.classes.len() > 20 {
            ui.weak(format!("and {} more classes", train.classes.len() - 20));
        }
    }
    if !cx.thumbnails.is_empty() {
        ui.label("The first training samples:");
        let per_row = ((ui.available_width() / 64.0).floor() as usize).max(1);
        egui::Grid::new("samples").spacing([6.0, 6.0]).show(ui, |ui| {
            for (i, (texture, label, class)) in cx.thumbnails.iter().enumerate() {
                ui.vertical(|ui| {
                    ui.add(egui::Image::new(texture).fit_to_exact_size(egui::vec2(56.0, 56.0)));
                    ui.colored_label(palette.text_color(*class, ui.visuals().dark_mode), label);
                });
                if (i + 1) % per_row == 0 {
                    ui.end_row();
                }
            }
        });
    }
    if let (true, Some(vocab)) = (train.vocab.is_some(), train.vocab.as_ref()) {
        ui.label("The first training samples, each with what the model should answer (· is a space, ¶ a new line):");
        let labels = train.labels().unwrap_or(&[]);
        let per = train.targets_per_sample.max(1);
        for i in 0..train.len().min(5) {
            let ids: Vec<usize> = train.sample(i).iter().map(|&v| v as usize).collect();
            let answer: Vec<String> = labels
                .get(i * per..(i + 1) * per)
                .unwrap_or(&[])
                .iter()
                .filter_map(|&l| train.classes.get(l).map(|c| visible_whitespace(c)))
                .collect();
            // Each token on its own, so the marks show spaces inside tokens, not between them.
            let tokens: Vec<String> = ids.iter().map(|&id| visible_whitespace(&vocab.decode(&[id]))).collect();
            let sep = if vocab.kind == glassbox_engine::data::VocabKind::Char { "" } else { " " };
            ui.monospace(format!("{}  →  {}", tokens.join(sep), answer.join(" ")));
        }
    }
    if train.shape == [2] {
        let labels = train.labels().unwrap_or(&[]);
        if let glassbox_engine::data::Targets::Values(values) = &train.targets {
            let (lo, hi) = values.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
            ui.label(format!(
                "Each point's colour is the number to predict: from {} (dark purple) to {} (yellow).",
                crate::app::widgets::short_number(f64::from(lo)),
                crate::app::widgets::short_number(f64::from(hi))
            ));
        }
        // The focused model's predictions over the plane, shaded under the points.
        let boundary = cx
            .runs
            .get(cx.active)
            .and_then(|r| Some((r.record.run?, r.record.grid.as_ref()?)))
            .filter(|_| !train.classes.is_empty())
            .and_then(|(run, grid)| {
                boundary_texture(ui.ctx(), run.0, grid, palette, train.classes.len()).map(|t| (t, grid))
            });
        // One line either way, so the page does not move when the shading arrives.
        if let Some((_, grid)) = &boundary {
            ui.label(format!(
                "Shaded: what {} predicts at each point of the plane (step {}); hollow points are test samples.",
                cx.active, grid.step
            ));
        } else if !train.classes.is_empty() {
            ui.weak(format!("Train {}: the plot is then shaded with what it predicts at each point.", cx.active));
        }
        // Square, so the pattern fills the plot at its true proportions.
        let side = ui.available_width().clamp(200.0, 320.0);
        let axis = |i: usize| train.features.get(i).cloned().unwrap_or_else(|| format!("x{}", i + 1));
        // The point the focused model's inspection cells look at, if it is a point of the plane.
        let picked = cx.runs.get(cx.active).and_then(|r| match r.inspector.sample {
            crate::app::inspect::Sample::Point(p) => Some(p),
            _ => None,
        });
        let mark = ui.visuals().strong_text_color();
        let shown = Plot::new("dataset-points")
            .width(side)
            .height(side * 0.94)
            .data_aspect(1.0)
            .x_axis_label(axis(0))
            .y_axis_label(axis(1))
            .x_grid_spacer(crate::app::widgets::plots::round_ticks)
            .y_grid_spacer(crate::app::widgets::plots::round_ticks)
            .legend(Legend::default().follow_insertion_order(true))
            .allow_scroll(false)
            .allow_zoom(false)
            .allow_drag(false)
            .show(ui, |plot| {
                if let glassbox_engine::data::Targets::Values(values) = &train.targets {
                    // A value to predict per point: its colour on a scale, in bins of equal width.
                    const BINS: usize = 12;
                    let (lo, hi) =
                        values.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
                    let span = (hi - lo).max(f32::EPSILON);
                    for bin in 0..BINS {
                        let points: Vec<[f64; 2]> = (0..train.len())
                            .filter(|&i| {
                                let v = values.get(i).copied().unwrap_or(lo);
                                (((v - lo) / span * BINS as f32) as usize).min(BINS - 1) == bin
                            })
                            .map(|i| [f64::from(train.sample(i)[0]), f64::from(train.sample(i)[1])])
                            .collect();
                        let c = colorous::VIRIDIS.eval_rational(bin, BINS);
                        plot.points(
                            Points::new("", PlotPoints::from(points))
                                .radius(2.5)
                                .color(egui::Color32::from_rgb(c.r, c.g, c.b)),
                        );
                    }
                    return;
                }
                if let Some((texture, grid)) = &boundary {
                    let (low, high) = (grid.request.low, grid.request.high);
                    let center =
                        egui_plot::PlotPoint::new(f64::from(low[0] + high[0]) / 2.0, f64::from(low[1] + high[1]) / 2.0);
                    let size = egui::vec2(high[0] - low[0], high[1] - low[1]);
                    plot.image(egui_plot::PlotImage::new("", texture.id(), center, size));
                }
                for (class, name) in train.classes.iter().enumerate() {
                    let points: Vec<[f64; 2]> = (0..train.len())
                        .filter(|&i| labels.get(i) == Some(&class))
                        .map(|i| [f64::from(train.sample(i)[0]), f64::from(train.sample(i)[1])])
                        .collect();
                    plot.points(
                        Points::new(visible_whitespace(name), PlotPoints::from(points))
                            .radius(2.5)
                            .color(palette.color(class)),
                    );
                }
                // With a boundary drawn, the test points too (hollow), to see where it fails.
                if let (Some(_), test) = (&boundary, &splits.test) {
                    let test_labels = test.labels().unwrap_or(&[]);
                    for class in 0..train.classes.len() {
                        let points: Vec<[f64; 2]> = (0..test.len())
                            .filter(|&i| test_labels.get(i) == Some(&class))
                            .map(|i| [f64::from(test.sample(i)[0]), f64::from(test.sample(i)[1])])
                            .collect();
                        plot.points(
                            Points::new("", PlotPoints::from(points))
                                .radius(3.5)
                                .filled(false)
                                .color(palette.color(class)),
                        );
                    }
                }
                if let Some(p) = picked {
                    plot.points(
                        Points::new("", vec![[f64::from(p[0]), f64::from(p[1])]])
                            .shape(egui_plot::MarkerShape::Cross)
                            .radius(7.0)
                            .color(mark),
                    );
                }
            });
        if !train.classes.is_empty() && cx.notebook.model(cx.active).is_some() {
            let response = shown
                .response
                .on_hover_text(format!("Click a point to look inside {} there (in its inspection cells)", cx.active));
            if response.clicked() {
                if let Some(pos) = response.interact_pointer_pos() {
                    let v = shown.transform.value_from_position(pos);
                    cx.out.push(AppCommand::SetSample {
                        model: cx.active.to_owned(),
                        sample: crate::app::inspect::Sample::Point([v.x as f32, v.y as f32]),
                    });
                }
            }
        }
    }
}

/// The decision boundary as a picture: each point of the grid in the colours of the classes,
/// mixed by the model's probabilities (softmax of its outputs), faint enough for the points on
/// top to stand out. Made once per grid and kept in the context's memory.
fn boundary_texture(
    ctx: &egui::Context,
    run: u64,
    grid: &glassbox_engine::train::Grid,
    palette: &crate::app::widgets::palette::Palette,
    classes: usize,
) -> Option<egui::TextureHandle> {
    let n = grid.request.n;
    if grid.width < 2 || grid.outputs.len() != n * n * grid.width {
        return None;
    }
    let key = (run, grid.step, n);
    let id = egui::Id::new("decision-boundary");
    if let Some((k, texture)) = ctx.data(|d| d.get_temp::<((u64, usize, usize), egui::TextureHandle)>(id)) {
        if k == key {
            return Some(texture);
        }
    }
    let mut pixels = vec![egui::Color32::TRANSPARENT; n * n];
    for (i, row) in grid.outputs.chunks_exact(grid.width).enumerate() {
        let top = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let exp: Vec<f32> = row.iter().map(|v| (v - top).exp()).collect();
        let total: f32 = exp.iter().sum();
        let (mut r, mut g, mut b) = (0.0f32, 0.0f32, 0.0f32);
        for (class, e) in exp.iter().enumerate().take(classes) {
            let p = e / total.max(f32::MIN_POSITIVE);
            let c = palette.color(class);
            r += p * f32::from(c.r());
            g += p * f32::from(c.g());
            b += p * f32::from(c.b());
        }
        // Grid rows go up the plane; image rows go down the picture.
        let (row_up, col) = (i / n, i % n);
        pixels[(n - 1 - row_up) * n + col] = egui::Color32::from_rgba_unmultiplied(r as u8, g as u8, b as u8, 110);
    }
    let image = egui::ColorImage::new([n, n], pixels);
    let texture = ctx.load_texture("decision-boundary", image, egui::TextureOptions::LINEAR);
    ctx.data_mut(|d| d.insert_temp(id, (key, texture.clone())));
    Some(texture)
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

/// The seed field every generated set has; returns whether it changed.
fn seed_field(ui: &mut egui::Ui, seed: &mut u64) -> bool {
    ui.label("seed");
    ui.add(egui::DragValue::new(seed)).on_hover_text("Another seed draws other samples of the same kind").changed()
}

/// The settings of the dataset's source (sizes, noise, seeds, how a file is read); returns the
/// changed source.
fn source_params_ui(ui: &mut egui::Ui, source: &DataSource) -> Option<DataSource> {
    // A bundled set has no settings of its own: no empty row.
    if matches!(source, DataSource::Bundled { .. }) {
        return None;
    }
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
fn pipeline_ui(ui: &mut egui::Ui, pipeline: PipelineSpec, own_split: bool) -> Option<PipelineSpec> {
    let mut next = pipeline;
    ui.horizontal_wrapped(|ui| {
        // MNIST and Fashion-MNIST come with their own test split: no share to choose.
        if !own_split {
            ui.label("test share");
            ui.add(egui::Slider::new(&mut next.test_fraction, 0.05..=0.5).clamping(egui::SliderClamping::Edits))
                .on_hover_text("Samples kept out of training to test on");
        }
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
        if !own_split {
            ui.label("split seed");
            ui.add(egui::DragValue::new(&mut next.seed))
                .on_hover_text("Another seed puts other samples in the test split");
        }
    });
    (next != pipeline).then_some(next)
}

/// Every bundled dataset with its source and license (MNIST's CC BY-SA attribution among them).
pub(in crate::app) fn licenses_ui(ui: &mut egui::Ui) {
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
