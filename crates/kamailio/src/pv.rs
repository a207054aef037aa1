//! Reading message fields through pseudo-variables (`pv_cache_get` + `pv_get_spec_value`), the
//! layout-free path the core's own KEMI uses.

use std::ptr::NonNull;

use crate::sys::*;
use crate::{HostError, SipMsg, symbols};

/// A resolved pseudo-variable such as `$mb` or `$ci`. The spec lives in the process's pkg memory
/// and is never freed, so one resolved before fork stays valid in every child.
#[derive(Clone, Copy)]
pub struct Pv {
    spec: NonNull<PvSpecRaw>,
    name: &'static str,
}

// SAFETY: a pointer into process-local host memory; Kamailio processes are single-threaded.
unsafe impl Send for Pv {}
unsafe impl Sync for Pv {}

/// A value as the host returned it, borrowed for the duration of a [`Pv::read`] closure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PvRead<'v> {
    Null,
    Str(&'v [u8]),
    Int(i64),
}

impl Pv {
    /// Resolves `name` (e.g. `"$mb"`). Fails when the variable is unknown (the `pv` module not
    /// loaded, a typo).
    pub fn resolve(name: &'static str) -> Result<Self, HostError> {
        let core = symbols::core()?;
        let mut s = Str {
            s: name.as_ptr().cast_mut().cast(),
            len: name.len() as i32,
        };
        // SAFETY: pv_cache_get copies the name into its own cache node.
        let spec = unsafe { (core.pv_cache_get)(&mut s) };
        NonNull::new(spec)
            .map(|spec| Self { spec, name })
            .ok_or(HostError::UnknownPv(name))
    }

    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Reads the variable from `msg` and hands the value to `f`. The value may live in a host
    /// scratch buffer that the next host call overwrites, so `f` must copy what it keeps.
    pub fn read<R>(
        &self,
        msg: &SipMsg<'_>,
        f: impl FnOnce(PvRead<'_>) -> R,
    ) -> Result<R, HostError> {
        let core = symbols::core()?;
        // Zeroed and large enough for every supported layout of pv_value_t.
        let mut value = PvValue {
            rs: Str::EMPTY,
            ri: 0,
            flags: 0,
        };
        // SAFETY: msg is a live message (not FAKED_REPLY), spec came from pv_cache_get.
        if unsafe { (core.pv_get_spec_value)(msg.as_ptr(), self.spec.as_ptr(), &mut value) } != 0 {
            return Err(HostError::PvRead(self.name));
        }
        let read = if value.flags & PV_VAL_NULL != 0 {
            PvRead::Null
        } else if value.flags & PV_VAL_STR != 0 && !value.rs.s.is_null() && value.rs.len >= 0 {
            // SAFETY: the host returned a string of `len` bytes at `s`.
            PvRead::Str(unsafe {
                std::slice::from_raw_parts(value.rs.s.cast::<u8>(), value.rs.len as usize)
            })
        } else if value.flags & (PV_VAL_INT | PV_TYPE_INT) != 0 {
            PvRead::Int(value.ri_i64())
        } else {
            PvRead::Null
        };
        let result = f(read);
        if value.flags & (PV_VAL_PKG | PV_VAL_SHM) != 0 {
            // SAFETY: the host allocated this value for us and asks us to release it.
            unsafe { (core.pv_value_destroy)(&mut value) };
        }
        Ok(result)
    }
}
