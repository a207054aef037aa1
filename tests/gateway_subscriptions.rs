//! Gateway subscriptions on the REAL stack (Kamailio + Prosody): pua_xmpp_req_winfo
//! subscribe/refresh/unsubscribe, XMPP unsubscribe and repeated subscribe reaching the
//! notifier in their dialog, and SUBSCRIBE replies (2xx, errors, timeout) -> XMPP.

mod e2e;

use std::time::{Duration, Instant};

use e2e::*;
use kamailio_test_stack::sip_msg::{tag_param, uri_of};
use kamailio_test_stack::{ModparamValue, SipMessage, Stack, XmppClient, jid_for_sip, sip_for_jid};

/// pua stores a dialog only once it has processed the notifier's 200; a request for the same
/// subscription before that finds nothing to refresh (the harness's pua-race pitfall).
fn settle_pua() {
    std::thread::sleep(Duration::from_millis(200));
}

/// Panics unless `req` is a SUBSCRIBE inside `sub` (same Call-ID, our To tag, sent to our
/// Contact) with this Expires.
fn assert_in_dialog(req: &SipMessage, sub: &Subscription, expires: &str) {
    assert_eq!(req.method(), Some("SUBSCRIBE"), "{req:?}");
    assert_eq!(req.call_id(), Some(sub.call_id.as_str()), "{req:?}");
    assert_eq!(
        req.header("To").and_then(tag_param),
        Some(sub.local_tag.as_str()),
        "{req:?}"
    );
    assert!(
        req.request_uri()
            .is_some_and(|u| u.contains(&format!("127.0.0.1:{NOTIFIER_PORT}"))),
        "in-dialog requests go to the dialog's remote target: {req:?}"
    );
    assert_eq!(req.header("Expires"), Some(expires), "{req:?}");
}

/// Once pua has settled, bob (un)subscribes to alice again with `action`; the gateway's next
/// SUBSCRIBE must come in alice's dialog with this Expires. Returns it, not yet answered.
fn next_in_dialog(
    f: &BobWatchesAlice,
    action: impl FnOnce(&XmppClient, &str) -> std::io::Result<()>,
    expires: &str,
) -> SipMessage {
    settle_pua();
    action(f.bob(), &f.alice_jid).unwrap();
    let req = f.notifier.expect("SUBSCRIBE");
    assert_in_dialog(&req, &f.sub, expires);
    req
}

/// A new dialog: no To tag.
fn assert_initial(req: &SipMessage) {
    assert_eq!(req.method(), Some("SUBSCRIBE"), "{req:?}");
    assert!(
        req.header("To").and_then(tag_param).is_none(),
        "not a new dialog: {req:?}"
    );
}

/// 200 to an in-dialog SUBSCRIBE, granting what was asked.
fn accept_in_dialog(n: &Notifier, req: &SipMessage) {
    let expires = req.header("Expires").unwrap().to_string();
    let contact = Notifier::contact("n");
    n.reply(
        req,
        200,
        "OK",
        None,
        &[("Contact", &contact), ("Expires", &expires)],
    );
}

// ---- pua_xmpp_req_winfo ----------------------------------------------------------------------

#[test]
fn sip_subscribe_to_an_xmpp_user_asks_him_through_the_real_presence_server() {
    let stack = Stack::start(rust());
    let bob = stack.xmpp_client("bob@xmpp.example/phone");
    online(&bob, None, Some("here"));
    let alice = stack.sip_ua(ALICE);
    let (r, dlg) = alice.subscribe(&bob_sip(), "presence", 600).unwrap();
    assert_eq!(r.status(), Some(200), "{r:?}");
    // Kamailio's presence server authorizes everyone (force_active): alice is an active
    // watcher, and is still asked about.
    let sub = next_presence(&bob, &alice_jid());
    assert_stanza(
        &sub,
        &format!(
            "<presence type='subscribe' from='{}' to='{BOB}'/>",
            alice_jid()
        ),
    );
    bob.subscribed(&alice_jid()).unwrap();
    let n = alice
        .expect_notify(T, |n| {
            n.call_id() == Some(dlg.call_id.as_str()) && n.body_str().contains("<basic>open")
        })
        .unwrap();
    assert!(n.body_str().contains("here"), "{n:?}");
    stack.assert_no_crash();
}

/// A SIP user's SUBSCRIBE to XMPP bob (out of dialog: the harness route calls
/// pua_xmpp_req_winfo("$ruri", "$hdr(Expires)") only when the Request-URI is bob's alias; an
/// in-dialog refresh is addressed to the presence server's Contact and never reaches it).
fn sip_subscribes_to_bob(ua: &kamailio_test_stack::SipUa, expires: u32) {
    let (r, _) = ua.subscribe(&bob_sip(), "presence", expires).unwrap();
    assert!(r.status().is_some_and(|s| s < 300), "{r:?}");
}

#[test]
fn req_winfo_positive_expires_refreshes_its_dialog_and_zero_ends_it() {
    let stack = Stack::start(via_notifier());
    let notifier = Notifier::bind(&stack);
    let alice = stack.sip_ua(ALICE);
    sip_subscribes_to_bob(&alice, 600);
    let req = notifier.expect("SUBSCRIBE");
    assert_initial(&req);
    assert_eq!(req.event(), Some("presence.winfo"), "{req:?}");
    assert_eq!(req.request_uri(), Some(bob_sip().as_str()), "{req:?}");
    let uri = |h: &str| uri_of(req.header(h).unwrap()).to_string();
    assert_eq!((uri("From"), uri("To")), (bob_sip(), bob_sip()), "{req:?}");
    assert_eq!(uri("Contact"), GATEWAY, "{req:?}");
    // 600 s from now; pua adds 10.
    assert_eq!(req.header("Expires"), Some("610"), "{req:?}");
    let sub = notifier.accept(&req, 600);
    settle_pua();

    sip_subscribes_to_bob(&alice, 300);
    let req = notifier.expect("SUBSCRIBE");
    assert_in_dialog(&req, &sub, "310");
    accept_in_dialog(&notifier, &req);
    settle_pua();

    // A fetch (Expires 0) from the SIP side ends the winfo subscription in its dialog.
    sip_subscribes_to_bob(&alice, 0);
    let req = notifier.expect("SUBSCRIBE");
    assert_in_dialog(&req, &sub, "0");
    accept_in_dialog(&notifier, &req);
    stack.assert_no_crash();
}

#[test]
fn req_winfo_with_absent_or_non_numeric_expires_is_pua_managed() {
    let stack = Stack::start(via_notifier());
    let notifier = Notifier::bind(&stack);
    let alice = stack.sip_ua(ALICE);
    let contact = alice.contact();
    for (user, expires) in [("bob", None), ("carol", Some("soon"))] {
        let target = sip_for_jid(&format!("{user}@xmpp.example"));
        let from = format!("<{ALICE}>;tag={}", alice.token());
        let to = format!("<{target}>");
        let mut h = vec![
            ("From", from.as_str()),
            ("To", to.as_str()),
            ("Contact", contact.as_str()),
            ("Event", "presence"),
            ("Accept", "application/pidf+xml"),
        ];
        if let Some(e) = expires {
            h.push(("Expires", e));
        }
        // The presence server answers as it likes; the route calls req_winfo regardless.
        alice.request("SUBSCRIBE", &target, &h, b"").unwrap();
        let req = notifier.expect("SUBSCRIBE");
        assert_initial(&req);
        assert_eq!(req.request_uri(), Some(target.as_str()), "{req:?}");
        // expires -1: pua's default 3600, plus 10.
        assert_eq!(req.header("Expires"), Some("3610"), "{req:?}");
        notifier.accept(&req, 3600);
    }
    stack.assert_no_crash();
}

/// The winfo subscription is per XMPP user: a second SIP watcher refreshes it, one watcher's
/// 0 ends it for all, and the next subscribe opens it again (docs/behaviour.md section 2).
#[test]
fn winfo_subscription_is_shared_by_watchers_and_reopened_after_a_zero() {
    let stack = Stack::start(via_notifier());
    let notifier = Notifier::bind(&stack);
    let alice = stack.sip_ua(ALICE);
    let dave = stack.sip_ua("sip:dave@sip.example");
    sip_subscribes_to_bob(&alice, 600);
    let sub = notifier.accept(&notifier.expect("SUBSCRIBE"), 600);
    settle_pua();
    sip_subscribes_to_bob(&dave, 900);
    let req = notifier.expect("SUBSCRIBE");
    assert_in_dialog(&req, &sub, "910");
    accept_in_dialog(&notifier, &req);
    settle_pua();
    sip_subscribes_to_bob(&alice, 0);
    let req = notifier.expect("SUBSCRIBE");
    assert_in_dialog(&req, &sub, "0");
    accept_in_dialog(&notifier, &req);
    settle_pua();
    sip_subscribes_to_bob(&dave, 900);
    let req = notifier.expect("SUBSCRIBE");
    assert_initial(&req);
    assert_eq!(req.event(), Some("presence.winfo"), "{req:?}");
    assert_eq!(req.header("Expires"), Some("910"), "{req:?}");
    assert_ne!(req.call_id(), Some(sub.call_id.as_str()), "{req:?}");
    notifier.accept(&req, 900);
    stack.assert_no_crash();
}

// ---- XMPP subscribe / unsubscribe in their dialog ---------------------------------------------

#[test]
fn xmpp_unsubscribe_reaches_the_notifier_in_its_dialog_with_stock_pua_settings() {
    let f = bob_watches_alice(via_notifier());
    let req = next_in_dialog(&f, XmppClient::unsubscribe, "0");
    assert_eq!(req.event(), Some("presence"), "{req:?}");
    accept_in_dialog(&f.notifier, &req);
    settle_pua();
    // The subscription is gone: subscribing again opens a new dialog.
    f.bob().subscribe(&f.alice_jid).unwrap();
    let req = f.notifier.expect("SUBSCRIBE");
    assert_initial(&req);
    f.notifier.accept(&req, 3600);
    f.stack.assert_no_crash();
}

#[test]
fn repeated_xmpp_subscribe_refreshes_the_dialog_instead_of_opening_another() {
    let f = bob_watches_alice(via_notifier());
    let req = next_in_dialog(&f, XmppClient::subscribe, "3610");
    accept_in_dialog(&f.notifier, &req);
    let req = next_in_dialog(&f, XmppClient::subscribe, "3610");
    accept_in_dialog(&f.notifier, &req);
    // The refreshed dialog still ends on unsubscribe.
    let req = next_in_dialog(&f, XmppClient::unsubscribe, "0");
    accept_in_dialog(&f.notifier, &req);
    f.stack.assert_no_crash();
}

/// With Kamailio's own presence server as the notifier: alice watches her own watcherinfo and
/// sees the gateway's subscription for bob arrive, then end when bob unsubscribes on XMPP.
#[test]
fn xmpp_unsubscribe_ends_the_watcher_on_the_real_presence_server() {
    let stack = Stack::start(rust());
    let alice = stack.sip_ua(ALICE);
    let (r, dlg) = alice.subscribe(ALICE, "presence.winfo", 600).unwrap();
    assert_eq!(r.status(), Some(200), "{r:?}");
    let watcher_status = |n: &SipMessage| -> Option<String> {
        let body = n.body_str();
        let i = body.find(&bob_sip())?;
        let open = body[..i].rfind("<watcher ")?;
        let tag = &body[open..i];
        let s = tag.find("status=\"")? + 8;
        Some(tag[s..].split('"').next()?.to_string())
    };
    let ours = |n: &SipMessage| n.call_id() == Some(dlg.call_id.as_str());
    let bob = stack.xmpp_client("bob@xmpp.example/phone");
    online(&bob, None, None);
    bob.roster_add(&alice_jid()).unwrap();
    bob.subscribe(&alice_jid()).unwrap();
    let active = alice
        .expect_notify(T, |n| {
            ours(n) && watcher_status(n).as_deref() == Some("active")
        })
        .unwrap();
    bob.wait_roster_subscription(T, &alice_jid(), "to").unwrap();
    settle_pua();
    bob.unsubscribe(&alice_jid()).unwrap();
    // The presence server drops the ended watcher from the list (or lists it terminated).
    alice
        .expect_notify(T, |n| {
            ours(n)
                && n.cseq() > active.cseq()
                && watcher_status(n).is_none_or(|s| s == "terminated")
        })
        .unwrap();
    stack.assert_no_crash();
}

#[test]
fn refresh_and_unsubscribe_also_work_with_check_remote_contact_0() {
    let cfg = via_notifier().modparam("pua", "check_remote_contact", ModparamValue::Int(0));
    let f = bob_watches_alice(cfg);
    let req = next_in_dialog(&f, XmppClient::subscribe, "3610");
    accept_in_dialog(&f.notifier, &req);
    let req = next_in_dialog(&f, XmppClient::unsubscribe, "0");
    accept_in_dialog(&f.notifier, &req);
    f.stack.assert_no_crash();
}

// ---- replies to the gateway's SUBSCRIBE -> XMPP ------------------------------------------------

#[test]
fn sip_2xx_becomes_subscribed_and_sip_errors_become_rfc6120_stanza_errors() {
    let stack = Stack::start(via_notifier());
    let notifier = Notifier::bind(&stack);
    let bob = stack.xmpp_client("bob@xmpp.example/phone");
    online(&bob, None, None);
    bob.roster().unwrap();
    // (code, reason, (condition, type)); None = subscribed.
    type Row = (u16, &'static str, Option<(&'static str, &'static str)>);
    let rows: &[Row] = &[
        (202, "Accepted", None),
        (302, "Moved Temporarily", Some(("redirect", "modify"))),
        (399, "Odd Redirect", Some(("redirect", "modify"))),
        (400, "Bad Request", Some(("bad-request", "modify"))),
        (403, "Forbidden", Some(("forbidden", "auth"))),
        (404, "Not Found", Some(("item-not-found", "cancel"))),
        (
            407,
            "Proxy Authentication Required",
            Some(("not-authorized", "auth")),
        ),
        (410, "Gone", Some(("gone", "cancel"))),
        (422, "Interval Too Brief", Some(("bad-request", "modify"))),
        (
            480,
            "Temporarily Unavailable",
            Some(("recipient-unavailable", "wait")),
        ),
        (484, "Address Incomplete", Some(("jid-malformed", "modify"))),
        (486, "Busy Here", Some(("recipient-unavailable", "wait"))),
        (
            489,
            "Bad Event",
            Some(("feature-not-implemented", "cancel")),
        ),
        (491, "Request Pending", Some(("unexpected-request", "wait"))),
        (
            500,
            "Server Internal Error",
            Some(("internal-server-error", "wait")),
        ),
        (
            502,
            "Bad Gateway",
            Some(("remote-server-not-found", "cancel")),
        ),
        (
            503,
            "Service Unavailable",
            Some(("service-unavailable", "cancel")),
        ),
        (
            599,
            "Odd Server Error",
            Some(("internal-server-error", "wait")),
        ),
        (603, "Decline", Some(("service-unavailable", "cancel"))),
        (606, "Not Acceptable", Some(("not-acceptable", "cancel"))),
        (
            699,
            "Odd Global Failure",
            Some(("service-unavailable", "cancel")),
        ),
    ];
    let contact = |code: u16| format!("sip:c{code}@sip.example");
    for (code, _, _) in rows {
        bob.subscribe(&jid_for_sip(&contact(*code))).unwrap();
    }
    for _ in rows {
        let req = notifier.expect("SUBSCRIBE");
        let to = uri_of(req.header("To").unwrap()).to_string();
        let &(code, reason, _) = rows
            .iter()
            .find(|(c, _, _)| to == contact(*c))
            .unwrap_or_else(|| panic!("unexpected SUBSCRIBE {req:?}"));
        if code < 300 {
            let c = Notifier::contact(&format!("c{code}"));
            notifier.reply(
                &req,
                code,
                reason,
                Some("ok1"),
                &[("Contact", &c), ("Expires", "3600")],
            );
        } else if code < 400 {
            notifier.reply(
                &req,
                code,
                reason,
                Some("r1"),
                &[("Contact", "<sip:elsewhere@127.0.0.1:9>")],
            );
        } else {
            notifier.reply(&req, code, reason, Some("e1"), &[]);
        }
    }
    for &(code, reason, error) in rows {
        let jid = jid_for_sip(&contact(code));
        let got = next_presence(&bob, &jid);
        let want = match error {
            None => format!("<presence type='subscribed' from='{jid}' to='{BOB}'/>"),
            Some((condition, kind)) => format!(
                "<presence type='error' from='{jid}' to='{BOB}'><error type='{kind}'>\
                 <{condition} xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
                 <text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>SIP {code} {reason}</text>\
                 </error></presence>"
            ),
        };
        assert_stanza(&got, &want);
    }
    stack.assert_no_crash();
}

#[test]
fn unanswered_subscribe_times_out_as_remote_server_timeout() {
    // tm's final-response timer down from 30 s to 1 s, so the local 408 (FAKED_REPLY) comes soon.
    let cfg = via_notifier().modparam("tm", "fr_timer", ModparamValue::Int(1000));
    let stack = Stack::start(cfg);
    let notifier = Notifier::bind(&stack);
    let bob = stack.xmpp_client("bob@xmpp.example/phone");
    online(&bob, None, None);
    let started = Instant::now();
    bob.subscribe(&alice_jid()).unwrap();
    let req = notifier.expect("SUBSCRIBE");
    assert_initial(&req);
    let got = next_presence(&bob, &alice_jid());
    assert_stanza(
        &got,
        &format!(
            "<presence type='error' from='{}' to='{BOB}'><error type='wait'>\
             <remote-server-timeout xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
             <text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>SIP 408 Request Timeout</text>\
             </error></presence>",
            alice_jid()
        ),
    );
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
    stack.assert_no_crash();
}

/// outbound_proxy carries only the initial SUBSCRIBE: in-dialog requests go to the remote
/// target the 2xx gave, here a second notifier that is not the proxy.
#[test]
fn in_dialog_requests_go_to_the_remote_target_not_the_outbound_proxy() {
    let stack = Stack::start(via_notifier());
    let proxy = Notifier::bind(&stack);
    let elsewhere = Notifier::bind_port(&stack, NOTIFIER_PORT + 2);
    let bob = stack.xmpp_client("bob@xmpp.example/phone");
    bob.roster_add(&alice_jid()).unwrap();
    bob.subscribe(&alice_jid()).unwrap();
    let req = proxy.expect("SUBSCRIBE");
    let contact = elsewhere.own_contact("alice");
    proxy.reply(
        &req,
        200,
        "OK",
        Some("tag-e"),
        &[("Contact", &contact), ("Expires", "3600")],
    );
    bob.wait_roster_subscription(T, &alice_jid(), "to").unwrap();
    settle_pua();
    bob.unsubscribe(&alice_jid()).unwrap();
    let req = elsewhere.expect("SUBSCRIBE");
    assert_eq!(req.request_uri(), Some(uri_of(&contact)), "{req:?}");
    assert_eq!(req.header("Expires"), Some("0"), "{req:?}");
    assert!(proxy.pending().is_empty(), "{:?}", proxy.pending());
    stack.assert_no_crash();
}

/// Without follow_notify_contact (the default, for routes that do not call pua's
/// pua_update_contact()), a NOTIFY's Contact does not replace the 2xx's: the unsubscribe
/// still goes where pua itself will send it, and pua finds the dialog.
#[test]
fn a_notify_contact_is_not_followed_by_default() {
    let f = bob_watches_alice(via_notifier());
    let body = pidf(&tuple("t1", "open", ""));
    let r = f.notifier.notify_raw(
        &f.sub,
        &[
            ("Event", "presence"),
            ("Subscription-State", "active;expires=3600"),
            ("Content-Type", "application/pidf+xml"),
            ("Contact", "<sip:moved@127.0.0.1:5099>"),
        ],
        body.as_bytes(),
    );
    assert_eq!(r.status(), Some(200), "{r:?}");
    next_presence(f.bob(), &f.alice_jid);
    let req = next_in_dialog(&f, XmppClient::unsubscribe, "0");
    assert_eq!(
        req.request_uri(),
        Some("sip:alice@127.0.0.1:5070"),
        "{req:?}"
    );
    f.stack.assert_no_crash();
}

/// A watcher URI of any length is used whole (C cut it at 255 characters).
#[test]
fn req_winfo_takes_a_uri_of_any_length() {
    let stack = Stack::start(via_notifier());
    let notifier = Notifier::bind(&stack);
    let alice = stack.sip_ua(ALICE);
    let user = format!("{}*xmpp.example", "b".repeat(300));
    let target = sip_for_jid(&format!("{}@xmpp.example", "b".repeat(300)));
    assert!(target.contains(&user));
    let (r, _) = alice.subscribe(&target, "presence", 600).unwrap();
    assert!(r.status().is_some_and(|s| s < 300), "{r:?}");
    let req = notifier.expect("SUBSCRIBE");
    assert_eq!(req.request_uri(), Some(target.as_str()), "{req:?}");
    assert_eq!(uri_of(req.header("To").unwrap()), target, "{req:?}");
    notifier.accept(&req, 600);
    stack.assert_no_crash();
}

/// The remembered dialogs are bounded (max_subscriptions) and forgotten when a subscription
/// ends: with room for one, a second subscription cannot be ended through pua (logged with a
/// hint), the first can, and its freed room serves the next one.
#[test]
fn remembered_dialogs_are_bounded_and_freed_when_a_subscription_ends() {
    let cfg = via_notifier().pua_xmpp_param(
        "max_subscriptions",
        kamailio_test_stack::ModparamValue::Int(1),
    );
    let stack = Stack::start(cfg);
    let notifier = Notifier::bind(&stack);
    let bob = stack.xmpp_client("bob@xmpp.example/phone");
    let jid = |u: &str| jid_for_sip(&format!("sip:{u}@sip.example"));
    let mut subs = std::collections::HashMap::new();
    for user in ["alice", "carol"] {
        bob.subscribe(&jid(user)).unwrap();
        let req = notifier.expect("SUBSCRIBE");
        subs.insert(user, notifier.accept(&req, 3600));
        bob.wait_roster_subscription(T, &jid(user), "to").unwrap();
    }
    assert!(wait_log(&stack, "raise modparam max_subscriptions"));
    settle_pua();
    // carol's dialog is unknown to the gateway: pua sends nothing for it.
    bob.unsubscribe(&jid("carol")).unwrap();
    bob.unsubscribe(&jid("alice")).unwrap();
    let req = notifier.next_request(T).unwrap();
    assert_in_dialog(&req, &subs["alice"], "0");
    accept_in_dialog(&notifier, &req);
    settle_pua();
    bob.subscribe(&jid("dave")).unwrap();
    let req = notifier.expect("SUBSCRIBE");
    assert_initial(&req);
    let dave = notifier.accept(&req, 3600);
    bob.wait_roster_subscription(T, &jid("dave"), "to").unwrap();
    settle_pua();
    bob.unsubscribe(&jid("dave")).unwrap();
    let req = notifier.expect("SUBSCRIBE");
    assert_in_dialog(&req, &dave, "0");
    stack.assert_no_crash();
}
