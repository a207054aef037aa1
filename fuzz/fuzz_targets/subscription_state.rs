//! Fuzzes parse_subscription_state, parse_event and the NOTIFY decision: never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sip_xmpp_presence::{
    parse_event, parse_subscription_state, presence_notify_action, winfo_notify_action,
};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(state) = parse_subscription_state(text) {
        for body in [false, true] {
            let _ = presence_notify_action(&state, body);
            let _ = winfo_notify_action(&state, body);
        }
    }
    let _ = parse_event(text);
});
