#!/usr/bin/env bash
# wasm-bindgen-test in headless Chromium (flags in webdriver.json, including
# --enable-unsafe-webgpu so the WebGPU paths run on SwiftShader). Only the browser test
# binaries are built for wasm32; everything else runs natively in `cargo test`.
# Two passes: the scalar build runs every browser test; the SIMD128 build runs the compute
# tests again, so SIMD and scalar results are checked against the same CPU reference values.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
export CHROMEDRIVER=${CHROMEDRIVER:-/usr/bin/chromedriver}
export WASM_BINDGEN_TEST_TIMEOUT=${WASM_BINDGEN_TEST_TIMEOUT:-300}
unset WASM_BINDGEN_TEST_ONLY_NODE WASM_BINDGEN_TEST_ONLY_WEB WASM_BINDGEN_USE_BROWSER

echo "== wasm browser tests, scalar build =="
CARGO_TARGET_DIR=target/wasm-test \
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="$MARGINALIA_WASM_RUSTFLAGS_BASE" \
  $WASM_CARGO test --target wasm32-unknown-unknown $WASM_CARGO_FLAGS \
    --test wasm_browser --test wasm_compute --test encoder_efficientnet --test encoder_minilm "$@"

echo "== wasm compute tests, SIMD128 build =="
CARGO_TARGET_DIR=target/wasm-test-simd \
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="$MARGINALIA_WASM_RUSTFLAGS_BASE -C target-feature=+simd128" \
  $WASM_CARGO test --target wasm32-unknown-unknown $WASM_CARGO_FLAGS \
    --test wasm_compute --test encoder_efficientnet --test encoder_minilm "$@"
