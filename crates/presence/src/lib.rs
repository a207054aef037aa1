//! Pure translation between SIP/SIMPLE presence and XMPP presence: bytes in, values or bytes out.
#![forbid(unsafe_code)]

// Every module is public so either path works (`sip_xmpp_presence::sip::SipMessage` or
// `sip_xmpp_presence::SipMessage`); `doc` is the internal XML input checker.

mod doc;
pub mod error;
pub mod held;
pub mod jid;
pub mod lifecycle;
pub mod limits;
pub mod pidf;
mod pidf_tree;
pub mod publications;
pub mod publish;
pub mod show;
pub mod sip;
pub mod sip_uri;
pub mod stanza;
pub mod stanza_error;
pub mod subscription;
pub mod winfo;
pub mod xml;
pub mod xmpp_action;

pub use error::TranslateError;
pub use held::{decode_held, encode_held};
pub use jid::split_jid;
pub use lifecycle::{KnownSubscription, LinkAction, LinkWatch, ProbeAnswer, probe_answer};
pub use limits::{Limits, MAX_STATUS_CHARS, cut_at_char_boundary, cut_status};
pub use pidf::{LangText, PidfPresence, parse_pidf};
pub use publications::{Publication, Publications};
pub use publish::{render_pidf, resource_id};
pub use show::{
    ACTIVITY_TO_SHOW, NOTE_TO_SHOW, Show, show_from_activity, show_from_note, show_to_activity,
};
pub use sip::{NameAddr, SipMessage, StartLine, parse_name_addr};
pub use sip_uri::{SipUri, parse_sip_uri, strip_angle_brackets};
pub use stanza::{
    PresenceType, XmppPresence, parse_xmpp_presence, pidf_to_stanza, presence_stanza,
};
pub use stanza_error::{
    ErrorType, XmppErrorCondition, error_presence, sip_status_to_xmpp_error, subscribe_reply_stanza,
};
pub use subscription::{
    EventPackage, NotifyAction, SubState, SubscriptionState, parse_event, parse_subscription_state,
    presence_notify_action, winfo_notify_action,
};
pub use winfo::{Watcher, WatcherInfo, WatcherList, WatcherStatus, parse_watcherinfo};
pub use xml::{escape_attr, escape_text};
pub use xmpp_action::{XmppAction, xmpp_presence_action};
