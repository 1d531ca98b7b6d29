//! Looking inside a model, as plain data the cells draw and `glassbox inspect` writes: every
//! node's output for a sample, the fraction of dead ReLU units per layer, the gradient norm per
//! layer, and a model's prediction over a grid of the plane (the decision boundary of a 2-D set).
//! Nothing here draws; nothing here holds a tensor.

use std::collections::BTreeMap;

use crate::graph::LayerKind;
use crate::tensor::{Model, NodeOutput};
use crate::EngineError;

/// Every node's output for one sample, by node id, each with its per-sample shape; then what
/// layers keep besides their outputs (`<node id>.attention`, `[heads, time, time]`, for every
/// attention layer; `<node id>.hidden` and the gates, `[time, units]`, for every recurrent layer).
///
/// # Errors
/// When the sample does not fit the model's input.
pub fn activations(model: &mut Model, sample: &[f32]) -> Result<Vec<NodeOutput>, EngineError> {
    let (mut outputs, extras) = model.forward_record_all(sample, 1)?;
    outputs.extend(extras);
    Ok(outputs)
}

/// Named tensors (per-sample shape and values) as safetensors bytes.
///
/// # Errors
/// When a tensor's values do not fill its shape.
pub fn tensors_to_bytes(outputs: &[NodeOutput]) -> Result<Vec<u8>, EngineError> {
    let data: Vec<(String, Vec<usize>, Vec<u8>)> = outputs
        .iter()
        .map(|o| (o.id.clone(), o.shape.clone(), o.values.iter().flat_map(|v| v.to_le_bytes()).collect()))
        .collect();
    let views: Result<Vec<(String, safetensors::tensor::TensorView<'_>)>, _> = data
        .iter()
        .map(|(name, shape, bytes)| {
            safetensors::tensor::TensorView::new(safetensors::Dtype::F32, shape.clone(), bytes)
                .map(|v| (name.clone(), v))
        })
        .collect();
    let views = views.map_err(|e| EngineError::Internal(format!("activations: {e}")))?;
    safetensors::serialize(views, &None).map_err(|e| EngineError::Internal(format!("activations: {e}")))
}

/// For every ReLU node, the fraction of its units that are zero for every one of `count`
/// samples (dead: no gradient flows through them), from the outputs of [`Model::forward_record`].
#[must_use]
pub fn dead_relu_fractions(model: &Model, outputs: &[NodeOutput], count: usize) -> BTreeMap<String, f32> {
    let spec = model.spec();
    outputs
        .iter()
        .filter(|o| spec.node(&o.id).is_some_and(|n| n.layer.kind() == LayerKind::Relu))
        .filter_map(|o| {
            let units: usize = o.shape.iter().product();
            if units == 0 || count == 0 || o.values.len() != units * count {
                return None;
            }
            let dead = (0..units).filter(|&u| (0..count).all(|s| o.values[s * units + u] <= 0.0)).count();
            Some((o.id.clone(), dead as f32 / units as f32))
        })
        .collect()
}

/// The node a parameter tensor belongs to: `dense1` for `dense1.weight`.
#[must_use]
pub fn param_node(name: &str) -> &str {
    name.rsplit_once('.').map_or(name, |(node, _)| node)
}

/// Per-tensor L2 norms (`N` of them a tensor) taken together by layer: each layer's is the root
/// of the sum of its tensors' squares. Layers in the order their first tensor comes.
#[must_use]
pub fn norms_by_layer<'a, const N: usize>(
    tensors: impl IntoIterator<Item = (&'a str, [f32; N])>,
) -> Vec<(String, [f32; N])> {
    let mut layers: Vec<(String, [f64; N])> = Vec::new();
    for (name, norms) in tensors {
        let node = param_node(name);
        let index = layers.iter().position(|(n, _)| n == node).unwrap_or_else(|| {
            layers.push((node.to_owned(), [0.0; N]));
            layers.len() - 1
        });
        for (sum, v) in layers[index].1.iter_mut().zip(norms) {
            *sum += f64::from(v) * f64::from(v);
        }
    }
    layers.into_iter().map(|(node, sums)| (node, sums.map(|s| s.sqrt() as f32))).collect()
}

/// The L2 norm of each layer's parameter gradients together (`<node>.<param>` names grouped by
/// node), from [`Model::gradients`]'s report.
#[must_use]
pub fn gradient_norms(gradients: &BTreeMap<String, Vec<f32>>) -> BTreeMap<String, f32> {
    let per_tensor = gradients.iter().map(|(name, values)| {
        (name.as_str(), [values.iter().map(|&g| f64::from(g) * f64::from(g)).sum::<f64>().sqrt() as f32])
    });
    norms_by_layer(per_tensor).into_iter().map(|(node, [norm])| (node, norm)).collect()
}

/// Points per forward pass over a grid: small enough that a layer's outputs stay in the cache
/// (512 points of a 2-24-24-2 tanh MLP took 3.6 ms for 10,000 points where 4096 took 5.2).
const GRID_CHUNK: usize = 512;

/// A square grid over the plane, `n` by `n` points from `low` to `high` on both axes, row by row
/// from the bottom (y = low) up: where a 2-D set's decision boundary is drawn.
#[must_use]
pub fn grid_points(low: [f32; 2], high: [f32; 2], n: usize) -> Vec<f32> {
    let step = |lo: f32, hi: f32, i: usize| if n > 1 { lo + (hi - lo) * i as f32 / (n - 1) as f32 } else { lo };
    let mut points = Vec::with_capacity(n * n * 2);
    for row in 0..n {
        for col in 0..n {
            points.push(step(low[0], high[0], col));
            points.push(step(low[1], high[1], row));
        }
    }
    points
}

/// The model's output at every point of [`grid_points`]: `n * n` rows of the output's width.
///
/// # Errors
/// When the model does not take 2-D points.
pub fn decision_grid(model: &mut Model, low: [f32; 2], high: [f32; 2], n: usize) -> Result<Vec<f32>, EngineError> {
    if model.input_shape() != [2] {
        return Err(EngineError::Batch(format!(
            "a decision boundary is drawn for models that take points of the plane ([2]); this one takes {}",
            crate::graph::shape_text(model.input_shape())
        )));
    }
    let points = grid_points(low, high, n);
    // In chunks, so a fine grid does not build one huge batch (and each chunk stays in the cache).
    let mut out = Vec::new();
    for chunk in points.chunks(2 * GRID_CHUNK) {
        out.extend(model.predict(chunk, chunk.len() / 2)?);
    }
    Ok(out)
}

/// Every node's output at every point of [`grid_points`] (`n * n` samples each, in evaluation
/// order, the model's output last): each neuron's response over the plane.
///
/// # Errors
/// When the model does not take 2-D points.
pub fn grid_activations(
    model: &mut Model,
    low: [f32; 2],
    high: [f32; 2],
    n: usize,
) -> Result<Vec<NodeOutput>, EngineError> {
    if model.input_shape() != [2] {
        return Err(EngineError::Batch(format!(
            "responses over the plane are drawn for models that take points of the plane ([2]); this one takes {}",
            crate::graph::shape_text(model.input_shape())
        )));
    }
    let points = grid_points(low, high, n);
    let mut all: Vec<NodeOutput> = Vec::new();
    for chunk in points.chunks(2 * GRID_CHUNK) {
        let part = model.forward_record(chunk, chunk.len() / 2)?;
        if all.is_empty() {
            all = part;
        } else {
            for (whole, more) in all.iter_mut().zip(part) {
                whole.values.extend(more.values);
            }
        }
    }
    Ok(all)
}

/// Gradient norms past this are exploding.
pub const EXPLODING_GRADIENT: f32 = 100.0;
/// The first layer's gradient this many times smaller than the last layer's is vanishing.
pub const VANISHING_RATIO: f32 = 1e-3;
/// Healthy steps move weights by about 1e-3 of their size; past 1e-1 is too fast, under 1e-6
/// hardly moves.
pub const UPDATE_TOO_LARGE: f32 = 1e-1;
pub const UPDATE_TOO_SMALL: f32 = 1e-6;
/// A ReLU layer with at least this share of dead units is warned about.
pub const DEAD_RELUS: f32 = 0.5;

/// What is out of the healthy range, in words, for a student: exploding or vanishing gradients,
/// updates far too large or too small for the weights, mostly dead ReLU layers. `layers` in the
/// graph's order (one step's measurements), `dead_relus` by ReLU node.
#[must_use]
pub fn health_warnings(layers: &[crate::train::LayerHealth], dead_relus: &BTreeMap<String, f32>) -> Vec<String> {
    let r = |v: f32| crate::train::readable(f64::from(v));
    let mut warnings = Vec::new();
    for l in layers {
        if !l.grad_norm.is_finite() || l.grad_norm > EXPLODING_GRADIENT {
            warnings.push(format!(
                "Exploding gradients at {}: its gradient norm is {} (healthy ones are around 0.01 to 10). Lower the learning rate, or add batch normalisation.",
                l.node,
                r(l.grad_norm)
            ));
        }
    }
    if let (Some(first), Some(last)) = (layers.first(), layers.last()) {
        if layers.len() >= 3 && last.grad_norm > 0.0 && first.grad_norm < VANISHING_RATIO * last.grad_norm {
            warnings.push(format!(
                "Vanishing gradients: {} (the first layer with weights) gets a gradient {} times smaller than {} (the last), so the early layers barely learn. ReLU instead of sigmoid or tanh, batch normalisation, or fewer layers help.",
                first.node,
                r(last.grad_norm / first.grad_norm.max(f32::MIN_POSITIVE)),
                last.node
            ));
        }
    }
    for l in layers {
        let ratio = l.update_ratio();
        if l.weight_norm > 0.0 && ratio > UPDATE_TOO_LARGE {
            warnings.push(format!(
                "{}: one step changes its weights by {}% of their size (healthy is about 0.1%). The learning rate is probably too high.",
                l.node,
                r(ratio * 100.0)
            ));
        } else if l.weight_norm > 0.0 && ratio < UPDATE_TOO_SMALL {
            warnings.push(format!(
                "{}: its weights hardly move (a step changes them by {} of their size; healthy is about 0.001). The learning rate may be too low, or its gradients vanish.",
                l.node,
                r(ratio)
            ));
        }
    }
    for (node, &dead) in dead_relus {
        if dead >= DEAD_RELUS {
            warnings.push(format!(
                "{node}: {:.0}% of its ReLU units are dead (zero for every one of the probe's training samples), so no gradient flows through them. A lower learning rate, LeakyReLU, or a better initialisation helps.",
                dead * 100.0
            ));
        }
    }
    warnings
}

/// The rows of a `[rows, cols]` table (an embedding's token vectors) projected on their first
/// two principal components: each row's two coordinates, and the share of the variance each
/// component explains. Components come from power iteration on the covariance (in f64); each
/// one's sign is chosen so that its largest entry is positive, so the picture does not flip
/// between two moments of training for no reason.
#[must_use]
pub fn principal_plane(values: &[f32], rows: usize, cols: usize) -> (Vec<[f32; 2]>, [f32; 2]) {
    if rows == 0 || cols == 0 || values.len() < rows * cols {
        return (Vec::new(), [0.0; 2]);
    }
    let mean: Vec<f64> =
        (0..cols).map(|c| (0..rows).map(|r| f64::from(values[r * cols + c])).sum::<f64>() / rows as f64).collect();
    let centred: Vec<f64> = (0..rows * cols).map(|i| f64::from(values[i]) - mean[i % cols]).collect();
    let mut cov = vec![0.0f64; cols * cols];
    for row in centred.chunks_exact(cols) {
        for i in 0..cols {
            for j in i..cols {
                cov[i * cols + j] += row[i] * row[j];
            }
        }
    }
    for i in 0..cols {
        for j in 0..i {
            cov[i * cols + j] = cov[j * cols + i];
        }
    }
    let total: f64 = (0..cols).map(|i| cov[i * cols + i]).sum();
    let mut components: Vec<Vec<f64>> = Vec::new();
    let mut shares = [0.0f32; 2];
    for (k, share) in shares.iter_mut().enumerate().take(cols) {
        // Start away from the components found so far, then iterate.
        let mut v: Vec<f64> = (0..cols).map(|i| 1.0 + ((i * 7 + k * 3) % 11) as f64 / 10.0).collect();
        let mut eigen = 0.0;
        for _ in 0..300 {
            for c in &components {
                let dot: f64 = v.iter().zip(c).map(|(a, b)| a * b).sum();
                for (a, b) in v.iter_mut().zip(c) {
                    *a -= dot * b;
                }
            }
            let next: Vec<f64> = (0..cols).map(|i| (0..cols).map(|j| cov[i * cols + j] * v[j]).sum()).collect();
            let length = next.iter().map(|a| a * a).sum::<f64>().sqrt();
            if length < 1e-300 {
                break;
            }
            eigen = length;
            v = next.into_iter().map(|a| a / length).collect();
        }
        let largest = v.iter().copied().fold(0.0f64, |m, a| if a.abs() > m.abs() { a } else { m });
        if largest < 0.0 {
            v.iter_mut().for_each(|a| *a = -*a);
        }
        *share = if total > 0.0 { (eigen / total) as f32 } else { 0.0 };
        components.push(v);
    }
    let points = centred
        .chunks_exact(cols)
        .map(|row| {
            let along =
                |k: usize| components.get(k).map_or(0.0, |c| row.iter().zip(c).map(|(a, b)| a * b).sum::<f64>());
            [along(0) as f32, along(1) as f32]
        })
        .collect();
    (points, shares)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::{GraphSpec, LayerSpec};

    /// A 2-2-2 ReLU network with weights set by hand.
    fn tiny() -> Model {
        let g = GraphSpec::sequential(vec![
            LayerSpec::Input { shape: vec![2] },
            LayerSpec::Dense { units: 2, bias: true },
            LayerSpec::Relu,
            LayerSpec::Dense { units: 2, bias: true },
        ]);
        let mut m = Model::new(&g, 0).expect("compiles");
        // Dense weights are [in, out]: unit 0 = x0 - x1, unit 1 = -x0 - x1 - 10 (always dead here).
        m.set_weight("dense1.weight", &[1.0, -1.0, -1.0, -1.0]).expect("fits");
        m.set_weight("dense1.bias", &[0.0, -10.0]).expect("fits");
        m.set_weight("dense2.weight", &[2.0, 0.0, 0.0, 1.0]).expect("fits");
        m.set_weight("dense2.bias", &[0.5, 0.0]).expect("fits");
        m
    }

    #[test]
    fn activations_equal_a_forward_pass_by_hand() {
        let mut m = tiny();
        let outs = activations(&mut m, &[3.0, 1.0]).expect("runs");
        let by_id: BTreeMap<&str, &NodeOutput> = outs.iter().map(|o| (o.id.as_str(), o)).collect();
        // dense1: [3 - 1, -3 - 1 - 10] = [2, -14]; relu: [2, 0]; dense2: [2*2 + 0.5, 0] = [4.5, 0].
        assert_eq!(by_id["dense1"].values, [2.0, -14.0]);
        assert_eq!(by_id["relu1"].values, [2.0, 0.0]);
        assert_eq!(by_id["dense2"].values, [4.5, 0.0]);
        assert_eq!(by_id["input"].values, [3.0, 1.0]);
        let bytes = tensors_to_bytes(&outs).expect("serialises");
        let file = safetensors::SafeTensors::deserialize(&bytes).expect("reads back");
        let relu = file.tensor("relu1").expect("named by node id");
        assert_eq!(relu.shape(), [2]);
        assert_eq!(relu.data(), [2.0f32, 0.0].iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<u8>>().as_slice());
    }

    #[test]
    fn dead_relus_and_gradient_norms_match_direct_computation() {
        let mut m = tiny();
        // Three samples: unit 1 is dead for all; unit 0 is alive for the first two.
        let xs = [3.0, 1.0, 5.0, 0.0, -1.0, 2.0];
        let outs = m.forward_record(&xs, 3).expect("runs");
        let dead = dead_relu_fractions(&m, &outs, 3);
        assert_eq!(dead.len(), 1);
        assert!((dead["relu1"] - 0.5).abs() < 1e-6, "{dead:?}");
        let grads = BTreeMap::from([
            ("dense1.weight".to_owned(), vec![3.0, 0.0, 0.0, 0.0]),
            ("dense1.bias".to_owned(), vec![4.0, 0.0]),
            ("dense2.weight".to_owned(), vec![1.0, 1.0, 1.0, 1.0]),
        ]);
        let norms = gradient_norms(&grads);
        assert!((norms["dense1"] - 5.0).abs() < 1e-6, "sqrt(9 + 16): {norms:?}");
        assert!((norms["dense2"] - 2.0).abs() < 1e-6);
    }

    #[test]
    fn health_warnings_name_what_is_out_of_range() {
        use crate::train::LayerHealth;
        let layer = |node: &str, grad: f32, weight: f32, update: f32| LayerHealth {
            node: node.to_owned(),
            grad_norm: grad,
            weight_norm: weight,
            update_norm: update,
        };
        let healthy =
            [layer("dense1", 0.5, 4.0, 0.004), layer("dense2", 0.8, 3.0, 0.003), layer("dense3", 1.0, 2.0, 0.002)];
        assert!(health_warnings(&healthy, &BTreeMap::from([("relu1".to_owned(), 0.1)])).is_empty());
        let sick =
            [layer("dense1", 1e-5, 4.0, 1e-9), layer("dense2", 0.8, 3.0, 0.9), layer("dense3", 500.0, 2.0, 0.002)];
        let warnings = health_warnings(&sick, &BTreeMap::from([("relu2".to_owned(), 0.75)]));
        let all = warnings.join("\n");
        assert!(all.contains("Exploding gradients at dense3"), "{all}");
        assert!(all.contains("Vanishing gradients: dense1"), "{all}");
        assert!(all.contains("dense2: one step changes its weights by 30%"), "{all}");
        assert!(all.contains("dense1: its weights hardly move"), "{all}");
        assert!(all.contains("relu2: 75% of its ReLU units are dead"), "{all}");
        assert_eq!(warnings.len(), 5);
    }

    #[test]
    fn the_decision_grid_equals_predict_on_the_same_points() {
        let mut m = tiny();
        let grid = decision_grid(&mut m, [-2.0, -1.0], [2.0, 3.0], 5).expect("runs");
        let points = grid_points([-2.0, -1.0], [2.0, 3.0], 5);
        assert_eq!(points.len(), 50);
        assert_eq!(&points[..4], [-2.0, -1.0, -1.0, -1.0], "row by row from the bottom");
        assert_eq!(&points[48..], [2.0, 3.0]);
        let direct = m.predict(&points, 25).expect("runs");
        assert_eq!(grid, direct);
        // One point by hand: (2, -1): dense1 = [3, -11], relu = [3, 0], out = [6.5, 0].
        assert_eq!(&grid[2 * 4..2 * 4 + 2], [6.5, 0.0]);
        let mut image =
            Model::new(&GraphSpec::sequential(vec![LayerSpec::Input { shape: vec![1, 2, 2] }, LayerSpec::Flatten]), 0)
                .expect("compiles");
        assert!(decision_grid(&mut image, [0.0; 2], [1.0; 2], 3).is_err());
    }

    #[test]
    fn the_principal_plane_finds_the_directions_of_most_spread() {
        // Points spread 3 along (1, 1, 0)/sqrt 2 and 1 along z, around (5, 5, 5).
        let mut values = Vec::new();
        for (a, b) in [(3.0f32, 0.0f32), (-3.0, 0.0), (0.0, 1.0), (0.0, -1.0)] {
            let d = a / 2f32.sqrt();
            values.extend([5.0 + d, 5.0 + d, 5.0 + b]);
        }
        let (points, shares) = super::principal_plane(&values, 4, 3);
        assert!((points[0][0].abs() - 3.0).abs() < 1e-4 && points[0][1].abs() < 1e-4, "{points:?}");
        assert!((points[2][1].abs() - 1.0).abs() < 1e-4 && points[2][0].abs() < 1e-4, "{points:?}");
        assert!((shares[0] - 0.9).abs() < 1e-4 && (shares[1] - 0.1).abs() < 1e-4, "{shares:?}");
    }
}
