//! Shutting a runtime down: every M stops at its next schedule, drops the tasks of the
//! goroutines bound to it (a `!Send` future is dropped on its own thread) and exits; the last
//! M out drops everything left, which breaks the reference cycles between Gs and the runtime.
//!
//! # The fence pair
//! After the last M has drained the queues, nobody drains an inbox again, yet the page (or a
//! native thread) may still push into one: a goroutine woken or submitted from outside. The
//! pusher (`drop_if_stopped`) pushes, fences (SeqCst) and loads `running_ms`; the last M
//! (`release_everything`) stores `running_ms = 0`, fences (SeqCst) and drains. Of the two
//! fences, the later one sees the other side's write: either the drain sees the push, or the
//! pusher sees 0 and drops what it pushed itself. An unfinished task dropped either way
//! reports `Cancelled` to its joiner.

use super::g::G;
use super::inbox::Inbox;
use super::shared::Shared;
use crate::platform::shim::fence;
use std::sync::atomic::Ordering::{Relaxed, Release, SeqCst};

impl Shared {
    /// Stops every M at its next schedule. Lock-free: callable from the page's main thread.
    pub(crate) fn begin_shutdown(&self) {
        self.shutdown.store(true, Release);
        self.idle.unpark_all();
    }

    /// Called by the last M to exit: drops every remaining task and empties every queue,
    /// breaking the reference cycles between Gs and this runtime.
    pub(crate) fn release_everything(&self) {
        fence(SeqCst); // pairs with `drop_if_stopped`: `running_ms` is 0 now
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
        self.bound.iter().for_each(|b| drop(b.take_all()));
        self.global.lock().unwrap().clear();
        self.global_len.store(0, Release);
    }

    /// After the last M has emptied the queues at shutdown (`release_everything`), nobody
    /// drains an inbox again: a goroutine woken, or submitted, from outside after that is
    /// dropped here (its unfinished task reports `Cancelled`), or it would keep the runtime
    /// alive through `G::shared` forever. The SeqCst fences here and in `release_everything`
    /// make either the last M's drain see the push or this load see that M gone.
    pub(super) fn drop_if_stopped(&self, inbox: &Inbox<G>) {
        fence(SeqCst);
        if self.running_ms.load(Relaxed) == 0 {
            drop(inbox.take_all());
        }
    }
}
