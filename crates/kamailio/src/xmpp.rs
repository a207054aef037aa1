//! The xmpp module's API, bound through `find_export("bind_xmpp")`: send stanzas, receive them
//! through callbacks, translate addresses between SIP and XMPP.

use std::ffi::CStr;

use libc::c_int;

use crate::sys::*;
use crate::{HostError, modules};

/// Callback type of this project's xmpp module (an extension: Kamailio's C module never runs
/// it): the component link is up (again). The callback's text is empty. Runs in the XMPP
/// Manager process, like the presence callbacks, before any stanza of the new link is handled.
pub const XMPP_LINK_UP: c_int = 1 << 4;
/// Callback type (extension, as [`XMPP_LINK_UP`]): the component link is down. The callback's
/// text is how long it has been down, in milliseconds (decimal); it runs when the link is lost
/// (or at start, before the first connection) and then about once a second until it is up.
pub const XMPP_LINK_DOWN: c_int = 1 << 5;

/// The bound xmpp API.
pub struct Xmpp {
    api: XmppApi,
}

// SAFETY: function pointers into the xmpp module; processes are single-threaded.
unsafe impl Send for Xmpp {}
unsafe impl Sync for Xmpp {}

/// How a stanza is handed to the transport. The component backend writes all three raw.
#[derive(Debug, Clone, Copy)]
pub enum StanzaKind {
    Packet,
    Subscribe,
    Notify,
}

/// The four address translators (each has its own static buffer in the C module).
#[derive(Debug, Clone, Copy)]
pub enum Translate {
    /// `sip:u*d@gateway` -> `u@d`
    DecodeSipToXmpp,
    /// `sip:u@d` -> `u*d@xmpp_domain`
    EncodeSipToXmpp,
    /// `u*d@xmpp_domain` -> `sip:u@d`
    DecodeXmppToSip,
    /// `u@d/res` -> `sip:u*d@gateway`
    EncodeXmppToSip,
}

impl Xmpp {
    /// Binds the xmpp module's API. It must be loaded (and initialised) before the caller.
    pub fn bind() -> Result<Self, HostError> {
        let binder = modules::find_export(c"bind_xmpp", 0)?.ok_or(HostError::NotLoaded("xmpp"))?;
        // SAFETY: xmpp exports bind_xmpp as `int bind_xmpp(xmpp_api_t*)` under this name.
        let bind: BindXmpp = unsafe { std::mem::transmute::<CmdFunction, BindXmpp>(binder) };
        // SAFETY: an all-NULL xmpp_api_t for bind_xmpp to fill.
        let mut api: XmppApi = unsafe { std::mem::zeroed() };
        // SAFETY: as above.
        if unsafe { bind(&mut api) } < 0 {
            return Err(HostError::BindFailed("xmpp"));
        }
        let complete = api.register_callback.is_some()
            && api.xpacket.is_some()
            && api.xsubscribe.is_some()
            && api.xnotify.is_some()
            && api.decode_uri_sip_xmpp.is_some()
            && api.encode_uri_sip_xmpp.is_some()
            && api.decode_uri_xmpp_sip.is_some()
            && api.encode_uri_xmpp_sip.is_some();
        if !complete {
            return Err(HostError::BindFailed("xmpp"));
        }
        Ok(Self { api })
    }

    /// Registers `callback` for received stanzas of `types` (`XMPP_RCV_*`, and this project's
    /// [`XMPP_LINK_UP`] / [`XMPP_LINK_DOWN`], which a C xmpp module accepts and never runs).
    /// Must happen in mod_init: the list is inherited by the XMPP process through fork.
    pub fn register_callback(&self, types: c_int, callback: XmppCallback) -> Result<(), HostError> {
        let register = self.api.register_callback.expect("checked in bind");
        // SAFETY: the xmpp module stores the pointer; our param is unused.
        match unsafe { register(types, callback, std::ptr::null_mut()) } {
            r if r < 0 => Err(HostError::Call("register_callback", r)),
            _ => Ok(()),
        }
    }

    /// Hands `stanza` to the transport. `from`, `to` and `id` travel beside it (unused by the
    /// component backend, which writes the stanza as is).
    pub fn send(
        &self,
        kind: StanzaKind,
        from: &str,
        to: &str,
        stanza: &str,
    ) -> Result<(), HostError> {
        let send = match kind {
            StanzaKind::Packet => self.api.xpacket,
            StanzaKind::Subscribe => self.api.xsubscribe,
            StanzaKind::Notify => self.api.xnotify,
        }
        .expect("checked in bind");
        let mut strs = [from, to, stanza, ""].map(|s| Str {
            s: s.as_ptr().cast_mut().cast(),
            len: s.len() as c_int,
        });
        let [f, t, m, id] = &mut strs;
        // SAFETY: four non-NULL str pointers valid for the call; the module copies them.
        match unsafe { send(f, t, m, id) } {
            r if r < 0 => Err(HostError::Call("xmpp send", r)),
            _ => Ok(()),
        }
    }

    /// Translates `uri`; `None` when the module cannot (bad address). The result is copied out
    /// of the module's static buffer at once.
    pub fn translate(&self, which: Translate, uri: &str) -> Option<String> {
        let f = match which {
            Translate::DecodeSipToXmpp => self.api.decode_uri_sip_xmpp,
            Translate::EncodeSipToXmpp => self.api.encode_uri_sip_xmpp,
            Translate::DecodeXmppToSip => self.api.decode_uri_xmpp_sip,
            Translate::EncodeXmppToSip => self.api.encode_uri_xmpp_sip,
        }
        .expect("checked in bind");
        if uri.contains('\0') {
            return None;
        }
        // The C translator may write into its input: give it a private NUL-terminated copy.
        let mut input = Vec::with_capacity(uri.len() + 1);
        input.extend_from_slice(uri.as_bytes());
        input.push(0);
        // SAFETY: a NUL-terminated private buffer; the result is a static buffer or NULL.
        let out = unsafe { f(input.as_mut_ptr().cast()) };
        if out.is_null() {
            return None;
        }
        // SAFETY: NUL-terminated static buffer of the module, copied before any other call.
        Some(
            unsafe { CStr::from_ptr(out) }
                .to_string_lossy()
                .into_owned(),
        )
    }
}
