//! A FAKE Kamailio host for unit tests of the FFI layer (not the real server: the real-stack
//! tests run Debian's Kamailio). It provides, from this test executable (linked `-rdynamic`),
//! the core symbols the module resolves with dlsym, and fake `pua` and `xmpp` modules whose
//! APIs record every call. State is per thread, so tests may run in parallel; each test loads a
//! private copy of the built module, so each has its own module state.

#![allow(non_upper_case_globals, clippy::missing_safety_doc)]

use std::cell::RefCell;
use std::ffi::{CStr, CString, c_char, c_int, c_void};
use std::ptr::null_mut;

use kamailio_module::sys::*;

#[path = "../../crates/kamailio/tests/support/fake_core_log.rs"]
mod fake_core_log;
pub use fake_core_log::{log_lines, log_text, take_log};

/// What the fake pua and xmpp modules saw, and how they answer.
#[derive(Default)]
pub struct Host {
    /// Module names in load order (first loaded first).
    pub loaded: Vec<&'static CStr>,
    pub is_dialog_answer: c_int,
    pub publishes: Vec<Published>,
    pub subscribes: Vec<Subscribed>,
    pub dialog_lookups: Vec<Vec<String>>,
    pub pua_callbacks: Vec<(c_int, PuaCallback)>,
    pub xmpp_callbacks: Vec<(c_int, XmppCallback)>,
    pub stanzas: Vec<(&'static str, String, String, String)>,
    /// Boxed: the nodes point at each other, so their addresses must not move.
    #[allow(clippy::vec_box)]
    module_list: Vec<Box<SrModule>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    pub id: String,
    pub pres_uri: String,
    pub body: Option<String>,
    pub content_type: String,
    pub expires: c_int,
    pub source_flag: c_int,
    pub event: c_int,
    pub outbound_proxy: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscribed {
    pub pres_uri: String,
    pub watcher_uri: String,
    pub contact: String,
    pub remote_target: Option<String>,
    pub outbound_proxy: Option<String>,
    pub event: c_int,
    pub expires: c_int,
    pub source_flag: c_int,
}

thread_local! {
    pub static HOST: RefCell<Host> = RefCell::new(Host::default());
}

pub fn with_host<R>(f: impl FnOnce(&mut Host) -> R) -> R {
    HOST.with(|h| f(&mut h.borrow_mut()))
}

unsafe fn string(s: *const Str) -> Option<String> {
    unsafe { s.as_ref() }.map(|s| {
        String::from_utf8_lossy(unsafe {
            std::slice::from_raw_parts(s.s.cast::<u8>(), s.len as usize)
        })
        .into_owned()
    })
}

// ---- Core functions ----
#[unsafe(no_mangle)]
pub unsafe extern "C" fn get_loaded_modules() -> *mut SrModule {
    with_host(|h| {
        // The core's list starts with the module loaded last.
        let mut next: *mut SrModule = null_mut();
        let mut nodes = Vec::new();
        for name in h.loaded.iter() {
            let mut node = Box::new(SrModule {
                path: null_mut(),
                handle: null_mut(),
                exports_name: name.as_ptr().cast_mut(),
                exports_rest: [0; 72],
                modflags: 0,
                next,
            });
            next = &mut *node;
            nodes.push(node);
        }
        h.module_list = nodes;
        next
    })
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn find_export(
    name: *const c_char,
    param_no: c_int,
    _flags: c_int,
) -> Option<CmdFunction> {
    let name = unsafe { CStr::from_ptr(name) };
    let loaded = |m: &CStr| with_host(|h| h.loaded.contains(&m));
    let f: *const () = match (name.to_bytes(), param_no) {
        (b"bind_pua", 1) if loaded(c"pua") => bind_pua as *const (),
        (b"bind_xmpp", 0) if loaded(c"xmpp") => bind_xmpp as *const (),
        _ => return None,
    };
    Some(unsafe { std::mem::transmute::<*const (), CmdFunction>(f) })
}

/// The only variable the module reads: `$mb`, the raw message.
static RAW_MESSAGE_SPEC: u8 = 0;

#[unsafe(no_mangle)]
pub unsafe extern "C" fn pv_cache_get(name: *mut Str) -> *mut PvSpecRaw {
    match unsafe { string(name) }.as_deref() {
        Some("$mb") => (&raw const RAW_MESSAGE_SPEC).cast_mut().cast(),
        _ => null_mut(),
    }
}

/// A fake `sip_msg`: its raw bytes.
pub struct FakeMsg(pub Vec<u8>);

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
    if msg.is_null() || msg == FAKED_REPLY || !std::ptr::eq(spec.cast::<u8>(), &RAW_MESSAGE_SPEC) {
        return -1;
    }
    let msg = unsafe { &mut *msg.cast::<FakeMsg>() };
    unsafe {
        (*value).rs = Str {
            s: msg.0.as_mut_ptr().cast(),
            len: msg.0.len() as c_int,
        };
        (*value).flags = PV_VAL_STR;
    }
    0
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn pv_value_destroy(_v: *mut PvValue) {}

/// Fixed-up parameters are plain literals here (the real core evaluates pseudo-variables).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fixup_spve_spve(param: *mut *mut c_void, _no: c_int) -> c_int {
    let literal = unsafe { CStr::from_ptr((*param).cast()) }.to_owned();
    unsafe { *param = Box::into_raw(Box::new(literal)).cast() };
    0
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn fixup_free_spve_spve(param: *mut *mut c_void, _no: c_int) -> c_int {
    drop(unsafe { Box::from_raw((*param).cast::<CString>()) });
    0
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn get_str_fparam(
    dst: *mut Str,
    _msg: *mut SipMsgRaw,
    param: *mut FParamRaw,
) -> c_int {
    let literal = unsafe { &*param.cast::<CString>() };
    unsafe {
        *dst = Str {
            s: literal.as_ptr().cast_mut(),
            len: literal.as_bytes().len() as c_int,
        }
    };
    0
}

// ---- The fake pua module ----
unsafe extern "C" fn bind_pua(api: *mut PuaApi) -> c_int {
    unsafe {
        (*api).send_subscribe = Some(fake_send_subscribe);
        (*api).send_publish = Some(fake_send_publish);
        (*api).register_puacb = Some(fake_register_puacb);
        (*api).is_dialog = Some(fake_is_dialog);
    }
    0
}

unsafe extern "C" fn fake_send_publish(p: *mut PublInfo) -> c_int {
    let p = unsafe { &*p };
    let rec = Published {
        id: unsafe { string(&p.id) }.unwrap_or_default(),
        pres_uri: unsafe { string(p.pres_uri) }.unwrap_or_default(),
        body: unsafe { string(p.body) },
        content_type: unsafe { string(&p.content_type) }.unwrap_or_default(),
        expires: p.expires,
        source_flag: p.source_flag,
        event: p.event,
        outbound_proxy: unsafe { string(p.outbound_proxy) },
    };
    with_host(|h| h.publishes.push(rec));
    0
}

unsafe extern "C" fn fake_send_subscribe(s: *mut SubsInfo) -> c_int {
    let s = unsafe { &*s };
    let rec = Subscribed {
        pres_uri: unsafe { string(s.pres_uri) }.unwrap_or_default(),
        watcher_uri: unsafe { string(s.watcher_uri) }.unwrap_or_default(),
        contact: unsafe { string(s.contact) }.unwrap_or_default(),
        remote_target: unsafe { string(s.remote_target) },
        outbound_proxy: unsafe { string(s.outbound_proxy) },
        event: s.event,
        expires: s.expires,
        source_flag: s.source_flag,
    };
    with_host(|h| h.subscribes.push(rec));
    0
}

unsafe extern "C" fn fake_register_puacb(types: c_int, f: PuaCallback, _p: *mut c_void) -> c_int {
    with_host(|h| h.pua_callbacks.push((types, f)));
    1
}

unsafe extern "C" fn fake_is_dialog(d: *mut UaPres) -> c_int {
    let d = unsafe { &*d };
    let key = unsafe {
        vec![
            string(d.watcher_uri).unwrap_or_default(),
            string(d.pres_uri).unwrap_or_default(),
            string(&d.call_id).unwrap_or_default(),
            string(&d.from_tag).unwrap_or_default(),
            string(&d.to_tag).unwrap_or_default(),
            d.flag.to_string(),
            d.event.to_string(),
        ]
    };
    with_host(|h| {
        h.dialog_lookups.push(key);
        h.is_dialog_answer
    })
}

// ---- The fake xmpp module ----
unsafe extern "C" fn bind_xmpp(api: *mut XmppApi) -> c_int {
    unsafe {
        *api = XmppApi {
            register_callback: Some(fake_register_xmpp_cb),
            xpacket: Some(fake_xpacket),
            xmessage: Some(fake_xpacket),
            xsubscribe: Some(fake_xsubscribe),
            xnotify: Some(fake_xnotify),
            decode_uri_sip_xmpp: Some(decode_uri_sip_xmpp),
            encode_uri_sip_xmpp: Some(encode_uri_sip_xmpp),
            decode_uri_xmpp_sip: Some(decode_uri_xmpp_sip),
            encode_uri_xmpp_sip: Some(encode_uri_xmpp_sip),
        };
    }
    0
}

unsafe extern "C" fn fake_register_xmpp_cb(
    types: c_int,
    f: XmppCallback,
    _p: *mut c_void,
) -> c_int {
    with_host(|h| h.xmpp_callbacks.push((types, f)));
    1
}

fn record_stanza(
    kind: &'static str,
    from: *mut Str,
    to: *mut Str,
    msg: *mut Str,
    id: *mut Str,
) -> c_int {
    if id.is_null() {
        return -1; // the C module requires all four
    }
    let s = |p| unsafe { string(p) }.unwrap_or_default();
    with_host(|h| h.stanzas.push((kind, s(from), s(to), s(msg))));
    0
}
unsafe extern "C" fn fake_xpacket(f: *mut Str, t: *mut Str, m: *mut Str, i: *mut Str) -> c_int {
    record_stanza("packet", f, t, m, i)
}
unsafe extern "C" fn fake_xsubscribe(f: *mut Str, t: *mut Str, m: *mut Str, i: *mut Str) -> c_int {
    record_stanza("subscribe", f, t, m, i)
}
unsafe extern "C" fn fake_xnotify(f: *mut Str, t: *mut Str, m: *mut Str, i: *mut Str) -> c_int {
    record_stanza("notify", f, t, m, i)
}

/// The C module's address rules with `*` as separator, `gw.sip.example` as the gateway domain
/// and `sipgw.xmpp.example` as the component domain; inputs containing "bad" fail (NULL).
fn translate(input: *mut c_char, f: impl Fn(&str) -> Option<String>) -> *mut c_char {
    thread_local!(static BUF: RefCell<CString> = RefCell::new(CString::default()));
    let input = unsafe { CStr::from_ptr(input) }
        .to_string_lossy()
        .into_owned();
    match f(&input).filter(|_| !input.contains("bad")) {
        Some(out) => BUF.with(|b| {
            *b.borrow_mut() = CString::new(out).unwrap();
            b.borrow().as_ptr().cast_mut()
        }),
        None => null_mut(),
    }
}
fn user_host(uri: &str) -> Option<(&str, &str)> {
    uri.strip_prefix("sip:").unwrap_or(uri).split_once('@')
}
unsafe extern "C" fn decode_uri_sip_xmpp(uri: *mut c_char) -> *mut c_char {
    translate(uri, |u| {
        user_host(u).map(|(user, _)| user.replacen('*', "@", 1))
    })
}
unsafe extern "C" fn encode_uri_sip_xmpp(uri: *mut c_char) -> *mut c_char {
    translate(uri, |u| {
        user_host(u).map(|(user, host)| format!("{user}*{host}@sipgw.xmpp.example"))
    })
}
unsafe extern "C" fn decode_uri_xmpp_sip(uri: *mut c_char) -> *mut c_char {
    translate(uri, |u| {
        user_host(u.split('/').next()?)
            .map(|(user, _)| format!("sip:{}", user.replacen('*', "@", 1)))
    })
}
unsafe extern "C" fn encode_uri_xmpp_sip(uri: *mut c_char) -> *mut c_char {
    translate(uri, |u| {
        user_host(u.split('/').next()?)
            .map(|(user, host)| format!("sip:{user}*{host}@gw.sip.example"))
    })
}

// ---- Loading the module under test ----

#[path = "../../crates/kamailio/tests/support/loaded_module.rs"]
mod loaded_module;
pub use loaded_module::Module;

impl Module {
    /// A private copy of the built `libpua_xmpp.so` (the harness's lookup: this test's own
    /// target dir).
    pub fn load() -> Self {
        Self::load_copy(&kamailio_test_stack::rust_pua_xmpp_module(), "pua_xmpp")
    }

    pub fn set_param(&self, name: &str, kind: u32, value: *mut c_void) -> c_int {
        let e = self.param(name);
        assert!(e.type_ & PARAM_USE_FUNC != 0);
        let f: ParamFunction = unsafe { std::mem::transmute(e.param_pointer) };
        unsafe { f(kind, value) }
    }

    pub fn set_string_param(&self, name: &str, value: &str) -> c_int {
        let v = CString::new(value).unwrap();
        self.set_param(name, PARAM_STRING, v.as_ptr().cast_mut().cast())
    }

    /// Fixes up `args` the way the core does, then calls the script function.
    pub fn call(&self, name: &str, msg: &mut FakeMsg, args: &[&str]) -> c_int {
        let cmd = self.cmd(name);
        assert_eq!(cmd.param_no as usize, args.len(), "{name} parameter count");
        let mut params: Vec<*mut c_void> = args
            .iter()
            .map(|a| CString::new(*a).unwrap().into_raw().cast())
            .collect();
        for (i, p) in params.iter_mut().enumerate() {
            let fixup = cmd.fixup.expect("fixup");
            assert_eq!(
                unsafe { fixup(p, i as c_int + 1) },
                0,
                "fixup of {name} param {}",
                i + 1
            );
        }
        let p = |i: usize| {
            params
                .get(i)
                .copied()
                .unwrap_or(null_mut())
                .cast::<c_char>()
        };
        let rc = unsafe { (cmd.function.unwrap())(msg.ptr(), p(0), p(1)) };
        for (i, p) in params.iter_mut().enumerate() {
            unsafe { (cmd.free_fixup.unwrap())(p, i as c_int + 1) };
        }
        rc
    }
}

pub fn reset_records() {
    take_log();
    with_host(|h| {
        h.publishes.clear();
        h.subscribes.clear();
        h.stanzas.clear();
        h.dialog_lookups.clear();
    })
}
