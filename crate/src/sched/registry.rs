//! The goroutine registry: every live G, per P, for shutdown, goroutine dumps and deadlock
//! detection (Go's `allgs`).
//!
//! # Invariants
//! * Only the M of a P adds to that P's registry, under the P's registry lock; the page's
//!   thread never takes it (goroutines it submits are registered by the M that takes them from
//!   the inbox, `globrunq.rs`).
//! * A G that finishes (on any M) is not removed then, which would make Ms take each other's
//!   registry locks for every goroutine that ends; its P's `finished` count is bumped, and the
//!   owner prunes them later, or any M about to park (under the lock, see [`Slab`]). Readers
//!   skip finished Gs.

use super::g::{self, UNBOUND};
use super::gstatus::GStatus;
use super::p::P;
use super::shared::Shared;
use super::GRef;
use std::sync::atomic::Ordering::Relaxed;

/// The registry of one P. Only the M of that P adds to it; a G that finishes (on any M) is
/// not removed then, which would make Ms take each other's registry locks for every goroutine
/// that ends, but pruned later: by the owner when it needs a slot and finished Gs fill at least
/// half of the slots, and by any M about to park (a P whose M stays parked would otherwise keep
/// the finished Gs that other Ms ran, and their memory, for as long as it sleeps). Each pruning visits at most twice as many slots as it
/// frees (amortized O(1) per goroutine), and the slots stay fewer than about twice the most
/// goroutines ever alive at once. Readers skip finished Gs (`Shared::all_gs`).
#[derive(Default)]
pub(crate) struct Slab {
    pub(super) slots: Vec<Option<GRef>>,
    pub(super) free: Vec<u32>,
}

impl Slab {
    fn insert(&mut self, g: GRef) -> u32 {
        match self.free.pop() {
            Some(s) => {
                self.slots[s as usize] = Some(g);
                s
            }
            None => {
                self.slots.push(Some(g));
                (self.slots.len() - 1) as u32
            }
        }
    }

    /// Frees the slots of finished Gs; returns how many.
    fn prune(&mut self) -> usize {
        let mut n = 0;
        for (i, slot) in self.slots.iter_mut().enumerate() {
            if slot.as_ref().is_some_and(|g| g.state() == GStatus::Dead) {
                *slot = None;
                self.free.push(i as u32);
                n += 1;
            }
        }
        n
    }
}

impl P {
    /// Sweeps `slab` (this P's registry, locked) when finished Gs fill at least half of its
    /// slots: pruning visits every slot, so it must free that many to pay for itself.
    fn prune_if_due(&self, slab: &mut Slab) {
        let finished = self.finished.load(Relaxed);
        if finished > 0 && finished * 2 >= slab.slots.len() as isize {
            let n = slab.prune();
            self.finished.fetch_sub(n as isize, Relaxed);
        }
    }
}

impl Shared {
    pub(super) fn register(&self, m: usize, g: &GRef) {
        let p = &self.procs[m];
        let mut slab = p.registry.lock().unwrap();
        if slab.free.is_empty() {
            p.prune_if_due(&mut slab);
        }
        let slot = slab.insert(g.clone());
        g.registry_key.store((m as u64) << 32 | slot as u64, Relaxed);
    }

    /// Forgets a finished G (its P's registry drops it at the next pruning, see `Slab`).
    pub(crate) fn unregister(&self, g: &g::G) {
        if !g.system {
            self.completed.fetch_add(1, Relaxed);
        }
        if g.home() != UNBOUND {
            super::current::unbind_here(g.id);
        }
        let key = g.registry_key.load(Relaxed);
        if key != u64::MAX {
            self.procs[(key >> 32) as usize].finished.fetch_add(1, Relaxed);
        }
    }

    /// Sweeps each P's registry where finished Gs fill half of it (an M about to park).
    pub(crate) fn prune_registries(&self) {
        for p in self.procs.iter() {
            if p.finished.load(Relaxed) > 0 {
                p.prune_if_due(&mut p.registry.lock().unwrap());
            }
        }
    }

    /// Every registered live G.
    pub(crate) fn all_gs(&self) -> Vec<GRef> {
        let mut all: Vec<GRef> = Vec::new();
        for p in self.procs.iter() {
            let slab = p.registry.lock().unwrap();
            all.extend(slab.slots.iter().flatten().filter(|g| g.state() != GStatus::Dead).cloned());
        }
        all
    }
}
