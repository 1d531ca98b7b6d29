//! Is training still healthy? A NaN is easy to see; a run whose loss climbs to 9e6 and stays
//! there, or whose weights grow without bound, is as broken, and must not end as a "success".
//!
//! The loss is compared with where it started: the lowest of the run's first few steps (a rate
//! that blows up inflates the later ones, so not their mean). A run is
//! diverging when its loss stays far above that start for a sustained stretch of steps, or when
//! a weight grows past [`WEIGHT_LIMIT`] (weights of a healthy network stay within a few units).

/// Steps whose lowest loss is the starting level.
const BASELINE_STEPS: usize = 5;
/// A weight this large means the updates have blown up.
pub(crate) const WEIGHT_LIMIT: f32 = 1e6;

/// The loss level past which a step counts as "far above the start": ten times the start, and at
/// least ten above it (so a start near 0 does not make every wobble count).
#[must_use]
pub fn divergence_threshold(start: f32) -> f32 {
    (10.0 * start).max(start + 10.0)
}

/// How many steps in a row above the threshold make a run diverged: about an epoch, at least 20
/// steps and at most 50.
#[must_use]
pub fn divergence_stretch(steps_per_epoch: usize) -> usize {
    steps_per_epoch.clamp(20, 50)
}

/// The loss history that divergence is judged on.
#[derive(Clone, Debug, Default)]
pub(crate) struct Health {
    first_losses: Vec<f32>,
    /// The first step of the current run of steps above the threshold.
    above_since: Option<usize>,
    /// Steps in the current run above the threshold.
    above_for: usize,
}

impl Health {
    /// The starting loss: the lowest of the first few steps so far.
    pub fn start(&self) -> Option<f32> {
        self.first_losses.iter().copied().reduce(f32::min)
    }

    /// Takes one step's (finite) loss; returns how many steps in a row it has been far above
    /// the start. Every step after the first is judged (against the lowest loss so far of the
    /// first few), so even a short run that blows up is seen.
    pub fn observe(&mut self, step: usize, loss: f32) -> usize {
        let first = self.first_losses.is_empty();
        if self.first_losses.len() < BASELINE_STEPS {
            self.first_losses.push(loss);
        }
        if first {
            return 0;
        }
        let threshold = self.start().map_or(f32::INFINITY, divergence_threshold);
        if loss > threshold {
            self.above_since.get_or_insert(step);
            self.above_for += 1;
        } else {
            self.above_since = None;
            self.above_for = 0;
        }
        self.above_for
    }

    /// Whether the loss is at a normal level now (checkpoints are only taken then, so "go back
    /// to the last good weights" never goes back to diverged ones).
    pub fn is_calm(&self) -> bool {
        self.above_since.is_none()
    }

    /// Forgets the current stretch (after a pause for divergence, or going back to a checkpoint),
    /// so training on needs a whole new stretch before it pauses again.
    pub fn forgive(&mut self) {
        self.above_since = None;
        self.above_for = 0;
    }
}

/// A number in a message as a student reads it: `0.02`, `200`, `1500`; powers of ten for huge or
/// tiny values (`1e12`, `2.5e-5`), as the window's fields show them.
#[must_use]
pub fn readable(v: f64) -> String {
    let a = v.abs();
    if !v.is_finite() {
        return format!("{v}");
    }
    if a != 0.0 && !(1e-3..1e5).contains(&a) {
        let text = format!("{v:.2e}");
        return match text.split_once('e') {
            Some((mantissa, exponent)) => {
                format!("{}e{exponent}", mantissa.trim_end_matches('0').trim_end_matches('.'))
            }
            None => text,
        };
    }
    let decimals = if a == 0.0 { 0 } else { (2 - a.log10().floor() as i32).clamp(0, 6) as usize };
    let text = format!("{v:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_loss_that_stays_high_counts_and_a_dip_resets() {
        let mut health = Health::default();
        assert_eq!(health.observe(0, 0.7), 0, "the first step is the start");
        assert_eq!(health.observe(1, 20.0), 1, "the second is judged already");
        assert_eq!(health.observe(2, 0.7), 0);
        for step in 3..5 {
            assert_eq!(health.observe(step, 0.7), 0);
        }
        assert!((health.start().expect("steps in") - 0.7).abs() < 1e-6);
        assert!((divergence_threshold(0.7) - 10.7).abs() < 1e-6);
        assert_eq!(health.observe(5, 50.0), 1);
        assert_eq!(health.observe(6, 9e6), 2);
        assert!(!health.is_calm());
        assert_eq!(health.observe(7, 0.5), 0, "a step back to normal ends the stretch");
        assert!(health.is_calm());
        assert_eq!(health.observe(8, 11.0), 1);
        health.forgive();
        assert!(health.is_calm());
    }

    #[test]
    fn a_noisy_but_healthy_loss_never_counts() {
        let mut health = Health::default();
        for step in 0..1000 {
            let loss = 2.3 * (1.0 + 0.9 * ((step as f32) * 0.37).sin());
            assert_eq!(health.observe(step, loss), 0);
        }
    }
}
