//! Data: the pool and featurizers. Pure functions of bytes and values; no browser, no I/O.

pub mod dataset;
pub mod idx;
pub mod image;
pub mod npy;
pub mod split;
pub mod table;
pub mod tabular;
pub mod text;
