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

use super::current::{bound_count_add, current_m_of, current_p_of};
use super::g::{Task, G, UNBOUND};
use super::join::{self, Goroutine, JoinCell, JoinHandle};
use super::ready::Placed;
use super::shared::Shared;
use crate::platform::shim::Arc;
use std::future::Future;
use std::sync::atomic::Ordering::Relaxed;

impl Shared {
    /// Starts a goroutine running `fut`.
    pub(crate) fn go<F>(self: &Arc<Self>, fut: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let goid = self.next_goid.fetch_add(1, Relaxed);
        let cell = Arc::new(JoinCell::new());
        let task = Task::Ready(Box::pin(Goroutine::new(fut, cell.clone(), goid)));
        self.newproc(G::new(goid, self.clone(), task, UNBOUND, cell.clone(), false));
        JoinHandle { cell, goid }
    }

    /// (Used by the JS facade for goroutines shipped from JavaScript.)
    /// Starts a goroutine whose `!Send` future is built by `start` on the M that first runs it,
    /// and which stays bound to that M.
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    pub(crate) fn go_unstarted<T, S, F>(self: &Arc<Self>, start: S) -> JoinHandle<T>
    where
        T: Send + 'static,
        S: FnOnce() -> F + Send + 'static,
        F: Future<Output = T> + 'static,
    {
        let goid = self.next_goid.fetch_add(1, Relaxed);
        let cell = Arc::new(JoinCell::new());
        let unstarted = join::Unstarted::new(cell.clone(), goid);
        let task = Task::Unstarted(Box::new(move || Box::pin(unstarted.start(start()))));
        self.newproc(G::new(goid, self.clone(), task, UNBOUND, cell.clone(), false));
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
        let task = Task::Bound(Box::pin(Goroutine::new(fut, cell.clone(), goid)));
        bound_count_add(1);
        self.newproc(G::new(goid, self.clone(), task, m as u32, cell.clone(), true));
        JoinHandle { cell, goid }
    }

    /// Registers and queues a new G, and wakes an idle M for it (Go's `newproc`).
    fn newproc(self: &Arc<Self>, g: G) {
        let g = Arc::new(g);
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
        match self.put_runnable(p, g) {
            Placed::Bound => {}
            Placed::Lifo { .. } | Placed::Global => {
                self.idle.wake_one();
            }
        }
    }
}
