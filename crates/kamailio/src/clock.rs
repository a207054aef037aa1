//! The one clock every Kamailio process agrees on: `CLOCK_MONOTONIC`, system-wide, so a time
//! one process stores in shared memory means the same in another (std's `Instant` cannot be
//! shared that way).

/// Milliseconds of the monotonic clock, never 0 (0 can then mean "never").
pub fn monotonic_ms() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the live timespec; CLOCK_MONOTONIC always exists.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    (ts.tv_sec as u64 * 1000 + ts.tv_nsec as u64 / 1_000_000).max(1)
}

#[cfg(test)]
mod tests {
    #[test]
    fn never_zero_and_never_backwards() {
        let a = super::monotonic_ms();
        std::thread::sleep(std::time::Duration::from_millis(5));
        let b = super::monotonic_ms();
        assert!(a > 0 && b >= a + 4, "{a} {b}");
    }
}
