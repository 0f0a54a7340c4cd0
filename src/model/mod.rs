//! Classifiers. One small trait: fit on the labelled rows, predict class probabilities.
//! Hyperparameters live in separate checked parameter types (linfa's ParamGuard idea):
//! building a model validates them once, so `fit` never sees a bad value.

pub mod any;
pub mod committee;
pub mod fitted;
pub mod lbfgs;
pub mod mlp;
pub mod softmax;

use ndarray::{Array2, ArrayView2};

use crate::Result;

/// A probabilistic classifier over dense f32 features.
pub trait Classifier {
    /// Fit on `x` (n × d) with labels `y` (n) in `0..n_classes`. Warm-starts from the
    /// previous fit when shapes still match.
    fn fit(&mut self, x: ArrayView2<f32>, y: &[u32], n_classes: usize) -> Result<()>;

    /// Class probabilities, n × n_classes, each row summing to 1.
    fn predict_proba(&self, x: ArrayView2<f32>) -> Result<Array2<f32>>;

    /// Number of classes the model was fitted for (0 before the first fit).
    fn n_classes(&self) -> usize;
}

/// Check features are finite; the error names the first bad row and column.
pub fn check_finite(x: ArrayView2<f32>) -> Result<()> {
    // Fast pass first (a plain scan vectorizes); find the position only on failure.
    if x.iter().all(|v| v.is_finite()) {
        return Ok(());
    }
    for ((r, c), v) in x.indexed_iter() {
        if !v.is_finite() {
            return Err(crate::Error::NonFinite { row: r, col: c, value: *v as f64 });
        }
    }
    Ok(())
}

/// Check a training set: rows, labels and classes agree. The error names the bad row.
pub fn check_labels(x: ArrayView2<f32>, y: &[u32], n_classes: usize) -> Result<()> {
    let n = x.nrows();
    if n == 0 {
        return Err(crate::Error::Empty("labelled set".into()));
    }
    if y.len() != n {
        return Err(crate::Error::Shape { what: "labels vs feature rows".into(), expected: n, got: y.len() });
    }
    if n_classes < 2 {
        return Err(crate::Error::param("n_classes", format!("need at least 2 classes, got {n_classes}")));
    }
    for (row, &label) in y.iter().enumerate() {
        if label as usize >= n_classes {
            return Err(crate::Error::LabelOutOfRange { row, label, n_classes });
        }
    }
    Ok(())
}
