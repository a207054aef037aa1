//! Start-up against the REAL host: the test stack's host (Debian's kamailio 5.6.3, or the
//! installation `KAMAILIO_PREFIX` names, e.g. 6.0.1) with presence, pua, pv, tm, sl and the
//! host's xmpp module loaded before ours. No XMPP server is needed (the xmpp module only
//! retries its connection). Each test runs Kamailio in its own network namespace.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use kamailio_test_stack::process::{Proc, wait_until};
use kamailio_test_stack::{Host, netns, rust_pua_xmpp_module};

struct Config<'a> {
    pua_before: bool,
    pua_after: bool,
    server_address: Option<&'a str>,
}

fn write_config(dir: &Path, c: &Config<'_>) -> PathBuf {
    let host = Host::get();
    let db = dir.join("db");
    std::fs::create_dir_all(&db).unwrap();
    for table in [
        "version",
        "presentity",
        "active_watchers",
        "watchers",
        "xcap",
        "pua",
    ] {
        std::fs::copy(host.dbtext_dir.join(table), db.join(table)).unwrap();
    }
    let pua = "loadmodule \"pua.so\"\nmodparam(\"pua\", \"db_url\", \"text://DB\")\n";
    let mut cfg = format!(
        "#!KAMAILIO\ndebug=2\nlog_stderror=yes\nchildren=1\nlisten=udp:127.0.0.1:5060\n{}mpath=\"{}/\"\n\
         loadmodule \"db_text.so\"\nloadmodule \"tm.so\"\nloadmodule \"sl.so\"\nloadmodule \"pv.so\"\n\
         loadmodule \"presence.so\"\nmodparam(\"presence\", \"db_url\", \"text://DB\")\n{}\
         loadmodule \"xmpp.so\"\nmodparam(\"xmpp\", \"xmpp_host\", \"127.0.0.1\")\nmodparam(\"xmpp\", \"xmpp_port\", 5347)\n\
         loadmodule \"{}\"\n{}{}\
         request_route {{\n  if (method == \"NOTIFY\") {{ if (pua_xmpp_notify()) sl_send_reply(\"200\", \"OK\"); exit; }}\n  \
         pua_xmpp_req_winfo(\"$ru\", \"$hdr(Expires)\");\n  sl_send_reply(\"404\", \"Not here\");\n}}\n",
        host.global_cfg
            .iter()
            .map(|l| format!("{l}\n"))
            .collect::<String>(),
        host.module_dir.display(),
        if c.pua_before { pua } else { "" },
        rust_pua_xmpp_module().display(),
        c.server_address
            .map(|s| format!("modparam(\"pua_xmpp\", \"server_address\", \"{s}\")\n"))
            .unwrap_or_default(),
        if c.pua_after { pua } else { "" },
    );
    cfg = cfg.replace("DB", &db.display().to_string());
    let path = dir.join("kamailio.cfg");
    std::fs::write(&path, cfg).unwrap();
    path
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pua_xmpp-startup-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn kamailio(cfg: &Path, dir: &Path) -> Command {
    let mut cmd = Command::new(&Host::get().kamailio_bin);
    cmd.arg("-f").arg(cfg).args(["-DD", "-E", "-Y"]).arg(dir);
    cmd
}

/// Starts Kamailio and waits for it to exit by itself (start-up refused); returns its log.
fn refused_start(name: &str, c: &Config<'_>) -> String {
    netns::enter_private_netns().expect("private network namespace (run as root)");
    let dir = temp_dir(name);
    let cfg = write_config(&dir, c);
    let proc = Proc::spawn("kamailio", kamailio(&cfg, &dir), &dir.join("kamailio.log")).unwrap();
    let status = wait_until(
        "Kamailio to refuse to start",
        Duration::from_secs(15),
        || Ok(proc.exited()),
    )
    .unwrap_or_else(|e| panic!("{e}\n{}", proc.log()));
    let log = proc.log();
    assert!(!status.success(), "Kamailio must refuse to start:\n{log}");
    assert!(
        !log.contains("exited by a signal") && !log.contains("core dumped"),
        "crash:\n{log}"
    );
    log
}

#[test]
fn starts_logs_its_line_and_stops_cleanly() {
    netns::enter_private_netns().expect("private network namespace (run as root)");
    let dir = temp_dir("ok");
    let cfg = write_config(
        &dir,
        &Config {
            pua_before: true,
            pua_after: false,
            server_address: Some("sip:gateway@127.0.0.1"),
        },
    );
    let check = Command::new(&Host::get().kamailio_bin)
        .arg("-c")
        .arg("-f")
        .arg(&cfg)
        .arg("-Y")
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "kamailio -c rejected the config:\n{}",
        String::from_utf8_lossy(&check.stderr)
    );

    let proc = Proc::spawn("kamailio", kamailio(&cfg, &dir), &dir.join("kamailio.log")).unwrap();
    wait_until("our start-up line", Duration::from_secs(15), || {
        proc.check_alive()?;
        Ok(proc.log().contains("pua_xmpp (Rust").then_some(()))
    })
    .unwrap_or_else(|e| panic!("{e}\n{}", proc.log()));
    let log = proc.log();
    // The host this build targets (build.rs: KAMAILIO_BIN's `kamailio -v`), e.g.
    // "kamailio 6.0.1 (x86_64/linux)": the module was accepted by the host it was built for.
    let want = format!(
        "ready for {}",
        kamailio_module::host::MODULE_VERSION.to_string_lossy()
    );
    assert!(log.contains(&want), "want {want:?}:\n{log}");
    // Every process forked, none died.
    std::thread::sleep(Duration::from_millis(500));
    proc.check_alive()
        .unwrap_or_else(|e| panic!("{e}\n{}", proc.log()));
    proc.stop();
    let log = proc.log();
    assert!(!log.contains("exited by a signal"), "{log}");
    assert!(!log.contains("ERROR: pua_xmpp"), "{log}");
}

#[test]
fn refuses_to_start_without_server_address() {
    let log = refused_start(
        "noaddr",
        &Config {
            pua_before: true,
            pua_after: false,
            server_address: None,
        },
    );
    assert!(
        log.contains("cannot start pua_xmpp: modparam \"server_address\" is required"),
        "{log}"
    );
}

#[test]
fn refuses_to_start_without_pua() {
    let log = refused_start(
        "nopua",
        &Config {
            pua_before: false,
            pua_after: false,
            server_address: Some("sip:gateway@127.0.0.1"),
        },
    );
    assert!(log.contains("module `pua` is not loaded"), "{log}");
}

#[test]
fn refuses_to_start_when_pua_is_loaded_after_it() {
    let log = refused_start(
        "puaafter",
        &Config {
            pua_before: false,
            pua_after: true,
            server_address: Some("sip:gateway@127.0.0.1"),
        },
    );
    assert!(
        log.contains("module `pua` is loaded after this one"),
        "{log}"
    );
}
