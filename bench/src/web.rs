//! The browser entry points (wasm only), called by `bench/web/main.js`.
//!
//! The page starts a gort runtime over this module's glue (`Runtime.start({ wasm:
//! '/target/bench-pkg/gort_bench.js' })`; the glue carries gort's own exports, so the facade
//! and its Workers use it unchanged), then runs each workload as a Rust goroutine with
//! `rt.goRust('benchWorkload', name, round, diag)`; its `join()` resolves to the metric objects.

use crate::workloads::Workload;
use crate::{json_array, preamble, round_suffix};
use gort::{JoinRef, Message, RuntimeCore};
use wasm_bindgen::prelude::*;

/// bench.go's `meta.*` and `size.*` lines as a JSON array (measures the clock step on the
/// calling thread). `numcpu`: `navigator.hardwareConcurrency`; `procs`: the runtime's Ps.
#[wasm_bindgen(js_name = benchPreamble)]
pub fn bench_preamble(numcpu: u32, procs: u32) -> String {
    json_array(&preamble(numcpu as usize, procs as usize, "web/wasm32"), "")
}

/// Whether bench.go has a workload of that name.
#[wasm_bindgen(js_name = benchLookup)]
pub fn bench_lookup(name: &str) -> bool {
    Workload::lookup(name).is_some()
}

/// Starts workload `name` as a goroutine on `core`'s runtime (the arguments: `name`, `round`,
/// `diag`); its JSON result is the array of its metrics, named with the suffix of `round` (1 =
/// none, N = "@rN"); `diag` adds the workload's explanatory figures.
#[wasm_bindgen(js_name = benchWorkload)]
pub fn bench_workload(core: &RuntimeCore, args: Message) -> Result<JoinRef, JsValue> {
    let (name, round, diag): (String, u32, bool) = args.decode_args()?;
    let Some(w) = Workload::lookup(&name) else {
        return Err(JsError::new(&format!("gort-bench: no workload named {name:?}")).into());
    };
    let suffix = round_suffix(round);
    Ok(core.go_json(async move { json_array(&w.run(diag).await, &suffix) }))
}
