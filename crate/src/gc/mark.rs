//! Marking: per-M mark stacks that grow on the heap instead of overflowing, and a shared pool
//! of work batches through which markers share work (Go's `gcDrain` with work buffers).
//!
//! # While the world runs
//! Between the collection's two pauses, Ms mark at their safepoints (`drain_some`): they take
//! batches from the pool, scan a bounded number of objects and give what is left back. They
//! share half their stack whenever they see the pool empty, and one that finds no work waits
//! while another still scans (`busy`), for its share: a goroutine's assist is paid, so that
//! the heap does not outgrow marking. It waits at most `SHARE_WAIT_NS`: a scanning marker
//! shares within `SHARE_CHECK` objects (a microsecond or two) unless the OS has descheduled
//! it, and then its work waits for it whatever the others do; an assist that spun meanwhile
//! only kept its own goroutine (and, on a machine short of cores, the scanner itself) from
//! running. Measured in Chromium on binary-trees, unbounded waits took about a tenth of the
//! Ms' time, single waits up to 20 ms. A drain stops early, giving its stack back to the pool,
//! when a pause is requested, so that its M reaches the pause promptly. Finding no work while
//! nobody scans only suggests that marking may be over, which the termination pause (below)
//! settles. `drainers` is SeqCst: an idle M parks only while another M polls or drains
//! (`Heap::idle`, the scheduler hook). The write barrier
//! (`GcCell`) shades into a per-P buffer, handed to the pool at the P's next safepoint or in
//! the termination pause.
//!
//! # In the stopped world
//! The termination pause's one collecting M (`sched/world.rs`) drains the barrier buffers and
//! whatever is left in the pool (`drain`); the object graph is frozen, so when its stack and
//! the pool are empty, marking is done.
//!
//! Mark bits are set with a Relaxed `fetch_or` (span.rs); the collector's barriers order the
//! marks before the sweeps that read them.

use super::heap::Heap;
use super::object::Header;
use super::span::span_of;
use crate::platform::lock::Lock;
use crate::platform::now_ns;
use std::ptr::NonNull;
use std::sync::atomic::Ordering::{Relaxed, SeqCst};
use std::sync::atomic::{AtomicU32, AtomicUsize};

/// How often (in scanned objects) a concurrent marker checks for a requested pause and for
/// an empty pool.
const SHARE_CHECK: u32 = 64;

/// How long a marker that finds no work waits for a scanning marker's share before it gives
/// up (module header).
const SHARE_WAIT_NS: u64 = 50_000;

/// A batch of objects to scan, moved between markers.
struct Batch(Vec<NonNull<Header>>);

// SAFETY: the headers belong to the heap all Ms share, whose spans are not freed while
// marking is on.
unsafe impl Send for Batch {}

#[derive(Default)]
pub(crate) struct MarkPool {
    batches_locked: Lock<Vec<Batch>>,
    /// Mirrors the locked list's length, for lock-free peeking.
    batches: AtomicUsize,
    /// Ms in `drain_some` (while the world runs).
    drainers: AtomicU32,
    /// Of which, those scanning a non-empty stack.
    busy: AtomicU32,
}

impl MarkPool {
    /// Whether batches wait in the pool (a racy peek).
    pub(crate) fn has_batches(&self) -> bool {
        self.batches.load(Relaxed) > 0
    }

    /// Whether an M drains while the world runs (a racy peek).
    pub(crate) fn draining(&self) -> bool {
        self.drainers.load(SeqCst) > 0
    }

    /// Readies the pool for the next collection (every marker has left it).
    pub(crate) fn reset(&self) {
        self.batches_locked.lock().clear();
        self.batches.store(0, Relaxed);
    }

    fn push(&self, batch: Vec<NonNull<Header>>) {
        let mut batches = self.batches_locked.lock();
        batches.push(Batch(batch));
        self.batches.store(batches.len(), Relaxed);
    }

    fn pop(&self) -> Option<Vec<NonNull<Header>>> {
        let mut batches = self.batches_locked.lock();
        let batch = batches.pop();
        self.batches.store(batches.len(), Relaxed);
        batch.map(|Batch(b)| b)
    }
}

/// One M's marking state; the argument of [`Trace::trace`](super::Trace::trace).
pub struct Tracer<'a> {
    pool: &'a MarkPool,
    stack: Vec<NonNull<Header>>,
    pub(crate) marked_bytes: u64,
    /// Objects scanned (the unit of mark work the assists pay, `collect.rs`).
    pub(crate) scanned: u64,
}

impl<'a> Tracer<'a> {
    pub(crate) fn new(heap: &'a Heap) -> Self {
        Self::with_stack(heap, Vec::with_capacity(1024))
    }

    /// A tracer that pushes onto `stack` (a P's barrier buffer; `into_stack` gives it back).
    pub(crate) fn with_stack(heap: &'a Heap, stack: Vec<NonNull<Header>>) -> Self {
        Tracer { pool: &heap.mark, stack, marked_bytes: 0, scanned: 0 }
    }

    pub(crate) fn into_stack(self) -> Vec<NonNull<Header>> {
        self.stack
    }

    /// Hands the whole stack to the pool (the world runs on, or another M drains it).
    pub(crate) fn flush(&mut self) {
        if !self.stack.is_empty() {
            self.pool.push(std::mem::take(&mut self.stack));
        }
    }

    /// Takes in a batch of objects to scan (a P's barrier buffer).
    pub(crate) fn extend(&mut self, objects: Vec<NonNull<Header>>) {
        self.stack.extend(objects);
    }

    /// While the world runs: scans up to `budget` objects, taking batches from the pool, and
    /// gives what is left back to the pool; stops early, its stack given back too, once
    /// `stop()` (checked every `SHARE_CHECK` objects and while it waits for work) says that a
    /// pause is requested, or once it waited `SHARE_WAIT_NS` for another marker's share. True
    /// if it found no more work, the pool is empty and no other M is draining (then marking is
    /// probably over; a racy hint: the termination pause drains whatever is left).
    pub(crate) fn drain_some(&mut self, budget: usize, stop: impl Fn() -> bool) -> bool {
        self.pool.drainers.fetch_add(1, SeqCst);
        let out_of_work = self.drain_budget(budget, stop);
        let last = self.pool.drainers.fetch_sub(1, SeqCst) == 1;
        out_of_work && last && !self.pool.has_batches()
    }

    fn drain_budget(&mut self, mut budget: usize, stop: impl Fn() -> bool) -> bool {
        let pool = self.pool;
        // When this marker started waiting for a share, if it is waiting.
        let mut waiting_since = None;
        loop {
            if !self.stack.is_empty() {
                pool.busy.fetch_add(1, Relaxed);
                let mut stopped = false;
                while budget > 0 {
                    let Some(header) = self.stack.pop() else { break };
                    self.scan(header);
                    budget -= 1;
                    if budget.is_multiple_of(SHARE_CHECK as usize) {
                        stopped = stop();
                        if stopped {
                            break;
                        }
                        // Keep the pool stocked, so that Ms assisting meanwhile find work.
                        if self.stack.len() >= 2 && !pool.has_batches() {
                            self.share();
                        }
                    }
                }
                let out_of_budget = budget == 0 || stopped;
                if out_of_budget {
                    self.flush();
                }
                pool.busy.fetch_sub(1, Relaxed);
                if out_of_budget {
                    return false;
                }
            }
            if !pool.has_batches() {
                if pool.busy.load(Relaxed) == 0 {
                    return true;
                }
                if stop() {
                    return false;
                }
                // Another marker holds work, and shares it as soon as it sees the pool empty:
                // an assist waits for its share rather than let its goroutine allocate on, but
                // not for a marker that is not running (module header).
                let now = now_ns();
                if now - *waiting_since.get_or_insert(now) > SHARE_WAIT_NS {
                    return false;
                }
                std::hint::spin_loop();
                std::thread::yield_now();
                continue;
            }
            if let Some(b) = pool.pop() {
                self.stack = b;
                waiting_since = None;
            }
        }
    }

    #[inline]
    fn scan(&mut self, header: NonNull<Header>) {
        self.scanned += 1;
        // SAFETY: queued objects are live; the header names the vtable of the value at
        // `offset`.
        unsafe {
            let vtable = header.as_ref().vtable;
            (vtable.trace)((header.as_ptr() as *const u8).add(vtable.offset), self);
        }
    }

    /// Marks the object whose header is `header`; queues it for scanning if it is newly marked
    /// and its type may hold `Gc`s.
    #[inline]
    pub(crate) fn mark(&mut self, header: NonNull<Header>, needs_trace: bool) {
        let addr = header.as_ptr() as usize;
        // SAFETY: every Gc and root points at a live object of this heap, and no span is freed
        // between a collection's first pause and its end (nothing is swept meanwhile).
        let span = unsafe { span_of(addr) };
        if span.mark(addr) {
            self.marked_bytes += span.elem_size as u64;
            if needs_trace {
                self.stack.push(header);
            }
        }
    }

    /// Marks a root, whose type is known only from its header.
    pub(crate) fn mark_root(&mut self, header: NonNull<Header>) {
        // SAFETY: a root's object is live; its header was written at allocation.
        let needs_trace = unsafe { header.as_ref() }.vtable.needs_trace;
        self.mark(header, needs_trace);
    }

    /// In the stopped world: scans until the stack and the pool are empty (module header).
    pub(crate) fn drain(&mut self) {
        loop {
            while let Some(header) = self.stack.pop() {
                self.scan(header);
            }
            match self.pool.pop() {
                Some(b) => self.stack = b,
                None => return,
            }
        }
    }

    /// Moves the older half of the stack into the pool.
    fn share(&mut self) {
        let half = self.stack.len() / 2;
        self.pool.push(self.stack.drain(..half).collect());
    }
}
