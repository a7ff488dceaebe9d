//! System calls (Go's `entersyscall` and `exitsyscall`): an M that leaves the runtime for a
//! while gives its P up, so that nothing waits for it but the goroutines bound to it.
//!
//! An M leaves the runtime when, on the web, it calls a JS goroutine's code (which may loop
//! for seconds) or gives its Worker's event loop a turn (promise reactions, timers and
//! messages run there, JS goroutines' code among them), and natively in a blocking call a
//! goroutine wraps in [`syscall`]. Meanwhile it runs no goroutine's poll of its own and
//! touches no heap object (a JS goroutine's values live in the heap behind roots; the
//! collector asserts that an M touching its P's allocation cache holds the P), so it gives
//! its P up exactly as a parking M does (`World::release_p`): a collection claims the P and
//! does its share instead of waiting, other Ms steal its ring and fire its overdue timers,
//! and if the call lasts, the monitor hands the P itself to a spare M (`sysmon.rs`).
//! Goroutines made runnable by code running meanwhile on this M go where those made runnable
//! from outside the runtime go: the global inbox (`ready.rs`), or the M's bound inbox. A
//! goroutine started by that code goes on the M's own P if the P is free at once
//! (`with_own_p`, Go's `cgocallback`), so that it runs next there or is stolen.
//!
//! # The protocol (P `p`, its own M, a spare M, the monitor)
//! 1. **Enter.** The M bumps `p`'s `syscalltick` to odd (SeqCst), forgets its P
//!    (`CURRENT_P`), passes a safepoint (`Hooks::safepoint`, not polling: the collector must
//!    not count on it to end marking, and a requested stop is joined) and releases its P
//!    (`World::release_p`, again after a safepoint if a stop was requested meanwhile). If
//!    the monitor sleeps, it wakes it.
//! 2. **Retake.** The monitor sees `p` `IDLE` in the same system call (`syscalltick`) for
//!    more than `FORCE_PREEMPT_NS` since it first saw it, goroutines or due timers on it, and
//!    its `wanted` flag clear: it hands `p` to a pooled spare (`assigned`) and unparks it.
//! 3. **Hand-off.** The spare takes `p` if it is still `IDLE` (`World::try_acquire_p`, a CAS
//!    that races with the owner's in step 4: one wins; the loser of a race with a collection
//!    waits for it). It runs `p`'s goroutines and timers like `p`'s own M, except JS
//!    goroutines that have not started, which wait apart for the Ms that host JS
//!    (`globrunq.rs`; a spare never hosts JS: its Worker would then have to stay). At every
//!    schedule it looks at `p`'s `wanted` flag (`World::wanted_back`); when set, or when it
//!    finds no work, it releases `p` (a collection first, if one is requested), wakes whoever
//!    waits for `p` (`World::wake_released`) and goes back to the pool.
//! 4. **Exit.** The own M bumps `syscalltick` back to even and takes `p` back
//!    (`World::take_own_p`): if a spare holds it, it sets `wanted` (SeqCst) and waits on `p`'s
//!    state word while it reads `RUNNING`, then takes it and clears `wanted`.
//!
//! # Why it is correct
//! * *One holder.* Every take of `p` is the CAS `IDLE` → `RUNNING`; only the holder stores
//!   `IDLE` again. So at most one M holds `p`, and the holder's accesses to `p` happen before
//!   its release (SeqCst store) which the next taker's CAS reads (Acquire).
//! * *The owner gets its P back.* It stores `wanted` before it waits, and waits only while
//!   the state word reads `RUNNING`; the spare loads `wanted` at each schedule (at most one
//!   poll apart) and releases with a store followed by a wake, so either the owner's wait sees
//!   the released state, or it is asleep when the wake comes. A spare that takes `p` after
//!   the owner set `wanted` (the monitor read it clear just before) sees it at once
//!   (`take_p`). The loom model `loom_world_spare_gives_the_p_back` checks this step.
//! * *The world still stops.* A released `p` is claimable exactly like a parked M's
//!   (`world.rs`), and a spare that holds `p` arrives for it at its safepoints.
//! * *Nobody runs a bound goroutine elsewhere.* JS goroutines stay bound to their Worker's M;
//!   only goroutines that can migrate run on a spare.
//!
//! A long poll of a Rust goroutine cannot be preempted in wasm: it keeps its P, and a
//! collection waits for it. Such a goroutine should `gosched().await` (or await
//! `gc::checkpoint()`) every millisecond or so; see [`syscall`] for blocking calls.

use super::current::{current_m_of, current_p_of, set_current_p, NO_P};
use super::m::M;
use super::shared::Shared;
use crate::platform::shim::Arc;

/// Runs `f`, a call that may block or run long without touching the runtime, as a system
/// call (Go's `entersyscall`/`exitsyscall`): the goroutine's P is released meanwhile, so
/// collections do not wait for it and, if it lasts more than about 10 ms, the monitor hands
/// the P, its queue and its timers to a spare M. `f` must not use heap objects (`Gc`
/// values, `Root::get`, allocation) or start goroutines' polls; channel operations and
/// starting goroutines are fine. Outside a goroutine, and on a spare M (whose P belongs to an
/// M in a system call itself), `f` simply runs.
pub fn syscall<R>(f: impl FnOnce() -> R) -> R {
    let Some(shared) = super::current_shared() else { return f() };
    let Some(p) = entersyscall(&shared) else { return f() };
    /// Takes the P back even if `f` panics (the poll's `catch_unwind` then reports it).
    struct Exit<'a>(&'a Arc<Shared>, usize);
    impl Drop for Exit<'_> {
        fn drop(&mut self) {
            exitsyscall(self.0, self.1);
        }
    }
    let _exit = Exit(&shared, p);
    f()
}

/// Step 1 for this thread, if it is an M of `shared` holding its own P: gives the P up and
/// returns it. `None` on a spare M, or with no P.
pub(crate) fn entersyscall(shared: &Shared) -> Option<usize> {
    let m = current_m_of(shared)?;
    let p = current_p_of(shared)?;
    if shared.spares.is_spare(m) {
        return None;
    }
    shared.procs[p].syscall_enter();
    set_current_p(NO_P);
    // A safepoint first: the hooks learn that this P's holder is no longer in a poll (the
    // collector must not wait for it to end marking), and a requested stop is joined.
    loop {
        shared.hooks.safepoint(shared, p, false);
        if shared.world.release_p(p) {
            break;
        }
    }
    shared.wake_monitor();
    Some(p)
}

/// Step 4 for this thread, the own M of P `p`, back from a system call.
pub(crate) fn exitsyscall(shared: &Shared, p: usize) {
    shared.procs[p].syscall_exit();
    shared.world.take_own_p(p);
    set_current_p(p);
}

/// Runs `f` holding this M's own P, if this thread is an M of `shared` in a system call whose
/// P is free at once (Go's `cgocallback`, which takes a P back for a callback): JS code that
/// starts a goroutine puts it on its M's P, where it runs next or is stolen, as in Go. If the P
/// is held (by a collection, or a spare M), `f` runs without it.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
pub(crate) fn with_own_p<R>(shared: &Shared, f: impl FnOnce() -> R) -> R {
    let own = match (current_m_of(shared), current_p_of(shared)) {
        (Some(m), None) if !shared.spares.is_spare(m) && shared.world.take_p_now(m) => m,
        _ => return f(),
    };
    set_current_p(own);
    let r = f();
    set_current_p(NO_P);
    while !shared.world.release_p(own) {
        shared.hooks.safepoint(shared, own, false);
    }
    r
}

impl M {
    /// Step 3: a spare takes the P handed to it, if still free. True if it holds it now.
    pub(super) fn take_p(&mut self, p: usize) -> bool {
        let world = self.shared.world.clone();
        if world.wanted_back_now(p) {
            return false;
        }
        let spares = &self.shared.spares;
        spares.note_holding(self.index, Some(p), false);
        if !world.try_acquire_p(p) {
            spares.note_holding(self.index, None, false);
            return false;
        }
        spares.note_holding(self.index, Some(p), true);
        self.hold_p(p);
        if world.wanted_back_now(p) {
            self.give_back_p();
            return false;
        }
        true
    }

    /// This M now holds P `p`.
    pub(super) fn hold_p(&mut self, p: usize) {
        self.p = p;
        set_current_p(p);
        self.shared.hooks.m_start(&self.shared, p);
    }

    /// Step 3's end: a spare gives its P up (after the stop of the world, if one is
    /// requested) and wakes the P's own M if it waits for it.
    pub(super) fn give_back_p(&mut self) {
        self.flush_runs();
        let p = std::mem::replace(&mut self.p, NO_P);
        if self.spinning {
            self.spinning = false;
            self.shared.idle.stop_spinning();
        }
        set_current_p(NO_P);
        // Before the release: a death past this point leaves the P as it is (`died.rs`).
        self.shared.spares.note_holding(self.index, Some(p), false);
        while !self.shared.world.release_p(p) {
            self.shared.hooks.safepoint(&self.shared, p, false);
        }
        self.shared.spares.note_holding(self.index, None, false);
        self.shared.world.wake_released(p);
    }

    /// Whether this M is a spare whose P's own M wants it back.
    pub(super) fn must_give_back(&self) -> bool {
        self.is_spare() && self.p != NO_P && self.shared.world.wanted_back(self.p)
    }

    pub(super) fn is_spare(&self) -> bool {
        self.shared.spares.is_spare(self.index)
    }
}
