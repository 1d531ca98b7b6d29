//! Generated two-dimensional sets.

use rand::{Rng as _, SeedableRng as _};

use super::Dataset;

/// Two interleaved spirals (TensorFlow Playground's definition): `count` points, half of each
/// class, with Gaussian-like noise of `noise` (in units of the plane, which spans about -6..6).
#[must_use]
pub fn spiral(count: usize, noise: f32, seed: u64) -> Dataset {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let half = count / 2;
    let mut inputs = Vec::with_capacity(count * 2);
    let mut labels = Vec::with_capacity(count);
    for class in 0..2 {
        let delta = if class == 0 { 0.0 } else { std::f32::consts::PI };
        let n = if class == 0 { half } else { count - half };
        for i in 0..n {
            let r = i as f32 / n as f32 * 5.0;
            let t = 1.75 * i as f32 / n as f32 * 2.0 * std::f32::consts::PI + delta;
            let jitter = |rng: &mut rand::rngs::StdRng| rng.gen_range(-1.0..=1.0) * noise;
            inputs.push(r * t.sin() + jitter(&mut rng));
            inputs.push(r * t.cos() + jitter(&mut rng));
            labels.push(class);
        }
    }
    Dataset { shape: vec![2], inputs, labels, classes: vec!["orange".into(), "blue".into()] }
}
