//! The C API other Kamailio modules can bind: the gateway's translations, callable from C.
//! `include/pua_xmpp.h` is generated from this file by build.rs (cbindgen).
//!
//! Get it like any Kamailio module API:
//! `bind_pua_xmpp_f bind = (bind_pua_xmpp_f)find_export("bind_pua_xmpp", NO_SCRIPT, 0);`
//! then `pua_xmpp_api_t api; bind(&api);`.
//!
//! Ownership: every string a function returns through `out` is allocated with malloc(3),
//! NUL-terminated, and owned by the caller, who releases it with `api.free_string` (free(3)).
//! Input strings are only read during the call. Functions return [`PUA_XMPP_OK`] or a negative
//! code, and never set `*out` on failure.

use std::ffi::CStr;

use libc::{c_char, c_int};

use kamailio_module::guard::guard;
use kamailio_module::sys::CmdFunction;
use kamailio_module::xmpp::Translate;
use sip_xmpp_presence::{
    Limits, PresenceType, error_presence, parse_pidf, parse_watcherinfo, parse_xmpp_presence,
    pidf_to_stanza, presence_stanza, render_pidf, split_jid,
};

/// Success.
pub const PUA_XMPP_OK: c_int = 0;
/// A required pointer was NULL or a length negative.
pub const PUA_XMPP_EINVAL: c_int = -1;
/// The input could not be translated (malformed, too large, wrong kind); the reason is logged.
pub const PUA_XMPP_EINPUT: c_int = -2;
/// The function needs the running gateway (address translation through the xmpp module).
pub const PUA_XMPP_ENOTREADY: c_int = -3;

/// The gateway's translations, filled by `bind_pua_xmpp`.
#[repr(C)]
pub struct PuaXmppApi {
    /// A PIDF document (RFC 3863/4480) -> one XMPP `<presence>` stanza from `from` to `to`
    /// (JIDs).
    pub pidf_to_xmpp: Option<
        unsafe extern "C" fn(
            from: *const c_char,
            to: *const c_char,
            body: *const c_char,
            body_len: c_int,
            out: *mut *mut c_char,
            out_len: *mut c_int,
        ) -> c_int,
    >,
    /// An XMPP `<presence>` stanza -> the PIDF document the gateway would PUBLISH for
    /// `pres_uri` (the sender's SIP address).
    pub xmpp_to_pidf: Option<
        unsafe extern "C" fn(
            pres_uri: *const c_char,
            stanza: *const c_char,
            stanza_len: c_int,
            out: *mut *mut c_char,
            out_len: *mut c_int,
        ) -> c_int,
    >,
    /// A watcherinfo document (RFC 3858) -> the `subscribe` stanzas (concatenated) asking the
    /// XMPP user `to` to accept each active, pending or waiting watcher. Needs the running
    /// gateway, whose xmpp module translates the watchers' addresses.
    pub winfo_to_subscribe: Option<
        unsafe extern "C" fn(
            to: *const c_char,
            body: *const c_char,
            body_len: c_int,
            out: *mut *mut c_char,
            out_len: *mut c_int,
        ) -> c_int,
    >,
    /// A SIP final response code (and optional reason phrase, may be NULL) -> the XMPP
    /// `<presence type='error'>` stanza of RFC 7247's mapping.
    pub sip_error_to_xmpp: Option<
        unsafe extern "C" fn(
            from: *const c_char,
            to: *const c_char,
            code: c_int,
            reason: *const c_char,
            out: *mut *mut c_char,
            out_len: *mut c_int,
        ) -> c_int,
    >,
    /// Releases a string returned by this API (free(3)).
    pub free_string: Option<unsafe extern "C" fn(s: *mut c_char)>,
}

/// The signature of `bind_pua_xmpp`, for the pointer `find_export` returns.
pub type BindPuaXmppF = unsafe extern "C" fn(api: *mut PuaXmppApi) -> c_int;

/// Fills `api`. Returns 0, or -1 when `api` is NULL.
///
/// # Safety
/// `api` must be NULL or point to writable memory for a `pua_xmpp_api_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bind_pua_xmpp(api: *mut PuaXmppApi) -> c_int {
    guard("bind_pua_xmpp", PUA_XMPP_EINVAL, || {
        // SAFETY: caller's contract.
        let Some(api) = (unsafe { api.as_mut() }) else {
            return PUA_XMPP_EINVAL;
        };
        *api = PuaXmppApi {
            pidf_to_xmpp: Some(pidf_to_xmpp),
            xmpp_to_pidf: Some(xmpp_to_pidf),
            winfo_to_subscribe: Some(winfo_to_subscribe),
            sip_error_to_xmpp: Some(sip_error_to_xmpp),
            free_string: Some(free_string),
        };
        PUA_XMPP_OK
    })
}

/// `bind_pua_xmpp` as the export table stores it.
pub(crate) const BIND_AS_CMD: CmdFunction =
    // SAFETY: the core only hands this pointer back through find_export; callers cast it to
    // BindPuaXmppF, its real type, as with every module API binder.
    unsafe { std::mem::transmute::<BindPuaXmppF, CmdFunction>(bind_pua_xmpp as BindPuaXmppF) };

/// # Safety
/// `s` NULL or NUL-terminated.
unsafe fn text<'a>(s: *const c_char) -> Option<&'a str> {
    // SAFETY: caller's contract.
    (!s.is_null())
        .then(|| unsafe { CStr::from_ptr(s) }.to_str().ok())
        .flatten()
}

/// # Safety
/// `p` NULL or valid for `len` bytes.
unsafe fn bytes<'a>(p: *const c_char, len: c_int) -> Option<&'a [u8]> {
    // SAFETY: caller's contract.
    (!p.is_null() && len >= 0)
        .then(|| unsafe { std::slice::from_raw_parts(p.cast::<u8>(), len as usize) })
}

/// Hands `s` to the caller as a malloc'd C string.
///
/// # Safety
/// `out` and `out_len` valid for writes.
unsafe fn give(s: &str, out: *mut *mut c_char, out_len: *mut c_int) -> c_int {
    let Ok(len) = c_int::try_from(s.len()) else {
        return PUA_XMPP_EINPUT;
    };
    // SAFETY: a fresh allocation of len+1 bytes, filled and NUL-terminated before handing out.
    unsafe {
        let p = libc::malloc(s.len() + 1).cast::<c_char>();
        if p.is_null() {
            return PUA_XMPP_EINPUT;
        }
        std::ptr::copy_nonoverlapping(s.as_ptr().cast::<c_char>(), p, s.len());
        *p.add(s.len()) = 0;
        *out = p;
        *out_len = len;
    }
    PUA_XMPP_OK
}

fn limits() -> Limits {
    crate::gateway::get().map_or_else(Limits::default, |gw| gw.limits)
}

fn input_error(what: &str, e: impl std::fmt::Display) -> c_int {
    log::warn!("{what}: {e}");
    PUA_XMPP_EINPUT
}

unsafe extern "C" fn pidf_to_xmpp(
    from: *const c_char,
    to: *const c_char,
    body: *const c_char,
    body_len: c_int,
    out: *mut *mut c_char,
    out_len: *mut c_int,
) -> c_int {
    guard("pidf_to_xmpp", PUA_XMPP_EINVAL, || {
        // SAFETY: the C API's documented contract.
        let (Some(from), Some(to), Some(body)) =
            (unsafe { text(from) }, unsafe { text(to) }, unsafe {
                bytes(body, body_len)
            })
        else {
            return PUA_XMPP_EINVAL;
        };
        if out.is_null() || out_len.is_null() {
            return PUA_XMPP_EINVAL;
        }
        match parse_pidf(body, &limits()) {
            // SAFETY: out pointers checked above.
            Ok(pidf) => unsafe { give(&pidf_to_stanza(from, to, &pidf), out, out_len) },
            Err(e) => input_error("pidf_to_xmpp", e),
        }
    })
}

unsafe extern "C" fn xmpp_to_pidf(
    pres_uri: *const c_char,
    stanza: *const c_char,
    stanza_len: c_int,
    out: *mut *mut c_char,
    out_len: *mut c_int,
) -> c_int {
    guard("xmpp_to_pidf", PUA_XMPP_EINVAL, || {
        // SAFETY: the C API's documented contract.
        let (Some(pres_uri), Some(stanza)) = (unsafe { text(pres_uri) }, unsafe {
            bytes(stanza, stanza_len)
        }) else {
            return PUA_XMPP_EINVAL;
        };
        if out.is_null() || out_len.is_null() {
            return PUA_XMPP_EINVAL;
        }
        match parse_xmpp_presence(stanza, &limits()) {
            Ok(p) if matches!(p.kind, PresenceType::Available | PresenceType::Unavailable) => {
                let (_, resource) = split_jid(&p.from);
                // SAFETY: out pointers checked above.
                unsafe { give(&render_pidf(pres_uri, resource, &p), out, out_len) }
            }
            Ok(p) => input_error(
                "xmpp_to_pidf",
                format!("presence of type {:?} carries no presence state", p.kind),
            ),
            Err(e) => input_error("xmpp_to_pidf", e),
        }
    })
}

unsafe extern "C" fn winfo_to_subscribe(
    to: *const c_char,
    body: *const c_char,
    body_len: c_int,
    out: *mut *mut c_char,
    out_len: *mut c_int,
) -> c_int {
    guard("winfo_to_subscribe", PUA_XMPP_EINVAL, || {
        // SAFETY: the C API's documented contract.
        let (Some(to), Some(body)) = (unsafe { text(to) }, unsafe { bytes(body, body_len) }) else {
            return PUA_XMPP_EINVAL;
        };
        if out.is_null() || out_len.is_null() {
            return PUA_XMPP_EINVAL;
        }
        let Some(gw) = crate::gateway::get() else {
            return PUA_XMPP_ENOTREADY;
        };
        let info = match parse_watcherinfo(body, &gw.limits) {
            Ok(info) => info,
            Err(e) => return input_error("winfo_to_subscribe", e),
        };
        let mut stanzas = String::new();
        for watcher in info.watchers_to_request() {
            match gw.translate(Translate::EncodeSipToXmpp, "the watcher", watcher) {
                Ok(from) => stanzas.push_str(&presence_stanza(&from, to, PresenceType::Subscribe)),
                Err(e) => log::warn!("winfo_to_subscribe: skipping watcher: {e}"),
            }
        }
        // SAFETY: out pointers checked above.
        unsafe { give(&stanzas, out, out_len) }
    })
}

unsafe extern "C" fn sip_error_to_xmpp(
    from: *const c_char,
    to: *const c_char,
    code: c_int,
    reason: *const c_char,
    out: *mut *mut c_char,
    out_len: *mut c_int,
) -> c_int {
    guard("sip_error_to_xmpp", PUA_XMPP_EINVAL, || {
        // SAFETY: the C API's documented contract.
        let (Some(from), Some(to)) = (unsafe { text(from) }, unsafe { text(to) }) else {
            return PUA_XMPP_EINVAL;
        };
        let Ok(code @ 300..=699) = u16::try_from(code) else {
            return PUA_XMPP_EINVAL;
        };
        if out.is_null() || out_len.is_null() {
            return PUA_XMPP_EINVAL;
        }
        // SAFETY: the C API's documented contract; out pointers checked above.
        unsafe { give(&error_presence(from, to, code, text(reason)), out, out_len) }
    })
}

unsafe extern "C" fn free_string(s: *mut c_char) {
    // SAFETY: strings handed out by `give` come from malloc.
    unsafe { libc::free(s.cast()) }
}
