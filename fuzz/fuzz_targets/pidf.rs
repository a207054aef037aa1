//! Fuzzes parse_pidf and the stanza rendered from it: never a panic; a document the fast
//! scanner reads gives what roxmltree's DOM gives (a trailing comment forces the DOM path);
//! the stanza always parses back as XMPP presence with the same statuses.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sip_xmpp_presence::{Limits, parse_pidf, parse_xmpp_presence, pidf_to_stanza};

fuzz_target!(|data: &[u8]| {
    let unlimited = Limits {
        max_body_size: usize::MAX,
    };
    if let Ok(pidf) = parse_pidf(data, &Limits::default()) {
        let mut via_dom = data.to_vec();
        via_dom.extend_from_slice(b"<!-- -->");
        assert_eq!(
            parse_pidf(&via_dom, &unlimited).as_ref(),
            Ok(&pidf),
            "scanner and DOM differ"
        );
        let stanza = pidf_to_stanza("a@b", "c@d", &pidf);
        let back =
            parse_xmpp_presence(stanza.as_bytes(), &unlimited).expect("rendered stanza parses");
        assert_eq!(back.statuses, pidf.notes);
    }
});
