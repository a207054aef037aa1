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
/// XEP-0114 shared secret between the XMPP server and the xmpp module.
pub const COMPONENT_SECRET: &str = "gw-test-secret";

/// The XMPP server a stack runs (see [`StackConfig::with_xmpp_server`]). Both serve the same
/// contract: c2s on 127.0.0.1:[`C2S_PORT`] (no TLS, SASL PLAIN, any user name with the
/// password `password`), the gateway's XEP-0114 component [`XMPP_GW_DOMAIN`] on
/// 127.0.0.1:[`COMPONENT_PORT`], virtual host [`XMPP_DOMAIN`], no s2s, rosters kept on disk
/// under the stack's dir (they survive [`crate::Stack::stop_xmpp_server`] +
/// [`crate::Stack::start_xmpp_server`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum XmppServer {
    /// Debian's Prosody 0.12 (`crate::prosody`).
    #[default]
    Prosody,
    /// Debian's ejabberd 23.01 (`crate::ejabberd`).
    Ejabberd,
}

impl XmppServer {
    /// `"prosody"` or `"ejabberd"`.
    pub fn name(self) -> &'static str {
        match self {
            XmppServer::Prosody => "prosody",
            XmppServer::Ejabberd => "ejabberd",
        }
    }
}

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

/// Everything that varies between stacks. `Default` is the C baseline on the
/// selected host (see [`Host`]): its Kamailio with its C `pua_xmpp.so` and the
/// crash-fixed C `xmpp.so`.
#[derive(Debug, Clone)]
pub struct StackConfig {
    pub kamailio_bin: PathBuf,
    /// Directory of the stock modules (`mpath`).
    pub module_dir: PathBuf,
    /// The .so loaded as pua_xmpp (full path).
    pub pua_xmpp_module: PathBuf,
    /// The .so loaded as xmpp (full path).
    pub xmpp_module: PathBuf,
    /// Extra `modparam(module, name, value)` lines, written after every `loadmodule`.
    pub extra_modparams: Vec<(String, String, ModparamValue)>,
    /// Extra global lines (e.g. `msg_recv_max_size=4194304` for 6.0).
    pub extra_global_cfg: Vec<String>,
    /// Kamailio `-x` memory manager (e.g. `tlsf`).
    pub mem_manager: Option<String>,
    /// Kamailio `debug=` level.
    pub debug: i32,
    /// Where the db_text table templates are (copied per stack).
    pub dbtext_dir: PathBuf,
    /// Which XMPP server the stack runs (default Prosody).
    pub xmpp_server: XmppServer,
    pub prosody_bin: PathBuf,
    /// Erlang's `erl`, which runs ejabberd (for [`XmppServer::Ejabberd`]).
    pub erl_bin: PathBuf,
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

/// The Kamailio installation the real-stack tests run: the ONE place that reads
/// `KAMAILIO_PREFIX`.
///
/// - `KAMAILIO_PREFIX=<prefix>` (e.g. `target/kamailio/6.0.1` from
///   `tests/stack/build-kamailio-6.0.sh`): `<prefix>/sbin/kamailio`, modules (including the
///   crash-fixed C `xmpp.so` and the C `pua_xmpp.so`) in `<prefix>/lib/kamailio/modules`,
///   db_text templates in `<prefix>/share/kamailio/dbtext/kamailio`.
/// - unset: Debian's packages (bookworm's 5.6.3), with the crash-fixed C `xmpp.so` that
///   `tests/stack/setup.sh` builds (`target/kamailio/c-xmpp/xmpp.so`).
///
/// `$XMPP_SO` overrides the C xmpp module in both cases. Build the Rust modules for the same
/// host (`KAMAILIO_BIN=<prefix>/sbin/kamailio`, own `CARGO_TARGET_DIR`), or Kamailio refuses
/// them on the version check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    /// `Some` when `KAMAILIO_PREFIX` selected the host.
    pub prefix: Option<PathBuf>,
    pub kamailio_bin: PathBuf,
    pub module_dir: PathBuf,
    /// The crash-fixed C xmpp module.
    pub c_xmpp_module: PathBuf,
    /// The host's C pua_xmpp (the baseline).
    pub c_pua_xmpp_module: PathBuf,
    /// The host's UNFIXED C xmpp module (crashes on Prosody's stream header): Debian's, when
    /// the host is Debian's; `None` for a `KAMAILIO_PREFIX` build (its xmpp.so is fixed).
    pub stock_xmpp_module: Option<PathBuf>,
    pub dbtext_dir: PathBuf,
    /// `(major, minor)` from `kamailio -v`, when it could be read.
    pub series: Option<(u32, u32)>,
    /// Global settings this host needs for the tests (see [`Host::needed_global_cfg`]).
    pub global_cfg: Vec<String>,
}

impl Host {
    /// The selected host (computed once per process).
    pub fn get() -> &'static Host {
        static HOST: std::sync::OnceLock<Host> = std::sync::OnceLock::new();
        HOST.get_or_init(|| {
            Host::from_prefix(std::env::var_os("KAMAILIO_PREFIX").map(PathBuf::from))
        })
    }

    fn from_prefix(prefix: Option<PathBuf>) -> Host {
        let (kamailio_bin, module_dir, dbtext_dir, default_c_xmpp) = match &prefix {
            Some(p) => {
                let module_dir = p.join("lib/kamailio/modules");
                (
                    p.join("sbin/kamailio"),
                    module_dir.clone(),
                    p.join("share/kamailio/dbtext/kamailio"),
                    module_dir.join("xmpp.so"),
                )
            }
            None => (
                PathBuf::from("/usr/sbin/kamailio"),
                debian_module_dir(),
                PathBuf::from("/usr/share/kamailio/dbtext/kamailio"),
                workspace_root().join("target/kamailio/c-xmpp/xmpp.so"),
            ),
        };
        let series = kamailio_series(&kamailio_bin);
        Host {
            c_xmpp_module: std::env::var_os("XMPP_SO")
                .map(PathBuf::from)
                .unwrap_or(default_c_xmpp),
            c_pua_xmpp_module: module_dir.join("pua_xmpp.so"),
            stock_xmpp_module: prefix.is_none().then(|| module_dir.join("xmpp.so")),
            global_cfg: Self::needed_global_cfg(series),
            prefix,
            kamailio_bin,
            module_dir,
            dbtext_dir,
            series,
        }
    }

    /// 6.0 drops any SIP message of 32767 bytes or more before the route runs
    /// (`msg_recv_max_size`, which 5.6 does not know and rejects); the tests send larger
    /// NOTIFYs, so raise it to 4 MiB there.
    pub fn needed_global_cfg(series: Option<(u32, u32)>) -> Vec<String> {
        match series {
            Some(s) if s >= (6, 0) => vec!["msg_recv_max_size=4194304".to_string()],
            _ => Vec::new(),
        }
    }
}

/// `(major, minor)` of `<bin> -v` ("version: kamailio 6.0.1 (x86_64/linux) ...").
fn kamailio_series(bin: &Path) -> Option<(u32, u32)> {
    let out = std::process::Command::new(bin).arg("-v").output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let number = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("version:"))?
        .split_whitespace()
        .nth(1)?;
    let mut it = number.split('.').map(|p| p.parse::<u32>().ok());
    Some((it.next()??, it.next()??))
}

impl Default for StackConfig {
    fn default() -> Self {
        let host = Host::get();
        StackConfig {
            kamailio_bin: host.kamailio_bin.clone(),
            pua_xmpp_module: host.c_pua_xmpp_module.clone(),
            xmpp_module: host.c_xmpp_module.clone(),
            module_dir: host.module_dir.clone(),
            extra_modparams: Vec::new(),
            extra_global_cfg: host.global_cfg.clone(),
            mem_manager: None,
            debug: 2,
            dbtext_dir: host.dbtext_dir.clone(),
            xmpp_server: XmppServer::default(),
            prosody_bin: PathBuf::from("/usr/bin/prosody"),
            erl_bin: PathBuf::from("/usr/bin/erl"),
            start_timeout: std::time::Duration::from_secs(20),
        }
    }
}

impl StackConfig {
    /// Debian's C modules (same as `Default`).
    pub fn c_baseline() -> Self {
        Self::default()
    }

    /// The product: our Rust pua_xmpp on our Rust xmpp transport (see
    /// [`rust_pua_xmpp_module`], [`rust_xmpp_module`]).
    pub fn rust() -> Self {
        StackConfig {
            pua_xmpp_module: rust_pua_xmpp_module(),
            xmpp_module: rust_xmpp_module(),
            ..Self::default()
        }
    }

    /// Our Rust pua_xmpp on the host's crash-fixed C xmpp transport.
    pub fn rust_on_c_xmpp() -> Self {
        StackConfig {
            pua_xmpp_module: rust_pua_xmpp_module(),
            ..Self::default()
        }
    }

    /// Runs `server` as the stack's XMPP server instead of the default Prosody.
    pub fn with_xmpp_server(mut self, server: XmppServer) -> Self {
        self.xmpp_server = server;
        self
    }

    /// Adds a `modparam(module, name, value)` line (tm, pua, presence, ...).
    pub fn modparam(mut self, module: &str, name: &str, value: ModparamValue) -> Self {
        self.extra_modparams
            .push((module.to_string(), name.to_string(), value));
        self
    }

    /// Adds a `modparam("pua_xmpp", ...)` line.
    pub fn pua_xmpp_param(self, name: &str, value: ModparamValue) -> Self {
        self.modparam("pua_xmpp", name, value)
    }
}

/// Finds the built Rust `libpua_xmpp.so`: the one of this test executable's OWN target dir
/// (`<target>/<profile>/libpua_xmpp.so`, the executable being `<target>/<profile>/deps/<test>`),
/// else `$PUA_XMPP_SO`. Never another target dir's, so a run for one host (its own
/// `CARGO_TARGET_DIR`) cannot load the build for the other. Panics with a hint when none exists.
pub fn rust_pua_xmpp_module() -> PathBuf {
    own_target_module("libpua_xmpp.so", "PUA_XMPP_SO", "cargo build -p pua_xmpp")
}

/// Finds the built Rust `libxmpp.so` the same way (`$RUST_XMPP_SO` as the fallback).
pub fn rust_xmpp_module() -> PathBuf {
    own_target_module("libxmpp.so", "RUST_XMPP_SO", "cargo build -p xmpp")
}

/// The newest of `<target>/<profile>/deps/<file>` (which `cargo test` rebuilds) and
/// `<target>/<profile>/<file>` (which `cargo build` rebuilds) of the running executable, else
/// `$<env>`.
fn own_target_module(file: &str, env: &str, build_hint: &str) -> PathBuf {
    let exe_dir = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.to_path_buf()));
    let own: Vec<PathBuf> = exe_dir
        .iter()
        .flat_map(|d| {
            [
                d.join(file),
                d.parent().map_or_else(|| d.join(file), |p| p.join(file)),
            ]
        })
        .collect();
    let newest = own
        .iter()
        .filter_map(|p| Some((p.metadata().ok()?.modified().ok()?, p)))
        .max_by_key(|(t, _)| *t);
    if let Some((_, p)) = newest {
        return p.clone();
    }
    if let Some(p) = std::env::var_os(env) {
        let p = PathBuf::from(p);
        assert!(p.is_file(), "{env}={} is not a file", p.display());
        return p;
    }
    panic!(
        "no {file} beside this test executable (looked for {own:?}); build it with \
         `{build_hint}` in the same CARGO_TARGET_DIR and profile, or set {env}"
    )
}
