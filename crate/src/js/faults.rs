//! Contained faults, the facade's half: a Worker M that dies (closes itself, crashes, or is
//! terminated) takes down only the goroutines bound to it, and a new Worker takes over its M
//! (a P's M, or a spare M: `sched/sysmon.rs`).
//!
//! The page learns that a Worker died (from a Web Lock the Worker held for its life, or its
//! crash message: `pkg/src/index.js`) and calls [`RuntimeCore::m_died`]; the new Worker it
//! starts for the same index enters through `Machine::new` and, before it runs anything,
//! [`Machine::take_over`], which fails the dead Worker's goroutines (`sched/died.rs` has the
//! scheduler's side). At a shutdown that terminated Workers that would not stop,
//! [`RuntimeCore::m_gone`] writes each of them off.
//!
//! # What of a dead Worker is never dropped
//! A JS goroutine's future, and the promise resolver of a system goroutine that runs an
//! operation for one, hold JS values of the Worker they were made on: indices into that
//! thread's externref table. Dropped on another thread (the M that takes over, or the last M
//! out at shutdown) they would free whatever the other thread's table holds at those indices.
//! So they are wrapped in [`HomeOnly`], which drops its value only on the thread that made it
//! and otherwise leaks it, deliberately: the dead thread's table is gone with it, and what
//! the value owned in linear memory stays allocated. Futures are boxed first, so a leaked
//! pinned future's memory is never freed or reused (`Pin`'s drop guarantee). The Rust parts
//! of a system goroutine's operation are dropped normally, which withdraws a blocked
//! operation from its channel: nothing is sent to a goroutine that can never receive it.
//!
//! The dead thread's stack, thread-locals and allocation caches are leaked as well (nothing
//! may run `__wbindgen_thread_destroy` for it), and so are the references it held to the
//! runtime's shared state: a runtime that lost a Worker is not freed at its shutdown.

use super::{Machine, RuntimeCore};
use std::cell::Cell;
use std::future::Future;
use std::mem::ManuallyDrop;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
use std::task::{Context, Poll};
use wasm_bindgen::prelude::*;

/// Numbers threads (never 0) as they first make a [`HomeOnly`].
static THREADS: AtomicU32 = AtomicU32::new(1);

thread_local! {
    static THREAD: Cell<u32> = const { Cell::new(0) };
}

fn this_thread() -> u32 {
    THREAD.with(|t| {
        if t.get() == 0 {
            t.set(THREADS.fetch_add(1, Relaxed));
        }
        t.get()
    })
}

/// A value that is dropped only on the thread that made it, and leaked on any other (module
/// header).
pub(crate) struct HomeOnly<T> {
    value: ManuallyDrop<T>,
    home: u32,
}

impl<T> HomeOnly<T> {
    pub(crate) fn new(value: T) -> Self {
        HomeOnly { value: ManuallyDrop::new(value), home: this_thread() }
    }
}

impl<T> std::ops::Deref for HomeOnly<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T> Drop for HomeOnly<T> {
    fn drop(&mut self) {
        if self.home == this_thread() {
            // SAFETY: dropped once, here; `value` is not used after.
            unsafe { ManuallyDrop::drop(&mut self.value) };
        }
    }
}

/// A future made on this thread, boxed so that leaking it never frees pinned memory.
pub(crate) fn home_only<F: Future>(fut: F) -> HomeOnly<Pin<Box<F>>> {
    HomeOnly::new(Box::pin(fut))
}

impl<F: Future> Future for HomeOnly<Pin<Box<F>>> {
    type Output = F::Output;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        debug_assert_eq!(self.home, this_thread(), "a bound future polled on another thread");
        self.get_mut().value.as_mut().poll(cx)
    }
}

#[wasm_bindgen]
impl RuntimeCore {
    /// The Worker of M `index` (a P's M or a spare M) is dead (the page knows it: its Web Lock
    /// was granted to the page, or it crashed and was terminated). Lock-free. False if the M had
    /// exited or its death was already reported; otherwise the page starts a new Worker for
    /// `index`, which calls [`Machine::take_over`].
    #[wasm_bindgen(js_name = mDied)]
    pub fn m_died(&self, index: u32) -> bool {
        self.core.shared.m_died(index as usize)
    }

    /// At shutdown: the Worker of M `index` was terminated without stopping and is dead, or
    /// never ran the M (a spare M asked for and not started, a Worker that failed to start). It
    /// counts as stopped; if it was the last, this releases the runtime's goroutines (their
    /// joins report cancellation), skipping whatever a killed Worker left locked.
    #[wasm_bindgen(js_name = mGone)]
    pub fn m_gone(&self, index: u32) {
        self.core.shared.m_gone(index as usize)
    }
}

#[wasm_bindgen]
impl Machine {
    /// This Worker replaces the dead Worker of its M (reported with [`RuntimeCore::m_died`]):
    /// fails the goroutines bound to the dead one (their joins report that it died, with
    /// `reason`) and its timer wake-ups; `Machine::new` took the P back already (from a spare M
    /// standing in, if one held it). Call once, before the first `run`; returns how many
    /// goroutines failed (none for a spare M).
    #[wasm_bindgen(js_name = takeOver)]
    pub fn take_over(&mut self, reason: &str) -> u32 {
        self.m.take_over(reason) as u32
    }
}
