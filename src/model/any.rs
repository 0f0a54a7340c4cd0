//! One enum over the model families, so the learner, the committee and the estimate can
//! hold "a softmax regression or an MLP" by value (serializable, no trait objects), and
//! [`ClassMapped`], which fits over the classes present in the labels only.

use ndarray::{Array2, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

use super::mlp::{Mlp, MlpParams};
use super::softmax::{SoftmaxParams, SoftmaxRegression};
use super::Classifier;
use crate::{Error, Result};

/// Which model to build, with its checked hyperparameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ModelSpec {
    Softmax(SoftmaxParams),
    Mlp(MlpParams),
}

/// Softmax settings for the active-learning loop: scikit-learn's defaults (tol 1e-4,
/// max_iter 100, which is what the modAL peer runs) instead of the precise 1e-6 / 2000.
/// The model is refitted after every batch and warm-started from the last fit, so digits
/// past 1e-4 never change a query or a prediction that matters, while they cost 2–3× the
/// iterations on pixel and text pools. Warm-started, 100 iterations leave the model at
/// least as converged as scikit-learn's cold 100.
pub fn loop_softmax() -> SoftmaxParams {
    SoftmaxParams::default().gtol(1e-4).max_iter(100)
}

impl Default for ModelSpec {
    fn default() -> Self {
        ModelSpec::Softmax(loop_softmax())
    }
}

impl ModelSpec {
    /// Every model name `from_name` takes: the one list (the wasm `modelNames` and the
    /// front end's menus are checked against it).
    pub const NAMES: [&'static str; 2] = ["softmax", "mlp"];

    /// Model by name (see `NAMES`) with the loop's default hyperparameters.
    pub fn from_name(name: &str) -> Result<Self> {
        match name {
            "softmax" => Ok(ModelSpec::Softmax(loop_softmax())),
            "mlp" => Ok(ModelSpec::Mlp(MlpParams::default())),
            other => Err(Error::param("model", format!("unknown model '{other}'; known: {}", Self::NAMES.join(", ")))),
        }
    }

    /// An unfitted model; `seed` replaces the MLP's seed (committee members differ by it).
    pub fn build(&self, seed: u64) -> Result<AnyModel> {
        Ok(match self {
            ModelSpec::Softmax(p) => AnyModel::Softmax(p.build()?),
            ModelSpec::Mlp(p) => AnyModel::Mlp(p.clone().seed(seed).build()?),
        })
    }
}

/// A model of either family.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum AnyModel {
    Softmax(SoftmaxRegression),
    Mlp(Mlp),
}

impl Classifier for AnyModel {
    fn fit(&mut self, x: ArrayView2<f32>, y: &[u32], n_classes: usize) -> Result<()> {
        match self {
            AnyModel::Softmax(m) => m.fit(x, y, n_classes),
            AnyModel::Mlp(m) => m.fit(x, y, n_classes),
        }
    }
    fn predict_proba(&self, x: ArrayView2<f32>) -> Result<Array2<f32>> {
        match self {
            AnyModel::Softmax(m) => m.predict_proba(x),
            AnyModel::Mlp(m) => m.predict_proba(x),
        }
    }
    fn n_classes(&self) -> usize {
        match self {
            AnyModel::Softmax(m) => m.n_classes(),
            AnyModel::Mlp(m) => m.n_classes(),
        }
    }
}

/// A model fitted over the classes present in its labels (as scikit-learn does), that
/// predicts all `n_classes` columns: classes never seen get probability 0. With a single
/// class present there is nothing to separate: it predicts that class with certainty.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassMapped {
    spec: ModelSpec,
    seed: u64,
    model: AnyModel,
    /// Present classes at the last fit, in model column order (empty: not fitted).
    classes: Vec<u32>,
    n_classes: usize,
}

impl ClassMapped {
    /// An unfitted model of `spec` over `n_classes` classes.
    pub fn new(spec: ModelSpec, n_classes: usize, seed: u64) -> Result<Self> {
        if n_classes < 2 {
            return Err(Error::param("n_classes", format!("need at least 2 classes, got {n_classes}")));
        }
        let model = spec.build(seed)?;
        Ok(ClassMapped { spec, seed, model, classes: Vec::new(), n_classes })
    }

    /// Classes present at the last fit.
    pub fn classes(&self) -> &[u32] {
        &self.classes
    }

    /// The underlying model.
    pub fn model(&self) -> &AnyModel {
        &self.model
    }

    /// Fit on rows `x` with labels `y` in `0..n_classes`. Warm-starts while the set of
    /// present classes is unchanged; a new class changes the parameter shape, so the
    /// model starts afresh.
    pub fn fit(&mut self, x: ArrayView2<f32>, y: &[u32]) -> Result<()> {
        super::check_labels(x, y, self.n_classes)?;
        super::check_finite(x)?;
        let mut seen = vec![false; self.n_classes];
        for &l in y {
            seen[l as usize] = true;
        }
        let classes: Vec<u32> = (0..self.n_classes as u32).filter(|&c| seen[c as usize]).collect();
        if classes != self.classes {
            self.model = self.spec.build(self.seed)?;
        }
        if classes.len() >= 2 {
            let mut remap = vec![0u32; self.n_classes];
            for (j, &c) in classes.iter().enumerate() {
                remap[c as usize] = j as u32;
            }
            let ym: Vec<u32> = y.iter().map(|&l| remap[l as usize]).collect();
            self.model.fit(x, &ym, classes.len())?;
        }
        self.classes = classes;
        Ok(())
    }

    /// Probabilities over all `n_classes` (n × n_classes).
    pub fn predict_proba(&self, x: ArrayView2<f32>) -> Result<Array2<f32>> {
        let mut full = Array2::<f32>::zeros((x.nrows(), self.n_classes));
        match self.classes.len() {
            0 => return Err(Error::State("model is not fitted".into())),
            1 => {
                super::check_finite(x)?;
                full.column_mut(self.classes[0] as usize).fill(1.0);
            }
            _ => {
                let p = self.model.predict_proba(x)?;
                for (j, &c) in self.classes.iter().enumerate() {
                    full.column_mut(c as usize).assign(&p.column(j));
                }
            }
        }
        Ok(full)
    }

    /// Check that this model fits a session with `d` feature columns and `n_classes`
    /// classes: a snapshot's bytes can decode into a model from another pool (or be
    /// damaged), and predicting with it would index past its columns or classes. The
    /// error names what disagrees and both numbers.
    pub fn check_shape(&self, d: usize, n_classes: usize) -> Result<()> {
        if self.n_classes != n_classes {
            return Err(Error::Shape { what: "model classes vs session classes".into(), expected: n_classes, got: self.n_classes });
        }
        if let Some(&c) = self.classes.iter().find(|&&c| c as usize >= n_classes) {
            return Err(Error::Format { what: "model".into(), msg: format!("present class {c} is out of range: there are {n_classes} classes") });
        }
        if !self.classes.windows(2).all(|w| w[0] < w[1]) {
            return Err(Error::Format { what: "model".into(), msg: "present classes are not in ascending order".into() });
        }
        let width = match &self.model {
            AnyModel::Softmax(m) => m.input_width()?,
            AnyModel::Mlp(m) => m.input_width()?,
        };
        match (width, self.classes.len() >= 2) {
            (Some(w), _) if w != d => Err(Error::Shape { what: "model input width vs pool feature columns".into(), expected: d, got: w }),
            (Some(_), true) if self.model.n_classes() != self.classes.len() => Err(Error::Shape {
                what: "model outputs vs classes present at its fit".into(),
                expected: self.classes.len(),
                got: self.model.n_classes(),
            }),
            (None, true) => Err(Error::Format { what: "model".into(), msg: format!("{} classes present but no fitted weights", self.classes.len()) }),
            _ => Ok(()),
        }
    }

    /// The fitted model as an f32 network over `d` features for batched pool scoring
    /// (`compute`). Its outputs are the classes present at the fit (`classes()`), or all
    /// `n_classes` when `all_classes` (absent ones get probability exactly 0, as
    /// `predict_proba` gives them; a single present class is predicted with certainty).
    /// `None` before a fit, or with a single class and not `all_classes`.
    pub fn scoring_network(&self, d: usize, all_classes: bool) -> Option<crate::compute::Network> {
        use crate::compute::cpu;
        match self.classes.len() {
            0 => None,
            1 if all_classes => cpu::certain_network(d, self.classes[0], self.n_classes).ok(),
            1 => None,
            _ => {
                let net = match &self.model {
                    AnyModel::Softmax(s) => {
                        let (w, b) = s.coefficients();
                        cpu::softmax_network(w, b).ok()?
                    }
                    AnyModel::Mlp(m) => cpu::dense_network(&m.layers()).ok()?,
                };
                if net.d_in() != d {
                    return None;
                }
                if all_classes {
                    cpu::widen_classes(net, &self.classes, self.n_classes).ok()
                } else {
                    Some(net)
                }
            }
        }
    }

    /// Whether this model can be used on `d` features over `n_classes` classes: the class
    /// map names distinct classes below `n_classes`, and the fitted parameters have the
    /// matching shape. For models read from a file.
    pub fn consistent(&self, d: usize, n_classes: usize) -> bool {
        !self.classes.is_empty() && self.check_shape(d, n_classes).is_ok()
    }

    /// The model family: `softmax` or `mlp` (the names `ModelSpec::from_name` takes).
    pub fn family(&self) -> &'static str {
        match self.spec {
            ModelSpec::Softmax(_) => "softmax",
            ModelSpec::Mlp(_) => "mlp",
        }
    }

    /// The MLP's last hidden layer for `x`, when the model is an MLP fitted on ≥ 2 classes.
    pub fn embeddings(&self, x: ArrayView2<f32>) -> Option<Array2<f32>> {
        match (&self.model, self.classes.len() >= 2) {
            (AnyModel::Mlp(m), true) => m.hidden_representation(x).ok(),
            _ => None,
        }
    }
}

/// Index of the largest value in each row (first on ties).
pub fn argmax_rows(p: ArrayView2<f32>) -> Vec<u32> {
    p.axis_iter(Axis(0))
        .map(|r| r.iter().enumerate().fold((0usize, f32::NEG_INFINITY), |b, (j, &v)| if v > b.1 { (j, v) } else { b }).0 as u32)
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_model_name_builds_and_names_its_family() {
        for name in ModelSpec::NAMES {
            let spec = ModelSpec::from_name(name).unwrap();
            assert_eq!(ClassMapped::new(spec, 3, 0).unwrap().family(), name);
        }
        let e = ModelSpec::from_name("forest").unwrap_err().to_string();
        assert!(e.contains("known: softmax, mlp"), "{e}");
    }

    use super::*;
    use ndarray::array;

    #[test]
    fn maps_present_classes_and_handles_one_class() {
        let x = array![[0.0f32, 1.0], [0.1, 0.9], [1.0, 0.0], [0.9, 0.1]];
        let mut m = ClassMapped::new(ModelSpec::default(), 4, 0).unwrap();
        assert!(m.predict_proba(x.view()).is_err());
        m.fit(x.view(), &[2, 2, 2, 2]).unwrap();
        assert_eq!(m.predict_proba(x.view()).unwrap().column(2).to_vec(), [1.0; 4]);
        m.fit(x.view(), &[3, 3, 1, 1]).unwrap();
        let p = m.predict_proba(x.view()).unwrap();
        assert_eq!(p.column(0).sum() + p.column(2).sum(), 0.0, "absent classes get 0");
        assert_eq!(argmax_rows(p.view()), [3, 3, 1, 1]);
        assert!(matches!(m.fit(x.view(), &[0, 4, 0, 0]), Err(Error::LabelOutOfRange { row: 1, .. })));
        assert!(ModelSpec::from_name("svm").is_err());
    }
}
