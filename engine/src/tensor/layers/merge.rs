//! Merges: Add (element-wise sum of same-shaped inputs) and Concat (along the first axis).

use dfdx::prelude::*;

use super::Step;
use crate::tensor::ops::{self, Act};

pub(super) fn add<T: Tape<f32, Cpu>>(step: &mut Step<'_, T>) -> Act {
    let xs: Vec<&Act> = step.inputs.clone();
    ops::sum(step.dev, &xs, step.tape)
}

pub(super) fn concat<T: Tape<f32, Cpu>>(step: &mut Step<'_, T>) -> Act {
    let xs: Vec<&Act> = step.inputs.clone();
    ops::concat(step.dev, &xs, step.tape)
}
