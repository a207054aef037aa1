//! The XMPP side of the load: a minimal XEP-0114 server on 127.0.0.1 that the xmpp module's
//! "XMPP Manager" connects to. It completes the handshake (without checking the digest), counts
//! the stanzas the gateway sends by kind, and injects stanzas (subscribe requests, user
//! presence, chat messages) into the gateway. Prosody is not used: it would be the slowest part of the chain.

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use kamailio_test_stack::xml_framer::{Frame, Framer};

use crate::kamailio::COMPONENT_PORT;

/// Kinds of stanzas the gateway sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `<presence>` without type.
    Available,
    Unavailable,
    Subscribed,
    OtherPresence,
    /// `<message>` (SIP MESSAGE -> XMPP chat).
    Message,
    Other,
}

const KINDS: usize = 6;

impl Kind {
    fn index(self) -> usize {
        self as usize
    }

    /// Kind of a complete stanza, from its start tag.
    pub fn of(stanza: &str) -> Kind {
        let tag_end = stanza.find('>').unwrap_or(stanza.len());
        let tag = &stanza[..tag_end];
        if tag.starts_with("<message ") || tag.starts_with("<message>") {
            return Kind::Message;
        }
        if !(tag.starts_with("<presence ") || tag.starts_with("<presence/")) {
            return Kind::Other;
        }
        let ty = ["type='", "type=\""].iter().find_map(|p| {
            let at = tag.find(p)? + p.len();
            let q = tag.as_bytes()[at - 1] as char;
            Some(&tag[at..at + tag[at..].find(q)?])
        });
        match ty {
            None => Kind::Available,
            Some("unavailable") => Kind::Unavailable,
            Some("subscribed") => Kind::Subscribed,
            Some(_) => Kind::OtherPresence,
        }
    }
}

#[derive(Default)]
struct Shared {
    stop: AtomicBool,
    closed: AtomicBool,
    counts: [AtomicU64; KINDS],
    /// The last stanza of each kind, for the report.
    last: Mutex<[Option<String>; KINDS]>,
}

pub struct ComponentListener {
    listener: TcpListener,
}

pub struct Component {
    writer: TcpStream,
    shared: Arc<Shared>,
    reader: Option<JoinHandle<()>>,
}

impl ComponentListener {
    pub fn bind() -> io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", COMPONENT_PORT))?;
        listener.set_nonblocking(true)?;
        Ok(Self { listener })
    }

    /// Waits for the xmpp module to connect and completes the XEP-0114 handshake; `alive`
    /// is polled meanwhile (Kamailio may have died).
    pub fn accept(
        self,
        timeout: Duration,
        mut alive: impl FnMut() -> io::Result<()>,
    ) -> io::Result<Component> {
        let deadline = Instant::now() + timeout;
        let mut stream = loop {
            match self.listener.accept() {
                Ok((s, _)) => break s,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    alive()?;
                    if Instant::now() > deadline {
                        return Err(io::Error::new(
                            io::ErrorKind::TimedOut,
                            "the xmpp module never connected to the component port",
                        ));
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(e) => return Err(e),
            }
        };
        stream.set_nonblocking(false)?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(Duration::from_millis(100)))?;
        let mut framer = Framer::new();
        let mut buf = vec![0u8; 65536];
        let mut pending: Vec<Frame> = Vec::new();
        let mut next_frame = |stream: &mut TcpStream| -> io::Result<Frame> {
            loop {
                if !pending.is_empty() {
                    return Ok(pending.remove(0));
                }
                if Instant::now() > deadline {
                    return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "XEP-0114 handshake did not complete",
                    ));
                }
                match stream.read(&mut buf) {
                    Ok(0) => return Err(io::Error::other("the xmpp module closed the link")),
                    Ok(n) => pending.extend(framer.push(&buf[..n]).map_err(io::Error::other)?),
                    Err(e) if is_timeout(&e) => {}
                    Err(e) => return Err(e),
                }
            }
        };
        match next_frame(&mut stream)? {
            Frame::StreamOpen(_) => {}
            other => {
                return Err(io::Error::other(format!(
                    "expected a stream header: {other:?}"
                )));
            }
        }
        stream.write_all(
            b"<?xml version='1.0'?><stream:stream xmlns:stream='http://etherx.jabber.org/streams' \
              xmlns='jabber:component:accept' from='sip-gw.xmpp.example' id='bench42'>",
        )?;
        match next_frame(&mut stream)? {
            Frame::Stanza(s) if s.starts_with("<handshake") => {}
            other => return Err(io::Error::other(format!("expected <handshake>: {other:?}"))),
        }
        stream.write_all(b"<handshake/>")?;
        let shared = Arc::new(Shared::default());
        let reader = {
            let mut stream = stream.try_clone()?;
            let shared = shared.clone();
            std::thread::Builder::new()
                .name("component".into())
                .spawn(move || {
                    for f in pending {
                        count(&shared, f);
                    }
                    read_loop(&mut stream, framer, &shared)
                })?
        };
        Ok(Component {
            writer: stream,
            shared,
            reader: Some(reader),
        })
    }
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

fn count(shared: &Shared, frame: Frame) {
    match frame {
        Frame::Stanza(s) => {
            let k = Kind::of(&s).index();
            shared.counts[k].fetch_add(1, Ordering::Relaxed);
            shared.last.lock().unwrap()[k] = Some(s);
        }
        Frame::StreamClose => shared.closed.store(true, Ordering::Relaxed),
        Frame::StreamOpen(_) => {}
    }
}

fn read_loop(stream: &mut TcpStream, mut framer: Framer, shared: &Shared) {
    let mut buf = vec![0u8; 1 << 16];
    while !shared.stop.load(Ordering::Relaxed) {
        match stream.read(&mut buf) {
            Ok(0) => {
                shared.closed.store(true, Ordering::Relaxed);
                return;
            }
            Ok(n) => match framer.push(&buf[..n]) {
                Ok(frames) => frames.into_iter().for_each(|f| count(shared, f)),
                Err(_) => {
                    shared.closed.store(true, Ordering::Relaxed);
                    return;
                }
            },
            Err(e) if is_timeout(&e) => {}
            Err(_) => {
                shared.closed.store(true, Ordering::Relaxed);
                return;
            }
        }
    }
}

impl Component {
    /// Stanzas of `kind` received so far.
    pub fn count(&self, kind: Kind) -> u64 {
        self.shared.counts[kind.index()].load(Ordering::Relaxed)
    }

    /// The last stanza of `kind` received.
    pub fn last(&self, kind: Kind) -> Option<String> {
        self.shared.last.lock().unwrap()[kind.index()].clone()
    }

    /// Stanzas of any kind received so far.
    pub fn total(&self) -> u64 {
        self.shared
            .counts
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .sum()
    }

    pub fn is_closed(&self) -> bool {
        self.shared.closed.load(Ordering::Relaxed)
    }

    /// Writes stanzas to the gateway.
    pub fn send(&mut self, data: &[u8]) -> io::Result<()> {
        self.writer.write_all(data)
    }

    /// Waits until `count(kind)` reaches `target`; false on timeout or a closed link.
    pub fn wait_count(&self, kind: Kind, target: u64, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while self.count(kind) < target {
            if Instant::now() > deadline || self.is_closed() {
                return false;
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        true
    }
}

impl Drop for Component {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        let _ = self.writer.shutdown(std::net::Shutdown::Both);
        if let Some(h) = self.reader.take() {
            let _ = h.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_from_start_tags() {
        assert_eq!(
            Kind::of("<presence from='a' to='b'><status>x</status></presence>"),
            Kind::Available
        );
        assert_eq!(
            Kind::of("<presence to=\"b\" type=\"unavailable\"/>"),
            Kind::Unavailable
        );
        assert_eq!(
            Kind::of("<presence type='subscribed' from='a'/>"),
            Kind::Subscribed
        );
        assert_eq!(
            Kind::of("<presence type='error'><error/></presence>"),
            Kind::OtherPresence
        );
        assert_eq!(Kind::of("<message to='x'/>"), Kind::Message);
        assert_eq!(Kind::of("<iq type='get'/>"), Kind::Other);
        assert_eq!(Kind::of("<presence/>"), Kind::Available);
    }
}
