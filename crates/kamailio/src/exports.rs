//! Building a module's export table: one line per script function, API export or parameter,
//! reading like the C tables they replace.

use std::ffi::CStr;

use libc::{c_int, c_void};

use crate::sys::{
    CmdExport, CmdFunction, FixupFunction, PARAM_USE_FUNC, ParamExport, ParamFunction,
};

impl CmdExport {
    /// A function scripts call in the `routes` (route-type mask) with `param_no` parameters.
    pub const fn script(
        name: &'static CStr,
        function: CmdFunction,
        param_no: c_int,
        routes: u32,
    ) -> Self {
        Self {
            name: name.as_ptr(),
            function: Some(function),
            param_no,
            fixup: None,
            free_fixup: None,
            flags: routes,
        }
    }

    /// The same, with its parameters fixed up at start-up by `fixup` and released by `free`.
    pub const fn with_fixup(self, fixup: FixupFunction, free: FixupFunction) -> Self {
        Self {
            fixup: Some(fixup),
            free_fixup: Some(free),
            ..self
        }
    }

    /// An API binder other modules find with `find_export(name, param_no, 0)`; no route may
    /// call it.
    pub const fn api(name: &'static CStr, binder: CmdFunction, param_no: c_int) -> Self {
        Self::script(name, binder, param_no, 0)
    }

    /// The table's terminator.
    pub const END: Self = Self {
        name: std::ptr::null(),
        function: None,
        param_no: 0,
        fixup: None,
        free_fixup: None,
        flags: 0,
    };
}

impl ParamExport {
    /// A `modparam` of `type_` (`PARAM_STRING`, `PARAM_INT`, `PARAM_STR`) handed to `setter`
    /// (`PARAM_USE_FUNC`), which copies and checks the value.
    pub const fn setter(name: &'static CStr, type_: u32, setter: ParamFunction) -> Self {
        Self {
            name: name.as_ptr(),
            type_: type_ | PARAM_USE_FUNC,
            param_pointer: setter as *mut c_void,
        }
    }

    /// The table's terminator.
    pub const END: Self = Self {
        name: std::ptr::null(),
        type_: 0,
        param_pointer: std::ptr::null_mut(),
    };
}
