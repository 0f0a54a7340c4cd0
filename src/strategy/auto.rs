//! `auto`, the default strategy: picks and mixes the others by the state of the session.
//! Every pick's reason names the sub-strategy and the rule that chose it.
//!
//! 1. **Cold start** (no model yet, or fewer than two classes labelled): the whole batch by
//!    TypiClust, which needs neither a model nor labels.
//! 2. **Few labels**: below `cold_start_per_class` (2) labels per class the whole batch is
//!    TypiClust; from there its share falls linearly to 0 at `warm_per_class` (7). Hacohen,
//!    Dekel & Weinshall (2022, "Active learning on a budget") show uncertainty sampling can
//!    fall below random with few labels, while typical, diverse samples do better; the
//!    crossover they report is a handful of labels per class, and the ramp was tuned on
//!    iris, digits and Fashion-MNIST (docs/STRATEGIES.md has the measurements).
//! 3. **A class never labelled**: at least half of the batch stays with TypiClust, because
//!    margin never asks about a class the model gives probability 0.
//! 4. **Class imbalance** (largest class count ≥ `imbalance_ratio` (3) × the smallest): the
//!    margin score is weighted towards candidates whose two likeliest classes are rare in
//!    the labelled set (class-balanced selection, in the spirit of Aggarwal, Popescu &
//!    Hudelot 2020, "Active learning for imbalanced datasets").
//! 5. The rest of the batch: for a batch of one, the smallest margin (Scheffer et al.
//!    2001); for larger batches cluster-margin (Citovsky et al. 2021) over the 2·b lowest
//!    margins, so the batch does not spend labels on near-duplicates.

use super::{coldstart, diversity, select, typiclust_reason, uncertainty, Candidate, Context, StrategyParams};
use crate::{Error, Result};

/// Switching rules of `auto`, with defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AutoParams {
    /// Below this many labels per class the whole batch is chosen by TypiClust (default 2).
    pub cold_start_per_class: f32,
    /// From this many labels per class on, TypiClust is no longer used; in between, its
    /// share of the batch falls linearly from 1 to 0 (default 7).
    pub warm_per_class: f32,
    /// Treat the labelled set as imbalanced when the largest class count is at least this
    /// multiple of the smallest (default 3).
    pub imbalance_ratio: f32,
    /// Choose the margin part of a batch by cluster-margin (true, default) or plain top-k
    /// margin.
    pub diverse_batches: bool,
    /// Cluster-margin's k_m as a multiple of the batch inside `auto` (default 2): with
    /// small batches on a linear model, reaching down to the 10·b lowest margins (the
    /// registry default) dilutes uncertainty more than diversity gains; 2·b keeps every
    /// pick near the top of the margin ranking while still splitting near-duplicates.
    pub cluster_margin_factor: usize,
}

impl Default for AutoParams {
    fn default() -> Self {
        AutoParams { cold_start_per_class: 2.0, warm_per_class: 7.0, imbalance_ratio: 3.0, diverse_batches: true, cluster_margin_factor: 2 }
    }
}

impl AutoParams {
    /// Check the values are usable.
    pub fn check(&self) -> Result<()> {
        if !(self.cold_start_per_class.is_finite() && self.cold_start_per_class >= 0.0) {
            return Err(Error::param("auto.cold_start_per_class", format!("must be ≥ 0, got {}", self.cold_start_per_class)));
        }
        if !(self.warm_per_class.is_finite() && self.warm_per_class >= self.cold_start_per_class) {
            return Err(Error::param(
                "auto.warm_per_class",
                format!("must be ≥ cold_start_per_class ({}), got {}", self.cold_start_per_class, self.warm_per_class),
            ));
        }
        if self.cluster_margin_factor == 0 {
            return Err(Error::param("auto.cluster_margin_factor", "must be at least 1"));
        }
        if !(self.imbalance_ratio.is_finite() && self.imbalance_ratio >= 1.0) {
            return Err(Error::param("auto.imbalance_ratio", format!("must be ≥ 1, got {}", self.imbalance_ratio)));
        }
        Ok(())
    }
}

/// What `auto` does this round: the share of the batch given to TypiClust (with why), and
/// how the rest is scored (with why, when it is not plain margin).
#[derive(Debug, Clone, PartialEq)]
pub struct AutoPlan {
    pub typical_share: f32,
    pub typical_why: String,
    pub rare_classes: Option<String>,
}

/// Decide the plan for this session state.
pub fn plan(ctx: &Context, params: &AutoParams) -> AutoPlan {
    let counts = ctx.class_counts();
    let seen: Vec<usize> = counts.iter().copied().filter(|&c| c > 0).collect();
    let n = ctx.labels.len();
    let k = ctx.n_classes.max(1) as f32;
    let cold = |why: String| AutoPlan { typical_share: 1.0, typical_why: why, rare_classes: None };
    if ctx.probs.is_none() {
        return cold("cold start: no model yet".into());
    }
    if seen.len() < 2 {
        return cold(format!("cold start: only {} class labelled so far", seen.len()));
    }
    let per_class = n as f32 / k;
    let mut share = if per_class < params.cold_start_per_class {
        1.0
    } else if per_class >= params.warm_per_class {
        0.0
    } else {
        (params.warm_per_class - per_class) / (params.warm_per_class - params.cold_start_per_class)
    };
    let mut why = format!("few labels: {n} for {} classes", ctx.n_classes);
    let mut rare = None;
    if seen.len() < ctx.n_classes {
        // Margin never asks about a class the model has not seen (its probability is 0),
        // so half of the batch keeps covering unexplored clusters until every class is in.
        if share < 0.5 {
            share = 0.5;
            why = format!("{} of {} classes not found yet", ctx.n_classes - seen.len(), ctx.n_classes);
        }
    } else {
        let max = seen.iter().copied().max().unwrap_or(0);
        let min = seen.iter().copied().min().unwrap_or(0);
        if max as f32 >= params.imbalance_ratio * min as f32 {
            rare = Some(format!("labels are imbalanced, {max} vs {min} per class"));
        }
    }
    AutoPlan { typical_share: share, typical_why: why, rare_classes: rare }
}

/// Margin uncertainty 1 − (p₁ − p₂) weighted by how rare the two likeliest classes are in
/// the labelled set: w_c = (n̄ + 1) / (n_c + 1) with n̄ the mean count, score =
/// (1 − margin) · (w_{c1} + w_{c2}) / 2.
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
pub fn select(ctx: &Context, batch: usize, params: &StrategyParams) -> Result<Vec<Candidate>> {
    let m = ctx.candidates.nrows();
    let batch = batch.min(m);
    let plan = plan(ctx, &params.auto);
    let n_typical = match ctx.probs {
        None => batch,
        // Round half up, so a batch of one follows the majority share.
        Some(_) => ((plan.typical_share * batch as f32) + 0.5).floor() as usize,
    }
    .min(batch);
    let mut out = Vec::with_capacity(batch);
    let mut taken = vec![false; m];
    if n_typical > 0 {
        crate::model::check_finite(ctx.candidates)?;
        for t in coldstart::typiclust(ctx.candidates, ctx.labelled, n_typical, &params.typiclust, ctx.seed) {
            taken[t.index] = true;
            out.push(Candidate {
                index: t.index,
                score: t.typicality,
                reason: format!("auto → typiclust ({}): {}", plan.typical_why, typiclust_reason(&t)),
            });
        }
    }
    let rest = batch - out.len();
    let Some(p) = ctx.probs else { return Ok(out) };
    if rest == 0 {
        return Ok(out);
    }
    let mut scores: Vec<f32> = match &plan.rare_classes {
        Some(_) => rare_class_margin(ctx, p),
        None => uncertainty::margin(p).iter().map(|&v| 1.0 + v).collect(),
    };
    // Samples already taken by TypiClust this round drop to the bottom.
    for (s, &t) in scores.iter_mut().zip(&taken) {
        if t {
            *s = f32::NEG_INFINITY;
        }
    }
    let describe = |i: usize, how: &str| {
        let (p1, c1, p2, c2) = uncertainty::top_two(p.row(i));
        let base = format!("margin {:.3} between '{}' and '{}'", p1 - p2, ctx.class_name(c1), ctx.class_name(c2));
        match &plan.rare_classes {
            Some(w) => format!("auto → {how}, favouring rare classes ({w}): {base}"),
            None => format!("auto → {how}: {base}"),
        }
    };
    let free = m - out.len();
    if rest > 1 && params.auto.diverse_batches {
        let picks = diversity::cluster_margin(ctx.candidates, &scores, rest.min(free), params.auto.cluster_margin_factor, ctx.seed);
        out.extend(picks.into_iter().map(|c| Candidate {
            index: c.index,
            score: c.score,
            reason: describe(c.index, &format!("cluster_margin (batch of {rest}: one per group of similar uncertain samples)")),
        }));
    } else {
        out.extend(select::top_k(&scores, rest.min(free), ctx.seed).into_iter().map(|i| Candidate { index: i, score: scores[i], reason: describe(i, "margin") }));
    }
    Ok(out)
}
