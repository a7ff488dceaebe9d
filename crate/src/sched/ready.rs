//! Making a G runnable (Go's `goready` and `runqput`): where a runnable G goes, and whether
//! an idle M is woken for it.
//!
//! # Where a runnable G goes
//! 1. A G made runnable by code running on an M of this runtime goes into that M's P's LIFO
//!    slot (message-passing locality; Go's `runnext`); the G it displaces goes to the tail of
//!    the P's ring, and a full ring moves half of itself to the global queue (`runq.rs`,
//!    `globrunq.rs`).
//! 2. A G made runnable from outside any M, or on the M of a retired P (`procresize.rs`), goes
//!    to the global inbox, drained into the global queue by Ms.
//! 3. A G bound to an M (a JS goroutine) goes to that M's bound inbox.
//! 4. A G woken during its own poll (or yielding) is requeued at the tail of the ring, never
//!    into the LIFO slot, so that yielding really lets others run. If the ring is empty but
//!    the global queue is not, it goes to the tail of the global queue instead, as Go's
//!    `Gosched` does: at the ring's tail it would run again at once, and the goroutines
//!    waiting in the global queue would get in only one per 61 schedules.
//! 5. A G woken by an expired timer that its M fires goes to that M's list of timer wake-ups,
//!    run after the LIFO slot and before the ring (`gather_timer_wakes`). The list holds a
//!    few at most (`TIMER_WOKEN_MAX`): no other M can take from it, so the timers due beyond
//!    stay in their heap, where another M can fire them.
//!
//! A new goroutine always asks for an idle M to be woken (`Idle::wake_one`), as Go's `newproc`
//! does. A woken existing goroutine asks only when it displaced another G into a ring that
//! already held one: the current M runs the LIFO slot next, so waking a thief for it would
//! only make the two Ms fight over a ping-pong pair (tokio makes the same choice), and a
//! single displaced G runs right after it. A thief for that one would split a few goroutines
//! that talk to each other (a select and its two producers) over two Ms, where every hand-off
//! back costs a cross-thread wake-up (µs in the browser); from two waiting Gs on, there is
//! work to share. Should the LIFO G's poll run long, an idle M still takes the displaced one:
//! while other Ms run, idle Ms park for at most a millisecond and take from a ring that has not
//! moved meanwhile (`M::take_stuck`), so two CPU-bound goroutines still share the cores.

use super::current::current_p_of;
use super::g::UNBOUND;
use super::shared::Shared;
use super::GRef;
use crate::platform::shim::Arc;
use std::cell::{Cell, RefCell};

/// Where `put_runnable` put a G.
pub(super) enum Placed {
    Bound,
    Lifo { crowded: bool },
    Global,
}

thread_local! {
    /// While an M fires expired timers, the goroutines they wake are gathered here instead of
    /// going through the LIFO slot into the ring (see `gather_timer_wakes`).
    static TIMER_WAKES: RefCell<Option<Vec<GRef>>> = const { RefCell::new(None) };
    /// Whether TIMER_WAKES is gathering (a destructor-free flag, cheap to test on every wake).
    static GATHERING_TIMER_WAKES: Cell<bool> = const { Cell::new(false) };
}

/// Runs `fire` (which fires expired timers) and returns the goroutines it woke, for the M to
/// run before its ring: a sleeper whose time has come would otherwise queue behind every
/// goroutine made runnable before it, which with thousands of new goroutines is milliseconds
/// late (Go's own wasm port shows p99 lateness of 36–78 ms for that reason).
pub(crate) fn gather_timer_wakes(fire: impl FnOnce()) -> Vec<GRef> {
    TIMER_WAKES.with(|t| *t.borrow_mut() = Some(Vec::new()));
    GATHERING_TIMER_WAKES.with(|c| c.set(true));
    fire();
    GATHERING_TIMER_WAKES.with(|c| c.set(false));
    TIMER_WAKES.with(|t| t.borrow_mut().take()).unwrap_or_default()
}

impl Shared {
    /// Makes a woken G runnable (Go's `goready`; called by its waker, which hands over its
    /// reference to `g`). Once `g` is queued, another M may run it to its end and drop it, and
    /// with it its reference to the runtime, so the runtime must be kept alive otherwise: on
    /// one of its Ms, by the M's own reference (no count changes hands on the usual path);
    /// elsewhere, by one taken for the call.
    pub(crate) fn ready(g: GRef) {
        match current_p_of(&g.shared) {
            Some(m) => {
                let here: *const Shared = Arc::as_ptr(&g.shared);
                // SAFETY: this thread is an M of g's runtime, and `CURRENT_M` holds a reference
                // to it for as long as this call runs (`current.rs`).
                unsafe { &*here }.ready_on(Some(m), g);
            }
            None => {
                let shared = g.shared.clone();
                shared.ready_on(None, g);
            }
        }
    }

    /// `ready`, with `m` the P of the current thread if it is an M of this runtime.
    fn ready_on(&self, m: Option<usize>, g: GRef) {
        match self.put_runnable(m, g) {
            Placed::Bound | Placed::Lifo { crowded: false } => {}
            Placed::Lifo { crowded: true } | Placed::Global => {
                self.idle.wake_one();
            }
        }
    }

    /// Queues a runnable G where it belongs (see "Where a runnable G goes"); `m` is the P of
    /// the current thread, if it is an M of this runtime.
    pub(super) fn put_runnable(&self, m: Option<usize>, g: GRef) -> Placed {
        let home = g.home();
        if home != UNBOUND {
            let inbox = &self.bound[home as usize];
            inbox.push(g);
            self.idle.parkers[home as usize].unpark();
            self.drop_if_stopped(inbox);
            return Placed::Bound;
        }
        match m {
            // A retired P runs nothing but its M's own (`procresize.rs`): an active P takes it.
            Some(m) if !self.is_retired(m) => {
                if GATHERING_TIMER_WAKES.with(Cell::get) {
                    TIMER_WAKES.with(|t| t.borrow_mut().as_mut().expect("gathering").push(g));
                    return Placed::Lifo { crowded: false };
                }
                let p = &self.procs[m];
                let crowded = p.lifo_put(g).is_some_and(|old| {
                    self.runqput(p, old);
                    p.runq.len() > 1
                });
                Placed::Lifo { crowded }
            }
            _ => {
                self.inbox.push(g);
                self.drop_if_stopped(&self.inbox);
                Placed::Global
            }
        }
    }
}
