//! Featurizers that turn imported data into the learner's features: `TextFeaturizer`
//! (TF-IDF), `TableFeaturizer` (numbers and categories), `CoatesFeaturizer` (convolutional
//! image features; `CoatesGpu` encodes them on the GPU). Each fits on the pool and keeps a
//! snapshot, so rows added later get the same columns.

use std::rc::Rc;

use js_sys::{Float32Array, Uint8Array};
use ndarray::Array2;
use wasm_bindgen::prelude::*;

use super::import::ParsedTable;
use super::{js_error, matrix_to_js};
use crate::compute::coates::CoatesParams;
use crate::data::image::CoatesFeaturizer as ImageCoates;
use crate::data::stream::parse_csv;
use crate::data::table::Table;
use crate::data::tabular::TabularEncoder;
use crate::data::text::{Tfidf, TfidfParams};
use crate::Error;

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
