//! The only place with `#[wasm_bindgen]`: converts typed arrays to ndarray, core errors to
//! JS `Error`s with a stable code, and installs the panic hook. No logic lives here.

use js_sys::{Array, Float32Array, Object, Reflect, Uint32Array, Uint8Array};
use ndarray::Array2;
use wasm_bindgen::prelude::*;

use crate::compute::coates::CoatesParams;
use crate::data::image::CoatesFeaturizer as ImageCoates;
use crate::data::stream::{self, SkipReason, Skipped, TableReader};
use crate::data::table::{parse_csv, Table};
use crate::data::tabular::TabularEncoder;
use crate::data::text::{Tfidf, TfidfParams};
use crate::learner::Learner;
use crate::Error;

/// Turn a core error into a JS `Error` whose `name` is the stable code (E_SHAPE, ...).
fn js_error(e: Error) -> JsValue {
    let err = js_sys::Error::new(&e.to_string());
    err.set_name(e.code());
    err.into()
}

fn set(obj: &Object, key: &str, value: impl Into<JsValue>) {
    // Reflect::set only fails on frozen objects; these are fresh.
    let _ = Reflect::set(obj, &JsValue::from_str(key), &value.into());
}

/// Row-major `features` as an n × `cols` matrix; a length that is not a whole number of
/// rows is `E_SHAPE`.
fn rows_of(features: &[f32], cols: usize, what: &str) -> Result<Array2<f32>, JsValue> {
    if cols == 0 || features.len() % cols != 0 {
        return Err(js_error(Error::Shape {
            what: format!("{what} length, a multiple of {cols} features"),
            expected: (features.len() / cols.max(1) + 1) * cols,
            got: features.len(),
        }));
    }
    Array2::from_shape_vec((features.len() / cols, cols), features.to_vec())
        .map_err(|e| js_error(Error::Format { what: what.into(), msg: e.to_string() }))
}

fn queries_to_js(picks: Vec<crate::strategy::Query>) -> Array {
    let out = Array::new();
    for q in picks {
        let o = Object::new();
        set(&o, "index", q.index as u32);
        set(&o, "score", q.score);
        set(&o, "reason", q.reason);
        out.push(&o);
    }
    out
}

fn matrix_to_js(x: &Array2<f32>) -> Float32Array {
    // `iter` walks in logical (row-major) order whatever the memory layout.
    Float32Array::from(x.iter().copied().collect::<Vec<f32>>().as_slice())
}

/// Install the panic hook once, so a panic (a bug) reaches the console with its message.
#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
}

/// Parse an IDX file of unsigned bytes (already gunzipped). Returns `{dims, data}`.
#[wasm_bindgen(js_name = parseIdx)]
pub fn parse_idx(bytes: &[u8]) -> Result<JsValue, JsValue> {
    let idx = crate::data::idx::parse_u8(bytes).map_err(js_error)?;
    let out = Object::new();
    let dims = Array::new();
    for d in &idx.dims {
        dims.push(&JsValue::from(*d as u32));
    }
    set(&out, "dims", dims);
    set(&out, "data", Uint8Array::from(idx.data.as_slice()));
    Ok(out.into())
}

/// Stratified split of `labels` into train/test row indices: `{train, test}`.
#[wasm_bindgen(js_name = stratifiedSplit)]
pub fn stratified_split(labels: &[u32], test_frac: f64, seed: u32) -> Result<JsValue, JsValue> {
    let (train, test) = crate::data::split::stratified(labels, test_frac, seed as u64).map_err(js_error)?;
    let out = Object::new();
    let to_u32 = |v: Vec<usize>| Uint32Array::from(v.into_iter().map(|i| i as u32).collect::<Vec<_>>().as_slice());
    set(&out, "train", to_u32(train));
    set(&out, "test", to_u32(test));
    Ok(out.into())
}

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

    /// Class probabilities for pool row `index` (empty before the first fit).
    #[wasm_bindgen(js_name = predictSample)]
    pub fn predict_sample(&self, index: usize) -> Result<Float32Array, JsValue> {
        if !self.inner.is_fitted() {
            return Ok(Float32Array::new_with_length(0));
        }
        let p = self.inner.predict_sample(index).map_err(js_error)?;
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
}

// ---------------------------------------------------------------------------------------
// Additions for the npm package and the playground: strategy by name, probabilities for
// any rows (the playground's heat map), and the lists of names the UI offers.

/// Every query strategy the learner can run, in registry order. Committee strategies are
/// included: after `setStrategy` the learner's next fit trains a committee for them
/// (`queryWith` still needs the committee chosen before fitting).
#[wasm_bindgen(js_name = strategyNames)]
pub fn strategy_names() -> Vec<String> {
    crate::strategy::StrategyKind::NAMES.iter().map(|s| s.to_string()).collect()
}

/// Every model name the learner can train (what `setModel` accepts).
#[wasm_bindgen(js_name = modelNames)]
pub fn model_names() -> Vec<String> {
    vec!["softmax".to_string(), "mlp".to_string()]
}

/// Names of the strategies that need a committee (the UI may say so).
#[wasm_bindgen(js_name = committeeStrategyNames)]
pub fn committee_strategy_names() -> Vec<String> {
    use crate::strategy::StrategyKind;
    StrategyKind::ALL.iter().filter(|k| k.needs_committee()).map(|k| k.name().to_string()).collect()
}

#[wasm_bindgen(js_class = Learner)]
impl WasmLearner {
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
}

// ---------------------------------------------------------------------------------------
// The merged core: model, committee, strategy and batch size; undo; snapshot/restore;
// cross-validated accuracy; stop suggestion; a growing pool.

#[wasm_bindgen(js_class = Learner)]
impl WasmLearner {
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
}

// ---------------------------------------------------------------------------------------
// An exported model read back (see `trained` and docs/MODEL_FORMAT.md).

/// A trained model from `Learner.exportModel` bytes.
#[wasm_bindgen(js_name = TrainedModel)]
pub struct WasmTrainedModel {
    inner: crate::trained::TrainedModel,
}

#[wasm_bindgen(js_class = TrainedModel)]
impl WasmTrainedModel {
    /// Read model bytes; foreign, corrupt or newer files are `E_FORMAT` saying which.
    #[wasm_bindgen(js_name = fromBytes)]
    pub fn from_bytes(bytes: &[u8]) -> Result<WasmTrainedModel, JsValue> {
        crate::trained::TrainedModel::from_bytes(bytes).map(|inner| WasmTrainedModel { inner }).map_err(js_error)
    }

    /// Features per sample.
    #[wasm_bindgen(getter)]
    pub fn width(&self) -> usize {
        self.inner.n_features()
    }

    /// Number of classes (columns of `predictProba`).
    #[wasm_bindgen(getter, js_name = nClasses)]
    pub fn n_classes(&self) -> usize {
        self.inner.n_classes()
    }

    /// Class names as the session had them.
    #[wasm_bindgen(getter, js_name = classNames)]
    pub fn class_names(&self) -> Vec<String> {
        self.inner.class_names().to_vec()
    }

    /// `softmax`, `mlp` or `committee of k <family>`.
    #[wasm_bindgen(getter)]
    pub fn kind(&self) -> String {
        self.inner.kind()
    }

    /// Class probabilities for `features` (row-major, `width` each): rows × `nClasses`.
    #[wasm_bindgen(js_name = predictProba)]
    pub fn predict_proba(&self, features: &[f32]) -> Result<Float32Array, JsValue> {
        let x = rows_of(features, self.inner.n_features(), "features")?;
        self.inner.predict_proba(x.view()).map(|p| matrix_to_js(&p)).map_err(js_error)
    }
}

// ---------------------------------------------------------------------------------------
// Featurizers for raw input, fitted on the pool and kept (serializable) so later samples
// and held-out rows get the same columns.

/// TF-IDF over word unigrams and bigrams (see `data::text`), fitted on the pool's texts.
#[wasm_bindgen]
pub struct TextFeaturizer {
    inner: Tfidf,
}

#[wasm_bindgen]
impl TextFeaturizer {
    /// Fit the vocabulary on `texts`: terms in at least `minDf` texts (default 2), the
    /// `maxFeatures` most frequent (default 4096). `E_EMPTY` without texts or terms.
    pub fn fit(texts: Vec<String>, min_df: Option<usize>, max_features: Option<usize>) -> Result<TextFeaturizer, JsValue> {
        let mut p = TfidfParams::default();
        if let Some(m) = min_df {
            p = p.min_df(m);
        }
        if let Some(m) = max_features {
            p = p.max_features(m);
        }
        let inner = p.fit(&texts).map_err(js_error)?;
        if inner.width() == 0 {
            return Err(js_error(Error::Empty(format!(
                "the TF-IDF vocabulary ({} texts share no word often enough; lower minDf)",
                texts.len()
            ))));
        }
        Ok(TextFeaturizer { inner })
    }

    /// Features per text.
    #[wasm_bindgen(getter)]
    pub fn width(&self) -> usize {
        self.inner.width()
    }

    /// One L2-normalized row per text, row-major.
    pub fn transform(&self, texts: Vec<String>) -> Float32Array {
        matrix_to_js(&self.inner.transform(&texts))
    }

    /// The fitted vocabulary as bytes, for saving with the session.
    pub fn snapshot(&self) -> Result<Uint8Array, JsValue> {
        postcard::to_allocvec(&self.inner)
            .map(|b| Uint8Array::from(b.as_slice()))
            .map_err(|e| js_error(Error::Format { what: "text featurizer".into(), msg: e.to_string() }))
    }

    /// A featurizer from `snapshot` bytes.
    pub fn restore(bytes: &[u8]) -> Result<TextFeaturizer, JsValue> {
        postcard::from_bytes(bytes)
            .map(|inner| TextFeaturizer { inner })
            .map_err(|e| js_error(Error::Format { what: "text featurizer".into(), msg: e.to_string() }))
    }
}

/// Table rows (CSV text with a header) → standardized numbers and one-hot categories (see
/// `data::tabular`), fitted on the pool's rows.
#[wasm_bindgen]
pub struct TableFeaturizer {
    columns: Vec<String>,
    inner: TabularEncoder,
}

fn parse_rows(csv: &str) -> Result<Table, JsValue> {
    parse_csv(csv.as_bytes()).map_err(js_error)
}

#[wasm_bindgen]
impl TableFeaturizer {
    /// Fit on CSV text whose first line names the columns. `columns`: the ones to encode
    /// (empty: all). Later CSV must have these columns (by name, any order).
    pub fn fit(csv: &str, columns: Vec<String>) -> Result<TableFeaturizer, JsValue> {
        let parsed = parse_rows(csv)?;
        let columns = if columns.is_empty() { parsed.columns.clone() } else { columns };
        // The encoder addresses columns by position: fit on the named columns in order,
        // and reorder later CSV the same way, so its column order does not matter.
        let table = TableFeaturizer::reorder(&parsed, &columns)?;
        let rows: Vec<usize> = (0..table.rows.len()).collect();
        let inner = TabularEncoder::fit(&table, &(0..columns.len()).collect::<Vec<_>>(), &rows).map_err(js_error)?;
        if inner.width() == 0 {
            return Err(js_error(Error::Empty("the encoded table (no column gives a feature)".into())));
        }
        Ok(TableFeaturizer { columns, inner })
    }

    /// `table`'s `columns`, in that order, as a new table (so the encoder's positions hold).
    fn reorder(table: &Table, columns: &[String]) -> Result<Table, JsValue> {
        let idx = columns.iter().map(|c| table.column(c)).collect::<Result<Vec<_>, _>>().map_err(js_error)?;
        Ok(Table {
            columns: columns.to_vec(),
            rows: table.rows.iter().map(|r| idx.iter().map(|&c| r[c].clone()).collect()).collect(),
            lines: table.lines.clone(),
            class_names: Vec::new(),
        })
    }

    /// Features per row.
    #[wasm_bindgen(getter)]
    pub fn width(&self) -> usize {
        self.inner.width()
    }

    /// The columns encoded, in order.
    #[wasm_bindgen(getter)]
    pub fn columns(&self) -> Vec<String> {
        self.columns.clone()
    }

    /// Encode CSV text (header line first): one row of `width` values per data line.
    pub fn transform(&self, csv: &str) -> Result<Float32Array, JsValue> {
        let table = TableFeaturizer::reorder(&parse_rows(csv)?, &self.columns)?;
        let rows: Vec<usize> = (0..table.rows.len()).collect();
        self.inner.transform(&table, &rows).map(|x| matrix_to_js(&x)).map_err(js_error)
    }

    /// The fitted encoder as bytes, for saving with the session.
    pub fn snapshot(&self) -> Result<Uint8Array, JsValue> {
        postcard::to_allocvec(&(&self.columns, &self.inner))
            .map(|b| Uint8Array::from(b.as_slice()))
            .map_err(|e| js_error(Error::Format { what: "table featurizer".into(), msg: e.to_string() }))
    }

    /// A featurizer from `snapshot` bytes.
    pub fn restore(bytes: &[u8]) -> Result<TableFeaturizer, JsValue> {
        postcard::from_bytes::<(Vec<String>, TabularEncoder)>(bytes)
            .map(|(columns, inner)| TableFeaturizer { columns, inner })
            .map_err(|e| js_error(Error::Format { what: "table featurizer".into(), msg: e.to_string() }))
    }
}

/// Coates & Ng convolutional features for grey images, standardized on the pool (see
/// `data::image::CoatesFeaturizer`): learned from the pool's own images, no downloaded weights.
#[wasm_bindgen]
pub struct CoatesFeaturizer {
    inner: ImageCoates,
    /// The fitting images' features, until `takePoolFeatures` moves them out (so the pool
    /// is not encoded twice).
    pool: Option<Array2<f32>>,
}

fn coates_format_error(e: postcard::Error) -> JsValue {
    js_error(Error::Format { what: "image featurizer".into(), msg: e.to_string() })
}

#[wasm_bindgen]
impl CoatesFeaturizer {
    /// Fit on grey images (row-major bytes 0..255, `width` × `height` each). `centroids`
    /// (default 128), `patch` side (default 6) and `patches` drawn (default 20 000) are
    /// `CoatesParams`' settings; `seed` fixes the patch draw and k-means.
    pub fn fit(
        images: &[u8],
        width: usize,
        height: usize,
        centroids: Option<usize>,
        patch: Option<usize>,
        patches: Option<usize>,
        seed: u32,
    ) -> Result<CoatesFeaturizer, JsValue> {
        let d = CoatesParams::default();
        let p = CoatesParams {
            n_centroids: centroids.unwrap_or(d.n_centroids),
            patch: patch.unwrap_or(d.patch),
            n_patches: patches.unwrap_or(d.n_patches),
            seed: u64::from(seed),
            ..d
        };
        let (inner, pool) = ImageCoates::fit(&p, images, width, height).map_err(js_error)?;
        Ok(CoatesFeaturizer { inner, pool: Some(pool) })
    }

    /// Features per image: 4 quadrants × centroids.
    #[wasm_bindgen(getter)]
    pub fn width(&self) -> usize {
        self.inner.width()
    }

    /// The features of the images `fit` was given (once; `undefined` after).
    #[wasm_bindgen(js_name = takePoolFeatures)]
    pub fn take_pool_features(&mut self) -> Option<Float32Array> {
        self.pool.take().map(|x| matrix_to_js(&x))
    }

    /// One standardized row per image (bytes as for `fit`, same size), row-major.
    pub fn transform(&self, images: &[u8]) -> Result<Float32Array, JsValue> {
        self.inner.transform(images).map(|x| matrix_to_js(&x)).map_err(js_error)
    }

    /// The fitted featurizer as bytes, for saving with the session.
    pub fn snapshot(&self) -> Result<Uint8Array, JsValue> {
        postcard::to_allocvec(&self.inner).map(|b| Uint8Array::from(b.as_slice())).map_err(coates_format_error)
    }

    /// A featurizer from `snapshot` bytes.
    pub fn restore(bytes: &[u8]) -> Result<CoatesFeaturizer, JsValue> {
        postcard::from_bytes(bytes).map(|inner| CoatesFeaturizer { inner, pool: None }).map_err(coates_format_error)
    }
}

/// A fitted `CoatesFeaturizer` (its snapshot) encoding on the GPU: the same standardized
/// features as `CoatesFeaturizer.transform`, within float rounding. Holds the device, so a
/// page makes one and encodes every chunk with it.
#[wasm_bindgen]
pub struct CoatesGpu {
    // Shared with the futures `transform` returns: wasm-bindgen futures must own their state.
    ctx: Rc<crate::compute::gpu::GpuContext>,
    inner: Rc<ImageCoates>,
}

#[wasm_bindgen]
impl CoatesGpu {
    /// From `CoatesFeaturizer.snapshot` bytes; `E_GPU` when no WebGPU adapter or device can
    /// be had, `E_FORMAT` for bytes that are not a snapshot.
    pub async fn create(snapshot: Vec<u8>) -> Result<CoatesGpu, JsValue> {
        let inner: ImageCoates = postcard::from_bytes(&snapshot).map_err(coates_format_error)?;
        let ctx = crate::compute::gpu::GpuContext::new(Default::default()).await.map_err(js_error)?;
        Ok(CoatesGpu { ctx: Rc::new(ctx), inner: Rc::new(inner) })
    }

    /// The adapter in use (name, backend, driver), e.g. to tell a software one.
    #[wasm_bindgen(getter)]
    pub fn adapter(&self) -> String {
        self.ctx.adapter_info().to_string()
    }

    /// Features per image: 4 quadrants × centroids.
    #[wasm_bindgen(getter)]
    pub fn width(&self) -> usize {
        self.inner.width()
    }

    /// Resolves to one standardized row per image (bytes as for `CoatesFeaturizer.transform`).
    pub fn transform(&self, images: Vec<u8>) -> js_sys::Promise {
        let (ctx, inner) = (Rc::clone(&self.ctx), Rc::clone(&self.inner));
        wasm_bindgen_futures::future_to_promise(async move {
            let x = inner.transform_gpu(&ctx, &images).await.map_err(js_error)?;
            Ok(matrix_to_js(&x).into())
        })
    }
}

// ---------------------------------------------------------------------------------------
// Import of text, tables and embeddings: the file is parsed once into a `ParsedTable` that
// stays in wasm memory (in the app's import worker), and the featurizers read row ranges
// of it, so progress can be reported between ranges without copying the file around.

/// A parsed CSV, TSV, JSONL or plain-text file (see `TableStream`).
#[wasm_bindgen]
pub struct ParsedTable {
    table: Table,
    skipped: Vec<Skipped>,
    left_out: u64,
    count_stopped: Option<String>,
}

/// A file read chunk by chunk (`data::stream`): `push` each chunk as it arrives, then
/// `finish`. Keeps the first `maxRows` data rows and counts the rest (`leftOut`); rows with
/// the wrong number of fields, bytes that are not UTF-8 or a line that is not a JSON object
/// are skipped and listed. `E_PARSE` (an unclosed quote, a character after a closing quote,
/// a row over 16 MB) names line and column; `E_EMPTY` when no row is left.
#[wasm_bindgen]
pub struct TableStream {
    reader: Option<TableReader>,
}

#[wasm_bindgen]
impl TableStream {
    #[wasm_bindgen(constructor)]
    pub fn new(format: &str, max_rows: usize) -> Result<TableStream, JsValue> {
        let format = stream::Format::parse(format).map_err(js_error)?;
        Ok(TableStream { reader: Some(TableReader::new(format, max_rows)) })
    }

    fn reader(&mut self) -> Result<&mut TableReader, JsValue> {
        self.reader.as_mut().ok_or_else(|| js_error(Error::param("stream", "already finished")))
    }

    /// Feed the next chunk of the file.
    pub fn push(&mut self, chunk: &[u8]) -> Result<(), JsValue> {
        self.reader()?.push(chunk).map_err(js_error)
    }

    /// Records cut so far (a header included), for progress.
    #[wasm_bindgen(getter)]
    pub fn records(&self) -> f64 {
        self.reader.as_ref().map_or(0.0, |r| r.records() as f64)
    }

    /// The rows. `complete`: the whole file was pushed; otherwise only its beginning was (a
    /// preview), and a last record cut short is left out.
    pub fn finish(&mut self, complete: bool) -> Result<ParsedTable, JsValue> {
        let reader = self.reader.take().ok_or_else(|| js_error(Error::param("stream", "already finished")))?;
        let s = reader.finish(complete).map_err(js_error)?;
        Ok(ParsedTable { table: s.table, skipped: s.skipped, left_out: s.left_out, count_stopped: s.count_stopped.map(|e| e.to_string()) })
    }
}

impl ParsedTable {
    fn range(&self, start: usize, end: usize) -> Result<std::ops::Range<usize>, JsValue> {
        if start > end || end > self.table.rows.len() {
            return Err(js_error(Error::Shape { what: "row range end".into(), expected: self.table.rows.len(), got: end }));
        }
        Ok(start..end)
    }
}

#[wasm_bindgen]
impl ParsedTable {
    /// Column names, in file order.
    #[wasm_bindgen(getter)]
    pub fn columns(&self) -> Vec<String> {
        self.table.columns.clone()
    }

    /// Data rows kept.
    #[wasm_bindgen(getter, js_name = rowCount)]
    pub fn row_count(&self) -> usize {
        self.table.rows.len()
    }

    /// The 1-based source line of each kept row.
    #[wasm_bindgen(getter)]
    pub fn lines(&self) -> Uint32Array {
        Uint32Array::from(self.table.lines.iter().map(|&l| l as u32).collect::<Vec<_>>().as_slice())
    }

    /// Class names the file itself gives (the scikit-learn header), else empty.
    #[wasm_bindgen(getter, js_name = classNames)]
    pub fn class_names(&self) -> Vec<String> {
        self.table.class_names.clone()
    }

    /// Data rows after the first `maxRows`, counted and left out (at least this many when
    /// `countStopped` says why counting stopped).
    #[wasm_bindgen(getter, js_name = leftOut)]
    pub fn left_out(&self) -> f64 {
        self.left_out as f64
    }

    /// Why counting the rows past the cap stopped (an unclosed quote there), or undefined.
    #[wasm_bindgen(getter, js_name = countStopped)]
    pub fn count_stopped(&self) -> Option<String> {
        self.count_stopped.clone()
    }

    /// Rows skipped: `[{line, kind, message}]`, `kind` one of `fields` (with `fields` and
    /// `expected`), `utf8` (with the byte `offset`), `json`; `message` says it in words.
    #[wasm_bindgen(getter)]
    pub fn skipped(&self) -> Array {
        let out = Array::new();
        for s in &self.skipped {
            let o = Object::new();
            set(&o, "line", s.line as u32);
            set(&o, "message", stream::describe(s));
            match &s.reason {
                SkipReason::Width { fields, expected } => {
                    set(&o, "kind", "fields");
                    set(&o, "fields", *fields as u32);
                    set(&o, "expected", *expected as u32);
                }
                SkipReason::NotUtf8 { offset, .. } => {
                    set(&o, "kind", "utf8");
                    set(&o, "offset", *offset as f64);
                }
                SkipReason::Json(_) => set(&o, "kind", "json"),
            }
            out.push(&o);
        }
        out
    }

    /// Rows `start..end` as arrays of cells (a string, or `null` when missing).
    pub fn rows(&self, start: usize, end: usize) -> Result<Array, JsValue> {
        let out = Array::new();
        for r in self.range(start, end)? {
            let row = Array::new();
            for c in &self.table.rows[r] {
                row.push(&c.as_deref().map_or(JsValue::NULL, JsValue::from_str));
            }
            out.push(&row);
        }
        Ok(out)
    }

    /// One column's cells for every row (a string, or `null` when missing).
    pub fn column(&self, name: &str) -> Result<Array, JsValue> {
        let c = self.table.column(name).map_err(js_error)?;
        Ok(self.table.rows.iter().map(|r| r[c].as_deref().map_or(JsValue::NULL, JsValue::from_str)).collect())
    }

    /// One column's cells in rows `start..end` as text (a missing cell is empty text).
    pub fn texts(&self, name: &str, start: usize, end: usize) -> Result<Vec<String>, JsValue> {
        let c = self.table.column(name).map_err(js_error)?;
        Ok(self.range(start, end)?.map(|r| self.table.rows[r][c].clone().unwrap_or_default()).collect())
    }

    /// The cells of `columns` in rows `start..end` as numbers, row-major (`data::embeddings`).
    pub fn vectors(&self, columns: Vec<String>, start: usize, end: usize) -> Result<Float32Array, JsValue> {
        let idx = columns.iter().map(|c| self.table.column(c)).collect::<Result<Vec<_>, _>>().map_err(js_error)?;
        let x = crate::data::embeddings::vectors(&self.table, &idx, self.range(start, end)?).map_err(js_error)?;
        Ok(matrix_to_js(&x))
    }
}

/// Parse a NumPy `.npy` file (little-endian float32 or float64, C order; see `data::npy`).
/// Returns `{shape: number[], data: Float32Array}`; `E_FORMAT` says what is wrong.
#[wasm_bindgen(js_name = parseNpy)]
pub fn parse_npy(bytes: &[u8]) -> Result<JsValue, JsValue> {
    let (shape, data) = crate::data::npy::parse_npy(bytes).map_err(js_error)?;
    let out = Object::new();
    set(&out, "shape", shape.iter().map(|&d| JsValue::from(d as f64)).collect::<Array>());
    set(&out, "data", Float32Array::from(data.as_slice()));
    Ok(out.into())
}

#[wasm_bindgen]
impl TableFeaturizer {
    /// Fit on every row of a parsed file, encoding `columns` (see `fit`).
    #[wasm_bindgen(js_name = fitTable)]
    pub fn fit_table(parsed: &ParsedTable, columns: Vec<String>) -> Result<TableFeaturizer, JsValue> {
        let table = TableFeaturizer::reorder(&parsed.table, &columns)?;
        let rows: Vec<usize> = (0..table.rows.len()).collect();
        let inner = TabularEncoder::fit(&table, &(0..columns.len()).collect::<Vec<_>>(), &rows).map_err(js_error)?;
        if inner.width() == 0 {
            return Err(js_error(Error::Empty("the encoded table (no column gives a feature)".into())));
        }
        Ok(TableFeaturizer { columns, inner })
    }

    /// Encode rows `start..end` of a parsed file: `width` values per row, row-major.
    #[wasm_bindgen(js_name = transformTable)]
    pub fn transform_table(&self, parsed: &ParsedTable, start: usize, end: usize) -> Result<Float32Array, JsValue> {
        let range = parsed.range(start, end)?;
        // Only the rows asked for are copied (reordered): chunked calls stay linear overall.
        let idx = self.columns.iter().map(|c| parsed.table.column(c)).collect::<Result<Vec<_>, _>>().map_err(js_error)?;
        let table = Table {
            columns: self.columns.clone(),
            rows: parsed.table.rows[range.clone()].iter().map(|r| idx.iter().map(|&c| r[c].clone()).collect()).collect(),
            lines: parsed.table.lines[range].to_vec(),
            class_names: Vec::new(),
        };
        let rows: Vec<usize> = (0..table.rows.len()).collect();
        self.inner.transform(&table, &rows).map(|x| matrix_to_js(&x)).map_err(js_error)
    }
}

// ---------------------------------------------------------------------------------------
// Pool scoring through `compute::Compute` (WebGPU when there is an adapter, else the CPU),
// for the npm package's learner. The learner exports its fitted model as a network
// (`scoringNetwork`, softmax regression with margin, entropy or least confident), the
// scorer computes the pool's probabilities in one round, and `queryWithPoolProbs` runs the
// strategy on them, so the picks come from the same selection code as `query`. When the
// GPU fails mid-session (device lost), `Compute` drops it and answers from the CPU.

use std::cell::RefCell;
use std::rc::Rc;

use crate::compute::{BackendKind, Compute, Measure, Network, PoolMatrix, Preference, ScoreRequest};

/// The CPU's blocked matrix product `a` (m × k) · `b` (k × n), row-major, as the scoring
/// rounds run it (the v128 kernel in the SIMD build): for the benchmark page's
/// matrix-product line. Lengths that do not match the shapes are `E_SHAPE`.
#[wasm_bindgen(js_name = matmulF32)]
pub fn matmul_f32(a: &[f32], b: &[f32], m: usize, k: usize, n: usize) -> Result<Float32Array, JsValue> {
    let shape = |what: &str, want: usize, got: usize| js_error(Error::Shape { what: what.into(), expected: want, got });
    let a = Array2::from_shape_vec((m, k), a.to_vec()).map_err(|_| shape("matrix a length (m × k)", m * k, a.len()))?;
    let b = Array2::from_shape_vec((k, n), b.to_vec()).map_err(|_| shape("matrix b length (k × n)", k * n, b.len()))?;
    crate::compute::matmul::matmul(a.view(), b.view(), None).map(|c| matrix_to_js(&c)).map_err(js_error)
}

/// A fitted model as networks over the pool's features (see `Learner.scoringNetwork`): one
/// for a single model, several for a committee (scored on their mean probabilities).
#[wasm_bindgen]
pub struct ScoringNetwork {
    members: Vec<Network>,
    /// A learner's committee: rounds also return each member's probabilities.
    committee: bool,
}

#[wasm_bindgen]
impl ScoringNetwork {
    /// A committee of `members` dense networks from raw weights (the benchmark page builds
    /// the same seeded model for this engine and for TensorFlow.js with it). `sizes` is
    /// `[features, hidden…, classes]`; `params` holds, member after member and layer after
    /// layer, the weights (inputs × outputs, row-major) then the biases. Hidden layers use
    /// ReLU; the last gives logits. A length that does not match is `E_SHAPE`.
    #[wasm_bindgen(js_name = fromWeights)]
    pub fn from_weights(sizes: &[u32], params: &[f32], members: usize) -> Result<ScoringNetwork, JsValue> {
        if sizes.len() < 2 || members == 0 {
            return Err(js_error(Error::param("network sizes / members", "need at least [features, classes] and one member")));
        }
        let per_member: usize = sizes.windows(2).map(|w| (w[0] as usize + 1) * w[1] as usize).sum();
        if params.len() != per_member * members {
            return Err(js_error(Error::Shape { what: format!("network parameters ({members} members of sizes {sizes:?})"), expected: per_member * members, got: params.len() }));
        }
        let mut rest = params;
        let mut nets = Vec::with_capacity(members);
        for _ in 0..members {
            let mut layers = Vec::with_capacity(sizes.len() - 1);
            for (i, w) in sizes.windows(2).enumerate() {
                let (d_in, d_out) = (w[0] as usize, w[1] as usize);
                let (wts, tail) = rest.split_at(d_in * d_out);
                let (bias, tail) = tail.split_at(d_out);
                rest = tail;
                let w = Array2::from_shape_vec((d_in, d_out), wts.to_vec()).map_err(|e| js_error(Error::Format { what: "layer weights".into(), msg: e.to_string() }))?;
                let relu = i + 2 < sizes.len();
                layers.push(crate::compute::Layer::new(w, ndarray::Array1::from(bias.to_vec()), relu).map_err(js_error)?);
            }
            nets.push(Network::new(layers).map_err(js_error)?);
        }
        Ok(ScoringNetwork { members: nets, committee: false })
    }

    /// Outputs per row (the classes present when the model was fitted).
    #[wasm_bindgen(getter)]
    pub fn outputs(&self) -> usize {
        self.members.first().map_or(0, Network::n_classes)
    }

    /// Networks scored together (1 for a single model).
    #[wasm_bindgen(getter)]
    pub fn members(&self) -> usize {
        self.members.len()
    }

    /// Multiply-adds per pool row over all members (what `backend: 'auto'` weighs).
    #[wasm_bindgen(getter, js_name = macsPerRow)]
    pub fn macs_per_row(&self) -> usize {
        self.members.iter().map(Network::macs_per_row).sum()
    }

    /// A learner's committee: `PoolScorer.score` then also returns `memberProbs`, for
    /// `Learner.queryWithMemberProbs`.
    #[wasm_bindgen(getter)]
    pub fn committee(&self) -> bool {
        self.committee
    }
}

#[wasm_bindgen(js_class = Learner)]
impl WasmLearner {
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

struct ScorerState {
    compute: Compute,
    pool: PoolMatrix,
}

/// The pool's features mirrored for batched scoring (on the GPU they are uploaded once
/// and then only appended to).
#[wasm_bindgen]
pub struct PoolScorer {
    // Shared with the futures `score` returns: wasm-bindgen futures must own their state.
    state: Rc<RefCell<ScorerState>>,
    /// Why the GPU could not be used at creation, for `backend: 'auto'`'s report.
    unavailable: Option<String>,
}

#[wasm_bindgen]
impl PoolScorer {
    /// A scorer for rows of `width` features. `backend`: `auto` (the GPU when an adapter
    /// exists and a round is large enough to gain), `webgpu` (the GPU for every round;
    /// `E_GPU` when there is none), or `cpu`.
    pub async fn create(backend: String, width: usize) -> Result<PoolScorer, JsValue> {
        let pool = PoolMatrix::new_f32(width).map_err(js_error)?;
        Self::with_pool(&backend, pool).await
    }

    /// A scorer for rows of `width` byte features read as byte × `scale` (pixels: 1/255):
    /// a quarter of f32's memory on the CPU and on the GPU. Fill with `appendBytes`.
    #[wasm_bindgen(js_name = createBytes)]
    pub async fn create_bytes(backend: String, width: usize, scale: f32) -> Result<PoolScorer, JsValue> {
        let pool = PoolMatrix::new_u8(width, scale).map_err(js_error)?;
        Self::with_pool(&backend, pool).await
    }

    async fn with_pool(backend: &str, pool: PoolMatrix) -> Result<PoolScorer, JsValue> {
        let preference = match backend {
            "auto" => Preference::Auto,
            "webgpu" => Preference::Gpu,
            "cpu" => Preference::Cpu,
            other => return Err(js_error(Error::param("backend", format!("'{other}'; known: auto, webgpu, cpu")))),
        };
        let (compute, unavailable) = if preference == Preference::Cpu {
            (Compute::cpu(), None)
        } else {
            match crate::compute::gpu::GpuContext::new(Default::default()).await {
                Ok(ctx) => (Compute::with_gpu(ctx, preference), None),
                Err(e) if preference == Preference::Gpu => return Err(js_error(e)),
                Err(e) => (Compute::cpu(), Some(e.to_string())),
            }
        };
        Ok(PoolScorer { state: Rc::new(RefCell::new(ScorerState { compute, pool })), unavailable })
    }

    /// Append pool rows (row-major, `width` each), in the learner's pool order.
    pub fn append(&self, features: &[f32]) -> Result<(), JsValue> {
        let mut st = self.state.try_borrow_mut().map_err(|_| js_error(Error::State("the scorer is busy with a round".into())))?;
        let d = st.pool.dim();
        let x = rows_of(features, d, "pool rows")?;
        st.pool.append_f32(x.view()).map(|_| ()).map_err(js_error)
    }

    /// Make room for `rows` more rows before appending them in pieces (the storage then
    /// grows once instead of doubling: a 100k-image pool stays at 78 MB, not up to 157 MB).
    pub fn reserve(&self, rows: usize) -> Result<(), JsValue> {
        let mut st = self.state.try_borrow_mut().map_err(|_| js_error(Error::State("the scorer is busy with a round".into())))?;
        st.pool.reserve(rows);
        Ok(())
    }

    /// Append pool rows of bytes (`width` each) to a scorer made by `createBytes`.
    #[wasm_bindgen(js_name = appendBytes)]
    pub fn append_bytes(&self, bytes: &[u8]) -> Result<(), JsValue> {
        let mut st = self.state.try_borrow_mut().map_err(|_| js_error(Error::State("the scorer is busy with a round".into())))?;
        st.pool.append_u8(bytes).map(|_| ()).map_err(js_error)
    }

    /// Pool rows held.
    #[wasm_bindgen(getter)]
    pub fn rows(&self) -> usize {
        self.state.try_borrow().map(|s| s.pool.n_rows()).unwrap_or(0)
    }

    /// Whether a GPU is held (false after a fallback).
    #[wasm_bindgen(getter, js_name = hasGpu)]
    pub fn has_gpu(&self) -> bool {
        self.state.try_borrow().map(|s| s.compute.has_gpu()).unwrap_or(false)
    }

    /// The adapter, when a GPU is held.
    #[wasm_bindgen(getter)]
    pub fn adapter(&self) -> Option<String> {
        self.state.try_borrow().ok()?.compute.gpu().map(|g| g.adapter_info().to_string())
    }

    /// Bytes of pool features and labelled flags mirrored on the GPU (0 without one): the
    /// benchmark reports it beside the wasm heap.
    #[wasm_bindgen(getter, js_name = gpuResidentBytes)]
    pub fn gpu_resident_bytes(&self) -> f64 {
        self.state.try_borrow().ok().and_then(|s| s.compute.gpu().map(|g| g.resident_bytes() as f64)).unwrap_or(0.0)
    }

    /// Why there is no GPU: not available at creation, or dropped after a failure.
    #[wasm_bindgen(getter, js_name = fallbackReason)]
    pub fn fallback_reason(&self) -> Option<String> {
        let dropped = self.state.try_borrow().ok().and_then(|s| s.compute.fallback_reason().map(str::to_string));
        dropped.or_else(|| self.unavailable.clone())
    }

    /// The pool's probabilities under `network`, one round: resolves to
    /// `{probs: Float32Array (rows × outputs, row-major; a committee's mean), backend:
    /// 'webgpu' | 'cpu'}`, plus `memberProbs` (members × rows × outputs) for a learner's
    /// committee.
    pub fn score(&self, network: &ScoringNetwork) -> js_sys::Promise {
        let state = self.state.clone();
        let req = ScoreRequest { members: network.members.clone(), measure: Measure::Margin, want_probs: true, want_member_probs: network.committee };
        wasm_bindgen_futures::future_to_promise(async move {
            // The worker awaits each call before the next, so this is never contended;
            // if it were, a clear error beats a panic.
            let mut st = state.try_borrow_mut().map_err(|_| js_error(Error::State("the scorer is busy with a round".into())))?;
            let ScorerState { compute, pool } = &mut *st;
            let scored = compute.score_pool(pool, &req).await.map_err(js_error)?;
            let probs = scored.probs.ok_or_else(|| js_error(Error::State("the scoring round returned no probabilities".into())))?;
            let o = Object::new();
            set(&o, "probs", matrix_to_js(&probs));
            if let Some(each) = &scored.member_probs {
                let flat: Vec<f32> = each.iter().flat_map(|p| p.iter().copied()).collect();
                set(&o, "memberProbs", Float32Array::from(flat.as_slice()));
            }
            set(&o, "backend", if compute.last_backend() == BackendKind::Gpu { "webgpu" } else { "cpu" });
            Ok(o.into())
        })
    }

    /// One query round without probabilities: the pool's uncertainty scores under
    /// `network` (`measure`: margin, entropy or least_confident; labelled rows −∞) and the
    /// `n` best rows (seeded ties, as `query`). Resolves to
    /// `{ids: Uint32Array, scores: Float32Array, backend: 'webgpu' | 'cpu'}`.
    pub fn rank(&self, network: &ScoringNetwork, measure: String, n: usize) -> js_sys::Promise {
        let state = self.state.clone();
        let members = network.members.clone();
        wasm_bindgen_futures::future_to_promise(async move {
            let measure = match measure.as_str() {
                "margin" => Measure::Margin,
                "entropy" => Measure::Entropy,
                "least_confident" => Measure::LeastConfident,
                other => return Err(js_error(Error::param("measure", format!("'{other}'; known: margin, entropy, least_confident")))),
            };
            let req = ScoreRequest { members, measure, want_probs: false, want_member_probs: false };
            let mut st = state.try_borrow_mut().map_err(|_| js_error(Error::State("the scorer is busy with a round".into())))?;
            let ScorerState { compute, pool } = &mut *st;
            let scored = compute.score_pool(pool, &req).await.map_err(js_error)?;
            let ids: Vec<u32> = crate::strategy::select::top_k(&scored.scores, n, 0).into_iter().map(|i| i as u32).collect();
            let o = Object::new();
            set(&o, "ids", Uint32Array::from(ids.as_slice()));
            set(&o, "scores", Float32Array::from(scored.scores.as_slice()));
            set(&o, "backend", if compute.last_backend() == BackendKind::Gpu { "webgpu" } else { "cpu" });
            Ok(o.into())
        })
    }

    /// Destroy the GPU device, as a driver reset would: for tests of the CPU fallback.
    #[wasm_bindgen(js_name = loseDeviceForTesting)]
    pub fn lose_device_for_testing(&self) {
        if let Ok(st) = self.state.try_borrow() {
            if let Some(g) = st.compute.gpu() {
                g.destroy_device();
            }
        }
    }
}
