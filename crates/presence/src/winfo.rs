//! Watcher information documents (RFC 3858) and the watchers the gateway asks the XMPP user
//! about.

use std::collections::HashSet;

use roxmltree::Node;

use crate::doc::{children_named, element_text, with_root};
use crate::{Limits, TranslateError};

/// A watcher's subscription status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatcherStatus {
    Active,
    Pending,
    Waiting,
    Terminated,
}

impl WatcherStatus {
    /// The status for attribute value `s` (ASCII case-insensitive), or None.
    pub fn parse(s: &str) -> Option<Self> {
        [
            ("active", WatcherStatus::Active),
            ("pending", WatcherStatus::Pending),
            ("waiting", WatcherStatus::Waiting),
            ("terminated", WatcherStatus::Terminated),
        ]
        .into_iter()
        .find(|(text, _)| s.trim().eq_ignore_ascii_case(text))
        .map(|(_, status)| status)
    }
}

/// One `<watcher>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watcher {
    pub uri: String,
    pub status: WatcherStatus,
    pub event: Option<String>,
    pub id: Option<String>,
    pub display_name: Option<String>,
}

/// One `<watcher-list>`: the watchers of one resource for one event package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatcherList {
    pub resource: String,
    pub package: String,
    pub watchers: Vec<Watcher>,
}

/// A `<watcherinfo>` document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatcherInfo {
    pub version: Option<u64>,
    /// `state='full'` (else partial).
    pub full: bool,
    pub lists: Vec<WatcherList>,
}

impl WatcherInfo {
    /// Distinct watcher URIs (exact strings) in order of appearance, across every list, whose
    /// status is active, pending or waiting: the users to send a subscription request for.
    pub fn watchers_to_request(&self) -> Vec<&str> {
        let mut seen = HashSet::new();
        self.lists
            .iter()
            .flat_map(|list| &list.watchers)
            .filter(|w| w.status != WatcherStatus::Terminated)
            .map(|w| w.uri.as_str())
            .filter(|uri| seen.insert(*uri))
            .collect()
    }
}

/// Reads a watcherinfo body. A watcher without a usable status or URI is skipped (the others
/// still count); a list without `resource` or `package` makes the document invalid.
pub fn parse_watcherinfo(body: &[u8], limits: &Limits) -> Result<WatcherInfo, TranslateError> {
    with_root(body, limits, "watcherinfo", read_watcherinfo)
}

fn required(
    node: Node<'_, '_>,
    element: &'static str,
    attribute: &'static str,
) -> Result<String, TranslateError> {
    node.attribute(attribute)
        .map(str::to_owned)
        .ok_or(TranslateError::MissingAttribute { element, attribute })
}

fn read_watcherinfo(root: Node<'_, '_>) -> Result<WatcherInfo, TranslateError> {
    let version = match root.attribute("version") {
        None => None,
        Some(v) => Some(v.trim().parse().map_err(|_| TranslateError::InvalidValue {
            what: "watcherinfo version",
            value: v.to_owned(),
        })?),
    };
    let full = match root.attribute("state").map(str::trim) {
        Some(s) if s.eq_ignore_ascii_case("full") => true,
        Some(s) if s.eq_ignore_ascii_case("partial") => false,
        Some(s) => {
            return Err(TranslateError::InvalidValue {
                what: "watcherinfo state",
                value: s.to_owned(),
            });
        }
        None => {
            return Err(TranslateError::MissingAttribute {
                element: "watcherinfo",
                attribute: "state",
            });
        }
    };
    let lists = children_named(root, "watcher-list")
        .map(|list| {
            Ok(WatcherList {
                resource: required(list, "watcher-list", "resource")?,
                package: required(list, "watcher-list", "package")?,
                watchers: children_named(list, "watcher")
                    .filter_map(read_watcher)
                    .collect(),
            })
        })
        .collect::<Result<_, TranslateError>>()?;
    Ok(WatcherInfo {
        version,
        full,
        lists,
    })
}

fn read_watcher(node: Node<'_, '_>) -> Option<Watcher> {
    let status = WatcherStatus::parse(node.attribute("status")?)?;
    let uri = element_text(node);
    let uri = uri.trim();
    if uri.is_empty() {
        return None;
    }
    let owned = |name: &str| node.attribute(name).map(str::to_owned);
    Some(Watcher {
        uri: uri.to_owned(),
        status,
        event: owned("event"),
        id: owned("id"),
        display_name: owned("display-name"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(xml: &str) -> Result<WatcherInfo, TranslateError> {
        parse_watcherinfo(xml.as_bytes(), &Limits::default())
    }

    fn doc(lists: &str) -> String {
        format!(
            "<watcherinfo xmlns='urn:ietf:params:xml:ns:watcherinfo' version='3' state='full'>{lists}</watcherinfo>"
        )
    }

    fn list(watchers: &str) -> String {
        format!("<watcher-list resource='sip:u@gw' package='presence'>{watchers}</watcher-list>")
    }

    fn watcher(status: &str, uri: &str) -> String {
        format!("<watcher status='{status}' id='i' event='subscribe'>{uri}</watcher>")
    }

    #[test]
    fn status_rows() {
        let rows = [
            ("active", Some(WatcherStatus::Active)),
            ("pending", Some(WatcherStatus::Pending)),
            ("waiting", Some(WatcherStatus::Waiting)),
            ("terminated", Some(WatcherStatus::Terminated)),
            ("Active", Some(WatcherStatus::Active)),
            ("gone", None),
            ("", None),
        ];
        for (text, status) in rows {
            assert_eq!(WatcherStatus::parse(text), status, "{text}");
        }
    }

    #[test]
    fn requests_active_pending_and_waiting_once_each() {
        let info = parse(&doc(&(list(
            &(watcher("active", "sip:a@x")
                + &watcher("terminated", "sip:t@x")
                + &watcher("pending", " sip:p@x ")),
        ) + &list(
            &(watcher("waiting", "sip:w@x")
                + &watcher("active", "sip:p@x")
                + &watcher("pending", "sip:A@x")),
        ))))
        .unwrap();
        assert_eq!(info.version, Some(3));
        assert!(info.full);
        assert_eq!(info.lists.len(), 2);
        assert_eq!(
            info.watchers_to_request(),
            ["sip:a@x", "sip:p@x", "sip:w@x", "sip:A@x"]
        );
    }

    #[test]
    fn a_terminated_watcher_is_not_requested_even_if_listed_first() {
        let info = parse(&doc(&list(
            &(watcher("terminated", "sip:a@x") + &watcher("active", "sip:a@x")),
        )))
        .unwrap();
        assert_eq!(info.watchers_to_request(), ["sip:a@x"]);
        let info = parse(&doc(&list(&watcher("terminated", "sip:a@x")))).unwrap();
        assert!(info.watchers_to_request().is_empty());
    }

    #[test]
    fn reads_watcher_attributes() {
        let xml = doc(&list(
            "<watcher id='w1' status='pending' event='subscribe' display-name='Alice &amp; Co'>sip:alice@example.com</watcher>",
        ));
        assert_eq!(
            parse(&xml).unwrap().lists[0].watchers[0],
            Watcher {
                uri: "sip:alice@example.com".into(),
                status: WatcherStatus::Pending,
                event: Some("subscribe".into()),
                id: Some("w1".into()),
                display_name: Some("Alice & Co".into()),
            }
        );
    }

    #[test]
    fn unusable_watchers_are_skipped() {
        let xml = doc(&list(
            "<watcher id='a'>sip:nostatus@x</watcher>\
             <watcher status='bogus'>sip:bogus@x</watcher>\
             <watcher status='active'>  </watcher>\
             <watcher status='active'>sip:ok@x</watcher>",
        ));
        assert_eq!(parse(&xml).unwrap().watchers_to_request(), ["sip:ok@x"]);
    }

    #[test]
    fn partial_and_missing_version() {
        let info = parse("<watcherinfo state='partial'/>").unwrap();
        assert_eq!(
            info,
            WatcherInfo {
                version: None,
                full: false,
                lists: vec![]
            }
        );
    }

    #[test]
    fn document_errors() {
        assert_eq!(
            parse("<watcherinfo version='1'/>"),
            Err(TranslateError::MissingAttribute {
                element: "watcherinfo",
                attribute: "state"
            })
        );
        assert!(matches!(
            parse("<watcherinfo version='x' state='full'/>"),
            Err(TranslateError::InvalidValue {
                what: "watcherinfo version",
                ..
            })
        ));
        assert!(matches!(
            parse("<watcherinfo version='1' state='some'/>"),
            Err(TranslateError::InvalidValue {
                what: "watcherinfo state",
                ..
            })
        ));
        assert_eq!(
            parse("<watcherinfo state='full'><watcher-list package='presence'/></watcherinfo>"),
            Err(TranslateError::MissingAttribute {
                element: "watcher-list",
                attribute: "resource"
            })
        );
        assert_eq!(
            parse("<presence/>"),
            Err(TranslateError::UnexpectedRoot {
                expected: "watcherinfo",
                found: "presence".into()
            })
        );
    }
}
