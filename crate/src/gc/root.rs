//! Roots: the `Root<T>` handles that keep objects alive from outside the heap, and the
//! registry the collector marks from.
//!
//! # Representation
//! A `Root<T>` is an `Arc<RootCell>`; clones share the cell, so cloning and dropping a root
//! are one atomic count each and take no lock (they may happen on any thread, the page's main
//! thread included). Creating a root (only on an M, from a `Gc`) records a `Weak` to its cell in
//! the list of the current P. Marking upgrades each `Weak`: a live cell's object is marked, a
//! dead one is pruned. A cell whose last `Root` is dropped during marking is at worst marked
//! once more (conservative, never unsafe: nobody can reach its object any more). Lists are
//! also pruned when they have doubled since the last pruning, so churn between collections
//! stays bounded.
//!
//! Roots are marked in a collection's first pause (the snapshot); a root created while the
//! collection then marks concurrently needs no marking: its object was reachable at the
//! snapshot or was allocated black (`collect.rs`).
//!
//! Roots are kept in lists per P, so that registering one takes only its P's lock; the pause's
//! one collecting M (`sched/world.rs`) marks every P's lists.
//!
//! # Pinned values
//! `gc::alloc_root` keeps the value it failed to allocate across the collection it waits for.
//! That value may hold `Gc` pointers, which must survive: it is boxed (a stable address) and
//! registered as an extra root whose fields are traced (the value itself is not in the heap).

use super::heap::Heap;
use super::mark::Tracer;
use super::object::Header;
use super::{Gc, Trace};
use crate::platform::lock::Lock;
use crate::sched::Shared;
use std::marker::PhantomData;
use std::ptr::NonNull;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Weak};

/// What a `Root` points at.
pub(crate) struct RootCell {
    header: NonNull<Header>,
    heap_id: u64,
}

// SAFETY: the pointer is only dereferenced on Ms of the heap named by `heap_id` (checked by
// `Root::get`) and by that heap's collector, while the root keeps the object alive.
unsafe impl Send for RootCell {}
// SAFETY: as above; the cell is immutable.
unsafe impl Sync for RootCell {}

#[derive(Default)]
struct RootList {
    cells: Vec<Weak<RootCell>>,
    /// Length after the last pruning.
    kept: usize,
}

struct Extra {
    key: u64,
    value: *const (),
    trace: unsafe fn(*const (), &mut Tracer<'_>),
}

// SAFETY: `value` points at a boxed `T: Trace` owned by a `Pinned`, which unregisters it before
// freeing it; `Trace` types may be traced from any thread.
unsafe impl Send for Extra {}

pub(crate) struct Roots {
    per_p: Box<[Lock<RootList>]>,
    extra: Lock<Vec<Extra>>,
    next_key: AtomicU64,
}

impl Roots {
    pub(crate) fn new(procs: usize) -> Self {
        Roots {
            per_p: (0..procs).map(|_| Lock::default()).collect(),
            extra: Lock::default(),
            next_key: AtomicU64::new(0),
        }
    }

    fn add(&self, p: usize, header: NonNull<Header>, heap_id: u64) -> Arc<RootCell> {
        let cell = Arc::new(RootCell { header, heap_id });
        let mut l = self.per_p[p].lock();
        l.cells.push(Arc::downgrade(&cell));
        if l.cells.len() > 2 * l.kept + 64 {
            l.cells.retain(|w| w.strong_count() > 0);
            l.kept = l.cells.len();
        }
        cell
    }

    /// Marks the roots created on P `p` (the world is stopped: the snapshot's roots).
    pub(crate) fn mark_p(&self, p: usize, tracer: &mut Tracer<'_>) {
        let mut l = self.per_p[p].lock();
        l.cells.retain(|w| match w.upgrade() {
            Some(cell) => {
                tracer.mark_root(cell.header);
                true
            }
            None => false,
        });
        l.kept = l.cells.len();
    }

    /// Traces the pinned values (the world is stopped: the snapshot's roots).
    pub(crate) fn mark_extra(&self, tracer: &mut Tracer<'_>) {
        for e in self.extra.lock().iter() {
            // SAFETY: registered values stay alive and unmoved until unregistered (`Pinned`).
            unsafe { (e.trace)(e.value, tracer) };
        }
    }
}

/// Keeps a heap object alive from anywhere: across `.await`s, in channels, in Rust data outside
/// the heap. `Send + Sync` (a `Trace` type may be shared between Ms); cloning adds a root,
/// dropping removes one. Inside a goroutine of the root's runtime, [`Root::get`] gives the
/// object's `Gc`.
pub struct Root<T: Trace + 'static> {
    cell: Arc<RootCell>,
    _type: PhantomData<fn() -> T>,
}

impl<T: Trace + 'static> Root<T> {
    /// Roots the object `gc` points at.
    ///
    /// # Panics
    /// Outside an M of a runtime (a `Gc` exists only there).
    pub fn new(gc: Gc<T>) -> Self {
        let cell = super::here(|heap, p| heap.roots.add(p, gc.header(), heap.id))
            .expect("gort::gc::Root::new called outside a goroutine");
        Root { cell, _type: PhantomData }
    }

    /// The rooted object, for the rest of this poll.
    ///
    /// # Panics
    /// Outside a goroutine of the runtime whose heap holds the object.
    pub fn get(&self) -> Gc<T> {
        let here = super::here(|heap, m| {
            (heap.id == self.cell.heap_id).then(|| super::assert_holds_p(heap, m, "Root::get"))
        });
        assert!(
            here.flatten().is_some(),
            "gort::gc::Root::get called outside a goroutine of the root's runtime"
        );
        // SAFETY: the root keeps the object alive, and the `Gc` cannot outlive this poll (it is
        // !Send, so it cannot be held across an await; see the rooting rules).
        unsafe { Gc::from_header(self.cell.header) }
    }

    /// The rooted object's address. Valid to read from any thread while this root lives
    /// (objects never move), unlike [`Root::get`]'s `Gc`, which needs a goroutine.
    #[cfg(any(test, target_arch = "wasm32"))]
    pub(crate) fn as_ptr(&self) -> *const T {
        // SAFETY: the value sits `OFFSET` bytes after its header, in the same slot.
        unsafe { (self.cell.header.as_ptr() as *const u8).add(super::object::Layout::<T>::OFFSET).cast() }
    }

    /// Whether two roots point at the same object.
    pub fn ptr_eq(a: &Root<T>, b: &Root<T>) -> bool {
        a.cell.header == b.cell.header
    }
}

impl<T: Trace + 'static> Clone for Root<T> {
    fn clone(&self) -> Self {
        Root { cell: self.cell.clone(), _type: PhantomData }
    }
}

impl<T: Trace + 'static> std::fmt::Debug for Root<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Root({:p})", self.cell.header)
    }
}

// SAFETY: a root is not a traced edge: it is a root of its own (module header). It is
// Send + Sync and holds no Gc.
unsafe impl<T: Trace + 'static> Trace for Root<T> {
    const NEEDS_TRACE: bool = false;
    fn trace(&self, _: &mut Tracer<'_>) {}
}

/// A value outside the heap whose `Gc` fields are roots while it is registered.
pub(crate) struct Pinned<T: Trace> {
    value: Option<Box<T>>,
    /// The heap holding the registration; valid while `_runtime` (whose hooks it is) lives.
    heap: *const Heap,
    _runtime: Arc<Shared>,
    key: u64,
}

// SAFETY: the value's Gc fields stay valid wherever the Pinned goes (they are roots, and the
// heap is shared by every M); apart from them a `Trace` type is Send (trace.rs, rule 2).
unsafe impl<T: Trace> Send for Pinned<T> {}

/// # Safety
/// `value` points at a live `T`.
unsafe fn trace_pinned<T: Trace>(value: *const (), tracer: &mut Tracer<'_>) {
    // SAFETY: the caller's contract.
    unsafe { (*value.cast::<T>()).trace(tracer) }
}

impl<T: Trace> Pinned<T> {
    /// Registers `value` in `heap`, the heap of `runtime` (which keeps it alive).
    pub(crate) fn new(heap: &Heap, runtime: Arc<Shared>, value: T) -> Self {
        let value = Box::new(value);
        let roots = &heap.roots;
        let key = roots.next_key.fetch_add(1, Relaxed);
        let ptr = &*value as *const T as *const ();
        roots.extra.lock().push(Extra { key, value: ptr, trace: trace_pinned::<T> });
        Pinned { value: Some(value), heap, _runtime: runtime, key }
    }

    /// Unregisters and returns the value.
    pub(crate) fn into_inner(mut self) -> T {
        self.unregister();
        *self.value.take().expect("a Pinned holds its value until taken")
    }

    fn unregister(&self) {
        // SAFETY: `_runtime` holds the heap (as its hooks) for as long as this `Pinned` lives.
        let heap = unsafe { &*self.heap };
        heap.roots.extra.lock().retain(|e| e.key != self.key);
    }
}

impl<T: Trace> Drop for Pinned<T> {
    fn drop(&mut self) {
        if self.value.is_some() {
            self.unregister();
        }
    }
}
