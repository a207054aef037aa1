//! The XMPP side: reading a presence stanza from the server, and rendering the stanzas the
//! gateway sends (RFC 6120/6121).

use roxmltree::Node;

use crate::doc::{effective_lang, element_text, local, plain_attribute, with_root};
use crate::xml::{push_attr, push_text_element};
use crate::{LangText, Limits, PidfPresence, Show, TranslateError, limits::clean_status};

/// The presence `type` attribute (RFC 6121); `Available` is the stanza without one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PresenceType {
    Available,
    Unavailable,
    Subscribe,
    Subscribed,
    Unsubscribe,
    Unsubscribed,
    Probe,
    Error,
}

/// Every `type` value with its text; `Available` has none.
const PRESENCE_TYPES: [(PresenceType, &str); 7] = [
    (PresenceType::Unavailable, "unavailable"),
    (PresenceType::Subscribe, "subscribe"),
    (PresenceType::Subscribed, "subscribed"),
    (PresenceType::Unsubscribe, "unsubscribe"),
    (PresenceType::Unsubscribed, "unsubscribed"),
    (PresenceType::Probe, "probe"),
    (PresenceType::Error, "error"),
];

impl PresenceType {
    /// The `type` attribute value, None for `Available`.
    pub fn as_str(self) -> Option<&'static str> {
        PRESENCE_TYPES
            .iter()
            .find(|(kind, _)| *kind == self)
            .map(|&(_, text)| text)
    }

    /// The type for attribute value `s` (exact; RFC 6121 values are lower case), or None.
    pub fn parse(s: &str) -> Option<Self> {
        PRESENCE_TYPES
            .iter()
            .find(|(_, text)| *text == s)
            .map(|&(kind, _)| kind)
    }
}

/// A presence stanza received from the XMPP server. Texts are plain (unescaped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XmppPresence {
    pub kind: PresenceType,
    pub from: String,
    pub to: String,
    pub id: Option<String>,
    pub show: Option<Show>,
    pub statuses: Vec<LangText>,
    pub priority: Option<i8>,
}

/// Reads one presence stanza, in whatever default namespace the server uses.
pub fn parse_xmpp_presence(stanza: &[u8], limits: &Limits) -> Result<XmppPresence, TranslateError> {
    with_root(stanza, limits, "presence", read_presence)
}

fn read_presence(root: Node<'_, '_>) -> Result<XmppPresence, TranslateError> {
    // Attributes in no namespace only: the server stamps `from`, not a client's `x:from`.
    let required = |attribute: &'static str| match plain_attribute(root, attribute) {
        None => Err(TranslateError::MissingAttribute {
            element: "presence",
            attribute,
        }),
        Some(v) if v.trim().is_empty() => Err(TranslateError::Empty(attribute)),
        Some(v) => Ok(v.trim().to_owned()),
    };
    let from = required("from")?;
    let to = required("to")?;
    let kind = match plain_attribute(root, "type") {
        None => PresenceType::Available,
        Some(t) => PresenceType::parse(t).ok_or_else(|| TranslateError::InvalidValue {
            what: "presence type",
            value: t.to_owned(),
        })?,
    };
    let mut presence = XmppPresence {
        kind,
        from,
        to,
        id: plain_attribute(root, "id").map(str::to_owned),
        show: None,
        statuses: Vec::new(),
        priority: None,
    };
    // Only children in the stanza's own namespace: an extension's <status> is not ours.
    let ns = root.tag_name().namespace();
    for child in root
        .children()
        .filter(|n| n.is_element() && n.tag_name().namespace() == ns)
    {
        match local(child) {
            "show" if presence.show.is_none() => {
                presence.show = Show::parse(element_text(child).trim());
            }
            "status" => {
                let text = element_text(child);
                let text = clean_status(&text);
                if !text.is_empty() {
                    presence.statuses.push(LangText {
                        text: text.to_owned(),
                        lang: effective_lang(child).map(str::to_owned),
                    });
                }
            }
            "priority" if presence.priority.is_none() => {
                presence.priority = element_text(child).trim().parse().ok();
            }
            _ => {}
        }
    }
    Ok(presence)
}

/// Start of `<presence from='..' to='..'[ type='..']`, in a buffer sized for `extra` more bytes.
fn open_presence(from: &str, to: &str, kind: PresenceType, extra: usize) -> String {
    let mut out = String::with_capacity(48 + from.len() + to.len() + extra);
    out.push_str("<presence");
    push_attr(&mut out, "from", from);
    push_attr(&mut out, "to", to);
    if let Some(kind) = kind.as_str() {
        push_attr(&mut out, "type", kind);
    }
    out
}

/// The stanza for a translated NOTIFY. Unavailable presence carries statuses only: a show or
/// priority of an offline entity means nothing in XMPP.
pub fn pidf_to_stanza(from: &str, to: &str, pidf: &PidfPresence) -> String {
    let kind = if pidf.available {
        PresenceType::Available
    } else {
        PresenceType::Unavailable
    };
    let texts: usize = pidf.notes.iter().map(|n| n.text.len() + 40).sum();
    let mut out = open_presence(from, to, kind, texts + 64);
    let show = pidf.show.filter(|_| pidf.available);
    let priority = pidf.priority.filter(|_| pidf.available);
    if show.is_none() && priority.is_none() && pidf.notes.is_empty() {
        out.push_str("/>");
        return out;
    }
    out.push('>');
    if let Some(show) = show {
        push_text_element(&mut out, "show", show.as_str());
    }
    for note in &pidf.notes {
        out.push_str("<status");
        if let Some(lang) = &note.lang {
            push_attr(&mut out, "xml:lang", lang);
        }
        out.push('>');
        crate::escape_text(&mut out, &note.text);
        out.push_str("</status>");
    }
    if let Some(priority) = priority {
        push_text_element(&mut out, "priority", itoa(priority, &mut [0; 4]));
    }
    out.push_str("</presence>");
    out
}

/// `n` in decimal, written into `buf` (no allocation).
fn itoa(n: i8, buf: &mut [u8; 4]) -> &str {
    let mut len = 0;
    if n < 0 {
        buf[0] = b'-';
        len = 1;
    }
    let abs = n.unsigned_abs();
    for (digit, show) in [
        (abs / 100, abs >= 100),
        ((abs / 10) % 10, abs >= 10),
        (abs % 10, true),
    ] {
        if show {
            buf[len] = b'0' + digit;
            len += 1;
        }
    }
    std::str::from_utf8(&buf[..len]).unwrap_or_default()
}

/// A childless presence stanza, e.g. `<presence from='a' to='b' type='subscribe'/>`.
pub fn presence_stanza(from: &str, to: &str, kind: PresenceType) -> String {
    let mut out = open_presence(from, to, kind, 2);
    out.push_str("/>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(xml: &str) -> Result<XmppPresence, TranslateError> {
        parse_xmpp_presence(xml.as_bytes(), &Limits::default())
    }

    fn text(text: &str, lang: Option<&str>) -> LangText {
        LangText {
            text: text.into(),
            lang: lang.map(Into::into),
        }
    }

    #[test]
    fn type_rows() {
        let rows = [
            (None, PresenceType::Available),
            (Some("unavailable"), PresenceType::Unavailable),
            (Some("subscribe"), PresenceType::Subscribe),
            (Some("subscribed"), PresenceType::Subscribed),
            (Some("unsubscribe"), PresenceType::Unsubscribe),
            (Some("unsubscribed"), PresenceType::Unsubscribed),
            (Some("probe"), PresenceType::Probe),
            (Some("error"), PresenceType::Error),
        ];
        for (attr, kind) in rows {
            assert_eq!(kind.as_str(), attr);
            if let Some(attr) = attr {
                assert_eq!(PresenceType::parse(attr), Some(kind));
                let xml = format!("<presence from='a@b/r' to='c@d' type='{attr}'/>");
                assert_eq!(parse(&xml).unwrap().kind, kind);
            }
        }
        assert_eq!(
            parse("<presence from='a' to='b'/>").unwrap().kind,
            PresenceType::Available
        );
        assert_eq!(PresenceType::parse("Subscribe"), None);
        assert_eq!(
            parse("<presence from='a' to='b' type='available'/>"),
            Err(TranslateError::InvalidValue {
                what: "presence type",
                value: "available".into()
            })
        );
    }

    #[test]
    fn reads_a_full_stanza() {
        let xml = "<presence xmlns='jabber:component:accept' from='juliet@example.com/balcony' \
            to='romeo*example.net@sip.example.org' id='p1' xml:lang='en'>\
            <show>dnd</show><status>Busy</status><status xml:lang='cs'>Zaneprázdněn</status>\
            <priority>5</priority><c xmlns='http://jabber.org/protocol/caps' node='n' ver='v'/>\
            </presence>";
        assert_eq!(
            parse(xml).unwrap(),
            XmppPresence {
                kind: PresenceType::Available,
                from: "juliet@example.com/balcony".into(),
                to: "romeo*example.net@sip.example.org".into(),
                id: Some("p1".into()),
                show: Some(Show::Dnd),
                statuses: vec![text("Busy", Some("en")), text("Zaneprázdněn", Some("cs"))],
                priority: Some(5),
            }
        );
    }

    #[test]
    fn namespaced_attributes_do_not_stand_in_for_ours() {
        let xml = "<presence xmlns:x='urn:x' x:from='victim@example.com' from='mallory@example.net' \
                   x:to='z' to='b' x:type='unavailable' x:id='q'/>";
        let p = parse(xml).unwrap();
        assert_eq!(
            (p.from.as_str(), p.to.as_str(), p.kind, p.id),
            ("mallory@example.net", "b", PresenceType::Available, None)
        );
        assert_eq!(
            parse("<presence xmlns:x='urn:x' x:from='victim@example.com' to='b'/>"),
            Err(TranslateError::MissingAttribute {
                element: "presence",
                attribute: "from"
            })
        );
    }

    #[test]
    fn priority_rows() {
        let rows = [
            ("0", Some(0)),
            ("127", Some(127)),
            ("-128", Some(-128)),
            (" 7 ", Some(7)),
            ("128", None),
            ("-129", None),
            ("1.5", None),
            ("", None),
            ("high", None),
        ];
        for (value, priority) in rows {
            let xml = format!("<presence from='a' to='b'><priority>{value}</priority></presence>");
            assert_eq!(parse(&xml).unwrap().priority, priority, "{value}");
        }
    }

    #[test]
    fn show_rows() {
        for (value, show) in [
            ("away", Some(Show::Away)),
            ("chat", Some(Show::Chat)),
            ("dnd", Some(Show::Dnd)),
            ("xa", Some(Show::Xa)),
            ("online", None),
            ("", None),
        ] {
            let xml = format!("<presence from='a' to='b'><show>{value}</show></presence>");
            assert_eq!(parse(&xml).unwrap().show, show, "{value}");
        }
    }

    #[test]
    fn foreign_namespace_children_are_ignored() {
        let xml = "<presence xmlns='jabber:client' from='a' to='b'>\
            <status xmlns='urn:other'>no</status><x xmlns='urn:x'><status>nested</status></x>\
            <status>yes</status></presence>";
        assert_eq!(parse(xml).unwrap().statuses, vec![text("yes", None)]);
    }

    #[test]
    fn required_attributes() {
        assert_eq!(
            parse("<presence to='b'/>"),
            Err(TranslateError::MissingAttribute {
                element: "presence",
                attribute: "from"
            })
        );
        assert_eq!(
            parse("<presence from='a'/>"),
            Err(TranslateError::MissingAttribute {
                element: "presence",
                attribute: "to"
            })
        );
        assert_eq!(
            parse("<presence from=' ' to='b'/>"),
            Err(TranslateError::Empty("from"))
        );
        assert_eq!(
            parse("<presence from='a' to=''/>"),
            Err(TranslateError::Empty("to"))
        );
        assert_eq!(
            parse("<message from='a' to='b'/>"),
            Err(TranslateError::UnexpectedRoot {
                expected: "presence",
                found: "message".into()
            })
        );
    }

    #[test]
    fn renders_translated_notify() {
        let pidf = PidfPresence {
            available: true,
            show: Some(Show::Away),
            notes: vec![text("Lunch & <b>", Some("en")), text("Oběd", None)],
            priority: Some(-5),
        };
        assert_eq!(
            pidf_to_stanza("a@b", "c'd@e", &pidf),
            "<presence from='a@b' to='c&apos;d@e'><show>away</show>\
             <status xml:lang='en'>Lunch &amp; &lt;b&gt;</status><status>Oběd</status>\
             <priority>-5</priority></presence>"
        );
    }

    #[test]
    fn renders_unavailable_without_show_or_priority() {
        let mut pidf = PidfPresence {
            available: false,
            show: Some(Show::Dnd),
            notes: vec![],
            priority: Some(1),
        };
        assert_eq!(
            pidf_to_stanza("a", "b", &pidf),
            "<presence from='a' to='b' type='unavailable'/>"
        );
        pidf.notes.push(text("gone", None));
        assert_eq!(
            pidf_to_stanza("a", "b", &pidf),
            "<presence from='a' to='b' type='unavailable'><status>gone</status></presence>"
        );
        pidf.available = true;
        pidf.notes.clear();
        assert_eq!(
            pidf_to_stanza("a", "b", &pidf),
            "<presence from='a' to='b'><show>dnd</show><priority>1</priority></presence>"
        );
    }

    #[test]
    fn renders_childless_stanzas() {
        assert_eq!(
            presence_stanza("a@b", "c@d", PresenceType::Subscribe),
            "<presence from='a@b' to='c@d' type='subscribe'/>"
        );
        assert_eq!(
            presence_stanza("a", "b", PresenceType::Available),
            "<presence from='a' to='b'/>"
        );
        assert_eq!(
            presence_stanza("a\"<", "b", PresenceType::Unsubscribed),
            "<presence from='a&quot;&lt;' to='b' type='unsubscribed'/>"
        );
    }

    #[test]
    fn itoa_covers_the_range() {
        for n in i8::MIN..=i8::MAX {
            assert_eq!(itoa(n, &mut [0; 4]), n.to_string());
        }
    }
}
