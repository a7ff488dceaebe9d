//! Waiters (Go's `sudog`): what a blocked channel operation leaves in a channel's queue.
//!
//! A blocked send or receive owns one [`Waiter`]: its [`Parked`] (a state word and the
//! goroutine's waker) and its value slot, in one heap block. A blocked `select` owns one
//! `Parked` for all its cases, and each case its own slot. Every case waits in its channel's
//! send or receive queue as an [`Entry`]: plain pointers to the `Parked` and to the slot, with
//! no reference count. The owner keeps both alive and in place (in [`Owned`] blocks) until no
//! queue holds them any more, so a blocked operation costs one allocation and, besides the
//! channel's lock, one atomic write to complete.
//!
//! # Completion
//! `Parked::state` moves once from WAITING to DONE, which names the completed case and whether
//! the channel was closed instead. The completer holds the lock of the channel whose queue held
//! the entry; it moves the value (into a receive's slot, out of a send's) and takes the waker.
//! * A single operation waits in one queue, and only that channel's lock holders complete it,
//!   so there is no race: the completer moves the value, takes the waker, and stores DONE
//!   (Release) as its last access to the waiter. The owner's lock-free load of DONE (Acquire)
//!   makes the value visible and gives the waiter back to the owner, who may free it at once.
//! * A select waits in several queues, whose completers hold different locks and race: each
//!   claims the waiter by a CAS from WAITING to DONE, and only the winner moves a value and
//!   takes the waker. The owner touches its slots and waker only with all its channels locked
//!   (it must lock them anyway to withdraw its other entries), so the winner has finished by
//!   then. An entry whose select is no longer WAITING is stale; completers drop it when they
//!   meet it, and the owner withdraws the rest.
//!
//! # The owner's side
//! Until it sees DONE, the owner touches its waiter only with the lock of every channel where
//! the waiter has an entry held: to put a new waker in (a poll with another waker), and to give
//! up (its future is dropped), which withdraws the entries. Completers hold one of those locks,
//! so neither can overlap a completion; a waiter withdrawn while WAITING was never completed.
//! Lock order: channels in address order (see `select.rs`); no lock is taken under a waiter.

use crate::platform::shim::{AtomicUsize, UnsafeCell};
use std::ptr::NonNull;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Release};
use std::task::Waker;

const WAITING: usize = usize::MAX;

/// The waker a completion took, to wake once the transfer is done.
pub(crate) type Woken = Option<Waker>;

/// A value slot: the value a send case still holds, or the value a receive case got.
pub(crate) type Slot<T> = UnsafeCell<Option<T>>;

pub(crate) struct Parked {
    state: AtomicUsize,
    /// Several channels may complete it (a select), so completers claim it by CAS.
    select: bool,
    waker: UnsafeCell<Option<Waker>>,
}

impl Parked {
    pub(crate) fn new(waker: &Waker, select: bool) -> Self {
        Parked { state: AtomicUsize::new(WAITING), select, waker: UnsafeCell::new(Some(waker.clone())) }
    }

    /// The case that completed the waiter and whether a close did; None while it waits.
    pub(crate) fn outcome(&self) -> Option<(usize, bool)> {
        match self.state.load(Acquire) {
            WAITING => None,
            s => Some((s >> 1, s & 1 == 1)),
        }
    }

    /// Makes `waker` the one a completion wakes.
    ///
    /// # Safety
    /// The caller holds the lock of every channel where this waiter has an entry, and the
    /// waiter is still WAITING.
    pub(crate) unsafe fn set_waker(&self, waker: &Waker) {
        self.waker.with_mut(|w| {
            // SAFETY: completers hold one of the caller's locks, and nothing else touches the
            // waker (module header).
            let w = unsafe { &mut *w };
            if !w.as_ref().is_some_and(|old| old.will_wake(waker)) {
                *w = Some(waker.clone());
            }
        })
    }
}

/// A single send's or receive's waiter.
pub(crate) struct Waiter<T> {
    pub(crate) parked: Parked,
    slot: Slot<T>,
}

impl<T> Waiter<T> {
    pub(crate) fn new(waker: &Waker, value: Option<T>) -> Owned<Self> {
        Owned::new(Waiter { parked: Parked::new(waker, false), slot: UnsafeCell::new(value) })
    }

    /// The entry to queue in the channel.
    ///
    /// # Safety
    /// As for [`Entry::new`]: the caller keeps this waiter alive until the entry has left the
    /// queue (completed, or withdrawn under the channel's lock).
    pub(crate) unsafe fn entry(&self) -> Entry<T> {
        // SAFETY: passed on to the caller.
        unsafe { Entry::new(&self.parked, 0, &self.slot) }
    }

    /// Takes the value in the slot.
    ///
    /// # Safety
    /// The caller saw the waiter DONE, or holds the channel's lock.
    pub(crate) unsafe fn take(&self) -> Option<T> {
        // SAFETY: no completer touches a DONE waiter, nor one whose channel the caller locked.
        self.slot.with_mut(|s| unsafe { (*s).take() })
    }
}

/// A heap block owned through a plain pointer (a `Box` would claim unique access to it while
/// channel entries point into it). It stays in place however its owner moves.
pub(crate) struct Owned<W: ?Sized>(NonNull<W>);

impl<W> Owned<W> {
    pub(crate) fn new(w: W) -> Self {
        Owned::from_box(Box::new(w))
    }
}

impl<W: ?Sized> Owned<W> {
    pub(crate) fn from_box(b: Box<W>) -> Self {
        Owned(NonNull::from(Box::leak(b)))
    }
}

impl<W: ?Sized> std::ops::Deref for Owned<W> {
    type Target = W;
    fn deref(&self) -> &W {
        // SAFETY: the block lives until this owner drops it, and is only shared (interior
        // mutability under the waiter protocol).
        unsafe { self.0.as_ref() }
    }
}

impl<W: ?Sized> Drop for Owned<W> {
    fn drop(&mut self) {
        // SAFETY: the pointer came from `Box::leak` and this owner is its only one; its user no
        // longer leaves entries pointing into it (module header).
        drop(unsafe { Box::from_raw(self.0.as_ptr()) });
    }
}

// SAFETY: `Owned` is a `Box` with a plain pointer; it is as thread-safe as its content.
unsafe impl<W: ?Sized + Send> Send for Owned<W> {}
// SAFETY: as above.
unsafe impl<W: ?Sized + Sync> Sync for Owned<W> {}

// SAFETY: the waker and the slot are reached only under the protocol in the module header
// (the state word is atomic); values of type T move between threads through the slot.
unsafe impl Send for Parked {}
// SAFETY: as above.
unsafe impl Sync for Parked {}
// SAFETY: as above.
unsafe impl<T: Send> Send for Waiter<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for Waiter<T> {}

/// One case of a waiter, queued in a channel. Entries live in the channel's state and are
/// used only under its lock.
pub(crate) struct Entry<T> {
    parked: NonNull<Parked>,
    slot: NonNull<Slot<T>>,
    case: usize,
}

// SAFETY: an entry is only used under its channel's lock, to reach a waiter that its owner
// keeps alive while the entry is queued (`Entry::new`); values of type T move through it.
unsafe impl<T: Send> Send for Entry<T> {}

impl<T> Entry<T> {
    /// # Safety
    /// `parked` and `slot` stay alive and in place until the entry has left its channel's queue
    /// (completed, or withdrawn by the owner under the channel's lock), and the owner touches
    /// them only as the module header says.
    pub(crate) unsafe fn new(parked: &Parked, case: usize, slot: &Slot<T>) -> Self {
        Entry { parked: NonNull::from(parked), slot: NonNull::from(slot), case }
    }

    /// Completes the waiter for this entry's case, just taken out of its queue under the
    /// channel's lock: runs `transfer` on the slot and returns its result with the waker to
    /// wake. None if the entry was stale (its select completed through another case).
    pub(crate) fn complete<R>(
        self,
        closed: bool,
        transfer: impl FnOnce(&mut Option<T>) -> R,
    ) -> Option<(R, Woken)> {
        // SAFETY: the owner keeps the waiter alive while this entry was queued (`new`).
        let parked = unsafe { self.parked.as_ref() };
        let done = self.case << 1 | closed as usize;
        if parked.select && parked.state.compare_exchange(WAITING, done, AcqRel, Acquire).is_err() {
            return None;
        }
        debug_assert!(parked.select || parked.outcome().is_none(), "a single operation completed twice");
        // SAFETY: this completer won the claim (a select) or is the only one that can complete
        // the waiter (a single operation, under the lock); the owner keeps away until DONE and
        // the lock is released (module header). The slot is alive as `parked` is.
        let r = unsafe { self.slot.as_ref() }.with_mut(|s| transfer(unsafe { &mut *s }));
        // SAFETY: as above.
        let waker = parked.waker.with_mut(|w| unsafe { (*w).take() });
        if !parked.select {
            parked.state.store(done, Release);
        }
        Some((r, waker))
    }

    pub(crate) fn is_for(&self, parked: &Parked) -> bool {
        std::ptr::eq(self.parked.as_ptr(), parked)
    }
}
