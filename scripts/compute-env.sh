# Source me (benchmark scripts): the wasm toolchain from scripts/env.sh plus the
# wasm-bindgen-test runner settings.
. scripts/env.sh
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
export CHROMEDRIVER=${CHROMEDRIVER:-/usr/bin/chromedriver}
unset WASM_BINDGEN_TEST_ONLY_NODE WASM_BINDGEN_TEST_ONLY_WEB WASM_BINDGEN_USE_BROWSER
# The runner's default budget (20 s for the whole file) is too short on a loaded machine
# with SwiftShader; a hang still ends, just later.
export WASM_BINDGEN_TEST_TIMEOUT="${WASM_BINDGEN_TEST_TIMEOUT:-300}"
