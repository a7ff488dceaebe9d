//! Spans (Go's `mspan`): a run of pages holding objects of one size class, or one large
//! object; the chunk page tables that map an address to its span; and sweeping one span.
//!
//! # Ownership of a span's allocation state
//! `alloc` (allocation bits, free index, allocation cache, count) is plain memory behind an
//! `UnsafeCell`. Exactly one party owns a span at a time and only it touches `alloc`:
//! * the per-P cache that holds it (only that P's M allocates from it);
//! * a sweeper that popped it from a central list (under the list's lock; after the pop the
//!   span is in no list, so nobody else can reach it);
//! * the central list that holds it, i.e. whoever holds that list's lock;
//! * the collector, while the world is stopped (for a P it claimed, in its cache's stead).
//!
//! Hand-offs between owners go through a [`Lock`](crate::platform::lock::Lock) (central lists,
//! the page heap) or the collector's barriers, whose Acquire/Release edges order the plain
//! accesses. Mark bits are atomics: during marking every M sets them (`fetch_or`, Relaxed:
//! the bits themselves are the only data, and the termination pause orders them before the
//! sweep that reads them), markers and the write barrier alike.
//!
//! # Which slots hold objects
//! After a sweep, `bits` are the objects that survived (the mark bits) and `free_index` is 0.
//! Allocation hands out free slots in increasing index order and moves `free_index` past each,
//! so slot `i` holds an object iff `i < free_index || bits[i]`. A sweep frees the slots that
//! hold an object and are not marked, running their `Drop`. It visits them one by one only in
//! a span that has held an object with drop glue (`may_drop`, set by the allocation of one and
//! kept for the span's life) or when freed memory is clobbered; otherwise freeing is the bit
//! arithmetic alone, and the dead objects' memory is not touched (Go's sweep, without
//! finalizers, is bitmaps too).
//!
//! # Allocating black without marking
//! Objects allocated while marking runs must survive the cycle's sweep (`collect.rs`). Rather
//! than set each one's mark bit (an atomic read-modify-write per allocation), a span records
//! `black_from`: its `free_index` when marking found it in a cache or when a cache took it
//! while marking ran (0 for a large object allocated then). Slots are handed out in index
//! order and survivors are never handed out, so the free slots in `black_from..free_index`
//! are exactly those allocated since, and the sweep counts them as marked. A span cached
//! again in the same cycle (an exiting M flushed it) keeps the earlier `black_from`. A marker
//! that reaches one of these objects marks it as any other: it scans it (harmless, if useless)
//! and counts its bytes in the live heap (Go counts every object allocated black there). The
//! sweep forgets `black_from`. It is owned state, like the rest of `alloc`.

use super::object::Header;
use super::sizeclass::{objects_per_span, CLASS_SIZE, DIV_MUL, PAGE_SHIFT, PAGE_SIZE};
use std::cell::{Cell, UnsafeCell};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::NonNull;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::AtomicPtr;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::Relaxed;

/// Chunks of linear memory are 4 MiB, aligned to 4 MiB, so an address's chunk is found by
/// masking it.
pub(crate) const CHUNK_SHIFT: usize = 22;
pub(crate) const CHUNK_SIZE: usize = 1 << CHUNK_SHIFT;
pub(crate) const PAGES_PER_CHUNK: usize = CHUNK_SIZE / PAGE_SIZE;

/// Byte written over freed objects when `clobber_free` is on (Go's `GODEBUG=clobberfree=1`).
pub(crate) const CLOBBER: u8 = 0xDB;

/// The first page of every chunk: the span of each page (null for free pages and page 0).
/// Written under the page heap's lock when a span is created or freed; read by markers, for
/// objects whose pointer reached them after the span was created (through a lock or the
/// collector's hand-offs, which order the write before the read). No span is freed while
/// marking runs (nothing is swept then).
#[repr(C)]
pub(crate) struct ChunkMeta {
    spans: [AtomicPtr<Span>; PAGES_PER_CHUNK],
}

const _: () = assert!(std::mem::size_of::<ChunkMeta>() <= PAGE_SIZE);

impl ChunkMeta {
    /// # Safety
    /// `chunk` is the base of a live chunk.
    pub(crate) unsafe fn of<'a>(chunk: usize) -> &'a ChunkMeta {
        // SAFETY: the caller's contract; page 0 of a chunk holds its (zero-initialized) meta.
        unsafe { &*(chunk as *const ChunkMeta) }
    }

    pub(crate) fn set(&self, first_page: usize, npages: usize, span: *mut Span) {
        for slot in &self.spans[first_page..first_page + npages] {
            slot.store(span, Relaxed);
        }
    }
}

/// The span holding the object whose header is at `addr`.
///
/// # Safety
/// `addr` is the header of an object in a live span (every `Gc` and root points at one).
#[inline]
pub(crate) unsafe fn span_of<'a>(addr: usize) -> &'a Span {
    let chunk = addr & !(CHUNK_SIZE - 1);
    let page = (addr - chunk) >> PAGE_SHIFT;
    // SAFETY: the caller's contract: the chunk is live and its page table names the span.
    unsafe { &*ChunkMeta::of(chunk).spans[page].load(Relaxed) }
}

/// `AllocState::black_from` when no allocation is black.
const NOT_BLACK: usize = usize::MAX;

struct AllocState {
    bits: Box<[u64]>,
    free_index: usize,
    /// Slots from here to `free_index` that were free are allocated black (module header).
    black_from: usize,
    /// Inverted `bits` of the word at `cache_base`, minus the slots already handed out.
    cache: u64,
    cache_base: usize,
    /// Slots holding objects.
    count: usize,
}

pub(crate) struct Span {
    /// Address of slot 0 (the first page).
    pub(crate) base: usize,
    pub(crate) npages: usize,
    /// Size class; 0 for a large object.
    pub(crate) class: usize,
    pub(crate) elem_size: usize,
    pub(crate) nelems: usize,
    div_mul: u32,
    mark: Box<[AtomicU64]>,
    /// Whether an object with drop glue was ever allocated here (module header). Set by the
    /// allocating M, read by sweeps, which the collector's pauses order after it.
    may_drop: AtomicBool,
    alloc: UnsafeCell<AllocState>,
}

/// A span handed between owners (see the module header).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct SpanPtr(NonNull<Span>);

// SAFETY: a SpanPtr is used only by the span's current owner (module header).
unsafe impl Send for SpanPtr {}

impl SpanPtr {
    pub(crate) fn new(span: Box<Span>) -> Self {
        SpanPtr(NonNull::from(Box::leak(span)))
    }

    /// # Safety
    /// The span has not been freed (`into_box`).
    pub(crate) unsafe fn get<'a>(self) -> &'a Span {
        // SAFETY: the caller's contract.
        unsafe { self.0.as_ref() }
    }

    pub(crate) fn as_ptr(self) -> *mut Span {
        self.0.as_ptr()
    }

    /// # Safety
    /// The caller owns the span and nothing refers to it any more.
    pub(crate) unsafe fn into_box(self) -> Box<Span> {
        // SAFETY: the pointer came from Box::leak in `new`.
        unsafe { Box::from_raw(self.0.as_ptr()) }
    }
}

/// What a sweep found.
pub(crate) struct Swept {
    pub(crate) live: usize,
    pub(crate) freed: usize,
}

thread_local! {
    /// Set while this thread runs the `Drop` of dead objects (see `dropping`).
    static DROPPING: Cell<bool> = const { Cell::new(false) };
}

/// Whether this thread is running the `Drop` of a dead heap object: allocating in the heap
/// from there is refused (it would re-enter the cache that is being refilled).
pub(crate) fn dropping() -> bool {
    DROPPING.with(Cell::get)
}

impl Span {
    /// A span over `npages` pages at `base` for class `class` (0: one large object, which
    /// occupies slot 0 from the start).
    pub(crate) fn new(base: usize, npages: usize, class: usize) -> Box<Span> {
        let (elem_size, nelems) = if class == 0 {
            (npages * PAGE_SIZE, 1)
        } else {
            (CLASS_SIZE[class] as usize, objects_per_span(class))
        };
        let words = nelems.div_ceil(64);
        let large = usize::from(class == 0);
        Box::new(Span {
            base,
            npages,
            class,
            elem_size,
            nelems,
            div_mul: DIV_MUL[class],
            mark: (0..words).map(|_| AtomicU64::new(0)).collect(),
            may_drop: AtomicBool::new(false),
            alloc: UnsafeCell::new(AllocState {
                bits: vec![0; words].into_boxed_slice(),
                free_index: large,
                black_from: NOT_BLACK,
                cache: !0,
                cache_base: 0,
                count: large,
            }),
        })
    }

    #[inline]
    fn index_of(&self, addr: usize) -> usize {
        (((addr - self.base) as u64 * self.div_mul as u64) >> 32) as usize
    }

    /// Sets the mark bit of the object at `addr`; true if this call set it.
    #[inline]
    pub(crate) fn mark(&self, addr: usize) -> bool {
        let i = self.index_of(addr);
        let (word, bit) = (&self.mark[i / 64], 1u64 << (i % 64));
        word.load(Relaxed) & bit == 0 && word.fetch_or(bit, Relaxed) & bit == 0
    }

    /// From now until the next sweep, objects allocated here are allocated black (module
    /// header); a large object's span is black from slot 0.
    ///
    /// # Safety
    /// The caller owns the span.
    pub(crate) unsafe fn allocate_black(&self) {
        // SAFETY: the caller owns the span (module header).
        let st = unsafe { &mut *self.alloc.get() };
        let from = if self.class == 0 { 0 } else { st.free_index };
        st.black_from = st.black_from.min(from);
    }

    /// Notes that an object with drop glue lives in this span: sweeps must run it.
    #[inline]
    pub(crate) fn note_drop(&self) {
        if !self.may_drop.load(Relaxed) {
            self.may_drop.store(true, Relaxed);
        }
    }

    /// Takes a free slot: its address, or `None` if the span is full.
    ///
    /// # Safety
    /// The caller owns the span.
    #[inline]
    pub(crate) unsafe fn alloc(&self) -> Option<usize> {
        // SAFETY: the caller owns the span (module header).
        let st = unsafe { &mut *self.alloc.get() };
        loop {
            if st.cache != 0 {
                let i = st.cache_base + st.cache.trailing_zeros() as usize;
                if i >= self.nelems {
                    return None;
                }
                st.cache &= st.cache - 1;
                st.free_index = i + 1;
                st.count += 1;
                return Some(self.base + i * self.elem_size);
            }
            let next = st.cache_base + 64;
            if next >= self.nelems {
                return None;
            }
            st.cache_base = next;
            st.cache = !st.bits[next / 64];
        }
    }

    /// Slots holding objects.
    ///
    /// # Safety
    /// The caller owns the span.
    pub(crate) unsafe fn count(&self) -> usize {
        // SAFETY: the caller owns the span.
        unsafe { (*self.alloc.get()).count }
    }

    /// Frees every object that holds a slot but is not marked, then makes the marks the new
    /// allocation bits and clears them (Go's `mspan.sweep`).
    ///
    /// # Safety
    /// The caller owns the span and no marking is in progress.
    pub(crate) unsafe fn sweep(&self, clobber: bool) -> Swept {
        // SAFETY: the caller owns the span.
        let st = unsafe { &mut *self.alloc.get() };
        let (mut live, mut freed) = (0, 0);
        let visit = clobber || self.may_drop.load(Relaxed);
        // Slots `i` with `lo <= i < end` of the word at `lo`.
        let below = |end: usize, lo: usize| match end.saturating_sub(lo) {
            0 => 0,
            n if n >= 64 => !0,
            n => (1u64 << n) - 1,
        };
        for w in 0..st.bits.len() {
            let lo = w * 64;
            let allocated_since = below(st.free_index, lo);
            let black = allocated_since & !below(st.black_from, lo) & !st.bits[w];
            let marks = self.mark[w].load(Relaxed) | black;
            let mut dead = (st.bits[w] | allocated_since) & !marks;
            freed += dead.count_ones() as usize;
            while visit && dead != 0 {
                let i = lo + dead.trailing_zeros() as usize;
                dead &= dead - 1;
                // SAFETY: slot `i` holds an object (see "Which slots hold objects") that is
                // unreachable, and the caller owns the span.
                unsafe { self.free_slot(self.base + i * self.elem_size, clobber) };
            }
            st.bits[w] = marks;
            self.mark[w].store(0, Relaxed);
            live += marks.count_ones() as usize;
        }
        st.free_index = 0;
        st.black_from = NOT_BLACK;
        st.cache_base = 0;
        st.cache = !st.bits[0];
        st.count = live;
        Swept { live, freed }
    }

    /// Forgets every mark, black allocation included, so that the next sweep frees every
    /// object (the heap is dropped).
    ///
    /// # Safety
    /// The caller owns the span.
    pub(crate) unsafe fn clear_marks(&self) {
        self.mark.iter().for_each(|w| w.store(0, Relaxed));
        // SAFETY: the caller owns the span.
        unsafe { (*self.alloc.get()).black_from = NOT_BLACK };
    }

    /// # Safety
    /// `slot` holds an unreachable object that nothing will use again.
    unsafe fn free_slot(&self, slot: usize, clobber: bool) {
        // SAFETY: the slot holds an object, so its header was written at allocation.
        let vtable = unsafe { (*(slot as *const Header)).vtable };
        if let Some(drop) = vtable.drop {
            let was = DROPPING.with(|d| d.replace(true));
            // A panicking Drop must not unwind through the sweeper (which may be a stopped
            // world's M): the panic hook has reported it; the object is freed regardless.
            // SAFETY: the object is initialized and unreachable (the caller's contract).
            let _ = catch_unwind(AssertUnwindSafe(|| unsafe { drop((slot + vtable.offset) as *mut u8) }));
            DROPPING.with(|d| d.set(was));
        }
        if clobber {
            // SAFETY: the slot is `elem_size` bytes of this span, owned by the caller.
            unsafe { std::ptr::write_bytes(slot as *mut u8, CLOBBER, self.elem_size) };
        }
    }
}
