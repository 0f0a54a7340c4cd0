//! Training on the labelled rows (a single model or a bootstrap committee) and predicting.

use ndarray::{s, Array2, ArrayView2};

use super::{Learner, DEFAULT_COMMITTEE};
use crate::strategy::StrategyKind;
use crate::model::any::{argmax_rows, ClassMapped};
use crate::model::committee::Committee;
use crate::model::fitted::{Fitted, MemberProbs};
use crate::{Error, Result};

impl Learner {
    /// True when the model has been fitted on at least two classes.
    pub fn is_fitted(&self) -> bool {
        self.fitted.is_some()
    }

    pub(super) fn committee_size(&self) -> usize {
        let needs = StrategyKind::from_name(&self.strategy).map(|k| k.needs_committee()).unwrap_or(false);
        if self.committee == 0 && needs {
            DEFAULT_COMMITTEE
        } else {
            self.committee
        }
    }

    /// Refit the model on the labelled samples (warm-started from the last fit). With
    /// fewer than two classes labelled there is nothing to separate yet: the model is
    /// left unfitted and `Ok(false)` returned.
    pub fn fit(&mut self) -> Result<bool> {
        let previous = self.fitted.take();
        let k = self.committee_size();
        let (x, y) = self.labelled_set();
        let mut seen = vec![false; self.n_classes];
        y.iter().for_each(|&l| seen[l as usize] = true);
        if seen.iter().filter(|&&s| s).count() < 2 {
            return Ok(false);
        }
        let mut fitted = match (previous, k) {
            (Some(Fitted::Committee(c)), k) if k >= 2 && c.len() == k => Fitted::Committee(c),
            (Some(Fitted::Single(m)), 0) => Fitted::Single(m),
            (_, 0) => Fitted::Single(ClassMapped::new(self.model_spec.clone(), self.n_classes, self.seed)?),
            (_, k) => Fitted::Committee(Committee::new(self.model_spec.clone(), k, self.n_classes, self.seed)?),
        };
        match &mut fitted {
            Fitted::Single(m) => m.fit(x, &y)?,
            Fitted::Committee(c) => c.fit(x, &y)?,
        }
        self.fitted = Some(fitted);
        if self.track_stopping {
            self.record_stop_set()?;
        }
        Ok(true)
    }

    /// Class probabilities (n × n_classes) and, with a committee, each member's.
    pub(super) fn probabilities(&self, x: ArrayView2<f32>) -> Result<(Array2<f32>, MemberProbs)> {
        match &self.fitted {
            None => Err(Error::State("the model needs labels from at least two classes first".into())),
            Some(Fitted::Single(m)) => Ok((m.predict_proba(x)?, None)),
            Some(Fitted::Committee(c)) => {
                let members = c.member_proba(x)?;
                Ok((Committee::mean_proba(&members), Some(members)))
            }
        }
    }

    /// Class probabilities (n × n_classes) for any feature rows with the pool's width
    /// (a committee's consensus when there is one).
    pub fn predict_proba(&self, x: ArrayView2<f32>) -> Result<Array2<f32>> {
        Ok(self.probabilities(x)?.0)
    }

    /// Probabilities for one pool sample.
    pub fn predict_sample(&self, index: usize) -> Result<Vec<f32>> {
        self.check_index(index)?;
        let row = self.row_of[index];
        let p = self.predict_proba(self.features.slice(s![row..row + 1, ..]))?;
        Ok(p.row(0).to_vec())
    }

    /// Accuracy of the current model on `(x, y)`; `None` before the model is fitted.
    pub fn accuracy(&self, x: ArrayView2<f32>, y: &[u32]) -> Result<Option<f64>> {
        if x.nrows() != y.len() {
            return Err(Error::Shape { what: "test labels vs rows".into(), expected: x.nrows(), got: y.len() });
        }
        if !self.is_fitted() || y.is_empty() {
            return Ok(None);
        }
        let pred = argmax_rows(self.predict_proba(x)?.view());
        let correct = pred.iter().zip(y).filter(|(p, t)| p == t).count();
        Ok(Some(correct as f64 / y.len() as f64))
    }

    /// What the fitted model is (`softmax`, `mlp`, `committee of k <family>`); `None`
    /// before the first fit.
    pub fn model_kind(&self) -> Option<String> {
        self.fitted.as_ref().map(Fitted::kind)
    }
}
