//! Embeddings computed elsewhere, read as they are: no scaling, no encoding, the numbers
//! in the file are the features (a model's embedding space is already what its author
//! meant distances in it to be). From a CSV of vectors or a `.npy` matrix.

use ndarray::Array2;

use super::table::Table;
use crate::{Error, Result};

/// The cells of `columns` in `rows` of `table` as an `rows × columns` matrix. A missing,
/// non-numeric or non-finite cell is an error naming its line and column (1-based): an
/// embedding has no sensible imputation, and a silent zero would move the point.
pub fn vectors(table: &Table, columns: &[usize], rows: std::ops::Range<usize>) -> Result<Array2<f32>> {
    if rows.end > table.rows.len() || rows.start > rows.end {
        return Err(Error::Shape { what: "row range end".into(), expected: table.rows.len(), got: rows.end });
    }
    let mut out = Array2::<f32>::zeros((rows.len(), columns.len()));
    for (i, r) in rows.enumerate() {
        for (j, &c) in columns.iter().enumerate() {
            let line = table.lines[r];
            let name = table.columns.get(c).ok_or(Error::Shape { what: "column index".into(), expected: table.columns.len(), got: c })?;
            let cell = table.rows[r][c].as_deref().ok_or_else(|| Error::Parse {
                source_name: "vectors".into(),
                line,
                col: c + 1,
                msg: format!("'{name}' is missing; every value of an embedding must be a number"),
            })?;
            let v: f32 = cell.trim().parse().map_err(|_| Error::Parse {
                source_name: "vectors".into(),
                line,
                col: c + 1,
                msg: format!("'{name}' is '{cell}', not a number"),
            })?;
            if !v.is_finite() {
                return Err(Error::NonFinite { row: line, col: c + 1, value: v as f64 });
            }
            out[[i, j]] = v;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::stream::parse_csv;

    #[test]
    fn numbers_as_they_are_and_errors_with_place() {
        let t = parse_csv(b"0.5,-1,0\n2,3e2,1\n").unwrap();
        let x = vectors(&t, &[0, 1], 0..2).unwrap();
        assert_eq!(x.into_raw_vec_and_offset().0, vec![0.5, -1.0, 2.0, 300.0]);
        let t = parse_csv(b"u,v\n1,2\n3,oops\n4,\n5,inf\n").unwrap();
        assert_eq!(vectors(&t, &[0, 1], 1..2).unwrap_err().to_string(), "vectors: line 3, column 2: 'v' is 'oops', not a number");
        assert!(vectors(&t, &[0, 1], 2..3).unwrap_err().to_string().contains("line 4, column 2: 'v' is missing"));
        assert!(matches!(vectors(&t, &[0, 1], 3..4), Err(Error::NonFinite { row: 5, col: 2, .. })));
        assert!(vectors(&t, &[0, 1], 3..9).is_err());
    }
}
