//! Multinomial (softmax) logistic regression with an L2 penalty on the weights.
//!
//! Objective, the same as scikit-learn's `LogisticRegression(C, multi_class="multinomial")`
//! up to the constant factor 1/n (which does not move the optimum):
//!
//!   J(W, b) = (1/n) Σ_i −log softmax(x_i W + b)_{y_i}  +  (1 / (2 C n)) ‖W‖²
//!
//! The intercept b is not penalized (as in scikit-learn). Minimized with L-BFGS; parameters
//! and arithmetic are f64 so convergence to 1e-3 relative of the reference is routine,
//! while the pool's features stay f32 to halve memory.

use ndarray::{s, Array1, Array2, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

use super::lbfgs::{self, LbfgsParams};
use super::{check_finite, Classifier};
use crate::{Error, Result};

/// Hyperparameters, checked by [`SoftmaxParams::build`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SoftmaxParams {
    c: f64,
    max_iter: usize,
    gtol: f64,
}

impl Default for SoftmaxParams {
    fn default() -> Self {
        SoftmaxParams { c: 1.0, max_iter: 2000, gtol: 1e-6 }
    }
}

impl SoftmaxParams {
    /// Inverse regularization strength, as scikit-learn's `C` (default 1.0, must be > 0).
    pub fn c(mut self, c: f64) -> Self {
        self.c = c;
        self
    }
    /// L-BFGS iteration cap per fit (default 2000, must be ≥ 1; nearly separable data such
    /// as digits needs ~800 from a cold start, warm starts far fewer).
    pub fn max_iter(mut self, n: usize) -> Self {
        self.max_iter = n;
        self
    }
    /// Gradient tolerance on the largest component, in standardized coordinates, relative
    /// to max(1, |J|) (default 1e-6, must be > 0).
    pub fn gtol(mut self, t: f64) -> Self {
        self.gtol = t;
        self
    }
    /// Validate and make an unfitted model.
    pub fn build(self) -> Result<SoftmaxRegression> {
        if !(self.c.is_finite() && self.c > 0.0) {
            return Err(Error::param("C", format!("must be a positive number, got {}", self.c)));
        }
        if self.max_iter == 0 {
            return Err(Error::param("max_iter", "must be at least 1"));
        }
        if !(self.gtol.is_finite() && self.gtol > 0.0) {
            return Err(Error::param("gtol", format!("must be positive, got {}", self.gtol)));
        }
        Ok(SoftmaxRegression { params: self, weights: Array2::zeros((0, 0)), bias: Array1::zeros(0), last_iterations: 0 })
    }
}

/// A fitted (or not yet fitted) softmax regression.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SoftmaxRegression {
    params: SoftmaxParams,
    /// d × k weights.
    weights: Array2<f64>,
    /// k intercepts.
    bias: Array1<f64>,
    /// Iterations the last fit took (for warm-start diagnostics).
    last_iterations: usize,
}

/// Row-wise softmax in place, stable (subtract the row max first).
fn softmax_rows(z: &mut Array2<f64>) {
    for mut row in z.rows_mut() {
        let m = row.fold(f64::NEG_INFINITY, |a, &b| a.max(b));
        let mut sum = 0.0;
        row.mapv_inplace(|v| {
            let e = (v - m).exp();
            sum += e;
            e
        });
        row.mapv_inplace(|v| v / sum);
    }
}

/// Objective and gradient at packed parameters `theta` = [W (row-major d×k), b (k)].
/// `pen[r]` scales the L2 term of feature row r (all ones for the plain objective; the
/// fit uses it to optimize in standardized coordinates, see [`Standardizer`]).
/// Public within the crate so the gradient test can compare against finite differences.
pub(crate) fn objective(theta: &[f64], x: &Array2<f64>, y: &[u32], k: usize, c: f64, pen: &[f64], grad: &mut [f64]) -> f64 {
    let (n, d) = x.dim();
    let w = ArrayView2::from_shape((d, k), &theta[..d * k]).expect("packed shape");
    let b = &theta[d * k..];
    let mut z = x.dot(&w);
    for mut row in z.rows_mut() {
        for (j, v) in row.iter_mut().enumerate() {
            *v += b[j];
        }
    }
    // Log-loss via log-sum-exp, then turn z into probabilities.
    let mut loss = 0.0;
    for (i, row) in z.rows().into_iter().enumerate() {
        let m = row.fold(f64::NEG_INFINITY, |a, &v| a.max(v));
        let lse = m + row.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
        loss += lse - row[y[i] as usize];
    }
    softmax_rows(&mut z);
    for (i, &yi) in y.iter().enumerate() {
        z[[i, yi as usize]] -= 1.0; // z is now P − Y
    }
    let inv_n = 1.0 / n as f64;
    let lambda = 1.0 / (c * n as f64);
    let gw = x.t().dot(&z);
    let mut reg = 0.0;
    for r in 0..d {
        for j in 0..k {
            let wv = w[[r, j]];
            reg += pen[r] * wv * wv;
            grad[r * k + j] = gw[[r, j]] * inv_n + lambda * pen[r] * wv;
        }
    }
    let gb = z.sum_axis(Axis(0));
    for j in 0..k {
        grad[d * k + j] = gb[j] * inv_n;
    }
    loss * inv_n + 0.5 * lambda * reg
}

/// An exact change of variables that makes L-BFGS converge in far fewer iterations on
/// unscaled features (digits' raw 0..16 pixels): optimize over z = (x − μ) / s with
/// weights v = W ∘ s (row-wise) and intercept b' = b + μ·W. Predictions are unchanged, and
/// so is the penalty once it is written as Σ_r v_r² / s_r², hence the optimum is the same
/// as scikit-learn's; only the conditioning improves. s_r = sqrt(var_r + λ) keeps constant
/// columns (all-zero pixels) from dividing by zero: their curvature is then λ / λ = 1.
struct Standardizer {
    mean: Vec<f64>,
    scale: Vec<f64>,
}

impl Standardizer {
    fn fit(x: &Array2<f64>, lambda: f64) -> Self {
        let n = x.nrows() as f64;
        let mean: Vec<f64> = x.mean_axis(Axis(0)).map(|m| m.to_vec()).unwrap_or_default();
        let scale = x
            .columns()
            .into_iter()
            .zip(&mean)
            .map(|(col, &m)| (col.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / n + lambda).sqrt())
            .collect();
        Standardizer { mean, scale }
    }

    /// z = (x − μ) / s.
    fn transform(&self, x: &mut Array2<f64>) {
        for mut row in x.rows_mut() {
            for (r, v) in row.iter_mut().enumerate() {
                *v = (*v - self.mean[r]) / self.scale[r];
            }
        }
    }

    /// Per-feature penalty weights 1 / s_r² in the standardized coordinates.
    fn penalty(&self) -> Vec<f64> {
        self.scale.iter().map(|s| 1.0 / (s * s)).collect()
    }

    /// Original (W, b) → packed standardized θ = [v, b'].
    fn to_standard(&self, w: &Array2<f64>, b: &Array1<f64>) -> Vec<f64> {
        let (d, k) = w.dim();
        let mut theta = vec![0.0; d * k + k];
        for j in 0..k {
            let mut bj = b[j];
            for r in 0..d {
                theta[r * k + j] = w[[r, j]] * self.scale[r];
                bj += self.mean[r] * w[[r, j]];
            }
            theta[d * k + j] = bj;
        }
        theta
    }

    /// Packed standardized θ → original (W, b).
    fn to_original(&self, theta: &[f64], d: usize, k: usize) -> (Array2<f64>, Array1<f64>) {
        let mut w = Array2::zeros((d, k));
        let mut b = Array1::zeros(k);
        for j in 0..k {
            let mut bj = theta[d * k + j];
            for r in 0..d {
                let wv = theta[r * k + j] / self.scale[r];
                w[[r, j]] = wv;
                bj -= self.mean[r] * wv;
            }
            b[j] = bj;
        }
        (w, b)
    }
}

/// The C that makes this softmax match scikit-learn's `LogisticRegression(C)`. With two
/// classes scikit-learn fits the binomial model: one weight vector w with penalty
/// ‖w‖²/(2Cn). A two-column softmax reaches its optimum at w₁ = −w₂ = w/2 (adding a
/// common vector to both columns changes the penalty, not the loss), where its penalty is
/// ‖W‖²/(2Cn) = ‖w‖²/(4Cn): so the same optimum needs C/2. With three or more classes
/// both are the multinomial model and C is C.
fn effective_c(c: f64, k: usize) -> f64 {
    if k == 2 {
        c / 2.0
    } else {
        c
    }
}

impl SoftmaxRegression {
    /// The penalized objective J at the current parameters on (x, y), with the effective
    /// C (see `effective_c`), so it equals scikit-learn's objective for the same weights;
    /// used by tests to compare with scikit-learn's optimum.
    pub fn objective_value(&self, x: ArrayView2<f32>, y: &[u32]) -> Result<f64> {
        let k = self.n_classes();
        if k == 0 {
            return Err(Error::State("model is not fitted".into()));
        }
        let xf = x.mapv(|v| v as f64);
        let mut theta: Vec<f64> = self.weights.iter().copied().collect();
        theta.extend(self.bias.iter());
        let mut g = vec![0.0; theta.len()];
        let pen = vec![1.0; xf.ncols()];
        Ok(objective(&theta, &xf, y, k, effective_c(self.params.c, k), &pen, &mut g))
    }

    /// Weights (d × k) and intercepts (k), for inspection and the GPU forward pass.
    pub fn coefficients(&self) -> (&Array2<f64>, &Array1<f64>) {
        (&self.weights, &self.bias)
    }

    /// L-BFGS iterations of the last fit.
    pub fn last_iterations(&self) -> usize {
        self.last_iterations
    }

    /// Hyperparameters.
    pub fn params(&self) -> SoftmaxParams {
        self.params
    }
}

impl Classifier for SoftmaxRegression {
    fn fit(&mut self, x: ArrayView2<f32>, y: &[u32], n_classes: usize) -> Result<()> {
        let (n, d) = x.dim();
        if n == 0 {
            return Err(Error::Empty("labelled set".into()));
        }
        if y.len() != n {
            return Err(Error::Shape { what: "labels vs feature rows".into(), expected: n, got: y.len() });
        }
        if n_classes < 2 {
            return Err(Error::param("n_classes", format!("need at least 2 classes, got {n_classes}")));
        }
        for (row, &label) in y.iter().enumerate() {
            if label as usize >= n_classes {
                return Err(Error::LabelOutOfRange { row, label, n_classes });
            }
        }
        check_finite(x)?;
        let k = n_classes;
        let mut xf = x.mapv(|v| v as f64);
        let c = effective_c(self.params.c, k);
        let std = Standardizer::fit(&xf, 1.0 / (c * n as f64));
        std.transform(&mut xf);
        let pen = std.penalty();
        // Warm start: reuse the previous solution when the shapes still match.
        let mut theta = if self.weights.dim() == (d, k) {
            std.to_standard(&self.weights, &self.bias)
        } else {
            vec![0.0; d * k + k]
        };
        let res = lbfgs::minimize(
            &mut theta,
            LbfgsParams { max_iter: self.params.max_iter, gtol: self.params.gtol, ..Default::default() },
            |t, g| objective(t, &xf, y, k, c, &pen, g),
        );
        (self.weights, self.bias) = std.to_original(&theta, d, k);
        self.last_iterations = res.iterations;
        Ok(())
    }

    fn predict_proba(&self, x: ArrayView2<f32>) -> Result<Array2<f32>> {
        let k = self.n_classes();
        if k == 0 {
            return Err(Error::State("model is not fitted".into()));
        }
        let d = self.weights.nrows();
        if x.ncols() != d {
            return Err(Error::Shape { what: "feature columns".into(), expected: d, got: x.ncols() });
        }
        check_finite(x)?;
        let mut out = Array2::<f32>::zeros((x.nrows(), k));
        // Chunked so a 100k pool does not need a full f64 copy at once.
        const CHUNK: usize = 4096;
        let mut start = 0;
        while start < x.nrows() {
            let end = (start + CHUNK).min(x.nrows());
            let xf = x.slice(s![start..end, ..]).mapv(|v| v as f64);
            let mut z = xf.dot(&self.weights) + &self.bias;
            softmax_rows(&mut z);
            out.slice_mut(s![start..end, ..]).assign(&z.mapv(|v| v as f32));
            start = end;
        }
        Ok(out)
    }

    fn n_classes(&self) -> usize {
        self.bias.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn gradient_matches_finite_differences() {
        let x = array![[0.5, -1.0, 2.0], [1.5, 0.3, -0.7], [-0.2, 0.8, 0.1], [2.0, -0.5, 0.4], [0.0, 1.0, -1.0]];
        let y = [0u32, 1, 2, 1, 0];
        let (d, k) = (3, 3);
        let theta: Vec<f64> = (0..d * k + k).map(|i| ((i * 37 % 11) as f64 - 5.0) * 0.1).collect();
        let mut g = vec![0.0; theta.len()];
        let pen = [1.0, 0.5, 2.0];
        objective(&theta, &x, &y, k, 0.7, &pen, &mut g);
        let h = 1e-6;
        for i in 0..theta.len() {
            let mut tp = theta.clone();
            let mut tm = theta.clone();
            tp[i] += h;
            tm[i] -= h;
            let mut scratch = vec![0.0; theta.len()];
            let fd = (objective(&tp, &x, &y, k, 0.7, &pen, &mut scratch) - objective(&tm, &x, &y, k, 0.7, &pen, &mut scratch)) / (2.0 * h);
            assert!((fd - g[i]).abs() < 1e-7, "param {i}: analytic {} vs numeric {fd}", g[i]);
        }
    }

    #[test]
    fn rejects_bad_input() {
        let mut m = SoftmaxParams::default().build().unwrap();
        let x = array![[1.0f32, 2.0], [f32::NAN, 0.0]];
        assert!(matches!(m.fit(x.view(), &[0, 1], 2), Err(Error::NonFinite { row: 1, col: 0, .. })));
        let x = array![[1.0f32, 2.0], [3.0, 0.0]];
        assert!(matches!(m.fit(x.view(), &[0, 5], 2), Err(Error::LabelOutOfRange { row: 1, label: 5, .. })));
        assert!(SoftmaxParams::default().c(0.0).build().is_err());
        assert!(m.predict_proba(x.view()).is_err(), "unfitted model must refuse to predict");
    }
}
