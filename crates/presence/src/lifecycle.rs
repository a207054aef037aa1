//! The decisions of the gateway's lifecycle (docs/behaviour.md section 6): how a probe is
//! answered, when publications are withdrawn after the component link is lost, and what is
//! restored when it is back.

/// A gateway SUBSCRIBE whose reply has not come in this long is taken as lost: 64 * T1, the
/// SIP transaction timeout (RFC 3261 section 17.1.2.2), so a later probe may try again.
pub const OPENING_TIMEOUT_MS: u64 = 32_000;

/// What the gateway holds of an XMPP user's subscription to a SIP contact when a probe
/// arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KnownSubscription {
    /// Nothing: the gateway lost it (a restart, or the notifier ended it).
    None,
    /// A SUBSCRIBE was sent this long ago and its reply has not come yet.
    Opening {
        /// Milliseconds since the SUBSCRIBE was sent.
        age_ms: u64,
    },
    /// The subscription exists.
    Established {
        /// Whether a NOTIFY of it has been translated (and its presence held).
        held: bool,
    },
}

/// How the gateway answers a probe (docs/behaviour.md section 3, `probe`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeAnswer {
    /// Send the prober the presence last translated for the subscription, at once.
    SendHeld,
    /// Nothing yet: the subscription's first NOTIFY will answer.
    AwaitFirstNotify,
    /// Open exactly one subscription, as for `subscribe`, whose reply sends no stanza.
    OpenSubscription,
}

/// The answer to a probe, given what is held for the pair.
pub fn probe_answer(known: KnownSubscription) -> ProbeAnswer {
    match known {
        KnownSubscription::Established { held: true } => ProbeAnswer::SendHeld,
        KnownSubscription::Established { held: false } => ProbeAnswer::AwaitFirstNotify,
        KnownSubscription::Opening { age_ms } if age_ms < OPENING_TIMEOUT_MS => {
            ProbeAnswer::AwaitFirstNotify
        }
        KnownSubscription::Opening { .. } | KnownSubscription::None => {
            ProbeAnswer::OpenSubscription
        }
    }
}

/// What to do when the transport reports the link state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkAction {
    /// Nothing beyond holding stanzas while the link is down.
    Nothing,
    /// The grace period is over: withdraw every publication made for XMPP users.
    Withdraw,
    /// The link is back: probe the users whose publications were held when it went down, and
    /// send each user the presence held for each of their gateway subscriptions.
    Restore {
        /// Whether the publications were withdrawn meanwhile.
        withdrawn: bool,
    },
}

/// The component link as the gateway sees it, from the transport's reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkWatch {
    grace_ms: u64,
    down: bool,
    withdrawn: bool,
}

impl LinkWatch {
    /// A watch with `grace_ms` of grace before withdrawing (0: never withdraw). The link
    /// counts as up until the transport says otherwise.
    pub fn new(grace_ms: u64) -> Self {
        Self {
            grace_ms,
            down: false,
            withdrawn: false,
        }
    }

    /// The transport reports the link down for `down_for_ms`.
    pub fn down(&mut self, down_for_ms: u64) -> LinkAction {
        self.down = true;
        if self.grace_ms > 0 && down_for_ms >= self.grace_ms && !self.withdrawn {
            self.withdrawn = true;
            return LinkAction::Withdraw;
        }
        LinkAction::Nothing
    }

    /// The transport reports the link up.
    pub fn up(&mut self) -> LinkAction {
        if !std::mem::take(&mut self.down) {
            return LinkAction::Nothing;
        }
        LinkAction::Restore {
            withdrawn: std::mem::take(&mut self.withdrawn),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_rows() {
        use KnownSubscription as K;
        let rows = [
            (K::Established { held: true }, ProbeAnswer::SendHeld),
            (
                K::Established { held: false },
                ProbeAnswer::AwaitFirstNotify,
            ),
            (K::Opening { age_ms: 0 }, ProbeAnswer::AwaitFirstNotify),
            (
                K::Opening {
                    age_ms: OPENING_TIMEOUT_MS - 1,
                },
                ProbeAnswer::AwaitFirstNotify,
            ),
            (
                K::Opening {
                    age_ms: OPENING_TIMEOUT_MS,
                },
                ProbeAnswer::OpenSubscription,
            ),
            (K::None, ProbeAnswer::OpenSubscription),
        ];
        for (known, answer) in rows {
            assert_eq!(probe_answer(known), answer, "{known:?}");
        }
    }

    #[test]
    fn withdraws_once_after_the_grace_period_and_restores_on_up() {
        let mut w = LinkWatch::new(60_000);
        assert_eq!(w.up(), LinkAction::Nothing);
        assert_eq!(w.down(0), LinkAction::Nothing);
        assert_eq!(w.down(59_999), LinkAction::Nothing);
        assert_eq!(w.down(60_000), LinkAction::Withdraw);
        assert_eq!(w.down(61_000), LinkAction::Nothing);
        assert_eq!(w.up(), LinkAction::Restore { withdrawn: true });
        assert_eq!(w.up(), LinkAction::Nothing);
        // A short loss: restored without a withdrawal.
        assert_eq!(w.down(0), LinkAction::Nothing);
        assert_eq!(w.down(1_000), LinkAction::Nothing);
        assert_eq!(w.up(), LinkAction::Restore { withdrawn: false });
    }

    #[test]
    fn grace_zero_keeps_publications() {
        let mut w = LinkWatch::new(0);
        assert_eq!(w.down(0), LinkAction::Nothing);
        assert_eq!(w.down(u64::MAX), LinkAction::Nothing);
        assert_eq!(w.up(), LinkAction::Restore { withdrawn: false });
    }
}
