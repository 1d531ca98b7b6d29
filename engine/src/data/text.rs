//! Tokenisation (character- and word-level vocabularies) and character-level language-model
//! windows over the bundled texts.

use std::collections::BTreeMap;

use rand::seq::SliceRandom as _;
use rand::SeedableRng as _;
use serde::{Deserialize, Serialize};

use super::{bundled, Dataset, DatasetInfo, Targets};
use crate::EngineError;

/// The padding token: id 0 in every vocabulary that has special tokens.
pub const PAD: &str = "<pad>";
/// The unknown token: id 1; text outside the vocabulary maps to it.
pub const UNK: &str = "<unk>";

/// How text is cut into tokens.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum VocabKind {
    /// Every character is a token.
    Char,
    /// Lower-case words; punctuation marks are tokens of their own.
    Word,
    /// A fixed list of symbols, no special tokens (synthetic sequence tasks).
    Symbols,
}

/// A vocabulary: tokens by id and ids by token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vocab {
    pub kind: VocabKind,
    tokens: Vec<String>,
    ids: BTreeMap<String, usize>,
}

impl Vocab {
    /// A vocabulary of exactly these symbols, in this order.
    #[must_use]
    pub fn symbols(symbols: &[&str]) -> Self {
        Self::from_tokens(VocabKind::Symbols, symbols.iter().map(|s| (*s).to_owned()).collect())
    }

    fn from_tokens(kind: VocabKind, tokens: Vec<String>) -> Self {
        let ids = tokens.iter().enumerate().map(|(i, t)| (t.clone(), i)).collect();
        Self { kind, tokens, ids }
    }

    /// Cuts text into tokens of `kind`.
    #[must_use]
    pub fn tokenize(kind: VocabKind, text: &str) -> Vec<String> {
        match kind {
            VocabKind::Char => text.chars().map(String::from).collect(),
            VocabKind::Symbols => text.split_whitespace().map(str::to_owned).collect(),
            VocabKind::Word => {
                let mut out = Vec::new();
                let mut word = String::new();
                for c in text.chars().flat_map(char::to_lowercase) {
                    if c.is_alphanumeric() || c == '\'' {
                        word.push(c);
                    } else {
                        if !word.is_empty() {
                            out.push(std::mem::take(&mut word));
                        }
                        if !c.is_whitespace() {
                            out.push(c.to_string());
                        }
                    }
                }
                if !word.is_empty() {
                    out.push(word);
                }
                out
            }
        }
    }

    /// Builds a vocabulary from texts: `<pad>` (0), `<unk>` (1), then tokens by falling
    /// frequency (ties in alphabetical order), at most `max_size` in all.
    #[must_use]
    pub fn build<'a>(kind: VocabKind, texts: impl IntoIterator<Item = &'a str>, max_size: Option<usize>) -> Self {
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for text in texts {
            for token in Self::tokenize(kind, text) {
                *counts.entry(token).or_insert(0) += 1;
            }
        }
        let mut by_count: Vec<(String, usize)> = counts.into_iter().collect();
        by_count.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let mut tokens = vec![PAD.to_owned(), UNK.to_owned()];
        let room = max_size.unwrap_or(usize::MAX).saturating_sub(2);
        tokens.extend(by_count.into_iter().filter(|(t, _)| t != PAD && t != UNK).take(room).map(|(t, _)| t));
        Self::from_tokens(kind, tokens)
    }

    /// Number of tokens.
    #[must_use]
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// Whether the vocabulary is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// The tokens by id.
    #[must_use]
    pub fn tokens(&self) -> &[String] {
        &self.tokens
    }

    /// The id of a token: `<unk>` for unknown ones (or `None` in a vocabulary without it).
    #[must_use]
    pub fn id(&self, token: &str) -> Option<usize> {
        self.ids.get(token).or_else(|| self.ids.get(UNK)).copied()
    }

    /// Token ids of a text, padded with `<pad>` or cut to `len` when given.
    #[must_use]
    pub fn encode(&self, text: &str, len: Option<usize>) -> Vec<usize> {
        let mut ids: Vec<usize> = Self::tokenize(self.kind, text).iter().filter_map(|t| self.id(t)).collect();
        if let Some(len) = len {
            ids.resize(len, self.ids.get(PAD).copied().unwrap_or(0));
        }
        ids
    }

    /// The text of token ids, without padding.
    #[must_use]
    pub fn decode(&self, ids: &[usize]) -> String {
        let sep = if self.kind == VocabKind::Char { "" } else { " " };
        ids.iter().filter_map(|&i| self.tokens.get(i)).filter(|t| *t != PAD).cloned().collect::<Vec<_>>().join(sep)
    }
}

/// The token id a value of a sample stands for: a whole number from 0 below `vocab` (inputs are
/// stored as numbers, token ids among them).
#[must_use]
pub fn token_id(value: f32, vocab: usize) -> Option<usize> {
    (value >= 0.0 && value.fract() == 0.0 && (value as usize) < vocab).then_some(value as usize)
}

/// Which bundled text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TextSource {
    MobyDick,
    FirstNames,
}

/// Character-level language-model samples: `window` characters in, the next character out.
/// Moby-Dick gives `count` windows at seeded random places (lower-cased, whitespace runs as one
/// space); the names give every window of every name, `<pad>` before the start and `.` as the
/// end mark, seeded-shuffled and cut to `count`.
///
/// # Errors
/// Only if the embedded text was corrupted at build time.
pub fn char_windows(
    source: TextSource,
    window: usize,
    count: usize,
    seed: u64,
) -> Result<(Dataset, DatasetInfo), EngineError> {
    let window = window.max(1);
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let (vocab, mut samples): (Vocab, Vec<(Vec<usize>, usize)>) = match source {
        TextSource::MobyDick => {
            let raw = bundled::moby_dick()?;
            let text: String = raw.to_lowercase().split_whitespace().collect::<Vec<_>>().join(" ");
            let vocab = Vocab::build(VocabKind::Char, [text.as_str()], None);
            let ids = vocab.encode(&text, None);
            if window >= ids.len() {
                return Err(EngineError::Data(format!(
                    "a window of {window} characters is longer than the text ({} characters): use a window of at most {}, such as 8",
                    ids.len(),
                    ids.len() - 1
                )));
            }
            let last_start = ids.len().saturating_sub(window + 1);
            let samples = (0..count.min(last_start))
                .map(|_| {
                    let start = rand::Rng::gen_range(&mut rng, 0..last_start.max(1));
                    (ids[start..start + window].to_vec(), ids[start + window])
                })
                .collect();
            (vocab, samples)
        }
        TextSource::FirstNames => {
            let names = bundled::first_names();
            let mut texts: Vec<String> = names.iter().map(|n| format!("{n}.")).collect();
            texts.sort();
            let vocab = Vocab::build(VocabKind::Char, texts.iter().map(String::as_str), None);
            let encoded: Vec<Vec<usize>> = texts.iter().map(|t| vocab.encode(t, None)).collect();
            // Every (name, position) is a window; the kept ones are chosen before any is built,
            // so a long window costs memory for the kept windows only.
            let mut places: Vec<(usize, usize)> =
                encoded.iter().enumerate().flat_map(|(n, ids)| (0..ids.len()).map(move |at| (n, at))).collect();
            places.shuffle(&mut rng);
            places.truncate(count);
            let samples = places
                .into_iter()
                .map(|(n, at)| {
                    let ids = &encoded[n];
                    // `<pad>` (id 0) before the name's start.
                    let context = (0..window).map(|k| (at + k).checked_sub(window).map_or(0, |i| ids[i])).collect();
                    (context, ids[at])
                })
                .collect();
            (vocab, samples)
        }
    };
    samples.shrink_to_fit();
    let inputs = samples.iter().flat_map(|(ctx, _)| ctx.iter().map(|&i| i as f32)).collect();
    let data = Dataset {
        shape: vec![window],
        inputs,
        targets: Targets::Classes(samples.iter().map(|s| s.1).collect()),
        targets_per_sample: 1,
        classes: vocab.tokens().to_vec(),
        features: Vec::new(),
        vocab: Some(vocab),
    };
    Ok((data, bundled::text_info(source == TextSource::MobyDick)))
}
