//! Looking for work (Go's `findRunnable`, `stealWork`, `checkTimers` and `stopm`): what an M
//! runs next, in the order the `sched` module header gives, and parking when there is nothing.
//!
//! # Invariants
//! * Only this M takes from its bound inbox, its `bound_ready` and `timer_woken` lists; its
//!   P's ring and LIFO slot are also taken from by thieves (`runq.rs`, `p.rs`).
//! * An M parks only after announcing itself idle and looking once more at every queue and
//!   timer (`idle.rs`'s protocol), and after giving its P up (`world.rs`), so that a wake-up
//!   or a stop of the world is never missed.
//! * An M fires another P's timers only once they are overdue (`TAKEOVER_NS`), and keeps at
//!   most `TIMER_WOKEN_MAX` timer-woken goroutines to itself.
//! * Only active Ps are stolen from or have their timers fired by others; the M of a retired
//!   P runs only its bound goroutines, its own queues and timers (`procresize.rs`).

use super::current::{set_current_p, NO_P};
use super::gstatus::GStatus;
use super::m::{Exit, M};
use super::timer;
use super::{GRef, P};
use std::collections::VecDeque;
use std::sync::atomic::Ordering::Relaxed;

/// A chain of goroutines that keep each other runnable runs on while others wait for at most
/// this long (Go's time slice, `forcePreemptNS`): then it queues behind them.
const SLICE_NS: u64 = 10_000_000;
/// A chain this short never looks at the clock (it is within any slice).
const CHAIN_FREE_RUNS: u32 = 3;
/// Past `CHAIN_FREE_RUNS`, a chain looks at the clock every this many runs.
const CHAIN_CHECK_EVERY: u32 = 4;
/// Every this many schedules, the global queue is checked first (Go's fairness rule).
const GLOBAL_CHECK_INTERVAL: u32 = 61;
/// After this many goroutines bound to this M in a row, its P's own queues go first once:
/// bound goroutines (JS goroutines' operations) that keep each other runnable would otherwise
/// hold back every goroutine queued on the P, and every timer-woken one.
const BOUND_RUNS_MAX: u32 = 8;
/// Steal passes over all victims before giving up (Go's `stealTries`).
const STEAL_PASSES: usize = 4;
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

/// Goroutines that keep each other runnable through the LIFO slot: each made runnable by the
/// one before, on this M. As with Go's `runnext`, the chain inherits one time slice: while it
/// lasts the chain runs ahead of everything queued, so two ping-pong pairs share the P by time,
/// not by turns (Go's `TestPingPongHog`, in `crate/tests/sched.rs`: a pair whose turns cost 100
/// times more gets about as much time, not 100 times as much); once it is over, the chain
/// queues behind the others. JS goroutines talk through operations that are goroutines of
/// their own, each resolving a promise whose reaction starts the next one, so their chains
/// do not pass through this slot yet.
#[derive(Default)]
pub(super) struct Chain {
    runs: u32,
    /// When the chain first looked at the clock (0: not yet).
    since: u64,
}

impl Chain {
    /// One more goroutine of the chain: whether it is still within its slice.
    fn go_on(&mut self) -> bool {
        self.runs += 1;
        if self.runs <= CHAIN_FREE_RUNS {
            return true;
        }
        if self.since == 0 {
            self.since = timer::now();
            return true;
        }
        !(self.runs - CHAIN_FREE_RUNS).is_multiple_of(CHAIN_CHECK_EVERY)
            || timer::now().saturating_sub(self.since) < SLICE_NS
    }

    /// The chain ended (a goroutine from elsewhere runs next).
    fn end(&mut self) {
        *self = Chain::default();
    }
}

impl M {
    pub(super) fn find_runnable(&mut self, host: bool) -> Result<GRef, Exit> {
        loop {
            if self.shared.is_shut_down() {
                return Err(Exit::Stopped);
            }
            if self.must_give_back() {
                self.give_back_p();
            }
            if self.p == NO_P && !self.pool_wait() {
                return Err(Exit::Stopped);
            }
            // Also the first thing an M does after waking from parking.
            self.shared.hooks.safepoint(&self.shared, self.p, false);
            // A retired P's M runs only what is its own (`procresize.rs`).
            let retired = self.shared.is_retired(self.p);
            // Every source is reached in bounded time, whichever queue stays busy (Go's
            // `schedule`): expired timers on every schedule, the global queue every 61st.
            self.check_timers(retired);
            self.tick = self.tick.wrapping_add(1);
            if !retired && self.tick.is_multiple_of(GLOBAL_CHECK_INTERVAL) {
                if let Some(g) = self.shared.globrunqget(self.p, 1).or_else(|| self.unstarted_next()) {
                    return Ok(g);
                }
            }
            if self.bound_runs >= BOUND_RUNS_MAX {
                self.bound_runs = 0;
                if let Some(g) = self.local_next() {
                    return Ok(g);
                }
            }
            if let Some(g) = self.bound_next() {
                self.bound_runs += 1;
                return Ok(g);
            }
            self.bound_runs = 0;
            if let Some(g) = self.local_next() {
                return Ok(g);
            }
            if retired {
                if let Some(exit) = self.park(host) {
                    return Err(exit);
                }
                continue;
            }
            if let Some(g) = self.shared.globrunqget(self.p, usize::MAX) {
                return Ok(g);
            }
            if let Some(g) = self.unstarted_next() {
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
        // A wake of a goroutine of this M's dead predecessor, queued before `take_over`
        // retired it (`died.rs`), is skipped.
        std::iter::from_fn(|| self.bound_ready.pop_front()).find(|g| g.state() != GStatus::Dead)
    }
    /// Go's `checkTimers`, once per schedule: fires this P's expired timers, and those of any
    /// other P whose earliest timer is overdue by `TAKEOVER_NS` (its M is in a long poll, or
    /// the OS is not running it: with more threads than cores, an M can be descheduled for
    /// tens of ms, and every timer of its P would wait for it). The clock is looked at only
    /// when some P has a timer, and a reading the last poll took serves
    /// (`timer::recent_or_now`). Only the active Ps' timers, and those of `retired` P's own.
    fn check_timers(&mut self, retired: bool) {
        let (procs, me) = (&self.shared.procs, self.p);
        let active = if retired { 0 } else { self.shared.gomaxprocs() };
        let overdue_at = |v: usize| procs[v].timers.next_deadline().saturating_add(TAKEOVER_NS);
        let mine = procs[me].timers.next_deadline();
        let others = (0..active).filter(|&v| v != me).map(overdue_at).min().unwrap_or(u64::MAX);
        if mine == u64::MAX && others == u64::MAX {
            return;
        }
        let now = timer::recent_or_now();
        if mine <= now {
            fire_timers(&procs[me].timers, now, &mut self.timer_woken);
        }
        if others <= now {
            for v in (0..active).filter(|&v| v != me && overdue_at(v) <= now) {
                fire_timers(&procs[v].timers, now, &mut self.timer_woken);
            }
        }
    }
    /// LIFO slot (while its chain is within its time slice, or nobody else waits here), then
    /// goroutines woken by timers this M fired, then the ring.
    fn local_next(&mut self) -> Option<GRef> {
        let p = &self.shared.procs[self.p];
        if let Some(g) = p.lifo_take() {
            // Nobody here to make way for: going through the ring would only cost a push and
            // a pop (the global queue has its own turn, every 61st schedule).
            if self.lifo_chain.go_on() || (self.timer_woken.is_empty() && p.runq.is_empty()) {
                return Some(g);
            }
            self.shared.runqput(p, g);
        }
        self.lifo_chain.end();
        self.timer_woken.pop_front().or_else(|| p.runq.pop())
    }
    fn random(&mut self) -> u32 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 17;
        self.rng ^= self.rng << 5;
        self.rng
    }
    /// Go's `stealWork`: a few passes over the other active Ps in random order.
    fn steal(&mut self) -> Option<GRef> {
        let n = self.shared.gomaxprocs();
        if n == 1 {
            return None;
        }
        // The strides are those of the last count of Ps (the largest is n - 1).
        if self.coprimes.last() != Some(&(n - 1)) {
            self.coprimes = coprimes(n);
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
                if v == self.p {
                    continue;
                }
                let victim = &shared.procs[v];
                let mine = &shared.procs[self.p];
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
            if let Some(g) = shared.globrunqget(self.p, usize::MAX).or_else(|| self.unstarted_next()) {
                return Some(g);
            }
        }
        None
    }

    /// A goroutine waiting to start on an M that hosts JS, unless this M is a spare.
    fn unstarted_next(&self) -> Option<GRef> {
        if self.is_spare() {
            return None;
        }
        self.shared.unstarted_get(self.p)
    }
    /// Is there anything this M could run, anywhere? (The parker's final look; for a retired
    /// P's M, anything of its own.)
    fn work_anywhere(&self, retired: bool) -> bool {
        if retired {
            return !self.shared.bound[self.index].is_empty()
                || self.p().has_work()
                || self.shared.is_shut_down();
        }
        !self.shared.bound[self.index].is_empty()
            || !self.shared.global_is_empty()
            || (!self.is_spare() && !self.shared.unstarted_is_empty())
            || self.active_procs().iter().any(P::has_work)
            || self.shared.is_shut_down()
    }
    /// The earliest deadline of the timers this M fires (`check_timers`).
    fn earliest_timer(&self, retired: bool) -> u64 {
        let mine = self.p().timers.next_deadline();
        if retired {
            return mine;
        }
        self.active_procs().iter().map(|p| p.timers.next_deadline()).min().unwrap_or(u64::MAX).min(mine)
    }
    fn active_procs(&self) -> &[P] {
        &self.shared.procs[..self.shared.gomaxprocs()]
    }
    /// Parks by the protocol in `idle.rs`. Returns `Some` when the caller must return to the
    /// Worker's event loop to wait; `None` to look for work again.
    pub(super) fn park(&mut self, host: bool) -> Option<Exit> {
        // Background work (the collector sweeps) before sleeping; look for work after each batch.
        if self.shared.hooks.idle(&self.shared, self.p) {
            return None;
        }
        if self.is_spare() {
            // Nothing left to run for the P's own M: back to the pool (`syscall.rs`, step 3).
            self.give_back_p();
            return None;
        }
        self.shared.prune_registries();
        self.flush_runs();
        let idle = &self.shared.idle;
        idle.announce_idle(self.index);
        if self.spinning {
            self.spinning = false;
            idle.stop_spinning();
        }
        let retired = self.shared.is_retired(self.p);
        let deadline = self.earliest_timer(retired);
        let now = timer::now();
        if self.work_anywhere(retired) || deadline <= now {
            self.spinning = idle.leave_idle(self.index);
            return None;
        }
        if deadline == u64::MAX {
            self.shared.check_dead();
        }
        // Give the P up while parked, so that a stop of the world claims it instead of waiting
        // for this M; if one is requested, join it first.
        set_current_p(NO_P);
        if !self.shared.world.release_p(self.p) {
            set_current_p(self.p);
            self.spinning = idle.leave_idle(self.index);
            return None;
        }
        let mut timeout_ns = (deadline != u64::MAX).then(|| deadline - now);
        self.watched.clear();
        if !retired && idle.idle_count() < self.shared.gomaxprocs() as u32 {
            let active = &self.shared.procs[..self.shared.gomaxprocs()];
            self.watched.extend(active.iter().map(|p| (!p.runq.is_empty()).then(|| p.runq.taken())));
            timeout_ns = Some(timeout_ns.map_or(WATCH_NS, |t| t.min(WATCH_NS)));
        }
        self.p().counters.parks.fetch_add(1, Relaxed);
        let parker = &idle.parkers[self.index];
        if host && self.hosts_js {
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
    pub(super) fn woke(&mut self) {
        timer::forget_reading();
        // Take the P back, after the stop of the world that claimed it, if any (or from a
        // spare M it was handed to by mistake: `syscall.rs`).
        self.shared.world.take_own_p(self.p);
        set_current_p(self.p);
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
        for (v, (victim, watched)) in self.shared.procs.iter().zip(&self.watched).enumerate() {
            let stuck = watched.is_some_and(|t| victim.runq.taken() == t && !victim.runq.is_empty());
            if v == self.p || !stuck {
                continue;
            }
            if let Some(g) = victim.runq.steal_into(&mine.runq) {
                victim.counters.stolen.fetch_add(1 + mine.runq.len() as u64, Relaxed);
                mine.counters.steals.fetch_add(1, Relaxed);
                self.shared.runqput(mine, g);
                return;
            }
        }
    }
}

/// Fires `timers`' expired timers while `woken`, the M's `timer_woken`, holds fewer than
/// `TIMER_WOKEN_MAX` goroutines; those they wake go there, to run next.
fn fire_timers(timers: &timer::Timers, now: u64, woken: &mut VecDeque<GRef>) {
    let room = TIMER_WOKEN_MAX.saturating_sub(woken.len());
    if room > 0 {
        woken.extend(super::gather_timer_wakes(|| {
            timers.run_expired(now, room);
        }));
    }
}

/// The numbers from 1 to `n` coprime with `n`: strides for random steal orders over `n` Ps.
pub(super) fn coprimes(n: usize) -> Vec<usize> {
    (1..=n).filter(|&c| gcd(c, n) == 1).collect()
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}
