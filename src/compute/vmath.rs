//! `exp` and `ln` for f32 slices, four lanes at a time under SIMD128, for the softmax and
//! entropy passes of a scoring round.
//!
//! Why not `f32::exp`/`f32::ln`: on wasm they are calls into Rust's libm, one value at a
//! time: 4.8 ms (exp) and 6.2 ms (ln) per million values in Node on this machine, about a
//! third of a 100k × 64 softmax-regression round (10 classes: a million of each). These
//! are the classic Cephes single-precision reductions and polynomials (range reduction by
//! ln 2 split in two parts, a degree-5 polynomial for exp, a degree-8 one for ln on
//! [√½, √2)), written once for one lane and once for four with the same operations in the
//! same order, so the scalar and the SIMD wasm builds (and native) give identical bits;
//! `tests/wasm_compute.rs` checks the slice functions against the one-lane ones in both
//! builds. Accuracy: within 2 ulp of the correctly rounded value over the ranges a round
//! uses (checked against f64 in the tests below).
//!
//! Domain: `exp` gives exactly 0 below −87.34 (so [`super::cpu::ABSENT_CLASS_LOGIT`]'s
//! softmax term is 0, as with libm) and +∞ above ln(f32::MAX) ≈ 88.72, NaN for NaN; `ln`
//! is for positive finite normal numbers only (the entropy skips p = 0 and NaN before it
//! looks at ln p; a subnormal p gives a wrong but finite ln, ≤ 1e-38 · 88 in the sum).

/// Below this, exp(x) is under the smallest normal f32: the result is 0.
const EXP_LO: f32 = -87.336_55;
/// Inputs are clamped to this from above: just over ln(f32::MAX) = 88.7228, so everything
/// that must overflow does (2¹²⁸ · e^0.007 > f32::MAX), and everything below stays finite.
const EXP_HI: f32 = 88.73;
const LOG2E: f32 = std::f32::consts::LOG2_E;
/// ln 2 = LN2_HI + LN2_LO, LN2_HI with few significant bits so n·LN2_HI is exact.
const LN2_HI: f32 = 0.693_359_4;
const LN2_LO: f32 = -2.121_944_4e-4;
/// 1.5 · 2²³: adding and subtracting it rounds |x| < 2²² to the nearest integer, ties to
/// even (no SSE4.1/`nearest` needed, and the same plain adds in every build).
const ROUND: f32 = 12_582_912.0;
const EXP_P: [f32; 6] = [1.987_569_1e-4, 1.398_199_9e-3, 8.333_452e-3, 4.166_579_6e-2, 1.666_666_5e-1, 5.000_000_1e-1];
const SQRT_HALF: f32 = std::f32::consts::FRAC_1_SQRT_2;
const LN_P: [f32; 9] = [
    7.037_683_6e-2,
    -1.151_461e-1,
    1.167_699_9e-1,
    -1.242_014_1e-1,
    1.424_932_3e-1,
    -1.666_805_8e-1,
    2.000_071_4e-1,
    -2.499_999_4e-1,
    3.333_333_1e-1,
];

/// `if b < a { b } else { a }`: wasm's `f32x4.pmin`, written the same way for one lane so
/// NaN behaves alike in both (a NaN `a` stays NaN).
#[inline(always)]
fn pmin(a: f32, b: f32) -> f32 {
    if b < a {
        b
    } else {
        a
    }
}

/// `if a < b { b } else { a }`: wasm's `f32x4.pmax`.
#[inline(always)]
fn pmax(a: f32, b: f32) -> f32 {
    if a < b {
        b
    } else {
        a
    }
}

/// eˣ, one lane. Same operations as [`exp_v4`].
#[inline]
pub fn exp(x: f32) -> f32 {
    let under = x < EXP_LO;
    let x = pmax(pmin(x, EXP_HI), EXP_LO);
    let n = (x * LOG2E + ROUND) - ROUND;
    let r = (x - n * LN2_HI) - n * LN2_LO;
    let z = r * r;
    let mut y = EXP_P[0];
    for &c in &EXP_P[1..] {
        y = y * r + c;
    }
    let y = (y * z + r) + 1.0;
    // n ∈ [−126, 128] here: 2ⁿ from its exponent bits (n = 128 only at the top, where y·2¹²⁷·2
    // must overflow to ∞: split in two factors so 2¹²⁸ itself is never built).
    let ni = n as i32;
    let half = ni >> 1;
    let s1 = f32::from_bits(((half + 127) as u32) << 23);
    let s2 = f32::from_bits(((ni - half + 127) as u32) << 23);
    let v = (y * s1) * s2;
    if under {
        0.0
    } else {
        v
    }
}

/// ln x for positive normal x, one lane. Same operations as [`ln_v4`].
#[inline]
pub fn ln(x: f32) -> f32 {
    let bits = x.to_bits();
    // x = m · 2^e with m ∈ [½, 1).
    let e = ((bits >> 23) & 0xff) as i32 - 126;
    let m = f32::from_bits((bits & 0x807f_ffff) | 0x3f00_0000);
    // Below √½, use 2m − 1 and e − 1, so the polynomial's argument stays in [√½ − 1, √2 − 1).
    let small = m < SQRT_HALF;
    let e = (e - small as i32) as f32;
    let f = (m - 1.0) + if small { m } else { 0.0 };
    ln_tail(f, e)
}

#[inline(always)]
fn ln_tail(f: f32, e: f32) -> f32 {
    let z = f * f;
    let mut y = LN_P[0];
    for &c in &LN_P[1..] {
        y = y * f + c;
    }
    let y = ((y * f) * z + e * LN2_LO) + -0.5 * z;
    (f + y) + e * LN2_HI
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod v4 {
    use super::*;
    use core::arch::wasm32::*;

    /// [`exp`] on four lanes.
    #[inline(always)]
    pub fn exp_v4(x: v128) -> v128 {
        let under = f32x4_lt(x, f32x4_splat(EXP_LO));
        let x = f32x4_pmax(f32x4_pmin(x, f32x4_splat(EXP_HI)), f32x4_splat(EXP_LO));
        let round = f32x4_splat(ROUND);
        let n = f32x4_sub(f32x4_add(f32x4_mul(x, f32x4_splat(LOG2E)), round), round);
        let r = f32x4_sub(f32x4_sub(x, f32x4_mul(n, f32x4_splat(LN2_HI))), f32x4_mul(n, f32x4_splat(LN2_LO)));
        let z = f32x4_mul(r, r);
        let mut y = f32x4_splat(EXP_P[0]);
        for &c in &EXP_P[1..] {
            y = f32x4_add(f32x4_mul(y, r), f32x4_splat(c));
        }
        let y = f32x4_add(f32x4_add(f32x4_mul(y, z), r), f32x4_splat(1.0));
        // NaN lanes: trunc_sat gives 0 there, and y is NaN already, so the result stays NaN.
        let ni = i32x4_trunc_sat_f32x4(n);
        let half = i32x4_shr(ni, 1);
        let bias = i32x4_splat(127);
        let s1 = i32x4_shl(i32x4_add(half, bias), 23);
        let s2 = i32x4_shl(i32x4_add(i32x4_sub(ni, half), bias), 23);
        let v = f32x4_mul(f32x4_mul(y, s1), s2);
        v128_andnot(v, under)
    }

    /// [`ln`] on four lanes.
    #[inline(always)]
    pub fn ln_v4(x: v128) -> v128 {
        let e = i32x4_sub(v128_and(u32x4_shr(x, 23), i32x4_splat(0xff)), i32x4_splat(126));
        let m = v128_or(v128_and(x, u32x4_splat(0x807f_ffff)), u32x4_splat(0x3f00_0000));
        let small = f32x4_lt(m, f32x4_splat(SQRT_HALF));
        // `small` is all ones (−1 as i32) in the lanes below √½: e + (−1).
        let e = f32x4_convert_i32x4(i32x4_add(e, small));
        let f = f32x4_add(f32x4_sub(m, f32x4_splat(1.0)), v128_and(m, small));
        let z = f32x4_mul(f, f);
        let mut y = f32x4_splat(LN_P[0]);
        for &c in &LN_P[1..] {
            y = f32x4_add(f32x4_mul(y, f), f32x4_splat(c));
        }
        let y = f32x4_add(f32x4_add(f32x4_mul(f32x4_mul(y, f), z), f32x4_mul(e, f32x4_splat(LN2_LO))), f32x4_mul(f32x4_splat(-0.5), z));
        f32x4_add(f32x4_add(f, y), f32x4_mul(e, f32x4_splat(LN2_HI)))
    }
}

/// xs[i] = exp(xs[i]) for every element.
pub fn exp_in_place(xs: &mut [f32]) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    let xs = {
        use core::arch::wasm32::*;
        let mut chunks = xs.chunks_exact_mut(4);
        for c in &mut chunks {
            // SAFETY: `c` is exactly 4 floats; unaligned 16-byte load and store.
            unsafe {
                let p = c.as_mut_ptr() as *mut v128;
                v128_store(p, v4::exp_v4(v128_load(p)));
            }
        }
        chunks.into_remainder()
    };
    for v in xs {
        *v = exp(*v);
    }
}

/// out[i] = ln(xs[i]) for every element (of the shorter of the two).
pub fn ln_into(xs: &[f32], out: &mut [f32]) {
    let n = xs.len().min(out.len());
    let (xs, out) = (&xs[..n], &mut out[..n]);
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    let (xs, out) = {
        use core::arch::wasm32::*;
        let main = n - n % 4;
        for (src, dst) in xs[..main].chunks_exact(4).zip(out[..main].chunks_exact_mut(4)) {
            // SAFETY: both chunks are exactly 4 floats; unaligned 16-byte load and store.
            unsafe { v128_store(dst.as_mut_ptr() as *mut v128, v4::ln_v4(v128_load(src.as_ptr() as *const v128))) }
        }
        (&xs[main..], &mut out[main..])
    };
    for (d, &x) in out.iter_mut().zip(xs) {
        *d = ln(x);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Distance in units in the last place between two finite f32 of the same sign.
    fn ulps(a: f32, b: f64) -> u32 {
        let b = b as f32;
        (a.to_bits() as i64 - b.to_bits() as i64).unsigned_abs() as u32
    }

    #[test]
    fn exp_is_within_two_ulp_over_the_normal_range() {
        let mut worst = 0;
        let mut x = -87.3f32;
        while x < 88.7 {
            worst = worst.max(ulps(exp(x), (x as f64).exp()));
            x += 0.000_37;
        }
        assert!(worst <= 2, "worst {worst} ulp");
    }

    #[test]
    fn exp_edges() {
        assert_eq!(exp(0.0), 1.0);
        assert_eq!(exp(-1e30), 0.0, "the absent-class logit gives exactly 0");
        assert_eq!(exp(-88.0), 0.0);
        assert_eq!(exp(f32::NEG_INFINITY), 0.0);
        assert_eq!(exp(89.0), f32::INFINITY);
        assert_eq!(exp(f32::INFINITY), f32::INFINITY);
        assert!(exp(f32::NAN).is_nan());
        assert!(ulps(exp(88.7), (88.7f32 as f64).exp()) <= 2);
        assert!(ulps(exp(-87.3), (-87.3f32 as f64).exp()) <= 2);
    }

    #[test]
    fn ln_is_within_two_ulp_on_probabilities_and_beyond() {
        let mut worst = 0;
        let mut x = 1.2e-38f32;
        while x < 1e6 {
            // ln crosses 0 at 1, where ulps of the result shrink: compare absolutely there.
            let want = (x as f64).ln();
            if want.abs() > 1e-3 {
                worst = worst.max(ulps(ln(x), want));
            } else {
                assert!((ln(x) as f64 - want).abs() < 1e-9, "ln({x})");
            }
            x *= 1.000_37;
        }
        assert!(worst <= 2, "worst {worst} ulp");
        assert_eq!(ln(1.0), 0.0);
    }

    #[test]
    fn slices_match_the_one_lane_functions() {
        let xs: Vec<f32> = (0..103).map(|i| (i as f32 - 60.0) * 1.37).chain([f32::NAN, -1e30, 0.0]).collect();
        let mut e = xs.clone();
        exp_in_place(&mut e);
        for (x, y) in xs.iter().zip(&e) {
            assert_eq!(exp(*x).to_bits(), y.to_bits(), "exp({x})");
        }
        let ps: Vec<f32> = (1..=101).map(|i| i as f32 / 101.0).collect();
        let mut l = vec![0.0; ps.len()];
        ln_into(&ps, &mut l);
        for (x, y) in ps.iter().zip(&l) {
            assert_eq!(ln(*x).to_bits(), y.to_bits(), "ln({x})");
        }
    }
}
