//! How good the model is without a test set (cross-validation), how sure it should say it
//! is (calibration) and whether to stop (the stop set's predictions between fits).

use ndarray::{s, Axis};

use super::{Learner, STOP_HISTORY_KEPT, STOP_SET_SIZE};
use crate::estimate::{cross_validate, CvEstimate};
use crate::model::any::argmax_rows;
use crate::stopping::{choose_stop_set, suggest, StopInput, StopParams, StopSuggestion};
use crate::Result;

impl Learner {
    /// Keep this fit's predictions on the stop set, for [`Learner::stop_suggestion`].
    pub(super) fn record_stop_set(&mut self) -> Result<()> {
        if self.stop_set.is_empty() {
            // Its own stream, so drawing it does not shift the query draws.
            self.stop_set = choose_stop_set(self.labels.len(), STOP_SET_SIZE, self.seed ^ 0x5709_5e7d);
        }
        // The stop set holds pool indices; features are in storage order.
        let rows: Vec<usize> = self.stop_set.iter().map(|&i| self.row_of[i]).collect();
        let x = self.features.select(Axis(0), &rows);
        let predicted = argmax_rows(self.predict_proba(x.view())?.view());
        self.stop_history.push(predicted);
        if self.stop_history.len() > STOP_HISTORY_KEPT {
            self.stop_history.remove(0);
        }
        Ok(())
    }

    /// Turn recording of stop-set predictions on or off (on by default). Off, the stop
    /// suggestion has no stabilizing-predictions evidence (only uncertainty and budget).
    pub fn set_stop_tracking(&mut self, on: bool) {
        self.track_stopping = on;
        if !on {
            self.stop_history.clear();
        }
    }

    /// Whether labelling can stop (a suggestion, see [`crate::stopping`]): predictions on
    /// a fixed stop set stable over the last 3 fits (kappa ≥ 0.99), the model confident on
    /// the unlabelled pool, the `budget` of labels spent, or nothing left to label.
    pub fn stop_suggestion(&self, budget: Option<usize>) -> Result<StopSuggestion> {
        let unlabelled: Vec<usize> = (0..self.labels.len()).filter(|&i| self.labels[i].is_none()).collect();
        let probs = if self.is_fitted() && !unlabelled.is_empty() {
            // Unlabelled rows are stored after the labelled ones.
            Some(self.predict_proba(self.features.slice(s![self.n_labelled.., ..]))?)
        } else {
            None
        };
        let input = StopInput {
            stop_set_history: &self.stop_history,
            pool_probs: probs.as_ref().map(|p| p.view()),
            n_labelled: self.labels.len() - unlabelled.len(),
            n_unlabelled: unlabelled.len(),
            n_classes: self.n_classes,
        };
        suggest(&input, &StopParams { budget, ..StopParams::default() })
    }

    /// Accuracy estimated without a test set: `k`-fold cross-validation of the session's
    /// model on the labelled samples (see [`crate::estimate`]). `None` with fewer than two
    /// labelled classes.
    ///
    /// The estimate's temperature is kept: [`Learner::predict_sample_calibrated`] uses it.
    pub fn estimate_accuracy(&mut self, k: usize) -> Result<Option<CvEstimate>> {
        let (x, y) = self.labelled_set();
        let mut seen = vec![false; self.n_classes];
        y.iter().for_each(|&l| seen[l as usize] = true);
        if seen.iter().filter(|&&s| s).count() < 2 {
            return Ok(None);
        }
        let e = cross_validate(&self.model_spec, x, &y, self.n_classes, k, self.seed)?;
        self.temperature = Some(e.temperature);
        Ok(Some(e))
    }

    /// The temperature in use for shown confidence (1 before any estimate).
    pub fn temperature(&self) -> f64 {
        self.temperature.map_or(1.0, crate::calibration::shown)
    }

    /// Probabilities for one pool sample as a person should read them: tempered by the
    /// last estimate's temperature (the same ranking and guess as `predict_sample`).
    pub fn predict_sample_calibrated(&self, index: usize) -> Result<Vec<f32>> {
        let p = self.predict_sample(index)?;
        Ok(crate::calibration::temper(&p, p.len(), self.temperature()))
    }
}
