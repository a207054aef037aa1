//! XEP-0114 component link for Kamailio's `xmpp` module, in pure Rust: SIP <-> XMPP address
//! translation, an incremental stream framer, the component handshake state machine, stanza
//! builders, the worker -> manager command frame and a small TCP driver.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod address;
pub mod backoff;
pub mod close_reason;
pub mod component;
mod escape;
pub mod framer;
pub mod gwmap;
pub mod handshake;
mod outbox;
mod sip_uri;
pub mod stats;

pub use outbox::QueueLimits;
pub mod frame;
pub mod stanza;
