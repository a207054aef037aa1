//! The remote contact of each gateway subscription, shared by all Kamailio processes: pua finds
//! an existing dialog (to end or refresh it) only when given that contact. Replies arrive in SIP
//! workers and tm timers, XMPP unsubscribes in the XMPP process, so the state lives in shared
//! memory, fixed in size at start-up, and entries go when subscriptions end.

use kamailio_module::shared::{SharedMap, SharedMapError};
use libc::c_int;

/// Longest key: event byte + presentity URI + NUL + watcher URI.
pub const KEY_MAX: usize = 512;
/// Longest remote contact remembered.
pub const CONTACT_MAX: usize = 256;

pub struct Dialogs {
    map: SharedMap,
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
            map: SharedMap::create(capacity, KEY_MAX, CONTACT_MAX)?,
        })
    }

    pub fn remote_contact(
        &self,
        event: c_int,
        pres_uri: &[u8],
        watcher_uri: &[u8],
    ) -> Option<Vec<u8>> {
        self.map.get(&key(event, pres_uri, watcher_uri))
    }

    pub fn remember(&self, event: c_int, pres_uri: &[u8], watcher_uri: &[u8], contact: &[u8]) {
        if let Err(e) = self.map.insert(&key(event, pres_uri, watcher_uri), contact) {
            let hint = match e {
                SharedMapError::Full => " (raise modparam max_subscriptions)",
                _ => "",
            };
            log::warn!(
                "cannot remember the remote contact of <{}> watching <{}>: {e}{hint}; ending or refreshing this subscription will need pua's check_remote_contact 0",
                String::from_utf8_lossy(pres_uri),
                String::from_utf8_lossy(watcher_uri)
            );
        }
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
