//! Timers (Go's `time` package): [`sleep`], [`after`], [`Timer`], [`after_func`], [`Ticker`],
//! and the runtime's clock.
//!
//! `sleep` is a timer in the current P's heap (`sched::timer`); `after` delivers on a channel
//! from a small goroutine that sleeps. A [`Timer`] or [`Ticker`] is an entry in a P's heap
//! whose waker, when it fires, sends the time on the channel without blocking (a slow receiver
//! loses ticks, as in Go), or starts the function of `after_func` as a goroutine. Their
//! machinery, [`Clock`], serves channels of any element type: the JS facade's timers send JS
//! values (`js/timers.rs`).
//!
//! # Stop and Reset (Go 1.23's semantics)
//! Each arming has a sequence number, kept with the live heap entry under the timer's lock. A
//! firing whose number is not the current one does nothing, so after `stop` or `reset` returns,
//! no value from before it is delivered, and a value already sent but not received is drained
//! from the channel: `c` never yields a stale time. `stop` and `reset` return whether the timer
//! was active (armed and not fired, or fired with its value still in the channel), as Go's do
//! since 1.23. The lock is taken before the channel's, by firings and by `stop` alike; the
//! page's thread may take it (a platform lock: it spins there, never waits).
//!
//! # Timers nobody can receive from
//! Go 1.23 collects a timer or ticker the program no longer refers to, even unstopped. Here a
//! firing that finds the channel held by nothing but the timer itself (no handle left to
//! receive with) sends nothing and does not arm a ticker's next tick, so the timer's state is
//! freed with its heap entry. Whoever makes a timer holds a handle to its channel before it
//! is armed (Rust's `Timer` keeps one in `c`; the JS facade's ref keeps one until JS takes it),
//! and nothing but those handles can make another, so once none is left none comes back: the
//! check is final.

use crate::chan::{chan, Chan};
use crate::platform::lock::Lock;
use crate::sched::timer::{add_timer, TimerEntry};
pub use crate::sched::timer::{sleep, Sleep};
use crate::sched::Shared;
use std::sync::Arc;
use std::task::{Wake, Waker};
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

/// A single event (Go's `time.Timer`): once its duration has passed, the time is sent on `c`
/// (or, for [`after_func`], its function starts as a goroutine).
pub struct Timer {
    /// The channel the time is sent on; for an [`after_func`] timer, one nothing is ever sent
    /// on (Go's nil `C`).
    pub c: Chan<Instant>,
    clock: Clock<Instant>,
}

/// Delivers the time on `c` every period until stopped (Go's `time.Ticker`).
pub struct Ticker {
    pub c: Chan<Instant>,
    clock: Clock<Instant>,
}

/// Starts `f()` as a goroutine once `d` has passed (Go's `time.AfterFunc`); the returned timer
/// can stop it or run it again later. The timer need not be kept: dropping it does not stop it.
///
/// # Panics
/// Outside a goroutine.
pub fn after_func<F, Fut>(d: Duration, f: F) -> Timer
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let shared = crate::sched::current_shared().expect("gort::time::after_func called outside a goroutine");
    let start: StartFn = Box::new(move |shared: &Arc<Shared>| {
        shared.go(f());
    });
    Timer { c: chan(0), clock: Clock::after_func_in(&shared, d, start) }
}

impl Timer {
    /// A timer that sends the time on `c` once `d` has passed (Go's `time.NewTimer`; zero:
    /// at once).
    ///
    /// # Panics
    /// Outside a goroutine.
    pub fn new(d: Duration) -> Timer {
        let shared =
            crate::sched::current_shared().expect("gort::time::Timer::new called outside a goroutine");
        let c = chan(1);
        Timer { clock: Clock::timer_in(&shared, d, c.clone(), std::convert::identity), c }
    }

    /// Stops the timer: whether it was active (Go's `Stop`). After it returns, `c` yields no
    /// time from before the call, and a function of `after_func` that had not started will not.
    pub fn stop(&self) -> bool {
        self.clock.stop()
    }

    /// Stops the timer and arms it again for `d` from now: whether it was active (Go's
    /// `Reset`).
    pub fn reset(&self, d: Duration) -> bool {
        self.clock.reset(d)
    }
}

impl Drop for Timer {
    /// A timer nobody holds can send to nobody (Go collects it); an `after_func` timer runs on.
    fn drop(&mut self) {
        if self.clock.sends() {
            self.clock.stop();
        }
    }
}

impl Ticker {
    /// # Panics
    /// If `period` is zero (as Go's `NewTicker`), or outside a goroutine.
    pub fn new(period: Duration) -> Ticker {
        let shared =
            crate::sched::current_shared().expect("gort::time::Ticker::new called outside a goroutine");
        let c = chan(1);
        Ticker { clock: Clock::ticker_in(&shared, period, c.clone(), std::convert::identity), c }
    }

    /// Stops future ticks; the channel stays open, as in Go, and yields no tick sent before.
    pub fn stop(&self) {
        self.clock.stop();
    }

    /// Stops the ticker and restarts it with `period` (Go's `Reset`).
    ///
    /// # Panics
    /// If `period` is zero.
    pub fn reset(&self, period: Duration) {
        self.clock.reset_period(period);
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.stop();
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// Starts an `after_func`'s goroutine, in the runtime given.
pub(crate) type StartFn = Box<dyn Fn(&Arc<Shared>) + Send + Sync>;

/// The machinery of a [`Timer`] or [`Ticker`] over a channel of any element type (the JS
/// facade's send JS values); armed from any thread, the page's included (module header).
/// Dropping it does not stop it.
pub(crate) struct Clock<T: Send + 'static>(Arc<Clockwork<T>>);

impl<T: Send + 'static> Clock<T> {
    /// A timer that sends `stamp(now)` on `c` once `d` has passed.
    pub(crate) fn timer_in(shared: &Arc<Shared>, d: Duration, c: Chan<T>, stamp: fn(Instant) -> T) -> Self {
        Clock::start(shared, Action::Send(c, stamp), 0, nanos(d))
    }

    /// A ticker that sends `stamp(now)` on `c` every `period`.
    ///
    /// # Panics
    /// If `period` is zero (Go's "non-positive interval for NewTicker").
    pub(crate) fn ticker_in(
        shared: &Arc<Shared>,
        period: Duration,
        c: Chan<T>,
        stamp: fn(Instant) -> T,
    ) -> Self {
        assert!(!period.is_zero(), "non-positive interval for Ticker::new");
        Clock::start(shared, Action::Send(c, stamp), nanos(period), nanos(period))
    }

    /// A timer that calls `start` once `d` has passed.
    pub(crate) fn after_func_in(shared: &Arc<Shared>, d: Duration, start: StartFn) -> Self {
        Clock::start(shared, Action::Start(start), 0, nanos(d))
    }

    fn start(shared: &Arc<Shared>, action: Action<T>, period: u64, after: u64) -> Self {
        let clock = Clockwork::new(shared, action, period);
        clock.arm(after);
        Clock(clock)
    }

    /// Whether it sends on a channel (not an `after_func`).
    fn sends(&self) -> bool {
        matches!(self.0.action, Action::Send(..))
    }

    /// Go's `Timer.Stop` (and `Ticker.Stop`): whether it was active.
    pub(crate) fn stop(&self) -> bool {
        self.0.stop()
    }

    /// Go's `Timer.Reset`: whether it was active.
    pub(crate) fn reset(&self, d: Duration) -> bool {
        let active = self.0.stop();
        self.0.arm(nanos(d));
        active
    }

    /// Go's `Ticker.Reset`: stops the ticker and restarts it with `period`.
    ///
    /// # Panics
    /// If `period` is zero (Go's "non-positive interval for Ticker.Reset").
    pub(crate) fn reset_period(&self, period: Duration) {
        assert!(!period.is_zero(), "non-positive interval for Ticker::reset");
        self.0.stop();
        self.0.state.lock().period = nanos(period);
        self.0.arm(nanos(period));
    }
}

/// What a timer does when it fires.
enum Action<T> {
    /// Sends `stamp(now)` on the channel, without blocking.
    Send(Chan<T>, fn(Instant) -> T),
    Start(StartFn),
}

/// The state a [`Clock`] shares with its heap entry's waker (module header).
struct Clockwork<T> {
    shared: std::sync::Weak<Shared>,
    action: Action<T>,
    state: Lock<Armed>,
}

struct Armed {
    /// The current arming; a firing of another is stale.
    seq: u64,
    /// The heap entry of the current arming, until it fires (None: stopped, fired, or armed
    /// by a goroutine that has not run yet, `pending`).
    entry: Option<Arc<TimerEntry>>,
    /// Armed from outside the runtime's Ms, waiting for the goroutine that adds the entry.
    pending: bool,
    /// A ticker's period in ns (0: a one-shot timer).
    period: u64,
    /// When the current arming fires (ns on the runtime's clock).
    when: u64,
}

/// The waker of one arming's heap entry.
struct Fire<T> {
    clock: Arc<Clockwork<T>>,
    seq: u64,
}

impl<T: Send + 'static> Wake for Fire<T> {
    fn wake(self: Arc<Self>) {
        self.clock.fire(self.seq);
    }
}

impl<T: Send + 'static> Clockwork<T> {
    fn new(shared: &Arc<Shared>, action: Action<T>, period: u64) -> Arc<Self> {
        Arc::new(Clockwork {
            shared: Arc::downgrade(shared),
            action,
            state: Lock::new(Armed { seq: 0, entry: None, pending: false, period, when: 0 }),
        })
    }

    /// Arms a new firing `after` ns from now.
    fn arm(self: &Arc<Self>, after: u64) {
        let seq = {
            let mut st = self.state.lock();
            st.seq += 1;
            st.seq
        };
        self.arm_at(seq, crate::sched::timer::now().saturating_add(after));
    }

    /// Adds arming `seq`'s heap entry for `when`, unless a stop or another arming came first:
    /// on this thread's P, or, outside the runtime's Ms, through a goroutine that does it.
    fn arm_at(self: &Arc<Self>, seq: u64, when: u64) {
        let mut st = self.state.lock();
        if st.seq != seq {
            return;
        }
        st.when = when;
        let waker = Waker::from(Arc::new(Fire { clock: self.clone(), seq }));
        match add_timer(when, waker) {
            Some(entry) => {
                st.entry = Some(entry);
                st.pending = false;
            }
            None => {
                st.pending = true;
                drop(st);
                if let Some(shared) = self.shared.upgrade() {
                    let clock = self.clone();
                    shared.go(async move { clock.arm_at(seq, when) });
                }
            }
        }
    }

    /// Arming `seq` fired: acts, unless it is stale or nothing can receive what it would send
    /// (module header); a ticker arms its next tick, on its phase (Go's: ticks a slow M missed
    /// are skipped, not bunched).
    fn fire(self: &Arc<Self>, seq: u64) {
        let now = crate::sched::timer::now();
        let mut st = self.state.lock();
        if st.seq != seq || st.entry.take().is_none() {
            return;
        }
        if let Action::Send(c, stamp) = &self.action {
            if Arc::strong_count(&c.inner) == 1 {
                return;
            }
            // Under the lock: a stop that follows drains it.
            let _ = c.try_send(stamp(Instant { ns: now }));
        }
        if st.period > 0 {
            let (when, period) = (st.when, st.period);
            let next = when.saturating_add(period.saturating_mul(1 + now.saturating_sub(when) / period));
            st.seq += 1;
            let seq = st.seq;
            drop(st);
            self.arm_at(seq, next);
            return;
        }
        drop(st);
        if let (Action::Start(start), Some(shared)) = (&self.action, self.shared.upgrade()) {
            start(&shared);
        }
    }

    /// Stops the current arming: whether the timer was active.
    fn stop(&self) -> bool {
        let mut st = self.state.lock();
        st.seq += 1;
        let mut active = std::mem::take(&mut st.pending);
        if let Some(entry) = st.entry.take() {
            active |= entry.cancel();
        }
        if let Action::Send(c, _) = &self.action {
            active |= c.try_recv().is_ok();
        }
        active
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// The heap entries (and firings under way) that hold the clock: none once it went quiet.
    fn entries(clock: &Clock<u32>) -> usize {
        Arc::strong_count(&clock.0) - 1
    }

    /// A ticker ticks while a handle to its channel is left, and goes quiet at the first tick
    /// after the last one is dropped (module header): no entry holds it then.
    #[test]
    fn a_ticker_nobody_can_receive_from_goes_quiet() {
        let rt = crate::Runtime::builder().procs(2).start();
        rt.block_on(async {
            let shared = crate::sched::current_shared().unwrap();
            let c = chan::<u32>(1);
            let clock = Clock::ticker_in(&shared, Duration::from_millis(2), c.clone(), |_| 7);
            assert_eq!(c.recv().await, Some(7));
            assert_eq!(c.recv().await, Some(7));
            assert!(entries(&clock) >= 1, "a ticker with a receiver stays armed");
            drop(c);
            for _ in 0..1000 {
                if entries(&clock) == 0 {
                    return;
                }
                sleep(Duration::from_millis(1)).await;
            }
            panic!("the ticker kept ticking with nobody to receive");
        })
        .unwrap();
    }
}
