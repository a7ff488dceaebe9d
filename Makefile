# gort: `make demo` serves the demo page, `make test` runs every test.
# Each target installs what is missing first (scripts/setup.sh, seconds when all is there).

export PATH := $(or $(CARGO_HOME),$(HOME)/.cargo)/bin:$(PATH)

PORT ?= 8080
WASM := target/wasm32-unknown-unknown/release/gort.wasm
BENCH_WASM := target/wasm32-unknown-unknown/release/gort_bench.wasm

.PHONY: setup pkg example demo test test-wasm bench soak fmt lint lint-js

setup:
	bash scripts/setup.sh

# Two builds: with threads (shared memory, for cross-origin isolated pages) and without (one P
# on the page's own thread, for pages that are not: pkg/src/local.js). RUSTFLAGS replaces the
# threaded flags of .cargo/config.toml for the second (which says so with its cfg, for gort's
# build script: crate/build_flags.rs); its own target directory keeps both builds' artifacts.
ST_RUSTFLAGS := -C target-feature=+bulk-memory,+mutable-globals,+exception-handling -C panic=unwind \
	-C link-arg=--max-memory=4294901760 --cfg gort_without_threads
ST_WASM := target/st/wasm32-unknown-unknown/release/gort.wasm

pkg: setup
	cargo wasm-build
	wasm-bindgen --target web --out-dir pkg/wasm --out-name gort $(WASM)
	RUSTFLAGS="$(ST_RUSTFLAGS)" cargo wasm-build --target-dir target/st
	wasm-bindgen --target web --out-dir pkg/wasm --out-name gort_st $(ST_WASM)

# The example Rust app (examples/primes): its wasm, gort inside, and its glue in
# examples/primes/wasm/, by the one command an app runs (its build.sh). It shares target/, so
# the std that -Zbuild-std made for gort's own build is reused.
example: setup
	bash examples/primes/build.sh

demo: pkg
	PORT=$(PORT) node scripts/serve.mjs

test: pkg example lint test-wasm
	cargo test --release -p gort
	RUSTFLAGS="--cfg loom" cargo test --release -p gort --lib --target-dir target/loom loom
	node --test tests/

# The Rust integration suites (crate/tests/) again, in headless Chromium: each suite runs in a
# dedicated worker, its runtimes' Ms on module Workers over the module's shared memory.
# WASM_TESTS picks suites (e.g. WASM_TESTS="--test chan"); WASM_BINDGEN_TEST_TIMEOUT is per suite.
WASM_TESTS ?= --test '*'
test-wasm: setup
	CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
	CHROMEDRIVER=/usr/bin/chromedriver \
	WASM_BINDGEN_TEST_WEBDRIVER_JSON=$(CURDIR)/webdriver.json \
	WASM_BINDGEN_TEST_TIMEOUT=180 \
	cargo wasm-test $(WASM_TESTS)

# Minutes of chaos (not in CI): the Rust chaos and channel stress suites natively over many more
# seeds, then the browser chaos rounds (scripts/soak.mjs; SOAK_ARGS: its options, e.g.
# --seeds=1000-1999 --minutes=30; GORT_CHAOS_KILL=1 adds killed Workers). A failure names its seed.
SOAK_SEEDS ?= 2000
SOAK_ARGS ?= --seeds=300 --minutes=15
soak: pkg
	GORT_CHAOS_SEEDS=$(SOAK_SEEDS) cargo test --release -p gort --test chaos
	GORT_STRESS_SEEDS=50 cargo test --release -p gort --test stress
	node scripts/soak.mjs $(SOAK_ARGS)

# The bench page runs the workloads from bench/'s own wasm module (gort included), bound into
# target/bench-pkg/; the runner builds the native gort-bench itself. BENCH_ARGS: runner options.
bench:
	bash scripts/setup.sh --bench
	$(MAKE) pkg
	cargo wasm-build-bench
	wasm-bindgen --target web --out-dir target/bench-pkg --out-name gort_bench $(BENCH_WASM)
	node bench/run.mjs $(BENCH_ARGS)

fmt:
	cargo fmt --all -- --check

lint: fmt lint-js
	cargo clippy --all-targets --workspace -- -D warnings
	cargo wasm-clippy -- -D warnings
	RUSTFLAGS="$(ST_RUSTFLAGS)" cargo wasm-clippy --target-dir target/st -- -D warnings

# ESLint and Prettier (npm dev dependencies) over the JavaScript: eslint.config.js and
# .prettierignore say which files; generated code (pkg/wasm/, target/) is left out.
JS_FILES := '{pkg,www,tests,bench,scripts,crate,examples}/**/*.{js,mjs,ts}' '*.js'

lint-js: setup
	node_modules/.bin/eslint --max-warnings 0 .
	node_modules/.bin/prettier --check $(JS_FILES)
