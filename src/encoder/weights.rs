//! The one reader of pretrained weight files: safetensors (a little-endian u64 header
//! length, a JSON header naming each tensor's dtype, shape and byte range, then the raw
//! tensors), as the conversion scripts in `weights/` write them.
//!
//! Every tensor comes out as f32. Stored as F32, F16, or I8 with a per-output-channel f32
//! `<name>.scale` beside it (the conversion script's `--dtype i8`).

use std::collections::HashMap;

use safetensors::tensor::{Dtype, SafeTensors};

use crate::{Error, Result};

/// A parsed weight file: its metadata and borrowed tensors.
pub struct WeightFile<'a> {
    tensors: SafeTensors<'a>,
    metadata: HashMap<String, String>,
    what: &'a str,
}

impl<'a> WeightFile<'a> {
    /// Parses `bytes`; `what` names the file in errors ("EfficientNet-Lite0 weights").
    pub fn parse(bytes: &'a [u8], what: &'a str) -> Result<WeightFile<'a>> {
        let fail = |msg: String| Error::Format { what: what.into(), msg };
        let (_, meta) = SafeTensors::read_metadata(bytes).map_err(|e| fail(format!("not a safetensors file ({e})")))?;
        let metadata = meta.metadata().clone().unwrap_or_default();
        let tensors = SafeTensors::deserialize(bytes).map_err(|e| fail(format!("not a safetensors file ({e})")))?;
        Ok(WeightFile { tensors, metadata, what })
    }

    /// A metadata entry, or an error naming it.
    pub fn meta(&self, key: &str) -> Result<&str> {
        self.metadata
            .get(key)
            .map(String::as_str)
            .ok_or_else(|| Error::Format { what: self.what.into(), msg: format!("the header has no '{key}' entry") })
    }

    /// Tensor `name` as f32, checked against `shape`.
    pub fn f32(&self, name: &str, shape: &[usize]) -> Result<Vec<f32>> {
        let fail = |msg: String| Error::Format { what: self.what.into(), msg: format!("tensor '{name}': {msg}") };
        let t = self.tensors.tensor(name).map_err(|_| fail("missing".into()))?;
        if t.shape() != shape {
            return Err(fail(format!("shape {:?}, expected {:?}", t.shape(), shape)));
        }
        let data = t.data();
        let mut out: Vec<f32> = match t.dtype() {
            Dtype::F32 => data.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect(),
            Dtype::F16 => data.chunks_exact(2).map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32()).collect(),
            Dtype::I8 => {
                let rows = shape.first().copied().unwrap_or(1).max(1);
                let scale = self.f32(&format!("{}.scale", name.strip_suffix(".weight").unwrap_or(name)), &[rows])?;
                let per_row = data.len() / rows;
                data.iter().enumerate().map(|(i, &q)| q as i8 as f32 * scale[i / per_row.max(1)]).collect()
            }
            other => return Err(fail(format!("dtype {other:?} is not one this reader knows (F32, F16, I8)"))),
        };
        if let Some(i) = out.iter().position(|v| !v.is_finite()) {
            return Err(fail(format!("value {i} is {}", out[i])));
        }
        out.shrink_to_fit();
        Ok(out)
    }
}

/// A table read one row at a time (a vocabulary's embeddings): kept as stored when the file
/// has int8 rows (a quarter of the memory of f32: 11.7 MB instead of 47 MB for MiniLM's
/// 30,522 × 384), as f32 otherwise.
pub enum RowTable {
    I8 { codes: Vec<i8>, scale: Vec<f32>, width: usize },
    F32 { values: Vec<f32>, width: usize },
}

impl RowTable {
    /// Row `r` as f32 into `out` (width values).
    pub fn row_into(&self, r: usize, out: &mut [f32]) {
        match self {
            RowTable::I8 { codes, scale, width } => {
                let s = scale[r];
                out.iter_mut().zip(&codes[r * width..(r + 1) * width]).for_each(|(o, &q)| *o = q as f32 * s);
            }
            RowTable::F32 { values, width } => out.copy_from_slice(&values[r * width..(r + 1) * width]),
        }
    }
}

impl WeightFile<'_> {
    /// Tensor `name` (rows × width) as a [`RowTable`].
    pub fn row_table(&self, name: &str, rows: usize, width: usize) -> Result<RowTable> {
        let fail = |msg: String| Error::Format { what: self.what.into(), msg: format!("tensor '{name}': {msg}") };
        let t = self.tensors.tensor(name).map_err(|_| fail("missing".into()))?;
        if t.dtype() != Dtype::I8 {
            return Ok(RowTable::F32 { values: self.f32(name, &[rows, width])?, width });
        }
        if t.shape() != [rows, width] {
            return Err(fail(format!("shape {:?}, expected {:?}", t.shape(), [rows, width])));
        }
        let scale = self.f32(&format!("{}.scale", name.strip_suffix(".weight").unwrap_or(name)), &[rows])?;
        Ok(RowTable::I8 { codes: t.data().iter().map(|&b| b as i8).collect(), scale, width })
    }
}
