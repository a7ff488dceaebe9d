//! gort: Go's runtime model for the browser.
//!
//! Goroutines run on every core through Web Workers that share one wasm memory. The crate is
//! built in layers, each using only those below it (HACKING.md):
//! `platform` (futex, clocks, locks; the only code that differs between the browser and native
//! builds) → `sched` (the M/P/G work-stealing scheduler; Ms are Workers in the browser and std
//! threads natively) → [`chan`], [`sync`], [`time`] → [`gc`] (a garbage-collected heap shared
//! by every M, registered as the scheduler's hooks) → `js` (the JavaScript facade's Rust half,
//! wasm only, with the typed bridge for apps that build their own wasm: [`value`] is its codec,
//! platform-free). `runtime.rs` assembles them.
//!
//! ```no_run
//! let rt = gort::Runtime::builder().procs(2).start();
//! let sum = rt.block_on(async {
//!     let children: Vec<_> = (0..10u64).map(|i| gort::go(async move { i * i })).collect();
//!     let mut sum = 0;
//!     for c in children {
//!         sum += c.await.unwrap();
//!     }
//!     sum
//! });
//! assert_eq!(sum.unwrap(), 285);
//! rt.shutdown();
//! ```
#![cfg_attr(all(target_arch = "wasm32", target_feature = "atomics"), feature(stdarch_wasm_atomic_wait))]
// An allocation failure becomes a panic where one is caught (`platform::memory`).
#![cfg_attr(not(loom), feature(alloc_error_hook))]

// The wasm build's allocator (threads make the default one a global spin lock); natively it is
// only unit-tested, over the system allocator. A crate that sets its own global allocator
// turns the default feature `thread-cached-alloc` off.
#[cfg(all(target_arch = "wasm32", target_feature = "atomics", feature = "thread-cached-alloc"))]
#[global_allocator]
static ALLOC: platform::alloc::ThreadCached = platform::alloc::ThreadCached;

// Lets `#[derive(Trace)]` (which names `::gort::gc`) work inside this crate too.
extern crate self as gort;

// Under loom only the lock-free parts and the protocols between threads are compiled and
// model-checked: the scheduler's queues and park/wake protocol, a goroutine's state word, its
// join cell and the shutdown protocol, the channels' state and waiter protocol, and the
// wake-ups of `sync`'s Mutex and WaitGroup (over a version of `RawLock` built on loom's
// `Mutex`), stopping the world, and the collector's protocol for ending concurrent
// marking, without the futures around them.
#[cfg(loom)]
#[path = "sched"]
#[allow(dead_code)] // the models use part of each module
mod sched {
    pub(crate) mod gstatus;
    pub(crate) mod idle;
    pub(crate) mod inbox;
    pub(crate) mod join;
    pub(crate) mod runq;
    pub(crate) mod shutdown;
    pub(crate) mod world;
}

#[cfg(loom)]
#[path = "gc"]
#[allow(dead_code)]
mod gc {
    pub(crate) mod markend;
}

#[cfg(loom)]
#[path = "chan"]
#[allow(dead_code)]
mod chan {
    pub(crate) mod error;
    pub(crate) mod state;
    pub(crate) mod waiter;
}

#[cfg(loom)]
#[allow(dead_code, unused_imports)] // the models use part of the module
mod sync;

#[cfg(not(loom))]
pub mod chan;
#[cfg(not(loom))]
pub mod gc;
#[cfg(all(target_arch = "wasm32", not(loom)))]
mod js;
mod platform;
#[cfg(not(loom))]
mod runtime;
#[cfg(not(loom))]
mod sched;
#[cfg(not(loom))]
pub mod sync;

/// The page-side handles of the JS facade and the typed bridge, for crates that build their own
/// wasm module with gort and start Rust goroutines from JS ([`RuntimeCore::go_value`]; README,
/// "Rust apps").
#[cfg(all(target_arch = "wasm32", not(loom)))]
pub use js::{JoinRef, JsChan, JsSendError, Message, Outcome, RuntimeCore};
#[cfg(not(loom))]
pub use platform::thread;
#[cfg(not(loom))]
pub use runtime::{Builder, Stats};
#[cfg(not(loom))]
pub use runtime::{OutsideHold, Runtime};
#[cfg(not(loom))]
pub use sched::{
    go, goid, gosched, join::JoinError, join::JoinHandle, procid, procs, set_procs, syscall, GoroutineInfo,
    Gosched, ProcStats, ProcsError, SetProcs, WaitReason,
};

#[cfg(not(loom))]
pub mod time;
#[cfg(not(loom))]
pub mod value;
