//! Grad-CAM: a layer's maps `A_k`, each weighted by the mean of the class score's gradient over
//! it, added up and passed through a ReLU, then scaled up to the input by bilinear interpolation.
//! Grad-CAM++ weighs each map by its positive gradients instead, each position by
//! `alpha = g^2 / (2 g^2 + sum(A_k) g^3)`: the closed form for the exponentiated score, whose
//! higher derivatives are powers of the first (Chattopadhay et al. 2018, eq. 19).

use super::{Attribution, Explaining, InputKind, Scorer};
use crate::tensor::Probe;
use crate::EngineError;

pub(super) fn grad_cam(model: &mut dyn Scorer, e: &Explaining<'_>, plus: bool) -> Result<Attribution, EngineError> {
    let name = if plus { "Grad-CAM++" } else { "Grad-CAM" };
    let InputKind::Image { height, width, .. } = e.kind else {
        return Err(EngineError::Settings(format!(
            "{name} explains images: this model does not read an image ([channels, height, width])"
        )));
    };
    let nodes = model.map_nodes();
    let node = match &e.settings.layer {
        Some(id) => nodes.iter().find(|n| &n.id == id).ok_or_else(|| {
            EngineError::Settings(format!(
                "{id} does not give maps ([channels, height, width]); {name} can weigh {}",
                if nodes.is_empty() {
                    "no node of this model".to_owned()
                } else {
                    nodes.iter().map(|n| n.id.as_str()).collect::<Vec<_>>().join(", ")
                }
            ))
        })?,
        None => nodes.iter().rev().find(|n| n.convolution).ok_or_else(|| {
            EngineError::Settings(format!("{name} needs a convolution layer, and this model has none"))
        })?,
    };
    let got = model.gradients(e.input, 1, &e.target_weights(1), Some(Probe::at(&node.id)))?;
    let map = if plus {
        cam_plus_plus_of(&got.probe_values, &got.probe_grad, node.shape)
    } else {
        cam_of(&got.probe_values, &got.probe_grad, node.shape)
    };
    let [_, h, w] = node.shape;
    Ok(e.answer(vec![1, height, width], upsample(&map, (h, w), (height, width))))
}

/// `ReLU(sum over k of mean(dS/dA_k) A_k)` for maps `[k, h, w]`.
pub(crate) fn cam_of(maps: &[f32], grads: &[f32], [k, h, w]: [usize; 3]) -> Vec<f32> {
    let plane = h * w;
    let mut cam = vec![0.0f32; plane];
    for c in 0..k {
        let g = &grads[c * plane..(c + 1) * plane];
        let weight = g.iter().sum::<f32>() / plane as f32;
        for (out, a) in cam.iter_mut().zip(&maps[c * plane..(c + 1) * plane]) {
            *out += weight * a;
        }
    }
    cam.iter().map(|v| v.max(0.0)).collect()
}

/// Grad-CAM++'s map: `ReLU(sum over k of w_k A_k)` with `w_k = sum over positions of
/// alpha * ReLU(g)` and `alpha = g^2 / (2 g^2 + sum(A_k) g^3)` (0 where the gradient is 0).
pub(crate) fn cam_plus_plus_of(maps: &[f32], grads: &[f32], [k, h, w]: [usize; 3]) -> Vec<f32> {
    let plane = h * w;
    let mut cam = vec![0.0f32; plane];
    for c in 0..k {
        let (a, g) = (&maps[c * plane..(c + 1) * plane], &grads[c * plane..(c + 1) * plane]);
        let total: f32 = a.iter().sum();
        let weight: f32 = g
            .iter()
            .map(|&g| {
                let denominator = 2.0 * g * g + total * g * g * g;
                let alpha = if g == 0.0 || denominator == 0.0 { 0.0 } else { g * g / denominator };
                alpha * g.max(0.0)
            })
            .sum();
        for (out, v) in cam.iter_mut().zip(a) {
            *out += weight * v;
        }
    }
    cam.iter().map(|v| v.max(0.0)).collect()
}

/// Bilinear resampling of a `from` grid to a `to` grid, pixel centres aligned (as PyTorch's
/// `interpolate(mode="bilinear", align_corners=False)`).
pub fn upsample(map: &[f32], (h, w): (usize, usize), (oh, ow): (usize, usize)) -> Vec<f32> {
    let source = |o: usize, from: usize, to: usize| {
        let s = ((o as f32 + 0.5) * from as f32 / to as f32 - 0.5).max(0.0);
        let i = (s.floor() as usize).min(from - 1);
        (i, (i + 1).min(from - 1), s - i as f32)
    };
    let mut out = Vec::with_capacity(oh * ow);
    for oy in 0..oh {
        let (y0, y1, fy) = source(oy, h, oh);
        for ox in 0..ow {
            let (x0, x1, fx) = source(ox, w, ow);
            let top = map[y0 * w + x0] * (1.0 - fx) + map[y0 * w + x1] * fx;
            let bottom = map[y1 * w + x0] * (1.0 - fx) + map[y1 * w + x1] * fx;
            out.push(top * (1.0 - fy) + bottom * fy);
        }
    }
    out
}
