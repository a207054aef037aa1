//! A parsed SIP message (request or response), enough for presence tests.

use std::fmt;

#[derive(Clone, PartialEq, Eq)]
pub struct SipMessage {
    /// `NOTIFY sip:a@b SIP/2.0` or `SIP/2.0 200 OK`.
    pub start_line: String,
    /// Header names as received, in order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// RFC 3261 compact header forms.
fn full_name(name: &str) -> &str {
    match name.to_ascii_lowercase().as_str() {
        "i" => "call-id",
        "m" => "contact",
        "e" => "content-encoding",
        "l" => "content-length",
        "c" => "content-type",
        "f" => "from",
        "s" => "subject",
        "k" => "supported",
        "t" => "to",
        "v" => "via",
        "o" => "event",
        "u" => "allow-events",
        _ => name,
    }
}

fn same_header(a: &str, b: &str) -> bool {
    full_name(a).eq_ignore_ascii_case(full_name(b))
}

impl SipMessage {
    /// Parses one datagram. Header continuation lines are joined.
    pub fn parse(data: &[u8]) -> Option<SipMessage> {
        let split = data.windows(4).position(|w| w == b"\r\n\r\n")?;
        let head = std::str::from_utf8(&data[..split]).ok()?;
        let rest = &data[split + 4..];
        let mut lines = head.split("\r\n");
        let start_line = lines.next()?.to_string();
        let mut headers: Vec<(String, String)> = Vec::new();
        for line in lines {
            if line.starts_with([' ', '\t']) {
                let last = headers.last_mut()?;
                last.1.push(' ');
                last.1.push_str(line.trim());
                continue;
            }
            let (n, v) = line.split_once(':')?;
            headers.push((n.trim().to_string(), v.trim().to_string()));
        }
        let mut msg = SipMessage {
            start_line,
            headers,
            body: Vec::new(),
        };
        let len = msg
            .header("Content-Length")
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or(rest.len())
            .min(rest.len());
        msg.body = rest[..len].to_vec();
        Some(msg)
    }

    pub fn is_request(&self) -> bool {
        !self.start_line.starts_with("SIP/2.0 ")
    }

    /// Request method (None for responses).
    pub fn method(&self) -> Option<&str> {
        self.is_request()
            .then(|| self.start_line.split(' ').next())
            .flatten()
    }

    /// Request-URI (None for responses).
    pub fn request_uri(&self) -> Option<&str> {
        self.is_request()
            .then(|| self.start_line.split(' ').nth(1))
            .flatten()
    }

    /// Status code (None for requests).
    pub fn status(&self) -> Option<u16> {
        if self.is_request() {
            return None;
        }
        self.start_line.split(' ').nth(1)?.parse().ok()
    }

    /// First value of a header (case-insensitive, compact forms understood).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| same_header(n, name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a header, in order.
    pub fn header_all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| same_header(n, name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub fn call_id(&self) -> Option<&str> {
        self.header("Call-ID")
    }

    /// (number, method) of CSeq.
    pub fn cseq(&self) -> Option<(u32, String)> {
        let v = self.header("CSeq")?;
        let mut it = v.split_whitespace();
        Some((it.next()?.parse().ok()?, it.next()?.to_string()))
    }

    /// Event package name, without parameters.
    pub fn event(&self) -> Option<&str> {
        Some(self.header("Event")?.split(';').next()?.trim())
    }

    pub fn body_str(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Wire form.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(self.start_line.as_bytes());
        out.extend_from_slice(b"\r\n");
        for (n, v) in &self.headers {
            out.extend_from_slice(format!("{n}: {v}\r\n").as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&self.body);
        out
    }
}

impl fmt::Debug for SipMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.to_bytes()))
    }
}

/// `tag` parameter of a From/To value.
pub fn tag_param(value: &str) -> Option<&str> {
    param(value, "tag")
}

/// A header parameter (after the closing `>` when there is one).
pub fn param<'a>(value: &'a str, name: &str) -> Option<&'a str> {
    let params = match value.rfind('>') {
        Some(i) => &value[i + 1..],
        None => value,
    };
    params.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=').unwrap_or((p, ""));
        k.trim().eq_ignore_ascii_case(name).then_some(v.trim())
    })
}

/// The URI inside `<...>` of a name-addr, or the bare value up to `;`.
pub fn uri_of(value: &str) -> &str {
    match (value.find('<'), value.find('>')) {
        (Some(a), Some(b)) if a < b => &value[a + 1..b],
        _ => value.split(';').next().unwrap_or(value).trim(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_request_with_compact_headers_and_body() {
        let raw =
            b"NOTIFY sip:a@127.0.0.1:5070 SIP/2.0\r\nv: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK1\r\n\
f: <sip:b@x>;tag=12\r\nt: <sip:a@y>;tag=34\r\ni: abc\r\nCSeq: 7 NOTIFY\r\no: presence;id=1\r\n\
l: 5\r\n\r\nhelloEXTRA";
        let m = SipMessage::parse(raw).unwrap();
        assert_eq!(m.method(), Some("NOTIFY"));
        assert_eq!(m.call_id(), Some("abc"));
        assert_eq!(m.cseq(), Some((7, "NOTIFY".into())));
        assert_eq!(m.event(), Some("presence"));
        assert_eq!(tag_param(m.header("From").unwrap()), Some("12"));
        assert_eq!(uri_of(m.header("To").unwrap()), "sip:a@y");
        assert_eq!(m.body_str(), "hello");
    }

    #[test]
    fn parses_response() {
        let m = SipMessage::parse(b"SIP/2.0 202 Accepted\r\nContent-Length: 0\r\n\r\n").unwrap();
        assert_eq!(m.status(), Some(202));
        assert!(m.method().is_none());
    }
}
