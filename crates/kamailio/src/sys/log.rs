//! Logging data (`core/dprint.h`).

use libc::{c_char, c_int};

/// `struct log_level_info`, indexed by `level - L_ALERT`.
#[repr(C)]
pub struct LogLevelInfo {
    pub name: *mut c_char,
    pub syslog_level: c_int,
}

/// `ksr_logdata_t`, for the structured-logging hook `_ksr_slog_func`.
#[repr(C)]
pub struct LogData {
    pub v_facility: c_int,
    pub v_level: c_int,
    pub v_lname: *mut c_char,
    pub v_fname: *const c_char,
    pub v_fline: c_int,
    pub v_mname: *const c_char,
    pub v_func: *const c_char,
    pub v_locinfo: *const c_char,
    pub v_pid: c_int,
    pub v_pidx: c_int,
}

pub const L_ALERT: c_int = -5;
pub const L_CRIT: c_int = -2;
pub const L_ERR: c_int = -1;
pub const L_WARN: c_int = 0;
pub const L_NOTICE: c_int = 1;
pub const L_INFO: c_int = 2;
pub const L_DBG: c_int = 3;

/// `km_log_f` and `ksr_slog_f`: the printf-style sinks.
pub type KmLogFn = unsafe extern "C" fn(c_int, *const c_char, ...);
pub type SlogFn = unsafe extern "C" fn(*mut LogData, *const c_char, ...);
