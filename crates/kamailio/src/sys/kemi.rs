//! KEMI export tables (`core/kemi.h`) and the timer-process callback type (`core/timer.h`).

use libc::{c_int, c_uint, c_void};

use super::Str;

/// `SR_KEMI_PARAMS_MAX`.
pub const SR_KEMI_PARAMS_MAX: usize = 6;

/// Parameter and return types of a KEMI function (`SR_KEMIP_*`).
pub const SR_KEMIP_NONE: c_int = 0;
pub const SR_KEMIP_INT: c_int = 1;
pub const SR_KEMIP_STR: c_int = 2;

/// `sr_kemi_t`: one exported function. A module's array ends at `fname.s == NULL`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SrKemi {
    pub mname: Str,
    pub fname: Str,
    pub rtype: c_int,
    pub func: *mut c_void,
    pub ptypes: [c_int; SR_KEMI_PARAMS_MAX],
}

/// `sr_kemi_module_t`: one module's name and its export array.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SrKemiModule {
    pub mname: Str,
    pub kexp: *mut SrKemi,
}

/// `utimer_function`: what `fork_basic_utimer` calls, with the time in milliseconds.
pub type UtimerFunction = unsafe extern "C" fn(c_uint, *mut c_void);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_match_kemi_h() {
        // Offsets from core/kemi.h on x86_64, unchanged 5.4 -> 6.1.
        assert_eq!(std::mem::size_of::<SrKemi>(), 72);
        assert_eq!(std::mem::offset_of!(SrKemi, fname), 16);
        assert_eq!(std::mem::offset_of!(SrKemi, rtype), 32);
        assert_eq!(std::mem::offset_of!(SrKemi, func), 40);
        assert_eq!(std::mem::offset_of!(SrKemi, ptypes), 48);
        assert_eq!(std::mem::size_of::<SrKemiModule>(), 24);
        assert_eq!(std::mem::offset_of!(SrKemiModule, kexp), 16);
    }
}
