//! The active-learning loop: a pool of samples, the labels taught so far, a model, and the
//! strategy that picks what to ask next. Synchronous and free of JS types, so the same
//! code runs in the browser worker, in native tests and in the simulator.

use ndarray::{s, Array2, ArrayView2, Axis};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::estimate::{cross_validate, CvEstimate};
use crate::model::any::{argmax_rows, ClassMapped, ModelSpec};
use crate::model::committee::Committee;
use crate::stopping::{choose_stop_set, suggest, StopInput, StopParams, StopSuggestion};
use crate::strategy::{Context, Query, StrategyKind};
use crate::trained::TrainedModel;
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
type MemberProbs = Option<Vec<Array2<f32>>>;

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

/// Snapshot wire format version; bump when `Learner`'s fields change.
/// 2: stop set and its prediction history.
const SNAPSHOT_VERSION: u32 = 2;

#[derive(Serialize, Deserialize)]
struct Snapshot {
    version: u32,
    learner: Learner,
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

    /// Append samples to the pool (unlabelled), keeping labels, model and undo history;
    /// returns the index of the first new row. The npm package grows its pool as the
    /// app adds samples, and rebuilding the learner would lose the fitted model.
    pub fn add_samples(&mut self, rows: ArrayView2<f32>) -> Result<usize> {
        if rows.ncols() != self.features.ncols() {
            return Err(Error::Shape { what: "new samples' feature count vs pool".into(), expected: self.features.ncols(), got: rows.ncols() });
        }
        let first = self.labels.len();
        crate::model::check_finite(rows).map_err(|e| match e {
            Error::NonFinite { row, col, value } => Error::NonFinite { row: row + first, col, value },
            other => other,
        })?;
        self.features
            .append(Axis(0), rows)
            .map_err(|e| Error::Format { what: "new samples".into(), msg: e.to_string() })?;
        self.labels.resize(self.labels.len() + rows.nrows(), None);
        // New rows are unlabelled and stored at the end, which is in the unlabelled region.
        self.order.extend(first..first + rows.nrows());
        self.row_of.extend(first..first + rows.nrows());
        // A stop set drawn from a smaller pool than STOP_SET_SIZE is a poor sample of the
        // grown one: draw again at the next fit. Its predictions were on other rows, so
        // they cannot be compared with the new set's and go too.
        if self.stop_set.len() < STOP_SET_SIZE && rows.nrows() > 0 {
            self.stop_set.clear();
            self.stop_history.clear();
        }
        Ok(first)
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

    fn check_index(&self, index: usize) -> Result<()> {
        if index >= self.labels.len() {
            return Err(Error::UnknownSample { id: index as u64 });
        }
        Ok(())
    }

    /// Swap storage rows `a` and `b`, keeping the index maps in step.
    fn swap_rows(&mut self, a: usize, b: usize) {
        if a == b {
            return;
        }
        let (ia, ib) = (self.order[a], self.order[b]);
        for c in 0..self.features.ncols() {
            self.features.swap([a, c], [b, c]);
        }
        self.order.swap(a, b);
        self.row_of[ia] = b;
        self.row_of[ib] = a;
    }

    /// Set a label, moving the row across the labelled/unlabelled boundary if needed.
    fn apply(&mut self, index: usize, label: Option<u32>) {
        let row = self.row_of[index];
        match (self.labels[index].is_some(), label.is_some()) {
            (false, true) => {
                self.swap_rows(row, self.n_labelled);
                self.n_labelled += 1;
            }
            (true, false) => {
                self.n_labelled -= 1;
                self.swap_rows(row, self.n_labelled);
            }
            _ => {}
        }
        self.labels[index] = label;
    }

    fn set_label(&mut self, index: usize, label: Option<u32>) {
        self.history.push(Change { index, previous: self.labels[index] });
        self.apply(index, label);
    }

    /// Record a label (replacing any earlier one). Does not refit: call [`Learner::fit`].
    pub fn teach(&mut self, index: usize, label: u32) -> Result<()> {
        self.check_index(index)?;
        if label as usize >= self.n_classes {
            return Err(Error::LabelOutOfRange { row: index, label, n_classes: self.n_classes });
        }
        self.set_label(index, Some(label));
        Ok(())
    }

    /// Record several labels at once, all or none: an index out of range, a label out of
    /// range or the same index twice rejects the whole batch.
    pub fn teach_many(&mut self, pairs: &[(usize, u32)]) -> Result<()> {
        let mut seen = std::collections::HashSet::new();
        for &(index, label) in pairs {
            self.check_index(index)?;
            if label as usize >= self.n_classes {
                return Err(Error::LabelOutOfRange { row: index, label, n_classes: self.n_classes });
            }
            if !seen.insert(index) {
                return Err(Error::DuplicateSample { id: index as u64 });
            }
        }
        for &(index, label) in pairs {
            self.set_label(index, Some(label));
        }
        Ok(())
    }

    /// Remove a label.
    pub fn forget(&mut self, index: usize) -> Result<()> {
        self.check_index(index)?;
        self.set_label(index, None);
        Ok(())
    }

    /// Undo the last `teach` or `forget` (each label of a `teach_many` is one step).
    /// Returns the sample index restored, or `None` when there is nothing to undo.
    /// Does not refit.
    pub fn undo(&mut self) -> Option<usize> {
        let change = self.history.pop()?;
        self.apply(change.index, change.previous);
        Some(change.index)
    }

    /// The labelled rows (a view, no copy) and their labels, in storage order.
    fn labelled_set(&self) -> (ArrayView2<'_, f32>, Vec<u32>) {
        let y = self.order[..self.n_labelled].iter().filter_map(|&i| self.labels[i]).collect();
        (self.features.slice(s![..self.n_labelled, ..]), y)
    }

    /// True when the model has been fitted on at least two classes.
    pub fn is_fitted(&self) -> bool {
        self.fitted.is_some()
    }

    fn committee_size(&self) -> usize {
        let needs = StrategyKind::from_name(&self.strategy).map(|k| k.needs_committee()).unwrap_or(false);
        if self.committee == 0 && needs {
            DEFAULT_COMMITTEE
        } else {
            self.committee
        }
    }

    /// Refit the model on the labelled samples (warm-started from the last fit). With
    /// fewer than two classes labelled there is nothing to separate yet: the model is
    /// left unfitted and `Ok(false)` returned.
    pub fn fit(&mut self) -> Result<bool> {
        let previous = self.fitted.take();
        let k = self.committee_size();
        let (x, y) = self.labelled_set();
        let mut seen = vec![false; self.n_classes];
        y.iter().for_each(|&l| seen[l as usize] = true);
        if seen.iter().filter(|&&s| s).count() < 2 {
            return Ok(false);
        }
        let mut fitted = match (previous, k) {
            (Some(Fitted::Committee(c)), k) if k >= 2 && c.len() == k => Fitted::Committee(c),
            (Some(Fitted::Single(m)), 0) => Fitted::Single(m),
            (_, 0) => Fitted::Single(ClassMapped::new(self.model_spec.clone(), self.n_classes, self.seed)?),
            (_, k) => Fitted::Committee(Committee::new(self.model_spec.clone(), k, self.n_classes, self.seed)?),
        };
        match &mut fitted {
            Fitted::Single(m) => m.fit(x, &y)?,
            Fitted::Committee(c) => c.fit(x, &y)?,
        }
        self.fitted = Some(fitted);
        if self.track_stopping {
            self.record_stop_set()?;
        }
        Ok(true)
    }

    /// Keep this fit's predictions on the stop set, for [`Learner::stop_suggestion`].
    fn record_stop_set(&mut self) -> Result<()> {
        if self.stop_set.is_empty() {
            // Its own stream, so drawing it does not shift the query draws.
            self.stop_set = choose_stop_set(self.labels.len(), STOP_SET_SIZE, self.seed ^ 0x5709_5e7d);
        }
        // The stop set holds pool indices; features are in storage order.
        let rows: Vec<usize> = self.stop_set.iter().map(|&i| self.row_of[i]).collect();
        let x = self.features.select(Axis(0), &rows);
        let predicted = argmax_rows(self.predict_proba(x.view())?.view());
        self.stop_history.push(predicted);
        if self.stop_history.len() > STOP_HISTORY_KEPT {
            self.stop_history.remove(0);
        }
        Ok(())
    }

    /// Turn recording of stop-set predictions on or off (on by default). Off, the stop
    /// suggestion has no stabilizing-predictions evidence (only uncertainty and budget).
    pub fn set_stop_tracking(&mut self, on: bool) {
        self.track_stopping = on;
        if !on {
            self.stop_history.clear();
        }
    }

    /// Whether labelling can stop (a suggestion, see [`crate::stopping`]): predictions on
    /// a fixed stop set stable over the last 3 fits (kappa ≥ 0.99), the model confident on
    /// the unlabelled pool, the `budget` of labels spent, or nothing left to label.
    pub fn stop_suggestion(&self, budget: Option<usize>) -> Result<StopSuggestion> {
        let unlabelled: Vec<usize> = (0..self.labels.len()).filter(|&i| self.labels[i].is_none()).collect();
        let probs = if self.is_fitted() && !unlabelled.is_empty() {
            // Unlabelled rows are stored after the labelled ones.
            Some(self.predict_proba(self.features.slice(s![self.n_labelled.., ..]))?)
        } else {
            None
        };
        let input = StopInput {
            stop_set_history: &self.stop_history,
            pool_probs: probs.as_ref().map(|p| p.view()),
            n_labelled: self.labels.len() - unlabelled.len(),
            n_unlabelled: unlabelled.len(),
            n_classes: self.n_classes,
        };
        suggest(&input, &StopParams { budget, ..StopParams::default() })
    }

    /// Class probabilities (n × n_classes) and, with a committee, each member's.
    fn probabilities(&self, x: ArrayView2<f32>) -> Result<(Array2<f32>, MemberProbs)> {
        match &self.fitted {
            None => Err(Error::State("the model needs labels from at least two classes first".into())),
            Some(Fitted::Single(m)) => Ok((m.predict_proba(x)?, None)),
            Some(Fitted::Committee(c)) => {
                let members = c.member_proba(x)?;
                Ok((Committee::mean_proba(&members), Some(members)))
            }
        }
    }

    /// Class probabilities (n × n_classes) for any feature rows with the pool's width
    /// (a committee's consensus when there is one).
    pub fn predict_proba(&self, x: ArrayView2<f32>) -> Result<Array2<f32>> {
        Ok(self.probabilities(x)?.0)
    }

    /// Probabilities for one pool sample.
    pub fn predict_sample(&self, index: usize) -> Result<Vec<f32>> {
        self.check_index(index)?;
        let row = self.row_of[index];
        let p = self.predict_proba(self.features.slice(s![row..row + 1, ..]))?;
        Ok(p.row(0).to_vec())
    }

    /// The `n` unlabelled samples most worth asking about next, best first, by the
    /// session's strategy. Before the model is fitted, strategies that need a model fall
    /// back to a seeded random draw; the others (random, cold-start ones) run as usual.
    /// Asking for more than are unlabelled returns all of them; an all-labelled pool
    /// returns an empty list.
    pub fn query(&mut self, n: usize) -> Result<Vec<Query>> {
        self.query_inner(n, None)
    }

    /// The fitted model as networks for batched pool scoring outside the learner (the GPU
    /// path of [`crate::compute`]), when the session's strategy needs only probabilities:
    /// margin, entropy or least confident on a single model (softmax regression or MLP)
    /// or on a committee's consensus, and the committee strategies (vote entropy,
    /// consensus entropy, mean/max KL), which get every member's probabilities. `None`
    /// otherwise (strategies that need features, embeddings or no model).
    ///
    /// A single model's network outputs the classes present at its fit, in order: pass
    /// the round's probabilities to [`Learner::query_with_pool_probs`]. A committee's
    /// members output all classes (absent ones with probability 0): pass each member's
    /// probabilities to [`Learner::query_with_member_probs`].
    pub fn scoring_network(&self) -> Option<ScoringModel> {
        let kind = StrategyKind::from_name(&self.strategy).ok()?;
        // `auto` reads the pool's probabilities (its margin part) and the features (its
        // TypiClust part, on the CPU): scored probabilities serve it as they serve margin,
        // and it is the app's default strategy.
        let uncertainty = matches!(kind, StrategyKind::Margin | StrategyKind::Entropy | StrategyKind::LeastConfident | StrategyKind::Auto);
        let d = self.features.ncols();
        match &self.fitted {
            Some(Fitted::Single(m)) if uncertainty && m.classes().len() >= 2 => {
                m.scoring_network(d, false).map(|net| ScoringModel { members: vec![net], committee: false })
            }
            Some(Fitted::Committee(c)) if uncertainty || kind.needs_committee() => {
                let members = c.members().iter().map(|m| m.scoring_network(d, true)).collect::<Option<Vec<_>>>()?;
                Some(ScoringModel { members, committee: true })
            }
            _ => None,
        }
    }

    /// [`Learner::query`] with the model's probabilities for every pool row already
    /// computed (rows × the present classes, from [`Learner::scoring_network`]), so the
    /// strategy runs on them instead of a forward pass here.
    pub fn query_with_pool_probs(&mut self, n: usize, pool_probs: ArrayView2<f32>) -> Result<Vec<Query>> {
        let classes = match &self.fitted {
            Some(Fitted::Single(m)) => m.classes().to_vec(),
            _ => return Err(Error::State("pool probabilities need a fitted single model (a committee takes each member's)".into())),
        };
        if pool_probs.dim() != (self.labels.len(), classes.len()) {
            return Err(Error::Shape {
                what: format!("pool probabilities (rows × {} present classes)", classes.len()),
                expected: self.labels.len() * classes.len(),
                got: pool_probs.len(),
            });
        }
        // Back to all n_classes columns: classes absent at the fit have probability 0.
        let mut full = Array2::<f32>::zeros((self.labels.len(), self.n_classes));
        for (j, &c) in classes.iter().enumerate() {
            full.column_mut(c as usize).assign(&pool_probs.column(j));
        }
        self.query_inner(n, Some((full, None)))
    }

    /// [`Learner::query`] for a committee, with every member's probabilities for every
    /// pool row already computed (each rows × all classes, member order, from
    /// [`Learner::scoring_network`]); the consensus is their mean, as in `query`.
    pub fn query_with_member_probs(&mut self, n: usize, member_probs: &[ArrayView2<f32>]) -> Result<Vec<Query>> {
        let members = match &self.fitted {
            Some(Fitted::Committee(c)) => c.len(),
            _ => return Err(Error::State("member probabilities need a fitted committee".into())),
        };
        if member_probs.len() != members {
            return Err(Error::Shape { what: "committee members' probability matrices".into(), expected: members, got: member_probs.len() });
        }
        let dim = (self.labels.len(), self.n_classes);
        if let Some(bad) = member_probs.iter().find(|p| p.dim() != dim) {
            return Err(Error::Shape { what: format!("member probabilities (rows × {} classes)", self.n_classes), expected: dim.0 * dim.1, got: bad.len() });
        }
        let owned: Vec<Array2<f32>> = member_probs.iter().map(|p| p.to_owned()).collect();
        let mean = Committee::mean_proba(&owned);
        self.query_inner(n, Some((mean, Some(owned))))
    }

    /// `pool_probs`: probabilities for every pool row (pool-index order) and, for a
    /// committee, each member's, computed outside (the GPU round).
    fn query_inner(&mut self, n: usize, pool_probs: Option<(Array2<f32>, MemberProbs)>) -> Result<Vec<Query>> {
        let kind = StrategyKind::from_name(&self.strategy)?;
        let unlabelled: Vec<usize> = (0..self.labels.len()).filter(|&i| self.labels[i].is_none()).collect();
        if unlabelled.is_empty() || n == 0 {
            return Ok(Vec::new());
        }
        self.rounds += 1;
        let round_seed = self.seed ^ self.rounds.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        // Committee strategies need a fitted committee too, though `needs_model` says no.
        if !self.is_fitted() && (kind.needs_model() || kind.needs_committee()) {
            let mut picks = unlabelled.clone();
            picks.shuffle(&mut ChaCha8Rng::seed_from_u64(round_seed));
            picks.truncate(n);
            return Ok(picks
                .into_iter()
                .map(|index| Query { index, score: 0.0, reason: "cold start: random until two classes are labelled".into() })
                .collect());
        }
        let x = self.features.slice(s![self.n_labelled.., ..]);
        // Strategies that do not look at the model (random, cold-start ones) are spared
        // the pass over the pool that probabilities cost. Probabilities scored elsewhere
        // (the GPU) come in pool-index order; candidates are in storage order.
        let (probs, members) = match pool_probs {
            Some((p, m)) => {
                let rows = &self.order[self.n_labelled..];
                (Some(p.select(Axis(0), rows)), m.map(|all| all.iter().map(|q| q.select(Axis(0), rows)).collect()))
            }
            None if self.is_fitted() && kind.uses_model() => {
                self.probabilities(x).map(|(p, m)| (Some(p), m))?
            }
            None => (None, None),
        };
        let embeddings = match &self.fitted {
            Some(Fitted::Single(m)) if kind.needs_model() => m.embeddings(x),
            _ => None,
        };
        let (lx, ly) = self.labelled_set();
        let ctx = Context {
            candidates: x,
            labelled: lx,
            labels: &ly,
            probs: probs.as_ref().map(|p| p.view()),
            committee: members.as_deref(),
            embeddings: embeddings.as_ref().map(|e| e.view()),
            class_names: &self.class_names,
            n_classes: self.n_classes,
            seed: round_seed,
        };
        let mut picks = kind.select(&ctx, n)?;
        for q in picks.iter_mut() {
            q.index = self.order[self.n_labelled + q.index];
        }
        Ok(picks)
    }

    /// [`Learner::query`] with the session's batch size.
    pub fn query_batch(&mut self) -> Result<Vec<Query>> {
        self.query(self.batch_size)
    }

    /// Accuracy of the current model on `(x, y)`; `None` before the model is fitted.
    pub fn accuracy(&self, x: ArrayView2<f32>, y: &[u32]) -> Result<Option<f64>> {
        if x.nrows() != y.len() {
            return Err(Error::Shape { what: "test labels vs rows".into(), expected: x.nrows(), got: y.len() });
        }
        if !self.is_fitted() || y.is_empty() {
            return Ok(None);
        }
        let pred = argmax_rows(self.predict_proba(x)?.view());
        let correct = pred.iter().zip(y).filter(|(p, t)| p == t).count();
        Ok(Some(correct as f64 / y.len() as f64))
    }

    /// Accuracy estimated without a test set: `k`-fold cross-validation of the session's
    /// model on the labelled samples (see [`crate::estimate`]). `None` with fewer than two
    /// labelled classes.
    ///
    /// The estimate's temperature is kept: [`Learner::predict_sample_calibrated`] uses it.
    pub fn estimate_accuracy(&mut self, k: usize) -> Result<Option<CvEstimate>> {
        let (x, y) = self.labelled_set();
        let mut seen = vec![false; self.n_classes];
        y.iter().for_each(|&l| seen[l as usize] = true);
        if seen.iter().filter(|&&s| s).count() < 2 {
            return Ok(None);
        }
        let e = cross_validate(&self.model_spec, x, &y, self.n_classes, k, self.seed)?;
        self.temperature = Some(e.temperature);
        Ok(Some(e))
    }

    /// The temperature in use for shown confidence (1 before any estimate).
    pub fn temperature(&self) -> f64 {
        self.temperature.map_or(1.0, crate::calibration::shown)
    }

    /// Probabilities for one pool sample as a person should read them: tempered by the
    /// last estimate's temperature (the same ranking and guess as `predict_sample`).
    pub fn predict_sample_calibrated(&self, index: usize) -> Result<Vec<f32>> {
        let p = self.predict_sample(index)?;
        Ok(crate::calibration::temper(&p, p.len(), self.temperature()))
    }

    /// What the fitted model is (`softmax`, `mlp`, `committee of k <family>`); `None`
    /// before the first fit.
    pub fn model_kind(&self) -> Option<String> {
        self.fitted.as_ref().map(Fitted::kind)
    }

    /// The fitted model alone, for export (see [`crate::trained`]): predicts exactly as
    /// this session does. `Error::State` before the first fit.
    pub fn export_model(&self) -> Result<TrainedModel> {
        let fitted = self.fitted.clone().ok_or_else(|| Error::State("there is no trained model yet: label samples of at least two classes first".into()))?;
        Ok(TrainedModel::new(fitted, self.features.ncols(), self.n_classes, self.class_names.clone()))
    }

    /// The whole session (pool, labels, model, history, generator state) as bytes
    /// (postcard). [`Learner::restore`] gives back a session that predicts and queries
    /// bit for bit the same.
    pub fn snapshot(&self) -> Result<Vec<u8>> {
        // Serializing owned data cannot fail short of running out of memory; map anyway.
        postcard::to_allocvec(&Snapshot { version: SNAPSHOT_VERSION, learner: self.clone() })
            .map_err(|e| Error::Format { what: "snapshot".into(), msg: e.to_string() })
    }

    /// A session from [`Learner::snapshot`] bytes. Corrupt or foreign bytes are an error.
    pub fn restore(bytes: &[u8]) -> Result<Self> {
        let snap: Snapshot =
            postcard::from_bytes(bytes).map_err(|e| Error::Format { what: "snapshot".into(), msg: e.to_string() })?;
        if snap.version != SNAPSHOT_VERSION {
            return Err(Error::Format {
                what: "snapshot".into(),
                msg: format!("version {} is not supported (expected {SNAPSHOT_VERSION})", snap.version),
            });
        }
        let l = snap.learner;
        // Refuse bytes that decode but describe an impossible session.
        let n = l.features.nrows();
        let maps_ok = l.order.len() == n
            && l.row_of.len() == n
            && l.order.iter().enumerate().all(|(r, &i)| i < n && l.row_of[i] == r)
            && l.n_labelled == l.labels.iter().filter(|v| v.is_some()).count()
            && l.order[..l.n_labelled.min(n)].iter().all(|&i| l.labels[i].is_some());
        if l.labels.len() != n
            || !maps_ok
            || l.n_classes < 2
            || l.labels.iter().flatten().any(|&c| c as usize >= l.n_classes)
            || l.stop_set.iter().any(|&i| i >= n)
            || l.history.iter().any(|c| c.index >= n)
        {
            return Err(Error::Format { what: "snapshot".into(), msg: "inconsistent session".into() });
        }
        // The model must match the pool's width and the class count, or the first
        // prediction would misread it.
        let d = l.features.ncols();
        match &l.fitted {
            Some(Fitted::Single(m)) => m.check_shape(d, l.n_classes)?,
            Some(Fitted::Committee(c)) => c.check_shape(d, l.n_classes)?,
            None => {}
        }
        Ok(l)
    }
}

// ---------------------------------------------------------------------------------------
// Strategy chosen per call, for the npm package and the playground (which switch strategy
// at any moment). `query` above keeps its margin default; this block only adds.
impl Learner {
    /// Like [`Learner::query`], with the strategy given. Strategies that need a fitted model
    /// fall back to the same seeded random draw as `query` until two classes are labelled.
    pub fn query_with(&mut self, strategy: StrategyKind, n: usize) -> Result<Vec<Query>> {
        if strategy.needs_committee() && self.is_fitted() && !matches!(self.fitted, Some(Fitted::Committee(_))) {
            return Err(Error::param(
                "strategy",
                format!("'{}' needs a committee: choose it (or set a committee size) before fitting", strategy.name()),
            ));
        }
        // Same loop as `query`, with the session's strategy swapped for this one call.
        let previous = std::mem::replace(&mut self.strategy, strategy.name().to_string());
        let out = self.query(n);
        self.strategy = previous;
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn blobs() -> (Array2<f32>, Vec<u32>) {
        let mut x = Vec::new();
        let mut y = Vec::new();
        for i in 0..60 {
            let c = (i % 3) as u32;
            let t = i as f32 * 0.37;
            x.extend([c as f32 * 3.0 + t.sin() * 0.5, (c as f32 - 1.0) * 2.0 + t.cos() * 0.5]);
            y.push(c);
        }
        (Array2::from_shape_vec((60, 2), x).unwrap(), y)
    }

    #[test]
    fn default_strategy_is_auto_and_cold_starts_without_a_model() {
        let (x, _) = blobs();
        let mut l = Learner::new(x, 3, 42).unwrap();
        assert_eq!(l.strategy(), "auto");
        let q = l.query(3).unwrap();
        assert_eq!(q.len(), 3);
        assert!(q[0].reason.starts_with("auto → typiclust"), "{}", q[0].reason);
    }

    #[test]
    fn auto_leaves_cold_start_once_the_model_has_labels() {
        // Regression: the learner once withheld probabilities from `auto` (it does not
        // *need* a model), so it ran TypiClust forever.
        let (x, y) = blobs();
        let mut l = Learner::new(x, 3, 42).unwrap();
        for i in 0..30 {
            l.teach(i, y[i]).unwrap();
        }
        assert!(l.fit().unwrap());
        let q = l.query(1).unwrap();
        assert!(q[0].reason.starts_with("auto → margin"), "{}", q[0].reason);
    }

    #[test]
    fn cold_start_then_margin_and_accuracy() {
        let (x, y) = blobs();
        let mut l = Learner::new(x.clone(), 3, 42).unwrap();
        l.set_strategy("margin").unwrap();
        let q = l.query(3).unwrap();
        assert_eq!(q.len(), 3);
        assert!(q[0].reason.contains("cold start"));
        assert!(!l.fit().unwrap());
        for i in 0..6 {
            l.teach(i, y[i]).unwrap();
        }
        assert!(l.fit().unwrap());
        let q = l.query(5).unwrap();
        assert_eq!(q.len(), 5);
        assert!(q.iter().all(|q| q.index >= 6), "labelled samples are never queried");
        assert!(q.windows(2).all(|w| w[0].score >= w[1].score));
        assert!(q[0].reason.starts_with("margin"), "{}", q[0].reason);
        let acc = l.accuracy(x.view(), &y).unwrap().unwrap();
        assert!(acc > 0.95, "accuracy {acc}");
        assert!(matches!(l.teach(0, 3), Err(Error::LabelOutOfRange { .. })));
        assert!(matches!(l.teach(60, 0), Err(Error::UnknownSample { id: 60 })));
        l.forget(0).unwrap();
        assert_eq!(l.labelled_count(), 5);
    }

    #[test]
    fn refuses_bad_pool() {
        assert!(Learner::new(Array2::zeros((0, 2)), 3, 0).is_err());
        assert!(Learner::new(array![[1.0f32, f32::INFINITY]], 3, 0).is_err());
        assert!(Learner::new(array![[1.0f32, 2.0]], 1, 0).is_err());
    }

    fn bits(p: &Array2<f32>) -> Vec<u32> {
        p.iter().map(|v| v.to_bits()).collect()
    }

    fn taught(model: &str, committee: usize) -> Learner {
        let (x, y) = blobs();
        let mut l = Learner::new(x, 3, 7).unwrap();
        l.set_model(ModelSpec::from_name(model).unwrap());
        l.set_committee(committee).unwrap();
        for i in 0..9 {
            l.teach(i, y[i]).unwrap();
        }
        assert!(l.fit().unwrap());
        l
    }

    #[test]
    fn snapshot_restores_bit_for_bit() {
        let (x, _) = blobs();
        for (model, committee) in [("softmax", 0), ("mlp", 0), ("softmax", 3), ("mlp", 2)] {
            let mut l = taught(model, committee);
            let bytes = l.snapshot().unwrap();
            let mut r = Learner::restore(&bytes).unwrap();
            assert_eq!(r, l, "{model}/{committee}");
            assert_eq!(bits(&r.predict_proba(x.view()).unwrap()), bits(&l.predict_proba(x.view()).unwrap()));
            // The restored session goes on exactly as the original would.
            assert_eq!(r.query(4).unwrap(), l.query(4).unwrap());
            r.teach(20, 2).unwrap();
            l.teach(20, 2).unwrap();
            r.fit().unwrap();
            l.fit().unwrap();
            assert_eq!(bits(&r.predict_proba(x.view()).unwrap()), bits(&l.predict_proba(x.view()).unwrap()));
        }
        assert!(Learner::restore(b"not a snapshot").is_err());
        let bytes = taught("softmax", 0).snapshot().unwrap();
        assert!(Learner::restore(&bytes[..bytes.len() / 2]).is_err());
    }

    #[test]
    fn restore_refuses_a_model_of_another_shape() {
        let (x, y) = blobs();
        let wide = ndarray::concatenate![Axis(1), x, x.column(0).insert_axis(Axis(1))];
        for (model, committee) in [("softmax", 0), ("mlp", 0), ("softmax", 3), ("mlp", 2)] {
            // The same labels on a pool with one more column, and with one more class.
            let other = |x: Array2<f32>, n_classes: usize| {
                let mut o = Learner::new(x, n_classes, 7).unwrap();
                o.set_model(ModelSpec::from_name(model).unwrap());
                o.set_committee(committee).unwrap();
                (0..9).for_each(|i| o.teach(i, y[i]).unwrap());
                assert!(o.fit().unwrap());
                o
            };
            let mut l = taught(model, committee);
            l.fitted = other(wide.clone(), 3).fitted.take();
            let err = Learner::restore(&l.snapshot().unwrap()).unwrap_err();
            assert!(matches!(&err, Error::Shape { what, expected: 2, got: 3 } if what.contains("input width")), "{model}/{committee}: {err}");
            let mut l = taught(model, committee);
            l.fitted = other(x.clone(), 4).fitted.take();
            let err = Learner::restore(&l.snapshot().unwrap()).unwrap_err();
            assert!(matches!(&err, Error::Shape { what, expected: 3, got: 4 } if what.contains("classes")), "{model}/{committee}: {err}");
        }
    }

    #[test]
    fn exported_model_predicts_as_the_session_and_refuses_bad_bytes() {
        let (x, _) = blobs();
        assert!(Learner::new(x.clone(), 3, 0).unwrap().export_model().is_err(), "nothing to export before a fit");
        for (model, committee, kind) in [("softmax", 0, "softmax"), ("mlp", 0, "mlp"), ("softmax", 3, "committee of 3 softmax")] {
            let mut l = taught(model, committee);
            l.set_class_names(vec!["a".into(), "b".into(), "c".into()]);
            let bytes = l.export_model().unwrap().to_bytes().unwrap();
            let m = TrainedModel::from_bytes(&bytes).unwrap();
            assert_eq!((m.n_features(), m.n_classes(), m.kind().as_str()), (2, 3, kind));
            assert_eq!(l.model_kind().as_deref(), Some(kind));
            assert_eq!(m.class_names(), ["a", "b", "c"]);
            // Bit for bit the session's probabilities, on pool rows and on new rows.
            assert_eq!(bits(&m.predict_proba(x.view()).unwrap()), bits(&l.predict_proba(x.view()).unwrap()), "{kind}");
            let new = ndarray::array![[0.3f32, -7.0], [100.0, 2.5]];
            assert_eq!(bits(&m.predict_proba(new.view()).unwrap()), bits(&l.predict_proba(new.view()).unwrap()));
            // The model file holds no pool: smaller than the session snapshot.
            assert!(bytes.len() < l.snapshot().unwrap().len());
            // Wrong width is a shape error, not a panic.
            assert!(matches!(m.predict_proba(ndarray::Array2::<f32>::zeros((1, 3)).view()), Err(Error::Shape { expected: 2, got: 3, .. })));
            // Truncated or foreign bytes, and a session snapshot, are refused with a reason.
            for bad in [&bytes[..bytes.len() - 3], b"PK\x03\x04 a zip".as_slice(), l.snapshot().unwrap().as_slice()] {
                assert!(matches!(TrainedModel::from_bytes(bad), Err(Error::Format { .. })));
            }
        }
        // A newer version says so.
        let bytes = taught("softmax", 0).export_model().unwrap().to_bytes().unwrap();
        let mut newer = bytes.clone();
        newer[1 + crate::trained::MODEL_MAGIC.len()] = 9; // the varint right after the magic
        let e = TrainedModel::from_bytes(&newer).unwrap_err().to_string();
        assert!(e.contains("version 9 is not supported"), "{e}");
    }

    #[test]
    fn undo_reverts_teach_and_forget_in_order() {
        let (x, _) = blobs();
        let mut l = Learner::new(x, 3, 0).unwrap();
        l.teach(4, 1).unwrap();
        l.teach(4, 2).unwrap();
        l.forget(4).unwrap();
        assert_eq!(l.undo(), Some(4));
        assert_eq!(l.label(4), Some(2));
        l.undo();
        assert_eq!(l.label(4), Some(1));
        l.undo();
        assert_eq!(l.label(4), None);
        assert_eq!(l.undo(), None);
    }

    #[test]
    fn bad_input_gets_a_defined_result() {
        let (x, y) = blobs();
        let mut l = Learner::new(x.clone(), 3, 1).unwrap();
        // One labelled class: no model yet, but queries still come (cold start).
        l.teach(0, y[0]).unwrap();
        l.teach(3, y[3]).unwrap();
        assert!(!l.fit().unwrap());
        assert!(!l.is_fitted());
        assert_eq!(l.query(5).unwrap().len(), 5);
        assert_eq!(l.accuracy(x.view(), &y).unwrap(), None);
        assert_eq!(l.estimate_accuracy(5).unwrap(), None);
        // Duplicates in a batch: nothing is taught.
        assert_eq!(l.teach_many(&[(1, 1), (2, 2), (1, 0)]), Err(Error::DuplicateSample { id: 1 }));
        assert_eq!(l.labelled_count(), 2);
        assert!(matches!(l.teach_many(&[(1, 9)]), Err(Error::LabelOutOfRange { label: 9, .. })));
        // Asking for more than the pool has: all unlabelled, then nothing.
        let all = l.query(1000).unwrap();
        assert_eq!(all.len(), 58);
        l.teach_many(&all.iter().map(|q| (q.index, y[q.index])).collect::<Vec<_>>()).unwrap();
        assert!(l.query(3).unwrap().is_empty());
        assert!(l.set_strategy("nonsense").is_err());
        assert!(l.set_committee(1).is_err());
        assert!(l.set_batch_size(0).is_err());
    }

    #[test]
    fn strategies_models_and_estimate() {
        let (x, y) = blobs();
        let mut l = taught("mlp", 0);
        l.set_strategy("random").unwrap();
        l.set_batch_size(4).unwrap();
        let q = l.query_batch().unwrap();
        assert_eq!(q.len(), 4);
        assert!(q.iter().all(|q| q.reason == "random pick" && l.label(q.index).is_none()));
        for i in 9..30 {
            l.teach(i, y[i]).unwrap();
        }
        l.fit().unwrap();
        assert!(l.accuracy(x.view(), &y).unwrap().unwrap() > 0.9);
        let e = l.estimate_accuracy(5).unwrap().unwrap();
        assert_eq!(e.folds, 5);
        assert!(e.mean > 0.8 && e.se < 0.2, "{e:?}");
    }

    #[test]
    fn query_with_named_strategy() {
        let (x, y) = blobs();
        let mut l = Learner::new(x, 3, 7).unwrap();
        // Before a fit every strategy draws at random (cold start).
        let q = l.query_with(StrategyKind::Margin, 4).unwrap();
        assert!(q[0].reason.contains("cold start"));
        for i in 0..6 {
            l.teach(i, y[i]).unwrap();
        }
        l.fit().unwrap();
        let m = l.query_with(StrategyKind::Margin, 5).unwrap();
        assert!(m[0].reason.starts_with("margin") && m.iter().all(|q| q.index >= 6));
        let r = l.query_with(StrategyKind::Random, 5).unwrap();
        assert!(r.iter().all(|q| q.reason == "random pick" && q.index >= 6));
        assert_eq!(r.len(), 5);
    }

    #[test]
    fn committee_strategy_cold_starts_then_trains_a_committee() {
        let (x, y) = blobs();
        let mut l = Learner::new(x, 3, 5).unwrap();
        l.set_strategy("vote_entropy").unwrap();
        assert!(l.query(2).unwrap()[0].reason.contains("cold start"));
        for i in 0..9 {
            l.teach(i, y[i]).unwrap();
        }
        l.fit().unwrap();
        assert!(matches!(l.fitted, Some(Fitted::Committee(ref c)) if c.len() == DEFAULT_COMMITTEE));
        assert!(l.query(3).unwrap()[0].reason.contains("committee"));
        // Back to a single-model strategy: the committee is dropped, the next fit is single.
        l.set_strategy("margin").unwrap();
        assert!(!l.is_fitted());
        l.fit().unwrap();
        assert!(matches!(l.fitted, Some(Fitted::Single(_))));
        // Same committee size either way: the fitted model stays.
        l.set_strategy("entropy").unwrap();
        assert!(l.is_fitted());
    }

    #[test]
    fn add_samples_keeps_labels_model_and_history() {
        let (x, y) = blobs();
        let mut l = Learner::new(x.slice(ndarray::s![..30, ..]).to_owned(), 3, 5).unwrap();
        for i in 0..6 {
            l.teach(i, y[i]).unwrap();
        }
        l.fit().unwrap();
        let p_before = l.predict_sample(0).unwrap();
        assert_eq!(l.add_samples(x.slice(ndarray::s![30.., ..])).unwrap(), 30);
        assert_eq!((l.len(), l.labelled_count()), (60, 6));
        assert_eq!(l.predict_sample(0).unwrap(), p_before, "the model is kept");
        assert!(l.query(40).unwrap().iter().any(|q| q.index >= 30), "new rows are queried");
        assert_eq!(l.undo(), Some(5));
        assert!(matches!(l.add_samples(Array2::zeros((1, 3)).view()), Err(Error::Shape { expected: 2, got: 3, .. })));
        let bad = array![[0.0f32, 1.0], [f32::NAN, 0.0]];
        assert!(matches!(l.add_samples(bad.view()), Err(Error::NonFinite { row: 61, col: 0, .. })));
        assert_eq!(l.len(), 60, "a rejected batch adds nothing");
    }

    #[test]
    fn stop_suggestion_after_stable_fits() {
        let (x, y) = blobs();
        let mut l = Learner::new(x, 3, 2).unwrap();
        let s = l.stop_suggestion(None).unwrap();
        assert!(!s.stop && s.kappa.is_none() && s.uncertainty.is_none(), "{s:?}");
        for i in 0..30 {
            l.teach(i, y[i]).unwrap();
        }
        // The same labels refitted: identical predictions, kappa 1 once there are 4 fits.
        for _ in 0..3 {
            l.fit().unwrap();
        }
        assert!(l.stop_suggestion(None).unwrap().kappa.is_none());
        l.fit().unwrap();
        let s = l.stop_suggestion(None).unwrap();
        assert_eq!(s.kappa, Some(1.0));
        assert!(s.stop && s.reason.contains("stopped changing"), "{}", s.reason);
        assert!(s.uncertainty.is_some());
        assert_eq!(l.stop_suggestion(Some(50)).unwrap().budget_left, Some(20));
        // The history survives a snapshot.
        let r = Learner::restore(&l.snapshot().unwrap()).unwrap();
        assert_eq!(r.stop_suggestion(None).unwrap(), s);
    }

    #[test]
    fn pool_probs_from_the_scoring_network_give_the_same_queries() {
        let (x, y) = blobs();
        for (model, strategy) in [("softmax", "margin"), ("mlp", "margin"), ("softmax", "auto"), ("mlp", "auto")] {
            let mut l = taught(model, 0);
            l.set_strategy(strategy).unwrap();
            for i in 9..15 {
                l.teach(i, y[i]).unwrap();
            }
            l.fit().unwrap();
            let sm = l.scoring_network().unwrap_or_else(|| panic!("a single model with {strategy} scores as one network"));
            assert!(!sm.committee);
            assert_eq!(sm.members.len(), 1);
            let p = crate::compute::cpu::forward(&sm.members[0], x.view()).unwrap();
            let own = l.predict_proba(x.view()).unwrap();
            assert!(p.iter().zip(own.iter()).all(|(a, b)| (a - b).abs() < 1e-5), "{model}: f32 network vs the model's f64 pass");
            let mut r = l.clone();
            let via_network = r.query_with_pool_probs(5, p.view()).unwrap();
            let direct = l.query(5).unwrap();
            assert_eq!(via_network.iter().map(|q| q.index).collect::<Vec<_>>(), direct.iter().map(|q| q.index).collect::<Vec<_>>(), "{model}/{strategy}");
            assert!(matches!(r.query_with_pool_probs(1, p.slice(ndarray::s![..3, ..])), Err(Error::Shape { .. })));
            assert!(matches!(r.query_with_member_probs(1, &[p.view()]), Err(Error::State(_))));
            l.set_strategy("random").unwrap();
            assert!(l.scoring_network().is_none(), "random needs no model");
        }
    }

    #[test]
    fn committee_member_probs_from_the_scoring_network_give_the_same_queries() {
        use crate::compute::{cpu, Measure, PoolMatrix, ScoreRequest};
        let (x, y) = blobs();
        // Class 2 never labelled: the (stratified) bootstraps see classes 0 and 1 only, so
        // every member's network must be widened to all three classes.
        let teach: Vec<usize> = (0..60).filter(|&i| y[i] != 2).take(10).collect();
        let mut pool = PoolMatrix::new_f32(2).unwrap();
        pool.append_f32(x.view()).unwrap();
        for (model, k, strategy) in [("softmax", 4, "vote_entropy"), ("mlp", 3, "mean_kl"), ("softmax", 4, "margin"), ("mlp", 3, "max_kl"), ("softmax", 4, "consensus_entropy"), ("softmax", 4, "auto")] {
            // The first seed whose bootstraps leave some member without class 2.
            let l = (0..40u64)
                .map(|seed| {
                    let mut l = Learner::new(x.clone(), 3, seed).unwrap();
                    l.set_model(ModelSpec::from_name(model).unwrap());
                    l.set_committee(k).unwrap();
                    l.set_strategy(strategy).unwrap();
                    for &i in &teach {
                        l.teach(i, y[i]).unwrap();
                    }
                    assert!(l.fit().unwrap());
                    l
                })
                .find(|l| matches!(&l.fitted, Some(Fitted::Committee(c)) if c.members().iter().any(|m| m.classes().len() < 3)))
                .unwrap_or_else(|| panic!("{model}/{strategy}: no seed gave a member that missed a class"));
            let Some(Fitted::Committee(c)) = &l.fitted else { panic!("{model}: a committee") };
            let sm = l.scoring_network().unwrap_or_else(|| panic!("{model}/{strategy} scores as networks"));
            assert!(sm.committee);
            assert_eq!(sm.members.len(), k);
            let req = ScoreRequest { members: sm.members, measure: Measure::Entropy, want_probs: false, want_member_probs: true };
            let each = cpu::score_pool(&pool, &req).unwrap().member_probs.unwrap();
            let own = c.member_proba(x.view()).unwrap();
            for (a, b) in each.iter().zip(&own) {
                assert!(a.iter().zip(b.iter()).all(|(p, q)| (p - q).abs() < 1e-5 && ((*q == 0.0) == (*p == 0.0))), "{model}: member probabilities, zeros where the member never saw the class");
            }
            let views: Vec<_> = each.iter().map(|p| p.view()).collect();
            let mut r = l.clone();
            let via_network = r.query_with_member_probs(6, &views).unwrap();
            let direct = l.clone().query(6).unwrap();
            assert_eq!(via_network.iter().map(|q| q.index).collect::<Vec<_>>(), direct.iter().map(|q| q.index).collect::<Vec<_>>(), "{model}/{strategy}");
            assert!(matches!(r.query_with_member_probs(1, &views[1..]), Err(Error::Shape { .. })));
            assert!(matches!(r.query_with_pool_probs(1, each[0].view()), Err(Error::State(_))));
        }
    }
}
