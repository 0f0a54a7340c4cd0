//! The IDX format (LeCun's MNIST files; Fashion-MNIST uses it too): a 4-byte magic
//! (0, 0, type code, number of dimensions), then each dimension as a big-endian u32, then
//! the data. Only unsigned bytes (type 0x08) are supported, which is what image and label
//! files use.

use crate::{Error, Result};

/// A parsed IDX file of unsigned bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct IdxU8 {
    pub dims: Vec<usize>,
    pub data: Vec<u8>,
}

fn err(msg: impl Into<String>) -> Error {
    Error::Format { what: "IDX file".into(), msg: msg.into() }
}

/// Parse an IDX file of unsigned bytes. Errors say which header field is wrong, or how
/// many bytes were expected and found.
pub fn parse_u8(bytes: &[u8]) -> Result<IdxU8> {
    if bytes.len() < 4 {
        return Err(err(format!("{} bytes is too short for the 4-byte header", bytes.len())));
    }
    if bytes[0] != 0 || bytes[1] != 0 {
        return Err(err(format!(
            "bad magic {:02x} {:02x}: expected 00 00 (is this a gzip file that was not unpacked?)",
            bytes[0], bytes[1]
        )));
    }
    if bytes[2] != 0x08 {
        return Err(err(format!("element type 0x{:02x} is not supported (only 0x08, unsigned byte)", bytes[2])));
    }
    let ndim = bytes[3] as usize;
    if ndim == 0 {
        return Err(err("zero dimensions"));
    }
    let header = 4 + 4 * ndim;
    if bytes.len() < header {
        return Err(err(format!("header needs {header} bytes for {ndim} dimensions, file has {}", bytes.len())));
    }
    let mut dims = Vec::with_capacity(ndim);
    let mut total: usize = 1;
    for i in 0..ndim {
        let o = 4 + 4 * i;
        let d = u32::from_be_bytes([bytes[o], bytes[o + 1], bytes[o + 2], bytes[o + 3]]) as usize;
        total = total.checked_mul(d).ok_or_else(|| err("dimensions overflow"))?;
        dims.push(d);
    }
    let body = &bytes[header..];
    if body.len() != total {
        return Err(err(format!("dimensions {dims:?} need {total} data bytes, file has {}", body.len())));
    }
    Ok(IdxU8 { dims, data: body.to_vec() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects() {
        let mut f = vec![0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3];
        f.extend([1, 2, 3, 4, 5, 6]);
        let p = parse_u8(&f).unwrap();
        assert_eq!(p.dims, vec![2, 3]);
        assert_eq!(p.data, vec![1, 2, 3, 4, 5, 6]);
        assert!(parse_u8(&f[..f.len() - 1]).unwrap_err().to_string().contains("need 6 data bytes, file has 5"));
        assert!(parse_u8(&[0x1f, 0x8b, 8, 0]).unwrap_err().to_string().contains("gzip"));
        assert!(parse_u8(&[0, 0]).is_err());
        assert!(parse_u8(&[0, 0, 8, 3, 0]).is_err());
    }
}
