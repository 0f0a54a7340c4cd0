//! Batched kernels. `cpu` is the reference; `gpu` (wasm only) runs the same work through
//! wgpu's WebGPU backend and is always tested against `cpu`.
//!
//! The unit of work is a *round*: score every pool row with a committee of small networks
//! (one member for softmax regression or one MLP) in one call, so the GPU path can put all
//! of a round's dispatches in one submission with one readback. Models hand over their
//! weights as [`Network`]s (f32 layers); the pool's features live in a [`PoolMatrix`]
//! that the GPU mirrors once and then updates incrementally (appended rows, labelled flags).
//!
//! Memory (100k images of 28×28): the pool as u8 is 78.4 MB on the CPU and the same on the
//! GPU (packed four bytes per u32); as f32 it would be 313.6 MB. Per round the GPU adds
//! weights (an MLP 784→256→10 is 0.81 MB per member), two hidden-activation scratch buffers
//! of chunk rows × widest layer × 4 B, and a readback of n × (1 + k) × 4 B (4.4 MB at
//! n = 100k, k = 10). The CPU path works in blocks of [`cpu::BLOCK_ROWS`] rows, so its
//! scratch is bounded (a 2048 × 784 f32 block is 6.4 MB).


pub mod coates;
pub mod conv;
pub mod cpu;
pub mod matmul;
pub mod plan;
pub mod transformer;
pub mod vmath;

#[cfg(target_arch = "wasm32")]
pub mod gpu;

use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};

use ndarray::{Array1, Array2, ArrayView2, CowArray, Ix2};

use crate::{Error, Result};

/// Which uncertainty score a round computes from the committee's mean probabilities.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    Margin,
    Entropy,
    LeastConfident,
}

impl Measure {
    /// The code the WGSL score kernel switches on.
    pub fn code(self) -> u32 {
        match self {
            Measure::Margin => 0,
            Measure::Entropy => 1,
            Measure::LeastConfident => 2,
        }
    }
}

/// One dense layer: y = x·w + b, then ReLU when `relu`. `w` is d_in × d_out.
#[derive(Debug, Clone, PartialEq)]
pub struct Layer {
    pub w: Array2<f32>,
    pub b: Array1<f32>,
    pub relu: bool,
}

impl Layer {
    /// Checked: the bias has one entry per output, and every weight is finite.
    pub fn new(w: Array2<f32>, b: Array1<f32>, relu: bool) -> Result<Layer> {
        if b.len() != w.ncols() {
            return Err(Error::Shape { what: "layer bias length vs weight columns".into(), expected: w.ncols(), got: b.len() });
        }
        crate::model::check_finite(w.view())?;
        if let Some((j, v)) = b.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(Error::NonFinite { row: 0, col: j, value: *v as f64 });
        }
        Ok(Layer { w, b, relu })
    }
}

/// A feed-forward network whose last layer gives logits (softmax is applied by the round).
#[derive(Debug, Clone, PartialEq)]
pub struct Network {
    pub layers: Vec<Layer>,
}

impl Network {
    /// Checked: at least one layer and each layer's input width is the previous output.
    pub fn new(layers: Vec<Layer>) -> Result<Network> {
        if layers.is_empty() {
            return Err(Error::Empty("network layers".into()));
        }
        for i in 1..layers.len() {
            let (want, got) = (layers[i - 1].w.ncols(), layers[i].w.nrows());
            if want != got {
                return Err(Error::Shape { what: format!("layer {i} input width vs layer {} output", i - 1), expected: want, got });
            }
        }
        Ok(Network { layers })
    }
    pub fn d_in(&self) -> usize {
        self.layers.first().map_or(0, |l| l.w.nrows())
    }
    pub fn n_classes(&self) -> usize {
        self.layers.last().map_or(0, |l| l.w.ncols())
    }
    /// Widest layer output (sizes the GPU's activation scratch).
    pub fn max_width(&self) -> usize {
        self.layers.iter().map(|l| l.w.ncols()).max().unwrap_or(0)
    }
    /// Multiply-adds per sample, the cost the auto backend choice weighs.
    pub fn macs_per_row(&self) -> usize {
        self.layers.iter().map(|l| l.w.len()).sum()
    }
}

/// One scoring round: every member's forward pass, the mean of their probabilities, and one
/// uncertainty score per pool row.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreRequest {
    /// One network for a single model; several for a committee (scored on their mean).
    pub members: Vec<Network>,
    pub measure: Measure,
    /// Also return the n × k mean probabilities (costs n·k·4 bytes of readback).
    pub want_probs: bool,
    /// Also return every member's n × k probabilities, for the committee strategies that
    /// look at disagreement (vote entropy, KL from the consensus): m·n·k·4 bytes.
    pub want_member_probs: bool,
}

impl ScoreRequest {
    /// Check the members against the pool's feature count; returns the class count.
    pub fn validate(&self, d: usize) -> Result<usize> {
        let first = self.members.first().ok_or_else(|| Error::Empty("committee (no networks to score with)".into()))?;
        let k = first.n_classes();
        for (i, m) in self.members.iter().enumerate() {
            if m.d_in() != d {
                return Err(Error::Shape { what: format!("member {i} input width vs pool features"), expected: d, got: m.d_in() });
            }
            if m.n_classes() != k {
                return Err(Error::Shape { what: format!("member {i} class count vs member 0"), expected: k, got: m.n_classes() });
            }
        }
        if k == 0 {
            return Err(Error::Empty("classes (last layer has no outputs)".into()));
        }
        Ok(k)
    }
}

/// What a round returns: a score per pool row (−∞ for labelled rows) and, when asked, the
/// mean probabilities and each member's.
#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    pub scores: Vec<f32>,
    pub probs: Option<Array2<f32>>,
    /// Each member's probabilities (n × k each, member order), when asked for.
    pub member_probs: Option<Vec<Array2<f32>>>,
}

/// Nearest centre per row: squared distance and centre index.
#[derive(Debug, Clone, PartialEq)]
pub struct Nearest {
    pub dist: Vec<f32>,
    pub index: Vec<u32>,
}

/// How the pool's features are stored.
#[derive(Debug, Clone, PartialEq)]
enum Storage {
    F32(Vec<f32>),
    /// value = byte × scale (pixels: scale 1/255). A quarter of f32's memory.
    U8 { bytes: Vec<u8>, scale: f32 },
}

static NEXT_POOL_ID: AtomicU64 = AtomicU64::new(1);

/// The pool's feature matrix (row-major, n × d) and which rows are labelled. Rows are only
/// appended, never moved, so a row index is a stable id for the learner; the GPU mirror
/// follows the append position and a log of labelled-flag changes instead of re-uploading.
#[derive(Debug, Clone)]
pub struct PoolMatrix {
    id: u64,
    d: usize,
    n: usize,
    storage: Storage,
    labelled: Vec<bool>,
    /// Every labelled-flag change in order; the GPU replays the part it has not seen.
    label_log: Vec<(u32, bool)>,
}

impl PoolMatrix {
    fn with(d: usize, storage: Storage) -> Result<PoolMatrix> {
        if d == 0 {
            return Err(Error::param("feature count", "must be at least 1"));
        }
        Ok(PoolMatrix { id: NEXT_POOL_ID.fetch_add(1, Ordering::Relaxed), d, n: 0, storage, labelled: Vec::new(), label_log: Vec::new() })
    }
    /// An empty pool of f32 features, `d` per row.
    pub fn new_f32(d: usize) -> Result<PoolMatrix> {
        Self::with(d, Storage::F32(Vec::new()))
    }
    /// An empty pool of byte features read as byte × `scale` (pixels: 1/255).
    pub fn new_u8(d: usize, scale: f32) -> Result<PoolMatrix> {
        if !(scale.is_finite() && scale > 0.0) {
            return Err(Error::param("u8 feature scale", format!("must be positive and finite, got {scale}")));
        }
        Self::with(d, Storage::U8 { bytes: Vec::new(), scale })
    }
    /// Append f32 rows (must be finite; the error names the first bad cell by pool row).
    pub fn append_f32(&mut self, rows: ArrayView2<f32>) -> Result<Range<usize>> {
        if rows.ncols() != self.d {
            return Err(Error::Shape { what: "appended rows' feature count vs pool".into(), expected: self.d, got: rows.ncols() });
        }
        let start = self.n;
        crate::model::check_finite(rows).map_err(|e| match e {
            Error::NonFinite { row, col, value } => Error::NonFinite { row: row + start, col, value },
            other => other,
        })?;
        match &mut self.storage {
            Storage::F32(v) => v.extend(rows.iter()),
            Storage::U8 { .. } => return Err(Error::State("this pool stores u8 features; append bytes with append_u8".into())),
        }
        self.n += rows.nrows();
        self.labelled.resize(self.n, false);
        Ok(start..self.n)
    }
    /// Make room for `rows` more rows at once, so appending a known number of rows in
    /// pieces does not grow the storage by doubling (up to twice the pool's bytes).
    pub fn reserve(&mut self, rows: usize) {
        let values = rows.saturating_mul(self.d);
        match &mut self.storage {
            Storage::F32(v) => v.reserve_exact(values),
            Storage::U8 { bytes, .. } => bytes.reserve_exact(values),
        }
        self.labelled.reserve_exact(rows);
    }
    /// Append rows of bytes (`bytes.len()` must be a multiple of d).
    pub fn append_u8(&mut self, bytes: &[u8]) -> Result<Range<usize>> {
        if bytes.len() % self.d != 0 {
            return Err(Error::Shape { what: format!("appended byte count, a multiple of {} features", self.d), expected: bytes.len() / self.d * self.d + self.d, got: bytes.len() });
        }
        match &mut self.storage {
            Storage::U8 { bytes: v, .. } => v.extend_from_slice(bytes),
            Storage::F32(_) => return Err(Error::State("this pool stores f32 features; append with append_f32".into())),
        }
        let start = self.n;
        self.n += bytes.len() / self.d;
        self.labelled.resize(self.n, false);
        Ok(start..self.n)
    }
    /// Mark a row labelled (it then scores −∞) or, for undo, unlabelled.
    pub fn set_labelled(&mut self, row: usize, labelled: bool) -> Result<()> {
        if row >= self.n {
            return Err(Error::UnknownSample { id: row as u64 });
        }
        if self.labelled[row] != labelled {
            self.labelled[row] = labelled;
            self.label_log.push((row as u32, labelled));
        }
        Ok(())
    }
    pub fn is_labelled(&self, row: usize) -> bool {
        self.labelled.get(row).copied().unwrap_or(false)
    }
    pub fn n_rows(&self) -> usize {
        self.n
    }
    pub fn dim(&self) -> usize {
        self.d
    }
    /// Identity for the GPU mirror: a different pool object means a fresh upload.
    pub fn id(&self) -> u64 {
        self.id
    }
    /// Bytes per stored feature value (1 for u8, 4 for f32).
    pub fn value_bytes(&self) -> usize {
        match self.storage {
            Storage::F32(_) => 4,
            Storage::U8 { .. } => 1,
        }
    }
    /// Bytes held by the features and flags (what `docs` quotes for memory).
    pub fn byte_size(&self) -> usize {
        self.n * self.d * self.value_bytes() + self.labelled.len()
    }
    /// `Some(scale)` when the pool stores bytes.
    pub fn u8_scale(&self) -> Option<f32> {
        match self.storage {
            Storage::U8 { scale, .. } => Some(scale),
            Storage::F32(_) => None,
        }
    }
    /// The stored values of rows `range` as bytes (little-endian f32, or u8), borrowed:
    /// uploading a 78 MB pool must not copy it first.
    pub fn raw_bytes(&self, range: Range<usize>) -> &[u8] {
        let (a, b) = (range.start.min(self.n) * self.d, range.end.min(self.n) * self.d);
        let a = a.min(b);
        match &self.storage {
            Storage::F32(v) => bytemuck::cast_slice(&v[a..b]),
            Storage::U8 { bytes, .. } => &bytes[a..b],
        }
    }
    /// Labelled-flag changes from position `from` of the log on.
    pub fn label_changes_since(&self, from: usize) -> &[(u32, bool)] {
        &self.label_log[from.min(self.label_log.len())..]
    }
    pub fn label_log_len(&self) -> usize {
        self.label_log.len()
    }
    /// Rows `range` as f32 without copying when the pool is stored as f32 (a view of it),
    /// converted into a new block when it is stored as bytes: a scoring round reads every
    /// row once, and the copy of a 100k × 64 f32 pool would be 25.6 MB of memory traffic.
    pub fn rows_view(&self, range: Range<usize>) -> Result<CowArray<'_, f32, Ix2>> {
        match &self.storage {
            Storage::F32(v) if range.start <= range.end && range.end <= self.n => {
                let rows = v.get(range.start * self.d..range.end * self.d).ok_or_else(|| Error::State(format!("rows_view: rows {range:?} outside the stored features")))?;
                ArrayView2::from_shape((range.len(), self.d), rows).map(CowArray::from).map_err(|e| Error::State(format!("rows_view: {e}")))
            }
            _ => self.rows_f32(range).map(CowArray::from),
        }
    }

    /// Rows `range` as an f32 matrix (u8 rows are scaled).
    pub fn rows_f32(&self, range: Range<usize>) -> Result<Array2<f32>> {
        if range.start > range.end || range.end > self.n {
            return Err(Error::Shape { what: format!("row range {}..{} end vs pool rows", range.start, range.end), expected: self.n, got: range.end });
        }
        let (a, b) = (range.start * self.d, range.end * self.d);
        let data: Vec<f32> = match &self.storage {
            Storage::F32(v) => v[a..b].to_vec(),
            Storage::U8 { bytes, scale } => bytes[a..b].iter().map(|&x| x as f32 * scale).collect(),
        };
        Array2::from_shape_vec((range.len(), self.d), data).map_err(|e| Error::State(format!("rows_f32: {e}")))
    }
}

/// Which implementation ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    Cpu,
    Gpu,
}

/// The batched operations a round needs. Async because the GPU's readback is: in the
/// browser `map_async` completes only after control returns to the event loop. The CPU
/// implementation's futures are ready on first poll.
#[allow(async_fn_in_trait)] // wasm is single-threaded here: the futures need not be Send.
pub trait Backend {
    fn kind(&self) -> BackendKind;
    /// Score every pool row (see [`ScoreRequest`]).
    async fn score_pool(&mut self, pool: &PoolMatrix, req: &ScoreRequest) -> Result<Scored>;
    /// Nearest centre for every pool row.
    async fn nearest_pool(&mut self, pool: &PoolMatrix, centres: ArrayView2<'_, f32>) -> Result<Nearest>;
}

/// The CPU reference backend.
#[derive(Debug, Clone, Copy, Default)]
pub struct Cpu;

impl Backend for Cpu {
    fn kind(&self) -> BackendKind {
        BackendKind::Cpu
    }
    async fn score_pool(&mut self, pool: &PoolMatrix, req: &ScoreRequest) -> Result<Scored> {
        cpu::score_pool(pool, req)
    }
    async fn nearest_pool(&mut self, pool: &PoolMatrix, centres: ArrayView2<'_, f32>) -> Result<Nearest> {
        cpu::nearest_pool(pool, centres)
    }
}

/// What the person asked for (`backend: 'auto' | 'webgpu' | 'cpu'` in the package options).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Preference {
    #[default]
    Auto,
    Cpu,
    Gpu,
}

/// Below this many multiply-adds per round, `Auto` stays on the CPU: a GPU round pays a
/// submission and a readback (about a millisecond in Chrome) and the first use of a pool
/// pays its upload, which small work does not win back. 2·10⁷ is softmax regression on
/// ~2.5k rows of 784 features, or an MLP with 256 hidden units on ~100 rows.
pub const AUTO_MIN_MACS: usize = 20_000_000;

/// The entry point models and bindings call: picks the GPU or the CPU per round, and when
/// the GPU fails (device lost, validation error) drops it and answers from the CPU, so a
/// round always returns the same rows and ids whichever backend ran.
pub struct Compute {
    preference: Preference,
    #[cfg(target_arch = "wasm32")]
    gpu: Option<gpu::GpuContext>,
    last: BackendKind,
    fallback_reason: Option<String>,
}

impl Compute {
    /// CPU only (native builds, browsers without WebGPU, or `backend: 'cpu'`).
    pub fn cpu() -> Compute {
        Compute {
            preference: Preference::Cpu,
            #[cfg(target_arch = "wasm32")]
            gpu: None,
            last: BackendKind::Cpu,
            fallback_reason: None,
        }
    }
    /// With a GPU context (built once with [`gpu::GpuContext::new`]).
    #[cfg(target_arch = "wasm32")]
    pub fn with_gpu(ctx: gpu::GpuContext, preference: Preference) -> Compute {
        Compute { preference, gpu: Some(ctx), last: BackendKind::Cpu, fallback_reason: None }
    }
    /// The GPU context, while one is held (for its adapter info, or tests).
    #[cfg(target_arch = "wasm32")]
    pub fn gpu(&self) -> Option<&gpu::GpuContext> {
        self.gpu.as_ref()
    }
    /// The backend the last operation ran on.
    pub fn last_backend(&self) -> BackendKind {
        self.last
    }
    /// Why the GPU was dropped, if it was.
    pub fn fallback_reason(&self) -> Option<&str> {
        self.fallback_reason.as_deref()
    }
    /// Whether a GPU context is still held.
    pub fn has_gpu(&self) -> bool {
        #[cfg(target_arch = "wasm32")]
        return self.gpu.is_some();
        #[cfg(not(target_arch = "wasm32"))]
        false
    }

    #[cfg_attr(not(target_arch = "wasm32"), allow(unused_variables))]
    fn wants_gpu(&self, macs: usize) -> bool {
        if !self.has_gpu() {
            return false;
        }
        match self.preference {
            Preference::Cpu => false,
            Preference::Gpu => true,
            Preference::Auto => macs >= AUTO_MIN_MACS,
        }
    }

    #[cfg(target_arch = "wasm32")]
    fn drop_gpu(&mut self, reason: String) {
        web_sys::console::warn_1(&format!("marginalia: GPU dropped, continuing on the CPU: {reason}").into());
        self.gpu = None;
        self.fallback_reason = Some(reason);
    }

    /// What a GPU attempt came to: its value (the round ran on the GPU), `None` when the GPU
    /// failed and was dropped (the caller answers from the CPU), or an input error, which
    /// the CPU would give too.
    #[cfg(target_arch = "wasm32")]
    fn settle_gpu<T>(&mut self, outcome: Result<T>) -> Result<Option<T>> {
        match outcome {
            Ok(v) => {
                self.last = BackendKind::Gpu;
                Ok(Some(v))
            }
            Err(Error::Gpu(msg)) => {
                self.drop_gpu(msg);
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Score the pool (one round). Shape errors come back as errors from either backend;
    /// GPU failures fall back to the CPU.
    pub async fn score_pool(&mut self, pool: &PoolMatrix, req: &ScoreRequest) -> Result<Scored> {
        req.validate(pool.dim())?;
        let macs = pool.n_rows() * req.members.iter().map(Network::macs_per_row).sum::<usize>();
        if self.wants_gpu(macs) {
            #[cfg(target_arch = "wasm32")]
            if let Some(g) = &mut self.gpu {
                let outcome = g.score_pool(pool, req).await;
                if let Some(s) = self.settle_gpu(outcome)? {
                    return Ok(s);
                }
            }
        }
        self.last = BackendKind::Cpu;
        cpu::score_pool(pool, req)
    }

    /// Nearest centre per pool row, with the same fallback as [`Compute::score_pool`].
    pub async fn nearest_pool(&mut self, pool: &PoolMatrix, centres: ArrayView2<'_, f32>) -> Result<Nearest> {
        if centres.ncols() != pool.dim() {
            return Err(Error::Shape { what: "centre feature count vs pool".into(), expected: pool.dim(), got: centres.ncols() });
        }
        if self.wants_gpu(pool.n_rows() * centres.len()) {
            #[cfg(target_arch = "wasm32")]
            if let Some(g) = &mut self.gpu {
                let outcome = g.nearest_pool(pool, centres).await;
                if let Some(s) = self.settle_gpu(outcome)? {
                    return Ok(s);
                }
            }
        }
        self.last = BackendKind::Cpu;
        cpu::nearest_pool(pool, centres)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn pool_append_label_and_bytes() {
        let mut p = PoolMatrix::new_u8(3, 0.5).unwrap();
        assert_eq!(p.append_u8(&[1, 2, 3, 4, 5, 6]).unwrap(), 0..2);
        assert!(matches!(p.append_u8(&[1, 2]), Err(Error::Shape { .. })));
        assert_eq!(p.rows_f32(1..2).unwrap(), array![[2.0f32, 2.5, 3.0]]);
        p.set_labelled(1, true).unwrap();
        p.set_labelled(1, true).unwrap(); // no change, no log entry
        p.set_labelled(0, true).unwrap();
        p.set_labelled(0, false).unwrap();
        assert_eq!(p.label_changes_since(0), &[(1, true), (0, true), (0, false)]);
        assert_eq!(p.label_changes_since(2), &[(0, false)]);
        assert!(matches!(p.set_labelled(2, true), Err(Error::UnknownSample { id: 2 })));
        assert_eq!(p.byte_size(), 6 + 2);
        p.reserve(100);
        p.append_u8(&[7; 30]).unwrap();
        assert_eq!(p.n_rows(), 12);
        assert_eq!(p.rows_f32(11..12).unwrap(), array![[3.5f32, 3.5, 3.5]]);

        let mut f = PoolMatrix::new_f32(2).unwrap();
        f.append_f32(array![[1.0f32, 2.0]].view()).unwrap();
        let err = f.append_f32(array![[0.0f32, 0.0], [f32::NAN, 1.0]].view()).unwrap_err();
        assert!(matches!(err, Error::NonFinite { row: 2, col: 0, .. }), "row is the pool row: {err:?}");
        assert_eq!(f.raw_bytes(0..1), [1.0f32.to_le_bytes(), 2.0f32.to_le_bytes()].concat());
        assert_ne!(f.id(), p.id());
    }

    #[test]
    fn network_checks_chain_shapes() {
        let l1 = Layer::new(Array2::zeros((4, 3)), Array1::zeros(3), true).unwrap();
        let l2 = Layer::new(Array2::zeros((2, 5)), Array1::zeros(5), false).unwrap();
        assert!(matches!(Network::new(vec![l1, l2]), Err(Error::Shape { expected: 3, got: 2, .. })));
        assert!(matches!(Layer::new(Array2::zeros((4, 3)), Array1::zeros(2), false), Err(Error::Shape { expected: 3, got: 2, .. })));
    }

    #[test]
    fn cpu_backend_through_the_trait_and_compute() {
        let mut pool = PoolMatrix::new_f32(2).unwrap();
        pool.append_f32(array![[1.0f32, 0.0], [0.0, 1.0], [0.5, 0.5]].view()).unwrap();
        let net = Network::new(vec![Layer::new(array![[2.0f32, 0.0], [0.0, 2.0]], array![0.0f32, 0.0], false).unwrap()]).unwrap();
        let req = ScoreRequest { members: vec![net], measure: Measure::LeastConfident, want_probs: false, want_member_probs: false };
        let direct = cpu::score_pool(&pool, &req).unwrap();
        let via_trait = block_on(Cpu.score_pool(&pool, &req)).unwrap();
        let mut c = Compute::cpu();
        let via_compute = block_on(c.score_pool(&pool, &req)).unwrap();
        assert_eq!(direct, via_trait);
        assert_eq!(direct, via_compute);
        assert_eq!(c.last_backend(), BackendKind::Cpu);
        // Row 2 is a tie between the classes: least confident 1 − ½.
        assert_eq!(direct.scores[2], 0.5);
    }

    /// The CPU futures are ready on first poll; anything else is a bug.
    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        let mut f = std::pin::pin!(f);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match f.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(v) => v,
            std::task::Poll::Pending => panic!("CPU backend future was not ready"),
        }
    }
}
