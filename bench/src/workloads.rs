//! The workloads of the Go anchor benchmark (`bench.go`), written over gort's public Rust API.
//!
//! Each runs as one goroutine (bench.go's `main`) and returns its figures with bench.go's
//! names and units; the caller adds the round suffix. Problem sizes are bench.go's constants.
//! The same code runs natively (inside `Runtime::block_on`) and in the browser (a goroutine
//! started from the page, `crate::web`).

use crate::chan_workloads as cw;
use crate::clock::{ms, Stamp};
use crate::metric::Metric;
use crate::trees;
use gort::chan::chan;
use gort::sync::WaitGroup;
use std::hint::black_box;
use std::time::Duration;

// ---- problem sizes (bench.go's constants) ----
/// Goroutines spawned.
pub const SPAWN_N: usize = 100_000;
/// Goroutines in fib.
pub const FIB_GOROUTINES: usize = 32;
/// Each computes fib(FIB_N) recursively.
pub const FIB_N: u32 = 25;
/// fib(25).
pub const FIB_EXPECTED: u64 = 75_025;
/// Sequential 1 ms sleeps in sleep1.
pub const SLEEP1_N: u32 = 100;

/// bench.go's workloads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Workload {
    Spawn,
    Pingpong,
    Fib,
    Pipeline,
    Select,
    Timers,
    Sleep1,
    Gc,
    GcParallel,
}

impl Workload {
    /// In bench.go's fixed order (`workloadsOrder`).
    pub const ALL: [Workload; 9] = [
        Workload::Spawn,
        Workload::Pingpong,
        Workload::Fib,
        Workload::Pipeline,
        Workload::Select,
        Workload::Timers,
        Workload::Sleep1,
        Workload::Gc,
        Workload::GcParallel,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Workload::Spawn => "spawn",
            Workload::Pingpong => "pingpong",
            Workload::Fib => "fib",
            Workload::Pipeline => "pipeline",
            Workload::Select => "select",
            Workload::Timers => "timers",
            Workload::Sleep1 => "sleep1",
            Workload::Gc => "gc",
            Workload::GcParallel => "gcparallel",
        }
    }

    /// The workload of that name, if bench.go has one.
    pub fn lookup(name: &str) -> Option<Workload> {
        Workload::ALL.into_iter().find(|w| w.name() == name)
    }

    /// bench.go's `size.*` lines for this workload.
    pub fn sizes(self) -> Vec<Metric> {
        match self {
            Workload::Spawn => vec![Metric::new("size.spawn", SPAWN_N as f64, "goroutines")],
            Workload::Pingpong => vec![Metric::new("size.pingpong", cw::PINGPONG_N as f64, "roundtrips")],
            Workload::Pipeline => vec![
                Metric::new("size.pipeline", cw::PIPELINE_N as f64, "items"),
                Metric::new("size.pipeline_workers", cw::PIPELINE_W as f64, "goroutines"),
                Metric::new("size.pipeline_cap", cw::PIPELINE_CAP as f64, "slots"),
            ],
            Workload::Select => vec![Metric::new("size.select", cw::SELECT_N as f64, "msgs")],
            Workload::Timers => vec![Metric::new("size.timers", cw::TIMERS_N as f64, "goroutines")],
            Workload::Fib => vec![
                Metric::new("size.fib_goroutines", FIB_GOROUTINES as f64, "goroutines"),
                Metric::new("size.fib_n", FIB_N as f64, "n"),
            ],
            Workload::Sleep1 => vec![Metric::new("size.sleep1", SLEEP1_N as f64, "sleeps")],
            // bench.go prints the depths once; gcparallel uses gc's.
            Workload::Gc => vec![
                Metric::new("size.trees_max_depth", trees::MAX_DEPTH as f64, "depth"),
                Metric::new("size.trees_min_depth", trees::MIN_DEPTH as f64, "depth"),
            ],
            Workload::GcParallel => Vec::new(),
        }
    }

    /// Runs the workload; must be awaited inside a goroutine. Panics if a result is wrong.
    /// `diag` adds figures that explain the main ones (named `<workload>.<what>`, not in
    /// bench.go), measured without changing what is timed.
    pub async fn run(self, diag: bool) -> Vec<Metric> {
        match self {
            Workload::Spawn => spawn(diag).await,
            Workload::Pingpong => cw::pingpong().await,
            Workload::Pipeline => cw::pipeline().await,
            Workload::Select => cw::select().await,
            Workload::Timers => cw::timers().await,
            Workload::Fib => fib_par_seq(diag).await,
            Workload::Sleep1 => sleep1(diag).await,
            Workload::Gc => trees::binary_trees(trees::Depths::ANCHOR, diag).await,
            Workload::GcParallel => trees::binary_trees_parallel(trees::Depths::ANCHOR, diag).await,
        }
    }
}

// ---------------------------------------------------------------- spawn

/// Spawns SPAWN_N goroutines that each call `wg.done()` on one `gort::sync::WaitGroup`, after
/// `wg.add(SPAWN_N)`; waits for all (bench.go's code, line for line). The `JoinHandle`s are
/// dropped at once: Go's `go f()` has none.
/// `spawn` = ns per goroutine (wall / SPAWN_N), `spawn.wall` ms.
/// diag: `spawn.loop_wall` ms until the spawning loop returned (the rest is waiting for the
/// last goroutines to run).
async fn spawn(diag: bool) -> Vec<Metric> {
    let wg = WaitGroup::new();
    let start = Stamp::now();
    wg.add(SPAWN_N as i64).expect("wg.add");
    for _ in 0..SPAWN_N {
        let wg = wg.clone();
        drop(gort::go(async move { wg.done().expect("wg.done") }));
    }
    let looped = Stamp::now();
    wg.wait().await;
    let el = start.elapsed_ns();
    let mut out =
        vec![Metric::new("spawn", el as f64 / SPAWN_N as f64, "ns/goroutine"), Metric::new("spawn.wall", ms(el), "ms")];
    if diag {
        out.push(Metric::new("spawn.loop_wall", ms(looped.since(start)), "ms"));
        out.push(Metric::new("spawn.notify_ns", notify_ns(), "ns"));
    }
    out
}

/// The cost of waking a futex word that nobody waits on (gort's `JoinCell::complete` wakes its
/// state word once per finished goroutine), measured on this thread after the timing:
/// `memory.atomic.notify` in wasm, a `FUTEX_WAKE` system call natively.
fn notify_ns() -> f64 {
    let word = std::sync::atomic::AtomicU32::new(0);
    let n = 20_000;
    let t = Stamp::now();
    for _ in 0..n {
        wake_all(&word);
    }
    t.elapsed_ns() as f64 / n as f64
}

#[cfg(target_arch = "wasm32")]
fn wake_all(word: &std::sync::atomic::AtomicU32) {
    // SAFETY: notify only uses the address of the live, aligned word as a key.
    unsafe {
        core::arch::wasm32::memory_atomic_notify(word.as_ptr() as *mut i32, u32::MAX);
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn wake_all(word: &std::sync::atomic::AtomicU32) {
    // SAFETY: FUTEX_WAKE only uses the address as a key.
    unsafe {
        libc::syscall(libc::SYS_futex, word.as_ptr(), libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG, i32::MAX);
    }
}

// ---------------------------------------------------------------- fib

/// bench.go's `fib`. Pure, so the argument goes through `black_box` at every call site that
/// would otherwise let the compiler fold or hoist it; never inlined, so that the parallel and
/// the sequential runs execute the same code.
#[inline(never)]
pub fn fib(n: u32) -> u64 {
    if n < 2 {
        n as u64
    } else {
        fib(n - 1) + fib(n - 2)
    }
}

/// FIB_GOROUTINES goroutines each send fib(FIB_N) on one unbuffered channel; the spawner sums
/// FIB_GOROUTINES receives. Then the spawner computes fib(FIB_N) FIB_GOROUTINES times itself.
/// `fib.par_wall`, `fib.seq_wall` ms, `fib.speedup` = seq / par.
///
/// diag: `fib.busiest_p` goroutines run by the P that ran most of them (16 when even),
/// `fib.other_p_start` ms from the start until a P other than the spawner's began one, and
/// `fib.p_end_gap` ms between the Ps' last goroutine ends (a tail where a P idles).
async fn fib_par_seq(diag: bool) -> Vec<Metric> {
    let start = Stamp::now();
    let res = chan(0);
    for _ in 0..FIB_GOROUTINES {
        let res = res.clone();
        drop(gort::go(async move {
            let t0 = diag.then(Stamp::now);
            let v = fib(black_box(FIB_N));
            let trace = t0.map(|t0| (gort::procid().unwrap_or(0), t0, Stamp::now()));
            assert!(res.send((v, trace)).await.is_ok(), "fib: the result channel closed");
        }));
    }
    let mut sum = 0;
    let mut trace = Vec::new();
    for _ in 0..FIB_GOROUTINES {
        let (v, t) = res.recv().await.expect("fib: the result channel closed");
        sum += v;
        trace.extend(t);
    }
    let par = start.elapsed_ns();
    let home = gort::procid().unwrap_or(0);

    let start_seq = Stamp::now();
    let mut sum2 = 0;
    for _ in 0..FIB_GOROUTINES {
        sum2 += fib(black_box(FIB_N));
    }
    let seq = start_seq.elapsed_ns();
    assert!(sum == FIB_GOROUTINES as u64 * FIB_EXPECTED && sum2 == sum, "fib: bad sum");
    let mut out = vec![
        Metric::new("fib.par_wall", ms(par), "ms"),
        Metric::new("fib.seq_wall", ms(seq), "ms"),
        Metric::new("fib.speedup", ms(seq) / ms(par), "x"),
    ];
    if diag {
        let mut per_p = std::collections::BTreeMap::<usize, (usize, Stamp)>::new();
        for &(p, _, end) in &trace {
            let e = per_p.entry(p).or_insert((0, end));
            e.0 += 1;
            e.1 = e.1.max(end);
        }
        let busiest = per_p.values().map(|e| e.0).max().unwrap_or(0);
        let other_start = trace.iter().filter(|t| t.0 != home).map(|t| t.1.since(start)).min();
        let ends: Vec<Stamp> = per_p.values().map(|e| e.1).collect();
        let gap = match (ends.iter().min(), ends.iter().max()) {
            (Some(a), Some(b)) if ends.len() > 1 => ms(b.since(*a)),
            _ => f64::NAN,
        };
        out.push(Metric::new("fib.busiest_p", busiest as f64, "goroutines"));
        out.push(Metric::new("fib.other_p_start", other_start.map_or(f64::NAN, ms), "ms"));
        out.push(Metric::new("fib.p_end_gap", gap, "ms"));
    }
    out
}

// ---------------------------------------------------------------- sleep1

/// One goroutine sleeps 1 ms SLEEP1_N times in a row (nothing else runnable).
/// `sleep1.mean` ms/sleep, `sleep1.late_mean` ms (mean - 1 ms).
///
/// diag: the single sleeps' durations, `sleep1.min|p50|p90|max` ms (one clock reading per
/// sleep, taken anyway by the loop's timing).
async fn sleep1(diag: bool) -> Vec<Metric> {
    let start = Stamp::now();
    let mut each = Vec::with_capacity(if diag { SLEEP1_N as usize } else { 0 });
    let mut last = start;
    for _ in 0..SLEEP1_N {
        gort::time::sleep(Duration::from_millis(1)).await;
        if diag {
            let now = Stamp::now();
            each.push(now.since(last));
            last = now;
        }
    }
    let el = start.elapsed_ns();
    let mean = ms(el) / SLEEP1_N as f64;
    let mut out = vec![Metric::new("sleep1.mean", mean, "ms/sleep"), Metric::new("sleep1.late_mean", mean - 1.0, "ms")];
    if diag {
        each.sort_unstable();
        let at = |q: usize| ms(each[(each.len() - 1) * q / 100]);
        out.push(Metric::new("sleep1.min", at(0), "ms"));
        out.push(Metric::new("sleep1.p50", at(50), "ms"));
        out.push(Metric::new("sleep1.p90", at(90), "ms"));
        out.push(Metric::new("sleep1.max", at(100), "ms"));
    }
    out
}
