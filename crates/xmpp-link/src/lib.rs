//! XEP-0114 component link for Kamailio's `xmpp` module, in pure Rust and without Kamailio
//! symbols; the module shim sits on top of it.
//!
//! - [`address`]: the four SIP URI <-> JID translators and the `gwmap` modparam ([`gwmap`]).
//! - [`framer`]: an incremental XML stream framer (stream header, stanzas, stream end).
//! - [`component`]: the sans-IO XEP-0114 state machine ([`handshake`] has the wire pieces,
//!   [`backoff`] the reconnect policy, [`close_reason`] and [`stats`] what it reports).
//! - [`link`]: a driver running it over a non-blocking TCP socket from a poll loop.
//! - [`stanza`]: chat messages out, messages in, IQ error replies, raw stanza checks
//!   ([`plain_xml`] vouches for plain stanzas so only the rest needs a full parse).
//!
//! The manager process's loop, in outline (`poll` standing for `poll(2)` on the link's socket
//! and the IPC socket):
//!
//! ```no_run
//! use xmpp_component_link::component::{ComponentConfig, Event};
//! use xmpp_component_link::link::{Link, LinkConfig};
//! use xmpp_component_link::stanza::service_unavailable_reply;
//!
//! let mut link = Link::new(LinkConfig {
//!     host: "127.0.0.1".into(),
//!     port: 5347,
//!     component: ComponentConfig::new("sip.xmpp.example", "secret"),
//! });
//! loop {
//!     // poll(link.raw_fd() for link.interest(), the IPC socket; link.timeout() capped at 100 ms)
//!     // for each stanza a SIP worker sent over IPC: link.send(..)
//!     link.drive();
//!     while let Some(event) = link.poll_event() {
//!         match event {
//!             Event::Stanza(s) if s.name() == "iq" => {
//!                 // no IQ callback registered: answer get/set with service-unavailable
//!                 if let Some(reply) = service_unavailable_reply(s.as_str()) {
//!                     let _ = link.send(reply);
//!                 }
//!             }
//!             Event::Stanza(_) => { /* message -> SIP MESSAGE, presence -> callbacks */ }
//!             Event::Authenticated { .. } | Event::Closed { .. } => { /* log */ }
//!         }
//!     }
//!     # break;
//! }
//! ```
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
pub mod link;
mod outbox;
pub mod plain_xml;
mod sip_uri;
pub mod stanza;
pub mod stats;

pub use outbox::QueueLimits;
