//! SIP SUBSCRIBE to an XMPP user -> a pua SUBSCRIBE for that user's watcherinfo
//! (`pua_xmpp_req_winfo(uri, expires)`, docs/behaviour.md section 2). The winfo NOTIFYs then become
//! XMPP subscription requests (see [`super::notify`]).

use kamailio_module::pua::Subscribe;
use kamailio_module::sys::{PWINFO_EVENT, XMPP_SUBSCRIBE};
use sip_xmpp_presence::parse_sip_uri;

use super::{FlowError, Gateway};

/// The `expires` argument: a printed `0` ends the winfo subscription, a positive number keeps
/// it that long, anything else (empty, absent, not a number) lets pua manage it (-1).
pub fn parse_expires(text: &[u8]) -> i32 {
    match std::str::from_utf8(text).map(str::trim) {
        Ok(t) if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) => {
            t.parse::<i32>().unwrap_or(i32::MAX)
        } // all digits: only too large fails
        _ => -1,
    }
}

pub fn handle(gw: &Gateway, uri: &[u8], expires: &[u8]) -> Result<(), FlowError> {
    let uri = std::str::from_utf8(uri)
        .map_err(|_| FlowError::Input("pua_xmpp_req_winfo: the URI is not UTF-8".into()))?
        .trim();
    parse_sip_uri(uri).map_err(|e| {
        FlowError::Input(format!(
            "pua_xmpp_req_winfo: <{}> is not a SIP URI with user and host: {e}",
            super::shorten(uri)
        ))
    })?;
    let expires = parse_expires(expires);
    let uri = uri.as_bytes();
    let remote_target = gw.dialogs.remote_contact(PWINFO_EVENT, uri, uri);
    gw.pua.send_subscribe(&Subscribe {
        pres_uri: uri,
        watcher_uri: uri,
        contact: gw.config.server_address.as_bytes(),
        remote_target: remote_target.as_deref(),
        outbound_proxy: gw.outbound_proxy(),
        event: PWINFO_EVENT,
        expires,
        source_flag: XMPP_SUBSCRIBE,
    })?;
    if expires == 0 {
        gw.dialogs.forget(PWINFO_EVENT, uri, uri);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_expires;

    #[test]
    fn expires_values() {
        for (text, want) in [
            ("0", 0),
            (" 0 ", 0),
            ("3600", 3600),
            ("", -1),
            ("abc", -1),
            ("-5", -1),
            ("99999999999", i32::MAX),
            ("12a", -1),
        ] {
            assert_eq!(parse_expires(text.as_bytes()), want, "{text:?}");
        }
    }
}
