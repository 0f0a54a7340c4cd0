//! Minimal writer for NumPy's `.npy` format (version 1.0: magic, header length, a Python
//! dict literal padded to 64 bytes, then raw little-endian data), so the Python peer
//! benchmark reads exactly the simulator's splits and features.

use std::io::Write;

use super::Split;
use crate::{Error, Result};

/// `.npy` bytes of a C-order array with dtype `descr` (e.g. `<f4`), shape and raw data.
pub fn npy_bytes(descr: &str, shape: &[usize], data: &[u8]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let shape_txt = if shape.len() == 1 { format!("({},)", dims[0]) } else { format!("({})", dims.join(", ")) };
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape_txt}, }}");
    // Magic (6) + version (2) + length (2) + header + '\n' must be a multiple of 64.
    let total = 10 + header.len() + 1;
    header.push_str(&" ".repeat((64 - total % 64) % 64));
    header.push('\n');
    let mut out = Vec::with_capacity(10 + header.len() + data.len());
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(data);
    out
}

fn write(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    let io = |e: std::io::Error| Error::Io { path: path.display().to_string(), msg: e.to_string() };
    std::fs::File::create(path).map_err(io)?.write_all(bytes).map_err(io)
}

fn f32_bytes(x: &ndarray::Array2<f32>) -> Vec<u8> {
    x.iter().flat_map(|v| v.to_le_bytes()).collect()
}

fn i64_bytes<T: Copy + Into<i64>>(v: &[T]) -> Vec<u8> {
    v.iter().flat_map(|&x| x.into().to_le_bytes()).collect()
}

/// Write seed `s`'s split as `seed{s}_{pool_x,pool_y,test_x,test_y,init}.npy` in `dir`.
pub fn dump_split(dir: &str, s: usize, sp: &Split) -> Result<()> {
    let dir = std::path::Path::new(dir);
    std::fs::create_dir_all(dir).map_err(|e| Error::Io { path: dir.display().to_string(), msg: e.to_string() })?;
    let f = |name: &str| dir.join(format!("seed{s}_{name}.npy"));
    write(&f("pool_x"), &npy_bytes("<f4", &[sp.pool_x.nrows(), sp.pool_x.ncols()], &f32_bytes(&sp.pool_x)))?;
    write(&f("test_x"), &npy_bytes("<f4", &[sp.test_x.nrows(), sp.test_x.ncols()], &f32_bytes(&sp.test_x)))?;
    write(&f("pool_y"), &npy_bytes("<i8", &[sp.pool_y.len()], &i64_bytes(&sp.pool_y)))?;
    write(&f("test_y"), &npy_bytes("<i8", &[sp.test_y.len()], &i64_bytes(&sp.test_y)))?;
    let init: Vec<i64> = sp.init.iter().map(|&i| i as i64).collect();
    write(&f("init"), &npy_bytes("<i8", &[init.len()], &i64_bytes(&init)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_is_padded_to_64() {
        let b = npy_bytes("<f4", &[2, 3], &[0; 24]);
        let hlen = u16::from_le_bytes([b[8], b[9]]) as usize;
        assert_eq!((10 + hlen) % 64, 0);
        assert_eq!(b.len(), 10 + hlen + 24);
        assert!(std::str::from_utf8(&b[10..10 + hlen]).unwrap().contains("'shape': (2, 3)"));
    }
}
