//! Hostile and broken input: every case is a specific TranslateError, never a panic.

use sip_xmpp_presence::*;

fn data(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

type Parser = fn(&[u8], &Limits) -> Result<(), TranslateError>;

/// Every XML parser of the crate, with its document element name.
const PARSERS: [(&str, Parser); 3] = [
    ("presence", |b, l| parse_pidf(b, l).map(drop)),
    ("presence", |b, l| parse_xmpp_presence(b, l).map(drop)),
    ("watcherinfo", |b, l| parse_watcherinfo(b, l).map(drop)),
];

fn each_parser(input: &[u8], check: impl Fn(&str, Result<(), TranslateError>)) {
    for (root, parse) in PARSERS {
        check(root, parse(input, &Limits::default()));
    }
}

#[test]
fn billion_laughs_is_refused_before_expansion() {
    each_parser(&data("bad_billion_laughs.xml"), |root, r| {
        assert_eq!(r, Err(TranslateError::DoctypeForbidden), "{root}")
    });
}

#[test]
fn external_entity_and_any_doctype_are_refused() {
    let inputs: [&[u8]; 4] = [
        &data("bad_external_entity.xml"),
        b"<!DOCTYPE presence><presence from='a' to='b'/>",
        b"<?xml version='1.0'?><!DOCTYPE watcherinfo [<!ENTITY x 'y'>]><watcherinfo state='full'/>",
        b"<presence from='a' to='b'><!ENTITY x 'y'></presence>",
    ];
    for input in inputs {
        each_parser(input, |root, r| {
            assert_eq!(r, Err(TranslateError::DoctypeForbidden), "{root}")
        });
    }
}

#[test]
fn truncated_and_malformed_name_the_parser_error() {
    let cases: [(&[u8], &str); 6] = [
        (
            &data("bad_truncated.xml"),
            "the root node was opened but never closed",
        ),
        (b"", "the document does not have a root node"),
        (b"<presence>", "the root node was opened but never closed"),
        (
            b"<presence></presenc>",
            "expected 'presence' tag, not 'presenc' at 1:11",
        ),
        (
            b"<presence a='1' a='2'/>",
            "attribute 'a' at 1:17 is already defined",
        ),
        (
            b"<presence>&bogus;</presence>",
            "unknown entity reference 'bogus' at 1:11",
        ),
    ];
    for (input, message) in cases {
        each_parser(input, |root, r| {
            assert_eq!(r, Err(TranslateError::Malformed(message.into())), "{root}")
        });
    }
}

#[test]
fn not_utf8_says_where() {
    let latin1 = data("bad_latin1.xml");
    let at = latin1.iter().position(|&b| b == 0xe9).unwrap();
    each_parser(&latin1, |root, r| {
        assert_eq!(
            r,
            Err(TranslateError::NotUtf8 { valid_up_to: at }),
            "{root}"
        )
    });
    each_parser(b"\xfe\xff<\x00p\x00/\x00>\x00", |root, r| {
        assert_eq!(r, Err(TranslateError::NotUtf8 { valid_up_to: 0 }), "{root}")
    });
}

#[test]
fn size_cap_is_checked_first_and_is_inclusive() {
    let limits = Limits { max_body_size: 40 };
    let at_limit = b"<presence from='a' to='b'/>            ";
    assert_eq!(at_limit.len(), 39);
    assert!(parse_xmpp_presence(at_limit, &limits).is_ok());
    let mut over = at_limit.to_vec();
    over.extend_from_slice(b"\xff\xff");
    for (root, parse) in PARSERS {
        assert_eq!(
            parse(&over, &limits),
            Err(TranslateError::TooLarge {
                size: 41,
                limit: 40
            }),
            "{root}"
        );
    }
    let exact = [b' '; 40];
    assert!(matches!(
        parse_pidf(&exact, &limits),
        Err(TranslateError::Malformed(_))
    ));
}

#[test]
fn wrong_root_names_what_was_found() {
    let input = b"<message xmlns='jabber:client' from='a' to='b'/>";
    each_parser(input, |root, r| {
        assert_eq!(
            r,
            Err(TranslateError::UnexpectedRoot {
                expected: if root == "presence" {
                    "presence"
                } else {
                    "watcherinfo"
                },
                found: "message".into()
            })
        )
    });
}

#[test]
fn empty_and_missing_values() {
    let limits = Limits::default();
    let cases: [(&[u8], TranslateError); 4] = [
        (
            b"<presence to='b'/>",
            TranslateError::MissingAttribute {
                element: "presence",
                attribute: "from",
            },
        ),
        (b"<presence from='' to='b'/>", TranslateError::Empty("from")),
        (b"<presence from='a' to='  '/>", TranslateError::Empty("to")),
        (
            b"<presence from='a' to='b' type='Subscribe'/>",
            TranslateError::InvalidValue {
                what: "presence type",
                value: "Subscribe".into(),
            },
        ),
    ];
    for (input, err) in cases {
        assert_eq!(parse_xmpp_presence(input, &limits), Err(err));
    }
    assert_eq!(
        parse_subscription_state("  "),
        Err(TranslateError::Empty("Subscription-State"))
    );
    assert_eq!(parse_event(""), Err(TranslateError::Empty("Event")));
    assert_eq!(parse_sip_uri(""), Err(TranslateError::Empty("SIP URI")));
}

#[test]
fn deep_nesting_does_not_overflow_the_stack() {
    let depth = 20_000;
    let mut xml = String::from("<presence from='a' to='b'>");
    xml.push_str(&"<x>".repeat(depth));
    xml.push_str(&"</x>".repeat(depth));
    xml.push_str("</presence>");
    let limits = Limits {
        max_body_size: xml.len(),
    };
    let p = parse_xmpp_presence(xml.as_bytes(), &limits).unwrap();
    assert_eq!(p.statuses, vec![]);
    let pidf = xml.replace("from='a' to='b'", "");
    assert!(!parse_pidf(pidf.as_bytes(), &limits).unwrap().available);
}

#[test]
fn sip_garbage_is_an_error() {
    let cases: [&[u8]; 5] = [
        b"\xff\xfe\r\n\r\n",
        b"NOTIFY\r\n\r\n",
        b"NOTIFY sip:a@b SIP/2.0\r\nContent-Length: 99999999999999999999999\r\n\r\n",
        b"SIP/2.0 200 OK\r\nl: -1\r\n\r\n",
        b"\r\n\r\n\r\n",
    ];
    for input in cases {
        assert!(
            SipMessage::parse(input).is_err(),
            "{}",
            String::from_utf8_lossy(input)
        );
    }
}

#[test]
fn bom_and_declared_encoding_are_accepted() {
    let limits = Limits::default();
    let bom = "\u{feff}<?xml version='1.0' encoding='ISO-8859-1'?><presence from='a' to='b'/>";
    assert_eq!(
        parse_xmpp_presence(bom.as_bytes(), &limits).unwrap().from,
        "a"
    );
    // The undeclared-prefix retry finds the document element after a BOM too.
    let pidf = "\u{feff}<presence><tuple id='t'><status><basic>open</basic></status></tuple>\
                <dm:person id='p'><rpid:activities><rpid:busy/></rpid:activities></dm:person></presence>";
    let p = parse_pidf(pidf.as_bytes(), &limits).unwrap();
    assert_eq!((p.available, p.show), (true, Some(Show::Dnd)));
}
