//! The bridge from the `log` crate to Kamailio's logger: the same line format, level check and
//! sinks as the C `LM_*` macros (stderr, syslog through `_km_log_func`, or the structured hook
//! `_ksr_slog_func`), honouring the global and per-module debug level on every call.

use std::ffi::{CStr, CString};
use std::ptr;
use std::sync::OnceLock;

use libc::c_int;

use crate::symbols::{LogSymbols, log_symbols};
use crate::sys::*;

static MODULE: OnceLock<&'static CStr> = OnceLock::new();

struct HostLogger;
static LOGGER: HostLogger = HostLogger;

/// Routes the `log` macros of this shared object to Kamailio's logger under `module`'s name.
/// Call it first thing when the module loads; later calls are no-ops.
pub fn init(module: &'static CStr) {
    if MODULE.set(module).is_ok() {
        // Only this cdylib's copy of the `log` crate is affected: each module has its own.
        let _ = log::set_logger(&LOGGER);
        log::set_max_level(log::LevelFilter::Trace);
    }
}

fn module_name() -> &'static CStr {
    MODULE.get().copied().unwrap_or(c"rust")
}

fn host_level(level: log::Level) -> c_int {
    match level {
        log::Level::Error => L_ERR,
        log::Level::Warn => L_WARN,
        log::Level::Info => L_INFO,
        log::Level::Debug | log::Level::Trace => L_DBG,
    }
}

impl log::Log for HostLogger {
    fn enabled(&self, metadata: &log::Metadata) -> bool {
        let Some(sym) = log_symbols() else {
            return metadata.level() <= log::Level::Info;
        };
        let m = module_name();
        // SAFETY: NUL-terminated module name and its length, as LM_* passes them.
        host_level(metadata.level())
            <= unsafe { (sym.get_debug_level)(m.as_ptr(), m.count_bytes() as c_int) }
    }

    fn log(&self, record: &log::Record) {
        // Check the level before formatting: debug lines are off in production.
        if !self.enabled(record.metadata()) {
            return;
        }
        let func = record
            .module_path()
            .and_then(|p| p.rsplit("::").next())
            .unwrap_or("?");
        let file = record.file().unwrap_or("?");
        write(
            host_level(record.level()),
            file,
            record.line().unwrap_or(0),
            func,
            &record.args().to_string(),
        );
    }

    fn flush(&self) {}
}

/// Writes one line at Kamailio level `level` (e.g. [`L_CRIT`] for panics) if the module's debug
/// level lets it through.
pub fn write(level: c_int, file: &str, line: u32, func: &str, msg: &str) {
    let module = module_name();
    let Some(sym) = log_symbols() else {
        eprintln!(
            "{}: {} [{file}:{line}]: {func}(): {msg}",
            level_name_fallback(level),
            module.to_string_lossy()
        );
        return;
    };
    // SAFETY: every pointer comes from the host's own exported variables; Kamailio processes are
    // single-threaded, and dprint_crit is the host's re-entrancy guard, updated as LM_* does.
    unsafe {
        let mlen = module.count_bytes() as c_int;
        if ptr::read_volatile(sym.dprint_crit) != 0
            || (sym.get_debug_level)(module.as_ptr(), mlen) < level
        {
            return;
        }
        let lvl = level.clamp(L_ALERT, L_DBG);
        ptr::write_volatile(sym.dprint_crit, ptr::read_volatile(sym.dprint_crit) + 1);
        emit(sym, module, lvl, file, line, func, msg);
        ptr::write_volatile(sym.dprint_crit, ptr::read_volatile(sym.dprint_crit) - 1);
    }
}

fn level_name_fallback(level: c_int) -> &'static str {
    match level {
        L_DBG => "DEBUG",
        L_INFO => "INFO",
        L_NOTICE => "NOTICE",
        L_WARN => "WARNING",
        L_ERR => "ERROR",
        _ => "CRITICAL",
    }
}

/// NUL bytes in user data would cut the line short in C: show them escaped.
fn c_text(s: &str) -> CString {
    CString::new(s.replace('\0', "\\0")).expect("NUL bytes were replaced")
}

unsafe fn emit(
    sym: &LogSymbols,
    module: &CStr,
    lvl: c_int,
    file: &str,
    line: u32,
    func: &str,
    msg: &str,
) {
    // SAFETY (whole body): see `write`; `log_level_info` has an entry for every level in
    // L_ALERT..=L_DBG, and user text is always passed as an argument to a "%s" format.
    unsafe {
        let info = &*sym.log_level_info.add((lvl - L_ALERT) as usize);
        let lname = CStr::from_ptr(info.name).to_string_lossy();
        let prefix = match *sym.log_prefix_val {
            p if p.is_null() || (*p).s.is_null() => String::new(),
            p => String::from_utf8_lossy(std::slice::from_raw_parts(
                (*p).s.cast::<u8>(),
                (*p).len.max(0) as usize,
            ))
            .into_owned(),
        };
        let module_str = module.to_string_lossy();
        let locinfo = format!("{module_str} [{file}:{line}]: ");
        let mlen = module.count_bytes() as c_int;
        if let Some(slog) = *sym._ksr_slog_func {
            let (c_file, c_func, c_loc) = (c_text(file), c_text(func), c_text(&locinfo));
            let mut data = LogData {
                v_facility: info.syslog_level | (sym.get_debug_facility)(module.as_ptr(), mlen),
                v_level: lvl,
                v_lname: info.name,
                v_fname: c_file.as_ptr(),
                v_fline: line as c_int,
                v_mname: module.as_ptr(),
                v_func: c_func.as_ptr(),
                v_locinfo: c_loc.as_ptr(),
                v_pid: 0,
                v_pidx: 0,
            };
            slog(
                &mut data,
                c"%s".as_ptr(),
                c_text(&format!("{msg}\n")).as_ptr(),
            );
        } else if *sym.log_stderr != 0 {
            let text = format!(
                "{:2}({}) {lname}: {prefix}{locinfo}{func}(): {msg}\n",
                *sym.process_no,
                (sym.my_pid)()
            );
            let color = *sym.log_color != 0;
            if color {
                (sym.dprint_color)(lvl);
            }
            // One write per line, so lines of concurrent processes do not interleave.
            libc::write(2, text.as_ptr().cast(), text.len());
            if color {
                (sym.dprint_color_reset)();
            }
        } else if let Some(km_log) = *sym._km_log_func {
            let text = c_text(&format!("{lname}: {prefix}{locinfo}{func}(): {msg}\n"));
            km_log(
                info.syslog_level | (sym.get_debug_facility)(module.as_ptr(), mlen),
                c"%s".as_ptr(),
                text.as_ptr(),
            );
        }
    }
}
