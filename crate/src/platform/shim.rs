//! Synchronization primitives used by the lock-free parts of the scheduler.
//!
//! Under `cfg(loom)` they come from loom, so that `cargo test --cfg loom` explores every
//! interleaving of the run queue, the inbox and the park/wake protocol; otherwise from std.

#[cfg(loom)]
pub(crate) use loom::sync::{
    atomic::{fence, AtomicBool, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize},
    Arc,
};
#[cfg(not(loom))]
pub(crate) use std::sync::{
    atomic::{fence, AtomicBool, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize},
    Arc,
};

#[cfg(loom)]
pub(crate) use loom::cell::UnsafeCell;

/// std's `UnsafeCell` behind loom's closure API, so that code shared with the models lets loom
/// check every access to the cell for data races.
#[cfg(not(loom))]
pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

#[cfg(not(loom))]
impl<T> UnsafeCell<T> {
    pub(crate) const fn new(v: T) -> Self {
        UnsafeCell(std::cell::UnsafeCell::new(v))
    }

    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }
}

/// Runs a loom model, exploring every interleaving with at most `bound` preemptions per
/// execution (unless LOOM_MAX_PREEMPTIONS says otherwise): the bugs loom finds need only a
/// few, and the unbounded search of the models takes minutes.
#[cfg(all(test, loom))]
pub(crate) fn loom_check<F: Fn() + Sync + Send + 'static>(bound: usize, f: F) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = builder.preemption_bound.or(Some(bound));
    builder.check(f);
}

/// Drives `f` to completion on this loom thread, as a goroutine awaiting it would be: polls
/// it, and while it is pending blocks until its waker is woken. A wake-up that never comes
/// leaves the thread blocked, which loom reports as a deadlock.
#[cfg(all(test, loom))]
pub(crate) fn block_on<F: std::future::Future>(f: F) -> F::Output {
    struct Wakeup(loom::sync::Notify);

    impl std::task::Wake for Wakeup {
        fn wake(self: std::sync::Arc<Self>) {
            self.0.notify();
        }
    }

    let wakeup = std::sync::Arc::new(Wakeup(loom::sync::Notify::new()));
    let waker = std::task::Waker::from(wakeup.clone());
    let mut cx = std::task::Context::from_waker(&waker);
    let mut f = std::pin::pin!(f);
    loop {
        if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
        wakeup.0.wait();
    }
}
