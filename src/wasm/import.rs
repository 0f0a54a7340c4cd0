//! Import readers: `TableStream` reads a CSV, TSV, JSONL or text file chunk by chunk
//! (`crate::data::stream`) into a `ParsedTable`.

use js_sys::{Array, Float32Array, Object, Uint32Array};
use wasm_bindgen::prelude::*;

use super::{js_error, matrix_to_js, set};
use crate::data::stream::{self, SkipReason, Skipped, TableReader};
use crate::data::table::Table;
use crate::Error;

/// A parsed CSV, TSV, JSONL or plain-text file (see `TableStream`).
#[wasm_bindgen]
pub struct ParsedTable {
    pub(super) table: Table,
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
    pub(super) fn range(&self, start: usize, end: usize) -> Result<std::ops::Range<usize>, JsValue> {
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
