//! `xmpp_send_message()`: the SIP MESSAGE being routed becomes an XMPP chat message, reading
//! what the C module reads: the body (Content-Length required), a `text/plain` or
//! `message/cpim` Content-Type (the CPIM wrapper is kept, as in C), the From URI and tag (the
//! stanza id), and the destination: `$ru` (the rewritten or original Request-URI), else To.

use kamailio_module::SipMsg;
use kamailio_module::pv::PvRead;
use sip_xmpp_presence::SipMessage;

use crate::outbound::{self, Call};
use crate::transport::Transport;

/// What the MESSAGE yields: (from URI, destination from To, From tag, body).
struct Fields {
    from: String,
    to: String,
    tag: String,
    body: String,
}

/// Whether `value` (a Content-Type) is `text/plain` or `message/cpim`, parameters allowed.
fn accepted_type(value: &str) -> bool {
    let media = value.split(';').next().unwrap_or("").trim();
    media.eq_ignore_ascii_case("text/plain") || media.eq_ignore_ascii_case("message/cpim")
}

/// Reads the raw message.
fn fields(raw: &[u8]) -> Result<Fields, String> {
    let msg = SipMessage::parse(raw).map_err(|e| format!("cannot parse the message: {e}"))?;
    if msg.content_length().is_none() {
        return Err("no Content-Length".into());
    }
    let content_type = msg.header("Content-Type").ok_or("no Content-Type")?;
    if !accepted_type(content_type) {
        return Err(format!(
            "Content-Type '{content_type}' is neither text/plain nor message/cpim"
        ));
    }
    let from = msg.from().ok_or("no or bad From header")?;
    let to = msg.to().ok_or("no or bad To header")?;
    let body = std::str::from_utf8(msg.body).map_err(|_| "the body is not UTF-8")?;
    Ok(Fields {
        from: from.uri.to_owned(),
        to: to.uri.to_owned(),
        tag: from.tag.unwrap_or("").to_owned(),
        body: body.to_owned(),
    })
}

/// Why the MESSAGE was not queued.
pub enum NotQueued {
    /// The MESSAGE lacks what C requires (worth a log line each time).
    Input(String),
    /// Refused by the transport (link down, busy), already counted and logged.
    Refused,
}

impl From<String> for NotQueued {
    fn from(why: String) -> Self {
        Self::Input(why)
    }
}

/// Queues the chat message.
pub fn handle(t: &Transport, msg: &SipMsg<'_>) -> Result<(), NotQueued> {
    let (raw_message, ruri) = t
        .message_pvs
        .ok_or_else(|| "the pv module is not loaded ($mb and $ru are needed)".to_string())?;
    let fields = raw_message
        .read(msg, |v| match v {
            PvRead::Str(raw) => fields(raw),
            _ => Err("no raw message".into()),
        })
        .map_err(|e| e.to_string())??;
    let ruri = ruri
        .read(msg, |v| match v {
            PvRead::Str(s) => String::from_utf8(s.to_vec()).ok(),
            _ => None,
        })
        .ok()
        .flatten()
        .filter(|s| !s.is_empty());
    let destination = ruri.as_deref().unwrap_or(&fields.to);
    outbound::queue(
        Call::Message,
        &fields.from,
        destination,
        &fields.tag,
        &fields.body,
    )
    .map_err(|_| NotQueued::Refused)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_c_reads() {
        let raw = b"MESSAGE sip:bob*x.example@gw SIP/2.0\r\n\
            From: \"Alice\" <sip:alice@sip.example>;tag=t1\r\n\
            To: <sip:bob*x.example@gw>\r\n\
            Content-Type: text/plain; charset=UTF-8\r\n\
            Content-Length: 5\r\n\r\nhello";
        let f = fields(raw).unwrap();
        assert_eq!(
            (
                f.from.as_str(),
                f.to.as_str(),
                f.tag.as_str(),
                f.body.as_str()
            ),
            (
                "sip:alice@sip.example",
                "sip:bob*x.example@gw",
                "t1",
                "hello"
            )
        );
    }

    #[test]
    fn refuses_what_c_refuses() {
        let head = "MESSAGE sip:b@gw SIP/2.0\r\nFrom: <sip:a@s>;tag=1\r\nTo: <sip:b@gw>\r\n";
        for (extra, why) in [
            ("Content-Type: text/plain\r\n\r\nx", "Content-Length"),
            ("Content-Length: 1\r\n\r\nx", "no Content-Type"),
            (
                "Content-Type: text/html\r\nContent-Length: 1\r\n\r\nx",
                "neither",
            ),
        ] {
            let err = fields(format!("{head}{extra}").as_bytes()).err().unwrap();
            assert!(err.contains(why), "{err}");
        }
        assert!(accepted_type("Message/CPIM"));
    }
}
