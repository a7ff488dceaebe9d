//! The platform interface: the only code that differs between the browser and native builds.
//!
//! Each platform provides a monotonic clock shared by every thread (`now_ns`) and a futex over
//! a 32-bit word in shared memory (`futex_wait`, `futex_wake_one`, `futex_wake_all`). Starting Ms differs too, but is
//! done outside this interface: natively `Runtime::start` spawns std threads; on the web the JS
//! facade starts module Workers that enter `js::Machine`.

#[cfg(not(target_arch = "wasm32"))]
mod native;
#[cfg(not(target_arch = "wasm32"))]
pub(crate) use native::{futex_wait, futex_wake_all, futex_wake_one, now_ns};

#[cfg(target_arch = "wasm32")]
mod web;
#[cfg(target_arch = "wasm32")]
pub(crate) use web::{futex_wait, futex_wake_all, futex_wake_one, now_ns, now_unix_ms};
