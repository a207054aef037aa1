//! XMPP presence -> SIP (the xmpp module's XMPP_RCV_PRESENCE callback; GATEWAY.md section 3):
//! availability becomes a PUBLISH per XMPP resource, subscribe/unsubscribe become SUBSCRIBEs.
//! Runs in the xmpp module's own process.

use kamailio_module::pua::{Publish, Subscribe};
use kamailio_module::sys::{PRESENCE_EVENT, XMPP_INITIAL_SUBS, XMPP_PUBLISH};
use kamailio_module::xmpp::Translate;
use sip_xmpp_presence::{
    PresenceType, XmppPresence, parse_xmpp_presence, render_pidf, resource_id, split_jid,
};

use super::{FlowError, Gateway};

const PIDF_CONTENT_TYPE: &[u8] = b"application/pidf+xml";

pub fn handle(gw: &Gateway, stanza: &[u8]) -> Result<(), FlowError> {
    let presence = parse_xmpp_presence(stanza, &gw.limits)
        .map_err(|e| FlowError::Input(format!("bad XMPP presence: {e}")))?;
    match presence.kind {
        PresenceType::Available | PresenceType::Unavailable => publish(gw, &presence),
        PresenceType::Subscribe => subscribe(gw, &presence, -1),
        PresenceType::Unsubscribe => subscribe(gw, &presence, 0),
        // A server probes on every login: any SUBSCRIBE would create or end a subscription.
        kind => {
            log::debug!(
                "XMPP presence of type {:?} from <{}>: nothing to do on the SIP side",
                kind,
                super::shorten(&presence.from)
            );
            Ok(())
        }
    }
}

/// One publication per XMPP resource, so two devices of one user do not overwrite each other.
fn publish(gw: &Gateway, presence: &XmppPresence) -> Result<(), FlowError> {
    let (bare, resource) = split_jid(&presence.from);
    let pres_uri = gw.translate(Translate::EncodeXmppToSip, "the XMPP sender", bare)?;
    let id = format!("xmpp-{}", resource_id(resource));
    let available = presence.kind == PresenceType::Available;
    let body = available.then(|| render_pidf(&pres_uri, resource, presence));
    gw.pua.send_publish(&Publish {
        id: id.as_bytes(),
        pres_uri: pres_uri.as_bytes(),
        body: body.as_deref().map(str::as_bytes),
        content_type: PIDF_CONTENT_TYPE,
        expires: if available { -1 } else { 0 },
        source_flag: XMPP_PUBLISH,
        event: PRESENCE_EVENT,
        outbound_proxy: gw.outbound_proxy(),
    })?;
    Ok(())
}

/// subscribe (expires -1) or unsubscribe (expires 0) from the XMPP user to a SIP contact. An
/// existing gateway dialog is refreshed or ended through its remembered remote contact.
fn subscribe(gw: &Gateway, presence: &XmppPresence, expires: i32) -> Result<(), FlowError> {
    let (bare_from, _) = split_jid(&presence.from);
    let (bare_to, _) = split_jid(&presence.to);
    let watcher = gw.translate(Translate::EncodeXmppToSip, "the XMPP subscriber", bare_from)?;
    let pres_uri = gw.translate(Translate::DecodeXmppToSip, "the SIP contact", bare_to)?;
    let remote_target =
        gw.dialogs
            .remote_contact(PRESENCE_EVENT, pres_uri.as_bytes(), watcher.as_bytes());
    if expires == 0 && remote_target.is_none() {
        log::info!(
            "unsubscribe from <{}> to <{}>: no gateway subscription is known; pua is asked anyway",
            super::shorten(&watcher),
            super::shorten(&pres_uri)
        );
    }
    gw.pua.send_subscribe(&Subscribe {
        pres_uri: pres_uri.as_bytes(),
        watcher_uri: watcher.as_bytes(),
        contact: gw.config.server_address.as_bytes(),
        remote_target: remote_target.as_deref(),
        outbound_proxy: gw.outbound_proxy(),
        event: PRESENCE_EVENT,
        expires,
        source_flag: XMPP_INITIAL_SUBS,
    })?;
    if expires == 0 {
        gw.dialogs
            .forget(PRESENCE_EVENT, pres_uri.as_bytes(), watcher.as_bytes());
    }
    Ok(())
}
