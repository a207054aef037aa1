//! The parts of a SIP URI the gateway needs: scheme, user and host.

use crate::TranslateError;

/// A `sip:` or `sips:` URI's scheme, user and `host[:port]` (parameters and headers dropped).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SipUri<'a> {
    pub scheme: &'a str,
    pub user: &'a str,
    pub host: &'a str,
}

/// `uri` trimmed, without one pair of surrounding angle brackets.
pub fn strip_angle_brackets(uri: &str) -> &str {
    let uri = uri.trim();
    uri.strip_prefix('<')
        .and_then(|u| u.strip_suffix('>'))
        .map_or(uri, str::trim)
}

/// Parses `sip:user@host[:port][;params][?headers]` (scheme case-insensitive, any length,
/// optionally inside `<...>`). A password after the user (`user:pw@`) is dropped.
pub fn parse_sip_uri(uri: &str) -> Result<SipUri<'_>, TranslateError> {
    let invalid = || TranslateError::InvalidValue {
        what: "SIP URI",
        value: uri.to_owned(),
    };
    let uri = strip_angle_brackets(uri);
    if uri.is_empty() {
        return Err(TranslateError::Empty("SIP URI"));
    }
    let (scheme, rest) = uri.split_once(':').ok_or_else(invalid)?;
    if !scheme.eq_ignore_ascii_case("sip") && !scheme.eq_ignore_ascii_case("sips") {
        return Err(invalid());
    }
    // The user part may hold ';' and '?' (escaped or not), so find '@' before cutting params.
    let (userinfo, hostpart) = rest.split_once('@').ok_or_else(invalid)?;
    let user = userinfo
        .split_once(':')
        .map_or(userinfo, |(user, _password)| user);
    let host = hostpart.split([';', '?']).next().unwrap_or("");
    let bad =
        |s: &str| s.is_empty() || s.contains(|c: char| c.is_whitespace() || "<>\"@".contains(c));
    if bad(user) || bad(host) {
        return Err(invalid());
    }
    Ok(SipUri { scheme, user, host })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_rows() {
        let rows = [
            ("sip:bob@example.com", ("sip", "bob", "example.com")),
            ("SIP:bob@example.com", ("SIP", "bob", "example.com")),
            (
                "sips:bob@example.com:5061",
                ("sips", "bob", "example.com:5061"),
            ),
            (
                "sip:bob@example.com;transport=tcp",
                ("sip", "bob", "example.com"),
            ),
            (
                "sip:bob@example.com?subject=x",
                ("sip", "bob", "example.com"),
            ),
            (" <sip:a*xmpp.org@gw> ", ("sip", "a*xmpp.org", "gw")),
            ("sip:bob:secret@h", ("sip", "bob", "h")),
            ("sip:+4930;npdi@h", ("sip", "+4930;npdi", "h")),
            (
                "sip:u@[2001:db8::1]:5060",
                ("sip", "u", "[2001:db8::1]:5060"),
            ),
        ];
        for (uri, (scheme, user, host)) in rows {
            assert_eq!(
                parse_sip_uri(uri),
                Ok(SipUri { scheme, user, host }),
                "{uri}"
            );
        }
    }

    #[test]
    fn long_uris_are_not_cut() {
        let user = "u".repeat(1000);
        let uri = format!("sip:{user}@example.com");
        assert_eq!(parse_sip_uri(&uri).unwrap().user, user);
    }

    #[test]
    fn invalid_rows() {
        for uri in [
            "tel:+1234",
            "sip:example.com",
            "sip:@example.com",
            "sip:bob@",
            "sip:bob@;transport=udp",
            "bob@example.com",
            "sip:bo b@example.com",
            "<sip:bob@example.com",
        ] {
            assert!(
                matches!(
                    parse_sip_uri(uri),
                    Err(TranslateError::InvalidValue {
                        what: "SIP URI",
                        ..
                    })
                ),
                "{uri}"
            );
        }
        assert_eq!(parse_sip_uri("  "), Err(TranslateError::Empty("SIP URI")));
        assert_eq!(parse_sip_uri("<>"), Err(TranslateError::Empty("SIP URI")));
    }

    #[test]
    fn angle_brackets_are_stripped_once() {
        assert_eq!(strip_angle_brackets(" <sip:a@b> "), "sip:a@b");
        assert_eq!(strip_angle_brackets("sip:a@b"), "sip:a@b");
        assert_eq!(strip_angle_brackets("<sip:a@b"), "<sip:a@b");
    }
}
