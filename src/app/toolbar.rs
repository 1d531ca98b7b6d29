//! The frame around the cells: the toolbar (files, undo, theme, text size), the keyboard
//! shortcuts, the run bar at the bottom (always in view), the notebook's title, and the
//! questions asked before work could be lost.

use eframe::egui;
use glassbox_engine::train::RunState;

use super::cells::training::{averaged, buttons_ui, speed_ui};
use super::files::{examples, recent_label, recovery_origin};
use super::{AppCommand, GlassboxApp, ModelCommand};

impl GlassboxApp {
    pub(super) fn toolbar_ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal_wrapped(|ui| {
            if ui
                .button("New")
                .on_hover_text("Start a new notebook: a small network on the two spirals (Ctrl+N)")
                .clicked()
            {
                self.pending.push(AppCommand::New);
            }
            if ui.button("Open…").on_hover_text("Open a notebook file (Ctrl+O)").clicked() {
                self.pending.push(AppCommand::OpenDialog);
            }
            ui.menu_button("Examples", |ui| {
                for (title, path) in examples() {
                    if ui.button(title).on_hover_text(path.display().to_string()).clicked() {
                        self.pending.push(AppCommand::Open(path.clone()));
                        ui.close();
                    }
                }
            })
            .response
            .on_hover_text("The lessons that come with Glassbox");
            ui.add_enabled_ui(!self.files.recent.is_empty(), |ui| {
                ui.menu_button("Recent", |ui| {
                    for path in &self.files.recent {
                        if ui.button(recent_label(path)).on_hover_text(path.display().to_string()).clicked() {
                            self.pending.push(AppCommand::Open(path.clone()));
                            ui.close();
                        }
                    }
                })
                .response
                .on_hover_text("Notebooks you opened or saved lately");
            });
            if ui.button("Save").on_hover_text("Save this notebook to its file (Ctrl+S)").clicked() {
                self.pending.push(AppCommand::Save);
            }
            if ui.button("Save as…").on_hover_text("Save this notebook to a new file").clicked() {
                self.pending.push(AppCommand::SaveAsDialog);
            }
            let active = self.active.clone();
            ui.menu_button("Export", |ui| {
                if ui
                    .button("Handout (one HTML page)…")
                    .on_hover_text("The whole notebook as one web page to hand out: the text, every cell's figure as it is now, the model's layers and its final scores (no internet or JavaScript needed)")
                    .clicked()
                {
                    self.pending.push(AppCommand::HandoutDialog);
                    ui.close();
                }
                if ui
                    .add_enabled(!active.is_empty(), egui::Button::new(format!("{active} as PyTorch code…")))
                    .on_hover_text("The model as a PyTorch script (a class Model, its trained weights beside it, the data, the same training loop; runs under torchrun too)")
                    .clicked()
                {
                    self.pending.push(AppCommand::PytorchDialog);
                    ui.close();
                }
                ui.separator();
                ui.weak("A cell's figure: \"Save figure…\" in its header, or right-click it.");
            })
            .response
            .on_hover_text("Take the lesson out of the app: a handout, the model as PyTorch code");
            ui.separator();
            if ui
                .add_enabled(self.doc.can_undo(), egui::Button::new("Undo"))
                .on_hover_text("Take back the last change to the notebook (Ctrl+Z)")
                .clicked()
            {
                self.pending.push(AppCommand::Undo);
            }
            if ui
                .add_enabled(self.doc.can_redo(), egui::Button::new("Redo"))
                .on_hover_text("Do again what Undo took back (Ctrl+Shift+Z)")
                .clicked()
            {
                self.pending.push(AppCommand::Redo);
            }
            ui.separator();
            let theme = if ui.visuals().dark_mode { "☀ Light" } else { "🌙 Dark" };
            if ui.button(theme).on_hover_text("Switch between the dark and the light theme").clicked() {
                self.pending.push(AppCommand::ToggleTheme);
            }
            if ui.button("A−").on_hover_text("Smaller text and controls").clicked() {
                self.pending.push(AppCommand::Zoom(1.0 / 1.15));
            }
            if ui.button("A+").on_hover_text("Larger text and controls, for a projector").clicked() {
                self.pending.push(AppCommand::Zoom(1.15));
            }
            ui.separator();
            if ui
                .button("▶ Present")
                .on_hover_text("Show the notebook as slides for a projector: a row of cells at a time, larger text, arrow keys to move, Esc to leave (F5)")
                .clicked()
            {
                self.pending.push(AppCommand::Present(true));
            }
        });
        // On a line of its own, so a long message wraps instead of being cut (at A+ it would be);
        // always there, so a message appearing does not push the page down under the mouse.
        ui.add(egui::Label::new(self.status.as_deref().unwrap_or(" ")).wrap());
        if let Some(recovery) = self.files.offer_recovery.clone() {
            ui.horizontal_wrapped(|ui| {
                ui.colored_label(
                    ui.visuals().warn_fg_color,
                    "Glassbox did not close cleanly last time. Unsaved work was kept.",
                );
                if ui.button("Recover").on_hover_text("Open the work saved automatically before the crash").clicked() {
                    self.pending.push(AppCommand::Recover(recovery.clone()));
                    self.files.offer_recovery = None;
                }
                if ui.button("Discard").on_hover_text("Delete the automatically saved copy").clicked() {
                    let _ = std::fs::remove_file(&recovery);
                    let _ = std::fs::remove_file(recovery_origin(&recovery));
                    self.files.offer_recovery = None;
                }
            });
        }
    }

    /// The run bar, always in view: Train/Pause, Step, Epoch, Reset, the speed, and the epoch and
    /// averaged loss and accuracy of the model in focus (the one whose controls were used last;
    /// a picker when there are several).
    pub(super) fn run_bar_ui(&mut self, ui: &mut egui::Ui) {
        let Some(nb) = self.doc.notebook.as_ref() else { return };
        let model = self.active.clone();
        let Some(run) = self.runs.get(&model) else { return };
        let record = &run.record;
        let blocked = !run.report.is_ok() || matches!(&run.misfit, Some(Some(_)));
        let running = matches!(record.state, RunState::Running);
        let out = &mut self.pending;
        ui.horizontal_wrapped(|ui| {
            if nb.models.len() > 1 {
                egui::ComboBox::from_id_salt("run-bar-model")
                    .selected_text(&model)
                    .show_ui(ui, |ui| {
                        for m in &nb.models {
                            if ui.selectable_label(m.name == model, &m.name).clicked() && m.name != model {
                                out.push(AppCommand::Focus(m.name.clone()));
                            }
                        }
                    })
                    .response
                    .on_hover_text("The model these controls train");
            } else {
                ui.strong(&model);
            }
            ui.add_enabled_ui(!blocked || running, |ui| buttons_ui(ui, &model, record, &nb.view.hide, out))
                .response
                .on_disabled_hover_text("This model cannot train yet: its cells say why");
            if !nb.view.hide.contains(&crate::notebook::Control::Speed) {
                ui.separator();
                speed_ui(ui, nb.view.steps_per_second, out);
            }
            ui.separator();
            let epochs = run.target(nb.model(&model).map_or(1, |m| m.training.epochs));
            let epoch = record.latest.map_or(0.0, |p| p.epoch);
            // Fixed widths, so the bar does not change its wrapping (and the page its height)
            // as the numbers change.
            ui.label(format!("epoch {epoch:.1} of {epochs}"));
            if blocked && !running {
                ui.colored_label(ui.visuals().warn_fg_color, "cannot train yet: its cells say why");
            }
            match averaged(record) {
                Some((loss, accuracy)) => {
                    ui.label(format!("loss {loss:.3}"))
                        .on_hover_text("Training loss averaged over the last batches, as in the curves");
                    if !self
                        .splits
                        .as_ref()
                        .is_some_and(|s| matches!(s.train.targets, glassbox_engine::data::Targets::Values(_)))
                    {
                        ui.label(format!("accuracy {accuracy:.3}"))
                            .on_hover_text("Training accuracy averaged over the last batches, as in the curves");
                    }
                }
                None if run.saved_weights.is_some() => {
                    ui.weak("starts from trained weights");
                }
                None => {
                    ui.weak("not trained yet");
                }
            }
            if let RunState::Paused(reason) = &record.state {
                if reason.alarm().is_some() {
                    ui.colored_label(ui.visuals().error_fg_color, "paused: see its training cell");
                }
            }
        });
    }

    /// Space trains or pauses and S steps: the only keys kept while presenting (nothing edits).
    pub(super) fn live_shortcuts(&mut self, ui: &egui::Ui) {
        if ui.ctx().egui_wants_keyboard_input() {
            return;
        }
        let running = matches!(self.record().state, RunState::Running);
        let (space, step) =
            ui.input(|i| (i.key_pressed(egui::Key::Space), !i.modifiers.command && i.key_pressed(egui::Key::S)));
        let active = self.active.clone();
        if space {
            let command = if running { ModelCommand::Pause } else { ModelCommand::Train };
            self.pending.push(AppCommand::model(&active, command));
        }
        if step && !running {
            self.pending.push(AppCommand::model(&active, ModelCommand::StepBatch));
        }
    }

    /// Space: train or pause; S: one step; Ctrl+S: save; Ctrl+O: open; Ctrl+N: new; Ctrl+Z:
    /// undo; Ctrl+Shift+Z or Ctrl+Y: redo. Not while typing (text fields have their own undo).
    pub(super) fn shortcuts(&mut self, ui: &egui::Ui) {
        if ui.ctx().egui_wants_keyboard_input() {
            return;
        }
        let (save, open, new, undo, redo) = ui.input(|i| {
            let (command, shift) = (i.modifiers.command, i.modifiers.shift);
            (
                command && i.key_pressed(egui::Key::S),
                command && i.key_pressed(egui::Key::O),
                command && i.key_pressed(egui::Key::N),
                command && !shift && i.key_pressed(egui::Key::Z),
                command && ((shift && i.key_pressed(egui::Key::Z)) || i.key_pressed(egui::Key::Y)),
            )
        });
        for (pressed, command) in [
            (save, AppCommand::Save),
            (open, AppCommand::OpenDialog),
            (new, AppCommand::New),
            (undo, AppCommand::Undo),
            (redo, AppCommand::Redo),
        ] {
            if pressed {
                self.pending.push(command);
            }
        }
        self.live_shortcuts(ui);
    }

    /// The notebook's title, with a mark while it has unsaved changes; double-click to rename.
    pub(super) fn title_ui(&mut self, ui: &mut egui::Ui) {
        let Some(nb) = self.doc.notebook.as_ref() else {
            ui.heading("Glassbox");
            return;
        };
        if let Some(draft) = self.editing_title.as_mut() {
            let response =
                ui.add(egui::TextEdit::singleline(draft).font(egui::TextStyle::Heading).desired_width(500.0));
            if !response.has_focus() && !response.lost_focus() {
                response.request_focus();
            }
            if response.lost_focus() {
                let escaped = ui.input(|i| i.key_pressed(egui::Key::Escape));
                if let Some(title) = self.editing_title.take().filter(|_| !escaped) {
                    self.pending.push(AppCommand::SetTitle(title));
                }
            }
            return;
        }
        ui.horizontal(|ui| {
            let title = ui
                .add(
                    egui::Label::new(egui::RichText::new(&nb.title).heading())
                        .selectable(false)
                        .sense(egui::Sense::click()),
                )
                .on_hover_text("Double-click to rename the notebook");
            if title.double_clicked() {
                self.editing_title = Some(nb.title.clone());
            }
            if self.doc.unsaved {
                ui.label(egui::RichText::new("• unsaved changes").color(ui.visuals().warn_fg_color))
                    .on_hover_text("Save (Ctrl+S) to keep them");
            }
        });
    }

    /// The question asked before the window closes, or before New or Open replaces a notebook,
    /// with unsaved changes: save, save as, discard, or cancel.
    pub(super) fn unsaved_question(&mut self, ctx: &egui::Context) {
        if ctx.input(|i| i.viewport().close_requested()) && self.doc.unsaved && !self.closing {
            ctx.send_viewport_cmd(egui::ViewportCommand::CancelClose);
            self.confirm_close = true;
        }
        let replacing = self.confirm_replace.clone();
        if !self.confirm_close && replacing.is_none() {
            return;
        }
        let can_save = self.doc.own_path().is_some();
        let (then, heading) = match &replacing {
            Some(AppCommand::New) => ("start a new notebook", "Save your changes before starting a new notebook?"),
            Some(_) => ("open the other notebook", "Save your changes before opening another notebook?"),
            None => ("close", "Save your changes?"),
        };
        egui::Modal::new(egui::Id::new("unsaved-question")).show(ctx, |ui| {
            ui.heading(heading);
            ui.label(format!(
                "This notebook has changes that are not saved. If you {then} without saving, they are lost."
            ));
            ui.horizontal(|ui| {
                if ui
                    .add_enabled(can_save, egui::Button::new(format!("Save and {then}")))
                    .on_hover_text("Save the notebook (and its trained weights) to its file first")
                    .clicked()
                {
                    self.pending.push(AppCommand::Save);
                    match replacing.clone() {
                        Some(next) => {
                            // Only once the save succeeded (a failed save keeps the notebook).
                            self.after_save = Some(next);
                            self.confirm_replace = None;
                        }
                        None => {
                            self.closing = true;
                            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
                        }
                    }
                }
                if ui.button("Save as…").on_hover_text("Choose where to keep this notebook first").clicked() {
                    self.pending.push(AppCommand::SaveAsDialog);
                    self.after_save = replacing.clone();
                    self.confirm_replace = None;
                    self.confirm_close = false;
                }
                if ui.button("Discard changes").on_hover_text(format!("Lose the changes and {then}")).clicked() {
                    match replacing.clone() {
                        Some(next) => {
                            self.pending.push(AppCommand::Discarding(Box::new(next)));
                            self.confirm_replace = None;
                        }
                        None => {
                            self.closing = true;
                            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
                        }
                    }
                }
                if ui.button("Cancel").on_hover_text("Keep working on this notebook").clicked() {
                    self.confirm_close = false;
                    self.confirm_replace = None;
                }
            });
        });
    }
}
