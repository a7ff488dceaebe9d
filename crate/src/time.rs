//! Timers (Go's `time` package): [`sleep`], [`after`], [`Ticker`], and the runtime's clock.
//!
//! `sleep` is a timer in the current P's heap (`sched::timer`). `after` and `Ticker` deliver
//! on channels from a small goroutine each, which sleeps and then sends without blocking: a
//! ticker whose receiver is slow drops ticks, as Go's does.

use crate::chan::{chan, Chan};
pub use crate::sched::timer::{sleep, Sleep};
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::{Acquire, Release};
use std::sync::Arc;
use std::time::Duration;

/// A reading of the runtime's monotonic clock, which every M (and, in the browser, the page)
/// shares.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant {
    ns: u64,
}

impl Instant {
    pub fn now() -> Self {
        Instant { ns: crate::sched::timer::now() }
    }

    pub fn elapsed(&self) -> Duration {
        Instant::now().duration_since(*self)
    }

    /// Zero if `earlier` is later.
    pub fn duration_since(&self, earlier: Instant) -> Duration {
        Duration::from_nanos(self.ns.saturating_sub(earlier.ns))
    }

    pub fn checked_add(&self, d: Duration) -> Option<Instant> {
        u64::try_from(d.as_nanos()).ok().and_then(|d| self.ns.checked_add(d)).map(|ns| Instant { ns })
    }
}

/// A channel that receives the time once `d` has passed since the call (Go's `time.After`).
///
/// # Panics
/// Outside a goroutine.
pub fn after(d: Duration) -> Chan<Instant> {
    let c = chan(1);
    let tx = c.clone();
    let timer = sleep(d);
    crate::go(async move {
        timer.await;
        let _ = tx.try_send(Instant::now());
    });
    c
}

/// Delivers the time on `c` every period until stopped (Go's `time.Ticker`).
pub struct Ticker {
    pub c: Chan<Instant>,
    stopped: Arc<AtomicBool>,
}

impl Ticker {
    /// # Panics
    /// If `period` is zero (as Go's `NewTicker`), or outside a goroutine.
    pub fn new(period: Duration) -> Ticker {
        assert!(!period.is_zero(), "non-positive interval for Ticker::new");
        let c = chan(1);
        let stopped = Arc::new(AtomicBool::new(false));
        let (tx, stop) = (c.clone(), stopped.clone());
        crate::go(async move {
            let mut next = Instant::now();
            loop {
                next = next.checked_add(period).expect("ticker deadline overflow");
                sleep(next.duration_since(Instant::now())).await;
                if stop.load(Acquire) {
                    return;
                }
                let _ = tx.try_send(Instant::now());
            }
        });
        Ticker { c, stopped }
    }

    /// Stops future ticks; the channel stays open, as in Go.
    pub fn stop(&self) {
        self.stopped.store(true, Release);
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.stop();
    }
}
