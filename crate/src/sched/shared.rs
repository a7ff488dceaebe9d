//! The state every M of one runtime shares (Go's `schedt`, plus the Ps and the world).
//!
//! # Invariants
//! * `procs` and the world's per-P words have one entry per P that the runtime may have
//!   (`max_procs`), fixed at start, of which `gomaxprocs` are active (`procresize.rs`); `bound`
//!   and the parkers and `lives` one per M (the Ms of the Ps, then the spares: `sysmon.rs`).
//! * `shutdown` only goes from false to true; `running_ms` counts the Ms that have not exited
//!   and reaches 0 once, when the last one out releases everything (`shutdown.rs`).
//! * Goroutine ids come from `next_goid` and are never reused.

use super::checkdead::HeldOutside;
use super::died::Lives;
use super::g::G;
use super::hooks::Hooks;
use super::idle::Idle;
use super::inbox::Inbox;
use super::p::P;
use super::procresize::Ticket;
use super::sysmon::{Spares, SPARE_MAX};
use super::world::World;
use super::GRef;
use crate::platform::lock::Lock;
use crate::platform::shim::{Arc, AtomicU64, AtomicUsize};
use crate::platform::CachePadded;
use std::collections::VecDeque;
use std::sync::atomic::Ordering::Acquire;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32};
use std::sync::Mutex;

/// The state every M of one runtime shares. Aligned to two cache lines, so that the `Arc`'s
/// counts before it (every G holds a reference: its start and end write them) do not share a
/// line with the fields every schedule reads.
#[repr(align(128))]
pub(crate) struct Shared {
    /// Every P the runtime may have; the first `gomaxprocs` are active (`procresize.rs`).
    pub(crate) procs: Box<[P]>,
    /// The number of active Ps (Go's `gomaxprocs`), changed with the world stopped.
    pub(super) gomaxprocs: AtomicUsize,
    /// Ps `0..started_procs` have an M (started, or asked to start); grows only.
    pub(super) started_procs: AtomicUsize,
    /// Changes of the number of Ps waiting for a stop of the world (`procresize.rs`).
    pub(super) resizes: Lock<Vec<Arc<Ticket>>>,
    pub(crate) idle: Idle,
    /// The global run queue (Go's `sched.runq`); Ms only.
    pub(super) global: Mutex<VecDeque<GRef>>,
    pub(super) global_len: AtomicUsize,
    /// Goroutines submitted, or woken, from outside any M.
    pub(super) inbox: Inbox<G>,
    /// Goroutines that have not started and will be bound to the M that starts them (JS
    /// goroutines): only Ms that host JS take them (never spares), one at a time, first
    /// through this inbox, then this queue (`globrunq.rs`).
    pub(super) unstarted_inbox: Inbox<G>,
    pub(super) unstarted: Mutex<VecDeque<GRef>>,
    pub(super) unstarted_len: AtomicUsize,
    /// Per M: wake-ups of the goroutines bound to it.
    pub(crate) bound: Box<[Inbox<G>]>,
    pub(crate) shutdown: AtomicBool,
    /// Ms started (or being started) that have not yet exited after shutdown; the last one out
    /// drops what is left.
    pub(crate) running_ms: AtomicUsize,
    /// Written by the M that starts a goroutine (each its own line: spawning on one M while
    /// goroutines finish on another must not bounce one line between them).
    pub(super) next_goid: CachePadded<AtomicU64>,
    pub(crate) spawned: CachePadded<AtomicU64>,
    /// Written by the M that finishes a goroutine.
    pub(crate) completed: CachePadded<AtomicU64>,
    /// Bytes of the live Gs' own structures (Go's `StackInuse`, `newproc.rs`): added when a G
    /// is made, taken off when it is freed, wherever that happens.
    pub(crate) stack_inuse: CachePadded<AtomicUsize>,
    /// Runtime objects the page's JS holds, by address, with how many handles it holds: a
    /// goroutine blocked on one of them may still be woken from outside (`check_dead`).
    pub(super) held_outside: Lock<Vec<HeldOutside>>,
    /// Identifies the set of goroutines in the last deadlock report: one report per set.
    pub(super) deadlock_epoch: AtomicU64,
    /// The last deadlock report, for the page to pick up (`take_deadlock_report`).
    pub(super) deadlock_report: AtomicPtr<String>,
    /// Bumped and notified at each deadlock report; the page waits on it.
    pub(crate) events: AtomicU32,
    /// Who holds each P; stopping the world (`world.rs`).
    pub(crate) world: Arc<World>,
    /// The higher layers' reactions (`hooks.rs`).
    pub(crate) hooks: Arc<dyn Hooks>,
    /// The spare Ms and the monitor (`sysmon.rs`).
    pub(crate) spares: Spares,
    /// Per M: what its thread left when it last returned to its event loop, should it die
    /// there (`died.rs`).
    pub(super) lives: Lives,
}

impl Shared {
    /// A runtime of `procs` Ps, up to `max_procs` later, whose higher layers `hooks` builds
    /// (given the world they may stop).
    pub(crate) fn new(
        procs: usize,
        max_procs: usize,
        hooks: impl FnOnce(&Arc<World>) -> Arc<dyn Hooks>,
    ) -> Arc<Self> {
        let max_procs = max_procs.max(procs);
        let world = Arc::new(World::new(max_procs));
        Arc::new(Shared {
            procs: (0..max_procs).map(|_| P::new()).collect(),
            gomaxprocs: AtomicUsize::new(procs),
            started_procs: AtomicUsize::new(procs),
            resizes: Lock::new(Vec::new()),
            idle: Idle::new(procs, max_procs + SPARE_MAX),
            global: Mutex::new(VecDeque::new()),
            global_len: AtomicUsize::new(0),
            inbox: Inbox::new(),
            unstarted_inbox: Inbox::new(),
            unstarted: Mutex::new(VecDeque::new()),
            unstarted_len: AtomicUsize::new(0),
            bound: (0..max_procs + SPARE_MAX).map(|_| Inbox::new()).collect(),
            shutdown: AtomicBool::new(false),
            running_ms: AtomicUsize::new(procs),
            next_goid: CachePadded(AtomicU64::new(1)),
            spawned: CachePadded(AtomicU64::new(0)),
            completed: CachePadded(AtomicU64::new(0)),
            stack_inuse: CachePadded(AtomicUsize::new(0)),
            held_outside: Lock::new(Vec::new()),
            deadlock_epoch: AtomicU64::new(u64::MAX),
            deadlock_report: AtomicPtr::new(std::ptr::null_mut()),
            events: AtomicU32::new(0),
            hooks: hooks(&world),
            world,
            spares: Spares::new(max_procs),
            lives: Lives::new(max_procs + SPARE_MAX),
        })
    }

    pub(crate) fn is_shut_down(&self) -> bool {
        self.shutdown.load(Acquire)
    }
}
