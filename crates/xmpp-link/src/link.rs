//! A small driver running a [`Component`] over a non-blocking TCP socket, for the manager
//! process's poll loop: poll [`Link::raw_fd`] for [`Link::interest`] with [`Link::timeout`],
//! then call [`Link::drive`] whatever woke the poll.
//!
//! Everything is non-blocking except the host name lookup (`getaddrinfo`), which runs at each
//! connection attempt: configure an address literal to keep it off the loop.

use std::collections::VecDeque;
use std::io::{self, Read};
use std::net::{Shutdown, SocketAddr, ToSocketAddrs};
use std::os::fd::{AsRawFd, RawFd};
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use crate::component::{Component, ComponentConfig, Event, QueueFull, State};
use crate::stats::Stats;

/// Reads per [`Link::drive`] call, so that one busy server cannot starve the IPC socket.
const MAX_READS_PER_DRIVE: usize = 16;
const READ_CHUNK: usize = 16 * 1024;

/// Where to connect, and the component settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkConfig {
    /// XMPP server host name or address (`xmpp_host`); IPv6 literals with or without brackets.
    pub host: String,
    /// Component port (`xmpp_port`, 5347 by default in the C module).
    pub port: u16,
    /// The component settings.
    pub component: ComponentConfig,
}

/// What to poll the socket for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interest {
    /// `POLLIN`.
    pub read: bool,
    /// `POLLOUT` (a connect in progress, or output waiting).
    pub write: bool,
}

/// The component connection with its socket.
#[derive(Debug)]
pub struct Link {
    host: String,
    port: u16,
    component: Component,
    socket: Option<Socket>,
    /// Addresses still to try in the current attempt, last first.
    addrs: Vec<SocketAddr>,
    epoch: Instant,
    events: VecDeque<Event>,
    read_buf: Vec<u8>,
}

impl Link {
    /// A link that connects at the first [`Link::drive`].
    pub fn new(config: LinkConfig) -> Self {
        Self {
            host: config.host,
            port: config.port,
            component: Component::new(config.component),
            socket: None,
            addrs: Vec::new(),
            epoch: Instant::now(),
            events: VecDeque::new(),
            read_buf: vec![0; READ_CHUNK],
        }
    }

    /// Does all pending work without blocking: connects when due, reads and handles what the
    /// server sent, runs timers, writes what is queued. Events are then in
    /// [`Link::poll_event`].
    pub fn drive(&mut self) {
        let now = self.now_ms();
        if self.component.should_connect(now) {
            self.start_connect(now);
        }
        if self.component.state() == State::Connecting {
            self.check_connect(now);
        }
        if self.is_open() {
            self.read(now);
        }
        self.component.tick(now);
        if self.is_open() {
            self.write(now);
        }
        self.collect();
    }

    /// Queues a stanza for the server (see [`Component::submit`]); it is written by the next
    /// [`Link::drive`].
    pub fn send(&mut self, stanza: String) -> Result<(), QueueFull> {
        let now = self.now_ms();
        self.component.submit(now, stanza)
    }

    /// The next event. For [`Event::Closed`] the farewell has already been written and the
    /// socket closed: the event is for logging.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// The socket to poll, when there is one.
    pub fn raw_fd(&self) -> Option<RawFd> {
        self.socket.as_ref().map(AsRawFd::as_raw_fd)
    }

    /// What to poll [`Link::raw_fd`] for.
    pub fn interest(&self) -> Interest {
        let connecting = self.component.state() == State::Connecting;
        Interest {
            read: self.socket.is_some() && !connecting,
            write: self.socket.is_some() && (connecting || !self.component.output().is_empty()),
        }
    }

    /// How long the poll may sleep before [`Link::drive`] has timer work (`None`: no timer).
    pub fn timeout(&self) -> Option<Duration> {
        let now = self.now_ms();
        self.component
            .next_deadline()
            .map(|at| Duration::from_millis(at.saturating_sub(now)))
    }

    /// The connection state.
    pub fn state(&self) -> State {
        self.component.state()
    }

    /// The counters.
    pub fn stats(&self) -> &Stats {
        self.component.stats()
    }

    /// Stanzas waiting for the link.
    pub fn queued(&self) -> usize {
        self.component.queued()
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn is_open(&self) -> bool {
        self.socket.is_some()
            && !matches!(
                self.component.state(),
                State::Disconnected | State::Connecting
            )
    }

    fn start_connect(&mut self, now: u64) {
        self.component.connecting(now);
        let host = self.host.trim_start_matches('[').trim_end_matches(']');
        match (host, self.port).to_socket_addrs() {
            Ok(addrs) => {
                self.addrs = addrs.collect();
                self.addrs.reverse();
                self.try_next_addr(now, format!("{host}: no address"));
            }
            Err(e) => self
                .component
                .connect_failed(now, format!("resolving {host}: {e}")),
        }
    }

    /// Starts a connect to the next address, or reports `last_error` when none is left.
    fn try_next_addr(&mut self, now: u64, mut last_error: String) {
        self.socket = None;
        while let Some(addr) = self.addrs.pop() {
            match connect_nonblocking(addr) {
                Ok(socket) => {
                    self.socket = Some(socket);
                    return;
                }
                Err(e) => last_error = format!("{addr}: {e}"),
            }
        }
        self.component.connect_failed(now, last_error);
    }

    /// Checks a connect in progress: done, failed (next address), or still going.
    fn check_connect(&mut self, now: u64) {
        let Some(socket) = &self.socket else {
            return;
        };
        let peer = socket.peer_addr().ok().and_then(|a| a.as_socket());
        let failure = match socket.take_error() {
            Ok(Some(e)) | Err(e) => e,
            Ok(None) if peer.is_some() => {
                self.component.connected(now);
                return;
            }
            Ok(None) => return,
        };
        let addr = peer.map_or_else(|| self.host.clone(), |a| a.to_string());
        self.try_next_addr(now, format!("{addr}: {failure}"));
    }

    fn read(&mut self, now: u64) {
        for _ in 0..MAX_READS_PER_DRIVE {
            let Some(mut socket) = self.socket.as_ref() else {
                return;
            };
            match socket.read(&mut self.read_buf) {
                Ok(0) => return self.component.eof(now),
                Ok(n) => {
                    self.component.receive(now, &self.read_buf[..n]);
                    if self.component.state() == State::Disconnected {
                        return;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return self.component.io_error(now, format!("read: {e}")),
            }
        }
    }

    fn write(&mut self, now: u64) {
        loop {
            let Some(socket) = &self.socket else {
                return;
            };
            let out = self.component.output();
            if out.is_empty() {
                return;
            }
            match socket.send_with_flags(out, libc::MSG_NOSIGNAL) {
                Ok(0) => return self.component.io_error(now, "write: no progress"),
                Ok(n) => self.component.written(now, n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return self.component.io_error(now, format!("write: {e}")),
            }
        }
    }

    /// Moves the component's events out; a close also closes the socket, after a best-effort
    /// write of the farewell.
    fn collect(&mut self) {
        while let Some(event) = self.component.poll_event() {
            if let Event::Closed { farewell, .. } = &event {
                if let Some(socket) = self.socket.take() {
                    if !farewell.is_empty() {
                        let _ = socket.send_with_flags(farewell.as_bytes(), libc::MSG_NOSIGNAL);
                    }
                    let _ = socket.shutdown(Shutdown::Both);
                }
                self.addrs.clear();
            }
            self.events.push_back(event);
        }
    }
}

/// A non-blocking TCP socket (close-on-exec, as socket2 creates them) with a connect to
/// `addr` started.
fn connect_nonblocking(addr: SocketAddr) -> io::Result<Socket> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_nonblocking(true)?;
    socket.set_tcp_nodelay(true)?;
    match socket.connect(&SockAddr::from(addr)) {
        Ok(()) => Ok(socket),
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => Ok(socket),
        Err(e) => Err(e),
    }
}
