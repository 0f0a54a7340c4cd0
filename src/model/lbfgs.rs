//! Limited-memory BFGS (Nocedal & Wright, *Numerical Optimization*, 2nd ed., Alg. 7.4 and
//! 7.5) with a backtracking Armijo line search. Hand-written because the crates that offer
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

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Minimize `f` starting from `x` (updated in place). `fg(x, grad)` returns f(x) and writes
/// the gradient into `grad`.
pub fn minimize<F>(x: &mut [f64], params: LbfgsParams, mut fg: F) -> LbfgsResult
where
    F: FnMut(&[f64], &mut [f64]) -> f64,
{
    let n = x.len();
    let mut g = vec![0.0; n];
    let mut f = fg(x, &mut g);
    let mut s_hist: Vec<Vec<f64>> = Vec::new();
    let mut y_hist: Vec<Vec<f64>> = Vec::new();
    let mut rho_hist: Vec<f64> = Vec::new();
    let mut d = vec![0.0; n];
    let mut x_new = vec![0.0; n];
    let mut g_new = vec![0.0; n];
    let mut alpha_buf = vec![0.0; params.memory];

    for iter in 0..params.max_iter {
        let gmax = g.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        if gmax <= params.gtol * f.abs().max(1.0) {
            return LbfgsResult { f, iterations: iter, converged: true };
        }
        // Two-loop recursion: d = -H g.
        d.copy_from_slice(&g);
        let k = s_hist.len();
        for i in (0..k).rev() {
            let a = rho_hist[i] * dot(&s_hist[i], &d);
            alpha_buf[i] = a;
            for j in 0..n {
                d[j] -= a * y_hist[i][j];
            }
        }
        // Initial Hessian scaling gamma = s'y / y'y from the newest pair (N&W eq. 7.20).
        let gamma = if k > 0 { dot(&s_hist[k - 1], &y_hist[k - 1]) / dot(&y_hist[k - 1], &y_hist[k - 1]) } else {
            // First step: a unit-length step along -g keeps the first line search sane.
            1.0 / gmax.max(1e-12)
        };
        for v in d.iter_mut() {
            *v *= gamma;
        }
        for i in 0..k {
            let b = rho_hist[i] * dot(&y_hist[i], &d);
            for j in 0..n {
                d[j] += s_hist[i][j] * (alpha_buf[i] - b);
            }
        }
        for v in d.iter_mut() {
            *v = -*v;
        }
        let mut dg = dot(&d, &g);
        if dg >= 0.0 {
            // Not a descent direction (numerical trouble): restart from steepest descent.
            s_hist.clear();
            y_hist.clear();
            rho_hist.clear();
            for j in 0..n {
                d[j] = -g[j] / gmax.max(1e-12);
            }
            dg = dot(&d, &g);
        }
        // Backtracking Armijo line search.
        let mut step = 1.0;
        let mut accepted = false;
        let mut f_new = f;
        for _ in 0..40 {
            for j in 0..n {
                x_new[j] = x[j] + step * d[j];
            }
            f_new = fg(&x_new, &mut g_new);
            if f_new.is_finite() && f_new <= f + 1e-4 * step * dg {
                accepted = true;
                break;
            }
            step *= 0.5;
        }
        if !accepted {
            return LbfgsResult { f, iterations: iter, converged: false };
        }
        let s: Vec<f64> = (0..n).map(|j| x_new[j] - x[j]).collect();
        let y: Vec<f64> = (0..n).map(|j| g_new[j] - g[j]).collect();
        let sy = dot(&s, &y);
        x.copy_from_slice(&x_new);
        g.copy_from_slice(&g_new);
        let f_old = f;
        f = f_new;
        // Keep the pair only when curvature is positive, so H stays positive definite.
        if sy > 1e-12 {
            if s_hist.len() == params.memory {
                s_hist.remove(0);
                y_hist.remove(0);
                rho_hist.remove(0);
            }
            s_hist.push(s);
            y_hist.push(y);
            rho_hist.push(1.0 / sy);
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
    fn minimizes_rosenbrock() {
        let mut x = vec![-1.2, 1.0];
        let r = minimize(&mut x, LbfgsParams { max_iter: 2000, ..Default::default() }, |x, g| {
            let (a, b) = (x[0], x[1]);
            g[0] = -2.0 * (1.0 - a) - 400.0 * a * (b - a * a);
            g[1] = 200.0 * (b - a * a);
            (1.0 - a).powi(2) + 100.0 * (b - a * a).powi(2)
        });
        assert!(r.converged, "{r:?}");
        assert!((x[0] - 1.0).abs() < 1e-4 && (x[1] - 1.0).abs() < 1e-4, "{x:?}");
    }
}
