//! Blocking runtime operations started from JavaScript, and goroutine results as JS holds them.
//!
//! An [`Op`] is a `Send` future producing a [`Message`]. The page runs it as a goroutine
//! (`RuntimeCore::run`, awaited through the [`JoinRef`]'s state word with `Atomics.waitAsync`,
//! since the page may not wait or take the channel locks for long); a Worker runs it inside a
//! goroutine bound to its M that resolves a promise (`workerRun`). So every blocking operation
//! (send, receive, select, wait, lock, sleep, join) has one implementation for both sides.

use super::value::{ChanRef, CondRef, Message, MutexRef, OnceRef, OutcomeTag, RwMutexRef, WaitGroupRef};
use crate::chan::{Chan, Select};
use crate::sched::join::{JoinCell, JoinError, JoinHandle};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use wasm_bindgen::prelude::*;

type BoxOp = Pin<Box<dyn Future<Output = Message> + Send>>;

/// A blocking operation, ready to run once.
#[wasm_bindgen]
pub struct Op {
    fut: Option<BoxOp>,
}

// The future is only moved out (`take`), never polled, while JS holds the Op.
impl std::panic::RefUnwindSafe for Op {}
impl std::panic::UnwindSafe for Op {}

impl Op {
    fn new(f: impl Future<Output = Message> + Send + 'static) -> Op {
        Op { fut: Some(Box::pin(f)) }
    }

    /// An operation that completes with no value once `f` does.
    fn unit(f: impl Future<Output = ()> + Send + 'static) -> Op {
        Op::new(async move {
            f.await;
            Message::undefined()
        })
    }

    pub(crate) fn take(&mut self) -> BoxOp {
        self.fut.take().expect("an Op runs once")
    }
}

#[wasm_bindgen]
impl Op {
    /// `ch.send(v)`: undefined, or an error "send on closed channel".
    #[wasm_bindgen(js_name = chanSend)]
    pub fn chan_send(c: &ChanRef, m: Message) -> Op {
        let c = c.chan.clone();
        Op::new(async move {
            let m = match m.into_heap().await {
                Ok(m) => m,
                Err(failed) => return failed,
            };
            match c.send(m).await {
                Ok(()) => Message::undefined(),
                Err(e) => Message::text(OutcomeTag::OpError, &e.to_string()),
            }
        })
    }

    /// `ch.recv()`: the value, or closed.
    #[wasm_bindgen(js_name = chanRecv)]
    pub fn chan_recv(c: &ChanRef) -> Op {
        let c = c.chan.clone();
        Op::new(async move { c.recv().await.unwrap_or_else(|| Message::tagged(OutcomeTag::Closed, &[])) })
    }

    #[wasm_bindgen(js_name = waitGroupWait)]
    pub fn wait_group_wait(w: &WaitGroupRef) -> Op {
        let wg = w.wg.clone();
        Op::unit(async move { wg.wait().await })
    }

    #[wasm_bindgen(js_name = mutexLock)]
    pub fn mutex_lock(m: &MutexRef) -> Op {
        let m = m.mutex.clone();
        Op::unit(async move { m.lock().await })
    }

    /// `rw.rLock()` (Go's `RWMutex.RLock`).
    #[wasm_bindgen(js_name = rwMutexRLock)]
    pub fn rw_mutex_rlock(m: &RwMutexRef) -> Op {
        let m = m.mutex.clone();
        Op::unit(async move { m.rlock().await })
    }

    /// `rw.lock()` (Go's `RWMutex.Lock`).
    #[wasm_bindgen(js_name = rwMutexLock)]
    pub fn rw_mutex_lock(m: &RwMutexRef) -> Op {
        let m = m.mutex.clone();
        Op::unit(async move { m.lock().await })
    }

    /// `cond.wait()`: unlocks the cond's mutex, waits for a signal and locks it again; an
    /// error (tag SyncError) if the mutex was not locked (Go's "sync: unlock of unlocked
    /// mutex").
    #[wasm_bindgen(js_name = condWait)]
    pub fn cond_wait(c: &CondRef) -> Op {
        let (cond, mutex) = (c.cond.clone(), c.mutex.clone());
        Op::new(async move {
            match cond.wait(&mutex).await {
                Ok(()) => Message::undefined(),
                Err(e) => Message::text(OutcomeTag::SyncError, &e.to_string()),
            }
        })
    }

    /// The first step of `once.do(f)`: `true` if the caller is to run `f` (it then holds the
    /// once until `OnceRef.end`), `false` once a call has completed.
    #[wasm_bindgen(js_name = onceBegin)]
    pub fn once_begin(o: &OnceRef) -> Op {
        let once = o.once.clone();
        Op::new(async move { Message::boolean(once.begin().await) })
    }

    pub fn sleep(ms: f64) -> Op {
        // The deadline counts from the call, as Go's time.Sleep, not from when an M runs the op.
        let sleep = crate::time::sleep(duration_ms(ms));
        Op::unit(sleep)
    }

    /// A full collection (Go's `runtime.GC()`).
    pub fn gc() -> Op {
        Op::unit(crate::gc::collect())
    }

    /// `rt.setProcs(n)`: changes the number of Ps (Go's `GOMAXPROCS(n)`), with the world
    /// stopped: the number before, or minus the most the runtime allows if `n` is beyond it
    /// (a RangeError the caller words), or a RuntimeError if the runtime shut down first.
    #[wasm_bindgen(js_name = setProcs)]
    pub fn set_procs(n: u32) -> Op {
        Op::new(async move {
            match crate::set_procs(n as usize).await {
                Ok(previous) => Message::number(previous as f64),
                Err(crate::ProcsError::OutOfRange { max, .. }) => Message::number(-(max as f64)),
                Err(e) => Message::text(OutcomeTag::RuntimeError, &e.to_string()),
            }
        })
    }

    pub fn gosched() -> Op {
        Op::unit(crate::gosched())
    }

    /// `rt.after(ms)`: a channel that receives the time (ms since the Unix epoch, the scale
    /// of `performance.timeOrigin + performance.now()`) once `ms` have passed.
    pub fn after(ms: f64, c: &ChanRef) -> Op {
        let (sleep, tx) = (crate::time::sleep(duration_ms(ms)), c.chan.clone());
        Op::new(async move {
            sleep.await;
            let _ = tx.try_send(time_now());
            Message::undefined()
        })
    }

    /// A goroutine's outcome.
    pub fn join(j: &JoinRef) -> Op {
        let handle = JoinHandle { cell: j.cell.clone(), goid: j.goid };
        Op::new(async move { outcome(handle.await) })
    }

    /// `rt.select(cases, { default })`: a `Selected` outcome.
    pub fn select(s: &mut SelectBuilder, default: bool) -> Op {
        let cases = std::mem::take(&mut s.cases);
        Op::new(async move { run_select(&cases, default).await })
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

async fn run_select(cases: &[SelectCase], default: bool) -> Message {
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
    let mut out = sel.wait().await;
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
