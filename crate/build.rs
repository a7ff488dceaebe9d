//! Tells `platform::memory` the wasm memory's maximum: the `--max-memory=<bytes>` linker
//! argument of the target's rustflags (`.cargo/config.toml`), so that the figure has one
//! source. Without that argument (a native build, or a crate that links gort with other flags)
//! the maximum is wasm32's own, 4 GiB.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=CARGO_ENCODED_RUSTFLAGS");
    let flags = std::env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default();
    let max = flags
        .split('\x1f')
        .find_map(|f| f.strip_prefix("link-arg=--max-memory="))
        .map(|n| n.parse::<u64>().expect("--max-memory takes a byte count"))
        .unwrap_or(1 << 32);
    println!("cargo:rustc-env=GORT_MAX_MEMORY={max}");
}
