//! Chaos: randomized mixes of goroutines doing channel, select, sync, timer and gc work, with
//! injected faults, and exactly-once accounting of every message and every join.
//!
//! Each seed runs two phases on a fresh runtime (1 to 4 Ps, a heap limit of a few MiB):
//!
//! 1. **Drained.** A random mix of workers (below) runs to completion, the main goroutine closes
//!    the channels, a drainer empties them. Then, exactly: every message whose send completed
//!    was received once; none that a closed channel gave back, that the heap limit refused, or
//!    that was never offered (a losing select case, a full buffer, a default) was received; every
//!    join settled once, with the worker's result or (for an injected panic) `Panicked`; the
//!    mutex counter, the wait groups, the `Once`s, the timers and the gc checks add up.
//! 2. **Shut down mid-flight.** Workers spawned from outside the runtime run open-ended loops;
//!    once enough messages went through, the test thread calls `shutdown()`. Then every join
//!    settles once, with a result, `Cancelled` or (injected) `Panicked`; no message is received
//!    twice, and none whose send failed with an error (closed channel, heap limit) is received.
//!    Values in buffers and in dropped goroutines are gone with the runtime, so only those
//!    invariants hold there, not "received exactly once".
//!
//! Faults ([`Fault`]): a hog (a goroutine spinning for some ms without yielding its M), heap
//! pressure (a goroutine filling the heap up to the limit and holding it a while, so that other
//! allocations are refused with `HeapLimitError`, which the senders record as refused
//! messages), a panic, changes of the number of Ps, and the shutdown of phase 2. New faults are new `Fault` variants.
//! `Fault::KillM` is the place for killing an M mid-flight: natively an M is a `std::thread`,
//! which cannot be killed, so it is never drawn here (the browser chaos suite,
//! tests/chaos.test.mjs, has the Worker equivalent).
//!
//! Every choice comes from a generator seeded from the seed (the interleaving still varies from
//! run to run); a failure names its seed and procs. `cargo test` runs a few fixed seeds;
//! `GORT_CHAOS_SEEDS=N` adds N more from `GORT_CHAOS_FIRST` (default 1000): `make soak`.
//! Nothing here asserts on timing: waits are bounded polls that fail with a dump.

use gort::chan::{chan, Chan, Select, SendError, TrySendError};
use gort::gc::{self, Gc, HeapLimitError, Root, Trace};
use gort::sync::{Mutex, Once, WaitGroup};
use gort::time::{after, sleep};
use gort::{JoinError, JoinHandle, Runtime};
use std::sync::atomic::Ordering::SeqCst;
use std::sync::atomic::{AtomicU64, AtomicU8, AtomicUsize};
use std::sync::Arc;
use std::time::Duration;

mod common;
use common::{thread, Instant, Rng};
use gort_test_macros::test;

const HEAP_LIMIT: usize = 6 << 20;
/// Message ids a run may hand out.
const MAX_IDS: usize = 1 << 17;

/// A message's fate as its sender saw it.
const NONE: u8 = 0;
/// Being offered (a send, a select case): the sender has not seen the outcome yet.
const OFFERED: u8 = 1;
/// The send completed: a receiver has it (or, buffered, will).
const SENT: u8 = 2;
/// A closed channel gave it back (`SendError`, `TrySendError::Closed`).
const RETURNED: u8 = 3;
/// Its payload did not fit under the heap limit (`HeapLimitError`): never offered.
const REFUSED: u8 = 4;
/// Not taken: a full buffer, a losing select case, a default, a timeout.
const KEPT: u8 = 5;

/// What happened to every message id.
struct Ledger {
    fate: Vec<AtomicU8>,
    received: Vec<AtomicU8>,
    next: AtomicUsize,
}

impl Ledger {
    fn new() -> Self {
        Ledger {
            fate: (0..MAX_IDS).map(|_| AtomicU8::new(NONE)).collect(),
            received: (0..MAX_IDS).map(|_| AtomicU8::new(0)).collect(),
            next: AtomicUsize::new(0),
        }
    }

    /// A fresh id, or `None` once every id was handed out.
    fn take(&self) -> Option<u32> {
        let id = self.next.fetch_add(1, SeqCst);
        (id < MAX_IDS).then_some(id as u32)
    }

    fn set(&self, id: u32, fate: u8) {
        self.fate[id as usize].store(fate, SeqCst);
    }

    fn got(&self, m: &Msg) {
        if let Some(body) = &m.body {
            assert_eq!(body.get().payload, [u64::from(m.id); 4], "message {}: payload corrupted", m.id);
        }
        self.received[m.id as usize].fetch_add(1, SeqCst);
    }

    fn count(&self, fate: u8) -> usize {
        self.fate.iter().filter(|f| f.load(SeqCst) == fate).count()
    }
}

/// A heap object carried by most messages, checked by the receiver.
#[derive(Trace)]
struct Body {
    next: Option<Gc<Body>>,
    payload: [u64; 4],
}

struct Msg {
    id: u32,
    body: Option<Root<Body>>,
}

/// Faults a worker may inject.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Fault {
    /// Spin for `ms` without yielding the M.
    Hog { ms: u64 },
    /// Fill the heap up to its limit and hold it for `ms`.
    Pressure { ms: u64 },
    /// Panic after a few operations.
    Panic,
    /// Change the number of Ps (Go's `GOMAXPROCS(n)`) a few times, to 1 to 4 (within the Ps
    /// the runtime started with, the others refused), from a goroutine: stops of the world
    /// that move queues and timers while everything runs.
    Resize { seed: u64 },
    /// Kill the M running this goroutine. Natively impossible (an M is a thread): never drawn.
    #[allow(dead_code)]
    KillM,
}

/// What a worker reports when joined.
#[derive(Debug, Default)]
struct Report {
    /// Mutex increments done (each child of a sync worker adds 1 per lock).
    increments: u64,
    sleeps: u64,
    /// Trees allocated and checked.
    trees: u64,
    /// Messages whose payload the heap limit refused.
    refused_msgs: u64,
    /// Trees the heap limit refused.
    refused_allocs: u64,
    /// Times the pressure fault reached the limit.
    filled: u64,
    /// Successful closes of a channel.
    closes: u64,
}

struct World {
    chans: Vec<Chan<Msg>>,
    ledger: Arc<Ledger>,
    counter: Mutex<u64>,
    once: Once,
    once_runs: AtomicU64,
}

fn world(rng: &mut Rng, ledger: Arc<Ledger>) -> Arc<World> {
    let n = 2 + rng.below(4);
    let caps = [0, 0, 1, 2, 4, 16];
    Arc::new(World {
        chans: (0..n).map(|_| chan(caps[rng.below(caps.len())])).collect(),
        ledger,
        counter: Mutex::new(0),
        once: Once::new(),
        once_runs: AtomicU64::new(0),
    })
}

/// A message with a fresh id and (usually) a heap body; `Err` when the heap limit refused the
/// body (recorded), `Ok(None)` when the ids ran out.
fn message(w: &World, rng: &mut Rng) -> Result<Option<Msg>, HeapLimitError> {
    let Some(id) = w.ledger.take() else { return Ok(None) };
    let body = if rng.chance(70) {
        match gc::alloc(Body { next: None, payload: [u64::from(id); 4] }) {
            Ok(b) => Some(Gc::root(b)),
            Err(e) => {
                w.ledger.set(id, REFUSED);
                return Err(e);
            }
        }
    } else {
        None
    };
    w.ledger.set(id, OFFERED);
    Ok(Some(Msg { id, body }))
}

fn record_send(w: &World, id: u32, r: Result<(), SendError<Msg>>) {
    match r {
        Ok(()) => w.ledger.set(id, SENT),
        Err(SendError(m)) => {
            assert_eq!(m.id, id, "a closed channel gave back another message");
            w.ledger.set(id, RETURNED);
        }
    }
}

/// `ops` random channel operations (sends and receives); `ops == u64::MAX`: until the ids run
/// out or the runtime shuts down.
async fn chatter(w: Arc<World>, seed: u64, ops: u64, fault: Option<Fault>) -> Report {
    let mut rng = Rng::new(seed);
    let mut rep = Report::default();
    let c = &w.chans;
    let mut op = 0u64;
    while op < ops {
        op += 1;
        if fault == Some(Fault::Panic) && op == 5 {
            panic!("injected panic");
        }
        let i = rng.below(c.len());
        match rng.below(100) {
            0..=29 => match message(&w, &mut rng) {
                Ok(Some(m)) => {
                    let id = m.id;
                    record_send(&w, id, c[i].send(m).await);
                }
                Ok(None) => break,
                Err(_) => rep.refused_msgs += 1,
            },
            30..=39 => match message(&w, &mut rng) {
                Ok(Some(m)) => {
                    let id = m.id;
                    match c[i].try_send(m) {
                        Ok(()) => w.ledger.set(id, SENT),
                        Err(TrySendError::Full(_)) => w.ledger.set(id, KEPT),
                        Err(TrySendError::Closed(m)) => record_send(&w, id, Err(SendError(m))),
                    }
                }
                Ok(None) => break,
                Err(_) => rep.refused_msgs += 1,
            },
            40..=59 => {
                // A send and a receive on random channels, with a timeout or a default.
                let m = match message(&w, &mut rng) {
                    Ok(Some(m)) => m,
                    Ok(None) => break,
                    Err(_) => {
                        rep.refused_msgs += 1;
                        continue;
                    }
                };
                let id = m.id;
                let timeout =
                    rng.chance(50).then(|| after(Duration::from_micros(50 + rng.below(500) as u64)));
                let mut sel = Select::new();
                let s = sel.send(&c[i], m);
                let r = sel.recv(&c[rng.below(c.len())]);
                let t = timeout.as_ref().map(|t| sel.recv(t));
                if t.is_none() {
                    sel.set_default();
                }
                let mut out = sel.wait().await;
                match out.index() {
                    Some(k) if k == s.index() => {
                        let res = out.sent(s);
                        record_send(&w, id, res);
                    }
                    Some(k) if k == r.index() => {
                        w.ledger.set(id, KEPT);
                        if let Some(m) = out.recv(r) {
                            w.ledger.got(&m);
                        }
                    }
                    _ => w.ledger.set(id, KEPT),
                }
            }
            60..=74 => {
                if let Ok(m) = c[i].try_recv() {
                    w.ledger.got(&m);
                }
            }
            75..=84 => {
                // A receive raced against a timer.
                gort::select! {
                    recv(c[i]) -> m => if let Some(m) = m { w.ledger.got(&m) },
                    recv(after(Duration::from_micros(200))) -> _ => {},
                }
            }
            85..=92 => {
                sleep(Duration::from_micros(rng.below(300) as u64)).await;
                rep.sleeps += 1;
            }
            93..=98 => gort::gosched().await,
            _ => {
                // Rarely, and only late in a finite run, a channel closes early: later sends on
                // it are given back (`RETURNED`), its buffer still drains.
                if ops != u64::MAX && op > ops / 2 && rng.chance(10) && c[i].close().is_ok() {
                    rep.closes += 1;
                }
            }
        }
    }
    rep
}

/// Go's idiom: select over every open channel until all are closed and drained. It blocks
/// only in that select, so every blocked sender can always pair with it.
async fn drainer(w: Arc<World>) -> Report {
    let mut live: Vec<Option<&Chan<Msg>>> = w.chans.iter().map(Some).collect();
    while live.iter().any(Option::is_some) {
        let mut sel = Select::new();
        let cases: Vec<_> = live.iter().map(|c| sel.recv(*c)).collect();
        let mut out = sel.wait().await;
        let won = out.index().expect("no default");
        let (i, h) = cases.into_iter().enumerate().find(|(_, h)| h.index() == won).expect("a case won");
        match out.recv(h) {
            Some(m) => w.ledger.got(&m),
            None => live[i] = None,
        }
    }
    Report::default()
}

/// A wait group of children, each taking the mutex `per_child` times; a `Once` on the way.
async fn sync_work(w: Arc<World>, children: u64, per_child: u64) -> Report {
    let wg = WaitGroup::new();
    wg.add(children as i64).unwrap();
    for _ in 0..children {
        let (w, wg) = (w.clone(), wg.clone());
        gort::go(async move {
            for k in 0..per_child {
                *w.counter.lock().await += 1;
                if k % 3 == 0 {
                    gort::gosched().await;
                }
            }
            w.once
                .call(async {
                    w.once_runs.fetch_add(1, SeqCst);
                })
                .await;
            wg.done().unwrap();
        });
    }
    wg.wait().await;
    Report { increments: children * per_child, ..Report::default() }
}

/// Timers: sleeps, `after` in selects against each other, a ticker-like loop.
async fn timer_work(seed: u64, n: u64) -> Report {
    let mut rng = Rng::new(seed);
    let mut rep = Report::default();
    for _ in 0..n {
        let (a, b) = (
            after(Duration::from_micros(rng.below(400) as u64)),
            after(Duration::from_micros(rng.below(400) as u64)),
        );
        let mut got = 0;
        while got < 2 {
            gort::select! {
                recv(a) -> v => { assert!(v.is_some(), "a timer channel closed"); got += 1; },
                recv(b) -> v => { assert!(v.is_some(), "a timer channel closed"); got += 1; },
            }
        }
        // Each timer delivers exactly one value.
        assert!(a.try_recv().is_err() && b.try_recv().is_err(), "a timer delivered twice");
        sleep(Duration::from_micros(rng.below(200) as u64)).await;
        rep.sleeps += 1;
    }
    rep
}

fn try_tree(depth: u32) -> Result<Gc<Body>, HeapLimitError> {
    let child = if depth == 0 { None } else { Some(try_tree(depth - 1)?) };
    gc::alloc(Body { next: child, payload: [u64::from(depth); 4] })
}

/// Allocates trees (chains of `depth` + 1 objects), checks them across a checkpoint, collects
/// sometimes. A tree the heap limit refused is counted, not lost.
async fn gc_work(seed: u64, n: u64) -> Report {
    let mut rng = Rng::new(seed);
    let mut rep = Report::default();
    for _ in 0..n {
        let depth = 1 + rng.below(200) as u32;
        match try_tree(depth) {
            Ok(t) => {
                let root = Gc::root(t);
                gc::checkpoint().await;
                if rng.chance(10) {
                    gc::collect().await;
                }
                let (mut n, mut cur) = (0, Some(root.get()));
                while let Some(b) = cur {
                    assert_eq!(b.payload, [u64::from(depth - n); 4], "a tree was corrupted");
                    n += 1;
                    cur = b.next;
                }
                assert_eq!(n, depth + 1);
                rep.trees += 1;
            }
            Err(_) => {
                rep.refused_allocs += 1;
                gort::gosched().await;
            }
        }
    }
    rep
}

/// Fills the heap to its limit with a rooted chain, holds it for `ms`, lets it go.
async fn pressure(ms: u64) -> Report {
    let mut head: Option<Root<Body>> = None;
    let mut n = 0u64;
    loop {
        let next = head.as_ref().map(|r| r.get());
        match gc::alloc(Body { next, payload: [n; 4] }) {
            Ok(b) => head = Some(Gc::root(b)),
            Err(_) => break,
        }
        n += 1;
        if n.is_multiple_of(2048) {
            gc::checkpoint().await;
        }
    }
    sleep(Duration::from_millis(ms)).await;
    drop(head);
    Report { filled: 1, ..Report::default() }
}

/// Changes the number of Ps three times, sleeping a little in between.
async fn resize(seed: u64) -> Report {
    let mut rng = Rng::new(seed);
    for _ in 0..3 {
        // Refused beyond the Ps it started with, and once the runtime shuts down (phase 2).
        let _ = gort::set_procs(1 + rng.below(4)).await;
        sleep(Duration::from_millis(rng.below(3) as u64)).await;
    }
    Report::default()
}

fn hog(ms: u64) -> Report {
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(ms) {
        std::hint::spin_loop();
    }
    Report::default()
}

/// One worker of a mix: its kind, drawn from the seed.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Chatter(Option<Fault>),
    Sync { children: u64, per_child: u64 },
    Timers,
    Gc,
    Fault(Fault),
}

fn draw(rng: &mut Rng, open_ended: bool) -> Kind {
    match rng.below(100) {
        0..=44 => Kind::Chatter(rng.chance(8).then_some(Fault::Panic)),
        45..=59 => Kind::Sync { children: 1 + rng.below(8) as u64, per_child: 1 + rng.below(20) as u64 },
        60..=69 => Kind::Timers,
        70..=84 => Kind::Gc,
        85..=91 => Kind::Fault(Fault::Hog { ms: 1 + rng.below(if open_ended { 10 } else { 25 }) as u64 }),
        92..=95 => Kind::Fault(Fault::Resize { seed: rng.next() }),
        _ => Kind::Fault(Fault::Pressure { ms: rng.below(4) as u64 }),
    }
}

fn spawn(rt: Option<&Runtime>, w: &Arc<World>, kind: Kind, seed: u64, ops: u64) -> JoinHandle<Report> {
    let w = w.clone();
    let fut = async move {
        match kind {
            Kind::Chatter(f) => chatter(w, seed, ops, f).await,
            Kind::Sync { children, per_child } => sync_work(w, children, per_child).await,
            Kind::Timers => timer_work(seed, 20).await,
            Kind::Gc => gc_work(seed, 40).await,
            Kind::Fault(Fault::Hog { ms }) => hog(ms),
            Kind::Fault(Fault::Pressure { ms }) => pressure(ms).await,
            Kind::Fault(Fault::Resize { seed }) => resize(seed).await,
            Kind::Fault(f) => unreachable!("{f:?} is not drawn natively"),
        }
    };
    match rt {
        Some(rt) => rt.go(fut),
        None => gort::go(fut),
    }
}

/// Polls until `done`; on timeout, panics with the goroutine dump.
fn wait_or_dump(rt: &Runtime, limit: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        if start.elapsed() > limit {
            let dump: Vec<String> =
                rt.goroutines().iter().map(|g| format!("{} [{}] {}", g.id, g.state, g.wait_reason)).collect();
            panic!("{what}: no progress after {limit:?}; goroutines:\n{}", dump.join("\n"));
        }
        thread::sleep(Duration::from_millis(1));
    }
}

fn runtime(rng: &mut Rng) -> (Runtime, usize) {
    let procs = 1 + rng.below(4);
    // At most the Ps it starts with (`Fault::Resize`): an M added later would need a new
    // thread, which on the web starts only once its creator returns to its event loop.
    (Runtime::builder().procs(procs).max_procs(procs).heap_limit(HEAP_LIMIT).start(), procs)
}

/// Phase 1: a mix that runs to completion; exact accounting.
fn drained(seed: u64) {
    let mut rng = Rng::new(seed);
    let (rt, procs) = runtime(&mut rng);
    let ctx = format!("seed {seed}, drained phase on {procs} Ps");
    let ledger = Arc::new(Ledger::new());
    let w = world(&mut rng, ledger.clone());
    let kinds: Vec<Kind> = (0..8 + rng.below(16)).map(|_| draw(&mut rng, false)).collect();
    let ops = 200 + rng.below(1000) as u64;
    let sub = rng.next();
    let (w2, kinds2) = (w.clone(), kinds.clone());
    let main = rt.go(async move {
        let drain = gort::go(drainer(w2.clone()));
        let workers: Vec<_> =
            kinds2.iter().enumerate().map(|(i, &k)| spawn(None, &w2, k, sub ^ i as u64, ops)).collect();
        let mut results = Vec::new();
        for h in workers {
            results.push(h.await);
        }
        let mut closes = 0;
        for c in &w2.chans {
            closes += u64::from(c.close().is_ok());
        }
        results.push(drain.await);
        (results, closes)
    });
    wait_or_dump(&rt, Duration::from_secs(120), &ctx, || main.is_finished());
    let (results, main_closes) = main.wait().unwrap_or_else(|e| panic!("{ctx}: {e}"));

    // Every join settled once: a report, or the injected panic.
    assert_eq!(results.len(), kinds.len() + 1, "{ctx}");
    let mut total = Report::default();
    for (i, r) in results.iter().enumerate() {
        let kind = kinds.get(i).copied();
        match (kind, r) {
            (Some(Kind::Chatter(Some(Fault::Panic))), Err(JoinError::Panicked { message, .. })) => {
                assert!(message.contains("injected panic"), "{ctx}: {message}");
            }
            (Some(Kind::Chatter(Some(Fault::Panic))), Ok(_)) if ops < 5 => {}
            (_, Ok(r)) => {
                total.increments += r.increments;
                total.sleeps += r.sleeps;
                total.trees += r.trees;
                total.refused_msgs += r.refused_msgs;
                total.refused_allocs += r.refused_allocs;
                total.filled += r.filled;
                total.closes += r.closes;
            }
            (k, Err(e)) => panic!("{ctx}: worker {i} ({k:?}) failed: {e}"),
        }
    }
    let expected_inc: u64 = kinds
        .iter()
        .map(|k| if let Kind::Sync { children, per_child } = k { children * per_child } else { 0 })
        .sum();
    let wc = w.clone();
    let counter = rt.block_on(async move { *wc.counter.lock().await }).unwrap();
    assert_eq!(counter, expected_inc, "{ctx}: mutex-protected increments");
    assert_eq!(total.increments, expected_inc, "{ctx}");
    let any_sync = kinds.iter().any(|k| matches!(k, Kind::Sync { .. }));
    assert_eq!(w.once_runs.load(SeqCst), u64::from(any_sync), "{ctx}: a Once ran its closure once");
    assert_eq!(
        kinds.iter().filter(|k| matches!(k, Kind::Fault(Fault::Pressure { .. }))).count() as u64,
        total.filled,
        "{ctx}: every pressure fault reached the heap limit"
    );

    assert_eq!(total.closes + main_closes, w.chans.len() as u64, "{ctx}: each channel closed once");

    // Messages: exactly once.
    let handed = ledger.next.load(SeqCst).min(MAX_IDS);
    let mut sent = 0;
    for id in 0..handed {
        let fate = ledger.fate[id].load(SeqCst);
        let got = ledger.received[id].load(SeqCst);
        match fate {
            SENT => assert_eq!(got, 1, "{ctx}: message {id} sent, received {got} times"),
            RETURNED | REFUSED | KEPT => {
                assert_eq!(got, 0, "{ctx}: message {id} (fate {fate}) received {got} times")
            }
            _ => panic!("{ctx}: message {id} left in state {fate} after its sender finished"),
        }
        sent += usize::from(fate == SENT);
    }
    // A panicking worker's report (its refusals) is lost with it.
    let panics = kinds.contains(&Kind::Chatter(Some(Fault::Panic)));
    let refused = ledger.count(REFUSED) as u64;
    assert!(
        refused == total.refused_msgs || (panics && refused > total.refused_msgs),
        "{ctx}: {refused} messages refused, workers saw {}",
        total.refused_msgs
    );
    eprintln!(
        "{ctx}: {} workers, {sent} messages delivered, {} given back, {} refused at the heap limit, {} kept; \
         {} increments, {} trees, {} refused allocations",
        kinds.len(),
        ledger.count(RETURNED),
        ledger.count(REFUSED),
        ledger.count(KEPT),
        total.increments,
        total.trees,
        total.refused_allocs
    );
    wait_or_dump(&rt, Duration::from_secs(30), &format!("{ctx}: goroutines to finish"), || {
        rt.stats().goroutines == 0
    });
    rt.shutdown();
}

/// Phase 2: open-ended workers, shut down mid-flight; every join settles once, no message is
/// received twice or after its send failed.
fn shutdown_mid_flight(seed: u64) {
    let mut rng = Rng::new(seed ^ 0x5D);
    let (rt, procs) = runtime(&mut rng);
    let ctx = format!("seed {seed}, shutdown phase on {procs} Ps");
    let ledger = Arc::new(Ledger::new());
    let w = world(&mut rng, ledger.clone());
    let mut kinds: Vec<Kind> = (0..6 + rng.below(10)).map(|_| draw(&mut rng, true)).collect();
    // At least one sender and a drainer keep messages moving until the shutdown.
    kinds.push(Kind::Chatter(None));
    let sub = rng.next();
    // This thread holds the channels while it spawns the workers one by one: a worker blocked
    // on one before the others exist is not deadlocked (Go's main goroutine would hold them).
    let holds: Vec<_> = w.chans.iter().map(|c| rt.hold(c)).collect();
    let mut handles: Vec<JoinHandle<Report>> =
        kinds.iter().enumerate().map(|(i, &k)| spawn(Some(&rt), &w, k, sub ^ i as u64, u64::MAX)).collect();
    handles.push(rt.go(drainer(w.clone())));
    // Enough traffic, then the shutdown, with the workers still running.
    let want = 50 + rng.below(500);
    wait_or_dump(
        &rt,
        Duration::from_secs(60),
        &format!("{ctx}: {want} messages before the shutdown"),
        || {
            (0..ledger.next.load(SeqCst).min(MAX_IDS))
                .filter(|&i| ledger.received[i].load(SeqCst) > 0)
                .count()
                >= want
        },
    );
    rt.shutdown();
    drop(holds);

    let (mut values, mut cancelled, mut panicked) = (0, 0, 0);
    let outcomes: Vec<_> = handles.into_iter().map(|h| h.wait()).collect();
    let all = format!(
        "{:?}",
        outcomes
            .iter()
            .map(|o| o.as_ref().map(|_| ()).map_err(|e| e
                .to_string()
                .lines()
                .next()
                .unwrap_or("")
                .to_string()))
            .collect::<Vec<_>>()
    );
    for (i, o) in outcomes.into_iter().enumerate() {
        let kind = kinds.get(i).copied();
        match o {
            Ok(_) => values += 1,
            Err(JoinError::Cancelled { .. }) => cancelled += 1,
            Err(JoinError::Panicked { message, .. }) if kind == Some(Kind::Chatter(Some(Fault::Panic))) => {
                assert!(message.contains("injected panic"), "{ctx}: {message}");
                panicked += 1;
            }
            Err(e) => panic!("{ctx}: worker {i} ({kind:?}): {e}\nall joins: {all}\nkinds: {kinds:?}"),
        }
    }
    assert_eq!(values + cancelled + panicked, kinds.len() + 1, "{ctx}: every join settled once");
    assert!(cancelled >= 1, "{ctx}: the drainer (no channel is ever closed) was cancelled");
    let handed = ledger.next.load(SeqCst).min(MAX_IDS);
    let mut delivered = 0;
    for id in 0..handed {
        let (fate, got) = (ledger.fate[id].load(SeqCst), ledger.received[id].load(SeqCst));
        assert!(got <= 1, "{ctx}: message {id} received {got} times");
        if matches!(fate, RETURNED | REFUSED | KEPT) {
            assert_eq!(got, 0, "{ctx}: message {id} (fate {fate}) was received");
        }
        delivered += usize::from(got == 1);
    }
    eprintln!(
        "{ctx}: {} joins ({values} values, {cancelled} cancelled, {panicked} panicked), {delivered} messages delivered, \
         {} sent and lost with the runtime (buffers, dropped receivers)",
        kinds.len() + 1,
        (0..handed).filter(|&i| ledger.fate[i].load(SeqCst) == SENT && ledger.received[i].load(SeqCst) == 0).count()
    );
}

/// The fixed seeds, then `GORT_CHAOS_SEEDS` more from `GORT_CHAOS_FIRST` (default 1000).
fn seeds(fixed: &[u64]) -> Vec<u64> {
    let env = |k: &str, d: u64| std::env::var(k).ok().and_then(|v| v.parse().ok()).unwrap_or(d);
    let (extra, first) = (env("GORT_CHAOS_SEEDS", 0), env("GORT_CHAOS_FIRST", 1000));
    fixed.iter().copied().chain(first..first + extra).collect()
}

#[test]
fn chaos_drained() {
    for seed in seeds(&[1, 2, 3, 4, 5, 6, 0xC0FFEE, 20_260_601]) {
        drained(seed);
    }
}

#[test]
fn chaos_shutdown_mid_flight() {
    for seed in seeds(&[5, 6, 7, 8, 9, 0xBADC0DE]) {
        shutdown_mid_flight(seed);
    }
}
