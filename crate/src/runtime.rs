//! The public handle of one runtime: build it, start goroutines on it, read its statistics,
//! shut it down. `start` runs each M on a thread of the platform (`platform::thread`): a std
//! thread natively, a module Worker over the shared memory on the web. The JS facade starts
//! its own Workers instead (see `js`).

use crate::platform::thread;
use crate::sched::join::JoinHandle;
use crate::sched::Shared;
use crate::shim::Arc;
use std::future::Future;

/// Configures a runtime (Go's `GOMAXPROCS` is `procs`; `gc_percent` is `GOGC`).
pub struct Builder {
    procs: usize,
    gc: crate::gc::Config,
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
    pub per_p: Vec<ProcStats>,
    /// The garbage-collected heap.
    pub gc: crate::gc::GcStats,
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
}

impl Stats {
    pub fn steals(&self) -> u64 {
        self.per_p.iter().map(|p| p.steals).sum()
    }
}

impl Default for Builder {
    fn default() -> Self {
        Builder { procs: thread::available_parallelism(), gc: crate::gc::Config::default() }
    }
}

impl Builder {
    /// Number of Ps (and Ms). Clamped to 1..=64.
    pub fn procs(mut self, n: usize) -> Self {
        self.procs = n.clamp(1, crate::sched::idle::MAX_PROCS);
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

    /// Starts one thread per M: a std thread natively, a Worker on the web.
    ///
    /// On the web the calling thread must not be the page's main thread if it blocks on the
    /// runtime (`block_on`, `JoinHandle::wait`, `shutdown`), and a Worker that blocks right
    /// after `start` must first await `gort::thread::prestart(procs)`: a new Worker only
    /// starts while its creator returns to its event loop.
    pub fn start(self) -> Runtime {
        let shared = Shared::new(self.procs, self.gc);
        let threads = (0..self.procs)
            .map(|i| {
                let shared = shared.clone();
                // On the web its Worker has `platform::install_panic_hook`ed.
                thread::spawn_named(Some(format!("gort-m{i}")), move || {
                    crate::sched::m::Machine::new(shared, i).run(false);
                })
            })
            .collect();
        Runtime { shared, threads }
    }

    /// In the browser the Ms are Workers that the JS facade starts; this creates the shared
    /// state they enter.
    #[cfg(target_arch = "wasm32")]
    pub(crate) fn build_shared(self) -> Arc<Shared> {
        Shared::new(self.procs, self.gc)
    }
}

/// A running gort runtime. Dropping it shuts it down.
pub struct Runtime {
    shared: Arc<Shared>,
    threads: Vec<thread::JoinHandle<()>>,
}

impl Runtime {
    pub fn builder() -> Builder {
        Builder::default()
    }

    pub fn procs(&self) -> usize {
        self.shared.procs.len()
    }

    /// Starts a goroutine from outside the runtime.
    pub fn go<F>(&self, fut: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.shared.go(fut)
    }

    /// Runs `fut` as a goroutine and blocks this thread until it finishes.
    pub fn block_on<F>(&self, fut: F) -> Result<F::Output, crate::JoinError>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.go(fut).wait()
    }

    pub fn stats(&self) -> Stats {
        self.shared.stats()
    }

    /// A goroutine dump (Go's `runtime.Stack(buf, true)`, as data).
    pub fn goroutines(&self) -> Vec<GoroutineInfo> {
        self.shared.goroutines()
    }

    /// Declares that this thread (outside every goroutine) holds `chan` and may still use it
    /// (`try_send`, `close`): while the returned guard lives, goroutines blocked on the channel
    /// are not reported as deadlocked. The page's handles in the browser are held the same way.
    pub fn hold<T: Send + 'static>(&self, chan: &crate::chan::Chan<T>) -> OutsideHold {
        OutsideHold { key: self.shared.hold_outside(chan.inner.clone()), shared: self.shared.clone() }
    }

    /// Stops every M, joins their threads and drops every unfinished goroutine (their
    /// `JoinHandle`s report `JoinError::Cancelled`).
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        self.shared.begin_shutdown();
        for t in self.threads.drain(..) {
            t.join().expect("an M thread panicked");
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
