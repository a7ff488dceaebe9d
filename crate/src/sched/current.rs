//! What this thread is doing for the scheduler: the M it is (if any), the goroutine it polls,
//! why that goroutine will wait, and the JS goroutines bound to it.
//!
//! # Invariants
//! * `CURRENT_M` names a runtime only between [`set_current_m`]`(Some(..))` and
//!   `set_current_m(None)`, and owns one strong count of it meanwhile (`Arc::into_raw`), so
//!   the hot paths read it with a plain load (a thread-local with no destructor) and borrow
//!   the runtime from it without touching the count. A thread is an M of one runtime at most.
//! * `CURRENT_P` is the P this M holds (`NO_P` while it holds none: parked, in a system call,
//!   or a spare M waiting in the pool). Only the M itself writes it, just after taking its P
//!   (`World`) and just before giving it up, so a thread that reads it here holds that P.
//! * `CURRENT_G` and `POLL_REASON` describe the poll in progress on this thread only; a G's
//!   poll publishes the reason into the G as it ends (`G::poll`).
//! * `BOUND_HERE` is touched only by the M the goroutines are bound to.

use super::g::G;
use super::shared::Shared;
use super::wait::WaitReason;
use super::GRef;
use crate::platform::shim::Arc;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::sync::Weak;

thread_local! {
    /// The runtime (or null) and the index of the M this thread is; owns a count of the runtime.
    static CURRENT_M: Cell<(*const Shared, usize)> = const { Cell::new((std::ptr::null(), 0)) };
    /// The P this M holds, or `NO_P`.
    static CURRENT_P: Cell<usize> = const { Cell::new(NO_P) };
    /// The goroutine being polled on this thread.
    static CURRENT_G: Cell<*const G> = const { Cell::new(std::ptr::null()) };
    /// Why the goroutine being polled on this thread waits, as set during this poll.
    static POLL_REASON: Cell<WaitReason> = const { Cell::new(WaitReason::None) };
    /// The JS goroutines bound to this M, by id.
    static BOUND_HERE: RefCell<HashMap<u64, Weak<G>>> = RefCell::new(HashMap::new());
}

/// `CURRENT_P` of an M that holds no P.
pub(crate) const NO_P: usize = usize::MAX;

/// Makes this thread M number `m` of `shared` (`Some`), or no M any more (`None`), dropping
/// the reference it held.
pub(crate) fn set_current_m(m: Option<(Arc<Shared>, usize)>) {
    let new = m.map_or((std::ptr::null(), 0), |(s, i)| (Arc::into_raw(s), i));
    let (old, _) = CURRENT_M.with(|c| c.replace(new));
    if !old.is_null() {
        // SAFETY: a non-null `CURRENT_M` came from `Arc::into_raw` above and owns that count.
        drop(unsafe { Arc::from_raw(old) });
    }
    crate::platform::set_thread_may_wait(!new.0.is_null());
    set_current_p(NO_P);
}

/// This M now holds P `p` (or, with `NO_P`, none).
pub(crate) fn set_current_p(p: usize) {
    CURRENT_P.with(|c| c.set(p));
}

/// Calls `f` with the runtime and the P of this thread, if it is an M that holds a P (plain
/// loads: timers, `procid` and the P-local helpers call it often).
#[inline]
pub(crate) fn current_m<R>(f: impl FnOnce(&Shared, usize) -> R) -> Option<R> {
    let (here, _) = CURRENT_M.with(Cell::get);
    let p = CURRENT_P.with(Cell::get);
    // SAFETY: `CURRENT_M` owns a count of the runtime it names (module header), released only
    // in `set_current_m`, which runs as the M starts and exits, never under `f`.
    (!here.is_null() && p != NO_P).then(|| f(unsafe { &*here }, p))
}

/// The P of this thread, if it is an M of `shared` that holds one.
#[inline]
pub(crate) fn current_p_of(shared: &Shared) -> Option<usize> {
    let (here, _) = CURRENT_M.with(Cell::get);
    let p = CURRENT_P.with(Cell::get);
    (std::ptr::eq(here, shared) && p != NO_P).then_some(p)
}

/// The index of this thread's M, if it is an M of `shared`.
pub(crate) fn current_m_of(shared: &Shared) -> Option<usize> {
    let (here, m) = CURRENT_M.with(Cell::get);
    std::ptr::eq(here, shared).then_some(m)
}

/// The runtime this thread is an M of, as a new reference.
pub(crate) fn current_shared() -> Option<Arc<Shared>> {
    let (here, _) = CURRENT_M.with(Cell::get);
    (!here.is_null()).then(|| {
        // SAFETY: as in `current_m`; the count taken here is the returned Arc's.
        unsafe {
            Arc::increment_strong_count(here);
            Arc::from_raw(here)
        }
    })
}

pub(crate) fn with_current_p<R>(f: impl FnOnce(&super::p::P) -> R) -> Option<R> {
    current_m(|s, i| f(&s.procs[i]))
}

/// Makes this thread's M look at its queues again even if it is parked.
#[cfg(target_arch = "wasm32")]
pub(crate) fn unpark_current_m() {
    let (here, m) = CURRENT_M.with(Cell::get);
    // SAFETY: as in `current_m`.
    if let Some(shared) = unsafe { here.as_ref() } {
        shared.idle.parkers[m].unpark();
    }
}

pub(crate) fn set_current_g(g: *const G) {
    CURRENT_G.with(|c| c.set(g));
}

/// The id of the goroutine running on this thread, or 0 outside any goroutine.
pub fn goid() -> u64 {
    // SAFETY: `CURRENT_G` is non-null only during that G's poll, which holds a reference to it.
    CURRENT_G.with(|c| unsafe { c.get().as_ref() }.map_or(0, |g| g.id))
}

/// The id and name of the goroutine running on this thread, or 0 and no name outside any
/// goroutine.
pub(crate) fn current_g_name() -> (u64, super::origin::Name) {
    // SAFETY: as in `goid`.
    CURRENT_G
        .with(|c| unsafe { c.get().as_ref() }.map_or((0, Default::default()), |g| (g.id, g.name.clone())))
}

/// The index of the P this thread runs goroutines for, if it is an M.
pub fn procid() -> Option<usize> {
    current_m(|_, i| i)
}

/// A goroutine's poll begins on this thread: it has given no reason to wait yet.
pub(crate) fn begin_poll_reason() {
    POLL_REASON.with(|r| r.set(WaitReason::None));
}

/// Says why the goroutine being polled on this thread will wait if this poll returns
/// `Pending`; its G publishes it as the poll ends (`G::poll`).
pub(crate) fn set_wait_reason(r: WaitReason) {
    POLL_REASON.with(|c| c.set(r));
}

/// The wait reason the goroutine being polled on this thread has set in this poll.
pub(crate) fn current_wait_reason() -> WaitReason {
    POLL_REASON.with(Cell::get)
}

pub(crate) fn bind_here(g: &GRef) {
    BOUND_HERE.with(|b| b.borrow_mut().insert(g.id, Arc::downgrade(g)));
}

pub(crate) fn unbind_here(goid: u64) {
    BOUND_HERE.with(|b| b.borrow_mut().remove(&goid));
}

/// A goroutine bound to this M, by id.
#[cfg(target_arch = "wasm32")]
pub(crate) fn bound_here(goid: u64) -> Option<GRef> {
    BOUND_HERE.with(|b| b.borrow().get(&goid).and_then(Weak::upgrade))
}
