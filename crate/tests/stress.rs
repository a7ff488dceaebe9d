//! Randomized stress of channels and select, with deterministic seeds.
//!
//! Many goroutines send, receive, select (with and without default, with nil cases, with
//! timeouts) and close on a shared set of buffered and unbuffered channels. Every value sent
//! carries a unique id, and every goroutine records what happened to each id it tried to send:
//! sent, given back by a closed channel (`SendError` / `TrySendError` holding that same value),
//! or never offered (a losing select case, a full buffer, a default). At the end:
//! * every id sent was received exactly once, and no other id was received;
//! * each channel was closed exactly once (concurrent closes: one `Ok`, the rest `CloseError`);
//! * the run terminated, every goroutine finished and every channel is drained.
//!
//! Each goroutine's choices come from its own generator seeded from the run's seed, so a failing
//! seed replays the same operation sequences (the interleaving still varies from run to run).
//!
//! Termination: receiver 0 (the drainer) only ever blocks in a select over every open channel,
//! and every blocking operation of a sender includes a send case; so a blocked sender can always
//! pair with the drainer or be released by a close, all senders finish, the main goroutine then
//! closes every channel, and the receivers' plain `recv`s return.

use gort::chan::{chan, Chan, RecvCaseHandle, Select, SendCaseHandle, SendError, TryRecvError, TrySendError};
use gort::time::{after, sleep};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

mod common;
use common::{rt, thread, Instant};
use gort_test_macros::test;

/// Capacities of the shared channels: unbuffered and buffered mixed.
const CAPS: [usize; 6] = [0, 0, 1, 3, 0, 8];
const SENDERS: u64 = 8;
const MIXED: u64 = 3;
const RECEIVERS: u64 = 4;
const SENDER_OPS: usize = 1_000;
const MIXED_OPS: usize = 600;

/// splitmix64: tiny, seedable, good enough to pick operations.
struct Rng(u64);

impl Rng {
    fn new(seed: u64, stream: u64) -> Self {
        Rng(seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15))
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// `k` distinct channel indexes.
    fn distinct(&mut self, k: usize) -> Vec<usize> {
        let mut all: Vec<usize> = (0..CAPS.len()).collect();
        for i in 0..k {
            let j = i + self.below(all.len() - i);
            all.swap(i, j);
        }
        all.truncate(k);
        all
    }
}

/// What one goroutine saw.
#[derive(Default)]
struct Log {
    /// Ids whose send completed.
    sent: Vec<u64>,
    /// Ids that a closed channel gave back.
    returned: Vec<u64>,
    /// Ids received.
    received: Vec<u64>,
    /// Successful closes, by channel.
    closes: Vec<usize>,
}

struct Shared {
    chans: Vec<Chan<u64>>,
}

/// Ids: goroutine number in the high bits, a counter in the low ones.
struct Ids {
    next: u64,
}

impl Ids {
    fn new(who: u64) -> Self {
        Ids { next: who << 40 }
    }

    fn take(&mut self) -> u64 {
        self.next += 1;
        self.next
    }
}

/// Records a completed send case's outcome.
fn record_send(log: &mut Log, id: u64, r: Result<(), SendError<u64>>) {
    match r {
        Ok(()) => log.sent.push(id),
        Err(SendError(v)) => {
            assert_eq!(v, id, "a closed channel gave back a different value");
            log.returned.push(id);
        }
    }
}

/// Adds to `sel` a send case on each of `k` distinct channels of `c`, each with a fresh id.
fn send_cases<'a>(
    sel: &mut Select<'a>,
    c: &'a [Chan<u64>],
    rng: &mut Rng,
    ids: &mut Ids,
    k: usize,
) -> Vec<(u64, SendCaseHandle<u64>)> {
    rng.distinct(k)
        .into_iter()
        .map(|i| {
            let id = ids.take();
            (id, sel.send(&c[i], id))
        })
        .collect()
}

async fn sender(sh: Arc<Shared>, who: u64, seed: u64, ops: usize, mixed: bool) -> Log {
    let mut rng = Rng::new(seed, who);
    let mut ids = Ids::new(who);
    let mut log = Log::default();
    let c = &sh.chans;
    for op in 0..ops {
        let roll = rng.below(100);
        // A few channels close early, in the second half of the run.
        if op >= ops / 2 && rng.below(500) == 0 {
            let i = rng.below(c.len());
            if c[i].close().is_ok() {
                log.closes.push(i);
            }
            continue;
        }
        if mixed && roll < 50 {
            // Send and receive cases together (possibly on the same channel), maybe a default.
            let n_send = 1 + rng.below(2);
            let n_recv = 1 + rng.below(2);
            let with_default = rng.below(4) == 0;
            let mut sel = Select::new();
            let sends = send_cases(&mut sel, c, &mut rng, &mut ids, n_send);
            let recvs: Vec<RecvCaseHandle<u64>> =
                rng.distinct(n_recv).into_iter().map(|i| sel.recv(&c[i])).collect();
            if with_default {
                sel.set_default();
            }
            let mut out = sel.wait().await;
            let Some(won) = out.index() else { continue };
            if let Some((id, h)) = sends.into_iter().find(|(_, h)| h.index() == won) {
                let r = out.sent(h);
                record_send(&mut log, id, r);
            } else {
                let h = recvs.into_iter().find(|h| h.index() == won).expect("the winner is a case");
                if let Some(v) = out.recv(h) {
                    log.received.push(v);
                }
            }
            continue;
        }
        match roll {
            0..=29 => {
                let id = ids.take();
                let r = c[rng.below(c.len())].send(id).await;
                record_send(&mut log, id, r);
            }
            30..=44 => {
                let id = ids.take();
                match c[rng.below(c.len())].try_send(id) {
                    Ok(()) => log.sent.push(id),
                    Err(TrySendError::Closed(v)) => {
                        assert_eq!(v, id);
                        log.returned.push(id);
                    }
                    Err(TrySendError::Full(v)) => assert_eq!(v, id),
                }
            }
            45..=89 => {
                // A select over 2 or 3 send cases, a nil one sometimes, a default sometimes.
                let k = 2 + rng.below(2);
                let with_default = roll >= 75;
                let with_nil = rng.below(3) == 0;
                let mut sel = Select::new();
                let nil: Option<&Chan<u64>> = None;
                let nil_case = with_nil.then(|| sel.send(nil, u64::MAX));
                let cases = send_cases(&mut sel, c, &mut rng, &mut ids, k);
                if with_default {
                    sel.set_default();
                }
                let mut out = sel.wait().await;
                if let Some(h) = &nil_case {
                    assert_ne!(out.index(), Some(h.index()), "a nil case was taken");
                }
                let Some(won) = out.index() else { continue };
                let (id, h) = cases.into_iter().find(|(_, h)| h.index() == won).expect("a real case won");
                let r = out.sent(h);
                record_send(&mut log, id, r);
            }
            _ => {
                // The macro form, two fixed channels.
                let (a, b) = (rng.below(c.len()), rng.below(c.len()));
                let (ia, ib) = (ids.take(), ids.take());
                gort::select! {
                    send(c[a], ia) -> r => record_send(&mut log, ia, r),
                    send(c[b], ib) -> r => record_send(&mut log, ib, r),
                }
            }
        }
        if rng.below(20) == 0 {
            gort::gosched().await;
        }
    }
    log
}

async fn receiver(sh: Arc<Shared>, who: u64, seed: u64) -> Log {
    let mut rng = Rng::new(seed, 1000 + who);
    let mut log = Log::default();
    // Go's idiom: a closed and drained channel is replaced by nil.
    let mut live: Vec<Option<&Chan<u64>>> = sh.chans.iter().map(Some).collect();
    let drainer = who == 0;
    while live.iter().any(Option::is_some) {
        let roll = if drainer { rng.below(50) } else { rng.below(100) };
        match roll {
            0..=49 => {
                // Select over every open channel; a default or a timeout sometimes.
                let timeout = (10..15).contains(&roll).then(|| after(Duration::from_micros(300)));
                let mut sel = Select::new();
                let cases: Vec<(usize, RecvCaseHandle<u64>)> =
                    live.iter().enumerate().map(|(i, c)| (i, sel.recv(*c))).collect();
                let with_default = roll < 10;
                let timeout_case = timeout.as_ref().map(|t| sel.recv(t));
                if with_default {
                    sel.set_default();
                }
                let mut out = sel.wait().await;
                let Some(won) = out.index() else { continue };
                if timeout_case.is_some_and(|t| t.index() == won) {
                    continue;
                }
                let (i, h) = cases.into_iter().find(|(_, h)| h.index() == won).expect("a receive case");
                assert!(live[i].is_some(), "a nil case was taken");
                match out.recv(h) {
                    Some(v) => log.received.push(v),
                    None => live[i] = None,
                }
            }
            50..=74 => {
                let i = rng.below(live.len());
                let Some(c) = live[i] else { continue };
                match c.try_recv() {
                    Ok(v) => log.received.push(v),
                    Err(TryRecvError::Closed) => live[i] = None,
                    Err(TryRecvError::Empty) => gort::gosched().await,
                }
            }
            75..=87 => {
                let i = rng.below(live.len());
                let Some(c) = live[i] else { continue };
                match c.recv().await {
                    Some(v) => log.received.push(v),
                    None => live[i] = None,
                }
            }
            _ => {
                // A receive raced against a timer: the loser is dropped, possibly just after a
                // sender handed it a value, which must then go back to the channel.
                let i = rng.below(live.len());
                let Some(c) = live[i] else { continue };
                match (Race { a: Box::pin(c.recv()), b: Box::pin(sleep(Duration::from_micros(100))) }).await {
                    Either::A(Some(v)) => log.received.push(v),
                    Either::A(None) => live[i] = None,
                    Either::B(()) => {}
                }
            }
        }
    }
    log
}

enum Either<A, B> {
    A(A),
    B(B),
}

/// The first of two futures to complete; the other is dropped.
struct Race<A: Future, B: Future> {
    a: Pin<Box<A>>,
    b: Pin<Box<B>>,
}

impl<A: Future, B: Future> Future for Race<A, B> {
    type Output = Either<A::Output, B::Output>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let Poll::Ready(v) = self.a.as_mut().poll(cx) {
            return Poll::Ready(Either::A(v));
        }
        self.b.as_mut().poll(cx).map(Either::B)
    }
}

struct Outcome {
    logs: Vec<Log>,
    /// Successful closes by main, by channel.
    main_closes: Vec<usize>,
}

fn stress(procs: usize, seed: u64) {
    let rt = rt(procs);
    let sh = Arc::new(Shared { chans: CAPS.iter().map(|&cap| chan(cap)).collect() });
    let finished = Arc::new(AtomicUsize::new(0));
    let (sh2, fin) = (sh.clone(), finished.clone());
    let main = rt.go(async move {
        let mut senders = Vec::new();
        for who in 0..SENDERS + MIXED {
            let mixed = who >= SENDERS;
            let ops = if mixed { MIXED_OPS } else { SENDER_OPS };
            let (sh, fin) = (sh2.clone(), fin.clone());
            senders.push(gort::go(async move {
                let log = sender(sh, 1 + who, seed, ops, mixed).await;
                fin.fetch_add(1, SeqCst);
                log
            }));
        }
        let receivers: Vec<_> = (0..RECEIVERS)
            .map(|who| {
                let (sh, fin) = (sh2.clone(), fin.clone());
                gort::go(async move {
                    let log = receiver(sh, who, seed).await;
                    fin.fetch_add(1, SeqCst);
                    log
                })
            })
            .collect();
        let mut logs = Vec::new();
        for s in senders {
            logs.push(s.await.unwrap());
        }
        // Every sender is done: close what is still open, so the receivers end.
        let mut main_closes = Vec::new();
        for (i, c) in sh2.chans.iter().enumerate() {
            if c.close().is_ok() {
                main_closes.push(i);
            }
        }
        for r in receivers {
            logs.push(r.await.unwrap());
        }
        Outcome { logs, main_closes }
    });

    let start = Instant::now();
    while !main.is_finished() {
        if start.elapsed() > Duration::from_secs(60) {
            let dump: Vec<String> =
                rt.goroutines().iter().map(|g| format!("{} [{}] {}", g.id, g.state, g.wait_reason)).collect();
            panic!(
                "seed {seed} on {procs} Ps: no progress after 60 s; {} of {} goroutines finished; dump:\n{}",
                finished.load(SeqCst),
                SENDERS + MIXED + RECEIVERS,
                dump.join("\n")
            );
        }
        thread::sleep(Duration::from_millis(2));
    }
    let out = main.wait().unwrap_or_else(|e| panic!("seed {seed} on {procs} Ps: {e}"));

    // Exactly one successful close per channel.
    let mut closes = vec![0; CAPS.len()];
    for i in out.logs.iter().flat_map(|l| l.closes.iter()).chain(out.main_closes.iter()) {
        closes[*i] += 1;
    }
    assert_eq!(closes, vec![1; CAPS.len()], "seed {seed} on {procs} Ps: successful closes per channel");

    // Every id sent was received exactly once; nothing else was received.
    let mut fate: HashMap<u64, &str> = HashMap::new();
    for l in &out.logs {
        for &id in &l.sent {
            assert!(fate.insert(id, "sent").is_none(), "seed {seed}: id {id:#x} sent twice");
        }
        for &id in &l.returned {
            assert!(fate.insert(id, "returned").is_none(), "seed {seed}: id {id:#x} returned and sent");
        }
    }
    let mut received: HashMap<u64, usize> = HashMap::new();
    for l in &out.logs {
        for &id in &l.received {
            *received.entry(id).or_default() += 1;
        }
    }
    for (&id, &n) in &received {
        match fate.get(&id) {
            Some(&"sent") => assert_eq!(n, 1, "seed {seed} on {procs} Ps: id {id:#x} received {n} times"),
            other => panic!("seed {seed} on {procs} Ps: id {id:#x} received but its send was {other:?}"),
        }
    }
    let sent = fate.values().filter(|&&f| f == "sent").count();
    let lost: Vec<_> = fate.iter().filter(|(id, &f)| f == "sent" && !received.contains_key(id)).collect();
    assert!(
        lost.is_empty(),
        "seed {seed} on {procs} Ps: {} of {sent} sent values were never received",
        lost.len()
    );
    assert!(sent > 1_000, "seed {seed} on {procs} Ps: only {sent} values went through");
    eprintln!(
        "seed {seed} on {procs} Ps: {sent} values sent and received, {} given back, {} closed early, {:?}",
        fate.len() - sent,
        CAPS.len() - out.main_closes.len(),
        start.elapsed()
    );
    for (i, c) in sh.chans.iter().enumerate() {
        assert!(c.is_closed() && c.is_empty(), "seed {seed}: channel {i} left with values");
    }

    // Every goroutine, the timers' included, finishes.
    let start = Instant::now();
    while rt.stats().goroutines != 0 {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "seed {seed}: goroutines left: {:?}",
            rt.goroutines()
        );
        thread::sleep(Duration::from_millis(2));
    }
    rt.shutdown();
}

/// The fixed seeds, then `GORT_STRESS_SEEDS` more (for soaking; each seed is printed with its
/// result, so a failure names its seed), starting from `GORT_STRESS_FIRST` (default 1000).
fn seeds(fixed: &[u64]) -> Vec<u64> {
    let env = |k: &str, d: u64| std::env::var(k).ok().and_then(|v| v.parse().ok()).unwrap_or(d);
    let (extra, first) = (env("GORT_STRESS_SEEDS", 0), env("GORT_STRESS_FIRST", 1000));
    fixed.iter().copied().chain(first..first + extra).collect()
}

#[test]
fn stress_two_procs() {
    for seed in seeds(&[1, 0xDEAD_BEEF, 20_260_601, 99]) {
        stress(2, seed);
    }
}

#[test]
fn stress_four_procs() {
    for seed in seeds(&[7, 0x5EED, 31_337, 4_242]) {
        stress(4, seed);
    }
}

#[test]
fn stress_one_proc() {
    for seed in seeds(&[42]) {
        stress(1, seed);
    }
}
