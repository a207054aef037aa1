//! The component link's lifecycle as the gateway lives it (docs/behaviour.md section 6): the
//! transport reports the link down (about once a second while it is) and up; the gateway then
//! holds presence instead of sending it, withdraws the publications it made for XMPP users once
//! the grace period is over, and when the link is back probes those users and sends each user
//! the presence held for each of their gateway subscriptions.
//!
//! The reports and every XMPP presence run in the xmpp module's process, the one place that
//! makes publications for XMPP users, so the publications live there; whether the link is down
//! is shared with the SIP workers, which hold NOTIFYs' presence while it is.

use std::sync::Mutex;
use std::sync::atomic::Ordering;

use kamailio_module::shared_atomics::SharedAtomics;
use kamailio_module::sys::PRESENCE_EVENT;
use kamailio_module::xmpp::{StanzaKind, Translate};
use sip_xmpp_presence::{
    LinkAction, LinkWatch, PresenceType, Publication, Publications, pidf_to_stanza, presence_stanza,
};

use super::{FlowError, Gateway, shorten, xmpp_presence};

/// Whether the component link is down, for every process (word 0: 1 = down). Until the
/// transport reports anything (Kamailio's C xmpp module never does) it counts as up.
pub struct LinkState {
    words: SharedAtomics,
}

impl LinkState {
    /// Maps the shared word; call in mod_init, before fork.
    pub fn create() -> std::io::Result<Self> {
        Ok(Self {
            words: SharedAtomics::create(1)?,
        })
    }

    /// Whether presence must be held instead of sent.
    pub fn is_down(&self) -> bool {
        self.words.get(0).load(Ordering::Acquire) == 1
    }

    fn set_down(&self, down: bool) {
        self.words.get(0).store(u64::from(down), Ordering::Release);
    }
}

/// The xmpp process's part: the link watch and the publications made for XMPP users.
struct Lifecycle {
    watch: LinkWatch,
    publications: Publications,
}

static LIFECYCLE: Mutex<Option<Lifecycle>> = Mutex::new(None);

fn with<R>(gw: &Gateway, f: impl FnOnce(&mut Lifecycle) -> R) -> R {
    let mut guard = LIFECYCLE.lock().unwrap_or_else(|e| e.into_inner());
    f(guard.get_or_insert_with(|| Lifecycle {
        watch: LinkWatch::new(gw.config.link_loss_grace_ms()),
        publications: Publications::new(gw.config.max_subscriptions),
    }))
}

/// A publication was made (or renewed) for `user`'s resource.
pub fn published(gw: &Gateway, user: &str, publication: Publication) {
    let id = publication.id.clone();
    if !with(gw, |l| l.publications.published(user, publication)) {
        log::warn!(
            "publication {id} of <{}> is not tracked (more than max_subscriptions = {}): it \
             will not be withdrawn if the XMPP link is lost",
            shorten(user),
            gw.config.max_subscriptions
        );
    }
}

/// `user`'s resource publication `id` was withdrawn by the user.
pub fn unpublished(gw: &Gateway, user: &str, id: &str) {
    with(gw, |l| l.publications.unpublished(user, id));
}

/// Every resource of `user` went unavailable: the publications still made for it.
pub fn user_gone(gw: &Gateway, user: &str) -> Vec<Publication> {
    with(gw, |l| l.publications.user_gone(user))
}

/// The transport reports the link down for `down_for_ms`.
pub fn link_down(gw: &Gateway, down_for_ms: u64) {
    if !gw.link.is_down() {
        log::info!("the XMPP link is down: presence for XMPP users is held until it is back");
    }
    gw.link.set_down(true);
    let withdraw = with(gw, |l| match l.watch.down(down_for_ms) {
        LinkAction::Withdraw => l.publications.withdraw_all(),
        _ => Vec::new(),
    });
    if withdraw.is_empty() {
        return;
    }
    log::warn!(
        "the XMPP link has been down for {} s (modparam link_loss_grace): withdrawing {} \
         publications of XMPP users, so SIP watchers see them offline",
        down_for_ms / 1000,
        withdraw.len()
    );
    for p in &withdraw {
        if let Err(e) = xmpp_presence::send_publication(gw, &p.pres_uri, &p.id, None) {
            log::warn!(
                "withdrawing publication {} of <{}>: {e}",
                p.id,
                shorten(&p.pres_uri)
            );
        }
    }
}

/// The transport reports the link up.
pub fn link_up(gw: &Gateway) {
    gw.link.set_down(false);
    let (withdrawn, probes) = match with(gw, |l| match l.watch.up() {
        LinkAction::Restore { withdrawn } => Some((withdrawn, l.publications.restore())),
        _ => None,
    }) {
        Some(restore) => restore,
        None => return,
    };
    let sent = resend_held(gw);
    for (user, gateway_jid) in &probes {
        let probe = presence_stanza(gateway_jid, user, PresenceType::Probe);
        if let Err(e) = gw.xmpp.send(StanzaKind::Packet, gateway_jid, user, &probe) {
            log::warn!("probing <{}>: {e}", shorten(user));
        }
    }
    log::info!(
        "the XMPP link is up: sent {sent} held presences of SIP contacts, probed {} XMPP users \
         whose presence was published{}",
        probes.len(),
        if withdrawn {
            " (their publications had been withdrawn)"
        } else {
            ""
        }
    );
}

/// Sends each XMPP user the presence held for each of its gateway subscriptions; how many.
fn resend_held(gw: &Gateway) -> usize {
    let mut sent = 0;
    for (pres_uri, watcher_uri, presence) in gw.dialogs.held(PRESENCE_EVENT) {
        let send = || -> Result<(), FlowError> {
            let from = gw.translate(Translate::EncodeSipToXmpp, "the presentity", &pres_uri)?;
            let to = gw.translate(Translate::DecodeSipToXmpp, "the watcher", &watcher_uri)?;
            let stanza = pidf_to_stanza(&from, &to, &presence);
            gw.xmpp.send(StanzaKind::Notify, &from, &to, &stanza)?;
            Ok(())
        };
        match send() {
            Ok(()) => sent += 1,
            Err(e) => log::warn!("held presence of <{}>: {e}", shorten(&pres_uri)),
        }
    }
    sent
}
