//! Stopping the world without waiting for parked Ms: who holds each P (Go's P status and
//! `stopTheWorld`).
//!
//! Whoever stops the world (the collector, through its scheduler hook) does so with every P
//! stopped at a safepoint. An M that runs goroutines reaches one
//! between two polls; an M that is parked (in `wait32`, or a Worker idling in
//! `Atomics.waitAsync`, which would first have to get back to its event loop), has exited, or
//! has not started yet, is at one already. Instead of waking such an M and waiting for it, a
//! collector *claims* its P: it does the P's share of the collection itself, and the M, should
//! it wake meanwhile, waits for the collection to end before it touches its P again.
//!
//! # States
//! Each P has a state word holding a [`PStatus`]:
//! * `RUNNING`: an M holds it (runs goroutines, looks for work, stops at safepoints): its own
//!   M, or a spare M standing in while the own M is in a system call (`syscall.rs`);
//! * `IDLE`: its holder gave it up to park, or to enter a system call (or exited, or has not
//!   started): claimable;
//! * `STOPPED`: the current cycle holds it, and no M may touch it;
//! * `HANDED`: as `STOPPED`, and the M that held it waits to have it back (it arrived itself,
//!   step 3): the restart gives it back to that M, not to whoever takes it first.
//!
//! Only the holder moves a P from `RUNNING` to `IDLE`, or to `HANDED` when it hands it over
//! at a safepoint (step 3); any M may move it from `IDLE` to `RUNNING` to hold it (its own M,
//! a spare M it was handed to, or the own M for a call back from JS, `take_p_now`), and an
//! arriving M moves it from `IDLE` to `STOPPED`: every take is a CAS from `IDLE`, so exactly
//! one of racing takers wins. Only the collecting M moves it from `STOPPED` back to `IDLE`,
//! and from `HANDED` to `RUNNING`, on behalf of the M that handed it over (step 5). `wanted`
//! asks a spare M to give the P back to its own M (`take_own_p`): set by the own M before it
//! waits on the state word (SeqCst), read by the holder at each schedule.
//!
//! # One collector per cycle
//! The M that completes the count collects for every P; the others are not needed until the
//! world restarts. Waking a waiting M takes as long as the OS takes to give its thread a core
//! again, milliseconds on a busy machine (two cores shared with V8's compiler threads, the
//! page and the browser), and a pause that waited for Ms to wake, or for each other between
//! parallel phases, was that long. The pause's work (the rest of the sweep, the roots, the
//! barrier buffers and caches, the termination drain) is small next to that wait; marking
//! proper runs concurrently on every M.
//!
//! # The protocol
//! 1. **Request.** `request` sets `requested` to the request's number (a SeqCst CAS from 0)
//!    and wakes nobody.
//! 2. **Park.** An M that parks ([`World::release_p`]) stores `IDLE`, then (after a SeqCst
//!    fence) loads `requested`. If a collection is requested it tries to take its P back
//!    (`IDLE` → `RUNNING`): on success it does not park but goes back to its safepoint and
//!    arrives itself (step 3); if the CAS fails its P has been claimed, and the M parks.
//! 3. **Arrive.** An M at a safepoint with a collection requested ([`World::arrive`]) claims
//!    every `IDLE` P it sees (after a SeqCst fence: SeqCst loads and CASes), hands the P it
//!    holds over (stores `HANDED`), then adds one for itself and one per claimed P to
//!    `arrived` (AcqRel).
//! 4. **Collect.** The M that brings `arrived` to the number of Ps takes its own P back and
//!    collects for every P (`collect.rs`). Every other M waits for its P, as a woken parker
//!    does (step 6).
//! 5. **Restart.** The collector ([`World::restart`]) clears `requested` and `arrived`, then
//!    moves every other P back (Release): a `HANDED` one to `RUNNING`, held again by the M
//!    waiting for it, a claimed one to `IDLE`; and wakes its word.
//! 6. **Take back.** An M that handed its P over waits on the P's word while it reads
//!    `HANDED`, and then holds it (Acquire). An M that wakes from parking takes its P back
//!    ([`World::try_acquire_p`]): a CAS `IDLE` → `RUNNING` (Acquire); while the P is `STOPPED`
//!    it waits on the P's word.
//!
//! # Why it is correct
//! * *Every P is counted exactly once per cycle.* A P is counted either by its own M in step 3
//!   (the M holds it: `RUNNING`, then hands it over) or by the M whose CAS moved it from
//!   `IDLE` to `STOPPED`; the CAS makes the two exclusive, and a P stays `STOPPED` until
//!   step 5, so nobody counts it twice. So when the count is complete, every P but the
//!   collector's is `STOPPED`.
//! * *No P is missed* (the world always stops while every M eventually reaches a safepoint or
//!   parks). A parker stores `IDLE`, fences, loads `requested`; an arriving M has seen
//!   `requested` set, fences, loads the P's state. The two SeqCst fences are ordered: if the
//!   parker's comes first, the arriving M's load sees `IDLE` (or a later value) and claims
//!   the P; if the arriving M's comes first, the parker's load cannot read a value of
//!   `requested` older than the one the arriving M read before its fence, so it sees the
//!   request and arrives itself (or finds its P claimed already). An M that exits parks for
//!   good, so it is claimed from then on.
//! * *A P handed over comes back to the M that handed it.* That M may be a spare M standing in
//!   for the P's own M, which meanwhile may come back from its system call and try to take the
//!   P (`take_own_p`, `take_p_now`); had the restart made the P `IDLE`, the own M could win it
//!   before the spare woke, and both would then run the P's goroutines (and allocate from its
//!   cache) as its holder. From `HANDED` the restart moves it to `RUNNING` directly, so the
//!   own M finds it held and asks for it back (`wanted`) as it would have before the stop.
//! * *Nobody touches a P's state but its holder.* An M's last access to its P (allocation
//!   cache, ...) happens before its SeqCst store of `IDLE`, which the claiming CAS reads, or
//!   before its own AcqRel add to `arrived`; the collector's add reads the count that add
//!   made (RMWs continue a release sequence), so it sees it all. The collector's accesses
//!   happen before its Release store of `IDLE` in step 5, which the M's CAS in step 6 reads
//!   (Acquire).
//! * *Cycles do not mix, and each one ends.* `requested` and `arrived` are reset before any P
//!   is released, so an M released in step 5 that meets a new request counts in a fresh
//!   cycle. Such an M may arrive while Ps the collector has not released yet are still
//!   `STOPPED`, hence not claimable. The collector, running on after its restart, reaches its
//!   own safepoint with the new request pending and arrives in turn (it cannot park past it:
//!   step 2), claiming then the Ps it released meanwhile, unless their Ms took them back and
//!   arrive themselves.
//!
//! An M that has parked must not touch its P's collector state (allocate, `Root::get`) until it
//! takes its P back; [`World::is_running`] lets those paths check it.
//!
//! # Running on past a request
//! The protocol holds whenever each M arrives, as long as it does eventually; `collect.rs`
//! chooses when. An M that would stop first, with goroutines to run, while another M runs a
//! poll, would wait for that poll to end, and on a machine short of cores that poll's thread
//! may not even be running. So an M *acknowledges* the request ([`World::may_run_on`]: it
//! stores the request's number in its slot of `acks`, SeqCst) and runs its goroutines on
//! while another P is `RUNNING` without having acknowledged it; it stops at a later safepoint
//! once every other P has acknowledged or stopped (or after a bounded time, `collect.rs`).
//! Of two Ms that acknowledge at once, at least one sees the other's acknowledgement (each
//! stores, fences SeqCst, then loads the other's slot: of the two fences, the later one
//! follows both stores), and stops: nobody waits on somebody who waits on them.

use crate::platform::shim::{fence, AtomicBool, AtomicU32};
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release, SeqCst};

/// Who holds a P (Go's `_Prunning`, `_Pidle`, `_Pgcstop`), kept in the P's state word (where
/// `HANDED` reads as `Stopped`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub(crate) enum PStatus {
    /// Its M holds it: runs goroutines, looks for work, stops at safepoints.
    Running = 0,
    /// Its M gave it up to park (or exited, or has not started): claimable.
    Idle = 1,
    /// The current stop of the world holds it; its M may not touch it.
    Stopped = 2,
}

const RUNNING: u32 = PStatus::Running as u32;
const IDLE: u32 = PStatus::Idle as u32;
const STOPPED: u32 = PStatus::Stopped as u32;
/// `STOPPED`, and the M that held the P waits for the restart to give it back (step 3).
const HANDED: u32 = 3;

/// Aligned to two cache lines: every M reads `requested` at every safepoint, so the world must
/// not share a line with words that are written often (it is its own allocation).
#[repr(align(128))]
pub(crate) struct World {
    /// 0, or the number of the pending request.
    requested: AtomicU32,
    /// Numbers requests (never 0).
    requests: AtomicU32,
    /// Per P: the last request its M acknowledged (`may_run_on`).
    acks: Box<[AtomicU32]>,
    /// Per P: `RUNNING`, `IDLE` or `STOPPED`.
    states: Box<[AtomicU32]>,
    /// Per P: its own M waits to take it back from a spare M (`syscall.rs`, step 4).
    wanted: Box<[AtomicBool]>,
    /// Ps accounted for in the current cycle: arrived Ms and the Ps they claimed.
    arrived: AtomicU32,
    /// Under loom, waiting on a word is a condition variable's wait.
    #[cfg(loom)]
    futex: (loom::sync::Mutex<()>, loom::sync::Condvar),
}

impl World {
    /// Every P starts `IDLE`: its M takes it when it starts.
    pub(crate) fn new(procs: usize) -> Self {
        World {
            requested: AtomicU32::new(0),
            requests: AtomicU32::new(0),
            acks: (0..procs).map(|_| AtomicU32::new(0)).collect(),
            states: (0..procs).map(|_| AtomicU32::new(IDLE)).collect(),
            wanted: (0..procs).map(|_| AtomicBool::new(false)).collect(),
            arrived: AtomicU32::new(0),
            #[cfg(loom)]
            futex: (loom::sync::Mutex::new(()), loom::sync::Condvar::new()),
        }
    }

    /// The number of Ps.
    pub(crate) fn procs(&self) -> usize {
        self.states.len()
    }

    /// Step 1. True if this call made the request.
    pub(crate) fn request(&self) -> bool {
        let number = self.requests.fetch_add(1, Relaxed).wrapping_add(1).max(1);
        self.requested.compare_exchange(0, number, SeqCst, SeqCst).is_ok()
    }

    /// M `m`, at a safepoint with a request pending and goroutines to run, acknowledges it.
    /// `Some` while another P is `RUNNING` and has not acknowledged it: its M is in a poll (or
    /// not running at all), and `m` may run its goroutines on rather than stop and wait for it
    /// (module header, "Running on past a request"); `Some(true)` if this is `m`'s first
    /// acknowledgement of this request.
    pub(crate) fn may_run_on(&self, m: usize) -> Option<bool> {
        let number = self.requested.load(SeqCst);
        if number == 0 {
            return None;
        }
        let first = self.acks[m].swap(number, SeqCst) != number;
        // Orders the store before the loads below, as in step 2 (the fences are what loom
        // models).
        fence(SeqCst);
        (self.states.iter().zip(self.acks.iter()).enumerate())
            .any(|(i, (state, ack))| i != m && state.load(SeqCst) == RUNNING && ack.load(SeqCst) != number)
            .then_some(first)
    }

    /// Whether a collection is requested or running. Relaxed: the hot check of every
    /// safepoint; `arrive` re-reads it with the ordering the protocol needs.
    #[inline]
    pub(crate) fn requested(&self) -> bool {
        self.requested.load(Relaxed) != 0
    }

    /// Who holds P `m` (a racy look, exact for `m`'s own M about its own P).
    #[inline]
    pub(crate) fn status(&self, m: usize) -> PStatus {
        match self.states[m].load(Relaxed) {
            RUNNING => PStatus::Running,
            IDLE => PStatus::Idle,
            _ => PStatus::Stopped,
        }
    }

    /// Whether M `m` holds its P (it is not parked).
    #[inline]
    pub(crate) fn is_running(&self, m: usize) -> bool {
        self.status(m) == PStatus::Running
    }

    /// Step 2: M `m` gives up its P to park. True if it may park now; false if a collection
    /// is requested and it kept its P: it must go to its safepoint instead.
    pub(crate) fn release_p(&self, m: usize) -> bool {
        self.states[m].store(IDLE, SeqCst);
        fence(SeqCst);
        if self.requested.load(SeqCst) == 0 {
            return true;
        }
        self.states[m].compare_exchange(IDLE, RUNNING, Acquire, Relaxed).is_err()
    }

    /// P `p`'s holder died holding it (a thread killed inside the scheduler, `died.rs`):
    /// gives it up on the dead thread's behalf, as step 2 would, and wakes its own M if it
    /// waits for it (`take_own_p`), so that a stop of the world claims it and an M takes it.
    /// Called once the thread is known dead, by a caller that knows the dead thread held `p`
    /// (no live M does: only the holder moves a P out of `RUNNING`); a P that a stop of the
    /// world holds is given back by its restart. A stop of the world requested before the
    /// death and joined by every other M already does not see the P released, and waits on:
    /// `died.rs` says when that can happen. True if the P was `RUNNING`.
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    pub(crate) fn release_dead(&self, p: usize) -> bool {
        // Handed over by the dead thread at a stop still on: the restart makes it `IDLE` then.
        // Tried first: the restart may move it from `HANDED` to `RUNNING` meanwhile.
        if self.states[p].compare_exchange(HANDED, STOPPED, SeqCst, SeqCst).is_ok() {
            return false;
        }
        let released = self.states[p].compare_exchange(RUNNING, IDLE, SeqCst, SeqCst).is_ok();
        fence(SeqCst);
        if released {
            self.wake_all(&self.states[p]);
        }
        released
    }

    /// P `p`'s own M died (`died.rs`): nobody waits to take it back any more, so a spare M
    /// may keep it, and the monitor hand it out, until a new M takes over.
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    pub(crate) fn forget_wanted(&self, p: usize) {
        self.wanted[p].store(false, SeqCst);
    }

    /// Step 6: an M takes P `p`, waiting while a collection holds it: its own P as it wakes
    /// from parking (or starts, or is back from a system call), or a P handed to a spare M
    /// (`syscall.rs`). False if another M holds it (a spare M it was handed to, or its own M
    /// back first, or either of them waiting in a stop for the P it handed over).
    pub(crate) fn try_acquire_p(&self, p: usize) -> bool {
        let state = &self.states[p];
        loop {
            match state.compare_exchange(IDLE, RUNNING, Acquire, Acquire) {
                Ok(_) => return true,
                Err(STOPPED) => self.wait(state, STOPPED),
                Err(_) => return false,
            }
        }
    }

    /// Takes P `p` if it is `IDLE` now, without waiting (one CAS).
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    pub(crate) fn take_p_now(&self, p: usize) -> bool {
        self.states[p].compare_exchange(IDLE, RUNNING, Acquire, Relaxed).is_ok()
    }

    /// Takes P `p`, which no other M of the model can hold (its own M's, as it starts or wakes).
    #[cfg(loom)]
    fn acquire_p(&self, p: usize) {
        let taken = self.try_acquire_p(p);
        debug_assert!(taken, "P {p} is held by another M");
    }

    /// P `p`'s own M takes it back (as it wakes from parking, or is back from a system call;
    /// `syscall.rs`, step 4): from a spare M if one holds it, which it asks to give it back
    /// (`wanted`, SeqCst) and waits for (on the state word, while `RUNNING`).
    pub(crate) fn take_own_p(&self, p: usize) {
        if self.try_acquire_p(p) {
            return;
        }
        self.wanted[p].store(true, SeqCst);
        while !self.try_acquire_p(p) {
            // Held (`RUNNING`), or handed over at a stop by its holder (`HANDED`).
            match self.states[p].load(Acquire) {
                IDLE => {}
                held => self.wait(&self.states[p], held),
            }
        }
        self.wanted[p].store(false, Relaxed);
    }

    /// Whether P `p`'s own M waits to take it back (a spare M holding it gives it up).
    #[inline]
    pub(crate) fn wanted_back(&self, p: usize) -> bool {
        self.wanted[p].load(Relaxed)
    }

    /// Whether P `p`'s own M waits to take it back, as a spare M that just took it sees it.
    pub(crate) fn wanted_back_now(&self, p: usize) -> bool {
        self.wanted[p].load(SeqCst)
    }

    /// A spare M gave P `p` up ([`World::release_p`] returned true): wakes its own M if it
    /// waits in [`World::take_own_p`].
    pub(crate) fn wake_released(&self, p: usize) {
        self.wake_all(&self.states[p]);
    }

    /// Steps 3 and 4, for M `m` at a safepoint with a collection requested. True if this M
    /// completed the count: the world is stopped, every other P is `STOPPED` or `HANDED`, and
    /// the M must collect for all of them, then call [`World::restart`]. False once the
    /// collection ran without it and it has its P back.
    pub(crate) fn arrive(&self, m: usize) -> bool {
        debug_assert!(self.is_running(m));
        debug_assert!(self.requested(), "an M arrives only for a requested collection");
        // Orders the scan after this M's look at the request (see "No P is missed").
        fence(SeqCst);
        let mut counted = 1;
        for (i, state) in self.states.iter().enumerate() {
            if i != m
                && state.load(SeqCst) == IDLE
                && state.compare_exchange(IDLE, STOPPED, SeqCst, Relaxed).is_ok()
            {
                counted += 1;
            }
        }
        // Handed over before it is counted: once counted, the collector may restart at once.
        self.states[m].store(HANDED, Relaxed);
        let procs = self.states.len() as u32;
        if self.arrived.fetch_add(counted, AcqRel) + counted == procs {
            self.states[m].store(RUNNING, Relaxed);
            return true;
        }
        // Step 6: the restart gives the P back to this M (Release), whoever else wants it.
        while self.states[m].load(Acquire) == HANDED {
            self.wait(&self.states[m], HANDED);
        }
        debug_assert!(self.is_running(m), "P {m} was handed over and not given back");
        false
    }

    /// Step 5, by the collector `m`: restarts the world.
    pub(crate) fn restart(&self, m: usize) {
        self.requested.store(0, Release);
        self.arrived.store(0, Release);
        for (i, state) in self.states.iter().enumerate() {
            if i != m {
                // A CAS: `release_dead` may turn `HANDED` into `STOPPED` meanwhile.
                if state.compare_exchange(HANDED, RUNNING, Release, Relaxed).is_err() {
                    state.store(IDLE, Release);
                }
                self.wake_all(state);
            }
        }
    }
}

impl World {
    /// Blocks while `*word == value` (may return spuriously). Never called on the page's main
    /// thread, which is never an M.
    #[cfg(not(loom))]
    fn wait(&self, word: &AtomicU32, value: u32) {
        crate::platform::futex_wait(word, value, None);
    }

    #[cfg(not(loom))]
    fn wake_all(&self, word: &AtomicU32) {
        crate::platform::futex_wake_all(word);
    }

    #[cfg(loom)]
    fn wait(&self, word: &AtomicU32, value: u32) {
        let mut guard = self.futex.0.lock().unwrap();
        while word.load(SeqCst) == value {
            guard = self.futex.1.wait(guard).unwrap();
        }
    }

    #[cfg(loom)]
    fn wake_all(&self, _: &AtomicU32) {
        drop(self.futex.0.lock().unwrap());
        self.futex.1.notify_all();
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::platform::shim::{loom_check as check, Arc};
    use loom::cell::UnsafeCell;

    /// The world and, per P, state that only its holder may touch (the allocation cache, say):
    /// loom reports any access that is not ordered after the previous holder's.
    struct Model {
        world: World,
        ps: Vec<UnsafeCell<u32>>,
        /// Collections that actually ran (by the M that completed the count).
        ran: AtomicU32,
    }

    impl Model {
        fn new(procs: usize) -> Arc<Model> {
            Arc::new(Model {
                world: World::new(procs),
                ps: (0..procs).map(|_| UnsafeCell::new(0)).collect(),
                ran: AtomicU32::new(0),
            })
        }

        fn touch(&self, p: usize) {
            self.ps[p].with_mut(|v| unsafe_touch(v));
        }

        /// `collect.rs`'s `safepoint`: join a requested collection; the M that completes the
        /// count collects for every P.
        fn safepoint(&self, m: usize) {
            if !self.world.requested() {
                return;
            }
            if self.world.arrive(m) {
                (0..self.ps.len()).for_each(|p| self.touch(p));
                self.ran.fetch_add(1, Relaxed);
                self.world.restart(m);
            }
        }

        /// `m.rs`'s park: give up the P (or join the requested collection first).
        fn release(&self, m: usize) {
            loop {
                self.safepoint(m);
                if self.world.release_p(m) {
                    return;
                }
            }
        }

        /// Runs `body(model, m)` on a thread of its own for each M in `ms`.
        fn spawn_ms(
            model: &Arc<Model>,
            ms: std::ops::Range<usize>,
            body: fn(&Model, usize),
        ) -> Vec<loom::thread::JoinHandle<()>> {
            ms.map(|m| {
                let model = model.clone();
                loom::thread::spawn(move || body(&model, m))
            })
            .collect()
        }

        /// Joins `threads`; then between 1 and `max` collections ran, each counted once.
        fn assert_ran(&self, threads: Vec<loom::thread::JoinHandle<()>>, max: u32) {
            threads.into_iter().for_each(|t| t.join().unwrap());
            let ran = self.ran.load(Relaxed);
            assert!((1..=max).contains(&ran), "{ran} collections");
        }

        /// Park, sleep (a claim may come and go), wake and take the P back.
        fn park(&self, m: usize) {
            self.release(m);
            self.world.acquire_p(m);
            self.touch(m);
        }
    }

    fn unsafe_touch(v: *mut u32) {
        // SAFETY: loom checks that the access is exclusive.
        unsafe { *v += 1 };
    }

    /// M 0 requests a collection and stops while M 1 parks and wakes (or exits: parks for
    /// good). Each P is touched by its holder only; the collection runs exactly once, whether
    /// M 1 arrived itself or was claimed. Every M ends by exiting (parking for good), so that
    /// no requested collection waits for an M that has stopped looking.
    fn one_parker(exits: bool) {
        check(3, move || {
            let model = Model::new(2);
            model.world.acquire_p(0);
            model.world.acquire_p(1);
            let m1 = {
                let model = model.clone();
                loom::thread::spawn(move || {
                    model.touch(1);
                    if !exits {
                        model.park(1);
                    }
                    model.release(1);
                })
            };
            model.world.request();
            model.safepoint(0);
            model.touch(0);
            model.release(0);
            m1.join().unwrap();
            assert_eq!(model.ran.load(Relaxed), 1);
            assert!(!model.world.requested());
        });
    }

    #[test]
    fn loom_world_claims_a_parking_m() {
        one_parker(false);
    }

    #[test]
    fn loom_world_claims_an_exited_m() {
        one_parker(true);
    }

    /// Two Ms with goroutines to run reach safepoints with a collection requested, and each
    /// acknowledges it: at least one of them sees the other's acknowledgement and stops
    /// (`may_run_on` is `None`), so they never both run on waiting for each other. Fails
    /// without the fence between the acknowledgement and the look at the others'.
    #[test]
    fn loom_world_two_acknowledgers_not_both_run_on() {
        check(3, || {
            let model = Model::new(2);
            (0..2).for_each(|m| model.world.acquire_p(m));
            model.world.request();
            let other = {
                let model = model.clone();
                loom::thread::spawn(move || model.world.may_run_on(1).is_some())
            };
            let runs_on = model.world.may_run_on(0).is_some();
            assert!(!(runs_on && other.join().unwrap()), "both Ms run on");
        });
    }

    /// Two Ms request collections concurrently (one cycle or two) while a third parks and
    /// wakes: every P is counted once per cycle and touched only by its holder.
    #[test]
    fn loom_world_two_collectors_and_a_parker() {
        check(2, || {
            let model = Model::new(3);
            (0..3).for_each(|m| model.world.acquire_p(m));
            let threads = Model::spawn_ms(&model, 1..3, |model, m| {
                if m == 1 {
                    model.world.request();
                    model.safepoint(1);
                } else {
                    model.park(2);
                }
                model.touch(m);
                model.release(m);
            });
            model.world.request();
            model.safepoint(0);
            model.touch(0);
            model.release(0);
            model.assert_ran(threads, 2);
        });
    }

    /// M 0 requests a collection while two Ms park; each wakes, takes its P back and requests
    /// the next collection at once. A P released by `restart` after another M already arrived
    /// for the next cycle must still be claimed (by the collector, arriving again) or arrive:
    /// otherwise that cycle waits forever.
    #[test]
    fn loom_world_released_ms_request_again() {
        check(2, || {
            let model = Model::new(3);
            (0..3).for_each(|m| model.world.acquire_p(m));
            let threads = Model::spawn_ms(&model, 1..3, |model, m| {
                model.park(m);
                model.world.request();
                model.safepoint(m);
                model.release(m);
            });
            model.world.request();
            model.safepoint(0);
            model.release(0);
            model.assert_ran(threads, 3);
        });
    }

    /// `syscall.rs`'s hand-off: P 0's own M enters a system call (releases its P) while a spare
    /// M, handed P 0 by the monitor, races it for the P and M 1 stops the world. The own M,
    /// back, takes P 0 back from whoever holds it; a spare that holds it gives it back once it
    /// sees `wanted`. Each P is touched by its holder only, the collection runs exactly once,
    /// and everybody finishes (the own M never waits for a spare that will not give back).
    #[test]
    fn loom_world_spare_gives_the_p_back() {
        check(2, || {
            let model = Model::new(2);
            (0..2).for_each(|m| model.world.acquire_p(m));
            let spare = {
                let model = model.clone();
                loom::thread::spawn(move || {
                    // `M::take_p`, then run P 0 for a schedule or two, until its own M wants it
                    // or no work is left, then `give_back_p`.
                    if model.world.wanted_back_now(0) || !model.world.try_acquire_p(0) {
                        return;
                    }
                    for _ in 0..2 {
                        model.touch(0);
                        model.safepoint(0);
                        if model.world.wanted_back(0) {
                            break;
                        }
                    }
                    model.release(0);
                    model.world.wake_released(0);
                })
            };
            let collector = Model::spawn_ms(&model, 1..2, |model, m| {
                model.world.request();
                model.safepoint(m);
                model.touch(m);
                model.release(m);
            });
            // P 0's own M: enter the system call (`entersyscall`), come back (`exitsyscall`).
            model.touch(0);
            model.release(0);
            model.world.take_own_p(0);
            model.touch(0);
            model.release(0);
            spare.join().unwrap();
            model.assert_ran(collector, 1);
        });
    }

    /// A spare M holding P 0 (its own M in a system call) arrives at a stop of the world that
    /// M 1 completes, while P 0's own M comes back and takes its P back (`take_own_p`). The
    /// restart gives P 0 back to the spare, which handed it over: had it made P 0 `IDLE`, the
    /// own M could take it before the spare woke, and both would run P 0 as its holder (loom
    /// reports their unordered touches).
    #[test]
    fn loom_world_stop_gives_the_p_back_to_the_spare_that_handed_it() {
        check(2, || {
            let model = Model::new(2);
            model.world.acquire_p(1);
            // P 0's own M is in a system call: P 0 is `IDLE`, and the monitor hands it to a
            // spare, which takes it before the stop is requested.
            assert!(model.world.try_acquire_p(0));
            let spare = {
                let model = model.clone();
                loom::thread::spawn(move || {
                    model.touch(0);
                    while !model.world.requested() {
                        loom::thread::yield_now();
                    }
                    model.safepoint(0);
                    model.touch(0);
                    // Its next schedule sees `wanted` (or no work left): it gives P 0 back.
                    model.release(0);
                    model.world.wake_released(0);
                })
            };
            let collector = Model::spawn_ms(&model, 1..2, |model, m| {
                model.world.request();
                model.safepoint(m);
                model.touch(m);
                model.release(m);
            });
            // P 0's own M, back from its system call (`exitsyscall`).
            model.world.take_own_p(0);
            model.touch(0);
            model.release(0);
            spare.join().unwrap();
            model.assert_ran(collector, 1);
        });
    }
}
