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

/// About `wanted` SLIC superpixels (Achanta et al. 2012, through `simple_clustering`: ten
/// rounds, compactness 10) of the image rescaled to bytes by its own range (grey when it does not
/// have three channels). Labels are renumbered from 0 in reading order of their first pixel.
#[must_use]
pub fn slic(input: &[f32], channels: usize, height: usize, width: usize, wanted: usize) -> Segments {
    let plane = height * width;
    let (lo, hi) = input.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(l, h), &v| (l.min(v), h.max(v)));
    let byte = |v: f32| (255.0 * (v - lo) / (hi - lo).max(1e-6)).round().clamp(0.0, 255.0) as u8;
    let rgb: Vec<u8> = (0..plane)
        .flat_map(|p| {
            if channels == 3 {
                [byte(input[p]), byte(input[plane + p]), byte(input[2 * plane + p])]
            } else {
                let grey = byte((0..channels).map(|c| input[c * plane + p]).sum::<f32>() / channels.max(1) as f32);
                [grey; 3]
            }
        })
        .collect();
    let (w, h, k) = (to_u32(width), to_u32(height), to_u32(wanted.clamp(1, plane.max(1))));
    // It refuses only sizes of 0, which no model's input has; a grid is the fallback.
    let Ok(labels) = simple_clustering::slic_from_bytes(k, 10, w, h, None, &rgb) else {
        return grid(height, width, (plane / wanted.max(1)).isqrt().max(1));
    };
    let mut renumber = std::collections::HashMap::new();
    let labels: Vec<usize> = labels
        .iter()
        .map(|l| {
            let next = renumber.len();
            *renumber.entry(*l).or_insert(next)
        })
        .collect();
    Segments { count: renumber.len(), labels }
}

fn to_u32(v: usize) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
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
