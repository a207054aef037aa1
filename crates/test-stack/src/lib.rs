//! Real Kamailio + Prosody (or ejabberd) test stack, one private network namespace per test.
//!
//! ```no_run
//! use kamailio_test_stack::{Stack, StackConfig};
//! let stack = Stack::start(StackConfig::c_baseline()); // or StackConfig::rust()
//! let alice = stack.sip_ua("sip:alice@sip.example");
//! let bob = stack.xmpp_client("bob@xmpp.example/phone");
//! stack.assert_no_crash();
//! ```
//! Prerequisite: `tests/stack/setup.sh` (as root) has installed the packages
//! and built the crash-fixed C `xmpp.so`. `KAMAILIO_PREFIX` selects another
//! Kamailio installation (e.g. 6.0.1 from `tests/stack/build-kamailio-6.0.sh`,
//! see [`Host`]).

pub mod baresip;
pub mod config;
pub mod ejabberd;
pub mod kamailio;
pub mod link_fault;
pub mod netns;
pub mod pidf;
pub mod process;
pub mod prosody;
pub mod sip_msg;
pub mod sip_ua;
pub mod slixmpp;
pub mod stack;
pub mod stanza;
pub mod temp_dir;
pub mod xml_framer;
pub mod xmpp_client;

pub use baresip::Baresip;
pub use config::{
    GATEWAY_URI, Host, ModparamValue, SIP_DOMAIN, SIP_GW_DOMAIN, StackConfig, XMPP_DOMAIN,
    XMPP_GW_DOMAIN, XmppServer, jid_for_sip, rust_pua_xmpp_module, rust_xmpp_module, sip_for_jid,
};
pub use sip_msg::SipMessage;
pub use sip_ua::{Dialog, Publish, SipUa};
pub use slixmpp::Slixmpp;
pub use stack::Stack;
pub use stanza::{Element, Stanza};
pub use xmpp_client::XmppClient;
