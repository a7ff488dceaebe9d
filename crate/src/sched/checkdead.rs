//! Deadlock detection (Go's `checkdead`): when every M is idle and every goroutine waits on a
//! runtime object nobody outside can reach, report it once, with a goroutine dump, instead of
//! hanging silently.
//!
//! Objects the page (or a native thread) holds handles to are registered here
//! (`hold_outside`): a goroutine blocked on one of them may still be woken from outside, so
//! their waiters never count as deadlocked.
//!
//! # Invariants
//! * The check's looks are not one atomic snapshot; they count only if every M stayed idle
//!   throughout (`Idle::idle_throughout`), see `check_dead`.
//! * One report per set of deadlocked goroutines (`deadlock_epoch`); the report is handed to
//!   the page through `deadlock_report` (an owned `Box<String>` pointer, swapped).

use super::gstatus::GStatus;
use super::join;
use super::shared::Shared;
use super::GRef;
use crate::platform::shim::Arc;
use std::sync::atomic::Ordering::{AcqRel, Release};

/// A runtime object goroutines can block on (a channel, wait group or mutex).
pub(crate) trait Held: Send + Sync {
    /// Whether some goroutine is blocked on it.
    fn has_waiters(&self) -> bool;
}

/// An object the page holds: its address, how many handles, the object.
pub(crate) type HeldOutside = (usize, usize, Arc<dyn Held>);

impl Shared {
    /// Code outside every goroutine (the page, or a native thread) took a handle to `obj`,
    /// and may still wake goroutines through it. Never waits (the lock only spins on the page).
    /// Returns the key for `release_outside`.
    pub(crate) fn hold_outside(&self, obj: Arc<dyn Held>) -> usize {
        let key = Arc::as_ptr(&obj) as *const () as usize;
        let mut held = self.held_outside.lock();
        match held.iter_mut().find(|(k, _, _)| *k == key) {
            Some((_, n, _)) => *n += 1,
            None => held.push((key, 1, obj)),
        }
        key
    }

    /// Code outside every goroutine dropped a handle to the object at `key` (its address).
    pub(crate) fn release_outside(&self, key: usize) {
        {
            let mut held = self.held_outside.lock();
            if let Some(i) = held.iter().position(|(k, _, _)| *k == key) {
                held[i].1 -= 1;
                if held[i].1 == 0 {
                    held.swap_remove(i);
                }
            }
        }
        // Goroutines blocked on that object may have lost their last way out: have an idle M
        // look again, so that it runs the deadlock check as it parks.
        self.idle.wake_one();
    }

    /// Go's `checkdead`, run by an M about to park with no timer pending: if every M is idle,
    /// no timer is pending, every live goroutine waits on a runtime object (channel, select,
    /// sync primitive, join), no object the page holds has a waiter (the page could wake it, and it others) and no
    /// goroutine waits in the inbox, report the deadlock once: every goroutine's join fails
    /// with `JoinError::Deadlock`, and the page is notified.
    ///
    /// The looks below are not one atomic snapshot, so they only count if every M stayed idle
    /// throughout (`Idle::idle_throughout`): otherwise an M may have polled a goroutine into
    /// a wait on an object after that object was seen without waiters. The M that did parks
    /// again later and checks again.
    pub(crate) fn check_dead(&self) {
        // Ms held by a higher layer (stopping for a collection) are not idle, whatever the
        // idle mask says.
        if self.hooks.holds_ms() {
            return;
        }
        let Some(idle) = self.idle.all_idle() else {
            return;
        };
        // A timer pending is a way out (Go's checkdead looks at the Ps' timers too). The caller
        // saw none before every M was idle, but an M may have been firing one then, a ticker
        // that arms its next tick: what an M did before it went idle is visible now (its
        // announce is a SeqCst write that `all_idle` read).
        if self.procs.iter().any(|p| p.timers.next_deadline() != u64::MAX) {
            return;
        }
        if self.held_outside.lock().iter().any(|(_, _, obj)| obj.has_waiters()) {
            return;
        }
        // Every goroutine, system ones included, must be waiting: a woken system goroutine
        // (one that runs a JS goroutine's channel operation) is work in flight. Wake-ups that
        // come from the page happen before it releases the object's lock (see `chan`), so the
        // look at the held objects above and at the states here cannot miss one.
        let all = self.all_gs();
        if all.iter().any(|g| g.state() != GStatus::Waiting) {
            return;
        }
        let gs: Vec<GRef> = all.into_iter().filter(|g| !g.system).collect();
        if gs.is_empty() || !gs.iter().all(|g| g.wait_reason().is_on_runtime_object()) {
            return;
        }
        // Goroutines the page submitted are registered only once an M takes them.
        if !self.inbox.is_empty() || !self.unstarted_inbox.is_empty() || !self.idle.idle_throughout(idle) {
            return;
        }
        // One report per set of deadlocked goroutines.
        let epoch = gs
            .iter()
            .fold(gs.len() as u64, |h, g| h.rotate_left(7) ^ g.id.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        if self.deadlock_epoch.swap(epoch, AcqRel) == epoch {
            return;
        }
        let dump = super::dump::dump_text(&self.goroutines());
        let report = Box::new(format!("fatal error: {}\n\n{dump}", join::DEADLOCK));
        let old = self.deadlock_report.swap(Box::into_raw(report), AcqRel);
        if !old.is_null() {
            // SAFETY: non-null values of `deadlock_report` come from Box::into_raw; the swap
            // made this one ours.
            drop(unsafe { Box::from_raw(old) });
        }
        self.notify_event();
        for g in &gs {
            g.join.fail(join::JoinError::Deadlock { goid: g.id, dump: dump.clone() });
        }
    }

    /// Bumps the events word the page waits on (a deadlock report, a spare M to start).
    pub(crate) fn notify_event(&self) {
        self.events.fetch_add(1, Release);
        crate::platform::futex_wake_all(&self.events);
    }

    /// The last deadlock report, once. Lock-free (the page calls it).
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    pub(crate) fn take_deadlock_report(&self) -> Option<String> {
        let p = self.deadlock_report.swap(std::ptr::null_mut(), AcqRel);
        // SAFETY: as in `check_dead`.
        (!p.is_null()).then(|| *unsafe { Box::from_raw(p) })
    }
}
