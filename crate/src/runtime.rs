//! The public handle of one runtime: build it, start goroutines on it, read its statistics,
//! shut it down. `start` runs each M on a thread of the platform (`platform::thread`): a std
//! thread natively, a module Worker over the shared memory on the web. The JS facade starts
//! its own Workers instead (see `js`).
//!
//! This is where the layers meet: `Builder::build` makes the collector's heap and hands it to
//! the scheduler as its hooks (`sched/hooks.rs`); the scheduler never names the collector.

use crate::gc::Heap;
use crate::platform::shim::Arc;
use crate::platform::thread;
use crate::sched::join::JoinHandle;
use crate::sched::{ProcStats, SchedStats, Shared};
use std::future::Future;

/// Configures a runtime (Go's `GOMAXPROCS` is `procs`; `gc_percent` is `GOGC`).
pub struct Builder {
    procs: usize,
    max_procs: usize,
    gc: crate::gc::Config,
}

/// A snapshot of the scheduler's counters.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    pub procs: usize,
    /// Live goroutines (started, not finished).
    pub goroutines: u64,
    pub spawned: u64,
    pub completed: u64,
    pub global_queue: usize,
    pub idle_procs: usize,
    pub spinning: usize,
    /// Ps retaken from an M in a long system call and handed to a spare M (Go's `retake`).
    pub retakes: u64,
    /// Spare Ms started (Workers on the web), and those idle in the pool.
    pub spare_ms: usize,
    pub idle_spare_ms: usize,
    /// Bytes of the live goroutines' own structures (G, boxed task, join cell, and what a JS
    /// goroutine's task captured): Go's `MemStats.StackInuse`, which grows with the number of
    /// goroutines. Not part of the GC heap.
    pub stack_inuse: usize,
    pub per_p: Vec<ProcStats>,
    /// The garbage-collected heap.
    pub gc: crate::gc::GcStats,
}

impl Stats {
    fn new(s: SchedStats, gc: crate::gc::GcStats) -> Stats {
        let SchedStats {
            procs,
            goroutines,
            spawned,
            completed,
            global_queue,
            idle_procs,
            spinning,
            retakes,
            spare_ms,
            idle_spare_ms,
            stack_inuse,
            per_p,
        } = s;
        Stats {
            procs,
            goroutines,
            spawned,
            completed,
            global_queue,
            idle_procs,
            spinning,
            retakes,
            spare_ms,
            idle_spare_ms,
            stack_inuse,
            per_p,
            gc,
        }
    }

    /// The scheduler in one line, as Go's `GODEBUG=schedtrace` prints it: `uptime` since the
    /// runtime started, then `gomaxprocs`, idle Ps, threads (Ms: the Ps' and the spares),
    /// spinning and idle Ms, the global queue's length and each P's.
    pub fn schedtrace(&self, uptime: std::time::Duration) -> String {
        let runqs: Vec<String> = self.per_p.iter().map(|p| p.runq.to_string()).collect();
        format!(
            "SCHED {}ms: gomaxprocs={} idleprocs={} threads={} spinningthreads={} idlethreads={} \
             syscallprocs={} retakes={} runqueue={} [{}]",
            uptime.as_millis(),
            self.procs,
            self.idle_procs,
            self.procs + self.spare_ms,
            self.spinning,
            self.idle_procs + self.idle_spare_ms,
            self.per_p.iter().filter(|p| p.in_syscall).count(),
            self.retakes,
            self.global_queue,
            runqs.join(" ")
        )
    }

    pub fn steals(&self) -> u64 {
        self.per_p.iter().map(|p| p.steals).sum()
    }
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            procs: thread::available_parallelism(),
            max_procs: crate::sched::idle::MAX_PROCS,
            gc: crate::gc::Config::default(),
        }
    }
}

impl Builder {
    /// Number of Ps (and Ms). Clamped to 1..=64.
    pub fn procs(mut self, n: usize) -> Self {
        self.procs = n.clamp(1, crate::sched::idle::MAX_PROCS);
        self
    }

    /// The most Ps [`Runtime::set_procs`] may set, at least `procs`. Clamped to 1..=64, the
    /// default. The structures kept per P are allocated for this many at start (a few KiB
    /// each); Ms are started only for Ps in use.
    pub fn max_procs(mut self, n: usize) -> Self {
        self.max_procs = n.clamp(1, crate::sched::idle::MAX_PROCS);
        self
    }

    /// GOGC: collect when the heap has grown by `percent`% over the live heap of the last
    /// collection (at least a 4 MiB goal). Negative: no automatic collection (only
    /// `gc::collect` and the heap limit's). Default 100.
    pub fn gc_percent(mut self, percent: i32) -> Self {
        self.gc.gc_percent = percent;
        self
    }

    /// A hard ceiling on the GC heap's pages in use: an allocation that would go past it fails
    /// with `gc::HeapLimitError`. Collections also start before the heap gets close to it.
    pub fn heap_limit(mut self, bytes: usize) -> Self {
        self.gc.heap_limit = bytes;
        self
    }

    /// Prints a line per collection in Go's gctrace format (stderr natively, the console of
    /// the Worker that ended the collection in the browser).
    pub fn gctrace(mut self, on: bool) -> Self {
        self.gc.trace = on;
        self
    }

    /// Overwrites freed objects with 0xDB bytes, so that a use after free reads garbage
    /// (Go's `GODEBUG=clobberfree=1`). A debugging aid: sweeping gets slower.
    pub fn gc_clobber_free(mut self, on: bool) -> Self {
        self.gc.clobber_free = on;
        self
    }

    /// Calls `hook` as each collection starts marking, with the world stopped.
    #[cfg(target_arch = "wasm32")]
    pub(crate) fn on_mark_start(mut self, hook: fn()) -> Self {
        self.gc.on_mark_start = Some(hook);
        self
    }

    /// Assembles the layers: the scheduler's shared state, with the heap as its hooks.
    /// Also makes an allocation failure a panic where one is caught (once per process,
    /// `platform::memory`): a goroutine whose allocation fails fails alone.
    pub(crate) fn build(self) -> Core {
        crate::platform::memory::install_oom_panic();
        let mut heap = None;
        let shared = Shared::new(self.procs, self.max_procs, |world| {
            let h = Arc::new(Heap::new(world.clone(), self.gc));
            heap = Some(h.clone());
            h
        });
        Core { shared, heap: heap.expect("Shared::new builds its hooks") }
    }

    /// Starts one thread per M: a std thread natively, a Worker on the web.
    ///
    /// On the web the calling thread must not be the page's main thread if it blocks on the
    /// runtime (`block_on`, `JoinHandle::wait`, `shutdown`), and a Worker that blocks right
    /// after `start` must first await `gort::thread::prestart(procs)`: a new Worker only
    /// starts while its creator returns to its event loop.
    pub fn start(self) -> Runtime {
        let procs = self.procs;
        let core = self.build();
        let threads = Arc::new(std::sync::Mutex::new(Vec::new()));
        let start_m = {
            let (shared, threads) = (Arc::downgrade(&core.shared), threads.clone());
            move |i: usize| {
                let Some(shared) = shared.upgrade() else { return };
                // On the web its Worker has `platform::install_panic_hook`ed.
                let t = thread::spawn_named(Some(format!("gort-m{i}")), move || {
                    crate::sched::m::M::new(shared, i).run(false);
                });
                threads.lock().unwrap().push(t);
            }
        };
        (0..procs).for_each(&start_m);
        core.shared.set_m_starter(Box::new(start_m));
        Runtime { core, threads }
    }
}

/// One runtime's layers: what its Ms share, and its heap (also the scheduler's hooks).
pub(crate) struct Core {
    pub(crate) shared: Arc<Shared>,
    pub(crate) heap: Arc<Heap>,
}

impl Core {
    pub(crate) fn stats(&self) -> Stats {
        Stats::new(self.shared.stats(), crate::gc::stats_of(&self.heap))
    }
}

/// A running gort runtime. Dropping it shuts it down.
pub struct Runtime {
    core: Core,
    /// The Ms' threads, spares started later included.
    threads: Arc<std::sync::Mutex<Vec<thread::JoinHandle<()>>>>,
}

impl Runtime {
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// The number of Ps (Go's `runtime.GOMAXPROCS(0)`).
    pub fn procs(&self) -> usize {
        self.core.shared.gomaxprocs()
    }

    /// Changes the number of Ps to `n` (Go's `runtime.GOMAXPROCS(n)`), with the world stopped
    /// (`sched/procresize.rs`), and returns the number before. Blocks this thread until the
    /// change is made (so, like [`Runtime::block_on`], not from a goroutine: use
    /// [`crate::set_procs`] there). New Ps get new M threads; the Ms of removed Ps stay, idle,
    /// and come back if the Ps do.
    pub fn set_procs(&self, n: usize) -> Result<usize, crate::ProcsError> {
        self.core.shared.request_procs(n)?.wait()
    }

    /// Starts a goroutine from outside the runtime.
    #[track_caller]
    pub fn go<F>(&self, fut: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.core.shared.go(fut)
    }

    /// Runs `fut` as a goroutine and blocks this thread until it finishes.
    #[track_caller]
    pub fn block_on<F>(&self, fut: F) -> Result<F::Output, crate::JoinError>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.go(fut).wait()
    }

    pub fn stats(&self) -> Stats {
        self.core.stats()
    }

    /// A goroutine dump (Go's `runtime.Stack(buf, true)`, as data).
    pub fn goroutines(&self) -> Vec<crate::GoroutineInfo> {
        self.core.shared.goroutines()
    }

    /// Declares that this thread (outside every goroutine) holds `chan` and may still use it
    /// (`try_send`, `close`): while the returned guard lives, goroutines blocked on the channel
    /// are not reported as deadlocked. The page's handles in the browser are held the same way.
    pub fn hold<T: Send + 'static>(&self, chan: &crate::chan::Chan<T>) -> OutsideHold {
        OutsideHold {
            key: self.core.shared.hold_outside(chan.inner.clone()),
            shared: self.core.shared.clone(),
        }
    }

    /// Stops every M, joins their threads and drops every unfinished goroutine (their
    /// `JoinHandle`s report `JoinError::Cancelled`).
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        self.core.shared.begin_shutdown();
        loop {
            let threads = std::mem::take(&mut *self.threads.lock().unwrap());
            if threads.is_empty() {
                break;
            }
            for t in threads {
                t.join().expect("an M thread panicked");
            }
        }
    }
}

/// A channel held outside the runtime (see [`Runtime::hold`]); dropping it releases the hold.
pub struct OutsideHold {
    shared: Arc<Shared>,
    key: usize,
}

impl Drop for OutsideHold {
    fn drop(&mut self) {
        self.shared.release_outside(self.key);
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.stop();
    }
}
