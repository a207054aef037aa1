//! String parameters of script functions, fixed up by the core's own `fixup_spve_spve` so they
//! may hold pseudo-variables (`"$ruri"`, `"$hdr(Expires)"`), and read back per message.

use libc::{c_char, c_int, c_void};

use crate::sys::*;
use crate::{HostError, SipMsg, guard, symbols};

/// `fixup` entry for functions whose parameters are all strings with pseudo-variables.
///
/// # Safety
/// Called by the core with `param` pointing at the script literal, as for any fixup.
pub unsafe extern "C" fn fixup_string_params(param: *mut *mut c_void, param_no: c_int) -> c_int {
    guard::guard("fixup_string_params", E_UNSPEC, || match symbols::core() {
        // SAFETY: forwarded from the core with the same contract.
        Ok(core) => unsafe { (core.fixup_spve_spve)(param, param_no) },
        Err(e) => {
            log::error!("cannot fix up parameter {param_no}: {e}");
            E_CFG
        }
    })
}

/// `free_fixup` counterpart of [`fixup_string_params`].
///
/// # Safety
/// As for any free_fixup.
pub unsafe extern "C" fn free_string_params(param: *mut *mut c_void, param_no: c_int) -> c_int {
    guard::guard("free_string_params", E_UNSPEC, || match symbols::core() {
        // SAFETY: forwarded from the core with the same contract.
        Ok(core) => unsafe { (core.fixup_free_spve_spve)(param, param_no) },
        Err(_) => 0,
    })
}

/// Evaluates a fixed-up string parameter for `msg` and hands its bytes to `f`, which must copy
/// what it keeps (the value may sit in the core's rotating PV buffers).
///
/// # Safety
/// `param` must be the `char *` the core passes for a parameter fixed up by
/// [`fixup_string_params`].
pub unsafe fn read_string_param<R>(
    msg: &SipMsg<'_>,
    param: *mut c_char,
    f: impl FnOnce(&[u8]) -> R,
) -> Result<R, HostError> {
    let core = symbols::core()?;
    if param.is_null() {
        return Err(HostError::MissingParam);
    }
    let mut out = Str::EMPTY;
    // SAFETY: param is an fparam_t made by fixup_spve_spve; msg is live.
    if unsafe { (core.get_str_fparam)(&mut out, msg.as_ptr(), param.cast()) } != 0 {
        return Err(HostError::ParamEval);
    }
    if out.s.is_null() || out.len <= 0 {
        return Ok(f(&[]));
    }
    // SAFETY: the core returned `len` bytes at `s`.
    Ok(f(unsafe {
        std::slice::from_raw_parts(out.s.cast::<u8>(), out.len as usize)
    }))
}
