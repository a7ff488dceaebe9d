//! The channel and timer workloads of the Go anchor benchmark (`bench.go`: pingpong,
//! pipeline, select, timers), over gort's channels, `select!`, WaitGroup and `time::sleep`,
//! written as bench.go writes them.

use crate::clock::{ms, Stamp};
use crate::metric::Metric;
use gort::chan::{chan, Chan};
use gort::sync::WaitGroup;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

/// Round trips in pingpong.
pub const PINGPONG_N: u64 = 100_000;
/// Items through the pipeline.
pub const PIPELINE_N: u64 = 200_000;
/// Pipeline workers.
pub const PIPELINE_W: usize = 4;
/// Capacity of the pipeline's channels.
pub const PIPELINE_CAP: usize = 64;
/// Messages through select.
pub const SELECT_N: u64 = 200_000;
/// Sleeping goroutines in timers.
pub const TIMERS_N: usize = 10_000;

/// Goroutine pong answers v+1 to every v on unbuffered `a` (on `b`) until `a` closes;
/// goroutine ping does PINGPONG_N round trips, closes `a` and reports to the caller.
/// `pingpong` ns per round trip (including starting both goroutines), `pingpong.wall` ms.
pub async fn pingpong() -> Vec<Metric> {
    let start = Stamp::now();
    let (a, b) = (chan::<u64>(0), chan::<u64>(0));
    let done = chan::<u64>(0);
    let (pa, pb) = (a.clone(), b.clone());
    drop(gort::go(async move {
        while let Some(v) = pa.recv().await {
            pb.send(v + 1).await.expect("pingpong: b closed");
        }
    }));
    let d = done.clone();
    drop(gort::go(async move {
        let mut v = 0;
        for _ in 0..PINGPONG_N {
            a.send(v).await.expect("pingpong: a closed");
            v = b.recv().await.expect("pingpong: b closed");
        }
        a.close().expect("pingpong: close");
        d.send(v).await.expect("pingpong: done closed");
    }));
    let v = done.recv().await.expect("pingpong: done closed");
    let el = start.elapsed_ns();
    assert_eq!(v, PINGPONG_N, "pingpong: wrong count");
    vec![
        Metric::new("pingpong", el as f64 / PINGPONG_N as f64, "ns/roundtrip"),
        Metric::new("pingpong.wall", ms(el), "ms"),
    ]
}

/// A producer sends 0..PIPELINE_N into `src` (cap 64) and closes it; PIPELINE_W workers
/// square what they receive into `out` (cap 64); a closer closes `out` once the workers are
/// done; the caller sums `out`. `pipeline` ns per item, `pipeline.wall` ms.
pub async fn pipeline() -> Vec<Metric> {
    let start = Stamp::now();
    let src = chan::<u64>(PIPELINE_CAP);
    let out = chan::<u64>(PIPELINE_CAP);
    let tx = src.clone();
    drop(gort::go(async move {
        for i in 0..PIPELINE_N {
            tx.send(i).await.expect("pipeline: src closed");
        }
        tx.close().expect("pipeline: close src");
    }));
    let wg = WaitGroup::new();
    wg.add(PIPELINE_W as i64).expect("wg.add");
    for _ in 0..PIPELINE_W {
        let (src, out, wg) = (src.clone(), out.clone(), wg.clone());
        drop(gort::go(async move {
            while let Some(x) = src.recv().await {
                out.send(x * x).await.expect("pipeline: out closed");
            }
            wg.done().expect("wg.done");
        }));
    }
    let closer = out.clone();
    drop(gort::go(async move {
        wg.wait().await;
        closer.close().expect("pipeline: close out");
    }));
    let mut sum = 0u64;
    while let Some(v) = out.recv().await {
        sum = sum.wrapping_add(v);
    }
    let el = start.elapsed_ns();
    let expect = (0..PIPELINE_N).fold(0u64, |s, i| s.wrapping_add(i * i));
    assert_eq!(sum, expect, "pipeline: wrong sum");
    vec![Metric::new("pipeline", el as f64 / PIPELINE_N as f64, "ns/item"), Metric::new("pipeline.wall", ms(el), "ms")]
}

/// Two producers each send SELECT_N/2 ones on their unbuffered channel; one consumer takes
/// SELECT_N messages with a two-case select and reports the counts.
/// `select` ns per message, `select.wall` ms.
pub async fn select() -> Vec<Metric> {
    let start = Stamp::now();
    let (c1, c2) = (chan::<u64>(0), chan::<u64>(0));
    for c in [c1.clone(), c2.clone()] {
        drop(gort::go(async move {
            for _ in 0..SELECT_N / 2 {
                c.send(1).await.expect("select: channel closed");
            }
        }));
    }
    let counts: Chan<(u64, u64)> = chan(0);
    let report = counts.clone();
    drop(gort::go(async move {
        let (mut n1, mut n2) = (0, 0);
        for _ in 0..SELECT_N {
            gort::select! {
                recv(c1) -> v => n1 += v.expect("select: c1 closed"),
                recv(c2) -> v => n2 += v.expect("select: c2 closed"),
            }
        }
        report.send((n1, n2)).await.expect("select: counts closed");
    }));
    let (n1, n2) = counts.recv().await.expect("select: counts closed");
    let el = start.elapsed_ns();
    assert_eq!((n1, n2), (SELECT_N / 2, SELECT_N / 2), "select: wrong counts");
    vec![Metric::new("select", el as f64 / SELECT_N as f64, "ns/msg"), Metric::new("select.wall", ms(el), "ms")]
}

/// TIMERS_N goroutines; goroutine i sleeps (1 + i%10) ms, writes how late it woke into slot i
/// of a shared slice and calls `wg.done()`; the caller waits on the WaitGroup (bench.go's
/// code, line for line: the goroutines hand back nothing else, and nobody is woken per
/// goroutine). `timers.wall` ms (spawn → all done), lateness mean / p50 / p99 / max / min in ms.
pub async fn timers() -> Vec<Metric> {
    let late: Arc<Vec<AtomicU64>> = Arc::new((0..TIMERS_N).map(|_| AtomicU64::new(0)).collect());
    let wg = WaitGroup::new();
    let start = Stamp::now();
    wg.add(TIMERS_N as i64).expect("wg.add");
    for i in 0..TIMERS_N {
        let (late, wg) = (late.clone(), wg.clone());
        drop(gort::go(async move {
            let d = Duration::from_millis(1 + (i % 10) as u64);
            let t0 = Stamp::now();
            gort::time::sleep(d).await;
            late[i].store(t0.elapsed_ns().saturating_sub(d.as_nanos() as u64), Relaxed);
            wg.done().expect("wg.done");
        }));
    }
    wg.wait().await;
    let el = start.elapsed_ns();
    // The WaitGroup orders every store before its last `done` before `wait` returns.
    let mut lates: Vec<u64> = late.iter().map(|l| l.load(Relaxed)).collect();
    lates.sort_unstable();
    let sum: u64 = lates.iter().sum();
    vec![
        Metric::new("timers.wall", ms(el), "ms"),
        Metric::new("timers.late_mean", ms(sum) / TIMERS_N as f64, "ms"),
        Metric::new("timers.late_p50", ms(lates[TIMERS_N / 2]), "ms"),
        Metric::new("timers.late_p99", ms(lates[TIMERS_N * 99 / 100]), "ms"),
        Metric::new("timers.late_max", ms(lates[TIMERS_N - 1]), "ms"),
        Metric::new("timers.late_min", ms(lates[0]), "ms"),
    ]
}
