//! The harness itself: a stack starts, answers, logs in a user, and tears down cleanly.

use kamailio_test_stack::{Stack, StackConfig};

#[test]
fn stack_starts_and_xmpp_login_works() {
    let stack = Stack::start(StackConfig::c_baseline());
    let bob = stack.xmpp_client("bob@xmpp.example/phone");
    assert_eq!(bob.jid(), "bob@xmpp.example/phone");
    assert!(bob.roster().unwrap().is_empty());
    let ua = stack.sip_ua("sip:carol@sip.example");
    let r = ua
        .request(
            "OPTIONS",
            "sip:127.0.0.1:5060",
            &[
                ("From", "<sip:carol@sip.example>;tag=1"),
                ("To", "<sip:127.0.0.1>"),
            ],
            b"",
        )
        .unwrap();
    assert_eq!(r.status(), Some(200));
    stack.assert_no_crash();
}
