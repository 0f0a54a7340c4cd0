//! Data: the pool and featurizers. Pure functions of bytes and values; no browser, no I/O.

pub mod dataset;
pub mod embeddings;
pub mod idx;
pub mod image;
pub mod npy;
pub mod split;
pub mod stream;
pub mod table;
pub mod tabular;
pub mod text;
