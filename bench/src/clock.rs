//! The clock the workloads time themselves with: monotonic, in nanoseconds, and the same on
//! every thread, because a goroutine that awaits may resume on another M.
//!
//! Natively it is `Instant`. In the browser each Worker's `performance.now()` counts from its
//! own time origin, so the clock is `performance.timeOrigin + performance.now()` taken from a
//! fixed epoch, as gort's own web platform does (`crate/src/platform/web.rs`); cross-origin
//! isolated pages see it in 5 µs steps.

/// A point in time on this clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Stamp(u64);

impl Stamp {
    pub fn now() -> Stamp {
        Stamp(imp::now_ns())
    }

    /// Nanoseconds since `self`.
    pub fn elapsed_ns(self) -> u64 {
        imp::now_ns().saturating_sub(self.0)
    }

    /// Nanoseconds from `earlier` to `self` (0 if `earlier` is later).
    pub fn since(self, earlier: Stamp) -> u64 {
        self.0.saturating_sub(earlier.0)
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

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    use std::sync::OnceLock;
    use std::time::Instant;

    pub(super) fn now_ns() -> u64 {
        static EPOCH: OnceLock<Instant> = OnceLock::new();
        EPOCH.get_or_init(Instant::now).elapsed().as_nanos() as u64
    }
}

#[cfg(target_arch = "wasm32")]
mod imp {
    use std::cell::Cell;
    use wasm_bindgen::prelude::*;

    #[wasm_bindgen]
    extern "C" {
        #[wasm_bindgen(js_namespace = performance, js_name = now)]
        fn performance_now() -> f64;
        #[wasm_bindgen(thread_local_v2, js_namespace = performance, js_name = timeOrigin)]
        static TIME_ORIGIN: f64;
    }

    /// 2024-01-01T00:00:00Z in ms since the Unix epoch: keeps the sums small and exact enough.
    const EPOCH_MS: f64 = 1_704_067_200_000.0;

    thread_local! {
        static ORIGIN_MS: Cell<f64> = Cell::new(TIME_ORIGIN.with(|o| *o) - EPOCH_MS);
    }

    pub(super) fn now_ns() -> u64 {
        let ms = ORIGIN_MS.with(Cell::get) + performance_now();
        (ms * 1e6) as u64
    }
}
