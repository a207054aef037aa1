//! The re-login case with real third-party clients on the REAL stack (docs/behaviour.md
//! section 6): baresip (Debian's) as the SIP contact, registered and publishing through
//! Kamailio's presence server, and a slixmpp client (Debian's python3-slixmpp) as the XMPP user,
//! on Prosody and on ejabberd. What is asserted is what the clients themselves report.

use std::time::{Duration, Instant};

use kamailio_test_stack::slixmpp::ReceivedPresence;
use kamailio_test_stack::{Baresip, Slixmpp, Stack, StackConfig, XmppServer, jid_for_sip};

const ALICE: &str = "sip:alice@sip.example";
const T: Duration = Duration::from_secs(5);

fn relogin_with_real_clients(server: XmppServer) {
    let stack = Stack::start(StackConfig::rust().with_xmpp_server(server));
    let alice = Baresip::start(ALICE).expect("baresip registers and publishes");
    let alice_jid = jid_for_sip(ALICE);
    let from_alice =
        |p: &ReceivedPresence, kind: &str| p.from_bare() == alice_jid && p.ptype == kind;
    let mut bob = Slixmpp::login("bob@xmpp.example/phone", "password").unwrap();
    bob.roster_add(&alice_jid).unwrap();
    bob.presence(None, None, None).unwrap();
    bob.subscribe(&alice_jid).unwrap();
    bob.wait_presence(T, |p| from_alice(p, "available"))
        .expect("bob sees baresip's alice online");
    for login in 0..3 {
        bob.logout().unwrap();
        bob = Slixmpp::login(&format!("bob@xmpp.example/login{login}"), "password").unwrap();
        let started = Instant::now();
        bob.presence(None, None, None).unwrap();
        bob.wait_presence(T, |p| from_alice(p, "available"))
            .unwrap_or_else(|e| panic!("login {login}: alice not seen online: {e}"));
        let took = started.elapsed();
        assert!(took < Duration::from_secs(1), "login {login}: {took:?}");
    }
    // Still one gateway dialog: alice going offline reaches bob exactly once.
    assert_eq!(alice.offline().unwrap(), Some(200));
    bob.wait_presence(T, |p| from_alice(p, "unavailable"))
        .expect("bob sees alice go offline");
    std::thread::sleep(Duration::from_millis(500));
    let offline = bob
        .presences()
        .iter()
        .filter(|p| from_alice(p, "unavailable"))
        .count();
    assert_eq!(offline, 1, "{:?}", bob.presences());
    let log = stack.kamailio_log();
    assert!(
        !log.contains("no gateway subscription to"),
        "a probe opened a dialog"
    );
    stack.assert_no_crash();
}

#[test]
fn prosody_slixmpp_relogin_sees_a_baresip_contact_online_at_once() {
    relogin_with_real_clients(XmppServer::Prosody);
}

#[test]
fn ejabberd_slixmpp_relogin_sees_a_baresip_contact_online_at_once() {
    relogin_with_real_clients(XmppServer::Ejabberd);
}
