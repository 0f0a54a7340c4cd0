//! The CPU reference kernels: small pure functions over f32 ndarrays. The GPU shaders in
//! `shaders/` compute exactly these, and tests compare the two.

use ndarray::{s, Array1, Array2, ArrayView1, ArrayView2};

use super::matmul::matmul;
use super::vmath;
use super::{Measure, Nearest, Network, PoolMatrix, ScoreRequest, Scored};
use crate::{Error, Result};

/// Rows per block when a whole pool is processed: bounds the f32 scratch (a block of
/// 2048 rows × 784 features is 6.4 MB) whatever the pool size, so a 100k-image pool stored
/// as u8 never exists as one f32 matrix.
pub const BLOCK_ROWS: usize = 2048;

/// Dense layer: X·W + b, with ReLU when `relu`. X is n×d, W d×m, b m.
pub fn dense(x: ArrayView2<f32>, w: ArrayView2<f32>, b: ArrayView1<f32>, relu: bool) -> Result<Array2<f32>> {
    let mut y = matmul(x, w, Some(b))?;
    if relu {
        // Not `v.max(0.0)`: on wasm that is a call to libm's fmaxf per element (its NaN
        // rule differs from wasm's f32.max), which the profiler put at 37 % of a
        // 10k × 64 MLP round in Chromium; this compare-select is vectorized to f32x4.pmax.
        // Same values (NaN → 0 as before; −0 becomes +0, which no later sum can tell).
        match y.as_slice_mut() {
            Some(all) => all.iter_mut().for_each(|v| *v = relu_f32(*v)),
            None => y.mapv_inplace(relu_f32),
        }
    }
    Ok(y)
}

#[inline(always)]
fn relu_f32(v: f32) -> f32 {
    if v > 0.0 {
        v
    } else {
        0.0
    }
}

/// Row-wise softmax in place, stable: the row maximum is subtracted before `exp`, so large
/// logits do not overflow. The exponentials run over the whole block at once
/// ([`vmath::exp_in_place`], four lanes at a time under SIMD128): with 10 classes a row is
/// too short to vectorize by itself.
pub fn softmax_rows(z: &mut Array2<f32>) {
    let k = z.ncols();
    if k == 0 {
        return;
    }
    for mut row in z.rows_mut() {
        // A compare, not f32::max (a libm call per element on wasm); NaN entries are
        // skipped either way.
        let m = row.fold(f32::NEG_INFINITY, |a, &b| if b > a { b } else { a });
        row.mapv_inplace(|v| v - m);
    }
    match z.as_slice_mut() {
        Some(all) => vmath::exp_in_place(all),
        None => z.mapv_inplace(vmath::exp),
    }
    for mut row in z.rows_mut() {
        let sum = row.fold(0.0f32, |s, &e| s + e);
        let inv = 1.0 / sum;
        row.mapv_inplace(|v| v * inv);
    }
}

/// The two largest entries of a row (p₁ ≥ p₂); p₂ is −∞ for a single column.
fn top_two(row: ArrayView1<f32>) -> (f32, f32) {
    let (mut p1, mut p2) = (f32::NEG_INFINITY, f32::NEG_INFINITY);
    for &p in row.iter() {
        if p > p1 {
            p2 = p1;
            p1 = p;
        } else if p > p2 {
            p2 = p;
        }
    }
    (p1, p2)
}

/// One uncertainty score per row of a probability matrix; higher = more uncertain, as in
/// `strategy::uncertainty`.
/// - margin (Scheffer et al. 2001): −(p₁ − p₂); −1 with a single class;
/// - entropy (Shannon; Settles 2009 §3.1): −Σ p ln p, terms with p = 0 count 0;
/// - least confident (Lewis & Gale 1994): 1 − p₁.
pub fn uncertainty(p: ArrayView2<f32>, measure: Measure) -> Vec<f32> {
    let mut out = Vec::with_capacity(p.nrows());
    let mut scratch = Vec::new();
    push_scores(p, measure, &mut scratch, &mut out);
    out
}

/// Appends one score per row of `p` to `out`. For entropy, ln p of the whole block is
/// taken first in one vectorized pass into `scratch` (reused across blocks), then each row
/// sums its terms in column order.
fn push_scores(p: ArrayView2<f32>, measure: Measure, scratch: &mut Vec<f32>, out: &mut Vec<f32>) {
    if measure != Measure::Entropy {
        out.extend(p.rows().into_iter().map(|row| score_row(row, measure)));
        return;
    }
    let p = p.as_standard_layout();
    let k = p.ncols();
    let Some(all) = p.as_slice().filter(|_| k > 0) else {
        out.extend(p.rows().into_iter().map(|row| score_row(row, measure)));
        return;
    };
    scratch.clear();
    scratch.resize(all.len(), 0.0);
    vmath::ln_into(all, scratch);
    for (row, lns) in all.chunks_exact(k).zip(scratch.chunks_exact(k)) {
        out.push(entropy_terms(row, lns));
    }
}

/// −Σ p ln p over the terms with p > 0 (NaN and 0 skipped), given ln p beside each p.
fn entropy_terms(row: &[f32], lns: &[f32]) -> f32 {
    -row.iter().zip(lns).filter(|(p, _)| **p > 0.0).map(|(p, l)| p * l).sum::<f32>()
}

fn score_row(row: ArrayView1<f32>, measure: Measure) -> f32 {
    match measure {
        Measure::Margin => {
            if row.len() < 2 {
                return -1.0;
            }
            let (p1, p2) = top_two(row);
            -(p1 - p2)
        }
        Measure::Entropy => -row.iter().filter(|&&p| p > 0.0).map(|&p| p * vmath::ln(p)).sum::<f32>(),
        Measure::LeastConfident => 1.0 - top_two(row).0,
    }
}

/// Squared Euclidean distances between every row of `x` (n×d) and every row of `c` (m×d),
/// n×m. Computed as Σ (x − c)² rather than ‖x‖² − 2x·c + ‖c‖²: slower, but it never goes
/// negative from cancellation and it is what the GPU kernel computes, so the two agree.
pub fn sq_distances(x: ArrayView2<f32>, c: ArrayView2<f32>) -> Result<Array2<f32>> {
    if x.ncols() != c.ncols() {
        return Err(Error::Shape { what: "distance feature count (centres vs points)".into(), expected: x.ncols(), got: c.ncols() });
    }
    let mut out = Array2::zeros((x.nrows(), c.nrows()));
    for (i, xr) in x.rows().into_iter().enumerate() {
        for (j, cr) in c.rows().into_iter().enumerate() {
            out[[i, j]] = sq_dist(xr, cr);
        }
    }
    Ok(out)
}

#[inline]
fn sq_dist(a: ArrayView1<f32>, b: ArrayView1<f32>) -> f32 {
    let mut s = 0.0f32;
    for (x, y) in a.iter().zip(b.iter()) {
        let d = x - y;
        s += d * d;
    }
    s
}

/// Nearest centre for every row: the smallest squared distance and its index (the first
/// index on exact ties). Used by k-means assignment and k-center greedy (the distance to
/// the nearest already-chosen centre). Errors when there are no centres.
pub fn nearest(x: ArrayView2<f32>, c: ArrayView2<f32>) -> Result<Nearest> {
    if c.nrows() == 0 {
        return Err(Error::Empty("the set of centres".into()));
    }
    if x.ncols() != c.ncols() {
        return Err(Error::Shape { what: "distance feature count (centres vs points)".into(), expected: x.ncols(), got: c.ncols() });
    }
    // A NaN centre would silently never be nearest; say which one it is instead.
    crate::model::check_finite(c)?;
    let mut dist = Vec::with_capacity(x.nrows());
    let mut index = Vec::with_capacity(x.nrows());
    for xr in x.rows() {
        let (mut best, mut arg) = (f32::INFINITY, 0u32);
        for (j, cr) in c.rows().into_iter().enumerate() {
            let d = sq_dist(xr, cr);
            if d < best {
                best = d;
                arg = j as u32;
            }
        }
        dist.push(best);
        index.push(arg);
    }
    Ok(Nearest { dist, index })
}

/// Forward pass of one network to probabilities (softmax of the last layer).
pub fn forward(net: &Network, x: ArrayView2<f32>) -> Result<Array2<f32>> {
    let mut layers = net.layers.iter();
    let first = layers.next().ok_or_else(|| Error::Empty("network layers".into()))?;
    let mut z = dense(x, first.w.view(), first.b.view(), first.relu)?;
    for layer in layers {
        z = dense(z.view(), layer.w.view(), layer.b.view(), layer.relu)?;
    }
    softmax_rows(&mut z);
    Ok(z)
}

/// Mean probabilities of the committee (one member for a single model) on a block of rows,
/// accumulated as Σ pᵢ·(1/m) in member order: the order the GPU uses, so both round alike.
pub fn committee_proba(members: &[Network], x: ArrayView2<f32>) -> Result<Array2<f32>> {
    committee_proba_with(members, x, None)
}

/// [`committee_proba`], also handing each member's probabilities to `keep` when given.
fn committee_proba_with(members: &[Network], x: ArrayView2<f32>, mut keep: Option<&mut Vec<Array2<f32>>>) -> Result<Array2<f32>> {
    let inv = 1.0 / members.len().max(1) as f32;
    let mut acc: Option<Array2<f32>> = None;
    for net in members {
        let p = forward(net, x)?;
        match &mut acc {
            None => acc = Some(p.mapv(|v| v * inv)),
            Some(a) => a.zip_mut_with(&p, |a, &p| *a += p * inv),
        }
        if let Some(k) = keep.as_deref_mut() {
            k.push(p);
        }
    }
    acc.ok_or_else(|| Error::Empty("committee".into()))
}

/// One scoring round over the whole pool, block by block: mean committee probabilities (and,
/// when asked, each member's) and the uncertainty score per row; labelled rows get −∞ so
/// they rank last.
pub fn score_pool(pool: &PoolMatrix, req: &ScoreRequest) -> Result<Scored> {
    let k = req.validate(pool.dim())?;
    let n = pool.n_rows();
    let mut scores = Vec::with_capacity(n);
    let mut probs = if req.want_probs { Some(Array2::zeros((n, k))) } else { None };
    let mut member_probs = if req.want_member_probs { Some(vec![Array2::zeros((n, k)); req.members.len()]) } else { None };
    let mut start = 0;
    let mut block_members = Vec::new();
    let mut scratch = Vec::new();
    while start < n {
        let end = (start + BLOCK_ROWS).min(n);
        let x = pool.rows_view(start..end)?;
        block_members.clear();
        let p = committee_proba_with(&req.members, x.view(), member_probs.is_some().then_some(&mut block_members))?;
        if let Some(all) = &mut member_probs {
            for (dst, src) in all.iter_mut().zip(&block_members) {
                dst.slice_mut(s![start..end, ..]).assign(src);
            }
        }
        push_scores(p.view(), req.measure, &mut scratch, &mut scores);
        for (i, s) in scores[start..end].iter_mut().enumerate() {
            if pool.is_labelled(start + i) {
                *s = f32::NEG_INFINITY;
            }
        }
        if let Some(all) = &mut probs {
            all.slice_mut(s![start..end, ..]).assign(&p);
        }
        start = end;
    }
    Ok(Scored { scores, probs, member_probs })
}

/// Nearest centre for every pool row, block by block.
pub fn nearest_pool(pool: &PoolMatrix, centres: ArrayView2<f32>) -> Result<Nearest> {
    if centres.ncols() != pool.dim() {
        return Err(Error::Shape { what: "centre feature count vs pool".into(), expected: pool.dim(), got: centres.ncols() });
    }
    let mut out = Nearest { dist: Vec::with_capacity(pool.n_rows()), index: Vec::with_capacity(pool.n_rows()) };
    let mut start = 0;
    while start < pool.n_rows() {
        let end = (start + BLOCK_ROWS).min(pool.n_rows());
        let part = nearest(pool.rows_view(start..end)?.view(), centres)?;
        out.dist.extend(part.dist);
        out.index.extend(part.index);
        start = end;
    }
    Ok(out)
}

/// Weights of a fitted softmax regression (f64, as the model stores them) as a one-layer
/// network in f32 for scoring.
pub fn softmax_network(w: &Array2<f64>, b: &Array1<f64>) -> Result<Network> {
    dense_network(&[(w, b)])
}

/// Fitted dense layers (f64; an MLP's `layers()`) as a network in f32: ReLU after every
/// layer but the last, which gives logits.
pub fn dense_network(layers: &[(&Array2<f64>, &Array1<f64>)]) -> Result<Network> {
    let last = layers.len().saturating_sub(1);
    Network::new(layers.iter().enumerate().map(|(i, (w, b))| super::Layer::new(w.mapv(|v| v as f32), b.mapv(|v| v as f32), i < last)).collect::<Result<_>>()?)
}

/// The logit that stands for "this class cannot occur": finite (layers must be), and so
/// far below any real logit that its softmax term is exactly 0 in f32 on both backends
/// (exp(−10³⁰) underflows), as the CPU model's probability of an unseen class is.
pub const ABSENT_CLASS_LOGIT: f32 = -1e30;

/// `net`, whose outputs are the classes `present` (in order), widened to all `n_classes`
/// outputs: the other classes get zero weights and [`ABSENT_CLASS_LOGIT`], so their
/// probability is 0 and the present classes keep theirs. Committee members fitted on
/// different bootstraps can see different classes; widened, they share one output layout.
pub fn widen_classes(net: Network, present: &[u32], n_classes: usize) -> Result<Network> {
    let mut layers = net.layers;
    let Some(last) = layers.pop() else { return Err(Error::Empty("network layers".into())) };
    if present.len() != last.w.ncols() || present.iter().any(|&c| c as usize >= n_classes) {
        return Err(Error::Shape { what: format!("present classes vs network outputs (of {n_classes} classes)"), expected: last.w.ncols(), got: present.len() });
    }
    let mut w = Array2::zeros((last.w.nrows(), n_classes));
    let mut b = Array1::from_elem(n_classes, ABSENT_CLASS_LOGIT);
    for (j, &c) in present.iter().enumerate() {
        w.column_mut(c as usize).assign(&last.w.column(j));
        b[c as usize] = last.b[j];
    }
    layers.push(super::Layer::new(w, b, last.relu)?);
    Network::new(layers)
}

/// A network that gives class `class` probability 1 for every row of `d` features (a
/// committee member whose bootstrap held a single class predicts it with certainty).
pub fn certain_network(d: usize, class: u32, n_classes: usize) -> Result<Network> {
    let mut b = Array1::from_elem(n_classes, ABSENT_CLASS_LOGIT);
    let slot = b.get_mut(class as usize).ok_or_else(|| Error::Shape { what: "certain class vs class count".into(), expected: n_classes, got: class as usize + 1 })?;
    *slot = 0.0;
    Network::new(vec![super::Layer::new(Array2::zeros((d, n_classes)), b, false)?])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compute::Layer;
    use approx::assert_abs_diff_eq;
    use ndarray::array;

    fn assert_close(a: &Array2<f32>, b: &Array2<f32>, eps: f32) {
        assert_eq!(a.dim(), b.dim());
        for (x, y) in a.iter().zip(b.iter()) {
            assert!((x - y).abs() <= eps, "{a} vs {b}");
        }
    }

    #[test]
    fn dense_relu_hand_computed() {
        let x = array![[1.0f32, -2.0], [0.5, 0.0]];
        let w = array![[1.0f32, 2.0, -1.0], [3.0, 0.0, 1.0]];
        let b = array![0.0f32, 1.0, 0.5];
        // row 0: [1−6, 2+1, −1−2+0.5] = [−5, 3, −2.5] → relu [0, 3, 0]
        // row 1: [0.5, 1+1, −0.5+0.5] = [0.5, 2, 0]
        assert_eq!(dense(x.view(), w.view(), b.view(), true).unwrap(), array![[0.0f32, 3.0, 0.0], [0.5, 2.0, 0.0]]);
        assert_eq!(dense(x.view(), w.view(), b.view(), false).unwrap(), array![[-5.0f32, 3.0, -2.5], [0.5, 2.0, 0.0]]);
    }

    #[test]
    fn softmax_hand_computed_and_stable() {
        // softmax(0, ln 3) = (1/4, 3/4); logits of ±1000 must not overflow to NaN.
        let l3 = 3.0f32.ln();
        let mut z = array![[0.0f32, l3], [1000.0, 1000.0], [-1000.0, 0.0], [5.0, 5.0]];
        softmax_rows(&mut z);
        assert_close(&z, &array![[0.25f32, 0.75], [0.5, 0.5], [0.0, 1.0], [0.5, 0.5]], 1e-6);
    }

    #[test]
    fn uncertainty_hand_computed() {
        let p = array![[0.5f32, 0.25, 0.25], [1.0, 0.0, 0.0], [0.125, 0.625, 0.25]];
        assert_eq!(uncertainty(p.view(), Measure::Margin), vec![-0.25f32, -1.0, -0.375]);
        assert_eq!(uncertainty(p.view(), Measure::LeastConfident), vec![0.5f32, 0.0, 0.375]);
        // H(½,¼,¼) = 1.5 ln 2; H(1,0,0) = 0.
        let h = uncertainty(p.view(), Measure::Entropy);
        assert_abs_diff_eq!(h[0], 1.5 * std::f32::consts::LN_2, epsilon = 1e-6);
        assert_eq!(h[1], 0.0);
        let h2 = -(0.125f32 * 0.125f32.ln() + 0.625 * 0.625f32.ln() + 0.25 * 0.25f32.ln());
        assert_abs_diff_eq!(h[2], h2, epsilon = 1e-6);
        // One class: margin is defined as fully certain.
        assert_eq!(uncertainty(array![[1.0f32]].view(), Measure::Margin), vec![-1.0]);
    }

    #[test]
    fn margin_agrees_with_the_strategy_module() {
        let p = array![[0.875f32, 0.125, 0.0], [0.5, 0.375, 0.125], [0.25, 0.125, 0.625]];
        assert_eq!(uncertainty(p.view(), Measure::Margin), crate::strategy::uncertainty::margin(p.view()));
    }

    #[test]
    fn distances_and_nearest_hand_computed() {
        let x = array![[0.0f32, 0.0], [3.0, 4.0], [1.0, 1.0]];
        let c = array![[0.0f32, 0.0], [3.0, 0.0]];
        assert_eq!(sq_distances(x.view(), c.view()).unwrap(), array![[0.0f32, 9.0], [25.0, 16.0], [2.0, 5.0]]);
        let n = nearest(x.view(), c.view()).unwrap();
        assert_eq!(n.dist, vec![0.0, 16.0, 2.0]);
        assert_eq!(n.index, vec![0, 1, 0]);
        // Exact tie: the first centre wins.
        let t = nearest(array![[1.5f32, 0.0]].view(), c.view()).unwrap();
        assert_eq!(t.index, vec![0]);
        assert!(matches!(nearest(x.view(), Array2::<f32>::zeros((0, 2)).view()), Err(Error::Empty(_))));
        assert!(matches!(nearest(x.view(), Array2::<f32>::zeros((1, 3)).view()), Err(Error::Shape { expected: 2, got: 3, .. })));
        assert!(matches!(nearest(x.view(), array![[0.0f32, 0.0], [f32::NAN, 1.0]].view()), Err(Error::NonFinite { row: 1, col: 0, .. })));
    }

    fn two_layer() -> Network {
        Network::new(vec![
            Layer::new(array![[1.0f32, -1.0], [0.5, 2.0]], array![0.0f32, 0.0], true).unwrap(),
            Layer::new(array![[1.0f32, 0.0], [0.0, 1.0]], array![0.0f32, 0.0], false).unwrap(),
        ])
        .unwrap()
    }

    #[test]
    fn pool_scoring_in_blocks_matches_direct_and_masks_labelled() {
        // More rows than one block, stored as u8 with a scale, like pixels.
        let n = BLOCK_ROWS + 37;
        let bytes: Vec<u8> = (0..n * 2).map(|i| ((i * 37) % 256) as u8).collect();
        let mut pool = PoolMatrix::new_u8(2, 1.0 / 255.0).unwrap();
        pool.append_u8(&bytes).unwrap();
        pool.set_labelled(5, true).unwrap();
        let net = two_layer();
        let other = Network::new(vec![Layer::new(array![[0.3f32, -0.2], [-1.0, 0.7]], array![0.1f32, -0.1], false).unwrap()]).unwrap();
        let req = ScoreRequest { members: vec![net.clone(), other.clone()], measure: Measure::Entropy, want_probs: true, want_member_probs: false };
        let got = score_pool(&pool, &req).unwrap();
        let x = Array2::from_shape_fn((n, 2), |(i, j)| bytes[i * 2 + j] as f32 * (1.0 / 255.0));
        let p = committee_proba(&[net, other], x.view()).unwrap();
        let mut want = uncertainty(p.view(), Measure::Entropy);
        want[5] = f32::NEG_INFINITY;
        assert_eq!(got.scores, want);
        assert_eq!(got.probs.unwrap(), p);
    }

    #[test]
    fn request_validation_carries_shapes() {
        let mut pool = PoolMatrix::new_f32(3).unwrap();
        pool.append_f32(Array2::zeros((4, 3)).view()).unwrap();
        let req = ScoreRequest { members: vec![two_layer()], measure: Measure::Margin, want_probs: false, want_member_probs: false };
        assert!(matches!(score_pool(&pool, &req), Err(Error::Shape { expected: 3, got: 2, .. })));
        let empty = ScoreRequest { members: vec![], measure: Measure::Margin, want_probs: false, want_member_probs: false };
        assert!(matches!(score_pool(&pool, &empty), Err(Error::Empty(_))));
    }

    #[test]
    fn widened_and_certain_networks_give_zero_to_absent_classes() {
        // Two present classes (0 and 2) of four: the widened network gives classes 1 and 3
        // exactly 0 and classes 0 and 2 what the narrow one gave.
        let narrow = softmax_network(&array![[1.0f64, -1.0], [0.5, 2.0]], &array![0.1f64, -0.2]).unwrap();
        let x = array![[0.3f32, -0.7], [2.0, 1.0]];
        let p = forward(&narrow, x.view()).unwrap();
        let wide = widen_classes(narrow.clone(), &[0, 2], 4).unwrap();
        let q = forward(&wide, x.view()).unwrap();
        assert_eq!(q.dim(), (2, 4));
        for i in 0..2 {
            assert_eq!((q[[i, 1]], q[[i, 3]]), (0.0, 0.0));
            assert_abs_diff_eq!(q[[i, 0]], p[[i, 0]], epsilon = 1e-7);
            assert_abs_diff_eq!(q[[i, 2]], p[[i, 1]], epsilon = 1e-7);
        }
        assert_eq!(uncertainty(q.view(), Measure::Entropy), uncertainty(p.view(), Measure::Entropy));
        assert!(matches!(widen_classes(narrow.clone(), &[0], 4), Err(Error::Shape { .. })));
        assert!(matches!(widen_classes(narrow, &[0, 4], 4), Err(Error::Shape { .. })));
        let c = forward(&certain_network(2, 1, 3).unwrap(), x.view()).unwrap();
        assert_eq!(c, array![[0.0f32, 1.0, 0.0], [0.0, 1.0, 0.0]]);
        assert!(certain_network(2, 3, 3).is_err());
        // The MLP layout: ReLU after every layer but the last.
        let (w1, b1, w2, b2) = (array![[1.0f64, -1.0]], array![0.0f64, 0.0], array![[1.0f64], [1.0]], array![0.5f64]);
        let net = dense_network(&[(&w1, &b1), (&w2, &b2)]).unwrap();
        assert_eq!(net.layers.iter().map(|l| l.relu).collect::<Vec<_>>(), vec![true, false]);
    }

    #[test]
    fn member_probabilities_are_each_members_forward_pass() {
        let mut pool = PoolMatrix::new_f32(2).unwrap();
        let x = Array2::from_shape_fn((BLOCK_ROWS + 5, 2), |(i, j)| ((i * 7 + j * 3) % 11) as f32 / 5.0 - 1.0);
        pool.append_f32(x.view()).unwrap();
        let other = Network::new(vec![Layer::new(array![[0.3f32, -0.2], [-1.0, 0.7]], array![0.1f32, -0.1], false).unwrap()]).unwrap();
        let members = vec![two_layer(), other];
        let req = ScoreRequest { members: members.clone(), measure: Measure::Margin, want_probs: true, want_member_probs: true };
        let got = score_pool(&pool, &req).unwrap();
        let each = got.member_probs.unwrap();
        assert_eq!(each.len(), 2);
        for (net, p) in members.iter().zip(&each) {
            assert_eq!(p, &forward(net, x.view()).unwrap());
        }
        assert_eq!(got.probs.unwrap(), committee_proba(&members, x.view()).unwrap());
        let without = score_pool(&pool, &ScoreRequest { want_member_probs: false, ..req }).unwrap();
        assert!(without.member_probs.is_none());
    }

    #[test]
    fn softmax_network_from_f64_coefficients() {
        let net = softmax_network(&array![[1.0f64, 0.0], [0.0, 1.0]], &array![0.0f64, 3.0f64.ln()]).unwrap();
        let p = forward(&net, array![[0.0f32, 0.0]].view()).unwrap();
        assert_close(&p, &array![[0.25f32, 0.75]], 1e-6);
    }
}
