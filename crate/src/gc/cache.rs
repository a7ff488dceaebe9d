//! Per-P allocation caches (Go's `mcache`): one span per size class, from which the P's M
//! allocates without any lock or atomic read-modify-write.
//!
//! # Invariants
//! * Only the holder of the P touches `spans`: its M while it runs, or the collector that
//!   claimed the P while its M is parked (`sched/world.rs`, whose hand-offs order the accesses), so
//!   the cell needs no lock; the spans in it are owned by the cache (see `span.rs`) and have
//!   been swept for the current cycle.
//! * The cache is flushed (every span given back to the central lists) in the termination
//!   pause of each collection, while the world is stopped, by its M or by the collector that
//!   claimed its P, and when the M exits; so the sweep that follows and the heap's destructor
//!   find every span in a central list.
//! * `grey` (the objects the write barrier shaded, `mark.rs`) is touched only by the holder
//!   of the P, like `spans`.
//! * `mallocs`, `alloc_bytes` and `assisted_at` are written only by the holder of the P (the
//!   collector sets the last one in the first pause, the holder stopped), as a Relaxed load
//!   and store (no read-modify-write: a plain load and store on every target), and read by
//!   anyone for statistics. A reader may see a slightly stale value, never a torn one.
//! * Allocation does nothing more while marking runs: the spans it allocates from allocate
//!   black (`span.rs`), from the first pause for the spans cached then (`start_mark`) and
//!   from their caching for the others (`Heap::cache_span`).
//! * Refilling may sweep, which runs the `Drop` of dead objects. A `Drop` that allocates would
//!   re-enter the refill of the same cache: refused with a panic (`span::dropping`).

use super::heap::Heap;
use super::mark::Tracer;
use super::object::Header;
use super::sizeclass::{CLASS_SIZE, NUM_CLASSES, PAGE_SIZE};
use super::span::{dropping, SpanPtr};
use super::{HeapLimitError, Trace};
use std::cell::UnsafeCell;
use std::ptr::NonNull;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::Relaxed;

/// Aligned to two cache lines (the pair x86 prefetches together): the caches of all Ps sit side
/// by side in the heap (`Heap::caches`), and each is written by its own M on every allocation.
#[repr(align(128))]
pub(crate) struct Cache {
    spans: UnsafeCell<[Option<SpanPtr>; NUM_CLASSES]>,
    /// Objects this P's write barrier shaded, not yet handed to the mark pool.
    grey: UnsafeCell<Vec<NonNull<Header>>>,
    /// `alloc_bytes` at this P's last mark assist, or when marking started: what its assists
    /// have paid for.
    assisted_at: AtomicU64,
    /// Objects this P allocated, ever (small ones from this cache, and large ones).
    pub(crate) mallocs: AtomicU64,
    /// Their bytes (class sizes, and large objects' pages).
    pub(crate) alloc_bytes: AtomicU64,
}

// SAFETY: `spans` is touched only by the holder of the P (module header); the counters are
// atomics.
unsafe impl Sync for Cache {}
// SAFETY: as above; the spans it names are owned by the cache, wherever it is.
unsafe impl Send for Cache {}

// A panic can only come out of a refill before or after the cell is updated (user `Drop` code
// runs under `catch_unwind` while sweeping), so the cache is consistent across an unwind.
impl std::panic::RefUnwindSafe for Cache {}

impl Cache {
    pub(crate) fn new() -> Self {
        Cache {
            spans: UnsafeCell::new([None; NUM_CLASSES]),
            grey: UnsafeCell::new(Vec::new()),
            assisted_at: AtomicU64::new(0),
            mallocs: AtomicU64::new(0),
            alloc_bytes: AtomicU64::new(0),
        }
    }

    /// Allocates a slot of class `class`. Called only by the holder of the P.
    #[inline]
    pub(crate) fn alloc(&self, heap: &Heap, class: usize) -> Result<usize, HeapLimitError> {
        // SAFETY: only the holder of the P calls this (module header); the copy ends the borrow.
        let cached = unsafe { (*self.spans.get())[class] };
        if let Some(span) = cached {
            // SAFETY: the cache owns the span.
            if let Some(addr) = unsafe { span.get().alloc() } {
                self.count(CLASS_SIZE[class] as usize);
                return Ok(addr);
            }
        }
        self.refill(heap, class)
    }

    /// Allocates a large object of `size` bytes (`Heap::alloc_large`). Called only by the
    /// holder of the P.
    pub(crate) fn alloc_large(&self, heap: &Heap, size: usize) -> Result<usize, HeapLimitError> {
        let addr = heap.alloc_large(size)?;
        self.count(size.next_multiple_of(PAGE_SIZE));
        Ok(addr)
    }

    #[inline]
    fn count(&self, bytes: usize) {
        self.mallocs.store(self.mallocs.load(Relaxed) + 1, Relaxed);
        self.alloc_bytes.store(self.alloc_bytes.load(Relaxed) + bytes as u64, Relaxed);
    }

    /// Gives back the exhausted span of `class` and caches one with free slots.
    #[cold]
    fn refill(&self, heap: &Heap, class: usize) -> Result<usize, HeapLimitError> {
        assert!(
            !dropping(),
            "gort::gc: allocating in the GC heap from the Drop of a heap object is not allowed"
        );
        // SAFETY: the holder of the P only; no reference into `spans` is held across the calls below, which
        // may run user `Drop` code (that code cannot reach this refill: asserted above).
        if let Some(old) = unsafe { (*self.spans.get())[class].take() } {
            heap.uncache(old);
        }
        let span = heap.cache_span(class)?;
        // SAFETY: the cache owns the span now; `cache_span` returns spans with a free slot.
        let addr = unsafe { span.get().alloc() }.expect("a span from cache_span has a free slot");
        // SAFETY: the holder of the P only.
        unsafe { (*self.spans.get())[class] = Some(span) };
        self.count(CLASS_SIZE[class] as usize);
        Ok(addr)
    }

    /// The write barrier: shades the `Gc`s in `value`, which is about to be overwritten or
    /// mutated while marking is on (Yuasa's deletion barrier). Called by the holder of the P.
    #[cold]
    pub(crate) fn shade<T: Trace + ?Sized>(&self, heap: &Heap, value: &T) {
        // SAFETY: the holder of the P only; nothing below reenters the barrier (tracing locks
        // cells without borrowing them).
        let grey = unsafe { &mut *self.grey.get() };
        let mut tracer = Tracer::with_stack(heap, std::mem::take(grey));
        value.trace(&mut tracer);
        let marked = tracer.marked_bytes;
        *grey = tracer.into_stack();
        if marked > 0 {
            heap.collector.add_marked(marked);
        }
    }

    /// The first pause (the holder is stopped): from now on this P's allocation is black,
    /// and its assists pay for it.
    pub(crate) fn start_mark(&self) {
        // SAFETY: the holder of the P (the collector, its M stopped) only.
        for span in unsafe { (*self.spans.get()).iter().flatten() } {
            // SAFETY: the cache owns the span.
            unsafe { span.get().allocate_black() };
        }
        self.assisted_at.store(self.alloc_bytes.load(Relaxed), Relaxed);
    }

    /// Bytes this P allocated since its last mark assist (or since marking started); starts
    /// a new assist. Called by the holder of the P.
    pub(crate) fn assist_debt(&self) -> u64 {
        let now = self.alloc_bytes.load(Relaxed);
        let debt = now.saturating_sub(self.assisted_at.load(Relaxed));
        self.assisted_at.store(now, Relaxed);
        debt
    }

    /// Takes the objects the write barrier shaded. Called by the holder of the P.
    pub(crate) fn take_grey(&self) -> Vec<NonNull<Header>> {
        // SAFETY: the holder of the P only.
        std::mem::take(unsafe { &mut *self.grey.get() })
    }

    /// Gives every cached span back to the central lists. Called by the holder of the P.
    pub(crate) fn flush(&self, heap: &Heap) {
        for class in 1..NUM_CLASSES {
            // SAFETY: the holder of the P only.
            if let Some(span) = unsafe { (*self.spans.get())[class].take() } {
                heap.uncache(span);
            }
        }
    }
}
