//! Replies to the gateway's SUBSCRIBEs (pua reply callback; docs/behaviour.md section 4 and "Ending or
//! refreshing a gateway subscription"): every reply updates the remembered remote contact; a
//! reply to an XMPP-originated initial SUBSCRIBE also becomes `subscribed` or an error stanza.

use kamailio_module::Reply;
use kamailio_module::pua::UaPresView;
use kamailio_module::pv::PvRead;
use kamailio_module::sys::{PRESENCE_EVENT, XMPP_INITIAL_SUBS};
use kamailio_module::xmpp::{StanzaKind, Translate};
use sip_xmpp_presence::{PresenceType, SipMessage, StartLine, error_presence, presence_stanza};

use super::dialogs::DialogId;
use super::{FlowError, Gateway};

/// What the flow needs of a reply.
#[derive(Debug, PartialEq, Eq)]
pub struct ReplyInfo {
    pub code: u16,
    pub reason: String,
    pub contact: Option<String>,
    /// The granted expiry: 0 when the subscription ended.
    pub expires: Option<u32>,
    pub call_id: Option<String>,
    /// The From tag: pua's, the gateway's end of the dialog.
    pub local_tag: Option<String>,
    /// The To tag: the notifier's.
    pub remote_tag: Option<String>,
}

pub fn reply_info(raw: &[u8]) -> Result<ReplyInfo, FlowError> {
    let sip =
        SipMessage::parse(raw).map_err(|e| FlowError::Input(format!("unreadable reply: {e}")))?;
    let StartLine::Response { code, reason } = sip.start_line else {
        return Err(FlowError::Input("the reply is a request".into()));
    };
    Ok(ReplyInfo {
        code,
        reason: reason.to_string(),
        contact: sip.contact().map(str::to_string),
        expires: sip.header("Expires").and_then(|e| e.trim().parse().ok()),
        call_id: sip.call_id().map(str::to_string),
        local_tag: sip.from().and_then(|a| a.tag).map(str::to_string),
        remote_tag: sip.to().and_then(|a| a.tag).map(str::to_string),
    })
}

pub fn handle(
    gw: &Gateway,
    subscription: &UaPresView<'_>,
    reply: &Reply<'_>,
) -> Result<(), FlowError> {
    let info = match reply {
        Reply::Faked => ReplyInfo {
            code: 408,
            reason: "Request Timeout".into(),
            contact: None,
            expires: None,
            call_id: None,
            local_tag: None,
            remote_tag: None,
        },
        Reply::Missing => return Err(FlowError::Input("pua passed no reply".into())),
        Reply::Message(msg) => gw.raw_message.read(msg, |raw| match raw {
            PvRead::Str(bytes) => reply_info(bytes),
            _ => Err(FlowError::Input(
                "the host returned no raw reply ($mb)".into(),
            )),
        })??,
    };
    let (pres_uri, watcher_uri, event) = (
        subscription.pres_uri(),
        subscription.watcher_uri(),
        subscription.event(),
    );
    // Opened to answer a probe: the user asked nothing, so the reply tells nothing.
    let quiet = gw
        .dialogs
        .get(event, pres_uri, watcher_uri)
        .is_some_and(|k| k.quiet);
    match (info.code, &info.contact) {
        (200..=299, Some(contact)) if info.expires != Some(0) => {
            // A 2xx without them is no valid SIP; the contact alone is still worth keeping.
            fn bytes(s: &Option<String>) -> &[u8] {
                s.as_deref().unwrap_or("").as_bytes()
            }
            let id = DialogId {
                call_id: bytes(&info.call_id),
                local_tag: bytes(&info.local_tag),
                remote_tag: bytes(&info.remote_tag),
            };
            gw.dialogs
                .remember(event, pres_uri, watcher_uri, contact.as_bytes(), &id)
        }
        (200.., _) => gw.dialogs.forget(event, pres_uri, watcher_uri),
        _ => {}
    }
    if subscription.flag() & XMPP_INITIAL_SUBS == 0 || event != PRESENCE_EVENT || info.code < 200 {
        return Ok(());
    }
    if quiet {
        log::debug!(
            "reply {} to the subscription opened for a probe of <{}>: no stanza",
            info.code,
            String::from_utf8_lossy(pres_uri)
        );
        return Ok(());
    }
    let pres_uri = String::from_utf8_lossy(pres_uri);
    let watcher_uri = String::from_utf8_lossy(watcher_uri);
    let from = gw.translate(Translate::EncodeSipToXmpp, "the SIP contact", &pres_uri)?;
    let to = gw.translate(
        Translate::DecodeSipToXmpp,
        "the XMPP subscriber",
        &watcher_uri,
    )?;
    let stanza = if info.code < 300 {
        presence_stanza(&from, &to, PresenceType::Subscribed)
    } else {
        error_presence(&from, &to, info.code, Some(&info.reason))
    };
    gw.xmpp.send(StanzaKind::Packet, &from, &to, &stanza)?;
    Ok(())
}
