//! What the scheduler shows of itself: goroutine dumps (Go's tracebacks, with what a goroutine
//! has instead of a stack: its name, who started it and where) and counters. Every read here
//! is lock-free or takes only registry locks, so the page may call it; the numbers are a racy
//! snapshot, as Go's are.

use super::g::UNBOUND;
use super::gstatus::GStatus;
use super::shared::Shared;
use std::fmt::Write;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

/// What dumps call a goroutine that has no name (a JS goroutine made from an anonymous
/// function), and what they say started a goroutine that code outside every goroutine
/// started, when that code has no name either.
const ANONYMOUS: &str = "<anonymous>";
const OUTSIDE: &str = "a thread outside the runtime";

/// A goroutine dump in Go's format (`runtime/traceback.go`), a paragraph each:
/// ```text
/// goroutine 18 [chan receive, 2 minutes]:
/// worker(...)
/// created by main in goroutine 1
///         https://app.test/main.js:30:5
/// ```
/// (the location's line starts with a tab). The wait shows in whole minutes once it lasted one
/// (Go's rule); the function line is the goroutine's name; `created by` names the goroutine
/// that started it (or, for code outside every goroutine, that code: "the page"), with the
/// call's location under it when known.
pub(crate) fn dump_text(gs: &[GoroutineInfo]) -> String {
    gs.iter().map(goroutine_text).collect::<Vec<_>>().join("\n")
}

fn goroutine_text(g: &GoroutineInfo) -> String {
    let mut out = format!("goroutine {} [", g.id);
    out.push_str(if g.wait_reason.is_empty() { g.state } else { g.wait_reason });
    let minutes = g.waiting.as_secs() / 60;
    if minutes >= 1 {
        let _ = write!(out, ", {minutes} minutes");
    }
    let _ = writeln!(out, "]:\n{}(...)", g.name.as_deref().unwrap_or(ANONYMOUS));
    match (g.created_by, &g.created_by_name) {
        (0, name) => {
            let _ = writeln!(out, "created by {}", name.as_deref().unwrap_or(OUTSIDE));
        }
        (parent, name) => {
            let _ =
                writeln!(out, "created by {} in goroutine {parent}", name.as_deref().unwrap_or(ANONYMOUS));
        }
    }
    if let Some(at) = &g.created_at {
        let _ = writeln!(out, "\t{at}");
    }
    out
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
    /// Its name, if it has one: a JS goroutine's function or task name, a Rust goroutine's
    /// future's type name (without generic arguments).
    pub name: Option<String>,
    /// How long it has waited, if waiting.
    pub waiting: Duration,
    /// The goroutine that started it; 0 for code outside every goroutine.
    pub created_by: u64,
    /// That goroutine's name (or the outside code's, "the page"), if any.
    pub created_by_name: Option<String>,
    /// Where it was started, `file:line:column` (a JS goroutine's: the caller's `url:line:column`),
    /// if known.
    pub created_at: Option<String>,
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
        let now = super::timer::now();
        let mut all: Vec<_> = self
            .all_gs()
            .iter()
            .filter(|g| !g.system)
            .map(|g| {
                let state = g.state();
                let waiting = state == GStatus::Waiting;
                GoroutineInfo {
                    id: g.id,
                    state: state.as_str(),
                    wait_reason: if waiting { g.wait_reason().as_str() } else { "" },
                    proc: (g.home() != UNBOUND).then(|| g.home() as usize),
                    name: g.name.text().map(str::to_owned),
                    waiting: Duration::from_nanos(if waiting {
                        now.saturating_sub(g.waiting_since())
                    } else {
                        0
                    }),
                    created_by: g.origin.parent,
                    created_by_name: g.origin.parent_name.text().map(str::to_owned),
                    created_at: g.origin.site.text(),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn info(id: u64, waiting: Duration) -> GoroutineInfo {
        GoroutineInfo {
            id,
            state: "waiting",
            wait_reason: "chan receive",
            proc: None,
            name: Some("worker".into()),
            waiting,
            created_by: 1,
            created_by_name: Some("main".into()),
            created_at: Some("https://app.test/main.js:30:5".into()),
        }
    }

    #[test]
    fn a_dump_is_in_gos_format_with_the_wait_in_whole_minutes_from_one_on() {
        let text = |g: &GoroutineInfo| dump_text(std::slice::from_ref(g));
        assert_eq!(
            text(&info(18, Duration::from_secs(59))),
            "goroutine 18 [chan receive]:\nworker(...)\ncreated by main in goroutine 1\n\thttps://app.test/main.js:30:5\n"
        );
        // Go prints "minutes" whatever the number.
        assert!(
            text(&info(18, Duration::from_secs(60))).starts_with("goroutine 18 [chan receive, 1 minutes]:\n")
        );
        assert!(text(&info(18, Duration::from_secs(179)))
            .starts_with("goroutine 18 [chan receive, 2 minutes]:\n"));
        let running = GoroutineInfo { state: "running", wait_reason: "", ..info(2, Duration::ZERO) };
        assert!(text(&running).starts_with("goroutine 2 [running]:\n"));
        let outside = GoroutineInfo {
            name: None,
            created_by: 0,
            created_by_name: None,
            created_at: None,
            ..info(3, Duration::ZERO)
        };
        assert_eq!(
            text(&outside),
            "goroutine 3 [chan receive]:\n<anonymous>(...)\ncreated by a thread outside the runtime\n"
        );
        let page =
            GoroutineInfo { created_by: 0, created_by_name: Some("the page".into()), ..outside.clone() };
        assert_eq!(text(&page), "goroutine 3 [chan receive]:\n<anonymous>(...)\ncreated by the page\n");
        let anonymous_parent = GoroutineInfo { created_by_name: None, ..info(4, Duration::ZERO) };
        assert!(text(&anonymous_parent).contains("\ncreated by <anonymous> in goroutine 1\n"));
        // Paragraphs are separated by an empty line.
        assert_eq!(dump_text(&[page.clone(), page]).matches("\n\ngoroutine 3 [").count(), 1);
    }
}
