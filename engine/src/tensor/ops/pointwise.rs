//! Element-wise functions with a hand-written derivative, as plain loops over the buffers that
//! the compiler inlines.
//!
//! GELU lives here because dfdx 0.13's `accurate_gelu` has a wrong backward pass: its derivative
//! drops the `1/sqrt(2)` of the inner `erf(x/sqrt(2))`, so gradients are off by up to ~40% near
//! zero (our gradient check caught it).

use dfdx::prelude::*;

use super::{take_grad, values, Act, Grads};

/// `y = f(x)` element-wise, with `dy/dx = df(x)`.
fn pointwise<T, F, DF>(dev: &Cpu, x: &Act, f: F, df: DF, tape: &mut T) -> Act
where
    T: Tape<f32, Cpu>,
    F: Fn(f32) -> f32,
    DF: Fn(f32) -> f32 + 'static,
{
    let xd = values(x);
    let y: Vec<f32> = xd.iter().map(|&v| f(v)).collect();
    with_slope(dev, x, y, xd, df, tape)
}

/// The output `y` of an element-wise function of `x`, with its backward pass on the tape:
/// `dx += dy * slope(k)` for each value `k` of `kept` (the input or the output, whichever the
/// derivative is written in; unused without a tape).
fn with_slope<T, DF>(dev: &Cpu, x: &Act, y: Vec<f32>, kept: Vec<f32>, slope: DF, tape: &mut T) -> Act
where
    T: Tape<f32, Cpu>,
    DF: Fn(f32) -> f32 + 'static,
{
    let out = dev.tensor_from_vec(y, *x.shape());
    if T::OWNS_TAPE {
        let (x_g, out_g) = (x.ghost(), out.ghost());
        let dev = dev.clone();
        tape.add_backward_op(move |grads: &mut Grads| {
            let gy = take_grad(&dev, grads.get_or_alloc_mut(&out_g)?)?;
            let gx = grads.get_or_alloc_mut(&x_g)?;
            for ((g, dy), &k) in gx.iter_mut().zip(gy.iter()).zip(&kept) {
                *g += dy * slope(k);
            }
            Ok(())
        });
    }
    out
}

/// GELU and its slope at `x` from one exponential: `x Φ(x)` and `Φ(x) + x φ(x)`, with `erf` by
/// Abramowitz and Stegun's 7.1.26 (absolute error below 1.5e-7, as f32 rounding itself), whose
/// `e^(-x²/2)` is also the normal density's. `libm::erff` and a second `exp` for the slope cost
/// about 15% of a small Transformer's training step.
pub(crate) fn gelu_parts(x: f32) -> (f32, f32) {
    let z = x * std::f32::consts::FRAC_1_SQRT_2;
    let a = z.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * a);
    let e = (-a * a).exp();
    let poly = t * (0.254_829_6 + t * (-0.284_496_74 + t * (1.421_413_7 + t * (-1.453_152 + t * 1.061_405_4))));
    let erf = (1.0 - poly * e).copysign(z);
    let cdf = 0.5 * (1.0 + erf);
    // φ(x) = e^(-x²/2) / √(2π).
    let pdf = e * 0.398_942_3;
    (x * cdf, cdf + x * pdf)
}

/// The exact (erf-based) GELU, as PyTorch's default `nn.GELU()`.
pub(crate) fn gelu<T: Tape<f32, Cpu>>(dev: &Cpu, x: &Act, tape: &mut T) -> Act {
    let xd = values(x);
    let mut y = Vec::with_capacity(xd.len());
    let mut slopes = Vec::with_capacity(if T::OWNS_TAPE { xd.len() } else { 0 });
    for &v in &xd {
        let (value, slope) = gelu_parts(v);
        y.push(value);
        if T::OWNS_TAPE {
            slopes.push(slope);
        }
    }
    with_slope(dev, x, y, slopes, |s| s, tape)
}

/// `tanh(x)` for one value, within 2 ulp of the exact value (as `f32::tanh` here), about five
/// times faster than it and than dfdx's (15 to 25 ns a value on this machine, 7 ms of a 100 x 100
/// decision grid of a small tanh MLP): near 0 the Taylor series to x^13 (the first term left
/// out is below 2e-9 for |x| < 0.4), beyond it `1 - 2 / (e^2|x| + 1)`, and 1 past |x| = 9.
pub(crate) fn tanh_value(x: f32) -> f32 {
    let a = x.abs();
    if a < 0.4 {
        let x2 = x * x;
        let p = 21844.0 / 6_081_075.0;
        let p = p * x2 - 1382.0 / 155_925.0;
        let p = p * x2 + 62.0 / 2835.0;
        let p = p * x2 - 17.0 / 315.0;
        let p = p * x2 + 2.0 / 15.0;
        let p = p * x2 - 1.0 / 3.0;
        x + x * x2 * p
    } else if a < 9.0 {
        (1.0 - 2.0 / ((2.0 * a).exp() + 1.0)).copysign(x)
    } else if a.is_nan() {
        // A NaN stays a NaN, so the trainer sees it.
        x
    } else {
        1.0f32.copysign(x)
    }
}

/// `e^x` in plain arithmetic that the compiler vectorises (libm's `expf` is a call per value, a
/// tenth of an LSTM's training step): `x = n ln 2 + r` with `|r| <= ln 2 / 2`, `e^r` by its
/// Taylor series to `r^7` (the first term left out is below 5e-9), and `2^n` written into the
/// exponent bits. Within 2 ulp of `e^x` for `x` in [-87, 88]; below that 0 is approached as
/// `e^-87`, above it the value is capped at `e^88` (finite), and a NaN gives a NaN.
#[inline]
pub(crate) fn exp_approx(x: f32) -> f32 {
    const SHIFT: f32 = 12_582_912.0; // 1.5 * 2^23: adding it rounds to a whole number.
    let x = if x.is_nan() { x } else { x.clamp(-87.0, 88.0) };
    let k = x * std::f32::consts::LOG2_E + SHIFT;
    let n = k.to_bits().wrapping_sub(SHIFT.to_bits()) as i32;
    let kf = k - SHIFT;
    // ln 2 in two parts, so r keeps its precision.
    let r = x - kf * 0.693_145_75 - kf * 1.428_606_8e-6;
    let p = 1.0 / 5040.0;
    let p = p * r + 1.0 / 720.0;
    let p = p * r + 1.0 / 120.0;
    let p = p * r + 1.0 / 24.0;
    let p = p * r + 1.0 / 6.0;
    let p = p * r + 0.5;
    let p = p * r + 1.0;
    let p = p * r + 1.0;
    let scale = f32::from_bits(((n + 127) as u32) << 23);
    p * scale
}

/// `1 / (1 + e^-x)` with [`exp_approx`].
#[inline]
pub(crate) fn sigmoid_approx(x: f32) -> f32 {
    1.0 / (1.0 + exp_approx(-x))
}

/// `tanh(x) = 2 sigmoid(2x) - 1` with [`exp_approx`]: within 3e-7 of the exact value (absolute),
/// for the gates of recurrent layers (the Tanh layer keeps [`tanh_value`], exact to 2 ulp).
#[inline]
pub(crate) fn tanh_approx(x: f32) -> f32 {
    2.0 / (1.0 + exp_approx(-2.0 * x)) - 1.0
}

/// `tanh(x)` element-wise ([`tanh_value`]), with `dy/dx = 1 - y^2` from the kept output.
pub(crate) fn tanh<T: Tape<f32, Cpu>>(dev: &Cpu, x: &Act, tape: &mut T) -> Act {
    let y: Vec<f32> = values(x).iter().map(|&v| tanh_value(v)).collect();
    // The output is kept for the backward pass only when there is one.
    let kept = if T::OWNS_TAPE { y.clone() } else { Vec::new() };
    with_slope(dev, x, y, kept, |v| 1.0 - v * v, tape)
}

/// `max(0, x)`; the gradient passes where `x > 0`.
pub(crate) fn relu<T: Tape<f32, Cpu>>(dev: &Cpu, x: &Act, tape: &mut T) -> Act {
    pointwise(dev, x, |v| v.max(0.0), |v| if v > 0.0 { 1.0 } else { 0.0 }, tape)
}

/// `x` where positive, `slope * x` elsewhere.
pub(crate) fn leaky_relu<T: Tape<f32, Cpu>>(dev: &Cpu, x: &Act, slope: f32, tape: &mut T) -> Act {
    pointwise(dev, x, move |v| if v > 0.0 { v } else { slope * v }, move |v| if v > 0.0 { 1.0 } else { slope }, tape)
}

#[cfg(test)]
mod tests {
    /// Units in the last place between an f32 and the exact (f64) value.
    fn ulps(got: f32, exact: f64) -> f64 {
        let reference = (exact.abs() as f32).max(f32::MIN_POSITIVE);
        let ulp = f64::from(f32::from_bits(reference.to_bits() + 1) - reference);
        (f64::from(got) - exact).abs() / ulp
    }

    #[test]
    fn gelu_and_its_slope_match_the_erf_formulas() {
        let (mut worst_value, mut worst_slope) = (0.0f64, 0.0f64);
        for i in 0..200_001 {
            let x = -10.0 + 20.0 * f64::from(i) / 200_000.0;
            let cdf = 0.5 * (1.0 + libm::erf(x / std::f64::consts::SQRT_2));
            let pdf = (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt();
            let (value, slope) = super::gelu_parts(x as f32);
            worst_value = worst_value.max((f64::from(value) - x * cdf).abs() / x.abs().max(1.0));
            worst_slope = worst_slope.max((f64::from(slope) - (cdf + x * pdf)).abs());
        }
        assert!(worst_value < 5e-7 && worst_slope < 5e-7, "value {worst_value:e}, slope {worst_slope:e}");
    }

    #[test]
    fn the_fast_exponential_sigmoid_and_tanh_are_accurate() {
        let mut worst_exp: f64 = 0.0;
        let (mut worst_sigmoid, mut worst_tanh) = (0.0f64, 0.0f64);
        for i in 0..400_001 {
            let x = -87.0 + 175.0 * f64::from(i) / 400_000.0;
            worst_exp = worst_exp.max(ulps(super::exp_approx(x as f32), (f64::from(x as f32)).exp()));
            let y = (x / 4.0) as f32;
            let exact_sigmoid = 1.0 / (1.0 + (-f64::from(y)).exp());
            worst_sigmoid = worst_sigmoid.max((f64::from(super::sigmoid_approx(y)) - exact_sigmoid).abs());
            worst_tanh = worst_tanh.max((f64::from(super::tanh_approx(y)) - f64::from(y).tanh()).abs());
        }
        assert!(worst_exp <= 2.0, "exp: worst {worst_exp} ulp");
        assert!(worst_sigmoid < 2e-7 && worst_tanh < 3e-7, "sigmoid {worst_sigmoid:e}, tanh {worst_tanh:e}");
        assert!(super::exp_approx(f32::NAN).is_nan());
        assert!((super::sigmoid_approx(-200.0) - 1.0 / (1.0 + 88f32.exp())).abs() < 1e-40, "far left: tiny, not 0/0");
        assert!((super::tanh_approx(200.0) - 1.0).abs() < f32::EPSILON);
    }

    #[test]
    fn tanh_is_within_two_ulp_everywhere() {
        let mut worst: f64 = 0.0;
        for i in 0..400_001 {
            let x = -12.0 + 24.0 * (i as f32) / 400_000.0;
            worst = worst.max(ulps(super::tanh_value(x), f64::from(x).tanh()));
        }
        for &x in &[0.0f32, 1e-30, -1e-8, 0.399_999_98, 0.4, 8.999_999, 9.0, f32::INFINITY] {
            worst = worst.max(ulps(super::tanh_value(x), f64::from(x).tanh()));
        }
        assert!(worst <= 2.0, "worst {worst} ulp");
        assert!(super::tanh_value(f32::NAN).is_nan());
    }
}
