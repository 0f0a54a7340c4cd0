//! Limited-memory BFGS (Nocedal & Wright, *Numerical Optimization*, 2nd ed., Alg. 7.4 and
//! 7.5) with a strong Wolfe line search (Alg. 3.5/3.6). Hand-written because the crates that offer
//! it (argmin, liblbfgs bindings) pull in far more than the ~100 lines needed here, and
//! the wasm bundle size matters.

/// Settings for [`minimize`].
#[derive(Debug, Clone, Copy)]
pub struct LbfgsParams {
    /// History pairs kept (default 10).
    pub memory: usize,
    /// Maximum iterations (default 500).
    pub max_iter: usize,
    /// Stop when the largest gradient component is below this (default 1e-6), scaled by
    /// max(1, |f|) so it is relative for large objectives.
    pub gtol: f64,
}

impl Default for LbfgsParams {
    fn default() -> Self {
        LbfgsParams { memory: 10, max_iter: 500, gtol: 1e-6 }
    }
}

/// Outcome of a minimization.
#[derive(Debug, Clone)]
pub struct LbfgsResult {
    pub f: f64,
    pub iterations: usize,
    pub converged: bool,
}

/// a·b with eight independent partial sums: one running sum is a chain of dependent adds
/// (4 cycles each), which made the two-loop recursion, not the objective, the larger part
/// of a fit at 7 850 parameters (fashion-MNIST, `perf record`); eight chains let the compiler
/// fill whole vector registers (with four it interleaved two chunks and shuffled) and
/// overlap them. The order of the additions differs from a plain sum, by
/// round-off only.
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0f64; 8];
    let (ac, bc) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f64 = ac.remainder().iter().zip(bc.remainder()).map(|(x, y)| x * y).sum();
    for (x, y) in ac.zip(bc) {
        for j in 0..8 {
            acc[j] += x[j] * y[j];
        }
    }
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + tail
}

/// y += a·x (zipped slices, so no bounds checks in the loop and it vectorizes).
fn axpy(a: f64, x: &[f64], y: &mut [f64]) {
    for (yv, xv) in y.iter_mut().zip(x) {
        *yv += a * xv;
    }
}

/// Largest |g_i|.
fn max_abs(g: &[f64]) -> f64 {
    g.iter().fold(0.0f64, |m, v| m.max(v.abs()))
}

/// Sufficient-decrease and curvature constants of the strong Wolfe conditions (N&W §3.1;
/// 0.9 is their recommendation for quasi-Newton methods).
const C1: f64 = 1e-4;
const C2: f64 = 0.9;

/// Evaluate at `x + a d`; returns (f, directional derivative g·d) and leaves the point and
/// its gradient in `x_new`, `g_new`.
fn eval_at<F>(x: &[f64], d: &[f64], a: f64, fg: &mut F, x_new: &mut [f64], g_new: &mut [f64]) -> (f64, f64)
where
    F: FnMut(&[f64], &mut [f64]) -> f64,
{
    for j in 0..x.len() {
        x_new[j] = x[j] + a * d[j];
    }
    let f = fg(x_new, g_new);
    (f, dot(g_new, d))
}

/// Minimizer of the cubic that matches f and f' at `a` and `b` (N&W eq. 3.59), kept
/// inside the middle 80% of the bracket; bisection when it is not defined.
fn cubic_step(a: f64, fa: f64, da: f64, b: f64, fb: f64, db: f64) -> f64 {
    let (lo, hi) = if a < b { (a, b) } else { (b, a) };
    let margin = 0.1 * (hi - lo);
    let mid = 0.5 * (a + b);
    if !(fa.is_finite() && fb.is_finite() && da.is_finite() && db.is_finite()) {
        return mid;
    }
    let d1 = da + db - 3.0 * (fa - fb) / (a - b);
    let disc = d1 * d1 - da * db;
    if disc < 0.0 {
        return mid;
    }
    let d2 = (b - a).signum() * disc.sqrt();
    let t = b - (b - a) * (db + d2 - d1) / (db - da + 2.0 * d2);
    if t.is_finite() && t >= lo + margin && t <= hi - margin {
        t
    } else {
        mid
    }
}

/// Line search for a step satisfying the strong Wolfe conditions (N&W Alg. 3.5 with the
/// `zoom` of Alg. 3.6, cubic interpolation). Returns f at the accepted point, which is left
/// in `x_new` / `g_new`; `None` when no acceptable step was found.
#[allow(clippy::too_many_arguments)]
fn wolfe_search<F>(x: &[f64], d: &[f64], f0: f64, dg0: f64, fg: &mut F, x_new: &mut [f64], g_new: &mut [f64]) -> Option<f64>
where
    F: FnMut(&[f64], &mut [f64]) -> f64,
{
    let (mut a_prev, mut f_prev, mut d_prev) = (0.0, f0, dg0);
    let mut a = 1.0;
    // Bracketing phase: grow the step until the interval must contain a Wolfe point.
    let (mut lo, mut f_lo, mut d_lo, mut hi, mut f_hi, mut d_hi);
    let mut i = 0;
    loop {
        let (fa, da) = eval_at(x, d, a, fg, x_new, g_new);
        if !fa.is_finite() || fa > f0 + C1 * a * dg0 || (i > 0 && fa >= f_prev) {
            (lo, f_lo, d_lo, hi, f_hi, d_hi) = (a_prev, f_prev, d_prev, a, fa, da);
            break;
        }
        if da.abs() <= -C2 * dg0 {
            return Some(fa);
        }
        if da >= 0.0 {
            (lo, f_lo, d_lo, hi, f_hi, d_hi) = (a, fa, da, a_prev, f_prev, d_prev);
            break;
        }
        i += 1;
        if i >= 20 {
            // Still descending after growing the step 2^20 times: take the last point.
            return Some(fa);
        }
        (a_prev, f_prev, d_prev) = (a, fa, da);
        a *= 2.0;
    }
    // Zoom phase: shrink [lo, hi] (lo always satisfies sufficient decrease).
    for _ in 0..40 {
        let a = cubic_step(lo, f_lo, d_lo, hi, f_hi, d_hi);
        let (fa, da) = eval_at(x, d, a, fg, x_new, g_new);
        if !fa.is_finite() || fa > f0 + C1 * a * dg0 || fa >= f_lo {
            (hi, f_hi, d_hi) = (a, fa, da);
        } else {
            if da.abs() <= -C2 * dg0 {
                return Some(fa);
            }
            if da * (hi - lo) >= 0.0 {
                (hi, f_hi, d_hi) = (lo, f_lo, d_lo);
            }
            (lo, f_lo, d_lo) = (a, fa, da);
        }
        if (hi - lo).abs() < 1e-16 * lo.abs().max(1e-16) {
            break;
        }
    }
    // The bracket collapsed (round-off): accept the best sufficient-decrease point, if any.
    if lo > 0.0 {
        let (fa, _) = eval_at(x, d, lo, fg, x_new, g_new);
        return Some(fa);
    }
    None
}

/// Minimize `f` starting from `x` (updated in place). `fg(x, grad)` returns f(x) and writes
/// the gradient into `grad`. `gauge`, when given, replaces the largest |gradient
/// component| in the convergence test: a caller that optimizes in transformed coordinates
/// maps the gradient back to the original ones there, so `gtol` means what it means in
/// those (the search itself runs in the better-conditioned coordinates).
pub fn minimize<F>(x: &mut [f64], params: LbfgsParams, gauge: Option<&dyn Fn(&[f64]) -> f64>, mut fg: F) -> LbfgsResult
where
    F: FnMut(&[f64], &mut [f64]) -> f64,
{
    let n = x.len();
    let mut g = vec![0.0; n];
    let mut f = fg(x, &mut g);
    // History pairs (s, y, 1/s'y), oldest first; once full, the oldest pair's buffers are
    // reused for the next step, so an iteration allocates nothing.
    let mut hist: std::collections::VecDeque<(Vec<f64>, Vec<f64>, f64)> = std::collections::VecDeque::with_capacity(params.memory);
    let mut d = vec![0.0; n];
    let mut x_new = vec![0.0; n];
    let mut g_new = vec![0.0; n];
    let mut alpha_buf = vec![0.0; params.memory];
    let (mut s_buf, mut y_buf) = (vec![0.0; n], vec![0.0; n]);

    for iter in 0..params.max_iter {
        let gmax = max_abs(&g);
        if gauge.map_or(gmax, |m| m(&g)) <= params.gtol * f.abs().max(1.0) {
            return LbfgsResult { f, iterations: iter, converged: true };
        }
        // Two-loop recursion: d = -H g.
        d.copy_from_slice(&g);
        for (i, (s, y, rho)) in hist.iter().enumerate().rev() {
            let a = rho * dot(s, &d);
            alpha_buf[i] = a;
            axpy(-a, y, &mut d);
        }
        // Initial Hessian scaling gamma = s'y / y'y from the newest pair (N&W eq. 7.20).
        let gamma = match hist.back() {
            Some((s, y, _)) => dot(s, y) / dot(y, y),
            // First step: a unit-length step along -g keeps the first line search sane.
            None => 1.0 / gmax.max(1e-12),
        };
        for v in d.iter_mut() {
            *v *= gamma;
        }
        for (i, (s, y, rho)) in hist.iter().enumerate() {
            let b = rho * dot(y, &d);
            axpy(alpha_buf[i] - b, s, &mut d);
        }
        for v in d.iter_mut() {
            *v = -*v;
        }
        let mut dg = dot(&d, &g);
        if dg >= 0.0 {
            // Not a descent direction (numerical trouble): restart from steepest descent.
            hist.clear();
            for j in 0..n {
                d[j] = -g[j] / gmax.max(1e-12);
            }
            dg = dot(&d, &g);
        }
        // Strong Wolfe line search: the curvature condition keeps s'y > 0, so every pair
        // enters the history and the quasi-Newton model stays good on ill-conditioned
        // problems (plain backtracking stalls on raw 0..16 digit pixels).
        let f_new = match wolfe_search(x, &d, f, dg, &mut fg, &mut x_new, &mut g_new) {
            Some(f_new) => f_new,
            None => return LbfgsResult { f, iterations: iter, converged: false },
        };
        for j in 0..n {
            s_buf[j] = x_new[j] - x[j];
            y_buf[j] = g_new[j] - g[j];
        }
        let sy = dot(&s_buf, &y_buf);
        x.copy_from_slice(&x_new);
        g.copy_from_slice(&g_new);
        let f_old = f;
        f = f_new;
        // Keep the pair only when curvature is positive, so H stays positive definite.
        if sy > 1e-12 && params.memory > 0 {
            let recycled = if hist.len() == params.memory { hist.pop_front() } else { None };
            let (s_old, y_old) = recycled.map(|(s, y, _)| (s, y)).unwrap_or_else(|| (vec![0.0; n], vec![0.0; n]));
            let s = std::mem::replace(&mut s_buf, s_old);
            let y = std::mem::replace(&mut y_buf, y_old);
            hist.push_back((s, y, 1.0 / sy));
        }
        if (f_old - f).abs() <= 1e-15 * f_old.abs().max(1.0) {
            return LbfgsResult { f, iterations: iter + 1, converged: true };
        }
    }
    LbfgsResult { f, iterations: params.max_iter, converged: false }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_and_axpy_cover_every_length() {
        // Lengths around the 4-wide chunks, so the remainder path is exercised too.
        for n in 0..11 {
            let a: Vec<f64> = (0..n).map(|i| (i as f64) * 0.5 - 1.0).collect();
            let b: Vec<f64> = (0..n).map(|i| 3.0 - (i * i) as f64 * 0.25).collect();
            let naive: f64 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            assert_eq!(dot(&a, &b), naive, "n = {n}"); // dyadic values: exact in any order
            let mut y = b.clone();
            axpy(2.0, &a, &mut y);
            assert!(y.iter().zip(a.iter().zip(&b)).all(|(v, (x, w))| *v == w + 2.0 * x), "n = {n}");
        }
    }

    #[test]
    fn gauge_decides_convergence() {
        // f = Σ (x_i − 1)² (1 + x_i²/3), not a quadratic, so L-BFGS needs several steps.
        // The gauge reports a gradient 1e3 times smaller, so that run stops once the true
        // gradient is below 1e-3 instead of 1e-6: sooner.
        let fg = |x: &[f64], g: &mut [f64]| {
            let mut f = 0.0;
            for (gi, xi) in g.iter_mut().zip(x) {
                *gi = 2.0 * (xi - 1.0) * (1.0 + xi * xi / 3.0) + (xi - 1.0).powi(2) * 2.0 * xi / 3.0;
                f += (xi - 1.0).powi(2) * (1.0 + xi * xi / 3.0);
            }
            f
        };
        let p = LbfgsParams { gtol: 1e-6, ..Default::default() };
        let mut plain = vec![5.0, -3.0, 2.0];
        let r_plain = minimize(&mut plain, p, None, fg);
        let mut gauged = vec![5.0, -3.0, 2.0];
        let small = |g: &[f64]| max_abs(g) * 1e-3;
        let r_gauged = minimize(&mut gauged, p, Some(&small), fg);
        assert!(r_plain.converged && r_gauged.converged);
        assert!(r_gauged.iterations < r_plain.iterations, "{r_gauged:?} vs {r_plain:?}");
        assert!(plain.iter().all(|v| (v - 1.0).abs() < 1e-6), "{plain:?}");
    }

    #[test]
    fn minimizes_rosenbrock() {
        let mut x = vec![-1.2, 1.0];
        let r = minimize(&mut x, LbfgsParams { max_iter: 2000, ..Default::default() }, None, |x, g| {
            let (a, b) = (x[0], x[1]);
            g[0] = -2.0 * (1.0 - a) - 400.0 * a * (b - a * a);
            g[1] = 200.0 * (b - a * a);
            (1.0 - a).powi(2) + 100.0 * (b - a * a).powi(2)
        });
        assert!(r.converged, "{r:?}");
        assert!((x[0] - 1.0).abs() < 1e-4 && (x[1] - 1.0).abs() < 1e-4, "{x:?}");
    }
}
