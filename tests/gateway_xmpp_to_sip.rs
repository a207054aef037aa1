//! XMPP presence/subscribe/unsubscribe -> SIP PUBLISH/SUBSCRIBE (probes: gateway_lifecycle.rs) through our module on the
//! REAL stack (Kamailio + Prosody), seen by a scripted notifier or a SIP watcher (docs/behaviour.md 3).

mod e2e;

use std::time::Duration;

use e2e::*;
use kamailio_test_stack::stanza::Element;
use kamailio_test_stack::{SipMessage, Stack, pidf as hpidf};

/// The PIDF of a PUBLISH as an element tree (libxml2 reformats it: declaration dropped).
fn body_tree(req: &SipMessage) -> Element {
    let body = req.body_str();
    let body = match body.find("?>") {
        Some(i) if body.trim_start().starts_with("<?xml") => &body[i + 2..],
        _ => &body[..],
    };
    Element::parse_fragment(body.trim()).unwrap_or_else(|e| panic!("{e}: {req:?}"))
}

fn bob_pidf(inner: &str) -> Element {
    Element::parse_fragment(&format!(
        "<presence {NS_DECLS} entity='pres:bob*xmpp.example@xmpp-gw.sip.example'>{inner}</presence>"
    ))
    .unwrap()
}

/// pua sends the PUBLISH to the presentity (bob's SIP alias) with these headers.
fn assert_publish_headers(req: &SipMessage, expires: &str) {
    assert_eq!(req.request_uri(), Some(bob_sip().as_str()), "{req:?}");
    assert_eq!(req.event(), Some("presence"), "{req:?}");
    assert_eq!(req.header("Expires"), Some(expires), "{req:?}");
}

/// pua stores a publication only once the 200 to its first PUBLISH is processed; a presence
/// of the same resource before that would start a second publication (harness pitfall).
fn settle_pua() {
    std::thread::sleep(Duration::from_millis(200));
}

#[test]
fn available_presence_is_published_as_pidf_with_note_priority_and_activity() {
    let stack = Stack::start(via_notifier());
    let notifier = Notifier::bind(&stack);
    let bob = stack.xmpp_client("bob@xmpp.example/phone");
    // Prosody stamps the stream's xml:lang ('en') on the stanza: a status without its own
    // language inherits it.
    bob.send_presence(
        Some(&alice_jid()),
        None,
        "<show>dnd</show><status>In a call</status>\
         <status xml:lang='de'>Im Gespräch</status><priority>5</priority>",
    )
    .unwrap();
    let req = notifier.expect("PUBLISH");
    notifier.accept_publish(&req);
    // expires -1: pua's default (3600), to which pua adds 1 for a PUBLISH.
    assert_publish_headers(&req, "3601");
    assert_eq!(req.header("Content-Type"), Some("application/pidf+xml"));
    assert_eq!(
        body_tree(&req),
        bob_pidf(
            "<tuple id='t-phone'><status><basic>open</basic></status>\
             <contact priority='0.039'>sip:bob*xmpp.example@xmpp-gw.sip.example</contact>\
             <note xml:lang='en'>In a call</note><note xml:lang='de'>Im Gespräch</note></tuple>\
             <dm:person id='p-phone'><rpid:activities><rpid:busy/></rpid:activities></dm:person>"
        ),
        "{req:?}"
    );
    stack.assert_no_crash();
}

#[test]
fn xmpp_show_becomes_an_rpid_activity_and_chat_none() {
    let stack = Stack::start(via_notifier());
    let notifier = Notifier::bind(&stack);
    // One resource per row: each its own publication, so no pua race between rows.
    let rows = [
        ("away", Some("away")),
        ("xa", Some("away")),
        ("dnd", Some("busy")),
        ("chat", None),
    ];
    let mut clients = Vec::new();
    for (show, activity) in rows {
        let bob = stack.xmpp_client(&format!("bob@xmpp.example/{show}"));
        bob.send_presence(Some(&alice_jid()), None, &format!("<show>{show}</show>"))
            .unwrap();
        let req = notifier.expect("PUBLISH");
        notifier.accept_publish(&req);
        let person = match activity {
            Some(a) => format!(
                "<dm:person id='p-{show}'><rpid:activities><rpid:{a}/></rpid:activities></dm:person>"
            ),
            None => format!("<dm:person id='p-{show}'/>"),
        };
        assert_eq!(
            body_tree(&req),
            bob_pidf(&format!(
                "<tuple id='t-{show}'><status><basic>open</basic></status></tuple>{person}"
            )),
            "{req:?}"
        );
        clients.push(bob);
    }
    stack.assert_no_crash();
}

#[test]
fn unavailable_removes_only_that_resources_publication() {
    let stack = Stack::start(via_notifier());
    let notifier = Notifier::bind(&stack);
    let phone = stack.xmpp_client("bob@xmpp.example/phone");
    let laptop = stack.xmpp_client("bob@xmpp.example/laptop");
    let mut etags = Vec::new();
    for (client, res) in [(&phone, "phone"), (&laptop, "laptop")] {
        client.send_presence(Some(&alice_jid()), None, "").unwrap();
        let req = notifier.expect("PUBLISH");
        assert!(req.header("SIP-If-Match").is_none(), "{req:?}");
        assert!(req.body_str().contains(&format!("t-{res}")), "{req:?}");
        etags.push(notifier.accept_publish(&req));
    }
    settle_pua();
    phone
        .send_presence(Some(&alice_jid()), Some("unavailable"), "")
        .unwrap();
    let req = notifier.expect("PUBLISH");
    notifier.reply(
        &req,
        200,
        "OK",
        Some("x"),
        &[("SIP-ETag", "gone"), ("Expires", "0")],
    );
    assert_publish_headers(&req, "0");
    assert!(req.body.is_empty(), "{req:?}");
    // The phone's publication, not the laptop's: pua names it by the ETag it was given.
    assert_eq!(
        req.header("SIP-If-Match"),
        Some(etags[0].as_str()),
        "{req:?}"
    );
    // Nothing else: the laptop is still published.
    assert!(
        notifier
            .pending()
            .iter()
            .all(|m| m.method() != Some("PUBLISH")),
        "{:?}",
        notifier.pending()
    );
    stack.assert_no_crash();
}

/// The real thing: a SIP watcher of XMPP bob through Kamailio's presence server; bob's two
/// devices are two tuples, and when one goes offline the other stays visible.
#[test]
fn two_resources_one_goes_offline_the_other_stays_visible_to_a_sip_watcher() {
    let stack = Stack::start(rust());
    let phone = stack.xmpp_client("bob@xmpp.example/phone");
    online(&phone, None, Some("on the phone"));
    let alice = stack.sip_ua(ALICE);
    let (r, dlg) = alice.subscribe(&bob_sip(), "presence", 600).unwrap();
    assert_eq!(r.status(), Some(200), "{r:?}");
    let ours = |n: &SipMessage| n.call_id() == Some(dlg.call_id.as_str());
    let doc = |n: &SipMessage| hpidf::parse(&n.body_str()).ok();
    // winfo -> bob is asked; he approves and Prosody sends his presence to alice's alias.
    let sub = phone
        .expect_presence(T, &alice_jid(), Some("subscribe"))
        .unwrap();
    assert_stanza(
        &sub,
        &format!(
            "<presence type='subscribe' from='{}' to='{BOB}'/>",
            alice_jid()
        ),
    );
    phone.subscribed(&alice_jid()).unwrap();
    let n = alice
        .expect_notify(T, |n| {
            ours(n) && doc(n).is_some_and(|p| p.tuple_ids == ["t-phone"])
        })
        .unwrap();
    let p = doc(&n).unwrap();
    assert_eq!(p.basics, ["open"], "{n:?}");
    assert_eq!(p.notes, ["on the phone"], "{n:?}");
    assert_eq!(
        p.entity, "pres:bob*xmpp.example@xmpp-gw.sip.example",
        "{n:?}"
    );
    settle_pua();

    let laptop = stack.xmpp_client("bob@xmpp.example/laptop");
    online(&laptop, Some("away"), None);
    let n = alice
        .expect_notify(T, |n| {
            ours(n) && doc(n).is_some_and(|p| p.tuple_ids.len() == 2)
        })
        .unwrap();
    let mut ids = doc(&n).unwrap().tuple_ids;
    ids.sort();
    assert_eq!(ids, ["t-laptop", "t-phone"], "{n:?}");
    assert_eq!(doc(&n).unwrap().basics, ["open", "open"], "{n:?}");
    settle_pua();

    // pua's PUBLISH expires 0 for the phone's publication: the presence server keeps its tuple
    // as closed; the laptop's stays open.
    phone.send_presence(None, Some("unavailable"), "").unwrap();
    let tuples = |n: &SipMessage| {
        doc(n).map(|p| {
            let mut t: Vec<(String, String)> = p.tuple_ids.into_iter().zip(p.basics).collect();
            t.sort();
            t
        })
    };
    let want = vec![
        ("t-laptop".to_string(), "open".to_string()),
        ("t-phone".to_string(), "closed".to_string()),
    ];
    alice
        .expect_notify(T, |n| ours(n) && tuples(n).as_ref() == Some(&want))
        .unwrap();
    stack.assert_no_crash();
}

#[test]
fn subscribe_becomes_a_presence_subscribe_from_the_alias_to_the_sip_contact() {
    let stack = Stack::start(via_notifier());
    let notifier = Notifier::bind(&stack);
    let bob = stack.xmpp_client("bob@xmpp.example/phone");
    bob.roster_add(&alice_jid()).unwrap();
    bob.subscribe(&alice_jid()).unwrap();
    let req = notifier.expect("SUBSCRIBE");
    assert_eq!(req.request_uri(), Some(ALICE), "{req:?}");
    let uri = |h: &str| kamailio_test_stack::sip_msg::uri_of(req.header(h).unwrap()).to_string();
    assert_eq!(uri("From"), bob_sip(), "{req:?}");
    assert_eq!(uri("To"), ALICE, "{req:?}");
    assert!(!req.header("To").unwrap().contains("tag="), "{req:?}");
    assert_eq!(uri("Contact"), GATEWAY, "{req:?}");
    assert_eq!(req.event(), Some("presence"), "{req:?}");
    // expires -1: pua's default (3600), to which pua adds 10.
    assert_eq!(req.header("Expires"), Some("3610"), "{req:?}");
    notifier.accept(&req, 3600);
    bob.wait_roster_subscription(T, &alice_jid(), "to").unwrap();
    stack.assert_no_crash();
}

/// The debug line our module logs for a presence it deliberately does not pass to pua.
fn logged_ignored(stack: &Stack, kind: &str) -> bool {
    wait_log(stack, &format!("XMPP presence of type {kind} from"))
}

#[test]
fn subscribed_unsubscribed_and_error_presences_send_nothing() {
    let mut cfg = via_notifier();
    cfg.debug = 3;
    let stack = Stack::start(cfg);
    let notifier = Notifier::bind(&stack);
    let bob = stack.xmpp_client("bob@xmpp.example/phone");
    let alice = stack.sip_ua(ALICE);
    let (r, _dlg) = alice.subscribe(&bob_sip(), "presence", 600).unwrap();
    assert_eq!(r.status(), Some(200), "{r:?}");
    let req = notifier.expect("SUBSCRIBE");
    let winfo_sub = notifier.accept(&req, 600);
    let ask = |version| {
        let body = winfo(version, &bob_sip(), &[(ALICE, "pending")]);
        assert_eq!(notifier.notify(&winfo_sub, "active", Some(&body)), 200);
        bob.expect_presence(T, &alice_jid(), Some("subscribe"))
            .unwrap();
    };
    // Subscription requests reach available resources only.
    online(&bob, None, None);
    ask(0);
    bob.send_presence(
        Some(&alice_jid()),
        Some("error"),
        "<error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>",
    )
    .unwrap();
    bob.send_presence(Some(&alice_jid()), Some("unsubscribed"), "")
        .unwrap();
    // A round trip on bob's stream: Prosody has handled both before the next request comes in
    // through the component (else it may still see the first request pending and drop it).
    bob.roster().unwrap();
    ask(1);
    bob.subscribed(&alice_jid()).unwrap();
    // Marker: a directed presence reaches pua as a PUBLISH; nothing came before it.
    bob.send_presence(Some(&alice_jid()), None, "").unwrap();
    let next = notifier.next_request(T).unwrap();
    assert_eq!(next.method(), Some("PUBLISH"), "{next:?}");
    for kind in ["Error", "Unsubscribed", "Subscribed"] {
        assert!(
            logged_ignored(&stack, kind),
            "{kind} never reached the module"
        );
    }
    stack.assert_no_crash();
}

/// The `<contact priority>` of one PUBLISH, None without a contact.
fn contact_priority(req: &SipMessage) -> Option<String> {
    let doc = body_tree(req);
    let tuple = doc.child("tuple").expect("a tuple");
    tuple
        .child("contact")
        .map(|c| c.attr("priority").unwrap_or("").to_string())
}

#[test]
fn xmpp_priority_becomes_contact_q_only_when_not_negative() {
    let stack = Stack::start(via_notifier());
    let notifier = Notifier::bind(&stack);
    let rows = [
        ("p127", "127", Some("1")),
        ("p64", "64", Some("0.504")),
        ("p1", "1", Some("0.008")),
        ("p0", "0", Some("0")),
        ("neg", "-5", None),
        ("none", "", None),
    ];
    let mut clients = Vec::new();
    for (res, priority, q) in rows {
        let bob = stack.xmpp_client(&format!("bob@xmpp.example/{res}"));
        let kids = if priority.is_empty() {
            String::new()
        } else {
            format!("<priority>{priority}</priority>")
        };
        bob.send_presence(Some(&alice_jid()), None, &kids).unwrap();
        let req = notifier.expect("PUBLISH");
        notifier.accept_publish(&req);
        assert_eq!(contact_priority(&req).as_deref(), q, "{res}: {req:?}");
        clients.push(bob);
    }
    stack.assert_no_crash();
}

/// An XML id (NCName) as our ids use them: a letter, then letters, digits, '.', '-', '_'.
fn is_xml_id(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_alphabetic())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
}

/// Resources are free text: the tuple and person ids derived from them must stay valid XML
/// ids, distinct per resource, and short enough for pua (which refuses a tuple id of 50
/// characters or more and then publishes nothing).
#[test]
fn tuple_and_person_ids_are_valid_xml_ids_for_any_resource() {
    let stack = Stack::start(via_notifier());
    let notifier = Notifier::bind(&stack);
    let resources = [
        "Gajim 1.8",
        "Büro/Jürgen",
        "1st",
        "_x",
        "Conversations.Ab3x",
        "a-very-long-resource-name-that-goes-on-and-on-and-on-for-a-while",
        "Ärger über Öl, Größe & Maß (Küche)",
    ];
    let mut ids = Vec::new();
    let mut clients = Vec::new();
    for res in resources {
        let bob = stack.xmpp_client(&format!("bob@xmpp.example/{res}"));
        bob.send_presence(Some(&alice_jid()), None, "").unwrap();
        let req = notifier
            .expect_request(T, |m| m.method() == Some("PUBLISH"))
            .unwrap_or_else(|e| panic!("resource {res:?}: {e}"));
        notifier.accept_publish(&req);
        let doc = body_tree(&req);
        let tuple = doc.child("tuple").unwrap().attr("id").unwrap().to_string();
        let person = doc.child("person").unwrap().attr("id").unwrap().to_string();
        for id in [&tuple, &person] {
            assert!(is_xml_id(id) && id.len() < 50, "{res:?} -> {id:?}");
        }
        ids.push(tuple);
        clients.push(bob);
    }
    let mut distinct = ids.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), ids.len(), "{ids:?}");
    stack.assert_no_crash();
}

/// A stanza larger than max_body_size is refused (nothing published); the next one passes.
#[test]
fn xmpp_presence_over_max_body_size_is_not_published() {
    let cfg = via_notifier().pua_xmpp_param(
        "max_body_size",
        kamailio_test_stack::ModparamValue::Int(4096),
    );
    let stack = Stack::start(cfg);
    let notifier = Notifier::bind(&stack);
    let bob = stack.xmpp_client("bob@xmpp.example/phone");
    let huge = "y".repeat(5000);
    bob.send_presence(
        Some(&alice_jid()),
        None,
        &format!("<status>{huge}</status>"),
    )
    .unwrap();
    bob.send_presence(Some(&alice_jid()), None, "<status>small</status>")
        .unwrap();
    let req = notifier.next_request(T).unwrap();
    assert_eq!(req.method(), Some("PUBLISH"), "{req:?}");
    assert!(req.body_str().contains("small"), "{req:?}");
    stack.assert_no_crash();
}
