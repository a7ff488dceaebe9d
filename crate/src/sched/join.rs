//! `JoinHandle`: a goroutine's result, awaitable from a goroutine, blockable from a native
//! thread, and waitable from the page's main thread through the address of its state word
//! (`Atomics.waitAsync`).
//!
//! The goroutine's future is wrapped in [`Goroutine`], which catches a panic at the poll (as
//! tokio does) and stores the outcome exactly once in its [`JoinCell`]. If the goroutine is
//! dropped unfinished (the runtime shut down), the outcome is `JoinError::Cancelled`, so no
//! joiner waits forever; this holds too for a goroutine dropped before its future was even
//! built ([`Unstarted`]).
//!
//! # The cell's protocol
//! `state` moves PENDING → WRITING → READY → TAKEN, each step once:
//! * [`JoinCell::complete`] (the goroutine finishing, its drop, or the runtime failing it:
//!   deadlock) claims PENDING → WRITING by CAS, so the first outcome wins and a later one is
//!   dropped; writes `value`; stores READY; then wakes the joiners: a futex notify only if a
//!   thread announced it waits on the word (`waiters`), and the registered `Waker`.
//! * [`JoinCell::take`] claims READY → TAKEN by CAS, so the outcome is delivered once; an
//!   outcome never taken is dropped with the cell.
//! * A goroutine that joins ([`JoinCell::ready_or_register`], from `JoinHandle::poll`) stores
//!   its waker under `waker`'s lock and then looks at `state` again. Completion stores READY
//!   before it takes the waker under the same lock, so either the completer finds the waker
//!   and wakes it, or the joiner's second look (after the completer's unlock) sees READY.
//! * A thread that blocks ([`JoinCell::wait`], and the page through `Atomics.waitAsync`)
//!   announces itself in `waiters` first, then waits on the word for PENDING.
//!
//! # Memory ordering
//! `value` is written before the READY store (Release, as part of SeqCst) and read after the
//! READY → TAKEN CAS (Acquire), by its only reader. The futex announcement is the
//! store-buffering pattern: the waiter stores `waiters` then reads `state` (in the futex
//! wait), the completer stores READY then reads `waiters`; all four are SeqCst, so at least
//! one side sees the other's store: the waiter's futex wait finds READY (it returns at once)
//! or the completer notifies. (Under loom a fence stands for the SeqCst order, see
//! `seq_cst_order`.)
//!
//! The loom models below fail if the joiner's second look is removed (a deadlock: the joiner
//! is never woken), if the completer reads `waiters` before it claims the cell (a blocked
//! `wait` is never notified), or if the claim is a load and a store instead of a CAS (two
//! outcomes are written, a data race on `value`).

use crate::platform::shim::{Arc, AtomicU32, UnsafeCell};
#[cfg(loom)]
use loom::sync::Mutex;
use std::fmt;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::Ordering::{AcqRel, Acquire, SeqCst};
#[cfg(not(loom))]
use std::sync::Mutex;
use std::task::{Context, Poll, Waker};

pub(crate) const PENDING: u32 = 0;
pub(crate) const READY: u32 = 1;
const TAKEN: u32 = 2;
/// An outcome is being written (between PENDING and READY).
const WRITING: u32 = 3;

/// Why a goroutine produced no value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JoinError {
    /// The goroutine panicked; the payload's message.
    Panicked { goid: u64, message: String },
    /// The runtime shut down before the goroutine finished.
    Cancelled { goid: u64 },
    /// Every goroutine was blocked on runtime objects with nothing left to wake them (Go's
    /// "all goroutines are asleep - deadlock!"); `dump` lists them.
    Deadlock { goid: u64, dump: String },
    /// The goroutine was bound to M `proc`, whose thread died (a Worker closed, crashed or was
    /// terminated; `reason` says which), and nothing else may run it.
    MDied { goid: u64, proc: usize, reason: String },
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JoinError::Panicked { goid, message } => {
                write!(f, "goroutine {goid} panicked: {message}")
            }
            JoinError::Cancelled { goid } => {
                write!(f, "goroutine {goid} was cancelled: the runtime shut down before it finished")
            }
            JoinError::Deadlock { dump, .. } => write!(f, "{DEADLOCK}\n\n{dump}"),
            JoinError::MDied { goid, proc, reason } => {
                write!(
                    f,
                    "goroutine {goid} failed: the thread of M {proc}, which it was bound to, died: {reason}"
                )
            }
        }
    }
}

impl std::error::Error for JoinError {}

/// Go's words.
pub(crate) const DEADLOCK: &str = "all goroutines are asleep - deadlock!";

/// A goroutine's result cell, seen without its type: the runtime can fail it (deadlock).
pub(crate) trait FailJoin: Send + Sync {
    fn fail(&self, err: JoinError);
}

impl<T: Send> FailJoin for JoinCell<T> {
    fn fail(&self, err: JoinError) {
        self.complete(Err(err));
    }
}

pub(crate) struct JoinCell<T> {
    pub(crate) state: AtomicU32,
    /// Non-zero once a thread may wait on `state` with a futex (`JoinCell::wait`, or the
    /// page's `Atomics.waitAsync`): only then does completing pay for a notify, which in the
    /// browser costs a trip through the engine's global futex table.
    waiters: AtomicU32,
    value: UnsafeCell<Option<Result<T, JoinError>>>,
    waker: Mutex<Option<Waker>>,
    /// Loom has no futex: a waiter checks the word and sleeps under this lock, and a notify
    /// takes it, as the kernel's futex bucket lock orders a FUTEX_WAIT with a FUTEX_WAKE.
    #[cfg(loom)]
    futex: (Mutex<()>, loom::sync::Condvar),
}

// SAFETY: `value` is written once before the Release store of READY and read after an Acquire
// load of READY by the one reader that wins READY → TAKEN.
unsafe impl<T: Send> Send for JoinCell<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for JoinCell<T> {}

// A panic cannot leave a half-written outcome visible: it is published by the READY store.
impl<T> std::panic::RefUnwindSafe for JoinCell<T> {}

impl<T> JoinCell<T> {
    pub(crate) fn new() -> Self {
        JoinCell {
            state: AtomicU32::new(PENDING),
            waiters: AtomicU32::new(0),
            value: UnsafeCell::new(None),
            waker: Mutex::new(None),
            #[cfg(loom)]
            futex: (Mutex::new(()), loom::sync::Condvar::new()),
        }
    }

    /// Records the outcome unless one was recorded already (the goroutine finishing and the
    /// runtime failing it may race; the first wins).
    fn complete(&self, outcome: Result<T, JoinError>) {
        if self.state.compare_exchange(PENDING, WRITING, AcqRel, Acquire).is_err() {
            return;
        }
        // SAFETY: winning PENDING → WRITING makes this the only writer, before READY is published.
        self.value.with_mut(|v| unsafe { *v = Some(outcome) });
        // SeqCst, against `expect_waiter`: either the waiter's futex wait sees READY, or this
        // sees the waiter's flag and notifies.
        self.state.store(READY, SeqCst);
        seq_cst_order();
        if self.waiters.load(SeqCst) != 0 {
            self.futex_wake_all();
        }
        if let Some(w) = self.waker.lock().unwrap().take() {
            w.wake();
        }
    }

    /// Takes the outcome once it is READY; None while pending or once taken.
    pub(crate) fn take(&self) -> Option<Result<T, JoinError>> {
        if self.state.compare_exchange(READY, TAKEN, AcqRel, Acquire).is_ok() {
            // SAFETY: winning READY → TAKEN makes this the only reader, after the write.
            self.value.with_mut(|v| unsafe { (*v).take() })
        } else {
            None
        }
    }

    /// Announces a futex waiter on `state`; call before waiting.
    pub(crate) fn expect_waiter(&self) {
        self.waiters.store(1, SeqCst);
        seq_cst_order();
    }

    pub(crate) fn is_ready(&self) -> bool {
        self.state.load(Acquire) == READY
    }

    /// No outcome written yet (PENDING, or WRITING: one is being written). For the page's
    /// watch of a goroutine's end (js/op.rs).
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    pub(crate) fn is_pending(&self) -> bool {
        matches!(self.state.load(Acquire), PENDING | WRITING)
    }

    /// The joining goroutine's half (`JoinHandle::poll`): true if the outcome is ready;
    /// otherwise registers `waker`, which completion wakes, and returns false. The second look
    /// after registering closes the race with a completion that took the old waker (module
    /// header).
    pub(crate) fn ready_or_register(&self, waker: &Waker) -> bool {
        if !self.is_ready() {
            *self.waker.lock().unwrap() = Some(waker.clone());
            if !self.is_ready() {
                return false;
            }
        }
        true
    }

    /// Blocks this thread until the outcome is ready, and takes it. For threads outside the
    /// runtime (tests, `main`, a Worker), through `JoinHandle::wait`.
    fn wait(&self) -> Result<T, JoinError> {
        self.expect_waiter();
        loop {
            if let Some(outcome) = self.take() {
                return outcome;
            }
            self.futex_wait_pending();
        }
    }

    #[cfg(not(loom))]
    fn futex_wait_pending(&self) {
        crate::platform::futex_wait(&self.state, PENDING, None);
    }

    #[cfg(not(loom))]
    fn futex_wake_all(&self) {
        crate::platform::futex_wake_all(&self.state);
    }

    /// A futex wait for PENDING: returns at once if the word holds something else (a spin
    /// while the outcome is being written, which loom must be told about), else sleeps until
    /// a notify.
    #[cfg(loom)]
    fn futex_wait_pending(&self) {
        let bucket = self.futex.0.lock().unwrap();
        if self.state.load(SeqCst) == PENDING {
            drop(self.futex.1.wait(bucket).unwrap());
        } else {
            drop(bucket);
            loom::thread::yield_now();
        }
    }

    #[cfg(loom)]
    fn futex_wake_all(&self) {
        drop(self.futex.0.lock().unwrap());
        self.futex.1.notify_all();
    }
}

/// Orders a SeqCst store before the SeqCst load that follows it, under loom only. Loom models
/// SeqCst loads and stores as AcqRel ones (its `seq_cst` hook is a no-op: it may report
/// failures that cannot happen, never miss one), which loses the single total order that the
/// futex announcement relies on (module header); a SeqCst fence between each side's store
/// and load gives the models that order back. Natively and in wasm it is nothing: the
/// accesses themselves are SeqCst.
#[inline(always)]
fn seq_cst_order() {
    #[cfg(loom)]
    crate::platform::shim::fence(SeqCst);
}

/// The owned result of a goroutine started with [`crate::go`] or [`crate::Runtime::go`].
pub struct JoinHandle<T> {
    pub(crate) cell: Arc<JoinCell<T>>,
    pub(crate) goid: u64,
}

impl<T> JoinHandle<T> {
    /// The goroutine's id.
    pub fn id(&self) -> u64 {
        self.goid
    }

    /// Whether the goroutine has finished.
    pub fn is_finished(&self) -> bool {
        self.cell.state.load(Acquire) != PENDING
    }

    /// Blocks this thread until the goroutine finishes. For threads outside the runtime (tests,
    /// `main`, a Worker); a goroutine awaits the handle instead. Never on the page's main thread
    /// (it blocks with `wait32`).
    pub fn wait(self) -> Result<T, JoinError> {
        self.cell.wait()
    }
}

#[cfg(not(loom))]
impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if !self.cell.ready_or_register(cx.waker()) {
            super::set_wait_reason(super::WaitReason::Join);
            return Poll::Pending;
        }
        std::task::ready!(super::coop::poll_proceed(cx));
        Poll::Ready(self.cell.take().expect("JoinHandle polled after it returned its result"))
    }
}

/// The result cell of a goroutine whose future is built on the M that first runs it
/// (`Task::Unstarted`). Dropped before that (the runtime shut down first), it records
/// `JoinError::Cancelled`, as a dropped [`Goroutine`] does.
pub(crate) struct Unstarted<T> {
    cell: Option<Arc<JoinCell<T>>>,
    goid: u64,
}

impl<T> Unstarted<T> {
    pub(crate) fn new(cell: Arc<JoinCell<T>>, goid: u64) -> Self {
        Unstarted { cell: Some(cell), goid }
    }

    /// Wraps the goroutine's future, which takes over the cell.
    pub(crate) fn start<F: Future<Output = T>>(mut self, fut: F) -> Goroutine<F> {
        Goroutine::new(fut, self.cell.take().expect("started twice"), self.goid)
    }
}

impl<T> Drop for Unstarted<T> {
    fn drop(&mut self) {
        if let Some(cell) = self.cell.take() {
            cell.complete(Err(JoinError::Cancelled { goid: self.goid }));
        }
    }
}

/// A goroutine's future with its result cell: catches panics, records the outcome.
pub(crate) struct Goroutine<F: Future> {
    fut: F,
    cell: Option<Arc<JoinCell<F::Output>>>,
    goid: u64,
}

impl<F: Future> Goroutine<F> {
    pub(crate) fn new(fut: F, cell: Arc<JoinCell<F::Output>>, goid: u64) -> Self {
        Goroutine { fut, cell: Some(cell), goid }
    }
}

impl<F: Future> Future for Goroutine<F> {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // SAFETY: `fut` is structurally pinned: it is never moved out of `self`; the other
        // fields are not pinned.
        let this = unsafe { self.get_unchecked_mut() };
        // SAFETY: see above.
        let fut = unsafe { Pin::new_unchecked(&mut this.fut) };
        let outcome = match catch_unwind(AssertUnwindSafe(|| fut.poll(cx))) {
            Ok(Poll::Pending) => return Poll::Pending,
            Ok(Poll::Ready(v)) => Ok(v),
            Err(payload) => Err(JoinError::Panicked { goid: this.goid, message: panic_message(&*payload) }),
        };
        if let Some(cell) = this.cell.take() {
            cell.complete(outcome);
        }
        Poll::Ready(())
    }
}

impl<F: Future> Drop for Goroutine<F> {
    fn drop(&mut self) {
        if let Some(cell) = self.cell.take() {
            cell.complete(Err(JoinError::Cancelled { goid: self.goid }));
        }
    }
}

pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a non-string panic payload".to_string())
}

#[cfg(all(test, loom))]
mod loom_tests {
    //! The cell's protocol on the real `JoinCell`, completed by the real `Goroutine` wrapper
    //! (finishing, or dropped unfinished) and failed through `FailJoin`, against a joiner that
    //! runs `JoinHandle::poll`'s protocol (`ready_or_register`, then `take`) in
    //! `shim::block_on`, which blocks the thread until its waker is woken: a lost wake-up
    //! leaves it blocked forever, which loom reports as a deadlock. The goroutine's value
    //! counts its drops, so an outcome delivered twice, or leaked, fails the model.
    use super::*;
    use crate::platform::shim::loom_check as check;
    use crate::platform::shim::AtomicUsize;
    use std::sync::atomic::Ordering::Relaxed;

    /// A goroutine's value: counts how often it is dropped.
    struct Value(Arc<AtomicUsize>);

    impl Drop for Value {
        fn drop(&mut self) {
            self.0.fetch_add(1, Relaxed);
        }
    }

    /// Runs a goroutine that returns `v` at its first poll, as an M does.
    fn finish(cell: Arc<JoinCell<Value>>, v: Value) {
        let mut g = Goroutine::new(std::future::ready(v), cell, 1);
        let polled = Pin::new(&mut g).poll(&mut Context::from_waker(Waker::noop()));
        assert!(polled.is_ready());
    }

    /// `JoinHandle::poll` as a goroutine awaiting the handle runs it (less the wait reason
    /// and the coop budget, which do not touch the cell).
    fn join(cell: &JoinCell<Value>) -> Result<Value, JoinError> {
        crate::platform::shim::block_on(std::future::poll_fn(|cx| {
            if !cell.ready_or_register(cx.waker()) {
                return Poll::Pending;
            }
            Poll::Ready(cell.take().expect("a ready outcome is taken once, by its joiner"))
        }))
    }

    /// The goroutine finishes while its joiner polls: the joiner is woken or sees the outcome,
    /// and gets the value.
    #[test]
    fn loom_join_completion_vs_joiner() {
        check(4, || {
            let drops = Arc::new(AtomicUsize::new(0));
            let cell = Arc::new(JoinCell::new());
            let g = {
                let (cell, v) = (cell.clone(), Value(drops.clone()));
                loom::thread::spawn(move || finish(cell, v))
            };
            let out = join(&cell);
            assert!(out.is_ok());
            assert!(cell.take().is_none(), "delivered once");
            g.join().unwrap();
            drop(out);
            assert_eq!(drops.load(Relaxed), 1);
        });
    }

    /// The runtime fails the goroutine (deadlock) as it finishes: one outcome wins, the joiner
    /// gets it, and a losing value is dropped, once.
    #[test]
    fn loom_join_fail_races_completion() {
        check(4, || {
            let drops = Arc::new(AtomicUsize::new(0));
            let cell = Arc::new(JoinCell::new());
            let g = {
                let (cell, v) = (cell.clone(), Value(drops.clone()));
                loom::thread::spawn(move || finish(cell, v))
            };
            let failer = {
                let cell = cell.clone();
                let fail =
                    move |j: &dyn FailJoin| j.fail(JoinError::Deadlock { goid: 1, dump: String::new() });
                loom::thread::spawn(move || fail(&*cell))
            };
            let out = join(&cell);
            assert!(matches!(out, Ok(_) | Err(JoinError::Deadlock { .. })));
            g.join().unwrap();
            failer.join().unwrap();
            drop(out);
            assert_eq!(drops.load(Relaxed), 1);
        });
    }

    /// The goroutine is dropped unfinished (the runtime shut down) while its joiner polls: the
    /// joiner gets `Cancelled`.
    #[test]
    fn loom_join_cancel_wakes_joiner() {
        check(4, || {
            let cell = Arc::new(JoinCell::<Value>::new());
            let g = {
                let cell = cell.clone();
                loom::thread::spawn(move || drop(Goroutine::new(std::future::pending::<Value>(), cell, 1)))
            };
            assert!(matches!(join(&cell), Err(JoinError::Cancelled { goid: 1 })));
            g.join().unwrap();
        });
    }

    /// The handle is dropped while the goroutine finishes: the value is dropped once, with
    /// the cell, whichever side lets go last.
    #[test]
    fn loom_join_handle_dropped() {
        check(4, || {
            let drops = Arc::new(AtomicUsize::new(0));
            let cell = Arc::new(JoinCell::new());
            let handle = JoinHandle { cell: cell.clone(), goid: 1 };
            let g = {
                let v = Value(drops.clone());
                loom::thread::spawn(move || finish(cell, v))
            };
            drop(handle);
            g.join().unwrap();
            assert_eq!(drops.load(Relaxed), 1);
        });
    }

    /// A native thread blocks in `JoinHandle::wait` while the goroutine finishes: the futex
    /// announcement and the READY store never miss each other.
    #[test]
    fn loom_join_blocking_wait() {
        check(4, || {
            let drops = Arc::new(AtomicUsize::new(0));
            let cell = Arc::new(JoinCell::new());
            let handle = JoinHandle { cell: cell.clone(), goid: 1 };
            let g = {
                let v = Value(drops.clone());
                loom::thread::spawn(move || finish(cell, v))
            };
            assert!(handle.wait().is_ok());
            g.join().unwrap();
            assert_eq!(drops.load(Relaxed), 1);
        });
    }
}
