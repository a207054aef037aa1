//! SIP NOTIFY -> XMPP through our module on the REAL stack (Kamailio + Prosody): the
//! Subscription-State table, the PIDF -> presence rules and watcherinfo NOTIFYs (docs/behaviour.md 1).

mod e2e;

use e2e::*;
use kamailio_test_stack::{SipUa, jid_for_sip};

const ACTIVE: &str = "active;expires=3600";

// ---- Subscription-State table -----------------------------------------------------------------

#[test]
fn active_notify_with_pidf_becomes_available_presence() {
    let f = bob_watches_alice(via_notifier());
    let body = pidf(&tuple("t1", "open", "<note>at my desk</note>"));
    f.notify_expect(ACTIVE, Some(&body), 200);
    f.expect_presence("<presence from='{A}' to='{B}'><status>at my desk</status></presence>");
    f.stack.assert_no_crash();
}

#[test]
fn active_notify_without_body_becomes_unavailable() {
    let f = bob_watches_alice(via_notifier());
    f.notify_expect(ACTIVE, None, 200);
    f.expect_presence("<presence from='{A}' to='{B}' type='unavailable'/>");
    f.stack.assert_no_crash();
}

#[test]
fn pending_notify_sends_nothing_with_or_without_body() {
    let f = bob_watches_alice(via_notifier());
    let body = pidf(&tuple("t1", "open", "<note>not yet</note>"));
    f.notify_expect("pending;expires=3600", Some(&body), 200);
    f.notify_expect("pending", None, 200);
    f.assert_nothing_sent();
    f.stack.assert_no_crash();
}

#[test]
fn terminated_timeout_with_body_translates_the_fetched_body() {
    let f = bob_watches_alice(via_notifier());
    let body = pidf(&tuple("t1", "open", "<note>fetched</note>"));
    f.notify_expect("terminated;reason=timeout", Some(&body), 200);
    f.expect_presence("<presence from='{A}' to='{B}'><status>fetched</status></presence>");
    f.stack.assert_no_crash();
}

#[test]
fn terminated_timeout_deactivated_probation_giveup_without_body_become_unavailable() {
    let f = bob_watches_alice(via_notifier());
    for reason in [
        "timeout",
        "deactivated",
        "probation",
        "giveup;retry-after=30",
    ] {
        f.notify_expect(&format!("terminated;reason={reason}"), None, 200);
        f.expect_presence("<presence from='{A}' to='{B}' type='unavailable'/>");
    }
    // Presence is unknown, the roster subscription stays.
    f.bob()
        .wait_roster_subscription(T, &f.alice_jid, "to")
        .unwrap();
    f.stack.assert_no_crash();
}

/// Each of these ends bob's roster subscription (Prosody consumes `unsubscribed`), so bob
/// subscribes again before the next row: a fresh gateway SUBSCRIBE, accepted by the notifier.
#[test]
fn terminated_rejected_noresource_or_no_reason_become_unsubscribed() {
    let mut f = bob_watches_alice(via_notifier());
    let rows = [
        "terminated;reason=rejected",
        "terminated;reason=noresource",
        "terminated",
    ];
    for (i, state) in rows.into_iter().enumerate() {
        if i > 0 {
            f.bob().subscribe(&f.alice_jid).unwrap();
            let req = f.notifier.expect("SUBSCRIBE");
            assert!(
                req.header("To").is_some_and(|t| !t.contains("tag=")),
                "a new subscription, not a refresh: {req:?}"
            );
            f.sub = f.notifier.accept(&req, 3600);
            f.expect_presence("<presence from='{A}' to='{B}' type='subscribed'/>");
            f.bob()
                .wait_roster_subscription(T, &f.alice_jid, "to")
                .unwrap();
        }
        f.notify_expect(state, None, 200);
        f.expect_presence("<presence from='{A}' to='{B}' type='unsubscribed'/>");
        f.bob()
            .wait_roster_subscription(T, &f.alice_jid, "none")
            .unwrap();
    }
    f.stack.assert_no_crash();
}

#[test]
fn subscription_state_and_event_are_parsed_case_insensitively_with_parameters() {
    let f = bob_watches_alice(via_notifier());
    let body = pidf(&tuple("t1", "open", "<note>loose headers</note>"));
    let r = f.notifier.notify_raw(
        &f.sub,
        &[
            ("Event", "Presence ; id=1"),
            ("Subscription-State", "  ACTIVE ;Expires = 600 "),
            ("Content-Type", "application/pidf+xml"),
        ],
        body.as_bytes(),
    );
    assert_eq!(r.status(), Some(200), "{r:?}");
    f.expect_presence("<presence from='{A}' to='{B}'><status>loose headers</status></presence>");
    let r = f.notifier.notify_raw(
        &f.sub,
        &[
            ("Event", "PRESENCE"),
            ("Subscription-State", "Terminated ; Reason = \"TimeOut\""),
        ],
        b"",
    );
    assert_eq!(r.status(), Some(200), "{r:?}");
    f.expect_presence("<presence from='{A}' to='{B}' type='unavailable'/>");
    f.stack.assert_no_crash();
}

// ---- PIDF -> presence -------------------------------------------------------------------------

#[test]
fn any_open_tuple_makes_the_contact_available() {
    let f = bob_watches_alice(via_notifier());
    let rows = [
        (&["closed", "open"][..], "<presence from='{A}' to='{B}'/>"),
        (&["open", "closed"][..], "<presence from='{A}' to='{B}'/>"),
        (
            &["closed", "closed"][..],
            "<presence from='{A}' to='{B}' type='unavailable'/>",
        ),
    ];
    for (basics, expected) in rows {
        let inner: String = basics
            .iter()
            .enumerate()
            .map(|(i, b)| tuple(&format!("t{i}"), b, ""))
            .collect();
        f.notify_expect(ACTIVE, Some(&pidf(&inner)), 200);
        f.expect_presence(expected);
    }
    f.stack.assert_no_crash();
}

#[test]
fn show_comes_from_rpid_activities_person_first_then_tuples() {
    let f = bob_watches_alice(via_notifier());
    let rows = [
        ("away", "away"),
        ("busy", "dnd"),
        ("on-the-phone", "dnd"),
        ("meeting", "dnd"),
        ("performance", "dnd"),
        ("presentation", "dnd"),
        ("vacation", "xa"),
        ("holiday", "xa"),
        ("sleeping", "xa"),
        ("travel", "xa"),
    ];
    for (activity, show) in rows {
        let inner = tuple("t1", "open", "") + &person_activities(&[activity]);
        f.notify_expect(ACTIVE, Some(&pidf(&inner)), 200);
        f.expect_presence(&format!(
            "<presence from='{{A}}' to='{{B}}'><show>{show}</show></presence>"
        ));
    }
    // Tuple activities count when the person has none; the person wins over a tuple even
    // when the tuple comes first in the document.
    let in_tuple = tuple(
        "t1",
        "open",
        "<rpid:activities><rpid:sleeping/></rpid:activities>",
    );
    f.notify_expect(ACTIVE, Some(&pidf(&in_tuple)), 200);
    f.expect_presence("<presence from='{A}' to='{B}'><show>xa</show></presence>");
    let both = in_tuple + &person_activities(&["meeting"]);
    f.notify_expect(ACTIVE, Some(&pidf(&both)), 200);
    f.expect_presence("<presence from='{A}' to='{B}'><show>dnd</show></presence>");
    f.stack.assert_no_crash();
}

#[test]
fn unknown_only_activities_give_no_show_and_no_note_fallback() {
    let f = bob_watches_alice(via_notifier());
    let inner = tuple("t1", "open", "<note>away</note>") + &person_activities(&["unknown"]);
    f.notify_expect(ACTIVE, Some(&pidf(&inner)), 200);
    f.expect_presence("<presence from='{A}' to='{B}'><status>away</status></presence>");
    let inner = tuple("t1", "open", "<note>busy</note>") + &person_activities(&["lunch"]);
    f.notify_expect(ACTIVE, Some(&pidf(&inner)), 200);
    f.expect_presence("<presence from='{A}' to='{B}'><status>busy</status></presence>");
    f.stack.assert_no_crash();
}

#[test]
fn note_heuristics_apply_only_without_activities_and_busy_is_dnd() {
    let f = bob_watches_alice(via_notifier());
    let rows = [
        ("Away", Some("away")),
        ("On the phone", Some("away")),
        ("dnd", Some("dnd")),
        ("Do not disturb", Some("dnd")),
        ("Busy (DND)", Some("dnd")),
        ("busy", Some("dnd")),
        ("Lunch", None),
    ];
    for (note, show) in rows {
        let inner = tuple("t1", "open", &format!("<note>{note}</note>"));
        f.notify_expect(ACTIVE, Some(&pidf(&inner)), 200);
        let show = show.map_or(String::new(), |s| format!("<show>{s}</show>"));
        f.expect_presence(&format!(
            "<presence from='{{A}}' to='{{B}}'>{show}<status>{note}</status></presence>"
        ));
    }
    f.stack.assert_no_crash();
}

#[test]
fn status_is_the_person_note_else_tuple_note_else_top_level_note_with_xml_lang() {
    let f = bob_watches_alice(via_notifier());
    let person = "<dm:person id='p1'><dm:note xml:lang='de'>Im Büro</dm:note></dm:person>";
    let inner = tuple("t1", "open", "<note xml:lang='en'>tuple note</note>") + person;
    f.notify_expect(ACTIVE, Some(&pidf(&inner)), 200);
    f.expect_presence(
        "<presence from='{A}' to='{B}'><status xml:lang='de'>Im Büro</status></presence>",
    );
    let inner = tuple("t1", "open", "<note xml:lang='fr'>au bureau</note>");
    f.notify_expect(ACTIVE, Some(&pidf(&inner)), 200);
    f.expect_presence(
        "<presence from='{A}' to='{B}'><status xml:lang='fr'>au bureau</status></presence>",
    );
    let inner = tuple("t1", "open", "") + "<note>top level</note>";
    f.notify_expect(ACTIVE, Some(&pidf(&inner)), 200);
    f.expect_presence("<presence from='{A}' to='{B}'><status>top level</status></presence>");
    f.stack.assert_no_crash();
}

#[test]
fn priority_is_round_of_the_highest_q_times_127() {
    let f = bob_watches_alice(via_notifier());
    let contact = |q: &str| format!("<contact priority='{q}'>sip:alice@127.0.0.1</contact>");
    let rows = [
        (tuple("t1", "open", &contact("1")), 127),
        (tuple("t1", "open", &contact("0.5")), 64),
        (tuple("t1", "open", &contact("0.8")), 102),
        (tuple("t1", "open", &contact("0")), 0),
        (
            tuple("t1", "open", &contact("0.2")) + &tuple("t2", "open", &contact("0.7")),
            89,
        ),
    ];
    for (inner, priority) in rows {
        f.notify_expect(ACTIVE, Some(&pidf(&inner)), 200);
        f.expect_presence(&format!(
            "<presence from='{{A}}' to='{{B}}'><priority>{priority}</priority></presence>"
        ));
    }
    f.stack.assert_no_crash();
}

#[test]
fn show_status_and_priority_together_in_one_compact_stanza() {
    let f = bob_watches_alice(via_notifier());
    let inner = tuple(
        "t1",
        "open",
        "<contact priority='0.25'>sip:alice@127.0.0.1</contact><note>Lunch &amp; more</note>",
    ) + &person_activities(&["away"]);
    f.notify_expect(ACTIVE, Some(&pidf(&inner)), 200);
    let got = next_presence(f.bob(), &f.alice_jid);
    assert_stanza(
        &got,
        &f.fill(
            "<presence from='{A}' to='{B}'><show>away</show><status>Lunch &amp; more</status>\
             <priority>32</priority></presence>",
        ),
    );
    f.stack.assert_no_crash();
}

#[test]
fn status_longer_than_1024_characters_is_cut_at_a_character_boundary() {
    let f = bob_watches_alice(via_notifier());
    let long = "é".repeat(1500);
    let inner = tuple("t1", "open", &format!("<note>{long}</note>"));
    f.notify_expect(ACTIVE, Some(&pidf(&inner)), 200);
    let got = next_presence(f.bob(), &f.alice_jid);
    let status = got.child_text("status").expect("a status");
    assert_eq!(status, "é".repeat(1024));
    f.stack.assert_no_crash();
}

// ---- watcherinfo ------------------------------------------------------------------------------

/// SIP alice subscribes to XMPP bob; the route's pua_xmpp_req_winfo makes the gateway
/// subscribe to bob's watcherinfo, which the notifier accepts. Returns the winfo dialog.
fn alice_watches_bob(
    stack: &kamailio_test_stack::Stack,
    notifier: &Notifier,
) -> (SipUa, Subscription) {
    let alice = stack.sip_ua(ALICE);
    let (r, _dlg) = alice.subscribe(&bob_sip(), "presence", 600).unwrap();
    assert_eq!(r.status(), Some(200), "{r:?}");
    let req = notifier.expect("SUBSCRIBE");
    assert_eq!(req.event(), Some("presence.winfo"), "{req:?}");
    let sub = notifier.accept(&req, 600);
    (alice, sub)
}

/// Proves that nothing reached bob since the last expectation: a watcherinfo NOTIFY with one
/// new active watcher must make the next subscription request bob sees.
fn assert_next_request_is_a_marker(
    notifier: &Notifier,
    sub: &Subscription,
    bob: &kamailio_test_stack::XmppClient,
) {
    let marker = "sip:marker@sip.example";
    let body = winfo(1, &bob_sip(), &[(marker, "active")]);
    assert_eq!(notifier.notify(sub, ACTIVE, Some(&body)), 200);
    let got = bob
        .expect_stanza(T, |s| {
            s.name == "presence" && s.type_() == Some("subscribe")
        })
        .unwrap();
    assert_eq!(
        got.attr("from"),
        Some(jid_for_sip(marker).as_str()),
        "{got:?}"
    );
}

#[test]
fn winfo_asks_bob_for_active_pending_and_waiting_watchers_once_each() {
    let stack = kamailio_test_stack::Stack::start(via_notifier());
    let notifier = Notifier::bind(&stack);
    let bob = stack.xmpp_client("bob@xmpp.example/phone");
    online(&bob, None, None);
    let (_alice, sub) = alice_watches_bob(&stack, &notifier);
    let users = ["carol", "dave", "erin", "frank"];
    let sip = |u: &str| format!("sip:{u}@sip.example");
    let body = winfo(
        0,
        &bob_sip(),
        &[
            (&sip("carol"), "active"),
            (&sip("dave"), "pending"),
            (&sip("erin"), "waiting"),
            (&sip("frank"), "terminated"),
            (&sip("carol"), "active"),
        ],
    );
    assert_eq!(notifier.notify(&sub, ACTIVE, Some(&body)), 200);
    for user in &users[..3] {
        let jid = jid_for_sip(&sip(user));
        let got = next_presence(&bob, &jid);
        assert_stanza(
            &got,
            &format!("<presence type='subscribe' from='{jid}' to='{BOB}'/>"),
        );
    }
    // The terminated watcher caused nothing: the next request bob sees is a later marker.
    assert_next_request_is_a_marker(&notifier, &sub, &bob);
    stack.assert_no_crash();
}

#[test]
fn terminated_winfo_notify_asks_nothing() {
    let stack = kamailio_test_stack::Stack::start(via_notifier());
    let notifier = Notifier::bind(&stack);
    let bob = stack.xmpp_client("bob@xmpp.example/phone");
    online(&bob, None, None);
    let (_alice, sub) = alice_watches_bob(&stack, &notifier);
    let carol = "sip:carol@sip.example";
    let body = winfo(0, &bob_sip(), &[(carol, "active")]);
    assert_eq!(
        notifier.notify(&sub, "terminated;reason=timeout", Some(&body)),
        200
    );
    assert_eq!(
        notifier.notify(&sub, "terminated;reason=rejected", None),
        200
    );
    assert_next_request_is_a_marker(&notifier, &sub, &bob);
    stack.assert_no_crash();
}

/// Two workers, many NOTIFYs in flight at once: every one answered 200 and translated.
#[test]
fn a_burst_of_notifies_is_answered_and_translated_in_full() {
    let f = bob_watches_alice(via_notifier());
    const N: usize = 40;
    let mut sent = Vec::new();
    for i in 0..N {
        let body = pidf(&tuple("t1", "open", &format!("<note>n{i}</note>")));
        sent.push(f.notifier.send_notify_raw(
            &f.sub,
            &[
                ("Event", "presence"),
                ("Subscription-State", ACTIVE),
                ("Content-Type", "application/pidf+xml"),
            ],
            body.as_bytes(),
        ));
    }
    for (call_id, cseq) in &sent {
        let r = f.notifier.wait_response(call_id, *cseq).unwrap();
        assert_eq!(r.status(), Some(200), "{r:?}");
    }
    let mut notes: Vec<String> = (0..N)
        .map(|_| {
            next_presence(f.bob(), &f.alice_jid)
                .child_text("status")
                .unwrap_or_default()
        })
        .collect();
    notes.sort();
    let mut want: Vec<String> = (0..N).map(|i| format!("n{i}")).collect();
    want.sort();
    assert_eq!(notes, want);
    f.stack.assert_no_crash();
}

/// Replies to the winfo subscriptions of section 2 only feed the remote-contact state: bob
/// hears nothing of a 2xx or an error to them.
#[test]
fn replies_to_winfo_subscribes_send_no_stanza() {
    let stack = kamailio_test_stack::Stack::start(via_notifier());
    let notifier = Notifier::bind(&stack);
    let bob = stack.xmpp_client("bob@xmpp.example/phone");
    online(&bob, None, None);
    bob.roster().unwrap();
    let (_alice, sub) = alice_watches_bob(&stack, &notifier);
    // An error to a winfo subscription of another XMPP user (carol).
    let dave = stack.sip_ua("sip:dave@sip.example");
    let carol_sip = kamailio_test_stack::sip_for_jid("carol@xmpp.example");
    let _ = dave.subscribe(&carol_sip, "presence", 600).unwrap();
    let req = notifier.expect("SUBSCRIBE");
    assert_eq!(req.request_uri(), Some(carol_sip.as_str()), "{req:?}");
    notifier.reply(&req, 403, "Forbidden", Some("x"), &[]);
    // Marker: the next stanza bob gets at all is the subscription request it causes.
    let marker = "sip:marker@sip.example";
    let body = winfo(0, &bob_sip(), &[(marker, "active")]);
    assert_eq!(notifier.notify(&sub, ACTIVE, Some(&body)), 200);
    let got = bob.expect_stanza(T, |s| s.name == "presence").unwrap();
    assert_stanza(
        &got,
        &format!(
            "<presence type='subscribe' from='{}' to='{BOB}'/>",
            jid_for_sip(marker)
        ),
    );
    // Prosody would swallow a stray `subscribed`: look at what the component sent it.
    let from_gateway: Vec<String> = stack
        .prosody_log()
        .lines()
        .filter(|l| l.contains("Received[component]: <presence"))
        .map(str::to_string)
        .collect();
    assert!(!from_gateway.is_empty(), "Prosody logs component traffic");
    assert!(
        from_gateway
            .iter()
            .all(|l| !l.contains("type='subscribed'") && !l.contains("type='error'")),
        "{from_gateway:#?}"
    );
    stack.assert_no_crash();
}

#[test]
fn malformed_or_doctype_watcherinfo_is_refused_and_asks_nothing() {
    let stack = kamailio_test_stack::Stack::start(via_notifier());
    let notifier = Notifier::bind(&stack);
    let bob = stack.xmpp_client("bob@xmpp.example/phone");
    online(&bob, None, None);
    let (_alice, sub) = alice_watches_bob(&stack, &notifier);
    let carol = "sip:carol@sip.example";
    let bodies = [
        winfo(0, &bob_sip(), &[(carol, "active")]).replace("state='full'", ""),
        format!(
            "<!DOCTYPE watcherinfo>{}",
            winfo(0, &bob_sip(), &[(carol, "active")]).replace("<?xml version='1.0'?>", "")
        ),
        "<watcherinfo xmlns='urn:ietf:params:xml:ns:watcherinfo'".to_string(),
    ];
    for body in &bodies {
        assert_eq!(notifier.notify(&sub, ACTIVE, Some(body)), 500, "{body}");
    }
    assert_next_request_is_a_marker(&notifier, &sub, &bob);
    stack.assert_no_crash();
}

#[test]
fn winfo_watchers_of_every_watcher_list_are_asked() {
    let stack = kamailio_test_stack::Stack::start(via_notifier());
    let notifier = Notifier::bind(&stack);
    let bob = stack.xmpp_client("bob@xmpp.example/phone");
    online(&bob, None, None);
    let (_alice, sub) = alice_watches_bob(&stack, &notifier);
    let list = |package: &str, uri: &str| {
        format!(
            "<watcher-list resource='{}' package='{package}'>\
             <watcher id='{package}' event='subscribe' status='active'>{uri}</watcher>\
             </watcher-list>",
            bob_sip()
        )
    };
    let body = format!(
        "<?xml version='1.0'?><watcherinfo xmlns='urn:ietf:params:xml:ns:watcherinfo' \
         version='0' state='full'>{}{}</watcherinfo>",
        list("presence", "sip:carol@sip.example"),
        list("presence.winfo", "sip:dave@sip.example"),
    );
    assert_eq!(notifier.notify(&sub, ACTIVE, Some(&body)), 200);
    for user in ["carol", "dave"] {
        let jid = jid_for_sip(&format!("sip:{user}@sip.example"));
        let got = next_presence(&bob, &jid);
        assert_eq!(got.type_(), Some("subscribe"), "{got:?}");
    }
    stack.assert_no_crash();
}
