//! A small SIP user agent over UDP on 127.0.0.1: PUBLISH, SUBSCRIBE, raw requests, and auto-answered NOTIFYs.

use crate::config::SIP_PORT;
use crate::sip_msg::{SipMessage, tag_param, uri_of};
use std::collections::VecDeque;
use std::hash::{BuildHasher, Hasher};
use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Default deadline for a final response.
pub const RESPONSE_TIMEOUT: Duration = Duration::from_secs(5);

/// A SUBSCRIBE dialog as seen from the subscriber.
#[derive(Debug, Clone)]
pub struct Dialog {
    pub call_id: String,
    pub local_uri: String,
    pub local_tag: String,
    pub remote_uri: String,
    pub remote_tag: Option<String>,
    /// Request-URI of in-dialog requests (the 2xx's Contact).
    pub remote_target: String,
    /// Route set (reversed Record-Route of the 2xx).
    pub route_set: Vec<String>,
    pub cseq: u32,
    pub event: String,
}

/// A PUBLISH to send; `SipUa::publish_with`.
#[derive(Debug, Clone)]
pub struct Publish {
    /// The presentity (Request-URI, From and To); defaults to the UA's AOR.
    pub presentity: Option<String>,
    pub event: String,
    pub expires: u32,
    /// PIDF (or other) body; None for a refresh or removal.
    pub body: Option<String>,
    pub content_type: String,
    pub sip_if_match: Option<String>,
    pub extra_headers: Vec<(String, String)>,
}

impl Default for Publish {
    fn default() -> Self {
        Publish {
            presentity: None,
            event: "presence".into(),
            expires: 3600,
            body: None,
            content_type: "application/pidf+xml".into(),
            sip_if_match: None,
            extra_headers: Vec::new(),
        }
    }
}

struct Shared {
    inbox: Mutex<Inbox>,
    cond: Condvar,
    stop: AtomicBool,
    auto_reply: AtomicU16,
}

#[derive(Default)]
struct Inbox {
    responses: Vec<SipMessage>,
    requests: VecDeque<SipMessage>,
}

pub struct SipUa {
    aor: String,
    user: String,
    sock: Arc<UdpSocket>,
    local: SocketAddr,
    server: SocketAddr,
    shared: Arc<Shared>,
    reader: Option<JoinHandle<()>>,
    counter: AtomicU64,
    seed: std::collections::hash_map::RandomState,
}

impl SipUa {
    /// A UA for `aor` (e.g. `sip:alice@sip.example`) on an ephemeral
    /// 127.0.0.1 port, sending every request to Kamailio on 127.0.0.1:5060.
    /// The socket lives in the calling thread's network namespace.
    pub fn new(aor: &str) -> io::Result<SipUa> {
        let sock = UdpSocket::bind("127.0.0.1:0")?;
        sock.set_read_timeout(Some(Duration::from_millis(100)))?;
        let local = sock.local_addr()?;
        let sock = Arc::new(sock);
        let shared = Arc::new(Shared {
            inbox: Mutex::new(Inbox::default()),
            cond: Condvar::new(),
            stop: AtomicBool::new(false),
            auto_reply: AtomicU16::new(200),
        });
        let reader = {
            let (sock, shared) = (sock.clone(), shared.clone());
            std::thread::Builder::new()
                .name(format!("sip-ua-{}", local.port()))
                .spawn(move || read_loop(&sock, &shared))?
        };
        let user = aor
            .trim_start_matches("sip:")
            .split('@')
            .next()
            .unwrap_or("ua")
            .to_string();
        Ok(SipUa {
            aor: aor.to_string(),
            user,
            sock,
            local,
            server: SocketAddr::from(([127, 0, 0, 1], SIP_PORT)),
            shared,
            reader: Some(reader),
            counter: AtomicU64::new(1),
            seed: Default::default(),
        })
    }

    pub fn aor(&self) -> &str {
        &self.aor
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// `<sip:user@127.0.0.1:port>`: where this UA receives requests.
    pub fn contact(&self) -> String {
        format!("<sip:{}@{}>", self.user, self.local)
    }

    /// Status code for the automatic answer to incoming requests (default 200).
    pub fn set_auto_reply(&self, code: u16) {
        self.shared.auto_reply.store(code, Ordering::Relaxed);
    }

    /// A fresh random token (hex).
    pub fn token(&self) -> String {
        let mut h = self.seed.build_hasher();
        h.write_u64(self.counter.fetch_add(1, Ordering::Relaxed));
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0),
        );
        format!("{:016x}", h.finish())
    }

    fn via(&self) -> String {
        format!(
            "SIP/2.0/UDP {};branch=z9hG4bK{};rport",
            self.local,
            self.token()
        )
    }

    /// Sends bytes as they are to Kamailio.
    pub fn send_raw(&self, data: &[u8]) -> io::Result<()> {
        self.sock.send_to(data, self.server).map(|_| ())
    }

    /// Sends a request to Kamailio. Adds Via, Max-Forwards, Call-ID, CSeq and
    /// Content-Length unless `headers` has them; everything else is the
    /// caller's. Returns (Call-ID, CSeq number) for [`Self::wait_response`].
    pub fn send_request(
        &self,
        method: &str,
        ruri: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> io::Result<(String, u32)> {
        let has = |n: &str| headers.iter().any(|(h, _)| h.eq_ignore_ascii_case(n));
        let mut msg = SipMessage {
            start_line: format!("{method} {ruri} SIP/2.0"),
            headers: Vec::new(),
            body: body.to_vec(),
        };
        if !has("Via") {
            msg.headers.push(("Via".into(), self.via()));
        }
        if !has("Max-Forwards") {
            msg.headers.push(("Max-Forwards".into(), "70".into()));
        }
        for (n, v) in headers {
            msg.headers.push((n.to_string(), v.to_string()));
        }
        let call_id = match msg.call_id() {
            Some(c) => c.to_string(),
            None => {
                let c = format!("{}@127.0.0.1", self.token());
                msg.headers.push(("Call-ID".into(), c.clone()));
                c
            }
        };
        let cseq = match msg.cseq() {
            Some((n, _)) => n,
            None => {
                msg.headers.push(("CSeq".into(), format!("1 {method}")));
                1
            }
        };
        if !has("Content-Length") {
            msg.headers
                .push(("Content-Length".into(), body.len().to_string()));
        }
        self.send_raw(&msg.to_bytes())?;
        Ok((call_id, cseq))
    }

    /// Sends a request ([`Self::send_request`]) and waits for its final response.
    pub fn request(
        &self,
        method: &str,
        ruri: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> io::Result<SipMessage> {
        let (cid, cseq) = self.send_request(method, ruri, headers, body)?;
        self.wait_response(&cid, cseq, RESPONSE_TIMEOUT)
    }

    /// A NOTIFY with arbitrary headers and body (for bad-input tests); waits
    /// for the final response. A missing answer is a timeout error.
    pub fn notify_raw(
        &self,
        ruri: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        timeout: Duration,
    ) -> io::Result<SipMessage> {
        let (cid, cseq) = self.send_request("NOTIFY", ruri, headers, body)?;
        self.wait_response(&cid, cseq, timeout)
    }

    /// Waits for the final (>= 200) response with this Call-ID and CSeq number.
    pub fn wait_response(
        &self,
        call_id: &str,
        cseq: u32,
        timeout: Duration,
    ) -> io::Result<SipMessage> {
        let found = self.wait_inbox(timeout, |inbox| {
            let i = inbox.responses.iter().position(|r| {
                r.call_id() == Some(call_id)
                    && r.cseq().map(|c| c.0) == Some(cseq)
                    && r.status().is_some_and(|s| s >= 200)
            })?;
            Some(inbox.responses.remove(i))
        });
        found.ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::TimedOut,
                format!("no final response for Call-ID {call_id} CSeq {cseq} within {timeout:?}"),
            )
        })
    }

    /// PUBLISH of the UA's own presence (event presence, PIDF body).
    pub fn publish(
        &self,
        expires: u32,
        body: Option<&str>,
        sip_if_match: Option<&str>,
    ) -> io::Result<SipMessage> {
        self.publish_with(&Publish {
            expires,
            body: body.map(str::to_string),
            sip_if_match: sip_if_match.map(str::to_string),
            ..Publish::default()
        })
    }

    pub fn publish_with(&self, p: &Publish) -> io::Result<SipMessage> {
        let pres = p.presentity.clone().unwrap_or_else(|| self.aor.clone());
        let from = format!("<{}>;tag={}", self.aor, self.token());
        let to = format!("<{pres}>");
        let expires = p.expires.to_string();
        let mut h: Vec<(&str, &str)> = vec![
            ("From", &from),
            ("To", &to),
            ("Event", &p.event),
            ("Expires", &expires),
        ];
        if let Some(etag) = &p.sip_if_match {
            h.push(("SIP-If-Match", etag));
        }
        if p.body.is_some() {
            h.push(("Content-Type", &p.content_type));
        }
        for (n, v) in &p.extra_headers {
            h.push((n, v));
        }
        let body = p.body.as_deref().unwrap_or("").as_bytes();
        self.request("PUBLISH", &pres, &h, body)
    }

    /// SUBSCRIBE to `target` for `event` (presence or presence.winfo).
    /// Returns the final response and the dialog (confirmed on a 2xx).
    pub fn subscribe(
        &self,
        target: &str,
        event: &str,
        expires: u32,
    ) -> io::Result<(SipMessage, Dialog)> {
        let mut dlg = Dialog {
            call_id: format!("{}@127.0.0.1", self.token()),
            local_uri: self.aor.clone(),
            local_tag: self.token(),
            remote_uri: target.to_string(),
            remote_tag: None,
            remote_target: target.to_string(),
            route_set: Vec::new(),
            cseq: 0,
            event: event.to_string(),
        };
        let resp = self.dialog_subscribe(&mut dlg, expires)?;
        if resp.status().is_some_and(|s| (200..300).contains(&s)) {
            dlg.remote_tag = resp.header("To").and_then(tag_param).map(str::to_string);
            if let Some(c) = resp.header("Contact") {
                dlg.remote_target = uri_of(c).to_string();
            }
            dlg.route_set = resp
                .header_all("Record-Route")
                .iter()
                .flat_map(|v| v.split(','))
                .map(|r| r.trim().to_string())
                .rev()
                .collect();
        }
        Ok((resp, dlg))
    }

    /// In-dialog re-SUBSCRIBE (expires 0 ends the subscription).
    pub fn resubscribe(&self, dlg: &mut Dialog, expires: u32) -> io::Result<SipMessage> {
        self.dialog_subscribe(dlg, expires)
    }

    fn dialog_subscribe(&self, dlg: &mut Dialog, expires: u32) -> io::Result<SipMessage> {
        dlg.cseq += 1;
        let from = format!("<{}>;tag={}", dlg.local_uri, dlg.local_tag);
        let to = match &dlg.remote_tag {
            Some(t) => format!("<{}>;tag={t}", dlg.remote_uri),
            None => format!("<{}>", dlg.remote_uri),
        };
        let cseq = format!("{} SUBSCRIBE", dlg.cseq);
        let contact = self.contact();
        let expires_s = expires.to_string();
        let accept = match dlg.event.as_str() {
            "presence.winfo" => "application/watcherinfo+xml",
            _ => "application/pidf+xml",
        };
        let mut h: Vec<(&str, &str)> = vec![
            ("From", &from),
            ("To", &to),
            ("Call-ID", &dlg.call_id),
            ("CSeq", &cseq),
            ("Contact", &contact),
            ("Event", &dlg.event),
            ("Expires", &expires_s),
            ("Accept", accept),
        ];
        for r in &dlg.route_set {
            h.push(("Route", r));
        }
        self.request("SUBSCRIBE", &dlg.remote_target.clone(), &h, b"")
    }

    /// Waits for an incoming NOTIFY matching `pred` (already answered
    /// automatically) and removes it from the queue; others stay queued.
    pub fn expect_notify(
        &self,
        timeout: Duration,
        pred: impl Fn(&SipMessage) -> bool,
    ) -> io::Result<SipMessage> {
        self.expect_request(timeout, |m| m.method() == Some("NOTIFY") && pred(m))
            .map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!(
                        "{e}; NOTIFYs queued: {:?}",
                        self.pending_requests()
                            .iter()
                            .filter(|m| m.method() == Some("NOTIFY"))
                            .collect::<Vec<_>>()
                    ),
                )
            })
    }

    /// Waits for any incoming request matching `pred` and removes it.
    pub fn expect_request(
        &self,
        timeout: Duration,
        pred: impl Fn(&SipMessage) -> bool,
    ) -> io::Result<SipMessage> {
        self.wait_inbox(timeout, |inbox| {
            let i = inbox.requests.iter().position(&pred)?;
            inbox.requests.remove(i)
        })
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::TimedOut,
                format!("no matching request within {timeout:?}"),
            )
        })
    }

    /// Copies of the queued incoming requests.
    pub fn pending_requests(&self) -> Vec<SipMessage> {
        self.shared
            .inbox
            .lock()
            .unwrap()
            .requests
            .iter()
            .cloned()
            .collect()
    }

    /// Removes and returns every queued incoming request.
    pub fn take_requests(&self) -> Vec<SipMessage> {
        self.shared
            .inbox
            .lock()
            .unwrap()
            .requests
            .drain(..)
            .collect()
    }

    fn wait_inbox<T>(
        &self,
        timeout: Duration,
        mut f: impl FnMut(&mut Inbox) -> Option<T>,
    ) -> Option<T> {
        let deadline = Instant::now() + timeout;
        let mut inbox = self.shared.inbox.lock().unwrap();
        loop {
            if let Some(v) = f(&mut inbox) {
                return Some(v);
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
}

impl Drop for SipUa {
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
        let (len, from) = match sock.recv_from(&mut buf) {
            Ok(x) => x,
            Err(_) => continue, // read timeout (or ICMP error): check stop
        };
        let Some(msg) = SipMessage::parse(&buf[..len]) else {
            continue;
        };
        if msg.is_request() {
            if msg.method() != Some("ACK") {
                let code = shared.auto_reply.load(Ordering::Relaxed);
                let _ = sock.send_to(&reply_to(&msg, code).to_bytes(), from);
            }
            shared.inbox.lock().unwrap().requests.push_back(msg);
        } else {
            shared.inbox.lock().unwrap().responses.push(msg);
        }
        shared.cond.notify_all();
    }
}

/// A response to `req`; keeps the To tag (the dialog's), adds one if absent.
fn reply_to(req: &SipMessage, code: u16) -> SipMessage {
    let reason = match code {
        200 => "OK",
        481 => "Subscription does not exist",
        489 => "Bad Event",
        _ => "Test Reply",
    };
    let mut headers: Vec<(String, String)> = Vec::new();
    for (n, v) in &req.headers {
        let lower = n.to_ascii_lowercase();
        if matches!(
            lower.as_str(),
            "via" | "v" | "from" | "f" | "call-id" | "i" | "cseq"
        ) {
            headers.push((n.clone(), v.clone()));
        } else if matches!(lower.as_str(), "to" | "t") {
            let v = if tag_param(v).is_some() {
                v.clone()
            } else {
                format!("{v};tag=ua{}", req.call_id().unwrap_or("").len())
            };
            headers.push((n.clone(), v));
        }
    }
    headers.push(("Content-Length".into(), "0".into()));
    SipMessage {
        start_line: format!("SIP/2.0 {code} {reason}"),
        headers,
        body: Vec::new(),
    }
}
