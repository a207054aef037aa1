//! SIP events headers (RFC 6665): Subscription-State and Event, and the docs/behaviour.md section 1
//! decision what a NOTIFY turns into.

use crate::TranslateError;

/// The subscription state value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubState {
    Active,
    Pending,
    Terminated,
    /// An unknown state (lower-cased).
    Other(String),
}

/// A parsed Subscription-State header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionState {
    pub state: SubState,
    /// The `reason` parameter, lower-cased.
    pub reason: Option<String>,
    /// The `expires` parameter when it is a valid number (else only in `params`).
    pub expires: Option<u32>,
    /// Every parameter in order, reason and expires included: names lower-cased, values
    /// unquoted.
    pub params: Vec<(String, Option<String>)>,
}

/// A SIP token (RFC 3261 section 25.1).
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b))
}

/// Splits `s` at `sep` outside double quotes (backslash escapes inside quotes).
fn split_unquoted(s: &str, sep: u8) -> Result<Vec<&str>, TranslateError> {
    let mut parts = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, b) in s.bytes().enumerate() {
        match b {
            _ if escaped => escaped = false,
            b'\\' if quoted => escaped = true,
            b'"' => quoted = !quoted,
            _ if b == sep && !quoted => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if quoted {
        return Err(TranslateError::Malformed(
            "unterminated quoted string in header".into(),
        ));
    }
    parts.push(&s[start..]);
    Ok(parts)
}

/// A parameter value without its quotes and escapes.
fn unquote(value: &str) -> String {
    match value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
        Some(inner) => {
            let mut out = String::with_capacity(inner.len());
            let mut chars = inner.chars();
            while let Some(c) = chars.next() {
                out.push(if c == '\\' {
                    chars.next().unwrap_or('\\')
                } else {
                    c
                });
            }
            out
        }
        None => value.to_owned(),
    }
}

/// Parses a Subscription-State value, e.g. `terminated; reason = "timeout"`.
pub fn parse_subscription_state(value: &str) -> Result<SubscriptionState, TranslateError> {
    let mut parts = split_unquoted(value, b';')?.into_iter();
    let state = parts.next().unwrap_or("").trim();
    if state.is_empty() {
        return Err(TranslateError::Empty("Subscription-State"));
    }
    if !is_token(state) {
        return Err(TranslateError::InvalidValue {
            what: "Subscription-State",
            value: state.to_owned(),
        });
    }
    let state = state.to_ascii_lowercase();
    let mut parsed = SubscriptionState {
        state: match state.as_str() {
            "active" => SubState::Active,
            "pending" => SubState::Pending,
            "terminated" => SubState::Terminated,
            _ => SubState::Other(state),
        },
        reason: None,
        expires: None,
        params: Vec::new(),
    };
    for param in parts.map(str::trim).filter(|p| !p.is_empty()) {
        let (name, value) = match param.split_once('=') {
            Some((name, value)) => (name.trim(), Some(unquote(value.trim()))),
            None => (param, None),
        };
        if !is_token(name) {
            return Err(TranslateError::InvalidValue {
                what: "Subscription-State parameter",
                value: name.to_owned(),
            });
        }
        let name = name.to_ascii_lowercase();
        match (name.as_str(), &value) {
            ("reason", Some(v)) if parsed.reason.is_none() => {
                parsed.reason = Some(v.to_ascii_lowercase());
            }
            ("expires", Some(v)) if parsed.expires.is_none() => parsed.expires = v.parse().ok(),
            _ => {}
        }
        parsed.params.push((name, value));
    }
    Ok(parsed)
}

/// The event package of an Event header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventPackage {
    Presence,
    PresenceWinfo,
    /// Any other package (lower-cased).
    Other(String),
}

/// Parses an Event value: the package name case-insensitively, parameters ignored.
pub fn parse_event(value: &str) -> Result<EventPackage, TranslateError> {
    let name = value.split(';').next().unwrap_or("").trim();
    if name.is_empty() {
        return Err(TranslateError::Empty("Event"));
    }
    if !is_token(name) {
        return Err(TranslateError::InvalidValue {
            what: "Event",
            value: name.to_owned(),
        });
    }
    Ok(if name.eq_ignore_ascii_case("presence") {
        EventPackage::Presence
    } else if name.eq_ignore_ascii_case("presence.winfo") {
        EventPackage::PresenceWinfo
    } else {
        EventPackage::Other(name.to_ascii_lowercase())
    })
}

/// What the gateway does with a NOTIFY.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotifyAction {
    /// Translate the body.
    TranslateBody,
    /// Send `<presence type='unavailable'/>`: presence unknown, the subscription stays.
    SendUnavailable,
    /// Send `<presence type='unsubscribed'/>`: the subscription is gone.
    SendUnsubscribed,
    /// Send nothing (and still answer the NOTIFY).
    Ignore,
}

/// docs/behaviour.md section 1, Subscription-State table, for event `presence`.
pub fn presence_notify_action(state: &SubscriptionState, has_body: bool) -> NotifyAction {
    use NotifyAction::*;
    match (&state.state, state.reason.as_deref(), has_body) {
        (SubState::Active, _, true) => TranslateBody,
        (SubState::Active, _, false) => SendUnavailable,
        (SubState::Pending, _, _) => Ignore,
        // A fetch (expires 0) answer: its body is the current presence.
        (SubState::Terminated, Some("timeout"), true) => TranslateBody,
        // The subscription ends but may be retried: presence unknown.
        (SubState::Terminated, Some("timeout" | "deactivated" | "probation" | "giveup"), _) => {
            SendUnavailable
        }
        // rejected, noresource, no reason, any other reason.
        (SubState::Terminated, _, _) => SendUnsubscribed,
        (SubState::Other(_), _, _) => Ignore,
    }
}

/// docs/behaviour.md winfo paragraph, for event `presence.winfo`: only an active or pending
/// subscription's body asks anything; a terminated winfo subscription causes nothing.
pub fn winfo_notify_action(state: &SubscriptionState, has_body: bool) -> NotifyAction {
    match state.state {
        SubState::Active | SubState::Pending if has_body => NotifyAction::TranslateBody,
        _ => NotifyAction::Ignore,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use NotifyAction::*;

    fn state(value: &str) -> SubscriptionState {
        parse_subscription_state(value).unwrap()
    }

    #[test]
    fn presence_action_table() {
        let rows = [
            ("active", true, TranslateBody),
            ("active;expires=3600", false, SendUnavailable),
            ("pending", true, Ignore),
            ("pending", false, Ignore),
            ("terminated;reason=timeout", true, TranslateBody),
            ("terminated;reason=timeout", false, SendUnavailable),
            ("terminated;reason=deactivated", false, SendUnavailable),
            ("terminated;reason=probation", false, SendUnavailable),
            ("terminated;reason=giveup", false, SendUnavailable),
            ("terminated;reason=deactivated", true, SendUnavailable),
            ("terminated;reason=probation", true, SendUnavailable),
            (
                "terminated;reason=giveup;retry-after=30",
                true,
                SendUnavailable,
            ),
            ("terminated;reason=rejected", false, SendUnsubscribed),
            ("terminated;reason=rejected", true, SendUnsubscribed),
            ("terminated;reason=noresource", false, SendUnsubscribed),
            ("terminated;reason=noresource", true, SendUnsubscribed),
            ("terminated", false, SendUnsubscribed),
            ("terminated", true, SendUnsubscribed),
            ("terminated;reason=somethingnew", false, SendUnsubscribed),
            ("Terminated ; Reason = \"TimeOut\"", true, TranslateBody),
            ("waiting", true, Ignore),
            ("waiting", false, Ignore),
        ];
        for (value, has_body, action) in rows {
            assert_eq!(
                presence_notify_action(&state(value), has_body),
                action,
                "{value} {has_body}"
            );
        }
    }

    #[test]
    fn winfo_action_table() {
        let rows = [
            ("active", true, TranslateBody),
            ("pending", true, TranslateBody),
            ("active", false, Ignore),
            ("pending", false, Ignore),
            ("terminated;reason=timeout", true, Ignore),
            ("terminated;reason=rejected", false, Ignore),
            ("bogus", true, Ignore),
        ];
        for (value, has_body, action) in rows {
            assert_eq!(
                winfo_notify_action(&state(value), has_body),
                action,
                "{value} {has_body}"
            );
        }
    }

    #[test]
    fn parses_state_reason_expires_and_params() {
        assert_eq!(
            state(" TERMINATED ;REASON=Timeout ; retry-after = 30;x=\"a;b\\\"c\" ; flag "),
            SubscriptionState {
                state: SubState::Terminated,
                reason: Some("timeout".into()),
                expires: None,
                params: vec![
                    ("reason".into(), Some("Timeout".into())),
                    ("retry-after".into(), Some("30".into())),
                    ("x".into(), Some("a;b\"c".into())),
                    ("flag".into(), None),
                ],
            }
        );
        let active = state("active;expires=600");
        assert_eq!(
            (active.state, active.expires),
            (SubState::Active, Some(600))
        );
        assert_eq!(state("Pending").state, SubState::Pending);
        assert_eq!(state("Waiting").state, SubState::Other("waiting".into()));
        // An unusable expires is kept in params only.
        let odd = state("active;expires=soon");
        assert_eq!(odd.expires, None);
        assert_eq!(odd.params, vec![("expires".into(), Some("soon".into()))]);
        assert_eq!(state("active;;").params, vec![]);
    }

    #[test]
    fn state_errors() {
        assert_eq!(
            parse_subscription_state(""),
            Err(TranslateError::Empty("Subscription-State"))
        );
        assert_eq!(
            parse_subscription_state(" ;reason=timeout"),
            Err(TranslateError::Empty("Subscription-State"))
        );
        assert_eq!(
            parse_subscription_state("act ive"),
            Err(TranslateError::InvalidValue {
                what: "Subscription-State",
                value: "act ive".into()
            })
        );
        assert!(matches!(
            parse_subscription_state("active;x=\"open"),
            Err(TranslateError::Malformed(_))
        ));
        assert!(matches!(
            parse_subscription_state("active;=1"),
            Err(TranslateError::InvalidValue { .. })
        ));
    }

    #[test]
    fn event_rows() {
        let rows = [
            ("presence", EventPackage::Presence),
            ("Presence", EventPackage::Presence),
            (" presence;id=1", EventPackage::Presence),
            ("presence.winfo", EventPackage::PresenceWinfo),
            ("PRESENCE.WINFO ; x=y", EventPackage::PresenceWinfo),
            ("dialog", EventPackage::Other("dialog".into())),
            (
                "Message-Summary",
                EventPackage::Other("message-summary".into()),
            ),
        ];
        for (value, event) in rows {
            assert_eq!(parse_event(value), Ok(event), "{value}");
        }
        assert_eq!(parse_event(""), Err(TranslateError::Empty("Event")));
        assert_eq!(parse_event(";id=1"), Err(TranslateError::Empty("Event")));
        assert!(matches!(
            parse_event("pres ence"),
            Err(TranslateError::InvalidValue { .. })
        ));
    }
}
