#!/usr/bin/env bash
# wasm-bindgen-test in headless Chromium (flags in webdriver.json, including
# --enable-unsafe-webgpu so the WebGPU paths run on SwiftShader).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
export CHROMEDRIVER=${CHROMEDRIVER:-/usr/bin/chromedriver}
export WASM_BINDGEN_TEST_TIMEOUT=${WASM_BINDGEN_TEST_TIMEOUT:-300}
CARGO_TARGET_DIR=target/wasm-test \
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="$MARGINALIA_WASM_RUSTFLAGS_BASE" \
  $WASM_CARGO test --target wasm32-unknown-unknown $WASM_CARGO_FLAGS --tests "$@"
