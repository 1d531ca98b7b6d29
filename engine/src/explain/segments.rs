//! Segments that the perturbation methods switch on and off: square cells or SLIC superpixels of
//! an image, a table's features, a text's tokens; and a Gaussian blur (a baseline).

use super::{InputKind, Segmentation};

/// The segment of each input position (each pixel, for an image: its channels share it), and
/// how many segments there are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segments {
    pub labels: Vec<usize>,
    pub count: usize,
}

impl Segments {
    /// For an input of this kind.
    #[must_use]
    pub fn of(kind: &InputKind, input: &[f32], how: Segmentation) -> Self {
        match *kind {
            InputKind::Image { channels, height, width } => match how {
                Segmentation::Grid { cell } => grid(height, width, cell.max(1)),
                Segmentation::Superpixels { count } => slic(input, channels, height, width, count.max(1)),
            },
            InputKind::Table { features: n } | InputKind::Tokens { positions: n, .. } => {
                Self { labels: (0..n).collect(), count: n }
            }
        }
    }

    /// The input with the segments that are off replaced by the baseline's values.
    #[must_use]
    pub fn cover(&self, input: &[f32], baseline: &[f32], on: &[bool]) -> Vec<f32> {
        let positions = self.labels.len();
        input
            .iter()
            .zip(baseline)
            .enumerate()
            .map(|(i, (&x, &b))| if on[self.labels[i % positions]] { x } else { b })
            .collect()
    }
}

/// Square cells of side `cell`, row by row.
#[must_use]
pub fn grid(height: usize, width: usize, cell: usize) -> Segments {
    let across = width.div_ceil(cell);
    let labels = (0..height * width).map(|i| (i / width / cell) * across + (i % width) / cell).collect();
    Segments { labels, count: height.div_ceil(cell) * across }
}

/// About `wanted` SLIC superpixels: k-means over colour and position, each centre searching a
/// window twice the grid step, ten rounds; a compactness of 0.2 of the image's value range per
/// grid step. Labels are renumbered from 0 in reading order of their first pixel.
#[must_use]
pub fn slic(input: &[f32], channels: usize, height: usize, width: usize, wanted: usize) -> Segments {
    let plane = height * width;
    let (lo, hi) = input.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(l, h), &v| (l.min(v), h.max(v)));
    let range = (hi - lo).max(1e-6);
    let colour = |p: usize, c: usize| (input[c * plane + p] - lo) / range;
    let step = ((plane as f32 / wanted as f32).sqrt()).max(1.0);
    let compactness = 0.2f32;
    // Centres: [y, x, colour...].
    let mut centres: Vec<Vec<f32>> = Vec::new();
    let mut y = step / 2.0;
    while y < height as f32 {
        let mut x = step / 2.0;
        while x < width as f32 {
            let p = (y as usize).min(height - 1) * width + (x as usize).min(width - 1);
            let mut c = vec![y, x];
            c.extend((0..channels).map(|ch| colour(p, ch)));
            centres.push(c);
            x += step;
        }
        y += step;
    }
    let mut labels = vec![usize::MAX; plane];
    let reach = (2.0 * step).ceil() as isize;
    for _ in 0..10 {
        let mut best = vec![f32::INFINITY; plane];
        for (k, c) in centres.iter().enumerate() {
            let (cy, cx) = (c[0] as isize, c[1] as isize);
            for py in (cy - reach).max(0)..(cy + reach + 1).min(height as isize) {
                for px in (cx - reach).max(0)..(cx + reach + 1).min(width as isize) {
                    let p = py as usize * width + px as usize;
                    let dc: f32 = (0..channels).map(|ch| (colour(p, ch) - c[2 + ch]).powi(2)).sum();
                    let ds = ((py as f32 - c[0]).powi(2) + (px as f32 - c[1]).powi(2)) / (step * step);
                    let d = dc + ds * compactness * compactness;
                    if d < best[p] {
                        best[p] = d;
                        labels[p] = k;
                    }
                }
            }
        }
        let mut sums = vec![vec![0.0f32; 2 + channels]; centres.len()];
        let mut counts = vec![0usize; centres.len()];
        for (p, &k) in labels.iter().enumerate() {
            if k == usize::MAX {
                continue;
            }
            counts[k] += 1;
            sums[k][0] += (p / width) as f32;
            sums[k][1] += (p % width) as f32;
            for ch in 0..channels {
                sums[k][2 + ch] += colour(p, ch);
            }
        }
        for ((c, s), &n) in centres.iter_mut().zip(&sums).zip(&counts) {
            if n > 0 {
                for (cv, sv) in c.iter_mut().zip(s) {
                    *cv = sv / n as f32;
                }
            }
        }
    }
    let mut renumber = vec![usize::MAX; centres.len()];
    let mut count = 0;
    let labels = labels
        .iter()
        .map(|&k| {
            let k = k.min(centres.len() - 1);
            if renumber[k] == usize::MAX {
                renumber[k] = count;
                count += 1;
            }
            renumber[k]
        })
        .collect();
    Segments { labels, count }
}

/// Each channel blurred by a Gaussian of `sigma` pixels (edges repeat their last pixel).
#[must_use]
pub fn blur(input: &[f32], channels: usize, height: usize, width: usize, sigma: f32) -> Vec<f32> {
    let radius = (3.0 * sigma).ceil().max(1.0) as isize;
    let kernel: Vec<f32> = (-radius..=radius).map(|d| (-(d * d) as f32 / (2.0 * sigma * sigma)).exp()).collect();
    let total: f32 = kernel.iter().sum();
    let kernel: Vec<f32> = kernel.iter().map(|k| k / total).collect();
    let pass = |src: &[f32], along_x: bool| -> Vec<f32> {
        let mut out = vec![0.0; src.len()];
        for c in 0..channels {
            for y in 0..height {
                for x in 0..width {
                    let mut acc = 0.0;
                    for (k, d) in kernel.iter().zip(-radius..=radius) {
                        let (sy, sx) = if along_x {
                            (y, (x as isize + d).clamp(0, width as isize - 1) as usize)
                        } else {
                            ((y as isize + d).clamp(0, height as isize - 1) as usize, x)
                        };
                        acc += k * src[(c * height + sy) * width + sx];
                    }
                    out[(c * height + y) * width + x] = acc;
                }
            }
        }
        out
    };
    pass(&pass(input, true), false)
}
