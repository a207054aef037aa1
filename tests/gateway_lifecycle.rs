//! The gateway over logins, dropped connections and component-link losses on the REAL stack
//! (Kamailio, pua, the Rust xmpp transport, Prosody or ejabberd; docs/behaviour.md section 3
//! `probe` and section 6): a user who logs in again sees his SIP contacts at once with no SIP
//! traffic, every later change reaches him once, a lost subscription is opened again exactly
//! once, and a lost link withdraws and restores what the gateway published.

mod e2e;

use std::time::{Duration, Instant};

use e2e::*;
use kamailio_test_stack::link_fault::{cut_component_link, restore_component_link};
use kamailio_test_stack::sip_msg::tag_param;
use kamailio_test_stack::{ModparamValue, SipMessage, StackConfig, XmppServer};

/// A probe's answer must arrive within this (docs/behaviour.md section 6).
const PROBE_ANSWER: Duration = Duration::from_secs(1);
/// Long enough for the component link to come back (the transport's backoff doubles from 1 s).
const RECONNECT: Duration = Duration::from_secs(20);

/// Alice in a meeting: RPID activity, a note with a language, a contact priority (q = 0.5).
fn meeting(note: &str) -> String {
    pidf(&format!(
        "{}{}",
        tuple(
            "t1",
            "open",
            &format!(
                "<contact priority='0.5'>sip:alice@127.0.0.1</contact><note xml:lang='en'>{note}</note>"
            )
        ),
        person_activities(&["meeting"])
    ))
}

/// What [`meeting`] becomes (round(0.5 * 127) = 64).
fn meeting_stanza(note: &str) -> String {
    format!(
        "<presence from='{{A}}' to='{{B}}'><show>dnd</show><status xml:lang='en'>{note}</status><priority>64</priority></presence>"
    )
}

fn cfg(server: XmppServer) -> StackConfig {
    via_notifier().with_xmpp_server(server)
}

/// Nothing more from alice reaches bob within a while (each stanza came exactly once).
fn assert_no_more_presence_from_alice(f: &BobWatchesAlice) {
    std::thread::sleep(Duration::from_millis(500));
    let extra: Vec<_> = f
        .bob()
        .pending_stanzas()
        .into_iter()
        .filter(|s| {
            s.name == "presence" && s.attr("from").is_some_and(|a| a.starts_with(&f.alice_jid))
        })
        .collect();
    assert!(extra.is_empty(), "presence came more than once: {extra:?}");
}

/// The gateway sent no SIP request (no SUBSCRIBE, no PUBLISH) to the notifier.
fn assert_no_sip_traffic(f: &BobWatchesAlice) {
    std::thread::sleep(Duration::from_millis(300));
    let pending = f.notifier.pending();
    assert!(pending.is_empty(), "SIP traffic: {pending:?}");
}

/// The next presence bob gets from alice equals `expected` (`{A}`, `{B}` as in
/// [`BobWatchesAlice::fill`]), addressed to bob's bare JID or to his current session (a probe's
/// answer goes to the prober); returns how long it took.
fn expect_from_alice(f: &BobWatchesAlice, expected: &str) -> Duration {
    let started = Instant::now();
    let got = next_presence(f.bob(), &f.alice_jid);
    let took = started.elapsed();
    let to = got.attr("to").unwrap_or_default();
    assert!(to == BOB || to == f.bob().jid(), "{got:?}");
    let expected = f
        .fill(expected)
        .replace(&format!("to='{BOB}'"), &format!("to='{to}'"));
    assert_stanza(&got, &expected);
    took
}

/// Alice (SIP) subscribes to bob, the gateway asks bob through its winfo subscription (to the
/// notifier), bob approves: his server then sends his presence to alice's gateway JID, which
/// the gateway publishes (answered as a presence server does). Returns alice's UA.
fn bob_approves_alice(f: &BobWatchesAlice) -> kamailio_test_stack::SipUa {
    let alice = f.stack.sip_ua(ALICE);
    let (r, _dialog) = alice.subscribe(&bob_sip(), "presence", 600).unwrap();
    assert_eq!(r.status(), Some(200), "{r:?}");
    let winfo_sub = f.notifier.accept(&f.notifier.expect("SUBSCRIBE"), 600);
    let body = winfo(1, &bob_sip(), &[(ALICE, "pending")]);
    assert_eq!(f.notifier.notify(&winfo_sub, "active", Some(&body)), 200);
    f.bob()
        .expect_presence(T, &f.alice_jid, Some("subscribe"))
        .unwrap();
    f.bob().subscribed(&f.alice_jid).unwrap();
    let publish = f.notifier.expect("PUBLISH");
    assert!(
        publish.body_str().contains("<basic>open</basic>"),
        "{publish:?}"
    );
    f.notifier.accept_publish(&publish);
    // Bob's server may probe alice now that the subscription is mutual: the answer is alice's
    // held presence again. Let it come and go.
    std::thread::sleep(Duration::from_millis(300));
    f.bob()
        .expect_presence(Duration::ZERO, &f.alice_jid, None)
        .ok();
    alice
}

// ---- probes on login -------------------------------------------------------------------------

fn relogin_sees_the_contact_at_once(server: XmppServer, end: SessionEnd) {
    let mut f = bob_watches_alice(cfg(server));
    f.notify_expect("active;expires=3600", Some(&meeting("In a meeting")), 200);
    expect_from_alice(&f, &meeting_stanza("In a meeting"));
    for login in 0..3 {
        f.relogin(end, &format!("login{login}"));
        let took = expect_from_alice(&f, &meeting_stanza("In a meeting"));
        assert!(
            took < PROBE_ANSWER,
            "login {login}: answered after {took:?}"
        );
        // No SUBSCRIBE, no new dialog (alice is not subscribed to bob: no PUBLISH either).
        assert_no_sip_traffic(&f);
    }
    // One dialog after many logins: a later change reaches bob exactly once.
    f.notify_expect("active;expires=3600", Some(&meeting("Still busy")), 200);
    expect_from_alice(&f, &meeting_stanza("Still busy"));
    assert_no_more_presence_from_alice(&f);
    f.stack.assert_no_crash();
}

#[test]
fn prosody_relogin_after_logout_sees_the_contact_at_once() {
    relogin_sees_the_contact_at_once(XmppServer::Prosody, SessionEnd::Logout);
}

#[test]
fn prosody_relogin_after_a_dropped_connection_sees_the_contact_at_once() {
    relogin_sees_the_contact_at_once(XmppServer::Prosody, SessionEnd::Dropped);
}

#[test]
fn ejabberd_relogin_after_logout_sees_the_contact_at_once() {
    relogin_sees_the_contact_at_once(XmppServer::Ejabberd, SessionEnd::Logout);
}

#[test]
fn ejabberd_relogin_after_a_dropped_connection_sees_the_contact_at_once() {
    relogin_sees_the_contact_at_once(XmppServer::Ejabberd, SessionEnd::Dropped);
}

fn a_probe_before_any_notify_waits_for_the_first(server: XmppServer) {
    let f = bob_watches_alice(cfg(server));
    for _ in 0..3 {
        f.bob()
            .send_presence(Some(&f.alice_jid), Some("probe"), "")
            .unwrap();
    }
    assert_no_sip_traffic(&f);
    assert_no_more_presence_from_alice(&f);
    f.notify_expect("active;expires=3600", Some(&meeting("First")), 200);
    expect_from_alice(&f, &meeting_stanza("First"));
    assert_no_more_presence_from_alice(&f);
    f.stack.assert_no_crash();
}

#[test]
fn prosody_a_probe_before_any_notify_waits_for_the_first() {
    a_probe_before_any_notify_waits_for_the_first(XmppServer::Prosody);
}

#[test]
fn ejabberd_a_probe_before_any_notify_waits_for_the_first() {
    a_probe_before_any_notify_waits_for_the_first(XmppServer::Ejabberd);
}

/// A new dialog: no To tag.
fn assert_initial_subscribe(req: &SipMessage) {
    assert_eq!(req.method(), Some("SUBSCRIBE"), "{req:?}");
    assert!(req.header("To").and_then(tag_param).is_none(), "{req:?}");
}

fn a_lost_subscription_is_opened_again_exactly_once(server: XmppServer) {
    let mut f = bob_watches_alice(cfg(server));
    // The notifier ends the subscription with a reason that allows a new one: bob's roster
    // still says he is subscribed, the gateway holds nothing.
    f.notify_expect("terminated;reason=timeout", None, 200);
    expect_from_alice(&f, "<presence from='{A}' to='{B}' type='unavailable'/>");
    // Bob logs in again (his server probes) and probes twice more himself.
    f.relogin(SessionEnd::Logout, "again");
    for _ in 0..2 {
        f.bob()
            .send_presence(Some(&f.alice_jid), Some("probe"), "")
            .unwrap();
    }
    let req = f.notifier.expect("SUBSCRIBE");
    assert_initial_subscribe(&req);
    assert_no_sip_traffic(&f);
    let sub = f.notifier.accept(&req, 3600);
    // Its reply sends bob nothing: he asked nothing. The first NOTIFY answers the probes.
    let body = meeting("Back");
    assert_eq!(
        f.notifier.notify(&sub, "active;expires=3600", Some(&body)),
        200
    );
    expect_from_alice(&f, &meeting_stanza("Back"));
    assert_no_more_presence_from_alice(&f);
    // From now on probes are answered from the new subscription, with no SIP traffic.
    f.relogin(SessionEnd::Dropped, "once-more");
    let took = expect_from_alice(&f, &meeting_stanza("Back"));
    assert!(took < PROBE_ANSWER, "answered after {took:?}");
    assert_no_sip_traffic(&f);
    f.stack.assert_no_crash();
}

#[test]
fn prosody_a_lost_subscription_is_opened_again_exactly_once() {
    a_lost_subscription_is_opened_again_exactly_once(XmppServer::Prosody);
}

#[test]
fn ejabberd_a_lost_subscription_is_opened_again_exactly_once() {
    a_lost_subscription_is_opened_again_exactly_once(XmppServer::Ejabberd);
}

// ---- the component link ----------------------------------------------------------------------

fn grace(cfg: StackConfig, seconds: i64) -> StackConfig {
    cfg.pua_xmpp_param("link_loss_grace", ModparamValue::Int(seconds))
}

/// Waits until the gateway logged that the link is up again after a loss (the first such line
/// is the link's start).
fn wait_link_restored(f: &BobWatchesAlice) {
    let deadline = Instant::now() + RECONNECT;
    while f
        .stack
        .kamailio_log()
        .matches("the XMPP link is up: sent")
        .count()
        < 2
    {
        assert!(
            Instant::now() < deadline,
            "the component link did not come back"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn is_withdrawal(r: &SipMessage) -> bool {
    r.method() == Some("PUBLISH") && r.header("Expires") == Some("0")
}

fn a_long_link_loss_withdraws_and_the_return_restores(server: XmppServer) {
    let f = bob_watches_alice(grace(cfg(server), 2));
    f.notify_expect("active;expires=3600", Some(&meeting("Before")), 200);
    expect_from_alice(&f, &meeting_stanza("Before"));
    let _alice = bob_approves_alice(&f);
    cut_component_link().unwrap();
    // While the link is down the NOTIFYs are answered and held; the first is superseded.
    std::thread::sleep(Duration::from_millis(300));
    f.notify_expect("active;expires=3600", Some(&meeting("Superseded")), 200);
    f.notify_expect("active;expires=3600", Some(&meeting("Current")), 200);
    // Past the grace period bob's publication is withdrawn.
    let withdrawal = f
        .notifier
        .expect_request(Duration::from_secs(6), is_withdrawal)
        .unwrap();
    assert!(
        withdrawal.header("SIP-If-Match").is_some(),
        "{withdrawal:?}"
    );
    f.notifier.accept_publish(&withdrawal);
    restore_component_link().unwrap();
    wait_link_restored(&f);
    // Bob, whose own session stayed up, gets alice's current state once, never the superseded
    // one; the gateway probes him, and his server's answer is published again.
    expect_from_alice(&f, &meeting_stanza("Current"));
    let republished = f
        .notifier
        .expect_request(T, |r| r.method() == Some("PUBLISH"))
        .unwrap();
    assert!(
        republished.header("SIP-If-Match").is_none()
            && republished.body_str().contains("<basic>open</basic>"),
        "a new publication: {republished:?}"
    );
    f.notifier.accept_publish(&republished);
    assert_no_more_presence_from_alice(&f);
    assert!(
        f.stack
            .kamailio_log()
            .contains("withdrawing 1 publications")
    );
    f.stack.assert_no_crash();
}

#[test]
fn prosody_a_long_link_loss_withdraws_and_the_return_restores() {
    a_long_link_loss_withdraws_and_the_return_restores(XmppServer::Prosody);
}

#[test]
fn ejabberd_a_long_link_loss_withdraws_and_the_return_restores() {
    a_long_link_loss_withdraws_and_the_return_restores(XmppServer::Ejabberd);
}

fn a_short_link_loss_withdraws_nothing(server: XmppServer) {
    let f = bob_watches_alice(grace(cfg(server), 30));
    f.notify_expect("active;expires=3600", Some(&meeting("Before")), 200);
    expect_from_alice(&f, &meeting_stanza("Before"));
    let _alice = bob_approves_alice(&f);
    cut_component_link().unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    f.notify_expect("active;expires=3600", Some(&meeting("During")), 200);
    restore_component_link().unwrap();
    wait_link_restored(&f);
    expect_from_alice(&f, &meeting_stanza("During"));
    // The probe's answer refreshes the same publication (pua sends it in place).
    let refresh = f
        .notifier
        .expect_request(T, |r| r.method() == Some("PUBLISH"))
        .unwrap();
    assert!(!is_withdrawal(&refresh), "{refresh:?}");
    f.notifier.accept_publish(&refresh);
    assert!(
        !f.notifier.pending().iter().any(is_withdrawal),
        "{:?}",
        f.notifier.pending()
    );
    assert_no_more_presence_from_alice(&f);
    f.stack.assert_no_crash();
}

#[test]
fn prosody_a_short_link_loss_withdraws_nothing() {
    a_short_link_loss_withdraws_nothing(XmppServer::Prosody);
}

#[test]
fn ejabberd_a_short_link_loss_withdraws_nothing() {
    a_short_link_loss_withdraws_nothing(XmppServer::Ejabberd);
}

/// With the real presence server: a SIP watcher of an XMPP user sees him closed once the link
/// has been down past the grace period, and open again once it is back.
#[test]
fn a_sip_watcher_sees_the_xmpp_user_offline_after_the_grace_period() {
    let stack = kamailio_test_stack::Stack::start(grace(rust(), 2));
    let bob = stack.xmpp_client("bob@xmpp.example/phone");
    online(&bob, None, Some("here"));
    let alice = stack.sip_ua(ALICE);
    let (r, _dialog) = alice.subscribe(&bob_sip(), "presence", 600).unwrap();
    assert_eq!(r.status(), Some(200), "{r:?}");
    bob.expect_presence(T, &alice_jid(), Some("subscribe"))
        .unwrap();
    bob.subscribed(&alice_jid()).unwrap();
    let open = |n: &SipMessage| n.body_str().contains("<basic>open</basic>");
    let first = alice.expect_notify(T, |n| open(n)).unwrap();
    assert!(first.body_str().contains("here"), "{first:?}");
    cut_component_link().unwrap();
    let closed = alice
        .expect_notify(Duration::from_secs(8), |n| !open(n))
        .unwrap();
    assert!(!open(&closed), "{closed:?}");
    restore_component_link().unwrap();
    let again = alice.expect_notify(RECONNECT, |n| open(n)).unwrap();
    assert!(again.body_str().contains("here"), "{again:?}");
    stack.assert_no_crash();
}

// ---- restarts --------------------------------------------------------------------------------

/// Without a database a Kamailio restart forgets every gateway subscription (and pua and the
/// presence server forget theirs): the probe of bob's next login alone brings alice back, with
/// one new dialog, and later logins are answered from it.
fn after_a_restart_the_next_login_brings_the_view_back(server: XmppServer) {
    let mut stack = kamailio_test_stack::Stack::start(rust().with_xmpp_server(server));
    let alice = stack.sip_ua(ALICE);
    let publish = |note: &str| {
        let doc = kamailio_test_stack::pidf::simple(ALICE, "open", Some(note));
        let r = alice.publish(3600, Some(&doc), None).unwrap();
        assert_eq!(r.status(), Some(200), "{r:?}");
    };
    publish("before");
    let bob = stack.xmpp_client_following("bob@xmpp.example/phone", &alice_jid(), T);
    let seen = |c: &kamailio_test_stack::XmppClient, note: &str| {
        let p = c.expect_presence(T, &alice_jid(), None).unwrap();
        assert_eq!(p.child_text("status").as_deref(), Some(note), "{p:?}");
    };
    seen(&bob, "before");
    bob.close();
    stack.restart_kamailio();
    publish("after the restart");
    let opened = "no gateway subscription to";
    for login in 0..2 {
        let bob = stack.xmpp_client(&format!("bob@xmpp.example/login{login}"));
        bob.available(None, None).unwrap();
        seen(&bob, "after the restart");
        bob.close();
    }
    let log = stack.kamailio_log();
    assert_eq!(log.matches(opened).count(), 1, "one new dialog:\n{log}");
    stack.assert_no_crash();
}

#[test]
fn prosody_after_a_restart_the_next_login_brings_the_view_back() {
    after_a_restart_the_next_login_brings_the_view_back(XmppServer::Prosody);
}

#[test]
fn ejabberd_after_a_restart_the_next_login_brings_the_view_back() {
    after_a_restart_the_next_login_brings_the_view_back(XmppServer::Ejabberd);
}
