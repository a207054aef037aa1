//! The SIP side of the load: a UDP agent on 127.0.0.2:5060 (`sip.example`), the notifier of
//! every gateway subscription. It answers the gateway's SUBSCRIBEs 200 with a Contact and
//! remembers each dialog, then sends in-dialog NOTIFYs to the gateway's Contact, closed loop
//! with a bounded window of unanswered NOTIFYs, and counts the answers. For the transport
//! comparison it also sends SIP MESSAGEs to XMPP users and answers (and counts) the MESSAGEs
//! the gateway sends for XMPP chat.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use kamailio_test_stack::SipMessage;
use kamailio_test_stack::sip_msg::{tag_param, uri_of};

use crate::workload::sip_message_text;

pub const AGENT_ADDR: &str = "127.0.0.2:5060";
const KAMAILIO_ADDR: &str = "127.0.0.1:5060";

/// A gateway subscription as its notifier sees it.
#[derive(Clone, Debug)]
pub struct GwDialog {
    pub call_id: String,
    /// pua's From tag (the To tag of our NOTIFYs).
    pub gw_tag: String,
    /// The gateway's watcher, e.g. `sip:bob7*xmpp.example@xmpp-gw.sip.example`.
    pub watcher: String,
    /// Our presentity, e.g. `sip:alice7@sip.example`.
    pub presentity: String,
    /// Request-URI of our NOTIFYs: the SUBSCRIBE's Contact.
    pub target: String,
    pub local_tag: String,
    /// CSeq of our last NOTIFY in this dialog.
    pub cseq: u32,
}

#[derive(Default)]
struct Shared {
    stop: AtomicBool,
    ok: AtomicU64,
    failed: AtomicU64,
    first_failure: Mutex<Option<String>>,
    subscribes: AtomicU64,
    /// MESSAGEs from the gateway (XMPP chat -> SIP), answered 200.
    messages: AtomicU64,
    last_message: Mutex<Option<String>>,
    /// Subscription index (the N of aliceN) -> dialog.
    dialogs: Mutex<BTreeMap<usize, GwDialog>>,
}

/// Result of one closed-loop run of requests (NOTIFYs or MESSAGEs).
#[derive(Clone, Copy, Debug, Default)]
pub struct RequestRun {
    pub sent: u64,
    pub ok: u64,
    pub failed: u64,
    pub lost: u64,
    pub elapsed: Duration,
}

pub struct Agent {
    sock: Arc<UdpSocket>,
    shared: Arc<Shared>,
    reader: Option<JoinHandle<()>>,
    kamailio: SocketAddr,
    branch: u64,
}

impl Agent {
    pub fn bind() -> io::Result<Agent> {
        let sock = UdpSocket::bind(AGENT_ADDR)?;
        set_rcvbuf(&sock, 8 << 20);
        sock.set_read_timeout(Some(Duration::from_millis(50)))?;
        let sock = Arc::new(sock);
        let shared = Arc::new(Shared::default());
        let reader = {
            let (sock, shared) = (sock.clone(), shared.clone());
            std::thread::Builder::new()
                .name("sip-agent".into())
                .spawn(move || read_loop(&sock, &shared))?
        };
        Ok(Agent {
            sock,
            shared,
            reader: Some(reader),
            kamailio: KAMAILIO_ADDR.parse().expect("address"),
            branch: 0,
        })
    }

    /// The dialogs of subscriptions 0..k (all must exist).
    pub fn dialogs(&self, k: usize) -> io::Result<Vec<GwDialog>> {
        let d = self.shared.dialogs.lock().unwrap();
        (0..k)
            .map(|i| {
                d.get(&i).cloned().ok_or_else(|| {
                    io::Error::other(format!("the gateway never subscribed to alice{i}"))
                })
            })
            .collect()
    }

    pub fn subscribes_received(&self) -> u64 {
        self.shared.subscribes.load(Ordering::Relaxed)
    }

    /// The first non-2xx answer seen, if any.
    pub fn first_failure(&self) -> Option<String> {
        self.shared.first_failure.lock().unwrap().clone()
    }

    /// Sends `n` NOTIFYs with `body` round robin over `dialogs`, at most `window` unanswered;
    /// unanswered NOTIFYs count as lost after `loss_timeout` without any answer.
    pub fn notify_run(
        &mut self,
        dialogs: &mut [GwDialog],
        n: u64,
        body: &[u8],
        window: u64,
        loss_timeout: Duration,
    ) -> io::Result<RequestRun> {
        self.closed_loop(n, window, loss_timeout, |i, branch, msg| {
            let dlg = &mut dialogs[i as usize % dialogs.len()];
            dlg.cseq += 1;
            write!(
                msg,
                "NOTIFY {target} SIP/2.0\r\n\
                 Via: SIP/2.0/UDP {AGENT_ADDR};branch=z9hG4bKbench{branch}\r\n\
                 Max-Forwards: 70\r\n\
                 From: <{pres}>;tag={ltag}\r\n\
                 To: <{watcher}>;tag={gtag}\r\n\
                 Call-ID: {cid}\r\n\
                 CSeq: {cseq} NOTIFY\r\n\
                 Contact: <sip:{user}@{AGENT_ADDR}>\r\n\
                 Event: presence\r\n\
                 Subscription-State: active;expires=3600\r\n\
                 Content-Type: application/pidf+xml\r\n\
                 Content-Length: {len}\r\n\r\n",
                target = dlg.target,
                pres = dlg.presentity,
                ltag = dlg.local_tag,
                watcher = dlg.watcher,
                gtag = dlg.gw_tag,
                cid = dlg.call_id,
                cseq = dlg.cseq,
                user = user_of(&dlg.presentity),
                len = body.len(),
            )?;
            msg.extend_from_slice(body);
            Ok(())
        })
    }

    /// Sends `n` out-of-dialog MESSAGEs (`text/plain`) from SIP user `aliceN` to XMPP user
    /// `carolN` through the gateway (N = i mod `users`), at most `window` unanswered.
    pub fn message_run(
        &mut self,
        n: u64,
        users: u64,
        window: u64,
        loss_timeout: Duration,
    ) -> io::Result<RequestRun> {
        self.closed_loop(n, window, loss_timeout, |i, branch, msg| {
            let u = i % users;
            let body = sip_message_text(i);
            write!(
                msg,
                "MESSAGE sip:carol{u}*xmpp.example@xmpp-gw.sip.example SIP/2.0\r\n\
                 Via: SIP/2.0/UDP {AGENT_ADDR};branch=z9hG4bKbench{branch}\r\n\
                 Max-Forwards: 70\r\n\
                 From: <sip:alice{u}@sip.example>;tag=m{branch}\r\n\
                 To: <sip:carol{u}*xmpp.example@xmpp-gw.sip.example>\r\n\
                 Call-ID: bench-message-{branch}\r\n\
                 CSeq: 1 MESSAGE\r\n\
                 Content-Type: text/plain\r\n\
                 Content-Length: {len}\r\n\r\n{body}",
                len = body.len(),
            )
        })
    }

    /// Sends `n` requests that `build(i, branch, buf)` writes, at most `window` unanswered;
    /// unanswered requests count as lost after `loss_timeout` without any answer.
    fn closed_loop(
        &mut self,
        n: u64,
        window: u64,
        loss_timeout: Duration,
        mut build: impl FnMut(u64, u64, &mut Vec<u8>) -> io::Result<()>,
    ) -> io::Result<RequestRun> {
        let answered = |s: &Shared| s.ok.load(Ordering::Relaxed) + s.failed.load(Ordering::Relaxed);
        let (ok0, failed0) = (
            self.shared.ok.load(Ordering::Relaxed),
            self.shared.failed.load(Ordering::Relaxed),
        );
        let base = answered(&self.shared);
        let start = Instant::now();
        let mut run = RequestRun::default();
        let mut msg = Vec::with_capacity(8192);
        let mut last_progress = (Instant::now(), base);
        let mut wait_for = |run: &mut RequestRun, limit: u64| {
            loop {
                let done = answered(&self.shared) - base + run.lost;
                if run.sent.saturating_sub(done) <= limit {
                    return;
                }
                let now = answered(&self.shared);
                if now != last_progress.1 {
                    last_progress = (Instant::now(), now);
                } else if last_progress.0.elapsed() > loss_timeout {
                    run.lost += run.sent.saturating_sub(done);
                    last_progress = (Instant::now(), now);
                }
                std::thread::sleep(Duration::from_micros(20));
            }
        };
        for i in 0..n {
            wait_for(&mut run, window.saturating_sub(1));
            self.branch += 1;
            msg.clear();
            build(i, self.branch, &mut msg)?;
            self.sock.send_to(&msg, self.kamailio)?;
            run.sent += 1;
        }
        wait_for(&mut run, 0);
        run.elapsed = start.elapsed();
        run.ok = self.shared.ok.load(Ordering::Relaxed) - ok0;
        run.failed = self.shared.failed.load(Ordering::Relaxed) - failed0;
        Ok(run)
    }

    /// SIP MESSAGEs the gateway has sent to this agent so far (each answered 200).
    pub fn messages_received(&self) -> u64 {
        self.shared.messages.load(Ordering::Relaxed)
    }

    /// The last SIP MESSAGE the gateway sent (for the log).
    pub fn last_message(&self) -> Option<String> {
        self.shared.last_message.lock().unwrap().clone()
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.reader.take() {
            let _ = h.join();
        }
    }
}

/// `sip:alice7@sip.example` -> `alice7`.
fn user_of(uri: &str) -> &str {
    let s = uri.strip_prefix("sip:").unwrap_or(uri);
    s.split('@').next().unwrap_or(s)
}

/// Root may go beyond rmem_max (SO_RCVBUFFORCE); a failure only leaves the default.
fn set_rcvbuf(sock: &UdpSocket, bytes: libc::c_int) {
    // SAFETY: setsockopt on a socket we own, with a pointer to a local c_int.
    unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVBUFFORCE,
            (&bytes as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
    }
}

fn read_loop(sock: &UdpSocket, shared: &Shared) {
    let mut buf = vec![0u8; 65536];
    while !shared.stop.load(Ordering::Relaxed) {
        let Ok((len, from)) = sock.recv_from(&mut buf) else {
            continue;
        };
        let data = &buf[..len];
        if let Some(code) = data
            .strip_prefix(b"SIP/2.0 ")
            .and_then(|r| std::str::from_utf8(r.get(..3)?).ok()?.parse::<u16>().ok())
        {
            match code {
                100..=199 => {}
                200..=299 => {
                    shared.ok.fetch_add(1, Ordering::Relaxed);
                }
                _ => {
                    shared.failed.fetch_add(1, Ordering::Relaxed);
                    let mut first = shared.first_failure.lock().unwrap();
                    if first.is_none() {
                        *first = Some(String::from_utf8_lossy(data).into_owned());
                    }
                }
            }
        } else if data.starts_with(b"MESSAGE ") {
            if let Some(m) = SipMessage::parse(data) {
                shared.messages.fetch_add(1, Ordering::Relaxed);
                answer_message(sock, from, &m);
                *shared.last_message.lock().unwrap() =
                    Some(String::from_utf8_lossy(data).into_owned());
            }
        } else if data.starts_with(b"SUBSCRIBE ") {
            shared.subscribes.fetch_add(1, Ordering::Relaxed);
            if let Some(m) = SipMessage::parse(data) {
                answer_subscribe(sock, from, &m, shared);
            }
        }
    }
}

/// 200 to a MESSAGE from the gateway (XMPP chat -> SIP).
fn answer_message(sock: &UdpSocket, from: SocketAddr, m: &SipMessage) {
    let (Some(to), Some(from_hdr), Some(call_id), Some(cseq)) = (
        m.header("To"),
        m.header("From"),
        m.call_id(),
        m.header("CSeq"),
    ) else {
        return;
    };
    let mut reply = String::from("SIP/2.0 200 OK\r\n");
    for via in m.header_all("Via") {
        reply.push_str(&format!("Via: {via}\r\n"));
    }
    reply.push_str(&format!(
        "From: {from_hdr}\r\nTo: {to};tag=agm\r\nCall-ID: {call_id}\r\nCSeq: {cseq}\r\n\
         Content-Length: 0\r\n\r\n"
    ));
    let _ = sock.send_to(reply.as_bytes(), from);
}

/// 200 to a gateway SUBSCRIBE for `sip:aliceN@sip.example`; a retransmission gets the same tag.
fn answer_subscribe(sock: &UdpSocket, from: SocketAddr, m: &SipMessage, shared: &Shared) {
    let (Some(to), Some(from_hdr), Some(call_id), Some(cseq), Some(contact)) = (
        m.header("To"),
        m.header("From"),
        m.call_id(),
        m.header("CSeq"),
        m.header("Contact"),
    ) else {
        return;
    };
    let presentity = uri_of(to).to_string();
    let Some(index) = user_of(&presentity)
        .strip_prefix("alice")
        .and_then(|n| n.parse::<usize>().ok())
    else {
        return;
    };
    let local_tag = format!("ag{index}");
    let mut reply = String::from("SIP/2.0 200 OK\r\n");
    for via in m.header_all("Via") {
        reply.push_str(&format!("Via: {via}\r\n"));
    }
    let to_out = if tag_param(to).is_some() {
        to.to_string()
    } else {
        format!("{to};tag={local_tag}")
    };
    reply.push_str(&format!(
        "From: {from_hdr}\r\nTo: {to_out}\r\nCall-ID: {call_id}\r\nCSeq: {cseq}\r\n\
         Contact: <sip:{}@{AGENT_ADDR}>\r\nExpires: 3600\r\nContent-Length: 0\r\n\r\n",
        user_of(&presentity)
    ));
    let _ = sock.send_to(reply.as_bytes(), from);
    let (Some(gw_tag), Some(watcher)) = (tag_param(from_hdr), Some(uri_of(from_hdr))) else {
        return;
    };
    shared.dialogs.lock().unwrap().insert(
        index,
        GwDialog {
            call_id: call_id.to_string(),
            gw_tag: gw_tag.to_string(),
            watcher: watcher.to_string(),
            presentity,
            target: uri_of(contact).to_string(),
            local_tag,
            cseq: 1,
        },
    );
}
