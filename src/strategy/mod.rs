//! Query strategies. Each is a *measure* (probabilities, and features where needed, to one
//! score per candidate, higher = more worth asking) plus a shared sampler
//! ([`select::top_k`]) that ranks with seeded tie-breaking. Batch-aware strategies (k-center,
//! BADGE, ...) select the whole batch themselves.
//!
//! [`StrategyKind`] is the registry used by the learner, the bindings and the simulator:
//! `StrategyKind::from_name("margin")?.select(&ctx, batch)`.

pub mod select;
pub mod uncertainty;

use ndarray::{Array2, ArrayView2};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::{Error, Result};

/// One queried sample: its row in the candidate matrix, its score, and a short reason the
/// UI can show.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub index: usize,
    pub score: f32,
    pub reason: String,
}

/// Everything a strategy may look at. Rows of `candidates`, `probs`, each committee member
/// and `embeddings` all refer to the same unlabelled candidates, in the same order.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// Features of the unlabelled candidates (m × d).
    pub candidates: ArrayView2<'a, f32>,
    /// Features of the labelled samples (l × d); may have zero rows.
    pub labelled: ArrayView2<'a, f32>,
    /// Labels of the labelled samples (l).
    pub labels: &'a [u32],
    /// Model class probabilities for the candidates (m × k); `None` before the first fit.
    pub probs: Option<ArrayView2<'a, f32>>,
    /// Committee members' probabilities (each m × k), for query-by-committee.
    pub committee: Option<&'a [Array2<f32>]>,
    /// A learned representation of the candidates (e.g. an MLP's last hidden layer) for
    /// gradient embeddings; `None` means use `candidates`.
    pub embeddings: Option<ArrayView2<'a, f32>>,
    /// Class names for reason strings; may be shorter than k (then "class j" is used).
    pub class_names: &'a [String],
    /// Number of classes.
    pub n_classes: usize,
    /// Seed for tie-breaking and any sampling; the same seed gives the same picks.
    pub seed: u64,
}

impl<'a> Context<'a> {
    /// Display name of class `j`.
    pub fn class_name(&self, j: usize) -> String {
        self.class_names.get(j).cloned().unwrap_or_else(|| format!("class {j}"))
    }

    fn require_probs(&self, strategy: &str) -> Result<ArrayView2<'a, f32>> {
        self.probs.ok_or_else(|| Error::State(format!("{strategy} needs a fitted model")))
    }
}

/// The registry of query strategies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrategyKind {
    Random,
    Margin,
}

impl StrategyKind {
    /// Every name `from_name` accepts.
    pub const NAMES: &'static [&'static str] = &["random", "margin"];

    /// Parse a strategy name; unknown names list the known ones.
    pub fn from_name(name: &str) -> Result<Self> {
        match name {
            "random" => Ok(StrategyKind::Random),
            "margin" => Ok(StrategyKind::Margin),
            other => Err(Error::param("strategy", format!("unknown strategy '{other}'; known: {}", Self::NAMES.join(", ")))),
        }
    }

    /// The canonical name.
    pub fn name(&self) -> &'static str {
        match self {
            StrategyKind::Random => "random",
            StrategyKind::Margin => "margin",
        }
    }

    /// True when the strategy needs `Context::committee`.
    pub fn needs_committee(&self) -> bool {
        false
    }

    /// True when the strategy needs `Context::probs` (a fitted model).
    pub fn needs_model(&self) -> bool {
        !matches!(self, StrategyKind::Random)
    }

    /// Pick up to `batch` candidates, best first.
    pub fn select(&self, ctx: &Context, batch: usize) -> Result<Vec<Query>> {
        let m = ctx.candidates.nrows();
        if let Some(p) = ctx.probs {
            if p.nrows() != m {
                return Err(Error::Shape { what: "probability rows vs candidates".into(), expected: m, got: p.nrows() });
            }
        }
        match self {
            StrategyKind::Random => {
                let mut order: Vec<usize> = (0..m).collect();
                order.shuffle(&mut ChaCha8Rng::seed_from_u64(ctx.seed));
                order.truncate(batch);
                Ok(order.into_iter().map(|index| Query { index, score: 0.0, reason: "random pick".into() }).collect())
            }
            StrategyKind::Margin => {
                let p = ctx.require_probs("margin")?;
                let scores = uncertainty::margin(p);
                Ok(select::top_k(&scores, batch, ctx.seed)
                    .into_iter()
                    .map(|j| {
                        let (_, c1, _, c2) = uncertainty::top_two(p.row(j));
                        Query {
                            index: j,
                            score: scores[j],
                            reason: format!(
                                "margin {:.3} between '{}' and '{}'",
                                -scores[j],
                                ctx.class_name(c1),
                                ctx.class_name(c2)
                            ),
                        }
                    })
                    .collect())
            }
        }
    }
}
