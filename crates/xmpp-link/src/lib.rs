//! XEP-0114 component link for Kamailio's `xmpp` module, in pure Rust and without Kamailio
//! symbols; the module shim sits on top of it.
//!
//! - [`address`]: the four SIP URI <-> JID translators and the `gwmap` modparam ([`gwmap`]).
//! - [`framer`]: an incremental XML stream framer (stream header, stanzas, stream end).
//! - [`component`]: the sans-IO XEP-0114 state machine ([`handshake`] has the wire pieces,
//!   [`backoff`] the reconnect policy, [`close_reason`] and [`stats`] what it reports).
//! - [`link`]: a driver running it over a non-blocking TCP socket from a poll loop.
//! - [`stanza`]: chat messages out, messages in, IQ error replies, raw stanza checks.
//! - [`frame`]: the worker -> manager command datagram.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod address;
pub mod backoff;
pub mod close_reason;
pub mod component;
mod escape;
pub mod frame;
pub mod framer;
pub mod gwmap;
pub mod handshake;
pub mod link;
mod outbox;
mod sip_uri;
pub mod stanza;
pub mod stats;

pub use outbox::QueueLimits;
