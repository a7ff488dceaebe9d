//! How much memory the runtime may still take, and what becomes of an allocation that fails.
//!
//! In the browser every runtime on a page, every Worker M and the page itself allocate from one
//! shared wasm memory, which grows up to a fixed maximum ([`MAX_MEMORY`], the linker's
//! `--max-memory`, see `.cargo/config.toml`) and never shrinks. An allocation the allocator
//! cannot satisfy calls `handle_alloc_error`, whose default aborts: in wasm an `unreachable`
//! trap, after which wasm-bindgen marks the module terminated and every later call into it, by
//! any runtime on the page, throws `Module terminated`. So:
//!
//! * **Admission is the main line.** Whatever enters the runtime from outside (a value sent, a
//!   goroutine's arguments, a new goroutine, a blocking operation) is measured before anything
//!   is allocated for it and refused with an error at the call ([`admit`]) when it cannot fit
//!   in what wasm memory can still give ([`room`]) while leaving [`RESERVE`] for the runtime's
//!   own small allocations (wakers, queues, the message of a panic). Big buffers are then
//!   allocated fallibly (`try_reserve`, the collector's chunks), so a request that passed the
//!   check but lost a race still fails cleanly.
//! * **A panic is the backstop.** [`install_oom_panic`] turns an allocation failure that gets
//!   past admission (a Rust goroutine's own `Vec`, say) into a panic instead of an abort: in a
//!   goroutine it is caught at the poll (`sched::join::Goroutine`) and fails that goroutine
//!   only; in the browser every other entry is a wasm-bindgen export, which catches an
//!   unwinding panic and throws it to JS. It is only a backstop because an allocation can fail
//!   anywhere, in the middle of an update the panic then abandons, and the unwinding itself
//!   needs a little memory: admission keeps both from happening in the cases it can see.
//!
//! # Invariants
//! * [`room`] never overstates what is left: in the threaded wasm build with the allocator
//!   front (`alloc.rs`), it is the maximum less the static data (`__heap_base`) and every byte
//!   the front holds from dlmalloc, each block rounded up by dlmalloc's own overhead; without
//!   the front, the maximum less the memory's current size. Natively there is no ceiling to
//!   know of (the system's allocator decides), and [`room`] is `usize::MAX`.
//! * [`admit`] reads atomics only: any thread may ask, the page's included, without a lock.

use std::alloc::Layout;
use std::fmt;

/// Parses a decimal byte count at compile time (the build script's `GORT_MAX_MEMORY`).
const fn parse_bytes(s: &str) -> usize {
    let b = s.as_bytes();
    let mut i = 0;
    let mut n: u64 = 0;
    while i < b.len() {
        n = n * 10 + (b[i] - b'0') as u64;
        i += 1;
    }
    // wasm32's usize holds at most 4 GiB − 1: the last byte of a 4 GiB memory.
    if n > usize::MAX as u64 {
        usize::MAX
    } else {
        n as usize
    }
}

/// The largest the wasm memory may grow to, in bytes (the linker's `--max-memory`, read by
/// `build.rs`): 4 GiB − 64 KiB in this crate's build, one page under the 4 GiB that Chromium
/// allows a shared wasm32 memory (see `.cargo/config.toml`).
pub(crate) const MAX_MEMORY: usize = parse_bytes(env!("GORT_MAX_MEMORY"));

/// Bytes admission leaves free for the runtime's own small allocations, which are not
/// admitted one by one (wakers, run queues, channel queues, a Worker M's stack, the message of
/// an allocation failure's panic).
pub(crate) const RESERVE: usize = 16 << 20;

/// Bytes the runtime can still allocate, at most (see the invariants).
pub(crate) fn room() -> usize {
    #[cfg(all(target_arch = "wasm32", target_feature = "atomics", feature = "thread-cached-alloc"))]
    {
        extern "C" {
            // The linker's end of static data and start of dlmalloc's heap (only its address
            // is taken, never the byte read).
            static __heap_base: u8;
        }
        let base = std::ptr::addr_of!(__heap_base) as usize;
        MAX_MEMORY.saturating_sub(base).saturating_sub(super::alloc::held_bytes())
    }
    #[cfg(all(
        target_arch = "wasm32",
        not(all(target_feature = "atomics", feature = "thread-cached-alloc"))
    ))]
    {
        MAX_MEMORY.saturating_sub(core::arch::wasm32::memory_size(0) * 65536)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        usize::MAX
    }
}

/// A request that cannot fit in what memory can still give (see [`admit`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct OutOfMemory {
    /// Bytes the request needs.
    pub(crate) needed: usize,
    /// Bytes that could still be allocated when it was refused, the reserve included.
    pub(crate) room: usize,
}

impl fmt::Display for OutOfMemory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "out of memory: {} bytes needed, but wasm memory can give only {} more \
             (its maximum is {} bytes, and {} are kept for the runtime itself)",
            self.needed,
            self.room.saturating_sub(RESERVE),
            MAX_MEMORY,
            RESERVE
        )
    }
}

impl std::error::Error for OutOfMemory {}

/// Whether `needed` more bytes fit in memory with [`RESERVE`] to spare. Lock-free and
/// allocation-free: any thread may ask, the page's too.
pub(crate) fn admit(needed: usize) -> Result<(), OutOfMemory> {
    let room = room();
    if needed.saturating_add(RESERVE) <= room {
        Ok(())
    } else {
        Err(OutOfMemory { needed, room })
    }
}

/// The hook std ran before this one (its default prints and aborts), for threads where a
/// panic would not be caught.
static PREVIOUS_HOOK: std::sync::OnceLock<fn(Layout)> = std::sync::OnceLock::new();

/// Turns a failed allocation into a panic where one is caught: in the browser everywhere
/// (goroutines at their poll, every other entry at its wasm-bindgen export), natively on the
/// threads that are Ms (goroutines at their poll). Other native threads keep std's behaviour.
/// Once per process; later calls do nothing.
pub(crate) fn install_oom_panic() {
    PREVIOUS_HOOK.get_or_init(|| {
        let previous = std::alloc::take_alloc_error_hook();
        std::alloc::set_alloc_error_hook(oom_hook);
        previous
    });
}

fn oom_hook(layout: Layout) {
    if cfg!(target_arch = "wasm32") || super::is_m_thread() {
        // The message std's default hook prints; `panic_message` shows it to the joiner.
        panic!("memory allocation of {} bytes failed", layout.size());
    }
    if let Some(previous) = PREVIOUS_HOOK.get() {
        previous(layout);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_maximum_parses_and_admission_keeps_the_reserve() {
        assert_eq!(parse_bytes("4294901760"), 4294901760);
        assert_eq!(parse_bytes("0"), 0);
        const { assert!(MAX_MEMORY > 0) };
        // Natively there is no ceiling: everything short of the address space is admitted.
        assert_eq!(room(), usize::MAX);
        assert!(admit(1 << 40).is_ok());
        assert!(admit(usize::MAX).is_ok());
        let e = OutOfMemory { needed: 1 << 30, room: RESERVE + 1000 };
        let text = e.to_string();
        assert!(text.starts_with("out of memory: 1073741824 bytes needed"), "{text}");
        assert!(text.contains("can give only 1000 more"), "{text}");
        assert!(text.contains(&format!("maximum is {MAX_MEMORY} bytes")), "{text}");
    }
}
