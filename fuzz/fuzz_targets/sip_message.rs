//! Fuzzes SipMessage::parse and every header accessor: never a panic, body within the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sip_xmpp_presence::{SipMessage, parse_sip_uri};

fuzz_target!(|data: &[u8]| {
    if let Ok(msg) = SipMessage::parse(data) {
        assert!(msg.body.len() <= data.len());
        let _ = (msg.from(), msg.to(), msg.call_id(), msg.content_length());
        if let Some(contact) = msg.contact() {
            let _ = parse_sip_uri(contact);
        }
        for name in ["Event", "Subscription-State", "c", "Expires"] {
            let _ = msg.header(name);
        }
    }
});
