//! Every template compiles, fits its bundled dataset, and trains: a few steps lower the loss.

use glassbox_engine::graph::infer_shapes;
use glassbox_engine::templates::templates;
use glassbox_engine::tensor::{Model, Optimizer};

#[test]
fn every_template_trains_on_its_dataset() {
    let all = templates();
    assert!(all.len() >= 7, "MLPs, LeNet-5, the small CNN, VGG-style, residual, Inception-style");
    for t in all {
        let report = infer_shapes(&t.graph);
        assert!(report.is_ok(), "{}: {:?}", t.name, report.problems);
        let splits = t.data.build().unwrap_or_else(|e| panic!("{}: its data: {e}", t.name));
        glassbox_engine::train::preflight(&t.graph, &t.training, &splits)
            .unwrap_or_else(|e| panic!("{}: does not fit its data: {e}", t.name));
        let mut model = Model::new(&t.graph, t.training.seed).expect("compiles");
        let mut optimizer = Optimizer::new(t.training.optimizer);
        let batch: Vec<usize> = (0..t.training.batch_size.min(splits.train.len())).collect();
        let batch = splits.train.batch(&batch);
        let first = model.evaluate(&batch, t.training.loss).expect("evaluates").loss;
        for step in 0..8 {
            let stats = model.train_step(&batch, t.training.loss, &mut optimizer, step).expect("a step");
            assert!(stats.loss.is_finite(), "{}: loss {} at step {step}", t.name, stats.loss);
        }
        let after = model.evaluate(&batch, t.training.loss).expect("evaluates").loss;
        assert!(after < first, "{}: 8 steps on one batch did not lower its loss ({first} -> {after})", t.name);
    }
}

#[test]
fn sequence_templates_embed_exactly_their_data_vocabulary() {
    for t in templates() {
        let Some(vocab) = t.graph.nodes.iter().find_map(|n| match n.layer {
            glassbox_engine::graph::LayerSpec::Embedding { vocab, .. } => Some(vocab),
            _ => None,
        }) else {
            continue;
        };
        let splits = t.data.build().expect("builds");
        let want = splits.train.vocab.as_ref().map_or(0, glassbox_engine::data::Vocab::len);
        assert_eq!(vocab, want, "{}: the Embedding's vocabulary", t.name);
    }
}
