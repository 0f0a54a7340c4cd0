//! Train/test splits.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::{Error, Result};

/// Stratified split: for each class, `round(test_frac × count)` of its rows (at least one
/// when the class has two or more) go to the test side, chosen by `seed`. Returns
/// (train rows, test rows), each sorted ascending.
pub fn stratified(labels: &[u32], test_frac: f64, seed: u64) -> Result<(Vec<usize>, Vec<usize>)> {
    if !(test_frac > 0.0 && test_frac < 1.0) {
        return Err(Error::param("test_frac", format!("must be strictly between 0 and 1, got {test_frac}")));
    }
    if labels.is_empty() {
        return Err(Error::Empty("label list".into()));
    }
    let n_classes = *labels.iter().max().unwrap() as usize + 1;
    let mut by_class: Vec<Vec<usize>> = vec![Vec::new(); n_classes];
    for (i, &l) in labels.iter().enumerate() {
        by_class[l as usize].push(i);
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for rows in by_class.iter_mut() {
        rows.shuffle(&mut rng);
        let mut n_test = (rows.len() as f64 * test_frac).round() as usize;
        if rows.len() >= 2 {
            n_test = n_test.clamp(1, rows.len() - 1);
        } else {
            n_test = 0;
        }
        test.extend_from_slice(&rows[..n_test]);
        train.extend_from_slice(&rows[n_test..]);
    }
    train.sort_unstable();
    test.sort_unstable();
    Ok((train, test))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stratified_keeps_class_shares_and_is_seeded() {
        let labels: Vec<u32> = (0..100).map(|i| if i < 80 { 0 } else { 1 }).collect();
        let (tr, te) = stratified(&labels, 0.3, 1).unwrap();
        assert_eq!(te.len(), 30);
        assert_eq!(tr.len(), 70);
        assert_eq!(te.iter().filter(|&&i| labels[i] == 1).count(), 6);
        assert_eq!((tr.clone(), te.clone()), stratified(&labels, 0.3, 1).unwrap());
        assert_ne!(te, stratified(&labels, 0.3, 2).unwrap().1);
        assert!(stratified(&labels, 1.0, 0).is_err());
    }
}
