#!/usr/bin/env bash
# Builds the app: its wasm (gort inside) with the flags of .cargo/config.toml, then its
# wasm-bindgen glue into wasm/ (primes.js, primes_bg.wasm), which the page starts the runtime
# over. The one command to run (README.md here); gort's build script names any missing flag.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

# The CLI must be exactly the wasm-bindgen the app links (gort pins it).
want=$(cargo pkgid wasm-bindgen | sed 's/.*[@#]//')
have=$(wasm-bindgen --version 2>/dev/null | sed 's/^wasm-bindgen //') || true
if [ "$have" != "$want" ]; then
  echo "build.sh: the wasm-bindgen CLI is ${have:-not installed}; this app links wasm-bindgen $want:" >&2
  echo "  cargo install wasm-bindgen-cli --version $want" >&2
  exit 1
fi

cargo gort-build
target=$(cargo metadata --format-version 1 --no-deps | sed 's/.*"target_directory":"\([^"]*\)".*/\1/')
wasm-bindgen --target web --out-dir wasm --out-name primes "$target/wasm32-unknown-unknown/release/primes.wasm"
