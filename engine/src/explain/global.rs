//! The whole test set of a table at once: permutation feature importance (how much accuracy
//! drops when one feature's column is shuffled), the mean |SHAP value| per feature, and a
//! shallow decision tree fitted to the model's own answers (a surrogate, drawn as the model's
//! logic in a few questions), with its fidelity to the model measured on the test set.

use linfa::prelude::*;
use linfa_trees::DecisionTree;
use ndarray::{Array1, Array2};
use rand::seq::SliceRandom as _;

use super::{argmax, explain, Baseline, InputKind, Method, Reference, Scorer, Settings, Watch};
use crate::data::Dataset;
use crate::EngineError;

/// What the global view is asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GlobalSettings {
    /// Shuffles per feature for the permutation importance.
    pub repeats: usize,
    /// Test samples whose Kernel SHAP values are averaged (the first ones), and the coalitions
    /// each.
    pub shap_samples: usize,
    pub shap_coalitions: usize,
    /// The surrogate tree's depth.
    pub depth: usize,
    pub seed: u64,
}

impl Default for GlobalSettings {
    fn default() -> Self {
        Self { repeats: 5, shap_samples: 40, shap_coalitions: 400, depth: 3, seed: 0 }
    }
}

/// One node of the surrogate tree, in the order a depth-first walk meets them.
#[derive(Clone, Debug, PartialEq)]
pub enum TreeNode {
    /// `feature < threshold` goes to `left`, the rest to `right` (indices into the nodes).
    Split { feature: usize, threshold: f64, left: usize, right: usize },
    /// The class the tree answers here.
    Leaf { class: usize },
}

/// A shallow tree that imitates the model.
#[derive(Clone, Debug, PartialEq)]
pub struct SurrogateTree {
    pub nodes: Vec<TreeNode>,
    /// The share of test samples on which the tree gives the model's class.
    pub fidelity: f32,
    /// The share on which it gives the true class (the model's own accuracy is beside it).
    pub accuracy: f32,
}

impl SurrogateTree {
    /// The tree's class for one sample.
    #[must_use]
    pub fn predict(&self, x: &[f32]) -> usize {
        let mut at = 0;
        loop {
            match self.nodes.get(at) {
                Some(TreeNode::Split { feature, threshold, left, right }) => {
                    at = if f64::from(x[*feature]) < *threshold { *left } else { *right };
                }
                Some(TreeNode::Leaf { class }) => return *class,
                None => return 0,
            }
        }
    }
}

/// The global view of a table.
#[derive(Clone, Debug, PartialEq)]
pub struct GlobalView {
    /// The model's accuracy on the test set.
    pub accuracy: f32,
    /// Per feature: the mean drop of test accuracy when its column is shuffled.
    pub permutation: Vec<f32>,
    /// Per feature: the mean |Kernel SHAP value| of the predicted class over the first test samples.
    pub mean_abs_shap: Vec<f32>,
    pub tree: SurrogateTree,
}

/// Works out the global view of a model of a table.
///
/// # Errors
/// A model that does not read a table, a test set without labels, or [`EngineError::Cancelled`].
pub fn global_view(
    model: &mut dyn Scorer,
    train: &Dataset,
    test: &Dataset,
    settings: GlobalSettings,
    watch: Watch<'_>,
) -> Result<GlobalView, EngineError> {
    let InputKind::Table { features } = model.input_kind() else {
        return Err(EngineError::Settings(
            "the whole-test-set view is for tables of features (not images or text)".to_owned(),
        ));
    };
    let (Some(labels), Some(train_labels)) = (test.labels(), train.labels()) else {
        return Err(EngineError::Settings("the whole-test-set view needs classes to predict".to_owned()));
    };
    if test.is_empty() || labels.len() != test.len() || train_labels.len() != train.len() {
        return Err(EngineError::Settings("the whole-test-set view needs one class per test sample".to_owned()));
    }
    let n = test.len();
    let classes_of = |model: &mut dyn Scorer, inputs: &[f32]| -> Result<Vec<usize>, EngineError> {
        let out = model.predict(inputs, inputs.len() / features)?;
        Ok(out.chunks_exact(out.len() / (inputs.len() / features)).map(argmax).collect())
    };
    let accuracy_of =
        |predicted: &[usize]| predicted.iter().zip(labels).filter(|(p, l)| p == l).count() as f32 / n as f32;
    let predicted = classes_of(model, &test.inputs)?;
    let accuracy = accuracy_of(&predicted);
    let steps = (features * settings.repeats + settings.shap_samples.min(n)).max(1) as f32;
    let mut done = 0.0f32;

    let mut rng = super::rng(settings.seed);
    let mut permutation = vec![0.0f32; features];
    for (j, drop) in permutation.iter_mut().enumerate() {
        for _ in 0..settings.repeats {
            let mut order: Vec<usize> = (0..n).collect();
            order.shuffle(&mut rng);
            let mut shuffled = test.inputs.clone();
            for (row, &from) in order.iter().enumerate() {
                shuffled[row * features + j] = test.inputs[from * features + j];
            }
            *drop += (accuracy - accuracy_of(&classes_of(model, &shuffled)?)) / settings.repeats as f32;
            done += 1.0;
            if !watch(done / steps) {
                return Err(EngineError::Cancelled);
            }
        }
    }

    let reference = Reference::of(train);
    let mut mean_abs_shap = vec![0.0f32; features];
    let count = settings.shap_samples.min(n);
    for (i, &class) in predicted.iter().enumerate().take(count) {
        let shap = Settings {
            target: Some(class),
            baseline: Baseline::Mean,
            samples: settings.shap_coalitions,
            seed: settings.seed.wrapping_add(i as u64),
            ..Settings::of(Method::KernelShap)
        };
        let a = explain(model, test.sample(i), &shap, &reference, &mut |_| true)?;
        for (m, v) in mean_abs_shap.iter_mut().zip(&a.values) {
            *m += v.abs() / count as f32;
        }
        done += 1.0;
        if !watch(done / steps) {
            return Err(EngineError::Cancelled);
        }
    }

    let tree = surrogate(model, train, test, (&predicted, labels), settings.depth)?;
    Ok(GlobalView { accuracy, permutation, mean_abs_shap, tree })
}

/// A tree of `depth` fitted to the model's classes of the training samples, scored on the test
/// set against the model's classes (fidelity) and the true ones.
fn surrogate(
    model: &mut dyn Scorer,
    train: &Dataset,
    test: &Dataset,
    (predicted, labels): (&[usize], &[usize]),
    depth: usize,
) -> Result<SurrogateTree, EngineError> {
    let features = train.sample_len();
    let out = model.predict(&train.inputs, train.len())?;
    let teacher: Vec<usize> = out.chunks_exact(out.len() / train.len()).map(argmax).collect();
    let records = Array2::from_shape_fn((train.len(), features), |(i, j)| f64::from(train.inputs[i * features + j]));
    let data = linfa::Dataset::new(records, Array1::from(teacher));
    let fitted = DecisionTree::params()
        .max_depth(Some(depth.max(1)))
        .fit(&data)
        .map_err(|e| EngineError::Settings(format!("the surrogate tree cannot be fitted: {e}")))?;
    let mut nodes = Vec::new();
    flatten(fitted.root_node(), &mut nodes);
    let mut tree = SurrogateTree { nodes, fidelity: 0.0, accuracy: 0.0 };
    let answers: Vec<usize> = (0..test.len()).map(|i| tree.predict(test.sample(i))).collect();
    debug_assert_eq!(
        answers,
        fitted
            .predict(&Array2::from_shape_fn((test.len(), features), |(i, j)| f64::from(test.inputs[i * features + j])))
            .to_vec(),
        "the flattened tree answers as linfa's"
    );
    let share = |other: &[usize]| {
        answers.iter().zip(other).filter(|(a, b)| a == b).count() as f32 / answers.len().max(1) as f32
    };
    tree.fidelity = share(predicted);
    tree.accuracy = share(labels);
    Ok(tree)
}

/// Appends `node` and its subtree depth first; returns its index.
fn flatten(node: &linfa_trees::TreeNode<f64, usize>, out: &mut Vec<TreeNode>) -> usize {
    let at = out.len();
    out.push(TreeNode::Leaf { class: node.prediction().unwrap_or_default() });
    if let [Some(left), Some(right)] = node.children().as_slice() {
        if !node.is_leaf() {
            let (feature, threshold, _) = node.split();
            let left = flatten(left, out);
            let right = flatten(right, out);
            out[at] = TreeNode::Split { feature, threshold, left, right };
        }
    }
    at
}
