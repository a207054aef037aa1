//! The manager's building blocks called directly (the crate as an rlib, no host): inbound
//! dispatch runs callbacks newest first, and IPC datagrams carry stanzas unchanged.

use std::ffi::{CStr, c_char, c_int, c_void};
use std::sync::Mutex;

use kamailio_module::sys::{XMPP_RCV_IQ, XMPP_RCV_MESSAGE, XMPP_RCV_PRESENCE};
use xmpp::inbound::{Outcome, dispatch};
use xmpp::ipc::{Ipc, MAX_DATAGRAM, Received};

/// (callback, type, stanza, param) of each call.
static CALLS: Mutex<Vec<(&str, c_int, String, usize)>> = Mutex::new(Vec::new());

fn record(name: &'static str, msg: *mut c_char, kind: c_int, param: *mut c_void) {
    let text = unsafe { CStr::from_ptr(msg) }
        .to_string_lossy()
        .into_owned();
    CALLS
        .lock()
        .unwrap()
        .push((name, kind, text, param as usize));
}

unsafe extern "C" fn first(msg: *mut c_char, kind: c_int, param: *mut c_void) {
    record("first", msg, kind, param);
}
unsafe extern "C" fn second(msg: *mut c_char, kind: c_int, param: *mut c_void) {
    record("second", msg, kind, param);
}
unsafe extern "C" fn third(msg: *mut c_char, kind: c_int, param: *mut c_void) {
    record("third", msg, kind, param);
}

/// One test, because the callback list is process-wide.
#[test]
fn dispatch_runs_callbacks_lifo_and_answers_unhandled_iqs() {
    let presence = "<presence from='bob@x/r' to='a*s@gw'><show>away</show></presence>";
    let iq =
        "<iq type='get' id='v1' from='bob@x/r' to='gw'><query xmlns='jabber:iq:version'/></iq>";

    // No IQ callback yet: a request gets service-unavailable, nothing else runs.
    assert_eq!(dispatch("presence", presence), Outcome::Callbacks(0));
    let Outcome::Reply(reply) = dispatch("iq", iq) else {
        panic!("no reply")
    };
    assert!(reply.contains("<service-unavailable"), "{reply}");
    assert!(matches!(
        dispatch("iq", "<iq type='result' id='1' from='a' to='b'/>"),
        Outcome::Dropped(_)
    ));

    let register = |types, f, param: usize| {
        assert_eq!(
            xmpp::callbacks::register(types, Some(f), param as *mut c_void),
            1
        );
    };
    register(XMPP_RCV_PRESENCE, first, 11);
    register(XMPP_RCV_PRESENCE | XMPP_RCV_IQ, second, 22);
    register(XMPP_RCV_MESSAGE, third, 33);
    assert_eq!(
        xmpp::callbacks::register(XMPP_RCV_IQ, None, std::ptr::null_mut()),
        -5
    );

    assert_eq!(dispatch("presence", presence), Outcome::Callbacks(2));
    assert_eq!(dispatch("iq", iq), Outcome::Callbacks(1));
    let calls = std::mem::take(&mut *CALLS.lock().unwrap());
    assert_eq!(
        calls,
        [
            ("second", XMPP_RCV_PRESENCE, presence.to_string(), 22),
            ("first", XMPP_RCV_PRESENCE, presence.to_string(), 11),
            ("second", XMPP_RCV_IQ, iq.to_string(), 22),
        ]
    );

    // Messages go to SIP, never to message callbacks (as in C).
    let Outcome::Message(m) = dispatch(
        "message",
        "<message from='bob@x/r' to='a*s@gw' type='chat'><body>hi &amp; bye</body></message>",
    ) else {
        panic!("not a message")
    };
    assert_eq!(
        (m.from.as_str(), m.to.as_str(), m.body.as_str()),
        ("bob@x/r", "a*s@gw", "hi & bye")
    );
    assert!(matches!(
        dispatch(
            "message",
            "<message from='a' to='b' type='error'><body>x</body></message>"
        ),
        Outcome::Dropped(_)
    ));
    assert!(CALLS.lock().unwrap().is_empty());
}

#[test]
fn ipc_datagrams_arrive_as_they_were_sent() {
    let ipc = Ipc::new().unwrap();
    let mut buf = vec![0; MAX_DATAGRAM];
    assert_eq!(ipc.receive(&mut buf).unwrap(), Received::Empty);
    let stanzas = [
        "<presence from='a*s@gw' to='b@x'/>",
        "<message id='tag-1' from='a*s@gw' to='b@x' type='chat'><body>h\u{e9} &lt;&gt;&amp;</body></message>",
    ];
    for s in stanzas {
        ipc.send(s.as_bytes()).unwrap();
    }
    for s in stanzas {
        let Received::Datagram(n) = ipc.receive(&mut buf).unwrap() else {
            panic!("nothing received")
        };
        assert_eq!(&buf[..n], s.as_bytes());
    }
    assert_eq!(ipc.receive(&mut buf).unwrap(), Received::Empty);
    // A datagram larger than the receive buffer is reported, not half-read.
    ipc.send(&[1; 100]).unwrap();
    assert_eq!(
        ipc.receive(&mut buf[..10]).unwrap(),
        Received::Truncated(100)
    );
}

#[test]
fn a_full_socket_refuses_without_blocking() {
    let ipc = Ipc::new().unwrap();
    let datagram = vec![0u8; 60_000];
    let start = std::time::Instant::now();
    let mut sent = 0;
    while ipc.send(&datagram).is_ok() {
        sent += 1;
        assert!(sent < 10_000, "the socket never filled");
    }
    assert!(sent > 0);
    assert!(matches!(
        ipc.send(&datagram),
        Err(xmpp::ipc::SendError::Full)
    ));
    assert!(start.elapsed() < std::time::Duration::from_secs(2));
}
