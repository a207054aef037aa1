//! XMPP `<show>` values and the two tables that choose one from SIP presence: RPID activities,
//! and (only without any RPID activities) the note-text heuristics the C module used.

/// The XMPP `<show>` sub-states (RFC 6121 section 4.7.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Show {
    Away,
    Chat,
    Dnd,
    Xa,
}

impl Show {
    /// The value as written in `<show>`.
    pub fn as_str(self) -> &'static str {
        match self {
            Show::Away => "away",
            Show::Chat => "chat",
            Show::Dnd => "dnd",
            Show::Xa => "xa",
        }
    }

    /// The `<show>` value `s` (exact, as RFC 6121 defines them), or None.
    pub fn parse(s: &str) -> Option<Show> {
        match s {
            "away" => Some(Show::Away),
            "chat" => Some(Show::Chat),
            "dnd" => Some(Show::Dnd),
            "xa" => Some(Show::Xa),
            _ => None,
        }
    }
}

/// RPID activity (RFC 4480 element local name) -> `<show>`. Activities not listed give no show.
pub const ACTIVITY_TO_SHOW: &[(&str, Show)] = &[
    ("away", Show::Away),
    ("busy", Show::Dnd),
    ("on-the-phone", Show::Dnd),
    ("meeting", Show::Dnd),
    ("performance", Show::Dnd),
    ("presentation", Show::Dnd),
    ("vacation", Show::Xa),
    ("holiday", Show::Xa),
    ("sleeping", Show::Xa),
    ("travel", Show::Xa),
];

/// Whole note text (trimmed, ASCII case-insensitive) -> `<show>`, used only when the document
/// has no RPID activities at all. "busy" is dnd here (the C module said xa).
pub const NOTE_TO_SHOW: &[(&str, Show)] = &[
    ("away", Show::Away),
    ("on the phone", Show::Away),
    ("dnd", Show::Dnd),
    ("do not disturb", Show::Dnd),
    ("busy (dnd)", Show::Dnd),
    ("busy", Show::Dnd),
];

/// `<show>` -> the RPID activity we publish (None: no activity).
pub fn show_to_activity(show: Option<Show>) -> Option<&'static str> {
    match show? {
        Show::Away | Show::Xa => Some("away"),
        Show::Dnd => Some("busy"),
        Show::Chat => None,
    }
}

/// The show for RPID activity `name` (ASCII case-insensitive).
pub fn show_from_activity(name: &str) -> Option<Show> {
    ACTIVITY_TO_SHOW
        .iter()
        .find(|(activity, _)| name.eq_ignore_ascii_case(activity))
        .map(|&(_, show)| show)
}

/// The show the note-text heuristics give for `note`.
pub fn show_from_note(note: &str) -> Option<Show> {
    let note = note.trim();
    NOTE_TO_SHOW
        .iter()
        .find(|(text, _)| note.eq_ignore_ascii_case(text))
        .map(|&(_, show)| show)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn show_round_trips_through_its_text() {
        for show in [Show::Away, Show::Chat, Show::Dnd, Show::Xa] {
            assert_eq!(Show::parse(show.as_str()), Some(show));
        }
        assert_eq!(Show::parse("Away"), None);
        assert_eq!(Show::parse(""), None);
        assert_eq!(Show::parse("online"), None);
    }

    #[test]
    fn activity_table_rows() {
        let rows = [
            ("away", Some(Show::Away)),
            ("busy", Some(Show::Dnd)),
            ("on-the-phone", Some(Show::Dnd)),
            ("meeting", Some(Show::Dnd)),
            ("performance", Some(Show::Dnd)),
            ("presentation", Some(Show::Dnd)),
            ("vacation", Some(Show::Xa)),
            ("holiday", Some(Show::Xa)),
            ("sleeping", Some(Show::Xa)),
            ("travel", Some(Show::Xa)),
            ("unknown", None),
            ("appointment", None),
            ("steering", None),
            ("Away", Some(Show::Away)),
        ];
        for (activity, show) in rows {
            assert_eq!(show_from_activity(activity), show, "{activity}");
        }
    }

    #[test]
    fn note_heuristic_rows() {
        let rows = [
            ("away", Some(Show::Away)),
            ("Away", Some(Show::Away)),
            (" AWAY ", Some(Show::Away)),
            ("On the phone", Some(Show::Away)),
            ("dnd", Some(Show::Dnd)),
            ("DND", Some(Show::Dnd)),
            ("Do Not Disturb", Some(Show::Dnd)),
            ("Busy (DND)", Some(Show::Dnd)),
            ("busy", Some(Show::Dnd)),
            ("Busy", Some(Show::Dnd)),
            ("Online", None),
            ("not away", None),
            ("away from desk", None),
            ("", None),
        ];
        for (note, show) in rows {
            assert_eq!(show_from_note(note), show, "{note}");
        }
    }

    #[test]
    fn show_to_published_activity_rows() {
        let rows = [
            (Some(Show::Away), Some("away")),
            (Some(Show::Xa), Some("away")),
            (Some(Show::Dnd), Some("busy")),
            (Some(Show::Chat), None),
            (None, None),
        ];
        for (show, activity) in rows {
            assert_eq!(show_to_activity(show), activity, "{show:?}");
        }
    }
}
