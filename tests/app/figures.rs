//! Figures and the handout from the window: every cell's figure saved as PNG (slide and print
//! size) and SVG, checked as files (valid, of the asked size, not blank); the right-click menu on
//! a cell's view; the handout as one page naming every cell, with no script.

use std::path::{Path, PathBuf};
use std::time::Duration;

use eframe::egui;
use egui_kittest::kittest::Queryable as _;
use egui_kittest::Harness;
use glassbox::notebook::CellKind;
use glassbox::{assets_path, AppCommand, GlassboxApp, ModelCommand};

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("glassbox-figures-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// The MNIST lesson trained one epoch, its inspections and maps arrived.
fn trained_mnist() -> Harness<'static, GlassboxApp> {
    let mut h = Harness::builder().with_size([1280.0, 12000.0]).build_ui_state(
        |ui, app: &mut GlassboxApp| app.show(ui),
        GlassboxApp::new(assets_path("assets/notebooks/mnist-lenet.json")),
    );
    h.run_steps(2);
    h.state_mut().push(AppCommand::SetSpeed(None));
    h.state_mut().push(AppCommand::model("LeNet", ModelCommand::StepEpoch));
    crate::step_within(&mut h, Duration::from_secs(120), "an epoch and its maps", |app| {
        let now = app.record_of("LeNet").and_then(|r| r.latest).map_or(0, |p| p.step);
        now > 0
            && app.record_of("LeNet").is_some_and(|r| !r.evaluations.is_empty() && !r.health.is_empty())
            && app.inspection_shown("LeNet").is_some_and(|(i, _)| i.step == now)
            && app.explanation_shown("LeNet").is_some_and(|e| e.step == now)
    });
    h.run_steps(2);
    h
}

/// A PNG file's size, and the share of its pixels that are not the white background.
fn png_facts(path: &Path) -> ((u32, u32), f64, usize) {
    let image = image::open(path).unwrap_or_else(|e| panic!("{} is not a readable PNG: {e}", path.display())).to_rgb8();
    let size = image.dimensions();
    let inked = image.pixels().filter(|p| p.0 != [255, 255, 255]).count();
    let colours: std::collections::HashSet<[u8; 3]> = image.pixels().map(|p| p.0).collect();
    (size, inked as f64 / f64::from(size.0 * size.1), colours.len())
}

/// An SVG file parsed: its size, and every text it writes.
fn svg_facts(path: &Path) -> ((String, String), Vec<String>, usize) {
    let text = std::fs::read_to_string(path).expect("svg written");
    let doc = roxmltree::Document::parse(&text).unwrap_or_else(|e| panic!("{} does not parse: {e}", path.display()));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    let size = (
        root.attribute("width").unwrap_or_default().to_owned(),
        root.attribute("height").unwrap_or_default().to_owned(),
    );
    let texts = crate::svg_texts(&doc);
    let shapes = doc
        .descendants()
        .filter(|n| {
            n.has_tag_name("rect") || n.has_tag_name("polyline") || n.has_tag_name("path") || n.has_tag_name("circle")
        })
        .count();
    (size, texts, shapes)
}

#[test]
fn every_cell_of_the_mnist_lesson_saves_its_figure_as_png_and_svg_of_the_asked_size() {
    let mut h = trained_mnist();
    let dir = temp_dir("cells");
    let nb = h.state().notebook().expect("open").clone();
    let mut saved = 0;
    for (i, cell) in nb.cells.iter().enumerate() {
        if matches!(cell.kind, CellKind::Markdown { .. }) {
            continue;
        }
        let (png, svg) = (dir.join(format!("cell{i}.png")), dir.join(format!("cell{i}.svg")));
        for path in [&png, &svg] {
            h.state_mut().push(AppCommand::SaveFigure { cell: i, path: path.clone(), print: false });
            h.run_steps(1);
            let status = h.state().status().unwrap_or_default().to_owned();
            assert!(
                status.starts_with(&format!("Saved the figure of cell {}", i + 1)),
                "cell {i} ({}): {status}",
                cell.kind.title()
            );
        }
        let (size, inked, colours) = png_facts(&png);
        assert_eq!(size, (1920, 1080), "cell {i}");
        assert!(
            inked > 0.01 && colours > 8,
            "cell {i} ({}) is nearly blank: {inked:.4} inked, {colours} colours",
            cell.kind.title()
        );
        let ((w, h_), texts, shapes) = svg_facts(&svg);
        assert_eq!((w.as_str(), h_.as_str()), ("1920", "1080"), "cell {i}");
        assert!(shapes > 10, "cell {i}: {shapes} shapes");
        assert!(texts.iter().any(|t| t.contains("LeNet") || t.contains("MNIST")), "cell {i}'s title: {texts:?}");
        saved += 1;
    }
    assert!(saved >= 9, "{saved} cells with figures");
    // The print size, and what each figure says of itself.
    let training = nb.cells.iter().position(|c| matches!(c.kind, CellKind::Training { .. })).expect("a training cell");
    let print = dir.join("training-print.png");
    h.state_mut().push(AppCommand::SaveFigure { cell: training, path: print.clone(), print: true });
    h.run_steps(1);
    assert_eq!(png_facts(&print).0, (3508, 2480));
    let (_, texts, _) = svg_facts(&dir.join(format!("cell{training}.svg")));
    for label in ["LeNet: training", "loss", "accuracy", "epoch", "training (averaged)", "test"] {
        assert!(texts.iter().any(|t| t == label), "{label} in {texts:?}");
    }
    let evaluation =
        nb.cells.iter().position(|c| matches!(c.kind, CellKind::Evaluation { .. })).expect("an evaluation cell");
    let (_, texts, _) = svg_facts(&dir.join(format!("cell{evaluation}.svg")));
    for label in ["predicted class", "true class", "confusion matrix (counts)"] {
        assert!(texts.iter().any(|t| t == label), "{label} in {texts:?}");
    }
    // A file that is neither PNG nor SVG is refused, in words.
    h.state_mut().push(AppCommand::SaveFigure { cell: training, path: dir.join("figure.gif"), print: false });
    h.run_steps(1);
    assert!(h.state().status().is_some_and(|s| s.contains("neither .png nor .svg")), "{:?}", h.state().status());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_right_click_on_a_view_offers_the_figure_menu_and_copy_puts_it_on_the_clipboard() {
    let mut h = Harness::builder().with_size([1280.0, 720.0]).build_ui_state(
        |ui, app: &mut GlassboxApp| app.show(ui),
        GlassboxApp::new(assets_path("assets/notebooks/mnist-lenet.json")),
    );
    h.run_steps(3);
    // The dataset cell's class-balance bars: no control there, the cell's menu opens.
    let bars = h.get_by_label("Class balance (training split):").rect();
    let at = egui::pos2(bars.left() + 120.0, bars.bottom() + 60.0);
    h.hover_at(at);
    h.run_steps(1);
    for pressed in [true, false] {
        h.event(egui::Event::PointerButton {
            pos: at,
            button: egui::PointerButton::Secondary,
            pressed,
            modifiers: egui::Modifiers::NONE,
        });
    }
    h.run_steps(2);
    h.get_by_label("Save figure as SVG…");
    h.get_by_label("Save figure as PNG (print, A4 at 300 dpi)…");
    h.get_by_label("Copy figure").click();
    h.run_steps(2);
    let status = h.state().status().unwrap_or_default().to_owned();
    assert!(status.starts_with("Copied the figure of cell 2 to the clipboard"), "{status}");
    assert!(h.query_by_label("Copy figure").is_none(), "the menu closed");
    // The header's button opens the same menu.
    h.get_all_by_label("Save figure…").next().expect("a Save figure button").click();
    h.run_steps(2);
    h.get_by_label("Save figure as PNG (slide, 1920x1080)…");
}

#[test]
fn the_handout_is_one_page_that_names_every_cell_with_its_figures_and_no_script() {
    let mut h = trained_mnist();
    let dir = temp_dir("handout");
    let page = dir.join("handout.html");
    h.state_mut().push(AppCommand::ExportHandout(page.clone()));
    h.run_steps(1);
    assert!(h.state().status().is_some_and(|s| s.starts_with("Wrote the handout")), "{:?}", h.state().status());
    let html = std::fs::read_to_string(&page).expect("written");
    assert!(html.starts_with("<!DOCTYPE html>"));
    // Well formed throughout (every element closed), so every browser reads it the same way.
    let doc = roxmltree::Document::parse_with_options(
        &html,
        roxmltree::ParsingOptions { allow_dtd: true, ..Default::default() },
    )
    .unwrap_or_else(|e| panic!("the handout does not parse: {e}"));
    assert_eq!(doc.root_element().tag_name().name(), "html");
    assert!(doc.descendants().all(|n| !n.has_tag_name("script") && n.attribute("onload").is_none()), "no script");
    let nb = h.state().notebook().expect("open").clone();
    let headings: Vec<String> =
        doc.descendants().filter(|n| n.has_tag_name("h2")).map(|n| n.text().unwrap_or_default().to_owned()).collect();
    for (i, cell) in nb.cells.iter().enumerate() {
        let section = doc
            .descendants()
            .find(|n| n.has_tag_name("section") && n.attribute("id") == Some(format!("cell-{}", i + 1).as_str()))
            .unwrap_or_else(|| panic!("cell {} has no section", i + 1));
        match &cell.kind {
            CellKind::Markdown { text } => {
                // The text's first heading or words are there.
                let first =
                    text.lines().find(|l| !l.trim().is_empty()).unwrap_or_default().trim_start_matches('#').trim();
                let words: String = section.descendants().filter_map(|n| n.text()).collect::<Vec<_>>().join("");
                let start: String = first.chars().take(20).collect();
                assert!(
                    words.contains(start.trim_end_matches(['*', '`', '_'])),
                    "cell {}: {start:?} in {words:?}",
                    i + 1
                );
            }
            kind => {
                let title = format!("{}. {}", i + 1, kind.title());
                assert!(headings.iter().any(|h| h.starts_with(&title)), "{title} in {headings:?}");
                assert!(
                    section.descendants().any(|n| n.has_tag_name("svg")),
                    "cell {} ({}) has its figure",
                    i + 1,
                    kind.title()
                );
            }
        }
    }
    // The model's table and the final metrics.
    assert!(doc.descendants().any(|n| n.has_tag_name("td") && n.text() == Some("conv1")));
    assert!(doc.descendants().any(|n| n.has_tag_name("th") && n.text() == Some("test accuracy")));
    let _ = std::fs::remove_dir_all(&dir);
}
