# Source me: environment for building and testing the wasm32 target here (TOOLCHAIN.md).
export PATH=/usr/bin:$PATH
export RUSTC_BOOTSTRAP=1
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER=/usr/lib/llvm-22/bin/wasm-ld
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
export CHROMEDRIVER=/usr/bin/chromedriver
unset WASM_BINDGEN_TEST_ONLY_NODE WASM_BINDGEN_TEST_ONLY_WEB WASM_BINDGEN_USE_BROWSER
# The runner's default budget (20 s for the whole file) is too short on a loaded machine
# with SwiftShader; a hang still ends, just later.
export WASM_BINDGEN_TEST_TIMEOUT="${WASM_BINDGEN_TEST_TIMEOUT:-300}"
