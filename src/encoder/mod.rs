//! Pretrained encoders: networks that turn an image or a text into an embedding
//! the small models learn from. Each network's file describes only its graph; the
//! operations live in `compute::conv` with the other kernels, and weight files are read in
//! one place, [`weights`].

pub mod efficientnet;
pub mod image;
pub mod minilm;
pub mod weights;
pub mod wordpiece;

pub use efficientnet::EfficientNetLite0;
pub use image::Rgb8;
pub use minilm::MiniLm;

use crate::data::dataset::FeatureKind;

/// Values rounded to f16 precision (how embeddings are stored: half the bytes of f32, a
/// 100k-image project's 1280-d features in 256 MB instead of 512 MB).
pub fn round_f16(mut v: Vec<f32>) -> Vec<f32> {
    v.iter_mut().for_each(|x| *x = half::f16::from_f32(*x).to_f32());
    v
}

/// The features the app chooses for images of width × height pixels: pretrained
/// embeddings for photos. See docs/BENCHMARKS.md ("Image features") for the measurement.
pub fn default_image_features(_width: usize, _height: usize, _colour: bool) -> FeatureKind {
    FeatureKind::Pretrained
}

/// The encoder's input size for images of width × height pixels: 224, the size the
/// network was trained at, whatever the photos' own size. Measured on 2,000 CIFAR-10
/// photos of 32 × 32 (docs/BENCHMARKS.md, "Image features"): `auto` AULC 0.548 at 96 px,
/// 0.572 at 128, 0.594 at 160, 0.602 at 224; upsampling small photos costs time, not
/// accuracy.
pub fn default_resolution(_width: usize, _height: usize) -> usize {
    224
}

/// The features the app chooses for a text column. See docs/BENCHMARKS.md ("Sentence
/// encoder") for the measurement.
pub fn default_text_features() -> FeatureKind {
    FeatureKind::TextAndPretrained
}
