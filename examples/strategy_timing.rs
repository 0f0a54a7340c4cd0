//! Time every strategy's `select` on a synthetic pool and print a table.
//!
//!     cargo run --release --example strategy_timing -- [ROWS] [DIMS] [BATCH] [LABELLED]
//!
//! Defaults: 100 000 rows × 64 features, 10 classes, batch 10, 100 labelled. The features
//! are smooth seeded patterns (not random noise) so clustering has structure to find;
//! the probabilities come from a random linear model, so timings do not depend on a fit.

use std::time::Instant;

use marginalia::strategy::{Context, StrategyKind};
use ndarray::{Array2, Axis};
use rand::Rng;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let m = args.first().copied().unwrap_or(100_000);
    let d = args.get(1).copied().unwrap_or(64);
    let batch = args.get(2).copied().unwrap_or(10);
    let l = args.get(3).copied().unwrap_or(100);
    let k = 10;
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let centres = Array2::from_shape_fn((k, d), |_| rng.random::<f32>() * 4.0 - 2.0);
    let x = Array2::from_shape_fn((m + l, d), |(i, j)| centres[[i % k, j]] + ((i * 31 + j * 17) % 97) as f32 / 97.0 - 0.5);
    let w = Array2::from_shape_fn((d, k), |_| rng.random::<f32>() - 0.5);
    let cand = x.slice(ndarray::s![..m, ..]).to_owned();
    let lab = x.slice(ndarray::s![m.., ..]).to_owned();
    let labels: Vec<u32> = (0..l).map(|i| ((m + i) % k) as u32).collect();
    let mut p = cand.dot(&w);
    for mut row in p.rows_mut() {
        let mx = row.fold(f32::NEG_INFINITY, |a, &b| a.max(b));
        row.mapv_inplace(|v| (v - mx).exp());
        let s = row.sum();
        row.mapv_inplace(|v| v / s);
    }
    let committee: Vec<Array2<f32>> = (0..3)
        .map(|c| {
            let mut q = p.clone();
            q.axis_iter_mut(Axis(0)).enumerate().filter(|(i, _)| i % 3 == c).for_each(|(_, mut r)| r.mapv_inplace(|v| v * 0.5 + 0.05));
            q
        })
        .collect();
    let ctx = Context {
        candidates: cand.view(),
        labelled: lab.view(),
        labels: &labels,
        probs: Some(p.view()),
        committee: Some(&committee),
        embeddings: None,
        class_names: &[],
        n_classes: k,
        seed: 1,
    };
    println!("pool {m} × {d}, {k} classes, batch {batch}, {l} labelled\n");
    println!("| strategy | select ms |");
    println!("|---|---:|");
    for kind in StrategyKind::ALL {
        let t = Instant::now();
        let q = kind.select(&ctx, batch);
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        match q {
            Ok(q) => println!("| {} | {ms:.1} |  ({} picks)", kind.name(), q.len()),
            Err(e) => println!("| {} | error: {e} |", kind.name()),
        }
    }
}
