//! `TrainedModel`: a fitted model read back from `Learner.exportModel` bytes (`crate::trained`).

use js_sys::Float32Array;
use wasm_bindgen::prelude::*;

use super::{js_error, matrix_to_js, rows_of};

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
