//! Tensors: the only module that names dfdx. Compiles a graph spec into parameters, runs it
//! forward and backward, and updates it. Everything it hands out is plain data.

mod gemm;
mod layers;
mod model;
mod ops;
mod optim;

use std::collections::BTreeMap;

use dfdx::prelude::*;
use serde::{Deserialize, Serialize};

use model::Mode;
pub use model::Model;
use ops::{values, Act};
pub use optim::{Optimizer, OptimizerSpec};

use crate::data::{Batch, Targets};
use crate::graph::{shape_text, LayerSpec};
use crate::EngineError;

/// What the output is trained towards.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum LossSpec {
    /// Cross-entropy of the softmax of the output (raw scores, "logits") against integer class
    /// labels, averaged over samples (and positions, for sequence outputs).
    #[default]
    CrossEntropy,
    /// The mean of the squared differences between output and target values.
    MeanSquaredError,
}

/// What one step or evaluation measured.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct StepStats {
    /// The mean loss over the batch.
    pub loss: f32,
    /// Correct predictions (classification only; zero for regression).
    pub correct: usize,
    /// How many predictions were made (samples, or samples times positions for sequences).
    pub count: usize,
    /// Whether every gradient was finite (a training step skips its update when not).
    pub grads_finite: bool,
}

impl StepStats {
    /// Fraction of correct predictions.
    #[must_use]
    pub fn accuracy(&self) -> f32 {
        if self.count == 0 {
            0.0
        } else {
            self.correct as f32 / self.count as f32
        }
    }
}

/// One node's output for a batch, as plain data.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeOutput {
    pub id: String,
    /// Per-sample shape; `values` holds `batch` samples of it.
    pub shape: Vec<usize>,
    pub values: Vec<f32>,
}

/// One parameter tensor's health at a training step: the L2 norms of its gradient, of its
/// values before the update, and of the update itself.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamHealth {
    pub name: String,
    pub grad_norm: f32,
    pub weight_norm: f32,
    pub update_norm: f32,
}

/// The L2 norm of some values, summed in f64.
fn norm(values: impl Iterator<Item = f32>) -> f32 {
    values.map(|v| f64::from(v) * f64::from(v)).sum::<f64>().sqrt() as f32
}

/// Loss and gradients for one batch, as plain data.
#[derive(Clone, Debug, PartialEq)]
pub struct GradientReport {
    pub loss: f32,
    /// Gradient of the loss with respect to every parameter, by name.
    pub params: BTreeMap<String, Vec<f32>>,
    /// Gradient of the loss with respect to the input values.
    pub input: Vec<f32>,
}

/// A probe for [`Model::score_gradients`]: a node whose output's gradient is wanted, and
/// optionally values to hand on in place of its output, and a gradient to add there on the way
/// back (each all samples', `count x` the node's size).
#[derive(Clone, Copy, Debug)]
pub struct Probe<'a> {
    pub node: &'a str,
    pub replacement: Option<&'a [f32]>,
    pub seed: Option<&'a [f32]>,
}

impl<'a> Probe<'a> {
    /// A probe that only catches the gradient at `node`.
    #[must_use]
    pub fn at(node: &'a str) -> Self {
        Self { node, replacement: None, seed: None }
    }
}

/// What [`Model::score_gradients`] found.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ScoreGradients {
    /// The model's outputs, `count x` the output size.
    pub outputs: Vec<f32>,
    /// The gradient of the weighted score with respect to the input values.
    pub input: Vec<f32>,
    /// At the probe: the values handed on there, and the score's gradient with respect to them.
    pub probe_values: Vec<f32>,
    pub probe_grad: Vec<f32>,
}

impl Model {
    /// The gradient of `sum over samples and outputs of weights * output` (for one class's score,
    /// `weights` is 1 at that class of each sample and 0 elsewhere) with respect to the input and,
    /// with a probe, to one node's output, in evaluation mode.
    ///
    /// # Errors
    /// When the inputs do not fit, `weights` is not one per output value, or the probe names no
    /// node (or its replacement has the wrong size).
    pub fn score_gradients(
        &mut self,
        inputs: &[f32],
        count: usize,
        weights: &[f32],
        probe: Option<Probe<'_>>,
    ) -> Result<ScoreGradients, EngineError> {
        let x = self.input_batch(inputs, count)?;
        let out_numel: usize = self.output_shape().iter().product();
        if weights.len() != count * out_numel {
            return Err(EngineError::Batch(format!(
                "expected {} score weights ({count} x {out_numel}), got {}",
                count * out_numel,
                weights.len()
            )));
        }
        let slot = ops::CaughtSlot::default();
        if let Some(p) = probe {
            let Some(node) = self.nodes.iter().position(|n| n.id == p.node) else {
                return Err(EngineError::Batch(format!("this model has no node called {}", p.node)));
            };
            let size = count * self.nodes[node].out_shape.iter().product::<usize>();
            if let Some(r) = p.replacement.filter(|r| r.len() != size) {
                return Err(EngineError::Batch(format!(
                    "{} gives {size} values for {count} sample(s), but {} were given in their place",
                    p.node,
                    r.len()
                )));
            }
            if let Some(g) = p.seed.filter(|g| g.len() != size) {
                return Err(EngineError::Batch(format!(
                    "{} gives {size} values for {count} sample(s), but the gradient to add there has {}",
                    p.node,
                    g.len()
                )));
            }
            self.probe = Some(model::ProbeAt {
                node,
                replacement: p.replacement.map(<[f32]>::to_vec),
                seed: p.seed.map(<[f32]>::to_vec),
                slot: std::sync::Arc::clone(&slot),
            });
        }
        let x_ghost = x.clone();
        let mut tape = OwnedTape::<f32, Cpu>::default();
        let mode = Mode { train: false, dropout_seed: 0, input_grad: true, record: false };
        let out = self.forward(&x, &mut tape, mode).pop();
        self.probe = None;
        let out = out.ok_or_else(|| EngineError::Internal("empty model".to_owned()))?;
        let outputs = values(&out);
        let w = self.dev.tensor_from_vec(weights.to_vec(), (count, out_numel));
        let score = (out.put_tape(tape) * w).sum::<Rank0, _>();
        let mut grads = score.backward();
        let input = grads.get_or_alloc_mut(&x_ghost).map_err(|e| EngineError::Internal(e.to_string()))?.to_vec();
        let caught = std::mem::take(&mut *slot.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
        Ok(ScoreGradients { outputs, input, probe_values: caught.values, probe_grad: caught.grad })
    }

    fn check_batch(&self, batch: &Batch) -> Result<(), EngineError> {
        let in_numel: usize = self.input_shape().iter().product();
        if batch.len == 0 {
            return Err(EngineError::Batch("the batch is empty".to_owned()));
        }
        if batch.inputs.len() != batch.len * in_numel {
            return Err(EngineError::Batch(format!(
                "the model's input takes {} ({in_numel} values a sample) but the data gives {} values a sample: change the Input node's shape to fit the dataset",
                shape_text(self.input_shape()),
                batch.inputs.len() / batch.len
            )));
        }
        self.check_tokens(&batch.inputs)?;
        let out = self.output_shape();
        let out_numel: usize = out.iter().product();
        match &batch.targets {
            Targets::Classes(labels) => {
                let classes = out.last().copied().unwrap_or(1);
                let per_sample = out_numel / classes.max(1);
                if labels.len() != batch.len * per_sample {
                    return Err(EngineError::Batch(format!(
                        "the output {} scores {per_sample} position(s) a sample, but the data has {} label(s) a sample",
                        shape_text(out),
                        labels.len() / batch.len
                    )));
                }
                if let Some(&bad) = labels.iter().find(|&&l| l >= classes) {
                    return Err(EngineError::Batch(format!(
                        "the data has class {bad}, but the output layer scores only {classes} classes (0 to {}): give the last Dense layer at least {} units",
                        classes.saturating_sub(1),
                        bad + 1
                    )));
                }
            }
            Targets::Values(values) => {
                if values.len() != batch.len * out_numel {
                    return Err(EngineError::Batch(format!(
                        "the output {} has {out_numel} values a sample but the data's targets have {}: make the last layer's size match the targets",
                        shape_text(out),
                        values.len() / batch.len
                    )));
                }
            }
        }
        Ok(())
    }

    /// Refuses inputs an Embedding reading the model's input cannot look up: each must be a
    /// token id, a whole number from 0 below the Embedding's vocabulary.
    fn check_tokens(&self, inputs: &[f32]) -> Result<(), EngineError> {
        let per_sample: usize = self.input_shape().iter().product::<usize>().max(1);
        for node in &self.nodes {
            let LayerSpec::Embedding { vocab, .. } = node.layer else { continue };
            if node.inputs.first() != Some(&0) {
                continue;
            }
            if let Some(at) = inputs.iter().position(|&v| crate::data::token_id(v, vocab).is_none()) {
                return Err(EngineError::Batch(format!(
                    "{} looks up token ids from 0 to {}, but sample {} has {} at position {}: give {} a vocabulary of at least the data's (its largest id + 1)",
                    node.id,
                    vocab.saturating_sub(1),
                    at / per_sample + 1,
                    inputs[at],
                    at % per_sample + 1,
                    node.id
                )));
            }
        }
        Ok(())
    }

    fn input_tensor(&self, batch: &Batch) -> Act {
        self.dev.tensor_from_vec(batch.inputs.clone(), (batch.len, batch.inputs.len() / batch.len))
    }

    /// The loss of `out` against the targets, on the tape.
    fn loss_of<T: Tape<f32, Cpu>>(
        &self,
        out: Act,
        targets: &Targets,
        loss: LossSpec,
        tape: T,
    ) -> Tensor<Rank0, f32, Cpu, T> {
        let (batch, numel) = *out.shape();
        match (loss, targets) {
            (LossSpec::CrossEntropy, Targets::Classes(labels)) => {
                let classes = self.output_shape().last().copied().unwrap_or(1);
                let rows = batch * numel / classes;
                let idx = self.dev.tensor_from_vec(labels.clone(), (rows,));
                out.put_tape(tape)
                    .reshape_like(&(rows, classes))
                    .log_softmax::<Axis<1>>()
                    .select(idx)
                    .mean::<Rank0, Axis<0>>()
                    .negate()
            }
            (_, Targets::Values(want)) => {
                let target = self.dev.tensor_from_vec(want.clone(), (batch, numel));
                (out.put_tape(tape) - target).square().mean::<Rank0, Axes2<0, 1>>()
            }
            (LossSpec::MeanSquaredError, Targets::Classes(labels)) => {
                // Regression onto one-hot class vectors.
                let classes = self.output_shape().last().copied().unwrap_or(1);
                let mut onehot = vec![0.0; batch * numel];
                for (row, &l) in onehot.chunks_exact_mut(classes).zip(labels) {
                    row[l] = 1.0;
                }
                let target = self.dev.tensor_from_vec(onehot, (batch, numel));
                (out.put_tape(tape) - target).square().mean::<Rank0, Axes2<0, 1>>()
            }
        }
    }

    fn count_correct(&self, out: &[f32], targets: &Targets) -> (usize, usize) {
        let Targets::Classes(labels) = targets else { return (0, 0) };
        let classes = self.output_shape().last().copied().unwrap_or(1).max(1);
        let correct = out.chunks_exact(classes).zip(labels).filter(|(row, &l)| argmax(row) == l).count();
        (correct, labels.len())
    }

    /// One training step: forward with a tape, loss, backward, optimiser update.
    ///
    /// # Errors
    /// When the batch does not fit the model (see [`EngineError::Batch`]).
    pub fn train_step(
        &mut self,
        batch: &Batch,
        loss: LossSpec,
        optimizer: &mut Optimizer,
        dropout_seed: u64,
    ) -> Result<StepStats, EngineError> {
        self.train_step_inner(batch, loss, optimizer, dropout_seed, false).map(|(stats, _)| stats)
    }

    /// [`Model::train_step`], also measuring every parameter tensor's gradient, weight and
    /// update norms (for the gradients-and-health view; it copies every weight twice, so the
    /// trainer measures only some steps).
    ///
    /// # Errors
    /// When the batch does not fit the model.
    pub fn train_step_measured(
        &mut self,
        batch: &Batch,
        loss: LossSpec,
        optimizer: &mut Optimizer,
        dropout_seed: u64,
    ) -> Result<(StepStats, Vec<ParamHealth>), EngineError> {
        self.train_step_inner(batch, loss, optimizer, dropout_seed, true)
    }

    fn train_step_inner(
        &mut self,
        batch: &Batch,
        loss: LossSpec,
        optimizer: &mut Optimizer,
        dropout_seed: u64,
        measure: bool,
    ) -> Result<(StepStats, Vec<ParamHealth>), EngineError> {
        self.check_batch(batch)?;
        let x = self.input_tensor(batch);
        let mut tape = OwnedTape::<f32, Cpu>::default();
        let mode = Mode { train: true, dropout_seed, input_grad: false, record: false };
        let out =
            self.forward(&x, &mut tape, mode).pop().ok_or_else(|| EngineError::Internal("empty model".to_owned()))?;
        let (correct, count) = self.count_correct(&values(&out), &batch.targets);
        let loss_t = self.loss_of(out, &batch.targets, loss, tape);
        let loss_value = loss_t.array();
        let mut grads = loss_t.backward();
        let mut health = Vec::new();
        if measure {
            for p in &self.params {
                let g = grads.get_or_alloc_mut(&p.tensor).map_err(|e| EngineError::Internal(e.to_string()))?;
                health.push(ParamHealth {
                    name: p.name.clone(),
                    grad_norm: norm(g.iter().copied()),
                    weight_norm: 0.0,
                    update_norm: 0.0,
                });
            }
        }
        let before: Vec<Vec<f32>> =
            if measure { self.params.iter().map(|p| values(&p.tensor)).collect() } else { Vec::new() };
        let grads_finite =
            optimizer.update(&mut self.params, &mut grads).map_err(|e| EngineError::Internal(e.to_string()))?;
        for ((h, p), old) in health.iter_mut().zip(&self.params).zip(&before) {
            h.weight_norm = norm(old.iter().copied());
            h.update_norm = norm(values(&p.tensor).iter().zip(old).map(|(new, old)| new - old));
        }
        Ok((StepStats { loss: loss_value, correct, count, grads_finite }, health))
    }

    /// Loss and accuracy on a batch in evaluation mode (no dropout, running batch statistics).
    ///
    /// # Errors
    /// When the batch does not fit the model.
    pub fn evaluate(&mut self, batch: &Batch, loss: LossSpec) -> Result<StepStats, EngineError> {
        self.evaluate_with_outputs(batch, loss).map(|(stats, _)| stats)
    }

    /// [`Model::evaluate`], also giving the model's outputs (what [`Model::predict`] gives), from
    /// one forward pass.
    ///
    /// # Errors
    /// When the batch does not fit the model.
    pub fn evaluate_with_outputs(
        &mut self,
        batch: &Batch,
        loss: LossSpec,
    ) -> Result<(StepStats, Vec<f32>), EngineError> {
        self.check_batch(batch)?;
        let x = self.input_tensor(batch);
        let mode = Mode::EVAL;
        let out = self
            .forward(&x, &mut NoneTape, mode)
            .pop()
            .ok_or_else(|| EngineError::Internal("empty model".to_owned()))?;
        let outputs = values(&out);
        let (correct, count) = self.count_correct(&outputs, &batch.targets);
        let loss_value = self.loss_of(out, &batch.targets, loss, NoneTape).array();
        Ok((StepStats { loss: loss_value, correct, count, grads_finite: true }, outputs))
    }

    /// The model's output for `count` samples in evaluation mode.
    ///
    /// # Errors
    /// When `inputs` does not hold `count` samples of the input shape.
    pub fn predict(&mut self, inputs: &[f32], count: usize) -> Result<Vec<f32>, EngineError> {
        let x = self.input_batch(inputs, count)?;
        let mode = Mode::EVAL;
        // Only the output is copied out (recording copies every node's).
        Ok(self.forward(&x, &mut NoneTape, mode).pop().map(|o| values(&o)).unwrap_or_default())
    }

    /// `count` samples as the model's input tensor.
    fn input_batch(&self, inputs: &[f32], count: usize) -> Result<Tensor<(usize, usize), f32, Cpu>, EngineError> {
        let in_numel: usize = self.input_shape().iter().product();
        if count == 0 || inputs.len() != count * in_numel {
            return Err(EngineError::Batch(format!(
                "expected {count} sample(s) of {} ({in_numel} values each), got {} values",
                shape_text(self.input_shape()),
                inputs.len()
            )));
        }
        self.check_tokens(inputs)?;
        Ok(self.dev.tensor_from_vec(inputs.to_vec(), (count, in_numel)))
    }

    /// Every node's output for `count` samples in evaluation mode, in evaluation order. Recording
    /// does not change results: it reads the same outputs [`Model::predict`] computes.
    ///
    /// # Errors
    /// When `inputs` does not hold `count` samples of the input shape.
    pub fn forward_record(&mut self, inputs: &[f32], count: usize) -> Result<Vec<NodeOutput>, EngineError> {
        let x = self.input_batch(inputs, count)?;
        let mode = Mode::EVAL;
        let outs = self.forward(&x, &mut NoneTape, mode);
        Ok(self
            .nodes
            .iter()
            .zip(outs)
            .map(|(n, o)| NodeOutput { id: n.id.clone(), shape: n.out_shape.clone(), values: values(&o) })
            .collect())
    }

    /// [`Model::forward_record`], and what the layers keep besides their outputs: every
    /// attention layer's probabilities (`<id>.attention`, `[heads, time, time]` per sample) and
    /// every recurrent layer's states over time (`<id>.hidden`, and `<id>.forget_gate` and the
    /// other gates of an LSTM or GRU, `[time, directions * hidden]` per sample).
    ///
    /// # Errors
    /// When `inputs` does not hold `count` samples of the input shape.
    pub fn forward_record_all(
        &mut self,
        inputs: &[f32],
        count: usize,
    ) -> Result<(Vec<NodeOutput>, Vec<NodeOutput>), EngineError> {
        let x = self.input_batch(inputs, count)?;
        let outs = self.forward(&x, &mut NoneTape, Mode { record: true, ..Mode::EVAL });
        let nodes = self
            .nodes
            .iter()
            .zip(outs)
            .map(|(n, o)| NodeOutput { id: n.id.clone(), shape: n.out_shape.clone(), values: values(&o) })
            .collect();
        Ok((nodes, std::mem::take(&mut self.extras)))
    }

    /// The loss and its gradient with respect to every parameter and the input, without updating
    /// anything. `train` selects training behaviour (dropout, batch statistics); note that
    /// training behaviour also moves batch norm's running averages.
    ///
    /// # Errors
    /// When the batch does not fit the model.
    pub fn gradients(
        &mut self,
        batch: &Batch,
        loss: LossSpec,
        train: bool,
        dropout_seed: u64,
    ) -> Result<GradientReport, EngineError> {
        self.check_batch(batch)?;
        let x = self.input_tensor(batch);
        let x_ghost = x.clone();
        let mut tape = OwnedTape::<f32, Cpu>::default();
        let mode = Mode { train, dropout_seed, input_grad: true, record: false };
        let out =
            self.forward(&x, &mut tape, mode).pop().ok_or_else(|| EngineError::Internal("empty model".to_owned()))?;
        let loss_t = self.loss_of(out, &batch.targets, loss, tape);
        let loss_value = loss_t.array();
        let mut grads = loss_t.backward();
        let mut params = BTreeMap::new();
        for p in &self.params {
            let g = grads.get_or_alloc_mut(&p.tensor).map_err(|e| EngineError::Internal(e.to_string()))?;
            params.insert(p.name.clone(), g.to_vec());
        }
        let input = grads.get_or_alloc_mut(&x_ghost).map_err(|e| EngineError::Internal(e.to_string()))?.to_vec();
        Ok(GradientReport { loss: loss_value, params, input })
    }
}

/// The index of the largest value (the first of equals).
pub(crate) fn argmax(row: &[f32]) -> usize {
    row.iter().enumerate().fold((0, f32::NEG_INFINITY), |(bi, bv), (i, &v)| if v > bv { (i, v) } else { (bi, bv) }).0
}
