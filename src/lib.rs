//! Marginalia: an active learner that runs in the browser.
//!
//! Module map (one responsibility each; see docs/ARCHITECTURE.md):
//! - [`error`]: the one error type.
//! - [`data`]: the pool, splits, and featurizers (pure functions of bytes/values).
//! - [`model`]: classifiers behind the [`model::Classifier`] trait.
//! - [`strategy`]: query strategies as pure functions from probabilities/features to scores.
//! - [`stopping`]: stop suggestions (stabilizing predictions, overall uncertainty, budget).
//! - [`learner`]: the active-learning loop, synchronous and free of JS types.
//! - [`trained`]: a fitted model detached from its session, as bytes (model export).
//! - `sim` (native only): the simulation harness behind the `marginalia-sim` binary.
//! - `fuzzing` (native only): the bodies of the `cargo fuzz` targets (docs/FUZZING.md).
//! - [`compute`]: batched kernels, CPU reference and (on wasm) WebGPU.
//! - [`encoder`]: pretrained networks (EfficientNet-Lite0) that turn images into embeddings.
//! - `wasm`: the only place with `#[wasm_bindgen]`.

pub mod compute;
pub mod data;
pub mod encoder;
pub mod error;
pub mod calibration;
pub mod estimate;
#[cfg(not(target_arch = "wasm32"))]
pub mod fuzzing;
pub mod learner;
pub mod model;
#[cfg(not(target_arch = "wasm32"))]
pub mod sim;
pub mod stopping;
pub mod strategy;
pub mod trained;

#[cfg(target_arch = "wasm32")]
pub mod wasm;

pub use error::{Error, Result};
