//! The names written in a start tag (element name, then attribute names), outside quoted values.

/// Iterates over the names in a complete start tag `<...>` as byte ranges of `tag`: the element
/// name first, then each attribute name (an unquoted value would show up as a name too; such a
/// tag is refused by the well-formedness check anyway).
pub(super) struct Names<'a> {
    tag: &'a [u8],
    i: usize,
}

impl<'a> Names<'a> {
    pub(super) fn new(tag: &'a [u8]) -> Self {
        Self { tag, i: 1 }
    }
}

impl<'a> Iterator for Names<'a> {
    type Item = (usize, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        let t = self.tag;
        let mut quote = None;
        while self.i < t.len() {
            let c = t[self.i];
            match quote {
                Some(q) if c == q => quote = None,
                Some(_) => {}
                None if c == b'"' || c == b'\'' => quote = Some(c),
                None if is_name_byte(c) => {
                    let start = self.i;
                    while self.i < t.len() && is_name_byte(t[self.i]) {
                        self.i += 1;
                    }
                    return Some((start, &t[start..self.i]));
                }
                None => {}
            }
            self.i += 1;
        }
        None
    }
}

fn is_name_byte(c: u8) -> bool {
    !matches!(
        c,
        b' ' | b'\t' | b'\r' | b'\n' | b'=' | b'/' | b'>' | b'<' | b'"' | b'\''
    )
}

/// The prefix of a qualified name (`stream` in `stream:error`), if it has one.
pub(super) fn prefix(name: &[u8]) -> Option<&[u8]> {
    name.iter().position(|&c| c == b':').map(|i| &name[..i])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_skip_quoted_values() {
        let tag = b"<x:a b='1 c:d=\"/>' xmlns:x = \"u\" e/>";
        let names: Vec<&[u8]> = Names::new(tag).map(|(_, n)| n).collect();
        assert_eq!(names, [&b"x:a"[..], b"b", b"xmlns:x", b"e"]);
        assert_eq!(prefix(b"x:a"), Some(&b"x"[..]));
        assert_eq!(prefix(b"a"), None);
    }
}
