//! G: a goroutine, its state word and its waker (Go's `g`, `gopark`, `goready`).
//!
//! # States
//! The state word is a [`GState`] (`gstatus.rs`, with its transitions, invariants and memory
//! ordering, and its loom models): a waker moves a Waiting G to Runnable and only then
//! enqueues it; a wake-up during the poll marks the G RunningWoken and the M that polled it
//! requeues it after the poll; a wake after the G finished (Dead) does nothing. So a G is in
//! at most one queue and never polled twice at once, and no wake-up is lost or doubled.
//!
//! # The task and who may touch it
//! `task` is reached only by the M that moved the G to Running (or, after shutdown, by the last
//! M out), which gives that M exclusive access. A goroutine made from JavaScript is created
//! unstarted (`Task::Unstarted`, a `Send` closure holding encoded arguments); its first poll
//! builds its `!Send` future on that M and binds the G there for good (`home`), like Go's
//! `LockOSThread`: its wake-ups go to that M's bound inbox, never to a run queue.
//!
//! # What dumps show
//! Its name and origin (`origin.rs`) are set as it is made and never change. `waiting_since`
//! is the clock's reading as it last began to wait: each park writes it before the state word
//! says Waiting (whose Release orders it), and a reader that saw Waiting (Acquire) reads it;
//! a reading the poll took serves (`timer::recent`), so parking reads the clock at most once.

use super::gstatus::{GState, GStatus, Parked};
use super::origin::{Name, Origin};
use super::{Shared, WaitReason};
use crate::platform::shim::{Arc, AtomicU32, AtomicU64};
use std::cell::UnsafeCell;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::AtomicU8;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use std::task::{Context, RawWaker, RawWakerVTable, Wake, Waker};

/// No home M: the G runs wherever it is scheduled.
pub(crate) const UNBOUND: u32 = u32::MAX;

pub(crate) type BoxFuture = Pin<Box<dyn Future<Output = ()> + Send>>;
pub(crate) type LocalBoxFuture = Pin<Box<dyn Future<Output = ()>>>;
pub(crate) type Starter = Box<dyn FnOnce() -> LocalBoxFuture + Send>;

pub(crate) enum Task {
    /// A `Send` future: migrates freely between Ms.
    Ready(BoxFuture),
    /// Builds a `!Send` future on the first M that runs it, which becomes its home.
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    Unstarted(Starter),
    /// A `!Send` future, polled only on its home M.
    Bound(LocalBoxFuture),
    Done,
}

pub(crate) struct G {
    pub(crate) id: u64,
    state: GState,
    wait_reason: AtomicU8,
    home: AtomicU32,
    /// Where the registry keeps this G: `p << 32 | slot`.
    pub(crate) registry_key: AtomicU64,
    pub(crate) shared: Arc<Shared>,
    /// The goroutine's result cell, so the runtime can fail its join (deadlock).
    pub(crate) join: Arc<dyn super::join::FailJoin>,
    /// A helper of the runtime's own (Go's system goroutines): not listed in goroutine dumps
    /// or counts, and not considered by deadlock detection.
    pub(crate) system: bool,
    /// What this G counts in `Shared::stack_inuse` while it lives (`newproc.rs`).
    pub(crate) bytes: usize,
    /// What goroutine dumps call it (`origin.rs`).
    pub(crate) name: Name,
    /// Who started it, and where.
    pub(crate) origin: Origin,
    /// When it last began to wait (module header), in the runtime clock's ns.
    waiting_since: AtomicU64,
    task: UnsafeCell<Task>,
}

impl Drop for G {
    fn drop(&mut self) {
        self.shared.stack_inuse.fetch_sub(self.bytes, Relaxed);
    }
}

// SAFETY: `task` is only accessed by the M that owns the Running state (see the module header);
// a `Bound` task is only ever polled or dropped on its home M's thread. Every other field is
// atomic or immutable.
unsafe impl Send for G {}
// SAFETY: as above.
unsafe impl Sync for G {}

// A goroutine's panic is caught inside its task (`join::Goroutine`), so the state word and the
// task slot are consistent whenever control crosses an unwind boundary.
impl std::panic::RefUnwindSafe for G {}

pub(crate) enum Polled {
    /// The goroutine finished; its task has been dropped.
    Finished,
    /// It waits; nothing to do until a waker makes it runnable.
    Parked,
    /// It was woken during its poll (or yielded): requeue it.
    Requeue,
}

impl G {
    pub(crate) fn new(
        id: u64,
        shared: Arc<Shared>,
        task: Task,
        home: u32,
        join: Arc<dyn super::join::FailJoin>,
        system: bool,
        bytes: usize,
    ) -> Self {
        G {
            id,
            join,
            system,
            bytes,
            state: GState::new(),
            wait_reason: AtomicU8::new(WaitReason::None as u8),
            home: AtomicU32::new(home),
            registry_key: AtomicU64::new(u64::MAX),
            shared,
            name: Name::None,
            origin: Origin::default(),
            waiting_since: AtomicU64::new(0),
            task: UnsafeCell::new(task),
        }
    }

    /// This G, called `name` in goroutine dumps, started as `origin` says.
    pub(crate) fn described(mut self, name: Name, origin: Origin) -> Self {
        self.name = name;
        self.origin = origin;
        self
    }

    pub(crate) fn home(&self) -> u32 {
        self.home.load(Acquire)
    }

    /// Whether the G has not started and will be bound to the M that starts it (a JS
    /// goroutine). The caller just made it, or took it off a queue to poll it.
    pub(crate) fn is_unstarted(&self) -> bool {
        // SAFETY: a G just made, or taken off a queue (Runnable), is owned by the thread that
        // made or took it, which alone touches its task until it queues or polls it (module
        // header).
        matches!(unsafe { &*self.task.get() }, Task::Unstarted(_))
    }

    pub(crate) fn state(&self) -> GStatus {
        self.state.load()
    }

    pub(crate) fn wait_reason(&self) -> WaitReason {
        WaitReason::from_u8(self.wait_reason.load(Relaxed))
    }

    /// Publishes why the G waits (a store only when it changed: in wasm every atomic store is
    /// a read-modify-write).
    pub(crate) fn set_wait_reason(&self, r: WaitReason) {
        if self.wait_reason.load(Relaxed) != r as u8 {
            self.wait_reason.store(r as u8, Relaxed);
        }
    }

    /// Publishes a new reason for a G that waits already (a JS goroutine waits on the
    /// operation it awaits, then on its code again, in one park): when the reason changes, the
    /// wait begins now.
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    pub(crate) fn wait_anew(&self, r: WaitReason) {
        if self.wait_reason.load(Relaxed) != r as u8 {
            self.waiting_since.store(super::timer::recent(), Relaxed);
            self.wait_reason.store(r as u8, Relaxed);
        }
    }

    /// When it last began to wait (runtime clock, ns). Meaningful while it is Waiting.
    pub(crate) fn waiting_since(&self) -> u64 {
        self.waiting_since.load(Relaxed)
    }

    /// Polls the task once. The caller took the G off a queue (so it is Runnable) and, for a
    /// bound G, is on its home M (`m`).
    pub(crate) fn poll(self: &Arc<Self>, m: u32) -> Polled {
        self.state.begin_poll();
        super::begin_poll_reason();
        // SAFETY: the waker borrows this M's reference to the G (no count of its own) and is
        // never dropped; clones of it count (`WAKER`).
        let waker = std::mem::ManuallyDrop::new(unsafe { Waker::from_raw(raw_waker(Arc::as_ptr(self))) });
        let mut cx = Context::from_waker(&waker);
        // SAFETY: Running gives this M exclusive access to `task` (module header).
        let task = unsafe { &mut *self.task.get() };
        if let Task::Unstarted(_) = task {
            let Task::Unstarted(start) = std::mem::replace(task, Task::Done) else { unreachable!() };
            self.home.store(m, Release);
            *task = Task::Bound(start());
            super::bind_here(self);
        }
        let ready = match task {
            Task::Ready(f) => f.as_mut().poll(&mut cx).is_ready(),
            Task::Bound(f) => f.as_mut().poll(&mut cx).is_ready(),
            Task::Unstarted(_) | Task::Done => unreachable!("polled a G without a task"),
        };
        if ready {
            self.drop_task();
            self.state.finish();
            return Polled::Finished;
        }
        // The reason and the time go out before the state says Waiting: readers look at
        // those of waiting Gs only.
        self.set_wait_reason(super::current_wait_reason());
        self.waiting_since.store(super::timer::recent(), Relaxed);
        match self.state.park() {
            Parked::Waiting => Polled::Parked,
            Parked::Requeue => Polled::Requeue,
        }
    }

    /// Drops the task. Called after it finished, or at shutdown by the M allowed to (the home
    /// M for a bound task).
    pub(crate) fn drop_task(&self) {
        // SAFETY: the caller has exclusive access (it finished the poll, or the runtime is
        // stopped and the caller is the home M or the last M out).
        let task = unsafe { &mut *self.task.get() };
        let old = std::mem::replace(task, Task::Done);
        // A destructor that panics must not unwind through the M: it would stop running
        // goroutines, or at shutdown leave the remaining ones undropped and their joiners
        // waiting forever. The outcome is recorded already (`Goroutine`'s own drop runs before
        // its fields'), and the panic hook has reported the panic.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(old)));
    }
}

impl G {
    /// Retires a G that no M will poll again, because its home M died (`died.rs`) or the
    /// runtime is released by a thread that is no M (`Shared::m_gone`): marks it Dead (from
    /// then on its wakes do nothing) and drops its task on this thread, without counting it
    /// against this thread's bound goroutines. The caller has exclusive access to the task:
    /// the only thread that could poll it is dead.
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    pub(crate) fn retire(&self) {
        self.state.finish();
        // SAFETY: exclusive access, as above.
        let task = unsafe { &mut *self.task.get() };
        let old = std::mem::replace(task, Task::Done);
        // As in `drop_task`: a panicking destructor must not unwind through the caller.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(old)));
    }
}

/// A G's waker is its `Arc`. These are the functions `std::task::Wake` would give it, spelled
/// out so that a poll can lend the M's own reference as a waker instead of cloning the `Arc`
/// for every poll (two atomic read-modify-writes, not cheap in wasm).
static WAKER: RawWakerVTable = RawWakerVTable::new(clone_waker, wake, wake_by_ref, drop_waker);

fn raw_waker(g: *const G) -> RawWaker {
    RawWaker::new(g as *const (), &WAKER)
}

/// # Safety (all four)
/// `g` is a pointer from `Arc::into_raw`/`Arc::as_ptr` of a live G, and the waker it belongs
/// to holds one count of it (except the borrowed one in `G::poll`, which is never dropped or
/// woken by value: `Waker::wake` consumes a clone, which counts).
unsafe fn clone_waker(g: *const ()) -> RawWaker {
    // SAFETY: see above; the new waker holds the count taken here.
    unsafe { Arc::increment_strong_count(g as *const G) };
    raw_waker(g as *const G)
}

unsafe fn wake(g: *const ()) {
    // SAFETY: see above; takes over this waker's count.
    Wake::wake(unsafe { Arc::from_raw(g as *const G) });
}

unsafe fn wake_by_ref(g: *const ()) {
    // SAFETY: see above; the count stays with the waker (ManuallyDrop).
    let g = std::mem::ManuallyDrop::new(unsafe { Arc::from_raw(g as *const G) });
    Wake::wake_by_ref(&*g);
}

unsafe fn drop_waker(g: *const ()) {
    // SAFETY: see above; releases this waker's count.
    drop(unsafe { Arc::from_raw(g as *const G) });
}

impl Wake for G {
    fn wake(self: Arc<Self>) {
        if self.state.make_runnable() {
            Shared::ready(self);
        }
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if self.state.make_runnable() {
            Shared::ready(self.clone());
        }
    }
}
