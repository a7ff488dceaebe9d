#!/usr/bin/env bash
# Installs what building and testing gort needs on a Debian 12 machine (run as root), and
# only what is missing: a second run takes seconds.
#
#   scripts/setup.sh          toolchain, wasm-bindgen CLI (and its wasm-bindgen-test-runner),
#                             Chromium and its chromedriver, npm dev dependencies
#   scripts/setup.sh --bench  the same, plus Go (reference benchmarks for `make bench`)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bench=0
for arg in "$@"; do
  case "$arg" in
    --bench) bench=1 ;;
    *) echo "usage: $0 [--bench]" >&2; exit 2 ;;
  esac
done

export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
export DEBIAN_FRONTEND=noninteractive

say() { printf '%-26s %s\n' "$1" "$2"; }

# --- Rust toolchain pinned by rust-toolchain.toml, with its components ------------------
toolchain=$(sed -n 's/^channel *= *"\([^"]*\)".*/\1/p' rust-toolchain.toml)
components=$(sed -n 's/^components *= *\[\(.*\)\].*/\1/p' rust-toolchain.toml | tr -d '"' | tr ',' ' ')
toolchain_ready() {
  rustup toolchain list | grep -q "^$toolchain-" || return 1
  local installed c
  installed=$(rustup component list --toolchain "$toolchain" --installed 2>/dev/null) || return 1
  for c in $components; do
    grep -Eq "^$c(-|$)" <<<"$installed" || return 1
  done
}
if toolchain_ready; then
  say "rust $toolchain" present
else
  rustup toolchain install # reads rust-toolchain.toml (RUSTUP_AUTO_INSTALL=0 here)
  toolchain_ready || { echo "rustup did not install $toolchain with: $components" >&2; exit 1; }
  say "rust $toolchain" installed
fi

# --- wasm-bindgen CLI, exactly the version of the wasm-bindgen crate ---------------------
wb_version=$(sed -n 's/^wasm-bindgen *= *"=\([^"]*\)".*/\1/p' crate/Cargo.toml)
[ -n "$wb_version" ] || { echo 'no wasm-bindgen = "=X" line in crate/Cargo.toml' >&2; exit 1; }
# The same package installs wasm-bindgen-test-runner, which `make test-wasm` uses.
if [ "$(wasm-bindgen --version 2>/dev/null)" = "wasm-bindgen $wb_version" ] &&
  [ "$(wasm-bindgen-test-runner --version 2>/dev/null)" = "wasm-bindgen-test-runner $wb_version" ]; then
  say "wasm-bindgen $wb_version" present
else
  echo "building wasm-bindgen-cli $wb_version (about 5 minutes on 2 cores)..."
  # Not --locked: the locked dependency set is not all on the registry mirror.
  cargo install wasm-bindgen-cli --version "$wb_version" --force --quiet
  say "wasm-bindgen $wb_version" installed
fi

# --- Debian packages ------------------------------------------------------------------
apt_updated=0
apt_install() { # apt_install <package> <label>
  if [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]; then
    say "$2" present
    return
  fi
  if [ "$apt_updated" = 0 ]; then
    apt-get update -qq
    apt_updated=1
  fi
  apt-get install -y -qq "$1" >/dev/null
  say "$2" installed
}
apt_install chromium chromium
apt_install chromium-driver chromedriver # wasm-bindgen-test-runner drives chromium through it
[ "$bench" = 1 ] && apt_install golang-go "go (bench)"

# --- npm dev dependencies (playwright-core drives /usr/bin/chromium) --------------------
# npm ci writes node_modules/.package-lock.json: without it (or older than the lock file) the
# folder is missing, empty or stale.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
  touch node_modules/.package-lock.json
  say "node_modules" installed
else
  say "node_modules" present
fi
