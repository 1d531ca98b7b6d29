//! Element-wise functions with a hand-written derivative, as plain loops over the buffers that
//! the compiler inlines.
//!
//! GELU lives here because dfdx 0.13's `accurate_gelu` has a wrong backward pass: its derivative
//! drops the `1/sqrt(2)` of the inner `erf(x/sqrt(2))`, so gradients are off by up to ~40% near
//! zero (our gradient check caught it).

use dfdx::prelude::*;

use super::{values, Act, Grads};

/// `y = f(x)` element-wise, with `dy/dx = df(x)`.
fn pointwise<T, F, DF>(dev: &Cpu, x: &Act, f: F, df: DF, tape: &mut T) -> Act
where
    T: Tape<f32, Cpu>,
    F: Fn(f32) -> f32,
    DF: Fn(f32) -> f32 + 'static,
{
    let xd = values(x);
    let y: Vec<f32> = xd.iter().map(|&v| f(v)).collect();
    let out = dev.tensor_from_vec(y, *x.shape());
    if T::OWNS_TAPE {
        let (x_g, out_g) = (x.ghost(), out.ghost());
        tape.add_backward_op(move |grads: &mut Grads| {
            let gy = grads.get_or_alloc_mut(&out_g)?.to_vec();
            let gx = grads.get_or_alloc_mut(&x_g)?;
            for ((g, dy), &v) in gx.iter_mut().zip(&gy).zip(&xd) {
                *g += dy * df(v);
            }
            Ok(())
        });
    }
    out
}

fn gelu_value(x: f32) -> f32 {
    0.5 * x * (1.0 + libm::erff(x * std::f32::consts::FRAC_1_SQRT_2))
}

fn gelu_slope(x: f32) -> f32 {
    // d/dx [x * Phi(x)] = Phi(x) + x * phi(x), with phi the standard normal density.
    let cdf = 0.5 * (1.0 + libm::erff(x * std::f32::consts::FRAC_1_SQRT_2));
    let pdf = (-0.5 * x * x).exp() / (2.0 * std::f32::consts::PI).sqrt();
    cdf + x * pdf
}

/// The exact (erf-based) GELU, as PyTorch's default `nn.GELU()`.
pub(crate) fn gelu<T: Tape<f32, Cpu>>(dev: &Cpu, x: &Act, tape: &mut T) -> Act {
    pointwise(dev, x, gelu_value, gelu_slope, tape)
}

/// `max(0, x)`; the gradient passes where `x > 0`.
pub(crate) fn relu<T: Tape<f32, Cpu>>(dev: &Cpu, x: &Act, tape: &mut T) -> Act {
    pointwise(dev, x, |v| v.max(0.0), |v| if v > 0.0 { 1.0 } else { 0.0 }, tape)
}

/// `x` where positive, `slope * x` elsewhere.
pub(crate) fn leaky_relu<T: Tape<f32, Cpu>>(dev: &Cpu, x: &Act, slope: f32, tape: &mut T) -> Act {
    pointwise(dev, x, move |v| if v > 0.0 { v } else { slope * v }, move |v| if v > 0.0 { 1.0 } else { slope }, tape)
}
