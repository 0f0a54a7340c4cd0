//! Data: the pool and featurizers. Pure functions of bytes and values; no browser, no I/O.

pub mod idx;
pub mod split;
