//! When to stop labelling: pure functions that turn the session's history into a
//! suggestion the UI can show ("predictions have stopped changing: kappa 0.995 over the
//! last 3 rounds"). A suggestion, never a decision: the person may go on.
//!
//! Three criteria, any one of which suggests stopping:
//! - **Stabilizing predictions** (Bloodgood & Vijay-Shanker 2009, "A method for stopping
//!   active learning based on stabilizing predictions and the need for user-adjustable
//!   stopping", CoNLL): keep a fixed *stop set* of unlabelled samples (it needs no labels;
//!   the paper uses 2000 drawn at random), record each model's predictions on it, measure
//!   agreement between successive models by Cohen's kappa, and stop when the mean of the
//!   last three kappas is at least 0.99 (the paper's defaults, both adjustable).
//! - **Overall uncertainty** (Zhu, Wang & Hovy 2008, "Multi-criteria-based strategy to stop
//!   active learning for data annotation", COLING): stop when the mean uncertainty over the
//!   unlabelled pool falls below a threshold. Here uncertainty is entropy divided by ln k,
//!   so the threshold means the same for any number of classes.
//! - **Budget**: the labels the person planned to give, or an exhausted pool.

use ndarray::ArrayView2;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::strategy::uncertainty::{check_probs, entropy_of};
use crate::{Error, Result};

/// Cohen's kappa (Cohen 1960) between two labelings of the same items:
///
///   κ = (p_o − p_e) / (1 − p_e),  p_o = share of items with equal labels,
///   p_e = Σ_c (n_{a,c} / N)(n_{b,c} / N), the agreement expected by chance.
///
/// When p_e = 1 (both labelings put every item in the same single class) κ is 0/0; the two
/// labelings then agree perfectly and 1 is returned.
pub fn cohens_kappa(a: &[u32], b: &[u32], n_classes: usize) -> Result<f64> {
    if a.len() != b.len() {
        return Err(Error::Shape { what: "second labeling vs first".into(), expected: a.len(), got: b.len() });
    }
    if a.is_empty() {
        return Err(Error::Empty("stop set".into()));
    }
    let mut ca = vec![0usize; n_classes];
    let mut cb = vec![0usize; n_classes];
    let mut agree = 0usize;
    for (row, (&x, &y)) in a.iter().zip(b).enumerate() {
        for label in [x, y] {
            if label as usize >= n_classes {
                return Err(Error::LabelOutOfRange { row, label, n_classes });
            }
        }
        ca[x as usize] += 1;
        cb[y as usize] += 1;
        agree += (x == y) as usize;
    }
    let n = a.len() as f64;
    let po = agree as f64 / n;
    let pe: f64 = ca.iter().zip(&cb).map(|(&x, &y)| (x as f64 / n) * (y as f64 / n)).sum();
    if 1.0 - pe <= f64::EPSILON {
        return Ok(1.0);
    }
    Ok((po - pe) / (1.0 - pe))
}

/// Kappas between each model's stop-set predictions and the previous model's.
/// `history[t]` are the predictions of the model after round t, oldest first.
pub fn successive_kappas(history: &[Vec<u32>], n_classes: usize) -> Result<Vec<f64>> {
    history.windows(2).map(|w| cohens_kappa(&w[0], &w[1], n_classes)).collect()
}

/// Mean of the last `window` successive kappas, or `None` before there are that many
/// (window + 1 models).
pub fn recent_kappa(history: &[Vec<u32>], n_classes: usize, window: usize) -> Result<Option<f64>> {
    let k = successive_kappas(history, n_classes)?;
    if window == 0 || k.len() < window {
        return Ok(None);
    }
    Ok(Some(k[k.len() - window..].iter().sum::<f64>() / window as f64))
}

/// Mean normalized entropy over the pool: (1/m) Σ_i H(p_i) / ln k, in [0, 1]. 0 = the
/// model is certain everywhere. `None` for an empty pool or fewer than two classes.
pub fn overall_uncertainty(probs: ArrayView2<f32>) -> Result<Option<f64>> {
    check_probs(probs, "pool probabilities")?;
    let (m, k) = probs.dim();
    if m == 0 || k < 2 {
        return Ok(None);
    }
    let norm = (k as f64).ln();
    let total: f64 = probs.rows().into_iter().map(|r| entropy_of(r) as f64 / norm).sum();
    Ok(Some(total / m as f64))
}

/// Mean of the largest class probability over the pool (the "max-confidence" view of the
/// same idea); `None` for an empty pool.
pub fn mean_max_probability(probs: ArrayView2<f32>) -> Result<Option<f64>> {
    check_probs(probs, "pool probabilities")?;
    if probs.nrows() == 0 {
        return Ok(None);
    }
    let total: f64 = probs.rows().into_iter().map(|r| r.fold(0.0f32, |a, &b| a.max(b)) as f64).sum();
    Ok(Some(total / probs.nrows() as f64))
}

/// A seeded stop set: `size` distinct pool rows (all of them when the pool is smaller),
/// ascending. Draw it once per session and keep it: the criterion compares models on the
/// *same* samples.
pub fn choose_stop_set(pool_len: usize, size: usize, seed: u64) -> Vec<usize> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut rows = rand::seq::index::sample(&mut rng, pool_len, size.min(pool_len)).into_vec();
    rows.sort_unstable();
    rows
}

/// Thresholds of [`suggest`], with the defaults of the papers above.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StopParams {
    /// Stop when the mean recent kappa reaches this (default 0.99, Bloodgood &
    /// Vijay-Shanker 2009).
    pub kappa_threshold: f64,
    /// How many successive kappas to average (default 3, as in the paper).
    pub kappa_window: usize,
    /// Stop when the overall uncertainty (mean entropy / ln k) is at most this
    /// (default 0.05). `None` turns the criterion off.
    pub uncertainty_threshold: Option<f64>,
    /// Total labels planned; `None` = no budget.
    pub budget: Option<usize>,
}

impl Default for StopParams {
    fn default() -> Self {
        StopParams { kappa_threshold: 0.99, kappa_window: 3, uncertainty_threshold: Some(0.05), budget: None }
    }
}

impl StopParams {
    /// Check the values are usable.
    pub fn check(&self) -> Result<()> {
        if !(self.kappa_threshold.is_finite() && self.kappa_threshold > -1.0 && self.kappa_threshold <= 1.0) {
            return Err(Error::param("kappa_threshold", format!("must be in (-1, 1], got {}", self.kappa_threshold)));
        }
        if self.kappa_window == 0 {
            return Err(Error::param("kappa_window", "must be at least 1"));
        }
        if let Some(t) = self.uncertainty_threshold {
            if !(t.is_finite() && (0.0..=1.0).contains(&t)) {
                return Err(Error::param("uncertainty_threshold", format!("must be in [0, 1], got {t}")));
            }
        }
        Ok(())
    }
}

/// What [`suggest`] looks at. Every part is optional in effect: an empty history or no
/// probabilities simply leave that criterion undecided.
#[derive(Debug, Clone, Copy)]
pub struct StopInput<'a> {
    /// Predictions of each successive model on the fixed stop set, oldest first.
    pub stop_set_history: &'a [Vec<u32>],
    /// Current model's probabilities on the unlabelled pool (m × k), if fitted.
    pub pool_probs: Option<ArrayView2<'a, f32>>,
    /// Labels given so far.
    pub n_labelled: usize,
    /// Samples still unlabelled.
    pub n_unlabelled: usize,
    /// Number of classes.
    pub n_classes: usize,
}

/// The suggestion and the numbers behind it, for the dashboard.
#[derive(Debug, Clone, PartialEq)]
pub struct StopSuggestion {
    pub stop: bool,
    /// One sentence: which criterion fired, or how far each one is from firing.
    pub reason: String,
    /// Mean of the last `kappa_window` successive kappas, once there are enough models.
    pub kappa: Option<f64>,
    /// Overall uncertainty (mean entropy / ln k) of the pool.
    pub uncertainty: Option<f64>,
    /// Labels left in the budget.
    pub budget_left: Option<usize>,
}

/// Combine the criteria: stop if the budget is spent or the pool is exhausted, if
/// predictions have stabilized, or if the pool's overall uncertainty is low.
pub fn suggest(input: &StopInput, params: &StopParams) -> Result<StopSuggestion> {
    params.check()?;
    let kappa = recent_kappa(input.stop_set_history, input.n_classes, params.kappa_window)?;
    let uncertainty = match input.pool_probs {
        Some(p) => overall_uncertainty(p)?,
        None => None,
    };
    let budget_left = params.budget.map(|b| b.saturating_sub(input.n_labelled));
    let w = params.kappa_window;
    let mut out = StopSuggestion { stop: true, reason: String::new(), kappa, uncertainty, budget_left };
    if input.n_unlabelled == 0 {
        out.reason = "every sample is labelled".into();
        return Ok(out);
    }
    if budget_left == Some(0) {
        out.reason = format!("the budget of {} labels is spent", params.budget.unwrap_or(0));
        return Ok(out);
    }
    if let Some(k) = kappa.filter(|&k| k >= params.kappa_threshold) {
        out.reason = format!(
            "predictions have stopped changing: kappa {k:.3} over the last {w} rounds (threshold {})",
            params.kappa_threshold
        );
        return Ok(out);
    }
    if let (Some(u), Some(t)) = (uncertainty, params.uncertainty_threshold) {
        if u <= t {
            out.reason = format!("the model is confident on the remaining pool: uncertainty {u:.3} (threshold {t})");
            return Ok(out);
        }
    }
    out.stop = false;
    let mut parts = Vec::new();
    parts.push(match kappa {
        Some(k) => format!("predictions still changing (kappa {k:.3} over the last {w} rounds, stop at {})", params.kappa_threshold),
        None => {
            let have = input.stop_set_history.len();
            format!("{} more round(s) before predictions can be compared", (w + 1).saturating_sub(have))
        }
    });
    if let (Some(u), Some(t)) = (uncertainty, params.uncertainty_threshold) {
        parts.push(format!("uncertainty {u:.3} (stop at {t})"));
    }
    if let Some(b) = budget_left {
        parts.push(format!("{b} labels left in the budget"));
    }
    out.reason = format!("keep going: {}", parts.join("; "));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;
    use ndarray::array;

    #[test]
    fn kappa_hand_computed() {
        // 10 items, 2 classes. a: 6×0, 4×1. b agrees on 8: confusion [[5,1],[1,3]].
        // p_o = 0.8; p_e = 0.6·0.6 + 0.4·0.4 = 0.52; κ = 0.28 / 0.48 = 7/12.
        let a = [0, 0, 0, 0, 0, 0, 1, 1, 1, 1];
        let b = [0, 0, 0, 0, 0, 1, 0, 1, 1, 1];
        assert_abs_diff_eq!(cohens_kappa(&a, &b, 2).unwrap(), 7.0 / 12.0, epsilon = 1e-12);
        assert_abs_diff_eq!(cohens_kappa(&a, &a, 2).unwrap(), 1.0);
        // Complete disagreement on a balanced set: p_o = 0, p_e = 0.5 → κ = −1.
        assert_abs_diff_eq!(cohens_kappa(&[0, 1], &[1, 0], 2).unwrap(), -1.0);
        // Both constant and equal: defined as 1.
        assert_abs_diff_eq!(cohens_kappa(&[2, 2, 2], &[2, 2, 2], 3).unwrap(), 1.0);
        assert!(matches!(cohens_kappa(&[0], &[0, 1], 2), Err(Error::Shape { .. })));
        assert!(matches!(cohens_kappa(&[], &[], 2), Err(Error::Empty(_))));
        assert!(matches!(cohens_kappa(&[0, 3], &[0, 1], 2), Err(Error::LabelOutOfRange { row: 1, label: 3, .. })));
    }

    #[test]
    fn scikit_learn_agrees_on_a_three_class_kappa() {
        // scikit-learn 1.5.2: cohen_kappa_score([0,1,2,2,1,0,2,1], [0,1,1,2,1,0,2,2]) = 0.6190476190476191
        // (by hand: p_o = 6/8, p_e = (2·2 + 3·3 + 3·3)/64 = 22/64, κ = (48−22)/(64−22) = 26/42).
        let a = [0, 1, 2, 2, 1, 0, 2, 1];
        let b = [0, 1, 1, 2, 1, 0, 2, 2];
        assert_abs_diff_eq!(cohens_kappa(&a, &b, 3).unwrap(), 0.6190476190476191, epsilon = 1e-12);
    }

    #[test]
    fn uncertainty_measures() {
        let p = array![[1.0f32, 0.0], [0.5, 0.5]];
        // Normalized entropies 0 and 1 → mean 0.5; max-probabilities 1 and 0.5 → 0.75.
        assert_abs_diff_eq!(overall_uncertainty(p.view()).unwrap().unwrap(), 0.5, epsilon = 1e-6);
        assert_abs_diff_eq!(mean_max_probability(p.view()).unwrap().unwrap(), 0.75, epsilon = 1e-6);
        assert_eq!(overall_uncertainty(p.slice(ndarray::s![..0, ..])).unwrap(), None);
        let bad = array![[f32::NAN, 1.0]];
        assert!(overall_uncertainty(bad.view()).unwrap_err().to_string().contains("row 0, column 0"));
    }

    fn input<'a>(history: &'a [Vec<u32>], probs: Option<ArrayView2<'a, f32>>, labelled: usize) -> StopInput<'a> {
        StopInput { stop_set_history: history, pool_probs: probs, n_labelled: labelled, n_unlabelled: 100, n_classes: 2 }
    }

    #[test]
    fn suggest_fires_on_each_criterion() {
        let stable = vec![vec![0, 1, 1, 0]; 4];
        let p_unsure = array![[0.5f32, 0.5], [0.6, 0.4]];
        let p_sure = array![[1.0f32, 0.0], [0.0, 1.0]];
        let params = StopParams::default();
        // Four identical models: three kappas of 1.
        let s = suggest(&input(&stable, Some(p_unsure.view()), 10), &params).unwrap();
        assert!(s.stop && s.reason.starts_with("predictions have stopped changing: kappa 1.000"), "{}", s.reason);
        // Only three models: not enough kappas yet, and the pool is uncertain.
        let s = suggest(&input(&stable[..3], Some(p_unsure.view()), 10), &params).unwrap();
        assert!(!s.stop && s.kappa.is_none());
        assert!(s.reason.contains("1 more round(s)"), "{}", s.reason);
        // Changing predictions, confident pool.
        let changing = vec![vec![0, 1, 1, 0], vec![1, 1, 0, 0], vec![0, 0, 1, 1], vec![0, 1, 1, 0]];
        let s = suggest(&input(&changing, Some(p_sure.view()), 10), &params).unwrap();
        assert!(s.stop && s.reason.starts_with("the model is confident"), "{}", s.reason);
        let s = suggest(&input(&changing, Some(p_unsure.view()), 10), &params).unwrap();
        assert!(!s.stop && s.reason.contains("predictions still changing"), "{}", s.reason);
        // Budget.
        let b = StopParams { budget: Some(10), ..params };
        let s = suggest(&input(&changing, None, 10), &b).unwrap();
        assert!(s.stop && s.reason.contains("budget of 10 labels is spent"));
        let s = suggest(&input(&changing, None, 4), &b).unwrap();
        assert_eq!(s.budget_left, Some(6));
        assert!(!s.stop && s.reason.contains("6 labels left"));
        // Pool exhausted.
        let s = suggest(&StopInput { n_unlabelled: 0, ..input(&[], None, 10) }, &params).unwrap();
        assert!(s.stop);
        // Bad thresholds.
        assert!(suggest(&input(&[], None, 0), &StopParams { kappa_window: 0, ..params }).is_err());
        assert!(suggest(&input(&[], None, 0), &StopParams { uncertainty_threshold: Some(2.0), ..params }).is_err());
    }

    #[test]
    fn stop_set_is_seeded_and_bounded() {
        let s = choose_stop_set(10_000, 2000, 3);
        assert_eq!(s.len(), 2000);
        assert!(s.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(s, choose_stop_set(10_000, 2000, 3));
        assert_eq!(choose_stop_set(5, 2000, 0), vec![0, 1, 2, 3, 4]);
    }
}
