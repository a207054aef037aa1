//! The gateway flows of docs/behaviour.md, in Rust types over the host wrapper: SIP NOTIFY -> XMPP
//! ([`notify`]), SIP SUBSCRIBE -> winfo subscription ([`winfo_request`]), XMPP presence -> SIP
//! ([`xmpp_presence`]) and SIP replies -> XMPP ([`sip_reply`]).

pub mod dialogs;
pub mod lifecycle;
pub mod notify;
pub mod sip_reply;
pub mod winfo_request;
pub mod xmpp_presence;

use std::sync::OnceLock;

use kamailio_module::HostError;
use kamailio_module::pua::Pua;
use kamailio_module::pv::Pv;
use kamailio_module::xmpp::{Translate, Xmpp};
use sip_xmpp_presence::Limits;

use crate::params::Config;
use dialogs::Dialogs;
use lifecycle::LinkState;

/// Everything the flows need, built once in `mod_init` (before fork) and inherited by every
/// process.
pub struct Gateway {
    pub config: Config,
    pub limits: Limits,
    pub pua: Pua,
    pub xmpp: Xmpp,
    /// `$mb`: the raw message; the flows parse the few headers they need themselves.
    pub raw_message: Pv,
    pub dialogs: Dialogs,
    /// Whether the component link is down (shared; presence is held while it is).
    pub link: LinkState,
}

static GATEWAY: OnceLock<Gateway> = OnceLock::new();

/// The gateway, once `mod_init` has built it.
pub fn get() -> Option<&'static Gateway> {
    GATEWAY.get()
}

pub fn install(gateway: Gateway) -> Result<(), &'static str> {
    GATEWAY
        .set(gateway)
        .map_err(|_| "the gateway is already initialised")
}

/// Why a flow refused its input: logged once, turned into a false return.
#[derive(Debug)]
pub enum FlowError {
    Host(HostError),
    Input(String),
    /// The NOTIFY belongs to no subscription of the gateway.
    UnknownDialog,
    Translate(&'static str, String),
}

impl From<HostError> for FlowError {
    fn from(e: HostError) -> Self {
        Self::Host(e)
    }
}

impl std::fmt::Display for FlowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Host(e) => write!(f, "{e}"),
            Self::Input(s) => f.write_str(s),
            Self::UnknownDialog => f.write_str("no gateway subscription matches this NOTIFY"),
            Self::Translate(what, uri) => {
                write!(
                    f,
                    "the xmpp module cannot translate {what} <{}>",
                    shorten(uri)
                )
            }
        }
    }
}

/// User data in log lines stays short.
pub fn shorten(s: &str) -> &str {
    match s.char_indices().nth(120) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

impl Gateway {
    /// Translates an address through the xmpp module.
    pub fn translate(
        &self,
        which: Translate,
        what: &'static str,
        uri: &str,
    ) -> Result<String, FlowError> {
        // The xmpp module "translates" a JID without a node, or without the separator, into a
        // SIP URI without a user or host (`sip:gw.example`, `sip:bob`, `sip:@d`): no SIP
        // request may be sent to or from such an address.
        let usable = |s: &String| match which {
            Translate::DecodeXmppToSip | Translate::EncodeXmppToSip => {
                sip_xmpp_presence::parse_sip_uri(s).is_ok()
            }
            Translate::DecodeSipToXmpp | Translate::EncodeSipToXmpp => !s.is_empty(),
        };
        self.xmpp
            .translate(which, uri)
            .filter(usable)
            .ok_or_else(|| FlowError::Translate(what, uri.to_string()))
    }

    pub fn outbound_proxy(&self) -> Option<&[u8]> {
        self.config.outbound_proxy.as_deref().map(str::as_bytes)
    }
}
