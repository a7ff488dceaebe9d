//! `WaitGroup` (Go's `sync.WaitGroup`): a counter; `wait` completes when it reaches zero.
//!
//! Invariant: under the lock, `count >= 0`, and `waiters` is empty whenever `count == 0`
//! (reaching zero releases every waiter at once). An `add` that would make the counter negative
//! is refused with an error and changes nothing.

use super::Waiter;
use crate::platform::lock::Lock;
use crate::sched::{set_wait_reason, WaitReason};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
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

pub(crate) struct State {
    count: i64,
    waiters: Vec<Arc<Waiter>>,
}

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
        let mut s = self.state.lock();
        let next = s.count.checked_add(delta).filter(|&n| n >= 0).ok_or(WaitGroupError)?;
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
