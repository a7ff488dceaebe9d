//! Threads on the web: a pool of module Workers ("hosts") that instantiated this wasm module
//! over its shared memory and run the closures handed to them, one at a time.
//!
//! A closure goes into the pool's queue; an idle host takes it, runs it and waits for the next.
//! A host blocks in `wait32` while idle, so it runs a closure with no event-loop turn of its
//! own nor of the thread that queued it. When no host is free, `spawn` starts one more Worker
//! (`spawn_web.js`); that Worker only starts once the spawning thread returns to its event loop
//! (Chromium creates a nested Worker through its parent's thread), so a thread that blocks right
//! after spawning must have `prestart`ed enough hosts before.
//!
//! Hosts are never retired: one whose closure returned waits for the next (the Ms of a later
//! runtime, say), keeping the thread-locals the last closure left (an M clears the scheduler's
//! when it exits).
//!
//! Invariants:
//! - `busy` counts closures queued or running; `hosts` counts Workers created (started or
//!   starting); `spawn` keeps `hosts >= busy`, so every queued closure has a host coming.
//! - `queued` changes on every push, after the push: a host that saw the queue empty and then
//!   waits on the value it read before looking cannot miss a closure.
//! - The queue is only touched under `lock`, a spin lock held for a push or a pop only (never
//!   across a call out), since the page's main thread may push and must never block.
//! - A closure's result is written once, before its packet's `done` is set (Release); `join`
//!   reads it only after seeing `done` (Acquire).

use super::{futex_wait, futex_wake_all, futex_wake_one};
use std::cell::UnsafeCell;
use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};
use std::sync::atomic::{AtomicBool, AtomicU32};
use std::sync::Arc;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/src/platform/spawn_web.js")]
extern "C" {
    /// Creates a host Worker, which instantiates `module` over `memory` and calls
    /// `gortThreadHost`.
    #[wasm_bindgen(js_name = startHost)]
    fn start_host(module: JsValue, memory: JsValue);
    /// A promise resolved once the i32 at byte `address` of `memory` is at least `target`,
    /// rejected if a host Worker this thread created failed to start.
    #[wasm_bindgen(js_name = waitAtLeast)]
    fn wait_at_least(memory: JsValue, address: u32, target: u32) -> js_sys::Promise;
}

type Job = Box<dyn FnOnce() + Send>;

struct Pool {
    lock: AtomicBool,
    jobs: UnsafeCell<VecDeque<Job>>,
    /// Futex word idle hosts wait on: bumped after every push.
    queued: AtomicU32,
    /// Closures queued or running.
    busy: AtomicU32,
    /// Host Workers created.
    hosts: AtomicU32,
    /// Host Workers that have started and entered their loop.
    ready: AtomicU32,
}

// SAFETY: `jobs` is only accessed with `lock` held (see `with_jobs`), and the jobs are `Send`.
unsafe impl Sync for Pool {}

static POOL: Pool = Pool {
    lock: AtomicBool::new(false),
    jobs: UnsafeCell::new(VecDeque::new()),
    queued: AtomicU32::new(0),
    busy: AtomicU32::new(0),
    hosts: AtomicU32::new(0),
    ready: AtomicU32::new(0),
};

impl Pool {
    fn with_jobs<R>(&self, f: impl FnOnce(&mut VecDeque<Job>) -> R) -> R {
        while self.lock.compare_exchange_weak(false, true, Acquire, Relaxed).is_err() {
            std::hint::spin_loop();
        }
        // SAFETY: the lock is held, so this is the only reference to the queue until released.
        let r = f(unsafe { &mut *self.jobs.get() });
        self.lock.store(false, Release);
        r
    }

    /// Creates Workers until there are at least `n` hosts.
    fn grow_to(&self, n: u32) {
        let mut h = self.hosts.load(Acquire);
        while h < n {
            match self.hosts.compare_exchange(h, h + 1, AcqRel, Acquire) {
                Ok(_) => {
                    start_host(wasm_bindgen::module(), wasm_bindgen::memory());
                    h += 1;
                }
                Err(now) => h = now,
            }
        }
    }
}

/// The result slot of one closure, shared by its host and its `JoinHandle`.
struct Packet<T> {
    done: AtomicU32,
    result: UnsafeCell<Option<std::thread::Result<T>>>,
}

// SAFETY: `result` is written once by the host before `done` is released, and read only by the
// single `JoinHandle` after it acquired `done` (the module header's last invariant).
unsafe impl<T: Send> Sync for Packet<T> {}

/// Joins a closure running on a host Worker.
pub(crate) struct JoinHandle<T> {
    packet: Arc<Packet<T>>,
}

impl<T> JoinHandle<T> {
    pub(crate) fn join(self) -> std::thread::Result<T> {
        while self.packet.done.load(Acquire) == 0 {
            futex_wait(&self.packet.done, 0, None);
        }
        // SAFETY: `done` is set, so the host wrote the result and no longer touches it; this
        // handle is the only reader and is consumed here.
        unsafe { (*self.packet.result.get()).take() }.expect("a thread's result is taken once")
    }

    pub(crate) fn is_finished(&self) -> bool {
        self.packet.done.load(Acquire) != 0
    }
}

/// Runs `f` on a host Worker (a new one if none is free).
pub(crate) fn spawn<F, T>(f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let packet = Arc::new(Packet { done: AtomicU32::new(0), result: UnsafeCell::new(None) });
    let p = packet.clone();
    let job: Job = Box::new(move || {
        let r = catch_unwind(AssertUnwindSafe(f));
        // SAFETY: only this job writes the result, once, before releasing `done`.
        unsafe { *p.result.get() = Some(r) };
        p.done.store(1, Release);
        futex_wake_all(&p.done);
    });
    let busy = POOL.busy.fetch_add(1, AcqRel) + 1;
    POOL.with_jobs(|q| q.push_back(job));
    POOL.queued.fetch_add(1, Release);
    futex_wake_one(&POOL.queued);
    POOL.grow_to(busy);
    JoinHandle { packet }
}

/// Resolves once `n` more hosts than closures in flight have started (see `thread::prestart`).
pub(crate) async fn prestart(n: usize) {
    let target = POOL.busy.load(Acquire) + n as u32;
    POOL.grow_to(target);
    let ready = wait_at_least(wasm_bindgen::memory(), POOL.ready.as_ptr() as u32, target);
    if let Err(e) = wasm_bindgen_futures::JsFuture::from(ready).await {
        let why =
            e.dyn_ref::<js_sys::Error>().map_or_else(|| format!("{e:?}"), |e| String::from(e.message()));
        panic!("{why}");
    }
}

/// A host Worker's loop (called by `spawn_web.js` once the Worker instantiated the module):
/// runs queued closures, one at a time, forever. Every closure on a host (an M's, say) has its
/// panics printed to the console.
#[wasm_bindgen(js_name = gortThreadHost)]
pub fn thread_host() {
    super::install_panic_hook();
    POOL.ready.fetch_add(1, Release);
    futex_wake_all(&POOL.ready);
    loop {
        let seen = POOL.queued.load(Acquire);
        match POOL.with_jobs(VecDeque::pop_front) {
            Some(job) => {
                job();
                POOL.busy.fetch_sub(1, Release);
            }
            None => futex_wait(&POOL.queued, seen, None),
        }
    }
}
