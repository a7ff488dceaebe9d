//! A precise, parallel mark-sweep garbage collector over a heap shared by every M.
//!
//! ```
//! use gort::gc::{self, Gc, GcCell, Root, Trace};
//!
//! #[derive(Trace)]
//! struct Node {
//!     value: u64,
//!     next: GcCell<Option<Gc<Node>>>,
//! }
//!
//! let rt = gort::Runtime::builder().procs(2).start();
//! let freed = rt
//!     .block_on(async {
//!         let list: Root<Node> = {
//!             let a = Gc::new(Node { value: 1, next: GcCell::new(None) });
//!             let b = Gc::new(Node { value: 2, next: GcCell::new(Some(a)) });
//!             a.next.set(Some(b)); // a cycle
//!             Gc::root(b)
//!         };
//!         gc::collect().await; // both nodes survive: `list` roots b, b points to a
//!         assert_eq!(list.get().next.get().unwrap().value, 1);
//!         drop(list);
//!         gc::collect().await; // the cycle is unreachable now
//!         gc::stats().frees
//!     })
//!     .unwrap();
//! assert_eq!(freed, 2);
//! rt.shutdown();
//! ```
//!
//! # Rooting rules
//! The wasm stack cannot be scanned, so roots are explicit (as in gc-arena):
//! * A [`Gc<T>`] is a `Copy` pointer, `!Send` and `!Sync`. It is valid only during the current
//!   poll of the current goroutine, or inside the traced fields of another heap object.
//! * Collections happen only at safepoints, while every M is between two polls (or parked).
//!   So a `Gc` on the stack of a poll is never freed under it, and allocation never collects
//!   inline. A goroutine that allocates for long without waiting holds requested collections
//!   off until its poll ends; awaiting [`checkpoint`] at natural points lets them in.
//! * Goroutine futures must be `Send` (`gort::go` requires it), so a `Gc` held across an
//!   `.await` is a compile error: misuse is loud. To keep an object alive across awaits, in
//!   channels or in Rust data outside the heap, use a [`Root<T>`] (`Send + Sync`; cloning adds a
//!   root, dropping removes one) and call [`Root::get`] inside a later poll.
//! * A `Gc` must not be stashed where it outlives the poll by other means (a thread-local): it
//!   would dangle after the next collection.
//! * Interior mutability inside the heap goes through [`GcCell`] (a lock) or atomics (which
//!   cannot hold a `Gc`). Marking runs while goroutines run: `GcCell`'s write barrier keeps it
//!   correct, so a `Gc` must never be written into the heap past it (a hand-written `Trace`
//!   type with its own interior mutability of `Gc`s would break marking).
//! * Allocation and [`Root::get`] work only in goroutines of the heap's runtime (they panic
//!   elsewhere: a native thread outside the runtime could not be stopped for a collection, and
//!   a parked Worker M running promise reactions may have its P claimed by one).
//!   [`Root`] may be cloned and dropped anywhere.
//! * Heap objects implement [`Trace`], which stands for "`Send + Sync`, apart from the `Gc`s
//!   inside" (see `trace.rs`); `#[derive(Trace)]` checks it. Their `Drop` runs when a sweep
//!   finds them dead, on whichever M sweeps; it must not dereference `Gc`s (the derive forbids
//!   `Drop` impls) nor allocate in the heap (that panics, and the panic is contained).
//! * A `Root` stored inside a heap object is an independent root: a cycle through it is never
//!   collected (as with `Rc`).
//!
//! Holding a `Gc` across an await does not compile:
//! ```compile_fail
//! # let rt = gort::Runtime::builder().procs(1).start();
//! rt.go(async {
//!     let node = gort::gc::Gc::new(1u64);
//!     gort::gosched().await;
//!     *node
//! });
//! ```
//! and neither does a derived `Trace` type with a `Drop` impl:
//! ```compile_fail
//! #[derive(gort::gc::Trace)]
//! struct Node { next: Option<gort::gc::Gc<Node>> }
//! impl Drop for Node { fn drop(&mut self) {} }
//! ```
//!
//! # Parts
//! * `sizeclass.rs`: Go's size classes. `span.rs`: spans, mark bits, sweeping one span.
//! * `heap.rs`: chunks and pages, central lists, lazy sweeping, pacing accounting, the limit.
//! * `cache.rs`: per-P caches; the common allocation takes no lock and no atomic RMW.
//! * `mark.rs`: parallel marking with work sharing, while the world runs and while it is
//!   stopped. `markend.rs`: who ends concurrent marking, and when idle Ms park meanwhile.
//!   `root.rs`: roots.
//! * `collect.rs`: the collection's steps, pacing, statistics, gctrace. Stopping the world,
//!   with the Ps of parked Ms claimed instead of waited for, is the scheduler's
//!   (`sched/world.rs`).
//!
//! # Scheduler integration
//! The scheduler does not know the heap: the runtime hands it the heap as its `Hooks`
//! (`sched/hooks.rs`), and the heap holds one allocation cache per P. Ms call the hooks at a
//! safepoint before each poll and whenever they look for work (`collect::safepoint`), before
//! parking (`idle`: background sweeping), as they start (this M's heap becomes reachable from
//! its thread, `here`) and as they exit (the cache is flushed). Ms give their P up as they park,
//! so that a collection claims it instead of waiting for them. The page's main thread never
//! takes part in a collection and never allocates here.

mod cache;
mod collect;
mod heap;
mod mark;
mod markend;
mod object;
mod root;
mod sizeclass;
mod span;
#[cfg(test)]
mod tests;
mod trace;

pub use collect::Collect;
pub use gort_derive::Trace;
pub use mark::Tracer;
pub use root::Root;
pub use trace::Trace;

pub(crate) use collect::stats_of;
pub(crate) use heap::{Config, Heap};

use crate::platform::lock::{Lock, LockGuard};
use crate::sched::hooks::Hooks;
use crate::sched::Shared;
use object::{Header, Layout};
use root::Pinned;
use std::cell::Cell;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll};

/// A pointer to an object in the garbage-collected heap. See the rooting rules in the module
/// documentation: valid for the current poll, or inside the traced fields of heap objects.
pub struct Gc<T: Trace + 'static> {
    ptr: NonNull<T>,
    /// `!Send + !Sync`: a Gc cannot be held across an await in a goroutine.
    _not_send: PhantomData<*const T>,
}

impl<T: Trace + 'static> Clone for Gc<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: Trace + 'static> Copy for Gc<T> {}

impl<T: Trace + 'static> Deref for Gc<T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: a Gc exists only while its object is reachable and the world runs (rooting
        // rules), and the object was initialized at allocation.
        unsafe { self.ptr.as_ref() }
    }
}

impl<T: Trace + fmt::Debug + 'static> fmt::Debug for Gc<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: Trace + 'static> Gc<T> {
    /// Allocates `value` in the heap of the current goroutine's runtime. Never collects: past
    /// the heap goal it requests a collection, which starts at the next safepoint.
    ///
    /// # Panics
    /// Outside a goroutine, or past the heap limit (use [`alloc`] or [`alloc_root`] to handle
    /// that).
    #[inline]
    pub fn new(value: T) -> Gc<T> {
        alloc(value).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Roots the object (same as [`Root::new`]).
    pub fn root(this: Gc<T>) -> Root<T> {
        Root::new(this)
    }

    /// Whether two pointers point at the same object.
    pub fn ptr_eq(a: Gc<T>, b: Gc<T>) -> bool {
        a.ptr == b.ptr
    }

    pub fn as_ptr(this: Gc<T>) -> *const T {
        this.ptr.as_ptr()
    }

    pub(crate) fn header(self) -> NonNull<Header> {
        // SAFETY: the header sits `OFFSET` bytes before the value, in the same slot.
        unsafe { NonNull::new_unchecked((self.ptr.as_ptr() as *mut u8).sub(Layout::<T>::OFFSET).cast()) }
    }

    /// # Safety
    /// `header` is the header of a live object of type `T`, and the `Gc` obeys the rooting
    /// rules.
    pub(crate) unsafe fn from_header(header: NonNull<Header>) -> Self {
        // SAFETY: the value sits `OFFSET` bytes after its header.
        let ptr =
            unsafe { NonNull::new_unchecked((header.as_ptr() as *mut u8).add(Layout::<T>::OFFSET).cast()) };
        Gc { ptr, _not_send: PhantomData }
    }
}

// SAFETY: marks the object; its own fields are traced when the collector scans it.
unsafe impl<T: Trace + 'static> Trace for Gc<T> {
    const NEEDS_TRACE: bool = true;
    #[inline]
    fn trace(&self, tracer: &mut Tracer<'_>) {
        tracer.mark(self.header(), T::NEEDS_TRACE);
    }
}

/// Interior mutability for heap objects: a small lock (the scheduler's, which only spins on the
/// page's main thread) around the value. Not reentrant: borrowing a cell again while holding
/// its guard deadlocks.
#[derive(Default)]
pub struct GcCell<T> {
    lock: Lock<T>,
}

/// A borrow of a [`GcCell`]; `!Send`, so it cannot be held across an await in a goroutine.
pub struct GcCellGuard<'a, T> {
    guard: LockGuard<'a, T>,
    _not_send: PhantomData<*const ()>,
}

impl<T> GcCell<T> {
    pub fn new(value: T) -> Self {
        GcCell { lock: Lock::new(value) }
    }
}

impl<T: Trace> GcCell<T> {
    /// Borrows the value, to read or to change it. While a collection marks, the `Gc`s the
    /// cell holds are shaded first (the write barrier, see `collect.rs`).
    pub fn borrow(&self) -> GcCellGuard<'_, T> {
        let guard = self.lock.lock();
        barrier(&*guard);
        GcCellGuard { guard, _not_send: PhantomData }
    }

    /// Replaces the value; returns the old one (shaded first while a collection marks).
    pub fn set(&self, value: T) -> T {
        let mut guard = self.lock.lock();
        barrier(&*guard);
        std::mem::replace(&mut *guard, value)
    }

    pub fn get(&self) -> T
    where
        T: Copy,
    {
        *self.lock.lock()
    }
}

/// The write barrier: while a collection marks, shades the `Gc`s in `old`, a value about to
/// be changed or replaced in the heap.
#[inline]
fn barrier<T: Trace>(old: &T) {
    if T::NEEDS_TRACE {
        here(|heap, m| {
            if heap.collector.marking() {
                assert_holds_p(heap, m, "GcCell::borrow");
                heap.caches[m].shade(heap, old);
            }
        });
    }
}

impl<T> Deref for GcCellGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T> DerefMut for GcCellGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.guard
    }
}

impl<T: fmt::Debug> fmt::Debug for GcCell<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("GcCell").field(&*self.lock.lock()).finish()
    }
}

// SAFETY: traces the value under the lock. A marker may wait for a goroutine that holds the
// guard, which releases it before its poll ends (guards are !Send); markers mark only at
// safepoints, between polls, so they hold no guard themselves.
unsafe impl<T: Trace> Trace for GcCell<T> {
    const NEEDS_TRACE: bool = T::NEEDS_TRACE;
    fn trace(&self, tracer: &mut Tracer<'_>) {
        self.lock.lock().trace(tracer)
    }
}

/// An allocation would take the heap past its limit (`Builder::heap_limit`), or the system
/// refused more memory. The runtime stays usable: free some objects (drop roots), collect and
/// try again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeapLimitError {
    /// Bytes of pages the allocation needed.
    pub requested: usize,
    /// The heap limit (`usize::MAX` when none is set and the system ran out of memory).
    pub limit: usize,
    /// Bytes of pages in use when it failed.
    pub in_use: usize,
}

impl fmt::Display for HeapLimitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.limit == usize::MAX {
            write!(
                f,
                "gort::gc: out of memory: the system refused {} more bytes for the GC heap ({} bytes in use, no heap limit set)",
                self.requested, self.in_use
            )
        } else {
            write!(
                f,
                "gort::gc: heap limit exceeded: allocating {} bytes would take the GC heap past its limit of {} bytes ({} bytes in use)",
                self.requested, self.limit, self.in_use
            )
        }
    }
}

impl std::error::Error for HeapLimitError {}

/// Memory statistics of one runtime's heap (Go's `runtime.MemStats`, the GC part).
#[derive(Clone, Debug, Default)]
pub struct GcStats {
    /// Bytes of allocated objects, including unreachable ones not swept yet (size classes).
    pub heap_alloc: u64,
    /// Bytes of memory obtained for the heap (whole chunks).
    pub heap_sys: u64,
    /// Bytes of pages in spans.
    pub heap_inuse: u64,
    /// Allocated objects, including unreachable ones not swept yet.
    pub heap_objects: u64,
    /// Bytes allocated, ever.
    pub total_alloc: u64,
    pub mallocs: u64,
    pub frees: u64,
    /// Completed collections.
    pub num_gc: u32,
    /// Of which forced (`gc::collect`, `gc::alloc_root` at the limit).
    pub num_forced_gc: u32,
    pub pause_total_ns: u64,
    /// The last (up to 256) pauses, oldest first: per collection, the sum of its two
    /// stop-the-world pauses, each from the first M stopping to the world restarting.
    pub pause_ns: Vec<u64>,
    /// When the last collection ended, in ns since the Unix epoch (0: never).
    pub last_gc_unix_ns: u64,
    /// The heap goal: a collection is requested when the live heap estimate reaches it.
    pub next_gc: u64,
    /// Fraction of the Ps' time since the runtime started that the collector used: every P's
    /// during pauses, plus the marking done while the world ran, at safepoints and by idle Ms
    /// (Go's `GCCPUFraction`).
    pub gc_cpu_fraction: f64,
    pub heap_limit: u64,
    pub gc_percent: i32,
}

thread_local! {
    /// The heap of the runtime this thread is an M of, and the M's P: set as the M starts,
    /// cleared as it exits (`Hooks` below). The runtime's shared state holds the heap (as its
    /// hooks) and the M holds the runtime from before its start to after its exit, so the
    /// pointer is valid whenever it is set.
    static HEAP: Cell<(*const Heap, usize)> = const { Cell::new((std::ptr::null(), 0)) };
}

/// Calls `f` with this M's heap and P, if this thread is an M (one plain load, on every
/// allocation's path).
#[inline]
fn here<R>(f: impl FnOnce(&Heap, usize) -> R) -> Option<R> {
    let (heap, m) = HEAP.with(Cell::get);
    // SAFETY: `HEAP` is set only between this M's start and exit, while the runtime whose
    // hooks are the heap is held by the M (see `HEAP`).
    (!heap.is_null()).then(|| f(unsafe { &*heap }, m))
}

fn with_m<R>(what: &str, f: impl FnOnce(&Heap, usize) -> R) -> R {
    here(f).unwrap_or_else(|| panic!("gort::gc::{what} called outside a goroutine"))
}

/// Panics unless M `m` holds its P: a Worker M that parked (its P may be claimed by a
/// collection) still runs promise reactions in its event loop, outside every poll.
#[inline]
fn assert_holds_p(heap: &Heap, m: usize, what: &str) {
    assert!(
        heap.collector.world.is_running(m),
        "gort::gc::{what} called outside a goroutine's poll (on a parked Worker M)"
    );
}

/// Allocates on M `m`; gives the value back if the heap limit is in the way.
fn try_alloc<T: Trace + 'static>(heap: &Heap, m: usize, value: T) -> Result<Gc<T>, (HeapLimitError, T)> {
    try_alloc_with_tail(heap, m, value, 0)
}

/// Allocates on M `m` a slot with `tail` bytes of room after the value; gives the value back if
/// the heap limit is in the way.
fn try_alloc_with_tail<T: Trace + 'static>(
    heap: &Heap,
    m: usize,
    value: T,
    tail: usize,
) -> Result<Gc<T>, (HeapLimitError, T)> {
    assert_holds_p(heap, m, "alloc");
    let (size, align) = (Layout::<T>::SIZE + tail, Layout::<T>::ALIGN);
    let addr = match sizeclass::class_for(size, align) {
        Some(class) => heap.caches[m].alloc(heap, class),
        None => {
            assert!(
                align <= sizeclass::PAGE_SIZE,
                "gort::gc: alignment {align} is not supported (at most 8192)"
            );
            heap.caches[m].alloc_large(heap, size)
        }
    };
    let addr = match addr {
        Ok(addr) => addr,
        Err(e) => return Err((e, value)),
    };
    // SAFETY: `addr` is a free slot of at least `size` bytes, aligned to `align`, owned by this
    // allocation until it returns.
    Ok(unsafe { init_object(addr, value) })
}

/// Writes the header and the value of a new object into the slot at `addr`, and notes in its
/// span whether it has drop glue (`span.rs`: sweeps then run its `Drop`).
///
/// # Safety
/// `addr` is a free slot of a live span, of at least `Layout::<T>::SIZE` bytes, aligned to
/// `Layout::<T>::ALIGN`, owned by the caller.
unsafe fn init_object<T: Trace + 'static>(addr: usize, value: T) -> Gc<T> {
    if Layout::<T>::VTABLE.drop.is_some() {
        // SAFETY: the caller's contract: a slot of a live span.
        unsafe { span::span_of(addr) }.note_drop();
    }
    // SAFETY: the caller's contract.
    unsafe {
        let header = NonNull::new_unchecked(addr as *mut Header);
        header.as_ptr().write(Header { vtable: Layout::<T>::VTABLE });
        let gc = Gc::<T>::from_header(header);
        gc.ptr.as_ptr().write(value);
        gc
    }
}

/// Allocates `value` in the heap of the current goroutine's runtime, or fails past the heap
/// limit. Never collects (see [`Gc::new`]).
///
/// # Panics
/// Outside a goroutine.
#[inline]
pub fn alloc<T: Trace + 'static>(value: T) -> Result<Gc<T>, HeapLimitError> {
    with_m("alloc", |heap, m| try_alloc(heap, m, value).map_err(|(e, _)| e))
}

/// Allocates `value` followed by `tail` uninitialized bytes in the same object (a
/// variable-length object: the value's type knows how to find and read its tail, at
/// `Gc::as_ptr(gc) as *const u8 + size_of::<T>()`). `T` must not need a tail to be traced.
/// Gives the value back if the heap limit is in the way.
///
/// # Panics
/// Outside a goroutine.
#[cfg(any(test, target_arch = "wasm32"))]
pub(crate) fn alloc_with_tail<T: Trace + 'static>(
    value: T,
    tail: usize,
) -> Result<Gc<T>, (HeapLimitError, T)> {
    with_m("alloc", |heap, m| try_alloc_with_tail(heap, m, value, tail))
}

/// Whether an object of `T` followed by `tail` bytes could ever fit in `heap`
/// ([`Heap::admit`]: no lock, no allocation, any thread). Fails only when its pages alone exceed
/// the heap limit, which no collection can change.
#[cfg(any(test, target_arch = "wasm32"))]
pub(crate) fn admit_with_tail<T: Trace + 'static>(heap: &Heap, tail: usize) -> Result<(), HeapLimitError> {
    heap.admit(Layout::<T>::SIZE.saturating_add(tail))
}

/// [`admit_with_tail`] against the heap of the runtime this thread is an M of (`None` on a
/// thread that is not an M). An M may ask outside its polls (a Worker's promise reactions).
#[cfg(any(test, target_arch = "wasm32"))]
pub(crate) fn admit_here<T: Trace + 'static>(tail: usize) -> Option<Result<(), HeapLimitError>> {
    here(|heap, _| admit_with_tail::<T>(heap, tail))
}

/// Allocates `value` and roots it; at the heap limit, forces a collection, waits for it and
/// tries once more. The value's own `Gc` fields stay alive meanwhile.
///
/// # Panics
/// Outside a goroutine.
pub fn alloc_root<T: Trace + 'static>(value: T) -> AllocRoot<T> {
    let state = with_m("alloc_root", |heap, m| match try_alloc(heap, m, value) {
        Ok(gc) => State::Done(Some(Ok(Root::new(gc)))),
        Err((_, value)) => {
            let shared = crate::sched::current_shared().expect("an M has a runtime");
            State::Retry { value: Pinned::new(heap, shared, value), collect: Collect::new() }
        }
    });
    AllocRoot { state }
}

/// The future of [`alloc_root`].
#[must_use = "futures do nothing unless awaited"]
pub struct AllocRoot<T: Trace + 'static> {
    state: State<T>,
}

enum State<T: Trace + 'static> {
    Done(Option<Result<Root<T>, HeapLimitError>>),
    Retry { value: Pinned<T>, collect: Collect },
}

impl<T: Trace + 'static> Future for AllocRoot<T> {
    type Output = Result<Root<T>, HeapLimitError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let state = &mut self.state;
        if let State::Retry { collect, .. } = state {
            if Pin::new(collect).poll(cx).is_pending() {
                return Poll::Pending;
            }
            let State::Retry { value, .. } = std::mem::replace(state, State::Done(None)) else {
                unreachable!()
            };
            let value = value.into_inner();
            let result = with_m("alloc_root", |heap, m| try_alloc(heap, m, value));
            *state = State::Done(Some(result.map(Root::new).map_err(|(e, _)| e)));
        }
        match state {
            State::Done(result) => Poll::Ready(result.take().expect("AllocRoot polled after completion")),
            State::Retry { .. } => unreachable!(),
        }
    }
}

/// Runs a full collection and returns when it has ended (Go's `runtime.GC()`). The calling
/// goroutine's own `Gc`s cannot exist across this await (they are `!Send`), so only what is
/// rooted or reachable survives.
///
/// # Panics
/// When awaited outside a goroutine.
pub fn collect() -> Collect {
    Collect::new()
}

/// A safepoint for a goroutine that allocates in long polls. Collections start only between
/// polls, so a goroutine that allocates without ever waiting holds every requested collection
/// off (the heap overshoots its goal, and the other Ms wait, stopped, until its poll ends).
/// Awaiting `checkpoint()` at natural points (between two trees, two batches) lets them in:
/// it is ready at once when no collection is requested or marking (two loads), and otherwise
/// yields once (as [`gosched`](crate::gosched) does), so that this M joins the pause, or does
/// its share of marking, before the goroutine runs on. For a requested pause it yields only
/// once every other running M has seen the request, or a few milliseconds later: an M does
/// not stop first to wait for a poll that goes on elsewhere.
///
/// # Panics
/// When awaited outside a goroutine.
pub fn checkpoint() -> Checkpoint {
    Checkpoint { yielding: None }
}

/// The future of [`checkpoint`].
#[must_use = "a checkpoint lets a collection in only when it is awaited"]
pub struct Checkpoint {
    /// Set once a collection was found requested: the yield in progress.
    yielding: Option<crate::Gosched>,
}

impl Future for Checkpoint {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielding.is_none() {
            if !with_m("checkpoint", collect::checkpoint_step) {
                return Poll::Ready(());
            }
            self.yielding = Some(crate::gosched());
        }
        let gosched = self.yielding.as_mut().expect("set above");
        Pin::new(gosched).poll(cx)
    }
}

/// The heap statistics of the current goroutine's runtime (`Runtime::stats().gc` from
/// outside).
///
/// # Panics
/// Outside a goroutine.
pub fn stats() -> GcStats {
    with_m("stats", |heap, _| stats_of(heap))
}

/// Spans an idle M sweeps before looking for work again.
const IDLE_SWEEP_BATCH: usize = 16;

impl Hooks for Heap {
    fn m_start(&self, _: &Shared, m: usize) {
        HEAP.with(|h| h.set((self, m)));
    }

    fn safepoint(&self, shared: &Shared, m: usize, polling: bool) {
        collect::safepoint(self, shared, m, polling);
    }

    /// While a collection marks: an M stays (it marks at its safepoints) while the mark pool
    /// has work, or while it must end marking itself (`markend.rs`); otherwise it parks, and
    /// the pauses claim its P. Once marking is done, an idle M parks. Between collections it
    /// first sweeps a batch of spans in the background (nothing is left to sweep while
    /// marking).
    fn idle(&self, _: &Shared, m: usize) -> bool {
        let c = &self.collector;
        if c.marking() {
            let pool = &self.mark;
            let stay = !c.end.done() && (pool.has_batches() || c.end.must_stay(m, pool.draining()));
            if stay {
                std::thread::yield_now();
            }
            return stay;
        }
        let mut swept = 0;
        while swept < IDLE_SWEEP_BATCH && self.sweep_one().is_some() {
            swept += 1;
        }
        swept > 0
    }

    /// Gives the P's cached spans back, so that the heap's destructor finds (and drops) every
    /// object; the M then parks its P for good (collections claim it from then on).
    fn m_exit(&self, _: &Shared, m: usize) {
        self.caches[m].flush(self);
        HEAP.with(|h| h.set((std::ptr::null(), 0)));
    }

    /// A collection is requested or marking.
    fn holds_ms(&self) -> bool {
        self.collecting()
    }
}
