//! A one-pass check that vouches for the plain stanzas that make up nearly all traffic, so
//! the full parser (roxmltree) only runs for the rest.
//!
//! The check takes no decision of its own: it answers "certainly one well-formed element" or
//! "not sure". It is sure only inside a plain subset: ASCII names without prefixes (except
//! `xml:lang` and a default `xmlns` declaration), quoted attributes without duplicates, the
//! five predefined entities, XML characters, and nothing else (no comments, CDATA, processing
//! instructions, DTD, character references, `xmlns:` declarations, deep nesting). Everything
//! outside it goes to roxmltree, which then accepts or explains the error. The tests hold it to
//! this: whatever it vouches for, roxmltree parses, with the same root name and namespace.

/// The check gives up below this depth.
const MAX_DEPTH: usize = 64;
/// ... and on a start tag with more attributes than this.
const MAX_ATTRIBUTES: usize = 16;
/// Namespace names that no `xmlns` attribute may bind (roxmltree refuses them).
const RESERVED_NAMESPACES: [&str; 2] = [
    "http://www.w3.org/XML/1998/namespace",
    "http://www.w3.org/2000/xmlns/",
];
/// The five predefined entities (name and `;`) and the characters they stand for.
const PREDEFINED_ENTITIES: [(&str, char); 5] = [
    ("lt;", '<'),
    ("gt;", '>'),
    ("amp;", '&'),
    ("apos;", '\''),
    ("quot;", '"'),
];

/// The root element of a document the check vouches for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlainRoot<'a> {
    /// Its name (never prefixed).
    pub name: &'a str,
    /// The value of its own `xmlns` attribute, if it has one (entity-free; `Some("")` for
    /// `xmlns=''`, as roxmltree reports it): its namespace.
    pub xmlns: Option<&'a str>,
}

/// What [`scan`] reports while it reads a document, in document order. Values are raw (see
/// [`unescape`]) and borrow the document (`'a`); `depth` is 1 for the root element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event<'t, 'a> {
    /// A start tag (also of an empty element, which is followed by its `End`).
    Start {
        /// The element's name.
        name: &'a str,
        /// Its attributes, (name, raw value), in order.
        attributes: &'t [(&'a str, &'a str)],
        /// Its depth.
        depth: usize,
    },
    /// Character data directly inside the element at `depth`.
    Text {
        /// The raw text.
        raw: &'a str,
        /// The depth of the element holding it.
        depth: usize,
    },
    /// The end of the element at `depth`.
    End {
        /// Its depth.
        depth: usize,
    },
}

/// `Some` if `xml` is certainly exactly one well-formed element (surrounding whitespace
/// allowed) within the plain subset; `None` when not sure, which includes every malformed input.
pub fn plain_root(xml: &str) -> Option<PlainRoot<'_>> {
    scan(xml, |_| {})
}

/// [`plain_root`], reporting every element and text to `on` as it goes. When the answer is
/// `None`, what `on` saw must be thrown away.
pub fn scan<'a>(xml: &'a str, mut on: impl FnMut(Event<'_, 'a>)) -> Option<PlainRoot<'a>> {
    let b = xml.as_bytes();
    let mut pos = skip_ws(b, 0);
    // The names of the open elements, outermost first.
    let mut open = [""; MAX_DEPTH];
    let mut depth = 0;
    let mut root = None;
    let mut attributes = [("", ""); MAX_ATTRIBUTES];
    loop {
        if *b.get(pos)? != b'<' {
            // Character data, which only the root element may hold.
            if depth == 0 {
                return None;
            }
            let end = text(xml, pos)?;
            on(Event::Text {
                raw: &xml[pos..end],
                depth,
            });
            pos = end;
            continue;
        }
        pos += 1;
        if b.get(pos) == Some(&b'/') {
            let (name, end) = name(xml, pos + 1)?;
            pos = skip_ws(b, end);
            if depth == 0 || b.get(pos) != Some(&b'>') || open[depth - 1] != name {
                return None;
            }
            on(Event::End { depth });
            depth -= 1;
            pos += 1;
        } else {
            let (name, end) = name(xml, pos)?;
            let tag = start_tag(xml, end, &mut attributes)?;
            pos = tag.end;
            match root {
                None => {
                    root = Some(PlainRoot {
                        name,
                        xmlns: tag.xmlns,
                    })
                }
                // A second top-level element.
                Some(_) if depth == 0 => return None,
                Some(_) => {}
            }
            *open.get_mut(depth)? = name;
            depth += 1;
            on(Event::Start {
                name,
                attributes: &attributes[..tag.attributes],
                depth,
            });
            if tag.empty {
                on(Event::End { depth });
                depth -= 1;
            }
        }
        if depth == 0 {
            return (skip_ws(b, pos) == b.len()).then_some(root?);
        }
    }
}

/// The text of a raw value [`scan`] reported, with the five predefined entities replaced (the
/// only ones it lets through).
pub fn unescape(raw: &str) -> std::borrow::Cow<'_, str> {
    if !raw.contains('&') {
        return raw.into();
    }
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at + 1..];
        match predefined_entity(rest) {
            Some((len, c)) => {
                out.push(c);
                rest = &rest[len..];
            }
            // Not from `scan`: left as it is.
            None => out.push('&'),
        }
    }
    out.push_str(rest);
    out.into()
}

/// The predefined entity `rest` (the text just after a `&`) starts with: its length and its
/// character.
fn predefined_entity(rest: &str) -> Option<(usize, char)> {
    PREDEFINED_ENTITIES
        .iter()
        .find(|(name, _)| rest.starts_with(name))
        .map(|(name, c)| (name.len(), *c))
}

fn skip_ws(b: &[u8], mut pos: usize) -> usize {
    while matches!(b.get(pos), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        pos += 1;
    }
    pos
}

/// An unprefixed ASCII name at `pos`, and where it ends.
fn name(xml: &str, pos: usize) -> Option<(&str, usize)> {
    let b = xml.as_bytes();
    if !matches!(b.get(pos), Some(c) if c.is_ascii_alphabetic() || *c == b'_') {
        return None;
    }
    let mut end = pos + 1;
    while matches!(b.get(end), Some(c) if c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.'))
    {
        end += 1;
    }
    Some((&xml[pos..end], end))
}

/// A start tag as [`start_tag`] read it.
struct StartTag<'a> {
    /// Its `xmlns` value.
    xmlns: Option<&'a str>,
    /// How many attributes it filled in.
    attributes: usize,
    /// Whether it was empty (`/>`).
    empty: bool,
    /// The position after it.
    end: usize,
}

/// The rest of a start tag from `pos` (just after its name), its attributes stored in `out`.
fn start_tag<'a>(
    xml: &'a str,
    mut pos: usize,
    out: &mut [(&'a str, &'a str); MAX_ATTRIBUTES],
) -> Option<StartTag<'a>> {
    let b = xml.as_bytes();
    let mut count = 0;
    let mut xmlns = None;
    loop {
        let after_ws = skip_ws(b, pos);
        let tag_end = match b.get(after_ws)? {
            b'>' => Some((false, after_ws + 1)),
            b'/' if b.get(after_ws + 1) == Some(&b'>') => Some((true, after_ws + 2)),
            // An attribute needs whitespace before it.
            _ if after_ws == pos => return None,
            _ => None,
        };
        if let Some((empty, end)) = tag_end {
            return Some(StartTag {
                xmlns,
                attributes: count,
                empty,
                end,
            });
        }
        let (attr, value, end) = attribute(xml, after_ws)?;
        if count == MAX_ATTRIBUTES || out[..count].iter().any(|(n, _)| *n == attr) {
            return None;
        }
        if attr == "xmlns" {
            if value.contains('&') || RESERVED_NAMESPACES.contains(&value) {
                return None;
            }
            xmlns = Some(value);
        }
        out[count] = (attr, value);
        count += 1;
        pos = end;
    }
}

/// One `name = 'value'` at `pos`: its name, raw value, and the position after it.
fn attribute(xml: &str, pos: usize) -> Option<(&str, &str, usize)> {
    let b = xml.as_bytes();
    let (mut attr, mut end) = name(xml, pos)?;
    if attr == "xml" && xml[end..].starts_with(":lang") {
        end += ":lang".len();
        attr = &xml[pos..end];
    }
    end = skip_ws(b, end);
    if b.get(end) != Some(&b'=') {
        return None;
    }
    end = skip_ws(b, end + 1);
    let quote = *b.get(end)?;
    if quote != b'\'' && quote != b'"' {
        return None;
    }
    let start = end + 1;
    let len = memchr::memchr(quote, &b[start..])?;
    let value = &xml[start..start + len];
    plain_chars(value).then_some((attr, value, start + len + 1))
}

/// Character data from `pos` to the next `<`; the position of that `<`.
fn text(xml: &str, pos: usize) -> Option<usize> {
    let len = memchr::memchr(b'<', &xml.as_bytes()[pos..])?;
    let s = &xml[pos..pos + len];
    // "]]>" may not appear in character data.
    (plain_chars(s) && !s.contains("]]>")).then_some(pos + len)
}

/// Whether `s` (attribute value or character data) holds only XML characters, no `<`, and
/// `&` only as one of the five predefined entities.
fn plain_chars(s: &str) -> bool {
    let b = s.as_bytes();
    // Most values have nothing to look at: checked 16 bytes at a time, without branches.
    let unremarkable = |c: u8| (c >= 0x20) & (c != b'&') & (c != b'<') & (c != 0xEF);
    if b.chunks(16)
        .all(|chunk| chunk.iter().fold(true, |ok, &c| ok & unremarkable(c)))
    {
        return true;
    }
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'<' => return false,
            b'&' => match predefined_entity(&s[i + 1..]) {
                Some((len, _)) => i += len,
                None => return false,
            },
            b'\t' | b'\n' | b'\r' => {}
            c if c < 0x20 => return false,
            // U+FFFE and U+FFFF (EF BF BE/BF) are not XML characters.
            0xEF if b.get(i + 1) == Some(&0xBF) && matches!(b.get(i + 2), Some(0xBE | 0xBF)) => {
                return false;
            }
            _ => {}
        }
        i += 1;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the check says, held against roxmltree whenever it is sure.
    fn vouched(xml: &str) -> Option<PlainRoot<'_>> {
        let got = plain_root(xml);
        if let Some(root) = got {
            let doc = roxmltree::Document::parse(xml)
                .unwrap_or_else(|e| panic!("vouched for {xml:?}, roxmltree: {e}"));
            assert_eq!(doc.root_element().tag_name().name(), root.name, "{xml}");
            assert_eq!(
                doc.root_element().tag_name().namespace(),
                root.xmlns,
                "{xml}"
            );
        }
        got
    }

    #[test]
    fn vouches_for_the_stanzas_of_the_gateway() {
        for (xml, name, xmlns) in [
            (
                "<presence from='alice*sip.example@sip-gw.xmpp.example' to='bob@xmpp.example'><show>dnd</show><status xml:lang='en'>In a call &amp; busy</status><priority>114</priority></presence>",
                "presence",
                None,
            ),
            (
                "<presence from='a' to='b' type='subscribed'/>",
                "presence",
                None,
            ),
            (
                "<message id='m1' from='a' to='b' type='chat'><body>1 &lt; 2 &quot;q&quot; \u{e9}t\u{e9} \u{1f600}</body></message>",
                "message",
                None,
            ),
            (
                "<presence type='error' to='b'><error type='cancel'><item-not-found xmlns=\"urn:ietf:params:xml:ns:xmpp-stanzas\"/></error></presence>",
                "presence",
                None,
            ),
            (
                "\n <handshake xmlns='jabber:component:accept'>ab12</handshake>\r\n",
                "handshake",
                Some("jabber:component:accept"),
            ),
            (
                "<iq xmlns='' type = \"get\" >\n\t<query/></iq>",
                "iq",
                Some(""),
            ),
            ("<a><b><c/></b >text > here</a>", "a", None),
        ] {
            assert_eq!(vouched(xml), Some(PlainRoot { name, xmlns }), "{xml}");
        }
    }

    #[test]
    fn is_never_sure_of_what_is_malformed_or_unusual() {
        for xml in [
            "",
            "   ",
            "text",
            "<a>",
            "<a></b>",
            "<a></a><b/>",
            "<a/>trailing",
            "<a x='1' x='2'/>",
            "<a x='1'y='2'/>",
            "<a x=1/>",
            "<a x='<'/>",
            "<a x='&foo;'/>",
            "<a>&#65;</a>",
            "<a>&amp</a>",
            "<a>]]></a>",
            "<a>\u{1}</a>",
            "<a>\u{fffe}</a>",
            "<a><!-- c --></a>",
            "<a><![CDATA[x]]></a>",
            "<?xml version='1.0'?><a/>",
            "<!DOCTYPE a><a/>",
            "<p:a xmlns:p='urn:x'/>",
            "<a xmlns:p='urn:x'/>",
            "<a p:x='1'/>",
            "<a xmlns='http://www.w3.org/2000/xmlns/'/>",
            "<a xmlns='urn:&amp;'/>",
            "<\u{e9}/>",
            "<a/ >",
            "</a>",
        ] {
            assert_eq!(vouched(xml), None, "{xml:?}");
        }
    }

    #[test]
    fn reports_elements_and_text_in_order() {
        let mut seen = Vec::new();
        let root = scan("<m a='1' xml:lang=\"en\">x<b/>&lt;y</m>", |e| {
            seen.push(format!("{e:?}"))
        });
        assert!(root.is_some());
        assert_eq!(
            seen,
            [
                "Start { name: \"m\", attributes: [(\"a\", \"1\"), (\"xml:lang\", \"en\")], depth: 1 }",
                "Text { raw: \"x\", depth: 1 }",
                "Start { name: \"b\", attributes: [], depth: 2 }",
                "End { depth: 2 }",
                "Text { raw: \"&lt;y\", depth: 1 }",
                "End { depth: 1 }",
            ]
        );
        assert_eq!(unescape("a&lt;&gt;&amp;&apos;&quot;b&amp;"), "a<>&'\"b&");
        assert!(matches!(
            unescape("plain"),
            std::borrow::Cow::Borrowed("plain")
        ));
    }

    #[test]
    fn gives_up_on_deep_nesting_and_many_attributes() {
        let nest = |n| format!("{}{}", "<a>".repeat(n), "</a>".repeat(n));
        assert_eq!(vouched(&nest(MAX_DEPTH + 1)), None);
        assert!(vouched(&nest(MAX_DEPTH)).is_some());
        let attrs: String = (0..=MAX_ATTRIBUTES).map(|i| format!(" a{i}='v'")).collect();
        assert_eq!(vouched(&format!("<a{attrs}/>")), None);
    }
}
