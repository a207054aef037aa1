//! The panic guard and the log bridge against a FAKE host: this test executable exports the
//! core's logging symbols (linked `-rdynamic`), so the bridge resolves them as it would in
//! Kamailio, and records what it logs.

#![allow(non_upper_case_globals)]

use std::ffi::{CStr, c_char, c_int, c_void};
use std::ptr::null_mut;
use std::sync::Mutex;

use kamailio_module::sys::{LogLevelInfo, Str};

static LINES: Mutex<Vec<(c_int, String)>> = Mutex::new(Vec::new());
static DEBUG_LEVEL: Mutex<c_int> = Mutex::new(3);

#[unsafe(no_mangle)]
pub static mut dprint_crit: c_int = 0;
#[unsafe(no_mangle)]
pub static mut log_stderr: c_int = 0;
#[unsafe(no_mangle)]
pub static mut log_color: c_int = 0;
#[unsafe(no_mangle)]
pub static mut process_no: c_int = 0;
#[unsafe(no_mangle)]
pub static mut log_prefix_val: *mut Str = null_mut();
#[unsafe(no_mangle)]
pub static mut _ksr_slog_func: *mut c_void = null_mut();
/// Real type `void (*)(int, const char *, ...)`, always called as `(level, "%s", text)`: on
/// x86_64 SysV the three arguments arrive where this non-variadic fake reads them.
#[unsafe(no_mangle)]
pub static mut _km_log_func: Option<unsafe extern "C" fn(c_int, *const c_char, *const c_char)> =
    Some(km_log);
#[unsafe(no_mangle)]
pub static mut log_level_info: [LogLevelInfo; 9] = [
    level(c"ALERT", 1),
    level(c"BUG", 2),
    level(c"CRITICAL", 2),
    level(c"CRITICAL", 2),
    level(c"ERROR", 3),
    level(c"WARNING", 4),
    level(c"NOTICE", 5),
    level(c"INFO", 6),
    level(c"DEBUG", 7),
];

const fn level(name: &'static CStr, syslog_level: c_int) -> LogLevelInfo {
    LogLevelInfo {
        name: name.as_ptr().cast_mut(),
        syslog_level,
    }
}

unsafe extern "C" fn km_log(level: c_int, fmt: *const c_char, text: *const c_char) {
    assert_eq!(
        unsafe { CStr::from_ptr(fmt) },
        c"%s",
        "user text must never be a format"
    );
    let text = unsafe { CStr::from_ptr(text) }
        .to_string_lossy()
        .into_owned();
    LINES.lock().unwrap().push((level, text));
}

#[unsafe(no_mangle)]
pub extern "C" fn get_debug_level(_m: *const c_char, _l: c_int) -> c_int {
    *DEBUG_LEVEL.lock().unwrap()
}
#[unsafe(no_mangle)]
pub extern "C" fn get_debug_facility(_m: *const c_char, _l: c_int) -> c_int {
    0
}
#[unsafe(no_mangle)]
pub extern "C" fn my_pid() -> c_int {
    1
}
#[unsafe(no_mangle)]
pub extern "C" fn dprint_color(_l: c_int) {}
#[unsafe(no_mangle)]
pub extern "C" fn dprint_color_reset() {}

fn take_lines() -> Vec<(c_int, String)> {
    std::mem::take(&mut *LINES.lock().unwrap())
}

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
    *DEBUG_LEVEL.lock().unwrap() = 0; // L_WARN
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
