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
//!
//! Why one file of ~730 lines (over the ~600 the project keeps to): 165 of them are its
//! tests, and the objective, its gradient, the sparse and dense designs and the
//! standardization it is solved in are one piece of numerics checked against scikit-learn
//! together (tests/sklearn_reference.rs).

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
    /// Gradient tolerance on the largest component of ∂J/∂(W, b) in the original feature
    /// coordinates (what scikit-learn's lbfgs compares with its `tol`), relative to
    /// max(1, |J|) (default 1e-6, must be > 0).
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

/// The design matrix the objective reads: dense, or a sparse matrix with a column shift.
///
/// The fit centres columns (see [`Standardizer`]), which fills in every zero, so the
/// sparse form keeps the *uncentred* scaled values X̃ = X / s in CSR and applies the
/// centring algebraically: Z = X̃ − 1·shiftᵀ, hence Z·V = X̃·V − 1·(shiftᵀV) and
/// ZᵀG = X̃ᵀG − shift·(1ᵀG). Both are exact rewrites (equal up to rounding), and on a
/// TF-IDF pool, where a few percent of the entries are non-zero, they cost nnz·k instead
/// of n·d·k per product.
#[derive(Clone, Copy)]
pub(crate) enum Design<'a> {
    Dense(ArrayView2<'a, f64>),
    Sparse(&'a SparseDesign),
}

/// Z = X̃ − 1·shiftᵀ with X̃ in compressed sparse rows (see [`Design`]).
#[derive(Debug, Clone)]
pub(crate) struct SparseDesign {
    ncols: usize,
    /// Row i's entries are `indices[indptr[i]..indptr[i + 1]]` (ascending columns).
    indptr: Vec<usize>,
    indices: Vec<u32>,
    values: Vec<f64>,
    /// Subtracted from every row (μ / s in the fit; zeros for a plain sparse matrix).
    shift: Vec<f64>,
}

impl SparseDesign {
    /// CSR of the dense `x` (exact zeros left out), minus `shift` from every row.
    #[cfg(test)]
    pub(crate) fn from_dense(x: ArrayView2<f64>, shift: Vec<f64>) -> Self {
        let mut s = SparseDesign { ncols: x.ncols(), indptr: vec![0], indices: Vec::new(), values: Vec::new(), shift };
        for row in x.rows() {
            for (c, &v) in row.iter().enumerate() {
                if v != 0.0 {
                    s.indices.push(c as u32);
                    s.values.push(v);
                }
            }
            s.indptr.push(s.values.len());
        }
        s
    }
}

impl Design<'_> {
    fn dim(&self) -> (usize, usize) {
        match self {
            Design::Dense(x) => x.dim(),
            Design::Sparse(s) => (s.indptr.len() - 1, s.ncols),
        }
    }

    /// Z·W (n × k).
    fn times(&self, w: ArrayView2<f64>) -> Array2<f64> {
        match self {
            Design::Dense(x) => x.dot(&w),
            Design::Sparse(s) => {
                let (n, k) = (s.indptr.len() - 1, w.ncols());
                let w = w.as_slice().expect("packed weights are row-major");
                // shiftᵀW, subtracted from every row.
                let mut base = vec![0.0; k];
                for (r, &m) in s.shift.iter().enumerate() {
                    if m != 0.0 {
                        base.iter_mut().zip(&w[r * k..r * k + k]).for_each(|(b, wv)| *b -= m * wv);
                    }
                }
                let mut z = Array2::zeros((n, k));
                let zs = z.as_slice_mut().expect("fresh array");
                for i in 0..n {
                    let zi = &mut zs[i * k..i * k + k];
                    zi.copy_from_slice(&base);
                    for p in s.indptr[i]..s.indptr[i + 1] {
                        let (c, v) = (s.indices[p] as usize, s.values[p]);
                        zi.iter_mut().zip(&w[c * k..c * k + k]).for_each(|(zv, wv)| *zv += v * wv);
                    }
                }
                z
            }
        }
    }

    /// Zᵀ·G (d × k), given `gsum` = 1ᵀG (the column sums the intercept gradient needs anyway).
    fn t_times(&self, g: &Array2<f64>, gsum: &Array1<f64>) -> Array2<f64> {
        match self {
            Design::Dense(x) => x.t().dot(g),
            Design::Sparse(s) => {
                let k = g.ncols();
                let gs = g.as_slice().expect("z is row-major");
                let mut out = Array2::zeros((s.ncols, k));
                let os = out.as_slice_mut().expect("fresh array");
                for (r, &m) in s.shift.iter().enumerate() {
                    os[r * k..r * k + k].iter_mut().zip(gsum).for_each(|(o, gj)| *o = -m * gj);
                }
                for i in 0..s.indptr.len() - 1 {
                    let gi = &gs[i * k..i * k + k];
                    for p in s.indptr[i]..s.indptr[i + 1] {
                        let (c, v) = (s.indices[p] as usize, s.values[p]);
                        os[c * k..c * k + k].iter_mut().zip(gi).for_each(|(o, gv)| *o += v * gv);
                    }
                }
                out
            }
        }
    }
}

/// Objective and gradient at packed parameters `theta` = [W (row-major d×k), b (k)].
/// `pen[r]` scales the L2 term of feature row r (all ones for the plain objective; the
/// fit uses it to optimize in standardized coordinates, see [`Standardizer`]).
/// Public within the crate so the gradient test can compare against finite differences.
pub(crate) fn objective(theta: &[f64], x: &Array2<f64>, y: &[u32], k: usize, c: f64, pen: &[f64], grad: &mut [f64]) -> f64 {
    objective_on(theta, Design::Dense(x.view()), y, k, c, pen, grad)
}

/// [`objective`] on either form of the design matrix.
pub(crate) fn objective_on(theta: &[f64], x: Design, y: &[u32], k: usize, c: f64, pen: &[f64], grad: &mut [f64]) -> f64 {
    let (n, d) = x.dim();
    let w = ArrayView2::from_shape((d, k), &theta[..d * k]).expect("packed shape");
    let b = &theta[d * k..];
    let mut z = x.times(w);
    // One pass per row: log-sum-exp for the loss, and the same exponentials turned into
    // probabilities, then P − Y (each exp computed once).
    let mut loss = 0.0;
    for (mut row, &yi) in z.rows_mut().into_iter().zip(y) {
        let mut m = f64::NEG_INFINITY;
        for (v, bj) in row.iter_mut().zip(b) {
            *v += bj;
            m = m.max(*v);
        }
        let zy = row[yi as usize];
        let mut sum = 0.0;
        for v in row.iter_mut() {
            *v = (*v - m).exp();
            sum += *v;
        }
        loss += m + sum.ln() - zy;
        let inv = 1.0 / sum;
        row.mapv_inplace(|e| e * inv);
        row[yi as usize] -= 1.0; // z is now P − Y
    }
    let inv_n = 1.0 / n as f64;
    let lambda = 1.0 / (c * n as f64);
    let gb = z.sum_axis(Axis(0));
    let gw = x.t_times(&z, &gb);
    let mut reg = 0.0;
    for r in 0..d {
        for j in 0..k {
            let wv = w[[r, j]];
            reg += pen[r] * wv * wv;
            grad[r * k + j] = gw[[r, j]] * inv_n + lambda * pen[r] * wv;
        }
    }
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
    /// Fit on `x`: the active columns, their means and scales, and how many of their
    /// entries are non-zero (to choose the design's form, see [`Standardizer::design`]).
    /// The statistics are accumulated row by row (the pool is row-major, and a column walk
    /// strides over the whole matrix once per pass); each column's sums still run over the
    /// rows in order, so the figures are the same as a column-wise pass, bit for bit.
    fn fit(x: ArrayView2<f32>, lambda: f64) -> (Self, usize) {
        let (n, d) = x.dim();
        let x0 = x.row(0).to_vec();
        let mut varies = vec![false; d];
        let mut sum = vec![0.0f64; d];
        for row in x.rows() {
            // Zipped slices (no index, no bounds check) let this loop, which reads every
            // entry of the labelled matrix on each fit, vectorize.
            let row = row.as_slice().map(std::borrow::Cow::Borrowed).unwrap_or_else(|| row.to_vec().into());
            for (((vr, s), &v), &f) in varies.iter_mut().zip(sum.iter_mut()).zip(row.iter()).zip(&x0) {
                *vr |= v != f;
                *s += v as f64;
            }
        }
        let active: Vec<usize> = (0..d).filter(|&c| varies[c]).collect();
        let mean: Vec<f64> = active.iter().map(|&c| sum[c] / n as f64).collect();
        let mut sq = vec![0.0f64; active.len()];
        let mut nnz = 0;
        for row in x.rows() {
            for ((q, &c), &m) in sq.iter_mut().zip(&active).zip(&mean) {
                let v = row[c];
                nnz += (v != 0.0) as usize;
                *q += (v as f64 - m) * (v as f64 - m);
            }
        }
        let scale = sq.iter().map(|&q| (q / n as f64 + lambda).sqrt()).collect();
        (Standardizer { active, mean, scale }, nnz)
    }

    /// The standardized active columns (n × active, f64), dense.
    fn dense(&self, x: ArrayView2<f32>) -> Array2<f64> {
        let (active, mean, scale) = (&self.active, &self.mean, &self.scale);
        Array2::from_shape_fn((x.nrows(), active.len()), |(i, a)| (x[[i, active[a]]] as f64 - mean[a]) / scale[a])
    }

    /// The same matrix in sparse form: x / s in CSR with shift μ / s (see [`Design`]).
    fn sparse(&self, x: ArrayView2<f32>) -> SparseDesign {
        let shift = self.mean.iter().zip(&self.scale).map(|(m, s)| m / s).collect();
        let mut z = SparseDesign { ncols: self.active.len(), indptr: vec![0], indices: Vec::new(), values: Vec::new(), shift };
        for row in x.rows() {
            for (a, (&c, &s)) in self.active.iter().zip(&self.scale).enumerate() {
                let v = row[c];
                if v != 0.0 {
                    z.indices.push(a as u32);
                    z.values.push(v as f64 / s);
                }
            }
            z.indptr.push(z.values.len());
        }
        z
    }

    /// Largest |x0_c| over the constant columns c (their value in any row, e.g. row 0).
    fn constant_max(&self, x0: ArrayView1<f32>) -> f64 {
        let mut is_active = vec![false; x0.len()];
        self.active.iter().for_each(|&c| is_active[c] = true);
        x0.iter().zip(&is_active).filter(|(_, &a)| !a).fold(0.0f64, |m, (&v, _)| m.max((v as f64).abs()))
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

    /// Largest component of the gradient in the original coordinates, from the packed
    /// standardized gradient `g` = [∂J/∂v (active × k), ∂J/∂b' (k)]. With W = v / s and
    /// b = b' − μ·W, the chain rule gives ∂J/∂W_r = s_r ∂J/∂v_r + μ_r ∂J/∂b' and
    /// ∂J/∂b = ∂J/∂b'; a constant column c (weight 0, value x0_c) has ∂J/∂W_c =
    /// x0_c ∂J/∂b. This is the quantity scikit-learn's lbfgs tests against `tol`, so a
    /// fit stops where the reference would. (The standardized gradient is larger by 1/s_r
    /// on columns with s_r < 1, such as [0, 1] pixels, and smaller on wide columns such as
    /// digits' 0..16; on fashion-MNIST the change saves a few percent of the iterations.)
    fn original_grad_max(&self, g: &[f64], k: usize, const_max: f64) -> f64 {
        let a = self.active.len();
        let gb = &g[a * k..a * k + k];
        let gb_max = gb.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let mut m = gb_max.max(const_max * gb_max);
        for r in 0..a {
            let (sr, mr) = (self.scale[r], self.mean[r]);
            for (gv, gbj) in g[r * k..r * k + k].iter().zip(gb) {
                m = m.max((sr * gv + mr * gbj).abs());
            }
        }
        m
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

/// Density (non-zero fraction of the active columns' raw entries) below which the fit uses
/// the sparse design. Timed with the ignored test `sparse_break_even` (400 × 784, k = 2 and
/// 10, on a shared machine): sparse is 1.5–4× faster at 0.05–0.1, about even at 0.2, and
/// 1.5–3× slower at 0.3–0.5 (fashion-MNIST's pixels are ~0.5 dense, spam's TF-IDF ~0.02).
const SPARSE_BELOW: f64 = 0.15;

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

    /// Input width d of a fitted model (None before the first fit). An error when the
    /// weights and intercepts disagree (only possible in decoded bytes).
    pub fn input_width(&self) -> Result<Option<usize>> {
        let (d, k) = self.weights.dim();
        if k != self.bias.len() {
            return Err(Error::Shape { what: "softmax weights columns vs intercepts".into(), expected: self.bias.len(), got: k });
        }
        Ok((k > 0).then_some(d))
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
        let (std, nnz) = Standardizer::fit(x, 1.0 / (c * n as f64));
        // Sparse products pay an index load and a scattered access per entry, so they win
        // only well below full density (see SPARSE_BELOW).
        let cells = n * std.active.len();
        let (dense, sparse) = if (nnz as f64) < SPARSE_BELOW * cells as f64 {
            (None, Some(std.sparse(x)))
        } else {
            (Some(std.dense(x)), None)
        };
        let design = match (&dense, &sparse) {
            (Some(z), _) => Design::Dense(z.view()),
            (_, Some(z)) => Design::Sparse(z),
            _ => unreachable!("one form is built"),
        };
        let pen = std.penalty();
        // Largest |value| of a constant column, for the convergence test.
        let const_max = std.constant_max(x.row(0));
        // Warm start: reuse the previous solution when the shapes still match.
        let mut theta = if self.weights.dim() == (d, k) {
            std.to_standard(&self.weights, &self.bias, x.row(0))
        } else {
            vec![0.0; std.active.len() * k + k]
        };
        let res = lbfgs::minimize(
            &mut theta,
            LbfgsParams { max_iter: self.params.max_iter, gtol: self.params.gtol, ..Default::default() },
            Some(&|g: &[f64]| std.original_grad_max(g, k, const_max)),
            |t, g| objective_on(t, design, y, k, c, &pen, g),
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
    fn convergence_gauge_is_the_original_gradient() {
        // Column 1 is constant (and not zero), so the gauge's constant-column term counts.
        let x = array![[0.5f32, 3.0, -1.0], [1.5, 3.0, 0.3], [-0.2, 3.0, 0.8], [2.0, 3.0, -0.5], [0.0, 3.0, 1.0], [1.0, 3.0, 4.0]];
        let y = [0u32, 1, 2, 1, 0, 2];
        let (n, d, k, c) = (6, 3, 3, 0.8);
        let (std, _) = Standardizer::fit(x.view(), 1.0 / (c * n as f64));
        assert_eq!(std.active, [0, 2]);
        let z = std.dense(x.view());
        let theta: Vec<f64> = (0..2 * k + k).map(|i| ((i * 37 % 11) as f64 - 5.0) * 0.1).collect();
        let mut g_std = vec![0.0; theta.len()];
        let f_std = objective(&theta, &z, &y, k, c, &std.penalty(), &mut g_std);
        // The same point in the original coordinates, with the plain objective.
        let (w, b) = std.to_original(&theta, d, k);
        let mut packed: Vec<f64> = w.iter().copied().collect();
        packed.extend(b.iter());
        let mut g = vec![0.0; packed.len()];
        let f = objective(&packed, &x.mapv(|v| v as f64), &y, k, c, &[1.0; 3], &mut g);
        assert!((f - f_std).abs() < 1e-12, "{f} vs {f_std}");
        let want = g.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let got = std.original_grad_max(&g_std, k, std.constant_max(x.row(0)));
        assert!((got - want).abs() < 1e-12 * want.max(1.0), "{got} vs {want}");
    }

    #[test]
    fn sparse_design_matches_dense() {
        // A random 90 % sparse matrix, with and without a column shift (the fit's centring).
        let (n, d, k) = (40, 25, 3);
        let mut state = 12345u64;
        let mut next = move || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let x = Array2::from_shape_fn((n, d), |_| if next() < 0.1 { next() * 4.0 - 1.0 } else { 0.0 });
        let y: Vec<u32> = (0..n).map(|_| (next() * k as f64) as u32 % k as u32).collect();
        let theta: Vec<f64> = (0..d * k + k).map(|_| next() - 0.5).collect();
        let pen: Vec<f64> = (0..d).map(|_| 0.5 + next()).collect();
        for shift in [vec![0.0; d], (0..d).map(|_| next() - 0.3).collect()] {
            let centred = &x - &ArrayView1::from(&shift);
            let sparse = SparseDesign::from_dense(x.view(), shift.clone());
            let (mut gd, mut gs) = (vec![0.0; theta.len()], vec![0.0; theta.len()]);
            let fd = objective(&theta, &centred, &y, k, 0.7, &pen, &mut gd);
            let fs = objective_on(&theta, Design::Sparse(&sparse), &y, k, 0.7, &pen, &mut gs);
            assert!((fd - fs).abs() <= 1e-10 * fd.abs(), "{fd} vs {fs}");
            let gmax = gd.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            for (i, (a, b)) in gd.iter().zip(&gs).enumerate() {
                assert!((a - b).abs() <= 1e-10 * gmax, "grad {i}: {a} vs {b}");
            }
        }
    }

    /// Timing behind `SPARSE_BELOW`: one objective + gradient, dense vs sparse, on a
    /// 400-row labelled set at several densities (`cargo test --release -- --ignored
    /// sparse_break_even --nocapture`).
    #[test]
    #[ignore]
    fn sparse_break_even() {
        let (n, d) = (400, 784);
        for k in [2, 10] {
            for density in [0.05, 0.1, 0.2, 0.3, 0.5] {
                let mut state = 7u64;
                let mut next = move || {
                    state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    (state >> 11) as f64 / (1u64 << 53) as f64
                };
                let x = Array2::from_shape_fn((n, d), |_| if next() < density { next() } else { 0.0 });
                let shift: Vec<f64> = (0..d).map(|_| next() * 0.1).collect();
                let centred = &x - &ArrayView1::from(&shift);
                let sparse = SparseDesign::from_dense(x.view(), shift);
                let y: Vec<u32> = (0..n).map(|i| (i % k) as u32).collect();
                let theta: Vec<f64> = (0..d * k + k).map(|_| next() - 0.5).collect();
                let pen = vec![1.0; d];
                let mut g = vec![0.0; theta.len()];
                let reps = 200;
                let t = std::time::Instant::now();
                for _ in 0..reps {
                    objective(&theta, &centred, &y, k, 1.0, &pen, &mut g);
                }
                let dense_us = t.elapsed().as_secs_f64() * 1e6 / reps as f64;
                let t = std::time::Instant::now();
                for _ in 0..reps {
                    objective_on(&theta, Design::Sparse(&sparse), &y, k, 1.0, &pen, &mut g);
                }
                let sparse_us = t.elapsed().as_secs_f64() * 1e6 / reps as f64;
                println!("k={k} density={density}: dense {dense_us:.0} µs, sparse {sparse_us:.0} µs");
            }
        }
    }

    #[test]
    fn fit_is_the_same_on_the_sparse_path() {
        // 95 % zeros: the fit takes the sparse design; the same data as a dense objective
        // at the fitted optimum must give a gradient that is (near) zero.
        let (n, d) = (60, 30);
        let x = Array2::from_shape_fn((n, d), |(i, j)| if (i * 7 + j * 13) % 20 == 0 { ((i + j) % 5) as f32 * 0.3 + 0.1 } else { 0.0 });
        let y: Vec<u32> = (0..n).map(|i| ((i * 7) % 20 < 9) as u32).collect();
        let mut m = SoftmaxParams::default().gtol(1e-9).max_iter(1000).build().unwrap();
        m.fit(x.view(), &y, 2).unwrap();
        let (w, b) = m.coefficients();
        let mut packed: Vec<f64> = w.iter().copied().collect();
        packed.extend(b.iter());
        let mut g = vec![0.0; packed.len()];
        objective(&packed, &x.mapv(|v| v as f64), &y, 2, effective_c(1.0, 2), &vec![1.0; d], &mut g);
        let gmax = g.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        assert!(gmax < 1e-6, "dense gradient at the sparse fit's optimum: {gmax}");
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
