//! The fitted model of a learning session: one model, or a bootstrap committee. It lives
//! in `model/` (not in the learner) so that the learner and the exported model
//! (`crate::trained`) both depend on it without depending on each other.

use ndarray::{Array2, ArrayView2};
use serde::{Deserialize, Serialize};

use super::any::ClassMapped;
use super::committee::Committee;
use crate::Result;

/// The fitted model of a session: one model, or a bootstrap committee. Not boxed despite
/// the size difference: a session holds exactly one.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) enum Fitted {
    Single(ClassMapped),
    Committee(Committee),
}

impl Fitted {
    /// Class probabilities (a committee's consensus: the mean of its members').
    pub(crate) fn predict_proba(&self, x: ArrayView2<f32>) -> Result<Array2<f32>> {
        match self {
            Fitted::Single(m) => m.predict_proba(x),
            Fitted::Committee(c) => Ok(Committee::mean_proba(&c.member_proba(x)?)),
        }
    }

    /// `softmax`, `mlp`, or `committee of k <family>`.
    pub(crate) fn kind(&self) -> String {
        match self {
            Fitted::Single(m) => m.family().to_string(),
            Fitted::Committee(c) => format!("committee of {} {}", c.len(), c.members().first().map_or("?", |m| m.family())),
        }
    }

    /// Whether every model fits `d` features and `n_classes` classes (see
    /// [`ClassMapped::consistent`]); for models read from a file.
    pub(crate) fn consistent(&self, d: usize, n_classes: usize) -> bool {
        match self {
            Fitted::Single(m) => m.consistent(d, n_classes),
            Fitted::Committee(c) => c.len() >= 2 && c.members().iter().all(|m| m.consistent(d, n_classes)),
        }
    }
}

/// Each committee member's probabilities, when there is a committee.
pub(crate) type MemberProbs = Option<Vec<Array2<f32>>>;
