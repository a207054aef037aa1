//! Why the framer gave up on a stream, and the RFC 6120 stream error condition to send for it.

use std::fmt;

/// A fatal stream error found by the framer. The framer is poisoned after it: the link sends
/// `<stream:error>` with [`FramerError::condition`], closes and reconnects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FramerError {
    /// Not well-formed XML (or not namespace-well-formed), with what was wrong.
    NotWellFormed(String),
    /// A DTD, entity or other declaration (`<!DOCTYPE`, `<!ENTITY` ...): RFC 6120 11.1.
    RestrictedXml,
    /// A stanza (or a comment, PI or stream header) longer than the limit.
    StanzaTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// Elements nested deeper than the limit inside one stanza.
    TooDeep {
        /// The limit, counting the stanza's own element as 1.
        limit: usize,
    },
    /// The stream root is not `stream` in `http://etherx.jabber.org/streams`.
    InvalidNamespace(String),
    /// Character data other than whitespace between stanzas.
    TextAtStreamLevel,
}

impl FramerError {
    /// The RFC 6120 section 4.9.3 condition element name for this error.
    pub fn condition(&self) -> &'static str {
        match self {
            Self::NotWellFormed(_) => "not-well-formed",
            Self::RestrictedXml => "restricted-xml",
            Self::StanzaTooLarge { .. } | Self::TooDeep { .. } => "policy-violation",
            Self::InvalidNamespace(_) => "invalid-namespace",
            Self::TextAtStreamLevel => "bad-format",
        }
    }
}

impl fmt::Display for FramerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotWellFormed(why) => write!(f, "XML not well-formed: {why}"),
            Self::RestrictedXml => f.write_str("DTD or entity declaration in the stream"),
            Self::StanzaTooLarge { limit } => write!(f, "stanza larger than {limit} bytes"),
            Self::TooDeep { limit } => write!(f, "stanza nested deeper than {limit} elements"),
            Self::InvalidNamespace(what) => write!(f, "invalid stream namespace: {what}"),
            Self::TextAtStreamLevel => f.write_str("text between stanzas"),
        }
    }
}

impl std::error::Error for FramerError {}
