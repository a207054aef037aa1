//! The xmpp module's FFI layer against a FAKE host (see `fake_host`): export table, parameters,
//! `mod_init` / `child_init`, `bind_xmpp`, the translators and the send functions' refusals.
//! The manager process is tested in `manager_fake_host.rs`, the real thing in `real_stack.rs`.

mod fake_host;

use std::ffi::{CStr, c_int};

use fake_host::*;
use kamailio_module::sys::*;

/// Loads a private copy of the module with a fresh fake host.
fn load() -> Module {
    with_host(|h| *h = Host::default());
    Module::load()
}

/// Loaded, with test domains, initialised.
fn ready() -> Module {
    let m = load();
    assert_eq!(m.set_str("gateway_domain", "gw.sip"), 0);
    assert_eq!(m.set_str("xmpp_domain", "gw.xmpp"), 0);
    assert_eq!(m.mod_init(), 0, "{}", log_text());
    m
}

#[test]
fn export_table_reads_like_the_c_module() {
    let m = load();
    let e = m.exports();
    assert_eq!(unsafe { CStr::from_ptr(e.name) }, c"xmpp");
    assert_eq!(e.dlflags, 0);
    assert!(e.rpc_methods.is_null() && e.pv_items.is_null() && e.response_f.is_none());
    assert!(e.init_mod_f.is_some() && e.init_child_f.is_some() && e.destroy_mod_f.is_none());
    let send = m.cmd("xmpp_send_message");
    assert_eq!((send.param_no, send.flags), (0, REQUEST_ROUTE));
    assert!(send.fixup.is_none() && send.free_fixup.is_none());
    let bind = m.cmd("bind_xmpp");
    assert_eq!((bind.param_no, bind.flags), (0, 0));
    let params: Vec<(String, u32)> = m
        .params()
        .into_iter()
        .map(|e| {
            let name = unsafe { std::ffi::CStr::from_ptr(e.name) };
            (
                name.to_string_lossy().into_owned(),
                e.type_ & !PARAM_USE_FUNC,
            )
        })
        .collect();
    let expected = [
        ("backend", PARAM_STRING),
        ("domain_separator", PARAM_STRING),
        ("gateway_domain", PARAM_STRING),
        ("xmpp_domain", PARAM_STRING),
        ("xmpp_host", PARAM_STRING),
        ("xmpp_port", PARAM_INT),
        ("xmpp_password", PARAM_STRING),
        ("outbound_proxy", PARAM_STR),
        ("gwmap", PARAM_STRING),
    ]
    .map(|(n, t)| (n.to_string(), t));
    assert_eq!(params, expected);
    let symbol = |name: &[u8]| unsafe {
        CStr::from_ptr(**m.lib.get::<*const *const std::ffi::c_char>(name).unwrap())
    };
    assert_eq!(
        symbol(b"module_version\0"),
        kamailio_module::host::MODULE_VERSION
    );
    assert_eq!(
        symbol(b"module_flags\0"),
        kamailio_module::host::MODULE_FLAGS
    );
}

#[test]
fn defaults_start_and_fork_one_manager_from_main_only() {
    let m = load();
    assert_eq!(m.mod_init(), 0, "{}", log_text());
    assert!(
        log_text().contains("component 'xmpp2sip.example.net' of xmpp.example.com:5347"),
        "{}",
        log_text()
    );
    assert!(log_text().contains("gateway domain 'sip2xmpp.example.net'"));
    with_host(|h| assert_eq!((h.procs_registered, h.cfg_children), (1, 1)));
    for rank in [1, 2, PROC_TIMER, PROC_INIT] {
        assert_eq!(m.child_init(rank), 0);
    }
    with_host(|h| assert!(h.forked.is_none()));
    assert_eq!(m.child_init(PROC_MAIN), 0);
    let f = with_host(|h| h.forked).expect("forked");
    assert_eq!(f.child_id, PROC_NOCHLDINIT);
    assert_eq!(f.desc, "XMPP Manager");
    assert_eq!((f.make_sock, f.interval_us), (1, 1000));
}

#[test]
fn backend_server_and_unknown_backends_are_refused() {
    for (backend, message) in [
        ("server", "backend \"server\" is not supported"),
        ("Component", "invalid backend 'Component'"),
    ] {
        let m = load();
        assert_eq!(m.set_str("backend", backend), 0);
        assert_eq!(m.mod_init(), -1);
        assert!(log_text().contains(message), "{}", log_text());
        with_host(|h| assert_eq!(h.procs_registered, 0));
    }
}

#[test]
fn bad_parameters_are_refused_with_their_name() {
    type SetParam = fn(&Module) -> c_int;
    let cases: [(&str, SetParam, &str); 4] = [
        (
            "port",
            |m| m.set_int("xmpp_port", 70000),
            "invalid xmpp_port 70000",
        ),
        (
            "negative port",
            |m| m.set_int("xmpp_port", -1),
            "invalid xmpp_port -1",
        ),
        (
            "proxy",
            |m| m.set_str("outbound_proxy", "proxy.example"),
            "\"outbound_proxy\" must be a SIP URI",
        ),
        (
            "host",
            |m| m.set_str("xmpp_host", ""),
            "\"xmpp_host\" must not be empty",
        ),
    ];
    for (what, set, message) in cases {
        let m = load();
        assert_eq!(set(&m), 0, "{what}");
        assert_eq!(m.mod_init(), -1, "{what}");
        assert!(log_text().contains(message), "{what}: {}", log_text());
    }
    // A gwmap value that does not parse fails its modparam line at once.
    let m = load();
    assert_eq!(m.set_str("gwmap", "a;;b"), -1);
    assert!(log_text().contains("invalid value for modparam \"gwmap\""));
}

#[test]
fn mod_init_needs_tm() {
    let m = load();
    with_host(|h| h.tm_loaded = false);
    assert_eq!(m.mod_init(), -1);
    assert!(log_text().contains("load tm"), "{}", log_text());
}

#[test]
fn bind_fills_every_field_and_refuses_null() {
    let m = ready();
    let api = m.bind().0;
    assert!(api.register_callback.is_some());
    assert!(api.xpacket.is_some() && api.xmessage.is_some());
    assert!(api.xsubscribe.is_some() && api.xnotify.is_some());
    assert!(api.decode_uri_sip_xmpp.is_some() && api.encode_uri_sip_xmpp.is_some());
    assert!(api.decode_uri_xmpp_sip.is_some() && api.encode_uri_xmpp_sip.is_some());
    let f = m.cmd("bind_xmpp").function.unwrap();
    let bind: BindXmpp = unsafe { std::mem::transmute(f) };
    assert_eq!(unsafe { bind(std::ptr::null_mut()) }, -1);
}

#[test]
fn translators_use_the_separator_and_one_buffer_each() {
    let m = load();
    m.set_str("gateway_domain", "gw.sip");
    m.set_str("xmpp_domain", "gw.xmpp");
    // Only the first character counts, as in C.
    m.set_str("domain_separator", "%ignored");
    assert_eq!(m.mod_init(), 0, "{}", log_text());
    let api = m.bind();
    let a = &api.0;
    let (decoded, p1) = api.translate(a.decode_uri_sip_xmpp.unwrap(), "sip:bob%x.example@gw.sip");
    assert_eq!(decoded.as_deref(), Some("bob@x.example"));
    let (encoded, p2) = api.translate(a.encode_uri_sip_xmpp.unwrap(), "sip:alice@sip.example");
    assert_eq!(encoded.as_deref(), Some("alice%sip.example@gw.xmpp"));
    let (sip, p3) = api.translate(
        a.decode_uri_xmpp_sip.unwrap(),
        "alice%sip.example@gw.xmpp/r",
    );
    assert_eq!(sip.as_deref(), Some("sip:alice@sip.example"));
    let (gw, p4) = api.translate(a.encode_uri_xmpp_sip.unwrap(), "bob@x.example/phone");
    assert_eq!(gw.as_deref(), Some("sip:bob%x.example@gw.sip"));
    // Four distinct static buffers: earlier results survive calls to the other translators.
    let ptrs = [p1, p2, p3, p4];
    for (i, p) in ptrs.iter().enumerate() {
        assert!(ptrs[i + 1..].iter().all(|q| q != p));
    }
    assert_eq!(unsafe { CStr::from_ptr(p1) }, c"bob@x.example");
    let (_, again) = api.translate(a.decode_uri_sip_xmpp.unwrap(), "sip:carol%y@gw.sip");
    assert_eq!(again, p1, "the same static buffer");
    // Unparsable input and NULL give NULL.
    let (bad, _) = api.translate(a.decode_uri_sip_xmpp.unwrap(), "not a uri");
    assert_eq!(bad, None);
    assert!(log_text().contains("cannot translate 'not a uri'"));
    assert!(unsafe { (a.encode_uri_xmpp_sip.unwrap())(std::ptr::null_mut()) }.is_null());
}

#[test]
fn translator_results_must_fit_512_bytes() {
    let m = ready();
    let api = m.bind();
    let decode = api.0.decode_uri_sip_xmpp.unwrap();
    // decode_uri_sip_xmpp returns the user part: 511 bytes fit with the NUL.
    let user = "u".repeat(511);
    let (out, _) = api.translate(decode, &format!("sip:{user}@gw.sip"));
    assert_eq!(out.as_deref(), Some(user.as_str()));
    // 512 and more (C writes out of bounds there) are refused.
    for len in [512, 600, 4000] {
        let (out, p) = api.translate(decode, &format!("sip:{}@gw.sip", "u".repeat(len)));
        assert_eq!(out, None, "{len}");
        assert!(p.is_null());
    }
    assert!(
        log_text().contains("has 512 bytes, over the 511 the API allows"),
        "{}",
        log_text()
    );
    let encode = api.0.encode_uri_xmpp_sip.unwrap();
    let (out, _) = api.translate(encode, &format!("{}@x/r", "j".repeat(600)));
    assert_eq!(out, None);
}

#[test]
fn gwmap_lines_append() {
    let m = load();
    assert_eq!(m.set_str("gwmap", "sip.a=xmpp.a"), 0);
    assert_eq!(m.set_str("gwmap", "sip.b=xmpp.b;sip.c"), 0);
    assert_eq!(m.mod_init(), 0, "{}", log_text());
    assert!(log_text().contains("3 gwmap entries"), "{}", log_text());
    let api = m.bind();
    let a = &api.0;
    for (sip, jid) in [
        ("sip:u@sip.a", "u@xmpp.a"),
        ("sip:u@sip.b", "u@xmpp.b"),
        ("sip:u@sip.c", "u@sip.c"),
    ] {
        assert_eq!(
            api.translate(a.decode_uri_sip_xmpp.unwrap(), sip)
                .0
                .as_deref(),
            Some(jid)
        );
    }
    assert_eq!(
        api.translate(a.decode_uri_xmpp_sip.unwrap(), "u@xmpp.b/res")
            .0
            .as_deref(),
        Some("sip:u@sip.b")
    );
}

#[test]
fn send_functions_refuse_null_arguments() {
    let m = ready();
    let api = m.bind();
    let a = &api.0;
    let stanza = "<presence from='a@b' to='c@d'/>";
    for f in [a.xpacket, a.xmessage, a.xsubscribe, a.xnotify].map(Option::unwrap) {
        for null in 0..4 {
            let mut args = [Some("sip:a@b"), Some("sip:c@d"), Some(stanza), Some("id")];
            args[null] = None;
            assert_eq!(api.call_send(f, args[0], args[1], args[2], args[3]), -1);
        }
    }
    assert!(log_text().contains("NULL argument"));
}

#[test]
fn while_the_link_is_down_sends_are_refused_counted_and_logged_once() {
    let m = ready();
    let api = m.bind();
    let xnotify = api.0.xnotify.unwrap();
    let stanza = "<presence from='a@b' to='c@d'/>";
    for _ in 0..5 {
        assert_eq!(
            api.call_send(xnotify, Some("a"), Some("b"), Some(stanza), Some("")),
            -1
        );
    }
    let log = log_text();
    assert_eq!(
        log.matches("xnotify not sent: the XMPP link is down")
            .count(),
        1,
        "{log}"
    );
    assert!(
        log.contains("(1 refused for this reason since start)"),
        "{log}"
    );
}

#[test]
fn register_callback_refuses_null_and_warns_after_the_fork() {
    let m = ready();
    let api = m.bind();
    let register = api.0.register_callback.unwrap();
    // C passes NULL where the mirror's type says a function: go through the raw ABI.
    let raw: unsafe extern "C" fn(c_int, *const (), *mut std::ffi::c_void) -> c_int =
        unsafe { std::mem::transmute(register) };
    assert_eq!(
        unsafe { raw(XMPP_RCV_PRESENCE, std::ptr::null(), std::ptr::null_mut()) },
        E_BUG
    );
    assert_eq!(
        unsafe { register(XMPP_RCV_PRESENCE, callback_one, std::ptr::null_mut()) },
        1
    );
    assert!(!log_text().contains("never run"));
    assert_eq!(m.child_init(PROC_MAIN), 0);
    assert_eq!(
        unsafe { register(XMPP_RCV_IQ, callback_two, std::ptr::null_mut()) },
        1
    );
    assert!(
        log_text().contains("this callback is never run"),
        "{}",
        log_text()
    );
}

#[test]
fn xmpp_send_message_reads_what_c_reads() {
    let m = ready();
    let message = |headers: &str, body: &str| FakeMsg {
        raw: format!(
            "MESSAGE sip:bob*x@gw.sip SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n{headers}\r\n{body}"
        )
        .into_bytes(),
        ruri: b"sip:bob*x@gw.sip".to_vec(),
    };
    let from_to = "From: <sip:alice@sip.example>;tag=t1\r\nTo: <sip:bob*x@gw.sip>\r\n";
    for (headers, why) in [
        (
            format!("{from_to}Content-Type: text/plain\r\n"),
            "no Content-Length",
        ),
        (format!("{from_to}Content-Length: 2\r\n"), "no Content-Type"),
        (
            format!("{from_to}Content-Type: text/html\r\nContent-Length: 2\r\n"),
            "neither text/plain nor message/cpim",
        ),
        (
            "To: <sip:b@gw.sip>\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n".into(),
            "no or bad From header",
        ),
        // Valid, but the link is down.
        (
            format!("{from_to}Content-Type: text/plain\r\nContent-Length: 2\r\n"),
            "the XMPP link is down",
        ),
    ] {
        assert_eq!(m.send_message(&mut message(&headers, "hi")), -1, "{why}");
        assert!(log_text().contains(why), "{why}: {}", log_text());
    }
}
