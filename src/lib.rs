//! The Glassbox app: the window a student opens. It never names dfdx; all computing goes through
//! `glassbox_engine`.
//!
//! For now the window shows a model graph as a table (each layer with its output shape and
//! parameter count, and every problem shape inference found, in words) and the bundled datasets
//! with their sources and licenses.

pub mod cli;
pub mod notebook;

use std::path::{Path, PathBuf};

use eframe::egui;
use glassbox_engine::data::{bundled_info, text_source_info, Bundled, DatasetInfo, TextSource};
use glassbox_engine::graph::{infer_shapes, shape_text, GraphSpec, ShapeReport};

/// The notebook a fresh start opens.
pub const DEFAULT_NOTEBOOK: &str = "assets/notebooks/spiral-mlp.json";

/// Where the bundled assets are: beside the binary's crate in a checkout.
///
/// ```
/// let path = glassbox::assets_path(glassbox::DEFAULT_NOTEBOOK);
/// assert!(path.ends_with("assets/notebooks/spiral-mlp.json"));
/// assert!(path.exists());
/// ```
#[must_use]
pub fn assets_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// The app's state.
pub struct GlassboxApp {
    path: PathBuf,
    graph: Option<GraphSpec>,
    report: ShapeReport,
    error: Option<String>,
}

impl GlassboxApp {
    /// Opens the notebook at `path`; a file that cannot be read shows its error in the window.
    #[must_use]
    pub fn new(path: PathBuf) -> Self {
        match notebook::Notebook::load(&path) {
            Ok(nb) => {
                let report = infer_shapes(&nb.graph);
                Self { path, graph: Some(nb.graph), report, error: None }
            }
            Err(e) => Self { path, graph: None, report: ShapeReport::default(), error: Some(format!("{e:#}")) },
        }
    }

    fn summary_ui(&self, ui: &mut egui::Ui) {
        ui.heading("Glassbox");
        ui.label(format!("Notebook: {}", self.path.display()));
        ui.separator();
        if let Some(error) = &self.error {
            ui.colored_label(ui.visuals().error_fg_color, error);
            return;
        }
        let Some(graph) = &self.graph else { return };
        egui::Grid::new("layers").striped(true).num_columns(4).show(ui, |ui| {
            ui.strong("node");
            ui.strong("layer");
            ui.strong("output shape");
            ui.strong("parameters");
            ui.end_row();
            for id in &self.report.order {
                let Some(node) = graph.node(id) else { continue };
                ui.label(id);
                ui.label(node.layer.kind().label());
                ui.label(self.report.shape_of(id).map_or_else(|| "?".to_owned(), shape_text));
                ui.label(self.report.nodes.get(id).map_or(0, |n| n.param_count).to_string());
                ui.end_row();
            }
        });
        ui.separator();
        ui.label(format!("{} trainable parameters", self.report.total_params()));
        for problem in &self.report.problems {
            ui.colored_label(ui.visuals().warn_fg_color, problem.to_string());
        }
    }

    /// Every bundled dataset with its source and license (MNIST's CC BY-SA attribution among them).
    fn datasets_ui(ui: &mut egui::Ui) {
        egui::CollapsingHeader::new("Bundled datasets and their licenses").default_open(true).show(ui, |ui| {
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
}

impl GlassboxApp {
    /// Draws the whole window's contents (the eframe entry point calls this; tests drive it with
    /// `egui_kittest`).
    pub fn show(&mut self, ui: &mut egui::Ui) {
        egui::CentralPanel::default().show(ui, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| {
                self.summary_ui(ui);
                ui.separator();
                Self::datasets_ui(ui);
            });
        });
    }
}

impl eframe::App for GlassboxApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.show(ui);
    }
}
