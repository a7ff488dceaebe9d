//! Web platform: `memory.atomic.wait32/notify` on the shared wasm memory, a clock that every
//! Worker and the page agree on, the console, and threads (module Workers, `spawn_web`).
//!
//! `performance.now()` counts from each realm's own time origin, and Workers start at
//! different times, so the clock is `performance.timeOrigin + performance.now()` (an absolute
//! high-resolution time in ms), taken relative to a fixed epoch. `wait32` must never run on
//! the page's main thread (it traps there); only Ms call `futex_wait`. The build without
//! threads (no `atomics` target feature) has no `wait32` at all: its wakes call the waker the
//! page registered (`set_local_waker`).

use std::cell::Cell;
use std::sync::atomic::AtomicU32;
use wasm_bindgen::JsCast;

/// 2024-01-01T00:00:00Z in ms since the Unix epoch: keeps the f64 sums small and exact enough.
const EPOCH_MS: f64 = 1_704_067_200_000.0;

/// This realm's `performance` and its time origin relative to `EPOCH_MS`.
struct Clock {
    performance: web_sys::Performance,
    origin_ms: f64,
}

thread_local! {
    static CLOCK: Clock = {
        // Every realm a module can run in (a window or any worker) has `performance`.
        let performance: web_sys::Performance =
            js_sys::Reflect::get(&js_sys::global(), &"performance".into())
                .expect("globalThis.performance")
                .unchecked_into();
        Clock { origin_ms: performance.time_origin() - EPOCH_MS, performance }
    };
}

pub(crate) fn now_ns() -> u64 {
    let ms = CLOCK.with(|c| c.origin_ms + c.performance.now());
    (ms * 1e6) as u64
}

/// Nanoseconds since the Unix epoch, on the scale of `performance.timeOrigin + performance.now()`.
pub(crate) fn now_unix_ns() -> u64 {
    ((now_ns() as f64 / 1e6 + EPOCH_MS) * 1e6) as u64
}

#[cfg(target_feature = "atomics")]
pub(crate) fn futex_wait(word: &AtomicU32, expected: u32, timeout_ns: Option<u64>) {
    let timeout = timeout_ns.map_or(-1, |ns| ns.min(i64::MAX as u64) as i64);
    // SAFETY: the word is a live, aligned u32 in the shared linear memory; wait32 only reads it.
    unsafe {
        core::arch::wasm32::memory_atomic_wait32(word.as_ptr() as *mut i32, expected as i32, timeout);
    }
}

#[cfg(target_feature = "atomics")]
fn futex_wake(word: &AtomicU32, count: u32) {
    // SAFETY: notify only uses the address of the live, aligned word as a key.
    unsafe {
        core::arch::wasm32::memory_atomic_notify(word.as_ptr() as *mut i32, count);
    }
}

/// Without threads (the build for pages that are not cross-origin isolated: no atomics, no
/// shared memory, one M on the page's own thread) nothing may block: the only waits are the
/// page's promises on words of memory, which the layer that drives the M keeps and registers a
/// waker for ([`set_local_waker`]). A futex wait here is a bug of the caller.
#[cfg(not(target_feature = "atomics"))]
pub(crate) fn futex_wait(_word: &AtomicU32, _expected: u32, _timeout_ns: Option<u64>) {
    unreachable!("a futex wait in the build without threads, where no thread may block");
}

/// Called with a word's address when it is woken (`set_local_waker`).
#[cfg(not(target_feature = "atomics"))]
type LocalWaker = Box<dyn Fn(u32)>;

#[cfg(not(target_feature = "atomics"))]
thread_local! {
    static LOCAL_WAKER: std::cell::RefCell<Option<LocalWaker>> = const { std::cell::RefCell::new(None) };
}

/// In the build without threads: `wake` is called with the address of every futex word woken
/// from now on. It must not call back into this module (it settles promises, whose reactions
/// run later).
#[cfg(not(target_feature = "atomics"))]
pub(crate) fn set_local_waker(wake: LocalWaker) {
    LOCAL_WAKER.with(|w| *w.borrow_mut() = Some(wake));
}

#[cfg(not(target_feature = "atomics"))]
fn futex_wake(word: &AtomicU32, _count: u32) {
    LOCAL_WAKER.with(|w| {
        if let Some(wake) = &*w.borrow() {
            wake(word.as_ptr() as u32);
        }
    });
}

/// Wakes one waiter on `word` (a Worker in `wait32` or anyone in `Atomics.waitAsync`).
pub(crate) fn futex_wake_one(word: &AtomicU32) {
    futex_wake(word, 1);
}

/// Wakes every waiter on `word` (`u32::MAX` is "all" for `memory.atomic.notify`).
pub(crate) fn futex_wake_all(word: &AtomicU32) {
    futex_wake(word, u32::MAX);
}

/// Writes one line of diagnostic output (gctrace) to the console of the calling thread's realm
/// (`console.log`).
pub(crate) fn log_line(line: &str) {
    web_sys::console::log_1(&line.into());
}

thread_local! {
    /// Whether this thread's panics print through `console_error_panic_hook`.
    static PANIC_TO_CONSOLE: Cell<bool> = const { Cell::new(false) };
}

/// Makes this thread's panics print their message to its console (an M's Worker, whose
/// stderr goes nowhere). The panic hook is one for the whole module: it keeps the hook it
/// replaces (a test harness's, say) for every other thread.
pub(crate) fn install_panic_hook() {
    static HOOK: std::sync::Once = std::sync::Once::new();
    PANIC_TO_CONSOLE.with(|p| p.set(true));
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if PANIC_TO_CONSOLE.with(Cell::get) {
                console_error_panic_hook::hook(info);
            } else {
                previous(info);
            }
        }));
    });
}
