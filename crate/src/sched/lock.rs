//! A futex-based lock with explicit `lock`/`unlock` (Drepper's three-state mutex), used by
//! channels: a `select` must hold the locks of several channels of different element types at
//! once, in address order (Go's `sellock`), which RAII guards of typed mutexes cannot express.
//!
//! States: 0 unlocked, 1 locked, 2 locked with possible waiters. `lock` takes it with a CAS,
//! spins briefly, then marks it contended and waits on the futex; `unlock` wakes one waiter only
//! if the state was contended. Acquire on lock and Release on unlock order the protected data.
//! Only Ms lock (never the page's main thread, where waiting traps).

use std::sync::atomic::AtomicU32;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};

pub(crate) struct RawLock {
    state: AtomicU32,
}

impl RawLock {
    pub(crate) const fn new() -> Self {
        RawLock { state: AtomicU32::new(0) }
    }

    pub(crate) fn lock(&self) {
        if self.state.compare_exchange(0, 1, Acquire, Relaxed).is_ok() {
            return;
        }
        for _ in 0..100 {
            std::hint::spin_loop();
            if self.state.load(Relaxed) == 0 && self.state.compare_exchange(0, 1, Acquire, Relaxed).is_ok() {
                return;
            }
        }
        while self.state.swap(2, Acquire) != 0 {
            crate::platform::futex_wait(&self.state, 2, None);
        }
    }

    /// # Safety
    /// The caller holds the lock.
    pub(crate) unsafe fn unlock(&self) {
        if self.state.swap(0, Release) == 2 {
            crate::platform::futex_wake(&self.state, 1);
        }
    }
}
