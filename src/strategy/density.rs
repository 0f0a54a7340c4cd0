//! Information density (Settles & Craven 2008, "An analysis of active learning strategies
//! for sequence labeling tasks", §3.4): weight a base uncertainty φ(x) by how
//! representative x is of the pool U, so outliers are not asked just for being uncertain:
//!
//!   ID(x) = φ(x) · ( (1/|U|) Σ_{u∈U} sim(x, u) )^β.
//!
//! Here φ is the margin uncertainty 1 − (p₁ − p₂) (non-negative, as the product needs),
//! U is the candidate set (x included, as in modAL), and β = 1 by default.

use ndarray::{s, Array1, ArrayView2, Axis};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::kernels::{row_sq_norms, sq_dists, BLOCK_ELEMS};

/// Mean cosine similarity of each row to all rows, mapped to [0, 1] as (1 + cos)/2 so the
/// power β is defined for standardised features where cos can be negative (the paper's
/// text features are non-negative, where cos is already in [0, 1]).
///
/// Because the mean of x̂·û over u equals x̂ · (mean of û), this is exact in O(m d) time and
/// memory, however large the pool. All-zero rows have cosine 0 with everything.
pub fn mean_cosine_similarity(x: ArrayView2<f32>) -> Vec<f32> {
    let m = x.nrows();
    if m == 0 {
        return Vec::new();
    }
    let norms = row_sq_norms(x).mapv(f32::sqrt);
    let mut centroid = Array1::<f64>::zeros(x.ncols());
    for (r, &n) in x.rows().into_iter().zip(&norms) {
        if n > 0.0 {
            for (c, &v) in centroid.iter_mut().zip(r) {
                *c += (v / n) as f64;
            }
        }
    }
    let centroid = centroid.mapv(|v| (v / m as f64) as f32);
    x.rows()
        .into_iter()
        .zip(&norms)
        .map(|(r, &n)| if n > 0.0 { (1.0 + r.dot(&centroid) / n).clamp(0.0, 2.0) / 2.0 } else { 0.5 })
        .collect()
}

/// Mean Euclidean similarity 1 / (1 + ‖x − u‖) of each row to the pool (modAL's
/// `information_density(X, "euclidean")`). Exact when the pool has at most `ref_rows`
/// rows; above that the mean is estimated over a seeded uniform sample of `ref_rows`
/// reference rows (an unbiased estimate of the same mean), which keeps a 100k pool at
/// O(m · ref_rows · d) time and bounded memory.
pub fn mean_euclidean_similarity(x: ArrayView2<f32>, ref_rows: usize, seed: u64) -> Vec<f32> {
    let m = x.nrows();
    if m == 0 {
        return Vec::new();
    }
    let refs = if m > ref_rows.max(1) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let rows = rand::seq::index::sample(&mut rng, m, ref_rows.max(1)).into_vec();
        x.select(Axis(0), &rows)
    } else {
        x.to_owned()
    };
    let rn = row_sq_norms(refs.view());
    let xn = row_sq_norms(x);
    let block = (BLOCK_ELEMS / refs.nrows()).max(1);
    let mut out = Vec::with_capacity(m);
    let mut start = 0;
    while start < m {
        let end = (start + block).min(m);
        let d = sq_dists(x.slice(s![start..end, ..]), xn.slice(s![start..end]), refs.view(), rn.view());
        for row in d.rows() {
            let sum: f64 = row.iter().map(|&v| 1.0 / (1.0 + (v as f64).sqrt())).sum();
            out.push((sum / refs.nrows() as f64) as f32);
        }
        start = end;
    }
    out
}

/// ID(x) = φ(x) · density(x)^β for precomputed uncertainty and density.
pub fn information_density(uncertainty: &[f32], density: &[f32], beta: f32) -> Vec<f32> {
    uncertainty.iter().zip(density).map(|(&u, &d)| u * d.max(0.0).powf(beta)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;
    use ndarray::array;

    #[test]
    fn cosine_density_is_the_pairwise_mean() {
        let x = array![[1.0f32, 0.0], [0.0, 2.0], [-3.0, 0.0], [0.0, 0.0]];
        // Pairwise cos: (0,1)=0, (0,2)=-1, (1,2)=0, row 3 is zero → cos 0 with all.
        // Row 0: mean over u of (1+cos)/2 = (1 + 0.5 + 0 + 0.5)/4 = 0.5.
        let d = mean_cosine_similarity(x.view());
        assert_abs_diff_eq!(d[0], 0.5, epsilon = 1e-6);
        // Row 1: (0.5 + 1 + 0.5 + 0.5)/4 = 0.625.
        assert_abs_diff_eq!(d[1], 0.625, epsilon = 1e-6);
        assert_abs_diff_eq!(d[3], 0.5, epsilon = 1e-6);
    }

    #[test]
    fn euclidean_density_exact_and_sampled() {
        // Distances: |0-3| = 3 → 1/(1+3) = 0.25; self → 1.
        let x = array![[0.0f32, 0.0], [3.0, 0.0]];
        let d = mean_euclidean_similarity(x.view(), 10, 0);
        assert_abs_diff_eq!(d[0], 0.625, epsilon = 1e-6);
        assert_abs_diff_eq!(d[1], 0.625, epsilon = 1e-6);
        // Sampled estimate close to the exact mean on a larger pool.
        let big = ndarray::Array2::from_shape_fn((3000, 2), |(i, j)| ((i * (j + 3)) % 17) as f32 * 0.2);
        let exact = mean_euclidean_similarity(big.view(), 10_000, 0);
        let approx = mean_euclidean_similarity(big.view(), 1000, 7);
        let worst = exact.iter().zip(&approx).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
        assert!(worst < 0.02, "sampling error {worst}");
        assert_eq!(information_density(&[0.5, 1.0], &[0.25, 0.5], 2.0), vec![0.03125, 0.25]);
    }
}
