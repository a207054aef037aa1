//! The harness itself: stacks start, answer, isolate from each other, and leave no process behind.

use kamailio_test_stack::{ModparamValue, Stack, StackConfig};

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
    bob.close();
    stack.assert_no_crash();
}

/// Two stacks at once in one process, each on the fixed ports of its own namespace.
#[test]
fn parallel_stacks_are_isolated() {
    let ids: Vec<u64> = (0..2)
        .map(|_| {
            std::thread::spawn(|| {
                let stack = Stack::start(StackConfig::c_baseline());
                let c = stack.xmpp_client("dave@xmpp.example/x");
                assert_eq!(c.bare_jid(), "dave@xmpp.example");
                stack.assert_no_crash();
                stack.netns_id()
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|t| t.join().unwrap())
        .collect();
    assert_ne!(ids[0], ids[1]);
}

/// A panicking test still kills Kamailio's whole process group and Prosody.
#[test]
fn processes_are_killed_when_a_test_panics() {
    let (tx, rx) = std::sync::mpsc::channel();
    let res = std::thread::spawn(move || {
        let stack = Stack::start(StackConfig::c_baseline());
        tx.send((stack.kamailio_pid(), stack.dir().to_path_buf()))
            .unwrap();
        panic!("deliberate failure (the log tails printed above are expected)");
    })
    .join();
    assert!(res.is_err());
    let (pid, dir) = rx.recv().unwrap();
    // SAFETY: signal 0 only probes; the group id is Kamailio's main pid.
    let alive = unsafe { libc::kill(-pid, 0) } == 0;
    assert!(!alive, "Kamailio's process group {pid} survived");
    assert!(
        dir.join("kamailio.log").is_file(),
        "logs are kept on failure"
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// Debian's stock xmpp.so dies on Prosody's stream header (KAMAILIO.md item
/// 1), which takes Kamailio down; start-up must report that, not hang. Only on Debian's host:
/// a `KAMAILIO_PREFIX` build has the fixed module only.
#[test]
fn stock_debian_xmpp_module_crash_is_reported() {
    let Some(stock) = kamailio_test_stack::Host::get().stock_xmpp_module.clone() else {
        eprintln!("skipped: KAMAILIO_PREFIX's host has no unfixed xmpp.so");
        return;
    };
    let cfg = StackConfig {
        xmpp_module: stock,
        ..StackConfig::c_baseline()
    };
    let err = match Stack::try_start(cfg) {
        Ok(_) => panic!("the stock xmpp.so unexpectedly survived"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("exited by a signal 11"), "{err}");
    remove_kept_dir(&err);
}

/// A config Kamailio refuses fails start-up with Kamailio's own complaint.
#[test]
fn kamailio_config_errors_are_reported() {
    let cfg = StackConfig {
        mem_manager: Some("tlsf".into()),
        ..StackConfig::c_baseline()
    }
    .pua_xmpp_param("no_such_param", ModparamValue::Int(1));
    let err = match Stack::try_start(cfg) {
        Ok(_) => panic!("Kamailio accepted an unknown modparam"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("no_such_param"), "{err}");
    remove_kept_dir(&err);
}

fn remove_kept_dir(err: &str) {
    if let Some(dir) = err
        .rsplit("(files kept in ")
        .next()
        .and_then(|s| s.strip_suffix(')'))
    {
        let _ = std::fs::remove_dir_all(dir);
    }
}
