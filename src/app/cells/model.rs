//! The model cell: the model's name, copy and delete, templates, and the model itself, as a
//! graph editor (palette, canvas, the selected layer's parameters) or as a table of layers; the
//! whole model's size, every problem (a click selects its node), what the last edit did to the
//! trained weights, and whether it fits the data (with the one click that fits it).

use eframe::egui;
use glassbox_engine::graph::layout::{diff, Direction, GraphDiff};
use glassbox_engine::graph::{shape_text, LayerSpec, ShapeReport};

use super::graph_editor::{self, CanvasInput, Fragment, GraphEditor};
use super::CellContext;
use crate::app::runs::Misfit;
use crate::app::{AppCommand, ModelCommand};
use crate::notebook::{CellKind, ModelDef};

/// How wide the palette beside the canvas is, in points.
const PALETTE_WIDTH: f32 = 190.0;

/// The model: its name (editable), copy and delete, templates, then the editor or the table.
pub(super) fn show(ui: &mut egui::Ui, name: &str, cx: &mut CellContext<'_>) {
    let (Some(def), Some(run)) = (cx.notebook.model(name), cx.runs.get(name)) else {
        super::unknown_model(ui, name);
        return;
    };
    let models = cx.notebook.models.len();
    let report = &run.report;
    let table = cx.notebook.view.table_view;
    let out = &mut *cx.out;
    ui.horizontal_wrapped(|ui| {
        ui.label("name");
        let id = ui.id().with(("model-name", &def.name));
        let mut draft = ui.data_mut(|d| d.get_temp::<String>(id)).unwrap_or_else(|| def.name.clone());
        let response = ui
            .add(egui::TextEdit::singleline(&mut draft).desired_width(140.0))
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
            .on_hover_text("Add a copy of this model with its own training cell: change one thing, train both, compare the curves (the editor marks what differs)")
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
        templates_menu(ui, &def.name, &cx.notebook.data, out);
    });
    ui.horizontal_wrapped(|ui| {
        if ui.selectable_label(!table, "Graph").on_hover_text("Edit the model as layers and wires").clicked() && table {
            out.push(AppCommand::ToggleTableView);
        }
        if ui
            .selectable_label(table, "Table")
            .on_hover_text("Every layer in a table, in order: a quick read, and for screen readers")
            .clicked()
            && !table
        {
            out.push(AppCommand::ToggleTableView);
        }
        let mut previews = cx.notebook.view.node_previews;
        if ui
            .checkbox(&mut previews, "Previews")
            .on_hover_text("Draw a small live preview in each node: its output for the sample chosen in the inspection cells, or for 2-D data each unit's response over the plane")
            .changed()
        {
            out.push(AppCommand::ToggleNodePreviews);
        }
        ui.separator();
        if ui
            .button("Export graph…")
            .on_hover_text("Save this model's graph (layers, wires, places) as a JSON file, to use in another notebook")
            .clicked()
        {
            out.push(AppCommand::Focus(def.name.clone()));
            out.push(AppCommand::GraphFileDialog { import: false });
        }
        if ui
            .button("Import graph…")
            .on_hover_text("Replace this model's graph with one from a graph JSON file (Ctrl+Z undoes it)")
            .clicked()
        {
            out.push(AppCommand::Focus(def.name.clone()));
            out.push(AppCommand::GraphFileDialog { import: true });
        }
    });
    let compared = compared_with(cx.notebook.models.as_slice(), &def.name);
    // Two models are compared node by node only when one is a variant of the other (at least half
    // of the smaller graph's nodes the same): two unrelated models (an LSTM and an attention
    // model on one dataset) would have every node marked for nothing.
    let difference = compared.map(|other| (other, diff(&def.graph, &other.graph))).filter(|(other, d)| {
        let smaller = def.graph.nodes.len().min(other.graph.nodes.len());
        let same = def.graph.nodes.len().saturating_sub(d.added.len() + d.changed.len());
        2 * same >= smaller
    });
    if table {
        table_ui(ui, def, report);
    } else {
        let editor = cx.editors.entry(def.name.clone()).or_default();
        let previews = cx.notebook.view.node_previews.then(|| graph_editor::Previews {
            outputs: run.inspector.shown(run.record.inspection.as_ref()).map(|(i, _)| (i.id, i.outputs.as_slice())),
            grid: run.record.grid.as_ref().filter(|g| g.request.neurons && g.request.moment == run.inspector.moment),
        });
        let textures = &mut *cx.textures;
        let activations = cx.notebook.cells.iter().any(|c| c.kind == CellKind::Activations { model: name.to_owned() });
        editor_ui(ui, def, report, difference.as_ref().map(|(_, d)| d), editor, out, (previews, activations), textures);
    }
    // Said before an edit, so nothing trained is lost by surprise (one line either way, so the
    // page does not move when training starts).
    if !table {
        ui.weak(if run.record.latest.is_some_and(|p| p.step > 0) || run.saved_weights.is_some() {
            "Trained: an edit keeps the weights of every layer whose shapes still fit; the rest start fresh."
        } else {
            "Not trained yet: edit freely; Ctrl+Z takes back any edit."
        });
    }
    if let Some((other, d)) = &difference {
        compare_legend(ui, &other.name, d);
    }
    ui.label(format!(
        "{} trainable parameters · {} multiply-adds for each sample (dense and convolution layers)",
        report.total_params(),
        crate::app::widgets::short_number(report.total_multiply_adds() as f64)
    ));
    problems_ui(ui, report, cx.editors.get_mut(&def.name));
    if let Some(note) = &run.weights_note {
        ui.colored_label(ui.visuals().warn_fg_color, note);
    }
    if let Some(Some(misfit)) = &run.misfit {
        misfit_ui(ui, &def.name, misfit, out);
    }
}

/// The model another is compared with: a copy with its original (the first model), the first
/// model with the second.
fn compared_with<'a>(models: &'a [ModelDef], name: &str) -> Option<&'a ModelDef> {
    let first = models.first()?;
    if first.name == name {
        models.get(1)
    } else {
        Some(first)
    }
}

/// Says, in the marks' colours, how this model differs from the one it is compared with.
fn compare_legend(ui: &mut egui::Ui, other: &str, d: &GraphDiff) {
    if d.is_empty() {
        ui.weak(format!("Same graph as {other}."));
        return;
    }
    let dark = ui.visuals().dark_mode;
    let (green, amber) = if dark {
        (egui::Color32::from_rgb(60, 170, 90), egui::Color32::from_rgb(230, 170, 40))
    } else {
        (egui::Color32::from_rgb(30, 130, 60), egui::Color32::from_rgb(180, 110, 0))
    };
    ui.horizontal_wrapped(|ui| {
        ui.label(format!("Compared with {other}:"));
        let list = |set: &std::collections::BTreeSet<String>| set.iter().cloned().collect::<Vec<_>>().join(", ");
        if !d.added.is_empty() {
            ui.colored_label(green, format!("added {}", list(&d.added)));
        }
        if !d.changed.is_empty() {
            ui.colored_label(amber, format!("changed {}", list(&d.changed)));
        }
        if !d.removed.is_empty() {
            ui.label(format!("removed {}", list(&d.removed)));
        }
    });
}

/// "Start from a template": each replaces this model's graph and settings (and the notebook's
/// data, when the template trains on other data), as one step of undo.
fn templates_menu(ui: &mut egui::Ui, model: &str, data: &glassbox_engine::data::DataSpec, out: &mut Vec<AppCommand>) {
    ui.menu_button("Templates", |ui| {
        ui.weak("Replace this model with a ready-made one, with the data it trains on (Ctrl+Z undoes it):");
        for (i, t) in glassbox_engine::templates::templates().iter().enumerate() {
            let brings = if t.data.source == data.source {
                "this data".to_owned()
            } else {
                format!("switches the data to {}", super::dataset::data_name(&t.data.source))
            };
            if ui.button(format!("{}  ({brings})", t.name)).on_hover_text(t.about).clicked() {
                out.push(AppCommand::UseTemplate { model: model.to_owned(), template: i });
                ui.close();
            }
        }
    })
    .response
    .on_hover_text(
        "Start from a ready-made model: MLPs, LeNet-5, a small CNN, VGG-style, residual and Inception-style nets",
    );
}

/// Every layer in order with its output shape and parameter count.
fn table_ui(ui: &mut egui::Ui, def: &ModelDef, report: &ShapeReport) {
    let graph = &def.graph;
    egui::Grid::new(("layers", &def.name)).striped(true).num_columns(4).show(ui, |ui| {
        ui.strong("node");
        ui.strong("layer");
        ui.strong("output shape");
        ui.strong("parameters");
        ui.end_row();
        // Nodes on the path from input to output first, then any others (unconnected).
        let rest = graph.nodes.iter().map(|n| &n.id).filter(|id| !report.order.contains(id));
        for id in report.order.iter().chain(rest) {
            let Some(node) = graph.node(id) else { continue };
            ui.label(id);
            ui.label(node.layer.kind().label());
            ui.label(report.shape_of(id).map_or_else(|| "?".to_owned(), shape_text));
            ui.label(report.nodes.get(id).map_or(0, |n| n.param_count).to_string());
            ui.end_row();
        }
    });
}

/// The editor: its tools, the palette beside the canvas, and the selected node's details.
#[expect(clippy::too_many_arguments, reason = "what the editor reads, each once")]
fn editor_ui(
    ui: &mut egui::Ui,
    def: &ModelDef,
    report: &ShapeReport,
    difference: Option<&GraphDiff>,
    editor: &mut GraphEditor,
    out: &mut Vec<AppCommand>,
    (previews, activations): (Option<graph_editor::Previews<'_>>, bool),
    textures: &mut crate::app::widgets::heatmap::Textures,
) {
    let ctx = ui.ctx().clone();
    let mut edit: Option<graph_editor::Edit> = None;
    ui.horizontal_wrapped(|ui| {
        if ui.button("Fit").on_hover_text("Show the whole graph (or double-click the canvas)").clicked() {
            editor.fit();
        }
        if ui.button("Zoom +").on_hover_text("Closer (or Ctrl + mouse wheel on the canvas)").clicked() {
            editor.zoom(1.25);
        }
        if ui.button("Zoom −").on_hover_text("Further away (or Ctrl + mouse wheel on the canvas)").clicked() {
            editor.zoom(0.8);
        }
        ui.separator();
        ui.menu_button("Lay out", |ui| {
            for (label, direction, help) in [
                ("Left to right", Direction::LeftToRight, "Layers from left to right, in bands when there are many"),
                ("Top to bottom", Direction::TopToBottom, "Layers from top to bottom"),
            ] {
                if ui.button(label).on_hover_text(help).clicked() {
                    out.push(AppCommand::SetLayout {
                        model: def.name.clone(),
                        layout: editor.laid_out(&def.graph, direction),
                    });
                    editor.fit();
                    ui.close();
                }
            }
        })
        .response
        .on_hover_text("Place every node again, in layers from the input to the output");
        ui.separator();
        if ui.button("Copy").on_hover_text("Copy the selected layers (Ctrl+C)").clicked() {
            copy(&ctx, editor, def);
        }
        if ui.button("Paste").on_hover_text("Paste copied layers (Ctrl+V)").clicked() {
            edit = paste(&ctx, editor, def, None);
        }
        if ui.button("Duplicate").on_hover_text("Copy and paste the selected layers at once (Ctrl+D)").clicked() {
            edit = copy(&ctx, editor, def).and_then(|f| paste(&ctx, editor, def, Some(f)));
        }
        if ui.button("Delete").on_hover_text("Delete the selected layers (Delete); Ctrl+Z brings them back").clicked() {
            edit = delete(&ctx, editor, def);
        }
    });
    ui.horizontal_top(|ui| {
        let height = editor.canvas_height();
        ui.allocate_ui_with_layout(egui::vec2(PALETTE_WIDTH, height), egui::Layout::top_down(egui::Align::Min), |ui| {
            if let Some(e) = palette_ui(ui, editor, def) {
                edit = Some(e);
            }
        });
        ui.vertical(|ui| {
            let input = CanvasInput { def, report, diff: difference, previews };
            if let Some(e) = graph_editor::canvas_ui(ui, editor, &input, textures) {
                edit = edit.take().or(Some(e));
            }
        });
    });
    ui.weak("Drag a layer from the list onto the canvas (onto a wire to put it there), or click it to add it after the selected one. Drag from a node's right dot to another's left dot to wire them; right-click a wire to remove it. Shift+drag selects several; Ctrl+wheel zooms; drag the background to pan.");
    if let Some(notice) = &editor.notice {
        ui.colored_label(ui.visuals().warn_fg_color, notice);
    }
    // The editing keys act while the pointer is over the editor and no text field has the keys.
    let hovered = ui.rect_contains_pointer(ui.min_rect());
    if hovered && !ctx.egui_wants_keyboard_input() {
        let (copy_key, paste_key, duplicate_key, delete_key, pasted) = ctx.input(|i| {
            let key = |k| i.modifiers.command && i.key_pressed(k);
            let pasted = i.events.iter().find_map(|e| match e {
                egui::Event::Paste(text) => Some(text.clone()),
                _ => None,
            });
            (
                key(egui::Key::C) || i.events.iter().any(|e| matches!(e, egui::Event::Copy)),
                key(egui::Key::V),
                key(egui::Key::D),
                i.key_pressed(egui::Key::Delete) || i.key_pressed(egui::Key::Backspace),
                pasted,
            )
        });
        if copy_key {
            copy(&ctx, editor, def);
        }
        if let Some(text) = pasted {
            let fragment = serde_json::from_str::<Fragment>(&text).ok();
            edit = edit.or_else(|| paste(&ctx, editor, def, fragment));
        } else if paste_key {
            edit = edit.or_else(|| paste(&ctx, editor, def, None));
        }
        if duplicate_key {
            edit = edit.or_else(|| copy(&ctx, editor, def).and_then(|f| paste(&ctx, editor, def, Some(f))));
        }
        if delete_key {
            edit = edit.or_else(|| delete(&ctx, editor, def));
        }
    }
    if let Some(id) = editor.inspected.clone() {
        let layout = editor.shown_layout(def);
        if activations
            && ui
                .button(format!("Show {id}'s output in the Activations cell"))
                .on_hover_text("Scrolls down to this node's output for the chosen sample")
                .clicked()
        {
            ui.data_mut(|d| d.insert_temp(activation_jump(&def.name), id.clone()));
        }
        if let Some(e) = inspector_ui(ui, def, report, &id, &layout) {
            edit = edit.or(Some(e));
        }
    }
    if let Some(layout) = editor.moved.take() {
        out.push(AppCommand::SetLayout { model: def.name.clone(), layout });
    }
    if let Some(e) = edit {
        out.push(AppCommand::EditGraph { model: def.name.clone(), graph: e.graph, layout: e.layout, merge: e.merge });
    }
}

/// What the copy and delete actions say when no layer is selected.
const SELECT_FIRST: &str = "Select a layer first: click it (Shift+click or Shift+drag selects several)";

/// Where copied layers are kept in the window (the system clipboard gets them as JSON too).
fn clipboard_id() -> egui::Id {
    egui::Id::new("graph-clipboard")
}

fn copy(ctx: &egui::Context, editor: &mut GraphEditor, def: &ModelDef) -> Option<Fragment> {
    let Some(fragment) = editor.copy(ctx, def) else {
        editor.notice = Some(SELECT_FIRST.into());
        return None;
    };
    if let Ok(json) = serde_json::to_string(&fragment) {
        ctx.copy_text(json);
    }
    ctx.data_mut(|d| d.insert_temp(clipboard_id(), fragment.clone()));
    Some(fragment)
}

/// Pastes `fragment` (or what was copied last) beside where it was copied from.
fn paste(
    ctx: &egui::Context,
    editor: &mut GraphEditor,
    def: &ModelDef,
    fragment: Option<Fragment>,
) -> Option<graph_editor::Edit> {
    let fragment = fragment.or_else(|| ctx.data(|d| d.get_temp::<Fragment>(clipboard_id())))?;
    let mut graph = def.graph.clone();
    let mut layout = editor.shown_layout(def);
    let new = glassbox_engine::graph::edit::paste(&mut graph, &fragment.nodes, &fragment.edges);
    if new.is_empty() {
        editor.notice = Some("Nothing to paste: an Input is never copied (a graph has one)".into());
        return None;
    }
    let originals = fragment.nodes.iter().filter(|n| !matches!(n.layer, LayerSpec::Input { .. }));
    for (id, original) in new.iter().zip(originals) {
        let p = fragment.layout.get(&original.id).copied().unwrap_or_default();
        layout.insert(id.clone(), [p[0] + 40.0, p[1] + 140.0]);
    }
    editor.inspected = new.last().cloned();
    Some(graph_editor::Edit { graph, layout, merge: None })
}

fn delete(ctx: &egui::Context, editor: &mut GraphEditor, def: &ModelDef) -> Option<graph_editor::Edit> {
    let Some(fragment) = editor.copy(ctx, def) else {
        editor.notice = Some(SELECT_FIRST.into());
        return None;
    };
    let ids = fragment.nodes.iter().map(|n| n.id.clone()).collect();
    let mut graph = def.graph.clone();
    glassbox_engine::graph::edit::delete_nodes(&mut graph, &ids);
    let mut layout = editor.shown_layout(def);
    layout.retain(|id, _| graph.node(id).is_some());
    editor.inspected = None;
    Some(graph_editor::Edit { graph, layout, merge: None })
}

/// The palette: a search field and every layer kind by group. Click adds the layer after the
/// selected node; dragging puts it where it is dropped (onto a wire: into that wire).
fn palette_ui(ui: &mut egui::Ui, editor: &mut GraphEditor, def: &ModelDef) -> Option<graph_editor::Edit> {
    ui.add(
        egui::TextEdit::singleline(&mut editor.search).hint_text("search layers").desired_width(PALETTE_WIDTH - 8.0),
    )
    .on_hover_text("Type part of a layer's name");
    let needle = editor.search.to_lowercase();
    let mut chosen = None;
    let height = editor.canvas_height();
    egui::ScrollArea::vertical().id_salt("palette").max_height(height - 30.0).show(ui, |ui| {
        for (group, kinds) in graph_editor::palette_groups() {
            let kinds: Vec<_> =
                kinds.into_iter().filter(|k| needle.is_empty() || k.label().to_lowercase().contains(&needle)).collect();
            if kinds.is_empty() {
                continue;
            }
            ui.weak(group);
            // Several to a row, so the whole palette is in view beside the canvas.
            ui.horizontal_wrapped(|ui| {
                ui.spacing_mut().item_spacing = egui::vec2(4.0, 4.0);
                for kind in kinds {
                    let response = ui
                        .add(egui::Button::new(kind.label()).sense(egui::Sense::click_and_drag()))
                        .on_hover_text(format!(
                            "{} Click to add it after the selected layer, or drag it onto the canvas.",
                            kind.about()
                        ));
                    if response.drag_started() {
                        egui::DragAndDrop::set_payload(ui.ctx(), kind);
                    }
                    if response.dragged() {
                        // The layer follows the pointer until it is dropped.
                        ui.ctx().set_cursor_icon(egui::CursorIcon::Grabbing);
                        if let Some(at) = ui.ctx().pointer_interact_pos() {
                            egui::Area::new(egui::Id::new(("palette-drag", kind.label())))
                                .order(egui::Order::Tooltip)
                                .fixed_pos(at + egui::vec2(8.0, 8.0))
                                .interactable(false)
                                .show(ui.ctx(), |ui| {
                                    egui::Frame::popup(ui.style()).show(ui, |ui| ui.label(kind.label()));
                                });
                        }
                    }
                    if response.clicked() {
                        chosen = Some(kind);
                    }
                }
            });
        }
    });
    let kind = chosen?;
    let mut graph = def.graph.clone();
    let mut layout = editor.shown_layout(def);
    let after = editor.inspected.clone().filter(|id| graph.node(id).is_some());
    let layer = kind.example();
    use glassbox_engine::graph::edit;
    let new = match &after {
        // Into the selected node's first outgoing wire, or after it at the end.
        Some(from) if layer.arity().1 > 0 => {
            let wire = graph.edges.iter().find(|e| &e.from == from).map(|e| (e.to.clone(), e.port));
            match wire {
                Some((to, port)) => edit::insert_on_wire(&mut graph, &to, port, layer)?,
                None => {
                    let id = edit::add_node(&mut graph, layer);
                    edit::connect(&mut graph, from, &id, 0);
                    if graph.output.as_deref() == Some(from.as_str()) || graph.output.is_none() {
                        graph.output = Some(id.clone());
                    }
                    id
                }
            }
        }
        _ => edit::add_node(&mut graph, layer),
    };
    let place = match after.as_ref().and_then(|a| layout.get(a)).copied() {
        // After the selected node: the nodes further along move over to make room.
        Some(base) => {
            let width = editor.node_width(after.as_deref().unwrap_or_default());
            // Every node right of the selected one moves over (whatever its measured width).
            graph_editor::make_room(&mut layout, base[0] + 1.0);
            [base[0] + width + graph_editor::GAP, base[1]]
        }
        // Nothing selected: beside the graph, where it covers nothing.
        None => {
            editor.notice = Some(format!(
                "{} is added on its own: wire it in, or select a layer first to add the next one after it",
                kind.label()
            ));
            graph_editor::free_place(&layout, |id| editor.node_width(id))
        }
    };
    layout.insert(new.clone(), place);
    editor.inspected = Some(new);
    editor.keep_in_view(&layout);
    Some(graph_editor::Edit { graph, layout, merge: None })
}

/// Where the editor asks the activations cell to scroll to a node (egui's memory, per model).
pub(super) fn activation_jump(model: &str) -> egui::Id {
    egui::Id::new(("activation-jump", model))
}

/// The selected node in full: what it does, its formula, every parameter with a line on each,
/// its output shape, parameter count and multiply-adds.
fn inspector_ui(
    ui: &mut egui::Ui,
    def: &ModelDef,
    report: &ShapeReport,
    id: &str,
    layout: &graph_editor::Layout,
) -> Option<graph_editor::Edit> {
    let node = def.graph.node(id)?;
    let kind = node.layer.kind();
    let info = report.nodes.get(id);
    let mut edit = None;
    egui::Frame::group(ui.style()).show(ui, |ui| {
        ui.horizontal_wrapped(|ui| {
            ui.strong(format!("{} · {id}", kind.label()));
            ui.label(kind.about());
        });
        ui.weak("computes");
        ui.add(egui::Label::new(egui::RichText::new(kind.formula()).monospace()).wrap());
        let docs = kind.params();
        egui::Grid::new(("inspector", &def.name, id)).num_columns(3).show(ui, |ui| {
            for (name, value) in graph_editor::fields(&node.layer) {
                ui.label(&name);
                let changed = match &value {
                    serde_json::Value::Array(items) => shape_field(ui, &def.name, id, &name, items),
                    serde_json::Value::Null => {
                        let mut auto = true;
                        (ui.checkbox(&mut auto, "same as size").changed() && !auto).then(|| {
                            let size = node_size(&node.layer);
                            serde_json::Value::from(size)
                        })
                    }
                    _ => graph_editor::field_ui(ui, &name, &value),
                };
                let about = docs.iter().find(|d| d.name == name).map_or("", |d| d.about);
                ui.weak(about);
                ui.end_row();
                if let Some(layer) = changed.and_then(|v| graph_editor::with_field(&node.layer, &name, v)) {
                    let mut graph = def.graph.clone();
                    if let Some(n) = graph.nodes.iter_mut().find(|n| n.id == id) {
                        n.layer = layer;
                    }
                    let merge = Some(format!("graph {} {id} {name}", def.name));
                    edit = Some(graph_editor::Edit { graph, layout: layout.clone(), merge });
                }
            }
        });
        if let Some(info) = info {
            ui.label(format!(
                "output {} · {} parameters · {} multiply-adds · input from {}",
                info.output_shape.as_deref().map_or_else(|| "?".to_owned(), shape_text),
                info.param_count,
                crate::app::widgets::short_number(info.multiply_adds as f64),
                if info.inputs.is_empty() { "nothing".to_owned() } else { info.inputs.join(", ") },
            ));
        }
    });
    edit
}

/// A pooling layer's window size (the stride it takes when it has none of its own).
fn node_size(layer: &LayerSpec) -> usize {
    match layer {
        LayerSpec::MaxPool2d { size, .. } | LayerSpec::AvgPool2d { size, .. } => *size,
        _ => 1,
    }
}

/// A shape typed as numbers separated by commas, applied when the field loses focus.
fn shape_field(
    ui: &mut egui::Ui,
    model: &str,
    node: &str,
    name: &str,
    items: &[serde_json::Value],
) -> Option<serde_json::Value> {
    let text = items.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
    let id = egui::Id::new(("shape-field", model, node, name));
    let mut draft = ui.data_mut(|d| d.get_temp::<String>(id)).unwrap_or_else(|| text.clone());
    let response = ui
        .add(egui::TextEdit::singleline(&mut draft).desired_width(120.0))
        .on_hover_text("Numbers separated by commas, e.g. 1, 28, 28 for a grey 28x28 image");
    if response.has_focus() {
        ui.data_mut(|d| d.insert_temp(id, draft.clone()));
        return None;
    }
    ui.data_mut(|d| d.remove::<String>(id));
    if !response.lost_focus() || draft == text {
        return None;
    }
    let numbers: Option<Vec<u64>> = draft.split(',').map(|s| s.trim().parse::<u64>().ok().filter(|&n| n > 0)).collect();
    numbers.filter(|n| !n.is_empty()).map(serde_json::Value::from)
}

/// Every problem of the graph; a click on one selects its node in the editor.
fn problems_ui(ui: &mut egui::Ui, report: &ShapeReport, mut editor: Option<&mut GraphEditor>) {
    for problem in &report.problems {
        let text = egui::RichText::new(format!("⚠ {problem}")).color(ui.visuals().warn_fg_color);
        match (&problem.node, editor.as_deref_mut()) {
            (Some(node), Some(editor)) => {
                if ui.add(egui::Label::new(text).sense(egui::Sense::click())).on_hover_text("Show this node").clicked()
                {
                    editor.focus(node);
                }
            }
            _ => {
                ui.label(text);
            }
        }
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
