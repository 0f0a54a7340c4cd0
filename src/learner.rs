//! The active-learning loop: a pool of samples, the labels taught so far, a model, and the
//! strategy that picks what to ask next. Synchronous and free of JS types, so the same
//! code runs in the browser worker, in native tests and in the simulator.

use ndarray::{Array2, ArrayView2, Axis};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::model::softmax::{SoftmaxParams, SoftmaxRegression};
use crate::model::Classifier;
use crate::strategy::{uncertainty, Context, Query, StrategyKind};
use crate::{Error, Result};

/// An active-learning session over a fixed pool.
#[derive(Debug, Clone)]
pub struct Learner {
    features: Array2<f32>,
    labels: Vec<Option<u32>>,
    n_classes: usize,
    model: SoftmaxRegression,
    /// Classes present in the labelled set at the last fit, in model column order.
    fitted_classes: Vec<u32>,
    seed: u64,
    rounds: u64,
    class_names: Vec<String>,
}

impl Learner {
    /// A session over `features` (one row per sample) with `n_classes` classes.
    pub fn new(features: Array2<f32>, n_classes: usize, seed: u64) -> Result<Self> {
        if features.nrows() == 0 {
            return Err(Error::Empty("pool".into()));
        }
        if n_classes < 2 {
            return Err(Error::param("n_classes", format!("need at least 2 classes, got {n_classes}")));
        }
        crate::model::check_finite(features.view())?;
        let n = features.nrows();
        Ok(Learner {
            features,
            labels: vec![None; n],
            n_classes,
            model: SoftmaxParams::default().build()?,
            fitted_classes: Vec::new(),
            seed,
            rounds: 0,
            class_names: Vec::new(),
        })
    }

    /// Names used in reason strings ("margin 0.03 between 'Shirt' and 'T-shirt'").
    pub fn set_class_names(&mut self, names: Vec<String>) {
        self.class_names = names;
    }

    /// Number of samples in the pool.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True when the pool has no samples (never, after `new` succeeds).
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Number of labelled samples.
    pub fn labelled_count(&self) -> usize {
        self.labels.iter().filter(|l| l.is_some()).count()
    }

    /// The label of a sample, if taught.
    pub fn label(&self, index: usize) -> Option<u32> {
        self.labels.get(index).copied().flatten()
    }

    fn check_index(&self, index: usize) -> Result<()> {
        if index >= self.labels.len() {
            return Err(Error::UnknownSample { id: index as u64 });
        }
        Ok(())
    }

    /// Record a label (replacing any earlier one). Does not refit: call [`Learner::fit`].
    pub fn teach(&mut self, index: usize, label: u32) -> Result<()> {
        self.check_index(index)?;
        if label as usize >= self.n_classes {
            return Err(Error::LabelOutOfRange { row: index, label, n_classes: self.n_classes });
        }
        self.labels[index] = Some(label);
        Ok(())
    }

    /// Remove a label (undo).
    pub fn forget(&mut self, index: usize) -> Result<()> {
        self.check_index(index)?;
        self.labels[index] = None;
        Ok(())
    }

    /// Classes that have at least one label.
    fn present_classes(&self) -> Vec<u32> {
        let mut seen = vec![false; self.n_classes];
        for l in self.labels.iter().flatten() {
            seen[*l as usize] = true;
        }
        (0..self.n_classes as u32).filter(|&c| seen[c as usize]).collect()
    }

    /// True when the model has been fitted on at least two classes.
    pub fn is_fitted(&self) -> bool {
        self.fitted_classes.len() >= 2
    }

    /// Refit the model on the labelled samples. With fewer than two classes labelled there
    /// is nothing to separate yet: the model is left unfitted and `Ok(false)` returned.
    pub fn fit(&mut self) -> Result<bool> {
        let classes = self.present_classes();
        if classes.len() < 2 {
            self.fitted_classes.clear();
            return Ok(false);
        }
        // Fit over the classes seen so far only (as scikit-learn does); columns of unseen
        // classes are zero in predictions.
        let mut remap = vec![u32::MAX; self.n_classes];
        for (j, &c) in classes.iter().enumerate() {
            remap[c as usize] = j as u32;
        }
        let rows: Vec<usize> = (0..self.labels.len()).filter(|&i| self.labels[i].is_some()).collect();
        let x = self.features.select(Axis(0), &rows);
        let y: Vec<u32> = rows.iter().map(|&i| remap[self.labels[i].unwrap() as usize]).collect();
        if classes != self.fitted_classes {
            // A new class changes the parameter shape; start afresh rather than warm.
            self.model = SoftmaxParams::default().build()?;
        }
        self.model.fit(x.view(), &y, classes.len())?;
        self.fitted_classes = classes;
        Ok(true)
    }

    /// Class probabilities (n × n_classes) for any feature rows with the pool's width.
    pub fn predict_proba(&self, x: ArrayView2<f32>) -> Result<Array2<f32>> {
        if !self.is_fitted() {
            return Err(Error::State("the model needs labels from at least two classes first".into()));
        }
        let p = self.model.predict_proba(x)?;
        let mut full = Array2::<f32>::zeros((x.nrows(), self.n_classes));
        for (j, &c) in self.fitted_classes.iter().enumerate() {
            full.column_mut(c as usize).assign(&p.column(j));
        }
        Ok(full)
    }

    /// Probabilities for one pool sample.
    pub fn predict_sample(&self, index: usize) -> Result<Vec<f32>> {
        self.check_index(index)?;
        let p = self.predict_proba(self.features.slice(ndarray::s![index..index + 1, ..]))?;
        Ok(p.row(0).to_vec())
    }

    /// The `n` unlabelled samples most worth asking about next, best first. Margin
    /// sampling once the model is fitted; before that, a seeded random draw.
    pub fn query(&mut self, n: usize) -> Result<Vec<Query>> {
        let unlabelled: Vec<usize> = (0..self.labels.len()).filter(|&i| self.labels[i].is_none()).collect();
        if unlabelled.is_empty() {
            return Ok(Vec::new());
        }
        self.rounds += 1;
        let round_seed = self.seed ^ self.rounds.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        if !self.is_fitted() {
            let mut picks = unlabelled.clone();
            picks.shuffle(&mut ChaCha8Rng::seed_from_u64(round_seed));
            picks.truncate(n);
            return Ok(picks
                .into_iter()
                .map(|index| Query { index, score: 0.0, reason: "cold start: random until two classes are labelled".into() })
                .collect());
        }
        let x = self.features.select(Axis(0), &unlabelled);
        let p = self.predict_proba(x.view())?;
        let rows: Vec<usize> = (0..self.labels.len()).filter(|&i| self.labels[i].is_some()).collect();
        let lx = self.features.select(Axis(0), &rows);
        let ly: Vec<u32> = rows.iter().map(|&i| self.labels[i].unwrap()).collect();
        let ctx = Context {
            candidates: x.view(),
            labelled: lx.view(),
            labels: &ly,
            probs: Some(p.view()),
            committee: None,
            embeddings: None,
            class_names: &self.class_names,
            n_classes: self.n_classes,
            seed: round_seed,
        };
        let mut picks = StrategyKind::Margin.select(&ctx, n)?;
        for q in picks.iter_mut() {
            q.index = unlabelled[q.index];
        }
        Ok(picks)
    }

    /// Accuracy of the current model on `(x, y)`; `None` before the model is fitted.
    pub fn accuracy(&self, x: ArrayView2<f32>, y: &[u32]) -> Result<Option<f64>> {
        if x.nrows() != y.len() {
            return Err(Error::Shape { what: "test labels vs rows".into(), expected: x.nrows(), got: y.len() });
        }
        if !self.is_fitted() || y.is_empty() {
            return Ok(None);
        }
        let p = self.predict_proba(x)?;
        let correct = p
            .rows()
            .into_iter()
            .zip(y)
            .filter(|(row, &t)| uncertainty::top_two(*row).1 as u32 == t)
            .count();
        Ok(Some(correct as f64 / y.len() as f64))
    }
}

// ---------------------------------------------------------------------------------------
// Strategy chosen per call, for the npm package and the playground (which switch strategy
// at any moment). `query` above keeps its margin default; this block only adds.
impl Learner {
    /// Like [`Learner::query`], with the strategy given. Strategies that need a fitted model
    /// fall back to the same seeded random draw as `query` until two classes are labelled.
    pub fn query_with(&mut self, strategy: StrategyKind, n: usize) -> Result<Vec<Query>> {
        if strategy.needs_committee() {
            return Err(Error::param("strategy", format!("'{}' needs a committee, which this learner does not train", strategy.name())));
        }
        let unlabelled: Vec<usize> = (0..self.labels.len()).filter(|&i| self.labels[i].is_none()).collect();
        if unlabelled.is_empty() {
            return Ok(Vec::new());
        }
        if strategy.needs_model() && !self.is_fitted() {
            return self.query(n);
        }
        self.rounds += 1;
        let round_seed = self.seed ^ self.rounds.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let x = self.features.select(Axis(0), &unlabelled);
        let p = if self.is_fitted() { Some(self.predict_proba(x.view())?) } else { None };
        let rows: Vec<usize> = (0..self.labels.len()).filter(|&i| self.labels[i].is_some()).collect();
        let lx = self.features.select(Axis(0), &rows);
        let ly: Vec<u32> = rows.iter().map(|&i| self.labels[i].unwrap()).collect();
        let ctx = Context {
            candidates: x.view(),
            labelled: lx.view(),
            labels: &ly,
            probs: p.as_ref().map(|p| p.view()),
            committee: None,
            embeddings: None,
            class_names: &self.class_names,
            n_classes: self.n_classes,
            seed: round_seed,
        };
        let mut picks = strategy.select(&ctx, n)?;
        for q in picks.iter_mut() {
            q.index = unlabelled[q.index];
        }
        Ok(picks)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn blobs() -> (Array2<f32>, Vec<u32>) {
        let mut x = Vec::new();
        let mut y = Vec::new();
        for i in 0..60 {
            let c = (i % 3) as u32;
            let t = i as f32 * 0.37;
            x.extend([c as f32 * 3.0 + t.sin() * 0.5, (c as f32 - 1.0) * 2.0 + t.cos() * 0.5]);
            y.push(c);
        }
        (Array2::from_shape_vec((60, 2), x).unwrap(), y)
    }

    #[test]
    fn cold_start_then_margin_and_accuracy() {
        let (x, y) = blobs();
        let mut l = Learner::new(x.clone(), 3, 42).unwrap();
        let q = l.query(3).unwrap();
        assert_eq!(q.len(), 3);
        assert!(q[0].reason.contains("cold start"));
        assert!(!l.fit().unwrap());
        for i in 0..6 {
            l.teach(i, y[i]).unwrap();
        }
        assert!(l.fit().unwrap());
        let q = l.query(5).unwrap();
        assert_eq!(q.len(), 5);
        assert!(q.iter().all(|q| q.index >= 6), "labelled samples are never queried");
        assert!(q.windows(2).all(|w| w[0].score >= w[1].score));
        assert!(q[0].reason.starts_with("margin"), "{}", q[0].reason);
        let acc = l.accuracy(x.view(), &y).unwrap().unwrap();
        assert!(acc > 0.95, "accuracy {acc}");
        assert!(matches!(l.teach(0, 3), Err(Error::LabelOutOfRange { .. })));
        assert!(matches!(l.teach(60, 0), Err(Error::UnknownSample { id: 60 })));
        l.forget(0).unwrap();
        assert_eq!(l.labelled_count(), 5);
    }

    #[test]
    fn refuses_bad_pool() {
        assert!(Learner::new(Array2::zeros((0, 2)), 3, 0).is_err());
        assert!(Learner::new(array![[1.0f32, f32::INFINITY]], 3, 0).is_err());
        assert!(Learner::new(array![[1.0f32, 2.0]], 1, 0).is_err());
    }

    #[test]
    fn query_with_named_strategy() {
        let (x, y) = blobs();
        let mut l = Learner::new(x, 3, 7).unwrap();
        // Before a fit every strategy draws at random (cold start).
        let q = l.query_with(StrategyKind::Margin, 4).unwrap();
        assert!(q[0].reason.contains("cold start"));
        for i in 0..6 {
            l.teach(i, y[i]).unwrap();
        }
        l.fit().unwrap();
        let m = l.query_with(StrategyKind::Margin, 5).unwrap();
        assert!(m[0].reason.starts_with("margin") && m.iter().all(|q| q.index >= 6));
        let r = l.query_with(StrategyKind::Random, 5).unwrap();
        assert!(r.iter().all(|q| q.reason == "random pick" && q.index >= 6));
        assert_eq!(r.len(), 5);
    }
}
