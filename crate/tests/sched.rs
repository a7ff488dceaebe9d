//! Native integration tests of the scheduler, on real threads.
//!
//! Every test is deterministic in what it asserts: results, counts, orders that the design
//! guarantees. Time only appears in generous bounds (a test machine may be loaded, and these
//! tests run in parallel with each other), and waits on the runtime are bounded polls that fail
//! with a message instead of hanging.

use gort::{gosched, JoinError, JoinHandle};
use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, AtomicUsize};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

mod common;
use common::{mpsc, rt, run, thread, wait_quiescent, wait_until, Instant, Rng};
use gort_test_macros::test;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// `h.wait()`, failing the test instead of hanging after `limit`.
fn join_within<T: Send + 'static>(h: JoinHandle<T>, limit: Duration) -> Result<T, JoinError> {
    // A waiting thread polled with `is_finished`: `mpsc::Receiver::recv_timeout` reads std's
    // `Instant`, which panics on wasm.
    let waiter = thread::spawn(move || h.wait());
    let start = Instant::now();
    while !waiter.is_finished() {
        assert!(start.elapsed() < limit, "no result after {limit:?}");
        thread::sleep(Duration::from_millis(1));
    }
    waiter.join().unwrap()
}

/// Spins on this thread (a goroutine: without yielding its M) until `cond` holds or `limit` has
/// passed.
fn spin_until(limit: Duration, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() && start.elapsed() < limit {
        std::hint::spin_loop();
    }
}

/// A goroutine hogging its M until the test thread releases it.
#[derive(Clone, Default)]
struct Hog {
    started: Arc<AtomicBool>,
    released: Arc<AtomicBool>,
}

impl Hog {
    /// In the hogging goroutine: says it started, then spins until released (30 s at most).
    fn hog(&self) {
        self.started.store(true, Release);
        spin_until(Duration::from_secs(30), || self.released.load(Acquire));
    }

    fn wait_started(&self) {
        wait_until(Duration::from_secs(10), "the hog to start", || self.started.load(Acquire));
    }

    fn release(&self) {
        self.released.store(true, Release);
    }
}

/// A one-slot mailbox: the smallest channel that parks a goroutine through its `Waker`.
/// A send into a full slot is a bug in the test (or a doubled wake-up), so it panics.
struct Mailbox<T> {
    slot: Mutex<(Option<T>, Option<Waker>)>,
}

impl<T> Mailbox<T> {
    fn new() -> Arc<Self> {
        Arc::new(Mailbox { slot: Mutex::new((None, None)) })
    }

    fn send(&self, v: T) {
        let waker = {
            let mut s = self.slot.lock().unwrap();
            assert!(s.0.is_none(), "mailbox already full");
            s.0 = Some(v);
            s.1.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }

    fn recv(self: &Arc<Self>) -> Recv<T> {
        Recv(self.clone())
    }
}

struct Recv<T>(Arc<Mailbox<T>>);

impl<T> Future for Recv<T> {
    type Output = T;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let mut s = self.0.slot.lock().unwrap();
        match s.0.take() {
            Some(v) => Poll::Ready(v),
            None => {
                s.1 = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

/// Wraps a future and reports scheduler misbehaviour through `violations`: a poll that
/// overlaps another poll of the same future (a G polled twice at once), or a poll after the
/// future completed (a G run again after it finished).
struct Checked<F> {
    fut: Pin<Box<F>>,
    in_poll: AtomicBool,
    done: bool,
    violations: Arc<AtomicUsize>,
}

impl<F: Future> Checked<F> {
    fn new(fut: F, violations: Arc<AtomicUsize>) -> Self {
        Checked { fut: Box::pin(fut), in_poll: AtomicBool::new(false), done: false, violations }
    }
}

impl<F: Future> Future for Checked<F> {
    type Output = F::Output;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        if self.done || self.in_poll.swap(true, AcqRel) {
            self.violations.fetch_add(1, Relaxed);
        }
        let r = self.fut.as_mut().poll(cx);
        self.in_poll.store(false, Release);
        if r.is_ready() {
            self.done = true;
        }
        r
    }
}

/// Counts drops, to see that a goroutine's future really was dropped.
struct DropCount(Arc<AtomicUsize>);

impl Drop for DropCount {
    fn drop(&mut self) {
        self.0.fetch_add(1, Relaxed);
    }
}

/// CPU-bound work that the optimiser cannot remove: `rounds` steps of a hash chain.
fn busy(rounds: u64, seed: u64) -> u64 {
    let mut x = seed | 1;
    for i in 0..rounds {
        x = std::hint::black_box(x.rotate_left(7) ^ i).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
    x
}

/// Roughly how many `busy` rounds take `d` on this machine (measured once, on an idle thread).
fn rounds_for(d: Duration) -> u64 {
    let probe = 200_000;
    let start = Instant::now();
    std::hint::black_box(busy(probe, 1));
    let per_round = start.elapsed().as_secs_f64() / probe as f64;
    ((d.as_secs_f64() / per_round.max(1e-10)) as u64).clamp(1_000, 50_000_000)
}

// ---------------------------------------------------------------------------------------------
// Many goroutines
// ---------------------------------------------------------------------------------------------

fn million(procs: usize) {
    const N: usize = 1_000_000;
    const SPAWNERS: usize = 8;
    struct State {
        hits: Vec<AtomicU8>,
        done: AtomicUsize,
        violations: Arc<AtomicUsize>,
    }
    let rt = rt(procs);
    let violations = Arc::new(AtomicUsize::new(0));
    let state = Arc::new(State {
        hits: (0..N).map(|_| AtomicU8::new(0)).collect(),
        done: AtomicUsize::new(0),
        violations: violations.clone(),
    });
    let start = Instant::now();
    let spawners: Vec<_> = (0..SPAWNERS)
        .map(|s| {
            let state = state.clone();
            rt.go(async move {
                for i in (s..N).step_by(SPAWNERS) {
                    let st = state.clone();
                    let child = async move {
                        st.hits[i].fetch_add(1, Relaxed);
                        st.done.fetch_add(1, Release);
                    };
                    drop(gort::go(Checked::new(child, state.violations.clone())));
                }
            })
        })
        .collect();
    for s in spawners {
        s.wait().unwrap();
    }
    wait_until(Duration::from_secs(60), "every child to run", || state.done.load(Acquire) == N);
    wait_quiescent(&rt);
    let elapsed = start.elapsed();
    let stats = rt.stats();
    assert_eq!(stats.spawned, (N + SPAWNERS) as u64);
    assert_eq!(stats.completed, (N + SPAWNERS) as u64);
    assert_eq!(stats.goroutines, 0);
    assert_eq!(stats.per_p.len(), procs);
    let runs: u64 = stats.per_p.iter().map(|p| p.runs).sum();
    assert!(runs >= (N + SPAWNERS) as u64, "every goroutine was polled at least once ({runs} polls)");
    let wrong: Vec<usize> = (0..N).filter(|&i| state.hits[i].load(Relaxed) != 1).take(10).collect();
    assert!(wrong.is_empty(), "goroutines that did not run exactly once (first 10): {wrong:?}");
    assert_eq!(violations.load(Relaxed), 0, "a goroutine was polled concurrently or after finishing");
    assert!(elapsed < Duration::from_secs(60), "1M goroutines on {procs} Ps took {elapsed:?}");
    eprintln!("1M goroutines on {procs} Ps: {elapsed:?}, {} steals", stats.steals());
    rt.shutdown();
    assert_eq!(Arc::strong_count(&state), 1, "every child's future was dropped");
}

#[test]
fn million_goroutines_2_procs() {
    million(2);
}

#[test]
fn million_goroutines_4_procs() {
    million(4);
}

/// A million goroutines that park: each spawner starts its children a batch at a time, and
/// every child waits on the batch's unbuffered channel for a value, which the spawner then
/// sends (one per child: the batch's ids). Woken children become runnable on the spawner's P
/// while the other Ms run out of work, so they take them (`steals`).
///
/// Exactly: every child ran once and received exactly one value, every value was received
/// once, every goroutine was spawned and completed (`stats`). Steals: spawner 0, having spawned
/// its first batch, keeps its M (spinning, bounded) until a child of that batch started on
/// another P; the batch is in this P's queue only (spawning wakes an idle M), so another M
/// must have stolen from it.
fn million_awaiting(procs: usize) {
    const N: usize = 1_000_000;
    const SPAWNERS: usize = 8;
    const BATCH: usize = 100;
    struct State {
        /// Per value: times received.
        received: Vec<AtomicU8>,
        /// Per child: times it ran to the end.
        ran: Vec<AtomicU8>,
        /// Per child: the P it finished on, and the one it started on.
        on: Vec<AtomicU8>,
        started_on: Vec<AtomicU8>,
        done: AtomicUsize,
    }
    let rt = rt(procs);
    let state = Arc::new(State {
        received: (0..N).map(|_| AtomicU8::new(0)).collect(),
        ran: (0..N).map(|_| AtomicU8::new(0)).collect(),
        on: (0..N).map(|_| AtomicU8::new(u8::MAX)).collect(),
        started_on: (0..N).map(|_| AtomicU8::new(u8::MAX)).collect(),
        done: AtomicUsize::new(0),
    });
    let start = Instant::now();
    let spawners: Vec<_> = (0..SPAWNERS)
        .map(|s| {
            let state = state.clone();
            rt.go(async move {
                let ids: Vec<usize> = (s..N).step_by(SPAWNERS).collect();
                let mut stolen_seen = false;
                for (b, batch) in ids.chunks(BATCH).enumerate() {
                    let ch = gort::chan::chan::<u32>(0);
                    for &id in batch {
                        let (st, ch) = (state.clone(), ch.clone());
                        drop(gort::go(async move {
                            st.started_on[id].store(gort::procid().unwrap() as u8, Relaxed);
                            let v = ch.recv().await.expect("a value for every child") as usize;
                            st.received[v].fetch_add(1, Relaxed);
                            st.on[id].store(gort::procid().unwrap() as u8, Relaxed);
                            st.ran[id].fetch_add(1, Relaxed);
                            st.done.fetch_add(1, Release);
                        }));
                    }
                    if procs > 1 && s == 0 && b == 0 {
                        // Hold this M, the batch just spawned in its P's queue, until a child of
                        // it started on another P.
                        let me = gort::procid().unwrap() as u8;
                        let t = Instant::now();
                        while !stolen_seen && t.elapsed() < Duration::from_secs(30) {
                            stolen_seen = batch.iter().any(|&id| {
                                let p = state.started_on[id].load(Relaxed);
                                p != u8::MAX && p != me
                            });
                            std::hint::spin_loop();
                        }
                    }
                    for &id in batch {
                        ch.send(id as u32).await.unwrap();
                    }
                }
                stolen_seen
            })
        })
        .collect();
    let mut stolen_seen = false;
    for s in spawners {
        stolen_seen |= s.wait().unwrap();
    }
    wait_until(Duration::from_secs(120), "every child to finish", || state.done.load(Acquire) == N);
    wait_quiescent(&rt);
    let elapsed = start.elapsed();
    let stats = rt.stats();
    assert_eq!(stats.spawned, (N + SPAWNERS) as u64);
    assert_eq!(stats.completed, (N + SPAWNERS) as u64);
    assert_eq!(stats.goroutines, 0);
    let wrong: Vec<usize> = (0..N).filter(|&i| state.ran[i].load(Relaxed) != 1).take(10).collect();
    assert!(wrong.is_empty(), "children that did not run exactly once (first 10): {wrong:?}");
    let wrong: Vec<usize> = (0..N).filter(|&i| state.received[i].load(Relaxed) != 1).take(10).collect();
    assert!(wrong.is_empty(), "values not received exactly once (first 10): {wrong:?}");
    let per_p: Vec<usize> =
        (0..procs).map(|p| (0..N).filter(|&i| state.on[i].load(Relaxed) as usize == p).count()).collect();
    assert_eq!(per_p.iter().sum::<usize>(), N, "children per P: {per_p:?}");
    if procs > 1 {
        assert!(stolen_seen, "no child of the held spawner's first batch ran on another P in 30 s");
        assert!(stats.steals() > 0, "no steals: {stats:?}");
    }
    eprintln!(
        "1M awaiting goroutines on {procs} Ps: {elapsed:?}, {} steals ({} goroutines stolen), children per P {per_p:?}",
        stats.steals(),
        stats.per_p.iter().map(|p| p.stolen).sum::<u64>()
    );
    rt.shutdown();
    assert_eq!(Arc::strong_count(&state), 1, "every child's future was dropped");
}

#[test]
fn million_awaiting_goroutines_2_procs() {
    million_awaiting(2);
}

#[test]
fn million_awaiting_goroutines_4_procs() {
    million_awaiting(4);
}

/// Spawning from outside the runtime (the global inbox) while the Ms drain it.
#[test]
fn many_goroutines_from_outside() {
    const N: usize = 100_000;
    let rt = rt(3);
    let hits: Arc<Vec<AtomicU8>> = Arc::new((0..N).map(|_| AtomicU8::new(0)).collect());
    let handles: Vec<_> = (0..N)
        .map(|i| {
            let hits = hits.clone();
            rt.go(async move {
                hits[i].fetch_add(1, Relaxed);
                i
            })
        })
        .collect();
    for (i, h) in handles.into_iter().enumerate() {
        assert_eq!(h.wait().unwrap(), i);
    }
    assert!(hits.iter().all(|h| h.load(Relaxed) == 1));
    wait_quiescent(&rt);
    assert_eq!(rt.stats().completed, N as u64);
    rt.shutdown();
}

// ---------------------------------------------------------------------------------------------
// Chains and rings of wake-ups
// ---------------------------------------------------------------------------------------------

type BoxFut<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// Goroutine `n` spawns goroutine `n - 1` and awaits it: `n` nested join wake-ups.
fn chain(n: u32) -> BoxFut<u32> {
    Box::pin(async move {
        if n == 0 {
            return 0;
        }
        gort::go(chain(n - 1)).await.unwrap() + 1
    })
}

#[test]
fn chain_of_joins() {
    for procs in [1, 2, 4] {
        let rt = rt(procs);
        for _ in 0..3 {
            assert_eq!(rt.block_on(chain(10_000)).unwrap(), 10_000, "on {procs} Ps");
        }
        wait_quiescent(&rt);
        assert_eq!(rt.stats().completed, 3 * 10_001);
        rt.shutdown();
    }
}

/// `n` goroutines in a ring pass a token through one-slot mailboxes for `laps` laps; each
/// checks the value it receives, so a lost, doubled or reordered wake-up fails the test.
fn token_ring(procs: usize, n: usize, laps: u64) {
    let rt = rt(procs);
    let violations = Arc::new(AtomicUsize::new(0));
    let boxes: Vec<Arc<Mailbox<u64>>> = (0..n).map(|_| Mailbox::new()).collect();
    let handles: Vec<JoinHandle<u64>> = (0..n)
        .map(|i| {
            let me = boxes[i].clone();
            let next = boxes[(i + 1) % n].clone();
            let fut = async move {
                for lap in 0..laps {
                    let v = me.recv().await;
                    assert_eq!(v, lap * n as u64 + i as u64, "goroutine {i} got a wrong token");
                    next.send(v + 1);
                }
                if i == 0 {
                    me.recv().await // the last hop of the last lap
                } else {
                    0
                }
            };
            rt.go(Checked::new(fut, violations.clone()))
        })
        .collect();
    boxes[0].send(0);
    let results: Vec<u64> = handles.into_iter().map(|h| h.wait().unwrap()).collect();
    assert_eq!(results[0], n as u64 * laps, "{n} goroutines, {laps} laps, {procs} Ps");
    assert_eq!(violations.load(Relaxed), 0);
    rt.shutdown();
}

#[test]
fn token_ring_two_goroutines_ping_pong() {
    token_ring(1, 2, 20_000);
    token_ring(2, 2, 20_000);
    token_ring(4, 2, 20_000);
}

#[test]
fn token_ring_many_goroutines() {
    token_ring(1, 300, 100);
    token_ring(2, 300, 100);
    token_ring(4, 1000, 30);
}

/// Many independent ping-pong pairs at once, across Ps: wake-ups race with polls everywhere.
#[test]
fn many_ping_pong_pairs() {
    const PAIRS: usize = 500;
    const ROUNDS: u64 = 200;
    for procs in [2, 4] {
        let rt = rt(procs);
        let violations = Arc::new(AtomicUsize::new(0));
        let mut handles = Vec::new();
        for _ in 0..PAIRS {
            let (a, b) = (Mailbox::<u64>::new(), Mailbox::<u64>::new());
            let (a2, b2) = (a.clone(), b.clone());
            let ping = async move {
                for r in 0..ROUNDS {
                    b2.send(r);
                    assert_eq!(a2.recv().await, r);
                }
                ROUNDS
            };
            let pong = async move {
                for r in 0..ROUNDS {
                    assert_eq!(b.recv().await, r);
                    a.send(r);
                }
                ROUNDS
            };
            handles.push(rt.go(Checked::new(ping, violations.clone())));
            handles.push(rt.go(Checked::new(pong, violations.clone())));
        }
        for h in handles {
            assert_eq!(h.wait().unwrap(), ROUNDS);
        }
        assert_eq!(violations.load(Relaxed), 0);
        rt.shutdown();
    }
}

/// A plain thread and a goroutine ping-pong: every wake-up of the goroutine comes from outside
/// the runtime (the global inbox path).
#[test]
fn wakeups_from_a_foreign_thread() {
    const ROUNDS: u64 = 10_000;
    for procs in [1, 2] {
        let rt = rt(procs);
        let inbox = Mailbox::<u64>::new();
        let (tx, rx) = mpsc::channel();
        let me = inbox.clone();
        let h = rt.go(async move {
            for _ in 0..ROUNDS {
                let v = me.recv().await;
                tx.send(v + 1).unwrap();
            }
        });
        let mut v = 0;
        for _ in 0..ROUNDS {
            inbox.send(v);
            v = rx.recv_timeout(Duration::from_secs(30)).expect("the goroutine stopped answering");
        }
        assert_eq!(v, ROUNDS);
        h.wait().unwrap();
        rt.shutdown();
    }
}

/// Goroutines of two runtimes wake each other: a wake-up from an M of another runtime must go
/// to the woken goroutine's own runtime.
#[test]
fn wakeups_across_runtimes() {
    const ROUNDS: u64 = 5_000;
    let (rt_a, rt_b) = (rt(2), rt(1));
    let (to_a, to_b) = (Mailbox::<u64>::new(), Mailbox::<u64>::new());
    let (a_in, a_out) = (to_a.clone(), to_b.clone());
    let a = rt_a.go(async move {
        for r in 0..ROUNDS {
            a_out.send(2 * r);
            assert_eq!(a_in.recv().await, 2 * r + 1);
        }
        gort::procid().unwrap()
    });
    let b = rt_b.go(async move {
        for _ in 0..ROUNDS {
            let v = to_b.recv().await;
            to_a.send(v + 1);
        }
        gort::procid().unwrap()
    });
    assert!(a.wait().unwrap() < 2);
    assert_eq!(b.wait().unwrap(), 0);
    rt_a.shutdown();
    rt_b.shutdown();
}

// ---------------------------------------------------------------------------------------------
// Timers
// ---------------------------------------------------------------------------------------------

/// 200 goroutines sleep until distinct deadlines 1 ms apart (spawned in shuffled order).
/// Asserted: nobody wakes before its deadline, nobody is absurdly late, and the completion
/// order follows the deadline order for deadlines at least `GAP` apart — unless the earlier
/// goroutine was itself so late that it finished after the later deadline (then the two timers
/// may legitimately fire in the same batch).
fn sleeps_in_deadline_order(procs: usize) {
    const N: usize = 200;
    const GAP: Duration = Duration::from_millis(5);
    let rt = rt(procs);
    let base = Instant::now() + Duration::from_millis(30);
    let deadlines: Vec<Instant> = (1..=N as u64).map(|k| base + Duration::from_millis(k)).collect();
    let mut order: Vec<usize> = (0..N).collect();
    Rng(0x5EED_1234_ABCD_0001).shuffle(&mut order);
    let tickets = Arc::new(AtomicUsize::new(0));
    let mut handles: Vec<Option<JoinHandle<(usize, Instant, Instant)>>> = (0..N).map(|_| None).collect();
    for &i in &order {
        let (deadline, tickets) = (deadlines[i], tickets.clone());
        handles[i] = Some(rt.go(async move {
            gort::time::sleep(deadline.saturating_duration_since(Instant::now())).await;
            let woke = Instant::now();
            let ticket = tickets.fetch_add(1, AcqRel);
            (ticket, woke, Instant::now())
        }));
    }
    let results: Vec<(usize, Instant, Instant)> =
        handles.into_iter().map(|h| h.unwrap().wait().unwrap()).collect();
    for (i, &(_, woke, _)) in results.iter().enumerate() {
        assert!(woke >= deadlines[i], "goroutine {i} woke {:?} early", deadlines[i] - woke);
        assert!(
            woke - deadlines[i] < Duration::from_secs(5),
            "goroutine {i} woke {:?} late",
            woke - deadlines[i]
        );
    }
    let mut inversions = Vec::new();
    for a in 0..N {
        for b in 0..N {
            let (ta, _, after_a) = results[a];
            let (tb, _, _) = results[b];
            if deadlines[b] >= deadlines[a] + GAP && ta > tb && after_a < deadlines[b] {
                inversions.push((a, b));
            }
        }
    }
    assert!(inversions.is_empty(), "finished out of deadline order on {procs} Ps: {inversions:?}");
    let mut sorted: Vec<usize> = results.iter().map(|r| r.0).collect();
    sorted.sort_unstable();
    assert_eq!(sorted, (0..N).collect::<Vec<_>>(), "each goroutine finished once");
    rt.shutdown();
}

#[test]
fn sleeps_finish_in_deadline_order_1_proc() {
    sleeps_in_deadline_order(1);
}

#[test]
fn sleeps_finish_in_deadline_order_2_procs() {
    sleeps_in_deadline_order(2);
}

/// A timer registered on a P whose M is stuck in a long poll still fires: another M runs it.
#[test]
fn timer_fires_while_its_p_is_busy() {
    let fired_during_hog = run(2, async move {
        let sleeper = gort::go(async {
            gort::time::sleep(Duration::from_millis(5)).await;
        });
        // The sleeper runs next on this P (LIFO slot) and registers its timer here, unless
        // the other M steals it first; either way this M then hogs its P until it fired.
        gosched().await;
        spin_until(Duration::from_secs(20), || sleeper.is_finished());
        let fired = sleeper.is_finished();
        sleeper.await.unwrap();
        fired
    });
    assert!(fired_during_hog, "the timer waited for its busy P");
}

/// The other M parked with no timer pending (so with no timeout); then a goroutine registers a
/// timer on a P whose M stays busy. The parked M must still wake for that timer and fire it.
#[test]
fn timer_registered_after_the_other_m_parked_fires_on_time() {
    for _ in 0..3 {
        let rt = rt(2);
        let signal = Mailbox::<()>::new();
        let s = signal.clone();
        let sleeper = rt.go(async move {
            s.recv().await;
            gort::time::sleep(Duration::from_millis(5)).await;
        });
        let sid = sleeper.id();
        wait_until(Duration::from_secs(10), "the sleeper to wait", || {
            rt.goroutines().iter().any(|g| g.id == sid && g.state == "waiting")
        });
        let go_ahead = Arc::new(AtomicBool::new(false));
        let g = go_ahead.clone();
        let hog = rt.go(async move {
            spin_until(Duration::from_secs(20), || g.load(Acquire));
            // Wakes the sleeper into this P's LIFO slot (no other M is woken for that), then
            // lets it run here: it registers its timer on this P and parks.
            signal.send(());
            gosched().await;
            spin_until(Duration::from_secs(5), || sleeper.is_finished());
            let fired = sleeper.is_finished();
            sleeper.await.unwrap();
            fired
        });
        wait_until(Duration::from_secs(10), "the other M to park", || rt.stats().idle_procs == 1);
        thread::sleep(Duration::from_millis(20));
        go_ahead.store(true, Release);
        assert!(hog.wait().unwrap(), "the timer waited for its busy P although another M was idle");
        rt.shutdown();
    }
}

#[test]
fn sleep_zero_and_past_deadlines_complete() {
    let n = run(2, async {
        let mut n = 0;
        for _ in 0..1000 {
            gort::time::sleep(Duration::ZERO).await;
            n += 1;
        }
        n
    });
    assert_eq!(n, 1000);
}

/// Dropping a pending `Sleep` cancels its timer: the goroutine is not woken later.
#[test]
fn dropped_sleep_does_not_wake() {
    struct PollCount<F>(Pin<Box<F>>, Arc<AtomicUsize>);
    impl<F: Future> Future for PollCount<F> {
        type Output = F::Output;
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
            self.1.fetch_add(1, Relaxed);
            self.0.as_mut().poll(cx)
        }
    }
    let rt = rt(1);
    let polls = Arc::new(AtomicUsize::new(0));
    let mb = Mailbox::<()>::new();
    let mb2 = mb.clone();
    let h = rt.go(PollCount(
        Box::pin(async move {
            // Poll the sleep once (registering its timer), then drop it.
            let mut s = Box::pin(gort::time::sleep(Duration::from_millis(20)));
            std::future::poll_fn(|cx| {
                assert!(s.as_mut().poll(cx).is_pending());
                Poll::Ready(())
            })
            .await;
            drop(s);
            mb2.recv().await;
        }),
        polls.clone(),
    ));
    wait_until(Duration::from_secs(10), "the goroutine to wait", || {
        rt.goroutines().iter().any(|g| g.id == h.id() && g.state == "waiting")
    });
    let before = polls.load(Relaxed);
    thread::sleep(Duration::from_millis(100));
    assert_eq!(polls.load(Relaxed), before, "the cancelled timer woke the goroutine");
    mb.send(());
    h.wait().unwrap();
    rt.shutdown();
}

// ---------------------------------------------------------------------------------------------
// Panics
// ---------------------------------------------------------------------------------------------

/// `Stats::stack_inuse` (Go's `StackInuse`) grows with the goroutines alive, by at least their
/// futures' sizes, and falls back once they are freed.
#[test]
fn stack_inuse_counts_live_goroutines() {
    const N: usize = 1000;
    let rt = rt(2);
    wait_quiescent(&rt);
    let base = rt.stats().stack_inuse;
    let gate = gort::chan::chan::<()>(0);
    let _hold = rt.hold(&gate);
    let big = [7u8; 512]; // each goroutine's future holds a copy
    let hs: Vec<_> = (0..N)
        .map(|_| {
            let gate = gate.clone();
            rt.go(async move {
                gate.recv().await;
                big.iter().map(|&b| b as u64).sum::<u64>()
            })
        })
        .collect();
    let live = rt.stats().stack_inuse;
    assert!(live >= base + N * 512, "{N} goroutines of 512-byte futures: {base} -> {live} bytes");
    assert!(live <= base + N * 4096, "a G's structures are small: {base} -> {live} bytes");
    gate.close().unwrap();
    let sums = rt
        .block_on(async move {
            let mut sums = Vec::new();
            for h in hs {
                sums.push(h.await.unwrap());
            }
            sums
        })
        .unwrap();
    assert_eq!(sums, vec![7 * 512; N]);
    // Freed as their last references go: every M (a P's, or a spare one that took a P while
    // the machine was busy) may still hold the last G it ran, and the goroutine block_on ran
    // is one more, until their Ms run something else.
    let stats = rt.stats();
    let slack = (stats.procs + stats.spare_ms + 1) * 4096;
    let start = Instant::now();
    while rt.stats().stack_inuse > base + slack {
        let left = rt.stats().stack_inuse;
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{left} bytes left of the goroutines, {base} before"
        );
        thread::sleep(Duration::from_millis(1));
    }
    rt.shutdown();
}

/// A goroutine whose allocation the system refuses fails alone, with the allocator's message,
/// as a panic would (the runtime makes allocation failures panics where they are caught); the
/// runtime and its other goroutines go on. Blocks of half the address space are asked for until
/// one is refused: natively the first (no system gives 2^62 bytes), in wasm32 the second (two
/// cannot fit in a 4 GiB memory). Nothing is written to them, so no memory is touched.
#[test]
fn a_goroutine_whose_allocation_fails_fails_alone() {
    const HUGE: usize = if usize::BITS == 64 { 1 << 62 } else { isize::MAX as usize };
    let rt = rt(2);
    let h = rt.go(async {
        let mut held: Vec<Vec<u8>> = Vec::new();
        loop {
            held.push(Vec::with_capacity(HUGE));
            gosched().await;
        }
    });
    let id = h.id();
    let friend = rt.go(async {
        let mut sum = 0u64;
        for i in 0..1000u64 {
            sum += i;
            gosched().await;
        }
        sum
    });
    match join_within(h, Duration::from_secs(60)) {
        Err(JoinError::Panicked { goid, message }) => {
            assert_eq!(goid, id);
            assert_eq!(message, format!("memory allocation of {HUGE} bytes failed"));
        }
        other => panic!("expected the allocation failure as the goroutine's error, got {other:?}"),
    }
    assert_eq!(join_within(friend, Duration::from_secs(60)), Ok(499_500));
    let hs: Vec<_> = (0..100u64).map(|i| rt.go(async move { vec![i; 1000].iter().sum::<u64>() })).collect();
    let total: u64 = hs.into_iter().map(|h| join_within(h, Duration::from_secs(60)).unwrap()).sum();
    assert_eq!(total, 4_950_000);
    rt.shutdown();
}

#[test]
fn panicking_goroutine_reports_and_runtime_survives() {
    let rt = rt(2);
    let h = rt.go(async { panic!("boom {}", 42) });
    let id = h.id();
    assert_eq!(h.wait(), Err::<(), _>(JoinError::Panicked { goid: id, message: "boom 42".into() }));

    // A panic in a later poll, with a &'static str payload.
    let h = rt.go(async {
        gort::time::sleep(Duration::from_millis(1)).await;
        gosched().await;
        if gort::goid() != 0 {
            panic!("after a sleep");
        }
    });
    let id = h.id();
    match h.wait() {
        Err(JoinError::Panicked { goid, message }) => {
            assert_eq!((goid, message.as_str()), (id, "after a sleep"));
        }
        other => panic!("expected a panic, got {other:?}"),
    }

    // A goroutine awaiting a panicking child sees the error and goes on.
    let r = rt
        .block_on(async {
            let child = gort::go(async { panic!("child") });
            let err = child.await.unwrap_err();
            let ok: Vec<u32> = {
                let hs: Vec<_> = (0..100u32).map(|i| gort::go(async move { i })).collect();
                let mut v = Vec::new();
                for h in hs {
                    v.push(h.await.unwrap());
                }
                v
            };
            (err.to_string(), ok.iter().sum::<u32>())
        })
        .unwrap();
    assert!(r.0.contains("panicked: child"), "{}", r.0);
    assert_eq!(r.1, 4950);

    // The runtime still runs goroutines everywhere, and panicked ones were accounted for.
    let hs: Vec<_> = (0..1000u64).map(|i| rt.go(async move { i * 2 })).collect();
    assert_eq!(hs.into_iter().map(|h| h.wait().unwrap()).sum::<u64>(), 999_000);
    wait_quiescent(&rt);
    rt.shutdown();
}

/// A future whose destructor panics. Ready at once when `ready` is set, else pending forever.
struct PanicOnDrop {
    ready: bool,
}

impl Future for PanicOnDrop {
    type Output = u32;
    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<u32> {
        if self.ready {
            Poll::Ready(7)
        } else {
            Poll::Pending
        }
    }
}

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        panic!("a destructor panicked");
    }
}

/// A goroutine's future whose destructor panics (after it finished, or when shutdown drops it
/// unfinished) neither takes its M down nor stops the others from being dropped.
#[test]
fn panicking_destructors_do_not_take_the_runtime_down() {
    let rt1 = rt(1);
    assert_eq!(rt1.go(PanicOnDrop { ready: true }).wait(), Ok(7));
    // The only M still runs goroutines.
    let h = rt1.go(async {
        let hs: Vec<_> = (0..100u32).map(|i| gort::go(async move { i })).collect();
        let mut sum = 0;
        for h in hs {
            sum += h.await.unwrap();
        }
        sum
    });
    assert_eq!(join_within(h, Duration::from_secs(30)), Ok(4950));
    rt1.shutdown();

    let rt2 = rt(2);
    let drops = Arc::new(AtomicUsize::new(0));
    let mut handles = Vec::new();
    for i in 0..20 {
        let d = DropCount(drops.clone());
        handles.push(rt2.go(async move {
            let _d = d;
            if i % 2 == 0 {
                PanicOnDrop { ready: false }.await
            } else {
                gort::time::sleep(Duration::from_secs(3600)).await;
                0
            }
        }));
    }
    wait_until(Duration::from_secs(10), "every goroutine to wait", || {
        rt2.goroutines().iter().filter(|g| g.state == "waiting").count() == 20
    });
    rt2.shutdown(); // would panic with "an M thread panicked"
    for h in handles {
        let id = h.id();
        assert_eq!(h.wait(), Err(JoinError::Cancelled { goid: id }));
    }
    assert_eq!(drops.load(Relaxed), 20);
}

// ---------------------------------------------------------------------------------------------
// Shutdown
// ---------------------------------------------------------------------------------------------

// 103 threads wait on handles while the runtime shuts down, beside its 2 Ms.
#[test(threads = 106)]
fn shutdown_cancels_waiting_goroutines_and_drops_them() {
    let rt = rt(2);
    let drops = Arc::new(AtomicUsize::new(0));
    let started = Arc::new(AtomicUsize::new(0));
    let never = Mailbox::<()>::new();
    let mut handles: Vec<JoinHandle<()>> = Vec::new();
    let mut total = 0;
    for _ in 0..50 {
        let (d, s) = (DropCount(drops.clone()), started.clone());
        handles.push(rt.go(async move {
            let _d = d;
            s.fetch_add(1, Relaxed);
            gort::time::sleep(Duration::from_secs(3600)).await;
            unreachable!("slept an hour");
        }));
        total += 1;
    }
    for _ in 0..50 {
        let (d, s, never) = (DropCount(drops.clone()), started.clone(), never.clone());
        handles.push(rt.go(async move {
            let _d = d;
            s.fetch_add(1, Relaxed);
            never.recv().await;
            unreachable!("nobody sends");
        }));
        total += 1;
    }
    for _ in 0..2 {
        // Always runnable: shutdown must not wait for it to finish.
        let (d, s) = (DropCount(drops.clone()), started.clone());
        handles.push(rt.go(async move {
            let _d = d;
            s.fetch_add(1, Relaxed);
            loop {
                gosched().await;
            }
        }));
        total += 1;
    }
    {
        // Awaits a child that sleeps; both are cancelled.
        let (d, d2, s) = (DropCount(drops.clone()), DropCount(drops.clone()), started.clone());
        handles.push(rt.go(async move {
            let _d = d;
            let child = gort::go(async move {
                let _d = d2;
                gort::time::sleep(Duration::from_secs(3600)).await;
            });
            s.fetch_add(1, Relaxed);
            child.await.unwrap();
        }));
        total += 2;
    }
    wait_until(Duration::from_secs(10), "every goroutine to start", || started.load(Relaxed) == 103);

    // Wait for the results from other threads.
    let (tx, rx) = mpsc::channel();
    let waiters: Vec<_> = handles
        .into_iter()
        .map(|h| {
            let tx = tx.clone();
            thread::spawn(move || {
                let id = h.id();
                tx.send((id, h.wait())).unwrap();
            })
        })
        .collect();
    drop(tx);

    let t = Instant::now();
    rt.shutdown();
    let took = t.elapsed();
    assert!(took < Duration::from_secs(5), "shutdown took {took:?}");
    for w in waiters {
        w.join().unwrap();
    }
    let results: Vec<_> = rx.iter().collect();
    assert_eq!(results.len(), 103);
    for (id, r) in results {
        assert_eq!(r, Err(JoinError::Cancelled { goid: id }));
    }
    assert_eq!(drops.load(Relaxed), total, "every unfinished future was dropped");
    assert_eq!(Arc::strong_count(&started), 1, "no goroutine future is still alive");
}

/// Goroutines that were submitted but never polled (stuck behind a goroutine hogging the only
/// M) are dropped at shutdown too, and their handles report `Cancelled`.
#[test]
fn shutdown_drops_goroutines_never_polled() {
    let rt = rt(1);
    let drops = Arc::new(AtomicUsize::new(0));
    let hog = Hog::default();
    let ran = Arc::new(AtomicUsize::new(0));
    let h = hog.clone();
    let (d0, ran0) = (drops.clone(), ran.clone());
    let hogger = rt.go(async move {
        // Children into this P's LIFO slot and ring: never polled while this poll runs.
        let children: Vec<_> = (0..100)
            .map(|_| {
                let (d, ran) = (DropCount(d0.clone()), ran0.clone());
                gort::go(async move {
                    let _d = d;
                    ran.fetch_add(1, Relaxed);
                })
            })
            .collect();
        h.hog();
        children
    });
    hog.wait_started();
    // Submitted from outside while the only M is busy: they wait in the global inbox.
    let outside: Vec<_> = (0..100)
        .map(|_| {
            let (d, ran) = (DropCount(drops.clone()), ran.clone());
            rt.go(async move {
                let _d = d;
                ran.fetch_add(1, Relaxed);
            })
        })
        .collect();
    let waiter = thread::spawn(move || {
        let children = hogger.wait().unwrap();
        children.into_iter().chain(outside).map(|h| h.wait()).collect::<Vec<_>>()
    });
    hog.release();
    rt.shutdown();
    let results = waiter.join().unwrap();
    let ok = results.iter().filter(|r| r.is_ok()).count();
    let cancelled = results.iter().filter(|r| matches!(r, Err(JoinError::Cancelled { .. }))).count();
    assert_eq!(ok + cancelled, 200);
    assert_eq!(ok, ran.load(Relaxed), "a goroutine is Ok exactly when it ran");
    assert_eq!(drops.load(Relaxed), 200, "every future was dropped, run or not");
}

// ---------------------------------------------------------------------------------------------
// Fairness
// ---------------------------------------------------------------------------------------------

/// Two goroutines on one P that yield after each step strictly alternate.
#[test]
fn gosched_alternates_on_one_proc() {
    const STEPS: usize = 1000;
    let log = Arc::new(Mutex::new(Vec::new()));
    let l = log.clone();
    run(1, async move {
        let hs: Vec<_> = (0..2u8)
            .map(|who| {
                let l = l.clone();
                gort::go(async move {
                    for _ in 0..STEPS {
                        l.lock().unwrap().push(who);
                        gosched().await;
                    }
                })
            })
            .collect();
        for h in hs {
            h.await.unwrap();
        }
    });
    let log = log.lock().unwrap();
    assert_eq!(log.len(), 2 * STEPS);
    let repeats = log.windows(2).filter(|w| w[0] == w[1]).count();
    assert_eq!(repeats, 0, "the two goroutines did not alternate: {:?}", &log[..20]);
}

/// A goroutine spinning on `gosched` until another goroutine on the same single P sets a flag:
/// terminates only if yielding really lets the other run.
#[test]
fn gosched_lets_the_other_goroutine_run() {
    let spins = run(1, async {
        let flag = Arc::new(AtomicBool::new(false));
        let f = flag.clone();
        let setter = gort::go(async move { f.store(true, Release) });
        let mut spins = 0u64;
        while !flag.load(Acquire) {
            gosched().await;
            spins += 1;
            assert!(spins < 1_000_000, "the other goroutine never ran");
        }
        setter.await.unwrap();
        spins
    });
    assert!(spins <= 2, "took {spins} yields");
}

/// A goroutine that yields while the only other runnable goroutines wait in the global queue
/// (submitted from outside) goes behind them, as Go's `Gosched` does, instead of running again
/// at once and letting them in one per 61 schedules.
#[test]
fn gosched_yields_to_the_global_queue() {
    const N: usize = 1000;
    let rt = rt(1);
    let hog = Hog::default();
    let h = hog.clone();
    // Hog the only M so that everything below queues up before anything runs.
    let hogger = rt.go(async move { h.hog() });
    hog.wait_started();
    let done = Arc::new(AtomicUsize::new(0));
    let d = done.clone();
    let yielder = rt.go(async move {
        let mut yields = 0u64;
        while d.load(Acquire) < N {
            gosched().await;
            yields += 1;
        }
        yields
    });
    let others: Vec<_> = (0..N)
        .map(|_| {
            let done = done.clone();
            rt.go(async move {
                done.fetch_add(1, Release);
            })
        })
        .collect();
    hog.release();
    hogger.wait().unwrap();
    let yields = yielder.wait().unwrap();
    others.into_iter().for_each(|h| h.wait().unwrap());
    assert!(yields <= 20, "the yielder ran {yields} times before {N} queued goroutines had run once");
    rt.shutdown();
}

/// Two goroutines ping-pong through the LIFO slot on one P; a third goroutine displaced into
/// the ring must still run once the pair's time slice (10 ms) is over, or the pair would starve
/// it. Ten million hops take far longer than a slice, on any machine.
#[test]
fn lifo_ping_pong_does_not_starve_the_ring() {
    const MAX_HOPS: u64 = 10_000_000;
    let hops = run(1, async {
        let stop = Arc::new(AtomicBool::new(false));
        let hops = Arc::new(AtomicU64::new(0));
        let (a, b, c) = (Mailbox::<u64>::new(), Mailbox::<u64>::new(), Mailbox::<()>::new());
        let third = {
            let (c, stop) = (c.clone(), stop.clone());
            gort::go(async move {
                c.recv().await;
                stop.store(true, Release);
            })
        };
        let pong = {
            let (a, b) = (a.clone(), b.clone());
            gort::go(async move {
                loop {
                    let v = b.recv().await;
                    if v == u64::MAX {
                        return;
                    }
                    a.send(v + 1);
                }
            })
        };
        // Let `third` and `pong` run and park before the game starts.
        for _ in 0..3 {
            gosched().await;
        }
        let ping = {
            let (hops, stop) = (hops.clone(), stop.clone());
            gort::go(async move {
                let mut v = 0;
                // The first hop wakes the third goroutine, which the wake of pong then
                // displaces from the LIFO slot into the ring.
                c.send(());
                while !stop.load(Acquire) && v < MAX_HOPS {
                    b.send(v);
                    v = a.recv().await;
                    hops.store(v, Relaxed);
                }
                b.send(u64::MAX);
            })
        };
        third.await.unwrap();
        ping.await.unwrap();
        pong.await.unwrap();
        hops.load(Relaxed)
    });
    assert!(hops < MAX_HOPS, "the ring was starved for {hops} hops");
}

/// The coop budget: awaiting 10,000 handles that are all already finished must still yield now
/// and then, so another goroutine on the same single P makes progress meanwhile.
#[test]
fn coop_budget_forces_yields() {
    const N: usize = 10_000;
    let (during, total) = run(1, async {
        let children: Vec<_> = (0..N).map(|i| gort::go(async move { i })).collect();
        while !children.iter().all(|c| c.is_finished()) {
            gosched().await;
        }
        let stop = Arc::new(AtomicBool::new(false));
        let ticks = Arc::new(AtomicUsize::new(0));
        let other = {
            let (stop, ticks) = (stop.clone(), ticks.clone());
            gort::go(async move {
                while !stop.load(Acquire) {
                    ticks.fetch_add(1, Relaxed);
                    gosched().await;
                }
            })
        };
        // No await between spawning `other` and this loop: `other` has not run yet.
        let before = ticks.load(Relaxed);
        let mut sum = 0;
        for c in children {
            sum += c.await.unwrap();
        }
        let during = ticks.load(Relaxed) - before;
        stop.store(true, Release);
        other.await.unwrap();
        assert_eq!(sum, N * (N - 1) / 2);
        (during, ticks.load(Relaxed))
    });
    // 10,000 ready joins with a budget of 128 per poll: about 78 forced yields.
    assert!(during >= 30, "the other goroutine ran only {during} times (total {total})");
}

// ---------------------------------------------------------------------------------------------
// Work stealing
// ---------------------------------------------------------------------------------------------

#[test]
fn work_is_stolen_by_the_idle_proc() {
    const CHILDREN: usize = 64;
    let rounds = rounds_for(Duration::from_millis(2));
    let rt = rt(2);
    let seen = Arc::new(AtomicU64::new(0));
    let s = seen.clone();
    let procs = rt
        .block_on(async move {
            let children: Vec<_> = (0..CHILDREN as u64)
                .map(|i| {
                    let seen = s.clone();
                    gort::go(async move {
                        let r = busy(rounds, i);
                        let p = gort::procid().unwrap();
                        seen.fetch_or(1 << p, AcqRel);
                        // Keep this M busy until the other P has run a child (bounded): a
                        // loaded machine may be slow to schedule the other M, but it must come.
                        let start = Instant::now();
                        while seen.load(Acquire).count_ones() < 2 && start.elapsed() < Duration::from_secs(20)
                        {
                            std::hint::black_box(busy(1000, r));
                        }
                        (p, r)
                    })
                })
                .collect();
            let mut procs = Vec::new();
            for c in children {
                procs.push(c.await.unwrap().0);
            }
            procs
        })
        .unwrap();
    let stats = rt.stats();
    assert_eq!(seen.load(Relaxed), 0b11, "children ran on both Ps: {procs:?}");
    assert!(stats.steals() > 0, "no steals: {stats:?}");
    assert!(stats.per_p.iter().all(|p| p.runs > 0));
    rt.shutdown();
}

// ---------------------------------------------------------------------------------------------
// Identity and introspection
// ---------------------------------------------------------------------------------------------

#[test]
fn goids_are_unique_and_nonzero() {
    assert_eq!(gort::goid(), 0, "outside any goroutine");
    assert_eq!(gort::procid(), None, "outside any M");
    let rt = rt(4);
    let handles: Vec<_> = (0..1000)
        .map(|_| {
            rt.go(async {
                let before = gort::goid();
                gosched().await;
                assert_eq!(gort::goid(), before, "goid is stable across polls");
                (before, gort::procid().unwrap())
            })
        })
        .collect();
    let mut ids = HashSet::new();
    for h in handles {
        let expect = h.id();
        let (id, p) = h.wait().unwrap();
        assert_ne!(id, 0);
        assert_eq!(id, expect, "goid() matches JoinHandle::id()");
        assert!(p < 4);
        assert!(ids.insert(id), "duplicate goid {id}");
    }
    let nested = rt
        .block_on(async {
            let me = gort::goid();
            let child = gort::go(async { gort::goid() });
            let cid = child.id();
            (me, cid, child.await.unwrap())
        })
        .unwrap();
    assert!(nested.0 != nested.1 && nested.1 == nested.2 && nested.0 != 0);
    rt.shutdown();
}

#[test]
fn goroutine_dump_shows_wait_reasons() {
    let rt = rt(2);
    let sleeper = rt.go(async {
        gort::time::sleep(Duration::from_secs(3600)).await;
    });
    let never = Mailbox::<()>::new();
    let n = never.clone();
    let joiner = rt.go(async move {
        let child = gort::go(async move { n.recv().await });
        child.await.unwrap();
    });
    let (sid, jid) = (sleeper.id(), joiner.id());
    wait_until(Duration::from_secs(10), "the dump to show both waiting", || {
        let dump = rt.goroutines();
        let find = |id| dump.iter().find(|g| g.id == id).map(|g| (g.state, g.wait_reason));
        find(sid) == Some(("waiting", "sleep")) && find(jid) == Some(("waiting", "goroutine join"))
    });
    let dump = rt.goroutines();
    assert_eq!(dump.len(), 3, "{dump:?}");
    assert!(dump.windows(2).all(|w| w[0].id < w[1].id), "sorted by id");
    assert!(dump.iter().all(|g| g.proc.is_none()), "no bound goroutines natively");
    assert_eq!(rt.stats().goroutines, 3);
    assert!(rt.stats().per_p.iter().any(|p| p.timers), "a P has a pending timer");
    never.send(());
    joiner.wait().unwrap();
    rt.shutdown();
    assert_eq!(sleeper.wait(), Err(JoinError::Cancelled { goid: sid }));
}

/// Each goroutine in a dump says who started it (Go's "created by … in goroutine N") and
/// where (`gort::go`'s and `Runtime::go`'s caller, through `#[track_caller]`), is named after its
/// future, and shows how long it has waited.
#[test]
fn goroutine_dump_shows_who_started_each_goroutine_where_and_how_long_it_waited() {
    let rt = rt(2);
    // A pending timer: the goroutines blocked on the channel are not deadlocked meanwhile.
    let _sleeper = rt.go(gort::time::sleep(Duration::from_secs(3600)));
    let (tx, rx) = mpsc::channel();
    let ch = gort::chan::chan::<()>(0);
    let c = ch.clone();
    let parent_line = line!() + 1;
    let parent = rt.go(async move {
        let child_line = line!() + 1;
        let child = gort::go(async move { c.recv().await });
        tx.send((child.id(), child_line)).unwrap();
        child.await.unwrap();
    });
    let (child, child_line) = rx.recv_timeout(Duration::from_secs(20)).unwrap();
    common::wait_blocked(&rt, child, "chan receive");
    let first = rt.goroutines();
    let find = |dump: &[gort::GoroutineInfo], id| dump.iter().find(|g| g.id == id).cloned().unwrap();
    let (p, c) = (find(&first, parent.id()), find(&first, child));
    let at = |line: u32| format!("{}:{line}:", file!());
    assert_eq!((p.created_by, p.created_by_name.as_deref()), (0, None), "started outside every goroutine");
    assert!(p.created_at.as_deref().unwrap().starts_with(&at(parent_line)), "{p:?}");
    let name = p.name.clone().unwrap();
    assert!(name.contains("goroutine_dump_shows_who_started") && name.ends_with("{{closure}}"), "{name}");
    assert_eq!((c.created_by, c.created_by_name.as_deref()), (parent.id(), Some(&*name)));
    assert!(c.created_at.as_deref().unwrap().starts_with(&at(child_line)), "{c:?}");
    // Still blocked: its wait grows by at least the time between the dumps.
    let before = Instant::now();
    thread::sleep(Duration::from_millis(20));
    let elapsed = before.elapsed();
    let c2 = find(&rt.goroutines(), child);
    // (1 ms for the rounding of the clocks' readings in the browser, in ms as floats.)
    let grown = c2.waiting + Duration::from_millis(1) >= c.waiting + elapsed;
    assert!(grown, "{:?} then {:?}, {elapsed:?} apart", c.waiting, c2.waiting);
    ch.close().unwrap();
    parent.wait().unwrap();
    rt.shutdown();
}

// ---------------------------------------------------------------------------------------------
// Join handles
// ---------------------------------------------------------------------------------------------

#[test]
fn join_handles_in_every_order() {
    let rt = rt(2);
    let r = rt
        .block_on(async {
            // Awaited before and after the child finished; results of different types.
            let slow = gort::go(async {
                gort::time::sleep(Duration::from_millis(10)).await;
                String::from("slow")
            });
            let fast = gort::go(async { vec![1u8, 2, 3] });
            while !fast.is_finished() {
                gosched().await;
            }
            let v = fast.await.unwrap();
            let s = slow.await.unwrap();
            (v, s)
        })
        .unwrap();
    assert_eq!(r, (vec![1, 2, 3], "slow".to_string()));

    // A handle dropped without being awaited: the goroutine still runs.
    let ran = Arc::new(AtomicBool::new(false));
    let r2 = ran.clone();
    drop(rt.go(async move { r2.store(true, Release) }));
    wait_until(Duration::from_secs(10), "the detached goroutine", || ran.load(Acquire));
    wait_quiescent(&rt);

    // The future is dropped once the goroutine finishes, not when its handle is.
    let drops = Arc::new(AtomicUsize::new(0));
    let d = DropCount(drops.clone());
    let h = rt.go(async move {
        let _d = d;
        7
    });
    wait_until(Duration::from_secs(10), "the finished future to be dropped", || drops.load(Relaxed) == 1);
    assert_eq!(h.wait().unwrap(), 7);
    rt.shutdown();
}

// ---------------------------------------------------------------------------------------------
// Threads outside the runtime (`gort::thread`: std threads natively, Workers on the web)
// ---------------------------------------------------------------------------------------------

/// A thread runs its closure beside the others and gives back its value or its panic; it can
/// block on a runtime, as the test thread does.
#[test]
fn threads_outside_the_runtime() {
    let rt = Arc::new(rt(2));
    let r = rt.clone();
    let t =
        gort::thread::spawn(move || r.block_on(async { gort::go(async { 6 * 7 }).await.unwrap() }).unwrap());
    assert_eq!(t.join().unwrap(), 42);

    let p = gort::thread::spawn(|| -> u32 { panic!("on purpose") });
    let payload = p.join().expect_err("the closure panicked");
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"on purpose"));

    // Two threads that each wait for the other to arrive both finish: they run side by side.
    let arrived = Arc::new(AtomicUsize::new(0));
    let both: Vec<_> = (0..2)
        .map(|_| {
            let a = arrived.clone();
            gort::thread::spawn(move || {
                a.fetch_add(1, AcqRel);
                wait_until(Duration::from_secs(10), "the other thread", || a.load(Acquire) == 2);
            })
        })
        .collect();
    for t in both {
        t.join().unwrap();
    }
    let done = gort::thread::spawn(|| ());
    wait_until(Duration::from_secs(10), "is_finished", || done.is_finished());
    done.join().unwrap();
    Arc::into_inner(rt).expect("the only reference").shutdown();
}

/// Go's `TestPingPongHog` (runtime/proc_test.go): on one P, a hog pair and a light pair of
/// goroutines ping-pong, counting to 1e6 and 1e4 per turn. A chain of goroutines that keep
/// each other runnable inherits one time slice (Go's `runnext`), so the pairs share the P by
/// time and count within a factor of 20 of each other; taking turns one exchange each, the
/// hogs would count 100 times more.
#[test]
fn ping_pong_hog_pairs_share_the_p_by_time() {
    let (hog, light) = run(1, async {
        let done = gort::chan::chan::<bool>(0);
        let hog_chan = gort::chan::chan::<bool>(0);
        let light_chan = gort::chan::chan::<bool>(0);
        let (hog_count, light_count) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
        let run = |limit: u64,
                   counter: Arc<AtomicU64>,
                   wake: gort::chan::Chan<bool>,
                   done: gort::chan::Chan<bool>| async move {
            loop {
                let woken = gort::select! {
                    recv(done) -> _ => false,
                    recv(wake) -> _ => true,
                };
                if !woken {
                    return;
                }
                let mut x = 0u64;
                for i in 0..limit {
                    x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
                }
                std::hint::black_box(x);
                counter.fetch_add(limit, Relaxed);
                if wake.send(true).await.is_err() {
                    return;
                }
            }
        };
        for _ in 0..2 {
            gort::go(run(1_000_000, hog_count.clone(), hog_chan.clone(), done.clone()));
            gort::go(run(10_000, light_count.clone(), light_chan.clone(), done.clone()));
        }
        hog_chan.send(true).await.unwrap();
        light_chan.send(true).await.unwrap();
        gort::time::sleep(Duration::from_millis(100)).await;
        done.close().unwrap();
        hog_chan.recv().await;
        light_chan.recv().await;
        (hog_count.load(Relaxed), light_count.load(Relaxed))
    });
    assert!(
        hog / 20 <= light && light / 20 <= hog,
        "want hog/light in [1/20, 20]; got {hog}/{light} = {}",
        hog as f64 / light as f64
    );
}
