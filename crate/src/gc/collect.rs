//! Collections: requests, the two stop-the-world pauses at scheduler safepoints and the
//! concurrent marking between them, pacing, statistics and the gctrace line.
//!
//! # Requests
//! A collection is requested by allocation (the heap reached its goal, `heap.rs`) or forced
//! (`gc::collect`, `gc::alloc_root` at the limit), always on an M, which joins it at its next
//! safepoint. The flag is checked before every poll (`safepoint`), so each running M joins
//! when its current poll returns; a long poll delays the pause, and the pause measured
//! includes that wait: it starts when the first M that has a goroutine to run stops (Go's
//! starts when the world starts stopping, and its requester stops at once, in `mallocgc`).
//! An M that stops while looking for work, with none in its queues, delays no goroutine, so
//! its wait for the others is not pause (a pause that only such Ms saw starts when the last
//! M arrives). Parked Ms are not woken: their Ps are claimed (`sched/world.rs`). The scheduler
//! stops the world too, to change the number of Ps (`sched/procresize.rs`): the M that
//! completes a stop applies that first (`Shared::resize_stopped`), and a stop that only the
//! scheduler asked for, outside marking, starts no cycle (`cycle_wanted`).
//!
//! An M with goroutines to run does not stop first to wait for another M's poll: it
//! acknowledges the request and runs on until every other running M has acknowledged it too
//! (at its own safepoint or checkpoint), then stops at its next one (`runs_on`;
//! `sched/world.rs`, "Running on past a request"). On a loaded machine an M's thread is often
//! descheduled for a scheduler tick (4 ms here) in the middle of a poll; an M that stopped
//! first would wait that long, its goroutines with it. Running on is bounded (`RUN_ON_NS`), after which the M stops
//! and waits as Go's do, so that a poll without checkpoints does not let the heap grow past
//! its trigger unchecked.
//!
//! # A cycle (Go's mgc.go: sweep termination, concurrent mark, mark termination)
//! 1. **First pause.** Each running M arrives (`World::arrive`), claiming the Ps of parked
//!    Ms on the way and handing over its own; the one that completes the count is the
//!    *collector*, and does the pause alone for every P, while the others wait for their P
//!    (`sched/world.rs` says why one M: waking the others is what made pauses long). It finishes
//!    the sweep (marking must not set bits in a span not yet swept), empties the buffers of
//!    unreachable JS channels (`js/cycles.rs`, before any marking, so that the messages it
//!    drops are not marked through their roots), and shades every P's roots and the pinned
//!    values into the mark pool: the snapshot. It makes every P's cached spans allocate black
//!    from there on (`Cache::start_mark`), sets `marking` and restarts the world.
//! 2. **Concurrent mark.** Goroutines run. Marking is snapshot-at-the-beginning: every
//!    object reachable when the world restarted is marked before the cycle ends, because
//!    * every write that can drop a `Gc` from a heap object goes through `GcCell` (`borrow`,
//!      `set`), whose barrier shades the cell's current contents first (Yuasa's deletion
//!      barrier; `cache.rs`), so a path from the snapshot is never cut before it is traced;
//!    * objects allocated meanwhile are allocated black (their spans count them as marked,
//!      `span.rs`, at no cost to the allocation), so they need no scan: their `Gc`s come
//!      from the running poll, hence point at objects of the snapshot or allocated black too;
//!    * a goroutine holds no `Gc` across a safepoint (rooting rules), and roots created
//!      meanwhile point at such objects, so no root needs rescanning.
//!
//!    Each M marks at its safepoints (`assist`: its barrier buffer first, then objects from the
//!    pool: a minimum, or what its P owes for the bytes it allocated black, by Go's assist
//!    ratio, the scan work left over the heap growth left before the goal, so that marking ends
//!    by the goal however fast goroutines allocate), idle Ms at full speed; an assist stops
//!    early, and its M joins the pause, once one is requested, and wakes an idle M when it
//!    leaves work in the pool.
//!    Nothing is swept meanwhile, so no span is freed under a marker. Once an M finds no work
//!    left while no other M is marking (`MarkEnd::done`), the next M about to poll requests the
//!    second pause and joins it; an M looking for work requests it only when no other M is in a
//!    poll (it would otherwise stop first and wait, the pause running, for those polls to end),
//!    and meanwhile keeps looking. An idle M parks as soon as it has no marking work to take
//!    while another M polls or marks (`Heap::idle`, the scheduler hook), so that the pauses claim its P instead
//!    of waiting for it to be scheduled. Whether an M is in a poll is a per-P flag, set at its
//!    safepoint before a poll and cleared at the next one, while marking (`markend.rs` says why
//!    some M always requests the termination).
//! 3. **Termination pause.** The world stops again; the collector takes every P's barrier
//!    buffer, drains the pool (`mark.rs`; concurrent marking left it nearly empty) and
//!    flushes every P's cache to the central lists. It clears `marking`, flips the
//!    sweep generation, sets the live heap and the next goal (from the bytes marked from the
//!    snapshot: objects allocated black are not counted, most of them die young, and counting
//!    them would let the heap outgrow GOGC's bound by what was allocated while marking),
//!    records the pause (both pauses' sum, as Go's `PauseNs`), prints the gctrace line,
//!    counts the cycle, restarts the world (`World::restart`) and wakes the goroutines waiting
//!    in `gc::collect`.
//!
//! `marking` changes only while the world is stopped, so every M sees the same value from one
//! pause to the next (`World`'s hand-offs order it). Every step's hand-off is an AcqRel
//! read-modify-write or a Release store observed by an Acquire load, so everything an M did in
//! one step (mark bits, span lists, counters) is visible to every M in the next.
//!
//! # Pacing (Go's GOGC and memory limit)
//! The goal after a collection is `live * (1 + gc_percent / 100)`, at least 4 MiB; with a
//! heap limit it is also capped at 15/16 of the limit (but never below `live * 9/8`, so that
//! a live heap close to the limit does not collect on every span).

use super::cache::Cache;
use super::heap::{Heap, MIN_HEAP_GOAL};
use super::mark::Tracer;
use super::markend::MarkEnd;
use super::GcStats;
use crate::platform::lock::Lock;
use crate::platform::now_ns;
use crate::platform::shim::Arc;
use crate::sched::world::World;
use crate::sched::Shared;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed};
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
    pub(crate) world: Arc<World>,
    forced: AtomicBool,
    /// A cycle was requested (`Heap::request`): a stop of the world while not marking starts
    /// one only then, not when only the scheduler asked for it (a change of the number of
    /// Ps, `sched/procresize.rs`).
    cycle_wanted: AtomicBool,
    /// Between a cycle's two pauses (module header).
    marking: AtomicBool,
    /// Who ends marking (`markend.rs`).
    pub(crate) end: MarkEnd,
    /// Completed collections (Go's `NumGC`).
    completed: AtomicU32,
    /// When the first M stopped for the current pause (`u64::MAX` between pauses).
    stop_start: AtomicU64,
    /// Per P, written by its holder: since when its M runs on past the pending request
    /// (`runs_on`).
    running_on_since: Box<[AtomicU64]>,
    /// The current cycle's first pause.
    first_pause_ns: AtomicU64,
    mark_start: AtomicU64,
    heap_before: AtomicU64,
    marked_bytes: AtomicU64,
    /// Objects scanned in this cycle, and in the last one: the work the assists pace
    /// (`assist_objects`).
    scanned: AtomicU64,
    last_scanned: AtomicU64,
    mark_cpu_ns: AtomicU64,
    /// Time Ms spent marking while the world ran (assists and idle marking), ever.
    concurrent_mark_ns: AtomicU64,
    history: Lock<History>,
    /// Goroutines waiting in `gc::collect` for the next cycle to end.
    waiters: Lock<Vec<Waker>>,
    created_ns: u64,
}

impl Collector {
    pub(crate) fn new(world: Arc<World>) -> Self {
        let procs = world.procs();
        Collector {
            world,
            forced: AtomicBool::new(false),
            cycle_wanted: AtomicBool::new(false),
            marking: AtomicBool::new(false),
            end: MarkEnd::new(procs),
            completed: AtomicU32::new(0),
            stop_start: AtomicU64::new(u64::MAX),
            running_on_since: (0..procs).map(|_| AtomicU64::new(0)).collect(),
            first_pause_ns: AtomicU64::new(0),
            mark_start: AtomicU64::new(0),
            heap_before: AtomicU64::new(0),
            marked_bytes: AtomicU64::new(0),
            scanned: AtomicU64::new(0),
            last_scanned: AtomicU64::new(0),
            mark_cpu_ns: AtomicU64::new(0),
            concurrent_mark_ns: AtomicU64::new(0),
            history: Lock::default(),
            waiters: Lock::default(),
            created_ns: now_ns(),
        }
    }

    /// Whether marking runs concurrently (between the cycle's two pauses).
    #[inline]
    pub(crate) fn marking(&self) -> bool {
        self.marking.load(Relaxed)
    }

    /// Bytes marked (by markers and the write barrier) in this cycle.
    pub(crate) fn add_marked(&self, bytes: u64) {
        self.marked_bytes.fetch_add(bytes, Relaxed);
    }

    /// A marker's progress: what `tracer` marked and scanned.
    fn add_progress(&self, tracer: &Tracer) {
        self.add_marked(tracer.marked_bytes);
        self.scanned.fetch_add(tracer.scanned, Relaxed);
    }
}

impl Heap {
    /// Whether a collection is requested or running (deadlock detection stays quiet then).
    pub(crate) fn collecting(&self) -> bool {
        self.collector.world.requested() || self.collector.marking()
    }

    /// Asks every running M to stop at its next safepoint for a collection. Called on an M,
    /// which joins it at its own next safepoint. While a cycle marks, a forced request ends
    /// its marking at once (the caller then waits for the next cycle); the pacer's is dropped.
    pub(crate) fn request(&self, forced: bool) {
        let c = &self.collector;
        if c.marking() {
            if forced {
                c.world.request();
            }
            return;
        }
        if forced {
            c.forced.store(true, Relaxed);
        }
        c.cycle_wanted.store(true, Relaxed);
        c.world.request();
    }

    /// Completed collections.
    pub(crate) fn cycles(&self) -> u32 {
        self.collector.completed.load(Acquire)
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

/// Objects an M scans at each safepoint while marking runs concurrently, at least, and more
/// if its P owes more (`assist_objects`).
const ASSIST_BUDGET: usize = 4096;

/// Objects a P owes for the `debt` bytes it allocated black since its last assist (Go's
/// assist ratio): the scan work left over the heap growth left before the goal, so that
/// marking ends by the goal however fast goroutines allocate. The work left is estimated
/// from what the last cycle scanned (`expected`), at least a tenth of it, as this cycle may
/// scan more; past the goal, the ratio aims at a tenth beyond it (Go's hard goal), and past
/// that at paying the rest within `MIN_RUNWAY` bytes. With no cycle to learn from
/// (`expected == 0`), one object per 8 bytes: objects of 16 to 32 bytes, scanned about as
/// fast as they are allocated.
pub(crate) fn assist_objects(debt: u64, expected: u64, scanned: u64, live: u64, goal: u64) -> usize {
    /// The heap growth over which an assist past the hard goal pays the rest of the work.
    const MIN_RUNWAY: u64 = 64 << 10;
    if expected == 0 {
        return (debt / 8) as usize;
    }
    let left = expected.saturating_sub(scanned).max(expected / 10);
    let goal = if live < goal { goal } else { goal + goal / 10 };
    let runway = goal.saturating_sub(live).max(MIN_RUNWAY);
    (u128::from(debt) * u128::from(left) / u128::from(runway)).try_into().unwrap_or(usize::MAX)
}

/// Called by M `m` before every poll (`polling`): joins a requested pause, or takes its share
/// of concurrent marking, or (marking done) requests the termination pause and joins it.
/// Also called whenever it looks for work (so also as it wakes), where, once marking is done,
/// it requests the termination pause only if no other M is in a poll: an M looking for work
/// does not stop the world (and start the pause clock) while another M's poll runs on; that M
/// requests it at its next safepoint, where it stops at once.
#[inline]
pub(crate) fn safepoint(heap: &Heap, shared: &Shared, m: usize, polling: bool) {
    let c = &heap.collector;
    if c.world.requested() {
        join_or_run_on(heap, shared, m, polling);
    } else if c.marking() {
        // Before looking at whether marking is done (`markend.rs`).
        c.end.publish(m, polling);
        if mark_step(heap, shared, m, polling) {
            join_or_run_on(heap, shared, m, polling);
        }
    }
    c.end.publish(m, polling && c.marking());
}

/// How long an M with goroutines to run may run on past a requested pause while another M
/// has not acknowledged it (`World::may_run_on`), before it stops and waits, as Go's Ms do:
/// it bounds how far the heap grows past its trigger meanwhile. Longer than a scheduler tick
/// (4 ms), the time a descheduled M typically waits for its core back (2 ms timed out half
/// the time in Chromium's cold rounds).
const RUN_ON_NS: u64 = 6_000_000;

/// M `m`, at a safepoint with a pause requested: joins it, unless it may run on for now.
#[cold]
fn join_or_run_on(heap: &Heap, shared: &Shared, m: usize, polling: bool) {
    let delays_goroutines = polling || shared.procs[m].has_work();
    if !runs_on(heap, m, delays_goroutines) {
        stop(heap, shared, m, delays_goroutines);
    }
}

/// Whether M `m`, with a pause requested, runs its goroutines on for now instead of stopping
/// (`sched/world.rs`, "Running on past a request"): only if its stop would delay goroutines
/// (`delays_goroutines`), another M has yet to acknowledge the request, and `m` has not run
/// on past it for `RUN_ON_NS` already. An M that would stop first and wait for the others'
/// polls lets its goroutines run meanwhile; the pause starts when the last of them stops.
fn runs_on(heap: &Heap, m: usize, delays_goroutines: bool) -> bool {
    let c = &heap.collector;
    if !delays_goroutines {
        return false;
    }
    let Some(first) = c.world.may_run_on(m) else {
        return false;
    };
    let since = &c.running_on_since[m];
    let now = now_ns();
    if first {
        since.store(now, Relaxed);
        return true;
    }
    now.saturating_sub(since.load(Relaxed)) <= RUN_ON_NS
}

/// `gc::checkpoint` in a poll on M `m`: whether the goroutine must yield, so that its M does
/// its share of marking at its safepoint while marking runs, or joins a requested pause there
/// (unless it runs on for now, `runs_on`).
pub(crate) fn checkpoint_step(heap: &Heap, m: usize) -> bool {
    let c = &heap.collector;
    if c.world.requested() {
        return !runs_on(heap, m, true);
    }
    c.marking()
}

/// Marking at a safepoint; once marking is done, requests the termination pause when this M
/// must (`markend.rs`). True if a pause is requested: the M joins it (or runs on for now,
/// `runs_on`).
#[cold]
fn mark_step(heap: &Heap, shared: &Shared, m: usize, polling: bool) -> bool {
    let c = &heap.collector;
    if !c.end.done() {
        if assist(heap, shared, m) {
            c.end.set_done();
        } else if c.world.requested() {
            // The assist stopped early for a requested pause: join it now.
            return true;
        } else if !c.end.done() {
            return false;
        }
    }
    if c.end.must_request(m, polling) {
        c.world.request();
        return true;
    }
    false
}

/// Concurrent marking at a safepoint (step 2): this P's barrier buffer, then a bounded number
/// of objects from the pool. True when no work is left anywhere.
#[cold]
fn assist(heap: &Heap, shared: &Shared, m: usize) -> bool {
    let c = &heap.collector;
    let t0 = now_ns();
    let cache = &heap.caches[m];
    let debt = cache.assist_debt();
    let (expected, scanned) = (c.last_scanned.load(Relaxed), c.scanned.load(Relaxed));
    let (live, goal) = (heap.heap_live.load(Relaxed), heap.next_gc.load(Relaxed));
    let budget = ASSIST_BUDGET.max(assist_objects(debt, expected, scanned, live, goal));
    let mut tracer = Tracer::with_stack(heap, cache.take_grey());
    let finished = tracer.drain_some(budget, || c.world.requested());
    c.add_progress(&tracer);
    if heap.mark.has_batches() {
        // Work for an idle M (idle Ms park while the pool is empty, `Heap::idle`).
        shared.idle.wake_one();
    }
    let spent = now_ns() - t0;
    c.mark_cpu_ns.fetch_add(spent, Relaxed);
    c.concurrent_mark_ns.fetch_add(spent, Relaxed);
    finished
}

/// M `m` joins the requested pause; `delays_goroutines`: whether it has goroutines to run.
#[cold]
fn stop(heap: &Heap, shared: &Shared, m: usize, delays_goroutines: bool) {
    let c = &heap.collector;
    let stopped = now_ns();
    // Before this M is counted, so that the collector sees it (module header, "Requests").
    if delays_goroutines {
        c.stop_start.fetch_min(stopped, Relaxed);
    }
    if !c.world.arrive(m) {
        return; // The collection ran without this M (`sched/world.rs`).
    }
    // The scheduler's own work with the world stopped: a change of the number of Ps.
    shared.resize_stopped();
    if !delays_goroutines {
        // The world is stopped from the collector's arrival at the latest.
        c.stop_start.fetch_min(stopped, Relaxed);
    }
    if c.marking() {
        terminate_marking(heap, m);
    } else if c.cycle_wanted.swap(false, Relaxed) {
        start_marking(heap, shared, m);
    } else {
        // Only the scheduler asked: no cycle, and no pause to count.
        c.stop_start.store(u64::MAX, Relaxed);
        c.world.restart(m);
    }
    shared.resize_again_if_pending();
}

/// Step 1, by the collecting M `m`: finish the sweep, shade the roots, start marking.
fn start_marking(heap: &Heap, shared: &Shared, m: usize) {
    let c = &heap.collector;
    while heap.sweep_one().is_some() {}
    // Before marking: the roots of the messages it drops must not be marked.
    if let Some(hook) = heap.config.on_mark_start {
        hook();
    }
    c.heap_before.store(heap.heap_live.load(Relaxed), Relaxed);

    let mut tracer = Tracer::new(heap);
    for p in 0..heap.caches.len() {
        heap.roots.mark_p(p, &mut tracer);
    }
    heap.roots.mark_extra(&mut tracer);
    c.add_marked(tracer.marked_bytes);
    tracer.flush();
    heap.caches.iter().for_each(Cache::start_mark);

    c.marking.store(true, Relaxed);
    c.end.reset();
    let now = now_ns();
    c.first_pause_ns.store(now.saturating_sub(c.stop_start.swap(u64::MAX, Relaxed)), Relaxed);
    c.mark_start.store(now, Relaxed);
    c.world.restart(m);
    // An idle M helps marking (it does not park while marking is on).
    shared.idle.wake_one();
}

/// Step 3, by the collecting M `m`: drain what is left, flush the caches, end the cycle.
fn terminate_marking(heap: &Heap, m: usize) {
    let c = &heap.collector;
    let t0 = now_ns();
    let mut tracer = Tracer::new(heap);
    for cache in heap.caches.iter() {
        tracer.extend(cache.take_grey());
    }
    tracer.drain();
    c.add_progress(&tracer);
    c.mark_cpu_ns.fetch_add(now_ns() - t0, Relaxed);
    drop(tracer);
    for cache in heap.caches.iter() {
        cache.flush(heap);
    }
    terminate(heap, m);
}

fn terminate(heap: &Heap, m: usize) {
    let c = &heap.collector;
    c.marking.store(false, Relaxed);
    heap.flip_sweep();
    let live = c.marked_bytes.swap(0, Relaxed);
    c.last_scanned.store(c.scanned.swap(0, Relaxed), Relaxed);
    let at_end = heap.heap_live.swap(live, Relaxed);
    let goal = heap.goal(live);
    heap.set_goal(live, goal, at_end.saturating_sub(c.heap_before.load(Relaxed)));
    heap.mark.reset();
    let forced = c.forced.swap(false, Relaxed);

    let end = now_ns();
    let stop_start = c.stop_start.swap(u64::MAX, Relaxed);
    let mark_start = c.mark_start.load(Relaxed);
    let first = c.first_pause_ns.load(Relaxed);
    // Readings from different Ms (Workers) may disagree by a fraction of a millisecond
    // (`platform::now_ns`): differences between them saturate instead of wrapping.
    let pause = first + end.saturating_sub(stop_start);
    let pause_total_ns = {
        let mut h = c.history.lock();
        h.forced += u32::from(forced);
        h.pause_total_ns += pause;
        if h.pauses.len() == PAUSE_HISTORY {
            h.pauses.pop_front();
        }
        h.pauses.push_back(pause);
        h.last_gc_unix_ns = crate::platform::now_unix_ns();
        h.pause_total_ns
    };
    let mark_cpu = c.mark_cpu_ns.swap(0, Relaxed);
    let cycle = c.completed.fetch_add(1, AcqRel) + 1;
    if heap.config.trace {
        let procs = heap.procs as f64;
        let ms = |ns: u64| ns as f64 / 1e6;
        let (stop_ms, mark_ms, term_ms) =
            (ms(first), ms(stop_start.saturating_sub(mark_start)), ms(end.saturating_sub(stop_start)));
        let since = end.saturating_sub(c.created_ns);
        let mb = |b: u64| b >> 20;
        let before = c.heap_before.load(Relaxed);
        crate::platform::log_line(&format!(
            "gc {} @{:.3}s {}%: {:.3}+{:.3}+{:.3} ms clock, {:.3}+0/{:.3}/0+{:.3} ms cpu, {}->{}->{} MB, {} MB goal, {} P{}",
            cycle,
            since as f64 / 1e9,
            (pause_total_ns * 100).checked_div(since).unwrap_or(0),
            stop_ms,
            mark_ms,
            term_ms,
            stop_ms * procs,
            ms(mark_cpu),
            term_ms * procs,
            mb(before),
            mb(at_end),
            mb(live),
            mb(goal),
            heap.procs,
            if forced { " (forced)" } else { "" },
        ));
    }

    let waiters = std::mem::take(&mut *c.waiters.lock());
    c.world.restart(m);
    waiters.into_iter().for_each(Waker::wake);
}

/// The statistics of `heap`.
pub(crate) fn stats_of(heap: &Heap) -> GcStats {
    let c = &heap.collector;
    let (mallocs, total_alloc) = heap
        .caches
        .iter()
        .fold((0, 0), |(n, b), p| (n + p.mallocs.load(Relaxed), b + p.alloc_bytes.load(Relaxed)));
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
        // Go's: the stopped world costs every P; concurrent marking what the markers spent.
        gc_cpu_fraction: (h.pause_total_ns as f64 * heap.procs as f64
            + c.concurrent_mark_ns.load(Relaxed) as f64)
            / (elapsed as f64 * heap.procs as f64),
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
        let done = super::here(|heap, _| {
            // No pause happens during a poll: the next cycle to start starts after this call,
            // and it ends after the one marking now, if any.
            let want =
                *self.want.get_or_insert_with(|| heap.cycles() + 1 + u32::from(heap.collector.marking()));
            if heap.cycles().wrapping_sub(want) < u32::MAX / 2 {
                // Like Go's runtime.GC, finish the sweep too: the statistics (and every dead
                // object's Drop) are up to date when the collection returns. Spans another M
                // is sweeping are its to finish: yield until it has.
                while heap.sweep_one().is_some() {}
                if !heap.sweep_done() {
                    cx.waker().wake_by_ref();
                    return false;
                }
                return true;
            }
            heap.collector.waiters.lock().push(cx.waker().clone());
            heap.request(true);
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
