//! What PIDF translation reads from a document, as a flat element list: built by a one-pass
//! scanner for the plain documents presence servers send, or from roxmltree's DOM for
//! everything else. The scanner takes no decision of its own: on anything outside its plain
//! subset (comments, CDATA, DOCTYPE, processing instructions, CR, undeclared or unusual
//! namespace prefixes, non-ASCII names, unknown entities, deep nesting, ...) it gives up and the
//! DOM path, with all its checks, reads the document instead.

use std::borrow::Cow;

use roxmltree::{NS_XML_URI, Node};

use crate::doc::{element_text, local};
use crate::sip::find_byte;

/// Elements whose direct text the translation reads.
const TEXT_READ: [&str; 3] = ["note", "basic", "activity"];
/// The scanner gives up below this depth.
const MAX_DEPTH: usize = 64;
const NO_PARENT: usize = usize::MAX;
const XMLNS_URI: &str = "http://www.w3.org/2000/xmlns/";

/// One element: local name, parent (index; `NO_PARENT` for the document element), its own
/// `xml:lang` and `priority` (any prefix) attributes, and for [`TEXT_READ`] elements the
/// direct character data, joined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Element<'a> {
    pub(crate) local: &'a str,
    pub(crate) parent: usize,
    pub(crate) lang: Option<Cow<'a, str>>,
    pub(crate) priority: Option<Cow<'a, str>>,
    pub(crate) text: Cow<'a, str>,
}

/// Every element of a document in document order; `elements[0]` is the document element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Tree<'a> {
    pub(crate) elements: Vec<Element<'a>>,
}

impl<'a> Tree<'a> {
    /// The tree of a document roxmltree has parsed (`root` is its document element).
    pub(crate) fn from_dom<'input: 'a>(root: Node<'a, 'input>) -> Tree<'a> {
        let mut elements = Vec::new();
        // Depth first, children pushed last to first, so elements come in document order.
        let mut pending = vec![(root, NO_PARENT)];
        while let Some((node, parent)) = pending.pop() {
            let name = local(node);
            elements.push(Element {
                local: name,
                parent,
                lang: node.attribute((NS_XML_URI, "lang")).map(Cow::Borrowed),
                priority: node.attribute("priority").map(Cow::Borrowed),
                text: if TEXT_READ.contains(&name) {
                    element_text(node)
                } else {
                    Cow::Borrowed("")
                },
            });
            let index = elements.len() - 1;
            let children: Vec<_> = node.children().filter(|n| n.is_element()).collect();
            pending.extend(children.into_iter().rev().map(|child| (child, index)));
        }
        Tree { elements }
    }

    /// Element children of `parent` called `local`, in document order.
    pub(crate) fn children(
        &self,
        parent: usize,
        local: &'static str,
    ) -> impl Iterator<Item = usize> + '_ {
        self.all_children(parent)
            .filter(move |&i| self.elements[i].local == local)
    }

    /// Element children of `parent`, in document order. Elements are in document order, so
    /// `parent`'s subtree is the run after it whose parents are `parent` or later.
    pub(crate) fn all_children(&self, parent: usize) -> impl Iterator<Item = usize> + '_ {
        self.elements[parent + 1..]
            .iter()
            .take_while(move |e| e.parent != NO_PARENT && e.parent >= parent)
            .enumerate()
            .filter(move |(_, e)| e.parent == parent)
            .map(move |(k, _)| parent + 1 + k)
    }

    /// The `xml:lang` in effect at element `i` (its own, else the nearest ancestor's);
    /// `xml:lang=''` means none.
    pub(crate) fn effective_lang(&self, mut i: usize) -> Option<&str> {
        loop {
            let e = &self.elements[i];
            if let Some(lang) = &e.lang {
                return (!lang.is_empty()).then_some(lang.as_ref());
            }
            if e.parent == NO_PARENT {
                return None;
            }
            i = e.parent;
        }
    }

    /// The child of the document element that `i` is or lies in (None for the document
    /// element itself).
    pub(crate) fn top_level(&self, mut i: usize) -> Option<usize> {
        loop {
            match self.elements[i].parent {
                NO_PARENT => return None,
                0 => return Some(i),
                p => i = p,
            }
        }
    }
}

/// Scans a plain PIDF document (document element `presence`). None: not plain enough to be
/// sure, or not a PIDF document; read it through the DOM instead.
pub(crate) fn scan(s: &str) -> Option<Tree<'_>> {
    Scanner {
        s,
        b: s.as_bytes(),
        pos: 0,
        elements: Vec::with_capacity(32),
        open: Vec::with_capacity(8),
        prefixes: Vec::new(),
        attrs: Vec::new(),
    }
    .run()
}

/// A qualified name: (prefix, local part, the whole).
#[derive(Clone, Copy)]
struct QName<'a> {
    prefix: Option<&'a str>,
    local: &'a str,
    full: &'a str,
}

struct Scanner<'a> {
    s: &'a str,
    b: &'a [u8],
    pos: usize,
    elements: Vec<Element<'a>>,
    /// Open elements: (index, qualified name, whether its text is read).
    open: Vec<(usize, &'a str, bool)>,
    /// Declared namespace prefixes: (prefix, depth of the declaring element), innermost last.
    prefixes: Vec<(&'a str, usize)>,
    /// The current start tag's attributes: (name, raw value).
    attrs: Vec<(QName<'a>, &'a str)>,
}

// Byte classes for the scanner's loops.
const START: u8 = 1;
const NAME: u8 = 2;
const WS: u8 = 4;
/// Bytes that character data cannot simply be borrowed with.
const TEXT_SPECIAL: u8 = 8;
/// Bytes that an attribute value cannot simply be borrowed with.
const ATTR_SPECIAL: u8 = 16;

static CLASS: [u8; 256] = classes();

const fn classes() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let c = i as u8;
        if c.is_ascii_alphabetic() || c == b'_' {
            t[i] |= START | NAME;
        }
        if c.is_ascii_digit() || c == b'-' || c == b'.' {
            t[i] |= NAME;
        }
        if c == b' ' || c == b'\t' || c == b'\n' || c == b'\r' {
            t[i] |= WS;
        }
        // Controls (CR and, in attribute values, TAB and LF too), references, a possible
        // `]]>`, and 0xEF (the lead byte of U+FFFE and U+FFFF).
        if (c < 0x20 && c != b'\t' && c != b'\n') || c == b'&' || c == b']' || c == 0xEF {
            t[i] |= TEXT_SPECIAL | ATTR_SPECIAL;
        }
        if c == b'\t' || c == b'\n' || c == b'<' {
            t[i] |= ATTR_SPECIAL;
        }
        i += 1;
    }
    t
}

fn is_ws(b: u8) -> bool {
    CLASS[b as usize] & WS != 0
}

/// A character XML 1.0 allows.
fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Character data or an attribute value with its references replaced; None for anything the
/// scanner leaves to the DOM: CR, control characters, U+FFFE/U+FFFF, `]]>`, unknown entities,
/// and `<` (attributes only; text never contains one). Tab and LF in attribute values become
/// spaces, as XML normalises them.
fn decode(raw: &str, attribute: bool) -> Option<Cow<'_, str>> {
    let special = if attribute {
        ATTR_SPECIAL
    } else {
        TEXT_SPECIAL
    };
    if raw.bytes().all(|c| CLASS[c as usize] & special == 0) {
        return Some(Cow::Borrowed(raw));
    }
    if raw.contains("]]>") || raw.contains(['\u{FFFE}', '\u{FFFF}']) {
        return None;
    }
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(i) = rest
        .bytes()
        .position(|c| c < 0x20 || c == b'&' || c == b'<')
    {
        out.push_str(&rest[..i]);
        match rest.as_bytes()[i] {
            b'\t' | b'\n' if attribute => out.push(' '),
            c @ (b'\t' | b'\n') => out.push(c as char),
            b'&' => {
                let end = rest[i..].find(';')? + i;
                out.push(entity(&rest[i + 1..end])?);
                rest = &rest[end + 1..];
                continue;
            }
            _ => return None,
        }
        rest = &rest[i + 1..];
    }
    out.push_str(rest);
    Some(Cow::Owned(out))
}

/// The character of `&name;` (predefined entities and character references only).
fn entity(name: &str) -> Option<char> {
    let c = match name {
        "lt" => '<',
        "gt" => '>',
        "amp" => '&',
        "apos" => '\'',
        "quot" => '"',
        _ => {
            let num = name.strip_prefix('#')?;
            let code = match num.strip_prefix('x') {
                Some(hex) if !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()) => {
                    u32::from_str_radix(hex, 16).ok()?
                }
                None if !num.is_empty() && num.bytes().all(|b| b.is_ascii_digit()) => {
                    num.parse().ok()?
                }
                _ => return None,
            };
            char::from_u32(code)?
        }
    };
    xml_char(c).then_some(c)
}

impl<'a> Scanner<'a> {
    fn run(mut self) -> Option<Tree<'a>> {
        self.prolog()?;
        loop {
            let at_end_tag = match self.b.get(self.pos)? {
                b'<' => *self.b.get(self.pos + 1)? == b'/',
                _ => {
                    self.text()?;
                    continue;
                }
            };
            if at_end_tag {
                self.end_tag()?;
            } else {
                self.start_tag()?;
            }
            if self.open.is_empty() {
                // The document element is complete: whitespace only after it.
                return self.b[self.pos..]
                    .iter()
                    .all(|&c| is_ws(c))
                    .then_some(Tree {
                        elements: self.elements,
                    });
            }
        }
    }

    /// An optional plain XML declaration at the very start, then whitespace up to the
    /// document element.
    fn prolog(&mut self) -> Option<()> {
        if let Some(rest) = self.s.strip_prefix("<?xml") {
            let end = rest.find("?>")?;
            if !plain_declaration(&rest[..end]) {
                return None;
            }
            self.pos = 5 + end + 2;
        }
        self.skip_ws()?;
        (self.b.get(self.pos)? == &b'<' && CLASS[*self.b.get(self.pos + 1)? as usize] & START != 0)
            .then_some(())
    }

    /// A qualified name at `pos` (ASCII, at most one colon, both parts non-empty).
    fn qname(&mut self) -> Option<QName<'a>> {
        let b = self.b;
        let start = self.pos;
        let mut colon = None;
        if CLASS[*b.get(start)? as usize] & START == 0 {
            return None;
        }
        let mut i = start + 1;
        loop {
            let c = *b.get(i)?;
            if CLASS[c as usize] & NAME != 0 {
                i += 1;
            } else if c == b':' && colon.is_none() && CLASS[*b.get(i + 1)? as usize] & START != 0 {
                colon = Some(i);
                i += 2;
            } else if c == b':' {
                return None;
            } else {
                break;
            }
        }
        self.pos = i;
        let full = &self.s[start..i];
        Some(match colon {
            Some(c) => QName {
                prefix: Some(&self.s[start..c]),
                local: &self.s[c + 1..i],
                full,
            },
            None => QName {
                prefix: None,
                local: full,
                full,
            },
        })
    }

    /// Skips whitespace; whether there was any.
    fn skip_ws(&mut self) -> Option<bool> {
        let start = self.pos;
        while CLASS[*self.b.get(self.pos)? as usize] & WS != 0 {
            self.pos += 1;
        }
        Some(self.pos > start)
    }

    fn text(&mut self) -> Option<()> {
        let start = self.pos;
        let len = find_byte(&self.b[start..], b'<')?;
        self.pos += len;
        let text = decode(&self.s[start..self.pos], false)?;
        let &(top, _, read) = self.open.last()?;
        if read {
            match &mut self.elements[top].text {
                t if t.is_empty() => *t = text,
                t => t.to_mut().push_str(&text),
            }
        }
        Some(())
    }

    fn end_tag(&mut self) -> Option<()> {
        self.pos += 2;
        let name = self.qname()?;
        self.skip_ws()?;
        if self.b.get(self.pos)? != &b'>' {
            return None;
        }
        self.pos += 1;
        let (_, open, _) = self.open.pop()?;
        if open != name.full {
            return None;
        }
        self.leave(self.open.len() + 1);
        Some(())
    }

    /// Forgets the prefixes declared by the element at `depth`, which just closed.
    fn leave(&mut self, depth: usize) {
        while self.prefixes.last().is_some_and(|&(_, d)| d >= depth) {
            self.prefixes.pop();
        }
    }

    fn start_tag(&mut self) -> Option<()> {
        self.pos += 1;
        let name = self.qname()?;
        self.attrs.clear();
        let empty = loop {
            let spaced = self.skip_ws()?;
            match *self.b.get(self.pos)? {
                b'>' => {
                    self.pos += 1;
                    break false;
                }
                b'/' if self.b.get(self.pos + 1)? == &b'>' => {
                    self.pos += 2;
                    break true;
                }
                _ if spaced => {
                    let attr = self.qname()?;
                    self.skip_ws()?;
                    if self.b.get(self.pos)? != &b'=' {
                        return None;
                    }
                    self.pos += 1;
                    self.skip_ws()?;
                    let quote = *self.b.get(self.pos)?;
                    if quote != b'"' && quote != b'\'' {
                        return None;
                    }
                    let start = self.pos + 1;
                    let len = find_byte(&self.b[start..], quote)?;
                    self.attrs.push((attr, &self.s[start..start + len]));
                    self.pos = start + len + 1;
                }
                _ => return None,
            }
        };
        let depth = self.open.len() + 1;
        if depth > MAX_DEPTH {
            return None;
        }
        let read = self.element(name, depth)?;
        if empty {
            self.leave(depth);
        } else {
            self.open.push((self.elements.len() - 1, name.full, read));
        }
        Some(())
    }

    /// Records the element of the start tag just read (its attributes in `attrs`); whether
    /// its text is read.
    fn element(&mut self, name: QName<'a>, depth: usize) -> Option<bool> {
        let attrs = std::mem::take(&mut self.attrs);
        for (i, (a, _)) in attrs.iter().enumerate() {
            if attrs[..i].iter().any(|(b, _)| b.local == a.local) {
                return None;
            }
        }
        let (mut lang, mut priority) = (None, None);
        for &(a, raw) in &attrs {
            let value = decode(raw, true)?;
            match (a.prefix, a.local) {
                (None, "xmlns") if value == NS_XML_URI || value == XMLNS_URI => return None,
                (None, "xmlns") => {}
                (Some("xmlns"), prefix) => {
                    if value.is_empty()
                        || value == NS_XML_URI
                        || value == XMLNS_URI
                        || prefix == "xml"
                        || prefix == "xmlns"
                    {
                        return None;
                    }
                    self.prefixes.push((prefix, depth));
                }
                (Some("xml"), "lang") => lang = Some(value),
                (_, "priority") => priority = Some(value),
                _ => {}
            }
        }
        let declared = |p: &str| self.prefixes.iter().any(|&(d, _)| d == p);
        for (a, _) in &attrs {
            if let Some(p) = a.prefix
                && p != "xml"
                && p != "xmlns"
                && !declared(p)
            {
                return None;
            }
        }
        if let Some(p) = name.prefix
            && (p == "xml" || p == "xmlns" || !declared(p))
        {
            return None;
        }
        let parent = self.open.last().map_or(NO_PARENT, |&(i, _, _)| i);
        if parent == NO_PARENT && name.local != "presence" {
            return None;
        }
        self.attrs = attrs;
        self.elements.push(Element {
            local: name.local,
            parent,
            lang,
            priority,
            text: Cow::Borrowed(""),
        });
        Some(TEXT_READ.contains(&name.local))
    }
}

/// The inside of `<?xml ...?>`: version 1.0, optionally encoding UTF-8, then optionally
/// standalone, each written `name="value"` or `name='value'`.
fn plain_declaration(decl: &str) -> bool {
    let parts: Vec<&str> = decl.split_ascii_whitespace().collect();
    let version = |p: &str| pseudo_value(p, "version") == Some("1.0");
    let encoding =
        |p: &str| pseudo_value(p, "encoding").is_some_and(|v| v.eq_ignore_ascii_case("utf-8"));
    let standalone = |p: &str| matches!(pseudo_value(p, "standalone"), Some("yes" | "no"));
    decl.starts_with(|c: char| c.is_ascii() && is_ws(c as u8))
        && match parts.as_slice() {
            [v] => version(v),
            [v, e] => version(v) && encoding(e),
            [v, e, sa] => version(v) && encoding(e) && standalone(sa),
            _ => false,
        }
}

fn pseudo_value<'s>(part: &'s str, name: &str) -> Option<&'s str> {
    let v = part.strip_prefix(name)?.strip_prefix('=')?;
    v.strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .or_else(|| v.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use roxmltree::{Document, ParsingOptions};

    /// Checks the scanner against the DOM on `xml`; returns whether the scanner took it.
    fn agrees(xml: &str) -> bool {
        let Some(fast) = scan(xml) else {
            return false;
        };
        let options = ParsingOptions {
            allow_dtd: false,
            ..ParsingOptions::default()
        };
        let doc = Document::parse_with_options(xml, options)
            .unwrap_or_else(|e| panic!("the scanner took what roxmltree refuses ({e}): {xml:?}"));
        assert_eq!(fast, Tree::from_dom(doc.root_element()), "{xml:?}");
        true
    }

    fn data_files() -> Vec<(String, String)> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");
        let mut out: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| {
                let path = e.ok()?.path();
                let name = path.file_name()?.to_str()?.to_owned();
                Some((name, std::fs::read_to_string(&path).ok()?))
            })
            .collect();
        out.sort();
        out
    }

    #[test]
    fn sample_files_scan_as_the_dom_reads_them() {
        let mut taken = Vec::new();
        for (name, xml) in data_files() {
            if agrees(&xml) {
                taken.push(name);
            }
        }
        // The plain ones must take the fast path; the others (undeclared prefixes, DOCTYPE,
        // another document element, ...) must not.
        for plain in [
            "pidf_kamailio_one_tuple.xml",
            "pidf_several_tuples.xml",
            "pidf_rpid_person_langs.xml",
            "pidf_closed_with_note.xml",
        ] {
            assert!(
                taken.iter().any(|t| t == plain),
                "{plain} not scanned: {taken:?}"
            );
        }
        assert!(
            !taken.iter().any(|t| t.starts_with("bad_")
                || t.starts_with("winfo_")
                || t.contains("undeclared")),
            "{taken:?}"
        );
    }

    #[test]
    fn edge_cases_agree_or_fall_back() {
        let taken = [
            "<presence/>",
            "<presence></presence>",
            "<?xml version='1.0'?><presence/>",
            "<?xml version=\"1.0\" encoding=\"utf-8\" standalone=\"yes\"?>\n<presence>\n</presence>\n",
            "<presence><tuple><note>a&amp;b&#x41;&#66;&lt;&gt;&quot;&apos;</note></tuple></presence>",
            "<presence><note>x<b/>y<c>z</c>w</note></presence>",
            "<presence xml:lang='de'><note xml:lang=''>a</note><note>b</note></presence>",
            "<p:presence xmlns:p='urn:p'><p:tuple><p:status><p:basic>open</p:basic></p:status></p:tuple></p:presence>",
            "<presence><contact a:priority='1' xmlns:a='urn:a'/><contact priority=\"0.5\"/></presence>",
            "<presence><x id='a\tb\nc'/><note>é € \u{10FFFF}</note></presence>",
            "<presence\n  a = \"1\"\t/>",
            " \n<presence/>",
            "<presence></presence >",
            "<presence><xmlthing a.b-c_1='x'/><tuple ></tuple></presence>",
            "<?xml version='1.0' ?><presence a='>]]'/>",
        ];
        for xml in taken {
            assert!(agrees(xml), "not scanned: {xml:?}");
        }
        let fall_back = [
            "",
            "\u{feff}<presence/>",
            "<presence/><!-- c -->",
            "<!-- c --><presence/>",
            "<!DOCTYPE presence><presence/>",
            "<presence><![CDATA[x]]></presence>",
            "<presence><?pi x?></presence>",
            "<presence>a\r\nb</presence>",
            "<presence x='a\r'/>",
            "<presence>&nbsp;</presence>",
            "<presence>&#0;</presence>",
            "<presence>&#xFFFE;</presence>",
            "<presence>a]]>b</presence>",
            "<presence>\u{1}</presence>",
            "<presence x='<'/>",
            "<presence a='1' a='2'/>",
            "<presence a:x='1' b:x='2' xmlns:a='u' xmlns:b='u'/>",
            "<rpid:x/>",
            "<presence><rpid:away/></presence>",
            "<presence xmlns:p=''/>",
            "<presence xmlns:xml='http://www.w3.org/XML/1998/namespace'/>",
            "<message/>",
            "<presence><a></b></presence>",
            "<presence><a>",
            "<presence/>x",
            "<presence/><presence/>",
            "<presence a='1'b='2'/>",
            "<presence a=1/>",
            "<pr\u{e9}sence/>",
            "<presence><a:b:c xmlns:a='u'/></presence>",
            "<?xml version='1.1'?><presence/>",
            "<?xml version='1.0' encoding='ISO-8859-1'?><presence/>",
            "<?xml-stylesheet x?><presence/>",
        ];
        for xml in fall_back {
            assert!(scan(xml).is_none(), "scanned: {xml:?}");
        }
        let deep = format!(
            "<presence>{}{}</presence>",
            "<a>".repeat(70),
            "</a>".repeat(70)
        );
        assert!(scan(&deep).is_none());
    }

    #[test]
    fn the_benchmark_documents_are_scanned() {
        let mut ten = String::from(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<presence xmlns=\"urn:ietf:params:xml:ns:pidf\" \
             xmlns:dm=\"urn:ietf:params:xml:ns:pidf:data-model\" \
             xmlns:rpid=\"urn:ietf:params:xml:ns:pidf:rpid\" entity=\"sip:a@b\">\n",
        );
        for i in 0..10 {
            ten.push_str(&format!(
                "  <tuple id=\"t{i}\">\n    <status><basic>open</basic></status>\n    \
                 <rpid:user-input idle-threshold=\"600\">active</rpid:user-input>\n    \
                 <contact priority=\"0.{i}\">sip:a@192.0.2.{i}:5060;transport=udp</contact>\n    \
                 <note xml:lang=\"en\">On device {i}</note>\n  </tuple>\n"
            ));
        }
        ten.push_str(
            "  <dm:person id=\"p1\"><rpid:activities><rpid:on-the-phone/></rpid:activities>\
             <dm:note>In a call</dm:note></dm:person>\n</presence>\n",
        );
        assert!(agrees(&ten));
    }

    /// Balanced pieces of plain PIDF documents.
    fn plain_piece() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("<tuple><status><basic>open</basic></status><note>hi</note></tuple>".to_owned()),
            Just("<status><basic>open</basic></status>".to_owned()),
            Just("<status><basic> Closed </basic></status>".to_owned()),
            Just("<note>on the phone</note>".to_owned()),
            Just("<note xml:lang='fr'>a &amp; b &#233;</note>".to_owned()),
            Just("<note xml:lang=''>x</note>".to_owned()),
            Just("<r:activities xmlns:r='urn:r'><r:away/><r:busy/></r:activities>".to_owned()),
            Just("<activities><activity> away </activity></activities>".to_owned()),
            Just("<activities><unknown/></activities>".to_owned()),
            Just("<contact priority='0.7'>sip:x</contact>".to_owned()),
            Just("<contact priority=\"1\"/>".to_owned()),
            Just("<x:contact x:priority='0.2' xmlns:x='urn:x'/>".to_owned()),
            Just("<e a='1' b=\"2\" c='&lt;&#x3e;'/>".to_owned()),
            Just("text ".to_owned()),
            Just("\n  ".to_owned()),
            Just("<dm:person xmlns:dm='urn:dm'><dm:note>p</dm:note></dm:person>".to_owned()),
            Just("<person><activities><away/></activities></person>".to_owned()),
            Just(
                "<tuple><activities><busy/></activities><status><basic>x</basic></status></tuple>"
                    .to_owned()
            ),
        ]
    }

    /// Pieces of PIDF-like documents, plain and not, balanced or not.
    fn piece() -> impl Strategy<Value = String> {
        prop_oneof![
            plain_piece(),
            Just("<dm:person xmlns:dm='urn:dm'>".to_owned()),
            Just("</dm:person>".to_owned()),
            Just("<person>".to_owned()),
            Just("</person>".to_owned()),
            Just("<tuple>".to_owned()),
            Just("</tuple>".to_owned()),
            Just("<!-- c -->".to_owned()),
            Just("<![CDATA[<a>]]>".to_owned()),
            Just("\r\n".to_owned()),
            Just("&nbsp;".to_owned()),
            Just("<u:x/>".to_owned()),
            Just("</note>".to_owned()),
            Just("<note>".to_owned()),
            "[a-z<>/&;:='\" ]{0,6}".prop_map(|s| s),
        ]
    }

    fn document_of(pieces: impl Strategy<Value = String>) -> impl Strategy<Value = String> {
        (
            prop::sample::select(vec![
                "",
                "<?xml version='1.0' encoding='UTF-8'?>\n",
                "<?xml version=\"1.0\"?>",
            ]),
            prop::sample::select(vec![
                "<presence xmlns='urn:ietf:params:xml:ns:pidf'>",
                "<presence xml:lang='en'>",
                "<p:presence xmlns:p='urn:p'>",
            ]),
            prop::collection::vec(pieces, 0..12),
        )
            .prop_map(|(decl, open, pieces)| {
                let close = if open.starts_with("<p:") {
                    "</p:presence>"
                } else {
                    "</presence>"
                };
                format!("{decl}{open}{}{close}", pieces.concat())
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Plain documents take the fast path, and read as the DOM reads them.
        #[test]
        fn plain_documents_are_scanned(xml in document_of(plain_piece())) {
            prop_assert!(agrees(&xml), "not scanned: {:?}", xml);
        }

        /// Whatever the scanner takes, roxmltree parses, into the same tree.
        #[test]
        fn scanner_never_disagrees_with_the_dom(xml in document_of(piece())) {
            agrees(&xml);
        }

        /// Still true after any one-character edit of such a document.
        #[test]
        fn scanner_never_takes_a_broken_document(
            xml in document_of(piece()),
            at in any::<prop::sample::Index>(),
            edit in prop::sample::select(vec![
                "", "<", ">", "/", "&", "'", "\"", ":", "=", " ", "a", "\r", "\u{0}", "!", "?", "[",
                "]", "#", ";", "x", "1", "-", "\u{e9}", "</", "/>", "&#", "xmlns:", "xml:",
            ]),
            delete in any::<bool>(),
        ) {
            let mut chars: Vec<char> = xml.chars().collect();
            let i = at.index(chars.len() + 1);
            if delete && i < chars.len() {
                chars.remove(i);
            }
            for c in edit.chars().rev() {
                chars.insert(i.min(chars.len()), c);
            }
            agrees(&chars.into_iter().collect::<String>());
        }
    }
}
