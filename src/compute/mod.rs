//! Batched kernels. `cpu` is the reference; `gpu` (wasm only) runs the same work through
//! wgpu's WebGPU backend and is always tested against `cpu`.
