//! Go's `sync` semantics (WaitGroup, Mutex, RwMutex, Cond, Once) and their deadlock reports, on
//! real threads.
//!
//! As in `chan.rs`: hand-driven futures where the order of events must be exact, goroutines on
//! 1, 2 and 4 Ps otherwise, bounded waits, and time only in generous bounds.

use gort::sync::{Cond, Mutex, Once, RawMutex, RwMutex, UnlockError, WaitGroup, WaitGroupError};
use gort::time::sleep;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

mod common;
use common::{deadlock_report, go_blocked, poll, rt, run, thread, PendingTimer};
use gort_test_macros::test;

// ---------------------------------------------------------------------------------------------
// WaitGroup
// ---------------------------------------------------------------------------------------------

#[test]
fn waitgroup_wait_returns_after_every_done() {
    for procs in [1, 2, 4] {
        run(procs, async {
            let wg = WaitGroup::new();
            let finished = Arc::new(AtomicUsize::new(0));
            for i in 0..100u64 {
                wg.add(1).unwrap();
                let (wg, finished) = (wg.clone(), finished.clone());
                gort::go(async move {
                    for _ in 0..i % 7 {
                        gort::gosched().await;
                    }
                    if i % 10 == 0 {
                        sleep(Duration::from_millis(i / 10)).await;
                    }
                    finished.fetch_add(1, SeqCst);
                    wg.done().unwrap();
                });
            }
            wg.wait().await;
            assert_eq!(finished.load(SeqCst), 100, "wait returned before every done");
            assert_eq!(wg.count(), 0);
        });
    }
}

#[test]
fn waitgroup_negative_counter_is_an_error_and_changes_nothing() {
    let wg = WaitGroup::new();
    assert_eq!(wg.done(), Err(WaitGroupError));
    assert_eq!(wg.count(), 0);
    wg.add(2).unwrap();
    let err = wg.add(-3).unwrap_err();
    assert_eq!(err.to_string(), "sync: negative WaitGroup counter");
    assert_eq!(wg.count(), 2, "a refused add leaves the counter as it was");
    wg.done().unwrap();
    wg.done().unwrap();
    assert_eq!(wg.done(), Err(WaitGroupError));
    assert_eq!(wg.count(), 0);
    // Waiting on a zero counter completes at once.
    let mut w = wg.wait();
    assert_eq!(poll(&mut w), Poll::Ready(()));
}

#[test]
fn waitgroup_releases_every_waiter_together_and_can_be_reused() {
    for procs in [1, 4] {
        let rt = rt(procs);
        // The test thread holds the WaitGroup, which `Runtime::hold` does not take.
        let timer = PendingTimer::start(&rt);
        let wg = WaitGroup::new();
        for round in 0..3 {
            wg.add(2).unwrap();
            let waiters: Vec<_> = (0..5)
                .map(|_| {
                    let wg = wg.clone();
                    go_blocked(&rt, "sync.WaitGroup.Wait", async move { wg.wait().await })
                })
                .collect();
            wg.done().unwrap();
            thread::sleep(Duration::from_millis(5));
            assert!(waiters.iter().all(|h| !h.is_finished()), "round {round}: released at count 1");
            wg.done().unwrap();
            for h in waiters {
                h.wait().unwrap();
            }
            assert_eq!(wg.count(), 0);
        }
        drop(timer);
        rt.shutdown();
    }
}

/// A dropped wait withdraws; the group still releases the others.
#[test]
fn waitgroup_dropped_wait_withdraws() {
    let wg = WaitGroup::new();
    wg.add(1).unwrap();
    let (mut w1, mut w2) = (wg.wait(), wg.wait());
    assert!(poll(&mut w1).is_pending());
    assert!(poll(&mut w2).is_pending());
    drop(w1);
    wg.done().unwrap();
    assert_eq!(poll(&mut w2), Poll::Ready(()));
}

// ---------------------------------------------------------------------------------------------
// Mutex
// ---------------------------------------------------------------------------------------------

/// Many goroutines on 4 Ps increment a counter under the lock with a yield between read and
/// write: any overlap of two holders loses an increment.
#[test]
fn mutex_excludes_under_contention() {
    for procs in [2, 4] {
        let (total, overlaps) = run(procs, async {
            let m = Arc::new(Mutex::new(0u64));
            let inside = Arc::new(AtomicUsize::new(0));
            let overlaps = Arc::new(AtomicUsize::new(0));
            let hs: Vec<_> = (0..16)
                .map(|_| {
                    let (m, inside, overlaps) = (m.clone(), inside.clone(), overlaps.clone());
                    gort::go(async move {
                        for i in 0..300 {
                            if i % 50 == 0 {
                                // A failed try_lock must leave the holder's lock alone.
                                while m.try_lock().is_none() {
                                    gort::gosched().await;
                                }
                            }
                            let mut g = m.lock().await;
                            if inside.fetch_add(1, SeqCst) != 0 {
                                overlaps.fetch_add(1, SeqCst);
                            }
                            let v = *g;
                            if i % 3 == 0 {
                                gort::gosched().await; // hold the lock across a yield
                            }
                            *g = v + 1;
                            inside.fetch_sub(1, SeqCst);
                        }
                    })
                })
                .collect();
            for h in hs {
                h.await.unwrap();
            }
            let total = *m.lock().await;
            (total, overlaps.load(SeqCst))
        });
        assert_eq!(overlaps, 0, "two goroutines held the mutex at once on {procs} Ps");
        assert_eq!(total, 16 * 300, "lost increments on {procs} Ps");
    }
}

#[test]
fn raw_mutex_lock_unlock_and_errors() {
    let m = RawMutex::new();
    assert!(!m.is_locked());
    let err = m.unlock().unwrap_err();
    assert_eq!(err, UnlockError);
    assert_eq!(err.to_string(), "sync: unlock of unlocked mutex");
    assert!(m.try_lock());
    assert!(m.is_locked());
    assert!(!m.try_lock());
    let mut l = m.lock();
    assert!(poll(&mut l).is_pending());
    m.unlock().unwrap();
    assert!(!m.is_locked(), "normal mode: unlock frees the lock and wakes the waiter");
    assert_eq!(poll(&mut l), Poll::Ready(()));
    assert!(m.is_locked());
    m.unlock().unwrap();
    assert_eq!(m.unlock(), Err(UnlockError));

    let data = Mutex::new(vec![1]);
    {
        let mut g = data.try_lock().expect("free");
        g.push(2);
        assert!(data.try_lock().is_none());
        assert!(data.try_lock().is_none(), "a failed try_lock must not unlock the holder's lock");
    }
    assert_eq!(data.into_inner(), vec![1, 2]);
}

/// A waiter that is woken but dropped before taking the lock passes the wake-up on; one that
/// was handed the lock (starvation mode) passes the lock on.
#[test]
fn mutex_dropped_waiters_pass_on_their_turn() {
    // Normal mode: the wake-up moves to the next waiter.
    let m = RawMutex::new();
    assert!(m.try_lock());
    let (mut a, mut b) = (m.lock(), m.lock());
    assert!(poll(&mut a).is_pending());
    assert!(poll(&mut b).is_pending());
    m.unlock().unwrap();
    drop(a);
    assert_eq!(poll(&mut b), Poll::Ready(()));
    m.unlock().unwrap();

    // Starvation mode: a waiter that has waited over 1 ms and loses to a newcomer switches the
    // mutex to hand-offs; a handed-off lock whose waiter is dropped goes to the next waiter.
    assert!(m.try_lock());
    let (mut a, mut b) = (m.lock(), m.lock());
    assert!(poll(&mut a).is_pending());
    assert!(poll(&mut b).is_pending());
    thread::sleep(Duration::from_millis(3));
    m.unlock().unwrap(); // wakes a
    assert!(m.try_lock(), "a newcomer barges in (normal mode)");
    assert!(poll(&mut a).is_pending(), "a lost; it has waited over 1 ms: starvation mode");
    assert!(!m.try_lock(), "starvation mode: newcomers queue");
    m.unlock().unwrap(); // handed straight to a
    assert!(m.is_locked(), "the lock stays held, now by a");
    assert!(!m.try_lock());
    drop(a); // a never used it: b gets it
    assert_eq!(poll(&mut b), Poll::Ready(()));
    m.unlock().unwrap();
    assert!(!m.is_locked());
    assert!(m.try_lock(), "back to normal mode once the queue is empty");
    m.unlock().unwrap();
}

/// Starvation mode in action: one goroutine re-locks in a loop (it is always running when the
/// lock frees, so in normal mode it would win every time); a waiter must still get the lock
/// after a bounded number of rounds.
#[test]
fn mutex_waiter_is_not_starved() {
    for procs in [1, 2] {
        let rounds = run(procs, async {
            let m = Arc::new(RawMutex::new());
            let got = Arc::new(AtomicBool::new(false));
            m.lock().await;
            let (m2, got2) = (m.clone(), got.clone());
            let waiter = gort::go(async move {
                m2.lock().await;
                got2.store(true, SeqCst);
                m2.unlock().unwrap();
            });
            let mut rounds = 0;
            while !got.load(SeqCst) {
                assert!(rounds < 2_000, "the waiter starved for {rounds} rounds");
                sleep(Duration::from_micros(200)).await; // hold the lock a while
                m.unlock().unwrap();
                m.lock().await; // and take it again at once
                rounds += 1;
            }
            m.unlock().unwrap();
            waiter.await.unwrap();
            rounds
        });
        assert!(rounds >= 1);
    }
}

/// Waiters queued in order are served in that order (FIFO queue, no newcomer barging in).
#[test]
fn mutex_waiters_served_in_arrival_order() {
    for procs in [1, 4] {
        let rt = rt(procs);
        let m = Arc::new(Mutex::new(Vec::new()));
        let holder = m.clone();
        let release = gort::chan::chan::<()>(0);
        // The holder waits on `release`, which only the test thread sends on.
        let hold = rt.hold(&release);
        let release2 = release.clone();
        let h = go_blocked(&rt, "chan receive", async move {
            let mut g = holder.lock().await;
            g.push(usize::MAX);
            release2.recv().await;
        });
        let waiters: Vec<_> = (0..6)
            .map(|i| {
                let m = m.clone();
                go_blocked(&rt, "sync.Mutex.Lock", async move { m.lock().await.push(i) })
            })
            .collect();
        release.try_send(()).unwrap();
        h.wait().unwrap();
        waiters.into_iter().for_each(|h| h.wait().unwrap());
        let order = rt.block_on(async move { m.lock().await.clone() }).unwrap();
        assert_eq!(order, vec![usize::MAX, 0, 1, 2, 3, 4, 5], "on {procs} Ps");
        drop(hold);
        rt.shutdown();
    }
}

// ---------------------------------------------------------------------------------------------
// Once
// ---------------------------------------------------------------------------------------------

#[test]
fn once_runs_exactly_once_with_many_callers() {
    for procs in [1, 4] {
        run(procs, async {
            let once = Arc::new(Once::new());
            let runs = Arc::new(AtomicUsize::new(0));
            let hs: Vec<_> = (0..50)
                .map(|_| {
                    let (once, runs) = (once.clone(), runs.clone());
                    gort::go(async move {
                        let ran = once
                            .call(async {
                                runs.fetch_add(1, SeqCst);
                                sleep(Duration::from_millis(2)).await;
                            })
                            .await;
                        // Whoever returns, the function has completed.
                        assert!(once.is_done());
                        assert_eq!(runs.load(SeqCst), 1);
                        ran
                    })
                })
                .collect();
            let mut ran = 0;
            for h in hs {
                ran += h.await.unwrap() as usize;
            }
            assert_eq!(ran, 1, "exactly one call ran the function");
            assert!(!once.call(async { panic!("ran twice") }).await);
        });
    }
}

// ---------------------------------------------------------------------------------------------
// RwMutex
// ---------------------------------------------------------------------------------------------

#[test]
fn rwmutex_readers_share_and_a_waiting_writer_holds_back_new_readers() {
    let m = RwMutex::new();
    assert!(m.try_rlock() && m.try_rlock(), "readers share");
    assert!(!m.try_lock(), "no writer while readers hold it");
    let mut w = m.lock();
    assert!(poll(&mut w).is_pending());
    let mut r = m.rlock();
    assert!(poll(&mut r).is_pending(), "a reader arriving after a waiting writer waits (Go)");
    assert!(!m.try_rlock());
    m.runlock().unwrap();
    assert!(poll(&mut w).is_pending(), "one reader still holds it");
    m.runlock().unwrap();
    assert_eq!(poll(&mut w), Poll::Ready(()), "the last reader out lets the writer in");
    assert!(poll(&mut r).is_pending());
    m.unlock().unwrap();
    assert_eq!(poll(&mut r), Poll::Ready(()), "readers that waited through the write go in");
    m.runlock().unwrap();
    assert!(m.try_lock());
    m.unlock().unwrap();
}

#[test]
fn rwmutex_readers_that_waited_go_before_the_next_writer() {
    let m = RwMutex::new();
    assert!(m.try_lock());
    let (mut r1, mut w2, mut r2) = (m.rlock(), m.lock(), m.rlock());
    assert!(poll(&mut r1).is_pending());
    assert!(poll(&mut w2).is_pending());
    assert!(poll(&mut r2).is_pending());
    m.unlock().unwrap();
    assert_eq!(poll(&mut r1), Poll::Ready(()));
    assert_eq!(poll(&mut r2), Poll::Ready(()), "every reader waiting at the unlock goes in");
    assert!(poll(&mut w2).is_pending(), "the next writer waits for them");
    m.runlock().unwrap();
    m.runlock().unwrap();
    assert_eq!(poll(&mut w2), Poll::Ready(()));
    m.unlock().unwrap();
}

#[test]
fn rwmutex_misuse_and_given_up_waits() {
    let m = RwMutex::new();
    let e = m.runlock().unwrap_err();
    assert_eq!(e.to_string(), "sync: RUnlock of unlocked RWMutex");
    let e = m.unlock().unwrap_err();
    assert_eq!(e.to_string(), "sync: Unlock of unlocked RWMutex");
    // A waiting writer that gives up lets the readers it held back in.
    assert!(m.try_rlock());
    let mut w = m.lock();
    assert!(poll(&mut w).is_pending());
    let mut r = m.rlock();
    assert!(poll(&mut r).is_pending());
    drop(w);
    assert_eq!(poll(&mut r), Poll::Ready(()));
    m.runlock().unwrap();
    m.runlock().unwrap();
    // A writer given the lock that gives up unlocks it.
    assert!(m.try_rlock());
    let mut w = m.lock();
    assert!(poll(&mut w).is_pending());
    m.runlock().unwrap(); // the lock is the writer's now
    drop(w);
    assert!(m.try_lock(), "the dropped writer's lock was released");
    m.unlock().unwrap();
}

/// Go's `HammerRWMutex`: readers and writers in random order over several Ps; a reader never
/// sees a writer inside, a writer never sees anyone else.
#[test]
fn rwmutex_excludes_under_contention() {
    for procs in [1, 2, 4] {
        run(procs, async move {
            let m = Arc::new(RwMutex::new());
            let activity = Arc::new(AtomicUsize::new(0));
            let wg = WaitGroup::new();
            for i in 0..24u64 {
                wg.add(1).unwrap();
                let (m, activity, wg) = (m.clone(), activity.clone(), wg.clone());
                gort::go(async move {
                    for k in 0..50u64 {
                        if (i * 7 + k) % 5 == 0 {
                            m.lock().await;
                            let n = activity.fetch_add(10_000, SeqCst);
                            assert_eq!(n, 0, "a writer found company");
                            gort::gosched().await;
                            activity.fetch_sub(10_000, SeqCst);
                            m.unlock().unwrap();
                        } else {
                            m.rlock().await;
                            let n = activity.fetch_add(1, SeqCst);
                            assert!(n < 10_000, "a reader found a writer");
                            gort::gosched().await;
                            activity.fetch_sub(1, SeqCst);
                            m.runlock().unwrap();
                        }
                    }
                    wg.done().unwrap();
                });
            }
            wg.wait().await;
            assert_eq!(activity.load(SeqCst), 0);
        });
    }
}

// ---------------------------------------------------------------------------------------------
// Cond
// ---------------------------------------------------------------------------------------------

/// Go's `TestCondSignal` and `TestCondBroadcast`: each signal wakes one waiter, a broadcast
/// every one, and each returns holding the mutex.
#[test]
fn cond_signal_wakes_one_and_broadcast_all() {
    for procs in [1, 2, 4] {
        run(procs, async move {
            const N: usize = 10;
            let m = Arc::new(RawMutex::new());
            let c = Arc::new(Cond::new());
            let running = gort::chan::chan::<usize>(N);
            let awake = gort::chan::chan::<usize>(N);
            for i in 0..N {
                let (m, c, running, awake) = (m.clone(), c.clone(), running.clone(), awake.clone());
                gort::go(async move {
                    m.lock().await;
                    running.send(i).await.unwrap();
                    c.wait(&m).await.unwrap();
                    awake.send(i).await.unwrap();
                    m.unlock().unwrap();
                });
            }
            for _ in 0..N {
                running.recv().await.unwrap();
            }
            // Every waiter is queued once it gave the mutex up: take it to be sure.
            m.lock().await;
            m.unlock().unwrap();
            let mut woken = [false; N];
            for n in 0..N / 2 {
                m.lock().await;
                c.signal();
                m.unlock().unwrap();
                let i = awake.recv().await.unwrap();
                assert!(!std::mem::replace(&mut woken[i], true), "goroutine {i} woke twice");
                gort::time::sleep(Duration::from_millis(1)).await;
                assert!(awake.try_recv().is_err(), "signal {n} woke more than one");
            }
            m.lock().await;
            c.broadcast();
            m.unlock().unwrap();
            for _ in 0..N - N / 2 {
                let i = awake.recv().await.unwrap();
                assert!(!std::mem::replace(&mut woken[i], true), "goroutine {i} woke twice");
            }
            assert!(woken.iter().all(|&w| w));
        });
    }
}

/// A waiter that gives up before it is signalled leaves the queue, so the next signal wakes the
/// next waiter; one that gives up after it was signalled passes the signal on. Either way no
/// signal is lost (what an aborted `Cond.wait` in the JS facade relies on).
#[test]
fn cond_waiters_that_give_up_lose_no_signal() {
    let (m, c) = (RawMutex::new(), Cond::new());
    assert!(m.try_lock());
    let mut a = Box::pin(c.wait(&m));
    assert!(poll(&mut a).is_pending());
    assert!(m.try_lock(), "a unlocked the mutex as it began to wait");
    let mut b = Box::pin(c.wait(&m));
    assert!(poll(&mut b).is_pending());
    drop(a); // before any signal
    c.signal();
    assert_eq!(poll(&mut b), Poll::Ready(Ok(())), "the signal went to b, which holds the mutex again");

    let mut a = Box::pin(c.wait(&m));
    assert!(poll(&mut a).is_pending());
    assert!(m.try_lock());
    let mut b = Box::pin(c.wait(&m));
    assert!(poll(&mut b).is_pending());
    c.signal(); // a's
    drop(a); // after its signal: b gets it
    assert_eq!(poll(&mut b), Poll::Ready(Ok(())));
    m.unlock().unwrap();
    assert!(m.try_lock(), "nobody holds the mutex");
}

#[test]
fn cond_wait_on_an_unlocked_mutex_is_an_error() {
    run(1, async {
        let (m, c) = (RawMutex::new(), Cond::new());
        assert_eq!(c.wait(&m).await, Err(UnlockError));
        c.signal(); // nobody waits: nothing happens
        assert!(m.try_lock(), "the mutex was left as it was");
    });
}

// ---------------------------------------------------------------------------------------------
// Deadlock reports
// ---------------------------------------------------------------------------------------------

#[test]
fn deadlock_on_waitgroup_and_mutex() {
    let (id, text) = deadlock_report(2, async {
        let wg = WaitGroup::new();
        wg.add(1).unwrap();
        wg.wait().await
    });
    assert!(text.contains(&format!("goroutine {id} [sync.WaitGroup.Wait]:")), "{text}");

    let (id, text) = deadlock_report(2, async {
        let m = Mutex::new(0);
        let _g = m.lock().await;
        let _again = m.lock().await; // Go's mutexes are not reentrant either
    });
    assert!(text.contains(&format!("goroutine {id} [sync.Mutex.Lock]:")), "{text}");
}

#[test]
fn no_deadlock_report_while_a_holder_sleeps() {
    for procs in [1, 2] {
        run(procs, async {
            let m = Arc::new(Mutex::new(0));
            let wg = WaitGroup::new();
            wg.add(2).unwrap();
            let (m1, wg1) = (m.clone(), wg.clone());
            gort::go(async move {
                let mut g = m1.lock().await;
                sleep(Duration::from_millis(50)).await; // everyone else is blocked meanwhile
                *g += 1;
                drop(g);
                wg1.done().unwrap();
            });
            while !m.is_locked_for_test() {
                gort::gosched().await;
            }
            let (m2, wg2) = (m.clone(), wg.clone());
            gort::go(async move {
                *m2.lock().await += 1;
                wg2.done().unwrap();
            });
            wg.wait().await;
            assert_eq!(*m.lock().await, 2);
        });
    }
}

trait IsLocked {
    fn is_locked_for_test(&self) -> bool;
}

impl<T> IsLocked for Mutex<T> {
    fn is_locked_for_test(&self) -> bool {
        self.try_lock().is_none()
    }
}
