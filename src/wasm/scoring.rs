//! Batched scoring: `PoolScorer` mirrors the pool for scoring on WebGPU or the CPU
//! (`crate::compute`), and `ScoringNetwork` is a fitted model as networks for it.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Float32Array, Object, Uint32Array};
use ndarray::Array2;
use wasm_bindgen::prelude::*;

use super::{js_error, matrix_to_js, rows_of, set};
use crate::compute::{BackendKind, Compute, Measure, Network, PoolMatrix, Preference, ScoreRequest};
use crate::Error;

/// The CPU's blocked matrix product `a` (m × k) · `b` (k × n), row-major, as the scoring
/// rounds run it (the v128 kernel in the SIMD build): for the benchmark page's
/// matrix-product line. Lengths that do not match the shapes are `E_SHAPE`.
#[wasm_bindgen(js_name = matmulF32)]
pub fn matmul_f32(a: &[f32], b: &[f32], m: usize, k: usize, n: usize) -> Result<Float32Array, JsValue> {
    let shape = |what: &str, want: usize, got: usize| js_error(Error::Shape { what: what.into(), expected: want, got });
    let a = Array2::from_shape_vec((m, k), a.to_vec()).map_err(|_| shape("matrix a length (m × k)", m * k, a.len()))?;
    let b = Array2::from_shape_vec((k, n), b.to_vec()).map_err(|_| shape("matrix b length (k × n)", k * n, b.len()))?;
    crate::compute::matmul::matmul(a.view(), b.view(), None).map(|c| matrix_to_js(&c)).map_err(js_error)
}

/// A fitted model as networks over the pool's features (see `Learner.scoringNetwork`): one
/// for a single model, several for a committee (scored on their mean probabilities).
#[wasm_bindgen]
pub struct ScoringNetwork {
    pub(super) members: Vec<Network>,
    /// A learner's committee: rounds also return each member's probabilities.
    pub(super) committee: bool,
}

#[wasm_bindgen]
impl ScoringNetwork {
    /// A committee of `members` dense networks from raw weights (the benchmark page builds
    /// the same seeded model for this engine and for TensorFlow.js with it). `sizes` is
    /// `[features, hidden…, classes]`; `params` holds, member after member and layer after
    /// layer, the weights (inputs × outputs, row-major) then the biases. Hidden layers use
    /// ReLU; the last gives logits. A length that does not match is `E_SHAPE`.
    #[wasm_bindgen(js_name = fromWeights)]
    pub fn from_weights(sizes: &[u32], params: &[f32], members: usize) -> Result<ScoringNetwork, JsValue> {
        if sizes.len() < 2 || members == 0 {
            return Err(js_error(Error::param("network sizes / members", "need at least [features, classes] and one member")));
        }
        let per_member: usize = sizes.windows(2).map(|w| (w[0] as usize + 1) * w[1] as usize).sum();
        if params.len() != per_member * members {
            return Err(js_error(Error::Shape { what: format!("network parameters ({members} members of sizes {sizes:?})"), expected: per_member * members, got: params.len() }));
        }
        let mut rest = params;
        let mut nets = Vec::with_capacity(members);
        for _ in 0..members {
            let mut layers = Vec::with_capacity(sizes.len() - 1);
            for (i, w) in sizes.windows(2).enumerate() {
                let (d_in, d_out) = (w[0] as usize, w[1] as usize);
                let (wts, tail) = rest.split_at(d_in * d_out);
                let (bias, tail) = tail.split_at(d_out);
                rest = tail;
                let w = Array2::from_shape_vec((d_in, d_out), wts.to_vec()).map_err(|e| js_error(Error::Format { what: "layer weights".into(), msg: e.to_string() }))?;
                let relu = i + 2 < sizes.len();
                layers.push(crate::compute::Layer::new(w, ndarray::Array1::from(bias.to_vec()), relu).map_err(js_error)?);
            }
            nets.push(Network::new(layers).map_err(js_error)?);
        }
        Ok(ScoringNetwork { members: nets, committee: false })
    }

    /// Outputs per row (the classes present when the model was fitted).
    #[wasm_bindgen(getter)]
    pub fn outputs(&self) -> usize {
        self.members.first().map_or(0, Network::n_classes)
    }

    /// Networks scored together (1 for a single model).
    #[wasm_bindgen(getter)]
    pub fn members(&self) -> usize {
        self.members.len()
    }

    /// Multiply-adds per pool row over all members (what `backend: 'auto'` weighs).
    #[wasm_bindgen(getter, js_name = macsPerRow)]
    pub fn macs_per_row(&self) -> usize {
        self.members.iter().map(Network::macs_per_row).sum()
    }

    /// A learner's committee: `PoolScorer.score` then also returns `memberProbs`, for
    /// `Learner.queryWithMemberProbs`.
    #[wasm_bindgen(getter)]
    pub fn committee(&self) -> bool {
        self.committee
    }
}

struct ScorerState {
    compute: Compute,
    pool: PoolMatrix,
}

/// The pool's features mirrored for batched scoring (on the GPU they are uploaded once
/// and then only appended to).
#[wasm_bindgen]
pub struct PoolScorer {
    // Shared with the futures `score` returns: wasm-bindgen futures must own their state.
    state: Rc<RefCell<ScorerState>>,
    /// Why the GPU could not be used at creation, for `backend: 'auto'`'s report.
    unavailable: Option<String>,
}

#[wasm_bindgen]
impl PoolScorer {
    /// A scorer for rows of `width` features. `backend`: `auto` (the GPU when an adapter
    /// exists and a round is large enough to gain), `webgpu` (the GPU for every round;
    /// `E_GPU` when there is none), or `cpu`.
    pub async fn create(backend: String, width: usize) -> Result<PoolScorer, JsValue> {
        let pool = PoolMatrix::new_f32(width).map_err(js_error)?;
        Self::with_pool(&backend, pool).await
    }

    /// A scorer for rows of `width` byte features read as byte × `scale` (pixels: 1/255):
    /// a quarter of f32's memory on the CPU and on the GPU. Fill with `appendBytes`.
    #[wasm_bindgen(js_name = createBytes)]
    pub async fn create_bytes(backend: String, width: usize, scale: f32) -> Result<PoolScorer, JsValue> {
        let pool = PoolMatrix::new_u8(width, scale).map_err(js_error)?;
        Self::with_pool(&backend, pool).await
    }

    async fn with_pool(backend: &str, pool: PoolMatrix) -> Result<PoolScorer, JsValue> {
        let preference = match backend {
            "auto" => Preference::Auto,
            "webgpu" => Preference::Gpu,
            "cpu" => Preference::Cpu,
            other => return Err(js_error(Error::param("backend", format!("'{other}'; known: auto, webgpu, cpu")))),
        };
        let (compute, unavailable) = if preference == Preference::Cpu {
            (Compute::cpu(), None)
        } else {
            match crate::compute::gpu::GpuContext::new(Default::default()).await {
                Ok(ctx) => (Compute::with_gpu(ctx, preference), None),
                Err(e) if preference == Preference::Gpu => return Err(js_error(e)),
                Err(e) => (Compute::cpu(), Some(e.to_string())),
            }
        };
        Ok(PoolScorer { state: Rc::new(RefCell::new(ScorerState { compute, pool })), unavailable })
    }

    /// Append pool rows (row-major, `width` each), in the learner's pool order.
    pub fn append(&self, features: &[f32]) -> Result<(), JsValue> {
        let mut st = self.state.try_borrow_mut().map_err(|_| js_error(Error::State("the scorer is busy with a round".into())))?;
        let d = st.pool.dim();
        let x = rows_of(features, d, "pool rows")?;
        st.pool.append_f32(x.view()).map(|_| ()).map_err(js_error)
    }

    /// Make room for `rows` more rows before appending them in pieces (the storage then
    /// grows once instead of doubling: a 100k-image pool stays at 78 MB, not up to 157 MB).
    pub fn reserve(&self, rows: usize) -> Result<(), JsValue> {
        let mut st = self.state.try_borrow_mut().map_err(|_| js_error(Error::State("the scorer is busy with a round".into())))?;
        st.pool.reserve(rows);
        Ok(())
    }

    /// Append pool rows of bytes (`width` each) to a scorer made by `createBytes`.
    #[wasm_bindgen(js_name = appendBytes)]
    pub fn append_bytes(&self, bytes: &[u8]) -> Result<(), JsValue> {
        let mut st = self.state.try_borrow_mut().map_err(|_| js_error(Error::State("the scorer is busy with a round".into())))?;
        st.pool.append_u8(bytes).map(|_| ()).map_err(js_error)
    }

    /// Pool rows held.
    #[wasm_bindgen(getter)]
    pub fn rows(&self) -> usize {
        self.state.try_borrow().map(|s| s.pool.n_rows()).unwrap_or(0)
    }

    /// Whether a GPU is held (false after a fallback).
    #[wasm_bindgen(getter, js_name = hasGpu)]
    pub fn has_gpu(&self) -> bool {
        self.state.try_borrow().map(|s| s.compute.has_gpu()).unwrap_or(false)
    }

    /// The adapter, when a GPU is held.
    #[wasm_bindgen(getter)]
    pub fn adapter(&self) -> Option<String> {
        self.state.try_borrow().ok()?.compute.gpu().map(|g| g.adapter_info().to_string())
    }

    /// Bytes of pool features and labelled flags mirrored on the GPU (0 without one): the
    /// benchmark reports it beside the wasm heap.
    #[wasm_bindgen(getter, js_name = gpuResidentBytes)]
    pub fn gpu_resident_bytes(&self) -> f64 {
        self.state.try_borrow().ok().and_then(|s| s.compute.gpu().map(|g| g.resident_bytes() as f64)).unwrap_or(0.0)
    }

    /// Why there is no GPU: not available at creation, or dropped after a failure.
    #[wasm_bindgen(getter, js_name = fallbackReason)]
    pub fn fallback_reason(&self) -> Option<String> {
        let dropped = self.state.try_borrow().ok().and_then(|s| s.compute.fallback_reason().map(str::to_string));
        dropped.or_else(|| self.unavailable.clone())
    }

    /// The pool's probabilities under `network`, one round: resolves to
    /// `{probs: Float32Array (rows × outputs, row-major; a committee's mean), backend:
    /// 'webgpu' | 'cpu'}`, plus `memberProbs` (members × rows × outputs) for a learner's
    /// committee.
    pub fn score(&self, network: &ScoringNetwork) -> js_sys::Promise {
        let state = self.state.clone();
        let req = ScoreRequest { members: network.members.clone(), measure: Measure::Margin, want_probs: true, want_member_probs: network.committee };
        wasm_bindgen_futures::future_to_promise(async move {
            // The worker awaits each call before the next, so this is never contended;
            // if it were, a clear error beats a panic.
            let mut st = state.try_borrow_mut().map_err(|_| js_error(Error::State("the scorer is busy with a round".into())))?;
            let ScorerState { compute, pool } = &mut *st;
            let scored = compute.score_pool(pool, &req).await.map_err(js_error)?;
            let probs = scored.probs.ok_or_else(|| js_error(Error::State("the scoring round returned no probabilities".into())))?;
            let o = Object::new();
            set(&o, "probs", matrix_to_js(&probs));
            if let Some(each) = &scored.member_probs {
                let flat: Vec<f32> = each.iter().flat_map(|p| p.iter().copied()).collect();
                set(&o, "memberProbs", Float32Array::from(flat.as_slice()));
            }
            set(&o, "backend", if compute.last_backend() == BackendKind::Gpu { "webgpu" } else { "cpu" });
            Ok(o.into())
        })
    }

    /// One query round without probabilities: the pool's uncertainty scores under
    /// `network` (`measure`: margin, entropy or least_confident; labelled rows −∞) and the
    /// `n` best rows (seeded ties, as `query`). Resolves to
    /// `{ids: Uint32Array, scores: Float32Array, backend: 'webgpu' | 'cpu'}`.
    pub fn rank(&self, network: &ScoringNetwork, measure: String, n: usize) -> js_sys::Promise {
        let state = self.state.clone();
        let members = network.members.clone();
        wasm_bindgen_futures::future_to_promise(async move {
            let measure = match measure.as_str() {
                "margin" => Measure::Margin,
                "entropy" => Measure::Entropy,
                "least_confident" => Measure::LeastConfident,
                other => return Err(js_error(Error::param("measure", format!("'{other}'; known: margin, entropy, least_confident")))),
            };
            let req = ScoreRequest { members, measure, want_probs: false, want_member_probs: false };
            let mut st = state.try_borrow_mut().map_err(|_| js_error(Error::State("the scorer is busy with a round".into())))?;
            let ScorerState { compute, pool } = &mut *st;
            let scored = compute.score_pool(pool, &req).await.map_err(js_error)?;
            let ids: Vec<u32> = crate::strategy::select::top_k(&scored.scores, n, 0).into_iter().map(|i| i as u32).collect();
            let o = Object::new();
            set(&o, "ids", Uint32Array::from(ids.as_slice()));
            set(&o, "scores", Float32Array::from(scored.scores.as_slice()));
            set(&o, "backend", if compute.last_backend() == BackendKind::Gpu { "webgpu" } else { "cpu" });
            Ok(o.into())
        })
    }

    /// Destroy the GPU device, as a driver reset would: for tests of the CPU fallback.
    #[wasm_bindgen(js_name = loseDeviceForTesting)]
    pub fn lose_device_for_testing(&self) {
        if let Ok(st) = self.state.try_borrow() {
            if let Some(g) = st.compute.gpu() {
                g.destroy_device();
            }
        }
    }
}
