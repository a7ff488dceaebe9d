//! Waiters (Go's `sudog`): what a blocked channel operation leaves in a channel's queue.
//!
//! One blocked operation, or one blocked `select` with all its cases, owns one [`Parked`]: a
//! state word and the goroutine's waker. Each case it waits on puts an [`Entry`] in a channel's
//! send or receive queue, pointing at the shared `Parked` and at the case's [`Slot`].
//!
//! # Claiming
//! Whoever completes a waiter first *claims* it: a CAS of `state` from WAITING to the index of
//! the case that completed, with a bit saying whether the channel was closed instead. Only one case of a select can win, so no two channels can both hand
//! it a value. Entries of a waiter that is no longer WAITING are stale; channels drop them
//! when they meet them, and the winner withdraws its other entries eagerly.
//!
//! # The slot
//! A send case's slot holds the value to send until a receiver claims the waiter and takes it;
//! a receive case's slot receives the value from the sender that claimed it. The claimer holds
//! the slot's lock across the claim and the transfer ([`Entry::complete`]), so a waiter that sees
//! itself claimed and then locks its slot always finds the transfer done. Lock order: a
//! channel's lock, then a slot's. A waiter that gives up (its future is dropped) claims itself
//! as CANCELLED while holding the channel's lock.

use crate::sched::lock::Lock;
use crate::shim::{Arc, AtomicUsize};
use std::sync::atomic::Ordering::{AcqRel, Acquire};
use std::task::Waker;

const WAITING: usize = usize::MAX;
const CANCELLED: usize = usize::MAX - 1;

pub(crate) struct Parked {
    state: AtomicUsize,
    waker: Lock<Option<Waker>>,
}

impl Parked {
    pub(crate) fn new(waker: &Waker) -> Arc<Self> {
        Arc::new(Parked { state: AtomicUsize::new(WAITING), waker: Lock::new(Some(waker.clone())) })
    }

    fn claim(&self, case: usize, closed: bool) -> bool {
        self.state.compare_exchange(WAITING, case << 1 | closed as usize, AcqRel, Acquire).is_ok()
    }

    /// The waiter gives up; false if some case claimed it first.
    pub(crate) fn cancel(&self) -> bool {
        self.state.compare_exchange(WAITING, CANCELLED, AcqRel, Acquire).is_ok()
    }

    /// The case that completed the waiter, and whether it completed because of a close.
    pub(crate) fn outcome(&self) -> Option<(usize, bool)> {
        match self.state.load(Acquire) {
            WAITING | CANCELLED => None,
            s => Some((s >> 1, s & 1 == 1)),
        }
    }

    pub(crate) fn set_waker(&self, waker: &Waker) {
        let mut w = self.waker.lock();
        if !w.as_ref().is_some_and(|old| old.will_wake(waker)) {
            *w = Some(waker.clone());
        }
    }

    pub(crate) fn wake(&self) {
        if let Some(w) = self.waker.lock().take() {
            w.wake();
        }
    }
}

/// What a case carries: the value to send, or the value received.
pub(crate) type Slot<T> = Lock<Option<T>>;

pub(crate) struct Entry<T> {
    pub(crate) parked: Arc<Parked>,
    pub(crate) case: usize,
    pub(crate) slot: Arc<Slot<T>>,
}

impl<T> Entry<T> {
    /// Claims the waiter for this entry's case and runs `transfer` on its slot, holding the
    /// slot's lock across both. None if the waiter was no longer waiting (a stale entry).
    pub(crate) fn complete<R>(&self, closed: bool, transfer: impl FnOnce(&mut Option<T>) -> R) -> Option<R> {
        let mut slot = self.slot.lock();
        self.parked.claim(self.case, closed).then(|| transfer(&mut slot))
    }

    pub(crate) fn is_for(&self, parked: &Arc<Parked>) -> bool {
        Arc::ptr_eq(&self.parked, parked)
    }
}
