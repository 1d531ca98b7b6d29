//! The graph editor in the model cell: the model as nodes and wires (egui-snarl), a palette of
//! every layer kind, the shapes on every node and wire, problems in red on their nodes, and
//! every edit sent to the app as a whole new graph (`AppCommand::EditGraph`), so each edit is
//! one step of the notebook's undo. The editor keeps only view state between frames (where the
//! canvas looks, which node is shown in detail); the notebook holds the graph and its layout.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use eframe::egui::{self, emath::TSTransform, Color32, Pos2, Rect, Stroke, Vec2};
use egui_snarl::ui::{AnyPins, PinInfo, PinPlacement, SnarlPin, SnarlStyle, SnarlViewer, SnarlWidget, WireStyle};
use egui_snarl::{InPin, OutPin, Snarl};
use glassbox_engine::graph::layout::{layered_sized, Direction, GraphDiff};
use glassbox_engine::graph::{edit, shape_text, EdgeSpec, GraphSpec, LayerKind, LayerSpec, NodeSpec, ShapeReport};
use serde::{Deserialize, Serialize};

use crate::notebook::ModelDef;

/// Where each node is drawn (top-left corner, graph units), by node id.
pub(in crate::app) type Layout = BTreeMap<String, [f32; 2]>;

/// How tall the canvas is at most, and at least, in points.
pub(super) const CANVAS_HEIGHT: f32 = 430.0;
/// At least as tall as the palette beside it.
const CANVAS_MIN_HEIGHT: f32 = 400.0;
/// How long a laid-out band of layers may be, in graph units, before the next layers start a
/// band below: about the canvas's width at a zoom where a node's text reads well.
const WRAP_WIDTH: f32 = 1350.0;

/// A change of where the canvas looks, asked for by a button and made in the next frame.
#[derive(Clone, Copy, Debug, PartialEq)]
enum ViewRequest {
    /// Every node in view.
    Fit,
    /// Every node in view, once the change made this frame (a new layout) has landed.
    FitSoon,
    /// Closer (> 1) or further (< 1), about the canvas's centre.
    Zoom(f32),
    /// The node at the centre, at the current zoom.
    Center,
}

/// One model's editor between frames: the snarl built from the graph, and what the canvas shows.
pub(in crate::app) struct GraphEditor {
    snarl: Snarl<String>,
    /// The graph and the (completed) layout the snarl was built from.
    built: Option<(GraphSpec, Layout)>,
    by_id: HashMap<String, egui_snarl::NodeId>,
    /// The node shown in detail under the canvas (a click on a node, a problem, or a palette add).
    pub inspected: Option<String>,
    /// Last frame's canvas on the screen, each node's rect in graph units, and the rows of their
    /// pins (for drops on wires, shapes on wires, and fitting the view).
    canvas: Rect,
    rects: HashMap<String, Rect>,
    out_rows: HashMap<String, f32>,
    in_rows: HashMap<(String, usize), f32>,
    request: Option<ViewRequest>,
    /// The snarl was rebuilt: draw once more, so sizes and wire labels settle.
    settle: bool,
    /// The parameters shown on each node, by node id (worked out when the graph changes).
    inline: HashMap<String, Vec<(String, serde_json::Value)>>,
    /// Frames drawn since the snarl was rebuilt (node sizes are right from the second).
    measured_frames: u32,
    /// The layout made for a graph without saved places, once measured.
    auto: Option<(GraphSpec, Layout)>,
    /// Last frame's map from graph units to the screen.
    to_global: TSTransform,
    /// The palette's search text.
    pub search: String,
    /// Nodes moved with the mouse, once the button is up: their new places, to save.
    pub moved: Option<Layout>,
    /// Why the last wire or paste was refused, shown under the canvas.
    pub notice: Option<String>,
    /// The nodes that showed a preview last frame.
    pub previewed: Vec<String>,
    /// Whether nodes had previews last frame (a change lays an automatic layout out again).
    previews_on: bool,
}

/// Nodes copied with Ctrl+C, with their wires and places; also put on the system clipboard as
/// JSON, so they can be pasted into another model or another window.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(in crate::app) struct Fragment {
    pub nodes: Vec<NodeSpec>,
    pub edges: Vec<EdgeSpec>,
    #[serde(default)]
    pub layout: Layout,
}

/// The layout with a place for every node: the saved places, then for a node without one (a
/// graph from a file written by hand, a node added by fitting the data) a place beside its
/// input; a graph with no saved places at all is laid out in layers.
#[must_use]
pub(in crate::app) fn complete_layout(graph: &GraphSpec, saved: &Layout) -> Layout {
    complete_layout_sized(graph, saved, &HashMap::new(), WRAP_WIDTH)
}

/// [`complete_layout`] with the nodes' measured sizes (a laid-out graph takes no more room than
/// its nodes need).
fn complete_layout_sized(graph: &GraphSpec, saved: &Layout, sizes: &HashMap<String, Rect>, wrap: f32) -> Layout {
    let known = graph.nodes.iter().filter(|n| saved.contains_key(&n.id)).count();
    if known == 0 {
        return layered_sized(
            graph,
            Direction::LeftToRight,
            &|id| sizes.get(id).map(|r| [r.width(), r.height()]),
            Some(wrap),
        );
    }
    if known == graph.nodes.len() && saved.len() == known {
        return saved.clone();
    }
    let mut out: Layout = graph.nodes.iter().filter_map(|n| Some((n.id.clone(), *saved.get(&n.id)?))).collect();
    let bottom = out.values().map(|p| p[1]).fold(f32::MIN, f32::max);
    let mut stacked = 0.0;
    for node in &graph.nodes {
        if out.contains_key(&node.id) {
            continue;
        }
        let from = graph.edges.iter().find(|e| e.to == node.id).and_then(|e| out.get(&e.from)).copied();
        let place = match from {
            Some([x, y]) => [x + 230.0, y + 60.0],
            None => {
                stacked += 170.0;
                [0.0, bottom + stacked]
            }
        };
        out.insert(node.id.clone(), place);
    }
    out
}

impl Default for GraphEditor {
    fn default() -> Self {
        Self {
            snarl: Snarl::new(),
            built: None,
            by_id: HashMap::new(),
            inspected: None,
            canvas: Rect::NOTHING,
            rects: HashMap::new(),
            out_rows: HashMap::new(),
            in_rows: HashMap::new(),
            request: None,
            settle: false,
            measured_frames: 0,
            inline: HashMap::new(),
            auto: None,
            to_global: TSTransform::IDENTITY,
            search: String::new(),
            moved: None,
            notice: None,
            previewed: Vec::new(),
            previews_on: false,
        }
    }
}

impl GraphEditor {
    /// Builds the snarl again when the graph changed (an edit, undo, another file), or moves its
    /// nodes when only the layout did.
    fn sync(&mut self, def: &ModelDef) {
        let layout = self.layout_for(def);
        match &self.built {
            Some((graph, built)) if *graph == def.graph => {
                if *built == layout {
                    return;
                }
                for (id, &node) in &self.by_id {
                    if let (Some(p), Some(info)) = (layout.get(id), self.snarl.get_node_info_mut(node)) {
                        info.pos = Pos2::new(p[0], p[1]);
                    }
                }
                // A graph laid out automatically moved because its nodes were measured: it is
                // fitted again where it now is.
                if def.layout.is_empty() {
                    self.request = Some(ViewRequest::Fit);
                }
                self.settle = true;
            }
            _ => {
                let first = self.built.is_none();
                self.snarl = Snarl::new();
                self.by_id.clear();
                for node in &def.graph.nodes {
                    let p = layout.get(&node.id).copied().unwrap_or_default();
                    let id = self.snarl.insert_node(Pos2::new(p[0], p[1]), node.id.clone());
                    self.by_id.insert(node.id.clone(), id);
                }
                for e in &def.graph.edges {
                    if let (Some(&from), Some(&to)) = (self.by_id.get(&e.from), self.by_id.get(&e.to)) {
                        self.snarl.connect(
                            egui_snarl::OutPinId { node: from, output: 0 },
                            egui_snarl::InPinId { node: to, input: e.port },
                        );
                    }
                }
                if self.inspected.as_ref().is_some_and(|id| def.graph.node(id).is_none()) {
                    self.inspected = None;
                }
                if first {
                    self.request = Some(ViewRequest::Fit);
                }
                // Node sizes and wire labels settle in the next frame.
                self.settle = true;
                self.measured_frames = 0;
                self.notice = None;
                self.inline = def
                    .graph
                    .nodes
                    .iter()
                    .map(|n| {
                        let shown = fields(&n.layer).into_iter().filter(|(k, v)| inline_field(k, v)).collect();
                        (n.id.clone(), shown)
                    })
                    .collect();
            }
        }
        self.built = Some((def.graph.clone(), layout));
    }

    /// Where the nodes go: the saved places, or for a graph without them, a layout made once
    /// its nodes have been measured (then kept, so the nodes do not move as a selection or an
    /// edited number changes a node's size).
    fn layout_for(&mut self, def: &ModelDef) -> Layout {
        if !def.layout.is_empty() {
            return complete_layout_sized(&def.graph, &def.layout, &self.rects, self.wrap_width());
        }
        if let Some((graph, layout)) = &self.auto {
            if *graph == def.graph {
                return layout.clone();
            }
        }
        let layout = complete_layout_sized(&def.graph, &def.layout, &self.rects, self.wrap_width());
        let measured = self.measured_frames >= 2 && def.graph.nodes.iter().all(|n| self.rects.contains_key(&n.id));
        if measured {
            self.auto = Some((def.graph.clone(), layout.clone()));
        }
        layout
    }

    /// How long a band of laid-out layers may be: the canvas's width at a readable zoom.
    fn wrap_width(&self) -> f32 {
        if self.canvas.is_finite() && self.canvas.width() > 100.0 {
            (self.canvas.width() - 40.0) / 0.85
        } else {
            WRAP_WIDTH
        }
    }

    /// A node's measured width (a typical one before it is measured), in graph units.
    pub fn node_width(&self, node: &str) -> f32 {
        self.rects.get(node).map_or(TYPICAL_NODE.x, Rect::width)
    }

    /// Fits the view again if a node of `layout` falls outside what the canvas shows now.
    pub fn keep_in_view(&mut self, layout: &Layout) {
        let view = self.to_global.inverse() * self.canvas;
        let outside = layout.iter().any(|(id, p)| {
            let rect = Rect::from_min_size(Pos2::new(p[0], p[1]), Vec2::new(self.node_width(id), 60.0));
            !view.contains_rect(rect)
        });
        if outside && view.is_finite() {
            self.fit();
        }
    }

    /// Where a node's output pin (`input: None`) or input pin is on the screen (last frame).
    pub fn pin_on_screen(&self, node: &str, input: Option<usize>) -> Option<Pos2> {
        let rect = self.rects.get(node)?;
        let p = match input {
            None => Pos2::new(rect.right(), *self.out_rows.get(node)?),
            Some(port) => Pos2::new(rect.left(), *self.in_rows.get(&(node.to_owned(), port))?),
        };
        Some(self.to_global * p)
    }

    /// Where a node's header is on the screen (last frame): a point to click it.
    pub fn node_on_screen(&self, node: &str) -> Option<Pos2> {
        let rect = self.rects.get(node)?;
        Some(self.to_global * Pos2::new(rect.center().x, rect.top() + 8.0))
    }

    /// Where the nodes are drawn now: the layout edits start from, so nothing moves that the
    /// edit did not move.
    pub fn shown_layout(&self, def: &ModelDef) -> Layout {
        match &self.built {
            Some((graph, layout)) if *graph == def.graph => layout.clone(),
            _ => complete_layout(&def.graph, &def.layout),
        }
    }

    /// How tall the canvas was drawn last frame (the palette beside it takes the same height).
    pub fn canvas_height(&self) -> f32 {
        if self.canvas.is_finite() {
            self.canvas.height()
        } else {
            CANVAS_HEIGHT
        }
    }

    /// The graph laid out in layers, with its nodes' measured sizes.
    pub fn laid_out(&self, graph: &GraphSpec, direction: Direction) -> Layout {
        let wrap = (direction == Direction::LeftToRight).then(|| self.wrap_width());
        layered_sized(graph, direction, &|id| self.rects.get(id).map(|r| [r.width(), r.height()]), wrap)
    }

    /// Every node in view (once the change asked for this frame has landed).
    pub fn fit(&mut self) {
        self.request = Some(ViewRequest::FitSoon);
    }

    pub fn zoom(&mut self, factor: f32) {
        self.request = Some(ViewRequest::Zoom(factor));
    }

    /// Shows `node` in detail and brings it to the middle of the canvas.
    pub fn focus(&mut self, node: &str) {
        self.inspected = Some(node.to_owned());
        self.request = Some(ViewRequest::Center);
    }

    /// The nodes an action (copy, delete, duplicate) acts on: those selected with Shift (click or
    /// box), else the one shown in detail.
    fn chosen(&self, ctx: &egui::Context, model: &str) -> BTreeSet<String> {
        let mut ids: BTreeSet<String> = egui_snarl::ui::get_selected_nodes(snarl_id(model), ctx)
            .into_iter()
            .filter_map(|n| self.snarl.get_node(n).cloned())
            .collect();
        if ids.is_empty() {
            ids.extend(self.inspected.clone());
        }
        ids
    }

    /// The chosen nodes, their wires among themselves and their places, as a fragment to paste.
    pub fn copy(&self, ctx: &egui::Context, def: &ModelDef) -> Option<Fragment> {
        let ids = self.chosen(ctx, &def.name);
        if ids.is_empty() {
            return None;
        }
        let layout = self.built.as_ref().map(|(_, l)| l.clone()).unwrap_or_default();
        Some(Fragment {
            nodes: def.graph.nodes.iter().filter(|n| ids.contains(&n.id)).cloned().collect(),
            edges: def.graph.edges.iter().filter(|e| ids.contains(&e.from) && ids.contains(&e.to)).cloned().collect(),
            layout: layout.into_iter().filter(|(id, _)| ids.contains(id)).collect(),
        })
    }
}

/// The snarl's id for a model's editor: fixed, so its selection can be read back.
fn snarl_id(model: &str) -> egui::Id {
    egui::Id::new(("graph-editor", model))
}

/// The edit a frame's interactions ask for, made on a copy of the graph and its layout.
pub(in crate::app) struct Edit {
    pub graph: GraphSpec,
    pub layout: Layout,
    /// Edits of one dragged value merge into one step of undo.
    pub merge: Option<String>,
}

/// A layer's parameters as they are written in a notebook file (without `kind`), for the
/// generic parameter fields: a new layer kind needs no editor change.
pub(super) fn fields(layer: &LayerSpec) -> Vec<(String, serde_json::Value)> {
    match serde_json::to_value(layer) {
        Ok(serde_json::Value::Object(map)) => map.into_iter().filter(|(k, _)| k != "kind").collect(),
        _ => Vec::new(),
    }
}

/// The layer with one parameter changed (`None` when the value does not fit the field).
pub(super) fn with_field(layer: &LayerSpec, name: &str, value: serde_json::Value) -> Option<LayerSpec> {
    let serde_json::Value::Object(mut map) = serde_json::to_value(layer).ok()? else { return None };
    map.insert(name.to_owned(), value);
    serde_json::from_value(serde_json::Value::Object(map)).ok()
}

/// Fields shown on the node itself (the rest are under the canvas when it is selected): the
/// numbers a student changes most, not the numerical-safety ones.
fn inline_field(name: &str, value: &serde_json::Value) -> bool {
    (value.is_number() && name != "eps") || choices(name).is_some()
}

/// A number field for one parameter; returns the new value when it changed.
pub(super) fn field_ui(ui: &mut egui::Ui, name: &str, value: &serde_json::Value) -> Option<serde_json::Value> {
    if let Some(mut v) = value.as_u64() {
        let top = if matches!(name, "units" | "filters" | "vocab" | "dim" | "hidden" | "ff") { 4096 } else { 64 };
        let low = u64::from(!matches!(name, "padding"));
        let r = ui.add(egui::DragValue::new(&mut v).range(low..=top).speed(0.1).clamp_existing_to_range(false));
        return r.changed().then(|| serde_json::Value::from(v));
    }
    if let Some(f) = value.as_f64() {
        let mut v = f as f32;
        let r = if name == "eps" {
            ui.add(egui::DragValue::new(&mut v).range(1e-8..=0.1).speed(1e-6).max_decimals(8))
        } else {
            ui.add(egui::DragValue::new(&mut v).range(0.0..=0.99).speed(0.005).max_decimals(3))
        };
        return r.changed().then(|| serde_json::Value::from(f64::from(v)));
    }
    if let Some(mut b) = value.as_bool() {
        return ui.checkbox(&mut b, "").changed().then_some(serde_json::Value::Bool(b));
    }
    if let (Some(current), Some(options)) = (value.as_str(), choices(name)) {
        let mut chosen = current.to_owned();
        egui::ComboBox::from_id_salt(("field", name)).selected_text(current).show_ui(ui, |ui| {
            for option in options {
                ui.selectable_value(&mut chosen, (*option).to_owned(), *option);
            }
        });
        return (chosen != current).then_some(serde_json::Value::String(chosen));
    }
    None
}

/// The values a named text parameter can take (the layer's serde enum), for a drop-down.
fn choices(name: &str) -> Option<&'static [&'static str]> {
    match name {
        "mode" => Some(&["Mean", "Last", "First"]),
        _ => None,
    }
}

/// Colours the editor marks nodes with.
struct Marks {
    problem: Color32,
    added: Color32,
    changed: Color32,
    selected: Color32,
}

impl Marks {
    fn of(visuals: &egui::Visuals) -> Self {
        let dark = visuals.dark_mode;
        Self {
            problem: visuals.error_fg_color,
            added: if dark { Color32::from_rgb(60, 170, 90) } else { Color32::from_rgb(30, 130, 60) },
            changed: if dark { Color32::from_rgb(230, 170, 40) } else { Color32::from_rgb(180, 110, 0) },
            selected: visuals.selection.stroke.color,
        }
    }
}

/// What drawing the snarl needs, and what it gives back (edits, clicks, places).
struct Viewer<'a> {
    def: &'a ModelDef,
    layout: &'a Layout,
    report: &'a ShapeReport,
    problems: BTreeMap<&'a str, Vec<&'a str>>,
    diff: Option<&'a GraphDiff>,
    marks: Marks,
    inspected: &'a mut Option<String>,
    notice: &'a mut Option<String>,
    edit: Option<Edit>,
    /// A primary click this frame, in graph units.
    click: Option<Pos2>,
    rects: HashMap<String, Rect>,
    out_rows: HashMap<String, f32>,
    in_rows: HashMap<(String, usize), f32>,
    /// The view change to make, and what it needs (last frame's canvas and nodes).
    request: Option<ViewRequest>,
    /// This frame's canvas on the screen, and last frame's.
    canvas: Rect,
    last_canvas: Rect,
    /// A menu was open when the frame began.
    menu_open: bool,
    /// The graph's nodes by id, and the parameters shown on each node (worked out once per
    /// graph: a frame draws every node).
    nodes: HashMap<&'a str, &'a NodeSpec>,
    inline: &'a HashMap<String, Vec<(String, serde_json::Value)>>,
    /// Last frame's wires, as (from, to, port, start, end) in graph units.
    wires: &'a [(String, String, usize, Pos2, Pos2)],
    last_rects: &'a HashMap<String, Rect>,
    to_global: TSTransform,
    previews: Option<Previews<'a>>,
    textures: &'a mut crate::app::widgets::heatmap::Textures,
    /// The nodes a preview was drawn in this frame.
    previewed: Vec<String>,
}

impl Viewer<'_> {
    /// The wire (target, port) within reach of a point in graph units, by last frame's places.
    fn wire_at(&self, p: Pos2) -> Option<(String, usize)> {
        nearest_wire(self.wires, p)
    }

    /// Makes an edit on a copy of the graph and layout (the first of a frame wins).
    fn edit(&mut self, merge: Option<String>, change: impl FnOnce(&mut GraphSpec, &mut Layout) -> Result<(), String>) {
        if self.edit.is_some() {
            return;
        }
        let (mut graph, mut layout) = (self.def.graph.clone(), self.layout.clone());
        match change(&mut graph, &mut layout) {
            Ok(()) => {
                layout.retain(|id, _| graph.node(id).is_some());
                self.edit = Some(Edit { graph, layout, merge });
            }
            Err(why) => *self.notice = Some(why),
        }
    }

    fn node_id<'s>(&self, snarl: &'s Snarl<String>, node: egui_snarl::NodeId) -> Option<&'s String> {
        snarl.get_node(node)
    }

    /// Adds a layer at `pos`, and wires it to pins a wire was dragged from.
    fn add(&mut self, kind: LayerKind, pos: Pos2, from: Option<String>, to: Vec<(String, usize)>) {
        let mut added = None;
        self.edit(None, |graph, layout| {
            let id = edit::add_node(graph, kind.example());
            layout.insert(id.clone(), [pos.x, pos.y]);
            if let Some(from) = from {
                if !edit::connect(graph, &from, &id, 0) {
                    return Err(format!("{} takes no input", kind.label()));
                }
                if graph.output.as_deref() == Some(from.as_str()) {
                    graph.output = Some(id.clone());
                }
            }
            for (target, port) in to {
                edit::connect(graph, &id, &target, port);
            }
            added = Some(id);
            Ok(())
        });
        if added.is_some() {
            *self.inspected = added;
        }
    }

    /// The palette as a menu (right-click on the canvas, or a wire dropped on empty space).
    fn palette_menu(&mut self, ui: &mut egui::Ui, pos: Pos2, from: Option<&str>, to: &[(String, usize)]) {
        ui.label("Add a layer");
        for (group, kinds) in palette_groups() {
            ui.menu_button(group, |ui| {
                for kind in kinds {
                    if ui.button(kind.label()).on_hover_text(kind.about()).clicked() {
                        self.add(kind, pos, from.map(str::to_owned), to.to_vec());
                        ui.close();
                    }
                }
            });
        }
    }
}

/// The palette's groups, in order, each with its kinds: built from the engine's list of kinds.
pub(super) fn palette_groups() -> Vec<(&'static str, Vec<LayerKind>)> {
    let mut groups: Vec<(&'static str, Vec<LayerKind>)> = Vec::new();
    for kind in LayerKind::all() {
        let group = edit::palette_group(kind);
        match groups.iter_mut().find(|(g, _)| *g == group) {
            Some((_, kinds)) => kinds.push(kind),
            None => groups.push((group, vec![kind])),
        }
    }
    groups
}

impl SnarlViewer<String> for Viewer<'_> {
    fn title(&mut self, node: &String) -> String {
        node.clone()
    }

    fn show_header(
        &mut self,
        node: egui_snarl::NodeId,
        _inputs: &[InPin],
        _outputs: &[OutPin],
        ui: &mut egui::Ui,
        snarl: &mut Snarl<String>,
    ) {
        let Some(id) = self.node_id(snarl, node).cloned() else { return };
        let Some(spec) = self.nodes.get(id.as_str()).copied() else { return };
        ui.horizontal(|ui| {
            let kind = egui::RichText::new(spec.layer.kind().label()).strong();
            if self.problems.contains_key(id.as_str()) {
                ui.colored_label(self.marks.problem, kind.clone().strong());
            } else {
                ui.label(kind);
            }
            ui.weak(&id);
            if self.def.graph.output.as_deref() == Some(id.as_str()) || self.report.output.as_deref() == Some(&id) {
                ui.weak("(output)");
            }
        });
    }

    fn inputs(&mut self, node: &String) -> usize {
        let Some(spec) = self.nodes.get(node.as_str()).copied() else { return 0 };
        let (min, max) = spec.layer.arity();
        if max == usize::MAX {
            // A merge node: one port per input wired, and a free one to wire the next.
            let used = self.def.graph.edges.iter().filter(|e| e.to == *node).map(|e| e.port + 1).max().unwrap_or(0);
            (used + 1).max(min)
        } else {
            max
        }
    }

    fn show_input(&mut self, pin: &InPin, ui: &mut egui::Ui, snarl: &mut Snarl<String>) -> impl SnarlPin + 'static {
        let id = self.node_id(snarl, pin.id.node).cloned().unwrap_or_default();
        let merge = self.nodes.get(id.as_str()).copied().is_some_and(|n| n.layer.arity().1 == usize::MAX);
        if merge {
            let label = if pin.remotes.is_empty() { "+".to_owned() } else { pin.id.input.to_string() };
            ui.weak(label).on_hover_text(if pin.remotes.is_empty() {
                "Wire another input here"
            } else {
                "Input port (inputs are joined in port order)"
            });
        }
        self.in_rows.insert((id, pin.id.input), ui.min_rect().center().y);
        PinInfo::circle().with_wire_style(WireStyle::Bezier3)
    }

    fn outputs(&mut self, _node: &String) -> usize {
        1
    }

    fn show_output(&mut self, pin: &OutPin, ui: &mut egui::Ui, snarl: &mut Snarl<String>) -> impl SnarlPin + 'static {
        let id = self.node_id(snarl, pin.id.node).cloned().unwrap_or_default();
        let shape = self.report.shape_of(&id).map_or_else(|| "?".to_owned(), shape_text);
        ui.add(egui::Label::new(egui::RichText::new(shape).monospace()).extend())
            .on_hover_text("The shape of one sample's output");
        self.out_rows.insert(id.clone(), ui.min_rect().center().y);
        let color =
            if self.problems.contains_key(id.as_str()) { self.marks.problem } else { ui.visuals().text_color() };
        PinInfo::circle().with_fill(color).with_wire_style(WireStyle::Bezier3)
    }

    fn has_body(&mut self, _node: &String) -> bool {
        true
    }

    fn show_body(
        &mut self,
        node: egui_snarl::NodeId,
        _inputs: &[InPin],
        _outputs: &[OutPin],
        ui: &mut egui::Ui,
        snarl: &mut Snarl<String>,
    ) {
        let Some(id) = self.node_id(snarl, node).cloned() else { return };
        let Some(spec) = self.nodes.get(id.as_str()).copied().cloned() else { return };
        ui.vertical(|ui| {
            for (name, value) in self.inline.get(id.as_str()).map_or(&[][..], Vec::as_slice) {
                let (name, value) = (name.clone(), value.clone());
                ui.horizontal(|ui| {
                    ui.weak(&name);
                    if let Some(new) = field_ui(ui, &name, &value) {
                        if let Some(layer) = with_field(&spec.layer, &name, new) {
                            let merge = Some(format!("graph {} {id} {name}", self.def.name));
                            let target = id.clone();
                            self.edit(merge, |graph, _| {
                                if let Some(n) = graph.nodes.iter_mut().find(|n| n.id == target) {
                                    n.layer = layer;
                                }
                                Ok(())
                            });
                            *self.inspected = Some(id.clone());
                        }
                    }
                });
            }
            let params = self.report.nodes.get(&id).map_or(0, |n| n.param_count);
            if params > 0 {
                ui.weak(format!("{} params", crate::app::widgets::short_number(params as f64)));
            }
            if let Some(previews) = self.previews {
                if preview(ui, self.textures, previews, &id) {
                    self.previewed.push(id.clone());
                }
            }
        });
    }

    fn final_node_rect(&mut self, node: egui_snarl::NodeId, rect: Rect, _ui: &mut egui::Ui, snarl: &mut Snarl<String>) {
        let Some(id) = self.node_id(snarl, node).cloned() else { return };
        if self.click.is_some_and(|p| rect.contains(p)) {
            *self.inspected = Some(id.clone());
        }
        self.rects.insert(id, rect);
    }

    fn node_frame(
        &mut self,
        default: egui::Frame,
        node: egui_snarl::NodeId,
        _inputs: &[InPin],
        _outputs: &[OutPin],
        snarl: &Snarl<String>,
    ) -> egui::Frame {
        let Some(id) = snarl.get_node(node) else { return default };
        let mut frame = default;
        if let Some(diff) = self.diff {
            if diff.added.contains(id) {
                frame.stroke = Stroke::new(2.5, self.marks.added);
            } else if diff.changed.contains(id) {
                frame.stroke = Stroke::new(2.5, self.marks.changed);
            }
        }
        if self.inspected.as_deref() == Some(id.as_str()) {
            frame.stroke = Stroke::new(2.5, self.marks.selected);
        }
        if self.problems.contains_key(id.as_str()) {
            frame.stroke = Stroke::new(3.0, self.marks.problem);
            frame.fill = frame.fill.lerp_to_gamma(self.marks.problem, 0.12);
        }
        frame
    }

    fn has_on_hover_popup(&mut self, _node: &String) -> bool {
        true
    }

    fn show_on_hover_popup(
        &mut self,
        node: egui_snarl::NodeId,
        _inputs: &[InPin],
        _outputs: &[OutPin],
        ui: &mut egui::Ui,
        snarl: &mut Snarl<String>,
    ) {
        let Some(id) = self.node_id(snarl, node).cloned() else { return };
        let Some(spec) = self.nodes.get(id.as_str()).copied() else { return };
        ui.set_max_width(360.0);
        for problem in self.problems.get(id.as_str()).into_iter().flatten() {
            ui.colored_label(self.marks.problem, *problem);
        }
        ui.label(spec.layer.kind().about());
        ui.weak("Click to see every parameter under the canvas; right-click for more.");
    }

    fn has_graph_menu(&mut self, pos: Pos2, _snarl: &mut Snarl<String>) -> bool {
        // A right-click on a wire removes the wire (see `canvas_ui`), it opens no menu; a menu
        // already open stays open wherever the pointer goes.
        self.menu_open || self.wire_at(self.to_global.inverse() * pos).is_none()
    }

    fn show_graph_menu(&mut self, pos: Pos2, ui: &mut egui::Ui, _snarl: &mut Snarl<String>) {
        self.palette_menu(ui, pos, None, &[]);
    }

    fn has_dropped_wire_menu(&mut self, _src_pins: AnyPins, _snarl: &mut Snarl<String>) -> bool {
        true
    }

    fn show_dropped_wire_menu(&mut self, pos: Pos2, ui: &mut egui::Ui, src_pins: AnyPins, snarl: &mut Snarl<String>) {
        match src_pins {
            AnyPins::Out(pins) => {
                let from = pins.first().and_then(|p| snarl.get_node(p.node)).cloned();
                self.palette_menu(ui, pos, from.as_deref(), &[]);
            }
            AnyPins::In(pins) => {
                let to: Vec<(String, usize)> =
                    pins.iter().filter_map(|p| Some((snarl.get_node(p.node)?.clone(), p.input))).collect();
                self.palette_menu(ui, pos, None, &to);
            }
        }
    }

    fn has_node_menu(&mut self, _node: &String) -> bool {
        true
    }

    fn show_node_menu(
        &mut self,
        node: egui_snarl::NodeId,
        _inputs: &[InPin],
        _outputs: &[OutPin],
        ui: &mut egui::Ui,
        snarl: &mut Snarl<String>,
    ) {
        let Some(id) = self.node_id(snarl, node).cloned() else { return };
        if ui.button("Show its parameters").clicked() {
            *self.inspected = Some(id.clone());
            ui.close();
        }
        let is_output = self.def.graph.output.as_deref() == Some(id.as_str());
        if ui
            .add_enabled(!is_output, egui::Button::new("Make it the output"))
            .on_hover_text("The loss reads this node's output")
            .clicked()
        {
            let target = id.clone();
            self.edit(None, |graph, _| {
                graph.output = Some(target);
                Ok(())
            });
            ui.close();
        }
        if ui.button("Duplicate").clicked() {
            let one = BTreeSet::from([id.clone()]);
            self.edit(None, |graph, layout| {
                let copies = edit::duplicate(graph, &one);
                if copies.is_empty() {
                    return Err("The Input cannot be copied: a graph has one".into());
                }
                let p = layout.get(&id).copied().unwrap_or_default();
                for c in copies {
                    layout.insert(c, [p[0] + 40.0, p[1] + 120.0]);
                }
                Ok(())
            });
            ui.close();
        }
        if ui.button("Disconnect its inputs").clicked() {
            let target = id.clone();
            self.edit(None, |graph, _| {
                graph.edges.retain(|e| e.to != target);
                Ok(())
            });
            ui.close();
        }
        if ui.button("Delete").on_hover_text("Delete (Del) · Ctrl+Z brings it back").clicked() {
            let one = BTreeSet::from([id]);
            self.edit(None, |graph, _| {
                edit::delete_nodes(graph, &one);
                Ok(())
            });
            ui.close();
        }
    }

    fn connect(&mut self, from: &OutPin, to: &InPin, snarl: &mut Snarl<String>) {
        let (Some(a), Some(b)) = (snarl.get_node(from.id.node).cloned(), snarl.get_node(to.id.node).cloned()) else {
            return;
        };
        let port = to.id.input;
        let replaced = self.def.graph.edges.iter().find(|e| e.to == b && e.port == port).map(|e| e.from.clone());
        self.edit(None, |graph, _| {
            if edit::connect(graph, &a, &b, port) {
                Ok(())
            } else if a == b {
                Err(format!("{a} cannot take its own output"))
            } else {
                Err(format!("Wiring {a} into {b} would make a loop ({b} already feeds {a}): a network runs one way"))
            }
        });
        if let Some(old) = replaced.filter(|old| *old != a && self.edit.is_some()) {
            *self.notice =
                Some(format!("The wire from {a} replaces the one from {old} into {b} (Ctrl+Z brings it back)"));
        }
    }

    fn disconnect(&mut self, _from: &OutPin, to: &InPin, snarl: &mut Snarl<String>) {
        let Some(b) = snarl.get_node(to.id.node).cloned() else { return };
        let port = to.id.input;
        self.edit(None, |graph, _| {
            edit::disconnect(graph, &b, port);
            Ok(())
        });
    }

    fn drop_inputs(&mut self, pin: &InPin, snarl: &mut Snarl<String>) {
        self.disconnect(
            &OutPin { id: egui_snarl::OutPinId { node: pin.id.node, output: 0 }, remotes: vec![] },
            pin,
            snarl,
        );
    }

    fn drop_outputs(&mut self, pin: &OutPin, snarl: &mut Snarl<String>) {
        let Some(a) = snarl.get_node(pin.id.node).cloned() else { return };
        self.edit(None, |graph, _| {
            let targets: Vec<(String, usize)> =
                graph.edges.iter().filter(|e| e.from == a).map(|e| (e.to.clone(), e.port)).collect();
            for (to, port) in targets.into_iter().rev() {
                edit::disconnect(graph, &to, port);
            }
            Ok(())
        });
    }

    fn current_transform(&mut self, to_global: &mut TSTransform, _snarl: &mut Snarl<String>) {
        // The canvas moved on the screen (the page scrolled, a cell above grew): the view moves
        // with it, since the snarl's transform is to screen points.
        if self.last_canvas.is_finite() && self.canvas.is_finite() {
            to_global.translation += self.canvas.min - self.last_canvas.min;
        }
        let canvas = self.canvas;
        if canvas.is_positive() {
            match self.request.take() {
                Some(ViewRequest::Fit) => {
                    // Where the nodes are now, at the sizes last measured (this graph's nodes,
                    // not those of the graph before an edit or a template).
                    let measured = self.def.graph.nodes.iter().all(|n| self.last_rects.contains_key(&n.id));
                    let bb = layout_bounds(self.layout, self.last_rects);
                    if bb.is_positive() && measured {
                        let bb = bb.expand(30.0);
                        let scale = (canvas.width() / bb.width()).min(canvas.height() / bb.height()).clamp(0.25, 1.0);
                        *to_global = TSTransform::new(canvas.center().to_vec2() - bb.center().to_vec2() * scale, scale);
                    } else {
                        // Nothing measured yet: ask again next frame.
                        self.request = Some(ViewRequest::Fit);
                    }
                }
                Some(ViewRequest::FitSoon) => self.request = Some(ViewRequest::Fit),
                Some(ViewRequest::Zoom(f)) => {
                    let scale = (to_global.scaling * f).clamp(0.25, 2.0);
                    let center = to_global.inverse() * canvas.center();
                    *to_global = TSTransform::new(canvas.center().to_vec2() - center.to_vec2() * scale, scale);
                }
                Some(ViewRequest::Center) => {
                    if let Some(rect) = self.inspected.as_ref().and_then(|id| self.last_rects.get(id)) {
                        let scale = to_global.scaling;
                        *to_global =
                            TSTransform::new(canvas.center().to_vec2() - rect.center().to_vec2() * scale, scale);
                    }
                }
                None => {}
            }
        }
        self.to_global = *to_global;
    }
}

/// The size a node is taken to have before it is measured, in graph units.
const TYPICAL_NODE: Vec2 = Vec2::new(170.0, 110.0);

/// Where the nodes of `layout` cover, at their measured sizes (typical ones where not measured).
fn layout_bounds(layout: &Layout, rects: &HashMap<String, Rect>) -> Rect {
    layout.iter().fold(Rect::NOTHING, |bb, (id, p)| {
        let size = rects.get(id).map_or(TYPICAL_NODE, Rect::size);
        bb.union(Rect::from_min_size(Pos2::new(p[0], p[1]), size))
    })
}

/// The room between two layers, in graph units.
pub(super) const GAP: f32 = 70.0;

/// Moves every node from `x` on (graph units) along by a node's width and a gap, to make room.
pub(super) fn make_room(layout: &mut Layout, x: f32) {
    for p in layout.values_mut() {
        if p[0] >= x - 1.0 {
            p[0] += TYPICAL_NODE.x + GAP;
        }
    }
}

/// A place beside the graph (right of its rightmost node, at its top) that covers no node.
pub(super) fn free_place(layout: &Layout, width: impl Fn(&str) -> f32) -> [f32; 2] {
    let right = layout.iter().map(|(id, p)| p[0] + width(id)).fold(f32::MIN, f32::max);
    let top = layout.values().map(|p| p[1]).fold(f32::MAX, f32::min);
    if layout.is_empty() {
        [0.0, 0.0]
    } else {
        [right + GAP, top]
    }
}

/// The wire nearest to `p` (target, port), if one passes within reach.
fn nearest_wire(wires: &[(String, String, usize, Pos2, Pos2)], p: Pos2) -> Option<(String, usize)> {
    wires
        .iter()
        .map(|(_, to, port, a, b)| (distance_to_segment(p, *a, *b), to, *port))
        .filter(|(d, _, _)| *d < 12.0)
        .min_by(|x, y| x.0.total_cmp(&y.0))
        .map(|(_, to, port)| (to.clone(), port))
}

/// The distance from `p` to the segment `a`-`b`.
fn distance_to_segment(p: Pos2, a: Pos2, b: Pos2) -> f32 {
    let ab = b - a;
    let t = if ab.length_sq() > 0.0 { ((p - a).dot(ab) / ab.length_sq()).clamp(0.0, 1.0) } else { 0.0 };
    p.distance(a + ab * t)
}

/// What the canvas needs from the cell: the model, its shapes, and what it is compared with.
pub(super) struct CanvasInput<'a> {
    pub def: &'a ModelDef,
    pub report: &'a ShapeReport,
    pub diff: Option<&'a GraphDiff>,
    /// With previews on: what each node's preview shows.
    pub previews: Option<Previews<'a>>,
}

/// What node previews draw: each node's output for the chosen sample (with the inspection's id,
/// for its textures), and for 2-D data each node over the plane.
#[derive(Clone, Copy)]
pub(super) struct Previews<'a> {
    pub outputs: Option<(u64, &'a [glassbox_engine::tensor::NodeOutput])>,
    pub grid: Option<&'a glassbox_engine::train::Grid>,
}

/// Units or maps a node preview shows at most, and the room a preview takes in its node (kept
/// from the first frame, before there is anything to show, so nodes never grow over each other).
const PREVIEW_ITEMS: usize = 4;
const PREVIEW_SIZE: Vec2 = Vec2::new(130.0, 32.0);

/// Draws the canvas (nodes, wires, shapes on wires) and handles drops from the palette and the
/// editing keys; returns the edit the user made this frame, if any.
pub(super) fn canvas_ui(
    ui: &mut egui::Ui,
    editor: &mut GraphEditor,
    input: &CanvasInput<'_>,
    textures: &mut crate::app::widgets::heatmap::Textures,
) -> Option<Edit> {
    let CanvasInput { def, report, diff, previews } = *input;
    if editor.previews_on != previews.is_some() {
        // Nodes change size: an automatic layout is made again once they are measured.
        editor.previews_on = previews.is_some();
        editor.auto = None;
        editor.measured_frames = 0;
        editor.request = Some(ViewRequest::Fit);
    }
    editor.sync(def);
    let layout = editor.built.as_ref().map(|(_, l)| l.clone()).unwrap_or_default();
    let mut problems: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for p in &report.problems {
        if let Some(node) = p.node.as_deref() {
            problems.entry(node).or_default().push(p.message.as_str());
        }
    }
    let ctx = ui.ctx().clone();
    let click = ctx
        .input(|i| i.pointer.primary_clicked().then(|| i.pointer.interact_pos()).flatten())
        .filter(|p| editor.canvas.contains(*p))
        .map(|p| editor_to_graph(editor, p));
    // As tall as the graph needs when it fits the width (a chain of layers needs little), up to
    // CANVAS_HEIGHT.
    let width = ui.available_width();
    let bb = layout_bounds(&layout, &editor.rects);
    let height = if bb.is_positive() {
        let scale = ((width - 60.0) / bb.width()).clamp(0.25, 1.0);
        (bb.height() * scale + 90.0).clamp(CANVAS_MIN_HEIGHT, CANVAS_HEIGHT)
    } else {
        CANVAS_HEIGHT
    };
    let size = Vec2::new(width, height);
    // The canvas's place on the screen (the snarl's own response covers its whole plane).
    let canvas_rect = Rect::from_min_size(ui.available_rect_before_wrap().min, size);
    let last_wires = wire_segments(editor, def);
    let inline = std::mem::take(&mut editor.inline);
    let (last_rects, last_canvas, request) = (std::mem::take(&mut editor.rects), editor.canvas, editor.request.take());
    let mut viewer = Viewer {
        def,
        layout: &layout,
        report,
        problems,
        diff,
        marks: Marks::of(ui.visuals()),
        inspected: &mut editor.inspected,
        notice: &mut editor.notice,
        edit: None,
        click,
        rects: HashMap::new(),
        out_rows: HashMap::new(),
        in_rows: HashMap::new(),
        request,
        canvas: canvas_rect,
        last_canvas,
        wires: &last_wires,
        menu_open: egui::Popup::is_any_open(&ctx),
        nodes: def.graph.nodes.iter().map(|n| (n.id.as_str(), n)).collect(),
        inline: &inline,
        last_rects: &last_rects,
        to_global: TSTransform::IDENTITY,
        previews,
        textures,
        previewed: Vec::new(),
    };
    let style = SnarlStyle {
        collapsible: Some(false),
        pin_placement: Some(PinPlacement::Edge),
        wire_style: Some(WireStyle::Bezier3),
        wire_width: Some(2.0),
        min_scale: Some(0.25),
        max_scale: Some(2.0),
        centering: Some(true),
        ..SnarlStyle::new()
    };
    let id = snarl_id(&def.name);
    // A drag on a node's title moves the node: its labels are not text to select.
    let selectable = std::mem::replace(&mut ui.style_mut().interaction.selectable_labels, false);
    // The mouse wheel scrolls the page, not the canvas (which pans by dragging its background
    // and zooms with Ctrl + wheel): the snarl does not see this frame's scrolling.
    let scroll = ctx.input_mut(|i| std::mem::take(&mut i.smooth_scroll_delta));
    let _response =
        SnarlWidget::new().id(id).style(style).min_size(size).max_size(size).show(&mut editor.snarl, &mut viewer, ui);
    ctx.input_mut(|i| i.smooth_scroll_delta += scroll);
    ui.style_mut().interaction.selectable_labels = selectable;
    // A click on the empty canvas, or Escape over it, leaves no node selected.
    let escape = ui.rect_contains_pointer(canvas_rect) && ctx.input(|i| i.key_pressed(egui::Key::Escape));
    if escape || click.is_some_and(|p| !viewer.rects.values().any(|r| r.contains(p))) {
        *viewer.inspected = None;
    }
    let to_global = viewer.to_global;
    editor.to_global = to_global;
    let mut edit = viewer.edit.take();
    editor.request = viewer.request.or(editor.request);
    editor.rects = std::mem::take(&mut viewer.rects);
    editor.previewed = std::mem::take(&mut viewer.previewed);
    editor.out_rows = std::mem::take(&mut viewer.out_rows);
    editor.in_rows = std::mem::take(&mut viewer.in_rows);
    editor.inline = inline;
    editor.canvas = canvas_rect;
    editor.measured_frames = editor.measured_frames.saturating_add(1);
    if editor.request.is_some() || std::mem::take(&mut editor.settle) {
        ui.ctx().request_repaint();
    }
    let from_global = to_global.inverse();

    // A right-click on a wire removes it (the snarl's own needs the wire hovered a frame first).
    let secondary = ctx.input(|i| {
        i.pointer.button_clicked(egui::PointerButton::Secondary).then(|| i.pointer.interact_pos()).flatten()
    });
    if let Some(at) = secondary.filter(|p| canvas_rect.contains(*p)) {
        if let Some((to, port)) = nearest_wire(&last_wires, from_global * at) {
            let mut graph = def.graph.clone();
            edit::disconnect(&mut graph, &to, port);
            edit = Some(Edit { graph, layout: layout.clone(), merge: None });
        }
    }

    // Nodes dragged to new places: saved with the notebook once the mouse button is up.
    if edit.is_none() && !ctx.input(|i| i.pointer.any_down()) {
        let places: Layout = editor
            .by_id
            .iter()
            .filter_map(|(id, &node)| {
                let p = editor.snarl.get_node_info(node)?.pos;
                Some((id.clone(), [p.x, p.y]))
            })
            .collect();
        if let Some((_, built)) = editor.built.as_mut() {
            if places != *built && places.len() == built.len() {
                *built = places.clone();
                editor.moved = Some(places);
            }
        }
    }

    // The shape each wire carries, at its middle.
    let painter = ui
        .ctx()
        .layer_painter(egui::LayerId::new(ui.layer_id().order, id))
        .with_clip_rect(from_global * canvas_rect.intersect(ui.clip_rect()));
    let font = egui::FontId::monospace(11.0);
    let text_color = ui.visuals().weak_text_color();
    let back = ui.visuals().extreme_bg_color.gamma_multiply(0.85);
    let wires = wire_segments(editor, def);
    for (from, _, _, a, b) in &wires {
        let Some(shape) = report.shape_of(from) else { continue };
        let mid = a.lerp(*b, 0.5);
        let galley = painter.layout_no_wrap(shape_text(shape), font.clone(), text_color);
        // A short wire has no room for its label (the node's output shows it anyway).
        if a.distance(*b) < galley.size().x + 24.0 {
            continue;
        }
        let rect = Rect::from_center_size(mid, galley.size()).expand(2.0);
        painter.rect_filled(rect, 3.0, back);
        painter.galley(rect.min + Vec2::splat(2.0), galley, text_color);
    }

    // A layer dragged from the palette: dropped on a wire, it goes into that wire; elsewhere on
    // the canvas, it is added where it was dropped.
    if ui.rect_contains_pointer(canvas_rect) && ctx.input(|i| i.pointer.any_released()) {
        if let Some(kind) = egui::DragAndDrop::take_payload::<LayerKind>(&ctx) {
            if let Some(at) = ctx.input(|i| i.pointer.interact_pos()) {
                let p = from_global * at;
                let hit = wires
                    .iter()
                    .map(|(_, to, port, a, b)| (distance_to_segment(p, *a, *b), to.clone(), *port))
                    .filter(|(d, _, _)| *d < 24.0)
                    .min_by(|x, y| x.0.total_cmp(&y.0));
                let (mut graph, mut layout) = (def.graph.clone(), layout.clone());
                let added = match &hit {
                    Some((_, to, port)) => edit::insert_on_wire(&mut graph, to, *port, kind.example()),
                    None => Some(edit::add_node(&mut graph, kind.example())),
                };
                if let Some(new) = added {
                    // Into a wire: where the node it feeds was, which moves over with the
                    // nodes after it; elsewhere: where it was dropped.
                    let place = match hit.as_ref().and_then(|(_, to, _)| layout.get(to)).copied() {
                        Some(target) => {
                            make_room(&mut layout, target[0]);
                            target
                        }
                        None => [p.x - 60.0, p.y - 20.0],
                    };
                    layout.insert(new.clone(), place);
                    editor.inspected = Some(new);
                    editor.keep_in_view(&layout);
                    edit = edit.or(Some(Edit { graph, layout, merge: None }));
                }
            }
        }
    }
    edit
}

/// Maps a point on the screen into the canvas's graph units (with last frame's view).
fn editor_to_graph(editor: &GraphEditor, p: Pos2) -> Pos2 {
    editor.to_global.inverse() * p
}

/// Each wire as (source id, target id, port, start, end) in graph units, from last frame's
/// node rects and pin rows.
fn wire_segments(editor: &GraphEditor, def: &ModelDef) -> Vec<(String, String, usize, Pos2, Pos2)> {
    def.graph
        .edges
        .iter()
        .filter_map(|e| {
            let (from, to) = (editor.rects.get(&e.from)?, editor.rects.get(&e.to)?);
            let y0 = editor.out_rows.get(&e.from).copied().unwrap_or(from.center().y);
            let y1 = editor.in_rows.get(&(e.to.clone(), e.port)).copied().unwrap_or(to.center().y);
            Some((e.from.clone(), e.to.clone(), e.port, Pos2::new(from.right(), y0), Pos2::new(to.left(), y1)))
        })
        .collect()
}

/// A node's preview: its first units over the plane (2-D data), or its output for the chosen
/// sample (a few feature maps, a bar strip, a heatmap).
fn preview(
    ui: &mut egui::Ui,
    textures: &mut crate::app::widgets::heatmap::Textures,
    previews: Previews<'_>,
    id: &str,
) -> bool {
    let mut drawn = false;
    ui.allocate_ui_with_layout(PREVIEW_SIZE, egui::Layout::top_down(egui::Align::Min), |ui| {
        ui.set_min_size(PREVIEW_SIZE);
        drawn = preview_inside(ui, textures, previews, id);
    });
    drawn
}

fn preview_inside(
    ui: &mut egui::Ui,
    textures: &mut crate::app::widgets::heatmap::Textures,
    previews: Previews<'_>,
    id: &str,
) -> bool {
    use crate::app::widgets::heatmap::{self, Scale};
    if let Some(grid) = previews.grid {
        if let Some(over) = grid.nodes.iter().find(|n| n.id == id) {
            let n = grid.request.n;
            let units: usize = over.shape.iter().product();
            if units > 0 && over.values.len() == units * n * n {
                ui.horizontal(|ui| {
                    ui.spacing_mut().item_spacing.x = 2.0;
                    for u in 0..units.min(PREVIEW_ITEMS) {
                        let texture = textures.get(
                            ui.ctx(),
                            &format!("preview-plane/{id}/{u}"),
                            grid.step as u64,
                            [n, n],
                            || {
                                let picture: Vec<f32> = (0..n)
                                    .rev()
                                    .flat_map(|row| (0..n).map(move |col| (row, col)))
                                    .map(|(row, col)| over.values[(row * n + col) * units + u])
                                    .collect();
                                let scale = Scale::of(&picture);
                                picture.iter().map(|&v| scale.color(v)).collect()
                            },
                        );
                        ui.add(egui::Image::new((texture.id(), Vec2::splat(30.0))))
                            .on_hover_text(format!("{id} unit {u} over the plane"));
                    }
                });
                return true;
            }
        }
    }
    let Some((version, outputs)) = previews.outputs else { return false };
    let Some(output) = outputs.iter().find(|o| o.id == id) else { return false };
    let key = format!("preview/{id}");
    match *output.shape.as_slice() {
        [c, h, w] if h * w > 1 => {
            let shown = c.min(PREVIEW_ITEMS);
            heatmap::map_grid(ui, textures, &key, version, &output.values, [shown, h, w], true, 30.0);
        }
        [t, f] if t * f > 1 => {
            let scale = Scale::of(&output.values);
            heatmap::image(ui, textures, &key, version, &output.values, [t, f], scale, Vec2::new(96.0, 32.0));
        }
        _ => {
            ui.set_max_width(110.0);
            heatmap::bar_strip(ui, &output.values, &[], 20.0);
        }
    }
    true
}
