//! Cooperative preemption budget (tokio's coop): every poll of a goroutine starts with a
//! budget of operations; each runtime operation that completes without waiting spends one.
//! When it runs out, the operation reports Pending and wakes its goroutine at once, which
//! sends the goroutine to the back of its P's run queue. A goroutine that keeps finding its
//! channels ready therefore still lets the others run.
//!
//! The budget lives in a thread-local: only the goroutine being polled on this thread uses it.

use std::cell::Cell;
use std::task::{Context, Poll};

/// Operations per poll, as in tokio.
pub(crate) const BUDGET: u32 = 128;

thread_local! {
    static LEFT: Cell<u32> = const { Cell::new(u32::MAX) };
}

/// Gives the goroutine about to be polled a fresh budget.
pub(crate) fn reset() {
    LEFT.with(|b| b.set(BUDGET));
}

/// Outside a goroutine poll (never reset on this thread) the budget is unlimited.
pub(crate) fn poll_proceed(cx: &mut Context<'_>) -> Poll<()> {
    LEFT.with(|b| match b.get() {
        0 => {
            cx.waker().wake_by_ref();
            Poll::Pending
        }
        n => {
            b.set(n - 1);
            Poll::Ready(())
        }
    })
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::task::Waker;

    #[test]
    fn budget_runs_out_and_resets() {
        let mut cx = Context::from_waker(Waker::noop());
        reset();
        for _ in 0..BUDGET {
            assert!(poll_proceed(&mut cx).is_ready());
        }
        assert!(poll_proceed(&mut cx).is_pending());
        reset();
        assert!(poll_proceed(&mut cx).is_ready());
    }
}
