//! The four SIP URI <-> XMPP JID translators of the `xmpp` module (`util.c`), as pure functions.
//!
//! Two modes, chosen like the C module: with an empty `gwmap` the remote domain travels inside
//! the user part behind `domain_separator` (`sip:user*domain@gateway_domain` <->
//! `user*domain@xmpp_domain`); with a `gwmap` the domains are mapped one to one.
//!
//! Results are never truncated (C cuts them at 511 bytes, and `decode_uri_sip_xmpp` writes out of
//! bounds for a user part of 512 bytes or more). `None` where C returns NULL (a URI that
//! `parse_uri` refuses), and also where C would return a string with an empty part or crash:
//! a SIP URI without user part (C dereferences NULL in `decode_uri_sip_xmpp` and builds
//! `*host@xmpp_domain` in `encode_uri_sip_xmpp`), a JID that leaves nothing before `@`/`/`
//! (C gives `sip:`), and in gwmap mode a JID without local part (C gives `sip:@domain`).

use crate::gwmap::{GwMapEntry, GwMapError, parse_gwmap};
use crate::sip_uri;

/// The modparams the translators read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressConfig {
    /// `domain_separator` (first character of the modparam), default `*`.
    pub domain_separator: char,
    /// `gateway_domain`: the SIP domain of the gateway, default `sip2xmpp.example.net`.
    pub gateway_domain: String,
    /// `xmpp_domain`: the component's JID domain, default `xmpp2sip.example.net`.
    pub xmpp_domain: String,
    /// `gwmap` entries in lookup order (see [`parse_gwmap`]); empty means separator mode.
    pub gwmap: Vec<GwMapEntry>,
}

impl Default for AddressConfig {
    fn default() -> Self {
        Self {
            domain_separator: '*',
            gateway_domain: "sip2xmpp.example.net".into(),
            xmpp_domain: "xmpp2sip.example.net".into(),
            gwmap: Vec::new(),
        }
    }
}

impl AddressConfig {
    /// Appends one `gwmap` modparam value, as each repeated `modparam("xmpp", "gwmap", ...)`
    /// appends its list to the previous ones (`xmpp.c` `xmpp_gwmap_param`). On error nothing
    /// is appended.
    pub fn add_gwmap(&mut self, value: &str) -> Result<(), GwMapError> {
        self.gwmap.extend(parse_gwmap(value)?);
        Ok(())
    }

    /// `decode_uri_sip_xmpp`: `sip:user*domain@gateway` -> `user@domain`; with a gwmap
    /// `sip:user@sipdom` -> `user@xmppdom` (`user@sipdom` when the entry has no XMPP domain or
    /// no entry matches).
    ///
    /// Separator mode keeps C's quirk: a user part without separator is returned as it is
    /// (`sip:d@gw` -> `d`, the inverse of [`Self::encode_uri_xmpp_sip`] for a domain JID).
    pub fn decode_uri_sip_xmpp(&self, uri: &str) -> Option<String> {
        let parsed = sip_uri::parse(uri)?;
        if self.gwmap.is_empty() {
            Some(parsed.user.replacen(self.domain_separator, "@", 1))
        } else {
            Some(self.sip_to_jid_mapped(parsed.user, parsed.host))
        }
    }

    /// `encode_uri_sip_xmpp`: `sip:user@domain` -> `user*domain@xmpp_domain`; with a gwmap
    /// the same as [`Self::decode_uri_sip_xmpp`].
    pub fn encode_uri_sip_xmpp(&self, uri: &str) -> Option<String> {
        let parsed = sip_uri::parse(uri)?;
        if self.gwmap.is_empty() {
            Some(format!(
                "{}{}{}@{}",
                parsed.user, self.domain_separator, parsed.host, self.xmpp_domain
            ))
        } else {
            Some(self.sip_to_jid_mapped(parsed.user, parsed.host))
        }
    }

    /// `decode_uri_xmpp_sip`: `user*domain@xmpp_domain/resource` -> `sip:user@domain`; with a
    /// gwmap `user@xmppdom/res` -> `sip:user@sipdom`.
    ///
    /// Separator mode is C's string surgery: cut at the first `/`, then at the first `@`, then
    /// replace the first separator by `@` (so `user@x` without separator gives `sip:user`).
    pub fn decode_uri_xmpp_sip(&self, jid: &str) -> Option<String> {
        if !self.gwmap.is_empty() {
            return self.jid_to_sip_mapped(jid);
        }
        let bare = before(before(jid, '/'), '@');
        if bare.is_empty() {
            return None;
        }
        Some(format!(
            "sip:{}",
            bare.replacen(self.domain_separator, "@", 1)
        ))
    }

    /// `encode_uri_xmpp_sip`: `user@domain/resource` -> `sip:user*domain@gateway_domain`; with a
    /// gwmap the same as [`Self::decode_uri_xmpp_sip`].
    ///
    /// Unlike C, the input is not modified. A domain JID `d` gives `sip:d@gateway_domain`, as in C.
    pub fn encode_uri_xmpp_sip(&self, jid: &str) -> Option<String> {
        if !self.gwmap.is_empty() {
            return self.jid_to_sip_mapped(jid);
        }
        let bare = before(jid, '/');
        if bare.is_empty() {
            return None;
        }
        let sep = self.domain_separator.encode_utf8(&mut [0; 4]).to_owned();
        Some(format!(
            "sip:{}@{}",
            bare.replacen('@', &sep, 1),
            self.gateway_domain
        ))
    }

    /// gwmap mode, SIP -> XMPP: the first entry whose SIP domain equals the host (ASCII case
    /// insensitive) gives the XMPP domain.
    fn sip_to_jid_mapped(&self, user: &str, host: &str) -> String {
        let domain = self
            .gwmap
            .iter()
            .find(|e| e.sip_domain.eq_ignore_ascii_case(host))
            .and_then(|e| e.xmpp_domain.as_deref())
            .unwrap_or(host);
        format!("{user}@{domain}")
    }

    /// gwmap mode, XMPP -> SIP: the JID is read as `sip:<jid without resource>`; the first entry
    /// whose XMPP domain (or SIP domain when it has none) equals the host gives the SIP domain.
    fn jid_to_sip_mapped(&self, jid: &str) -> Option<String> {
        let as_uri = format!("sip:{}", before(jid, '/'));
        let parsed = sip_uri::parse(&as_uri)?;
        let domain = self
            .gwmap
            .iter()
            .find(|e| {
                e.xmpp_domain
                    .as_deref()
                    .unwrap_or(&e.sip_domain)
                    .eq_ignore_ascii_case(parsed.host)
            })
            .map_or(parsed.host, |e| e.sip_domain.as_str());
        Some(format!("sip:{}@{}", parsed.user, domain))
    }
}

/// The part of `s` before the first `c` (all of `s` without one).
fn before(s: &str, c: char) -> &str {
    s.split(c).next().unwrap_or(s)
}
