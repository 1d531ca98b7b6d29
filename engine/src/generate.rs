//! Generating sequences with a trained model: sampling the next token from the model's scores
//! with a temperature, one token at a time (a character-level model writing names, say).

use rand::SeedableRng as _;

use crate::data::Vocab;
use crate::tensor::Model;
use crate::EngineError;

/// A class drawn from `scores` (raw outputs) softened or sharpened by `temperature`: the
/// probabilities are `softmax(scores / temperature)`; a temperature of 0 (or below) takes the
/// highest score.
#[must_use]
pub fn sample_index(scores: &[f32], temperature: f32, rng: &mut impl rand::Rng) -> usize {
    if scores.is_empty() {
        return 0;
    }
    let best = scores.iter().enumerate().fold(0, |b, (i, &s)| if s > scores[b] { i } else { b });
    if temperature <= 0.0 || !temperature.is_finite() {
        return best;
    }
    let top = scores[best];
    let weights: Vec<f64> = scores.iter().map(|&s| f64::from((s - top) / temperature).exp()).collect();
    let total: f64 = weights.iter().sum();
    let mut pick = rng.gen_range(0.0..total.max(f64::MIN_POSITIVE));
    for (i, w) in weights.iter().enumerate() {
        if pick < *w {
            return i;
        }
        pick -= w;
    }
    best
}

/// What to generate.
#[derive(Clone, Debug, PartialEq)]
pub struct Generation {
    /// Token ids the sequence starts with (may be empty).
    pub prompt: Vec<usize>,
    /// The most tokens to add.
    pub max_tokens: usize,
    /// 1 samples the model's own probabilities; lower is safer, higher more surprising.
    pub temperature: f32,
    /// A token that ends the sequence (it is kept), such as a name's end mark.
    pub stop: Option<usize>,
    pub seed: u64,
}

/// Extends `generation.prompt` with tokens drawn from `model`, which reads a window of token ids
/// (its input shape, `[window]`) and scores the next token (its output, one score per token of
/// the vocabulary). The window before the start is `<pad>` (id 0). Returns the added tokens.
///
/// # Errors
/// When the model does not take a window of token ids or does not score `vocab`'s tokens.
pub fn generate(model: &mut Model, vocab: &Vocab, generation: &Generation) -> Result<Vec<usize>, EngineError> {
    let [window] = model.input_shape() else {
        return Err(EngineError::Settings(format!(
            "generating needs a model that reads a window of token ids [window], but this one reads {}",
            crate::graph::shape_text(model.input_shape())
        )));
    };
    let window = *window;
    if model.output_shape() != [vocab.len()] {
        return Err(EngineError::Settings(format!(
            "generating needs a model that scores each of the {} tokens, but this one outputs {}",
            vocab.len(),
            crate::graph::shape_text(model.output_shape())
        )));
    }
    let mut rng = rand::rngs::StdRng::seed_from_u64(generation.seed);
    let mut sequence = generation.prompt.clone();
    let mut added = Vec::new();
    while added.len() < generation.max_tokens {
        let context: Vec<f32> =
            (0..window).map(|k| (sequence.len() + k).checked_sub(window).map_or(0.0, |i| sequence[i] as f32)).collect();
        let scores = model.predict(&context, 1)?;
        let next = sample_index(&scores, generation.temperature, &mut rng);
        sequence.push(next);
        added.push(next);
        if generation.stop == Some(next) {
            break;
        }
    }
    Ok(added)
}
