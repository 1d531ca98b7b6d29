//! The model-randomisation check of Adebayo et al. (2018): a map that explains the model must
//! change when the model's weights are replaced by random ones. Compared, as there, by Spearman's
//! rank correlation of the two maps, signed and of their absolute values: a map multiplied by the
//! input (gradient x input, Integrated Gradients from black) keeps the input's shape in its
//! absolute values whatever the weights, while its signs follow the weights.

use super::{explain, Attribution, Reference, Settings, Watch};
use crate::tensor::Model;
use crate::EngineError;

/// The check's outcome.
#[derive(Clone, Debug, PartialEq)]
pub struct Randomisation {
    /// The same method on the same input with freshly initialised weights.
    pub randomised: Attribution,
    /// Spearman's rank correlation of the trained and randomised maps (1: the same ranking).
    pub signed: f32,
    /// The same of their absolute values.
    pub absolute: f32,
}

impl Randomisation {
    /// Below this signed rank correlation the map counts as changed.
    pub const CHANGED_BELOW: f32 = 0.5;
    /// Above it, as barely changed.
    pub const SAME_ABOVE: f32 = 0.8;

    /// Whether the map changed with the weights (the method passes).
    #[must_use]
    pub fn passed(&self) -> bool {
        self.signed < Self::CHANGED_BELOW
    }

    /// A sentence or two for the student.
    #[must_use]
    pub fn verdict(&self) -> String {
        let numbers = format!("rank correlation {:.2}, {:.2} of the absolute values", self.signed, self.absolute);
        let mut text = if self.passed() {
            format!("With random weights the map changes ({numbers}): it shows what this model learnt.")
        } else if self.signed <= Self::SAME_ABOVE {
            format!("With random weights the map changes only in part ({numbers}): read it with care.")
        } else {
            format!(
                "With random weights the map stays much the same ({numbers}): it shows the input more than what the model learnt."
            )
        };
        if self.passed() && self.absolute > Self::SAME_ABOVE {
            text.push_str(" Its strength follows the input itself whatever the weights; its signs do not.");
        }
        text
    }
}

/// Explains `input` again with every weight of `model` re-initialised (seed `seed`), and
/// compares the maps.
///
/// # Errors
/// As [`explain`].
pub fn randomisation(
    model: &Model,
    trained: &Attribution,
    input: &[f32],
    settings: &Settings,
    reference: &Reference,
    seed: u64,
    watch: Watch<'_>,
) -> Result<Randomisation, EngineError> {
    let mut random = Model::new(model.spec(), seed)?;
    let settings = Settings { target: Some(trained.target), ..settings.clone() };
    let randomised = explain(&mut random, input, &settings, reference, watch)?;
    let abs = |v: &[f32]| v.iter().map(|x| x.abs()).collect::<Vec<f32>>();
    let signed = rank_correlation(&trained.values, &randomised.values);
    let absolute = rank_correlation(&abs(&trained.values), &abs(&randomised.values));
    Ok(Randomisation { randomised, signed, absolute })
}

/// Spearman's rank correlation (ties get their mean rank); 0 when either side is constant.
#[must_use]
pub fn rank_correlation(a: &[f32], b: &[f32]) -> f32 {
    let (ra, rb) = (ranks(a), ranks(b));
    let n = ra.len() as f64;
    let mean = (n - 1.0) / 2.0;
    let (mut cov, mut va, mut vb) = (0.0, 0.0, 0.0);
    for (x, y) in ra.iter().zip(&rb) {
        cov += (x - mean) * (y - mean);
        va += (x - mean) * (x - mean);
        vb += (y - mean) * (y - mean);
    }
    if va <= 0.0 || vb <= 0.0 {
        return 0.0;
    }
    (cov / (va * vb).sqrt()) as f32
}

fn ranks(v: &[f32]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..v.len()).collect();
    order.sort_by(|&i, &j| v[i].total_cmp(&v[j]));
    let mut out = vec![0.0; v.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && v[order[end]].total_cmp(&v[order[start]]).is_eq() {
            end += 1;
        }
        let rank = (start + end - 1) as f64 / 2.0;
        for &i in &order[start..end] {
            out[i] = rank;
        }
        start = end;
    }
    out
}
