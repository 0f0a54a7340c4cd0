//! The compute backends in a real browser: headless Chromium with WebGPU on SwiftShader.
//! GPU results are checked against the CPU reference; the fallback paths (device loss, no
//! adapter, broken shader) must answer, never hang. The SIMD/scalar test runs unchanged in
//! both wasm builds (with and without `+simd128`), see scripts/test-wasm.sh.
#![cfg(target_arch = "wasm32")]

use marginalia::compute::gpu::{self, GpuContext, GpuOptions};
use marginalia::compute::matmul::{self, Csr};
use marginalia::compute::vmath;
use marginalia::compute::{cpu, BackendKind, Compute, Layer, Measure, Network, PoolMatrix, Preference, ScoreRequest};
use marginalia::strategy::select::top_k;
use marginalia::Error;
use ndarray::{Array1, Array2};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// Agreement used throughout: |gpu − cpu| ≤ 1e-4 · max(|cpu|, 0.01). Relative, with a
/// floor so values near zero (a margin of two almost-equal probabilities) are compared at
/// 1e-6 absolute rather than at an impossible relative precision.
fn close(g: f32, c: f32) -> bool {
    if g == c {
        return true; // also −∞ == −∞ for labelled rows
    }
    (g - c).abs() <= 1e-4 * c.abs().max(0.01)
}

fn assert_all_close(what: &str, g: &[f32], c: &[f32]) {
    assert_eq!(g.len(), c.len(), "{what}: lengths");
    for (i, (a, b)) in g.iter().zip(c).enumerate() {
        assert!(close(*a, *b), "{what}: row {i}: gpu {a} vs cpu {b}");
    }
}

fn random(rng: &mut ChaCha8Rng, rows: usize, cols: usize, scale: f32) -> Array2<f32> {
    Array2::from_shape_fn((rows, cols), |_| rng.random_range(-scale..scale))
}

fn layer(rng: &mut ChaCha8Rng, d_in: usize, d_out: usize, relu: bool) -> Layer {
    let w = random(rng, d_in, d_out, 1.0 / (d_in as f32).sqrt() * 2.0);
    let b = Array1::from_shape_fn(d_out, |_| rng.random_range(-0.5..0.5));
    Layer::new(w, b, relu).unwrap()
}

/// A committee of three members: softmax regression and two MLPs of awkward widths.
fn committee(rng: &mut ChaCha8Rng, d: usize, k: usize) -> Vec<Network> {
    vec![
        Network::new(vec![layer(rng, d, k, false)]).unwrap(),
        Network::new(vec![layer(rng, d, 29, true), layer(rng, 29, k, false)]).unwrap(),
        Network::new(vec![layer(rng, d, 33, true), layer(rng, 33, 17, true), layer(rng, 17, k, false)]).unwrap(),
    ]
}

/// 517 rows × 37 features: neither is a multiple of the 16 or 64 workgroup sizes.
const N: usize = 517;
const D: usize = 37;
const K: usize = 7;

fn u8_pool(rng: &mut ChaCha8Rng, n: usize) -> PoolMatrix {
    let mut p = PoolMatrix::new_u8(D, 1.0 / 255.0).unwrap();
    let bytes: Vec<u8> = (0..n * D).map(|_| rng.random()).collect();
    p.append_u8(&bytes).unwrap();
    p
}

fn f32_pool(rng: &mut ChaCha8Rng, n: usize) -> PoolMatrix {
    let mut p = PoolMatrix::new_f32(D).unwrap();
    p.append_f32(random(rng, n, D, 2.0).view()).unwrap();
    p
}

/// A context whose chunks hold 100 rows, so N = 517 spans six chunks, the last partial.
async fn small_chunk_context() -> GpuContext {
    GpuContext::new(GpuOptions { max_chunk_rows: Some(100), ..Default::default() }).await.expect("SwiftShader adapter (--enable-unsafe-webgpu)")
}

#[wasm_bindgen_test]
async fn smoke_test_doubles() {
    assert_eq!(gpu::smoke_test().await.unwrap(), vec![2.0, 4.0, 6.0, 8.0]);
}

#[wasm_bindgen_test]
async fn gpu_scores_match_cpu_across_chunks_layouts_and_measures() {
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let mut ctx = small_chunk_context().await;
    let members = committee(&mut rng, D, K);
    for (layout, mut pool) in [("u8", u8_pool(&mut rng, N)), ("f32", f32_pool(&mut rng, N))] {
        pool.set_labelled(3, true).unwrap();
        pool.set_labelled(250, true).unwrap();
        for measure in [Measure::Margin, Measure::Entropy, Measure::LeastConfident] {
            for m in [1, 3] {
                let req = ScoreRequest { members: members[..m].to_vec(), measure, want_probs: true, want_member_probs: false };
                let g = ctx.score_pool(&pool, &req).await.unwrap();
                let c = cpu::score_pool(&pool, &req).unwrap();
                let what = format!("{layout} pool, {measure:?}, {m} member(s)");
                assert_all_close(&format!("{what} scores"), &g.scores, &c.scores);
                let (gp, cp) = (g.probs.unwrap(), c.probs.unwrap());
                assert_all_close(&format!("{what} probabilities"), gp.as_slice().unwrap(), cp.as_slice().unwrap());
                assert_eq!(g.scores[3], f32::NEG_INFINITY);
                assert_eq!(g.scores[250], f32::NEG_INFINITY);
            }
        }
    }
    assert_eq!(ctx.rows_per_chunk(), Some(100));
}

#[wasm_bindgen_test]
async fn incremental_updates_match_a_fresh_upload() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut ctx = small_chunk_context().await;
    let members = committee(&mut rng, D, K);
    let req = ScoreRequest { members, measure: Measure::Entropy, want_probs: false, want_member_probs: false };
    // 150 rows first (one full chunk and half of the next), then 3 odd-sized appends that
    // land mid-word (37 bytes per row) and cross chunk boundaries, with labels in between.
    let mut pool = u8_pool(&mut rng, 150);
    ctx.score_pool(&pool, &req).await.unwrap();
    let resident = ctx.resident_bytes();
    for (add, label) in [(1usize, 149usize), (61, 0), (205, 300)] {
        let bytes: Vec<u8> = (0..add * D).map(|_| rng.random()).collect();
        pool.append_u8(&bytes).unwrap();
        pool.set_labelled(label, true).unwrap();
        let g = ctx.score_pool(&pool, &req).await.unwrap();
        let c = cpu::score_pool(&pool, &req).unwrap();
        assert_all_close(&format!("after appending {add} rows"), &g.scores, &c.scores);
        assert_eq!(g.scores[label], f32::NEG_INFINITY);
    }
    // Undo a label: the flag goes back to the GPU too.
    pool.set_labelled(0, false).unwrap();
    let g = ctx.score_pool(&pool, &req).await.unwrap();
    assert!(g.scores[0].is_finite());
    assert!(ctx.resident_bytes() > resident, "new chunks were added, not the pool re-sent");
}

#[wasm_bindgen_test]
async fn nearest_centres_match_cpu() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let mut ctx = small_chunk_context().await;
    for pool in [u8_pool(&mut rng, N), f32_pool(&mut rng, N)] {
        let centres = pool.rows_f32(0..13).unwrap() + random(&mut rng, 13, D, 0.05);
        let g = ctx.nearest_pool(&pool, centres.view()).await.unwrap();
        let c = cpu::nearest_pool(&pool, centres.view()).unwrap();
        assert_all_close("nearest distance", &g.dist, &c.dist);
        let all = cpu::sq_distances(pool.rows_f32(0..N).unwrap().view(), centres.view()).unwrap();
        for i in 0..N {
            // Same index, or a centre at the same distance within tolerance (a near tie).
            let gi = g.index[i] as usize;
            assert!(gi == c.index[i] as usize || close(all[[i, gi]], c.dist[i]), "row {i}: gpu centre {gi}, cpu {}", c.index[i]);
        }
    }
}

#[wasm_bindgen_test]
async fn device_loss_mid_run_falls_back_with_the_same_ids() {
    let mut rng = ChaCha8Rng::seed_from_u64(13);
    let ctx = small_chunk_context().await;
    let mut compute = Compute::with_gpu(ctx, Preference::Gpu);
    let mut pool = u8_pool(&mut rng, N);
    let req = ScoreRequest { members: committee(&mut rng, D, K), measure: Measure::Margin, want_probs: false, want_member_probs: false };
    let first = compute.score_pool(&pool, &req).await.unwrap();
    assert_eq!(compute.last_backend(), BackendKind::Gpu);
    let ids_gpu = top_k(&first.scores, 10, 99);

    compute.gpu().unwrap().destroy_device();
    let second = compute.score_pool(&pool, &req).await.expect("falls back to the CPU");
    assert_eq!(compute.last_backend(), BackendKind::Cpu);
    assert!(!compute.has_gpu());
    assert!(compute.fallback_reason().is_some());
    assert_eq!(top_k(&second.scores, 10, 99), ids_gpu);

    // The session carries on: labelling the top pick moves it out of the ranking.
    pool.set_labelled(ids_gpu[0], true).unwrap();
    let third = compute.score_pool(&pool, &req).await.unwrap();
    assert_eq!(top_k(&third.scores, 9, 99), ids_gpu[1..].to_vec());
}

/// Run a JS snippet (to hide or fake parts of the WebGPU API for one test).
fn js(code: &str) {
    js_sys::Function::new_no_args(code).call0(&wasm_bindgen::JsValue::NULL).unwrap();
}

#[wasm_bindgen_test]
async fn no_webgpu_or_no_adapter_is_an_error_not_a_hang() {
    js("Object.defineProperty(navigator, 'gpu', { value: undefined, configurable: true });");
    let r = GpuContext::new(GpuOptions::default()).await;
    js("delete navigator.gpu;");
    assert!(matches!(&r, Err(Error::Gpu(m)) if m.contains("navigator.gpu")), "{:?}", r.as_ref().err());

    js("navigator.gpu.__real = navigator.gpu.requestAdapter; navigator.gpu.requestAdapter = () => Promise.resolve(null);");
    let r = GpuContext::new(GpuOptions::default()).await;
    js("navigator.gpu.requestAdapter = navigator.gpu.__real; delete navigator.gpu.__real;");
    assert!(matches!(&r, Err(Error::Gpu(m)) if m.contains("no WebGPU adapter")), "{:?}", r.as_ref().err());

    // And Compute without a GPU is simply the CPU.
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let pool = f32_pool(&mut rng, 20);
    let req = ScoreRequest { members: committee(&mut rng, D, K), measure: Measure::Entropy, want_probs: false, want_member_probs: false };
    let mut c = Compute::cpu();
    assert_eq!(c.score_pool(&pool, &req).await.unwrap(), cpu::score_pool(&pool, &req).unwrap());
}

#[wasm_bindgen_test]
async fn broken_shader_is_a_clear_error() {
    let ctx = small_chunk_context().await;
    let e = ctx.check_shader("broken", "@compute @workgroup_size(1) fn main( { }", "main").await.unwrap_err();
    assert!(matches!(&e, Error::Gpu(m) if m.contains("broken")), "{e}");
    // The context is still usable afterwards.
    assert_eq!(ctx.double(&[1.5]).await.unwrap(), vec![3.0]);
}

#[wasm_bindgen_test]
async fn bad_input_is_rejected_before_the_gpu() {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let mut ctx = small_chunk_context().await;
    let pool = f32_pool(&mut rng, 10);
    let wrong = ScoreRequest { members: committee(&mut rng, D + 1, K), measure: Measure::Margin, want_probs: false, want_member_probs: false };
    assert!(matches!(ctx.score_pool(&pool, &wrong).await, Err(Error::Shape { expected: D, got, .. }) if got == D + 1));
    let empty = PoolMatrix::new_f32(D).unwrap();
    let req = ScoreRequest { members: committee(&mut rng, D, K), measure: Measure::Margin, want_probs: false, want_member_probs: false };
    assert!(ctx.score_pool(&empty, &req).await.unwrap().scores.is_empty());
    let mut p = PoolMatrix::new_f32(2).unwrap();
    assert!(matches!(p.append_f32(ndarray::array![[f32::NAN, 0.0]].view()), Err(Error::NonFinite { row: 0, col: 0, .. })));
    // Too wide for the GPU scratch: a clear GPU error (Compute would use the CPU).
    let wide = ScoreRequest { members: vec![Network::new(vec![layer(&mut rng, D, 1500, true), layer(&mut rng, 1500, K, false)]).unwrap()], measure: Measure::Margin, want_probs: false, want_member_probs: false };
    assert!(matches!(ctx.score_pool(&pool, &wide).await, Err(Error::Gpu(m)) if m.contains("1500")));
}

/// Runs in both wasm builds: the blocked kernel (v128 under +simd128, scalar otherwise)
/// must equal, bit for bit, a plain loop summing in the same order. Both builds passing
/// means the SIMD and the scalar builds give identical results.
#[wasm_bindgen_test]
fn simd_and_scalar_builds_agree_bitwise() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    for &(n, k, m) in &[(1usize, 1usize, 1usize), (9, 37, 23), (64, 784, 10), (13, 100, 256), (7, 5, 1), (1, 785, 17), (11, 3, 8)] {
        let a = random(&mut rng, n, k, 1.0);
        let b = random(&mut rng, k, m, 1.0);
        let bias = Array1::from_shape_fn(m, |j| j as f32 * 0.01);
        let c = matmul::matmul(a.view(), b.view(), Some(bias.view())).unwrap();
        for i in 0..n {
            for j in 0..m {
                let mut s = 0.0f32;
                for p in 0..k {
                    s += a[[i, p]] * b[[p, j]];
                }
                s += bias[j];
                assert_eq!(c[[i, j]].to_bits(), s.to_bits(), "({n}×{k})·({k}×{m}) at [{i},{j}], simd128 = {}", matmul::SIMD128);
            }
        }
        // Sparse path against the dense one, same order of additions per element.
        let mut dense = a.clone();
        dense.mapv_inplace(|v| if v.abs() < 0.7 { 0.0 } else { v });
        let mut s = Csr { n_rows: n, n_cols: k, indptr: vec![0], indices: vec![], values: vec![] };
        for row in dense.rows() {
            for (j, v) in row.iter().enumerate() {
                if *v != 0.0 {
                    s.indices.push(j as u32);
                    s.values.push(*v);
                }
            }
            s.indptr.push(s.indices.len());
        }
        let cs = matmul::csr_matmul(&s, b.view(), None).unwrap();
        let cd = matmul::matmul(dense.view(), b.view(), None).unwrap();
        for (x, y) in cs.iter().zip(cd.iter()) {
            assert!((x - y).abs() <= 1e-5 * y.abs().max(1.0));
        }
    }
}

/// Runs in both wasm builds: the slice versions of exp and ln (four lanes at a time under
/// SIMD128) equal the one-lane versions bit for bit, over logits, the absent-class logit,
/// the clamps and probabilities, with lengths that leave a remainder of the 4-lane loop.
#[wasm_bindgen_test]
fn vector_exp_and_ln_equal_the_one_lane_versions_in_both_builds() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let mut xs: Vec<f32> = (0..1001).map(|_| rng.random_range(-100.0..100.0f32)).collect();
    xs.extend([0.0, -0.0, -1e30, -87.3, -87.4, 88.7, 88.8, f32::INFINITY, f32::NEG_INFINITY, f32::NAN]);
    let mut e = xs.clone();
    vmath::exp_in_place(&mut e);
    for (x, y) in xs.iter().zip(&e) {
        assert_eq!(vmath::exp(*x).to_bits(), y.to_bits(), "exp({x}), simd128 = {}", matmul::SIMD128);
    }
    let ps: Vec<f32> = (0..1003).map(|_| rng.random_range(1e-30..1.0f32)).chain([1.0, f32::MIN_POSITIVE, 0.5]).collect();
    let mut l = vec![0.0; ps.len()];
    vmath::ln_into(&ps, &mut l);
    for (p, y) in ps.iter().zip(&l) {
        assert_eq!(vmath::ln(*p).to_bits(), y.to_bits(), "ln({p}), simd128 = {}", matmul::SIMD128);
    }
}

#[wasm_bindgen_test]
async fn coates_features_gpu_match_cpu() {
    use marginalia::compute::coates::CoatesParams;
    // 23 images of 13×11 (odd sizes: 8×6 positions of 6×6 patches, uneven quadrants),
    // K = 19 centroids; chunks of 5 images, so the last chunk is partial.
    let mut rng = ChaCha8Rng::seed_from_u64(17);
    let (w, h, n) = (13usize, 11usize, 23usize);
    let images: Vec<u8> = (0..n * w * h).map(|i| ((i % 97) as u8).wrapping_mul(3).wrapping_add(rng.random_range(0..40))).collect();
    let f = CoatesParams { n_centroids: 19, n_patches: 500, kmeans_iters: 3, ..Default::default() }.fit(&images, w, h).unwrap();
    let ctx = GpuContext::new(GpuOptions { max_chunk_rows: Some(5), ..Default::default() }).await.unwrap();
    let g = ctx.coates_transform(&f, &images).await.unwrap();
    let c = f.transform(&images).unwrap();
    assert_eq!(g.dim(), (n, 4 * 19));
    // Each pooled value is a sum of triangle activations, themselves differences of
    // distances: compare against the image's largest feature (cancellation in mu − z makes
    // tiny features noisy in relative terms).
    for (i, (gr, cr)) in g.rows().into_iter().zip(c.rows()).enumerate() {
        let scale = cr.iter().fold(0.0f32, |a, &b| a.max(b.abs()));
        for (j, (a, b)) in gr.iter().zip(cr.iter()).enumerate() {
            assert!((a - b).abs() <= 1e-4 * scale.max(1e-3), "image {i} feature {j}: gpu {a} vs cpu {b} (scale {scale})");
        }
    }
}

#[wasm_bindgen_test]
async fn standardized_coates_features_gpu_match_cpu_within_1e4() {
    use marginalia::compute::coates::CoatesParams;
    use marginalia::data::image::CoatesFeaturizer;
    // What the app stores: the featurizer standardizes the pooled sums (per-feature mean
    // and spread), so the GPU's rounding is compared after that, as the learner sees it.
    // 40 images of 28×28 (the app's Fashion-MNIST size), K = 32, chunks of 7 images.
    let mut rng = ChaCha8Rng::seed_from_u64(23);
    let (side, n) = (28usize, 40usize);
    let images: Vec<u8> = (0..n * side * side).map(|i| ((i % 251) as u8).wrapping_mul(7).wrapping_add(rng.random_range(0..60))).collect();
    let p = CoatesParams { n_centroids: 32, n_patches: 2000, kmeans_iters: 5, ..Default::default() };
    let (f, _) = CoatesFeaturizer::fit(&p, &images, side, side).unwrap();
    let ctx = GpuContext::new(GpuOptions { max_chunk_rows: Some(7), ..Default::default() }).await.unwrap();
    let g = f.transform_gpu(&ctx, &images).await.unwrap();
    let c = f.transform(&images).unwrap();
    assert_eq!(g.dim(), (n, 128));
    let worst = g.iter().zip(c.iter()).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
    assert!(worst <= 1e-4, "standardized GPU features differ from the CPU's by up to {worst}");
}

#[wasm_bindgen_test]
async fn committee_member_probabilities_match_cpu() {
    let mut rng = ChaCha8Rng::seed_from_u64(21);
    let mut ctx = small_chunk_context().await;
    let members = committee(&mut rng, D, K);
    for (layout, mut pool) in [("u8", u8_pool(&mut rng, N)), ("f32", f32_pool(&mut rng, N))] {
        pool.set_labelled(101, true).unwrap();
        for want_probs in [true, false] {
            let req = ScoreRequest { members: members.clone(), measure: Measure::Entropy, want_probs, want_member_probs: true };
            let g = ctx.score_pool(&pool, &req).await.unwrap();
            let c = cpu::score_pool(&pool, &req).unwrap();
            assert_all_close(&format!("{layout} scores"), &g.scores, &c.scores);
            assert_eq!(g.probs.is_some(), want_probs);
            let (gm, cm) = (g.member_probs.unwrap(), c.member_probs.unwrap());
            assert_eq!(gm.len(), 3);
            for (i, (a, b)) in gm.iter().zip(&cm).enumerate() {
                assert_eq!(a.dim(), (N, K));
                assert_all_close(&format!("{layout} member {i} probabilities (mean too: {want_probs})"), a.as_slice().unwrap(), b.as_slice().unwrap());
            }
        }
    }
}

/// Blobs of K classes in D features, for learners fitted in the browser.
fn blobs(rng: &mut ChaCha8Rng, n: usize) -> (Array2<f32>, Vec<u32>) {
    let centres = random(rng, K, D, 1.5);
    let y: Vec<u32> = (0..n).map(|i| (i % K) as u32).collect();
    let x = Array2::from_shape_fn((n, D), |(i, j)| centres[[y[i] as usize, j]] + rng.random_range(-1.0..1.0f32));
    (x, y)
}

/// The learner's own models (softmax regression, MLPs of one and two hidden layers, and
/// committees of either, some members having missed a class) scored on the GPU: the same
/// probabilities and member probabilities as the CPU, and the same picks as `query`.
#[wasm_bindgen_test]
async fn learner_models_and_committees_score_alike_on_gpu() {
    use marginalia::learner::Learner;
    use marginalia::model::any::ModelSpec;
    use marginalia::model::mlp::MlpParams;
    let mut rng = ChaCha8Rng::seed_from_u64(17);
    let (x, y) = blobs(&mut rng, N);
    let mut pool = PoolMatrix::new_f32(D).unwrap();
    pool.append_f32(x.view()).unwrap();
    let ctx = small_chunk_context().await;
    let mut compute = Compute::with_gpu(ctx, Preference::Gpu);
    let two_hidden = ModelSpec::Mlp(MlpParams::default().hidden(&[40, 23]).max_epochs(30));
    let cases = [
        (ModelSpec::from_name("softmax").unwrap(), 0, "entropy"),
        (ModelSpec::from_name("mlp").unwrap(), 0, "margin"),
        (two_hidden.clone(), 0, "least_confident"),
        (ModelSpec::from_name("softmax").unwrap(), 3, "vote_entropy"),
        (two_hidden, 3, "mean_kl"),
        (ModelSpec::from_name("mlp").unwrap(), 2, "margin"),
    ];
    for (spec, k, strategy) in cases {
        let mut l = Learner::new(x.clone(), K, 5).unwrap();
        l.set_model(spec);
        l.set_committee(k).unwrap();
        l.set_strategy(strategy).unwrap();
        // Few labels of the last class, so bootstraps can miss it.
        for i in (0..40).filter(|&i| y[i] as usize != K - 1).chain([K - 1]) {
            l.teach(i, y[i]).unwrap();
            pool.set_labelled(i, true).unwrap();
        }
        assert!(l.fit().unwrap());
        let sm = l.scoring_network().unwrap_or_else(|| panic!("{strategy} with committee {k} scores as networks"));
        assert_eq!(sm.committee, k > 0);
        let req = ScoreRequest { members: sm.members, measure: Measure::Margin, want_probs: true, want_member_probs: sm.committee };
        let g = compute.score_pool(&pool, &req).await.unwrap();
        assert_eq!(compute.last_backend(), BackendKind::Gpu, "{strategy}/{k}");
        let c = cpu::score_pool(&pool, &req).unwrap();
        let what = format!("{strategy}, committee {k}");
        assert_all_close(&format!("{what} probabilities"), g.probs.as_ref().unwrap().as_slice().unwrap(), c.probs.as_ref().unwrap().as_slice().unwrap());
        let direct = l.clone().query(8).unwrap();
        let via_gpu = match &g.member_probs {
            Some(each) => {
                for (a, b) in each.iter().zip(c.member_probs.as_ref().unwrap()) {
                    assert_all_close(&format!("{what} member probabilities"), a.as_slice().unwrap(), b.as_slice().unwrap());
                }
                l.query_with_member_probs(8, &each.iter().map(|p| p.view()).collect::<Vec<_>>()).unwrap()
            }
            None => l.query_with_pool_probs(8, g.probs.as_ref().unwrap().view()).unwrap(),
        };
        assert_eq!(via_gpu.iter().map(|q| q.index).collect::<Vec<_>>(), direct.iter().map(|q| q.index).collect::<Vec<_>>(), "{what}: picks");
        for i in 0..40 {
            pool.set_labelled(i, false).unwrap();
        }
    }
}

/// Member probabilities survive a device loss too: the CPU answers the same round.
#[wasm_bindgen_test]
async fn device_loss_with_member_probabilities_falls_back() {
    let mut rng = ChaCha8Rng::seed_from_u64(23);
    let mut compute = Compute::with_gpu(small_chunk_context().await, Preference::Gpu);
    let pool = u8_pool(&mut rng, N);
    let req = ScoreRequest { members: committee(&mut rng, D, K), measure: Measure::Entropy, want_probs: false, want_member_probs: true };
    let first = compute.score_pool(&pool, &req).await.unwrap();
    assert_eq!(compute.last_backend(), BackendKind::Gpu);
    compute.gpu().unwrap().destroy_device();
    let second = compute.score_pool(&pool, &req).await.expect("falls back to the CPU");
    assert_eq!(compute.last_backend(), BackendKind::Cpu);
    for (a, b) in first.member_probs.unwrap().iter().zip(&second.member_probs.unwrap()) {
        assert_all_close("member probabilities across the fallback", a.as_slice().unwrap(), b.as_slice().unwrap());
    }
}

/// The image encoder on the GPU (SwiftShader here) against the CPU path: three fixture
/// photos at 64 px in chunks of two (so the chunking runs), embeddings within 1e-3 of the
/// largest value and the same ImageNet top-1 through the classifier.
#[wasm_bindgen_test]
async fn gpu_image_encoder_matches_cpu() {
    use marginalia::encoder::{EfficientNetLite0, Rgb8};
    let net = EfficientNetLite0::from_bytes(include_bytes!("../weights/efficientnet-lite0.f16.safetensors")).unwrap();
    let photos: [(&[u8], usize, usize); 3] = [
        (include_bytes!("fixtures/effnet/grace-hopper.128x150.rgb"), 128, 150),
        (include_bytes!("fixtures/effnet/cat-0003.32x32.rgb"), 32, 32),
        (include_bytes!("fixtures/effnet/ship-0010.32x32.rgb"), 32, 32),
    ];
    let size = 64;
    let inputs: Vec<f32> = photos.iter().flat_map(|(px, w, h)| Rgb8::new(*w, *h, px.to_vec()).unwrap().to_network_input(size)).collect();
    let ctx = GpuContext::new(GpuOptions { max_chunk_rows: Some(2), ..Default::default() }).await.expect("SwiftShader adapter (--enable-unsafe-webgpu)");
    let enc = ctx.upload_encoder(&net).unwrap();
    assert!(enc.resident_bytes() > 13_000_000, "the f32 weights (3.4 M values) are on the GPU: {}", enc.resident_bytes());
    let got = ctx.encode_inputs(&enc, &inputs, size).await.unwrap();
    assert_eq!(got.len(), 3 * 1280);
    for (i, g) in got.chunks_exact(1280).enumerate() {
        let cpu = net.embed_input(&inputs[i * size * size * 3..(i + 1) * size * size * 3], size);
        let scale = cpu.iter().fold(0f32, |m, v| m.max(v.abs()));
        let worst = g.iter().zip(&cpu).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
        assert!(worst <= 1e-3 * scale, "image {i}: GPU differs from CPU by {worst} (largest value {scale})");
        let top = |v: &[f32]| (0..v.len()).max_by(|&a, &b| v[a].total_cmp(&v[b])).unwrap();
        assert_eq!(top(&net.classify(g)), top(&net.classify(&cpu)), "image {i}: same top-1");
    }
    // Inputs that are not whole images are refused before any GPU work.
    assert!(ctx.encode_inputs(&enc, &inputs[..100], size).await.is_err());
}
