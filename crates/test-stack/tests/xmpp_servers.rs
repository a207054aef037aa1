//! The same contract from both XMPP servers (Prosody and ejabberd): logins, rosters and
//! subscriptions, the gateway's component link, restarts that keep rosters, abrupt client
//! disconnects, and no process left behind.
//!
//! Each test prints what it measured (`--nocapture`, or nextest's output of a failure).

use kamailio_test_stack::process::live_group_members;
use kamailio_test_stack::{Stack, StackConfig, XmppClient, XmppServer, jid_for_sip};
use std::time::{Duration, Instant};

const T: Duration = Duration::from_secs(10);
const ALICE: &str = "sip:alice@sip.example";
const BOB: &str = "bob@xmpp.example";
const CAROL: &str = "carol@xmpp.example";

/// Kamailio at debug level 3: the C xmpp module then logs every chunk it reads from the
/// component link ("server read").
fn config(server: XmppServer) -> StackConfig {
    StackConfig {
        debug: 3,
        ..StackConfig::c_baseline()
    }
    .with_xmpp_server(server)
}

fn start(server: XmppServer) -> Stack {
    let t = Instant::now();
    let stack = Stack::start(config(server));
    eprintln!(
        "{server:?}: stack (server, Kamailio, component link) up in {:?}",
        t.elapsed()
    );
    assert_eq!(stack.xmpp_server(), server);
    // The stack only starts once the link is authenticated: the server logged it.
    assert_eq!(stack.xmpp_server_log().matches(marker(server)).count(), 1);
    match server {
        XmppServer::Prosody => assert!(!stack.prosody_log().is_empty()),
        XmppServer::Ejabberd => assert!(stack.prosody_log().is_empty()),
    }
    stack
}

/// What the server logs when the gateway's component has authenticated.
fn marker(server: XmppServer) -> &'static str {
    match server {
        XmppServer::Prosody => kamailio_test_stack::prosody::COMPONENT_AUTHENTICATED,
        XmppServer::Ejabberd => kamailio_test_stack::ejabberd::COMPONENT_AUTHENTICATED,
    }
}

/// carol adds bob and subscribes; bob (available) approves; bob's presence reaches carol.
fn carol_follows_bob(stack: &Stack, bob: &XmppClient) -> XmppClient {
    let carol = stack.xmpp_client(&format!("{CAROL}/pc"));
    carol.available(None, None).unwrap();
    carol.roster_add(BOB).unwrap();
    carol.subscribe(BOB).unwrap();
    bob.expect_presence(T, CAROL, Some("subscribe")).unwrap();
    bob.roster_add(CAROL).unwrap();
    bob.subscribed(CAROL).unwrap();
    let p = carol.expect_presence(T, BOB, None).unwrap();
    assert_eq!(p.attr("from"), Some(bob.jid()), "{p:?}");
    carol.wait_roster_subscription(T, BOB, "to").unwrap();
    bob.wait_roster_subscription(T, CAROL, "from").unwrap();
    carol
}

/// One roster item's subscription.
fn subscription(client: &XmppClient, jid: &str) -> Option<String> {
    client
        .roster()
        .unwrap()
        .into_iter()
        .find(|(j, _, _)| j == jid)
        .map(|(_, s, _)| s)
}

/// The chunks the C xmpp module read from the server since byte `mark` of kamailio.log.
fn component_reads_since(stack: &Stack, mark: usize) -> Vec<String> {
    let log = stack.kamailio_log();
    log.get(mark..)
        .unwrap_or("")
        .split("server read")
        .skip(1)
        .map(str::to_string)
        .collect()
}

/// Waits until the component has read a presence probe to `to` (quotes of either kind).
fn wait_component_probe(stack: &Stack, mark: usize, to: &str) -> String {
    let end = Instant::now() + T;
    loop {
        if let Some(chunk) = component_reads_since(stack, mark).into_iter().find(|c| {
            (c.contains("type='probe'") || c.contains("type=\"probe\""))
                && (c.contains(&format!("to='{to}'")) || c.contains(&format!("to=\"{to}\"")))
        }) {
            return chunk;
        }
        assert!(
            Instant::now() < end,
            "no probe to {to} reached the component; it read: {:?}",
            component_reads_since(stack, mark)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits until every client sees its stream end (the server went away).
fn assert_stream_ends(clients: &[&XmppClient]) {
    for c in clients {
        let err = c
            .expect_stanza(T, |_| false)
            .expect_err("the stream outlived the server");
        assert_eq!(err.kind(), std::io::ErrorKind::UnexpectedEof, "{err}");
    }
}

fn restart_keeps_rosters(server: XmppServer, kill: bool) {
    let mut stack = start(server);
    let alice_jid = jid_for_sip(ALICE);
    // bob follows SIP alice through the gateway (the C module answers `subscribed`) ...
    let bob = stack.xmpp_client_following(&format!("{BOB}/phone"), &alice_jid, T);
    // ... and carol follows bob.
    let carol = carol_follows_bob(&stack, &bob);

    let pid = stack.xmpp_server_pid().expect("running");
    let t = Instant::now();
    if kill {
        stack.kill_xmpp_server();
    } else {
        stack.stop_xmpp_server();
    }
    eprintln!(
        "{server:?}: {} took {:?}",
        if kill { "kill" } else { "clean stop" },
        t.elapsed()
    );
    assert_eq!(stack.xmpp_server_pid(), None);
    assert_eq!(live_group_members(pid), Vec::<i32>::new(), "left running");
    // Nothing of the server runs any more in the stack's namespace (Kamailio does).
    let left: Vec<_> = processes_of(&stack.dir().display().to_string(), stack.netns_id())
        .into_iter()
        .filter(|(_, cmd)| !cmd.contains("kamailio.cfg"))
        .collect();
    assert!(left.is_empty(), "left running: {left:?}");
    assert_stream_ends(&[&bob, &carol]);
    // A SIGKILL cannot shut down politely. (A clean stop does, with a `system-shutdown`
    // stream error, but ejabberd's VM may exit before its logger writes the line, so only the
    // streams' end, above, is asserted for it.)
    if kill {
        assert!(
            !stack.xmpp_server_log().contains("system-shutdown"),
            "{}",
            stack.xmpp_server_log_since_start()
        );
    }
    drop((bob, carol));

    let t = Instant::now();
    stack.start_xmpp_server();
    let c2s_up = t.elapsed();
    let new_pid = stack.xmpp_server_pid().expect("running again");
    assert_ne!(new_pid, pid);
    stack.wait_component_link(T).unwrap();
    // The link of this start, not the one before: exactly one authentication since it.
    assert_eq!(
        stack
            .xmpp_server_log_since_start()
            .matches(marker(server))
            .count(),
        1
    );
    assert_eq!(stack.xmpp_server_log().matches(marker(server)).count(), 2);
    eprintln!(
        "{server:?}: restart: c2s up after {c2s_up:?}, component link after {:?}",
        t.elapsed()
    );

    // Rosters survived.
    let kmark = stack.kamailio_log().len();
    let bob = stack.xmpp_client(&format!("{BOB}/phone"));
    assert_eq!(subscription(&bob, &alice_jid).as_deref(), Some("to"));
    assert_eq!(subscription(&bob, CAROL).as_deref(), Some("from"));
    let carol = stack.xmpp_client(&format!("{CAROL}/pc"));
    assert_eq!(subscription(&carol, BOB).as_deref(), Some("to"));

    // On bob's initial presence the server probes his contacts: the gateway's alice ...
    bob.available(None, None).unwrap();
    let probe = wait_component_probe(&stack, kmark, &alice_jid);
    assert!(probe.contains(BOB), "{probe}");
    // ... and on carol's, the local bob, whose presence comes back.
    carol.available(None, None).unwrap();
    carol.expect_presence(T, BOB, None).unwrap();
    stack.assert_no_crash();
}

#[test]
fn prosody_restart_keeps_rosters_and_link() {
    restart_keeps_rosters(XmppServer::Prosody, false);
}

#[test]
fn ejabberd_restart_keeps_rosters_and_link() {
    restart_keeps_rosters(XmppServer::Ejabberd, false);
}

#[test]
fn prosody_kill_and_restart() {
    restart_keeps_rosters(XmppServer::Prosody, true);
}

#[test]
fn ejabberd_kill_and_restart() {
    restart_keeps_rosters(XmppServer::Ejabberd, true);
}

fn abrupt_disconnect(server: XmppServer) {
    let stack = start(server);
    let bob = stack.xmpp_client(&format!("{BOB}/phone"));
    bob.available(None, None).unwrap();
    let carol = carol_follows_bob(&stack, &bob);
    let t = Instant::now();
    bob.drop_connection();
    carol.expect_presence(T, BOB, Some("unavailable")).unwrap();
    eprintln!(
        "{server:?}: unavailable for the dropped connection after {:?}",
        t.elapsed()
    );
    stack.assert_no_crash();
}

#[test]
fn prosody_notices_abrupt_disconnect() {
    abrupt_disconnect(XmppServer::Prosody);
}

#[test]
fn ejabberd_notices_abrupt_disconnect() {
    abrupt_disconnect(XmppServer::Ejabberd);
}

/// Processes (not zombies, not this test process) whose command line mentions `needle` or
/// that live in network namespace `netns`, with their command lines.
fn processes_of(needle: &str, netns: u64) -> Vec<(i32, String)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            let state = stat
                .rsplit_once(')')?
                .1
                .split_whitespace()
                .next()?
                .to_string();
            if state == "Z" || state == "X" {
                return None;
            }
            let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
            let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
            let ns = std::fs::metadata(format!("/proc/{pid}/ns/net")).ok()?.ino();
            let this_test = pid == std::process::id() as i32;
            (!this_test && (ns == netns || cmd.contains(needle))).then_some((pid, cmd))
        })
        .collect()
}

/// ejabberd runs without Erlang distribution, so no epmd; and a panicking test still takes
/// the whole VM with it (beam.smp, erl_child_setup, the extauth scripts, inet_gethost, ...).
#[test]
fn ejabberd_leaves_nothing_running_after_a_panic() {
    let (tx, rx) = std::sync::mpsc::channel();
    let res = std::thread::spawn(move || {
        let stack = start(XmppServer::Ejabberd);
        let pid = stack.xmpp_server_pid().unwrap();
        let running = processes_of(&stack.dir().display().to_string(), stack.netns_id());
        tx.send((
            pid,
            live_group_members(pid),
            running,
            stack.dir().to_path_buf(),
            stack.netns_id(),
        ))
        .unwrap();
        panic!("deliberate failure (the log tails printed above are expected)");
    })
    .join();
    let payload = res.expect_err("the thread panicked");
    assert_eq!(
        payload.downcast_ref::<&str>(),
        Some(&"deliberate failure (the log tails printed above are expected)")
    );
    let (pid, members, running, dir, netns) = rx.recv().unwrap();
    eprintln!("ejabberd's processes: {running:?}");
    // erl_child_setup and the port programs it starts (extauth, inet_gethost, memsup) run in
    // a session of their own: killing beam.smp's process group alone would miss them.
    assert!(members.contains(&pid), "{members:?}");
    for helper in ["erl_child_setup", "extauth.pl"] {
        assert!(
            running.iter().any(|(_, cmd)| cmd.contains(helper)),
            "no {helper}: {running:?}"
        );
    }
    assert!(
        running
            .iter()
            .any(|(p, cmd)| *p == pid && cmd.contains("beam.smp")),
        "{running:?}"
    );
    assert!(
        running.iter().all(|(_, cmd)| !cmd.contains("epmd")),
        "{running:?}"
    );
    assert_eq!(live_group_members(pid), Vec::<i32>::new());
    let left = processes_of(&dir.display().to_string(), netns);
    assert!(left.is_empty(), "left running: {left:?}");
    assert!(dir.join("ejabberd/ejabberd.log").is_file(), "logs kept");
    let _ = std::fs::remove_dir_all(dir);
}
