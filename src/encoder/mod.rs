//! Pretrained encoders: networks that turn an image (or, later, a text) into an embedding
//! the small models learn from. Each network's file describes only its graph; the
//! operations live in `compute::conv` with the other kernels, and weight files are read in
//! one place, [`weights`].

pub mod efficientnet;
pub mod image;
pub mod weights;

pub use efficientnet::EfficientNetLite0;
pub use image::Rgb8;
