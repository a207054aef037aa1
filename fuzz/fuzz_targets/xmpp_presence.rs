//! Fuzzes parse_xmpp_presence and the PIDF rendered from it: never a panic, and the PIDF always
//! parses back with the same notes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sip_xmpp_presence::{Limits, parse_pidf, parse_xmpp_presence, render_pidf, split_jid};

fuzz_target!(|data: &[u8]| {
    if let Ok(presence) = parse_xmpp_presence(data, &Limits::default()) {
        let (_, resource) = split_jid(&presence.from);
        let pidf = render_pidf("sip:u@gw.example", resource, &presence);
        let limits = Limits {
            max_body_size: usize::MAX,
        };
        let back = parse_pidf(pidf.as_bytes(), &limits).expect("rendered PIDF parses");
        assert_eq!(back.notes, presence.statuses);
    }
});
