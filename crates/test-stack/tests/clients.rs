//! The drivers of real third-party clients (slixmpp, baresip) against the C baseline stack.
//!
//! These test the drivers, not the gateway: slixmpp users talk to each other through Prosody,
//! baresip registers, publishes and receives a MESSAGE through Kamailio. Run with
//! `cargo nextest run -p kamailio-test-stack --test clients` as root (`tests/stack/setup.sh`
//! installs `baresip` and `python3-slixmpp`).

use kamailio_test_stack::baresip::Contact;
use kamailio_test_stack::slixmpp::{PresenceSpec, ReceivedPresence};
use kamailio_test_stack::{Baresip, Slixmpp, Stack, StackConfig, jid_for_sip, pidf, sip_for_jid};
use std::time::{Duration, Instant};

const T: Duration = Duration::from_secs(10);
const TEXT: &str = "héllo < & ' \" 😀";

fn login(jid: &str) -> Slixmpp {
    let t0 = Instant::now();
    let c = Slixmpp::login(jid, "password").unwrap_or_else(|e| panic!("login {jid}: {e}"));
    eprintln!("slixmpp {jid}: logged in after {:?}", t0.elapsed());
    c
}

/// a and b send available presence, subscribe to each other (each approves the other's
/// request) and end with `both` in their rosters. (Prosody delivers a subscription request
/// only to an available resource; without offline storage one sent earlier is lost.)
fn befriend(a: &Slixmpp, b: &Slixmpp) {
    a.presence(None, None, None).unwrap();
    b.presence(None, None, None).unwrap();
    for (x, y) in [(a, b), (b, a)] {
        x.roster_add(y.bare_jid()).unwrap();
        x.subscribe(y.bare_jid()).unwrap();
        let req = y
            .wait_presence(T, |p| {
                p.ptype == "subscribe" && p.from_bare() == x.bare_jid()
            })
            .unwrap();
        assert_eq!(req.to.as_deref(), Some(y.bare_jid()), "{req:?}");
        y.subscribed(x.bare_jid()).unwrap();
        x.wait_roster(T, |r| {
            r.jid == y.bare_jid() && matches!(r.subscription.as_str(), "to" | "both")
        })
        .unwrap();
    }
    for (x, y) in [(a, b), (b, a)] {
        x.wait_roster(T, |r| r.jid == y.bare_jid() && r.subscription == "both")
            .unwrap();
    }
}

fn available_from(p: &ReceivedPresence, jid: &str) -> bool {
    p.ptype == "available" && p.from == jid
}

#[test]
fn slixmpp_users_see_each_others_presence() {
    let _stack = Stack::start(StackConfig::c_baseline());
    let alice = login("alice@xmpp.example/laptop");
    let bob = login("bob@xmpp.example/phone");
    assert_eq!(alice.jid(), "alice@xmpp.example/laptop");
    befriend(&alice, &bob);

    alice
        .presence(Some("away"), Some("out for lunch 😀"), Some(5))
        .unwrap();
    // (Earlier ones, without show, came with the subscription approvals.)
    let p = bob
        .wait_presence(T, |p| available_from(p, alice.jid()) && p.show.is_some())
        .unwrap();
    assert_eq!(p.show.as_deref(), Some("away"), "{p:?}");
    assert_eq!(p.status.as_deref(), Some("out for lunch 😀"), "{p:?}");
    assert_eq!(p.priority_num(), Some(5), "{p:?}");
    // slixmpp stamps its stream language (en) on what it sends; Prosody keeps it.
    assert_eq!(p.status_lang.as_deref(), Some("en"), "{p:?}");

    bob.send_presence(&PresenceSpec {
        show: Some("dnd".into()),
        status: Some("busy < & ' \"".into()),
        priority: Some(-1),
        lang: Some("de".into()),
        ..PresenceSpec::default()
    })
    .unwrap();
    let p = alice
        .wait_presence(T, |p| available_from(p, bob.jid()) && p.show.is_some())
        .unwrap();
    assert_eq!(
        (
            p.show.as_deref(),
            p.status.as_deref(),
            p.priority.as_deref()
        ),
        (Some("dnd"), Some("busy < & ' \""), Some("-1")),
        "{p:?}"
    );
    assert_eq!(p.status_lang.as_deref(), Some("de"), "{p:?}");

    // A probe is answered by the server with bob's last presence.
    alice.probe(bob.bare_jid()).unwrap();
    let p = alice
        .wait_presence(T, |p| available_from(p, bob.jid()) && p.show.is_some())
        .unwrap();
    assert_eq!(p.show.as_deref(), Some("dnd"), "{p:?}");
    assert!(alice.presences().len() >= 2);

    // Clean logout: the server tells alice.
    bob.logout().unwrap();
    let p = alice
        .wait_presence(T, |p| {
            p.ptype == "unavailable" && p.from == "bob@xmpp.example/phone"
        })
        .unwrap();
    assert!(p.xml.contains("unavailable"), "{p:?}");
    alice.logout().unwrap();
}

#[test]
fn slixmpp_message_arrives_byte_identical() {
    let _stack = Stack::start(StackConfig::c_baseline());
    let alice = login("alice@xmpp.example/laptop");
    let bob = login("bob@xmpp.example/phone");
    // Messages between users of one server need no subscription.
    alice.presence(None, None, None).unwrap();
    bob.presence(None, None, None).unwrap();
    alice.message(bob.jid(), TEXT).unwrap();
    let m = bob.wait_message(T, |m| m.from == alice.jid()).unwrap();
    assert_eq!(m.body.as_deref(), Some(TEXT), "{m:?}");
    assert_eq!(m.body.as_deref().unwrap().as_bytes(), TEXT.as_bytes());
    assert_eq!(m.mtype, "chat");
    // The line protocol's own escapes (tab, newlines, backslash) survive too.
    let tricky = "a\tb\nc\r\nd \\t \\\\ =x";
    bob.message(alice.jid(), tricky).unwrap();
    let m = alice.wait_message(T, |m| m.from == bob.jid()).unwrap();
    // XML normalises a CR LF in text to LF (XML 1.0 section 2.11).
    assert_eq!(m.body.as_deref(), Some("a\tb\nc\nd \\t \\\\ =x"), "{m:?}");
}

#[test]
fn slixmpp_dropped_connection_becomes_unavailable() {
    let _stack = Stack::start(StackConfig::c_baseline());
    let alice = login("alice@xmpp.example/laptop");
    let bob = login("bob@xmpp.example/phone");
    befriend(&alice, &bob);
    alice.presence(None, Some("here"), None).unwrap();
    bob.presence(None, None, None).unwrap();
    bob.wait_presence(T, |p| available_from(p, alice.jid()))
        .unwrap();
    let t0 = Instant::now();
    alice.drop_connection().unwrap();
    // No unavailable from alice herself: the server notices the closed connection.
    let p = bob
        .wait_presence(Duration::from_secs(60), |p| {
            p.ptype == "unavailable" && p.from == "alice@xmpp.example/laptop"
        })
        .unwrap();
    eprintln!(
        "unavailable after a dropped connection: {:?} ({p:?})",
        t0.elapsed()
    );
}

#[test]
fn baresip_registers_publishes_and_receives_a_message() {
    let stack = Stack::start(StackConfig::c_baseline());
    let aor = "sip:alice@sip.example";
    let t0 = Instant::now();
    let alice = Baresip::start(aor).unwrap();
    eprintln!("baresip registered and published after {:?}", t0.elapsed());

    // The REGISTER is in the trace with its 200, and the first PUBLISH (open) got a 200.
    let trace = alice.trace();
    let reg = trace
        .iter()
        .find(|t| t.outgoing && t.msg.method() == Some("REGISTER"))
        .unwrap();
    let contact = reg.msg.header("Contact").unwrap().to_string();
    assert!(
        contact.contains(&format!("127.0.0.1:{}", alice.sip_port())),
        "{contact}"
    );
    let publish = trace
        .iter()
        .find(|t| t.outgoing && t.msg.method() == Some("PUBLISH"))
        .unwrap();
    assert_eq!(
        pidf::parse(&publish.msg.body_str()).unwrap().basics,
        ["open"]
    );

    // Kamailio's usrloc has it: a MESSAGE to the AOR is looked up, relayed to baresip's
    // contact, answered 200 by baresip, and reported by the driver byte-identical.
    let carol = stack.sip_ua("sip:carol@sip.example");
    let r = carol
        .request(
            "MESSAGE",
            aor,
            &[
                ("From", "<sip:carol@sip.example>;tag=c1"),
                ("To", "<sip:alice@sip.example>"),
                ("Content-Type", "text/plain"),
            ],
            TEXT.as_bytes(),
        )
        .unwrap();
    assert_eq!(r.status(), Some(200), "{r:?}");
    let m = alice.wait_message(T, |_| true).unwrap();
    assert_eq!(m.from, "sip:carol@sip.example");
    assert_eq!(m.text, TEXT);
    assert_eq!(alice.received_messages().len(), 1);

    // A watcher sees baresip's publications.
    let watcher = stack.sip_ua("sip:dave@sip.example");
    let (r, dlg) = watcher.subscribe(aor, "presence", 600).unwrap();
    assert_eq!(r.status(), Some(200), "{r:?}");
    let basics = |n: &kamailio_test_stack::SipMessage| {
        pidf::parse(&n.body_str())
            .map(|p| p.basics)
            .unwrap_or_default()
    };
    let n = watcher
        .expect_notify(T, |n| n.call_id() == Some(dlg.call_id.as_str()))
        .unwrap();
    assert_eq!(basics(&n), ["open"], "{n:?}");

    assert_eq!(
        alice.online().unwrap(),
        None,
        "already online: baresip sends nothing"
    );
    assert_eq!(alice.offline().unwrap(), Some(200));
    let n = watcher
        .expect_notify(T, |n| n.call_id() == Some(dlg.call_id.as_str()))
        .unwrap();
    assert_eq!(basics(&n), ["closed"], "{n:?}");
    assert_eq!(alice.online().unwrap(), Some(200));
    let n = watcher
        .expect_notify(T, |n| n.call_id() == Some(dlg.call_id.as_str()))
        .unwrap();
    assert_eq!(basics(&n), ["open"], "{n:?}");

    alice.quit().unwrap();
    stack.assert_no_crash();
}

/// baresip and slixmpp through the gateway: baresip watches an XMPP user's SIP alias and
/// messages it. Driver-level facts only (what the C baseline does with them is asserted
/// loosely).
#[test]
fn baresip_watches_and_messages_an_xmpp_user() {
    let stack = Stack::start(StackConfig::c_baseline());
    let aor = "sip:alice@sip.example";
    let bob_sip = sip_for_jid("bob@xmpp.example");
    let bob = login("bob@xmpp.example/phone");
    bob.presence(None, None, None).unwrap();
    let alice = Baresip::start_with(
        aor,
        &[
            Contact::plain("sip:nobody@sip.example"),
            Contact::watched(&bob_sip),
        ],
    )
    .unwrap();
    // baresip SUBSCRIBEs one second after start; the presence server's first NOTIFY has no
    // body (nothing published for bob yet): Unknown.
    alice
        .wait_trace(T, |t| {
            t.outgoing
                && t.msg.method() == Some("SUBSCRIBE")
                && t.msg.request_uri() == Some(bob_sip.as_str())
        })
        .unwrap();
    // baresip shows a status for every contact once presence.so is loaded; a contact it
    // does not watch stays Unknown; a URI that is no contact has none.
    assert_eq!(
        alice
            .contact_status("sip:nobody@sip.example")
            .unwrap()
            .as_deref(),
        Some("Unknown")
    );
    assert_eq!(
        alice.contact_status("sip:nosuch@sip.example").unwrap(),
        None
    );

    // The gateway asks bob for alice (winfo of her SUBSCRIBE); only then is the order of what
    // follows fixed (a directed presence sent before that request may not reach the gateway).
    bob.wait_presence(T, |p| {
        p.from_bare() == jid_for_sip(aor) && p.ptype == "subscribe"
    })
    .unwrap();
    // bob's directed presence to alice's alias makes the gateway PUBLISH for bob's alias.
    bob.send_presence(&PresenceSpec {
        to: Some(jid_for_sip(aor)),
        ..PresenceSpec::default()
    })
    .unwrap();
    let s = alice
        .wait_contact_status(&bob_sip, T, |s| s == "Online")
        .unwrap();
    assert_eq!(s, "Online");

    let code = alice.message(&bob_sip, "hello bob").unwrap();
    assert!((200..300).contains(&code), "MESSAGE answered {code}");
    let m = bob
        .wait_message(T, |m| m.from_bare() == jid_for_sip(aor))
        .unwrap();
    assert_eq!(m.body.as_deref(), Some("hello bob"), "{m:?}");

    alice.quit().unwrap();
    stack.assert_no_crash();
}
