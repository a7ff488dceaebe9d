//! The end of a runtime: every M stops at its next schedule (`begin_shutdown`), drops the
//! tasks of the goroutines bound to it (a `!Send` future is dropped on its own thread) and
//! exits; the last M out empties every queue, which breaks the reference cycles between Gs and
//! the runtime, and a goroutine pushed into an inbox after that (woken, or submitted, from
//! outside any M) is dropped by its pusher.
//!
//! # The protocol
//! Each M lowers the count of running Ms as it exits (`running_ms`, an AcqRel `fetch_sub`); the
//! one that brings it to 0 calls [`Shutdown::last_m_out`] and then drains every queue and
//! inbox (`Shared::release_everything`). Nobody drains an inbox after that, so a thread that
//! pushes a G into an inbox calls [`Shutdown::drop_if_stopped`] after the push: if no M runs
//! any more, it takes the inbox's contents and drops them itself (an unfinished task reports
//! `Cancelled`). Otherwise the G would keep the runtime alive forever through `G::shared`.
//!
//! # Invariant
//! Every G pushed into an inbox is dropped exactly once: by the M that drains it (while the
//! runtime runs, or the last M's final drain), or by a pusher that saw the runtime stopped.
//! Never twice: `Inbox::take_all` swaps the whole list out, so two racing drains get disjoint
//! parts.
//!
//! # Memory ordering
//! The store-buffering pattern, closed with two SeqCst fences: the last M writes the count (0)
//! then reads the inbox (its drain's swap); a pusher writes the inbox (its push's CAS) then
//! reads the count. With a SeqCst fence between the write and the read on each side, the
//! fences are ordered one way or the other: if the M's fence comes first, the pusher's load
//! sees the count at 0 and drops the G; if the pusher's fence comes first, the M's drain sees
//! the push. Both may happen (the pusher and the last M then take disjoint parts); neither
//! failing is impossible.
//!
//! The pusher's fence is the one nothing else can replace: without it both reads may see the
//! old values (count 1, inbox empty) and the G leaks. The M's fence is needed as long as the
//! drain is only an acquire: today `Inbox::take_all` swaps with AcqRel, and a push whose CAS
//! reads that swap's null then acquires it through the pusher's fence, so it sees the count
//! at 0 even without the M's fence. The fence stays (it runs once per runtime) so that the
//! protocol does not depend on the inbox's orderings. The loom model below fails if the
//! pusher's fence is removed, or if the M's fence is removed and the drain's swap is Acquire.
//!
//! Cost: one fence per push into an inbox from outside an M's P (a wake of a bound goroutine,
//! a goroutine submitted from the page), none on the run-queue paths.

use super::inbox::Inbox;
use crate::platform::shim::{fence, AtomicUsize};
use std::sync::atomic::Ordering::{Relaxed, SeqCst};
#[cfg(not(loom))]
use {super::g::G, super::shared::Shared, std::sync::atomic::Ordering::Release};

/// The shutdown protocol over a runtime's count of running Ms (module header).
pub(crate) struct Shutdown<'a> {
    running_ms: &'a AtomicUsize,
}

impl<'a> Shutdown<'a> {
    #[inline]
    pub(crate) fn new(running_ms: &'a AtomicUsize) -> Self {
        Shutdown { running_ms }
    }

    /// The pusher's half: after a push into `inbox`, drops the inbox's contents if the last M
    /// has gone (and so will not drain it).
    #[inline]
    pub(crate) fn drop_if_stopped<T>(&self, inbox: &Inbox<T>) {
        fence(SeqCst); // pairs with `last_m_out`
        if self.running_ms.load(Relaxed) == 0 {
            drop(inbox.take_all());
        }
    }

    /// The last M's half: called by the M that brought the count to 0, before it drains the
    /// inboxes.
    pub(crate) fn last_m_out(&self) {
        debug_assert_eq!(self.running_ms.load(Relaxed), 0, "the last M out drains");
        fence(SeqCst); // pairs with `drop_if_stopped`
    }
}

#[cfg(not(loom))]
impl Shared {
    /// Stops every M at its next schedule. Lock-free: callable from the page's main thread.
    pub(crate) fn begin_shutdown(&self) {
        self.shutdown.store(true, Release);
        self.idle.unpark_all();
        self.cancel_resizes();
    }

    /// Called by the last M to exit: drops every remaining task and empties every queue,
    /// breaking the reference cycles between Gs and this runtime.
    pub(crate) fn release_everything(&self) {
        Shutdown::new(&self.running_ms).last_m_out();
        let gs = self.all_gs();
        for g in &gs {
            g.drop_task();
        }
        drop(gs);
        for p in self.procs.iter() {
            std::mem::take(&mut *p.registry.lock().unwrap());
            p.lifo_take();
            while p.runq.pop().is_some() {}
            p.timers.clear();
        }
        // Goroutines submitted from outside and never taken by an M still hold their tasks.
        self.inbox.take_all().iter().for_each(|g| g.drop_task());
        self.unstarted_inbox.take_all().iter().for_each(|g| g.drop_task());
        self.unstarted.lock().unwrap().clear();
        self.unstarted_len.store(0, Release);
        self.bound.iter().for_each(|b| drop(b.take_all()));
        self.global.lock().unwrap().clear();
        self.global_len.store(0, Release);
    }

    /// After a push into `inbox` from outside an M's P: drops the inbox's contents if the last M
    /// has gone (`Shutdown::drop_if_stopped`).
    #[inline]
    pub(super) fn drop_if_stopped(&self, inbox: &Inbox<G>) {
        Shutdown::new(&self.running_ms).drop_if_stopped(inbox);
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    //! Ms exit and the last one out drains an inbox, as `M::exit` and
    //! `Shared::release_everything` do, while a thread outside the runtime pushes Gs into it
    //! and calls `drop_if_stopped`. Each G counts its drops: after every thread is joined, and
    //! before the inbox itself is dropped (which would hide a leak), each must have been
    //! dropped exactly once.
    use super::*;
    use crate::platform::shim::loom_check as check;
    use crate::platform::shim::Arc;
    use std::sync::atomic::Ordering::AcqRel;

    /// A goroutine: counts how often it is dropped.
    struct G(Arc<AtomicUsize>);

    impl Drop for G {
        fn drop(&mut self) {
            self.0.fetch_add(1, Relaxed);
        }
    }

    /// `M::exit`'s end: the M that brings the count to 0 drains.
    fn m_exit(running_ms: &AtomicUsize, inbox: &Inbox<G>) {
        if running_ms.fetch_sub(1, AcqRel) == 1 {
            Shutdown::new(running_ms).last_m_out();
            drop(inbox.take_all());
        }
    }

    fn model(ms: usize, pushes: usize) {
        check(4, move || {
            let running_ms = Arc::new(AtomicUsize::new(ms));
            let inbox = Arc::new(Inbox::new());
            let drops: Vec<_> = (0..pushes).map(|_| Arc::new(AtomicUsize::new(0))).collect();
            let exits: Vec<_> = (0..ms)
                .map(|_| {
                    let (running_ms, inbox) = (running_ms.clone(), inbox.clone());
                    loom::thread::spawn(move || m_exit(&running_ms, &inbox))
                })
                .collect();
            for d in &drops {
                inbox.push(Arc::new(G(d.clone())));
                Shutdown::new(&running_ms).drop_if_stopped(&inbox);
            }
            exits.into_iter().for_each(|t| t.join().unwrap());
            for d in &drops {
                assert_eq!(d.load(Relaxed), 1, "a G pushed at shutdown leaked or was dropped twice");
            }
        });
    }

    /// One M exits while a G is pushed from outside.
    #[test]
    fn loom_shutdown_push_vs_last_m() {
        model(1, 1);
    }

    /// Two Ms exit (either may be the last) while two Gs are pushed.
    #[test]
    fn loom_shutdown_two_ms_two_pushes() {
        model(2, 2);
    }
}
