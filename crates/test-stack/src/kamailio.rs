//! Kamailio for one test: kamailio.cfg from the template, db_text tables, private /etc/hosts, start, readiness.

use crate::config::{
    COMPONENT_PORT, COMPONENT_SECRET, SIP_DOMAIN, SIP_GW_DOMAIN, SIP_PORT, StackConfig,
    XMPP_DOMAIN, XMPP_GW_DOMAIN,
};
use crate::process::{Proc, wait_until};
use std::io;
use std::net::UdpSocket;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const TEMPLATE: &str = include_str!("../kamailio.cfg.tmpl");
const DB_TABLES: [&str; 6] = [
    "version",
    "presentity",
    "active_watchers",
    "watchers",
    "xcap",
    "pua",
];
/// What Kamailio's main process logs when a child dies of a signal.
pub const CRASH_MARK: &str = "exited by a signal";

/// kamailio.cfg for a stack whose files live in `dir`.
pub fn render_config(cfg: &StackConfig, dir: &Path) -> String {
    let extra_params: String = cfg
        .extra_modparams
        .iter()
        .map(|(m, k, v)| format!("modparam(\"{m}\", \"{k}\", {})\n", v.to_cfg()))
        .collect();
    let vars = [
        ("DEBUG", cfg.debug.to_string()),
        ("EXTRA_GLOBAL", cfg.extra_global_cfg.join("\n")),
        ("MODULE_DIR", cfg.module_dir.display().to_string()),
        ("XMPP_MODULE", cfg.xmpp_module.display().to_string()),
        ("PUA_XMPP_MODULE", cfg.pua_xmpp_module.display().to_string()),
        ("DIR", dir.display().to_string()),
        ("DB_DIR", dir.join("db").display().to_string()),
        ("XMPP_GW_DOMAIN", XMPP_GW_DOMAIN.to_string()),
        ("SIP_GW_DOMAIN", SIP_GW_DOMAIN.to_string()),
        ("COMPONENT_PORT", COMPONENT_PORT.to_string()),
        ("COMPONENT_SECRET", COMPONENT_SECRET.to_string()),
        ("EXTRA_MODPARAMS", extra_params),
    ];
    let mut out = TEMPLATE.to_string();
    for (k, v) in vars {
        out = out.replace(&format!("{{{{{k}}}}}"), &v);
    }
    assert!(
        !out.contains("{{"),
        "unfilled placeholder in kamailio.cfg:\n{out}"
    );
    out
}

/// Writes config, tables and name files, starts Kamailio and waits until it
/// answers OPTIONS on 127.0.0.1:5060.
pub fn start(cfg: &StackConfig, dir: &Path) -> io::Result<Proc> {
    for p in [&cfg.kamailio_bin, &cfg.pua_xmpp_module, &cfg.xmpp_module] {
        if !p.is_file() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!(
                    "{} is missing (run tests/stack/setup.sh, or tests/stack/build-kamailio-6.0.sh \
                     for KAMAILIO_PREFIX=target/kamailio/6.0.1?)",
                    p.display()
                ),
            ));
        }
    }
    let db = dir.join("db");
    std::fs::create_dir_all(&db)?;
    for t in DB_TABLES {
        std::fs::copy(cfg.dbtext_dir.join(t), db.join(t))
            .map_err(|e| io::Error::new(e.kind(), format!("copying db_text table {t}: {e}")))?;
    }
    let conf = dir.join("kamailio.cfg");
    std::fs::write(&conf, render_config(cfg, dir))?;
    // pua sends to the presentity's domain and NOTIFYs go to the gateway's:
    // all names must resolve to loopback without DNS.
    std::fs::write(
        dir.join("hosts"),
        format!(
            "127.0.0.1 localhost {SIP_DOMAIN} {SIP_GW_DOMAIN} {XMPP_DOMAIN} {XMPP_GW_DOMAIN}\n\
             ::1 localhost ip6-localhost\n"
        ),
    )?;
    std::fs::write(dir.join("resolv.conf"), "nameserver 127.0.0.1\n")?;

    // A private mount namespace so the bind mounts are seen by Kamailio only.
    let script = r#"set -e
mount --bind "$1" /etc/hosts
if [ -f /etc/resolv.conf ]; then mount --bind "$2" /etc/resolv.conf; fi
shift 2
exec "$@""#;
    let mut cmd = Command::new("unshare");
    cmd.args(["-m", "--propagation", "private", "sh", "-c", script, "sh"])
        .arg(dir.join("hosts"))
        .arg(dir.join("resolv.conf"))
        .arg(&cfg.kamailio_bin)
        // -DD: foreground, no setsid, so the process group holds every child.
        .args(["-DD", "-E", "-f"])
        .arg(&conf)
        .arg("-Y")
        .arg(dir)
        .arg("-w")
        .arg(dir);
    if let Some(m) = &cfg.mem_manager {
        cmd.args(["-x", m]);
    }
    cmd.current_dir(dir);
    let proc = Proc::spawn("kamailio", cmd, &dir.join("kamailio.log"))?;

    let probe = UdpSocket::bind("127.0.0.1:0")?;
    probe.set_read_timeout(Some(Duration::from_millis(200)))?;
    let mut n = 0u32;
    wait_until("Kamailio answering OPTIONS", cfg.start_timeout, || {
        proc.check_alive()?;
        n += 1;
        let local = probe.local_addr()?;
        let req = format!(
            "OPTIONS sip:127.0.0.1:{SIP_PORT} SIP/2.0\r\n\
             Via: SIP/2.0/UDP {local};branch=z9hG4bKprobe{n};rport\r\n\
             Max-Forwards: 70\r\n\
             From: <sip:probe@127.0.0.1>;tag=probe\r\n\
             To: <sip:127.0.0.1:{SIP_PORT}>\r\n\
             Call-ID: ready-probe-{n}\r\n\
             CSeq: {n} OPTIONS\r\n\
             Content-Length: 0\r\n\r\n"
        );
        // Nothing listens yet: ECONNREFUSED may come back; just retry.
        let _ = probe.send_to(req.as_bytes(), ("127.0.0.1", SIP_PORT));
        let mut buf = [0u8; 4096];
        let start = std::time::Instant::now();
        while start.elapsed() < Duration::from_millis(200) {
            match probe.recv(&mut buf) {
                Ok(len) => {
                    let text = String::from_utf8_lossy(&buf[..len]);
                    if text.starts_with("SIP/2.0 200") && text.contains(&format!("ready-probe-{n}"))
                    {
                        return Ok(Some(()));
                    }
                }
                Err(_) => break,
            }
        }
        Ok(None)
    })?;
    Ok(proc)
}
