# Sourced by the build and test scripts: picks the toolchain that can build wasm32.
#
# Two paths, one command:
# - rustup with the wasm32-unknown-unknown target (a developer's own machine): plain
#   `cargo build --target wasm32-unknown-unknown`.
# - no wasm32 std available (these machines): Debian's rustc-web 1.96 builds std from
#   source (`-Zbuild-std`, allowed on stable by RUSTC_BOOTSTRAP=1), linked by lld-22's
#   wasm-ld. See docs/TOOLCHAIN.md.
# Exports WASM_CARGO (the cargo to call) and WASM_CARGO_FLAGS (extra flags).

wasm_target_via_rustup() {
  command -v rustup >/dev/null 2>&1 || return 1
  rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown && return 0
  # Try to add it (works where rustup is online); quietly fall back otherwise.
  rustup target add wasm32-unknown-unknown >/dev/null 2>&1
}

if [ -n "${MARGINALIA_WASM_MODE:-}" ]; then
  :
elif wasm_target_via_rustup; then
  MARGINALIA_WASM_MODE=rustup
else
  MARGINALIA_WASM_MODE=build-std
fi
export MARGINALIA_WASM_MODE

if [ "$MARGINALIA_WASM_MODE" = rustup ]; then
  WASM_CARGO=cargo
  WASM_CARGO_FLAGS=""
else
  WASM_CARGO=/usr/bin/cargo
  WASM_CARGO_FLAGS="-Zbuild-std=std,panic_abort"
  export RUSTC=/usr/bin/rustc
  export RUSTC_BOOTSTRAP=1
  export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER=/usr/lib/llvm-22/bin/wasm-ld
fi
export WASM_CARGO WASM_CARGO_FLAGS
# The getrandom backend cfg must be in every RUSTFLAGS we set (see .cargo/config.toml).
export MARGINALIA_WASM_RUSTFLAGS_BASE='--cfg getrandom_backend="wasm_js"'
export PATH="$HOME/.cargo/bin:$PATH"
