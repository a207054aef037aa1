//! The worker side of sending: checks a command, frames it and hands it to the manager without
//! ever blocking. Refusals are counted in shared memory and logged at most every few seconds
//! per process and kind, so a dead link cannot flood the log.

use std::sync::atomic::{AtomicU64, Ordering};

use xmpp_component_link::frame::{self, DEFAULT_MAX_FRAME, FrameKind};
use xmpp_component_link::stanza::check_outbound;

use crate::ipc::SendError;
use crate::link_status::Refusal;
use crate::transport::{self, Transport};

/// Least time between two refusal log lines of one kind in one process.
const LOG_EVERY_MS: u64 = 5_000;

/// Per kind of refusal: when this process last logged one (monotonic ms, 0 = never).
static LAST_LOG: [AtomicU64; 3] = [const { AtomicU64::new(0) }; 3];

/// Milliseconds of the monotonic clock, never 0.
pub fn monotonic_ms() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the live timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    (ts.tv_sec as u64 * 1000 + ts.tv_nsec as u64 / 1_000_000).max(1)
}

/// Counts and (rate-limited) logs a refusal; `detail` says what was refused.
fn refuse(t: &Transport, why: Refusal, detail: &str) -> Refusal {
    let total = t.status.count(why);
    let now = monotonic_ms();
    let last = &LAST_LOG[why as usize];
    let previous = last.load(Ordering::Relaxed);
    if previous == 0 || now.saturating_sub(previous) >= LOG_EVERY_MS {
        last.store(now, Ordering::Relaxed);
        let text = format!(
            "{detail} not sent: {} ({total} refused for this reason since start)",
            why.describe()
        );
        match why {
            Refusal::Invalid => log::error!("{text}"),
            Refusal::LinkDown | Refusal::Busy => log::warn!("{text}"),
        }
    }
    why
}

fn kind_name(kind: FrameKind) -> &'static str {
    match kind {
        FrameKind::Packet => "xpacket",
        FrameKind::Message => "message",
        FrameKind::Subscribe => "xsubscribe",
        FrameKind::Notify => "xnotify",
    }
}

/// Hands one command to the manager. For [`FrameKind::Message`], `from` and `to` are SIP URIs
/// and `body` the text; for the others `body` is a stanza written as it is.
pub fn queue(kind: FrameKind, from: &str, to: &str, id: &str, body: &str) -> Result<(), Refusal> {
    let Some(t) = transport::get() else {
        log::error!("{}: the xmpp module is not initialised", kind_name(kind));
        return Err(Refusal::Invalid);
    };
    let what = kind_name(kind);
    if !t.status.is_up() {
        return Err(refuse(t, Refusal::LinkDown, what));
    }
    if kind == FrameKind::Message {
        let a = &t.config.addresses;
        if a.encode_uri_sip_xmpp(from).is_none() {
            return Err(refuse(
                t,
                Refusal::Invalid,
                &format!("{what} from <{from}>"),
            ));
        }
        if a.decode_uri_sip_xmpp(to).is_none() {
            return Err(refuse(t, Refusal::Invalid, &format!("{what} to <{to}>")));
        }
    } else if let Err(e) = check_outbound(body) {
        return Err(refuse(t, Refusal::Invalid, &format!("{what} ({e})")));
    }
    let datagram = match frame::encode(kind, from, to, id, body, DEFAULT_MAX_FRAME) {
        Ok(d) => d,
        Err(e) => return Err(refuse(t, Refusal::Invalid, &format!("{what} ({e})"))),
    };
    match t.ipc.send(&datagram) {
        Ok(()) => Ok(()),
        Err(SendError::Full) => Err(refuse(t, Refusal::Busy, what)),
        Err(SendError::Io(e)) => Err(refuse(t, Refusal::Busy, &format!("{what} ({e})"))),
    }
}
