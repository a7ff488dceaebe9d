//! Go's `sync` package for goroutines: [`WaitGroup`], [`Mutex`] (with starvation mode) and
//! [`Once`]. Each blocks a goroutine by returning `Pending` and is woken through its `Waker`;
//! the internal locks (`platform::lock`) are held for a few instructions; the page's main thread
//! may take them too (it spins, never waits), so `WaitGroup::add` and `RawMutex::unlock` work there.

mod mutex;
mod once;
mod waitgroup;

pub use mutex::{Mutex, MutexGuard, RawMutex, UnlockError};
pub use once::Once;
pub use waitgroup::{WaitGroup, WaitGroupError};

use crate::platform::lock::Lock;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::{AcqRel, Acquire};
use std::task::Waker;

/// One blocked goroutine in a sync primitive's queue.
pub(crate) struct Waiter {
    /// Set once by whoever releases the waiter.
    released: AtomicBool,
    waker: Lock<Option<Waker>>,
}

impl Waiter {
    pub(crate) fn new(waker: &Waker) -> std::sync::Arc<Self> {
        std::sync::Arc::new(Waiter {
            released: AtomicBool::new(false),
            waker: Lock::new(Some(waker.clone())),
        })
    }

    /// Releases and wakes the waiter; false if it had been released already.
    pub(crate) fn release(&self) -> bool {
        if self.released.swap(true, AcqRel) {
            return false;
        }
        if let Some(w) = self.waker.lock().take() {
            w.wake();
        }
        true
    }

    pub(crate) fn is_released(&self) -> bool {
        self.released.load(Acquire)
    }

    /// Stores a new waker; true if the waiter was released meanwhile (no wake will come).
    pub(crate) fn update(&self, waker: &Waker) -> bool {
        *self.waker.lock() = Some(waker.clone());
        self.is_released()
    }
}
