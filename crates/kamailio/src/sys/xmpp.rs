//! The xmpp module's API (`modules/xmpp/xmpp_api.h`).

use libc::{c_char, c_int, c_void};

use super::Str;

pub type XmppCallback = unsafe extern "C" fn(*mut c_char, c_int, *mut c_void);
pub type XmppSend = unsafe extern "C" fn(*mut Str, *mut Str, *mut Str, *mut Str) -> c_int;
pub type XmppTranslate = unsafe extern "C" fn(*mut c_char) -> *mut c_char;

/// `xmpp_api_t`, filled by `bind_xmpp`.
#[repr(C)]
pub struct XmppApi {
    pub register_callback: Option<unsafe extern "C" fn(c_int, XmppCallback, *mut c_void) -> c_int>,
    pub xpacket: Option<XmppSend>,
    pub xmessage: Option<XmppSend>,
    pub xsubscribe: Option<XmppSend>,
    pub xnotify: Option<XmppSend>,
    pub decode_uri_sip_xmpp: Option<XmppTranslate>,
    pub encode_uri_sip_xmpp: Option<XmppTranslate>,
    pub decode_uri_xmpp_sip: Option<XmppTranslate>,
    pub encode_uri_xmpp_sip: Option<XmppTranslate>,
}

pub type BindXmpp = unsafe extern "C" fn(*mut XmppApi) -> c_int;

/// Callback types (`xmpp_api.h`).
pub const XMPP_RCV_MESSAGE: c_int = 1;
pub const XMPP_RCV_PRESENCE: c_int = 2;
pub const XMPP_RCV_IQ: c_int = 4;
