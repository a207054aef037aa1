//! XEP-0114 component link for Kamailio's `xmpp` module, in pure Rust: SIP <-> XMPP address
//! translation, an incremental stream framer, the component handshake state machine, stanza
//! builders, the worker -> manager command frame and a small TCP driver.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod address;
mod escape;
pub mod framer;
pub mod gwmap;
mod sip_uri;
