//! The scheduler: goroutines (G) multiplexed onto Ms (threads; Web Workers in the browser),
//! each holding one P (a run queue, a LIFO slot and a timer heap), with work stealing.
//!
//! # Design
//! The model is Go's `proc.go`; the differences come from the platform:
//! * **Each P has its own M, and spares stand in.** Ms `0..procs` are Workers created at
//!   start-up (or when `rt.setProcs` adds their P: `procresize.rs`), each the own M of one P; an idle P is a parked M (`idle.rs`), whose P a stop of
//!   the world claims instead of waiting for it (`world.rs`). An M that leaves the runtime (a
//!   JS goroutine's code, its Worker's event loop, `gort::syscall`) gives its P up like a
//!   parked one (`syscall.rs`); if it stays away with work waiting, the monitor hands the P to
//!   a spare M until it comes back (`sysmon.rs`, Go's `retake` and `handoffp`).
//! * **Ps retire rather than die.** Per-P structures are allocated for `max_procs` Ps at start;
//!   changing the number of Ps (Go's `GOMAXPROCS(n)`) stops the world, moves the queues and
//!   timers of the Ps removed to the others, and leaves their Ms idle but for the JS goroutines
//!   bound to them (`procresize.rs`).
//! * **Goroutines are futures.** A G is a heap task holding a pinned boxed future; `gopark` is
//!   returning `Pending` and `goready` is waking its `Waker` (`g.rs`).
//! * **Threads outside the runtime never block.** The page's main thread submits goroutines
//!   and wakes them through lock-free inboxes (`inbox.rs`) and futex notifies only.
//!
//! # Where a runnable G goes
//! See `ready.rs`: the LIFO slot of the current M's P, the global inbox from outside any M, the
//! bound inbox of a JS goroutine's M, the ring's (or the global queue's) tail for a G that
//! yielded, and the M's own list for Gs woken by timers it fired.
//!
//! # Finding work (`findrunnable.rs`, Go's `findRunnable`)
//! own expired timers, and other Ps' timers overdue by more than 1 ms (`check_timers`) →
//! every 61st tick the global queue → bound inbox (after 8 bound Gs in a row, the P's own
//! queues below go first once) → LIFO slot (while others wait on the P, for
//! one 10 ms time slice per chain of goroutines that ready each other, as Go's `runnext`
//! does) → goroutines woken by timers this M fired → own ring → global queue (a
//! batch) → steal from other Ps in random order (half a ring; their LIFO slot on the last
//! pass; their expired timers) → spin briefly → park until the earliest timer of any P.

//! # Files
//! One idea each, along Go's `proc.go`:
//! * the Gs: `g.rs` (a goroutine and its waker), `gstatus.rs` (its state word), `join.rs`
//!   (results), `wait.rs` (wait reasons),
//!   `coop.rs` (the cooperative budget), `newproc.rs` (starting one), `origin.rs` (its name
//!   and who started it, for dumps);
//! * the queues: `p.rs` (a P and its LIFO slot), `runq.rs` (its ring), `globrunq.rs` (the global
//!   queue and inbox), `inbox.rs` (lock-free inboxes), `ready.rs` (where a runnable G goes),
//!   `timer.rs` (timer heaps and `sleep`);
//! * the Ms: `m.rs` (an M's life and its schedule loop), `findrunnable.rs` (looking for work,
//!   stealing), `idle.rs` (spinning, parking and waking), `syscall.rs` (leaving the runtime),
//!   `sysmon.rs` (the monitor and spare Ms);
//! * the runtime: `shared.rs` (the state every M shares), `current.rs` (what this thread is),
//!   `registry.rs` (every G), `world.rs` (who holds each P; stopping the world), `hooks.rs`
//!   (what higher layers register), `procresize.rs` (changing the number of Ps),
//!   `checkdead.rs` (deadlocks), `dump.rs` (dumps and counters),
//!   `shutdown.rs`, `died.rs` (an M whose thread died).

mod checkdead;
pub(crate) mod coop;
mod current;
mod died;
mod dump;
mod findrunnable;
pub(crate) mod g;
mod globrunq;
pub(crate) mod gstatus;
pub(crate) mod hooks;
pub(crate) mod idle;
pub(crate) mod inbox;
pub(crate) mod join;
pub(crate) mod m;
mod newproc;
pub(crate) mod origin;
mod p;
mod procresize;
mod ready;
mod registry;
pub(crate) mod runq;
mod shared;
mod shutdown;
mod syscall;
mod sysmon;
#[cfg(all(test, not(loom)))]
mod tests;
pub(crate) mod timer;
mod wait;
pub(crate) mod world;

pub(crate) use checkdead::Held;
pub(crate) use current::{
    begin_poll_reason, bind_here, current_shared, current_wait_reason, set_current_g, set_current_m,
    set_wait_reason, with_current_p,
};
#[cfg(target_arch = "wasm32")]
pub(crate) use current::{bound_here, unpark_current_m};
pub use current::{goid, procid};
pub(crate) use dump::SchedStats;
pub use dump::{GoroutineInfo, ProcStats};
pub(crate) use p::P;
pub use procresize::{ProcsError, SetProcs};
pub(crate) use ready::gather_timer_wakes;
pub(crate) use shared::Shared;
pub use syscall::syscall;
#[cfg(target_arch = "wasm32")]
pub(crate) use syscall::with_own_p;
pub use wait::WaitReason;

use crate::platform::shim::Arc;
use g::G;
use join::JoinHandle;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

pub(crate) type GRef = Arc<G>;

/// Starts a goroutine on the runtime of the current goroutine (Go's `go` statement).
///
/// # Panics
/// Outside a goroutine; use [`crate::Runtime::go`] there.
#[track_caller]
pub fn go<F>(fut: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let shared = current_shared().expect("gort::go called outside a goroutine; use Runtime::go");
    shared.go(fut)
}

/// Changes the number of Ps of the current goroutine's runtime to `n` (Go's
/// `runtime.GOMAXPROCS(n)`): resolves, once the world has stopped and the change is made, to
/// the number before it. `n` must be within `1..=max_procs` ([`crate::Builder::max_procs`]).
///
/// # Panics
/// Outside a goroutine; use [`crate::Runtime::set_procs`] there.
pub fn set_procs(n: usize) -> SetProcs {
    let shared =
        current_shared().expect("gort::set_procs called outside a goroutine; use Runtime::set_procs");
    SetProcs::new(shared.request_procs(n))
}

/// The number of Ps of the current goroutine's runtime (Go's `runtime.GOMAXPROCS(0)`).
///
/// # Panics
/// Outside a goroutine; use [`crate::Runtime::procs`] there.
pub fn procs() -> usize {
    current_shared().expect("gort::procs called outside a goroutine; use Runtime::procs").gomaxprocs()
}

/// Yields the processor, letting other goroutines run (Go's `runtime.Gosched`).
pub fn gosched() -> Gosched {
    Gosched { yielded: false }
}

pub struct Gosched {
    yielded: bool,
}

impl Future for Gosched {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        set_wait_reason(WaitReason::Yield);
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
