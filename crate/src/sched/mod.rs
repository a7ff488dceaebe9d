//! The scheduler: goroutines (G) multiplexed onto Ms (threads; Web Workers in the browser),
//! each holding one P (a run queue, a LIFO slot and a timer heap), with work stealing.
//!
//! # Design
//! The model is Go's `proc.go`; the differences come from the platform:
//! * **Ms own their P for life.** Ms are Workers created once at start-up, and a goroutine
//!   never blocks its M in a system call (a JS goroutine that awaits returns to the M), so
//!   there is no P hand-off: an idle P is a parked M (`idle.rs`).
//! * **Goroutines are futures.** A G is a heap task holding a pinned boxed future; `gopark` is
//!   returning `Pending` and `goready` is waking its `Waker` (`g.rs`).
//! * **Threads outside the runtime never block.** The page's main thread submits goroutines
//!   and wakes them through lock-free inboxes (`inbox.rs`) and futex notifies only.
//!
//! # Where a runnable G goes
//! 1. A G made runnable by code running on an M of this runtime goes into that M's P's LIFO
//!    slot (message-passing locality; Go's `runnext`); the G it displaces goes to the tail of
//!    the P's ring, and a full ring moves half of itself to the global queue (`runq.rs`).
//! 2. A G made runnable from outside any M goes to the global inbox, drained into the global
//!    queue by Ms.
//! 3. A G bound to an M (a JS goroutine) goes to that M's bound inbox.
//! 4. A G woken during its own poll (or yielding) is requeued at the tail of the ring, never
//!    into the LIFO slot, so that yielding really lets others run. If the ring is empty but
//!    the global queue is not, it goes to the tail of the global queue instead, as Go's
//!    `Gosched` does: at the ring's tail it would run again at once, and the goroutines
//!    waiting in the global queue would get in only one per 61 schedules.
//! 5. A G woken by an expired timer that its M fires goes to that M's list of timer wake-ups,
//!    run after the LIFO slot and before the ring (`collect_timer_wakes`). The list holds a
//!    few at most (`TIMER_WOKEN_MAX`): no other M can take from it, so the timers due beyond
//!    stay in their heap, where another M can fire them.
//!
//! A new goroutine always asks for an idle M to be woken (`Idle::wake_one`), as Go's `newproc`
//! does. A woken existing goroutine asks only when it displaced another G into a ring that
//! already held one: the current M runs the LIFO slot next, so waking a thief for it would
//! only make the two Ms fight over a ping-pong pair (tokio makes the same choice), and a
//! single displaced G runs right after it. A thief for that one would split a few goroutines
//! that talk to each other (a select and its two producers) over two Ms, where every hand-off
//! back costs a cross-thread wake-up (µs in the browser); from two waiting Gs on, there is
//! work to share. Should the LIFO G's poll run long, an idle M still takes the displaced one:
//! while other Ms run, idle Ms park for at most a millisecond and take from a ring that has not
//! moved meanwhile (`Machine::take_stuck`), so two CPU-bound goroutines still share the cores.
//!
//! # Finding work (`m.rs`, Go's `findRunnable`)
//! bound inbox → every 61st tick the global queue → own expired timers, and other Ps' timers
//! overdue by more than 1 ms (`check_timers`) → LIFO slot (at most 3 in a row while others
//! wait on the P) → goroutines woken by timers this M fired → own ring → global queue (a
//! batch) → steal from other Ps in random order (half a ring; their LIFO slot on the last
//! pass; their expired timers) → spin briefly → park until the earliest timer of any P.

pub(crate) mod coop;
pub(crate) mod g;
pub(crate) mod gstatus;
pub(crate) mod idle;
pub(crate) mod inbox;
pub(crate) mod join;
pub(crate) mod lock;
pub(crate) mod m;
pub(crate) mod runq;
pub(crate) mod shutdown;
pub(crate) mod timer;

use crate::shim::{Arc, AtomicU64, AtomicUsize};
use g::{Task, G, UNBOUND};
use gstatus::GStatus;
use idle::Idle;
use inbox::Inbox;
use join::{Goroutine, JoinCell, JoinHandle};
use runq::RunQueue;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};
use std::sync::atomic::{AtomicBool, AtomicIsize};
use std::sync::Mutex;
use std::task::{Context, Poll};
use timer::Timers;

pub(crate) type GRef = Arc<G>;

enum Placed {
    Bound,
    Lifo { crowded: bool },
    Global,
}

/// Why a goroutine waits, in Go's words where Go has them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum WaitReason {
    None = 0,
    Sleep,
    Join,
    Yield,
    Promise,
    ChanSend,
    ChanRecv,
    ChanSendNil,
    ChanRecvNil,
    Select,
    SelectNoCases,
    WaitGroupWait,
    MutexLock,
    Semacquire,
}

impl WaitReason {
    fn from_u8(v: u8) -> Self {
        match v {
            1 => WaitReason::Sleep,
            2 => WaitReason::Join,
            3 => WaitReason::Yield,
            4 => WaitReason::Promise,
            5 => WaitReason::ChanSend,
            6 => WaitReason::ChanRecv,
            7 => WaitReason::ChanSendNil,
            8 => WaitReason::ChanRecvNil,
            9 => WaitReason::Select,
            10 => WaitReason::SelectNoCases,
            11 => WaitReason::WaitGroupWait,
            12 => WaitReason::MutexLock,
            13 => WaitReason::Semacquire,
            _ => WaitReason::None,
        }
    }

    /// Whether a goroutine waiting for this reason can only be woken through a runtime object.
    fn is_on_runtime_object(self) -> bool {
        !matches!(self, WaitReason::None | WaitReason::Sleep | WaitReason::Yield | WaitReason::Promise)
    }

    /// The reason as a goroutine dump prints it.
    pub fn as_str(self) -> &'static str {
        match self {
            WaitReason::None => "",
            WaitReason::Sleep => "sleep",
            WaitReason::Join => "goroutine join",
            WaitReason::Yield => "yield",
            WaitReason::Promise => "JS promise",
            WaitReason::ChanSend => "chan send",
            WaitReason::ChanRecv => "chan receive",
            WaitReason::ChanSendNil => "chan send (nil chan)",
            WaitReason::ChanRecvNil => "chan receive (nil chan)",
            WaitReason::Select => "select",
            WaitReason::SelectNoCases => "select (no cases)",
            WaitReason::WaitGroupWait => "sync.WaitGroup.Wait",
            WaitReason::MutexLock => "sync.Mutex.Lock",
            WaitReason::Semacquire => "semacquire",
        }
    }
}

/// Per-P counters, read by `stats()` without locks. `runs` lags: its M adds its polls in
/// batches (`m::RUNS_BATCH`), and whenever a goroutine finishes on it or it parks.
#[derive(Default)]
pub(crate) struct Counters {
    pub(crate) runs: AtomicU64,
    pub(crate) steals: AtomicU64,
    pub(crate) stolen: AtomicU64,
    pub(crate) parks: AtomicU64,
    pub(crate) wakeups: AtomicU64,
}

/// A P: the scheduling resources one M works with.
pub(crate) struct P {
    pub(crate) runq: RunQueue<G>,
    pub(crate) lifo: std::sync::atomic::AtomicPtr<G>,
    pub(crate) timers: Timers,
    pub(crate) counters: Counters,
    /// Every live G registered on this P, for shutdown and goroutine dumps, and finished ones
    /// not yet swept (see `Slab`).
    registry: Mutex<Slab>,
    /// Gs registered here that finished since the last sweep. Bumped by whichever M finished
    /// one, without the lock; a sweep may find a G before its finisher has bumped this, so it
    /// can be negative for a moment.
    finished: AtomicIsize,
    /// (gc) This P's allocation cache (Go's `p.mcache`).
    pub(crate) gc: crate::gc::Cache,
}

/// The registry of one P. Only the M of that P adds to it; a G that finishes (on any M) is
/// not removed then, which would make Ms take each other's registry locks for every goroutine
/// that ends, but swept later by the owner: when it needs a slot and finished Gs fill at least
/// half of the slots, or before it parks. Each sweep visits at most twice as many slots as it
/// frees (amortized O(1) per goroutine), and the slots stay fewer than about twice the most
/// goroutines ever alive at once. Readers skip finished Gs (`Shared::all_gs`).
#[derive(Default)]
struct Slab {
    slots: Vec<Option<GRef>>,
    free: Vec<u32>,
}

impl Slab {
    fn insert(&mut self, g: GRef) -> u32 {
        match self.free.pop() {
            Some(s) => {
                self.slots[s as usize] = Some(g);
                s
            }
            None => {
                self.slots.push(Some(g));
                (self.slots.len() - 1) as u32
            }
        }
    }

    /// Frees the slots of finished Gs; returns how many.
    fn sweep(&mut self) -> usize {
        let mut n = 0;
        for (i, slot) in self.slots.iter_mut().enumerate() {
            if slot.as_ref().is_some_and(|g| g.state() == GStatus::Dead) {
                *slot = None;
                self.free.push(i as u32);
                n += 1;
            }
        }
        n
    }
}

impl P {
    fn new() -> Self {
        P {
            runq: RunQueue::new(),
            lifo: std::sync::atomic::AtomicPtr::new(std::ptr::null_mut()),
            timers: Timers::new(),
            counters: Counters::default(),
            registry: Mutex::new(Slab::default()),
            finished: AtomicIsize::new(0),
            gc: crate::gc::Cache::new(),
        }
    }

    /// Sweeps `slab` (this P's registry, locked) when finished Gs fill at least half of its
    /// slots: a sweep visits every slot, so it must free that many to pay for itself.
    fn sweep_if_due(&self, slab: &mut Slab) {
        let finished = self.finished.load(Relaxed);
        if finished > 0 && finished * 2 >= slab.slots.len() as isize {
            let n = slab.sweep();
            self.finished.fetch_sub(n as isize, Relaxed);
        }
    }

    /// Takes the LIFO slot.
    pub(crate) fn lifo_take(&self) -> Option<GRef> {
        let p = self.lifo.swap(std::ptr::null_mut(), AcqRel);
        // SAFETY: a non-null slot holds a pointer from Arc::into_raw; the swap took ownership.
        (!p.is_null()).then(|| unsafe { Arc::from_raw(p) })
    }

    /// Puts `g` in the LIFO slot and returns the G it displaced.
    fn lifo_put(&self, g: GRef) -> Option<GRef> {
        let p = self.lifo.swap(Arc::into_raw(g) as *mut G, AcqRel);
        // SAFETY: as in `lifo_take`.
        (!p.is_null()).then(|| unsafe { Arc::from_raw(p) })
    }

    pub(crate) fn has_work(&self) -> bool {
        !self.runq.is_empty() || !self.lifo.load(Acquire).is_null()
    }
}

/// An object the page holds: its address, how many handles, the object.
type HeldOutside = (usize, usize, Arc<dyn Held>);

/// The state every M of one runtime shares.
pub(crate) struct Shared {
    pub(crate) procs: Box<[P]>,
    pub(crate) idle: Idle,
    /// The global run queue (Go's `sched.runq`); Ms only.
    global: Mutex<VecDeque<GRef>>,
    global_len: AtomicUsize,
    /// Goroutines submitted, or woken, from outside any M.
    inbox: Inbox<G>,
    /// Per M: wake-ups of the goroutines bound to it.
    pub(crate) bound: Box<[Inbox<G>]>,
    pub(crate) shutdown: AtomicBool,
    /// Ms that have not yet exited after shutdown; the last one out drops what is left.
    pub(crate) running_ms: AtomicUsize,
    next_goid: AtomicU64,
    pub(crate) spawned: AtomicU64,
    pub(crate) completed: AtomicU64,
    /// Runtime objects the page's JS holds, by address, with how many handles it holds: a
    /// goroutine blocked on one of them may still be woken from outside (`check_dead`).
    held_outside: lock::Lock<Vec<HeldOutside>>,
    /// Identifies the set of goroutines in the last deadlock report: one report per set.
    deadlock_epoch: AtomicU64,
    /// The last deadlock report, for the page to pick up (`take_deadlock_report`).
    deadlock_report: std::sync::atomic::AtomicPtr<String>,
    /// Bumped and notified at each deadlock report; the page waits on it.
    pub(crate) events: std::sync::atomic::AtomicU32,
    /// (gc) The garbage-collected heap of this runtime.
    pub(crate) heap: crate::gc::Heap,
}

thread_local! {
    /// The M this thread is, if it is one.
    static CURRENT_M: RefCell<Option<(Arc<Shared>, usize)>> = const { RefCell::new(None) };
    /// CURRENT_M's runtime (or null) and P, without the reference: thread-locals with no
    /// destructor are plain loads, the hot paths' way to it. Valid while CURRENT_M holds it.
    static HERE: Cell<(*const Shared, usize)> = const { Cell::new((std::ptr::null(), 0)) };
    /// The goroutine being polled on this thread.
    static CURRENT_G: Cell<*const G> = const { Cell::new(std::ptr::null()) };
    /// Why the goroutine being polled on this thread waits, as set during this poll.
    static POLL_REASON: Cell<WaitReason> = const { Cell::new(WaitReason::None) };
    /// Goroutines bound to this M that are alive (started, not finished).
    static BOUND_LIVE: Cell<usize> = const { Cell::new(0) };
    /// The JS goroutines bound to this M, by id.
    static BOUND_HERE: RefCell<std::collections::HashMap<u64, std::sync::Weak<G>>> =
        RefCell::new(std::collections::HashMap::new());
}

pub(crate) fn bind_here(g: &GRef) {
    BOUND_HERE.with(|b| b.borrow_mut().insert(g.id, Arc::downgrade(g)));
}

/// A goroutine bound to this M, by id.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
pub(crate) fn bound_here(goid: u64) -> Option<GRef> {
    BOUND_HERE.with(|b| b.borrow().get(&goid).and_then(std::sync::Weak::upgrade))
}

/// The wait reason the goroutine being polled on this thread has set in this poll.
pub(crate) fn current_wait_reason() -> WaitReason {
    POLL_REASON.with(Cell::get)
}

/// A goroutine's poll begins on this thread: it has given no reason to wait yet.
pub(crate) fn begin_poll_reason() {
    POLL_REASON.with(|r| r.set(WaitReason::None));
}

pub(crate) fn set_current_m(m: Option<(Arc<Shared>, usize)>) {
    HERE.with(|h| h.set(m.as_ref().map_or((std::ptr::null(), 0), |(s, i)| (Arc::as_ptr(s), *i))));
    CURRENT_M.with(|c| *c.borrow_mut() = m);
}

/// Calls `f` with the runtime and the P of this thread, if it is an M (through `HERE`: a
/// plain load, on every allocation's path).
pub(crate) fn current_m<R>(f: impl FnOnce(&Shared, usize) -> R) -> Option<R> {
    let (here, m) = HERE.with(Cell::get);
    // SAFETY: `HERE` names a runtime only while CURRENT_M holds a reference to it, which this
    // thread drops only in `set_current_m`, called as its M starts and exits, never under `f`.
    (!here.is_null()).then(|| f(unsafe { &*here }, m))
}

pub(crate) fn with_current_p<R>(f: impl FnOnce(&P) -> R) -> Option<R> {
    current_m(|s, i| f(&s.procs[i]))
}

pub(crate) fn set_current_g(g: *const G) {
    CURRENT_G.with(|c| c.set(g));
}

/// Says why the goroutine being polled on this thread will wait if this poll returns
/// `Pending`; its G publishes it as the poll ends (`G::poll`).
pub(crate) fn set_wait_reason(r: WaitReason) {
    POLL_REASON.with(|c| c.set(r));
}

pub(crate) fn bound_count_add(d: isize) {
    BOUND_LIVE.with(|b| b.set(b.get().wrapping_add_signed(d)));
}

pub(crate) fn bound_live() -> usize {
    BOUND_LIVE.with(Cell::get)
}

thread_local! {
    /// While an M fires expired timers, the goroutines they wake are collected here instead of
    /// going through the LIFO slot into the ring (see `collect_timer_wakes`).
    static TIMER_WAKES: RefCell<Option<Vec<GRef>>> = const { RefCell::new(None) };
    /// Whether TIMER_WAKES is collecting (a destructor-free flag, cheap to test on every wake).
    static COLLECTING_TIMER_WAKES: Cell<bool> = const { Cell::new(false) };
}

/// Runs `fire` (which fires expired timers) and returns the goroutines it woke, for the M to
/// run before its ring: a sleeper whose time has come would otherwise queue behind every
/// goroutine made runnable before it, which with thousands of new goroutines is milliseconds
/// late (Go's own wasm port shows p99 lateness of 36–78 ms for that reason).
pub(crate) fn collect_timer_wakes(fire: impl FnOnce()) -> Vec<GRef> {
    TIMER_WAKES.with(|t| *t.borrow_mut() = Some(Vec::new()));
    COLLECTING_TIMER_WAKES.with(|c| c.set(true));
    fire();
    COLLECTING_TIMER_WAKES.with(|c| c.set(false));
    TIMER_WAKES.with(|t| t.borrow_mut().take()).unwrap_or_default()
}

/// Whether this thread may block in a futex wait: natively every thread; in the browser only
/// Ms (Workers), never the page's main thread.
pub(crate) fn thread_may_wait() -> bool {
    cfg!(not(target_arch = "wasm32")) || current_m(|_, _| ()).is_some()
}

/// The runtime this thread is an M of.
pub(crate) fn current_shared() -> Option<Arc<Shared>> {
    CURRENT_M.with(|c| c.borrow().as_ref().map(|(s, _)| s.clone()))
}

/// Makes this thread's M look at its queues again even if it is parked.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
pub(crate) fn unpark_current_m() {
    current_m(|s, i| s.idle.parkers[i].unpark());
}

/// The id of the goroutine running on this thread, or 0 outside any goroutine.
pub fn goid() -> u64 {
    // SAFETY: as in `set_wait_reason`.
    CURRENT_G.with(|c| unsafe { c.get().as_ref() }.map_or(0, |g| g.id))
}

/// The index of the P this thread runs goroutines for, if it is an M.
pub fn procid() -> Option<usize> {
    current_m(|_, i| i)
}

/// Starts a goroutine on the runtime of the current goroutine (Go's `go` statement).
///
/// # Panics
/// Outside a goroutine; use [`crate::Runtime::go`] there.
pub fn go<F>(fut: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let shared = current_shared().expect("gort::go called outside a goroutine; use Runtime::go");
    shared.go(fut)
}

/// Yields the processor, letting other goroutines run (Go's `runtime.Gosched`).
pub fn gosched() -> Gosched {
    Gosched { yielded: false }
}

pub struct Gosched {
    yielded: bool,
}

impl Future for Gosched {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        set_wait_reason(WaitReason::Yield);
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// A runtime object goroutines can block on (a channel, wait group or mutex).
pub(crate) trait Held: Send + Sync {
    /// Whether some goroutine is blocked on it.
    fn has_waiters(&self) -> bool;
}

/// A goroutine dump in Go's format, one `goroutine N [reason]:` line each.
pub(crate) fn dump_text(gs: &[crate::GoroutineInfo]) -> String {
    gs.iter()
        .map(|g| {
            let what = if g.wait_reason.is_empty() { g.state } else { g.wait_reason };
            format!("goroutine {} [{what}]:\n", g.id)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

impl Shared {
    pub(crate) fn new(procs: usize, gc: crate::gc::Config) -> Arc<Self> {
        Arc::new(Shared {
            procs: (0..procs).map(|_| P::new()).collect(),
            idle: Idle::new(procs),
            global: Mutex::new(VecDeque::new()),
            global_len: AtomicUsize::new(0),
            inbox: Inbox::new(),
            bound: (0..procs).map(|_| Inbox::new()).collect(),
            shutdown: AtomicBool::new(false),
            running_ms: AtomicUsize::new(procs),
            next_goid: AtomicU64::new(1),
            spawned: AtomicU64::new(0),
            completed: AtomicU64::new(0),
            held_outside: lock::Lock::new(Vec::new()),
            deadlock_epoch: AtomicU64::new(u64::MAX),
            deadlock_report: std::sync::atomic::AtomicPtr::new(std::ptr::null_mut()),
            events: std::sync::atomic::AtomicU32::new(0),
            heap: crate::gc::Heap::new(procs, gc),
        })
    }

    pub(crate) fn is_shut_down(&self) -> bool {
        self.shutdown.load(Acquire)
    }

    /// Starts a goroutine running `fut`.
    pub(crate) fn go<F>(self: &Arc<Self>, fut: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let goid = self.next_goid.fetch_add(1, Relaxed);
        let cell = Arc::new(JoinCell::new());
        let task = Task::Ready(Box::pin(Goroutine::new(fut, cell.clone(), goid)));
        self.submit(G::new(goid, self.clone(), task, UNBOUND, cell.clone(), false));
        JoinHandle { cell, goid }
    }

    /// (Used by the JS facade for goroutines shipped from JavaScript.)
    /// Starts a goroutine whose `!Send` future is built by `start` on the M that first runs it,
    /// and which stays bound to that M.
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    pub(crate) fn go_unstarted<T, S, F>(self: &Arc<Self>, start: S) -> JoinHandle<T>
    where
        T: Send + 'static,
        S: FnOnce() -> F + Send + 'static,
        F: Future<Output = T> + 'static,
    {
        let goid = self.next_goid.fetch_add(1, Relaxed);
        let cell = Arc::new(JoinCell::new());
        let unstarted = join::Unstarted::new(cell.clone(), goid);
        let task = Task::Unstarted(Box::new(move || Box::pin(unstarted.start(start()))));
        self.submit(G::new(goid, self.clone(), task, UNBOUND, cell.clone(), false));
        JoinHandle { cell, goid }
    }

    /// Starts a system goroutine (a helper of the runtime's own, see `G::system`) bound to the
    /// current M (which must be one), running a `!Send` future.
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    pub(crate) fn go_local<F>(self: &Arc<Self>, fut: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: Send + 'static,
    {
        let m = current_m(|_, i| i).expect("go_local outside an M");
        let goid = self.next_goid.fetch_add(1, Relaxed);
        let cell = Arc::new(JoinCell::new());
        let task = Task::Bound(Box::pin(Goroutine::new(fut, cell.clone(), goid)));
        bound_count_add(1);
        self.submit(G::new(goid, self.clone(), task, m as u32, cell.clone(), true));
        JoinHandle { cell, goid }
    }

    fn submit(self: &Arc<Self>, g: G) {
        let g = Arc::new(g);
        if !g.system {
            self.spawned.fetch_add(1, Relaxed);
        }
        let m = self.current_p();
        // Otherwise registered by the M that takes it from the inbox (`drain_inbox`): the page's
        // main thread must not take the registry lock.
        if let Some(m) = m {
            self.register(m, &g);
        }
        match self.place(m, g) {
            Placed::Bound => {}
            Placed::Lifo { .. } | Placed::Global => {
                self.idle.wake_one();
            }
        }
    }

    /// Makes a woken G runnable (called by its waker).
    pub(crate) fn ready(&self, g: GRef) {
        self.ready_from(self.current_p(), g);
    }

    /// `ready` for a waker that hands over its own reference to `g`. Once `g` is queued,
    /// another M may run it to its end and drop it, and with it its reference to the runtime,
    /// so the runtime must be kept alive otherwise: on one of its Ms, by the M's own reference
    /// (no count changes hands on the usual path); elsewhere, by one taken for the call.
    pub(crate) fn ready_by_value(g: GRef) {
        let (here, m) = HERE.with(Cell::get);
        if std::ptr::eq(here, Arc::as_ptr(&g.shared)) {
            // SAFETY: this thread is an M of g's runtime, and CURRENT_M holds a reference to it.
            unsafe { &*here }.ready_from(Some(m), g);
        } else {
            let shared = g.shared.clone();
            shared.ready(g);
        }
    }

    fn ready_from(&self, m: Option<usize>, g: GRef) {
        match self.place(m, g) {
            Placed::Bound | Placed::Lifo { crowded: false } => {}
            Placed::Lifo { crowded: true } | Placed::Global => {
                self.idle.wake_one();
            }
        }
    }

    /// The P of the current thread, if it is an M of this runtime.
    fn current_p(&self) -> Option<usize> {
        let (here, m) = HERE.with(Cell::get);
        std::ptr::eq(here, self).then_some(m)
    }

    /// Queues a runnable G where it belongs (see "Where a runnable G goes"); `m` is the P of
    /// the current thread, if it is an M of this runtime.
    fn place(&self, m: Option<usize>, g: GRef) -> Placed {
        let home = g.home();
        if home != UNBOUND {
            let inbox = &self.bound[home as usize];
            inbox.push(g);
            self.idle.parkers[home as usize].unpark();
            self.drop_if_stopped(inbox);
            return Placed::Bound;
        }
        match m {
            Some(m) => {
                if COLLECTING_TIMER_WAKES.with(Cell::get) {
                    TIMER_WAKES.with(|t| t.borrow_mut().as_mut().expect("collecting").push(g));
                    return Placed::Lifo { crowded: false };
                }
                let p = &self.procs[m];
                let crowded = p.lifo_put(g).is_some_and(|old| {
                    self.runq_put(p, old);
                    p.runq.len() > 1
                });
                Placed::Lifo { crowded }
            }
            None => {
                self.inbox.push(g);
                self.drop_if_stopped(&self.inbox);
                Placed::Global
            }
        }
    }

    /// After the last M has emptied the queues at shutdown (`release_everything`), nobody
    /// drains an inbox again: a goroutine woken, or submitted, from outside after that is
    /// dropped here (its unfinished task reports `Cancelled`), or it would keep the runtime
    /// alive through `G::shared` forever (`shutdown.rs`).
    fn drop_if_stopped(&self, inbox: &Inbox<G>) {
        shutdown::Shutdown::new(&self.running_ms).drop_if_stopped(inbox);
    }

    /// Puts a G at the tail of `p`'s ring (owner only), overflowing to the global queue.
    pub(crate) fn runq_put(&self, p: &P, g: GRef) {
        p.runq.push_or_overflow(g, |batch| self.global_put_batch(batch));
    }

    fn global_put_batch(&self, batch: Vec<GRef>) {
        let mut q = self.global.lock().unwrap();
        self.global_len.fetch_add(batch.len(), Release);
        q.extend(batch);
    }

    pub(crate) fn global_is_empty(&self) -> bool {
        self.global_len.load(Acquire) == 0 && self.inbox.is_empty()
    }

    pub(crate) fn global_len(&self) -> usize {
        self.global_len.load(Relaxed) + self.inbox.len()
    }

    /// Takes up to `max` Gs from the global queue (draining the inbox into it first): one to
    /// run now, the rest into `p`'s ring (Go's `globrunqget`).
    pub(crate) fn global_get(&self, m: usize, max: usize) -> Option<GRef> {
        if self.global_is_empty() {
            return None;
        }
        let mut q = self.global.lock().unwrap();
        self.drain_inbox(m, &mut q);
        let n = q.len().min(q.len() / self.procs.len() + 1).min(max).min(runq::CAP as usize / 2);
        if n == 0 {
            return None;
        }
        self.global_len.fetch_sub(n, Release);
        let first = q.pop_front();
        let p = &self.procs[m];
        for g in q.drain(..n - 1) {
            self.runq_put(p, g);
        }
        first
    }

    /// Puts a G that yielded (or was woken during its poll) at the tail of the global queue,
    /// behind every goroutine submitted so far (Go's `Gosched`; see "Where a runnable G goes").
    pub(crate) fn global_put_yielded(&self, m: usize, g: GRef) {
        let mut q = self.global.lock().unwrap();
        self.drain_inbox(m, &mut q);
        q.push_back(g);
        self.global_len.fetch_add(1, Release);
    }

    /// Moves the inbox to the tail of the global queue `q` (whose lock the caller holds),
    /// registering on M `m` the goroutines submitted from outside.
    fn drain_inbox(&self, m: usize, q: &mut VecDeque<GRef>) {
        let incoming = self.inbox.take_all();
        for g in &incoming {
            if g.registry_key.load(Relaxed) == u64::MAX && g.home() == UNBOUND {
                self.register(m, g);
            }
        }
        self.global_len.fetch_add(incoming.len(), Release);
        q.extend(incoming);
    }

    fn register(&self, m: usize, g: &GRef) {
        let p = &self.procs[m];
        let mut slab = p.registry.lock().unwrap();
        if slab.free.is_empty() {
            p.sweep_if_due(&mut slab);
        }
        let slot = slab.insert(g.clone());
        g.registry_key.store((m as u64) << 32 | slot as u64, Relaxed);
    }

    /// Forgets a finished G (its P's registry drops it at the next sweep, see `Slab`).
    pub(crate) fn unregister(&self, g: &G) {
        if !g.system {
            self.completed.fetch_add(1, Relaxed);
        }
        if g.home() != UNBOUND {
            BOUND_HERE.with(|b| b.borrow_mut().remove(&g.id));
        }
        let key = g.registry_key.load(Relaxed);
        if key != u64::MAX {
            self.procs[(key >> 32) as usize].finished.fetch_add(1, Relaxed);
        }
    }

    /// Sweeps P `m`'s registry if finished Gs fill half of it (an M about to park).
    pub(crate) fn sweep_registry(&self, m: usize) {
        let p = &self.procs[m];
        if p.finished.load(Relaxed) > 0 {
            p.sweep_if_due(&mut p.registry.lock().unwrap());
        }
    }

    /// Every registered live G.
    pub(crate) fn all_gs(&self) -> Vec<GRef> {
        let mut all: Vec<GRef> = Vec::new();
        for p in self.procs.iter() {
            let slab = p.registry.lock().unwrap();
            all.extend(slab.slots.iter().flatten().filter(|g| g.state() != GStatus::Dead).cloned());
        }
        all
    }

    /// Stops every M at its next schedule. Lock-free: callable from the page's main thread.
    pub(crate) fn begin_shutdown(&self) {
        self.shutdown.store(true, Release);
        self.idle.unpark_all();
    }

    /// Called by the last M to exit: drops every remaining task and empties every queue,
    /// breaking the reference cycles between Gs and this runtime.
    pub(crate) fn release_everything(&self) {
        shutdown::Shutdown::new(&self.running_ms).last_m_out(); // pairs with `drop_if_stopped`
        let gs = self.all_gs();
        for g in &gs {
            g.drop_task();
        }
        drop(gs);
        for p in self.procs.iter() {
            std::mem::take(&mut *p.registry.lock().unwrap());
            p.lifo_take();
            while p.runq.pop().is_some() {}
            p.timers.clear();
        }
        // Goroutines submitted from outside and never taken by an M still hold their tasks.
        self.inbox.take_all().iter().for_each(|g| g.drop_task());
        self.bound.iter().for_each(|b| drop(b.take_all()));
        self.global.lock().unwrap().clear();
        self.global_len.store(0, Release);
    }

    /// Code outside every goroutine (the page, or a native thread) took a handle to `obj`,
    /// and may still wake goroutines through it. Never waits (the lock only spins on the page).
    /// Returns the key for `release_outside`.
    pub(crate) fn hold_outside(&self, obj: Arc<dyn Held>) -> usize {
        let key = Arc::as_ptr(&obj) as *const () as usize;
        let mut held = self.held_outside.lock();
        match held.iter_mut().find(|(k, _, _)| *k == key) {
            Some((_, n, _)) => *n += 1,
            None => held.push((key, 1, obj)),
        }
        key
    }

    /// Code outside every goroutine dropped a handle to the object at `key` (its address).
    pub(crate) fn release_outside(&self, key: usize) {
        {
            let mut held = self.held_outside.lock();
            if let Some(i) = held.iter().position(|(k, _, _)| *k == key) {
                held[i].1 -= 1;
                if held[i].1 == 0 {
                    held.swap_remove(i);
                }
            }
        }
        // Goroutines blocked on that object may have lost their last way out: have an idle M
        // look again, so that it runs the deadlock check as it parks.
        self.idle.wake_one();
    }

    /// Go's `checkdead`, run by an M about to park with no timer pending: if every M is idle,
    /// every live goroutine waits on a runtime object (channel, select, sync primitive, join),
    /// no object the page holds has a waiter (the page could wake it, and it others) and no
    /// goroutine waits in the inbox, report the deadlock once: every goroutine's join fails
    /// with `JoinError::Deadlock`, and the page is notified.
    ///
    /// The looks below are not one atomic snapshot, so they only count if every M stayed idle
    /// throughout (`Idle::idle_throughout`): otherwise an M may have polled a goroutine into
    /// a wait on an object after that object was seen without waiters. The M that did parks
    /// again later and checks again.
    pub(crate) fn check_dead(&self) {
        // (gc) Ms stopping for a collection are not idle, whatever the idle mask says.
        if self.heap.collecting() {
            return;
        }
        let Some(idle) = self.idle.all_idle() else {
            return;
        };
        if self.held_outside.lock().iter().any(|(_, _, obj)| obj.has_waiters()) {
            return;
        }
        // Every goroutine, system ones included, must be waiting: a woken system goroutine
        // (one that runs a JS goroutine's channel operation) is work in flight. Wake-ups that
        // come from the page happen before it releases the object's lock (see `chan`), so the
        // look at the held objects above and at the states here cannot miss one.
        let all = self.all_gs();
        if all.iter().any(|g| g.state() != GStatus::Waiting) {
            return;
        }
        let gs: Vec<GRef> = all.into_iter().filter(|g| !g.system).collect();
        if gs.is_empty() || !gs.iter().all(|g| g.wait_reason().is_on_runtime_object()) {
            return;
        }
        // Goroutines the page submitted are registered only once an M takes them.
        if !self.inbox.is_empty() || !self.idle.idle_throughout(idle) {
            return;
        }
        // One report per set of deadlocked goroutines.
        let epoch = gs
            .iter()
            .fold(gs.len() as u64, |h, g| h.rotate_left(7) ^ g.id.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        if self.deadlock_epoch.swap(epoch, AcqRel) == epoch {
            return;
        }
        let dump = dump_text(&self.goroutines());
        let report = Box::new(format!("fatal error: {}\n\n{dump}", join::DEADLOCK));
        let old = self.deadlock_report.swap(Box::into_raw(report), AcqRel);
        if !old.is_null() {
            // SAFETY: non-null values of `deadlock_report` come from Box::into_raw; the swap
            // made this one ours.
            drop(unsafe { Box::from_raw(old) });
        }
        self.events.fetch_add(1, Release);
        crate::platform::futex_wake_all(&self.events);
        for g in &gs {
            g.join.fail(join::JoinError::Deadlock { goid: g.id, dump: dump.clone() });
        }
    }

    /// The last deadlock report, once. Lock-free (the page calls it).
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    pub(crate) fn take_deadlock_report(&self) -> Option<String> {
        let p = self.deadlock_report.swap(std::ptr::null_mut(), AcqRel);
        // SAFETY: as in `check_dead`.
        (!p.is_null()).then(|| *unsafe { Box::from_raw(p) })
    }

    /// A goroutine dump: every live goroutine, sorted by id.
    pub(crate) fn goroutines(&self) -> Vec<crate::GoroutineInfo> {
        let mut all: Vec<_> = self
            .all_gs()
            .iter()
            .filter(|g| !g.system)
            .map(|g| {
                let state = g.state();
                crate::GoroutineInfo {
                    id: g.id,
                    state: state.as_str(),
                    wait_reason: if state == GStatus::Waiting { g.wait_reason().as_str() } else { "" },
                    proc: (g.home() != UNBOUND).then(|| g.home() as usize),
                }
            })
            .collect();
        all.sort_by_key(|g| g.id);
        all
    }

    pub(crate) fn stats(&self) -> crate::Stats {
        let spawned = self.spawned.load(Relaxed);
        let completed = self.completed.load(Relaxed);
        crate::Stats {
            procs: self.procs.len(),
            goroutines: spawned.saturating_sub(completed),
            spawned,
            completed,
            global_queue: self.global_len(),
            idle_procs: self.idle.idle_count() as usize,
            spinning: self.idle.spinning_count() as usize,
            per_p: self
                .procs
                .iter()
                .map(|p| crate::ProcStats {
                    runs: p.counters.runs.load(Relaxed),
                    steals: p.counters.steals.load(Relaxed),
                    stolen: p.counters.stolen.load(Relaxed),
                    parks: p.counters.parks.load(Relaxed),
                    wakeups: p.counters.wakeups.load(Relaxed),
                    runq: p.runq.len() as usize + usize::from(!p.lifo.load(Relaxed).is_null()),
                    timers: p.timers.next_deadline() != u64::MAX,
                })
                .collect(),
            gc: crate::gc::stats_of(self),
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    //! The bound-goroutine paths the JS facade uses (`go_local`, `go_unstarted`), natively.

    use super::*;
    use std::rc::Rc;
    use std::sync::mpsc;
    use std::task::Waker;
    use std::thread::ThreadId;
    use std::time::{Duration, Instant};

    type Polls = Arc<Mutex<Vec<(ThreadId, Option<usize>)>>>;

    /// Records the thread and the P of every poll of the wrapped future.
    struct Where<F> {
        fut: Pin<Box<F>>,
        polls: Polls,
    }

    impl<F: Future> Future for Where<F> {
        type Output = F::Output;
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
            self.polls.lock().unwrap().push((std::thread::current().id(), procid()));
            self.fut.as_mut().poll(cx)
        }
    }

    /// A one-shot signal another thread can fire: wakes its waiter through the `Waker`.
    #[derive(Clone, Default)]
    struct Signal(Arc<Mutex<(bool, Option<Waker>)>>);

    impl Signal {
        fn fire(&self) {
            let w = {
                let mut s = self.0.lock().unwrap();
                s.0 = true;
                s.1.take()
            };
            if let Some(w) = w {
                w.wake();
            }
        }

        async fn wait(&self) {
            std::future::poll_fn(|cx| {
                let mut s = self.0.lock().unwrap();
                if s.0 {
                    Poll::Ready(())
                } else {
                    s.1 = Some(cx.waker().clone());
                    Poll::Pending
                }
            })
            .await
        }
    }

    /// Records on which thread it was dropped.
    struct DropSpy(mpsc::Sender<ThreadId>);

    impl Drop for DropSpy {
        fn drop(&mut self) {
            let _ = self.0.send(std::thread::current().id());
        }
    }

    fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
        let start = Instant::now();
        while !cond() {
            assert!(start.elapsed() < Duration::from_secs(30), "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    fn shared_of(rt: &crate::Runtime) -> Arc<Shared> {
        rt.block_on(async { current_shared().unwrap() }).unwrap()
    }

    /// What a bound goroutine does: sleeps (its timer may be fired by another M), yields,
    /// joins goroutines that run anywhere, and is woken from a plain thread; `local` is `!Send`.
    async fn wander(local: Rc<Cell<u32>>) -> u32 {
        for _ in 0..4 {
            timer::sleep(Duration::from_millis(1)).await;
            local.set(local.get() + 1);
            gosched().await;
            let child = go(async {
                timer::sleep(Duration::from_millis(1)).await;
                gosched().await;
            });
            child.await.unwrap();
            let signal = Signal::default();
            let s = signal.clone();
            std::thread::spawn(move || s.fire());
            signal.wait().await;
        }
        local.get()
    }

    fn assert_one_thread(polls: &Polls, home: (ThreadId, Option<usize>)) {
        let polls = polls.lock().unwrap();
        assert!(polls.len() >= 8, "only {} polls", polls.len());
        assert!(polls.iter().all(|&p| p == home), "a bound goroutine moved: home {home:?}, polls {polls:?}");
    }

    #[test]
    fn local_goroutine_is_always_polled_on_its_m() {
        let rt = crate::Runtime::builder().procs(4).start();
        // `go_local` makes system goroutines, which deadlock detection does not see: a goroutine
        // blocked joining one would look deadlocked. So the joins are made from this thread.
        let launchers: Vec<_> = (0..8)
            .map(|_| {
                rt.go(async {
                    gosched().await;
                    let here = (std::thread::current().id(), procid());
                    let polls = Polls::default();
                    let fut = Where { fut: Box::pin(wander(Rc::new(Cell::new(0)))), polls: polls.clone() };
                    (here, polls, current_shared().unwrap().go_local(fut))
                })
            })
            .collect();
        for l in launchers {
            let (here, polls, bound) = l.wait().unwrap();
            assert_eq!(bound.wait().unwrap(), 4);
            assert_one_thread(&polls, here);
        }
        wait_until("every goroutine to finish", || rt.stats().goroutines == 0);
        rt.shutdown();
    }

    #[test]
    fn unstarted_goroutine_binds_to_the_first_m_that_runs_it() {
        let rt = crate::Runtime::builder().procs(4).start();
        let shared = shared_of(&rt);
        let start = |polls: Polls| {
            move || {
                let started = (std::thread::current().id(), procid());
                let fut = Where { fut: Box::pin(wander(Rc::new(Cell::new(0)))), polls };
                async move { (started, fut.await) }
            }
        };
        // Submitted from outside (the global inbox) and from goroutines (a LIFO slot, stealable).
        let mut handles = Vec::new();
        for _ in 0..6 {
            let polls = Polls::default();
            handles.push((shared.go_unstarted(start(polls.clone())), polls));
        }
        let inner = rt
            .block_on(async move {
                let shared = current_shared().unwrap();
                (0..6)
                    .map(|_| {
                        let polls = Polls::default();
                        (shared.go_unstarted(start(polls.clone())), polls)
                    })
                    .collect::<Vec<_>>()
            })
            .unwrap();
        handles.extend(inner);
        for (h, polls) in handles {
            let (started, n) = h.wait().unwrap();
            assert!(started.1.is_some(), "started on an M");
            assert_eq!(n, 4);
            assert_one_thread(&polls, started);
        }

        // While it waits, the dump shows the M it is bound to.
        let (tx, rx) = mpsc::channel();
        let signal = Signal::default();
        let s = signal.clone();
        let h = shared.go_unstarted(move || {
            tx.send(procid().unwrap()).unwrap();
            async move { s.wait().await }
        });
        let home = rx.recv_timeout(Duration::from_secs(30)).unwrap();
        wait_until("the dump to show the bound goroutine waiting", || {
            rt.goroutines().iter().any(|g| g.id == h.id() && g.state == "waiting" && g.proc == Some(home))
        });
        signal.fire();
        h.wait().unwrap();
        wait_until("every goroutine to finish", || rt.stats().goroutines == 0);
        rt.shutdown();
    }

    /// Finished goroutines leave the registries: they are swept as new ones are registered,
    /// so the registries stay about as large as the most goroutines alive at once, and they
    /// are never listed.
    #[test]
    fn finished_goroutines_are_swept_from_the_registry() {
        const ROUNDS: usize = 20;
        const BATCH: usize = 500;
        let rt = crate::Runtime::builder().procs(2).start();
        let shared = shared_of(&rt);
        rt.block_on(async {
            for _ in 0..ROUNDS {
                let batch: Vec<_> = (0..BATCH).map(|_| go(async { gosched().await })).collect();
                for h in batch {
                    h.await.unwrap();
                }
            }
        })
        .unwrap();
        let slots: usize = shared.procs.iter().map(|p| p.registry.lock().unwrap().slots.len()).sum();
        assert!(slots <= 8 * BATCH, "{slots} registry slots after {ROUNDS} rounds of {BATCH} goroutines");
        wait_until("every goroutine to finish", || rt.stats().goroutines == 0);
        assert!(rt.goroutines().is_empty(), "finished goroutines are listed: {:?}", rt.goroutines());
        rt.shutdown();
    }

    /// A timer whose P's M is stuck in a long poll is fired by another M, even one that is
    /// never idle (an idle M fires others' expired timers while stealing anyway).
    #[test]
    fn a_busy_m_fires_the_overdue_timers_of_a_stuck_p() {
        struct Flag(AtomicBool);
        impl std::task::Wake for Flag {
            fn wake(self: std::sync::Arc<Self>) {
                self.0.store(true, Release);
            }
        }
        let rt = crate::Runtime::builder().procs(2).start();
        let late = rt
            .block_on(async {
                let stuck = procid().unwrap();
                // Keeps the other M busy with short polls until `stop`.
                let stop = Arc::new(AtomicBool::new(false));
                let ran_on = Arc::new(AtomicUsize::new(usize::MAX));
                let (s, r) = (stop.clone(), ran_on.clone());
                let busy = go(async move {
                    while !s.load(Acquire) {
                        r.store(procid().unwrap(), Release);
                        gosched().await;
                    }
                });
                // From here this poll keeps its M until the timer fires (or 5 s pass).
                let t0 = Instant::now();
                while matches!(ran_on.load(Acquire), usize::MAX) || ran_on.load(Acquire) == stuck {
                    assert!(
                        t0.elapsed() < Duration::from_secs(5),
                        "the busy goroutine never ran on the other M"
                    );
                    std::hint::spin_loop();
                }
                let fired = std::sync::Arc::new(Flag(AtomicBool::new(false)));
                let waker = Waker::from(fired.clone());
                let mut sleep = std::pin::pin!(timer::sleep(Duration::from_millis(2)));
                let registered = Instant::now();
                assert!(sleep.as_mut().poll(&mut Context::from_waker(&waker)).is_pending());
                while !fired.0.load(Acquire) && registered.elapsed() < Duration::from_secs(5) {
                    std::hint::spin_loop();
                }
                let late = registered.elapsed();
                stop.store(true, Release);
                busy.await.unwrap();
                late
            })
            .unwrap();
        assert!(late < Duration::from_secs(1), "the timer fired only after {late:?}, when its M came back");
        rt.shutdown();
    }

    /// At shutdown a bound goroutine's `!Send` future is dropped on its home M's thread.
    #[test]
    fn bound_futures_are_dropped_on_their_home_thread_at_shutdown() {
        let rt = crate::Runtime::builder().procs(3).start();
        let shared = shared_of(&rt);
        let (drop_tx, drop_rx) = mpsc::channel();
        let (home_tx, home_rx) = mpsc::channel();
        let mut handles = Vec::new();
        for _ in 0..6 {
            let (spy, home_tx) = (DropSpy(drop_tx.clone()), home_tx.clone());
            handles.push(shared.go_unstarted(move || {
                home_tx.send(std::thread::current().id()).unwrap();
                async move {
                    let _spy = (spy, Rc::new(())); // !Send, like a JS goroutine's state
                    Signal::default().wait().await;
                }
            }));
        }
        for _ in 0..6 {
            let (spy, home_tx) = (DropSpy(drop_tx.clone()), home_tx.clone());
            let launcher = rt.go(async move {
                home_tx.send(std::thread::current().id()).unwrap();
                let h = current_shared().unwrap().go_local(async move {
                    let _spy = (spy, Rc::new(()));
                    Signal::default().wait().await;
                });
                drop(h);
            });
            launcher.wait().unwrap();
        }
        drop((drop_tx, home_tx));
        let mut homes: Vec<ThreadId> =
            (0..12).map(|_| home_rx.recv_timeout(Duration::from_secs(30)).unwrap()).collect();
        rt.shutdown();
        let mut dropped: Vec<ThreadId> = drop_rx.iter().collect();
        assert_eq!(dropped.len(), 12, "every bound future was dropped");
        let key = |t: &ThreadId| format!("{t:?}");
        homes.sort_by_key(key);
        dropped.sort_by_key(key);
        assert_eq!(homes, dropped, "each dropped on the thread it was started on");
        for h in handles {
            assert!(matches!(h.wait(), Err(join::JoinError::Cancelled { .. })));
        }
    }

    /// After shutdown nothing keeps the runtime's shared state alive: not the goroutines that
    /// were still waiting, nor one woken afterwards from another thread.
    #[test]
    fn shutdown_frees_the_runtime() {
        for wake_after_shutdown in [false, true] {
            let rt = crate::Runtime::builder().procs(2).start();
            let shared = Arc::downgrade(&shared_of(&rt));
            let signals: Vec<Signal> = (0..4).map(|_| Signal::default()).collect();
            let handles: Vec<_> = signals
                .iter()
                .map(|s| {
                    let s = s.clone();
                    rt.go(async move { s.wait().await })
                })
                .collect();
            let sleeper = rt.go(timer::sleep(Duration::from_secs(3600)));
            wait_until("every goroutine to wait", || {
                rt.goroutines().iter().filter(|g| g.state == "waiting").count() == 5
            });
            rt.shutdown();
            if wake_after_shutdown {
                signals.iter().for_each(Signal::fire);
            }
            for h in handles.into_iter().chain([sleeper]) {
                assert!(matches!(h.wait(), Err(join::JoinError::Cancelled { .. })));
            }
            if wake_after_shutdown {
                // Firing took the wakers (goroutines) out of the signals and queued them.
                assert!(
                    shared.upgrade().is_none(),
                    "a goroutine woken after shutdown keeps the runtime alive"
                );
            }
            drop(signals);
            assert!(shared.upgrade().is_none(), "the runtime outlived its shutdown");
        }
    }

    /// A goroutine from JavaScript that never started (its M was busy until shutdown) still
    /// reports `Cancelled` to its joiner instead of leaving it waiting forever.
    #[test]
    fn unstarted_goroutine_is_cancelled_at_shutdown() {
        let rt = crate::Runtime::builder().procs(1).start();
        let shared = shared_of(&rt);
        let hogging = Arc::new(AtomicBool::new(false));
        let hg = hogging.clone();
        // Keeps the only M busy until shutdown begins: nothing queued behind it ever runs.
        let hog = rt.go(async move {
            let shared = current_shared().unwrap();
            hg.store(true, Release);
            while !shared.is_shut_down() {
                std::hint::spin_loop();
            }
        });
        wait_until("the hog to start", || hogging.load(Acquire));
        let ran = Arc::new(AtomicBool::new(false));
        let r = ran.clone();
        let h = shared.go_unstarted(move || {
            r.store(true, Release);
            async {}
        });
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || tx.send(h.wait()).unwrap());
        rt.shutdown();
        let outcome =
            rx.recv_timeout(Duration::from_secs(30)).expect("the joiner of an unstarted goroutine hangs");
        assert!(matches!(outcome, Err(join::JoinError::Cancelled { .. })), "{outcome:?}");
        assert!(!ran.load(Acquire));
        hog.wait().unwrap();
    }
}
