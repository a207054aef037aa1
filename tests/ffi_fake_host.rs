//! Unit tests of the FFI layer against a FAKE host (see `fake_host`): the built module is
//! loaded with libloading, its mod_init, fixups, script functions and callbacks are called the
//! way the core calls them, and the calls it makes into the fake pua and xmpp are asserted.
//! Gateway behaviour against the real Kamailio is tested in the real-stack tests.

mod fake_host;

use std::ffi::{CStr, c_int};

use fake_host::*;
use kamailio_module::sys::*;
use kamailio_module::xmpp::{XMPP_LINK_DOWN, XMPP_LINK_UP};

const SERVER: &str = "sip:gateway@gw.sip.example";

fn load_with(modules: &[&'static CStr]) -> Module {
    with_host(|h| {
        h.loaded = modules.to_vec();
        h.is_dialog_answer = 0;
    });
    reset_records();
    Module::load()
}

/// pua, xmpp then pua_xmpp, server_address set, mod_init done.
fn ready_module() -> Module {
    let m = load_with(&[c"tm", c"pua", c"xmpp", c"pua_xmpp"]);
    assert_eq!(m.set_string_param("server_address", SERVER), 0);
    assert_eq!(m.mod_init(), 0, "mod_init failed: {}", log_text());
    reset_records();
    m
}

fn notify(event: &str, state: &str, body: &str) -> FakeMsg {
    notify_bytes(event, state, body.as_bytes())
}

fn notify_bytes(event: &str, state: &str, body: &[u8]) -> FakeMsg {
    let mut raw = format!(
        "NOTIFY sip:gateway@gw.sip.example SIP/2.0\r\n\
         Via: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK1\r\n\
         From: <sip:alice@sip.example>;tag=notifier\r\n\
         To: <sip:bob*xmpp.example@gw.sip.example>;tag=subscriber\r\n\
         Call-ID: call-1\r\nCSeq: 2 NOTIFY\r\n\
         Event: {event}\r\nSubscription-State: {state}\r\n\
         Contact: <sip:ps@127.0.0.1:5060>\r\n\
         Content-Type: application/pidf+xml\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    raw.extend_from_slice(body);
    FakeMsg(raw)
}

const PIDF_OPEN: &str = "<?xml version='1.0'?><presence xmlns='urn:ietf:params:xml:ns:pidf' entity='pres:alice@sip.example'><tuple id='a'><status><basic>open</basic></status><note>At lunch</note></tuple></presence>";

/// `pua_xmpp_notify()` on `msg` returns true.
fn assert_translated(m: &Module, msg: &mut FakeMsg) {
    assert_eq!(m.call("pua_xmpp_notify", msg, &[]), 1, "{}", log_text());
}

#[test]
fn export_table_reads_like_the_c_module() {
    let m = load_with(&[]);
    let e = m.exports();
    assert_eq!(unsafe { CStr::from_ptr(e.name) }, c"pua_xmpp");
    assert_eq!(e.dlflags, 0);
    let notify = m.cmd("pua_xmpp_notify");
    assert_eq!((notify.param_no, notify.flags), (0, REQUEST_ROUTE));
    assert!(notify.fixup.is_none());
    let alias = m.cmd("Notify2Xmpp");
    assert_eq!(
        alias.function.map(|f| f as usize),
        notify.function.map(|f| f as usize)
    );
    let winfo = m.cmd("pua_xmpp_req_winfo");
    assert_eq!((winfo.param_no, winfo.flags), (2, REQUEST_ROUTE));
    assert!(winfo.fixup.is_some() && winfo.free_fixup.is_some());
    let bind = m.cmd("bind_pua_xmpp");
    assert_eq!((bind.param_no, bind.flags), (NO_SCRIPT, 0));
    // Version check symbols carry the target host's strings.
    let symbol = |name: &[u8]| unsafe {
        CStr::from_ptr(**m.lib.get::<*const *const std::ffi::c_char>(name).unwrap())
    };
    let version = symbol(b"module_version\0");
    assert_eq!(version, kamailio_module::host::MODULE_VERSION);
    let flags = symbol(b"module_flags\0");
    assert_eq!(flags, kamailio_module::host::MODULE_FLAGS);
}

#[test]
fn mod_init_requires_server_address() {
    let m = load_with(&[c"pua", c"xmpp", c"pua_xmpp"]);
    assert_eq!(m.mod_init(), -1);
    assert!(
        log_text().contains("\"server_address\" is required"),
        "{}",
        log_text()
    );
    with_host(|h| assert!(h.pua_callbacks.is_empty()));
}

#[test]
fn mod_init_rejects_bad_params() {
    let m = load_with(&[c"pua", c"xmpp", c"pua_xmpp"]);
    assert_eq!(m.set_string_param("server_address", "gateway.example"), 0);
    assert_eq!(
        m.set_param("max_body_size", PARAM_INT, (-5isize) as *mut _),
        -1
    );
    assert!(log_text().contains("invalid value for modparam \"max_body_size\""));
    assert_eq!(m.mod_init(), -1);
    assert!(log_text().contains("must be a SIP URI"), "{}", log_text());
}

#[test]
fn mod_init_names_a_missing_module() {
    for (loaded, missing) in [
        (&[c"xmpp", c"pua_xmpp"][..], "`pua` is not loaded"),
        (&[c"pua", c"pua_xmpp"][..], "`xmpp` is not loaded"),
    ] {
        let m = load_with(loaded);
        m.set_string_param("server_address", SERVER);
        assert_eq!(m.mod_init(), -1);
        assert!(log_text().contains(missing), "{}", log_text());
        with_host(|h| assert!(h.pua_callbacks.is_empty() && h.xmpp_callbacks.is_empty()));
    }
}

#[test]
fn mod_init_refuses_pua_loaded_after_it_without_calling_pua() {
    let m = load_with(&[c"xmpp", c"pua_xmpp", c"pua"]);
    m.set_string_param("server_address", SERVER);
    assert_eq!(m.mod_init(), -1);
    assert!(
        log_text().contains("`pua` is loaded after this one"),
        "{}",
        log_text()
    );
    with_host(|h| assert!(h.pua_callbacks.is_empty()));
}

#[test]
fn mod_init_registers_its_callbacks() {
    let m = load_with(&[c"pua", c"xmpp", c"pua_xmpp"]);
    m.set_string_param("server_address", SERVER);
    assert_eq!(m.mod_init(), 0, "{}", log_text());
    assert!(log_text().contains("ready for kamailio"), "{}", log_text());
    with_host(|h| {
        assert_eq!(h.pua_callbacks.len(), 1);
        assert_eq!(h.pua_callbacks[0].0, XMPP_INITIAL_SUBS | XMPP_SUBSCRIBE);
        assert_eq!(h.xmpp_callbacks.len(), 2);
        assert_eq!(h.xmpp_callbacks[0].0, XMPP_RCV_PRESENCE);
        assert_eq!(h.xmpp_callbacks[1].0, XMPP_LINK_UP | XMPP_LINK_DOWN);
    });
}

#[test]
fn notify_in_dialog_becomes_a_presence_stanza() {
    let m = ready_module();
    let mut msg = notify("presence", "active;expires=3600", PIDF_OPEN);
    assert_translated(&m, &mut msg);
    with_host(|h| {
        // is_dialog gets the watcher (To), the presentity (From) and the tags swapped.
        assert_eq!(
            h.dialog_lookups[0],
            [
                "sip:bob*xmpp.example@gw.sip.example",
                "sip:alice@sip.example",
                "call-1",
                "subscriber",
                "notifier",
                &XMPP_SUBSCRIBE.to_string(),
                &PRESENCE_EVENT.to_string()
            ]
        );
        assert_eq!(h.stanzas.len(), 1);
        let (kind, from, to, stanza) = &h.stanzas[0];
        assert_eq!(
            (*kind, from.as_str(), to.as_str()),
            (
                "notify",
                "alice*sip.example@sipgw.xmpp.example",
                "bob@xmpp.example"
            )
        );
        assert!(stanza.starts_with("<presence"), "{stanza}");
        assert!(
            stanza.contains("from='alice*sip.example@sipgw.xmpp.example'")
                && stanza.contains("to='bob@xmpp.example'"),
            "{stanza}"
        );
        assert!(
            stanza.contains("<status>At lunch</status>") && !stanza.contains("type="),
            "{stanza}"
        );
    });
}

#[test]
fn notify_outside_any_gateway_dialog_is_refused_with_minus_two() {
    let m = ready_module();
    with_host(|h| h.is_dialog_answer = -1);
    let mut msg = notify("presence", "active", PIDF_OPEN);
    assert_eq!(m.call("pua_xmpp_notify", &mut msg, &[]), -2);
    with_host(|h| assert!(h.stanzas.is_empty()));
}

#[test]
fn bad_notifies_return_false_log_and_send_nothing() {
    let m = ready_module();
    let huge = format!(
        "<presence xmlns='urn:ietf:params:xml:ns:pidf'>{}</presence>",
        "x".repeat(70_000)
    );
    let cases: Vec<(FakeMsg, &str)> = vec![
        (
            notify("presence", "active", "<presence><tuple"),
            "bad PIDF body",
        ),
        (notify("presence", "active", &huge), "over max_body_size"),
        (
            notify(
                "presence",
                "active",
                "<!DOCTYPE x [<!ENTITY a 'b'>]><presence/>",
            ),
            "bad PIDF body",
        ),
        (notify("dialog", "active", PIDF_OPEN), "event package"),
        (
            FakeMsg(b"NOTIFY sip:x SIP/2.0\r\nCall-ID: 1\r\n\r\n".to_vec()),
            "header",
        ),
        (FakeMsg(b"\xff\xfe garbage".to_vec()), "unreadable NOTIFY"),
        (
            notify_bytes("presence", "active", b"<presence>\xff\xff</presence>"),
            "bad PIDF body",
        ),
    ];
    for (mut msg, expected) in cases {
        reset_records();
        let rc = m.call("pua_xmpp_notify", &mut msg, &[]);
        assert_eq!(rc, -1, "expected false for {expected}; log: {}", log_text());
        assert!(
            log_text().contains(expected),
            "log should say {expected:?}: {}",
            log_text()
        );
        with_host(|h| assert!(h.stanzas.is_empty(), "nothing may reach XMPP"));
    }
}

#[test]
fn winfo_notify_asks_the_xmpp_user_for_each_watcher() {
    let m = ready_module();
    let winfo = "<?xml version='1.0'?><watcherinfo xmlns='urn:ietf:params:xml:ns:watcherinfo' version='0' state='full'><watcher-list resource='sip:bob*xmpp.example@gw.sip.example' package='presence'><watcher id='1' event='subscribe' status='active'>sip:carol@sip.example</watcher><watcher id='2' event='subscribe' status='pending'>sip:dave@sip.example</watcher><watcher id='3' event='timeout' status='terminated'>sip:erin@sip.example</watcher></watcher-list></watcherinfo>";
    let mut msg = FakeMsg(
        String::from_utf8(notify("presence.winfo", "active", winfo).0)
            .unwrap()
            .replace(
                "From: <sip:alice@sip.example>",
                "From: <sip:bob*xmpp.example@gw.sip.example>",
            )
            .into_bytes(),
    );
    assert_translated(&m, &mut msg);
    with_host(|h| {
        let sent: Vec<_> = h
            .stanzas
            .iter()
            .map(|(k, f, t, _)| (*k, f.as_str(), t.as_str()))
            .collect();
        assert_eq!(
            sent,
            [
                (
                    "subscribe",
                    "carol*sip.example@sipgw.xmpp.example",
                    "bob@xmpp.example"
                ),
                (
                    "subscribe",
                    "dave*sip.example@sipgw.xmpp.example",
                    "bob@xmpp.example"
                ),
            ]
        );
        assert!(h.stanzas[0].3.contains("type='subscribe'"));
    });
}

#[test]
fn req_winfo_subscribes_refreshes_and_ends() {
    let m = ready_module();
    let uri = "sip:bob*xmpp.example@gw.sip.example";
    let mut msg = FakeMsg(b"SUBSCRIBE sip:x SIP/2.0\r\n\r\n".to_vec());
    assert_eq!(
        m.call("pua_xmpp_req_winfo", &mut msg, &[uri, "3600"]),
        1,
        "{}",
        log_text()
    );
    assert_eq!(m.call("pua_xmpp_req_winfo", &mut msg, &[uri, ""]), 1);
    assert_eq!(m.call("pua_xmpp_req_winfo", &mut msg, &[uri, "0"]), 1);
    assert_eq!(
        m.call("pua_xmpp_req_winfo", &mut msg, &["not a uri", "0"]),
        -1
    );
    assert!(log_text().contains("is not a SIP URI"), "{}", log_text());
    with_host(|h| {
        let got: Vec<_> = h
            .subscribes
            .iter()
            .map(|s| {
                (
                    s.pres_uri.as_str(),
                    s.watcher_uri.as_str(),
                    s.contact.as_str(),
                    s.event,
                    s.expires,
                    s.source_flag,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (uri, uri, SERVER, PWINFO_EVENT, 3600, XMPP_SUBSCRIBE),
                (uri, uri, SERVER, PWINFO_EVENT, -1, XMPP_SUBSCRIBE),
                (uri, uri, SERVER, PWINFO_EVENT, 0, XMPP_SUBSCRIBE),
            ]
        );
    });
}

fn presence_callback(m: &Module) -> XmppCallback {
    let _ = m;
    with_host(|h| h.xmpp_callbacks[0].1)
}

fn deliver_stanza(m: &Module, stanza: &str) {
    let c = std::ffi::CString::new(stanza).unwrap();
    unsafe {
        presence_callback(m)(
            c.as_ptr().cast_mut(),
            XMPP_RCV_PRESENCE,
            std::ptr::null_mut(),
        )
    };
}

#[test]
fn xmpp_presence_publishes_per_resource() {
    let m = ready_module();
    deliver_stanza(
        &m,
        "<presence from='bob@xmpp.example/phone' to='alice*sip.example@sipgw.xmpp.example'><show>away</show><status>Out</status><priority>5</priority></presence>",
    );
    deliver_stanza(
        &m,
        "<presence from='bob@xmpp.example/laptop' to='alice*sip.example@sipgw.xmpp.example' type='unavailable'/>",
    );
    with_host(|h| {
        assert_eq!(h.publishes.len(), 2, "{}", log_text());
        let (a, b) = (&h.publishes[0], &h.publishes[1]);
        assert_eq!(a.pres_uri, "sip:bob*xmpp.example@gw.sip.example");
        assert_eq!(
            (a.expires, a.source_flag, a.event),
            (-1, XMPP_PUBLISH, PRESENCE_EVENT)
        );
        assert_eq!(a.content_type, "application/pidf+xml");
        let body = a.body.as_deref().unwrap();
        assert!(
            body.contains("<basic>open</basic>") && body.contains("Out") && body.contains("away"),
            "{body}"
        );
        assert_ne!(a.id, b.id, "one publication per resource");
        assert_eq!((b.expires, b.body.as_deref()), (0, None));
    });
}

#[test]
fn xmpp_subscribed_and_garbage_call_nothing() {
    let m = ready_module();
    for stanza in [
        "<presence from='bob@xmpp.example/x' to='alice*sip.example@sipgw.xmpp.example' type='subscribed'/>",
        "<presence from='bob@xmpp.example",
        "<message from='a@b' to='c@d'><body>x</body></message>",
        "<presence to='alice*sip.example@sipgw.xmpp.example'/>",
        "<presence from='bad@xmpp.example' to='alice*sip.example@sipgw.xmpp.example'/>",
    ] {
        deliver_stanza(&m, stanza);
    }
    with_host(|h| {
        assert!(h.publishes.is_empty() && h.subscribes.is_empty());
        assert!(
            log_lines().iter().filter(|(l, _)| *l == 4).count() >= 4,
            "warnings expected: {}",
            log_text()
        );
    });
}

fn reply_callback() -> PuaCallback {
    with_host(|h| h.pua_callbacks[0].1)
}

fn ua_pres(pres: &mut Str, watcher: &mut Str, flag: c_int, event: c_int) -> UaPres {
    let mut u: UaPres = unsafe { std::mem::zeroed() };
    u.pres_uri = pres;
    u.watcher_uri = watcher;
    u.flag = flag;
    u.event = event;
    u
}

fn str_of(s: &'static str) -> Str {
    Str {
        s: s.as_ptr().cast_mut().cast(),
        len: s.len() as c_int,
    }
}

#[test]
fn subscription_lifecycle_uses_the_remote_contact() {
    let m = ready_module();
    let (to, from) = (
        "<presence from='bob@xmpp.example/p' to='alice*sip.example@sipgw.xmpp.example' type='subscribe'/>",
        "",
    );
    let _ = from;
    deliver_stanza(&m, to);
    let (mut pres, mut watcher) = (
        str_of("sip:alice@sip.example"),
        str_of("sip:bob*xmpp.example@gw.sip.example"),
    );
    let mut sub = ua_pres(&mut pres, &mut watcher, XMPP_INITIAL_SUBS, PRESENCE_EVENT);
    let mut ok = FakeMsg(b"SIP/2.0 200 OK\r\nContact: <sip:alice-ps@10.0.0.1:5060;transport=udp>\r\nExpires: 3600\r\nContent-Length: 0\r\n\r\n".to_vec());
    unsafe { reply_callback()(&mut sub, ok.ptr()) };
    deliver_stanza(
        &m,
        "<presence from='bob@xmpp.example/p' to='alice*sip.example@sipgw.xmpp.example' type='subscribe'/>",
    );
    deliver_stanza(
        &m,
        "<presence from='bob@xmpp.example/p' to='alice*sip.example@sipgw.xmpp.example' type='unsubscribe'/>",
    );
    deliver_stanza(
        &m,
        "<presence from='bob@xmpp.example/p' to='alice*sip.example@sipgw.xmpp.example' type='unsubscribe'/>",
    );
    with_host(|h| {
        let got: Vec<_> = h
            .subscribes
            .iter()
            .map(|s| (s.expires, s.remote_target.as_deref(), s.source_flag))
            .collect();
        let contact = Some("sip:alice-ps@10.0.0.1:5060;transport=udp");
        assert_eq!(
            got,
            [
                (-1, None, XMPP_INITIAL_SUBS),
                (-1, contact, XMPP_INITIAL_SUBS),
                (0, contact, XMPP_INITIAL_SUBS),
                (0, None, XMPP_INITIAL_SUBS)
            ]
        );
        assert!(
            h.subscribes
                .iter()
                .all(|s| s.pres_uri == "sip:alice@sip.example"
                    && s.watcher_uri == "sip:bob*xmpp.example@gw.sip.example"
                    && s.event == PRESENCE_EVENT)
        );
        // The 2xx told the XMPP user.
        let (kind, from, to, stanza) = &h.stanzas[0];
        assert_eq!(
            (*kind, from.as_str(), to.as_str()),
            (
                "packet",
                "alice*sip.example@sipgw.xmpp.example",
                "bob@xmpp.example"
            )
        );
        assert!(stanza.contains("type='subscribed'"), "{stanza}");
    });
}

#[test]
fn error_replies_and_faked_timeouts_become_stanza_errors() {
    let m = ready_module();
    let _ = &m;
    let (mut pres, mut watcher) = (
        str_of("sip:alice@sip.example"),
        str_of("sip:bob*xmpp.example@gw.sip.example"),
    );
    let mut sub = ua_pres(&mut pres, &mut watcher, XMPP_INITIAL_SUBS, PRESENCE_EVENT);
    let mut busy = FakeMsg(b"SIP/2.0 403 Forbidden\r\nContent-Length: 0\r\n\r\n".to_vec());
    unsafe { reply_callback()(&mut sub, busy.ptr()) };
    unsafe { reply_callback()(&mut sub, FAKED_REPLY) };
    // A winfo reply (XMPP_SUBSCRIBE) tells XMPP nothing.
    let mut winfo = ua_pres(&mut pres, &mut watcher, XMPP_SUBSCRIBE, PWINFO_EVENT);
    unsafe { reply_callback()(&mut winfo, busy.ptr()) };
    with_host(|h| {
        assert_eq!(h.stanzas.len(), 2, "{}", log_text());
        assert!(
            h.stanzas[0]
                .3
                .contains("<forbidden xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>")
                && h.stanzas[0].3.contains("type='auth'"),
            "{}",
            h.stanzas[0].3
        );
        assert!(
            h.stanzas[1].3.contains("remote-server-timeout")
                && h.stanzas[1].3.contains("type='wait'"),
            "{}",
            h.stanzas[1].3
        );
    });
}

#[test]
fn c_api_binds_and_translates() {
    let m = ready_module();
    let bind: kamailio_module::sys::CmdFunction = m.cmd("bind_pua_xmpp").function.unwrap();
    #[repr(C)]
    struct Api {
        pidf_to_xmpp: usize,
        xmpp_to_pidf: usize,
        winfo_to_subscribe: usize,
        sip_error_to_xmpp: usize,
        free_string: usize,
    }
    let mut api: Api = unsafe { std::mem::zeroed() };
    let bind: unsafe extern "C" fn(*mut Api) -> c_int = unsafe { std::mem::transmute(bind) };
    assert_eq!(unsafe { bind(&mut api) }, 0);
    assert_eq!(unsafe { bind(std::ptr::null_mut()) }, -1);
    assert!(api.pidf_to_xmpp != 0 && api.free_string != 0);
}

const PROBE: &str =
    "<presence from='bob@xmpp.example/x' to='alice*sip.example@sipgw.xmpp.example' type='probe'/>";

fn link_report(kind: c_int, text: &str) {
    let c = std::ffi::CString::new(text).unwrap();
    let f = with_host(|h| h.xmpp_callbacks[1].1);
    unsafe { f(c.as_ptr().cast_mut(), kind, std::ptr::null_mut()) };
}

#[test]
fn a_probe_opens_the_lost_subscription_once_and_its_reply_says_nothing() {
    let m = ready_module();
    for _ in 0..3 {
        deliver_stanza(&m, PROBE);
    }
    with_host(|h| {
        let got: Vec<_> = h
            .subscribes
            .iter()
            .map(|s| {
                (
                    s.pres_uri.as_str(),
                    s.expires,
                    s.remote_target.as_deref(),
                    s.source_flag,
                )
            })
            .collect();
        assert_eq!(
            got,
            [("sip:alice@sip.example", -1, None, XMPP_INITIAL_SUBS)],
            "{}",
            log_text()
        );
    });
    let (mut pres, mut watcher) = (
        str_of("sip:alice@sip.example"),
        str_of("sip:bob*xmpp.example@gw.sip.example"),
    );
    let mut sub = ua_pres(&mut pres, &mut watcher, XMPP_INITIAL_SUBS, PRESENCE_EVENT);
    let mut ok = FakeMsg(b"SIP/2.0 200 OK\r\nContact: <sip:ps@10.0.0.1>\r\nExpires: 3600\r\nContent-Length: 0\r\n\r\n".to_vec());
    unsafe { reply_callback()(&mut sub, ok.ptr()) };
    deliver_stanza(&m, PROBE);
    with_host(|h| {
        assert!(
            h.stanzas.is_empty(),
            "no subscribed for a probe: {:?}",
            h.stanzas
        );
        assert_eq!(h.subscribes.len(), 1, "still one dialog");
    });
}

#[test]
fn a_probe_is_answered_with_the_last_translated_presence() {
    let m = ready_module();
    let mut msg = notify("presence", "active;expires=3600", PIDF_OPEN);
    assert_translated(&m, &mut msg);
    reset_records();
    deliver_stanza(&m, PROBE);
    with_host(|h| {
        assert!(h.subscribes.is_empty(), "no SIP traffic");
        assert_eq!(h.stanzas.len(), 1, "{}", log_text());
        let (_, from, to, stanza) = &h.stanzas[0];
        assert_eq!(
            (from.as_str(), to.as_str()),
            ("alice*sip.example@sipgw.xmpp.example", "bob@xmpp.example/x")
        );
        assert_eq!(
            stanza,
            "<presence from='alice*sip.example@sipgw.xmpp.example' to='bob@xmpp.example/x'><status>At lunch</status></presence>"
        );
    });
}

#[test]
fn link_reports_hold_presence_withdraw_after_the_grace_and_restore() {
    let m = load_with(&[c"tm", c"pua", c"xmpp", c"pua_xmpp"]);
    assert_eq!(m.set_string_param("server_address", SERVER), 0);
    assert_eq!(m.set_param("link_loss_grace", PARAM_INT, 2 as *mut _), 0);
    assert_eq!(m.mod_init(), 0, "{}", log_text());
    deliver_stanza(
        &m,
        "<presence from='bob@xmpp.example/phone' to='alice*sip.example@sipgw.xmpp.example'/>",
    );
    reset_records();
    link_report(XMPP_LINK_DOWN, "0");
    let mut msg = notify("presence", "active;expires=3600", PIDF_OPEN);
    assert_translated(&m, &mut msg);
    link_report(XMPP_LINK_DOWN, "1999");
    with_host(|h| {
        assert!(
            h.stanzas.is_empty(),
            "held while the link is down: {:?}",
            h.stanzas
        );
        assert!(h.publishes.is_empty(), "within the grace period");
    });
    link_report(XMPP_LINK_DOWN, "2000");
    link_report(XMPP_LINK_DOWN, "3000");
    with_host(|h| {
        let got: Vec<_> = h
            .publishes
            .iter()
            .map(|p| (p.id.as_str(), p.expires))
            .collect();
        assert_eq!(got, [("xmpp-phone", 0)], "withdrawn once: {}", log_text());
    });
    link_report(XMPP_LINK_UP, "");
    with_host(|h| {
        let got: Vec<_> = h.stanzas.iter().map(|(_, _, _, s)| s.as_str()).collect();
        assert_eq!(
            got,
            [
                "<presence from='alice*sip.example@sipgw.xmpp.example' to='bob@xmpp.example'><status>At lunch</status></presence>",
                "<presence from='alice*sip.example@sipgw.xmpp.example' to='bob@xmpp.example' type='probe'/>",
            ]
        );
    });
    link_report(XMPP_LINK_UP, "");
    assert_eq!(with_host(|h| h.stanzas.len()), 2, "restored once");
    link_report(XMPP_LINK_DOWN, "not a number");
    assert!(log_text().contains("carries no duration"), "{}", log_text());
}
