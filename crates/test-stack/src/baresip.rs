//! A real third-party SIP UA: baresip 1.0.0 (Debian's `baresip`), driven through its `cons`
//! UDP console.
//!
//! ```no_run
//! use kamailio_test_stack::{Baresip, Stack, StackConfig, sip_for_jid};
//! use std::time::Duration;
//! let stack = Stack::start(StackConfig::c_baseline());
//! let bob_sip = sip_for_jid("bob@xmpp.example");
//! // On the thread that called Stack::start: baresip inherits the stack's namespace.
//! let alice = Baresip::start_with_contacts("sip:alice@sip.example", &[&bob_sip]).unwrap();
//! alice
//!     .wait_contact_status(&bob_sip, Duration::from_secs(5), |s| s == "Online")
//!     .unwrap();
//! alice.message(&bob_sip, "hello").unwrap();
//! alice.offline().unwrap();
//! alice.quit().unwrap();
//! ```
//!
//! What the driver does:
//! - gives the namespace a default route (`ip route replace default dev lo`, idempotent):
//!   with only `lo` and no route baresip finds no local address and every request fails
//!   with `Protocol not supported`;
//! - writes a config dir (in a private temp dir): `accounts` with one account for the AOR
//!   (`regint=600;pubint=600;outbound="sip:127.0.0.1:5060;transport=udp";mwi=no`, no auth),
//!   `contacts`, and `config` loading only `cons.so` (UDP console on a free port),
//!   `account.so` (module_tmp), then `contact.so`, `menu.so` (prints received MESSAGEs) and
//!   `presence.so` as module_app: presence must come after account, or baresip never
//!   PUBLISHes; no audio modules;
//! - starts `baresip -f DIR -s` (`-s`: every SIP message sent or received is written to the
//!   log, which [`Baresip::trace`] parses) and waits until a REGISTER is answered 200.
//!
//! baresip 1.0.0's limits, all checked in its source (v1.0.0) and by running it:
//! - Contacts come only from the `contacts` file read at start: 1.0.0 has no console command
//!   to add one. Each contact with `;presence=p2p` is SUBSCRIBEd to (event presence, 600 s)
//!   one second after start, so pass the URIs to watch to [`Baresip::start_with`].
//! - `/message` sends to the "current contact" only; [`Baresip::message`] moves the current
//!   contact with `/contact_next` / `/contact_prev` first, so the target must be a contact too.
//!   A message text cannot contain a line break (the console ends a command at CR or LF).
//! - After its first 200 to REGISTER baresip PUBLISHes `open` by itself (start waits for
//!   that PUBLISH's answer too). `/presence_online` and `/presence_offline` PUBLISH only on a
//!   change (an empty `<rpid:activities/>` and `<basic>open|closed</basic>`, never away, busy
//!   or a note). [`Baresip::online`] therefore returns `None` when nothing was sent.
//! - It shows a watched contact as Unknown (no NOTIFY yet or a NOTIFY without body), Online
//!   (`<basic>open`), Offline (closed, or `<rpid:away/>`) or Busy (`<rpid:busy/>` or
//!   `<rpid:on-the-phone/>`), from `/contacts`.
//! - Received MESSAGEs (text/plain only; others get 415) are printed by the menu module to the
//!   console as `sip:from: "text"`; the console output reaches the last address that sent a
//!   command, i.e. this driver. Texts longer than about 500 bytes are cut there (the SIP
//!   trace has them whole: [`Baresip::trace`]).
//!
//! Timing (2-core test machine): process start to registered (and first PUBLISH answered)
//! about 100 ms, most of it waiting for the console to listen; the SUBSCRIBEs to watched
//! contacts go out 1 s after start (baresip's own timer). `BARESIP_TIMING=1` prints the
//! start-up times.

use crate::config::SIP_PORT;
use crate::process::{Proc, tail, wait_until};
use crate::sip_msg::SipMessage;
use crate::temp_dir;
use std::io;
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Deadline for start-up (process start to registered and first PUBLISH answered).
pub const START_TIMEOUT: Duration = Duration::from_secs(10);
/// Deadline for a console command's reply, and for a request's final response in the trace.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(5);

/// A contact of baresip's `contacts` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    pub uri: String,
    /// `;presence=p2p`: baresip SUBSCRIBEs to its presence.
    pub presence: bool,
}

impl Contact {
    /// A contact baresip subscribes to.
    pub fn watched(uri: &str) -> Contact {
        Contact {
            uri: uri.to_string(),
            presence: true,
        }
    }

    /// A contact only to send messages to.
    pub fn plain(uri: &str) -> Contact {
        Contact {
            uri: uri.to_string(),
            presence: false,
        }
    }
}

/// A MESSAGE as baresip reported it on its console.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaresipMessage {
    /// The From URI.
    pub from: String,
    /// The body (text/plain) as printed.
    pub text: String,
}

/// One SIP message of baresip's `-s` trace.
#[derive(Debug, Clone)]
pub struct TracedSip {
    /// True for what baresip sent, false for what it received.
    pub outgoing: bool,
    /// `UDP 127.0.0.1:a -> 127.0.0.1:b` as printed.
    pub route: String,
    pub msg: SipMessage,
    /// Byte offset of the block in the log (for "after this point" searches).
    pub offset: usize,
}

#[derive(Default)]
struct ConsState {
    /// Every datagram the console sent us, ANSI colour codes removed.
    datagrams: Vec<String>,
    messages: Vec<BaresipMessage>,
    messages_taken: Vec<bool>,
}

#[derive(Default)]
struct Shared {
    state: Mutex<ConsState>,
    cond: Condvar,
    stop: AtomicBool,
}

/// A running, registered baresip (see the module docs).
pub struct Baresip {
    aor: String,
    dir: PathBuf,
    sip_port: u16,
    cons_addr: SocketAddr,
    sock: Arc<UdpSocket>,
    shared: Arc<Shared>,
    reader: Option<JoinHandle<()>>,
    contacts: Vec<Contact>,
    current: Mutex<usize>,
    /// Serialises console commands (replies are matched by order).
    cmd_lock: Mutex<()>,
    proc: Option<Proc>,
}

impl Baresip {
    /// Starts baresip for `aor` (`sip:user@sip.example`) without contacts and waits until it
    /// is registered and its first PUBLISH (open) is answered.
    pub fn start(aor: &str) -> io::Result<Baresip> {
        Self::start_with(aor, &[])
    }

    /// [`Baresip::start`] with contacts it subscribes to (`;presence=p2p`).
    pub fn start_with_contacts(aor: &str, watch: &[&str]) -> io::Result<Baresip> {
        let contacts: Vec<Contact> = watch.iter().map(|u| Contact::watched(u)).collect();
        Self::start_with(aor, &contacts)
    }

    /// [`Baresip::start`] with any contacts (watched or message-only).
    pub fn start_with(aor: &str, contacts: &[Contact]) -> io::Result<Baresip> {
        ensure_default_route()?;
        let user = aor
            .trim_start_matches("sip:")
            .split('@')
            .next()
            .unwrap_or("ua");
        let dir = temp_dir::fresh("baresip", user)?;
        let sip_port = free_port()?;
        let cons_port = free_port()?;
        write_config(&dir, aor, contacts, sip_port, cons_port)?;
        let mut cmd = Command::new("baresip");
        cmd.arg("-f").arg(&dir).arg("-s").current_dir(&dir);
        let started = Instant::now();
        let proc = Proc::spawn("baresip", cmd, &dir.join("baresip.log"))?;
        let sock = UdpSocket::bind("127.0.0.1:0")?;
        sock.set_read_timeout(Some(Duration::from_millis(100)))?;
        let sock = Arc::new(sock);
        let shared = Arc::new(Shared::default());
        let reader = {
            let (s, sh) = (sock.clone(), shared.clone());
            std::thread::Builder::new()
                .name(format!("baresip-cons-{cons_port}"))
                .spawn(move || read_loop(&s, &sh))?
        };
        let b = Baresip {
            aor: aor.to_string(),
            dir,
            sip_port,
            cons_addr: SocketAddr::from(([127, 0, 0, 1], cons_port)),
            sock,
            shared,
            reader: Some(reader),
            contacts: contacts.to_vec(),
            current: Mutex::new(0),
            cmd_lock: Mutex::new(()),
            proc: Some(proc),
        };
        b.await_ready(started).map_err(|e| b.with_log(e))?;
        Ok(b)
    }

    fn await_ready(&self, started: Instant) -> io::Result<()> {
        // The console answers once the cons module is loaded; the command also makes this
        // socket the console's peer, so received MESSAGEs are printed to it.
        wait_until("baresip's console", START_TIMEOUT, || {
            self.proc().check_alive()?;
            match self.command_timeout("/contacts", Duration::from_millis(50)) {
                Ok(_) => Ok(Some(())),
                Err(e) if e.kind() == io::ErrorKind::TimedOut => Ok(None),
                Err(e) => Err(e),
            }
        })?;
        self.expect_first_ok("REGISTER")?;
        let registered = started.elapsed();
        self.expect_first_ok("PUBLISH")?;
        if std::env::var_os("BARESIP_TIMING").is_some() {
            eprintln!(
                "baresip {}: registered after {registered:?}, published after {:?}",
                self.aor,
                started.elapsed()
            );
        }
        Ok(())
    }

    fn proc(&self) -> &Proc {
        self.proc.as_ref().expect("baresip running")
    }

    fn with_log(&self, e: io::Error) -> io::Error {
        io::Error::new(
            e.kind(),
            format!(
                "baresip {}: {e}\n--- baresip.log (tail) ---\n{}\n(files in {})",
                self.aor,
                tail(&strip_ansi(&self.log()), 40),
                self.dir.display()
            ),
        )
    }

    /// The AOR.
    pub fn aor(&self) -> &str {
        &self.aor
    }

    /// baresip's SIP port on 127.0.0.1 (UDP and TCP).
    pub fn sip_port(&self) -> u16 {
        self.sip_port
    }

    /// The config dir (also holds `baresip.log`); removed on drop unless the thread panics or
    /// `KEEP_STACK_DIR` is set.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The whole log: stdout and stderr, with the `-s` SIP trace.
    pub fn log(&self) -> String {
        self.proc.as_ref().map(Proc::log).unwrap_or_default()
    }

    /// Runs a console command (`/contacts`, `/presence_online`, ...; a leading `/` is
    /// added when missing) and returns its output (without the echo, ANSI codes removed).
    pub fn command(&self, cmd: &str) -> io::Result<String> {
        self.command_timeout(cmd, COMMAND_TIMEOUT)
    }

    fn command_timeout(&self, cmd: &str, timeout: Duration) -> io::Result<String> {
        if cmd.contains(['\r', '\n']) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "baresip's console ends a command at CR or LF: no line breaks in a command",
            ));
        }
        let cmd = if cmd.starts_with('/') {
            cmd.to_string()
        } else {
            format!("/{cmd}")
        };
        let _guard = self.cmd_lock.lock().unwrap();
        let start = self.shared.state.lock().unwrap().datagrams.len();
        self.sock
            .send_to(format!("{cmd}\n").as_bytes(), self.cons_addr)?;
        // The reply to a command is one datagram: the echo of every keystroke
        // ("/\r/c\r/co\r...\r/cmd\n") followed by the command's output.
        let echo = format!("{cmd}\n");
        let deadline = Instant::now() + timeout;
        let mut st = self.shared.state.lock().unwrap();
        loop {
            if let Some(d) = st.datagrams[start..]
                .iter()
                .find(|d| d.starts_with('/') && d.contains(&echo))
            {
                let at = d.find(&echo).unwrap() + echo.len();
                return Ok(d[at..].to_string());
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("no console reply to {cmd:?} within {timeout:?}"),
                ));
            }
            st = self.shared.cond.wait_timeout(st, deadline - now).unwrap().0;
        }
    }

    /// `/presence_online`: returns the status of the final response to the PUBLISH it
    /// sent, or `None` when baresip was online already (then it sends nothing).
    pub fn online(&self) -> io::Result<Option<u16>> {
        self.presence_command("/presence_online")
    }

    /// `/presence_offline` (PUBLISH closed): as [`Baresip::online`].
    pub fn offline(&self) -> io::Result<Option<u16>> {
        self.presence_command("/presence_offline")
    }

    fn presence_command(&self, cmd: &str) -> io::Result<Option<u16>> {
        let offset = self.log().len();
        let n_before = self.shared.state.lock().unwrap().datagrams.len();
        self.command(cmd)?;
        // "presence: update status of ..." is logged (to the console too) only on a change.
        let changed = self.shared.state.lock().unwrap().datagrams[n_before..]
            .iter()
            .any(|d| d.contains("presence: update status of"));
        if !changed {
            return Ok(None);
        }
        wait_until(
            &format!("the final response to the PUBLISH of {cmd}"),
            COMMAND_TIMEOUT,
            || Ok(self.final_response_to("PUBLISH", offset)),
        )
        .map(Some)
        .map_err(|e| self.with_log(e))
    }

    /// The `/contacts` listing.
    pub fn contacts_listing(&self) -> io::Result<String> {
        self.command("/contacts")
    }

    /// The presence status baresip shows for contact `uri` in `/contacts` (`Unknown`,
    /// `Online`, `Offline`, `Busy`); `None` when `uri` is not a contact or baresip shows no
    /// status for it.
    pub fn contact_status(&self, uri: &str) -> io::Result<Option<String>> {
        let listing = self.contacts_listing()?;
        Ok(parse_contact_status(&listing, uri))
    }

    /// Polls [`Baresip::contact_status`] until `pred` accepts it; returns it.
    pub fn wait_contact_status(
        &self,
        uri: &str,
        timeout: Duration,
        pred: impl Fn(&str) -> bool,
    ) -> io::Result<String> {
        let mut last = None;
        wait_until(&format!("baresip's status of {uri}"), timeout, || {
            let s = self.contact_status(uri)?;
            last.clone_from(&s);
            Ok(s.filter(|s| pred(s)))
        })
        .map_err(|e| io::Error::new(e.kind(), format!("{e}; last status shown: {last:?}")))
    }

    /// Sends a MESSAGE (text/plain) to contact `uri`: makes it the current contact, then
    /// `/message text`. Returns the status of the final response (from the trace).
    pub fn message(&self, uri: &str, text: &str) -> io::Result<u16> {
        let idx = self
            .contacts
            .iter()
            .position(|c| c.uri == uri)
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "{uri} is not one of baresip's contacts: baresip 1.0.0 sends MESSAGE \
                         only to its current contact (pass it to Baresip::start_with)"
                    ),
                )
            })?;
        {
            let mut cur = self.current.lock().unwrap();
            while *cur != idx {
                let (cmd, next) = if *cur < idx {
                    ("/contact_next", *cur + 1)
                } else {
                    ("/contact_prev", *cur - 1)
                };
                let out = self.command(cmd)?;
                let want = format!("<{}>", self.contacts[next].uri);
                if !out.contains("Current contact:") || !out.contains(&want) {
                    return Err(io::Error::other(format!(
                        "{cmd} did not select {want}: {out:?}"
                    )));
                }
                *cur = next;
            }
        }
        let offset = self.log().len();
        let out = self.command(&format!("/message {text}"))?;
        if out.contains("failed") || out.contains("not set") {
            return Err(io::Error::other(format!("/message: {out}")));
        }
        wait_until(
            &format!("the final response to the MESSAGE to {uri}"),
            COMMAND_TIMEOUT,
            || Ok(self.final_response_to("MESSAGE", offset)),
        )
        .map_err(|e| self.with_log(e))
    }

    /// Every MESSAGE baresip reported so far.
    pub fn received_messages(&self) -> Vec<BaresipMessage> {
        self.shared.state.lock().unwrap().messages.clone()
    }

    /// Waits for a reported MESSAGE matching `pred` that no earlier `wait_message` returned.
    pub fn wait_message(
        &self,
        timeout: Duration,
        pred: impl Fn(&BaresipMessage) -> bool,
    ) -> io::Result<BaresipMessage> {
        let deadline = Instant::now() + timeout;
        let mut st = self.shared.state.lock().unwrap();
        loop {
            if let Some(i) =
                (0..st.messages.len()).find(|&i| !st.messages_taken[i] && pred(&st.messages[i]))
            {
                st.messages_taken[i] = true;
                return Ok(st.messages[i].clone());
            }
            let now = Instant::now();
            if now >= deadline {
                let got = st.messages.clone();
                drop(st);
                return Err(self.with_log(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("no matching MESSAGE within {timeout:?}; reported: {got:?}"),
                )));
            }
            st = self.shared.cond.wait_timeout(st, deadline - now).unwrap().0;
        }
    }

    /// Everything the console sent to the driver so far (log lines, command output,
    /// received messages), ANSI codes removed.
    pub fn console_output(&self) -> Vec<String> {
        self.shared.state.lock().unwrap().datagrams.clone()
    }

    /// The SIP messages of the `-s` trace, in log order.
    pub fn trace(&self) -> Vec<TracedSip> {
        parse_trace(&self.log())
    }

    /// Polls the trace until a message matching `pred` appears; returns it.
    pub fn wait_trace(
        &self,
        timeout: Duration,
        pred: impl Fn(&TracedSip) -> bool,
    ) -> io::Result<TracedSip> {
        wait_until("a matching SIP message in baresip's trace", timeout, || {
            Ok(self.trace().into_iter().find(|t| pred(t)))
        })
        .map_err(|e| self.with_log(e))
    }

    /// The status of the final response baresip received to its last `method` request sent
    /// at or after log offset `offset` (None while unanswered or not sent).
    /// Waits for the final response to baresip's first `method` request; fails unless 200.
    fn expect_first_ok(&self, method: &str) -> io::Result<()> {
        let code = wait_until(
            &format!("a final response to baresip's first {method}"),
            START_TIMEOUT,
            || {
                self.proc().check_alive()?;
                Ok(self.final_response_to(method, 0))
            },
        )?;
        if code != 200 {
            return Err(io::Error::other(format!("first {method} answered {code}")));
        }
        Ok(())
    }

    fn final_response_to(&self, method: &str, offset: usize) -> Option<u16> {
        let trace = self.trace();
        let req = trace
            .iter()
            .rev()
            .find(|t| t.offset >= offset && t.outgoing && t.msg.method() == Some(method))?;
        let (cid, cseq) = (req.msg.call_id()?, req.msg.cseq()?);
        trace
            .iter()
            .filter(|t| t.offset > req.offset && !t.outgoing && !t.msg.is_request())
            .filter(|t| t.msg.call_id() == Some(cid) && t.msg.cseq().as_ref() == Some(&cseq))
            .filter_map(|t| t.msg.status())
            .find(|s| *s >= 200)
    }

    /// `/quit`: baresip un-PUBLISHes, ends its subscriptions, un-REGISTERs and exits;
    /// waits (5 s) for the exit.
    pub fn quit(mut self) -> io::Result<()> {
        let _ = self.sock.send_to(b"/quit\n", self.cons_addr);
        let res = wait_until("baresip to exit after /quit", COMMAND_TIMEOUT, || {
            Ok(self.proc().exited().map(|_| ()))
        })
        .map_err(|e| self.with_log(e));
        self.proc.take();
        res
    }
}

impl Drop for Baresip {
    fn drop(&mut self) {
        let panicking = std::thread::panicking();
        if panicking && let Some(p) = &self.proc {
            eprintln!(
                "===== baresip {} log (tail) =====\n{}",
                self.aor,
                tail(&strip_ansi(&p.log()), 80)
            );
        }
        self.proc.take();
        self.shared.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.reader.take() {
            let _ = t.join();
        }
        if !panicking && std::env::var_os("KEEP_STACK_DIR").is_none() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

fn read_loop(sock: &UdpSocket, shared: &Shared) {
    let mut buf = vec![0u8; 65536];
    while !shared.stop.load(Ordering::Relaxed) {
        let Ok(len) = sock.recv(&mut buf) else {
            continue; // read timeout: check stop
        };
        let text = strip_ansi(&String::from_utf8_lossy(&buf[..len]));
        let mut st = shared.state.lock().unwrap();
        if let Some(m) = parse_received_message(&text) {
            st.messages.push(m);
            st.messages_taken.push(false);
        }
        st.datagrams.push(text);
        drop(st);
        shared.cond.notify_all();
    }
}

/// menu's line for a received MESSAGE: `\r<from>: "<text>"\n` (one datagram).
fn parse_received_message(d: &str) -> Option<BaresipMessage> {
    let rest = d.strip_prefix('\r')?;
    let (from, text) = rest.split_once(": \"")?;
    if from.contains(char::is_whitespace) || !from.contains(':') {
        return None;
    }
    let text = text.strip_suffix('\n')?.strip_suffix('"')?;
    Some(BaresipMessage {
        from: from.to_string(),
        text: text.to_string(),
    })
}

/// The status shown for `uri` in a `/contacts` listing.
pub fn parse_contact_status(listing: &str, uri: &str) -> Option<String> {
    let want = format!("<{uri}>");
    let line = listing.lines().find(|l| l.trim_end().ends_with(&want))?;
    let line = line.trim_start().trim_start_matches('>').trim_start();
    let word = line.split_whitespace().next()?;
    matches!(word, "Unknown" | "Online" | "Offline" | "Busy").then(|| word.to_string())
}

/// Removes ANSI escape sequences (`ESC [ ... letter`).
pub fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        if c == '\x1b' && it.peek() == Some(&'[') {
            it.next();
            for c in it.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Splits a baresip `-s` log into its SIP messages: each is printed as
/// `ESC[36;1m#\n<transport> <src> -> <dst>\n<message>ESC[;m\n`.
pub fn parse_trace(log: &str) -> Vec<TracedSip> {
    const START: &str = "\x1b[36;1m#\n";
    const END: &str = "\x1b[;m";
    let mut out = Vec::new();
    let mut pos = 0;
    while let Some(i) = log[pos..].find(START) {
        let block_start = pos + i;
        let body_start = block_start + START.len();
        let Some(end) = log[body_start..].find(END) else {
            break; // still being written
        };
        let block = &log[body_start..body_start + end];
        pos = body_start + end;
        let Some((route, msg)) = block.split_once('\n') else {
            continue;
        };
        let Some(msg) = SipMessage::parse(msg.as_bytes()) else {
            continue;
        };
        let outgoing = route
            .split_whitespace()
            .nth(1)
            .is_some_and(|src| !src.ends_with(&format!(":{SIP_PORT}")));
        out.push(TracedSip {
            outgoing,
            route: route.to_string(),
            msg,
            offset: block_start,
        });
    }
    out
}

fn write_config(
    dir: &Path,
    aor: &str,
    contacts: &[Contact],
    sip_port: u16,
    cons_port: u16,
) -> io::Result<()> {
    std::fs::write(
        dir.join("config"),
        format!(
            "# Generated by kamailio-test-stack (baresip 1.0.0).\n\
             poll_method\t\tepoll\n\
             sip_listen\t\t127.0.0.1:{sip_port}\n\
             module_path\t\t/usr/lib/baresip/modules\n\
             module\t\t\tcons.so\n\
             module_tmp\t\taccount.so\n\
             module_app\t\tcontact.so\n\
             module_app\t\tmenu.so\n\
             # After account.so, or it never PUBLISHes.\n\
             module_app\t\tpresence.so\n\
             cons_listen\t\t127.0.0.1:{cons_port}\n\
             audio_player\t\t\n\
             audio_source\t\t\n\
             audio_alert\t\t\n"
        ),
    )?;
    let (addr, params) = match aor.split_once(';') {
        Some((a, p)) => (a, format!(";{p}")),
        None => (aor, String::new()),
    };
    let transport = if params.contains("transport=") {
        ""
    } else {
        ";transport=udp"
    };
    std::fs::write(
        dir.join("accounts"),
        format!(
            "<{addr}{params}{transport}>;regint=600;pubint=600;\
             outbound=\"sip:127.0.0.1:{SIP_PORT};transport=udp\";mwi=no;answermode=manual\n"
        ),
    )?;
    let mut lines = String::new();
    for c in contacts {
        let name = c
            .uri
            .trim_start_matches("sip:")
            .split('@')
            .next()
            .unwrap_or("contact");
        lines.push_str(&format!(
            "\"{}\" <{}>{}\n",
            name.replace('"', ""),
            c.uri,
            if c.presence { ";presence=p2p" } else { "" }
        ));
    }
    std::fs::write(dir.join("contacts"), lines)
}

/// `ip route replace default dev lo` in the calling thread's namespace (idempotent).
pub fn ensure_default_route() -> io::Result<()> {
    let out = Command::new("ip")
        .args(["route", "replace", "default", "dev", "lo"])
        .output()
        .map_err(|e| io::Error::new(e.kind(), format!("running ip (iproute2): {e}")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "ip route replace default dev lo: {}",
            String::from_utf8_lossy(&out.stderr)
        )))
    }
}

/// A port free for both UDP and TCP on 127.0.0.1.
fn free_port() -> io::Result<u16> {
    for _ in 0..20 {
        let udp = UdpSocket::bind("127.0.0.1:0")?;
        let port = udp.local_addr()?.port();
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return Ok(port);
        }
    }
    Err(io::Error::other("no free UDP+TCP port on 127.0.0.1"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contact_status_and_messages_parse() {
        let listing = "\n--- Contacts (2) ---\n>     \x1b[32mOnline\x1b[;m bob <sip:bob*x@gw>\n  \
                       \x1b[31mOffline\x1b[;m c <sip:c@d>\n\n";
        let l = strip_ansi(listing);
        assert_eq!(
            parse_contact_status(&l, "sip:bob*x@gw").as_deref(),
            Some("Online")
        );
        assert_eq!(
            parse_contact_status(&l, "sip:c@d").as_deref(),
            Some("Offline")
        );
        assert_eq!(parse_contact_status(&l, "sip:e@d"), None);
        let m = parse_received_message("\rsip:carol@sip.example: \"hi \"q\" < &\"\n").unwrap();
        assert_eq!(m.from, "sip:carol@sip.example");
        assert_eq!(m.text, "hi \"q\" < &");
        assert!(parse_received_message("presence: update status\n").is_none());
    }

    #[test]
    fn trace_parses() {
        let log = "baresip v1.0.0\n\x1b[36;1m#\nUDP 127.0.0.1:15060 -> 127.0.0.1:5060\n\
                   MESSAGE sip:b@c SIP/2.0\r\nCall-ID: 1\r\nCSeq: 1 MESSAGE\r\n\
                   Content-Length: 2\r\n\r\nhi\x1b[;m\nother\n\x1b[36;1m#\n\
                   UDP 127.0.0.1:5060 -> 127.0.0.1:15060\nSIP/2.0 200 OK\r\nCall-ID: 1\r\n\
                   CSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n\x1b[;m\n";
        let t = parse_trace(log);
        assert_eq!(t.len(), 2);
        assert!(t[0].outgoing && !t[1].outgoing);
        assert_eq!(t[0].msg.body, b"hi");
        assert_eq!(t[1].msg.status(), Some(200));
    }
}
