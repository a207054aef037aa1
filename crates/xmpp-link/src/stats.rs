//! Counters of the component link, for logs and the shim's statistics.

/// What happened on the link since it was created.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Stanzas fully handed to the socket.
    pub sent: u64,
    /// Stanzas received after authentication and handed out.
    pub received: u64,
    /// Stanzas refused because the queue was full.
    pub dropped_queue_full: u64,
    /// Stanzas lost because the link went down while one was half written, or that waited
    /// longer than the queue's `max_age_ms` for the link.
    pub dropped_link_down: u64,
    /// Connection attempts after the first one.
    pub reconnects: u64,
    /// Successful handshakes.
    pub authentications: u64,
    /// Elements the server sent before the handshake completed, other than `<handshake/>`
    /// and stream errors (ignored).
    pub ignored_before_auth: u64,
}
