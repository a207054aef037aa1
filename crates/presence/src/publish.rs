//! XMPP presence -> the PIDF document the gateway PUBLISHes for the user's SIP alias
//! (docs/behaviour.md section 3).

use crate::show::show_to_activity;
use crate::sip_uri::{parse_sip_uri, strip_angle_brackets};
use crate::xml::{escape_attr, escape_text, push_attr};
use crate::{PresenceType, XmppPresence};

/// Longest [`resource_id`] kept as it is. pua refuses a published tuple id of 50 characters or
/// more (and then publishes nothing), and the id goes into `t-<id>`.
pub const MAX_RESOURCE_ID: usize = 40;

/// A deterministic token usable in an XML id from an XMPP resource: ASCII letters, digits,
/// '-' and '.' are kept, every other byte (including '_') becomes `_XX` in upper-case hex.
/// None or empty gives "". A token longer than [`MAX_RESOURCE_ID`] is cut to its first 24
/// characters, then '-' and 16 hex digits of a 64-bit FNV-1a hash of the whole resource
/// (41 characters: no short token has that length), so it stays injective but for a hash
/// collision.
pub fn resource_id(resource: Option<&str>) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let resource = resource.unwrap_or("");
    let mut id = String::with_capacity(resource.len() * 3);
    for b in resource.bytes() {
        if b.is_ascii_alphanumeric() || b == b'-' || b == b'.' {
            id.push(char::from(b));
        } else {
            id.push('_');
            id.push(char::from(HEX[usize::from(b >> 4)]));
            id.push(char::from(HEX[usize::from(b & 15)]));
        }
    }
    if id.len() > MAX_RESOURCE_ID {
        let hash = resource.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        // Every character of `id` is ASCII: any byte offset is a character boundary.
        id.truncate(MAX_RESOURCE_ID - 16);
        id.push('-');
        for shift in (0..16).rev() {
            id.push(char::from(HEX[((hash >> (shift * 4)) & 15) as usize]));
        }
    }
    id
}

/// The PIDF `entity`: the alias's `user@host` after "pres:" (RFC 3863 section 4.1.1).
fn push_entity(out: &mut String, sip_uri: &str) {
    out.push_str("pres:");
    match parse_sip_uri(sip_uri) {
        Ok(uri) => {
            escape_attr(out, uri.user);
            out.push('@');
            escape_attr(out, uri.host);
        }
        // Not a SIP URI (the caller's mistake): keep it recognisable rather than fail.
        Err(_) => escape_attr(out, strip_angle_brackets(sip_uri)),
    }
}

/// An id attribute: `prefix`, then "-" and the resource id when there is one.
fn push_id(out: &mut String, prefix: char, rid: &str) {
    out.push_str(" id='");
    out.push(prefix);
    if !rid.is_empty() {
        out.push('-');
        out.push_str(rid);
    }
    out.push('\'');
}

/// q = priority / 127 with at most 3 decimals, trailing zeros trimmed.
fn push_q(out: &mut String, priority: u8) {
    // Thousandths, rounded half up: round(priority * 1000 / 127).
    let milli = (u32::from(priority) * 2000 + 127) / 254;
    if milli >= 1000 {
        out.push('1');
        return;
    }
    out.push('0');
    if milli == 0 {
        return;
    }
    out.push('.');
    let all = [
        b'0' + (milli / 100) as u8,
        b'0' + (milli / 10 % 10) as u8,
        b'0' + (milli % 10) as u8,
    ];
    let mut digits = all.as_slice();
    while let [rest @ .., b'0'] = digits {
        digits = rest;
    }
    digits.iter().for_each(|&d| out.push(char::from(d)));
}

/// The PIDF for `presence` of the XMPP user whose SIP alias is `entity_sip_uri`, for one
/// resource: one tuple (basic, contact with priority, notes) and one person (RPID activity).
pub fn render_pidf(
    entity_sip_uri: &str,
    resource: Option<&str>,
    presence: &XmppPresence,
) -> String {
    let rid = resource_id(resource);
    let texts: usize = presence.statuses.iter().map(|s| s.text.len() + 40).sum();
    let mut out = String::with_capacity(512 + 2 * entity_sip_uri.len() + 2 * rid.len() + texts);
    out.push_str(
        "<?xml version='1.0' encoding='UTF-8'?>\
         <presence xmlns='urn:ietf:params:xml:ns:pidf' \
         xmlns:dm='urn:ietf:params:xml:ns:pidf:data-model' \
         xmlns:rpid='urn:ietf:params:xml:ns:pidf:rpid' entity='",
    );
    push_entity(&mut out, entity_sip_uri);
    out.push_str("'><tuple");
    push_id(&mut out, 't', &rid);
    out.push_str("><status><basic>");
    out.push_str(if presence.kind == PresenceType::Unavailable {
        "closed"
    } else {
        "open"
    });
    out.push_str("</basic></status>");
    if let Some(priority) = presence.priority.and_then(|p| u8::try_from(p).ok()) {
        out.push_str("<contact priority='");
        push_q(&mut out, priority);
        out.push_str("'>");
        escape_text(&mut out, strip_angle_brackets(entity_sip_uri));
        out.push_str("</contact>");
    }
    for status in &presence.statuses {
        out.push_str("<note");
        if let Some(lang) = &status.lang {
            push_attr(&mut out, "xml:lang", lang);
        }
        out.push('>');
        escape_text(&mut out, &status.text);
        out.push_str("</note>");
    }
    out.push_str("</tuple><dm:person");
    push_id(&mut out, 'p', &rid);
    match show_to_activity(presence.show) {
        Some(activity) => {
            out.push_str("><rpid:activities><rpid:");
            out.push_str(activity);
            out.push_str("/></rpid:activities></dm:person>");
        }
        None => out.push_str("/>"),
    }
    out.push_str("</presence>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{LangText, Limits, Show, parse_pidf};

    fn presence(kind: PresenceType, show: Option<Show>, priority: Option<i8>) -> XmppPresence {
        XmppPresence {
            kind,
            from: "juliet@example.com/balcony".into(),
            to: "romeo@sip.example.org".into(),
            id: None,
            show,
            statuses: vec![],
            priority,
        }
    }

    fn q(priority: u8) -> String {
        let mut out = String::new();
        push_q(&mut out, priority);
        out
    }

    #[test]
    fn resource_id_rows() {
        let rows = [
            (None, ""),
            (Some(""), ""),
            (Some("balcony"), "balcony"),
            (Some("Gajim.PC-2"), "Gajim.PC-2"),
            (Some("a_b"), "a_5Fb"),
            (Some("a b/c"), "a_20b_2Fc"),
            (Some("é"), "_C3_A9"),
            (Some("'<>"), "_27_3C_3E"),
        ];
        for (resource, id) in rows {
            assert_eq!(resource_id(resource), id, "{resource:?}");
        }
        // Injective where a naive mapping would collide.
        assert_ne!(resource_id(Some("a_20")), resource_id(Some("a ")));
    }

    #[test]
    fn long_resource_ids_are_cut_and_hashed() {
        let exact = "x".repeat(MAX_RESOURCE_ID);
        assert_eq!(resource_id(Some(&exact)), exact);
        let long = "a-very-long-resource-name-that-goes-on-and-on";
        let id = resource_id(Some(long));
        assert_eq!(id.len(), MAX_RESOURCE_ID + 1);
        assert!(id.starts_with("a-very-long-resource-nam-"), "{id}");
        // Same prefix, different resource: different id; same resource: same id.
        let other = resource_id(Some("a-very-long-resource-name-that-goes-on-and-ON"));
        assert_ne!(id, other);
        assert_eq!(id, resource_id(Some(long)));
        // A resource that escapes to three characters a byte.
        let id = resource_id(Some(&"ü".repeat(30)));
        assert_eq!(id.len(), MAX_RESOURCE_ID + 1);
        assert!(
            id.bytes()
                .all(|c| c.is_ascii_alphanumeric() || b"-._".contains(&c))
        );
    }

    #[test]
    fn q_rows() {
        let rows = [
            (0, "0"),
            (1, "0.008"),
            (10, "0.079"),
            (63, "0.496"),
            (64, "0.504"),
            (100, "0.787"),
            (126, "0.992"),
            (127, "1"),
        ];
        for (priority, text) in rows {
            assert_eq!(q(priority), text, "{priority}");
        }
        // 14 / 127 = 0.1102: trailing zero trimmed.
        assert_eq!(q(14), "0.11");
        assert!((1..=127).all(|p| !q(p).ends_with('0')));
    }

    #[test]
    fn q_reads_back_as_the_same_priority() {
        for p in 0..=127u8 {
            let value: f64 = q(p).parse().unwrap();
            assert_eq!((value * 127.0).round() as u8, p);
        }
    }

    #[test]
    fn renders_the_documented_shape() {
        let mut p = presence(PresenceType::Available, Some(Show::Dnd), Some(127));
        p.statuses.push(LangText {
            text: "In a meeting & busy".into(),
            lang: Some("en".into()),
        });
        p.statuses.push(LangText {
            text: "Besprechung".into(),
            lang: None,
        });
        assert_eq!(
            render_pidf(
                "sip:romeo@sip.example.org;transport=tcp",
                Some("balcony"),
                &p
            ),
            "<?xml version='1.0' encoding='UTF-8'?><presence xmlns='urn:ietf:params:xml:ns:pidf' \
             xmlns:dm='urn:ietf:params:xml:ns:pidf:data-model' \
             xmlns:rpid='urn:ietf:params:xml:ns:pidf:rpid' entity='pres:romeo@sip.example.org'>\
             <tuple id='t-balcony'><status><basic>open</basic></status>\
             <contact priority='1'>sip:romeo@sip.example.org;transport=tcp</contact>\
             <note xml:lang='en'>In a meeting &amp; busy</note><note>Besprechung</note></tuple>\
             <dm:person id='p-balcony'><rpid:activities><rpid:busy/></rpid:activities></dm:person>\
             </presence>"
        );
    }

    #[test]
    fn basic_and_activity_rows() {
        let rows = [
            (PresenceType::Available, None, "open", None),
            (PresenceType::Available, Some(Show::Chat), "open", None),
            (
                PresenceType::Available,
                Some(Show::Away),
                "open",
                Some("away"),
            ),
            (
                PresenceType::Available,
                Some(Show::Xa),
                "open",
                Some("away"),
            ),
            (
                PresenceType::Available,
                Some(Show::Dnd),
                "open",
                Some("busy"),
            ),
            (PresenceType::Unavailable, None, "closed", None),
        ];
        for (kind, show, basic, activity) in rows {
            let xml = render_pidf("sip:a@b", None, &presence(kind, show, None));
            assert!(xml.contains(&format!("<basic>{basic}</basic>")), "{xml}");
            match activity {
                Some(a) => assert!(
                    xml.contains(&format!("<rpid:activities><rpid:{a}/>")),
                    "{xml}"
                ),
                None => assert!(xml.contains("<dm:person id='p'/>"), "{xml}"),
            }
            assert!(xml.contains("<tuple id='t'>"), "{xml}");
            assert!(!xml.contains("<contact"), "{xml}");
        }
    }

    #[test]
    fn negative_priority_has_no_contact() {
        let xml = render_pidf(
            "sip:a@b",
            None,
            &presence(PresenceType::Available, None, Some(-1)),
        );
        assert!(!xml.contains("<contact"), "{xml}");
        let xml = render_pidf(
            "sip:a@b",
            None,
            &presence(PresenceType::Available, None, Some(0)),
        );
        assert!(
            xml.contains("<contact priority='0'>sip:a@b</contact>"),
            "{xml}"
        );
    }

    #[test]
    fn entity_rows() {
        let rows = [
            ("sip:bob@example.com", "pres:bob@example.com"),
            (
                "SIPS:bob@example.com:5061;transport=tls",
                "pres:bob@example.com:5061",
            ),
            (
                "<sip:alice*xmpp.org@gw.example>",
                "pres:alice*xmpp.org@gw.example",
            ),
            ("tel:+123", "pres:tel:+123"),
            ("<tel:+123>", "pres:tel:+123"),
        ];
        for (uri, entity) in rows {
            let xml = render_pidf(uri, None, &presence(PresenceType::Available, None, None));
            assert!(xml.contains(&format!("entity='{entity}'")), "{xml}");
        }
    }

    #[test]
    fn output_parses_as_pidf() {
        let mut p = presence(PresenceType::Available, Some(Show::Xa), Some(64));
        p.statuses.push(LangText {
            text: "</note><x>".into(),
            lang: Some("en'".into()),
        });
        let xml = render_pidf("sip:a@b", Some("r_1"), &p);
        let parsed = parse_pidf(xml.as_bytes(), &Limits::default()).unwrap();
        assert!(parsed.available);
        assert_eq!(parsed.show, Some(Show::Away));
        assert_eq!(parsed.priority, Some(64));
        assert_eq!(parsed.notes, p.statuses);
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let ids: Vec<_> = doc
            .descendants()
            .filter_map(|n| n.attribute("id"))
            .collect();
        assert_eq!(ids, ["t-r_5F1", "p-r_5F1"]);
    }
}
