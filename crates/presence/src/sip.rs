//! A small zero-copy reader of a raw SIP message: start line, the few headers the gateway
//! needs, and the body. Header lookups never allocate.

use crate::TranslateError;

/// The first line of a SIP message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartLine<'a> {
    Request { method: &'a str, uri: &'a str },
    Response { code: u16, reason: &'a str },
}

/// A SIP message borrowed from its raw bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SipMessage<'a> {
    pub start_line: StartLine<'a>,
    pub body: &'a [u8],
    /// The header lines, from after the start line up to (not including) the empty line. Not
    /// necessarily UTF-8: a header is read only when its own value is.
    headers: &'a [u8],
    /// Where the first header of each [`INDEXED`] name has its value in `headers` (start, end;
    /// folded lines included), `(0, 0)` when absent: found while the head is split, so
    /// looking these up does not scan the header lines again.
    index: Index,
}

/// Value ranges of the [`INDEXED`] headers.
type Index = [(u32, u32); INDEXED.len()];

/// The headers every gateway flow reads (long names).
const INDEXED: [&str; 8] = [
    "From",
    "To",
    "Call-ID",
    "Contact",
    "Content-Length",
    "Event",
    "Subscription-State",
    "Expires",
];

/// The [`INDEXED`] slot of a long header name.
fn slot(long: &str) -> Option<usize> {
    INDEXED.iter().position(|n| n.eq_ignore_ascii_case(long))
}

/// A From/To/Contact value: the URI and the `tag` parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NameAddr<'a> {
    pub uri: &'a str,
    pub tag: Option<&'a str>,
}

/// Compact header forms (RFC 3261 section 7.3.3 and the event RFCs) and their long names.
const COMPACT_FORMS: [(u8, &str); 12] = [
    (b'f', "From"),
    (b't', "To"),
    (b'i', "Call-ID"),
    (b'm', "Contact"),
    (b'l', "Content-Length"),
    (b'c', "Content-Type"),
    (b'o', "Event"),
    (b'k', "Supported"),
    (b'v', "Via"),
    (b'e', "Content-Encoding"),
    (b's', "Subject"),
    (b'u', "Allow-Events"),
];

/// The long form of header name `name` (itself when it is not a compact form).
fn long_name(name: &str) -> &str {
    match name.as_bytes() {
        [letter] => COMPACT_FORMS
            .iter()
            .find(|(compact, _)| *compact == letter.to_ascii_lowercase())
            .map_or(name, |&(_, long)| long),
        _ => name,
    }
}

/// The header lines after the start line, up to the empty line: (their length, where the body
/// starts, the [`INDEXED`] value ranges). None without an empty line.
fn split_headers(h: &[u8]) -> Option<(usize, usize, Index)> {
    let mut index: Index = [(0, 0); INDEXED.len()];
    // The slot whose value continues on folded lines.
    let mut current: Option<usize> = None;
    let mut pos = 0;
    loop {
        let end = pos + find_byte(&h[pos..], b'\n')?;
        let line = &h[pos..end];
        if line.is_empty() || line == b"\r" {
            return Some((pos, end + 1, index));
        }
        if matches!(line[0], b' ' | b'\t') {
            if let Some(k) = current {
                index[k].1 = end as u32;
            }
        } else {
            current = None;
            if let Some(colon) = line.iter().position(|&b| b == b':')
                && let Some(k) = name_slot(&line[..colon])
                && index[k] == (0, 0)
            {
                index[k] = ((pos + colon + 1) as u32, end as u32);
                current = Some(k);
            }
        }
        pos = end + 1;
    }
}

/// The [`INDEXED`] slot of the header name `n` (bytes before the colon). A plain token name,
/// perhaps followed by blanks, is compared as bytes; anything else is read as the scan reads it.
fn name_slot(n: &[u8]) -> Option<usize> {
    let blanks = n
        .iter()
        .rev()
        .take_while(|&&b| b == b' ' || b == b'\t')
        .count();
    let name = &n[..n.len() - blanks];
    if !name.is_empty()
        && name
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b))
    {
        return match name {
            [letter] => COMPACT_FORMS
                .iter()
                .find(|(compact, _)| *compact == letter.to_ascii_lowercase())
                .and_then(|&(_, long)| slot(long)),
            _ => INDEXED
                .iter()
                .position(|i| i.as_bytes().eq_ignore_ascii_case(name)),
        };
    }
    slot(long_name(std::str::from_utf8(n).ok()?.trim()))
}

/// Position of the first `needle` in `hay`, eight bytes at a time.
pub(crate) fn find_byte(hay: &[u8], needle: u8) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let pattern = LO * u64::from(needle);
    let mut chunks = hay.chunks_exact(8);
    let mut offset = 0;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        // Bytes equal to the needle become zero; the lowest flagged byte is the first zero.
        let x = u64::from_le_bytes(word) ^ pattern;
        let zeros = x.wrapping_sub(LO) & !x & HI;
        if zeros != 0 {
            return Some(offset + (zeros.trailing_zeros() / 8) as usize);
        }
        offset += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&b| b == needle)
        .map(|i| offset + i)
}

fn is_version(s: &str) -> bool {
    s.eq_ignore_ascii_case("SIP/2.0")
}

fn parse_start_line(line: &str) -> Result<StartLine<'_>, TranslateError> {
    let malformed = || TranslateError::Malformed("invalid SIP start line".into());
    let (first, rest) = line.split_once(' ').ok_or_else(malformed)?;
    if is_version(first) {
        let (code, reason) = rest.split_once(' ').unwrap_or((rest, ""));
        let code = code
            .parse()
            .ok()
            .filter(|c| (100..=699).contains(c) && code.len() == 3)
            .ok_or_else(malformed)?;
        return Ok(StartLine::Response {
            code,
            reason: reason.trim(),
        });
    }
    let (uri, version) = rest.split_once(' ').ok_or_else(malformed)?;
    let token = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_graphic());
    if !token(first) || !token(uri) || !is_version(version) {
        return Err(malformed());
    }
    Ok(StartLine::Request { method: first, uri })
}

impl<'a> SipMessage<'a> {
    /// Parses the head and finds the body: exactly Content-Length bytes when that header is
    /// present, else the rest of `buf`. The start line must be UTF-8; other header lines need
    /// not be (Kamailio passes Latin-1 `Server` or display-name bytes on), see [`Self::header`].
    pub fn parse(buf: &'a [u8]) -> Result<Self, TranslateError> {
        // Leading CRLFs are keep-alives (RFC 5626), not part of the message.
        let skip = buf
            .iter()
            .take_while(|&&b| b == b'\r' || b == b'\n')
            .count();
        let buf = &buf[skip..];
        let no_empty_line =
            || TranslateError::Malformed("SIP message has no empty line after its headers".into());
        let first_len = buf
            .iter()
            .position(|&b| b == b'\n')
            .ok_or_else(no_empty_line)?;
        let rest = &buf[first_len + 1..];
        let (headers_len, body_start, index) = split_headers(rest).ok_or_else(no_empty_line)?;
        let first =
            std::str::from_utf8(&buf[..first_len]).map_err(|e| TranslateError::NotUtf8 {
                valid_up_to: skip + e.valid_up_to(),
            })?;
        let mut message = SipMessage {
            start_line: parse_start_line(first.trim_end_matches('\r'))?,
            body: &rest[body_start..],
            headers: &rest[..headers_len],
            index,
        };
        if let Some(value) = message.header("Content-Length") {
            let length: usize = value.parse().map_err(|_| TranslateError::InvalidValue {
                what: "Content-Length",
                value: value.to_owned(),
            })?;
            message.body = message.body.get(..length).ok_or_else(|| {
                TranslateError::Malformed(format!(
                    "body has {} bytes, Content-Length says {length}",
                    message.body.len()
                ))
            })?;
        }
        Ok(message)
    }

    /// The value of the first header called `name` (case-insensitive, compact forms match
    /// their long names both ways), trimmed; a folded value is returned with its line breaks.
    /// None when absent, or when that value is not UTF-8.
    pub fn header(&self, name: &str) -> Option<&'a str> {
        let want = long_name(name);
        let h = self.headers;
        match slot(want) {
            Some(k) => match self.index[k] {
                (_, 0) => None,
                (start, end) => std::str::from_utf8(&h[start as usize..end as usize])
                    .ok()
                    .map(str::trim),
            },
            None => self.scan(want),
        }
    }

    /// [`Self::header`] by scanning the header lines for the long name `want`.
    fn scan(&self, want: &str) -> Option<&'a str> {
        let h = self.headers;
        let line_end = |from: usize| {
            h[from..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(h.len(), |i| from + i)
        };
        let folded = |at: usize| matches!(h.get(at), Some(b' ' | b'\t'));
        let mut pos = 0;
        while pos < h.len() {
            let end = line_end(pos);
            let line = &h[pos..end];
            if !folded(pos)
                && let Some(colon) = line.iter().position(|&b| b == b':')
                && let Ok(n) = std::str::from_utf8(&line[..colon])
                && long_name(n.trim()).eq_ignore_ascii_case(want)
            {
                let mut value_end = end;
                while value_end < h.len() && folded(value_end + 1) {
                    value_end = line_end(value_end + 1);
                }
                return std::str::from_utf8(&h[pos + colon + 1..value_end])
                    .ok()
                    .map(str::trim);
            }
            pos = end + 1;
        }
        None
    }

    pub fn from(&self) -> Option<NameAddr<'a>> {
        parse_name_addr(self.header("From")?)
    }

    pub fn to(&self) -> Option<NameAddr<'a>> {
        parse_name_addr(self.header("To")?)
    }

    pub fn call_id(&self) -> Option<&'a str> {
        self.header("Call-ID").filter(|v| !v.is_empty())
    }

    /// The URI of the first Contact (inside `<>` if present).
    pub fn contact(&self) -> Option<&'a str> {
        let value = self.header("Contact")?;
        parse_name_addr(first_value(value)).map(|addr| addr.uri)
    }

    pub fn content_length(&self) -> Option<usize> {
        self.header("Content-Length")?.parse().ok()
    }
}

/// Byte offsets of `<` and the matching `>` outside quoted strings, if any.
fn angle_brackets(value: &str) -> Option<Option<(usize, usize)>> {
    let (mut quoted, mut escaped) = (false, false);
    for (i, b) in value.bytes().enumerate() {
        match b {
            _ if escaped => escaped = false,
            b'\\' if quoted => escaped = true,
            b'"' => quoted = !quoted,
            b'<' if !quoted => {
                let close = value[i..].find('>')?;
                return Some(Some((i, i + close)));
            }
            _ => {}
        }
    }
    (!quoted).then_some(None)
}

/// The first of comma-separated values (commas in quotes or `<>` do not count).
fn first_value(value: &str) -> &str {
    let (mut quoted, mut escaped, mut in_angle) = (false, false, false);
    for (i, b) in value.bytes().enumerate() {
        match b {
            _ if escaped => escaped = false,
            b'\\' if quoted => escaped = true,
            b'"' if !in_angle => quoted = !quoted,
            b'<' if !quoted => in_angle = true,
            b'>' if !quoted => in_angle = false,
            b',' if !quoted && !in_angle => return value[..i].trim(),
            _ => {}
        }
    }
    value.trim()
}

/// Parses `"Display" <sip:x@y>;tag=1`, `Display <sip:x@y>`, or `sip:x@y;tag=1` (parameters
/// after an addr-spec belong to the header, as RFC 3261 section 20 says).
pub fn parse_name_addr(value: &str) -> Option<NameAddr<'_>> {
    let value = value.trim();
    let (uri, params) = match angle_brackets(value)? {
        Some((open, close)) => (&value[open + 1..close], &value[close + 1..]),
        None => value.split_once(';').unwrap_or((value, "")),
    };
    let uri = uri.trim();
    if uri.is_empty() {
        return None;
    }
    let tag = params
        .split(';')
        .filter_map(|p| p.split_once('='))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("tag"))
        .map(|(_, tag)| tag.trim())
        .filter(|tag| !tag.is_empty());
    Some(NameAddr { uri, tag })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOTIFY: &str = "NOTIFY sip:juliet*example.com@gw.example.org SIP/2.0\r\n\
        Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776\r\n\
        From: \"Romeo <Montague>\" <sip:romeo@example.net>;tag=abc\r\n\
        t: <sip:juliet*example.com@gw.example.org>;tag=xyz\r\n\
        Call-ID: 12345@192.0.2.1\r\n\
        CSeq: 2 NOTIFY\r\n\
        Contact: <sip:romeo@192.0.2.1:5060;transport=udp>, <sip:other@x>\r\n\
        Event: presence\r\n\
        Subscription-State: active;\r\n expires=3600\r\n\
        Content-Type: application/pidf+xml\r\n\
        Content-Length: 5\r\n\
        \r\n\
        <a/>\nEXTRA";

    #[test]
    fn parses_a_notify() {
        let msg = SipMessage::parse(NOTIFY.as_bytes()).unwrap();
        assert_eq!(
            msg.start_line,
            StartLine::Request {
                method: "NOTIFY",
                uri: "sip:juliet*example.com@gw.example.org"
            }
        );
        assert_eq!(msg.body, b"<a/>\n");
        assert_eq!(
            msg.from(),
            Some(NameAddr {
                uri: "sip:romeo@example.net",
                tag: Some("abc")
            })
        );
        assert_eq!(
            msg.to(),
            Some(NameAddr {
                uri: "sip:juliet*example.com@gw.example.org",
                tag: Some("xyz")
            })
        );
        assert_eq!(msg.call_id(), Some("12345@192.0.2.1"));
        assert_eq!(
            msg.contact(),
            Some("sip:romeo@192.0.2.1:5060;transport=udp")
        );
        assert_eq!(msg.content_length(), Some(5));
        assert_eq!(msg.header("EVENT"), Some("presence"));
        assert_eq!(msg.header("o"), Some("presence"));
        assert_eq!(
            msg.header("Subscription-State"),
            Some("active;\r\n expires=3600")
        );
        assert_eq!(msg.header("Expires"), None);
    }

    #[test]
    fn compact_forms_match_both_ways() {
        let msg = SipMessage::parse(
            b"SIP/2.0 200 OK\r\nf: <sip:a@b>;tag=1\r\nCONTENT-LENGTH: 0\r\nE: gzip\r\n\r\n",
        )
        .unwrap();
        for (name, value) in [
            ("From", Some("<sip:a@b>;tag=1")),
            ("F", Some("<sip:a@b>;tag=1")),
            ("l", Some("0")),
            ("Content-Encoding", Some("gzip")),
            ("e", Some("gzip")),
            ("t", None),
        ] {
            assert_eq!(msg.header(name), value, "{name}");
        }
        for (compact, long) in COMPACT_FORMS {
            assert_eq!(long_name(&char::from(compact).to_string()), long);
            assert_eq!(
                long_name(&char::from(compact).to_ascii_uppercase().to_string()),
                long
            );
        }
    }

    #[test]
    fn parses_responses() {
        let msg = SipMessage::parse(b"SIP/2.0 503 Service Unavailable\r\n\r\n").unwrap();
        assert_eq!(
            msg.start_line,
            StartLine::Response {
                code: 503,
                reason: "Service Unavailable"
            }
        );
        let msg = SipMessage::parse(b"sip/2.0 200\n\n").unwrap();
        assert_eq!(
            msg.start_line,
            StartLine::Response {
                code: 200,
                reason: ""
            }
        );
    }

    #[test]
    fn bare_lf_and_no_content_length() {
        let msg = SipMessage::parse(b"\r\n\r\nNOTIFY sip:a@b SIP/2.0\nCall-ID: x\n\nbody\r\nrest")
            .unwrap();
        assert_eq!(msg.call_id(), Some("x"));
        assert_eq!(msg.body, b"body\r\nrest");
        assert_eq!(msg.content_length(), None);
    }

    #[test]
    fn headers_that_are_not_utf8_are_skipped_not_fatal() {
        let raw = b"SIP/2.0 200 OK\r\nServer: Caf\xe9 SIP\r\nFrom: \"Jos\xe9\" <sip:a@b>;tag=1\r\n\
            To: <sip:c@d>;tag=2\r\nContact: <sip:c@10.0.0.1>\r\nContent-Length: 0\r\n\r\n";
        let msg = SipMessage::parse(raw).unwrap();
        assert_eq!(
            msg.start_line,
            StartLine::Response {
                code: 200,
                reason: "OK"
            }
        );
        assert_eq!(msg.header("Server"), None);
        assert_eq!(msg.from(), None);
        assert_eq!(msg.to().map(|t| t.tag), Some(Some("2")));
        assert_eq!(msg.contact(), Some("sip:c@10.0.0.1"));
        assert_eq!(msg.content_length(), Some(0));
    }

    #[test]
    fn indexed_headers_read_as_a_scan_reads_them() {
        let messages: [&[u8]; 4] = [
            NOTIFY.as_bytes(),
            b"SIP/2.0 200 OK\r\nf: <sip:a@x>;tag=1\r\nFROM: <sip:b@x>\r\nexpires :  60\r\n\
              To: <sip:c@x>;\r\n\ttag=2\r\n \r\nContact: \xe9\r\nContact: <sip:d@x>\r\n\r\n",
            b"NOTIFY sip:a@b SIP/2.0\nEvent:presence\nSubscription-State: active\n\
              i: c1\nl: 0\n\n",
            b"NOTIFY sip:a@b SIP/2.0\r\n\r\n",
        ];
        for raw in messages {
            let msg = SipMessage::parse(raw).unwrap();
            for name in INDEXED {
                let compact = COMPACT_FORMS.iter().find(|(_, l)| *l == name);
                let mut names = vec![name.to_string(), name.to_ascii_lowercase()];
                names.extend(compact.map(|(c, _)| (*c as char).to_string()));
                for n in names {
                    assert_eq!(msg.header(&n), msg.scan(name), "{n} in {raw:?}");
                }
            }
        }
        let msg = SipMessage::parse(messages[1]).unwrap();
        assert_eq!(msg.header("From"), Some("<sip:a@x>;tag=1"));
        assert_eq!(msg.header("To"), Some("<sip:c@x>;\r\n\ttag=2"));
        assert_eq!(msg.header("Expires"), Some("60"));
        assert_eq!(msg.header("Contact"), None);
        assert_eq!(msg.header("Event"), None);
    }

    #[test]
    fn find_byte_finds_the_first() {
        let hay = b"abcdefgh\nijklmnop\nq\n";
        for start in 0..hay.len() {
            assert_eq!(
                find_byte(&hay[start..], b'\n'),
                hay[start..].iter().position(|&b| b == b'\n'),
                "{start}"
            );
        }
        assert_eq!(find_byte(b"\x80\x81\x0a", b'\n'), Some(2));
        assert_eq!(find_byte(&[0x0b; 17], b'\n'), None);
        assert_eq!(find_byte(b"", b'x'), None);
    }

    #[test]
    fn header_names_classify_as_the_scan_reads_them() {
        for n in [
            "From",
            "from ",
            "f",
            "F\t",
            "To",
            "t",
            "Call-ID",
            "i",
            "CONTACT",
            "m",
            "l",
            "o",
            "Event",
            "Subscription-State",
            "Expires",
            "Via",
            "v",
            "X-From",
            "From\u{a0}",
            "From\u{b}",
            " From",
            "Fr om",
            "",
            "Ev\u{e9}nt",
        ] {
            assert_eq!(name_slot(n.as_bytes()), slot(long_name(n.trim())), "{n:?}");
        }
        assert_eq!(name_slot(b"Fro\xffm"), None);
    }

    #[test]
    fn errors() {
        let cases: [(&[u8], TranslateError); 7] = [
            (
                b"NOTIFY sip:a@b SIP/2.0\r\nContent-Length: 10\r\n\r\nshort",
                TranslateError::Malformed("body has 5 bytes, Content-Length says 10".into()),
            ),
            (
                b"NOTIFY sip:a@b SIP/2.0\r\nContent-Length: x\r\n\r\n",
                TranslateError::InvalidValue {
                    what: "Content-Length",
                    value: "x".into(),
                },
            ),
            (
                b"NOTIFY sip:a@b\xff SIP/2.0\r\nFrom: <sip:a@b>\r\n\r\n",
                TranslateError::NotUtf8 { valid_up_to: 14 },
            ),
            (
                b"NOTIFY sip:a@b SIP/2.0\r\n",
                TranslateError::Malformed("SIP message has no empty line after its headers".into()),
            ),
            (
                b"",
                TranslateError::Malformed("SIP message has no empty line after its headers".into()),
            ),
            (
                b"HELLO\r\n\r\n",
                TranslateError::Malformed("invalid SIP start line".into()),
            ),
            (
                b"SIP/2.0 99 Odd\r\n\r\n",
                TranslateError::Malformed("invalid SIP start line".into()),
            ),
        ];
        for (input, err) in cases {
            assert_eq!(
                SipMessage::parse(input),
                Err(err),
                "{}",
                String::from_utf8_lossy(input)
            );
        }
        for bad in [
            "NOTIFY sip:a@b HTTP/1.1",
            "NOTIFY  SIP/2.0",
            "SIP/2.0 7000 x",
            "SIP/2.0 +20 x",
        ] {
            assert!(
                SipMessage::parse(format!("{bad}\r\n\r\n").as_bytes()).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn name_addr_rows() {
        let rows = [
            ("<sip:a@b>", Some(("sip:a@b", None))),
            (
                "\"A, \\\"B\\\" <x>\" <sip:a@b>;tag=9",
                Some(("sip:a@b", Some("9"))),
            ),
            (
                "Bob <sips:bob@b:5061;transport=tls>;TAG = t1 ;x=y",
                Some(("sips:bob@b:5061;transport=tls", Some("t1"))),
            ),
            ("sip:a@b;tag=1", Some(("sip:a@b", Some("1")))),
            (" sip:a@b ", Some(("sip:a@b", None))),
            ("sip:a@b;tag=", Some(("sip:a@b", None))),
            ("*", Some(("*", None))),
            ("<>", None),
            ("", None),
            ("<sip:a@b", None),
            ("\"unterminated <sip:a@b>", None),
        ];
        for (value, expected) in rows {
            let expected = expected.map(|(uri, tag)| NameAddr { uri, tag });
            assert_eq!(parse_name_addr(value), expected, "{value}");
        }
    }

    #[test]
    fn first_contact_value() {
        assert_eq!(
            first_value("<sip:a@b;x=\"1,2\">, <sip:c@d>"),
            "<sip:a@b;x=\"1,2\">"
        );
        assert_eq!(
            first_value("\"A, B\" <sip:a@b>, sip:c@d"),
            "\"A, B\" <sip:a@b>"
        );
        assert_eq!(first_value("sip:a@b , sip:c@d"), "sip:a@b");
    }
}
