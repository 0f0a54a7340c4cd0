//! Selection shared by all strategies.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Indices of the `k` highest scores, best first. Exact ties are broken by a random
/// permutation drawn from `seed`, so the same seed always gives the same order and
/// different seeds spread tied picks. NaN scores rank last.
pub fn top_k(scores: &[f32], k: usize, seed: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    // Shuffle first, then a stable sort by score: ties keep their shuffled order.
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    order.sort_by(|&a, &b| {
        let (sa, sb) = (scores[a], scores[b]);
        match (sa.is_nan(), sb.is_nan()) {
            (true, true) => std::cmp::Ordering::Equal,
            (true, false) => std::cmp::Ordering::Greater,
            (false, true) => std::cmp::Ordering::Less,
            _ => sb.partial_cmp(&sa).unwrap(),
        }
    });
    order.truncate(k.min(scores.len()));
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_by_score_and_breaks_ties_by_seed() {
        let s = [0.1, 0.9, 0.5, 0.9, f32::NAN, 0.2];
        let a = top_k(&s, 6, 7);
        assert_eq!(&a[2..], &[2, 5, 0, 4]);
        assert!(a[..2] == [1, 3] || a[..2] == [3, 1]);
        assert_eq!(a, top_k(&s, 6, 7), "same seed, same order");
        // Across seeds both tie orders appear.
        let firsts: std::collections::HashSet<usize> = (0..32).map(|seed| top_k(&s, 1, seed)[0]).collect();
        assert_eq!(firsts.len(), 2);
        assert_eq!(top_k(&s, 10, 0).len(), 6);
    }
}
