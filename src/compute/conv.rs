//! Convolutions for the pretrained image encoder (src/encoder/efficientnet.rs), on one
//! image at a time in (height, width, channels) order, f32. This is the CPU reference;
//! every other path is tested against it.
//!
//! - Dense k×k convolutions (the stem) unfold the image into patches (im2col) and run the
//!   register-blocked product of `matmul`, whose packed weights are made once per session.
//! - 1×1 convolutions are that product directly: pixels × channels times channels ×
//!   filters.
//! - Depthwise convolutions walk the output pixels; per tap the inner loop runs over the
//!   channels, which are contiguous in this layout, so LLVM vectorizes it (SIMD128 in wasm).
//!
//! Padding is TensorFlow's "same" ([`same_padding`]): the network was trained with it, and
//! PyTorch-style symmetric padding shifts every stride-2 layer by half a pixel.

use super::matmul::{gemm_packed, PackedB};

/// What follows a convolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    None,
    /// min(max(x, 0), 6): EfficientNet-Lite's activation (bounded for 8-bit inference).
    Relu6,
}

impl Activation {
    #[inline]
    fn apply(self, v: f32) -> f32 {
        match self {
            Activation::None => v,
            Activation::Relu6 => v.clamp(0.0, 6.0),
        }
    }
}

/// TensorFlow "same" padding along one axis of length `n`: (output length, padding
/// before). The output is ceil(n / s); the total padding is what the last window needs,
/// and an odd total puts the extra pixel after (bottom or right).
pub fn same_padding(n: usize, k: usize, s: usize) -> (usize, usize) {
    let out = n.div_ceil(s.max(1));
    let total = ((out.max(1) - 1) * s + k).saturating_sub(n);
    (out, total / 2)
}

/// A convolution's weights packed for the product, with its bias.
#[derive(Debug, Clone, PartialEq)]
pub struct Dense {
    /// (k·k·c_in) × c_out, rows in (dy, dx, c_in) order.
    pub weights: PackedB,
    pub bias: Vec<f32>,
    pub kernel: usize,
    pub stride: usize,
}

impl Dense {
    /// `w` in PyTorch's (c_out, c_in, k, k) order.
    pub fn from_oihw(w: &[f32], bias: Vec<f32>, c_in: usize, kernel: usize, stride: usize) -> Dense {
        let c_out = bias.len();
        let rows = kernel * kernel * c_in;
        let mut b = vec![0.0f32; rows * c_out];
        for o in 0..c_out {
            for i in 0..c_in {
                for dy in 0..kernel {
                    for dx in 0..kernel {
                        let src = ((o * c_in + i) * kernel + dy) * kernel + dx;
                        let row = (dy * kernel + dx) * c_in + i;
                        if let Some(v) = w.get(src) {
                            b[row * c_out + o] = *v;
                        }
                    }
                }
            }
        }
        Dense { weights: PackedB::new(&b, rows, c_out), bias, kernel, stride }
    }

    /// A 1×1 convolution from `w` in (c_out, c_in) order.
    pub fn pointwise(w: &[f32], bias: Vec<f32>, c_in: usize) -> Dense {
        Dense::from_oihw(w, bias, c_in, 1, 1)
    }

    pub fn c_out(&self) -> usize {
        self.bias.len()
    }

    pub fn c_in(&self) -> usize {
        self.weights.k() / (self.kernel * self.kernel)
    }

    /// Applies the convolution to `x` (h × w × c_in); returns (output, out h, out w).
    /// With `residual`, adds it (same shape as the output) after the activation-free
    /// product; EfficientNet's projections are linear, so the order does not matter there.
    pub fn run(&self, x: &[f32], h: usize, w: usize, act: Activation, residual: Option<&[f32]>) -> (Vec<f32>, usize, usize) {
        let c_out = self.c_out();
        let (oh, ow, mut out);
        if self.kernel == 1 && self.stride == 1 {
            (oh, ow) = (h, w);
            out = vec![0.0f32; h * w * c_out];
            gemm_packed(x, &self.weights, &mut out, h * w);
        } else {
            let patches;
            (patches, oh, ow) = im2col(x, h, w, self.c_in(), self.kernel, self.stride);
            out = vec![0.0f32; oh * ow * c_out];
            gemm_packed(&patches, &self.weights, &mut out, oh * ow);
        }
        for (p, row) in out.chunks_exact_mut(c_out.max(1)).enumerate() {
            for (v, b) in row.iter_mut().zip(&self.bias) {
                *v = act.apply(*v + b);
            }
            if let Some(r) = residual.and_then(|r| r.get(p * c_out..(p + 1) * c_out)) {
                for (v, r) in row.iter_mut().zip(r) {
                    *v += r;
                }
            }
        }
        (out, oh, ow)
    }
}

/// Patches of `x` (h × w × c) for a k×k window at stride s with "same" padding: one row
/// per output pixel, k·k·c values in (dy, dx, c) order, zeros where the window leaves the
/// image.
fn im2col(x: &[f32], h: usize, w: usize, c: usize, k: usize, s: usize) -> (Vec<f32>, usize, usize) {
    let (oh, top) = same_padding(h, k, s);
    let (ow, left) = same_padding(w, k, s);
    let row_len = k * k * c;
    let mut out = vec![0.0f32; oh * ow * row_len];
    for oy in 0..oh {
        for ox in 0..ow {
            let row = &mut out[(oy * ow + ox) * row_len..][..row_len];
            for dy in 0..k {
                let Some(iy) = (oy * s + dy).checked_sub(top).filter(|&v| v < h) else { continue };
                for dx in 0..k {
                    let Some(ix) = (ox * s + dx).checked_sub(left).filter(|&v| v < w) else { continue };
                    let src = (iy * w + ix) * c;
                    if let Some(px) = x.get(src..src + c) {
                        row[(dy * k + dx) * c..][..c].copy_from_slice(px);
                    }
                }
            }
        }
    }
    (out, oh, ow)
}

/// A depthwise convolution: one k×k filter per channel.
#[derive(Debug, Clone, PartialEq)]
pub struct Depthwise {
    /// k·k·c values in (dy, dx, c) order, so a tap's filters are contiguous.
    pub weights: Vec<f32>,
    pub bias: Vec<f32>,
    pub kernel: usize,
    pub stride: usize,
}

impl Depthwise {
    /// `w` in (c, k, k) order.
    pub fn from_ckk(w: &[f32], bias: Vec<f32>, kernel: usize, stride: usize) -> Depthwise {
        let c = bias.len();
        let mut weights = vec![0.0f32; kernel * kernel * c];
        for ch in 0..c {
            for t in 0..kernel * kernel {
                if let Some(v) = w.get(ch * kernel * kernel + t) {
                    weights[t * c + ch] = *v;
                }
            }
        }
        Depthwise { weights, bias, kernel, stride }
    }

    /// Applies the filters to `x` (h × w × c); returns (output, out h, out w).
    pub fn run(&self, x: &[f32], h: usize, w: usize, act: Activation) -> (Vec<f32>, usize, usize) {
        let (k, s, c) = (self.kernel, self.stride, self.bias.len());
        let (oh, top) = same_padding(h, k, s);
        let (ow, left) = same_padding(w, k, s);
        let mut out = vec![0.0f32; oh * ow * c];
        for oy in 0..oh {
            for ox in 0..ow {
                let acc = &mut out[(oy * ow + ox) * c..][..c];
                acc.copy_from_slice(&self.bias);
                for dy in 0..k {
                    let Some(iy) = (oy * s + dy).checked_sub(top).filter(|&v| v < h) else { continue };
                    for dx in 0..k {
                        let Some(ix) = (ox * s + dx).checked_sub(left).filter(|&v| v < w) else { continue };
                        let (p0, t0) = ((iy * w + ix) * c, (dy * k + dx) * c);
                        let (Some(px), Some(f)) = (x.get(p0..p0 + c), self.weights.get(t0..t0 + c)) else { continue };
                        for ((a, v), f) in acc.iter_mut().zip(px).zip(f) {
                            *a += v * f;
                        }
                    }
                }
                for a in acc.iter_mut() {
                    *a = act.apply(*a);
                }
            }
        }
        (out, oh, ow)
    }
}

/// The mean over pixels of `x` (pixels × c): global average pooling.
pub fn mean_pool(x: &[f32], c: usize) -> Vec<f32> {
    let mut sum = vec![0.0f64; c];
    let n = x.len().checked_div(c).unwrap_or(0);
    for px in x.chunks_exact(c.max(1)) {
        for (s, v) in sum.iter_mut().zip(px) {
            *s += *v as f64;
        }
    }
    sum.into_iter().map(|s| (s / n.max(1) as f64) as f32).collect()
}
