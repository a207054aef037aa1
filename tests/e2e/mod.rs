//! Helpers shared by the gateway end-to-end tests on the REAL stack (Kamailio 5.6.3 + Prosody,
//! our module as pua_xmpp): a scripted SIP notifier on a fixed port, stanza comparison, markers.
#![allow(dead_code)]

use std::collections::{HashSet, VecDeque};
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use kamailio_test_stack::sip_msg::{tag_param, uri_of};
use kamailio_test_stack::stanza::Element;
use kamailio_test_stack::{
    ModparamValue, SipMessage, Stack, StackConfig, Stanza, XmppClient, jid_for_sip, sip_for_jid,
};

/// Deadline for anything that should happen.
pub const T: Duration = Duration::from_secs(5);
pub const ALICE: &str = "sip:alice@sip.example";
pub const BOB: &str = "bob@xmpp.example";
/// The gateway's Contact (modparam server_address of the harness).
pub const GATEWAY: &str = kamailio_test_stack::GATEWAY_URI;
/// Where the scripted notifier listens (every stack has its own network namespace).
pub const NOTIFIER_PORT: u16 = 5070;
const KAMAILIO: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 5060);

/// `sip:alice@sip.example` as XMPP: `alice*sip.example@sip-gw.xmpp.example`.
pub fn alice_jid() -> String {
    jid_for_sip(ALICE)
}

/// `bob@xmpp.example` as SIP: `sip:bob*xmpp.example@xmpp-gw.sip.example`.
pub fn bob_sip() -> String {
    sip_for_jid(BOB)
}

/// Our modules (pua_xmpp on the Rust xmpp transport), stock settings otherwise.
pub fn rust() -> StackConfig {
    StackConfig::rust()
}

/// Our module with `outbound_proxy` = the scripted notifier: every PUBLISH and initial
/// SUBSCRIBE of the gateway reaches [`Notifier`] instead of the presence server.
pub fn via_notifier() -> StackConfig {
    rust().pua_xmpp_param(
        "outbound_proxy",
        ModparamValue::Str(format!("sip:127.0.0.1:{NOTIFIER_PORT}")),
    )
}

// ---------------------------------------------------------------------------------------------
// Stanzas

/// `xml` parsed as a c2s stanza, with the root's `xml:lang` dropped (Prosody may add one) and
/// the root's children in a fixed order (their order carries no meaning in a presence, and
/// ejabberd reorders them).
fn normalized(e: &Element) -> Element {
    let mut e = e.clone();
    e.attrs.remove("{http://www.w3.org/XML/1998/namespace}lang");
    e.children.sort_by_cached_key(|c| format!("{c:?}"));
    e
}

/// Panics unless `got` equals `expected` as XML (root `xml:lang` and the order of the root's
/// children ignored, every other attribute and text compared, `xml:lang` of children
/// included).
pub fn assert_stanza(got: &Stanza, expected: &str) {
    let want = Element::parse_fragment(expected)
        .unwrap_or_else(|e| panic!("expected XML does not parse: {e}"));
    assert!(
        normalized(&got.element) == normalized(&want),
        "stanza differs\n   got: {}\nwanted: {expected}",
        got.raw
    );
}

/// The next `<presence>` (any type) whose `from` is `from` (bare, or full with a resource).
pub fn next_presence(client: &XmppClient, from: &str) -> Stanza {
    client
        .expect_stanza(T, |s| {
            s.name == "presence"
                && s.attr("from")
                    .is_some_and(|f| f == from || f.split('/').next() == Some(from))
        })
        .unwrap_or_else(|e| panic!("no presence from {from}: {e}"))
}

/// Sends available presence and waits until Prosody has processed it (it echoes a client's
/// presence to the client's own resource): stanzas for available resources only (subscription
/// requests, presence) then reach this client.
pub fn online(client: &XmppClient, show: Option<&str>, status: Option<&str>) {
    client.available(show, status).unwrap();
    let me = client.jid().to_string();
    client
        .expect_stanza(T, |s| {
            s.name == "presence" && s.type_().is_none() && s.attr("from") == Some(me.as_str())
        })
        .unwrap_or_else(|e| panic!("{me} is not online: {e}"));
}

/// Waits until Kamailio's log contains `needle` (log lines of another process may come a
/// little after the event a test waited for).
pub fn wait_log(stack: &Stack, needle: &str) -> bool {
    let deadline = Instant::now() + T;
    loop {
        if stack.kamailio_log().contains(needle) {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

// ---------------------------------------------------------------------------------------------
// Bodies

pub const PIDF_NS: &str = "urn:ietf:params:xml:ns:pidf";
pub const NS_DECLS: &str = "xmlns='urn:ietf:params:xml:ns:pidf' \
    xmlns:dm='urn:ietf:params:xml:ns:pidf:data-model' \
    xmlns:rpid='urn:ietf:params:xml:ns:pidf:rpid'";

/// A PIDF document for alice with `inner` as its content.
pub fn pidf(inner: &str) -> String {
    format!(
        "<?xml version='1.0' encoding='UTF-8'?><presence {NS_DECLS} entity='pres:alice@sip.example'>{inner}</presence>"
    )
}

/// A tuple with `basic` and extra content.
pub fn tuple(id: &str, basic: &str, extra: &str) -> String {
    format!("<tuple id='{id}'><status><basic>{basic}</basic></status>{extra}</tuple>")
}

/// A `dm:person` with RPID activities (element names).
pub fn person_activities(activities: &[&str]) -> String {
    let acts: String = activities.iter().map(|a| format!("<rpid:{a}/>")).collect();
    format!("<dm:person id='p1'><rpid:activities>{acts}</rpid:activities></dm:person>")
}

/// A watcherinfo document for `resource` listing (uri, status) watchers of `presence`.
pub fn winfo(version: u32, resource: &str, watchers: &[(&str, &str)]) -> String {
    let ws: String = watchers
        .iter()
        .enumerate()
        .map(|(i, (uri, status))| {
            format!("<watcher id='w{i}' event='subscribe' status='{status}'>{uri}</watcher>")
        })
        .collect();
    format!(
        "<?xml version='1.0'?><watcherinfo xmlns='urn:ietf:params:xml:ns:watcherinfo' \
         version='{version}' state='full'><watcher-list resource='{resource}' package='presence'>\
         {ws}</watcher-list></watcherinfo>"
    )
}

// ---------------------------------------------------------------------------------------------
// The scripted notifier

#[derive(Default)]
struct Inbox {
    requests: VecDeque<SipMessage>,
    responses: Vec<SipMessage>,
    /// Via branch + CSeq of every request seen: tm retransmits over UDP until answered.
    seen: HashSet<String>,
}

struct Shared {
    inbox: Mutex<Inbox>,
    cond: Condvar,
    stop: AtomicBool,
}

/// A SIP endpoint on 127.0.0.1:[`NOTIFIER_PORT`] that answers nothing by itself: the test
/// answers the gateway's SUBSCRIBEs and PUBLISHes (with [`via_notifier`] they come here) and
/// sends NOTIFYs in those dialogs with exactly the headers it wants.
pub struct Notifier {
    port: u16,
    sock: Arc<UdpSocket>,
    shared: Arc<Shared>,
    reader: Option<JoinHandle<()>>,
    counter: AtomicU64,
}

/// A gateway subscription as its notifier holds it.
#[derive(Debug)]
pub struct Subscription {
    pub call_id: String,
    /// The gateway's subscriber (From of the SUBSCRIBE).
    pub watcher_uri: String,
    pub watcher_tag: String,
    /// The presentity (To of the SUBSCRIBE).
    pub pres_uri: String,
    /// Our To tag.
    pub local_tag: String,
    /// The SUBSCRIBE's Contact: Request-URI of our NOTIFYs.
    pub target: String,
    pub event: String,
    cseq: AtomicU32,
}

impl Subscription {
    /// The dialog of a SUBSCRIBE `req` the test answered itself with To tag `local_tag`.
    pub fn new(req: &SipMessage, local_tag: &str) -> Subscription {
        let from = req.header("From").unwrap();
        Subscription {
            call_id: req.call_id().unwrap().to_string(),
            watcher_uri: uri_of(from).to_string(),
            watcher_tag: tag_param(from).expect("From tag").to_string(),
            pres_uri: uri_of(req.header("To").unwrap()).to_string(),
            local_tag: local_tag.to_string(),
            target: uri_of(req.header("Contact").expect("Contact of the SUBSCRIBE")).to_string(),
            event: req.event().unwrap_or("presence").to_string(),
            cseq: AtomicU32::new(0),
        }
    }
}

impl Notifier {
    /// Binds the notifier's port in the stack's namespace (call on the stack's thread).
    pub fn bind(stack: &Stack) -> Notifier {
        Self::bind_port(stack, NOTIFIER_PORT)
    }

    /// A notifier on another port (a remote target that is not the outbound proxy).
    pub fn bind_port(stack: &Stack, port: u16) -> Notifier {
        stack.assert_in_netns();
        let sock = UdpSocket::bind(("127.0.0.1", port)).expect("binding the notifier");
        sock.set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        let sock = Arc::new(sock);
        let shared = Arc::new(Shared {
            inbox: Mutex::new(Inbox::default()),
            cond: Condvar::new(),
            stop: AtomicBool::new(false),
        });
        let reader = {
            let (sock, shared) = (sock.clone(), shared.clone());
            std::thread::spawn(move || read_loop(&sock, &shared))
        };
        Notifier {
            port,
            sock,
            shared,
            reader: Some(reader),
            counter: AtomicU64::new(1),
        }
    }

    /// `<sip:user@127.0.0.1:5070>`.
    pub fn contact(user: &str) -> String {
        format!("<sip:{user}@127.0.0.1:{NOTIFIER_PORT}>")
    }

    /// `<sip:user@127.0.0.1:port>` of this notifier.
    pub fn own_contact(&self, user: &str) -> String {
        format!("<sip:{user}@127.0.0.1:{}>", self.port)
    }

    fn token(&self) -> String {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        format!("n{n}x{t:08x}")
    }

    fn wait<R>(&self, timeout: Duration, mut f: impl FnMut(&mut Inbox) -> Option<R>) -> Option<R> {
        let deadline = Instant::now() + timeout;
        let mut inbox = self.shared.inbox.lock().unwrap();
        loop {
            if let Some(r) = f(&mut inbox) {
                return Some(r);
            }
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            inbox = self
                .shared
                .cond
                .wait_timeout(inbox, deadline - now)
                .unwrap()
                .0;
        }
    }

    /// The first queued request matching `pred` (removed), waiting up to `timeout`.
    pub fn expect_request(
        &self,
        timeout: Duration,
        pred: impl Fn(&SipMessage) -> bool,
    ) -> io::Result<SipMessage> {
        self.wait(timeout, |inbox| {
            let i = inbox.requests.iter().position(&pred)?;
            inbox.requests.remove(i)
        })
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "notifier: no matching request within {timeout:?}; queued: {:?}",
                    self.pending()
                ),
            )
        })
    }

    /// The next request of this method, whatever else is queued before it.
    pub fn expect(&self, method: &str) -> SipMessage {
        self.expect_request(T, |m| m.method() == Some(method))
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// The oldest queued request (removed), waiting up to `timeout`.
    pub fn next_request(&self, timeout: Duration) -> io::Result<SipMessage> {
        self.expect_request(timeout, |_| true)
    }

    /// Copies of the queued requests.
    pub fn pending(&self) -> Vec<SipMessage> {
        self.shared
            .inbox
            .lock()
            .unwrap()
            .requests
            .iter()
            .cloned()
            .collect()
    }

    /// Answers `req` with `code`; the To tag is added when `to_tag` is given and the To has none.
    pub fn reply(
        &self,
        req: &SipMessage,
        code: u16,
        reason: &str,
        to_tag: Option<&str>,
        extra: &[(&str, &str)],
    ) {
        let mut headers: Vec<(String, String)> = Vec::new();
        for (n, v) in &req.headers {
            match n.to_ascii_lowercase().as_str() {
                "via" | "v" | "from" | "f" | "call-id" | "i" | "cseq" => {
                    headers.push((n.clone(), v.clone()))
                }
                "to" | "t" => {
                    let v = match to_tag {
                        Some(tag) if tag_param(v).is_none() => format!("{v};tag={tag}"),
                        _ => v.clone(),
                    };
                    headers.push((n.clone(), v));
                }
                _ => {}
            }
        }
        for (n, v) in extra {
            headers.push((n.to_string(), v.to_string()));
        }
        headers.push(("Content-Length".into(), "0".into()));
        let msg = SipMessage {
            start_line: format!("SIP/2.0 {code} {reason}"),
            headers,
            body: Vec::new(),
        };
        self.send_raw(&latin1(&msg.to_bytes()));
    }

    /// Sends bytes as they are to Kamailio.
    pub fn send_raw(&self, data: &[u8]) {
        self.sock.send_to(data, KAMAILIO).unwrap();
    }

    /// Answers a SUBSCRIBE of the gateway with 200 (Contact, Expires) and returns the dialog.
    pub fn accept(&self, req: &SipMessage, expires: u32) -> Subscription {
        assert_eq!(req.method(), Some("SUBSCRIBE"), "{req:?}");
        let local_tag = self.token();
        let pres_uri = uri_of(req.header("To").unwrap()).to_string();
        let user = pres_uri
            .trim_start_matches("sip:")
            .split('@')
            .next()
            .unwrap_or("n")
            .to_string();
        let contact = self.own_contact(&user);
        self.reply(
            req,
            200,
            "OK",
            Some(&local_tag),
            &[("Contact", &contact), ("Expires", &expires.to_string())],
        );
        Subscription::new(req, &local_tag)
    }

    /// Answers a PUBLISH with 200 (SIP-ETag, Expires) as a presence server does; returns the
    /// ETag.
    pub fn accept_publish(&self, req: &SipMessage) -> String {
        let etag = self.token();
        let expires = req.header("Expires").unwrap_or("3600").to_string();
        self.reply(
            req,
            200,
            "OK",
            Some(&self.token()),
            &[("SIP-ETag", &etag), ("Expires", &expires)],
        );
        etag
    }

    /// Sends a request to Kamailio; Via, Max-Forwards, Content-Length are added. Returns the
    /// final response.
    pub fn request(
        &self,
        method: &str,
        ruri: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> io::Result<SipMessage> {
        let (call_id, cseq) = self.send_request(method, ruri, headers, body)?;
        self.wait_response(&call_id, cseq)
    }

    /// Sends a request without waiting; returns its Call-ID and CSeq number.
    pub fn send_request(
        &self,
        method: &str,
        ruri: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> io::Result<(String, u32)> {
        let branch = format!("z9hG4bK{}", self.token());
        let mut msg = SipMessage {
            start_line: format!("{method} {ruri} SIP/2.0"),
            headers: vec![
                (
                    "Via".into(),
                    format!("SIP/2.0/UDP 127.0.0.1:{};branch={branch};rport", self.port),
                ),
                ("Max-Forwards".into(), "70".into()),
            ],
            body: body.to_vec(),
        };
        for (n, v) in headers {
            msg.headers.push((n.to_string(), v.to_string()));
        }
        msg.headers
            .push(("Content-Length".into(), body.len().to_string()));
        let call_id = msg.call_id().expect("Call-ID").to_string();
        let cseq = msg.cseq().expect("CSeq").0;
        self.sock.send_to(&latin1(&msg.to_bytes()), KAMAILIO)?;
        Ok((call_id, cseq))
    }

    /// The final response to the request with this Call-ID and CSeq number.
    pub fn wait_response(&self, call_id: &str, cseq: u32) -> io::Result<SipMessage> {
        self.wait(T, |inbox| {
            let i = inbox.responses.iter().position(|r| {
                r.call_id() == Some(call_id)
                    && r.cseq().map(|c| c.0) == Some(cseq)
                    && r.status().is_some_and(|s| s >= 200)
            })?;
            Some(inbox.responses.remove(i))
        })
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::TimedOut,
                format!("no final response to CSeq {cseq} (Call-ID {call_id}) within {T:?}"),
            )
        })
    }

    /// A NOTIFY in `sub` with the dialog headers filled in (and our Contact unless `headers`
    /// has one); `headers` carries Event, Subscription-State, Content-Type and anything else,
    /// exactly as given.
    pub fn notify_raw(
        &self,
        sub: &Subscription,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> SipMessage {
        let (call_id, cseq) = self.send_notify_raw(sub, headers, body);
        self.wait_response(&call_id, cseq)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// [`Self::notify_raw`] without waiting for the answer: (Call-ID, CSeq number).
    pub fn send_notify_raw(
        &self,
        sub: &Subscription,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> (String, u32) {
        let from = format!("<{}>;tag={}", sub.pres_uri, sub.local_tag);
        let to = format!("<{}>;tag={}", sub.watcher_uri, sub.watcher_tag);
        let cseq = format!("{} NOTIFY", sub.cseq.fetch_add(1, Ordering::Relaxed) + 1);
        let user = sub
            .pres_uri
            .trim_start_matches("sip:")
            .split('@')
            .next()
            .unwrap_or("n")
            .to_string();
        let contact = self.own_contact(&user);
        let mut h: Vec<(&str, &str)> = vec![
            ("From", &from),
            ("To", &to),
            ("Call-ID", &sub.call_id),
            ("CSeq", &cseq),
        ];
        if !headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("Contact"))
        {
            h.push(("Contact", &contact));
        }
        h.extend_from_slice(headers);
        self.send_request("NOTIFY", &sub.target, &h, body)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// A NOTIFY in `sub` (its own event) with this Subscription-State and an optional body
    /// (`application/pidf+xml` for presence, `application/watcherinfo+xml` for winfo).
    /// Returns the status code of the answer.
    pub fn notify(&self, sub: &Subscription, state: &str, body: Option<&str>) -> u16 {
        let ctype = if sub.event == "presence.winfo" {
            "application/watcherinfo+xml"
        } else {
            "application/pidf+xml"
        };
        let mut h: Vec<(&str, &str)> = vec![("Event", &sub.event), ("Subscription-State", state)];
        if body.is_some() {
            h.push(("Content-Type", ctype));
        }
        let r = self.notify_raw(sub, &h, body.unwrap_or("").as_bytes());
        r.status().unwrap()
    }
}

impl Drop for Notifier {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.reader.take() {
            let _ = t.join();
        }
    }
}

fn read_loop(sock: &UdpSocket, shared: &Shared) {
    let mut buf = vec![0u8; 65536];
    while !shared.stop.load(Ordering::Relaxed) {
        let Ok((len, _)) = sock.recv_from(&mut buf) else {
            continue;
        };
        let Some(msg) = SipMessage::parse(&buf[..len]) else {
            continue;
        };
        let mut inbox = shared.inbox.lock().unwrap();
        if msg.is_request() {
            let key = format!("{} {:?}", msg.header("Via").unwrap_or(""), msg.cseq());
            if inbox.seen.insert(key) && msg.method() != Some("ACK") {
                inbox.requests.push_back(msg);
            }
        } else {
            inbox.responses.push(msg);
        }
        drop(inbox);
        shared.cond.notify_all();
    }
}

/// Text of a header that stands for the single byte 0xE9 (Latin-1 'é', invalid as UTF-8) in
/// what the notifier sends: a `String` cannot hold it.
pub const LATIN1_E_ACUTE: &str = "{LATIN1-E9}";

fn latin1(data: &[u8]) -> Vec<u8> {
    let mark = LATIN1_E_ACUTE.as_bytes();
    let mut out = Vec::with_capacity(data.len());
    let mut i = 0;
    while i < data.len() {
        if data[i..].starts_with(mark) {
            out.push(0xe9);
            i += mark.len();
        } else {
            out.push(data[i]);
            i += 1;
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Fixtures

/// XMPP bob (available) watches SIP alice; the gateway's SUBSCRIBE went to the notifier, which
/// accepted it. `stack` is last so it is dropped last.
pub struct BobWatchesAlice {
    /// `None` only inside [`BobWatchesAlice::relogin`].
    bob: Option<XmppClient>,
    pub notifier: Notifier,
    pub sub: Subscription,
    pub alice_jid: String,
    markers: AtomicU32,
    pub stack: Stack,
}

/// Starts `cfg` (which must route to the notifier), logs bob in, makes him subscribe to alice,
/// accepts the gateway's SUBSCRIBE and waits until bob's roster shows the subscription (the
/// gateway turned the 200 into `subscribed`).
pub fn bob_watches_alice(cfg: StackConfig) -> BobWatchesAlice {
    let stack = Stack::start(cfg);
    let notifier = Notifier::bind(&stack);
    let bob = stack.xmpp_client("bob@xmpp.example/phone");
    let alice_jid = alice_jid();
    online(&bob, None, None);
    // A roster get makes bob "interested": Prosody then also hands him `subscribed`.
    bob.roster().unwrap();
    bob.roster_add(&alice_jid).unwrap();
    bob.subscribe(&alice_jid).unwrap();
    let req = notifier.expect("SUBSCRIBE");
    let sub = notifier.accept(&req, 3600);
    let got = next_presence(&bob, &alice_jid);
    // Prosody addresses it to the bare JID, ejabberd to the session.
    let to = got.attr("to").unwrap_or_default();
    assert!(to == BOB || to == bob.jid(), "{got:?}");
    assert_stanza(
        &got,
        &format!("<presence type='subscribed' from='{alice_jid}' to='{to}'/>"),
    );
    bob.wait_roster_subscription(T, &alice_jid, "to").unwrap();
    BobWatchesAlice {
        bob: Some(bob),
        notifier,
        sub,
        alice_jid,
        markers: AtomicU32::new(0),
        stack,
    }
}

/// How an XMPP session ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionEnd {
    /// The client logs out (`</stream:stream>`).
    Logout,
    /// The client's connection dies (TCP reset, no stream close, no unavailable presence).
    Dropped,
}

impl BobWatchesAlice {
    /// Bob's current session.
    pub fn bob(&self) -> &XmppClient {
        self.bob.as_ref().expect("bob is logged in")
    }

    /// Bob's session ends as `end`, then he logs in again as `bob@xmpp.example/<resource>` and
    /// sends available presence (his server then probes every contact he is subscribed to).
    /// The new session is returned without waiting for any presence.
    pub fn relogin(&mut self, end: SessionEnd, resource: &str) -> &XmppClient {
        let old = self.bob.take().expect("bob is logged in");
        match end {
            SessionEnd::Logout => old.close(),
            SessionEnd::Dropped => old.drop_connection(),
        }
        let bob = self.stack.xmpp_client(&format!("{BOB}/{resource}"));
        bob.available(None, None).unwrap();
        self.bob.insert(bob)
    }
    /// A NOTIFY in the gateway's dialog; panics unless it is answered `code`.
    pub fn notify_expect(&self, state: &str, body: Option<&str>, code: u16) {
        let got = self.notifier.notify(&self.sub, state, body);
        assert_eq!(got, code, "NOTIFY ({state}) answered {got}, wanted {code}");
    }

    /// The next presence bob gets from alice equals `expected` (`{A}` = alice's JID, `{B}` =
    /// bob's bare JID).
    pub fn expect_presence(&self, expected: &str) {
        let got = next_presence(self.bob(), &self.alice_jid);
        assert_stanza(&got, &self.fill(expected));
    }

    pub fn fill(&self, s: &str) -> String {
        s.replace("{A}", &self.alice_jid).replace("{B}", BOB)
    }

    /// Proves that nothing reached bob since the last expectation: sends an active NOTIFY with
    /// a unique note and checks that it is the next presence bob sees from alice.
    pub fn assert_nothing_sent(&self) {
        let n = self.markers.fetch_add(1, Ordering::Relaxed);
        let text = format!("marker {n}");
        let body = pidf(&tuple("m", "open", &format!("<note>{text}</note>")));
        self.notify_expect("active;expires=3600", Some(&body), 200);
        self.expect_presence(&format!(
            "<presence from='{{A}}' to='{{B}}'><status>{text}</status></presence>"
        ));
    }
}

// ---------------------------------------------------------------------------------------------
// SIP over TCP (for bodies larger than a UDP datagram)

/// Sends one SIP request over TCP to Kamailio and returns the status code of the final answer.
pub fn tcp_request(raw: &[u8]) -> io::Result<u16> {
    let mut s = TcpStream::connect(KAMAILIO)?;
    s.set_read_timeout(Some(T))?;
    s.write_all(raw)?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = s.read(&mut chunk)?;
        if n == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "no answer"));
        }
        buf.extend_from_slice(&chunk[..n]);
        while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_string();
            buf.drain(..end + 4);
            let code: u16 = head
                .split(' ')
                .nth(1)
                .and_then(|c| c.parse().ok())
                .unwrap_or(0);
            if code >= 200 {
                return Ok(code);
            }
        }
    }
}
