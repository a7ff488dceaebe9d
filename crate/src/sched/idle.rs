//! Which Ms are idle, which are spinning, and how an M sleeps and is woken (Go's
//! `nmspinning` protocol over per-M futex words).
//!
//! Each P has its own M, a Worker created once (at start-up, or when `rt.setProcs` first adds
//! the P), so "an idle P" is "its parked M" and the idle set holds those Ms. Spare Ms
//! (`sysmon.rs`) are never in it: one that runs out of work for the P it stands in for gives
//! the P up instead of parking with it. The Ms of retired Ps (`procresize.rs`) are members,
//! counted by "every M idle", but never woken for work: `wake_one` and the spinning throttle
//! look only at the Ms of active Ps (`active`, changed with the world stopped).
//!
//! # The protocol
//! Work is published by pushing a G onto some queue, then calling [`Idle::wake_one`]:
//! 1. if some M is spinning, do nothing: a spinner looks at every queue before it parks;
//! 2. otherwise, if some M is idle, claim the right to wake by raising `nmspinning` from 0 to
//!    1, clear one idle M's bit in `mask` and unpark it. It wakes as a spinner, counted by
//!    the increment made on its behalf.
//!
//! An M that finds no work parks in this order:
//! 1. set its bit in `mask` ([`Idle::announce_idle`]);
//! 2. if spinning, lower `nmspinning` ([`Idle::stop_spinning`]);
//! 3. look at every queue once more; if it finds work, [`Idle::leave_idle`] and run it;
//! 4. park on its futex word; on waking, [`Idle::leave_idle`] tells whether a waker claimed it
//!    (then it is spinning) or it woke on its own (timeout or a bound goroutine's wake-up).
//!
//! No wake-up is lost: step 1 and 2 of the publisher and steps 1–3 of the parker are separated
//! by SeqCst fences, so either the publisher sees the parker's bit (and wakes it) or the
//! parker's final look sees the work. Spinning is throttled to half the busy Ms, and the last
//! spinner to find work wakes a replacement ([`Idle::stop_spinning`] returns true), so a burst
//! of work spreads over idle Ms one at a time.
//!
//! # Seeing the whole runtime idle
//! Every way out of the idle set goes through [`Idle::leave_idle`], which counts itself in
//! `exits` after it clears the M's bit (counted first, an exit could hide between an
//! observer's read of the count and its read of the mask). An observer that reads "every M
//! idle" with the same `exits` before and after looking at goroutines and queues
//! ([`Idle::all_idle`], [`Idle::idle_throughout`]) saw one consistent moment: nothing was
//! polled in between, since polling needs an M outside the set. Without the count, an M could leave and come back
//! between the two looks (a Worker parked with `Atomics.waitAsync` runs JS goroutines'
//! promise reactions while it counts as idle, which start operations it then polls), and the
//! observer would mix what it read before with what it read after (`Shared::check_dead`).
//! If the observer's reads are ordered (SeqCst, or Acquire loads of words stored after the
//! exit), anything an M did after leaving is visible only together with its count.
//!
//! A parker's word is EMPTY, SLEEPING or NOTIFIED; an unpark that comes before the park leaves
//! NOTIFIED behind, so the park returns at once.

use crate::platform::shim::{fence, AtomicU32, AtomicU64};
use std::sync::atomic::Ordering::{Acquire, Relaxed, SeqCst};

const EMPTY: u32 = 0;
pub(crate) const SLEEPING: u32 = 1;
const NOTIFIED: u32 = 2;

/// The futex word one M sleeps on.
pub(crate) struct Parker {
    state: AtomicU32,
    #[cfg(loom)]
    lock: loom::sync::Mutex<()>,
    #[cfg(loom)]
    cond: loom::sync::Condvar,
}

impl Parker {
    fn new() -> Self {
        Parker {
            state: AtomicU32::new(EMPTY),
            #[cfg(loom)]
            lock: loom::sync::Mutex::new(()),
            #[cfg(loom)]
            cond: loom::sync::Condvar::new(),
        }
    }

    /// Moves to SLEEPING unless a notification is pending; returns false if there was one
    /// (consumed), true if the caller must now wait on the word for the value SLEEPING.
    pub(crate) fn prepare_park(&self) -> bool {
        if self.state.compare_exchange(NOTIFIED, EMPTY, Acquire, Relaxed).is_ok() {
            return false;
        }
        self.state.compare_exchange(EMPTY, SLEEPING, Acquire, Relaxed).is_ok()
    }

    /// Clears the word after a wait, consuming any notification.
    pub(crate) fn finish_park(&self) {
        self.state.swap(EMPTY, Acquire);
    }

    /// The word's address in linear memory, for a Worker that waits with `Atomics.waitAsync`.
    #[cfg(target_arch = "wasm32")]
    pub(crate) fn word_address(&self) -> u32 {
        self.state.as_ptr() as u32
    }

    #[cfg(not(loom))]
    pub(crate) fn park(&self, timeout_ns: Option<u64>) {
        if self.prepare_park() {
            crate::platform::futex_wait(&self.state, SLEEPING, timeout_ns);
            self.finish_park();
        }
    }

    #[cfg(not(loom))]
    pub(crate) fn unpark(&self) {
        if self.state.swap(NOTIFIED, SeqCst) == SLEEPING {
            crate::platform::futex_wake_one(&self.state);
        }
    }

    #[cfg(loom)]
    pub(crate) fn park(&self, _timeout_ns: Option<u64>) {
        if self.prepare_park() {
            let mut guard = self.lock.lock().unwrap();
            while self.state.load(SeqCst) == SLEEPING {
                guard = self.cond.wait(guard).unwrap();
            }
            drop(guard);
            self.finish_park();
        }
    }

    #[cfg(loom)]
    pub(crate) fn unpark(&self) {
        if self.state.swap(NOTIFIED, SeqCst) == SLEEPING {
            drop(self.lock.lock().unwrap());
            self.cond.notify_one();
        }
    }
}

pub(crate) struct Idle {
    nmspinning: AtomicU32,
    mask: AtomicU64,
    /// How many times an M has left the idle set (see "Seeing the whole runtime idle").
    exits: AtomicU64,
    /// The Ms of Ps started (or asked to start): the idle set's members. Grows only, while
    /// the world is stopped (`procresize.rs`).
    members: AtomicU64,
    /// The Ms of the active Ps: only these are woken for work (the others' Ps are retired).
    /// Changed only while the world is stopped.
    active: AtomicU64,
    pub(crate) parkers: Box<[Parker]>,
}

/// The bits of Ms `0..n`.
fn first_bits(n: usize) -> u64 {
    if n >= 64 {
        u64::MAX
    } else {
        (1 << n) - 1
    }
}

/// Ms are tracked in a 64-bit mask.
pub(crate) const MAX_PROCS: usize = 64;

impl Idle {
    /// `procs` Ms of active Ps (the idle set's members), `ms` Ms in all (spares, and the Ms
    /// of Ps that may be added later: `procresize.rs`).
    pub(crate) fn new(procs: usize, ms: usize) -> Self {
        assert!((1..=MAX_PROCS).contains(&procs));
        Idle {
            nmspinning: AtomicU32::new(0),
            mask: AtomicU64::new(0),
            exits: AtomicU64::new(0),
            members: AtomicU64::new(first_bits(procs)),
            active: AtomicU64::new(first_bits(procs)),
            parkers: (0..ms).map(|_| Parker::new()).collect(),
        }
    }

    /// Ps `0..procs` are active, and their Ms members (with the world stopped).
    pub(crate) fn set_active(&self, procs: usize) {
        self.active.store(first_bits(procs), SeqCst);
        self.members.fetch_or(first_bits(procs), SeqCst);
    }

    /// Idle Ms of active Ps.
    pub(crate) fn idle_count(&self) -> u32 {
        (self.mask.load(Relaxed) & self.active.load(Relaxed)).count_ones()
    }

    pub(crate) fn spinning_count(&self) -> u32 {
        self.nmspinning.load(Relaxed)
    }

    /// Called after publishing work: wakes one idle M to look for it, unless an M is already
    /// spinning. Lock-free, never blocks: safe on the page's main thread.
    pub(crate) fn wake_one(&self) -> bool {
        fence(SeqCst);
        let active = self.active.load(SeqCst);
        if self.nmspinning.load(SeqCst) != 0 || self.mask.load(SeqCst) & active == 0 {
            return false;
        }
        if self.nmspinning.compare_exchange(0, 1, SeqCst, Relaxed).is_err() {
            return false;
        }
        let mut mask = self.mask.load(SeqCst);
        loop {
            if mask & active == 0 {
                self.nmspinning.fetch_sub(1, SeqCst);
                return false;
            }
            let m = (mask & active).trailing_zeros();
            match self.mask.compare_exchange(mask, mask & !(1 << m), SeqCst, SeqCst) {
                Ok(_) => {
                    self.parkers[m as usize].unpark();
                    return true;
                }
                Err(now) => mask = now,
            }
        }
    }

    /// An M with nothing local to run may spin (steal) only while spinners are at most half
    /// of the busy Ms.
    pub(crate) fn try_start_spinning(&self) -> bool {
        let busy = self.active.load(Relaxed).count_ones() - self.idle_count();
        let spinning = self.nmspinning.load(SeqCst);
        if 2 * spinning >= busy {
            return false;
        }
        self.nmspinning.fetch_add(1, SeqCst);
        true
    }

    /// Returns true when the caller was the last spinner: if it found work, it must call
    /// `wake_one` so that a replacement looks for more.
    pub(crate) fn stop_spinning(&self) -> bool {
        let was = self.nmspinning.fetch_sub(1, SeqCst);
        fence(SeqCst);
        was == 1
    }

    pub(crate) fn announce_idle(&self, m: usize) {
        self.mask.fetch_or(1 << m, SeqCst);
        fence(SeqCst);
    }

    /// Removes M `m` from the idle set. Returns true if a waker had claimed it first, which
    /// makes it a spinner.
    pub(crate) fn leave_idle(&self, m: usize) -> bool {
        let claimed = self.mask.fetch_and(!(1 << m), SeqCst) & (1 << m) == 0;
        // After the bit: an observer that reads the old count then sees the bit still set.
        self.exits.fetch_add(1, SeqCst);
        claimed
    }

    /// If every M is idle now, a token for [`Idle::idle_throughout`].
    pub(crate) fn all_idle(&self) -> Option<u64> {
        let exits = self.exits.load(SeqCst);
        (self.mask.load(SeqCst) == self.members.load(SeqCst)).then_some(exits)
    }

    /// Whether every M stayed idle since [`Idle::all_idle`] gave `token`.
    pub(crate) fn idle_throughout(&self, token: u64) -> bool {
        self.all_idle() == Some(token)
    }

    pub(crate) fn unpark_all(&self) {
        self.parkers.iter().for_each(Parker::unpark);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// The M of a retired P (`procresize.rs`) counts for "every M idle" but is never woken for
    /// work, and counts as neither idle nor busy among the active Ps.
    #[test]
    fn a_retired_ms_is_a_member_never_woken() {
        let idle = Idle::new(2, 2);
        idle.set_active(1);
        idle.announce_idle(1);
        assert_eq!(idle.idle_count(), 0, "only active Ps' Ms count as idle Ps");
        assert!(!idle.wake_one(), "the retired M is not woken");
        assert_eq!(idle.spinning_count(), 0);
        assert_eq!(idle.all_idle(), None, "M 0 is not idle yet");
        idle.announce_idle(0);
        assert!(idle.all_idle().is_some());
        assert!(idle.wake_one(), "M 0 is woken");
        assert!(idle.leave_idle(0), "by a waker's claim");
        idle.stop_spinning();
        assert!(!idle.leave_idle(1), "M 1 leaves on its own");
        idle.set_active(2);
        idle.announce_idle(1);
        assert!(idle.wake_one(), "back among the active Ps, M 1 is woken");
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::platform::shim::loom_check as check;
    use crate::platform::shim::{Arc, AtomicUsize};
    use std::sync::atomic::Ordering::Release;

    /// One M looks for work and parks by the protocol; a publisher adds work and wakes it.
    /// The M must take every item: a lost wake-up leaves it parked forever, which loom reports.
    fn model(items: usize, start_spinning: bool) {
        check(5, move || {
            let idle = Arc::new(Idle::new(2, 2));
            let work = Arc::new(AtomicUsize::new(0));
            let take = |w: &AtomicUsize| {
                let n = w.load(SeqCst);
                n > 0 && w.compare_exchange(n, n - 1, SeqCst, SeqCst).is_ok()
            };
            let publisher = {
                let (idle, work) = (idle.clone(), work.clone());
                loom::thread::spawn(move || {
                    for _ in 0..items {
                        work.fetch_add(1, SeqCst);
                        idle.wake_one();
                    }
                })
            };
            let mut spinning = start_spinning && idle.try_start_spinning();
            let mut taken = 0;
            while taken < items {
                if take(&work) {
                    taken += 1;
                    if spinning {
                        spinning = false;
                        if idle.stop_spinning() {
                            idle.wake_one();
                        }
                    }
                    continue;
                }
                idle.announce_idle(0);
                if std::mem::take(&mut spinning) {
                    idle.stop_spinning();
                }
                if work.load(SeqCst) > 0 {
                    spinning = idle.leave_idle(0);
                    continue;
                }
                idle.parkers[0].park(None);
                spinning = idle.leave_idle(0);
            }
            publisher.join().unwrap();
            if spinning {
                idle.stop_spinning();
            }
            assert_eq!(idle.spinning_count(), 0, "spinner count returns to zero");
        });
    }

    #[test]
    fn loom_park_wake_one_item() {
        model(1, false);
    }

    #[test]
    fn loom_park_wake_two_items_from_spinning() {
        model(2, true);
    }

    /// `Shared::check_dead` in the small. M 1 is idle; it leaves the set, queues a waiter on
    /// a channel, marks the waiting goroutine, and parks again. An observer that finds every M
    /// idle reads the queue, then the goroutine; if every M stayed idle throughout, it must
    /// not have seen the goroutine waiting with the queue still empty (a false deadlock).
    #[test]
    fn loom_idle_throughout_sees_one_moment() {
        check(5, || {
            let idle = Arc::new(Idle::new(2, 2));
            idle.announce_idle(0);
            idle.announce_idle(1);
            let queued = Arc::new(AtomicUsize::new(0));
            let waiting = Arc::new(AtomicUsize::new(0));
            let m = {
                let (idle, queued, waiting) = (idle.clone(), queued.clone(), waiting.clone());
                loom::thread::spawn(move || {
                    idle.leave_idle(1);
                    queued.store(1, Release);
                    waiting.store(1, Release);
                    idle.announce_idle(1);
                })
            };
            if let Some(token) = idle.all_idle() {
                let queued = queued.load(Acquire);
                let waiting = waiting.load(Acquire);
                if idle.idle_throughout(token) {
                    assert!(queued == 1 || waiting == 0, "a mixed look passed as one moment");
                }
            }
            m.join().unwrap();
        });
    }

    /// Two Ms run the whole loop (take work; else spin if allowed; else park by the protocol)
    /// while a publisher adds `items`; the M that takes the last item stops everyone. A lost
    /// wake-up leaves an item behind with both Ms parked, which loom reports as a deadlock;
    /// the spinner count must also come back to zero.
    fn two_ms(items: usize, bound: usize) {
        check(bound, move || {
            let idle = Arc::new(Idle::new(2, 2));
            let work = Arc::new(AtomicUsize::new(0));
            let taken = Arc::new(AtomicUsize::new(0));
            let ms: Vec<_> = (0..2)
                .map(|i| {
                    let (idle, work, taken) = (idle.clone(), work.clone(), taken.clone());
                    loom::thread::spawn(move || {
                        let mut spinning = false;
                        while taken.load(SeqCst) < items {
                            let n = work.load(SeqCst);
                            if n > 0 && work.compare_exchange(n, n - 1, SeqCst, SeqCst).is_ok() {
                                if spinning {
                                    spinning = false;
                                    if idle.stop_spinning() {
                                        idle.wake_one();
                                    }
                                }
                                if taken.fetch_add(1, SeqCst) + 1 == items {
                                    idle.unpark_all();
                                }
                                continue;
                            }
                            if !spinning {
                                spinning = idle.try_start_spinning();
                            }
                            idle.announce_idle(i);
                            if std::mem::take(&mut spinning) {
                                idle.stop_spinning();
                            }
                            if work.load(SeqCst) > 0 || taken.load(SeqCst) == items {
                                spinning = idle.leave_idle(i);
                                continue;
                            }
                            idle.parkers[i].park(None);
                            spinning = idle.leave_idle(i);
                        }
                        if spinning {
                            idle.stop_spinning();
                        }
                    })
                })
                .collect();
            for _ in 0..items {
                work.fetch_add(1, SeqCst);
                idle.wake_one();
            }
            ms.into_iter().for_each(|m| m.join().unwrap());
            assert_eq!(idle.spinning_count(), 0, "spinner count returns to zero");
        });
    }

    #[test]
    fn loom_two_ms_one_item() {
        two_ms(1, 3);
    }

    #[test]
    fn loom_two_ms_two_items() {
        two_ms(2, 2);
    }
}
