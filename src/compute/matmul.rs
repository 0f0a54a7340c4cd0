//! The f32 matrix product behind every dense forward pass on the CPU, and a sparse (CSR)
//! × dense product for text features.
//!
//! Why not `ndarray::dot`: it calls `matrixmultiply`, whose hand-written kernels are for
//! x86 (SSE/AVX/FMA) and aarch64 (NEON); on wasm32 it falls back to a generic kernel that
//! LLVM does not turn into SIMD128 code. This blocked kernel keeps MR rows × 8 columns of
//! C in registers, streaming one row of B and MR scalars of A per step: under
//! `target_feature = "simd128"` MR = 6 (twelve `v128` accumulators + 2 B vectors + 1
//! broadcast fit x86-64's 16 vector registers under V8; 13.3 GFLOP/s against 10.8 for 4×8),
//! otherwise MR = 4 with plain arrays (V8 spills the scalar 6×8 block: 2.3 against 4.4
//! GFLOP/s; native LLVM vectorizes either). The blocking does not change the order of the
//! additions for any element, only which elements are computed together.
//!
//! Both builds do exactly the same arithmetic in the same order per output element
//! (`c = ((0 + a₀b₀) + a₁b₁) + …`, multiply then add, never fused), so the SIMD and the
//! scalar wasm builds give bit-identical results, which `tests/wasm_compute.rs` checks by
//! running the same expected values in both builds.

use ndarray::{Array2, ArrayView1, ArrayView2};

use crate::{Error, Result};

/// Rows of A handled together (each is one broadcast scalar per step).
const MR: usize = if cfg!(all(target_arch = "wasm32", target_feature = "simd128")) { 6 } else { 4 };
/// Columns of C handled together (two 4-lane vectors).
const NR: usize = 8;

/// `true` when this build uses the SIMD128 kernel (for benchmarks and reports).
pub const SIMD128: bool = cfg!(all(target_arch = "wasm32", target_feature = "simd128"));

/// C = A·B (+ bias per column when given). A is n×k, B is k×m; both may be any layout
/// (non-standard layouts are copied once to row-major).
pub fn matmul(a: ArrayView2<f32>, b: ArrayView2<f32>, bias: Option<ArrayView1<f32>>) -> Result<Array2<f32>> {
    matmul_act(a, b, bias, false)
}

/// [`matmul`], then ReLU (`v > 0 ? v : 0`) when `relu`: a dense layer. Bias and ReLU are
/// applied to each block of C as it leaves the registers, not in passes over C afterwards.
pub fn matmul_act(a: ArrayView2<f32>, b: ArrayView2<f32>, bias: Option<ArrayView1<f32>>, relu: bool) -> Result<Array2<f32>> {
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
    // Both are standard layout now, so as_slice cannot fail; keep the error anyway rather
    // than unwrap (no panics in wasm).
    let (a_s, b_s) = match (a.as_slice(), b.as_slice()) {
        (Some(x), Some(y)) => (x, y),
        _ => return Err(Error::State("matmul: operand not contiguous after copy".into())),
    };
    let bias: Option<Vec<f32>> = bias.map(|v| v.iter().copied().collect());
    let packed = PackedB::new(b_s, k, m, bias.as_deref(), relu);
    let mut c = vec![0.0f32; n * m];
    gemm_packed(a_s, n, &packed, &mut c);
    Array2::from_shape_vec((n, m), c).map_err(|e| Error::State(format!("matmul result shape {n}×{m}: {e}")))
}

/// B (k×m, row-major) packed for [`gemm_packed`], with the epilogue (bias, ReLU) that goes
/// with it: a dense layer ready to run on any number of blocks of rows.
///
/// Panel q holds B[p][8q..8q+8] for p = 0..k, one after the other, so the kernel streams
/// each panel with sequential loads instead of one cache line per row of B at a stride of m
/// floats. The last panel is zero-padded when 8 does not divide m: the 10-class output
/// layers then run in the vector kernel like the rest (the padded columns are computed and
/// dropped) instead of in a scalar loop reading B at a stride of m, which took about a
/// fifth of a softmax round. Packing happens once per layer and round, not per block.
#[derive(Debug, Clone)]
pub struct PackedB {
    data: Vec<f32>,
    /// Bias padded to whole panels (zeros past m); `None` adds nothing, so −0.0 stays −0.0
    /// as in a plain sum.
    bias: Option<Vec<f32>>,
    relu: bool,
    k: usize,
    m: usize,
}

impl PackedB {
    /// Pack `b` (k×m row-major); `bias` must have m entries when given.
    pub fn new(b: &[f32], k: usize, m: usize, bias: Option<&[f32]>, relu: bool) -> PackedB {
        debug_assert!(b.len() >= k * m && bias.is_none_or(|v| v.len() >= m));
        let panels = m.div_ceil(NR);
        let mut data = vec![0.0f32; panels * k * NR];
        for (q, panel) in data.chunks_exact_mut((k * NR).max(1)).enumerate().take(panels) {
            let (j0, w) = (q * NR, NR.min(m - q * NR));
            for (p, dst) in panel.chunks_exact_mut(NR).enumerate() {
                dst[..w].copy_from_slice(&b[p * m + j0..p * m + j0 + w]);
            }
        }
        let bias = bias.map(|v| {
            let mut padded = vec![0.0f32; panels * NR];
            padded[..m].copy_from_slice(&v[..m]);
            padded
        });
        PackedB { data, bias, relu, k, m }
    }

    /// Rows of B (the inner dimension).
    pub fn k(&self) -> usize {
        self.k
    }

    /// Columns of B (and of C).
    pub fn m(&self) -> usize {
        self.m
    }
}

/// Row-major C (n×m) = epilogue(A (n×k) · B), every element of C written (C need not be
/// zeroed). Per element: `s = ((0 + a₀b₀) + a₁b₁) + …`, then `s + bias` when there is a
/// bias, then `s > 0 ? s : 0` under ReLU — the order of a plain loop, in both builds.
pub fn gemm_packed(a: &[f32], n: usize, b: &PackedB, c: &mut [f32]) {
    let (k, m) = (b.k, b.m);
    debug_assert!(a.len() >= n * k && c.len() >= n * m);
    let panels = m.div_ceil(NR);
    let panel = |q: usize| &b.data[q * k * NR..(q + 1) * k * NR];
    let bias = |q: usize| b.bias.as_deref().map(|v| &v[q * NR..q * NR + NR]);
    // Rows go in groups of about 128 KB of A (an L2-sized slab), and each panel of B
    // (k·32 bytes: 25 KB at k = 784) runs over the whole group before the next panel: the
    // panel is read from L1 once per MR rows of the group instead of all of B (800 KB for a
    // 784×256 layer, past L2) being streamed once per MR rows. Only the loop order changes.
    let full = n - n % MR;
    let group = ((32 * 1024 / k.max(1)) / MR).max(1) * MR;
    let mut g = 0;
    while g < full {
        let g_end = (g + group).min(full);
        for q in 0..panels {
            let (pq, bq) = (panel(q), bias(q));
            let mut i = g;
            while i < g_end {
                block_mr_x8(&a[i * k..(i + MR) * k], pq, c, i, q * NR, k, m, MR, bq, b.relu);
                i += MR;
            }
        }
        g = g_end;
    }
    let i = full;
    // Leftover rows (fewer than MR): zero-padded to MR rows in a small scratch and run
    // through the same kernel, so they get the same arithmetic with no scalar path.
    if i < n {
        let left = n - i;
        let mut rows = vec![0.0f32; MR * k];
        rows[..left * k].copy_from_slice(&a[i * k..n * k]);
        for q in 0..panels {
            block_mr_x8(&rows, panel(q), c, i, q * NR, k, m, left, bias(q), b.relu);
        }
    }
}

/// C[i..i+live][j..j+8∧m] = epilogue(rows · panel). `rows` is MR rows of A (MR·k floats),
/// `panel` a packed panel of B (k·8 floats); only the first `live` rows and the columns
/// below m are stored.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline]
#[allow(clippy::too_many_arguments)]
fn block_mr_x8(rows: &[f32], panel: &[f32], c: &mut [f32], i: usize, j: usize, k: usize, m: usize, live: usize, bias: Option<&[f32]>, relu: bool) {
    use core::arch::wasm32::*;
    // One bounds check per block instead of one per load: everything below reads inside
    // these two slices.
    if rows.len() < MR * k || panel.len() < k * NR {
        return;
    }
    let mut acc = [f32x4_splat(0.0); 2 * MR];
    let (ap, bp) = (rows.as_ptr(), panel.as_ptr());
    for p in 0..k {
        // SAFETY: p < k, so p·8 + 8 ≤ k·8 ≤ panel.len() and r·k + p < MR·k ≤ rows.len()
        // (checked above); v128 loads and load32_splat accept unaligned addresses.
        unsafe {
            let b0 = v128_load(bp.add(p * NR) as *const v128);
            let b1 = v128_load(bp.add(p * NR + 4) as *const v128);
            for r in 0..MR {
                let av = v128_load32_splat(ap.add(r * k + p) as *const u32);
                acc[2 * r] = f32x4_add(acc[2 * r], f32x4_mul(av, b0));
                acc[2 * r + 1] = f32x4_add(acc[2 * r + 1], f32x4_mul(av, b1));
            }
        }
    }
    if let Some(bv) = bias {
        if bv.len() >= NR {
            // SAFETY: bv has at least 8 f32 (checked); unaligned loads.
            let (b0, b1) = unsafe { (v128_load(bv.as_ptr() as *const v128), v128_load(bv.as_ptr().add(4) as *const v128)) };
            for r in 0..MR {
                acc[2 * r] = f32x4_add(acc[2 * r], b0);
                acc[2 * r + 1] = f32x4_add(acc[2 * r + 1], b1);
            }
        }
    }
    if relu {
        // pmax(0, v) = 0 < v ? v : 0, the scalar build's ReLU exactly (NaN → 0, −0 → +0).
        let zero = f32x4_splat(0.0);
        for v in acc.iter_mut() {
            *v = f32x4_pmax(zero, *v);
        }
    }
    let w = NR.min(m - j);
    for r in 0..live.min(MR) {
        let co = (i + r) * m + j;
        if w == NR {
            let cs = &mut c[co..co + NR];
            // SAFETY: `cs` has 8 f32; two unaligned 16-byte stores.
            unsafe {
                v128_store(cs.as_mut_ptr() as *mut v128, acc[2 * r]);
                v128_store(cs.as_mut_ptr().add(4) as *mut v128, acc[2 * r + 1]);
            }
        } else {
            let mut tmp = [0.0f32; NR];
            // SAFETY: tmp has 8 f32; two unaligned 16-byte stores.
            unsafe {
                v128_store(tmp.as_mut_ptr() as *mut v128, acc[2 * r]);
                v128_store(tmp.as_mut_ptr().add(4) as *mut v128, acc[2 * r + 1]);
            }
            c[co..co + w].copy_from_slice(&tmp[..w]);
        }
    }
}

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
#[inline]
#[allow(clippy::too_many_arguments)]
fn block_mr_x8(rows: &[f32], panel: &[f32], c: &mut [f32], i: usize, j: usize, k: usize, m: usize, live: usize, bias: Option<&[f32]>, relu: bool) {
    // Same register block as the SIMD kernel, written as arrays: on native targets LLVM
    // vectorizes this with SSE/NEON; on scalar wasm it stays scalar.
    let mut acc = [[0.0f32; NR]; MR];
    for (p, bs) in panel.chunks_exact(NR).take(k).enumerate() {
        for r in 0..MR {
            let av = rows[r * k + p];
            for q in 0..NR {
                acc[r][q] += av * bs[q];
            }
        }
    }
    if let Some(bv) = bias {
        for row in acc.iter_mut() {
            for (v, b) in row.iter_mut().zip(bv) {
                *v += *b;
            }
        }
    }
    if relu {
        for v in acc.iter_mut().flatten() {
            *v = if *v > 0.0 { *v } else { 0.0 };
        }
    }
    let w = NR.min(m - j);
    for r in 0..live.min(MR) {
        c[(i + r) * m + j..(i + r) * m + j + w].copy_from_slice(&acc[r][..w]);
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

    #[test]
    fn fused_bias_and_relu_equal_a_plain_loop_bitwise() {
        // Row counts that leave 0..MR−1 rows for the padded path, column counts that leave
        // a partial (zero-padded) panel, and k large enough to span several row groups.
        for &(n, k, m) in &[(1, 3, 1), (7, 5, 10), (13, 64, 10), (50, 300, 19), (9, 2000, 8), (200, 784, 10)] {
            let a = Array2::from_shape_fn((n, k), |(i, j)| ((i * 37 + j * 11) % 23) as f32 / 7.0 - 1.5);
            let b = Array2::from_shape_fn((k, m), |(i, j)| ((i * 13 + j * 29) % 17) as f32 / 9.0 - 0.9);
            let bias = Array1::from_shape_fn(m, |j| j as f32 * 0.37 - 1.0);
            for relu in [false, true] {
                let c = matmul_act(a.view(), b.view(), Some(bias.view()), relu).unwrap();
                for i in 0..n {
                    for j in 0..m {
                        let mut s = 0.0f32;
                        for p in 0..k {
                            s += a[[i, p]] * b[[p, j]];
                        }
                        s += bias[j];
                        let want = if relu && s.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) { 0.0 } else { s };
                        assert_eq!(c[[i, j]].to_bits(), want.to_bits(), "n={n} k={k} m={m} relu={relu} at [{i},{j}]");
                    }
                }
            }
        }
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
