//! Pool-scoring throughput of the CPU backend, natively: the same cases, the same seeded
//! data and weights, and the same timing rule as the browser page `npm run bench` runs
//! (www/bench/cases.ts), so the wasm-to-native ratio compares equal work.
//!
//! Cases: N ∈ {1k, 10k, 100k} pool rows × d ∈ {64, 784} features × {softmax regression,
//! MLP with 256 hidden units, committee of 5 such MLPs}, 10 classes. Pools of d = 784 are
//! stored as u8 pixels (as the app stores images), d = 64 as f32. A round: the forward
//! pass, entropy scores, top 10. Prints a Markdown table (or, with `--json`, one JSON
//! object per line for scripts/bench.mjs) plus the matrix product 2048×784 · 784×256.
//!
//! cargo run --release --example bench_scoring [-- [quick] [--json] [--budget-ms 2000]]

use std::time::Instant;

use marginalia::compute::matmul::{matmul, SIMD128};
use marginalia::compute::{cpu, Layer, Measure, Network, PoolMatrix, ScoreRequest};
use marginalia::strategy::select::top_k;
use ndarray::{Array1, Array2};

/// xorshift32 (Marsaglia 2003, shifts 13/17/5), as `XorShift32` in www/bench/cases.ts.
struct XorShift32(u32);

impl XorShift32 {
    fn new(seed: u32) -> Self {
        XorShift32(if seed == 0 { 1 } else { seed })
    }
    fn next_u32(&mut self) -> u32 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.0 = x;
        x
    }
    /// f32 in [lo, hi): lo + (hi − lo)·u, u = (x >> 8) / 2²⁴.
    fn uniform(&mut self, lo: f32, hi: f32) -> f32 {
        let u = (self.next_u32() >> 8) as f32 / 16_777_216.0;
        (hi - lo) * u + lo
    }
}

fn pool_seed(n: usize, d: usize) -> u32 {
    (n as u32).wrapping_mul(31).wrapping_add(d as u32)
}
fn member_seed(d: usize, member: usize) -> u32 {
    0x5eed + d as u32 * 7 + member as u32 * 101
}

fn pool(n: usize, d: usize) -> PoolMatrix {
    let mut rng = XorShift32::new(pool_seed(n, d));
    if d == 784 {
        let mut p = PoolMatrix::new_u8(d, 1.0 / 255.0).expect("pool");
        let bytes: Vec<u8> = (0..n * d).map(|_| (rng.next_u32() >> 24) as u8).collect();
        p.append_u8(&bytes).expect("append");
        p
    } else {
        let mut p = PoolMatrix::new_f32(d).expect("pool");
        let v: Vec<f32> = (0..n * d).map(|_| rng.uniform(-1.0, 1.0)).collect();
        p.append_f32(Array2::from_shape_vec((n, d), v).expect("shape").view()).expect("append");
        p
    }
}

/// The model's members, in the layout of `makeWeights` in www/bench/cases.ts.
fn members(model: &str, d: usize) -> Vec<Network> {
    let sizes: &[usize] = if model == "softmax" { &[d, 10] } else { &[d, 256, 10] };
    let count = if model == "committee5" { 5 } else { 1 };
    (0..count)
        .map(|m| {
            let mut rng = XorShift32::new(member_seed(d, m));
            let layers = sizes
                .windows(2)
                .enumerate()
                .map(|(i, w)| {
                    let s = 1.0 / (w[0] as f32).sqrt();
                    let wts: Vec<f32> = (0..w[0] * w[1]).map(|_| rng.uniform(-s, s)).collect();
                    let b: Vec<f32> = (0..w[1]).map(|_| rng.uniform(-0.1, 0.1)).collect();
                    Layer::new(Array2::from_shape_vec((w[0], w[1]), wts).expect("shape"), Array1::from(b), i + 2 < sizes.len()).expect("layer")
                })
                .collect();
            Network::new(layers).expect("net")
        })
        .collect()
}

/// On-CPU time of this thread in seconds (Linux: /proc/thread-self/schedstat, first field
/// in ns). The build machines are shared, so wall time includes waiting for a core; this
/// does not. None elsewhere.
fn thread_cpu_s() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    Some(s.split_whitespace().next()?.parse::<f64>().ok()? / 1e9)
}

struct Timing {
    /// Median wall ms of the repeated rounds (or the first round when it was the only one).
    wall_ms: f64,
    /// On-CPU ms per round over the same rounds (wall where schedstat is missing).
    cpu_ms: f64,
    reps: usize,
}

/// The page's rule: one round; when it took less than `budget_ms`, rounds until
/// `budget_ms` have passed (at most 30, or 2,000 when a round is under 5 ms), median of those.
fn time<T>(budget_ms: f64, mut f: impl FnMut() -> T) -> Timing {
    let (t, c) = (Instant::now(), thread_cpu_s());
    std::hint::black_box(f());
    let first = t.elapsed().as_secs_f64() * 1e3;
    let first_cpu = c.zip(thread_cpu_s()).map_or(first, |(a, b)| (b - a) * 1e3);
    if first >= budget_ms {
        return Timing { wall_ms: first, cpu_ms: first_cpu, reps: 1 };
    }
    let (start, c0) = (Instant::now(), thread_cpu_s());
    let mut walls = Vec::new();
    let max_reps = if first < 5.0 { 2000 } else { 30 };
    while walls.len() < max_reps && (walls.is_empty() || start.elapsed().as_secs_f64() * 1e3 < budget_ms) {
        let t = Instant::now();
        std::hint::black_box(f());
        walls.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let total = start.elapsed().as_secs_f64() * 1e3;
    let cpu_total = c0.zip(thread_cpu_s()).map_or(total, |(a, b)| (b - a) * 1e3);
    walls.sort_by(|a, b| a.total_cmp(b));
    Timing { wall_ms: walls[walls.len() / 2], cpu_ms: cpu_total / walls.len() as f64, reps: walls.len() }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "quick" || a == "--quick");
    let json = args.iter().any(|a| a == "--json");
    let budget_ms: f64 = args.iter().position(|a| a == "--budget-ms").and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(2000.0);
    let ns: Vec<usize> = match args.iter().position(|a| a == "--ns").and_then(|i| args.get(i + 1)) {
        Some(list) => list.split(',').filter_map(|v| v.parse().ok()).collect(),
        None if quick => vec![1_000, 10_000],
        None => vec![1_000, 10_000, 100_000],
    };
    let build = if cfg!(debug_assertions) { "debug" } else { "release" };

    let mut rng = XorShift32::new(1);
    let a = Array2::from_shape_fn((2048, 784), |_| rng.uniform(-1.0, 1.0));
    let b = Array2::from_shape_fn((784, 256), |_| rng.uniform(-1.0, 1.0));
    let t = time(budget_ms, || matmul(a.view(), b.view(), None).expect("matmul"));
    let flop = 2.0 * 2048.0 * 784.0 * 256.0;
    if json {
        println!(r#"{{"kind":"matmul","m":2048,"k":784,"n":256,"wall_ms":{:.3},"cpu_ms":{:.3},"reps":{}}}"#, t.wall_ms, t.cpu_ms, t.reps);
    } else {
        println!("native CPU backend, {} ({build}), 1 thread; simd128 kernel: {SIMD128}\n", std::env::consts::ARCH);
        println!("matmul 2048×784 · 784×256: wall {:.1} ms ({:.2} GFLOP/s), on-CPU {:.1} ms ({:.2} GFLOP/s)\n", t.wall_ms, flop / t.wall_ms / 1e6, t.cpu_ms, flop / t.cpu_ms / 1e6);
        println!("| N | d | model | wall ms / round | on-CPU ms / round | samples / s (wall) |");
        println!("|---|---|---|---|---|---|");
    }
    for &n in &ns {
        for &d in &[64usize, 784] {
            let p = pool(n, d);
            for model in ["softmax", "mlp256", "committee5"] {
                let req = ScoreRequest { members: members(model, d), measure: Measure::Entropy, want_probs: false, want_member_probs: false };
                let t = time(budget_ms, || {
                    let s = cpu::score_pool(&p, &req).expect("score");
                    top_k(&s.scores, 10, 0)
                });
                if json {
                    println!(r#"{{"kind":"round","n":{n},"d":{d},"model":"{model}","wall_ms":{:.3},"cpu_ms":{:.3},"reps":{}}}"#, t.wall_ms, t.cpu_ms, t.reps);
                } else {
                    println!("| {n} | {d} | {model} | {:.1} | {:.1} | {:.0} |", t.wall_ms, t.cpu_ms, n as f64 / t.wall_ms * 1e3);
                }
            }
        }
    }
    if !json {
        println!("\npool bytes: N = 100k, d = 784 as u8 = {} MB (as f32 it would be {} MB)", 100_000 * 784 / 1_000_000, 100_000 * 784 * 4 / 1_000_000);
    }
}
