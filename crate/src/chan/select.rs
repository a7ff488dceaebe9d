//! `select` over any number of send and receive cases (Go's `selectgo`).
//!
//! # Protocol
//! 1. Lock every distinct channel of the cases in address order (Go's `sellock`; the order is
//!    worked out once per select, `lock_order`), so two selects over the same channels cannot
//!    deadlock and no case can change under us.
//! 2. Pass 1: try the cases in a uniformly random order; the first ready one completes now.
//!    That makes the choice among ready cases uniform. With none ready and a `default`, take
//!    it. Nil-channel cases are never ready.
//! 3. Pass 2: enqueue one waiter (`Parked`) in every case's channel, unlock, and wait. Whoever
//!    claims the waiter first (see `waiter.rs`) decides the case: a sender, receiver or closer
//!    on one of the channels.
//! 4. Once claimed, lock every channel again and withdraw the waiter's other entries.
//!
//! Because every channel is locked during passes 1 and 2, nobody can claim the waiter before
//! it is fully enqueued. Dropping a waiting select withdraws it; if a receive case had already
//! been handed a value, the value goes back to its channel (invariant 3 of `chan`).

use super::state::Attempt;
use super::waiter::{Entry, Parked, Slot};
use super::{Chan, Inner, SendError, TrySendError};
use crate::sched::lock::Lock;
use crate::sched::lock::RawLock;
use crate::sched::{coop, set_wait_reason, WaitReason};
use std::cell::Cell;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// One case, type-erased. Methods marked "locked" require the case's channel lock held.
trait Case: Send {
    fn channel(&self) -> Option<&RawLock>;
    /// Locked: completes the case now if it is ready; Some(closed) if it did, plus a waiter
    /// to wake.
    fn try_now(&self) -> Option<(bool, Option<Arc<Parked>>)>;
    /// Locked: queues an entry for `parked`, as case number `index`.
    fn enqueue(&self, parked: &Arc<Parked>, index: usize);
    /// Locked: removes `parked`'s entries from the channel.
    fn withdraw(&self, parked: &Arc<Parked>);
    /// Locked: a receive case that completed but will never be read gives its value back.
    fn give_back(&self) -> Option<Arc<Parked>>;
}

struct RecvCase<'a, T> {
    chan: Option<&'a Inner<T>>,
    slot: Arc<Slot<T>>,
}

struct SendCase<'a, T> {
    chan: Option<&'a Inner<T>>,
    slot: Arc<Slot<T>>,
}

fn lock_of<T>(c: Option<&Inner<T>>) -> Option<&RawLock> {
    c.map(Inner::raw_lock)
}

impl<T: Send> Case for RecvCase<'_, T> {
    fn channel(&self) -> Option<&RawLock> {
        lock_of(self.chan)
    }

    fn try_now(&self) -> Option<(bool, Option<Arc<Parked>>)> {
        let c = self.chan?;
        // SAFETY: "locked" methods run with the channel's lock held (`Select` protocol).
        let state = unsafe { c.state_mut() };
        match state.try_recv(c.cap()) {
            (Attempt::Done(Some(v)), woken) => {
                *self.slot.lock() = Some(v);
                Some((false, woken))
            }
            (Attempt::Done(None), woken) => Some((true, woken)),
            (Attempt::WouldBlock, _) => None,
        }
    }

    fn enqueue(&self, parked: &Arc<Parked>, index: usize) {
        if let Some(c) = self.chan {
            let entry = Entry { parked: parked.clone(), case: index, slot: self.slot.clone() };
            // SAFETY: locked, as above.
            unsafe { c.state_mut() }.enqueue_recv(entry);
        }
    }

    fn withdraw(&self, parked: &Arc<Parked>) {
        if let Some(c) = self.chan {
            // SAFETY: locked, as above.
            unsafe { c.state_mut() }.withdraw(parked);
        }
    }

    fn give_back(&self) -> Option<Arc<Parked>> {
        let v = self.slot.lock().take()?;
        // SAFETY: locked, as above.
        unsafe { self.chan?.state_mut() }.give_back(v)
    }
}

impl<T: Send> Case for SendCase<'_, T> {
    fn channel(&self) -> Option<&RawLock> {
        lock_of(self.chan)
    }

    fn try_now(&self) -> Option<(bool, Option<Arc<Parked>>)> {
        let c = self.chan?;
        let mut slot = self.slot.lock();
        let v = slot.take().expect("a send case holds its value until it completes");
        // SAFETY: locked, as above.
        match unsafe { c.state_mut() }.try_send(c.cap(), v) {
            Ok(woken) => Some((false, woken)),
            Err(TrySendError::Closed(v)) => {
                *slot = Some(v);
                Some((true, None))
            }
            Err(TrySendError::Full(v)) => {
                *slot = Some(v);
                None
            }
        }
    }

    fn enqueue(&self, parked: &Arc<Parked>, index: usize) {
        if let Some(c) = self.chan {
            let entry = Entry { parked: parked.clone(), case: index, slot: self.slot.clone() };
            // SAFETY: locked, as above.
            unsafe { c.state_mut() }.enqueue_send(entry);
        }
    }

    fn withdraw(&self, parked: &Arc<Parked>) {
        if let Some(c) = self.chan {
            // SAFETY: locked, as above.
            unsafe { c.state_mut() }.withdraw(parked);
        }
    }

    fn give_back(&self) -> Option<Arc<Parked>> {
        None
    }
}

/// A receive case's handle, to read its value from the [`SelectOutcome`].
pub struct RecvCaseHandle<T> {
    index: usize,
    slot: Arc<Slot<T>>,
}

/// A send case's handle, to read its result from the [`SelectOutcome`].
pub struct SendCaseHandle<T> {
    index: usize,
    slot: Arc<Slot<T>>,
}

impl<T> RecvCaseHandle<T> {
    pub fn index(&self) -> usize {
        self.index
    }
}

impl<T> SendCaseHandle<T> {
    pub fn index(&self) -> usize {
        self.index
    }
}

/// What a select case accepts as its channel: `&Chan<T>`, or `&Option<Chan<T>>` /
/// `Option<&Chan<T>>` where `None` is a nil channel (never ready).
pub trait CaseChan<'a, T> {
    fn case_chan(self) -> Option<&'a Chan<T>>;
}

impl<'a, T> CaseChan<'a, T> for &'a Chan<T> {
    fn case_chan(self) -> Option<&'a Chan<T>> {
        Some(self)
    }
}

impl<'a, T> CaseChan<'a, T> for &'a &'a Chan<T> {
    fn case_chan(self) -> Option<&'a Chan<T>> {
        Some(*self)
    }
}

impl<'a, T> CaseChan<'a, T> for Option<&'a Chan<T>> {
    fn case_chan(self) -> Option<&'a Chan<T>> {
        self
    }
}

impl<'a, T> CaseChan<'a, T> for &'a Option<Chan<T>> {
    fn case_chan(self) -> Option<&'a Chan<T>> {
        self.as_ref()
    }
}

impl<'a, T> CaseChan<'a, T> for &'a Option<&'a Chan<T>> {
    fn case_chan(self) -> Option<&'a Chan<T>> {
        *self
    }
}

/// A select statement being built: add cases, then `.await` [`Select::wait`].
///
/// ```no_run
/// # async fn f(a: gort::chan::Chan<i32>, b: gort::chan::Chan<&'static str>) {
/// let mut sel = gort::chan::Select::new();
/// let ra = sel.recv(&a);
/// let sb = sel.send(&b, "hi");
/// let mut out = sel.wait().await;
/// if out.index() == Some(ra.index()) {
///     let _v: Option<i32> = out.recv(ra);
/// } else {
///     out.sent(sb).unwrap();
/// }
/// # }
/// ```
/// The [`crate::select!`] macro writes this for you.
pub struct Select<'a> {
    cases: Vec<Box<dyn Case + 'a>>,
    default: bool,
}

/// Which case a select took (`None`: the default), and whether it was taken because its channel
/// was closed.
pub struct SelectOutcome {
    index: Option<usize>,
    closed: bool,
}

impl SelectOutcome {
    pub fn index(&self) -> Option<usize> {
        self.index
    }

    /// The value a taken receive case got; `None` if its channel was closed (Go's `ok == false`).
    pub fn recv<T>(&mut self, case: RecvCaseHandle<T>) -> Option<T> {
        assert_eq!(self.index, Some(case.index), "reading a receive case the select did not take");
        if self.closed {
            None
        } else {
            case.slot.lock().take()
        }
    }

    /// The result of a taken send case: its value comes back if the channel was closed.
    pub fn sent<T>(&mut self, case: SendCaseHandle<T>) -> Result<(), SendError<T>> {
        assert_eq!(self.index, Some(case.index), "reading a send case the select did not take");
        if self.closed {
            Err(SendError(case.slot.lock().take().expect("a closed send keeps its value")))
        } else {
            Ok(())
        }
    }
}

impl Default for Select<'_> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'a> Select<'a> {
    pub fn new() -> Self {
        Select { cases: Vec::new(), default: false }
    }

    /// Adds a receive case; `None` is a nil channel, never ready.
    pub fn recv<T: Send + 'a>(&mut self, chan: impl CaseChan<'a, T>) -> RecvCaseHandle<T> {
        let slot = Arc::new(Lock::new(None));
        let index = self.cases.len();
        let chan = chan.case_chan().map(|c| &*c.inner);
        self.cases.push(Box::new(RecvCase { chan, slot: slot.clone() }));
        RecvCaseHandle { index, slot }
    }

    /// Adds a send case; `None` is a nil channel, never ready (the value is dropped with the
    /// select).
    pub fn send<T: Send + 'a>(&mut self, chan: impl CaseChan<'a, T>, v: T) -> SendCaseHandle<T> {
        let slot = Arc::new(Lock::new(Some(v)));
        let index = self.cases.len();
        let chan = chan.case_chan().map(|c| &*c.inner);
        self.cases.push(Box::new(SendCase { chan, slot: slot.clone() }));
        SendCaseHandle { index, slot }
    }

    /// Adds a `default` case: the select never waits.
    pub fn set_default(&mut self) {
        self.default = true;
    }

    /// Runs the select.
    pub fn wait(self) -> SelectFuture<'a> {
        let locks = lock_order(&self.cases);
        SelectFuture { select: self, locks, parked: None, done: false, _not_unpin: PhantomData }
    }
}

/// Future of [`Select::wait`].
pub struct SelectFuture<'a> {
    select: Select<'a>,
    /// One case per distinct channel, in the order of their locks' addresses (`lock_order`).
    locks: Vec<usize>,
    parked: Option<Arc<Parked>>,
    done: bool,
    _not_unpin: PhantomData<()>,
}

impl Unpin for SelectFuture<'_> {}

thread_local! {
    static RNG: Cell<u64> = Cell::new(0x2545_F491_4F6C_DD1D ^ (crate::platform::now_ns() | 1));
}

fn random_below(n: usize) -> usize {
    RNG.with(|r| {
        let mut x = r.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        r.set(x);
        (((x >> 32) * n as u64) >> 32) as usize
    })
}

/// For each distinct channel of `cases`, one case on it, in the order of the channels' lock
/// addresses: the order in which a select takes the locks.
fn lock_order(cases: &[Box<dyn Case + '_>]) -> Vec<usize> {
    let addr = |i: &usize| cases[*i].channel().map_or(0, |l| l as *const RawLock as usize);
    let mut locks: Vec<usize> = (0..cases.len()).filter(|&i| cases[i].channel().is_some()).collect();
    locks.sort_by_key(addr);
    locks.dedup_by_key(|i| addr(i));
    locks
}

impl SelectFuture<'_> {
    fn with_all_locked<R>(&self, f: impl FnOnce(&[Box<dyn Case + '_>]) -> R) -> R {
        let cases = &self.select.cases;
        let lock = |i: &usize| cases[*i].channel().expect("`locks` lists cases with a channel");
        self.locks.iter().for_each(|i| lock(i).lock());
        let r = f(cases);
        // SAFETY: each distinct lock was taken just above, once.
        self.locks.iter().rev().for_each(|i| unsafe { lock(i).unlock() });
        r
    }

    fn finish(&mut self, index: Option<usize>, closed: bool) -> Poll<SelectOutcome> {
        self.done = true;
        Poll::Ready(SelectOutcome { index, closed })
    }
}

impl Future for SelectFuture<'_> {
    type Output = SelectOutcome;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<SelectOutcome> {
        assert!(!self.done, "SelectFuture polled after completion");
        if let Some(parked) = self.parked.clone() {
            let outcome = parked.outcome().or_else(|| {
                parked.set_waker(cx.waker());
                parked.outcome()
            });
            let Some((index, closed)) = outcome else {
                set_wait_reason(WaitReason::Select);
                return Poll::Pending;
            };
            self.with_all_locked(|cases| cases.iter().for_each(|c| c.withdraw(&parked)));
            self.parked = None;
            return self.finish(Some(index), closed);
        }

        std::task::ready!(coop::poll_proceed(cx));
        // A uniformly random order of the cases; on the stack for the usual few.
        let n = self.select.cases.len();
        let (mut small, mut large) = ([0; 8], Vec::new());
        let order: &mut [usize] = if n <= small.len() {
            &mut small[..n]
        } else {
            large.resize(n, 0);
            &mut large
        };
        order.iter_mut().enumerate().for_each(|(i, o)| *o = i);
        for i in (1..n).rev() {
            order.swap(i, random_below(i + 1));
        }
        let default = self.select.default;
        let waker = cx.waker();
        let (taken, parked) = self.with_all_locked(|cases| {
            for &i in order.iter() {
                if let Some((closed, woken)) = cases[i].try_now() {
                    // Woken under the channels' locks, as `chan::wake` explains.
                    if let Some(w) = woken {
                        w.wake();
                    }
                    return (Some((Some(i), closed)), None);
                }
            }
            if default {
                return (Some((None, false)), None);
            }
            let parked = Parked::new(waker);
            order.iter().for_each(|&i| cases[i].enqueue(&parked, i));
            (None, Some(parked))
        });
        if let Some((index, closed)) = taken {
            return self.finish(index, closed);
        }
        set_wait_reason(if self.select.cases.iter().all(|c| c.channel().is_none()) {
            WaitReason::SelectNoCases
        } else {
            WaitReason::Select
        });
        self.parked = parked;
        Poll::Pending
    }
}

impl Drop for SelectFuture<'_> {
    fn drop(&mut self) {
        let Some(parked) = self.parked.take() else {
            return;
        };
        self.with_all_locked(|cases| {
            let won = if parked.cancel() { None } else { parked.outcome() };
            cases.iter().for_each(|c| c.withdraw(&parked));
            if let Some(w) = won.and_then(|(i, closed)| if closed { None } else { cases[i].give_back() }) {
                w.wake();
            }
        });
    }
}

/// Go's `select` statement over gort channels.
///
/// ```no_run
/// # async fn f(a: gort::chan::Chan<i32>, b: gort::chan::Chan<i32>) {
/// gort::select! {
///     recv(a) -> v => println!("from a: {v:?}"),   // v: Option<i32>, None once a is closed
///     send(b, 7) -> r => r.unwrap(),               // r: Result<(), SendError<i32>>
///     default => println!("nothing ready"),
/// }
/// # }
/// ```
/// A case's channel is a `Chan<T>` or an `Option<Chan<T>>` / `Option<&Chan<T>>`, borrowed by
/// the select; `None` is a nil channel, never ready. It may be a temporary, as in Go's
/// `case <-time.After(d):`, written `recv(gort::time::after(d)) -> t => …`.
#[macro_export]
macro_rules! select {
    ($($arms:tt)*) => {
        $crate::__select_arms!(@sel [] [] $($arms)*)
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __select_arms {
    (@sel [$($cases:tt)*] [$($default:tt)*] recv($ch:expr) -> $pat:pat => $body:expr $(, $($rest:tt)*)?) => {
        $crate::__select_arms!(@sel [$($cases)* (recv (&$ch) () __case $pat => $body)] [$($default)*] $($($rest)*)?)
    };
    (@sel [$($cases:tt)*] [$($default:tt)*] send($ch:expr, $v:expr) -> $pat:pat => $body:expr $(, $($rest:tt)*)?) => {
        $crate::__select_arms!(@sel [$($cases)* (send (&$ch) ($v) __case $pat => $body)] [$($default)*] $($($rest)*)?)
    };
    (@sel [$($cases:tt)*] [] default => $body:expr $(, $($rest:tt)*)?) => {
        $crate::__select_arms!(@sel [$($cases)*] [$body] $($($rest)*)?)
    };
    (@sel [$(($op:ident ($chan:expr) ($($value:expr)?) $case:ident $pat:pat => $body:expr))*] [$($default:expr)?]) => {{
        // `let x = &expr;` keeps a temporary channel (`recv(time::after(d))`) alive until the
        // end of this block, after the select that borrows it.
        $( let $case = $chan; )*
        let mut __select = $crate::chan::Select::new();
        $( let $case = __select.$op($case $(, $value)?); )*
        $( let _ = stringify!($default); __select.set_default(); )?
        let mut __outcome = __select.wait().await;
        $crate::__select_dispatch!(__outcome [$(($op $case $pat => $body))*] [$($default)?])
    }};
}

#[doc(hidden)]
#[macro_export]
macro_rules! __select_dispatch {
    ($out:ident [($op:ident $case:ident $pat:pat => $body:expr) $($rest:tt)*] [$($default:expr)?]) => {
        if $out.index() == Some($case.index()) {
            let $pat = $crate::__select_take!($op $out $case);
            $body
        } else {
            $crate::__select_dispatch!($out [$($rest)*] [$($default)?])
        }
    };
    ($out:ident [] [$default:expr]) => { $default };
    ($out:ident [] []) => { unreachable!("a select without default always takes a case") };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __select_take {
    (recv $out:ident $case:ident) => {
        $out.recv($case)
    };
    (send $out:ident $case:ident) => {
        $out.sent($case)
    };
}
