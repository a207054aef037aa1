//! The module parameters (`modparam("pua_xmpp", ...)`), set by the core in the main process
//! before `mod_init`, then frozen into the gateway's configuration.

use std::ffi::CStr;
use std::sync::Mutex;

use libc::{c_char, c_int, c_uint, c_void};

use kamailio_module::guard::guard;
use kamailio_module::sys::{PARAM_INT, PARAM_STRING};

/// The gateway's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Contact of the gateway's SUBSCRIBEs: where the presence server sends its NOTIFYs.
    pub server_address: String,
    /// Next hop for every PUBLISH and initial SUBSCRIBE the gateway makes.
    pub outbound_proxy: Option<String>,
    /// NOTIFY bodies and XMPP stanzas larger than this are refused.
    pub max_body_size: usize,
    /// Gateway subscriptions whose remote contact is remembered (shared memory, fixed).
    pub max_subscriptions: usize,
    /// Follow a NOTIFY's Contact as the dialog's remote target (set it when the route calls
    /// pua's `pua_update_contact()`, which makes pua do the same).
    pub follow_notify_contact: bool,
    /// Seconds without the component link before the publications made for XMPP users are
    /// withdrawn (0: keep them).
    pub link_loss_grace: u32,
}

impl Config {
    /// [`Config::link_loss_grace`] in milliseconds.
    pub fn link_loss_grace_ms(&self) -> u64 {
        u64::from(self.link_loss_grace) * 1000
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            server_address: String::new(),
            outbound_proxy: None,
            max_body_size: 65536,
            max_subscriptions: 8192,
            follow_notify_contact: false,
            link_loss_grace: 60,
        }
    }
}

static PARAMS: Mutex<Option<Config>> = Mutex::new(None);

fn with_params(f: impl FnOnce(&mut Config)) {
    let mut guard = PARAMS.lock().unwrap_or_else(|e| e.into_inner());
    f(guard.get_or_insert_with(Config::default));
}

/// The configuration the script set; `server_address` is required.
pub fn config() -> Result<Config, &'static str> {
    let cfg = PARAMS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
        .unwrap_or_default();
    if cfg.server_address.trim().is_empty() {
        return Err(
            "modparam \"server_address\" is required (the SIP URI of the gateway, e.g. \"sip:gateway@xmpp-gw.example.net\")",
        );
    }
    if !cfg.server_address.to_ascii_lowercase().starts_with("sip:")
        && !cfg.server_address.to_ascii_lowercase().starts_with("sips:")
    {
        return Err("modparam \"server_address\" must be a SIP URI (sip:...)");
    }
    Ok(cfg)
}

/// # Safety
/// `val` is what the core passes for a `PARAM_STRING | PARAM_USE_FUNC` parameter.
unsafe fn string_value(kind: c_uint, val: *mut c_void) -> Option<String> {
    if kind & PARAM_STRING == 0 || val.is_null() {
        return None;
    }
    // SAFETY: a NUL-terminated string from the config parser, copied at once.
    Some(
        unsafe { CStr::from_ptr(val.cast::<c_char>()) }
            .to_string_lossy()
            .trim()
            .to_string(),
    )
}

fn int_value(kind: c_uint, val: *mut c_void) -> Option<i64> {
    // The core passes integers cast to a pointer.
    (kind & PARAM_INT != 0).then_some(val as isize as i64)
}

macro_rules! setter {
    ($name:ident, $param:literal, |$kind:ident, $val:ident| $parse:expr, |$cfg:ident, $v:ident| $apply:expr) => {
        /// Parameter setter called by the core (`PARAM_USE_FUNC`) with its arguments.
        pub(crate) unsafe extern "C" fn $name($kind: c_uint, $val: *mut c_void) -> c_int {
            // Parameters are set before mod_init: make sure their errors reach the log.
            kamailio_module::log::init(crate::module::MODULE_NAME);
            guard(concat!("modparam ", $param), -1, || match $parse {
                Some($v) => {
                    with_params(|$cfg| $apply);
                    0
                }
                None => {
                    log::error!(concat!("invalid value for modparam \"", $param, "\""));
                    -1
                }
            })
        }
    };
}

// SAFETY of each parse: `string_value` is given the core's arguments unchanged.
setter!(
    set_server_address,
    "server_address",
    |kind, val| unsafe { string_value(kind, val) }.filter(|s| !s.is_empty()),
    |cfg, v| cfg.server_address = v
);
setter!(
    set_outbound_proxy,
    "outbound_proxy",
    |kind, val| unsafe { string_value(kind, val) },
    |cfg, v| cfg.outbound_proxy = (!v.is_empty()).then_some(v)
);
setter!(
    set_max_body_size,
    "max_body_size",
    |kind, val| int_value(kind, val).filter(|&n| n > 0).map(|n| n as usize),
    |cfg, v| cfg.max_body_size = v
);
setter!(
    set_max_subscriptions,
    "max_subscriptions",
    |kind, val| int_value(kind, val)
        .filter(|&n| n > 0 && n <= 1 << 20)
        .map(|n| n as usize),
    |cfg, v| cfg.max_subscriptions = v
);
setter!(
    set_follow_notify_contact,
    "follow_notify_contact",
    |kind, val| int_value(kind, val).filter(|&n| n == 0 || n == 1),
    |cfg, v| cfg.follow_notify_contact = v == 1
);
setter!(
    set_link_loss_grace,
    "link_loss_grace",
    |kind, val| int_value(kind, val)
        .filter(|&n| (0..=86_400).contains(&n))
        .map(|n| n as u32),
    |cfg, v| cfg.link_loss_grace = v
);
