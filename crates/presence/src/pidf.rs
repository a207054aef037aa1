//! SIP NOTIFY body (PIDF, RFC 3863/4479/4480) -> the values of an XMPP presence: availability,
//! show, status notes and priority (docs/behaviour.md section 1).

use crate::doc::{check_input, with_root};
use crate::pidf_tree::{Tree, scan};
use crate::show::{Show, show_from_activity, show_from_note};
use crate::{Limits, TranslateError, limits::clean_status};

/// A text with its `xml:lang`, if known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LangText {
    pub text: String,
    pub lang: Option<String>,
}

/// What a PIDF document says, in XMPP terms. Texts are plain (unescaped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PidfPresence {
    pub available: bool,
    pub show: Option<Show>,
    pub notes: Vec<LangText>,
    pub priority: Option<i8>,
}

/// Reads a PIDF body. Elements are matched by local name, whatever their prefix or namespace.
/// A plain document is scanned in one pass; anything else goes through roxmltree's checks.
pub fn parse_pidf(body: &[u8], limits: &Limits) -> Result<PidfPresence, TranslateError> {
    if let Some(tree) = scan(check_input(body, limits)?) {
        return Ok(read_presence(&tree));
    }
    with_root(body, limits, "presence", |root| {
        Ok(read_presence(&Tree::from_dom(root)))
    })
}

const ROOT: usize = 0;

fn read_presence(tree: &Tree<'_>) -> PidfPresence {
    let notes = tree
        .children(ROOT, "person")
        .map(|p| notes_of(tree, p))
        .find(|notes| !notes.is_empty())
        .or_else(|| {
            tree.children(ROOT, "tuple")
                .map(|t| notes_of(tree, t))
                .find(|notes| !notes.is_empty())
        })
        .unwrap_or_else(|| notes_of(tree, ROOT));
    let show = match activities_show(tree) {
        Some(show) => show,
        None => notes.iter().find_map(|note| show_from_note(&note.text)),
    };
    PidfPresence {
        available: tree.children(ROOT, "tuple").any(|t| is_open(tree, t)),
        show,
        notes,
        priority: priority(tree),
    }
}

/// Whether a tuple's `status/basic` is "open".
fn is_open(tree: &Tree<'_>, tuple: usize) -> bool {
    tree.children(tuple, "status")
        .flat_map(|status| tree.children(status, "basic"))
        .any(|basic| {
            tree.elements[basic]
                .text
                .trim()
                .eq_ignore_ascii_case("open")
        })
}

/// The non-empty `<note>` children of `node`, trimmed and cut.
fn notes_of(tree: &Tree<'_>, node: usize) -> Vec<LangText> {
    tree.children(node, "note")
        .filter_map(|note| {
            let text = clean_status(&tree.elements[note].text);
            (!text.is_empty()).then(|| LangText {
                text: text.to_owned(),
                lang: tree.effective_lang(note).map(str::to_owned),
            })
        })
        .collect()
}

/// The show from RPID activities: None when the document has no `<activities>` element at
/// all; Some(None) when it has some but none maps. Persons are looked at first, then tuples,
/// then activities anywhere else; within those, the first mapped activity in document order.
fn activities_show(tree: &Tree<'_>) -> Option<Option<Show>> {
    let mut any = false;
    let mut by_scope: [Option<Show>; 3] = [None; 3];
    for (i, _) in tree
        .elements
        .iter()
        .enumerate()
        .filter(|(_, e)| e.local == "activities")
    {
        any = true;
        let scope = match tree.top_level(i).map(|t| tree.elements[t].local) {
            Some("person") => 0,
            Some("tuple") => 1,
            _ => 2,
        };
        if by_scope[scope].is_none() {
            by_scope[scope] = tree.all_children(i).find_map(|activity| {
                let a = &tree.elements[activity];
                match a.local {
                    // Pre-RFC RPID (eyeBeam, X-Lite): <es:activity>away</es:activity>.
                    "activity" => show_from_activity(a.text.trim()),
                    name => show_from_activity(name),
                }
            });
        }
    }
    any.then(|| by_scope.into_iter().flatten().next())
}

/// round(q * 127) of the highest `contact@priority` among open tuples.
fn priority(tree: &Tree<'_>) -> Option<i8> {
    tree.children(ROOT, "tuple")
        .filter(|&tuple| is_open(tree, tuple))
        .flat_map(|tuple| tree.children(tuple, "contact"))
        .filter_map(|contact| tree.elements[contact].priority.as_deref().and_then(parse_q))
        .fold(None, |best: Option<f64>, q| {
            Some(best.map_or(q, |b| b.max(q)))
        })
        .map(|q| (q * 127.0).round() as i8)
}

/// A q-value: a plain decimal between 0 and 1 (digits and at most one dot).
fn parse_q(s: &str) -> Option<f64> {
    let s = s.trim();
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    if (int.is_empty() && frac.is_empty()) || !digits(int) || !digits(frac) {
        return None;
    }
    let q: f64 = s.parse().ok()?;
    (0.0..=1.0).contains(&q).then_some(q)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NS: &str = "xmlns='urn:ietf:params:xml:ns:pidf' \
        xmlns:dm='urn:ietf:params:xml:ns:pidf:data-model' \
        xmlns:rpid='urn:ietf:params:xml:ns:pidf:rpid'";

    fn pidf(inner: &str) -> PidfPresence {
        let xml = format!("<presence {NS} entity='pres:a@b'>{inner}</presence>");
        parse_pidf(xml.as_bytes(), &Limits::default()).unwrap()
    }

    fn tuple(basic: &str, extra: &str) -> String {
        format!("<tuple id='t'><status><basic>{basic}</basic></status>{extra}</tuple>")
    }

    fn person(extra: &str) -> String {
        format!("<dm:person id='p'>{extra}</dm:person>")
    }

    fn activities(names: &[&str]) -> String {
        let mut s = String::from("<rpid:activities>");
        for name in names {
            s.push_str(&format!("<rpid:{name}/>"));
        }
        s + "</rpid:activities>"
    }

    fn note(text: &str) -> LangText {
        LangText {
            text: text.into(),
            lang: None,
        }
    }

    #[test]
    fn availability_rows() {
        let rows: [(&[&str], bool); 9] = [
            (&["open"], true),
            (&["closed"], false),
            (&["closed", "open"], true),
            (&["open", "closed"], true),
            (&["closed", "closed"], false),
            (&[" OPEN "], true),
            (&["Open"], true),
            (&["busy"], false),
            (&[], false),
        ];
        for (basics, available) in rows {
            let inner: String = basics.iter().map(|b| tuple(b, "")).collect();
            assert_eq!(pidf(&inner).available, available, "{basics:?}");
        }
        // A tuple without a status is not open.
        assert!(!pidf("<tuple id='x'/>").available);
    }

    #[test]
    fn show_from_activities_in_person_then_tuple() {
        let rows: [(String, Option<Show>); 10] = [
            (person(&activities(&["away"])), Some(Show::Away)),
            (person(&activities(&["on-the-phone"])), Some(Show::Dnd)),
            (person(&activities(&["sleeping"])), Some(Show::Xa)),
            // First mapped activity wins, unknown ones are skipped.
            (
                person(&activities(&["lunch", "busy", "away"])),
                Some(Show::Dnd),
            ),
            // Person before tuple, even when the tuple comes first in the document.
            (
                tuple("open", &activities(&["travel"])) + &person(&activities(&["meeting"])),
                Some(Show::Dnd),
            ),
            // Tuple activities when the person has no mapped activity.
            (
                person(&activities(&["unknown"])) + &tuple("open", &activities(&["vacation"])),
                Some(Show::Xa),
            ),
            // RPID in status (older clients) counts as the tuple's.
            (
                "<tuple id='t'><status><basic>open</basic>".to_owned()
                    + &activities(&["holiday"])
                    + "</status></tuple>",
                Some(Show::Xa),
            ),
            // Only unknown activities: no show, and no fallback to the note.
            (
                tuple("open", "<note>away</note>") + &person(&activities(&["unknown"])),
                None,
            ),
            // Pre-RFC RPID names the activity in text.
            (
                "<tuple id='t'><status><basic>open</basic><es:activities xmlns:es='urn:x'>\
                 <es:activity>Away</es:activity></es:activities></status></tuple>"
                    .to_owned(),
                Some(Show::Away),
            ),
            // No activities at all: the note heuristics apply.
            (tuple("open", "<note>Busy (DND)</note>"), Some(Show::Dnd)),
        ];
        for (inner, show) in rows {
            assert_eq!(pidf(&inner).show, show, "{inner}");
        }
    }

    #[test]
    fn note_heuristics_use_the_chosen_note() {
        // The person note is chosen, so the tuple note "away" does not count.
        let inner = tuple("open", "<note>away</note>") + &person("<dm:note>Working</dm:note>");
        assert_eq!(pidf(&inner).show, None);
        let inner = tuple("open", "<note>On the phone</note>");
        assert_eq!(pidf(&inner).show, Some(Show::Away));
        let inner = tuple("open", "") + "<note>do not disturb</note>";
        assert_eq!(pidf(&inner).show, Some(Show::Dnd));
    }

    #[test]
    fn notes_person_first_then_tuple_then_top_level() {
        let p = person("<dm:note>person</dm:note>");
        let t = tuple("open", "<note>tuple</note>");
        let top = "<note>top</note>";
        assert_eq!(pidf(&format!("{t}{p}{top}")).notes, vec![note("person")]);
        assert_eq!(pidf(&format!("{t}{top}")).notes, vec![note("tuple")]);
        assert_eq!(
            pidf(&format!("{top}{}", tuple("open", ""))).notes,
            vec![note("top")]
        );
        assert_eq!(pidf(&tuple("open", "")).notes, vec![]);
        // A person with only an empty note does not count as having notes.
        let empty = person("<dm:note>  </dm:note>");
        assert_eq!(pidf(&format!("{empty}{t}")).notes, vec![note("tuple")]);
        // The first tuple that has notes.
        let t2 = tuple("open", "<note>second</note>");
        assert_eq!(
            pidf(&format!("{}{t2}", tuple("closed", ""))).notes,
            vec![note("second")]
        );
    }

    #[test]
    fn notes_keep_every_language() {
        let inner = "<tuple id='t' xml:lang='de'><status><basic>open</basic></status>\
            <note> Im Büro </note><note xml:lang='en'>In the office</note><note/></tuple>";
        assert_eq!(
            pidf(inner).notes,
            vec![
                LangText {
                    text: "Im Büro".into(),
                    lang: Some("de".into())
                },
                LangText {
                    text: "In the office".into(),
                    lang: Some("en".into())
                },
            ]
        );
    }

    #[test]
    fn notes_are_unescaped_and_cut() {
        let inner = tuple("open", "<note>a &amp; b &lt;c&gt;</note>");
        assert_eq!(pidf(&inner).notes, vec![note("a & b <c>")]);
        let long = "ü".repeat(crate::MAX_STATUS_CHARS + 10);
        let notes = pidf(&tuple("open", &format!("<note>{long}</note>"))).notes;
        assert_eq!(notes[0].text.chars().count(), crate::MAX_STATUS_CHARS);
    }

    #[test]
    fn priority_rows() {
        let contact = |q: &str| format!("<contact priority='{q}'>sip:a@b</contact>");
        let rows: [(String, Option<i8>); 12] = [
            (tuple("open", &contact("1")), Some(127)),
            (tuple("open", &contact("1.0")), Some(127)),
            (tuple("open", &contact("0")), Some(0)),
            (tuple("open", &contact("0.5")), Some(64)),
            (tuple("open", &contact("0.8")), Some(102)),
            (tuple("open", &contact(".25")), Some(32)),
            (tuple("open", &contact("0.001")), Some(0)),
            (tuple("open", &contact(" 0.9 ")), Some(114)),
            // Highest among open tuples; closed tuples do not count.
            (
                tuple("open", &contact("0.2"))
                    + &tuple("closed", &contact("1"))
                    + &tuple("open", &contact("0.7")),
                Some(89),
            ),
            // Invalid q-values are ignored.
            (
                tuple("open", &contact("1.5"))
                    + &tuple("open", &contact("-0.1"))
                    + &tuple("open", &contact("0.3")),
                Some(38),
            ),
            (tuple("open", "<contact>sip:a@b</contact>"), None),
            (tuple("closed", &contact("1")), None),
        ];
        for (inner, priority) in rows {
            assert_eq!(pidf(&inner).priority, priority, "{inner}");
        }
    }

    #[test]
    fn q_value_syntax() {
        for bad in [
            "", ".", "abc", "1e-1", "+0.5", "0,5", "inf", "NaN", "1.0.0", "2",
        ] {
            assert_eq!(parse_q(bad), None, "{bad}");
        }
        assert_eq!(parse_q("0.000"), Some(0.0));
        assert_eq!(parse_q("1."), Some(1.0));
    }

    #[test]
    fn undeclared_and_missing_namespaces_are_tolerated() {
        let xml = "<presence entity='pres:a@b'><tuple id='t'><status><basic>open</basic></status>\
            </tuple><dm:person id='p'><rpid:activities><rpid:away/></rpid:activities></dm:person>\
            </presence>";
        let p = parse_pidf(xml.as_bytes(), &Limits::default()).unwrap();
        assert!(p.available);
        assert_eq!(p.show, Some(Show::Away));
    }

    #[test]
    fn input_errors() {
        let limits = Limits::default();
        assert_eq!(
            parse_pidf(b"<presence><tuple>", &limits),
            Err(TranslateError::Malformed(
                "the root node was opened but never closed".into()
            ))
        );
        assert_eq!(
            parse_pidf(b"<pidf/>", &limits),
            Err(TranslateError::UnexpectedRoot {
                expected: "presence",
                found: "pidf".into()
            })
        );
        assert_eq!(
            parse_pidf(b"<presence>\xc3</presence>", &limits),
            Err(TranslateError::NotUtf8 { valid_up_to: 10 })
        );
        assert_eq!(
            parse_pidf(&[b' '; 65537], &limits),
            Err(TranslateError::TooLarge {
                size: 65537,
                limit: 65536
            })
        );
    }
}
