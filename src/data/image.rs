//! Image features: 8-bit pixels scaled to [0, 1] (v / 255), one row per image; or
//! Coates & Ng features learned from the pool (`compute::coates`), standardized.

use ndarray::Array2;
use serde::{Deserialize, Serialize};

use super::idx::IdxU8;
use crate::compute::coates::{CoatesFeatures, CoatesParams};
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

/// Coates & Ng features fitted on a pool of grey images, then standardized with the
/// pool's per-feature mean and standard deviation (as `examples/coates_fashion.rs` does):
/// the raw features are quadrant sums in the hundreds, which a regularized model reads
/// badly. Serializable with the session, so later images get the same columns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoatesFeaturizer {
    pub extractor: CoatesFeatures,
    mean: Vec<f32>,
    /// 1 / (standard deviation + 1e-6): a constant feature maps to 0, not to infinity.
    inv_sd: Vec<f32>,
}

impl CoatesFeaturizer {
    /// Fit the extractor and the standardization on `images` (row-major bytes, n ×
    /// width·height); returns the featurizer and the pool's standardized features, so the
    /// pool is not encoded twice.
    pub fn fit(params: &CoatesParams, images: &[u8], width: usize, height: usize) -> Result<(CoatesFeaturizer, Array2<f32>)> {
        let extractor = params.fit(images, width, height)?;
        let raw = extractor.transform(images)?;
        let n = raw.nrows() as f32;
        let mean: Vec<f32> = raw.columns().into_iter().map(|c| c.sum() / n).collect();
        let inv_sd = raw
            .columns()
            .into_iter()
            .zip(&mean)
            .map(|(c, m)| 1.0 / ((c.iter().map(|v| (v - m) * (v - m)).sum::<f32>() / n).sqrt() + 1e-6))
            .collect();
        let f = CoatesFeaturizer { extractor, mean, inv_sd };
        let pool = f.standardize(raw);
        Ok((f, pool))
    }

    /// Features per image: 4 quadrants × centroids.
    pub fn width(&self) -> usize {
        self.extractor.n_features()
    }

    /// One standardized row per image (same size as the fitted ones).
    pub fn transform(&self, images: &[u8]) -> Result<Array2<f32>> {
        Ok(self.standardize(self.extractor.transform(images)?))
    }

    /// The same rows as `transform`, encoded on the GPU (`GpuContext::coates_transform`)
    /// and standardized here; the CPU path is the reference they are tested against.
    #[cfg(target_arch = "wasm32")]
    pub async fn transform_gpu(&self, ctx: &crate::compute::gpu::GpuContext, images: &[u8]) -> Result<Array2<f32>> {
        Ok(self.standardize(ctx.coates_transform(&self.extractor, images).await?))
    }

    fn standardize(&self, mut x: Array2<f32>) -> Array2<f32> {
        for mut row in x.rows_mut() {
            for ((v, m), s) in row.iter_mut().zip(&self.mean).zip(&self.inv_sd) {
                *v = (*v - m) * s;
            }
        }
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn coates_featurizer_standardizes_the_pool_and_round_trips() {
        // 30 random 10×10 images; small K and few patches keep it fast.
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let imgs: Vec<u8> = (0..30 * 100).map(|_| rng.random()).collect();
        let p = CoatesParams { patch: 3, n_centroids: 5, n_patches: 500, kmeans_iters: 3, ..Default::default() };
        let (f, pool) = CoatesFeaturizer::fit(&p, &imgs, 10, 10).unwrap();
        assert_eq!(pool.dim(), (30, 20));
        assert_eq!(f.width(), 20);
        for c in pool.columns() {
            let m = c.sum() / 30.0;
            let sd = (c.iter().map(|v| (v - m) * (v - m)).sum::<f32>() / 30.0).sqrt();
            assert!(m.abs() < 1e-4, "mean {m}");
            assert!(sd < 1e-3 || (sd - 1.0).abs() < 1e-3, "sd {sd}");
        }
        // The pool's features from fit are what transform gives for the same images.
        let again = f.transform(&imgs).unwrap();
        assert!(again.iter().zip(pool.iter()).all(|(a, b)| (a - b).abs() < 1e-5));
        // Saved and restored, it encodes bit for bit the same.
        let back: CoatesFeaturizer = postcard::from_bytes(&postcard::to_allocvec(&f).unwrap()).unwrap();
        assert_eq!(back, f);
        assert_eq!(back.transform(&imgs[..200]).unwrap(), f.transform(&imgs[..200]).unwrap());
        // Images of another size are E_SHAPE, not a silent misread.
        assert!(f.transform(&imgs[..150]).is_err());
    }

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
