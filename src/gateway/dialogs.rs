//! The remote contact of each gateway subscription, shared by all Kamailio processes: pua finds
//! an existing dialog (to end or refresh it) only when given that contact. Replies arrive in SIP
//! workers and tm timers, XMPP unsubscribes in the XMPP process, so the state lives in shared
//! memory, fixed in size at start-up, and entries go when subscriptions end.

use kamailio_module::shared::{SharedMap, SharedMapError};
use libc::c_int;

/// Longest key: event byte + presentity URI + NUL + watcher URI.
pub const KEY_MAX: usize = 512;
/// Longest entry: the remote contact and the dialog's Call-ID and tags, each with a 2-byte
/// length.
pub const VALUE_MAX: usize = 1024;

pub struct Dialogs {
    map: SharedMap,
}

/// The identity of a gateway dialog, as the gateway sees it: pua's From tag is local.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DialogId<'a> {
    pub call_id: &'a [u8],
    pub local_tag: &'a [u8],
    pub remote_tag: &'a [u8],
}

/// What is remembered of one gateway subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Known {
    /// The remote target pua holds for the dialog.
    pub contact: Vec<u8>,
    pub call_id: Vec<u8>,
    pub local_tag: Vec<u8>,
    pub remote_tag: Vec<u8>,
}

impl Known {
    /// Whether `id` names exactly this dialog (pua itself compares by prefix). Without a
    /// remembered Call-ID (a 2xx that lacked one) nothing can be told.
    pub fn is(&self, id: &DialogId<'_>) -> bool {
        self.call_id.is_empty()
            || (self.call_id == id.call_id
                && self.local_tag == id.local_tag
                && self.remote_tag == id.remote_tag)
    }

    fn encode(contact: &[u8], id: &DialogId<'_>) -> Option<Vec<u8>> {
        let parts = [contact, id.call_id, id.local_tag, id.remote_tag];
        let mut v = Vec::with_capacity(8 + parts.iter().map(|p| p.len()).sum::<usize>());
        for part in parts {
            v.extend_from_slice(&u16::try_from(part.len()).ok()?.to_le_bytes());
            v.extend_from_slice(part);
        }
        (v.len() <= VALUE_MAX).then_some(v)
    }

    fn decode(mut v: &[u8]) -> Option<Known> {
        let mut next = || {
            let (len, rest) = v.split_first_chunk::<2>()?;
            let len = usize::from(u16::from_le_bytes(*len));
            let part = rest.get(..len)?.to_vec();
            v = &rest[len..];
            Some(part)
        };
        Some(Known {
            contact: next()?,
            call_id: next()?,
            local_tag: next()?,
            remote_tag: next()?,
        })
    }
}

fn key(event: c_int, pres_uri: &[u8], watcher_uri: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(2 + pres_uri.len() + watcher_uri.len());
    k.push(event as u8);
    k.extend_from_slice(pres_uri);
    k.push(0);
    k.extend_from_slice(watcher_uri);
    k
}

impl Dialogs {
    /// Maps the table; call in mod_init, before fork.
    pub fn create(capacity: usize) -> std::io::Result<Self> {
        Ok(Self {
            map: SharedMap::create(capacity, KEY_MAX, VALUE_MAX)?,
        })
    }

    /// What is known of the subscription of `watcher_uri` to `pres_uri` for `event`.
    pub fn get(&self, event: c_int, pres_uri: &[u8], watcher_uri: &[u8]) -> Option<Known> {
        Known::decode(&self.map.get(&key(event, pres_uri, watcher_uri))?)
    }

    pub fn remote_contact(
        &self,
        event: c_int,
        pres_uri: &[u8],
        watcher_uri: &[u8],
    ) -> Option<Vec<u8>> {
        self.get(event, pres_uri, watcher_uri).map(|k| k.contact)
    }

    pub fn remember(
        &self,
        event: c_int,
        pres_uri: &[u8],
        watcher_uri: &[u8],
        contact: &[u8],
        id: &DialogId<'_>,
    ) {
        let failure = match Known::encode(contact, id) {
            None => "the contact and dialog ids are too long".to_string(),
            Some(value) => match self.map.insert(&key(event, pres_uri, watcher_uri), &value) {
                Ok(()) => return,
                Err(SharedMapError::Full) => {
                    format!(
                        "{} (raise modparam max_subscriptions)",
                        SharedMapError::Full
                    )
                }
                Err(e) => e.to_string(),
            },
        };
        log::warn!(
            "cannot remember the remote contact of <{}> watching <{}>: {failure}; ending or refreshing this subscription will need pua's check_remote_contact 0",
            String::from_utf8_lossy(pres_uri),
            String::from_utf8_lossy(watcher_uri)
        );
    }

    pub fn forget(&self, event: c_int, pres_uri: &[u8], watcher_uri: &[u8]) {
        self.map.remove(&key(event, pres_uri, watcher_uri));
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: DialogId<'static> = DialogId {
        call_id: b"call-1@h",
        local_tag: b"pua-tag",
        remote_tag: b"ps-tag",
    };

    #[test]
    fn remembers_the_contact_and_the_dialog_per_event_and_pair() {
        let d = Dialogs::create(4).unwrap();
        d.remember(1, b"sip:a@x", b"sip:b@y", b"sip:ps@h:5060", &ID);
        let known = d.get(1, b"sip:a@x", b"sip:b@y").unwrap();
        assert_eq!(known.contact, b"sip:ps@h:5060");
        assert!(known.is(&ID));
        assert_eq!(
            d.remote_contact(1, b"sip:a@x", b"sip:b@y").unwrap(),
            b"sip:ps@h:5060"
        );
        assert!(d.get(2, b"sip:a@x", b"sip:b@y").is_none());
        assert!(d.get(1, b"sip:b@y", b"sip:a@x").is_none());
        d.forget(1, b"sip:a@x", b"sip:b@y");
        assert!(d.is_empty());
    }

    #[test]
    fn the_dialog_must_match_exactly() {
        let known = Known::decode(&Known::encode(b"c", &ID).unwrap()).unwrap();
        assert!(known.is(&ID));
        for other in [
            DialogId {
                call_id: b"call-1@h-x",
                ..ID
            },
            DialogId {
                call_id: b"call-1",
                ..ID
            },
            DialogId {
                local_tag: b"pua-tagx",
                ..ID
            },
            DialogId {
                remote_tag: b"ps",
                ..ID
            },
        ] {
            assert!(!known.is(&other), "{other:?}");
        }
        // A 2xx without ids leaves nothing to compare.
        let empty = DialogId {
            call_id: b"",
            local_tag: b"",
            remote_tag: b"",
        };
        let known = Known::decode(&Known::encode(b"c", &empty).unwrap()).unwrap();
        assert!(known.is(&ID));
    }

    #[test]
    fn too_long_entries_are_not_stored() {
        let d = Dialogs::create(4).unwrap();
        d.remember(1, b"p", b"w", &[b'c'; VALUE_MAX], &ID);
        assert!(d.get(1, b"p", b"w").is_none());
    }
}
