//! Pool-scoring throughput of the CPU backend, natively, for comparison with the wasm
//! builds later (the browser page runs the same cases through the same code).
//!
//! Cases: N ∈ {1k, 10k, 100k} pool rows × d ∈ {64, 784} features × {softmax regression,
//! MLP with 256 hidden units, committee of 5 MLPs}, 10 classes, entropy scores. Pools of
//! d = 784 are stored as u8 pixels (as the app stores images), d = 64 as f32. Prints a
//! Markdown table: median time per round over the repetitions and samples per second;
//! plus a matrix-product line (GFLOP/s of the blocked kernel at 2048×784 · 784×256).
//!
//! cargo run --release --example bench_scoring [-- quick]

use std::time::Instant;

use marginalia::compute::matmul::{matmul, SIMD128};
use marginalia::compute::{cpu, Layer, Measure, Network, PoolMatrix, ScoreRequest};
use ndarray::{Array1, Array2};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn layer(rng: &mut ChaCha8Rng, d_in: usize, d_out: usize, relu: bool) -> Layer {
    let s = 1.0 / (d_in as f32).sqrt();
    Layer::new(Array2::from_shape_fn((d_in, d_out), |_| rng.random_range(-s..s)), Array1::from_shape_fn(d_out, |_| rng.random_range(-0.1..0.1)), relu).expect("layer")
}

fn pool(rng: &mut ChaCha8Rng, n: usize, d: usize) -> PoolMatrix {
    if d == 784 {
        let mut p = PoolMatrix::new_u8(d, 1.0 / 255.0).expect("pool");
        let bytes: Vec<u8> = (0..n * d).map(|_| rng.random()).collect();
        p.append_u8(&bytes).expect("append");
        p
    } else {
        let mut p = PoolMatrix::new_f32(d).expect("pool");
        p.append_f32(Array2::from_shape_fn((n, d), |_| rng.random_range(-1.0..1.0f32)).view()).expect("append");
        p
    }
}

/// On-CPU time of this thread in seconds (Linux: /proc/thread-self/schedstat, first field
/// in ns). The build machines are shared, so wall time includes waiting for a core; this
/// does not. None elsewhere.
fn thread_cpu_s() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    Some(s.split_whitespace().next()?.parse::<f64>().ok()? / 1e9)
}

/// (wall seconds, on-CPU seconds) per call, repeating the call until 0.3 s of wall time
/// have passed (schedstat is only updated at scheduler ticks, so short calls need many).
fn time<T>(mut f: impl FnMut() -> T) -> (f64, f64) {
    let (t0, c0) = (Instant::now(), thread_cpu_s());
    let mut reps = 0u32;
    while reps == 0 || t0.elapsed().as_secs_f64() < 0.3 {
        std::hint::black_box(f());
        reps += 1;
    }
    let wall = t0.elapsed().as_secs_f64();
    let cpu = match (c0, thread_cpu_s()) {
        (Some(a), Some(b)) => b - a,
        _ => wall,
    };
    (wall / reps as f64, cpu / reps as f64)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    let quick = std::env::args().any(|a| a == "quick");
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    println!("native CPU backend, {} ({}), 1 thread; simd128 kernel: {SIMD128}\n", std::env::consts::ARCH, if cfg!(debug_assertions) { "debug" } else { "release" });

    let a = Array2::from_shape_fn((2048, 784), |_| rng.random_range(-1.0..1.0f32));
    let b = Array2::from_shape_fn((784, 256), |_| rng.random_range(-1.0..1.0f32));
    let reps = if quick { 2 } else { 5 };
    let t: Vec<(f64, f64)> = (0..reps).map(|_| time(|| matmul(a.view(), b.view(), None).expect("matmul"))).collect();
    let (w, c) = (median(t.iter().map(|x| x.0).collect()), median(t.iter().map(|x| x.1).collect()));
    let flop = 2.0 * 2048.0 * 784.0 * 256.0;
    println!("matmul 2048×784 · 784×256: wall {:.1} ms ({:.2} GFLOP/s), on-CPU {:.1} ms ({:.2} GFLOP/s)\n", w * 1e3, flop / w / 1e9, c * 1e3, flop / c / 1e9);

    println!("| N | d | model | wall ms / round | on-CPU ms / round | samples / s (on-CPU) |");
    println!("|---|---|---|---|---|---|");
    let ns: &[usize] = if quick { &[1_000, 10_000] } else { &[1_000, 10_000, 100_000] };
    for &n in ns {
        for &d in &[64usize, 784] {
            let p = pool(&mut rng, n, d);
            let softmax = Network::new(vec![layer(&mut rng, d, 10, false)]).expect("net");
            let mlp = || Network::new(vec![layer(&mut ChaCha8Rng::seed_from_u64(d as u64), d, 256, true), layer(&mut ChaCha8Rng::seed_from_u64(7), 256, 10, false)]).expect("net");
            let cases: [(&str, Vec<Network>); 3] = [("softmax", vec![softmax]), ("MLP 256", vec![mlp()]), ("committee 5×MLP 256", (0..5).map(|_| mlp()).collect())];
            for (name, members) in cases {
                let req = ScoreRequest { members, measure: Measure::Entropy, want_probs: false };
                // Fewer repetitions for the long cases: the median of 3 is enough at seconds.
                let reps = if n >= 100_000 || quick { 1 } else { 3 };
                let t: Vec<(f64, f64)> = (0..reps).map(|_| time(|| cpu::score_pool(&p, &req).expect("score"))).collect();
                let (w, c) = (median(t.iter().map(|x| x.0).collect()), median(t.iter().map(|x| x.1).collect()));
                println!("| {n} | {d} | {name} | {:.1} | {:.1} | {:.0} |", w * 1e3, c * 1e3, n as f64 / c);
            }
        }
    }
    println!("\npool bytes: N = 100k, d = 784 as u8 = {} MB (as f32 it would be {} MB)", 100_000 * 784 / 1_000_000, 100_000 * 784 * 4 / 1_000_000);
}
