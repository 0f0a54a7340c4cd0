//! Multi-layer perceptron: 1–2 hidden ReLU layers, softmax output, trained with Adam
//! (Kingma & Ba 2015) on the cross-entropy plus an L2 weight penalty, with early stopping
//! on a held-out part of the labelled set (Prechelt 1998, "Early stopping — but when?").
//!
//! Objective on a minibatch B:  (1/|B|) Σ_{i∈B} −log softmax(f(x_i))_{y_i} + (λ/2) Σ_l ‖W_l‖²
//! (biases are not penalized), as scikit-learn's `MLPClassifier(alpha=λ)` up to its 1/n.
//! Parameters are f64 so the finite-difference test is exact to 1e-7 and restored
//! snapshots predict bit for bit; the pool stays f32.

use ndarray::{s, Array1, Array2, ArrayView2, Axis};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::{check_finite, check_labels, Classifier};
use crate::{Error, Result};

/// Hyperparameters, checked by [`MlpParams::build`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MlpParams {
    hidden: Vec<usize>,
    learning_rate: f64,
    weight_decay: f64,
    max_epochs: usize,
    batch_size: usize,
    patience: usize,
    validation_fraction: f64,
    min_validation: usize,
    seed: u64,
}

impl Default for MlpParams {
    fn default() -> Self {
        MlpParams {
            hidden: vec![64],
            learning_rate: 1e-3,
            weight_decay: 1e-4,
            max_epochs: 200,
            batch_size: 32,
            patience: 10,
            validation_fraction: 0.1,
            min_validation: 10,
            seed: 0,
        }
    }
}

impl MlpParams {
    /// Hidden layer widths (default `[64]`; one or two layers, each ≥ 1).
    pub fn hidden(mut self, widths: &[usize]) -> Self {
        self.hidden = widths.to_vec();
        self
    }
    /// Adam step size (default 1e-3, > 0).
    pub fn learning_rate(mut self, v: f64) -> Self {
        self.learning_rate = v;
        self
    }
    /// L2 penalty λ on the weights (default 1e-4, ≥ 0).
    pub fn weight_decay(mut self, v: f64) -> Self {
        self.weight_decay = v;
        self
    }
    /// Epoch cap per fit (default 200, ≥ 1).
    pub fn max_epochs(mut self, n: usize) -> Self {
        self.max_epochs = n;
        self
    }
    /// Minibatch size (default 32, ≥ 1).
    pub fn batch_size(mut self, n: usize) -> Self {
        self.batch_size = n;
        self
    }
    /// Epochs without improvement before stopping (default 10, ≥ 1).
    pub fn patience(mut self, n: usize) -> Self {
        self.patience = n;
        self
    }
    /// Share of the labelled set held out for early stopping (default 0.1, in [0, 0.5]).
    pub fn validation_fraction(mut self, f: f64) -> Self {
        self.validation_fraction = f;
        self
    }
    /// Smallest held-out part worth trusting (default 10): below it, early stopping
    /// watches the training loss instead (a 3-sample validation loss is mostly noise).
    pub fn min_validation(mut self, n: usize) -> Self {
        self.min_validation = n;
        self
    }
    /// Seed for initialization, shuffling and the held-out split (default 0).
    pub fn seed(mut self, s: u64) -> Self {
        self.seed = s;
        self
    }

    /// Validate and make an unfitted network.
    pub fn build(self) -> Result<Mlp> {
        if self.hidden.is_empty() || self.hidden.len() > 2 || self.hidden.contains(&0) {
            return Err(Error::param("hidden", format!("need one or two layers of width ≥ 1, got {:?}", self.hidden)));
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return Err(Error::param("learning_rate", format!("must be positive, got {}", self.learning_rate)));
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return Err(Error::param("weight_decay", format!("must be ≥ 0, got {}", self.weight_decay)));
        }
        if self.max_epochs == 0 || self.batch_size == 0 || self.patience == 0 {
            return Err(Error::param("max_epochs/batch_size/patience", "must be at least 1"));
        }
        if !(0.0..=0.5).contains(&self.validation_fraction) {
            return Err(Error::param("validation_fraction", format!("must be in [0, 0.5], got {}", self.validation_fraction)));
        }
        Ok(Mlp { params: self, layers: Vec::new(), fits: 0, last_epochs: 0 })
    }
}

/// One dense layer: `in × out` weights and `out` biases.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Layer {
    w: Array2<f64>,
    b: Array1<f64>,
}

/// A fitted (or not yet fitted) network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mlp {
    params: MlpParams,
    layers: Vec<Layer>,
    /// Fits so far: each fit draws its shuffles from (seed, fits), so a restored session
    /// continues exactly as the original would.
    fits: u64,
    last_epochs: usize,
}

fn softmax_rows(z: &mut Array2<f64>) {
    for mut row in z.rows_mut() {
        let m = row.fold(f64::NEG_INFINITY, |a, &b| a.max(b));
        let mut sum = 0.0;
        row.mapv_inplace(|v| {
            let e = (v - m).exp();
            sum += e;
            e
        });
        row.mapv_inplace(|v| v / sum);
    }
}

/// Activations of every layer: `[x, h_1, ..., softmax output]`.
fn forward(layers: &[Layer], x: &Array2<f64>) -> Vec<Array2<f64>> {
    let mut acts = vec![x.clone()];
    for (l, layer) in layers.iter().enumerate() {
        let mut z = acts[l].dot(&layer.w) + &layer.b;
        if l + 1 < layers.len() {
            z.mapv_inplace(|v| v.max(0.0));
        } else {
            softmax_rows(&mut z);
        }
        acts.push(z);
    }
    acts
}

/// Mean cross-entropy plus (λ/2) Σ ‖W‖², and its gradient by backpropagation.
fn loss_and_grad(layers: &[Layer], x: &Array2<f64>, y: &[u32], lambda: f64) -> (f64, Vec<Layer>) {
    let n = x.nrows() as f64;
    let acts = forward(layers, x);
    let p = acts.last().expect("at least one layer");
    let mut loss = y.iter().enumerate().map(|(i, &t)| -p[[i, t as usize]].max(1e-300).ln()).sum::<f64>() / n;
    // δ at the output: (P − Y) / n.
    let mut delta = p.clone();
    for (i, &t) in y.iter().enumerate() {
        delta[[i, t as usize]] -= 1.0;
    }
    delta /= n;
    let mut grads = Vec::with_capacity(layers.len());
    for l in (0..layers.len()).rev() {
        let layer = &layers[l];
        loss += 0.5 * lambda * layer.w.iter().map(|v| v * v).sum::<f64>();
        let gw = acts[l].t().dot(&delta) + &(&layer.w * lambda);
        let gb = delta.sum_axis(Axis(0));
        if l > 0 {
            let mut back = delta.dot(&layer.w.t());
            // ReLU passes gradient only where its output was positive.
            back.zip_mut_with(&acts[l], |g, &a| {
                if a <= 0.0 {
                    *g = 0.0
                }
            });
            delta = back;
        }
        grads.push(Layer { w: gw, b: gb });
    }
    grads.reverse();
    (loss, grads)
}

/// Adam moments for every parameter.
struct Adam {
    m: Vec<Layer>,
    v: Vec<Layer>,
    t: i32,
}

impl Adam {
    fn new(layers: &[Layer]) -> Self {
        let zeros = || layers.iter().map(|l| Layer { w: Array2::zeros(l.w.dim()), b: Array1::zeros(l.b.len()) }).collect();
        Adam { m: zeros(), v: zeros(), t: 0 }
    }

    /// θ ← θ − η m̂ / (√v̂ + ε), with bias-corrected moments (Kingma & Ba, Alg. 1).
    fn step(&mut self, layers: &mut [Layer], grads: &[Layer], lr: f64) {
        const B1: f64 = 0.9;
        const B2: f64 = 0.999;
        const EPS: f64 = 1e-8;
        self.t += 1;
        let c1 = 1.0 - B1.powi(self.t);
        let c2 = 1.0 - B2.powi(self.t);
        let update = |p: &mut f64, g: f64, m: &mut f64, v: &mut f64| {
            *m = B1 * *m + (1.0 - B1) * g;
            *v = B2 * *v + (1.0 - B2) * g * g;
            *p -= lr * (*m / c1) / ((*v / c2).sqrt() + EPS);
        };
        for (l, g) in grads.iter().enumerate() {
            let (m, v) = (&mut self.m[l], &mut self.v[l]);
            for (((p, &gv), mv), vv) in layers[l].w.iter_mut().zip(&g.w).zip(m.w.iter_mut()).zip(v.w.iter_mut()) {
                update(p, gv, mv, vv);
            }
            for (((p, &gv), mv), vv) in layers[l].b.iter_mut().zip(&g.b).zip(m.b.iter_mut()).zip(v.b.iter_mut()) {
                update(p, gv, mv, vv);
            }
        }
    }
}

impl Mlp {
    /// He-uniform initialization (He et al. 2015): U(±√(6 / fan_in)), suited to ReLU.
    fn init(&self, d: usize, k: usize, rng: &mut ChaCha8Rng) -> Vec<Layer> {
        let mut widths = vec![d];
        widths.extend(&self.params.hidden);
        widths.push(k);
        widths
            .windows(2)
            .map(|io| {
                let bound = (6.0 / io[0] as f64).sqrt();
                let w = Array2::from_shape_fn((io[0], io[1]), |_| (rng.random::<f64>() * 2.0 - 1.0) * bound);
                Layer { w, b: Array1::zeros(io[1]) }
            })
            .collect()
    }

    fn shapes_match(&self, d: usize, k: usize) -> bool {
        let mut widths = vec![d];
        widths.extend(&self.params.hidden);
        widths.push(k);
        self.layers.len() + 1 == widths.len()
            && self.layers.iter().zip(widths.windows(2)).all(|(l, io)| l.w.dim() == (io[0], io[1]))
    }

    /// Epochs the last fit ran.
    pub fn last_epochs(&self) -> usize {
        self.last_epochs
    }

    /// The last hidden layer's activations (n × width), a learned representation of the
    /// rows for gradient embeddings (BADGE).
    /// Whether the layers chain from `d` inputs to `k` outputs (a model read from a file
    /// is checked before use: a mismatch would otherwise panic inside a product).
    pub fn shape_is(&self, d: usize, k: usize) -> bool {
        let mut width = d;
        for l in &self.layers {
            if l.w.nrows() != width || l.b.len() != l.w.ncols() {
                return false;
            }
            width = l.w.ncols();
        }
        !self.layers.is_empty() && width == k
    }

    pub fn hidden_representation(&self, x: ArrayView2<f32>) -> Result<Array2<f32>> {
        if self.layers.is_empty() {
            return Err(Error::State("model is not fitted".into()));
        }
        let acts = forward(&self.layers, &x.mapv(|v| v as f64));
        Ok(acts[acts.len() - 2].mapv(|v| v as f32))
    }

    fn mean_loss(&self, x: &Array2<f64>, y: &[u32]) -> f64 {
        let p = forward(&self.layers, x).pop().expect("output layer");
        y.iter().enumerate().map(|(i, &t)| -p[[i, t as usize]].max(1e-300).ln()).sum::<f64>() / y.len().max(1) as f64
    }
}

impl Classifier for Mlp {
    /// Warm-starts from the previous weights when the shapes still match (continuing to
    /// train is cheaper and, with early stopping, no worse than starting over).
    fn fit(&mut self, x: ArrayView2<f32>, y: &[u32], n_classes: usize) -> Result<()> {
        check_labels(x, y, n_classes)?;
        check_finite(x)?;
        let (n, d) = x.dim();
        let mut rng = ChaCha8Rng::seed_from_u64(self.params.seed ^ self.fits.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        self.fits += 1;
        if !self.shapes_match(d, n_classes) {
            self.layers = self.init(d, n_classes, &mut rng);
        }
        let xf = x.mapv(|v| v as f64);
        let mut order: Vec<usize> = (0..n).collect();
        order.shuffle(&mut rng);
        let n_val = (n as f64 * self.params.validation_fraction).round() as usize;
        let use_val = n_val >= self.params.min_validation && n - n_val >= 2;
        let (val_rows, train_rows) = if use_val { order.split_at(n_val) } else { order.split_at(0) };
        let mut train_rows = train_rows.to_vec();
        let xv = xf.select(Axis(0), val_rows);
        let yv: Vec<u32> = val_rows.iter().map(|&i| y[i]).collect();
        let mut adam = Adam::new(&self.layers);
        let mut best = (f64::INFINITY, self.layers.clone());
        let mut bad = 0;
        let mut epochs = 0;
        for _ in 0..self.params.max_epochs {
            epochs += 1;
            train_rows.shuffle(&mut rng);
            for chunk in train_rows.chunks(self.params.batch_size) {
                let xb = xf.select(Axis(0), chunk);
                let yb: Vec<u32> = chunk.iter().map(|&i| y[i]).collect();
                let (_, grads) = loss_and_grad(&self.layers, &xb, &yb, self.params.weight_decay);
                adam.step(&mut self.layers, &grads, self.params.learning_rate);
            }
            let watched = if use_val {
                self.mean_loss(&xv, &yv)
            } else {
                let yt: Vec<u32> = train_rows.iter().map(|&i| y[i]).collect();
                self.mean_loss(&xf.select(Axis(0), &train_rows), &yt)
            };
            if !watched.is_finite() {
                break;
            }
            // sklearn's tol: an improvement under 1e-4 does not count.
            if watched < best.0 - 1e-4 {
                best = (watched, self.layers.clone());
                bad = 0;
            } else {
                bad += 1;
                if bad >= self.params.patience {
                    break;
                }
            }
        }
        if best.0.is_finite() {
            self.layers = best.1;
        }
        self.last_epochs = epochs;
        Ok(())
    }

    fn predict_proba(&self, x: ArrayView2<f32>) -> Result<Array2<f32>> {
        let Some(first) = self.layers.first() else {
            return Err(Error::State("model is not fitted".into()));
        };
        if x.ncols() != first.w.nrows() {
            return Err(Error::Shape { what: "feature columns".into(), expected: first.w.nrows(), got: x.ncols() });
        }
        check_finite(x)?;
        let mut out = Array2::<f32>::zeros((x.nrows(), self.n_classes()));
        const CHUNK: usize = 4096;
        let mut start = 0;
        while start < x.nrows() {
            let end = (start + CHUNK).min(x.nrows());
            let p = forward(&self.layers, &x.slice(s![start..end, ..]).mapv(|v| v as f64)).pop().expect("output layer");
            out.slice_mut(s![start..end, ..]).assign(&p.mapv(|v| v as f32));
            start = end;
        }
        Ok(out)
    }

    fn n_classes(&self) -> usize {
        self.layers.last().map_or(0, |l| l.b.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn gradient_matches_finite_differences() {
        let params = MlpParams::default().hidden(&[4, 3]).seed(7);
        let mlp = params.build().unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let layers = mlp.init(3, 3, &mut rng);
        let x = array![[0.5, -1.0, 2.0], [1.5, 0.3, -0.7], [-0.2, 0.8, 0.1], [2.0, -0.5, 0.4], [0.0, 1.0, -1.0]];
        let y = [0u32, 1, 2, 1, 0];
        let lambda = 0.05;
        let (_, grads) = loss_and_grad(&layers, &x, &y, lambda);
        let h = 1e-6;
        for l in 0..layers.len() {
            for idx in 0..layers[l].w.len() + layers[l].b.len() {
                let bump = |delta: f64| {
                    let mut ls = layers.clone();
                    let nw = ls[l].w.len();
                    if idx < nw {
                        ls[l].w.as_slice_mut().unwrap()[idx] += delta;
                    } else {
                        ls[l].b[idx - nw] += delta;
                    }
                    loss_and_grad(&ls, &x, &y, lambda).0
                };
                let fd = (bump(h) - bump(-h)) / (2.0 * h);
                let nw = layers[l].w.len();
                let g = if idx < nw { grads[l].w.as_slice().unwrap()[idx] } else { grads[l].b[idx - nw] };
                assert!((fd - g).abs() < 1e-6, "layer {l} param {idx}: analytic {g} vs numeric {fd}");
            }
        }
    }

    fn accuracy(m: &Mlp, x: &Array2<f32>, y: &[u32]) -> f64 {
        let p = m.predict_proba(x.view()).unwrap();
        let hits = p.rows().into_iter().zip(y).filter(|(r, &t)| {
            let best = r.iter().enumerate().fold((0, f32::MIN), |b, (j, &v)| if v > b.1 { (j, v) } else { b }).0;
            best as u32 == t
        });
        hits.count() as f64 / y.len() as f64
    }

    #[test]
    fn learns_xor() {
        // XOR is not linearly separable: a softmax regression cannot pass this test.
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut x = Vec::new();
        let mut y = Vec::new();
        for i in 0..80 {
            let (a, b) = ((i % 2) as f32, ((i / 2) % 2) as f32);
            x.extend([a + (rng.random::<f32>() - 0.5) * 0.2, b + (rng.random::<f32>() - 0.5) * 0.2]);
            y.push(((i % 2) ^ ((i / 2) % 2)) as u32);
        }
        let x = Array2::from_shape_vec((80, 2), x).unwrap();
        let mut m = MlpParams::default().hidden(&[16]).learning_rate(0.01).max_epochs(500).min_validation(1000).seed(1).build().unwrap();
        m.fit(x.view(), &y, 2).unwrap();
        assert_eq!(accuracy(&m, &x, &y), 1.0);
    }

    #[test]
    fn learns_blobs_with_early_stopping_and_is_seeded() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let mut x = Vec::new();
        let mut y = Vec::new();
        for i in 0..300 {
            let c = i % 3;
            let (cx, cy) = [(0.0, 0.0), (3.0, 0.0), (0.0, 3.0)][c];
            x.extend([cx + rng.random::<f32>() - 0.5, cy + rng.random::<f32>() - 0.5]);
            y.push(c as u32);
        }
        let x = Array2::from_shape_vec((300, 2), x).unwrap();
        let params = MlpParams::default().hidden(&[8, 8]).learning_rate(0.01).seed(2);
        let mut m = params.clone().build().unwrap();
        m.fit(x.view(), &y, 3).unwrap();
        assert!(accuracy(&m, &x, &y) > 0.97);
        assert!(m.last_epochs() < 200, "early stopping should end before the cap, ran {}", m.last_epochs());
        let mut again = params.build().unwrap();
        again.fit(x.view(), &y, 3).unwrap();
        assert_eq!(m, again, "same seed, same network");
        assert!(MlpParams::default().hidden(&[1, 2, 3]).build().is_err());
        assert!(MlpParams::default().learning_rate(0.0).build().is_err());
    }
}
