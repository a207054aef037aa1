//! What the gateway remembers of each gateway subscription, shared by all Kamailio processes
//! (docs/behaviour.md, "Ending or refreshing a gateway subscription" and section 6): the remote
//! contact pua needs to find an existing dialog (to end or refresh it), the dialog's ids, the
//! last presence translated for it (a probe's answer), and whether a SUBSCRIBE for it is on its
//! way. Replies arrive in SIP workers and tm timers, XMPP stanzas in the XMPP process, so the
//! state lives in shared memory, fixed in size at start-up, and entries go when subscriptions
//! end.

use kamailio_module::clock::monotonic_ms;
use kamailio_module::shared::{SharedMap, SharedMapError, Update};
use libc::c_int;
use sip_xmpp_presence::{KnownSubscription, PidfPresence, decode_held, encode_held};

/// Longest key: event byte + presentity URI + NUL + watcher URI.
pub const KEY_MAX: usize = 512;
/// Longest entry: the dialog part (below) and the held presence in what remains.
pub const VALUE_MAX: usize = 2048;
/// Longest dialog part: the remote contact and the dialog's Call-ID and tags, each with a
/// 2-byte length, the opening time (8 bytes) and a flags byte.
pub const DIALOG_MAX: usize = 1024;
/// Room a held presence always has, whatever the dialog part takes.
pub const HELD_MIN: usize = VALUE_MAX - DIALOG_MAX;

const QUIET: u8 = 1;

/// The gateway's shared subscription table.
pub struct Dialogs {
    map: SharedMap,
}

/// The identity of a gateway dialog, as the gateway sees it: pua's From tag is local.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DialogId<'a> {
    /// The dialog's Call-ID.
    pub call_id: &'a [u8],
    /// pua's tag (From of the SUBSCRIBE).
    pub local_tag: &'a [u8],
    /// The notifier's tag (To of the 2xx).
    pub remote_tag: &'a [u8],
}

/// What is remembered of one gateway subscription.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Known {
    /// The remote target pua holds for the dialog (empty until the 2xx is seen).
    pub contact: Vec<u8>,
    /// The dialog's Call-ID (empty when unknown).
    pub call_id: Vec<u8>,
    /// pua's tag.
    pub local_tag: Vec<u8>,
    /// The notifier's tag.
    pub remote_tag: Vec<u8>,
    /// When the gateway sent the SUBSCRIBE whose reply has not been seen (monotonic ms; 0 when
    /// none is on its way).
    pub opened_at: u64,
    /// The subscription was opened to answer a probe: its reply sends no stanza.
    pub quiet: bool,
    /// The last presence translated for the subscription ([`encode_held`] form).
    pub held: Vec<u8>,
}

impl Known {
    /// Whether `id` names exactly this dialog (pua itself compares by prefix). Without a
    /// remembered Call-ID (a 2xx that lacked one, or none seen yet) nothing can be told.
    pub fn is(&self, id: &DialogId<'_>) -> bool {
        self.call_id.is_empty()
            || (self.call_id == id.call_id
                && self.local_tag == id.local_tag
                && self.remote_tag == id.remote_tag)
    }

    /// The remote target to give pua, when known.
    pub fn remote_target(&self) -> Option<&[u8]> {
        (!self.contact.is_empty()).then_some(&self.contact[..])
    }

    /// The last presence translated for the subscription.
    pub fn held_presence(&self) -> Option<PidfPresence> {
        decode_held(&self.held)
    }

    /// The subscription's state for the probe table.
    pub fn state(&self, now: u64) -> KnownSubscription {
        if !self.held.is_empty() {
            KnownSubscription::Established { held: true }
        } else if self.opened_at != 0 {
            KnownSubscription::Opening {
                age_ms: now.saturating_sub(self.opened_at),
            }
        } else {
            KnownSubscription::Established { held: false }
        }
    }

    fn dialog_parts(&self) -> [&Vec<u8>; 4] {
        [
            &self.contact,
            &self.call_id,
            &self.local_tag,
            &self.remote_tag,
        ]
    }

    /// Bytes the dialog part takes in [`Known::encode`]'s form: each part with its 2-byte
    /// length, the opening time and the flags byte.
    fn dialog_len(&self) -> usize {
        self.dialog_parts()
            .iter()
            .map(|p| 2 + p.len())
            .sum::<usize>()
            + 8
            + 1
    }

    fn encode(&self) -> Option<Vec<u8>> {
        if self.dialog_len() > DIALOG_MAX {
            return None;
        }
        let mut v = Vec::with_capacity(self.dialog_len() + self.held.len());
        for part in self.dialog_parts() {
            v.extend_from_slice(&u16::try_from(part.len()).ok()?.to_le_bytes());
            v.extend_from_slice(part);
        }
        v.extend_from_slice(&self.opened_at.to_le_bytes());
        v.push(if self.quiet { QUIET } else { 0 });
        // The held presence was bounded when it was made; one that no longer fits beside a
        // longer dialog part is dropped (the next NOTIFY holds one again).
        if v.len() + self.held.len() <= VALUE_MAX {
            v.extend_from_slice(&self.held);
        }
        Some(v)
    }

    fn decode(mut v: &[u8]) -> Option<Known> {
        let mut next = || {
            let (len, rest) = v.split_first_chunk::<2>()?;
            let len = usize::from(u16::from_le_bytes(*len));
            let part = rest.get(..len)?.to_vec();
            v = &rest[len..];
            Some(part)
        };
        let (contact, call_id, local_tag, remote_tag) = (next()?, next()?, next()?, next()?);
        let (opened_at, rest) = v.split_first_chunk::<8>()?;
        let (&flags, held) = rest.split_first()?;
        Some(Known {
            contact,
            call_id,
            local_tag,
            remote_tag,
            opened_at: u64::from_le_bytes(*opened_at),
            quiet: flags & QUIET != 0,
            held: held.to_vec(),
        })
    }
}

/// Whether [`Dialogs::open`] made a new entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opened {
    /// No subscription was known (or its SUBSCRIBE had timed out): one is now on its way.
    New,
    /// One is already known or on its way.
    Existing,
    /// The table is full: nothing can be remembered.
    Full,
}

fn key(event: c_int, pres_uri: &[u8], watcher_uri: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(2 + pres_uri.len() + watcher_uri.len());
    k.push(event as u8);
    k.extend_from_slice(pres_uri);
    k.push(0);
    k.extend_from_slice(watcher_uri);
    k
}

/// `(event, presentity, watcher)` of a key made by [`key`].
fn split_key(k: &[u8]) -> Option<(c_int, &[u8], &[u8])> {
    let (&event, rest) = k.split_first()?;
    let nul = memchr::memchr(0, rest)?;
    Some((c_int::from(event), &rest[..nul], &rest[nul + 1..]))
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

    /// The remote target pua holds for the subscription, when known.
    pub fn remote_contact(
        &self,
        event: c_int,
        pres_uri: &[u8],
        watcher_uri: &[u8],
    ) -> Option<Vec<u8>> {
        self.get(event, pres_uri, watcher_uri)
            .and_then(|k| k.remote_target().map(<[u8]>::to_vec))
    }

    /// Changes the entry in one step (no other process changes it in between); `f` gets the
    /// current entry or `None` and returns the new one, or `None` to leave it as it is.
    fn change(
        &self,
        event: c_int,
        pres_uri: &[u8],
        watcher_uri: &[u8],
        f: impl FnOnce(Option<Known>) -> Option<Known>,
    ) -> Result<(), String> {
        let mut failure = None;
        let result = self.map.update(&key(event, pres_uri, watcher_uri), |old| {
            match f(old.and_then(Known::decode)) {
                None => Update::Keep,
                Some(new) => match new.encode() {
                    Some(v) => Update::Set(v),
                    None => {
                        failure = Some("the contact and dialog ids are too long".to_string());
                        Update::Keep
                    }
                },
            }
        });
        match (result, failure) {
            (_, Some(why)) => Err(why),
            (Ok(()), None) => Ok(()),
            (Err(SharedMapError::Full), None) => Err(format!(
                "{} (raise modparam max_subscriptions)",
                SharedMapError::Full
            )),
            (Err(e), None) => Err(e.to_string()),
        }
    }

    /// Records the remote contact and dialog of a subscription from its 2xx; what else is held
    /// for it (the held presence) stays.
    pub fn remember(
        &self,
        event: c_int,
        pres_uri: &[u8],
        watcher_uri: &[u8],
        contact: &[u8],
        id: &DialogId<'_>,
    ) {
        let result = self.change(event, pres_uri, watcher_uri, |old| {
            let old = old.unwrap_or_default();
            Some(Known {
                contact: contact.to_vec(),
                call_id: id.call_id.to_vec(),
                local_tag: id.local_tag.to_vec(),
                remote_tag: id.remote_tag.to_vec(),
                opened_at: 0,
                quiet: false,
                held: old.held,
            })
        });
        if let Err(failure) = result {
            log::warn!(
                "cannot remember the remote contact of <{}> watching <{}>: {failure}; ending or refreshing this subscription will need pua's check_remote_contact 0",
                String::from_utf8_lossy(pres_uri),
                String::from_utf8_lossy(watcher_uri)
            );
        }
    }

    /// Notes that a SUBSCRIBE for the pair is on its way, unless a subscription is already
    /// known or on its way. `quiet`: opened for a probe, so its reply sends no stanza; a
    /// non-quiet call (the user's own `subscribe`) makes an existing entry speak again.
    pub fn open(&self, event: c_int, pres_uri: &[u8], watcher_uri: &[u8], quiet: bool) -> Opened {
        let now = monotonic_ms();
        let mut opened = Opened::Existing;
        let result = self.change(event, pres_uri, watcher_uri, |old| match old {
            Some(k)
                if !matches!(
                    sip_xmpp_presence::probe_answer(k.state(now)),
                    sip_xmpp_presence::ProbeAnswer::OpenSubscription
                ) =>
            {
                (k.quiet && !quiet).then_some(Known { quiet: false, ..k })
            }
            old => {
                opened = Opened::New;
                Some(Known {
                    opened_at: now,
                    quiet,
                    held: old.map(|k| k.held).unwrap_or_default(),
                    ..Known::default()
                })
            }
        });
        match result {
            Ok(()) => opened,
            Err(why) => {
                log::warn!(
                    "cannot remember the subscription of <{}> to <{}>: {why}",
                    String::from_utf8_lossy(watcher_uri),
                    String::from_utf8_lossy(pres_uri)
                );
                Opened::Full
            }
        }
    }

    /// Holds `presence` as the last one translated for the subscription (bounded: it gets the
    /// room the entry has left). A NOTIFY proves the subscription exists, so an entry is made
    /// when none is known (a dialog pua restored from its database).
    pub fn hold(&self, event: c_int, pres_uri: &[u8], watcher_uri: &[u8], presence: &PidfPresence) {
        let result = self.change(event, pres_uri, watcher_uri, |old| {
            let old = old.unwrap_or_default();
            let room = VALUE_MAX - old.dialog_len().min(DIALOG_MAX);
            Some(Known {
                held: encode_held(presence, room),
                ..old
            })
        });
        if let Err(why) = result {
            log::warn!(
                "cannot hold the presence of <{}> for <{}>: {why}; a probe will not be answered at once",
                String::from_utf8_lossy(pres_uri),
                String::from_utf8_lossy(watcher_uri)
            );
        }
    }

    /// Forgets the subscription (it ended).
    pub fn forget(&self, event: c_int, pres_uri: &[u8], watcher_uri: &[u8]) {
        self.map.remove(&key(event, pres_uri, watcher_uri));
    }

    /// Every held presence of `event`: (presentity, watcher, presence).
    pub fn held(&self, event: c_int) -> Vec<(String, String, PidfPresence)> {
        self.map
            .entries()
            .into_iter()
            .filter_map(|(k, v)| {
                let (e, pres_uri, watcher_uri) = split_key(&k)?;
                let presence = Known::decode(&v)?.held_presence().filter(|_| e == event)?;
                Some((
                    String::from_utf8_lossy(pres_uri).into_owned(),
                    String::from_utf8_lossy(watcher_uri).into_owned(),
                    presence,
                ))
            })
            .collect()
    }

    /// Subscriptions remembered.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether none is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sip_xmpp_presence::{LangText, ProbeAnswer, Show, probe_answer};

    const ID: DialogId<'static> = DialogId {
        call_id: b"call-1@h",
        local_tag: b"pua-tag",
        remote_tag: b"ps-tag",
    };

    fn away() -> PidfPresence {
        PidfPresence {
            available: true,
            show: Some(Show::Away),
            notes: vec![LangText {
                text: "Lunch".into(),
                lang: Some("en".into()),
            }],
            priority: Some(10),
        }
    }

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
        let known = Known {
            contact: b"c".to_vec(),
            call_id: ID.call_id.to_vec(),
            local_tag: ID.local_tag.to_vec(),
            remote_tag: ID.remote_tag.to_vec(),
            ..Known::default()
        };
        let known = Known::decode(&known.encode().unwrap()).unwrap();
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
        let known = Known::decode(&Known::default().encode().unwrap()).unwrap();
        assert!(known.is(&ID));
    }

    #[test]
    fn too_long_entries_are_not_stored() {
        let d = Dialogs::create(4).unwrap();
        d.remember(1, b"p", b"w", &[b'c'; DIALOG_MAX], &ID);
        assert!(d.get(1, b"p", b"w").is_none());
    }

    #[test]
    fn one_subscription_per_pair_however_many_probes() {
        let d = Dialogs::create(4).unwrap();
        assert_eq!(d.open(1, b"p", b"w", true), Opened::New);
        assert_eq!(d.open(1, b"p", b"w", true), Opened::Existing);
        let k = d.get(1, b"p", b"w").unwrap();
        assert!(k.quiet && k.opened_at != 0 && k.remote_target().is_none());
        assert_eq!(
            probe_answer(k.state(monotonic_ms())),
            ProbeAnswer::AwaitFirstNotify
        );
        // The user's own subscribe makes it speak; the 2xx ends the opening, keeps the rest.
        assert_eq!(d.open(1, b"p", b"w", false), Opened::Existing);
        assert!(!d.get(1, b"p", b"w").unwrap().quiet);
        d.hold(1, b"p", b"w", &away());
        d.remember(1, b"p", b"w", b"sip:ps@h", &ID);
        let k = d.get(1, b"p", b"w").unwrap();
        assert_eq!((k.opened_at, k.quiet), (0, false));
        assert_eq!(k.held_presence(), Some(away()));
        assert_eq!(probe_answer(k.state(monotonic_ms())), ProbeAnswer::SendHeld);
        assert_eq!(d.len(), 1);
    }

    #[test]
    fn a_timed_out_opening_may_be_tried_again() {
        let d = Dialogs::create(4).unwrap();
        d.change(1, b"p", b"w", |_| {
            Some(Known {
                opened_at: 1,
                quiet: true,
                ..Known::default()
            })
        })
        .unwrap();
        assert_eq!(d.open(1, b"p", b"w", true), Opened::New);
    }

    #[test]
    fn holds_presence_beside_the_dialog_and_lists_it() {
        let d = Dialogs::create(8).unwrap();
        d.remember(1, b"sip:a@x", b"sip:b@y", b"sip:ps@h", &ID);
        d.hold(1, b"sip:a@x", b"sip:b@y", &away());
        d.hold(1, b"sip:c@x", b"sip:b@y", &away());
        d.hold(2, b"sip:b@y", b"sip:b@y", &away());
        let mut held = d.held(1);
        held.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(
            held,
            vec![
                ("sip:a@x".into(), "sip:b@y".into(), away()),
                ("sip:c@x".into(), "sip:b@y".into(), away())
            ]
        );
        // A NOTIFY without a known 2xx still made an entry, with no remote target.
        assert!(d.remote_contact(1, b"sip:c@x", b"sip:b@y").is_none());
    }

    #[test]
    fn a_held_presence_never_overflows_the_entry() {
        let d = Dialogs::create(2).unwrap();
        let long = PidfPresence {
            notes: vec![LangText {
                text: "x".repeat(5000),
                lang: None,
            }],
            ..away()
        };
        d.remember(1, b"p", b"w", &[b'c'; 900], &ID);
        d.hold(1, b"p", b"w", &long);
        let k = d.get(1, b"p", b"w").unwrap();
        assert_eq!(k.contact.len(), 900);
        let held = k.held_presence().unwrap();
        assert!(held.notes[0].text.len() >= HELD_MIN - 64);
        assert!(long.notes[0].text.starts_with(&held.notes[0].text));
    }
}
