//! XML escaping for the stanzas this crate writes: text never becomes markup, and characters
//! XML 1.0 forbids (which would make the server close the whole link) are dropped.

/// Appends `s` to `out`, escaped for character data (`attr` false) or for an attribute value
/// in single or double quotes (`attr` true).
pub(crate) fn push_escaped(out: &mut String, s: &str, attr: bool) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\'' if attr => out.push_str("&apos;"),
            '"' if attr => out.push_str("&quot;"),
            // Raw CR becomes LF when parsed, and TAB/LF become spaces in attributes.
            '\r' => out.push_str("&#13;"),
            '\t' if attr => out.push_str("&#9;"),
            '\n' if attr => out.push_str("&#10;"),
            '\t' | '\n' => out.push(c),
            '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => {}
            _ => out.push(c),
        }
    }
}

/// Appends ` name='value'` with the value escaped.
pub(crate) fn push_attr(out: &mut String, name: &str, value: &str) {
    out.push(' ');
    out.push_str(name);
    out.push_str("='");
    push_escaped(out, value, true);
    out.push('\'');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_drops_forbidden_chars() {
        let mut out = String::new();
        push_escaped(&mut out, "a<b>&'\"\r\n\t\u{1}\u{ffff}é", false);
        assert_eq!(out, "a&lt;b&gt;&amp;'\"&#13;\n\té");
        out.clear();
        push_attr(&mut out, "to", "x'\"\n");
        assert_eq!(out, " to='x&apos;&quot;&#10;'");
    }
}
