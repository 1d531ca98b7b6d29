//! Synthetic sequence tasks over a small vocabulary of symbols, for recurrent and attention
//! models: each sample is a sequence of token ids, with either one class (majority, parity, ...)
//! or one class per output position (copy, reverse, sort, addition).

use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};
use serde::{Deserialize, Serialize};

use super::{Dataset, DatasetInfo, Targets, Vocab};

/// Which task.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SequenceTask {
    /// Output the input sequence.
    Copy,
    /// Output the input backwards.
    Reverse,
    /// Output the input in ascending order.
    Sort,
    /// The most frequent symbol (ties: the smallest).
    Majority,
    /// The first symbol, to be recalled at the end.
    FirstToken,
    /// Whether the number of 1s in a 0/1 sequence is odd.
    Parity,
    /// Whether a sequence of brackets is balanced.
    Brackets,
    /// The digits of `a + b`, for two numbers of `length` digits written `a+b`.
    Addition,
}

impl SequenceTask {
    /// Every task.
    pub const ALL: [Self; 8] = [
        Self::Copy,
        Self::Reverse,
        Self::Sort,
        Self::Majority,
        Self::FirstToken,
        Self::Parity,
        Self::Brackets,
        Self::Addition,
    ];
}

fn symbols(n: usize) -> Vec<String> {
    (0..n).map(|i| i.to_string()).collect()
}

/// Balanced brackets of `len` (even) symbols, as `(` = 0 and `)` = 1.
fn balanced(rng: &mut StdRng, len: usize) -> Vec<usize> {
    let mut out = Vec::with_capacity(len);
    let (mut open, mut left) = (0usize, len / 2);
    while out.len() < len {
        let must_close = left == 0;
        let can_close = open > 0;
        if must_close || (can_close && rng.gen_bool(0.5)) {
            out.push(1);
            open -= 1;
        } else {
            out.push(0);
            open += 1;
            left -= 1;
        }
    }
    out
}

fn is_balanced(seq: &[usize]) -> bool {
    let mut depth = 0i64;
    for &s in seq {
        depth += if s == 0 { 1 } else { -1 };
        if depth < 0 {
            return false;
        }
    }
    depth == 0
}

/// `count` samples of `task` with sequences of `length` symbols out of `vocab_size` (tasks with a
/// fixed alphabet, such as parity and brackets, ignore `vocab_size`), from `seed`.
/// Classification tasks are balanced where the task allows (parity, brackets: half each).
#[must_use]
#[expect(clippy::too_many_lines, reason = "one arm per task reads best as one match")]
pub fn sequence_task(
    task: SequenceTask,
    length: usize,
    vocab_size: usize,
    count: usize,
    seed: u64,
) -> (Dataset, DatasetInfo) {
    let mut rng = StdRng::seed_from_u64(seed);
    let length = length.max(1);
    let v = vocab_size.clamp(2, 100);
    let mut inputs: Vec<usize> = Vec::new();
    let mut targets: Vec<usize> = Vec::new();
    let random_seq =
        |rng: &mut StdRng, n: usize, v: usize| -> Vec<usize> { (0..n).map(|_| rng.gen_range(0..v)).collect() };
    let (shape, per_sample, classes, vocab, what) = match task {
        SequenceTask::Copy | SequenceTask::Reverse | SequenceTask::Sort => {
            for _ in 0..count {
                let seq = random_seq(&mut rng, length, v);
                let mut out = seq.clone();
                match task {
                    SequenceTask::Reverse => out.reverse(),
                    SequenceTask::Sort => out.sort_unstable(),
                    _ => {}
                }
                inputs.extend(seq);
                targets.extend(out);
            }
            let name = match task {
                SequenceTask::Copy => "copy the sequence",
                SequenceTask::Reverse => "reverse the sequence",
                _ => "sort the sequence",
            };
            (
                vec![length],
                length,
                symbols(v),
                Vocab::symbols(&symbols(v).iter().map(String::as_str).collect::<Vec<_>>()),
                name,
            )
        }
        SequenceTask::Majority | SequenceTask::FirstToken => {
            for _ in 0..count {
                let seq = random_seq(&mut rng, length, v);
                let label = if task == SequenceTask::FirstToken {
                    seq[0]
                } else {
                    let mut counts = vec![0usize; v];
                    for &s in &seq {
                        counts[s] += 1;
                    }
                    let best = counts.iter().copied().max().unwrap_or(0);
                    counts.iter().position(|&c| c == best).unwrap_or(0)
                };
                inputs.extend(seq);
                targets.push(label);
            }
            let name = if task == SequenceTask::Majority {
                "find the most frequent symbol"
            } else {
                "recall the first symbol"
            };
            (
                vec![length],
                1,
                symbols(v),
                Vocab::symbols(&symbols(v).iter().map(String::as_str).collect::<Vec<_>>()),
                name,
            )
        }
        SequenceTask::Parity => {
            for i in 0..count {
                let mut seq = random_seq(&mut rng, length, 2);
                let want = i % 2;
                if seq.iter().sum::<usize>() % 2 != want {
                    let at = rng.gen_range(0..length);
                    seq[at] = 1 - seq[at];
                }
                inputs.extend(seq);
                targets.push(want);
            }
            (
                vec![length],
                1,
                vec!["even".into(), "odd".into()],
                Vocab::symbols(&["0", "1"]),
                "is the number of 1s odd?",
            )
        }
        SequenceTask::Brackets => {
            let len = (length / 2 * 2).max(2);
            for i in 0..count {
                let mut seq = balanced(&mut rng, len);
                let want_balanced = i % 2 == 0;
                if !want_balanced {
                    // Break it: swap two different symbols, or flip one, until it is unbalanced.
                    while is_balanced(&seq) {
                        let at = rng.gen_range(0..len);
                        seq[at] = 1 - seq[at];
                    }
                }
                inputs.extend(seq);
                targets.push(usize::from(want_balanced));
            }
            (
                vec![len],
                1,
                vec!["unbalanced".into(), "balanced".into()],
                Vocab::symbols(&["(", ")"]),
                "are the brackets balanced?",
            )
        }
        SequenceTask::Addition => {
            let digits = length.min(9);
            let plus = 10;
            let limit = 10u64.pow(u32::try_from(digits).unwrap_or(9));
            for _ in 0..count {
                let (a, b) = (rng.gen_range(0..limit), rng.gen_range(0..limit));
                let write = |n: u64, width: usize| -> Vec<usize> {
                    format!("{n:0width$}").bytes().map(|c| usize::from(c - b'0')).collect()
                };
                inputs.extend(write(a, digits));
                inputs.push(plus);
                inputs.extend(write(b, digits));
                targets.extend(write(a + b, digits + 1));
            }
            let mut vocab: Vec<String> = symbols(10);
            vocab.push("+".into());
            (
                vec![2 * digits + 1],
                digits + 1,
                symbols(10),
                Vocab::symbols(&vocab.iter().map(String::as_str).collect::<Vec<_>>()),
                "add two numbers, digit by digit",
            )
        }
    };
    let data = Dataset {
        shape,
        inputs: inputs.into_iter().map(|i| i as f32).collect(),
        targets: Targets::Classes(targets),
        targets_per_sample: per_sample,
        classes,
        features: Vec::new(),
        vocab: Some(vocab),
    };
    let info = DatasetInfo {
        title: format!("Sequence task: {what}"),
        source: "Generated by Glassbox from a seed".into(),
        license: "Generated data, no license needed".into(),
        description: format!("{count} sequences of token ids; the task: {what}."),
    };
    (data, info)
}
