//! SIP final response code -> XMPP stanza error (docs/behaviour.md section 4: RFC 7247 section 8
//! conditions with RFC 6120 error types), and the error presence stanza.

use std::fmt::Write;

use crate::limits::clean_status;
use crate::xml::{escape_text, push_attr};
use crate::{PresenceType, presence_stanza};

/// RFC 6120 section 8.3.2 error types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorType {
    Cancel,
    Auth,
    Modify,
    Wait,
}

impl ErrorType {
    /// The `type` attribute value.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorType::Cancel => "cancel",
            ErrorType::Auth => "auth",
            ErrorType::Modify => "modify",
            ErrorType::Wait => "wait",
        }
    }
}

/// An RFC 6120 defined condition with its error type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct XmppErrorCondition {
    pub condition: &'static str,
    pub kind: ErrorType,
}

const fn cond(condition: &'static str, kind: ErrorType) -> XmppErrorCondition {
    XmppErrorCondition { condition, kind }
}

/// The stanza error for SIP response `code` (>= 300).
// 500 is listed although its class default is the same, so the arms match the table row by row.
#[expect(clippy::match_overlapping_arm)]
pub fn sip_status_to_xmpp_error(code: u16) -> XmppErrorCondition {
    use ErrorType::*;
    match code {
        300 | 302 | 305 | 380 => cond("redirect", Modify),
        301 | 410 => cond("gone", Cancel),
        400 | 402 | 413 | 414 | 415 | 416 | 420 | 421 | 423 | 493 | 513 => {
            cond("bad-request", Modify)
        }
        401 | 407 => cond("not-authorized", Auth),
        403 => cond("forbidden", Auth),
        404 | 481 | 485 | 604 => cond("item-not-found", Cancel),
        405 => cond("not-allowed", Cancel),
        406 | 488 | 505 | 606 => cond("not-acceptable", Cancel),
        408 | 504 => cond("remote-server-timeout", Wait),
        480 | 486 => cond("recipient-unavailable", Wait),
        482 | 483 => cond("not-acceptable", Modify),
        484 => cond("jid-malformed", Modify),
        489 | 501 => cond("feature-not-implemented", Cancel),
        491 => cond("unexpected-request", Wait),
        500 => cond("internal-server-error", Wait),
        502 => cond("remote-server-not-found", Cancel),
        503 | 600 | 603 => cond("service-unavailable", Cancel),
        // Class defaults.
        300..=399 => cond("redirect", Modify),
        400..=499 => cond("bad-request", Modify),
        500..=599 => cond("internal-server-error", Wait),
        600..=699 => cond("service-unavailable", Cancel),
        _ => cond("undefined-condition", Cancel),
    }
}

const STANZAS_NS: &str = "urn:ietf:params:xml:ns:xmpp-stanzas";

/// `<presence type='error'>` for a SIP failure `code`; the `<text>` says
/// `SIP <code> <reason>` when the reason phrase is known.
pub fn error_presence(from: &str, to: &str, code: u16, reason: Option<&str>) -> String {
    let error = sip_status_to_xmpp_error(code);
    let reason = reason.map(clean_status);
    let mut out = String::with_capacity(256 + from.len() + to.len() + reason.map_or(0, str::len));
    out.push_str("<presence");
    push_attr(&mut out, "from", from);
    push_attr(&mut out, "to", to);
    out.push_str(" type='error'><error");
    push_attr(&mut out, "type", error.kind.as_str());
    out.push_str("><");
    out.push_str(error.condition);
    push_attr(&mut out, "xmlns", STANZAS_NS);
    out.push_str("/>");
    if let Some(reason) = reason {
        out.push_str("<text");
        push_attr(&mut out, "xmlns", STANZAS_NS);
        // Writing to a String cannot fail.
        let _ = write!(out, ">SIP {code}");
        if !reason.is_empty() {
            out.push(' ');
            escape_text(&mut out, reason);
        }
        out.push_str("</text>");
    }
    out.push_str("</error></presence>");
    out
}

/// The stanza answering an XMPP user's subscription request once the SIP SUBSCRIBE got its
/// final reply `code` (a local timeout is 408): 2xx `subscribed`, >= 300 an error presence,
/// anything else (provisional) nothing. `from` is the SIP contact as XMPP, `to` the user.
pub fn subscribe_reply_stanza(
    from: &str,
    to: &str,
    code: u16,
    reason: Option<&str>,
) -> Option<String> {
    match code {
        200..=299 => Some(presence_stanza(from, to, PresenceType::Subscribed)),
        300.. => Some(error_presence(from, to, code, reason)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ErrorType::*;

    /// docs/behaviour.md section 4, row by row.
    const TABLE: &[(&[u16], &str, ErrorType)] = &[
        (&[300, 302, 305, 380], "redirect", Modify),
        (&[301, 410], "gone", Cancel),
        (
            &[400, 402, 413, 414, 415, 416, 420, 421, 423, 493, 513],
            "bad-request",
            Modify,
        ),
        (&[401, 407], "not-authorized", Auth),
        (&[403], "forbidden", Auth),
        (&[404, 481, 485, 604], "item-not-found", Cancel),
        (&[405], "not-allowed", Cancel),
        (&[406, 488, 505, 606], "not-acceptable", Cancel),
        (&[408, 504], "remote-server-timeout", Wait),
        (&[480, 486], "recipient-unavailable", Wait),
        (&[482, 483], "not-acceptable", Modify),
        (&[484], "jid-malformed", Modify),
        (&[489, 501], "feature-not-implemented", Cancel),
        (&[491], "unexpected-request", Wait),
        (&[500], "internal-server-error", Wait),
        (&[502], "remote-server-not-found", Cancel),
        (&[503, 600, 603], "service-unavailable", Cancel),
        // Class defaults: codes the table does not list.
        (&[303, 399], "redirect", Modify),
        (
            &[409, 411, 412, 417, 422, 428, 429, 487, 494, 499],
            "bad-request",
            Modify,
        ),
        (&[506, 580, 599], "internal-server-error", Wait),
        (&[601, 607, 699], "service-unavailable", Cancel),
        (
            &[0, 100, 180, 200, 299, 700, 999],
            "undefined-condition",
            Cancel,
        ),
    ];

    #[test]
    fn every_row() {
        for (codes, condition, kind) in TABLE {
            for &code in *codes {
                let expected = XmppErrorCondition {
                    condition,
                    kind: *kind,
                };
                assert_eq!(sip_status_to_xmpp_error(code), expected, "{code}");
            }
        }
    }

    #[test]
    fn subscribe_reply_rows() {
        let rows = [
            (100, None),
            (183, None),
            (200, Some("<presence from='s' to='u' type='subscribed'/>")),
            (202, Some("<presence from='s' to='u' type='subscribed'/>")),
            (
                408,
                Some(
                    "<presence from='s' to='u' type='error'><error type='wait'>\
                     <remote-server-timeout xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
                     </error></presence>",
                ),
            ),
        ];
        for (code, stanza) in rows {
            assert_eq!(
                subscribe_reply_stanza("s", "u", code, None).as_deref(),
                stanza,
                "{code}"
            );
        }
        let reply = subscribe_reply_stanza("s", "u", 603, Some("Decline")).unwrap();
        assert_eq!(reply, error_presence("s", "u", 603, Some("Decline")));
    }

    #[test]
    fn error_stanza_with_reason() {
        assert_eq!(
            error_presence(
                "bob*sip.example@xmpp.gw",
                "juliet@example.com",
                503,
                Some("Service Unavailable")
            ),
            "<presence from='bob*sip.example@xmpp.gw' to='juliet@example.com' type='error'>\
             <error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
             <text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>SIP 503 Service Unavailable</text>\
             </error></presence>"
        );
    }

    #[test]
    fn error_stanza_without_reason_and_escaped() {
        assert_eq!(
            error_presence("a", "b", 401, None),
            "<presence from='a' to='b' type='error'><error type='auth'>\
             <not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></presence>"
        );
        assert_eq!(
            error_presence("a", "b", 408, Some(" ")),
            "<presence from='a' to='b' type='error'><error type='wait'>\
             <remote-server-timeout xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
             <text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>SIP 408</text></error></presence>"
        );
        let xml = error_presence("a", "b", 404, Some("Not </text><x/> Found"));
        assert!(
            xml.contains(">SIP 404 Not &lt;/text&gt;&lt;x/&gt; Found</text>"),
            "{xml}"
        );
        roxmltree::Document::parse(&xml).unwrap();
    }
}
