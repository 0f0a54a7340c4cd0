//! `ImageEncoder`: the pretrained image encoder (EfficientNet-Lite0) over the weight
//! file's bytes, which the caller fetches (the app from its own origin, cached by the
//! service worker; the package from a URL its user sets).

use js_sys::Float32Array;
use wasm_bindgen::prelude::*;

use super::js_error;
use crate::encoder::{self, efficientnet, EfficientNetLite0, Rgb8};
use crate::Error;

#[wasm_bindgen]
pub struct ImageEncoder {
    net: EfficientNetLite0,
    size: usize,
}

#[wasm_bindgen]
impl ImageEncoder {
    /// Reads the weight file (`E_FORMAT` naming what is wrong with it). `size` is the
    /// network's input side in pixels, 32 to 512 (the app passes `defaultImageResolution`).
    #[wasm_bindgen(constructor)]
    pub fn new(weights: &[u8], size: usize) -> Result<ImageEncoder, JsValue> {
        if !(32..=512).contains(&size) {
            return Err(js_error(Error::param("size", format!("must be between 32 and 512 pixels, got {size}"))));
        }
        Ok(ImageEncoder { net: EfficientNetLite0::from_bytes(weights).map_err(js_error)?, size })
    }

    /// Name and version of what the features come from, e.g. "efficientnet-lite0/1 f16
    /// 128px": stored with the features and named by exported models.
    #[wasm_bindgen(getter)]
    pub fn version(&self) -> String {
        self.net.version(self.size)
    }

    /// Values per image (1280).
    #[wasm_bindgen(getter)]
    pub fn dim(&self) -> usize {
        efficientnet::DIM
    }

    /// Embeds `n` images of `width` × `height` pixels, `channels` bytes each (1: grey, 3:
    /// RGB, 4: RGBA, transparency over white), concatenated row-major. Returns n × dim
    /// values, rounded to f16 precision (what the project stores).
    pub fn encode(&self, pixels: &[u8], width: usize, height: usize, channels: usize) -> Result<Float32Array, JsValue> {
        let per = width * height * channels;
        if per == 0 || pixels.len() % per != 0 || !matches!(channels, 1 | 3 | 4) {
            return Err(js_error(Error::Shape { what: format!("image bytes ({width}×{height}, {channels} channels per pixel)"), expected: per, got: pixels.len() }));
        }
        let mut out = Vec::with_capacity(pixels.len() / per * efficientnet::DIM);
        for px in pixels.chunks_exact(per) {
            let img = match channels {
                1 => Rgb8::new(width, height, px.iter().flat_map(|&v| [v, v, v]).collect()),
                3 => Rgb8::new(width, height, px.to_vec()),
                _ => Rgb8::from_rgba(width, height, px),
            }
            .map_err(js_error)?;
            out.extend(encoder::round_f16(self.net.embed(&img, self.size)));
        }
        Ok(Float32Array::from(out.as_slice()))
    }
}

/// The encoder's input side for images of width × height pixels (measured; see
/// docs/BENCHMARKS.md, "Image features").
#[wasm_bindgen(js_name = defaultImageResolution)]
pub fn default_image_resolution(width: usize, height: usize) -> usize {
    encoder::default_resolution(width, height)
}
