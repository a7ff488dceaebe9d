//! Stopping the world without waiting for parked Ms: who holds each P during a collection.
//!
//! A collection runs with every P stopped at a safepoint. An M that runs goroutines reaches one
//! between two polls; an M that is parked (in `wait32`, or a Worker idling in
//! `Atomics.waitAsync`, which would first have to get back to its event loop), has exited, or
//! has not started yet, is at one already. Instead of waking such an M and waiting for it, a
//! collector *claims* its P: it does the P's share of the collection itself, and the M, should
//! it wake meanwhile, waits for the collection to end before it touches its P again.
//!
//! # States
//! Each P has a state word:
//! * `RUNNING`: its M holds it (runs goroutines, looks for work, stops at safepoints);
//! * `PARKED`: its M gave it up to park (or exited, or has not started): claimable;
//! * `CLAIMED`: a collector holds it for the current cycle.
//!
//! Only the M moves its P from `RUNNING` to `PARKED` and back; only a collector moves it from
//! `PARKED` to `CLAIMED` (a CAS that races with the M's CAS back to `RUNNING`: exactly one
//! wins), and only the M that ends the cycle moves it from `CLAIMED` back to `PARKED`.
//!
//! # The protocol
//! 1. **Request.** `request` sets `requested` (SeqCst) and wakes nobody.
//! 2. **Park.** An M that parks ([`World::release_p`]) stores `PARKED`, then (after a SeqCst
//!    fence) loads `requested`. If a collection is requested it tries to take its P back
//!    (`PARKED` → `RUNNING`): on success it does not park but goes back to its safepoint and
//!    arrives itself (step 3); if the CAS fails a collector has claimed the P, and the M parks.
//! 3. **Arrive.** An M at a safepoint with a collection requested ([`World::arrive`]) first
//!    claims every `PARKED` P it sees (after a SeqCst fence: SeqCst loads and CASes), then adds one for itself and one
//!    per claimed P to `arrived` (AcqRel). The M that brings `arrived` to the number of Ps bumps
//!    the `wake` event count and wakes the others, who wait on it; each time they wake they
//!    claim the `PARKED` Ps they see again (counting them the same way).
//! 4. **Collect.** The Ms that arrived (the *present* ones: all Ps minus the claimed ones) do
//!    the collection (`collect.rs`), each also the share of the Ps it claimed.
//! 5. **Depart.** Each present M leaves through [`World::depart`]; the last one ends the
//!    collection and calls [`World::restart`]: it clears `requested`, resets the counters,
//!    bumps `cycles` (Release), which releases the Ms waiting in [`World::wait_restart`], moves
//!    every claimed P back to `PARKED` (Release, then wakes its word) and bumps `wake`.
//! 6. **Wake.** An M that wakes from parking takes its P back ([`World::acquire_p`]): a CAS
//!    `PARKED` → `RUNNING` (Acquire); while the P is `CLAIMED` it waits on the P's word.
//!
//! # Why it is correct
//! * *Every P is counted exactly once per cycle.* A P is counted either by its own M in step 3
//!   (the M holds it: `RUNNING`) or by the collector whose CAS moved it to `CLAIMED`; the CAS
//!   makes the two exclusive, and a claimed P stays claimed until step 5, so nobody counts it
//!   twice.
//! * *No P is missed* (the world always stops while every M eventually reaches a safepoint or
//!   parks). A parker stores `PARKED`, fences, loads `requested`; a collector has seen
//!   `requested` set, fences, loads the P's state. The two SeqCst fences are ordered: if the
//!   parker's comes first, the collector's load sees `PARKED` (or a later value) and claims the
//!   P; if the collector's comes first, the parker's load cannot read a value of `requested`
//!   older than the one the collector read before its fence, so it sees the request and
//!   arrives itself (or finds its P claimed already). An M that exits parks for good, so it is
//!   claimed from then on.
//! * *Nobody touches a claimed P's state but its collector.* The M's last access to its P
//!   (allocation cache, ...) happens before its SeqCst store of `PARKED`, which the collector's
//!   CAS reads (Acquire): the collector sees it all. The collector's accesses happen before its
//!   Release store of `PARKED` in step 5, which the M's CAS in step 6 reads (Acquire).
//! * *Cycles do not mix.* The counters are reset and `cycles` bumped before any M is released,
//!   so an M released in step 5 or 6 sees the cycle as completed (`gc::collect` relies on it)
//!   and, if it meets a new request, arrives in a fresh cycle. Such an M may request and
//!   arrive while Ps released after it are still `CLAIMED` and so not claimable; those become
//!   `PARKED` afterwards, and the `wake` bump that follows the releases makes the arrived Ms
//!   scan again and claim them. The cycle number an M records is read once every P is
//!   accounted for: by then every M of the previous cycle has been released.
//!
//! An M that has parked must not touch its P's collector state (allocate, `Root::get`) until it
//! takes its P back; [`World::holds`] lets those paths check it.

use crate::shim::{fence, AtomicU32, AtomicU64};
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release, SeqCst};

pub(crate) const RUNNING: u32 = 0;
pub(crate) const PARKED: u32 = 1;
pub(crate) const CLAIMED: u32 = 2;

pub(crate) struct World {
    requested: AtomicU32,
    /// Per P: `RUNNING`, `PARKED` or `CLAIMED`.
    states: Box<[AtomicU32]>,
    /// Present Ms plus claimed Ps in the current cycle.
    arrived: AtomicU32,
    /// The Ps claimed in the current cycle.
    claimed: AtomicU64,
    /// Event count for Ms waiting in step 3: bumped when everyone arrived.
    wake: AtomicU32,
    /// Present Ms that have left the collection (step 5).
    departed: AtomicU32,
    /// Completed stops of the world; Ms waiting in step 5 wait on it.
    cycles: AtomicU32,
    /// Under loom, waiting on a word is a condition variable's wait.
    #[cfg(loom)]
    futex: (loom::sync::Mutex<()>, loom::sync::Condvar),
}

/// What an M that arrived does in the cycle.
pub(crate) struct Arrival {
    /// The Ps it claimed: it does their share.
    pub(crate) claims: u64,
    /// Present Ms in this cycle (they share the work).
    pub(crate) present: u32,
    /// The cycle count when the collection started.
    pub(crate) cycle: u32,
}

impl World {
    /// Every P starts `PARKED`: its M takes it when it starts.
    pub(crate) fn new(procs: usize) -> Self {
        assert!((1..=64).contains(&procs), "at most 64 Ps (the claimed set is a 64-bit mask)");
        World {
            requested: AtomicU32::new(0),
            states: (0..procs).map(|_| AtomicU32::new(PARKED)).collect(),
            arrived: AtomicU32::new(0),
            claimed: AtomicU64::new(0),
            wake: AtomicU32::new(0),
            departed: AtomicU32::new(0),
            cycles: AtomicU32::new(0),
            #[cfg(loom)]
            futex: (loom::sync::Mutex::new(()), loom::sync::Condvar::new()),
        }
    }

    fn procs(&self) -> u32 {
        self.states.len() as u32
    }

    /// Step 1. True if this call made the request.
    pub(crate) fn request(&self) -> bool {
        self.requested.swap(1, SeqCst) == 0
    }

    /// Whether a collection is requested or running. Relaxed: the hot check of every
    /// safepoint; `arrive` re-reads it with the ordering the protocol needs.
    #[inline]
    pub(crate) fn requested(&self) -> bool {
        self.requested.load(Relaxed) != 0
    }

    /// Whether M `m` holds its P (it is not parked).
    #[inline]
    pub(crate) fn holds(&self, m: usize) -> bool {
        self.states[m].load(Relaxed) == RUNNING
    }

    /// Step 2: M `m` gives up its P to park. True if it may park now; false if a collection
    /// is requested and it kept its P: it must go to its safepoint instead.
    pub(crate) fn release_p(&self, m: usize) -> bool {
        self.states[m].store(PARKED, SeqCst);
        fence(SeqCst);
        if self.requested.load(SeqCst) == 0 {
            return true;
        }
        self.states[m].compare_exchange(PARKED, RUNNING, Acquire, Relaxed).is_err()
    }

    /// Step 6: M `m` woke from parking (or starts) and takes its P back, waiting while a
    /// collection holds it.
    pub(crate) fn acquire_p(&self, m: usize) {
        let state = &self.states[m];
        loop {
            match state.compare_exchange(PARKED, RUNNING, Acquire, Acquire) {
                Ok(_) => return,
                Err(CLAIMED) => self.wait(state, CLAIMED),
                Err(other) => unreachable!("M {m} takes back its P in state {other}"),
            }
        }
    }

    /// Step 3, for M `m` at a safepoint with a collection requested: claims the parked Ps and
    /// waits until every P is accounted for.
    pub(crate) fn arrive(&self, m: usize) -> Arrival {
        debug_assert!(self.holds(m));
        debug_assert!(self.requested(), "an M arrives only for a requested collection");
        let mut claims = self.claim_parked(m, 1);
        let procs = self.procs();
        loop {
            let seen = self.wake.load(Acquire);
            if self.arrived.load(Acquire) == procs {
                break;
            }
            self.wait(&self.wake, seen);
            claims |= self.claim_parked(m, 0);
        }
        let present = procs - self.claimed.load(Acquire).count_ones();
        // Every P is accounted for, so every M present in the last cycle has been released
        // by its restart: the count is this cycle's.
        Arrival { claims, present, cycle: self.cycles.load(Acquire) }
    }

    /// Claims the parked Ps other than `m`'s and counts them in `arrived`, with `me` more
    /// (1 when M `m` arrives itself). The one who completes the count wakes everyone.
    fn claim_parked(&self, m: usize, me: u32) -> u64 {
        // Orders the scan after this M's look at the request (see "No P is missed").
        fence(SeqCst);
        let mut claims = 0u64;
        for (i, state) in self.states.iter().enumerate() {
            if i != m
                && state.load(SeqCst) == PARKED
                && state.compare_exchange(PARKED, CLAIMED, SeqCst, Relaxed).is_ok()
            {
                claims |= 1 << i;
            }
        }
        if claims != 0 {
            self.claimed.fetch_or(claims, AcqRel);
        }
        let counted = me + claims.count_ones();
        if counted != 0 && self.arrived.fetch_add(counted, AcqRel) + counted == self.procs() {
            self.wake.fetch_add(1, Release);
            self.wake_all(&self.wake);
        }
        claims
    }

    /// Step 5: a present M leaves the collection. True for the last one, which must end the
    /// collection and call `restart`; the others call `wait_restart`.
    pub(crate) fn depart(&self, a: &Arrival) -> bool {
        self.departed.fetch_add(1, AcqRel) + 1 == a.present
    }

    /// Step 5, by the last M to depart: restarts the world.
    pub(crate) fn restart(&self) {
        self.departed.store(0, Relaxed);
        self.requested.store(0, Release);
        self.arrived.store(0, Release);
        let claimed = self.claimed.swap(0, AcqRel);
        self.cycles.fetch_add(1, Release);
        self.wake_all(&self.cycles);
        for (i, state) in self.states.iter().enumerate() {
            if claimed & 1 << i != 0 {
                state.store(PARKED, Release);
                self.wake_all(state);
            }
        }
        // An M released above may already have requested the next collection and be waiting
        // in `arrive`, having found the Ps released after it still claimed: make it look again.
        self.wake.fetch_add(1, Release);
        self.wake_all(&self.wake);
    }

    /// Step 5, by the other present Ms: waits for the last one's `restart`.
    pub(crate) fn wait_restart(&self, a: &Arrival) {
        loop {
            let now = self.cycles.load(Acquire);
            if now != a.cycle {
                return;
            }
            self.wait(&self.cycles, now);
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
    use crate::shim::{loom_check as check, Arc};
    use loom::cell::UnsafeCell;

    /// The world and, per P, state that only its holder may touch (the allocation cache, say):
    /// loom reports any access that is not ordered after the previous holder's.
    struct Model {
        world: World,
        ps: Vec<UnsafeCell<u32>>,
        /// Collections that actually ran (by the last M to depart).
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

        /// `collect.rs`'s `safepoint`: join a requested collection, do this M's share and the
        /// share of the Ps it claimed.
        fn safepoint(&self, m: usize) {
            if !self.world.requested() {
                return;
            }
            let a = self.world.arrive(m);
            self.touch(m);
            for p in 0..self.ps.len() {
                if a.claims & 1 << p != 0 {
                    self.touch(p);
                }
            }
            if self.world.depart(&a) {
                self.ran.fetch_add(1, Relaxed);
                self.world.restart();
            } else {
                self.world.wait_restart(&a);
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
            assert_eq!(self.world.cycles.load(SeqCst), ran);
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
            assert_eq!(model.world.cycles.load(SeqCst), 1);
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

    /// M 0 collects while two Ms park; each wakes, takes its P back and requests the next
    /// collection at once. A P released by `restart` after another M already arrived for the
    /// next cycle must still be claimed (or arrive): otherwise that cycle waits forever.
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
}
