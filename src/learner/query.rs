//! Asking for the next samples: the session's strategy (or one named) over the pool's
//! probabilities, computed here or handed in by a batched scorer (`crate::compute`).

use ndarray::{s, Array2, ArrayView2, Axis};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::{Learner, ScoringModel};
use crate::model::committee::Committee;
use crate::model::fitted::{Fitted, MemberProbs};
use crate::strategy::{Candidate, Context, StrategyKind};
use crate::{Error, Result};

impl Learner {
    /// The `n` unlabelled samples most worth asking about next, best first, by the
    /// session's strategy. Before the model is fitted, strategies that need a model fall
    /// back to a seeded random draw; the others (random, cold-start ones) run as usual.
    /// Asking for more than are unlabelled returns all of them; an all-labelled pool
    /// returns an empty list.
    pub fn query(&mut self, n: usize) -> Result<Vec<Candidate>> {
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
    pub fn query_with_pool_probs(&mut self, n: usize, pool_probs: ArrayView2<f32>) -> Result<Vec<Candidate>> {
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
    pub fn query_with_member_probs(&mut self, n: usize, member_probs: &[ArrayView2<f32>]) -> Result<Vec<Candidate>> {
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
    pub(super) fn query_inner(&mut self, n: usize, pool_probs: Option<(Array2<f32>, MemberProbs)>) -> Result<Vec<Candidate>> {
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
                .map(|index| Candidate { index, score: 0.0, reason: "cold start: random until two classes are labelled".into() })
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
    pub fn query_batch(&mut self) -> Result<Vec<Candidate>> {
        self.query(self.batch_size)
    }

    /// Like [`Learner::query`], with the strategy given. Strategies that need a fitted model
    /// fall back to the same seeded random draw as `query` until two classes are labelled.
    pub fn query_with(&mut self, strategy: StrategyKind, n: usize) -> Result<Vec<Candidate>> {
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
