//! Batch-aware selection: strategies that choose a whole batch at once so its members are
//! not near-copies of each other (asking about ten nearly identical samples wastes nine
//! labels). Each returns the picks in the order chosen, with the quantity that decided
//! each pick.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::kernels::{nearest, row_sq_norms, sq_dists, sq_dists_to_point, weighted_draw};
use super::select::top_k;

/// A seeded random rank per row, used to break exact ties in greedy arg-max loops the same
/// way for the same seed.
pub(crate) fn tie_ranks(m: usize, seed: u64) -> Vec<u32> {
    let mut order: Vec<u32> = (0..m as u32).collect();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed ^ 0x5EED_71E5));
    order
}

/// Arg-max of `score` over rows not `taken`; exact ties go to the lower tie rank.
pub(crate) fn argmax_free(score: &[f32], taken: &[bool], ties: &[u32]) -> Option<usize> {
    let mut best: Option<usize> = None;
    for i in 0..score.len() {
        if taken[i] || score[i].is_nan() {
            continue;
        }
        best = match best {
            None => Some(i),
            Some(b) if score[i] > score[b] || (score[i] == score[b] && ties[i] < ties[b]) => Some(i),
            keep => keep,
        };
    }
    best.or_else(|| (0..score.len()).find(|&i| !taken[i]))
}

/// k-center greedy (Sener & Savarese 2018, "Active learning for convolutional neural
/// networks: a core-set approach", Algorithm 1): starting from the labelled points as
/// centres, repeatedly add the candidate farthest from every centre,
///
///   u = argmax_{i ∈ U} min_{j ∈ centres} ‖x_i − x_j‖,
///
/// which greedily minimises the covering radius (a 2-approximation of the k-center
/// problem). Returns (candidate row, its distance to the nearest centre when picked).
/// With nothing labelled the first pick is a seeded random candidate (distance +∞).
/// O(b · m · d) time, O(m) memory.
pub fn kcenter_greedy(x: ArrayView2<f32>, centres: ArrayView2<f32>, batch: usize, seed: u64) -> Vec<(usize, f32)> {
    let m = x.nrows();
    let batch = batch.min(m);
    if batch == 0 || (centres.nrows() > 0 && centres.ncols() != x.ncols()) {
        return Vec::new();
    }
    let xn = row_sq_norms(x);
    let (_, mut d2) = nearest(x, centres);
    let ties = tie_ranks(m, seed);
    let mut taken = vec![false; m];
    let mut picks = Vec::with_capacity(batch);
    while picks.len() < batch {
        let Some(i) = argmax_free(&d2, &taken, &ties) else { break };
        taken[i] = true;
        picks.push((i, d2[i].sqrt()));
        let di = sq_dists_to_point(x, xn.view(), x.row(i));
        for (a, &b) in d2.iter_mut().zip(di.iter()) {
            *a = a.min(b);
        }
    }
    picks
}

/// Ranked batch-mode sampling (Cardoso, Silva, Peres, de Carvalho & Gama 2017, "Ranked
/// batch-mode active learning", Information Sciences 379), as modAL's
/// `uncertainty_batch_sampling`: with u(x) = 1 − max_c p_c the uncertainty, L the labelled
/// set plus the picks so far and U the candidates not yet picked,
///
///   score(x) = α (1 − sim(x, L)) + (1 − α) u(x),   α = |U| / (|U| + |L|),
///   sim(x, L) = 1 / (1 + min_{l ∈ L} ‖x − l‖),
///
/// and the best candidate is appended to L before the next pick, so early picks favour
/// novelty when little is labelled. With nothing labelled the first pick is the candidate
/// nearest the pool mean (modAL uses the least mean pairwise distance, O(m²); the mean is
/// the O(m d) stand-in). Returns (row, score, distance to L when picked).
/// Returns nothing when `uncertainty` or `labelled` do not match `x` in size.
pub fn ranked_batch(x: ArrayView2<f32>, labelled: ArrayView2<f32>, uncertainty: &[f32], batch: usize, seed: u64) -> Vec<(usize, f32, f32)> {
    let m = x.nrows();
    let batch = batch.min(m);
    if batch == 0 || uncertainty.len() != m || (labelled.nrows() > 0 && labelled.ncols() != x.ncols()) {
        return Vec::new();
    }
    let xn = row_sq_norms(x);
    let ties = tie_ranks(m, seed);
    let mut taken = vec![false; m];
    let mut picks = Vec::with_capacity(batch);
    let mut d2 = if labelled.nrows() > 0 {
        nearest(x, labelled).1
    } else {
        let mean = x.mean_axis(Axis(0)).unwrap_or_else(|| Array1::zeros(x.ncols()));
        let to_mean: Vec<f32> = sq_dists_to_point(x, xn.view(), mean.view()).iter().map(|&v| -v).collect();
        let Some(first) = argmax_free(&to_mean, &taken, &ties) else { return picks };
        taken[first] = true;
        picks.push((first, uncertainty[first], 0.0));
        sq_dists_to_point(x, xn.view(), x.row(first)).to_vec()
    };
    let mut n_labelled = labelled.nrows() + picks.len();
    while picks.len() < batch {
        let n_free = m - picks.len();
        let alpha = n_free as f32 / (n_free + n_labelled) as f32;
        let score: Vec<f32> = d2
            .iter()
            .zip(uncertainty)
            .map(|(&d, &u)| alpha * (1.0 - 1.0 / (1.0 + d.sqrt())) + (1.0 - alpha) * u)
            .collect();
        let Some(i) = argmax_free(&score, &taken, &ties) else { break };
        taken[i] = true;
        picks.push((i, score[i], d2[i].sqrt()));
        n_labelled += 1;
        let di = sq_dists_to_point(x, xn.view(), x.row(i));
        for (a, &b) in d2.iter_mut().zip(di.iter()) {
            *a = a.min(b);
        }
    }
    picks
}

/// One merge of agglomerative clustering: representatives of the two clusters and the
/// linkage distance at which they merged.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Merge {
    pub a: usize,
    pub b: usize,
    pub height: f32,
}

/// Agglomerative clustering with average linkage (UPGMA; Sokal & Michener 1958):
/// d(A, B) = mean of ‖a − b‖ over a ∈ A, b ∈ B. Uses the nearest-neighbour-chain algorithm
/// (Murtagh 1983), exact for average linkage because it is reducible, and the
/// Lance–Williams update d(A∪B, C) = (|A| d(A,C) + |B| d(B,C)) / (|A| + |B|).
/// O(n²) time and memory: call it on hundreds to a few thousand rows, not a whole pool.
/// Returns the n − 1 merges, in the order found (not sorted by height).
pub fn average_linkage(x: ArrayView2<f32>) -> Vec<Merge> {
    let n = x.nrows();
    if n < 2 {
        return Vec::new();
    }
    let xn = row_sq_norms(x);
    let mut d: Array2<f32> = sq_dists(x, xn.view(), x, xn.view()).mapv(f32::sqrt);
    let mut size = vec![1usize; n];
    let mut active = vec![true; n];
    let mut chain: Vec<usize> = Vec::with_capacity(n);
    let mut merges = Vec::with_capacity(n - 1);
    let mut n_active = n;
    while n_active > 1 {
        if chain.is_empty() {
            chain.push(active.iter().position(|&a| a).unwrap_or(0));
        }
        let a = chain[chain.len() - 1];
        let prev = if chain.len() >= 2 { Some(chain[chain.len() - 2]) } else { None };
        // Nearest active cluster to a; the previous chain element wins ties, which is what
        // guarantees the chain ends in a reciprocal pair.
        let mut b = usize::MAX;
        let mut best = f32::INFINITY;
        if let Some(p) = prev {
            b = p;
            best = d[[a, p]];
        }
        for j in 0..n {
            if active[j] && j != a && d[[a, j]] < best {
                best = d[[a, j]];
                b = j;
            }
        }
        if b == usize::MAX {
            break;
        }
        if Some(b) == prev {
            chain.truncate(chain.len() - 2);
            let (sa, sb) = (size[a] as f32, size[b] as f32);
            merges.push(Merge { a, b, height: best });
            for j in 0..n {
                if active[j] && j != a && j != b {
                    let v = (sa * d[[a, j]] + sb * d[[b, j]]) / (sa + sb);
                    d[[a, j]] = v;
                    d[[j, a]] = v;
                }
            }
            size[a] += size[b];
            active[b] = false;
            n_active -= 1;
        } else {
            chain.push(b);
        }
    }
    merges
}

fn find(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    i
}

/// Cut a dendrogram into `k` clusters: apply the n − k lowest merges. Average linkage has
/// no inversions (heights grow along every path), so this is the usual horizontal cut.
/// Returns a cluster id in 0..k per row, numbered by first appearance.
pub fn cut_tree(n: usize, merges: &[Merge], k: usize) -> Vec<usize> {
    let mut sorted = merges.to_vec();
    sorted.sort_by(|p, q| p.height.total_cmp(&q.height));
    let mut parent: Vec<usize> = (0..n).collect();
    for mg in sorted.iter().take(n.saturating_sub(k.max(1))) {
        let (ra, rb) = (find(&mut parent, mg.a), find(&mut parent, mg.b));
        if ra != rb {
            parent[rb] = ra;
        }
    }
    let mut ids = vec![usize::MAX; n];
    let mut next = 0;
    (0..n)
        .map(|i| {
            let r = find(&mut parent, i);
            if ids[r] == usize::MAX {
                ids[r] = next;
                next += 1;
            }
            ids[r]
        })
        .collect()
}

/// A cluster-margin pick: candidate row, its margin score, its cluster and that cluster's
/// size among the low-margin candidates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClusterPick {
    pub index: usize,
    pub score: f32,
    pub cluster: usize,
    pub cluster_size: usize,
}

/// Cluster-margin (Citovsky, DeSalvo, Gentile, Karydas, Rajagopalan, Rostamizadeh & Kumar
/// 2021, "Batch active learning at scale", Algorithm 1): take the k_m candidates with the
/// smallest margin, group them by average-linkage agglomerative clustering, sort the
/// clusters by size (smallest first) and fill the batch round-robin, one random member of
/// each cluster per pass.
///
/// `margin_scores` are [`super::uncertainty::margin`] scores (higher = smaller margin).
/// Differences from the paper, both for a stateless call on pools up to 100k: the paper
/// clusters the whole pool once and reuses it across rounds; here only the k_m candidates
/// are clustered, which is the only part the round-robin ever visits (O(k_m²), not O(m²)).
/// The paper cuts the dendrogram at a distance ε; here it is cut into `batch` clusters,
/// which needs no scale-dependent threshold and gives one pick per cluster.
/// k_m = `km_factor` × batch, capped at 2000 rows (but never below the batch).
/// Returns nothing when `margin_scores` does not have one score per row of `x`.
pub fn cluster_margin(x: ArrayView2<f32>, margin_scores: &[f32], batch: usize, km_factor: usize, seed: u64) -> Vec<ClusterPick> {
    let m = x.nrows();
    let batch = batch.min(m);
    if batch == 0 || margin_scores.len() != m {
        return Vec::new();
    }
    let km = batch.saturating_mul(km_factor.max(1)).min(2000).max(batch).min(m);
    let low = top_k(margin_scores, km, seed);
    if km == batch {
        return low.into_iter().map(|i| ClusterPick { index: i, score: margin_scores[i], cluster: 0, cluster_size: 1 }).collect();
    }
    let sub = x.select(Axis(0), &low);
    let labels = cut_tree(km, &average_linkage(sub.view()), batch);
    let n_clusters = labels.iter().max().map_or(0, |&c| c + 1);
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); n_clusters];
    for (pos, &c) in labels.iter().enumerate() {
        members[c].push(pos);
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0xC1u64);
    for mem in members.iter_mut() {
        mem.shuffle(&mut rng);
    }
    let sizes: Vec<usize> = members.iter().map(Vec::len).collect();
    let mut order: Vec<usize> = (0..n_clusters).collect();
    order.shuffle(&mut rng);
    order.sort_by_key(|&c| sizes[c]);
    let mut picks = Vec::with_capacity(batch);
    'fill: loop {
        let mut progressed = false;
        for &c in &order {
            if let Some(pos) = members[c].pop() {
                let i = low[pos];
                picks.push(ClusterPick { index: i, score: margin_scores[i], cluster: c, cluster_size: sizes[c] });
                progressed = true;
                if picks.len() == batch {
                    break 'fill;
                }
            }
        }
        if !progressed {
            break;
        }
    }
    picks
}

/// BADGE (Ash, Zhang, Krishnamurthy, Langford & Agarwal 2020, "Deep batch active learning
/// by diverse, uncertain gradient lower bounds"): embed each candidate as the gradient of
/// the loss at the model's own guess ŷ = argmax p,
///
///   g(x) = (p − e_ŷ) ⊗ h(x),
///
/// (h = the last hidden layer; here `h`, e.g. [x, 1] for softmax regression), then choose
/// the batch by k-means++ seeding on the g's: the first pick has the largest ‖g‖, each next
/// is drawn with probability ∝ D², its squared distance to the nearest pick. Large ‖g‖
/// means uncertain, far apart means diverse.
///
/// g is never formed: ⟨a ⊗ h, a' ⊗ h'⟩ = (a·a')(h·h'), so each new centre costs
/// O(m (k + d)) and memory stays O(m). `append_one` treats h as [h, 1] without copying.
/// Returns (row, ‖g‖ for the first pick, D for the others).
/// Returns nothing when `p` does not have one row per row of `h`.
pub fn badge(h: ArrayView2<f32>, append_one: bool, p: ArrayView2<f32>, batch: usize, seed: u64) -> Vec<(usize, f32)> {
    let m = h.nrows();
    let batch = batch.min(m);
    if batch == 0 || p.nrows() != m {
        return Vec::new();
    }
    let mut a = p.to_owned();
    for mut row in a.rows_mut() {
        let mut top = 0;
        for j in 0..row.len() {
            if row[j] > row[top] {
                top = j;
            }
        }
        if !row.is_empty() {
            row[top] -= 1.0;
        }
    }
    let one = if append_one { 1.0 } else { 0.0 };
    let an = row_sq_norms(a.view());
    let hn = row_sq_norms(h).mapv(|v| v + one);
    let gn: Vec<f32> = an.iter().zip(hn.iter()).map(|(x, y)| x * y).collect();
    let ties = tie_ranks(m, seed);
    let mut taken = vec![false; m];
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut picks = Vec::with_capacity(batch);
    let Some(first) = argmax_free(&gn, &taken, &ties) else { return picks };
    let dist_to = |c: usize| -> Array1<f32> {
        let aa = a.dot(&a.row(c));
        let hh = h.dot(&h.row(c)).mapv(|v| v + one);
        let gc = gn[c];
        let mut out = Array1::zeros(m);
        for i in 0..m {
            out[i] = (gn[i] + gc - 2.0 * aa[i] * hh[i]).max(0.0);
        }
        out
    };
    taken[first] = true;
    picks.push((first, gn[first].sqrt()));
    let mut d2 = dist_to(first);
    while picks.len() < batch {
        for (v, &t) in d2.iter_mut().zip(&taken) {
            if t {
                *v = 0.0;
            }
        }
        let i = weighted_draw(d2.as_slice().unwrap_or(&[]), &taken, &mut rng);
        if taken[i] {
            break;
        }
        taken[i] = true;
        picks.push((i, d2[i].sqrt()));
        let di = dist_to(i);
        d2.zip_mut_with(&di, |x, &y| *x = x.min(y));
    }
    picks
}

/// Squared norm of (p − e_ŷ) ⊗ [x, 1] for one row, for reason strings and tests.
pub fn gradient_embedding_norm(x: ArrayView1<f32>, p: ArrayView1<f32>) -> f32 {
    let mut top = 0;
    for j in 0..p.len() {
        if p[j] > p[top] {
            top = j;
        }
    }
    let a2: f32 = p.iter().enumerate().map(|(j, &v)| if j == top { (v - 1.0).powi(2) } else { v * v }).sum();
    (a2 * (x.dot(&x) + 1.0)).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;
    use ndarray::array;

    #[test]
    fn kcenter_picks_the_farthest_points_in_turn() {
        // Labelled at 0; candidates on a line. Farthest from {0} is 10 (d=10); then the
        // farthest from {0, 10} is 5 (d=5); then 2 or 8... 2.5 away at most: 3 (d=2) vs 7 (d=2) tie.
        let x = array![[1.0f32], [3.0], [5.0], [7.0], [10.0]];
        let l = array![[0.0f32]];
        let p = kcenter_greedy(x.view(), l.view(), 3, 0);
        assert_eq!(p[0], (4, 10.0));
        assert_eq!(p[1], (2, 5.0));
        assert!(p[2].0 == 1 || p[2].0 == 3);
        assert_abs_diff_eq!(p[2].1, 2.0);
        let seen: std::collections::HashSet<usize> = (0..16).map(|s| kcenter_greedy(x.view(), l.view(), 3, s)[2].0).collect();
        assert_eq!(seen.len(), 2, "ties broken by seed");
        // Nothing labelled: first pick random (distance ∞), then the farthest from it.
        let p = kcenter_greedy(x.view(), Array2::<f32>::zeros((0, 1)).view(), 2, 3);
        assert!(p[0].1.is_infinite());
        assert_eq!(kcenter_greedy(x.view(), l.view(), 99, 0).len(), 5);
    }

    #[test]
    fn average_linkage_hand_example() {
        // 1-D points 0, 1, 10, 11, 30. Merges: {0,1} at 1, {10,11} at 1, then
        // d({0,1},{10,11}) = (10+11+9+10)/4 = 10, then d({0,1,10,11},{30}) = (30+29+20+19)/4 = 24.5.
        let x = array![[0.0f32], [1.0], [10.0], [11.0], [30.0]];
        let mut h: Vec<f32> = average_linkage(x.view()).iter().map(|m| m.height).collect();
        h.sort_by(f32::total_cmp);
        assert_eq!(h, vec![1.0, 1.0, 10.0, 24.5]);
        assert_eq!(cut_tree(5, &average_linkage(x.view()), 3), vec![0, 0, 1, 1, 2]);
        assert_eq!(cut_tree(5, &average_linkage(x.view()), 2), vec![0, 0, 0, 0, 1]);
        assert_eq!(cut_tree(5, &average_linkage(x.view()), 5), vec![0, 1, 2, 3, 4]);
    }

    #[test]
    fn cluster_margin_spreads_over_clusters() {
        // Low-margin candidates form a group of three (rows 0-2) and a lone point (row 3);
        // with k_m = 2 × 2 = 4 rows 4 and 5 are not considered. A batch of 2 takes the lone
        // point (smallest cluster first) and one of the group, never two of the group.
        let x = array![[0.0f32, 0.0], [0.1, 0.0], [0.0, 0.1], [5.0, 5.0], [5.1, 5.0], [9.0, -9.0]];
        let scores = [-0.01f32, -0.02, -0.03, -0.04, -0.05, -0.9];
        for seed in 0..10 {
            let p = cluster_margin(x.view(), &scores, 2, 2, seed);
            assert_eq!(p.len(), 2);
            assert_eq!(p[0].index, 3, "seed {seed}: {p:?}");
            assert!(p[1].index < 3, "seed {seed}: {p:?}");
            assert_eq!((p[0].cluster_size, p[1].cluster_size), (1, 3));
        }
        // Larger k_m: the two groups merge before the far point does, so the batch is the
        // far point plus one of the five low-margin rows.
        let p = cluster_margin(x.view(), &scores, 2, 10, 0);
        assert_eq!(p[0].index, 5);
    }

    #[test]
    fn badge_first_pick_is_largest_gradient_then_spreads() {
        // Row 2 is the most uncertain with the largest features → largest ‖g‖.
        let x = array![[1.0f32, 0.0], [1.1, 0.0], [3.0, 3.0], [-1.0, 0.0], [-1.1, 0.0]];
        let p = array![[0.6f32, 0.4], [0.6, 0.4], [0.5, 0.5], [0.4, 0.6], [0.4, 0.6]];
        let picks = badge(x.view(), true, p.view(), 3, 1);
        assert_eq!(picks[0].0, 2);
        assert_abs_diff_eq!(picks[0].1, gradient_embedding_norm(x.row(2), p.row(2)), epsilon = 1e-5);
        // ‖(0.5−1, 0.5)‖² · ‖(3,3,1)‖² = 0.5 · 19.
        assert_abs_diff_eq!(picks[0].1, (0.5f32 * 19.0).sqrt(), epsilon = 1e-5);
        let idx: std::collections::HashSet<usize> = picks.iter().map(|p| p.0).collect();
        assert_eq!(idx.len(), 3, "distinct picks");
        // Distances match the explicit embedding.
        let emb = |i: usize| -> Vec<f32> {
            let mut a = p.row(i).to_vec();
            let t = if a[0] >= a[1] { 0 } else { 1 };
            a[t] -= 1.0;
            let xt = [x[[i, 0]], x[[i, 1]], 1.0];
            a.iter().flat_map(|&u| xt.iter().map(move |&v| u * v)).collect()
        };
        let (g2, g1) = (emb(2), emb(picks[1].0));
        let d: f32 = g2.iter().zip(&g1).map(|(a, b)| (a - b) * (a - b)).sum::<f32>().sqrt();
        assert_abs_diff_eq!(picks[1].1, d, epsilon = 1e-4);
    }
}
