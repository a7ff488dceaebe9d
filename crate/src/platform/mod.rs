//! The platform interface: the only code that differs between the browser and native builds.
//!
//! Each platform provides a monotonic clock shared by every thread (`now_ns`), a futex over
//! a 32-bit word in shared memory (`futex_wait`, `futex_wake_one`, `futex_wake_all`), a line of
//! diagnostics (`log_line`: stderr natively, the console on the web) and threads
//! ([`thread`]: std threads natively, module Workers over the shared memory on the web), on
//! which `Runtime::start` runs its Ms. The JS facade starts its own Workers, which enter
//! `js::Machine`; every M on the web calls `install_panic_hook` when it starts.

#[cfg(not(target_arch = "wasm32"))]
mod native;
#[cfg(not(target_arch = "wasm32"))]
#[allow(unused_imports)] // log_line: for gc's trace lines
pub(crate) use native::{futex_wait, futex_wake_all, futex_wake_one, log_line, now_ns};

#[cfg(target_arch = "wasm32")]
mod web;
#[cfg(target_arch = "wasm32")]
#[allow(unused_imports)] // log_line: for gc's trace lines
pub(crate) use web::{
    futex_wait, futex_wake_all, futex_wake_one, install_panic_hook, log_line, now_ns, now_unix_ms,
};

#[cfg(target_arch = "wasm32")]
mod spawn_web;
pub mod thread;
