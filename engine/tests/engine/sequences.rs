//! Sequence models learn their tasks (short versions of `examples/sequence_models.rs`, with fixed
//! seeds): a Transformer reverses, a GRU recalls the first symbol, an LSTM and an attention model
//! read reviews with negation, and sampling with a temperature draws from the model's scores.

use glassbox_engine::data::{sentiment, sequence_task, split, Dataset, SequenceTask, Vocab};
use glassbox_engine::generate::{generate, sample_index, Generation};
use glassbox_engine::graph::{examples, GraphSpec, LayerSpec, Recurrent, SequencePooling};
use glassbox_engine::tensor::{LossSpec, Model, Optimizer, OptimizerSpec};
use rand::SeedableRng as _;

fn trained(graph: &GraphSpec, train: &Dataset, epochs: u64, lr: f64) -> Model {
    let mut model = Model::new(graph, 7).expect("valid");
    let mut opt = Optimizer::new(OptimizerSpec::adam(lr));
    for epoch in 1..=epochs {
        for (i, idx) in train.epoch_batches(32, epoch).iter().enumerate() {
            model
                .train_step(&train.batch(idx), LossSpec::CrossEntropy, &mut opt, epoch * 1000 + i as u64)
                .expect("fits");
        }
    }
    model
}

fn accuracy(model: &mut Model, test: &Dataset) -> f32 {
    let all: Vec<usize> = (0..test.len()).collect();
    model.evaluate(&test.batch(&all), LossSpec::CrossEntropy).expect("fits").accuracy()
}

#[test]
fn a_transformer_learns_to_reverse_and_a_head_attends_to_the_mirrored_position() {
    let (data, _) = sequence_task(SequenceTask::Reverse, 8, 10, 6000, 1);
    let (train, test) = split(&data, 0.1, 2);
    let graph = examples::reverse_transformer();
    let mut model = trained(&graph, &train, 2, 3e-3);
    let acc = accuracy(&mut model, &test);
    assert!(acc >= 0.99, "token accuracy {acc}");
    let (_, extras) = model.forward_record_all(test.sample(0), 1).expect("runs");
    let map = extras.iter().find(|e| e.id == "transformerblock2.attention").expect("kept");
    let mirrored: Vec<f32> =
        (0..4).map(|h| (0..8).map(|i| map.values[(h * 8 + i) * 8 + 7 - i]).sum::<f32>() / 8.0).collect();
    assert!(mirrored.iter().any(|&m| m > 0.8), "some head looks at the mirrored position: {mirrored:?}");
}

#[test]
fn a_gru_recalls_the_first_symbol() {
    let (data, _) = sequence_task(SequenceTask::FirstToken, 12, 6, 6000, 3);
    let (train, test) = split(&data, 0.1, 4);
    let graph = GraphSpec::sequential(vec![
        LayerSpec::Input { shape: vec![12] },
        LayerSpec::Embedding { vocab: 6, dim: 8 },
        LayerSpec::Gru(Recurrent { hidden: 24, return_sequences: false, bidirectional: false }),
        LayerSpec::Dense { units: 6, bias: true },
    ]);
    let mut model = trained(&graph, &train, 8, 3e-3);
    let acc = accuracy(&mut model, &test);
    assert!(acc >= 0.99, "recall accuracy {acc}");
}

fn says_positive(model: &mut Model, vocab: &Vocab, words: usize, text: &str) -> bool {
    let ids: Vec<f32> = vocab.encode(text, Some(words)).iter().map(|&i| i as f32).collect();
    let scores = model.predict(&ids, 1).expect("fits");
    scores[1] > scores[0]
}

#[test]
fn an_lstm_and_an_attention_model_read_reviews_and_get_negation_right() {
    let (data, _) = sentiment(4000, 8);
    let vocab = data.vocab.clone().expect("words");
    let (train, test) = split(&data, 0.2, 9);
    let words = data.shape[0];
    let lstm = examples::lstm_text_classifier(vocab.len(), words);
    let attention = examples::words_attention(vocab.len(), words);
    for (name, graph) in [("LSTM", lstm), ("attention", attention)] {
        let mut model = trained(&graph, &train, 4, 3e-3);
        let acc = accuracy(&mut model, &test);
        assert!(acc >= 0.95, "{name}: test accuracy {acc}");
        assert!(says_positive(&mut model, &vocab, words, "the plot was good"), "{name}");
        assert!(!says_positive(&mut model, &vocab, words, "the plot was not good"), "{name}: 'not good' is negative");
        assert!(says_positive(&mut model, &vocab, words, "the acting was not bad"), "{name}: 'not bad' is positive");
    }
}

#[test]
fn sampling_follows_the_temperature() {
    let scores = [2.0, 1.0, 0.0];
    let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    // Temperature 0 takes the best; temperature 1 draws each class about as often as softmax says.
    assert_eq!(sample_index(&scores, 0.0, &mut rng), 0);
    let mut counts = [0usize; 3];
    for _ in 0..20_000 {
        counts[sample_index(&scores, 1.0, &mut rng)] += 1;
    }
    let e: Vec<f64> = scores.iter().map(|s| f64::from(*s).exp()).collect();
    let total: f64 = e.iter().sum();
    for (c, w) in counts.iter().zip(&e) {
        let want = w / total;
        let got = *c as f64 / 20_000.0;
        assert!((got - want).abs() < 0.015, "{counts:?}");
    }
    // A high temperature flattens the draw.
    let mut hot = [0usize; 3];
    for _ in 0..20_000 {
        hot[sample_index(&scores, 100.0, &mut rng)] += 1;
    }
    assert!(hot.iter().all(|&c| c > 6000), "{hot:?}");
}

#[test]
fn generating_stops_at_the_end_mark_and_refuses_a_model_that_does_not_score_tokens() {
    // An untrained model over a window of 3 tokens of a 4-token vocabulary.
    let vocab = Vocab::symbols(&["<pad>", "a", "b", "."]);
    let graph = GraphSpec::sequential(vec![
        LayerSpec::Input { shape: vec![3] },
        LayerSpec::Embedding { vocab: 4, dim: 4 },
        LayerSpec::Lstm(Recurrent { hidden: 8, return_sequences: false, bidirectional: false }),
        LayerSpec::Dense { units: 4, bias: true },
    ]);
    let mut model = Model::new(&graph, 2).expect("valid");
    for seed in 0..20 {
        let ids = generate(
            &mut model,
            &vocab,
            &Generation { prompt: vec![1], max_tokens: 12, temperature: 1.0, stop: Some(3), seed },
        )
        .expect("generates");
        assert!(!ids.is_empty() && ids.len() <= 12);
        assert!(ids[..ids.len() - 1].iter().all(|&t| t != 3), "stops at the first end mark: {ids:?}");
    }
    let wrong = Vocab::symbols(&["a", "b"]);
    let e = generate(
        &mut model,
        &wrong,
        &Generation { prompt: vec![], max_tokens: 3, temperature: 1.0, stop: None, seed: 0 },
    )
    .expect_err("scores 4 tokens, not 2");
    assert!(e.to_string().contains("each of the 2 tokens"), "{e}");
}

#[test]
fn an_embedding_smaller_than_the_vocabulary_or_numbers_for_tokens_are_refused_before_training() {
    use glassbox_engine::data::{DataSource, DataSpec};
    let splits = DataSpec::new(DataSource::Sentiment { samples: 200, seed: 0 }).build().expect("builds");
    let words = splits.train.shape[0];
    let small = GraphSpec::sequential(vec![
        LayerSpec::Input { shape: vec![words] },
        LayerSpec::Embedding { vocab: 10, dim: 4 },
        LayerSpec::SequencePool { mode: SequencePooling::Mean },
        LayerSpec::Dense { units: 2, bias: true },
    ]);
    let config = glassbox_engine::train::TrainConfig::default();
    let e = glassbox_engine::train::preflight(&small, &config, &splits).expect_err("10 < 66 tokens");
    assert!(
        e.to_string().contains("embedding1 has a vocabulary of 10 tokens, but the data has 66: set its vocab to 66"),
        "{e}"
    );
    let points = DataSpec::new(DataSource::Toy2d {
        pattern: glassbox_engine::data::Pattern2d::Spiral,
        samples: 100,
        noise: 0.1,
        seed: 0,
    })
    .build()
    .expect("builds");
    let on_points = GraphSpec::sequential(vec![
        LayerSpec::Input { shape: vec![2] },
        LayerSpec::Embedding { vocab: 10, dim: 4 },
        LayerSpec::SequencePool { mode: SequencePooling::Mean },
        LayerSpec::Dense { units: 2, bias: true },
    ]);
    let e = glassbox_engine::train::preflight(&on_points, &config, &points).expect_err("points are not token ids");
    assert!(e.to_string().contains("looks up token ids, but the data gives numbers such as"), "{e}");
}
