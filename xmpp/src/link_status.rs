//! What the manager process tells the SIP workers, in a page shared by every Kamailio process
//! (mapped before fork): whether the XMPP link is up, and how many stanzas were refused.

use std::sync::atomic::Ordering;

use kamailio_module::shared_atomics::SharedAtomics;

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

/// Word 0: the link is up (1) or not (0); words 1..=3: refusals of each [`Refusal`] kind.
const LINK_UP: usize = 0;
const REFUSED: usize = 1;

/// The shared words. Copies of the handle made by fork all refer to the same memory.
pub struct LinkStatus {
    words: SharedAtomics,
}

impl LinkStatus {
    /// Maps the words. Call it before Kamailio forks its workers.
    pub fn create() -> std::io::Result<Self> {
        Ok(Self {
            words: SharedAtomics::create(REFUSED + 3)?,
        })
    }

    pub fn is_up(&self) -> bool {
        self.words.get(LINK_UP).load(Ordering::Acquire) == 1
    }

    /// Set by the manager when the link authenticates or closes.
    pub fn set_up(&self, up: bool) {
        self.words
            .get(LINK_UP)
            .store(u64::from(up), Ordering::Release);
    }

    /// Counts one refusal; returns the total of that kind across all processes.
    pub fn count(&self, why: Refusal) -> u64 {
        self.words
            .get(REFUSED + why as usize)
            .fetch_add(1, Ordering::Relaxed)
            + 1
    }

    /// Totals of refusals of each kind: (link down, busy, invalid).
    pub fn refused(&self) -> [u64; 3] {
        [0, 1, 2].map(|i| self.words.get(REFUSED + i).load(Ordering::Relaxed))
    }
}
