//! Smoke run of the benchmark (`gateway-bench --quick`, about 10 s; root and
//! `tests/stack/setup.sh` needed): both modules start under both memory managers, every NOTIFY
//! is answered and becomes exactly one stanza on the XMPP side, every XMPP presence one PUBLISH.
//! Timings are printed, never asserted.

use std::process::Command;

#[test]
fn quick_run_counts_every_message() {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gateway-bench"));
    // The Rust module of this test's own target dir and profile.
    cmd.env("PUA_XMPP_SO", kamailio_test_stack::rust_pua_xmpp_module());
    let out_dir = std::env::temp_dir().join(format!("gateway-bench-smoke-{}", std::process::id()));
    let out = cmd
        .args(["--quick", "--out"])
        .arg(&out_dir)
        .output()
        .expect("running gateway-bench");
    let _ = std::fs::remove_dir_all(&out_dir);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(
        out.status.success(),
        "gateway-bench --quick failed ({})\n{stderr}\n{stdout}",
        out.status
    );
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
