//! Web platform: `memory.atomic.wait32/notify` on the shared wasm memory, and a clock that
//! every Worker and the page agree on, and the console.
//!
//! `performance.now()` counts from each realm's own time origin, and Workers start at
//! different times, so the clock is `performance.timeOrigin + performance.now()` (an absolute
//! high-resolution time in ms), taken relative to a fixed epoch. `wait32` must never run on
//! the page's main thread (it traps there); only Ms call `futex_wait`.

use std::cell::Cell;
use std::sync::atomic::AtomicU32;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn performance_now() -> f64;
    #[wasm_bindgen(thread_local_v2, js_namespace = performance, js_name = timeOrigin)]
    static TIME_ORIGIN: f64;
    #[wasm_bindgen(js_namespace = console, js_name = log)]
    fn console_log(s: &str);
}

/// 2024-01-01T00:00:00Z in ms since the Unix epoch: keeps the f64 sums small and exact enough.
const EPOCH_MS: f64 = 1_704_067_200_000.0;

thread_local! {
    static ORIGIN_MS: Cell<f64> = Cell::new(TIME_ORIGIN.with(|o| *o) - EPOCH_MS);
}

pub(crate) fn now_ns() -> u64 {
    let ms = ORIGIN_MS.with(Cell::get) + performance_now();
    (ms * 1e6) as u64
}

/// Nanoseconds since the Unix epoch, on the scale of `performance.timeOrigin + performance.now()`.
pub(crate) fn now_unix_ns() -> u64 {
    ((now_ns() as f64 / 1e6 + EPOCH_MS) * 1e6) as u64
}

/// Writes one line of diagnostic output (gctrace) to this thread's console.
pub(crate) fn log_line(line: &str) {
    console_log(line);
}

pub(crate) fn futex_wait(word: &AtomicU32, expected: u32, timeout_ns: Option<u64>) {
    let timeout = timeout_ns.map_or(-1, |ns| ns.min(i64::MAX as u64) as i64);
    // SAFETY: the word is a live, aligned u32 in the shared linear memory; wait32 only reads it.
    unsafe {
        core::arch::wasm32::memory_atomic_wait32(word.as_ptr() as *mut i32, expected as i32, timeout);
    }
}

fn futex_wake(word: &AtomicU32, count: u32) {
    // SAFETY: notify only uses the address of the live, aligned word as a key.
    unsafe {
        core::arch::wasm32::memory_atomic_notify(word.as_ptr() as *mut i32, count);
    }
}

/// Wakes one waiter on `word` (a Worker in `wait32` or anyone in `Atomics.waitAsync`).
pub(crate) fn futex_wake_one(word: &AtomicU32) {
    futex_wake(word, 1);
}

/// Wakes every waiter on `word` (`u32::MAX` is "all" for `memory.atomic.notify`).
pub(crate) fn futex_wake_all(word: &AtomicU32) {
    futex_wake(word, u32::MAX);
}
