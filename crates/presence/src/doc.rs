//! Checked XML input shared by every parser: size cap, UTF-8, no DOCTYPE, tolerated undeclared
//! prefixes, expected document element; plus small readers over roxmltree nodes.

use std::borrow::Cow;

use roxmltree::{Document, NS_XML_URI, Node, ParsingOptions};

use crate::{Limits, TranslateError};

/// Undeclared prefixes bound to a placeholder namespace before the input counts as malformed.
const MAX_INJECTED_PREFIXES: usize = 4;

/// Size cap first (cheapest), then UTF-8.
pub(crate) fn check_input<'a>(input: &'a [u8], limits: &Limits) -> Result<&'a str, TranslateError> {
    if input.len() > limits.max_body_size {
        return Err(TranslateError::TooLarge {
            size: input.len(),
            limit: limits.max_body_size,
        });
    }
    std::str::from_utf8(input).map_err(|e| TranslateError::NotUtf8 {
        valid_up_to: e.valid_up_to(),
    })
}

/// Parses `input` and runs `read` on its document element, whose local name must be `root`.
pub(crate) fn with_root<R>(
    input: &[u8],
    limits: &Limits,
    root: &'static str,
    read: impl FnOnce(Node<'_, '_>) -> Result<R, TranslateError>,
) -> Result<R, TranslateError> {
    let text = check_input(input, limits)?;
    let mut patched: Option<String> = None;
    for _ in 0..=MAX_INJECTED_PREFIXES {
        let current = patched.as_deref().unwrap_or(text);
        let options = ParsingOptions {
            allow_dtd: false,
            ..ParsingOptions::default()
        };
        match Document::parse_with_options(current, options) {
            Ok(doc) => {
                let element = doc.root_element();
                let found = element.tag_name().name();
                if found != root {
                    return Err(TranslateError::UnexpectedRoot {
                        expected: root,
                        found: found.to_owned(),
                    });
                }
                return read(element);
            }
            // Real clients write <rpid:activities> without declaring rpid; elements are matched
            // by local name anyway, so bind the prefix to a placeholder and parse again.
            Err(roxmltree::Error::UnknownNamespace(prefix, pos)) => {
                match declare_prefix(current, &prefix) {
                    Some(next) => patched = Some(next),
                    None => {
                        return Err(malformed(
                            current,
                            &roxmltree::Error::UnknownNamespace(prefix, pos),
                        ));
                    }
                }
            }
            Err(e) => return Err(malformed(current, &e)),
        }
    }
    Err(TranslateError::Malformed(format!(
        "more than {MAX_INJECTED_PREFIXES} undeclared namespace prefixes"
    )))
}

fn malformed(text: &str, e: &roxmltree::Error) -> TranslateError {
    // roxmltree reports a DOCTYPE in the prolog as DtdDetected; one anywhere else, or a stray
    // entity declaration, fails differently but is refused the same way.
    if matches!(e, roxmltree::Error::DtdDetected)
        || text.contains("<!DOCTYPE")
        || text.contains("<!ENTITY")
    {
        TranslateError::DoctypeForbidden
    } else {
        TranslateError::Malformed(e.to_string())
    }
}

/// `text` with `xmlns:prefix='urn:x-undeclared:prefix'` added to the document element's start
/// tag, or None when that start tag cannot be found.
fn declare_prefix(text: &str, prefix: &str) -> Option<String> {
    let name_start = root_name_start(text)?;
    let name_len =
        text[name_start..].find(|c: char| c.is_ascii_whitespace() || c == '/' || c == '>')?;
    let at = name_start + name_len;
    let mut out = String::with_capacity(text.len() + 2 * prefix.len() + 32);
    out.push_str(&text[..at]);
    out.push_str(" xmlns:");
    out.push_str(prefix);
    out.push_str("='urn:x-undeclared:");
    out.push_str(prefix);
    out.push('\'');
    out.push_str(&text[at..]);
    Some(out)
}

/// Byte offset of the document element's name: after the prolog's declaration, comments and
/// processing instructions.
fn root_name_start(text: &str) -> Option<usize> {
    let mut pos = usize::from(text.starts_with('\u{feff}')) * '\u{feff}'.len_utf8();
    loop {
        let rest = &text[pos..];
        let trimmed = rest.trim_start_matches(|c: char| c.is_ascii_whitespace());
        pos += rest.len() - trimmed.len();
        if trimmed.starts_with("<?") {
            pos += trimmed.find("?>")? + 2;
        } else if trimmed.starts_with("<!--") {
            pos += trimmed.find("-->")? + 3;
        } else if trimmed.starts_with('<') {
            return Some(pos + 1);
        } else {
            return None;
        }
    }
}

/// Local name of an element, whatever its prefix or namespace.
pub(crate) fn local<'i>(node: Node<'_, 'i>) -> &'i str {
    node.tag_name().name()
}

/// Element children of `node` with local name `name`.
pub(crate) fn children_named<'a, 'i>(
    node: Node<'a, 'i>,
    name: &'static str,
) -> impl Iterator<Item = Node<'a, 'i>> {
    node.children()
        .filter(move |n| n.is_element() && local(*n) == name)
}

/// The value of `node`'s attribute `name` in no namespace. roxmltree's `attribute("name")`
/// matches the local name in any namespace, so `x:from` could stand in for `from`.
pub(crate) fn plain_attribute<'a>(node: Node<'a, '_>, name: &str) -> Option<&'a str> {
    node.attributes()
        .find(|a| a.namespace().is_none() && a.name() == name)
        .map(|a| a.value())
}

/// The effective `xml:lang` of `node`: its own, else the nearest ancestor's; `xml:lang=''`
/// means "no language".
pub(crate) fn effective_lang<'a>(node: Node<'a, '_>) -> Option<&'a str> {
    node.ancestors()
        .find_map(|n| n.attribute((NS_XML_URI, "lang")))
        .filter(|lang| !lang.is_empty())
}

/// The character data directly inside `node` (text and CDATA children joined).
pub(crate) fn element_text<'a>(node: Node<'a, '_>) -> Cow<'a, str> {
    let mut texts = node
        .children()
        .filter_map(|n| n.is_text().then(|| n.text()).flatten());
    let Some(first) = texts.next() else {
        return Cow::Borrowed("");
    };
    match texts.next() {
        None => Cow::Borrowed(first),
        Some(second) => {
            let mut joined = String::from(first);
            joined.push_str(second);
            texts.for_each(|t| joined.push_str(t));
            Cow::Owned(joined)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root_name(xml: &str) -> Result<String, TranslateError> {
        with_root(xml.as_bytes(), &Limits::default(), "r", |n| {
            Ok(n.tag_name().name().to_owned())
        })
    }

    #[test]
    fn size_is_checked_before_utf8() {
        let limits = Limits { max_body_size: 3 };
        assert_eq!(
            check_input(b"\xff\xff\xff\xff", &limits),
            Err(TranslateError::TooLarge { size: 4, limit: 3 })
        );
        assert_eq!(
            check_input(b"ab\xff", &limits),
            Err(TranslateError::NotUtf8 { valid_up_to: 2 })
        );
        assert_eq!(check_input(b"abc", &limits), Ok("abc"));
    }

    #[test]
    fn doctype_anywhere_is_forbidden() {
        for xml in [
            "<!DOCTYPE r><r/>",
            "<?xml version='1.0'?>\n<!DOCTYPE r [<!ENTITY a 'b'>]><r>&a;</r>",
            "<r><!DOCTYPE r></r>",
            "<r/><!DOCTYPE r>",
            "<r><!ENTITY a 'b'></r>",
        ] {
            assert_eq!(
                root_name(xml),
                Err(TranslateError::DoctypeForbidden),
                "{xml}"
            );
        }
    }

    #[test]
    fn wrong_root_is_named() {
        assert_eq!(
            root_name("<x:message xmlns:x='jabber:client'/>"),
            Err(TranslateError::UnexpectedRoot {
                expected: "r",
                found: "message".into()
            })
        );
    }

    #[test]
    fn undeclared_prefixes_are_bound_to_placeholders() {
        assert_eq!(root_name("<r><a:x/><b:y c:z='1'/></r>").as_deref(), Ok("r"));
        assert_eq!(
            root_name("<?xml version='1.0'?><!-- <q --><p:r/>").as_deref(),
            Ok("r")
        );
        assert_eq!(root_name("<r>\n<a:x/></r>").as_deref(), Ok("r"));
    }

    #[test]
    fn too_many_undeclared_prefixes_are_malformed() {
        let xml = "<r><a:x/><b:x/><c:x/><d:x/><e:x/></r>";
        assert!(matches!(root_name(xml), Err(TranslateError::Malformed(_))));
        let four = "<r><a:x/><b:x/><c:x/><d:x/></r>";
        assert_eq!(root_name(four).as_deref(), Ok("r"));
    }

    #[test]
    fn malformed_xml_keeps_the_parser_message() {
        match root_name("<r><a></r>") {
            Err(TranslateError::Malformed(msg)) => assert!(msg.contains("1:"), "{msg}"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(root_name(""), Err(TranslateError::Malformed(_))));
        assert!(matches!(root_name("<r"), Err(TranslateError::Malformed(_))));
    }

    #[test]
    fn lang_is_inherited_and_text_joined() {
        let doc = Document::parse(
            "<r xml:lang='de'><a>x<![CDATA[<y>]]>z</a><b xml:lang='fr'/><c xml:lang=''/></r>",
        )
        .unwrap();
        let r = doc.root_element();
        let kids: Vec<_> = r.children().filter(|n| n.is_element()).collect();
        assert_eq!(effective_lang(kids[0]), Some("de"));
        assert_eq!(effective_lang(kids[1]), Some("fr"));
        assert_eq!(effective_lang(kids[2]), None);
        assert_eq!(element_text(kids[0]), "x<y>z");
        assert_eq!(element_text(kids[1]), "");
        assert_eq!(children_named(r, "b").count(), 1);
    }
}
