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

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};
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
///
/// Columns that are constant on the training rows are left out of the optimization
/// altogether: their effect is absorbed by the unpenalized intercept, so their optimal
/// weights are exactly 0. On a TF-IDF pool most terms are absent from a few hundred
/// labelled rows, and this shrinks the problem several times over.
struct Standardizer {
    /// Original indices of the non-constant columns, in order.
    active: Vec<usize>,
    /// Mean and scale of each active column.
    mean: Vec<f64>,
    scale: Vec<f64>,
}

impl Standardizer {
    /// Fit on `x` and return the standardized active columns (n × active, f64).
    fn fit(x: ArrayView2<f32>, lambda: f64) -> (Self, Array2<f64>) {
        let (n, d) = x.dim();
        let (mut active, mut mean, mut scale) = (Vec::new(), Vec::new(), Vec::new());
        for c in 0..d {
            let col = x.column(c);
            let first = col[0];
            if col.iter().all(|&v| v == first) {
                continue;
            }
            let m = col.iter().map(|&v| v as f64).sum::<f64>() / n as f64;
            let var = col.iter().map(|&v| (v as f64 - m) * (v as f64 - m)).sum::<f64>() / n as f64;
            active.push(c);
            mean.push(m);
            scale.push((var + lambda).sqrt());
        }
        let z = Array2::from_shape_fn((n, active.len()), |(i, a)| (x[[i, active[a]]] as f64 - mean[a]) / scale[a]);
        (Standardizer { active, mean, scale }, z)
    }

    /// Per-feature penalty weights 1 / s_r² in the standardized coordinates.
    fn penalty(&self) -> Vec<f64> {
        self.scale.iter().map(|s| 1.0 / (s * s)).collect()
    }

    /// Original (W, b) → packed standardized θ = [v (active × k), b'] (the weights of
    /// constant columns fold into the intercept).
    fn to_standard(&self, w: &Array2<f64>, b: &Array1<f64>, x0: ArrayView1<f32>) -> Vec<f64> {
        let (d, k) = w.dim();
        let a = self.active.len();
        let mut theta = vec![0.0; a * k + k];
        let mut is_active = vec![false; d];
        self.active.iter().for_each(|&c| is_active[c] = true);
        for j in 0..k {
            let mut bj = b[j];
            for (r, &c) in self.active.iter().enumerate() {
                theta[r * k + j] = w[[c, j]] * self.scale[r];
                bj += self.mean[r] * w[[c, j]];
            }
            for c in (0..d).filter(|&c| !is_active[c]) {
                bj += x0[c] as f64 * w[[c, j]];
            }
            theta[a * k + j] = bj;
        }
        theta
    }

    /// Packed standardized θ → original (W, b); constant columns get weight 0.
    fn to_original(&self, theta: &[f64], d: usize, k: usize) -> (Array2<f64>, Array1<f64>) {
        let a = self.active.len();
        let mut w = Array2::zeros((d, k));
        let mut b = Array1::zeros(k);
        for j in 0..k {
            let mut bj = theta[a * k + j];
            for (r, &c) in self.active.iter().enumerate() {
                let wv = theta[r * k + j] / self.scale[r];
                w[[c, j]] = wv;
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
    /// Whether the parameters fit `d` features and `k` classes (a model read from a file
    /// is checked before use: a mismatch would otherwise panic inside the product).
    pub fn shape_is(&self, d: usize, k: usize) -> bool {
        self.weights.dim() == (d, k) && self.bias.len() == k
    }

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
        let c = effective_c(self.params.c, k);
        let (std, xf) = Standardizer::fit(x, 1.0 / (c * n as f64));
        let pen = std.penalty();
        // Warm start: reuse the previous solution when the shapes still match.
        let mut theta = if self.weights.dim() == (d, k) {
            std.to_standard(&self.weights, &self.bias, x.row(0))
        } else {
            vec![0.0; std.active.len() * k + k]
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
        // Scores in f32 straight from the f32 pool (no f64 copy of a large pool: the
        // products are sums of d terms, well inside f32's precision for a ranking), then
        // the softmax in f64 for a stable exp.
        let w = self.weights.mapv(|v| v as f32);
        let z = if k <= 4 {
            // Few classes: one pass over the pool, row by row, with the k dot products
            // reading the row from L1 cache. A GEMM would first pack (copy) the whole pool
            // to multiply it by a d × 2 matrix. The finiteness check rides on the scores:
            // a NaN or ±inf feature makes every score of its row non-finite (inf·w is
            // ±inf or, for w = 0, NaN), so only such rows are scanned for the column.
            let wt = w.t().as_standard_layout().into_owned();
            let mut z = Array2::<f32>::zeros((x.nrows(), k));
            for (r, (row, mut zr)) in x.rows().into_iter().zip(z.rows_mut()).enumerate() {
                for j in 0..k {
                    zr[j] = row.dot(&wt.row(j));
                }
                if !zr.iter().all(|v| v.is_finite()) {
                    // No non-finite feature: the score overflowed; name the largest one.
                    let c = row.iter().position(|v| !v.is_finite()).unwrap_or_else(|| {
                        row.iter().enumerate().fold((0, 0.0f32), |b, (c, v)| if v.abs() > b.1 { (c, v.abs()) } else { b }).0
                    });
                    return Err(Error::NonFinite { row: r, col: c, value: row[c] as f64 });
                }
            }
            z
        } else {
            check_finite(x)?;
            x.dot(&w)
        };
        let mut out = Array2::<f32>::zeros((x.nrows(), k));
        let mut row64 = vec![0.0f64; k];
        for (zr, mut or) in z.rows().into_iter().zip(out.rows_mut()) {
            let mut m = f64::NEG_INFINITY;
            for j in 0..k {
                row64[j] = zr[j] as f64 + self.bias[j];
                m = m.max(row64[j]);
            }
            let mut sum = 0.0;
            for v in row64.iter_mut() {
                *v = (*v - m).exp();
                sum += *v;
            }
            for j in 0..k {
                or[j] = (row64[j] / sum) as f32;
            }
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

    #[test]
    fn constant_columns_get_zero_weight_and_change_nothing() {
        let x = array![[0.5f32, -1.0], [1.5, 0.3], [-0.2, 0.8], [2.0, -0.5], [0.0, 1.0], [1.0, 1.0]];
        let y = [0u32, 1, 0, 1, 0, 1];
        let with_const = array![[0.5f32, 7.0, -1.0], [1.5, 7.0, 0.3], [-0.2, 7.0, 0.8], [2.0, 7.0, -0.5], [0.0, 7.0, 1.0], [1.0, 7.0, 1.0]];
        let mut a = SoftmaxParams::default().build().unwrap();
        let mut b = SoftmaxParams::default().build().unwrap();
        a.fit(x.view(), &y, 2).unwrap();
        b.fit(with_const.view(), &y, 2).unwrap();
        assert_eq!(b.coefficients().0.row(1).to_vec(), [0.0, 0.0]);
        let (pa, pb) = (a.predict_proba(x.view()).unwrap(), b.predict_proba(with_const.view()).unwrap());
        assert!(pa.iter().zip(&pb).all(|(u, v)| (u - v).abs() < 1e-5), "{pa} vs {pb}");
        // Warm start from a model whose constant column is now informative still works.
        let mut varied = with_const.clone();
        varied[[0, 1]] = 0.0;
        b.fit(varied.view(), &y, 2).unwrap();
        assert!(b.coefficients().0[[1, 0]] != 0.0);
        let bad = array![[0.5f32, 7.0, f32::NAN]];
        assert!(matches!(b.predict_proba(bad.view()), Err(Error::NonFinite { row: 0, col: 2, .. })));
    }
}
