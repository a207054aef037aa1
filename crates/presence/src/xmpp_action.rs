//! docs/behaviour.md section 3 table: what a presence stanza from an XMPP user makes the gateway do
//! on the SIP side.

use crate::PresenceType;

/// The SIP-side action for an XMPP presence stanza.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XmppAction {
    /// PUBLISH (expires -1) the PIDF of this resource, publication id from the resource.
    Publish,
    /// PUBLISH expires 0 for this resource's publication only.
    Unpublish,
    /// SUBSCRIBE (expires -1), refreshing an existing gateway subscription for the pair.
    Subscribe,
    /// SUBSCRIBE expires 0 inside the existing gateway dialog.
    Unsubscribe,
    /// Answer the probe from what the gateway holds ([`crate::probe_answer`]): the last
    /// presence translated for the pair, or, when the gateway holds no subscription for it,
    /// exactly one new one.
    AnswerProbe,
    /// Nothing on the SIP side (logged at debug).
    Ignore,
}

/// The action for a stanza of type `kind` (an unknown type never gets here: parsing it is
/// an `InvalidValue` error, which the caller logs and ignores too).
pub fn xmpp_presence_action(kind: PresenceType) -> XmppAction {
    match kind {
        PresenceType::Available => XmppAction::Publish,
        PresenceType::Unavailable => XmppAction::Unpublish,
        PresenceType::Subscribe => XmppAction::Subscribe,
        PresenceType::Unsubscribe => XmppAction::Unsubscribe,
        PresenceType::Probe => XmppAction::AnswerProbe,
        PresenceType::Subscribed | PresenceType::Unsubscribed | PresenceType::Error => {
            XmppAction::Ignore
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn section_3_rows() {
        let rows = [
            (PresenceType::Available, XmppAction::Publish),
            (PresenceType::Unavailable, XmppAction::Unpublish),
            (PresenceType::Subscribe, XmppAction::Subscribe),
            (PresenceType::Unsubscribe, XmppAction::Unsubscribe),
            (PresenceType::Probe, XmppAction::AnswerProbe),
            (PresenceType::Subscribed, XmppAction::Ignore),
            (PresenceType::Unsubscribed, XmppAction::Ignore),
            (PresenceType::Error, XmppAction::Ignore),
        ];
        for (kind, action) in rows {
            assert_eq!(xmpp_presence_action(kind), action, "{kind:?}");
        }
    }
}
