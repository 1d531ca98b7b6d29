//! The sequence models, trained headless with fixed seeds, printing progress:
//!
//! ```text
//! cargo run --release -p glassbox-engine --example sequence_models [reverse|memory|names|sentiment|all]
//! ```
//!
//! - `reverse`: a 2-block Transformer encoder reverses sequences of 8 symbols out of 10, and one
//!   head's attention map is printed (the anti-diagonal shows).
//! - `memory`: RNN, LSTM and GRU recall the first of 20 (and of 30) symbols at the end.
//! - `names`: a character-level LSTM on the first names writes 10 new ones (temperature 0.8).
//! - `sentiment`: the seed survey's text classifier (Embedding, LSTM 64, dropout, Dense 64 ReLU,
//!   Dense 2) and an Embedding + attention + pooling model on the synthetic reviews, with
//!   negations checked.

use std::time::Instant;

use glassbox_engine::data::{char_windows, sentiment, sequence_task, split, Dataset, SequenceTask, TextSource};
use glassbox_engine::generate::{generate, Generation};
use glassbox_engine::graph::{examples, GraphSpec, LayerSpec, Recurrent};
use glassbox_engine::tensor::{LossSpec, Model, Optimizer, OptimizerSpec};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Trains `graph` on `train` for `epochs` with Adam, printing the test accuracy after each epoch
/// (or every `every` epochs); returns the model and its last test accuracy.
fn train(
    name: &str,
    graph: &GraphSpec,
    (train, test): (&Dataset, &Dataset),
    epochs: u64,
    lr: f64,
    every: u64,
) -> anyhow::Result<(Model, f32)> {
    let mut model = Model::new(graph, 7)?;
    let mut opt = Optimizer::new(OptimizerSpec::adam(lr));
    let all: Vec<usize> = (0..test.len()).collect();
    let test_batch = test.batch(&all);
    let start = Instant::now();
    let mut accuracy = 0.0;
    println!("{name}: {} weights, {} training samples", model.param_count(), train.len());
    for epoch in 1..=epochs {
        let mut loss = 0.0;
        let batches = train.epoch_batches(32, epoch);
        for (i, idx) in batches.iter().enumerate() {
            loss +=
                model.train_step(&train.batch(idx), LossSpec::CrossEntropy, &mut opt, epoch * 100_000 + i as u64)?.loss;
        }
        if epoch % every == 0 || epoch == epochs {
            let stats = model.evaluate(&test_batch, LossSpec::CrossEntropy)?;
            accuracy = stats.accuracy();
            println!(
                "  epoch {epoch:3}  train loss {:.4}  test accuracy {:.4}  ({:.1} s)",
                loss / batches.len() as f32,
                accuracy,
                start.elapsed().as_secs_f32()
            );
        }
    }
    Ok((model, accuracy))
}

fn reverse() -> anyhow::Result<()> {
    let (data, _) = sequence_task(SequenceTask::Reverse, 8, 10, 12_000, 1);
    let (train_set, test_set) = split(&data, 0.1, 2);
    let graph = examples::reverse_transformer();
    let (mut model, accuracy) = train("Transformer, reverse", &graph, (&train_set, &test_set), 3, 3e-3, 1)?;
    println!("reverse: token accuracy {accuracy:.4} (goal >= 0.99)");
    let sample = test_set.sample(0).to_vec();
    let (_, extras) = model.forward_record_all(&sample, 1)?;
    let map = extras.iter().find(|e| e.id == "transformerblock2.attention").ok_or_else(|| anyhow::anyhow!("no map"))?;
    let time = 8;
    // The head whose weight on the mirrored position is largest.
    let head = (0..map.shape[0])
        .max_by(|&a, &b| {
            let mirror = |h: usize| (0..time).map(|i| map.values[(h * time + i) * time + time - 1 - i]).sum::<f32>();
            mirror(a).total_cmp(&mirror(b))
        })
        .unwrap_or(0);
    let tokens: Vec<String> = sample.iter().map(|v| format!("{v:.0}")).collect();
    println!("attention of transformerblock2, head {head}, for the input {} (rows: queries):", tokens.join(" "));
    println!("      {}", tokens.iter().map(|t| format!("{t:>5}")).collect::<String>());
    for (i, t) in tokens.iter().enumerate() {
        let row: String = (0..time).map(|j| format!("{:5.2}", map.values[(head * time + i) * time + j])).collect();
        println!("  {t:>3} {row}");
    }
    Ok(())
}

fn memory() -> anyhow::Result<()> {
    let mut results = Vec::new();
    for length in [20, 30] {
        let (data, _) = sequence_task(SequenceTask::FirstToken, length, 8, 12_000, 3);
        let (train_set, test_set) = split(&data, 0.1, 4);
        for (label, layer) in [
            ("RNN", LayerSpec::Rnn(recurrent(32))),
            ("LSTM", LayerSpec::Lstm(recurrent(32))),
            ("GRU", LayerSpec::Gru(recurrent(32))),
        ] {
            let graph = GraphSpec::sequential(vec![
                LayerSpec::Input { shape: vec![length] },
                LayerSpec::Embedding { vocab: 8, dim: 16 },
                layer,
                LayerSpec::Dense { units: 8, bias: true },
            ]);
            let name = format!("{label}, first of {length}");
            let (_, accuracy) = train(&name, &graph, (&train_set, &test_set), 20, 3e-3, 5)?;
            results.push((label, length, accuracy));
        }
    }
    println!(
        "first-token recall (8 symbols: chance 0.125; goal >= 0.99 for LSTM and GRU), test accuracy after 20 epochs:"
    );
    for (label, length, accuracy) in results {
        println!("  {label:5} over {length} steps: {accuracy:.4}");
    }
    Ok(())
}

fn recurrent(hidden: usize) -> Recurrent {
    Recurrent { hidden, return_sequences: false, bidirectional: false }
}

fn names() -> anyhow::Result<()> {
    let window = 8;
    let (data, _) = char_windows(TextSource::FirstNames, window, 60_000, 5)?;
    let vocab = data.vocab.clone().ok_or_else(|| anyhow::anyhow!("the names have a vocabulary"))?;
    let (train_set, test_set) = split(&data, 0.05, 6);
    let graph = GraphSpec::sequential(vec![
        LayerSpec::Input { shape: vec![window] },
        LayerSpec::Embedding { vocab: vocab.len(), dim: 24 },
        LayerSpec::Lstm(recurrent(128)),
        LayerSpec::Dense { units: vocab.len(), bias: true },
    ]);
    let (mut model, accuracy) = train("LSTM, next character of a name", &graph, (&train_set, &test_set), 6, 3e-3, 1)?;
    println!("names: next-character accuracy {accuracy:.4}; 10 sampled at temperature 0.8:");
    let stop = vocab.id(".");
    for seed in 0..10 {
        let ids = generate(
            &mut model,
            &vocab,
            &Generation { prompt: Vec::new(), max_tokens: 20, temperature: 0.8, stop, seed },
        )?;
        println!("  {}", vocab.decode(&ids).trim_end_matches('.'));
    }
    Ok(())
}

fn sentiment_models() -> anyhow::Result<()> {
    let (data, _) = sentiment(6000, 8);
    let vocab = data.vocab.clone().ok_or_else(|| anyhow::anyhow!("sentiment has a vocabulary"))?;
    let (train_set, test_set) = split(&data, 0.2, 9);
    let words = data.shape[0];
    let seed_survey = examples::lstm_text_classifier(vocab.len(), words);
    let attention = examples::words_attention(vocab.len(), words);
    let probes = [
        ("the plot was good", 1),
        ("the plot was not good", 0),
        ("the acting was not bad", 1),
        ("i did not like the film", 0),
        ("the cast was dull but the music was not very good", 0),
    ];
    for (label, graph) in [("LSTM text classifier", seed_survey), ("attention + pooling", attention)] {
        let (mut model, accuracy) = train(label, &graph, (&train_set, &test_set), 6, 3e-3, 1)?;
        println!("{label}: test accuracy {accuracy:.4} (goal >= 0.95)");
        for (text, want) in probes {
            let ids: Vec<f32> = vocab.encode(text, Some(words)).iter().map(|&i| i as f32).collect();
            let scores = model.predict(&ids, 1)?;
            let got = usize::from(scores[1] > scores[0]);
            let name = |c: usize| if c == 1 { "positive" } else { "negative" };
            let verdict = if got == want { "right" } else { "WRONG" };
            println!("  {text:52} -> {:8} ({verdict})", name(got));
        }
    }
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let which = std::env::args().nth(1).unwrap_or_else(|| "all".to_owned());
    match which.as_str() {
        "reverse" => reverse(),
        "memory" => memory(),
        "names" => names(),
        "sentiment" => sentiment_models(),
        "all" => {
            reverse()?;
            memory()?;
            names()?;
            sentiment_models()
        }
        other => anyhow::bail!("unknown part '{other}': use reverse, memory, names, sentiment or all"),
    }
}
