//! How a higher layer reacts to the scheduler without the scheduler naming it.
//!
//! The collector (`gc`) must act at the points only the scheduler knows of: when an M starts,
//! at every safepoint, when an M runs out of work, and when it exits. It implements [`Hooks`]
//! and hands the scheduler an instance when the runtime is built (`Shared::new`); the
//! scheduler calls it at those points and knows nothing else of it.
//!
//! # Rules for an implementation
//! * Every call runs on M `m`'s own thread while it holds its P (`world.rs`), between two polls:
//!   no goroutine of this M is being polled, so the hook may stop the world (through
//!   `Shared::world`) or touch P-local state of its own.
//! * A hook must not poll goroutines or park the M; it may wait for a stop of the world it
//!   joined (`World::try_acquire_p`).

use super::shared::Shared;

/// `RefUnwindSafe`: a panic caught in a goroutine's poll (`join.rs`) leaves the hooks usable.
pub(crate) trait Hooks: Send + Sync + std::panic::RefUnwindSafe + 'static {
    /// This thread's M starts holding P `m` (as the P's own M starts, or a spare M takes it).
    fn m_start(&self, shared: &Shared, m: usize);

    /// M `m` is at a safepoint: before a poll (`polling`), or looking for work.
    fn safepoint(&self, shared: &Shared, m: usize, polling: bool);

    /// M `m` found no work and is about to park: a chance for background work. True if it
    /// did some, and the M must look for work again before parking.
    fn idle(&self, shared: &Shared, m: usize) -> bool;

    /// M `m` exits and still holds its P: give back what is cached for the P. The M then
    /// gives its P up for good, going through a safepoint first if the world is stopping.
    fn m_exit(&self, shared: &Shared, m: usize);

    /// Whether the hook's work holds Ms (a collection in progress): Ms that look idle may not
    /// be, so deadlock detection waits.
    fn holds_ms(&self) -> bool;
}
