#!/usr/bin/env bash
# Build the wasm core twice (scalar and SIMD128), generate the JS glue with wasm-bindgen,
# and shrink with wasm-opt when it is installed. Output: www/pkg/{scalar,simd}/.
# The page loads the SIMD build when the browser validates a SIMD module, else scalar.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh

PROFILE=${MARGINALIA_PROFILE:-release}
build() { # $1 = variant name, $2 = extra rustflags
  local variant=$1 extra=$2
  echo "==> building wasm ($variant, $PROFILE, $MARGINALIA_WASM_MODE)"
  # Separate target dirs: std is rebuilt per flag set, and switching flags in one dir
  # would rebuild everything every time.
  CARGO_TARGET_DIR="target/wasm-$variant" \
  CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="$MARGINALIA_WASM_RUSTFLAGS_BASE $extra" \
    $WASM_CARGO build --lib --target wasm32-unknown-unknown $WASM_CARGO_FLAGS \
      $([ "$PROFILE" = release ] && echo --release)
  local out="www/pkg/$variant"
  rm -rf "$out" && mkdir -p "$out"
  wasm-bindgen --target web --out-dir "$out" --out-name marginalia \
    "target/wasm-$variant/wasm32-unknown-unknown/$PROFILE/marginalia.wasm"
  # wasm-opt before binaryen 116 mangles the reference-types tables that current Rust
  # emits (the page then fails with "WebAssembly.Table.set(): Argument 1 is invalid"), so
  # older versions are skipped. Debian 12's binaryen is 108.
  local wopt_ver=0
  command -v wasm-opt >/dev/null 2>&1 && wopt_ver=$(wasm-opt --version | grep -oE '[0-9]+' | head -1)
  if [ -z "${MARGINALIA_NO_WASM_OPT:-}" ] && [ "$wopt_ver" -ge 116 ] && [ "$PROFILE" = release ]; then
    local feats="--enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue"
    [ "$variant" = simd ] && feats="$feats --enable-simd"
    wasm-opt -O3 $feats "$out/marginalia_bg.wasm" -o "$out/marginalia_bg.wasm.opt" \
      && mv "$out/marginalia_bg.wasm.opt" "$out/marginalia_bg.wasm" \
      || echo "    wasm-opt failed; keeping the unoptimized module"
  else
    echo "    (wasm-opt missing, older than 116 (found: $wopt_ver), or debug build: not optimizing size)"
  fi
  echo "    $(du -h "$out/marginalia_bg.wasm" | cut -f1) $out/marginalia_bg.wasm"
}

build scalar ""
build simd "-C target-feature=+simd128"
