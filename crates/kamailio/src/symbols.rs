//! The core's functions and variables, resolved by name at run time (`dlsym` in the host
//! process). Link-time imports would leave undefined symbols in every test binary; resolving at
//! run time also turns a missing symbol into a clear error instead of a failed `dlopen`.

use std::sync::OnceLock;

use libc::{c_char, c_int, c_void};

use crate::sys::*;

macro_rules! symbol_table {
    ($(#[$doc:meta])* $name:ident { $($field:ident : $ty:ty,)* }) => {
        $(#[$doc])*
        pub struct $name { $(pub $field: $ty,)* }

        impl $name {
            /// Resolves every symbol, or names the first one the host does not export.
            fn resolve() -> Result<Self, &'static str> {
                Ok(Self { $($field: {
                    // SAFETY: dlsym with a NUL-terminated name; the result is checked for NULL and
                    // has the C type declared in the host header this field mirrors.
                    let p = unsafe { libc::dlsym(libc::RTLD_DEFAULT, concat!(stringify!($field), "\0").as_ptr().cast()) };
                    if p.is_null() { return Err(stringify!($field)); }
                    unsafe { std::mem::transmute::<*mut c_void, $ty>(p) }
                },)* })
            }
        }
    };
}

symbol_table! {
    /// What logging needs (`core/dprint.h`).
    LogSymbols {
        get_debug_level: unsafe extern "C" fn(*const c_char, c_int) -> c_int,
        get_debug_facility: unsafe extern "C" fn(*const c_char, c_int) -> c_int,
        my_pid: unsafe extern "C" fn() -> c_int,
        dprint_color: unsafe extern "C" fn(c_int),
        dprint_color_reset: unsafe extern "C" fn(),
        _km_log_func: *mut Option<KmLogFn>,
        _ksr_slog_func: *mut Option<SlogFn>,
        dprint_crit: *mut c_int,
        log_stderr: *mut c_int,
        log_color: *mut c_int,
        log_prefix_val: *mut *mut Str,
        log_level_info: *mut LogLevelInfo,
        process_no: *mut c_int,
    }
}

symbol_table! {
    /// Module lookup, pseudo-variables and string fixups (`core/sr_module.h`, `core/pvar.h`,
    /// `core/mod_fix.h`).
    CoreSymbols {
        find_export: unsafe extern "C" fn(*const c_char, c_int, c_int) -> Option<CmdFunction>,
        get_loaded_modules: unsafe extern "C" fn() -> *mut SrModule,
        pv_cache_get: unsafe extern "C" fn(*mut Str) -> *mut PvSpecRaw,
        pv_get_spec_value: unsafe extern "C" fn(*mut SipMsgRaw, *mut PvSpecRaw, *mut PvValue) -> c_int,
        pv_value_destroy: unsafe extern "C" fn(*mut PvValue),
        fixup_spve_spve: FixupFunction,
        fixup_free_spve_spve: FixupFunction,
        get_str_fparam: unsafe extern "C" fn(*mut Str, *mut SipMsgRaw, *mut FParamRaw) -> c_int,
    }
}

symbol_table! {
    /// Extra processes forked by a module (`core/pt.h`, `core/cfg/cfg_struct.h`,
    /// `core/timer_proc.h`).
    ProcessSymbols {
        register_procs: unsafe extern "C" fn(c_int) -> c_int,
        cfg_register_child: unsafe extern "C" fn(c_int),
        fork_basic_utimer: unsafe extern "C" fn(c_int, *mut c_char, c_int, UtimerFunction, *mut c_void, c_int) -> c_int,
    }
}

symbol_table! {
    /// The KEMI export tables of the loaded modules (`core/kemi.h`).
    KemiSymbols {
        sr_kemi_modules_size_get: unsafe extern "C" fn() -> c_int,
        sr_kemi_modules_get: unsafe extern "C" fn() -> *mut SrKemiModule,
    }
}

// SAFETY: plain addresses inside the host process; Kamailio processes are single-threaded.
unsafe impl Send for LogSymbols {}
unsafe impl Sync for LogSymbols {}
unsafe impl Send for CoreSymbols {}
unsafe impl Sync for CoreSymbols {}
unsafe impl Send for ProcessSymbols {}
unsafe impl Sync for ProcessSymbols {}
unsafe impl Send for KemiSymbols {}
unsafe impl Sync for KemiSymbols {}

static LOG: OnceLock<Result<LogSymbols, &'static str>> = OnceLock::new();
static CORE: OnceLock<Result<CoreSymbols, &'static str>> = OnceLock::new();
static PROCESS: OnceLock<Result<ProcessSymbols, &'static str>> = OnceLock::new();
static KEMI: OnceLock<Result<KemiSymbols, &'static str>> = OnceLock::new();

/// The logging symbols, or `None` outside a Kamailio process (unit tests).
pub fn log_symbols() -> Option<&'static LogSymbols> {
    LOG.get_or_init(LogSymbols::resolve).as_ref().ok()
}

/// The core symbols, or the name of the first missing one.
pub fn core() -> Result<&'static CoreSymbols, crate::HostError> {
    CORE.get_or_init(CoreSymbols::resolve)
        .as_ref()
        .map_err(|name| crate::HostError::MissingSymbol(name))
}

/// The process symbols, or the name of the first missing one.
pub fn process() -> Result<&'static ProcessSymbols, crate::HostError> {
    PROCESS
        .get_or_init(ProcessSymbols::resolve)
        .as_ref()
        .map_err(|name| crate::HostError::MissingSymbol(name))
}

/// The KEMI symbols, or the name of the first missing one.
pub fn kemi() -> Result<&'static KemiSymbols, crate::HostError> {
    KEMI.get_or_init(KemiSymbols::resolve)
        .as_ref()
        .map_err(|name| crate::HostError::MissingSymbol(name))
}
