//! Incremental framer for the server's XML stream: bytes in any chunking, events out.
//!
//! The framer cuts the stream into its header, its top-level elements and its end, without
//! building a tree of the whole stream: it only tracks markup (tags, quotes, comments, CDATA,
//! PIs) and the element depth, then checks each cut element with roxmltree. Between stanzas it
//! skips whitespace (keepalives), comments and PIs (the XML declaration among them); any DTD or
//! entity declaration is refused (`restricted-xml`).

mod error;
mod header;
mod stanza;
mod tag;

pub use error::FramerError;
pub use header::{STREAMS_NS, StreamHeader};
pub use stanza::Stanza;

use stanza::Scan;

/// Size limits; exceeding one is a [`FramerError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FramerLimits {
    /// Longest stanza in bytes (also bounds the stream header, comments and PIs). Default
    /// 256 KiB, Prosody's default `c2s_stanza_size_limit`.
    pub max_stanza_bytes: usize,
    /// Deepest element nesting inside one stanza, the stanza's element counting as 1.
    /// Default 32.
    pub max_depth: usize,
}

impl Default for FramerLimits {
    fn default() -> Self {
        Self {
            max_stanza_bytes: 256 * 1024,
            max_depth: 32,
        }
    }
}

/// What the framer found in the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FramerEvent {
    /// The server's stream header.
    StreamOpened(StreamHeader),
    /// A complete top-level element.
    Stanza(Stanza),
    /// The server's `</stream:stream>`; nothing after it is read.
    StreamClosed,
}

/// Where the scanner is inside the markup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lex {
    Text,
    /// After `<`.
    Lt,
    /// After `<!`, until it is known to open a comment or CDATA.
    Bang,
    Comment {
        dashes: u8,
    },
    Cdata {
        brackets: u8,
    },
    Pi {
        question: bool,
    },
    StartTag {
        quote: Option<u8>,
    },
    EndTag,
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The incremental stream framer. Feed it with [`Framer::push`], drain it with [`Framer::poll`].
#[derive(Debug)]
pub struct Framer {
    limits: FramerLimits,
    buf: Vec<u8>,
    /// Next byte to scan.
    pos: usize,
    /// Start of the item being scanned (stanza, comment, header): bytes before it are done.
    item_start: usize,
    /// Start of the tag, comment, CDATA or PI being scanned.
    tag_start: usize,
    lex: Lex,
    /// Open elements, the stream root included.
    depth: usize,
    header: Option<StreamHeader>,
    scan: Scan,
    bom_checked: bool,
    closed: bool,
    error: Option<FramerError>,
}

impl Framer {
    /// A framer waiting for the start of a stream.
    pub fn new(limits: FramerLimits) -> Self {
        Self {
            limits,
            buf: Vec::new(),
            pos: 0,
            item_start: 0,
            tag_start: 0,
            lex: Lex::Text,
            depth: 0,
            header: None,
            scan: Scan::default(),
            bom_checked: false,
            closed: false,
            error: None,
        }
    }

    /// Appends bytes read from the socket, in any chunking. Ignored after the stream ended or
    /// failed.
    pub fn push(&mut self, bytes: &[u8]) {
        if self.closed || self.error.is_some() {
            return;
        }
        let done = self.item_start;
        if done > 0 {
            self.buf.drain(..done);
            self.pos -= done;
            self.tag_start = self.tag_start.saturating_sub(done);
            self.item_start = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// The next event from the bytes pushed so far, `Ok(None)` when more bytes are needed (or
    /// the stream has ended). After an error the framer is poisoned and returns it again.
    pub fn poll(&mut self) -> Result<Option<FramerEvent>, FramerError> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        self.step().inspect_err(|e| {
            self.error = Some(e.clone());
            self.buf = Vec::new();
        })
    }

    /// Bytes held but not yet handed out (the stanza in progress and unscanned input).
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.item_start
    }

    fn step(&mut self) -> Result<Option<FramerEvent>, FramerError> {
        if self.closed {
            return Ok(None);
        }
        if !self.bom_checked {
            let avail = &self.buf[self.pos..];
            if avail.len() < BOM.len() && BOM.starts_with(avail) {
                return Ok(None);
            }
            if avail.starts_with(BOM) {
                self.pos += BOM.len();
                self.item_start = self.pos;
            }
            self.bom_checked = true;
        }
        while self.pos < self.buf.len() {
            let at = self.pos;
            self.pos += 1;
            if self.pos - self.item_start > self.limits.max_stanza_bytes {
                return Err(FramerError::StanzaTooLarge {
                    limit: self.limits.max_stanza_bytes,
                });
            }
            if let Some(event) = self.byte(self.buf[at], at)? {
                return Ok(Some(event));
            }
        }
        Ok(None)
    }

    /// Advances the scanner over the byte `c` at `at`.
    fn byte(&mut self, c: u8, at: usize) -> Result<Option<FramerEvent>, FramerError> {
        match self.lex {
            Lex::Text if c == b'<' => {
                self.lex = Lex::Lt;
                self.tag_start = at;
                if self.depth <= 1 {
                    self.item_start = at;
                }
            }
            Lex::Text if self.depth <= 1 => {
                if !c.is_ascii_whitespace() {
                    return Err(if self.depth == 0 {
                        not_well_formed("text before the stream header")
                    } else {
                        FramerError::TextAtStreamLevel
                    });
                }
                self.item_start = at + 1;
            }
            Lex::Text => {}
            Lex::Lt => {
                self.lex = match c {
                    b'/' => Lex::EndTag,
                    b'!' => Lex::Bang,
                    b'?' => Lex::Pi { question: false },
                    b'<' | b'>' | b'=' | b'"' | b'\'' => return Err(not_well_formed("bad tag")),
                    c if c.is_ascii_whitespace() => return Err(not_well_formed("bad tag")),
                    _ => Lex::StartTag { quote: None },
                }
            }
            Lex::Bang => self.bang(at)?,
            Lex::Comment { dashes } => {
                if c == b'>' && dashes >= 2 {
                    self.skippable_done(at);
                } else {
                    let dashes = if c == b'-' {
                        dashes.saturating_add(1)
                    } else {
                        0
                    };
                    self.lex = Lex::Comment { dashes };
                }
            }
            Lex::Cdata { brackets } => {
                self.lex = if c == b'>' && brackets >= 2 {
                    Lex::Text
                } else {
                    let brackets = if c == b']' {
                        brackets.saturating_add(1)
                    } else {
                        0
                    };
                    Lex::Cdata { brackets }
                };
            }
            Lex::Pi { question } => {
                if c == b'>' && question {
                    self.skippable_done(at);
                } else {
                    self.lex = Lex::Pi {
                        question: c == b'?',
                    };
                }
            }
            Lex::StartTag { quote: Some(q) } => {
                if c == q {
                    self.lex = Lex::StartTag { quote: None };
                }
            }
            Lex::StartTag { quote: None } => match c {
                b'"' | b'\'' => self.lex = Lex::StartTag { quote: Some(c) },
                b'<' => return Err(not_well_formed("'<' in a tag")),
                b'>' => return self.start_tag_done(at),
                _ => {}
            },
            Lex::EndTag => match c {
                b'<' => return Err(not_well_formed("'<' in a tag")),
                b'>' => return self.end_tag_done(at),
                _ => {}
            },
        }
        Ok(None)
    }

    /// After `<!`: a comment, CDATA (only inside a stanza), or a refused declaration.
    fn bang(&mut self, at: usize) -> Result<(), FramerError> {
        const COMMENT: &[u8] = b"<!--";
        const CDATA: &[u8] = b"<![CDATA[";
        let seen = &self.buf[self.tag_start..=at];
        if seen == COMMENT {
            self.lex = Lex::Comment { dashes: 0 };
        } else if seen == CDATA {
            if self.depth <= 1 {
                return Err(FramerError::TextAtStreamLevel);
            }
            self.lex = Lex::Cdata { brackets: 0 };
        } else if COMMENT.starts_with(seen) || CDATA.starts_with(seen) {
            // Wait for more bytes.
        } else if seen[2].is_ascii_alphabetic() {
            return Err(FramerError::RestrictedXml);
        } else {
            return Err(not_well_formed("bad markup declaration"));
        }
        Ok(())
    }

    /// End of a comment or PI: dropped between stanzas, kept inside one.
    fn skippable_done(&mut self, at: usize) {
        self.lex = Lex::Text;
        if self.depth <= 1 {
            self.item_start = at + 1;
        }
    }

    fn start_tag_done(&mut self, at: usize) -> Result<Option<FramerEvent>, FramerError> {
        self.lex = Lex::Text;
        let tag = &self.buf[self.tag_start..=at];
        if self.header.is_none() {
            let header = StreamHeader::parse(tag)?;
            self.header = Some(header.clone());
            self.depth = 1;
            self.item_start = at + 1;
            return Ok(Some(FramerEvent::StreamOpened(header)));
        }
        // The new element's level in its stanza: the stream root is open, the stanza is 1.
        if self.depth > self.limits.max_depth {
            return Err(FramerError::TooDeep {
                limit: self.limits.max_depth,
            });
        }
        let self_closing = tag[tag.len() - 2] == b'/';
        let top = self.depth == 1;
        if top {
            self.scan = Scan::default();
        }
        self.scan.record(tag, top);
        if self_closing {
            return if top { self.emit(at) } else { Ok(None) };
        }
        self.depth += 1;
        Ok(None)
    }

    fn end_tag_done(&mut self, at: usize) -> Result<Option<FramerEvent>, FramerError> {
        self.lex = Lex::Text;
        let Some(header) = &self.header else {
            return Err(not_well_formed("end tag before the stream header"));
        };
        self.depth -= 1;
        match self.depth {
            0 => {
                let name = self.buf[self.tag_start + 2..at].trim_ascii_end();
                if name != header.name.as_bytes() {
                    return Err(not_well_formed("stream closed with a different name"));
                }
                self.closed = true;
                self.buf = Vec::new();
                self.pos = 0;
                self.item_start = 0;
                Ok(Some(FramerEvent::StreamClosed))
            }
            1 => self.emit(at),
            _ => Ok(None),
        }
    }

    /// Hands out the top-level element that ends at `at`.
    fn emit(&mut self, at: usize) -> Result<Option<FramerEvent>, FramerError> {
        let Some(header) = &self.header else {
            return Err(not_well_formed("element before the stream header"));
        };
        let stanza = Stanza::build(&self.buf[self.item_start..=at], &self.scan, header)?;
        self.item_start = at + 1;
        Ok(Some(FramerEvent::Stanza(stanza)))
    }
}

fn not_well_formed(why: &str) -> FramerError {
    FramerError::NotWellFormed(why.into())
}
