//! Image features: 8-bit pixels scaled to [0, 1] (v / 255), one row per image.

use ndarray::Array2;

use super::idx::IdxU8;
use crate::{Error, Result};

/// Images (first dimension = count, the rest = pixels) and labels (one per image) from
/// IDX files, as a feature matrix and label vector.
pub fn pixels(images: &IdxU8, labels: &IdxU8) -> Result<(Array2<f32>, Vec<u32>)> {
    let n = *images.dims.first().ok_or_else(|| Error::Format { what: "IDX images".into(), msg: "no dimensions".into() })?;
    if labels.dims.len() != 1 || labels.dims[0] != n {
        return Err(Error::Shape { what: "IDX labels vs images".into(), expected: n, got: labels.dims.first().copied().unwrap_or(0) });
    }
    if n == 0 {
        return Err(Error::Empty("IDX images".into()));
    }
    let d = images.data.len() / n;
    let x = Array2::from_shape_vec((n, d), images.data.iter().map(|&v| v as f32 / 255.0).collect())
        .map_err(|e| Error::Format { what: "IDX images".into(), msg: e.to_string() })?;
    Ok((x, labels.data.iter().map(|&l| l as u32).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_and_checks_counts() {
        let img = IdxU8 { dims: vec![2, 2, 1], data: vec![0, 255, 51, 102] };
        let lab = IdxU8 { dims: vec![2], data: vec![3, 1] };
        let (x, y) = pixels(&img, &lab).unwrap();
        assert_eq!(x.row(0).to_vec(), [0.0, 1.0]);
        assert!((x[[1, 0]] - 0.2).abs() < 1e-7);
        assert_eq!(y, [3, 1]);
        assert!(pixels(&img, &IdxU8 { dims: vec![3], data: vec![0; 3] }).is_err());
    }
}
