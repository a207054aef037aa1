//! The plain-stanza check against roxmltree: whatever it vouches for, roxmltree parses with the
//! same root name and namespace (on near-XML noise), and it does vouch for plain stanzas.

use proptest::prelude::*;
use xmpp_component_link::plain_xml::plain_root;

/// Pieces of markup, valid and broken, that near-XML noise is made of.
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("<a>".to_string()),
        Just("</a>".to_string()),
        Just("<b x='1'>".to_string()),
        Just("</b>".to_string()),
        Just("<c/>".to_string()),
        Just("<a xml:lang=\"en\" y='&amp;'/>".to_string()),
        Just("<a xmlns='urn:x'>".to_string()),
        Just("<a xmlns=''>".to_string()),
        Just("<p:a xmlns:p='urn:p'>".to_string()),
        Just("</p:a>".to_string()),
        Just(" ".to_string()),
        Just("\r\n".to_string()),
        Just("&lt;".to_string()),
        Just("&".to_string()),
        Just("&#x41;".to_string()),
        Just("]]>".to_string()),
        Just("<!--x-->".to_string()),
        Just("<![CDATA[<]]>".to_string()),
        Just("<?pi?>".to_string()),
        Just("<a x='1' x='2'>".to_string()),
        Just("<a x=\"'\" >".to_string()),
        Just("< a>".to_string()),
        Just("</a >".to_string()),
        Just("\u{1}".to_string()),
        Just("\u{fffe}".to_string()),
        Just("\u{e9}".to_string()),
        Just("'\"=/>".to_string()),
        "[a-z<>/='\" &;:]{1,6}",
    ]
}

/// A plain element: unprefixed names, quoted attributes, escaped text, nested children.
fn plain_element() -> impl Strategy<Value = String> {
    let text = "[a-zA-Z0-9 .,!?\u{e9}\u{1f600}\t\n-]{0,12}"
        .prop_map(|t| t.replace('!', "&amp;").replace('?', "&lt;"));
    let leaf = ("[a-z][a-z0-9-]{0,6}", text.clone()).prop_map(|(n, t)| {
        if t.is_empty() {
            format!("<{n}/>")
        } else {
            format!("<{n} xml:lang='en' id=\"{n}&quot;\">{t}</{n}>")
        }
    });
    leaf.prop_recursive(4, 24, 4, move |inner| {
        (
            "[a-z][a-z0-9.]{0,6}",
            prop::collection::vec(inner, 0..4),
            text.clone(),
            prop::bool::ANY,
        )
            .prop_map(|(n, children, t, ns)| {
                let xmlns = if ns { " xmlns='urn:ietf:params:x'" } else { "" };
                format!("<{n}{xmlns} a = '1'>{t}{}</{n} >", children.concat())
            })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn vouches_only_for_what_roxmltree_parses(pieces in prop::collection::vec(piece(), 1..24)) {
        let xml = pieces.concat();
        if let Some(root) = plain_root(&xml) {
            let doc = roxmltree::Document::parse(&xml);
            prop_assert!(doc.is_ok(), "vouched for {:?}: {:?}", xml, doc.err());
            let doc = doc.unwrap();
            prop_assert_eq!(doc.root_element().tag_name().name(), root.name);
            prop_assert_eq!(doc.root_element().tag_name().namespace(), root.xmlns);
        }
    }

    #[test]
    fn vouches_for_plain_elements(xml in plain_element()) {
        let doc = roxmltree::Document::parse(&xml);
        prop_assert!(doc.is_ok(), "{:?}: {:?}", xml, doc.err());
        let root = plain_root(&xml);
        prop_assert!(root.is_some(), "not vouched for: {:?}", xml);
        prop_assert_eq!(root.unwrap().name, doc.unwrap().root_element().tag_name().name());
    }
}
