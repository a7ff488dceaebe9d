//! A channel's state under its lock (Go's `hchan` without the lock): the buffer, the closed
//! flag and the queues of blocked senders and receivers. Every method runs with the channel's
//! lock held and wakes nobody itself: it returns the waiters to wake, which the caller wakes
//! before it releases the lock (see `wake` in `mod.rs`).
//! The invariants are listed in `mod.rs`; the claiming protocol in `waiter.rs`.

use super::error::{CloseError, TrySendError};
use super::waiter::{Entry, Parked, Woken};
use std::collections::VecDeque;

pub(crate) struct State<T> {
    buf: VecDeque<T>,
    closed: bool,
    recvq: VecDeque<Entry<T>>,
    sendq: VecDeque<Entry<T>>,
}

/// What an operation found, before any waiting.
pub(crate) enum Attempt<T> {
    Done(T),
    WouldBlock,
}

impl<T> State<T> {
    pub(crate) fn new(cap: usize) -> Self {
        State {
            buf: VecDeque::with_capacity(cap.min(1024)),
            closed: false,
            recvq: VecDeque::new(),
            sendq: VecDeque::new(),
        }
    }

    /// Values buffered.
    pub(crate) fn len(&self) -> usize {
        self.buf.len()
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed
    }

    /// The buffered values, oldest first (for the JS channels' cycle collector).
    #[cfg(target_arch = "wasm32")]
    pub(crate) fn buffered(&self) -> impl Iterator<Item = &T> {
        self.buf.iter()
    }

    /// Empties the buffer (its channel is unreachable: nobody can send or receive any more).
    #[cfg(target_arch = "wasm32")]
    pub(crate) fn take_buffered(&mut self) -> VecDeque<T> {
        std::mem::take(&mut self.buf)
    }

    /// Whether any entry, live or stale, is queued.
    pub(crate) fn has_waiters(&self) -> bool {
        !self.recvq.is_empty() || !self.sendq.is_empty()
    }

    /// A send that does not wait. Returns the receiver to wake, if it handed the value over.
    pub(crate) fn try_send(&mut self, cap: usize, v: T) -> Result<Woken, TrySendError<T>> {
        if self.closed {
            return Err(TrySendError::Closed(v));
        }
        let mut v = Some(v);
        while let Some(rx) = self.recvq.pop_front() {
            if let Some(((), woken)) = rx.complete(false, |slot| *slot = v.take()) {
                return Ok(woken);
            }
        }
        let v = v.expect("the value is still here when no receiver took it");
        if self.buf.len() < cap {
            self.buf.push_back(v);
            return Ok(None);
        }
        Err(TrySendError::Full(v))
    }

    /// A receive that does not wait: `Done(Some(v))`, `Done(None)` when closed and drained.
    /// Also returns the sender to wake, if one was unblocked.
    pub(crate) fn try_recv(&mut self, cap: usize) -> (Attempt<Option<T>>, Woken) {
        if let Some(v) = self.buf.pop_front() {
            if self.buf.len() >= cap {
                // Still full: `v` was given back beyond `cap` (invariant 3), so no room yet.
                return (Attempt::Done(Some(v)), None);
            }
            // Room in the buffer: the first blocked sender moves its value in.
            while let Some(tx) = self.sendq.pop_front() {
                if let Some((sent, woken)) = tx.complete(false, Option::take) {
                    self.buf.push_back(sent.expect("a blocked sender's slot holds its value"));
                    return (Attempt::Done(Some(v)), woken);
                }
            }
            return (Attempt::Done(Some(v)), None);
        }
        while let Some(tx) = self.sendq.pop_front() {
            if let Some((sent, woken)) = tx.complete(false, Option::take) {
                return (Attempt::Done(sent), woken);
            }
        }
        if self.closed {
            return (Attempt::Done(None), None);
        }
        (Attempt::WouldBlock, None)
    }

    /// Closes; returns the wakers of every waiter it completed.
    pub(crate) fn close(&mut self) -> Result<Vec<Woken>, CloseError> {
        if self.closed {
            return Err(CloseError);
        }
        self.closed = true;
        let waiters = self.recvq.drain(..).chain(self.sendq.drain(..));
        Ok(waiters.filter_map(|e| e.complete(true, |_| ()).map(|((), woken)| woken)).collect())
    }

    pub(crate) fn enqueue_send(&mut self, entry: Entry<T>) {
        self.sendq.push_back(entry);
    }

    pub(crate) fn enqueue_recv(&mut self, entry: Entry<T>) {
        self.recvq.push_back(entry);
    }

    /// Removes the entries of `parked` (given up, or completed elsewhere).
    pub(crate) fn withdraw(&mut self, parked: &Parked) {
        self.recvq.retain(|e| !e.is_for(parked));
        self.sendq.retain(|e| !e.is_for(parked));
    }

    /// Gives back a value handed to a receive that was then abandoned (invariant 3).
    pub(crate) fn give_back(&mut self, v: T) -> Woken {
        let mut v = Some(v);
        while let Some(rx) = self.recvq.pop_front() {
            if let Some(((), woken)) = rx.complete(false, |slot| *slot = v.take()) {
                return woken;
            }
        }
        self.buf.push_front(v.expect("no receiver took the value"));
        None
    }
}

/// Models of the channel protocol over every interleaving (up to a preemption bound). Each
/// thread plays a future step by step — `SendFuture`, `RecvFuture`, `SelectFuture` and their
/// drops — taking the same locks in the same order, and parks its loom thread where the
/// goroutine would return `Pending`; its `Waker` sets that thread's token. A lost wake-up
/// leaves a thread waiting forever, which loom reports as a deadlock; the slots and wakers are
/// loom cells, so an access that the protocol does not order is reported as a data race.
#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::chan::waiter::{Owned, Slot, Waiter};
    use crate::platform::lock::Lock;
    use crate::platform::shim::{Arc, UnsafeCell};
    use loom::thread;
    use std::task::{Wake, Waker};

    type Chan = Arc<Lock<State<u32>>>;

    /// Explores every interleaving with at most `bound` preemptions (unless LOOM_MAX_PREEMPTIONS
    /// says otherwise). Every lock and waker is an atomic here, so executions are long: the
    /// branch limit is raised accordingly.
    fn check<F: Fn() + Sync + Send + 'static>(bound: usize, f: F) {
        let mut builder = loom::model::Builder::new();
        builder.preemption_bound = builder.preemption_bound.or(Some(bound));
        builder.max_branches = builder.max_branches.max(20_000);
        builder.check(f);
    }

    fn chan(cap: usize) -> Chan {
        Arc::new(Lock::new(State::new(cap)))
    }

    /// A goroutine's park token: its waker sets it, the waiting thread consumes it. (Not
    /// `thread::park`: an unpark that hits a thread blocked on a loom `Mutex`, such as the one
    /// in `RawLock`, confuses loom.)
    #[derive(Default)]
    struct Token {
        set: loom::sync::Mutex<bool>,
        cond: loom::sync::Condvar,
    }

    impl Wake for Token {
        fn wake(self: std::sync::Arc<Self>) {
            *self.set.lock().unwrap() = true;
            self.cond.notify_one();
        }
    }

    impl Token {
        fn park(&self) {
            let mut set = self.set.lock().unwrap();
            while !*set {
                set = self.cond.wait(set).unwrap();
            }
            *set = false;
        }
    }

    loom::thread_local! {
        static TOKEN: std::sync::Arc<Token> = std::sync::Arc::new(Token::default());
    }

    /// The waker of the "goroutine" this thread plays.
    fn waker() -> Waker {
        TOKEN.with(|t| Waker::from(t.clone()))
    }

    fn park() {
        TOKEN.with(|t| t.park());
    }

    /// As in `mod.rs`: called with the channel's lock held.
    fn wake(w: Woken) {
        if let Some(w) = w {
            w.wake();
        }
    }

    /// `chan::enqueue`: a waiter with `value`, queued by `queue`.
    fn enqueue(value: Option<u32>, queue: impl FnOnce(Entry<u32>)) -> Owned<Waiter<u32>> {
        let waiter = Waiter::new(&waker(), value);
        // SAFETY: each model keeps the waiter until its entry is completed or withdrawn.
        queue(unsafe { waiter.entry() });
        waiter
    }

    /// A receive's first poll: the value if one was ready, else the waiter it queued.
    fn recv_or_block(c: &Chan) -> Result<Option<u32>, Owned<Waiter<u32>>> {
        let mut st = c.lock();
        match st.try_recv(0) {
            (Attempt::Done(v), woken) => {
                wake(woken);
                Ok(v)
            }
            (Attempt::WouldBlock, _) => Err(enqueue(None, |e| st.enqueue_recv(e))),
        }
    }

    /// `chan::poll_outcome`, with `waker` as the poll's waker.
    fn poll_outcome(c: &Chan, w: &Waiter<u32>, waker: &Waker) -> Option<bool> {
        if let Some((_, closed)) = w.parked.outcome() {
            return Some(closed);
        }
        let _st = c.lock();
        if let Some((_, closed)) = w.parked.outcome() {
            return Some(closed);
        }
        // SAFETY: locked, still waiting.
        unsafe { w.parked.set_waker(waker) };
        None
    }

    /// A blocked single operation until it completes: whether a close completed it.
    fn wait(c: &Chan, w: &Waiter<u32>) -> bool {
        loop {
            park();
            if let Some(closed) = poll_outcome(c, w, &waker()) {
                return closed;
            }
        }
    }

    /// `SendFuture`: `Err(v)` when the channel closed.
    fn send(c: &Chan, cap: usize, v: u32) -> Result<(), u32> {
        let mut st = c.lock();
        match st.try_send(cap, v) {
            Ok(woken) => {
                wake(woken);
                Ok(())
            }
            Err(TrySendError::Closed(v)) => Err(v),
            Err(TrySendError::Full(v)) => {
                let w = enqueue(Some(v), |e| st.enqueue_send(e));
                drop(st);
                let closed = wait(c, &w);
                // SAFETY: DONE.
                let left = unsafe { w.take() };
                if closed {
                    Err(left.expect("a closed send keeps its value"))
                } else {
                    assert_eq!(left, None, "a completed send still holds its value");
                    Ok(())
                }
            }
        }
    }

    /// `RecvFuture`: `None` once closed and drained.
    fn recv(c: &Chan, cap: usize) -> Option<u32> {
        let mut st = c.lock();
        match st.try_recv(cap) {
            (Attempt::Done(v), woken) => {
                wake(woken);
                v
            }
            (Attempt::WouldBlock, _) => {
                let w = enqueue(None, |e| st.enqueue_recv(e));
                drop(st);
                let closed = wait(c, &w);
                // SAFETY: DONE.
                let v = unsafe { w.take() };
                if closed {
                    assert_eq!(v, None, "a receive woken by close holds no value");
                    None
                } else {
                    Some(v.expect("a completed receive holds its value"))
                }
            }
        }
    }

    fn close(c: &Chan) {
        let mut st = c.lock();
        st.close().expect("closed once").into_iter().for_each(wake);
    }

    /// A sender, a receiver and a closer on one channel: the value arrives exactly once, or the
    /// send reports the close and gets its value back (then the receiver sees the close).
    fn hand_off_with_close(cap: usize) {
        check(3, move || {
            let c = chan(cap);
            let tx = {
                let c = c.clone();
                thread::spawn(move || send(&c, cap, 7))
            };
            let rx = {
                let c = c.clone();
                thread::spawn(move || recv(&c, cap))
            };
            close(&c);
            match (tx.join().unwrap(), rx.join().unwrap()) {
                (Ok(()), Some(7)) | (Err(7), None) => {}
                other => panic!("send and receive disagree: {other:?}"),
            }
            let st = c.lock();
            assert!(!st.has_waiters() && st.len() == 0 && st.is_closed());
        });
    }

    #[test]
    fn loom_unbuffered_hand_off_with_close() {
        hand_off_with_close(0);
    }

    #[test]
    fn loom_buffered_hand_off_with_close() {
        hand_off_with_close(1);
    }

    /// Two senders on a one-slot buffer and a receiver taking two values: a sender blocked on
    /// the full buffer is let in when the receiver makes room; both values arrive, once each.
    #[test]
    fn loom_blocked_sender_enters_the_buffer() {
        check(3, || {
            let c = chan(1);
            let senders: Vec<_> = [1, 2]
                .into_iter()
                .map(|v| {
                    let c = c.clone();
                    thread::spawn(move || send(&c, 1, v))
                })
                .collect();
            let mut got = [recv(&c, 1), recv(&c, 1)];
            got.sort();
            assert_eq!(got, [Some(1), Some(2)]);
            senders.into_iter().for_each(|t| assert_eq!(t.join().unwrap(), Ok(())));
            let st = c.lock();
            assert!(!st.has_waiters() && st.len() == 0);
        });
    }

    /// A receive that gives up (its future dropped) races a sender: if the sender handed it the
    /// value, the value goes back into the channel; otherwise the send found nobody.
    #[test]
    fn loom_abandoned_receive_gives_its_value_back() {
        check(3, || {
            let c = chan(0);
            let rx = {
                let c = c.clone();
                thread::spawn(move || {
                    let Err(w) = recv_or_block(&c) else { panic!("nothing was sent yet") };
                    // `RecvFuture::drop`.
                    let mut st = c.lock();
                    if w.parked.outcome().is_none() {
                        st.withdraw(&w.parked);
                    // SAFETY: DONE.
                    } else if let Some(v) = unsafe { w.take() } {
                        wake(st.give_back(v));
                    }
                })
            };
            let sent = match c.lock().try_send(0, 5) {
                Ok(woken) => {
                    wake(woken);
                    true
                }
                Err(TrySendError::Full(5)) => false,
                Err(e) => panic!("{e:?}"),
            };
            rx.join().unwrap();
            let mut st = c.lock();
            match st.try_recv(0) {
                (Attempt::Done(Some(5)), None) => assert!(sent, "a value appeared from nowhere"),
                (Attempt::WouldBlock, None) => assert!(!sent, "a sent value was lost"),
                _ => panic!("unexpected state"),
            }
            assert!(!st.has_waiters());
        });
    }

    /// A blocked receive polled again with another waker (as when a goroutine is polled without
    /// the channel waking it) while a sender completes it: the completion wakes whichever
    /// waker it finds, and the receive either sees the value at that poll or is woken through
    /// the new waker.
    #[test]
    fn loom_new_waker_races_completion() {
        check(3, || {
            let c = chan(0);
            let rx = {
                let c = c.clone();
                thread::spawn(move || {
                    let w = match recv_or_block(&c) {
                        Ok(v) => return v,
                        Err(w) => w,
                    };
                    let other = std::sync::Arc::new(Token::default());
                    if poll_outcome(&c, &w, &Waker::from(other.clone())).is_none() {
                        other.park();
                        assert_eq!(poll_outcome(&c, &w, &Waker::from(other)), Some(false));
                    }
                    // SAFETY: DONE.
                    unsafe { w.take() }
                })
            };
            assert_eq!(send(&c, 0, 9), Ok(()));
            assert_eq!(rx.join().unwrap(), Some(9));
        });
    }

    /// The slots of a select's two receive cases, in one block that stays in place.
    type Slots = Owned<[Slot<u32>; 2]>;

    fn take_slot(slots: &Slots, i: usize) -> Option<u32> {
        // SAFETY: the callers hold both channels' locks, or no entry is queued any more.
        slots[i].with_mut(|s| unsafe { (*s).take() })
    }

    /// `SelectFuture`'s passes 1 and 2 over receive cases on `a` (case 0) and `b` (case 1),
    /// both locks held in a fixed order. `Ok((case, value))` if a case was ready; otherwise the
    /// waiter and the cases' slots, registered in both channels.
    fn select_register(a: &Chan, b: &Chan) -> Result<(usize, u32), (Owned<Parked>, Slots)> {
        let (mut sa, mut sb) = (a.lock(), b.lock());
        let ready = [&mut sa, &mut sb].into_iter().enumerate().find_map(|(i, st)| match st.try_recv(0) {
            (Attempt::Done(v), woken) => Some((i, v.expect("open channels"), woken)),
            (Attempt::WouldBlock, _) => None,
        });
        if let Some((i, v, woken)) = ready {
            wake(woken);
            return Ok((i, v));
        }
        let parked = Owned::new(Parked::new(&waker(), true));
        let slots = Owned::new([UnsafeCell::new(None), UnsafeCell::new(None)]);
        // SAFETY: the models keep `parked` and `slots` until the entries are withdrawn.
        unsafe {
            sa.enqueue_recv(Entry::new(&parked, 0, &slots[0]));
            sb.enqueue_recv(Entry::new(&parked, 1, &slots[1]));
        }
        Err((parked, slots))
    }

    /// A select waiting on two channels while a sender on each tries to complete it: exactly
    /// one case wins, with its own sender's value; the other sender is not completed, and the
    /// close at the end gives it its value back.
    ///
    /// (Bound 2 keeps it to seconds; LOOM_MAX_PREEMPTIONS=3 passes too, in minutes.)
    #[test]
    fn loom_select_one_case_wins() {
        check(2, || {
            let (a, b) = (chan(0), chan(0));
            let sel = {
                let (a, b) = (a.clone(), b.clone());
                thread::spawn(move || match select_register(&a, &b) {
                    Ok(won) => won,
                    Err((parked, slots)) => loop {
                        park();
                        // Pass 3, under both locks: withdraw the other entries, or wait on.
                        let (mut sa, mut sb) = (a.lock(), b.lock());
                        let Some((case, closed)) = parked.outcome() else {
                            // SAFETY: both channels locked, still waiting.
                            unsafe { parked.set_waker(&waker()) };
                            continue;
                        };
                        assert!(!closed);
                        sa.withdraw(&parked);
                        sb.withdraw(&parked);
                        assert_eq!(take_slot(&slots, 1 - case), None, "the losing case got a value");
                        break (case, take_slot(&slots, case).expect("the winner's value"));
                    },
                })
            };
            let senders: Vec<_> = [(a.clone(), 10), (b.clone(), 20)]
                .into_iter()
                .map(|(c, v)| thread::spawn(move || send(&c, 0, v)))
                .collect();
            let (case, v) = sel.join().unwrap();
            assert_eq!(v, [10, 20][case], "the value came through the wrong case");
            close(&a);
            close(&b);
            let results: Vec<_> = senders.into_iter().map(|t| t.join().unwrap()).collect();
            assert_eq!(results[case], Ok(()));
            assert_eq!(results[1 - case], Err([10, 20][1 - case]), "the loser's value is kept");
            assert!(!a.lock().has_waiters() && !b.lock().has_waiters());
        });
    }

    /// A waiting select is dropped (`SelectFuture::drop`) while senders on both channels try to
    /// complete it: at most one send goes through, and its value goes back to its channel.
    #[test]
    fn loom_select_drop_races_completion() {
        check(3, || {
            let (a, b) = (chan(0), chan(0));
            let sel = {
                let (a, b) = (a.clone(), b.clone());
                thread::spawn(move || {
                    let (parked, slots) = select_register(&a, &b).expect_err("nothing is ready");
                    let (mut sa, mut sb) = (a.lock(), b.lock());
                    let won = parked.outcome();
                    sa.withdraw(&parked);
                    sb.withdraw(&parked);
                    let woken = won.and_then(|(case, closed)| {
                        assert!(!closed);
                        let v = take_slot(&slots, case).expect("the winner's value");
                        [&mut sa, &mut sb][case].give_back(v)
                    });
                    wake(woken);
                })
            };
            let senders: Vec<_> = [(a.clone(), 10), (b.clone(), 20)]
                .into_iter()
                .map(|(c, v)| {
                    thread::spawn(move || match c.lock().try_send(0, v) {
                        Ok(woken) => {
                            wake(woken);
                            true
                        }
                        Err(TrySendError::Full(back)) => {
                            assert_eq!(back, v);
                            false
                        }
                        Err(e) => panic!("{e:?}"),
                    })
                })
                .collect();
            sel.join().unwrap();
            let sent: Vec<bool> = senders.into_iter().map(|t| t.join().unwrap()).collect();
            assert!(!(sent[0] && sent[1]), "both cases of one select completed");
            for (i, c) in [&a, &b].into_iter().enumerate() {
                let mut st = c.lock();
                match st.try_recv(0) {
                    (Attempt::Done(Some(v)), None) => {
                        assert!(sent[i] && v == [10, 20][i], "a value appeared from nowhere")
                    }
                    (Attempt::WouldBlock, None) => assert!(!sent[i], "a sent value was lost"),
                    _ => panic!("unexpected state"),
                }
                assert!(!st.has_waiters(), "a stale entry was left behind");
            }
        });
    }
}
