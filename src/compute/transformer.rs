//! The operations of a BERT-style encoder on the CPU (the reference the GPU path is tested
//! against): layer norm, GELU, and multi-head self-attention within each sentence. Its
//! dense layers are `conv::Dense::pointwise` over the token rows: a 1×1 convolution is the
//! same packed product with a bias (and a fused residual).
//!
//! Sentences are not padded: their tokens are stacked, one row each, so the dense layers
//! see every token of a batch in one product, and attention runs per sentence over its own
//! rows (`spans`), which is the same as a padded batch with a mask, without the padding's
//! work.

use std::ops::Range;

use super::vmath;

/// Layer norm of each row of `x` (width `w.len()`) in place: (x − mean) / √(var + eps)·w + b,
/// the variance the biased one (over the row), as BERT computes it.
pub fn layer_norm(x: &mut [f32], w: &[f32], b: &[f32], eps: f32) {
    let d = w.len();
    for row in x.chunks_exact_mut(d) {
        let mean = row.iter().sum::<f32>() / d as f32;
        let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / d as f32;
        let inv = 1.0 / (var + eps).sqrt();
        for ((v, g), c) in row.iter_mut().zip(w).zip(b) {
            *v = (*v - mean) * inv * g + c;
        }
    }
}

/// `x += y`, elementwise (the residual connections).
pub fn add(x: &mut [f32], y: &[f32]) {
    x.iter_mut().zip(y).for_each(|(a, b)| *a += b);
}

/// GELU with the exact error function, x·Φ(x) = ½x(1 + erf(x/√2)), as BERT was trained.
pub fn gelu(x: &mut [f32]) {
    for v in x {
        *v = 0.5 * *v * (1.0 + erf(*v * std::f32::consts::FRAC_1_SQRT_2));
    }
}

/// erf(x) to within 1.2e-7 relative (Numerical Recipes' Chebyshev fit of erfc, Press et al.,
/// 3rd ed., §6.2), on the project's own exp so every build computes the same value.
pub fn erf(x: f32) -> f32 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_2
        + t * (1.000_023_7
            + t * (0.374_091_96
                + t * (0.096_784_18 + t * (-0.186_288_06 + t * (0.278_868_07 + t * (-1.135_203_98 + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let erfc = t * vmath::exp(poly);
    if x >= 0.0 {
        1.0 - erfc
    } else {
        erfc - 1.0
    }
}

/// Multi-head self-attention. `qkv` holds, per token, its query, key and value (each of
/// width d = heads·hd, side by side: 3d per row); `spans` are the sentences' row ranges.
/// Returns rows × d: per head, softmax(q·kᵀ/√hd)·v over the tokens of the same sentence.
pub fn attention(qkv: &[f32], spans: &[Range<usize>], heads: usize, hd: usize) -> Vec<f32> {
    let d = heads * hd;
    let rows = spans.last().map_or(0, |s| s.end);
    let mut out = vec![0.0f32; rows * d];
    let scale = 1.0 / (hd as f32).sqrt();
    let mut scores = Vec::new();
    for span in spans {
        let n = span.len();
        scores.resize(n, 0.0);
        for h in 0..heads {
            for i in span.clone() {
                let q = &qkv[i * 3 * d + h * hd..][..hd];
                let mut max = f32::NEG_INFINITY;
                for (s, j) in scores.iter_mut().zip(span.clone()) {
                    let k = &qkv[j * 3 * d + d + h * hd..][..hd];
                    *s = q.iter().zip(k).map(|(a, b)| a * b).sum::<f32>() * scale;
                    max = max.max(*s);
                }
                let mut sum = 0.0;
                for s in scores.iter_mut() {
                    *s = vmath::exp(*s - max);
                    sum += *s;
                }
                let o = &mut out[i * d + h * hd..][..hd];
                for (s, j) in scores.iter().zip(span.clone()) {
                    let v = &qkv[j * 3 * d + 2 * d + h * hd..][..hd];
                    let p = s / sum;
                    o.iter_mut().zip(v).for_each(|(a, b)| *a += p * b);
                }
            }
        }
    }
    out
}

/// Mean of each span's rows (width d), then scaled to unit length: sentence-transformers'
/// mean pooling over the attention mask and its L2 normalisation.
pub fn mean_pool_normalized(x: &[f32], spans: &[Range<usize>], d: usize) -> Vec<f32> {
    let mut out = vec![0.0f32; spans.len() * d];
    for (o, span) in out.chunks_exact_mut(d).zip(spans) {
        for r in span.clone() {
            o.iter_mut().zip(&x[r * d..(r + 1) * d]).for_each(|(a, b)| *a += b);
        }
        let n = span.len().max(1) as f32;
        o.iter_mut().for_each(|v| *v /= n);
        let norm = o.iter().map(|v| v * v).sum::<f32>().sqrt();
        if norm > 0.0 {
            o.iter_mut().for_each(|v| *v /= norm);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erf_matches_known_values() {
        for (x, want) in [(0.0f32, 0.0f32), (0.5, 0.520_499_9), (1.0, 0.842_700_8), (-1.0, -0.842_700_8), (2.0, 0.995_322_3), (4.0, 1.0)] {
            assert!((erf(x) - want).abs() < 3e-7, "erf({x}) = {} not {want}", erf(x));
        }
    }

    #[test]
    fn attention_of_one_token_is_its_value_and_sentences_do_not_mix() {
        // d = 2 (one head of 2): rows are q, k, v side by side.
        let qkv = [1.0, 0.0, 1.0, 0.0, 5.0, 6.0, /* second sentence */ 0.0, 1.0, 0.0, 1.0, 7.0, 8.0, 0.0, 1.0, 0.0, -1.0, 1.0, 2.0];
        let out = attention(&qkv, &[0..1, 1..3], 1, 2);
        assert_eq!(&out[..2], &[5.0, 6.0]);
        // Row 1: scores (1, −1)/√2 over rows 1 and 2.
        let p = 1.0 / (1.0 + (-2.0f32 / 2f32.sqrt()).exp());
        assert!((out[2] - (p * 7.0 + (1.0 - p) * 1.0)).abs() < 1e-5);
        assert!((out[3] - (p * 8.0 + (1.0 - p) * 2.0)).abs() < 1e-5);
    }

    #[test]
    fn layer_norm_and_pooling() {
        let mut x = [1.0, 3.0, 2.0, 2.0];
        layer_norm(&mut x, &[1.0, 1.0], &[0.0, 0.5], 1e-12);
        for (a, b) in x.iter().zip([-1.0, 1.5, 0.0, 0.5]) {
            assert!((a - b).abs() < 1e-6, "{x:?}");
        }
        let p = mean_pool_normalized(&[3.0, 0.0, 3.0, 8.0, 9.0, 9.0], &[0..2, 2..3], 2);
        assert!((p[0] - 0.6).abs() < 1e-6 && (p[1] - 0.8).abs() < 1e-6);
        assert!((p[2] - 0.5f32.sqrt()).abs() < 1e-6);
    }
}
