//! Expected model change.

use ndarray::ArrayView2;

/// Expected gradient length (Settles, Craven & Ray 2008, "Multiple-instance active
/// learning"; Settles 2009 §3.4) for softmax regression, in closed form.
///
/// Adding candidate x with label y to the training set adds the log-loss gradient
/// ∇_W ℓ = x̃ (p − e_y)ᵀ, where x̃ = [x, 1] (the 1 for the intercept), p the predicted
/// probabilities and e_y the one-hot label. Its Frobenius norm factorises as
/// ‖x̃‖ · ‖p − e_y‖, and ‖p − e_y‖² = ‖p‖² − 2 p_y + 1. Taking the expectation over the
/// model's own belief about y:
///
///   EGL(x) = ‖x̃‖ · Σ_y p_y ‖p − e_y‖.
///
/// (At the current optimum the training-set gradient is ~0, so this is the length of the
/// whole new gradient, as in the paper.) `x` is m × d, `p` is m × k; rows correspond.
pub fn egl(x: ArrayView2<f32>, p: ArrayView2<f32>) -> Vec<f32> {
    x.rows()
        .into_iter()
        .zip(p.rows())
        .map(|(xr, pr)| {
            let x_norm = (xr.dot(&xr) + 1.0).sqrt();
            let p_sq = pr.dot(&pr);
            let expected: f32 = pr.iter().map(|&py| py * (p_sq - 2.0 * py + 1.0).max(0.0).sqrt()).sum();
            x_norm * expected
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;
    use ndarray::{array, Array1, Array2};

    #[test]
    fn matches_the_explicit_outer_product() {
        // Hand case: x = (3, 4), x̃ = (3, 4, 1), ‖x̃‖ = √26; p = (½, ½): ‖p − e_y‖ = √½ for
        // both y, so EGL = √26 · √½ = √13.
        let x = array![[3.0f32, 4.0], [0.5, -1.0], [0.0, 0.0]];
        let p = array![[0.5f32, 0.5, 0.0], [0.7, 0.2, 0.1], [1.0, 0.0, 0.0]];
        let s = egl(x.view(), p.view());
        assert_abs_diff_eq!(s[0], 13f32.sqrt(), epsilon = 1e-5);
        // A certain prediction with label = prediction changes nothing.
        assert_abs_diff_eq!(s[2], 0.0, epsilon = 1e-6);
        // Row 1 against the definition: build each gradient matrix and take its norm.
        let xt = array![0.5f32, -1.0, 1.0];
        let pr = p.row(1).to_owned();
        let mut expected = 0.0;
        for y in 0..3 {
            let mut e = Array1::<f32>::zeros(3);
            e[y] = 1.0;
            let diff = &pr - &e;
            let g = Array2::from_shape_fn((3, 3), |(i, j)| xt[i] * diff[j]);
            expected += pr[y] * g.iter().map(|v| v * v).sum::<f32>().sqrt();
        }
        assert_abs_diff_eq!(s[1], expected, epsilon = 1e-5);
    }
}
