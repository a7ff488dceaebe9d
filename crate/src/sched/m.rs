//! M: a thread that runs goroutines for its P (Go's `schedule` and `findRunnable`).
//!
//! An M loops: find a runnable G (the order is in the `sched` module header), poll it once,
//! put it back where it belongs. With nothing to do it parks by the protocol in `idle.rs`,
//! until woken or until the earliest timer of any P.
//!
//! # Hosting JS goroutines (the web)
//! A Worker M also hosts the JS goroutines bound to it, whose continuations (promise
//! reactions) run only when the M returns to its event loop. While it hosts any, `run` comes
//! back to the Worker's JS instead of blocking: after polling a bound G (so that the promise
//! reactions it queued run), after a time slice (so that timers and messages run), and to park
//! (the Worker then waits with `Atomics.waitAsync` on the parker's word). An M that hosts no
//! JS goroutine parks with a blocking `wait32`; it comes back to its Worker only every
//! `REENTER_NS` of work, so that the engine can swap in the optimized code of the loop.
//!
//! # Shutdown
//! Each M stops at its next schedule once `shutdown` is set, drops the tasks of the goroutines
//! bound to it (their futures hold this thread's JS objects), and the last M out drops every
//! remaining task and empties every queue, which breaks the reference cycles between Gs and
//! the runtime. A goroutine woken or submitted from outside after that is dropped by its waker
//! (`Shared::drop_if_stopped`).

use super::g::{Polled, UNBOUND};
use super::{bound_live, coop, set_current_g, set_current_m, timer, GRef, Shared, P};
use crate::shim::Arc;
use std::collections::VecDeque;
use std::sync::atomic::Ordering::{AcqRel, Relaxed};

/// Goroutines from the LIFO slot run at most this many times in a row (tokio's limit).
const MAX_LIFO_RUNS: u32 = 3;
/// Every this many schedules, the global queue is checked first (Go's fairness rule).
const GLOBAL_CHECK_INTERVAL: u32 = 61;
/// Steal passes over all victims before giving up (Go's `stealTries`).
const STEAL_PASSES: usize = 4;
/// While hosting JS goroutines, return to the event loop at least this often.
const HOST_SLICE_NS: u64 = 2_000_000;
/// On the web, an M hosting no JS goroutine still returns to its Worker this often (checked
/// every `REENTER_CHECK` polls). A wasm frame never switches to code the engine optimized
/// after it was entered (there is no on-stack replacement for wasm), so without re-entering,
/// the scheduler loop would run the baseline code it started with for the M's whole life.
const REENTER_NS: u64 = 5_000_000;
const REENTER_CHECK: u32 = 1024;
/// An M fires another P's timers at its schedules once they are this overdue (`check_timers`):
/// that P's own M would have fired them at its next schedule, so it is stuck in a poll or not
/// running. Shorter would make Ms contend for timers that their owner is about to fire.
const TAKEOVER_NS: u64 = 1_000_000;
/// Goroutines woken by timers wait in their M's `timer_woken`, where no other M can take
/// them, at most this many at once; the timers due beyond stay in their P's heap, where
/// another M fires them if this one is stuck (`check_timers`). An M the OS deschedules then
/// holds back this many sleepers, not every one that was due.
const TIMER_WOKEN_MAX: usize = 4;
/// While other Ms run, an idle M parks at most this long, then takes over goroutines queued
/// behind a poll that has run all along (`take_stuck`).
const WATCH_NS: u64 = 1_000_000;
/// Polls an M counts before it adds them to its P's `runs` (an atomic add per poll is not cheap
/// in wasm).
pub(crate) const RUNS_BATCH: u64 = 64;

/// Why `Machine::run` returned.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Exit {
    /// The runtime shut down and this M has cleaned up.
    Stopped,
    /// Let promise reactions run (`await` a resolved promise), then call `run` again.
    Microtasks,
    /// Let the event loop run a task (timers, messages), then call `run` again.
    Macrotask,
    /// Wait on the parker's word until it changes from PARKED or the timeout passes, without
    /// blocking the event loop (`Atomics.waitAsync`), then call `run` again.
    ParkAsync { timeout_ns: Option<u64> },
}

pub(crate) struct Machine {
    shared: Arc<Shared>,
    index: usize,
    tick: u32,
    spinning: bool,
    lifo_runs: u32,
    /// Polls not yet added to the P's `runs`.
    runs: u64,
    rng: u32,
    /// Numbers coprime with the number of Ps: strides for random steal orders.
    coprimes: Vec<usize>,
    /// Bound Gs ready to run here.
    bound_ready: VecDeque<GRef>,
    /// Gs woken by timers this M fired, run before the ring.
    timer_woken: VecDeque<GRef>,
    /// When this M last parked while others ran, each P's `RunQueue::taken` if its ring held
    /// a goroutine then; empty otherwise.
    watched: Vec<Option<u32>>,
    /// Woken to look for stuck goroutines only (`take_stuck`): no stealing this time round.
    watch_wake: bool,
    parked_async: bool,
}

impl Machine {
    /// Makes this thread M number `index` of `shared`.
    pub(crate) fn new(shared: Arc<Shared>, index: usize) -> Self {
        set_current_m(Some((shared.clone(), index)));
        // (gc) Take this M's P (a collection may hold it until it ends).
        crate::gc::m_start(&shared, index);
        let n = shared.procs.len();
        Machine {
            coprimes: (1..=n).filter(|&c| gcd(c, n) == 1).collect(),
            shared,
            index,
            tick: 0,
            spinning: false,
            lifo_runs: 0,
            runs: 0,
            rng: 0x9E37_79B9 ^ (index as u32).wrapping_mul(0x85EB_CA6B) | 1,
            bound_ready: VecDeque::new(),
            timer_woken: VecDeque::new(),
            watched: Vec::with_capacity(n),
            watch_wake: false,
            parked_async: false,
        }
    }

    /// The address of this M's parker word, for `Atomics.waitAsync` in its Worker.
    #[cfg(target_arch = "wasm32")]
    pub(crate) fn parker_address(&self) -> u32 {
        self.shared.idle.parkers[self.index].word_address()
    }

    fn p(&self) -> &P {
        &self.shared.procs[self.index]
    }

    /// Runs goroutines until shutdown or, when `host` is set and this M hosts JS goroutines,
    /// until it must give its event loop a turn.
    pub(crate) fn run(&mut self, host: bool) -> Exit {
        self.resume_after_async_park();
        timer::forget_reading();
        let slice_start = timer::now();
        let mut polls = 0u32;
        loop {
            let g = match self.find_runnable(host) {
                Ok(g) => g,
                Err(Exit::Stopped) => {
                    self.exit();
                    return Exit::Stopped;
                }
                Err(other) => return other,
            };
            if self.spinning {
                self.spinning = false;
                if self.shared.idle.stop_spinning() {
                    self.shared.idle.wake_one();
                }
            }
            // (gc) A safepoint: join a requested collection before polling.
            crate::gc::safepoint(&self.shared, self.index);
            self.execute(&g);
            if host && bound_live() > 0 {
                if g.home() != UNBOUND {
                    return Exit::Microtasks;
                }
                if timer::now().saturating_sub(slice_start) > HOST_SLICE_NS {
                    return Exit::Macrotask;
                }
            } else if host {
                polls = polls.wrapping_add(1);
                if polls.is_multiple_of(REENTER_CHECK)
                    && timer::now().saturating_sub(slice_start) > REENTER_NS
                {
                    return Exit::Microtasks;
                }
            }
        }
    }

    fn execute(&mut self, g: &GRef) {
        self.runs += 1;
        if self.runs == RUNS_BATCH {
            self.flush_runs();
        }
        let p = &self.shared.procs[self.index];
        set_current_g(Arc::as_ptr(g));
        coop::reset();
        timer::forget_reading();
        let polled = g.poll(self.index as u32);
        set_current_g(std::ptr::null());
        match polled {
            Polled::Finished => {
                // Counted before the goroutine is: stats that show it finished show its polls.
                self.flush_runs();
                self.shared.unregister(g)
            }
            Polled::Parked => {}
            Polled::Requeue if g.home() != UNBOUND => self.bound_ready.push_back(g.clone()),
            Polled::Requeue if p.runq.is_empty() && !self.shared.global_is_empty() => {
                self.shared.global_put_yielded(self.index, g.clone())
            }
            Polled::Requeue => self.shared.runq_put(p, g.clone()),
        }
    }

    fn flush_runs(&mut self) {
        let runs = std::mem::take(&mut self.runs);
        if runs > 0 {
            self.p().counters.runs.fetch_add(runs, Relaxed);
        }
    }

    fn find_runnable(&mut self, host: bool) -> Result<GRef, Exit> {
        loop {
            if self.shared.is_shut_down() {
                return Err(Exit::Stopped);
            }
            // (gc) Also the first thing an M does after waking from parking.
            crate::gc::safepoint_seeking(&self.shared, self.index);
            if let Some(g) = self.bound_next() {
                return Ok(g);
            }
            self.tick = self.tick.wrapping_add(1);
            if self.tick.is_multiple_of(GLOBAL_CHECK_INTERVAL) {
                if let Some(g) = self.shared.global_get(self.index, 1) {
                    return Ok(g);
                }
            }
            self.check_timers();
            if let Some(g) = self.local_next() {
                return Ok(g);
            }
            if let Some(g) = self.shared.global_get(self.index, usize::MAX) {
                return Ok(g);
            }
            if !self.spinning && !std::mem::take(&mut self.watch_wake) {
                self.spinning = self.shared.idle.try_start_spinning();
            }
            if self.spinning {
                if let Some(g) = self.steal() {
                    return Ok(g);
                }
            }
            if let Some(exit) = self.park(host) {
                return Err(exit);
            }
        }
    }

    fn bound_next(&mut self) -> Option<GRef> {
        let inbox = &self.shared.bound[self.index];
        if !inbox.is_empty() {
            self.bound_ready.extend(inbox.take_all());
        }
        self.bound_ready.pop_front()
    }

    /// Go's `checkTimers`, once per schedule: fires this P's expired timers, and those of any
    /// other P whose earliest timer is overdue by `TAKEOVER_NS` (its M is in a long poll, or
    /// the OS is not running it: with more threads than cores, an M can be descheduled for
    /// tens of ms, and every timer of its P would wait for it). The clock is looked at only
    /// when some P has a timer, and a reading the last poll took serves
    /// (`timer::recent_or_now`).
    fn check_timers(&mut self) {
        let (procs, me) = (&self.shared.procs, self.index);
        let overdue_at = |v: usize| procs[v].timers.next_deadline().saturating_add(TAKEOVER_NS);
        let mine = procs[me].timers.next_deadline();
        let others = (0..procs.len()).filter(|&v| v != me).map(overdue_at).min().unwrap_or(u64::MAX);
        if mine == u64::MAX && others == u64::MAX {
            return;
        }
        let now = timer::recent_or_now();
        if mine <= now {
            fire_timers(&procs[me].timers, now, &mut self.timer_woken);
        }
        if others <= now {
            for v in (0..procs.len()).filter(|&v| v != me && overdue_at(v) <= now) {
                fire_timers(&procs[v].timers, now, &mut self.timer_woken);
            }
        }
    }

    /// LIFO slot (at most `MAX_LIFO_RUNS` in a row while others wait here), then goroutines
    /// woken by timers this M fired, then the ring.
    fn local_next(&mut self) -> Option<GRef> {
        let p = &self.shared.procs[self.index];
        if let Some(g) = p.lifo_take() {
            if self.lifo_runs < MAX_LIFO_RUNS {
                self.lifo_runs += 1;
                return Some(g);
            }
            // Nobody here to make way for: going through the ring would only cost a push and
            // a pop (the global queue has its own turn, every 61st schedule).
            if self.timer_woken.is_empty() && p.runq.is_empty() {
                return Some(g);
            }
            self.shared.runq_put(p, g);
        }
        self.lifo_runs = 0;
        self.timer_woken.pop_front().or_else(|| p.runq.pop())
    }

    fn random(&mut self) -> u32 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 17;
        self.rng ^= self.rng << 5;
        self.rng
    }

    /// Go's `stealWork`: a few passes over the other Ps in random order.
    fn steal(&mut self) -> Option<GRef> {
        let n = self.shared.procs.len();
        if n == 1 {
            return None;
        }
        let shared = self.shared.clone();
        for pass in 0..STEAL_PASSES {
            let last_pass = pass == STEAL_PASSES - 1;
            let start = self.random() as usize % n;
            let pick = self.random() as usize % self.coprimes.len();
            let stride = self.coprimes[pick];
            let mut now = None;
            for k in 0..n {
                let v = (start + k * stride) % n;
                if v == self.index {
                    continue;
                }
                let victim = &shared.procs[v];
                let mine = &shared.procs[self.index];
                if let Some(g) = victim.runq.steal_into(&mine.runq) {
                    let took = 1 + mine.runq.len() as u64;
                    victim.counters.stolen.fetch_add(took, Relaxed);
                    mine.counters.steals.fetch_add(1, Relaxed);
                    return Some(g);
                }
                let deadline = victim.timers.next_deadline();
                if deadline != u64::MAX && deadline <= *now.get_or_insert_with(timer::now) {
                    fire_timers(&victim.timers, now.unwrap(), &mut self.timer_woken);
                    if let Some(g) = self.local_next() {
                        return Some(g);
                    }
                }
                if last_pass {
                    if let Some(g) = victim.lifo_take() {
                        victim.counters.stolen.fetch_add(1, Relaxed);
                        mine.counters.steals.fetch_add(1, Relaxed);
                        return Some(g);
                    }
                }
            }
            if let Some(g) = shared.global_get(self.index, usize::MAX) {
                return Some(g);
            }
        }
        None
    }

    /// Is there anything this M could run, anywhere? (The parker's final look.)
    fn work_anywhere(&self) -> bool {
        !self.shared.bound[self.index].is_empty()
            || !self.shared.global_is_empty()
            || self.shared.procs.iter().any(P::has_work)
            || self.shared.is_shut_down()
    }

    fn earliest_timer(&self) -> u64 {
        self.shared.procs.iter().map(|p| p.timers.next_deadline()).min().unwrap_or(u64::MAX)
    }

    /// Parks by the protocol in `idle.rs`. Returns `Some` when the caller must return to the
    /// Worker's event loop to wait; `None` to look for work again.
    fn park(&mut self, host: bool) -> Option<Exit> {
        // (gc) Sweep in the background before sleeping; look for work after each batch.
        if crate::gc::sweep_idle(&self.shared, self.index) {
            return None;
        }
        self.shared.sweep_registry(self.index);
        self.flush_runs();
        let idle = &self.shared.idle;
        idle.announce_idle(self.index);
        if self.spinning {
            self.spinning = false;
            idle.stop_spinning();
        }
        let deadline = self.earliest_timer();
        let now = timer::now();
        if self.work_anywhere() || deadline <= now {
            self.spinning = idle.leave_idle(self.index);
            return None;
        }
        if deadline == u64::MAX {
            self.shared.check_dead();
        }
        // (gc) Give the P up while parked, so that collections claim it instead of waiting for
        // this M; if one is requested, join it first.
        if !crate::gc::release_p(&self.shared, self.index) {
            self.spinning = idle.leave_idle(self.index);
            return None;
        }
        let mut timeout_ns = (deadline != u64::MAX).then(|| deadline - now);
        self.watched.clear();
        if idle.idle_count() < self.shared.procs.len() as u32 {
            self.watched
                .extend(self.shared.procs.iter().map(|p| (!p.runq.is_empty()).then(|| p.runq.taken())));
            timeout_ns = Some(timeout_ns.map_or(WATCH_NS, |t| t.min(WATCH_NS)));
        }
        self.p().counters.parks.fetch_add(1, Relaxed);
        let parker = &idle.parkers[self.index];
        if host && bound_live() > 0 {
            if parker.prepare_park() {
                self.parked_async = true;
                return Some(Exit::ParkAsync { timeout_ns });
            }
        } else {
            parker.park(timeout_ns);
        }
        self.woke();
        None
    }

    fn resume_after_async_park(&mut self) {
        if std::mem::take(&mut self.parked_async) {
            self.shared.idle.parkers[self.index].finish_park();
            self.woke();
        }
    }

    fn woke(&mut self) {
        timer::forget_reading();
        // (gc) Take the P back, after the collection that claimed it, if any.
        crate::gc::acquire_p(&self.shared, self.index);
        self.p().counters.wakeups.fetch_add(1, Relaxed);
        self.spinning = self.shared.idle.leave_idle(self.index);
        self.watch_wake = !self.spinning && !self.watched.is_empty();
        if self.watch_wake {
            self.take_stuck();
        }
    }

    /// Go's sysmon, in the small: a woken goroutine that displaces another from the LIFO slot
    /// wakes no idle M for it (see `sched`), as it will usually run within a poll or two. When
    /// it does not, because its M is in one long poll, the G that was first in its P's ring
    /// when this M parked is still there: this M takes from that ring (into its own, empty
    /// while it was parked).
    fn take_stuck(&self) {
        let mine = self.p();
        for (v, victim) in self.shared.procs.iter().enumerate() {
            let stuck = self.watched[v].is_some_and(|t| victim.runq.taken() == t && !victim.runq.is_empty());
            if v == self.index || !stuck {
                continue;
            }
            if let Some(g) = victim.runq.steal_into(&mine.runq) {
                victim.counters.stolen.fetch_add(1 + mine.runq.len() as u64, Relaxed);
                mine.counters.steals.fetch_add(1, Relaxed);
                self.shared.runq_put(mine, g);
                return;
            }
        }
    }

    fn exit(&mut self) {
        self.flush_runs();
        if self.spinning {
            self.spinning = false;
            self.shared.idle.stop_spinning();
        }
        let here = self.index as u32;
        for g in self.shared.all_gs() {
            if g.home() == here {
                g.drop_task();
            }
        }
        self.bound_ready.clear();
        self.timer_woken.clear();
        self.shared.bound[self.index].take_all();
        // (gc) Give this P's cached spans back to the heap and park the P for good.
        crate::gc::m_exit(&self.shared, self.index);
        if self.shared.running_ms.fetch_sub(1, AcqRel) == 1 {
            self.shared.release_everything();
        }
        set_current_m(None);
    }
}

/// Fires `timers`' expired timers while `woken`, the M's `timer_woken`, holds fewer than
/// `TIMER_WOKEN_MAX` goroutines; those they wake go there, to run next.
fn fire_timers(timers: &timer::Timers, now: u64, woken: &mut VecDeque<GRef>) {
    let room = TIMER_WOKEN_MAX.saturating_sub(woken.len());
    if room > 0 {
        woken.extend(super::collect_timer_wakes(|| {
            timers.run_expired(now, room);
        }));
    }
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}
