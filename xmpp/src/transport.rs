//! The module's state after `mod_init`, inherited read-only by every process through fork.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use kamailio_module::kemi::TmUacSend;
use kamailio_module::pv::Pv;

use crate::ipc::Ipc;
use crate::link_status::LinkStatus;
use crate::params::Config;

/// Everything `mod_init` set up.
pub struct Transport {
    pub config: Config,
    pub ipc: Ipc,
    pub status: LinkStatus,
    /// tm's `t_uac_send`, for SIP MESSAGEs made from XMPP messages.
    pub uac: TmUacSend,
    /// `$mb` and `$ru`, for `xmpp_send_message()`; `None` without the pv module.
    pub message_pvs: Option<(Pv, Pv)>,
    /// The process that ran `mod_init` (callbacks must be registered there).
    pub init_pid: i32,
}

static TRANSPORT: OnceLock<Transport> = OnceLock::new();
static MANAGER_FORKED: AtomicBool = AtomicBool::new(false);

/// Installs the state; `mod_init` runs once.
pub fn install(transport: Transport) -> Result<&'static Transport, String> {
    TRANSPORT
        .set(transport)
        .map_err(|_| "mod_init ran twice".to_string())?;
    TRANSPORT
        .get()
        .ok_or_else(|| "the module state vanished".into())
}

/// The state, or `None` before `mod_init` succeeded.
pub fn get() -> Option<&'static Transport> {
    TRANSPORT.get()
}

/// Recorded in the main process once the XMPP Manager is forked.
pub fn set_manager_forked() {
    MANAGER_FORKED.store(true, Ordering::Relaxed);
}

/// Whether a callback registered now would reach the manager process.
pub fn registration_reaches_manager() -> bool {
    // SAFETY: getpid has no preconditions.
    let pid = unsafe { libc::getpid() };
    !MANAGER_FORKED.load(Ordering::Relaxed) && get().is_none_or(|t| t.init_pid == pid)
}
