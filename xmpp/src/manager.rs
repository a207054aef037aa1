//! The XMPP Manager process: the core calls [`tick`] forever (with `cfg_update()` between
//! calls); each call waits at most 100 ms on the IPC socket and the XMPP link, forwards the
//! workers' stanzas to the link, drives it, and handles what the server sent.

use std::cell::RefCell;
use std::ffi::CString;
use std::time::Duration;

use libc::{c_uint, c_void};

use kamailio_module::clock::monotonic_ms;
use kamailio_module::guard::guard;
use kamailio_module::kemi::UacRequest;
use kamailio_module::xmpp::{XMPP_LINK_DOWN, XMPP_LINK_UP};
use xmpp_component_link::close_reason::CloseReason;
use xmpp_component_link::component::{ComponentConfig, Event};
use xmpp_component_link::framer::Stanza;
use xmpp_component_link::link::{Link, LinkConfig};
use xmpp_component_link::stanza::InboundMessage;
use xmpp_component_link::stats::Stats;

use crate::inbound::{self, Outcome};
use crate::ipc::{MAX_DATAGRAM, Received};
use crate::link_status::Refusal;
use crate::outbound;
use crate::transport::{self, Transport};
use crate::{callbacks, sip_out};

/// Longest wait in one tick, so the core's loop runs `cfg_update()` often enough.
const MAX_WAIT: Duration = Duration::from_millis(100);
/// Stanzas forwarded per tick, so a flood from the workers cannot starve the link.
const MAX_STANZAS_PER_TICK: usize = 512;
/// A stanza waiting this long for the link is dropped (stale presence is wrong presence).
const MAX_QUEUE_AGE_MS: u64 = 60_000;
/// Least time between two "queue full" log lines.
const LOG_EVERY_MS: u64 = 5_000;
/// While the link is down, its users hear so this often (`XMPP_LINK_DOWN`).
const DOWN_REPORT_EVERY_MS: u64 = 1_000;
/// Stanzas from the manager's own callbacks move to the link while fewer than this wait there,
/// so a burst never overflows the link's queue (1024 by default).
const LOCAL_HIGH_WATER: usize = 768;

/// The manager's state, created at its first tick.
struct Manager {
    t: &'static Transport,
    link: Link,
    buf: Vec<u8>,
    /// Whether the link has been up since the last close.
    up: bool,
    /// When an authenticated link last went down (monotonic ms), until it is up again.
    down_at: Option<u64>,
    /// Worker refusals and link counters when the link last went down.
    refused_at_down: [u64; 3],
    stats_at_down: Stats,
    last_queue_full_log: u64,
    /// When the manager started (monotonic ms): the link is down since then until its first up.
    started_at: u64,
    /// When the users last heard that the link is down (0: not since it went down).
    last_down_report: u64,
}

thread_local! {
    static MANAGER: RefCell<Option<Manager>> = const { RefCell::new(None) };
}

/// `utimer_function` run by the XMPP Manager process.
pub(crate) unsafe extern "C" fn tick(_ms: c_uint, _param: *mut c_void) {
    let ok = guard("XMPP Manager", false, || {
        let Some(t) = transport::get() else {
            log::error!("XMPP Manager: the module is not initialised");
            std::thread::sleep(Duration::from_secs(1));
            return true;
        };
        MANAGER.with_borrow_mut(|m| m.get_or_insert_with(|| Manager::new(t)).run_once());
        true
    });
    if !ok {
        // Start afresh (the link reconnects) after a pause, so a repeated panic cannot spin.
        MANAGER.with(|m| {
            if let Ok(mut m) = m.try_borrow_mut() {
                *m = None;
            }
        });
        if let Some(t) = transport::get() {
            t.status.set_up(false);
        }
        std::thread::sleep(Duration::from_secs(1));
    }
}

impl Manager {
    fn new(t: &'static Transport) -> Self {
        let c = &t.config;
        let mut component = ComponentConfig::new(c.domain.clone(), c.secret.clone());
        component.jitter_seed = u64::from(std::process::id());
        component.backoff.jitter_percent = 20;
        component.queue.max_age_ms = MAX_QUEUE_AGE_MS;
        outbound::set_in_manager();
        log::info!(
            "XMPP Manager started: component '{}' of {}:{}",
            c.domain,
            c.host,
            c.port
        );
        Self {
            t,
            link: Link::new(LinkConfig {
                host: c.host.clone(),
                port: c.port,
                component,
            }),
            buf: vec![0; MAX_DATAGRAM],
            up: false,
            down_at: None,
            refused_at_down: t.status.refused(),
            stats_at_down: Stats::default(),
            last_queue_full_log: 0,
            started_at: monotonic_ms(),
            last_down_report: 0,
        }
    }

    fn run_once(&mut self) {
        self.wait();
        self.forward_stanzas();
        self.link.drive();
        // Replies to the server's stanzas go out in the same tick.
        for _ in 0..4 {
            let replied = self.handle_events();
            let forwarded = self.forward_local();
            if !replied && !forwarded {
                break;
            }
            self.link.drive();
        }
        if !self.up {
            self.report_down();
        }
    }

    /// Moves what the manager's own callbacks queued to the link; true if anything moved.
    fn forward_local(&mut self) -> bool {
        let mut moved = false;
        for _ in 0..MAX_STANZAS_PER_TICK {
            if self.link.queued() >= LOCAL_HIGH_WATER {
                break;
            }
            let Some(stanza) = outbound::take_local() else {
                break;
            };
            self.forward(stanza);
            moved = true;
        }
        moved
    }

    /// Tells the link's users (`XMPP_LINK_DOWN`) how long it has been down, about once a second.
    fn report_down(&mut self) {
        let now = monotonic_ms();
        if self.last_down_report != 0
            && now.saturating_sub(self.last_down_report) < DOWN_REPORT_EVERY_MS
        {
            return;
        }
        self.last_down_report = now;
        if callbacks::wanted(XMPP_LINK_DOWN) {
            let down_since = self.down_at.unwrap_or(self.started_at);
            let ms = CString::new(now.saturating_sub(down_since).to_string()).unwrap_or_default();
            callbacks::run(XMPP_LINK_DOWN, &ms);
        }
    }

    /// Waits for the IPC socket, the link's socket or the link's next timer, at most MAX_WAIT.
    fn wait(&self) {
        let timeout = self.link.timeout().map_or(MAX_WAIT, |t| t.min(MAX_WAIT));
        let interest = self.link.interest();
        let mut fds = [
            libc::pollfd {
                fd: self.t.ipc.manager_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                // poll skips a negative descriptor.
                fd: self.link.raw_fd().unwrap_or(-1),
                events: (if interest.read { libc::POLLIN } else { 0 })
                    | (if interest.write { libc::POLLOUT } else { 0 }),
                revents: 0,
            },
        ];
        // What the manager's own callbacks queued goes on at once, while the link takes it.
        let timeout =
            if self.up && outbound::local_pending() && self.link.queued() < LOCAL_HIGH_WATER {
                Duration::ZERO
            } else {
                timeout
            };
        // Rounded up, so a timer due in less than 1 ms does not make a busy loop.
        let ms = timeout.as_micros().div_ceil(1000) as libc::c_int;
        // SAFETY: two live pollfd entries; EINTR and errors just end the wait.
        unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms) };
    }

    /// Moves the workers' stanzas to the link's queue.
    fn forward_stanzas(&mut self) {
        for _ in 0..MAX_STANZAS_PER_TICK {
            match self.t.ipc.receive(&mut self.buf) {
                Ok(Received::Empty) => return,
                // Workers send only checked UTF-8 stanzas; anything else is not theirs.
                Ok(Received::Datagram(n)) => match std::str::from_utf8(&self.buf[..n]) {
                    Ok(stanza) => self.forward(stanza.to_owned()),
                    Err(_) => log::error!("dropped a datagram from a worker: not UTF-8"),
                },
                Ok(Received::Truncated(n)) => {
                    log::error!("dropped a datagram of {n} bytes from a worker: too large");
                }
                Err(e) => {
                    log::error!("reading the IPC socket: {e}");
                    return;
                }
            }
        }
    }

    fn forward(&mut self, stanza: String) {
        if let Err(full) = self.link.send(stanza) {
            let now = monotonic_ms();
            if now.saturating_sub(self.last_queue_full_log) >= LOG_EVERY_MS {
                self.last_queue_full_log = now;
                log::warn!(
                    "the queue to the XMPP server is full: stanza dropped ({} dropped so far)",
                    full.dropped_queue_full
                );
            }
        }
    }

    /// Handles the link's events; true if a reply was queued.
    fn handle_events(&mut self) -> bool {
        let mut replied = false;
        while let Some(event) = self.link.poll_event() {
            match event {
                Event::Authenticated { stream_id } => self.on_up(&stream_id),
                Event::Closed {
                    reason,
                    retry_in_ms,
                    ..
                } => self.on_down(&reason, retry_in_ms),
                Event::Stanza(stanza) => replied |= self.on_stanza(&stanza),
            }
        }
        replied
    }

    fn on_up(&mut self, stream_id: &str) {
        self.up = true;
        self.t.status.set_up(true);
        self.log_up(stream_id);
        if callbacks::wanted(XMPP_LINK_UP) {
            callbacks::run(XMPP_LINK_UP, c"");
        }
    }

    fn log_up(&mut self, stream_id: &str) {
        let c = &self.t.config;
        let Some(down_at) = self.down_at.take() else {
            log::info!(
                "XMPP link up: component '{}' authenticated at {}:{} (stream {stream_id})",
                c.domain,
                c.host,
                c.port
            );
            return;
        };
        let refused = self.t.status.refused()[Refusal::LinkDown as usize]
            - self.refused_at_down[Refusal::LinkDown as usize];
        let stats = self.link.stats();
        log::info!(
            "XMPP link up again after {:.1} s: component '{}' authenticated at {}:{} (stream \
             {stream_id}); while it was down {refused} stanzas were refused to SIP workers, {} \
             queued stanzas were lost or expired and {} dropped on a full queue",
            monotonic_ms().saturating_sub(down_at) as f64 / 1000.0,
            c.domain,
            c.host,
            c.port,
            stats.dropped_link_down - self.stats_at_down.dropped_link_down,
            stats.dropped_queue_full - self.stats_at_down.dropped_queue_full,
        );
    }

    fn on_down(&mut self, reason: &CloseReason, retry_in_ms: u64) {
        let was_up = std::mem::take(&mut self.up);
        self.t.status.set_up(false);
        let c = &self.t.config;
        let retry = retry_in_ms as f64 / 1000.0;
        if reason.is_auth_failure() {
            log::error!(
                "the XMPP server {}:{} refused component '{}': {reason}; check modparams \
                 xmpp_password and xmpp_domain; next attempt in {retry:.1} s",
                c.host,
                c.port,
                c.domain
            );
        } else if was_up {
            let s = self.link.stats();
            log::warn!(
                "XMPP link to {}:{} lost: {reason}; reconnecting in {retry:.1} s (so far: {} \
                 stanzas sent, {} received, {} lost with the link)",
                c.host,
                c.port,
                s.sent,
                s.received,
                s.dropped_link_down
            );
        } else {
            log::warn!(
                "no XMPP link to {}:{}: {reason}; next attempt in {retry:.1} s",
                c.host,
                c.port
            );
        }
        if was_up {
            // The users hear of the loss at once.
            self.last_down_report = 0;
            self.down_at = Some(monotonic_ms());
            self.refused_at_down = self.t.status.refused();
            self.stats_at_down = *self.link.stats();
        }
    }

    /// Dispatches one stanza; true if a reply was queued.
    fn on_stanza(&mut self, stanza: &Stanza) -> bool {
        match inbound::dispatch(stanza.name(), stanza.as_str()) {
            Outcome::Callbacks(n) => log::debug!("<{}> handed to {n} callbacks", stanza.name()),
            Outcome::Reply(reply) => return self.link.send(reply).is_ok(),
            Outcome::Message(message) => self.send_sip(&message),
            Outcome::Dropped(why) => log::debug!("<{}> dropped: {why}", stanza.name()),
        }
        false
    }

    fn send_sip(&self, message: &InboundMessage) {
        let out = match sip_out::build(&self.t.config.addresses, message) {
            Ok(out) => out,
            Err(why) => {
                log::warn!("XMPP message not sent to SIP: {why}");
                return;
            }
        };
        let request = UacRequest {
            method: "MESSAGE",
            ruri: &out.ruri,
            next_hop: self.t.config.outbound_proxy.as_deref().unwrap_or(""),
            headers: &out.headers,
            body: out.body.as_bytes(),
        };
        match self.t.uac.send(&request) {
            Ok(()) => log::debug!(
                "XMPP message from '{}' sent to <{}>",
                message.from,
                out.ruri
            ),
            Err(e) => log::warn!("SIP MESSAGE to <{}> failed: {e}", out.ruri),
        }
    }
}
