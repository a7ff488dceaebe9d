//! The platform layer: the only code that differs between the browser and native builds, and
//! the primitives every layer above builds on.
//!
//! Each platform (`native.rs`, `web.rs`) provides the same small interface:
//! * a monotonic clock every thread agrees on (`now_ns`) and the wall clock (`now_unix_ns`);
//! * a futex over a 32-bit word in shared memory (`futex_wait`, `futex_wake_one`,
//!   `futex_wake_all`), which a thread may call only if it may block (`thread_may_wait`);
//! * one line of diagnostic output (`log_line`: stderr natively, the console in the browser);
//! * threads ([`thread`]: std threads natively, module Workers over the shared memory on the
//!   web, `spawn_web.rs`), on which `Runtime::start` runs its Ms. The JS facade starts its own
//!   Workers, which enter `js::Machine`; every M on the web calls `install_panic_hook` when it
//!   starts, and a thread that becomes an M says so with [`set_thread_may_wait`].
//!
//! Beside it, platform-free building blocks the layers above share: [`lock`] (a futex lock
//! that never blocks the page's thread), [`shim`] (std's atomics, or loom's under `cfg(loom)`),
//! [`CachePadded`], [`memory`] (what memory is left, and allocation failures as panics) and, in
//! the threaded wasm build, [`alloc`] (the allocator front).
//!
//! # Invariant
//! No function here waits on the page's main thread: `thread_may_wait` is false there until
//! the thread says otherwise, and the lock only spins where waiting is not allowed.

#[cfg(any(
    all(target_arch = "wasm32", target_feature = "atomics", feature = "thread-cached-alloc"),
    all(test, not(loom))
))]
pub(crate) mod alloc;
pub(crate) mod lock;
#[cfg(not(loom))]
pub(crate) mod memory;
pub(crate) mod shim;

#[cfg(all(not(target_arch = "wasm32"), not(loom)))]
mod native;
#[cfg(all(not(target_arch = "wasm32"), not(loom)))]
pub(crate) use native::{futex_wait, futex_wake_all, futex_wake_one, log_line, now_ns, now_unix_ns};

#[cfg(all(target_arch = "wasm32", not(loom)))]
mod web;
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics"), not(loom)))]
pub(crate) use web::set_local_waker;
#[cfg(all(target_arch = "wasm32", not(loom)))]
pub(crate) use web::{
    futex_wait, futex_wake_all, futex_wake_one, install_panic_hook, log_line, now_ns, now_unix_ns,
};

#[cfg(all(target_arch = "wasm32", not(loom)))]
mod spawn_web;
#[cfg(not(loom))]
pub mod thread;

#[cfg(not(loom))]
thread_local! {
    /// Whether this thread said it may block (it is an M).
    static MAY_WAIT: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether this thread may block in a futex wait: natively every thread; in the browser only
/// the threads that said so ([`set_thread_may_wait`]: Ms, which are Workers), never the page's
/// main thread, where `wait32` traps.
#[cfg(not(loom))]
pub(crate) fn thread_may_wait() -> bool {
    cfg!(not(target_arch = "wasm32")) || MAY_WAIT.with(std::cell::Cell::get)
}

/// Says whether this thread may block from now on (a thread becoming, or ceasing to be, an M).
#[cfg(not(loom))]
pub(crate) fn set_thread_may_wait(may: bool) {
    MAY_WAIT.with(|m| m.set(may));
}

/// Whether this thread is an M (it said it may block, [`set_thread_may_wait`]): goroutines are
/// polled here, each inside `catch_unwind`.
#[cfg(not(loom))]
pub(crate) fn is_m_thread() -> bool {
    MAY_WAIT.with(std::cell::Cell::get)
}

/// `T` alone in two cache lines (the pair x86 prefetches together), so that words different
/// threads write do not share a line with it (false sharing): a runtime's counters, each P.
#[derive(Default)]
#[repr(align(128))]
pub(crate) struct CachePadded<T>(pub(crate) T);

impl<T> std::ops::Deref for CachePadded<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}
