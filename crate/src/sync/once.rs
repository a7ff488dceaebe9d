//! `Once` (Go's `sync.Once`): the first `call` runs its future to completion; every other
//! call, concurrent or later, waits until that has happened and runs nothing. If the first
//! call's future is dropped unfinished, the next caller runs its own (Go has no such case).
//!
//! A call is [`Once::begin`], the function, then [`Once::end`]: `begin` takes the lock and
//! says whether the function is still to run (holding the lock) or ran already (the lock given
//! back); `end` marks it done and unlocks. The JS facade makes the same two steps around a
//! JS callback, which runs in the caller's realm between two operations (`js/op.rs`).

use super::RawMutex;
use std::future::Future;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::{Acquire, Release};

#[derive(Default)]
pub struct Once {
    done: AtomicBool,
    lock: RawMutex,
}

#[cfg(not(loom))]
impl crate::sched::Held for Once {
    fn has_waiters(&self) -> bool {
        crate::sched::Held::has_waiters(&self.lock)
    }
}

impl Once {
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs `f` if no call has completed yet; returns whether this call ran it.
    pub async fn call<F: Future<Output = ()>>(&self, f: F) -> bool {
        if !self.begin().await {
            return false;
        }
        // Unlocks even if `f` panics or the caller is dropped mid-way.
        struct Unlock<'a>(&'a RawMutex);
        impl Drop for Unlock<'_> {
            fn drop(&mut self) {
                let _ = self.0.unlock();
            }
        }
        let unlock = Unlock(&self.lock);
        f.await;
        std::mem::forget(unlock);
        self.end();
        true
    }

    /// Waits for the lock: true if the function is still to run (the caller holds the lock
    /// and must call [`Once::end`] when it returns), false if it ran already (unlocked).
    pub(crate) async fn begin(&self) -> bool {
        if self.done.load(Acquire) {
            return false;
        }
        self.lock.lock().await;
        if self.done.load(Acquire) {
            let _ = self.lock.unlock();
            return false;
        }
        true
    }

    /// The function of the call whose [`Once::begin`] returned true has returned (or failed,
    /// which Go counts as returned): every later call runs nothing.
    pub(crate) fn end(&self) {
        self.done.store(true, Release);
        let _ = self.lock.unlock();
    }

    pub fn is_done(&self) -> bool {
        self.done.load(Acquire)
    }
}
