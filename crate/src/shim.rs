//! Synchronization primitives used by the lock-free parts of the scheduler.
//!
//! Under `cfg(loom)` they come from loom, so that `cargo test --cfg loom` explores every
//! interleaving of the run queue, the inbox and the park/wake protocol; otherwise from std.

#[cfg(loom)]
pub(crate) use loom::sync::{
    atomic::{fence, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize},
    Arc,
};
#[cfg(not(loom))]
pub(crate) use std::sync::{
    atomic::{fence, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize},
    Arc,
};
