//! The heap: chunks of linear memory divided into pages (Go's `mheap`), spans of pages per size
//! class with central lists (`mcentral`), large objects on their own page runs, and sweeping.
//!
//! # Memory
//! Chunks are 4 MiB, 4 MiB-aligned blocks from the global allocator (in the browser, the
//! shared linear memory every Worker sees). Page 0 of a chunk holds its page table
//! ([`ChunkMeta`]); the other 511 pages are handed out in runs. A large object that does not
//! fit in one chunk gets a block of several chunks of its own, freed when it dies. Chunks are
//! never returned (as a wasm memory never shrinks).
//!
//! # Central lists and sweeping
//! Each class has a partial and a full list in two sets, swept and unswept, selected by the
//! parity of `sweepgen / 2` (Go's trick): when a collection ends, `sweepgen += 2` turns every
//! swept list into an unswept one at no cost. Invariants:
//! * a span in a swept list has been swept since the last mark; a span in an unswept list
//!   has not;
//! * the unswept lists are empty when marking starts (the collection's first phase finishes
//!   the sweep), so the flip never mixes the two;
//! * a span is in at most one list, and whoever pops it owns it (`span.rs`);
//! * `unswept` counts the spans in unswept lists (decremented by whoever pops one), and
//!   `sweeping` the spans popped from them whose sweep has not ended. The popper counts the
//!   span in `sweeping` before it takes it off `unswept` (`sweep_popped`), so a reader of
//!   `unswept`, then `sweeping` (`sweep_done`) that finds both 0 knows every sweep has ended
//!   and its frees are counted: `collect` returns only then.
//!
//! Spans are swept lazily: allocation sweeps spans of its class before taking fresh pages
//! (`cache_span`), a page allocation first sweeps spans of any class until it has reclaimed as
//! many pages as it needs (Go's `mheap.reclaim`), idle Ms sweep in the background
//! (`sweep_one` from the scheduler's park path), and a collection's first pause sweeps
//! whatever is left before it marks. So that little is left for that pause (the world stopped,
//! proportional to the heap), allocation also sweeps in proportion to the heap's growth (Go's
//! proportional sweep): the spans unswept at the end of a collection are all swept by the
//! time `heap_live` has gone half of the way to the next trigger (`pace_sweep`). A span whose
//! objects all died goes back to the page heap.
//!
//! # Accounting and pacing
//! `heap_live` follows Go's `heapLive`: the bytes marked by the last collection, plus the free
//! slots of every span handed to a per-P cache (counted as allocated when the span is cached
//! and returned when it is flushed), plus large objects. So the per-P fast path updates no
//! shared counter, and the pacer looks at `heap_live` only when a span is cached or a large
//! object allocated. When it reaches `trigger` a collection is requested, early enough that
//! concurrent marking, during which allocation goes on, ends near the goal (`next_gc`): the
//! trigger leaves room for what the last cycle allocated while it marked, and a tenth more,
//! between 0.7 and 0.95 of the way from the last live heap to the goal (the bounds of Go's
//! pacer, whose estimate of that allocation this simplifies).
//!
//! # Heap limit
//! `in_use` (pages in spans) never exceeds `Config::heap_limit`: a page allocation that would
//! go past it first reclaims by sweeping, then fails with `HeapLimitError`. The check and the
//! update happen under the page heap's lock.

use super::cache::Cache;
use super::collect::Collector;
use super::mark::MarkPool;
use super::root::Roots;
use super::sizeclass::{CLASS_PAGES, NUM_CLASSES, PAGE_SIZE};
use super::span::{ChunkMeta, Span, SpanPtr, Swept, CHUNK_SIZE, PAGES_PER_CHUNK};
use super::HeapLimitError;
use crate::platform::lock::Lock;
use crate::platform::shim::Arc;
use crate::sched::world::World;
use std::alloc::Layout;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release, SeqCst};
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize};

/// Go's minimum heap goal (`heapminimum`).
pub(crate) const MIN_HEAP_GOAL: u64 = 4 << 20;

/// The heap's settings (from `Builder`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Config {
    /// GOGC: collect when the heap has grown by this percentage over the live heap; negative
    /// turns automatic collection off.
    pub(crate) gc_percent: i32,
    /// Hard ceiling on bytes of pages in use.
    pub(crate) heap_limit: usize,
    /// Print a gctrace line per cycle.
    pub(crate) trace: bool,
    /// Overwrite freed objects with `CLOBBER` bytes.
    pub(crate) clobber_free: bool,
    /// Called by the collecting M as each cycle starts marking, with the world stopped (the
    /// JS facade breaks cycles of JS channels there, `js/cycles.rs`).
    pub(crate) on_mark_start: Option<fn()>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            gc_percent: 100,
            heap_limit: usize::MAX,
            trace: false,
            clobber_free: false,
            on_mark_start: None,
        }
    }
}

/// `Heap::sweep_ratio` is fixed-point with this many fraction bits.
const SWEEP_RATIO_SHIFT: u32 = 20;

/// Where the next collection is requested (module header, "Accounting and pacing"): so that
/// the allocation expected while it marks, `runway`, ends at `goal`, bounded to between 0.7
/// and 0.95 of the way from `live` to `goal` (Go's bounds); three quarters of the way while
/// nothing is known yet.
fn trigger(live: u64, goal: u64, runway: Option<u64>) -> u64 {
    let span = goal - live;
    match runway {
        None => live + span / 4 * 3,
        Some(runway) => goal.saturating_sub(runway).clamp(live + span / 10 * 7, live + span / 20 * 19),
    }
}

const CHUNK_WORDS: usize = PAGES_PER_CHUNK / 64;

struct Chunk {
    base: usize,
    /// One bit per page, set when free.
    free: [u64; CHUNK_WORDS],
    nfree: usize,
}

impl Chunk {
    /// The first run of `n` free pages.
    fn find_run(&self, n: usize) -> Option<usize> {
        if n == 1 {
            return self
                .free
                .iter()
                .position(|&w| w != 0)
                .map(|w| w * 64 + self.free[w].trailing_zeros() as usize);
        }
        let (mut start, mut run, mut p) = (0, 0, 0);
        while p < PAGES_PER_CHUNK {
            let word = self.free[p / 64];
            if p % 64 == 0 && word == 0 {
                run = 0;
                p += 64;
                continue;
            }
            if word >> (p % 64) & 1 == 1 {
                if run == 0 {
                    start = p;
                }
                run += 1;
                if run == n {
                    return Some(start);
                }
            } else {
                run = 0;
            }
            p += 1;
        }
        None
    }

    fn set_free(&mut self, first: usize, n: usize, free: bool) {
        for p in first..first + n {
            let bit = 1u64 << (p % 64);
            if free {
                self.free[p / 64] |= bit;
            } else {
                self.free[p / 64] &= !bit;
            }
        }
        if free {
            self.nfree += n;
        } else {
            self.nfree -= n;
        }
    }
}

/// Pages: every chunk's free bitmap. Behind the heap's page lock.
struct PageHeap {
    chunks: Vec<Chunk>,
    /// Bytes of pages in spans.
    in_use: usize,
}

/// Runs of pages bigger than a chunk's get a block of whole chunks of their own.
const MAX_RUN: usize = PAGES_PER_CHUNK - 1;

fn huge_layout(npages: usize) -> Layout {
    let bytes = ((npages + 1) * PAGE_SIZE).next_multiple_of(CHUNK_SIZE);
    Layout::from_size_align(bytes, CHUNK_SIZE).expect("a huge object's size overflows")
}

fn chunk_layout() -> Layout {
    Layout::from_size_align(CHUNK_SIZE, CHUNK_SIZE).expect("chunk layout")
}

/// Allocates chunk-aligned memory and clears its page table; `None` if memory cannot give it
/// and still keep the runtime's reserve (`platform::memory::admit`), or the allocator fails.
fn alloc_chunk(layout: Layout) -> Option<usize> {
    crate::platform::memory::admit(layout.size()).ok()?;
    // SAFETY: the layout has a non-zero size.
    let base = unsafe { std::alloc::alloc(layout) };
    if base.is_null() {
        return None;
    }
    // SAFETY: page 0 of the new block is ours; all-zero bytes are a ChunkMeta of null spans.
    unsafe { std::ptr::write_bytes(base, 0, PAGE_SIZE) };
    Some(base as usize)
}

#[derive(Default)]
struct Lists {
    partial: [Vec<SpanPtr>; 2],
    full: [Vec<SpanPtr>; 2],
}

/// (swept, unswept) list sets for sweep generation `sg`.
fn sets(sg: u32) -> (usize, usize) {
    let swept = (sg / 2 % 2) as usize;
    (swept, swept ^ 1)
}

pub(crate) struct Heap {
    /// Distinguishes heaps (roots check they are used on their own heap's Ms).
    pub(crate) id: u64,
    pub(crate) config: Config,
    pub(crate) procs: usize,
    pages: Lock<PageHeap>,
    /// Per class; class 0 holds the large objects' spans (in `full`).
    central: Box<[Lock<Lists>]>,
    sweepgen: AtomicU32,
    unswept: AtomicUsize,
    sweeping: AtomicUsize,
    /// Where `sweep_one` looks first.
    sweep_cursor: AtomicUsize,
    pub(crate) heap_live: AtomicU64,
    pub(crate) next_gc: AtomicU64,
    /// Where the next collection is requested (module header, "Accounting and pacing").
    trigger: AtomicU64,
    /// Proportional sweep (`pace_sweep`): spans unswept when the last collection ended,
    /// `heap_live` then, and spans to sweep per 2^SWEEP_RATIO_SHIFT bytes of growth since.
    sweep_total: AtomicUsize,
    sweep_basis: AtomicU64,
    sweep_ratio: AtomicU64,
    /// Mirrors of the page heap's sizes, for statistics without its lock.
    pub(crate) in_use: AtomicUsize,
    pub(crate) sys: AtomicUsize,
    pub(crate) frees: AtomicU64,
    pub(crate) freed_bytes: AtomicU64,
    pub(crate) roots: Roots,
    /// Per P: its allocation cache (Go's `p.mcache`), touched only by the M holding the P
    /// (`sched/world.rs`), or by the collector while the world is stopped.
    pub(crate) caches: Box<[Cache]>,
    pub(crate) collector: Collector,
    pub(crate) mark: MarkPool,
}

impl Heap {
    /// A heap for the Ps of `world`, which its collections stop.
    pub(crate) fn new(world: Arc<World>, config: Config) -> Self {
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        let procs = world.procs();
        let goal = if config.gc_percent < 0 { u64::MAX } else { MIN_HEAP_GOAL };
        Heap {
            id: NEXT_ID.fetch_add(1, Relaxed),
            config,
            procs,
            pages: Lock::new(PageHeap { chunks: Vec::new(), in_use: 0 }),
            central: (0..NUM_CLASSES).map(|_| Lock::default()).collect(),
            sweepgen: AtomicU32::new(0),
            unswept: AtomicUsize::new(0),
            sweeping: AtomicUsize::new(0),
            sweep_cursor: AtomicUsize::new(0),
            heap_live: AtomicU64::new(0),
            next_gc: AtomicU64::new(goal),
            trigger: AtomicU64::new(trigger(0, goal, None)),
            sweep_total: AtomicUsize::new(0),
            sweep_basis: AtomicU64::new(0),
            sweep_ratio: AtomicU64::new(0),
            in_use: AtomicUsize::new(0),
            sys: AtomicUsize::new(0),
            frees: AtomicU64::new(0),
            freed_bytes: AtomicU64::new(0),
            roots: Roots::new(procs),
            caches: (0..procs).map(|_| Cache::new()).collect(),
            collector: Collector::new(world),
            mark: MarkPool::default(),
        }
    }

    /// Adds `bytes` to `heap_live`, sweeps what the proportional sweep asks for, and requests a
    /// collection when `heap_live` reaches the trigger.
    fn note_live(&self, bytes: usize) {
        let live = self.heap_live.fetch_add(bytes as u64, Relaxed) + bytes as u64;
        if self.sweep_pending() {
            self.sweep_proportionally(live);
        }
        if live >= self.trigger.load(Relaxed) {
            self.request(false);
        }
    }

    /// Sets the goal after a collection found `live` bytes live (`heap_live` is `live`, the
    /// sweep generation flipped) after `allocated_while_marking` bytes were allocated while it
    /// marked, and paces the sweep of the spans now unswept.
    pub(crate) fn set_goal(&self, live: u64, goal: u64, allocated_while_marking: u64) {
        // The next marking is expected to allocate as much, and a tenth more for safety.
        let runway = allocated_while_marking + allocated_while_marking / 10;
        let trigger = trigger(live, goal, Some(runway));
        self.next_gc.store(goal, Relaxed);
        self.trigger.store(trigger, Relaxed);
        self.pace_sweep(live, trigger);
    }

    /// Spreads the sweep of every unswept span over the first half of the heap's growth from
    /// `live` to `trigger`, so that the next collection's first pause finds it done.
    fn pace_sweep(&self, live: u64, trigger: u64) {
        let total = self.unswept.load(Relaxed);
        let headroom = (trigger.saturating_sub(live) / 2).max(1);
        self.sweep_total.store(total, Relaxed);
        self.sweep_basis.store(live, Relaxed);
        self.sweep_ratio.store(((total as u64) << SWEEP_RATIO_SHIFT) / headroom, Relaxed);
    }

    /// Sweeps until the spans swept since the last collection catch up with what `heap_live`
    /// (now `live`) asks for, or nothing is left.
    fn sweep_proportionally(&self, live: u64) {
        let grown = live.saturating_sub(self.sweep_basis.load(Relaxed));
        let want = (grown.saturating_mul(self.sweep_ratio.load(Relaxed)) >> SWEEP_RATIO_SHIFT) as usize;
        let total = self.sweep_total.load(Relaxed);
        while total.saturating_sub(self.unswept.load(Relaxed)) < want.min(total) {
            if self.sweep_one().is_none() {
                break;
            }
        }
    }

    fn note_freed(&self, objects: usize, elem_size: usize) {
        if objects > 0 {
            self.frees.fetch_add(objects as u64, Relaxed);
            self.freed_bytes.fetch_add((objects * elem_size) as u64, Relaxed);
        }
    }

    /// A span of class `class` with a free slot, for a per-P cache: a swept partial span, else
    /// an unswept one swept now, else fresh pages (Go's `mcentral.cacheSpan`).
    pub(crate) fn cache_span(&self, class: usize) -> Result<SpanPtr, HeapLimitError> {
        let (swept, unswept) = sets(self.sweepgen.load(Acquire));
        let span = loop {
            let mut lists = self.central[class].lock();
            if let Some(span) = lists.partial[swept].pop() {
                break span;
            }
            let Some(span) = lists.partial[unswept].pop().or_else(|| lists.full[unswept].pop()) else {
                drop(lists);
                break self.alloc_span(class, CLASS_PAGES[class] as usize)?;
            };
            drop(lists);
            // SAFETY: popped from a list, so ours (span.rs); and no marking is in progress, as
            // the unswept lists are empty while marking runs (module header).
            let s = unsafe { span.get() };
            // SAFETY: as above.
            let r = unsafe { self.sweep_popped(s) };
            if r.live < s.nelems {
                break span;
            }
            self.central[class].lock().full[swept].push(span);
        };
        // SAFETY: ours until the cache gives it back.
        let s = unsafe { span.get() };
        if self.collector.marking() {
            // SAFETY: as above.
            unsafe { s.allocate_black() };
        }
        // SAFETY: as above.
        let free = s.nelems - unsafe { s.count() };
        self.note_live(free * s.elem_size);
        Ok(span)
    }

    /// A per-P cache gives a span back (it is full, or the cache is being flushed).
    pub(crate) fn uncache(&self, span: SpanPtr) {
        // SAFETY: the cache owned it until now.
        let s = unsafe { span.get() };
        // SAFETY: as above.
        let count = unsafe { s.count() };
        self.heap_live.fetch_sub(((s.nelems - count) * s.elem_size) as u64, Relaxed);
        let (swept, _) = sets(self.sweepgen.load(Acquire));
        let mut lists = self.central[s.class].lock();
        if count == s.nelems {
            lists.full[swept].push(span);
        } else {
            lists.partial[swept].push(span);
        }
    }

    /// Whether an object of `size` bytes could ever be allocated: a large object whose pages
    /// alone exceed the heap limit cannot, whatever a collection frees. Reads only the limit
    /// and a statistics mirror (no lock, no allocation), so any thread may ask; whether it fits
    /// now is the allocation's to find out.
    #[cfg(any(test, target_arch = "wasm32"))]
    pub(crate) fn admit(&self, size: usize) -> Result<(), HeapLimitError> {
        if size <= super::sizeclass::MAX_SMALL {
            return Ok(());
        }
        let bytes = size.div_ceil(PAGE_SIZE).saturating_mul(PAGE_SIZE);
        if bytes > self.config.heap_limit {
            return Err(HeapLimitError {
                requested: bytes,
                limit: self.config.heap_limit,
                in_use: self.in_use.load(Relaxed),
            });
        }
        Ok(())
    }

    /// Allocates a large object of `size` bytes on its own pages; returns its address
    /// (page-aligned).
    pub(crate) fn alloc_large(&self, size: usize) -> Result<usize, HeapLimitError> {
        let npages = size.div_ceil(PAGE_SIZE);
        let span = self.alloc_span(0, npages)?;
        // SAFETY: we own the fresh span until it is filed below.
        let s = unsafe { span.get() };
        if self.collector.marking() {
            // SAFETY: as above.
            unsafe { s.allocate_black() };
        }
        let (base, bytes) = (s.base, s.elem_size);
        let (swept, _) = sets(self.sweepgen.load(Acquire));
        // Nobody pops large spans from a swept list, and sets flip only while the world is
        // stopped, never during this poll: the object stays ours until the allocation ends.
        self.central[0].lock().full[swept].push(span);
        self.note_live(bytes);
        Ok(base)
    }

    /// A fresh span of `npages` pages: reclaims by sweeping first, then takes free pages or
    /// grows the heap, within the heap limit.
    fn alloc_span(&self, class: usize, npages: usize) -> Result<SpanPtr, HeapLimitError> {
        if self.unswept.load(Relaxed) > 0 {
            self.reclaim(npages);
        }
        let bytes = npages * PAGE_SIZE;
        let mut ph = self.pages.lock();
        let limit_error = |in_use| HeapLimitError { requested: bytes, limit: self.config.heap_limit, in_use };
        if ph.in_use + bytes > self.config.heap_limit {
            return Err(limit_error(ph.in_use));
        }
        let (base, chunk, first) = if npages > MAX_RUN {
            let layout = huge_layout(npages);
            let chunk = alloc_chunk(layout).ok_or_else(|| limit_error(ph.in_use))?;
            self.sys.fetch_add(layout.size(), Relaxed);
            (chunk + PAGE_SIZE, chunk, 1)
        } else {
            let found = ph.chunks.iter().enumerate().find_map(|(i, c)| {
                if c.nfree >= npages {
                    c.find_run(npages).map(|p| (i, p))
                } else {
                    None
                }
            });
            let (i, first) = match found {
                Some(f) => f,
                None => {
                    let base = alloc_chunk(chunk_layout()).ok_or_else(|| limit_error(ph.in_use))?;
                    self.sys.fetch_add(CHUNK_SIZE, Relaxed);
                    let mut free = [!0u64; CHUNK_WORDS];
                    free[0] &= !1; // page 0: the page table
                    ph.chunks.push(Chunk { base, free, nfree: PAGES_PER_CHUNK - 1 });
                    (ph.chunks.len() - 1, 1)
                }
            };
            let c = &mut ph.chunks[i];
            c.set_free(first, npages, false);
            (c.base + first * PAGE_SIZE, c.base, first)
        };
        let span = SpanPtr::new(Span::new(base, npages, class));
        // Huge spans hold one object at their first page: only that page needs an entry.
        let mapped = if npages > MAX_RUN { 1 } else { npages };
        // SAFETY: `chunk` is a live chunk base.
        unsafe { ChunkMeta::of(chunk) }.set(first, mapped, span.as_ptr());
        ph.in_use += bytes;
        self.in_use.store(ph.in_use, Relaxed);
        Ok(span)
    }

    /// Returns a span's pages; the span must hold no object. Returns the pages freed.
    fn free_span(&self, span: SpanPtr) -> usize {
        // SAFETY: the caller owns the span and nothing refers to it any more.
        let s = unsafe { span.into_box() };
        let chunk = s.base & !(CHUNK_SIZE - 1);
        let first = (s.base - chunk) / PAGE_SIZE;
        let mut ph = self.pages.lock();
        if s.npages > MAX_RUN {
            let layout = huge_layout(s.npages);
            // SAFETY: the block came from `alloc_chunk(layout)` and its only object is dead.
            unsafe { std::alloc::dealloc(chunk as *mut u8, layout) };
            self.sys.fetch_sub(layout.size(), Relaxed);
        } else {
            // SAFETY: a live chunk.
            unsafe { ChunkMeta::of(chunk) }.set(first, s.npages, std::ptr::null_mut());
            let c = ph.chunks.iter_mut().find(|c| c.base == chunk).expect("a span outside every chunk");
            c.set_free(first, s.npages, true);
        }
        ph.in_use -= s.npages * PAGE_SIZE;
        self.in_use.store(ph.in_use, Relaxed);
        s.npages
    }

    /// Sweeps spans of any class until `npages` pages were freed or nothing is left unswept.
    fn reclaim(&self, npages: usize) {
        let mut freed = 0;
        while freed < npages {
            match self.sweep_one() {
                Some(n) => freed += n,
                None => break,
            }
        }
    }

    /// Whether some span still waits to be swept.
    pub(crate) fn sweep_pending(&self) -> bool {
        self.unswept.load(Relaxed) > 0
    }

    /// Whether every span is swept and every sweep has ended, by whichever M ran it (module
    /// header, on `sweeping`).
    pub(crate) fn sweep_done(&self) -> bool {
        self.unswept.load(SeqCst) == 0 && self.sweeping.load(SeqCst) == 0
    }

    /// Sweeps `s`, just popped from an unswept list, and counts its frees.
    ///
    /// # Safety
    /// As for [`Span::sweep`]: the caller popped `s`, so owns it, and no marking is running.
    unsafe fn sweep_popped(&self, s: &Span) -> Swept {
        self.sweeping.fetch_add(1, SeqCst);
        self.unswept.fetch_sub(1, SeqCst);
        // SAFETY: the caller's guarantee.
        let r = unsafe { s.sweep(self.config.clobber_free) };
        self.note_freed(r.freed, s.elem_size);
        self.sweeping.fetch_sub(1, SeqCst);
        r
    }

    /// Sweeps one unswept span, if any: the pages it freed, or `None` when nothing is left.
    pub(crate) fn sweep_one(&self) -> Option<usize> {
        if !self.sweep_pending() {
            return None;
        }
        let sg = self.sweepgen.load(Acquire);
        let (_, unswept) = sets(sg);
        let start = self.sweep_cursor.load(Relaxed);
        for k in 0..NUM_CLASSES {
            let class = (start + k) % NUM_CLASSES;
            let span = {
                let mut lists = self.central[class].lock();
                lists.partial[unswept].pop().or_else(|| lists.full[unswept].pop())
            };
            if let Some(span) = span {
                self.sweep_cursor.store(class, Relaxed);
                return Some(self.sweep_and_file(span, sg));
            }
        }
        None
    }

    /// Sweeps a span popped from an unswept list and files it: freed if empty, else in the
    /// swept set. Returns the pages freed.
    fn sweep_and_file(&self, span: SpanPtr, sg: u32) -> usize {
        // SAFETY: popped from a list, so ours; no marking runs concurrently with sweeping.
        let s = unsafe { span.get() };
        // SAFETY: as above.
        let r = unsafe { self.sweep_popped(s) };
        if r.live == 0 {
            return self.free_span(span);
        }
        let (swept, _) = sets(sg);
        let mut lists = self.central[s.class].lock();
        if r.live == s.nelems {
            lists.full[swept].push(span);
        } else {
            lists.partial[swept].push(span);
        }
        0
    }

    /// Ends a collection (the world is stopped, every cache flushed, marking done): the swept
    /// sets become the unswept ones.
    pub(crate) fn flip_sweep(&self) {
        let sg = self.sweepgen.load(Relaxed);
        let (swept, _) = sets(sg);
        let spans: usize = self
            .central
            .iter()
            .map(|l| {
                let l = l.lock();
                l.partial[swept].len() + l.full[swept].len()
            })
            .sum();
        self.unswept.store(spans, Relaxed);
        self.sweepgen.store(sg.wrapping_add(2), Release);
    }

    /// Chunks and large blocks taken from the system.
    pub(crate) fn sys_bytes(&self) -> usize {
        self.sys.load(Relaxed)
    }
}

impl Drop for Heap {
    /// The runtime is gone: every object dies (its `Drop` runs) and the memory goes back.
    /// Every per-P cache was flushed when its M exited.
    fn drop(&mut self) {
        for lists in self.central.iter() {
            let spans: Vec<SpanPtr> = {
                let mut l = lists.lock();
                let Lists { partial, full } = &mut *l;
                partial.iter_mut().chain(full.iter_mut()).flat_map(std::mem::take).collect()
            };
            for span in spans {
                // SAFETY: taken out of every list; no M is left to touch it.
                let s = unsafe { span.get() };
                // SAFETY: as above; with no marks, every object is freed.
                unsafe {
                    s.clear_marks();
                    s.sweep(false)
                };
                self.free_span(span);
            }
        }
        for c in std::mem::take(&mut self.pages.lock().chunks) {
            // SAFETY: every chunk came from `alloc_chunk(chunk_layout())`, and every span in it
            // has been freed.
            unsafe { std::alloc::dealloc(c.base as *mut u8, chunk_layout()) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_runs_are_first_fit_and_reusable() {
        let mut free = [!0u64; CHUNK_WORDS];
        free[0] &= !1;
        let mut c = Chunk { base: 0, free, nfree: PAGES_PER_CHUNK - 1 };
        assert_eq!(c.find_run(1), Some(1));
        c.set_free(1, 70, false);
        assert_eq!(c.find_run(1), Some(71));
        assert_eq!(c.find_run(3), Some(71));
        c.set_free(10, 5, true);
        assert_eq!(c.find_run(5), Some(10));
        assert_eq!(c.find_run(6), Some(71));
        assert_eq!(c.find_run(PAGES_PER_CHUNK - 71), Some(71));
        assert_eq!(c.find_run(PAGES_PER_CHUNK - 70), None);
        assert_eq!(c.nfree, PAGES_PER_CHUNK - 1 - 70 + 5);
    }
}
