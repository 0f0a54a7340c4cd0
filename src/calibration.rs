//! Calibrated confidence: temperature scaling (Guo, Pleiss, Sun & Weinberger, "On
//! Calibration of Modern Neural Networks", ICML 2017, §4.2) and the expected calibration
//! error it is judged by.
//!
//! Why: a softmax model fitted with an L2 penalty on a few labels spreads its probability
//! thinly, so the app said "32 % sure" for guesses that were right 96 % of the time. One
//! number T rescales the log-probabilities (p ∝ exp(ln p / T)); it changes no ranking and
//! no prediction, only how sure the model says it is. T is fitted where labels the model
//! did not train on exist without a test set: on the cross-validation's out-of-fold
//! predictions (crate::estimate), by minimising their negative log-likelihood.

/// The temperature range searched: T below 0.1 or above 10 would only follow the noise
/// of a few dozen out-of-fold predictions (all right: T → 0, "100 % sure").
pub const T_MIN: f64 = 0.1;
pub const T_MAX: f64 = 10.0;
/// The temperature a person's confidence is shown with, from the fitted one: it may only
/// sharpen (T ≤ 1). The out-of-fold predictions are harder than the pool as a whole (active
/// learning labels the samples near the class boundaries, and each fold trains on 4/5 of
/// the labels), so a fitted T above 1 mostly measures that bias, not overconfidence:
/// applied, it made the held-out ECE worse on the digits (0.049 → 0.078), while T ≤ 1 is
/// never worse on any of the repo's sets (docs/BENCHMARKS.md, "Calibration").
pub fn shown(t: f64) -> f64 {
    t.min(1.0)
}

/// Fewer out-of-fold predictions than this fit no temperature (T = 1: as the model says).
pub const MIN_ROWS: usize = 10;
/// Equal-width confidence bins of the ECE (Guo et al. use 15).
pub const ECE_BINS: usize = 15;

/// `probs` (row-major, `k` per row) with temperature `t`: softmax(ln p / t) per row.
pub fn temper(probs: &[f32], k: usize, t: f64) -> Vec<f32> {
    let mut out = vec![0.0f32; probs.len()];
    if k == 0 {
        return out;
    }
    for (row, o) in probs.chunks_exact(k).zip(out.chunks_exact_mut(k)) {
        for (dst, lp) in o.iter_mut().zip(log_tempered(row, t)) {
            *dst = lp.exp() as f32;
        }
    }
    out
}

/// One row's log-probabilities with temperature `t`: ln softmax(ln p / t), with p floored
/// at 1e-12 (a zero probability stays finite).
fn log_tempered(row: &[f32], t: f64) -> Vec<f64> {
    let z: Vec<f64> = row.iter().map(|&p| (p as f64).max(1e-12).ln() / t).collect();
    let m = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let lse = m + z.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
    z.into_iter().map(|v| v - lse).collect()
}

/// Mean negative log-likelihood of `labels` under `probs` tempered by `t`.
fn nll(probs: &[f32], labels: &[u32], k: usize, t: f64) -> f64 {
    let total: f64 = probs
        .chunks_exact(k)
        .zip(labels)
        .map(|(row, &y)| {
            let lp = log_tempered(row, t);
            // A label past the row (not reached: labels are checked) counts as the likeliest.
            -lp.get(y as usize).copied().unwrap_or_else(|| lp.iter().copied().fold(f64::NEG_INFINITY, f64::max))
        })
        .sum();
    total / labels.len().max(1) as f64
}

/// The temperature that minimises the NLL of `labels` under `probs` (row-major, `k` per
/// row), in [T_MIN, T_MAX]; 1 with fewer than MIN_ROWS rows or a shape that does not fit.
/// The NLL is convex in 1/T, so a golden-section search over ln T finds the minimum.
pub fn fit_temperature(probs: &[f32], labels: &[u32], k: usize) -> f64 {
    if k < 2 || labels.len() < MIN_ROWS || probs.len() != labels.len() * k {
        return 1.0;
    }
    let (mut a, mut b) = (T_MIN.ln(), T_MAX.ln());
    let g = (5f64.sqrt() - 1.0) / 2.0;
    let f = |lt: f64| nll(probs, labels, k, lt.exp());
    let (mut c, mut d) = (b - g * (b - a), a + g * (b - a));
    let (mut fc, mut fd) = (f(c), f(d));
    for _ in 0..60 {
        if fc < fd {
            b = d;
            d = c;
            fd = fc;
            c = b - g * (b - a);
            fc = f(c);
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + g * (b - a);
            fd = f(d);
        }
    }
    ((a + b) / 2.0).exp()
}

/// Expected calibration error: the top-label confidence of each row put in ECE_BINS
/// equal-width bins; the mean over bins, weighted by their share of rows, of |accuracy −
/// mean confidence|. 0 is perfectly calibrated; 0 for no rows.
pub fn ece(probs: &[f32], labels: &[u32], k: usize) -> f64 {
    if k == 0 || labels.is_empty() || probs.len() != labels.len() * k {
        return 0.0;
    }
    let mut count = [0usize; ECE_BINS];
    let mut conf = [0f64; ECE_BINS];
    let mut hits = [0f64; ECE_BINS];
    for (row, &y) in probs.chunks_exact(k).zip(labels) {
        let (best, p) = row.iter().enumerate().fold((0, f32::NEG_INFINITY), |acc, (j, &v)| if v > acc.1 { (j, v) } else { acc });
        let b = ((p as f64 * ECE_BINS as f64) as usize).min(ECE_BINS - 1);
        count[b] += 1;
        conf[b] += p as f64;
        hits[b] += f64::from(best as u32 == y);
    }
    let n = labels.len() as f64;
    (0..ECE_BINS).filter(|&b| count[b] > 0).map(|b| (hits[b] - conf[b]).abs() / n).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temper_keeps_the_ranking_and_sharpens_below_one() {
        let p = [0.5f32, 0.3, 0.2];
        assert_eq!(temper(&p, 3, 1.0).iter().map(|v| (v * 1e4).round()).collect::<Vec<_>>(), vec![5000.0, 3000.0, 2000.0]);
        let sharp = temper(&p, 3, 0.5);
        // T = 0.5 squares the probabilities before normalising: 0.25 : 0.09 : 0.04.
        assert!((sharp[0] - 0.25 / 0.38).abs() < 1e-6, "{sharp:?}");
        assert!(sharp[0] > sharp[1] && sharp[1] > sharp[2]);
        let flat = temper(&p, 3, 10.0);
        assert!(flat[0] < 0.36 && flat[2] > 0.30, "{flat:?}");
    }

    #[test]
    fn ece_by_hand() {
        // Two rows at 0.9 (bin 13), one right, one wrong: |0.5 − 0.9| × 2/4; two rows at
        // 0.6 (bin 9), both right: |1 − 0.6| × 2/4. ECE = 0.2 + 0.2.
        let probs = [0.9f32, 0.1, 0.9, 0.1, 0.6, 0.4, 0.4, 0.6];
        let labels = [0u32, 1, 0, 1];
        assert!((ece(&probs, &labels, 2) - 0.4).abs() < 1e-6);
        assert_eq!(ece(&[], &[], 2), 0.0);
    }

    #[test]
    fn an_underconfident_model_gets_t_below_one_and_a_lower_ece() {
        // 10 classes; the right class always gets 0.32 and the others share the rest (the
        // app's "32 % sure" on a model that is right 95 % of the time).
        let k = 10;
        let (mut probs, mut labels) = (Vec::new(), Vec::new());
        for i in 0..200u32 {
            let y = i % 10;
            let top = if i % 20 == 0 { (y + 1) % 10 } else { y }; // 1 in 20 wrong
            labels.push(y);
            for j in 0..k as u32 {
                probs.push(if j == top { 0.32 } else { 0.68 / 9.0 });
            }
        }
        let t = fit_temperature(&probs, &labels, k);
        assert!(t < 0.5, "T = {t}");
        let before = ece(&probs, &labels, k);
        let after = ece(&temper(&probs, k, t), &labels, k);
        assert!(before > 0.6 && after < 0.05, "ECE {before} → {after} at T = {t}");
    }

    #[test]
    fn too_few_rows_or_a_bad_shape_leave_t_at_one() {
        assert_eq!(fit_temperature(&[0.5, 0.5], &[0], 2), 1.0);
        assert_eq!(fit_temperature(&[0.5; 30], &[0; 10], 2), 1.0);
    }
}
