//! What the manager process tells the SIP workers, in a page shared by every Kamailio process
//! (mapped before fork): whether the XMPP link is up, and how many stanzas were refused.

use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Why a stanza was not handed to the manager.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The link to the XMPP server is down.
    LinkDown,
    /// The manager's socket is full (it is not keeping up).
    Busy,
    /// The stanza or its addresses are not acceptable.
    Invalid,
}

impl Refusal {
    pub fn describe(self) -> &'static str {
        match self {
            Self::LinkDown => "the XMPP link is down",
            Self::Busy => "the XMPP manager is busy (its socket is full)",
            Self::Invalid => "invalid stanza or address",
        }
    }
}

#[repr(C)]
struct Page {
    link_up: AtomicBool,
    refused: [AtomicU64; 3],
}

/// The shared page. Copies of the handle made by fork all refer to the same memory.
pub struct LinkStatus {
    page: NonNull<Page>,
}

// SAFETY: the page holds only atomics.
unsafe impl Send for LinkStatus {}
unsafe impl Sync for LinkStatus {}

impl LinkStatus {
    /// Maps the page. Call it before Kamailio forks its workers.
    pub fn create() -> std::io::Result<Self> {
        // SAFETY: a fresh anonymous shared mapping, checked for failure. Zeroed memory is a
        // valid `Page` (link down, counters at 0), and it is never unmapped.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                std::mem::size_of::<Page>(),
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error());
        }
        NonNull::new(base.cast::<Page>())
            .map(|page| Self { page })
            .ok_or_else(|| std::io::Error::other("mmap returned NULL"))
    }

    fn page(&self) -> &Page {
        // SAFETY: mapped in `create`, never unmapped.
        unsafe { self.page.as_ref() }
    }

    pub fn is_up(&self) -> bool {
        self.page().link_up.load(Ordering::Acquire)
    }

    /// Set by the manager when the link authenticates or closes.
    pub fn set_up(&self, up: bool) {
        self.page().link_up.store(up, Ordering::Release);
    }

    /// Counts one refusal; returns the total of that kind across all processes.
    pub fn count(&self, why: Refusal) -> u64 {
        self.page().refused[why as usize].fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Totals of refusals of each kind: (link down, busy, invalid).
    pub fn refused(&self) -> [u64; 3] {
        self.page()
            .refused
            .each_ref()
            .map(|c| c.load(Ordering::Relaxed))
    }
}
