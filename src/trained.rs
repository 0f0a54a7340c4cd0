//! A trained model on its own, for export: the learner's fitted model (one model or a
//! committee) with what is needed to use it elsewhere (feature width, class names), and
//! none of the session (no pool, no labels, no undo history). The pool is most of a
//! session snapshot (a 10k × 784 image pool is 31 MB of features); the model is a few
//! hundred kilobytes at most.
//!
//! Wire format (`to_bytes`): postcard of [`ModelFile`], whose first field is the text
//! `marginalia-model` and the second the format version, so foreign bytes and files from a
//! newer version are told apart from corrupt ones. docs/MODEL_FORMAT.md describes the
//! exported zip around it.

use ndarray::{Array2, ArrayView2};
use serde::{Deserialize, Serialize};

use crate::model::fitted::Fitted;
use crate::{Error, Result};

/// The text every model file starts with (postcard writes a length, then these bytes).
pub const MODEL_MAGIC: &str = "marginalia-model";
/// Model file version; bump when [`ModelFile`] or a model's fields change.
pub const MODEL_VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct ModelFile {
    magic: String,
    version: u32,
    model: TrainedModel,
}

/// A fitted model, detached from its session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainedModel {
    pub(crate) fitted: Fitted,
    n_features: usize,
    n_classes: usize,
    class_names: Vec<String>,
}

impl TrainedModel {
    pub(crate) fn new(fitted: Fitted, n_features: usize, n_classes: usize, class_names: Vec<String>) -> Self {
        TrainedModel { fitted, n_features, n_classes, class_names }
    }

    /// Features per sample the model expects.
    pub fn n_features(&self) -> usize {
        self.n_features
    }

    /// Classes (columns of `predict_proba`).
    pub fn n_classes(&self) -> usize {
        self.n_classes
    }

    /// Class names as the session had them (may be fewer than `n_classes`: unnamed slots).
    pub fn class_names(&self) -> &[String] {
        &self.class_names
    }

    /// What the model is: `softmax`, `mlp`, or `committee of k <family>`.
    pub fn kind(&self) -> String {
        self.fitted.kind()
    }

    /// Class probabilities, `rows × n_classes` (a committee's consensus when there is one),
    /// the same numbers the session's `predict_proba` gave.
    pub fn predict_proba(&self, x: ArrayView2<f32>) -> Result<Array2<f32>> {
        if x.ncols() != self.n_features {
            return Err(Error::Shape { what: "feature columns vs the model's width".into(), expected: self.n_features, got: x.ncols() });
        }
        crate::model::check_finite(x)?;
        self.fitted.predict_proba(x)
    }

    /// The model as bytes (see the module docs).
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        postcard::to_allocvec(&ModelFile { magic: MODEL_MAGIC.into(), version: MODEL_VERSION, model: self.clone() })
            .map_err(|e| Error::Format { what: "model file".into(), msg: e.to_string() })
    }

    /// A model from [`TrainedModel::to_bytes`]. Foreign, corrupt or newer files are
    /// `Error::Format` saying which.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let bad = |msg: String| Error::Format { what: "model file".into(), msg };
        // Read the header first, so a newer version is reported as such, not as corruption.
        let (magic, rest): (String, &[u8]) =
            postcard::take_from_bytes(bytes).map_err(|_| bad("not a Marginalia model file".into()))?;
        if magic != MODEL_MAGIC {
            return Err(bad("not a Marginalia model file".into()));
        }
        let (version, _): (u32, &[u8]) = postcard::take_from_bytes(rest).map_err(|e| bad(e.to_string()))?;
        if version != MODEL_VERSION {
            return Err(bad(format!("version {version} is not supported (this build reads version {MODEL_VERSION})")));
        }
        let file: ModelFile = postcard::from_bytes(bytes).map_err(|e| bad(format!("corrupt ({e})")))?;
        let m = file.model;
        if m.n_features == 0 || m.n_classes < 2 || m.class_names.len() > m.n_classes || !m.fitted.consistent(m.n_features, m.n_classes) {
            return Err(bad("inconsistent model (sizes do not agree)".into()));
        }
        Ok(m)
    }
}
