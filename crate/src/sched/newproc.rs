//! Starting goroutines (Go's `newproc`): a new G gets an id, a join cell and a place to run.
//!
//! Three kinds: a `Send` future that migrates freely ([`Shared::go`]); a `!Send` future built on
//! the M that first runs it and bound there, as a JS goroutine is ([`Shared::go_unstarted`]);
//! and a system goroutine bound to the current M ([`Shared::go_local`]), which runs a JS
//! goroutine's channel operation and is not counted in statistics or deadlock detection.
//!
//! A new G is registered on the current M's P (the page's thread registers nothing: the M
//! that takes it from the inbox does, `globrunq.rs`), then queued like a woken one
//! (`ready.rs`), except that it always asks for an idle M to be woken, as Go's `newproc` does.
//! It gets its name and origin here (`origin.rs`): a Rust goroutine's are its future's type
//! and its caller's location (`#[track_caller]` from `gort::go` and `Runtime::go` down), a JS
//! goroutine's what the facade says.
//!
//! # Memory
//! A goroutine has no stack of its own: what Go keeps on a goroutine's stack lives in its
//! structures, the G, its boxed task (the future, or the closure that builds it) and its join
//! cell. Their bytes as made, plus what the caller says the task captured (a JS goroutine's
//! target and arguments) and the text of the G's name and origin, count in
//! `Shared::stack_inuse` from `newproc` until the G is freed: Go's `MemStats.StackInuse`, the
//! figure that grows with the number of goroutines. A goroutine started from outside the runtime's own code (the JS facade) is first
//! admitted ([`Shared::admit_goroutine`]): refused, as `platform::memory` explains, when memory
//! could not hold it and its first operations.

use super::current::{current_m_of, current_p_of};
use super::g::{Task, G, UNBOUND};
use super::join::{self, Goroutine, JoinCell, JoinHandle};
use super::origin::{Name, Origin, Site};
use super::ready::Placed;
use super::shared::Shared;
use crate::platform::memory::{self, OutOfMemory};
use crate::platform::shim::Arc;
use std::future::Future;
use std::sync::atomic::Ordering::Relaxed;

/// Bytes admission asks for each goroutine on top of what it captured: its structures and
/// those of the operations it starts first (a JS goroutine's future, a pending channel
/// operation), with room to spare. Only the admission check uses it; `stack_inuse` counts the
/// real sizes.
pub(crate) const GOROUTINE_ADMIT_BYTES: usize = 4 << 10;

/// The bytes a G counts in `stack_inuse`: the G and its join cell in their `Arc`s (two counts
/// each), the boxed task, and `extra` bytes the task owns elsewhere.
fn g_bytes<T>(task: usize, extra: usize) -> usize {
    let arc = 2 * size_of::<usize>();
    arc + size_of::<G>() + arc + size_of::<JoinCell<T>>() + task + extra
}

impl Shared {
    /// Starts a goroutine running `fut`, named after its type, started by the goroutine
    /// polled on this thread (if any) where this was called.
    #[track_caller]
    pub(crate) fn go<F>(self: &Arc<Self>, fut: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let origin = Origin::here(Site::Rust(std::panic::Location::caller()));
        self.go_as(fut, Name::of_future::<F>(), origin)
    }

    /// Starts a goroutine running `fut`, called `name` in dumps, started as `origin` says.
    pub(crate) fn go_as<F>(self: &Arc<Self>, fut: F, name: Name, origin: Origin) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let goid = self.next_goid.fetch_add(1, Relaxed);
        let cell = Arc::new(JoinCell::new());
        let bytes = g_bytes::<F::Output>(size_of::<Goroutine<F>>(), origin.site.byte_length());
        let task = Task::Ready(Box::pin(Goroutine::new(fut, cell.clone(), goid)));
        let g = G::new(goid, self.clone(), task, UNBOUND, cell.clone(), false, bytes);
        self.newproc(g.described(name, origin));
        JoinHandle { cell, goid }
    }

    /// Whether a goroutine whose task captures `extra` bytes besides its structures may start:
    /// refused when memory could not hold it (see the module header). Lock-free: the page may
    /// ask.
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    pub(crate) fn admit_goroutine(&self, extra: usize) -> Result<(), OutOfMemory> {
        memory::admit(GOROUTINE_ADMIT_BYTES.saturating_add(extra))
    }

    /// (Used by the JS facade for goroutines shipped from JavaScript.)
    /// Starts a goroutine whose `!Send` future is built by `start` on the M that first runs it,
    /// and which stays bound to that M. `extra`: bytes `start` owns besides itself (counted in
    /// `stack_inuse`, as are `name`, what goroutine dumps call it, and `origin`'s text).
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    pub(crate) fn go_unstarted<T, S, F>(
        self: &Arc<Self>,
        start: S,
        extra: usize,
        name: Name,
        origin: Origin,
    ) -> JoinHandle<T>
    where
        T: Send + 'static,
        S: FnOnce() -> F + Send + 'static,
        F: Future<Output = T> + 'static,
    {
        let goid = self.next_goid.fetch_add(1, Relaxed);
        let cell = Arc::new(JoinCell::new());
        let unstarted = join::Unstarted::new(cell.clone(), goid);
        let starter = move || Box::pin(unstarted.start(start())) as super::g::LocalBoxFuture;
        let named = name.text().map_or(0, str::len) + origin.site.byte_length();
        let bytes = g_bytes::<T>(size_of_val(&starter), extra + named);
        let task = Task::Unstarted(Box::new(starter));
        let g = G::new(goid, self.clone(), task, UNBOUND, cell.clone(), false, bytes);
        self.newproc(g.described(name, origin));
        JoinHandle { cell, goid }
    }

    /// Starts a system goroutine (a helper of the runtime's own, see `G::system`) bound to the
    /// current M (which must be one), running a `!Send` future.
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    pub(crate) fn go_local<F>(self: &Arc<Self>, fut: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: Send + 'static,
    {
        let m = current_m_of(self).expect("go_local outside an M of this runtime");
        let goid = self.next_goid.fetch_add(1, Relaxed);
        let cell = Arc::new(JoinCell::new());
        let bytes = g_bytes::<F::Output>(size_of::<Goroutine<F>>(), 0);
        let task = Task::Bound(Box::pin(Goroutine::new(fut, cell.clone(), goid)));
        self.newproc(G::new(goid, self.clone(), task, m as u32, cell.clone(), true, bytes));
        JoinHandle { cell, goid }
    }

    /// Registers and queues a new G, and wakes an idle M for it (Go's `newproc`).
    fn newproc(self: &Arc<Self>, g: G) {
        let g = Arc::new(g);
        self.stack_inuse.fetch_add(g.bytes, Relaxed);
        if !g.system {
            self.spawned.fetch_add(1, Relaxed);
        }
        let p = current_p_of(self);
        // Otherwise registered by the M that takes it from the inbox (`drain_inbox`): the page's
        // main thread must not take the registry lock. A G bound to an M in a system call
        // (which holds no P) goes into no inbox that registers: it is registered on its M's
        // own P (Ms that host bound Gs are never spares), under the registry's lock.
        let home = g.home();
        if let Some(r) = p.or((home != UNBOUND).then_some(home as usize)) {
            self.register(r, &g);
        }
        if p.is_none() && g.is_unstarted() {
            // From outside any P: started by an M that hosts JS (`Shared::unstarted`).
            self.unstarted_push(g);
            return;
        }
        match self.put_runnable(p, g) {
            Placed::Bound => {}
            Placed::Lifo { .. } | Placed::Global => {
                self.idle.wake_one();
            }
        }
    }
}
