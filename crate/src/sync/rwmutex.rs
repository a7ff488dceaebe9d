//! A reader/writer lock with Go's rules (Go's `sync.RWMutex`): any number of readers, or one
//! writer. A writer that waits holds back readers arriving after it (so writers are not
//! starved), and the readers that waited through a write go in together before the next
//! writer (so readers are not starved either).
//!
//! # Invariants (under `state`'s lock)
//! `readers` goroutines hold read locks, `writer` says whether one holds the write lock; never
//! both. A waiter in `waiting` is released (`Waiter::release`) only together with the lock it
//! waited for: the releaser counts it in `readers` or sets `writer` for it first, so a waiter
//! that finds itself released owns its lock. A waiter that gives up (its future dropped)
//! leaves the queue under the lock; if it had been released meanwhile it unlocks what it was
//! given, and if it was the writer that held readers back, it lets them in. Every decision is
//! made under the lock (Acquire on lock, Release on unlock), which orders a waiter's queueing
//! with the unlock that must see it.

use super::{set_wait_reason, WaitReason, Waiter};
use crate::platform::lock::Lock;
use crate::platform::shim::Arc;
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// `unlock` or `runlock` of an `RwMutex` that is not locked that way (Go's fatal
/// "sync: Unlock of unlocked RWMutex", "sync: RUnlock of unlocked RWMutex").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RwUnlockError {
    read: bool,
}

impl fmt::Display for RwUnlockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.read {
            "sync: RUnlock of unlocked RWMutex"
        } else {
            "sync: Unlock of unlocked RWMutex"
        })
    }
}

impl std::error::Error for RwUnlockError {}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Read,
    Write,
}

#[derive(Default)]
struct State {
    readers: u32,
    writer: bool,
    waiting: VecDeque<(Kind, Arc<Waiter>)>,
}

impl State {
    fn writer_waits(&self) -> bool {
        self.waiting.iter().any(|(k, _)| *k == Kind::Write)
    }

    /// Lets every queued reader in; whether there was one.
    fn release_readers(&mut self) -> bool {
        let before = self.waiting.len();
        self.waiting.retain(|(k, w)| {
            let reader = *k == Kind::Read;
            if reader {
                w.release();
            }
            !reader
        });
        let n = (before - self.waiting.len()) as u32;
        self.readers += n;
        n > 0
    }

    /// Gives the write lock to the first queued writer, if any.
    fn release_writer(&mut self) {
        if let Some(i) = self.waiting.iter().position(|(k, _)| *k == Kind::Write) {
            let (_, w) = self.waiting.remove(i).expect("a queued writer");
            self.writer = true;
            w.release();
        }
    }

    /// Lets in whom the lock allows now (after a read unlock, or a waiter leaving): readers
    /// while no writer waits, else the first writer once the readers are gone.
    fn admit(&mut self) {
        if self.writer {
            return;
        }
        if !self.writer_waits() {
            self.release_readers();
        } else if self.readers == 0 {
            self.release_writer();
        }
    }

    fn read_unlock(&mut self) -> Result<(), RwUnlockError> {
        if self.readers == 0 {
            return Err(RwUnlockError { read: true });
        }
        self.readers -= 1;
        self.admit();
        Ok(())
    }

    /// After a write, the readers that waited through it go first (Go's `Unlock`).
    fn write_unlock(&mut self) -> Result<(), RwUnlockError> {
        if !self.writer {
            return Err(RwUnlockError { read: false });
        }
        self.writer = false;
        if !self.release_readers() {
            self.admit();
        }
        Ok(())
    }
}

/// Go's `sync.RWMutex`, without data: locked and unlocked explicitly (any goroutine may
/// unlock, as in Go).
#[derive(Default)]
pub struct RwMutex {
    state: Lock<State>,
}

#[cfg(not(loom))]
impl crate::sched::Held for RwMutex {
    fn has_waiters(&self) -> bool {
        !self.state.lock().waiting.is_empty()
    }
}

impl RwMutex {
    pub fn new() -> Self {
        Self::default()
    }

    /// Waits until this goroutine holds a read lock (Go's `RLock`).
    pub fn rlock(&self) -> RwLockFuture<'_> {
        RwLockFuture { mutex: self, kind: Kind::Read, waiter: None }
    }

    /// Waits until this goroutine holds the write lock (Go's `Lock`).
    pub fn lock(&self) -> RwLockFuture<'_> {
        RwLockFuture { mutex: self, kind: Kind::Write, waiter: None }
    }

    /// Takes a read lock if one can be had now (Go's `TryRLock`).
    pub fn try_rlock(&self) -> bool {
        self.state.lock().try_take(Kind::Read)
    }

    /// Takes the write lock if it is free now (Go's `TryLock`).
    pub fn try_lock(&self) -> bool {
        self.state.lock().try_take(Kind::Write)
    }

    /// Releases a read lock (Go's `RUnlock`).
    pub fn runlock(&self) -> Result<(), RwUnlockError> {
        self.state.lock().read_unlock()
    }

    /// Releases the write lock (Go's `Unlock`).
    pub fn unlock(&self) -> Result<(), RwUnlockError> {
        self.state.lock().write_unlock()
    }
}

impl State {
    fn try_take(&mut self, kind: Kind) -> bool {
        match kind {
            Kind::Read if !self.writer && !self.writer_waits() => self.readers += 1,
            Kind::Write if !self.writer && self.readers == 0 && self.waiting.is_empty() => self.writer = true,
            _ => return false,
        }
        true
    }
}

/// Future of [`RwMutex::rlock`] and [`RwMutex::lock`].
pub struct RwLockFuture<'a> {
    mutex: &'a RwMutex,
    kind: Kind,
    waiter: Option<Arc<Waiter>>,
}

impl Future for RwLockFuture<'_> {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let reason = if self.kind == Kind::Read { WaitReason::RwMutexRLock } else { WaitReason::RwMutexLock };
        if let Some(w) = &self.waiter {
            if w.update(cx.waker()) {
                self.waiter = None;
                return Poll::Ready(());
            }
            set_wait_reason(reason);
            return Poll::Pending;
        }
        let mut s = self.mutex.state.lock();
        if s.try_take(self.kind) {
            return Poll::Ready(());
        }
        let w = Waiter::new(cx.waker());
        s.waiting.push_back((self.kind, w.clone()));
        drop(s);
        self.waiter = Some(w);
        set_wait_reason(reason);
        Poll::Pending
    }
}

impl Drop for RwLockFuture<'_> {
    /// Gives up waiting: out of the queue, or, if the lock was given meanwhile, unlocks it.
    fn drop(&mut self) {
        let Some(w) = self.waiter.take() else { return };
        let mut s = self.mutex.state.lock();
        if w.is_released() {
            let _ = if self.kind == Kind::Read { s.read_unlock() } else { s.write_unlock() };
        } else {
            s.waiting.retain(|(_, x)| !Arc::ptr_eq(x, &w));
            s.admit();
        }
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    //! The real `RwMutex` under loom, its goroutines played by loom threads that block in
    //! `shim::block_on` until woken (a lost wake-up is a deadlock loom reports). Readers read
    //! and the writer writes a loom `UnsafeCell`, so a writer inside with anyone else is a
    //! data race loom reports.
    use super::*;
    use crate::platform::shim::{block_on, loom_check as check, UnsafeCell};

    struct World {
        lock: RwMutex,
        data: UnsafeCell<usize>,
    }

    /// A reader unlocks as a writer and a later reader queue: the writer gets in once the
    /// readers are out, the later reader after it (or before it queued), never together.
    #[test]
    fn loom_rwmutex_read_unlock_vs_writer_and_reader() {
        check(4, || {
            let w = Arc::new(World { lock: RwMutex::new(), data: UnsafeCell::new(0) });
            assert!(w.lock.try_rlock());
            let writer = {
                let w = w.clone();
                loom::thread::spawn(move || {
                    block_on(w.lock.lock());
                    // SAFETY: the write lock makes this thread the cell's only user.
                    w.data.with_mut(|d| unsafe { *d += 1 });
                    w.lock.unlock().unwrap();
                })
            };
            let reader = {
                let w = w.clone();
                loom::thread::spawn(move || {
                    block_on(w.lock.rlock());
                    // SAFETY: a read lock: no writer uses the cell meanwhile.
                    let _ = w.data.with(|d| unsafe { *d });
                    w.lock.runlock().unwrap();
                })
            };
            w.lock.runlock().unwrap();
            writer.join().unwrap();
            reader.join().unwrap();
            let s = w.lock.state.lock();
            assert!(s.readers == 0 && !s.writer && s.waiting.is_empty());
        });
    }
}
