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
if [[ "$which" == scalar || "$which" == both ]]; then bench_run scalar "$bench_flags" target wasm_bench; fi
if [[ "$which" == simd || "$which" == both ]]; then MARGINALIA_BENCH_NO_GPU=1 bench_run simd "$bench_flags -C target-feature=+simd128" target/simd wasm_bench; fi
