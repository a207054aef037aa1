//! The XMPP Manager's tick against a FAKE host and a fake XEP-0114 server on loopback (in this
//! thread, between ticks): what the API and `xmpp_send_message()` queue reaches the server as
//! the exact stanzas, server stanzas reach the callbacks (newest first) or tm's `t_uac_send`,
//! unhandled IQs are answered, and a dropped link refuses sends until it is back.

mod fake_host;

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use fake_host::*;
use kamailio_module::sys::*;
use xmpp_component_link::handshake::{handshake_element, stream_header};

const DOMAIN: &str = "gw.xmpp";
const SECRET: &str = "s3cret";
const LIMIT: Duration = Duration::from_secs(10);

/// The module, initialised against a listener on loopback, its manager "forked".
fn start() -> (Module, TcpListener) {
    with_host(|h| *h = Host::default());
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let m = Module::load();
    m.set_str("xmpp_host", "127.0.0.1");
    m.set_int("xmpp_port", listener.local_addr().unwrap().port() as isize);
    m.set_str("xmpp_domain", DOMAIN);
    m.set_str("gateway_domain", "gw.sip");
    m.set_str("xmpp_password", SECRET);
    m.set_str("outbound_proxy", "sip:proxy.example:5070");
    assert_eq!(m.mod_init(), 0, "{}", log_text());
    (m, listener)
}

/// One server-side connection.
struct Conn {
    s: TcpStream,
    data: Vec<u8>,
}

fn accept(m: &Module, listener: &TcpListener) -> Conn {
    let end = Instant::now() + LIMIT;
    loop {
        m.tick();
        match listener.accept() {
            Ok((s, _)) => {
                s.set_nonblocking(true).unwrap();
                return Conn {
                    s,
                    data: Vec::new(),
                };
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            Err(e) => panic!("accept: {e}"),
        }
        assert!(Instant::now() < end, "the module never connected");
    }
}

impl Conn {
    /// Ticks the module until the server has read `needle`; returns everything up to it.
    fn read_until(&mut self, m: &Module, needle: &str) -> String {
        let end = Instant::now() + LIMIT;
        let mut buf = [0; 4096];
        loop {
            if let Some(i) = self
                .data
                .windows(needle.len())
                .position(|w| w == needle.as_bytes())
            {
                let rest = self.data.split_off(i + needle.len());
                let got = std::mem::replace(&mut self.data, rest);
                return String::from_utf8(got).unwrap();
            }
            assert!(
                Instant::now() < end,
                "never got {needle:?}: {:?}",
                String::from_utf8_lossy(&self.data)
            );
            m.tick();
            match self.s.read(&mut buf) {
                Ok(0) => panic!("EOF before {needle:?}"),
                Ok(n) => self.data.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(e) => panic!("read: {e}"),
            }
        }
    }

    fn send(&mut self, text: &str) {
        self.s.write_all(text.as_bytes()).unwrap();
    }

    /// The server side of the handshake, then ticks until the module says the link is up.
    fn handshake(&mut self, m: &Module, id: &str) {
        let ups = || log_text().matches("XMPP link up").count();
        let before = ups();
        assert_eq!(
            self.read_until(m, &format!("to='{DOMAIN}'>")),
            stream_header(DOMAIN)
        );
        self.send(&format!(
            "<stream:stream xmlns:stream='http://etherx.jabber.org/streams' \
             xmlns='jabber:component:accept' from='{DOMAIN}' id='{id}'>"
        ));
        assert_eq!(
            self.read_until(m, "</handshake>"),
            handshake_element(id, SECRET)
        );
        self.send("<handshake/>");
        tick_until(m, || ups() > before);
    }
}

fn tick_until(m: &Module, cond: impl Fn() -> bool) {
    let end = Instant::now() + LIMIT;
    while !cond() {
        assert!(Instant::now() < end, "timed out: {}", log_text());
        m.tick();
    }
}

#[test]
fn api_and_script_sends_reach_the_server_as_stanzas() {
    let (m, listener) = start();
    assert_eq!(m.child_init(PROC_MAIN), 0);
    let mut conn = accept(&m, &listener);
    conn.handshake(&m, "id-1");
    let api = m.bind();
    let a = &api.0;
    let presence = "<presence from='alice*sip.example@gw.xmpp' to='bob@x.example'/>";
    assert_eq!(
        api.call_send(
            a.xnotify.unwrap(),
            Some("f"),
            Some("t"),
            Some(presence),
            Some("")
        ),
        0
    );
    assert_eq!(
        api.call_send(
            a.xmessage.unwrap(),
            Some("sip:alice@sip.example"),
            Some("sip:bob*x.example@gw.sip"),
            Some("a < b"),
            Some("tag1"),
        ),
        0
    );
    // Not one well-formed stanza: refused at once, never written to the stream.
    assert_eq!(
        api.call_send(
            a.xpacket.unwrap(),
            Some("f"),
            Some("t"),
            Some("<a><b></a>"),
            Some("")
        ),
        -1
    );
    let mut msg = FakeMsg {
        raw: b"MESSAGE sip:bob*x.example@gw.sip SIP/2.0\r\n\
               From: <sip:carol@sip.example>;tag=ct\r\nTo: <sip:bob*x.example@gw.sip>\r\n\
               Content-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello"
            .to_vec(),
        // Rewritten by the script: the destination C takes first.
        ruri: b"sip:dave*y.example@gw.sip".to_vec(),
    };
    assert_eq!(m.send_message(&mut msg), 1, "{}", log_text());
    assert_eq!(conn.read_until(&m, "/>"), presence);
    assert_eq!(
        conn.read_until(&m, "</message>"),
        "<message id='tag1' from='alice*sip.example@gw.xmpp' to='bob@x.example' \
         type='chat'><body>a &lt; b</body></message>"
    );
    assert_eq!(
        conn.read_until(&m, "</message>"),
        "<message id='ct' from='carol*sip.example@gw.xmpp' to='dave@y.example' \
         type='chat'><body>hello</body></message>"
    );
    assert!(log_text().contains("xpacket (not a single well-formed stanza"));
}

#[test]
fn server_stanzas_reach_callbacks_tm_or_get_an_error_reply() {
    let (m, listener) = start();
    let api = m.bind();
    let register = api.0.register_callback.unwrap();
    for (types, f) in [
        (XMPP_RCV_PRESENCE, callback_one as XmppCallback),
        (XMPP_RCV_PRESENCE, callback_two),
        (XMPP_RCV_MESSAGE, callback_three),
    ] {
        assert_eq!(unsafe { register(types, f, std::ptr::null_mut()) }, 1);
    }
    assert_eq!(m.child_init(PROC_MAIN), 0);
    let mut conn = accept(&m, &listener);
    conn.handshake(&m, "id-2");

    let presence = "<presence from='bob@x.example/r' to='alice*sip.example@gw.xmpp'><show>dnd</show></presence>";
    conn.send(presence);
    tick_until(&m, || with_host(|h| h.callback_calls.len() == 2));
    let calls = with_host(|h| std::mem::take(&mut h.callback_calls));
    assert_eq!(
        calls,
        [
            (2, XMPP_RCV_PRESENCE, presence.to_string()),
            (1, XMPP_RCV_PRESENCE, presence.to_string()),
        ]
    );

    conn.send(
        "<message from='bob@x.example/r' to='alice*sip.example@gw.xmpp' type='chat'>\
         <body>hi &amp; bye</body></message>",
    );
    tick_until(&m, || with_host(|h| !h.uac_sent.is_empty()));
    let sent = with_host(|h| h.uac_sent[0].clone());
    assert_eq!(
        sent,
        UacSent {
            method: "MESSAGE".into(),
            ruri: "sip:alice@sip.example".into(),
            next_hop: "sip:proxy.example:5070".into(),
            send_socket: "".into(),
            headers: "From: <sip:bob*x.example@gw.sip>\r\nTo: <sip:alice@sip.example>\r\n\
                      Contact: <sip:bob*x.example@gw.sip>\r\n\
                      Content-Type: text/plain; charset=UTF-8\r\n"
                .into(),
            body: "hi & bye".into(),
        }
    );
    // Message callbacks are never run, as in C.
    assert!(with_host(|h| h.callback_calls.is_empty()));

    conn.send("<iq type='get' id='q1' from='bob@x.example/r' to='gw.xmpp'><ping xmlns='urn:xmpp:ping'/></iq>");
    assert_eq!(
        conn.read_until(&m, "</iq>"),
        "<iq type='error' from='gw.xmpp' to='bob@x.example/r' id='q1'><error type='cancel'>\
         <service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"
    );
}

#[test]
fn a_dropped_link_refuses_sends_until_it_is_back() {
    let (m, listener) = start();
    assert_eq!(m.child_init(PROC_MAIN), 0);
    let mut conn = accept(&m, &listener);
    conn.handshake(&m, "id-3");
    let api = m.bind();
    let xpacket = api.0.xpacket.unwrap();
    let stanza = "<presence from='a*b@gw.xmpp' to='c@d'/>";
    assert_eq!(
        api.call_send(xpacket, Some(""), Some(""), Some(stanza), Some("")),
        0
    );
    assert_eq!(conn.read_until(&m, "/>"), stanza);

    drop(conn);
    tick_until(&m, || log_text().contains("XMPP link to 127.0.0.1"));
    assert!(log_text().contains("lost: connection closed by the server"));
    for _ in 0..3 {
        assert_eq!(
            api.call_send(xpacket, Some(""), Some(""), Some(stanza), Some("")),
            -1
        );
    }
    // The backoff's first delay is about a second: no reconnection before it.
    let started = Instant::now();
    let mut conn = accept(&m, &listener);
    assert!(
        started.elapsed() >= Duration::from_millis(700),
        "{:?}",
        started.elapsed()
    );
    conn.handshake(&m, "id-4");
    assert!(
        log_text().contains("while it was down 3 stanzas were refused to SIP workers"),
        "{}",
        log_text()
    );
    assert_eq!(
        api.call_send(xpacket, Some(""), Some(""), Some(stanza), Some("")),
        0
    );
    assert_eq!(conn.read_until(&m, "/>"), stanza);
}
