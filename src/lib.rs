//! pua_xmpp: a SIP/SIMPLE <-> XMPP presence gateway for Kamailio, in Rust; a drop-in replacement
//! for the C module of the same name.
//!
//! Layers, outermost first:
//! - [`module`]: the export table and every `extern "C"` entry point Kamailio calls; [`capi`]:
//!   the C API other modules bind (`include/pua_xmpp.h`); [`params`]: the module parameters.
//! - [`gateway`]: the flows of the gateway, in Rust types over the host wrapper
//!   (`kamailio-module`).
//! - `sip-xmpp-presence`: the pure translation (no FFI, no `unsafe`).

pub mod capi;
pub mod gateway;
pub mod module;
pub mod params;

kamailio_module::export_version_check!();
