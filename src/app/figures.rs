//! Figures and exports from the window: a cell's figure saved (PNG or SVG, slide or print size)
//! or copied to the clipboard, the handout, and the active model as PyTorch code. The menus that
//! ask for them are [`figure_menu`] (a cell's header and a right-click on its views) and the
//! toolbar's Export menu.

use std::path::Path;

use eframe::egui;

use super::{AppCommand, GlassboxApp};
use crate::figures::{cell_figure, Sources, PRINT, SLIDE};

/// The items of a cell's figure menu (in its header, and on a right-click on its views).
pub(super) fn figure_menu(ui: &mut egui::Ui, cell: usize, out: &mut Vec<AppCommand>) {
    let mut item = |ui: &mut egui::Ui, label: &str, help: &str, command: AppCommand| {
        if ui.button(label).on_hover_text(help).clicked() {
            out.push(command);
            ui.close();
        }
    };
    item(
        ui,
        "Save figure as PNG (slide, 1920x1080)…",
        "A picture for a slide",
        AppCommand::FigureDialog { cell, print: false, svg: false },
    );
    item(
        ui,
        "Save figure as PNG (print, A4 at 300 dpi)…",
        "A sharp picture for a printed page (3508x2480)",
        AppCommand::FigureDialog { cell, print: true, svg: false },
    );
    item(
        ui,
        "Save figure as SVG…",
        "A drawing that stays sharp at any size, for slides, papers and web pages",
        AppCommand::FigureDialog { cell, print: false, svg: true },
    );
    item(
        ui,
        "Copy figure",
        "Copy the figure to the clipboard as a picture, to paste into slides",
        AppCommand::CopyFigure(cell),
    );
}

impl GlassboxApp {
    /// What the figures are made from: the notebook, its data, every model's run.
    fn figure_sources(&self) -> Option<Sources<'_>> {
        let notebook = self.doc.notebook.as_ref()?;
        let classes = self.splits.as_ref().map(|s| s.train.classes.clone()).unwrap_or_default();
        Some(Sources {
            notebook,
            splits: self.splits.as_ref(),
            records: self.runs.iter().map(|(name, run)| (name.as_str(), &run.record)).collect(),
            class_colours: crate::figures::cells::class_colours(&classes),
        })
    }

    pub(super) fn save_figure(&mut self, cell: usize, path: &Path, print: bool) {
        let size = if print { PRINT } else { SLIDE };
        let saved = self
            .figure_sources()
            .ok_or_else(|| "no notebook is open".to_owned())
            .and_then(|src| cell_figure(&src, cell))
            .and_then(|figure| figure.save(path, size));
        self.status = Some(match saved {
            Ok(()) => format!("Saved the figure of cell {} to {} ({})", cell + 1, path.display(), size.name),
            Err(e) => format!("Could not save the figure of cell {}: {e}", cell + 1),
        });
    }

    pub(super) fn copy_figure(&mut self, cell: usize, ctx: &egui::Context) {
        let pixels = self
            .figure_sources()
            .ok_or_else(|| "no notebook is open".to_owned())
            .and_then(|src| cell_figure(&src, cell))
            .and_then(|figure| figure.pixels(SLIDE.width, SLIDE.height));
        self.status = Some(match pixels {
            Ok(rgb) => {
                let size = [SLIDE.width as usize, SLIDE.height as usize];
                ctx.copy_image(egui::ColorImage::from_rgb(size, &rgb));
                format!("Copied the figure of cell {} to the clipboard (1920x1080): paste it into a slide", cell + 1)
            }
            Err(e) => format!("Could not copy the figure of cell {}: {e}", cell + 1),
        });
    }

    pub(super) fn export_handout(&mut self, path: &Path) {
        let Some(src) = self.figure_sources() else { return };
        let page = crate::handout::handout_html(&src);
        let written = glassbox_engine::files::write_atomically(path, page.as_bytes());
        self.status = Some(match written {
            Ok(()) => format!(
                "Wrote the handout to {}: one page, every cell's figure inside, nothing else needed",
                path.display()
            ),
            Err(e) => format!("Could not write the handout to {}: {e}", path.display()),
        });
    }

    pub(super) fn export_pytorch(&mut self, path: &Path) {
        let Some(def) = self.doc.notebook.as_ref().and_then(|nb| nb.model(&self.active)).cloned() else { return };
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .filter(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .map(str::to_owned);
        let Some(stem) = stem else {
            self.status = Some(format!(
                "Could not export to {}: name the file with letters, digits, - and _ only (it becomes a Python module), such as model.py",
                path.display()
            ));
            return;
        };
        let path = path.with_extension("py");
        let weights = self.runs.get(&self.active).and_then(super::runs::ModelRun::current_weights);
        let Some(nb) = self.doc.notebook.as_ref() else { return };
        self.status = Some(match crate::export::write_pytorch(nb, &def, weights.as_ref(), &path, &stem) {
            Ok(message) => format!("Exported: {message}"),
            Err(e) => format!("Could not export {} as PyTorch: {e}", def.name),
        });
    }
}
