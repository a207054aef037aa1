//! Core structures: `str`, the module export table and the loaded-module list (`core/str.h`,
//! `core/sr_module.h`, `core/route.h`).

use libc::{c_char, c_int, c_uint, c_void};

/// `str`: a counted, not necessarily NUL-terminated string.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct Str {
    pub s: *mut c_char,
    pub len: c_int,
}

impl Str {
    pub const EMPTY: Str = Str {
        s: std::ptr::null_mut(),
        len: 0,
    };
}

/// Opaque `struct sip_msg`: only ever handled by pointer (its layout changes between releases).
#[repr(C)]
pub struct SipMsgRaw {
    _private: [u8; 0],
}

/// tm's locally generated reply (`FAKED_REPLY`): never a readable message.
pub const FAKED_REPLY: *mut SipMsgRaw = usize::MAX as *mut SipMsgRaw;

/// `cmd_function`: a script function.
pub type CmdFunction = unsafe extern "C" fn(*mut SipMsgRaw, *mut c_char, *mut c_char) -> c_int;
/// `fixup_function` / `free_fixup_function` (`param_no` is 1-based).
pub type FixupFunction = unsafe extern "C" fn(*mut *mut c_void, c_int) -> c_int;
/// `init_function`, `child_init_function`, `destroy_function`, `response_function`.
pub type InitFunction = unsafe extern "C" fn() -> c_int;
pub type ChildInitFunction = unsafe extern "C" fn(c_int) -> c_int;
pub type DestroyFunction = unsafe extern "C" fn();
pub type ResponseFunction = unsafe extern "C" fn(*mut SipMsgRaw) -> c_int;
/// `param_func_t`, for `PARAM_USE_FUNC` parameters.
pub type ParamFunction = unsafe extern "C" fn(c_uint, *mut c_void) -> c_int;

/// `cmd_export_t`.
#[repr(C)]
pub struct CmdExport {
    pub name: *const c_char,
    pub function: Option<CmdFunction>,
    pub param_no: c_int,
    pub fixup: Option<FixupFunction>,
    pub free_fixup: Option<FixupFunction>,
    pub flags: c_uint,
}

/// `param_export_t`.
#[repr(C)]
pub struct ParamExport {
    pub name: *const c_char,
    pub type_: c_uint,
    pub param_pointer: *mut c_void,
}

/// `module_exports` (the data symbol `exports`). The core copies it and never writes to it.
#[repr(C)]
pub struct ModuleExports {
    pub name: *const c_char,
    pub dlflags: c_uint,
    pub cmds: *const CmdExport,
    pub params: *const ParamExport,
    pub rpc_methods: *const c_void,
    pub pv_items: *const c_void,
    pub response_f: Option<ResponseFunction>,
    pub init_mod_f: Option<InitFunction>,
    pub init_child_f: Option<ChildInitFunction>,
    pub destroy_mod_f: Option<DestroyFunction>,
}

// SAFETY: the tables are immutable statics of pointers to other statics; the host only reads them.
unsafe impl Sync for CmdExport {}
unsafe impl Sync for ParamExport {}
unsafe impl Sync for ModuleExports {}

/// The leading part of the core's `struct sr_module` (a loaded module): enough to walk the list.
#[repr(C)]
pub struct SrModule {
    pub path: *mut c_char,
    pub handle: *mut c_void,
    /// `ksr_module_exports_t`: the core's own copy of the module's exports; `name` comes first.
    pub exports_name: *mut c_char,
    pub exports_rest: [u8; 72],
    pub modflags: c_uint,
    pub next: *mut SrModule,
}

/// A `char *` data symbol (`module_version`, `module_flags`).
#[repr(transparent)]
pub struct CStrSymbol(pub *const c_char);
// SAFETY: points to a static C string literal.
unsafe impl Sync for CStrSymbol {}

/// Route types (`core/route.h`).
pub const REQUEST_ROUTE: c_uint = 1;
pub const ONREPLY_ROUTE: c_uint = 0x84;
pub const ANY_ROUTE: c_uint = 0xFFFF_FFFF;

/// `param_no` of API exports that scripts cannot call.
pub const NO_SCRIPT: c_int = -1;

/// Parameter types (`core/sr_module.h`).
pub const PARAM_STRING: c_uint = 1;
pub const PARAM_INT: c_uint = 2;
pub const PARAM_STR: c_uint = 4;
pub const PARAM_USE_FUNC: c_uint = 0x8000_0000;

/// Process ranks (`core/sr_module.h`).
pub const PROC_MAIN: c_int = 0;
pub const PROC_TIMER: c_int = -1;
pub const PROC_INIT: c_int = -127;
pub const PROC_NOCHLDINIT: c_int = -128;

/// Error codes (`core/error.h`).
pub const E_UNSPEC: c_int = -1;
pub const E_BUG: c_int = -5;
pub const E_CFG: c_int = -6;
