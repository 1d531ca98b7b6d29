//! Lesson text in Markdown (headings, lists, tables, code, links, images), rendered with
//! `egui_commonmark`. Double-click to edit.

use eframe::egui;

use super::CellContext;
use crate::app::AppCommand;

pub(super) fn show(ui: &mut egui::Ui, index: usize, text: &str, cx: &mut CellContext<'_>) {
    if let Some((cell, draft)) = cx.editing.as_mut().filter(|(c, _)| *c == index) {
        ui.add(egui::TextEdit::multiline(draft).desired_width(f32::INFINITY).desired_rows(6).code_editor());
        let done = ui
            .horizontal(|ui| {
                let done = ui.button("Done").on_hover_text("Keep the edited text").clicked();
                ui.weak("Markdown: # heading, **bold**, *italic*, - list, `code`, | tables |, [links](https://…)");
                done
            })
            .inner;
        if done {
            cx.out.push(AppCommand::EditMarkdown { cell: *cell, text: draft.clone() });
            *cx.editing = None;
        }
        return;
    }
    let response = ui
        .vertical(|ui| {
            ui.set_width(ui.available_width());
            // Selectable labels would take the clicks that open the text for editing.
            ui.style_mut().interaction.selectable_labels = false;
            if text.trim().is_empty() {
                ui.weak("An empty text cell: double-click here to write in it.");
            } else {
                egui_commonmark::CommonMarkViewer::new().show(ui, cx.markdown, text);
            }
        })
        .response;
    if response.interact(egui::Sense::click()).on_hover_text("Double-click to edit this text").double_clicked() {
        *cx.editing = Some((index, text.to_owned()));
    }
}
