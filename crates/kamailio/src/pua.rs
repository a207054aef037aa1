//! pua's API, bound through `find_export("bind_pua")`: send PUBLISH and SUBSCRIBE, look up
//! dialogs, register reply callbacks.

use std::ptr;

use libc::c_int;

use crate::sys::*;
use crate::{HostError, modules};

/// The bound pua API (a copy of the table `bind_pua` filled).
pub struct Pua {
    send_subscribe: unsafe extern "C" fn(*mut SubsInfo) -> c_int,
    send_publish: unsafe extern "C" fn(*mut PublInfo) -> c_int,
    register_puacb: unsafe extern "C" fn(c_int, PuaCallback, *mut libc::c_void) -> c_int,
    is_dialog: unsafe extern "C" fn(*mut UaPres) -> c_int,
}

/// A PUBLISH to send. pua copies every string it keeps.
pub struct Publish<'a> {
    /// Publication id: distinguishes several publications of one presentity.
    pub id: &'a [u8],
    pub pres_uri: &'a [u8],
    /// `None`: no body (pua sends none for expires 0 anyway).
    pub body: Option<&'a [u8]>,
    pub content_type: &'a [u8],
    /// Seconds, 0 to remove, -1 for pua's default with refreshes.
    pub expires: i32,
    pub source_flag: c_int,
    pub event: c_int,
    pub outbound_proxy: Option<&'a [u8]>,
}

/// A SUBSCRIBE to send (initial, refresh, or with expires 0 to end it).
pub struct Subscribe<'a> {
    pub pres_uri: &'a [u8],
    pub watcher_uri: &'a [u8],
    pub contact: &'a [u8],
    /// The dialog's remote target: lets pua find the existing dialog (`check_remote_contact`).
    pub remote_target: Option<&'a [u8]>,
    pub outbound_proxy: Option<&'a [u8]>,
    pub event: c_int,
    pub expires: i32,
    pub source_flag: c_int,
}

/// The dialog identifiers of a NOTIFY, as `is_dialog` wants them.
pub struct DialogKey<'a> {
    pub watcher_uri: &'a [u8],
    pub pres_uri: &'a [u8],
    pub call_id: &'a [u8],
    /// The NOTIFY's To tag: our (the subscriber's) tag.
    pub local_tag: &'a [u8],
    /// The NOTIFY's From tag: the notifier's tag.
    pub remote_tag: &'a [u8],
    pub flag: c_int,
    pub event: c_int,
}

/// What `is_dialog` found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DialogState {
    Confirmed,
    /// The NOTIFY overtook the 2xx of the SUBSCRIBE.
    Temporary,
    Unknown,
}

/// A `str` viewing `bytes`. pua only reads through it (the C module passes string literals).
fn view(bytes: &[u8]) -> Str {
    Str {
        s: bytes.as_ptr().cast_mut().cast(),
        len: bytes.len() as c_int,
    }
}

fn view_opt(bytes: Option<&[u8]>, slot: &mut Str) -> *mut Str {
    match bytes {
        Some(b) => {
            *slot = view(b);
            slot
        }
        None => ptr::null_mut(),
    }
}

impl Pua {
    /// Binds pua's API. pua must be loaded (and initialised) before the caller.
    pub fn bind() -> Result<Self, HostError> {
        let binder = modules::find_export(c"bind_pua", 1)?.ok_or(HostError::NotLoaded("pua"))?;
        // SAFETY: pua exports bind_pua as `int bind_pua(pua_api_t*)` under this name.
        let bind: BindPua = unsafe { std::mem::transmute::<CmdFunction, BindPua>(binder) };
        let mut api = PuaApi {
            send_subscribe: None,
            send_publish: None,
            register_puacb: None,
            is_dialog: None,
            get_record_id: ptr::null_mut(),
            add_event: ptr::null_mut(),
            get_subs_list: ptr::null_mut(),
        };
        // SAFETY: api is a zeroed pua_api_t for bind_pua to fill.
        if unsafe { bind(&mut api) } < 0 {
            return Err(HostError::BindFailed("pua"));
        }
        match (
            api.send_subscribe,
            api.send_publish,
            api.register_puacb,
            api.is_dialog,
        ) {
            (Some(send_subscribe), Some(send_publish), Some(register_puacb), Some(is_dialog)) => {
                Ok(Self {
                    send_subscribe,
                    send_publish,
                    register_puacb,
                    is_dialog,
                })
            }
            _ => Err(HostError::BindFailed("pua")),
        }
    }

    /// Registers `callback` for replies to requests whose source flag is in `types`.
    pub fn register_callback(&self, types: c_int, callback: PuaCallback) -> Result<(), HostError> {
        // SAFETY: pua stores the pointer in its shm callback list; the param is unused by pua.
        match unsafe { (self.register_puacb)(types, callback, ptr::null_mut()) } {
            r if r < 0 => Err(HostError::Call("register_puacb", r)),
            _ => Ok(()),
        }
    }

    pub fn send_publish(&self, p: &Publish<'_>) -> Result<(), HostError> {
        let mut pres_uri = view(p.pres_uri);
        let (mut body, mut proxy) = (Str::EMPTY, Str::EMPTY);
        let mut info = PublInfo {
            id: view(p.id),
            pres_uri: &mut pres_uri,
            body: view_opt(p.body, &mut body),
            expires: p.expires,
            flag: 0,
            source_flag: p.source_flag,
            event: p.event,
            content_type: view(p.content_type),
            etag: ptr::null_mut(),
            outbound_proxy: view_opt(p.outbound_proxy, &mut proxy),
            extra_headers: ptr::null_mut(),
            cb_param: ptr::null_mut(),
        };
        // SAFETY: every pointer in `info` lives until the call returns; pua copies what it keeps.
        match unsafe { (self.send_publish)(&mut info) } {
            r if r < 0 => Err(HostError::Call("send_publish", r)),
            _ => Ok(()),
        }
    }

    pub fn send_subscribe(&self, s: &Subscribe<'_>) -> Result<(), HostError> {
        let (mut pres_uri, mut watcher_uri, mut contact) =
            (view(s.pres_uri), view(s.watcher_uri), view(s.contact));
        let (mut target, mut proxy) = (Str::EMPTY, Str::EMPTY);
        let mut info = SubsInfo {
            id: Str::EMPTY,
            pres_uri: &mut pres_uri,
            watcher_uri: &mut watcher_uri,
            contact: &mut contact,
            remote_target: view_opt(s.remote_target, &mut target),
            outbound_proxy: view_opt(s.outbound_proxy, &mut proxy),
            event: s.event,
            extra_headers: ptr::null_mut(),
            expires: s.expires,
            source_flag: s.source_flag,
            flag: 0,
            cb_param: ptr::null_mut(),
            internal_update_flag: 0,
        };
        // SAFETY: as send_publish.
        match unsafe { (self.send_subscribe)(&mut info) } {
            r if r < 0 => Err(HostError::Call("send_subscribe", r)),
            _ => Ok(()),
        }
    }

    pub fn is_dialog(&self, key: &DialogKey<'_>) -> DialogState {
        let (mut watcher, mut pres) = (view(key.watcher_uri), view(key.pres_uri));
        // SAFETY: a zeroed ua_pres_t is how pua's own callers build a lookup key.
        let mut dialog: UaPres = unsafe { std::mem::zeroed() };
        dialog.watcher_uri = &mut watcher;
        dialog.pres_uri = &mut pres;
        dialog.call_id = view(key.call_id);
        dialog.from_tag = view(key.local_tag);
        dialog.to_tag = view(key.remote_tag);
        dialog.flag = key.flag;
        dialog.event = key.event;
        // SAFETY: pua only reads the key.
        match unsafe { (self.is_dialog)(&mut dialog) } {
            0 => DialogState::Confirmed,
            1 => DialogState::Temporary,
            _ => DialogState::Unknown,
        }
    }
}

/// Safe reads of the `ua_pres_t` pua hands to reply callbacks.
pub struct UaPresView<'a>(&'a UaPres);

impl<'a> UaPresView<'a> {
    /// # Safety
    /// `raw` must be NULL or a `ua_pres_t` pua keeps alive for `'a`.
    pub unsafe fn from_raw(raw: *mut UaPres) -> Option<Self> {
        // SAFETY: forwarded contract.
        unsafe { raw.as_ref() }.map(Self)
    }

    fn bytes(s: *const Str) -> &'a [u8] {
        // SAFETY: pua's strings point into the record (shm) for the record's lifetime.
        unsafe {
            match s.as_ref() {
                Some(s) if !s.s.is_null() && s.len > 0 => {
                    std::slice::from_raw_parts(s.s.cast::<u8>(), s.len as usize)
                }
                _ => &[],
            }
        }
    }

    pub fn pres_uri(&self) -> &'a [u8] {
        Self::bytes(self.0.pres_uri)
    }
    pub fn watcher_uri(&self) -> &'a [u8] {
        Self::bytes(self.0.watcher_uri)
    }
    pub fn flag(&self) -> c_int {
        self.0.flag
    }
    pub fn event(&self) -> c_int {
        self.0.event
    }
}
