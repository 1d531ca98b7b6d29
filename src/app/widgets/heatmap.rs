//! Numbers as pictures, for the inspection cells: colour scales (a diverging map for signed
//! values, a sequential one for values that are never negative, both from `colorous`), grids of
//! small images (feature maps, filters), heatmaps (time x feature, dense weights), bar strips
//! (vectors) and histograms, each with the value under the pointer on hover. Textures are kept
//! between frames and rebuilt only when their data changes.

use std::collections::{HashMap, HashSet};

use eframe::egui::{self, Color32, Rect, Sense, Vec2};

/// How values map to colours.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scale {
    pub low: f32,
    pub high: f32,
    /// Signed values: white at 0, blue below, red above, symmetric around 0.
    pub diverging: bool,
}

impl Scale {
    /// The scale that fits these values: diverging when any is negative.
    pub fn of(values: &[f32]) -> Self {
        let (mut low, mut high) = (f32::INFINITY, f32::NEG_INFINITY);
        for &v in values.iter().filter(|v| v.is_finite()) {
            low = low.min(v);
            high = high.max(v);
        }
        if !low.is_finite() {
            return Self { low: 0.0, high: 1.0, diverging: false };
        }
        if low < 0.0 {
            let m = low.abs().max(high.abs()).max(1e-12);
            Self { low: -m, high: m, diverging: true }
        } else {
            Self { low: 0.0, high: high.max(1e-12), diverging: false }
        }
    }

    pub fn color(&self, v: f32) -> Color32 {
        if !v.is_finite() {
            return Color32::from_rgb(255, 0, 255);
        }
        let span = (self.high - self.low).max(1e-12);
        let t = f64::from(((v - self.low) / span).clamp(0.0, 1.0));
        let c = if self.diverging {
            // RdBu runs red to blue: flip it so that positive values are red.
            colorous::RED_BLUE.eval_continuous(1.0 - t)
        } else {
            colorous::INFERNO.eval_continuous(t)
        };
        Color32::from_rgb(c.r, c.g, c.b)
    }

    /// The scale in words, for a caption.
    pub fn describe(&self) -> String {
        let r = |v: f32| glassbox_engine::train::readable(f64::from(v));
        if self.high <= 1e-12 {
            return "all 0".to_owned();
        }
        if self.diverging {
            format!("blue {} · white 0 · red {}", r(self.low), r(self.high))
        } else {
            format!("black 0 · yellow {}", r(self.high))
        }
    }
}

/// Textures kept between frames: each under a key, rebuilt when its version changes.
#[derive(Default)]
pub struct Textures {
    map: HashMap<String, (u64, egui::TextureHandle)>,
    /// Keys used this frame; the others are dropped at the frame's end.
    used: HashSet<String>,
}

impl Textures {
    /// The texture under `key` at `version`, made by `pixels` (row by row, `size` = [w, h]) when
    /// it is new or its version changed.
    pub fn get(
        &mut self,
        ctx: &egui::Context,
        key: &str,
        version: u64,
        size: [usize; 2],
        pixels: impl FnOnce() -> Vec<Color32>,
    ) -> egui::TextureHandle {
        if !self.used.contains(key) {
            self.used.insert(key.to_owned());
        }
        if let Some((v, texture)) = self.map.get_mut(key) {
            if texture.size() == size {
                if *v != version {
                    // New data of the same size: the texture is updated in place.
                    let mut data = pixels();
                    data.resize(size[0] * size[1], Color32::TRANSPARENT);
                    texture.set(egui::ColorImage::new(size, data), egui::TextureOptions::NEAREST);
                    *v = version;
                }
                return texture.clone();
            }
        }
        let mut data = pixels();
        data.resize(size[0] * size[1], Color32::TRANSPARENT);
        let image = egui::ColorImage::new(size, data);
        let texture = ctx.load_texture(key, image, egui::TextureOptions::NEAREST);
        self.map.insert(key.to_owned(), (version, texture.clone()));
        texture
    }

    /// Drops the textures no cell drew this frame (call once a frame, after the cells).
    pub fn end_frame(&mut self) {
        let used = std::mem::take(&mut self.used);
        self.map.retain(|k, _| used.contains(k));
        self.used = used;
        self.used.clear();
    }
}

/// Where the pointer is over a drawn grid of maps: which map, row, column, and the value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Hover {
    pub map: usize,
    pub row: usize,
    pub col: usize,
    pub value: f32,
}

/// One `h` x `w` image of `values` (row by row) in `scale`, drawn `size` big; returns the
/// response and the hovered cell.
#[expect(clippy::too_many_arguments, reason = "the pieces of one picture")]
pub fn image(
    ui: &mut egui::Ui,
    textures: &mut Textures,
    key: &str,
    version: u64,
    values: &[f32],
    [h, w]: [usize; 2],
    scale: Scale,
    size: Vec2,
) -> (egui::Response, Option<Hover>) {
    let texture =
        textures.get(ui.ctx(), key, version, [w.max(1), h.max(1)], || values.iter().map(|&v| scale.color(v)).collect());
    let (rect, response) = ui.allocate_exact_size(size, Sense::click());
    ui.painter().image(
        texture.id(),
        rect,
        Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(1.0, 1.0)),
        Color32::WHITE,
    );
    let hover = response.hover_pos().and_then(|p| {
        let col = (((p.x - rect.left()) / rect.width()) * w as f32).floor() as usize;
        let row = (((p.y - rect.top()) / rect.height()) * h as f32).floor() as usize;
        (row < h && col < w).then(|| Hover {
            map: 0,
            row,
            col,
            value: values.get(row * w + col).copied().unwrap_or(0.0),
        })
    });
    (response, hover)
}

/// `count` maps of `h` x `w` (one after the other in `values`) as a grid of small images, each
/// `cell` points wide at most, wrapping to the width; a shared scale or one per map. Returns the
/// hovered map and cell.
#[expect(clippy::too_many_arguments, reason = "the pieces of one picture")]
pub fn map_grid(
    ui: &mut egui::Ui,
    textures: &mut Textures,
    key: &str,
    version: u64,
    values: &[f32],
    [count, h, w]: [usize; 3],
    shared: bool,
    cell: f32,
) -> Option<Hover> {
    let per = h * w;
    if per == 0 || count == 0 || values.len() < count * per {
        return None;
    }
    // All the maps in one texture (an atlas, one transparent texel between maps), drawn as one
    // image: a widget and a texture a map cost about 10 us each a frame, and a layer can have 128.
    const GAP: usize = 1;
    let texel = (cell / w as f32).max(0.5);
    let tile = (w + GAP) as f32 * texel;
    let cols = (((ui.available_width() + GAP as f32 * texel) / tile).floor() as usize).clamp(1, count);
    let rows = count.div_ceil(cols);
    let size_px = [cols * (w + GAP) - GAP, rows * (h + GAP) - GAP];
    let texture = textures.get(ui.ctx(), &format!("{key}/atlas/{shared}/{cols}"), version, size_px, || {
        let whole = Scale::of(&values[..count * per]);
        let mut pixels = vec![Color32::TRANSPARENT; size_px[0] * size_px[1]];
        for m in 0..count {
            let map = &values[m * per..(m + 1) * per];
            let scale = if shared { whole } else { Scale::of(map) };
            let (x0, y0) = ((m % cols) * (w + GAP), (m / cols) * (h + GAP));
            for y in 0..h {
                for x in 0..w {
                    pixels[(y0 + y) * size_px[0] + x0 + x] = scale.color(map[y * w + x]);
                }
            }
        }
        pixels
    });
    let size = Vec2::new(size_px[0] as f32 * texel, size_px[1] as f32 * texel);
    let (rect, response) = ui.allocate_exact_size(size, Sense::hover());
    ui.painter().image(
        texture.id(),
        rect,
        Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(1.0, 1.0)),
        Color32::WHITE,
    );
    let p = response.hover_pos()?;
    let (tx, ty) = (((p.x - rect.left()) / texel) as usize, ((p.y - rect.top()) / texel) as usize);
    let (col, x, row, y) = (tx / (w + GAP), tx % (w + GAP), ty / (h + GAP), ty % (h + GAP));
    let m = row * cols + col;
    (x < w && y < h && col < cols && m < count).then(|| Hover {
        map: m,
        row: y,
        col: x,
        value: values[m * per + y * w + x],
    })
}

/// A vector as a strip of bars, up from a middle line for positive values and down for
/// negative ones, coloured by the scale; `labels` name the bars (class names) when there are
/// few. Returns the hovered index and value.
pub fn bar_strip(ui: &mut egui::Ui, values: &[f32], labels: &[String], height: f32) -> Option<(usize, f32)> {
    let n = values.len().max(1);
    // Named bars (a few classes) get a row of names under them, each as wide as its bar.
    let named = n <= 12 && !labels.is_empty();
    let width = ui.available_width().min((n as f32 * if named { 70.0 } else { 14.0 }).max(120.0));
    let (whole, response) =
        ui.allocate_exact_size(Vec2::new(width, height + if named { 14.0 } else { 0.0 }), Sense::hover());
    let rect = Rect::from_min_size(whole.min, Vec2::new(width, height));
    let scale = Scale::of(values);
    let m = values.iter().fold(0.0f32, |m, v| m.max(v.abs())).max(1e-12);
    let painter = ui.painter_at(rect);
    let mid = if scale.diverging { rect.center().y } else { rect.bottom() };
    let half = if scale.diverging { rect.height() / 2.0 } else { rect.height() };
    let bar = rect.width() / n as f32;
    painter.rect_filled(rect, 2.0, ui.visuals().extreme_bg_color);
    for (i, &v) in values.iter().enumerate() {
        let x = rect.left() + i as f32 * bar;
        let length = (v.abs() / m).clamp(0.0, 1.0) * (half - 1.0);
        let (top, bottom) = if v >= 0.0 { (mid - length, mid) } else { (mid, mid + length) };
        let color = if scale.diverging { scale.color(v) } else { scale.color(v.max(m * 0.25)) };
        painter.rect_filled(
            Rect::from_min_max(egui::pos2(x + bar * 0.1, top), egui::pos2(x + bar * 0.9, bottom.max(top + 1.0))),
            0.0,
            color,
        );
    }
    painter.line_segment(
        [egui::pos2(rect.left(), mid), egui::pos2(rect.right(), mid)],
        (1.0, ui.visuals().weak_text_color()),
    );
    let hovered = response.hover_pos().and_then(|p| {
        let i = ((p.x - rect.left()) / bar).floor() as usize;
        values.get(i).map(|&v| (i, v))
    });
    if named {
        for (i, label) in labels.iter().take(n).enumerate() {
            let cell =
                Rect::from_min_size(egui::pos2(rect.left() + i as f32 * bar, rect.bottom()), Vec2::new(bar, 14.0));
            ui.painter_at(cell.shrink2(Vec2::new(1.0, 0.0))).text(
                cell.center(),
                egui::Align2::CENTER_CENTER,
                label,
                egui::FontId::proportional(11.0),
                ui.visuals().text_color(),
            );
        }
    }
    hovered
}

/// A histogram of `values` in `bins` bins, drawn `size` big, with the range under it.
pub fn histogram(ui: &mut egui::Ui, values: &[f32], bins: usize, size: Vec2) -> egui::Response {
    let finite: Vec<f32> = values.iter().copied().filter(|v| v.is_finite()).collect();
    let low = finite.iter().copied().fold(f32::INFINITY, f32::min);
    let high = finite.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let (rect, response) = ui.allocate_exact_size(size, Sense::hover());
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 2.0, ui.visuals().extreme_bg_color);
    if finite.is_empty() || bins == 0 {
        return response;
    }
    let span = (high - low).max(1e-12);
    let mut counts = vec![0usize; bins];
    for v in &finite {
        let b = (((v - low) / span) * bins as f32).floor() as usize;
        counts[b.min(bins - 1)] += 1;
    }
    let most = counts.iter().copied().max().unwrap_or(1).max(1);
    let bar = rect.width() / bins as f32;
    let color = ui.visuals().selection.bg_fill;
    for (i, &c) in counts.iter().enumerate() {
        let h = c as f32 / most as f32 * (rect.height() - 2.0);
        let x = rect.left() + i as f32 * bar;
        painter.rect_filled(
            Rect::from_min_max(egui::pos2(x + 0.5, rect.bottom() - h), egui::pos2(x + bar - 0.5, rect.bottom())),
            0.0,
            color,
        );
    }
    if low < 0.0 && high > 0.0 {
        let x = rect.left() + (-low / span) * rect.width();
        painter.line_segment(
            [egui::pos2(x, rect.top()), egui::pos2(x, rect.bottom())],
            (1.0, ui.visuals().weak_text_color()),
        );
    }
    let r = |v: f32| glassbox_engine::train::readable(f64::from(v));
    response.on_hover_text(format!("{} values from {} to {}; the line marks 0", finite.len(), r(low), r(high)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_fit_their_values() {
        let s = Scale::of(&[0.0, 2.0, 1.0]);
        assert!(!s.diverging);
        assert!((s.high - 2.0).abs() < 1e-6);
        let d = Scale::of(&[-3.0, 1.0]);
        assert!(d.diverging);
        assert!((d.low + 3.0).abs() < 1e-6 && (d.high - 3.0).abs() < 1e-6);
        // White at zero on the diverging map; the ends differ in hue.
        let zero = d.color(0.0);
        assert!(zero.r() > 230 && zero.g() > 230 && zero.b() > 230, "{zero:?}");
        assert!(d.color(3.0).r() > d.color(3.0).b(), "positive is red");
        assert!(d.color(-3.0).b() > d.color(-3.0).r(), "negative is blue");
    }
}
