//! What the inspection cells share: the line that says which sample and which moment they show,
//! the timeline slider (every snapshot of the run, and "now"), and the sample chooser: a grid of
//! test samples filtered by class and by right or wrong, a canvas to draw a digit on, a plane to
//! click a point on, a field to type a sentence in.

use eframe::egui::{self, Color32, Sense, Vec2};
use glassbox_engine::data::Splits;
use glassbox_engine::train::{Inspection, SnapshotReason};

use super::CellContext;
use crate::app::inspect::{encode_typed, Sample};
use crate::app::runs::ModelRun;
use crate::app::AppCommand;

/// A sample's picture, when the data are images (`[channels, h, w]` with 1 or 3 channels).
pub(crate) fn image_shape(shape: &[usize]) -> Option<[usize; 3]> {
    match *shape {
        [c @ (1 | 3), h, w] if h > 1 && w > 1 => Some([c, h, w]),
        _ => None,
    }
}

/// A sample of image data as colours (grey, or RGB), scaled over the data's own range.
pub(super) fn sample_pixels(values: &[f32], [c, h, w]: [usize; 3], range: (f32, f32)) -> Vec<Color32> {
    let span = (range.1 - range.0).max(1e-12);
    let level = |v: f32| (((v - range.0) / span).clamp(0.0, 1.0) * 255.0) as u8;
    (0..h * w)
        .map(|p| {
            if c == 3 {
                Color32::from_rgb(level(values[p]), level(values[h * w + p]), level(values[2 * h * w + p]))
            } else {
                Color32::from_gray(level(values[p]))
            }
        })
        .collect()
}

/// A test sample's picture, `size` points wide.
pub(super) fn test_picture(
    ui: &mut egui::Ui,
    cx: &mut CellContext<'_>,
    splits: &Splits,
    index: usize,
    size: f32,
) -> egui::Response {
    let Some(shape) = image_shape(&splits.test.shape) else {
        return ui.label(format!("#{index}"));
    };
    let range = cx.ink;
    let texture =
        cx.textures.get(ui.ctx(), &format!("test-sample/{index}"), cx.data_version, [shape[2], shape[1]], || {
            sample_pixels(splits.test.sample(index), shape, range)
        });
    let aspect = shape[1] as f32 / shape[2] as f32;
    ui.add(egui::Image::new((texture.id(), Vec2::new(size, size * aspect))).sense(Sense::click()))
}

/// The label of a test sample, if the data have one label a sample.
pub(super) fn test_label(splits: &Splits, index: usize) -> Option<(usize, &str)> {
    if splits.test.targets_per_sample != 1 {
        return None;
    }
    let class = *splits.test.labels()?.get(index)?;
    Some((class, splits.test.classes.get(class).map_or("?", String::as_str)))
}

/// The classes a test sample has at each of its positions, for data with a label per position.
pub(super) fn test_answer(splits: &Splits, index: usize) -> Option<Vec<&str>> {
    let per = splits.test.targets_per_sample;
    if per < 2 {
        return None;
    }
    let labels = splits.test.labels()?.get(index * per..(index + 1) * per)?;
    Some(labels.iter().map(|&c| splits.test.classes.get(c).map_or("?", String::as_str)).collect())
}

/// The timeline slider, then "Looking at test sample 12 (a 7)" (unless `sample` is false: the
/// weights do not depend on a sample), each on its own line so neither moves when the other's
/// text changes. Returns the newest inspection if it shows the chosen sample and moment.
pub(super) fn header<'a>(
    ui: &mut egui::Ui,
    name: &str,
    run: &'a ModelRun,
    cx: &mut CellContext<'_>,
    sample: bool,
) -> Option<&'a Inspection> {
    let inspector = &run.inspector;
    ui.horizontal_wrapped(|ui| timeline(ui, name, run, cx));
    if sample {
        let mut what = format!("Looking at {}", inspector.sample.describe());
        if let (Sample::Test(i), Some(splits)) = (&inspector.sample, cx.splits) {
            if let Some((_, label)) = test_label(splits, *i) {
                what.push_str(&format!(" (a {label})"));
            } else if let Some(answer) = test_answer(splits, *i) {
                what.push_str(&format!(" (answer: {})", answer.join(" ")));
            }
        }
        ui.label(what);
    }
    if let Some(problem) = &inspector.problem {
        ui.colored_label(ui.visuals().warn_fg_color, problem);
    }
    let inspection = inspector.shown(run.record.inspection.as_ref()).map(|(i, _)| i);
    if inspection.is_none() {
        if run.record.run.is_none() {
            ui.weak(format!("Starting {name} to look inside it (untrained, at step 0)..."));
        } else {
            ui.weak("Computing...");
        }
    }
    inspection
}

/// [`header`], then the sample chooser folded under "Choose another sample" (the cells that show
/// the sample but do not have the chooser open beside it). `salt` keeps each cell's fold apart.
pub(super) fn header_and_chooser<'a>(
    ui: &mut egui::Ui,
    name: &str,
    run: &'a ModelRun,
    cx: &mut CellContext<'_>,
    salt: &str,
) -> Option<&'a Inspection> {
    let inspection = header(ui, name, run, cx, true);
    egui::CollapsingHeader::new("Choose another sample")
        .id_salt((salt, name))
        .show(ui, |ui| chooser(ui, name, run, cx));
    inspection
}

/// A snapshot in words: "step 940 (end of epoch 3)".
fn moment_text(step: usize, reason: SnapshotReason) -> String {
    match reason {
        SnapshotReason::Start => format!("step {step} (the start)"),
        SnapshotReason::EpochEnd(e) => format!("step {step} (end of epoch {e})"),
        SnapshotReason::Pause => format!("step {step} (a pause)"),
    }
}

/// The timeline: a slider over the run's snapshots, with "now" at the right end.
pub(super) fn timeline(ui: &mut egui::Ui, name: &str, run: &ModelRun, cx: &mut CellContext<'_>) {
    let snapshots = &run.record.timeline;
    let now = run.record.latest.map_or(0, |p| p.step);
    let count = snapshots.len();
    let mut index = run.inspector.moment.and_then(|m| snapshots.iter().position(|s| s.step == m)).unwrap_or(count);
    ui.label("Moment:");
    let text =
        |i: usize| snapshots.get(i).map_or_else(|| format!("now (step {now})"), |s| moment_text(s.step, s.reason));
    let slider = egui::Slider::new(&mut index, 0..=count).show_value(false).step_by(1.0);
    let response = ui
        .add_enabled(count > 0, slider)
        .on_hover_text("The run's timeline: a snapshot of the weights at its start, at each epoch's end and at each pause. Every inspection cell (and the decision boundary) shows the moment chosen here; at the right end, now, following training.");
    ui.strong(text(index));
    if response.changed() {
        let moment = snapshots.get(index).map(|s| s.step);
        cx.out.push(AppCommand::SetMoment { model: name.to_owned(), moment });
    }
    if run.inspector.moment.is_some() && ui.button("Now").on_hover_text("Follow training again").clicked() {
        cx.out.push(AppCommand::SetMoment { model: name.to_owned(), moment: None });
    }
}

/// The ways to choose a sample.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Way {
    Test,
    Draw,
    Point,
    Type,
}

/// Which test samples the grid shows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Filter {
    class: Option<usize>,
    /// `Some(true)`: only those predicted right; `Some(false)`: only the wrong ones.
    right: Option<bool>,
    page: usize,
}

/// Samples a page of the grid shows.
const PAGE: usize = 40;

/// The sample chooser.
pub(super) fn chooser(ui: &mut egui::Ui, name: &str, run: &ModelRun, cx: &mut CellContext<'_>) {
    let Some(splits) = cx.splits else { return };
    let shape = splits.test.shape.clone();
    let drawable = image_shape(&shape).is_some_and(|[c, ..]| c == 1);
    let plane = shape == [2];
    let typed = splits.train.vocab.is_some() && shape.len() == 1;
    let id = ui.id().with(("way", name));
    let default = match run.inspector.sample {
        Sample::Drawn(_) => Way::Draw,
        Sample::Point(_) => Way::Point,
        Sample::Typed(_) => Way::Type,
        Sample::Test(_) => Way::Test,
    };
    let mut way = ui.data(|d| d.get_temp::<Way>(id)).unwrap_or(default);
    ui.horizontal(|ui| {
        ui.label("Choose a sample:");
        ui.selectable_value(&mut way, Way::Test, "Test samples");
        if drawable {
            ui.selectable_value(&mut way, Way::Draw, "Draw")
                .on_hover_text("Draw a digit and see what the model makes of it");
        }
        if plane {
            ui.selectable_value(&mut way, Way::Point, "Pick a point").on_hover_text("Click anywhere on the plane");
        }
        if typed {
            ui.selectable_value(&mut way, Way::Type, "Type").on_hover_text("Type a sentence");
        }
    });
    ui.data_mut(|d| d.insert_temp(id, way));
    match way {
        Way::Test => test_grid(ui, name, run, splits, cx),
        Way::Draw => draw(ui, name, &shape, cx),
        Way::Point => point(ui, name, run, splits, cx),
        Way::Type => type_text(ui, name, &shape, splits, cx),
    }
}

fn test_grid(ui: &mut egui::Ui, name: &str, run: &ModelRun, splits: &Splits, cx: &mut CellContext<'_>) {
    let id = ui.id().with(("filter", name));
    let mut filter = ui.data(|d| d.get_temp::<Filter>(id)).unwrap_or_default();
    let before = filter;
    let classes = &splits.test.classes;
    let predictions = run.record.evaluations.last().map(|e| &e.predictions).filter(|p| p.len() == splits.test.len());
    ui.horizontal_wrapped(|ui| {
        if !classes.is_empty() {
            egui::ComboBox::from_id_salt(("class-filter", name))
                .selected_text(filter.class.and_then(|c| classes.get(c)).map_or("every class", String::as_str))
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut filter.class, None, "every class");
                    for (c, class) in classes.iter().enumerate() {
                        ui.selectable_value(&mut filter.class, Some(c), class);
                    }
                });
        }
        ui.add_enabled_ui(predictions.is_some(), |ui| {
            egui::ComboBox::from_id_salt(("right-filter", name))
                .selected_text(match filter.right {
                    None => "right and wrong",
                    Some(true) => "predicted right",
                    Some(false) => "predicted wrong",
                })
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut filter.right, None, "right and wrong");
                    ui.selectable_value(&mut filter.right, Some(true), "predicted right");
                    ui.selectable_value(&mut filter.right, Some(false), "predicted wrong");
                })
                .response
                .on_disabled_hover_text("After an epoch of training (an evaluation), samples can be filtered by whether the model got them right");
        });
    });
    if filter.class != before.class || filter.right != before.right {
        filter.page = 0;
    }
    let labels = splits.test.labels();
    let chosen: Vec<usize> = (0..splits.test.len())
        .filter(|&i| filter.class.is_none_or(|c| labels.and_then(|l| l.get(i)) == Some(&c)))
        .filter(|&i| {
            filter.right.is_none_or(|right| {
                let truth = labels.and_then(|l| l.get(i)).copied();
                let predicted = predictions.and_then(|p| p.get(i)).map(|p| p.0);
                (truth == predicted) == right
            })
        })
        .collect();
    let pages = chosen.len().div_ceil(PAGE).max(1);
    filter.page = filter.page.min(pages - 1);
    ui.horizontal(|ui| {
        ui.weak(format!("{} samples", chosen.len()));
        if ui.add_enabled(filter.page > 0, egui::Button::new("◀").small()).on_hover_text("Previous page").clicked() {
            filter.page -= 1;
        }
        ui.weak(format!("page {} of {pages}", filter.page + 1));
        if ui.add_enabled(filter.page + 1 < pages, egui::Button::new("▶").small()).on_hover_text("Next page").clicked()
        {
            filter.page += 1;
        }
    });
    ui.data_mut(|d| d.insert_temp(id, filter));
    let current = match run.inspector.sample {
        Sample::Test(i) => Some(i),
        _ => None,
    };
    let images = image_shape(&splits.test.shape).is_some();
    ui.horizontal_wrapped(|ui| {
        ui.spacing_mut().item_spacing = Vec2::splat(3.0);
        for &i in chosen.iter().skip(filter.page * PAGE).take(PAGE) {
            let label = test_label(splits, i).map(|(_, l)| l.to_owned()).unwrap_or_default();
            let response = if images {
                let r = test_picture(ui, cx, splits, i, 34.0);
                if current == Some(i) {
                    ui.painter().rect_stroke(
                        r.rect.expand(1.0),
                        2.0,
                        (2.0, ui.visuals().selection.stroke.color),
                        egui::StrokeKind::Outside,
                    );
                }
                r
            } else {
                ui.selectable_label(current == Some(i), format!("#{i} {label}"))
            };
            let predicted = predictions.and_then(|p| p.get(i)).and_then(|(c, p)| {
                splits.test.classes.get(*c).map(|name| format!("; predicted {name} ({:.0}%)", p * 100.0))
            });
            if response.on_hover_text(format!("test sample {i}: {label}{}", predicted.unwrap_or_default())).clicked() {
                cx.out.push(AppCommand::SetSample { model: name.to_owned(), sample: Sample::Test(i) });
            }
        }
    });
}

/// Ink laid down per brush dab: a soft round brush about as wide as the data's own strokes
/// (MNIST's are 2 to 3 pixels).
fn dab(ink: &mut [f32], [h, w]: [usize; 2], x: f32, y: f32) {
    let radius = 1.6f32;
    for row in 0..h {
        for col in 0..w {
            let d2 = (col as f32 + 0.5 - x).powi(2) + (row as f32 + 0.5 - y).powi(2);
            let v = (1.0 - d2 / (radius * radius)).max(0.0);
            if v > 0.0 {
                let cell = &mut ink[row * w + col];
                *cell = (*cell + v * 0.8).min(1.0);
            }
        }
    }
}

fn draw(ui: &mut egui::Ui, name: &str, shape: &[usize], cx: &mut CellContext<'_>) {
    let Some([_, h, w]) = image_shape(shape) else { return };
    let id = ui.id().with(("drawing", name));
    let mut ink: Vec<f32> =
        ui.data(|d| d.get_temp::<Vec<f32>>(id)).filter(|v| v.len() == h * w).unwrap_or_else(|| vec![0.0; h * w]);
    ui.label("Draw with the mouse (drag); the model looks at it when you let go.");
    let side = 8.0 * w.max(h) as f32;
    let size = Vec2::new(side * w as f32 / w.max(h) as f32, side * h as f32 / w.max(h) as f32);
    let (rect, response) = ui.allocate_exact_size(size, Sense::click_and_drag());
    let mut changed = false;
    if response.dragged() || response.clicked() {
        if let Some(p) = response.interact_pointer_pos() {
            let x = (p.x - rect.left()) / rect.width() * w as f32;
            let y = (p.y - rect.top()) / rect.height() * h as f32;
            // Fill the gap from the last dab, so a fast stroke stays a line.
            let last_id = id.with("last");
            let last: Option<(f32, f32)> = ui.data(|d| d.get_temp(last_id));
            // A stroke starts where the button went down, not where the pointer first moved.
            let origin = ui.input(|i| i.pointer.press_origin()).map(|o| {
                ((o.x - rect.left()) / rect.width() * w as f32, (o.y - rect.top()) / rect.height() * h as f32)
            });
            let (lx, ly) = if response.drag_started() || response.clicked() {
                origin.unwrap_or((x, y))
            } else {
                last.unwrap_or((x, y))
            };
            let steps = ((x - lx).hypot(y - ly) / 0.5).ceil().max(1.0) as usize;
            for s in 0..=steps {
                let t = s as f32 / steps as f32;
                dab(&mut ink, [h, w], lx + (x - lx) * t, ly + (y - ly) * t);
            }
            ui.data_mut(|d| d.insert_temp(last_id, (x, y)));
            changed = true;
        }
    }
    let texture = cx.textures.get(
        ui.ctx(),
        &format!("drawing/{name}"),
        ink.iter().map(|v| u64::from(v.to_bits())).fold(0, |a, b| a.wrapping_mul(31).wrapping_add(b)),
        [w, h],
        || ink.iter().map(|&v| Color32::from_gray((v * 255.0) as u8)).collect(),
    );
    ui.painter().image(
        texture.id(),
        rect,
        egui::Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(1.0, 1.0)),
        Color32::WHITE,
    );
    ui.painter().rect_stroke(rect, 0.0, (1.0, ui.visuals().weak_text_color()), egui::StrokeKind::Outside);
    ui.horizontal(|ui| {
        if ui.button("Clear").clicked() {
            ink.iter_mut().for_each(|v| *v = 0.0);
            changed = true;
        }
        ui.weak("Digits in the data are centred and fill about two thirds of the square.");
    });
    if changed {
        ui.data_mut(|d| d.insert_temp(id, ink.clone()));
    }
    if response.drag_stopped() || response.clicked() || (changed && !response.dragged()) {
        cx.out.push(AppCommand::SetSample { model: name.to_owned(), sample: Sample::Drawn(ink) });
    }
}

fn point(ui: &mut egui::Ui, name: &str, run: &ModelRun, splits: &Splits, cx: &mut CellContext<'_>) {
    ui.label("Click a point of the plane (the test samples are dots):");
    let (mut low, mut high) = ([f32::INFINITY; 2], [f32::NEG_INFINITY; 2]);
    for i in 0..splits.test.len() {
        let p = splits.test.sample(i);
        for a in 0..2 {
            low[a] = low[a].min(p[a]);
            high[a] = high[a].max(p[a]);
        }
    }
    if let Some(grid) = &run.record.grid {
        low = grid.request.low;
        high = grid.request.high;
    }
    if !low[0].is_finite() {
        low = [-1.0; 2];
        high = [1.0; 2];
    }
    let (rect, response) = ui.allocate_exact_size(Vec2::splat(220.0), Sense::click());
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 2.0, ui.visuals().extreme_bg_color);
    let to_screen = |p: &[f32]| {
        egui::pos2(
            rect.left() + (p[0] - low[0]) / (high[0] - low[0]).max(1e-6) * rect.width(),
            rect.bottom() - (p[1] - low[1]) / (high[1] - low[1]).max(1e-6) * rect.height(),
        )
    };
    let labels = splits.test.labels();
    for i in 0..splits.test.len() {
        let class = labels.and_then(|l| l.get(i)).copied().unwrap_or(0);
        painter.circle_filled(to_screen(splits.test.sample(i)), 2.0, cx.palette.color(class));
    }
    if let Sample::Point(p) = &run.inspector.sample {
        painter.circle_stroke(to_screen(p), 6.0, (2.0, ui.visuals().strong_text_color()));
    }
    if response.clicked() {
        if let Some(pos) = response.interact_pointer_pos() {
            let x = low[0] + (pos.x - rect.left()) / rect.width() * (high[0] - low[0]);
            let y = low[1] + (rect.bottom() - pos.y) / rect.height() * (high[1] - low[1]);
            cx.out.push(AppCommand::SetSample { model: name.to_owned(), sample: Sample::Point([x, y]) });
        }
    }
}

fn type_text(ui: &mut egui::Ui, name: &str, shape: &[usize], splits: &Splits, cx: &mut CellContext<'_>) {
    let id = ui.id().with(("typed", name));
    let mut text: String = ui.data(|d| d.get_temp(id)).unwrap_or_default();
    // Symbol tasks read symbols separated by spaces; text sets read words.
    let hint = match splits.train.vocab.as_ref() {
        Some(v) if v.kind == glassbox_engine::data::VocabKind::Symbols => {
            let some: Vec<&str> = v.tokens().iter().take(4).map(String::as_str).collect();
            format!("symbols with spaces between them: {}", some.join(" "))
        }
        Some(v) if v.kind == glassbox_engine::data::VocabKind::Char => {
            "type a few letters, e.g. the start of a name".to_owned()
        }
        _ => "type a sentence, e.g. the film was not good".to_owned(),
    };
    let response = ui.add(egui::TextEdit::singleline(&mut text).hint_text(hint).desired_width(320.0));
    if response.changed() {
        ui.data_mut(|d| d.insert_temp(id, text.clone()));
        cx.out.push(AppCommand::SetSample { model: name.to_owned(), sample: Sample::Typed(text.clone()) });
    }
    let length = shape.first().copied().unwrap_or(1);
    if let Ok((_, unknown)) = encode_typed(splits, &text, length) {
        if !unknown.is_empty() {
            ui.colored_label(
                ui.visuals().warn_fg_color,
                format!("Not in the vocabulary (read as <unk>): {}", unknown.join(", ")),
            );
        }
        let words = glassbox_engine::data::Vocab::tokenize(
            splits.train.vocab.as_ref().map_or(glassbox_engine::data::VocabKind::Word, |v| v.kind),
            &text,
        )
        .len();
        let windows = splits.train.vocab.as_ref().is_some_and(|v| v.kind == glassbox_engine::data::VocabKind::Char);
        if words > length {
            let which = if windows { "last" } else { "first" };
            ui.colored_label(
                ui.visuals().warn_fg_color,
                format!("The model reads the {which} {length} tokens; the rest is cut off."),
            );
        } else if windows && !text.is_empty() {
            ui.weak("The model reads what you typed as the end of its window and scores the letter that comes next.");
        }
    }
}
