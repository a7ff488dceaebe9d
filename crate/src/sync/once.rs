//! `Once` (Go's `sync.Once`): the first `call` runs its future to completion; every other
//! call, concurrent or later, waits until that has happened and runs nothing. If the first
//! call's future is dropped unfinished, the next caller runs its own (Go has no such case).

use super::RawMutex;
use std::future::Future;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::{Acquire, Release};

#[derive(Default)]
pub struct Once {
    done: AtomicBool,
    lock: RawMutex,
}

impl Once {
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs `f` if no call has completed yet; returns whether this call ran it.
    pub async fn call<F: Future<Output = ()>>(&self, f: F) -> bool {
        if self.done.load(Acquire) {
            return false;
        }
        self.lock.lock().await;
        let ran = !self.done.load(Acquire);
        if ran {
            // Unlocks even if `f` panics or the caller is dropped mid-way.
            struct Unlock<'a>(&'a RawMutex);
            impl Drop for Unlock<'_> {
                fn drop(&mut self) {
                    let _ = self.0.unlock();
                }
            }
            let _unlock = Unlock(&self.lock);
            f.await;
            self.done.store(true, Release);
        } else {
            let _ = self.lock.unlock();
        }
        ran
    }

    pub fn is_done(&self) -> bool {
        self.done.load(Acquire)
    }
}
