//! The f32 matrix product behind every dense forward pass on the CPU, and a sparse (CSR)
//! × dense product for text features.
//!
//! Why not `ndarray::dot`: it calls `matrixmultiply`, whose hand-written kernels are for
//! x86 (SSE/AVX/FMA) and aarch64 (NEON); on wasm32 it falls back to a generic kernel that
//! LLVM does not turn into SIMD128 code.
//!
//! The product is a register-blocked micro-kernel over packed panels of B (the layout
//! XNNPACK and BLIS use, written here from the idea, not from their code):
//! - B is packed once into panels of NR = 8 columns (panel q holds B[p][8q..8q+8] for
//!   p = 0..k, one after the other; the last panel is padded with zero columns), so the
//!   kernel reads each panel sequentially and every column, the last few included, goes
//!   through the vector kernel. Each panel is reused by every block of rows.
//! - A tile of MR rows × 8 columns of C lives in registers for the whole k loop: under
//!   SIMD128 (and on x86-64, SSE) MR = 6, twelve 4-lane accumulators, 2 B vectors and a
//!   broadcast A value, which fits the 16 vector registers V8 (and LLVM) have on x86-64.
//! - The k loop is unrolled by 4 and walks one pointer per row, so V8 folds the step into
//!   the loads' constant offsets instead of computing an address per load: in headless
//!   Chromium 156, 2040×784 · 784×256, 22 ms (37 GFLOP/s) against 29–30 ms for the same
//!   6×8 tile with one k step per iteration and a per-load index (unroll by 2: 27 ms, by 8:
//!   29 ms; 5×8: 22.5 ms; 4×8: 24–25 ms). Blocking k by 128 or 256 (A rows of the tile and
//!   the panel slice staying in L1) measured 23–25 ms, no gain over the 25 KB panels at
//!   d = 784, so k is not blocked.
//! - Without SIMD128 on wasm the same blocking runs on plain arrays with MR = 4 (V8 spills
//!   the scalar 6×8 block: 2.3 against 4.4 GFLOP/s).
//!
//! Every build does exactly the same arithmetic in the same order per output element
//! (`c = ((0 + a₀b₀) + a₁b₁) + …`, multiply then add, never fused; the blocking and the
//! unrolling change only which elements are computed together), so the SIMD and the
//! scalar wasm builds and the native build give bit-identical results, which
//! `tests/wasm_compute.rs` checks by running the same expected values in both wasm builds.

use ndarray::{Array2, ArrayView1, ArrayView2};

use crate::{Error, Result};

/// `true` when this build uses the SIMD128 kernel (for benchmarks and reports).
pub const SIMD128: bool = cfg!(all(target_arch = "wasm32", target_feature = "simd128"));

/// Whether this build has the 4-lane vector kernel (wasm SIMD128 or x86-64 SSE).
const VECTOR: bool = SIMD128 || cfg!(target_arch = "x86_64");
/// Rows of A handled together (each is one broadcast scalar per step).
const MR: usize = if VECTOR { 6 } else { 4 };
/// Columns of C handled together (two 4-lane vectors): the width of a packed panel.
const NR: usize = 8;

/// C = A·B (+ bias per column when given). A is n×k, B is k×m; both may be any layout
/// (non-standard layouts are copied once to row-major).
pub fn matmul(a: ArrayView2<f32>, b: ArrayView2<f32>, bias: Option<ArrayView1<f32>>) -> Result<Array2<f32>> {
    let (n, k) = a.dim();
    let (k2, m) = b.dim();
    if k != k2 {
        return Err(Error::Shape { what: "matmul inner dimension (A columns vs B rows)".into(), expected: k, got: k2 });
    }
    if let Some(bias) = bias {
        if bias.len() != m {
            return Err(Error::Shape { what: "matmul bias length vs B columns".into(), expected: m, got: bias.len() });
        }
    }
    let a = a.as_standard_layout();
    let b = b.as_standard_layout();
    let mut c = vec![0.0f32; n * m];
    // Both are standard layout now, so as_slice cannot fail; keep the error anyway rather
    // than unwrap (no panics in wasm).
    let (a_s, b_s) = match (a.as_slice(), b.as_slice()) {
        (Some(x), Some(y)) => (x, y),
        _ => return Err(Error::State("matmul: operand not contiguous after copy".into())),
    };
    gemm(a_s, b_s, &mut c, n, k, m);
    if let Some(bias) = bias {
        for row in c.chunks_exact_mut(m.max(1)) {
            for (v, bv) in row.iter_mut().zip(bias.iter()) {
                *v += *bv;
            }
        }
    }
    Array2::from_shape_vec((n, m), c).map_err(|e| Error::State(format!("matmul result shape {n}×{m}: {e}")))
}

/// B (k×m, row-major) as panels of NR columns, the last one padded with zeros: panel q is
/// `k·NR` floats, row p of it is B[p][q·NR..q·NR + NR]. Copies k·m floats once per product,
/// nothing next to the n·k·m multiply-adds; the zero columns only produce values that are
/// never stored.
fn pack_b(b: &[f32], k: usize, m: usize) -> Vec<f32> {
    let panels = m.div_ceil(NR);
    let mut packed = vec![0.0f32; panels * k * NR];
    if k == 0 || m == 0 {
        return packed;
    }
    for (q, panel) in packed.chunks_exact_mut(k * NR).enumerate() {
        let (from, to) = (q * NR, ((q + 1) * NR).min(m));
        for (dst, src) in panel.chunks_exact_mut(NR).zip(b.chunks_exact(m)) {
            dst[..to - from].copy_from_slice(&src[from..to]);
        }
    }
    packed
}

/// B packed once into panels, for products that reuse the same B many times (a
/// convolution's weights, applied to every image of an import).
#[derive(Debug, Clone, PartialEq)]
pub struct PackedB {
    k: usize,
    m: usize,
    panels: Vec<f32>,
}

impl PackedB {
    /// Packs row-major B (k×m); rows missing from a short `b` pack as zeros.
    pub fn new(b: &[f32], k: usize, m: usize) -> PackedB {
        PackedB { k, m, panels: pack_b(b, k, m) }
    }

    /// B back in row-major k×m order (for uploading the same weights to the GPU).
    pub fn unpack(&self) -> Vec<f32> {
        let mut b = vec![0.0f32; self.k * self.m];
        if self.k == 0 || self.m == 0 {
            return b;
        }
        for (q, panel) in self.panels.chunks_exact(self.k * NR).enumerate() {
            let (from, to) = (q * NR, ((q + 1) * NR).min(self.m));
            for (src, dst) in panel.chunks_exact(NR).zip(b.chunks_exact_mut(self.m)) {
                dst[from..to].copy_from_slice(&src[..to - from]);
            }
        }
        b
    }

    /// Rows of B.
    pub fn k(&self) -> usize {
        self.k
    }

    /// Columns of B.
    pub fn m(&self) -> usize {
        self.m
    }
}

/// Row-major C (n×m) = A (n×k) · B (k×m); every element of C is written (C = 0 when k = 0).
/// The slices must hold at least n·k, k·m and n·m floats; shorter ones leave C untouched
/// past what they cover rather than panic.
pub fn gemm(a: &[f32], b: &[f32], c: &mut [f32], n: usize, k: usize, m: usize) {
    if n == 0 || m == 0 || a.len() < n * k || b.len() < k * m || c.len() < n * m {
        return;
    }
    gemm_packed(a, &PackedB::new(b, k, m), c, n);
}

/// C (n×m) = A (n×k) · B for a B packed with [`PackedB::new`]; same arithmetic as [`gemm`].
/// Slices shorter than n·k or n·m leave C untouched rather than panic.
pub fn gemm_packed(a: &[f32], b: &PackedB, c: &mut [f32], n: usize) {
    let (k, m) = (b.k, b.m);
    if n == 0 || m == 0 || a.len() < n * k || c.len() < n * m {
        return;
    }
    if k == 0 {
        c[..n * m].fill(0.0);
        return;
    }
    for (rows, (a_blk, c_blk)) in a[..n * k].chunks(MR * k).zip(c[..n * m].chunks_mut(MR * m)).map(|(x, y)| (x.len() / k, (x, y))) {
        for (q, panel) in b.panels.chunks_exact(k * NR).enumerate() {
            let j = q * NR;
            let w = (m - j).min(NR);
            let c_tile = &mut c_blk[j..];
            // One instantiation per row count, so the accumulators stay in registers; the
            // last block of rows can be any of 1..=MR.
            match rows {
                6 => tile::<6>(a_blk, panel, c_tile, k, m, w),
                5 => tile::<5>(a_blk, panel, c_tile, k, m, w),
                4 => tile::<4>(a_blk, panel, c_tile, k, m, w),
                3 => tile::<3>(a_blk, panel, c_tile, k, m, w),
                2 => tile::<2>(a_blk, panel, c_tile, k, m, w),
                _ => tile::<1>(a_blk, panel, c_tile, k, m, w),
            }
        }
    }
}

/// The 4-lane vector operations the kernel needs, on wasm SIMD128 or x86-64 SSE (part of
/// the x86-64 baseline, so no runtime detection). Multiply then add, never fused.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod lanes {
    pub use core::arch::wasm32::v128 as V;
    use core::arch::wasm32::*;
    #[inline(always)]
    pub fn zero() -> V {
        f32x4_splat(0.0)
    }
    /// SAFETY (caller): `p..p+4` readable.
    #[inline(always)]
    pub unsafe fn load(p: *const f32) -> V {
        v128_load(p as *const V)
    }
    /// SAFETY (caller): `p` readable.
    #[inline(always)]
    pub unsafe fn splat(p: *const f32) -> V {
        v128_load32_splat(p as *const u32)
    }
    #[inline(always)]
    pub fn mul_add(acc: V, a: V, b: V) -> V {
        f32x4_add(acc, f32x4_mul(a, b))
    }
    /// SAFETY (caller): `p..p+4` writable.
    #[inline(always)]
    pub unsafe fn store(p: *mut f32, v: V) {
        v128_store(p as *mut V, v)
    }
}

#[cfg(target_arch = "x86_64")]
#[allow(unused_unsafe)]
mod lanes {
    use core::arch::x86_64::*;
    pub type V = __m128;
    #[inline(always)]
    pub fn zero() -> V {
        unsafe { _mm_setzero_ps() }
    }
    /// SAFETY (caller): `p..p+4` readable.
    #[inline(always)]
    pub unsafe fn load(p: *const f32) -> V {
        _mm_loadu_ps(p)
    }
    /// SAFETY (caller): `p` readable.
    #[inline(always)]
    pub unsafe fn splat(p: *const f32) -> V {
        _mm_set1_ps(*p)
    }
    #[inline(always)]
    pub fn mul_add(acc: V, a: V, b: V) -> V {
        unsafe { _mm_add_ps(acc, _mm_mul_ps(a, b)) }
    }
    /// SAFETY (caller): `p..p+4` writable.
    #[inline(always)]
    pub unsafe fn store(p: *mut f32, v: V) {
        _mm_storeu_ps(p, v)
    }
}

/// C[r][0..w] = Σₚ A[r][p]·panel[p] for the R rows of `a` (R·k floats, row stride k) and
/// one packed panel (k·NR floats); `c` starts at the tile's top-left element, row stride m.
#[cfg(any(all(target_arch = "wasm32", target_feature = "simd128"), target_arch = "x86_64"))]
#[inline(always)]
fn tile<const R: usize>(a: &[f32], panel: &[f32], c: &mut [f32], k: usize, m: usize, w: usize) {
    use lanes::*;
    // The only bounds checks: once per tile. Everything the loops below read lies inside
    // these two slices, as the SAFETY notes show. (The driver always passes valid slices.)
    if R == 0 || k == 0 || a.len() < R * k || panel.len() < k * NR {
        return;
    }
    let mut acc = [[zero(); 2]; R];
    // rp[r] walks row r of A: it starts at a + r·k and advances by one per step of p.
    let mut rp = [a.as_ptr(); R];
    for (r, p) in rp.iter_mut().enumerate() {
        *p = a[r * k..].as_ptr();
    }
    let mut bp = panel.as_ptr();
    let mut p = 0;
    while p + 4 <= k {
        // SAFETY: p + 4 ≤ k, so rp[r] + u = a + r·k + p + u < a + R·k ≤ end of `a`, and
        // bp + 8u + 8 = panel + 8(p + u + 1) ≤ panel + 8k ≤ end of `panel`. Loads of v128
        // and load32_splat accept unaligned addresses.
        unsafe {
            for u in 0..4 {
                let b0 = load(bp.add(u * NR));
                let b1 = load(bp.add(u * NR + 4));
                for r in 0..R {
                    let av = splat(rp[r].add(u));
                    acc[r][0] = mul_add(acc[r][0], av, b0);
                    acc[r][1] = mul_add(acc[r][1], av, b1);
                }
            }
            for q in rp.iter_mut() {
                *q = q.add(4);
            }
            bp = bp.add(4 * NR);
        }
        p += 4;
    }
    while p < k {
        // SAFETY: as above with one step: p < k.
        unsafe {
            let b0 = load(bp);
            let b1 = load(bp.add(4));
            for r in 0..R {
                let av = splat(rp[r]);
                acc[r][0] = mul_add(acc[r][0], av, b0);
                acc[r][1] = mul_add(acc[r][1], av, b1);
                rp[r] = rp[r].add(1);
            }
            bp = bp.add(NR);
        }
        p += 1;
    }
    for (r, v) in acc.iter().enumerate() {
        let Some(dst) = c.get_mut(r * m..r * m + w) else { return };
        if w == NR {
            // SAFETY: `dst` holds exactly 8 floats; two unaligned 16-byte stores.
            unsafe {
                store(dst.as_mut_ptr(), v[0]);
                store(dst.as_mut_ptr().add(4), v[1]);
            }
        } else {
            // The last panel: only w < 8 columns of C exist.
            let mut t = [0.0f32; NR];
            // SAFETY: `t` holds 8 floats.
            unsafe {
                store(t.as_mut_ptr(), v[0]);
                store(t.as_mut_ptr().add(4), v[1]);
            }
            dst.copy_from_slice(&t[..w]);
        }
    }
}

/// The same tile on plain arrays (scalar wasm and targets without the vector kernel).
/// Not inlined: inlined into `gemm` (all six row counts in one function), V8's register
/// allocator did much worse on scalar wasm: 2048×784 · 784×256 in 232 ms against 110 ms
/// for a separate function per tile (headless Chromium 156, bench page, side by side).
#[cfg(not(any(all(target_arch = "wasm32", target_feature = "simd128"), target_arch = "x86_64")))]
#[inline(never)]
fn tile<const R: usize>(a: &[f32], panel: &[f32], c: &mut [f32], k: usize, m: usize, w: usize) {
    if a.len() < R * k || panel.len() < k * NR {
        return;
    }
    let mut acc = [[0.0f32; NR]; R];
    for (p, bs) in panel.chunks_exact(NR).take(k).enumerate() {
        for r in 0..R {
            let av = a[r * k + p];
            for q in 0..NR {
                acc[r][q] += av * bs[q];
            }
        }
    }
    for (r, v) in acc.iter().enumerate() {
        let Some(dst) = c.get_mut(r * m..r * m + w) else { return };
        dst.copy_from_slice(&v[..w]);
    }
}

/// A sparse matrix in compressed sparse row form (the usual shape of text features:
/// bag-of-words or hashed n-grams with a few dozen non-zeros per row out of thousands).
#[derive(Debug, Clone, PartialEq)]
pub struct Csr {
    pub n_rows: usize,
    pub n_cols: usize,
    /// `indptr[r]..indptr[r+1]` are row r's entries; length n_rows + 1.
    pub indptr: Vec<usize>,
    pub indices: Vec<u32>,
    pub values: Vec<f32>,
}

impl Csr {
    /// Check the structure; errors name the row or entry that is wrong.
    pub fn validate(&self) -> Result<()> {
        if self.indptr.len() != self.n_rows + 1 {
            return Err(Error::Shape { what: "CSR indptr length (rows + 1)".into(), expected: self.n_rows + 1, got: self.indptr.len() });
        }
        if self.indices.len() != self.values.len() {
            return Err(Error::Shape { what: "CSR values length vs indices".into(), expected: self.indices.len(), got: self.values.len() });
        }
        let nnz = self.indices.len();
        if self.indptr[0] != 0 || self.indptr[self.n_rows] != nnz {
            return Err(Error::Shape { what: "CSR indptr last entry (number of non-zeros)".into(), expected: nnz, got: self.indptr[self.n_rows] });
        }
        for r in 0..self.n_rows {
            if self.indptr[r] > self.indptr[r + 1] {
                return Err(Error::Format { what: "CSR matrix".into(), msg: format!("indptr decreases at row {r}: {} > {}", self.indptr[r], self.indptr[r + 1]) });
            }
        }
        for (e, &c) in self.indices.iter().enumerate() {
            if c as usize >= self.n_cols {
                return Err(Error::Format { what: "CSR matrix".into(), msg: format!("entry {e} has column {c}, but there are {} columns", self.n_cols) });
            }
        }
        for (e, v) in self.values.iter().enumerate() {
            if !v.is_finite() {
                let row = self.indptr.partition_point(|&p| p <= e).saturating_sub(1);
                return Err(Error::NonFinite { row, col: self.indices[e] as usize, value: *v as f64 });
            }
        }
        Ok(())
    }
}

/// C = S·B (+ bias) for sparse S (n×k) and dense B (k×m): each non-zero adds a scaled row
/// of B to a row of C, so the work is nnz × m instead of n × k × m.
pub fn csr_matmul(s: &Csr, b: ArrayView2<f32>, bias: Option<ArrayView1<f32>>) -> Result<Array2<f32>> {
    s.validate()?;
    let (k, m) = b.dim();
    if k != s.n_cols {
        return Err(Error::Shape { what: "sparse matmul inner dimension (S columns vs B rows)".into(), expected: s.n_cols, got: k });
    }
    if let Some(bias) = bias {
        if bias.len() != m {
            return Err(Error::Shape { what: "sparse matmul bias length vs B columns".into(), expected: m, got: bias.len() });
        }
    }
    let b = b.as_standard_layout();
    let b_s = b.as_slice().ok_or_else(|| Error::State("csr_matmul: B not contiguous after copy".into()))?;
    let mut c = vec![0.0f32; s.n_rows * m];
    for r in 0..s.n_rows {
        let row = &mut c[r * m..(r + 1) * m];
        for e in s.indptr[r]..s.indptr[r + 1] {
            let col = s.indices[e] as usize;
            axpy(s.values[e], &b_s[col * m..(col + 1) * m], row);
        }
        if let Some(bias) = bias {
            for (v, bv) in row.iter_mut().zip(bias.iter()) {
                *v += *bv;
            }
        }
    }
    Array2::from_shape_vec((s.n_rows, m), c).map_err(|e| Error::State(format!("csr_matmul result: {e}")))
}

/// y += a·x, four lanes at a time under SIMD128 (same order per element either way).
#[inline]
fn axpy(a: f32, x: &[f32], y: &mut [f32]) {
    let n = x.len().min(y.len());
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    let done = {
        use core::arch::wasm32::*;
        let av = f32x4_splat(a);
        let mut i = 0;
        while i + 4 <= n {
            // SAFETY: i + 4 ≤ n ≤ both lengths; unaligned 16-byte load/store.
            unsafe {
                let xv = v128_load(x.as_ptr().add(i) as *const v128);
                let yp = y.as_mut_ptr().add(i) as *mut v128;
                v128_store(yp, f32x4_add(v128_load(yp as *const v128), f32x4_mul(av, xv)));
            }
            i += 4;
        }
        i
    };
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    let done = 0;
    for i in done..n {
        y[i] += a * x[i];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{array, Array1};

    /// Plain triple loop in f64: the reference the blocked kernel is checked against.
    fn naive(a: &Array2<f32>, b: &Array2<f32>) -> Array2<f64> {
        let (n, k) = a.dim();
        let m = b.ncols();
        Array2::from_shape_fn((n, m), |(i, j)| (0..k).map(|p| a[[i, p]] as f64 * b[[p, j]] as f64).sum())
    }

    #[test]
    fn packing_then_unpacking_gives_b_back() {
        for &(k, m) in &[(1, 1), (3, 8), (5, 9), (17, 23), (0, 4), (4, 0)] {
            let b: Vec<f32> = (0..k * m).map(|v| v as f32 * 0.5 - 3.0).collect();
            assert_eq!(PackedB::new(&b, k, m).unpack(), b, "{k}×{m}");
        }
    }

    #[test]
    fn hand_computed_2x3_times_3x2_with_bias() {
        let a = array![[1.0f32, 2.0, 3.0], [4.0, 5.0, 6.0]];
        let b = array![[7.0f32, 8.0], [9.0, 10.0], [11.0, 12.0]];
        let c = matmul(a.view(), b.view(), Some(array![0.5f32, -1.0].view())).unwrap();
        // 1·7+2·9+3·11 = 58, 1·8+2·10+3·12 = 64, 4·7+5·9+6·11 = 139, 4·8+5·10+6·12 = 154
        assert_eq!(c, array![[58.5f32, 63.0], [139.5, 153.0]]);
    }

    #[test]
    fn awkward_shapes_match_naive() {
        // Shapes that leave remainders in both the 6-row and the 8-column blocking (and a
        // few that do not).
        for &(n, k, m) in &[(1, 1, 1), (5, 3, 9), (13, 17, 23), (4, 8, 8), (12, 9, 16), (33, 70, 10), (7, 0, 3)] {
            let a = Array2::from_shape_fn((n, k), |(i, j)| ((i * 31 + j * 17) % 13) as f32 * 0.25 - 1.0);
            let b = Array2::from_shape_fn((k, m), |(i, j)| ((i * 7 + j * 5) % 11) as f32 * 0.125 - 0.5);
            let c = matmul(a.view(), b.view(), None).unwrap();
            let r = naive(&a, &b);
            for (x, y) in c.iter().zip(r.iter()) {
                // Dyadic inputs with few terms: every partial sum is exact in f32.
                assert_eq!(*x as f64, *y, "n={n} k={k} m={m}");
            }
        }
    }

    /// Every shape class the kernel treats separately: rows not a multiple of the 6- (or
    /// 4-) row tile and 1 row, columns not a multiple of the 8-column panel and 1 column, k
    /// not a multiple of the unroll by 4 and k = 1, and d = 784 with 10 classes. Values are
    /// not dyadic, so only the same order of additions per element gives the same bits.
    #[test]
    fn awkward_shapes_equal_the_ordered_loop_bitwise() {
        let mut seed = 7u32;
        let mut next = move || {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            (seed >> 8) as f32 / (1u32 << 24) as f32 - 0.5
        };
        for &n in &[1usize, 2, 5, 6, 7, 13] {
            for &k in &[1usize, 3, 4, 5, 17, 784] {
                for &m in &[1usize, 7, 8, 9, 10, 17] {
                    let a: Vec<f32> = (0..n * k).map(|_| next()).collect();
                    let b: Vec<f32> = (0..k * m).map(|_| next()).collect();
                    // C starts dirty: gemm must write every element, not add to it.
                    let mut c = vec![f32::NAN; n * m];
                    gemm(&a, &b, &mut c, n, k, m);
                    for i in 0..n {
                        for j in 0..m {
                            let mut s = 0.0f32;
                            for p in 0..k {
                                s += a[i * k + p] * b[p * m + j];
                            }
                            assert_eq!(c[i * m + j].to_bits(), s.to_bits(), "n={n} k={k} m={m} at [{i},{j}]");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn empty_and_short_operands_do_not_panic() {
        let mut c = vec![1.0f32; 6];
        gemm(&[], &[], &mut c, 2, 0, 3);
        assert_eq!(c, vec![0.0; 6], "k = 0 gives zeros");
        let mut c = vec![1.0f32; 6];
        gemm(&[1.0; 3], &[1.0; 9], &mut c, 2, 3, 3);
        assert_eq!(c, vec![1.0; 6], "A shorter than n·k: C left as it was");
        assert_eq!(matmul(Array2::<f32>::zeros((0, 4)).view(), Array2::<f32>::zeros((4, 3)).view(), None).unwrap().dim(), (0, 3));
        assert_eq!(matmul(Array2::<f32>::zeros((2, 4)).view(), Array2::<f32>::zeros((4, 0)).view(), None).unwrap().dim(), (2, 0));
    }

    #[test]
    fn transposed_view_is_accepted() {
        let a = array![[1.0f32, 2.0], [3.0, 4.0]];
        let c = matmul(a.t(), a.view(), None).unwrap();
        assert_eq!(c, array![[10.0f32, 14.0], [14.0, 20.0]]);
    }

    #[test]
    fn shape_errors_carry_numbers() {
        let a = Array2::<f32>::zeros((2, 3));
        let b = Array2::<f32>::zeros((4, 2));
        assert_eq!(
            matmul(a.view(), b.view(), None).unwrap_err(),
            Error::Shape { what: "matmul inner dimension (A columns vs B rows)".into(), expected: 3, got: 4 }
        );
        let b = Array2::<f32>::zeros((3, 2));
        let bias = Array1::<f32>::zeros(5);
        assert!(matches!(matmul(a.view(), b.view(), Some(bias.view())), Err(Error::Shape { expected: 2, got: 5, .. })));
    }

    #[test]
    fn csr_matches_dense() {
        // [[0, 2, 0, 1], [0, 0, 0, 0], [3, 0, 0.5, 0]]
        let s = Csr { n_rows: 3, n_cols: 4, indptr: vec![0, 2, 2, 4], indices: vec![1, 3, 0, 2], values: vec![2.0, 1.0, 3.0, 0.5] };
        let b = Array2::from_shape_fn((4, 9), |(i, j)| (i * 9 + j) as f32);
        let dense = array![[0.0f32, 2.0, 0.0, 1.0], [0.0, 0.0, 0.0, 0.0], [3.0, 0.0, 0.5, 0.0]];
        let bias = Array1::from_shape_fn(9, |j| j as f32 * 0.5);
        assert_eq!(
            csr_matmul(&s, b.view(), Some(bias.view())).unwrap(),
            matmul(dense.view(), b.view(), Some(bias.view())).unwrap()
        );
    }

    #[test]
    fn csr_validation_names_the_problem() {
        let mut s = Csr { n_rows: 1, n_cols: 2, indptr: vec![0, 1], indices: vec![5], values: vec![1.0] };
        assert!(matches!(s.validate(), Err(Error::Format { msg, .. }) if msg.contains("column 5")));
        s.indices[0] = 1;
        s.values[0] = f32::NAN;
        assert!(matches!(s.validate(), Err(Error::NonFinite { row: 0, col: 1, .. })));
    }
}
