//! What the scheduler shows of itself: goroutine dumps (Go's traceback header lines) and
//! counters. Every read here is lock-free or takes only registry locks, so the page may call
//! it; the numbers are a racy snapshot, as Go's are.

use super::g::UNBOUND;
use super::gstatus::GStatus;
use super::shared::Shared;
use std::sync::atomic::Ordering::Relaxed;

/// A goroutine dump in Go's format: a `goroutine N [reason]:` line each, and for a named
/// goroutine its name where Go shows the function, as `name(...)`.
pub(crate) fn dump_text(gs: &[GoroutineInfo]) -> String {
    gs.iter()
        .map(|g| {
            let what = if g.wait_reason.is_empty() { g.state } else { g.wait_reason };
            let name = g.name.as_ref().map_or(String::new(), |n| format!("{n}(...)\n"));
            format!("goroutine {} [{what}]:\n{name}", g.id)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// One P's counters, as `Runtime::stats` reports them.
#[derive(Clone, Debug, Default)]
pub struct ProcStats {
    /// Goroutine polls this P has run.
    pub runs: u64,
    /// Successful steals made by this P's M.
    pub steals: u64,
    /// Goroutines other Ms stole from this P.
    pub stolen: u64,
    /// Times this P's M parked.
    pub parks: u64,
    /// Times it woke from parking.
    pub wakeups: u64,
    /// Goroutines in its run queue and LIFO slot.
    pub runq: usize,
    /// Whether it has pending timers.
    pub timers: bool,
    /// Whether its own M is in a system call (`gort::syscall`; on the web, running JS code).
    pub in_syscall: bool,
}

/// One line of a goroutine dump.
#[derive(Clone, Debug)]
pub struct GoroutineInfo {
    pub id: u64,
    /// "runnable", "running" or "waiting" (Go's words).
    pub state: &'static str,
    /// Why it waits, in Go's words ("sleep", …); empty unless waiting.
    pub wait_reason: &'static str,
    /// The M a JS goroutine is bound to.
    pub proc: Option<usize>,
    /// Its name, if it has one (a JS goroutine's function or task name).
    pub name: Option<String>,
}

/// The scheduler's part of `Stats` (the runtime adds the heap's).
pub(crate) struct SchedStats {
    pub(crate) procs: usize,
    pub(crate) goroutines: u64,
    pub(crate) spawned: u64,
    pub(crate) completed: u64,
    pub(crate) global_queue: usize,
    pub(crate) idle_procs: usize,
    pub(crate) spinning: usize,
    /// Ps retaken from an M in a long system call and handed to a spare M (`sysmon.rs`).
    pub(crate) retakes: u64,
    /// Spare Ms started, and those waiting in the pool.
    pub(crate) spare_ms: usize,
    pub(crate) idle_spare_ms: usize,
    pub(crate) stack_inuse: usize,
    pub(crate) per_p: Vec<ProcStats>,
}

impl Shared {
    /// A goroutine dump: every live goroutine, sorted by id.
    pub(crate) fn goroutines(&self) -> Vec<GoroutineInfo> {
        let mut all: Vec<_> = self
            .all_gs()
            .iter()
            .filter(|g| !g.system)
            .map(|g| {
                let state = g.state();
                GoroutineInfo {
                    id: g.id,
                    state: state.as_str(),
                    wait_reason: if state == GStatus::Waiting { g.wait_reason().as_str() } else { "" },
                    proc: (g.home() != UNBOUND).then(|| g.home() as usize),
                    name: g.name.as_deref().map(str::to_owned),
                }
            })
            .collect();
        all.sort_by_key(|g| g.id);
        all
    }

    pub(crate) fn stats(&self) -> SchedStats {
        let spawned = self.spawned.load(Relaxed);
        let completed = self.completed.load(Relaxed);
        SchedStats {
            procs: self.gomaxprocs(),
            goroutines: spawned.saturating_sub(completed),
            spawned,
            completed,
            global_queue: self.global_len(),
            idle_procs: self.idle.idle_count() as usize,
            spinning: self.idle.spinning_count() as usize,
            retakes: self.spares.retakes.load(Relaxed),
            spare_ms: self.spares.started.load(Relaxed) as usize,
            idle_spare_ms: self.spares.pooled() as usize,
            stack_inuse: self.stack_inuse.load(Relaxed),
            per_p: self.procs[..self.gomaxprocs()]
                .iter()
                .map(|p| ProcStats {
                    runs: p.counters.runs.load(Relaxed),
                    steals: p.counters.steals.load(Relaxed),
                    stolen: p.counters.stolen.load(Relaxed),
                    parks: p.counters.parks.load(Relaxed),
                    wakeups: p.counters.wakeups.load(Relaxed),
                    runq: p.runq.len() as usize + usize::from(p.lifo_is_full()),
                    timers: p.timers.next_deadline() != u64::MAX,
                    in_syscall: p.syscall().is_some(),
                })
                .collect(),
        }
    }
}
