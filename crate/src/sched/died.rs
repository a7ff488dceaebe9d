//! An M whose thread died: a Worker that closed itself, crashed, or was terminated (Go has no
//! such thing: an OS thread of a Go program does not die alone).
//!
//! # Where a thread can die
//! A Worker closes (`self.close()`, called by JS code it ran) only between two tasks of its
//! event loop. An M that ran JS returns there only as a system call (`syscall.rs`): `M::leave`
//! gives its P up, or it parked (`Exit::ParkAsync`) and gave it up to park; either way it then
//! records that it is *out* ([`M::step_out`]) and, as `M::run` is called again, that it is
//! back ([`M::step_in`]), before it takes its P back. So such a Worker dies out: holding no P,
//! no lock, and in no poll. It then leaves behind, in shared memory:
//! * its P, `IDLE` (or held by a stop of the world, or by a spare M standing in): claimable,
//!   and, since the P still reads as in a system call, handed to a spare M by the monitor
//!   (`sysmon.rs`) while goroutines wait on it;
//! * its place in the idle set, if it parked: its bit in the idle mask, or, if a waker claimed
//!   it meanwhile, a spinner counted on its behalf that will never look for work, so that
//!   every later `wake_one` would wake nobody;
//! * the goroutines bound to it (JS goroutines, whose continuations lived in its JS heap, and
//!   the system goroutines running their operations), which nobody else may poll;
//! * goroutines that its own timers woke and that it had not run yet (`M::timer_woken`, private
//!   to the M): it hands them over as it steps out ([`Lives`]), and takes them back in.
//!
//! # Killed inside the scheduler (best effort)
//! A thread killed while it runs Rust code (a trap, or `Worker.terminate()` of a Worker that
//! did not stop at shutdown: a JS goroutine that loops, which is a system call, or an M that
//! never ran JS and returns to its event loop holding its P) may have held a P, locks, or a
//! spinner's count. Its P is given up on its behalf (`World::release_dead`) when it is known
//! to have held it: for the M of P `m`, when `m` was not in a system call (`P::syscall`), its
//! M was not waiting to take it back from a spare (`World::wanted_back_now`), and no spare M
//! holds or is taking it (`Spares::holding`); for a spare M, the P it had taken. When
//! in doubt the P is not released: a dead thread killed in the few instructions between the
//! start of a system call and the release of its P, or while a spare's take of it was in
//! flight, leaves its P `RUNNING` for good, and the next stop of the world then waits for
//! ever. So does a stop of the world requested before the death, if every other M had joined
//! it already: nobody claims the released P for it. The goroutine it was polling never
//! finishes, and whatever else it held (a lock, a spinner's count) stays held. At shutdown
//! all that only leaks the runtime's memory; outside it, it takes a trap in the runtime's own
//! code (a bug) or a crashed Worker.
//!
//! A spare M (`sysmon.rs`) runs no JS, so it never closes itself; it dies only killed, as
//! above. Its death also takes it out of the pool of spares and, if it was the monitor, gives
//! the monitor's role to a pooled spare, so that no P is handed to it again; a new Worker may
//! take over its index like any other's (a spare has no bound goroutines to fail).
//!
//! # Recovery
//! 1. The thread is known dead (the JS facade learns it from a Web Lock the Worker held for its
//!    life) and [`Shared::m_died`] runs, on any thread, the page's included: lock-free, it
//!    marks M `m` dead and undoes what the dead thread left in the idle set, the pool of spares
//!    and the world, then wakes an M for whatever is queued.
//! 2. A new thread enters the scheduler as M `m` (`M::new`, which takes the P back, from a
//!    spare M if one holds it) and, before it polls anything, calls [`M::take_over`]: it fails
//!    every goroutine bound to `m` with [`JoinError::MDied`], marks it dead (wakes of it do
//!    nothing, and a wake already queued in the bound inbox is skipped: `M::bound_next`), drops
//!    its task on this thread (the facade leaks whatever belongs to the dead thread's JS heap
//!    instead of dropping it here), empties the bound inbox and takes the dead M's timer
//!    wake-ups. Its P's ring, LIFO slot and timers were never the dead M's alone: it runs them,
//!    as other Ms may meanwhile.
//! 3. At shutdown, an M that never comes back (a Worker terminated because it did not stop in
//!    time) is written off with [`Shared::m_gone`]: it counts as exited, and if it was the last,
//!    the caller releases what the last M out would have, skipping whatever a dead thread
//!    left locked.
//!
//! # Invariants
//! * Every per-M record (`Lives`, the bound inboxes, the parkers) has one entry per M, spares
//!   included (`max_procs + SPARE_MAX`).
//! * `states[m]` is written by M `m`'s thread while it lives, and by `m_died`/`m_gone` only
//!   once that thread is dead, so the two never race; both read it after the death (SeqCst:
//!   the facade learns of the death through the browser, which orders it after the thread's
//!   last store).
//! * A goroutine bound to a dead M is polled by nobody: it is `Dead` before the M that takes
//!   over index `m` polls anything, and a wake-up that made it runnable before that is
//!   skipped.
//! * The count of running Ms is lowered exactly once per M index and life: by its M as it
//!   exits ([`Shared::m_out`], which first records `EXITED`), or by `m_gone` for an M that
//!   never recorded it.

use super::join::JoinError;
use super::m::M;
use super::shared::Shared;
use super::shutdown::Shutdown;
use super::GRef;
use crate::platform::shim::AtomicU32;
use std::collections::VecDeque;
use std::sync::atomic::Ordering::{AcqRel, Release, SeqCst};
use std::sync::Mutex;

/// In the scheduler (running, or parked in a blocking wait), or not started.
const IN: u32 = 0;
/// Returned to its event loop, P given up (`M::leave`, then `M::step_out`).
const OUT: u32 = 1;
/// Returned to its event loop to park there (`Exit::ParkAsync`): in the idle set.
const PARKED: u32 = 2;
/// Exited at shutdown (`Shared::m_out`).
const EXITED: u32 = 3;
/// Its thread died (`Shared::m_died`); an M may take over its index.
const DEAD: u32 = 4;
/// Its thread died at shutdown and nobody takes over (`Shared::m_gone`).
const GONE: u32 = 5;

/// Per M, what its thread left in the scheduler when it last stepped out.
pub(crate) struct Lives {
    states: Box<[AtomicU32]>,
    /// Goroutines woken by the M's timers that it had not run when it stepped out. Taken only
    /// by M `m`'s thread, or, once it is dead, by the M that takes over index `m`; the page
    /// only tries the lock (`release_after_deaths`).
    timer_woken: Box<[Mutex<VecDeque<GRef>>]>,
}

impl Lives {
    /// For `ms` Ms: the Ps' and the spares.
    pub(crate) fn new(ms: usize) -> Self {
        Lives {
            states: (0..ms).map(|_| AtomicU32::new(IN)).collect(),
            timer_woken: (0..ms).map(|_| Mutex::new(VecDeque::new())).collect(),
        }
    }

    /// Drops the timer wake-ups held for every M (the runtime is released): a G holds its
    /// runtime, so they would keep it alive. Only tries the locks when `outside`.
    fn clear(&self, outside: bool) {
        for slot in self.timer_woken.iter() {
            let held = if outside { slot.try_lock().ok() } else { slot.lock().ok() };
            if let Some(mut q) = held {
                q.clear();
            }
        }
    }
}

impl M {
    /// Records that this M leaves the scheduler for its Worker's event loop having given its P
    /// up: `parked` (`Exit::ParkAsync`: in the idle set), or out of a system call
    /// (`M::leave`), when it hands over the goroutines its timers woke. Only bookkeeping for a
    /// death there; the P was given up already. See the module header.
    pub(crate) fn step_out(&mut self, parked: bool) {
        if parked {
            self.shared.lives.states[self.index].store(PARKED, SeqCst);
            return;
        }
        if !self.timer_woken.is_empty() {
            let mut slot = self.shared.lives.timer_woken[self.index].lock().unwrap();
            std::mem::swap(&mut *slot, &mut self.timer_woken);
            self.handed_timers = true;
        }
        self.shared.lives.states[self.index].store(OUT, SeqCst);
    }

    /// Comes back from the Worker's event loop (the start of `M::run`, before it takes its P
    /// back): in the scheduler again, with the goroutines it handed over.
    pub(crate) fn step_in(&mut self) {
        self.shared.lives.states[self.index].store(IN, SeqCst);
        if std::mem::take(&mut self.handed_timers) {
            self.take_timer_woken();
        }
    }

    fn take_timer_woken(&mut self) {
        let mut slot = self.shared.lives.timer_woken[self.index].lock().unwrap();
        if !slot.is_empty() {
            let mut handed = std::mem::take(&mut *slot);
            handed.append(&mut self.timer_woken);
            self.timer_woken = handed;
        }
    }

    /// Step 2 of the recovery (module header), on the new thread of M `index`, right after
    /// `M::new` (which took the P back) and before the first `run`: fails and retires the
    /// goroutines bound to the dead M (`reason` says why it died), and takes over its timer
    /// wake-ups. Returns how many goroutines it failed (none for a spare M).
    // The facade (wasm) recovers; natively only the tests do.
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    pub(crate) fn take_over(&mut self, reason: &str) -> usize {
        let (shared, m) = (&self.shared, self.index);
        let here = m as u32;
        let mut failed = 0;
        for g in shared.all_gs() {
            if g.home() != here {
                continue;
            }
            g.join.fail(JoinError::MDied { goid: g.id, proc: m, reason: reason.to_string() });
            g.retire();
            shared.unregister(&g);
            failed += 1;
        }
        drop(shared.bound[m].take_all());
        shared.lives.states[m].store(IN, SeqCst);
        self.take_timer_woken();
        failed
    }
}

#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
impl Shared {
    /// Step 1 of the recovery (module header): M `m`'s thread is dead. Lock-free (the page may
    /// call it). Returns false if there was nothing to do: the M had exited, or was already
    /// known dead.
    pub(crate) fn m_died(&self, m: usize) -> bool {
        let was = self.lives.states[m].swap(DEAD, SeqCst);
        if matches!(was, EXITED | DEAD | GONE) {
            self.lives.states[m].store(was, SeqCst);
            return false;
        }
        self.undo(m, was);
        true
    }

    /// Undoes what M `m`'s thread, dead in state `was`, left in the idle set, the pool of
    /// spares and the world, then wakes an M for whatever its P holds.
    fn undo(&self, m: usize, was: u32) {
        let idle = &self.idle;
        if self.spares.is_spare(m) {
            // Never in the idle set, never out: killed wherever it was (module header).
            if let Some(p) = self.spare_died(m) {
                self.world.release_dead(p);
            }
            idle.parkers[m].finish_park();
        } else {
            match was {
                OUT => {}
                PARKED => {
                    // Out of the idle set. If a waker claimed it already, the spinner counted
                    // for it will never look for work: uncount it.
                    if idle.leave_idle(m) {
                        idle.stop_spinning();
                    }
                    idle.parkers[m].finish_park();
                }
                _ => {
                    // Killed inside the scheduler: its P, if it surely held it, and its idle
                    // bit can be given back (a spinner's count it held cannot be told apart
                    // from a waker's claim).
                    if self.procs[m].syscall().is_none()
                        && !self.world.wanted_back_now(m)
                        && !self.spares.holds_or_takes(m)
                    {
                        self.world.release_dead(m);
                    }
                    idle.leave_idle(m);
                    idle.parkers[m].finish_park();
                }
            }
            // Nobody waits to take the P back now: a spare M may run it until an M takes over.
            self.world.forget_wanted(m);
        }
        // Whatever waits in its P's queues needs an M now, not once a new thread takes over.
        idle.wake_one();
    }

    /// Step 3 of the recovery (module header), at shutdown: M `m`'s thread is dead and no M
    /// will take over. It counts as exited; if it was the last M running, this releases what
    /// the last M out would have (lock-free apart from `try_lock`s, so the page may call it).
    /// Once per index: later calls do nothing.
    pub(crate) fn m_gone(&self, m: usize) {
        let was = self.lives.states[m].swap(GONE, SeqCst);
        match was {
            EXITED | GONE => {
                self.lives.states[m].store(was, SeqCst);
                return;
            }
            DEAD => {}
            _ => self.undo(m, was),
        }
        if self.running_ms.fetch_sub(1, AcqRel) == 1 {
            self.release_after_deaths();
        }
    }

    /// M `m` exits at shutdown: it records so (a later `m_gone` for it does nothing), then
    /// lowers the count of running Ms; the last one out releases everything.
    pub(super) fn m_out(&self, m: usize) {
        self.lives.states[m].store(EXITED, SeqCst);
        if self.running_ms.fetch_sub(1, AcqRel) == 1 {
            self.lives.clear(false);
            self.release_everything();
        }
    }

    /// `release_everything` for a caller that may not block and may find locks that a killed
    /// thread held forever: it only tries them, and leaves what they guard (leaked with the
    /// runtime). Tasks are dropped on this thread; the facade leaks the parts of those that
    /// belong to a dead Worker's JS heap.
    fn release_after_deaths(&self) {
        Shutdown::new(&self.running_ms).last_m_out();
        let mut gs = Vec::new();
        for p in self.procs.iter() {
            if let Ok(mut slab) = p.registry.try_lock() {
                gs.extend(slab.slots.drain(..).flatten());
                slab.free.clear();
            }
        }
        gs.iter().for_each(|g| g.retire());
        drop(gs);
        for p in self.procs.iter() {
            p.lifo_take();
            while p.runq.pop().is_some() {}
            p.timers.try_clear();
        }
        // Goroutines submitted from outside and never taken by an M still hold their tasks.
        self.inbox.take_all().iter().for_each(|g| g.retire());
        self.unstarted_inbox.take_all().iter().for_each(|g| g.retire());
        if let Ok(mut q) = self.unstarted.try_lock() {
            q.iter().for_each(|g| g.retire());
            q.clear();
            self.unstarted_len.store(0, Release);
        }
        self.bound.iter().for_each(|b| drop(b.take_all()));
        if let Ok(mut q) = self.global.try_lock() {
            q.clear();
            self.global_len.store(0, Release);
        }
        self.lives.clear(true);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    //! Threads that die as a Worker does, out of the scheduler: an M returns to its event loop
    //! (a system call: `M::leave`) and its thread ends without exiting the scheduler; and
    //! threads killed inside it, with or without a P.
    use super::*;
    use crate::chan::chan;
    use crate::chan::Chan;
    use crate::platform::shim::Arc;
    use crate::sched::join::JoinHandle;
    use crate::sched::m::Exit;
    use std::sync::atomic::Ordering::Relaxed;

    /// M `m` of `shared`, on a thread that starts `n` goroutines bound to it, each waiting to
    /// receive on `ch`, polls each once, returning to its event loop after each, and dies there.
    fn doomed_m(shared: &Arc<Shared>, m: usize, n: usize, ch: &Chan<u32>) -> Vec<JoinHandle<Option<u32>>> {
        let (shared, ch) = (shared.clone(), ch.clone());
        std::thread::spawn(move || {
            let mut me = M::new(shared.clone(), m);
            let handles: Vec<_> = (0..n)
                .map(|_| {
                    let ch = ch.clone();
                    shared.go_local(async move { ch.recv().await })
                })
                .collect();
            for _ in 0..n {
                assert_eq!(me.run(true), Exit::Microtasks, "a bound goroutine was polled");
            }
            assert_eq!(shared.lives.states[m].load(SeqCst), OUT);
            // The thread ends here, as a closed Worker does: no exit, no drop.
            std::mem::forget(me);
            handles
        })
        .join()
        .unwrap()
    }

    fn m_thread(
        shared: &Arc<Shared>,
        m: usize,
        reason: Option<&'static str>,
    ) -> std::thread::JoinHandle<usize> {
        let shared = shared.clone();
        std::thread::spawn(move || {
            let mut me = M::new(shared, m);
            let failed = reason.map_or(0, |r| me.take_over(r));
            assert_eq!(me.run(false), Exit::Stopped);
            failed
        })
    }

    #[test]
    fn a_dead_m_is_replaced_and_only_its_goroutines_fail() {
        let core = crate::Builder::default().procs(2).max_procs(2).build();
        let shared = core.shared.clone();
        let survivor = m_thread(&shared, 0, None);
        let ch = chan::<u32>(0);
        let bound = doomed_m(&shared, 1, 3, &ch);
        assert!(shared.m_died(1));
        assert!(!shared.m_died(1), "a death is recovered from once");
        // The survivor runs new goroutines while nobody runs M 1.
        let news: Vec<_> = (0..20).map(|i| shared.go(async move { i * 2 })).collect();
        for (i, h) in news.into_iter().enumerate() {
            assert_eq!(h.wait(), Ok(i * 2));
        }
        let replacement = m_thread(&shared, 1, Some("the Worker closed"));
        for h in bound {
            match h.wait() {
                Err(JoinError::MDied { proc: 1, reason, .. }) => assert_eq!(reason, "the Worker closed"),
                other => panic!("a goroutine of the dead M ended with {other:?}"),
            }
        }
        // Their receives were withdrawn as their tasks were dropped (after their joins failed:
        // wait for the end of `take_over`, which records the M as in): nobody receives now.
        while shared.lives.states[1].load(SeqCst) != IN {
            std::thread::yield_now();
        }
        assert!(ch.try_send(1).is_err(), "a send went to a dead goroutine's receive");
        let after: Vec<_> = (0..20).map(|i| shared.go(async move { i + 1 })).collect();
        for (i, h) in after.into_iter().enumerate() {
            assert_eq!(h.wait(), Ok(i + 1));
        }
        shared.begin_shutdown();
        assert_eq!(survivor.join().unwrap(), 0);
        assert_eq!(replacement.join().unwrap(), 3, "the new M failed the dead M's goroutines");
        assert_eq!(shared.running_ms.load(Relaxed), 0);
    }

    #[test]
    fn a_dead_m_is_written_off_at_shutdown() {
        let core = crate::Builder::default().procs(2).max_procs(2).build();
        let shared = core.shared.clone();
        let survivor = m_thread(&shared, 0, None);
        let ch = chan::<u32>(0);
        let bound = doomed_m(&shared, 1, 2, &ch);
        let rx = ch.clone();
        let waiting = shared.go(async move { rx.recv().await });
        shared.begin_shutdown();
        survivor.join().unwrap();
        assert_eq!(shared.running_ms.load(Relaxed), 1, "the dead M still counts");
        shared.m_gone(1);
        shared.m_gone(1);
        assert_eq!(shared.running_ms.load(Relaxed), 0, "written off once");
        for h in bound {
            assert!(matches!(h.wait(), Err(JoinError::Cancelled { .. })));
        }
        assert!(matches!(waiting.wait(), Err(JoinError::Cancelled { .. })));
    }

    /// Runs `f` on a new thread that becomes M `m` of `shared`, then ends there without
    /// exiting the scheduler, as a killed Worker does.
    fn killed_m<R: Send + 'static>(
        shared: &Arc<Shared>,
        m: usize,
        f: impl FnOnce(&mut M) -> R + Send + 'static,
    ) -> R {
        let shared = shared.clone();
        std::thread::spawn(move || {
            let mut me = M::new(shared, m);
            let r = f(&mut me);
            std::mem::forget(me);
            r
        })
        .join()
        .unwrap()
    }

    #[test]
    fn a_p_is_given_back_for_a_killed_m_only_if_it_surely_held_it() {
        use crate::sched::world::PStatus;
        let core = crate::Builder::default().procs(2).max_procs(2).build();
        let shared = core.shared.clone();
        let world = shared.world.clone();
        // Killed in a poll: it held its P, which is given back.
        killed_m(&shared, 0, |_| ());
        assert!(world.is_running(0));
        assert!(shared.m_died(0));
        assert_eq!(world.status(0), PStatus::Idle, "the P of an M killed holding it is given back");
        // Killed in a system call, while a spare M (index 2) holds the P: the P stays the
        // spare's. The spare counts as a running M, as if the monitor had started it.
        shared.running_ms.fetch_add(1, AcqRel);
        assert_eq!(killed_m(&shared, 1, |me| crate::sched::syscall::entersyscall(&me.shared)), Some(1));
        let (to_spare, spare_rx) = std::sync::mpsc::channel::<()>();
        let (from_spare, held) = std::sync::mpsc::channel::<bool>();
        let spare = {
            let shared = shared.clone();
            std::thread::spawn(move || {
                let mut me = M::new(shared, 2);
                from_spare.send(me.take_p(1)).unwrap();
                spare_rx.recv().unwrap();
                me.give_back_p();
                std::mem::forget(me);
            })
        };
        assert!(held.recv().unwrap(), "the spare took the P of the M in a system call");
        assert!(shared.m_died(1));
        assert!(world.is_running(1), "the P held by a spare was taken from it");
        to_spare.send(()).unwrap();
        spare.join().unwrap();
        assert_eq!(world.status(1), PStatus::Idle);
        // A spare killed holding a P: the P is given back, the spare leaves the pool.
        let took = killed_m(&shared, 2, |me| me.take_p(1));
        assert!(took && world.is_running(1));
        assert!(shared.m_died(2));
        assert_eq!(world.status(1), PStatus::Idle, "the P of a spare killed holding it is given back");
        assert_eq!(shared.spares.pooled(), 0);
        // New threads take over every index and run goroutines; they shut down cleanly.
        let (ready, readies) = std::sync::mpsc::channel::<()>();
        let threads: Vec<_> = [(0, "killed"), (1, "killed in a system call"), (2, "spare killed")]
            .into_iter()
            .map(|(m, reason)| {
                let (shared, ready) = (shared.clone(), ready.clone());
                std::thread::spawn(move || {
                    let mut me = M::new(shared, m);
                    let failed = me.take_over(reason);
                    ready.send(()).unwrap();
                    assert_eq!(me.run(false), Exit::Stopped);
                    failed
                })
            })
            .collect();
        for _ in 0..3 {
            readies.recv().unwrap();
        }
        let hs: Vec<_> = (0..50).map(|i| shared.go(async move { i * 3 })).collect();
        for (i, h) in hs.into_iter().enumerate() {
            assert_eq!(h.wait(), Ok(i * 3));
        }
        assert_eq!(shared.procs[1].syscall(), None, "the new M is not in a system call");
        shared.begin_shutdown();
        for t in threads {
            assert_eq!(t.join().unwrap(), 0);
        }
        assert_eq!(shared.running_ms.load(Relaxed), 0);
    }
}
