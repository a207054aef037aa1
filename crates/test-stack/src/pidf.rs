//! PIDF helpers for tests: build a simple document, read basic states and notes back.

use crate::stanza::escape;

const PIDF_NS: &str = "urn:ietf:params:xml:ns:pidf";

/// A one-tuple PIDF document (`basic` is `open` or `closed`; `note` optional).
pub fn simple(entity: &str, basic: &str, note: Option<&str>) -> String {
    let note = note
        .map(|n| format!("<note>{}</note>", escape(n)))
        .unwrap_or_default();
    format!(
        "<?xml version='1.0' encoding='UTF-8'?>\
         <presence xmlns='{PIDF_NS}' entity='{}'>\
         <tuple id='t1'><status><basic>{basic}</basic></status>{note}</tuple>\
         </presence>",
        escape(entity)
    )
}

/// A parsed PIDF document's parts that tests look at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pidf {
    pub entity: String,
    /// `basic` of every tuple, in order.
    pub basics: Vec<String>,
    /// Text of every `note` anywhere (any namespace), in order.
    pub notes: Vec<String>,
    /// Tuple ids, in order.
    pub tuple_ids: Vec<String>,
}

/// Parses a PIDF body (DTDs refused).
pub fn parse(body: &str) -> Result<Pidf, String> {
    let doc = roxmltree::Document::parse(body).map_err(|e| format!("{e} in {body}"))?;
    let root = doc.root_element();
    if root.tag_name().name() != "presence" || root.tag_name().namespace() != Some(PIDF_NS) {
        return Err(format!("not a PIDF document: {body}"));
    }
    let in_pidf = |n: &roxmltree::Node<'_, '_>, name: &str| {
        n.is_element() && n.tag_name().name() == name && n.tag_name().namespace() == Some(PIDF_NS)
    };
    let text = |n: roxmltree::Node<'_, '_>| n.text().unwrap_or("").trim().to_string();
    Ok(Pidf {
        entity: root.attribute("entity").unwrap_or("").to_string(),
        basics: root
            .descendants()
            .filter(|n| in_pidf(n, "basic"))
            .map(text)
            .collect(),
        notes: root
            .descendants()
            .filter(|n| n.is_element() && n.tag_name().name() == "note")
            .map(text)
            .collect(),
        tuple_ids: root
            .children()
            .filter(|n| in_pidf(n, "tuple"))
            .map(|n| n.attribute("id").unwrap_or("").to_string())
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn round_trip() {
        let doc = super::simple("sip:a@b", "open", Some("x < y"));
        let p = super::parse(&doc).unwrap();
        assert_eq!(p.entity, "sip:a@b");
        assert_eq!(p.basics, ["open"]);
        assert_eq!(p.notes, ["x < y"]);
        assert_eq!(p.tuple_ids, ["t1"]);
    }
}
