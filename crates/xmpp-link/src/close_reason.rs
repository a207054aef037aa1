//! Why a component connection ended.

use std::fmt;

use crate::framer::FramerError;
use crate::handshake::StreamError;

/// Why the link went down; carried by [`crate::component::Event::Closed`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloseReason {
    /// The TCP connection could not be made (resolution or connect error).
    ConnectFailed(String),
    /// The TCP connection was not made within the connect timeout.
    ConnectTimeout,
    /// The server did not accept the handshake within the handshake timeout.
    HandshakeTimeout,
    /// The server closed the TCP connection.
    Eof,
    /// Reading or writing the socket failed.
    Io(String),
    /// The server ended its stream (`</stream:stream>`).
    StreamClosed,
    /// The server sent a stream error (`not-authorized` for a wrong secret, `conflict` when
    /// another component holds the domain, `host-unknown` for an unknown domain ...).
    StreamError(StreamError),
    /// The server's XML broke a rule; we sent the matching stream error.
    Protocol(FramerError),
    /// The server's stream header had no `id` to hash.
    MissingStreamId,
    /// The server's stream is not a component stream (default namespace given).
    NotComponentStream(String),
}

impl CloseReason {
    /// Whether the server refused our credentials (`not-authorized`): a wrong
    /// `xmpp_password` or `xmpp_domain`, worth an error log rather than a warning.
    pub fn is_auth_failure(&self) -> bool {
        matches!(self, Self::StreamError(e) if e.condition == "not-authorized")
    }
}

impl fmt::Display for CloseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ConnectFailed(why) => write!(f, "connect failed: {why}"),
            Self::ConnectTimeout => f.write_str("connect timed out"),
            Self::HandshakeTimeout => f.write_str("handshake timed out"),
            Self::Eof => f.write_str("connection closed by the server"),
            Self::Io(why) => write!(f, "socket error: {why}"),
            Self::StreamClosed => f.write_str("stream closed by the server"),
            Self::StreamError(e) => {
                write!(f, "stream error <{}/>", e.condition)?;
                if let Some(text) = &e.text {
                    write!(f, ": {text}")?;
                }
                Ok(())
            }
            Self::Protocol(e) => write!(f, "{e}"),
            Self::MissingStreamId => f.write_str("server stream header has no id"),
            Self::NotComponentStream(ns) => {
                write!(f, "server stream is '{ns}', not jabber:component:accept")
            }
        }
    }
}
