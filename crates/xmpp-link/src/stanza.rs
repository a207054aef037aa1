//! Stanzas the transport builds and reads: chat messages out, messages in, IQ error replies,
//! and the check that raw stanzas from other modules are safe to put on the stream.

use crate::escape::{push_attr, push_escaped};
use crate::plain_xml::{self, Event, unescape};

/// `urn:ietf:params:xml:ns:xmpp-stanzas`, the namespace of stanza error conditions.
pub const STANZA_ERRORS_NS: &str = "urn:ietf:params:xml:ns:xmpp-stanzas";

/// The stanza `xmessage` (and `xmpp_send_message()`) sends, as `xmpp_component.c` builds it:
/// `<message id from to type='chat'><body>body</body></message>`, everything escaped.
/// The addresses are already translated by the caller (`encode_uri_sip_xmpp(from)`,
/// `decode_uri_sip_xmpp(to)`); the id is the SIP From tag. Characters XML 1.0 forbids are
/// dropped from every value.
pub fn chat_message(id: &str, from: &str, to: &str, body: &str) -> String {
    let mut s = String::with_capacity(body.len() + from.len() + to.len() + id.len() + 64);
    s.push_str("<message");
    push_attr(&mut s, "id", id);
    push_attr(&mut s, "from", from);
    push_attr(&mut s, "to", to);
    s.push_str(" type='chat'><body>");
    push_escaped(&mut s, body, false);
    s.push_str("</body></message>");
    s
}

/// A `<message>` from XMPP that the transport turns into a SIP MESSAGE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundMessage {
    /// The sender JID (translate with `encode_uri_xmpp_sip`).
    pub from: String,
    /// The recipient JID (translate with `decode_uri_xmpp_sip`).
    pub to: String,
    /// The text of the first `<body>` child (empty for `<body/>`).
    pub body: String,
    /// The stanza id, if any.
    pub id: Option<String>,
}

impl InboundMessage {
    /// Reads a message stanza the way `xmpp_component.c` does, `None` where it drops it:
    /// not a `<message>`, `type='error'` (a missing type counts as `chat`), or no `from`, `to`
    /// or direct `<body>` child.
    pub fn parse(stanza: &str) -> Option<Self> {
        match Self::parse_plain(stanza) {
            Some(read) => read,
            None => Self::parse_dom(stanza),
        }
    }

    /// [`InboundMessage::parse`] for a plain stanza ([`crate::plain_xml`]); `None` when not
    /// sure (not plain, or a value whose whitespace roxmltree would normalise).
    fn parse_plain(stanza: &str) -> Option<Option<Self>> {
        // The root's name and its from, to, id and type.
        let mut root: Option<(&str, [Option<&str>; 4])> = None;
        // 0: before the first <body>, 1: inside it, 2: after it.
        let mut body_state = 0;
        let mut body = String::new();
        let mut unsure = false;
        plain_xml::scan(stanza, |event| match event {
            Event::Start {
                name,
                attributes,
                depth: 1,
            } => {
                let mut values = [None; 4];
                for (name, raw) in attributes {
                    if let Some(i) = ["from", "to", "id", "type"].iter().position(|n| n == name) {
                        values[i] = Some(*raw);
                    }
                }
                root = Some((name, values));
            }
            Event::Start {
                name: "body",
                attributes,
                depth: 2,
            } if body_state == 0 => {
                // A body in another namespace is not the message's body: let the DOM decide.
                unsure |= attributes.iter().any(|(n, _)| *n == "xmlns");
                body_state = 1;
            }
            Event::Text { raw, depth: 2 } if body_state == 1 => {
                // roxmltree turns CR and CR LF into LF.
                unsure |= raw.contains('\r');
                body.push_str(&unescape(raw));
            }
            Event::End { depth: 2 } if body_state == 1 => body_state = 2,
            _ => {}
        })
        .filter(|_| !unsure)?;
        let (name, [from, to, id, kind]) = root?;
        // roxmltree turns TAB, LF and CR in attribute values into spaces.
        if [from, to, id]
            .iter()
            .flatten()
            .any(|v| v.contains(['\t', '\n', '\r']))
        {
            return None;
        }
        if name != "message" || kind.is_some_and(|t| unescape(t) == "error") || body_state == 0 {
            return Some(None);
        }
        let (Some(from), Some(to)) = (from, to) else {
            return Some(None);
        };
        Some(Some(Self {
            from: unescape(from).into_owned(),
            to: unescape(to).into_owned(),
            body,
            id: id.map(|i| unescape(i).into_owned()),
        }))
    }

    /// [`InboundMessage::parse`] through roxmltree's DOM.
    fn parse_dom(stanza: &str) -> Option<Self> {
        let doc = roxmltree::Document::parse(stanza).ok()?;
        let root = doc.root_element();
        if root.tag_name().name() != "message" || root.attribute("type") == Some("error") {
            return None;
        }
        let body = root.children().find(|n| {
            n.is_element()
                && n.tag_name().name() == "body"
                && n.tag_name().namespace() == root.tag_name().namespace()
        })?;
        Some(Self {
            from: root.attribute("from")?.to_owned(),
            to: root.attribute("to")?.to_owned(),
            body: body
                .children()
                .filter(|n| n.is_text())
                .filter_map(|n| n.text())
                .collect(),
            id: root.attribute("id").map(str::to_owned),
        })
    }
}

/// The RFC 6120 8.3.3.19 reply to an `<iq>` of type `get` or `set` that nobody handles:
/// from and to swapped, same id, `type='error'`, `<error type='cancel'><service-unavailable/>`.
/// `None` for anything else (never answer a `result` or `error`), and for an IQ without `id`,
/// `from` or `to` (a reply could not be routed or matched).
pub fn service_unavailable_reply(stanza: &str) -> Option<String> {
    let doc = roxmltree::Document::parse(stanza).ok()?;
    let root = doc.root_element();
    if root.tag_name().name() != "iq" || !matches!(root.attribute("type"), Some("get" | "set")) {
        return None;
    }
    let (id, from, to) = (
        root.attribute("id")?,
        root.attribute("from")?,
        root.attribute("to")?,
    );
    let mut s = String::from("<iq type='error'");
    push_attr(&mut s, "from", to);
    push_attr(&mut s, "to", from);
    push_attr(&mut s, "id", id);
    s.push_str("><error type='cancel'><service-unavailable xmlns='");
    s.push_str(STANZA_ERRORS_NS);
    s.push_str("'/></error></iq>");
    Some(s)
}

/// Why a raw outbound stanza was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotAStanza(pub String);

impl std::fmt::Display for NotAStanza {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "not a single well-formed stanza: {}", self.0)
    }
}

impl std::error::Error for NotAStanza {}

/// Checks that `xml` (from `xpacket`, `xsubscribe`, `xnotify`, written to the stream as it is)
/// is exactly one well-formed element with no XML declaration, DTD, or NUL: anything else
/// would make the server close the whole link.
pub fn check_outbound(xml: &str) -> Result<(), NotAStanza> {
    let trimmed = xml.trim_start();
    if !trimmed.starts_with('<') || trimmed.starts_with("<?") || trimmed.starts_with("<!") {
        return Err(NotAStanza("does not start with an element".into()));
    }
    if xml.contains('\0') {
        return Err(NotAStanza("NUL byte".into()));
    }
    if crate::plain_xml::plain_root(xml).is_some() {
        return Ok(());
    }
    roxmltree::Document::parse(xml)
        .map(drop)
        .map_err(|e| NotAStanza(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_message_escapes_everything() {
        assert_eq!(
            chat_message("t'1", "a*b@x", "c@d", "1 < 2 & \"q\"\u{7}"),
            "<message id='t&apos;1' from='a*b@x' to='c@d' type='chat'><body>1 &lt; 2 &amp; \"q\"</body></message>"
        );
    }

    #[test]
    fn inbound_message_like_c() {
        let m = InboundMessage::parse(
            "<message from='a@b/r' to='u*d@gw' id='7'><subject>s</subject><body>x &amp; <![CDATA[<y>]]></body><body>2nd</body></message>",
        )
        .unwrap();
        assert_eq!((m.from.as_str(), m.to.as_str()), ("a@b/r", "u*d@gw"));
        assert_eq!((m.body.as_str(), m.id.as_deref()), ("x & <y>", Some("7")));
        let empty = InboundMessage::parse("<message from='a' to='b' type='chat'><body/></message>");
        assert_eq!(empty.unwrap().body, "");
        for dropped in [
            "<message from='a' to='b' type='error'><body>x</body></message>",
            "<message to='b'><body>x</body></message>",
            "<message from='a'><body>x</body></message>",
            "<message from='a' to='b'><x><body>deep</body></x></message>",
            "<presence from='a' to='b'><body>x</body></presence>",
            "<message from='a' to='b'><b:body xmlns:b='urn:other'>x</b:body></message>",
            "not xml",
        ] {
            assert_eq!(InboundMessage::parse(dropped), None, "{dropped}");
        }
    }

    #[test]
    fn iq_get_set_get_service_unavailable() {
        assert_eq!(
            service_unavailable_reply(
                "<iq type='get' id='v1' from='a@b/r' to='gw.example'><query xmlns='jabber:iq:version'/></iq>"
            )
            .as_deref(),
            Some(
                "<iq type='error' from='gw.example' to='a@b/r' id='v1'><error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"
            )
        );
        assert!(service_unavailable_reply("<iq type='set' id='&amp;' from='a' to='b'/>").is_some());
        for none in [
            "<iq type='result' id='1' from='a' to='b'/>",
            "<iq type='error' id='1' from='a' to='b'/>",
            "<iq id='1' from='a' to='b'/>",
            "<iq type='get' from='a' to='b'/>",
            "<iq type='get' id='1' to='b'/>",
            "<message type='get' id='1' from='a' to='b'/>",
        ] {
            assert_eq!(service_unavailable_reply(none), None, "{none}");
        }
    }

    #[test]
    fn outbound_check() {
        assert!(check_outbound("<presence from='a' to='b'><show>away</show></presence>").is_ok());
        for bad in [
            "",
            "text",
            "<?xml version='1.0'?><presence/>",
            "<!DOCTYPE x><x/>",
            "<a><b></a>",
            "<a/><b/>",
            "<a/>\0",
            "<x:a/>",
        ] {
            assert!(check_outbound(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn plain_messages_are_read_without_the_dom() {
        let chat = "<message from='carol@xmpp.example/laptop' to='alice*sip.example@gw' type='chat' id='c1' xml:lang='en'><body>It&apos;s 1 &lt; 2</body><active xmlns='http://jabber.org/protocol/chatstates'/></message>";
        let read = InboundMessage::parse_plain(chat).expect("plain");
        assert_eq!(read, InboundMessage::parse_dom(chat));
        assert_eq!(read.unwrap().body, "It's 1 < 2");
        for unsure in [
            "<message from='a' to='b'><body xmlns='urn:x'>x</body></message>",
            "<message from='a' to='b'><body>x\r\ny</body></message>",
            "<message from='a\tb' to='b'><body>x</body></message>",
            "<message from='a' to='b'><body><![CDATA[x]]></body></message>",
        ] {
            assert_eq!(InboundMessage::parse_plain(unsure), None, "{unsure:?}");
        }
    }

    fn message_like() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let value = prop_oneof![
            Just("a@b/r"),
            Just("error"),
            Just("chat"),
            Just("x&amp;y"),
            Just("t\tab"),
            Just(""),
        ];
        let child = prop_oneof![
            Just("<body>hi &lt;3</body>"),
            Just("<body/>"),
            Just("<body xmlns='urn:x'>other</body>"),
            Just("<body>a\r\nb</body>"),
            Just("<body>x<b>y</b>z</body>"),
            Just("<subject>s</subject>"),
            Just("<x><body>deep</body></x>"),
            Just("text"),
            Just("<![CDATA[c]]>"),
        ];
        (
            prop_oneof![Just("message"), Just("presence")],
            // Each attribute at most once (duplicates would not be XML), with any value.
            proptest::sample::subsequence(vec!["from", "to", "id", "type"], 0..=4),
            proptest::collection::vec(value, 4),
            proptest::collection::vec(child, 0..4),
        )
            .prop_map(|(name, attrs, values, children)| {
                let attrs: String = attrs
                    .iter()
                    .zip(values)
                    .map(|(n, v)| format!(" {n}='{v}'"))
                    .collect();
                format!("<{name}{attrs}>{}</{name}>", children.concat())
            })
    }

    proptest::proptest! {
        #[test]
        fn plain_reading_agrees_with_the_dom(xml in message_like()) {
            if let Some(read) = InboundMessage::parse_plain(&xml) {
                proptest::prop_assert_eq!(read, InboundMessage::parse_dom(&xml), "{}", xml);
            }
        }
    }
}
