//! The bound-goroutine paths the JS facade uses (`go_local`, `go_unstarted`), natively.

use super::*;
use std::cell::Cell;
use std::rc::Rc;
use std::sync::atomic::Ordering::{Acquire, Release};
use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::sync::mpsc;
use std::sync::Mutex;
use std::task::Waker;
use std::thread::ThreadId;
use std::time::{Duration, Instant};

type Polls = Arc<Mutex<Vec<(ThreadId, Option<usize>)>>>;

/// Records the thread and the P of every poll of the wrapped future.
struct Where<F> {
    fut: Pin<Box<F>>,
    polls: Polls,
}

impl<F: Future> Future for Where<F> {
    type Output = F::Output;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.polls.lock().unwrap().push((std::thread::current().id(), procid()));
        self.fut.as_mut().poll(cx)
    }
}

/// A one-shot signal another thread can fire: wakes its waiter through the `Waker`.
#[derive(Clone, Default)]
struct Signal(Arc<Mutex<(bool, Option<Waker>)>>);

impl Signal {
    fn fire(&self) {
        let w = {
            let mut s = self.0.lock().unwrap();
            s.0 = true;
            s.1.take()
        };
        if let Some(w) = w {
            w.wake();
        }
    }

    async fn wait(&self) {
        std::future::poll_fn(|cx| {
            let mut s = self.0.lock().unwrap();
            if s.0 {
                Poll::Ready(())
            } else {
                s.1 = Some(cx.waker().clone());
                Poll::Pending
            }
        })
        .await
    }
}

/// Records on which thread it was dropped.
struct DropSpy(mpsc::Sender<ThreadId>);

impl Drop for DropSpy {
    fn drop(&mut self) {
        let _ = self.0.send(std::thread::current().id());
    }
}

fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < Duration::from_secs(30), "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn shared_of(rt: &crate::Runtime) -> Arc<Shared> {
    rt.block_on(async { current_shared().unwrap() }).unwrap()
}

/// What a bound goroutine does: sleeps (its timer may be fired by another M), yields,
/// joins goroutines that run anywhere, and is woken from a plain thread; `local` is `!Send`.
async fn wander(local: Rc<Cell<u32>>) -> u32 {
    for _ in 0..4 {
        timer::sleep(Duration::from_millis(1)).await;
        local.set(local.get() + 1);
        gosched().await;
        let child = go(async {
            timer::sleep(Duration::from_millis(1)).await;
            gosched().await;
        });
        child.await.unwrap();
        let signal = Signal::default();
        let s = signal.clone();
        std::thread::spawn(move || s.fire());
        signal.wait().await;
    }
    local.get()
}

fn assert_one_thread(polls: &Polls, home: (ThreadId, Option<usize>)) {
    let polls = polls.lock().unwrap();
    assert!(polls.len() >= 8, "only {} polls", polls.len());
    assert!(polls.iter().all(|&p| p == home), "a bound goroutine moved: home {home:?}, polls {polls:?}");
}

#[test]
fn local_goroutine_is_always_polled_on_its_m() {
    let rt = crate::Runtime::builder().procs(4).start();
    // `go_local` makes system goroutines, which deadlock detection does not see: a goroutine
    // blocked joining one would look deadlocked. So the joins are made from this thread.
    let launchers: Vec<_> = (0..8)
        .map(|_| {
            rt.go(async {
                gosched().await;
                let here = (std::thread::current().id(), procid());
                let polls = Polls::default();
                let fut = Where { fut: Box::pin(wander(Rc::new(Cell::new(0)))), polls: polls.clone() };
                (here, polls, current_shared().unwrap().go_local(fut))
            })
        })
        .collect();
    for l in launchers {
        let (here, polls, bound) = l.wait().unwrap();
        assert_eq!(bound.wait().unwrap(), 4);
        assert_one_thread(&polls, here);
    }
    wait_until("every goroutine to finish", || rt.stats().goroutines == 0);
    rt.shutdown();
}

#[test]
fn unstarted_goroutine_binds_to_the_first_m_that_runs_it() {
    let rt = crate::Runtime::builder().procs(4).start();
    let shared = shared_of(&rt);
    let start = |polls: Polls| {
        move || {
            let started = (std::thread::current().id(), procid());
            let fut = Where { fut: Box::pin(wander(Rc::new(Cell::new(0)))), polls };
            async move { (started, fut.await) }
        }
    };
    // Submitted from outside (the global inbox) and from goroutines (a LIFO slot, stealable).
    let mut handles = Vec::new();
    for _ in 0..6 {
        let polls = Polls::default();
        handles.push((
            shared.go_unstarted(start(polls.clone()), 0, origin::Name::None, Default::default()),
            polls,
        ));
    }
    let inner = rt
        .block_on(async move {
            let shared = current_shared().unwrap();
            (0..6)
                .map(|_| {
                    let polls = Polls::default();
                    (
                        shared.go_unstarted(start(polls.clone()), 0, origin::Name::None, Default::default()),
                        polls,
                    )
                })
                .collect::<Vec<_>>()
        })
        .unwrap();
    handles.extend(inner);
    for (h, polls) in handles {
        let (started, n) = h.wait().unwrap();
        assert!(started.1.is_some(), "started on an M");
        assert_eq!(n, 4);
        assert_one_thread(&polls, started);
    }

    // While it waits, the dump shows the M it is bound to, and its name.
    let (tx, rx) = mpsc::channel();
    let signal = Signal::default();
    let s = signal.clone();
    let h = shared.go_unstarted(
        move || {
            tx.send(procid().unwrap()).unwrap();
            async move { s.wait().await }
        },
        0,
        origin::Name::Shared("tasks.js#wait".into()),
        Default::default(),
    );
    let home = rx.recv_timeout(Duration::from_secs(30)).unwrap();
    wait_until("the dump to show the bound goroutine waiting", || {
        rt.goroutines().iter().any(|g| {
            g.id == h.id()
                && g.state == "waiting"
                && g.proc == Some(home)
                && g.name.as_deref() == Some("tasks.js#wait")
        })
    });
    let text = dump::dump_text(&rt.goroutines());
    let entry = text.split(&format!("goroutine {} [", h.id())).nth(1).expect("the goroutine in the dump");
    assert_eq!(entry.lines().nth(1), Some("tasks.js#wait(...)"), "{text}");
    signal.fire();
    h.wait().unwrap();
    wait_until("every goroutine to finish", || rt.stats().goroutines == 0);
    rt.shutdown();
}

/// Finished goroutines leave the registries: they are swept as new ones are registered,
/// so the registries stay about as large as the most goroutines alive at once, and they
/// are never listed.
#[test]
fn finished_goroutines_are_swept_from_the_registry() {
    const ROUNDS: usize = 20;
    const BATCH: usize = 500;
    let rt = crate::Runtime::builder().procs(2).start();
    let shared = shared_of(&rt);
    rt.block_on(async {
        for _ in 0..ROUNDS {
            let batch: Vec<_> = (0..BATCH).map(|_| go(async { gosched().await })).collect();
            for h in batch {
                h.await.unwrap();
            }
        }
    })
    .unwrap();
    let slots: usize = shared.procs.iter().map(|p| p.registry.lock().unwrap().slots.len()).sum();
    assert!(slots <= 8 * BATCH, "{slots} registry slots after {ROUNDS} rounds of {BATCH} goroutines");
    wait_until("every goroutine to finish", || rt.stats().goroutines == 0);
    assert!(rt.goroutines().is_empty(), "finished goroutines are listed: {:?}", rt.goroutines());
    rt.shutdown();
}

/// A timer whose P's M is stuck in a long poll is fired by another M, even one that is
/// never idle (an idle M fires others' expired timers while stealing anyway).
#[test]
fn a_busy_m_fires_the_overdue_timers_of_a_stuck_p() {
    struct Flag(AtomicBool);
    impl std::task::Wake for Flag {
        fn wake(self: std::sync::Arc<Self>) {
            self.0.store(true, Release);
        }
    }
    let rt = crate::Runtime::builder().procs(2).start();
    let late = rt
        .block_on(async {
            let stuck = procid().unwrap();
            // Keeps the other M busy with short polls until `stop`.
            let stop = Arc::new(AtomicBool::new(false));
            let ran_on = Arc::new(AtomicUsize::new(usize::MAX));
            let (s, r) = (stop.clone(), ran_on.clone());
            let busy = go(async move {
                while !s.load(Acquire) {
                    r.store(procid().unwrap(), Release);
                    gosched().await;
                }
            });
            // From here this poll keeps its M until the timer fires (or 5 s pass).
            let t0 = Instant::now();
            while matches!(ran_on.load(Acquire), usize::MAX) || ran_on.load(Acquire) == stuck {
                assert!(t0.elapsed() < Duration::from_secs(5), "the busy goroutine never ran on the other M");
                std::hint::spin_loop();
            }
            let fired = std::sync::Arc::new(Flag(AtomicBool::new(false)));
            let waker = Waker::from(fired.clone());
            let mut sleep = std::pin::pin!(timer::sleep(Duration::from_millis(2)));
            let registered = Instant::now();
            assert!(sleep.as_mut().poll(&mut Context::from_waker(&waker)).is_pending());
            while !fired.0.load(Acquire) && registered.elapsed() < Duration::from_secs(5) {
                std::hint::spin_loop();
            }
            let late = registered.elapsed();
            stop.store(true, Release);
            busy.await.unwrap();
            late
        })
        .unwrap();
    assert!(late < Duration::from_secs(1), "the timer fired only after {late:?}, when its M came back");
    rt.shutdown();
}

/// At shutdown a bound goroutine's `!Send` future is dropped on its home M's thread.
#[test]
fn bound_futures_are_dropped_on_their_home_thread_at_shutdown() {
    let rt = crate::Runtime::builder().procs(3).start();
    let shared = shared_of(&rt);
    let (drop_tx, drop_rx) = mpsc::channel();
    let (home_tx, home_rx) = mpsc::channel();
    let mut handles = Vec::new();
    for _ in 0..6 {
        let (spy, home_tx) = (DropSpy(drop_tx.clone()), home_tx.clone());
        handles.push(shared.go_unstarted(
            move || {
                home_tx.send(std::thread::current().id()).unwrap();
                async move {
                    let _spy = (spy, Rc::new(())); // !Send, like a JS goroutine's state
                    Signal::default().wait().await;
                }
            },
            0,
            origin::Name::None,
            Default::default(),
        ));
    }
    for _ in 0..6 {
        let (spy, home_tx) = (DropSpy(drop_tx.clone()), home_tx.clone());
        let launcher = rt.go(async move {
            home_tx.send(std::thread::current().id()).unwrap();
            let h = current_shared().unwrap().go_local(async move {
                let _spy = (spy, Rc::new(()));
                Signal::default().wait().await;
            });
            drop(h);
        });
        launcher.wait().unwrap();
    }
    drop((drop_tx, home_tx));
    let mut homes: Vec<ThreadId> =
        (0..12).map(|_| home_rx.recv_timeout(Duration::from_secs(30)).unwrap()).collect();
    rt.shutdown();
    let mut dropped: Vec<ThreadId> = drop_rx.iter().collect();
    assert_eq!(dropped.len(), 12, "every bound future was dropped");
    let key = |t: &ThreadId| format!("{t:?}");
    homes.sort_by_key(key);
    dropped.sort_by_key(key);
    assert_eq!(homes, dropped, "each dropped on the thread it was started on");
    for h in handles {
        assert!(matches!(h.wait(), Err(join::JoinError::Cancelled { .. })));
    }
}

/// After shutdown nothing keeps the runtime's shared state alive: not the goroutines that
/// were still waiting, nor one woken afterwards from another thread.
#[test]
fn shutdown_frees_the_runtime() {
    for wake_after_shutdown in [false, true] {
        let rt = crate::Runtime::builder().procs(2).start();
        let shared = Arc::downgrade(&shared_of(&rt));
        let signals: Vec<Signal> = (0..4).map(|_| Signal::default()).collect();
        let handles: Vec<_> = signals
            .iter()
            .map(|s| {
                let s = s.clone();
                rt.go(async move { s.wait().await })
            })
            .collect();
        let sleeper = rt.go(timer::sleep(Duration::from_secs(3600)));
        wait_until("every goroutine to wait", || {
            rt.goroutines().iter().filter(|g| g.state == "waiting").count() == 5
        });
        rt.shutdown();
        if wake_after_shutdown {
            signals.iter().for_each(Signal::fire);
        }
        for h in handles.into_iter().chain([sleeper]) {
            assert!(matches!(h.wait(), Err(join::JoinError::Cancelled { .. })));
        }
        if wake_after_shutdown {
            // Firing took the wakers (goroutines) out of the signals and queued them.
            assert!(shared.upgrade().is_none(), "a goroutine woken after shutdown keeps the runtime alive");
        }
        drop(signals);
        assert!(shared.upgrade().is_none(), "the runtime outlived its shutdown");
    }
}

/// A goroutine from JavaScript that never started (its M was busy until shutdown) still
/// reports `Cancelled` to its joiner instead of leaving it waiting forever.
#[test]
fn unstarted_goroutine_is_cancelled_at_shutdown() {
    let rt = crate::Runtime::builder().procs(1).start();
    let shared = shared_of(&rt);
    let hogging = Arc::new(AtomicBool::new(false));
    let hg = hogging.clone();
    // Keeps the only M busy until shutdown begins: nothing queued behind it ever runs.
    let hog = rt.go(async move {
        let shared = current_shared().unwrap();
        hg.store(true, Release);
        while !shared.is_shut_down() {
            std::hint::spin_loop();
        }
    });
    wait_until("the hog to start", || hogging.load(Acquire));
    let ran = Arc::new(AtomicBool::new(false));
    let r = ran.clone();
    let h = shared.go_unstarted(
        move || {
            r.store(true, Release);
            async {}
        },
        0,
        origin::Name::None,
        Default::default(),
    );
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || tx.send(h.wait()).unwrap());
    rt.shutdown();
    let outcome =
        rx.recv_timeout(Duration::from_secs(30)).expect("the joiner of an unstarted goroutine hangs");
    assert!(matches!(outcome, Err(join::JoinError::Cancelled { .. })), "{outcome:?}");
    assert!(!ran.load(Acquire));
    hog.wait().unwrap();
}
