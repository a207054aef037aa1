//! Incremental framer for an XMPP stream: splits bytes into stream headers and top-level stanzas.

/// One thing the framer found in the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A `<stream:stream ...>` open tag (first one, or after a restart).
    StreamOpen(String),
    /// A complete top-level element (stanza, features, SASL, ...).
    Stanza(String),
    /// `</stream:stream>`.
    StreamClose,
}

/// Depth-counting framer that understands quotes in tags, comments,
/// CDATA and processing instructions. Feed it bytes as they arrive.
#[derive(Default)]
pub struct Framer {
    buf: Vec<u8>,
    /// Scan position in `buf`.
    pos: usize,
    /// Element depth below the stream root (0 = between stanzas).
    depth: usize,
    /// Start of the stanza being read.
    start: Option<usize>,
}

impl Framer {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds bytes and returns every frame now complete.
    pub fn push(&mut self, data: &[u8]) -> Result<Vec<Frame>, String> {
        self.buf.extend_from_slice(data);
        let mut out = Vec::new();
        while let Some(frame) = self.next_token()? {
            if let Some(f) = frame {
                out.push(f);
            }
        }
        // Drop what no stanza still needs.
        let keep_from = self.start.unwrap_or(self.pos);
        if keep_from > 0 {
            self.buf.drain(..keep_from);
            self.pos -= keep_from;
            if let Some(s) = self.start.as_mut() {
                *s -= keep_from;
            }
        }
        Ok(out)
    }

    /// Reads one token at `pos`. `Ok(None)`: need more data.
    /// `Ok(Some(None))`: consumed something that is not a frame yet.
    fn next_token(&mut self) -> Result<Option<Option<Frame>>, String> {
        let rest = &self.buf[self.pos..];
        if rest.is_empty() {
            return Ok(None);
        }
        if rest[0] != b'<' {
            // Character data: up to the next '<'.
            let n = rest.iter().position(|&b| b == b'<').unwrap_or(rest.len());
            self.pos += n;
            return Ok(Some(None));
        }
        let skip_to = |pat: &[u8]| find(rest, pat).map(|i| i + pat.len());
        let (len, kind) = if rest.starts_with(b"<?") {
            (skip_to(b"?>"), Kind::Other)
        } else if rest.starts_with(b"<!--") {
            (skip_to(b"-->"), Kind::Other)
        } else if rest.starts_with(b"<![CDATA[") {
            (skip_to(b"]]>"), Kind::Other)
        } else if b"<![CDATA[".starts_with(rest) || b"<!--".starts_with(rest) {
            (None, Kind::Other) // a prefix of either: wait for more bytes
        } else if rest.starts_with(b"<!") {
            return Err("DTD/declarations are not allowed in an XMPP stream".into());
        } else if rest.starts_with(b"</") {
            (tag_end(rest), Kind::End)
        } else {
            (tag_end(rest), Kind::Start)
        };
        let Some(len) = len else { return Ok(None) };
        let tok_start = self.pos;
        let tag = &rest[..len];
        self.pos += len;
        let frame = match kind {
            Kind::Other => None,
            Kind::End if self.depth == 0 => Some(Frame::StreamClose),
            Kind::End => {
                self.depth -= 1;
                if self.depth == 0 {
                    self.take_stanza()
                } else {
                    None
                }
            }
            Kind::Start => {
                let self_closing = tag.len() >= 2 && tag[tag.len() - 2] == b'/';
                if self.depth == 0 && is_stream_root(tag) {
                    Some(Frame::StreamOpen(String::from_utf8_lossy(tag).into_owned()))
                } else {
                    if self.depth == 0 {
                        self.start = Some(tok_start);
                    }
                    if self_closing {
                        if self.depth == 0 {
                            self.take_stanza()
                        } else {
                            None
                        }
                    } else {
                        self.depth += 1;
                        None
                    }
                }
            }
        };
        Ok(Some(frame))
    }

    fn take_stanza(&mut self) -> Option<Frame> {
        let s = self.start.take()?;
        Some(Frame::Stanza(
            String::from_utf8_lossy(&self.buf[s..self.pos]).into_owned(),
        ))
    }
}

enum Kind {
    Start,
    End,
    Other,
}

fn find(hay: &[u8], pat: &[u8]) -> Option<usize> {
    hay.windows(pat.len()).position(|w| w == pat)
}

/// Length of the tag at the start of `s` (through its `>`), honouring quotes.
fn tag_end(s: &[u8]) -> Option<usize> {
    let mut quote: Option<u8> = None;
    for (i, &b) in s.iter().enumerate().skip(1) {
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if b == b'"' || b == b'\'' => quote = Some(b),
            None if b == b'>' => return Some(i + 1),
            None => {}
        }
    }
    None
}

/// `<stream:stream ...>` (any prefix, or none).
fn is_stream_root(tag: &[u8]) -> bool {
    let name_end = tag[1..]
        .iter()
        .position(|b| b.is_ascii_whitespace() || *b == b'>' || *b == b'/')
        .map_or(tag.len(), |i| i + 1);
    let name = &tag[1..name_end];
    name == b"stream" || name.ends_with(b":stream")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed_bytewise(input: &str) -> Vec<Frame> {
        let mut f = Framer::new();
        let mut out = Vec::new();
        for b in input.as_bytes() {
            out.extend(f.push(std::slice::from_ref(b)).unwrap());
        }
        out
    }

    #[test]
    fn frames_stream_stanzas_and_restart() {
        let input = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' id='a>b'>\
            <stream:features><x a=\"/>\"/></stream:features>\n\
            <message><body><![CDATA[</message>]]></body><!-- <x> --></message>\
            <presence/>\
            <?xml version='1.0'?><stream:stream id='2'><success/></stream:stream>";
        let frames = feed_bytewise(input);
        assert_eq!(
            frames,
            vec![
                Frame::StreamOpen("<stream:stream xmlns='jabber:client' id='a>b'>".into()),
                Frame::Stanza("<stream:features><x a=\"/>\"/></stream:features>".into()),
                Frame::Stanza(
                    "<message><body><![CDATA[</message>]]></body><!-- <x> --></message>".into()
                ),
                Frame::Stanza("<presence/>".into()),
                Frame::StreamOpen("<stream:stream id='2'>".into()),
                Frame::Stanza("<success/>".into()),
                Frame::StreamClose,
            ]
        );
    }

    #[test]
    fn whole_chunk_at_once() {
        let mut f = Framer::new();
        let out = f.push(b"<stream:stream><a><b/></a><c>t</c>").unwrap();
        assert_eq!(out.len(), 3);
        assert_eq!(out[2], Frame::Stanza("<c>t</c>".into()));
    }
}
