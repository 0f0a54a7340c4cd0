//! What Coates & Ng features buy over raw pixels: softmax-regression test accuracy on the
//! Fashion-MNIST 1k subset (datasets/) at several label budgets, over a few seeds.
//!
//! Protocol, per seed: stratified 80/20 split (800 pool images, 200 test); features are
//! fitted on the 800 pool images only (unsupervised, as the app would on its pool); for
//! each budget a random subset of the pool is labelled; softmax regression (L-BFGS,
//! scikit-learn's C) is fitted and scored on the 200 test images. Pixels are /255;
//! Coates features are standardized with the pool's mean and standard deviation.
//! With 1000 images in all, the largest budget is the whole 800-image pool.
//!
//! cargo run --release --example coates_fashion -- [K centroids, default 128] [seeds, default 5]

use std::io::Read;
use std::time::Instant;

use marginalia::compute::coates::CoatesParams;
use marginalia::data::{idx, split};
use marginalia::model::softmax::SoftmaxParams;
use marginalia::model::Classifier;
use ndarray::{Array2, Axis};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn gunzip(path: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let f = std::fs::File::open(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    flate2::read::GzDecoder::new(f).read_to_end(&mut out).unwrap_or_else(|e| panic!("{path}: {e}"));
    out
}

fn rows(x: &Array2<f32>, idx: &[usize]) -> Array2<f32> {
    x.select(Axis(0), idx)
}

fn accuracy(c: f64, x: &Array2<f32>, y: &[u32], train: &[usize], test: &[usize]) -> f64 {
    let mut m = SoftmaxParams::default().c(c).build().expect("params");
    let ty: Vec<u32> = train.iter().map(|&i| y[i]).collect();
    m.fit(rows(x, train).view(), &ty, 10).expect("fit");
    let p = m.predict_proba(rows(x, test).view()).expect("predict");
    let hits = p
        .rows()
        .into_iter()
        .zip(test)
        .filter(|(r, &i)| {
            let arg = r.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map(|(j, _)| j).unwrap_or(0);
            arg as u32 == y[i]
        })
        .count();
    hits as f64 / test.len() as f64
}

fn standardize(x: &mut Array2<f32>, by: &[usize]) {
    let sub = rows(x, by);
    let mean = sub.mean_axis(Axis(0)).expect("rows");
    let sd = sub.std_axis(Axis(0), 0.0).mapv(|s| s.max(1e-3));
    *x -= &mean;
    *x /= &sd;
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let k: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(128);
    let seeds: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(5);
    let images = idx::parse_u8(&gunzip("datasets/fashion-mnist-1k-images-idx3-ubyte.gz")).expect("images");
    let labels = idx::parse_u8(&gunzip("datasets/fashion-mnist-1k-labels-idx1-ubyte.gz")).expect("labels");
    let (n, h, w) = (images.dims[0], images.dims[1], images.dims[2]);
    let y: Vec<u32> = labels.data.iter().map(|&v| v as u32).collect();
    let pixels = Array2::from_shape_fn((n, h * w), |(i, j)| images.data[i * h * w + j] as f32 / 255.0);
    let budgets = [100usize, 300, 800];
    let cs = [0.01f64, 0.1, 1.0];
    // acc[feature][c][budget] over seeds
    let mut acc = vec![vec![vec![Vec::new(); budgets.len()]; cs.len()]; 2];
    let (mut fit_s, mut transform_s) = (0.0, 0.0);
    for seed in 0..seeds {
        let (pool, test) = split::stratified(&y, 0.2, seed).expect("split");
        let pool_bytes: Vec<u8> = pool.iter().flat_map(|&i| images.data[i * h * w..(i + 1) * h * w].iter().copied()).collect();
        let t0 = Instant::now();
        let params = CoatesParams { n_centroids: k, seed, ..Default::default() };
        let extractor = params.fit(&pool_bytes, w, h).expect("coates fit");
        let t1 = Instant::now();
        let mut feats = extractor.transform(&images.data).expect("transform");
        let t2 = Instant::now();
        fit_s += (t1 - t0).as_secs_f64();
        transform_s += (t2 - t1).as_secs_f64();
        standardize(&mut feats, &pool);
        let mut order = pool.clone();
        order.shuffle(&mut ChaCha8Rng::seed_from_u64(1000 + seed));
        for (bi, &b) in budgets.iter().enumerate() {
            let labelled = &order[..b.min(order.len())];
            for (ci, &c) in cs.iter().enumerate() {
                acc[0][ci][bi].push(accuracy(c, &pixels, &y, labelled, &test));
                acc[1][ci][bi].push(accuracy(c, &feats, &y, labelled, &test));
            }
        }
        eprintln!("seed {seed} done");
    }
    println!(
        "Fashion-MNIST 1k subset, softmax regression test accuracy (200 test images per seed), mean ± sd over {seeds} seeds; Coates & Ng K = {k} (6×6 patches, {} features)",
        4 * k
    );
    println!("Coates fit {:.2} s per seed on 800 images; transform {:.2} ms per image (native, 1 thread)\n", fit_s / seeds as f64, transform_s / seeds as f64 / n as f64 * 1000.0);
    print!("| features | C |");
    for b in budgets {
        print!(" {b} labels |");
    }
    println!();
    println!("|---|---|{}", "---|".repeat(budgets.len()));
    for (fi, name) in ["pixels /255", "Coates & Ng"].iter().enumerate() {
        for (ci, c) in cs.iter().enumerate() {
            print!("| {name} | {c} |");
            for bi in 0..budgets.len() {
                let v = &acc[fi][ci][bi];
                let mean = v.iter().sum::<f64>() / v.len() as f64;
                let sd = (v.iter().map(|a| (a - mean).powi(2)).sum::<f64>() / v.len() as f64).sqrt();
                print!(" {:.1} ± {:.1} |", 100.0 * mean, 100.0 * sd);
            }
            println!();
        }
    }
}
