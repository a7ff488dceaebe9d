//! `JoinHandle`: a goroutine's result, awaitable from a goroutine, blockable from a native
//! thread, and waitable from the page's main thread through the address of its state word
//! (`Atomics.waitAsync`).
//!
//! The goroutine's future is wrapped in [`Goroutine`], which catches a panic at the poll (as
//! tokio does) and stores the outcome exactly once: `value` is written, then `state` becomes
//! READY (SeqCst, which includes Release), then the waiters are woken (a futex notify only if a
//! thread announced it waits on the word, and the `Waker`). Readers load
//! `state` with Acquire before touching `value`. If the goroutine is dropped unfinished (the
//! runtime shut down), the outcome is `JoinError::Cancelled`, so no joiner waits forever; this
//! holds too for a goroutine dropped before its future was even built ([`Unstarted`]).

use crate::platform::shim::{Arc, AtomicU32};
use std::cell::UnsafeCell;
use std::fmt;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::Ordering::{AcqRel, Acquire, SeqCst};
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
    /// Non-zero once a thread may wait on `state` with a futex (`JoinHandle::wait`, or the
    /// page's `Atomics.waitAsync`): only then does completing pay for a notify, which in the
    /// browser costs a trip through the engine's global futex table.
    waiters: AtomicU32,
    value: UnsafeCell<Option<Result<T, JoinError>>>,
    waker: Mutex<Option<Waker>>,
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
        }
    }

    /// Records the outcome unless one was recorded already (the goroutine finishing and the
    /// runtime failing it may race; the first wins).
    fn complete(&self, outcome: Result<T, JoinError>) {
        if self.state.compare_exchange(PENDING, WRITING, AcqRel, Acquire).is_err() {
            return;
        }
        // SAFETY: winning PENDING → WRITING makes this the only writer, before READY is published.
        unsafe { *self.value.get() = Some(outcome) };
        // SeqCst, against `expect_waiter`: either the waiter's futex wait sees READY, or this
        // sees the waiter's flag and notifies.
        self.state.store(READY, SeqCst);
        if self.waiters.load(SeqCst) != 0 {
            crate::platform::futex_wake_all(&self.state);
        }
        if let Some(w) = self.waker.lock().unwrap().take() {
            w.wake();
        }
    }

    /// Takes the outcome once it is READY; None while pending or once taken.
    pub(crate) fn take(&self) -> Option<Result<T, JoinError>> {
        if self.state.compare_exchange(READY, TAKEN, AcqRel, Acquire).is_ok() {
            // SAFETY: winning READY → TAKEN makes this the only reader, after the write.
            unsafe { (*self.value.get()).take() }
        } else {
            None
        }
    }

    /// Announces a futex waiter on `state`; call before waiting.
    pub(crate) fn expect_waiter(&self) {
        self.waiters.store(1, SeqCst);
    }

    pub(crate) fn is_ready(&self) -> bool {
        self.state.load(Acquire) == READY
    }
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
        self.cell.expect_waiter();
        loop {
            if let Some(outcome) = self.cell.take() {
                return outcome;
            }
            crate::platform::futex_wait(&self.cell.state, PENDING, None);
        }
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if !self.cell.is_ready() {
            *self.cell.waker.lock().unwrap() = Some(cx.waker().clone());
            if !self.cell.is_ready() {
                super::set_wait_reason(super::WaitReason::Join);
                return Poll::Pending;
            }
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
