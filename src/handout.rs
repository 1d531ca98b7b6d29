//! The handout: a whole notebook as one static HTML page (no JavaScript, nothing fetched): the
//! text cells as HTML, every other cell's current figure as inline SVG, each model's table of
//! layers with its training settings, and the final metrics. A teacher hands it out after class.

use std::fmt::Write as _;

use glassbox_engine::graph::{infer_shapes, shape_text};
use glassbox_engine::tensor::OptimizerSpec;

use crate::figures::{cell_figure, Sources};
use crate::notebook::CellKind;

/// The size each figure is drawn at (the page scales it to its width).
const FIGURE: (u32, u32) = (1600, 900);

/// Text made safe for HTML.
#[must_use]
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Markdown as HTML; HTML written inside the Markdown is shown as text, never run.
fn markdown(text: &str) -> String {
    use pulldown_cmark::{Event, Options, Parser};
    let events = Parser::new_ext(text, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH).map(|e| match e {
        Event::Html(h) | Event::InlineHtml(h) => Event::Text(h),
        other => other,
    });
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, events);
    html
}

fn optimizer(spec: &OptimizerSpec) -> String {
    match spec {
        OptimizerSpec::Sgd { lr, .. } => format!("SGD, learning rate {lr}"),
        OptimizerSpec::Adam { lr, .. } => format!("Adam, learning rate {lr}"),
        OptimizerSpec::AdamW { lr, .. } => format!("AdamW, learning rate {lr}"),
    }
}

/// An SVG document as an element to put in a page (its XML declaration dropped, its size
/// left to the page).
fn inline_svg(svg: &str) -> String {
    let body = match svg.find("<svg") {
        Some(k) => &svg[k..],
        None => svg,
    };
    body.replacen("<svg ", "<svg class=\"figure\" role=\"img\" ", 1)
}

/// The handout of the notebook in `src`, as a complete HTML document.
#[must_use]
pub fn handout_html(src: &Sources<'_>) -> String {
    let nb = src.notebook;
    let mut page = String::new();
    let title = escape(&nb.title);
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\" />\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\" />\n<title>{title}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n<main>\n"
    );
    // The notebook's title as the page's heading, unless its first text cell opens with one.
    let own_heading = nb.cells.iter().find_map(|c| match &c.kind {
        CellKind::Markdown { text } => Some(text.trim_start().starts_with("# ")),
        _ => None,
    });
    if own_heading != Some(true) {
        let _ = writeln!(page, "<h1>{title}</h1>");
    }
    if let Some(splits) = src.splits {
        let _ = writeln!(
            page,
            "<p class=\"data\">Data: {} ({} training and {} test samples). {}</p>",
            escape(&splits.info.title),
            splits.train.len(),
            splits.test.len(),
            escape(&splits.info.license)
        );
    }
    for (i, cell) in nb.cells.iter().enumerate() {
        let number = i + 1;
        match &cell.kind {
            CellKind::Markdown { text } => {
                let _ =
                    writeln!(page, "<section class=\"cell text\" id=\"cell-{number}\">\n{}</section>", markdown(text));
            }
            kind => {
                let model = kind.model().map(|m| format!(": {}", escape(m))).unwrap_or_default();
                let _ = writeln!(
                    page,
                    "<section class=\"cell\" id=\"cell-{number}\">\n<h2>{number}. {}{model}</h2>",
                    kind.title()
                );
                match cell_figure(src, i).and_then(|f| f.svg(FIGURE.0, FIGURE.1)) {
                    Ok(svg) => {
                        let _ = writeln!(page, "<figure>{}</figure>", inline_svg(&svg));
                    }
                    Err(why) => {
                        let _ = writeln!(page, "<p class=\"none\">No figure: {}.</p>", escape(&why));
                    }
                }
                if let CellKind::Model { model } | CellKind::Training { model } = kind {
                    if matches!(kind, CellKind::Model { .. }) {
                        model_table(&mut page, src, model);
                    } else {
                        metrics(&mut page, src, model);
                    }
                }
                page.push_str("</section>\n");
            }
        }
    }
    let _ = write!(
        page,
        "<footer>Made with Glassbox from the notebook \u{201c}{title}\u{201d}.</footer>\n</main>\n</body>\n</html>\n"
    );
    page
}

/// A model's layers (name, kind, output shape, trainable numbers) and training settings.
fn model_table(page: &mut String, src: &Sources<'_>, name: &str) {
    let Some(def) = src.notebook.model(name) else { return };
    let report = infer_shapes(&def.graph);
    page.push_str("<table>\n<thead><tr><th>layer</th><th>kind</th><th>output shape</th><th>trainable numbers</th></tr></thead>\n<tbody>\n");
    for node in &def.graph.nodes {
        let info = report.nodes.get(&node.id);
        let shape = report.shape_of(&node.id).map_or_else(|| "?".to_owned(), shape_text);
        let _ = writeln!(
            page,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td></tr>",
            escape(&node.id),
            node.layer.kind().label(),
            escape(&shape),
            info.map_or(0, |i| i.param_count)
        );
    }
    let t = &def.training;
    let _ = writeln!(
        page,
        "</tbody>\n<tfoot><tr><td colspan=\"3\">in all</td><td class=\"n\">{}</td></tr></tfoot>\n</table>\n<p class=\"settings\">Trained with {}, batches of {}, {} epochs, loss: {:?}.</p>",
        report.total_params(),
        optimizer(&t.optimizer),
        t.batch_size,
        t.epochs,
        t.loss
    );
}

/// A model's final metrics: the last step's training loss and the last test scores.
fn metrics(page: &mut String, src: &Sources<'_>, name: &str) {
    let Some(record) = src.records.get(name) else { return };
    let Some(latest) = record.latest else {
        page.push_str("<p class=\"none\">Not trained when this handout was made.</p>\n");
        return;
    };
    page.push_str("<table class=\"metrics\">\n<tbody>\n");
    let epoch = latest.step as f64 / record.steps_per_epoch.max(1) as f64;
    let _ = writeln!(page, "<tr><th>steps trained</th><td class=\"n\">{} (epoch {epoch:.1})</td></tr>", latest.step);
    if let Some(&(_, loss, accuracy)) = record.smoothed.points.last() {
        let _ = writeln!(page, "<tr><th>training loss (averaged)</th><td class=\"n\">{loss:.4}</td></tr>");
        let _ = writeln!(page, "<tr><th>training accuracy (averaged)</th><td class=\"n\">{accuracy:.3}</td></tr>");
    }
    if let Some(e) = record.evaluations.last().filter(|e| e.samples > 0) {
        let _ = writeln!(page, "<tr><th>test loss</th><td class=\"n\">{:.4}</td></tr>", e.loss);
        let _ = writeln!(
            page,
            "<tr><th>test accuracy</th><td class=\"n\">{:.3} ({} samples, step {})</td></tr>",
            e.accuracy, e.samples, e.step
        );
    }
    page.push_str("</tbody>\n</table>\n");
}

const STYLE: &str = "body { font-family: system-ui, sans-serif; color: #1a1a1a; background: #fff; margin: 0; }
main { max-width: 60rem; margin: 0 auto; padding: 1.5rem; line-height: 1.5; }
h1 { font-size: 2rem; margin-bottom: 0.2rem; }
h2 { font-size: 1.2rem; color: #333; border-bottom: 1px solid #ddd; padding-bottom: 0.2rem; }
.cell { margin: 1.6rem 0; }
figure { margin: 0.5rem 0; }
svg.figure { width: 100%; height: auto; border: 1px solid #e4e4e4; }
table { border-collapse: collapse; margin: 0.6rem 0; }
th, td { border: 1px solid #ccc; padding: 0.2rem 0.6rem; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.none, .data, .settings, footer { color: #555; }
footer { margin-top: 3rem; font-size: 0.9rem; }
code, pre { background: #f4f4f4; }
@media print { .cell { break-inside: avoid; } main { max-width: none; } }
";

/// Each model's run record for a handout made outside the window: the model with the weights
/// saved beside the notebook (else its starting weights), trained first as the notebook says
/// when `train`, then scored on the test split, looked at on test sample `sample`, and explained
/// with the methods of its attribution cells.
///
/// # Errors
/// A model that does not fit its data, or a trainer that stops answering, in words.
pub fn records_for(
    notebook_path: &std::path::Path,
    nb: &crate::notebook::Notebook,
    splits: &glassbox_engine::data::Splits,
    train: bool,
    sample: usize,
) -> Result<std::collections::BTreeMap<String, glassbox_engine::train::RunRecord>, String> {
    use glassbox_engine::train::{
        Command, Event, ExplainRequest, InspectRequest, RunRecord, Session, StartRun, WeightsFile,
    };
    use std::time::Duration;
    let mut out = std::collections::BTreeMap::new();
    for def in &nb.models {
        let report = infer_shapes(&def.graph);
        let limit = glassbox_engine::train::weights_file_limit(report.total_params());
        let path = crate::notebook::weights_path(notebook_path, &def.name);
        let weights = path
            .is_file()
            .then(|| glassbox_engine::files::read_file_at_most(&path, "the weights file", limit))
            .transpose()
            .map_err(|e| e.to_string())?;
        let mut session =
            Session::spawn(std::sync::Arc::new(|| {})).map_err(|e| format!("the trainer could not start: {e}"))?;
        let run = session.start(StartRun {
            graph: def.graph.clone(),
            data: splits.clone(),
            config: def.training,
            initial_weights: weights
                .map(|bytes| WeightsFile { source: glassbox_engine::files::brief_path(&path), bytes }),
            keep_matching_weights: false,
        });
        let mut record = RunRecord::for_run(run);
        let name = def.name.clone();
        // Folds events until `done` says the awaited one came.
        let until = |record: &mut RunRecord, done: &dyn Fn(&Event) -> bool| -> Result<(), String> {
            loop {
                let event = session.wait(Duration::from_secs(600)).ok_or("the trainer stopped answering")?;
                if let Event::Failed { message, .. } = &event {
                    return Err(format!("model \"{name}\": {message}"));
                }
                let finished = done(&event);
                record.apply(event);
                if finished {
                    return Ok(());
                }
            }
        };
        until(&mut record, &|e| matches!(e, Event::Started { .. }))?;
        if train {
            // A test point after every epoch, as the window's training cell draws them.
            session.send(Command::EvaluateEachEpoch(true));
            session.send(Command::Run { epochs: def.training.epochs.max(1), until_accuracy: None });
            until(&mut record, &|e| matches!(e, Event::Paused { .. }))?;
        }
        if splits.train.shape == [2] {
            // A 2-D set's plot is shaded by the model's decision regions.
            let (low, high) = crate::figures::cells::bounds(splits);
            session.send(Command::PredictGrid(glassbox_engine::train::GridRequest {
                low,
                high,
                n: 100,
                moment: None,
                neurons: true,
            }));
            until(&mut record, &|e| matches!(e, Event::Grid { .. }))?;
        }
        session.send(Command::Evaluate);
        until(&mut record, &|e| matches!(e, Event::Evaluated { .. }))?;
        let index = sample.min(splits.test.len().saturating_sub(1));
        if !splits.test.is_empty() {
            session.send(Command::Inspect(InspectRequest { id: 1, indices: vec![index], ..InspectRequest::default() }));
            until(&mut record, &|e| matches!(e, Event::Inspected { .. }))?;
            let mut methods: Vec<_> = nb
                .cells
                .iter()
                .filter_map(|c| match &c.kind {
                    CellKind::Attribution { model, methods } if *model == def.name => Some(methods.clone()),
                    _ => None,
                })
                .flatten()
                .collect();
            methods.sort();
            methods.dedup();
            if !methods.is_empty() {
                session.send(Command::Explain(ExplainRequest { id: 2, index, methods, ..ExplainRequest::default() }));
                until(&mut record, &|e| matches!(e, Event::Explained { .. }))?;
            }
        }
        session.send(Command::Stop);
        out.insert(def.name.clone(), record);
    }
    Ok(out)
}
