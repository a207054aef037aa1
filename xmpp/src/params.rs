//! The module parameters (`modparam("xmpp", ...)`) with the C module's names, types and
//! defaults, set by the core in the main process before `mod_init`, then checked into a
//! [`Config`].

use std::ffi::CStr;
use std::sync::Mutex;

use libc::{c_char, c_int, c_uint, c_void};

use kamailio_module::guard::guard;
use kamailio_module::sys::{PARAM_INT, PARAM_STR, PARAM_STRING, Str};
use xmpp_component_link::address::AddressConfig;
use xmpp_component_link::gwmap::GwMapEntry;

/// The XEP-0114 component port (`DEFAULT_COMPONENT_PORT`).
pub const DEFAULT_COMPONENT_PORT: u16 = 5347;

/// The parameters as the script set them.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Params {
    backend: String,
    domain_separator: Option<String>,
    gateway_domain: String,
    xmpp_domain: String,
    xmpp_host: String,
    xmpp_port: i64,
    xmpp_password: String,
    outbound_proxy: String,
    gwmap: Vec<GwMapEntry>,
}

impl Default for Params {
    fn default() -> Self {
        Self {
            backend: "component".into(),
            domain_separator: None,
            gateway_domain: "sip2xmpp.example.net".into(),
            xmpp_domain: "xmpp2sip.example.net".into(),
            xmpp_host: "xmpp.example.com".into(),
            xmpp_port: 0,
            xmpp_password: "secret".into(),
            outbound_proxy: String::new(),
            gwmap: Vec::new(),
        }
    }
}

/// The checked configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The address translators' settings (separator, domains, gwmap).
    pub addresses: AddressConfig,
    /// XMPP server to connect to (`xmpp_host`).
    pub host: String,
    pub port: u16,
    /// The component's domain (`xmpp_domain`).
    pub domain: String,
    pub secret: String,
    /// Next hop of the SIP MESSAGEs made from XMPP messages.
    pub outbound_proxy: Option<String>,
}

static PARAMS: Mutex<Option<Params>> = Mutex::new(None);

fn with_params<R>(f: impl FnOnce(&mut Params) -> R) -> R {
    let mut params = PARAMS.lock().unwrap_or_else(|e| e.into_inner());
    f(params.get_or_insert_with(Params::default))
}

/// The configuration the script set, or why it cannot work.
pub fn config() -> Result<Config, String> {
    let p = with_params(|p| p.clone());
    match p.backend.as_str() {
        "component" => {}
        "server" => {
            return Err(
                "backend \"server\" is not supported: the C module's server backend \
                        drops every presence stanza both ways, so no gateway can work with it; \
                        use backend \"component\" with the XMPP server's XEP-0114 component port"
                    .into(),
            );
        }
        other => {
            return Err(format!(
                "invalid backend '{other}': only \"component\" is supported"
            ));
        }
    }
    let port = match p.xmpp_port {
        0 => DEFAULT_COMPONENT_PORT,
        n => u16::try_from(n)
            .ok()
            .filter(|&n| n > 0)
            .ok_or_else(|| format!("invalid xmpp_port {n}: must be 1 to 65535 (0: 5347)"))?,
    };
    for (name, value) in [("xmpp_host", &p.xmpp_host), ("xmpp_domain", &p.xmpp_domain)] {
        if value.is_empty() {
            return Err(format!("modparam \"{name}\" must not be empty"));
        }
    }
    let lower = p.outbound_proxy.to_ascii_lowercase();
    if !p.outbound_proxy.is_empty() && !lower.starts_with("sip:") && !lower.starts_with("sips:") {
        return Err(format!(
            "modparam \"outbound_proxy\" must be a SIP URI (sip:...), not '{}'",
            p.outbound_proxy
        ));
    }
    Ok(Config {
        addresses: AddressConfig {
            // Only the first character counts, as in C; unset or empty keeps '*'.
            domain_separator: p
                .domain_separator
                .as_deref()
                .and_then(|s| s.chars().next())
                .unwrap_or('*'),
            gateway_domain: p.gateway_domain,
            xmpp_domain: p.xmpp_domain.clone(),
            gwmap: p.gwmap,
        },
        host: p.xmpp_host,
        port,
        domain: p.xmpp_domain,
        secret: p.xmpp_password,
        outbound_proxy: (!p.outbound_proxy.is_empty()).then_some(p.outbound_proxy),
    })
}

/// The value of a string parameter, whichever way the core passes it.
///
/// # Safety
/// `kind` and `val` are what the core passes to a `PARAM_USE_FUNC` setter.
unsafe fn string_value(kind: c_uint, val: *mut c_void) -> Option<String> {
    if val.is_null() {
        return None;
    }
    let bytes = if kind & PARAM_STR != 0 {
        // SAFETY: a PARAM_STR setter gets a `str *` valid for the call.
        let s = unsafe { &*val.cast::<Str>() };
        if s.s.is_null() || s.len < 0 {
            return None;
        }
        // SAFETY: `len` bytes at `s`, copied at once.
        unsafe { std::slice::from_raw_parts(s.s.cast::<u8>(), s.len as usize) }
    } else if kind & PARAM_STRING != 0 {
        // SAFETY: a PARAM_STRING setter gets a NUL-terminated string valid for the call.
        unsafe { CStr::from_ptr(val.cast::<c_char>()) }.to_bytes()
    } else {
        return None;
    };
    std::str::from_utf8(bytes).ok().map(str::to_owned)
}

fn int_value(kind: c_uint, val: *mut c_void) -> Option<i64> {
    // The core passes integers cast to a pointer.
    (kind & PARAM_INT != 0).then_some(val as isize as i64)
}

macro_rules! setter {
    ($name:ident, $param:literal, |$kind:ident, $val:ident| $parse:expr, |$p:ident, $v:ident| $apply:expr) => {
        /// Parameter setter called by the core (`PARAM_USE_FUNC`).
        pub(crate) unsafe extern "C" fn $name($kind: c_uint, $val: *mut c_void) -> c_int {
            // Parameters are set before mod_init: make sure their errors reach the log.
            kamailio_module::log::init(crate::module::MODULE_NAME);
            guard(concat!("modparam ", $param), -1, || {
                let result: Result<(), String> = match $parse {
                    Some($v) => with_params(|$p| $apply),
                    None => Err("wrong type or not UTF-8".into()),
                };
                match result {
                    Ok(()) => 0,
                    Err(why) => {
                        log::error!(
                            concat!("invalid value for modparam \"", $param, "\": {}"),
                            why
                        );
                        -1
                    }
                }
            })
        }
    };
}

// SAFETY of each parse: `string_value` is given the core's arguments unchanged.
setter!(
    set_backend,
    "backend",
    |kind, val| unsafe { string_value(kind, val) },
    |p, v| {
        p.backend = v;
        Ok(())
    }
);
setter!(
    set_domain_separator,
    "domain_separator",
    |kind, val| unsafe { string_value(kind, val) },
    |p, v| {
        p.domain_separator = Some(v);
        Ok(())
    }
);
setter!(
    set_gateway_domain,
    "gateway_domain",
    |kind, val| unsafe { string_value(kind, val) },
    |p, v| {
        p.gateway_domain = v;
        Ok(())
    }
);
setter!(
    set_xmpp_domain,
    "xmpp_domain",
    |kind, val| unsafe { string_value(kind, val) },
    |p, v| {
        p.xmpp_domain = v;
        Ok(())
    }
);
setter!(
    set_xmpp_host,
    "xmpp_host",
    |kind, val| unsafe { string_value(kind, val) },
    |p, v| {
        p.xmpp_host = v;
        Ok(())
    }
);
setter!(
    set_xmpp_port,
    "xmpp_port",
    |kind, val| int_value(kind, val),
    |p, v| {
        p.xmpp_port = v;
        Ok(())
    }
);
setter!(
    set_xmpp_password,
    "xmpp_password",
    |kind, val| unsafe { string_value(kind, val) },
    |p, v| {
        p.xmpp_password = v;
        Ok(())
    }
);
setter!(
    set_outbound_proxy,
    "outbound_proxy",
    |kind, val| unsafe { string_value(kind, val) },
    |p, v| {
        p.outbound_proxy = v;
        Ok(())
    }
);
// Each gwmap line appends its list to the previous ones, as in C.
setter!(
    set_gwmap,
    "gwmap",
    |kind, val| unsafe { string_value(kind, val) },
    |p, v| {
        xmpp_component_link::gwmap::parse_gwmap(&v)
            .map(|entries| p.gwmap.extend(entries))
            .map_err(|e| e.to_string())
    }
);
