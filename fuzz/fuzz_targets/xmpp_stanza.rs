//! Fuzzes the transport's reading of stanzas (xmpp-component-link): whatever the plain check
//! vouches for, roxmltree parses with the same root name and namespace, and an inbound message
//! read on the plain path is what the DOM path reads (a trailing comment forces the DOM path);
//! the stream framer never panics on the bytes after a stream header.
#![no_main]

use libfuzzer_sys::fuzz_target;
use xmpp_component_link::framer::{Framer, FramerLimits};
use xmpp_component_link::plain_xml::plain_root;
use xmpp_component_link::stanza::{InboundMessage, check_outbound};

const HEADER: &[u8] = b"<stream:stream xmlns:stream='http://etherx.jabber.org/streams' \
    xmlns='jabber:component:accept' from='gw.example' id='f1'>";

fuzz_target!(|data: &[u8]| {
    let mut framer = Framer::new(FramerLimits::default());
    framer.push(HEADER);
    framer.push(data);
    while let Ok(Some(_)) = framer.poll() {}

    let Ok(xml) = std::str::from_utf8(data) else {
        return;
    };
    let _ = check_outbound(xml);
    if let Some(root) = plain_root(xml) {
        let doc = roxmltree::Document::parse(xml).expect("vouched for, but roxmltree refuses");
        assert_eq!(doc.root_element().tag_name().name(), root.name);
        assert_eq!(doc.root_element().tag_name().namespace(), root.xmlns);
        assert_eq!(
            InboundMessage::parse(xml),
            InboundMessage::parse(&format!("{xml}<!-- -->")),
            "plain and DOM reading differ"
        );
    }
});
