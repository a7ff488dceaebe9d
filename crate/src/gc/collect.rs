//! Collections: requests, the stop-the-world protocol at scheduler safepoints, pacing,
//! statistics and the gctrace line.
//!
//! # Requests
//! A collection is requested by allocation (the heap reached its goal, `heap.rs`) or forced
//! (`gc::collect`, `gc::alloc_root` at the limit). `request` sets `requested` and, if it was
//! not already set, unparks every M: a parked M checks the flag as soon as it wakes, before
//! anything else, and a Worker M waiting in `Atomics.waitAsync` re-enters the scheduler, which
//! checks it too. The flag is checked before every poll (`safepoint`), so each M joins when
//! its current poll returns; a long poll delays the pause, and the pause measured includes that
//! wait (it starts when the first M stops).
//!
//! # The stopped world
//! 1. **Stop.** Each M increments `arrived`. The last to arrive bumps the `wake` event count and
//!    wakes the others, who wait on it with a futex (never on the page's main thread, which is
//!    never an M). If the runtime shuts down before everyone arrived, a waiting M withdraws
//!    (a CAS that only succeeds while `arrived < procs`) and the collection never starts.
//! 2. **Finish the sweep.** Each M flushes its P's cache to the central lists and sweeps
//!    unswept spans until none is left, in parallel. A spin barrier (`swept`) separates this
//!    from marking: marking must not set bits in a span not yet swept. Before it, M 0 also
//!    empties the buffers of unreachable JS channels (`js/cycles.rs`), so that the messages
//!    it drops are not marked through their roots.
//! 3. **Mark.** Each M marks its own P's roots (M 0 also the pinned values) and drains, stealing
//!    from the others (`mark.rs`).
//! 4. **Terminate.** The last M out of marking (`finished`) flips the sweep generation, sets
//!    the live heap and the next goal, records the pause, prints the gctrace line, resets the
//!    protocol's counters and finally bumps `cycles`, which releases the others (futex) and
//!    wakes the goroutines waiting in `gc::collect`.
//!
//! Every step's hand-off is an AcqRel read-modify-write or a Release store observed by an
//! Acquire load, so everything an M did in one step (mark bits, span lists, counters) is
//! visible to every M in the next. `requested` is cleared before `arrived` is reset and
//! `cycles` bumped: an M released from step 4 sees either no request or a new one.
//!
//! # Pacing (Go's GOGC and memory limit)
//! The goal after a collection is `live * (1 + gc_percent / 100)`, at least 4 MiB; with a
//! heap limit it is also capped at 15/16 of the limit (but never below `live * 9/8`, so that
//! a live heap close to the limit does not collect on every span).

use super::heap::{Heap, MIN_HEAP_GOAL};
use super::mark::Tracer;
use super::GcStats;
use crate::platform::{futex_wait, futex_wake_all, now_ns};
use crate::sched::idle::Idle;
use crate::sched::lock::Lock;
use crate::sched::Shared;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64};
use std::task::{Context, Poll, Waker};

/// Pauses kept for `GcStats::pause_ns` (Go's `PauseNs`).
const PAUSE_HISTORY: usize = 256;

#[derive(Default)]
struct History {
    forced: u32,
    pause_total_ns: u64,
    pauses: VecDeque<u64>,
    last_gc_unix_ns: u64,
}

pub(crate) struct Collector {
    requested: AtomicBool,
    forced: AtomicBool,
    arrived: AtomicU32,
    /// Event count for Ms waiting in step 1: bumped when everyone arrived and at shutdown.
    wake: AtomicU32,
    swept: AtomicU32,
    finished: AtomicU32,
    /// Completed collections (Go's `NumGC`); Ms waiting in step 4 wait on it.
    cycles: AtomicU32,
    stop_start: AtomicU64,
    mark_start: AtomicU64,
    heap_before: AtomicU64,
    marked_bytes: AtomicU64,
    mark_cpu_ns: AtomicU64,
    history: Lock<History>,
    /// Goroutines waiting in `gc::collect` for the next cycle to end.
    waiters: Lock<Vec<Waker>>,
    created_ns: u64,
}

impl Collector {
    pub(crate) fn new() -> Self {
        Collector {
            requested: AtomicBool::new(false),
            forced: AtomicBool::new(false),
            arrived: AtomicU32::new(0),
            wake: AtomicU32::new(0),
            swept: AtomicU32::new(0),
            finished: AtomicU32::new(0),
            cycles: AtomicU32::new(0),
            stop_start: AtomicU64::new(0),
            mark_start: AtomicU64::new(0),
            heap_before: AtomicU64::new(0),
            marked_bytes: AtomicU64::new(0),
            mark_cpu_ns: AtomicU64::new(0),
            history: Lock::default(),
            waiters: Lock::default(),
            created_ns: now_ns(),
        }
    }
}

impl Heap {
    /// Whether a collection is requested or running (deadlock detection stays quiet then).
    pub(crate) fn collecting(&self) -> bool {
        self.collector.requested.load(Acquire)
    }

    /// Asks every M to stop at its next safepoint for a collection.
    pub(crate) fn request(&self, idle: &Idle, forced: bool) {
        let c = &self.collector;
        if forced {
            c.forced.store(true, Relaxed);
        }
        if !c.requested.swap(true, AcqRel) {
            idle.unpark_all();
        }
    }

    /// The runtime is shutting down: Ms waiting for a collection to start withdraw.
    /// Lock-free (the page's main thread may call it).
    pub(crate) fn wake_for_shutdown(&self) {
        self.collector.wake.fetch_add(1, Release);
        futex_wake_all(&self.collector.wake);
    }

    /// Completed collections.
    pub(crate) fn cycles(&self) -> u32 {
        self.collector.cycles.load(Acquire)
    }

    /// The heap goal for a live heap of `live` bytes (module header, "Pacing").
    pub(crate) fn goal(&self, live: u64) -> u64 {
        let by_percent = match u64::try_from(self.config.gc_percent) {
            Ok(pct) => (live + live * pct / 100).max(MIN_HEAP_GOAL),
            Err(_) => u64::MAX,
        };
        let by_limit = match self.config.heap_limit {
            usize::MAX => u64::MAX,
            limit => (limit as u64 - limit as u64 / 16).max(live + live / 8),
        };
        by_percent.min(by_limit)
    }
}

/// Called by M `m` before every poll and whenever it looks for work: joins a requested
/// collection.
#[inline]
pub(crate) fn safepoint(shared: &Shared, m: usize) {
    if shared.heap.collector.requested.load(Relaxed) {
        stop(shared, m);
    }
}

#[cold]
fn stop(shared: &Shared, m: usize) {
    let heap = &shared.heap;
    let c = &heap.collector;
    let procs = heap.procs as u32;
    let cycle = c.cycles.load(Acquire);

    // 1. Stop.
    let n = c.arrived.fetch_add(1, AcqRel) + 1;
    if n == 1 {
        c.stop_start.store(now_ns(), Relaxed);
    }
    if n == procs {
        c.wake.fetch_add(1, Release);
        futex_wake_all(&c.wake);
    } else if !wait_for_everyone(c, procs, &shared.shutdown) {
        return;
    }

    // 2. Finish the sweep.
    shared.procs[m].gc.flush(heap);
    while heap.sweep_one().is_some() {}
    if m == 0 {
        // Before anyone marks: the roots of the messages it drops must not be marked.
        #[cfg(target_arch = "wasm32")]
        crate::js::collect_cycles();
    }
    if c.swept.fetch_add(1, AcqRel) + 1 == procs {
        c.heap_before.store(heap.heap_live.load(Relaxed), Relaxed);
        c.mark_start.store(now_ns(), Relaxed);
    }
    spin_until(|| c.swept.load(Acquire) == procs);

    // 3. Mark.
    let t0 = now_ns();
    let mut tracer = Tracer::new(heap);
    heap.roots.mark_p(m, &mut tracer);
    if m == 0 {
        heap.roots.mark_extra(&mut tracer);
    }
    tracer.drain(procs);
    c.marked_bytes.fetch_add(tracer.marked_bytes, Relaxed);
    c.mark_cpu_ns.fetch_add(now_ns() - t0, Relaxed);
    drop(tracer);

    // 4. Terminate.
    if c.finished.fetch_add(1, AcqRel) + 1 == procs {
        terminate(shared);
    } else {
        while c.cycles.load(Acquire) == cycle {
            futex_wait(&c.cycles, cycle, None);
        }
    }
}

/// Waits until every M arrived (true) or withdraws because the runtime shuts down (false).
fn wait_for_everyone(c: &Collector, procs: u32, shutdown: &AtomicBool) -> bool {
    loop {
        let seen = c.wake.load(Acquire);
        let n = c.arrived.load(Acquire);
        if n == procs {
            return true;
        }
        if shutdown.load(Acquire) {
            if c.arrived.compare_exchange(n, n - 1, AcqRel, Acquire).is_ok() {
                return false;
            }
            continue;
        }
        futex_wait(&c.wake, seen, None);
    }
}

fn spin_until(cond: impl Fn() -> bool) {
    let mut spins = 0u32;
    while !cond() {
        spins = spins.saturating_add(1);
        if spins < 1024 {
            std::hint::spin_loop();
        } else {
            std::thread::yield_now();
        }
    }
}

fn terminate(shared: &Shared) {
    let heap = &shared.heap;
    let c = &heap.collector;
    let mark_end = now_ns();
    heap.flip_sweep();
    let live = c.marked_bytes.swap(0, Relaxed);
    heap.heap_live.store(live, Relaxed);
    let goal = heap.goal(live);
    heap.next_gc.store(goal, Relaxed);
    heap.mark.reset();
    let forced = c.forced.swap(false, Relaxed);

    let end = now_ns();
    let stop_start = c.stop_start.load(Relaxed);
    let mark_start = c.mark_start.load(Relaxed);
    let pause = end - stop_start;
    let pause_total_ns = {
        let mut h = c.history.lock();
        h.forced += u32::from(forced);
        h.pause_total_ns += pause;
        if h.pauses.len() == PAUSE_HISTORY {
            h.pauses.pop_front();
        }
        h.pauses.push_back(pause);
        h.last_gc_unix_ns = unix_ns();
        h.pause_total_ns
    };
    let mark_cpu = c.mark_cpu_ns.swap(0, Relaxed);
    if heap.config.trace {
        let procs = heap.procs as f64;
        let ms = |ns: u64| ns as f64 / 1e6;
        let (stop_ms, mark_ms, term_ms) =
            (ms(mark_start - stop_start), ms(mark_end - mark_start), ms(end - mark_end));
        let since = end - c.created_ns;
        let mb = |b: u64| b >> 20;
        let before = c.heap_before.load(Relaxed);
        emit(&format!(
            "gc {} @{:.3}s {}%: {:.3}+{:.3}+{:.3} ms clock, {:.3}+0/{:.3}/0+{:.3} ms cpu, {}->{}->{} MB, {} MB goal, {} P{}",
            c.cycles.load(Relaxed) + 1,
            since as f64 / 1e9,
            (pause_total_ns * 100).checked_div(since).unwrap_or(0),
            stop_ms,
            mark_ms,
            term_ms,
            stop_ms * procs,
            ms(mark_cpu),
            term_ms * procs,
            mb(before),
            mb(before),
            mb(live),
            mb(goal),
            heap.procs,
            if forced { " (forced)" } else { "" },
        ));
    }

    let waiters = std::mem::take(&mut *c.waiters.lock());
    c.swept.store(0, Relaxed);
    c.finished.store(0, Relaxed);
    c.requested.store(false, Release);
    c.arrived.store(0, Release);
    c.cycles.fetch_add(1, Release);
    futex_wake_all(&c.cycles);
    waiters.into_iter().for_each(Waker::wake);
}

#[cfg(not(target_arch = "wasm32"))]
fn emit(line: &str) {
    eprintln!("{line}");
}

#[cfg(target_arch = "wasm32")]
fn emit(line: &str) {
    #[wasm_bindgen::prelude::wasm_bindgen]
    extern "C" {
        #[wasm_bindgen(js_namespace = console)]
        fn log(s: &str);
    }
    log(line);
}

#[cfg(not(target_arch = "wasm32"))]
fn unix_ns() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64)
}

#[cfg(target_arch = "wasm32")]
fn unix_ns() -> u64 {
    (crate::platform::now_unix_ms() * 1e6) as u64
}

/// The statistics of `shared`'s heap.
pub(crate) fn stats_of(shared: &Shared) -> GcStats {
    let heap = &shared.heap;
    let c = &heap.collector;
    let (small_mallocs, small_bytes) = shared
        .procs
        .iter()
        .fold((0, 0), |(n, b), p| (n + p.gc.mallocs.load(Relaxed), b + p.gc.alloc_bytes.load(Relaxed)));
    let mallocs = small_mallocs + heap.large_mallocs.load(Relaxed);
    let total_alloc = small_bytes + heap.large_bytes.load(Relaxed);
    let frees = heap.frees.load(Relaxed);
    let freed_bytes = heap.freed_bytes.load(Relaxed);
    let h = c.history.lock();
    let elapsed = now_ns().saturating_sub(c.created_ns).max(1);
    GcStats {
        heap_alloc: total_alloc.saturating_sub(freed_bytes),
        heap_sys: heap.sys_bytes() as u64,
        heap_inuse: heap.in_use.load(Relaxed) as u64,
        heap_objects: mallocs.saturating_sub(frees),
        total_alloc,
        mallocs,
        frees,
        num_gc: heap.cycles(),
        num_forced_gc: h.forced,
        pause_total_ns: h.pause_total_ns,
        pause_ns: h.pauses.iter().copied().collect(),
        last_gc_unix_ns: h.last_gc_unix_ns,
        next_gc: heap.next_gc.load(Relaxed),
        gc_cpu_fraction: h.pause_total_ns as f64 / elapsed as f64,
        heap_limit: heap.config.heap_limit as u64,
        gc_percent: heap.config.gc_percent,
    }
}

/// The future of [`collect`](super::collect).
#[must_use = "a collection happens only when this future is awaited"]
pub struct Collect {
    /// The cycle count to wait for, once requested.
    want: Option<u32>,
}

impl Collect {
    pub(crate) fn new() -> Self {
        Collect { want: None }
    }
}

impl Future for Collect {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let done = crate::sched::current_m(|shared, _| {
            let heap = &shared.heap;
            // No collection runs during a poll, so the next cycle to end starts after this call.
            let want = *self.want.get_or_insert_with(|| heap.cycles() + 1);
            if heap.cycles().wrapping_sub(want) < u32::MAX / 2 {
                // Like Go's runtime.GC, finish the sweep too: the statistics (and every dead
                // object's Drop) are up to date when the collection returns.
                while heap.sweep_one().is_some() {}
                return true;
            }
            heap.collector.waiters.lock().push(cx.waker().clone());
            heap.request(&shared.idle, true);
            false
        })
        .expect("gort::gc::collect awaited outside a goroutine");
        if done {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}
