//! Native platform (tests and benchmarks): a Linux futex and `Instant`.

use std::sync::atomic::AtomicU32;
use std::sync::OnceLock;
use std::time::Instant;

/// Nanoseconds since the first call in this process.
pub(crate) fn now_ns() -> u64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    EPOCH.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

/// Blocks while `*word == expected`, for at most `timeout_ns`; may return spuriously.
pub(crate) fn futex_wait(word: &AtomicU32, expected: u32, timeout_ns: Option<u64>) {
    let ts = timeout_ns.map(|ns| libc::timespec {
        tv_sec: (ns / 1_000_000_000) as libc::time_t,
        tv_nsec: (ns % 1_000_000_000) as libc::c_long,
    });
    let ts_ptr = ts.as_ref().map_or(std::ptr::null(), |t| t as *const libc::timespec);
    // SAFETY: FUTEX_WAIT reads the aligned 32-bit word, which lives as long as this borrow;
    // `ts_ptr` is null or points at a timespec on this stack frame.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG,
            expected,
            ts_ptr,
        );
    }
}

fn futex_wake(word: &AtomicU32, count: i32) {
    // SAFETY: FUTEX_WAKE only uses the address as a key.
    unsafe {
        libc::syscall(libc::SYS_futex, word.as_ptr(), libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG, count);
    }
}

/// Wakes one thread blocked in `futex_wait` on `word`.
pub(crate) fn futex_wake_one(word: &AtomicU32) {
    futex_wake(word, 1);
}

/// Wakes every thread blocked in `futex_wait` on `word` (the kernel reads the count as a
/// signed int: `i32::MAX` is "all").
pub(crate) fn futex_wake_all(word: &AtomicU32) {
    futex_wake(word, i32::MAX);
}

/// Writes `line` to stderr.
#[allow(dead_code)] // for gc's trace lines
pub(crate) fn log_line(line: &str) {
    eprintln!("{line}");
}
