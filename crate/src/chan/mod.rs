//! Channels with Go's semantics (Go's `chan.go`).
//!
//! # Semantics
//! * Unbuffered (`cap == 0`): a send completes only when a receiver takes the value, handed
//!   over directly. Buffered: a ring of `cap` values.
//! * `close`: receivers drain what is buffered, then get `None` (Go's zero value with
//!   `ok == false`); a send on a closed channel, or one blocked when the channel closes, returns
//!   its value in a [`SendError`] ("send on closed channel"); a second close is a [`CloseError`]
//!   ("close of closed channel").
//! * Blocked senders and receivers are served first in, first out.
//!
//! # Invariants (all under the channel's lock)
//! 1. Receivers wait only while the buffer is empty and no sender waits; senders wait only
//!    while the buffer is full (`cap` values, or more after a give-back, see 3) and no receiver
//!    waits. So at most one queue holds live waiters, and a value never waits in a buffer while
//!    a receiver is blocked. A receive lets a blocked sender's value into the buffer only if
//!    that leaves at most `cap` values, so an unbuffered send still completes only when a
//!    receiver takes its own value.
//! 2. A value is in exactly one place at a time: a sender's slot, the buffer, or a receiver's
//!    slot, and moves between them only under the lock, by the one party that claimed the
//!    waiter involved (see `waiter.rs`). So no value is lost or delivered twice.
//! 3. A receive that is abandoned after a sender handed it a value (its future dropped, for
//!    instance at shutdown) gives the value back to the channel: to the next blocked receiver,
//!    else to the front of the buffer, even beyond `cap`.
//!
//! The lock is a [`RawLock`] (`select` holds several at once, `select.rs`); the page's thread
//! takes it only for the operations that never wait (`try_send`, `try_recv`, `close`, `len`).
//! Wake-ups happen before the lock is released (see `wake`).
//!
//! A blocked send or receive keeps its waiter (state word, waker, value slot) in one heap
//! block owned by its future; the channel's queue holds a plain pointer into it until the
//! waiter is completed or the future withdraws it under the lock (`waiter.rs`). The future
//! sees the completion with one lock-free load and takes the lock again only on a poll that
//! no completion caused (to register the new waker) and in its `Drop`.
//!
//! # Layout
//! `state.rs` holds the state under the lock and its non-blocking operations, `waiter.rs` the
//! waiters and their claiming protocol, `error.rs` the errors; this file the handle and the
//! send and receive futures, `select.rs` the select. The first three are also compiled under
//! loom, which checks the hand-off, close, select's withdrawal and waker re-registration over
//! every interleaving, slots and wakers included (the models at the end of `state.rs`).

mod error;
mod select;
mod state;
mod waiter;

pub use error::{CloseError, SendError, TryRecvError, TrySendError};
pub use select::{CaseChan, RecvCaseHandle, Select, SelectFuture, SelectOutcome, SendCaseHandle};

use crate::platform::lock::RawLock;
use crate::sched::{coop, set_wait_reason, WaitReason};
use state::{Attempt, State};
use std::cell::UnsafeCell;
use std::fmt;
use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use waiter::{Entry, Owned, Waiter, Woken};

pub(crate) struct Inner<T> {
    cap: usize,
    lock: RawLock,
    state: UnsafeCell<State<T>>,
}

// SAFETY: `state` is only reached with `lock` held (through `Locked` or `state_mut`); values
// of type T move between threads through it, hence `T: Send`.
unsafe impl<T: Send> Send for Inner<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for Inner<T> {}

impl<T: Send> crate::sched::Held for Inner<T> {
    fn has_waiters(&self) -> bool {
        let state = self.lock();
        state.has_waiters()
    }
}

// As for `platform::lock::Lock`: no user code and no panic runs under the channel's lock.
impl<T> std::panic::RefUnwindSafe for Inner<T> {}

impl<T> Inner<T> {
    pub(crate) fn lock(&self) -> Locked<'_, T> {
        self.lock.lock();
        Locked(self)
    }

    pub(crate) fn raw_lock(&self) -> &RawLock {
        &self.lock
    }

    /// # Safety
    /// The caller holds `self.raw_lock()` and has no other reference to the state.
    #[allow(clippy::mut_from_ref)]
    pub(crate) unsafe fn state_mut(&self) -> &mut State<T> {
        // SAFETY: exclusive by the caller's contract.
        unsafe { &mut *self.state.get() }
    }

    pub(crate) fn cap(&self) -> usize {
        self.cap
    }
}

/// The channel's state with its lock held; unlocks on drop.
pub(crate) struct Locked<'a, T>(&'a Inner<T>);

impl<T> Deref for Locked<'_, T> {
    type Target = State<T>;
    fn deref(&self) -> &State<T> {
        // SAFETY: this guard holds the lock.
        unsafe { &*self.0.state.get() }
    }
}

impl<T> DerefMut for Locked<'_, T> {
    fn deref_mut(&mut self) -> &mut State<T> {
        // SAFETY: this guard holds the lock, and `&mut self` makes this the only reference.
        unsafe { &mut *self.0.state.get() }
    }
}

impl<T> Drop for Locked<'_, T> {
    fn drop(&mut self) {
        // SAFETY: this guard holds the lock.
        unsafe { self.0.lock.unlock() }
    }
}

/// A channel handle; clones refer to the same channel (Go's `chan T`).
pub struct Chan<T> {
    pub(crate) inner: Arc<Inner<T>>,
}

impl<T> Clone for Chan<T> {
    fn clone(&self) -> Self {
        Chan { inner: self.inner.clone() }
    }
}

impl<T> fmt::Debug for Chan<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Chan(cap {}, len {})", self.cap(), self.len())
    }
}

/// Makes a channel with room for `cap` values (0: unbuffered), Go's `make(chan T, cap)`.
pub fn chan<T>(cap: usize) -> Chan<T> {
    Chan { inner: Arc::new(Inner { cap, lock: RawLock::new(), state: UnsafeCell::new(State::new(cap)) }) }
}

/// Wakes a waiter that an operation completed. Called with the channel's lock still held:
/// the page's thread is invisible to deadlock detection, so a goroutine it completes must be
/// runnable by the time the page releases the lock (`Shared::check_dead` looks at the page's
/// channels under their locks, then at goroutine states). Waking takes no channel lock.
fn wake(woken: Woken) {
    if let Some(w) = woken {
        w.wake();
    }
}

impl<T> Chan<T> {
    /// Sends `v`, waiting for room or for a receiver. On a closed channel, returns `v` back.
    pub fn send(&self, v: T) -> SendFuture<'_, T> {
        SendFuture { chan: self, value: Some(v), wait: None }
    }

    /// Receives a value; `None` once the channel is closed and drained.
    pub fn recv(&self) -> RecvFuture<'_, T> {
        RecvFuture { chan: self, wait: None }
    }

    pub fn try_send(&self, v: T) -> Result<(), TrySendError<T>> {
        let mut state = self.inner.lock();
        wake(state.try_send(self.inner.cap, v)?);
        Ok(())
    }

    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        let mut state = self.inner.lock();
        let (attempt, woken) = state.try_recv(self.inner.cap);
        wake(woken);
        drop(state);
        match attempt {
            Attempt::Done(Some(v)) => Ok(v),
            Attempt::Done(None) => Err(TryRecvError::Closed),
            Attempt::WouldBlock => Err(TryRecvError::Empty),
        }
    }

    /// Gives back a value [`Chan::try_recv`] took whose receiver cannot use it yet (the JS
    /// facade's, for a value that names a shared buffer its thread has not received): to the
    /// next blocked receiver, else to the front of the buffer, as invariant 3 does.
    #[cfg(target_arch = "wasm32")]
    pub(crate) fn give_back(&self, v: T) {
        let mut state = self.inner.lock();
        wake(state.give_back(v));
    }

    /// Closes the channel (Go's `close`).
    pub fn close(&self) -> Result<(), CloseError> {
        let mut state = self.inner.lock();
        state.close()?.into_iter().for_each(wake);
        Ok(())
    }

    /// Calls `f` on each buffered value, under the channel's lock.
    #[cfg(target_arch = "wasm32")]
    pub(crate) fn for_each_buffered(&self, f: impl FnMut(&T)) {
        self.inner.lock().buffered().for_each(f)
    }

    /// Empties the buffer of a channel nobody can use any more; the caller drops the values
    /// after the lock is released.
    #[cfg(target_arch = "wasm32")]
    pub(crate) fn take_buffered(&self) -> std::collections::VecDeque<T> {
        self.inner.lock().take_buffered()
    }

    /// Values buffered now.
    pub fn len(&self) -> usize {
        self.inner.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn cap(&self) -> usize {
        self.inner.cap
    }

    pub fn is_closed(&self) -> bool {
        self.inner.lock().is_closed()
    }

    /// Whether two handles are the same channel.
    pub fn same_channel(&self, other: &Chan<T>) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

/// Where a waiting send or receive is: none yet, or its waiter queued in the channel.
type Wait<T> = Option<Owned<Waiter<T>>>;

/// Queues a waiter for the operation being polled; `value` is a send's value. Called with the
/// channel's lock held (`state`).
fn enqueue<T>(cx: &Context<'_>, value: Option<T>, queue: impl FnOnce(Entry<T>)) -> Owned<Waiter<T>> {
    let waiter = Waiter::new(cx.waker(), value);
    // SAFETY: the waiter stays in its future until the entry is completed or withdrawn (under
    // the lock, in the future's `Drop`).
    queue(unsafe { waiter.entry() });
    waiter
}

/// A waiting operation's outcome: `Some(closed)` once completed. Otherwise the waker of this
/// poll is the one to wake, set under the channel's lock (`waiter.rs`): this happens only when
/// a goroutine is polled without having been woken by the channel.
fn poll_outcome<T>(chan: &Inner<T>, waiter: &Waiter<T>, cx: &Context<'_>) -> Option<bool> {
    if let Some((_, closed)) = waiter.parked.outcome() {
        return Some(closed);
    }
    let _state = chan.lock();
    if let Some((_, closed)) = waiter.parked.outcome() {
        return Some(closed);
    }
    // SAFETY: the waiter's only entry is in this channel, locked, and it is still waiting.
    unsafe { waiter.parked.set_waker(cx.waker()) };
    None
}

/// Future of [`Chan::send`].
pub struct SendFuture<'a, T> {
    chan: &'a Chan<T>,
    value: Option<T>,
    wait: Wait<T>,
}

impl<T> Unpin for SendFuture<'_, T> {}

impl<T> Future for SendFuture<'_, T> {
    type Output = Result<(), SendError<T>>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let Some(waiter) = &self.wait {
            let Some(closed) = poll_outcome(&self.chan.inner, waiter, cx) else {
                set_wait_reason(WaitReason::ChanSend);
                return Poll::Pending;
            };
            let waiter = self.wait.take().unwrap();
            return Poll::Ready(if closed {
                // SAFETY: the waiter is DONE.
                let v = unsafe { waiter.take() }.expect("a closed send keeps its value");
                Err(SendError(v))
            } else {
                Ok(())
            });
        }
        std::task::ready!(coop::poll_proceed(cx));
        let v = self.value.take().expect("SendFuture polled after completion");
        let mut state = self.chan.inner.lock();
        match state.try_send(self.chan.inner.cap, v) {
            Ok(woken) => {
                wake(woken);
                Poll::Ready(Ok(()))
            }
            Err(TrySendError::Closed(v)) => Poll::Ready(Err(SendError(v))),
            Err(TrySendError::Full(v)) => {
                let waiter = enqueue(cx, Some(v), |e| state.enqueue_send(e));
                drop(state);
                self.wait = Some(waiter);
                set_wait_reason(WaitReason::ChanSend);
                Poll::Pending
            }
        }
    }
}

impl<T> Drop for SendFuture<'_, T> {
    fn drop(&mut self) {
        if let Some(waiter) = self.wait.take() {
            let mut state = self.chan.inner.lock();
            if waiter.parked.outcome().is_none() {
                state.withdraw(&waiter.parked);
            }
            // The lock is released before the waiter (and a value it may still hold) is dropped.
            drop(state);
        }
    }
}

/// Future of [`Chan::recv`].
pub struct RecvFuture<'a, T> {
    chan: &'a Chan<T>,
    wait: Wait<T>,
}

impl<T> Unpin for RecvFuture<'_, T> {}

impl<T> Future for RecvFuture<'_, T> {
    type Output = Option<T>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        if let Some(waiter) = &self.wait {
            let Some(closed) = poll_outcome(&self.chan.inner, waiter, cx) else {
                set_wait_reason(WaitReason::ChanRecv);
                return Poll::Pending;
            };
            let waiter = self.wait.take().unwrap();
            // SAFETY: the waiter is DONE.
            return Poll::Ready(if closed { None } else { unsafe { waiter.take() } });
        }
        std::task::ready!(coop::poll_proceed(cx));
        let mut state = self.chan.inner.lock();
        match state.try_recv(self.chan.inner.cap) {
            (Attempt::Done(v), woken) => {
                wake(woken);
                Poll::Ready(v)
            }
            (Attempt::WouldBlock, _) => {
                let waiter = enqueue(cx, None, |e| state.enqueue_recv(e));
                drop(state);
                self.wait = Some(waiter);
                set_wait_reason(WaitReason::ChanRecv);
                Poll::Pending
            }
        }
    }
}

impl<T> Drop for RecvFuture<'_, T> {
    fn drop(&mut self) {
        if let Some(waiter) = self.wait.take() {
            let mut state = self.chan.inner.lock();
            if waiter.parked.outcome().is_none() {
                state.withdraw(&waiter.parked);
                return;
            }
            // SAFETY: the waiter is DONE.
            if let Some(v) = unsafe { waiter.take() } {
                wake(state.give_back(v));
            }
        }
    }
}
