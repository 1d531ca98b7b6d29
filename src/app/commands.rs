//! What cells, menus, shortcuts and tests may ask for, and the one place it is applied.
//!
//! Cells only read the notebook and push [`AppCommand`]s; [`GlassboxApp::apply`] applies a
//! frame's commands after its cells are drawn, and the document records one step of undo for
//! them.

use std::collections::BTreeMap;
use std::path::PathBuf;

use eframe::egui;

use super::GlassboxApp;
use crate::notebook::{CellKind, ModelDef};

/// What a model's training cell (or the run bar) asks for.
#[derive(Clone, Debug, PartialEq)]
pub enum ModelCommand {
    /// Start (if needed) and run until paused.
    Train,
    Pause,
    StepBatch,
    StepEpoch,
    Reset,
    SetLearningRate(f64),
    SetEpochs(usize),
    SetBatchSize(usize),
    SetOptimizer(glassbox_engine::tensor::OptimizerSpec),
    SetSchedule(glassbox_engine::train::Schedule),
    /// Start the next run from the seeded initial weights instead of the saved ones.
    ForgetSavedWeights,
    /// Test loss and accuracy of the weights as they are (starting the run if needed).
    Evaluate,
    /// After a NaN or infinity, go back to the newest checkpoint of good weights.
    RestoreCheckpoint,
    /// Changes the graph so it takes the dataset: the Input's shape, a Flatten where the data
    /// kind needs one, and the last Dense layer's units.
    FitToData,
    /// Sequences written by the model from a prompt (starting the run if needed), at the moment
    /// the inspection cells show; the answer lands in the run record's `generated`.
    Generate(glassbox_engine::train::GenerateRequest),
}

/// What a cell (or a menu, a shortcut, a test) asks for.
#[derive(Clone, Debug, PartialEq)]
pub enum AppCommand {
    /// A command for the named model.
    Model {
        model: String,
        command: ModelCommand,
    },
    /// Makes the named model the one the run bar and the shortcuts act on.
    Focus(String),
    /// Adds a copy of the named model (graph and training settings) with its own cells, to compare.
    DuplicateModel(String),
    /// Deletes a model and its cells (never the last one).
    DeleteModel(String),
    RenameModel {
        from: String,
        to: String,
    },
    /// Makes a model or training cell show another model.
    SetCellModel {
        cell: usize,
        model: String,
    },
    EditMarkdown {
        cell: usize,
        text: String,
    },
    /// Starts a new, unsaved notebook (the two-spirals MLP). Asks first when there are unsaved
    /// changes.
    New,
    /// Opens a notebook file; on failure the current notebook stays. Asks first when there are
    /// unsaved changes.
    Open(PathBuf),
    /// Does what a command that replaces the notebook asked, without asking again (the answer
    /// to "save your changes?" was to discard them).
    Discarding(Box<AppCommand>),
    /// Opens the work autosaved before a crash, as unsaved changes to the file it came from.
    Recover(PathBuf),
    /// Saves to the current path (asks for one when the notebook has none, or is an example).
    Save,
    /// Saves to a new path, which becomes the current one.
    SaveAs(PathBuf),
    /// Asks for a file to open: the native dialog, or the window's own where there is none.
    OpenDialog,
    /// Asks where to save.
    SaveAsDialog,
    /// Takes back the last change to the notebook (Ctrl+Z).
    Undo,
    /// Does again what Undo took back (Ctrl+Shift+Z, Ctrl+Y).
    Redo,
    /// Switches between the dark and the light theme.
    ToggleTheme,
    /// Multiplies the size of everything (text included) by this factor.
    Zoom(f32),
    /// Moves a cell one place up (`up`) or down.
    MoveCell {
        index: usize,
        up: bool,
    },
    DeleteCell(usize),
    /// Adds a cell after this one (a text cell opens ready to edit).
    AddCell {
        after: usize,
        kind: CellKind,
    },
    /// Shows a cell beside the one before it (`true`) or below it.
    PlaceBeside {
        cell: usize,
        beside: bool,
    },
    /// Renames the notebook.
    SetTitle(String),
    /// Folds a cell to its header, or unfolds it (saved with the notebook; a step of undo, since
    /// it changes what the page shows as much as a move does).
    ToggleFolded(usize),
    /// Shows the loss curves on a logarithmic scale, or not.
    ToggleLogScale,
    /// Shows the training curves in comparison plots too, or only the test curves.
    ToggleCompareTraining,
    /// Sets how fast training runs, in steps a second (`None`: as fast as it can).
    SetSpeed(Option<f32>),
    /// The sample a model's inspection cells look at (view state, not a step of undo).
    SetSample {
        model: String,
        sample: super::inspect::Sample,
    },
    /// The moment of a model's run its inspection cells show: a snapshot's step, or `None` for
    /// now (view state).
    SetMoment {
        model: String,
        moment: Option<usize>,
    },
    /// What a model's attribution cells explain besides the sample (class, baseline, the
    /// randomisation check): view state.
    SetExplainOptions {
        model: String,
        options: super::inspect::ExplainOptions,
    },
    /// Stops the model's explanation being worked out.
    CancelExplanation(String),
    /// Presentation mode on or off.
    Present(bool),
    /// Move this many slides (presentation mode).
    MoveSlide(isize),
    /// Work out a training step by hand for entry `entry` of weight `param` (the chosen sample).
    WorkTrainingStep {
        model: String,
        param: String,
        entry: usize,
    },
    /// The node and position a step-by-step cell works out.
    SetStepView {
        cell: usize,
        view: crate::notebook::StepView,
    },
    /// The methods an attribution cell shows.
    SetAttributionMethods {
        cell: usize,
        methods: Vec<glassbox_engine::explain::Method>,
    },
    /// The graph editor draws a live preview in each node, or not.
    ToggleNodePreviews,
    /// Switches the dataset; if it cannot be built, the current one stays and the cell says why.
    SetData(glassbox_engine::data::DataSpec),
    /// Asks for a CSV file to import (`true`) or a folder of images (`false`).
    ImportDialog {
        csv: bool,
    },
    /// Replaces a model's graph (an edit in the graph editor) and where its nodes are drawn.
    /// Edits with the same `merge` key close together (a dragged parameter) are one undo step.
    EditGraph {
        model: String,
        graph: glassbox_engine::graph::GraphSpec,
        layout: BTreeMap<String, [f32; 2]>,
        merge: Option<String>,
    },
    /// Moves a model's nodes (dragged, or laid out again): saved, not a step of undo.
    SetLayout {
        model: String,
        layout: BTreeMap<String, [f32; 2]>,
    },
    /// Replaces a model with a template (graph and training settings) and the notebook's data
    /// with the template's, when it trains on other data.
    UseTemplate {
        model: String,
        template: usize,
    },
    /// Shows model cells as a table of layers, or as the graph editor.
    ToggleTableView,
    /// Asks for a graph JSON file to import into the active model (`true`), or where to export
    /// its graph.
    GraphFileDialog {
        import: bool,
    },
    /// Replaces the active model's graph with the one in a graph file.
    ImportGraph(PathBuf),
    /// Writes the active model's graph (and its layout) to a graph file.
    ExportGraph(PathBuf),
    /// Asks where to save a cell's figure (PNG or SVG, at a slide's or the print size).
    FigureDialog {
        cell: usize,
        print: bool,
        svg: bool,
    },
    /// Writes a cell's figure to a file: SVG or PNG by its extension.
    SaveFigure {
        cell: usize,
        path: PathBuf,
        print: bool,
    },
    /// Copies a cell's figure to the clipboard as a picture (slide size).
    CopyFigure(usize),
    /// Asks where to write the handout, or the active model's PyTorch script.
    HandoutDialog,
    PytorchDialog,
    /// Writes the handout: the whole notebook as one HTML page.
    ExportHandout(PathBuf),
    /// Writes the active model as a PyTorch script, with its weights and data beside it.
    ExportPytorch(PathBuf),
}

impl AppCommand {
    /// A command for the named model.
    #[must_use]
    pub fn model(model: &str, command: ModelCommand) -> Self {
        Self::Model { model: model.to_owned(), command }
    }

    /// Settings of the view (speed, log scale, which curves compare): saved, but not steps of
    /// undo, and undo keeps them as they are.
    fn is_view_only(&self) -> bool {
        matches!(
            self,
            Self::ToggleLogScale
                | Self::ToggleCompareTraining
                | Self::SetSpeed(_)
                | Self::Focus(_)
                | Self::SetLayout { .. }
                | Self::ToggleTableView
                | Self::GraphFileDialog { .. }
                | Self::ExportGraph(_)
                | Self::FigureDialog { .. }
                | Self::SaveFigure { .. }
                | Self::CopyFigure(_)
                | Self::HandoutDialog
                | Self::PytorchDialog
                | Self::ExportHandout(_)
                | Self::ExportPytorch(_)
                | Self::SetSample { .. }
                | Self::SetMoment { .. }
                | Self::SetExplainOptions { .. }
                | Self::CancelExplanation(_)
                | Self::ToggleNodePreviews
        )
    }

    /// Commands that replace the notebook, and so lose unsaved changes.
    fn replaces_notebook(&self) -> bool {
        matches!(self, Self::New | Self::Open(_))
    }

    /// Edits that arrive every frame while a value is dragged; one undo step takes them all back.
    fn merge_key(&self) -> Option<String> {
        match self {
            Self::Model { model, command: ModelCommand::SetEpochs(_) } => Some(format!("epochs {model}")),
            Self::Model { model, command: ModelCommand::SetBatchSize(_) } => Some(format!("batch {model}")),
            Self::Model { model, command: ModelCommand::SetLearningRate(_) } => Some(format!("lr {model}")),
            // Dragging the points or noise of a generated set.
            Self::SetData(_) => Some("data".into()),
            // Dragging a layer's parameter.
            Self::EditGraph { merge, .. } => merge.clone(),
            _ => None,
        }
    }
}

impl GlassboxApp {
    /// Applies the commands pushed this frame. Every change to the notebook becomes one step of
    /// undo (values being dragged merge into one step); view changes are saved but not undone.
    pub(super) fn apply(&mut self, ctx: &egui::Context) {
        // Most frames (curves moving while training) bring no command: no snapshot then.
        if self.pending.is_empty() {
            return;
        }
        let before = self.doc.notebook.clone();
        let mut history_reset = false;
        let mut view_only = true;
        let mut merge = None;
        for command in std::mem::take(&mut self.pending) {
            // New or Open over unsaved changes asks first (what it asks is in the toolbar room).
            if command.replaces_notebook() && self.doc.unsaved {
                self.confirm_replace = Some(command);
                continue;
            }
            let command = match command {
                AppCommand::Discarding(inner) => *inner,
                other => other,
            };
            view_only &= command.is_view_only();
            merge = command.merge_key();
            match command {
                AppCommand::Model { model, command } => self.apply_model(&model, command, ctx),
                AppCommand::Focus(model) => {
                    if self.doc.notebook.as_ref().is_some_and(|nb| nb.model(&model).is_some()) {
                        self.active = model;
                    }
                }
                AppCommand::DuplicateModel(name) => self.duplicate_model(&name),
                AppCommand::DeleteModel(name) => {
                    if let Some(nb) = self.doc.notebook.as_mut().filter(|nb| nb.models.len() > 1) {
                        nb.models.retain(|m| m.name != name);
                        nb.cells.retain(|c| c.model() != Some(name.as_str()));
                        self.editing = None;
                    }
                }
                AppCommand::RenameModel { from, to } => self.rename_model(&from, to.trim()),
                AppCommand::SetCellModel { cell, model } => {
                    if let Some(nb) = self.doc.notebook.as_mut() {
                        let known = nb.model(&model).is_some();
                        if let Some(m) = nb.cells.get_mut(cell).and_then(|c| c.kind.model_mut()) {
                            if known {
                                *m = model;
                            }
                        }
                    }
                }
                AppCommand::EditMarkdown { cell, text } => {
                    if let Some(CellKind::Markdown { text: old }) =
                        self.doc.notebook.as_mut().and_then(|nb| nb.cells.get_mut(cell)).map(|c| &mut c.kind)
                    {
                        *old = text;
                    }
                }
                AppCommand::New => {
                    self.new_notebook();
                    history_reset = true;
                }
                AppCommand::Open(path) => {
                    self.open(path);
                    history_reset = true;
                }
                AppCommand::Discarding(_) => {}
                AppCommand::Recover(recovery) => {
                    self.recover(&recovery);
                    history_reset = true;
                }
                AppCommand::Save => match self.doc.own_path().map(std::path::Path::to_path_buf) {
                    Some(path) => self.save_to(path),
                    None => self.file_dialog(super::files::DialogPurpose::SaveAs, ctx),
                },
                AppCommand::SaveAs(path) => self.save_to(path),
                AppCommand::OpenDialog => self.file_dialog(super::files::DialogPurpose::Open, ctx),
                AppCommand::SaveAsDialog => self.file_dialog(super::files::DialogPurpose::SaveAs, ctx),
                AppCommand::Undo | AppCommand::Redo => {
                    let redo = matches!(command, AppCommand::Redo);
                    if let Some(nb) = self.doc.step_history(redo) {
                        self.restore(nb);
                        self.status =
                            Some(if redo { "Redone".into() } else { "Undone (Ctrl+Shift+Z redoes it)".into() });
                    }
                    history_reset = true;
                    merge = None;
                }
                AppCommand::ToggleTheme => {
                    let next = match ctx.theme() {
                        egui::Theme::Dark => egui::Theme::Light,
                        egui::Theme::Light => egui::Theme::Dark,
                    };
                    ctx.set_theme(next);
                }
                AppCommand::Zoom(factor) => ctx.set_zoom_factor((ctx.zoom_factor() * factor).clamp(0.6, 3.0)),
                AppCommand::MoveCell { index, up } => {
                    if let Some(nb) = self.doc.notebook.as_mut() {
                        let other = if up { index.checked_sub(1) } else { Some(index + 1) };
                        if let Some(other) = other.filter(|&o| o < nb.cells.len() && index < nb.cells.len()) {
                            nb.cells.swap(index, other);
                            // The layout stays; the cells trade places in it.
                            let (a, b) = (nb.cells[index].beside, nb.cells[other].beside);
                            nb.cells[index].beside = b;
                            nb.cells[other].beside = a;
                            nb.cells[0].beside = false;
                            self.editing = None;
                        }
                    }
                }
                AppCommand::DeleteCell(index) => {
                    if let Some(nb) = self.doc.notebook.as_mut().filter(|nb| index < nb.cells.len()) {
                        let removed = nb.cells.remove(index);
                        // The first cell of a row goes: the next one starts the row, rather than
                        // joining the row before.
                        if !removed.beside {
                            if let Some(next) = nb.cells.get_mut(index) {
                                next.beside = false;
                            }
                        }
                        self.editing = None;
                    }
                }
                AppCommand::AddCell { after, kind } => {
                    if let Some(nb) = self.doc.notebook.as_mut() {
                        let at = (after + 1).min(nb.cells.len());
                        if let CellKind::Markdown { text } = &kind {
                            self.editing = Some((at, text.clone()));
                        }
                        nb.cells.insert(at, kind.into());
                        // The new cell is brought into view (it may be far below the menu).
                        ctx.data_mut(|d| d.insert_temp(super::cells::SCROLL_TO_CELL.into(), at));
                    }
                }
                AppCommand::PlaceBeside { cell, beside } => {
                    if let Some(c) =
                        self.doc.notebook.as_mut().and_then(|nb| nb.cells.get_mut(cell)).filter(|_| cell > 0)
                    {
                        c.beside = beside;
                    }
                }
                AppCommand::SetTitle(title) => {
                    if let Some(nb) = self.doc.notebook.as_mut().filter(|_| !title.trim().is_empty()) {
                        nb.title = title.trim().to_owned();
                    }
                }
                AppCommand::ToggleFolded(index) => {
                    if let Some(cell) = self.doc.notebook.as_mut().and_then(|nb| nb.cells.get_mut(index)) {
                        cell.folded = !cell.folded;
                    }
                }
                AppCommand::SetData(spec) => match spec.build() {
                    Ok(splits) => {
                        self.replace_data(splits);
                        if let Some(nb) = self.doc.notebook.as_mut() {
                            nb.data = spec;
                        }
                    }
                    Err(e) => self.data_error = Some(format!("{e} The previous dataset is still in use.")),
                },
                AppCommand::ImportDialog { csv } => {
                    let purpose = if csv {
                        super::files::DialogPurpose::ImportCsv
                    } else {
                        super::files::DialogPurpose::ImportImages
                    };
                    self.file_dialog(purpose, ctx);
                }
                AppCommand::ToggleLogScale => {
                    if let Some(nb) = self.doc.notebook.as_mut() {
                        nb.view.log_scale = !nb.view.log_scale;
                    }
                }
                AppCommand::ToggleCompareTraining => {
                    if let Some(nb) = self.doc.notebook.as_mut() {
                        nb.view.compare_training = !nb.view.compare_training;
                    }
                }
                AppCommand::EditGraph { model, graph, layout, merge: _ } => self.edit_graph(&model, graph, layout),
                AppCommand::SetLayout { model, layout } => {
                    if let Some(def) = self.doc.notebook.as_mut().and_then(|nb| nb.model_mut(&model)) {
                        def.layout = layout;
                    }
                }
                AppCommand::UseTemplate { model, template } => self.use_template(&model, template),
                AppCommand::ToggleTableView => {
                    if let Some(nb) = self.doc.notebook.as_mut() {
                        nb.view.table_view = !nb.view.table_view;
                    }
                }
                AppCommand::GraphFileDialog { import } => {
                    let purpose = if import {
                        super::files::DialogPurpose::ImportGraph
                    } else {
                        super::files::DialogPurpose::ExportGraph
                    };
                    self.file_dialog(purpose, ctx);
                }
                AppCommand::ImportGraph(path) => self.import_graph(&path),
                AppCommand::ExportGraph(path) => self.export_graph(&path),
                AppCommand::FigureDialog { cell, print, svg } => {
                    self.file_dialog(super::files::DialogPurpose::SaveFigure { cell, print, svg }, ctx);
                }
                AppCommand::SaveFigure { cell, path, print } => self.save_figure(cell, &path, print),
                AppCommand::CopyFigure(cell) => self.copy_figure(cell, ctx),
                AppCommand::HandoutDialog => self.file_dialog(super::files::DialogPurpose::ExportHandout, ctx),
                AppCommand::PytorchDialog => self.file_dialog(super::files::DialogPurpose::ExportPytorch, ctx),
                AppCommand::ExportHandout(path) => self.export_handout(&path),
                AppCommand::ExportPytorch(path) => self.export_pytorch(&path),
                AppCommand::SetSpeed(speed) => {
                    if let Some(nb) = self.doc.notebook.as_mut() {
                        nb.view.steps_per_second = speed;
                    }
                    self.send_pace_to_all();
                }
                AppCommand::SetSample { model, sample } => self.set_sample(&model, sample),
                AppCommand::SetMoment { model, moment } => self.set_moment(&model, moment),
                AppCommand::SetExplainOptions { model, options } => self.set_explain_options(&model, options),
                AppCommand::CancelExplanation(model) => self.cancel_explanation(&model),
                AppCommand::Present(on) => self.present(ctx, on),
                AppCommand::MoveSlide(by) => self.move_slide(by),
                AppCommand::WorkTrainingStep { model, param, entry } => self.work_training_step(&model, param, entry),
                AppCommand::SetStepView { cell, view } => {
                    if let Some(CellKind::StepByStep { view: v, .. }) =
                        self.doc.notebook.as_mut().and_then(|nb| nb.cells.get_mut(cell)).map(|c| &mut c.kind)
                    {
                        *v = view;
                    }
                }
                AppCommand::SetAttributionMethods { cell, methods } => {
                    if let Some(CellKind::Attribution { methods: m, .. }) =
                        self.doc.notebook.as_mut().and_then(|nb| nb.cells.get_mut(cell)).map(|c| &mut c.kind)
                    {
                        *m = methods;
                    }
                }
                AppCommand::ToggleNodePreviews => {
                    if let Some(nb) = self.doc.notebook.as_mut() {
                        nb.view.node_previews = !nb.view.node_previews;
                    }
                }
            }
        }
        self.sync_models();
        if history_reset {
            return;
        }
        self.doc.record(before, view_only, merge);
    }

    fn duplicate_model(&mut self, name: &str) {
        let Some(nb) = self.doc.notebook.as_mut() else { return };
        let Some(source) = nb.model(name).cloned() else { return };
        let base = format!("{name} copy");
        let copy_name = crate::notebook::unique_name(&base, |n| nb.model(n).is_some());
        nb.models.push(ModelDef { name: copy_name.clone(), ..source });
        // The copy's cells go right after the last cell of the original.
        let at = nb.cells.iter().rposition(|c| c.model() == Some(name)).map_or(nb.cells.len(), |i| i + 1);
        nb.cells.insert(at, CellKind::Training { model: copy_name.clone() }.into());
        nb.cells.insert(at, CellKind::Model { model: copy_name.clone() }.into());
        // With two models, one plot compares them.
        if !nb.cells.iter().any(|c| matches!(c.kind, CellKind::Compare)) {
            nb.cells.insert(at + 2, CellKind::Compare.into());
        }
        self.active = copy_name;
        self.status = Some("Copied the model: change its settings, train both, and compare the curves".into());
    }

    fn rename_model(&mut self, from: &str, to: &str) {
        let Some(nb) = self.doc.notebook.as_mut() else { return };
        if to.is_empty() || from == to {
            return;
        }
        if nb.model(to).is_some() {
            self.status = Some(format!("There is already a model called \"{to}\": choose another name"));
            return;
        }
        let Some(def) = nb.model_mut(from) else { return };
        def.name = to.to_owned();
        for cell in &mut nb.cells {
            if let Some(model) = cell.kind.model_mut() {
                if model == from {
                    *model = to.to_owned();
                }
            }
        }
        if let Some(run) = self.runs.remove(from) {
            self.runs.insert(to.to_owned(), run);
        }
        if self.active == from {
            self.active = to.to_owned();
        }
    }
}
