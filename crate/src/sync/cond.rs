//! A condition variable (Go's `sync.Cond`) over a [`RawMutex`]: `wait` unlocks the mutex and
//! waits for a `signal` (the longest waiter) or a `broadcast` (every waiter), then locks the
//! mutex again before it returns.
//!
//! # Invariants
//! A waiter joins the queue before it unlocks the mutex, under the queue's lock, so a signal
//! sent by a goroutine that took the mutex after that unlock finds it queued: none is lost. A
//! signal releases the waiter it takes out of the queue (`Waiter::release`, once); a waiter
//! that gives up after it was released passes the signal on to the next, and one that gives up
//! before leaves the queue. Go's Cond cannot be given up on; the rule keeps "a signal wakes one
//! waiter" true when it is.

use super::{set_wait_reason, RawMutex, UnlockError, WaitReason, Waiter};
use crate::platform::lock::Lock;
use crate::platform::shim::Arc;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Go's `sync.Cond`, its locker given at each [`Cond::wait`].
#[derive(Default)]
pub struct Cond {
    waiters: Lock<VecDeque<Arc<Waiter>>>,
}

#[cfg(not(loom))]
impl crate::sched::Held for Cond {
    fn has_waiters(&self) -> bool {
        !self.waiters.lock().is_empty()
    }
}

impl Cond {
    pub fn new() -> Self {
        Self::default()
    }

    /// Unlocks `mutex`, waits for a signal or broadcast, and locks `mutex` again (Go's
    /// `Wait`). An error, with `mutex` untouched and nothing waited for, if it was not locked.
    pub async fn wait(&self, mutex: &RawMutex) -> Result<(), UnlockError> {
        self.notified(mutex).await?;
        mutex.lock().await;
        Ok(())
    }

    /// The first half of [`Cond::wait`]: unlocks `mutex` and waits for a signal or broadcast,
    /// without locking `mutex` again. Dropped unfinished, it gives up as the module header
    /// says (for a wait the JS facade aborts, which then locks `mutex` itself).
    pub(crate) fn notified<'a>(
        &'a self,
        mutex: &'a RawMutex,
    ) -> impl Future<Output = Result<(), UnlockError>> + 'a {
        Notified { cond: self, mutex, waiter: None }
    }

    /// Wakes the goroutine that has waited longest, if any (Go's `Signal`).
    pub fn signal(&self) {
        if let Some(w) = self.waiters.lock().pop_front() {
            w.release();
        }
    }

    /// Wakes every waiting goroutine (Go's `Broadcast`).
    pub fn broadcast(&self) {
        for w in std::mem::take(&mut *self.waiters.lock()) {
            w.release();
        }
    }
}

/// The wait for a signal, after unlocking the mutex.
struct Notified<'a> {
    cond: &'a Cond,
    mutex: &'a RawMutex,
    waiter: Option<Arc<Waiter>>,
}

impl Future for Notified<'_> {
    type Output = Result<(), UnlockError>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match &self.waiter {
            None => {
                let w = Waiter::new(cx.waker());
                self.cond.waiters.lock().push_back(w.clone());
                if let Err(e) = self.mutex.unlock() {
                    self.cond.waiters.lock().retain(|x| !Arc::ptr_eq(x, &w));
                    return Poll::Ready(Err(e));
                }
                self.waiter = Some(w);
            }
            Some(w) if w.update(cx.waker()) => {
                self.waiter = None;
                return Poll::Ready(Ok(()));
            }
            Some(_) => {}
        }
        set_wait_reason(WaitReason::CondWait);
        Poll::Pending
    }
}

impl Drop for Notified<'_> {
    fn drop(&mut self) {
        let Some(w) = self.waiter.take() else { return };
        let mut waiters = self.cond.waiters.lock();
        if w.is_released() {
            if let Some(next) = waiters.pop_front() {
                next.release();
            }
        } else {
            waiters.retain(|x| !Arc::ptr_eq(x, &w));
        }
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    //! The real `Cond` and `RawMutex` under loom: a waiter loops on a flag the signaller sets
    //! under the mutex, in every interleaving of the waiter's queueing and unlock with the
    //! signal; a lost signal leaves the waiter blocked for ever, which loom reports.
    use super::*;
    use crate::platform::shim::{block_on, loom_check as check, UnsafeCell};

    struct World {
        mutex: RawMutex,
        cond: Cond,
        ready: UnsafeCell<bool>,
    }

    #[test]
    fn loom_cond_signal_is_not_lost() {
        check(3, || {
            let w =
                Arc::new(World { mutex: RawMutex::new(), cond: Cond::new(), ready: UnsafeCell::new(false) });
            let waiter = {
                let w = w.clone();
                loom::thread::spawn(move || {
                    block_on(w.mutex.lock());
                    // SAFETY: the mutex is held around every use of the cell.
                    while !w.ready.with(|r| unsafe { *r }) {
                        block_on(w.cond.wait(&w.mutex)).unwrap();
                    }
                    w.mutex.unlock().unwrap();
                })
            };
            block_on(w.mutex.lock());
            // SAFETY: as above.
            w.ready.with_mut(|r| unsafe { *r = true });
            w.cond.signal();
            w.mutex.unlock().unwrap();
            waiter.join().unwrap();
            assert!(w.cond.waiters.lock().is_empty());
        });
    }
}
