//! The active-learning loop: a pool of samples, the labels taught so far, a model, and the
//! strategy that picks what to ask next. Synchronous and free of JS types, so the same
//! code runs in the browser worker, in native tests and in the simulator.
//!
//! The learner orchestrates; each responsibility has its file: `pool` (the pool, its
//! labels and undo), `fit` (training and prediction), `query` (asking for the next
//! samples), `evaluate` (accuracy without a test set, calibration, stopping), `snapshot`
//! (export, save and restore). The fitted model itself is `crate::model::fitted`.

mod evaluate;
mod fit;
mod pool;
mod query;
mod snapshot;
#[cfg(test)]
mod tests;

use ndarray::{Array2, Axis};
use serde::{Deserialize, Serialize};

use crate::model::any::ModelSpec;
use crate::model::fitted::Fitted;
use crate::strategy::StrategyKind;
use crate::{Error, Result};

/// Committee size used when the strategy needs a committee and none was configured
/// (Settles 2009 notes small committees, 2–5, already work well).
pub const DEFAULT_COMMITTEE: usize = 5;

/// Size of the stop set whose predictions are compared between successive models
/// (Bloodgood & Vijay-Shanker 2009 use 2000 samples drawn at random).
pub const STOP_SET_SIZE: usize = 2000;

/// Models' stop-set predictions kept for the stopping suggestion: the kappa window (3)
/// needs 4; a few more cost little and keep the snapshot small.
const STOP_HISTORY_KEPT: usize = 8;

/// A fitted model as networks for batched pool scoring ([`Learner::scoring_network`]).
#[derive(Debug, Clone, PartialEq)]
pub struct ScoringModel {
    /// One network for a single model; one per member for a committee.
    pub members: Vec<crate::compute::Network>,
    /// A committee: the members output all classes and the strategy wants each member's
    /// probabilities ([`Learner::query_with_member_probs`]).
    pub committee: bool,
}

/// One label change, for undo.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct Change {
    index: usize,
    previous: Option<u32>,
}

/// An active-learning session over a fixed pool.
///
/// The feature rows are stored permuted so that the labelled samples are always the first
/// `n_labelled` rows and the unlabelled ones the rest: fitting and querying then work on
/// two contiguous views of one matrix, with no per-round copy of the pool (which for a
/// 3,000 × 4,096 TF-IDF pool was most of a round). Labelling a sample swaps one row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Learner {
    /// Rows in storage order (see `order`).
    features: Array2<f32>,
    /// Storage row → pool index.
    order: Vec<usize>,
    /// Pool index → storage row.
    row_of: Vec<usize>,
    n_labelled: usize,
    /// Labels by pool index.
    labels: Vec<Option<u32>>,
    n_classes: usize,
    model_spec: ModelSpec,
    /// Committee members (0: a single model unless the strategy needs a committee).
    committee: usize,
    strategy: String,
    batch_size: usize,
    /// `None` until fitted on at least two classes.
    fitted: Option<Fitted>,
    seed: u64,
    rounds: u64,
    class_names: Vec<String>,
    history: Vec<Change>,
    /// Pool rows whose predictions are compared between successive fits (drawn at the
    /// first fit; see [`Learner::stop_suggestion`]).
    stop_set: Vec<usize>,
    /// Each fit's predicted classes on `stop_set`, oldest first (at most STOP_HISTORY_KEPT).
    stop_history: Vec<Vec<u32>>,
    /// Whether each fit records its stop-set predictions (default on). The simulator turns
    /// it off: it never asks for a stop suggestion, and the pass costs a prediction on up
    /// to 2000 rows per round.
    track_stopping: bool,
    /// The temperature the last accuracy estimate fitted on its out-of-fold predictions
    /// ([`crate::calibration`]), for the confidence a person is shown. Not in snapshots
    /// (the wire format stays as it is): the next estimate fits it again.
    #[serde(skip)]
    temperature: Option<f64>,
}

impl Learner {
    /// A session over `features` (one row per sample) with `n_classes` classes, softmax
    /// regression, margin sampling, batches of 1.
    pub fn new(features: Array2<f32>, n_classes: usize, seed: u64) -> Result<Self> {
        if features.nrows() == 0 {
            return Err(Error::Empty("pool".into()));
        }
        if n_classes < 2 {
            return Err(Error::param("n_classes", format!("need at least 2 classes, got {n_classes}")));
        }
        crate::model::check_finite(features.view())?;
        let n = features.nrows();
        Ok(Learner {
            features,
            order: (0..n).collect(),
            row_of: (0..n).collect(),
            n_labelled: 0,
            labels: vec![None; n],
            n_classes,
            model_spec: ModelSpec::default(),
            committee: 0,
            strategy: "auto".into(),
            batch_size: 1,
            fitted: None,
            seed,
            rounds: 0,
            class_names: Vec::new(),
            history: Vec::new(),
            stop_set: Vec::new(),
            stop_history: Vec::new(),
            track_stopping: true,
            temperature: None,
        })
    }

    /// Choose the model (default softmax regression). Takes effect at the next fit.
    pub fn set_model(&mut self, spec: ModelSpec) {
        self.model_spec = spec;
        self.fitted = None;
        self.temperature = None; // fitted for the old model
    }

    /// Committee size: 0 (default) for a single model, else ≥ 2 bootstrap members.
    pub fn set_committee(&mut self, k: usize) -> Result<()> {
        if k == 1 {
            return Err(Error::param("committee", "use 0 for a single model or at least 2 members"));
        }
        self.committee = k;
        self.fitted = None;
        Ok(())
    }

    /// Choose the query strategy by name (see [`StrategyKind::NAMES`]; default "auto", which
    /// starts with typical-cluster sampling and moves to margin-based picks as labels grow).
    pub fn set_strategy(&mut self, name: &str) -> Result<()> {
        StrategyKind::from_name(name)?;
        let before = self.committee_size();
        self.strategy = name.to_string();
        // A committee strategy needs a committee, and a single-model strategy after one
        // should not pay for five fits: drop the fitted model so the next fit builds the
        // right kind.
        if self.committee_size() != before {
            self.fitted = None;
        }
        Ok(())
    }

    /// The label of every pool row, in order (`None`: unlabelled).
    pub fn labels(&self) -> &[Option<u32>] {
        &self.labels
    }

    /// The pool's features, one row per sample in pool-index order (a copy: rows are
    /// stored labelled-first internally).
    pub fn features(&self) -> Array2<f32> {
        self.features.select(Axis(0), &self.row_of)
    }

    /// Number of features per sample.
    pub fn n_features(&self) -> usize {
        self.features.ncols()
    }

    /// The batch size set with [`Learner::set_batch_size`].
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// The strategy's name.
    pub fn strategy(&self) -> &str {
        &self.strategy
    }

    /// Default batch size for [`Learner::query_batch`] (default 1, ≥ 1).
    pub fn set_batch_size(&mut self, b: usize) -> Result<()> {
        if b == 0 {
            return Err(Error::param("batch_size", "must be at least 1"));
        }
        self.batch_size = b;
        Ok(())
    }

    /// Names used in reason strings ("margin 0.03 between 'Shirt' and 'T-shirt'").
    pub fn set_class_names(&mut self, names: Vec<String>) {
        self.class_names = names;
    }

    /// Number of samples in the pool.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True when the pool has no samples (never, after `new` succeeds).
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Number of classes.
    pub fn n_classes(&self) -> usize {
        self.n_classes
    }

    /// Number of labelled samples.
    pub fn labelled_count(&self) -> usize {
        self.n_labelled
    }

    /// The label of a sample, if taught.
    pub fn label(&self, index: usize) -> Option<u32> {
        self.labels.get(index).copied().flatten()
    }

    pub(super) fn check_index(&self, index: usize) -> Result<()> {
        if index >= self.labels.len() {
            return Err(Error::UnknownSample { id: index as u64 });
        }
        Ok(())
    }
}
