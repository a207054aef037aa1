//! `bind_xmpp`: the C API other modules (pua_xmpp) bind through `find_export("bind_xmpp", 0)`,
//! filled exactly like the C module's `xmpp_api_t`.

use libc::{c_int, c_void};

use kamailio_module::guard::guard;
use kamailio_module::sys::{CmdFunction, Str, XmppApi, XmppCallback};

use crate::outbound::{self, Call};
use crate::{callbacks, translate, transport};

type BindFn = unsafe extern "C" fn(*mut XmppApi) -> c_int;
type RegisterFn = unsafe extern "C" fn(c_int, Option<XmppCallback>, *mut c_void) -> c_int;
type RegisterField = unsafe extern "C" fn(c_int, XmppCallback, *mut c_void) -> c_int;

/// `bind_xmpp` as the export table stores it.
pub const BIND_AS_CMD: CmdFunction =
    // SAFETY: the core only hands this pointer back through find_export; callers cast it to
    // `int (*)(xmpp_api_t *)`, its real type, as with every module API binder.
    unsafe { std::mem::transmute::<BindFn, CmdFunction>(bind_xmpp as BindFn) };

/// Fills `api`; 0, or -1 for a NULL `api`.
unsafe extern "C" fn bind_xmpp(api: *mut XmppApi) -> c_int {
    guard("bind_xmpp", -1, || {
        if api.is_null() {
            log::error!("bind_xmpp: NULL api");
            return -1;
        }
        // SAFETY: the same ABI, a nullable function pointer, where C may pass NULL; this side
        // takes an Option so that a NULL callback is checked instead of being undefined.
        let register = unsafe {
            std::mem::transmute::<RegisterFn, RegisterField>(register_callback as RegisterFn)
        };
        let filled = XmppApi {
            register_callback: Some(register),
            xpacket: Some(xpacket),
            xmessage: Some(xmessage),
            xsubscribe: Some(xsubscribe),
            xnotify: Some(xnotify),
            decode_uri_sip_xmpp: Some(translate::decode_uri_sip_xmpp),
            encode_uri_sip_xmpp: Some(translate::encode_uri_sip_xmpp),
            decode_uri_xmpp_sip: Some(translate::decode_uri_xmpp_sip),
            encode_uri_xmpp_sip: Some(translate::encode_uri_xmpp_sip),
        };
        // SAFETY: the caller passes an xmpp_api_t to fill.
        unsafe { api.write(filled) };
        0
    })
}

/// `register_callback(types, f, param)`: 1 on success (see [`callbacks`]).
unsafe extern "C" fn register_callback(
    types: c_int,
    f: Option<XmppCallback>,
    param: *mut c_void,
) -> c_int {
    guard("register_callback", -1, || {
        if !transport::registration_reaches_manager() {
            log::warn!(
                "register_callback called after the XMPP Manager process was forked: this \
                 callback is never run (register callbacks in mod_init)"
            );
        }
        callbacks::register(types, f, param)
    })
}

/// The bytes of a `str *`, as UTF-8.
///
/// # Safety
/// `s` is NULL or a `str` valid for the call.
unsafe fn text<'a>(s: *const Str) -> Option<&'a str> {
    // SAFETY: the caller's contract.
    let s = unsafe { s.as_ref() }?;
    if s.len == 0 {
        return Some("");
    }
    if s.s.is_null() || s.len < 0 {
        return None;
    }
    // SAFETY: `len` bytes at `s`.
    std::str::from_utf8(unsafe { std::slice::from_raw_parts(s.s.cast::<u8>(), s.len as usize) })
        .ok()
}

/// The four send functions: every pointer must be non-NULL (-1 otherwise); 0 once queued.
///
/// # Safety
/// Each pointer is NULL or a `str` valid for the call.
unsafe fn send(call: Call, from: *mut Str, to: *mut Str, msg: *mut Str, id: *mut Str) -> c_int {
    if from.is_null() || to.is_null() || msg.is_null() || id.is_null() {
        log::error!("xmpp send: NULL argument");
        return -1;
    }
    // SAFETY: the caller's contract.
    let fields = unsafe { (text(from), text(to), text(msg), text(id)) };
    let (Some(from), Some(to), Some(msg), Some(id)) = fields else {
        log::error!("xmpp send: an argument is not UTF-8");
        return -1;
    };
    match outbound::queue(call, from, to, id, msg) {
        Ok(()) => 0,
        Err(_) => -1,
    }
}

/// `xpacket`: writes `msg`, a stanza, to the XMPP server as it is.
unsafe extern "C" fn xpacket(from: *mut Str, to: *mut Str, msg: *mut Str, id: *mut Str) -> c_int {
    // SAFETY: forwarded from the caller.
    guard("xpacket", -1, || unsafe {
        send(Call::Packet, from, to, msg, id)
    })
}

/// `xmessage`: a chat message with text `msg` from SIP URI `from` to SIP URI `to`.
unsafe extern "C" fn xmessage(from: *mut Str, to: *mut Str, msg: *mut Str, id: *mut Str) -> c_int {
    // SAFETY: forwarded from the caller.
    guard("xmessage", -1, || unsafe {
        send(Call::Message, from, to, msg, id)
    })
}

/// `xsubscribe`: as `xpacket` (the component backend ignores from, to and id).
unsafe extern "C" fn xsubscribe(
    from: *mut Str,
    to: *mut Str,
    msg: *mut Str,
    id: *mut Str,
) -> c_int {
    // SAFETY: forwarded from the caller.
    guard("xsubscribe", -1, || unsafe {
        send(Call::Subscribe, from, to, msg, id)
    })
}

/// `xnotify`: as `xpacket`.
unsafe extern "C" fn xnotify(from: *mut Str, to: *mut Str, msg: *mut Str, id: *mut Str) -> c_int {
    // SAFETY: forwarded from the caller.
    guard("xnotify", -1, || unsafe {
        send(Call::Notify, from, to, msg, id)
    })
}
