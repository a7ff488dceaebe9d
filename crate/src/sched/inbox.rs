//! A lock-free multi-producer, single-drainer inbox (a Treiber stack drained whole).
//!
//! Used where the producer may be a thread that must never block or take a lock, such as the
//! page's main thread: goroutines submitted from outside any M, and wake-ups of goroutines bound
//! to one M. Producers push with a CAS loop; a consumer takes the whole list with one `swap`
//! and reverses it into FIFO order. Because nodes are never popped one by one, there is no ABA,
//! and two racing `take_all`s (as after shutdown) simply get disjoint parts.
//!
//! Memory ordering: a push publishes its node with a Release CAS; `take_all` swaps with
//! Acquire, so it sees every node it takes fully written. `len` is bumped before the push and
//! lowered after the take, so it never reads lower than the true length.

use crate::platform::shim::{Arc, AtomicPtr, AtomicUsize};
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};

struct Node<T> {
    item: Arc<T>,
    next: *mut Node<T>,
}

pub(crate) struct Inbox<T> {
    head: AtomicPtr<Node<T>>,
    len: AtomicUsize,
}

// SAFETY: nodes carry `Arc<T>` between threads; the list is only reached through atomics.
unsafe impl<T: Send + Sync> Send for Inbox<T> {}
// SAFETY: see the module header.
unsafe impl<T: Send + Sync> Sync for Inbox<T> {}

impl<T> Inbox<T> {
    pub(crate) fn new() -> Self {
        Inbox { head: AtomicPtr::new(std::ptr::null_mut()), len: AtomicUsize::new(0) }
    }

    pub(crate) fn push(&self, item: Arc<T>) {
        self.len.fetch_add(1, Relaxed);
        let node = Box::into_raw(Box::new(Node { item, next: std::ptr::null_mut() }));
        let mut head = self.head.load(Relaxed);
        loop {
            // SAFETY: `node` is ours until the CAS below publishes it.
            unsafe { (*node).next = head };
            match self.head.compare_exchange_weak(head, node, Release, Relaxed) {
                Ok(_) => return,
                Err(now) => head = now,
            }
        }
    }

    /// Takes every queued item, oldest first.
    pub(crate) fn take_all(&self) -> Vec<Arc<T>> {
        let mut p = self.head.swap(std::ptr::null_mut(), AcqRel);
        let mut items = Vec::new();
        while !p.is_null() {
            // SAFETY: the swap made this list ours alone; every node came from Box::into_raw.
            let node = unsafe { Box::from_raw(p) };
            p = node.next;
            items.push(node.item);
        }
        self.len.fetch_sub(items.len(), Relaxed);
        items.reverse();
        items
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.head.load(Acquire).is_null()
    }

    pub(crate) fn len(&self) -> usize {
        self.len.load(Relaxed)
    }
}

impl<T> Drop for Inbox<T> {
    fn drop(&mut self) {
        self.take_all();
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn fifo_and_len() {
        let inbox = Inbox::new();
        for i in 0..5 {
            inbox.push(Arc::new(i));
        }
        assert_eq!(inbox.len(), 5);
        let got: Vec<i32> = inbox.take_all().into_iter().map(|v| *v).collect();
        assert_eq!(got, vec![0, 1, 2, 3, 4]);
        assert!(inbox.is_empty());
        assert_eq!(inbox.len(), 0);
    }

    #[test]
    fn many_producers() {
        let inbox = Arc::new(Inbox::new());
        let producers: Vec<_> = (0..4)
            .map(|t| {
                let inbox = inbox.clone();
                std::thread::spawn(move || (0..10_000).for_each(|i| inbox.push(Arc::new(t * 10_000 + i))))
            })
            .collect();
        let mut got = Vec::new();
        while got.len() < 40_000 {
            got.extend(inbox.take_all().into_iter().map(|v| *v));
        }
        producers.into_iter().for_each(|p| p.join().unwrap());
        got.sort_unstable();
        assert_eq!(got, (0..40_000).collect::<Vec<_>>());
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::platform::shim::loom_check as check;

    #[test]
    fn loom_inbox_two_producers_one_drainer() {
        check(4, || {
            let inbox = Arc::new(Inbox::new());
            let ps: Vec<_> = (0..2)
                .map(|t| {
                    let inbox = inbox.clone();
                    loom::thread::spawn(move || {
                        inbox.push(Arc::new(t * 2));
                        inbox.push(Arc::new(t * 2 + 1));
                    })
                })
                .collect();
            let mut got: Vec<usize> = inbox.take_all().into_iter().map(|v| *v).collect();
            ps.into_iter().for_each(|p| p.join().unwrap());
            got.extend(inbox.take_all().into_iter().map(|v| *v));
            // Each producer's items stay in its order, and nothing is lost or duplicated.
            let pos = |v| got.iter().position(|&x| x == v).unwrap();
            assert!(pos(0) < pos(1) && pos(2) < pos(3));
            got.sort_unstable();
            assert_eq!(got, vec![0, 1, 2, 3]);
        });
    }
}
