//! Accuracy without a test set: k-fold cross-validation on the labelled samples, with the
//! standard error of the fold mean (Hastie, Tibshirani & Friedman, *Elements of
//! Statistical Learning*, §7.10). The SE treats folds as independent, which they are not
//! (their training sets overlap), so it is somewhat optimistic (Bengio & Grandvalet 2004):
//! show it as a guide, not a confidence interval.
//!
//! Every labelled row is predicted exactly once, by the fold model that did not see it, so
//! the out-of-fold predictions also give a confusion matrix over all labelled rows (what
//! the dashboard shows: which classes the model mixes up, without a test set).

use ndarray::{ArrayView2, Axis};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::calibration;
use crate::model::any::{argmax_rows, ClassMapped, ModelSpec};
use crate::{Error, Result};

/// A cross-validated accuracy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CvEstimate {
    /// Mean of the fold accuracies.
    pub mean: f64,
    /// Standard error: sd of the fold accuracies / √folds.
    pub se: f64,
    /// Folds used (min(k, n)).
    pub folds: usize,
    /// Out-of-fold confusion counts, `n_classes × n_classes` row-major: row = the label
    /// given, column = the class predicted by the fold model that did not train on it.
    /// Sums to the number of labelled rows.
    pub confusion: Vec<u32>,
    /// The temperature fitted on the out-of-fold predictions ([`crate::calibration`]);
    /// 1 when too few. What is shown uses [`crate::calibration::shown`] of it.
    pub temperature: f64,
    /// Expected calibration error of the out-of-fold predictions as the model gives them,
    /// and with the shown temperature (in-sample for T: an optimistic figure).
    pub ece: f64,
    pub ece_calibrated: f64,
}

/// Assign each row a fold in `0..k`, stratified: each class's rows, shuffled by `seed`,
/// are dealt round-robin, continuing where the previous class stopped, so every fold
/// gets a near-equal share of every class.
pub fn stratified_folds(y: &[u32], k: usize, seed: u64) -> Vec<usize> {
    let n_classes = y.iter().max().map_or(0, |&m| m as usize + 1);
    let mut by_class: Vec<Vec<usize>> = vec![Vec::new(); n_classes];
    for (i, &l) in y.iter().enumerate() {
        by_class[l as usize].push(i);
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut fold = vec![0; y.len()];
    let mut next = 0;
    for rows in by_class.iter_mut() {
        rows.shuffle(&mut rng);
        for &i in rows.iter() {
            fold[i] = next % k;
            next += 1;
        }
    }
    fold
}

/// k-fold cross-validated accuracy of `spec` on (x, y). Needs at least 2 rows and 2
/// classes; a fold whose training part has a single class predicts that class.
pub fn cross_validate(spec: &ModelSpec, x: ArrayView2<f32>, y: &[u32], n_classes: usize, k: usize, seed: u64) -> Result<CvEstimate> {
    let n = y.len();
    if x.nrows() != n {
        return Err(Error::Shape { what: "labels vs feature rows".into(), expected: x.nrows(), got: n });
    }
    if k < 2 {
        return Err(Error::param("folds", format!("need at least 2, got {k}")));
    }
    if n < 2 {
        return Err(Error::State(format!("cross-validation needs at least 2 labelled samples, have {n}")));
    }
    let folds = k.min(n);
    let assignment = stratified_folds(y, folds, seed);
    let mut accs = Vec::with_capacity(folds);
    let mut confusion = vec![0u32; n_classes * n_classes];
    // Every row's out-of-fold probabilities, in row order: what calibration is fitted on.
    let mut oof = vec![0f32; n * n_classes];
    for f in 0..folds {
        let train: Vec<usize> = (0..n).filter(|&i| assignment[i] != f).collect();
        let test: Vec<usize> = (0..n).filter(|&i| assignment[i] == f).collect();
        if test.is_empty() {
            continue;
        }
        let mut model = ClassMapped::new(spec.clone(), n_classes, seed)?;
        let ytr: Vec<u32> = train.iter().map(|&i| y[i]).collect();
        model.fit(x.select(Axis(0), &train).view(), &ytr)?;
        let proba = model.predict_proba(x.select(Axis(0), &test).view())?;
        for (&i, row) in test.iter().zip(proba.rows()) {
            for (dst, &p) in oof[i * n_classes..(i + 1) * n_classes].iter_mut().zip(row.iter()) {
                *dst = p;
            }
        }
        let pred = argmax_rows(proba.view());
        let hits = test.iter().zip(&pred).filter(|(&i, &p)| y[i] == p).count();
        for (&i, &p) in test.iter().zip(&pred) {
            // `ClassMapped` predicts only classes in 0..n_classes, and labels were checked
            // against n_classes when taught; bounds-check anyway rather than panic.
            if let Some(c) = confusion.get_mut(y[i] as usize * n_classes + p as usize) {
                *c += 1;
            }
        }
        accs.push(hits as f64 / test.len() as f64);
    }
    let m = accs.len() as f64;
    let mean = accs.iter().sum::<f64>() / m;
    let var = if accs.len() > 1 { accs.iter().map(|a| (a - mean) * (a - mean)).sum::<f64>() / (m - 1.0) } else { 0.0 };
    let temperature = calibration::fit_temperature(&oof, y, n_classes);
    let ece = calibration::ece(&oof, y, n_classes);
    let ece_calibrated = calibration::ece(&calibration::temper(&oof, n_classes, calibration::shown(temperature)), y, n_classes);
    Ok(CvEstimate { mean, se: (var / m).sqrt(), folds: accs.len(), confusion, temperature, ece, ece_calibrated })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    #[test]
    fn folds_are_stratified() {
        let y: Vec<u32> = (0..30).map(|i| if i < 20 { 0 } else { 1 }).collect();
        let f = stratified_folds(&y, 5, 3);
        for k in 0..5 {
            let rows: Vec<usize> = (0..30).filter(|&i| f[i] == k).collect();
            assert_eq!(rows.len(), 6);
            assert_eq!(rows.iter().filter(|&&i| y[i] == 1).count(), 2);
        }
    }

    #[test]
    fn separable_data_scores_high_and_noise_scores_near_chance() {
        // Two well-separated groups: every fold is right.
        let x = Array2::from_shape_fn((40, 1), |(i, _)| if i % 2 == 0 { -2.0 - (i as f32) * 0.01 } else { 2.0 + (i as f32) * 0.01 });
        let y: Vec<u32> = (0..40).map(|i| (i % 2) as u32).collect();
        let e = cross_validate(&ModelSpec::default(), x.view(), &y, 2, 5, 0).unwrap();
        assert_eq!((e.mean, e.se, e.folds), (1.0, 0.0, 5));
        // All right: the confusion matrix is diagonal, 20 of each class.
        assert_eq!(e.confusion, vec![20, 0, 0, 20]);
        // Labels unrelated to the (constant) feature: the model predicts the majority of
        // its training part; hand count: each fold's training set is 4:4 → ties → first class.
        let x = Array2::<f32>::zeros((10, 1));
        let y: Vec<u32> = (0..10).map(|i| (i % 2) as u32).collect();
        let e = cross_validate(&ModelSpec::default(), x.view(), &y, 2, 5, 0).unwrap();
        assert!((e.mean - 0.5).abs() < 1e-12, "{e:?}");
        // Every fold model predicts class 0, so each row's prediction is 0: column 0 holds
        // all 5 + 5 rows.
        assert_eq!(e.confusion, vec![5, 0, 5, 0]);
        assert!(cross_validate(&ModelSpec::default(), x.view(), &y[..1], 2, 5, 0).is_err());
    }

    #[test]
    fn confusion_counts_out_of_fold_predictions_by_hand() {
        // Three classes at three corners, (-3, 0), (3, 0) and (0, 3), four rows each, and
        // one row labelled 2 that sits among the 0s (a labelling slip). Every fold model
        // sees the other rows, so the slip is predicted as 0 and everything else is right:
        // row 2 of the matrix is [1, 0, 4], the diagonal otherwise full.
        let mut xs: Vec<f32> = Vec::new();
        let mut y: Vec<u32> = Vec::new();
        for (c, (cx, cy)) in [(0u32, (-3.0f32, 0.0f32)), (1, (3.0, 0.0)), (2, (0.0, 3.0))] {
            for j in 0..4 {
                xs.extend([cx + j as f32 * 0.1, cy - j as f32 * 0.1]);
                y.push(c);
            }
        }
        xs.extend([-3.05, 0.05]);
        y.push(2);
        let x = Array2::from_shape_vec((13, 2), xs).unwrap();
        let e = cross_validate(&ModelSpec::default(), x.view(), &y, 3, 4, 1).unwrap();
        assert_eq!(e.confusion, vec![4, 0, 0, 0, 4, 0, 1, 0, 4]);
        assert_eq!(e.confusion.iter().sum::<u32>(), 13);
    }
}
