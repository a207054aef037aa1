//! The user and host of a `sip:`/`sips:` URI, split the way Kamailio's `parse_uri` splits them.

/// The two parts of a SIP URI the address translators use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SipUri<'a> {
    /// Everything between the scheme and the first `@` (or the `:` before the password).
    pub user: &'a str,
    /// The host as written, IPv6 references with their brackets.
    pub host: &'a str,
}

/// Splits `uri` into user and host, or `None` where `parse_uri` fails or the URI has no user part.
///
/// Accepted: `sip:` or `sips:` (any case), `user[:password]@host[:port][;params][?headers]`,
/// with the checks `parse_uri` makes: a host starts with a letter, a digit or `[`, holds only
/// letters, digits, `.` and `-` (IPv6 references: anything but `[&@;?` up to `]`), a port is at
/// most 5 digits and at most 65535, and no `@` follows the host. `tel:` and `urn:` URIs, which
/// `parse_uri` also accepts, have no host to translate and give `None`.
pub(crate) fn parse(uri: &str) -> Option<SipUri<'_>> {
    let rest = strip_scheme(uri)?;
    let at = rest.find('@')?;
    let userinfo = &rest[..at];
    // A second ':' before '@' is neither user:password nor host:port in parse_uri.
    let mut colons = userinfo.split(':');
    let user = colons.next().unwrap_or_default();
    if colons.count() > 1 || user.is_empty() || user.contains(['[', ']']) {
        return None;
    }
    let host = host_and_tail(&rest[at + 1..])?;
    Some(SipUri { user, host })
}

fn strip_scheme(uri: &str) -> Option<&str> {
    let b = uri.as_bytes();
    if b.len() >= 4 && b[..4].eq_ignore_ascii_case(b"sip:") {
        Some(&uri[4..])
    } else if b.len() >= 5 && b[..5].eq_ignore_ascii_case(b"sips:") {
        Some(&uri[5..])
    } else {
        None
    }
}

/// Checks `host[:port][;params][?headers]` and returns the host.
fn host_and_tail(s: &str) -> Option<&str> {
    let b = s.as_bytes();
    let host_end = if b.first() == Some(&b'[') {
        let close = s.find(']')?;
        if s[1..close].contains(['[', '&', '@', ';', '?']) {
            return None;
        }
        close + 1
    } else {
        if !b.first()?.is_ascii_alphanumeric() {
            return None;
        }
        b.iter()
            .position(|c| !(c.is_ascii_alphanumeric() || *c == b'.' || *c == b'-'))
            .unwrap_or(b.len())
    };
    let (host, mut tail) = s.split_at(host_end);
    if let Some(port_and_more) = tail.strip_prefix(':') {
        let digits = port_and_more.bytes().take_while(u8::is_ascii_digit).count();
        let port = &port_and_more[..digits];
        if digits > 5 || (!port.is_empty() && port.parse::<u32>().ok()? > 65535) {
            return None;
        }
        tail = &port_and_more[digits..];
    }
    match tail.as_bytes().first() {
        None => Some(host),
        Some(b';') => {
            let params_end = tail.find('?').unwrap_or(tail.len());
            let ok = !tail[..params_end].contains('@') && headers_ok(&tail[params_end..]);
            ok.then_some(host)
        }
        Some(b'?') => headers_ok(tail).then_some(host),
        Some(_) => None,
    }
}

/// After the user is found, parse_uri refuses `@` and `;` in the headers.
fn headers_ok(headers: &str) -> bool {
    !headers.contains(['@', ';'])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(uri: &str) -> Option<(&str, &str)> {
        parse(uri).map(|u| (u.user, u.host))
    }

    #[test]
    fn user_host_port_params_headers() {
        assert_eq!(
            split("sip:alice@example.com"),
            Some(("alice", "example.com"))
        );
        assert_eq!(
            split("SIPS:bob@h:5061;transport=tls?subject=x"),
            Some(("bob", "h"))
        );
        assert_eq!(split("sip:u:secret@h"), Some(("u", "h")));
        assert_eq!(split("sip:u*d.org@gw.net:"), Some(("u*d.org", "gw.net")));
        assert_eq!(
            split("sip:u@[2001:db8::1]:5060"),
            Some(("u", "[2001:db8::1]"))
        );
    }

    #[test]
    fn refused_like_parse_uri() {
        for bad in [
            "",
            "sip:",
            "sip:host.only",
            "sip:@h",
            "sip:u@",
            "sip:u@-h",
            "sip:u@h_x",
            "sip:u@h:99999",
            "sip:u@h:123456",
            "sip:u@h:5x",
            "sip:u@h;a=b@c",
            "sip:u@h?a@b",
            "sip:u@h?a;b",
            "sip:a:b:c@h",
            "sip:u[1]@h",
            "sip:u@[::1",
            "sip:u@[::1]x",
            "tel:+123",
            "urn:x",
            "http://u@h",
            "sip:u@h&x",
        ] {
            assert_eq!(split(bad), None, "{bad}");
        }
    }
}
