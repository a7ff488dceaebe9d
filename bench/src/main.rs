//! `gort-bench`: the anchor benchmark's workloads on gort, natively.
//!
//! ```text
//! gort-bench [--only=spawn,fib] [--rounds=N] [--stats] [--gctrace]
//! ```
//! Prints bench.go's lines: `meta.*`, `size.*`, then each selected workload's metrics for
//! every round (rounds ≥ 2 suffixed `@rN`), then `done`. The runtime has `GOMAXPROCS` Ps
//! (environment; default: the available parallelism), and each workload runs as one goroutine
//! inside `Runtime::block_on`. An unknown name exits with status 2. `--stats` adds the
//! scheduler's counters over each workload (`<workload>.runs|steals|parks|wakeups`) and the
//! workloads' explanatory figures (see `workloads`); `--gctrace` prints a Go-format line per
//! collection on stderr (Go's `GODEBUG=gctrace=1`). After the workloads with a speedup figure
//! (fib, gcparallel) it measures a control of the parallelism the machine offers at that
//! moment, as the page does: `<w>.control_speedup`, plain threads, 2 vs 1.

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    native::main()
}

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use gort_bench::clock::{ms, Stamp};
    use gort_bench::workloads::fib;
    use gort_bench::{preamble, round_suffix, Metric, Workload};
    use std::process::exit;

    const USAGE: &str = "usage: gort-bench [--only=W1,W2] [--rounds=N] [--stats] [--gctrace]";

    struct Options {
        only: Vec<String>,
        rounds: u32,
        stats: bool,
        gctrace: bool,
    }

    fn options() -> Options {
        let mut o = Options { only: Vec::new(), rounds: 1, stats: false, gctrace: false };
        for arg in std::env::args().skip(1) {
            // bench.go's flag package takes -only and --only alike.
            let a = arg.strip_prefix("--").or_else(|| arg.strip_prefix('-')).unwrap_or("");
            let (k, v) = a.split_once('=').unwrap_or((a, ""));
            match k {
                "only" => o.only = v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect(),
                "rounds" => match v.parse::<u32>() {
                    Ok(n) if n >= 1 => o.rounds = n,
                    _ => usage(&format!("--rounds wants a positive integer, got {v:?}")),
                },
                "stats" => o.stats = true,
                "gctrace" => o.gctrace = true,
                "h" | "help" => {
                    println!("{USAGE}");
                    exit(0);
                }
                _ => usage(&format!("unknown option {arg:?}")),
            }
        }
        if o.only.is_empty() {
            o.only = Workload::ALL.iter().map(|w| w.name().to_string()).collect();
        }
        o
    }

    fn usage(msg: &str) -> ! {
        eprintln!("{msg}\n{USAGE}");
        exit(2);
    }

    fn print(metrics: &[Metric], suffix: &str) {
        for m in metrics {
            println!("{}", m.json(suffix));
        }
    }

    fn procs_from_env() -> Option<usize> {
        let v = std::env::var("GOMAXPROCS").ok()?;
        match v.trim().parse::<usize>() {
            Ok(n) if n >= 1 => Some(n),
            _ => {
                eprintln!("gort-bench: ignoring GOMAXPROCS={v:?}");
                None
            }
        }
    }

    /// Workloads followed by a control of the parallelism available (module header).
    const CONTROLLED: [&str; 2] = ["fib", "gcparallel"];

    /// The page's control: 32 x fib(25) on one thread, then 16 + 16 on two; the time ratio.
    fn control_speedup() -> f64 {
        let work = |n: u32| (0..n).map(|_| fib(std::hint::black_box(25))).sum::<u64>();
        std::hint::black_box(work(32)); // warm-up
        let t = Stamp::now();
        std::hint::black_box(work(32));
        let seq = t.elapsed_ns();
        let t = Stamp::now();
        std::thread::scope(|s| {
            let other = s.spawn(|| std::hint::black_box(work(16)));
            std::hint::black_box(work(16));
            other.join().expect("the control thread panicked");
        });
        seq as f64 / t.elapsed_ns() as f64
    }

    /// Scheduler counters summed over the Ps.
    fn counters(rt: &gort::Runtime) -> [u64; 4] {
        let s = rt.stats();
        let sum = |f: fn(&gort::ProcStats) -> u64| s.per_p.iter().map(f).sum();
        [sum(|p| p.runs), sum(|p| p.steals), sum(|p| p.parks), sum(|p| p.wakeups)]
    }

    pub(crate) fn main() {
        let o = options();
        let mut selected = Vec::new();
        for name in &o.only {
            match Workload::lookup(name) {
                Some(w) => selected.push(w),
                None => {
                    eprintln!("unknown workload {name:?}");
                    exit(2);
                }
            }
        }

        let numcpu = std::thread::available_parallelism().map_or(1, |n| n.get());
        let procs = procs_from_env().unwrap_or(numcpu);
        let rt = gort::Runtime::builder().procs(procs).gctrace(o.gctrace).start();
        let platform = format!("{}/{}", std::env::consts::OS, std::env::consts::ARCH);
        print(&preamble(numcpu, rt.procs(), &platform), "");

        let all_start = Stamp::now();
        for round in 1..=o.rounds {
            let suffix = round_suffix(round);
            for &w in &selected {
                let before = counters(&rt);
                let metrics = match rt.block_on(w.run(o.stats)) {
                    Ok(m) => m,
                    Err(e) => {
                        eprintln!("gort-bench: {}: {e}", w.name());
                        exit(1);
                    }
                };
                print(&metrics, &suffix);
                if o.stats {
                    let after = counters(&rt);
                    let names = ["runs", "steals", "parks", "wakeups"];
                    let extra: Vec<Metric> = (0..4)
                        .map(|i| {
                            Metric::new(format!("{}.{}", w.name(), names[i]), (after[i] - before[i]) as f64, "count")
                        })
                        .collect();
                    print(&extra, &suffix);
                }
                if CONTROLLED.contains(&w.name()) {
                    let control = Metric::new(format!("{}.control_speedup", w.name()), control_speedup(), "x");
                    print(&[control], &suffix);
                }
            }
        }
        print(&[Metric::new("done", ms(all_start.elapsed_ns()), "ms")], "");
        rt.shutdown();
    }
}
