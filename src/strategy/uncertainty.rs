//! Uncertainty measures over a probability matrix P (n × k, rows sum to 1).
//! Scores are "higher = more uncertain" so every strategy ranks the same way.

use ndarray::{ArrayView1, ArrayView2};

use crate::{Error, Result};

/// Check a probability matrix: every entry finite and in [0, 1] (with a little rounding
/// slack). The error names the first bad row and column so the caller can find the model
/// output that went wrong.
pub fn check_probs(p: ArrayView2<f32>, what: &str) -> Result<()> {
    for ((r, c), &v) in p.indexed_iter() {
        if !v.is_finite() || !(-1e-4..=1.0 + 1e-4).contains(&v) {
            return Err(Error::param(
                what,
                format!("probability {v} at row {r}, column {c}: probabilities must be finite and within [0, 1]"),
            ));
        }
    }
    Ok(())
}

/// Shannon entropy −Σ p ln p of one distribution, in nats, with 0 ln 0 = 0 (classes the
/// model has not seen yet carry probability 0).
pub fn entropy_of(row: ArrayView1<f32>) -> f32 {
    row.iter().filter(|&&p| p > 0.0).map(|&p| -p * p.ln()).sum()
}

/// The two largest probabilities of a row and the index of each: (p1, i1, p2, i2).
pub fn top_two(row: ndarray::ArrayView1<f32>) -> (f32, usize, f32, usize) {
    let (mut p1, mut i1, mut p2, mut i2) = (f32::NEG_INFINITY, 0, f32::NEG_INFINITY, 0);
    for (i, &p) in row.iter().enumerate() {
        if p > p1 {
            (p2, i2) = (p1, i1);
            (p1, i1) = (p, i);
        } else if p > p2 {
            (p2, i2) = (p, i);
        }
    }
    (p1, i1, p2, i2)
}

/// Margin sampling (Scheffer, Decomain & Wrobel 2001): score = −(p₁ − p₂), where p₁ ≥ p₂
/// are the two largest class probabilities. The smallest margin is queried first.
/// With one class the margin is taken as 1 (fully certain).
pub fn margin(p: ArrayView2<f32>) -> Vec<f32> {
    p.rows()
        .into_iter()
        .map(|row| {
            if row.len() < 2 {
                return -1.0;
            }
            let (p1, _, p2, _) = top_two(row);
            -(p1 - p2)
        })
        .collect()
}

/// Least-confident sampling (Lewis & Gale 1994; Settles 2009 §3.1): score = 1 − max_c p_c,
/// the probability that the model's best guess is wrong. modAL's `classifier_uncertainty`.
pub fn least_confident(p: ArrayView2<f32>) -> Vec<f32> {
    p.rows().into_iter().map(|row| 1.0 - row.fold(0.0f32, |a, &b| a.max(b))).collect()
}

/// Entropy sampling (Shannon 1948; Settles 2009 §3.1): score = −Σ_c p_c ln p_c in nats,
/// highest when the probability is spread over many classes. modAL's `classifier_entropy`.
pub fn entropy(p: ArrayView2<f32>) -> Vec<f32> {
    p.rows().into_iter().map(entropy_of).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategy::select::top_k;
    use ndarray::array;

    #[test]
    fn margin_order_is_hand_computed() {
        // Dyadic values, so f32 arithmetic is exact and the tie below is a true tie.
        // margins: 0.75, 0.125, 0.125, 0.0, 0.375, 0.8125
        let p = array![
            [0.875f32, 0.125, 0.0],
            [0.5, 0.375, 0.125],
            [0.125, 0.5, 0.375],
            [0.5, 0.5, 0.0],
            [0.25, 0.125, 0.625],
            [0.0625, 0.0625, 0.875],
        ];
        let s = margin(p.view());
        assert_eq!(s, vec![-0.75f32, -0.125, -0.125, 0.0, -0.375, -0.8125]);
        // Rows 1 and 2 tie: the seed decides their order; the rest is fixed.
        for seed in 0..8 {
            let order = top_k(&s, 6, seed);
            assert_eq!(order[0], 3);
            assert!(order[1..3] == [1, 2] || order[1..3] == [2, 1]);
            assert_eq!(&order[3..], &[4, 0, 5]);
        }
        assert_ne!(
            (0..16).map(|seed| top_k(&s, 6, seed)[1]).collect::<std::collections::HashSet<_>>().len(),
            1,
            "ties must be broken by the seed, not by position"
        );
    }
}
