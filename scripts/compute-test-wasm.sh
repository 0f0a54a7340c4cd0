#!/usr/bin/env bash
# Run the wasm test suite (tests/wasm_compute.rs and the crate's unit tests) in headless
# Chromium with WebGPU on SwiftShader, twice: scalar wasm and SIMD128 wasm. The SIMD build
# uses its own target dir because it rebuilds std with +simd128.
# Usage: scripts/compute-test-wasm.sh [scalar|simd|both] [extra cargo test args]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/compute-env.sh
which="${1:-both}"; shift || true
base='--cfg getrandom_backend="wasm_js"'
run() {
  local name="$1" flags="$2" dir="$3"; shift 3
  echo "== wasm tests, $name build =="
  CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="$flags" CARGO_TARGET_DIR="$dir" \
    cargo test --target wasm32-unknown-unknown -Zbuild-std=std,panic_abort --test wasm_compute "$@"
}
if [[ "$which" == scalar || "$which" == both ]]; then run scalar "$base" target "$@"; fi
if [[ "$which" == simd || "$which" == both ]]; then run simd "$base -C target-feature=+simd128" target/simd "$@"; fi
