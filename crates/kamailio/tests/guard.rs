//! The panic guard and the log bridge against a FAKE host: this test executable exports the
//! core's logging symbols (linked `-rdynamic`), so the bridge resolves them as it would in
//! Kamailio, and records what it logs.

#[path = "support/fake_core_log.rs"]
mod fake_core_log;

use fake_core_log::{dprint_crit, set_debug_level, take_log as take_lines};

/// One test: the logger and the debug level are process-wide.
#[test]
fn guard_and_log_bridge() {
    kamailio_module::log::init(c"testmod");

    // A panic is contained, logged with its location, and the failure value returned.
    let rc =
        kamailio_module::guard::guard("entry_under_test", -7, || -> i32 { panic!("boom {}", 42) });
    assert_eq!(rc, -7);
    let lines = take_lines();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0].0, 2, "L_CRIT's syslog level");
    assert!(
        lines[0]
            .1
            .starts_with("CRITICAL: testmod [crates/kamailio/tests/guard.rs:"),
        "{}",
        lines[0].1
    );
    assert!(
        lines[0].1.contains("panic(): panic: boom 42"),
        "{}",
        lines[0].1
    );
    assert!(
        lines[1]
            .1
            .contains("entry_under_test(): aborted by a panic"),
        "{}",
        lines[1].1
    );

    // Ordinary macros: the C line format; user text is data, never a format.
    log::warn!("user %s %n data: {}", "<x>");
    let lines = take_lines();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].0, 4);
    assert!(
        lines[0]
            .1
            .starts_with("WARNING: testmod [crates/kamailio/tests/guard.rs:"),
        "{}",
        lines[0].1
    );
    assert!(
        lines[0].1.ends_with("guard(): user %s %n data: <x>\n"),
        "{}",
        lines[0].1
    );

    // The module's debug level is asked on every call.
    set_debug_level(0); // L_WARN
    log::info!("dropped");
    log::debug!("dropped");
    log::error!("kept");
    let lines = take_lines();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].1.contains("kept"));

    // NUL bytes in user data cannot cut a line short.
    log::error!("a\0b");
    assert!(take_lines()[0].1.contains("a\\0b"));

    // While the host is inside its own logger (dprint_crit), nothing re-enters it.
    unsafe { dprint_crit = 1 };
    log::error!("re-entrant");
    assert!(take_lines().is_empty());
    unsafe { dprint_crit = 0 };
}
