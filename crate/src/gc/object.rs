//! Object layout: every heap object is a [`Header`] followed by the value.
//!
//! ```text
//!  slot start (a multiple of the class size from a page boundary, or a page for large objects)
//!  |
//!  v
//!  [ Header: &'static VTable | padding to OFFSET ][ value: T ][ unused tail of the slot ]
//!                                                ^
//!                                                Gc<T> points here
//! ```
//! `OFFSET` is `max(8, align_of::<T>())` and slots are aligned to it (see
//! `sizeclass::class_for`), so the value is aligned. The vtable lets code that does not know
//! `T` (marking from a root, scanning a mark-stack entry, sweeping a dead slot) trace, drop
//! and describe the object. The header is written once, at allocation, before the object is
//! reachable from anything; it is read by markers, which reach the object only through a
//! pointer published after that write (through a `GcCell`'s lock, a root's registry lock or
//! the collector's hand-offs), and by sweepers that own the span, so it needs no
//! synchronization of its own.

use super::mark::Tracer;
use super::Trace;
use std::marker::PhantomData;

/// What the collector needs to know about an object's type.
pub(crate) struct VTable {
    /// Traces the value at the given address.
    pub(crate) trace: unsafe fn(*const u8, &mut Tracer<'_>),
    /// Drops the value in place; `None` when `T` has no drop glue.
    pub(crate) drop: Option<unsafe fn(*mut u8)>,
    /// Bytes from the header to the value.
    pub(crate) offset: usize,
    /// Whether the value may hold `Gc` pointers (`Trace::NEEDS_TRACE`).
    pub(crate) needs_trace: bool,
}

/// The word before every object.
#[repr(C, align(8))]
pub(crate) struct Header {
    pub(crate) vtable: &'static VTable,
}

pub(crate) const HEADER_SIZE: usize = std::mem::size_of::<Header>();

/// Compile-time layout and vtable of objects of type `T`.
pub(crate) struct Layout<T>(PhantomData<T>);

impl<T: Trace + 'static> Layout<T> {
    pub(crate) const ALIGN: usize =
        if std::mem::align_of::<T>() > HEADER_SIZE { std::mem::align_of::<T>() } else { HEADER_SIZE };
    pub(crate) const OFFSET: usize = Self::ALIGN;
    /// Header, padding and value.
    pub(crate) const SIZE: usize = Self::OFFSET + std::mem::size_of::<T>();
    pub(crate) const VTABLE: &'static VTable = &VTable {
        trace: trace_erased::<T>,
        drop: if std::mem::needs_drop::<T>() { Some(drop_erased::<T>) } else { None },
        offset: Self::OFFSET,
        needs_trace: T::NEEDS_TRACE,
    };
}

/// # Safety
/// `obj` points at a live, initialized `T`.
unsafe fn trace_erased<T: Trace>(obj: *const u8, tracer: &mut Tracer<'_>) {
    // SAFETY: the caller's contract.
    unsafe { (*obj.cast::<T>()).trace(tracer) }
}

/// # Safety
/// `obj` points at a live, initialized `T` that nothing will use again.
unsafe fn drop_erased<T>(obj: *mut u8) {
    // SAFETY: the caller's contract.
    unsafe { std::ptr::drop_in_place(obj.cast::<T>()) }
}
