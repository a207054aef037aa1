//! The TCP driver against a fake XEP-0114 server running in a thread on loopback.

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use xmpp_component_link::backoff::BackoffPolicy;
use xmpp_component_link::close_reason::CloseReason;
use xmpp_component_link::component::{ComponentConfig, Event, State};
use xmpp_component_link::framer::{FramerError, FramerLimits};
use xmpp_component_link::handshake::{handshake_element, stream_header};
use xmpp_component_link::link::{Link, LinkConfig};

const DOMAIN: &str = "comp.test";
const SECRET: &str = "pw";
const LIMIT: Duration = Duration::from_secs(10);

fn server_header(id: &str) -> String {
    format!(
        "<?xml version='1.0'?><stream:stream xmlns:stream='http://etherx.jabber.org/streams' xmlns='jabber:component:accept' from='{DOMAIN}' id='{id}'>"
    )
}

fn link(host: &str, port: u16, tweak: impl FnOnce(&mut ComponentConfig)) -> Link {
    let mut component = ComponentConfig::new(DOMAIN, SECRET);
    component.backoff = BackoffPolicy {
        initial_ms: 50,
        max_ms: 400,
        stable_after_ms: 60_000,
        jitter_percent: 0,
    };
    component.handshake_timeout_ms = 3_000;
    component.keepalive_interval_ms = 0;
    tweak(&mut component);
    Link::new(LinkConfig {
        host: host.into(),
        port,
        component,
    })
}

fn listener() -> (TcpListener, u16) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    (l, port)
}

/// Accepts one connection, or `None` after `within`.
fn accept(listener: &TcpListener, within: Duration) -> Option<TcpStream> {
    listener.set_nonblocking(true).unwrap();
    let end = Instant::now() + within;
    while Instant::now() < end {
        match listener.accept() {
            Ok((s, _)) => {
                s.set_nonblocking(false).unwrap();
                s.set_read_timeout(Some(Duration::from_millis(20))).unwrap();
                return Some(s);
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => thread::sleep(Duration::from_millis(2)),
            Err(e) => panic!("accept: {e}"),
        }
    }
    None
}

/// Reads until the data ends with `needle` (panics after LIMIT or on EOF before it).
fn read_until(s: &mut TcpStream, needle: &str) -> String {
    let end = Instant::now() + LIMIT;
    let mut data = Vec::new();
    let mut buf = [0; 4096];
    while !data.ends_with(needle.as_bytes()) {
        assert!(
            Instant::now() < end,
            "timed out waiting for {needle:?}, got {data:?}"
        );
        match s.read(&mut buf) {
            Ok(0) => panic!(
                "EOF waiting for {needle:?}, got {:?}",
                String::from_utf8_lossy(&data)
            ),
            Ok(n) => data.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) => panic!("read: {e}"),
        }
    }
    String::from_utf8(data).unwrap()
}

/// Reads whatever arrives during `window`.
fn read_for(s: &mut TcpStream, window: Duration) -> Vec<u8> {
    let end = Instant::now() + window;
    let mut data = Vec::new();
    let mut buf = [0; 4096];
    while Instant::now() < end {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => data.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) => panic!("read: {e}"),
        }
    }
    data
}

/// The server side of a successful handshake with stream id `id`.
fn handshake(s: &mut TcpStream, id: &str) {
    assert_eq!(
        read_until(s, &format!("to='{DOMAIN}'>")),
        stream_header(DOMAIN)
    );
    s.write_all(server_header(id).as_bytes()).unwrap();
    assert_eq!(read_until(s, "</handshake>"), handshake_element(id, SECRET));
    s.write_all(b"<handshake/>").unwrap();
}

/// Drives the link until `done` holds for the events so far (panics after LIMIT).
fn drive_until(link: &mut Link, mut done: impl FnMut(&[Event]) -> bool) -> Vec<Event> {
    let end = Instant::now() + LIMIT;
    let mut events = Vec::new();
    loop {
        link.drive();
        events.extend(std::iter::from_fn(|| link.poll_event()));
        if done(&events) {
            return events;
        }
        assert!(Instant::now() < end, "timed out; events so far: {events:?}");
        thread::sleep(Duration::from_millis(2));
    }
}

fn stanza_texts(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Stanza(s) => Some(s.as_str().to_owned()),
            _ => None,
        })
        .collect()
}

fn closes(events: &[Event]) -> Vec<&CloseReason> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Closed { reason, .. } => Some(reason),
            _ => None,
        })
        .collect()
}

#[test]
fn handshake_accepted_nothing_before_it_split_and_coalesced_reads() {
    let (listener, port) = listener();
    let server = thread::spawn(move || {
        let mut s = accept(&listener, LIMIT).expect("no connection");
        assert_eq!(
            read_until(&mut s, &format!("to='{DOMAIN}'>")),
            stream_header(DOMAIN)
        );
        // Header in three writes.
        let header = server_header("srv1");
        for part in [&header[..10], &header[10..50], &header[50..]] {
            s.write_all(part.as_bytes()).unwrap();
            thread::sleep(Duration::from_millis(15));
        }
        assert_eq!(
            read_until(&mut s, "</handshake>"),
            handshake_element("srv1", SECRET)
        );
        // The client has stanzas queued: none may come before <handshake/>.
        assert_eq!(read_for(&mut s, Duration::from_millis(200)), b"");
        s.write_all(b"<handshake/>").unwrap();
        let flushed = read_until(&mut s, "<presence id='q2'/>");
        // A stanza byte by byte, multibyte characters split.
        let msg =
            "<message from='jü@x.org/r' to='a*b.org@comp.test'><body>grüße 😀</body></message>";
        for b in msg.as_bytes() {
            s.write_all(&[*b]).unwrap();
            s.flush().unwrap();
        }
        thread::sleep(Duration::from_millis(20));
        // Two stanzas, a keepalive and the stream end in one write.
        s.write_all(
            b"<presence from='a@b'/> \n<iq type='result' id='1' from='a' to='b'/></stream:stream>",
        )
        .unwrap();
        let farewell = read_until(&mut s, "</stream:stream>");
        (flushed, farewell)
    });

    let mut link = link("127.0.0.1", port, |_| {});
    link.send("<presence id='q1'/>".into()).unwrap();
    link.send("<presence id='q2'/>".into()).unwrap();
    let events = drive_until(&mut link, |ev| !closes(ev).is_empty());
    assert!(matches!(&events[0], Event::Authenticated { stream_id } if stream_id == "srv1"));
    assert_eq!(
        stanza_texts(&events),
        [
            "<message from='jü@x.org/r' to='a*b.org@comp.test'><body>grüße 😀</body></message>",
            "<presence from='a@b'/>",
            "<iq type='result' id='1' from='a' to='b'/>",
        ]
    );
    assert_eq!(closes(&events), [&CloseReason::StreamClosed]);
    let (flushed, farewell) = server.join().unwrap();
    assert_eq!(flushed, "<presence id='q1'/><presence id='q2'/>");
    assert_eq!(farewell, "</stream:stream>");
    let stats = *link.stats();
    assert_eq!(
        (stats.sent, stats.received, stats.authentications),
        (2, 3, 1)
    );
    assert_eq!(link.state(), State::Disconnected);
    assert_eq!(link.raw_fd(), None);
}

#[test]
fn wrong_secret_backs_off_instead_of_looping() {
    let (listener, port) = listener();
    let run_for = Duration::from_millis(1_500);
    let server = thread::spawn(move || {
        let start = Instant::now();
        let mut accepted = Vec::new();
        while let Some(mut s) = accept(&listener, run_for.saturating_sub(start.elapsed())) {
            accepted.push(start.elapsed());
            read_until(&mut s, &format!("to='{DOMAIN}'>"));
            s.write_all(server_header("x").as_bytes()).unwrap();
            read_until(&mut s, "</handshake>");
            s.write_all(b"<stream:error><not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>")
                .unwrap();
        }
        accepted
    });
    let mut link = link("127.0.0.1", port, |c| {
        c.backoff.initial_ms = 100;
    });
    let start = Instant::now();
    let mut events = Vec::new();
    while start.elapsed() < run_for {
        link.drive();
        events.extend(std::iter::from_fn(|| link.poll_event()));
        thread::sleep(Duration::from_millis(2));
    }
    let accepted = server.join().unwrap();
    // Attempts at about 0, 0.1, 0.3, 0.7, 1.1 s: a handful, not hundreds.
    assert!((3..=7).contains(&accepted.len()), "{accepted:?}");
    for pair in accepted.windows(2) {
        assert!(
            pair[1] - pair[0] >= Duration::from_millis(90),
            "{accepted:?}"
        );
    }
    let reasons = closes(&events);
    assert!(!reasons.is_empty());
    assert!(reasons.iter().all(|r| r.is_auth_failure()), "{reasons:?}");
    let retries: Vec<u64> = events
        .iter()
        .filter_map(|e| match e {
            Event::Closed { retry_in_ms, .. } => Some(*retry_in_ms),
            _ => None,
        })
        .collect();
    assert_eq!(retries[..3], [100, 200, 400]);
}

#[test]
fn disconnect_mid_stanza_then_reconnect() {
    let (listener, port) = listener();
    let server = thread::spawn(move || {
        let mut s = accept(&listener, LIMIT).unwrap();
        handshake(&mut s, "one");
        s.write_all(b"<message from='a' to='b'><bo").unwrap();
        drop(s);
        let mut s = accept(&listener, LIMIT).unwrap();
        handshake(&mut s, "two");
        s.write_all(b"<message from='a' to='b'><body>again</body></message>")
            .unwrap();
        read_for(&mut s, Duration::from_millis(100));
    });
    let mut link = link("127.0.0.1", port, |_| {});
    let events = drive_until(&mut link, |ev| !stanza_texts(ev).is_empty());
    server.join().unwrap();
    assert_eq!(closes(&events), [&CloseReason::Eof]);
    assert_eq!(
        stanza_texts(&events),
        ["<message from='a' to='b'><body>again</body></message>"]
    );
    assert_eq!(link.stats().reconnects, 1);
    assert_eq!(link.stats().authentications, 2);
}

#[test]
fn oversized_stanza_gets_a_policy_violation() {
    let (listener, port) = listener();
    let server = thread::spawn(move || {
        let mut s = accept(&listener, LIMIT).unwrap();
        handshake(&mut s, "big");
        let body = "x".repeat(4096);
        // The client may close before reading it all.
        let _ = s.write_all(format!("<message><body>{body}</body></message>").as_bytes());
        read_until(&mut s, "</stream:stream>")
    });
    let mut link = link("127.0.0.1", port, |c| {
        c.limits = FramerLimits {
            max_stanza_bytes: 1024,
            max_depth: 8,
        };
    });
    let events = drive_until(&mut link, |ev| !closes(ev).is_empty());
    assert_eq!(
        closes(&events),
        [&CloseReason::Protocol(FramerError::StanzaTooLarge {
            limit: 1024
        })]
    );
    assert_eq!(
        server.join().unwrap(),
        "<stream:error><policy-violation xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>"
    );
}

#[test]
fn whitespace_keepalive_by_host_name() {
    let (listener, port) = listener();
    let server = thread::spawn(move || {
        let mut s = accept(&listener, LIMIT).unwrap();
        handshake(&mut s, "ka");
        read_for(&mut s, Duration::from_millis(450))
    });
    // "localhost" may resolve to ::1 first, where nothing listens: the next address is tried.
    let mut link = link("localhost", port, |c| c.keepalive_interval_ms = 100);
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(600) {
        link.drive();
        thread::sleep(Duration::from_millis(5));
    }
    let idle = server.join().unwrap();
    assert!(
        idle.len() >= 2 && idle.iter().all(|&b| b == b' '),
        "{idle:?}"
    );
    assert_eq!(link.stats().sent, 0);
}

#[test]
fn ipv6_loopback_literal() {
    let Ok(listener) = TcpListener::bind("[::1]:0") else {
        eprintln!("no IPv6 loopback here; skipped");
        return;
    };
    let port = listener.local_addr().unwrap().port();
    let server = thread::spawn(move || {
        let mut s = accept(&listener, LIMIT).unwrap();
        handshake(&mut s, "v6");
        read_for(&mut s, Duration::from_millis(50));
    });
    let mut link = link("[::1]", port, |_| {});
    let events = drive_until(&mut link, |ev| {
        ev.iter().any(|e| matches!(e, Event::Authenticated { .. }))
    });
    assert!(closes(&events).is_empty());
    server.join().unwrap();
}

#[test]
fn refused_connections_back_off() {
    let port = {
        let (l, port) = listener();
        drop(l);
        port
    };
    let mut link = link("127.0.0.1", port, |_| {});
    let events = drive_until(&mut link, |ev| closes(ev).len() >= 3);
    let retries: Vec<u64> = events
        .iter()
        .filter_map(|e| match e {
            Event::Closed {
                reason: CloseReason::ConnectFailed(_),
                retry_in_ms,
                ..
            } => Some(*retry_in_ms),
            _ => None,
        })
        .collect();
    assert_eq!(retries, [50, 100, 200]);
    assert!(link.timeout().is_some());
}

#[test]
fn handshake_timeout_when_the_server_stays_silent() {
    let (listener, port) = listener();
    let server = thread::spawn(move || {
        let mut s = accept(&listener, LIMIT).unwrap();
        read_until(&mut s, &format!("to='{DOMAIN}'>"));
        read_until(&mut s, "</stream:stream>")
    });
    let mut link = link("127.0.0.1", port, |c| c.handshake_timeout_ms = 200);
    let events = drive_until(&mut link, |ev| !closes(ev).is_empty());
    assert_eq!(closes(&events), [&CloseReason::HandshakeTimeout]);
    assert!(server.join().unwrap().contains("<connection-timeout "));
}
