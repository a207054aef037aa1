//! XMPP presence -> SIP (the xmpp module's XMPP_RCV_PRESENCE callback; docs/behaviour.md
//! section 3): availability becomes a PUBLISH per XMPP resource, subscribe/unsubscribe become
//! SUBSCRIBEs, a probe is answered from what the gateway holds. Runs in the xmpp module's own
//! process.

use kamailio_module::clock::monotonic_ms;
use kamailio_module::pua::{Publish, Subscribe};
use kamailio_module::sys::{PRESENCE_EVENT, XMPP_INITIAL_SUBS, XMPP_PUBLISH};
use kamailio_module::xmpp::{StanzaKind, Translate};
use sip_xmpp_presence::{
    KnownSubscription, ProbeAnswer, Publication, XmppAction, XmppPresence, parse_xmpp_presence,
    pidf_to_stanza, probe_answer, render_pidf, resource_id, split_jid, xmpp_presence_action,
};

use super::dialogs::Opened;
use super::{FlowError, Gateway, lifecycle, shorten};

const PIDF_CONTENT_TYPE: &[u8] = b"application/pidf+xml";

pub fn handle(gw: &Gateway, stanza: &[u8]) -> Result<(), FlowError> {
    let presence = parse_xmpp_presence(stanza, &gw.limits)
        .map_err(|e| FlowError::Input(format!("bad XMPP presence: {e}")))?;
    match xmpp_presence_action(presence.kind) {
        XmppAction::Publish => publish(gw, &presence),
        XmppAction::Unpublish => unpublish(gw, &presence),
        XmppAction::Subscribe => subscribe(gw, &presence, -1),
        XmppAction::Unsubscribe => subscribe(gw, &presence, 0),
        XmppAction::AnswerProbe => answer_probe(gw, &presence),
        XmppAction::Ignore => {
            log::debug!(
                "XMPP presence of type {:?} from <{}>: nothing to do on the SIP side",
                presence.kind,
                shorten(&presence.from)
            );
            Ok(())
        }
    }
}

/// The publication id of an XMPP resource: one publication per resource, so two devices of
/// one user do not overwrite each other.
fn publication_id(resource: Option<&str>) -> String {
    format!("xmpp-{}", resource_id(resource))
}

/// PUBLISH of `body` (expires -1) or, without a body, its withdrawal (expires 0).
pub fn send_publication(
    gw: &Gateway,
    pres_uri: &str,
    id: &str,
    body: Option<&str>,
) -> Result<(), FlowError> {
    gw.pua.send_publish(&Publish {
        id: id.as_bytes(),
        pres_uri: pres_uri.as_bytes(),
        body: body.map(str::as_bytes),
        content_type: PIDF_CONTENT_TYPE,
        expires: if body.is_some() { -1 } else { 0 },
        source_flag: XMPP_PUBLISH,
        event: PRESENCE_EVENT,
        outbound_proxy: gw.outbound_proxy(),
    })?;
    Ok(())
}

fn publish(gw: &Gateway, presence: &XmppPresence) -> Result<(), FlowError> {
    let (bare, resource) = split_jid(&presence.from);
    let pres_uri = gw.translate(Translate::EncodeXmppToSip, "the XMPP sender", bare)?;
    let id = publication_id(resource);
    let body = render_pidf(&pres_uri, resource, presence);
    send_publication(gw, &pres_uri, &id, Some(&body))?;
    let (gateway_jid, _) = split_jid(&presence.to);
    lifecycle::published(
        gw,
        bare,
        Publication {
            id,
            pres_uri,
            gateway_jid: gateway_jid.to_string(),
            withdrawn: false,
        },
    );
    Ok(())
}

/// Withdraws the resource's publication; an unavailable from the bare JID (every resource gone,
/// as a server answers a probe for an offline user) withdraws every publication of the user.
fn unpublish(gw: &Gateway, presence: &XmppPresence) -> Result<(), FlowError> {
    let (bare, resource) = split_jid(&presence.from);
    let pres_uri = gw.translate(Translate::EncodeXmppToSip, "the XMPP sender", bare)?;
    let id = publication_id(resource);
    if resource.is_some() {
        lifecycle::unpublished(gw, bare, &id);
        return send_publication(gw, &pres_uri, &id, None);
    }
    let gone = lifecycle::user_gone(gw, bare);
    if gone.is_empty() {
        return send_publication(gw, &pres_uri, &id, None);
    }
    for p in &gone {
        send_publication(gw, &p.pres_uri, &p.id, None)?;
    }
    Ok(())
}

/// The XMPP user (watcher) and the SIP contact (presentity) of a stanza to the gateway.
fn pair(gw: &Gateway, presence: &XmppPresence) -> Result<(String, String), FlowError> {
    let (bare_from, _) = split_jid(&presence.from);
    let (bare_to, _) = split_jid(&presence.to);
    Ok((
        gw.translate(Translate::EncodeXmppToSip, "the XMPP subscriber", bare_from)?,
        gw.translate(Translate::DecodeXmppToSip, "the SIP contact", bare_to)?,
    ))
}

fn send_subscribe(
    gw: &Gateway,
    watcher: &str,
    pres_uri: &str,
    remote_target: Option<&[u8]>,
    expires: i32,
) -> Result<(), FlowError> {
    gw.pua.send_subscribe(&Subscribe {
        pres_uri: pres_uri.as_bytes(),
        watcher_uri: watcher.as_bytes(),
        contact: gw.config.server_address.as_bytes(),
        remote_target,
        outbound_proxy: gw.outbound_proxy(),
        event: PRESENCE_EVENT,
        expires,
        source_flag: XMPP_INITIAL_SUBS,
    })?;
    Ok(())
}

/// subscribe (expires -1) or unsubscribe (expires 0) from the XMPP user to a SIP contact. An
/// existing gateway dialog is refreshed or ended through its remembered remote contact.
fn subscribe(gw: &Gateway, presence: &XmppPresence, expires: i32) -> Result<(), FlowError> {
    let (watcher, pres_uri) = pair(gw, presence)?;
    let (pres, watch) = (pres_uri.as_bytes(), watcher.as_bytes());
    let remote_target = gw.dialogs.remote_contact(PRESENCE_EVENT, pres, watch);
    if expires == 0 {
        if remote_target.is_none() {
            log::info!(
                "unsubscribe from <{}> to <{}>: no gateway subscription is known; pua is asked anyway",
                shorten(&watcher),
                shorten(&pres_uri)
            );
        }
        send_subscribe(gw, &watcher, &pres_uri, remote_target.as_deref(), 0)?;
        gw.dialogs.forget(PRESENCE_EVENT, pres, watch);
        return Ok(());
    }
    // Noted before the SUBSCRIBE leaves, so that a probe arriving before its reply does not
    // open a second dialog.
    gw.dialogs.open(PRESENCE_EVENT, pres, watch, false);
    send_subscribe(gw, &watcher, &pres_uri, remote_target.as_deref(), -1)
}

/// A probe (the user's server, at the user's login): answered with the presence held for the
/// pair, or by opening the one subscription the gateway lost.
fn answer_probe(gw: &Gateway, presence: &XmppPresence) -> Result<(), FlowError> {
    let (watcher, pres_uri) = pair(gw, presence)?;
    let (pres, watch) = (pres_uri.as_bytes(), watcher.as_bytes());
    let known = gw.dialogs.get(PRESENCE_EVENT, pres, watch);
    let state = known
        .as_ref()
        .map_or(KnownSubscription::None, |k| k.state(monotonic_ms()));
    match probe_answer(state) {
        ProbeAnswer::SendHeld => {
            let Some(held) = known.as_ref().and_then(|k| k.held_presence()) else {
                return Err(FlowError::Input("the held presence is unreadable".into()));
            };
            let stanza = pidf_to_stanza(&presence.to, &presence.from, &held);
            gw.xmpp
                .send(StanzaKind::Notify, &presence.to, &presence.from, &stanza)?;
            log::debug!(
                "probe from <{}>: answered with the held presence of <{}>",
                shorten(&presence.from),
                shorten(&pres_uri)
            );
        }
        ProbeAnswer::AwaitFirstNotify => log::debug!(
            "probe from <{}>: the first NOTIFY of <{}> will answer",
            shorten(&presence.from),
            shorten(&pres_uri)
        ),
        ProbeAnswer::OpenSubscription => match gw.dialogs.open(PRESENCE_EVENT, pres, watch, true) {
            Opened::New => {
                log::info!(
                    "probe from <{}>: no gateway subscription to <{}> is known; opening one",
                    shorten(&presence.from),
                    shorten(&pres_uri)
                );
                if let Err(e) = send_subscribe(gw, &watcher, &pres_uri, None, -1) {
                    gw.dialogs.forget(PRESENCE_EVENT, pres, watch);
                    return Err(e);
                }
            }
            Opened::Existing => {}
            Opened::Full => {
                log::warn!(
                    "probe from <{}> to <{}> not answered: the subscription table is full \
                     (raise modparam max_subscriptions)",
                    shorten(&presence.from),
                    shorten(&pres_uri)
                );
            }
        },
    }
    Ok(())
}
