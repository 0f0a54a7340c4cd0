//! The only place with `#[wasm_bindgen]`: converts typed arrays to ndarray, core errors to
//! JS `Error`s with a stable code, and installs the panic hook. No logic lives here.
//!
//! One file per exported class (docs/ARCHITECTURE.md): `learner` (Learner), `trained`
//! (TrainedModel), `featurizers` (TextFeaturizer, TableFeaturizer, CoatesFeaturizer),
//! `import` (TableStream, ParsedTable), `scoring` (PoolScorer, ScoringNetwork, CoatesGpu),
//! `encoder` (ImageEncoder, ImageEncoderGpu, SentenceEncoder).
//! This file holds the conversions they share and the free functions.

mod encoder;
mod featurizers;
mod import;
mod learner;
mod scoring;
mod trained;

use js_sys::{Array, Float32Array, Object, Reflect, Uint32Array, Uint8Array};
use ndarray::Array2;
use wasm_bindgen::prelude::*;

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

fn queries_to_js(picks: Vec<crate::strategy::Candidate>) -> Array {
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
    crate::model::any::ModelSpec::NAMES.iter().map(|s| s.to_string()).collect()
}

/// Names of the strategies that need a committee (the UI may say so).
#[wasm_bindgen(js_name = committeeStrategyNames)]
pub fn committee_strategy_names() -> Vec<String> {
    use crate::strategy::StrategyKind;
    StrategyKind::ALL.iter().filter(|k| k.needs_committee()).map(|k| k.name().to_string()).collect()
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
