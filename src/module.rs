//! The module as Kamailio sees it: the export table (reading like the C module's), `mod_init`,
//! and the `extern "C"` entry points, each guarded against panics and translating between C
//! return conventions and the gateway flows.

use std::ffi::CStr;

use libc::{c_char, c_int, c_void};

use kamailio_module::fixup::{fixup_string_params, free_string_params, read_string_param};
use kamailio_module::guard::guard;
use kamailio_module::modules::require_loaded_before;
use kamailio_module::pua::{Pua, UaPresView};
use kamailio_module::pv::Pv;
use kamailio_module::sys::*;
use kamailio_module::xmpp::{XMPP_LINK_DOWN, XMPP_LINK_UP, Xmpp};
use kamailio_module::{Reply, SipMsg, host};

use crate::gateway::{self, FlowError, Gateway, dialogs::Dialogs, lifecycle::LinkState};
use crate::{capi, params};

pub const MODULE_NAME: &CStr = c"pua_xmpp";

/// Script return values: >0 true, <0 false; never 0, which would end the script.
pub const TRUE: c_int = 1;
pub const FALSE: c_int = -1;
/// False, because the NOTIFY belongs to no gateway subscription (answer 481).
pub const FALSE_NO_SUBSCRIPTION: c_int = -2;

static CMDS: [CmdExport; 5] = [
    CmdExport::script(c"pua_xmpp_notify", pua_xmpp_notify, 0, REQUEST_ROUTE),
    // The name the module's original documentation uses in its NOTIFY example.
    CmdExport::script(c"Notify2Xmpp", pua_xmpp_notify, 0, REQUEST_ROUTE),
    CmdExport::script(c"pua_xmpp_req_winfo", pua_xmpp_req_winfo, 2, REQUEST_ROUTE)
        .with_fixup(fixup_string_params, free_string_params),
    // The API for other modules: find_export("bind_pua_xmpp", NO_SCRIPT, 0).
    CmdExport::api(c"bind_pua_xmpp", capi::BIND_AS_CMD, NO_SCRIPT),
    CmdExport::END,
];

static PARAMS: [ParamExport; 7] = [
    ParamExport::setter(c"server_address", PARAM_STRING, params::set_server_address),
    ParamExport::setter(c"outbound_proxy", PARAM_STRING, params::set_outbound_proxy),
    ParamExport::setter(c"max_body_size", PARAM_INT, params::set_max_body_size),
    ParamExport::setter(
        c"max_subscriptions",
        PARAM_INT,
        params::set_max_subscriptions,
    ),
    ParamExport::setter(
        c"follow_notify_contact",
        PARAM_INT,
        params::set_follow_notify_contact,
    ),
    ParamExport::setter(c"link_loss_grace", PARAM_INT, params::set_link_loss_grace),
    ParamExport::END,
];

#[unsafe(no_mangle)]
pub static exports: ModuleExports = ModuleExports {
    name: MODULE_NAME.as_ptr(),
    dlflags: 0,
    cmds: CMDS.as_ptr(),
    params: PARAMS.as_ptr(),
    rpc_methods: std::ptr::null(),
    pv_items: std::ptr::null(),
    response_f: None,
    init_mod_f: Some(mod_init),
    init_child_f: None,
    destroy_mod_f: None,
};

unsafe extern "C" fn mod_init() -> c_int {
    kamailio_module::log::init(MODULE_NAME);
    guard("mod_init", -1, || match init() {
        Ok(gw) => {
            log::info!(
                "pua_xmpp (Rust {}) ready for {}: server_address <{}>, outbound_proxy {}, max_body_size {}, {} subscriptions tracked in shared memory, link_loss_grace {} s",
                env!("CARGO_PKG_VERSION"),
                host::MODULE_VERSION.to_string_lossy(),
                gw.config.server_address,
                gw.config.outbound_proxy.as_deref().unwrap_or("(pua's)"),
                gw.config.max_body_size,
                gw.config.max_subscriptions,
                gw.config.link_loss_grace
            );
            0
        }
        Err(e) => {
            log::error!("cannot start pua_xmpp: {e}");
            -1
        }
    })
}

fn init() -> Result<&'static Gateway, String> {
    let config = params::config()?;
    for dependency in ["pua", "xmpp"] {
        require_loaded_before(MODULE_NAME, dependency).map_err(|e| e.to_string())?;
    }
    let pua = Pua::bind().map_err(|e| e.to_string())?;
    let xmpp = Xmpp::bind().map_err(|e| e.to_string())?;
    let raw_message = Pv::resolve("$mb").map_err(|e| e.to_string())?;
    let dialogs = Dialogs::create(config.max_subscriptions)
        .map_err(|e| format!("cannot map the shared subscription table: {e}"))?;
    pua.register_callback(XMPP_INITIAL_SUBS | XMPP_SUBSCRIBE, sip_reply_callback)
        .map_err(|e| e.to_string())?;
    xmpp.register_callback(XMPP_RCV_PRESENCE, xmpp_presence_callback)
        .map_err(|e| e.to_string())?;
    // Only this project's xmpp module reports the link; a C one keeps the callback unused.
    xmpp.register_callback(XMPP_LINK_UP | XMPP_LINK_DOWN, xmpp_link_callback)
        .map_err(|e| e.to_string())?;
    let link = LinkState::create().map_err(|e| format!("cannot map the link state: {e}"))?;
    gateway::install(Gateway {
        limits: sip_xmpp_presence::Limits {
            max_body_size: config.max_body_size,
        },
        config,
        pua,
        xmpp,
        raw_message,
        dialogs,
        link,
    })?;
    gateway::get().ok_or_else(|| "the gateway vanished".to_string())
}

fn log_flow_error(entry: &str, e: &FlowError) -> c_int {
    match e {
        FlowError::UnknownDialog => {
            log::info!("{entry}: {e}");
            FALSE_NO_SUBSCRIPTION
        }
        FlowError::Input(_) | FlowError::Translate(..) => {
            log::warn!("{entry}: {e}");
            FALSE
        }
        FlowError::Host(_) => {
            log::error!("{entry}: {e}");
            FALSE
        }
    }
}

fn with_gateway(entry: &'static str, f: impl FnOnce(&'static Gateway) -> c_int) -> c_int {
    match gateway::get() {
        Some(gw) => f(gw),
        None => {
            log::error!("{entry}: the module is not initialised");
            FALSE
        }
    }
}

/// `pua_xmpp_notify()`: translate a NOTIFY of a gateway subscription into XMPP.
unsafe extern "C" fn pua_xmpp_notify(msg: *mut SipMsgRaw, _: *mut c_char, _: *mut c_char) -> c_int {
    guard("pua_xmpp_notify", FALSE, || {
        with_gateway("pua_xmpp_notify", |gw| {
            // SAFETY: the core passes the message being routed.
            let Some(msg) = (unsafe { SipMsg::from_raw(msg) }) else {
                log::error!("pua_xmpp_notify: no message");
                return FALSE;
            };
            match gateway::notify::handle(gw, &msg) {
                Ok(outcome) => {
                    log::debug!("pua_xmpp_notify: {outcome:?}");
                    TRUE
                }
                Err(e) => log_flow_error("pua_xmpp_notify", &e),
            }
        })
    })
}

/// `pua_xmpp_req_winfo(uri, expires)`: subscribe to the watcherinfo of an XMPP user.
unsafe extern "C" fn pua_xmpp_req_winfo(
    msg: *mut SipMsgRaw,
    uri: *mut c_char,
    expires: *mut c_char,
) -> c_int {
    guard("pua_xmpp_req_winfo", FALSE, || {
        with_gateway("pua_xmpp_req_winfo", |gw| {
            // SAFETY: the core passes the message being routed.
            let Some(msg) = (unsafe { SipMsg::from_raw(msg) }) else {
                log::error!("pua_xmpp_req_winfo: no message");
                return FALSE;
            };
            // SAFETY: both parameters were fixed up by fixup_string_params. The values may sit
            // in the core's rotating buffers: copy them at once.
            let args = unsafe { read_string_param(&msg, uri, <[u8]>::to_vec) }.and_then(|u| {
                unsafe { read_string_param(&msg, expires, <[u8]>::to_vec) }.map(|e| (u, e))
            });
            let result = match args {
                Ok((uri, expires)) => gateway::winfo_request::handle(gw, &uri, &expires),
                Err(e) => Err(e.into()),
            };
            match result {
                Ok(()) => TRUE,
                Err(e) => log_flow_error("pua_xmpp_req_winfo", &e),
            }
        })
    })
}

/// pua's reply callback for the gateway's SUBSCRIBEs. pua ignores the return value.
unsafe extern "C" fn sip_reply_callback(subscription: *mut UaPres, reply: *mut SipMsgRaw) -> c_int {
    guard("sip_reply_callback", FALSE, || {
        with_gateway("sip_reply_callback", |gw| {
            // SAFETY: pua passes its record and the reply (or FAKED_REPLY) for this call.
            let (Some(sub), reply) = (unsafe { UaPresView::from_raw(subscription) }, unsafe {
                Reply::from_raw(reply)
            }) else {
                log::error!("sip_reply_callback: pua passed no subscription");
                return FALSE;
            };
            match gateway::sip_reply::handle(gw, &sub, &reply) {
                Ok(()) => TRUE,
                Err(e) => log_flow_error("sip_reply_callback", &e),
            }
        })
    })
}

/// The xmpp module's callback for received `<presence>` stanzas (in the XMPP process).
unsafe extern "C" fn xmpp_presence_callback(
    stanza: *mut c_char,
    _kind: c_int,
    _param: *mut c_void,
) {
    guard("xmpp_presence_callback", (), || {
        with_gateway("xmpp_presence_callback", |gw| {
            if stanza.is_null() {
                log::error!("xmpp_presence_callback: no stanza");
                return FALSE;
            }
            // SAFETY: a NUL-terminated stanza, valid during the call.
            let bytes = unsafe { CStr::from_ptr(stanza) }.to_bytes();
            match gateway::xmpp_presence::handle(gw, bytes) {
                Ok(()) => TRUE,
                Err(e) => log_flow_error("xmpp_presence_callback", &e),
            }
        });
    })
}

/// The xmpp module's report of the component link (this project's xmpp module only; in the
/// XMPP process): up, or down for the number of milliseconds in the text.
unsafe extern "C" fn xmpp_link_callback(text: *mut c_char, kind: c_int, _param: *mut c_void) {
    guard("xmpp_link_callback", (), || {
        with_gateway("xmpp_link_callback", |gw| {
            if kind & XMPP_LINK_UP != 0 {
                gateway::lifecycle::link_up(gw);
                return TRUE;
            }
            // SAFETY: a NUL-terminated text, valid during the call (NULL checked).
            let down_for = (!text.is_null())
                .then(|| unsafe { CStr::from_ptr(text) }.to_str().ok())
                .flatten()
                .and_then(|t| t.trim().parse::<u64>().ok());
            match down_for {
                Some(ms) => {
                    gateway::lifecycle::link_down(gw, ms);
                    TRUE
                }
                None => {
                    log::error!("xmpp_link_callback: the link report carries no duration");
                    FALSE
                }
            }
        });
    })
}
