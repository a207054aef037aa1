//! A complete top-level element cut from the stream, made standalone and checked well-formed.

use super::{FramerError, StreamHeader};

/// One top-level element of the stream (a stanza, `<handshake/>`, `<stream:error>` ...), as a
/// standalone well-formed XML document without XML declaration.
///
/// The text is the bytes the server sent, with one change: namespace prefixes that the element
/// uses but that only the stream root declares (`stream:` in `<stream:error>`, `db:` ...) get
/// their declaration added to the element's start tag, so the text parses on its own. The
/// default namespace of the stream (`jabber:component:accept`) is **not** added: like the C
/// module's `xode_to_str`, an unqualified stanza stays unqualified, and consumers match on local
/// names. [`Stanza::namespace`] still reports the namespace the element is in within the stream.
///
/// The text holds no NUL byte, so it can be handed on as a C string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stanza {
    xml: String,
    name: String,
    namespace: Option<String>,
}

/// What the framer learnt about the stanza's tags while scanning it.
#[derive(Debug, Default)]
pub(super) struct Scan {
    /// Prefixes used in element or attribute names anywhere in the stanza.
    pub used: Vec<Vec<u8>>,
    /// Prefixes declared on the stanza's own start tag.
    pub declared_on_top: Vec<Vec<u8>>,
    /// Whether the stanza's start tag has an `xmlns` attribute.
    pub default_on_top: bool,
    /// Offset, from the stanza start, of the end of its element name.
    pub name_end: usize,
}

impl Scan {
    /// Records the names of one start tag; `top` for the stanza's own tag.
    pub(super) fn record(&mut self, tag: &[u8], top: bool) {
        for (i, name) in super::tag::Names::new(tag) {
            if top && i == 1 {
                self.name_end = 1 + name.len();
            }
            match super::tag::prefix(name) {
                Some(b"xmlns") if top => self.declared_on_top.push(name[6..].to_vec()),
                Some(b"xmlns" | b"xml") => {}
                Some(p) if !self.used.iter().any(|u| u == p) => self.used.push(p.to_vec()),
                Some(_) => {}
                None if top && name == b"xmlns" => self.default_on_top = true,
                None => {}
            }
        }
    }
}

impl Stanza {
    /// Builds the standalone stanza from its bytes, or explains why it is not well-formed.
    pub(super) fn build(
        bytes: &[u8],
        scan: &Scan,
        header: &StreamHeader,
    ) -> Result<Self, FramerError> {
        if bytes.contains(&0) {
            return Err(FramerError::NotWellFormed("NUL byte in stanza".into()));
        }
        let text = std::str::from_utf8(bytes)
            .map_err(|_| FramerError::NotWellFormed("stanza is not UTF-8".into()))?;
        let mut xml = String::with_capacity(text.len());
        xml.push_str(&text[..scan.name_end]);
        for prefix in &scan.used {
            if scan.declared_on_top.contains(prefix) {
                continue;
            }
            let prefix = String::from_utf8_lossy(prefix);
            if let Some(uri) = header.namespace_of(&prefix) {
                crate::escape::push_attr(&mut xml, &format!("xmlns:{prefix}"), uri);
            }
        }
        xml.push_str(&text[scan.name_end..]);
        let (name, namespace) = match crate::plain_xml::plain_root(&xml) {
            Some(root) => (root.name.to_owned(), root.xmlns.map(str::to_owned)),
            None => {
                // roxmltree refuses DTDs by default, and checks nesting, names, entities and
                // namespaces.
                let doc = roxmltree::Document::parse(&xml)
                    .map_err(|e| FramerError::NotWellFormed(e.to_string()))?;
                let root = doc.root_element();
                let ns = root.tag_name().namespace().map(str::to_owned);
                (root.tag_name().name().to_owned(), ns)
            }
        };
        let namespace = match namespace {
            Some(ns) => Some(ns),
            None if scan.default_on_top => None,
            None => header.default_namespace.clone(),
        };
        Ok(Self {
            xml,
            name,
            namespace,
        })
    }

    /// The standalone XML text.
    pub fn as_str(&self) -> &str {
        &self.xml
    }

    /// The XML text, owned.
    pub fn into_string(self) -> String {
        self.xml
    }

    /// The element's local name (`message`, `presence`, `iq`, `handshake`, `error` ...).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The element's namespace within the stream (the stream's default one when unqualified).
    pub fn namespace(&self) -> Option<&str> {
        self.namespace.as_deref()
    }

    /// Whether this is `<stream:error>`.
    pub fn is_stream_error(&self) -> bool {
        self.name == "error" && self.namespace.as_deref() == Some(super::STREAMS_NS)
    }
}
