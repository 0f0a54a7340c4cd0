//! `ImageEncoder`: the pretrained image encoder (EfficientNet-Lite0), and `SentenceEncoder`,
//! the sentence encoder (all-MiniLM-L6-v2), over the weight file's bytes, which the caller
//! fetches (the app from its own origin, cached by the service worker; the package from a
//! URL its user sets).

use std::rc::Rc;

use js_sys::{Float32Array, Object, Uint32Array};
use wasm_bindgen::prelude::*;

use super::{js_error, set};
use crate::compute::gpu::encoder::GpuEncoder;
use crate::compute::gpu::GpuContext;
use crate::encoder::{self, efficientnet, minilm, EfficientNetLite0, MiniLm, Rgb8};
use crate::Error;

/// `n` images of width × height × channels bytes (1 grey, 3 RGB, 4 RGBA), checked.
fn images_of(pixels: &[u8], width: usize, height: usize, channels: usize) -> Result<Vec<Rgb8>, JsValue> {
    let per = width * height * channels;
    if per == 0 || pixels.len() % per != 0 || !matches!(channels, 1 | 3 | 4) {
        return Err(js_error(Error::Shape { what: format!("image bytes ({width}×{height}, {channels} channels per pixel)"), expected: per, got: pixels.len() }));
    }
    pixels
        .chunks_exact(per)
        .map(|px| match channels {
            1 => Rgb8::new(width, height, px.iter().flat_map(|&v| [v, v, v]).collect()),
            3 => Rgb8::new(width, height, px.to_vec()),
            _ => Rgb8::from_rgba(width, height, px),
        })
        .collect::<crate::Result<Vec<_>>>()
        .map_err(js_error)
}

fn check_size(size: usize) -> Result<(), JsValue> {
    if (32..=512).contains(&size) {
        Ok(())
    } else {
        Err(js_error(Error::param("size", format!("must be between 32 and 512 pixels, got {size}"))))
    }
}

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
        check_size(size)?;
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
        let mut out = Vec::with_capacity(pixels.len() / (width * height * channels).max(1) * efficientnet::DIM);
        for img in images_of(pixels, width, height, channels)? {
            out.extend(encoder::round_f16(self.net.embed(&img, self.size)));
        }
        Ok(Float32Array::from(out.as_slice()))
    }
}

/// The same encoder on the GPU (WebGPU through wgpu): the weights uploaded once, many
/// images per dispatch; the same values as `ImageEncoder` within float rounding (then
/// rounded to f16 alike). Resizing stays on the CPU.
#[wasm_bindgen]
pub struct ImageEncoderGpu {
    // Shared with the futures `encode` returns: wasm-bindgen futures must own their state.
    ctx: Rc<GpuContext>,
    enc: Rc<GpuEncoder>,
    version: String,
    size: usize,
}

#[wasm_bindgen]
impl ImageEncoderGpu {
    /// Reads the weight file and uploads it; `E_GPU` when no WebGPU adapter or device can be
    /// had (or the device is too small), `E_FORMAT` for a bad weight file.
    pub async fn create(weights: Vec<u8>, size: usize) -> Result<ImageEncoderGpu, JsValue> {
        check_size(size)?;
        let net = EfficientNetLite0::from_bytes(&weights).map_err(js_error)?;
        let ctx = GpuContext::new(Default::default()).await.map_err(js_error)?;
        let enc = ctx.upload_encoder(&net).map_err(js_error)?;
        Ok(ImageEncoderGpu { ctx: Rc::new(ctx), enc: Rc::new(enc), version: net.version(size), size })
    }

    /// The adapter in use (name, backend, driver), e.g. to tell a software one.
    #[wasm_bindgen(getter)]
    pub fn adapter(&self) -> String {
        self.ctx.adapter_info().to_string()
    }

    /// As `ImageEncoder.version`.
    #[wasm_bindgen(getter)]
    pub fn version(&self) -> String {
        self.version.clone()
    }

    /// Values per image (1280).
    #[wasm_bindgen(getter)]
    pub fn dim(&self) -> usize {
        efficientnet::DIM
    }

    /// Resolves to n × dim values for `n` images (bytes as for `ImageEncoder.encode`);
    /// rejects with `E_GPU` when the device fails or is lost (the caller goes on on the CPU).
    pub fn encode(&self, pixels: Vec<u8>, width: usize, height: usize, channels: usize) -> js_sys::Promise {
        let (ctx, enc, size) = (Rc::clone(&self.ctx), Rc::clone(&self.enc), self.size);
        wasm_bindgen_futures::future_to_promise(async move {
            let inputs: Vec<f32> = images_of(&pixels, width, height, channels)?.iter().flat_map(|img| img.to_network_input(size)).collect();
            let out = ctx.encode_inputs(&enc, &inputs, size).await.map_err(js_error)?;
            Ok(Float32Array::from(encoder::round_f16(out).as_slice()).into())
        })
    }
}

/// The encoder's input side for images of width × height pixels (measured; see
/// docs/BENCHMARKS.md, "Image features").
#[wasm_bindgen(js_name = defaultImageResolution)]
pub fn default_image_resolution(width: usize, height: usize) -> usize {
    encoder::default_resolution(width, height)
}

/// (Not named TextEncoder: that would shadow the browser's own, which the bindings use.)
#[wasm_bindgen]
pub struct SentenceEncoder {
    net: MiniLm,
}

#[wasm_bindgen]
impl SentenceEncoder {
    /// Reads the weight file, vocabulary included (`E_FORMAT` naming what is wrong with it).
    #[wasm_bindgen(constructor)]
    pub fn new(weights: &[u8]) -> Result<SentenceEncoder, JsValue> {
        Ok(SentenceEncoder { net: MiniLm::from_bytes(weights).map_err(js_error)? })
    }

    /// Name and version of what the features come from, e.g. "all-minilm-l6-v2/1 i8
    /// 128tok": stored with the features and named by exported models.
    #[wasm_bindgen(getter)]
    pub fn version(&self) -> String {
        self.net.version()
    }

    /// Values per text (384).
    #[wasm_bindgen(getter)]
    pub fn dim(&self) -> usize {
        minilm::DIM
    }

    /// Embeds `texts`: `{ features: Float32Array (n × dim, unit length, rounded to f16
    /// precision), tokens: Uint32Array (tokens per text, [CLS] and [SEP] included),
    /// truncated: number (texts cut at the token limit) }`. Any string is accepted; an empty
    /// one gets the embedding of [CLS] [SEP].
    pub fn encode(&self, texts: Vec<String>) -> Object {
        let e = self.net.embed(&texts);
        let out = Object::new();
        set(&out, "features", Float32Array::from(encoder::round_f16(e.embeddings).as_slice()));
        set(&out, "tokens", Uint32Array::from(e.tokens.iter().map(|&t| t as u32).collect::<Vec<_>>().as_slice()));
        set(&out, "truncated", e.truncated as u32);
        out
    }
}
