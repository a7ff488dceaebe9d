//! An async mutual-exclusion lock with Go's fairness rules (Go's `sync.Mutex`).
//!
//! # Modes
//! * **Normal**: waiters queue FIFO, but `unlock` only wakes the first one, which then competes
//!   with goroutines arriving meanwhile; an arriving goroutine takes a free lock at once. This
//!   favours throughput (the arriving goroutine is already running).
//! * **Starvation**: a woken waiter that loses and has waited over 1 ms switches the mutex to
//!   starvation mode, where `unlock` hands the lock directly to the first waiter and arriving
//!   goroutines queue at the tail without trying. It switches back to normal when a waiter
//!   that gets the lock is the last one or waited under 1 ms.
//!
//! # Invariants (under `state`'s lock)
//! `locked` says whether some goroutine holds the mutex. A waiter `granted` by a hand-off owns
//! the mutex (and `locked` stayed true for it). The first waiter may be `woken`: it will try
//! to take the lock when polled. A waiter that gives up passes a grant or a wake-up on to the
//! next waiter, so none is lost.
//!
//! # Wake-ups and memory ordering
//! Every decision is made under `state`'s lock (Acquire on lock, Release on unlock), which
//! orders it with every other: a locker queues itself in the same critical section in which it
//! found the mutex taken, so the unlock that follows sees it queued and signals it; a waiter
//! replaces its waker under that lock too, and `signal` (always called with it held) takes the
//! waker it finds, so a wake-up never goes to a waker the waiter has stopped listening to.
//! `granted` and `woken` are written before the waker is taken (Release) and read under the
//! lock (Acquire), by the waiter's poll or by its drop when it gives up.
//!
//! The loom models below (normal and starvation mode, a barging locker, a waiter that gives
//! up) fail if a locker queues itself after releasing the lock, if a waiter that gives up
//! keeps its wake-up, or if a hand-off also unlocks the mutex (two holders).

use super::{now_ns, set_wait_reason, WaitReason};
use crate::platform::lock::Lock;
use crate::platform::shim::{Arc, AtomicBool};
use std::cell::UnsafeCell;
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::sync::atomic::Ordering::{AcqRel, Acquire};
use std::task::{Context, Poll, Waker};

/// Go's `starvationThresholdNs`.
const STARVATION_THRESHOLD_NS: u64 = 1_000_000;

/// `unlock` of a mutex that is not locked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnlockError;

impl fmt::Display for UnlockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("sync: unlock of unlocked mutex")
    }
}

impl std::error::Error for UnlockError {}

struct LockWaiter {
    since: u64,
    granted: AtomicBool,
    woken: AtomicBool,
    waker: Lock<Option<Waker>>,
}

impl LockWaiter {
    fn signal(&self, flag: &AtomicBool) {
        flag.store(true, std::sync::atomic::Ordering::Release);
        if let Some(w) = self.waker.lock().take() {
            w.wake();
        }
    }
}

#[derive(Default)]
struct State {
    locked: bool,
    starving: bool,
    waiters: VecDeque<Arc<LockWaiter>>,
}

/// A mutex without data, locked and unlocked explicitly (any goroutine may unlock, as in Go).
#[derive(Default)]
pub struct RawMutex {
    state: Lock<State>,
}

#[cfg(not(loom))]
impl crate::sched::Held for RawMutex {
    fn has_waiters(&self) -> bool {
        !self.state.lock().waiters.is_empty()
    }
}

impl RawMutex {
    pub fn new() -> Self {
        Self::default()
    }

    /// Waits until this goroutine holds the lock.
    pub fn lock(&self) -> LockFuture<'_> {
        LockFuture { mutex: self, waiter: None }
    }

    /// Takes the lock if it is free now.
    pub fn try_lock(&self) -> bool {
        let mut s = self.state.lock();
        if s.locked || s.starving && !s.waiters.is_empty() {
            return false;
        }
        s.locked = true;
        true
    }

    pub fn is_locked(&self) -> bool {
        self.state.lock().locked
    }

    /// Releases the lock: hands it to the first waiter (starvation mode) or wakes it to compete.
    pub fn unlock(&self) -> Result<(), UnlockError> {
        let mut s = self.state.lock();
        if !s.locked {
            return Err(UnlockError);
        }
        Self::release(&mut s);
        Ok(())
    }

    fn release(s: &mut State) {
        if s.starving {
            if let Some(w) = s.waiters.pop_front() {
                if s.waiters.is_empty() || now_ns().saturating_sub(w.since) < STARVATION_THRESHOLD_NS {
                    s.starving = false;
                }
                w.signal(&w.granted);
                return;
            }
            s.starving = false;
        }
        s.locked = false;
        if let Some(w) = s.waiters.front() {
            w.signal(&w.woken);
        }
    }
}

/// Future of [`RawMutex::lock`].
pub struct LockFuture<'a> {
    mutex: &'a RawMutex,
    waiter: Option<Arc<LockWaiter>>,
}

impl Future for LockFuture<'_> {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut s = self.mutex.state.lock();
        let Some(w) = self.waiter.clone() else {
            if !s.locked && !(s.starving && !s.waiters.is_empty()) {
                s.locked = true;
                return Poll::Ready(());
            }
            let w = Arc::new(LockWaiter {
                since: now_ns(),
                granted: AtomicBool::new(false),
                woken: AtomicBool::new(false),
                waker: Lock::new(Some(cx.waker().clone())),
            });
            s.waiters.push_back(w.clone());
            drop(s);
            self.waiter = Some(w);
            set_wait_reason(WaitReason::MutexLock);
            return Poll::Pending;
        };
        if w.granted.load(Acquire) {
            self.waiter = None;
            return Poll::Ready(());
        }
        if w.woken.swap(false, AcqRel) && !s.locked {
            s.locked = true;
            s.waiters.retain(|x| !Arc::ptr_eq(x, &w));
            self.waiter = None;
            return Poll::Ready(());
        }
        if now_ns().saturating_sub(w.since) > STARVATION_THRESHOLD_NS && s.locked {
            s.starving = true;
        }
        *w.waker.lock() = Some(cx.waker().clone());
        set_wait_reason(WaitReason::MutexLock);
        Poll::Pending
    }
}

impl Drop for LockFuture<'_> {
    fn drop(&mut self) {
        let Some(w) = self.waiter.take() else { return };
        let mut s = self.mutex.state.lock();
        s.waiters.retain(|x| !Arc::ptr_eq(x, &w));
        if w.granted.load(Acquire) {
            // We were handed the lock but will never use it: pass it on.
            RawMutex::release(&mut s);
        } else if w.woken.load(Acquire) && !s.locked {
            if let Some(next) = s.waiters.front() {
                next.signal(&next.woken);
            }
        }
    }
}

/// A mutex protecting a `T` (the Rust shape of `sync.Mutex` beside the data it guards).
#[derive(Default)]
pub struct Mutex<T> {
    raw: RawMutex,
    value: UnsafeCell<T>,
}

// SAFETY: the value is only reached through a `MutexGuard`, which exists only while `raw` is
// held by its owner, so at most one goroutine accesses it at a time.
unsafe impl<T: Send> Send for Mutex<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for Mutex<T> {}

impl<T> Mutex<T> {
    pub fn new(value: T) -> Self {
        Mutex { raw: RawMutex::new(), value: UnsafeCell::new(value) }
    }

    pub async fn lock(&self) -> MutexGuard<'_, T> {
        self.raw.lock().await;
        MutexGuard { mutex: self }
    }

    pub fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
        // Lazily: a guard built for a failed attempt would unlock the holder's lock on drop.
        self.raw.try_lock().then(|| MutexGuard { mutex: self })
    }

    pub fn into_inner(self) -> T {
        self.value.into_inner()
    }
}

pub struct MutexGuard<'a, T> {
    mutex: &'a Mutex<T>,
}

impl<T> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds the lock.
        unsafe { &*self.mutex.value.get() }
    }
}

impl<T> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds the lock and `&mut self` is unique.
        unsafe { &mut *self.mutex.value.get() }
    }
}

impl<T> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        self.mutex.raw.unlock().expect("a guard's mutex is locked");
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    //! The real `RawMutex` under loom (its state behind the loom version of `RawLock`), locked
    //! by goroutines played by loom threads that block in `shim::block_on` until their waker
    //! is woken: a lost wake-up leaves one blocked forever, which loom reports as a deadlock.
    //! Each critical section increments a loom `UnsafeCell`, so two holders at once are a data
    //! race loom reports. The model's clock (`sync::loom_env`) either stands still (normal
    //! mode) or advances 2 ms at every reading, so that every waiter that loses a race has
    //! waited past the threshold and the mutex switches to starvation mode (hand-offs).
    use super::*;
    use crate::platform::shim::{block_on, loom_check as check, UnsafeCell};
    use crate::sync::loom_env::set_clock;

    const STARVING: u64 = 2 * STARVATION_THRESHOLD_NS;

    struct World {
        mutex: RawMutex,
        /// Incremented by each holder: a loom-checked critical section.
        data: UnsafeCell<usize>,
    }

    impl World {
        fn new() -> Arc<Self> {
            Arc::new(World { mutex: RawMutex::new(), data: UnsafeCell::new(0) })
        }

        /// The critical section, then the unlock.
        fn critical_and_unlock(&self) {
            // SAFETY: the pointer is the cell's, valid during the closure; holding the mutex
            // makes this thread its only user (what loom checks).
            self.data.with_mut(|d| unsafe { *d += 1 });
            self.mutex.unlock().expect("the holder unlocks a locked mutex");
        }

        /// After every thread is joined: `n` critical sections ran, and the mutex is free.
        fn check(&self, n: usize) {
            // SAFETY: every other thread is joined.
            assert_eq!(self.data.with_mut(|d| unsafe { *d }), n);
            assert!(!self.mutex.is_locked());
            assert!(self.mutex.state.lock().waiters.is_empty());
        }
    }

    /// A goroutine that locks (sleeping while it must), runs its critical section, unlocks.
    fn locker(w: &Arc<World>) -> loom::thread::JoinHandle<()> {
        let w = w.clone();
        loom::thread::spawn(move || {
            block_on(w.mutex.lock());
            w.critical_and_unlock();
        })
    }

    /// The holder unlocks while two goroutines go to sleep on the mutex: each gets it, one at
    /// a time, and none sleeps forever.
    #[test]
    fn loom_mutex_unlock_vs_two_lockers() {
        check(4, || {
            set_clock(0);
            let w = World::new();
            assert!(w.mutex.try_lock());
            let ts = [locker(&w), locker(&w)];
            w.critical_and_unlock();
            ts.into_iter().for_each(|t| t.join().unwrap());
            w.check(3);
        });
    }

    /// The holder unlocks and at once locks again, racing the woken waiter (Go's barging);
    /// with the clock past the threshold the waiter that loses switches the mutex to
    /// starvation mode, and the next unlock hands the mutex to it.
    fn unlock_and_relock(step: u64) {
        check(4, move || {
            set_clock(step);
            let w = World::new();
            assert!(w.mutex.try_lock());
            let t = locker(&w);
            w.critical_and_unlock();
            block_on(w.mutex.lock());
            w.critical_and_unlock();
            t.join().unwrap();
            w.check(3);
        });
    }

    #[test]
    fn loom_mutex_barging_normal_mode() {
        unlock_and_relock(0);
    }

    #[test]
    fn loom_mutex_barging_starvation_hand_off() {
        unlock_and_relock(STARVING);
    }

    /// A waiter gives up (its lock future is dropped: a select chose another case) as the
    /// holder unlocks: a wake-up or a hand-off it got passes on to the next waiter.
    fn cancelled_waiter(step: u64) {
        check(4, move || {
            set_clock(step);
            let w = World::new();
            assert!(w.mutex.try_lock());
            let quitter = {
                let w = w.clone();
                loom::thread::spawn(move || {
                    let mut f = w.mutex.lock();
                    let polled = Pin::new(&mut f).poll(&mut Context::from_waker(Waker::noop()));
                    drop(f);
                    if polled.is_ready() {
                        w.critical_and_unlock();
                    }
                })
            };
            let t = locker(&w);
            w.critical_and_unlock();
            quitter.join().unwrap();
            t.join().unwrap();
            // SAFETY: every other thread is joined.
            let n = w.data.with_mut(|d| unsafe { *d });
            assert!(n == 2 || n == 3, "the quitter held the mutex at most once");
            w.check(n);
        });
    }

    #[test]
    fn loom_mutex_cancelled_waiter_passes_wake_up() {
        cancelled_waiter(0);
    }

    #[test]
    fn loom_mutex_cancelled_waiter_passes_hand_off() {
        cancelled_waiter(STARVING);
    }
}
