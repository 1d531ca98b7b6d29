//! Figures written to files from the command line. (The app draws the same views with egui.)

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
