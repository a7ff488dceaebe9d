//! The Rust half of the JavaScript facade (wasm only).
//!
//! The page's main thread holds a [`RuntimeCore`]: it starts goroutines, reads statistics and
//! shuts down, all without blocking or taking a lock (it only pushes onto lock-free inboxes and
//! notifies futex words). Each Worker enters the scheduler through a [`Machine`], driven by
//! the loop in `pkg/src/machine.js` (in the build without threads, the page's own thread is
//! the one M: `pkg/src/local.js`).
//!
//! # JS goroutines
//! A goroutine started from JavaScript carries its target (`target.rs`: its function's source,
//! or a module URL and an export name) and its encoded arguments. The M that first runs it asks
//! its Worker's JS host to find the function (compiling the source, or importing the module,
//! once per Worker), decode the arguments and call it; the goroutine then stays bound to that
//! M, because its continuation lives in that Worker's JS heap. If the function returned a
//! promise (or the module is still being imported), the goroutine waits on it (`JsFuture`),
//! and its Worker's M keeps running other goroutines meanwhile.
//!
//! # Values and operations
//! Arguments, results and channel messages are [`value::Message`]s: codec bytes with an outcome
//! tag, plus the runtime handles (channels, wait groups, mutexes, …) they reference. Before
//! JS sends one anywhere it asks whether it could ever fit in the runtime's heap
//! ([`RuntimeCore::admit`], [`worker_admit`]), so a value past the heap limit is a
//! `RangeError` at the call that tried. Blocking operations are [`op::Op`]s: the page runs
//! them as goroutines and awaits their [`op::JoinRef`]; a Worker runs them in a goroutine
//! bound to its M that resolves a promise ([`worker_run`]), so the resolution, and the
//! continuation of the awaiting JS goroutine, happen on that M's thread.
//!
//! # Dead Workers
//! A Worker that dies fails only the goroutines bound to it, and a new Worker takes over its M
//! (`faults.rs`). A Worker closes itself only from JS code it ran, and only in its event loop;
//! an M that ran JS gives its P up whenever it returns there (a system call,
//! `sched/syscall.rs`), so it dies holding nothing (`sched/died.rs`).
//!
//! # Deadlock reports
//! The page waits on the runtime's `events` word; when an M reports a deadlock, the page takes
//! the report with [`RuntimeCore::take_deadlock_report`] and raises a `deadlock` event.
//! Runtime handles the page holds are registered with the runtime ([`RuntimeCore::hold_chan`]
//! …): while one of them has a blocked goroutine, no deadlock is reported, since the page
//! could still wake it.
//!
//! # Rust apps
//! A crate that builds its own wasm with gort exports entry points that take the
//! [`RuntimeCore`] and the arguments of `rt.goRust` as one [`Message`], and start Rust
//! goroutines whose results JS joins as JS values ([`RuntimeCore::go_value`]); Rust and JS
//! goroutines share channels through [`JsChan`] (`bridge.rs`).
//!
//! # Timers
//! `rt.timer`, `rt.afterFunc` and `rt.ticker` are the runtime's clocks (`time.rs`) over channels
//! of JS values, made by the page or a Worker's goroutine (`timers.rs`).

mod bridge;
mod cycles;
mod faults;
mod op;
mod target;
mod timers;
mod value;

pub use bridge::{JsChan, JsSendError, Outcome};
pub use op::{JoinRef, Op};
pub use target::Target;
pub use value::{ChanRef, CondRef, Message, MutexRef, OnceRef, RwMutexRef, WaitGroupRef};

use crate::platform::shim::Arc;
use crate::sched::m::{Exit, M};
use crate::sched::origin::{Name, Origin, Site};
use crate::sched::{self, set_wait_reason, Shared, WaitReason};
use js_sys::{Array, Object, Promise, Reflect};
use std::cell::RefCell;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::Ordering::Acquire;
use std::task::{Context, Poll};
use value::OutcomeTag;
use wasm_bindgen::convert::TryFromJsValue;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen]
extern "C" {
    /// The Worker's JS side: finds (compiles or imports), decodes and calls goroutine functions.
    pub type Host;
    /// Calls the function shipped as `source`; returns its outcome `Message`, or a promise of
    /// one. `detached`: report a failure as uncaught (`target.rs`). `abort`: the `ChanRef` that
    /// carries its AbortSignal, or undefined (`target.rs`).
    #[wasm_bindgen(method, js_name = startFunction)]
    fn start_function(
        this: &Host,
        goid: f64,
        source: &str,
        args: Message,
        detached: bool,
        abort: JsValue,
    ) -> JsValue;
    /// Calls export `export` of the module at `url`; returns its outcome `Message`, or a
    /// promise of one. `detached`, `abort`: as for `start_function`.
    #[wasm_bindgen(method, js_name = startModule)]
    fn start_module(
        this: &Host,
        goid: f64,
        url: &str,
        export: &str,
        args: Message,
        detached: bool,
        abort: JsValue,
    ) -> JsValue;
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

/// Whether this module was built with threads (atomics and a shared memory, for pages that
/// are cross-origin isolated), or without (one M, driven by the page itself: `pkg/src/local.js`).
#[wasm_bindgen(js_name = gortThreaded)]
pub fn threaded() -> bool {
    cfg!(target_feature = "atomics")
}

/// In the build without threads: `wake(address)` is called, synchronously, whenever a word
/// of memory someone may wait on changes (a goroutine's outcome, an M's parker, the events
/// word). It must only settle promises (no calls back into the module).
#[cfg(not(target_feature = "atomics"))]
#[wasm_bindgen(js_name = gortSetWaker)]
pub fn set_waker(wake: js_sys::Function) {
    crate::platform::set_local_waker(Box::new(move |address| {
        // The waker only settles promises; an exception would be the page's bug, and is
        // reported by the browser as uncaught when it reaches the event loop.
        let _ = wake.call1(&JsValue::UNDEFINED, &JsValue::from(address));
    }));
}

/// One runtime, as the page's main thread holds it.
#[wasm_bindgen]
pub struct RuntimeCore {
    core: crate::runtime::Core,
    m_requests: Arc<crate::platform::lock::Lock<Vec<u32>>>,
}

impl Drop for RuntimeCore {
    fn drop(&mut self) {
        cycles::runtime_ended();
    }
}

#[wasm_bindgen]
impl RuntimeCore {
    #[wasm_bindgen(constructor)]
    /// `heap_limit` 0: none. `gc_percent` below 0: no paced collections (Go's GOGC=off).
    /// `max_procs`: the most Ps `rt.setProcs` may set (at least `procs`).
    pub fn new(procs: u32, max_procs: u32, gc_percent: i32, heap_limit: f64, gctrace: bool) -> RuntimeCore {
        let mut b = crate::Builder::default()
            .procs(procs as usize)
            .max_procs(max_procs as usize)
            .gc_percent(gc_percent)
            .gctrace(gctrace);
        if heap_limit > 0.0 {
            b = b.heap_limit(heap_limit as usize);
        }
        cycles::runtime_started();
        let core = b.on_mark_start(cycles::break_cycles).build();
        let requests = Arc::new(crate::platform::lock::Lock::new(Vec::new()));
        // Without threads there are no spare Ms, so no monitor: the one M is the page's.
        if cfg!(target_feature = "atomics") {
            Self::start_ms_through_page(&core, &requests);
        }
        RuntimeCore { core, m_requests: requests }
    }

    /// The page starts every M's Worker: a spare M the monitor asks for, or the M of a P that
    /// `rt.setProcs` added, is queued in
    /// `requests`, and the page, woken through the events word, takes it (`take_m_requests`).
    fn start_ms_through_page(
        core: &crate::runtime::Core,
        requests: &Arc<crate::platform::lock::Lock<Vec<u32>>>,
    ) {
        let (queue, shared) = (requests.clone(), Arc::downgrade(&core.shared));
        core.shared.set_m_starter(Box::new(move |index| {
            queue.lock().push(index as u32);
            if let Some(shared) = shared.upgrade() {
                shared.notify_event();
            }
        }));
    }

    /// Ms the page must start Workers for (their indices), once each: spare Ms, asked for by
    /// the runtime's monitor (`sched/sysmon.rs`) when it hands its last pooled spare a P, and
    /// the Ms of Ps added by `rt.setProcs` (`sched/procresize.rs`).
    #[wasm_bindgen(js_name = takeMRequests)]
    pub fn take_m_requests(&self) -> Vec<u32> {
        std::mem::take(&mut *self.m_requests.lock())
    }

    /// Go's `schedtrace` line for this runtime, `uptime_ms` after it started.
    pub fn schedtrace(&self, uptime_ms: f64) -> String {
        self.core.stats().schedtrace(std::time::Duration::from_micros((uptime_ms * 1e3) as u64))
    }

    /// A counted reference to the runtime for one Worker's [`Machine::new`].
    #[wasm_bindgen(js_name = workerReference)]
    pub fn worker_reference(&self) -> u32 {
        Arc::into_raw(self.core.shared.clone()) as u32
    }

    /// The number of Ps now (Go's `GOMAXPROCS(0)`).
    pub fn procs(&self) -> u32 {
        self.core.shared.gomaxprocs() as u32
    }

    /// The most Ps `rt.setProcs` may set.
    #[wasm_bindgen(js_name = maxProcs)]
    pub fn max_procs(&self) -> u32 {
        self.core.shared.max_procs() as u32
    }

    /// Starts a JS goroutine from outside the runtime; a `RangeError` if memory could not hold
    /// it (`target` and `args` are freed then: nothing was started).
    pub fn go(&self, target: Target, args: Message) -> Result<JoinRef, JsValue> {
        go_js(&self.core.shared, target, args, 0, Name::Static(PAGE))
    }

    /// Whether a message of `len` tagged bytes could be taken in ([`Message::admit_length`]:
    /// with `heap`, under this runtime's heap limit too): the error's text if not. JS asks
    /// before it copies a value into wasm memory, for arguments, `send`, `trySend` and select
    /// sends (and, without `heap`, for results), so that a value that cannot fit is a
    /// `RangeError` at the call, before anything is written.
    #[wasm_bindgen(js_name = admitLength)]
    pub fn admit_length(&self, len: usize, heap: bool) -> Option<String> {
        Message::admit_length(heap.then_some(&*self.core.heap), len)
    }

    /// Runs a blocking operation as a goroutine; the page awaits the result. A `RangeError` if
    /// memory could not hold that goroutine (the operation is not started).
    pub fn run(&self, op: &mut Op) -> Result<JoinRef, JsValue> {
        admit_goroutine(&self.core.shared, 0, "operation")?;
        let name = Name::Static(op.name());
        Ok(JoinRef::from(self.core.shared.go_as(op.take(), name, page_origin())))
    }

    /// The page holds a handle to this channel: goroutines blocked on it may still be woken.
    #[wasm_bindgen(js_name = holdChan)]
    pub fn hold_chan(&self, c: &ChanRef) {
        self.core.shared.hold_outside(c.held());
    }

    #[wasm_bindgen(js_name = holdWaitGroup)]
    pub fn hold_wait_group(&self, w: &WaitGroupRef) {
        self.core.shared.hold_outside(w.held());
    }

    #[wasm_bindgen(js_name = holdMutex)]
    pub fn hold_mutex(&self, m: &MutexRef) {
        self.core.shared.hold_outside(m.held());
    }

    #[wasm_bindgen(js_name = holdRwMutex)]
    pub fn hold_rw_mutex(&self, m: &RwMutexRef) {
        self.core.shared.hold_outside(m.held());
    }

    #[wasm_bindgen(js_name = holdCond)]
    pub fn hold_cond(&self, c: &CondRef) {
        self.core.shared.hold_outside(c.held());
    }

    #[wasm_bindgen(js_name = holdOnce)]
    pub fn hold_once(&self, o: &OnceRef) {
        self.core.shared.hold_outside(o.held());
    }

    /// The page dropped a handle (`key` from the handle's `key()`).
    pub fn unhold(&self, key: usize) {
        self.core.shared.release_outside(key);
    }

    /// Address of the word bumped at each runtime event (a deadlock report).
    #[wasm_bindgen(js_name = eventsAddress)]
    pub fn events_address(&self) -> u32 {
        self.core.shared.events.as_ptr() as u32
    }

    #[wasm_bindgen(js_name = eventsValue)]
    pub fn events_value(&self) -> u32 {
        self.core.shared.events.load(Acquire)
    }

    /// The last deadlock report (Go's text), once.
    #[wasm_bindgen(js_name = takeDeadlockReport)]
    pub fn take_deadlock_report(&self) -> Option<String> {
        self.core.shared.take_deadlock_report()
    }

    /// Asks every M to stop; each Worker's loop then returns and reports back.
    pub fn shutdown(&self) {
        self.core.shared.begin_shutdown();
    }

    /// Scheduler counters, read from atomics without locks.
    pub fn stats(&self) -> Object {
        let s = self.core.stats();
        let per_p =
            |f: fn(&crate::ProcStats) -> f64| s.per_p.iter().map(|p| JsValue::from(f(p))).collect::<Array>();
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
            ("retakes", (s.retakes as f64).into()),
            ("spareMs", (s.spare_ms as f64).into()),
            ("idleSpareMs", (s.idle_spare_ms as f64).into()),
            ("inSyscall", per_p(|p| f64::from(u8::from(p.in_syscall))).into()),
            ("runq", per_p(|p| p.runq as f64).into()),
            ("runs", per_p(|p| p.runs as f64).into()),
            ("stealsByProc", per_p(|p| p.steals as f64).into()),
            ("stolenByProc", per_p(|p| p.stolen as f64).into()),
            ("parksByProc", per_p(|p| p.parks as f64).into()),
        ]);
        object(&[
            ("procs", (s.procs as f64).into()),
            ("goroutines", (s.goroutines as f64).into()),
            ("sched", sched.into()),
            ("gc", gc_stats(&s.gc, s.stack_inuse).into()),
        ])
    }

    /// A goroutine dump, gathered by a goroutine (the registry is behind locks the main thread
    /// must not take); the outcome is JSON.
    pub fn goroutines(&self) -> JoinRef {
        let shared = self.core.shared.clone();
        let handle = self.core.shared.go(async move {
            let dump: Vec<String> = shared
                .goroutines()
                .into_iter()
                .filter(|g| g.id != crate::goid())
                .map(|g| {
                    let proc = g.proc.map_or("null".to_string(), |p| p.to_string());
                    let json_or_null = |s: &Option<String>| s.as_deref().map_or("null".to_string(), json_string);
                    let created_by = match g.created_by {
                        0 => "null".to_string(),
                        id => format!(r#"{{"id":{id},"name":{}}}"#, json_or_null(&g.created_by_name)),
                    };
                    format!(
                        r#"{{"id":{},"state":"{}","waitReason":"{}","proc":{},"name":{},"waitMs":{},"createdBy":{},"createdAt":{}}}"#,
                        g.id,
                        g.state,
                        g.wait_reason,
                        proc,
                        json_or_null(&g.name),
                        g.waiting.as_secs_f64() * 1e3,
                        created_by,
                        json_or_null(&g.created_at),
                    )
                })
                .collect();
            Message::text(OutcomeTag::Json, &format!("[{}]", dump.join(",")))
        });
        JoinRef::from(handle)
    }
}

impl RuntimeCore {
    /// Starts a Rust goroutine from the page's main thread and hands JS its result as a JS
    /// value (the typed bridge, `bridge.rs`).
    ///
    /// For crates that build their own wasm module with gort (and so carry gort's exports in
    /// their wasm-bindgen glue): an entry point of theirs, exported with `#[wasm_bindgen]`,
    /// takes the `&RuntimeCore` and the arguments' [`Message`] ([`Message::decode_args`]),
    /// starts its future here and returns the `JoinRef`; the page calls it through
    /// `rt.goRust(exportName, ...args)`, whose `join()` resolves to the value `fut` produced
    /// ([`Outcome`]: an `Err` or a panic rejects it with a `GoroutineError`). `fut` runs on the
    /// Worker Ms like a goroutine started with [`crate::go`]. Lock-free, like [`Self::go`].
    pub fn go_value<F>(&self, fut: F) -> JoinRef
    where
        F: Future + Send + 'static,
        F::Output: Outcome,
    {
        let handle = self.core.shared.go(async move {
            let mut m = fut.await.into_message();
            if let Some(shared) = sched::current_shared() {
                m.hold_for_joiner(&shared);
            }
            // The result waits for its joiner in the heap, as a JS goroutine's does.
            m.into_heap().await.unwrap_or_else(|failed| failed)
        });
        JoinRef::from(handle)
    }

    /// [`Self::go_value`] for a future that produces JSON text, which `join()` parses.
    pub fn go_json<F>(&self, fut: F) -> JoinRef
    where
        F: Future<Output = String> + Send + 'static,
    {
        let fut = async move { Message::text(OutcomeTag::Json, &fut.await) };
        let handle = self.core.shared.go_as(fut, Name::of_future::<F>(), page_origin());
        JoinRef::from(handle)
    }
}

/// `GcStats` and the goroutines' `stack_inuse` under Go's MemStats names, in JS casing.
fn gc_stats(g: &crate::gc::GcStats, stack_inuse: usize) -> Object {
    let pauses: Array = g.pause_ns.iter().map(|&p| JsValue::from(p as f64)).collect();
    object(&[
        ("heapAlloc", (g.heap_alloc as f64).into()),
        ("heapSys", (g.heap_sys as f64).into()),
        ("heapInuse", (g.heap_inuse as f64).into()),
        ("heapObjects", (g.heap_objects as f64).into()),
        ("totalAlloc", (g.total_alloc as f64).into()),
        ("mallocs", (g.mallocs as f64).into()),
        ("frees", (g.frees as f64).into()),
        ("numGC", g.num_gc.into()),
        ("numForcedGC", g.num_forced_gc.into()),
        ("pauseTotalNs", (g.pause_total_ns as f64).into()),
        ("pauseNs", pauses.into()),
        ("lastGC", (g.last_gc_unix_ns as f64 / 1e6).into()),
        ("nextGC", (g.next_gc as f64).into()),
        ("gcCPUFraction", g.gc_cpu_fraction.into()),
        ("heapLimit", (g.heap_limit as f64).into()),
        ("gcPercent", g.gc_percent.into()),
        ("stackInuse", (stack_inuse as f64).into()),
    ])
}

/// `s` as a JSON string literal.
fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn object(fields: &[(&str, JsValue)]) -> Object {
    let o = Object::new();
    for (k, v) in fields {
        Reflect::set(&o, &JsValue::from_str(k), v).expect("setting a property on a fresh object");
    }
    o
}

/// [`Shared::admit_goroutine`], refused as a `RangeError` naming `what` was started.
fn admit_goroutine(shared: &Shared, extra: usize, what: &str) -> Result<(), JsValue> {
    shared.admit_goroutine(extra).map_err(|e| {
        js_sys::RangeError::new(&format!("gort: cannot start the {what}'s goroutine: {e}")).into()
    })
}

/// What dumps say started the goroutines the page starts: "created by the page".
const PAGE: &str = "the page";

/// The origin of a goroutine the page started with no known location (its operations).
fn page_origin() -> Origin {
    Origin { parent: 0, parent_name: Name::Static(PAGE), site: Site::Unknown }
}

/// Starts a JS goroutine on `target`, started by goroutine `parent` called `parent_name` (0:
/// by the code `parent_name` names, outside every goroutine).
fn go_js(
    shared: &Arc<Shared>,
    target: Target,
    args: Message,
    parent: u64,
    parent_name: Name,
) -> Result<JoinRef, JsValue> {
    // The target and the arguments' bytes live as long as the G's task, its name and where it
    // was started as the G.
    let extra = target.byte_length() + args.byte_length();
    let (how, name, created_at) = target.into_parts();
    let described = name.as_ref().map_or(0, String::len) + created_at.as_ref().map_or(0, String::len);
    admit_goroutine(shared, extra + described, "rt.go")?;
    let name = name.map_or(Name::None, |n| Name::Shared(n.into()));
    let site = created_at.map_or(Site::Unknown, |at| Site::Text(at.into_boxed_str()));
    // Its JS values belong to the Worker that runs it: never dropped elsewhere (faults.rs).
    let start = move || faults::home_only(run_js_goroutine(how, args));
    let handle = shared.go_unstarted(start, extra, name, Origin { parent, parent_name, site });
    Ok(JoinRef::from(handle))
}

async fn run_js_goroutine(target: target::Start, args: Message) -> Message {
    let goid = crate::goid() as f64;
    // The JS code may run long: a system call, so that its P is not held meanwhile.
    let out = sched::syscall(|| {
        HOST.with(|h| target.start(h.borrow().as_ref().expect("an M without a JS host"), goid, args))
    });
    let out = match out.dyn_into::<Promise>() {
        Ok(promise) => Waiting(WaitReason::Promise, JsFuture::from(promise)).await.unwrap_or_else(|e| e),
        Err(message) => message,
    };
    let result = Message::try_from_js_value(out).expect("the JS host resolves goroutines with a Message");
    // The result waits for its joiner in the heap (value.rs).
    result.into_heap().await.unwrap_or_else(|failed| failed)
}

/// Polls an operation for a JS goroutine and, while it waits, lends that goroutine its reason
/// (unless `lend_wait` is false: the goroutine does not wait for it), and once it is done, marks
/// the goroutine as waiting for JS, which is about to run.
struct Relay<F> {
    caller: Option<sched::GRef>,
    lend_wait: bool,
    fut: F,
}

impl<F: Future + Unpin> Future for Relay<F> {
    type Output = F::Output;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let r = Pin::new(&mut self.fut).poll(cx);
        if let Some(caller) = &self.caller {
            // Once the operation is done the caller's code runs again (in promise reactions),
            // so it must not look blocked on the operation's object any more. Either way a new
            // wait begins, in one park of the caller (`G::wait_anew`).
            match r {
                Poll::Pending if self.lend_wait => caller.wait_anew(sched::current_wait_reason()),
                Poll::Pending => {}
                Poll::Ready(_) => caller.wait_anew(WaitReason::Promise),
            }
        }
        r
    }
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

/// What [`Machine::run`] asks of its M's loop (`driveMachine`, pkg/src/machine.js).
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
        crate::platform::install_panic_hook();
        HOST.with(|h| *h.borrow_mut() = Some(host));
        let m = M::new(shared, index as usize);
        // Without threads the one M runs on the page's thread, which may never block.
        #[cfg(not(target_feature = "atomics"))]
        let m = m.hosting_js_from_start();
        Machine { m, park_timeout_ms: f64::INFINITY }
    }

    /// Runs goroutines until the Worker must give its event loop a turn (see `sched::m`). The
    /// M gives its P up as it returns to the event loop, where a Worker closes
    /// (`sched/died.rs`), and takes it back as `run` is called again.
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
        crate::sched::idle::SLEEPING
    }
}

/// The runtime of the M this thread is; an error once it stopped (a continuation of a JS
/// goroutine that outlived it: the facade turns its calls into `ShutdownError`s first).
fn current_shared() -> Result<Arc<Shared>, JsValue> {
    sched::current_shared()
        .ok_or_else(|| js_sys::Error::new("gort: the runtime of this M has been shut down").into())
}

/// `rt.go` inside goroutine `caller` (bound to this M): the child starts on this M's P (other
/// Ms may steal it). A `RangeError` if memory could not hold it, as [`RuntimeCore::go`].
#[wasm_bindgen(js_name = workerGo)]
pub fn worker_go(target: Target, args: Message, caller: f64) -> Result<JoinRef, JsValue> {
    let shared = current_shared()?;
    let caller = caller as u64;
    let caller_name = sched::bound_here(caller).map_or(Name::None, |g| g.name.clone());
    // On this M's P if it is free: the child runs next here, or another M steals it.
    let j = sched::with_own_p(&shared, || go_js(&shared, target, args, caller, caller_name))?;
    // This may run outside the M's loop (in a promise reaction while the M waits in
    // `Atomics.waitAsync`): make sure the M looks at its queues again.
    sched::unpark_current_m();
    Ok(j)
}

/// [`RuntimeCore::admit_length`] in a Worker: against the heap of the runtime whose M this is.
#[wasm_bindgen(js_name = workerAdmitLength)]
pub fn worker_admit_length(len: usize, heap: bool) -> Option<String> {
    Message::admit_length_here(len, heap)
}

/// Runs a blocking operation inside a Worker for the JS goroutine `caller`: a promise of its
/// result `Message`, resolved by a system goroutine bound to this M. While the operation
/// waits, `caller` shows its wait reason ("chan receive", …) rather than "JS promise", in
/// dumps and to deadlock detection. With `lend_wait` false (an operation the goroutine does
/// not await: the watch of its signal, pkg/src/realm.js), `caller` shows nothing of it while
/// it waits; either way, once it is done, `caller` shows "JS promise" until it is polled again,
/// so that deadlock detection does not count it blocked while JS is about to act on the result.
#[wasm_bindgen(js_name = workerRun)]
pub fn worker_run(op: &mut Op, caller: f64, lend_wait: bool) -> Result<Promise, JsValue> {
    let shared = current_shared()?;
    admit_goroutine(&shared, 0, "operation")?;
    let fut = Relay { caller: sched::bound_here(caller as u64), lend_wait, fut: op.take() };
    let mut resolve = None;
    let mut slot = AssertUnwindSafe(&mut resolve);
    let promise = Promise::new(&mut move |res, _rej| **slot = Some(res));
    // Never dropped on another thread (faults.rs); the operation itself is.
    let resolve = faults::HomeOnly::new(resolve.expect("the Promise executor runs synchronously"));
    shared.go_local(async move {
        let m = fut.await;
        // A resolve function cannot throw.
        let _ = resolve.call1(&JsValue::UNDEFINED, &JsValue::from(m));
    });
    sched::unpark_current_m();
    Ok(promise)
}
