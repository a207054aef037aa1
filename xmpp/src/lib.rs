//! Kamailio's `xmpp` module in Rust: the XMPP transport (an XEP-0114 component) under
//! pua_xmpp and `xmpp_send_message()`, with the C module's interface (module name, parameters,
//! script function, `bind_xmpp` API) and without its crash on the first element a server sends.
//!
//! Processes: `mod_init` (main process) checks the parameters, makes the worker -> manager
//! socketpair ([`ipc`]) and the shared link status ([`link_status`]), and reserves one process;
//! `child_init(PROC_MAIN)` forks the XMPP Manager, which the core runs as a timer loop
//! (`manager`): it owns the component link and runs the callbacks ([`callbacks`]) and
//! [`inbound`] dispatch. SIP workers never block: they make the stanza and send it without
//! waiting (`outbound`), and are refused at once while the link is down.

mod api;
pub mod callbacks;
pub mod inbound;
pub mod ipc;
pub mod link_status;
mod manager;
mod module;
mod outbound;
mod params;
mod send_message;
mod sip_out;
mod translate;
mod transport;

kamailio_module::export_version_check!();
