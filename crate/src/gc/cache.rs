//! Per-P allocation caches (Go's `mcache`): one span per size class, from which the P's M
//! allocates without any lock or atomic read-modify-write.
//!
//! # Invariants
//! * Only the holder of the P touches `spans`: its M while it runs, or the collector that
//!   claimed the P while its M is parked (`world.rs`, whose hand-offs order the accesses), so
//!   the cell needs no lock; the spans in it are owned by the cache (see `span.rs`) and have
//!   been swept for the current cycle.
//! * The cache is flushed (every span given back to the central lists) in the termination
//!   pause of each collection, while the world is stopped, by its M or by the collector that
//!   claimed its P, and when the M exits; so the sweep that follows and the heap's destructor
//!   find every span in a central list.
//! * `grey` (the objects the write barrier shaded, `mark.rs`) is touched only by the holder
//!   of the P, like `spans`.
//! * `mallocs`, `alloc_bytes`, `black_bytes` and `assisted_at` are written only by the holder
//!   of the P (the collector resets the last two in the termination pause, the holder
//!   stopped), as a Relaxed load and store (no read-modify-write: a plain load and store on
//!   every target), and read by anyone for statistics. A reader may see a slightly stale
//!   value, never a torn one.
//! * Refilling may sweep, which runs the `Drop` of dead objects. A `Drop` that allocates would
//!   re-enter the refill of the same cache: refused with a panic (`span::dropping`).

use super::heap::Heap;
use super::mark::Tracer;
use super::object::Header;
use super::sizeclass::{CLASS_SIZE, NUM_CLASSES};
use super::span::{dropping, span_of, SpanPtr};
use super::{HeapLimitError, Trace};
use std::cell::UnsafeCell;
use std::ptr::NonNull;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::Relaxed;

pub(crate) struct Cache {
    spans: UnsafeCell<[Option<SpanPtr>; NUM_CLASSES]>,
    /// Objects this P's write barrier shaded, not yet handed to the mark pool.
    grey: UnsafeCell<Vec<NonNull<Header>>>,
    /// Bytes this P allocated black in the current mark phase, for its mark assists (written
    /// by the holder; reset by the collector in the termination pause, holder stopped).
    pub(crate) black_bytes: AtomicU64,
    /// `black_bytes` at this P's last mark assist (holder only).
    assisted_at: AtomicU64,
    /// Objects allocated from this cache, ever.
    pub(crate) mallocs: AtomicU64,
    /// Their bytes (class sizes).
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
            black_bytes: AtomicU64::new(0),
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
                self.count(class);
                return Ok(addr);
            }
        }
        self.refill(heap, class)
    }

    #[inline]
    fn count(&self, class: usize) {
        self.mallocs.store(self.mallocs.load(Relaxed) + 1, Relaxed);
        self.alloc_bytes.store(self.alloc_bytes.load(Relaxed) + CLASS_SIZE[class] as u64, Relaxed);
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
        self.count(class);
        Ok(addr)
    }

    /// Marks the object just allocated at `addr` (allocation is black while marking is on).
    #[cold]
    pub(crate) fn alloc_black(&self, addr: usize) {
        // SAFETY: `addr` is a slot just allocated in a live span.
        let span = unsafe { span_of(addr) };
        if span.mark(addr) {
            self.black_bytes.store(self.black_bytes.load(Relaxed) + span.elem_size as u64, Relaxed);
        }
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

    /// Bytes this P allocated (black) since its last mark assist; starts a new assist.
    /// Called by the holder of the P.
    pub(crate) fn assist_debt(&self) -> u64 {
        let now = self.black_bytes.load(Relaxed);
        let debt = now.saturating_sub(self.assisted_at.load(Relaxed));
        self.assisted_at.store(now, Relaxed);
        debt
    }

    /// The termination pause (the holder is stopped): ends this P's mark phase.
    pub(crate) fn end_mark(&self) {
        self.assisted_at.store(0, Relaxed);
        self.black_bytes.store(0, Relaxed);
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
