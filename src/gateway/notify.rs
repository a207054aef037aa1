//! SIP NOTIFY -> XMPP (`pua_xmpp_notify()`): presence NOTIFYs become `<presence>` stanzas,
//! watcherinfo NOTIFYs become subscription requests to the XMPP user (docs/behaviour.md
//! section 1).

use kamailio_module::SipMsg;
use kamailio_module::pua::{DialogKey, DialogState};
use kamailio_module::pv::PvRead;
use kamailio_module::sys::{PRESENCE_EVENT, PWINFO_EVENT, XMPP_SUBSCRIBE};
use kamailio_module::xmpp::{StanzaKind, Translate};
use sip_xmpp_presence::{
    EventPackage, NotifyAction, PidfPresence, PresenceType, SipMessage, SubState, parse_event,
    parse_pidf, parse_subscription_state, parse_watcherinfo, pidf_to_stanza,
    presence_notify_action, presence_stanza, winfo_notify_action,
};

use super::dialogs::DialogId;
use super::{FlowError, Gateway};

/// What the NOTIFY flow did, for the log and the return value.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// This many stanzas went to the transport.
    Sent(usize),
    /// The presence was translated and held, not sent: the component link is down (it goes
    /// out when the link is back, unless a later NOTIFY supersedes it).
    Held,
    /// Deliberately not translated.
    NotTranslated(&'static str),
}

pub fn handle(gw: &Gateway, msg: &SipMsg<'_>) -> Result<Outcome, FlowError> {
    gw.raw_message.read(msg, |raw| match raw {
        PvRead::Str(bytes) => handle_raw(gw, bytes),
        _ => Err(FlowError::Input(
            "the host returned no raw message ($mb)".into(),
        )),
    })?
}

/// The NOTIFY flow on the raw message bytes.
pub fn handle_raw(gw: &Gateway, raw: &[u8]) -> Result<Outcome, FlowError> {
    let sip =
        SipMessage::parse(raw).map_err(|e| FlowError::Input(format!("unreadable NOTIFY: {e}")))?;
    let header = |name: &'static str| {
        sip.header(name)
            .ok_or_else(|| FlowError::Input(format!("NOTIFY without a {name} header")))
    };
    let event = parse_event(header("Event")?)
        .map_err(|e| FlowError::Input(format!("bad Event header: {e}")))?;
    let state = parse_subscription_state(header("Subscription-State")?)
        .map_err(|e| FlowError::Input(format!("bad Subscription-State header: {e}")))?;
    let from = sip
        .from()
        .ok_or_else(|| FlowError::Input("NOTIFY without a valid From header".into()))?;
    let to = sip
        .to()
        .ok_or_else(|| FlowError::Input("NOTIFY without a valid To header".into()))?;
    let call_id = header("Call-ID")?;
    // Without both tags the NOTIFY is outside any dialog, so outside every gateway
    // subscription (481), not a malformed request.
    let (Some(from_tag), Some(to_tag)) = (from.tag, to.tag) else {
        return Err(FlowError::UnknownDialog);
    };
    if sip.body.len() > gw.limits.max_body_size {
        return Err(FlowError::Input(format!(
            "NOTIFY body of {} bytes is over max_body_size ({})",
            sip.body.len(),
            gw.limits.max_body_size
        )));
    }
    let event_code = match event {
        EventPackage::Presence => PRESENCE_EVENT,
        EventPackage::PresenceWinfo => PWINFO_EVENT,
        EventPackage::Other(ref name) => {
            return Err(FlowError::Input(format!(
                "NOTIFY for event package \"{}\": the gateway handles presence and presence.winfo",
                super::shorten(name)
            )));
        }
    };
    // The presentity notifies the watcher: the watcher (To) is the gateway's subscriber.
    let dialog = DialogKey {
        watcher_uri: to.uri.as_bytes(),
        pres_uri: from.uri.as_bytes(),
        call_id: call_id.as_bytes(),
        local_tag: to_tag.as_bytes(),
        remote_tag: from_tag.as_bytes(),
        flag: XMPP_SUBSCRIBE,
        event: event_code,
    };
    let id = DialogId {
        call_id: dialog.call_id,
        local_tag: dialog.local_tag,
        remote_tag: dialog.remote_tag,
    };
    if !known_to_the_gateway(gw, event_code, &dialog, &id) {
        return Err(FlowError::UnknownDialog);
    }
    if state.state == SubState::Terminated {
        gw.dialogs
            .forget(event_code, dialog.pres_uri, dialog.watcher_uri);
    } else if gw.config.follow_notify_contact
        && let Some(contact) = sip.contact()
    {
        gw.dialogs.remember(
            event_code,
            dialog.pres_uri,
            dialog.watcher_uri,
            contact.as_bytes(),
            &id,
        );
    }
    let has_body = !sip.body.iter().all(u8::is_ascii_whitespace);
    match event {
        EventPackage::Presence => presence(
            gw,
            from.uri,
            to.uri,
            presence_notify_action(&state, has_body),
            sip.body,
            // A terminated subscription is forgotten above: nothing is held for it.
            state.state != SubState::Terminated,
        ),
        _ => winfo(
            gw,
            from.uri,
            winfo_notify_action(&state, has_body),
            sip.body,
        ),
    }
}

/// Whether the NOTIFY belongs to a gateway subscription. pua's lookup ignores the event and
/// compares Call-ID and tags only up to the length it stored (a longer Call-ID or tag still
/// matches), so where the 2xx of the subscription was seen, its exact dialog and event are
/// required first. Without that knowledge (a NOTIFY that overtook the 2xx, a full table,
/// dialogs pua restored from its database) pua's answer stands.
fn known_to_the_gateway(gw: &Gateway, event: i32, key: &DialogKey<'_>, id: &DialogId<'_>) -> bool {
    match gw.dialogs.get(event, key.pres_uri, key.watcher_uri) {
        Some(known) if !known.is(id) => return false,
        Some(_) => {}
        None => {
            let other = if event == PRESENCE_EVENT {
                PWINFO_EVENT
            } else {
                PRESENCE_EVENT
            };
            if gw
                .dialogs
                .get(other, key.pres_uri, key.watcher_uri)
                .is_some_and(|k| !k.call_id.is_empty() && k.call_id == id.call_id)
            {
                return false;
            }
        }
    }
    gw.pua.is_dialog(key) != DialogState::Unknown
}

/// Translates a presence NOTIFY; the availability it translates is held for the subscription
/// (`hold`), to answer probes and to be sent when the link is back.
fn presence(
    gw: &Gateway,
    pres_uri: &str,
    watcher_uri: &str,
    action: NotifyAction,
    body: &[u8],
    hold: bool,
) -> Result<Outcome, FlowError> {
    let pidf = match action {
        NotifyAction::Ignore => {
            return Ok(Outcome::NotTranslated("subscription state needs no stanza"));
        }
        NotifyAction::TranslateBody => Some(
            parse_pidf(body, &gw.limits)
                .map_err(|e| FlowError::Input(format!("bad PIDF body: {e}")))?,
        ),
        NotifyAction::SendUnavailable => Some(PidfPresence {
            available: false,
            show: None,
            notes: Vec::new(),
            priority: None,
        }),
        NotifyAction::SendUnsubscribed => None,
    };
    let (from, to) = addresses(gw, pres_uri, watcher_uri)?;
    let stanza = match &pidf {
        Some(pidf) => pidf_to_stanza(&from, &to, pidf),
        None => presence_stanza(&from, &to, PresenceType::Unsubscribed),
    };
    let held = hold && pidf.is_some();
    if let (true, Some(pidf)) = (held, &pidf) {
        gw.dialogs.hold(
            PRESENCE_EVENT,
            pres_uri.as_bytes(),
            watcher_uri.as_bytes(),
            pidf,
        );
        if gw.link.is_down() {
            return Ok(Outcome::Held);
        }
    }
    match gw.xmpp.send(StanzaKind::Notify, &from, &to, &stanza) {
        Ok(()) => Ok(Outcome::Sent(1)),
        // The link went down before the transport's report came: the presence is held and
        // goes out when the link is back.
        Err(e) if held => {
            log::info!("presence of <{}> held: {e}", super::shorten(pres_uri));
            Ok(Outcome::Held)
        }
        Err(e) => Err(e.into()),
    }
}

/// The presentity's XMPP alias (from) and the XMPP watcher (to).
fn addresses(
    gw: &Gateway,
    pres_uri: &str,
    watcher_uri: &str,
) -> Result<(String, String), FlowError> {
    Ok((
        gw.translate(Translate::EncodeSipToXmpp, "the presentity", pres_uri)?,
        gw.translate(Translate::DecodeSipToXmpp, "the watcher", watcher_uri)?,
    ))
}

/// watcherinfo: ask the XMPP user (the winfo presentity) to let each SIP watcher subscribe.
fn winfo(
    gw: &Gateway,
    user_uri: &str,
    action: NotifyAction,
    body: &[u8],
) -> Result<Outcome, FlowError> {
    if action != NotifyAction::TranslateBody {
        return Ok(Outcome::NotTranslated(
            "winfo subscription state needs no stanza",
        ));
    }
    let info = parse_watcherinfo(body, &gw.limits)
        .map_err(|e| FlowError::Input(format!("bad watcherinfo body: {e}")))?;
    let to = gw.translate(Translate::DecodeSipToXmpp, "the XMPP user", user_uri)?;
    let mut sent = 0;
    for watcher in info.watchers_to_request() {
        let from = match gw.translate(Translate::EncodeSipToXmpp, "the watcher", watcher) {
            Ok(f) => f,
            Err(e) => {
                log::warn!("skipping watcher: {e}");
                continue;
            }
        };
        let stanza = presence_stanza(&from, &to, PresenceType::Subscribe);
        gw.xmpp.send(StanzaKind::Subscribe, &from, &to, &stanza)?;
        sent += 1;
    }
    Ok(Outcome::Sent(sent))
}
