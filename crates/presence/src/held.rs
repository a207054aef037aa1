//! The last presence the gateway translated for a gateway subscription, kept in a bounded byte
//! form so that shared memory can hold it (docs/behaviour.md, "probe" and "Lifecycle"): a probe
//! is answered with it, and it is sent again when the component link comes back.
//!
//! Form: a flags byte (bit 0 available, bit 1 priority present), the show code, the priority,
//! then each note as `lang length (u8), lang, text length (u16 LE), text`. Notes that do not
//! fit in the space given are cut (the text at a character boundary) or left out, so a stored
//! presence never exceeds its bound.

use crate::limits::cut_at_char_boundary;
use crate::{LangText, PidfPresence, Show};

const AVAILABLE: u8 = 1;
const HAS_PRIORITY: u8 = 2;
/// The fixed part: flags, show, priority.
const FIXED: usize = 3;

fn show_code(show: Option<Show>) -> u8 {
    match show {
        None => 0,
        Some(Show::Away) => 1,
        Some(Show::Chat) => 2,
        Some(Show::Dnd) => 3,
        Some(Show::Xa) => 4,
    }
}

fn show_of(code: u8) -> Option<Option<Show>> {
    Some(match code {
        0 => None,
        1 => Some(Show::Away),
        2 => Some(Show::Chat),
        3 => Some(Show::Dnd),
        4 => Some(Show::Xa),
        _ => return None,
    })
}

/// `presence` in at most `max` bytes (at least the fixed part, 3 bytes, is always written).
/// Show and priority of an unavailable presence are not kept: the stanza never carries them.
pub fn encode_held(presence: &PidfPresence, max: usize) -> Vec<u8> {
    let available = presence.available;
    let priority = presence.priority.filter(|_| available);
    let mut flags = 0;
    if available {
        flags |= AVAILABLE;
    }
    if priority.is_some() {
        flags |= HAS_PRIORITY;
    }
    let mut out = Vec::with_capacity(max.min(256));
    out.extend_from_slice(&[
        flags,
        show_code(presence.show.filter(|_| available)),
        priority.unwrap_or(0) as u8,
    ]);
    for note in &presence.notes {
        // A language tag longer than 255 bytes is no real one: the note goes without it.
        let lang = note
            .lang
            .as_deref()
            .filter(|l| l.len() <= 255)
            .unwrap_or("");
        let room = max.saturating_sub(out.len() + 3 + lang.len());
        if room == 0 && !note.text.is_empty() {
            break;
        }
        let text = cut_at_char_boundary(&note.text, room.min(usize::from(u16::MAX)));
        if out.len() + 3 + lang.len() + text.len() > max {
            break;
        }
        out.push(lang.len() as u8);
        out.extend_from_slice(lang.as_bytes());
        out.extend_from_slice(&(text.len() as u16).to_le_bytes());
        out.extend_from_slice(text.as_bytes());
    }
    out
}

/// The presence [`encode_held`] wrote, or `None` for bytes it did not write.
pub fn decode_held(bytes: &[u8]) -> Option<PidfPresence> {
    let (&[flags, show, priority], mut rest) = bytes.split_first_chunk::<FIXED>()?;
    let mut notes = Vec::new();
    while let Some((&lang_len, after)) = rest.split_first() {
        let (lang, after) = after.split_at_checked(usize::from(lang_len))?;
        let (len, after) = after.split_first_chunk::<2>()?;
        let (text, after) = after.split_at_checked(usize::from(u16::from_le_bytes(*len)))?;
        notes.push(LangText {
            text: std::str::from_utf8(text).ok()?.to_string(),
            lang: (!lang.is_empty())
                .then(|| std::str::from_utf8(lang).ok().map(str::to_string))
                .flatten(),
        });
        rest = after;
    }
    Some(PidfPresence {
        available: flags & AVAILABLE != 0,
        show: show_of(show)?,
        notes,
        priority: (flags & HAS_PRIORITY != 0).then_some(priority as i8),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(text: &str, lang: Option<&str>) -> LangText {
        LangText {
            text: text.into(),
            lang: lang.map(Into::into),
        }
    }

    #[test]
    fn round_trips_what_the_stanza_carries() {
        let p = PidfPresence {
            available: true,
            show: Some(Show::Dnd),
            notes: vec![
                note("In a meeting", Some("en")),
                note("Réunion", Some("fr")),
            ],
            priority: Some(-5),
        };
        assert_eq!(decode_held(&encode_held(&p, 1024)), Some(p));
        let offline = PidfPresence {
            available: false,
            show: None,
            notes: vec![],
            priority: None,
        };
        assert_eq!(decode_held(&encode_held(&offline, 3)), Some(offline));
    }

    #[test]
    fn unavailable_keeps_no_show_or_priority() {
        let p = PidfPresence {
            available: false,
            show: Some(Show::Away),
            notes: vec![note("gone", None)],
            priority: Some(3),
        };
        let back = decode_held(&encode_held(&p, 64)).unwrap();
        assert_eq!((back.show, back.priority), (None, None));
        assert_eq!(back.notes, vec![note("gone", None)]);
    }

    #[test]
    fn stays_within_its_bound_cutting_at_a_character() {
        let p = PidfPresence {
            available: true,
            show: None,
            notes: vec![note(&"é".repeat(100), Some("fr")), note("second", None)],
            priority: None,
        };
        for max in 3..260 {
            let bytes = encode_held(&p, max);
            assert!(bytes.len() <= max, "{max}: {}", bytes.len());
            let back = decode_held(&bytes).unwrap();
            assert!(back.notes.len() <= 2);
            if let Some(first) = back.notes.first() {
                assert!(p.notes[0].text.starts_with(&first.text));
            }
        }
        assert_eq!(decode_held(&encode_held(&p, 4096)).unwrap(), p);
    }

    #[test]
    fn refuses_what_it_did_not_write() {
        for bad in [
            &b""[..],
            b"\x01\x00",
            b"\x01\x09\x00",
            b"\x01\x00\x00\x05en",
            b"\x01\x00\x00\x00\x05\x00ab",
        ] {
            assert_eq!(decode_held(bad), None, "{bad:?}");
        }
        assert_eq!(decode_held(b"\x01\x00\x00\x00\x02\x00\xff\xfe"), None);
    }
}
