//! Each cell's current view as a [`Figure`]: what the cell shows, from the same data (the
//! notebook, the dataset, each model's run record), so a saved figure and the handout match the
//! window. A text cell has no figure (the handout writes its text).

use std::collections::BTreeMap;

use glassbox_engine::data::Splits;
use glassbox_engine::graph::{infer_shapes, shape_text, GraphSpec};
use glassbox_engine::train::{Inspection, RunRecord};

use super::draw::{Body, Figure, GraphNode, Panel, Rgb, Scale, Series, Tile};
use crate::notebook::{CellKind, Notebook};

/// What the figures are made from.
pub struct Sources<'a> {
    pub notebook: &'a Notebook,
    pub splits: Option<&'a Splits>,
    /// Each model's run, by model name.
    pub records: BTreeMap<&'a str, &'a RunRecord>,
    /// The class colours (as the app draws them).
    pub class_colours: Vec<Rgb>,
}

/// At most this many panels in one figure (an activations figure of a deep model shows its
/// first layers' outputs).
const MOST_PANELS: usize = 12;
/// At most this many pictures in a grid of feature maps or filters.
const MOST_TILES: usize = 32;

/// Training curves in blue, test curves in orange (as in the training cell).
const TRAIN: Rgb = [31, 119, 180];
const TEST: Rgb = [255, 127, 14];

/// The figure of cell `index`, or why it has none.
///
/// # Errors
/// A text cell, a cell whose model is missing, or a view with nothing to show yet, in words.
pub fn cell_figure(src: &Sources<'_>, index: usize) -> Result<Figure, String> {
    let cell = src.notebook.cells.get(index).ok_or_else(|| format!("the notebook has no cell {}", index + 1))?;
    let record = |model: &str| -> Result<&RunRecord, String> {
        src.records.get(model).copied().ok_or_else(|| format!("the notebook has no model \"{model}\""))
    };
    let inspection = |model: &str| -> Result<&Inspection, String> {
        record(model)?
            .inspection
            .as_ref()
            .ok_or_else(|| format!("{model} has not been looked at yet: choose a sample (or train it) first"))
    };
    match &cell.kind {
        CellKind::Markdown { .. } => Err("a text cell has no figure".to_owned()),
        CellKind::Dataset => dataset(src),
        CellKind::Model { model } => {
            let def = src.notebook.model(model).ok_or_else(|| format!("the notebook has no model \"{model}\""))?;
            Ok(graph_figure(model, &def.graph))
        }
        CellKind::Training { model } => Ok(training(model, record(model)?)),
        CellKind::Compare => Ok(compare(src)),
        CellKind::Evaluation { model } => evaluation(src, model, record(model)?),
        CellKind::Predictions { model } => predictions(src, model, inspection(model)?),
        CellKind::Activations { model } => match record(model)?.grid.as_ref().filter(|g| !g.nodes.is_empty()) {
            // A 2-D set: each neuron over the plane, as the cell draws it.
            Some(grid) => Ok(neurons_over_the_plane(model, grid)),
            None => Ok(activations(src, model, inspection(model)?)),
        },
        CellKind::Weights { model } => Ok(weights(src, model, inspection(model)?)),
        CellKind::Health { model } => health(model, record(model)?),
        CellKind::Attention { model } => attention(src, model, inspection(model)?),
        CellKind::Attribution { model, .. } => attribution(src, model, record(model)?),
        CellKind::StepByStep { model, view } => step_by_step(src, model, view, inspection(model)?),
    }
}

fn at_step(step: usize, moment: Option<usize>) -> String {
    match moment {
        Some(m) => format!("weights of step {m} (from the timeline)"),
        None => format!("after step {step}"),
    }
}

fn dataset(src: &Sources<'_>) -> Result<Figure, String> {
    let splits = src.splits.ok_or("the dataset is not loaded")?;
    let train = &splits.train;
    let mut figure = Figure {
        title: splits.info.title.clone(),
        subtitle: format!(
            "{} training and {} test samples, each {}",
            train.len(),
            splits.test.len(),
            shape_text(&train.shape)
        ),
        ..Figure::default()
    };
    let labels = train.labels().filter(|l| l.len() == train.len());
    if train.shape == [2] {
        // Training points filled, test points hollow (as the window draws them).
        let colour = |class: usize| src.class_colours.get(class).copied().unwrap_or([128, 128, 128]);
        let mut points: Vec<([f32; 2], Rgb, bool)> = Vec::new();
        for (set, hollow) in [(train, false), (&splits.test, true)] {
            let labels = set.labels().filter(|l| l.len() == set.len());
            points.extend((0..set.len().min(2000)).map(|i| {
                let p = set.sample(i);
                ([p[0], p[1]], colour(labels.map_or(0, |l| l[i])), hollow)
            }));
        }
        // The first model with a decision boundary shades the plane by the class it chooses
        // (paler where it is less sure).
        let boundary = src.notebook.models.iter().find_map(|m| {
            let grid = src.records.get(m.name.as_str())?.grid.as_ref()?;
            Some((m.name.clone(), grid))
        });
        let (mut low, mut high) = bounds(splits);
        let (mut n, mut background, mut title) =
            (0, Vec::new(), "training samples (filled) and test samples (hollow)".to_owned());
        if let Some((model, grid)) = boundary {
            (low, high, n) = (grid.request.low, grid.request.high, grid.request.n);
            title = format!("the samples (test hollow) over {model}'s decision regions, step {}", grid.step);
            background = grid
                .outputs
                .chunks_exact(grid.width.max(1))
                .map(|scores| {
                    let p = softmax(scores);
                    let best = (0..p.len()).max_by(|&a, &b| p[a].total_cmp(&p[b])).unwrap_or(0);
                    let c = src.class_colours.get(best).copied().unwrap_or([128; 3]);
                    let strength = 0.2
                        + 0.4 * (p[best] - 1.0 / p.len() as f32).max(0.0) * p.len() as f32
                            / (p.len() as f32 - 1.0).max(1.0);
                    std::array::from_fn(|k| (255.0 * (1.0 - strength) + f32::from(c[k]) * strength).round() as u8)
                })
                .collect();
        }
        figure.panels.push(Panel { title, body: Body::Plane { low, high, n, background, points } });
        figure.legend = class_legend(src, &train.classes);
    } else if let Some([c, h, w]) = image(&train.shape) {
        let tiles = (0..train.len().min(24))
            .map(|i| Tile {
                label: labels.and_then(|l| train.classes.get(l[i])).cloned().unwrap_or_default(),
                height: h,
                width: w,
                values: if c == 3 { train.sample(i).to_vec() } else { train.sample(i)[..h * w].to_vec() },
            })
            .collect();
        figure
            .panels
            .push(Panel { title: "the first training samples".into(), body: Body::Tiles { tiles, scale: None } });
    }
    if let Some(labels) = labels {
        let mut counts = vec![0.0f32; train.classes.len()];
        for &l in labels {
            if let Some(c) = counts.get_mut(l) {
                *c += 1.0;
            }
        }
        figure.panels.push(Panel {
            title: "class balance (training samples per class)".into(),
            body: Body::Bars {
                labels: train.classes.clone(),
                values: counts,
                signed: false,
                percent: false,
                highlight: None,
                colours: src.class_colours.clone(),
            },
        });
    }
    Ok(figure)
}

/// The plane a 2-D set's plot shows: its points' box with a margin.
pub(crate) fn bounds(splits: &Splits) -> ([f32; 2], [f32; 2]) {
    let (mut low, mut high) = ([f32::INFINITY; 2], [f32::NEG_INFINITY; 2]);
    for set in [&splits.train, &splits.test] {
        for i in 0..set.len() {
            let p = set.sample(i);
            for a in 0..2 {
                low[a] = low[a].min(p[a]);
                high[a] = high[a].max(p[a]);
            }
        }
    }
    for a in 0..2 {
        if !low[a].is_finite() {
            (low[a], high[a]) = (-1.0, 1.0);
        }
        let m = ((high[a] - low[a]) * 0.08).max(0.1);
        low[a] -= m;
        high[a] += m;
    }
    (low, high)
}

fn class_legend(src: &Sources<'_>, classes: &[String]) -> Vec<(String, Rgb, bool)> {
    classes
        .iter()
        .take(12)
        .enumerate()
        .map(|(i, c)| (c.clone(), src.class_colours.get(i).copied().unwrap_or([128; 3]), false))
        .collect()
}

/// The model graph: one box per node with its layer and output shape, in columns by depth.
#[must_use]
pub fn graph_figure(name: &str, graph: &GraphSpec) -> Figure {
    let report = infer_shapes(graph);
    let index: BTreeMap<&str, usize> = graph.nodes.iter().enumerate().map(|(i, n)| (n.id.as_str(), i)).collect();
    // Depth: the longest path from an input, over the nodes in an order where inputs come first.
    let mut depth = vec![0usize; graph.nodes.len()];
    for _ in 0..graph.nodes.len() {
        let mut changed = false;
        for e in &graph.edges {
            if let (Some(&a), Some(&b)) = (index.get(e.from.as_str()), index.get(e.to.as_str())) {
                if depth[b] < depth[a] + 1 && depth[a] < graph.nodes.len() {
                    depth[b] = depth[a] + 1;
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    let mut seen: BTreeMap<usize, usize> = BTreeMap::new();
    let nodes = graph
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let row = seen.entry(depth[i]).or_default();
            let place = *row;
            *row += 1;
            let shape = report.shape_of(&n.id).map_or_else(|| "?".to_owned(), shape_text);
            GraphNode {
                name: n.id.clone(),
                kind: n.layer.kind().label().to_owned(),
                shape,
                depth: depth[i],
                row: place,
            }
        })
        .collect();
    let edges =
        graph.edges.iter().filter_map(|e| Some((*index.get(e.from.as_str())?, *index.get(e.to.as_str())?))).collect();
    Figure {
        title: format!("{name}: the model"),
        subtitle: format!("{} layers, {} trainable numbers", graph.nodes.len(), report.total_params()),
        panels: vec![Panel { title: String::new(), body: Body::Graph { nodes, edges } }],
        legend: Vec::new(),
    }
}

/// A run's curves: training (averaged) solid, test dashed, x in epochs.
fn curves(record: &RunRecord, colour: Option<Rgb>, name: &str) -> (Vec<Series>, Vec<Series>) {
    let spe = record.steps_per_epoch.max(1) as f64;
    let points = record.smoothed.thin(400);
    let prefix = if name.is_empty() { String::new() } else { format!("{name}: ") };
    let series = |label: &str, c: Rgb, dashed: bool, p: Vec<(f64, f64)>| Series {
        name: format!("{prefix}{label}"),
        colour: c,
        points: p,
        dashed,
    };
    let train_loss = points.iter().map(|p| (p.0 as f64 / spe, f64::from(p.1))).collect();
    let train_acc = points.iter().map(|p| (p.0 as f64 / spe, f64::from(p.2))).collect();
    let test_loss = record.evaluations.iter().map(|e| (e.step as f64 / spe, f64::from(e.loss))).collect();
    let test_acc = record
        .evaluations
        .iter()
        .filter(|e| e.samples > 0)
        .map(|e| (e.step as f64 / spe, f64::from(e.accuracy)))
        .collect();
    let (tc, ec) = (colour.unwrap_or(TRAIN), colour.unwrap_or(TEST));
    (
        vec![series("training", tc, false, train_loss), series("test", ec, true, test_loss)],
        vec![series("training", tc, false, train_acc), series("test", ec, true, test_acc)],
    )
}

fn training(model: &str, record: &RunRecord) -> Figure {
    let (loss, accuracy) = curves(record, None, "");
    let subtitle = match record.latest {
        Some(p) => {
            let test = record.evaluations.last().filter(|e| e.samples > 0);
            let test = test
                .map_or_else(String::new, |e| format!(", test loss {:.4}, test accuracy {:.3}", e.loss, e.accuracy));
            // The averaged loss, as the window's curves and run bar show it.
            let loss = record.smoothed.points.last().map_or(p.loss, |q| q.1);
            format!(
                "step {} (epoch {:.1}): training loss {loss:.4} (averaged){test}",
                p.step,
                p.step as f64 / record.steps_per_epoch.max(1) as f64
            )
        }
        None => "not trained yet".to_owned(),
    };
    Figure {
        title: format!("{model}: training"),
        subtitle,
        panels: curve_panels(loss, accuracy),
        legend: vec![("training (averaged)".into(), TRAIN, false), ("test".into(), TEST, true)],
    }
}

/// One colour per model, as the compare cell draws them.
fn model_colour(i: usize) -> Rgb {
    let c = crate::app::widgets::palette::model_color(i);
    [c.r(), c.g(), c.b()]
}

/// The loss and accuracy plots over epochs.
fn curve_panels(loss: Vec<Series>, accuracy: Vec<Series>) -> Vec<Panel> {
    let plot = |name: &str, series| Panel {
        title: name.to_owned(),
        body: Body::Lines {
            x_label: "epoch".into(),
            y_label: name.to_owned(),
            series,
            y_range: (name == "accuracy").then_some((0.0, 1.0)),
            key: false,
        },
    };
    vec![plot("loss", loss), plot("accuracy", accuracy)]
}

fn compare(src: &Sources<'_>) -> Figure {
    let (mut loss, mut accuracy, mut legend) = (Vec::new(), Vec::new(), Vec::new());
    for (i, m) in src.notebook.models.iter().enumerate() {
        let Some(record) = src.records.get(m.name.as_str()) else { continue };
        let (l, a) = curves(record, Some(model_colour(i)), &m.name);
        // Test curves only, unless the compare cell shows the training curves too.
        let keep = |s: &Series| s.dashed || src.notebook.view.compare_training;
        loss.extend(l.into_iter().filter(keep));
        accuracy.extend(a.into_iter().filter(keep));
        legend.push((m.name.clone(), model_colour(i), false));
    }
    legend.push(("test (dashed)".into(), [90, 90, 90], true));
    Figure {
        title: "Every model's curves".into(),
        subtitle: if src.notebook.view.compare_training {
            "solid: training loss and accuracy (averaged); dashed: test".into()
        } else {
            "loss and accuracy on the test samples, one colour per model".into()
        },
        panels: curve_panels(loss, accuracy),
        legend,
    }
}

fn evaluation(src: &Sources<'_>, model: &str, record: &RunRecord) -> Result<Figure, String> {
    let e = record
        .evaluations
        .last()
        .ok_or_else(|| format!("{model} has not been scored on the test samples yet: train it for an epoch"))?;
    let classes: Vec<String> = src.splits.map(|s| s.test.classes.clone()).unwrap_or_default();
    if e.confusion.is_empty() || classes.is_empty() {
        return Err("this dataset has no classes to confuse".to_owned());
    }
    let rows = e.confusion.len();
    let cols = e.confusion.iter().map(Vec::len).max().unwrap_or(0);
    let values: Vec<f32> =
        e.confusion.iter().flat_map(|r| (0..cols).map(|c| r.get(c).copied().unwrap_or(0) as f32)).collect();
    let high = values.iter().fold(1.0f32, |m, &v| m.max(v));
    let col_labels = (0..cols).map(|c| classes.get(c).cloned().unwrap_or_else(|| format!("output {c}"))).collect();
    let per_class: Vec<f32> = e
        .confusion
        .iter()
        .enumerate()
        .map(|(r, row)| {
            let total: usize = row.iter().sum();
            if total == 0 {
                0.0
            } else {
                row.get(r).copied().unwrap_or(0) as f32 / total as f32
            }
        })
        .collect();
    Ok(Figure {
        title: format!("{model}: where it goes wrong"),
        subtitle: format!("after step {}: test accuracy {:.3} on {} samples", e.step, e.accuracy, e.samples),
        panels: vec![
            Panel {
                title: "confusion matrix (counts)".into(),
                body: Body::Heatmap {
                    rows,
                    cols,
                    values,
                    scale: Scale::Sequential { low: 0.0, high },
                    row_labels: classes.iter().take(rows).cloned().collect(),
                    col_labels,
                    x_label: "predicted class".into(),
                    y_label: "true class".into(),
                    annotate: true,
                },
            },
            Panel {
                title: "accuracy per class".into(),
                body: Body::Bars {
                    labels: classes.iter().take(rows).cloned().collect(),
                    values: per_class,
                    signed: false,
                    percent: true,
                    highlight: None,
                    colours: Vec::new(),
                },
            },
        ],
        legend: Vec::new(),
    })
}

use crate::app::{image_shape as image, softmax};

/// The sample of an inspection as a tile (an image) or its tokens in words.
fn sample_tile(inspection: &Inspection) -> Option<Tile> {
    let input = inspection.outputs.first()?;
    let [c, h, w] = image(&input.shape)?;
    Some(Tile { label: String::new(), height: h, width: w, values: input.values[..c * h * w].to_vec() })
}

fn tokens(src: &Sources<'_>, inspection: &Inspection) -> Vec<String> {
    let vocab = src.splits.and_then(|s| s.test.vocab.as_ref());
    let Some(input) = inspection.outputs.first() else { return Vec::new() };
    let Some(vocab) = vocab else { return Vec::new() };
    input
        .values
        .iter()
        .map(|&v| match vocab.tokens().get(v.max(0.0) as usize).map(String::as_str) {
            Some(glassbox_engine::data::PAD) => "pad".to_owned(),
            Some(t) => crate::app::widgets::visible_whitespace(t),
            None => format!("{v}"),
        })
        .collect()
}

fn predictions(src: &Sources<'_>, model: &str, inspection: &Inspection) -> Result<Figure, String> {
    let output = inspection.outputs.last().ok_or("the inspection has no output")?;
    let classes: Vec<String> = src.splits.map(|s| s.test.classes.clone()).unwrap_or_default();
    let width: usize = output.shape.iter().product();
    let scores = output.values.get(..width).ok_or("the inspection has no output")?;
    let mut figure = Figure {
        title: format!("{model}: its answer for the chosen sample"),
        subtitle: at_step(inspection.step, inspection.moment),
        ..Figure::default()
    };
    if let Some(tile) = sample_tile(inspection) {
        figure.panels.push(Panel { title: "the sample".into(), body: Body::Tiles { tiles: vec![tile], scale: None } });
    } else {
        let words = tokens(src, inspection);
        if !words.is_empty() {
            figure.subtitle =
                format!("{} · \"{}\"", figure.subtitle, words.join(" ").chars().take(90).collect::<String>());
        }
    }
    if output.shape.len() == 1 && width == classes.len() {
        let p = softmax(scores);
        let mut order: Vec<usize> = (0..p.len()).collect();
        order.sort_by(|&a, &b| p[b].total_cmp(&p[a]));
        order.truncate(10);
        figure.panels.push(Panel {
            title: "top classes (softmax of its outputs)".into(),
            body: Body::Bars {
                labels: order.iter().map(|&c| classes[c].clone()).collect(),
                values: order.iter().map(|&c| p[c]).collect(),
                signed: false,
                percent: true,
                highlight: Some(0),
                colours: Vec::new(),
            },
        });
    } else {
        figure.panels.push(Panel {
            title: format!("its outputs ({})", shape_text(&output.shape)),
            body: heat_of(&output.shape, scores, Vec::new(), Vec::new()),
        });
    }
    Ok(figure)
}

/// A node's output (one sample) as a picture: feature maps as tiles, a vector as a one-row
/// heatmap, a `[time, features]` output as a heatmap with the tokens down the side.
fn heat_of(shape: &[usize], values: &[f32], row_labels: Vec<String>, _col: Vec<String>) -> Body {
    match *shape {
        [c, h, w] if h > 1 && w > 1 => Body::Tiles {
            tiles: (0..c.min(MOST_TILES))
                .map(|k| Tile {
                    label: format!("{}", k + 1),
                    height: h,
                    width: w,
                    values: values[k * h * w..(k + 1) * h * w].to_vec(),
                })
                .collect(),
            scale: Some(Scale::of(&values[..c.min(MOST_TILES) * h * w])),
        },
        [t, d] => Body::Heatmap {
            rows: t,
            cols: d,
            values: values.to_vec(),
            scale: Scale::of(values),
            row_labels: if row_labels.len() == t { row_labels } else { Vec::new() },
            col_labels: Vec::new(),
            x_label: "feature".into(),
            y_label: "position".into(),
            annotate: false,
        },
        _ => {
            let n = values.len();
            // A long vector wraps into rows of at most 32.
            let cols = n.clamp(1, 32);
            let rows = n.div_ceil(cols);
            let mut padded = values.to_vec();
            padded.resize(rows * cols, 0.0);
            Body::Heatmap {
                rows,
                cols,
                values: padded,
                scale: Scale::of(values),
                row_labels: Vec::new(),
                col_labels: Vec::new(),
                x_label: String::new(),
                y_label: String::new(),
                annotate: false,
            }
        }
    }
}

/// Every hidden node's units over the plane (each unit's output at every grid point, the top of
/// the plane at the top), one panel per node, the input and output left out.
fn neurons_over_the_plane(model: &str, grid: &glassbox_engine::train::Grid) -> Figure {
    let n = grid.request.n;
    let panels = grid
        .nodes
        .iter()
        .filter(|node| node.id != "input" && node.shape.len() == 1)
        .take(MOST_PANELS)
        .map(|node| {
            let units = node.shape[0];
            let tiles = (0..units.min(MOST_TILES))
                .map(|unit| Tile {
                    label: format!("{}", unit + 1),
                    height: n,
                    width: n,
                    // The grid runs from the bottom row up; a picture from the top down.
                    values: (0..n * n).map(|k| node.values[((n - 1 - k / n) * n + k % n) * units + unit]).collect(),
                })
                .collect();
            let scale = Scale::of(&node.values);
            Panel { title: format!("{} · {units} units", node.id), body: Body::Tiles { tiles, scale: Some(scale) } }
        })
        .collect();
    Figure {
        title: format!("{model}: every neuron over the plane"),
        subtitle: format!(
            "each square is one unit's output at every point of the plane (x1 across, x2 up), step {}",
            grid.step
        ),
        panels,
        legend: Vec::new(),
    }
}

fn activations(src: &Sources<'_>, model: &str, inspection: &Inspection) -> Figure {
    let words = tokens(src, inspection);
    let panels = inspection
        .outputs
        .iter()
        .take(MOST_PANELS)
        .map(|o| {
            let size: usize = o.shape.iter().product();
            let values = &o.values[..size.min(o.values.len())];
            let body = if words.is_empty() || o.shape.len() != 2 {
                heat_of(&o.shape, values, Vec::new(), Vec::new())
            } else {
                heat_of(&o.shape, values, words.clone(), Vec::new())
            };
            Panel { title: format!("{} · {}", o.id, shape_text(&o.shape)), body }
        })
        .collect();
    Figure {
        title: format!("{model}: every layer's output for the chosen sample"),
        subtitle: format!(
            "{}; colours: blue negative, white 0, red positive (black to yellow when never negative)",
            at_step(inspection.step, inspection.moment)
        ),
        panels,
        legend: Vec::new(),
    }
}

fn weights(src: &Sources<'_>, model: &str, inspection: &Inspection) -> Figure {
    let order: Vec<&str> =
        src.notebook.model(model).map(|d| d.graph.nodes.iter().map(|n| n.id.as_str()).collect()).unwrap_or_default();
    let mut names: Vec<&String> = inspection.weights.keys().collect();
    names.sort_by_key(|n| {
        let node = glassbox_engine::inspect::param_node(n);
        (order.iter().position(|&o| o == node).unwrap_or(usize::MAX), !n.ends_with(".weight"), (*n).clone())
    });
    let panels = names
        .into_iter()
        .take(MOST_PANELS)
        .map(|name| {
            let values = &inspection.weights[name];
            let shape = inspection.shapes.get(name).cloned().unwrap_or_else(|| vec![values.len()]);
            let body = match *shape.as_slice() {
                // Convolution filters: each filter's first input channel (all channels for colour).
                [out, inp, kh, kw] => {
                    let per = inp * kh * kw;
                    Body::Tiles {
                        tiles: (0..out.min(MOST_TILES))
                            .map(|f| {
                                let start = f * per;
                                let len = if inp == 3 { 3 * kh * kw } else { kh * kw };
                                Tile {
                                    label: format!("{}", f + 1),
                                    height: kh,
                                    width: kw,
                                    values: values[start..start + len].to_vec(),
                                }
                            })
                            .collect(),
                        scale: if inp == 3 { None } else { Some(Scale::of(values)) },
                    }
                }
                // A dense layer's [inputs, units]: drawn with the units down the side when the
                // inputs are many more (a tall thin strip would hide them).
                [rows, cols] if rows > 4 * cols => Body::Heatmap {
                    rows: cols,
                    cols: rows,
                    values: (0..cols)
                        .flat_map(|c| (0..rows).map(move |r| (r, c)))
                        .map(|(r, c)| values[r * cols + c])
                        .collect(),
                    scale: Scale::of(values),
                    row_labels: Vec::new(),
                    col_labels: Vec::new(),
                    x_label: "input".into(),
                    y_label: "unit".into(),
                    annotate: false,
                },
                [rows, cols] => Body::Heatmap {
                    rows,
                    cols,
                    values: values.clone(),
                    scale: Scale::of(values),
                    row_labels: Vec::new(),
                    col_labels: Vec::new(),
                    x_label: "unit".into(),
                    y_label: "input".into(),
                    annotate: false,
                },
                _ => heat_of(&[values.len()], values, Vec::new(), Vec::new()),
            };
            Panel { title: format!("{name} · {}", shape_text(&shape)), body }
        })
        .collect();
    Figure {
        title: format!("{model}: its weights"),
        subtitle: format!("{}; blue negative, white 0, red positive", at_step(inspection.step, inspection.moment)),
        panels,
        legend: Vec::new(),
    }
}

fn health(model: &str, record: &RunRecord) -> Result<Figure, String> {
    if record.health.is_empty() {
        return Err(format!("{model} has no health measurements yet: train it"));
    }
    let spe = record.steps_per_epoch.max(1) as f64;
    let layers: Vec<String> =
        record.health.last().map(|(_, l)| l.iter().map(|h| h.node.clone()).collect()).unwrap_or_default();
    let series = |f: &dyn Fn(&glassbox_engine::train::LayerHealth) -> f32| -> Vec<Series> {
        layers
            .iter()
            .enumerate()
            .map(|(i, layer)| Series {
                name: layer.clone(),
                colour: model_colour(i),
                points: record
                    .health
                    .iter()
                    .filter_map(|(step, ls)| {
                        ls.iter()
                            .find(|h| &h.node == layer)
                            .map(|h| (*step as f64 / spe, f64::from(f(h).max(1e-12)).log10()))
                    })
                    .collect(),
                dashed: false,
            })
            .collect()
    };
    Ok(Figure {
        title: format!("{model}: gradients and updates per layer"),
        subtitle: "log10 scale; healthy updates are about 1e-3 of the weights".into(),
        panels: vec![
            Panel {
                title: "gradient norm".into(),
                body: Body::Lines {
                    x_label: "epoch".into(),
                    y_label: "log10 |gradient|".into(),
                    series: series(&|h| h.grad_norm),
                    y_range: None,
                    key: true,
                },
            },
            Panel {
                title: "update / weight".into(),
                body: Body::Lines {
                    x_label: "epoch".into(),
                    y_label: "log10 |update| / |weight|".into(),
                    series: series(&|h| h.update_ratio()),
                    y_range: None,
                    key: true,
                },
            },
        ],
        legend: Vec::new(),
    })
}

fn attention(src: &Sources<'_>, model: &str, inspection: &Inspection) -> Result<Figure, String> {
    let words = tokens(src, inspection);
    let mut panels = Vec::new();
    for map in inspection.extras.iter().filter(|e| e.id.ends_with(".attention")) {
        let [heads, time, _] = map.shape[..] else { continue };
        let layer = map.id.trim_end_matches(".attention");
        for head in 0..heads {
            let values = map.values[head * time * time..(head + 1) * time * time].to_vec();
            let labels = if words.len() == time { words.clone() } else { (1..=time).map(|t| t.to_string()).collect() };
            panels.push(Panel {
                title: format!("{layer}, head {}", head + 1),
                body: Body::Heatmap {
                    rows: time,
                    cols: time,
                    values,
                    scale: Scale::Sequential { low: 0.0, high: 1.0 },
                    row_labels: labels.clone(),
                    col_labels: labels,
                    x_label: "looked at".into(),
                    y_label: "looking".into(),
                    annotate: false,
                },
            });
        }
    }
    if panels.is_empty() {
        return Err(format!("{model} has no attention layer"));
    }
    panels.truncate(MOST_PANELS);
    Ok(Figure {
        title: format!("{model}: where each token looks"),
        subtitle: format!("{}; each row adds up to 1", at_step(inspection.step, inspection.moment)),
        panels,
        legend: Vec::new(),
    })
}

fn attribution(src: &Sources<'_>, model: &str, record: &RunRecord) -> Result<Figure, String> {
    let explanation = record
        .explanation
        .as_ref()
        .ok_or_else(|| format!("{model} has no attribution yet: choose a sample and wait for the maps"))?;
    let classes: Vec<String> = src.splits.map(|s| s.test.classes.clone()).unwrap_or_default();
    let class = |c: usize| classes.get(c).cloned().unwrap_or_else(|| format!("output {c}"));
    let features: Vec<String> = src.splits.map(|s| s.test.features.clone()).unwrap_or_default();
    let names: Vec<String> = match src.splits.and_then(|s| s.test.vocab.as_ref()) {
        Some(vocab) => explanation
            .input
            .iter()
            .map(|&v| vocab.tokens().get(v.max(0.0) as usize).cloned().unwrap_or_else(|| format!("{v}")))
            .collect(),
        None => features,
    };
    let mut panels = Vec::new();
    let mut subtitle = at_step(explanation.step, explanation.moment);
    for map in explanation.maps.iter().flatten() {
        subtitle =
            format!("{subtitle}; explains \"{}\", the model said \"{}\"", class(map.target), class(map.predicted));
        let body = match map.pixels() {
            Some((h, w, values)) => {
                let plane = h * w;
                let channels = explanation.input.len() / plane.max(1);
                let picture = if channels >= 1 && explanation.input.len() == channels * plane {
                    (0..plane)
                        .map(|p| (0..channels).map(|c| explanation.input[c * plane + p]).sum::<f32>() / channels as f32)
                        .collect()
                } else {
                    Vec::new()
                };
                // Grad-CAM's map is coarser than the picture: each value covers a block.
                Body::Overlay { height: h, width: w, picture, map: values }
            }
            None => {
                let mut order: Vec<usize> = (0..map.values.len()).collect();
                if order.len() > 30 {
                    order.sort_by(|&a, &b| map.values[b].abs().total_cmp(&map.values[a].abs()));
                    order.truncate(30);
                    order.sort_unstable();
                }
                Body::Bars {
                    labels: order.iter().map(|&i| names.get(i).cloned().unwrap_or_else(|| format!("#{i}"))).collect(),
                    values: order.iter().map(|&i| map.values[i]).collect(),
                    signed: true,
                    percent: false,
                    highlight: None,
                    colours: Vec::new(),
                }
            }
        };
        panels.push(Panel { title: map.method.title().to_owned(), body });
    }
    if panels.is_empty() {
        return Err("no attribution method gave a map for this sample".to_owned());
    }
    // Keep the subtitle to one method's target (they explain the same class).
    if let Some(first) = subtitle.find("; explains") {
        let rest = &subtitle[first + 2..];
        let end = rest.find("; explains").map_or(subtitle.len(), |k| first + 2 + k);
        subtitle.truncate(end);
    }
    Ok(Figure {
        title: format!("{model}: why it said that"),
        subtitle,
        panels,
        legend: vec![("raised the score".into(), [178, 24, 43], false), ("lowered it".into(), [33, 102, 172], false)],
    })
}

fn step_by_step(
    src: &Sources<'_>,
    model: &str,
    view: &crate::notebook::StepView,
    inspection: &Inspection,
) -> Result<Figure, String> {
    let def = src.notebook.model(model).ok_or_else(|| format!("the notebook has no model \"{model}\""))?;
    let report = infer_shapes(&def.graph);
    let node =
        view.node.clone().or_else(|| report.order.get(1).cloned()).ok_or("the model has no layer after its input")?;
    // One sample's outputs.
    let outputs: Vec<_> = inspection
        .outputs
        .iter()
        .map(|o| {
            let n: usize = o.shape.iter().product();
            glassbox_engine::tensor::NodeOutput {
                id: o.id.clone(),
                shape: o.shape.clone(),
                values: o.values[..n.min(o.values.len())].to_vec(),
            }
        })
        .collect();
    let walk = glassbox_engine::explain::steps::walkthrough(
        &def.graph,
        &report,
        &outputs,
        &inspection.weights,
        &node,
        view.index,
    )
    .map_err(|e| e.to_string())?;
    let mut lines = Vec::new();
    let mut grids = Vec::new();
    for (k, op) in walk.operations.iter().enumerate() {
        lines.push(format!("{}. {}", k + 1, op.what));
        if op.result.is_finite() {
            lines.push(format!("    {} = {:.5}", op.formula, op.result));
        } else if let (Some(cols), false) = (op.columns, op.terms.is_empty()) {
            // A grid of values (a patch, a kernel): drawn beside the text with its numbers.
            lines.push(format!("    {}: grid {} beside", op.formula, k + 1));
            let rows = op.terms.len().div_ceil(cols.max(1));
            let mut values: Vec<f32> = op.terms.iter().map(|t| t.1).collect();
            values.resize(rows * cols, 0.0);
            grids.push(Panel {
                title: format!("grid {}: {}", k + 1, op.formula),
                body: Body::Heatmap {
                    rows,
                    cols,
                    scale: Scale::of(&values),
                    values,
                    row_labels: Vec::new(),
                    col_labels: Vec::new(),
                    x_label: String::new(),
                    y_label: String::new(),
                    annotate: true,
                },
            });
        } else {
            let shown: Vec<String> = op.terms.iter().take(8).map(|(name, v)| format!("{name} = {v:.4}")).collect();
            let more = if op.terms.len() > 8 { format!(", ... ({} in all)", op.terms.len()) } else { String::new() };
            lines.push(format!("    {}: {}{more}", op.formula, shown.join(", ")));
        }
    }
    lines.push(format!("recorded by the engine: {:.5}", walk.recorded));
    Ok(Figure {
        title: format!("{model}: {} ({}) worked out, output {:?}", walk.node, walk.layer, walk.position),
        subtitle: at_step(inspection.step, inspection.moment),
        panels: std::iter::once(Panel { title: String::new(), body: Body::Text { lines } })
            .chain(grids.into_iter().take(3))
            .collect(),
        legend: Vec::new(),
    })
}

/// The class colours the app draws these classes in.
#[must_use]
pub fn class_colours(classes: &[String]) -> Vec<Rgb> {
    let palette = crate::app::widgets::palette::Palette::for_classes(classes);
    (0..classes.len())
        .map(|i| {
            let c = palette.color(i);
            [c.r(), c.g(), c.b()]
        })
        .collect()
}
