//! A goroutine's status ([`GStatus`], Go's `_Grunnable`, `_Grunning`, …) and the atomic word
//! that holds it ([`GState`]), with the only transitions the scheduler makes.
//!
//! # Transitions
//! ```text
//!   Waiting --wake--> Runnable --an M takes it--> Running --Pending--> Waiting
//!                                                  |  ^
//!                                             wake |  | (requeued after the poll)
//!                                                  v  |
//!                                             RunningWoken
//!   Running --Ready--> Dead
//! ```
//! * [`GState::make_runnable`] (the waker): Waiting → Runnable, and only that transition tells
//!   its caller to enqueue the G; Running → RunningWoken; Runnable, RunningWoken: unchanged
//!   (but written, see below); Dead: nothing.
//! * [`GState::begin_poll`] (the M that took the G off a queue): → Running.
//! * [`GState::finish`] (that M, the future returned `Ready`): → Dead.
//! * [`GState::park`] (that M, the future returned `Pending`): Running → Waiting, or, if a
//!   wake-up came during the poll (RunningWoken), → Runnable, and the M requeues the G.
//!
//! # Invariants
//! 1. A G is in at most one queue and never polled by two Ms at once: it is enqueued only by
//!    the waker that moved it from Waiting to Runnable, or by the M that polled it when
//!    `park` finds it woken, and both happen at most once per poll.
//! 2. No wake-up is lost: a wake that comes after `begin_poll` and before `park` is seen by
//!    `park` (the G is requeued); one that comes after `park` finds Waiting and enqueues.
//! 3. Wakes are idempotent: a second wake before the next poll (Runnable or RunningWoken
//!    already) enqueues nothing, and a wake after the G finished (Dead) does nothing.
//!
//! # Memory ordering
//! The waker's CAS and the M's `begin_poll` swap and `park` CAS are AcqRel: what a waker
//! published before waking (the event the goroutine waits for) happens-before the poll that
//! follows the wake, and everything the poll wrote happens-before the wake that follows it.
//!
//! A wake that finds the G already Runnable or RunningWoken changes nothing, but it still
//! writes the word (a CAS to the same value), and the M moves the word to Running before a
//! poll, and to Runnable after a woken one, with swaps. Read-modify-writes of one word are
//! totally ordered and each reads the latest value, so the M's next swap acquires whatever the
//! waker published before waking. With a plain load in the waker and a plain store in the M,
//! the waker could read Runnable while the poll still read the waker's event as not happened
//! (the store-buffering pattern), and that wake-up would be lost. The loom models below fail
//! if the same-value CAS becomes a plain return, if `begin_poll` becomes a plain store, if the
//! waker's CAS is not Release (the poll after the wake misses the event), if a wake of a G
//! already Runnable reports that it must be enqueued (queued twice), or if a wake of a
//! running G does (two Ms poll it at once).
//!
//! Cost: a wake is a load and one CAS; a poll is one swap and then one store (finished) or one
//! CAS (parked; plus a swap if woken meanwhile): the type adds no operation to those the
//! protocol needs on the bare word.

use crate::platform::shim::AtomicU32;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Release};

/// A goroutine's status, in Go's names (`runtime2.go`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub(crate) enum GStatus {
    /// Blocked (Go's `_Gwaiting`): returned `Pending`, in no queue; a wake makes it Runnable.
    Waiting = 0,
    /// In a run queue, or about to be (Go's `_Grunnable`).
    Runnable = 1,
    /// Being polled by an M (Go's `_Grunning`).
    Running = 2,
    /// Being polled, and woken during that poll: the M requeues it when the poll returns
    /// `Pending` (Go has no such state: its `goready` cannot reach a running G).
    RunningWoken = 2 | 4,
    /// Finished (Go's `_Gdead`): its task is dropped; wakes do nothing.
    Dead = 8,
}

impl GStatus {
    #[inline]
    fn from_u32(v: u32) -> Self {
        match v {
            0 => GStatus::Waiting,
            1 => GStatus::Runnable,
            2 => GStatus::Running,
            6 => GStatus::RunningWoken,
            8 => GStatus::Dead,
            _ => unreachable!("a G state word holds only GStatus values"),
        }
    }

    /// The status as a goroutine dump prints it.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            GStatus::Waiting => "waiting",
            GStatus::Runnable => "runnable",
            GStatus::Running | GStatus::RunningWoken => "running",
            GStatus::Dead => "dead",
        }
    }
}

/// What [`GState::park`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Parked {
    /// Waiting: a later wake enqueues the G.
    Waiting,
    /// Woken during the poll, now Runnable: the caller must requeue the G.
    Requeue,
}

/// A G's atomic status word (module header).
pub(crate) struct GState(AtomicU32);

impl GState {
    /// A new G is Runnable: it is queued as soon as it is created.
    pub(crate) fn new() -> Self {
        GState(AtomicU32::new(GStatus::Runnable as u32))
    }

    /// A G that starts out Waiting (the models start there).
    #[cfg(all(test, loom))]
    fn waiting() -> Self {
        GState(AtomicU32::new(GStatus::Waiting as u32))
    }

    #[inline]
    pub(crate) fn load(&self) -> GStatus {
        GStatus::from_u32(self.0.load(Acquire))
    }

    /// The waker's transition: true if it moved the G from Waiting to Runnable, and the caller
    /// must now enqueue it; false if the G is queued or running already (it is flagged, or
    /// was already), or dead.
    #[inline]
    pub(crate) fn make_runnable(&self) -> bool {
        const WAITING: u32 = GStatus::Waiting as u32;
        const RUNNABLE: u32 = GStatus::Runnable as u32;
        const RUNNING: u32 = GStatus::Running as u32;
        const RUNNING_WOKEN: u32 = GStatus::RunningWoken as u32;
        let mut s = self.0.load(Acquire);
        loop {
            // On the raw word, so that the hot path has no branch for impossible values.
            let next = match s {
                WAITING => RUNNABLE,
                RUNNING => RUNNING_WOKEN,
                // Queued or woken already: rewrite the same value (module header).
                RUNNABLE | RUNNING_WOKEN => s,
                _ => return false, // Dead
            };
            match self.0.compare_exchange_weak(s, next, AcqRel, Acquire) {
                Ok(_) => return s == WAITING,
                Err(now) => s = now,
            }
        }
    }

    /// The M took the G off a queue and is about to poll it: → Running. The swap acquires
    /// every waker's write to the word (module header).
    #[inline]
    pub(crate) fn begin_poll(&self) {
        self.0.swap(GStatus::Running as u32, AcqRel);
    }

    /// The poll returned `Ready` and the task is dropped: → Dead.
    #[inline]
    pub(crate) fn finish(&self) {
        self.0.store(GStatus::Dead as u32, Release);
    }

    /// The poll returned `Pending`: → Waiting, or → Runnable if a wake-up came during the poll
    /// (then the caller requeues the G).
    #[inline]
    pub(crate) fn park(&self) -> Parked {
        match self.0.compare_exchange(GStatus::Running as u32, GStatus::Waiting as u32, AcqRel, Acquire) {
            Ok(_) => Parked::Waiting,
            Err(_) => {
                self.0.swap(GStatus::Runnable as u32, AcqRel);
                Parked::Requeue
            }
        }
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    //! The protocol between one M polling a G and wakers, on the real `GState`. The G's future
    //! waits for `events` wake-ups: a poll reads how many events were published (Relaxed, so
    //! only the state word orders it with the wakes), and finishes once it has seen them all.
    //! A waker publishes an event (Relaxed), then wakes the G; an enqueue goes into `queued`.
    //! The M's poll touches the task through a loom `UnsafeCell`, so two Ms polling at once
    //! would be reported as a data race. After the threads are joined, the queue is run to
    //! its end: the task must have finished (else a wake-up was lost and the G waits forever),
    //! and the G must have been in at most one queue at a time.
    //!
    //! Whether the G finished is read from its task, not from the word: loom lets a plain
    //! store (`finish`'s) slip between the read and the write of a concurrent RMW (the waker's
    //! CAS from Running), which the memory model forbids (tokio-rs/loom#254), so a model may
    //! end with the word at RunningWoken after Dead. No run of the real program can.
    use super::*;
    use crate::platform::shim::loom_check as check;
    use crate::platform::shim::{Arc, AtomicUsize, UnsafeCell};
    use std::sync::atomic::Ordering::{Relaxed, SeqCst};

    struct World {
        state: GState,
        /// Events published by wakers.
        published: AtomicUsize,
        /// How many events the G waits for.
        events: usize,
        /// The G's task: how many polls ran, and whether it finished (touched only by the M
        /// that owns Running).
        task: UnsafeCell<(usize, bool)>,
        /// Gs in the run queue (the model's queue holds only this G).
        queued: AtomicUsize,
        /// How many times the G was put in the queue, by wakers and by requeues.
        enqueues: AtomicUsize,
    }

    impl World {
        fn new(state: GState, events: usize) -> Self {
            World {
                state,
                published: AtomicUsize::new(0),
                events,
                task: UnsafeCell::new((0, false)),
                queued: AtomicUsize::new(0),
                enqueues: AtomicUsize::new(0),
            }
        }

        fn enqueue(&self) {
            assert_eq!(self.queued.fetch_add(1, SeqCst), 0, "a G is in at most one queue");
            self.enqueues.fetch_add(1, SeqCst);
        }

        /// Takes the G off the queue if it is there.
        fn dequeue(&self) -> bool {
            self.queued.compare_exchange(1, 0, SeqCst, SeqCst).is_ok()
        }

        /// A waker: publishes an event, then wakes the G as `G::wake` does.
        fn wake(&self) {
            self.published.fetch_add(1, Relaxed);
            if self.state.make_runnable() {
                self.enqueue();
            }
        }

        /// An M runs the G it took off a queue as `G::poll` and the M's loop do: polls, and
        /// polls again while it is requeued.
        fn run(&self) {
            loop {
                self.state.begin_poll();
                // Loom reports a data race if another thread polls the G meanwhile.
                let ready = self.task.with_mut(|task| {
                    // SAFETY: the pointer is the cell's, valid during this closure; Running
                    // makes this M its only user (what the model checks).
                    let (polls, done) = unsafe { &mut *task };
                    assert!(!*done, "a finished G is polled again");
                    *polls += 1;
                    *done = self.published.load(Relaxed) >= self.events;
                    *done
                });
                if ready {
                    self.state.finish();
                    return;
                }
                match self.state.park() {
                    Parked::Waiting => return,
                    Parked::Requeue => {
                        self.enqueue();
                        if !self.dequeue() {
                            return;
                        }
                    }
                }
            }
        }

        /// After every thread is joined: runs what is queued, then checks the G finished.
        fn drain_and_check(&self) {
            while self.dequeue() {
                self.run();
            }
            // SAFETY: every other thread is joined.
            let done = self.task.with_mut(|task| unsafe { (*task).1 });
            assert!(done, "a wake-up was lost: the G waits forever");
        }
    }

    /// A G woken while it is running (during its own poll) is queued exactly once after the
    /// poll: requeued by the M if the wake came during the poll, enqueued by the waker if it
    /// came after the park, never both.
    #[test]
    fn loom_g_woken_while_running() {
        check(4, || {
            let w = Arc::new(World::new(GState::new(), 1));
            // An M took the G off a queue (it is Runnable) and polls it.
            let m = {
                let w = w.clone();
                loom::thread::spawn(move || w.run())
            };
            w.wake();
            m.join().unwrap();
            w.drain_and_check();
            // Woken before the poll, the G needs no enqueue (the poll sees the event); woken
            // during it, it is requeued; after the park, the waker enqueues it: never twice.
            assert!(w.enqueues.load(SeqCst) <= 1, "one wake, at most one enqueue");
        });
    }

    /// Two wakers race the M that runs the G, and each is an M too: after its wake it runs
    /// the G if it finds it queued. Whatever the interleaving, the G ends up polled after both
    /// events, never queued twice at once, and never polled by two Ms at once (the task's
    /// cell would race).
    #[test]
    fn loom_g_two_wakers_race_a_run() {
        check(3, || {
            let w = Arc::new(World::new(GState::new(), 2));
            let m = {
                let w = w.clone();
                loom::thread::spawn(move || w.run())
            };
            let wake_then_run = |w: &World| {
                w.wake();
                if w.dequeue() {
                    w.run();
                }
            };
            let waker = {
                let w = w.clone();
                loom::thread::spawn(move || wake_then_run(&w))
            };
            wake_then_run(&w);
            m.join().unwrap();
            waker.join().unwrap();
            w.drain_and_check();
        });
    }

    /// A waiting G woken twice (by two threads at once) is queued once, and its next poll
    /// sees both events.
    #[test]
    fn loom_g_woken_twice_while_waiting() {
        check(4, || {
            let w = Arc::new(World::new(GState::waiting(), 2));
            let waker = {
                let w = w.clone();
                loom::thread::spawn(move || w.wake())
            };
            w.wake();
            waker.join().unwrap();
            assert_eq!(w.enqueues.load(SeqCst), 1, "two wakes of a waiting G, one enqueue");
            w.drain_and_check();
        });
    }

    /// A wake that races with the poll that finishes the G, or comes after it, enqueues
    /// nothing and leaves the G dead.
    #[test]
    fn loom_g_wake_after_finish_does_nothing() {
        check(4, || {
            let w = Arc::new(World::new(GState::new(), 0));
            let m = {
                let w = w.clone();
                loom::thread::spawn(move || w.run())
            };
            w.wake();
            m.join().unwrap();
            w.wake();
            assert_eq!(w.enqueues.load(SeqCst), 0, "a finishing or dead G is never enqueued");
            assert_ne!(w.state.load(), GStatus::Runnable, "a dead G stays out of the queues");
            w.drain_and_check();
        });
    }
}
