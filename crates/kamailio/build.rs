//! Chooses the Kamailio host this build targets: its version-check strings and the layouts that
//! differ between supported hosts.
//!
//! Order of sources: `KAMAILIO_VERSION` + `KAMAILIO_FLAGS` (both, verbatim), else `kamailio -v` of
//! `KAMAILIO_BIN` (default: `kamailio` on PATH), else Debian bookworm's 5.6.3 strings.
//! A series not in [`HOSTS`] fails the build unless `KAMAILIO_UNTESTED_HOST=1`.

use std::{env, fs, path::PathBuf, process::Command};

/// One supported Kamailio series and the layout facts that differ between series.
/// The layout test (`tests/layout.rs`) proves every row against that series' headers.
struct Host {
    series: &'static str,
    /// `pv_value_t.ri` is a `long` (since 5.7), so `flags` sits at 24 and the struct is 32 bytes.
    pv_ri_long: bool,
}

const HOSTS: &[Host] = &[
    Host {
        series: "5.6",
        pv_ri_long: false,
    },
    Host {
        series: "6.0",
        pv_ri_long: true,
    },
];

const DEBIAN_5_6_3_VERSION: &str = "kamailio 5.6.3 (x86_64/linux)";
const DEBIAN_5_6_3_FLAGS: &str = "USE_TCP, USE_TLS, USE_SCTP, TLS_HOOKS, USE_RAW_SOCKS, DISABLE_NAGLE, USE_MCAST, DNS_IP_HACK, SHM_MMAP, PKG_MALLOC, Q_MALLOC, F_MALLOC, TLSF_MALLOC, DBG_SR_MEMORY, USE_FUTEX, FAST_LOCK-ADAPTIVE_WAIT, USE_DNS_CACHE, USE_DNS_FAILOVER, USE_NAPTR, USE_DST_BLOCKLIST, HAVE_RESOLV_RES, TLS_PTHREAD_MUTEX_SHARED";

fn main() {
    for var in [
        "KAMAILIO_VERSION",
        "KAMAILIO_FLAGS",
        "KAMAILIO_BIN",
        "KAMAILIO_UNTESTED_HOST",
        "PATH",
    ] {
        println!("cargo:rerun-if-env-changed={var}");
    }
    println!("cargo:rustc-check-cfg=cfg(kamailio_pv_ri_long)");
    // Tests provide fake core symbols from the test executable itself.
    println!("cargo:rustc-link-arg-tests=-rdynamic");

    let (version, flags, source) = host_strings();
    let number = version_number(&version).unwrap_or_else(|| {
        panic!("cannot read a Kamailio version number from {version:?} (from {source})")
    });
    let series = number.rsplit_once('.').map_or(number.as_str(), |(s, _)| s);
    let untested = env::var("KAMAILIO_UNTESTED_HOST").is_ok_and(|v| v == "1");
    let host = match HOSTS.iter().find(|h| h.series == series) {
        Some(h) => h,
        None if untested => {
            println!(
                "cargo:warning=building for UNTESTED Kamailio {number}: layouts guessed, not proven"
            );
            guess_host(series)
        }
        None => panic!(
            "Kamailio {number} (from {source}) is not a supported host; supported series: {}. \
             Set KAMAILIO_UNTESTED_HOST=1 to build anyway (untested).",
            HOSTS
                .iter()
                .map(|h| h.series)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    if host.pv_ri_long {
        println!("cargo:rustc-cfg=kamailio_pv_ri_long");
    }

    let out = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));
    let generated = format!(
        "/// `module_version` this build is checked against: the host's `SER_FULL_VERSION`.\n\
         pub const MODULE_VERSION: &core::ffi::CStr = {version:?};\n\
         /// `module_flags`: the host's `SER_COMPILE_FLAGS`.\n\
         pub const MODULE_FLAGS: &core::ffi::CStr = {flags:?};\n\
         /// The host series (`major.minor`) this build targets.\n\
         pub const HOST_SERIES: &str = {series:?};\n\
         /// Where the strings above came from.\n\
         pub const HOST_SOURCE: &str = {source:?};\n",
        version = CStrLit(&version),
        flags = CStrLit(&flags),
    );
    fs::write(out.join("host.rs"), generated).expect("write host.rs");
}

/// Renders a `c"..."` literal.
struct CStrLit<'a>(&'a str);
impl std::fmt::Debug for CStrLit<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "c{:?}", self.0)
    }
}

fn host_strings() -> (String, String, String) {
    if let (Ok(v), Ok(f)) = (env::var("KAMAILIO_VERSION"), env::var("KAMAILIO_FLAGS")) {
        return (v, f, "KAMAILIO_VERSION/KAMAILIO_FLAGS".into());
    }
    let bin = env::var("KAMAILIO_BIN").unwrap_or_else(|_| "kamailio".into());
    if let Ok(out) = Command::new(&bin).arg("-v").output()
        && out.status.success()
    {
        let text = String::from_utf8_lossy(&out.stdout);
        let field = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name))
                .map(|v| v.trim().to_string())
        };
        // `version:` may end with a repository id after the ")": not part of the check.
        let version = field("version:").map(|v| match v.find(')') {
            Some(end) => v[..=end].to_string(),
            None => v,
        });
        if let (Some(v), Some(f)) = (version, field("flags:")) {
            return (v, f, format!("`{bin} -v`"));
        }
    }
    (
        DEBIAN_5_6_3_VERSION.into(),
        DEBIAN_5_6_3_FLAGS.into(),
        "the Debian 5.6.3 default".into(),
    )
}

/// "kamailio 5.6.3 (x86_64/linux)" -> "5.6.3"
fn version_number(version: &str) -> Option<String> {
    let n = version.split_whitespace().nth(1)?;
    let parts: Vec<&str> = n.split('.').collect();
    (parts.len() == 3 && parts.iter().all(|p| p.parse::<u32>().is_ok())).then(|| n.to_string())
}

/// For an untested series: `pv_value_t.ri` became a `long` in 5.7.
fn guess_host(series: &str) -> &'static Host {
    let mut it = series.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let (major, minor) = (it.next().unwrap_or(0), it.next().unwrap_or(0));
    let long = (major, minor) >= (5, 7);
    HOSTS
        .iter()
        .find(|h| h.pv_ri_long == long)
        .expect("a host row for each pv_value_t layout")
}
