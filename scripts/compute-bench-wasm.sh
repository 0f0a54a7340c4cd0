#!/usr/bin/env bash
# The browser half of the scoring benchmark (tests/wasm_bench.rs) in headless Chromium,
# release builds, scalar then SIMD128; prints the BENCH lines as a table.
# Usage: scripts/compute-bench-wasm.sh [scalar|simd|both]   (MARGINALIA_BENCH_QUICK=1: N ≤ 10k)
# The SIMD run skips WebGPU (MARGINALIA_BENCH_NO_GPU=1): its GPU numbers would repeat the scalar run's.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/compute-env.sh
export WASM_BINDGEN_TEST_TIMEOUT=1800
which="${1:-both}"
base='--cfg getrandom_backend="wasm_js"'
run() {
  local name="$1" flags="$2" dir="$3"
  echo "== wasm benchmark, $name build (release) =="
  CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="$flags" CARGO_TARGET_DIR="$dir" \
    $WASM_CARGO test --release --target wasm32-unknown-unknown $WASM_CARGO_FLAGS --test wasm_bench -- --nocapture \
    2>&1 | grep -E '^BENCH|^test result|panicked|error' | sed 's/^BENCH //'
}
if [[ "$which" == scalar || "$which" == both ]]; then run scalar "$base" target; fi
if [[ "$which" == simd || "$which" == both ]]; then MARGINALIA_BENCH_NO_GPU=1 run simd "$base -C target-feature=+simd128" target/simd; fi
