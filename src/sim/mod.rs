//! The simulation harness: runs the active-learning loop with a known-label oracle and
//! reports learning curves as JSON lines (protocol in issue 3, restated here):
//!
//! per seed s = 0..N−1: stratified split with `test_frac` held out (seed s); features
//! fitted on the pool; K initial labels drawn at random from the pool (default 2 ×
//! classes, redrawn until at least two classes appear); then batches of B queried labels
//! until the budget (total labels, the initial ones included; the last batch is cut to
//! fit), refitting after each batch; test accuracy after the initial fit and after each
//! batch. AULC = trapezoid area under accuracy per step / number of steps (the mean of
//! adjacent-step averages). A round is query + teach + refit, timed per batch.
//!
//! A budget larger than the pool is cut to the pool size (said on stderr), not an error.

pub mod args;
pub mod images;
pub mod npy;
pub mod texts;

use std::io::Write;
use std::time::Instant;

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde_json::json;

pub use args::{Format, Options, USAGE};

use crate::data::dataset::{Dataset, FeatureKind};
use crate::data::stream;
use crate::data::{idx, split};
use crate::learner::Learner;
use crate::model::any::ModelSpec;
use crate::{Error, Result};

/// Read a file, unpacking gzip when the bytes start with its magic number.
pub fn read_bytes(path: &str) -> Result<Vec<u8>> {
    let raw = std::fs::read(path).map_err(|e| Error::Io { path: path.into(), msg: e.to_string() })?;
    if raw.starts_with(&[0x1f, 0x8b]) {
        use std::io::Read;
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .map_err(|e| Error::Io { path: path.into(), msg: format!("gzip: {e}") })?;
        return Ok(out);
    }
    Ok(raw)
}

/// Load the dataset the options name.
pub fn load(opts: &Options) -> Result<Dataset> {
    match opts.format {
        Format::Folder => images::dataset(images::read_folder(&opts.data)?, opts.features, opts.image_size),
        Format::Idx => {
            let bytes = read_bytes(&opts.data)?;
            let labels_path = opts.labels.as_deref().ok_or_else(|| Error::param("labels", "--format idx needs --labels FILE"))?;
            let images = idx::parse_u8(&bytes)?;
            let labels = idx::parse_u8(&read_bytes(labels_path)?)?;
            if opts.features == FeatureKind::Pixels {
                return Dataset::from_idx(&images, &labels, opts.features);
            }
            let (h, w) = match images.dims[..] {
                [_, h, w] => (h, w),
                _ => return Err(Error::param("--features", format!("{} features need IDX images of n × height × width", opts.features.name()))),
            };
            let y = labels.data.iter().map(|&l| l as u32).collect();
            images::dataset(images::from_idx_grey(&images.data, h, w, y)?, opts.features, opts.image_size)
        }
        Format::Csv | Format::Tsv | Format::Jsonl => {
            let bytes = read_bytes(&opts.data)?;
            let t = match opts.format {
                Format::Csv => stream::parse_csv(&bytes)?,
                Format::Tsv => stream::parse_tsv(&bytes)?,
                _ => stream::parse_jsonl(&bytes)?,
            };
            let data = Dataset::from_table(t, &opts.label_col, opts.text_col.as_deref(), opts.features)?;
            // A text column learns from sentence embeddings when asked, and by default
            // from what the app chooses for text (encoder::default_text_features).
            let kind = match opts.features {
                FeatureKind::Auto if data.kind() == FeatureKind::Text => crate::encoder::default_text_features(),
                k => k,
            };
            match kind {
                FeatureKind::Pretrained | FeatureKind::TextAndPretrained => texts::with_embeddings(data, kind),
                _ => Ok(data),
            }
        }
    }
}

/// AULC: trapezoid area under `acc` (unit spacing) divided by the number of steps; a
/// single point is its own AULC.
pub fn aulc(acc: &[f64]) -> f64 {
    match acc.len() {
        0 => 0.0,
        1 => acc[0],
        n => acc.windows(2).map(|w| 0.5 * (w[0] + w[1])).sum::<f64>() / (n - 1) as f64,
    }
}

/// Median (mean of the middle two for an even count); 0 for none.
pub fn median(v: &[f64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let m = s.len() / 2;
    if s.len() % 2 == 1 {
        s[m]
    } else {
        0.5 * (s[m - 1] + s[m])
    }
}

/// `k` initial pool rows drawn at random, redrawn until they hold two or more classes.
pub fn initial_labels(pool_y: &[u32], k: usize, seed: u64) -> Result<Vec<usize>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut rows: Vec<usize> = (0..pool_y.len()).collect();
    let k = k.min(rows.len());
    for _ in 0..1000 {
        rows.shuffle(&mut rng);
        let pick = &rows[..k];
        if pick.iter().any(|&i| pool_y[i] != pool_y[pick[0]]) {
            let mut pick = pick.to_vec();
            pick.sort_unstable();
            return Ok(pick);
        }
    }
    Err(Error::State(format!("could not draw {k} initial labels with two classes from a pool of {}", pool_y.len())))
}

/// One split of the data, featurized.
pub struct Split {
    pub pool_x: ndarray::Array2<f32>,
    pub pool_y: Vec<u32>,
    pub test_x: ndarray::Array2<f32>,
    pub test_y: Vec<u32>,
    pub init: Vec<usize>,
}

/// The split, features and initial labels of seed `seed`.
pub fn prepare(data: &Dataset, opts: &Options, seed: u64) -> Result<Split> {
    let (pool, test) = split::stratified(&data.labels, opts.test_frac, seed)?;
    if pool.is_empty() || test.is_empty() {
        return Err(Error::Empty("pool or test split".into()));
    }
    let (pool_x, test_x) = data.featurize(&pool, &test)?;
    let pool_y: Vec<u32> = pool.iter().map(|&i| data.labels[i]).collect();
    let test_y: Vec<u32> = test.iter().map(|&i| data.labels[i]).collect();
    let k = opts.init.unwrap_or(2 * data.n_classes());
    let init = initial_labels(&pool_y, k, seed.wrapping_add(0x5EED))?;
    Ok(Split { pool_x, pool_y, test_x, test_y, init })
}

/// One learning curve.
#[derive(Debug, Clone, PartialEq)]
pub struct Curve {
    pub labels: Vec<usize>,
    pub accuracy: Vec<f64>,
    pub round_ms: Vec<f64>,
}

/// Run one strategy on one prepared split.
pub fn run_curve(s: &Split, strategy: &str, model: &ModelSpec, committee: usize, batch: usize, budget: usize, seed: u64) -> Result<Curve> {
    run_learner(s, strategy, model, committee, batch, budget, seed).map(|(c, _)| c)
}

/// [`run_curve`], also handing back the learner as the loop left it (fitted on the
/// labels the strategy chose), for measurements after the loop (examples/calibration.rs).
pub fn run_learner(s: &Split, strategy: &str, model: &ModelSpec, committee: usize, batch: usize, budget: usize, seed: u64) -> Result<(Curve, Learner)> {
    let n_classes = s.pool_y.iter().chain(&s.test_y).max().map_or(0, |&m| m as usize + 1).max(2);
    let mut l = Learner::new(s.pool_x.clone(), n_classes, seed)?;
    l.set_model(model.clone());
    l.set_committee(committee)?;
    l.set_strategy(strategy)?;
    // The simulator never asks for a stop suggestion; skip the per-fit stop-set pass.
    l.set_stop_tracking(false);
    l.teach_many(&s.init.iter().map(|&i| (i, s.pool_y[i])).collect::<Vec<_>>())?;
    l.fit()?;
    let acc = |l: &Learner| -> Result<f64> { Ok(l.accuracy(s.test_x.view(), &s.test_y)?.unwrap_or(0.0)) };
    let mut curve = Curve { labels: vec![l.labelled_count()], accuracy: vec![acc(&l)?], round_ms: Vec::new() };
    let budget = budget.min(l.len());
    while l.labelled_count() < budget {
        let want = batch.min(budget - l.labelled_count());
        let t0 = Instant::now();
        let picks = l.query(want)?;
        if picks.is_empty() {
            break;
        }
        l.teach_many(&picks.iter().map(|q| (q.index, s.pool_y[q.index])).collect::<Vec<_>>())?;
        l.fit()?;
        curve.round_ms.push(t0.elapsed().as_secs_f64() * 1e3);
        curve.labels.push(l.labelled_count());
        curve.accuracy.push(acc(&l)?);
    }
    Ok((curve, l))
}

/// Mean and sample standard deviation (0 for one value).
pub fn mean_sd(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    let var = if v.len() > 1 { v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0) } else { 0.0 };
    (m, var.sqrt())
}

fn write_line(out: &mut impl Write, v: &serde_json::Value) -> Result<()> {
    writeln!(out, "{v}").map_err(|e| Error::Io { path: "stdout".into(), msg: e.to_string() })
}

/// The whole program: parse `args`, run every (strategy, seed), print JSON lines.
pub fn main_with(args: &[String], out: &mut impl Write) -> Result<()> {
    let opts = args::parse(args)?;
    if opts.help {
        writeln!(out, "{USAGE}").map_err(|e| Error::Io { path: "stdout".into(), msg: e.to_string() })?;
        return Ok(());
    }
    let data = load(&opts)?;
    if data.n_classes() < 2 {
        return Err(Error::State(format!("the data has {} class; need at least 2", data.n_classes())));
    }
    let splits = (0..opts.seeds as u64).map(|s| prepare(&data, &opts, s)).collect::<Result<Vec<_>>>()?;
    if let Some(dir) = &opts.dump {
        for (s, sp) in splits.iter().enumerate() {
            npy::dump_split(dir, s, sp)?;
        }
    }
    let pool_n = splits[0].pool_y.len();
    let budget = opts.budget.unwrap_or(100);
    if budget > pool_n {
        eprintln!("marginalia-sim: budget {budget} is larger than the pool ({pool_n}); using {pool_n}");
    }
    for strategy in &opts.strategies {
        let (mut aulcs, mut finals, mut rounds) = (Vec::new(), Vec::new(), Vec::new());
        for (s, sp) in splits.iter().enumerate() {
            let c = run_curve(sp, strategy, &opts.model, opts.committee, opts.batch, budget, s as u64)?;
            let a = aulc(&c.accuracy);
            write_line(
                out,
                &json!({"strategy": strategy, "seed": s, "labels": c.labels, "accuracy": c.accuracy,
                        "aulc": a, "round_ms_median": median(&c.round_ms)}),
            )?;
            aulcs.push(a);
            finals.push(*c.accuracy.last().unwrap_or(&0.0));
            rounds.extend(c.round_ms);
        }
        let (am, asd) = mean_sd(&aulcs);
        write_line(
            out,
            &json!({"strategy": strategy, "summary": true, "seeds": opts.seeds, "aulc_mean": am, "aulc_sd": asd,
                    "final_acc_mean": mean_sd(&finals).0, "round_ms_median": median(&rounds)}),
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aulc_is_trapezoid_over_steps() {
        assert_eq!(aulc(&[0.5, 0.7, 0.9]), (0.6 + 0.8) / 2.0);
        assert_eq!(aulc(&[0.4]), 0.4);
        assert_eq!(median(&[3.0, 1.0, 2.0, 10.0]), 2.5);
    }

    #[test]
    fn initial_labels_cover_two_classes() {
        let y = [0u32, 0, 0, 0, 0, 0, 0, 0, 0, 1];
        let pick = initial_labels(&y, 2, 4).unwrap();
        assert!(pick.contains(&9), "{pick:?}");
        assert!(initial_labels(&[1, 1, 1], 2, 0).is_err());
    }
}
