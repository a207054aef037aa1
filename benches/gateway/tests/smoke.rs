//! Smoke runs of the benchmark (`gateway-bench --quick`, 10-20 s each; root and
//! `tests/stack/setup.sh` needed), for both comparisons: every subject starts under both memory
//! managers, every NOTIFY and SIP MESSAGE is answered and becomes exactly one stanza on the XMPP
//! side, every XMPP presence one PUBLISH and every XMPP chat message one SIP MESSAGE. Timings
//! are printed, never asserted.

use std::process::{Command, Output};

/// Runs `gateway-bench --quick` with `args` on this test's own builds of the Rust modules.
fn quick_run(args: &[&str]) -> (String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gateway-bench"));
    cmd.env("PUA_XMPP_SO", kamailio_test_stack::rust_pua_xmpp_module())
        .env("RUST_XMPP_SO", kamailio_test_stack::rust_xmpp_module());
    let out_dir = std::env::temp_dir().join(format!(
        "gateway-bench-smoke-{}-{}",
        std::process::id(),
        args.join("-")
    ));
    let out: Output = cmd
        .arg("--quick")
        .args(args)
        .arg("--out")
        .arg(&out_dir)
        .output()
        .expect("running gateway-bench");
    let _ = std::fs::remove_dir_all(&out_dir);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert!(
        out.status.success(),
        "gateway-bench --quick {args:?} failed ({})\n{stderr}\n{stdout}",
        out.status
    );
    (stdout, stderr)
}

#[test]
fn pua_xmpp_comparison_counts_every_message() {
    let (stdout, stderr) = quick_run(&[]);
    // 2 modules x 2 memory managers x 4 NOTIFY runs (1-tuple and 10-tuple, K=10 and K=200).
    let notify_runs = stderr
        .matches("1000 sent, 1000 2xx, 0 failed, 0 lost, 1000 stanzas")
        .count();
    assert_eq!(notify_runs, 16, "{stderr}");
    let presence_runs = stderr.matches("400 stanzas, 400 PUBLISHes").count();
    assert_eq!(presence_runs, 4, "{stderr}");
    let per_notify_rows = stdout
        .lines()
        .filter(|l| l.contains("stanzas on the XMPP side per NOTIFY | 1.00 | 1.00 |"))
        .count();
    assert_eq!(per_notify_rows, 8, "{stdout}");
}

#[test]
fn transport_comparison_counts_every_message() {
    let (stdout, stderr) = quick_run(&["--compare", "transport"]);
    assert!(stderr.contains("libxmpp.so"), "{stderr}");
    // 2 transports x 2 memory managers x 2 NOTIFY runs (K=10 only).
    let notify_runs = stderr
        .matches("1000 sent, 1000 2xx, 0 failed, 0 lost, 1000 stanzas")
        .count();
    assert_eq!(notify_runs, 8, "{stderr}");
    let message_runs = stderr
        .matches("SIP MESSAGE -> XMPP chat: 400 sent, 400 2xx, 0 failed, 0 lost, 400 stanzas")
        .count();
    assert_eq!(message_runs, 4, "{stderr}");
    assert_eq!(
        stderr.matches("400 stanzas, 400 PUBLISHes").count(),
        4,
        "{stderr}"
    );
    assert_eq!(
        stderr
            .matches("XMPP chat -> SIP MESSAGE: 400 stanzas, 400 MESSAGEs")
            .count(),
        4,
        "{stderr}"
    );
    // The chat text arrives escaped on the XMPP side and unescaped in the SIP MESSAGE.
    assert!(stderr.contains("&lt;B&gt; &amp; starts at 3pm"), "{stderr}");
    assert!(
        stderr.contains("It's about the Q3 & Q4 numbers."),
        "{stderr}"
    );
    let rows = stdout
        .lines()
        .filter(|l| l.contains("| 1.00 | 1.00 | 1.00 | 1.00 |"))
        .count();
    // Per manager: 2 NOTIFY runs, the SIP MESSAGE run, the presence and the chat run.
    assert_eq!(rows, 10, "{stdout}");
}
