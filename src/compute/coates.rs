//! Unsupervised convolutional image features learned from the pool itself, after Coates,
//! Lee & Ng, "An Analysis of Single-Layer Networks in Unsupervised Feature Learning"
//! (AISTATS 2011): no downloaded weights, only the unlabelled images.
//!
//! Fit: random w×w patches → per-patch brightness/contrast normalization
//! ((x − mean) / √(var + ε_norm)) → ZCA whitening (P = V (D + ε_zca)^−½ Vᵀ of the patch
//! covariance) → k-means centroids. Transform: every w×w patch of an image (stride 1) is
//! normalized and whitened, encoded with the "triangle" activation
//! f_k = max(0, mean_j(z_j) − z_k) where z_k is the distance to centroid k, and summed over
//! the four quadrants of the image: 4K features per image. The paper's ε values are for
//! pixels in 0..255 (ε_norm = 10, ε_zca = 0.1), which is how bytes are read here.
//!
//! The distances are computed as ‖x‖² − 2x·c + ‖c‖² so the bulk of the work is one matrix
//! product per image (positions × w² by w² × K), on the SIMD kernel.

use ndarray::{Array1, Array2, ArrayView2, Axis};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::cpu;
use super::matmul::matmul;
use crate::{Error, Result};

/// Hyperparameters, with the paper's values as defaults where they apply.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CoatesParams {
    /// Patch side in pixels (default 6, the paper's best for its budget).
    pub patch: usize,
    /// Number of centroids K (default 128; the paper's 1600 is too slow for a browser).
    pub n_centroids: usize,
    /// Random patches drawn for whitening and k-means (default 20 000).
    pub n_patches: usize,
    /// Lloyd iterations (default 10, as the paper's code).
    pub kmeans_iters: usize,
    /// Added to each patch's variance before dividing (default 10, pixels in 0..255).
    pub norm_eps: f32,
    /// Added to the covariance eigenvalues in ZCA (default 0.1).
    pub zca_eps: f64,
    pub seed: u64,
}

impl Default for CoatesParams {
    fn default() -> Self {
        CoatesParams { patch: 6, n_centroids: 128, n_patches: 20_000, kmeans_iters: 10, norm_eps: 10.0, zca_eps: 0.1, seed: 0 }
    }
}

/// A fitted extractor for images of one size. Serializable, so a session saves it and
/// images added after a restore are encoded the same way.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoatesFeatures {
    pub width: usize,
    pub height: usize,
    pub patch: usize,
    pub norm_eps: f32,
    /// Mean of the normalized patches (w²), subtracted before whitening.
    pub mean: Array1<f32>,
    /// ZCA matrix (w² × w²).
    pub whiten: Array2<f32>,
    /// K × w² centroids in whitened space.
    pub centroids: Array2<f32>,
}

fn check_images(images: &[u8], width: usize, height: usize, patch: usize) -> Result<usize> {
    if width < patch || height < patch || patch == 0 {
        return Err(Error::param("patch", format!("side {patch} must be 1..={} for {width}×{height} images", width.min(height))));
    }
    let px = width * height;
    if images.is_empty() {
        return Err(Error::Empty("image set".into()));
    }
    if images.len() % px != 0 {
        return Err(Error::Shape { what: format!("image bytes, a multiple of {width}×{height}"), expected: (images.len() / px + 1) * px, got: images.len() });
    }
    Ok(images.len() / px)
}

/// Copy the patch at (r, c) of `img` into `out` (w² values in 0..255) and normalize it.
fn normalized_patch(img: &[u8], width: usize, r: usize, c: usize, w: usize, eps: f32, out: &mut [f32]) {
    for i in 0..w {
        for j in 0..w {
            out[i * w + j] = img[(r + i) * width + c + j] as f32;
        }
    }
    let n = (w * w) as f32;
    let mean = out.iter().sum::<f32>() / n;
    let var = out.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / n;
    let inv = 1.0 / (var + eps).sqrt();
    for v in out.iter_mut() {
        *v = (*v - mean) * inv;
    }
}

impl CoatesParams {
    /// Learn mean, whitening and centroids from `images` (row-major bytes, n × width·height).
    pub fn fit(&self, images: &[u8], width: usize, height: usize) -> Result<CoatesFeatures> {
        let n = check_images(images, width, height, self.patch)?;
        if self.n_centroids == 0 || self.n_patches < self.n_centroids {
            return Err(Error::param("n_patches", format!("need at least n_centroids = {} patches, got {}", self.n_centroids, self.n_patches)));
        }
        let w = self.patch;
        let dim = w * w;
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let mut patches = Array2::<f32>::zeros((self.n_patches, dim));
        for mut row in patches.rows_mut() {
            let img = rng.random_range(0..n);
            let (r, c) = (rng.random_range(0..=height - w), rng.random_range(0..=width - w));
            let px = width * height;
            let buf = row.as_slice_mut().ok_or_else(|| Error::State("patch row not contiguous".into()))?;
            normalized_patch(&images[img * px..(img + 1) * px], width, r, c, w, self.norm_eps, buf);
        }
        // ZCA in f64: the covariance of normalized patches is near-singular (each patch sums
        // to zero), so the small eigenvalues need the precision.
        let mean = patches.mean_axis(Axis(0)).ok_or_else(|| Error::Empty("patches".into()))?;
        let centred = patches.mapv(|v| v as f64) - mean.mapv(|v| v as f64);
        let cov = centred.t().dot(&centred) / (self.n_patches as f64 - 1.0).max(1.0);
        let (evals, evecs) = symmetric_eigen(cov)?;
        let scale = evals.mapv(|e| 1.0 / (e.max(0.0) + self.zca_eps).sqrt());
        let whiten64 = (&evecs * &scale.insert_axis(Axis(0))).dot(&evecs.t());
        let whiten = whiten64.mapv(|v| v as f32);
        let white = matmul((centred.mapv(|v| v as f32)).view(), whiten.view(), None)?;
        let centroids = kmeans(white.view(), self.n_centroids, self.kmeans_iters, &mut rng)?;
        Ok(CoatesFeatures { width, height, patch: w, norm_eps: self.norm_eps, mean, whiten, centroids })
    }
}

/// Lloyd's k-means from K distinct random points; an empty cluster is re-seeded with a
/// random point so K centroids always come back.
pub fn kmeans(x: ArrayView2<f32>, k: usize, iters: usize, rng: &mut ChaCha8Rng) -> Result<Array2<f32>> {
    let (n, d) = x.dim();
    if k == 0 || n < k {
        return Err(Error::param("k", format!("need 1 ≤ k ≤ {n} points, got {k}")));
    }
    let picks = rand::seq::index::sample(rng, n, k);
    let mut c = Array2::zeros((k, d));
    for (i, p) in picks.iter().enumerate() {
        c.row_mut(i).assign(&x.row(p));
    }
    for _ in 0..iters {
        let assign = cpu::nearest(x, c.view())?;
        let mut sums = Array2::<f32>::zeros((k, d));
        let mut counts = vec![0usize; k];
        for (i, &a) in assign.index.iter().enumerate() {
            let mut s = sums.row_mut(a as usize);
            s += &x.row(i);
            counts[a as usize] += 1;
        }
        for j in 0..k {
            if counts[j] == 0 {
                let p = rng.random_range(0..n);
                c.row_mut(j).assign(&x.row(p));
            } else {
                let inv = 1.0 / counts[j] as f32;
                c.row_mut(j).assign(&sums.row(j).mapv(|v| v * inv));
            }
        }
    }
    Ok(c)
}

/// Eigen-decomposition of a symmetric matrix by cyclic Jacobi rotations: eigenvalues and
/// the eigenvectors as columns. Small matrices only (w² = 36 here); converges to machine
/// precision in a handful of sweeps.
pub fn symmetric_eigen(mut a: Array2<f64>) -> Result<(Array1<f64>, Array2<f64>)> {
    let n = a.nrows();
    if a.ncols() != n {
        return Err(Error::Shape { what: "symmetric_eigen: columns vs rows".into(), expected: n, got: a.ncols() });
    }
    let mut v = Array2::<f64>::eye(n);
    for _sweep in 0..100 {
        let off: f64 = (0..n).flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j))).map(|(i, j)| a[[i, j]] * a[[i, j]]).sum();
        let diag: f64 = (0..n).map(|i| a[[i, i]] * a[[i, i]]).sum();
        if off <= 1e-24 * diag.max(1e-300) {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                let apq = a[[p, q]];
                if apq.abs() < 1e-300 {
                    continue;
                }
                // Rotation angle that zeroes a[p][q] (Golub & Van Loan, §8.5).
                let theta = (a[[q, q]] - a[[p, p]]) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..n {
                    let (akp, akq) = (a[[k, p]], a[[k, q]]);
                    a[[k, p]] = c * akp - s * akq;
                    a[[k, q]] = s * akp + c * akq;
                }
                for k in 0..n {
                    let (apk, aqk) = (a[[p, k]], a[[q, k]]);
                    a[[p, k]] = c * apk - s * aqk;
                    a[[q, k]] = s * apk + c * aqk;
                }
                for k in 0..n {
                    let (vkp, vkq) = (v[[k, p]], v[[k, q]]);
                    v[[k, p]] = c * vkp - s * vkq;
                    v[[k, q]] = s * vkp + c * vkq;
                }
            }
        }
    }
    Ok((a.diag().to_owned(), v))
}

impl CoatesFeatures {
    /// Features per image: 4 quadrants × K centroids.
    pub fn n_features(&self) -> usize {
        4 * self.centroids.nrows()
    }

    /// Encode images (row-major bytes, n × width·height) to n × 4K features.
    pub fn transform(&self, images: &[u8]) -> Result<Array2<f32>> {
        let n = check_images(images, self.width, self.height, self.patch)?;
        let (w, k) = (self.patch, self.centroids.nrows());
        let (rows, cols) = (self.height - w + 1, self.width - w + 1);
        let positions = rows * cols;
        let dim = w * w;
        // Centroids transposed once for the product, and their squared norms.
        let ct = self.centroids.t().to_owned();
        let cc: Vec<f32> = self.centroids.rows().into_iter().map(|r| r.dot(&r)).collect();
        // Quadrant boundaries: the first half of the rows (rounded up) and of the columns.
        let (half_r, half_c) = (rows.div_ceil(2), cols.div_ceil(2));
        let px = self.width * self.height;
        let mut out = Array2::<f32>::zeros((n, 4 * k));
        let mut patches = Array2::<f32>::zeros((positions, dim));
        let mut z = vec![0f32; k];
        for img in 0..n {
            let bytes = &images[img * px..(img + 1) * px];
            for r in 0..rows {
                for c in 0..cols {
                    let mut row = patches.row_mut(r * cols + c);
                    let buf = row.as_slice_mut().ok_or_else(|| Error::State("patch row not contiguous".into()))?;
                    normalized_patch(bytes, self.width, r, c, w, self.norm_eps, buf);
                    for (v, m) in buf.iter_mut().zip(self.mean.iter()) {
                        *v -= m;
                    }
                }
            }
            let white = matmul(patches.view(), self.whiten.view(), None)?;
            let xc = matmul(white.view(), ct.view(), None)?;
            let mut feats = out.row_mut(img);
            for (pos, (xrow, wrow)) in xc.rows().into_iter().zip(white.rows()).enumerate() {
                let xx = wrow.dot(&wrow);
                let quadrant = 2 * usize::from(pos / cols >= half_r) + usize::from(pos % cols >= half_c);
                // z_k = ‖x − c_k‖, then the triangle activation against their mean. The
                // clamps are compare-selects, not `f32::max`: on wasm that is a call per
                // element (the same cost found in the scoring ReLU), here 2·K per position.
                for ((zv, &xcv), &ccv) in z.iter_mut().zip(xrow.iter()).zip(&cc) {
                    let d2 = xx - 2.0 * xcv + ccv;
                    *zv = if d2 > 0.0 { d2.sqrt() } else { 0.0 };
                }
                let mu = z.iter().sum::<f32>() / k as f32;
                let base = quadrant * k;
                for (f, &zj) in feats.slice_mut(ndarray::s![base..base + k]).iter_mut().zip(&z) {
                    let a = mu - zj;
                    *f += if a > 0.0 { a } else { 0.0 };
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn jacobi_matches_hand_computed_eigenpairs() {
        // [[2, 1], [1, 2]] has eigenvalues 1 and 3 with vectors (1, −1)/√2 and (1, 1)/√2.
        let (e, v) = symmetric_eigen(array![[2.0, 1.0], [1.0, 2.0]]).unwrap();
        let mut pairs: Vec<(f64, [f64; 2])> = (0..2).map(|i| (e[i], [v[[0, i]], v[[1, i]]])).collect();
        pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
        assert!((pairs[0].0 - 1.0).abs() < 1e-12 && (pairs[1].0 - 3.0).abs() < 1e-12);
        let h = std::f64::consts::FRAC_1_SQRT_2;
        assert!((pairs[0].1[0].abs() - h).abs() < 1e-12 && (pairs[0].1[0] + pairs[0].1[1]).abs() < 1e-12);
        assert!((pairs[1].1[0] - pairs[1].1[1]).abs() < 1e-12);
    }

    #[test]
    fn jacobi_reconstructs_a_random_symmetric_matrix() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let b = Array2::from_shape_fn((9, 9), |_| rng.random_range(-1.0..1.0f64));
        let a = b.t().dot(&b);
        let (e, v) = symmetric_eigen(a.clone()).unwrap();
        let back = (&v * &e.insert_axis(Axis(0))).dot(&v.t());
        for (x, y) in back.iter().zip(a.iter()) {
            assert!((x - y).abs() < 1e-10);
        }
    }

    #[test]
    fn whitening_gives_near_identity_covariance_for_large_eigenvalues() {
        // Patches of random images: after ZCA with a tiny ε the whitened covariance is the
        // identity on the non-degenerate directions; check its trace is about rank.
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let imgs: Vec<u8> = (0..50 * 64).map(|_| rng.random()).collect();
        let p = CoatesParams { patch: 3, n_centroids: 4, n_patches: 4000, kmeans_iters: 2, zca_eps: 1e-9, ..Default::default() };
        let f = p.fit(&imgs, 8, 8).unwrap();
        // 9-pixel normalized patches sum to zero: rank 8, so the trace of W C W is ≈ 8.
        assert_eq!(f.whiten.dim(), (9, 9));
        let mut patches = Array2::<f32>::zeros((4000, 9));
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        for mut row in patches.rows_mut() {
            let i = rng.random_range(0..50);
            normalized_patch(&imgs[i * 64..(i + 1) * 64], 8, rng.random_range(0..6), rng.random_range(0..6), 3, 10.0, row.as_slice_mut().unwrap());
        }
        let m = patches.mean_axis(Axis(0)).unwrap();
        let white = (patches - &m).dot(&f.whiten);
        let cov = white.t().dot(&white) / 3999.0;
        let trace: f32 = cov.diag().sum();
        assert!((trace - 8.0).abs() < 0.5, "trace {trace}");
    }

    #[test]
    fn transform_shape_quadrants_and_hand_checked_triangle() {
        // 2 centroids on a 1-pixel "patch" space would be degenerate (normalized 1×1 patches
        // are all zero), so use 2×2 patches on 4×4 images: 3×3 positions, quadrants split
        // rows/cols at 2 → quadrant sizes 4, 2, 2, 1 positions.
        let f = CoatesFeatures {
            width: 4,
            height: 4,
            patch: 2,
            norm_eps: 10.0,
            mean: Array1::zeros(4),
            whiten: Array2::eye(4),
            // Centroid 0 at the origin, centroid 1 far away: z0 = ‖x‖, z1 ≈ 100;
            // mu = (z0 + z1)/2, so f0 = mu − z0 = (z1 − z0)/2 and f1 = 0.
            centroids: array![[0.0f32, 0.0, 0.0, 0.0], [100.0, 0.0, 0.0, 0.0]],
        };
        let flat = vec![7u8; 16]; // every patch normalizes to 0 → z0 = 0, z1 = 100 → f0 = 50
        let out = f.transform(&flat).unwrap();
        assert_eq!(out.dim(), (1, 8));
        // Sums over the quadrants: 4, 2, 2 and 1 positions, each contributing 50 to f0.
        assert_eq!(out.row(0).to_vec(), vec![200.0, 0.0, 100.0, 0.0, 100.0, 0.0, 50.0, 0.0]);
        assert!(matches!(f.transform(&[0u8; 15]), Err(Error::Shape { .. })));
    }

    #[test]
    fn kmeans_finds_separated_clusters() {
        let x = array![[0.0f32, 0.0], [0.1, 0.0], [0.0, 0.1], [10.0, 10.0], [10.1, 10.0], [10.0, 10.1]];
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let c = kmeans(x.view(), 2, 5, &mut rng).unwrap();
        let mut rows: Vec<[f32; 2]> = c.rows().into_iter().map(|r| [r[0], r[1]]).collect();
        rows.sort_by(|a, b| a[0].total_cmp(&b[0]));
        assert!((rows[0][0] - 0.0333).abs() < 1e-3 && (rows[1][0] - 10.0333).abs() < 1e-3);
    }
}
