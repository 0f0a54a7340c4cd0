#!/usr/bin/env bash
# wasm CPU benchmark under Node with on-CPU time (tests/wasm_cpu_bench.rs), release builds,
# scalar then SIMD128. Usage: scripts/compute-bench-wasm-cpu.sh [scalar|simd|both]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/compute-env.sh
export WASM_BINDGEN_TEST_TIMEOUT=1800
which="${1:-both}"
base='--cfg getrandom_backend="wasm_js"'
run() {
  local name="$1" flags="$2" dir="$3"
  echo "== wasm CPU benchmark (node), $name build (release) =="
  CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="$flags" CARGO_TARGET_DIR="$dir" \
    $WASM_CARGO test --release --target wasm32-unknown-unknown $WASM_CARGO_FLAGS --test wasm_cpu_bench -- --nocapture \
    2>&1 | grep -E '^BENCH|^test result|panicked|error' | sed 's/^BENCH //'
}
if [[ "$which" == scalar || "$which" == both ]]; then run scalar "$base" target; fi
if [[ "$which" == simd || "$which" == both ]]; then run simd "$base -C target-feature=+simd128" target/simd; fi
