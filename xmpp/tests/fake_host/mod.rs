//! A FAKE Kamailio host for tests of the xmpp module's FFI layer (not the real server: the
//! real-stack tests run Debian's Kamailio). The test executable (linked `-rdynamic`) provides
//! the core symbols the module resolves with dlsym: logging, pseudo-variables (`$mb`, `$ru`),
//! process registration (`fork_basic_utimer` records the tick function instead of forking) and
//! KEMI tables with a fake `tm.t_uac_send` that records every request. State is per thread;
//! each test loads a private copy of the built module, so each has its own module state.

#![allow(non_upper_case_globals, clippy::missing_safety_doc, dead_code)]

use std::cell::RefCell;
use std::ffi::{CStr, CString, c_char, c_int, c_void};
use std::ptr::null_mut;
use std::sync::OnceLock;

use kamailio_module::sys::*;

#[path = "../../../crates/kamailio/tests/support/fake_core_log.rs"]
mod fake_core_log;
pub use fake_core_log::log_text;

/// One request the fake tm sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UacSent {
    pub method: String,
    pub ruri: String,
    pub next_hop: String,
    pub send_socket: String,
    pub headers: String,
    pub body: String,
}

/// What `fork_basic_utimer` was asked to run.
#[derive(Clone, Copy)]
pub struct Forked {
    pub child_id: c_int,
    pub desc: &'static str,
    pub make_sock: c_int,
    pub tick: UtimerFunction,
    pub interval_us: c_int,
}

/// What the fake core saw, and how it answers.
pub struct Host {
    /// Whether tm's KEMI exports are registered.
    pub tm_loaded: bool,
    pub uac_sent: Vec<UacSent>,
    pub procs_registered: c_int,
    pub cfg_children: c_int,
    pub forked: Option<Forked>,
    /// What the module's callbacks received: (callback number, type, stanza).
    pub callback_calls: Vec<(u32, c_int, String)>,
}

impl Default for Host {
    fn default() -> Self {
        Self {
            tm_loaded: true,
            uac_sent: Vec::new(),
            procs_registered: 0,
            cfg_children: 0,
            forked: None,
            callback_calls: Vec::new(),
        }
    }
}

thread_local! {
    pub static HOST: RefCell<Host> = RefCell::new(Host::default());
}

pub fn with_host<R>(f: impl FnOnce(&mut Host) -> R) -> R {
    HOST.with(|h| f(&mut h.borrow_mut()))
}

pub unsafe fn string(s: *const Str) -> Option<String> {
    unsafe { s.as_ref() }.map(|s| {
        if s.len <= 0 {
            return String::new();
        }
        String::from_utf8_lossy(unsafe {
            std::slice::from_raw_parts(s.s.cast::<u8>(), s.len as usize)
        })
        .into_owned()
    })
}

// ---- Core functions: modules, pseudo-variables, fixups ----
#[unsafe(no_mangle)]
pub unsafe extern "C" fn get_loaded_modules() -> *mut SrModule {
    null_mut()
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn find_export(
    _name: *const c_char,
    _param_no: c_int,
    _flags: c_int,
) -> Option<CmdFunction> {
    None
}

static RAW_MESSAGE_SPEC: u8 = 0;
static RURI_SPEC: u8 = 0;

#[unsafe(no_mangle)]
pub unsafe extern "C" fn pv_cache_get(name: *mut Str) -> *mut PvSpecRaw {
    match unsafe { string(name) }.as_deref() {
        Some("$mb") => (&raw const RAW_MESSAGE_SPEC).cast_mut().cast(),
        Some("$ru") => (&raw const RURI_SPEC).cast_mut().cast(),
        _ => null_mut(),
    }
}

/// A fake `sip_msg`: its raw bytes and its (possibly rewritten) Request-URI.
pub struct FakeMsg {
    pub raw: Vec<u8>,
    pub ruri: Vec<u8>,
}

impl FakeMsg {
    pub fn ptr(&mut self) -> *mut SipMsgRaw {
        (self as *mut FakeMsg).cast()
    }
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn pv_get_spec_value(
    msg: *mut SipMsgRaw,
    spec: *mut PvSpecRaw,
    value: *mut PvValue,
) -> c_int {
    if msg.is_null() || msg == FAKED_REPLY {
        return -1;
    }
    let msg = unsafe { &mut *msg.cast::<FakeMsg>() };
    let bytes = if std::ptr::eq(spec.cast::<u8>(), &RAW_MESSAGE_SPEC) {
        &mut msg.raw
    } else if std::ptr::eq(spec.cast::<u8>(), &RURI_SPEC) {
        &mut msg.ruri
    } else {
        return -1;
    };
    unsafe {
        (*value).rs = Str {
            s: bytes.as_mut_ptr().cast(),
            len: bytes.len() as c_int,
        };
        (*value).flags = PV_VAL_STR;
    }
    0
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn pv_value_destroy(_v: *mut PvValue) {}
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fixup_spve_spve(_p: *mut *mut c_void, _no: c_int) -> c_int {
    -1
}
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fixup_free_spve_spve(_p: *mut *mut c_void, _no: c_int) -> c_int {
    -1
}
#[unsafe(no_mangle)]
pub unsafe extern "C" fn get_str_fparam(
    _dst: *mut Str,
    _msg: *mut SipMsgRaw,
    _param: *mut FParamRaw,
) -> c_int {
    -1
}

// ---- Core functions: processes ----
#[unsafe(no_mangle)]
pub unsafe extern "C" fn register_procs(no: c_int) -> c_int {
    with_host(|h| h.procs_registered += no);
    0
}
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cfg_register_child(no: c_int) {
    with_host(|h| h.cfg_children += no);
}
/// Records the loop instead of forking; "returns in the parent" with a made-up pid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fork_basic_utimer(
    child_id: c_int,
    desc: *mut c_char,
    make_sock: c_int,
    tick: UtimerFunction,
    _param: *mut c_void,
    interval_us: c_int,
) -> c_int {
    let desc: &'static str = unsafe { CStr::from_ptr(desc) }
        .to_string_lossy()
        .into_owned()
        .leak();
    with_host(|h| {
        h.forked = Some(Forked {
            child_id,
            desc,
            make_sock,
            tick,
            interval_us,
        })
    });
    4242
}

// ---- Core functions: KEMI, with a fake tm ----
unsafe extern "C" fn fake_t_uac_send(
    _msg: *mut SipMsgRaw,
    method: *mut Str,
    ruri: *mut Str,
    next_hop: *mut Str,
    ssock: *mut Str,
    headers: *mut Str,
    body: *mut Str,
) -> c_int {
    let s = |p: *mut Str| {
        // tm logs some fields with "%s": they must be NUL-terminated.
        let v = unsafe { &*p };
        if !v.s.is_null() {
            assert_eq!(unsafe { *v.s.add(v.len as usize) }, 0, "unterminated str");
        }
        unsafe { string(p) }.unwrap_or_default()
    };
    let sent = UacSent {
        method: s(method),
        ruri: s(ruri),
        next_hop: s(next_hop),
        send_socket: s(ssock),
        headers: s(headers),
        body: s(body),
    };
    // tm rewrites these, which is why the module must pass private copies.
    unsafe {
        (*next_hop).len = 0;
        (*ssock).len = 0;
    }
    with_host(|h| h.uac_sent.push(sent));
    1
}

fn kemi_str(s: &'static str) -> Str {
    Str {
        s: s.as_ptr().cast_mut().cast(),
        len: s.len() as c_int,
    }
}

fn kemi_fn(module: &'static str, name: &'static str, func: *mut c_void, ptypes: c_int) -> SrKemi {
    SrKemi {
        mname: kemi_str(module),
        fname: kemi_str(name),
        rtype: SR_KEMIP_INT,
        func,
        ptypes: [ptypes; SR_KEMI_PARAMS_MAX],
    }
}

fn kemi_end() -> SrKemi {
    SrKemi {
        mname: Str::EMPTY,
        fname: Str::EMPTY,
        rtype: 0,
        func: null_mut(),
        ptypes: [0; SR_KEMI_PARAMS_MAX],
    }
}

/// [sl, tm] module tables (leaked once, addresses stored as integers).
fn kemi_modules() -> *mut SrKemiModule {
    static TABLE: OnceLock<usize> = OnceLock::new();
    *TABLE.get_or_init(|| {
        let sl = Box::leak(Box::new([
            kemi_fn("sl", "sl_send_reply", null_mut(), SR_KEMIP_INT),
            kemi_end(),
        ]));
        let tm = Box::leak(Box::new([
            kemi_fn("tm", "t_relay", null_mut(), SR_KEMIP_NONE),
            kemi_fn(
                "tm",
                "t_uac_send",
                fake_t_uac_send as *mut c_void,
                SR_KEMIP_STR,
            ),
            kemi_end(),
        ]));
        let modules = Box::leak(Box::new([
            SrKemiModule {
                mname: kemi_str("sl"),
                kexp: sl.as_mut_ptr(),
            },
            SrKemiModule {
                mname: kemi_str("tm"),
                kexp: tm.as_mut_ptr(),
            },
        ]));
        modules.as_mut_ptr() as usize
    }) as *mut SrKemiModule
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn sr_kemi_modules_size_get() -> c_int {
    if with_host(|h| h.tm_loaded) { 2 } else { 1 }
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn sr_kemi_modules_get() -> *mut SrKemiModule {
    kemi_modules()
}

// ---- Loading the module under test ----

#[path = "../../../crates/kamailio/tests/support/loaded_module.rs"]
mod loaded_module;
pub use loaded_module::Module;

/// The API as `bind_xmpp` filled it.
pub struct Api(pub XmppApi);

impl Module {
    /// A private copy of the built `libxmpp.so` (the harness's lookup: this test's own
    /// target dir, the newest of `deps/` and the profile dir).
    pub fn load() -> Self {
        Self::load_copy(&kamailio_test_stack::rust_xmpp_module(), "xmpp")
    }

    pub fn set_param(&self, name: &str, kind: u32, value: *mut c_void) -> c_int {
        let e = self.param(name);
        assert!(e.type_ & PARAM_USE_FUNC != 0);
        let f: ParamFunction = unsafe { std::mem::transmute(e.param_pointer) };
        // The core passes the export's own type to the setter.
        assert_eq!(e.type_ & !PARAM_USE_FUNC, kind, "type of {name}");
        unsafe { f(e.type_, value) }
    }

    /// A string parameter, passed as the core passes it for the parameter's type.
    pub fn set_str(&self, name: &str, value: &str) -> c_int {
        let c = CString::new(value).unwrap();
        let kind = self.param(name).type_ & !PARAM_USE_FUNC;
        if kind == PARAM_STR {
            let mut s = Str {
                s: c.as_ptr().cast_mut(),
                len: value.len() as c_int,
            };
            self.set_param(name, PARAM_STR, (&raw mut s).cast())
        } else {
            self.set_param(name, PARAM_STRING, c.as_ptr().cast_mut().cast())
        }
    }

    pub fn set_int(&self, name: &str, value: isize) -> c_int {
        self.set_param(name, PARAM_INT, value as *mut c_void)
    }

    pub fn child_init(&self, rank: c_int) -> c_int {
        unsafe { (self.exports().init_child_f.expect("child_init"))(rank) }
    }

    pub fn bind(&self) -> Api {
        let f = self.cmd("bind_xmpp").function.unwrap();
        let bind: BindXmpp = unsafe { std::mem::transmute(f) };
        let mut api: XmppApi = unsafe { std::mem::zeroed() };
        assert_eq!(unsafe { bind(&mut api) }, 0);
        Api(api)
    }

    /// Calls `xmpp_send_message()` on `msg`.
    pub fn send_message(&self, msg: &mut FakeMsg) -> c_int {
        let f = self.cmd("xmpp_send_message").function.unwrap();
        unsafe { f(msg.ptr(), null_mut(), null_mut()) }
    }

    /// Runs the manager's tick once (as the forked process would, forever).
    pub fn tick(&self) {
        let forked = with_host(|h| h.forked).expect("child_init(PROC_MAIN) forked nothing");
        unsafe { (forked.tick)(0, null_mut()) };
    }
}

impl Api {
    /// Calls one of the four send functions with these strings (None = NULL pointer).
    pub fn call_send(
        &self,
        f: XmppSend,
        from: Option<&str>,
        to: Option<&str>,
        msg: Option<&str>,
        id: Option<&str>,
    ) -> c_int {
        let mut strs = [from, to, msg, id].map(|s| {
            s.map(|s| Str {
                s: s.as_ptr().cast_mut().cast(),
                len: s.len() as c_int,
            })
        });
        let [f1, f2, f3, f4] = strs.each_mut().map(|s| match s {
            Some(s) => s as *mut Str,
            None => null_mut(),
        });
        unsafe { f(f1, f2, f3, f4) }
    }

    /// Calls a translator; `None` for NULL. Also returns the raw pointer.
    pub fn translate(&self, f: XmppTranslate, input: &str) -> (Option<String>, *mut c_char) {
        let mut buf = CString::new(input).unwrap().into_bytes_with_nul();
        let out = unsafe { f(buf.as_mut_ptr().cast()) };
        let text = (!out.is_null()).then(|| {
            unsafe { CStr::from_ptr(out) }
                .to_string_lossy()
                .into_owned()
        });
        (text, out)
    }
}

/// Callbacks the tests register: each records its number, the type and the stanza.
macro_rules! recording_callback {
    ($name:ident, $n:expr) => {
        pub unsafe extern "C" fn $name(msg: *mut c_char, kind: c_int, _param: *mut c_void) {
            let text = unsafe { CStr::from_ptr(msg) }
                .to_string_lossy()
                .into_owned();
            with_host(|h| h.callback_calls.push(($n, kind, text)));
        }
    };
}
recording_callback!(callback_one, 1);
recording_callback!(callback_two, 2);
recording_callback!(callback_three, 3);
