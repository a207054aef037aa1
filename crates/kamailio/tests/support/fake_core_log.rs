//! The core's logging symbols, FAKED for tests (not the real server): defined in the test
//! executable (linked `-rdynamic`) so the log bridge resolves them with dlsym as it does in
//! Kamailio. Every line is recorded per thread. Shared by the fake hosts of this workspace's
//! tests (`#[path]`-included), so each test binary defines these symbols once.

#![allow(non_upper_case_globals, dead_code)]

use std::cell::{Cell, RefCell};
use std::ffi::{CStr, c_char, c_int, c_void};
use std::ptr::null_mut;

use kamailio_module::sys::{LogLevelInfo, Str};

thread_local! {
    static LINES: RefCell<Vec<(c_int, String)>> = const { RefCell::new(Vec::new()) };
    static DEBUG_LEVEL: Cell<c_int> = const { Cell::new(3) };
}

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
/// The real one is `void (*)(int, const char *, ...)`; the bridge always calls it as
/// `(level, "%s", text)`, which on x86_64 SysV arrives in the same registers as this
/// non-variadic fake's three arguments (stable Rust cannot define C-variadic functions).
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
    LINES.with(|l| l.borrow_mut().push((level, text)));
}

#[unsafe(no_mangle)]
pub extern "C" fn get_debug_level(_m: *const c_char, _l: c_int) -> c_int {
    DEBUG_LEVEL.get()
}
#[unsafe(no_mangle)]
pub extern "C" fn get_debug_facility(_m: *const c_char, _l: c_int) -> c_int {
    0
}
#[unsafe(no_mangle)]
pub extern "C" fn my_pid() -> c_int {
    std::process::id() as c_int
}
#[unsafe(no_mangle)]
pub extern "C" fn dprint_color(_l: c_int) {}
#[unsafe(no_mangle)]
pub extern "C" fn dprint_color_reset() {}

/// This thread's module debug level (Kamailio's `debug`, per module through `debugger`).
pub fn set_debug_level(level: c_int) {
    DEBUG_LEVEL.set(level);
}

/// The lines logged on this thread so far, as (syslog level, text), and forgets them.
pub fn take_log() -> Vec<(c_int, String)> {
    LINES.with(|l| std::mem::take(&mut *l.borrow_mut()))
}

/// A copy of the lines logged on this thread so far.
pub fn log_lines() -> Vec<(c_int, String)> {
    LINES.with(|l| l.borrow().clone())
}

/// Everything logged on this thread so far, as one text.
pub fn log_text() -> String {
    LINES.with(|l| l.borrow().iter().map(|(_, t)| t.as_str()).collect())
}
