//! Decoded images and the resize that brings them to an encoder's input.
//!
//! Decoding happens outside the core (the browser's createImageBitmap, or the `image`
//! crate in the simulator); the core takes 8-bit RGB or RGBA pixels of any size.

use crate::{Error, Result};

/// An 8-bit RGB image, row-major, 3 bytes per pixel.
#[derive(Debug, Clone, PartialEq)]
pub struct Rgb8 {
    pub width: usize,
    pub height: usize,
    pub pixels: Vec<u8>,
}

impl Rgb8 {
    /// Checks that `pixels` holds width·height RGB values and that the image is not empty.
    pub fn new(width: usize, height: usize, pixels: Vec<u8>) -> Result<Rgb8> {
        check_size(width, height, pixels.len(), 3)?;
        Ok(Rgb8 { width, height, pixels })
    }

    /// From RGBA (the browser's ImageData): transparent pixels are composited over white,
    /// which is what an image viewer shows behind them.
    pub fn from_rgba(width: usize, height: usize, rgba: &[u8]) -> Result<Rgb8> {
        check_size(width, height, rgba.len(), 4)?;
        let mut pixels = Vec::with_capacity(width * height * 3);
        for px in rgba.chunks_exact(4) {
            let a = px[3] as u32;
            for &v in &px[..3] {
                pixels.push(((v as u32 * a + 255 * (255 - a) + 127) / 255) as u8);
            }
        }
        Ok(Rgb8 { width, height, pixels })
    }

    /// The whole image resized to size × size, scaled to the network's input range
    /// (x − 127) / 128, in (height, width, channel) order. Not cropped: a centre crop drops
    /// the sides of a wide photo, where the subject may be. (The development set, CIFAR, is
    /// square, so it cannot tell crop from squash; that stays to be measured on wide photos.)
    pub fn to_network_input(&self, size: usize) -> Vec<f32> {
        let rows = Taps::new(self.height, size);
        let cols = Taps::new(self.width, size);
        // Vertical pass: size × width × 3.
        let stride = self.width * 3;
        let mut tmp = vec![0.0f32; size * stride];
        for (o, line) in tmp.chunks_exact_mut(stride.max(1)).enumerate() {
            for (i, w) in rows.of(o) {
                let src = &self.pixels[i * stride..(i + 1) * stride];
                for (t, &v) in line.iter_mut().zip(src) {
                    *t += w * v as f32;
                }
            }
        }
        // Horizontal pass and scaling: size × size × 3.
        let mut out = vec![0.0f32; size * size * 3];
        for (y, line) in out.chunks_exact_mut(size * 3).enumerate() {
            let src = &tmp[y * stride..(y + 1) * stride];
            for (x, px) in line.chunks_exact_mut(3).enumerate() {
                for (i, w) in cols.of(x) {
                    for c in 0..3 {
                        px[c] += w * src[i * 3 + c];
                    }
                }
                for v in px.iter_mut() {
                    *v = (*v - 127.0) / 128.0;
                }
            }
        }
        out
    }
}

fn check_size(width: usize, height: usize, len: usize, channels: usize) -> Result<()> {
    if width == 0 || height == 0 {
        return Err(Error::Empty(format!("image of {width}×{height} pixels")));
    }
    let want = width.checked_mul(height).and_then(|p| p.checked_mul(channels));
    if want != Some(len) {
        return Err(Error::Shape { what: format!("pixel bytes of a {width}×{height} image ({channels} per pixel)"), expected: want.unwrap_or(usize::MAX), got: len });
    }
    Ok(())
}

/// The source pixels and weights behind each output pixel of a resize along one axis: a
/// triangle (bilinear) filter with half-pixel centres, widened by the scale when shrinking
/// so that every source pixel counts (no aliasing), weights summing to one.
struct Taps {
    start: Vec<usize>,
    weights: Vec<Vec<f32>>,
}

impl Taps {
    fn new(n_in: usize, n_out: usize) -> Taps {
        let scale = n_in as f64 / n_out as f64;
        let support = scale.max(1.0);
        let mut start = Vec::with_capacity(n_out);
        let mut weights = Vec::with_capacity(n_out);
        for o in 0..n_out {
            let centre = (o as f64 + 0.5) * scale;
            let lo = ((centre - support).floor().max(0.0)) as usize;
            let hi = ((centre + support).ceil() as usize).min(n_in);
            let mut w: Vec<f64> = (lo..hi).map(|i| (1.0 - ((i as f64 + 0.5 - centre) / support).abs()).max(0.0)).collect();
            let sum: f64 = w.iter().sum();
            if sum > 0.0 {
                w.iter_mut().for_each(|v| *v /= sum);
            }
            start.push(lo);
            weights.push(w.into_iter().map(|v| v as f32).collect());
        }
        Taps { start, weights }
    }

    fn of(&self, o: usize) -> impl Iterator<Item = (usize, f32)> + '_ {
        self.weights[o].iter().enumerate().filter(|(_, w)| **w != 0.0).map(move |(j, w)| (self.start[o] + j, *w))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resizing_to_the_same_size_keeps_the_pixels() {
        let px: Vec<u8> = (0..4 * 3 * 3).map(|v| (v * 7) as u8).collect();
        let img = Rgb8::new(4, 3, px.clone()).unwrap();
        let rows = Taps::new(3, 3);
        assert_eq!(rows.of(1).collect::<Vec<_>>(), vec![(1, 1.0)]);
        let square = Rgb8::new(3, 3, px[..27].to_vec()).unwrap();
        let x = square.to_network_input(3);
        for (a, b) in x.iter().zip(&px[..27]) {
            assert!((a - (*b as f32 - 127.0) / 128.0).abs() < 1e-6);
        }
        assert_eq!(img.to_network_input(2).len(), 12);
    }

    #[test]
    fn shrinking_averages_every_source_pixel() {
        // A 1-pixel-wide stripe pattern shrunk 4× becomes grey, not stripes: sampling the
        // nearest pixel would give ±1. Not exactly 0: at the image's edge the filter's window
        // is cut off, and the pixels left in it are not half white (8 → 2 gives 0.075).
        let mut px = Vec::new();
        for _y in 0..8 {
            for x in 0..8 {
                let v = if x % 2 == 0 { 255 } else { 0 };
                px.extend([v, v, v]);
            }
        }
        let x = Rgb8::new(8, 8, px).unwrap().to_network_input(2);
        for v in x {
            assert!(v.abs() < 0.08, "{v}");
        }
    }

    #[test]
    fn transparent_pixels_become_white_and_bad_sizes_are_named() {
        let img = Rgb8::from_rgba(1, 2, &[10, 20, 30, 255, 10, 20, 30, 0]).unwrap();
        assert_eq!(img.pixels, vec![10, 20, 30, 255, 255, 255]);
        let err = Rgb8::new(2, 2, vec![0; 5]).unwrap_err().to_string();
        assert!(err.contains("2×2") && err.contains("expected 12"), "{err}");
        assert!(Rgb8::new(0, 2, vec![]).is_err());
    }
}
