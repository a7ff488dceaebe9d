//! System calls, the monitor and spare Ms (`sched/syscall.rs`, `sched/sysmon.rs`), on real
//! threads: a goroutine blocked in `gort::syscall` holds up nobody else.
//!
//! Each test makes the system call wait for something only other goroutines can do, on a
//! runtime with one P: unless the P is released (for a collection) or handed to a spare M (for
//! goroutines and timers), the test cannot finish. Waits are bounded, so a failure is a
//! message, not a hang; nothing is timed.

use gort::time::sleep;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::Arc;
use std::time::Duration;

mod common;
use common::{mpsc, rt};
use gort_test_macros::test;

const LIMIT: Duration = Duration::from_secs(30);

#[test]
fn goroutines_started_while_the_only_p_is_in_a_syscall_run_on_a_spare() {
    let rt = rt(1);
    let (tx, rx) = mpsc::channel::<usize>();
    let blocked = rt.go(async move {
        // Blocks this M until the goroutines below have run: they can only run elsewhere.
        gort::syscall(|| rx.recv_timeout(LIMIT)).expect("no goroutine ran during the system call")
    });
    let ran = Arc::new(AtomicUsize::new(0));
    for _ in 0..100 {
        let (tx, ran) = (tx.clone(), ran.clone());
        rt.go(async move {
            if ran.fetch_add(1, SeqCst) + 1 == 100 {
                tx.send(100).unwrap();
            }
        });
    }
    assert_eq!(blocked.wait().unwrap(), 100);
    let stats = rt.stats();
    assert!(stats.retakes >= 1, "the P was never retaken: {}", stats.schedtrace(Duration::ZERO));
    assert!(stats.spare_ms >= 1);
    rt.shutdown();
}

#[test]
fn timers_of_a_p_in_a_syscall_fire() {
    let rt = rt(1);
    let (tx, rx) = mpsc::channel::<()>();
    let out = rt.block_on(async move {
        // A sleeper on this P, then a system call that waits for it to wake.
        let sleeper = gort::go(async move {
            sleep(Duration::from_millis(20)).await;
            tx.send(()).unwrap();
        });
        gort::syscall(|| rx.recv_timeout(LIMIT)).expect("the timer never fired during the system call");
        sleeper.await.unwrap();
        "woke"
    });
    assert_eq!(out.unwrap(), "woke");
    rt.shutdown();
}

#[test]
fn a_collection_does_not_wait_for_an_m_in_a_syscall() {
    let rt = rt(2);
    let (tx, rx) = mpsc::channel::<()>();
    let blocked = rt.go(async move {
        gort::syscall(|| rx.recv_timeout(LIMIT)).expect("the collection waited for the system call");
    });
    // A collection on the other P stops the world without the M in its system call.
    let before = rt.stats().gc.num_gc;
    rt.block_on(async { gort::gc::collect().await }).unwrap();
    assert!(rt.stats().gc.num_gc > before);
    tx.send(()).unwrap();
    blocked.wait().unwrap();
    rt.shutdown();
}

#[test]
fn an_m_back_from_a_syscall_takes_its_p_back_from_the_spare() {
    let rt = rt(1);
    // Many rounds: the P goes to the spare and back each time, with goroutines on both sides.
    let total = rt
        .block_on(async move {
            let mut total = 0;
            for round in 0..20usize {
                let (tx, rx) = mpsc::channel::<usize>();
                let helpers: Vec<_> = (0..10)
                    .map(|i| {
                        let tx = tx.clone();
                        gort::go(async move {
                            gort::gosched().await;
                            tx.send(i).unwrap();
                        })
                    })
                    .collect();
                let got: usize = gort::syscall(|| (0..10).map(|_| rx.recv_timeout(LIMIT).unwrap()).sum());
                for h in helpers {
                    h.await.unwrap();
                }
                assert_eq!(got, 45, "round {round}");
                total += got;
            }
            total
        })
        .unwrap();
    assert_eq!(total, 900);
    rt.shutdown();
}

#[test]
fn a_panic_inside_a_syscall_gives_the_p_back() {
    let rt = rt(1);
    let failed = rt.go(async {
        gort::syscall(|| panic!("inside the system call"));
    });
    assert!(failed.wait().is_err());
    // The P is usable again.
    assert_eq!(rt.block_on(async { 7 }).unwrap(), 7);
    rt.shutdown();
}
