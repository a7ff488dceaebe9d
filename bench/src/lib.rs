//! gort's side of the Go anchor benchmark (`../shared/anchors/go-wasm/bench.go`): the same
//! workloads over gort's Rust API, printing the same JSON lines, so that `bench/run.mjs` can
//! put gort beside Go's wasm port and native Go.
//!
//! * natively: the `gort-bench` binary (`src/main.rs`), `--only=W1,W2 --rounds=N`;
//! * in the browser: this crate as a cdylib (`cargo wasm-build-bench`, then wasm-bindgen into
//!   `target/bench-pkg/`), whose exports (`web`) start a workload as a Rust goroutine from
//!   the page `bench/web/index.html`, through the facade's `rt.goRust`.

#![cfg_attr(all(target_arch = "wasm32", target_feature = "atomics"), feature(stdarch_wasm_atomic_wait))]

mod chan_workloads;
pub mod clock;
pub mod metric;
mod trees;
#[cfg(target_arch = "wasm32")]
mod web;
pub mod workloads;

pub use metric::{json_array, round_suffix, Metric};
pub use workloads::Workload;

/// bench.go's environment lines (`meta.*`) and the `size.*` lines of every workload gort
/// implements, in bench.go's order. `numcpu`: CPUs the host reports; `procs`: the runtime's
/// Ps (GOMAXPROCS); `platform`: where it runs.
pub fn preamble(numcpu: usize, procs: usize, platform: &str) -> Vec<Metric> {
    let mut out = vec![
        Metric::new("meta.numcpu", numcpu as f64, "count"),
        Metric::new("meta.gomaxprocs", procs as f64, "count"),
        Metric::new("meta.platform", 0.0, format!("{platform} gort {}", env!("CARGO_PKG_VERSION"))),
        Metric::new("meta.clock_step", clock::step_ns() as f64, "ns"),
    ];
    out.extend(Workload::ALL.into_iter().flat_map(Workload::sizes));
    out
}
