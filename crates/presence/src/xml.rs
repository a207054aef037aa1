//! The one escaping writer every renderer of this crate uses: text from one side never becomes
//! markup, or a character that breaks the XML stream, on the other side.

/// What to write for `c` in text (`attr` false) or in an attribute value (`attr` true):
/// `Some("")` drops it, `None` writes it as it is.
fn replacement(c: char, attr: bool) -> Option<&'static str> {
    match c {
        '&' => Some("&amp;"),
        '<' => Some("&lt;"),
        '>' => Some("&gt;"),
        // A parser turns a raw CR into LF (and in attributes TAB/LF/CR into a space): keep them
        // as character references so the text reads back exactly.
        '\r' => Some("&#13;"),
        '"' if attr => Some("&quot;"),
        '\'' if attr => Some("&apos;"),
        '\t' if attr => Some("&#9;"),
        '\n' if attr => Some("&#10;"),
        '\t' | '\n' => None,
        // Not allowed in XML 1.0 at all, even as a reference.
        '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => Some(""),
        _ => None,
    }
}

/// Whether byte `b` may start a character that [`replacement`] changes: ASCII controls and
/// markup characters, and 0xEF, the first byte of U+FFFE and U+FFFF.
fn may_need_escape(b: u8) -> bool {
    b < 0x20 || matches!(b, b'&' | b'<' | b'>' | b'"' | b'\'' | 0xEF)
}

fn escape(out: &mut String, s: &str, attr: bool) {
    let mut start = 0;
    let mut i = 0;
    while let Some(skip) = s.as_bytes()[i..].iter().position(|&b| may_need_escape(b)) {
        // A character starts here: the flagged bytes are ASCII or a UTF-8 lead byte.
        i += skip;
        let Some(c) = s[i..].chars().next() else {
            break;
        };
        if let Some(rep) = replacement(c, attr) {
            out.push_str(&s[start..i]);
            out.push_str(rep);
            start = i + c.len_utf8();
        }
        i += c.len_utf8();
    }
    out.push_str(&s[start..]);
}

/// Appends `s` escaped for XML character data.
pub fn escape_text(out: &mut String, s: &str) {
    escape(out, s, false);
}

/// Appends `s` escaped for an XML attribute value in single or double quotes.
pub fn escape_attr(out: &mut String, s: &str) {
    escape(out, s, true);
}

/// Appends ` name='value'` with the value escaped.
pub(crate) fn push_attr(out: &mut String, name: &str, value: &str) {
    out.push(' ');
    out.push_str(name);
    out.push_str("='");
    escape_attr(out, value);
    out.push('\'');
}

/// Appends `<name>text</name>` with the text escaped.
pub(crate) fn push_text_element(out: &mut String, name: &str, text: &str) {
    out.push('<');
    out.push_str(name);
    out.push('>');
    escape_text(out, text);
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> String {
        let mut out = String::new();
        escape_text(&mut out, s);
        out
    }

    fn attr(s: &str) -> String {
        let mut out = String::new();
        escape_attr(&mut out, s);
        out
    }

    #[test]
    fn text_escapes_markup_characters() {
        assert_eq!(text("a & b < c > d"), "a &amp; b &lt; c &gt; d");
        assert_eq!(
            text("</status><message to='x'>"),
            "&lt;/status&gt;&lt;message to='x'&gt;"
        );
        assert_eq!(text("\"quoted\" 'single'"), "\"quoted\" 'single'");
        assert_eq!(text("plain ünïcode 😀"), "plain ünïcode 😀");
    }

    #[test]
    fn attr_escapes_quotes_too() {
        assert_eq!(attr("a'b\"c&d<e>f"), "a&apos;b&quot;c&amp;d&lt;e&gt;f");
    }

    #[test]
    fn whitespace_survives_a_parser() {
        assert_eq!(text("a\tb\nc\rd"), "a\tb\nc&#13;d");
        assert_eq!(attr("a\tb\nc\rd"), "a&#9;b&#10;c&#13;d");
    }

    #[test]
    fn characters_not_allowed_in_xml_are_dropped() {
        assert_eq!(
            text("a\u{0}b\u{1}c\u{1f}d\u{b}e\u{fffe}f\u{ffff}g"),
            "abcdefg"
        );
        assert_eq!(attr("\u{0}x\u{7}"), "x");
        // DEL and C1 controls are allowed XML 1.0 characters.
        assert_eq!(text("\u{7f}\u{85}"), "\u{7f}\u{85}");
    }

    #[test]
    fn helpers_write_attribute_and_element() {
        let mut out = String::new();
        push_attr(&mut out, "to", "a'b");
        push_text_element(&mut out, "status", "x<y");
        assert_eq!(out, " to='a&apos;b'<status>x&lt;y</status>");
    }

    #[test]
    fn escaped_text_parses_back_to_the_input() {
        let input = "a&b<c>d\"e'f\tg\nh\ri";
        let doc = format!("<r a='{}'>{}</r>", attr(input), text(input));
        let parsed = roxmltree::Document::parse(&doc).unwrap();
        let root = parsed.root_element();
        assert_eq!(root.attribute("a"), Some(input));
        assert_eq!(root.text(), Some(input));
    }
}
