//! Figures written to files: every cell's view as a [`Figure`] (`cells`), drawn with plotters as
//! SVG or PNG at a slide's or a page's size (`draw`), and the attribution figures of
//! `glassbox explain`. (The app draws the same views with egui.)

use glassbox_engine::explain::Attribution;

/// The colour of a signed attribution `v` on a scale whose ends are `-extent` and `+extent`:
/// red raises the score, blue lowers it (colorous's red-blue), as an RGB triple.
#[must_use]
pub fn attribution_colour(v: f32, extent: f32) -> [u8; 3] {
    let t = 0.5 - 0.5 * (v / extent.max(f32::MIN_POSITIVE)).clamp(-1.0, 1.0);
    let c = colorous::RED_BLUE.eval_continuous(f64::from(t));
    [c.r, c.g, c.b]
}

/// The largest absolute value (the colour scale's end), never 0.
#[must_use]
pub fn extent(values: &[f32]) -> f32 {
    values.iter().fold(0.0f32, |m, v| m.max(v.abs())).max(f32::MIN_POSITIVE)
}

/// An image attribution over the input as a PNG: each input pixel a square of `scale` pixels,
/// the input in grey (its own range) under the map's colour, opaque where the map is strongest.
///
/// # Errors
/// When the attribution is not over an image (say to write `.safetensors` instead).
pub fn attribution_png(attribution: &Attribution, input: &[f32], scale: u32) -> Result<Vec<u8>, String> {
    let Some((height, width, map)) = attribution.pixels() else {
        return Err("a PNG shows an image's attribution; for text or a table write a .safetensors file".to_owned());
    };
    let plane = height * width;
    let channels = input.len() / plane.max(1);
    let (lo, hi) = input.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(l, h), &v| (l.min(v), h.max(v)));
    let grey = |p: usize| -> [f32; 3] {
        let byte = |v: f32| 255.0 * (v - lo) / (hi - lo).max(1e-6);
        if channels == 3 {
            [byte(input[p]), byte(input[plane + p]), byte(input[2 * plane + p])]
        } else {
            [byte((0..channels).map(|c| input[c * plane + p]).sum::<f32>() / channels.max(1) as f32); 3]
        }
    };
    let top = extent(&map);
    let (w, h) = (u32::try_from(width).unwrap_or(0) * scale, u32::try_from(height).unwrap_or(0) * scale);
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        let p = (y / scale) as usize * width + (x / scale) as usize;
        let under = grey(p);
        let over = attribution_colour(map[p], top);
        let alpha = 0.85 * (map[p].abs() / top).min(1.0);
        image::Rgb(std::array::from_fn(|i| (under[i] * (1.0 - alpha) + f32::from(over[i]) * alpha).round() as u8))
    });
    let mut bytes = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut bytes), image::ImageFormat::Png).map_err(|e| e.to_string())?;
    Ok(bytes)
}

/// What an attribution figure says about itself.
pub struct FigureText {
    /// The title: method, class, sample.
    pub title: String,
    /// Below the title: the class explained against the prediction, completeness.
    pub subtitle: String,
    /// Names of the values for a text or a table (tokens, features); empty for images.
    pub names: Vec<String>,
}

/// An attribution as an SVG figure, any input kind: an image's map over the input in grey, a
/// text's tokens or a table's features as bars; a title, a colour bar with its scale, and a
/// legend saying which colour raised the score.
///
/// # Errors
/// When the figure cannot be drawn (no font).
pub fn attribution_svg(attribution: &Attribution, input: &[f32], text: &FigureText) -> Result<String, String> {
    use plotters::prelude::*;
    draw::register_font()?;
    let draw = |e: DrawingAreaErrorKind<_>| format!("drawing the figure failed: {e}");
    let colour = |v: f32, top: f32| {
        let [r, g, b] = attribution_colour(v, top);
        RGBColor(r, g, b)
    };
    let mut svg = String::new();
    let image = attribution.pixels();
    let (width, height) = match &image {
        Some((h, w, _)) => {
            let cell = (480 / (*h).max(*w)).max(1) as u32;
            (cell * *w as u32 + 260, (cell * *h as u32 + 130).max(420))
        }
        None => (1160, ((attribution.values.len().min(60) as u32) * 22 + 150).max(420)),
    };
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(draw)?;
        root.draw(&Text::new(text.title.clone(), (20, 14), ("sans-serif", 22).into_font().color(&BLACK)))
            .map_err(draw)?;
        root.draw(&Text::new(
            text.subtitle.clone(),
            (20, 44),
            ("sans-serif", 15).into_font().color(&RGBColor(70, 70, 70)),
        ))
        .map_err(draw)?;
        let body_top = 86;
        let top;
        match &image {
            Some((h, w, map)) => {
                top = extent(map);
                let cell = ((480 / (*h).max(*w)).max(1)) as i32;
                let plane = h * w;
                let channels = input.len() / plane.max(1);
                let (lo, hi) = input.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(l, u), &v| (l.min(v), u.max(v)));
                for p in 0..plane {
                    let grey = (0..channels).map(|c| input[c * plane + p]).sum::<f32>() / channels.max(1) as f32;
                    let g = 255.0 * (grey - lo) / (hi - lo).max(1e-6);
                    let over = attribution_colour(map[p], top);
                    let alpha = 0.85 * (map[p].abs() / top).min(1.0);
                    let mix = |o: u8| (g * (1.0 - alpha) + f32::from(o) * alpha).round() as u8;
                    let (x, y) = (20 + (p % w) as i32 * cell, body_top + (p / w) as i32 * cell);
                    root.draw(&Rectangle::new(
                        [(x, y), (x + cell, y + cell)],
                        RGBColor(mix(over[0]), mix(over[1]), mix(over[2])).filled(),
                    ))
                    .map_err(draw)?;
                }
            }
            None => {
                top = extent(&attribution.values);
                // One bar per token or feature (the 60 largest for long inputs), from a centre line.
                let mut order: Vec<usize> = (0..attribution.values.len()).collect();
                if order.len() > 60 {
                    order.sort_by(|&a, &b| attribution.values[b].abs().total_cmp(&attribution.values[a].abs()));
                    order.truncate(60);
                    order.sort_unstable();
                }
                let (label_w, half) = (220, 300);
                let centre = 20 + label_w + half;
                for (row, &i) in order.iter().enumerate() {
                    let y = body_top + row as i32 * 22;
                    let name = text.names.get(i).cloned().unwrap_or_else(|| format!("#{i}"));
                    root.draw(&Text::new(name, (20, y + 3), ("sans-serif", 15).into_font().color(&BLACK)))
                        .map_err(draw)?;
                    let v = attribution.values[i];
                    let len = (v / top * half as f32).round() as i32;
                    let (a, b) = if len >= 0 { (centre, centre + len) } else { (centre + len, centre) };
                    root.draw(&Rectangle::new([(a, y + 2), (b.max(a + 1), y + 18)], colour(v, top).filled()))
                        .map_err(draw)?;
                    root.draw(&Text::new(
                        format!("{v:+.4}"),
                        (centre + half + 10, y + 3),
                        ("sans-serif", 13).into_font(),
                    ))
                    .map_err(draw)?;
                }
                let bottom = body_top + order.len() as i32 * 22;
                root.draw(&PathElement::new(vec![(centre, body_top - 4), (centre, bottom)], BLACK.stroke_width(1)))
                    .map_err(draw)?;
            }
        }
        // The colour bar, its ends and middle labelled, and what the colours mean.
        let (bar_x, bar_top, bar_h) = (width as i32 - 200, body_top, 240);
        for k in 0..bar_h {
            let v = top * (1.0 - 2.0 * k as f32 / (bar_h - 1) as f32);
            root.draw(&Rectangle::new([(bar_x, bar_top + k), (bar_x + 24, bar_top + k + 1)], colour(v, top).filled()))
                .map_err(draw)?;
        }
        root.draw(&Rectangle::new([(bar_x, bar_top), (bar_x + 24, bar_top + bar_h)], BLACK.stroke_width(1)))
            .map_err(draw)?;
        for (k, v) in [(0, top), (bar_h / 2, 0.0), (bar_h, -top)] {
            root.draw(&Text::new(format!("{v:+.3}"), (bar_x + 32, bar_top + k - 8), ("sans-serif", 14).into_font()))
                .map_err(draw)?;
        }
        for (k, line) in ["red: raised the score", "blue: lowered it"].iter().enumerate() {
            root.draw(&Text::new(
                (*line).to_owned(),
                (bar_x - 10, bar_top + bar_h + 16 + 20 * k as i32),
                ("sans-serif", 14).into_font(),
            ))
            .map_err(draw)?;
        }
        root.present().map_err(draw)?;
    }
    Ok(svg)
}

pub mod cells;
pub mod draw;

pub use cells::{cell_figure, graph_figure, Sources};
pub use draw::{Body, Figure, FigureSize, Panel, Scale, PRINT, SLIDE};

/// A figure file's name (without extension) for cell `index`: `cell03-training`.
#[must_use]
pub fn file_stem(index: usize, kind: &crate::notebook::CellKind) -> String {
    let kind: String =
        kind.title().to_lowercase().chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
    format!("cell{:02}-{kind}", index + 1)
}
