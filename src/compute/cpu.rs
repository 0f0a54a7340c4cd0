//! The CPU reference kernels: small pure functions over f32 ndarrays. The GPU shaders in
//! `shaders/` compute exactly these, and tests compare the two.

use ndarray::{s, Array1, Array2, ArrayView1, ArrayView2};

use super::matmul::matmul;
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
        y.mapv_inplace(|v| v.max(0.0));
    }
    Ok(y)
}

/// Row-wise softmax in place, stable: the row maximum is subtracted before `exp`, so large
/// logits do not overflow.
pub fn softmax_rows(z: &mut Array2<f32>) {
    for mut row in z.rows_mut() {
        let m = row.fold(f32::NEG_INFINITY, |a, &b| a.max(b));
        let mut sum = 0.0f32;
        row.mapv_inplace(|v| {
            let e = (v - m).exp();
            sum += e;
            e
        });
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
    p.rows().into_iter().map(|row| score_row(row, measure)).collect()
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
        Measure::Entropy => -row.iter().filter(|&&p| p > 0.0).map(|&p| p * p.ln()).sum::<f32>(),
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
    let inv = 1.0 / members.len().max(1) as f32;
    let mut acc: Option<Array2<f32>> = None;
    for net in members {
        let p = forward(net, x)?;
        match &mut acc {
            None => acc = Some(p.mapv(|v| v * inv)),
            Some(a) => a.zip_mut_with(&p, |a, &p| *a += p * inv),
        }
    }
    acc.ok_or_else(|| Error::Empty("committee".into()))
}

/// One scoring round over the whole pool, block by block: mean committee probabilities and
/// the uncertainty score per row; labelled rows get −∞ so they rank last.
pub fn score_pool(pool: &PoolMatrix, req: &ScoreRequest) -> Result<Scored> {
    let k = req.validate(pool.dim())?;
    let n = pool.n_rows();
    let mut scores = Vec::with_capacity(n);
    let mut probs = if req.want_probs { Some(Array2::zeros((n, k))) } else { None };
    let mut start = 0;
    while start < n {
        let end = (start + BLOCK_ROWS).min(n);
        let x = pool.rows_f32(start..end)?;
        let p = committee_proba(&req.members, x.view())?;
        for (i, row) in p.rows().into_iter().enumerate() {
            scores.push(if pool.is_labelled(start + i) { f32::NEG_INFINITY } else { score_row(row, req.measure) });
        }
        if let Some(all) = &mut probs {
            all.slice_mut(s![start..end, ..]).assign(&p);
        }
        start = end;
    }
    Ok(Scored { scores, probs })
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
        let part = nearest(pool.rows_f32(start..end)?.view(), centres)?;
        out.dist.extend(part.dist);
        out.index.extend(part.index);
        start = end;
    }
    Ok(out)
}

/// Weights of a fitted softmax regression (f64, as the model stores them) as a one-layer
/// network in f32 for scoring.
pub fn softmax_network(w: &Array2<f64>, b: &Array1<f64>) -> Result<Network> {
    Network::new(vec![super::Layer::new(w.mapv(|v| v as f32), b.mapv(|v| v as f32), false)?])
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
        let req = ScoreRequest { members: vec![net.clone(), other.clone()], measure: Measure::Entropy, want_probs: true };
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
        let req = ScoreRequest { members: vec![two_layer()], measure: Measure::Margin, want_probs: false };
        assert!(matches!(score_pool(&pool, &req), Err(Error::Shape { expected: 3, got: 2, .. })));
        let empty = ScoreRequest { members: vec![], measure: Measure::Margin, want_probs: false };
        assert!(matches!(score_pool(&pool, &empty), Err(Error::Empty(_))));
    }

    #[test]
    fn softmax_network_from_f64_coefficients() {
        let net = softmax_network(&array![[1.0f64, 0.0], [0.0, 1.0]], &array![0.0f64, 3.0f64.ln()]).unwrap();
        let p = forward(&net, array![[0.0f32, 0.0]].view()).unwrap();
        assert_close(&p, &array![[0.25f32, 0.75]], 1e-6);
    }
}
