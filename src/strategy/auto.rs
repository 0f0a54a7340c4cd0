//! `auto`, the default strategy: picks and mixes the others by the state of the session.
//!
//! Rules, in order (each pick's reason says which rule fired):
//! 1. **Cold start** (no model yet, fewer than two classes labelled, or fewer than
//!    `cold_start_per_class` labels per class): TypiClust. Hacohen, Dekel & Weinshall
//!    (2022) show that with few labels, uncertainty sampling can do worse than random
//!    while typical, diverse samples do better; TypiClust needs neither model nor labels.
//! 2. **Class imbalance** (the most-labelled class has `imbalance_ratio` times the labels
//!    of the least, or some class has none yet): the margin score is re-weighted towards
//!    candidates whose two likeliest classes are rare in the labelled set, so rare classes
//!    are found and their boundaries refined (class-balanced selection in the spirit of
//!    Aggarwal, Popescu & Hudelot 2020, "Active learning for imbalanced datasets").
//! 3. **Batch > 1**: cluster-margin (Citovsky et al. 2021), so the batch is uncertain and
//!    not redundant.
//! 4. Otherwise: margin sampling, the strongest single-sample baseline in large benchmark
//!    studies of uncertainty measures with linear models (e.g. Yang & Loog 2018).

use super::{coldstart, diversity, select, typiclust_reason, uncertainty, Context, Query, StrategyParams};
use crate::{Error, Result};

/// Switching rules of `auto`, with defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AutoParams {
    /// Use TypiClust while there are fewer than this many labels per class (default 2).
    pub cold_start_per_class: f32,
    /// Treat the labelled set as imbalanced when the largest class count is at least this
    /// multiple of the smallest (default 3).
    pub imbalance_ratio: f32,
}

impl Default for AutoParams {
    fn default() -> Self {
        AutoParams { cold_start_per_class: 2.0, imbalance_ratio: 3.0 }
    }
}

impl AutoParams {
    /// Check the values are usable.
    pub fn check(&self) -> Result<()> {
        if !(self.cold_start_per_class.is_finite() && self.cold_start_per_class >= 0.0) {
            return Err(Error::param("auto.cold_start_per_class", format!("must be ≥ 0, got {}", self.cold_start_per_class)));
        }
        if !(self.imbalance_ratio.is_finite() && self.imbalance_ratio >= 1.0) {
            return Err(Error::param("auto.imbalance_ratio", format!("must be ≥ 1, got {}", self.imbalance_ratio)));
        }
        Ok(())
    }
}

/// Which rule `auto` applies to a session, and why (for the reason string).
#[derive(Debug, Clone, PartialEq)]
pub enum AutoChoice {
    ColdStart(String),
    RareClasses(String),
    Margin,
}

/// Decide the rule for this session state.
pub fn choose(ctx: &Context, params: &AutoParams) -> AutoChoice {
    let counts = ctx.class_counts();
    let seen: Vec<usize> = counts.iter().copied().filter(|&c| c > 0).collect();
    let n = ctx.labels.len();
    if ctx.probs.is_none() {
        return AutoChoice::ColdStart("no model yet".into());
    }
    if seen.len() < 2 {
        return AutoChoice::ColdStart(format!("only {} class labelled so far", seen.len()));
    }
    if (n as f32) < params.cold_start_per_class * ctx.n_classes as f32 {
        return AutoChoice::ColdStart(format!("{n} labels for {} classes is too few to trust uncertainty", ctx.n_classes));
    }
    let max = seen.iter().copied().max().unwrap_or(0);
    let min = seen.iter().copied().min().unwrap_or(0);
    if seen.len() < ctx.n_classes {
        return AutoChoice::RareClasses(format!("{} of {} classes have no labels yet", ctx.n_classes - seen.len(), ctx.n_classes));
    }
    if max as f32 >= params.imbalance_ratio * min as f32 {
        return AutoChoice::RareClasses(format!("labels are imbalanced ({max} vs {min} per class)"));
    }
    AutoChoice::Margin
}

/// Margin uncertainty 1 − (p₁ − p₂) weighted by how rare the two likeliest classes are in
/// the labelled set: w_c = (n̄ + 1) / (n_c + 1) with n̄ the mean count, score =
/// (1 − margin) · (w_{c1} + w_{c2}) / 2. Unlabelled classes get the largest weight.
pub fn rare_class_margin(ctx: &Context, p: ndarray::ArrayView2<f32>) -> Vec<f32> {
    let counts = ctx.class_counts();
    let mean = counts.iter().sum::<usize>() as f32 / counts.len().max(1) as f32;
    let w: Vec<f32> = counts.iter().map(|&c| (mean + 1.0) / (c as f32 + 1.0)).collect();
    p.rows()
        .into_iter()
        .map(|row| {
            let (p1, c1, p2, c2) = uncertainty::top_two(row);
            let wc = (w.get(c1).copied().unwrap_or(1.0) + w.get(c2).copied().unwrap_or(1.0)) / 2.0;
            (1.0 - (p1 - p2)) * wc
        })
        .collect()
}

/// Run `auto` (see the module docs).
pub fn select(ctx: &Context, batch: usize, params: &StrategyParams) -> Result<Vec<Query>> {
    let m = ctx.candidates.nrows();
    let batch = batch.min(m);
    let choice = choose(ctx, &params.auto);
    let p = match (&choice, ctx.probs) {
        (AutoChoice::ColdStart(_), _) | (_, None) => {
            let why = match &choice {
                AutoChoice::ColdStart(w) => w.clone(),
                _ => "no model yet".into(),
            };
            crate::model::check_finite(ctx.candidates)?;
            return Ok(coldstart::typiclust(ctx.candidates, ctx.labelled, batch, &params.typiclust, ctx.seed)
                .into_iter()
                .map(|t| Query { index: t.index, score: t.typicality, reason: format!("auto → typiclust ({why}): {}", typiclust_reason(&t)) })
                .collect());
        }
        (_, Some(p)) => p,
    };
    let (scores, why) = match &choice {
        AutoChoice::RareClasses(why) => (rare_class_margin(ctx, p), Some(why.clone())),
        _ => (uncertainty::margin(p).iter().map(|&v| 1.0 + v).collect(), None),
    };
    let describe = |i: usize, extra: &str| {
        let (p1, c1, p2, c2) = uncertainty::top_two(p.row(i));
        let base = format!("margin {:.3} between '{}' and '{}'", p1 - p2, ctx.class_name(c1), ctx.class_name(c2));
        match &why {
            Some(w) => format!("auto → rare-class margin ({w}){extra}: {base}"),
            None if extra.is_empty() => format!("auto → margin: {base}"),
            None => format!("auto → cluster_margin{extra}: {base}"),
        }
    };
    if batch > 1 {
        return Ok(diversity::cluster_margin(ctx.candidates, &scores, batch, params.cluster_margin_factor, ctx.seed)
            .into_iter()
            .map(|c| Query { index: c.index, score: c.score, reason: describe(c.index, " (batch of many: one per group of similar samples)") })
            .collect());
    }
    Ok(select::top_k(&scores, batch, ctx.seed).into_iter().map(|i| Query { index: i, score: scores[i], reason: describe(i, "") }).collect())
}
