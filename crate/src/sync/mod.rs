//! Go's `sync` package for goroutines: [`WaitGroup`], [`Mutex`] (with starvation mode),
//! [`RwMutex`], [`Cond`] and [`Once`]. Each blocks a goroutine by returning `Pending` and is woken through its `Waker`;
//! the internal locks (`sched::lock`) are held for a few instructions; the page's main thread
//! may take them too (it spins, never waits), so `WaitGroup::add` and `RawMutex::unlock` work there.
//!
//! Under loom the module is compiled on its own, over the loom version of those locks and the
//! stand-ins in `loom_env`, and the wake-ups of `Mutex` and `WaitGroup` are model-checked.

mod cond;
mod mutex;
mod once;
mod rwmutex;
mod waitgroup;

pub use cond::Cond;
pub use mutex::{Mutex, MutexGuard, RawMutex, UnlockError};
pub use once::Once;
pub use rwmutex::{RwLockFuture, RwMutex, RwUnlockError};
#[cfg(target_arch = "wasm32")]
pub(crate) use waitgroup::AddError;
pub use waitgroup::{WaitGroup, WaitGroupError};

use crate::platform::lock::Lock;
use crate::platform::shim::{Arc, AtomicBool};
use std::sync::atomic::Ordering::{AcqRel, Acquire};
use std::task::Waker;

// What the primitives take from the layers below. Under loom, which compiles only this
// module's protocols (the scheduler and the platform are not built), stand-ins.
#[cfg(not(loom))]
use crate::{
    platform::now_ns,
    sched::{set_wait_reason, WaitReason},
};
#[cfg(loom)]
use loom_env::{now_ns, set_wait_reason, WaitReason};

#[cfg(loom)]
mod loom_env {
    use std::cell::Cell;

    #[derive(Clone, Copy)]
    pub(super) enum WaitReason {
        MutexLock,
        WaitGroupWait,
        RwMutexRLock,
        RwMutexLock,
        CondWait,
    }

    pub(super) fn set_wait_reason(_: WaitReason) {}

    // The model's clock: `now_ns` returns `now` and advances it by `step`. Loom runs a model's
    // threads on one OS thread, in an order it replays, so the readings are the same in every
    // replay of a schedule.
    thread_local! {
        static CLOCK: Cell<(u64, u64)> = const { Cell::new((0, 0)) };
    }

    pub(super) fn now_ns() -> u64 {
        CLOCK.with(|c| {
            let (now, step) = c.get();
            c.set((now + step, step));
            now
        })
    }

    /// Restarts the clock at 0, advancing by `step` at each reading.
    #[cfg(test)]
    pub(super) fn set_clock(step: u64) {
        CLOCK.with(|c| c.set((0, step)));
    }
}

/// One blocked goroutine in a sync primitive's queue.
pub(crate) struct Waiter {
    /// Set once by whoever releases the waiter.
    released: AtomicBool,
    waker: Lock<Option<Waker>>,
}

impl Waiter {
    pub(crate) fn new(waker: &Waker) -> Arc<Self> {
        Arc::new(Waiter { released: AtomicBool::new(false), waker: Lock::new(Some(waker.clone())) })
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
