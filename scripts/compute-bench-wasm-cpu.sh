#!/usr/bin/env bash
# wasm CPU benchmark under Node with on-CPU time (tests/wasm_cpu_bench.rs), release builds,
# scalar then SIMD128. Usage: scripts/compute-bench-wasm-cpu.sh [scalar|simd|both]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/compute-env.sh
export WASM_BINDGEN_TEST_TIMEOUT=1800
which="${1:-both}"
if [[ "$which" == scalar || "$which" == both ]]; then bench_run scalar "$bench_flags" target wasm_cpu_bench; fi
if [[ "$which" == simd || "$which" == both ]]; then bench_run simd "$bench_flags -C target-feature=+simd128" target/simd wasm_cpu_bench; fi
