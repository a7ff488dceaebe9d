//! Go's timers from JavaScript: `rt.timer`, `rt.afterFunc` and `rt.ticker` (pkg/src/realm.js).
//!
//! Each is a [`Clock`] of the runtime (`time.rs`: Go 1.23's Stop and Reset) whose channel
//! carries JS values: the time it fired, in ms on the scale of `performance.timeOrigin +
//! performance.now()`, as `rt.after` sends. JS holds a [`TimerRef`] or [`TickerRef`] and, for
//! the channel, a `ChanRef` it takes from it once ([`TimerRef::take_chan`]): until then the ref
//! keeps that handle, so that the channel is never without one outside the clock (which would
//! make the clock go quiet at its first firing). These refs are not handles:
//! they never travel in a Message (a goroutine is sent the timer's channel instead), so they
//! live in the realm that made them. Dropping one does not stop its clock: a timer whose
//! channel a goroutine still holds fires as in Go; one whose channel nothing holds any more
//! goes quiet at its next firing (`time.rs`).
//!
//! # afterFunc
//! A firing starts the JS goroutine exactly as `rt.go(target, ...args)` does (`go_js`), from
//! the target and the arguments' Message kept with the clock: each firing (a timer can be
//! `reset` and fire again) starts with its own copy of that Message (the same bytes, the same
//! runtime objects), since a goroutine consumes its arguments. Nobody can join these
//! goroutines: they are detached, and a failure is reported as uncaught where it happened
//! (`target.rs`). Nothing runs between firings:
//! no goroutine waits for the deadline, the clock is a heap entry. A firing that cannot start
//! its goroutine (memory cannot hold it) has no caller to fail: it says so on the console of
//! the M that fired it.
//!
//! # Where they are armed
//! The page arms through the runtime's goroutines (`Clock` does, outside every M); a goroutine
//! in a Worker arms on its own M's P, taken back for the call as `workerGo` does, and makes its
//! M look at its timers again (it may be parked with a timeout that ends later than the new
//! deadline).

use super::op::{duration_ms, time_now};
use super::target::Target;
use super::value::{ChanRef, Message};
use super::{current_shared, go_js, RuntimeCore};
use crate::chan::Chan;
use crate::sched::origin::Name;
use crate::sched::{self, Shared};
use crate::time::{Clock, Instant, StartFn};
use std::sync::{Arc, Weak};
use std::time::Duration;
use wasm_bindgen::prelude::*;

/// What a JS timer's channel receives: the time now, as `rt.after` sends it.
fn stamp(_: Instant) -> Message {
    time_now()
}

/// Runs `arm`, which arms a clock of runtime `shared`: on this thread's own P if it is an M of
/// that runtime and the P is free (a goroutine's JS code in a Worker), and then makes that M
/// look at its timers again (module header).
fn arming<R>(shared: &Arc<Shared>, arm: impl FnOnce() -> R) -> R {
    let r = sched::with_own_p(shared, arm);
    if sched::current_shared().is_some_and(|here| Arc::ptr_eq(&here, shared)) {
        sched::unpark_current_m();
    }
    r
}

/// A ticker's period: `ms` > 0 (at least 1 ns), else Go's "non-positive interval" as a
/// `RangeError` naming `what`.
fn period(ms: f64, what: &str) -> Result<Duration, JsValue> {
    if ms > 0.0 {
        Ok(duration_ms(ms).max(Duration::from_nanos(1)))
    } else {
        Err(js_sys::RangeError::new(&format!("{what}: non-positive interval {ms} ms")).into())
    }
}

/// A timer of `rt.timer` or `rt.afterFunc` (Go's `*time.Timer`), as JS holds it.
#[wasm_bindgen]
pub struct TimerRef {
    clock: Clock<Message>,
    /// `rt.timer`'s channel until JS takes it; never one for `rt.afterFunc` (Go's nil `C`).
    chan: Option<Chan<Message>>,
    shared: Weak<Shared>,
}

// A call that panicked (an allocation failure) leaves the clock usable: its state changes
// only under its lock, each change a whole assignment, and the afterFunc's kept target and
// arguments are only read.
impl std::panic::RefUnwindSafe for TimerRef {}
impl std::panic::RefUnwindSafe for TickerRef {}

#[wasm_bindgen]
impl TimerRef {
    /// The channel the time is sent on, once (module header); undefined for `rt.afterFunc`
    /// (Go's nil `C`), or if it was taken already.
    #[wasm_bindgen(js_name = takeChan)]
    pub fn take_chan(&mut self) -> Option<ChanRef> {
        self.chan.take().map(|chan| ChanRef { chan })
    }

    /// Go's `Timer.Stop`: whether the timer was active.
    pub fn stop(&self) -> bool {
        self.clock.stop()
    }

    /// Go's `Timer.Reset` for `ms` (as `rt.sleep` takes it): whether the timer was active.
    pub fn reset(&self, ms: f64) -> bool {
        let d = duration_ms(ms);
        match self.shared.upgrade() {
            Some(shared) => arming(&shared, || self.clock.reset(d)),
            None => self.clock.reset(d), // the runtime is gone: nothing will fire
        }
    }
}

/// A ticker of `rt.ticker` (Go's `*time.Ticker`), as JS holds it.
#[wasm_bindgen]
pub struct TickerRef {
    clock: Clock<Message>,
    /// Its channel until JS takes it.
    chan: Option<Chan<Message>>,
    shared: Weak<Shared>,
}

#[wasm_bindgen]
impl TickerRef {
    /// The channel the ticks are sent on, once (module header); undefined if it was taken
    /// already.
    #[wasm_bindgen(js_name = takeChan)]
    pub fn take_chan(&mut self) -> Option<ChanRef> {
        self.chan.take().map(|chan| ChanRef { chan })
    }

    /// Go's `Ticker.Stop`.
    pub fn stop(&self) {
        self.clock.stop();
    }

    /// Go's `Ticker.Reset`; a `RangeError` for `ms` ≤ 0 or NaN (Go panics), which changes
    /// nothing.
    pub fn reset(&self, ms: f64) -> Result<(), JsValue> {
        let p = period(ms, "Ticker.reset")?;
        match self.shared.upgrade() {
            Some(shared) => arming(&shared, || self.clock.reset_period(p)),
            None => self.clock.reset_period(p),
        }
        Ok(())
    }
}

fn timer(shared: &Arc<Shared>, ms: f64) -> TimerRef {
    let chan = ChanRef::new(1).chan;
    let clock = arming(shared, || Clock::timer_in(shared, duration_ms(ms), chan.clone(), stamp));
    TimerRef { clock, chan: Some(chan), shared: Arc::downgrade(shared) }
}

fn ticker(shared: &Arc<Shared>, ms: f64) -> Result<TickerRef, JsValue> {
    let p = period(ms, "rt.ticker")?;
    let chan = ChanRef::new(1).chan;
    let clock = arming(shared, || Clock::ticker_in(shared, p, chan.clone(), stamp));
    Ok(TickerRef { clock, chan: Some(chan), shared: Arc::downgrade(shared) })
}

fn after_func(shared: &Arc<Shared>, ms: f64, target: Target, args: Message) -> TimerRef {
    let target = target.detach();
    let start: StartFn = Box::new(move |shared: &Arc<Shared>| {
        let started = match args.duplicate() {
            Some(args) => go_js(shared, target.clone(), args, 0, Name::Static("rt.afterFunc")).map(drop),
            None => {
                Err(js_sys::RangeError::new("out of memory: memory could not hold a copy of its arguments")
                    .into())
            }
        };
        if let Err(e) = started {
            web_sys::console::error_2(
                &"gort: rt.afterFunc: its timer fired, but its goroutine could not start:".into(),
                &e,
            );
        }
    });
    let clock = arming(shared, || Clock::after_func_in(shared, duration_ms(ms), start));
    TimerRef { clock, chan: None, shared: Arc::downgrade(shared) }
}

#[wasm_bindgen]
impl RuntimeCore {
    /// `rt.timer(ms)` on the page.
    pub fn timer(&self, ms: f64) -> TimerRef {
        timer(&self.core.shared, ms)
    }

    /// `rt.ticker(ms)` on the page; a `RangeError` for `ms` ≤ 0 or NaN.
    pub fn ticker(&self, ms: f64) -> Result<TickerRef, JsValue> {
        ticker(&self.core.shared, ms)
    }

    /// `rt.afterFunc(ms, target, ...args)` on the page: `args` is kept, and copied for each
    /// firing's goroutine (module header).
    #[wasm_bindgen(js_name = afterFunc)]
    pub fn after_func(&self, ms: f64, target: Target, args: Message) -> TimerRef {
        after_func(&self.core.shared, ms, target, args)
    }
}

/// `rt.timer(ms)` inside a goroutine.
#[wasm_bindgen(js_name = workerTimer)]
pub fn worker_timer(ms: f64) -> Result<TimerRef, JsValue> {
    Ok(timer(&current_shared()?, ms))
}

/// `rt.ticker(ms)` inside a goroutine.
#[wasm_bindgen(js_name = workerTicker)]
pub fn worker_ticker(ms: f64) -> Result<TickerRef, JsValue> {
    ticker(&current_shared()?, ms)
}

/// `rt.afterFunc(ms, target, ...args)` inside a goroutine.
#[wasm_bindgen(js_name = workerAfterFunc)]
pub fn worker_after_func(ms: f64, target: Target, args: Message) -> Result<TimerRef, JsValue> {
    Ok(after_func(&current_shared()?, ms, target, args))
}
