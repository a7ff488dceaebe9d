//! A P: the scheduling resources one M works with (Go's `p`): the local run queue, the LIFO
//! slot (Go's `runnext`), the timer heap, the goroutine registry and counters.
//!
//! # Invariants
//! * Only the M holding the P (its own M, or a spare M it was handed to: `syscall.rs`) pushes to its ring, fills its LIFO slot or adds to its registry;
//!   any M may steal from the ring, take the LIFO slot (a swap), fire its timers or mark one of
//!   its goroutines finished.
//! * The LIFO slot owns the reference it holds (`Arc::into_raw`); every swap moves ownership
//!   (AcqRel: the G's state written before it was put is visible to whoever takes it).

use super::g::G;
use super::registry::Slab;
use super::runq::RunQueue;
use super::timer::Timers;
use super::GRef;
use crate::platform::shim::{Arc, AtomicU32, AtomicU64};
use crate::platform::CachePadded;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, SeqCst};
use std::sync::atomic::{AtomicIsize, AtomicPtr};
use std::sync::Mutex;

/// Per-P counters, read by `stats()` without locks. `runs` lags: its M adds its polls in
/// batches (`m::RUNS_BATCH`), and whenever a goroutine finishes on it or it parks.
#[derive(Default)]
pub(crate) struct Counters {
    pub(crate) runs: AtomicU64,
    pub(crate) steals: AtomicU64,
    pub(crate) stolen: AtomicU64,
    pub(crate) parks: AtomicU64,
    pub(crate) wakeups: AtomicU64,
}

/// Aligned to two cache lines (the pair x86 prefetches together): the Ps sit side by side
/// (`Shared::procs`), and each one's hot words are written by its own M on every schedule.
#[repr(align(128))]
pub(crate) struct P {
    pub(crate) runq: RunQueue<G>,
    lifo: AtomicPtr<G>,
    pub(crate) timers: Timers,
    pub(crate) counters: Counters,
    /// Every live G registered on this P, for shutdown and goroutine dumps, and finished ones
    /// not yet swept (`registry.rs`).
    pub(super) registry: Mutex<Slab>,
    /// Gs registered here that finished since the last pruning. Bumped by whichever M finished
    /// one, without the lock; a pruning may find a G before its finisher has bumped this, so it
    /// can be negative for a moment.
    pub(super) finished: CachePadded<AtomicIsize>,
    /// Counts the system calls of the M this P belongs to, twice each: odd while it is in one
    /// (Go's `syscalltick`; `syscall.rs`). Written only by that M (or the one replacing it).
    syscalltick: AtomicU32,
}

impl P {
    pub(crate) fn new() -> Self {
        P {
            runq: RunQueue::new(),
            lifo: AtomicPtr::new(std::ptr::null_mut()),
            timers: Timers::new(),
            counters: Counters::default(),
            registry: Mutex::new(Slab::default()),
            finished: CachePadded(AtomicIsize::new(0)),
            syscalltick: AtomicU32::new(0),
        }
    }

    /// Takes the LIFO slot.
    pub(crate) fn lifo_take(&self) -> Option<GRef> {
        let p = self.lifo.swap(std::ptr::null_mut(), AcqRel);
        // SAFETY: a non-null slot holds a pointer from Arc::into_raw; the swap took ownership.
        (!p.is_null()).then(|| unsafe { Arc::from_raw(p) })
    }

    /// Puts `g` in the LIFO slot and returns the G it displaced.
    pub(super) fn lifo_put(&self, g: GRef) -> Option<GRef> {
        let p = self.lifo.swap(Arc::into_raw(g) as *mut G, AcqRel);
        // SAFETY: as in `lifo_take`.
        (!p.is_null()).then(|| unsafe { Arc::from_raw(p) })
    }

    /// Whether the LIFO slot holds a G (a racy look, for statistics).
    pub(super) fn lifo_is_full(&self) -> bool {
        !self.lifo.load(Relaxed).is_null()
    }

    /// Its own M enters a system call. SeqCst: the monitor's wake-up handshake (`sysmon.rs`).
    pub(super) fn syscall_enter(&self) {
        self.syscalltick.fetch_add(1, SeqCst);
    }

    /// Its own M, or the M that replaces it, is out of any system call.
    pub(super) fn syscall_exit(&self) {
        let t = self.syscalltick.load(Relaxed);
        if t & 1 == 1 {
            self.syscalltick.store(t.wrapping_add(1), Relaxed);
        }
    }

    /// The number of the system call its own M is in, if any.
    pub(super) fn syscall(&self) -> Option<u32> {
        let t = self.syscalltick.load(SeqCst);
        (t & 1 == 1).then_some(t)
    }

    pub(crate) fn has_work(&self) -> bool {
        !self.runq.is_empty() || !self.lifo.load(Acquire).is_null()
    }
}
