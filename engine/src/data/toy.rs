//! Generated two-dimensional sets: TensorFlow Playground's classification and regression
//! patterns, plus moons and blobs. Points span about -6..6 on each axis.

use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};
use rand_distr::{Distribution as _, Normal};
use serde::{Deserialize, Serialize};

use super::{Dataset, Targets};

/// Which 2-D pattern.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "pattern")]
pub enum Pattern2d {
    /// A disc of one class inside a ring of the other.
    Circle,
    /// Opposite quadrants share a class.
    Xor,
    /// Two Gaussian clouds.
    Gauss,
    /// Two interleaved spirals.
    Spiral,
    /// Two interleaving half circles (scikit-learn's `make_moons`).
    Moons,
    /// `classes` Gaussian clusters at seeded random centres.
    Blobs { classes: usize },
    /// Regression: the target rises linearly across the plane.
    Plane,
    /// Regression: a sum of positive and negative Gaussian bumps.
    GaussianSurface,
}

impl Pattern2d {
    /// Whether the targets are values rather than classes.
    #[must_use]
    pub fn is_regression(self) -> bool {
        matches!(self, Self::Plane | Self::GaussianSurface)
    }
}

const RADIUS: f32 = 5.0;

fn uniform(rng: &mut StdRng, lo: f32, hi: f32) -> f32 {
    rng.gen_range(lo..hi)
}

/// `count` points of `pattern`, with noise `noise` (Playground's scale: 0 to 0.5), from `seed`.
#[must_use]
pub fn toy_2d(pattern: Pattern2d, count: usize, noise: f32, seed: u64) -> Dataset {
    let mut rng = StdRng::seed_from_u64(seed);
    let noise = noise.max(0.0);
    let mut points: Vec<(f32, f32, f32)> = Vec::with_capacity(count);
    let jitter = |rng: &mut StdRng, scale: f32| uniform(rng, -scale, scale) * noise;
    match pattern {
        Pattern2d::Circle => {
            for i in 0..count {
                let inner = i < count / 2;
                let r =
                    if inner { uniform(&mut rng, 0.0, RADIUS * 0.5) } else { uniform(&mut rng, RADIUS * 0.7, RADIUS) };
                let angle = uniform(&mut rng, 0.0, std::f32::consts::TAU);
                let (x, y) = (r * angle.sin(), r * angle.cos());
                let (nx, ny) = (jitter(&mut rng, RADIUS), jitter(&mut rng, RADIUS));
                // The class follows the noisy position, as in the Playground.
                let inside = (x + nx).hypot(y + ny) < RADIUS * 0.5;
                points.push((x, y, if inside { 0.0 } else { 1.0 }));
            }
        }
        Pattern2d::Xor => {
            for _ in 0..count {
                let pad = |v: f32| if v > 0.0 { v + 0.3 } else { v - 0.3 };
                let x = pad(uniform(&mut rng, -5.0, 5.0));
                let y = pad(uniform(&mut rng, -5.0, 5.0));
                let (nx, ny) = (jitter(&mut rng, 5.0), jitter(&mut rng, 5.0));
                points.push((x, y, if (x + nx) * (y + ny) >= 0.0 { 0.0 } else { 1.0 }));
            }
        }
        Pattern2d::Gauss => {
            // Playground: the variance grows from 0.5 to 4 as noise goes from 0 to 0.5.
            let variance = 0.5 + noise.min(0.5) / 0.5 * 3.5;
            let normal =
                Normal::new(0.0f32, variance.sqrt()).unwrap_or_else(|_| Normal::new(0.0, 1.0).expect("unit normal"));
            for i in 0..count {
                let (cx, class) = if i < count / 2 { (2.0, 0.0) } else { (-2.0, 1.0) };
                points.push((cx + normal.sample(&mut rng), cx + normal.sample(&mut rng), class));
            }
        }
        Pattern2d::Spiral => {
            let half = count / 2;
            for class in 0..2 {
                let n = if class == 0 { half } else { count - half };
                let delta = if class == 0 { 0.0 } else { std::f32::consts::PI };
                for i in 0..n {
                    let r = i as f32 / n as f32 * RADIUS;
                    let t = 1.75 * i as f32 / n as f32 * std::f32::consts::TAU + delta;
                    let x = r * t.sin() + jitter(&mut rng, 1.0);
                    let y = r * t.cos() + jitter(&mut rng, 1.0);
                    points.push((x, y, class as f32));
                }
            }
        }
        Pattern2d::Moons => {
            let normal = Normal::new(0.0f32, 1.0).expect("unit normal");
            for i in 0..count {
                let upper = i < count / 2;
                let t = uniform(&mut rng, 0.0, std::f32::consts::PI);
                let (x, y) = if upper { (t.cos(), t.sin()) } else { (1.0 - t.cos(), 0.5 - t.sin()) };
                let (x, y) = (x + noise * normal.sample(&mut rng), y + noise * normal.sample(&mut rng));
                // Centre and scale to the common -6..6 plane.
                points.push(((x - 0.5) * 3.0, (y - 0.25) * 3.0, if upper { 0.0 } else { 1.0 }));
            }
        }
        Pattern2d::Blobs { classes } => {
            let classes = classes.max(1);
            let centres: Vec<(f32, f32)> =
                (0..classes).map(|_| (uniform(&mut rng, -4.0, 4.0), uniform(&mut rng, -4.0, 4.0))).collect();
            let normal =
                Normal::new(0.0f32, 0.5 + 2.0 * noise).unwrap_or_else(|_| Normal::new(0.0, 1.0).expect("unit normal"));
            for i in 0..count {
                let class = i * classes / count.max(1);
                let (cx, cy) = centres[class];
                points.push((cx + normal.sample(&mut rng), cy + normal.sample(&mut rng), class as f32));
            }
        }
        Pattern2d::Plane => {
            for _ in 0..count {
                let x = uniform(&mut rng, -6.0, 6.0);
                let y = uniform(&mut rng, -6.0, 6.0);
                let (nx, ny) = (jitter(&mut rng, 6.0), jitter(&mut rng, 6.0));
                points.push((x, y, (x + nx + y + ny) / 12.0));
            }
        }
        Pattern2d::GaussianSurface => {
            let bumps = [
                (-4.0, 2.5, 1.0),
                (0.0, 2.5, -1.0),
                (4.0, 2.5, 1.0),
                (-4.0, -2.5, -1.0),
                (0.0, -2.5, 1.0),
                (4.0, -2.5, -1.0),
            ];
            for _ in 0..count {
                let x = uniform(&mut rng, -6.0, 6.0);
                let y = uniform(&mut rng, -6.0, 6.0);
                let (px, py) = (x + jitter(&mut rng, 6.0), y + jitter(&mut rng, 6.0));
                let value: f32 =
                    bumps.iter().map(|(cx, cy, s)| s * (-((px - cx).powi(2) + (py - cy).powi(2)) / 2.0).exp()).sum();
                points.push((x, y, value));
            }
        }
    }
    let inputs = points.iter().flat_map(|&(x, y, _)| [x, y]).collect();
    let features = vec!["x1".to_owned(), "x2".to_owned()];
    if pattern.is_regression() {
        Dataset {
            shape: vec![2],
            inputs,
            targets: Targets::Values(points.iter().map(|p| p.2).collect()),
            targets_per_sample: 1,
            classes: Vec::new(),
            features,
            vocab: None,
        }
    } else {
        let n_classes = match pattern {
            Pattern2d::Blobs { classes } => classes.max(1),
            _ => 2,
        };
        let classes = if n_classes == 2 {
            vec!["orange".to_owned(), "blue".to_owned()]
        } else {
            (0..n_classes).map(|c| format!("cluster {c}")).collect()
        };
        let mut data = Dataset::classification(vec![2], inputs, points.iter().map(|p| p.2 as usize).collect(), classes);
        data.features = features;
        data
    }
}

/// Two interleaved spirals (the Playground's definition) with uniform noise of `noise`.
#[must_use]
pub fn spiral(count: usize, noise: f32, seed: u64) -> Dataset {
    toy_2d(Pattern2d::Spiral, count, noise, seed)
}
