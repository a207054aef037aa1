//! Table tests of the four translators against what `util.c` does for the same input.

use xmpp_component_link::address::AddressConfig;

fn separator_cfg() -> AddressConfig {
    AddressConfig {
        domain_separator: '*',
        gateway_domain: "gw.sip.example".into(),
        xmpp_domain: "sip.xmpp.example".into(),
        gwmap: Vec::new(),
    }
}

fn gwmap_cfg() -> AddressConfig {
    let mut cfg = separator_cfg();
    // Two modparams: lists are appended, each list looked up last entry first.
    cfg.add_gwmap("sip.a.example=xmpp.a.example;sip.b.example")
        .unwrap();
    cfg.add_gwmap("sip.c.example=xmpp.c.example").unwrap();
    cfg
}

type Translator = fn(&AddressConfig, &str) -> Option<String>;

fn check(cfg: &AddressConfig, f: Translator, table: &[(&str, Option<&str>)]) {
    for (input, want) in table {
        assert_eq!(f(cfg, input).as_deref(), *want, "input {input:?}");
    }
}

#[test]
fn decode_uri_sip_xmpp_replaces_first_separator_in_user_part() {
    check(
        &separator_cfg(),
        AddressConfig::decode_uri_sip_xmpp,
        &[
            ("sip:alice*xmpp.org@gw.sip.example", Some("alice@xmpp.org")),
            (
                "sips:alice*xmpp.org@gw.sip.example:5061;transport=tls",
                Some("alice@xmpp.org"),
            ),
            ("SIP:a*b*c@gw", Some("a@b*c")),
            // No separator: strncpy + strchr leave the user part alone.
            ("sip:xmpp.org@gw", Some("xmpp.org")),
            ("sip:u:pw@gw", Some("u")),
            // C: parse_uri fails -> NULL.
            ("alice*xmpp.org@gw", None),
            ("sip:alice*xmpp.org@", None),
            ("sip:u@h;a=b@c", None),
            // C: user.s is NULL and strncpy crashes; here None.
            ("sip:gw.sip.example", None),
            ("", None),
        ],
    );
}

#[test]
fn encode_uri_sip_xmpp_appends_xmpp_domain() {
    check(
        &separator_cfg(),
        AddressConfig::encode_uri_sip_xmpp,
        &[
            (
                "sip:bob@sip.example",
                Some("bob*sip.example@sip.xmpp.example"),
            ),
            (
                "sip:bob@sip.example:5060;user=phone?x=y",
                Some("bob*sip.example@sip.xmpp.example"),
            ),
            (
                "sip:bob@[2001:db8::1]",
                Some("bob*[2001:db8::1]@sip.xmpp.example"),
            ),
            // C builds "*host@xmpp_domain"; here None.
            ("sip:sip.example", None),
            ("tel:+4930123", None),
            ("sip:bob@bad_host", None),
        ],
    );
}

#[test]
fn decode_uri_xmpp_sip_strips_resource_and_domain_then_replaces_separator() {
    check(
        &separator_cfg(),
        AddressConfig::decode_uri_xmpp_sip,
        &[
            (
                "bob*sip.example@sip.xmpp.example/res",
                Some("sip:bob@sip.example"),
            ),
            (
                "bob*sip.example@sip.xmpp.example",
                Some("sip:bob@sip.example"),
            ),
            // Resource first: an '@' inside the resource is cut with it.
            ("bob*sip.example@x/r@s", Some("sip:bob@sip.example")),
            // No separator: C gives "sip:user".
            ("bob@sip.xmpp.example", Some("sip:bob")),
            ("sip.xmpp.example", Some("sip:sip.xmpp.example")),
            // C gives "sip:"; here None.
            ("", None),
            ("@x", None),
            ("/res", None),
        ],
    );
}

#[test]
fn encode_uri_xmpp_sip_puts_jid_domain_behind_separator() {
    check(
        &separator_cfg(),
        AddressConfig::encode_uri_xmpp_sip,
        &[
            (
                "alice@xmpp.org/phone",
                Some("sip:alice*xmpp.org@gw.sip.example"),
            ),
            ("alice@xmpp.org", Some("sip:alice*xmpp.org@gw.sip.example")),
            // Domain JID: C gives "sip:domain@gateway_domain".
            ("xmpp.org", Some("sip:xmpp.org@gw.sip.example")),
            ("", None),
            ("/res", None),
        ],
    );
}

#[test]
fn other_domain_separator() {
    let cfg = AddressConfig {
        domain_separator: '%',
        ..separator_cfg()
    };
    assert_eq!(
        cfg.decode_uri_sip_xmpp("sip:a%b.org@gw").as_deref(),
        Some("a@b.org")
    );
    assert_eq!(
        cfg.encode_uri_xmpp_sip("a@b.org").as_deref(),
        Some("sip:a%b.org@gw.sip.example")
    );
}

#[test]
fn gwmap_sip_to_xmpp_maps_host_case_insensitively() {
    let cfg = gwmap_cfg();
    for f in [
        AddressConfig::decode_uri_sip_xmpp as Translator,
        AddressConfig::encode_uri_sip_xmpp,
    ] {
        check(
            &cfg,
            f,
            &[
                ("sip:u@sip.a.example", Some("u@xmpp.a.example")),
                ("sip:u@SIP.A.Example:5060", Some("u@xmpp.a.example")),
                // Entry without XMPP part: same domain.
                ("sip:u@sip.b.example", Some("u@sip.b.example")),
                ("sip:u@sip.c.example", Some("u@xmpp.c.example")),
                // No entry: same domain, separator not interpreted.
                ("sip:u*x@other.example", Some("u*x@other.example")),
                ("sip:other.example", None),
            ],
        );
    }
}

#[test]
fn gwmap_xmpp_to_sip_maps_domain_back() {
    let cfg = gwmap_cfg();
    for f in [
        AddressConfig::decode_uri_xmpp_sip as Translator,
        AddressConfig::encode_uri_xmpp_sip,
    ] {
        check(
            &cfg,
            f,
            &[
                ("u@xmpp.a.example/res", Some("sip:u@sip.a.example")),
                ("u@XMPP.A.EXAMPLE", Some("sip:u@sip.a.example")),
                // Entry without XMPP part matches on its SIP domain.
                ("u@sip.b.example", Some("sip:u@sip.b.example")),
                ("u@other.example", Some("sip:u@other.example")),
                // C: parse_uri of "sip:xmpp.a.example" has no user -> "sip:@..."; here None.
                ("xmpp.a.example", None),
                ("u@bad_host", None),
                ("", None),
            ],
        );
    }
}

#[test]
fn gwmap_duplicate_domain_last_in_value_wins_like_parse_params() {
    let mut cfg = separator_cfg();
    cfg.add_gwmap("s.example=first.example;s.example=second.example")
        .unwrap();
    assert_eq!(
        cfg.decode_uri_sip_xmpp("sip:u@s.example").as_deref(),
        Some("u@second.example")
    );
    // Across repeated modparams the earlier one wins (its entries come first).
    cfg.add_gwmap("s.example=third.example").unwrap();
    assert_eq!(
        cfg.decode_uri_sip_xmpp("sip:u@s.example").as_deref(),
        Some("u@second.example")
    );
}

#[test]
fn long_inputs_are_not_truncated_and_do_not_overflow() {
    let user = "u".repeat(1500);
    let cfg = separator_cfg();
    let sip = format!("sip:{user}*xmpp.org@gw");
    assert_eq!(
        cfg.decode_uri_sip_xmpp(&sip),
        Some(format!("{user}@xmpp.org"))
    );
    assert_eq!(
        cfg.encode_uri_sip_xmpp(&format!("sip:{user}@h")),
        Some(format!("{user}*h@sip.xmpp.example"))
    );
    assert_eq!(
        cfg.decode_uri_xmpp_sip(&format!("{user}*d@x/r")),
        Some(format!("sip:{user}@d"))
    );
    assert_eq!(
        cfg.encode_uri_xmpp_sip(&format!("{user}@d/r")),
        Some(format!("sip:{user}*d@gw.sip.example"))
    );
    let mapped = gwmap_cfg();
    assert_eq!(
        mapped.decode_uri_xmpp_sip(&format!("{user}@xmpp.a.example")),
        Some(format!("sip:{user}@sip.a.example"))
    );
}

#[test]
fn multibyte_user_parts_pass_through() {
    let cfg = separator_cfg();
    assert_eq!(
        cfg.decode_uri_sip_xmpp("sip:jürgen*xmpp.de@gw").as_deref(),
        Some("jürgen@xmpp.de")
    );
    assert_eq!(
        cfg.encode_uri_xmpp_sip("jürgen@xmpp.de").as_deref(),
        Some("sip:jürgen*xmpp.de@gw.sip.example")
    );
}

proptest::proptest! {
    #[test]
    fn translators_never_panic(input in "\\PC{0,64}|sip:[a-z*@:;?\\[\\]./]{0,40}") {
        for cfg in [separator_cfg(), gwmap_cfg()] {
            let _ = cfg.decode_uri_sip_xmpp(&input);
            let _ = cfg.encode_uri_sip_xmpp(&input);
            let _ = cfg.decode_uri_xmpp_sip(&input);
            let _ = cfg.encode_uri_xmpp_sip(&input);
        }
    }

    #[test]
    fn gwmap_parser_never_panics(input in "\\PC{0,40}|[a-z=;'\" ,>]{0,30}") {
        let _ = xmpp_component_link::gwmap::parse_gwmap(&input);
    }
}
