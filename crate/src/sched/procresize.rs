//! Changing the number of Ps while the runtime runs (Go's `GOMAXPROCS(n)` and `procresize`).
//!
//! # Ps retire, they are not destroyed
//! Every structure with one entry per P (the Ps, the world's words, the idle set, the
//! collector's caches and roots) is allocated at start for `max_procs` Ps (`Builder::
//! max_procs`, 64 by default), and `gomaxprocs` of them are *active*. Ps `0..started` have an
//! M (its own, `Shared::new`): those at or past `gomaxprocs` are *retired*. A retired P keeps
//! its allocation cache and registry (nothing else may use them, so nothing needs flushing:
//! the collector treats it like any P whose M is parked), and its M keeps running the
//! goroutines bound to it (a JS goroutine cannot migrate to another Worker, as a goroutine
//! locked to its thread cannot in Go) with it, and what is left on that P (the timers those
//! goroutines set, a few goroutines its timers woke), and nothing else: it takes no goroutine
//! from the global queues, steals none, fires no other P's timers, and is never woken for
//! work (`Idle::wake_one`). A goroutine it makes runnable goes to the global inbox
//! (`put_runnable`), so an active P runs it. So at most `gomaxprocs` Ms run unbound
//! goroutines, but for those moments.
//!
//! # Orderings
//! `gomaxprocs`, `started_procs` and the idle set's `active` change only while the world is
//! stopped, and are read Relaxed by Ms: an M reads them while it holds its P, which it took
//! back after the restart (the world's Release store of `IDLE` and the M's Acquire CAS), so it
//! sees the values written before. A ticket's answer is a Release store read Acquire by its
//! waiter (`Ticket::result`), after which it reads the new count.

//! # A resize
//! [`Shared::request_procs`] queues a [`Ticket`] and requests a stop of the world
//! (`world.rs`), waking every M of a P so that one of them arrives; the collector's
//! safepoint hook joins the stop as for a collection, and the M that completes it calls
//! [`Shared::resize_stopped`] before anything else: with every P stopped it applies the queued
//! tickets in order, each answered with the count before it. Shrinking moves each retired P's
//! LIFO slot and ring to the global queue and its timers to an active P (`p % new`);
//! growing wakes the retired Ms of the Ps that come back, and starts the M of each P that
//! never had one (natively a thread, on the web a Worker the page starts:
//! `Spares::start`). A P whose M has not started yet is `IDLE` and empty, as at start-up.
//!
//! # No ticket is left behind
//! Requesters push and request under the `resizes` lock, and the M that stopped the world
//! drains the queue under it, then, once it has restarted the world, looks again under it
//! ([`Shared::resize_again_if_pending`]) and requests a new stop if a ticket came in. A ticket
//! pushed after the drain is seen by that second look, or its requester's request follows the
//! restart (the lock orders them) and starts a stop that cannot complete before the M that
//! restarted arrives in it, after its second look. At shutdown, waiting tickets are answered
//! with [`ProcsError::ShutDown`].

use super::shared::Shared;
use crate::platform::lock::Lock;
use crate::platform::shim::{Arc, AtomicU32};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use std::task::{Context, Poll, Waker};

/// `Ticket::answer` before the resize is applied.
const WAITING: u32 = 0;
/// `Ticket::answer` when the runtime shut down first.
const SHUT_DOWN: u32 = u32::MAX;

/// Why a change of the number of Ps was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProcsError {
    /// The count asked for is not within `1..=max` (`Builder::max_procs`).
    OutOfRange { asked: usize, max: usize },
    /// The runtime shut down before the change was made.
    ShutDown,
}

impl std::fmt::Display for ProcsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProcsError::OutOfRange { asked, max } => {
                write!(f, "the number of Ps must be from 1 to {max}, got {asked}")
            }
            ProcsError::ShutDown => f.write_str("the runtime shut down"),
        }
    }
}

impl std::error::Error for ProcsError {}

/// One request to change the number of Ps, answered once applied.
pub(crate) struct Ticket {
    target: usize,
    /// `WAITING`, `SHUT_DOWN`, or the number of Ps before the change, plus 1. A futex word.
    answer: AtomicU32,
    waker: Lock<Option<Waker>>,
}

impl Ticket {
    fn answer(&self, value: u32) {
        self.answer.store(value, Release);
        crate::platform::futex_wake_all(&self.answer);
        if let Some(w) = self.waker.lock().take() {
            w.wake();
        }
    }

    fn result(&self) -> Option<Result<usize, ProcsError>> {
        match self.answer.load(Acquire) {
            WAITING => None,
            SHUT_DOWN => Some(Err(ProcsError::ShutDown)),
            previous => Some(Ok(previous as usize - 1)),
        }
    }

    /// Blocks this thread until the change is made; the number of Ps before it. Never on the
    /// page's main thread, nor on an M of the runtime (it would wait for itself).
    pub(crate) fn wait(&self) -> Result<usize, ProcsError> {
        loop {
            if let Some(r) = self.result() {
                return r;
            }
            crate::platform::futex_wait(&self.answer, WAITING, None);
        }
    }
}

/// Resolves to the number of Ps before the change ([`crate::set_procs`]).
pub struct SetProcs {
    ticket: Result<Arc<Ticket>, Option<ProcsError>>,
}

impl SetProcs {
    pub(crate) fn new(ticket: Result<Arc<Ticket>, ProcsError>) -> Self {
        SetProcs { ticket: ticket.map_err(Some) }
    }
}

impl Future for SetProcs {
    type Output = Result<usize, ProcsError>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let ticket = match &mut self.ticket {
            Ok(t) => t.clone(),
            Err(e) => return Poll::Ready(Err(e.take().expect("SetProcs polled after it finished"))),
        };
        if let Some(r) = ticket.result() {
            return Poll::Ready(r);
        }
        *ticket.waker.lock() = Some(cx.waker().clone());
        match ticket.result() {
            Some(r) => Poll::Ready(r),
            None => {
                super::set_wait_reason(super::WaitReason::StopTheWorld);
                Poll::Pending
            }
        }
    }
}

impl Shared {
    /// The number of active Ps (Go's `GOMAXPROCS(0)`). Changed only while the world is
    /// stopped, so an M that holds its P sees the current value.
    pub(crate) fn gomaxprocs(&self) -> usize {
        self.gomaxprocs.load(Relaxed)
    }

    /// The most Ps this runtime can have.
    pub(crate) fn max_procs(&self) -> usize {
        self.procs.len()
    }

    /// Whether P `p` is retired (module header). Exact for the M holding `p`.
    #[inline]
    pub(crate) fn is_retired(&self, p: usize) -> bool {
        p >= self.gomaxprocs.load(Relaxed)
    }

    /// Asks for `n` Ps (module header); the ticket is answered once the change is made.
    /// Lock-free but for the `resizes` spin lock: callable from the page's main thread.
    pub(crate) fn request_procs(&self, n: usize) -> Result<Arc<Ticket>, ProcsError> {
        let max = self.max_procs();
        if !(1..=max).contains(&n) {
            return Err(ProcsError::OutOfRange { asked: n, max });
        }
        if self.is_shut_down() {
            return Err(ProcsError::ShutDown);
        }
        let ticket = Arc::new(Ticket { target: n, answer: AtomicU32::new(WAITING), waker: Lock::new(None) });
        {
            let mut pending = self.resizes.lock();
            pending.push(ticket.clone());
            self.world.request();
        }
        // A stop of the world wakes nobody: wake the Ms of the Ps, so that one arrives (the
        // others' Ps are claimed once they park again).
        self.wake_p_ms();
        if self.is_shut_down() {
            self.cancel_resizes();
        }
        Ok(ticket)
    }

    fn wake_p_ms(&self) {
        let started = self.started_procs.load(Acquire);
        self.idle.parkers[..started].iter().for_each(|p| p.unpark());
    }

    /// Applies the queued changes, by the M that completed a stop of the world (every other P
    /// is stopped). Called by the collector's hook before its own work.
    pub(crate) fn resize_stopped(&self) {
        let tickets = std::mem::take(&mut *self.resizes.lock());
        for ticket in tickets {
            let previous = self.gomaxprocs();
            self.procresize(previous, ticket.target);
            ticket.answer(previous as u32 + 1);
        }
    }

    /// After the restart of a stop of the world: requests another if a ticket came in
    /// meanwhile (module header).
    pub(crate) fn resize_again_if_pending(&self) {
        let pending = self.resizes.lock();
        if !pending.is_empty() {
            self.world.request();
        }
    }

    /// Answers every waiting ticket with `ShutDown` (at shutdown; lock-free but for the spin
    /// lock).
    pub(crate) fn cancel_resizes(&self) {
        let tickets = std::mem::take(&mut *self.resizes.lock());
        tickets.iter().for_each(|t| t.answer(SHUT_DOWN));
    }

    /// Go's `procresize`, with the world stopped: from `old` active Ps to `new`.
    fn procresize(&self, old: usize, new: usize) {
        for (k, p) in self.procs.iter().enumerate().take(old).skip(new) {
            let mut moved: Vec<_> = p.lifo_take().into_iter().collect();
            moved.extend(std::iter::from_fn(|| p.runq.pop()));
            self.globrunqputbatch(moved);
            p.timers.move_into(&self.procs[k % new].timers);
        }
        self.gomaxprocs.store(new, Release);
        self.idle.set_active(new);
        let started = self.started_procs.load(Relaxed);
        for k in started..new {
            self.start_p_m(k);
        }
        self.started_procs.store(started.max(new), Release);
        // The retired Ms of the Ps that come back look for work again.
        (old..new.min(started)).for_each(|k| self.idle.parkers[k].unpark());
        if new > old {
            self.idle.wake_one();
        }
    }
}
