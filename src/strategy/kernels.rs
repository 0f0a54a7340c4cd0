//! CPU kernels shared by the geometric strategies: squared norms, pairwise squared
//! distances, nearest-centre assignment and seeded k-means (k-means++ initialisation).
//!
//! Distances use ‖a − b‖² = ‖a‖² + ‖b‖² − 2 a·b so the heavy part is one matrix product
//! (ndarray's `dot`, which is blocked and vectorised). Pools run to 100k rows, so nothing
//! here ever holds an m × m matrix: work is done in blocks whose size is bounded by
//! [`BLOCK_ELEMS`].

use ndarray::{s, Array1, Array2, ArrayView1, ArrayView2, Axis};
use rand::Rng;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Largest distance block held at once (4M f32 = 16 MiB): small enough for wasm's memory,
/// large enough that each block is a real matrix product.
pub const BLOCK_ELEMS: usize = 1 << 22;

/// Squared Euclidean norm of each row.
pub fn row_sq_norms(x: ArrayView2<f32>) -> Array1<f32> {
    x.rows().into_iter().map(|r| r.dot(&r)).collect()
}

/// ‖a‖² + ‖b‖² − 2ab with the cancellation error removed: for (near-)identical rows the
/// three terms nearly cancel and the f32 rounding left over (of order ε(‖a‖² + ‖b‖²)) would
/// come out as a spurious distance (its square root is far larger still), so anything
/// within that rounding bound is exactly 0.
#[inline]
fn expand_sq(na: f32, nb: f32, ab: f32) -> f32 {
    let v = na + nb - 2.0 * ab;
    if v <= 8.0 * f32::EPSILON * (na + nb) {
        0.0
    } else {
        v
    }
}

/// Squared distances between every row of `a` (n × d) and every row of `b` (p × d), given
/// their squared row norms. Returns n × p; never negative (see `expand_sq`).
/// The caller bounds n × p (see [`nearest`] for the blocked form). Rows of different
/// widths (or norms of the wrong length) come out infinitely far apart rather than as a
/// panic: callers validate shapes, this only keeps a slip from aborting the wasm module.
pub fn sq_dists(a: ArrayView2<f32>, a_norms: ArrayView1<f32>, b: ArrayView2<f32>, b_norms: ArrayView1<f32>) -> Array2<f32> {
    if a.ncols() != b.ncols() || a_norms.len() != a.nrows() || b_norms.len() != b.nrows() {
        return Array2::from_elem((a.nrows(), b.nrows()), f32::INFINITY);
    }
    let mut g = a.dot(&b.t());
    for (i, mut row) in g.rows_mut().into_iter().enumerate() {
        let na = a_norms[i];
        for (j, v) in row.iter_mut().enumerate() {
            *v = expand_sq(na, b_norms[j], *v);
        }
    }
    g
}

/// Squared distance from every row of `x` to one point `c`, given `x`'s squared norms.
/// O(m d) and O(m) memory: used by the greedy selectors that add one centre at a time.
/// A point of the wrong width is infinitely far from everything.
pub fn sq_dists_to_point(x: ArrayView2<f32>, x_norms: ArrayView1<f32>, c: ArrayView1<f32>) -> Array1<f32> {
    if x.ncols() != c.len() || x_norms.len() != x.nrows() {
        return Array1::from_elem(x.nrows(), f32::INFINITY);
    }
    let nc = c.dot(&c);
    let mut out = x.dot(&c);
    for (v, &nx) in out.iter_mut().zip(x_norms) {
        *v = expand_sq(nx, nc, *v);
    }
    out
}

/// Rows per block so that a block of `rows × cols` distances stays under [`BLOCK_ELEMS`].
fn block_rows(cols: usize) -> usize {
    (BLOCK_ELEMS / cols.max(1)).max(1)
}

/// For each row of `x`, the index of the nearest row of `c` and the squared distance to it.
/// Blocked over both `x` and `c`, so memory stays bounded whatever their sizes. With no
/// centres (or centres of another width) every distance is +∞ and every index 0.
pub fn nearest(x: ArrayView2<f32>, c: ArrayView2<f32>) -> (Vec<usize>, Vec<f32>) {
    let m = x.nrows();
    let mut idx = vec![0usize; m];
    let mut best = vec![f32::INFINITY; m];
    if c.nrows() == 0 || m == 0 || c.ncols() != x.ncols() {
        return (idx, best);
    }
    let xn = row_sq_norms(x);
    let cn = row_sq_norms(c);
    // Centres are split too when there are very many of them (e.g. a large labelled set).
    let c_block = c.nrows().min(1 << 12);
    let x_block = block_rows(c_block);
    let mut c0 = 0;
    while c0 < c.nrows() {
        let c1 = (c0 + c_block).min(c.nrows());
        let cb = c.slice(s![c0..c1, ..]);
        let cnb = cn.slice(s![c0..c1]);
        let mut x0 = 0;
        while x0 < m {
            let x1 = (x0 + x_block).min(m);
            let d = sq_dists(x.slice(s![x0..x1, ..]), xn.slice(s![x0..x1]), cb, cnb);
            for (r, row) in d.rows().into_iter().enumerate() {
                for (j, &v) in row.iter().enumerate() {
                    if v < best[x0 + r] {
                        best[x0 + r] = v;
                        idx[x0 + r] = c0 + j;
                    }
                }
            }
            x0 = x1;
        }
        c0 = c1;
    }
    (idx, best)
}

/// Draw an index with probability proportional to `weights` (non-negative). When every
/// weight is zero (all points coincide with a centre) falls back to a uniform draw over
/// the indices not in `taken`, or over all of them.
pub fn weighted_draw(weights: &[f32], taken: &[bool], rng: &mut ChaCha8Rng) -> usize {
    let total: f64 = weights.iter().map(|&w| w.max(0.0) as f64).sum();
    if total > 0.0 && total.is_finite() {
        let mut u = rng.random::<f64>() * total;
        let mut last_positive = 0;
        for (i, &w) in weights.iter().enumerate() {
            let w = w.max(0.0) as f64;
            if w > 0.0 {
                last_positive = i;
                if u < w {
                    return i;
                }
                u -= w;
            }
        }
        // Floating-point leftovers land on the last positive weight.
        return last_positive;
    }
    let free: Vec<usize> = (0..weights.len()).filter(|&i| !taken.get(i).copied().unwrap_or(false)).collect();
    if free.is_empty() {
        rng.random_range(0..weights.len().max(1))
    } else {
        free[rng.random_range(0..free.len())]
    }
}

/// k-means++ seeding (Arthur & Vassilvitskii 2007, "k-means++: the advantages of careful
/// seeding"): the first centre uniformly at random, each next one with probability
/// proportional to D(x)², the squared distance to the nearest centre chosen so far.
/// Returns up to `k` distinct row indices (fewer only when `x` has fewer rows).
pub fn kmeans_pp_init(x: ArrayView2<f32>, k: usize, rng: &mut ChaCha8Rng) -> Vec<usize> {
    let m = x.nrows();
    let k = k.min(m);
    if k == 0 {
        return Vec::new();
    }
    let xn = row_sq_norms(x);
    let mut chosen = Vec::with_capacity(k);
    let mut taken = vec![false; m];
    let first = rng.random_range(0..m);
    chosen.push(first);
    taken[first] = true;
    let mut d2 = sq_dists_to_point(x, xn.view(), x.row(first)).to_vec();
    while chosen.len() < k {
        // Chosen points have D = 0, so they are only re-drawn by the all-zero fallback,
        // which excludes them.
        let next = weighted_draw(&d2, &taken, rng);
        if taken[next] {
            break;
        }
        chosen.push(next);
        taken[next] = true;
        let dn = sq_dists_to_point(x, xn.view(), x.row(next));
        for (a, &b) in d2.iter_mut().zip(dn.iter()) {
            *a = a.min(b);
        }
    }
    chosen
}

/// A k-means fit: centres, the centre of each row, and the within-cluster sum of squares.
#[derive(Debug, Clone, PartialEq)]
pub struct KMeans {
    pub centres: Array2<f32>,
    pub assignment: Vec<usize>,
    pub inertia: f64,
}

/// Lloyd's k-means (Lloyd 1982) from a k-means++ start, seeded. Stops when no assignment
/// changes or after `max_iter` rounds. A cluster that empties is re-seeded at the point
/// farthest from its centre, so exactly `min(k, rows)` clusters come back.
///
/// For large pools the centres are fitted on a seeded sample of at most `fit_rows` rows
/// (mini-batch style, as in Sculley 2010) and every row is then assigned to the nearest
/// centre; `fit_rows = usize::MAX` fits on everything.
pub fn kmeans(x: ArrayView2<f32>, k: usize, max_iter: usize, fit_rows: usize, seed: u64) -> KMeans {
    let m = x.nrows();
    let d = x.ncols();
    let k = k.min(m);
    if k == 0 {
        return KMeans { centres: Array2::zeros((0, d)), assignment: vec![0; m], inertia: 0.0 };
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let sample: Option<Array2<f32>> = if m > fit_rows.max(k) {
        let rows = rand::seq::index::sample(&mut rng, m, fit_rows.max(k)).into_vec();
        Some(x.select(Axis(0), &rows))
    } else {
        None
    };
    let fx: ArrayView2<f32> = match &sample {
        Some(s) => s.view(),
        None => x.view(),
    };
    let init = kmeans_pp_init(fx, k, &mut rng);
    let mut centres = fx.select(Axis(0), &init);
    let k = centres.nrows();
    let mut assign = vec![usize::MAX; fx.nrows()];
    let mut prev_inertia = f64::INFINITY;
    for _ in 0..max_iter.max(1) {
        let (idx, dist) = nearest(fx, centres.view());
        let changed = idx.iter().zip(&assign).any(|(a, b)| a != b);
        assign = idx;
        // Stop when nothing moves, or when a round improves the within-cluster sum of
        // squares by less than 1e-4 of itself: the last rounds of Lloyd's method shuffle a
        // few boundary points at a cost of a full pass each.
        let inertia: f64 = dist.iter().map(|&v| v as f64).sum();
        if !changed || prev_inertia - inertia <= 1e-4 * inertia {
            break;
        }
        prev_inertia = inertia;
        let mut sums = Array2::<f64>::zeros((k, d));
        let mut counts = vec![0usize; k];
        for (r, &c) in assign.iter().enumerate() {
            counts[c] += 1;
            let mut srow = sums.row_mut(c);
            for (s, &v) in srow.iter_mut().zip(fx.row(r)) {
                *s += v as f64;
            }
        }
        // Empty clusters take the worst-served points, one each, so k stays k.
        let mut far: Vec<usize> = (0..fx.nrows()).collect();
        far.sort_by(|&a, &b| dist[b].total_cmp(&dist[a]));
        let mut far_iter = far.into_iter();
        for (c, &count) in counts.iter().enumerate() {
            if count > 0 {
                let inv = 1.0 / count as f64;
                for (dst, &s) in centres.row_mut(c).iter_mut().zip(sums.row(c)) {
                    *dst = (s * inv) as f32;
                }
            } else if let Some(r) = far_iter.next() {
                centres.row_mut(c).assign(&fx.row(r));
            }
        }
    }
    let (assignment, dist) = nearest(x, centres.view());
    let inertia = dist.iter().map(|&v| v as f64).sum();
    KMeans { centres, assignment, inertia }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;
    use ndarray::array;

    fn naive_sq(a: ArrayView1<f32>, b: ArrayView1<f32>) -> f32 {
        a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
    }

    #[test]
    fn sq_dists_match_the_definition() {
        let a = array![[0.0f32, 0.0], [3.0, 4.0], [1.0, -1.0]];
        let b = array![[0.0f32, 0.0], [1.0, 1.0]];
        let d = sq_dists(a.view(), row_sq_norms(a.view()).view(), b.view(), row_sq_norms(b.view()).view());
        // Hand-computed: |(3,4)|² = 25, |(3,4)-(1,1)|² = 4+9 = 13, |(1,-1)-(1,1)|² = 4.
        assert_eq!(d, array![[0.0f32, 2.0], [25.0, 13.0], [2.0, 4.0]]);
        let p = sq_dists_to_point(a.view(), row_sq_norms(a.view()).view(), b.row(1));
        assert_eq!(p.to_vec(), vec![2.0f32, 13.0, 4.0]);
    }

    #[test]
    fn nearest_is_blocked_and_exact() {
        // More centres than one centre block, so both blocking loops run.
        let n = 5000;
        let c = Array2::from_shape_fn((n, 3), |(i, j)| ((i * 7 + j * 13) % 101) as f32 * 0.1);
        let x = Array2::from_shape_fn((7, 3), |(i, j)| ((i * 31 + j * 5) % 97) as f32 * 0.1 + 0.05);
        let (idx, dist) = nearest(x.view(), c.view());
        for i in 0..x.nrows() {
            let (bi, bd) = (0..n)
                .map(|j| (j, naive_sq(x.row(i), c.row(j))))
                .fold((0, f32::INFINITY), |acc, (j, d)| if d < acc.1 { (j, d) } else { acc });
            assert_abs_diff_eq!(dist[i], bd, epsilon = 1e-3);
            assert_abs_diff_eq!(naive_sq(x.row(i), c.row(idx[i])), bd, epsilon = 1e-3);
            let _ = bi;
        }
        let (_, none) = nearest(x.view(), Array2::<f32>::zeros((0, 3)).view());
        assert!(none.iter().all(|d| d.is_infinite()));
    }

    #[test]
    fn kmeans_finds_three_separated_blobs_and_is_seeded() {
        let mut rows = Vec::new();
        for c in 0..3 {
            for i in 0..20 {
                let t = i as f32 * 0.7;
                rows.extend([c as f32 * 10.0 + t.sin() * 0.3, (c as f32) * -5.0 + t.cos() * 0.3]);
            }
        }
        let x = Array2::from_shape_vec((60, 2), rows).unwrap();
        for seed in 0..5 {
            let km = kmeans(x.view(), 3, 100, usize::MAX, seed);
            // Each blob is one cluster.
            for c in 0..3 {
                let a = km.assignment[c * 20];
                assert!(km.assignment[c * 20..(c + 1) * 20].iter().all(|&v| v == a), "seed {seed}");
            }
            let distinct: std::collections::HashSet<_> = km.assignment.iter().collect();
            assert_eq!(distinct.len(), 3);
            assert!(km.inertia < 60.0 * 0.3 * 0.3 * 2.0);
            assert_eq!(km, kmeans(x.view(), 3, 100, usize::MAX, seed), "same seed, same fit");
        }
        // Sub-sampled fit still finds the blobs.
        let km = kmeans(x.view(), 3, 100, 30, 1);
        assert_eq!(km.assignment.iter().collect::<std::collections::HashSet<_>>().len(), 3);
        // More clusters than rows: one per row; none: nothing.
        assert_eq!(kmeans(x.slice(s![..2, ..]), 5, 10, usize::MAX, 0).centres.nrows(), 2);
        assert_eq!(kmeans(x.slice(s![..0, ..]), 5, 10, usize::MAX, 0).assignment.len(), 0);
    }

    #[test]
    fn kmeans_pp_spreads_and_handles_duplicates() {
        // Two far-apart groups: the second centre almost surely lands in the other group.
        let x = array![[0.0f32], [0.1], [0.2], [100.0], [100.1]];
        let mut hits = 0;
        for seed in 0..50 {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let c = kmeans_pp_init(x.view(), 2, &mut rng);
            assert_eq!(c.len(), 2);
            if (c[0] < 3) != (c[1] < 3) {
                hits += 1;
            }
        }
        assert!(hits >= 48, "{hits}/50");
        // All points identical: still k distinct indices.
        let same = Array2::<f32>::ones((4, 2));
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let mut c = kmeans_pp_init(same.view(), 3, &mut rng);
        c.sort();
        c.dedup();
        assert_eq!(c.len(), 3);
    }
}
