//! Metric plots: one quantity per plot with its own labelled axis, x in epochs (the step shows on
//! hover), and the legend drawn outside the data, with each entry's line style.

use eframe::egui;
use egui_plot::{Line, Plot, PlotPoints, Points};

/// One curve.
pub struct Series {
    pub name: String,
    pub color: egui::Color32,
    /// `(epoch, value)` points.
    pub points: Vec<[f64; 2]>,
    /// Test curves are dashed; training curves solid.
    pub dashed: bool,
    /// A dot at every point (few points, such as one test measurement per epoch).
    pub markers: bool,
}

/// A run's curves as `(epoch, value)` points, as the plots draw them: the averaged training loss
/// and accuracy (a point every few pixels: about 400), and the test loss and accuracy (at most
/// about 150: a long run evaluates after every one of many epochs). Losses are log10 when `log`.
pub struct RunCurves {
    pub train_loss: Vec<[f64; 2]>,
    pub train_accuracy: Vec<[f64; 2]>,
    pub test_loss: Vec<[f64; 2]>,
    pub test_accuracy: Vec<[f64; 2]>,
}

impl RunCurves {
    #[must_use]
    pub fn of(record: &glassbox_engine::train::RunRecord, log: bool) -> Self {
        let spe = record.steps_per_epoch.max(1) as f64;
        let loss = |v: f32| if log { f64::from(v.max(1e-8)).log10() } else { f64::from(v) };
        let points = record.smoothed.thin(400);
        let stride = record.evaluations.len().div_ceil(150).max(1);
        let evaluations: Vec<_> = record.evaluations.iter().rev().step_by(stride).rev().collect();
        Self {
            train_loss: points.iter().map(|p| [p.0 as f64 / spe, loss(p.1)]).collect(),
            train_accuracy: points.iter().map(|p| [p.0 as f64 / spe, f64::from(p.2)]).collect(),
            test_loss: evaluations.iter().map(|e| [e.step as f64 / spe, loss(e.loss)]).collect(),
            test_accuracy: evaluations.iter().map(|e| [e.step as f64 / spe, f64::from(e.accuracy)]).collect(),
        }
    }

    /// Whether the test points are few enough to mark each with a dot.
    #[must_use]
    pub fn test_markers(&self) -> bool {
        self.test_loss.len() <= 60
    }
}

/// A legend entry as drawn: a short line in the entry's style, then its name.
fn legend_entry(ui: &mut egui::Ui, series: &Series) {
    let (rect, _) = ui.allocate_exact_size(egui::vec2(28.0, 12.0), egui::Sense::hover());
    let y = rect.center().y;
    let stroke = egui::Stroke::new(2.0, series.color);
    let painter = ui.painter();
    if series.dashed {
        let points = [egui::pos2(rect.left(), y), egui::pos2(rect.right(), y)];
        painter.extend(egui::Shape::dashed_line(&points, stroke, 5.0, 3.0));
    } else {
        painter.line_segment([egui::pos2(rect.left(), y), egui::pos2(rect.right(), y)], stroke);
    }
    if series.markers {
        painter.circle_filled(rect.center(), 3.0, series.color);
    }
    ui.label(&series.name);
}

/// The legend of some curves, in a row that wraps, above the plots rather than over the data.
pub fn legend(ui: &mut egui::Ui, series: &[&Series]) {
    ui.horizontal_wrapped(|ui| {
        for s in series {
            legend_entry(ui, s);
            ui.add_space(10.0);
        }
    });
}

/// Four to six evenly spaced ticks at round values (1, 2 or 5 times a power of ten) over the
/// visible range, each labelled; `egui_plot`'s own spacing labels only the coarsest ticks, which
/// left a loss axis from 0 to 0.9 with a single "0".
#[expect(clippy::needless_pass_by_value, reason = "the signature egui_plot's grid spacers have")]
pub fn round_ticks(input: egui_plot::GridInput) -> Vec<egui_plot::GridMark> {
    ticks_at_most(&input, 6.0)
}

/// Round ticks, about `count` of them over the visible range. The x axis labels a tick only when
/// ticks are 60 points apart or more, so a narrow plot gets fewer.
pub fn ticks_at_most(input: &egui_plot::GridInput, count: f64) -> Vec<egui_plot::GridMark> {
    let (lo, hi) = input.bounds;
    let range = hi - lo;
    if !(range.is_finite() && range > 0.0) {
        return Vec::new();
    }
    let raw = range / count.max(1.0);
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * magnitude).find(|&s| s >= raw).unwrap_or(10.0 * magnitude);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last).map(|i| egui_plot::GridMark { value: i as f64 * step, step_size: step }).collect()
}

/// The space between plots side by side.
pub const PLOT_GAP: f32 = 12.0;

/// The width of each of `count` plots side by side in the available width (the gap and the
/// spacing around it taken off, so the last plot's edge stays inside the cell).
#[must_use]
pub fn plot_width(ui: &egui::Ui, count: f32) -> f32 {
    let gap = PLOT_GAP + 2.0 * ui.spacing().item_spacing.x;
    ((ui.available_width() - gap * (count - 1.0)) / count - 2.0).max(120.0)
}

/// How a metric plot looks.
pub struct MetricPlot<'a> {
    pub id: egui::Id,
    /// The plot's title and its y axis's label ("loss", "accuracy").
    pub title: &'a str,
    /// Steps an epoch, to say the step on hover (0: unknown).
    pub steps_per_epoch: usize,
    /// A fixed y range (accuracy: 0 to 1); otherwise from the data, with 0 included.
    pub y_range: Option<(f64, f64)>,
    /// The values are log10 of the quantity.
    pub log: bool,
    pub width: f32,
    pub height: f32,
}

impl MetricPlot<'_> {
    /// Draws the plot; an empty one says what will appear in it, so the page keeps its size.
    pub fn show(&self, ui: &mut egui::Ui, series: &[Series], empty_text: &str) {
        ui.vertical(|ui| {
            ui.set_width(self.width);
            ui.strong(self.title);
            let spe = self.steps_per_epoch as f64;
            let log = self.log;
            let title = self.title.to_owned();
            // Tick labels need 60-80 points between them on the x axis (egui_plot fades closer ones).
            let x_ticks = f64::from((self.width / 95.0).floor().clamp(2.0, 10.0));
            let value_text = move |y: f64| {
                if log {
                    super::short_number(10f64.powf(y))
                } else {
                    super::short_number(y)
                }
            };
            let mut plot = Plot::new(self.id)
                .width(self.width)
                .height(self.height)
                .x_axis_label("epoch")
                .y_axis_label(if log { format!("{} (log scale)", self.title) } else { self.title.to_owned() })
                .y_axis_formatter(move |mark, _| value_text(mark.value))
                .y_grid_spacer(round_ticks)
                .x_axis_formatter(|mark, _| super::short_number(mark.value))
                .x_grid_spacer(move |input| ticks_at_most(&input, x_ticks))
                .label_formatter(move |hover| {
                    let (name, p) = match hover {
                        egui_plot::HoverPosition::NearDataPoint { plot_name, position, .. } => (*plot_name, *position),
                        egui_plot::HoverPosition::Elsewhere { .. } => return None,
                    };
                    let step = if spe > 0.0 { format!(" (step {})", (p.x * spe).round()) } else { String::new() };
                    let name = if name.is_empty() { title.as_str() } else { name };
                    Some(format!("{name}\nepoch {:.2}{step}\n{} {}", p.x, title, value_text(p.y)))
                })
                .allow_scroll(false)
                .allow_zoom(false)
                .allow_drag(false)
                .include_x(0.0);
            let empty = series.iter().all(|s| s.points.is_empty());
            match self.y_range {
                Some((lo, hi)) => plot = plot.include_y(lo).include_y(hi),
                None if !log => plot = plot.include_y(0.0),
                None => {}
            }
            if empty {
                // An empty plot shows the first epoch and values from 0 up, not a span around 0.
                plot = plot.include_x(1.0).include_y(if log { -1.0 } else { 0.0 }).include_y(1.0);
            }
            let response = plot.show(ui, |plot| {
                for s in series {
                    if s.points.is_empty() {
                        continue;
                    }
                    let mut line =
                        Line::new(s.name.clone(), PlotPoints::from(s.points.clone())).color(s.color).width(2.0);
                    if s.dashed {
                        line = line.style(egui_plot::LineStyle::dashed_dense()).width(1.5);
                    }
                    plot.line(line);
                    if s.markers {
                        plot.points(Points::new(s.name.clone(), s.points.clone()).color(s.color).radius(3.0));
                    }
                }
            });
            if empty {
                ui.painter().text(
                    response.response.rect.center(),
                    egui::Align2::CENTER_CENTER,
                    empty_text,
                    egui::TextStyle::Body.resolve(ui.style()),
                    ui.visuals().weak_text_color(),
                );
            }
        });
    }
}
