//! `WaitGroup` (Go's `sync.WaitGroup`): a counter; `wait` completes when it reaches zero.
//!
//! Invariant: under the lock, `count >= 0`, and `waiters` is empty whenever `count == 0`
//! (reaching zero releases every waiter at once). An `add` that would make the counter negative
//! is refused with an error and changes nothing.
//!
//! # Wake-ups and memory ordering
//! A waiter queues itself in the same critical section in which it saw a count above zero, so
//! the `add` that brings the count to zero (under the same lock, which orders the two) finds
//! it and releases it. `Waiter::release` marks the waiter released (AcqRel swap) before it
//! takes its waker; a waiter that polls again stores its new waker and then looks at the mark
//! (`Waiter::update`), so a release that took the old waker is seen. The loom models below
//! fail if a waiter queues itself after releasing the lock.

use super::{set_wait_reason, WaitReason, Waiter};
use crate::platform::lock::Lock;
use crate::platform::shim::Arc;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Misuse of a `WaitGroup`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitGroupError;

impl fmt::Display for WaitGroupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("sync: negative WaitGroup counter")
    }
}

impl std::error::Error for WaitGroupError {}

/// Why [`WaitGroup::add_within`] changed nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AddError {
    /// The counter would go negative (Go's "sync: negative WaitGroup counter").
    Negative,
    /// The counter would pass its bound.
    Overflow,
}

pub(crate) struct State {
    count: i64,
    waiters: Vec<Arc<Waiter>>,
}

#[cfg(not(loom))]
impl crate::sched::Held for Lock<State> {
    fn has_waiters(&self) -> bool {
        !self.lock().waiters.is_empty()
    }
}

/// A cloneable handle to one wait group.
#[derive(Clone)]
pub struct WaitGroup {
    pub(crate) state: Arc<Lock<State>>,
}

impl Default for WaitGroup {
    fn default() -> Self {
        Self::new()
    }
}

impl WaitGroup {
    pub fn new() -> Self {
        WaitGroup { state: Arc::new(Lock::new(State { count: 0, waiters: Vec::new() })) }
    }

    /// Adds `delta` (may be negative) to the counter.
    pub fn add(&self, delta: i64) -> Result<(), WaitGroupError> {
        self.add_within(delta, i64::MAX).map_err(|_| WaitGroupError)
    }

    /// `add`, with the counter bounded by `max` (the JS facade keeps Go's int32 counter): if
    /// it would go negative or past `max`, nothing changes.
    pub(crate) fn add_within(&self, delta: i64, max: i64) -> Result<(), AddError> {
        let mut s = self.state.lock();
        let next = match s.count.checked_add(delta) {
            Some(n) if n < 0 => return Err(AddError::Negative),
            Some(n) if n <= max => n,
            _ => return Err(AddError::Overflow),
        };
        s.count = next;
        if next == 0 {
            // Released under the lock, for the reason `chan::wake` gives.
            std::mem::take(&mut s.waiters).iter().for_each(|w| {
                w.release();
            });
        }
        Ok(())
    }

    /// `add(-1)`.
    pub fn done(&self) -> Result<(), WaitGroupError> {
        self.add(-1)
    }

    pub fn count(&self) -> i64 {
        self.state.lock().count
    }

    /// Waits until the counter is zero.
    pub fn wait(&self) -> WaitGroupWait<'_> {
        WaitGroupWait { wg: self, waiter: None }
    }
}

pub struct WaitGroupWait<'a> {
    wg: &'a WaitGroup,
    waiter: Option<Arc<Waiter>>,
}

impl Future for WaitGroupWait<'_> {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if let Some(w) = &self.waiter {
            if w.is_released() || w.update(cx.waker()) {
                self.waiter = None;
                return Poll::Ready(());
            }
            set_wait_reason(WaitReason::WaitGroupWait);
            return Poll::Pending;
        }
        let mut s = self.wg.state.lock();
        if s.count == 0 {
            return Poll::Ready(());
        }
        let w = Waiter::new(cx.waker());
        s.waiters.push(w.clone());
        drop(s);
        self.waiter = Some(w);
        set_wait_reason(WaitReason::WaitGroupWait);
        Poll::Pending
    }
}

impl Drop for WaitGroupWait<'_> {
    fn drop(&mut self) {
        if let Some(w) = self.waiter.take() {
            self.wg.state.lock().waiters.retain(|x| !Arc::ptr_eq(x, &w));
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// A bounded add fails past either end and changes nothing; the unbounded one keeps i64.
    #[test]
    fn add_within_bounds_the_counter_and_changes_nothing_on_failure() {
        let wg = WaitGroup::new();
        assert_eq!(wg.add_within(-1, 10), Err(AddError::Negative));
        assert_eq!(wg.add_within(11, 10), Err(AddError::Overflow));
        wg.add_within(10, 10).unwrap();
        assert_eq!(wg.add_within(1, 10), Err(AddError::Overflow));
        assert_eq!(wg.add_within(-11, 10), Err(AddError::Negative));
        assert_eq!(wg.count(), 10);
        assert_eq!(wg.add(i64::MAX), Err(WaitGroupError), "i64 overflow is Go's negative counter");
        wg.add_within(-10, 10).unwrap();
        assert_eq!(wg.count(), 0);
        wg.add(i64::MAX).unwrap();
        assert_eq!(wg.count(), i64::MAX);
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    //! The real `WaitGroup` under loom (its state behind the loom version of `RawLock`):
    //! waiters are goroutines played by loom threads that block in `shim::block_on` until
    //! their waker is woken, so a waiter left behind is a deadlock loom reports.
    use super::*;
    use crate::platform::shim::{block_on, loom_check as check};

    /// `done` brings the count to 0 while two goroutines register as waiters: both return.
    #[test]
    fn loom_waitgroup_done_vs_two_waiters() {
        check(3, || {
            let wg = WaitGroup::new();
            wg.add(1).unwrap();
            let waiter = {
                let wg = wg.clone();
                loom::thread::spawn(move || block_on(wg.wait()))
            };
            let doer = {
                let wg = wg.clone();
                loom::thread::spawn(move || wg.done().unwrap())
            };
            block_on(wg.wait());
            assert_eq!(wg.count(), 0);
            waiter.join().unwrap();
            doer.join().unwrap();
            assert!(wg.state.lock().waiters.is_empty());
        });
    }

    /// Two `done`s race a waiter: it returns only once both ran.
    #[test]
    fn loom_waitgroup_two_dones_vs_waiter() {
        check(4, || {
            let wg = WaitGroup::new();
            wg.add(2).unwrap();
            let doers: Vec<_> = (0..2)
                .map(|_| {
                    let wg = wg.clone();
                    loom::thread::spawn(move || wg.done().unwrap())
                })
                .collect();
            block_on(wg.wait());
            assert_eq!(wg.count(), 0, "the waiter returned before the count reached 0");
            doers.into_iter().for_each(|t| t.join().unwrap());
        });
    }
}
