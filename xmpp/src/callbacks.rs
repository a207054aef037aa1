//! The callbacks other modules register for received stanzas (`register_callback`).
//!
//! The list is process-local: register in `mod_init`, as pua_xmpp does. The XMPP Manager
//! process, which runs the callbacks, is forked from the main process after every `mod_init`,
//! so it inherits what was registered there; a callback registered later (in a worker, or after
//! the manager started) is never called, and is logged as such. Callbacks run newest first
//! (LIFO), like the C module's list.

use std::ffi::CStr;
use std::sync::Mutex;

use libc::{c_int, c_void};

use kamailio_module::sys::{E_BUG, XmppCallback};

#[derive(Clone, Copy)]
struct Entry {
    types: c_int,
    f: XmppCallback,
    param: *mut c_void,
}

// SAFETY: the param is only handed back to the callback; Kamailio processes are
// single-threaded.
unsafe impl Send for Entry {}

static LIST: Mutex<Vec<Entry>> = Mutex::new(Vec::new());

fn list() -> std::sync::MutexGuard<'static, Vec<Entry>> {
    LIST.lock().unwrap_or_else(|e| e.into_inner())
}

/// Adds a callback for the `XMPP_RCV_*` bits in `types`. Returns 1, or `E_BUG` for a NULL
/// function, as C does.
pub fn register(types: c_int, f: Option<XmppCallback>, param: *mut c_void) -> c_int {
    let Some(f) = f else {
        log::error!("register_callback: NULL callback function");
        return E_BUG;
    };
    list().push(Entry { types, f, param });
    1
}

/// Whether any callback wants stanzas of type `kind`.
pub fn wanted(kind: c_int) -> bool {
    list().iter().any(|e| e.types & kind != 0)
}

/// Calls every callback registered for `kind`, newest first, with the NUL-terminated `stanza`;
/// returns how many were called.
pub fn run(kind: c_int, stanza: &CStr) -> usize {
    // A copy, so that a callback may register another without deadlocking.
    let entries: Vec<Entry> = list().iter().rev().copied().collect();
    let mut called = 0;
    for e in entries.iter().filter(|e| e.types & kind != 0) {
        // SAFETY: a callback with the xmpp_cb_f signature, registered with this param; the
        // stanza outlives the call and the callback must not keep it (as in C).
        unsafe { (e.f)(stanza.as_ptr().cast_mut(), kind, e.param) };
        called += 1;
    }
    called
}
