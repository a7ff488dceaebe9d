//! Helpers shared by the integration tests (`mod common;` in each test file).
//!
//! Waits on the runtime are bounded polls that fail with a message instead of hanging.
//!
//! Each suite also runs in headless Chromium (`cargo wasm-test`): every `#[test]` is
//! `gort_test_macros::test`, which on wasm prestarts the Worker threads the test needs, and the
//! suites run in a dedicated worker, where blocking (`wait32`) is allowed. There
//! `std::time::Instant::now` panics and `std::thread::spawn` fails, so the tests take
//! [`Instant`], [`thread`] and [`mpsc`] from here: std's natively, the page clock, gort's Worker
//! threads and a channel whose `recv_timeout` needs no `Instant` on the web.

// Each test binary compiles this module and uses only some of it.
#![allow(dead_code)]

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_dedicated_worker);

#[cfg(not(target_arch = "wasm32"))]
#[allow(unused_imports)] // each suite uses some of them
pub use std::{sync::mpsc, thread, time::Instant};
#[cfg(target_arch = "wasm32")]
#[allow(unused_imports)]
pub use web::{mpsc, thread, Instant};

use gort::gc::{Gc, Trace};
use gort::time::sleep;
use gort::{JoinError, JoinHandle, Runtime};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

/// A node of the binary trees that the gc and pacing tests allocate.
#[derive(Trace)]
pub struct Node {
    pub left: Option<Gc<Node>>,
    pub right: Option<Gc<Node>>,
}

/// A complete binary tree of depth `depth` (2^(depth+1) - 1 nodes). Must run in a goroutine.
pub fn tree(depth: u32) -> Gc<Node> {
    if depth == 0 {
        Gc::new(Node { left: None, right: None })
    } else {
        Gc::new(Node { left: Some(tree(depth - 1)), right: Some(tree(depth - 1)) })
    }
}

/// The nodes of the tree under `n`.
pub fn count(n: Gc<Node>) -> u64 {
    1 + n.left.map_or(0, count) + n.right.map_or(0, count)
}

pub fn rt(procs: usize) -> Runtime {
    Runtime::builder().procs(procs).start()
}

/// Runs `fut` as a goroutine on a fresh runtime with `procs` Ps and returns its result.
pub fn run<F>(procs: usize, fut: F) -> F::Output
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let rt = rt(procs);
    let out = rt.block_on(fut).unwrap_or_else(|e| panic!("on {procs} Ps: {e}"));
    rt.shutdown();
    out
}

/// Polls `f` once with a waker that does nothing.
pub fn poll<F: Future + Unpin>(f: &mut F) -> Poll<F::Output> {
    Pin::new(f).poll(&mut Context::from_waker(Waker::noop()))
}

/// Polls `cond` until it holds; panics with `what` after `limit`.
pub fn wait_until(limit: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < limit, "timed out after {limit:?} waiting for {what}");
        thread::sleep(Duration::from_millis(1));
    }
}

/// Waits until goroutine `id` is parked for `reason` (as the goroutine dump shows it).
pub fn wait_blocked(rt: &Runtime, id: u64, reason: &str) {
    wait_until(Duration::from_secs(20), &format!("goroutine {id} [{reason}]"), || {
        rt.goroutines().iter().any(|g| g.id == id && g.state == "waiting" && g.wait_reason == reason)
    });
}

/// Starts `fut` as a goroutine and waits until it is parked for `reason`.
pub fn go_blocked<F>(rt: &Runtime, reason: &str, fut: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let h = rt.go(fut);
    wait_blocked(rt, h.id(), reason);
    h
}

/// Waits until every goroutine of `rt` has finished and been accounted for.
pub fn wait_quiescent(rt: &Runtime) {
    wait_until(Duration::from_secs(60), "stats().goroutines == 0", || rt.stats().goroutines == 0);
}

/// Runs `fut` as a goroutine that must deadlock, on a fresh runtime with `procs` Ps; returns
/// its id and the report.
pub fn deadlock_report<F>(procs: usize, fut: F) -> (u64, String)
where
    F: Future + Send + 'static,
    F::Output: Send + std::fmt::Debug + 'static,
{
    let rt = rt(procs);
    let h = rt.go(fut);
    let id = h.id();
    let err = h.wait().expect_err("a deadlock");
    assert!(matches!(err, JoinError::Deadlock { goid, .. } if goid == id), "{err:?}");
    let text = err.to_string();
    assert!(text.starts_with("all goroutines are asleep - deadlock!"), "{text}");
    rt.shutdown();
    (id, text)
}

/// A goroutine that keeps a timer pending until dropped, so that the runtime never reports a
/// deadlock meanwhile.
///
/// Only for goroutines blocked on a sync object (`WaitGroup`, `Mutex`) that the test thread
/// still holds and will use: the runtime cannot see the test thread. A channel the test thread
/// holds is declared with `Runtime::hold` instead, which exempts exactly the goroutines blocked
/// on it.
pub struct PendingTimer(Arc<AtomicBool>);

impl PendingTimer {
    pub fn start(rt: &Runtime) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        rt.go(async move {
            while !s.load(SeqCst) {
                sleep(Duration::from_millis(1)).await;
            }
        });
        PendingTimer(stop)
    }
}

impl Drop for PendingTimer {
    fn drop(&mut self) {
        self.0.store(true, SeqCst);
    }
}

/// xorshift64*: a small deterministic PRNG.
pub struct Rng(pub u64);

impl Rng {
    /// A generator for `seed` (any seed, zero included).
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            v.swap(i, j);
        }
    }
}

/// The web's stand-ins for what std lacks on wasm32-unknown-unknown.
#[cfg(target_arch = "wasm32")]
mod web {
    use std::ops::{Add, Sub};
    use std::time::Duration;
    use wasm_bindgen::JsCast;

    /// Threads: gort's (module Workers over the shared memory), plus std's `sleep`, which works
    /// in a Worker.
    pub mod thread {
        #[allow(unused_imports)] // each suite uses some of it
        pub use gort::thread::{spawn, JoinHandle};
        pub use std::thread::sleep;
    }

    /// The part of `std::sync::mpsc` the suites use, over a `Mutex` and a `Condvar` (whose
    /// `wait_timeout` is a plain timed `wait32`): std's `recv_timeout` reads `Instant::now`.
    pub mod mpsc {
        use std::collections::VecDeque;
        pub use std::sync::mpsc::RecvTimeoutError;
        use std::sync::{Arc, Condvar, Mutex};
        use std::time::Duration;

        struct State<T> {
            queue: VecDeque<T>,
            senders: usize,
        }

        struct Shared<T> {
            state: Mutex<State<T>>,
            ready: Condvar,
        }

        pub struct Sender<T>(Arc<Shared<T>>);
        pub struct Receiver<T>(Arc<Shared<T>>);

        pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
            let shared = Arc::new(Shared {
                state: Mutex::new(State { queue: VecDeque::new(), senders: 1 }),
                ready: Condvar::new(),
            });
            (Sender(shared.clone()), Receiver(shared))
        }

        impl<T> Sender<T> {
            /// Never fails: the suites keep their receivers.
            pub fn send(&self, v: T) -> Result<(), std::sync::mpsc::SendError<T>> {
                self.0.state.lock().unwrap().queue.push_back(v);
                self.0.ready.notify_one();
                Ok(())
            }
        }

        impl<T> Clone for Sender<T> {
            fn clone(&self) -> Self {
                self.0.state.lock().unwrap().senders += 1;
                Sender(self.0.clone())
            }
        }

        impl<T> Drop for Sender<T> {
            fn drop(&mut self) {
                self.0.state.lock().unwrap().senders -= 1;
                self.0.ready.notify_all();
            }
        }

        impl<T> Receiver<T> {
            /// The next value, or `None` once it is empty and every sender is gone.
            fn next_within(&self, mut left: Option<Duration>) -> Result<T, RecvTimeoutError> {
                let mut state = self.0.state.lock().unwrap();
                loop {
                    if let Some(v) = state.queue.pop_front() {
                        return Ok(v);
                    }
                    if state.senders == 0 {
                        return Err(RecvTimeoutError::Disconnected);
                    }
                    state = match left {
                        None => self.0.ready.wait(state).unwrap(),
                        Some(d) if d.is_zero() => return Err(RecvTimeoutError::Timeout),
                        Some(d) => {
                            let start = super::Instant::now();
                            let (s, _) = self.0.ready.wait_timeout(state, d).unwrap();
                            left = Some(d.saturating_sub(start.elapsed()));
                            s
                        }
                    };
                }
            }

            pub fn recv_timeout(&self, limit: Duration) -> Result<T, RecvTimeoutError> {
                self.next_within(Some(limit))
            }

            pub fn iter(&self) -> impl Iterator<Item = T> + '_ {
                std::iter::from_fn(|| self.next_within(None).ok())
            }
        }
    }

    /// `std::time::Instant` on the clock every Worker agrees on (`performance.timeOrigin +
    /// performance.now()`, as gort's own clock): an instant taken on one M compares with one
    /// taken on another.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
    pub struct Instant(Duration);

    thread_local! {
        static PERFORMANCE: web_sys::Performance =
            js_sys::Reflect::get(&js_sys::global(), &"performance".into())
                .expect("globalThis.performance")
                .unchecked_into();
    }

    impl Instant {
        pub fn now() -> Instant {
            // From 2024-01-01 (ms since the Unix epoch), to keep the f64 small and precise.
            let ms = PERFORMANCE.with(|p| p.time_origin() - 1_704_067_200_000.0 + p.now());
            Instant(Duration::from_nanos((ms * 1e6) as u64))
        }

        pub fn elapsed(&self) -> Duration {
            Instant::now().saturating_duration_since(*self)
        }

        pub fn duration_since(&self, earlier: Instant) -> Duration {
            self.saturating_duration_since(earlier)
        }

        pub fn saturating_duration_since(&self, earlier: Instant) -> Duration {
            self.0.saturating_sub(earlier.0)
        }
    }

    impl Add<Duration> for Instant {
        type Output = Instant;
        fn add(self, d: Duration) -> Instant {
            Instant(self.0 + d)
        }
    }

    impl Sub<Duration> for Instant {
        type Output = Instant;
        fn sub(self, d: Duration) -> Instant {
            Instant(self.0 - d)
        }
    }

    impl Sub<Instant> for Instant {
        type Output = Duration;
        fn sub(self, earlier: Instant) -> Duration {
            self.saturating_duration_since(earlier)
        }
    }
}
