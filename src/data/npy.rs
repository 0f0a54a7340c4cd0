//! NumPy `.npy` files (format versions 1, 2 and 3), the way embeddings computed elsewhere
//! usually arrive (`np.save("vectors.npy", x)`). Little-endian `f4` and `f8` only, C order:
//! that is what `np.save` writes for float arrays on every common machine. Anything else
//! (big-endian, Fortran order, integers, objects, a truncated file) is an error saying
//! what was found, so a person can re-save the array (`x.astype("<f4")`,
//! `np.ascontiguousarray(x)`).
//!
//! Layout: `\x93NUMPY`, major, minor, the header length (u16 LE in v1, u32 LE in v2/v3),
//! then a Python dict literal `{'descr': '<f4', 'fortran_order': False, 'shape': (n, d), }`
//! padded with spaces to a multiple of 64 bytes, then the raw data.

use crate::{Error, Result};

const MAGIC: &[u8] = b"\x93NUMPY";

fn err(msg: impl Into<String>) -> Error {
    Error::Format { what: "NPY".into(), msg: msg.into() }
}

/// Parse a `.npy` file: the shape and the values (row-major) as `f32`.
pub fn parse_npy(bytes: &[u8]) -> Result<(Vec<usize>, Vec<f32>)> {
    if bytes.len() < 10 || &bytes[..6] != MAGIC {
        return Err(err("not a NumPy .npy file (it does not start with \\x93NUMPY)"));
    }
    let major = bytes[6];
    let (header_len, start): (usize, usize) = match major {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 => {
            if bytes.len() < 12 {
                return Err(err("the file ends inside its header"));
            }
            (u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize, 12)
        }
        v => return Err(err(format!("format version {v} is not one this reads (1, 2, 3)"))),
    };
    let end = start.checked_add(header_len).filter(|&e| e <= bytes.len()).ok_or_else(|| {
        err(format!("the header says it is {header_len} bytes long, but the file has only {} after it", bytes.len() - start))
    })?;
    // v3 allows UTF-8 in the header; v1/v2 are latin-1, but the keys and values we read are ASCII.
    let header = std::str::from_utf8(&bytes[start..end]).map_err(|_| err("the header is not text"))?;
    let descr = dict_value(header, "descr")?;
    let fortran = dict_value(header, "fortran_order")?;
    let shape_text = dict_value(header, "shape")?;

    let descr = descr.trim_matches(|c| c == '\'' || c == '"');
    let item = match descr {
        "<f4" => 4,
        "<f8" => 8,
        ">f4" | ">f8" => {
            return Err(err(format!("dtype '{descr}' is big-endian; save it little-endian (x.astype('<f4'))")));
        }
        d if d.contains('O') => return Err(err(format!("dtype '{d}' holds Python objects, not numbers; save a float array"))),
        d => return Err(err(format!("dtype '{d}' is not float32 or float64 ('<f4' or '<f8'); save with x.astype('<f4')"))),
    };
    match fortran {
        "False" => {}
        "True" => return Err(err("the array is in Fortran order; save np.ascontiguousarray(x) instead")),
        other => return Err(err(format!("fortran_order is '{other}', expected True or False"))),
    }
    let shape = parse_shape(shape_text)?;
    let count = shape
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .filter(|n| n.checked_mul(item).is_some())
        .ok_or_else(|| err(format!("shape {shape:?} is too large")))?;
    let data = &bytes[end..];
    if data.len() < count * item {
        return Err(err(format!(
            "the data is truncated: shape {shape:?} needs {} bytes, the file has {}",
            count * item,
            data.len()
        )));
    }
    if data.len() > count * item {
        return Err(err(format!(
            "{} bytes after the data for shape {shape:?}: not a single saved array",
            data.len() - count * item
        )));
    }
    let values = if item == 4 {
        data.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
    } else {
        data.chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")) as f32).collect()
    };
    Ok((shape, values))
}

/// The text of one value in the header dict: after `'key':`, up to the next top-level comma
/// (commas inside the shape's parentheses belong to it).
fn dict_value<'a>(header: &'a str, key: &str) -> Result<&'a str> {
    let at = header
        .find(&format!("'{key}'"))
        .or_else(|| header.find(&format!("\"{key}\"")))
        .ok_or_else(|| err(format!("the header has no '{key}'")))?;
    let rest = &header[at + key.len() + 2..];
    let rest = rest.trim_start().strip_prefix(':').ok_or_else(|| err(format!("no ':' after '{key}' in the header")))?;
    let rest = rest.trim_start();
    let mut depth = 0i32;
    for (i, c) in rest.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' | '}' if depth <= 0 => return Ok(rest[..i].trim()),
            _ => {}
        }
    }
    Err(err(format!("the value of '{key}' in the header never ends")))
}

/// `(3, 4)`, `(3,)` or `()`.
fn parse_shape(text: &str) -> Result<Vec<usize>> {
    let inner = text
        .strip_prefix('(')
        .and_then(|t| t.strip_suffix(')'))
        .ok_or_else(|| err(format!("shape '{text}' is not a tuple")))?;
    inner
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.trim_end_matches('L').parse::<usize>().map_err(|_| err(format!("shape '{text}' holds '{s}', not a size"))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `np.save` writes (the simulator's writer for the Python peer benchmark).
    fn write_npy_f32(shape: &[usize], values: &[f32]) -> Vec<u8> {
        let data: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        crate::sim::npy::npy_bytes("<f4", shape, &data)
    }

    fn with_header(major: u8, header: &str, data: &[u8]) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.extend([major, 0]);
        if major == 1 {
            out.extend((header.len() as u16).to_le_bytes());
        } else {
            out.extend((header.len() as u32).to_le_bytes());
        }
        out.extend(header.as_bytes());
        out.extend(data);
        out
    }

    #[test]
    fn reads_what_it_writes_and_f8() {
        let b = write_npy_f32(&[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, -6.5]);
        assert_eq!((b.len() - 6 * 4) % 64, 0, "data starts on a 64-byte boundary");
        assert_eq!(parse_npy(&b).unwrap(), (vec![2, 3], vec![1.0, 2.0, 3.0, 4.0, 5.0, -6.5]));
        let data: Vec<u8> = [0.5f64, -2.0].iter().flat_map(|v| v.to_le_bytes()).collect();
        let b = with_header(2, "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }\n", &data);
        assert_eq!(parse_npy(&b).unwrap(), (vec![2], vec![0.5, -2.0]));
        assert_eq!(parse_npy(&write_npy_f32(&[0, 4], &[])).unwrap(), (vec![0, 4], vec![]));
    }

    #[test]
    fn clear_errors() {
        let msg = |b: &[u8]| parse_npy(b).unwrap_err().to_string();
        assert!(msg(b"PK\x03\x04 a zip").contains("not a NumPy .npy file"));
        let h = |descr: &str, fortran: &str| format!("{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': (1, 2), }}\n");
        assert!(msg(&with_header(1, &h(">f4", "False"), &[0; 8])).contains("big-endian"));
        assert!(msg(&with_header(1, &h("<f4", "True"), &[0; 8])).contains("Fortran order"));
        assert!(msg(&with_header(1, &h("|O", "False"), &[0; 8])).contains("Python objects"));
        assert!(msg(&with_header(1, &h("<i8", "False"), &[0; 16])).contains("not float32 or float64"));
        assert!(msg(&with_header(1, &h("<f4", "False"), &[0; 5])).contains("truncated: shape [1, 2] needs 8 bytes, the file has 5"));
        assert!(msg(&with_header(1, &h("<f4", "False"), &[0; 9])).contains("1 bytes after the data"));
        let mut cut = write_npy_f32(&[1], &[1.0]);
        cut.truncate(30);
        assert!(msg(&cut).contains("header says it is"));
        assert!(msg(&with_header(7, &h("<f4", "False"), &[])).contains("format version 7"));
        let huge = "{'descr': '<f4', 'fortran_order': False, 'shape': (18446744073709551615, 2), }\n";
        assert!(msg(&with_header(1, huge, &[])).contains("too large"));
    }

    #[test]
    fn never_panics_on_junk() {
        let good = write_npy_f32(&[2, 2], &[1.0, 2.0, 3.0, 4.0]);
        for cut in 0..good.len() {
            let _ = parse_npy(&good[..cut]);
        }
        for junk in [&b"\x93NUMPY\x01\x00\xff\xff"[..], b"\x93NUMPY\x02\x00\x01", b"\x93NUMPY\x01\x00\x03\x00{'d"] {
            let _ = parse_npy(junk);
        }
    }
}
