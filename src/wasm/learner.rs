//! `Learner`: an active-learning session over a pool of dense features (`crate::learner`).

use js_sys::{Array, Float32Array, Object, Uint32Array, Uint8Array};
use ndarray::Array2;
use wasm_bindgen::prelude::*;

use super::scoring::ScoringNetwork;
use super::{js_error, matrix_to_js, queries_to_js, rows_of, set};
use crate::learner::Learner;
use crate::Error;

/// An active-learning session over a pool of dense f32 features (row-major).
#[wasm_bindgen(js_name = Learner)]
pub struct WasmLearner {
    inner: Learner,
    n_cols: usize,
}

#[wasm_bindgen(js_class = Learner)]
impl WasmLearner {
    /// `features` holds `n_rows × n_cols` values, row-major.
    #[wasm_bindgen(constructor)]
    pub fn new(features: &[f32], n_rows: usize, n_cols: usize, n_classes: usize, seed: u32) -> Result<WasmLearner, JsValue> {
        let expected = n_rows.checked_mul(n_cols).ok_or_else(|| js_error(Error::param("n_rows × n_cols", "overflows")))?;
        if features.len() != expected {
            return Err(js_error(Error::Shape { what: "features length vs n_rows × n_cols".into(), expected, got: features.len() }));
        }
        let x = Array2::from_shape_vec((n_rows, n_cols), features.to_vec())
            .map_err(|e| js_error(Error::Format { what: "features".into(), msg: e.to_string() }))?;
        let inner = Learner::new(x, n_classes, seed as u64).map_err(js_error)?;
        Ok(WasmLearner { inner, n_cols })
    }

    /// Names shown in reason strings.
    #[wasm_bindgen(js_name = setClassNames)]
    pub fn set_class_names(&mut self, names: Vec<String>) {
        self.inner.set_class_names(names);
    }

    /// Number of pool samples.
    #[wasm_bindgen(getter)]
    pub fn size(&self) -> usize {
        self.inner.len()
    }

    /// Number of labelled samples.
    #[wasm_bindgen(getter, js_name = labelledCount)]
    pub fn labelled_count(&self) -> usize {
        self.inner.labelled_count()
    }

    /// Record a label for pool row `index`.
    pub fn teach(&mut self, index: usize, label: u32) -> Result<(), JsValue> {
        self.inner.teach(index, label).map_err(js_error)
    }

    /// Remove the label of pool row `index`.
    pub fn forget(&mut self, index: usize) -> Result<(), JsValue> {
        self.inner.forget(index).map_err(js_error)
    }

    /// Refit on the labelled samples; false while fewer than two classes are labelled.
    pub fn fit(&mut self) -> Result<bool, JsValue> {
        self.inner.fit().map_err(js_error)
    }

    /// The next `n` samples to ask about: an array of `{index, score, reason}`.
    pub fn query(&mut self, n: usize) -> Result<Array, JsValue> {
        self.inner.query(n).map(queries_to_js).map_err(js_error)
    }

    /// Class probabilities for pool row `index` as a person should read them: calibrated
    /// by the last accuracy estimate's temperature (empty before the first fit).
    #[wasm_bindgen(js_name = predictSampleCalibrated)]
    pub fn predict_sample_calibrated(&self, index: usize) -> Result<Float32Array, JsValue> {
        if !self.inner.is_fitted() {
            return Ok(Float32Array::new_with_length(0));
        }
        let p = self.inner.predict_sample_calibrated(index).map_err(js_error)?;
        Ok(Float32Array::from(p.as_slice()))
    }

    /// Accuracy on held-out rows (`features` row-major with the pool's width); `undefined`
    /// before the first fit.
    pub fn accuracy(&self, features: &[f32], labels: &[u32]) -> Result<Option<f64>, JsValue> {
        let n = labels.len();
        if features.len() != n * self.n_cols {
            return Err(js_error(Error::Shape { what: "test features length vs labels × columns".into(), expected: n * self.n_cols, got: features.len() }));
        }
        let x = Array2::from_shape_vec((n, self.n_cols), features.to_vec())
            .map_err(|e| js_error(Error::Format { what: "test features".into(), msg: e.to_string() }))?;
        self.inner.accuracy(x.view(), labels).map_err(js_error)
    }

    /// Like `query`, with the strategy named (see `strategyNames`); an unknown name is an
    /// `E_INVALID_PARAM` error that lists the known ones.
    #[wasm_bindgen(js_name = queryWith)]
    pub fn query_with(&mut self, strategy: &str, n: usize) -> Result<Array, JsValue> {
        let kind = crate::strategy::StrategyKind::from_name(strategy).map_err(js_error)?;
        self.inner.query_with(kind, n).map(queries_to_js).map_err(js_error)
    }

    /// Class probabilities for any `features` rows (row-major, the pool's width):
    /// `rows × n_classes` values, row-major. `E_STATE` before the first fit.
    #[wasm_bindgen(js_name = predictProba)]
    pub fn predict_proba(&self, features: &[f32]) -> Result<Float32Array, JsValue> {
        if features.len() % self.n_cols != 0 {
            return Err(js_error(Error::Shape {
                what: "features length, a multiple of the pool's columns".into(),
                expected: (features.len() / self.n_cols + 1) * self.n_cols,
                got: features.len(),
            }));
        }
        let x = Array2::from_shape_vec((features.len() / self.n_cols, self.n_cols), features.to_vec())
            .map_err(|e| js_error(Error::Format { what: "features".into(), msg: e.to_string() }))?;
        let p = self.inner.predict_proba(x.view()).map_err(js_error)?;
        // `iter` walks in logical (row-major) order whatever the memory layout.
        Ok(Float32Array::from(p.iter().copied().collect::<Vec<f32>>().as_slice()))
    }

    /// `softmax` or `mlp` (see `modelNames`). Drops the fitted model: refit.
    #[wasm_bindgen(js_name = setModel)]
    pub fn set_model(&mut self, name: &str) -> Result<(), JsValue> {
        let spec = crate::model::any::ModelSpec::from_name(name).map_err(js_error)?;
        self.inner.set_model(spec);
        Ok(())
    }

    /// Committee size: 0 for a single model (committee strategies then use 5), else ≥ 2.
    #[wasm_bindgen(js_name = setCommittee)]
    pub fn set_committee(&mut self, k: usize) -> Result<(), JsValue> {
        self.inner.set_committee(k).map_err(js_error)
    }

    /// The strategy `query` and `queryBatch` use (see `strategyNames`). Switching to or
    /// from a committee strategy drops the fitted model: refit.
    #[wasm_bindgen(js_name = setStrategy)]
    pub fn set_strategy(&mut self, name: &str) -> Result<(), JsValue> {
        self.inner.set_strategy(name).map_err(js_error)
    }

    /// The session's strategy name.
    #[wasm_bindgen(getter)]
    pub fn strategy(&self) -> String {
        self.inner.strategy().to_string()
    }

    /// How many samples `queryBatch` returns (≥ 1).
    #[wasm_bindgen(js_name = setBatchSize)]
    pub fn set_batch_size(&mut self, b: usize) -> Result<(), JsValue> {
        self.inner.set_batch_size(b).map_err(js_error)
    }

    /// `query` with the session's batch size.
    #[wasm_bindgen(js_name = queryBatch)]
    pub fn query_batch(&mut self) -> Result<Array, JsValue> {
        self.inner.query_batch().map(queries_to_js).map_err(js_error)
    }

    /// True once fitted on two or more classes.
    #[wasm_bindgen(getter, js_name = isFitted)]
    pub fn is_fitted(&self) -> bool {
        self.inner.is_fitted()
    }

    /// Features per sample.
    #[wasm_bindgen(getter)]
    pub fn width(&self) -> usize {
        self.n_cols
    }

    /// Number of classes.
    #[wasm_bindgen(getter, js_name = nClasses)]
    pub fn n_classes(&self) -> usize {
        self.inner.n_classes()
    }

    /// Several labels at once, all or none (`indices[i]` gets `labels[i]`).
    #[wasm_bindgen(js_name = teachMany)]
    pub fn teach_many(&mut self, indices: &[u32], labels: &[u32]) -> Result<(), JsValue> {
        if indices.len() != labels.len() {
            return Err(js_error(Error::Shape { what: "labels vs indices".into(), expected: indices.len(), got: labels.len() }));
        }
        let pairs: Vec<(usize, u32)> = indices.iter().zip(labels).map(|(&i, &l)| (i as usize, l)).collect();
        self.inner.teach_many(&pairs).map_err(js_error)
    }

    /// Undo the last teach or forget; the sample index restored, or `undefined`.
    pub fn undo(&mut self) -> Option<u32> {
        self.inner.undo().map(|i| i as u32)
    }

    /// The label of pool row `index`, or `undefined`.
    #[wasm_bindgen(js_name = labelOf)]
    pub fn label_of(&self, index: usize) -> Option<u32> {
        self.inner.label(index)
    }

    /// Every row's label, -1 for unlabelled (one call instead of one per row).
    pub fn labels(&self) -> js_sys::Int32Array {
        let v: Vec<i32> = self.inner.labels().iter().map(|l| l.map_or(-1, |c| c as i32)).collect();
        js_sys::Int32Array::from(v.as_slice())
    }

    /// Append samples (row-major, the pool's width); the index of the first new one.
    #[wasm_bindgen(js_name = addSamples)]
    pub fn add_samples(&mut self, features: &[f32]) -> Result<usize, JsValue> {
        let x = rows_of(features, self.n_cols, "new samples")?;
        self.inner.add_samples(x.view()).map_err(js_error)
    }

    /// The whole session (pool, labels, model, undo history, generator state) as bytes;
    /// `Learner.restore` gives back a session that predicts and queries bit for bit alike.
    pub fn snapshot(&self) -> Result<Uint8Array, JsValue> {
        let bytes = self.inner.snapshot().map_err(js_error)?;
        Ok(Uint8Array::from(bytes.as_slice()))
    }

    /// A session from `snapshot` bytes; foreign or corrupt bytes are `E_FORMAT`.
    pub fn restore(bytes: &[u8]) -> Result<WasmLearner, JsValue> {
        let inner = Learner::restore(bytes).map_err(js_error)?;
        let n_cols = inner.n_features();
        Ok(WasmLearner { inner, n_cols })
    }

    /// `k`-fold cross-validated accuracy on the labelled samples: `{mean, se, folds,
    /// confusion}` (`confusion`: a Uint32Array, `nClasses × nClasses` row-major, row = the
    /// label given, column = the out-of-fold prediction), or `undefined` with fewer than
    /// two labelled classes.
    #[wasm_bindgen(js_name = estimateAccuracy)]
    pub fn estimate_accuracy(&mut self, k: usize) -> Result<JsValue, JsValue> {
        let Some(e) = self.inner.estimate_accuracy(k).map_err(js_error)? else {
            return Ok(JsValue::UNDEFINED);
        };
        let o = Object::new();
        set(&o, "mean", e.mean);
        set(&o, "se", e.se);
        set(&o, "folds", e.folds as u32);
        set(&o, "confusion", Uint32Array::from(e.confusion.as_slice()));
        // The temperature the shown confidence uses (calibration::shown of the fitted one).
        set(&o, "temperature", crate::calibration::shown(e.temperature));
        set(&o, "ece", e.ece);
        set(&o, "eceCalibrated", e.ece_calibrated);
        Ok(o.into())
    }

    /// The fitted model alone as bytes (no pool, no labels): `TrainedModel.fromBytes` reads
    /// it back and predicts the same. `E_STATE` before the first fit.
    #[wasm_bindgen(js_name = exportModel)]
    pub fn export_model(&self) -> Result<Uint8Array, JsValue> {
        let bytes = self.inner.export_model().and_then(|m| m.to_bytes()).map_err(js_error)?;
        Ok(Uint8Array::from(bytes.as_slice()))
    }

    /// `softmax`, `mlp`, or `committee of k <family>` once fitted; `undefined` before.
    #[wasm_bindgen(getter, js_name = modelKind)]
    pub fn model_kind(&self) -> Option<String> {
        self.inner.model_kind()
    }

    /// Whether labelling can stop: `{stop, reason, kappa, uncertainty, budgetLeft}` (the
    /// numbers `null` while undecided). `budget`: the labels planned, if any.
    #[wasm_bindgen(js_name = stopSuggestion)]
    pub fn stop_suggestion(&self, budget: Option<u32>) -> Result<JsValue, JsValue> {
        let s = self.inner.stop_suggestion(budget.map(|b| b as usize)).map_err(js_error)?;
        let o = Object::new();
        set(&o, "stop", s.stop);
        set(&o, "reason", s.reason);
        let num = |v: Option<f64>| v.map_or(JsValue::NULL, JsValue::from);
        set(&o, "kappa", num(s.kappa));
        set(&o, "uncertainty", num(s.uncertainty));
        set(&o, "budgetLeft", num(s.budget_left.map(|b| b as f64)));
        Ok(o.into())
    }

    /// The fitted model as networks for `PoolScorer`, or `undefined` when the session's
    /// strategy cannot be scored that way. Scorable: margin, entropy and least confident on
    /// a softmax regression, an MLP or a committee of either; the committee strategies
    /// (vote entropy, consensus entropy, mean/max KL) on a committee.
    #[wasm_bindgen(js_name = scoringNetwork)]
    pub fn scoring_network(&self) -> Option<ScoringNetwork> {
        self.inner.scoring_network().map(|s| ScoringNetwork { members: s.members, committee: s.committee })
    }

    /// The pool's features, row-major (to mirror a restored pool in a `PoolScorer`).
    #[wasm_bindgen(js_name = poolFeatures)]
    pub fn pool_features(&self) -> Float32Array {
        matrix_to_js(&self.inner.features())
    }

    /// `query(n)` with the pool's probabilities from `PoolScorer.score` (rows × `outputs`).
    #[wasm_bindgen(js_name = queryWithPoolProbs)]
    pub fn query_with_pool_probs(&mut self, n: usize, probs: &[f32], outputs: usize) -> Result<Array, JsValue> {
        let p = rows_of(probs, outputs, "pool probabilities")?;
        self.inner.query_with_pool_probs(n, p.view()).map(queries_to_js).map_err(js_error)
    }

    /// `query(n)` for a committee, with `memberProbs` from `PoolScorer.score`: `members`
    /// matrices of rows × `outputs`, one after the other.
    #[wasm_bindgen(js_name = queryWithMemberProbs)]
    pub fn query_with_member_probs(&mut self, n: usize, member_probs: &[f32], members: usize, outputs: usize) -> Result<Array, JsValue> {
        let all = rows_of(member_probs, outputs, "member probabilities")?;
        if members == 0 || all.nrows() % members != 0 {
            return Err(js_error(Error::Shape { what: format!("member probability rows, a multiple of {members} members"), expected: members.max(1) * (all.nrows() / members.max(1) + 1), got: all.nrows() }));
        }
        let rows = all.nrows() / members;
        let views: Vec<_> = (0..members).map(|m| all.slice(ndarray::s![m * rows..(m + 1) * rows, ..])).collect();
        self.inner.query_with_member_probs(n, &views).map(queries_to_js).map_err(js_error)
    }
}
