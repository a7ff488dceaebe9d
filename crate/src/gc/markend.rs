//! The end of concurrent marking: which M requests the termination pause (`collect.rs`'s
//! `mark_step`), and when an idle M may park while marking goes on (`Heap::idle`, the scheduler hook).
//!
//! # State
//! * `done`: an M found no marking work left while no other M was draining: marking is
//!   probably over (a hint; the termination pause drains whatever is left). Set while the
//!   world runs, cleared in the first pause of the next cycle.
//! * `polling[p]`: while marking, whether the holder of P `p` is in a poll. Written only by
//!   the holder, at its safepoints: before it looks at `done`, and again as it leaves.
//!
//! # The rules
//! * Once `done` is set, an M at its safepoint before a poll requests the termination and
//!   stops at once; an M looking for work requests it only if no other M polls (it would
//!   otherwise stop first and wait, the pause running, for that poll to end), else it leaves
//!   the request to the polling M, which makes it at its next safepoint.
//! * While `done` is not set, an idle M with no marking work to take parks only if another M
//!   polls or drains: that M comes back to a safepoint (or out of its drain), where it ends
//!   marking, or leaves work in the pool and wakes an idle M. Otherwise the idle M keeps
//!   looking, and ends marking itself. A parked M's P is claimed by a pause at once, where an
//!   M spinning for work would first have to be scheduled by the OS (on a loaded machine, or
//!   in a browser compiling code in the background, milliseconds).
//!
//! # Why some M requests the termination (orderings)
//! Every access to `done` and the flags is SeqCst, and a SeqCst fence follows each store. An
//! M publishes its flag before it reads
//! `done` and the others' flags; the M that sets `done` published its own flag before and
//! reads the others' after. Take an M `a` looking for work (flag cleared) and the M `b` that
//! sets `done`. In the single order of SeqCst accesses, either `b` reads `a`'s flag after
//! `a` cleared it, and so requests itself, or `a` reads `done` after `b` set it, and then
//! reads `b`'s flag after `b` published it: `b` polls (and requests at its safepoint) or
//! looks for work (and `a` requests). So no M parks trusting another M that trusts it back;
//! the loom model below checks it.

use crate::platform::shim::{fence, AtomicBool};
use std::sync::atomic::Ordering::{Relaxed, SeqCst};

pub(crate) struct MarkEnd {
    done: AtomicBool,
    polling: Box<[AtomicBool]>,
}

impl MarkEnd {
    pub(crate) fn new(procs: usize) -> Self {
        MarkEnd {
            done: AtomicBool::new(false),
            polling: (0..procs).map(|_| AtomicBool::new(false)).collect(),
        }
    }

    /// Starts a mark phase (the world is stopped).
    pub(crate) fn reset(&self) {
        self.done.store(false, SeqCst);
    }

    /// Whether an M found no marking work left in this mark phase.
    pub(crate) fn done(&self) -> bool {
        self.done.load(SeqCst)
    }

    /// An M found no marking work left while no other M drained.
    pub(crate) fn set_done(&self) {
        self.done.store(true, SeqCst);
        fence(SeqCst);
    }

    /// The holder of P `m` publishes, at a safepoint, whether it is about to poll.
    #[inline]
    pub(crate) fn publish(&self, m: usize, polling: bool) {
        let flag = &self.polling[m];
        if flag.load(Relaxed) != polling {
            flag.store(polling, SeqCst);
            fence(SeqCst);
        }
    }

    /// Whether an M other than `m` polls.
    fn others_poll(&self, m: usize) -> bool {
        self.polling.iter().enumerate().any(|(p, flag)| p != m && flag.load(SeqCst))
    }

    /// With `done` set: whether M `m`, at a safepoint before a poll (`polling`) or looking for
    /// work, must request the termination now.
    pub(crate) fn must_request(&self, m: usize, polling: bool) -> bool {
        polling || !self.others_poll(m)
    }

    /// Whether M `m`, looking for work with none to take from the mark pool, must keep
    /// looking (marking is not done, and no other M polls or drains: `others_draining`).
    pub(crate) fn must_stay(&self, m: usize, others_draining: bool) -> bool {
        !self.done() && !others_draining && !self.others_poll(m)
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::platform::shim::{loom_check as check, Arc};

    /// Two Ms finish their polls (both flags set) and look for work. M 1 finds marking done;
    /// M 0 found none to take while M 1 drained, so it either sees `done` or decides whether
    /// to park. If M 0 parks, someone must have requested the termination, or M 1 must still
    /// be polling (it is not: it looks for work too).
    #[test]
    fn loom_markend_someone_requests() {
        check(3, || {
            let end = Arc::new(MarkEnd::new(2));
            end.publish(0, true);
            end.publish(1, true);
            let finisher = {
                let end = end.clone();
                loom::thread::spawn(move || {
                    end.publish(1, false);
                    end.set_done();
                    end.must_request(1, false)
                })
            };
            end.publish(0, false);
            let (requested, parked) = if end.done() {
                let r = end.must_request(0, false);
                (r, !r)
            } else {
                // M 1 was draining when M 0 looked: M 0 may park.
                (false, !end.must_stay(0, true))
            };
            let finisher_requested = finisher.join().unwrap();
            assert!(!parked || requested || finisher_requested, "both Ms left the request to the other");
        });
    }
}
