//! The module as Kamailio sees it: the export table (the C module's names, types and flags),
//! `mod_init`, `child_init` and the `xmpp_send_message()` entry, each guarded against panics.

use std::ffi::CStr;
use std::time::Duration;

use libc::{c_char, c_int};

use kamailio_module::guard::guard;
use kamailio_module::kemi::TmUacSend;
use kamailio_module::process;
use kamailio_module::pv::Pv;
use kamailio_module::sys::*;
use kamailio_module::{SipMsg, host};

use crate::ipc::Ipc;
use crate::link_status::LinkStatus;
use crate::send_message::{self, NotQueued};
use crate::transport::{self, Transport};
use crate::{api, manager, params};

pub const MODULE_NAME: &CStr = c"xmpp";

/// The core sleeps this long between two manager ticks (each tick itself waits up to 100 ms).
const TICK_INTERVAL: Duration = Duration::from_millis(1);

static CMDS: [CmdExport; 3] = [
    CmdExport::script(c"xmpp_send_message", xmpp_send_message, 0, REQUEST_ROUTE),
    // The API for other modules: find_export("bind_xmpp", 0, 0).
    CmdExport::api(c"bind_xmpp", api::BIND_AS_CMD, 0),
    CmdExport::END,
];

static PARAMS: [ParamExport; 10] = [
    ParamExport::setter(c"backend", PARAM_STRING, params::set_backend),
    ParamExport::setter(
        c"domain_separator",
        PARAM_STRING,
        params::set_domain_separator,
    ),
    ParamExport::setter(c"gateway_domain", PARAM_STRING, params::set_gateway_domain),
    ParamExport::setter(c"xmpp_domain", PARAM_STRING, params::set_xmpp_domain),
    ParamExport::setter(c"xmpp_host", PARAM_STRING, params::set_xmpp_host),
    ParamExport::setter(c"xmpp_port", PARAM_INT, params::set_xmpp_port),
    ParamExport::setter(c"xmpp_password", PARAM_STRING, params::set_xmpp_password),
    ParamExport::setter(c"outbound_proxy", PARAM_STR, params::set_outbound_proxy),
    ParamExport::setter(c"gwmap", PARAM_STRING, params::set_gwmap),
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
    init_child_f: Some(child_init),
    destroy_mod_f: None,
};

unsafe extern "C" fn mod_init() -> c_int {
    kamailio_module::log::init(MODULE_NAME);
    guard("mod_init", -1, || match init() {
        Ok(t) => {
            let c = &t.config;
            log::info!(
                "xmpp (Rust {}) ready for {}: component '{}' of {}:{}, gateway domain '{}', \
                 {} gwmap entries, outbound_proxy {}",
                env!("CARGO_PKG_VERSION"),
                host::MODULE_VERSION.to_string_lossy(),
                c.domain,
                c.host,
                c.port,
                c.addresses.gateway_domain,
                c.addresses.gwmap.len(),
                c.outbound_proxy.as_deref().unwrap_or("(none)")
            );
            0
        }
        Err(e) => {
            log::error!("cannot start xmpp: {e}");
            -1
        }
    })
}

fn init() -> Result<&'static Transport, String> {
    let config = params::config()?;
    let uac = TmUacSend::find()
        .map_err(|e| format!("{e} (xmpp sends SIP MESSAGEs through tm's t_uac_send: load tm)"))?;
    let message_pvs = match (Pv::resolve("$mb"), Pv::resolve("$ru")) {
        (Ok(mb), Ok(ru)) => Some((mb, ru)),
        (Err(e), _) | (_, Err(e)) => {
            log::warn!("{e}: xmpp_send_message() will fail");
            None
        }
    };
    let ipc = Ipc::new().map_err(|e| format!("cannot create the IPC socketpair: {e}"))?;
    let status =
        LinkStatus::create().map_err(|e| format!("cannot map the shared link status: {e}"))?;
    process::reserve(1).map_err(|e| format!("cannot reserve the XMPP Manager process: {e}"))?;
    transport::install(Transport {
        config,
        ipc,
        status,
        uac,
        message_pvs,
        // SAFETY: getpid has no preconditions.
        init_pid: unsafe { libc::getpid() },
    })
}

/// Forks the XMPP Manager from the main process (`rank == PROC_MAIN`), before tcp_main exists,
/// so it gets a socket to send SIP over TCP too.
unsafe extern "C" fn child_init(rank: c_int) -> c_int {
    guard("child_init", -1, || {
        if rank != PROC_MAIN {
            return 0;
        }
        match process::fork_timer_loop(c"XMPP Manager", true, manager::tick, TICK_INTERVAL) {
            Ok(pid) => {
                transport::set_manager_forked();
                log::debug!("XMPP Manager forked: pid {pid}");
                0
            }
            Err(e) => {
                log::error!("cannot fork the XMPP Manager process: {e}");
                -1
            }
        }
    })
}

/// `xmpp_send_message()`: 1 if the MESSAGE was queued for XMPP, -1 otherwise.
unsafe extern "C" fn xmpp_send_message(
    msg: *mut SipMsgRaw,
    _: *mut c_char,
    _: *mut c_char,
) -> c_int {
    guard("xmpp_send_message", -1, || {
        let Some(t) = transport::get() else {
            log::error!("xmpp_send_message: the module is not initialised");
            return -1;
        };
        // SAFETY: the core passes the message being routed.
        let Some(msg) = (unsafe { SipMsg::from_raw(msg) }) else {
            log::error!("xmpp_send_message: no message");
            return -1;
        };
        match send_message::handle(t, &msg) {
            Ok(()) => 1,
            Err(NotQueued::Input(why)) => {
                log::warn!("xmpp_send_message: {why}");
                -1
            }
            Err(NotQueued::Refused) => -1,
        }
    })
}
