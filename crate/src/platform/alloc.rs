//! A thread-caching front for the wasm allocator (Go's `mcache` idea, for Rust's own heap).
//!
//! In threaded wasm, Rust's default allocator is one dlmalloc behind one global spin lock, which
//! every M (Worker) takes for every allocation and free: the waiters of blocked channel
//! operations, a `select`'s cases, goroutines' tasks. With two Ms ping-ponging through channels
//! that lock is contended on every operation. This front keeps, per thread, a short free list
//! for each small size class and goes to dlmalloc only when its list is empty (allocate) or
//! full (free).
//!
//! # Invariants
//! * A small request (size ≤ `MAX_SMALL`, alignment ≤ `ALIGN`) is served with a block of its
//!   class's size and `ALIGN` alignment, whichever thread allocates it: blocks of one class are
//!   interchangeable, so a block freed on one thread may serve an allocation on another.
//! * A cached block's first word links it to the next cached block of its class; a cached
//!   block belongs to exactly one thread's list, touched only by that thread (thread-local, no
//!   atomics). At most `MAX_CACHED` blocks wait per class and thread; beyond that, frees go
//!   back to dlmalloc, so a thread that only frees (a consumer) does not hoard memory.
//! * Blocks a thread caches when it ends stay allocated; a thread caches at most
//!   `MAX_CACHED` blocks of each class (≈ 40 KiB in all).
//! * `HELD` counts the bytes of every block the front holds from dlmalloc (handed out or
//!   cached), each rounded up to the chunk dlmalloc carves for it: added before a block is
//!   asked for, taken off after it is given back, so it never understates what dlmalloc has
//!   handed out (`memory::room` relies on that). Relaxed: it orders nothing, and dlmalloc
//!   takes its own global lock on the same calls anyway.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::ptr::null_mut;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::Relaxed;

/// Every small block has this alignment: dlmalloc's own (twice the word size in wasm), so
/// that asking it for a block never takes its slower aligned path. The rare request aligned
/// beyond it goes to dlmalloc directly.
const ALIGN: usize = 8;
/// Size classes, `GRAIN` bytes apart: class `i` holds blocks of `(i + 1) * GRAIN` bytes.
const GRAIN: usize = 16;
const CLASSES: usize = 16;
const MAX_SMALL: usize = CLASSES * GRAIN;
const MAX_CACHED: u32 = 32;

struct Lists {
    heads: [Cell<*mut u8>; CLASSES],
    counts: [Cell<u32>; CLASSES],
}

thread_local! {
    // Const-initialized and without a destructor: no lazy registration, usable at any time,
    // including while the thread's other thread-locals are being torn down.
    static LISTS: Lists = const {
        Lists { heads: [const { Cell::new(null_mut()) }; CLASSES], counts: [const { Cell::new(0) }; CLASSES] }
    };
}

/// The class of a small layout, or None for a large one.
fn class_of(layout: Layout) -> Option<usize> {
    (layout.size() <= MAX_SMALL && layout.align() <= ALIGN).then(|| layout.size().max(1).div_ceil(GRAIN) - 1)
}

fn class_layout(class: usize) -> Layout {
    // SAFETY: the size is a positive multiple of the power-of-two alignment, far below isize::MAX.
    unsafe { Layout::from_size_align_unchecked((class + 1) * GRAIN, ALIGN) }
}

/// Bytes of the blocks the front holds from [`System`] (see the invariants).
static HELD: AtomicUsize = AtomicUsize::new(0);

/// Bytes of dlmalloc's chunk for a request of `size` bytes: the size plus one word of header,
/// rounded up to twice the word size, at least four words (dlmalloc without footers).
fn chunk_bytes(size: usize) -> usize {
    const W: usize = size_of::<usize>();
    size.saturating_add(W + 2 * W - 1).max(4 * W) & !(2 * W - 1)
}

/// Bytes of the blocks the front holds from the system allocator, each with dlmalloc's
/// overhead: what the runtime has taken from the wasm memory beyond its static data.
pub(crate) fn held_bytes() -> usize {
    HELD.load(Relaxed)
}

/// `System.alloc`, counted in `HELD` (undone if it fails).
///
/// # Safety
/// As `GlobalAlloc::alloc`.
unsafe fn sys_alloc(layout: Layout) -> *mut u8 {
    let n = chunk_bytes(layout.size());
    HELD.fetch_add(n, Relaxed);
    // SAFETY: the caller's contract.
    let p = unsafe { System.alloc(layout) };
    if p.is_null() {
        HELD.fetch_sub(n, Relaxed);
    }
    p
}

/// `System.dealloc`, counted in `HELD`.
///
/// # Safety
/// As `GlobalAlloc::dealloc`.
unsafe fn sys_dealloc(ptr: *mut u8, layout: Layout) {
    // SAFETY: the caller's contract.
    unsafe { System.dealloc(ptr, layout) };
    HELD.fetch_sub(chunk_bytes(layout.size()), Relaxed);
}

/// The allocator: thread-local lists in front of [`System`] (dlmalloc in wasm).
pub struct ThreadCached;

// SAFETY: every block handed out is either fresh from System with a layout that fits the
// request (class size ≥ size, ALIGN ≥ align) or a block of the same class taken back from a
// list, which only ever holds blocks freed for that class (invariants above). A block is in at
// most one list, and lists are thread-local, so no block is handed out twice.
unsafe impl GlobalAlloc for ThreadCached {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let Some(c) = class_of(layout) else {
            // SAFETY: forwarded with the caller's layout.
            return unsafe { sys_alloc(layout) };
        };
        let cached = LISTS.with(|l| {
            let head = l.heads[c].get();
            if !head.is_null() {
                // SAFETY: `head` is a cached block of this class, whose first word is the link.
                l.heads[c].set(unsafe { *(head as *mut *mut u8) });
                l.counts[c].set(l.counts[c].get() - 1);
            }
            head
        });
        if cached.is_null() {
            // SAFETY: a valid non-zero layout.
            unsafe { sys_alloc(class_layout(c)) }
        } else {
            cached
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let Some(c) = class_of(layout) else {
            // SAFETY: a large block came from System with this layout.
            return unsafe { sys_dealloc(ptr, layout) };
        };
        let kept = LISTS.with(|l| {
            let n = l.counts[c].get();
            if n >= MAX_CACHED {
                return false;
            }
            // SAFETY: the block is ours now, word-aligned and at least GRAIN bytes long: room for
            // the link.
            unsafe { *(ptr as *mut *mut u8) = l.heads[c].get() };
            l.heads[c].set(ptr);
            l.counts[c].set(n + 1);
            true
        });
        if !kept {
            // SAFETY: a small block came from System with its class's layout.
            unsafe { sys_dealloc(ptr, class_layout(c)) }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller guarantees `new_size` with `layout.align()` is a valid layout.
        let new = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        match (class_of(layout), class_of(new)) {
            (Some(a), Some(b)) if a == b => ptr,
            (None, None) => {
                // Counted as the larger of the two sizes while the block may be either.
                let (old, new) = (chunk_bytes(layout.size()), chunk_bytes(new_size));
                HELD.fetch_add(new.saturating_sub(old), Relaxed);
                // SAFETY: a large block from System, resized there.
                let p = unsafe { System.realloc(ptr, layout, new_size) };
                let (keep, drop) = if p.is_null() { (old, new) } else { (new, old) };
                HELD.fetch_sub(drop.saturating_sub(keep), Relaxed);
                p
            }
            _ => {
                // SAFETY: a fresh block for `new`, the old contents copied up to the smaller
                // size, then the old block freed with its own layout.
                unsafe {
                    let p = self.alloc(new);
                    if !p.is_null() {
                        std::ptr::copy_nonoverlapping(ptr, p, layout.size().min(new_size));
                        self.dealloc(ptr, layout);
                    }
                    p
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fills `n` bytes at `p` with a pattern derived from `tag`, or checks them.
    fn pattern(p: *mut u8, n: usize, tag: u8, check: bool) {
        for i in 0..n {
            // SAFETY: `p` is a live block of at least `n` bytes.
            let b = unsafe { p.add(i) };
            let want = tag.wrapping_add(i as u8);
            if check {
                // SAFETY: as above.
                assert_eq!(unsafe { *b }, want, "byte {i} of block {tag} was overwritten");
            } else {
                // SAFETY: as above.
                unsafe { *b = want };
            }
        }
    }

    #[test]
    fn classes_cover_small_layouts_and_leave_large_ones() {
        let l = |size, align| Layout::from_size_align(size, align).unwrap();
        assert_eq!(class_of(l(0, 1)), Some(0));
        assert_eq!(class_of(l(16, 8)), Some(0));
        assert_eq!(class_of(l(17, 1)), Some(1));
        assert_eq!(class_of(l(MAX_SMALL, 8)), Some(CLASSES - 1));
        assert_eq!(class_of(l(MAX_SMALL + 1, 1)), None);
        assert_eq!(class_of(l(8, 16)), None, "over-aligned layouts go to the system allocator");
    }

    /// Live blocks never overlap and keep their contents, whether fresh or reused from a
    /// list, across frees that overflow the lists, and across reallocations within a class,
    /// between classes and to and from large sizes.
    #[test]
    fn blocks_are_distinct_reused_and_keep_their_contents() {
        let a = ThreadCached;
        let sizes: Vec<usize> = (0..600).map(|i| 1 + (i * 37) % (MAX_SMALL + 64)).collect();
        for round in 0..3u8 {
            let mut live: Vec<(*mut u8, Layout, u8)> = sizes
                .iter()
                .enumerate()
                .map(|(i, &n)| {
                    let layout = Layout::from_size_align(n, 1 << (i % 5)).unwrap();
                    // SAFETY: a non-zero layout.
                    let p = unsafe { a.alloc(layout) };
                    assert!(!p.is_null());
                    assert_eq!(p as usize % layout.align(), 0, "misaligned block");
                    let tag = round.wrapping_mul(31).wrapping_add(i as u8);
                    pattern(p, n, tag, false);
                    (p, layout, tag)
                })
                .collect();
            for (p, layout, tag) in &live {
                pattern(*p, layout.size(), *tag, true);
            }
            // Grow or shrink every other block, across classes and sizes.
            for (i, (p, layout, tag)) in live.iter_mut().enumerate().filter(|(i, _)| i % 2 == 0) {
                let new_size = [1, 15, 40, MAX_SMALL, MAX_SMALL + 100][i % 5];
                // SAFETY: `p` is live with `layout`; the new size is non-zero.
                let q = unsafe { a.realloc(*p, *layout, new_size) };
                assert!(!q.is_null());
                pattern(q, layout.size().min(new_size), *tag, true);
                *layout = Layout::from_size_align(new_size, layout.align()).unwrap();
                pattern(q, new_size, *tag, false);
                *p = q;
            }
            for (p, layout, tag) in live {
                pattern(p, layout.size(), tag, true);
                // SAFETY: freed once, with the layout it was allocated (or resized) with.
                unsafe { a.dealloc(p, layout) };
            }
        }
    }

    /// The count of held bytes follows a large block from allocation to free, by at least
    /// its size (other tests' threads allocate meanwhile, so only its own block is certain).
    #[test]
    fn held_bytes_count_a_large_block_while_it_lives() {
        let a = ThreadCached;
        let big = Layout::from_size_align(64 << 20, 8).unwrap();
        let before = held_bytes();
        // SAFETY: a valid layout; freed below with it.
        let p = unsafe { a.alloc(big) };
        assert!(!p.is_null());
        assert!(held_bytes() >= before + (64 << 20) - (32 << 20), "a 64 MiB block is counted");
        // SAFETY: as above.
        unsafe { a.dealloc(p, big) };
        assert_eq!(chunk_bytes(1), 4 * size_of::<usize>());
        assert_eq!(chunk_bytes(100), (100 + size_of::<usize>()).next_multiple_of(2 * size_of::<usize>()));
    }

    /// A freed small block is what the next allocation of its class on this thread gets.
    #[test]
    fn a_freed_block_serves_the_next_allocation_of_its_class() {
        let a = ThreadCached;
        let small = Layout::from_size_align(24, 8).unwrap();
        // SAFETY: a valid layout; the block is freed with it.
        let p = unsafe { a.alloc(small) };
        // SAFETY: as above.
        unsafe { a.dealloc(p, small) };
        let same_class = Layout::from_size_align(32, 8).unwrap();
        // SAFETY: as above.
        let q = unsafe { a.alloc(same_class) };
        assert_eq!(p, q);
        // SAFETY: as above.
        unsafe { a.dealloc(q, same_class) };
    }
}
