//! Other modules of the host: their API exports (`find_export`) and their load order.

use std::ffi::CStr;

use libc::c_int;

use crate::sys::CmdFunction;
use crate::{HostError, symbols};

/// The function another module exports under `name` with `param_no` parameters (an API binder
/// such as `bind_pua`), or `None`.
pub fn find_export(name: &CStr, param_no: c_int) -> Result<Option<CmdFunction>, HostError> {
    let core = symbols::core()?;
    // SAFETY: NUL-terminated name; find_export only reads the module list.
    Ok(unsafe { (core.find_export)(name.as_ptr(), param_no, 0) })
}

/// Checks that `dependency` is loaded and was loaded before `me`, i.e. that its `mod_init` has
/// already run: the core initialises modules in load order, and some APIs (pua's callback list)
/// crash when used before their module's init.
pub fn require_loaded_before(me: &CStr, dependency: &'static str) -> Result<(), HostError> {
    let core = symbols::core()?;
    // SAFETY: the core's module list is built before any mod_init runs and never changes after;
    // each node's leading fields are mirrored by SrModule (proven by the layout test).
    unsafe {
        let mut node = (core.get_loaded_modules)();
        // The head is the module loaded last: meeting the dependency before ourselves means it
        // was loaded after us.
        let mut seen_me = false;
        while !node.is_null() {
            let name = (*node).exports_name;
            if !name.is_null() {
                let name = CStr::from_ptr(name);
                if name == me {
                    seen_me = true;
                } else if name.to_bytes() == dependency.as_bytes() {
                    return if seen_me {
                        Ok(())
                    } else {
                        Err(HostError::LoadedAfter(dependency))
                    };
                }
            }
            node = (*node).next;
        }
    }
    Err(HostError::NotLoaded(dependency))
}
