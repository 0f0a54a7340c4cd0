//! Not a test: the browser half of the scoring benchmark (examples/bench_scoring.rs is
//! the native half), riding on wasm-bindgen-test because that is the one way here to run
//! wasm in headless Chromium with WebGPU. It asserts nothing about time; it prints a
//! table. Run it with scripts/compute-bench-wasm.sh (once per build: scalar, SIMD).
//! Build with MARGINALIA_BENCH_QUICK=1 for the 1k/10k cases only, MARGINALIA_BENCH_NO_GPU=1
//! for the CPU columns only.
#![cfg(target_arch = "wasm32")]

use marginalia::compute::gpu::{GpuContext, GpuOptions};
use marginalia::compute::matmul::{matmul, SIMD128};
use marginalia::compute::{cpu, Layer, Measure, Network, PoolMatrix, ScoreRequest};
use ndarray::{Array1, Array2};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn now_ms() -> f64 {
    let perf = js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("performance")).unwrap_or(JsValue::UNDEFINED);
    let now = js_sys::Reflect::get(&perf, &JsValue::from_str("now")).ok().and_then(|f| f.dyn_into::<js_sys::Function>().ok());
    now.and_then(|f| f.call0(&perf).ok()).and_then(|v| v.as_f64()).unwrap_or(0.0)
}

fn layer(rng: &mut ChaCha8Rng, d_in: usize, d_out: usize, relu: bool) -> Layer {
    let s = 1.0 / (d_in as f32).sqrt();
    Layer::new(Array2::from_shape_fn((d_in, d_out), |_| rng.random_range(-s..s)), Array1::from_shape_fn(d_out, |_| rng.random_range(-0.1..0.1)), relu).unwrap()
}

fn pool(rng: &mut ChaCha8Rng, n: usize, d: usize) -> PoolMatrix {
    if d == 784 {
        let mut p = PoolMatrix::new_u8(d, 1.0 / 255.0).unwrap();
        let bytes: Vec<u8> = (0..n * d).map(|_| rng.random()).collect();
        p.append_u8(&bytes).unwrap();
        p
    } else {
        let mut p = PoolMatrix::new_f32(d).unwrap();
        p.append_f32(Array2::from_shape_fn((n, d), |_| rng.random_range(-1.0..1.0f32)).view()).unwrap();
        p
    }
}

/// Mean ms per call, repeating until 300 ms have passed.
fn time_ms(mut f: impl FnMut()) -> f64 {
    let t0 = now_ms();
    let mut reps = 0;
    while reps == 0 || now_ms() - t0 < 300.0 {
        f();
        reps += 1;
    }
    (now_ms() - t0) / reps as f64
}

#[wasm_bindgen_test]
async fn bench_scoring_table() {
    let quick = option_env!("MARGINALIA_BENCH_QUICK").is_some();
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let a = Array2::from_shape_fn((2048, 784), |_| rng.random_range(-1.0..1.0f32));
    let b = Array2::from_shape_fn((784, 256), |_| rng.random_range(-1.0..1.0f32));
    let t = time_ms(|| {
        std::hint::black_box(matmul(a.view(), b.view(), None).unwrap());
    });
    console_log!("BENCH wasm simd128={SIMD128}: matmul 2048×784 · 784×256: {:.1} ms, {:.2} GFLOP/s", t, 2.0 * 2048.0 * 784.0 * 256.0 / t / 1e6);

    // MARGINALIA_BENCH_NO_GPU=1 at build time: CPU columns only (the SIMD build's GPU
    // numbers would repeat the scalar build's).
    let mut gpu = match if option_env!("MARGINALIA_BENCH_NO_GPU").is_some() { Err(marginalia::Error::Gpu("skipped (MARGINALIA_BENCH_NO_GPU)".into())) } else { GpuContext::new(GpuOptions::default()).await } {
        Ok(g) => {
            console_log!("BENCH gpu adapter: {}", g.adapter_info());
            Some(g)
        }
        Err(e) => {
            console_log!("BENCH no gpu: {e}");
            None
        }
    };
    console_log!("BENCH | N | d | model | wasm CPU ms / round | wasm CPU samples / s | WebGPU ms / round (warm) | WebGPU first round ms (with upload) |");
    let ns: &[usize] = if quick { &[1_000, 10_000] } else { &[1_000, 10_000, 100_000] };
    for &n in ns {
        for &d in &[64usize, 784] {
            let p = pool(&mut rng, n, d);
            let softmax = Network::new(vec![layer(&mut rng, d, 10, false)]).unwrap();
            let mlp = |seed: u64| Network::new(vec![layer(&mut ChaCha8Rng::seed_from_u64(seed), d, 256, true), layer(&mut ChaCha8Rng::seed_from_u64(seed + 100), 256, 10, false)]).unwrap();
            let cases: [(&str, Vec<Network>); 3] = [("softmax", vec![softmax]), ("MLP 256", vec![mlp(1)]), ("committee 5×MLP 256", (1..=5).map(mlp).collect())];
            for (name, members) in cases {
                let req = ScoreRequest { members, measure: Measure::Entropy, want_probs: false, want_member_probs: false };
                let c = time_ms(|| {
                    std::hint::black_box(cpu::score_pool(&p, &req).unwrap());
                });
                let (mut g_warm, mut g_first) = (String::from("-"), String::from("-"));
                if let Some(g) = gpu.as_mut() {
                    let t0 = now_ms();
                    match g.score_pool(&p, &req).await {
                        Ok(_) => {
                            g_first = format!("{:.1}", now_ms() - t0);
                            let t1 = now_ms();
                            let r = g.score_pool(&p, &req).await;
                            g_warm = match r {
                                Ok(_) => format!("{:.1}", now_ms() - t1),
                                Err(e) => format!("error: {e}"),
                            };
                        }
                        Err(e) => g_first = format!("error: {e}"),
                    }
                }
                console_log!("BENCH | {n} | {d} | {name} | {:.1} | {:.0} | {g_warm} | {g_first} |", c, n as f64 / c * 1e3);
            }
        }
    }
}
