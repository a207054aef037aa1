//! The sans-IO component state machine, driven with an explicit clock.

use xmpp_component_link::QueueLimits;
use xmpp_component_link::close_reason::CloseReason;
use xmpp_component_link::component::{Component, ComponentConfig, Event, QueueFull, State};
use xmpp_component_link::framer::FramerError;
use xmpp_component_link::handshake::{handshake_element, stream_header};

const SERVER_HEADER: &str = "<?xml version='1.0'?><stream:stream xmlns:stream='http://etherx.jabber.org/streams' xmlns='jabber:component:accept' from='gw.example' id='sid-1'>";
const NOT_AUTHORIZED: &str = "<stream:error><not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-streams'/><text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>bad secret</text></stream:error></stream:stream>";

fn config() -> ComponentConfig {
    ComponentConfig::new("gw.example", "s3cret")
}

/// Takes all pending output, as a socket that accepts everything would.
fn drain(c: &mut Component, now: u64) -> String {
    let mut all = Vec::new();
    loop {
        let out = c.output().to_vec();
        if out.is_empty() {
            break;
        }
        c.written(now, out.len());
        all.extend(out);
    }
    String::from_utf8(all).unwrap()
}

fn events(c: &mut Component) -> Vec<Event> {
    std::iter::from_fn(|| c.poll_event()).collect()
}

/// Connects and completes the handshake at time `now`.
fn authenticate(c: &mut Component, now: u64) {
    assert!(c.should_connect(now));
    c.connecting(now);
    c.connected(now);
    assert_eq!(drain(c, now), stream_header("gw.example"));
    c.receive(now, SERVER_HEADER.as_bytes());
    assert_eq!(drain(c, now), handshake_element("sid-1", "s3cret"));
    c.receive(now, b"<handshake/>");
    assert_eq!(c.state(), State::Authenticated);
}

fn closed(ev: &[Event]) -> (&CloseReason, u64, &str) {
    match ev.last() {
        Some(Event::Closed {
            reason,
            retry_in_ms,
            farewell,
        }) => (reason, *retry_in_ms, farewell.as_str()),
        other => panic!("not closed: {other:?}"),
    }
}

#[test]
fn handshake_then_stanzas_flow_both_ways() {
    let mut c = Component::new(config());
    assert_eq!(c.state(), State::Disconnected);
    assert!(c.should_connect(0));
    c.connecting(0);
    assert_eq!(c.state(), State::Connecting);
    assert_eq!(c.output(), b"");
    c.connected(3);
    assert_eq!(c.state(), State::StreamOpening);
    c.submit(4, "<presence from='a' to='b'/>".into()).unwrap();
    assert_eq!(
        drain(&mut c, 5),
        "<?xml version='1.0'?><stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams' to='gw.example'>"
    );
    c.receive(6, SERVER_HEADER.as_bytes());
    assert_eq!(c.state(), State::Handshaking);
    // Hex SHA-1 of "sid-1s3cret" (Python hashlib).
    assert_eq!(
        drain(&mut c, 7),
        "<handshake>195ec7b0e5c9f8d3aef4546247eb94be16ee838c</handshake>"
    );
    c.submit(8, "<presence from='a' to='c'/>".into()).unwrap();
    assert_eq!(drain(&mut c, 8), "", "nothing before <handshake/>");
    assert!(events(&mut c).is_empty());

    c.receive(
        9,
        b"<handshake/><message from='x@y' to='a*b@gw.example'><body>hi</body></message>",
    );
    let ev = events(&mut c);
    assert_eq!(
        ev[0],
        Event::Authenticated {
            stream_id: "sid-1".into()
        }
    );
    let Event::Stanza(s) = &ev[1] else {
        panic!("{ev:?}")
    };
    assert_eq!(s.name(), "message");
    assert_eq!(
        drain(&mut c, 10),
        "<presence from='a' to='b'/><presence from='a' to='c'/>"
    );
    let stats = *c.stats();
    assert_eq!(
        (stats.sent, stats.received, stats.authentications),
        (2, 1, 1)
    );
    c.submit(11, "<message/>".into()).unwrap();
    assert_eq!(drain(&mut c, 11), "<message/>");
}

#[test]
fn stanzas_before_the_handshake_are_ignored() {
    let mut c = Component::new(config());
    c.connecting(0);
    c.connected(0);
    c.receive(0, SERVER_HEADER.as_bytes());
    c.receive(
        0,
        b"<message from='a' to='b'><body>early</body></message><stream:features/>",
    );
    assert!(events(&mut c).is_empty());
    assert_eq!(c.stats().ignored_before_auth, 2);
    assert_eq!(c.state(), State::Handshaking);
}

#[test]
fn wrong_secret_backs_off_and_never_loops() {
    let mut c = Component::new(config());
    let mut now = 0;
    let mut delays = Vec::new();
    for _ in 0..9 {
        assert!(c.should_connect(now));
        c.connecting(now);
        c.connected(now);
        c.receive(now, SERVER_HEADER.as_bytes());
        drain(&mut c, now);
        c.receive(now + 1, NOT_AUTHORIZED.as_bytes());
        let ev = events(&mut c);
        let (reason, retry, farewell) = closed(&ev);
        assert!(reason.is_auth_failure(), "{reason}");
        assert_eq!(
            reason.to_string(),
            "stream error <not-authorized/>: bad secret"
        );
        assert_eq!(farewell, "</stream:stream>");
        assert!(!c.should_connect(now + retry));
        now += 1 + retry;
        delays.push(retry);
    }
    assert_eq!(
        delays,
        [1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000]
    );
    assert_eq!(c.stats().reconnects, 8);
}

#[test]
fn a_long_session_resets_the_backoff_a_short_one_does_not() {
    let mut c = Component::new(config());
    authenticate(&mut c, 0);
    c.eof(5_000);
    assert_eq!(closed(&events(&mut c)).1, 1000);
    authenticate(&mut c, 6_000);
    c.receive(
        6_001,
        b"<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>",
    );
    assert_eq!(closed(&events(&mut c)).1, 2000);
    authenticate(&mut c, 10_000);
    c.eof(70_000);
    assert_eq!(closed(&events(&mut c)).1, 1000);
}

#[test]
fn timeouts() {
    let mut c = Component::new(config());
    c.connecting(100);
    assert_eq!(c.next_deadline(), Some(10_100));
    c.tick(10_099);
    assert_eq!(c.state(), State::Connecting);
    c.tick(10_100);
    let ev = events(&mut c);
    assert_eq!(closed(&ev), (&CloseReason::ConnectTimeout, 1000, ""));
    assert_eq!(c.next_deadline(), Some(11_100));

    c.connecting(11_100);
    c.connected(11_200);
    c.receive(11_300, SERVER_HEADER.as_bytes());
    assert_eq!(c.next_deadline(), Some(21_200));
    c.tick(21_200);
    let ev = events(&mut c);
    let (reason, retry, farewell) = closed(&ev);
    assert_eq!((reason, retry), (&CloseReason::HandshakeTimeout, 2000));
    assert!(farewell.contains("<connection-timeout "), "{farewell}");
}

#[test]
fn whitespace_keepalive_after_idle_interval() {
    let mut c = Component::new(config());
    authenticate(&mut c, 1_000);
    assert_eq!(c.next_deadline(), Some(61_000));
    c.tick(60_999);
    assert_eq!(c.output(), b"");
    c.tick(61_000);
    assert_eq!(drain(&mut c, 61_000), " ");
    assert_eq!(c.next_deadline(), Some(121_000));
    // Traffic postpones it.
    c.submit(100_000, "<presence/>".into()).unwrap();
    drain(&mut c, 100_000);
    c.tick(121_000);
    assert_eq!(c.output(), b"");
    // Keepalives are not stanzas.
    assert_eq!(c.stats().sent, 1);
}

#[test]
fn queue_cap_refuses_with_a_count_and_survives_reconnects() {
    let mut cfg = config();
    cfg.queue = QueueLimits {
        max_stanzas: 2,
        max_bytes: 1 << 20,
        max_age_ms: 0,
    };
    let mut c = Component::new(cfg);
    c.submit(0, "<a/>".into()).unwrap();
    c.submit(0, "<b/>".into()).unwrap();
    assert_eq!(
        c.submit(0, "<c/>".into()),
        Err(QueueFull {
            dropped_queue_full: 1
        })
    );
    assert_eq!(
        c.submit(0, "<d/>".into()),
        Err(QueueFull {
            dropped_queue_full: 2
        })
    );
    // Authenticate, write one byte of <a/>, lose the link: <a/> is lost, <b/> waits.
    authenticate(&mut c, 0);
    assert_eq!(c.output(), b"<a/>");
    c.written(1, 1);
    c.io_error(2, "reset");
    let ev = events(&mut c);
    let (reason, _, farewell) = closed(&ev);
    assert_eq!(reason, &CloseReason::Io("reset".into()));
    assert_eq!(farewell, "");
    assert_eq!(c.stats().dropped_link_down, 1);
    assert_eq!(c.queued(), 1);
    authenticate(&mut c, 5_000);
    assert_eq!(drain(&mut c, 5_000), "<b/>");
}

#[test]
fn stale_stanzas_expire_while_the_link_is_down() {
    let mut cfg = config();
    cfg.queue.max_age_ms = 1_000;
    let mut c = Component::new(cfg);
    c.submit(0, "<a/>".into()).unwrap();
    c.submit(500, "<b/>".into()).unwrap();
    c.connecting(0);
    c.connect_failed(0, "refused");
    assert_eq!(c.next_deadline(), Some(1_000));
    c.tick(1_001);
    assert_eq!((c.queued(), c.stats().dropped_link_down), (1, 1));
    c.connecting(1_001);
    // Connect timeout at 11_001, <b/> expires first.
    assert_eq!(c.next_deadline(), Some(1_501));
}

#[test]
fn bad_xml_from_the_server_closes_with_a_stream_error() {
    let mut c = Component::new(config());
    authenticate(&mut c, 0);
    c.receive(1, b"<!DOCTYPE x [<!ENTITY a 'b'>]>");
    let ev = events(&mut c);
    let (reason, _, farewell) = closed(&ev);
    assert_eq!(reason, &CloseReason::Protocol(FramerError::RestrictedXml));
    assert_eq!(
        farewell,
        "<stream:error><restricted-xml xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>"
    );
    // The next connection starts with a fresh framer.
    authenticate(&mut c, 2_000);
}

#[test]
fn server_header_problems() {
    let mut c = Component::new(config());
    c.connecting(0);
    c.connected(0);
    c.receive(0, b"<stream:stream xmlns:stream='http://etherx.jabber.org/streams' xmlns='jabber:component:accept'>");
    assert_eq!(closed(&events(&mut c)).0, &CloseReason::MissingStreamId);

    c.connecting(5_000);
    c.connected(5_000);
    c.receive(5_000, b"<stream:stream xmlns:stream='http://etherx.jabber.org/streams' xmlns='jabber:client' id='1'>");
    let ev = events(&mut c);
    let (reason, _, farewell) = closed(&ev);
    assert_eq!(
        reason,
        &CloseReason::NotComponentStream("jabber:client".into())
    );
    assert!(farewell.contains("invalid-namespace"));
}

#[test]
fn server_ends_stream_and_connect_failure() {
    let mut c = Component::new(config());
    authenticate(&mut c, 0);
    c.receive(1, b"</stream:stream>");
    let ev = events(&mut c);
    assert_eq!(
        closed(&ev),
        (&CloseReason::StreamClosed, 1000, "</stream:stream>")
    );
    c.connecting(1_001);
    c.connect_failed(1_002, "refused");
    let ev = events(&mut c);
    assert_eq!(
        closed(&ev),
        (&CloseReason::ConnectFailed("refused".into()), 2000, "")
    );
    // Calls that do not fit the state are ignored.
    c.connected(1_003);
    c.receive(1_003, b"junk");
    c.eof(1_003);
    assert_eq!(c.state(), State::Disconnected);
    assert!(events(&mut c).is_empty());
}

#[test]
fn handshake_accepted_when_the_server_leaves_out_the_default_namespace() {
    let mut c = Component::new(config());
    c.connecting(0);
    c.connected(0);
    c.receive(
        0,
        b"<stream:stream xmlns:stream='http://etherx.jabber.org/streams' id='i'><handshake/>",
    );
    assert_eq!(c.state(), State::Authenticated);
}

proptest::proptest! {
    #[test]
    fn any_chunking_of_server_bytes_gives_the_same_events(
        mut cuts in proptest::collection::vec(0usize..400, 0..20),
    ) {
        let server = format!(
            "{SERVER_HEADER}<handshake/> <message from='a' to='b'><body>ü</body></message>\
             <presence from='c'/>{NOT_AUTHORIZED}"
        );
        let run = |chunks: Vec<&[u8]>| {
            let mut c = Component::new(config());
            c.connecting(0);
            c.connected(0);
            for chunk in chunks {
                c.receive(1, chunk);
            }
            (events(&mut c), drain(&mut c, 2))
        };
        let data = server.as_bytes();
        let whole = run(vec![data]);
        proptest::prop_assert_eq!(whole.0.len(), 4);
        for c in &mut cuts {
            *c %= data.len() + 1;
        }
        cuts.sort_unstable();
        let mut chunks = Vec::new();
        let mut last = 0;
        for c in cuts {
            chunks.push(&data[last..c]);
            last = c;
        }
        chunks.push(&data[last..]);
        proptest::prop_assert_eq!(run(chunks), whole);
    }
}
