//! Weights files: safetensors, one `F32` tensor per parameter, named `<node id>.<param>`.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use crate::files::brief;
use crate::tensor::Model;
use crate::EngineError;

/// What loading a weights file found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LoadReport {
    /// Tensors loaded into the model.
    pub loaded: Vec<String>,
    /// Tensors whose shape differs from the model's: (name, in file, in model).
    pub mismatched: Vec<(String, Vec<usize>, Vec<usize>)>,
    /// Tensors in the file that the model does not have.
    pub unknown: Vec<String>,
    /// Model tensors the file does not have (they keep their current values).
    pub missing: Vec<String>,
}

impl LoadReport {
    /// Whether every tensor fit.
    #[must_use]
    pub fn is_complete(&self) -> bool {
        self.mismatched.is_empty() && self.unknown.is_empty() && self.missing.is_empty()
    }

    /// A few lines a student can read.
    #[must_use]
    pub fn describe(&self) -> String {
        let mut lines = Vec::new();
        for (name, file, model) in &self.mismatched {
            lines.push(format!(
                "{}: the file has shape {} but the model needs {}",
                brief(name),
                crate::graph::shape_text(file),
                crate::graph::shape_text(model)
            ));
        }
        for name in &self.unknown {
            lines.push(format!("{}: in the file, but the model has no such tensor", brief(name)));
        }
        for name in &self.missing {
            lines.push(format!("{}: the model has it, the file does not", brief(name)));
        }
        const SHOWN: usize = 4;
        if lines.len() > SHOWN {
            let more = lines.len() - SHOWN;
            lines.truncate(SHOWN);
            lines.push(format!("and {more} more"));
        }
        lines.join("\n")
    }
}

/// The model's weights (and batch norm statistics) as safetensors bytes.
///
/// # Errors
/// Only if serialisation fails (it does not for well-formed models).
pub fn weights_to_bytes(model: &Model) -> Result<Vec<u8>, EngineError> {
    let shapes = model.weight_shapes();
    let bytes: BTreeMap<String, (Vec<usize>, Vec<u8>)> = model
        .weights()
        .into_iter()
        .map(|(name, values)| {
            let shape = shapes.get(&name).cloned().unwrap_or_else(|| vec![values.len()]);
            (name, (shape, values.iter().flat_map(|v| v.to_le_bytes()).collect()))
        })
        .collect();
    let views: Result<Vec<(String, safetensors::tensor::TensorView<'_>)>, _> = bytes
        .iter()
        .map(|(name, (shape, data))| {
            safetensors::tensor::TensorView::new(safetensors::Dtype::F32, shape.clone(), data)
                .map(|v| (name.clone(), v))
        })
        .collect();
    let views = views.map_err(|e| EngineError::Internal(format!("weights: {e}")))?;
    safetensors::serialize(views, &None).map_err(|e| EngineError::Internal(format!("weights: {e}")))
}

/// Saves weights to a safetensors file, atomically (a new temporary file, then a rename); a
/// failed save leaves nothing behind.
///
/// # Errors
/// When the file cannot be written.
pub fn save_weights(model: &Model, path: &Path) -> Result<(), EngineError> {
    let bytes = weights_to_bytes(model)?;
    crate::files::write_atomically(path, &bytes)
        .map_err(|e| EngineError::Weights(format!("cannot write {}: {e}", crate::files::brief_path(path))))
}

/// Whether `bytes` start like a safetensors file (a readable header): what `glassbox train --out`
/// may replace without being told to.
#[must_use]
pub fn is_weights_file(bytes: &[u8]) -> bool {
    safetensors::SafeTensors::read_metadata(bytes).is_ok()
}

/// Whether the file at `path` is a safetensors file, reading only its header: its tensors'
/// data must end exactly where the file does.
#[must_use]
pub fn looks_like_weights_file(path: &Path) -> bool {
    const MAX_HEADER: u64 = 100 << 20;
    let Ok(len) = std::fs::metadata(path).map(|m| m.len()) else { return false };
    let Ok(head) = crate::files::read_head(path, "the file", 8) else { return false };
    let Ok(size) = <[u8; 8]>::try_from(head.as_slice()).map(u64::from_le_bytes) else { return false };
    if size > MAX_HEADER || 8 + size > len {
        return false;
    }
    let Ok(head) = crate::files::read_head(path, "the file", 8 + size) else { return false };
    let Ok(header) = serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(&head[8..]) else {
        return false;
    };
    let ends: Option<Vec<u64>> = header
        .iter()
        .filter(|(name, _)| *name != "__metadata__")
        .map(|(_, t)| t.get("data_offsets")?.get(1)?.as_u64())
        .collect();
    ends.is_some_and(|ends| 8 + size + ends.into_iter().max().unwrap_or(0) == len)
}

/// The largest magnitude of any value in safetensors bytes (F32 tensors), if they parse.
#[must_use]
pub fn largest_weight(bytes: &[u8]) -> Option<f32> {
    let file = safetensors::SafeTensors::deserialize(bytes).ok()?;
    let mut largest = 0.0f32;
    for (_, view) in file.tensors() {
        for b in view.data().chunks_exact(4) {
            largest = largest.max(f32::from_le_bytes([b[0], b[1], b[2], b[3]]).abs());
        }
    }
    Some(largest)
}

/// The largest weights file that can belong to a model of `params` trainable values: the values
/// (and batch norm statistics, never more than the values) in 32 bits, and room for the header.
#[must_use]
pub fn weights_file_limit(params: usize) -> u64 {
    (params as u64).saturating_mul(8).saturating_add(16 << 20)
}

/// Loads weights from safetensors bytes. With `partial` false, nothing is loaded unless every
/// tensor fits; with `partial` true, the tensors that fit are loaded and the rest reported.
///
/// # Errors
/// When the bytes are not safetensors, hold a non-`F32` tensor, or (without `partial`) do not fit.
pub fn load_weights_bytes(
    model: &mut Model,
    bytes: &[u8],
    what: &str,
    partial: bool,
) -> Result<LoadReport, EngineError> {
    let file = safetensors::SafeTensors::deserialize(bytes).map_err(|e| {
        EngineError::Weights(format!(
            "{what} is not a safetensors weights file (its header cannot be read: {e:?}): choose the .safetensors file that Glassbox saved"
        ))
    })?;
    let shapes = model.weight_shapes();
    let mut report = LoadReport::default();
    let mut found: HashMap<String, Vec<f32>> = HashMap::new();
    let mut names: Vec<String> = file.names().into_iter().cloned().collect();
    names.sort();
    for name in names {
        let view = file.tensor(&name).map_err(|e| EngineError::Weights(format!("{what}: {}: {e}", brief(&name))))?;
        if view.dtype() != safetensors::Dtype::F32 {
            return Err(EngineError::Weights(format!(
                "{what}: {} is {:?}; Glassbox weights are F32",
                brief(&name),
                view.dtype()
            )));
        }
        match shapes.get(&name) {
            None => report.unknown.push(name),
            Some(shape) if shape.as_slice() != view.shape() => {
                report.mismatched.push((name, view.shape().to_vec(), shape.clone()));
            }
            Some(_) => {
                let values: Vec<f32> =
                    view.data().chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
                if let Some(at) = values.iter().position(|v| !v.is_finite()) {
                    return Err(EngineError::Weights(format!(
                        "{what}: {} holds {} at position {at}: weights that are not finite numbers cannot be used; train the model again (or go back to a checkpoint) and save new weights",
                        brief(&name),
                        values[at]
                    )));
                }
                found.insert(name, values);
            }
        }
    }
    // A tensor of the wrong shape is reported once, as mismatched, not also as missing.
    report.missing = shapes
        .keys()
        .filter(|k| !found.contains_key(*k) && !report.mismatched.iter().any(|(m, _, _)| m == *k))
        .cloned()
        .collect();
    if !partial && !report.is_complete() {
        return Err(EngineError::Weights(format!(
            "{what} does not fit this model (were the weights saved from another model?):\n{}\nTrain this model, or choose the weights file saved with it.",
            report.describe()
        )));
    }
    let mut loaded: Vec<String> = found.keys().cloned().collect();
    loaded.sort();
    for name in &loaded {
        model.set_weight(name, &found[name])?;
    }
    report.loaded = loaded;
    Ok(report)
}

/// Loads weights from a safetensors file (see [`load_weights_bytes`]).
///
/// # Errors
/// When the file cannot be read or does not fit.
pub fn load_weights(model: &mut Model, path: &Path, partial: bool) -> Result<LoadReport, EngineError> {
    let bytes = crate::files::read_file_at_most(path, "the weights file", weights_file_limit(model.param_count()))?;
    load_weights_bytes(model, &bytes, &crate::files::brief_path(path), partial)
}
