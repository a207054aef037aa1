//! Property tests: renderers read back to the same values, arbitrary text never becomes
//! markup, and no parser panics on arbitrary input.

use proptest::prelude::*;
use sip_xmpp_presence::*;

/// What the escaping writer keeps of `s`: characters XML 1.0 allows.
fn xml_chars(s: &str) -> String {
    s.chars()
        .filter(|&c| {
            !matches!(c, '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}')
        })
        .collect()
}

/// An address as read back: allowed characters, trimmed.
fn addr_back(s: &str) -> String {
    xml_chars(s).trim().to_owned()
}

/// A text as read back: allowed characters, trimmed, cut, trimmed.
fn read_back(s: &str) -> String {
    cut_status(xml_chars(s).trim()).trim_end().to_owned()
}

fn expected_notes(texts: &[LangText]) -> Vec<LangText> {
    texts
        .iter()
        .map(|t| LangText {
            text: read_back(&t.text),
            lang: t.lang.as_deref().map(xml_chars).filter(|l| !l.is_empty()),
        })
        .filter(|t| !t.text.is_empty())
        .collect()
}

/// Text that tries hard to break out: markup, quotes, controls, plus anything.
fn hostile_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        Just("</status><message to='evil@x'><body>hi</body></message><status>".to_owned()),
        Just("</note></tuple><tuple id='x'><status><basic>open</basic></status>".to_owned()),
        "[<>&'\"/=a-z \\t\\r\\n\\x00-\\x1f\u{fffe}\u{ffff}]{0,40}",
        Just("x".repeat(MAX_STATUS_CHARS + 3)),
        Just(format!("{} y", "z".repeat(MAX_STATUS_CHARS - 1))),
    ]
}

fn lang_text() -> impl Strategy<Value = LangText> {
    (
        hostile_text(),
        prop::option::of(prop_oneof![Just("en".to_owned()), "[a-zA-Z'\"<&\\t-]{0,8}"]),
    )
        .prop_map(|(text, lang)| LangText { text, lang })
}

fn show() -> impl Strategy<Value = Option<Show>> {
    prop::option::of(prop_oneof![
        Just(Show::Away),
        Just(Show::Chat),
        Just(Show::Dnd),
        Just(Show::Xa)
    ])
}

fn presence_type() -> impl Strategy<Value = PresenceType> {
    prop_oneof![
        Just(PresenceType::Available),
        Just(PresenceType::Unavailable),
        Just(PresenceType::Subscribe),
        Just(PresenceType::Subscribed),
        Just(PresenceType::Unsubscribe),
        Just(PresenceType::Unsubscribed),
        Just(PresenceType::Probe),
        Just(PresenceType::Error),
    ]
}

/// A JID-ish address that stays non-empty after escaping and trimming.
fn address() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z]{1,8}@[a-z]{1,8}(/[a-zA-Z0-9 _'\"<>&]{1,8})?",
        hostile_text().prop_map(|s| format!("a{s}")),
    ]
}

const BIG: Limits = Limits {
    max_body_size: usize::MAX,
};

/// Names of the element children of `xml`'s document element.
fn child_names(xml: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(xml).unwrap();
    doc.root_element()
        .children()
        .filter(|n| n.is_element())
        .map(|n| n.tag_name().name().to_owned())
        .collect()
}

proptest! {
    #[test]
    fn render_pidf_reads_back(
        kind in prop_oneof![Just(PresenceType::Available), Just(PresenceType::Unavailable)],
        show in show(),
        statuses in prop::collection::vec(lang_text(), 0..4),
        priority in prop::option::of(any::<i8>()),
        resource in prop::option::of(any::<String>()),
    ) {
        let presence = XmppPresence {
            kind, from: "a@b/r".into(), to: "c@d".into(), id: None, show, statuses, priority,
        };
        let xml = render_pidf("sip:u*x@gw.example", resource.as_deref(), &presence);
        let back = parse_pidf(xml.as_bytes(), &BIG).unwrap();
        let available = kind == PresenceType::Available;
        let notes = expected_notes(&presence.statuses);
        let show = match show_to_activity(show) {
            Some(activity) => show_from_activity(activity),
            None => notes.iter().find_map(|n| show_from_note(&n.text)),
        };
        prop_assert_eq!(back.available, available);
        prop_assert_eq!(back.show, show);
        prop_assert_eq!(back.priority, priority.filter(|p| available && *p >= 0));
        prop_assert_eq!(&back.notes, &notes);
        // No injection: exactly one tuple and one person, and the tuple holds only ours.
        prop_assert_eq!(child_names(&xml), ["tuple", "person"]);
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let tuple = doc.root_element().first_element_child().unwrap();
        let in_tuple = tuple.children().filter(|n| n.is_element()).count();
        let contact = usize::from(priority.is_some_and(|p| p >= 0));
        prop_assert_eq!(in_tuple, 1 + contact + presence.statuses.len());
        let id = tuple.attribute("id").unwrap();
        prop_assert!(id.starts_with('t'));
        prop_assert!(id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b)));
    }

    #[test]
    fn pidf_to_stanza_reads_back(
        from in address(),
        to in address(),
        available in any::<bool>(),
        show in show(),
        notes in prop::collection::vec(lang_text(), 0..4),
        priority in prop::option::of(any::<i8>()),
    ) {
        let pidf = PidfPresence { available, show, notes, priority };
        let stanza = pidf_to_stanza(&from, &to, &pidf);
        let back = parse_xmpp_presence(stanza.as_bytes(), &BIG).unwrap();
        let kind = if available { PresenceType::Available } else { PresenceType::Unavailable };
        prop_assert_eq!(back.kind, kind);
        prop_assert_eq!(back.from, addr_back(&from));
        prop_assert_eq!(back.to, addr_back(&to));
        prop_assert_eq!(back.show, show.filter(|_| available));
        prop_assert_eq!(back.priority, priority.filter(|_| available));
        prop_assert_eq!(&back.statuses, &expected_notes(&pidf.notes));
        // No injection: the children are exactly show?, one status per note, priority?.
        let mut names = Vec::new();
        if back.show.is_some() { names.push("show"); }
        names.extend(pidf.notes.iter().map(|_| "status"));
        if back.priority.is_some() { names.push("priority"); }
        prop_assert_eq!(child_names(&stanza), names);
    }

    #[test]
    fn presence_stanza_reads_back(from in address(), to in address(), kind in presence_type()) {
        let stanza = presence_stanza(&from, &to, kind);
        let back = parse_xmpp_presence(stanza.as_bytes(), &BIG).unwrap();
        prop_assert_eq!(back.kind, kind);
        prop_assert_eq!(back.from, addr_back(&from));
        prop_assert_eq!(back.to, addr_back(&to));
        prop_assert!(child_names(&stanza).is_empty());
    }

    #[test]
    fn error_presence_is_one_error_element(code in any::<u16>(), reason in prop::option::of(hostile_text())) {
        let stanza = error_presence("a@b", "c@d", code, reason.as_deref());
        let back = parse_xmpp_presence(stanza.as_bytes(), &BIG).unwrap();
        prop_assert_eq!(back.kind, PresenceType::Error);
        prop_assert_eq!(child_names(&stanza), ["error"]);
        let doc = roxmltree::Document::parse(&stanza).unwrap();
        let error = doc.root_element().first_element_child().unwrap();
        let names: Vec<_> = error.children().filter(|n| n.is_element()).map(|n| n.tag_name().name()).collect();
        let expected = sip_status_to_xmpp_error(code);
        prop_assert_eq!(names[0], expected.condition);
        prop_assert_eq!(names.len(), 1 + usize::from(reason.is_some()));
        prop_assert_eq!(error.attribute("type"), Some(expected.kind.as_str()));
    }

    #[test]
    fn resource_id_is_injective_and_id_safe(a in any::<String>(), b in any::<String>()) {
        let (ia, ib) = (resource_id(Some(&a)), resource_id(Some(&b)));
        prop_assert_eq!(ia == ib, a == b);
        prop_assert!(ia.bytes().all(|c| c.is_ascii_alphanumeric() || b"-._".contains(&c)));
    }

    #[test]
    fn xml_parsers_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse_pidf(&bytes, &Limits::default());
        let _ = parse_xmpp_presence(&bytes, &Limits::default());
        let _ = parse_watcherinfo(&bytes, &Limits::default());
    }

    #[test]
    fn xml_parsers_never_panic_on_xmlish_text(
        text in "(<[a-z:]{1,12}( [a-z:]{1,8}=['\"][^<]{0,6}['\"])*/?>|</[a-z:]{1,12}>|[a-z &;#<>!\\[\\]-]{0,6}){0,30}"
    ) {
        let _ = parse_pidf(text.as_bytes(), &Limits::default());
        let _ = parse_xmpp_presence(text.as_bytes(), &Limits::default());
        let _ = parse_watcherinfo(text.as_bytes(), &Limits::default());
    }

    #[test]
    fn sip_message_parse_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        if let Ok(msg) = SipMessage::parse(&bytes) {
            let _ = (msg.from(), msg.to(), msg.call_id(), msg.contact(), msg.content_length());
        }
    }

    #[test]
    fn sip_message_headers_read_back(
        call_id in "[a-zA-Z0-9@.-]{1,20}",
        tag in "[a-z0-9]{1,8}",
        body in "[ -~]{0,40}",
        compact in any::<bool>(),
        lf_only in any::<bool>(),
    ) {
        let eol = if lf_only { "\n" } else { "\r\n" };
        let (i, f, l) = if compact { ("i", "f", "l") } else { ("Call-ID", "From", "Content-Length") };
        let raw = format!(
            "NOTIFY sip:a@b SIP/2.0{eol}{f}: \"X\" <sip:x@y>;tag={tag}{eol}{i}:  {call_id} {eol}{l}: {}{eol}{eol}{body}junk",
            body.len()
        );
        let msg = SipMessage::parse(raw.as_bytes()).unwrap();
        prop_assert_eq!(msg.call_id(), Some(call_id.as_str()));
        prop_assert_eq!(msg.from(), Some(NameAddr { uri: "sip:x@y", tag: Some(tag.as_str()) }));
        prop_assert_eq!(msg.body, body.as_bytes());
    }

    #[test]
    fn header_parsers_never_panic(text in any::<String>()) {
        if let Ok(state) = parse_subscription_state(&text) {
            let _ = presence_notify_action(&state, true);
        }
        let _ = parse_event(&text);
        let _ = parse_sip_uri(&text);
        let _ = parse_name_addr(&text);
        let _ = split_jid(&text);
    }
}
