//! The `gwmap` modparam: `sipdom=xmppdom;sipdom2` lists mapping SIP domains to XMPP domains.

use std::fmt;

/// One `gwmap` entry: a SIP domain and the XMPP domain it maps to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GwMapEntry {
    /// The SIP side (the parameter name).
    pub sip_domain: String,
    /// The XMPP side (the parameter value); `None` for `sipdom` or `sipdom=`, which maps the
    /// domain to itself.
    pub xmpp_domain: Option<String>,
}

/// Why a `gwmap` value was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GwMapError {
    /// Byte offset in the value where parsing stopped.
    pub offset: usize,
    /// What was wrong there.
    pub reason: &'static str,
}

impl fmt::Display for GwMapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid gwmap at byte {}: {}", self.offset, self.reason)
    }
}

impl std::error::Error for GwMapError {}

/// Parses one `gwmap` modparam value into entries **in the order the C module looks them up**.
///
/// The grammar is Kamailio's `parse_params` with `;` between entries: `name[=value]`, the value
/// a token or a `"`/`'` quoted string, blanks (space, tab, CR, LF) allowed around `=` and after
/// `;`, one trailing `;` ignored (`xmpp.c` strips it). `parse_params` builds its list by
/// prepending, so `a=x;b=y` is looked up as `b` first, then `a`: with a duplicate SIP domain the
/// **last** one in a value wins. This order is kept here.
///
/// Refused where the C module silently differs or fails: an empty value, an empty name
/// (`=x`, `a;;b`), an unterminated quote, and a `,` or `>` after an entry (C stops parsing
/// there and drops the rest without a word).
pub fn parse_gwmap(value: &str) -> Result<Vec<GwMapEntry>, GwMapError> {
    let s = value.strip_suffix(';').unwrap_or(value);
    if s.is_empty() {
        return Err(GwMapError {
            offset: 0,
            reason: "empty value",
        });
    }
    let b = s.as_bytes();
    let mut entries = Vec::new();
    let mut i = 0;
    loop {
        let name_start = i;
        while i < b.len() && !matches!(b[i], b' ' | b'\t' | b'\r' | b'\n' | b',' | b'=' | b';') {
            i += 1;
        }
        if i == name_start {
            return Err(err(i, "missing domain name"));
        }
        let name = &s[name_start..i];
        i = skip_blanks(b, i);
        let mut body = None;
        if b.get(i) == Some(&b'=') {
            i = skip_blanks(b, i + 1);
            match b.get(i) {
                None => {}
                Some(&q @ (b'"' | b'\'')) => {
                    let close = s[i + 1..]
                        .find(q as char)
                        .ok_or_else(|| err(i, "unterminated quote"))?;
                    body = Some(&s[i + 1..i + 1 + close]);
                    i += close + 2;
                }
                Some(_) => {
                    let start = i;
                    while i < b.len() && !matches!(b[i], b' ' | b'\t' | b'\r' | b'\n' | b',' | b';')
                    {
                        i += 1;
                    }
                    if i == start {
                        return Err(err(i, "missing value"));
                    }
                    body = Some(&s[start..i]);
                }
            }
            i = skip_blanks(b, i);
        }
        entries.push(GwMapEntry {
            sip_domain: name.to_owned(),
            xmpp_domain: body.filter(|v| !v.is_empty()).map(str::to_owned),
        });
        match b.get(i) {
            None => break,
            Some(b';') => {
                i = skip_blanks(b, i + 1);
                if i == b.len() {
                    return Err(err(i, "missing domain name after ';'"));
                }
            }
            Some(_) => return Err(err(i, "expected ';'")),
        }
    }
    entries.reverse();
    Ok(entries)
}

fn skip_blanks(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\r' | b'\n') {
        i += 1;
    }
    i
}

fn err(offset: usize, reason: &'static str) -> GwMapError {
    GwMapError { offset, reason }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(sip: &str, xmpp: Option<&str>) -> GwMapEntry {
        GwMapEntry {
            sip_domain: sip.into(),
            xmpp_domain: xmpp.map(Into::into),
        }
    }

    #[test]
    fn parse_params_prepends_so_lookup_order_is_reversed() {
        assert_eq!(
            parse_gwmap("sip.a=xmpp.a;sip.b").unwrap(),
            vec![e("sip.b", None), e("sip.a", Some("xmpp.a"))]
        );
    }

    #[test]
    fn trailing_semicolon_blanks_quotes_and_empty_values() {
        assert_eq!(
            parse_gwmap("a = 'x y' ; b='' ;c=\"z\";").unwrap(),
            vec![e("c", Some("z")), e("b", None), e("a", Some("x y"))]
        );
        assert_eq!(parse_gwmap("a=").unwrap(), vec![e("a", None)]);
    }

    #[test]
    fn refused_values() {
        for bad in [
            "", ";", "=x", "a;;b", "a=x;;", "a='x", "a=x,b=y", "a >", "a b", " a", "a= ;b",
        ] {
            assert!(parse_gwmap(bad).is_err(), "{bad:?}");
        }
    }
}
