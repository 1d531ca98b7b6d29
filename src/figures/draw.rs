//! A figure as plain data ([`Figure`]: a title, panels, a legend) and its drawing with plotters, to
//! SVG or to pixels (PNG, the clipboard) at any size. Sizes are in pixels; text, margins and lines
//! grow with the size, so a print-size figure looks like the slide-size one, only sharper.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// A colour as `[r, g, b]`.
pub type Rgb = [u8; 3];

/// A figure: a title, a line below it, panels in a grid, and a legend at the foot.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Figure {
    pub title: String,
    pub subtitle: String,
    pub panels: Vec<Panel>,
    /// What the colours mean, when panels share them (classes, models): `(name, colour, dashed)`.
    pub legend: Vec<(String, Rgb, bool)>,
}

/// One view of a figure, with its own title.
#[derive(Clone, Debug, PartialEq)]
pub struct Panel {
    pub title: String,
    pub body: Body,
}

/// One curve of a line plot.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub name: String,
    pub colour: Rgb,
    pub points: Vec<(f64, f64)>,
    pub dashed: bool,
}

/// A small picture of a tile grid (a feature map, a filter, a sample).
#[derive(Clone, Debug, PartialEq)]
pub struct Tile {
    pub label: String,
    pub height: usize,
    pub width: usize,
    /// `height * width` values, row by row (or three planes of them for a colour picture).
    pub values: Vec<f32>,
}

/// A box of a graph figure.
#[derive(Clone, Debug, PartialEq)]
pub struct GraphNode {
    /// The node's name, first line of its box.
    pub name: String,
    /// Its layer's kind and its output shape.
    pub kind: String,
    pub shape: String,
    /// The column (the longest path from an input) and the place within it.
    pub depth: usize,
    pub row: usize,
}

/// How values map to colours (as the app's heatmaps do).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Scale {
    /// Signed values: blue below 0, white at 0, red above, symmetric.
    Diverging { extent: f32 },
    /// Values from `low` to `high`: black through red to yellow (inferno).
    Sequential { low: f32, high: f32 },
    /// A picture: black to white.
    Grey { low: f32, high: f32 },
}

impl Scale {
    /// The scale that fits `values`: diverging when any is negative, else sequential from 0.
    #[must_use]
    pub fn of(values: &[f32]) -> Self {
        let finite = values.iter().copied().filter(|v| v.is_finite());
        let (low, high) = finite.fold((0.0f32, 0.0f32), |(l, h), v| (l.min(v), h.max(v)));
        if low < 0.0 {
            Self::Diverging { extent: low.abs().max(high.abs()).max(1e-12) }
        } else {
            Self::Sequential { low: 0.0, high: high.max(1e-12) }
        }
    }

    /// The ends of the scale.
    #[must_use]
    pub fn range(&self) -> (f32, f32) {
        match *self {
            Self::Diverging { extent } => (-extent, extent),
            Self::Sequential { low, high } | Self::Grey { low, high } => (low, high),
        }
    }

    #[must_use]
    pub fn colour(&self, v: f32) -> Rgb {
        if !v.is_finite() {
            return [255, 0, 255];
        }
        let (low, high) = self.range();
        let t = f64::from(((v - low) / (high - low).max(1e-12)).clamp(0.0, 1.0));
        let c = match self {
            Self::Diverging { .. } => colorous::RED_BLUE.eval_continuous(1.0 - t),
            Self::Sequential { .. } => colorous::INFERNO.eval_continuous(t),
            Self::Grey { .. } => {
                let g = (255.0 * t).round() as u8;
                return [g, g, g];
            }
        };
        [c.r, c.g, c.b]
    }
}

/// What a panel shows.
#[derive(Clone, Debug, PartialEq)]
pub enum Body {
    /// Curves over a shared x axis; `y_range` fixes the y axis (accuracy from 0 to 1), else it
    /// fits the points. `key` draws the series' names inside the plot (when the figure's own
    /// legend does not say them).
    Lines { x_label: String, y_label: String, series: Vec<Series>, y_range: Option<(f64, f64)>, key: bool },
    /// A matrix of values, rows top to bottom, with labels along both sides; `annotate` writes
    /// each value in its square (counts of a confusion matrix).
    Heatmap {
        rows: usize,
        cols: usize,
        values: Vec<f32>,
        scale: Scale,
        row_labels: Vec<String>,
        col_labels: Vec<String>,
        x_label: String,
        y_label: String,
        annotate: bool,
    },
    /// Small pictures on one colour scale (`None`: each picture its own range, in grey).
    Tiles { tiles: Vec<Tile>, scale: Option<Scale> },
    /// Horizontal bars, one per label; `highlight` is drawn in orange (the model's choice).
    /// `colours` (when given) colour each bar (a class's colour); `percent` draws shares of 1
    /// to scale, else the longest bar is the largest value.
    Bars {
        labels: Vec<String>,
        values: Vec<f32>,
        signed: bool,
        percent: bool,
        highlight: Option<usize>,
        colours: Vec<Rgb>,
    },
    /// An attribution map over a picture: the picture in grey under the map's colour.
    Overlay { height: usize, width: usize, picture: Vec<f32>, map: Vec<f32> },
    /// Points of the plane over a shaded background (a decision boundary), `n * n` colours from
    /// the bottom row up; hollow points (`true`) are test samples.
    Plane { low: [f32; 2], high: [f32; 2], n: usize, background: Vec<Rgb>, points: Vec<([f32; 2], Rgb, bool)> },
    /// A model graph: boxes in columns, joined by arrows.
    Graph { nodes: Vec<GraphNode>, edges: Vec<(usize, usize)> },
    /// Lines of text (a worked computation).
    Text { lines: Vec<String> },
}

/// A named size to save a figure at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FigureSize {
    pub name: &'static str,
    pub width: u32,
    pub height: u32,
}

/// A slide (16:9, full HD).
pub const SLIDE: FigureSize = FigureSize { name: "slide, 1920x1080", width: 1920, height: 1080 };
/// A landscape A4 page at 300 dots per inch.
pub const PRINT: FigureSize =
    FigureSize { name: "print, A4 landscape at 300 dpi, 3508x2480", width: 3508, height: 2480 };

type Drawn = Result<(), String>;

#[allow(clippy::needless_pass_by_value)] // used as `map_err(fail)`
fn fail<E: std::error::Error + Send + Sync>(e: DrawingAreaErrorKind<E>) -> String {
    format!("drawing the figure failed: {e}")
}

fn rgb(c: Rgb) -> RGBColor {
    RGBColor(c[0], c[1], c[2])
}

/// The figure's text: egui's own font, registered with plotters once (no system fonts needed).
pub(crate) fn register_font() -> Result<(), String> {
    static REGISTERED: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            plotters::style::register_font(
                "sans-serif",
                plotters::style::FontStyle::Normal,
                epaint_default_fonts::UBUNTU_LIGHT,
            )
            .map_err(|_| "the figure font could not be read".to_owned())
        })
        .clone()
}

impl Figure {
    /// The figure as an SVG document of `width` x `height` pixels.
    ///
    /// # Errors
    /// When it cannot be drawn (the font could not be read).
    pub fn svg(&self, width: u32, height: u32) -> Result<String, String> {
        register_font()?;
        let mut out = String::new();
        {
            let root = SVGBackend::with_string(&mut out, (width, height)).into_drawing_area();
            self.draw(&root)?;
            root.present().map_err(fail)?;
        }
        // Squares drawn edge to edge (heatmaps, pictures) without the hairline seams a viewer's
        // anti-aliasing leaves between them.
        Ok(out.replace("<rect ", "<rect shape-rendering=\"crispEdges\" "))
    }

    /// The figure's pixels, `width * height` RGB triples row by row.
    ///
    /// # Errors
    /// When it cannot be drawn.
    pub fn pixels(&self, width: u32, height: u32) -> Result<Vec<u8>, String> {
        register_font()?;
        let mut buffer = vec![255u8; width as usize * height as usize * 3];
        {
            let root = BitMapBackend::with_buffer(&mut buffer, (width, height)).into_drawing_area();
            self.draw(&root)?;
            root.present().map_err(fail)?;
        }
        Ok(buffer)
    }

    /// The figure as a PNG file's bytes.
    ///
    /// # Errors
    /// When it cannot be drawn or encoded.
    pub fn png(&self, width: u32, height: u32) -> Result<Vec<u8>, String> {
        let pixels = self.pixels(width, height)?;
        let image =
            image::RgbImage::from_raw(width, height, pixels).ok_or("the figure's pixels do not fit its size")?;
        let mut bytes = Vec::new();
        image
            .write_to(&mut std::io::Cursor::new(&mut bytes), image::ImageFormat::Png)
            .map_err(|e| format!("writing the PNG failed: {e}"))?;
        Ok(bytes)
    }

    /// Writes the figure to `path`: SVG or PNG by its extension.
    ///
    /// # Errors
    /// When the extension is neither, or drawing or writing fails.
    pub fn save(&self, path: &std::path::Path, size: FigureSize) -> Result<(), String> {
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or_default().to_ascii_lowercase();
        let bytes = match ext.as_str() {
            "svg" => self.svg(size.width, size.height)?.into_bytes(),
            "png" => self.png(size.width, size.height)?,
            _ => {
                return Err(format!(
                    "{} is neither .png nor .svg: name the figure file with one of them",
                    path.display()
                ))
            }
        };
        std::fs::write(path, bytes).map_err(|e| format!("could not write {}: {e}", path.display()))
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn {
        let (w, h) = root.dim_in_pixel();
        let u = (w as f32 / 1920.0).min(h as f32 / 1080.0).max(0.2);
        let px = |v: f32| (v * u).round() as i32;
        root.fill(&WHITE).map_err(fail)?;
        let margin = px(32.0);
        root.draw(&Text::new(self.title.clone(), (margin, margin), font(40.0 * u, BLACK))).map_err(fail)?;
        let mut top = margin + px(54.0);
        if !self.subtitle.is_empty() {
            root.draw(&Text::new(self.subtitle.clone(), (margin, top), font(24.0 * u, RGBColor(70, 70, 70))))
                .map_err(fail)?;
            top += px(38.0);
        }
        let mut bottom = h as i32 - margin;
        if !self.legend.is_empty() {
            bottom -= px(40.0);
            let mut x = margin;
            for (name, colour, dashed) in &self.legend {
                let y = bottom + px(22.0);
                let style = rgb(*colour).stroke_width(px(4.0).max(1) as u32);
                if *dashed {
                    for k in 0..3 {
                        let a = x + k * px(14.0);
                        root.draw(&PathElement::new(vec![(a, y), (a + px(8.0), y)], style)).map_err(fail)?;
                    }
                } else {
                    root.draw(&PathElement::new(vec![(x, y), (x + px(36.0), y)], style)).map_err(fail)?;
                }
                let label = font(22.0 * u, BLACK).pos(Pos::new(HPos::Left, VPos::Center));
                root.draw(&Text::new(name.clone(), (x + px(46.0), y), label.clone())).map_err(fail)?;
                let (tw, _) = root.estimate_text_size(name, &label).unwrap_or((100, 0));
                x += px(46.0) + tw as i32 + px(36.0);
            }
        }
        let body =
            root.clone().shrink((margin, top), ((w as i32 - 2 * margin).max(1) as u32, (bottom - top).max(1) as u32));
        let n = self.panels.len();
        if n == 0 {
            return Ok(());
        }
        let (bw, bh) = body.dim_in_pixel();
        // The grid of panels that makes each panel largest (panels a little wider than tall).
        let cols = (1..=n)
            .max_by_key(|&c| {
                let rows = n.div_ceil(c);
                let (cw, ch) = (bw as f32 / c as f32, bh as f32 / rows as f32);
                (cw.min(ch * 1.3) * 1000.0) as i64
            })
            .unwrap_or(1);
        let rows = n.div_ceil(cols);
        let (cw, ch) = (bw as i32 / cols as i32, bh as i32 / rows as i32);
        for (k, panel) in self.panels.iter().enumerate() {
            let (r, c) = ((k / cols) as i32, (k % cols) as i32);
            let gap = px(12.0);
            let area = body
                .clone()
                .shrink((c * cw + gap / 2, r * ch + gap / 2), ((cw - gap).max(1) as u32, (ch - gap).max(1) as u32));
            draw_panel(&area, panel, u)?;
        }
        Ok(())
    }
}

fn font(size: f32, colour: RGBColor) -> TextStyle<'static> {
    ("sans-serif", f64::from(size.max(6.0))).into_font().color(&colour)
}

/// An axis tick: whole numbers without decimals, others with as few as read well.
fn tick(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 && v.abs() < 1e6 {
        format!("{v:.0}")
    } else {
        short(v as f32)
    }
}

/// `text` cut (with an ellipsis) to about `width` pixels at font size `size`.
fn fit_text(text: &str, width: f32, size: f32) -> String {
    let most = (width / (size * 0.5)).max(4.0) as usize;
    if text.chars().count() > most {
        format!("{}…", text.chars().take(most - 1).collect::<String>())
    } else {
        text.to_owned()
    }
}

/// A number short enough for an axis or a square.
fn short(v: f32) -> String {
    let a = v.abs();
    if v == 0.0 {
        "0".to_owned()
    } else if !(0.01..1000.0).contains(&a) {
        format!("{v:.1e}")
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

fn draw_panel<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, panel: &Panel, u: f32) -> Drawn {
    let px = |v: f32| (v * u).round() as i32;
    let (w, h) = area.dim_in_pixel();
    let mut top = 0;
    if !panel.title.is_empty() {
        let title = fit_text(&panel.title, w as f32, 26.0 * u);
        area.draw(&Text::new(title, (0, 0), font(26.0 * u, BLACK))).map_err(fail)?;
        top = px(36.0);
    }
    let inner = area.clone().shrink((0, top), (w, (h as i32 - top).max(1) as u32));
    match &panel.body {
        Body::Lines { x_label, y_label, series, y_range, key } => {
            lines(&inner, (x_label, y_label), series, *y_range, *key, u)
        }
        Body::Heatmap { rows, cols, values, scale, row_labels, col_labels, x_label, y_label, annotate } => {
            heatmap(&inner, (*rows, *cols), values, *scale, (row_labels, col_labels), (x_label, y_label), *annotate, u)
        }
        Body::Tiles { tiles, scale } => tiles_grid(&inner, tiles, *scale, u),
        Body::Bars { labels, values, signed, percent, highlight, colours } => {
            bars(&inner, labels, values, (*signed, *percent), *highlight, colours, u)
        }
        Body::Overlay { height, width, picture, map } => overlay(&inner, (*height, *width), picture, map, u),
        Body::Plane { low, high, n, background, points } => plane(&inner, *low, *high, *n, background, points, u),
        Body::Graph { nodes, edges } => graph(&inner, nodes, edges, u),
        Body::Text { lines } => {
            let size = 22.0 * u;
            for (k, line) in lines.iter().enumerate() {
                let y = k as i32 * (size * 1.45) as i32;
                if y + size as i32 > inner.dim_in_pixel().1 as i32 {
                    break;
                }
                let line = fit_text(line, inner.dim_in_pixel().0 as f32, size);
                inner.draw(&Text::new(line, (0, y), font(size, BLACK))).map_err(fail)?;
            }
            Ok(())
        }
    }
}

fn no_data<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, text: &str, u: f32) -> Drawn {
    let (w, h) = area.dim_in_pixel();
    let style = font(22.0 * u, RGBColor(110, 110, 110)).pos(Pos::new(HPos::Center, VPos::Center));
    area.draw(&Text::new(text.to_owned(), (w as i32 / 2, h as i32 / 2), style)).map_err(fail)
}

fn lines<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    (x_label, y_label): (&str, &str),
    series: &[Series],
    y_range: Option<(f64, f64)>,
    key: bool,
    u: f32,
) -> Drawn {
    let all = || series.iter().flat_map(|s| s.points.iter()).filter(|p| p.0.is_finite() && p.1.is_finite());
    if all().next().is_none() {
        return no_data(area, "no points yet: train the model", u);
    }
    let (x0, x1) = all().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| (a.min(p.0), b.max(p.0)));
    let (y0, y1) = all().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| (a.min(p.1), b.max(p.1)));
    let widen = |a: f64, b: f64| if b - a < 1e-9 { (a - 0.5, b + 0.5) } else { (a, b + (b - a) * 0.04) };
    let ((x0, x1), (y0, y1)) = (widen(x0, x1), y_range.map_or_else(|| widen(y0, y1), |(a, b)| (a.min(y0), b.max(y1))));
    let px = |v: f32| (v * u).round().max(1.0) as u32;
    let mut chart = ChartBuilder::on(area)
        .margin(px(10.0))
        .x_label_area_size(px(56.0))
        .y_label_area_size(px(84.0))
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(fail)?;
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc(y_label)
        .label_style(font(18.0 * u, BLACK))
        .axis_desc_style(font(20.0 * u, BLACK))
        .light_line_style(RGBColor(235, 235, 235))
        .bold_line_style(RGBColor(215, 215, 215))
        .x_labels(6)
        .y_labels(6)
        .x_label_formatter(&|v| tick(*v))
        .y_label_formatter(&|v| tick(*v))
        .draw()
        .map_err(fail)?;
    for s in series {
        let style = rgb(s.colour).stroke_width(px(3.0));
        let points: Vec<(f64, f64)> = s.points.iter().copied().filter(|p| p.0.is_finite() && p.1.is_finite()).collect();
        let legend_style = style;
        let anno = if s.dashed {
            chart.draw_series(DashedLineSeries::new(points, px(10.0), px(6.0), style)).map_err(fail)?
        } else {
            chart.draw_series(LineSeries::new(points, style)).map_err(fail)?
        };
        let len = (24.0 * u) as i32;
        anno.label(s.name.clone()).legend(move |(x, y)| PathElement::new(vec![(x, y), (x + len, y)], legend_style));
    }
    if key && series.len() > 1 {
        chart
            .configure_series_labels()
            .label_font(font(18.0 * u, BLACK))
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(180, 180, 180))
            .position(SeriesLabelPosition::UpperRight)
            .draw()
            .map_err(fail)?;
    }
    Ok(())
}

/// A vertical colour bar with its ends and middle labelled, in `area` (a strip at the right).
fn colour_bar<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, scale: Scale, u: f32) -> Drawn {
    let px = |v: f32| (v * u).round() as i32;
    let (_, h) = area.dim_in_pixel();
    let (top, height, width) = (px(10.0), (h as i32 - px(20.0)).clamp(1, px(420.0)), px(22.0));
    let (low, high) = scale.range();
    for k in 0..height {
        let v = high - (high - low) * k as f32 / (height - 1).max(1) as f32;
        area.draw(&Rectangle::new([(0, top + k), (width, top + k + 1)], rgb(scale.colour(v)).filled()))
            .map_err(fail)?;
    }
    area.draw(&Rectangle::new([(0, top), (width, top + height)], BLACK.stroke_width(1))).map_err(fail)?;
    let style = font(17.0 * u, BLACK).pos(Pos::new(HPos::Left, VPos::Center));
    for (k, v) in [(0, high), (height / 2, (low + high) / 2.0), (height, low)] {
        area.draw(&Text::new(short(v), (width + px(6.0), top + k), style.clone())).map_err(fail)?;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn heatmap<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    (rows, cols): (usize, usize),
    values: &[f32],
    scale: Scale,
    (row_labels, col_labels): (&[String], &[String]),
    (x_label, y_label): (&str, &str),
    annotate: bool,
    u: f32,
) -> Drawn {
    if rows == 0 || cols == 0 || values.len() < rows * cols {
        return no_data(area, "nothing to show", u);
    }
    let px = |v: f32| (v * u).round() as i32;
    let (w, h) = area.dim_in_pixel();
    let label_size = 17.0 * u;
    let longest = |labels: &[String]| labels.iter().map(|l| l.chars().count()).max().unwrap_or(0) as f32;
    let left =
        px(if y_label.is_empty() { 0.0 } else { 30.0 }) + (longest(row_labels) * label_size * 0.55) as i32 + px(8.0);
    let bottom =
        (if col_labels.is_empty() { 0 } else { (longest(col_labels).min(12.0) * label_size * 0.55) as i32 + px(10.0) })
            + px(if x_label.is_empty() { 0.0 } else { 30.0 });
    let bar = px(110.0);
    let avail_w = (w as i32 - left - bar).max(1);
    let avail_h = (h as i32 - bottom).max(1);
    // Square cells where they are labelled or written in; a matrix far wider than tall (a dense
    // layer's weights) gets cells up to six times taller than wide, so it stays visible.
    let (fit_w, fit_h) = (avail_w as f32 / cols as f32, avail_h as f32 / rows as f32);
    let square = fit_w.min(fit_h).max(0.2);
    let (cw, ch) = if annotate || rows < 2 || !row_labels.is_empty() || !col_labels.is_empty() {
        (square, square)
    } else {
        (fit_w.min(fit_h * 6.0).max(0.2), fit_h.min(fit_w * 6.0).max(0.2))
    };
    // A vector's squares no larger than a finger's width on a slide.
    let (cw, ch) = if rows < 2 { (cw.min(64.0 * u), ch.min(64.0 * u)) } else { (cw, ch) };
    let cell = cw.min(ch);
    let (mw, mh) = ((cw * cols as f32) as i32, (ch * rows as f32) as i32);
    let at = |r: usize, c: usize| (left + (c as f32 * cw) as i32, (r as f32 * ch) as i32);
    for r in 0..rows {
        for c in 0..cols {
            let (x, y) = at(r, c);
            let (x2, y2) = at(r + 1, c + 1);
            let v = values[r * cols + c];
            area.draw(&Rectangle::new([(x, y), (x2.max(x + 1), y2.max(y + 1))], rgb(scale.colour(v)).filled()))
                .map_err(fail)?;
            if annotate && cell > 26.0 * u {
                let [cr, cg, cb] = scale.colour(v);
                let dark = u32::from(cr) + u32::from(cg) + u32::from(cb) < 380;
                let text = if v.fract() == 0.0 { format!("{v:.0}") } else { short(v) };
                let style = font((cell * 0.32).min(22.0 * u), if dark { WHITE } else { BLACK })
                    .pos(Pos::new(HPos::Center, VPos::Center));
                area.draw(&Text::new(text, ((x + x2) / 2, (y + y2) / 2), style)).map_err(fail)?;
            }
        }
    }
    area.draw(&Rectangle::new([(left, 0), (left + mw, mh)], RGBColor(120, 120, 120).stroke_width(1))).map_err(fail)?;
    // Labels: every one when they fit, else every k-th.
    let every = |n: usize, cell: f32| ((label_size * 1.1) / cell).ceil().max(1.0) as usize + usize::from(n == 0);
    let step = every(rows, ch);
    for (r, l) in row_labels.iter().enumerate().take(rows).step_by(step) {
        let style = font(label_size, BLACK).pos(Pos::new(HPos::Right, VPos::Center));
        area.draw(&Text::new(l.clone(), (left - px(6.0), (r as f32 * ch + ch / 2.0) as i32), style)).map_err(fail)?;
    }
    let step = every(cols, cw);
    for (c, l) in col_labels.iter().enumerate().take(cols).step_by(step) {
        let text: String = l.chars().take(12).collect();
        let x = left + (c as f32 * cw + cw / 2.0) as i32;
        let style = font(label_size, BLACK).pos(Pos::new(HPos::Center, VPos::Top));
        area.draw(&Text::new(text, (x, mh + px(6.0)), style)).map_err(fail)?;
    }
    if !x_label.is_empty() {
        let style = font(20.0 * u, BLACK).pos(Pos::new(HPos::Center, VPos::Bottom));
        area.draw(&Text::new(x_label.to_owned(), (left + mw / 2, (mh + bottom).min(h as i32)), style)).map_err(fail)?;
    }
    if !y_label.is_empty() {
        let style = font(20.0 * u, BLACK).transform(FontTransform::Rotate270).pos(Pos::new(HPos::Center, VPos::Top));
        area.draw(&Text::new(y_label.to_owned(), (0, mh / 2), style)).map_err(fail)?;
    }
    let strip = area.clone().shrink((left + mw + px(16.0), 0), (bar as u32, mh.max(px(120.0)) as u32));
    colour_bar(&strip, scale, u)
}

fn tiles_grid<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    tiles: &[Tile],
    scale: Option<Scale>,
    u: f32,
) -> Drawn {
    if tiles.is_empty() {
        return no_data(area, "nothing to show", u);
    }
    let px = |v: f32| (v * u).round() as i32;
    let (w, h) = area.dim_in_pixel();
    let bar = if scale.is_some() { px(110.0) } else { 0 };
    let label_h = if tiles.iter().any(|t| !t.label.is_empty()) { px(24.0) } else { 0 };
    let (tw, th) = (tiles[0].width.max(1) as f32, tiles[0].height.max(1) as f32);
    let n = tiles.len();
    let avail_w = (w as i32 - bar).max(1) as f32;
    let gap = 8.0 * u;
    // The column count that makes the tiles largest.
    let (cols, s) = (1..=n)
        .map(|c| {
            let rows = n.div_ceil(c) as f32;
            let s = ((avail_w - gap * c as f32) / (c as f32 * tw))
                .min((h as f32 - rows * (gap + label_h as f32)) / (rows * th));
            (c, s)
        })
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap_or((1, 1.0));
    let s = s.max(0.1);
    for (k, tile) in tiles.iter().enumerate() {
        let (r, c) = (k / cols, k % cols);
        let x0 = (c as f32 * (tw * s + gap)) as i32;
        let y0 = (r as f32 * (th * s + gap + label_h as f32)) as i32;
        let plane = tile.height * tile.width;
        let colour_picture = tile.values.len() == 3 * plane && plane > 0;
        let (lo, hi) = tile
            .values
            .iter()
            .filter(|v| v.is_finite())
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(l, h), &v| (l.min(v), h.max(v)));
        let own = Scale::Grey { low: lo.min(hi), high: hi.max(lo + 1e-6) };
        let tile_scale = scale.unwrap_or(own);
        for y in 0..tile.height {
            for x in 0..tile.width {
                let p = y * tile.width + x;
                let colour = if colour_picture && scale.is_none() {
                    std::array::from_fn(|ch| own.colour(tile.values[ch * plane + p])[0])
                } else {
                    tile_scale.colour(tile.values.get(p).copied().unwrap_or(0.0))
                };
                let (a, b) = (x0 + (x as f32 * s) as i32, y0 + (y as f32 * s) as i32);
                let (a2, b2) = (x0 + ((x + 1) as f32 * s) as i32, y0 + ((y + 1) as f32 * s) as i32);
                area.draw(&Rectangle::new([(a, b), (a2.max(a + 1), b2.max(b + 1))], rgb(colour).filled()))
                    .map_err(fail)?;
            }
        }
        let (x1, y1) = (x0 + (tw * s) as i32, y0 + (th * s) as i32);
        area.draw(&Rectangle::new([(x0, y0), (x1, y1)], RGBColor(150, 150, 150).stroke_width(1))).map_err(fail)?;
        if !tile.label.is_empty() {
            let style = font(16.0 * u, BLACK).pos(Pos::new(HPos::Center, VPos::Top));
            area.draw(&Text::new(tile.label.clone(), ((x0 + x1) / 2, y1 + px(3.0)), style)).map_err(fail)?;
        }
    }
    if let Some(scale) = scale {
        let used_w = (cols as f32 * (tw * s + gap)) as i32;
        let strip = area.clone().shrink((used_w + px(10.0), 0), (bar as u32, h));
        colour_bar(&strip, scale, u)?;
    }
    Ok(())
}

fn bars<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    labels: &[String],
    values: &[f32],
    (signed, percent): (bool, bool),
    highlight: Option<usize>,
    colours: &[Rgb],
    u: f32,
) -> Drawn {
    if values.is_empty() {
        return no_data(area, "nothing to show", u);
    }
    let px = |v: f32| (v * u).round() as i32;
    let (w, h) = area.dim_in_pixel();
    let row = (h as f32 / values.len() as f32).min(44.0 * u);
    let size = (row * 0.62).min(20.0 * u);
    let label_w = labels.iter().map(|l| l.chars().count().min(28)).max().unwrap_or(0) as f32 * size * 0.55 + 10.0 * u;
    let number_w = 110.0 * u;
    let span = (w as f32 - label_w - number_w).max(10.0);
    let top = values.iter().fold(0.0f32, |m, v| m.max(v.abs())).max(1e-12);
    let scale = Scale::Diverging { extent: top };
    let (zero, full) = if signed { (label_w + span / 2.0, span / 2.0) } else { (label_w, span) };
    for (i, &v) in values.iter().enumerate() {
        let y = (i as f32 * row) as i32;
        let name: String = labels.get(i).map(|l| l.chars().take(28).collect()).unwrap_or_default();
        let style = font(size, BLACK).pos(Pos::new(HPos::Right, VPos::Center));
        area.draw(&Text::new(name, ((label_w - 8.0 * u) as i32, y + (row / 2.0) as i32), style)).map_err(fail)?;
        let len = if percent { v.clamp(0.0, 1.0) * full } else { v / top * full };
        let (a, b) = if len >= 0.0 { (zero, zero + len) } else { (zero + len, zero) };
        let colour = if highlight == Some(i) {
            RGBColor(242, 142, 43)
        } else if let Some(c) = colours.get(i) {
            rgb(*c)
        } else if signed {
            rgb(scale.colour(v))
        } else {
            RGBColor(78, 121, 167)
        };
        let (y1, y2) = (y + (row * 0.15) as i32, y + (row * 0.85) as i32);
        area.draw(&Rectangle::new([(a as i32, y1), ((b as i32).max(a as i32 + 1), y2)], colour.filled()))
            .map_err(fail)?;
        let text = if percent {
            format!("{:.1}%", v * 100.0)
        } else if signed {
            format!("{v:+.4}")
        } else if v.fract() == 0.0 {
            format!("{v:.0}")
        } else {
            short(v)
        };
        let style = font(size, BLACK).pos(Pos::new(HPos::Left, VPos::Center));
        let end = if signed { label_w + span } else { b };
        area.draw(&Text::new(text, (end as i32 + px(8.0), y + (row / 2.0) as i32), style)).map_err(fail)?;
    }
    if signed {
        let bottom = (values.len() as f32 * row) as i32;
        area.draw(&PathElement::new(vec![(zero as i32, 0), (zero as i32, bottom)], BLACK.stroke_width(1)))
            .map_err(fail)?;
    }
    Ok(())
}

fn overlay<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    (height, width): (usize, usize),
    picture: &[f32],
    map: &[f32],
    u: f32,
) -> Drawn {
    if height * width == 0 || map.len() < height * width {
        return no_data(area, "nothing to show", u);
    }
    let px = |v: f32| (v * u).round() as i32;
    let (w, h) = area.dim_in_pixel();
    let bar = px(110.0);
    let s = ((w as i32 - bar) as f32 / width as f32).min(h as f32 / height as f32).max(0.1);
    let top = map.iter().fold(0.0f32, |m, v| m.max(v.abs())).max(1e-12);
    let scale = Scale::Diverging { extent: top };
    let (lo, hi) = picture.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(l, h), &v| (l.min(v), h.max(v)));
    for (p, &m) in map.iter().enumerate().take(height * width) {
        let g = picture.get(p).map_or(255.0, |&v| 255.0 * (v - lo) / (hi - lo).max(1e-6));
        let over = scale.colour(m);
        let alpha = 0.85 * (m.abs() / top).min(1.0);
        let mix = |o: u8| (g * (1.0 - alpha) + f32::from(o) * alpha).round() as u8;
        let (x, y) = ((p % width) as f32 * s, (p / width) as f32 * s);
        let (x2, y2) = (x + s, y + s);
        area.draw(&Rectangle::new(
            [(x as i32, y as i32), ((x2 as i32).max(x as i32 + 1), (y2 as i32).max(y as i32 + 1))],
            RGBColor(mix(over[0]), mix(over[1]), mix(over[2])).filled(),
        ))
        .map_err(fail)?;
    }
    let used = (width as f32 * s) as i32;
    let strip = area.clone().shrink((used + px(12.0), 0), (bar as u32, h));
    colour_bar(&strip, scale, u)
}

fn plane<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    low: [f32; 2],
    high: [f32; 2],
    n: usize,
    background: &[Rgb],
    points: &[([f32; 2], Rgb, bool)],
    u: f32,
) -> Drawn {
    let px = |v: f32| (v * u).round().max(1.0) as u32;
    let (w, h) = area.dim_in_pixel();
    // A square plot: the plane's axes on one scale.
    let side = w.min(h);
    let square = area.clone().shrink(((w - side) as i32 / 2, 0), (side, side));
    let (x0, x1, y0, y1) = (f64::from(low[0]), f64::from(high[0]), f64::from(low[1]), f64::from(high[1]));
    let mut chart = ChartBuilder::on(&square)
        .margin(px(8.0))
        .x_label_area_size(px(50.0))
        .y_label_area_size(px(64.0))
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(fail)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc("x1")
        .y_desc("x2")
        .label_style(font(18.0 * u, BLACK))
        .axis_desc_style(font(20.0 * u, BLACK))
        .x_labels(5)
        .y_labels(5)
        .draw()
        .map_err(fail)?;
    if n > 0 && background.len() == n * n {
        let (dx, dy) = ((x1 - x0) / n as f64, (y1 - y0) / n as f64);
        chart
            .draw_series(background.iter().enumerate().map(|(k, c)| {
                let (i, j) = ((k % n) as f64, (k / n) as f64);
                Rectangle::new(
                    [(x0 + i * dx, y0 + j * dy), (x0 + (i + 1.0) * dx, y0 + (j + 1.0) * dy)],
                    rgb(*c).filled(),
                )
            }))
            .map_err(fail)?;
    }
    let radius = (4.0 * u).max(1.5) as i32;
    let at = |p: &[f32; 2]| (f64::from(p[0]), f64::from(p[1]));
    chart
        .draw_series(
            points
                .iter()
                .filter(|p| !p.2)
                .map(|(p, c, _)| Circle::new(at(p), radius, ShapeStyle::from(rgb(*c)).filled())),
        )
        .map_err(fail)?;
    chart
        .draw_series(
            points.iter().filter(|p| !p.2).map(|(p, _, _)| Circle::new(at(p), radius, BLACK.mix(0.5).stroke_width(1))),
        )
        .map_err(fail)?;
    let ring = (2.0 * u).max(1.0) as u32;
    chart
        .draw_series(
            points.iter().filter(|p| p.2).map(|(p, c, _)| Circle::new(at(p), radius, rgb(*c).stroke_width(ring))),
        )
        .map_err(fail)?;
    Ok(())
}

fn graph<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    nodes: &[GraphNode],
    edges: &[(usize, usize)],
    u: f32,
) -> Drawn {
    if nodes.is_empty() {
        return no_data(area, "an empty graph", u);
    }
    let (w, h) = area.dim_in_pixel();
    let columns = nodes.iter().map(|n| n.depth).max().unwrap_or(0) + 1;
    let rows_in = |d: usize| nodes.iter().filter(|n| n.depth == d).count().max(1);
    let tallest = (0..columns).map(rows_in).max().unwrap_or(1);
    // Columns wrap onto bands when there are many, so the boxes stay readable.
    let most = ((w as f32 / (230.0 * u)).floor() as usize).max(1);
    let bands = columns.div_ceil(most);
    let per_band = columns.div_ceil(bands);
    let (cw, band_h) = (w as f32 / per_band as f32, h as f32 / bands as f32);
    let rh = band_h / tallest as f32;
    let (bw, bh) = (cw * 0.82, (rh * 0.72).min(110.0 * u));
    let centre = |n: &GraphNode| {
        let (band, col) = (n.depth / per_band, n.depth % per_band);
        let x = if band % 2 == 0 { col } else { per_band - 1 - col };
        let count = rows_in(n.depth) as f32;
        let y = band as f32 * band_h + (band_h - count * rh) / 2.0 + (n.row as f32 + 0.5) * rh;
        ((x as f32 + 0.5) * cw, y)
    };
    for &(a, b) in edges {
        let (Some(na), Some(nb)) = (nodes.get(a), nodes.get(b)) else { continue };
        let ((x1, y1), (x2, y2)) = (centre(na), centre(nb));
        let style = RGBColor(90, 90, 90).stroke_width((2.0 * u).max(1.0) as u32);
        area.draw(&PathElement::new(vec![(x1 as i32, y1 as i32), (x2 as i32, y2 as i32)], style)).map_err(fail)?;
        // An arrowhead at the target box's edge.
        let (dx, dy) = (x2 - x1, y2 - y1);
        let len = (dx * dx + dy * dy).sqrt().max(1e-3);
        let (ux, uy) = (dx / len, dy / len);
        let t = (bw / 2.0 / ux.abs().max(1e-3)).min(bh / 2.0 / uy.abs().max(1e-3));
        let (tx, ty) = (x2 - ux * t, y2 - uy * t);
        let head = 12.0 * u;
        let wing =
            |s: f32| ((tx - ux * head - uy * head * 0.5 * s) as i32, (ty - uy * head + ux * head * 0.5 * s) as i32);
        area.draw(&Polygon::new(vec![(tx as i32, ty as i32), wing(1.0), wing(-1.0)], RGBColor(90, 90, 90).filled()))
            .map_err(fail)?;
    }
    for n in nodes {
        let (x, y) = centre(n);
        let (a, b) = ((x - bw / 2.0) as i32, (y - bh / 2.0) as i32);
        let (c, d) = ((x + bw / 2.0) as i32, (y + bh / 2.0) as i32);
        area.draw(&Rectangle::new([(a, b), (c, d)], RGBColor(232, 240, 250).filled())).map_err(fail)?;
        area.draw(&Rectangle::new([(a, b), (c, d)], RGBColor(70, 100, 140).stroke_width((2.0 * u).max(1.0) as u32)))
            .map_err(fail)?;
        let size = (bh * 0.22).min(20.0 * u);
        let fit = |s: &str| {
            let most = (bw / (size * 0.52)).max(3.0) as usize;
            if s.chars().count() > most {
                format!("{}…", s.chars().take(most - 1).collect::<String>())
            } else {
                s.to_owned()
            }
        };
        let style = font(size, BLACK).pos(Pos::new(HPos::Center, VPos::Center));
        area.draw(&Text::new(fit(&n.name), (x as i32, (y - bh * 0.27) as i32), style)).map_err(fail)?;
        let style = font(size * 0.9, RGBColor(60, 60, 60)).pos(Pos::new(HPos::Center, VPos::Center));
        area.draw(&Text::new(fit(&n.kind), (x as i32, y as i32), style.clone())).map_err(fail)?;
        area.draw(&Text::new(fit(&n.shape), (x as i32, (y + bh * 0.27) as i32), style)).map_err(fail)?;
    }
    Ok(())
}
