//! Input limits: the body size cap and the status-text cut.

/// Limits applied to every document this crate parses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest body or stanza accepted, in bytes; larger input is refused with `TooLarge`.
    pub max_body_size: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_size: 65536,
        }
    }
}

/// Status and note texts are cut to this many characters (never refused), so no SIP user can
/// make a stanza big enough for an XMPP server to drop the component link.
pub const MAX_STATUS_CHARS: usize = 1024;

/// `s` cut to at most `MAX_STATUS_CHARS` characters, at a character boundary.
pub fn cut_status(s: &str) -> &str {
    match s.char_indices().nth(MAX_STATUS_CHARS) {
        Some((end, _)) => &s[..end],
        None => s,
    }
}

/// `s` cut to at most `max_bytes` bytes, at a character boundary.
pub fn cut_at_char_boundary(s: &str, max_bytes: usize) -> &str {
    if s.len() <= max_bytes {
        return s;
    }
    let mut end = max_bytes;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// A status or note text as carried: trimmed, then cut (and trimmed again, so reading it back
/// gives the same text).
pub(crate) fn clean_status(s: &str) -> &str {
    cut_status(s.trim()).trim_end()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_cap_is_64_kib() {
        assert_eq!(Limits::default().max_body_size, 65536);
    }

    #[test]
    fn cut_keeps_short_text() {
        assert_eq!(cut_status("hello"), "hello");
        let exact = "x".repeat(MAX_STATUS_CHARS);
        assert_eq!(cut_status(&exact), exact);
    }

    #[test]
    fn cut_counts_characters_not_bytes() {
        let long = "é".repeat(MAX_STATUS_CHARS + 5);
        let cut = cut_status(&long);
        assert_eq!(cut.chars().count(), MAX_STATUS_CHARS);
        assert_eq!(cut.len(), 2 * MAX_STATUS_CHARS);
    }

    #[test]
    fn byte_cut_never_splits_a_character() {
        assert_eq!(cut_at_char_boundary("héllo", 2), "h");
        assert_eq!(cut_at_char_boundary("héllo", 3), "hé");
        assert_eq!(cut_at_char_boundary("héllo", 99), "héllo");
        assert_eq!(cut_at_char_boundary("é", 0), "");
    }

    #[test]
    fn clean_status_never_ends_in_space() {
        let text = format!("  {} tail", "x".repeat(MAX_STATUS_CHARS - 1));
        assert_eq!(clean_status(&text), "x".repeat(MAX_STATUS_CHARS - 1));
        assert_eq!(clean_status(" a b "), "a b");
    }
}
