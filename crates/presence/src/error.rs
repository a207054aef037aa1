//! The one error type of every parser in this crate.

use std::fmt::{self, Write};

/// Why an input could not be translated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TranslateError {
    /// The input is larger than `Limits::max_body_size`.
    TooLarge { size: usize, limit: usize },
    /// The input is not UTF-8; the first `valid_up_to` bytes are.
    NotUtf8 { valid_up_to: usize },
    /// The XML (or SIP) parser's message, with its position.
    Malformed(String),
    /// A DOCTYPE or entity declaration: never needed by PIDF, winfo or XMPP, and the door to
    /// entity-expansion attacks.
    DoctypeForbidden,
    /// The document element is not the expected one.
    UnexpectedRoot {
        expected: &'static str,
        found: String,
    },
    /// A required attribute is missing.
    MissingAttribute {
        element: &'static str,
        attribute: &'static str,
    },
    /// A required value is present but empty.
    Empty(&'static str),
    /// A value is present but not one this crate understands.
    InvalidValue { what: &'static str, value: String },
}

/// Most bytes of user data a message shows, so a log line stays short.
const MAX_SHOWN: usize = 80;

/// User data as shown in a message: cut to at most `MAX_SHOWN` bytes at a character boundary
/// (marked "..."), control characters as '?' so the message stays on one line.
struct Shown<'a>(&'a str);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut end = self.0.len().min(MAX_SHOWN);
        while !self.0.is_char_boundary(end) {
            end -= 1;
        }
        for c in self.0[..end].chars() {
            f.write_char(if c.is_control() { '?' } else { c })?;
        }
        if end < self.0.len() {
            f.write_str("...")?;
        }
        Ok(())
    }
}

impl fmt::Display for TranslateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TranslateError::TooLarge { size, limit } => {
                write!(
                    f,
                    "input of {size} bytes is over the limit of {limit} bytes"
                )
            }
            TranslateError::NotUtf8 { valid_up_to } => {
                write!(
                    f,
                    "input is not UTF-8 (invalid byte at offset {valid_up_to})"
                )
            }
            TranslateError::Malformed(msg) => write!(f, "malformed input: {}", Shown(msg)),
            TranslateError::DoctypeForbidden => {
                f.write_str("DOCTYPE or entity declaration is not allowed")
            }
            TranslateError::UnexpectedRoot { expected, found } => write!(
                f,
                "unexpected document element <{}>, expected <{expected}>",
                Shown(found)
            ),
            TranslateError::MissingAttribute { element, attribute } => {
                write!(f, "<{element}> has no '{attribute}' attribute")
            }
            TranslateError::Empty(what) => write!(f, "{what} is empty"),
            TranslateError::InvalidValue { what, value } => {
                write!(f, "invalid {what}: '{}'", Shown(value))
            }
        }
    }
}

impl std::error::Error for TranslateError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_problem() {
        let cases = [
            (
                TranslateError::TooLarge {
                    size: 70000,
                    limit: 65536,
                },
                "input of 70000 bytes is over the limit of 65536 bytes",
            ),
            (
                TranslateError::NotUtf8 { valid_up_to: 3 },
                "input is not UTF-8 (invalid byte at offset 3)",
            ),
            (
                TranslateError::Malformed("unexpected end of stream".into()),
                "malformed input: unexpected end of stream",
            ),
            (
                TranslateError::DoctypeForbidden,
                "DOCTYPE or entity declaration is not allowed",
            ),
            (
                TranslateError::UnexpectedRoot {
                    expected: "presence",
                    found: "message".into(),
                },
                "unexpected document element <message>, expected <presence>",
            ),
            (
                TranslateError::MissingAttribute {
                    element: "presence",
                    attribute: "from",
                },
                "<presence> has no 'from' attribute",
            ),
            (TranslateError::Empty("from"), "from is empty"),
            (
                TranslateError::InvalidValue {
                    what: "type",
                    value: "bogus".into(),
                },
                "invalid type: 'bogus'",
            ),
        ];
        for (err, text) in cases {
            assert_eq!(err.to_string(), text);
        }
    }

    #[test]
    fn user_data_is_cut_at_a_char_boundary() {
        let err = TranslateError::InvalidValue {
            what: "type",
            value: "é".repeat(100),
        };
        let text = err.to_string();
        assert!(text.ends_with("...'"), "{text}");
        assert!(text.len() < 110, "{text}");
    }

    #[test]
    fn user_data_stays_on_one_line() {
        let err = TranslateError::Malformed("a\nb\rc".into());
        assert_eq!(err.to_string(), "malformed input: a?b?c");
    }
}
