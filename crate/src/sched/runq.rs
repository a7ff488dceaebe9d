//! The per-P local run queue: a bounded ring that one owner M fills and any M drains
//! (Go's `runq`, `runqput`, `runqget`, `runqgrab`/`runqsteal`, `runqputslow`).
//!
//! # Invariants
//! 1. Only the owner writes `tail` and the slots. Owner and thieves advance `head` with a CAS,
//!    which is how an item is claimed: whoever moves `head` past a slot owns what it read there.
//! 2. The items of the queue are the slots `[head, tail)` (indices wrap modulo `CAP`), and
//!    `tail - head <= CAP`.
//! 3. The owner writes slot `tail % CAP` only while `tail - head < CAP`, i.e. outside `[head, tail)`.
//!
//! # Memory ordering
//! The owner stores a slot (Relaxed) and then `tail` (Release); consumers load `tail` (Acquire)
//! before reading slots, so they read what was published. Consumers read slots before their
//! `head` CAS (AcqRel); the owner loads `head` (Acquire) before overwriting a slot, so a slot is
//! never overwritten before its reader has finished. A thief whose `head` is stale may read a
//! slot the owner is rewriting; its CAS then fails and it drops what it read. Slots are atomics,
//! so that race is benign.

use crate::platform::shim::{Arc, AtomicPtr, AtomicU32};
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};

/// Slots per ring: 256 as in Go; 4 under loom so that models reach wrap-around and overflow.
pub(crate) const CAP: u32 = if cfg!(loom) { 4 } else { 256 };

pub(crate) struct RunQueue<T> {
    head: AtomicU32,
    tail: AtomicU32,
    slots: Box<[AtomicPtr<T>]>,
}

// SAFETY: the ring owns `Arc<T>`s through raw pointers; moving them between threads is what the
// queue is for, which is sound when `Arc<T>` itself is Send + Sync.
unsafe impl<T: Send + Sync> Send for RunQueue<T> {}
// SAFETY: every shared access goes through atomics following the protocol in the module header.
unsafe impl<T: Send + Sync> Sync for RunQueue<T> {}

impl<T> RunQueue<T> {
    pub(crate) fn new() -> Self {
        RunQueue {
            head: AtomicU32::new(0),
            tail: AtomicU32::new(0),
            slots: (0..CAP).map(|_| AtomicPtr::new(std::ptr::null_mut())).collect(),
        }
    }

    fn slot(&self, i: u32) -> &AtomicPtr<T> {
        &self.slots[(i % CAP) as usize]
    }

    /// Number of queued items; exact for the owner, a snapshot for anyone else.
    pub(crate) fn len(&self) -> u32 {
        let t = self.tail.load(Acquire);
        let h = self.head.load(Acquire);
        t.wrapping_sub(h).min(CAP)
    }

    /// How many items were ever taken from the ring (wrapping): it moves whenever the owner or
    /// a thief takes one.
    pub(crate) fn taken(&self) -> u32 {
        self.head.load(Acquire)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Owner only: appends `item`, or hands it back when the ring is full.
    pub(crate) fn push(&self, item: Arc<T>) -> Result<(), Arc<T>> {
        let h = self.head.load(Acquire);
        let t = self.tail.load(Relaxed);
        if t.wrapping_sub(h) >= CAP {
            return Err(item);
        }
        self.slot(t).store(Arc::into_raw(item) as *mut T, Relaxed);
        self.tail.store(t.wrapping_add(1), Release);
        Ok(())
    }

    /// Owner only: appends `item`; when the ring is full, moves half of it plus `item` to
    /// `overflow` (the global queue) in FIFO order, as Go's `runqputslow` does.
    pub(crate) fn push_or_overflow(&self, mut item: Arc<T>, overflow: impl FnOnce(Vec<Arc<T>>)) {
        loop {
            match self.push(item) {
                Ok(()) => return,
                Err(back) => item = back,
            }
            // Re-read head: thieves may have taken items since `push` saw the ring full. Take
            // half only if it is still full (Go's `runqputslow` checks the same); otherwise
            // moving CAP/2 items would push head past tail.
            let h = self.head.load(Acquire);
            if self.tail.load(Relaxed).wrapping_sub(h) < CAP {
                continue;
            }
            let n = CAP / 2;
            let batch: Vec<*mut T> = (0..n).map(|i| self.slot(h.wrapping_add(i)).load(Relaxed)).collect();
            if self.head.compare_exchange(h, h.wrapping_add(n), AcqRel, Relaxed).is_ok() {
                let mut batch: Vec<Arc<T>> = batch
                    .into_iter()
                    // SAFETY: the CAS claimed these slots; each held a pointer from Arc::into_raw.
                    .map(|p| unsafe { Arc::from_raw(p) })
                    .collect();
                batch.push(item);
                overflow(batch);
                return;
            }
            // A thief took items meanwhile, so there is room now: retry the plain push.
        }
    }

    /// Owner (or anyone): takes the oldest item.
    pub(crate) fn pop(&self) -> Option<Arc<T>> {
        loop {
            let h = self.head.load(Acquire);
            let t = self.tail.load(Acquire);
            if t.wrapping_sub(h) == 0 || t.wrapping_sub(h) > CAP {
                if t.wrapping_sub(h) == 0 {
                    return None;
                }
                continue; // inconsistent snapshot of a foreign ring; reload
            }
            let p = self.slot(h).load(Relaxed);
            if self.head.compare_exchange(h, h.wrapping_add(1), AcqRel, Relaxed).is_ok() {
                // SAFETY: the CAS claimed slot `h`, which held a pointer from Arc::into_raw.
                return Some(unsafe { Arc::from_raw(p) });
            }
        }
    }

    /// Thief: moves half of this ring (`n - n/2` items) into `dst`, which the caller owns and
    /// which must be empty, and returns one of them to run at once.
    pub(crate) fn steal_into(&self, dst: &RunQueue<T>) -> Option<Arc<T>> {
        let dt = dst.tail.load(Relaxed);
        debug_assert!(dst.is_empty(), "steal_into needs an empty destination ring");
        loop {
            let h = self.head.load(Acquire);
            let t = self.tail.load(Acquire);
            let n = t.wrapping_sub(h);
            if n == 0 {
                return None;
            }
            if n > CAP {
                continue; // head and tail read at different times; reload
            }
            let n = n - n / 2;
            for i in 0..n {
                let p = self.slot(h.wrapping_add(i)).load(Relaxed);
                dst.slot(dt.wrapping_add(i)).store(p, Relaxed);
            }
            if self.head.compare_exchange(h, h.wrapping_add(n), AcqRel, Relaxed).is_ok() {
                // Keep the newest stolen item to run; publish the others in `dst`.
                let last = dst.slot(dt.wrapping_add(n - 1)).load(Relaxed);
                if n > 1 {
                    dst.tail.store(dt.wrapping_add(n - 1), Release);
                }
                // SAFETY: the CAS claimed the slots; each held a pointer from Arc::into_raw.
                return Some(unsafe { Arc::from_raw(last) });
            }
        }
    }
}

impl<T> Drop for RunQueue<T> {
    fn drop(&mut self) {
        while self.pop().is_some() {}
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn ring_with(n: usize) -> RunQueue<usize> {
        let q = RunQueue::new();
        for i in 0..n {
            q.push(Arc::new(i)).unwrap();
        }
        q
    }

    #[test]
    fn put_get_is_fifo() {
        let q = ring_with(10);
        assert_eq!(q.len(), 10);
        for i in 0..10 {
            assert_eq!(*q.pop().unwrap(), i);
        }
        assert!(q.pop().is_none());
    }

    #[test]
    fn push_fails_when_full() {
        let q = ring_with(CAP as usize);
        assert_eq!(*q.push(Arc::new(999)).unwrap_err(), 999);
    }

    #[test]
    fn wraps_around_many_times() {
        let q = RunQueue::new();
        let mut next = 0;
        for round in 0..(CAP as usize * 10) {
            q.push(Arc::new(round)).unwrap();
            // Net growth of one item every third round, capped at half the ring so it never
            // fills up while head and tail wrap around ten times.
            if round % 3 != 0 || q.len() >= CAP / 2 {
                assert_eq!(*q.pop().unwrap(), next);
                next += 1;
            }
        }
        while let Some(v) = q.pop() {
            assert_eq!(*v, next);
            next += 1;
        }
        assert_eq!(next, CAP as usize * 10);
    }

    #[test]
    fn steal_takes_half_rounded_up() {
        let victim = ring_with(7);
        let thief = RunQueue::new();
        let got = victim.steal_into(&thief).unwrap();
        assert_eq!(*got, 3, "returns the newest of the stolen half");
        assert_eq!(thief.len(), 3);
        assert_eq!(victim.len(), 3);
        let stolen: Vec<_> = std::iter::from_fn(|| thief.pop()).map(|v| *v).collect();
        assert_eq!(stolen, vec![0, 1, 2]);
        let left: Vec<_> = std::iter::from_fn(|| victim.pop()).map(|v| *v).collect();
        assert_eq!(left, vec![4, 5, 6]);
    }

    #[test]
    fn steal_single_and_empty() {
        let victim = ring_with(1);
        let thief = RunQueue::new();
        assert_eq!(*victim.steal_into(&thief).unwrap(), 0);
        assert!(thief.is_empty());
        assert!(victim.steal_into(&thief).is_none());
    }

    #[test]
    fn overflow_moves_half_plus_item_in_order() {
        let q = ring_with(CAP as usize);
        let mut moved = Vec::new();
        q.push_or_overflow(Arc::new(1000), |batch| moved = batch.into_iter().map(|v| *v).collect());
        let mut expect: Vec<usize> = (0..CAP as usize / 2).collect();
        expect.push(1000);
        assert_eq!(moved, expect);
        assert_eq!(q.len(), CAP / 2);
        assert_eq!(*q.pop().unwrap(), CAP as usize / 2);
    }

    #[test]
    fn drop_releases_items() {
        let item = Arc::new(5usize);
        let q = RunQueue::new();
        q.push(item.clone()).unwrap();
        drop(q);
        assert_eq!(Arc::strong_count(&item), 1);
    }

    #[test]
    fn concurrent_owner_and_thieves_lose_nothing() {
        use std::sync::atomic::{AtomicBool, Ordering};
        const N: usize = 200_000;
        let victim = Arc::new(RunQueue::<usize>::new());
        let done = Arc::new(AtomicBool::new(false));
        let thieves: Vec<_> = (0..3)
            .map(|_| {
                let victim = victim.clone();
                let done = done.clone();
                std::thread::spawn(move || {
                    let mine = RunQueue::new();
                    let mut seen = Vec::new();
                    while !done.load(Ordering::Acquire) || !victim.is_empty() {
                        if let Some(v) = victim.steal_into(&mine) {
                            seen.push(*v);
                            while let Some(v) = mine.pop() {
                                seen.push(*v);
                            }
                        }
                    }
                    seen
                })
            })
            .collect();
        let mut seen = Vec::new();
        let mut overflowed = Vec::new();
        for i in 0..N {
            victim.push_or_overflow(Arc::new(i), |b| overflowed.extend(b.into_iter().map(|v| *v)));
            if i % 5 == 0 {
                if let Some(v) = victim.pop() {
                    seen.push(*v);
                }
            }
        }
        done.store(true, Ordering::Release);
        for t in thieves {
            seen.extend(t.join().unwrap());
        }
        while let Some(v) = victim.pop() {
            seen.push(*v);
        }
        seen.extend(overflowed);
        seen.sort_unstable();
        assert_eq!(seen, (0..N).collect::<Vec<_>>(), "every item taken exactly once");
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::platform::shim::loom_check as check;
    use loom::thread;

    /// A thread that steals once from `q` into a ring of its own and returns what it got.
    fn spawn_thief(q: Arc<RunQueue<usize>>) -> thread::JoinHandle<Vec<usize>> {
        thread::spawn(move || {
            let mine = RunQueue::new();
            let mut got = Vec::new();
            if let Some(v) = q.steal_into(&mine) {
                got.push(*v);
            }
            drain(&mine, &mut got);
            got
        })
    }

    fn drain(q: &RunQueue<usize>, out: &mut Vec<usize>) {
        while let Some(v) = q.pop() {
            out.push(*v);
        }
    }

    /// The owner pushes past capacity (wrap-around and overflow) and pops, while a thief
    /// steals: every item is taken exactly once.
    #[test]
    fn loom_ring_push_pop_steal() {
        check(5, || {
            let q = Arc::new(RunQueue::<usize>::new());
            let thief = spawn_thief(q.clone());
            let mut got = Vec::new();
            for i in 0..6 {
                q.push_or_overflow(Arc::new(i), |b| got.extend(b.into_iter().map(|v| *v)));
                if i == 2 {
                    if let Some(v) = q.pop() {
                        got.push(*v);
                    }
                }
            }
            got.extend(thief.join().unwrap());
            drain(&q, &mut got);
            got.sort_unstable();
            assert_eq!(got, (0..6).collect::<Vec<_>>());
        });
    }

    /// Two thieves race on one ring.
    #[test]
    fn loom_ring_two_thieves() {
        check(5, || {
            let q = Arc::new(RunQueue::<usize>::new());
            for i in 0..3 {
                q.push(Arc::new(i)).unwrap();
            }
            let thieves: Vec<_> = (0..2).map(|_| spawn_thief(q.clone())).collect();
            let mut got = Vec::new();
            for t in thieves {
                got.extend(t.join().unwrap());
            }
            drain(&q, &mut got);
            got.sort_unstable();
            assert_eq!(got, vec![0, 1, 2]);
        });
    }
}
