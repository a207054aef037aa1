//! The publications the gateway made for XMPP users (docs/behaviour.md section 6): which to
//! withdraw when the component link has been down past its grace period, and whom to probe
//! when it is back. Bounded; one entry per XMPP resource.

use std::collections::BTreeMap;

/// One publication: made from the presence of `user`'s resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publication {
    /// The publication's id (`xmpp-<resource id>`).
    pub id: String,
    /// The user's SIP alias, the publication's presentity.
    pub pres_uri: String,
    /// The gateway JID that user's presence was last addressed to (the user's server has
    /// approved it: a probe from it is answered).
    pub gateway_jid: String,
    /// Whether it was withdrawn while the link was down.
    pub withdrawn: bool,
}

/// The publications, keyed by (user's bare JID, publication id).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Publications {
    by_user: BTreeMap<(String, String), Publication>,
    max: usize,
}

impl Publications {
    /// An empty set holding at most `max` publications.
    pub fn new(max: usize) -> Self {
        Self {
            by_user: BTreeMap::new(),
            max,
        }
    }

    /// Records (or renews) a publication of `user`; false when the set is full.
    pub fn published(&mut self, user: &str, publication: Publication) -> bool {
        let key = (user.to_string(), publication.id.clone());
        if !self.by_user.contains_key(&key) && self.by_user.len() >= self.max {
            return false;
        }
        self.by_user.insert(key, publication);
        true
    }

    /// Forgets the publication `id` of `user` (it was withdrawn by the user's unavailable).
    pub fn unpublished(&mut self, user: &str, id: &str) {
        self.by_user.remove(&(user.to_string(), id.to_string()));
    }

    /// Forgets every publication of `user` (all its resources went unavailable) and returns
    /// those still published.
    pub fn user_gone(&mut self, user: &str) -> Vec<Publication> {
        let ids: Vec<_> = self.of_user(user).map(|p| p.id.clone()).collect();
        ids.into_iter()
            .filter_map(|id| self.by_user.remove(&(user.to_string(), id)))
            .filter(|p| !p.withdrawn)
            .collect()
    }

    fn of_user<'a>(&'a self, user: &'a str) -> impl Iterator<Item = &'a Publication> + 'a {
        self.by_user
            .range((user.to_string(), String::new())..)
            .take_while(move |((u, _), _)| u == user)
            .map(|(_, p)| p)
    }

    /// The publications to withdraw now (each marked withdrawn, so each is returned once).
    pub fn withdraw_all(&mut self) -> Vec<Publication> {
        self.by_user
            .values_mut()
            .filter(|p| !p.withdrawn)
            .map(|p| {
                p.withdrawn = true;
                p.clone()
            })
            .collect()
    }

    /// Whom to probe now that the link is back: each user once (bare JID, gateway JID to probe
    /// from). The withdrawn publications are forgotten: the answers publish them again.
    pub fn restore(&mut self) -> Vec<(String, String)> {
        let mut probes: Vec<(String, String)> = Vec::new();
        for ((user, _), p) in &self.by_user {
            if probes.last().is_none_or(|(u, _)| u != user) {
                probes.push((user.clone(), p.gateway_jid.clone()));
            }
        }
        self.by_user.retain(|_, p| !p.withdrawn);
        probes
    }

    /// How many are held.
    pub fn len(&self) -> usize {
        self.by_user.len()
    }

    /// Whether none is held.
    pub fn is_empty(&self) -> bool {
        self.by_user.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn publication(id: &str, gateway_jid: &str) -> Publication {
        Publication {
            id: id.into(),
            pres_uri: "sip:bob*x@gw".into(),
            gateway_jid: gateway_jid.into(),
            withdrawn: false,
        }
    }

    #[test]
    fn withdraws_each_once_and_probes_each_user_once() {
        let mut p = Publications::new(10);
        assert!(p.published("bob@x", publication("xmpp-phone", "alice*s@gw")));
        assert!(p.published("bob@x", publication("xmpp-pc", "carol*s@gw")));
        assert!(p.published("dan@x", publication("xmpp-", "alice*s@gw")));
        let withdrawn = p.withdraw_all();
        assert_eq!(withdrawn.len(), 3);
        assert!(p.withdraw_all().is_empty());
        let probes = p.restore();
        assert_eq!(
            probes,
            vec![
                ("bob@x".to_string(), "carol*s@gw".to_string()),
                ("dan@x".to_string(), "alice*s@gw".to_string())
            ]
        );
        assert!(p.is_empty(), "withdrawn publications are forgotten");
    }

    #[test]
    fn restore_without_withdrawal_keeps_them() {
        let mut p = Publications::new(10);
        p.published("bob@x", publication("xmpp-phone", "alice*s@gw"));
        assert_eq!(p.restore().len(), 1);
        assert_eq!(p.len(), 1);
    }

    #[test]
    fn a_user_going_away_takes_all_resources() {
        let mut p = Publications::new(10);
        p.published("bob@x", publication("xmpp-phone", "a@gw"));
        p.published("bob@x", publication("xmpp-pc", "a@gw"));
        p.published("bobby@x", publication("xmpp-pc", "a@gw"));
        let gone = p.user_gone("bob@x");
        assert_eq!(gone.len(), 2);
        assert_eq!(p.len(), 1);
        p.unpublished("bobby@x", "xmpp-pc");
        assert!(p.is_empty());
    }

    #[test]
    fn bounded() {
        let mut p = Publications::new(1);
        assert!(p.published("a@x", publication("xmpp-1", "g")));
        assert!(
            p.published("a@x", publication("xmpp-1", "h")),
            "a renewal fits"
        );
        assert!(!p.published("b@x", publication("xmpp-1", "g")));
        assert_eq!(p.len(), 1);
    }
}
