//! XEP-0114 wire pieces: our stream header, the `<handshake>` digest, and stream errors.

use sha1::{Digest, Sha1};

use crate::escape::push_attr;
use crate::framer::Stanza;

/// `urn:ietf:params:xml:ns:xmpp-streams`, the namespace of stream error conditions.
pub const STREAM_ERRORS_NS: &str = "urn:ietf:params:xml:ns:xmpp-streams";
/// `jabber:component:accept`, the default namespace of a component stream.
pub const COMPONENT_NS: &str = "jabber:component:accept";

/// The XML declaration and stream header a component opens its stream with (XEP-0114 section
/// 3), addressed to the component's own domain.
pub fn stream_header(domain: &str) -> String {
    let mut s = String::from(
        "<?xml version='1.0'?><stream:stream xmlns='jabber:component:accept' \
         xmlns:stream='http://etherx.jabber.org/streams'",
    );
    push_attr(&mut s, "to", domain);
    s.push('>');
    s
}

/// The lowercase hex SHA-1 of the stream id followed by the shared secret (XEP-0114 section 3).
pub fn handshake_digest(stream_id: &str, secret: &str) -> String {
    let mut hasher = Sha1::new();
    hasher.update(stream_id.as_bytes());
    hasher.update(secret.as_bytes());
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The `<handshake>` element answering the server's stream header.
pub fn handshake_element(stream_id: &str, secret: &str) -> String {
    format!(
        "<handshake>{}</handshake>",
        handshake_digest(stream_id, secret)
    )
}

/// Our stream error with `condition`, followed by the end of our stream (RFC 6120 4.9.1.1).
pub fn stream_error_and_close(condition: &str) -> String {
    format!(
        "<stream:error><{condition} xmlns='{STREAM_ERRORS_NS}'/></stream:error></stream:stream>"
    )
}

/// The end of our stream.
pub const STREAM_CLOSE: &str = "</stream:stream>";

/// A stream error received from the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamError {
    /// The defined condition (`not-authorized`, `conflict`, `host-unknown` ...), or
    /// `undefined-condition` when the server gave none.
    pub condition: String,
    /// The human-readable `<text>`, if any.
    pub text: Option<String>,
}

impl StreamError {
    /// Reads the condition and text of a `<stream:error>` element, `None` for other elements.
    pub fn from_stanza(stanza: &Stanza) -> Option<Self> {
        if !stanza.is_stream_error() {
            return None;
        }
        let doc = roxmltree::Document::parse(stanza.as_str()).ok()?;
        let mut condition = None;
        let mut text = None;
        for child in doc.root_element().children().filter(|n| n.is_element()) {
            if child.tag_name().namespace() != Some(STREAM_ERRORS_NS) {
                continue;
            }
            match child.tag_name().name() {
                "text" => text = child.text().map(str::to_owned),
                name if condition.is_none() => condition = Some(name.to_owned()),
                _ => {}
            }
        }
        Some(Self {
            condition: condition.unwrap_or_else(|| "undefined-condition".into()),
            text,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sha1_hex(data: &str) -> String {
        handshake_digest(data, "")
    }

    #[test]
    fn sha1_fips_180_vectors() {
        assert_eq!(sha1_hex("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
        assert_eq!(sha1_hex(""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        assert_eq!(
            sha1_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1"
        );
        assert_eq!(
            sha1_hex(&"a".repeat(1_000_000)),
            "34aa973cd4c4daa4f61eeb2bdbad27316534016f"
        );
    }

    #[test]
    fn handshake_hashes_id_then_secret() {
        // Value from Python's hashlib.sha1(b"3BF96D32secret").
        assert_eq!(
            handshake_element("3BF96D32", "secret"),
            "<handshake>b09ea9b3b7f586be8a08d0a3dd7466f110aeb136</handshake>"
        );
    }

    #[test]
    fn header_escapes_domain() {
        assert_eq!(
            stream_header("a'b"),
            "<?xml version='1.0'?><stream:stream xmlns='jabber:component:accept' \
             xmlns:stream='http://etherx.jabber.org/streams' to='a&apos;b'>"
        );
    }
}
