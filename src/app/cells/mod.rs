//! The cells: each kind in a file of its own, drawn from a [`CellContext`] (what it may read)
//! and answering only with [`AppCommand`]s. A new kind of cell is one new file here plus its
//! line in [`body`] (and its variant and title in the notebook's `CellKind`).

mod activations;
mod attention;
mod attribution;
mod compare;
mod dataset;
mod evaluation;
pub(super) mod graph_editor;
mod health;
mod inspecting;
mod markdown;
mod model;
mod predictions;
mod step_by_step;
pub(super) mod training;
mod weights;

use std::collections::BTreeMap;

use eframe::egui;
use glassbox_engine::data::Splits;

use super::runs::ModelRun;
use super::widgets::palette::Palette;
use super::AppCommand;
use crate::notebook::{Cell, CellKind, Notebook};

pub(super) use dataset::licenses_ui;
pub(super) use graph_editor::GraphEditor;
pub(crate) use inspecting::image_shape;
pub(crate) use predictions::softmax;

/// What a cell may read, and where it puts what it asks for.
pub(super) struct CellContext<'a> {
    pub notebook: &'a Notebook,
    pub splits: Option<&'a Splits>,
    pub runs: &'a BTreeMap<String, ModelRun>,
    /// The model the run bar acts on (its decision boundary shades a 2-D set's plot).
    pub active: &'a str,
    /// The first training samples of an image set, as textures for the sample grid.
    pub thumbnails: &'a [(egui::TextureHandle, String, usize)],
    /// Why the last dataset change failed.
    pub data_error: Option<&'a str>,
    /// The dataset's class colours.
    pub palette: &'a Palette,
    /// The text cell being edited, and its draft (view state).
    pub editing: &'a mut Option<(usize, String)>,
    pub markdown: &'a mut egui_commonmark::CommonMarkCache,
    /// Each model's graph editor (view state: where the canvas looks, the selected node).
    pub editors: &'a mut BTreeMap<String, GraphEditor>,
    /// Heatmaps and sample pictures, kept between frames.
    pub textures: &'a mut super::widgets::heatmap::Textures,
    /// Counts dataset changes (sample textures are keyed by it).
    pub data_version: u64,
    /// The training inputs' smallest and largest value (for pictures of samples and drawings).
    pub ink: (f32, f32),
    pub out: &'a mut Vec<AppCommand>,
}

/// The registry: which file draws which kind of cell.
fn body(ui: &mut egui::Ui, index: usize, cell: &Cell, cx: &mut CellContext<'_>) {
    match &cell.kind {
        CellKind::Markdown { text } => markdown::show(ui, index, text, cx),
        CellKind::Dataset => dataset::show(ui, cx),
        CellKind::Model { model } => model::show(ui, model, cx),
        CellKind::Training { model } => training::show(ui, model, cx),
        CellKind::Compare => compare::show(ui, cx),
        CellKind::Evaluation { model } => evaluation::show(ui, model, cx),
        CellKind::Predictions { model } => predictions::show(ui, model, cx),
        CellKind::Activations { model } => activations::show(ui, model, cx),
        CellKind::Weights { model } => weights::show(ui, model, cx),
        CellKind::Health { model } => health::show(ui, model, cx),
        CellKind::Attention { model } => attention::show(ui, model, cx),
        CellKind::Attribution { model, methods } => attribution::show(ui, index, model, methods, cx),
        CellKind::StepByStep { model, view } => step_by_step::show(ui, index, model, view, cx),
    }
}

/// A cell's body; a right-click on its views (anywhere a control does not take the click) opens
/// the figure menu: save as PNG or SVG, copy.
fn body_with_menu(ui: &mut egui::Ui, index: usize, cell: &Cell, cx: &mut CellContext<'_>) {
    if matches!(cell.kind, CellKind::Markdown { .. }) {
        body(ui, index, cell, cx);
        return;
    }
    let response =
        ui.scope_builder(egui::UiBuilder::new().sense(egui::Sense::click()), |ui| body(ui, index, cell, cx)).response;
    // A right-click on a view that takes clicks itself (a plot) opens the menu too; the graph
    // editor keeps its own right-click menu.
    let on_a_view = !matches!(cell.kind, CellKind::Model { .. })
        && ui.input(|i| i.pointer.secondary_clicked())
        && ui.rect_contains_pointer(response.rect);
    let open = if response.secondary_clicked() || on_a_view {
        Some(egui::SetOpenCommand::Bool(true))
    } else if response.clicked() {
        Some(egui::SetOpenCommand::Bool(false))
    } else {
        None
    };
    egui::Popup::menu(&response)
        .open_memory(open)
        .at_pointer_fixed()
        .show(|ui| super::figures::figure_menu(ui, index, cx.out));
}

/// Says that a cell names a model the notebook does not have.
fn unknown_model(ui: &mut egui::Ui, name: &str) {
    ui.colored_label(
        ui.visuals().warn_fg_color,
        format!("This cell shows the model \"{name}\", which this notebook does not have: pick one of its models in the cell's header."),
    );
}

/// Where a cell index waits in egui's memory to be scrolled into view (a cell just added).
pub(super) const SCROLL_TO_CELL: &str = "scroll-to-cell";

/// The narrowest a cell in a row may be; narrower (a small window, large text), cells placed
/// beside each other are shown one below the other, so nothing is cut off.
const MIN_CELL_WIDTH: f32 = 480.0;

/// Every cell, in rows: a cell placed beside the one before shares its row, each taking an equal
/// share of the width (when the window is wide enough for that).
pub(super) fn show_all(ui: &mut egui::Ui, cx: &mut CellContext<'_>) {
    let cells = &cx.notebook.cells;
    let width = ui.available_width();
    let mut rows: Vec<std::ops::Range<usize>> = Vec::new();
    for (i, cell) in cells.iter().enumerate() {
        match rows.last_mut() {
            Some(row) if cell.beside && i > 0 && width / (row.len() + 1) as f32 >= MIN_CELL_WIDTH => row.end = i + 1,
            _ => rows.push(i..i + 1),
        }
    }
    for row in rows {
        if row.len() == 1 {
            // A cell placed beside the one before that shows below it: the row would be too narrow.
            let stacked = row.start > 0 && cells.get(row.start).is_some_and(|c| c.beside);
            framed(ui, row.start, stacked, cx);
        } else {
            let first = row.start;
            ui.columns(row.len(), |columns| {
                for (k, column) in columns.iter_mut().enumerate() {
                    framed(column, first + k, false, cx);
                }
            });
        }
        ui.add_space(6.0);
    }
}

/// A presentation slide: the row's cells beside each other, each in its frame without its header
/// (no editing controls), every control inside the cells kept.
pub(super) fn show_slide(ui: &mut egui::Ui, row: &[usize], cx: &mut CellContext<'_>) {
    let slide = |ui: &mut egui::Ui, index: usize, cx: &mut CellContext<'_>| {
        let Some(cell) = cx.notebook.cells.get(index) else { return };
        egui::Frame::group(ui.style()).inner_margin(10.0).show(ui, |ui| {
            ui.set_width(ui.available_width());
            if !matches!(cell.kind, CellKind::Markdown { .. }) {
                ui.weak(cell.kind.title());
            }
            ui.push_id(("cell", index), |ui| body_with_menu(ui, index, cell, cx));
        });
    };
    if let [index] = row {
        slide(ui, *index, cx);
    } else {
        ui.columns(row.len(), |columns| {
            for (column, &index) in columns.iter_mut().zip(row) {
                slide(column, index, cx);
            }
        });
    }
}

/// One cell in its frame: the header, then (unless folded) its body.
fn framed(ui: &mut egui::Ui, index: usize, stacked: bool, cx: &mut CellContext<'_>) {
    let Some(cell) = cx.notebook.cells.get(index) else { return };
    // A cell wholly outside the visible part of the page (with a margin) is not drawn this frame:
    // its place is kept at last frame's size. A long notebook then costs what its visible cells
    // cost (the MNIST example with its inspection cells took 8.7 ms a frame drawing them all).
    let size_id = ui.id().with(("cell-size", index, cell.kind.title()));
    let width = ui.available_width();
    let jump_pending = cell.model().is_some_and(|m| {
        matches!(cell.kind, CellKind::Activations { .. })
            && ui.data(|d| d.get_temp::<String>(model::activation_jump(m)).is_some())
    });
    let scroll_here = ui.data(|d| d.get_temp::<usize>(SCROLL_TO_CELL.into())) == Some(index);
    if let Some(size) = ui.data(|d| d.get_temp::<egui::Vec2>(size_id)) {
        let place = egui::Rect::from_min_size(ui.cursor().min, egui::vec2(width, size.y));
        let hidden = !ui.clip_rect().expand(300.0).intersects(place);
        if (size.x - width).abs() < 4.0 && !jump_pending && !scroll_here && hidden {
            ui.allocate_exact_size(egui::vec2(width, size.y), egui::Sense::hover());
            return;
        }
    }
    let frame = egui::Frame::group(ui.style()).inner_margin(8.0).show(ui, |ui| {
        ui.set_width(ui.available_width());
        header(ui, index, cell, cx);
        if stacked {
            ui.weak(format!(
                "Placed beside the cell before, but shown below it: the window is too narrow for this row (each cell needs {MIN_CELL_WIDTH:.0} points; a wider window or smaller text (A−) shows them side by side)."
            ));
        }
        if !cell.folded {
            ui.push_id(("cell", index), |ui| body_with_menu(ui, index, cell, cx));
        }
    });
    let size = frame.response.rect.size();
    ui.data_mut(|d| d.insert_temp(size_id, size));
    if scroll_here {
        frame.response.scroll_to_me(Some(egui::Align::Min));
        ui.data_mut(|d| d.remove_temp::<usize>(SCROLL_TO_CELL.into()));
    }
}

/// A cell's header: its kind (and model, for model and training cells), fold, the cell menu
/// (place beside, move, delete) and "add a cell below".
fn header(ui: &mut egui::Ui, index: usize, cell: &Cell, cx: &mut CellContext<'_>) {
    let count = cx.notebook.cells.len();
    let out = &mut *cx.out;
    let models: Vec<&str> = cx.notebook.models.iter().map(|m| m.name.as_str()).collect();
    ui.horizontal(|ui| {
        let arrow = if cell.folded { "⏵" } else { "⏷" };
        if ui
            .small_button(arrow)
            .on_hover_text(if cell.folded { "Show this cell" } else { "Fold this cell away" })
            .clicked()
        {
            out.push(AppCommand::ToggleFolded(index));
        }
        ui.weak(cell.kind.title());
        if let Some(current) = cell.model() {
            egui::ComboBox::from_id_salt(("cell-model", index))
                .selected_text(current)
                .show_ui(ui, |ui| {
                    for &name in &models {
                        if ui.selectable_label(name == current, name).clicked() && name != current {
                            out.push(AppCommand::SetCellModel { cell: index, model: name.to_owned() });
                        }
                    }
                })
                .response
                .on_hover_text("Which of the notebook's models this cell shows");
        }
        if !matches!(cell.kind, CellKind::Markdown { .. }) {
            ui.menu_button("Save figure…", |ui| super::figures::figure_menu(ui, index, out))
                .response
                .on_hover_text("Save what this cell shows as a PNG or SVG figure (slide or print size), or copy it; a right-click on the cell's views does the same");
        }
        if cx.notebook.view.hide.contains(&crate::notebook::Control::CellControls) {
            return;
        }
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if ui.small_button("✖").on_hover_text("Delete this cell (Ctrl+Z brings it back)").clicked() {
                out.push(AppCommand::DeleteCell(index));
            }
            if ui
                .add_enabled(index + 1 < count, egui::Button::new("⏷").small())
                .on_hover_text("Move this cell down")
                .clicked()
            {
                out.push(AppCommand::MoveCell { index, up: false });
            }
            if ui.add_enabled(index > 0, egui::Button::new("⏶").small()).on_hover_text("Move this cell up").clicked()
            {
                out.push(AppCommand::MoveCell { index, up: true });
            }
            ui.menu_button("☰", |ui| {
                let (label, help) = if cell.beside {
                    ("Place below the cell before", "Show this cell below the one before it, at full width")
                } else {
                    (
                        "Place beside the cell before",
                        "Show this cell beside the one before it, in one row (saved with the notebook)",
                    )
                };
                if ui.add_enabled(index > 0, egui::Button::new(label)).on_hover_text(help).clicked() {
                    out.push(AppCommand::PlaceBeside { cell: index, beside: !cell.beside });
                    ui.close();
                }
                if ui.add_enabled(index > 0, egui::Button::new("Move up")).clicked() {
                    out.push(AppCommand::MoveCell { index, up: true });
                    ui.close();
                }
                if ui.add_enabled(index + 1 < count, egui::Button::new("Move down")).clicked() {
                    out.push(AppCommand::MoveCell { index, up: false });
                    ui.close();
                }
                let fold = if cell.folded { "Unfold" } else { "Fold" };
                if ui.button(fold).clicked() {
                    out.push(AppCommand::ToggleFolded(index));
                    ui.close();
                }
                if ui.button("Delete").on_hover_text("Ctrl+Z brings it back").clicked() {
                    out.push(AppCommand::DeleteCell(index));
                    ui.close();
                }
            })
            .response
            .on_hover_text("This cell: place it beside the one before, move, fold or delete it");
            ui.menu_button("+ cell", |ui| {
                let mut add = |ui: &mut egui::Ui, label: String, kind: CellKind, help: &str| {
                    if ui.button(label).on_hover_text(help).clicked() {
                        out.push(AppCommand::AddCell { after: index, kind });
                        ui.close();
                    }
                };
                add(ui, "Text".into(), CellKind::Markdown { text: String::new() }, "Lesson text, in Markdown");
                add(ui, "Dataset".into(), CellKind::Dataset, "The data, its samples and license");
                add(ui, "Compare models".into(), CellKind::Compare, "Every model's curves on one pair of plots");
                for &name in &models {
                    let model = || name.to_owned();
                    for (kind, help) in [
                        (CellKind::Model { model: model() }, "The model's layers and shapes"),
                        (CellKind::Training { model: model() }, "Train the model and watch its curves"),
                        (
                            CellKind::Evaluation { model: model() },
                            "Where the model goes wrong on the test samples: the confusion matrix",
                        ),
                        (
                            CellKind::Predictions { model: model() },
                            "Choose a sample (or draw, click, type one) and see the model's top classes for it",
                        ),
                        (
                            CellKind::Activations { model: model() },
                            "Every layer's output for the chosen sample: feature maps, bars, neurons over the plane",
                        ),
                        (
                            CellKind::Weights { model: model() },
                            "Every layer's weights: filters as pictures, heatmaps, histograms",
                        ),
                        (
                            CellKind::Health { model: model() },
                            "Gradient sizes, update sizes and dead ReLUs per layer over training, with warnings",
                        ),
                        (
                            CellKind::Attention { model: model() },
                            "Where each token looks: every attention layer's maps, head by head, for the chosen sequence",
                        ),
                        (
                            CellKind::Attribution {
                                model: model(),
                                methods: crate::notebook::default_attribution_methods(),
                            },
                            "Which parts of the sample made the model say what it says: saliency, Integrated Gradients, Grad-CAM, occlusion, LIME, SHAP side by side",
                        ),
                        (
                            CellKind::StepByStep { model: model(), view: crate::notebook::StepView::default() },
                            "One output of a layer worked out with the sample's real numbers, one operation at a time",
                        ),
                    ] {
                        add(ui, format!("{}: {name}", kind.title()), kind, help);
                    }
                }
            })
            .response
            .on_hover_text("Add a cell below this one");
        });
    });
}

/// A labelled number field, limited to `range` for edits (a value already outside it is shown as
/// it is); returns whether the user changed it.
pub(super) fn number(
    ui: &mut egui::Ui,
    label: &str,
    value: &mut usize,
    range: std::ops::RangeInclusive<usize>,
    help: &str,
) -> bool {
    ui.label(label);
    ui.add(egui::DragValue::new(value).range(range).clamp_existing_to_range(false)).on_hover_text(help).changed()
}
