//! The model cell: the model's name, copy and delete, and, until the graph editor comes, every
//! layer with its output shape and parameter count, the graph's problems, and whether it fits
//! the data (with the one click that fits it).

use eframe::egui;
use glassbox_engine::graph::shape_text;

use super::CellContext;
use crate::app::runs::Misfit;
use crate::app::{AppCommand, ModelCommand};

/// The model: its name (editable), copy and delete, and, read-only until the graph editor comes,
/// every layer with its output shape and parameter count, and the graph's problems.
pub(super) fn show(ui: &mut egui::Ui, name: &str, cx: &mut CellContext<'_>) {
    let (Some(def), Some(run)) = (cx.notebook.model(name), cx.runs.get(name)) else {
        super::unknown_model(ui, name);
        return;
    };
    let models = cx.notebook.models.len();
    let report = &run.report;
    let out = &mut *cx.out;
    ui.horizontal_wrapped(|ui| {
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
    ui.weak(format!("{} multiply-adds for each sample (dense and convolution layers)", report.total_multiply_adds()));
    for problem in &report.problems {
        ui.colored_label(ui.visuals().warn_fg_color, problem.to_string());
    }
    if let Some(Some(misfit)) = &run.misfit {
        misfit_ui(ui, &def.name, misfit, out);
    }
}

/// Why the model cannot take the data, and (where setting its Input and output mends it) the
/// one click that does, with what it will change.
pub(super) fn misfit_ui(ui: &mut egui::Ui, model: &str, misfit: &Misfit, out: &mut Vec<AppCommand>) {
    ui.colored_label(ui.visuals().warn_fg_color, format!("It cannot train on this dataset yet: {}", misfit.message));
    if !misfit.fix.is_empty() {
        ui.horizontal_wrapped(|ui| {
            if ui
                .button("Fit the model to this data")
                .on_hover_text(format!("Changes: {}. Ctrl+Z undoes it.", misfit.fix.join("; ")))
                .clicked()
            {
                out.push(AppCommand::model(model, ModelCommand::FitToData));
            }
            ui.weak(format!("changes {}", misfit.fix.join("; ")));
        });
    }
}
