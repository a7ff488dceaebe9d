//! The local ring's overflow and the global run queue (Go's `runqput` overflow, `globrunqput`,
//! `globrunqget`), and the inbox of goroutines submitted or woken from outside any M.
//!
//! # Invariants
//! * The global queue is taken by Ms only, under its lock; `global_len` mirrors its length for
//!   lock-free looks (Release on change, Acquire on the emptiness check).
//! * The page's thread never takes the lock: it pushes into the lock-free inbox (`inbox.rs`),
//!   which an M drains into the tail of the global queue, registering the new goroutines on
//!   its own P (`drain_inbox`).
//! * Goroutines that will be bound to the M that starts them (JS goroutines), submitted from
//!   outside any P (the page, JS code in a system call whose P is held) or found by a spare M
//!   (`sysmon.rs`, which never starts one), wait apart, in `unstarted_inbox` and `unstarted`,
//!   for the Ms that host JS, which take them one at a time.
//! * A batch moved from the global queue fills at most half a ring, and each M takes its
//!   share (`len / procs + 1`), as Go's `globrunqget` does.

use super::g::UNBOUND;
use super::p::P;
use super::runq;
use super::shared::Shared;
use super::GRef;
use std::collections::VecDeque;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};

impl Shared {
    /// Puts a G at the tail of `p`'s ring (owner only), overflowing to the global queue.
    pub(crate) fn runqput(&self, p: &P, g: GRef) {
        p.runq.push_or_overflow(g, |batch| self.globrunqputbatch(batch));
    }

    pub(super) fn globrunqputbatch(&self, batch: Vec<GRef>) {
        let mut q = self.global.lock().unwrap();
        self.global_len.fetch_add(batch.len(), Release);
        q.extend(batch);
    }

    pub(crate) fn global_is_empty(&self) -> bool {
        self.global_len.load(Acquire) == 0 && self.inbox.is_empty()
    }

    pub(crate) fn global_len(&self) -> usize {
        self.global_len.load(Relaxed)
            + self.inbox.len()
            + self.unstarted_len.load(Relaxed)
            + self.unstarted_inbox.len()
    }

    /// Takes up to `max` Gs from the global queue (draining the inbox into it first): one to
    /// run now, the rest into `p`'s ring (Go's `globrunqget`).
    pub(crate) fn globrunqget(&self, m: usize, max: usize) -> Option<GRef> {
        if self.global_is_empty() {
            return None;
        }
        let mut q = self.global.lock().unwrap();
        self.drain_inbox(m, &mut q);
        let n = q.len().min(q.len() / self.gomaxprocs() + 1).min(max).min(runq::CAP as usize / 2);
        if n == 0 {
            return None;
        }
        self.global_len.fetch_sub(n, Release);
        let first = q.pop_front();
        let p = &self.procs[m];
        for g in q.drain(..n - 1) {
            self.runqput(p, g);
        }
        first
    }

    /// Puts a G that yielded (or was woken during its poll) at the tail of the global queue,
    /// behind every goroutine submitted so far (Go's `Gosched`; see "Where a runnable G goes").
    pub(crate) fn globrunqput_yielded(&self, m: usize, g: GRef) {
        let mut q = self.global.lock().unwrap();
        self.drain_inbox(m, &mut q);
        q.push_back(g);
        self.global_len.fetch_add(1, Release);
    }

    /// Queues a goroutine to start on an M that hosts JS (`Shared::unstarted`), and wakes one.
    pub(crate) fn unstarted_push(&self, g: GRef) {
        self.unstarted_inbox.push(g);
        self.drop_if_stopped(&self.unstarted_inbox);
        self.idle.wake_one();
    }

    /// Whether goroutines wait to start on an M that hosts JS (`Shared::unstarted`).
    pub(crate) fn unstarted_is_empty(&self) -> bool {
        self.unstarted_len.load(Acquire) == 0 && self.unstarted_inbox.is_empty()
    }

    /// Takes the oldest goroutine waiting to start on an M that hosts JS, registering on P `m`
    /// those submitted since. One at a time: in a ring, a spare M could steal them.
    pub(crate) fn unstarted_get(&self, m: usize) -> Option<GRef> {
        if self.unstarted_is_empty() {
            return None;
        }
        let mut q = self.unstarted.lock().unwrap();
        let incoming = self.unstarted_inbox.take_all();
        for g in &incoming {
            if g.registry_key.load(Relaxed) == u64::MAX {
                self.register(m, g);
            }
        }
        self.unstarted_len.fetch_add(incoming.len(), Release);
        q.extend(incoming);
        let g = q.pop_front()?;
        self.unstarted_len.fetch_sub(1, Release);
        Some(g)
    }

    /// Moves the inbox to the tail of the global queue `q` (whose lock the caller holds),
    /// registering on M `m` the goroutines submitted from outside.
    fn drain_inbox(&self, m: usize, q: &mut VecDeque<GRef>) {
        let incoming = self.inbox.take_all();
        for g in &incoming {
            if g.registry_key.load(Relaxed) == u64::MAX && g.home() == UNBOUND {
                self.register(m, g);
            }
        }
        self.global_len.fetch_add(incoming.len(), Release);
        q.extend(incoming);
    }
}
