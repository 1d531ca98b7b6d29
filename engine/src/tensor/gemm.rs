//! Matrix products on row-major `f32` slices, through the `gemm` crate that dfdx itself uses.
//!
//! This is the engine's one `unsafe` block: `gemm::gemm` takes raw pointers and strides. The safe
//! wrapper checks every slice length against the sizes first, so no caller can read or write out
//! of bounds.

/// How an operand is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stored {
    /// As the matrix itself, row-major.
    Plain,
    /// As its transpose, row-major (so the product reads it column by column).
    Transposed,
}

/// `dst[m x n] = (accumulate ? dst : 0) + a[m x k] * b[k x n]`, on the rayon pool when the
/// product is large enough to pay (gemm decides; it splits rows and columns, never the sum, so
/// the result does not depend on the thread count).
///
/// # Panics
/// If a slice is shorter than its sizes say (a caller bug, never input-dependent).
pub(crate) fn matmul(
    dst: &mut [f32],
    a: &[f32],
    a_stored: Stored,
    b: &[f32],
    b_stored: Stored,
    dims: (usize, usize, usize),
    accumulate: bool,
) {
    matmul_on(
        dst,
        (a, a_stored),
        (b, b_stored),
        dims,
        accumulate,
        gemm::Parallelism::Rayon(rayon::current_num_threads()),
    );
}

/// [`matmul`] on the calling thread only: for the many small products of work that is already
/// split between threads (a recurrent layer's steps, each thread a share of the batch), where
/// waking the pool for each product costs more than it saves.
pub(crate) fn matmul_serial(
    dst: &mut [f32],
    a: &[f32],
    a_stored: Stored,
    b: &[f32],
    b_stored: Stored,
    dims: (usize, usize, usize),
    accumulate: bool,
) {
    matmul_on(dst, (a, a_stored), (b, b_stored), dims, accumulate, gemm::Parallelism::None);
}

#[expect(clippy::similar_names, reason = "rs/cs pairs are the standard gemm names")]
fn matmul_on(
    dst: &mut [f32],
    (a, a_stored): (&[f32], Stored),
    (b, b_stored): (&[f32], Stored),
    (m, k, n): (usize, usize, usize),
    accumulate: bool,
    parallelism: gemm::Parallelism,
) {
    assert!(dst.len() >= m * n, "gemm: dst has {} values, needs {m}x{n}", dst.len());
    assert!(a.len() >= m * k, "gemm: lhs has {} values, needs {m}x{k}", a.len());
    assert!(b.len() >= k * n, "gemm: rhs has {} values, needs {k}x{n}", b.len());
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            dst[..m * n].fill(0.0);
        }
        return;
    }
    let to_isize = |v: usize| isize::try_from(v).unwrap_or(isize::MAX);
    // (row stride, column stride) of each operand as stored.
    let (a_rs, a_cs) = match a_stored {
        Stored::Plain => (to_isize(k), 1),
        Stored::Transposed => (1, to_isize(m)),
    };
    let (b_rs, b_cs) = match b_stored {
        Stored::Plain => (to_isize(n), 1),
        Stored::Transposed => (1, to_isize(k)),
    };
    #[expect(unsafe_code, reason = "gemm's API is raw pointers; the lengths were checked above")]
    // SAFETY: dst holds m*n values laid out with strides (n, 1); a holds m*k values and b k*n
    // values with the strides chosen above, all checked by the asserts. The three slices are
    // distinct borrows, so dst does not alias a or b.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            to_isize(n),
            accumulate,
            a.as_ptr(),
            a_cs,
            a_rs,
            b.as_ptr(),
            b_cs,
            b_rs,
            1.0,
            1.0,
            false,
            false,
            false,
            parallelism,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(a: &[f32], b: &[f32], m: usize, k: usize, n: usize) -> Vec<f32> {
        let mut out = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                out[i * n + j] = (0..k).map(|p| a[i * k + p] * b[p * n + j]).sum();
            }
        }
        out
    }

    fn transpose(x: &[f32], rows: usize, cols: usize) -> Vec<f32> {
        let mut out = vec![0.0; x.len()];
        for r in 0..rows {
            for c in 0..cols {
                out[c * rows + r] = x[r * cols + c];
            }
        }
        out
    }

    #[test]
    fn all_layouts_match_a_naive_product() {
        let (m, k, n) = (5, 7, 3);
        let a: Vec<f32> = (0..m * k).map(|i| (i as f32 * 0.37).sin()).collect();
        let b: Vec<f32> = (0..k * n).map(|i| (i as f32 * 0.21).cos()).collect();
        let want = naive(&a, &b, m, k, n);
        let at = transpose(&a, m, k);
        let bt = transpose(&b, k, n);
        for (aa, sa) in [(&a, Stored::Plain), (&at, Stored::Transposed)] {
            for (bb, sb) in [(&b, Stored::Plain), (&bt, Stored::Transposed)] {
                let mut got = vec![1.0; m * n];
                matmul(&mut got, aa, sa, bb, sb, (m, k, n), false);
                for (g, w) in got.iter().zip(&want) {
                    assert!((g - w).abs() < 1e-5, "{sa:?} {sb:?}: {g} vs {w}");
                }
                matmul(&mut got, aa, sa, bb, sb, (m, k, n), true);
                for (g, w) in got.iter().zip(&want) {
                    assert!((g - 2.0 * w).abs() < 1e-5, "accumulate {sa:?} {sb:?}");
                }
            }
        }
    }
}
