//! What a test stack runs: binaries, modules, extra Kamailio settings, and the fixed test names.

use std::path::{Path, PathBuf};

/// SIP domain of the SIP users (alice).
pub const SIP_DOMAIN: &str = "sip.example";
/// SIP domain under which XMPP users appear (xmpp `gateway_domain`).
pub const SIP_GW_DOMAIN: &str = "xmpp-gw.sip.example";
/// XMPP domain of the XMPP users (bob), a Prosody VirtualHost.
pub const XMPP_DOMAIN: &str = "xmpp.example";
/// XMPP component domain under which SIP users appear (xmpp `xmpp_domain`).
pub const XMPP_GW_DOMAIN: &str = "sip-gw.xmpp.example";
/// The gateway's SIP address (pua_xmpp `server_address`).
pub const GATEWAY_URI: &str = "sip:gateway@xmpp-gw.sip.example";
/// Fixed ports; every stack has its own network namespace.
pub const SIP_PORT: u16 = 5060;
pub const C2S_PORT: u16 = 5222;
pub const COMPONENT_PORT: u16 = 5347;
/// XEP-0114 shared secret between Prosody and the xmpp module.
pub const COMPONENT_SECRET: &str = "gw-test-secret";

/// `sip:alice@sip.example` -> `alice*sip.example@sip-gw.xmpp.example`.
pub fn jid_for_sip(sip_uri: &str) -> String {
    let s = sip_uri.strip_prefix("sip:").unwrap_or(sip_uri);
    let (user, host) = s.split_once('@').expect("SIP URI with user@host");
    format!("{user}*{host}@{XMPP_GW_DOMAIN}")
}

/// `bob@xmpp.example[/res]` -> `sip:bob*xmpp.example@xmpp-gw.sip.example`.
pub fn sip_for_jid(jid: &str) -> String {
    let bare = jid.split('/').next().unwrap_or(jid);
    let (user, host) = bare.split_once('@').expect("JID with user@host");
    format!("sip:{user}*{host}@{SIP_GW_DOMAIN}")
}

/// A value of a `modparam` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModparamValue {
    Str(String),
    Int(i64),
}

impl ModparamValue {
    /// As written in kamailio.cfg.
    pub fn to_cfg(&self) -> String {
        match self {
            ModparamValue::Int(i) => i.to_string(),
            ModparamValue::Str(s) => {
                format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
            }
        }
    }
}

/// Everything that varies between stacks. `Default` is the C baseline:
/// Debian's Kamailio with its C `pua_xmpp.so` and the crash-fixed C
/// `xmpp.so` built by `tests/stack/setup.sh` (or `$XMPP_SO`).
#[derive(Debug, Clone)]
pub struct StackConfig {
    pub kamailio_bin: PathBuf,
    /// Directory of the stock modules (`mpath`).
    pub module_dir: PathBuf,
    /// The .so loaded as pua_xmpp (full path).
    pub pua_xmpp_module: PathBuf,
    /// The .so loaded as xmpp (full path).
    pub xmpp_module: PathBuf,
    /// Extra `modparam("pua_xmpp", name, value)` lines.
    pub extra_pua_xmpp_params: Vec<(String, ModparamValue)>,
    /// Extra global lines (e.g. `msg_recv_max_size=4194304` for 6.0).
    pub extra_global_cfg: Vec<String>,
    /// Kamailio `-x` memory manager (e.g. `tlsf`).
    pub mem_manager: Option<String>,
    /// Kamailio `debug=` level.
    pub debug: i32,
    /// Where the db_text table templates are (copied per stack).
    pub dbtext_dir: PathBuf,
    pub prosody_bin: PathBuf,
    /// Deadline for each readiness step.
    pub start_timeout: std::time::Duration,
}

/// The repository root (this crate lives in `crates/test-stack`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crate is two levels below the workspace")
        .to_path_buf()
}

/// Debian's multiarch module directory.
pub fn debian_module_dir() -> PathBuf {
    PathBuf::from(format!(
        "/usr/lib/{}-linux-gnu/kamailio/modules",
        std::env::consts::ARCH
    ))
}

impl Default for StackConfig {
    fn default() -> Self {
        let module_dir = debian_module_dir();
        StackConfig {
            kamailio_bin: PathBuf::from("/usr/sbin/kamailio"),
            pua_xmpp_module: module_dir.join("pua_xmpp.so"),
            xmpp_module: std::env::var_os("XMPP_SO")
                .map(PathBuf::from)
                .unwrap_or_else(|| workspace_root().join("target/kamailio/c-xmpp/xmpp.so")),
            module_dir,
            extra_pua_xmpp_params: Vec::new(),
            extra_global_cfg: Vec::new(),
            mem_manager: None,
            debug: 2,
            dbtext_dir: PathBuf::from("/usr/share/kamailio/dbtext/kamailio"),
            prosody_bin: PathBuf::from("/usr/bin/prosody"),
            start_timeout: std::time::Duration::from_secs(20),
        }
    }
}

impl StackConfig {
    /// Debian's C modules (same as `Default`).
    pub fn c_baseline() -> Self {
        Self::default()
    }

    /// Our Rust module as pua_xmpp (see [`rust_pua_xmpp_module`]).
    pub fn rust() -> Self {
        StackConfig {
            pua_xmpp_module: rust_pua_xmpp_module(),
            ..Self::default()
        }
    }

    /// Adds a `modparam("pua_xmpp", ...)` line.
    pub fn pua_xmpp_param(mut self, name: &str, value: ModparamValue) -> Self {
        self.extra_pua_xmpp_params.push((name.to_string(), value));
        self
    }
}

/// Finds the built Rust `libpua_xmpp.so`: `$PUA_XMPP_SO` if set, else the
/// newest of `{debug,release}/libpua_xmpp.so` under `$CARGO_TARGET_DIR`,
/// the target dir this test binary runs from, and the workspace's `target/`.
/// Panics with a hint when none exists.
pub fn rust_pua_xmpp_module() -> PathBuf {
    if let Some(p) = std::env::var_os("PUA_XMPP_SO") {
        let p = PathBuf::from(p);
        assert!(p.is_file(), "PUA_XMPP_SO={} is not a file", p.display());
        return p;
    }
    let mut dirs: Vec<PathBuf> = Vec::new();
    if let Some(t) = std::env::var_os("CARGO_TARGET_DIR") {
        dirs.push(PathBuf::from(t));
    }
    // A test binary lives in <target>/<profile>/deps/.
    if let Ok(exe) = std::env::current_exe()
        && let Some(t) = exe.ancestors().nth(3)
    {
        dirs.push(t.to_path_buf());
    }
    dirs.push(workspace_root().join("target"));
    let newest = dirs
        .iter()
        .flat_map(|d| ["debug", "release"].map(|p| d.join(p).join("libpua_xmpp.so")))
        .filter_map(|p| Some((p.metadata().ok()?.modified().ok()?, p)))
        .max_by_key(|(t, _)| *t);
    match newest {
        Some((_, p)) => p,
        None => panic!(
            "no libpua_xmpp.so found (looked in {dirs:?}); build it with `cargo build -p pua_xmpp` \
             or set PUA_XMPP_SO"
        ),
    }
}
