//! What the manager does with a stanza from the XMPP server, as the C component backend does:
//! `<presence>` goes to the presence callbacks, `<iq>` to the IQ callbacks (or, with none, a
//! `get`/`set` is answered with `service-unavailable`, which C never did), `<message>` becomes a
//! SIP MESSAGE. Message callbacks are never run, as in C.

use std::ffi::CString;

use kamailio_module::sys::{XMPP_RCV_IQ, XMPP_RCV_PRESENCE};
use xmpp_component_link::stanza::{InboundMessage, service_unavailable_reply};

use crate::callbacks;

/// What became of a stanza.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Handed to this many callbacks.
    Callbacks(usize),
    /// This reply must go back to the server.
    Reply(String),
    /// This message must go to SIP.
    Message(InboundMessage),
    /// Dropped, and why.
    Dropped(&'static str),
}

/// Handles one stanza: `name` is its element's local name, `xml` its standalone text.
pub fn dispatch(name: &str, xml: &str) -> Outcome {
    let run = |kind| match CString::new(xml) {
        Ok(text) => Outcome::Callbacks(callbacks::run(kind, &text)),
        Err(_) => Outcome::Dropped("NUL byte in the stanza"),
    };
    match name {
        "presence" => run(XMPP_RCV_PRESENCE),
        "iq" if callbacks::wanted(XMPP_RCV_IQ) => run(XMPP_RCV_IQ),
        "iq" => service_unavailable_reply(xml).map_or(
            Outcome::Dropped("an IQ that is not a request (or has no id, from or to)"),
            Outcome::Reply,
        ),
        "message" => InboundMessage::parse(xml).map_or(
            Outcome::Dropped("a message of type error, or without from, to or body"),
            Outcome::Message,
        ),
        _ => Outcome::Dropped("not a message, presence or iq"),
    }
}
