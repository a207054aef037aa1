//! The worker -> manager command frame: one self-contained datagram per `xpacket`, `xmessage`,
//! `xsubscribe` or `xnotify` call (the C module writes a shared-memory pointer into a pipe).
//!
//! Layout, integers little endian:
//!
//! ```text
//! u8 version (1) | u8 kind | u32 len, from | u32 len, to | u32 len, id | u32 len, body
//! ```
//!
//! The datagram boundary is the frame boundary: a frame must fill its datagram exactly.

use std::fmt;

/// The frame layout version this crate writes and reads.
pub const FRAME_VERSION: u8 = 1;
/// Default largest frame: fits one AF_UNIX datagram under the default socket buffer, and keeps
/// any stanza far below the XMPP server's limit.
pub const DEFAULT_MAX_FRAME: usize = 64 * 1024;
const FIXED: usize = 2 + 4 * 4;

/// Which API call made the frame; values as the C module's `xmpp_pipe_cmd_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FrameKind {
    /// `xpacket`: `body` is a stanza written as it is.
    Packet = 1,
    /// `xmessage` / `xmpp_send_message()`: a chat message built from the four fields.
    Message = 2,
    /// `xsubscribe`: `body` is a stanza written as it is.
    Subscribe = 4,
    /// `xnotify`: `body` is a stanza written as it is.
    Notify = 8,
}

impl TryFrom<u8> for FrameKind {
    type Error = FrameError;

    fn try_from(v: u8) -> Result<Self, FrameError> {
        Ok(match v {
            1 => Self::Packet,
            2 => Self::Message,
            4 => Self::Subscribe,
            8 => Self::Notify,
            other => return Err(FrameError::BadKind(other)),
        })
    }
}

/// One decoded command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The API call.
    pub kind: FrameKind,
    /// SIP URI of the sender (used by `Message`).
    pub from: String,
    /// SIP URI of the recipient (used by `Message`).
    pub to: String,
    /// Stanza id (used by `Message`).
    pub id: String,
    /// Message text (`Message`) or stanza (the others).
    pub body: String,
}

/// Why a frame could not be encoded or decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameError {
    /// The encoded frame would be, or the datagram is, longer than the maximum.
    TooLarge {
        /// Its length in bytes.
        len: usize,
        /// The maximum.
        max: usize,
    },
    /// The datagram ends inside the frame.
    Truncated,
    /// Bytes after the last field.
    TrailingBytes,
    /// Unknown layout version.
    BadVersion(u8),
    /// Unknown kind.
    BadKind(u8),
    /// A field is not UTF-8 (its name).
    NotUtf8(&'static str),
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge { len, max } => write!(f, "frame of {len} bytes over the {max} limit"),
            Self::Truncated => f.write_str("truncated frame"),
            Self::TrailingBytes => f.write_str("bytes after the frame"),
            Self::BadVersion(v) => write!(f, "unknown frame version {v}"),
            Self::BadKind(k) => write!(f, "unknown frame kind {k}"),
            Self::NotUtf8(field) => write!(f, "frame field {field} is not UTF-8"),
        }
    }
}

impl std::error::Error for FrameError {}

/// Encodes a command into one datagram of at most `max` bytes.
pub fn encode(
    kind: FrameKind,
    from: &str,
    to: &str,
    id: &str,
    body: &str,
    max: usize,
) -> Result<Vec<u8>, FrameError> {
    let fields = [from, to, id, body];
    let len = FIXED + fields.iter().map(|f| f.len()).sum::<usize>();
    if len > max {
        return Err(FrameError::TooLarge { len, max });
    }
    let mut out = Vec::with_capacity(len);
    out.push(FRAME_VERSION);
    out.push(kind as u8);
    for field in fields {
        // len <= max fits in memory, and each field is shorter than len.
        let n = u32::try_from(field.len()).map_err(|_| FrameError::TooLarge { len, max })?;
        out.extend_from_slice(&n.to_le_bytes());
        out.extend_from_slice(field.as_bytes());
    }
    Ok(out)
}

impl Frame {
    /// Encodes this frame into one datagram of at most `max` bytes.
    pub fn encode(&self, max: usize) -> Result<Vec<u8>, FrameError> {
        encode(self.kind, &self.from, &self.to, &self.id, &self.body, max)
    }

    /// Decodes one datagram, which must hold exactly one frame of at most `max` bytes.
    pub fn decode(datagram: &[u8], max: usize) -> Result<Self, FrameError> {
        if datagram.len() > max {
            return Err(FrameError::TooLarge {
                len: datagram.len(),
                max,
            });
        }
        let [version, kind, rest @ ..] = datagram else {
            return Err(FrameError::Truncated);
        };
        if *version != FRAME_VERSION {
            return Err(FrameError::BadVersion(*version));
        }
        let kind = FrameKind::try_from(*kind)?;
        let mut rest = rest;
        let mut next = |name: &'static str| -> Result<String, FrameError> {
            let (len, tail) = rest.split_first_chunk::<4>().ok_or(FrameError::Truncated)?;
            let len =
                usize::try_from(u32::from_le_bytes(*len)).map_err(|_| FrameError::Truncated)?;
            if len > tail.len() {
                return Err(FrameError::Truncated);
            }
            let (field, tail) = tail.split_at(len);
            rest = tail;
            String::from_utf8(field.to_vec()).map_err(|_| FrameError::NotUtf8(name))
        };
        let frame = Self {
            kind,
            from: next("from")?,
            to: next("to")?,
            id: next("id")?,
            body: next("body")?,
        };
        if !rest.is_empty() {
            return Err(FrameError::TrailingBytes);
        }
        Ok(frame)
    }
}
