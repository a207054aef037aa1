//! XMPP stanzas as owned element trees, compared as XML (namespaces resolved, attribute order ignored).

use std::collections::BTreeMap;
use std::fmt;

const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";
/// Namespace context a c2s stanza is read in.
const WRAP_OPEN: &str =
    "<wrap xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Element(Element),
    Text(String),
}

/// An element with its namespace resolved. Attribute keys are the local
/// name, or `{namespace}local` for namespaced ones (`xml:lang` becomes
/// `{http://www.w3.org/XML/1998/namespace}lang`). Whitespace-only text is dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    pub ns: String,
    pub name: String,
    pub attrs: BTreeMap<String, String>,
    pub children: Vec<Node>,
}

fn attr_key(name: &str) -> String {
    match name.strip_prefix("xml:") {
        Some(local) => format!("{{{XML_NS}}}{local}"),
        None => name.to_string(),
    }
}

impl Element {
    /// Parses a stanza as it appears in a c2s stream (default namespace
    /// `jabber:client`, `stream:` prefix declared).
    pub fn parse_fragment(xml: &str) -> Result<Element, String> {
        let text = format!("{WRAP_OPEN}{xml}</wrap>");
        let doc = roxmltree::Document::parse(&text).map_err(|e| format!("{e} in {xml}"))?;
        let mut kids = doc.root_element().children().filter(|n| n.is_element());
        let first = kids.next().ok_or_else(|| format!("no element in {xml}"))?;
        if kids.next().is_some() {
            return Err(format!("more than one element in {xml}"));
        }
        Ok(Self::from_node(first))
    }

    fn from_node(n: roxmltree::Node<'_, '_>) -> Element {
        let attrs = n
            .attributes()
            .map(|a| {
                let key = match a.namespace() {
                    Some(ns) => format!("{{{ns}}}{}", a.name()),
                    None => a.name().to_string(),
                };
                (key, a.value().to_string())
            })
            .collect();
        let mut children: Vec<Node> = Vec::new();
        for c in n.children() {
            if c.is_element() {
                children.push(Node::Element(Self::from_node(c)));
            } else if let Some(t) = c.text().filter(|_| c.is_text()) {
                match children.last_mut() {
                    Some(Node::Text(prev)) => prev.push_str(t),
                    _ => children.push(Node::Text(t.to_string())),
                }
            }
        }
        children.retain(|c| !matches!(c, Node::Text(t) if t.trim().is_empty()));
        Element {
            ns: n.tag_name().namespace().unwrap_or("").to_string(),
            name: n.tag_name().name().to_string(),
            attrs,
            children,
        }
    }

    /// An attribute by name (`xml:lang` understood).
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.get(&attr_key(name)).map(String::as_str)
    }

    /// Child elements.
    pub fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|c| match c {
            Node::Element(e) => Some(e),
            Node::Text(_) => None,
        })
    }

    /// First child element with this local name.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.elements().find(|e| e.name == name)
    }

    /// Direct text content.
    pub fn text(&self) -> String {
        self.children
            .iter()
            .filter_map(|c| match c {
                Node::Text(t) => Some(t.as_str()),
                Node::Element(_) => None,
            })
            .collect()
    }

    /// Text of the first child element with this local name.
    pub fn child_text(&self, name: &str) -> Option<String> {
        self.child(name).map(Element::text)
    }

    /// A copy without the named attributes, at every level.
    pub fn without_attrs(&self, names: &[&str]) -> Element {
        let keys: Vec<String> = names.iter().map(|n| attr_key(n)).collect();
        Element {
            ns: self.ns.clone(),
            name: self.name.clone(),
            attrs: self
                .attrs
                .iter()
                .filter(|(k, _)| !keys.contains(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            children: self
                .children
                .iter()
                .map(|c| match c {
                    Node::Element(e) => Node::Element(e.without_attrs(names)),
                    t => t.clone(),
                })
                .collect(),
        }
    }
}

/// A top-level element received on the stream: its raw text and its tree.
#[derive(Clone)]
pub struct Stanza {
    pub raw: String,
    pub element: Element,
}

impl Stanza {
    pub fn parse(raw: &str) -> Result<Stanza, String> {
        Ok(Stanza {
            raw: raw.to_string(),
            element: Element::parse_fragment(raw)?,
        })
    }

    /// `type` attribute.
    pub fn type_(&self) -> Option<&str> {
        self.element.attr("type")
    }

    /// Equal as XML to `expected` (a c2s fragment, attributes in any order).
    pub fn matches_xml(&self, expected: &str) -> bool {
        self.matches_xml_ignoring(expected, &[])
    }

    /// As [`Self::matches_xml`], ignoring these attributes (e.g. `id`, `xml:lang`) at every level.
    pub fn matches_xml_ignoring(&self, expected: &str, ignore: &[&str]) -> bool {
        let exp = Element::parse_fragment(expected)
            .unwrap_or_else(|e| panic!("expected XML does not parse: {e}"));
        exp.without_attrs(ignore) == self.element.without_attrs(ignore)
    }
}

impl std::ops::Deref for Stanza {
    type Target = Element;
    fn deref(&self) -> &Element {
        &self.element
    }
}

impl fmt::Debug for Stanza {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

/// Escapes text or an attribute value.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compares_as_xml() {
        let s = Stanza::parse(
            "<presence to='b@x' from=\"a@y\" xml:lang='en'>\n  <status>hi</status></presence>",
        )
        .unwrap();
        assert!(s.matches_xml(
            "<presence from='a@y' to='b@x' xml:lang='en'><status>hi</status></presence>"
        ));
        assert!(s.matches_xml_ignoring(
            "<presence from='a@y' to='b@x'><status>hi</status></presence>",
            &["xml:lang"]
        ));
        assert!(!s.matches_xml("<presence from='a@y' to='b@x'><status>hi</status></presence>"));
        assert_eq!(s.attr("xml:lang"), Some("en"));
        assert_eq!(s.child_text("status").as_deref(), Some("hi"));
        assert_eq!(s.element.ns, "jabber:client");
    }

    #[test]
    fn parses_stream_prefixed() {
        let s = Stanza::parse(
            "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>",
        )
        .unwrap();
        assert_eq!(s.ns, "http://etherx.jabber.org/streams");
        assert_eq!(
            s.child("bind").unwrap().ns,
            "urn:ietf:params:xml:ns:xmpp-bind"
        );
    }
}
