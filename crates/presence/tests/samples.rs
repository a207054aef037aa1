//! The realistic samples in tests/data: PIDF of common SIP clients and Kamailio's presence
//! server, watcherinfo documents, XMPP stanzas and raw SIP messages, each with what it must
//! translate to.

use sip_xmpp_presence::*;

fn data(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn note(text: &str, lang: Option<&str>) -> LangText {
    LangText {
        text: text.into(),
        lang: lang.map(Into::into),
    }
}

struct PidfSample {
    file: &'static str,
    available: bool,
    show: Option<Show>,
    notes: Vec<LangText>,
    priority: Option<i8>,
    stanza: &'static str,
}

fn pidf_samples() -> Vec<PidfSample> {
    vec![
        PidfSample {
            file: "pidf_kamailio_one_tuple.xml",
            available: true,
            show: None,
            notes: vec![note("Online", None)],
            priority: None,
            stanza: "<presence from='f' to='t'><status>Online</status></presence>",
        },
        PidfSample {
            file: "pidf_kamailio_offline.xml",
            available: false,
            show: None,
            notes: vec![],
            priority: None,
            stanza: "<presence from='f' to='t' type='unavailable'/>",
        },
        PidfSample {
            file: "pidf_linphone_away.xml",
            available: true,
            show: Some(Show::Away),
            notes: vec![note("Back in 10 minutes", Some("en"))],
            priority: Some(102),
            stanza: "<presence from='f' to='t'><show>away</show>\
                     <status xml:lang='en'>Back in 10 minutes</status><priority>102</priority></presence>",
        },
        PidfSample {
            // Any open tuple makes it available (C read only the first, closed, basic); the
            // first tuple with notes gives the status; priority from open tuples only.
            file: "pidf_several_tuples.xml",
            available: true,
            show: None,
            notes: vec![note("Desk phone off", Some("en"))],
            priority: Some(95),
            stanza: "<presence from='f' to='t'><status xml:lang='en'>Desk phone off</status>\
                     <priority>95</priority></presence>",
        },
        PidfSample {
            file: "pidf_rpid_person_langs.xml",
            available: true,
            show: Some(Show::Dnd),
            notes: vec![
                note("In a meeting until 3 & then lunch", Some("en")),
                note("Besprechung bis 15 Uhr", Some("de")),
            ],
            priority: None,
            stanza: "<presence from='f' to='t'><show>dnd</show>\
                     <status xml:lang='en'>In a meeting until 3 &amp; then lunch</status>\
                     <status xml:lang='de'>Besprechung bis 15 Uhr</status></presence>",
        },
        PidfSample {
            file: "pidf_undeclared_rpid.xml",
            available: true,
            show: Some(Show::Xa),
            notes: vec![note("Gone fishing", None)],
            priority: None,
            stanza: "<presence from='f' to='t'><show>xa</show><status>Gone fishing</status></presence>",
        },
        PidfSample {
            file: "pidf_eyebeam_activity_text.xml",
            available: true,
            show: Some(Show::Away),
            notes: vec![note("Idle", None)],
            priority: None,
            stanza: "<presence from='f' to='t'><show>away</show><status>Idle</status></presence>",
        },
        PidfSample {
            file: "pidf_jitsi_on_the_phone.xml",
            available: true,
            show: Some(Show::Dnd),
            notes: vec![note("On the phone", None)],
            priority: None,
            stanza: "<presence from='f' to='t'><show>dnd</show><status>On the phone</status></presence>",
        },
        PidfSample {
            file: "pidf_no_namespace_note_busy.xml",
            available: true,
            show: Some(Show::Dnd),
            notes: vec![note("Busy", None)],
            priority: Some(25),
            stanza: "<presence from='f' to='t'><show>dnd</show><status>Busy</status>\
                     <priority>25</priority></presence>",
        },
        PidfSample {
            file: "pidf_unknown_activity_no_fallback.xml",
            available: true,
            show: None,
            notes: vec![note("away", None)],
            priority: None,
            stanza: "<presence from='f' to='t'><status>away</status></presence>",
        },
        PidfSample {
            file: "pidf_tuple_rpid_top_note.xml",
            available: true,
            show: Some(Show::Xa),
            notes: vec![note("Good night", Some("en"))],
            priority: None,
            stanza: "<presence from='f' to='t'><show>xa</show>\
                     <status xml:lang='en'>Good night</status></presence>",
        },
        PidfSample {
            file: "pidf_closed_with_note.xml",
            available: false,
            show: Some(Show::Away),
            notes: vec![note("Gone home", None)],
            priority: None,
            stanza: "<presence from='f' to='t' type='unavailable'><status>Gone home</status></presence>",
        },
    ]
}

#[test]
fn pidf_samples_translate() {
    for s in pidf_samples() {
        let pidf = parse_pidf(&data(s.file), &Limits::default())
            .unwrap_or_else(|e| panic!("{}: {e}", s.file));
        let expected = PidfPresence {
            available: s.available,
            show: s.show,
            notes: s.notes,
            priority: s.priority,
        };
        assert_eq!(pidf, expected, "{}", s.file);
        assert_eq!(pidf_to_stanza("f", "t", &pidf), s.stanza, "{}", s.file);
    }
}

#[test]
fn every_pidf_data_file_has_a_sample() {
    let dir = format!("{}/tests/data", env!("CARGO_MANIFEST_DIR"));
    let samples = pidf_samples();
    for entry in std::fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name.starts_with("pidf_") {
            assert!(
                samples.iter().any(|s| s.file == name),
                "{name} is not checked"
            );
        }
    }
}

#[test]
fn xmpp_samples_parse() {
    let limits = Limits::default();
    let rows = [
        (
            "xmpp_client_available.xml",
            XmppPresence {
                kind: PresenceType::Available,
                from: "juliet@example.com/balcony".into(),
                to: "romeo*example.net@xmpp-gw.example.org".into(),
                id: Some("pres-1".into()),
                show: Some(Show::Away),
                statuses: vec![
                    note("Out for a walk", Some("en")),
                    note("A fare una passeggiata", Some("it")),
                ],
                priority: Some(10),
            },
        ),
        (
            "xmpp_component_unavailable.xml",
            XmppPresence {
                kind: PresenceType::Unavailable,
                from: "juliet@example.com/orchard".into(),
                to: "romeo*example.net@xmpp-gw.example.org".into(),
                id: None,
                show: None,
                statuses: vec![note("Logged out", None)],
                priority: None,
            },
        ),
        (
            "xmpp_component_dnd_negative.xml",
            XmppPresence {
                kind: PresenceType::Available,
                from: "nurse@example.com/kitchen".into(),
                to: "romeo*example.net@xmpp-gw.example.org".into(),
                id: None,
                show: Some(Show::Dnd),
                statuses: vec![
                    note("Cooking <do not disturb>", Some("en")),
                    note("Cocinando", Some("es")),
                ],
                priority: Some(-1),
            },
        ),
        (
            "xmpp_subscribe.xml",
            XmppPresence {
                kind: PresenceType::Subscribe,
                from: "juliet@example.com".into(),
                to: "romeo*example.net@xmpp-gw.example.org".into(),
                id: Some("sub1".into()),
                show: None,
                statuses: vec![],
                priority: None,
            },
        ),
        (
            "xmpp_no_namespace_probe.xml",
            XmppPresence {
                kind: PresenceType::Probe,
                from: "example.com".into(),
                to: "romeo*example.net@xmpp-gw.example.org".into(),
                id: None,
                show: None,
                statuses: vec![],
                priority: None,
            },
        ),
        (
            "xmpp_prefixed_chat.xml",
            XmppPresence {
                kind: PresenceType::Available,
                from: "mercutio@example.com/phone".into(),
                to: "romeo*example.net@xmpp-gw.example.org".into(),
                id: None,
                show: Some(Show::Chat),
                statuses: vec![],
                priority: Some(127),
            },
        ),
    ];
    for (file, expected) in rows {
        assert_eq!(
            parse_xmpp_presence(&data(file), &limits),
            Ok(expected),
            "{file}"
        );
    }
}

#[test]
fn xmpp_samples_publish_as_pidf() {
    let limits = Limits::default();
    let rows = [
        (
            "xmpp_client_available.xml",
            "<?xml version='1.0' encoding='UTF-8'?><presence xmlns='urn:ietf:params:xml:ns:pidf' \
             xmlns:dm='urn:ietf:params:xml:ns:pidf:data-model' xmlns:rpid='urn:ietf:params:xml:ns:pidf:rpid' \
             entity='pres:juliet*example.com@sip.example.org'><tuple id='t-balcony'><status><basic>open</basic>\
             </status><contact priority='0.079'>sip:juliet*example.com@sip.example.org</contact>\
             <note xml:lang='en'>Out for a walk</note><note xml:lang='it'>A fare una passeggiata</note>\
             </tuple><dm:person id='p-balcony'><rpid:activities><rpid:away/></rpid:activities>\
             </dm:person></presence>",
        ),
        (
            "xmpp_component_unavailable.xml",
            "<?xml version='1.0' encoding='UTF-8'?><presence xmlns='urn:ietf:params:xml:ns:pidf' \
             xmlns:dm='urn:ietf:params:xml:ns:pidf:data-model' xmlns:rpid='urn:ietf:params:xml:ns:pidf:rpid' \
             entity='pres:juliet*example.com@sip.example.org'><tuple id='t-orchard'><status><basic>closed\
             </basic></status><note>Logged out</note></tuple><dm:person id='p-orchard'/></presence>",
        ),
        (
            "xmpp_component_dnd_negative.xml",
            "<?xml version='1.0' encoding='UTF-8'?><presence xmlns='urn:ietf:params:xml:ns:pidf' \
             xmlns:dm='urn:ietf:params:xml:ns:pidf:data-model' xmlns:rpid='urn:ietf:params:xml:ns:pidf:rpid' \
             entity='pres:juliet*example.com@sip.example.org'><tuple id='t-kitchen'><status><basic>open\
             </basic></status><note xml:lang='en'>Cooking &lt;do not disturb&gt;</note>\
             <note xml:lang='es'>Cocinando</note></tuple><dm:person id='p-kitchen'><rpid:activities>\
             <rpid:busy/></rpid:activities></dm:person></presence>",
        ),
    ];
    for (file, expected) in rows {
        let presence = parse_xmpp_presence(&data(file), &limits).unwrap();
        let (_, resource) = split_jid(&presence.from);
        let pidf = render_pidf(
            "sip:juliet*example.com@sip.example.org",
            resource,
            &presence,
        );
        assert_eq!(pidf, expected, "{file}");
    }
}

#[test]
fn winfo_samples() {
    let limits = Limits::default();
    let full = parse_watcherinfo(&data("winfo_kamailio_full.xml"), &limits).unwrap();
    assert_eq!(
        (full.version, full.full, full.lists.len()),
        (Some(0), true, 1)
    );
    assert_eq!(
        full.lists[0].resource,
        "sip:juliet*example.com@xmpp-gw.example.org"
    );
    assert_eq!(full.lists[0].package, "presence");
    assert_eq!(
        full.watchers_to_request(),
        ["sip:romeo@example.net", "sip:mercutio@example.net"]
    );

    let partial = parse_watcherinfo(&data("winfo_partial_lists.xml"), &limits).unwrap();
    assert_eq!(
        (partial.version, partial.full, partial.lists.len()),
        (Some(7), false, 2)
    );
    let statuses: Vec<_> = partial
        .lists
        .iter()
        .flat_map(|l| l.watchers.iter().map(|w| w.status))
        .collect();
    use WatcherStatus::*;
    assert_eq!(
        statuses,
        [Active, Terminated, Waiting, Pending, Active, Terminated]
    );
    assert_eq!(
        partial.lists[0].watchers[0].display_name.as_deref(),
        Some("Romeo")
    );
    assert_eq!(
        partial.lists[0].watchers[1].event.as_deref(),
        Some("timeout")
    );
    assert_eq!(
        partial.watchers_to_request(),
        [
            "sip:romeo@example.net",
            "sip:benvolio@example.net",
            "sip:nurse@example.net"
        ]
    );
}

#[test]
fn sip_notify_with_pidf() {
    let raw = data("sip_notify_pidf.txt");
    let msg = SipMessage::parse(&raw).unwrap();
    assert_eq!(
        msg.start_line,
        StartLine::Request {
            method: "NOTIFY",
            uri: "sip:juliet*example.com@xmpp-gw.example.org"
        }
    );
    assert_eq!(
        msg.from(),
        Some(NameAddr {
            uri: "sip:alice@example.com",
            tag: Some("8f9b0c")
        })
    );
    assert_eq!(msg.to().and_then(|t| t.tag), Some("5a6d7e"));
    assert_eq!(msg.call_id(), Some("2d1e0f9a@xmpp-gw.example.org"));
    assert_eq!(msg.contact(), Some("sip:192.0.2.5:5060;transport=udp"));
    assert_eq!(
        parse_event(msg.header("Event").unwrap()),
        Ok(EventPackage::Presence)
    );
    let state = parse_subscription_state(msg.header("Subscription-State").unwrap()).unwrap();
    assert_eq!(
        (state.state.clone(), state.expires),
        (SubState::Active, Some(3590))
    );
    assert_eq!(
        presence_notify_action(&state, !msg.body.is_empty()),
        NotifyAction::TranslateBody
    );
    assert_eq!(msg.content_length(), Some(msg.body.len()));
    let pidf = parse_pidf(msg.body, &Limits::default()).unwrap();
    assert_eq!(
        pidf_to_stanza(
            "alice*example.com@xmpp-gw.example.org",
            "juliet@example.com",
            &pidf
        ),
        "<presence from='alice*example.com@xmpp-gw.example.org' to='juliet@example.com'>\
         <status>Online</status></presence>"
    );
}

#[test]
fn sip_notify_compact_winfo_terminated() {
    let raw = data("sip_notify_winfo_compact.txt");
    let msg = SipMessage::parse(&raw).unwrap();
    assert_eq!(msg.call_id(), Some("winfo-77@xmpp-gw.example.org"));
    assert_eq!(msg.from().and_then(|f| f.tag), Some("aa11"));
    assert_eq!(msg.contact(), Some("sip:192.0.2.5:5060;transport=tcp"));
    assert_eq!(
        msg.header("Content-Type"),
        Some("application/watcherinfo+xml")
    );
    assert_eq!(
        parse_event(msg.header("Event").unwrap()),
        Ok(EventPackage::PresenceWinfo)
    );
    let state = parse_subscription_state(msg.header("Subscription-State").unwrap()).unwrap();
    assert_eq!(state.state, SubState::Terminated);
    assert_eq!(state.reason.as_deref(), Some("timeout"));
    assert!(msg.body.is_empty());
    assert_eq!(winfo_notify_action(&state, false), NotifyAction::Ignore);
}

#[test]
fn sip_reply_becomes_stanza_error() {
    let raw = data("sip_reply_486.txt");
    let msg = SipMessage::parse(&raw).unwrap();
    let StartLine::Response { code, reason } = msg.start_line else {
        panic!("not a response");
    };
    assert_eq!((code, reason), (486, "Busy Here"));
    assert_eq!(
        error_presence(
            "romeo*example.net@gw",
            "juliet@example.com",
            code,
            Some(reason)
        ),
        "<presence from='romeo*example.net@gw' to='juliet@example.com' type='error'>\
         <error type='wait'><recipient-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
         <text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>SIP 486 Busy Here</text></error></presence>"
    );
}
