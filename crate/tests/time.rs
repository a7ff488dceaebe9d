//! Go's `time` semantics for timers, `after_func` and tickers: Stop and Reset with Go 1.23's
//! rules (their results, and no stale value after them), on real threads.
//!
//! Ported from Go's time/sleep_test.go and tick_test.go where they apply (`TestAfterFunc`,
//! `TestAfterStop`, `TestReset`, `TestTimerStopStaleValue`, `TestTimerResetStaleValue`); as
//! there, the tests that race a timer against others retry with longer durations before they
//! fail, and every other bound on time is one way (never early) or generous.

use gort::chan::{chan, Chan, TryRecvError};
use gort::time::{after, after_func, sleep, Instant, Ticker, Timer};
use std::sync::atomic::Ordering::SeqCst;
use std::sync::atomic::{AtomicBool, AtomicI32};
use std::sync::Arc;
use std::time::Duration;

mod common;
use common::run;
use gort_test_macros::test;

const MS: Duration = Duration::from_millis(1);

#[test]
fn timer_sends_once_and_never_early() {
    for procs in [1, 2] {
        run(procs, async {
            let start = Instant::now();
            let t = Timer::new(20 * MS);
            let at = t.c.recv().await.expect("the timer's time");
            assert!(at.duration_since(start) >= 20 * MS && start.elapsed() >= 20 * MS, "fired early");
            sleep(30 * MS).await;
            assert_eq!(t.c.try_recv(), Err(TryRecvError::Empty), "a timer fires once");
            assert!(!t.stop(), "stop after the value was received: not active");
            // Zero fires at once.
            let z = Timer::new(Duration::ZERO);
            z.c.recv().await.expect("a zero timer fires");
        });
    }
}

#[test]
fn after_func_runs_its_function_as_a_goroutine() {
    // Go's TestAfterFunc: each run schedules the next with AfterFunc(0) and sleeps.
    run(2, async {
        let left = Arc::new(AtomicI32::new(10));
        let done = chan::<()>(1);
        fn step(left: Arc<AtomicI32>, done: Chan<()>) {
            let f = move || {
                let (left, done) = (left.clone(), done.clone());
                async move {
                    if left.fetch_sub(1, SeqCst) > 0 {
                        step(left, done);
                        sleep(Duration::from_secs(1)).await;
                    } else {
                        done.send(()).await.unwrap();
                    }
                }
            };
            after_func(Duration::ZERO, f);
        }
        step(left.clone(), done.clone());
        done.recv().await.unwrap();
        assert_eq!(left.load(SeqCst), -1);
    });
}

#[test]
fn after_func_stopped_in_time_never_runs() {
    run(2, async {
        let ran = Arc::new(AtomicBool::new(false));
        let r = ran.clone();
        let t = after_func(50 * MS, move || {
            let r = r.clone();
            async move { r.store(true, SeqCst) }
        });
        assert!(t.stop(), "stopping an armed after_func: active");
        assert!(!t.stop(), "a second stop: not active");
        sleep(100 * MS).await;
        assert!(!ran.load(SeqCst), "a stopped after_func ran");
        // Reset arms it again: it runs.
        assert!(!t.reset(MS));
        sleep(50 * MS).await;
        assert!(ran.load(SeqCst), "a reset after_func did not run");
    });
}

/// Go's `TestAfterStop` for one duration unit; an error if the timing went wrong.
async fn after_stop(unit: Duration) -> Result<(), &'static str> {
    let _noise = after_func(2 * unit, || async {});
    let t0 = Timer::new(unit);
    let fired1 = chan::<bool>(1);
    let f1 = fired1.clone();
    let t1 = after_func(3 * unit, move || {
        let f1 = f1.clone();
        async move {
            let _ = f1.try_send(true);
        }
    });
    let c2 = after(4 * unit);
    if !t0.stop() {
        return Err("failed to stop event 0");
    }
    if !t1.stop() {
        return Err("failed to stop event 1");
    }
    c2.recv().await;
    if t0.c.try_recv().is_ok() {
        return Err("event 0 was not stopped");
    }
    if fired1.try_recv().is_ok() {
        return Err("event 1 was not stopped");
    }
    if t1.stop() {
        return Err("Stop returned true twice");
    }
    Ok(())
}

#[test]
fn stopped_timers_do_not_fire() {
    run(2, async {
        let mut errors = Vec::new();
        for unit in [50, 100, 200, 400, 800].map(|ms| ms * MS) {
            match after_stop(unit).await {
                Ok(()) => return,
                Err(e) => errors.push(e),
            }
        }
        panic!("every try failed: {errors:?}");
    });
}

/// Go's `testReset`.
async fn reset(d: Duration) -> Result<(), &'static str> {
    let t0 = Timer::new(2 * d);
    sleep(d).await;
    if !t0.reset(3 * d) {
        return Err("resetting unfired timer returned false");
    }
    sleep(2 * d).await;
    if t0.c.try_recv().is_ok() {
        return Err("timer fired early");
    }
    sleep(2 * d).await;
    if t0.c.try_recv().is_err() {
        return Err("reset timer did not fire");
    }
    if t0.reset(50 * MS) {
        return Err("resetting expired timer returned true");
    }
    Ok(())
}

#[test]
fn reset_moves_the_deadline() {
    run(2, async {
        let mut errors = Vec::new();
        for d in [25, 50, 100, 200, 400, 800].map(|ms| ms * MS) {
            match reset(d).await {
                Ok(()) => return,
                Err(e) => errors.push(e),
            }
        }
        panic!("every try failed: {errors:?}");
    });
}

#[test]
fn stop_and_reset_leave_no_stale_value() {
    // Go 1.23's TestTimerStopStaleValue / TestTimerResetStaleValue: a timer that fired but was
    // not received is still active; stop or reset drains it.
    run(2, async {
        let t = Timer::new(MS);
        sleep(20 * MS).await; // fired: its time waits in the channel
        assert!(t.stop(), "a fired, unreceived timer is active");
        assert_eq!(t.c.try_recv(), Err(TryRecvError::Empty), "a stale value after stop");

        let t = Timer::new(MS);
        sleep(20 * MS).await;
        let before = Instant::now();
        assert!(t.reset(30 * MS), "a fired, unreceived timer is active");
        let at = t.c.recv().await.expect("the reset timer fires");
        assert!(at.duration_since(before) >= 30 * MS, "received the stale value");
    });
}

#[test]
fn ticker_reset_changes_the_period_and_stop_drops_what_is_sent() {
    run(2, async {
        let ticker = Ticker::new(5 * MS);
        ticker.c.recv().await.expect("a tick");
        let before = Instant::now();
        ticker.reset(60 * MS);
        let at = ticker.c.recv().await.expect("a tick after reset");
        assert!(at.duration_since(before) >= 60 * MS, "a tick of the old period after reset");
        sleep(80 * MS).await; // a tick waits
        ticker.stop();
        assert_eq!(ticker.c.try_recv(), Err(TryRecvError::Empty), "a stale tick after stop");
        sleep(150 * MS).await;
        assert_eq!(ticker.c.try_recv(), Err(TryRecvError::Empty), "a tick after stop");
    });
}
