//! Per-P timer heaps and the `sleep` future (Go's per-P timers, `checkTimers`).
//!
//! A `Sleep` registers itself, on its first poll, in the heap of the P its goroutine runs on.
//! Whichever M holds that P runs the expired timers at its next schedule; idle Ms also run
//! other Ps' expired timers while stealing, busy Ms run those overdue by more than a
//! millisecond at each schedule (their own M is stuck in a long poll or descheduled), and a
//! parked M sleeps until the earliest deadline of any P, so a timer fires on time even when its
//! own P is busy with a long poll. An M that parked before the timer existed sleeps until an
//! older deadline (or forever), so a timer that becomes its heap's earliest wakes an idle M
//! (`Idle::wake_one`, as Go's `wakeNetPoller` does), which parks again until the new earliest
//! deadline. Two Ms firing one heap take its lock in turn; each pops the timers due in
//! deadline order, as many as its M has room for (`run_expired`'s `max`).
//!
//! # The clock
//! Every reading the runtime takes goes through `now`, which keeps the latest one in a
//! thread-local: in the browser a reading is a call into JS (`performance.now()`), a good part
//! of a short goroutine's poll. The scheduler's timer check reuses a reading that the poll
//! which just ended took (`recent_or_now`), and a `Sleep` takes its first poll's "already
//! due?" answer from the last reading. Either reading is older than the time now, so a timer
//! may fire one schedule later (after one more poll), never earlier; `sleep` itself reads the
//! clock at the call (it counts from there, as Go's does).
//!
//! Each heap publishes its earliest deadline in `next` (u64::MAX when empty) so that Ms can
//! check "anything due?" without taking the lock. `next` is written under the lock and read
//! Relaxed: a stale read only delays a timer until the next check, never loses it, because the
//! M that registers a timer checks its own heap at its next schedule. Against parking Ms the
//! SeqCst fences of the park/wake protocol (`idle.rs`) order it as they order new work: either
//! `wake_one` sees the parking M idle (and wakes it) or spinning (a spinner looks again before
//! it parks), or that M's last look before parking sees `next`.
//!
//! A timer entry fires at most once: `fire` and `cancel` race on one atomic state word. A
//! dropped `Sleep` cancels its entry, which stays in the heap until its deadline (lazy
//! deletion, as Go does) and is then discarded.

use crate::platform::shim::{Arc, AtomicU32, AtomicU64};
use std::cell::Cell;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed};
use std::sync::Mutex;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

const PENDING: u32 = 0;
const FIRED: u32 = 1;
const CANCELLED: u32 = 2;

pub(crate) struct TimerEntry {
    state: AtomicU32,
    waker: Mutex<Option<Waker>>,
}

impl TimerEntry {
    /// Withdraws the entry if it has not fired: whether this call stopped it.
    pub(crate) fn cancel(&self) -> bool {
        let stopped = self.state.compare_exchange(PENDING, CANCELLED, AcqRel, Acquire).is_ok();
        if stopped {
            self.waker.lock().unwrap().take();
        }
        stopped
    }

    fn fire(&self) -> Option<Waker> {
        if self.state.compare_exchange(PENDING, FIRED, AcqRel, Acquire).is_ok() {
            self.waker.lock().unwrap().take()
        } else {
            None
        }
    }
}

struct Queued {
    when: u64,
    seq: u64,
    entry: Arc<TimerEntry>,
}

impl PartialEq for Queued {
    fn eq(&self, o: &Self) -> bool {
        (self.when, self.seq) == (o.when, o.seq)
    }
}
impl Eq for Queued {}
impl PartialOrd for Queued {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Queued {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (self.when, self.seq).cmp(&(o.when, o.seq))
    }
}

#[derive(Default)]
struct Heap {
    queue: BinaryHeap<Reverse<Queued>>,
    seq: u64,
}

pub(crate) struct Timers {
    heap: Mutex<Heap>,
    next: AtomicU64,
}

impl Timers {
    pub(crate) fn new() -> Self {
        Timers { heap: Mutex::new(Heap::default()), next: AtomicU64::new(u64::MAX) }
    }

    /// The earliest deadline in ns, or `u64::MAX`.
    pub(crate) fn next_deadline(&self) -> u64 {
        self.next.load(Relaxed)
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.heap.lock().unwrap().queue.len()
    }

    /// Adds a timer; also returns whether it is now the heap's earliest.
    fn add(&self, when: u64, waker: Waker) -> (Arc<TimerEntry>, bool) {
        let entry = Arc::new(TimerEntry { state: AtomicU32::new(PENDING), waker: Mutex::new(Some(waker)) });
        let mut heap = self.heap.lock().unwrap();
        heap.seq += 1;
        let seq = heap.seq;
        heap.queue.push(Reverse(Queued { when, seq, entry: entry.clone() }));
        let earliest = when < self.next.load(Relaxed);
        if earliest {
            self.next.store(when, Relaxed);
        }
        (entry, earliest)
    }

    /// Moves every entry into `to` (a P retires, `procresize.rs`; with the world stopped).
    pub(crate) fn move_into(&self, to: &Timers) {
        let moved = std::mem::take(&mut *self.heap.lock().unwrap());
        self.next.store(u64::MAX, Relaxed);
        let mut heap = to.heap.lock().unwrap();
        for Reverse(q) in moved.queue {
            heap.seq += 1;
            let seq = heap.seq;
            heap.queue.push(Reverse(Queued { when: q.when, seq, entry: q.entry }));
        }
        to.next.store(heap.queue.peek().map_or(u64::MAX, |q| q.0.when), Relaxed);
    }

    /// Drops every entry (shutdown).
    pub(crate) fn clear(&self) {
        std::mem::take(&mut *self.heap.lock().unwrap());
        self.next.store(u64::MAX, Relaxed);
    }

    /// `clear`, unless the heap is locked (by a thread that died holding it: `died.rs`).
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    pub(crate) fn try_clear(&self) {
        if let Ok(mut heap) = self.heap.try_lock() {
            std::mem::take(&mut *heap);
            self.next.store(u64::MAX, Relaxed);
        }
    }

    /// Fires the timers due at `now`, in deadline order, at most `max` of them (the others
    /// stay due in the heap); returns how many woke a goroutine.
    pub(crate) fn run_expired(&self, now: u64, max: usize) -> usize {
        if self.next_deadline() > now {
            return 0;
        }
        let mut due = Vec::new();
        {
            let mut heap = self.heap.lock().unwrap();
            while due.len() < max && heap.queue.peek().is_some_and(|q| q.0.when <= now) {
                due.push(heap.queue.pop().unwrap().0.entry);
            }
            self.next.store(heap.queue.peek().map_or(u64::MAX, |q| q.0.when), Relaxed);
        }
        // Wake outside the lock: a wake-up may schedule onto this very P.
        due.iter().filter_map(|e| e.fire()).map(Waker::wake).count()
    }
}

thread_local! {
    /// This thread's latest reading of the runtime's clock (`now`): a lower bound of the time
    /// now, since the clock is monotonic on each thread.
    static LAST_READING: Cell<u64> = const { Cell::new(0) };
    /// Whether `LAST_READING` was taken since the scheduler last called `forget_reading`.
    static RECENT: Cell<bool> = const { Cell::new(false) };
}

/// Reads the runtime's clock (every reading the runtime takes goes through here) and keeps the
/// reading for the scheduler's next timer check (`recent_or_now`).
pub(crate) fn now() -> u64 {
    let now = crate::platform::now_ns();
    LAST_READING.with(|r| r.set(now));
    RECENT.with(|r| r.set(true));
    now
}

/// The scheduler calls this before each poll and whenever this thread may have been away
/// (parked, or back from its event loop): a reading taken before is no longer recent.
pub(crate) fn forget_reading() {
    RECENT.with(|r| r.set(false));
}

/// A reading taken since the last `forget_reading`, i.e. during the poll that just ended,
/// or else a new one. In the browser a reading costs a call into JS (`performance.now()`),
/// a good part of a short goroutine's poll; a goroutine that sleeps or times itself has
/// read the clock already. An older reading only makes a timer fire later, never earlier, and
/// at most one schedule later: the reading serves once, so the next check uses one taken
/// after this one.
pub(crate) fn recent_or_now() -> u64 {
    if RECENT.with(|r| r.replace(false)) {
        LAST_READING.with(Cell::get)
    } else {
        now()
    }
}

/// A reading taken since the last `forget_reading`, or else a new one, which then serves the
/// scheduler's next timer check (`recent_or_now`): for stamps (when a goroutine began to
/// wait) that must not cost a reading of their own when the poll took one.
pub(crate) fn recent() -> u64 {
    if RECENT.with(Cell::get) {
        LAST_READING.with(Cell::get)
    } else {
        now()
    }
}

fn last_reading() -> u64 {
    LAST_READING.with(Cell::get)
}

/// A future that completes once `deadline` has passed (Go's `time.Sleep`).
pub struct Sleep {
    deadline: u64,
    entry: Option<Arc<TimerEntry>>,
}

/// Sleeps for `d` (Go's `time.Sleep`). Must be awaited inside a goroutine. A duration beyond the
/// clock's range (about 584 years) sleeps forever.
pub fn sleep(d: Duration) -> Sleep {
    if d.is_zero() {
        // Due at the call: ready at the first poll, with no timer (Go's `Sleep(0)`).
        return Sleep { deadline: 0, entry: None };
    }
    let ns = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
    Sleep { deadline: now().saturating_add(ns), entry: None }
}

impl Future for Sleep {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        match &self.entry {
            Some(e) if e.state.load(Acquire) == FIRED => Poll::Ready(()),
            Some(_) => Poll::Pending, // woken only by `fire`; spurious polls keep waiting
            None => {
                // This thread's last reading, not a new one: due by it means due now; a timer
                // due since then is registered and fires at the next timer check, still never
                // early.
                if last_reading() >= self.deadline {
                    return Poll::Ready(());
                }
                let entry = add_timer(self.deadline, cx.waker().clone())
                    .expect("gort::time::sleep must be awaited inside a goroutine");
                super::set_wait_reason(super::WaitReason::Sleep);
                self.entry = Some(entry);
                Poll::Pending
            }
        }
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let Some(e) = &self.entry {
            e.cancel();
        }
    }
}

/// Adds a timer that wakes `waker` at `when` (ns on `now`'s clock) to the heap of this
/// thread's P; `None` on a thread that is no M holding a P. A timer that becomes its heap's
/// earliest wakes an idle M, which parks again until the new earliest deadline (module header).
pub(crate) fn add_timer(when: u64, waker: Waker) -> Option<Arc<TimerEntry>> {
    let (entry, earliest) = super::with_current_p(|p| p.timers.add(when, waker))?;
    if earliest {
        if let Some(shared) = super::current_shared() {
            shared.idle.wake_one();
        }
    }
    Some(entry)
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::task::Wake;

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: std::sync::Arc<Self>) {
            self.0.fetch_add(1, Relaxed);
        }
    }

    #[test]
    fn huge_durations_saturate_instead_of_wrapping() {
        let now = crate::platform::now_ns();
        assert_eq!(sleep(Duration::MAX).deadline, u64::MAX);
        assert_eq!(sleep(Duration::from_secs(u64::MAX / 2)).deadline, u64::MAX);
        // 2^64 ns + 2 s would wrap to about 2 s if truncated.
        let d = Duration::from_nanos(u64::MAX) + Duration::from_secs(2);
        assert!(sleep(d).deadline >= now.saturating_add(u64::MAX / 2));
    }

    #[test]
    fn the_scheduler_reuses_a_recent_reading_once() {
        forget_reading();
        let a = now();
        assert_eq!(recent_or_now(), a, "a reading since the last forget_reading serves");
        std::thread::sleep(Duration::from_millis(2));
        let b = recent_or_now();
        assert!(b >= a + 2_000_000, "a reading serves once: then the clock is read");
        forget_reading();
        std::thread::sleep(Duration::from_millis(2));
        assert!(recent_or_now() >= b + 2_000_000, "forget_reading drops the reading");
        assert!(last_reading() >= b + 2_000_000);
    }

    #[test]
    fn a_zero_sleep_is_ready_at_once() {
        let mut s = std::pin::pin!(sleep(Duration::ZERO));
        assert!(s.as_mut().poll(&mut Context::from_waker(Waker::noop())).is_ready());
    }

    #[test]
    fn fires_in_deadline_order_once() {
        let timers = Timers::new();
        let order = std::sync::Arc::new(Mutex::new(Vec::new()));
        struct Push(usize, std::sync::Arc<Mutex<Vec<usize>>>);
        impl Wake for Push {
            fn wake(self: std::sync::Arc<Self>) {
                self.1.lock().unwrap().push(self.0);
            }
        }
        let entries: Vec<_> = [30u64, 10, 20, 10]
            .iter()
            .enumerate()
            .map(|(i, &when)| timers.add(when, Waker::from(std::sync::Arc::new(Push(i, order.clone())))).0)
            .collect();
        assert_eq!(timers.next_deadline(), 10);
        assert_eq!(timers.run_expired(5, usize::MAX), 0);
        assert_eq!(timers.run_expired(20, 2), 2, "at most `max` fire");
        assert_eq!(timers.next_deadline(), 20, "the one left is still due");
        assert_eq!(timers.run_expired(20, usize::MAX), 1);
        assert_eq!(*order.lock().unwrap(), vec![1, 3, 2], "deadline order, ties by registration");
        assert_eq!(timers.next_deadline(), 30);
        assert_eq!(timers.run_expired(100, usize::MAX), 1);
        assert_eq!(timers.run_expired(200, usize::MAX), 0, "a timer fires once");
        assert_eq!(timers.next_deadline(), u64::MAX);
        assert!(entries.iter().all(|e| e.state.load(Relaxed) == FIRED));
    }

    #[test]
    fn cancelled_timer_does_not_wake() {
        let timers = Timers::new();
        let count = std::sync::Arc::new(Count(AtomicUsize::new(0)));
        let (entry, earliest) = timers.add(10, Waker::from(count.clone()));
        assert!(earliest);
        let sleep = Sleep { deadline: 10, entry: Some(entry) };
        drop(sleep);
        assert_eq!(timers.run_expired(10, usize::MAX), 0);
        assert_eq!(count.0.load(Relaxed), 0);
        assert_eq!(timers.len(), 0, "the cancelled entry was discarded at its deadline");
    }
}
