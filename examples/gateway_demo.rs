//! The gateway, live: builds nothing itself; starts Prosody and Kamailio (Debian's presence and
//! pua, with this project's pua_xmpp and Rust xmpp transport) on loopback in a private network
//! namespace, then shows presence crossing the gateway both ways, printing what each side
//! receives. Run it through `bash tests/stack/demo.sh` (as root).

use std::time::Duration;

use kamailio_test_stack::{Stack, StackConfig, jid_for_sip, pidf, sip_for_jid};

const T: Duration = Duration::from_secs(10);
const ALICE: &str = "sip:alice@sip.example";
const BOB: &str = "bob@xmpp.example";

fn step(text: &str) {
    println!("\n== {text}");
}

fn main() {
    let cfg = StackConfig::rust();
    println!("pua_xmpp module: {}", cfg.pua_xmpp_module.display());
    println!("xmpp module:     {}", cfg.xmpp_module.display());
    let stack = Stack::start(cfg);
    let alice_jid = jid_for_sip(ALICE);
    let bob_sip = sip_for_jid(BOB);
    println!("SIP user {ALICE} is {alice_jid} on XMPP; XMPP user {BOB} is {bob_sip} on SIP");

    step("XMPP bob@xmpp.example/laptop logs in to Prosody and subscribes to SIP alice");
    let bob = stack.xmpp_client_following("bob@xmpp.example/laptop", &alice_jid, T);
    println!("bob's roster: subscribed to {alice_jid} (the gateway answered 'subscribed')");

    step("SIP alice PUBLISHes: open, note \"In a meeting\"");
    let alice = stack.sip_ua(ALICE);
    let doc = pidf::simple(ALICE, "open", Some("In a meeting"));
    let r = alice.publish(3600, Some(&doc), None).unwrap();
    println!("alice <- {} {}", r.status().unwrap_or(0), r.start_line);
    let p = bob
        .expect_stanza(T, |s| {
            s.attr("from") == Some(alice_jid.as_str()) && s.child("status").is_some()
        })
        .unwrap();
    println!("bob   <- {}", p.raw);

    step("SIP alice SUBSCRIBEs to XMPP bob");
    let (r, dialog) = alice.subscribe(&bob_sip, "presence", 600).unwrap();
    println!(
        "alice <- {} to SUBSCRIBE {bob_sip}",
        r.status().unwrap_or(0)
    );
    let ask = bob
        .expect_presence(T, &alice_jid, Some("subscribe"))
        .unwrap();
    println!("bob   <- {}", ask.raw);

    step("XMPP bob approves and says he is away");
    bob.subscribed(&alice_jid).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    bob.available(Some("away"), Some("Back at 3")).unwrap();
    let n = alice
        .expect_notify(T, |n| {
            n.call_id() == Some(dialog.call_id.as_str()) && n.body_str().contains("Back at 3")
        })
        .unwrap();
    println!(
        "alice <- NOTIFY ({})\n{}",
        n.header("Subscription-State").unwrap_or("?"),
        n.body_str()
    );

    step("XMPP bob goes offline");
    bob.send_presence(None, Some("unavailable"), "").ok();
    bob.close();
    if let Ok(n) = alice.expect_notify(T, |n| {
        n.call_id() == Some(dialog.call_id.as_str()) && n.body_str().contains("closed")
    }) {
        println!("alice <- NOTIFY\n{}", n.body_str());
    }
    stack.assert_no_crash();
    println!("\n== What pua_xmpp and xmpp logged");
    for line in stack
        .kamailio_log()
        .lines()
        .filter(|l| l.contains("pua_xmpp"))
    {
        println!("{line}");
    }
    println!("\nDemo done: presence crossed the gateway both ways.");
}
