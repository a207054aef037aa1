//! The worker side of sending: checks a command, makes it the stanza the server gets, and hands
//! that to the manager without ever blocking. Building chat messages here, in the SIP workers,
//! leaves the manager (the one process every stanza passes) nothing to do but forward. Refusals
//! are counted in shared memory and logged at most every few seconds per process and kind, so a
//! dead link cannot flood the log.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use kamailio_module::clock::monotonic_ms;
use xmpp_component_link::stanza::{chat_message, check_outbound};

use crate::ipc::{MAX_DATAGRAM, SendError};
use crate::link_status::Refusal;
use crate::transport::{self, Transport};

/// Least time between two refusal log lines of one kind in one process.
const LOG_EVERY_MS: u64 = 5_000;

/// Per kind of refusal: when this process last logged one (monotonic ms, 0 = never).
static LAST_LOG: [AtomicU64; 3] = [const { AtomicU64::new(0) }; 3];

/// Stanzas that callbacks queued inside the manager process, for the manager to forward: it
/// cannot read its own IPC socket while it runs a callback, and a burst (one stanza per gateway
/// subscription when the link comes back) would not fit in the socket's buffer.
static IN_MANAGER: AtomicBool = AtomicBool::new(false);
static LOCAL: Mutex<VecDeque<String>> = Mutex::new(VecDeque::new());
/// Most stanzas the manager's own callbacks may have waiting (beyond it they are refused).
const MAX_LOCAL: usize = 1 << 20;

/// Called once by the manager process: from now on, stanzas queued in this process go to
/// [`take_local`] instead of the IPC socket.
pub fn set_in_manager() {
    IN_MANAGER.store(true, Ordering::Relaxed);
}

fn local() -> std::sync::MutexGuard<'static, VecDeque<String>> {
    LOCAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// The next stanza the manager's callbacks queued.
pub fn take_local() -> Option<String> {
    local().pop_front()
}

/// Whether the manager's callbacks queued stanzas not yet forwarded.
pub fn local_pending() -> bool {
    !local().is_empty()
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

/// The API call that hands a stanza to the manager (the C module's `xmpp_pipe_cmd_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    /// `xpacket`: the body is a stanza written as it is.
    Packet,
    /// `xmessage` / `xmpp_send_message()`: a chat message built from from, to, id and text.
    Message,
    /// `xsubscribe`: as `Packet`.
    Subscribe,
    /// `xnotify`: as `Packet`.
    Notify,
}

impl Call {
    fn name(self) -> &'static str {
        match self {
            Call::Packet => "xpacket",
            Call::Message => "message",
            Call::Subscribe => "xsubscribe",
            Call::Notify => "xnotify",
        }
    }
}

/// Hands one command to the manager. For [`Call::Message`], `from` and `to` are SIP URIs and
/// `body` the text; for the others `body` is a stanza written as it is.
pub fn queue(call: Call, from: &str, to: &str, id: &str, body: &str) -> Result<(), Refusal> {
    let what = call.name();
    let Some(t) = transport::get() else {
        log::error!("{what}: the xmpp module is not initialised");
        return Err(Refusal::Invalid);
    };
    if !t.status.is_up() {
        return Err(refuse(t, Refusal::LinkDown, what));
    }
    let stanza = if call == Call::Message {
        let a = &t.config.addresses;
        let Some(from_jid) = a.encode_uri_sip_xmpp(from) else {
            return Err(refuse(
                t,
                Refusal::Invalid,
                &format!("{what} from <{from}>"),
            ));
        };
        let Some(to_jid) = a.decode_uri_sip_xmpp(to) else {
            return Err(refuse(t, Refusal::Invalid, &format!("{what} to <{to}>")));
        };
        Cow::Owned(chat_message(id, &from_jid, &to_jid, body))
    } else if let Err(e) = check_outbound(body) {
        return Err(refuse(t, Refusal::Invalid, &format!("{what} ({e})")));
    } else {
        Cow::Borrowed(body)
    };
    if IN_MANAGER.load(Ordering::Relaxed) {
        let mut queue = local();
        if queue.len() >= MAX_LOCAL {
            drop(queue);
            return Err(refuse(t, Refusal::Busy, what));
        }
        queue.push_back(stanza.into_owned());
        return Ok(());
    }
    if stanza.len() > MAX_DATAGRAM {
        let detail = format!("{what} ({} bytes, more than {MAX_DATAGRAM})", stanza.len());
        return Err(refuse(t, Refusal::Invalid, &detail));
    }
    match t.ipc.send(stanza.as_bytes()) {
        Ok(()) => Ok(()),
        Err(SendError::Full) => Err(refuse(t, Refusal::Busy, what)),
        Err(SendError::Io(e)) => Err(refuse(t, Refusal::Busy, &format!("{what} ({e})"))),
    }
}
