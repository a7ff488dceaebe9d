//! The clock the workloads time themselves with: gort's own clock (`gort::time::Instant`),
//! monotonic and the same on every thread, because a goroutine that awaits may resume on
//! another M (in the browser, `performance.timeOrigin + performance.now()`, which
//! cross-origin isolated pages see in 5 µs steps).

use gort::time::Instant;

/// A point in time on this clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Stamp(Instant);

impl Stamp {
    pub fn now() -> Stamp {
        Stamp(Instant::now())
    }

    /// Nanoseconds since `self`.
    pub fn elapsed_ns(self) -> u64 {
        self.0.elapsed().as_nanos() as u64
    }

    /// Nanoseconds from `earlier` to `self` (0 if `earlier` is later).
    pub fn since(self, earlier: Stamp) -> u64 {
        self.0.duration_since(earlier.0).as_nanos() as u64
    }
}

/// Milliseconds, as bench.go reports durations.
pub fn ms(ns: u64) -> f64 {
    ns as f64 / 1e6
}

/// The smallest non-zero difference between consecutive readings over 200000 readings
/// (bench.go's `meta.clock_step`), in ns.
pub fn step_ns() -> u64 {
    let mut last = Stamp::now();
    let mut step = u64::MAX;
    for _ in 0..200_000 {
        let t = Stamp::now();
        let d = t.since(last);
        if d > 0 && d < step {
            step = d;
        }
        last = t;
    }
    step
}
