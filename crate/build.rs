//! Two things about the wasm build, from the target's rustflags (`.cargo/config.toml`):
//! - It checks that they hold what gort needs (`build_flags.rs`): a crate that builds its wasm
//!   with gort and lacks some fails here, naming them.
//! - It tells `platform::memory` the wasm memory's maximum: the `--max-memory=<bytes>` linker
//!   argument, so that the figure has one source. Without that argument (a native build, or
//!   the build without threads) the maximum is wasm32's own, 4 GiB.

#[path = "build_flags.rs"]
mod build_flags;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=build_flags.rs");
    println!("cargo:rerun-if-env-changed=CARGO_ENCODED_RUSTFLAGS");
    let flags = std::env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default();
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32") {
        let features = std::env::var("CARGO_CFG_TARGET_FEATURE").unwrap_or_default();
        let panic = std::env::var("CARGO_CFG_PANIC").unwrap_or_default();
        if let Some(error) = build_flags::missing(&flags, &features, &panic) {
            eprintln!("{error}");
            std::process::exit(1);
        }
    }
    let max = flags
        .split('\x1f')
        .find_map(|f| f.strip_prefix("link-arg=--max-memory="))
        .map(|n| n.parse::<u64>().expect("--max-memory takes a byte count"))
        .unwrap_or(1 << 32);
    println!("cargo:rustc-env=GORT_MAX_MEMORY={max}");
}
