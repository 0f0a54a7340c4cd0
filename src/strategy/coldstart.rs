//! Cold start: choosing what to label when the model knows little or nothing.

use ndarray::{ArrayView2, Axis};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::kernels::{kmeans, nearest, row_sq_norms, sq_dists};

/// Parameters of [`typiclust`], with the defaults used by the registry.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TypiclustParams {
    /// Upper bound on the number of k-means clusters (default 500): the paper's K = |L| + B
    /// grows with the labelled set and k-means costs O(m K d) per iteration.
    pub max_clusters: usize,
    /// Nearest neighbours for typicality (default 20, as in the paper), further capped at
    /// half the cluster size so small clusters are not dominated by far points.
    pub knn: usize,
    /// Typicality inside a cluster larger than this (default 500) is computed on a seeded
    /// sample of that many members, keeping the k-NN step O(cap² d) per visited cluster
    /// (at 2000 and d = 784 that step alone was ~3 GFLOP per pick).
    pub cluster_cap: usize,
    /// k-means centres are fitted on at most this many rows (default 5000), then every
    /// row is assigned.
    pub fit_rows: usize,
    /// Lloyd iterations (default 50).
    pub max_iter: usize,
}

impl Default for TypiclustParams {
    fn default() -> Self {
        TypiclustParams { max_clusters: 500, knn: 20, cluster_cap: 500, fit_rows: 5000, max_iter: 50 }
    }
}

/// A TypiClust pick: candidate row, typicality, its cluster, the cluster's size in the
/// candidate set, and how many labelled samples that cluster had before this batch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TypicalPick {
    pub index: usize,
    pub typicality: f32,
    pub cluster: usize,
    pub cluster_size: usize,
    pub cluster_labelled: usize,
}

/// Typicality of each row of `x` (Hacohen, Dekel & Weinshall 2022, "Active learning on a
/// budget: opposite strategies suit high and low budgets", eq. 3):
///
///   Typicality(x) = ( (1/K) Σ_{x_i ∈ K-NN(x)} ‖x − x_i‖ )⁻¹,
///
/// the inverse mean distance to its K nearest neighbours within `x`, K = min(knn, n − 1).
/// High typicality = in a dense region. A single row (no neighbours) gets 0.
pub fn typicality(x: ArrayView2<f32>, knn: usize) -> Vec<f32> {
    let n = x.nrows();
    let k = knn.min(n.saturating_sub(1));
    if k == 0 {
        return vec![0.0; n];
    }
    let xn = row_sq_norms(x);
    let block = (super::kernels::BLOCK_ELEMS / n).max(1);
    let mut out = Vec::with_capacity(n);
    let mut start = 0;
    while start < n {
        let end = (start + block).min(n);
        let d = sq_dists(x.slice(ndarray::s![start..end, ..]), xn.slice(ndarray::s![start..end]), x, xn.view());
        for (r, row) in d.rows().into_iter().enumerate() {
            let mut v: Vec<f32> = row.iter().enumerate().filter(|&(j, _)| j != start + r).map(|(_, &v)| v).collect();
            v.select_nth_unstable_by(k - 1, f32::total_cmp);
            let mean = v[..k].iter().map(|&s| s.sqrt()).sum::<f32>() / k as f32;
            // Duplicates give mean 0: infinitely typical, capped to stay a finite score.
            out.push(if mean > 0.0 { 1.0 / mean } else { 1e6 });
        }
        start = end;
    }
    out
}

/// TypiClust (Hacohen, Dekel & Weinshall 2022, Algorithm 1): cluster the pool with k-means
/// into K = |L| + B clusters, then for each of the B picks take the largest cluster that no
/// labelled sample covers yet and ask for its most typical point. It needs no model and no
/// labels, which is why it suits the first rounds, where uncertainty is unreliable.
///
/// When every cluster is covered (more picks than uncovered clusters), the cluster with the
/// fewest labels (then the largest) is used again, as the paper does for K < |L| + B.
/// Labelled samples are assigned to the nearest centre of a k-means fitted on the
/// candidates (one fit instead of fitting on candidates ∪ labelled, which would copy the
/// pool). K is capped by `params.max_clusters` and the number of candidates.
pub fn typiclust(x: ArrayView2<f32>, labelled: ArrayView2<f32>, batch: usize, params: &TypiclustParams, seed: u64) -> Vec<TypicalPick> {
    let m = x.nrows();
    let batch = batch.min(m);
    if batch == 0 {
        return Vec::new();
    }
    let k = (labelled.nrows() + batch).min(params.max_clusters.max(batch)).min(m);
    let km = kmeans(x, k, params.max_iter, params.fit_rows, seed);
    let k = km.centres.nrows();
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); k];
    for (i, &c) in km.assignment.iter().enumerate() {
        members[c].push(i);
    }
    let sizes: Vec<usize> = members.iter().map(Vec::len).collect();
    let mut covered = vec![0usize; k];
    if labelled.nrows() > 0 && labelled.ncols() == x.ncols() {
        for c in nearest(labelled, km.centres.view()).0 {
            covered[c] += 1;
        }
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x7E1C);
    let mut ties: Vec<usize> = (0..k).collect();
    ties.shuffle(&mut rng);
    let mut tie_rank = vec![0; k];
    for (r, &c) in ties.iter().enumerate() {
        tie_rank[c] = r;
    }
    // Members of each cluster ordered by typicality, computed only for clusters we visit.
    let mut ranked: Vec<Option<Vec<(usize, f32)>>> = vec![None; k];
    let mut used = vec![0usize; k];
    let mut picks = Vec::with_capacity(batch);
    while picks.len() < batch {
        let Some(c) = (0..k)
            .filter(|&c| used[c] < sizes[c])
            .min_by_key(|&c| (covered[c], std::cmp::Reverse(sizes[c]), tie_rank[c]))
        else {
            break;
        };
        let list = ranked[c].get_or_insert_with(|| {
            let mut mem = members[c].clone();
            if mem.len() > params.cluster_cap.max(1) {
                mem.shuffle(&mut rng);
                mem.truncate(params.cluster_cap.max(1));
            }
            let sub = x.select(Axis(0), &mem);
            let knn = params.knn.min(mem.len() / 2).max(1);
            let t = typicality(sub.view(), knn);
            let mut v: Vec<(usize, f32)> = mem.into_iter().zip(t).collect();
            v.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            v
        });
        let Some(&(i, t)) = list.get(used[c]) else {
            // A sampled big cluster ran out of ranked members: stop visiting it.
            used[c] = sizes[c];
            continue;
        };
        picks.push(TypicalPick { index: i, typicality: t, cluster: c, cluster_size: sizes[c], cluster_labelled: covered[c] });
        used[c] += 1;
        covered[c] += 1;
    }
    picks
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;
    use ndarray::{array, Array2};

    #[test]
    fn typicality_hand_computed() {
        // 1-D points 0, 1, 3 with K = 1: nearest distances 1, 1, 2 → typicality 1, 1, 0.5.
        let x = array![[0.0f32], [1.0], [3.0]];
        assert_eq!(typicality(x.view(), 1), vec![1.0, 1.0, 0.5]);
        // K = 2: means (1+3)/2 = 2, (1+2)/2 = 1.5, (3+2)/2 = 2.5.
        let t = typicality(x.view(), 2);
        assert_abs_diff_eq!(t[0], 0.5);
        assert_abs_diff_eq!(t[1], 1.0 / 1.5, epsilon = 1e-6);
        assert_abs_diff_eq!(t[2], 0.4);
        assert_eq!(typicality(x.slice(ndarray::s![..1, ..]), 5), vec![0.0]);
    }

    /// Three blobs of sizes 30, 20, 10 on a line, each denser at its centre.
    fn blobs() -> Array2<f32> {
        let mut v = Vec::new();
        for (c, n) in [(0.0f32, 30), (20.0, 20), (40.0, 10)] {
            for i in 0..n {
                let t = (i as f32 / n as f32 - 0.5) * 2.0; // -1..1
                v.extend([c + t * t.abs() * 2.0, 0.0]);
            }
        }
        Array2::from_shape_vec((60, 2), v).unwrap()
    }

    #[test]
    fn picks_typical_points_of_the_largest_uncovered_clusters() {
        let x = blobs();
        let none = Array2::<f32>::zeros((0, 2));
        for seed in 0..5 {
            let p = typiclust(x.view(), none.view(), 3, &TypiclustParams::default(), seed);
            assert_eq!(p.len(), 3);
            // Largest cluster first, one pick per blob, each near its blob centre.
            assert_eq!(p.iter().map(|p| p.cluster_size).collect::<Vec<_>>(), vec![30, 20, 10], "seed {seed}");
            for (pk, centre) in p.iter().zip([0.0f32, 20.0, 40.0]) {
                assert!((x[[pk.index, 0]] - centre).abs() < 0.5, "seed {seed}: {pk:?}");
            }
        }
        // With the big blob labelled, K = 1 + 2 = 3 and the two uncovered blobs come first.
        let lab = array![[0.1f32, 0.0]];
        let p = typiclust(x.view(), lab.view(), 2, &TypiclustParams::default(), 0);
        let sizes: Vec<usize> = p.iter().map(|p| p.cluster_size).collect();
        assert_eq!(sizes, vec![20, 10]);
        assert!(p.iter().all(|p| p.cluster_labelled == 0));
        // More picks than candidates: all of them, no repeats.
        let p = typiclust(x.slice(ndarray::s![..4, ..]), none.view(), 10, &TypiclustParams::default(), 0);
        let mut idx: Vec<usize> = p.iter().map(|p| p.index).collect();
        idx.sort();
        assert_eq!(idx, vec![0, 1, 2, 3]);
    }
}
