//! The four address translators of the API. Each returns its own static 512-byte buffer, as in
//! C; a result that does not fit (with its NUL) is refused with NULL instead of being cut or
//! written out of bounds.

use std::cell::UnsafeCell;
use std::ffi::CStr;

use libc::c_char;

use kamailio_module::guard::guard;
use xmpp_component_link::address::AddressConfig;

use crate::transport;

/// The size of each C `static char buf[512]`.
pub const BUFFER_SIZE: usize = 512;

struct Buffer(UnsafeCell<[u8; BUFFER_SIZE]>);

// SAFETY: Kamailio processes are single-threaded; the buffer is only written by its translator.
unsafe impl Sync for Buffer {}

static DECODE_SIP_XMPP: Buffer = Buffer(UnsafeCell::new([0; BUFFER_SIZE]));
static ENCODE_SIP_XMPP: Buffer = Buffer(UnsafeCell::new([0; BUFFER_SIZE]));
static DECODE_XMPP_SIP: Buffer = Buffer(UnsafeCell::new([0; BUFFER_SIZE]));
static ENCODE_XMPP_SIP: Buffer = Buffer(UnsafeCell::new([0; BUFFER_SIZE]));

/// Runs `f` on the NUL-terminated `input` and copies its result into `buf`.
///
/// # Safety
/// `input` is NULL or NUL-terminated.
unsafe fn translate(
    name: &'static str,
    input: *mut c_char,
    buf: &'static Buffer,
    f: fn(&AddressConfig, &str) -> Option<String>,
) -> *mut c_char {
    guard(name, std::ptr::null_mut(), || {
        if input.is_null() {
            return std::ptr::null_mut();
        }
        let Some(t) = transport::get() else {
            log::error!("{name}: the xmpp module is not initialised");
            return std::ptr::null_mut();
        };
        // SAFETY: the caller's contract.
        let Ok(text) = unsafe { CStr::from_ptr(input) }.to_str() else {
            log::error!("{name}: address is not UTF-8");
            return std::ptr::null_mut();
        };
        let Some(out) = f(&t.config.addresses, text) else {
            log::error!("{name}: cannot translate '{text}'");
            return std::ptr::null_mut();
        };
        if out.len() >= BUFFER_SIZE {
            log::error!(
                "{name}: the result for '{text}' has {} bytes, over the {} the API allows",
                out.len(),
                BUFFER_SIZE - 1
            );
            return std::ptr::null_mut();
        }
        let buf = buf.0.get().cast::<u8>();
        // SAFETY: out.len() + 1 <= BUFFER_SIZE bytes into this translator's own buffer; the
        // result has no NUL (the input had none).
        unsafe {
            std::ptr::copy_nonoverlapping(out.as_ptr(), buf, out.len());
            *buf.add(out.len()) = 0;
        }
        buf.cast()
    })
}

/// `decode_uri_sip_xmpp`: `sip:user*domain@gateway` -> `user@domain`.
pub(crate) unsafe extern "C" fn decode_uri_sip_xmpp(uri: *mut c_char) -> *mut c_char {
    // SAFETY: forwarded from the caller.
    unsafe {
        translate(
            "decode_uri_sip_xmpp",
            uri,
            &DECODE_SIP_XMPP,
            AddressConfig::decode_uri_sip_xmpp,
        )
    }
}

/// `encode_uri_sip_xmpp`: `sip:user@domain` -> `user*domain@xmpp_domain`.
pub(crate) unsafe extern "C" fn encode_uri_sip_xmpp(uri: *mut c_char) -> *mut c_char {
    // SAFETY: forwarded from the caller.
    unsafe {
        translate(
            "encode_uri_sip_xmpp",
            uri,
            &ENCODE_SIP_XMPP,
            AddressConfig::encode_uri_sip_xmpp,
        )
    }
}

/// `decode_uri_xmpp_sip`: `user*domain@xmpp_domain/res` -> `sip:user@domain`.
pub(crate) unsafe extern "C" fn decode_uri_xmpp_sip(jid: *mut c_char) -> *mut c_char {
    // SAFETY: forwarded from the caller.
    unsafe {
        translate(
            "decode_uri_xmpp_sip",
            jid,
            &DECODE_XMPP_SIP,
            AddressConfig::decode_uri_xmpp_sip,
        )
    }
}

/// `encode_uri_xmpp_sip`: `user@domain/res` -> `sip:user*domain@gateway_domain` (the input is
/// not modified, unlike C).
pub(crate) unsafe extern "C" fn encode_uri_xmpp_sip(jid: *mut c_char) -> *mut c_char {
    // SAFETY: forwarded from the caller.
    unsafe {
        translate(
            "encode_uri_xmpp_sip",
            jid,
            &ENCODE_XMPP_SIP,
            AddressConfig::encode_uri_xmpp_sip,
        )
    }
}
