//! Presentation mode (F5, or "Present" in the toolbar): the notebook as slides for a projector.
//! One slide per row of cells (a cell and those placed beside it), folded cells left out, larger
//! text, the editing controls (file buttons, cell menus) hidden, the live ones kept: the run bar
//! (Train, speed) and every control inside a cell (sample choice, sliders). Arrow keys or Page
//! Up/Down move, Home and End jump, Escape returns to the notebook.

use eframe::egui;

use super::{AppCommand, GlassboxApp};

/// How much larger text and controls are while presenting.
const ZOOM: f32 = 1.35;

/// Where the presentation is.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Presentation {
    pub slide: usize,
    /// The text size before presenting, given back after.
    zoom_before: f32,
}

impl GlassboxApp {
    /// The slides: each a row of cells shown together, folded cells left out.
    pub(super) fn slides(&self) -> Vec<Vec<usize>> {
        let Some(nb) = self.doc.notebook.as_ref() else { return Vec::new() };
        let mut slides: Vec<Vec<usize>> = Vec::new();
        for (i, cell) in nb.cells.iter().enumerate() {
            if cell.folded {
                continue;
            }
            match slides.last_mut() {
                Some(row) if cell.beside && row.last() == Some(&(i - 1)) => row.push(i),
                _ => slides.push(vec![i]),
            }
        }
        slides
    }

    /// Which slide is shown and how many there are, while presenting (tests).
    #[doc(hidden)]
    #[must_use]
    pub fn presenting(&self) -> Option<(usize, usize)> {
        self.presentation.map(|p| (p.slide, self.slides().len()))
    }

    /// Starts presenting at the first slide, or stops (giving the text size back).
    pub(super) fn present(&mut self, ctx: &egui::Context, on: bool) {
        match (on, self.presentation) {
            (true, None) => {
                if self.slides().is_empty() {
                    self.status = Some("This notebook has no cells to present (folded cells are left out).".to_owned());
                    return;
                }
                let zoom_before = ctx.zoom_factor();
                ctx.set_zoom_factor(zoom_before * ZOOM);
                self.presentation = Some(Presentation { slide: 0, zoom_before });
            }
            (false, Some(p)) => {
                ctx.set_zoom_factor(p.zoom_before);
                self.presentation = None;
                self.scroll_to_top = true;
            }
            _ => {}
        }
    }

    /// Moves `by` slides (clamped to the first and last).
    pub(super) fn move_slide(&mut self, by: isize) {
        let count = self.slides().len();
        if let Some(p) = self.presentation.as_mut() {
            p.slide = p.slide.saturating_add_signed(by).min(count.saturating_sub(1));
        }
    }

    /// The keys of presentation mode: F5 starts and Escape ends it; arrows, Page Up/Down, Home
    /// and End move. Not while typing.
    pub(super) fn presentation_keys(&mut self, ui: &egui::Ui) {
        if ui.ctx().egui_wants_keyboard_input() {
            return;
        }
        let presenting = self.presentation.is_some();
        let (f5, escape, next, back, home, end) = ui.input(|i| {
            let any = |keys: &[egui::Key]| keys.iter().any(|k| i.key_pressed(*k));
            (
                i.key_pressed(egui::Key::F5),
                i.key_pressed(egui::Key::Escape),
                any(&[egui::Key::ArrowRight, egui::Key::ArrowDown, egui::Key::PageDown]),
                any(&[egui::Key::ArrowLeft, egui::Key::ArrowUp, egui::Key::PageUp]),
                i.key_pressed(egui::Key::Home),
                i.key_pressed(egui::Key::End),
            )
        });
        if f5 {
            self.pending.push(AppCommand::Present(!presenting));
        }
        if !presenting {
            return;
        }
        if escape {
            self.pending.push(AppCommand::Present(false));
        }
        let count = self.slides().len() as isize;
        for (pressed, by) in [(next, 1), (back, -1), (home, -count), (end, count)] {
            if pressed {
                self.pending.push(AppCommand::MoveSlide(by));
            }
        }
    }

    /// The bar above a slide: where it is, how to move, how to leave.
    pub(super) fn slide_bar_ui(&mut self, ui: &mut egui::Ui) {
        let Some(p) = self.presentation else { return };
        let count = self.slides().len();
        ui.horizontal(|ui| {
            if ui.add_enabled(p.slide > 0, egui::Button::new("◀")).on_hover_text("The slide before (←)").clicked() {
                self.pending.push(AppCommand::MoveSlide(-1));
            }
            ui.strong(format!("Slide {} of {count}", p.slide + 1));
            if ui.add_enabled(p.slide + 1 < count, egui::Button::new("▶")).on_hover_text("The next slide (→)").clicked()
            {
                self.pending.push(AppCommand::MoveSlide(1));
            }
            ui.separator();
            if let Some(nb) = self.doc.notebook.as_ref() {
                ui.label(&nb.title);
            }
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                if ui.button("Leave (Esc)").on_hover_text("Back to the notebook").clicked() {
                    self.pending.push(AppCommand::Present(false));
                }
                ui.weak("arrow keys move");
            });
        });
    }

    /// The current slide's cells, beside each other, without their headers.
    pub(super) fn slide_ui(&mut self, ui: &mut egui::Ui) {
        let Some(p) = self.presentation else { return };
        let slides = self.slides();
        let Some(row) = slides.get(p.slide.min(slides.len().saturating_sub(1))) else { return };
        self.show_cells(ui, Some(row));
    }
}
