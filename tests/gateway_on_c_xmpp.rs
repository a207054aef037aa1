//! Our pua_xmpp on the host's crash-fixed C xmpp transport (the REAL stack: Kamailio, pua,
//! presence, Prosody), so both transports stay covered: the other gateway tests run on the
//! Rust xmpp module.

mod e2e;

use std::time::Duration;

use e2e::*;
use kamailio_test_stack::{Stack, StackConfig, pidf};

const T: Duration = Duration::from_secs(10);

#[test]
fn presence_crosses_both_ways_on_the_c_transport() {
    let cfg = StackConfig::rust_on_c_xmpp();
    assert_eq!(
        cfg.xmpp_module.file_name().unwrap(),
        "xmpp.so",
        "the C transport"
    );
    let stack = Stack::start(cfg);
    let alice_jid = alice_jid();
    let bob = stack.xmpp_client_following("bob@xmpp.example/laptop", &alice_jid, T);

    // SIP -> XMPP
    let alice = stack.sip_ua(ALICE);
    let r = alice
        .publish(
            3600,
            Some(&pidf::simple(ALICE, "open", Some("on the C transport"))),
            None,
        )
        .unwrap();
    assert_eq!(r.status(), Some(200), "{r:?}");
    let p = bob
        .expect_stanza(T, |s| {
            s.attr("from") == Some(alice_jid.as_str())
                && s.child_text("status").as_deref() == Some("on the C transport")
        })
        .unwrap();
    assert_eq!(p.type_(), None, "{p:?}");

    // XMPP -> SIP
    let (r, dialog) = alice.subscribe(&bob_sip(), "presence", 600).unwrap();
    assert_eq!(r.status(), Some(200), "{r:?}");
    bob.expect_presence(T, &alice_jid, Some("subscribe"))
        .unwrap();
    bob.subscribed(&alice_jid).unwrap();
    std::thread::sleep(Duration::from_millis(200)); // pua's duplicate-publication race
    bob.available(Some("dnd"), Some("busy on C")).unwrap();
    let n = alice
        .expect_notify(T, |n| {
            n.call_id() == Some(dialog.call_id.as_str()) && n.body_str().contains("busy on C")
        })
        .unwrap();
    let doc = pidf::parse(&n.body_str()).unwrap();
    assert_eq!(doc.basics, ["open"], "{}", n.body_str());
    stack.assert_no_crash();
}
