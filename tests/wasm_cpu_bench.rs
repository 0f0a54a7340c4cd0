//! Not a test: the wasm CPU benchmark run under Node (V8, the engine of Chromium) where
//! `process.cpuUsage()` gives on-CPU time, so the numbers hold on a shared, loaded machine
//! (browser timers only give wall time). Prints BENCH lines; asserts nothing about time.
//! Run with scripts/compute-bench-wasm-cpu.sh (scalar and SIMD128 builds).
#![cfg(target_arch = "wasm32")]

use marginalia::compute::matmul::{matmul, SIMD128};
use marginalia::compute::{cpu, Layer, Measure, Network, PoolMatrix, ScoreRequest};
use ndarray::{Array1, Array2};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

fn get(obj: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// On-CPU milliseconds of this Node process (user + system), from process.cpuUsage().
fn cpu_ms() -> f64 {
    let process = get(&js_sys::global(), "process");
    let usage = get(&process, "cpuUsage").dyn_into::<js_sys::Function>().ok().and_then(|f| f.call0(&process).ok()).unwrap_or(JsValue::UNDEFINED);
    (get(&usage, "user").as_f64().unwrap_or(0.0) + get(&usage, "system").as_f64().unwrap_or(0.0)) / 1000.0
}

/// On-CPU ms per call, repeating until 300 ms of CPU have been used.
fn time_ms(mut f: impl FnMut()) -> f64 {
    let t0 = cpu_ms();
    let mut reps = 0;
    while reps == 0 || cpu_ms() - t0 < 300.0 {
        f();
        reps += 1;
    }
    (cpu_ms() - t0) / reps as f64
}

fn layer(rng: &mut ChaCha8Rng, d_in: usize, d_out: usize, relu: bool) -> Layer {
    let s = 1.0 / (d_in as f32).sqrt();
    Layer::new(Array2::from_shape_fn((d_in, d_out), |_| rng.random_range(-s..s)), Array1::from_shape_fn(d_out, |_| rng.random_range(-0.1..0.1)), relu).unwrap()
}

#[wasm_bindgen_test]
fn bench_wasm_cpu_table() {
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let a = Array2::from_shape_fn((2048, 784), |_| rng.random_range(-1.0..1.0f32));
    let b = Array2::from_shape_fn((784, 256), |_| rng.random_range(-1.0..1.0f32));
    let t = time_ms(|| {
        std::hint::black_box(matmul(a.view(), b.view(), None).unwrap());
    });
    console_log!("BENCH wasm (node) simd128={SIMD128}: matmul 2048×784 · 784×256: {:.1} ms on-CPU, {:.2} GFLOP/s", t, 2.0 * 2048.0 * 784.0 * 256.0 / t / 1e6);
    console_log!("BENCH | N | d | model | on-CPU ms / round | samples / s |");
    // Throughput is linear in N on the CPU (blocks of 2048 rows), so 10k rows give the rate.
    let n = 10_000;
    for &d in &[64usize, 784] {
        let mut p = PoolMatrix::new_u8(d, 1.0 / 255.0).unwrap();
        let bytes: Vec<u8> = (0..n * d).map(|_| rng.random()).collect();
        p.append_u8(&bytes).unwrap();
        let mlp = |seed: u64| Network::new(vec![layer(&mut ChaCha8Rng::seed_from_u64(seed), d, 256, true), layer(&mut ChaCha8Rng::seed_from_u64(seed + 100), 256, 10, false)]).unwrap();
        let cases: [(&str, Vec<Network>); 3] = [("softmax", vec![Network::new(vec![layer(&mut rng, d, 10, false)]).unwrap()]), ("MLP 256", vec![mlp(1)]), ("committee 5×MLP 256", (1..=5).map(mlp).collect())];
        for (name, members) in cases {
            let req = ScoreRequest { members, measure: Measure::Entropy, want_probs: false, want_member_probs: false };
            let c = time_ms(|| {
                std::hint::black_box(cpu::score_pool(&p, &req).unwrap());
            });
            console_log!("BENCH | {n} | {d} | {name} | {:.1} | {:.0} |", c, n as f64 / c * 1e3);
        }
    }
}
