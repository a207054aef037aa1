//! Fuzzes parse_watcherinfo and watchers_to_request: never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sip_xmpp_presence::{Limits, parse_watcherinfo};

fuzz_target!(|data: &[u8]| {
    if let Ok(info) = parse_watcherinfo(data, &Limits::default()) {
        let uris = info.watchers_to_request();
        assert!(uris.iter().all(|uri| !uri.is_empty()));
    }
});
