//! The XEP-0114 component connection as a sans-IO state machine: the caller does the socket
//! I/O and passes the time in (milliseconds of any monotonic clock), so tests are exact.
//!
//! ```text
//! Disconnected --should_connect/connecting--> Connecting --connected--> StreamOpening
//!   (our header is output) --server header with id--> Handshaking (<handshake>digest</handshake>
//!   is output) --server <handshake/>--> Authenticated (queued stanzas flow)
//! any state --stream error, </stream:stream>, EOF, I/O error, bad XML, timeout--> Disconnected
//!   (Event::Closed with the reason and the backoff delay before the next attempt)
//! ```
//!
//! Before `<handshake/>` arrives, nothing but our stream header and the handshake is output:
//! submitted stanzas wait in a bounded queue.

use std::collections::VecDeque;

use crate::backoff::{Backoff, BackoffPolicy};
use crate::close_reason::CloseReason;
use crate::framer::{Framer, FramerEvent, FramerLimits, Stanza};
use crate::handshake::{
    COMPONENT_NS, STREAM_CLOSE, StreamError, handshake_element, stream_error_and_close,
    stream_header,
};
use crate::outbox::{Outbox, QueueLimits};
use crate::stats::Stats;

/// Settings of a component connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentConfig {
    /// The component's domain (`xmpp_domain`), sent as the stream's `to`.
    pub domain: String,
    /// The shared secret (`xmpp_password`).
    pub secret: String,
    /// Limits on what the server may send.
    pub limits: FramerLimits,
    /// Reconnect delays.
    pub backoff: BackoffPolicy,
    /// Seed of the backoff jitter (e.g. the pid).
    pub jitter_seed: u64,
    /// Longest TCP connect, default 10 s.
    pub connect_timeout_ms: u64,
    /// Longest time from TCP connect to the server's `<handshake/>`, default 10 s.
    pub handshake_timeout_ms: u64,
    /// A single space is sent after this long without output (RFC 6120 4.6.1 whitespace
    /// keepalive), default 60 s; 0 disables it.
    pub keepalive_interval_ms: u64,
    /// Bounds of the queue of stanzas waiting for the link.
    pub queue: QueueLimits,
    /// Queued stanzas move to the output while it holds less than this, default 64 KiB.
    pub output_high_water: usize,
}

impl ComponentConfig {
    /// Defaults for everything but the domain and the secret.
    pub fn new(domain: impl Into<String>, secret: impl Into<String>) -> Self {
        Self {
            domain: domain.into(),
            secret: secret.into(),
            limits: FramerLimits::default(),
            backoff: BackoffPolicy::default(),
            jitter_seed: 0,
            connect_timeout_ms: 10_000,
            handshake_timeout_ms: 10_000,
            keepalive_interval_ms: 60_000,
            queue: QueueLimits::default(),
            output_high_water: 64 * 1024,
        }
    }
}

/// Where the connection stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// No connection; the next attempt is due at [`Component::next_deadline`].
    Disconnected,
    /// A TCP connect is in progress.
    Connecting,
    /// Our stream header is out; waiting for the server's.
    StreamOpening,
    /// Our handshake is out; waiting for the server's `<handshake/>`.
    Handshaking,
    /// The server accepted the handshake; stanzas flow.
    Authenticated,
}

/// What the caller must act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The server accepted the handshake.
    Authenticated {
        /// The stream id the handshake hashed.
        stream_id: String,
    },
    /// A stanza from the server (only after authentication).
    Stanza(Stanza),
    /// The connection is over: write `farewell` if it is not empty (best effort, it may be
    /// dropped), then close the socket.
    Closed {
        /// Why.
        reason: CloseReason,
        /// Delay before the next connection attempt.
        retry_in_ms: u64,
        /// Our stream error and/or stream end, when the stream was open.
        farewell: String,
    },
}

/// A stanza refused because the queue is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueFull {
    /// Stanzas refused so far, this one included.
    pub dropped_queue_full: u64,
}

/// The component connection state machine.
#[derive(Debug)]
pub struct Component {
    config: ComponentConfig,
    state: State,
    framer: Framer,
    outbox: Outbox,
    backoff: Backoff,
    events: VecDeque<Event>,
    stats: Stats,
    /// When the next connection attempt is due (Disconnected).
    retry_at: u64,
    /// When the current phase's timeout started (connect, or TCP connected).
    phase_start: u64,
    authenticated_at: Option<u64>,
    last_write: u64,
    attempts: u64,
    /// The server's stream id, once its header is read.
    stream_id: String,
}

impl Component {
    /// A disconnected component whose first connection attempt is due at once.
    pub fn new(config: ComponentConfig) -> Self {
        Self {
            framer: Framer::new(config.limits),
            outbox: Outbox::new(config.queue),
            backoff: Backoff::new(config.backoff, config.jitter_seed),
            config,
            state: State::Disconnected,
            events: VecDeque::new(),
            stats: Stats::default(),
            retry_at: 0,
            phase_start: 0,
            authenticated_at: None,
            last_write: 0,
            attempts: 0,
            stream_id: String::new(),
        }
    }

    /// The current state.
    pub fn state(&self) -> State {
        self.state
    }

    /// The counters.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Stanzas waiting for the link.
    pub fn queued(&self) -> usize {
        self.outbox.queued()
    }

    /// Whether a connection attempt is due: the caller then opens a TCP connection and calls
    /// [`Self::connecting`].
    pub fn should_connect(&self, now: u64) -> bool {
        self.state == State::Disconnected && now >= self.retry_at
    }

    /// A TCP connect has started.
    pub fn connecting(&mut self, now: u64) {
        if self.state != State::Disconnected {
            return;
        }
        self.attempts += 1;
        if self.attempts > 1 {
            self.stats.reconnects += 1;
        }
        self.state = State::Connecting;
        self.phase_start = now;
    }

    /// The TCP connection is up: our stream header goes out.
    pub fn connected(&mut self, now: u64) {
        if self.state != State::Connecting {
            return;
        }
        self.outbox.push_control(stream_header(&self.config.domain));
        self.state = State::StreamOpening;
        self.phase_start = now;
    }

    /// The TCP connect failed.
    pub fn connect_failed(&mut self, now: u64, why: impl Into<String>) {
        if self.state == State::Connecting {
            self.close(now, CloseReason::ConnectFailed(why.into()), "");
        }
    }

    /// Bytes read from the socket.
    pub fn receive(&mut self, now: u64, bytes: &[u8]) {
        if matches!(self.state, State::Disconnected | State::Connecting) {
            return;
        }
        self.framer.push(bytes);
        while self.state != State::Disconnected {
            match self.framer.poll() {
                Ok(Some(event)) => self.on_frame(now, event),
                Ok(None) => break,
                Err(e) => {
                    let farewell = stream_error_and_close(e.condition());
                    self.close(now, CloseReason::Protocol(e), &farewell);
                }
            }
        }
    }

    /// The server closed the TCP connection (read returned 0).
    pub fn eof(&mut self, now: u64) {
        if self.state != State::Disconnected {
            self.close(now, CloseReason::Eof, "");
        }
    }

    /// Reading or writing the socket failed.
    pub fn io_error(&mut self, now: u64, why: impl Into<String>) {
        if self.state != State::Disconnected {
            self.close(now, CloseReason::Io(why.into()), "");
        }
    }

    /// Handles timeouts, keepalives and queue expiry; call it by [`Self::next_deadline`].
    pub fn tick(&mut self, now: u64) {
        self.stats.dropped_link_down += self.outbox.expire(now);
        let elapsed = now.saturating_sub(self.phase_start);
        match self.state {
            State::Connecting if elapsed >= self.config.connect_timeout_ms => {
                self.close(now, CloseReason::ConnectTimeout, "");
            }
            State::StreamOpening | State::Handshaking
                if elapsed >= self.config.handshake_timeout_ms =>
            {
                let farewell = stream_error_and_close("connection-timeout");
                self.close(now, CloseReason::HandshakeTimeout, &farewell);
            }
            State::Authenticated => {
                let interval = self.config.keepalive_interval_ms;
                if interval > 0
                    && self.outbox.output_len() == 0
                    && now.saturating_sub(self.last_write) >= interval
                {
                    self.outbox.push_control(" ".into());
                }
            }
            _ => {}
        }
    }

    /// When [`Self::tick`] (or, when disconnected, [`Self::should_connect`]) next has work.
    pub fn next_deadline(&self) -> Option<u64> {
        let phase = match self.state {
            State::Disconnected => Some(self.retry_at),
            State::Connecting => Some(self.phase_start + self.config.connect_timeout_ms),
            State::StreamOpening | State::Handshaking => {
                Some(self.phase_start + self.config.handshake_timeout_ms)
            }
            State::Authenticated => (self.config.keepalive_interval_ms > 0)
                .then(|| self.last_write + self.config.keepalive_interval_ms),
        };
        match (phase, self.outbox.next_expiry()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Queues a stanza for the server (sent once authenticated). The text must be one
    /// complete, well-formed stanza: it is written as it is.
    pub fn submit(&mut self, now: u64, stanza: String) -> Result<(), QueueFull> {
        if !self.outbox.enqueue(now, stanza) {
            self.stats.dropped_queue_full += 1;
            return Err(QueueFull {
                dropped_queue_full: self.stats.dropped_queue_full,
            });
        }
        if self.state == State::Authenticated {
            self.outbox.pump(self.config.output_high_water);
        }
        Ok(())
    }

    /// The bytes to write to the socket now (empty when none).
    pub fn output(&self) -> &[u8] {
        self.outbox.output()
    }

    /// Records that the first `n` bytes of [`Self::output`] were written.
    pub fn written(&mut self, now: u64, n: usize) {
        self.stats.sent += self.outbox.consume(n);
        self.last_write = now;
        if self.state == State::Authenticated {
            self.outbox.pump(self.config.output_high_water);
        }
    }

    /// The next event to act on.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    fn on_frame(&mut self, now: u64, event: FramerEvent) {
        match event {
            FramerEvent::StreamOpened(header) => {
                if let Some(ns) = header.default_namespace.filter(|ns| ns != COMPONENT_NS) {
                    let farewell = stream_error_and_close("invalid-namespace");
                    self.close(now, CloseReason::NotComponentStream(ns), &farewell);
                    return;
                }
                let Some(id) = header.id else {
                    let farewell = stream_error_and_close("undefined-condition");
                    self.close(now, CloseReason::MissingStreamId, &farewell);
                    return;
                };
                self.outbox
                    .push_control(handshake_element(&id, &self.config.secret));
                self.state = State::Handshaking;
                self.stream_id = id;
            }
            FramerEvent::Stanza(stanza) => self.on_stanza(now, stanza),
            FramerEvent::StreamClosed => self.close(now, CloseReason::StreamClosed, STREAM_CLOSE),
        }
    }

    fn on_stanza(&mut self, now: u64, stanza: Stanza) {
        if let Some(error) = StreamError::from_stanza(&stanza) {
            self.close(now, CloseReason::StreamError(error), STREAM_CLOSE);
            return;
        }
        // A server that left out the stream's default namespace still means the same element.
        let is_handshake =
            stanza.name() == "handshake" && matches!(stanza.namespace(), None | Some(COMPONENT_NS));
        match self.state {
            State::Handshaking if is_handshake => {
                self.state = State::Authenticated;
                self.authenticated_at = Some(now);
                self.last_write = now;
                self.stats.authentications += 1;
                self.events.push_back(Event::Authenticated {
                    stream_id: std::mem::take(&mut self.stream_id),
                });
                self.outbox.pump(self.config.output_high_water);
            }
            State::Authenticated if !is_handshake => {
                self.stats.received += 1;
                self.events.push_back(Event::Stanza(stanza));
            }
            State::Authenticated => {}
            _ => self.stats.ignored_before_auth += 1,
        }
    }

    /// Ends the connection: output is reset (unstarted stanzas back to the queue), the framer
    /// starts afresh, and the backoff decides when to try again.
    fn close(&mut self, now: u64, reason: CloseReason, farewell: &str) {
        // Appending to a half-written stanza would only garble it further.
        let farewell = if self.outbox.mid_item() || self.state == State::Connecting {
            String::new()
        } else {
            farewell.to_owned()
        };
        if self.outbox.reset_output() {
            self.stats.dropped_link_down += 1;
        }
        let authenticated_for = self.authenticated_at.map(|t| now.saturating_sub(t));
        let retry_in_ms = self.backoff.next_delay(authenticated_for);
        self.retry_at = now.saturating_add(retry_in_ms);
        self.state = State::Disconnected;
        self.framer = Framer::new(self.config.limits);
        self.authenticated_at = None;
        self.stream_id.clear();
        self.events.push_back(Event::Closed {
            reason,
            retry_in_ms,
            farewell,
        });
    }
}
