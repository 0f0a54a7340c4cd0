//! The only place with `#[wasm_bindgen]`: converts typed arrays to ndarray, core errors to
//! JS `Error`s with a stable code, and installs the panic hook. No logic lives here.

use js_sys::{Array, Float32Array, Object, Reflect, Uint32Array, Uint8Array};
use ndarray::Array2;
use wasm_bindgen::prelude::*;

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
        let picks = self.inner.query(n).map_err(js_error)?;
        let out = Array::new();
        for q in picks {
            let o = Object::new();
            set(&o, "index", q.index as u32);
            set(&o, "score", q.score);
            set(&o, "reason", q.reason);
            out.push(&o);
        }
        Ok(out)
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

/// Every query strategy name `Learner.queryWith` can run, in registry order: the registry's
/// names less those needing a committee, which this learner does not train.
#[wasm_bindgen(js_name = strategyNames)]
pub fn strategy_names() -> Vec<String> {
    use crate::strategy::StrategyKind;
    StrategyKind::NAMES
        .iter()
        .filter(|name| StrategyKind::from_name(name).map(|k| !k.needs_committee()).unwrap_or(false))
        .map(|s| s.to_string())
        .collect()
}

/// Every model name the learner can train. The learner trains softmax regression only
/// today; this list is what the package validates `model` against.
#[wasm_bindgen(js_name = modelNames)]
pub fn model_names() -> Vec<String> {
    vec!["softmax".to_string()]
}

#[wasm_bindgen(js_class = Learner)]
impl WasmLearner {
    /// Like `query`, with the strategy named (see `strategyNames`); an unknown name is an
    /// `E_INVALID_PARAM` error that lists the known ones.
    #[wasm_bindgen(js_name = queryWith)]
    pub fn query_with(&mut self, strategy: &str, n: usize) -> Result<Array, JsValue> {
        let kind = crate::strategy::StrategyKind::from_name(strategy).map_err(js_error)?;
        let picks = self.inner.query_with(kind, n).map_err(js_error)?;
        let out = Array::new();
        for q in picks {
            let o = Object::new();
            set(&o, "index", q.index as u32);
            set(&o, "score", q.score);
            set(&o, "reason", q.reason);
            out.push(&o);
        }
        Ok(out)
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
