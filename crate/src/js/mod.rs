//! The Rust half of the JavaScript facade (wasm only).
//!
//! The page's main thread holds a [`RuntimeCore`]: it starts goroutines, reads statistics and
//! shuts down, all without blocking or taking a lock (it only pushes onto lock-free inboxes and
//! notifies futex words). Each Worker enters the scheduler through a [`Machine`], driven by
//! the loop in `pkg/src/worker.js`.
//!
//! # JS goroutines
//! A goroutine started from JavaScript carries its function's source and its encoded
//! arguments. The M that first runs it asks its Worker's JS host to compile (once per Worker),
//! decode and call it; the goroutine then stays bound to that M, because its continuation lives
//! in that Worker's JS heap. If the function returned a promise, the goroutine waits on it
//! (`JsFuture`), and its Worker's M keeps running other goroutines meanwhile.
//!
//! # Outcomes
//! A JS goroutine's outcome is bytes made by the host: tag 0 and an encoded value, or tag 1 and
//! an encoded error record. [`JoinRef::take`] adds tag 2 and a UTF-8 message for a goroutine
//! that panicked or was cancelled, and tag 3 for JSON produced by the runtime itself (the
//! goroutine dump) or by a Rust goroutine started from JS ([`RuntimeCore::go_json`]).
//!
//! # Worker-side operations
//! `rt.sleep`, `rt.gosched` and `g.join()` inside a goroutine return promises; each is resolved
//! by a small goroutine bound to the calling M ([`local_promise`]), so the resolution, and the
//! continuation of the awaiting JS goroutine, happen on that M's thread.

use crate::sched::join::{JoinCell, JoinError, JoinHandle};
use crate::sched::m::{Exit, Machine as M};
use crate::sched::{self, set_wait_reason, Shared, WaitReason};
use crate::shim::Arc;
use js_sys::{Array, Object, Promise, Reflect, Uint8Array};
use std::cell::RefCell;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

const OUTCOME_RUNTIME_ERROR: u8 = 2;
const OUTCOME_JSON: u8 = 3;

type Outcome = Vec<u8>;

#[wasm_bindgen]
extern "C" {
    /// The Worker's JS side: compiles, decodes and calls goroutine functions.
    pub type Host;
    /// Calls the goroutine; returns its outcome bytes, or a promise of them.
    #[wasm_bindgen(method)]
    fn start(this: &Host, goid: f64, source: &str, args: &[u8]) -> JsValue;
}

thread_local! {
    static HOST: RefCell<Option<Host>> = const { RefCell::new(None) };
}

/// The `WebAssembly.Module` this code was instantiated from, for starting Workers.
#[wasm_bindgen(js_name = gortWasmModule)]
pub fn wasm_module() -> JsValue {
    wasm_bindgen::module()
}

/// The shared `WebAssembly.Memory`, for starting Workers.
#[wasm_bindgen(js_name = gortSharedMemory)]
pub fn shared_memory() -> JsValue {
    wasm_bindgen::memory()
}

/// One runtime, as the page's main thread holds it.
#[wasm_bindgen]
pub struct RuntimeCore {
    shared: Arc<Shared>,
}

#[wasm_bindgen]
impl RuntimeCore {
    #[wasm_bindgen(constructor)]
    pub fn new(procs: u32) -> RuntimeCore {
        RuntimeCore { shared: crate::Builder::default().procs(procs as usize).build_shared() }
    }

    /// A counted reference to the runtime for one Worker's [`Machine::new`].
    #[wasm_bindgen(js_name = workerReference)]
    pub fn worker_reference(&self) -> u32 {
        Arc::into_raw(self.shared.clone()) as u32
    }

    pub fn procs(&self) -> u32 {
        self.shared.procs.len() as u32
    }

    /// Starts a JS goroutine from outside the runtime.
    pub fn go(&self, source: String, args: Vec<u8>) -> JoinRef {
        go_js(&self.shared, source, args)
    }

    /// Asks every M to stop; each Worker's loop then returns and reports back.
    pub fn shutdown(&self) {
        self.shared.begin_shutdown();
    }

    #[wasm_bindgen(js_name = isShutDown)]
    pub fn is_shut_down(&self) -> bool {
        self.shared.is_shut_down()
    }

    /// Scheduler counters, read from atomics without locks.
    pub fn stats(&self) -> Object {
        let s = self.shared.stats();
        let per_p = |f: fn(&crate::ProcStats) -> f64| s.per_p.iter().map(|p| JsValue::from(f(p))).collect::<Array>();
        let sched = object(&[
            ("spawned", (s.spawned as f64).into()),
            ("completed", (s.completed as f64).into()),
            ("steals", (s.steals() as f64).into()),
            ("stolen", (s.per_p.iter().map(|p| p.stolen).sum::<u64>() as f64).into()),
            ("parks", (s.per_p.iter().map(|p| p.parks).sum::<u64>() as f64).into()),
            ("wakeups", (s.per_p.iter().map(|p| p.wakeups).sum::<u64>() as f64).into()),
            ("globalQueue", (s.global_queue as f64).into()),
            ("idleProcs", (s.idle_procs as f64).into()),
            ("spinning", (s.spinning as f64).into()),
            ("runq", per_p(|p| p.runq as f64).into()),
            ("runs", per_p(|p| p.runs as f64).into()),
            ("stealsByProc", per_p(|p| p.steals as f64).into()),
            ("stolenByProc", per_p(|p| p.stolen as f64).into()),
            ("parksByProc", per_p(|p| p.parks as f64).into()),
        ]);
        object(&[("procs", (s.procs as f64).into()), ("goroutines", (s.goroutines as f64).into()), ("sched", sched.into())])
    }

    /// A goroutine dump, gathered by a goroutine (the registry is behind locks the main thread
    /// must not take); the outcome is JSON.
    pub fn goroutines(&self) -> JoinRef {
        let shared = self.shared.clone();
        let handle = self.shared.go(async move {
            let dump: Vec<String> = shared
                .goroutines()
                .into_iter()
                .filter(|g| g.id != crate::goid())
                .map(|g| {
                    let proc = g.proc.map_or("null".to_string(), |p| p.to_string());
                    format!(
                        r#"{{"id":{},"state":"{}","waitReason":"{}","proc":{}}}"#,
                        g.id, g.state, g.wait_reason, proc
                    )
                })
                .collect();
            let mut out = vec![OUTCOME_JSON];
            out.extend_from_slice(format!("[{}]", dump.join(",")).as_bytes());
            out
        });
        JoinRef::from(handle)
    }
}

impl RuntimeCore {
    /// Starts a Rust goroutine from the page's main thread and hands JS its result.
    ///
    /// For crates that build their own wasm module with gort (and so carry gort's exports in
    /// their wasm-bindgen glue): an entry point of theirs, exported with `#[wasm_bindgen]`,
    /// takes the `&RuntimeCore`, starts its future here and returns the `JoinRef`; the page
    /// calls it through `rt.goRust(exportName, ...args)`, whose `join()` resolves to the JSON
    /// value `fut` produced (a panic rejects it with a `GoroutineError`). `fut` runs on the
    /// Worker Ms like a goroutine started with [`crate::go`]. Lock-free, like [`Self::go`].
    pub fn go_json<F>(&self, fut: F) -> JoinRef
    where
        F: Future<Output = String> + Send + 'static,
    {
        let handle = self.shared.go(async move {
            let json = fut.await;
            let mut out = Vec::with_capacity(json.len() + 1);
            out.push(OUTCOME_JSON);
            out.extend_from_slice(json.as_bytes());
            out
        });
        JoinRef::from(handle)
    }
}

fn object(fields: &[(&str, JsValue)]) -> Object {
    let o = Object::new();
    for (k, v) in fields {
        Reflect::set(&o, &JsValue::from_str(k), v).expect("setting a property on a fresh object");
    }
    o
}

fn go_js(shared: &Arc<Shared>, source: String, args: Vec<u8>) -> JoinRef {
    let handle = shared.go_unstarted(move || run_js_goroutine(source, args));
    JoinRef::from(handle)
}

async fn run_js_goroutine(source: String, args: Vec<u8>) -> Outcome {
    let goid = crate::goid() as f64;
    let out = HOST.with(|h| h.borrow().as_ref().expect("an M without a JS host").start(goid, &source, &args));
    let out = match out.dyn_into::<Promise>() {
        Ok(promise) => Waiting(WaitReason::Promise, JsFuture::from(promise)).await.unwrap_or_else(|e| e),
        Err(bytes) => bytes,
    };
    Uint8Array::new(&out).to_vec()
}

/// Sets the goroutine's wait reason each time the inner future is pending.
struct Waiting<F>(WaitReason, F);

impl<F: Future + Unpin> Future for Waiting<F> {
    type Output = F::Output;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let r = Pin::new(&mut self.1).poll(cx);
        if r.is_pending() {
            set_wait_reason(self.0);
        }
        r
    }
}

/// A goroutine's result, as JS holds it.
#[wasm_bindgen]
pub struct JoinRef {
    cell: Arc<JoinCell<Outcome>>,
    goid: u64,
}

impl From<JoinHandle<Outcome>> for JoinRef {
    fn from(h: JoinHandle<Outcome>) -> Self {
        JoinRef { cell: h.cell, goid: h.goid }
    }
}

#[wasm_bindgen]
impl JoinRef {
    pub fn id(&self) -> f64 {
        self.goid as f64
    }

    /// Byte address of the state word (0 while pending), for `Atomics.waitAsync`.
    #[wasm_bindgen(js_name = stateAddress)]
    pub fn state_address(&self) -> u32 {
        self.cell.state.as_ptr() as u32
    }

    #[wasm_bindgen(js_name = isReady)]
    pub fn is_ready(&self) -> bool {
        self.cell.is_ready()
    }

    /// The outcome bytes once ready (see the module header), or undefined.
    pub fn take(&self) -> Option<Vec<u8>> {
        self.cell.take().map(outcome_bytes)
    }
}

fn outcome_bytes(r: Result<Outcome, JoinError>) -> Vec<u8> {
    r.unwrap_or_else(|e| {
        let mut out = vec![OUTCOME_RUNTIME_ERROR];
        out.extend_from_slice(e.to_string().as_bytes());
        out
    })
}

/// Exit codes of [`Machine::run`], mirrored in worker.js.
#[wasm_bindgen]
pub enum RunExit {
    Stopped = 0,
    Microtasks = 1,
    Macrotask = 2,
    ParkAsync = 3,
}

/// A Worker's M.
#[wasm_bindgen]
pub struct Machine {
    m: M,
    park_timeout_ms: f64,
}

#[wasm_bindgen]
impl Machine {
    /// Makes this Worker M number `index` of the runtime behind `reference` (from
    /// [`RuntimeCore::worker_reference`], consumed here).
    #[wasm_bindgen(constructor)]
    pub fn new(reference: u32, index: u32, host: Host) -> Machine {
        // SAFETY: `reference` came from `Arc::into_raw` in `worker_reference`, once per Worker,
        // and is turned back into an Arc exactly once, here.
        let shared = unsafe { Arc::from_raw(reference as *const Shared) };
        HOST.with(|h| *h.borrow_mut() = Some(host));
        Machine { m: M::new(shared, index as usize), park_timeout_ms: f64::INFINITY }
    }

    /// Runs goroutines until the Worker must give its event loop a turn (see `sched::m`).
    pub fn run(&mut self) -> RunExit {
        match self.m.run(true) {
            Exit::Stopped => {
                HOST.with(|h| h.borrow_mut().take());
                RunExit::Stopped
            }
            Exit::Microtasks => RunExit::Microtasks,
            Exit::Macrotask => RunExit::Macrotask,
            Exit::ParkAsync { timeout_ns } => {
                self.park_timeout_ms = timeout_ns.map_or(f64::INFINITY, |ns| ns as f64 / 1e6);
                RunExit::ParkAsync
            }
        }
    }

    /// Where to `Atomics.waitAsync` after `RunExit::ParkAsync`, and for how long.
    #[wasm_bindgen(js_name = parkAddress)]
    pub fn park_address(&self) -> u32 {
        self.m.parker_address()
    }

    #[wasm_bindgen(js_name = parkTimeoutMs)]
    pub fn park_timeout_ms(&self) -> f64 {
        self.park_timeout_ms
    }

    /// The value the parker's word holds while parked.
    #[wasm_bindgen(js_name = parkedValue)]
    pub fn parked_value() -> u32 {
        crate::sched::idle::PARKED
    }
}

fn current_shared() -> Arc<Shared> {
    sched::current_shared().expect("a goroutine operation called outside a Worker M")
}

/// `rt.go` inside a goroutine: the child starts on this M's P (other Ms may steal it).
#[wasm_bindgen(js_name = workerGo)]
pub fn worker_go(source: String, args: Vec<u8>) -> JoinRef {
    let shared = current_shared();
    let j = go_js(&shared, source, args);
    // This may run outside the M's loop (in a promise reaction while the M waits in
    // `Atomics.waitAsync`): make sure the M looks at its queues again.
    sched::unpark_current_m();
    j
}

/// A promise resolved with `fut`'s value by a goroutine bound to this M.
fn local_promise<F: Future<Output = JsValue> + 'static>(fut: F) -> Promise {
    let mut resolve = None;
    let mut slot = AssertUnwindSafe(&mut resolve);
    let promise = Promise::new(&mut move |res, _rej| **slot = Some(res));
    let resolve = resolve.expect("the Promise executor runs synchronously");
    current_shared().go_local(async move {
        let v = fut.await;
        // A resolve function cannot throw.
        let _ = resolve.call1(&JsValue::UNDEFINED, &v);
    });
    promise
}

/// `rt.sleep(ms)` inside a goroutine.
#[wasm_bindgen(js_name = workerSleep)]
pub fn worker_sleep(ms: f64) -> Promise {
    let d = Duration::from_secs_f64(ms.max(0.0) / 1e3);
    local_promise(async move {
        crate::time::sleep(d).await;
        JsValue::UNDEFINED
    })
}

/// `rt.gosched()` inside a goroutine.
#[wasm_bindgen(js_name = workerGosched)]
pub fn worker_gosched() -> Promise {
    local_promise(async {
        crate::gosched().await;
        JsValue::UNDEFINED
    })
}

/// `g.join()` inside a goroutine: a promise of the outcome bytes.
#[wasm_bindgen(js_name = workerJoin)]
pub fn worker_join(j: &JoinRef) -> Promise {
    let handle = JoinHandle { cell: j.cell.clone(), goid: j.goid };
    local_promise(async move { Uint8Array::from(outcome_bytes(handle.await).as_slice()).into() })
}
