//! Unit tests of the heap's parts, without a runtime: spans (allocation order, mark bits,
//! sweeping, reuse of free slots), page reuse by empty spans, large objects, the limit.

use super::heap::{Config, Heap};
use super::object::Layout;
use super::sizeclass::{class_of, CLASS_SIZE, PAGE_SIZE};
use super::span::{span_of, CHUNK_SIZE};
use super::{init_object, Trace, Tracer};
use crate::platform::shim::Arc;
use crate::sched::world::World;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::Relaxed;

/// Counts its drops in the counter it points at.
struct Counted(&'static AtomicUsize);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Relaxed);
    }
}

// SAFETY: holds no Gc; Send + Sync.
unsafe impl Trace for Counted {
    const NEEDS_TRACE: bool = false;
    fn trace(&self, _: &mut Tracer<'_>) {}
}

/// Writes a `Counted` object into the slot at `addr`, as allocation does.
fn put(addr: usize, counter: &'static AtomicUsize) {
    // SAFETY: `addr` is a fresh slot of a live span, of at least `Layout::<Counted>::SIZE`
    // bytes, aligned to 8 (every slot is), owned by the test.
    unsafe { init_object(addr, Counted(counter)) };
}

/// Simulates the end of a collection in which nothing was marked since the last sweep.
fn end_cycle(heap: &Heap) {
    heap.flip_sweep();
}

#[test]
fn span_allocates_in_order_marks_once_and_sweeps_the_unmarked() {
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    let heap = Heap::new(Arc::new(World::new(1)), Config::default());
    let class = class_of(Layout::<Counted>::SIZE);
    let span = heap.cache_span(class).unwrap();
    // SAFETY: the span is ours (we play the per-P cache) and the heap outlives this test body.
    let s = unsafe { span.get() };
    let mut slots = Vec::new();
    // SAFETY: as above.
    while let Some(addr) = unsafe { s.alloc() } {
        put(addr, &DROPS);
        slots.push(addr);
    }
    assert_eq!(slots.len(), s.nelems);
    assert!(slots.windows(2).all(|w| w[1] == w[0] + CLASS_SIZE[class] as usize), "slots in address order");
    for (i, &addr) in slots.iter().enumerate() {
        // SAFETY: a live object of this heap.
        assert_eq!(unsafe { span_of(addr) }.base, s.base);
        if i % 3 == 0 {
            assert!(s.mark(addr), "first mark sets the bit");
            assert!(!s.mark(addr), "second mark finds it set");
        }
    }
    // SAFETY: ours, and no marking runs.
    let r = unsafe { s.sweep(false) };
    let live = slots.len().div_ceil(3);
    assert_eq!((r.live, r.freed), (live, slots.len() - live));
    assert_eq!(DROPS.load(Relaxed), slots.len() - live);
    // The freed slots come back, in address order; the survivors are skipped.
    let mut again = Vec::new();
    // SAFETY: ours.
    while let Some(addr) = unsafe { s.alloc() } {
        put(addr, &DROPS);
        again.push(addr);
    }
    let expected: Vec<usize> =
        slots.iter().enumerate().filter(|(i, _)| i % 3 != 0).map(|(_, &a)| a).collect();
    assert_eq!(again, expected);
    heap.uncache(span);
    drop(heap);
    assert_eq!(DROPS.load(Relaxed), slots.len() + again.len(), "dropping the heap drops every object");
}

#[test]
fn empty_spans_give_their_pages_back_for_reuse() {
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    let heap = Heap::new(Arc::new(World::new(1)), Config::default());
    let span = heap.cache_span(1).unwrap();
    // SAFETY: ours.
    let (base, addr) = unsafe { (span.get().base, span.get().alloc().unwrap()) };
    put(addr, &DROPS);
    heap.uncache(span);
    assert_eq!(heap.in_use.load(Relaxed), PAGE_SIZE);
    end_cycle(&heap);
    assert!(heap.sweep_pending());
    assert_eq!(heap.sweep_one(), Some(1), "the unmarked object dies and its span's page is freed");
    assert_eq!(DROPS.load(Relaxed), 1);
    assert!(!heap.sweep_pending());
    assert_eq!(heap.in_use.load(Relaxed), 0);
    // A span of another class reuses the page.
    let other = heap.cache_span(class_of(100)).unwrap();
    // SAFETY: ours.
    assert_eq!(unsafe { other.get().base }, base);
    heap.uncache(other);
    assert_eq!(heap.sys_bytes(), CHUNK_SIZE, "one chunk served everything");
}

#[test]
fn a_sweep_runs_every_drop_in_a_span_that_mixes_types_with_and_without_drop_glue() {
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    let heap = Heap::new(Arc::new(World::new(1)), Config::default());
    let class = class_of(Layout::<Counted>::SIZE);
    assert_eq!(class, class_of(Layout::<u64>::SIZE), "both types share a size class");
    let span = heap.cache_span(class).unwrap();
    // SAFETY: ours, and the heap outlives the test body.
    let s = unsafe { span.get() };
    let mut counted = 0;
    // Slots 0 and 1 hold objects without drop glue: the span learns of drop glue only later.
    for i in 0.. {
        // SAFETY: ours.
        let Some(addr) = (unsafe { s.alloc() }) else { break };
        if i % 3 == 2 {
            put(addr, &DROPS);
            counted += 1;
        } else {
            // SAFETY: a fresh slot of this span, of 16 bytes or more, owned by the test.
            unsafe { init_object(addr, 7u64) };
        }
    }
    assert_eq!(counted, s.nelems / 3);
    // SAFETY: ours, and no marking runs.
    let r = unsafe { s.sweep(false) };
    assert_eq!((r.live, r.freed), (0, s.nelems));
    assert_eq!(DROPS.load(Relaxed), counted, "every dead object with drop glue was dropped");
    heap.uncache(span);
}

#[test]
fn partial_spans_are_swept_lazily_by_allocation() {
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    let heap = Heap::new(Arc::new(World::new(1)), Config::default());
    let span = heap.cache_span(2).unwrap();
    // SAFETY: ours.
    let s = unsafe { span.get() };
    // SAFETY: ours.
    let kept = unsafe { s.alloc() }.unwrap();
    put(kept, &DROPS);
    // SAFETY: ours.
    let dead = unsafe { s.alloc() }.unwrap();
    put(dead, &DROPS);
    assert!(s.mark(kept));
    heap.uncache(span);
    end_cycle(&heap);
    // Allocation in that class sweeps the unswept span and reuses it rather than new pages.
    let again = heap.cache_span(2).unwrap();
    assert_eq!(again, span);
    assert_eq!(DROPS.load(Relaxed), 1);
    // SAFETY: ours.
    assert_eq!(unsafe { s.alloc() }, Some(dead), "the dead object's slot is free again");
    heap.uncache(again);
}

/// Objects allocated after `allocate_black` (marking started) survive the next sweep without
/// mark bits; the slots allocated before, and survivors in between, keep needing theirs; the
/// sweep after that frees them all.
#[test]
fn slots_allocated_black_survive_one_sweep_unmarked() {
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    let heap = Heap::new(Arc::new(World::new(1)), Config::default());
    let class = class_of(Layout::<Counted>::SIZE);
    let span = heap.cache_span(class).unwrap();
    // SAFETY: the span is ours (we play the per-P cache) and the heap outlives this test body.
    let s = unsafe { span.get() };
    // SAFETY: as above.
    let alloc = || unsafe { s.alloc() }.inspect(|&addr| put(addr, &DROPS)).unwrap();
    let before: Vec<usize> = (0..6).map(|_| alloc()).collect();
    // Survivors of a first cycle: slots 1 and 4, then slots 0, 2, 3 and 5 are free again.
    assert!(s.mark(before[1]) && s.mark(before[4]));
    // SAFETY: ours, no marking runs.
    assert_eq!(unsafe { s.sweep(false) }.live, 2);
    assert_eq!(DROPS.load(Relaxed), 4);
    let old = alloc();
    assert_eq!(old, before[0]);
    // Marking starts: what is allocated from here on is black.
    // SAFETY: ours.
    unsafe { s.allocate_black() };
    let black: Vec<usize> = (0..4).map(|_| alloc()).collect();
    assert_eq!(black[..3], [before[2], before[3], before[5]], "free slots in order, survivors skipped");
    // One survivor is marked; the other and the old object are not.
    assert!(s.mark(before[4]));
    // SAFETY: ours, marking over.
    let r = unsafe { s.sweep(false) };
    assert_eq!((r.live, r.freed), (5, 2), "four black objects and one marked survivor");
    assert_eq!(DROPS.load(Relaxed), 6);
    // SAFETY: ours, no marking runs: nothing is black any more.
    assert_eq!(unsafe { s.sweep(false) }.live, 0);
    assert_eq!(DROPS.load(Relaxed), 11);
    heap.uncache(span);

    // A large object allocated while marking runs is black from its slot 0.
    let big = heap.alloc_large(100_000).unwrap();
    put(big, &DROPS);
    // SAFETY: a live object of this heap, whose span nothing else touches in this test.
    let l = unsafe { span_of(big) };
    // SAFETY: as above.
    unsafe { l.allocate_black() };
    // SAFETY: as above.
    assert_eq!(unsafe { l.sweep(false) }.live, 1);
    // SAFETY: as above.
    assert_eq!(unsafe { l.sweep(false) }.live, 0);
    assert_eq!(DROPS.load(Relaxed), 12);
}

#[test]
fn large_objects_get_their_own_pages_and_huge_ones_their_own_chunks() {
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    let heap = Heap::new(Arc::new(World::new(1)), Config::default());
    let big = heap.alloc_large(100_000).unwrap();
    put(big, &DROPS);
    assert_eq!(big % PAGE_SIZE, 0);
    // SAFETY: a live object of this heap.
    let s = unsafe { span_of(big) };
    assert_eq!((s.class, s.npages, s.nelems), (0, 100_000usize.div_ceil(PAGE_SIZE), 1));
    let huge = heap.alloc_large(6 << 20).unwrap();
    put(huge, &DROPS);
    // SAFETY: a live object of this heap.
    assert_eq!(unsafe { span_of(huge) }.npages, (6 << 20) / PAGE_SIZE);
    assert_eq!(heap.sys_bytes(), CHUNK_SIZE + (8 << 20));
    assert!(s.mark(big));
    end_cycle(&heap);
    while heap.sweep_one().is_some() {}
    assert_eq!(DROPS.load(Relaxed), 1, "only the unmarked huge object died");
    assert_eq!(heap.sys_bytes(), CHUNK_SIZE, "its chunks went back");
    assert_eq!(heap.in_use.load(Relaxed), s.npages * PAGE_SIZE);
}

#[test]
fn the_heap_limit_is_a_hard_ceiling_and_sweeping_makes_room() {
    let heap = Heap::new(Arc::new(World::new(1)), Config { heap_limit: 64 << 10, ..Config::default() });
    let mut spans = Vec::new();
    let err = loop {
        match heap.cache_span(1) {
            Ok(span) => spans.push(span),
            Err(e) => break e,
        }
    };
    assert_eq!(spans.len(), 8, "eight 8 KiB pages fit in 64 KiB");
    assert!(err.to_string().contains("heap limit"), "{err}");
    assert_eq!((err.limit, err.in_use), (64 << 10, 64 << 10));
    for span in spans {
        heap.uncache(span);
    }
    end_cycle(&heap);
    // Nothing was allocated in them: the next allocation reclaims pages by sweeping.
    let span = heap.cache_span(5).unwrap();
    heap.uncache(span);
}

#[test]
fn admit_refuses_only_objects_whose_pages_alone_pass_the_limit() {
    use super::{admit_here, admit_with_tail};
    let heap = Heap::new(Arc::new(World::new(1)), Config { heap_limit: 64 << 10, ..Config::default() });
    // Small objects always may fit (a collection may make room); large ones if their pages do.
    assert!(heap.admit(1).is_ok());
    assert!(heap.admit(32 << 10).is_ok());
    assert!(heap.admit(64 << 10).is_ok());
    let err = heap.admit((64 << 10) + 1).unwrap_err();
    assert_eq!((err.requested, err.limit, err.in_use), ((64 << 10) + PAGE_SIZE, 64 << 10, 0));
    assert!(err.to_string().contains("heap limit"), "{err}");
    // The object's own header and value count.
    let own = Layout::<u64>::SIZE;
    assert!(admit_with_tail::<u64>(&heap, (64 << 10) - own).is_ok());
    assert!(admit_with_tail::<u64>(&heap, (64 << 10) - own + 1).is_err());
    // No limit: anything may fit.
    let unlimited = Heap::new(Arc::new(World::new(1)), Config::default());
    assert!(unlimited.admit(usize::MAX).is_ok());
    // Against the current runtime's heap, on an M only.
    assert!(admit_here::<u8>(1 << 20).is_none(), "not an M");
    let rt = crate::Runtime::builder().procs(1).heap_limit(1 << 20).start();
    let (big, fits) = rt
        .block_on(async {
            (admit_here::<u8>(2 << 20).map(|r| r.is_err()), admit_here::<u8>(512 << 10).map(|r| r.is_ok()))
        })
        .unwrap();
    assert_eq!((big, fits), (Some(true), Some(true)));
}

#[test]
fn objects_with_a_tail_keep_their_bytes_count_in_the_heap_and_are_freed() {
    use super::{alloc_with_tail, collect, stats, Gc};
    const SIZES: [usize; 6] = [0, 1, 100, 5000, 40_000, 1 << 20];
    let byte = |i: usize, n: usize| (i * 7 + n) as u8;
    let rt = crate::Runtime::builder().procs(2).start();
    let (grown, corrupt, left) = rt
        .block_on(async move {
            collect().await;
            let base = stats().heap_alloc;
            let roots: Vec<_> = SIZES
                .iter()
                .map(|&n| {
                    let gc = alloc_with_tail(n, n).unwrap_or_else(|(e, _)| panic!("{e}"));
                    // SAFETY: the object has `n` bytes of tail after its `usize`, ours to write.
                    unsafe {
                        let tail = Gc::as_ptr(gc).cast::<u8>().cast_mut().add(size_of::<usize>());
                        (0..n).for_each(|i| tail.add(i).write(byte(i, n)));
                    }
                    Gc::root(gc)
                })
                .collect();
            collect().await;
            let grown = stats().heap_alloc - base;
            let corrupt = roots
                .iter()
                .filter(|r| {
                    // SAFETY: rooted, so alive; its tail holds `n` bytes written above.
                    unsafe {
                        let n = *r.as_ptr();
                        let tail = r.as_ptr().cast::<u8>().add(size_of::<usize>());
                        (0..n).any(|i| *tail.add(i) != byte(i, n))
                    }
                })
                .count();
            drop(roots);
            collect().await;
            (grown, corrupt, stats().heap_alloc - base)
        })
        .unwrap();
    rt.shutdown();
    assert!(grown >= SIZES.iter().sum::<usize>() as u64, "tails count in heapAlloc: {grown}");
    assert_eq!(corrupt, 0, "tails survive a collection intact");
    assert_eq!(left, 0, "unrooted objects with tails are freed");
}

/// The assist ratio is the scan work left over the heap growth left before the goal: it
/// rises as the heap nears the goal, aims past it at the hard goal, and past that asks for
/// the rest of the work at once.
#[test]
fn assists_pay_the_work_left_over_the_runway_left() {
    use super::collect::assist_objects;
    const MIB: u64 = 1 << 20;
    // No cycle to learn from: one object per 8 bytes.
    assert_eq!(assist_objects(4096, 0, 0, 3 * MIB, 4 * MIB), 512);
    // 100,000 objects to scan over the 1 MiB left: 64 KiB of allocation owes 6250.
    assert_eq!(assist_objects(64 << 10, 100_000, 0, 3 * MIB, 4 * MIB), 6250);
    // Half of the work done, half of the runway left: the same ratio.
    assert_eq!(assist_objects(64 << 10, 100_000, 50_000, 3 * MIB + MIB / 2, 4 * MIB), 6250);
    // Nearer the goal with as much work left, the ratio rises.
    assert_eq!(assist_objects(64 << 10, 100_000, 0, 4 * MIB - MIB / 4, 4 * MIB), 25_000);
    // More scanned than the last cycle: a tenth of it is still expected.
    assert_eq!(assist_objects(64 << 10, 100_000, 150_000, 3 * MIB, 4 * MIB), 625);
    // At the goal, the runway is to a tenth beyond it.
    let at_goal = assist_objects(64 << 10, 100_000, 0, 4 * MIB, 4 * MIB);
    assert_eq!(at_goal, (64u64 << 10) as usize * 100_000 / (4 * MIB as usize / 10));
    // Past the hard goal, 64 KiB of allocation pays all the work left.
    assert_eq!(assist_objects(64 << 10, 100_000, 0, 5 * MIB, 4 * MIB), 100_000);
}
