//! The stream header (`<stream:stream ...>`) the server opens its stream with.

use super::FramerError;

/// `http://etherx.jabber.org/streams`, the namespace of the stream root and of `<stream:error>`.
pub const STREAMS_NS: &str = "http://etherx.jabber.org/streams";

/// The server's stream root element, its end tag still to come.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamHeader {
    /// The qualified name as written, usually `stream:stream`.
    pub name: String,
    /// The `id` attribute (the handshake hashes it), unescaped.
    pub id: Option<String>,
    /// The `from` attribute, unescaped.
    pub from: Option<String>,
    /// The default namespace (`xmlns`), `jabber:component:accept` for a component stream.
    pub default_namespace: Option<String>,
    /// The attributes other than namespace declarations, as (qualified name, unescaped value).
    pub attributes: Vec<(String, String)>,
    /// The prefixed namespace declarations, as (prefix, URI); the `xml` prefix is left out.
    pub namespaces: Vec<(String, String)>,
}

impl StreamHeader {
    /// Parses a complete stream root start tag `<...>`, checking its name and namespace.
    pub(super) fn parse(tag: &[u8]) -> Result<Self, FramerError> {
        let text = std::str::from_utf8(tag)
            .map_err(|_| FramerError::NotWellFormed("stream header is not UTF-8".into()))?;
        if text.ends_with("/>") {
            return Err(FramerError::NotWellFormed("empty stream root".into()));
        }
        // The header alone is not a document; closing it makes one with the same attributes.
        let closed = format!("{}/>", &text[..text.len() - 1]);
        let doc = roxmltree::Document::parse(&closed)
            .map_err(|e| FramerError::NotWellFormed(format!("stream header: {e}")))?;
        let root = doc.root_element();
        let tag_name = root.tag_name();
        if tag_name.name() != "stream" || tag_name.namespace() != Some(STREAMS_NS) {
            return Err(FramerError::InvalidNamespace(format!(
                "root <{}> in {:?}",
                tag_name.name(),
                tag_name.namespace()
            )));
        }
        let namespaces: Vec<(String, String)> = root
            .namespaces()
            .filter_map(|ns| Some((ns.name()?.to_owned(), ns.uri().to_owned())))
            .filter(|(p, _)| p != "xml")
            .collect();
        let attributes = root
            .attributes()
            .map(|a| {
                let prefix = a.namespace().and_then(|uri| {
                    if uri == "http://www.w3.org/XML/1998/namespace" {
                        return Some("xml");
                    }
                    namespaces
                        .iter()
                        .find(|(_, u)| u == uri)
                        .map(|(p, _)| p.as_str())
                });
                let name = match prefix {
                    Some(p) => format!("{p}:{}", a.name()),
                    None => a.name().to_owned(),
                };
                (name, a.value().to_owned())
            })
            .collect();
        let qname_len = text[1..]
            .find(|c: char| c.is_ascii_whitespace() || c == '>' || c == '/')
            .unwrap_or(text.len() - 2);
        Ok(Self {
            name: text[1..1 + qname_len].to_owned(),
            id: root.attribute("id").map(str::to_owned),
            from: root.attribute("from").map(str::to_owned),
            default_namespace: root.lookup_namespace_uri(None).map(str::to_owned),
            attributes,
            namespaces,
        })
    }

    /// The URI bound to `prefix` on the stream root.
    pub fn namespace_of(&self, prefix: &str) -> Option<&str> {
        self.namespaces
            .iter()
            .find(|(p, _)| p == prefix)
            .map(|(_, uri)| uri.as_str())
    }
}
