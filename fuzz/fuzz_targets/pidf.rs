//! Fuzzes parse_pidf and the stanza rendered from it: never a panic, and the stanza always
//! parses back as XMPP presence.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sip_xmpp_presence::{Limits, parse_pidf, parse_xmpp_presence, pidf_to_stanza};

fuzz_target!(|data: &[u8]| {
    if let Ok(pidf) = parse_pidf(data, &Limits::default()) {
        let stanza = pidf_to_stanza("a@b", "c@d", &pidf);
        let limits = Limits {
            max_body_size: usize::MAX,
        };
        let back = parse_xmpp_presence(stanza.as_bytes(), &limits).expect("rendered stanza parses");
        assert_eq!(back.statuses, pidf.notes);
    }
});
