//! The stream framer on whole streams, split and coalesced reads, limits and hostile input.

use proptest::prelude::*;
use xmpp_component_link::framer::{Framer, FramerError, FramerEvent, FramerLimits};

const HEADER: &str = "<?xml version='1.0'?><stream:stream xmlns:stream='http://etherx.jabber.org/streams' xmlns='jabber:component:accept' from='gw.example' id='abc&amp;1'>";

/// Feeds `chunks` one by one, polling after each; stops at the first error.
fn run(limits: FramerLimits, chunks: &[&[u8]]) -> (Vec<FramerEvent>, Option<FramerError>) {
    let mut framer = Framer::new(limits);
    let mut events = Vec::new();
    for chunk in chunks {
        framer.push(chunk);
        loop {
            match framer.poll() {
                Ok(Some(ev)) => events.push(ev),
                Ok(None) => break,
                Err(e) => return (events, Some(e)),
            }
        }
    }
    (events, None)
}

fn run_str(s: &str) -> (Vec<FramerEvent>, Option<FramerError>) {
    run(FramerLimits::default(), &[s.as_bytes()])
}

fn stanzas(events: &[FramerEvent]) -> Vec<&str> {
    events
        .iter()
        .filter_map(|e| match e {
            FramerEvent::Stanza(s) => Some(s.as_str()),
            _ => None,
        })
        .collect()
}

#[test]
fn header_stanzas_and_close() {
    let (events, err) = run_str(&format!(
        "{HEADER}<handshake/> <message to='a' from='b'><body>hi</body></message>\n</stream:stream>trailing junk"
    ));
    assert_eq!(err, None);
    let FramerEvent::StreamOpened(h) = &events[0] else {
        panic!("{events:?}")
    };
    assert_eq!(h.id.as_deref(), Some("abc&1"));
    assert_eq!(h.from.as_deref(), Some("gw.example"));
    assert_eq!(h.name, "stream:stream");
    assert_eq!(
        h.default_namespace.as_deref(),
        Some("jabber:component:accept")
    );
    assert!(h.attributes.contains(&("id".into(), "abc&1".into())));
    assert_eq!(
        stanzas(&events),
        [
            "<handshake/>",
            "<message to='a' from='b'><body>hi</body></message>"
        ]
    );
    let FramerEvent::Stanza(hs) = &events[1] else {
        panic!()
    };
    assert_eq!(hs.name(), "handshake");
    assert_eq!(hs.namespace(), Some("jabber:component:accept"));
    assert_eq!(events.last(), Some(&FramerEvent::StreamClosed));
}

#[test]
fn comments_pis_and_whitespace_between_stanzas_are_skipped() {
    let (events, err) = run_str(&format!(
        "\u{feff}<!-- hello -->{HEADER} \r\n\t<!-- a -- b ---><?pi x?>  <a/><?x?><!----><b></b>   "
    ));
    assert_eq!(err, None);
    assert_eq!(stanzas(&events), ["<a/>", "<b></b>"]);
}

#[test]
fn quotes_cdata_comments_inside_stanzas_are_kept() {
    let s = "<message a='x/>y' b=\"'>\"><body><![CDATA[<not a tag> ]] ]]]></body><!-- </message> --><?pi </message>?></message>";
    let (events, err) = run_str(&format!("{HEADER}{s}"));
    assert_eq!(err, None);
    assert_eq!(stanzas(&events), [s]);
}

#[test]
fn stream_prefix_declared_on_root_is_added_to_the_element() {
    let (events, err) = run_str(&format!(
        "{HEADER}<stream:error><host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>"
    ));
    assert_eq!(err, None);
    let FramerEvent::Stanza(e) = &events[1] else {
        panic!("{events:?}")
    };
    assert_eq!(
        e.as_str(),
        "<stream:error xmlns:stream='http://etherx.jabber.org/streams'><host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>"
    );
    assert!(e.is_stream_error());
    assert_eq!(events[2], FramerEvent::StreamClosed);
}

#[test]
fn root_prefix_used_only_inside_and_prefix_declared_on_stanza() {
    let header = "<s:stream xmlns:s='http://etherx.jabber.org/streams' xmlns:db='jabber:server:dialback' id='1'>";
    let inner = "<iq><db:x db:a='1'/></iq>";
    let own = "<db:result xmlns:db='urn:other'/>";
    let (events, err) = run_str(&format!("{header}{inner}{own}</s:stream >"));
    assert_eq!(err, None);
    assert_eq!(
        stanzas(&events),
        [
            "<iq xmlns:db='jabber:server:dialback'><db:x db:a='1'/></iq>",
            own
        ]
    );
    let FramerEvent::Stanza(r) = &events[2] else {
        panic!()
    };
    assert_eq!(r.namespace(), Some("urn:other"));
}

#[test]
fn unqualified_stanza_with_own_default_namespace() {
    let s = "<message xmlns='jabber:client'/>";
    let (events, _) = run_str(&format!("{HEADER}{s}"));
    let FramerEvent::Stanza(m) = &events[1] else {
        panic!()
    };
    assert_eq!(m.as_str(), s);
    assert_eq!(m.namespace(), Some("jabber:client"));
}

#[test]
fn unbound_prefix_is_not_well_formed() {
    let (_, err) = run_str(&format!("{HEADER}<x:a/>"));
    assert!(
        matches!(err, Some(FramerError::NotWellFormed(_))),
        "{err:?}"
    );
}

#[test]
fn dtd_and_entity_declarations_are_restricted_xml() {
    for s in [
        "<!DOCTYPE x [<!ENTITY a 'b'>]>".to_owned(),
        format!("{HEADER}<!DOCTYPE x>"),
        format!("{HEADER}<a><!ENTITY b 'c'></a>"),
    ] {
        let (_, err) = run_str(&s);
        assert_eq!(err, Some(FramerError::RestrictedXml), "{s}");
        assert_eq!(err.unwrap().condition(), "restricted-xml");
    }
}

#[test]
fn malformed_input_is_refused() {
    for (s, cond) in [
        (format!("{HEADER}<a></b>"), "not-well-formed"),
        (format!("{HEADER}<a>&unknown;</a>"), "not-well-formed"),
        (format!("{HEADER}<a>&#0;</a>"), "not-well-formed"),
        (format!("{HEADER}<a>\0</a>"), "not-well-formed"),
        (format!("{HEADER}<a b='1' b='2'/>"), "not-well-formed"),
        (format!("{HEADER}<a>\u{1}</a>"), "not-well-formed"),
        (format!("{HEADER}< a/>"), "not-well-formed"),
        (format!("{HEADER}<a x='<'/>"), "not-well-formed"),
        (format!("{HEADER}</stream:other>"), "not-well-formed"),
        (format!("{HEADER}hello"), "bad-format"),
        (format!("{HEADER}<![CDATA[x]]>"), "bad-format"),
        ("hello".to_owned(), "not-well-formed"),
        ("</stream:stream>".to_owned(), "not-well-formed"),
        (
            "<stream:stream xmlns:stream='http://etherx.jabber.org/streams'/>".to_owned(),
            "not-well-formed",
        ),
        (
            "<stream xmlns='jabber:client'>".to_owned(),
            "invalid-namespace",
        ),
        ("<stream:stream>".to_owned(), "not-well-formed"),
    ] {
        let (_, err) = run_str(&s);
        let err = err.unwrap_or_else(|| panic!("accepted {s:?}"));
        assert_eq!(err.condition(), cond, "{s:?}: {err}");
    }
    let bad_utf8 = [HEADER.as_bytes(), b"<a>\xff</a>"].concat();
    let (_, err) = run(FramerLimits::default(), &[&bad_utf8]);
    assert!(matches!(err, Some(FramerError::NotWellFormed(_))));
}

#[test]
fn error_poisons_the_framer() {
    let mut f = Framer::new(FramerLimits::default());
    f.push(b"junk");
    let first = f.poll().unwrap_err();
    f.push(HEADER.as_bytes());
    assert_eq!(f.poll().unwrap_err(), first);
}

#[test]
fn oversized_stanza_fails_before_it_ends() {
    let limits = FramerLimits {
        max_stanza_bytes: 200,
        max_depth: 8,
    };
    // The limit bounds the stream header too.
    assert!(HEADER.len() < 200);
    let ok = format!("<a>{}</a>", "x".repeat(193));
    assert_eq!(ok.len(), 200);
    let (events, err) = run(limits, &[HEADER.as_bytes(), ok.as_bytes()]);
    assert_eq!((stanzas(&events), err), (vec![ok.as_str()], None));

    let big = format!("<a>{}", "x".repeat(10_000));
    let (events, err) = run(limits, &[HEADER.as_bytes(), big.as_bytes()]);
    assert_eq!(events.len(), 1);
    assert_eq!(err, Some(FramerError::StanzaTooLarge { limit: 200 }));
    assert_eq!(err.unwrap().condition(), "policy-violation");

    // An endless comment between stanzas counts too.
    let (_, err) = run(limits, &[HEADER.as_bytes(), b"<!--", &[b'x'; 300]]);
    assert_eq!(err, Some(FramerError::StanzaTooLarge { limit: 200 }));
}

#[test]
fn buffer_does_not_grow_with_keepalives() {
    let mut f = Framer::new(FramerLimits::default());
    f.push(HEADER.as_bytes());
    assert!(matches!(f.poll(), Ok(Some(FramerEvent::StreamOpened(_)))));
    for _ in 0..1000 {
        f.push(b" ");
        assert_eq!(f.poll(), Ok(None));
    }
    assert_eq!(f.buffered(), 0);
}

#[test]
fn too_deep_stanza() {
    let limits = FramerLimits {
        max_stanza_bytes: 1 << 20,
        max_depth: 3,
    };
    let (events, err) = run(limits, &[HEADER.as_bytes(), b"<a><b><c/></b></a>"]);
    assert_eq!((stanzas(&events).len(), err), (1, None));
    let (_, err) = run(limits, &[HEADER.as_bytes(), b"<a><b><c><d/></c></b></a>"]);
    assert_eq!(err, Some(FramerError::TooDeep { limit: 3 }));
}

#[test]
fn multibyte_utf8_split_byte_by_byte() {
    let s = "<message><body>grüße 😀 ∑</body></message>";
    let all = format!("{HEADER}{s}");
    let chunks: Vec<&[u8]> = all.as_bytes().chunks(1).collect();
    let (events, err) = run(FramerLimits::default(), &chunks);
    assert_eq!(err, None);
    assert_eq!(stanzas(&events), [s]);
}

/// A stream that exercises every construct the framer handles.
fn sample_stream() -> String {
    format!(
        "\u{feff}{HEADER}  <!-- c --> <handshake/>\n\
         <message from='a@b/r' to='c*d@e' type='chat' id='x&apos;1'><body>a &lt; b &amp; ü😀 \
         <![CDATA[ ]]> ]] > </body><x:y xmlns:x='urn:x' x:z='/>'/></message> \
         <presence from=\"a\"><status>'\"/></status><?pi ?></presence>\
         <stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>\
         <iq type='get' id='1'><query xmlns='urn:q'/></iq></stream:stream>"
    )
}

/// Splits `data` at the given (sorted, deduplicated) cut points.
fn split_at<'a>(data: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut last = 0;
    for &c in cuts {
        out.push(&data[last..c]);
        last = c;
    }
    out.push(&data[last..]);
    out
}

proptest! {
    #[test]
    fn any_chunking_gives_the_same_events(mut cuts in prop::collection::vec(0usize..2000, 0..40)) {
        let stream = sample_stream();
        let data = stream.as_bytes();
        let whole = run(FramerLimits::default(), &[data]);
        prop_assert_eq!(whole.1.clone(), None);
        prop_assert_eq!(whole.0.len(), 7);
        for c in &mut cuts {
            *c %= data.len() + 1;
        }
        cuts.sort_unstable();
        cuts.dedup();
        let split = run(FramerLimits::default(), &split_at(data, &cuts));
        prop_assert_eq!(split, whole);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600), cut in 0usize..600) {
        let cut = cut.min(bytes.len());
        let _ = run(FramerLimits::default(), &[&bytes[..cut], &bytes[cut..]]);
        let after_header = [HEADER.as_bytes(), &bytes].concat();
        let _ = run(FramerLimits { max_stanza_bytes: 400, max_depth: 4 }, &[&after_header]);
    }

    #[test]
    fn markup_soup_never_panics(s in "[<>/!?\\[\\]CDAT'\"=a-c: -]{0,200}") {
        let _ = run_str(&format!("{HEADER}{s}"));
    }

    #[test]
    fn generated_stanzas_come_back_verbatim(
        texts in prop::collection::vec("[a-z <>&'\"üé😀\\]]{0,20}", 1..8),
        split in 1usize..50,
    ) {
        let mut stream = HEADER.to_owned();
        let mut want = Vec::new();
        for (i, t) in texts.iter().enumerate() {
            let mut body = String::new();
            for c in t.chars() {
                match c {
                    '<' => body.push_str("&lt;"),
                    '&' => body.push_str("&amp;"),
                    '>' => body.push_str("&gt;"),
                    _ => body.push(c),
                }
            }
            let stanza = format!("<message id='{i}' a=\"{}\"><body>{body}</body><e/></message>", body.replace('"', "&quot;"));
            stream.push_str(&stanza);
            stream.push(' ');
            want.push(stanza);
        }
        let chunks: Vec<&[u8]> = stream.as_bytes().chunks(split).collect();
        let (events, err) = run(FramerLimits::default(), &chunks);
        prop_assert_eq!(err, None);
        prop_assert_eq!(stanzas(&events), want.iter().map(String::as_str).collect::<Vec<_>>());
    }
}
