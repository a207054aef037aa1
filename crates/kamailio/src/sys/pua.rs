//! pua's API (`modules/pua/pua_bind.h`, `send_publish.h`, `send_subscribe.h`, `hash.h`,
//! `pua_callback.h`).

use libc::{c_int, c_uint, c_void};

use super::{SipMsgRaw, Str};

/// `publ_info_t`.
#[repr(C)]
pub struct PublInfo {
    pub id: Str,
    pub pres_uri: *mut Str,
    pub body: *mut Str,
    pub expires: c_int,
    pub flag: c_int,
    pub source_flag: c_int,
    pub event: c_int,
    pub content_type: Str,
    pub etag: *mut Str,
    pub outbound_proxy: *mut Str,
    pub extra_headers: *mut Str,
    pub cb_param: *mut c_void,
}

/// `subs_info_t`.
#[repr(C)]
pub struct SubsInfo {
    pub id: Str,
    pub pres_uri: *mut Str,
    pub watcher_uri: *mut Str,
    pub contact: *mut Str,
    pub remote_target: *mut Str,
    pub outbound_proxy: *mut Str,
    pub event: c_int,
    pub extra_headers: *mut Str,
    pub expires: c_int,
    pub source_flag: c_int,
    pub flag: c_int,
    pub cb_param: *mut c_void,
    pub internal_update_flag: c_int,
}

/// `ua_pres_t`: a pua dialog or publication record.
#[repr(C)]
pub struct UaPres {
    pub id: Str,
    pub pres_uri: *mut Str,
    pub event: c_int,
    pub expires: c_uint,
    pub desired_expires: c_uint,
    pub flag: c_int,
    pub db_flag: c_int,
    pub cb_param: *mut c_void,
    pub next: *mut UaPres,
    pub ua_flag: c_int,
    pub outbound_proxy: *mut Str,
    pub etag: Str,
    pub tuple_id: Str,
    pub body: *mut Str,
    pub content_type: Str,
    pub watcher_uri: *mut Str,
    pub call_id: Str,
    pub to_tag: Str,
    pub from_tag: Str,
    pub cseq: c_int,
    pub version: c_int,
    pub extra_headers: *mut Str,
    pub record_route: Str,
    pub remote_contact: Str,
    pub contact: Str,
}

pub type PuaCallback = unsafe extern "C" fn(*mut UaPres, *mut SipMsgRaw) -> c_int;

/// `pua_api_t`, filled by `bind_pua`.
#[repr(C)]
pub struct PuaApi {
    pub send_subscribe: Option<unsafe extern "C" fn(*mut SubsInfo) -> c_int>,
    pub send_publish: Option<unsafe extern "C" fn(*mut PublInfo) -> c_int>,
    pub register_puacb: Option<unsafe extern "C" fn(c_int, PuaCallback, *mut c_void) -> c_int>,
    pub is_dialog: Option<unsafe extern "C" fn(*mut UaPres) -> c_int>,
    pub get_record_id: *mut c_void,
    pub add_event: *mut c_void,
    pub get_subs_list: *mut c_void,
}

pub type BindPua = unsafe extern "C" fn(*mut PuaApi) -> c_int;

/// Events (`hash.h`).
pub const PRESENCE_EVENT: c_int = 1;
pub const PWINFO_EVENT: c_int = 2;

/// Source flags (`hash.h`).
pub const XMPP_PUBLISH: c_int = 8;
pub const XMPP_SUBSCRIBE: c_int = 16;
pub const XMPP_INITIAL_SUBS: c_int = 32;
