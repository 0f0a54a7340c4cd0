# Source me (benchmark scripts): the wasm toolchain from scripts/env.sh plus the
# wasm-bindgen-test runner settings.
. scripts/env.sh
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
export CHROMEDRIVER=${CHROMEDRIVER:-/usr/bin/chromedriver}
unset WASM_BINDGEN_TEST_ONLY_NODE WASM_BINDGEN_TEST_ONLY_WEB WASM_BINDGEN_USE_BROWSER
# The runner's default budget (20 s for the whole file) is too short on a loaded machine
# with SwiftShader; a hang still ends, just later.
export WASM_BINDGEN_TEST_TIMEOUT="${WASM_BINDGEN_TEST_TIMEOUT:-300}"

# One benchmark test file in release builds: `bench_run NAME RUSTFLAGS TARGET_DIR TEST`,
# printing the BENCH lines (prefix dropped), the test summary and any failure.
bench_flags='--cfg getrandom_backend="wasm_js"'
bench_run() {
  local name="$1" flags="$2" dir="$3" test="$4"
  echo "== $test, $name build (release) =="
  CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="$flags" CARGO_TARGET_DIR="$dir" \
    $WASM_CARGO test --release --target wasm32-unknown-unknown $WASM_CARGO_FLAGS --test "$test" -- --nocapture \
    2>&1 | grep -E '^BENCH|^test result|panicked|error' | sed 's/^BENCH //'
}
