//! M: a thread that runs goroutines for its P (Go's `mstart` and `schedule`).
//!
//! An M loops: find a runnable G (`findrunnable.rs`; the order is in the `sched` module
//! header), poll it once, put it back where it belongs. With nothing to do it parks by the protocol in `idle.rs`,
//! until woken or until the earliest timer of any P.
//!
//! # Hosting JS goroutines (the web)
//! A Worker M also hosts the JS goroutines bound to it, whose continuations (promise
//! reactions) run only when the M returns to its event loop. Once it has run one (`hosts_js`,
//! for the rest of its life: JS code may have left timers, fetches and messages on its
//! Worker), `run` comes back to the Worker's JS instead of blocking: after polling a bound G
//! (so that the promise reactions it queued run), after a time slice (so that timers and
//! messages run), and to park (the Worker then waits with `Atomics.waitAsync` on the parker's
//! word). Each return to the event loop is a system call (`syscall.rs`): the P is released
//! until `run` is called again. An M that never ran JS parks with a blocking `wait32`; it
//! comes back to its Worker only every `REENTER_NS` of work, so that the engine can swap in
//! the optimized code of the loop.
//!
//! # Shutdown
//! Each M stops at its next schedule once `shutdown` is set, drops the tasks of the goroutines
//! bound to it (their futures hold this thread's JS objects), and the last M out drops every
//! remaining task and empties every queue, which breaks the reference cycles between Gs and
//! the runtime. A goroutine woken or submitted from outside after that is dropped by its waker
//! (`Shared::drop_if_stopped`).

use super::current::NO_P;
use super::findrunnable::{coprimes, Chain};
use super::g::{Polled, UNBOUND};
use super::syscall::{entersyscall, exitsyscall};
use super::{coop, set_current_g, set_current_m, timer, GRef, Shared, P};
use crate::platform::shim::Arc;
use std::collections::VecDeque;
use std::sync::atomic::Ordering::Relaxed;

/// While hosting JS goroutines, return to the event loop at least this often.
const HOST_SLICE_NS: u64 = 2_000_000;
/// On the web, an M hosting no JS goroutine still returns to its Worker this often (checked
/// every `REENTER_CHECK` polls). A wasm frame never switches to code the engine optimized
/// after it was entered (there is no on-stack replacement for wasm), so without re-entering,
/// the scheduler loop would run the baseline code it started with for the M's whole life.
const REENTER_NS: u64 = 5_000_000;
const REENTER_CHECK: u32 = 1024;
/// Polls an M counts before it adds them to its P's `runs` (an atomic add per poll is not cheap
/// in wasm).
pub(crate) const RUNS_BATCH: u64 = 64;

/// Why `M::run` returned.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Exit {
    /// The runtime shut down and this M has cleaned up.
    Stopped,
    /// Let promise reactions run (`await` a resolved promise), then call `run` again.
    Microtasks,
    /// Let the event loop run a task (timers, messages), then call `run` again.
    Macrotask,
    /// Wait on the parker's word until it changes from `idle::SLEEPING` or the timeout passes, without
    /// blocking the event loop (`Atomics.waitAsync`), then call `run` again.
    ParkAsync { timeout_ns: Option<u64> },
}

pub(crate) struct M {
    pub(super) shared: Arc<Shared>,
    /// This M's number: its parker, its bound inbox and its Worker. Ms `0..max_procs` own P
    /// `index`; the others are spares (`sysmon.rs`).
    pub(super) index: usize,
    /// The P this M holds, or `NO_P` (a spare in the pool).
    pub(super) p: usize,
    /// Set while this M has returned to its Worker's event loop: the P it gave up then
    /// (`syscall.rs`), to take back when `run` is called again.
    in_syscall: Option<usize>,
    /// Whether this M has run a bound goroutine (JS code, on the web): its Worker may have
    /// timers, fetches and messages of its own pending, so its event loop gets turns for as
    /// long as it lives.
    pub(super) hosts_js: bool,
    pub(super) tick: u32,
    pub(super) spinning: bool,
    /// The chain running from the LIFO slot (`findrunnable.rs`).
    pub(super) lifo_chain: Chain,
    /// Goroutines bound to this M run in a row (`findrunnable.rs`, `BOUND_RUNS_MAX`).
    pub(super) bound_runs: u32,
    /// Polls not yet added to the P's `runs`.
    pub(super) runs: u64,
    pub(super) rng: u32,
    /// Numbers coprime with the number of active Ps: strides for random steal orders.
    pub(super) coprimes: Vec<usize>,
    /// Bound Gs ready to run here.
    pub(super) bound_ready: VecDeque<GRef>,
    /// Gs woken by timers this M fired, run before the ring.
    pub(super) timer_woken: VecDeque<GRef>,
    /// Whether it handed `timer_woken` over as it left for its event loop (`died.rs`).
    pub(super) handed_timers: bool,
    /// When this M last parked while others ran, each P's `RunQueue::taken` if its ring held
    /// a goroutine then; empty otherwise.
    pub(super) watched: Vec<Option<u32>>,
    /// Woken to look for stuck goroutines only (`take_stuck`): no stealing this time round.
    pub(super) watch_wake: bool,
    pub(super) parked_async: bool,
}

impl M {
    /// Makes this thread M number `index` of `shared`: the M of P `index`, or a spare
    /// (`index >= procs`).
    pub(crate) fn new(shared: Arc<Shared>, index: usize) -> Self {
        set_current_m(Some((shared.clone(), index)));
        let n = shared.procs.len();
        let mut m = M {
            coprimes: coprimes(shared.gomaxprocs()),
            shared,
            index,
            p: NO_P,
            in_syscall: None,
            hosts_js: false,
            tick: 0,
            spinning: false,
            lifo_chain: Chain::default(),
            bound_runs: 0,
            runs: 0,
            rng: 0x9E37_79B9 ^ (index as u32).wrapping_mul(0x85EB_CA6B) | 1,
            bound_ready: VecDeque::new(),
            timer_woken: VecDeque::new(),
            handed_timers: false,
            watched: Vec::with_capacity(n),
            watch_wake: false,
            parked_async: false,
        };
        if index < n {
            // Take this M's P (a stop of the world may hold it until it ends, a spare M while
            // the M this one replaces was in a system call as it died: `died.rs`).
            m.shared.procs[index].syscall_exit();
            m.shared.world.take_own_p(index);
            m.hold_p(index);
        }
        m
    }

    /// Makes this M a host of JS goroutines from the start: it never blocks, parking and
    /// yielding through its event loop only (the one M of the build without threads, on the
    /// page's own thread, which may never block).
    #[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
    pub(crate) fn hosting_js_from_start(mut self) -> Self {
        self.hosts_js = true;
        self
    }

    /// The address of this M's parker word, for `Atomics.waitAsync` in its Worker.
    #[cfg(target_arch = "wasm32")]
    pub(crate) fn parker_address(&self) -> u32 {
        self.shared.idle.parkers[self.index].word_address()
    }

    pub(super) fn p(&self) -> &P {
        &self.shared.procs[self.p]
    }

    /// Runs goroutines until shutdown or, when `host` is set and this M hosts JS goroutines,
    /// until it must give its event loop a turn.
    pub(crate) fn run(&mut self, host: bool) -> Exit {
        // Back from the event loop, if it had left (`died.rs`); then its P, as below.
        self.step_in();
        self.resume_after_async_park();
        if let Some(p) = self.in_syscall.take() {
            exitsyscall(&self.shared, p);
        }
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
                Err(other) => {
                    // `Exit::ParkAsync`: parked, P given up, it waits in its event loop.
                    self.step_out(true);
                    return other;
                }
            };
            if self.spinning {
                self.spinning = false;
                if self.shared.idle.stop_spinning() {
                    self.shared.idle.wake_one();
                }
            }
            // A safepoint: join a requested stop of the world before polling.
            self.shared.hooks.safepoint(&self.shared, self.p, true);
            self.execute(&g);
            if host && self.hosts_js {
                if g.home() != UNBOUND {
                    return self.leave(Exit::Microtasks);
                }
                if timer::now().saturating_sub(slice_start) > HOST_SLICE_NS {
                    return self.leave(Exit::Macrotask);
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

    /// Returns to the Worker's event loop: a system call until `run` is called again, where
    /// the Worker may die holding nothing (`died.rs`).
    fn leave(&mut self, exit: Exit) -> Exit {
        self.flush_runs();
        self.in_syscall = entersyscall(&self.shared);
        if self.in_syscall.is_some() {
            self.step_out(false);
        }
        exit
    }

    fn execute(&mut self, g: &GRef) {
        self.runs += 1;
        if self.runs == RUNS_BATCH {
            self.flush_runs();
        }
        if self.is_spare() && g.is_unstarted() {
            // A spare never hosts JS goroutines: their Worker would have to stay for them.
            self.shared.unstarted_push(g.clone());
            return;
        }
        let p = &self.shared.procs[self.p];
        set_current_g(Arc::as_ptr(g));
        coop::reset();
        timer::forget_reading();
        let polled = g.poll(self.index as u32);
        set_current_g(std::ptr::null());
        if g.home() != UNBOUND {
            self.hosts_js = true;
        }
        match polled {
            Polled::Finished => {
                // Counted before the goroutine is: stats that show it finished show its polls.
                self.flush_runs();
                self.shared.unregister(g)
            }
            Polled::Parked => {}
            Polled::Requeue if g.home() != UNBOUND => self.bound_ready.push_back(g.clone()),
            Polled::Requeue if p.runq.is_empty() && !self.shared.global_is_empty() => {
                self.shared.globrunqput_yielded(self.p, g.clone())
            }
            // A retired P runs nothing but its M's own (`procresize.rs`).
            Polled::Requeue if self.shared.is_retired(self.p) => Shared::ready(g.clone()),
            Polled::Requeue => self.shared.runqput(p, g.clone()),
        }
    }

    pub(super) fn flush_runs(&mut self) {
        let runs = std::mem::take(&mut self.runs);
        if runs > 0 && self.p != NO_P {
            self.p().counters.runs.fetch_add(runs, Relaxed);
        }
    }

    fn resume_after_async_park(&mut self) {
        if std::mem::take(&mut self.parked_async) {
            self.shared.idle.parkers[self.index].finish_park();
            self.woke();
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
        if self.is_spare() {
            if self.p != NO_P {
                self.give_back_p();
            }
            self.give_up_monitor();
        } else {
            // Let the hooks give back what they cache for this P, then park the P for good
            // (after joining a requested stop of the world: an exiting M runs no goroutine).
            loop {
                self.shared.hooks.m_exit(&self.shared, self.p);
                if self.shared.world.release_p(self.p) {
                    break;
                }
                self.shared.hooks.safepoint(&self.shared, self.p, false);
            }
        }
        self.shared.m_out(self.index);
        set_current_m(None);
    }
}
