//! Datasets: every bundled loader, every generator's properties, tokenisation, the pipeline,
//! and the importers' answers to bad input.

use glassbox_engine::data::sentiment::{HATE, LOVE, NEGATIVE, POSITIVE};
use glassbox_engine::data::{
    bundled_info, char_windows, load_bundled, sentence_of, sentiment, sequence_task, split, toy_2d, Bundled,
    DataSource, DataSpec, Dataset, Normalization, Normalizer, Pattern2d, PipelineSpec, SequenceTask, Targets,
    TextSource, Vocab, VocabKind, PAD, UNK,
};

fn labels(d: &Dataset) -> &[usize] {
    d.labels().expect("a classification set")
}

#[test]
fn mnist_and_fashion_keep_their_bundled_splits() {
    for (which, first_label, pixel, test_first, label_sum) in
        [(Bundled::Mnist, 5, 240, 7, 44_368), (Bundled::FashionMnist, 9, 217, 9, 45_157)]
    {
        let (train, test) = load_bundled(which).expect("embedded files load");
        let test = test.expect("a bundled test split");
        assert_eq!((train.len(), test.len()), (10_000, 2_000));
        assert_eq!(train.shape, vec![1, 28, 28]);
        assert_eq!(train.classes.len(), 10);
        assert_eq!(labels(&train)[0], first_label);
        assert_eq!(labels(&test)[0], test_first);
        assert_eq!(labels(&train).iter().sum::<usize>(), label_sum);
        assert!(labels(&train).iter().all(|&l| l < 10));
        // Pixel (row 14, column 14) of the first image, scaled from bytes.
        assert!((train.sample(0)[14 * 28 + 14] - pixel as f32 / 255.0).abs() < 1e-6);
        assert!(train.inputs.iter().all(|v| (0.0..=1.0).contains(v)));
    }
    assert_eq!(load_bundled(Bundled::FashionMnist).expect("loads").0.classes[9], "Ankle boot");
}

#[test]
fn digits_and_tables() {
    let (digits, none) = load_bundled(Bundled::Digits).expect("loads");
    assert!(none.is_none());
    assert_eq!((digits.len(), digits.shape.clone()), (1797, vec![1, 8, 8]));
    assert!((digits.sample(0)[2] - 5.0 / 16.0).abs() < 1e-6, "first row starts 0,0,5");
    assert_eq!(labels(&digits)[0], 0);
    for (which, n, features, classes, first) in [
        (Bundled::Iris, 150, 4, 3, 5.1),
        (Bundled::Wine, 178, 13, 3, 14.23),
        (Bundled::BreastCancer, 569, 30, 2, 17.99),
    ] {
        let (data, _) = load_bundled(which).expect("loads");
        assert_eq!(data.len(), n, "{which:?}");
        assert_eq!(data.shape, vec![features]);
        assert_eq!(data.features.len(), features, "{which:?} has a name for each feature");
        assert_eq!(data.classes.len(), classes);
        assert!((data.sample(0)[0] - first).abs() < 1e-4);
        assert!(labels(&data).iter().all(|&l| l < classes));
    }
    let (iris, _) = load_bundled(Bundled::Iris).expect("loads");
    assert_eq!(iris.classes, ["setosa", "versicolor", "virginica"]);
    assert_eq!(iris.class_counts(), vec![50, 50, 50]);
}

#[test]
fn every_bundled_set_has_info_and_mnist_is_attributed() {
    for which in Bundled::all() {
        let info = bundled_info(which);
        assert!(
            !info.title.is_empty()
                && !info.source.is_empty()
                && !info.license.is_empty()
                && !info.description.is_empty()
        );
    }
    let mnist = bundled_info(Bundled::Mnist);
    assert!(mnist.license.contains("CC BY-SA 3.0") && mnist.license.contains("LeCun"), "{}", mnist.license);
    assert!(glassbox_engine::data::LICENSES.contains("CC BY-SA 3.0"));
}

#[test]
fn text_windows() {
    let (moby, info) = char_windows(TextSource::MobyDick, 16, 500, 1).expect("loads");
    assert_eq!((moby.len(), moby.shape.clone()), (500, vec![16]));
    let vocab = moby.vocab.as_ref().expect("a vocabulary");
    assert_eq!(vocab.tokens()[0], PAD);
    assert!(vocab.id(" ").is_some_and(|i| i > 1) && vocab.id("e").is_some_and(|i| i > 1));
    assert!(labels(&moby).iter().all(|&l| l < vocab.len()));
    assert!(info.license.contains("ublic domain"));
    let (names, _) = char_windows(TextSource::FirstNames, 3, 100_000, 2).expect("loads");
    let nv = names.vocab.as_ref().expect("a vocabulary");
    // Every name gives len + 1 windows (its letters, then the end mark); 8,422 names.
    assert!(names.len() > 8_422 * 4, "{}", names.len());
    let end = nv.id(".").expect("end mark");
    let first_windows = names.inputs.chunks_exact(3).filter(|w| w.iter().all(|&v| v == 0.0)).count();
    assert_eq!(first_windows, 8_422, "one all-padding window starts each name");
    assert_eq!(labels(&names).iter().filter(|&&l| l == end).count(), 8_422, "one end mark ends each name");
}

#[test]
fn two_d_generators() {
    let classification = [
        Pattern2d::Circle,
        Pattern2d::Xor,
        Pattern2d::Gauss,
        Pattern2d::Spiral,
        Pattern2d::Moons,
        Pattern2d::Blobs { classes: 3 },
    ];
    for pattern in classification {
        let a = toy_2d(pattern, 600, 0.0, 5);
        assert_eq!((a.len(), a.shape.clone()), (600, vec![2]), "{pattern:?}");
        let counts = a.class_counts();
        let expected = 600 / counts.len();
        for c in &counts {
            assert!(c.abs_diff(expected) <= expected / 5, "{pattern:?} is unbalanced: {counts:?}");
        }
        assert!(a == toy_2d(pattern, 600, 0.0, 5), "{pattern:?}: same seed, same data");
        assert!(
            toy_2d(pattern, 600, 0.1, 5).inputs != toy_2d(pattern, 600, 0.1, 6).inputs,
            "{pattern:?}: another seed, other data"
        );
        assert!(a.inputs.iter().all(|v| v.abs() < 8.0), "{pattern:?} stays on the plane");
    }
    // With no noise the classic patterns are exactly separable by their rule.
    let circle = toy_2d(Pattern2d::Circle, 400, 0.0, 1);
    for i in 0..circle.len() {
        let p = circle.sample(i);
        assert_eq!(labels(&circle)[i] == 0, p[0].hypot(p[1]) < 2.5);
    }
    let xor = toy_2d(Pattern2d::Xor, 400, 0.0, 1);
    for i in 0..xor.len() {
        let p = xor.sample(i);
        assert_eq!(labels(&xor)[i] == 0, p[0] * p[1] >= 0.0);
    }
    // Noise moves points.
    assert!(toy_2d(Pattern2d::Spiral, 100, 0.3, 1).inputs != toy_2d(Pattern2d::Spiral, 100, 0.0, 1).inputs);
    for pattern in [Pattern2d::Plane, Pattern2d::GaussianSurface] {
        let r = toy_2d(pattern, 300, 0.0, 2);
        let Targets::Values(v) = &r.targets else { panic!("{pattern:?} is regression") };
        assert_eq!(v.len(), 300);
        assert!(v.iter().all(|x| x.is_finite() && x.abs() <= 1.5));
    }
    let plane = toy_2d(Pattern2d::Plane, 50, 0.0, 3);
    let Targets::Values(v) = &plane.targets else { panic!("regression") };
    for (i, value) in v.iter().enumerate() {
        let p = plane.sample(i);
        assert!((value - (p[0] + p[1]) / 12.0).abs() < 1e-5);
    }
}

#[test]
fn sequence_tasks_compute_what_they_say() {
    for task in SequenceTask::ALL {
        let (d, _) = sequence_task(task, 6, 5, 400, 9);
        assert_eq!(d.len(), 400, "{task:?}");
        let (again, _) = sequence_task(task, 6, 5, 400, 9);
        assert!(d == again, "{task:?}: same seed, same data");
        assert!(d.inputs != sequence_task(task, 6, 5, 400, 10).0.inputs, "{task:?}: another seed");
        let t = d.targets_per_sample;
        for i in 0..d.len() {
            let x: Vec<usize> = d.sample(i).iter().map(|&v| v as usize).collect();
            let y = &labels(&d)[i * t..(i + 1) * t];
            match task {
                SequenceTask::Copy => assert_eq!(y, x.as_slice()),
                SequenceTask::Reverse => assert_eq!(y, x.iter().rev().copied().collect::<Vec<_>>()),
                SequenceTask::Sort => {
                    let mut s = x.clone();
                    s.sort_unstable();
                    assert_eq!(y, s);
                }
                SequenceTask::FirstToken => assert_eq!(y, [x[0]]),
                SequenceTask::Majority => {
                    let count = |s: usize| x.iter().filter(|&&v| v == s).count();
                    assert!((0..5).all(|s| count(s) <= count(y[0])), "{x:?} -> {y:?}");
                }
                SequenceTask::Parity => assert_eq!(y[0], x.iter().sum::<usize>() % 2),
                SequenceTask::Brackets => {
                    let mut depth = 0i32;
                    let mut ok = true;
                    for &s in &x {
                        depth += if s == 0 { 1 } else { -1 };
                        ok &= depth >= 0;
                    }
                    assert_eq!(y[0] == 1, ok && depth == 0, "{x:?}");
                }
                SequenceTask::Addition => {
                    let number = |digits: &[usize]| digits.iter().fold(0u64, |n, &d| n * 10 + d as u64);
                    assert_eq!(x[6], 10, "the + sign sits in the middle");
                    assert_eq!(number(y), number(&x[..6]) + number(&x[7..]));
                }
            }
        }
        if matches!(task, SequenceTask::Parity | SequenceTask::Brackets) {
            assert_eq!(d.class_counts(), vec![200, 200], "{task:?} is balanced");
        }
    }
}

fn polarity(sentence: &str) -> bool {
    let clause = sentence.rsplit(" but ").next().unwrap_or(sentence);
    let words: Vec<&str> = clause.split(' ').collect();
    let positive_words: Vec<&str> = POSITIVE.iter().copied().chain(LOVE.iter().flat_map(|(a, b)| [*a, *b])).collect();
    let negative_words: Vec<&str> = NEGATIVE.iter().copied().chain(HATE.iter().flat_map(|(a, b)| [*a, *b])).collect();
    let word =
        words.iter().rev().find(|w| positive_words.contains(w) || negative_words.contains(w)).expect("a polarity word");
    positive_words.contains(word) != words.contains(&"not")
}

#[test]
fn sentiment_labels_respect_negation_and_contrast() {
    let (d, _) = sentiment(1000, 4);
    assert_eq!(d.class_counts(), vec![500, 500]);
    let mut negated = 0;
    for i in 0..d.len() {
        let text = sentence_of(&d, i);
        assert_eq!(labels(&d)[i] == 1, polarity(&text), "{text}");
        negated += usize::from(text.contains(" not "));
    }
    assert!(negated > 200, "negation is common enough to matter: {negated}");
    assert!((0..d.len()).any(|i| sentence_of(&d, i).contains(" but ")));
    assert!(d == sentiment(1000, 4).0, "same seed, same sentences");
}

#[test]
fn vocabularies() {
    assert_eq!(
        Vocab::tokenize(VocabKind::Word, "Hello, World! It's fine."),
        ["hello", ",", "world", "!", "it's", "fine", "."]
    );
    let v = Vocab::build(VocabKind::Word, ["the cat sat", "the dog"], None);
    assert_eq!(&v.tokens()[..3], [PAD, UNK, "the"], "specials first, then by frequency");
    assert_eq!(v.encode("the bird sat", Some(5)), vec![2, 1, v.id("sat").expect("known"), 0, 0]);
    assert_eq!(v.decode(&v.encode("the cat", Some(4))), "the cat");
    let c = Vocab::build(VocabKind::Char, ["abca"], Some(3));
    assert_eq!(c.tokens(), [PAD, UNK, "a"], "max size keeps the most frequent");
}

#[test]
fn split_is_stratified_disjoint_and_seeded() {
    let (iris, _) = load_bundled(Bundled::Iris).expect("loads");
    let (train, test) = split(&iris, 0.2, 3);
    assert_eq!((train.len(), test.len()), (120, 30));
    assert_eq!(test.class_counts(), vec![10, 10, 10]);
    let key = |s: &[f32]| s.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    let mut all: Vec<Vec<u32>> =
        (0..train.len()).map(|i| key(train.sample(i))).chain((0..test.len()).map(|i| key(test.sample(i)))).collect();
    let mut original: Vec<Vec<u32>> = (0..iris.len()).map(|i| key(iris.sample(i))).collect();
    all.sort();
    original.sort();
    assert_eq!(all, original, "the splits partition the samples");
    assert!(split(&iris, 0.2, 3).1 == test, "same seed, same split");
    assert!(split(&iris, 0.2, 4).1.inputs != test.inputs);
}

#[test]
fn normalisation_uses_training_statistics() {
    let (wine, _) = load_bundled(Bundled::Wine).expect("loads");
    let (mut train, mut test) = split(&wine, 0.25, 1);
    let before_test = test.clone();
    let norm = Normalizer::fit(&train, Normalization::Standardize);
    norm.apply(&mut train);
    norm.apply(&mut test);
    let n = train.len() as f32;
    for f in 0..13 {
        let col: Vec<f32> = (0..train.len()).map(|i| train.sample(i)[f]).collect();
        let mean = col.iter().sum::<f32>() / n;
        let var = col.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / n;
        assert!(mean.abs() < 1e-3 && (var - 1.0).abs() < 1e-2, "feature {f}: mean {mean} var {var}");
    }
    let expected = (before_test.sample(0)[12] - norm.shift[12]) / norm.scale[12];
    assert!((test.sample(0)[12] - expected).abs() < 1e-5, "the test split uses the training statistics");
    let mut unit = split(&wine, 0.25, 1).0;
    Normalizer::fit(&unit, Normalization::UnitRange).apply(&mut unit);
    assert!(unit.inputs.iter().all(|v| (-1e-6..=1.0 + 1e-6).contains(v)));
}

#[test]
fn batches_carry_per_position_targets() {
    let (d, _) = sequence_task(SequenceTask::Reverse, 4, 6, 10, 1);
    let b = d.batch(&[3, 7]);
    assert_eq!(b.len, 2);
    assert_eq!(b.inputs.len(), 8);
    let Targets::Classes(t) = &b.targets else { panic!("classes") };
    assert_eq!(t.len(), 8);
    assert_eq!(t[..4], labels(&d)[12..16]);
    let hot = d.one_hot().expect("token inputs");
    assert_eq!(hot.shape, vec![4, 6]);
    assert!((hot.inputs.iter().sum::<f32>() - 40.0).abs() < 1e-6, "one 1 per position");
}

#[test]
fn data_specs_round_trip_and_rebuild_identically() {
    let specs = [
        DataSpec::new(DataSource::Bundled { name: Bundled::Iris }),
        DataSpec {
            source: DataSource::Toy2d { pattern: Pattern2d::Blobs { classes: 4 }, samples: 200, noise: 0.2, seed: 3 },
            pipeline: PipelineSpec { test_fraction: 0.3, normalization: Normalization::Standardize, seed: 5 },
        },
        DataSpec::new(DataSource::Sequence {
            task: SequenceTask::Addition,
            length: 3,
            vocab: 10,
            samples: 100,
            seed: 1,
        }),
        DataSpec::new(DataSource::Sentiment { samples: 100, seed: 2 }),
        DataSpec::new(DataSource::CharWindows { text: TextSource::FirstNames, window: 4, samples: 300, seed: 1 }),
    ];
    for spec in specs {
        let json = serde_json::to_string(&spec).expect("serialises");
        let back: DataSpec = serde_json::from_str(&json).expect("parses");
        assert_eq!(back, spec, "{json}");
        let a = spec.build().expect("builds");
        let b = back.build().expect("builds");
        assert!(a == b, "{json} builds twice the same");
        assert!(!a.train.is_empty() && !a.test.is_empty(), "{json}");
    }
    let minimal: DataSpec =
        serde_json::from_str(r#"{"source":{"kind":"Toy2d","pattern":"Spiral"}}"#).expect("defaults fill in");
    assert_eq!(minimal.build().expect("builds").train.len(), 400);
}
