//! Blocking runtime operations started from JavaScript, and goroutine results as JS holds them.
//!
//! An [`Op`] is a `Send` future producing a [`Message`]. The page runs it as a goroutine
//! (`RuntimeCore::run`, awaited through the [`JoinRef`]'s state word with `Atomics.waitAsync`,
//! since the page may not wait or take the channel locks for long); a Worker runs it inside a
//! goroutine bound to its M that resolves a promise (`workerRun`). So every blocking operation
//! (send, receive, select, wait, lock, sleep, join) has one implementation for both sides.
//!
//! # Aborting an operation
//! JS gives an operation an AbortSignal by giving it, before it runs, a channel of its own that
//! JS closes when the signal aborts (`Op.abortOn`; nothing is ever sent on it). The operation
//! races its work against a receive on that channel, and if the abort wins it drops its work,
//! which withdraws it, and completes with tag `Aborted` (JS then rejects with the signal's
//! reason). Nothing is lost and nothing is done twice:
//! * Sends, receives and selects run as one select with the abort as one more receive case:
//!   the select takes exactly one case, so either the value moved or the abort was taken.
//! * Every other operation drops its future, whose drop already leaves things as if it had
//!   never waited: a lock granted meanwhile is passed on (mutex, RWMutex, the Once's lock), a
//!   Cond's signal goes to the next waiter, a sleep's timer is cancelled, a wait group's wait
//!   leaves its queue. An aborted `Cond.wait` still locks the mutex again before it completes,
//!   so its caller holds `L` whichever way it ends, as Go's Wait guarantees.
//! * An abort that comes with the work ready too: the other operations poll their work first,
//!   so it completes; a send, receive or select takes one of the two ready cases at random, as
//!   Go's select does. Either way the outcome is the one JS reports.

use super::value::{ChanRef, CondRef, Message, MutexRef, OnceRef, OutcomeTag, RwMutexRef, WaitGroupRef};
use crate::chan::{Chan, Select};
use crate::sched::join::{JoinCell, JoinError, JoinHandle};
use crate::sched::{current_wait_reason, set_wait_reason, WaitReason};
use std::future::{poll_fn, Future};
use std::pin::{pin, Pin};
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;
use wasm_bindgen::prelude::*;

type BoxOp = Pin<Box<dyn Future<Output = Message> + Send>>;
type MakeOp = Box<dyn FnOnce(Abort) -> BoxOp + Send>;

/// A blocking operation, ready to run once: made with the channel it gives up on, if any
/// (module header), when it is taken to run.
#[wasm_bindgen]
pub struct Op {
    make: Option<MakeOp>,
    abort: Abort,
    /// The JS call it serves (`Chan.recv`): what goroutine dumps call the page's operations.
    name: &'static str,
}

// The closure is only moved out (`take`), never called, while JS holds the Op.
impl std::panic::RefUnwindSafe for Op {}
impl std::panic::UnwindSafe for Op {}

impl Op {
    /// An operation whose future `make` builds, given the abort it must heed.
    fn abortable<F>(name: &'static str, make: impl FnOnce(Abort) -> F + Send + 'static) -> Op
    where
        F: Future<Output = Message> + Send + 'static,
    {
        Op { make: Some(Box::new(move |abort| Box::pin(make(abort)))), abort: Abort::default(), name }
    }

    /// An operation that completes with `f`'s outcome, or `Aborted` if its abort comes first
    /// (`f` is dropped then, which must withdraw it).
    fn new(name: &'static str, f: impl Future<Output = Message> + Send + 'static) -> Op {
        Op::abortable(name, move |abort| async move { abort.race(f).await.unwrap_or_else(aborted) })
    }

    /// An operation that completes with no value once `f` does (or `Aborted`, as [`Op::new`]).
    fn unit(name: &'static str, f: impl Future<Output = ()> + Send + 'static) -> Op {
        Op::new(name, async move {
            f.await;
            Message::undefined()
        })
    }

    pub(crate) fn take(&mut self) -> BoxOp {
        let make = self.make.take().expect("an Op runs once");
        make(std::mem::take(&mut self.abort))
    }

    /// The JS call it serves, for goroutine dumps.
    pub(crate) fn name(&self) -> &'static str {
        self.name
    }
}

/// The outcome of an operation its abort withdrew.
fn aborted(_: Aborted) -> Message {
    Message::tagged(OutcomeTag::Aborted, &[])
}

/// The abort won the race (module header).
struct Aborted;

/// The channel an operation gives up on once JS closes it (none: it never gives up).
#[derive(Clone, Default)]
struct Abort(Option<Chan<Message>>);

impl Abort {
    /// `work`'s output, or `Aborted` if the abort came first: `work` is then dropped unfinished.
    /// `work` is polled first; the wait reason it gives stays the goroutine's.
    async fn race<F: Future>(&self, work: F) -> Result<F::Output, Aborted> {
        let Some(abort) = &self.0 else { return Ok(work.await) };
        let mut work = pin!(work);
        let mut closed = abort.recv();
        poll_fn(|cx| {
            if let Poll::Ready(v) = work.as_mut().poll(cx) {
                return Poll::Ready(Ok(v));
            }
            let reason = current_wait_reason();
            if Pin::new(&mut closed).poll(cx).is_ready() {
                return Poll::Ready(Err(Aborted));
            }
            set_wait_reason(reason);
            Poll::Pending
        })
        .await
    }

    /// Runs `sel` with the abort as its last case (a receive); `Aborted` if that case was taken.
    async fn select<'a>(&'a self, mut sel: Select<'a>) -> Result<crate::chan::SelectOutcome<'a>, Aborted> {
        let case = self.0.as_ref().map(|abort| sel.recv(abort));
        let out = sel.wait().await;
        match case {
            Some(case) if out.index() == Some(case.index()) => Err(Aborted),
            _ => Ok(out),
        }
    }
}

/// Sets the goroutine's wait reason to `reason` each time `f` is pending (an abortable send or
/// receive waits in a select, but is still a send or a receive).
async fn waiting_as<F: Future>(reason: WaitReason, f: F) -> F::Output {
    let mut f = pin!(f);
    poll_fn(|cx| {
        let r = f.as_mut().poll(cx);
        if r.is_pending() {
            set_wait_reason(reason);
        }
        r
    })
    .await
}

#[wasm_bindgen]
impl Op {
    /// Makes this operation give up once `c` is closed (module header); call before it runs.
    #[wasm_bindgen(js_name = abortOn)]
    pub fn abort_on(&mut self, c: &ChanRef) {
        self.abort = Abort(Some(c.chan.clone()));
    }

    /// `ch.send(v)`: undefined, or an error "send on closed channel".
    #[wasm_bindgen(js_name = chanSend)]
    pub fn chan_send(c: &ChanRef, m: Message) -> Op {
        let c = c.chan.clone();
        Op::abortable("Chan.send", move |abort| async move {
            let m = match m.into_heap().await {
                Ok(m) => m,
                Err(failed) => return failed,
            };
            let sent = if abort.0.is_none() {
                c.send(m).await
            } else {
                let mut sel = Select::new();
                let case = sel.send(&c, m);
                match waiting_as(WaitReason::ChanSend, abort.select(sel)).await {
                    Ok(mut out) => out.sent(case),
                    Err(a) => return aborted(a),
                }
            };
            match sent {
                Ok(()) => Message::undefined(),
                Err(e) => Message::text(OutcomeTag::OpError, &e.to_string()),
            }
        })
    }

    /// `ch.recv()`: the value, or closed.
    #[wasm_bindgen(js_name = chanRecv)]
    pub fn chan_recv(c: &ChanRef) -> Op {
        let c = c.chan.clone();
        Op::abortable("Chan.recv", move |abort| async move {
            let received = if abort.0.is_none() {
                c.recv().await
            } else {
                let mut sel = Select::new();
                let case = sel.recv(&c);
                match waiting_as(WaitReason::ChanRecv, abort.select(sel)).await {
                    Ok(mut out) => out.recv(case),
                    Err(a) => return aborted(a),
                }
            };
            received.unwrap_or_else(|| Message::tagged(OutcomeTag::Closed, &[]))
        })
    }

    #[wasm_bindgen(js_name = waitGroupWait)]
    pub fn wait_group_wait(w: &WaitGroupRef) -> Op {
        let wg = w.wg.clone();
        Op::unit("WaitGroup.wait", async move { wg.wait().await })
    }

    #[wasm_bindgen(js_name = mutexLock)]
    pub fn mutex_lock(m: &MutexRef) -> Op {
        let m = m.mutex.clone();
        Op::unit("Mutex.lock", async move { m.lock().await })
    }

    /// `rw.rLock()` (Go's `RWMutex.RLock`).
    #[wasm_bindgen(js_name = rwMutexRLock)]
    pub fn rw_mutex_rlock(m: &RwMutexRef) -> Op {
        let m = m.mutex.clone();
        Op::unit("RWMutex.rLock", async move { m.rlock().await })
    }

    /// `rw.lock()` (Go's `RWMutex.Lock`).
    #[wasm_bindgen(js_name = rwMutexLock)]
    pub fn rw_mutex_lock(m: &RwMutexRef) -> Op {
        let m = m.mutex.clone();
        Op::unit("RWMutex.lock", async move { m.lock().await })
    }

    /// `cond.wait()`: unlocks the cond's mutex, waits for a signal and locks it again; an
    /// error (tag SyncError) if the mutex was not locked (Go's "sync: unlock of unlocked
    /// mutex"). Aborted, it stops waiting for the signal but still locks the mutex again.
    #[wasm_bindgen(js_name = condWait)]
    pub fn cond_wait(c: &CondRef) -> Op {
        let (cond, mutex) = (c.cond.clone(), c.mutex.clone());
        Op::abortable("Cond.wait", move |abort| async move {
            let notified = match abort.race(cond.notified(&mutex)).await {
                Ok(Err(e)) => return Message::text(OutcomeTag::SyncError, &e.to_string()),
                Ok(Ok(())) => Ok(()),
                Err(a) => Err(a),
            };
            mutex.lock().await;
            notified.map_or_else(aborted, |()| Message::undefined())
        })
    }

    /// The first step of `once.do(f)`: `true` if the caller is to run `f` (it then holds the
    /// once until `OnceRef.end`), `false` once a call has completed.
    #[wasm_bindgen(js_name = onceBegin)]
    pub fn once_begin(o: &OnceRef) -> Op {
        let once = o.once.clone();
        Op::new("Once.do", async move { Message::boolean(once.begin().await) })
    }

    pub fn sleep(ms: f64) -> Op {
        // The deadline counts from the call, as Go's time.Sleep, not from when an M runs the op.
        let sleep = crate::time::sleep(duration_ms(ms));
        Op::unit("rt.sleep", sleep)
    }

    /// A full collection (Go's `runtime.GC()`).
    pub fn gc() -> Op {
        Op::unit("rt.gc", crate::gc::collect())
    }

    /// `rt.setProcs(n)`: changes the number of Ps (Go's `GOMAXPROCS(n)`), with the world
    /// stopped: the number before, or minus the most the runtime allows if `n` is beyond it
    /// (a RangeError the caller words), or a RuntimeError if the runtime shut down first.
    #[wasm_bindgen(js_name = setProcs)]
    pub fn set_procs(n: u32) -> Op {
        Op::new("rt.setProcs", async move {
            match crate::set_procs(n as usize).await {
                Ok(previous) => Message::number(previous as f64),
                Err(crate::ProcsError::OutOfRange { max, .. }) => Message::number(-(max as f64)),
                Err(e) => Message::text(OutcomeTag::RuntimeError, &e.to_string()),
            }
        })
    }

    pub fn gosched() -> Op {
        Op::unit("rt.gosched", crate::gosched())
    }

    /// `rt.after(ms)`: a channel that receives the time (ms since the Unix epoch, the scale
    /// of `performance.timeOrigin + performance.now()`) once `ms` have passed.
    pub fn after(ms: f64, c: &ChanRef) -> Op {
        let (sleep, tx) = (crate::time::sleep(duration_ms(ms)), c.chan.clone());
        Op::new("rt.after", async move {
            sleep.await;
            let _ = tx.try_send(time_now());
            Message::undefined()
        })
    }

    /// A goroutine's outcome.
    pub fn join(j: &JoinRef) -> Op {
        let handle = JoinHandle { cell: j.cell.clone(), goid: j.goid };
        Op::new("Goroutine.join", async move { outcome(handle.await) })
    }

    /// `rt.select(cases, { default })`: a `Selected` outcome.
    pub fn select(s: &mut SelectBuilder, default: bool) -> Op {
        let cases = std::mem::take(&mut s.cases);
        Op::abortable("rt.select", move |abort| async move { run_select(&cases, default, &abort).await })
    }
}

/// What a timer's channel receives from JS's `rt.after`, `rt.timer` and `rt.ticker`: the time
/// now, in ms on the scale of `performance.timeOrigin + performance.now()`.
pub(super) fn time_now() -> Message {
    Message::number(crate::platform::now_unix_ns() as f64 / 1e6)
}

/// `ms` as a Duration; NaN and negatives are zero, and past `Duration::MAX` is forever.
pub(super) fn duration_ms(ms: f64) -> Duration {
    Duration::try_from_secs_f64(ms.max(0.0) / 1e3).unwrap_or(Duration::MAX)
}

enum SelectCase {
    Recv(Option<Chan<Message>>),
    Send(Option<Chan<Message>>, std::sync::Mutex<Option<Message>>),
}

/// The cases of a select from JS, in order (`null` channels are nil: never ready).
#[wasm_bindgen]
#[derive(Default)]
pub struct SelectBuilder {
    cases: Vec<SelectCase>,
}

#[wasm_bindgen]
impl SelectBuilder {
    #[wasm_bindgen(constructor)]
    pub fn new() -> SelectBuilder {
        SelectBuilder::default()
    }

    pub fn recv(&mut self, c: &ChanRef) {
        self.cases.push(SelectCase::Recv(Some(c.chan.clone())));
    }

    /// A receive case on a nil channel.
    #[wasm_bindgen(js_name = recvNil)]
    pub fn recv_nil(&mut self) {
        self.cases.push(SelectCase::Recv(None));
    }

    pub fn send(&mut self, c: &ChanRef, m: Message) {
        self.cases.push(SelectCase::Send(Some(c.chan.clone()), std::sync::Mutex::new(Some(m))));
    }

    /// A send case on a nil channel.
    #[wasm_bindgen(js_name = sendNil)]
    pub fn send_nil(&mut self, m: Message) {
        self.cases.push(SelectCase::Send(None, std::sync::Mutex::new(Some(m))));
    }
}

async fn run_select(cases: &[SelectCase], default: bool, abort: &Abort) -> Message {
    enum H {
        Recv(crate::chan::RecvCaseHandle<Message>),
        Send(crate::chan::SendCaseHandle<Message>),
    }
    // The values to send move into the heap first, so that a heap limit fails the whole
    // select before it takes any case.
    let mut values = Vec::with_capacity(cases.len());
    for case in cases {
        values.push(match case {
            SelectCase::Recv(_) => None,
            SelectCase::Send(_, m) => {
                let m = m.lock().unwrap().take().expect("a select case's value is sent once");
                match m.into_heap().await {
                    Ok(m) => Some(m),
                    Err(failed) => return failed,
                }
            }
        });
    }
    let mut sel = Select::new();
    let handles: Vec<H> = cases
        .iter()
        .zip(values)
        .map(|(case, value)| match (case, value) {
            (SelectCase::Recv(c), _) => H::Recv(sel.recv(c.as_ref())),
            (SelectCase::Send(c, _), m) => H::Send(sel.send(c.as_ref(), m.expect("a send case's value"))),
        })
        .collect();
    if default {
        sel.set_default();
    }
    let mut out = match abort.select(sel).await {
        Ok(out) => out,
        Err(a) => return aborted(a),
    };
    let Some(i) = out.index() else { return Message::selected(-1, true, None) };
    match handles.into_iter().nth(i).expect("the select took one of its cases") {
        H::Recv(h) => match out.recv(h) {
            Some(m) => Message::selected(i as i32, true, Some(&m)),
            None => Message::selected(i as i32, false, None),
        },
        H::Send(h) => match out.sent(h) {
            Ok(()) => Message::selected(i as i32, true, None),
            Err(e) => Message::text(OutcomeTag::OpError, &e.to_string()),
        },
    }
}

/// A goroutine's (or an operation's) result, as JS holds it.
#[wasm_bindgen]
pub struct JoinRef {
    pub(crate) cell: Arc<JoinCell<Message>>,
    pub(crate) goid: u64,
}

impl From<JoinHandle<Message>> for JoinRef {
    fn from(h: JoinHandle<Message>) -> Self {
        JoinRef { cell: h.cell, goid: h.goid }
    }
}

#[wasm_bindgen]
impl JoinRef {
    pub fn id(&self) -> f64 {
        self.goid as f64
    }

    /// Byte address of the state word (0 while pending), for `Atomics.waitAsync`. Asking for it
    /// registers the caller as a waiter, so that completion notifies the word.
    #[wasm_bindgen(js_name = stateAddress)]
    pub fn state_address(&self) -> u32 {
        self.cell.expect_waiter();
        self.cell.state.as_ptr() as u32
    }

    #[wasm_bindgen(js_name = isReady)]
    pub fn is_ready(&self) -> bool {
        self.cell.is_ready()
    }

    /// Whether the goroutine has not finished yet (no outcome written, taken or not).
    #[wasm_bindgen(js_name = isPending)]
    pub fn is_pending(&self) -> bool {
        self.cell.is_pending()
    }

    /// Another reference to the same result, for a watcher that waits for the goroutine to
    /// finish (`isPending`, `stateAddress`) and leaves the outcome to the joiner.
    pub fn share(&self) -> JoinRef {
        JoinRef { cell: self.cell.clone(), goid: self.goid }
    }

    /// The outcome once ready, or undefined.
    pub fn take(&self) -> Option<Message> {
        self.cell.take().map(outcome)
    }
}

pub(crate) fn outcome(r: Result<Message, JoinError>) -> Message {
    r.unwrap_or_else(|e| match e {
        JoinError::MDied { proc, reason, .. } => {
            let mut body = (proc as u32).to_le_bytes().to_vec();
            body.extend_from_slice(reason.as_bytes());
            Message::tagged(OutcomeTag::Died, &body)
        }
        e => Message::text(OutcomeTag::RuntimeError, &e.to_string()),
    })
}
