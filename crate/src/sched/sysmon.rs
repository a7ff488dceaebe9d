//! The monitor (Go's `sysmon`) and the spare Ms it hands Ps to (Go's `retake`, `handoffp`
//! and `startm`).
//!
//! A P whose own M has been in one system call (`syscall.rs`) for more than
//! [`FORCE_PREEMPT_NS`] while goroutines or timers wait on it is *retaken*: the monitor hands
//! it to a spare M, which runs its queue and timers until its own M comes back. So a JS
//! goroutine that loops for seconds holds up its own Worker only (and the JS goroutines bound
//! to it, as with Go's `LockOSThread`), never its P.
//!
//! # Spare Ms
//! Ms `max_procs..max_procs + spare_max` own no P. A spare waits in the *pool* (a bit of `pool` and
//! its parker) until the monitor hands it a P (`assigned`), then runs that P's goroutines
//! (`syscall.rs`, step 3) and comes back. `spare_warm` of them start with the runtime, so
//! that a hand-off never waits for a Worker to boot; when the monitor takes the last pooled
//! one, it asks for another (`start`), up to `spare_max`.
//!
//! # The monitor
//! The monitor is not a thread of its own: it is a role one pooled spare takes (`monitor`,
//! a CAS from 0), as Go's sysmon is an M without a P. It looks at every P each
//! [`SYSMON_TICK_NS`] while some M is in a system call, and sleeps until woken otherwise: an
//! M entering a system call wakes it if it sleeps (`monitor_sleeping`, Go's
//! `sched.sysmonwait`). The M entering bumps its P's `syscalltick` (SeqCst), then loads
//! `monitor_sleeping`; the monitor stores `monitor_sleeping`, fences (SeqCst), then loads
//! every P's `syscalltick`: one of the two sees the other's store. The M reads no clock: the
//! monitor times a system call from when it first sees it (`seen_at`), as Go's sysmon does.
//! A spare that takes a P gives the role up and wakes another pooled spare to take it.
//!
//! # Lock-freedom
//! `pool` is a bit mask changed by CAS only; `assigned[s]` is written by the monitor for a
//! spare whose pool bit it cleared (so by nobody else), and swapped to 0 by that spare.
//! `holding[s]` is written by spare `s` only, and read once a thread died (`died.rs`).
//!
//! # A spare M that dies
//! Its Worker runs no JS, so it dies only killed (a trap, or terminated at shutdown).
//! [`Shared::spare_died`] takes it out of the pool and of the monitor's role, so that no P is
//! handed to it again, and says which P it held, if any, for `died.rs` to give back.

use super::current::NO_P;
use super::m::M;
use super::shared::Shared;
use super::timer;
use crate::platform::shim::{fence, AtomicU32, AtomicU64};
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, SeqCst};

/// A P whose M is in one system call for longer than this is retaken (Go's `forcePreemptNS`).
pub(crate) const FORCE_PREEMPT_NS: u64 = 10_000_000;
/// The monitor's period while some M is in a system call: a retake comes at most this late.
const SYSMON_TICK_NS: u64 = 2_000_000;
/// Spare Ms started with the runtime.
pub(crate) const SPARE_WARM: usize = 1;
/// At most this many spare Ms (Go has no cap; a Worker costs megabytes).
pub(crate) const SPARE_MAX: usize = 4;

/// In `Spares::holding`: the spare is taking the P (its CAS may fail), or giving it up.
const TRYING: u32 = 1 << 31;

/// Starts M number `index`: a spare, or the M of a P added while the runtime runs
/// (`procresize.rs`). Unwind-safe: a panic caught in a poll leaves it usable.
pub(crate) type MStarter =
    Box<dyn Fn(usize) + Send + Sync + std::panic::RefUnwindSafe + std::panic::UnwindSafe>;

pub(crate) struct Spares {
    /// The first spare's M index (the number of Ps).
    first: usize,
    /// Bit `i`: spare `first + i` waits in the pool.
    pool: AtomicU64,
    /// Per spare: the P handed to it, plus 1; 0 if none.
    assigned: Box<[AtomicU32]>,
    /// Per spare: the P it holds, plus 1, with `TRYING` while it may not hold it (about to
    /// take it, or giving it up); 0 if none. Only for a death (`died.rs`).
    holding: Box<[AtomicU32]>,
    /// Spares started, or asked for.
    pub(super) started: AtomicU32,
    /// The M acting as the monitor, plus 1; 0 if none.
    monitor: AtomicU32,
    /// Whether the monitor sleeps until an M enters a system call.
    monitor_sleeping: AtomicBool,
    /// Per P: the system call (`P::syscall`) the monitor last saw its M in, and when it first
    /// saw it (Go's `sysmontick.syscalltick` and `syscallwhen`): the M entering a system call
    /// reads no clock. Written by the monitor only (one at a time: the role passes through the
    /// AcqRel CASes of `monitor`).
    seen_syscall: Box<[AtomicU32]>,
    seen_at: Box<[AtomicU64]>,
    /// Ps retaken from an M in a system call (Go's schedtrace has no such count; `retakes`).
    pub(super) retakes: AtomicU64,
    /// How a new M is started (the layer that starts Ms registers it); `None`: never.
    start: std::sync::OnceLock<MStarter>,
}

impl Spares {
    /// Spares for a runtime of at most `procs` Ps.
    pub(crate) fn new(procs: usize) -> Self {
        Spares {
            first: procs,
            pool: AtomicU64::new(0),
            assigned: (0..SPARE_MAX).map(|_| AtomicU32::new(0)).collect(),
            holding: (0..SPARE_MAX).map(|_| AtomicU32::new(0)).collect(),
            started: AtomicU32::new(0),
            monitor: AtomicU32::new(0),
            monitor_sleeping: AtomicBool::new(false),
            seen_syscall: (0..procs).map(|_| AtomicU32::new(0)).collect(),
            seen_at: (0..procs).map(|_| AtomicU64::new(0)).collect(),
            retakes: AtomicU64::new(0),
            start: std::sync::OnceLock::new(),
        }
    }

    /// Whether M `m` is a spare.
    pub(crate) fn is_spare(&self, m: usize) -> bool {
        m >= self.first
    }

    /// Spare M `m` is about to take P `p` (`Some(p)`, may fail), holds it (`held`), or holds
    /// none (`None`, also while it gives its P up: set before the release).
    pub(super) fn note_holding(&self, m: usize, p: Option<usize>, held: bool) {
        let word = p.map_or(0, |p| (p as u32 + 1) | if held { 0 } else { TRYING });
        self.holding[m - self.first].store(word, SeqCst);
    }

    /// Whether some spare M holds P `p`, or is taking it (for the death of `p`'s own M).
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    pub(super) fn holds_or_takes(&self, p: usize) -> bool {
        self.holding.iter().any(|h| h.load(SeqCst) & !TRYING == p as u32 + 1)
    }

    /// Pooled spares, for statistics.
    pub(crate) fn pooled(&self) -> u32 {
        self.pool.load(Relaxed).count_ones()
    }
}

impl Shared {
    /// Registers how an M is started (given its M index), and starts the warm spares. The
    /// starter runs on the thread that asks (the monitor's, or this one) and must not block.
    pub(crate) fn set_m_starter(&self, start: MStarter) {
        if self.spares.start.set(start).is_ok() {
            for _ in 0..SPARE_WARM {
                self.start_spare();
            }
        }
    }

    /// Starts one more spare M if the cap allows. Called by a running M (the monitor) or
    /// before the Ms start, so `running_ms` is not 0: the new M is counted before it starts.
    fn start_spare(&self) {
        let s = &self.spares;
        let Some(start) = s.start.get() else { return };
        if self.is_shut_down() {
            return;
        }
        let n = s.started.fetch_add(1, AcqRel);
        if (n as usize) < SPARE_MAX {
            self.running_ms.fetch_add(1, AcqRel);
            start(s.first + n as usize);
        } else {
            s.started.fetch_sub(1, AcqRel);
        }
    }

    /// Starts the M of P `p`, added while the runtime runs (`procresize.rs`), by the M that
    /// stopped the world: `running_ms` is not 0, and the new M is counted before it starts.
    pub(super) fn start_p_m(&self, p: usize) {
        if let Some(start) = self.spares.start.get() {
            self.running_ms.fetch_add(1, AcqRel);
            start(p);
        }
    }

    /// Spare M `m`'s thread died (module header): out of the pool, its assignment dropped (the
    /// P stays `IDLE`, for the monitor to hand out again), the monitor's role given to a
    /// pooled spare if it had it. Returns the P it surely held, if any (not one it was taking
    /// or giving up: that one is left as it is, `died.rs`). Lock-free.
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    pub(super) fn spare_died(&self, m: usize) -> Option<usize> {
        let s = &self.spares;
        let i = m - s.first;
        s.pool.fetch_and(!(1u64 << i), SeqCst);
        s.assigned[i].swap(0, AcqRel);
        if s.monitor.compare_exchange(m as u32 + 1, 0, AcqRel, Acquire).is_ok() {
            let pool = s.pool.load(Acquire);
            if pool != 0 {
                self.idle.parkers[s.first + pool.trailing_zeros() as usize].unpark();
            }
        }
        let held = s.holding[i].swap(0, SeqCst);
        (held != 0 && held & TRYING == 0).then(|| held as usize - 1)
    }

    /// Step 1 of `syscall.rs`, the monitor's half: wakes it if it sleeps.
    pub(super) fn wake_monitor(&self) {
        let s = &self.spares;
        if s.monitor_sleeping.load(SeqCst) && s.monitor_sleeping.swap(false, SeqCst) {
            let m = s.monitor.load(Acquire);
            if m != 0 {
                self.idle.parkers[m as usize - 1].unpark();
            }
        }
    }

    /// Whether M `m` has been handed a P (taken by the swap).
    pub(super) fn take_assignment(&self, m: usize) -> Option<usize> {
        let s = &self.spares;
        let p = s.assigned[m - s.first].swap(0, Acquire);
        (p != 0).then(|| p as usize - 1)
    }

    /// The monitor's look at every P (Go's `retake`): hands each P retaken from an M in a long
    /// system call to a pooled spare. Returns whether some M is in a system call.
    fn retake(&self, me: usize, now: u64) -> bool {
        let mut in_syscall = false;
        for (i, p) in self.procs.iter().enumerate() {
            let Some(syscall) = p.syscall() else { continue };
            in_syscall = true;
            let s = &self.spares;
            if s.seen_syscall[i].swap(syscall, Relaxed) != syscall {
                // A new system call: it counts from now (at most one tick late, or woken by it).
                s.seen_at[i].store(now, Relaxed);
                continue;
            }
            if now.saturating_sub(s.seen_at[i].load(Relaxed)) < FORCE_PREEMPT_NS
                || self.world.wanted_back(i)
                || self.world.is_running(i)
            {
                continue;
            }
            // Work for the P: its own queue and due timers, or goroutines in the global queue
            // that no M would otherwise take (none idle to wake, none spinning).
            let work = p.has_work()
                || p.timers.next_deadline() <= now
                || (!self.global_is_empty()
                    && self.idle.idle_count() == 0
                    && self.idle.spinning_count() == 0);
            if !work {
                continue;
            }
            if !self.handoff(me, i) {
                break;
            }
        }
        in_syscall
    }

    /// Hands P `p` to a pooled spare (another than the monitor `me` if there is one); asks for
    /// a new spare when the pool runs dry. False if no spare was free.
    fn handoff(&self, me: usize, p: usize) -> bool {
        let s = &self.spares;
        let mine = 1u64 << (me - s.first);
        let mut pool = s.pool.load(Acquire);
        loop {
            if pool == 0 {
                return false;
            }
            let others = pool & !mine;
            let pick = if others != 0 { others.trailing_zeros() } else { pool.trailing_zeros() };
            match s.pool.compare_exchange(pool, pool & !(1 << pick), AcqRel, Acquire) {
                Ok(_) => {
                    s.assigned[pick as usize].store(p as u32 + 1, SeqCst);
                    s.retakes.fetch_add(1, Relaxed);
                    self.idle.parkers[s.first + pick as usize].unpark();
                    if pool & !(1 << pick) == 0 {
                        self.start_spare();
                    }
                    return true;
                }
                Err(now) => pool = now,
            }
        }
    }
}

impl M {
    /// A spare M with no P: waits in the pool (taking the monitor's role if free) until
    /// handed a P it can take. False at shutdown.
    pub(super) fn pool_wait(&mut self) -> bool {
        debug_assert_eq!(self.p, NO_P);
        let shared = self.shared.clone();
        let s = &shared.spares;
        let bit = 1u64 << (self.index - s.first);
        loop {
            if shared.is_shut_down() {
                return false;
            }
            if let Some(p) = shared.take_assignment(self.index) {
                if self.take_p(p) {
                    return true;
                }
            }
            let monitor = s.monitor.compare_exchange(0, self.index as u32 + 1, AcqRel, Acquire).is_ok()
                || s.monitor.load(Acquire) == self.index as u32 + 1;
            s.pool.fetch_or(bit, SeqCst);
            let mut timeout = None;
            if monitor {
                s.monitor_sleeping.store(true, SeqCst);
                fence(SeqCst);
                if shared.retake(self.index, timer::now()) {
                    s.monitor_sleeping.store(false, SeqCst);
                    timeout = Some(SYSMON_TICK_NS);
                }
            }
            // An assignment (or shutdown) that came before the bit was set is still seen: the
            // monitor clears the bit before it assigns, and unparks after.
            if s.pool.load(SeqCst) & bit != 0 && !shared.is_shut_down() {
                shared.idle.parkers[self.index].park(timeout);
            }
            s.pool.fetch_and(!bit, SeqCst);
            if monitor && shared.spares.assigned[self.index - s.first].load(Acquire) != 0 {
                // About to hold a P: the role goes to another pooled spare.
                self.give_up_monitor();
            }
        }
    }

    /// This M stops acting as the monitor; a pooled spare takes the role.
    pub(super) fn give_up_monitor(&self) {
        let s = &self.shared.spares;
        if s.monitor.compare_exchange(self.index as u32 + 1, 0, AcqRel, Acquire).is_ok() {
            let pool = s.pool.load(Acquire);
            if pool != 0 {
                self.shared.idle.parkers[s.first + pool.trailing_zeros() as usize].unpark();
            }
        }
    }
}
