//! `select` over any number of send and receive cases (Go's `selectgo`).
//!
//! # Protocol
//! 1. Lock every distinct channel of the cases in address order (Go's `sellock`; the order is
//!    worked out once per select, `lock_order`), so two selects over the same channels cannot
//!    deadlock and no case can change under us.
//! 2. Pass 1: try the cases in a uniformly random order; the first ready one completes now.
//!    That makes the choice among ready cases uniform. With none ready and a `default`, take
//!    it. Nil-channel cases are never ready.
//! 3. Pass 2: enqueue one waiter (`Parked`, in a block of its own) in every case's channel,
//!    each entry pointing at its case's slot (in the case's block), unlock, and wait. Whoever
//!    claims the waiter first (see `waiter.rs`) decides the case: a sender, receiver or closer
//!    on one of the channels.
//! 4. When polled again, lock every channel: the winner, which held one of those locks, is
//!    done with the waiter then. Once claimed, withdraw the waiter's other entries; if not
//!    (a poll no completion caused), only put in the poll's waker.
//!
//! Because every channel is locked during passes 1 and 2, nobody can claim the waiter before
//! it is fully enqueued. Dropping a waiting select withdraws it; if a receive case had already
//! been handed a value, the value goes back to its channel (invariant 3 of `chan`).
//!
//! The outcome keeps the cases; a case handle reads its slot there, at the handle's type,
//! after checking that it names a case of this very select (`select_id`).

use super::state::{Attempt, State};
use super::waiter::{Entry, Owned, Parked, Slot, Woken};
use super::{Chan, Inner, SendError, TrySendError};
use crate::platform::lock::RawLock;
use crate::platform::shim::UnsafeCell;
use crate::sched::{coop, set_wait_reason, WaitReason};
use std::cell::Cell;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::task::{Context, Poll};

/// One case, type-erased. Methods marked "locked" require the case's channel lock held.
trait Case: Send {
    /// Locked: completes the case now if it is ready; Some(closed) if it did, plus a waiter
    /// to wake.
    fn try_now(&self) -> Option<(bool, Woken)>;
    /// Locked: queues an entry for `parked`, as case number `index`.
    ///
    /// # Safety
    /// `parked` and this case stay in place until the entry is completed or withdrawn.
    unsafe fn enqueue(&self, parked: &Parked, index: usize);
    /// Locked: removes `parked`'s entries from the channel.
    fn withdraw(&self, parked: &Parked);
    /// Locked: a receive case that completed but will never be read gives its value back.
    fn give_back(&self) -> Woken;
    /// The case's slot: an `Option<T>` of the case's element type.
    fn slot(&self) -> *mut ();
}

/// A case's channel (`None`: nil) and its slot, which the channel's entry points into.
struct CaseOn<'a, T> {
    chan: Option<&'a Inner<T>>,
    slot: Slot<T>,
}

struct RecvCase<'a, T>(CaseOn<'a, T>);

struct SendCase<'a, T>(CaseOn<'a, T>);

impl<T> CaseOn<'_, T> {
    /// Locked: runs `f` on the channel's state; None for a nil channel.
    fn with_state<R>(&self, f: impl FnOnce(&mut State<T>) -> R) -> Option<R> {
        // SAFETY: "locked" methods run with the channel's lock held (`Select` protocol).
        self.chan.map(|c| f(unsafe { c.state_mut() }))
    }

    /// Runs `f` on the slot, which no completer can touch: no entry of this case is queued,
    /// or the channel is locked (`waiter.rs`).
    fn with_slot<R>(&self, f: impl FnOnce(&mut Option<T>) -> R) -> R {
        // SAFETY: as documented.
        self.slot.with_mut(|s| f(unsafe { &mut *s }))
    }

    /// Locked: queues an entry for case `index` of `parked` with `enqueue`.
    ///
    /// # Safety
    /// As for `Case::enqueue`.
    unsafe fn enqueue(&self, parked: &Parked, index: usize, enqueue: fn(&mut State<T>, Entry<T>)) {
        // SAFETY: passed on from the caller.
        self.with_state(|state| enqueue(state, unsafe { Entry::new(parked, index, &self.slot) }));
    }

    fn withdraw(&self, parked: &Parked) {
        self.with_state(|state| state.withdraw(parked));
    }

    fn slot_ptr(&self) -> *mut () {
        self.slot.with_mut(|s| s.cast())
    }
}

impl<T: Send> Case for RecvCase<'_, T> {
    fn try_now(&self) -> Option<(bool, Woken)> {
        let cap = self.0.chan?.cap();
        match self.0.with_state(|state| state.try_recv(cap))? {
            (Attempt::Done(Some(v)), woken) => {
                self.0.with_slot(|slot| *slot = Some(v));
                Some((false, woken))
            }
            (Attempt::Done(None), woken) => Some((true, woken)),
            (Attempt::WouldBlock, _) => None,
        }
    }

    unsafe fn enqueue(&self, parked: &Parked, index: usize) {
        // SAFETY: passed on from the caller.
        unsafe { self.0.enqueue(parked, index, State::enqueue_recv) }
    }

    fn withdraw(&self, parked: &Parked) {
        self.0.withdraw(parked)
    }

    fn give_back(&self) -> Woken {
        let v = self.0.with_slot(Option::take)?;
        self.0.with_state(|state| state.give_back(v))?
    }

    fn slot(&self) -> *mut () {
        self.0.slot_ptr()
    }
}

impl<T: Send> Case for SendCase<'_, T> {
    fn try_now(&self) -> Option<(bool, Woken)> {
        let cap = self.0.chan?.cap();
        let v = self.0.with_slot(Option::take).expect("a send case holds its value until it completes");
        match self.0.with_state(|state| state.try_send(cap, v))? {
            Ok(woken) => Some((false, woken)),
            Err(TrySendError::Closed(v)) => {
                self.0.with_slot(|slot| *slot = Some(v));
                Some((true, None))
            }
            Err(TrySendError::Full(v)) => {
                self.0.with_slot(|slot| *slot = Some(v));
                None
            }
        }
    }

    unsafe fn enqueue(&self, parked: &Parked, index: usize) {
        // SAFETY: passed on from the caller.
        unsafe { self.0.enqueue(parked, index, State::enqueue_send) }
    }

    fn withdraw(&self, parked: &Parked) {
        self.0.withdraw(parked)
    }

    fn give_back(&self) -> Woken {
        None
    }

    fn slot(&self) -> *mut () {
        self.0.slot_ptr()
    }
}

/// A receive case's handle, to read its value from the [`SelectOutcome`].
pub struct RecvCaseHandle<T> {
    index: usize,
    select: u64,
    _value: PhantomData<fn() -> T>,
}

/// A send case's handle, to read its result from the [`SelectOutcome`].
pub struct SendCaseHandle<T> {
    index: usize,
    select: u64,
    _value: PhantomData<fn() -> T>,
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
    cases: Vec<CaseBox<'a>>,
    default: bool,
    /// Tells this select's case handles from others' (see `select_id`).
    id: u64,
}

/// Which case a select took (`None`: the default), and whether it was taken because its channel
/// was closed. It holds the cases' values until they are read.
pub struct SelectOutcome<'a> {
    index: Option<usize>,
    closed: bool,
    cases: Vec<CaseBox<'a>>,
    id: u64,
}

impl SelectOutcome<'_> {
    pub fn index(&self) -> Option<usize> {
        self.index
    }

    /// The slot of the taken case `index` of this select's: an `Option<T>`, as the handle
    /// that names it comes from `Select::recv::<T>` or `Select::send::<T>` of this select.
    fn taken<T>(&mut self, index: usize, select: u64) -> &mut Option<T> {
        assert_eq!(self.index, Some(index), "reading a case the select did not take");
        assert_eq!(self.id, select, "reading a case of another select");
        // SAFETY: the handle's select and index name a case made with its `T` (above); the
        // select is over, so no channel entry points into the slot any more.
        unsafe { &mut *self.cases[index].case.slot().cast::<Option<T>>() }
    }

    /// The value a taken receive case got; `None` if its channel was closed (Go's `ok == false`).
    pub fn recv<T>(&mut self, case: RecvCaseHandle<T>) -> Option<T> {
        let closed = self.closed;
        let slot = self.taken::<T>(case.index, case.select);
        if closed {
            None
        } else {
            slot.take()
        }
    }

    /// The result of a taken send case: its value comes back if the channel was closed.
    pub fn sent<T>(&mut self, case: SendCaseHandle<T>) -> Result<(), SendError<T>> {
        let closed = self.closed;
        let slot = self.taken::<T>(case.index, case.select);
        if closed {
            Err(SendError(slot.take().expect("a closed send keeps its value")))
        } else {
            Ok(())
        }
    }
}

/// A number no other select on any thread has: the check that lets an outcome read a case's
/// value at the type its handle names. Each thread takes blocks of numbers from a global counter.
fn select_id() -> u64 {
    const BLOCK: u64 = 1 << 20;
    static BLOCKS: AtomicU64 = AtomicU64::new(0);
    thread_local! {
        static NEXT: Cell<u64> = const { Cell::new(0) };
    }
    NEXT.with(|next| {
        let mut id = next.get();
        if id % BLOCK == 0 {
            id = (BLOCKS.fetch_add(1, Relaxed) + 1) * BLOCK + 1;
        }
        next.set(id + 1);
        id
    })
}

impl Default for Select<'_> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'a> Select<'a> {
    pub fn new() -> Self {
        Self::with_capacity(0)
    }

    /// A select with room for `cases` cases (the [`crate::select!`] macro knows how many).
    pub fn with_capacity(cases: usize) -> Self {
        Select { cases: Vec::with_capacity(cases), default: false, id: select_id() }
    }

    /// Adds a receive case; `None` is a nil channel, never ready.
    pub fn recv<T: Send + 'a>(&mut self, chan: impl CaseChan<'a, T>) -> RecvCaseHandle<T> {
        let index = self.cases.len();
        let chan = chan.case_chan().map(|c| &*c.inner);
        let case: Box<dyn Case + 'a> = Box::new(RecvCase(CaseOn { chan, slot: UnsafeCell::new(None) }));
        let case = Owned::from_box(case);
        self.cases.push(CaseBox { lock: chan.map(Inner::raw_lock), case });
        RecvCaseHandle { index, select: self.id, _value: PhantomData }
    }

    /// Adds a send case; `None` is a nil channel, never ready (the value is dropped with the
    /// select).
    pub fn send<T: Send + 'a>(&mut self, chan: impl CaseChan<'a, T>, v: T) -> SendCaseHandle<T> {
        let index = self.cases.len();
        let chan = chan.case_chan().map(|c| &*c.inner);
        let case: Box<dyn Case + 'a> = Box::new(SendCase(CaseOn { chan, slot: UnsafeCell::new(Some(v)) }));
        let case = Owned::from_box(case);
        self.cases.push(CaseBox { lock: chan.map(Inner::raw_lock), case });
        SendCaseHandle { index, select: self.id, _value: PhantomData }
    }

    /// Adds a `default` case: the select never waits.
    pub fn set_default(&mut self) {
        self.default = true;
    }

    /// Runs the select.
    pub fn wait(self) -> SelectFuture<'a> {
        let locks = lock_order(&self.cases);
        SelectFuture { select: self, locks, parked: None, done: false }
    }
}

/// Future of [`Select::wait`].
pub struct SelectFuture<'a> {
    select: Select<'a>,
    /// One case per distinct channel, in the order of their locks' addresses (`lock_order`).
    locks: Indices,
    /// The waiter, while the cases wait in their channels.
    parked: Option<Owned<Parked>>,
    done: bool,
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

/// A case as a select holds it: its channel's lock (`None`: a nil channel), and the case in a
/// block of its own, which the channels' entries point into.
struct CaseBox<'a> {
    lock: Option<&'a RawLock>,
    case: Owned<dyn Case + 'a>,
}

/// Case indices, inline for the usual few cases.
enum Indices {
    Small { len: u8, idx: [u8; SMALL] },
    Large(Vec<usize>),
}

/// Selects with at most this many cases keep their lock order and random order on the stack.
const SMALL: usize = 8;

impl Indices {
    fn iter(&self) -> impl DoubleEndedIterator<Item = usize> + '_ {
        let (small, large): (&[u8], &[usize]) = match self {
            Indices::Small { len, idx } => (&idx[..*len as usize], &[]),
            Indices::Large(v) => (&[], v),
        };
        small.iter().map(|&i| usize::from(i)).chain(large.iter().copied())
    }
}

/// For each distinct channel of `cases`, one case on it, in the order of the channels' lock
/// addresses: the order in which a select takes the locks.
fn lock_order(cases: &[CaseBox<'_>]) -> Indices {
    let addr = |i: usize| cases[i].lock.map_or(0, |l| l as *const RawLock as usize);
    if cases.len() > SMALL {
        let mut locks: Vec<usize> = (0..cases.len()).filter(|&i| cases[i].lock.is_some()).collect();
        locks.sort_by_key(|&i| addr(i));
        locks.dedup_by_key(|i| addr(*i));
        return Indices::Large(locks);
    }
    let (mut idx, mut len) = ([0u8; SMALL], 0);
    for i in (0..cases.len()).filter(|&i| cases[i].lock.is_some()) {
        let a = addr(i);
        let at = idx[..len].partition_point(|&j| addr(usize::from(j)) < a);
        if at < len && addr(usize::from(idx[at])) == a {
            continue;
        }
        idx.copy_within(at..len, at + 1);
        idx[at] = i as u8;
        len += 1;
    }
    Indices::Small { len: len as u8, idx }
}

impl<'a> SelectFuture<'a> {
    fn with_all_locked<R>(&self, f: impl FnOnce(&[CaseBox<'a>]) -> R) -> R {
        let cases = &self.select.cases;
        let lock = |i: usize| cases[i].lock.expect("`locks` lists cases with a channel");
        self.locks.iter().for_each(|i| lock(i).lock());
        let r = f(cases);
        // SAFETY: each distinct lock was taken just above, once.
        self.locks.iter().rev().for_each(|i| unsafe { lock(i).unlock() });
        r
    }

    /// Locked: removes `parked`'s entries from every channel (one case per channel suffices).
    fn withdraw_all(&self, cases: &[CaseBox<'a>], parked: &Parked) {
        self.locks.iter().for_each(|i| cases[i].case.withdraw(parked));
    }

    fn finish(&mut self, index: Option<usize>, closed: bool) -> Poll<SelectOutcome<'a>> {
        self.done = true;
        let cases = std::mem::take(&mut self.select.cases);
        Poll::Ready(SelectOutcome { index, closed, cases, id: self.select.id })
    }
}

impl<'a> Future for SelectFuture<'a> {
    type Output = SelectOutcome<'a>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<SelectOutcome<'a>> {
        assert!(!self.done, "SelectFuture polled after completion");
        if let Some(parked) = &self.parked {
            // The winning case's completer held one of these locks: once they are all held,
            // it is done with the waiter (`waiter.rs`).
            let outcome = self.with_all_locked(|cases| {
                let outcome = parked.outcome();
                match outcome {
                    Some(_) => self.withdraw_all(cases, parked),
                    // SAFETY: every channel of the select is locked and it is still waiting.
                    None => unsafe { parked.set_waker(cx.waker()) },
                }
                outcome
            });
            let Some((index, closed)) = outcome else {
                set_wait_reason(WaitReason::Select);
                return Poll::Pending;
            };
            self.parked = None;
            return self.finish(Some(index), closed);
        }

        std::task::ready!(coop::poll_proceed(cx));
        // A uniformly random order of the cases; on the stack for the usual few.
        let n = self.select.cases.len();
        let (mut small, mut large) = ([0; SMALL], Vec::new());
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
                if let Some((closed, woken)) = cases[i].case.try_now() {
                    // Woken under the channels' locks, as `chan::wake` explains.
                    super::wake(woken);
                    return (Some((Some(i), closed)), None);
                }
            }
            if default {
                return (Some((None, false)), None);
            }
            let parked = Owned::new(Parked::new(waker, true));
            // SAFETY: the waiter and the cases stay in this future until its entries are
            // completed or withdrawn (when it completes, or in its `Drop`).
            order.iter().for_each(|&i| unsafe { cases[i].case.enqueue(&parked, i) });
            (None, Some(parked))
        });
        if let Some((index, closed)) = taken {
            return self.finish(index, closed);
        }
        set_wait_reason(if self.select.cases.iter().all(|c| c.lock.is_none()) {
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
            let won = parked.outcome();
            self.withdraw_all(cases, &parked);
            if let Some((i, false)) = won {
                super::wake(cases[i].case.give_back());
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
        let mut __select = $crate::chan::Select::with_capacity(0 $(+ { let _ = stringify!($case); 1 })*);
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
