//! NumPy's `.npy` format, as written by `np.save` (embeddings exported from Python).
//!
//! Layout (NumPy's own specification, `numpy.lib.format`,
//! <https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html>):
//!
//! ```text
//! \x93NUMPY            6-byte magic
//! major, minor         1 byte each: 1.0, 2.0 or 3.0
//! HEADER_LEN           little-endian u16 (1.0) or u32 (2.0, 3.0)
//! header               HEADER_LEN bytes: a Python dict literal with exactly the keys
//!                      'descr', 'fortran_order' and 'shape', padded with spaces and
//!                      ended by '\n' (latin-1 in 1.0/2.0, UTF-8 in 3.0)
//! data                 product(shape) elements of `descr`, C order unless fortran_order
//! ```
//!
//! Supported: little-endian `<f4` and `<f8` (narrowed to f32, the pool's type) in C order.
//! Everything else is a clear [`Error::Format`] rather than a guess: big-endian data,
//! Fortran order (for two or more dimensions), other dtypes, structured dtypes.
//!
//! The header is parsed by hand (no Python literal evaluator): only the small subset
//! `np.save` writes is accepted, in one linear pass with no recursion, so a hostile header
//! cannot make it loop or nest deeply. Nothing is allocated from a size the header declares
//! until that size has been checked against the bytes actually present, so a header that
//! claims a terabyte costs nothing.

use crate::{Error, Result};

const MAGIC: &[u8] = b"\x93NUMPY";

/// NumPy 2's `NPY_MAXDIMS`: no real array has more dimensions.
const MAX_DIMS: usize = 64;

fn err(msg: impl Into<String>) -> Error {
    Error::Format { what: "NPY file".into(), msg: msg.into() }
}

/// Element types this reader understands.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Dtype {
    F4,
    F8,
}

impl Dtype {
    fn size(self) -> usize {
        match self {
            Dtype::F4 => 4,
            Dtype::F8 => 8,
        }
    }

    fn from_descr(descr: &str) -> Result<Self> {
        match descr {
            "<f4" => Ok(Dtype::F4),
            "<f8" => Ok(Dtype::F8),
            ">f4" | ">f8" => Err(err(format!(
                "dtype '{descr}' is big-endian; only little-endian is supported (in NumPy: a.astype('<f4'))"
            ))),
            other => Err(err(format!(
                "dtype '{other}' is not supported; use float32 '<f4' or float64 '<f8' (in NumPy: a.astype('<f4'))"
            ))),
        }
    }
}

/// The three header entries, parsed.
#[derive(Debug, Clone, PartialEq)]
struct Header {
    descr: String,
    fortran_order: bool,
    shape: Vec<usize>,
}

/// Parse a `.npy` file of `<f4` or `<f8` values in C order: the shape and the values in
/// row-major order (`f8` narrowed to `f32`). A 0-d array has shape `[]` and one value.
///
/// Errors say which part is wrong and, for the data, how many bytes were expected and
/// found. A NaN or infinite value (including an `f8` too large for `f32`) is
/// [`Error::NonFinite`] with its position as NumPy indices (row = index along the first
/// axis, column = flat index within that row, both 0-based), since one NaN in the pool
/// would poison every fit after it.
pub fn parse_npy(bytes: &[u8]) -> Result<(Vec<usize>, Vec<f32>)> {
    if bytes.len() < MAGIC.len() + 2 || &bytes[..MAGIC.len()] != MAGIC {
        let shown: Vec<String> = bytes.iter().take(6).map(|b| format!("{b:02x}")).collect();
        return Err(err(format!(
            "does not start with the magic \\x93NUMPY (found {}){}",
            shown.join(" "),
            if bytes.starts_with(b"PK") { "; this looks like a .npz zip archive: unpack it first" } else { "" }
        )));
    }
    let (major, minor) = (bytes[6], bytes[7]);
    let len_size = match (major, minor) {
        (1, 0) => 2,
        (2, 0) | (3, 0) => 4,
        _ => return Err(err(format!("format version {major}.{minor} is not supported (1.0, 2.0 and 3.0 are)"))),
    };
    let len_at = MAGIC.len() + 2;
    let header_at = len_at + len_size;
    if bytes.len() < header_at {
        return Err(err(format!("{} bytes is too short for a version {major}.0 preamble of {header_at}", bytes.len())));
    }
    let header_len = if len_size == 2 {
        u16::from_le_bytes([bytes[len_at], bytes[len_at + 1]]) as usize
    } else {
        // u32 always fits in usize on the targets we build (wasm32, 64-bit native).
        u32::from_le_bytes([bytes[len_at], bytes[len_at + 1], bytes[len_at + 2], bytes[len_at + 3]]) as usize
    };
    let data_at = header_at.checked_add(header_len).filter(|&end| end <= bytes.len()).ok_or_else(|| {
        err(format!("header declares {header_len} bytes but only {} follow the preamble", bytes.len() - header_at))
    })?;
    let header = parse_header(&bytes[header_at..data_at])?;
    let dtype = Dtype::from_descr(&header.descr)?;
    // In one dimension (or none) Fortran and C order are the same bytes.
    if header.fortran_order && header.shape.len() >= 2 {
        return Err(err(format!(
            "shape {:?} is stored in Fortran (column-major) order; save a C-order array (in NumPy: np.ascontiguousarray(a))",
            header.shape
        )));
    }
    // Any zero dimension makes an empty array however large the others are (NumPy
    // accepts (2**40, 2**40, 0)); otherwise the product must not overflow.
    let count = if header.shape.contains(&0) {
        0
    } else {
        header
            .shape
            .iter()
            .try_fold(1usize, |acc, &d| acc.checked_mul(d))
            .ok_or_else(|| err(format!("shape {:?} has more elements than this machine can address", header.shape)))?
    };
    let need = count
        .checked_mul(dtype.size())
        .ok_or_else(|| err(format!("shape {:?} of '{}' needs more bytes than this machine can address", header.shape, header.descr)))?;
    let data = &bytes[data_at..];
    if data.len() != need {
        return Err(err(format!(
            "shape {:?} of '{}' needs {need} data bytes, file has {}{}",
            header.shape,
            header.descr,
            data.len(),
            if data.len() < need { " (truncated?)" } else { "" }
        )));
    }
    // Row length for error positions; 1 for 0-d and 1-d arrays. Not the product of
    // shape[1..]: with shape[0] = 0 that may overflow (found by fuzzing), and then there
    // are no values to report anyway.
    let row_len = match header.shape.first() {
        Some(&rows) if rows > 0 => (count / rows).max(1),
        _ => 1,
    };
    let non_finite = |i: usize, value: f64| Error::NonFinite { row: i / row_len, col: i % row_len, value };
    let mut values = Vec::with_capacity(count);
    match dtype {
        Dtype::F4 => {
            for (i, c) in data.chunks_exact(4).enumerate() {
                let v = f32::from_le_bytes([c[0], c[1], c[2], c[3]]);
                if !v.is_finite() {
                    return Err(non_finite(i, v as f64));
                }
                values.push(v);
            }
        }
        Dtype::F8 => {
            for (i, c) in data.chunks_exact(8).enumerate() {
                let v = f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
                let narrowed = v as f32;
                if !narrowed.is_finite() {
                    return Err(non_finite(i, v));
                }
                values.push(narrowed);
            }
        }
    }
    Ok((header.shape, values))
}

/// A cursor over the header's bytes; errors give the 0-based offset within the header.
struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Cursor<'a> {
    fn fail(&self, msg: impl std::fmt::Display) -> Error {
        err(format!("header, byte {}: {msg}", self.i))
    }

    fn skip_ws(&mut self) {
        while self.i < self.b.len() && matches!(self.b[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn expect(&mut self, c: u8) -> Result<()> {
        self.skip_ws();
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            Err(self.fail(format!("expected '{}'", c as char)))
        }
    }

    /// A quoted string without escapes (np.save never writes any for these keys/dtypes).
    fn string(&mut self) -> Result<&'a str> {
        self.skip_ws();
        let Some(q @ (b'\'' | b'"')) = self.peek() else {
            return Err(self.fail("expected a quoted string"));
        };
        let start = self.i + 1;
        let len = self.b[start..].iter().position(|&c| c == q || c == b'\\').ok_or_else(|| self.fail("string is never closed"))?;
        let end = start + len;
        if self.b[end] == b'\\' {
            self.i = end;
            return Err(self.fail("escapes in strings are not supported"));
        }
        self.i = end + 1;
        std::str::from_utf8(&self.b[start..end]).map_err(|_| self.fail("string is not valid UTF-8"))
    }

    fn word(&mut self, w: &str) -> bool {
        if self.b[self.i..].starts_with(w.as_bytes()) {
            self.i += w.len();
            true
        } else {
            false
        }
    }

    fn boolean(&mut self) -> Result<bool> {
        self.skip_ws();
        if self.word("True") {
            Ok(true)
        } else if self.word("False") {
            Ok(false)
        } else {
            Err(self.fail("expected True or False"))
        }
    }

    /// A tuple of non-negative integers: `()`, `(3,)`, `(3, 4)`; Python 2 files may write
    /// `3L` (NumPy's own reader still accepts them).
    fn shape(&mut self) -> Result<Vec<usize>> {
        self.expect(b'(')?;
        let mut dims = Vec::new();
        loop {
            self.skip_ws();
            if self.peek() == Some(b')') {
                self.i += 1;
                return Ok(dims);
            }
            let start = self.i;
            let mut d: usize = 0;
            while let Some(c @ b'0'..=b'9') = self.peek() {
                d = d
                    .checked_mul(10)
                    .and_then(|d| d.checked_add((c - b'0') as usize))
                    .ok_or_else(|| self.fail("dimension is too large"))?;
                self.i += 1;
            }
            if self.i == start {
                return Err(self.fail("expected a non-negative integer dimension"));
            }
            if self.peek() == Some(b'L') {
                self.i += 1;
            }
            if dims.len() == MAX_DIMS {
                return Err(self.fail(format!("more than {MAX_DIMS} dimensions")));
            }
            dims.push(d);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b')') => {}
                _ => return Err(self.fail("expected ',' or ')' in the shape")),
            }
        }
    }
}

/// Parse the header dict: exactly the keys 'descr', 'fortran_order' and 'shape', in any
/// order (NumPy's reader requires the same set).
fn parse_header(b: &[u8]) -> Result<Header> {
    let mut c = Cursor { b, i: 0 };
    let (mut descr, mut fortran, mut shape) = (None, None, None);
    c.expect(b'{')?;
    loop {
        c.skip_ws();
        if c.peek() == Some(b'}') {
            c.i += 1;
            break;
        }
        let key = c.string()?;
        c.expect(b':')?;
        c.skip_ws();
        let dup = match key {
            "descr" => {
                if c.peek() == Some(b'[') {
                    return Err(c.fail("structured dtypes (a list 'descr') are not supported; save a plain float array"));
                }
                descr.replace(c.string()?.to_string()).is_some()
            }
            "fortran_order" => fortran.replace(c.boolean()?).is_some(),
            "shape" => shape.replace(c.shape()?).is_some(),
            other => return Err(c.fail(format!("unexpected key '{other}' (expected descr, fortran_order, shape)"))),
        };
        if dup {
            return Err(c.fail(format!("key '{key}' appears twice")));
        }
        c.skip_ws();
        match c.peek() {
            Some(b',') => c.i += 1,
            Some(b'}') => {}
            _ => return Err(c.fail("expected ',' or '}' after a value")),
        }
    }
    c.skip_ws();
    if c.i != b.len() {
        return Err(c.fail("unexpected bytes after the header dict"));
    }
    let missing = |k: &str| err(format!("header has no '{k}' key"));
    Ok(Header {
        descr: descr.ok_or_else(|| missing("descr"))?,
        fortran_order: fortran.ok_or_else(|| missing("fortran_order"))?,
        shape: shape.ok_or_else(|| missing("shape"))?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A version 1.0 file with `header` padded as np.save pads it (to a multiple of 64).
    fn npy(header: &str, data: &[u8]) -> Vec<u8> {
        let mut h = header.to_string();
        while (10 + h.len() + 1) % 64 != 0 {
            h.push(' ');
        }
        h.push('\n');
        let mut f = MAGIC.to_vec();
        f.extend([1, 0]);
        f.extend((h.len() as u16).to_le_bytes());
        f.extend(h.as_bytes());
        f.extend(data);
        f
    }

    fn f4(v: &[f32]) -> Vec<u8> {
        v.iter().flat_map(|x| x.to_le_bytes()).collect()
    }

    #[test]
    fn parses_f4_and_f8() {
        let f = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", &f4(&[1., 2., 3., 4., 5., 6.]));
        assert_eq!(parse_npy(&f).unwrap(), (vec![2, 3], vec![1., 2., 3., 4., 5., 6.]));
        let d: Vec<u8> = [0.5f64, -1.25].iter().flat_map(|x| x.to_le_bytes()).collect();
        let f = npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", &d);
        assert_eq!(parse_npy(&f).unwrap(), (vec![2], vec![0.5, -1.25]));
        // Scalar, empty, Python 2 longs, keys in another order, 1-d Fortran order.
        let f = npy("{'shape': (), 'fortran_order': True, 'descr': '<f4'}", &f4(&[7.]));
        assert_eq!(parse_npy(&f).unwrap(), (vec![], vec![7.]));
        let f = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (0L, 3L)}", &[]);
        assert_eq!(parse_npy(&f).unwrap(), (vec![0, 3], vec![]));
    }

    #[test]
    fn version_2_header_length() {
        let mut f = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", &f4(&[3.]));
        // Turn 1.0 into 2.0: a 4-byte header length, the same header.
        let len = u16::from_le_bytes([f[8], f[9]]) as u32;
        f[6] = 2;
        f.splice(8..10, len.to_le_bytes());
        assert_eq!(parse_npy(&f).unwrap(), (vec![1], vec![3.]));
    }

    #[test]
    fn clear_errors() {
        let msg = |f: &[u8]| parse_npy(f).unwrap_err().to_string();
        let h = |d: &str, fo: &str, s: &str| format!("{{'descr': '{d}', 'fortran_order': {fo}, 'shape': {s}, }}");
        assert!(msg(b"PK\x03\x04rest").contains(".npz"));
        assert!(msg(b"\x93NUMPY").contains("magic"));
        assert!(msg(&npy(&h(">f4", "False", "(1,)"), &[0; 4])).contains("big-endian"));
        assert!(msg(&npy(&h("<i8", "False", "(1,)"), &[0; 8])).contains("'<i8' is not supported"));
        assert!(msg(&npy(&h("<f4", "True", "(2, 2)"), &[0; 16])).contains("Fortran"));
        assert!(msg(&npy(&h("<f4", "False", "(2, 2)"), &[0; 15])).contains("needs 16 data bytes, file has 15 (truncated?)"));
        assert!(msg(&npy(&h("<f4", "False", "(2, 2)"), &[0; 20])).contains("needs 16 data bytes, file has 20"));
        let huge = h("<f8", "False", "(4294967296, 4294967296, 4294967296)");
        assert!(msg(&npy(&huge, &[])).contains("more elements than this machine can address"));
        assert!(msg(&npy(&h("<f4", "False", "(99999999999999999999999,)"), &[])).contains("too large"));
        assert!(msg(&npy("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,)}", &[0; 4])).contains("structured"));
        assert!(msg(&npy("{'descr': '<f4', 'shape': (1,)}", &[0; 4])).contains("no 'fortran_order'"));
        assert!(msg(&npy("{'descr': '<f4', 'descr': '<f4'}", &[])).contains("twice"));
        let mut f = npy(&h("<f4", "False", "(1,)"), &[0; 4]);
        f[6] = 4;
        assert!(msg(&f).contains("version 4.0"));
        f[6] = 1;
        f[8] = 0xff;
        assert!(msg(&f).contains("header declares"));
        assert_eq!(
            parse_npy(&npy(&h("<f4", "False", "(2, 2)"), &f4(&[0., 1., 2., f32::NAN]))).unwrap_err().code(),
            "E_NONFINITE"
        );
        let big: Vec<u8> = [1e300f64].iter().flat_map(|x| x.to_le_bytes()).collect();
        assert!(matches!(parse_npy(&npy(&h("<f8", "False", "(1,)"), &big)), Err(Error::NonFinite { row: 0, col: 0, .. })));
    }

    /// Files written by NumPy 2 itself (bench/reference/npy_fixtures.py).
    #[test]
    fn reads_files_written_by_numpy() {
        let fixture = |name: &str| {
            std::fs::read(format!("{}/tests/fixtures/npy/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
        };
        let want = (vec![2, 3], vec![0.0, 0.25, 0.5, 0.75, 1.0, 1.25]);
        for name in ["f4_2x3_v1.npy", "f8_2x3_v1.npy", "f4_2x3_v2.npy", "f4_2x3_v3.npy"] {
            assert_eq!(parse_npy(&fixture(name)).unwrap(), want, "{name}");
        }
        assert_eq!(parse_npy(&fixture("f4_scalar.npy")).unwrap(), (vec![], vec![2.5]));
        assert_eq!(parse_npy(&fixture("f4_0x3.npy")).unwrap(), (vec![0, 3], vec![]));
        let msg = |name: &str| parse_npy(&fixture(name)).unwrap_err().to_string();
        assert!(msg("f4_big_endian.npy").contains("big-endian"));
        assert!(msg("f4_fortran.npy").contains("Fortran"));
        assert!(msg("i8.npy").contains("'<i8' is not supported"));
    }

    /// Found by `cargo fuzz run npy` (tests/fixtures/fuzz/npy/).
    #[test]
    fn empty_arrays_with_huge_dimensions() {
        // shape[1..] overflowed usize while computing the row length for error messages.
        let h = "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 2, 18446744073709551615, 3), }";
        assert_eq!(parse_npy(&npy(h, &[])).unwrap(), (vec![0, 2, usize::MAX, 3], vec![]));
        // A zero anywhere makes the array empty, however large the dimensions before it.
        let h = "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 0), }";
        assert_eq!(parse_npy(&npy(h, &[])).unwrap().1, Vec::<f32>::new());
    }

    #[test]
    fn never_panics_on_truncations() {
        let f = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", &f4(&[1.; 6]));
        for n in 0..f.len() {
            assert!(parse_npy(&f[..n]).is_err());
        }
    }
}
