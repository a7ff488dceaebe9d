//! Changing the number of Ps while goroutines run (`Runtime::set_procs`, `gort::set_procs`;
//! Go's `GOMAXPROCS(n)`), natively on real threads. The browser's side, where new Ps need new
//! Workers, is `tests/procs.test.mjs`.
//!
//! Nothing here asserts on time: waits are bounded and fail with a message instead of hanging.
#![cfg(not(target_arch = "wasm32"))]

use gort::{gosched, ProcsError, Runtime};
use std::collections::HashSet;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed};
use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod common;
use common::{tree, wait_quiescent, wait_until, Rng};

/// Spins in a goroutine, without yielding its M, until `cond` holds; false after 30 s.
fn spin_until(mut cond: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while !cond() {
        if start.elapsed() > Duration::from_secs(30) {
            return false;
        }
        std::hint::spin_loop();
    }
    true
}

/// Go's `TestGoroutineParallelism` in the small: `procs` goroutines that never yield each
/// wait for all of them to have started, which they can only if `procs` Ms run them at once.
/// Returns the Ms they ran on.
fn all_at_once(rt: &Runtime, procs: usize) -> HashSet<usize> {
    let started = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..procs)
        .map(|_| {
            let started = started.clone();
            rt.go(async move {
                started.fetch_add(1, AcqRel);
                assert!(
                    spin_until(|| started.load(Acquire) == procs),
                    "{procs} goroutines never ran at once"
                );
                gort::procid().expect("on an M")
            })
        })
        .collect();
    handles.into_iter().map(|h| h.wait().unwrap()).collect()
}

#[test]
fn grow_from_one_to_four_runs_four_goroutines_at_once() {
    let rt = Runtime::builder().procs(1).max_procs(4).start();
    assert_eq!(rt.set_procs(4), Ok(1));
    assert_eq!(rt.procs(), 4);
    assert_eq!(rt.stats().procs, 4);
    assert_eq!(rt.stats().per_p.len(), 4);
    assert_eq!(all_at_once(&rt, 4).len(), 4, "four goroutines on four distinct Ms");
    rt.shutdown();
}

#[test]
fn shrink_from_four_to_one_loses_no_goroutine_or_timer() {
    let rt = Runtime::builder().procs(4).start();
    let done = Arc::new(AtomicUsize::new(0));
    let release = Arc::new(AtomicBool::new(false));
    // Goroutines queued on every P (spawned from goroutines, so onto their Ps), yielding,
    // and sleepers whose timers sit in every P's heap.
    let spawners: Vec<_> = (0..8)
        .map(|i| {
            let (done, release) = (done.clone(), release.clone());
            rt.go(async move {
                for j in 0..50u64 {
                    let (done, release) = (done.clone(), release.clone());
                    gort::go(async move {
                        if j % 2 == 0 {
                            // Long enough to be pending when the Ps go: their timers must move.
                            gort::time::sleep(Duration::from_millis(100 + (i * 50 + j) % 50)).await;
                        }
                        while !release.load(Acquire) {
                            gosched().await;
                        }
                        done.fetch_add(1, Relaxed);
                    });
                }
            })
        })
        .collect();
    spawners.into_iter().for_each(|h| h.wait().unwrap());
    assert_eq!(rt.set_procs(1), Ok(4));
    assert_eq!((rt.procs(), rt.stats().procs), (1, 1));
    release.store(true, Relaxed);
    wait_until(Duration::from_secs(60), "every goroutine finished", || done.load(Relaxed) == 400);
    // From now on, goroutines run on the one P's M only, whether they yield or sleep.
    let seen = Arc::new(Mutex::new(HashSet::new()));
    let hs: Vec<_> = (0..100)
        .map(|i| {
            let seen = seen.clone();
            rt.go(async move {
                seen.lock().unwrap().insert(gort::procid());
                gort::time::sleep(Duration::from_millis(i % 5)).await;
                seen.lock().unwrap().insert(gort::procid());
                gosched().await;
                seen.lock().unwrap().insert(gort::procid());
            })
        })
        .collect();
    hs.into_iter().for_each(|h| h.wait().unwrap());
    assert_eq!(*seen.lock().unwrap(), HashSet::from([Some(0)]));
    wait_quiescent(&rt);
    rt.shutdown();
}

#[test]
fn shrink_then_grow_again_runs_in_parallel_again() {
    let rt = Runtime::builder().procs(3).start();
    assert_eq!(rt.set_procs(1), Ok(3));
    assert_eq!(rt.set_procs(3), Ok(1));
    assert_eq!(all_at_once(&rt, 3).len(), 3);
    rt.shutdown();
}

#[test]
fn bad_counts_are_refused() {
    let rt = Runtime::builder().procs(2).max_procs(3).start();
    assert_eq!(rt.set_procs(0), Err(ProcsError::OutOfRange { asked: 0, max: 3 }));
    assert_eq!(rt.set_procs(4), Err(ProcsError::OutOfRange { asked: 4, max: 3 }));
    assert_eq!(rt.procs(), 2);
    assert_eq!(
        ProcsError::OutOfRange { asked: 4, max: 3 }.to_string(),
        "the number of Ps must be from 1 to 3, got 4"
    );
    rt.shutdown();
}

/// Whether the changes `(before, after)` can be ordered into one chain from `from` to `to`
/// (each change's count before is the previous one's after).
fn chains(from: usize, changes: &[(usize, usize)], to: usize) -> bool {
    if changes.is_empty() {
        return from == to;
    }
    changes.iter().enumerate().filter(|(_, c)| c.0 == from).any(|(i, &(_, after))| {
        let mut rest = changes.to_vec();
        rest.remove(i);
        chains(after, &rest, to)
    })
}

#[test]
fn set_procs_from_goroutines_and_threads_at_once() {
    let rt = Runtime::builder().procs(2).max_procs(8).start();
    // Each change answers with the count before it: the answers chain the changes in the
    // order they were made, starting from 2.
    let answers = Arc::new(Mutex::new(Vec::new()));
    let hs: Vec<_> = (1..=8)
        .map(|n| {
            let answers = answers.clone();
            rt.go(async move {
                let previous = gort::set_procs(n).await.unwrap();
                answers.lock().unwrap().push((previous, n));
                assert!(gort::procs() >= 1);
            })
        })
        .collect();
    for n in [3, 5] {
        let previous = rt.set_procs(n).unwrap();
        answers.lock().unwrap().push((previous, n));
    }
    hs.into_iter().for_each(|h| h.wait().unwrap());
    let answers = answers.lock().unwrap().clone();
    assert!(chains(2, &answers, rt.procs()), "the changes {answers:?} do not chain from 2 to {}", rt.procs());
    let refused = rt.block_on(async { gort::set_procs(9).await }).unwrap();
    assert_eq!(refused, Err(ProcsError::OutOfRange { asked: 9, max: 8 }));
    rt.shutdown();
}

/// Random resizes while producers and consumers pass values through channels: every value
/// arrives exactly once.
#[test]
fn random_resizes_under_channel_traffic() {
    const PRODUCERS: u64 = 8;
    const PER_PRODUCER: u64 = 20_000;
    let rt = Runtime::builder().procs(2).max_procs(6).start();
    let ch = gort::chan::chan::<u64>(16);
    // This thread closes it at the end: the consumers blocked on it are not deadlocked.
    let _hold = rt.hold(&ch);
    let seen = Arc::new(Mutex::new(vec![0u8; (PRODUCERS * PER_PRODUCER) as usize]));
    let consumers: Vec<_> = (0..4)
        .map(|_| {
            let (ch, seen) = (ch.clone(), seen.clone());
            rt.go(async move {
                while let Some(v) = ch.recv().await {
                    seen.lock().unwrap()[v as usize] += 1;
                }
            })
        })
        .collect();
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|p| {
            let ch = ch.clone();
            rt.go(async move {
                for i in 0..PER_PRODUCER {
                    ch.send(p * PER_PRODUCER + i).await.unwrap();
                    if i % 64 == 0 {
                        gort::time::sleep(Duration::from_micros(100)).await;
                    }
                }
            })
        })
        .collect();
    let mut rng = Rng::new(0x5e7_9c0c);
    let mut resizes = 0;
    while producers.iter().any(|h| !h.is_finished()) || resizes < 20 {
        let previous = rt.procs();
        assert_eq!(rt.set_procs(1 + rng.below(6)), Ok(previous));
        resizes += 1;
        std::thread::sleep(Duration::from_micros(rng.below(2_000) as u64));
    }
    producers.into_iter().for_each(|h| h.wait().unwrap());
    ch.close().unwrap();
    consumers.into_iter().for_each(|h| h.wait().unwrap());
    let seen = seen.lock().unwrap();
    let wrong: Vec<_> = seen.iter().enumerate().filter(|&(_, &n)| n != 1).take(5).collect();
    assert!(wrong.is_empty(), "values not received exactly once (value, times): {wrong:?}");
    rt.shutdown();
}

/// Resizes while goroutines allocate (collections start on their own) and force collections:
/// stops of the world for either purpose, or both at once, leave the heap and the goroutines
/// whole.
#[test]
fn resizes_during_collections() {
    let rt = Runtime::builder().procs(4).gc_percent(10).start();
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..6)
        .map(|i| {
            let stop = stop.clone();
            rt.go(async move {
                let mut rounds = 0u64;
                while !stop.load(Acquire) || rounds < 20 {
                    // A `Gc` lives within one poll (the rooting rules).
                    assert_eq!(common::count(tree(8)), 511);
                    if i == 0 && rounds.is_multiple_of(8) {
                        gort::gc::collect().await;
                    }
                    gosched().await;
                    rounds += 1;
                }
                rounds
            })
        })
        .collect();
    let mut rng = Rng::new(7);
    for _ in 0..40 {
        rt.set_procs(1 + rng.below(4)).unwrap();
        std::thread::sleep(Duration::from_micros(rng.below(3_000) as u64));
    }
    stop.store(true, Relaxed);
    for w in workers {
        assert!(w.wait().unwrap() >= 20);
    }
    assert!(rt.stats().gc.num_gc > 0, "collections ran meanwhile");
    rt.shutdown();
}
