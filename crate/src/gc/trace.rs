//! The `Trace` trait: how the collector finds the `Gc` pointers inside a value, and the impls
//! for standard types.
//!
//! # What implementing `Trace` promises
//! `Trace` is an `unsafe` trait because the collector relies on it for memory safety:
//! 1. `trace` calls `Trace::trace` on every field that holds (or may hold) a `Gc`, directly or
//!    inside other types. A `Gc` that is not traced is freed while still reachable.
//! 2. Apart from the `Gc` pointers it holds, the type is `Send + Sync`: heap objects are
//!    shared by every M (Worker), dereferenced from any of them and dropped by whichever M
//!    sweeps them. `Gc` itself is deliberately `!Send + !Sync` (see the rooting rules in the
//!    `gc` module), so `Trace` stands in for "Send + Sync, except for Gc pointers".
//! 3. `Drop` (if any) does not dereference `Gc` pointers: dead objects are dropped in no
//!    particular order, so the target may already be freed.
//! 4. `NEEDS_TRACE` is false only if the type can never hold a `Gc`.
//!
//! `#[derive(Trace)]` checks all four at compile time.

use super::mark::Tracer;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::marker::PhantomData;
use std::sync::atomic;
use std::sync::Arc;

/// A type whose values may live in the garbage-collected heap. Derive it with
/// `#[derive(Trace)]`; see the module documentation for what a hand-written impl promises.
///
/// # Safety
/// The implementation must uphold the four rules of the module documentation.
pub unsafe trait Trace {
    /// False when values of this type never hold a `Gc`: the collector then marks such objects
    /// without scanning them.
    const NEEDS_TRACE: bool = true;

    /// Calls `Trace::trace` on every field that may hold a `Gc`.
    fn trace(&self, tracer: &mut Tracer<'_>);
}

macro_rules! leaf {
    ($($t:ty),* $(,)?) => {$(
        // SAFETY: holds no Gc, is Send + Sync, and its Drop (if any) does not touch the heap.
        unsafe impl Trace for $t {
            const NEEDS_TRACE: bool = false;
            #[inline]
            fn trace(&self, _: &mut Tracer<'_>) {}
        }
    )*};
}

leaf!(
    (),
    bool,
    char,
    u8,
    u16,
    u32,
    u64,
    u128,
    usize,
    i8,
    i16,
    i32,
    i64,
    i128,
    isize,
    f32,
    f64,
    String,
    std::time::Duration,
    atomic::AtomicBool,
    atomic::AtomicU8,
    atomic::AtomicU16,
    atomic::AtomicU32,
    atomic::AtomicU64,
    atomic::AtomicUsize,
    atomic::AtomicI8,
    atomic::AtomicI16,
    atomic::AtomicI32,
    atomic::AtomicI64,
    atomic::AtomicIsize,
);

// SAFETY: a shared reference to Sync data holds no Gc (Gc is not Sync).
unsafe impl<T: ?Sized + Sync + 'static> Trace for &'static T {
    const NEEDS_TRACE: bool = false;
    #[inline]
    fn trace(&self, _: &mut Tracer<'_>) {}
}

// SAFETY: Send + Sync contents hold no Gc.
unsafe impl<T: ?Sized + Send + Sync> Trace for Arc<T> {
    const NEEDS_TRACE: bool = false;
    #[inline]
    fn trace(&self, _: &mut Tracer<'_>) {}
}

// SAFETY: holds nothing.
unsafe impl<T: ?Sized> Trace for PhantomData<T> {
    const NEEDS_TRACE: bool = false;
    #[inline]
    fn trace(&self, _: &mut Tracer<'_>) {}
}

// SAFETY: traces the value it owns.
unsafe impl<T: Trace + ?Sized> Trace for Box<T> {
    const NEEDS_TRACE: bool = T::NEEDS_TRACE;
    #[inline]
    fn trace(&self, tracer: &mut Tracer<'_>) {
        (**self).trace(tracer)
    }
}

// SAFETY: traces every element.
unsafe impl<T: Trace> Trace for [T] {
    const NEEDS_TRACE: bool = T::NEEDS_TRACE;
    fn trace(&self, tracer: &mut Tracer<'_>) {
        if T::NEEDS_TRACE {
            self.iter().for_each(|v| v.trace(tracer));
        }
    }
}

// SAFETY: traces every element.
unsafe impl<T: Trace, const N: usize> Trace for [T; N] {
    const NEEDS_TRACE: bool = T::NEEDS_TRACE;
    fn trace(&self, tracer: &mut Tracer<'_>) {
        self.as_slice().trace(tracer)
    }
}

// SAFETY: traces every element.
unsafe impl<T: Trace> Trace for Vec<T> {
    const NEEDS_TRACE: bool = T::NEEDS_TRACE;
    fn trace(&self, tracer: &mut Tracer<'_>) {
        self.as_slice().trace(tracer)
    }
}

// SAFETY: traces every element.
unsafe impl<T: Trace> Trace for VecDeque<T> {
    const NEEDS_TRACE: bool = T::NEEDS_TRACE;
    fn trace(&self, tracer: &mut Tracer<'_>) {
        if T::NEEDS_TRACE {
            self.iter().for_each(|v| v.trace(tracer));
        }
    }
}

// SAFETY: traces the value if present.
unsafe impl<T: Trace> Trace for Option<T> {
    const NEEDS_TRACE: bool = T::NEEDS_TRACE;
    #[inline]
    fn trace(&self, tracer: &mut Tracer<'_>) {
        if let Some(v) = self {
            v.trace(tracer)
        }
    }
}

// SAFETY: traces whichever value is present.
unsafe impl<T: Trace, E: Trace> Trace for Result<T, E> {
    const NEEDS_TRACE: bool = T::NEEDS_TRACE || E::NEEDS_TRACE;
    fn trace(&self, tracer: &mut Tracer<'_>) {
        match self {
            Ok(v) => v.trace(tracer),
            Err(e) => e.trace(tracer),
        }
    }
}

// SAFETY: traces every key and value; the hasher state is Send + Sync.
unsafe impl<K: Trace, V: Trace, S: Send + Sync> Trace for HashMap<K, V, S> {
    const NEEDS_TRACE: bool = K::NEEDS_TRACE || V::NEEDS_TRACE;
    fn trace(&self, tracer: &mut Tracer<'_>) {
        for (k, v) in self {
            k.trace(tracer);
            v.trace(tracer);
        }
    }
}

// SAFETY: traces every element; the hasher state is Send + Sync.
unsafe impl<T: Trace, S: Send + Sync> Trace for HashSet<T, S> {
    const NEEDS_TRACE: bool = T::NEEDS_TRACE;
    fn trace(&self, tracer: &mut Tracer<'_>) {
        self.iter().for_each(|v| v.trace(tracer));
    }
}

// SAFETY: traces every key and value.
unsafe impl<K: Trace, V: Trace> Trace for BTreeMap<K, V> {
    const NEEDS_TRACE: bool = K::NEEDS_TRACE || V::NEEDS_TRACE;
    fn trace(&self, tracer: &mut Tracer<'_>) {
        for (k, v) in self {
            k.trace(tracer);
            v.trace(tracer);
        }
    }
}

// SAFETY: traces every element.
unsafe impl<T: Trace> Trace for BTreeSet<T> {
    const NEEDS_TRACE: bool = T::NEEDS_TRACE;
    fn trace(&self, tracer: &mut Tracer<'_>) {
        self.iter().for_each(|v| v.trace(tracer));
    }
}

macro_rules! tuple {
    ($($name:ident)+) => {
        // SAFETY: traces every element.
        unsafe impl<$($name: Trace),+> Trace for ($($name,)+) {
            const NEEDS_TRACE: bool = false $(|| $name::NEEDS_TRACE)+;
            #[allow(non_snake_case)]
            fn trace(&self, tracer: &mut Tracer<'_>) {
                let ($($name,)+) = self;
                $($name.trace(tracer);)+
            }
        }
    };
}

tuple!(A);
tuple!(A B);
tuple!(A B C);
tuple!(A B C D);
tuple!(A B C D E);
tuple!(A B C D E F);
tuple!(A B C D E F G);
tuple!(A B C D E F G H);
