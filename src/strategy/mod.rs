//! Query strategies. Each is a *measure* (probabilities, and features where needed, to one
//! score per candidate, higher = more worth asking) plus a shared sampler
//! ([`select::top_k`]) that ranks with seeded tie-breaking. Batch-aware strategies (k-center,
//! BADGE, ...) select the whole batch themselves.
//!
//! [`StrategyKind`] is the registry used by the learner, the bindings and the simulator:
//! `StrategyKind::from_name("margin")?.select(&ctx, batch)`.

pub mod auto;
pub mod coldstart;
pub mod committee;
pub mod density;
pub mod diversity;
pub mod expected_change;
pub mod kernels;
pub mod select;
pub mod uncertainty;

use ndarray::{Array2, ArrayView2};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::{Error, Result};

/// One candidate a strategy picked: its row in the candidates matrix, its score, and a
/// short reason the UI can show. (The package calls it `Candidate` too; one name.)
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
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
        self.probs.ok_or_else(|| Error::State(format!("{strategy} needs a fitted model (class probabilities); none yet")))
    }

    fn require_committee(&self, strategy: &str) -> Result<&'a [Array2<f32>]> {
        let c = self.committee.ok_or_else(|| {
            Error::State(format!("{strategy} is query-by-committee and needs committee predictions; none were given"))
        })?;
        committee::check_committee(c, self.candidates.nrows(), self.n_classes)?;
        Ok(c)
    }

    /// Check that the parts agree in shape and the probabilities are valid. Called once
    /// by [`StrategyKind::select`] before any strategy runs.
    pub fn validate(&self) -> Result<()> {
        let (m, d) = self.candidates.dim();
        if self.labelled.nrows() > 0 && self.labelled.ncols() != d {
            return Err(Error::Shape { what: "labelled feature columns vs candidate columns".into(), expected: d, got: self.labelled.ncols() });
        }
        if self.labels.len() != self.labelled.nrows() {
            return Err(Error::Shape { what: "labels vs labelled rows".into(), expected: self.labelled.nrows(), got: self.labels.len() });
        }
        for (row, &label) in self.labels.iter().enumerate() {
            if label as usize >= self.n_classes {
                return Err(Error::LabelOutOfRange { row, label, n_classes: self.n_classes });
            }
        }
        if let Some(p) = self.probs {
            if p.nrows() != m {
                return Err(Error::Shape { what: "probability rows vs candidates".into(), expected: m, got: p.nrows() });
            }
            if p.ncols() != self.n_classes {
                return Err(Error::Shape { what: "probability columns vs classes".into(), expected: self.n_classes, got: p.ncols() });
            }
            uncertainty::check_probs(p, "probs")?;
        }
        if let Some(e) = self.embeddings {
            if e.nrows() != m {
                return Err(Error::Shape { what: "embedding rows vs candidates".into(), expected: m, got: e.nrows() });
            }
        }
        Ok(())
    }

    /// Labelled count per class, indexed by class. Its length is the number of probability
    /// columns when there is a model, else one past the largest label: never sized by
    /// `n_classes` alone, which comes from the caller and could be absurd.
    pub fn class_counts(&self) -> Vec<usize> {
        let len = match self.probs {
            Some(p) => p.ncols(),
            None => self.labels.iter().map(|&l| l as usize + 1).max().unwrap_or(0),
        };
        let mut counts = vec![0; len];
        for &l in self.labels {
            if let Some(c) = counts.get_mut(l as usize) {
                *c += 1;
            }
        }
        counts
    }
}

/// Tunable parameters of the strategies, each with a documented default. The registry
/// uses [`StrategyParams::default`]; [`StrategyKind::select_with`] takes others.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StrategyParams {
    /// Exponent β of the density term in information density (default 1).
    pub density_beta: f32,
    /// Reference rows for the Euclidean density mean above which it is estimated on a
    /// seeded sample (default 256: similarities lie in [0, 1], so the estimate's standard
    /// error is at most 0.5/√256 ≈ 0.03, while a 100k × 64 pool takes ~0.3 s instead of
    /// the O(m²) exact mean).
    pub density_ref_rows: usize,
    /// Cluster-margin's k_m as a multiple of the batch (default 10).
    pub cluster_margin_factor: usize,
    /// TypiClust's parameters.
    pub typiclust: coldstart::TypiclustParams,
    /// `auto`'s switching rules.
    pub auto: auto::AutoParams,
}

impl Default for StrategyParams {
    fn default() -> Self {
        StrategyParams {
            density_beta: 1.0,
            density_ref_rows: 256,
            cluster_margin_factor: 10,
            typiclust: coldstart::TypiclustParams::default(),
            auto: auto::AutoParams::default(),
        }
    }
}

impl StrategyParams {
    /// Check the values are usable.
    pub fn check(&self) -> Result<()> {
        if !(self.density_beta.is_finite() && self.density_beta >= 0.0) {
            return Err(Error::param("density_beta", format!("must be a finite number ≥ 0, got {}", self.density_beta)));
        }
        if self.cluster_margin_factor == 0 {
            return Err(Error::param("cluster_margin_factor", "must be at least 1"));
        }
        if self.typiclust.knn == 0 || self.typiclust.max_clusters == 0 {
            return Err(Error::param("typiclust", "knn and max_clusters must be at least 1"));
        }
        self.auto.check()
    }
}

/// Short "'a' and 'b'" description of a row's two most probable classes.
fn top_two_names(ctx: &Context, row: ndarray::ArrayView1<f32>) -> (f32, String, String) {
    let (p1, c1, p2, c2) = uncertainty::top_two(row);
    (p1 - p2, ctx.class_name(c1), ctx.class_name(c2))
}

/// Rank by a score vector with the shared seeded sampler and describe each pick.
fn ranked(scores: &[f32], batch: usize, seed: u64, reason: impl Fn(usize) -> String) -> Vec<Candidate> {
    select::top_k(scores, batch, seed).into_iter().map(|i| Candidate { index: i, score: scores[i], reason: reason(i) }).collect()
}

/// The registry of query strategies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrategyKind {
    Random,
    LeastConfident,
    Margin,
    Entropy,
    VoteEntropy,
    ConsensusEntropy,
    MeanKl,
    MaxKl,
    Egl,
    DensityCosine,
    DensityEuclidean,
    KCenter,
    RankedBatch,
    ClusterMargin,
    Badge,
    Typiclust,
    Auto,
}

impl StrategyKind {
    /// Every name `from_name` accepts, in registry order.
    pub const NAMES: &'static [&'static str] = &[
        "random",
        "least_confident",
        "margin",
        "entropy",
        "vote_entropy",
        "consensus_entropy",
        "mean_kl",
        "max_kl",
        "egl",
        "density_cosine",
        "density_euclidean",
        "kcenter",
        "ranked_batch",
        "cluster_margin",
        "badge",
        "typiclust",
        "auto",
    ];

    /// Every strategy, in the order of [`StrategyKind::NAMES`].
    pub const ALL: &'static [StrategyKind] = &[
        StrategyKind::Random,
        StrategyKind::LeastConfident,
        StrategyKind::Margin,
        StrategyKind::Entropy,
        StrategyKind::VoteEntropy,
        StrategyKind::ConsensusEntropy,
        StrategyKind::MeanKl,
        StrategyKind::MaxKl,
        StrategyKind::Egl,
        StrategyKind::DensityCosine,
        StrategyKind::DensityEuclidean,
        StrategyKind::KCenter,
        StrategyKind::RankedBatch,
        StrategyKind::ClusterMargin,
        StrategyKind::Badge,
        StrategyKind::Typiclust,
        StrategyKind::Auto,
    ];

    /// Parse a strategy name; unknown names list the known ones.
    pub fn from_name(name: &str) -> Result<Self> {
        Self::NAMES
            .iter()
            .position(|&n| n == name)
            .map(|i| Self::ALL[i])
            .ok_or_else(|| Error::param("strategy", format!("unknown strategy '{name}'; known: {}", Self::NAMES.join(", "))))
    }

    /// The canonical name.
    pub fn name(&self) -> &'static str {
        let i = Self::ALL.iter().position(|k| k == self).unwrap_or(0);
        Self::NAMES[i]
    }

    /// True when the strategy needs `Context::committee`.
    pub fn needs_committee(&self) -> bool {
        matches!(self, StrategyKind::VoteEntropy | StrategyKind::ConsensusEntropy | StrategyKind::MeanKl | StrategyKind::MaxKl)
    }

    /// True when the strategy reads `Context::probs` whenever a fitted model exists: every
    /// strategy that needs a model or a committee, and `auto`, which does not need one
    /// (it cold-starts without) but leaves cold start only once it sees probabilities.
    /// Callers may skip computing probabilities for the others.
    pub fn uses_model(&self) -> bool {
        self.needs_model() || self.needs_committee() || matches!(self, StrategyKind::Auto)
    }

    /// True when the strategy needs `Context::probs` (a fitted model). `auto` uses a
    /// model when there is one and cold-start selection when there is not.
    pub fn needs_model(&self) -> bool {
        !matches!(self, StrategyKind::Random | StrategyKind::KCenter | StrategyKind::Typiclust | StrategyKind::Auto)
            && !self.needs_committee()
    }

    /// Pick up to `batch` candidates, best first, with the default parameters.
    ///
    /// Defined results for edge cases: no candidates or `batch == 0` → empty; a batch
    /// larger than the pool → every candidate, ranked. Mismatched shapes → `Error::Shape`;
    /// NaN or out-of-range probabilities → `Error::InvalidParam` naming row and column;
    /// a missing model or committee → `Error::State` saying what is missing.
    pub fn select(&self, ctx: &Context, batch: usize) -> Result<Vec<Candidate>> {
        self.select_with(ctx, batch, &StrategyParams::default())
    }

    /// [`StrategyKind::select`] with explicit parameters.
    pub fn select_with(&self, ctx: &Context, batch: usize, params: &StrategyParams) -> Result<Vec<Candidate>> {
        params.check()?;
        ctx.validate()?;
        let m = ctx.candidates.nrows();
        if m == 0 || batch == 0 {
            return Ok(Vec::new());
        }
        let batch = batch.min(m);
        let seed = ctx.seed;
        match self {
            StrategyKind::Random => {
                let mut order: Vec<usize> = (0..m).collect();
                order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
                order.truncate(batch);
                Ok(order.into_iter().map(|index| Candidate { index, score: 0.0, reason: "random pick".into() }).collect())
            }
            StrategyKind::LeastConfident => {
                let p = ctx.require_probs("least_confident")?;
                let s = uncertainty::least_confident(p);
                Ok(ranked(&s, batch, seed, |i| {
                    let (_, c1, _, _) = uncertainty::top_two(p.row(i));
                    format!("least confident: best guess '{}' at only {:.2}", ctx.class_name(c1), 1.0 - s[i])
                }))
            }
            StrategyKind::Margin => {
                let p = ctx.require_probs("margin")?;
                let s = uncertainty::margin(p);
                Ok(ranked(&s, batch, seed, |i| {
                    let (gap, a, b) = top_two_names(ctx, p.row(i));
                    format!("margin {gap:.3} between '{a}' and '{b}'")
                }))
            }
            StrategyKind::Entropy => {
                let p = ctx.require_probs("entropy")?;
                let s = uncertainty::entropy(p);
                Ok(ranked(&s, batch, seed, |i| {
                    let (_, a, b) = top_two_names(ctx, p.row(i));
                    format!("entropy {:.2} nats, mostly '{a}' or '{b}'", s[i])
                }))
            }
            StrategyKind::VoteEntropy => {
                let c = ctx.require_committee("vote_entropy")?;
                let s = committee::vote_entropy(c);
                Ok(ranked(&s, batch, seed, |i| format!("committee disagrees: vote entropy {:.2}", s[i])))
            }
            StrategyKind::ConsensusEntropy => {
                let c = ctx.require_committee("consensus_entropy")?;
                let s = committee::consensus_entropy(c);
                Ok(ranked(&s, batch, seed, |i| format!("committee is unsure together: consensus entropy {:.2}", s[i])))
            }
            StrategyKind::MeanKl => {
                let c = ctx.require_committee("mean_kl")?;
                let s = committee::mean_kl(c);
                Ok(ranked(&s, batch, seed, |i| format!("committee disagrees: mean KL from consensus {:.3}", s[i])))
            }
            StrategyKind::MaxKl => {
                let c = ctx.require_committee("max_kl")?;
                let s = committee::max_kl(c);
                Ok(ranked(&s, batch, seed, |i| format!("a committee member disagrees: max KL from consensus {:.3}", s[i])))
            }
            StrategyKind::Egl => {
                let p = ctx.require_probs("egl")?;
                // The gradient length scales with ‖x‖, so a NaN feature would silently sink
                // its candidate; say where it is instead.
                crate::model::check_finite(ctx.candidates)?;
                let s = expected_change::egl(ctx.candidates, p);
                Ok(ranked(&s, batch, seed, |i| format!("would change the model most: expected gradient length {:.2}", s[i])))
            }
            StrategyKind::DensityCosine | StrategyKind::DensityEuclidean => {
                let p = ctx.require_probs(self.name())?;
                crate::model::check_finite(ctx.candidates)?;
                let u: Vec<f32> = uncertainty::margin(p).iter().map(|&v| 1.0 + v).collect();
                let dens = if *self == StrategyKind::DensityCosine {
                    density::mean_cosine_similarity(ctx.candidates)
                } else {
                    density::mean_euclidean_similarity(ctx.candidates, params.density_ref_rows, seed)
                };
                let s = density::information_density(&u, &dens, params.density_beta);
                Ok(ranked(&s, batch, seed, |i| {
                    let (gap, a, b) = top_two_names(ctx, p.row(i));
                    format!("uncertain ('{a}' vs '{b}', margin {gap:.3}) and typical of the pool (density {:.2})", dens[i])
                }))
            }
            StrategyKind::KCenter => {
                crate::model::check_finite(ctx.candidates)?;
                let centres = if ctx.labelled.nrows() > 0 { ctx.labelled } else { ctx.candidates.slice_move(ndarray::s![..0, ..]) };
                Ok(diversity::kcenter_greedy(ctx.candidates, centres, batch, seed)
                    .into_iter()
                    .enumerate()
                    .map(|(n, (i, d))| Candidate {
                        index: i,
                        score: if d.is_finite() { d } else { f32::MAX },
                        reason: if !d.is_finite() {
                            "first pick: nothing labelled yet to measure distance from".into()
                        } else if n == 0 {
                            format!("far from everything labelled (distance {d:.2})")
                        } else {
                            format!("far from everything labelled or already picked (distance {d:.2})")
                        },
                    })
                    .collect())
            }
            StrategyKind::RankedBatch => {
                let p = ctx.require_probs("ranked_batch")?;
                crate::model::check_finite(ctx.candidates)?;
                let u = uncertainty::least_confident(p);
                Ok(diversity::ranked_batch(ctx.candidates, ctx.labelled, &u, batch, seed)
                    .into_iter()
                    .map(|(i, s, d)| Candidate {
                        index: i,
                        score: s,
                        reason: format!("uncertain ({:.2}) and far from labelled and picked samples (distance {d:.2})", u[i]),
                    })
                    .collect())
            }
            StrategyKind::ClusterMargin => {
                let p = ctx.require_probs("cluster_margin")?;
                crate::model::check_finite(ctx.candidates)?;
                let s = uncertainty::margin(p);
                Ok(diversity::cluster_margin(ctx.candidates, &s, batch, params.cluster_margin_factor, seed)
                    .into_iter()
                    .map(|c| {
                        let (gap, a, b) = top_two_names(ctx, p.row(c.index));
                        Candidate {
                            index: c.index,
                            score: c.score,
                            reason: format!(
                                "margin {gap:.3} between '{a}' and '{b}', from a group of {} similar uncertain samples",
                                c.cluster_size
                            ),
                        }
                    })
                    .collect())
            }
            StrategyKind::Badge => {
                let p = ctx.require_probs("badge")?;
                crate::model::check_finite(ctx.candidates)?;
                let (h, append_one) = match ctx.embeddings {
                    Some(e) => (e, false),
                    None => (ctx.candidates, true),
                };
                crate::model::check_finite(h)?;
                Ok(diversity::badge(h, append_one, p, batch, seed)
                    .into_iter()
                    .enumerate()
                    .map(|(n, (i, g))| {
                        let (gap, a, b) = top_two_names(ctx, p.row(i));
                        Candidate {
                            index: i,
                            score: g,
                            reason: if n == 0 {
                                format!("largest expected gradient ({g:.2}); margin {gap:.3} between '{a}' and '{b}'")
                            } else {
                                format!("uncertain and unlike the others picked (gradient distance {g:.2}); '{a}' vs '{b}'")
                            },
                        }
                    })
                    .collect())
            }
            StrategyKind::Typiclust => {
                crate::model::check_finite(ctx.candidates)?;
                Ok(coldstart::typiclust(ctx.candidates, ctx.labelled, batch, &params.typiclust, seed)
                    .into_iter()
                    .map(|t| Candidate { index: t.index, score: t.typicality, reason: typiclust_reason(&t) })
                    .collect())
            }
            StrategyKind::Auto => auto::select(ctx, batch, params),
        }
    }
}

/// Reason string for a TypiClust pick.
pub(crate) fn typiclust_reason(t: &coldstart::TypicalPick) -> String {
    let cover = match t.cluster_labelled {
        0 => "none labelled yet".to_string(),
        1 => "1 labelled".to_string(),
        n => format!("{n} labelled"),
    };
    format!("typical of a group of {} similar samples ({cover})", t.cluster_size)
}


