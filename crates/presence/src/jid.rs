//! Splitting a JID into its bare part and resource (RFC 7622).

/// `(bare, resource)`: the resource is everything after the first '/', None when absent or
/// empty.
pub fn split_jid(jid: &str) -> (&str, Option<&str>) {
    match jid.split_once('/') {
        Some((bare, resource)) => (bare, (!resource.is_empty()).then_some(resource)),
        None => (jid, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows() {
        let rows = [
            (
                "juliet@example.com/balcony",
                ("juliet@example.com", Some("balcony")),
            ),
            ("juliet@example.com", ("juliet@example.com", None)),
            ("juliet@example.com/", ("juliet@example.com", None)),
            (
                "example.com/res/with/slashes",
                ("example.com", Some("res/with/slashes")),
            ),
            ("a@b/c@d", ("a@b", Some("c@d"))),
            ("", ("", None)),
        ];
        for (jid, split) in rows {
            assert_eq!(split_jid(jid), split, "{jid}");
        }
    }
}
