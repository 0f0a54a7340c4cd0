//! The WebGPU backend (wgpu's `webgpu` backend; wasm32 only).
//!
//! - [`GpuContext::new`] is called once: adapter, a device with the adapter's own limits
//!   (so chunks can be as large as this machine allows), every pipeline compiled up front
//!   (the warm-up: the first round does not pay shader compilation).
//! - The pool is mirrored on the GPU the first time it is scored, in chunks of whole rows
//!   that fit `max_storage_buffer_binding_size`; later rounds upload only appended rows and
//!   the labelled-flag changes (4 bytes each).
//! - A round is one command encoder, one submission and one readback; the readback awaits
//!   `map_async` (in the browser it completes only once control returns to the event
//!   loop), with a timeout so a stuck device cannot hang the page.
//! - Every failure (no adapter, tiny limits, shader errors, validation or out-of-memory
//!   errors, device loss) is an `Error::Gpu`, which [`super::Compute`] turns into a CPU
//!   fallback.
//!
//! The pretrained image encoder's layers are in `encoder.rs`, beside this file.
//!
//! Why one file of ~880 lines (over the ~600 the project keeps to): it is one device's
//! life around one `GpuContext` (pipelines, the pool's mirror, a round, Coates encoding,
//! the readback), wasm-only and tested as one in the browser. The next split is pool
//! scoring and Coates encoding into files of their own, as the encoder's layers were.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use ndarray::{Array2, ArrayView2};
use wasm_bindgen::{JsCast, JsValue};
use wgpu::util::DeviceExt;

use super::coates::CoatesFeatures;
use super::plan::{self, DeviceLimits, DENSE_TILE, MAX_WIDTH, ROW_GROUP};
use super::{Backend, BackendKind, Nearest, PoolMatrix, ScoreRequest, Scored};
use crate::{Error, Result};

const DENSE_WGSL: &str = include_str!("../shaders/dense.wgsl");
const LOAD_F32_WGSL: &str = include_str!("../shaders/load_f32.wgsl");
const LOAD_U8_WGSL: &str = include_str!("../shaders/load_u8.wgsl");
const SCORE_WGSL: &str = include_str!("../shaders/score.wgsl");
const NEAREST_WGSL: &str = include_str!("../shaders/nearest.wgsl");
const DOUBLE_WGSL: &str = include_str!("../shaders/double.wgsl");
const COATES_WGSL: &str = include_str!("../shaders/coates.wgsl");
const CONVNET_WGSL: &str = include_str!("../shaders/convnet.wgsl");

pub mod encoder;

/// Options for building a context.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GpuOptions {
    /// Cap on rows per pool chunk (default: none, the limits decide). Tests set it low so
    /// small pools still cross chunk boundaries.
    pub max_chunk_rows: Option<usize>,
    /// How long a readback may take before the round is abandoned as a GPU failure
    /// (default 60 s: SwiftShader, the CPU fallback adapter, scores 100k rows through an
    /// MLP in seconds, so a minute means the device is stuck, not slow).
    pub readback_timeout_ms: u32,
}

impl Default for GpuOptions {
    fn default() -> Self {
        GpuOptions { max_chunk_rows: None, readback_timeout_ms: 60_000 }
    }
}

/// Compiled pipelines, built once.
struct Pipelines {
    dense_f32: wgpu::ComputePipeline,
    dense_u8: wgpu::ComputePipeline,
    accumulate: wgpu::ComputePipeline,
    member_softmax: wgpu::ComputePipeline,
    score: wgpu::ComputePipeline,
    nearest_f32: wgpu::ComputePipeline,
    nearest_u8: wgpu::ComputePipeline,
    double: wgpu::ComputePipeline,
    coates_patches: wgpu::ComputePipeline,
    coates_triangle: wgpu::ComputePipeline,
    coates_pool: wgpu::ComputePipeline,
    conv_dense: wgpu::ComputePipeline,
    conv_depthwise: wgpu::ComputePipeline,
    conv_add: wgpu::ComputePipeline,
    conv_pool: wgpu::ComputePipeline,
}

/// One chunk of the pool on the GPU: features for `capacity` rows and a u32 labelled flag
/// per row.
struct Chunk {
    features: wgpu::Buffer,
    labelled: wgpu::Buffer,
}

/// The GPU's copy of one [`PoolMatrix`].
struct Mirror {
    pool_id: u64,
    d: usize,
    value_bytes: usize,
    rows_per_chunk: usize,
    rows: usize,
    log_applied: usize,
    chunks: Vec<Chunk>,
}

/// A device with its pipelines and the mirrored pool. Build once per session.
pub struct GpuContext {
    device: wgpu::Device,
    queue: wgpu::Queue,
    limits: DeviceLimits,
    options: GpuOptions,
    pipelines: Pipelines,
    mirror: Option<Mirror>,
    lost: Arc<AtomicBool>,
    /// Why the device was lost, or the first uncaptured error, for the fallback message.
    trouble: Arc<Mutex<Option<String>>>,
    adapter_info: String,
}

fn gpu_err(msg: impl Into<String>) -> Error {
    Error::Gpu(msg.into())
}

/// True when `navigator.gpu` exists in a window or a dedicated worker. wgpu's instance
/// panics outside those, and we never panic in wasm, so check first.
fn browser_has_webgpu() -> bool {
    let global = js_sys::global();
    let get = |obj: &JsValue, key: &str| js_sys::Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED);
    let in_window_or_worker = !get(&global, "Window").is_undefined() || !get(&global, "WorkerGlobalScope").is_undefined();
    let navigator = get(&global, "navigator");
    in_window_or_worker && !navigator.is_undefined() && !get(&navigator, "gpu").is_undefined()
}

impl GpuContext {
    /// Adapter, device and pipelines. Errors (never hangs) when the browser has no WebGPU,
    /// no adapter, limits below what the kernels need, or a shader fails to compile.
    pub async fn new(options: GpuOptions) -> Result<GpuContext> {
        if !browser_has_webgpu() {
            return Err(gpu_err("navigator.gpu is not available (no WebGPU in this browser or context)"));
        }
        let instance = wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle());
        let adapter = instance
            .request_adapter(&wgpu::RequestAdapterOptions { power_preference: wgpu::PowerPreference::HighPerformance, ..Default::default() })
            .await
            .map_err(|e| gpu_err(format!("no WebGPU adapter: {e}")))?;
        let info = adapter.get_info();
        let adapter_info = format!("{} ({:?}, {}, {})", info.name, info.backend, info.driver, info.driver_info);
        let al = adapter.limits();
        let limits = DeviceLimits {
            max_storage_buffer_binding_size: al.max_storage_buffer_binding_size,
            max_buffer_size: al.max_buffer_size,
            max_compute_workgroups_per_dimension: al.max_compute_workgroups_per_dimension,
            max_compute_invocations_per_workgroup: al.max_compute_invocations_per_workgroup,
            max_compute_workgroup_size_x: al.max_compute_workgroup_size_x,
            max_compute_workgroup_size_y: al.max_compute_workgroup_size_y,
            max_compute_workgroup_storage_size: al.max_compute_workgroup_storage_size,
            max_storage_buffers_per_shader_stage: al.max_storage_buffers_per_shader_stage,
        };
        plan::check_limits(&limits)?;
        // Ask for everything the adapter offers: WebGPU hands out the conservative defaults
        // (128 MiB bindings) unless asked, and bigger chunks mean fewer dispatches.
        let (device, queue) = adapter
            .request_device(&wgpu::DeviceDescriptor { label: Some("marginalia"), required_limits: al, ..Default::default() })
            .await
            .map_err(|e| gpu_err(format!("requesting a device from {adapter_info}: {e}")))?;

        let lost = Arc::new(AtomicBool::new(false));
        let trouble = Arc::new(Mutex::new(None::<String>));
        {
            let (lost, trouble) = (lost.clone(), trouble.clone());
            device.set_device_lost_callback(move |reason, msg| {
                lost.store(true, Ordering::SeqCst);
                if let Ok(mut t) = trouble.lock() {
                    *t = Some(format!("device lost ({reason:?}): {msg}"));
                }
            });
        }
        {
            let trouble = trouble.clone();
            device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
                if let Ok(mut t) = trouble.lock() {
                    t.get_or_insert_with(|| format!("uncaptured GPU error: {e}"));
                }
            }));
        }
        let pipelines = Pipelines {
            dense_f32: compile(&device, "dense_f32", &format!("{LOAD_F32_WGSL}\n{DENSE_WGSL}"), "main").await?,
            dense_u8: compile(&device, "dense_u8", &format!("{LOAD_U8_WGSL}\n{DENSE_WGSL}"), "main").await?,
            accumulate: compile(&device, "accumulate", SCORE_WGSL, "accumulate").await?,
            member_softmax: compile(&device, "member_softmax", SCORE_WGSL, "member_softmax").await?,
            score: compile(&device, "score", SCORE_WGSL, "score").await?,
            nearest_f32: compile(&device, "nearest_f32", &format!("{LOAD_F32_WGSL}\n{NEAREST_WGSL}"), "main").await?,
            nearest_u8: compile(&device, "nearest_u8", &format!("{LOAD_U8_WGSL}\n{NEAREST_WGSL}"), "main").await?,
            double: compile(&device, "double", DOUBLE_WGSL, "main").await?,
            coates_patches: compile(&device, "coates_patches", COATES_WGSL, "cut_patches").await?,
            coates_triangle: compile(&device, "coates_triangle", COATES_WGSL, "triangle").await?,
            coates_pool: compile(&device, "coates_pool", COATES_WGSL, "pool").await?,
            conv_dense: compile(&device, "conv_dense", CONVNET_WGSL, "dense_conv").await?,
            conv_depthwise: compile(&device, "conv_depthwise", CONVNET_WGSL, "depthwise").await?,
            conv_add: compile(&device, "conv_add", CONVNET_WGSL, "add").await?,
            conv_pool: compile(&device, "conv_pool", CONVNET_WGSL, "mean_pool").await?,
        };
        Ok(GpuContext { device, queue, limits, options, pipelines, mirror: None, lost, trouble, adapter_info })
    }

    /// Adapter name, backend and driver, for the dashboard and bug reports.
    pub fn adapter_info(&self) -> &str {
        &self.adapter_info
    }
    /// The limits the device was created with.
    pub fn limits(&self) -> DeviceLimits {
        self.limits
    }
    /// Rows per pool chunk for the mirrored pool (None before the first upload).
    pub fn rows_per_chunk(&self) -> Option<usize> {
        self.mirror.as_ref().map(|m| m.rows_per_chunk)
    }
    /// Bytes of pool features and flags resident on the GPU.
    pub fn resident_bytes(&self) -> u64 {
        self.mirror.as_ref().map_or(0, |m| m.chunks.iter().map(|c| c.features.size() + c.labelled.size()).sum())
    }

    /// Destroy the device, as a driver reset or a GPU process crash would. For tests of the
    /// fallback path; every later call on this context is an `Error::Gpu`.
    pub fn destroy_device(&self) {
        self.device.destroy();
    }

    /// Compile a WGSL module and report errors as `Error::Gpu` (used at start for every
    /// kernel; public so tests can feed it a broken shader).
    pub async fn check_shader(&self, label: &str, wgsl: &str, entry: &str) -> Result<()> {
        compile(&self.device, label, wgsl, entry).await.map(|_| ())
    }

    fn check_alive(&self) -> Result<()> {
        if self.lost.load(Ordering::SeqCst) {
            let why = self.trouble.lock().ok().and_then(|t| t.clone()).unwrap_or_else(|| "device lost".into());
            return Err(gpu_err(why));
        }
        Ok(())
    }

    /// Bring the GPU mirror up to date: a new pool is uploaded whole; the same pool only
    /// gets its appended rows and the labelled-flag changes since the last round.
    fn sync_pool(&mut self, pool: &PoolMatrix) -> Result<()> {
        let stale = match &self.mirror {
            Some(m) => m.pool_id != pool.id() || m.rows > pool.n_rows(),
            None => true,
        };
        if stale {
            if let Some(old) = self.mirror.take() {
                for c in old.chunks {
                    c.features.destroy();
                    c.labelled.destroy();
                }
            }
            let rows_per_chunk = plan::chunk_rows(pool.dim(), pool.value_bytes(), &self.limits, self.options.max_chunk_rows)?;
            self.mirror = Some(Mirror { pool_id: pool.id(), d: pool.dim(), value_bytes: pool.value_bytes(), rows_per_chunk, rows: 0, log_applied: 0, chunks: Vec::new() });
        }
        let Some(m) = self.mirror.as_mut() else { return Err(gpu_err("pool mirror missing after sync")) };
        let n = pool.n_rows();
        let row_bytes = m.d * m.value_bytes;
        while m.rows < n {
            let ci = m.rows / m.rows_per_chunk;
            let first = ci * m.rows_per_chunk;
            if ci == m.chunks.len() {
                let feature_bytes = pad4((m.rows_per_chunk * row_bytes) as u64);
                m.chunks.push(Chunk {
                    features: self.device.create_buffer(&wgpu::BufferDescriptor {
                        label: Some("pool features"),
                        size: feature_bytes,
                        usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
                        mapped_at_creation: false,
                    }),
                    labelled: self.device.create_buffer(&wgpu::BufferDescriptor {
                        label: Some("pool labelled flags"),
                        size: (m.rows_per_chunk * 4) as u64,
                        usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
                        mapped_at_creation: false,
                    }),
                });
            }
            let end = n.min(first + m.rows_per_chunk);
            // Byte range inside the chunk, widened to whole u32 words: write_buffer needs
            // 4-byte offsets and sizes, and u8 rows of odd width share words. The widened
            // start re-sends at most 3 bytes already there, from the CPU copy.
            let local = (m.rows - first) * row_bytes;
            let aligned = local & !3;
            let chunk_bytes = pool.raw_bytes(first..end);
            let body = &chunk_bytes[aligned..];
            let whole = body.len() & !3;
            if whole > 0 {
                self.queue.write_buffer(&m.chunks[ci].features, aligned as u64, &body[..whole]);
            }
            if whole < body.len() {
                let mut tail = [0u8; 4];
                tail[..body.len() - whole].copy_from_slice(&body[whole..]);
                self.queue.write_buffer(&m.chunks[ci].features, (aligned + whole) as u64, &tail);
            }
            m.rows = end;
        }
        for &(row, flag) in pool.label_changes_since(m.log_applied) {
            let row = row as usize;
            let (ci, r) = (row / m.rows_per_chunk, row % m.rows_per_chunk);
            if let Some(c) = m.chunks.get(ci) {
                self.queue.write_buffer(&c.labelled, (r * 4) as u64, &(flag as u32).to_le_bytes());
            }
        }
        m.log_applied = pool.label_log_len();
        Ok(())
    }

    fn storage_init(&self, label: &str, bytes: &[u8]) -> Result<wgpu::Buffer> {
        if bytes.len() as u64 > self.limits.max_binding() {
            return Err(gpu_err(format!("{label} needs {} bytes, above the binding limit {}", bytes.len(), self.limits.max_binding())));
        }
        Ok(self.device.create_buffer_init(&wgpu::util::BufferInitDescriptor { label: Some(label), contents: bytes, usage: wgpu::BufferUsages::STORAGE }))
    }

    fn uniform(&self, words: [u32; 8]) -> wgpu::Buffer {
        self.device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("params"),
            contents: bytemuck::cast_slice(&words),
            usage: wgpu::BufferUsages::UNIFORM,
        })
    }

    fn scratch(&self, label: &str, bytes: u64, extra: wgpu::BufferUsages) -> wgpu::Buffer {
        self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: pad4(bytes.max(4)),
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC | extra,
            mapped_at_creation: false,
        })
    }

    fn bind(&self, pipeline: &wgpu::ComputePipeline, entries: &[(u32, &wgpu::Buffer)]) -> wgpu::BindGroup {
        let entries: Vec<wgpu::BindGroupEntry> = entries.iter().map(|(i, b)| wgpu::BindGroupEntry { binding: *i, resource: b.as_entire_binding() }).collect();
        self.device.create_bind_group(&wgpu::BindGroupDescriptor { label: None, layout: &pipeline.get_bind_group_layout(0), entries: &entries })
    }

    /// Submit `encoder`, read `staging` back, and check the error scopes and device state.
    async fn finish(&self, encoder: wgpu::CommandEncoder, staging: &wgpu::Buffer, scopes: (wgpu::ErrorScopeGuard, wgpu::ErrorScopeGuard)) -> Result<Vec<u8>> {
        self.queue.submit(Some(encoder.finish()));
        let (validation, oom) = scopes;
        let validation = validation.pop();
        let oom = oom.pop();
        let bytes = read_back(staging, self.options.readback_timeout_ms).await;
        if let Some(e) = validation.await {
            return Err(gpu_err(format!("validation error: {e}")));
        }
        if let Some(e) = oom.await {
            return Err(gpu_err(format!("out of GPU memory: {e}")));
        }
        self.check_alive()?;
        bytes
    }

    /// Error scopes around a round: (validation, out-of-memory). In that order so that an
    /// early return drops (pops) them innermost first, as scopes must be.
    fn open_scopes(&self) -> (wgpu::ErrorScopeGuard, wgpu::ErrorScopeGuard) {
        let oom = self.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let validation = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        (validation, oom)
    }

    /// One scoring round on the GPU (see [`ScoreRequest`]); same output as
    /// `cpu::score_pool` within float rounding.
    pub async fn score_pool(&mut self, pool: &PoolMatrix, req: &ScoreRequest) -> Result<Scored> {
        let k = req.validate(pool.dim())?;
        self.check_alive()?;
        let width = req.members.iter().map(|m| m.max_width()).max().unwrap_or(0);
        if width > MAX_WIDTH {
            return Err(gpu_err(format!("widest layer has {width} units; the GPU path is sized for {MAX_WIDTH}")));
        }
        let n = pool.n_rows();
        if n == 0 {
            return Ok(Scored {
                scores: Vec::new(),
                probs: req.want_probs.then(|| Array2::zeros((0, k))),
                member_probs: req.want_member_probs.then(|| vec![Array2::zeros((0, k)); req.members.len()]),
            });
        }
        self.sync_pool(pool)?;
        let rpc = self.mirror.as_ref().map_or(0, |m| m.rows_per_chunk);
        let m = req.members.len();
        if req.want_member_probs && (m * rpc * k * 4) as u64 > self.limits.max_binding() {
            // A committee this large is answered by the CPU (Compute falls back on Error::Gpu).
            return Err(gpu_err(format!("{m} members × {rpc} rows × {k} classes of member probabilities exceed one storage binding")));
        }
        self.encode_score(pool, req, k, width).await
    }

    async fn encode_score(&mut self, pool: &PoolMatrix, req: &ScoreRequest, k: usize, width: usize) -> Result<Scored> {
        let scopes = self.open_scopes();
        let n = pool.n_rows();
        let Some(m) = self.mirror.as_ref() else { return Err(gpu_err("pool not uploaded")) };
        let rpc = m.rows_per_chunk;
        let scale = pool.u8_scale();
        // Weights of every member, uploaded per round (they change with every fit; an MLP
        // 784→256→10 is 0.81 MB).
        let mut weights = Vec::new();
        for (mi, net) in req.members.iter().enumerate() {
            let mut layers = Vec::new();
            for (li, l) in net.layers.iter().enumerate() {
                let w = l.w.as_standard_layout();
                let w = self.storage_init(&format!("member {mi} layer {li} weights ({}×{})", l.w.nrows(), l.w.ncols()), bytemuck::cast_slice(w.as_slice().unwrap_or(&[])))?;
                let b = self.storage_init("bias", bytemuck::cast_slice(l.b.as_slice().unwrap_or(&[])))?;
                layers.push((w, b));
            }
            weights.push(layers);
        }
        let h = [self.scratch("activations A", (rpc * width * 4) as u64, wgpu::BufferUsages::empty()), self.scratch("activations B", (rpc * width * 4) as u64, wgpu::BufferUsages::empty())];
        let acc = self.scratch("mean probabilities", (rpc * k * 4) as u64, wgpu::BufferUsages::empty());
        let scores = self.scratch("scores", (rpc * 4) as u64, wgpu::BufferUsages::empty());
        let probs_bytes = if req.want_probs { (n * k * 4) as u64 } else { 0 };
        let n_members = req.members.len();
        // Every member's probabilities for one chunk, member after member (rpc rows each).
        let members_out = req.want_member_probs.then(|| self.scratch("member probabilities", (n_members * rpc * k * 4) as u64, wgpu::BufferUsages::empty()));
        let member_bytes = if req.want_member_probs { (n_members * n * k * 4) as u64 } else { 0 };
        let staging = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("round readback"),
            size: (n * 4) as u64 + probs_bytes + member_bytes,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let mut encoder = self.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("score round") });
        let inv_members = 1.0 / req.members.len() as f32;
        for (ci, chunk) in m.chunks.iter().enumerate() {
            let row0 = ci * rpc;
            if row0 >= n {
                break;
            }
            let rows = rpc.min(n - row0);
            {
                let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor { label: Some("score chunk"), timestamp_writes: None });
                for (mi, net) in req.members.iter().enumerate() {
                    let mut input: &wgpu::Buffer = &chunk.features;
                    let mut last = 0;
                    for (li, l) in net.layers.iter().enumerate() {
                        let out = &h[li % 2];
                        let first = li == 0;
                        let pipeline = if first && scale.is_some() { &self.pipelines.dense_u8 } else { &self.pipelines.dense_f32 };
                        let x_scale = if first { scale.unwrap_or(1.0) } else { 1.0 };
                        let dims = self.uniform([rows as u32, l.w.nrows() as u32, l.w.ncols() as u32, l.relu as u32, x_scale.to_bits(), 0, 0, 0]);
                        let (w, b) = &weights[mi][li];
                        let bg = self.bind(pipeline, &[(0, &dims), (1, input), (2, w), (3, b), (4, out)]);
                        pass.set_pipeline(pipeline);
                        pass.set_bind_group(0, &bg, &[]);
                        pass.dispatch_workgroups(div_up(l.w.ncols(), DENSE_TILE), div_up(rows, DENSE_TILE), 1);
                        input = out;
                        last = li;
                    }
                    let params = self.uniform([rows as u32, k as u32, mi as u32, req.measure.code(), inv_members.to_bits(), f32::NEG_INFINITY.to_bits(), rpc as u32, 0]);
                    let bg = self.bind(&self.pipelines.accumulate, &[(0, &params), (1, &h[last % 2]), (2, &acc)]);
                    pass.set_pipeline(&self.pipelines.accumulate);
                    pass.set_bind_group(0, &bg, &[]);
                    pass.dispatch_workgroups(div_up(rows, ROW_GROUP), 1, 1);
                    if let Some(out) = &members_out {
                        let bg = self.bind(&self.pipelines.member_softmax, &[(0, &params), (1, &h[last % 2]), (5, out)]);
                        pass.set_pipeline(&self.pipelines.member_softmax);
                        pass.set_bind_group(0, &bg, &[]);
                        pass.dispatch_workgroups(div_up(rows, ROW_GROUP), 1, 1);
                    }
                }
                let params = self.uniform([rows as u32, k as u32, 0, req.measure.code(), inv_members.to_bits(), f32::NEG_INFINITY.to_bits(), 0, 0]);
                let bg = self.bind(&self.pipelines.score, &[(0, &params), (2, &acc), (3, &chunk.labelled), (4, &scores)]);
                pass.set_pipeline(&self.pipelines.score);
                pass.set_bind_group(0, &bg, &[]);
                pass.dispatch_workgroups(div_up(rows, ROW_GROUP), 1, 1);
            }
            // Scratch is reused by the next chunk; the copies are ordered before its pass.
            encoder.copy_buffer_to_buffer(&scores, 0, &staging, (row0 * 4) as u64, Some((rows * 4) as u64));
            if req.want_probs {
                encoder.copy_buffer_to_buffer(&acc, 0, &staging, (n * 4 + row0 * k * 4) as u64, Some((rows * k * 4) as u64));
            }
            if let Some(out) = &members_out {
                // Staging holds member after member, each n × k in pool order.
                let base = (n * 4) as u64 + probs_bytes;
                for mi in 0..n_members {
                    encoder.copy_buffer_to_buffer(out, (mi * rpc * k * 4) as u64, &staging, base + ((mi * n + row0) * k * 4) as u64, Some((rows * k * 4) as u64));
                }
            }
        }
        let bytes = self.finish(encoder, &staging, scopes).await;
        for b in h.iter().chain([&acc, &scores, &staging]).chain(members_out.as_ref()) {
            b.destroy();
        }
        for layers in weights {
            for (w, b) in layers {
                w.destroy();
                b.destroy();
            }
        }
        let bytes = bytes?;
        let floats = to_f32(&bytes);
        let scores = floats[..n].to_vec();
        let probs = if req.want_probs {
            Some(Array2::from_shape_vec((n, k), floats[n..n + n * k].to_vec()).map_err(|e| gpu_err(format!("probabilities readback: {e}")))?)
        } else {
            None
        };
        let member_probs = if req.want_member_probs {
            let base = n + if req.want_probs { n * k } else { 0 };
            let each = (0..n_members)
                .map(|mi| Array2::from_shape_vec((n, k), floats[base + mi * n * k..base + (mi + 1) * n * k].to_vec()).map_err(|e| gpu_err(format!("member probabilities readback: {e}"))))
                .collect::<Result<Vec<_>>>()?;
            Some(each)
        } else {
            None
        };
        Ok(Scored { scores, probs, member_probs })
    }

    /// Nearest centre for every pool row on the GPU (same as `cpu::nearest_pool`).
    pub async fn nearest_pool(&mut self, pool: &PoolMatrix, centres: ArrayView2<'_, f32>) -> Result<Nearest> {
        if centres.nrows() == 0 {
            return Err(Error::Empty("the set of centres".into()));
        }
        if centres.ncols() != pool.dim() {
            return Err(Error::Shape { what: "centre feature count vs pool".into(), expected: pool.dim(), got: centres.ncols() });
        }
        crate::model::check_finite(centres)?;
        self.check_alive()?;
        let n = pool.n_rows();
        if n == 0 {
            return Ok(Nearest { dist: Vec::new(), index: Vec::new() });
        }
        self.sync_pool(pool)?;
        let scopes = self.open_scopes();
        let Some(m) = self.mirror.as_ref() else { return Err(gpu_err("pool not uploaded")) };
        let rpc = m.rows_per_chunk;
        let scale = pool.u8_scale();
        let c = centres.as_standard_layout();
        let cbuf = self.storage_init(&format!("centres ({}×{})", centres.nrows(), centres.ncols()), bytemuck::cast_slice(c.as_slice().unwrap_or(&[])))?;
        let dist = self.scratch("nearest distance", (rpc * 4) as u64, wgpu::BufferUsages::empty());
        let index = self.scratch("nearest index", (rpc * 4) as u64, wgpu::BufferUsages::empty());
        let staging = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("nearest readback"),
            size: (n * 8) as u64,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let pipeline = if scale.is_some() { &self.pipelines.nearest_u8 } else { &self.pipelines.nearest_f32 };
        let mut encoder = self.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("nearest") });
        for (ci, chunk) in m.chunks.iter().enumerate() {
            let row0 = ci * rpc;
            if row0 >= n {
                break;
            }
            let rows = rpc.min(n - row0);
            {
                let dims = self.uniform([rows as u32, pool.dim() as u32, centres.nrows() as u32, 0, scale.unwrap_or(1.0).to_bits(), 0, 0, 0]);
                let bg = self.bind(pipeline, &[(0, &dims), (1, &chunk.features), (2, &cbuf), (3, &dist), (4, &index)]);
                let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor { label: Some("nearest chunk"), timestamp_writes: None });
                pass.set_pipeline(pipeline);
                pass.set_bind_group(0, &bg, &[]);
                pass.dispatch_workgroups(div_up(rows, ROW_GROUP), 1, 1);
            }
            encoder.copy_buffer_to_buffer(&dist, 0, &staging, (row0 * 4) as u64, Some((rows * 4) as u64));
            encoder.copy_buffer_to_buffer(&index, 0, &staging, (n * 4 + row0 * 4) as u64, Some((rows * 4) as u64));
        }
        let bytes = self.finish(encoder, &staging, scopes).await;
        for b in [&cbuf, &dist, &index, &staging] {
            b.destroy();
        }
        let bytes = bytes?;
        let dist = to_f32(&bytes[..n * 4]);
        let index = bytes[n * 4..n * 8].chunks_exact(4).map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]])).collect();
        Ok(Nearest { dist, index })
    }

    /// Coates & Ng features of `images` (row-major bytes, n × width·height) on the GPU; the
    /// same result as [`CoatesFeatures::transform`] within float rounding. Images go up in
    /// chunks sized by the limits; all chunks are one submission and one readback.
    pub async fn coates_transform(&self, f: &CoatesFeatures, images: &[u8]) -> Result<Array2<f32>> {
        self.check_alive()?;
        let px = f.width * f.height;
        if f.patch == 0 || f.patch > 8 || f.width < f.patch || f.height < f.patch {
            return Err(gpu_err(format!("patch side {} is outside 1..=8 (and the {}×{} image)", f.patch, f.width, f.height)));
        }
        if images.is_empty() || images.len() % px != 0 {
            return Err(Error::Shape { what: format!("image bytes, a non-zero multiple of {}×{}", f.width, f.height), expected: (images.len() / px + 1) * px, got: images.len() });
        }
        let n = images.len() / px;
        let (w, k) = (f.patch, f.centroids.nrows());
        let dim = w * w;
        if k > MAX_WIDTH {
            return Err(gpu_err(format!("{k} centroids; the GPU path is sized for {MAX_WIDTH}")));
        }
        let (rows, cols) = (f.height - w + 1, f.width - w + 1);
        let positions = rows * cols;
        // Images per chunk: the patch matrix (positions × dim) and the dot products
        // (positions × k) of a chunk must fit one binding, and its rows one dispatch grid.
        let binding = self.limits.max_binding() as usize;
        let per_image = positions * dim.max(k) * 4;
        let grid_rows = self.limits.max_compute_workgroups_per_dimension as usize * DENSE_TILE as usize;
        let mut per_chunk = (binding / per_image).min(grid_rows / positions).min(binding / px.max(1));
        if let Some(cap) = self.options.max_chunk_rows {
            per_chunk = per_chunk.min(cap.max(1));
        }
        if per_chunk == 0 {
            return Err(gpu_err(format!("one image needs {per_image} bytes of patches; max_storage_buffer_binding_size is {binding}")));
        }
        let scopes = self.open_scopes();
        let mean = self.storage_init("coates mean", bytemuck::cast_slice(f.mean.as_slice().unwrap_or(&[])))?;
        let wz = f.whiten.as_standard_layout();
        let whiten = self.storage_init("coates whitening", bytemuck::cast_slice(wz.as_slice().unwrap_or(&[])))?;
        let ct = f.centroids.t().as_standard_layout().to_owned();
        let cent_t = self.storage_init("coates centroidsᵀ", bytemuck::cast_slice(ct.as_slice().unwrap_or(&[])))?;
        let cc: Vec<f32> = f.centroids.rows().into_iter().map(|r| r.dot(&r)).collect();
        let cnorms = self.storage_init("centroid norms", bytemuck::cast_slice(&cc))?;
        let zeros = self.storage_init("zero bias", bytemuck::cast_slice(&vec![0.0f32; k]))?;
        let chunk_rows = per_chunk * positions;
        let img_buf = self.scratch("images", pad4((per_chunk * px) as u64), wgpu::BufferUsages::COPY_DST);
        let patches = self.scratch("patches", (chunk_rows * dim * 4) as u64, wgpu::BufferUsages::empty());
        let norms = self.scratch("patch norms", (chunk_rows * 4) as u64, wgpu::BufferUsages::empty());
        let feats = self.scratch("triangle features", (chunk_rows * k * 4) as u64, wgpu::BufferUsages::empty());
        let pooled = self.scratch("pooled", (per_chunk * 4 * k * 4) as u64, wgpu::BufferUsages::empty());
        let staging = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("coates readback"),
            size: (n * 4 * k * 4) as u64,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        // Image chunks cannot share one upload buffer inside one submission (write_buffer
        // lands before the submission runs), so each chunk gets its own small copy source.
        let mut encoder = self.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("coates") });
        let mut uploads = Vec::new();
        let mut img0 = 0;
        while img0 < n {
            let m = per_chunk.min(n - img0);
            let mut bytes = images[img0 * px..(img0 + m) * px].to_vec();
            bytes.resize(pad4(bytes.len() as u64) as usize, 0);
            let up = self.device.create_buffer_init(&wgpu::util::BufferInitDescriptor { label: Some("image chunk"), contents: &bytes, usage: wgpu::BufferUsages::COPY_SRC });
            encoder.copy_buffer_to_buffer(&up, 0, &img_buf, 0, Some(bytes.len() as u64));
            let r = m * positions;
            let p = self.uniform_words(&[m as u32, f.width as u32, f.height as u32, w as u32, cols as u32, positions as u32, k as u32, rows.div_ceil(2) as u32, cols.div_ceil(2) as u32, f.norm_eps.to_bits(), 0, 0]);
            let dims = self.uniform([r as u32, dim as u32, k as u32, 0, 1.0f32.to_bits(), 0, 0, 0]);
            {
                let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor { label: Some("coates chunk"), timestamp_writes: None });
                let bg = self.bind(&self.pipelines.coates_patches, &[(0, &p), (1, &img_buf), (2, &mean), (3, &whiten), (4, &patches), (5, &norms)]);
                pass.set_pipeline(&self.pipelines.coates_patches);
                pass.set_bind_group(0, &bg, &[]);
                pass.dispatch_workgroups(div_up(r, ROW_GROUP), 1, 1);
                let bg = self.bind(&self.pipelines.dense_f32, &[(0, &dims), (1, &patches), (2, &cent_t), (3, &zeros), (4, &feats)]);
                pass.set_pipeline(&self.pipelines.dense_f32);
                pass.set_bind_group(0, &bg, &[]);
                pass.dispatch_workgroups(div_up(k, DENSE_TILE), div_up(r, DENSE_TILE), 1);
                let bg = self.bind(&self.pipelines.coates_triangle, &[(0, &p), (5, &norms), (6, &cnorms), (7, &feats)]);
                pass.set_pipeline(&self.pipelines.coates_triangle);
                pass.set_bind_group(0, &bg, &[]);
                pass.dispatch_workgroups(div_up(r, ROW_GROUP), 1, 1);
                let bg = self.bind(&self.pipelines.coates_pool, &[(0, &p), (7, &feats), (8, &pooled)]);
                pass.set_pipeline(&self.pipelines.coates_pool);
                pass.set_bind_group(0, &bg, &[]);
                pass.dispatch_workgroups(div_up(m * 4 * k, ROW_GROUP), 1, 1);
            }
            encoder.copy_buffer_to_buffer(&pooled, 0, &staging, (img0 * 4 * k * 4) as u64, Some((m * 4 * k * 4) as u64));
            uploads.push(up);
            img0 += m;
        }
        let bytes = self.finish(encoder, &staging, scopes).await;
        for b in uploads.iter().chain([&mean, &whiten, &cent_t, &cnorms, &zeros, &img_buf, &patches, &norms, &feats, &pooled, &staging]) {
            b.destroy();
        }
        let floats = to_f32(&bytes?);
        Array2::from_shape_vec((n, 4 * k), floats).map_err(|e| gpu_err(format!("coates readback: {e}")))
    }

    fn uniform_words(&self, words: &[u32]) -> wgpu::Buffer {
        self.device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("params"),
            contents: bytemuck::cast_slice(words),
            usage: wgpu::BufferUsages::UNIFORM,
        })
    }

    /// Double every value on the GPU: the smallest complete round trip (upload, dispatch,
    /// readback), for proving an adapter works.
    pub async fn double(&self, values: &[f32]) -> Result<Vec<f32>> {
        self.check_alive()?;
        if values.is_empty() {
            return Ok(Vec::new());
        }
        let scopes = self.open_scopes();
        let buf = self.device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("smoke values"),
            contents: bytemuck::cast_slice(values),
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
        });
        let staging = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("smoke readback"),
            size: (values.len() * 4) as u64,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let bg = self.bind(&self.pipelines.double, &[(0, &buf)]);
        let mut encoder = self.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("smoke") });
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor { label: Some("double"), timestamp_writes: None });
            pass.set_pipeline(&self.pipelines.double);
            pass.set_bind_group(0, &bg, &[]);
            pass.dispatch_workgroups(div_up(values.len(), ROW_GROUP), 1, 1);
        }
        encoder.copy_buffer_to_buffer(&buf, 0, &staging, 0, Some((values.len() * 4) as u64));
        let bytes = self.finish(encoder, &staging, scopes).await;
        buf.destroy();
        staging.destroy();
        Ok(to_f32(&bytes?))
    }
}

impl Backend for GpuContext {
    fn kind(&self) -> BackendKind {
        BackendKind::Gpu
    }
    async fn score_pool(&mut self, pool: &PoolMatrix, req: &ScoreRequest) -> Result<Scored> {
        GpuContext::score_pool(self, pool, req).await
    }
    async fn nearest_pool(&mut self, pool: &PoolMatrix, centres: ArrayView2<'_, f32>) -> Result<Nearest> {
        GpuContext::nearest_pool(self, pool, centres).await
    }
}

/// Build a context and double [1, 2, 3, 4] on it: `Ok([2, 4, 6, 8])` proves the adapter,
/// device, shader compiler and readback all work. The bindings call this at start.
pub async fn smoke_test() -> Result<Vec<f32>> {
    let ctx = GpuContext::new(GpuOptions::default()).await?;
    ctx.double(&[1.0, 2.0, 3.0, 4.0]).await
}

/// Compile one entry point; shader errors (from the compilation info and the validation
/// scope around module and pipeline creation) become `Error::Gpu` with line numbers.
async fn compile(device: &wgpu::Device, label: &str, wgsl: &str, entry: &str) -> Result<wgpu::ComputePipeline> {
    let scope = device.push_error_scope(wgpu::ErrorFilter::Validation);
    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor { label: Some(label), source: wgpu::ShaderSource::Wgsl(wgsl.into()) });
    let info = module.get_compilation_info().await;
    let errors: Vec<String> = info
        .messages
        .iter()
        .filter(|m| m.message_type == wgpu::CompilationMessageType::Error)
        .map(|m| match &m.location {
            Some(l) => format!("line {}:{}: {}", l.line_number, l.line_position, m.message),
            None => m.message.clone(),
        })
        .collect();
    let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
        label: Some(label),
        layout: None,
        module: &module,
        entry_point: Some(entry),
        compilation_options: Default::default(),
        cache: None,
    });
    let scoped = scope.pop().await;
    if !errors.is_empty() {
        return Err(gpu_err(format!("shader {label} does not compile: {}", errors.join("; "))));
    }
    if let Some(e) = scoped {
        return Err(gpu_err(format!("shader {label}: {e}")));
    }
    Ok(pipeline)
}

fn div_up(n: usize, by: u32) -> u32 {
    n.div_ceil(by as usize) as u32
}

fn pad4(n: u64) -> u64 {
    n.div_ceil(4) * 4
}

fn to_f32(bytes: &[u8]) -> Vec<f32> {
    bytes.chunks_exact(4).map(|w| f32::from_le_bytes([w[0], w[1], w[2], w[3]])).collect()
}

/// Map `staging` for reading and copy it out. Awaits the map callback (never blocks); a
/// map that neither completes nor fails within `timeout_ms` is reported as a GPU error.
async fn read_back(staging: &wgpu::Buffer, timeout_ms: u32) -> Result<Vec<u8>> {
    let (tx, rx) = oneshot();
    staging.slice(..).map_async(wgpu::MapMode::Read, move |r| tx.send(r));
    match race(rx, sleep(timeout_ms)).await {
        Either::Left(Some(Ok(()))) => {}
        Either::Left(Some(Err(e))) => return Err(gpu_err(format!("reading results back failed (device lost?): {e}"))),
        Either::Left(None) => return Err(gpu_err("readback callback dropped without an answer")),
        Either::Right(()) => return Err(gpu_err(format!("readback did not finish within {timeout_ms} ms"))),
    }
    let bytes = {
        let view = staging.slice(..).get_mapped_range().map_err(|e| gpu_err(format!("mapped range: {e}")))?;
        view.to_vec()
    };
    staging.unmap();
    Ok(bytes)
}

// A one-shot channel and a timer: a few lines each, instead of pulling in futures-channel
// and gloo-timers for one use.

struct Slot<T> {
    value: Option<T>,
    closed: bool,
    waker: Option<Waker>,
}

struct Sender<T>(Rc<RefCell<Slot<T>>>);
struct Receiver<T>(Rc<RefCell<Slot<T>>>);

fn oneshot<T>() -> (Sender<T>, Receiver<T>) {
    let s = Rc::new(RefCell::new(Slot { value: None, closed: false, waker: None }));
    (Sender(s.clone()), Receiver(s))
}

impl<T> Sender<T> {
    fn send(self, v: T) {
        let waker = {
            let mut s = self.0.borrow_mut();
            s.value = Some(v);
            s.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let waker = {
            let Ok(mut s) = self.0.try_borrow_mut() else { return };
            s.closed = true;
            s.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl<T> Future for Receiver<T> {
    /// `None` when the sender was dropped without sending.
    type Output = Option<T>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let mut s = self.0.borrow_mut();
        if let Some(v) = s.value.take() {
            return Poll::Ready(Some(v));
        }
        if s.closed {
            return Poll::Ready(None);
        }
        s.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

/// Resolves after `ms` milliseconds (setTimeout, in a window or a worker).
fn sleep(ms: u32) -> wasm_bindgen_futures::JsFuture {
    let promise = js_sys::Promise::new(&mut |resolve, _reject| {
        let global = js_sys::global();
        let set_timeout = js_sys::Reflect::get(&global, &JsValue::from_str("setTimeout")).ok().and_then(|f| f.dyn_into::<js_sys::Function>().ok());
        if let Some(f) = set_timeout {
            let _ = f.call2(&global, &resolve, &JsValue::from(ms));
        }
        // Without setTimeout the timer never fires and only the readback can finish.
    });
    wasm_bindgen_futures::JsFuture::from(promise)
}

enum Either<A, B> {
    Left(A),
    Right(B),
}

/// Whichever of two futures finishes first.
async fn race<A: Future + Unpin, B: Future<Output = std::result::Result<JsValue, JsValue>> + Unpin>(mut a: A, mut b: B) -> Either<A::Output, ()> {
    std::future::poll_fn(move |cx| {
        if let Poll::Ready(v) = Pin::new(&mut a).poll(cx) {
            return Poll::Ready(Either::Left(v));
        }
        if let Poll::Ready(_) = Pin::new(&mut b).poll(cx) {
            return Poll::Ready(Either::Right(()));
        }
        Poll::Pending
    })
    .await
}
