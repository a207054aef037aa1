//! Pseudo-variable values (`core/pvar.h`). `pv_spec_t` and `fparam_t` stay opaque: only the core
//! dereferences them.

use libc::c_int;

use super::Str;

/// `pv_value_t.ri`: an `int` up to 5.6, a `long` since 5.7 (chosen per host by build.rs).
#[cfg(not(kamailio_pv_ri_long))]
pub type PvRi = c_int;
#[cfg(kamailio_pv_ri_long)]
pub type PvRi = libc::c_long;

/// `pv_value_t`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct PvValue {
    pub rs: Str,
    pub ri: PvRi,
    pub flags: c_int,
}

impl PvValue {
    /// `ri` as an `i64`, lossless for both layouts.
    // On 6.0 (LP64) `c_long` is `i64` already; on 5.6 `c_int` widens.
    #[cfg_attr(kamailio_pv_ri_long, allow(clippy::useless_conversion))]
    pub fn ri_i64(&self) -> i64 {
        i64::from(self.ri)
    }
}

pub const PV_VAL_NULL: c_int = 1;
pub const PV_VAL_STR: c_int = 4;
pub const PV_VAL_INT: c_int = 8;
pub const PV_TYPE_INT: c_int = 16;
pub const PV_VAL_PKG: c_int = 32;
pub const PV_VAL_SHM: c_int = 64;

/// Opaque `pv_spec_t`.
#[repr(C)]
pub struct PvSpecRaw {
    _private: [u8; 0],
}

/// Opaque `fparam_t` (made by the core's `fixup_spve_*`).
#[repr(C)]
pub struct FParamRaw {
    _private: [u8; 0],
}
