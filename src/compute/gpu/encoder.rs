//! The pretrained image encoder (EfficientNet-Lite0) on the GPU: the same layers as the CPU
//! path (`encoder::efficientnet`, kernels in `compute::conv`), uploaded once per session,
//! then many images per dispatch. 1×1 convolutions run on the dense kernel (pixels ×
//! channels times channels × filters, with ReLU6); the stem, the depthwise convolutions,
//! the residual additions and the pooling on `shaders/convnet.wgsl`. Tested against the
//! CPU path (tests/wasm_compute.rs); the CPU stays the reference.
//!
//! Memory per chunk of B images at size s: three activation buffers of B × the largest
//! layer (at 224 px the first block's expansion, 112 × 112 × 96 floats = 4.8 MB per image),
//! the input (B × s × s × 3 floats) and the pooled output; the weights are 13.4 MB as f32
//! (the ImageNet classifier stays on the CPU).

use wgpu::util::DeviceExt;

use super::{div_up, gpu_err, to_f32, GpuContext, DENSE_TILE};
use crate::compute::conv::{same_padding, Dense, Depthwise};
use crate::encoder::efficientnet::{EfficientNetLite0, DIM};
use crate::{Error, Result};

/// One convolution's weights and bias on the GPU.
struct Layer {
    w: wgpu::Buffer,
    b: wgpu::Buffer,
    kernel: usize,
    stride: usize,
    c_in: usize,
    c_out: usize,
}

struct Block {
    expand: Option<Layer>,
    depthwise: Layer,
    project: Layer,
    residual: bool,
}

/// The network's weights on one device. Build with [`GpuContext::upload_encoder`].
pub struct GpuEncoder {
    stem: Layer,
    blocks: Vec<Block>,
    head: Layer,
    bytes: u64,
}

impl GpuEncoder {
    /// Bytes of weights held on the GPU.
    pub fn resident_bytes(&self) -> u64 {
        self.bytes
    }
}

impl Drop for GpuEncoder {
    fn drop(&mut self) {
        let layers = std::iter::once(&self.stem)
            .chain(self.blocks.iter().flat_map(|b| b.expand.iter().chain([&b.depthwise, &b.project])))
            .chain(std::iter::once(&self.head));
        for l in layers {
            l.w.destroy();
            l.b.destroy();
        }
    }
}

/// Output shape of each layer for a size × size input, and the largest activation (floats
/// per image).
fn largest_activation(net: &GpuEncoder, size: usize) -> usize {
    let (mut h, mut w) = (size.div_ceil(net.stem.stride), size.div_ceil(net.stem.stride));
    let mut most = h * w * net.stem.c_out;
    for b in &net.blocks {
        if let Some(e) = &b.expand {
            most = most.max(h * w * e.c_out);
        }
        h = h.div_ceil(b.depthwise.stride);
        w = w.div_ceil(b.depthwise.stride);
        most = most.max(h * w * b.depthwise.c_out).max(h * w * b.project.c_out);
    }
    most.max(h * w * net.head.c_out)
}

impl GpuContext {
    fn upload_layer(&self, name: &str, w: Vec<f32>, b: &[f32], kernel: usize, stride: usize, c_in: usize) -> Result<Layer> {
        Ok(Layer {
            w: self.storage_init(name, bytemuck::cast_slice(&w))?,
            b: self.storage_init(name, bytemuck::cast_slice(b))?,
            kernel,
            stride,
            c_in,
            c_out: b.len(),
        })
    }

    fn upload_dense(&self, name: &str, d: &Dense) -> Result<Layer> {
        self.upload_layer(name, d.weights.unpack(), &d.bias, d.kernel, d.stride, d.c_in())
    }

    fn upload_depthwise(&self, name: &str, d: &Depthwise) -> Result<Layer> {
        self.upload_layer(name, d.weights.clone(), &d.bias, d.kernel, d.stride, d.bias.len())
    }

    /// Uploads the network's weights (13.4 MB as f32), once per session.
    pub fn upload_encoder(&self, net: &EfficientNetLite0) -> Result<GpuEncoder> {
        self.check_alive()?;
        let stem = self.upload_dense("encoder stem", &net.stem)?;
        let mut blocks = Vec::with_capacity(net.blocks.len());
        for (i, b) in net.blocks.iter().enumerate() {
            blocks.push(Block {
                expand: b.expand.as_ref().map(|e| self.upload_dense(&format!("block {i} expand"), e)).transpose()?,
                depthwise: self.upload_depthwise(&format!("block {i} depthwise"), &b.depthwise)?,
                project: self.upload_dense(&format!("block {i} project"), &b.project)?,
                residual: b.residual,
            });
        }
        let head = self.upload_dense("encoder head", &net.head)?;
        let mut enc = GpuEncoder { stem, blocks, head, bytes: 0 };
        let layers = std::iter::once(&enc.stem)
            .chain(enc.blocks.iter().flat_map(|b| b.expand.iter().chain([&b.depthwise, &b.project])))
            .chain(std::iter::once(&enc.head));
        enc.bytes = layers.map(|l| l.w.size() + l.b.size()).sum();
        Ok(enc)
    }

    /// Embeddings of `n` inputs already resized and scaled (`Rgb8::to_network_input`:
    /// size × size × 3 floats each, concatenated): n × 1280, the CPU path's values within
    /// float rounding. Images go through in chunks sized by the device's limits; all chunks
    /// are one submission and one readback.
    pub async fn encode_inputs(&self, net: &GpuEncoder, inputs: &[f32], size: usize) -> Result<Vec<f32>> {
        self.check_alive()?;
        let per_input = size * size * 3;
        if size < 32 || inputs.is_empty() || inputs.len() % per_input != 0 {
            return Err(Error::Shape { what: format!("encoder inputs, a non-zero multiple of {size}×{size}×3 (sides from 32)"), expected: (inputs.len() / per_input.max(1) + 1) * per_input, got: inputs.len() });
        }
        let n = inputs.len() / per_input;
        let act = largest_activation(net, size);
        let binding = self.limits.max_binding() as usize;
        let grid = self.limits.max_compute_workgroups_per_dimension as usize;
        let mut per_chunk = (binding / (act * 4)).min(binding / (per_input * 4)).min(grid * DENSE_TILE as usize / (act / 32).max(1)).min(32).min(n);
        if let Some(cap) = self.options.max_chunk_rows {
            per_chunk = per_chunk.min(cap.max(1));
        }
        if per_chunk == 0 {
            return Err(gpu_err(format!("one {size} px image needs {} bytes per layer; max_storage_buffer_binding_size is {binding}", act * 4)));
        }
        let scopes = self.open_scopes();
        let input = self.scratch("encoder input", (per_chunk * per_input * 4) as u64, wgpu::BufferUsages::COPY_DST);
        let bufs = [0, 1, 2].map(|i| self.scratch(&format!("encoder activations {i}"), (per_chunk * act * 4) as u64, wgpu::BufferUsages::empty()));
        let pooled = self.scratch("encoder pooled", (per_chunk * DIM * 4) as u64, wgpu::BufferUsages::empty());
        let staging = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("encoder readback"),
            size: (n * DIM * 4) as u64,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let mut encoder = self.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("image encoder") });
        let mut uploads = Vec::new();
        let mut first = 0;
        while first < n {
            let m = per_chunk.min(n - first);
            let up = self.device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some("encoder input chunk"),
                contents: bytemuck::cast_slice(&inputs[first * per_input..(first + m) * per_input]),
                usage: wgpu::BufferUsages::COPY_SRC,
            });
            encoder.copy_buffer_to_buffer(&up, 0, &input, 0, Some((m * per_input * 4) as u64));
            uploads.push(up);
            {
                let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor { label: Some("encoder chunk"), timestamp_writes: None });
                // cur: the block's input; the other two hold its intermediate results.
                let (mut h, mut w) = (size, size);
                let (oh, ow) = self.conv(&mut pass, &self.pipelines.conv_dense, &net.stem, &input, &bufs[0], m, h, w, true);
                (h, w) = (oh, ow);
                let mut cur = 0;
                for b in &net.blocks {
                    let (t1, t2) = ((cur + 1) % 3, (cur + 2) % 3);
                    let dw_in = match &b.expand {
                        Some(e) => {
                            self.pointwise(&mut pass, e, &bufs[cur], &bufs[t1], m * h * w, true);
                            t1
                        }
                        None => cur,
                    };
                    let dw_out = if dw_in == t1 { t2 } else { t1 };
                    (h, w) = self.conv(&mut pass, &self.pipelines.conv_depthwise, &b.depthwise, &bufs[dw_in], &bufs[dw_out], m, h, w, true);
                    let out = if dw_out == t1 { t2 } else { t1 };
                    self.pointwise(&mut pass, &b.project, &bufs[dw_out], &bufs[out], m * h * w, false);
                    if b.residual {
                        self.elementwise(&mut pass, &self.pipelines.conv_add, &bufs[cur], &bufs[out], m * h * w * b.project.c_out, [0; 3]);
                    }
                    cur = out;
                }
                let head_out = (cur + 1) % 3;
                self.pointwise(&mut pass, &net.head, &bufs[cur], &bufs[head_out], m * h * w, true);
                self.elementwise(&mut pass, &self.pipelines.conv_pool, &bufs[head_out], &pooled, m * DIM, [h as u32, w as u32, DIM as u32]);
            }
            encoder.copy_buffer_to_buffer(&pooled, 0, &staging, (first * DIM * 4) as u64, Some((m * DIM * 4) as u64));
            first += m;
        }
        let bytes = self.finish(encoder, &staging, scopes).await;
        for b in uploads.iter().chain(bufs.iter()).chain([&input, &pooled, &staging]) {
            b.destroy();
        }
        Ok(to_f32(&bytes?))
    }

    /// A k×k convolution (dense or depthwise) of `m` images of h × w; returns the output size.
    #[allow(clippy::too_many_arguments)]
    fn conv(&self, pass: &mut wgpu::ComputePass<'_>, pipeline: &wgpu::ComputePipeline, l: &Layer, x: &wgpu::Buffer, y: &wgpu::Buffer, m: usize, h: usize, w: usize, relu6: bool) -> (usize, usize) {
        let (oh, top) = same_padding(h, l.kernel, l.stride);
        let (ow, left) = same_padding(w, l.kernel, l.stride);
        let total = m * oh * ow * l.c_out;
        let p = self.uniform_words(&[total as u32, h as u32, w as u32, l.c_in as u32, oh as u32, ow as u32, l.c_out as u32, l.kernel as u32, l.stride as u32, top as u32, left as u32, if relu6 { 2 } else { 0 }]);
        let bg = self.bind(pipeline, &[(0, &p), (1, x), (2, &l.w), (3, &l.b), (4, y)]);
        pass.set_pipeline(pipeline);
        pass.set_bind_group(0, &bg, &[]);
        let (gx, gy) = self.grid(total);
        pass.dispatch_workgroups(gx, gy, 1);
        (oh, ow)
    }

    /// A 1×1 convolution over `rows` pixels on the dense kernel.
    fn pointwise(&self, pass: &mut wgpu::ComputePass<'_>, l: &Layer, x: &wgpu::Buffer, y: &wgpu::Buffer, rows: usize, relu6: bool) {
        let dims = self.uniform([rows as u32, l.c_in as u32, l.c_out as u32, if relu6 { 2 } else { 0 }, 1.0f32.to_bits(), 0, 0, 0]);
        let bg = self.bind(&self.pipelines.dense_f32, &[(0, &dims), (1, x), (2, &l.w), (3, &l.b), (4, y)]);
        pass.set_pipeline(&self.pipelines.dense_f32);
        pass.set_bind_group(0, &bg, &[]);
        pass.dispatch_workgroups(div_up(l.c_out, DENSE_TILE), div_up(rows, DENSE_TILE), 1);
    }

    /// The residual add (y += x) or the pooling (y = mean over h·w of x): `total` outputs.
    fn elementwise(&self, pass: &mut wgpu::ComputePass<'_>, pipeline: &wgpu::ComputePipeline, x: &wgpu::Buffer, y: &wgpu::Buffer, total: usize, hwc: [u32; 3]) {
        let p = self.uniform_words(&[total as u32, hwc[0], hwc[1], hwc[2], 0, 0, 0, 0, 0, 0, 0, 0]);
        let entries: Vec<(u32, &wgpu::Buffer)> = vec![(0, &p), (1, x), (4, y)];
        let bg = self.bind(pipeline, &entries);
        pass.set_pipeline(pipeline);
        pass.set_bind_group(0, &bg, &[]);
        let (gx, gy) = self.grid(total);
        pass.dispatch_workgroups(gx, gy, 1);
    }

    /// Workgroups of 64 for `total` invocations, folded into two dimensions past the limit.
    fn grid(&self, total: usize) -> (u32, u32) {
        let groups = total.div_ceil(64).max(1);
        let max = self.limits.max_compute_workgroups_per_dimension as usize;
        let gx = groups.min(max);
        (gx as u32, groups.div_ceil(gx) as u32)
    }
}
