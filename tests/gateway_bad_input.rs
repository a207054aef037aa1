//! Hostile and odd input through our module on the REAL stack (Kamailio + Prosody): bad NOTIFY
//! bodies and dialogs, odd XMPP addresses, markup injection both ways; Kamailio keeps serving.

mod e2e;

use e2e::*;
use kamailio_test_stack::stanza::Element;
use kamailio_test_stack::{ModparamValue, Stack, jid_for_sip};

const ACTIVE: &str = "active;expires=3600";

/// A NOTIFY with this raw body in the gateway's dialog must be refused (500) with nothing sent
/// to XMPP, and the next good NOTIFY must still get through.
fn assert_refused(f: &BobWatchesAlice, what: &str, ctype: &str, body: &[u8]) {
    let r = f.notifier.notify_raw(
        &f.sub,
        &[
            ("Event", "presence"),
            ("Subscription-State", ACTIVE),
            ("Content-Type", ctype),
        ],
        body,
    );
    assert_eq!(r.status(), Some(500), "{what}: {r:?}");
    f.assert_nothing_sent();
}

#[test]
fn malformed_pidf_bodies_are_refused_and_kamailio_keeps_serving() {
    let f = bob_watches_alice(via_notifier());
    let pidf_type = "application/pidf+xml";
    let rows: &[(&str, &[u8])] = &[
        (
            "unclosed",
            b"<presence xmlns='urn:ietf:params:xml:ns:pidf'><tuple id='a'>",
        ),
        ("not XML", b"hello, this is not XML"),
        ("wrong root", b"<foo xmlns='urn:ietf:params:xml:ns:pidf'/>"),
        ("two roots", b"<presence/><presence/>"),
        ("bad entity", b"<presence><note>&nosuch;</note></presence>"),
        ("NUL byte", b"<presence>\0</presence>"),
    ];
    for (what, body) in rows {
        assert_refused(&f, what, pidf_type, body);
    }
    f.stack.assert_no_crash();
}

#[test]
fn non_utf8_pidf_body_is_refused() {
    let f = bob_watches_alice(via_notifier());
    let mut body = pidf(&tuple("t1", "open", "<note>caf\u{e9}</note>")).into_bytes();
    // Latin-1 é where UTF-8 is declared.
    let at = body.windows(2).position(|w| w == "é".as_bytes()).unwrap();
    body.splice(at..at + 2, [0xe9]);
    assert_refused(&f, "Latin-1", "application/pidf+xml", &body);
    assert_refused(
        &f,
        "lone continuation byte",
        "application/pidf+xml",
        b"<presence>\x80</presence>",
    );
    f.stack.assert_no_crash();
}

#[test]
fn doctype_and_entity_declarations_are_refused() {
    let f = bob_watches_alice(via_notifier());
    let laughs = "<?xml version='1.0'?><!DOCTYPE presence [<!ENTITY a 'lol'>\
        <!ENTITY b '&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;'><!ENTITY c '&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;'>]>\
        <presence xmlns='urn:ietf:params:xml:ns:pidf' entity='pres:a@b'><tuple id='t'>\
        <status><basic>open</basic></status><note>&c;</note></tuple></presence>";
    let external = "<?xml version='1.0'?><!DOCTYPE presence SYSTEM 'file:///etc/passwd'>\
        <presence xmlns='urn:ietf:params:xml:ns:pidf' entity='pres:a@b'><tuple id='t'>\
        <status><basic>open</basic></status></tuple></presence>";
    let plain = format!(
        "<!DOCTYPE presence>{}",
        pidf(&tuple("t", "open", "")).replace("<?xml version='1.0' encoding='UTF-8'?>", "")
    );
    for (what, body) in [
        ("entities", laughs),
        ("external DTD", external),
        ("bare DOCTYPE", &plain),
    ] {
        assert_refused(&f, what, "application/pidf+xml", body.as_bytes());
    }
    f.stack.assert_no_crash();
}

#[test]
fn body_over_max_body_size_is_refused_and_one_under_it_passes() {
    let cfg = via_notifier().pua_xmpp_param("max_body_size", ModparamValue::Int(2048));
    let f = bob_watches_alice(cfg);
    let body = |len: usize| {
        let skeleton = pidf(&tuple("t1", "open", "<note></note>"));
        let pad = "x".repeat(len - skeleton.len());
        pidf(&tuple("t1", "open", &format!("<note>{pad}</note>")))
    };
    let over = body(2049);
    assert_eq!(over.len(), 2049);
    assert_refused(&f, "2049 bytes", "application/pidf+xml", over.as_bytes());
    let exact = body(2048);
    f.notify_expect(ACTIVE, Some(&exact), 200);
    let got = next_presence(f.bob(), &f.alice_jid);
    // The note is cut to 1024 characters on the way.
    assert_eq!(
        got.child_text("status").map(|s| s.len()),
        Some(1024),
        "{got:?}"
    );
    f.stack.assert_no_crash();
}

/// The default limit (64 KiB) needs a body bigger than a UDP datagram: TCP, with Kamailio's
/// TCP read buffer raised so the message reaches the route at all.
#[test]
fn body_over_the_default_64_kib_is_refused_over_tcp() {
    let mut cfg = via_notifier();
    cfg.extra_global_cfg.push("tcp_rd_buf_size=1048576".into());
    let f = bob_watches_alice(cfg);
    let note = "x".repeat(70 * 1024);
    let body = pidf(&tuple("t1", "open", &format!("<note>{note}</note>")));
    let s = &f.sub;
    let raw = format!(
        "NOTIFY {target} SIP/2.0\r\n\
         Via: SIP/2.0/TCP 127.0.0.1:5071;branch=z9hG4bKbig1\r\n\
         Max-Forwards: 70\r\n\
         From: <{pres}>;tag={ltag}\r\n\
         To: <{watcher}>;tag={wtag}\r\n\
         Call-ID: {cid}\r\n\
         CSeq: 100 NOTIFY\r\n\
         Contact: <sip:alice@127.0.0.1:5070>\r\n\
         Event: presence\r\n\
         Subscription-State: {ACTIVE}\r\n\
         Content-Type: application/pidf+xml\r\n\
         Content-Length: {len}\r\n\r\n{body}",
        target = s.target,
        pres = s.pres_uri,
        ltag = s.local_tag,
        watcher = s.watcher_uri,
        wtag = s.watcher_tag,
        cid = s.call_id,
        len = body.len(),
    );
    assert_eq!(tcp_request(raw.as_bytes()).unwrap(), 500);
    f.assert_nothing_sent();
    f.stack.assert_no_crash();
}

#[test]
fn notify_outside_any_gateway_dialog_is_answered_481() {
    let f = bob_watches_alice(via_notifier());
    let body = pidf(&tuple("t1", "open", "<note>stray</note>"));
    let s = &f.sub;
    let headers =
        |from: String, to: String, cid: String, event: &'static str| (from, to, cid, event);
    let rows = [
        (
            "unknown Call-ID and tags",
            headers(
                format!("<{}>;tag=stray-from", s.pres_uri),
                format!("<{}>;tag=stray-to", s.watcher_uri),
                "stray@127.0.0.1".into(),
                "presence",
            ),
        ),
        (
            "right Call-ID, wrong tags",
            headers(
                format!("<{}>;tag=stray-from", s.pres_uri),
                format!("<{}>;tag=stray-to", s.watcher_uri),
                s.call_id.clone(),
                "presence",
            ),
        ),
        (
            "no To tag",
            headers(
                format!("<{}>;tag={}", s.pres_uri, s.local_tag),
                format!("<{}>", s.watcher_uri),
                s.call_id.clone(),
                "presence",
            ),
        ),
        (
            "another presentity",
            headers(
                format!("<sip:mallory@sip.example>;tag={}", s.local_tag),
                format!("<{}>;tag={}", s.watcher_uri, s.watcher_tag),
                s.call_id.clone(),
                "presence",
            ),
        ),
    ];
    for (what, (from, to, cid, event)) in rows {
        let r = f
            .notifier
            .request(
                "NOTIFY",
                GATEWAY,
                &[
                    ("From", &from),
                    ("To", &to),
                    ("Call-ID", &cid),
                    ("CSeq", "7 NOTIFY"),
                    ("Contact", "<sip:alice@127.0.0.1:5070>"),
                    ("Event", event),
                    ("Subscription-State", ACTIVE),
                    ("Content-Type", "application/pidf+xml"),
                ],
                body.as_bytes(),
            )
            .unwrap();
        assert_eq!(r.status(), Some(481), "{what}: {r:?}");
    }
    f.assert_nothing_sent();
    f.stack.assert_no_crash();
}

/// pua's own dialog lookup ignores the event and matches Call-ID and tags by prefix
/// (docs/behaviour.md section 1): the module must not let that through.
#[test]
fn notify_with_the_wrong_event_or_extended_ids_in_a_known_dialog_is_refused() {
    let f = bob_watches_alice(via_notifier());
    let s = &f.sub;
    let winfo_body = winfo(0, &s.pres_uri, &[("sip:carol@sip.example", "active")]);
    let pidf_body = pidf(&tuple("t1", "open", "<note>stray</note>"));
    let rows: [(&str, String, String, String, &str, &str, &str); 3] = [
        (
            "presence.winfo in a presence dialog",
            format!("<{}>;tag={}", s.pres_uri, s.local_tag),
            format!("<{}>;tag={}", s.watcher_uri, s.watcher_tag),
            s.call_id.clone(),
            "presence.winfo",
            "application/watcherinfo+xml",
            &winfo_body,
        ),
        (
            "Call-ID with a suffix",
            format!("<{}>;tag={}", s.pres_uri, s.local_tag),
            format!("<{}>;tag={}", s.watcher_uri, s.watcher_tag),
            format!("{}-other", s.call_id),
            "presence",
            "application/pidf+xml",
            &pidf_body,
        ),
        (
            "tags with a suffix",
            format!("<{}>;tag={}x", s.pres_uri, s.local_tag),
            format!("<{}>;tag={}x", s.watcher_uri, s.watcher_tag),
            s.call_id.clone(),
            "presence",
            "application/pidf+xml",
            &pidf_body,
        ),
    ];
    for (what, from, to, cid, event, ctype, body) in rows {
        let r = f
            .notifier
            .request(
                "NOTIFY",
                GATEWAY,
                &[
                    ("From", &from),
                    ("To", &to),
                    ("Call-ID", &cid),
                    ("CSeq", "9 NOTIFY"),
                    ("Contact", "<sip:alice@127.0.0.1:5070>"),
                    ("Event", event),
                    ("Subscription-State", ACTIVE),
                    ("Content-Type", ctype),
                ],
                body.as_bytes(),
            )
            .unwrap();
        assert_eq!(r.status(), Some(481), "{what}: {r:?}");
    }
    f.assert_nothing_sent();
    assert!(
        f.bob()
            .pending_stanzas()
            .iter()
            .all(|s| s.type_() != Some("subscribe")),
        "{:?}",
        f.bob().pending_stanzas()
    );
    f.stack.assert_no_crash();
}

#[test]
fn markup_in_a_note_arrives_as_status_text_not_as_a_stanza() {
    let f = bob_watches_alice(via_notifier());
    let evil = "</status><message to='bob@xmpp.example'><body>pwned</body></message><status>";
    let escaped = evil
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('\'', "&apos;");
    let inner = tuple(
        "t1",
        "open",
        &format!("<note xml:lang=\"en' evil='1\">{escaped}</note>"),
    );
    f.notify_expect(ACTIVE, Some(&pidf(&inner)), 200);
    let got = next_presence(f.bob(), &f.alice_jid);
    let status = got.child("status").expect("a status");
    assert_eq!(status.text(), evil, "{got:?}");
    assert_eq!(status.attr("xml:lang"), Some("en' evil='1"), "{got:?}");
    assert_eq!(got.elements().count(), 1, "{got:?}");
    f.assert_nothing_sent();
    assert!(
        f.bob()
            .pending_stanzas()
            .iter()
            .all(|s| s.name != "message"),
        "{:?}",
        f.bob().pending_stanzas()
    );
    f.stack.assert_no_crash();
}

#[test]
fn markup_in_an_xmpp_status_arrives_as_pidf_note_text() {
    let stack = Stack::start(via_notifier());
    let notifier = Notifier::bind(&stack);
    let bob = stack.xmpp_client("bob@xmpp.example/phone");
    let evil = "</note></tuple><tuple id='evil'><status><basic>open</basic></status></tuple>";
    online(&bob, None, Some(evil));
    bob.send_presence(
        Some(&alice_jid()),
        None,
        &format!(
            "<status>{}</status>",
            kamailio_test_stack::stanza::escape(evil)
        ),
    )
    .unwrap();
    let req = notifier.expect("PUBLISH");
    notifier.accept_publish(&req);
    let body = req.body_str();
    let body = &body[body.find("?>").map_or(0, |i| i + 2)..];
    let doc = Element::parse_fragment(body.trim()).unwrap();
    let tuples: Vec<&Element> = doc.elements().filter(|e| e.name == "tuple").collect();
    assert_eq!(tuples.len(), 1, "{body}");
    assert_eq!(
        tuples[0].child_text("note").as_deref(),
        Some(evil),
        "{body}"
    );
    stack.assert_no_crash();
}

/// Subscriptions to component JIDs that do not decode to a usable SIP URI: no crash, nothing
/// malformed on the wire, and the next good request still works.
#[test]
fn odd_xmpp_addresses_do_not_hurt_the_gateway() {
    let stack = Stack::start(via_notifier());
    let notifier = Notifier::bind(&stack);
    let bob = stack.xmpp_client("bob@xmpp.example/phone");
    online(&bob, None, None);
    let gw = kamailio_test_stack::XMPP_GW_DOMAIN;
    let long = "a".repeat(900);
    let odd = [
        gw.to_string(),
        format!("nostar@{gw}"),
        format!("*sip.example@{gw}"),
        format!("alice*@{gw}"),
        format!("a*b*c@{gw}"),
        format!("{long}*sip.example@{gw}"),
        format!("ålice*sip.example@{gw}"),
        format!("alice*sip.example@{gw}/some-resource"),
    ];
    for jid in &odd {
        bob.subscribe(jid).unwrap();
        bob.send_presence(Some(jid), None, "<status>hi</status>")
            .unwrap();
        bob.unsubscribe(jid).unwrap();
    }
    // The good one: a SUBSCRIBE for carol, whatever the odd ones produced before it.
    let carol = "sip:carol@sip.example";
    bob.subscribe(&jid_for_sip(carol)).unwrap();
    let req = notifier
        .expect_request(T, |m| {
            m.method() == Some("SUBSCRIBE") && m.request_uri() == Some(carol)
        })
        .unwrap();
    notifier.accept(&req, 3600);
    // Whatever the odd addresses produced is addressed to a SIP URI with a user and a host.
    for m in notifier.pending() {
        let ruri = m.request_uri().unwrap_or("");
        let (user, host) = ruri
            .strip_prefix("sip:")
            .and_then(|r| r.split_once('@'))
            .unwrap_or(("", ""));
        assert!(!user.is_empty() && !host.is_empty(), "{m:?}");
    }
    stack.assert_no_crash();
}

/// RFC 3261 wants header text in UTF-8, but Kamailio passes other bytes on and third-party
/// notifiers send Latin-1 (a `Server` header, a display name). Bytes in headers the gateway
/// does not read must not cost the XMPP user the `subscribed` answer, the dialog's remote
/// contact (needed to unsubscribe) or a NOTIFY.
#[test]
fn latin1_bytes_in_headers_the_gateway_does_not_read_are_tolerated() {
    let stack = Stack::start(via_notifier());
    let notifier = Notifier::bind(&stack);
    let bob = stack.xmpp_client("bob@xmpp.example/phone");
    let alice_jid = alice_jid();
    online(&bob, None, None);
    bob.roster().unwrap();
    bob.roster_add(&alice_jid).unwrap();
    bob.subscribe(&alice_jid).unwrap();
    let req = notifier.expect("SUBSCRIBE");
    let server = format!("Caf{LATIN1_E_ACUTE} SIP 1.0");
    let contact = Notifier::contact("alice");
    notifier.reply(
        &req,
        200,
        "OK",
        Some("latin1"),
        &[
            ("Contact", &contact),
            ("Expires", "3600"),
            ("Server", &server),
        ],
    );
    let got = next_presence(&bob, &alice_jid);
    assert_stanza(
        &got,
        &format!("<presence type='subscribed' from='{alice_jid}' to='{BOB}'/>"),
    );
    let sub = Subscription::new(&req, "latin1");
    let body = pidf(&tuple("t1", "open", "<note>caf\u{e9}</note>"));
    let agent = format!("Jos{LATIN1_E_ACUTE}Phone");
    let r = notifier.notify_raw(
        &sub,
        &[
            ("Event", "presence"),
            ("Subscription-State", ACTIVE),
            ("Content-Type", "application/pidf+xml"),
            ("User-Agent", &agent),
        ],
        body.as_bytes(),
    );
    assert_eq!(r.status(), Some(200), "{r:?}");
    let got = next_presence(&bob, &alice_jid);
    assert_stanza(
        &got,
        &format!("<presence from='{alice_jid}' to='{BOB}'><status>caf\u{e9}</status></presence>"),
    );
    std::thread::sleep(std::time::Duration::from_millis(200)); // pua stores the dialog
    bob.unsubscribe(&alice_jid).unwrap();
    let req = notifier.expect("SUBSCRIBE");
    assert_eq!(req.header("Expires"), Some("0"), "{req:?}");
    assert_eq!(req.call_id(), Some(sub.call_id.as_str()), "{req:?}");
    stack.assert_no_crash();
}

#[test]
fn notify_for_another_event_package_is_refused_and_nothing_is_sent() {
    let f = bob_watches_alice(via_notifier());
    let r = f.notifier.notify_raw(
        &f.sub,
        &[
            ("Event", "dialog"),
            ("Subscription-State", ACTIVE),
            ("Content-Type", "application/dialog-info+xml"),
        ],
        b"<dialog-info xmlns='urn:ietf:params:xml:ns:dialog-info' version='0' state='full' entity='sip:alice@sip.example'/>",
    );
    assert_eq!(r.status(), Some(500), "{r:?}");
    f.assert_nothing_sent();
    f.stack.assert_no_crash();
}

/// The route calls pua_xmpp_req_winfo("$ruri", ...) for any SUBSCRIBE to the gateway domain;
/// a Request-URI without a user is refused (nothing sent) and the next good one still works.
#[test]
fn req_winfo_refuses_a_uri_without_user() {
    let stack = Stack::start(via_notifier());
    let notifier = Notifier::bind(&stack);
    let alice = stack.sip_ua(ALICE);
    let gw = format!("sip:{}", kamailio_test_stack::SIP_GW_DOMAIN);
    let _ = alice.subscribe(&gw, "presence", 600).unwrap();
    let (r, _) = alice.subscribe(&bob_sip(), "presence", 600).unwrap();
    assert_eq!(r.status(), Some(200), "{r:?}");
    let req = notifier.next_request(T).unwrap();
    assert_eq!(req.request_uri(), Some(bob_sip().as_str()), "{req:?}");
    assert_eq!(req.event(), Some("presence.winfo"), "{req:?}");
    assert!(
        wait_log(&stack, "is not a SIP URI with user and host"),
        "the refusal is logged"
    );
    stack.assert_no_crash();
}
