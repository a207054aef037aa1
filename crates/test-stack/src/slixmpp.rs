//! A real third-party XMPP client: slixmpp 1.8 (Debian's `python3-slixmpp`), driven through
//! `clients/xmpp_client.py`.
//!
//! ```no_run
//! use kamailio_test_stack::{Slixmpp, Stack, StackConfig};
//! use std::time::Duration;
//! let stack = Stack::start(StackConfig::c_baseline());
//! // On the thread that called Stack::start: the child inherits the stack's namespace.
//! let bob = Slixmpp::login("bob@xmpp.example/phone", "password").unwrap();
//! bob.roster_add("carol@xmpp.example").unwrap();
//! bob.subscribe("carol@xmpp.example").unwrap();
//! bob.presence(Some("away"), Some("lunch"), Some(5)).unwrap();
//! let p = bob
//!     .wait_presence(Duration::from_secs(5), |p| p.from.starts_with("carol@"))
//!     .unwrap();
//! bob.logout().unwrap();
//! ```
//!
//! How it works: the script runs as a child process (`/usr/bin/python3`, the interpreter
//! Debian's slixmpp is installed for; `$SLIXMPP_PYTHON` overrides it) in its own process group,
//! killed on drop. It connects to 127.0.0.1:5222 over plain TCP (STARTTLS disabled, SASL PLAIN
//! allowed unencrypted), so it works against Prosody with `c2s_require_encryption = false` and
//! against ejabberd without TLS. Commands and events are TAB-separated `key=value` lines (see
//! the script's docstring) over a Unix socket in a private temp dir; the script's own log
//! (slixmpp's logging, plus every stanza with `debug`) goes to `<dir>/slixmpp.log`, printed
//! by [`Slixmpp::log`]. Subscriptions are never answered automatically (slixmpp's
//! `auto_authorize` is off): a test answers with [`Slixmpp::subscribed`].
//!
//! Timing (2-core test machine, Prosody): process start to `session_start` about 110-190 ms;
//! a presence or message between two slixmpp users arrives within a few ms; after
//! [`Slixmpp::drop_connection`] Prosody sends the contacts `unavailable` within about 50 ms
//! (it sees the TCP FIN).

use crate::config::C2S_PORT;
use crate::process::{Proc, tail, wait_until};
use crate::temp_dir;
use std::io::{self, BufRead, BufReader, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// Deadline for the login (process start to `session_start`).
pub const LOGIN_TIMEOUT: Duration = Duration::from_secs(15);
/// Deadline for a command's acknowledgement.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(5);

/// The driver script (`crates/test-stack/clients/xmpp_client.py`).
pub fn script_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("clients/xmpp_client.py")
}

/// A `<presence/>` the client received, as slixmpp parsed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedPresence {
    pub from: String,
    pub to: Option<String>,
    /// The `type` attribute; `"available"` when the stanza has none.
    pub ptype: String,
    pub show: Option<String>,
    pub status: Option<String>,
    /// `xml:lang` of the `<status>` element, else of the stanza (None without a status).
    pub status_lang: Option<String>,
    /// `xml:lang` of the stanza.
    pub lang: Option<String>,
    /// `<priority>` as received (not parsed, so a bad value is visible).
    pub priority: Option<String>,
    /// The whole stanza as slixmpp serialises it.
    pub xml: String,
}

impl ReceivedPresence {
    /// The sender's bare JID.
    pub fn from_bare(&self) -> &str {
        self.from.split('/').next().unwrap_or(&self.from)
    }

    /// `<priority>` as a number, when it is one.
    pub fn priority_num(&self) -> Option<i32> {
        self.priority.as_deref()?.trim().parse().ok()
    }
}

/// A `<message/>` the client received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMessage {
    pub from: String,
    pub to: Option<String>,
    /// The `type` attribute; `"normal"` when absent.
    pub mtype: String,
    /// The `<body>` text exactly as received (None without a body).
    pub body: Option<String>,
    pub lang: Option<String>,
    pub xml: String,
}

impl ReceivedMessage {
    /// The sender's bare JID.
    pub fn from_bare(&self) -> &str {
        self.from.split('/').next().unwrap_or(&self.from)
    }
}

/// One item of a roster push (or of the initial roster result).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterItem {
    pub jid: String,
    /// none, to, from, both or remove.
    pub subscription: String,
    /// `subscribe` while an outgoing subscription is pending.
    pub ask: Option<String>,
    pub name: Option<String>,
}

/// What to send with [`Slixmpp::send_presence`].
#[derive(Debug, Clone, Default)]
pub struct PresenceSpec {
    /// Directed presence when set; broadcast otherwise.
    pub to: Option<String>,
    pub show: Option<String>,
    pub status: Option<String>,
    pub priority: Option<i8>,
    /// `xml:lang` of the stanza.
    pub lang: Option<String>,
}

#[derive(Default)]
struct State {
    bound_jid: Option<String>,
    presences: Vec<ReceivedPresence>,
    presences_taken: Vec<bool>,
    messages: Vec<ReceivedMessage>,
    messages_taken: Vec<bool>,
    roster: Vec<RosterItem>,
    /// (id, Ok or Err(text)).
    acks: Vec<(u32, Result<(), String>)>,
    errors: Vec<String>,
    disconnected: bool,
    /// The control socket reached EOF.
    closed: bool,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    cond: Condvar,
}

/// A logged-in slixmpp client (see the module docs).
pub struct Slixmpp {
    jid: String,
    dir: PathBuf,
    proc: Option<Proc>,
    ctl: Mutex<UnixStream>,
    shared: Arc<Shared>,
    ids: AtomicU32,
}

impl Slixmpp {
    /// Starts the script for `full_jid` (`user@domain/resource`) against 127.0.0.1:5222 and
    /// waits for `session_start` (logged in, roster fetched). Sends no presence.
    pub fn login(full_jid: &str, password: &str) -> io::Result<Slixmpp> {
        Self::login_at(full_jid, password, C2S_PORT, false)
    }

    /// [`Slixmpp::login`] to another c2s port, with slixmpp's debug log (every stanza) when
    /// `debug`.
    pub fn login_at(full_jid: &str, password: &str, port: u16, debug: bool) -> io::Result<Slixmpp> {
        let user = full_jid.split('@').next().unwrap_or_default();
        let dir = temp_dir::fresh("slixmpp", user)?;
        let sock_path = dir.join("control.sock");
        let listener = UnixListener::bind(&sock_path)?;
        listener.set_nonblocking(true)?;
        let python =
            std::env::var_os("SLIXMPP_PYTHON").unwrap_or_else(|| "/usr/bin/python3".into());
        let mut cmd = Command::new(python);
        cmd.arg(script_path())
            .arg(full_jid)
            .arg(password)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .arg("--control")
            .arg(&sock_path)
            .env("PYTHONUNBUFFERED", "1")
            .current_dir(&dir);
        if debug {
            cmd.arg("--debug");
        }
        let proc = Proc::spawn("slixmpp", cmd, &dir.join("slixmpp.log"))?;
        let fail = |e: io::Error, proc: &Proc| {
            io::Error::new(
                e.kind(),
                format!(
                    "slixmpp login of {full_jid}: {e}\n--- slixmpp.log ---\n{}",
                    tail(&proc.log(), 40)
                ),
            )
        };
        let stream = match wait_until("the script's control connection", LOGIN_TIMEOUT, || {
            proc.check_alive()?;
            match listener.accept() {
                Ok((s, _)) => Ok(Some(s)),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(None),
                Err(e) => Err(e),
            }
        }) {
            Ok(s) => s,
            Err(e) => return Err(fail(e, &proc)),
        };
        stream.set_nonblocking(false)?;
        let shared = Arc::new(Shared::default());
        {
            let (s, sh) = (stream.try_clone()?, shared.clone());
            std::thread::Builder::new()
                .name(format!("slixmpp-{full_jid}"))
                .spawn(move || read_loop(s, &sh))?;
        }
        let mut c = Slixmpp {
            jid: full_jid.to_string(),
            dir,
            proc: Some(proc),
            ctl: Mutex::new(stream),
            shared,
            ids: AtomicU32::new(1),
        };
        let bound = c.wait_state(LOGIN_TIMEOUT, "session_start", |st| st.bound_jid.clone());
        match bound {
            Ok(j) => {
                c.jid = j;
                Ok(c)
            }
            Err(e) => Err(fail(e, c.proc.as_ref().unwrap())),
        }
    }

    /// The full JID the server bound.
    pub fn jid(&self) -> &str {
        &self.jid
    }

    /// The bare JID.
    pub fn bare_jid(&self) -> &str {
        self.jid.split('/').next().unwrap_or(&self.jid)
    }

    /// The script's log (slixmpp's logging and Python tracebacks).
    pub fn log(&self) -> String {
        self.proc.as_ref().map(Proc::log).unwrap_or_default()
    }

    /// The client's private temp dir (control socket, log); removed on drop unless the thread
    /// panics or `KEEP_STACK_DIR` is set.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Sends a command and waits for its acknowledgement (or error).
    fn command(&self, verb: &str, fields: &[(&str, &str)]) -> io::Result<()> {
        let id = self.ids.fetch_add(1, Ordering::Relaxed);
        let mut line = String::from(verb);
        line.push_str(&format!("\tid={id}"));
        for (k, v) in fields {
            line.push('\t');
            line.push_str(k);
            line.push('=');
            line.push_str(&escape(v));
        }
        line.push('\n');
        self.ctl.lock().unwrap().write_all(line.as_bytes())?;
        let res = self.wait_state(COMMAND_TIMEOUT, &format!("the ack of {verb}"), |st| {
            st.acks
                .iter()
                .find(|(i, _)| *i == id)
                .map(|(_, r)| r.clone())
        })?;
        res.map_err(|e| io::Error::other(format!("slixmpp {verb} failed: {e}")))
    }

    /// Adds `jid` to the roster (roster set; returns once the server answered).
    pub fn roster_add(&self, jid: &str) -> io::Result<()> {
        self.command("roster_add", &[("jid", jid)])
    }

    /// Removes `jid` from the roster.
    pub fn roster_remove(&self, jid: &str) -> io::Result<()> {
        self.command("roster_remove", &[("jid", jid)])
    }

    /// `<presence type='subscribe' to=jid/>`.
    pub fn subscribe(&self, jid: &str) -> io::Result<()> {
        self.command("subscribe", &[("jid", jid)])
    }

    /// `<presence type='subscribed' to=jid/>` (approves jid's subscription).
    pub fn subscribed(&self, jid: &str) -> io::Result<()> {
        self.command("subscribed", &[("jid", jid)])
    }

    /// `<presence type='unsubscribe' to=jid/>`.
    pub fn unsubscribe(&self, jid: &str) -> io::Result<()> {
        self.command("unsubscribe", &[("jid", jid)])
    }

    /// `<presence type='unsubscribed' to=jid/>`.
    pub fn unsubscribed(&self, jid: &str) -> io::Result<()> {
        self.command("unsubscribed", &[("jid", jid)])
    }

    /// Broadcast available presence with optional `<show>`, `<status>`, `<priority>`.
    pub fn presence(
        &self,
        show: Option<&str>,
        status: Option<&str>,
        priority: Option<i8>,
    ) -> io::Result<()> {
        self.send_presence(&PresenceSpec {
            show: show.map(str::to_string),
            status: status.map(str::to_string),
            priority,
            ..PresenceSpec::default()
        })
    }

    /// Available presence as described by `p` (directed when `p.to` is set).
    pub fn send_presence(&self, p: &PresenceSpec) -> io::Result<()> {
        let prio = p.priority.map(|n| n.to_string());
        let mut f: Vec<(&str, &str)> = Vec::new();
        for (k, v) in [
            ("to", p.to.as_deref()),
            ("show", p.show.as_deref()),
            ("status", p.status.as_deref()),
            ("priority", prio.as_deref()),
            ("lang", p.lang.as_deref()),
        ] {
            if let Some(v) = v {
                f.push((k, v));
            }
        }
        self.command("presence", &f)
    }

    /// Broadcast `<presence type='unavailable'/>` (the session stays).
    pub fn unavailable(&self, status: Option<&str>) -> io::Result<()> {
        match status {
            Some(s) => self.command("unavailable", &[("status", s)]),
            None => self.command("unavailable", &[]),
        }
    }

    /// `<presence type='probe' to=jid/>`.
    pub fn probe(&self, jid: &str) -> io::Result<()> {
        self.command("probe", &[("jid", jid)])
    }

    /// A chat `<message>` with `body` (any Unicode; XML escaping is slixmpp's).
    pub fn message(&self, to: &str, body: &str) -> io::Result<()> {
        self.command("message", &[("to", to), ("body", body)])
    }

    /// A `<message>` of another type (`normal`, `headline`, ...).
    pub fn message_typed(&self, to: &str, mtype: &str, body: &str) -> io::Result<()> {
        self.command("message", &[("to", to), ("body", body), ("type", mtype)])
    }

    /// Waits for a received presence matching `pred` that no earlier `wait_presence` returned
    /// (it may have arrived before the call).
    pub fn wait_presence(
        &self,
        timeout: Duration,
        pred: impl Fn(&ReceivedPresence) -> bool,
    ) -> io::Result<ReceivedPresence> {
        self.wait_state(timeout, "a matching presence", |st| {
            let i = (0..st.presences.len())
                .find(|&i| !st.presences_taken[i] && pred(&st.presences[i]))?;
            st.presences_taken[i] = true;
            Some(st.presences[i].clone())
        })
        .map_err(|e| with_context(e, "presences received", &self.presences()))
    }

    /// Waits for a received message matching `pred` that no earlier `wait_message` returned.
    pub fn wait_message(
        &self,
        timeout: Duration,
        pred: impl Fn(&ReceivedMessage) -> bool,
    ) -> io::Result<ReceivedMessage> {
        self.wait_state(timeout, "a matching message", |st| {
            let i =
                (0..st.messages.len()).find(|&i| !st.messages_taken[i] && pred(&st.messages[i]))?;
            st.messages_taken[i] = true;
            Some(st.messages[i].clone())
        })
        .map_err(|e| with_context(e, "messages received", &self.messages()))
    }

    /// Waits until some roster push (any so far) matches `pred`.
    pub fn wait_roster(
        &self,
        timeout: Duration,
        pred: impl Fn(&RosterItem) -> bool,
    ) -> io::Result<RosterItem> {
        self.wait_state(timeout, "a matching roster push", |st| {
            st.roster.iter().find(|r| pred(r)).cloned()
        })
        .map_err(|e| with_context(e, "roster pushes", &self.roster_pushes()))
    }

    /// Every presence received so far, in order.
    pub fn presences(&self) -> Vec<ReceivedPresence> {
        self.shared.state.lock().unwrap().presences.clone()
    }

    /// Every message received so far, in order.
    pub fn messages(&self) -> Vec<ReceivedMessage> {
        self.shared.state.lock().unwrap().messages.clone()
    }

    /// Every roster item pushed so far, in order.
    pub fn roster_pushes(&self) -> Vec<RosterItem> {
        self.shared.state.lock().unwrap().roster.clone()
    }

    /// Errors the script reported outside of a command (e.g. failed SASL).
    pub fn errors(&self) -> Vec<String> {
        self.shared.state.lock().unwrap().errors.clone()
    }

    /// True once the script reported `disconnected` (e.g. the server closed the stream).
    pub fn is_disconnected(&self) -> bool {
        let st = self.shared.state.lock().unwrap();
        st.disconnected || st.closed
    }

    /// Clean logout: unavailable presence, `</stream:stream>`, then waits for the process to
    /// exit.
    pub fn logout(mut self) -> io::Result<()> {
        let res = self.end("disconnect");
        self.proc.take();
        res
    }

    /// Abrupt end: closes the TCP connection without unavailable presence or closing stream
    /// tag (as a crashing client or a lost network would), then waits for the process to exit.
    pub fn drop_connection(mut self) -> io::Result<()> {
        let res = self.end("abort");
        self.proc.take();
        res
    }

    fn end(&self, verb: &str) -> io::Result<()> {
        let line = format!("{verb}\tid=0\n");
        self.ctl.lock().unwrap().write_all(line.as_bytes())?;
        let proc = self.proc.as_ref().expect("process running");
        wait_until(
            &format!("slixmpp to exit after {verb}"),
            COMMAND_TIMEOUT,
            || Ok(proc.exited().map(|_| ())),
        )
        .map_err(|e| {
            io::Error::new(
                e.kind(),
                format!(
                    "{}: {e}\n--- slixmpp.log ---\n{}",
                    self.jid,
                    tail(&proc.log(), 30)
                ),
            )
        })?;
        let st = self.shared.state.lock().unwrap();
        if st.disconnected {
            Ok(())
        } else {
            Err(io::Error::other(format!(
                "slixmpp exited after {verb} without reporting disconnected\n{}",
                tail(&proc.log(), 20)
            )))
        }
    }

    fn wait_state<T>(
        &self,
        timeout: Duration,
        what: &str,
        mut f: impl FnMut(&mut State) -> Option<T>,
    ) -> io::Result<T> {
        let deadline = Instant::now() + timeout;
        let mut st = self.shared.state.lock().unwrap();
        loop {
            if let Some(v) = f(&mut st) {
                return Ok(v);
            }
            let now = Instant::now();
            if st.closed || now >= deadline {
                let why = if st.closed {
                    "the script exited"
                } else {
                    "timed out"
                };
                let errors = st.errors.join("; ");
                drop(st);
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!(
                        "{} ({why} after {:?}) waiting for {what}{}\n--- slixmpp.log (tail) ---\n{}",
                        self.jid,
                        timeout.saturating_sub(deadline.saturating_duration_since(now)),
                        if errors.is_empty() {
                            String::new()
                        } else {
                            format!("; errors: {errors}")
                        },
                        tail(&self.log(), 20)
                    ),
                ));
            }
            st = self.shared.cond.wait_timeout(st, deadline - now).unwrap().0;
        }
    }
}

impl Drop for Slixmpp {
    fn drop(&mut self) {
        let _ = self
            .ctl
            .lock()
            .map(|s| s.shutdown(std::net::Shutdown::Both));
        let panicking = std::thread::panicking();
        if panicking && let Some(p) = &self.proc {
            eprintln!(
                "===== slixmpp {} log (tail) =====\n{}",
                self.jid,
                tail(&p.log(), 60)
            );
        }
        self.proc.take();
        if !panicking && std::env::var_os("KEEP_STACK_DIR").is_none() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

fn with_context<T: std::fmt::Debug>(e: io::Error, what: &str, items: &[T]) -> io::Error {
    io::Error::new(e.kind(), format!("{e}\n{what}: {items:#?}"))
}

/// Escapes a field value for the line protocol.
pub fn escape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out
}

/// Reverses [`escape`].
pub fn unescape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    let mut it = v.chars();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match it.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some(o) => out.push(o),
            None => out.push('\\'),
        }
    }
    out
}

/// Splits an event line into its verb and `key=value` fields.
pub fn parse_line(line: &str) -> (String, Vec<(String, String)>) {
    let mut parts = line.trim_end_matches(['\n', '\r']).split('\t');
    let verb = parts.next().unwrap_or("").to_string();
    let fields = parts
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (k.to_string(), unescape(v))
        })
        .collect();
    (verb, fields)
}

fn read_loop(stream: UnixStream, shared: &Shared) {
    let mut reader = BufReader::new(stream);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        let line = String::from_utf8_lossy(&buf);
        let (verb, fields) = parse_line(&line);
        let get = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        let mut st = shared.state.lock().unwrap();
        match verb.as_str() {
            "session_start" => st.bound_jid = get("jid"),
            "presence" => {
                st.presences.push(ReceivedPresence {
                    from: get("from").unwrap_or_default(),
                    to: get("to"),
                    ptype: get("type").unwrap_or_else(|| "available".into()),
                    show: get("show"),
                    status: get("status"),
                    status_lang: get("status_lang"),
                    lang: get("lang"),
                    priority: get("priority"),
                    xml: get("xml").unwrap_or_default(),
                });
                st.presences_taken.push(false);
            }
            "message" => {
                st.messages.push(ReceivedMessage {
                    from: get("from").unwrap_or_default(),
                    to: get("to"),
                    mtype: get("type").unwrap_or_else(|| "normal".into()),
                    body: get("body"),
                    lang: get("lang"),
                    xml: get("xml").unwrap_or_default(),
                });
                st.messages_taken.push(false);
            }
            "roster" => st.roster.push(RosterItem {
                jid: get("jid").unwrap_or_default(),
                subscription: get("subscription").unwrap_or_default(),
                ask: get("ask"),
                name: get("name"),
            }),
            "ok" | "error" => {
                let text = get("text").unwrap_or_default();
                match get("id").and_then(|i| i.parse::<u32>().ok()) {
                    Some(id) => {
                        let r = if verb == "ok" { Ok(()) } else { Err(text) };
                        st.acks.push((id, r));
                    }
                    None if verb == "error" => st
                        .errors
                        .push(format!("{}: {text}", get("cmd").unwrap_or_default())),
                    None => {}
                }
            }
            "disconnected" => st.disconnected = true,
            _ => st.errors.push(format!("unknown event line: {line}")),
        }
        drop(st);
        shared.cond.notify_all();
    }
    shared.state.lock().unwrap().closed = true;
    shared.cond.notify_all();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_protocol_round_trips() {
        let v = "a\tb\nc\r\\d = é 😀 < & ' \"";
        let line = format!("message\tbody={}\tfrom=x@y/z\n", escape(v));
        assert!(!line.trim_end().contains('\n'));
        let (verb, fields) = parse_line(&line);
        assert_eq!(verb, "message");
        assert_eq!(
            fields,
            [
                ("body".to_string(), v.to_string()),
                ("from".to_string(), "x@y/z".to_string())
            ]
        );
    }
}
