//! Locks for state that both Ms and the page's main thread touch: channels, wait groups,
//! mutexes and their waiters.
//!
//! [`RawLock`] is a futex-based lock with explicit `lock`/`unlock` (Drepper's three-state
//! mutex): a `select` holds the locks of several channels of different element types at once,
//! in address order (Go's `sellock`), which RAII guards of typed mutexes cannot express.
//! [`Lock<T>`] wraps it around data with a guard.
//!
//! States: 0 unlocked, 1 locked, 2 locked with possible waiters. `lock` takes it with a CAS,
//! spins briefly, then marks it contended and waits on the futex; `unlock` wakes one waiter only
//! if the state was contended. Acquire on lock and Release on unlock order the protected data.
//!
//! The page's main thread may not wait (`wait32` traps there). There, `lock` only spins: every
//! critical section guarded by these locks is a few instructions long (queue and buffer
//! updates, no waiting, no user code), as with the spin lock of std's own wasm allocator,
//! which the page already goes through for every allocation.
//!
//! Under `cfg(loom)` (which has no futex) the lock is a flag behind loom's `Mutex` and
//! `Condvar`, so that models of the channel protocol take channel and slot locks as the real
//! code does. It waits instead of spinning: loom explores spin loops poorly (each retry is a
//! new branch of the search), and a thread blocked on a lock shows up as such in a deadlock.

use std::cell::UnsafeCell;
use std::ops::{Deref, DerefMut};
#[cfg(not(loom))]
use std::sync::atomic::{
    AtomicU32,
    Ordering::{Acquire, Relaxed, Release},
};

#[cfg(not(loom))]
pub(crate) struct RawLock {
    state: AtomicU32,
}

#[cfg(loom)]
pub(crate) struct RawLock {
    held: loom::sync::Mutex<bool>,
    released: loom::sync::Condvar,
}

#[cfg(loom)]
impl RawLock {
    pub(crate) fn new() -> Self {
        RawLock { held: loom::sync::Mutex::new(false), released: loom::sync::Condvar::new() }
    }

    pub(crate) fn lock(&self) {
        let mut held = self.held.lock().unwrap();
        while *held {
            held = self.released.wait(held).unwrap();
        }
        *held = true;
    }

    /// # Safety
    /// The caller holds the lock.
    pub(crate) unsafe fn unlock(&self) {
        *self.held.lock().unwrap() = false;
        self.released.notify_one();
    }
}

#[cfg(not(loom))]
impl RawLock {
    pub(crate) const fn new() -> Self {
        RawLock { state: AtomicU32::new(0) }
    }

    #[inline]
    pub(crate) fn lock(&self) {
        if self.state.compare_exchange(0, 1, Acquire, Relaxed).is_err() {
            self.lock_contended();
        }
    }

    #[cold]
    #[inline(never)]
    fn lock_contended(&self) {
        let may_wait = super::thread_may_wait();
        loop {
            for _ in 0..100 {
                std::hint::spin_loop();
                if self.state.load(Relaxed) == 0
                    && self.state.compare_exchange(0, 1, Acquire, Relaxed).is_ok()
                {
                    return;
                }
            }
            if may_wait {
                break;
            }
        }
        while self.state.swap(2, Acquire) != 0 {
            crate::platform::futex_wait(&self.state, 2, None);
        }
    }

    /// # Safety
    /// The caller holds the lock.
    #[inline]
    pub(crate) unsafe fn unlock(&self) {
        if self.state.swap(0, Release) == 2 {
            self.wake_waiter();
        }
    }

    #[cold]
    #[inline(never)]
    fn wake_waiter(&self) {
        crate::platform::futex_wake_one(&self.state);
    }
}

/// Data behind a [`RawLock`].
pub(crate) struct Lock<T> {
    raw: RawLock,
    data: UnsafeCell<T>,
}

// SAFETY: the data is reached only through a guard, which exists only while the lock is held.
unsafe impl<T: Send> Send for Lock<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for Lock<T> {}

// Critical sections under these locks run no user code and do not panic, so a panic never
// leaves the data half-updated behind an unwind.
impl<T> std::panic::RefUnwindSafe for Lock<T> {}

impl<T: Default> Default for Lock<T> {
    fn default() -> Self {
        Lock::new(T::default())
    }
}

impl<T> Lock<T> {
    #[cfg(not(loom))]
    pub(crate) const fn new(data: T) -> Self {
        Lock { raw: RawLock::new(), data: UnsafeCell::new(data) }
    }

    /// Not `const` under loom, whose primitives are made at run time.
    #[cfg(loom)]
    pub(crate) fn new(data: T) -> Self {
        Lock { raw: RawLock::new(), data: UnsafeCell::new(data) }
    }

    pub(crate) fn lock(&self) -> LockGuard<'_, T> {
        self.raw.lock();
        LockGuard(self)
    }
}

pub(crate) struct LockGuard<'a, T>(&'a Lock<T>);

impl<T> Deref for LockGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: this guard holds the lock.
        unsafe { &*self.0.data.get() }
    }
}

impl<T> DerefMut for LockGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: this guard holds the lock and `&mut self` is unique.
        unsafe { &mut *self.0.data.get() }
    }
}

impl<T> Drop for LockGuard<'_, T> {
    fn drop(&mut self) {
        // SAFETY: this guard holds the lock.
        unsafe { self.0.raw.unlock() }
    }
}
