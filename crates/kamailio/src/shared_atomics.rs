//! A fixed row of atomic 64-bit words in memory shared by every Kamailio process: flags and
//! counters that one process sets and all read (link state, totals). Mapped before fork, never
//! unmapped; zero at start.

use std::ptr::NonNull;
use std::sync::atomic::AtomicU64;

/// The words. Copies of the handle made by fork all refer to the same memory.
pub struct SharedAtomics {
    base: NonNull<AtomicU64>,
    len: usize,
}

// SAFETY: the memory holds only atomics and is never unmapped.
unsafe impl Send for SharedAtomics {}
unsafe impl Sync for SharedAtomics {}

impl SharedAtomics {
    /// Maps `len` zeroed words. Call before the host forks its workers.
    pub fn create(len: usize) -> std::io::Result<Self> {
        let len = len.max(1);
        // SAFETY: a fresh anonymous shared mapping, checked for failure. Zeroed memory is a
        // valid AtomicU64 (0), the mapping is page-aligned, and it is never unmapped.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len * std::mem::size_of::<AtomicU64>(),
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error());
        }
        NonNull::new(base.cast::<AtomicU64>())
            .map(|base| Self { base, len })
            .ok_or_else(|| std::io::Error::other("mmap returned NULL"))
    }

    /// Word `i`; panics when `i` is out of range (a programming error).
    pub fn get(&self, i: usize) -> &AtomicU64 {
        assert!(i < self.len, "shared word {i} of {}", self.len);
        // SAFETY: i < len, inside the mapping, which lives as long as the process.
        unsafe { &*self.base.as_ptr().add(i) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::Ordering;

    #[test]
    fn words_are_shared_across_fork() {
        let w = SharedAtomics::create(3).unwrap();
        assert_eq!(w.get(2).load(Ordering::Relaxed), 0);
        // SAFETY: the child only stores to the mapping and exits without unwinding.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0);
        if pid == 0 {
            w.get(1).store(42, Ordering::Release);
            unsafe { libc::_exit(0) };
        }
        let mut status = 0;
        // SAFETY: waiting for our own child.
        unsafe { libc::waitpid(pid, &mut status, 0) };
        assert_eq!(w.get(1).load(Ordering::Acquire), 42);
    }

    #[test]
    #[should_panic(expected = "shared word 3 of 3")]
    fn out_of_range_is_a_panic() {
        SharedAtomics::create(3).unwrap().get(3);
    }
}
