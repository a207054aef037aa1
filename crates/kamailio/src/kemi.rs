//! Other modules' functions found through the core's KEMI export tables: a stable way into a
//! module, where its C API struct (`tm_binds`, `uac_req_t`) changes layout between releases.

use std::ffi::CString;

use libc::{c_int, c_void};

use crate::sys::*;
use crate::{HostError, symbols};

/// Reads a `str` of the core's tables.
///
/// # Safety
/// `s` must be a `str` the core keeps alive for the process's lifetime (or `s.s` NULL).
unsafe fn table_str(s: &Str) -> &'static [u8] {
    if s.s.is_null() || s.len <= 0 {
        return &[];
    }
    // SAFETY: the caller's contract.
    unsafe { std::slice::from_raw_parts(s.s.cast::<u8>(), s.len as usize) }
}

/// The KEMI export `module.function`, if that module registered it. Modules register their
/// KEMI exports when loaded, so this works from any `mod_init`, whatever the load order.
pub fn find(module: &str, function: &str) -> Result<Option<&'static SrKemi>, HostError> {
    let kemi = symbols::kemi()?;
    // SAFETY: the core's module array has `size` entries, filled at module load and never
    // freed; each export array ends with an entry whose fname.s is NULL.
    unsafe {
        let size = (kemi.sr_kemi_modules_size_get)();
        let modules = (kemi.sr_kemi_modules_get)();
        if modules.is_null() || size <= 0 {
            return Ok(None);
        }
        for m in std::slice::from_raw_parts(modules, size as usize) {
            if table_str(&m.mname) != module.as_bytes() || m.kexp.is_null() {
                continue;
            }
            let mut export = m.kexp;
            while !(*export).fname.s.is_null() {
                if table_str(&(*export).fname) == function.as_bytes() {
                    return Ok(Some(&*export));
                }
                export = export.add(1);
            }
        }
    }
    Ok(None)
}

/// `ki_t_uac_send(msg, method, ruri, nexthop, ssock, hdrs, body)`.
type UacSendFn = unsafe extern "C" fn(
    *mut SipMsgRaw,
    *mut Str,
    *mut Str,
    *mut Str,
    *mut Str,
    *mut Str,
    *mut Str,
) -> c_int;

/// tm's `t_uac_send` KEMI export: sends a stateful request that belongs to no dialog.
#[derive(Clone, Copy)]
pub struct TmUacSend {
    func: UacSendFn,
}

// SAFETY: a function pointer into tm; Kamailio processes are single-threaded.
unsafe impl Send for TmUacSend {}
unsafe impl Sync for TmUacSend {}

/// A request for [`TmUacSend::send`].
#[derive(Debug, Clone, Copy)]
pub struct UacRequest<'a> {
    pub method: &'a str,
    pub ruri: &'a str,
    /// Next hop URI; empty for none (route by the Request-URI).
    pub next_hop: &'a str,
    /// Header lines, each ending in CRLF: `From:` and `To:` required, `Content-Type:` with a
    /// body, no `Content-Length:` (tm adds it).
    pub headers: &'a str,
    pub body: &'a [u8],
}

impl TmUacSend {
    /// Finds `tm.t_uac_send` and checks its signature (six `str` parameters, int result).
    pub fn find() -> Result<Self, HostError> {
        let export = find("tm", "t_uac_send")?.ok_or(HostError::NotLoaded("tm"))?;
        let strs = export.ptypes.iter().all(|&t| t == SR_KEMIP_STR);
        if !strs || export.rtype != SR_KEMIP_INT || export.func.is_null() {
            return Err(HostError::BindFailed(
                "tm (t_uac_send has an unknown signature)",
            ));
        }
        // SAFETY: tm registers ki_t_uac_send with exactly this signature (checked above through
        // its declared parameter and return types).
        let func = unsafe { std::mem::transmute::<*mut c_void, UacSendFn>(export.func) };
        Ok(Self { func })
    }

    /// Sends `request`; tm generates the Call-ID, From tag and CSeq. Text fields must not hold
    /// NUL bytes.
    pub fn send(&self, request: &UacRequest<'_>) -> Result<(), HostError> {
        let text = |s: &str| {
            CString::new(s).map_err(|_| HostError::Call("t_uac_send (NUL in a field)", -1))
        };
        // tm logs some of these with "%s" and rewrites nexthop and ssock: give it private,
        // NUL-terminated copies.
        let fields = [
            text(request.method)?,
            text(request.ruri)?,
            text(request.next_hop)?,
            text("")?,
            text(request.headers)?,
        ];
        let mut body_buf = Vec::with_capacity(request.body.len() + 1);
        body_buf.extend_from_slice(request.body);
        body_buf.push(0);
        let as_str = |c: &CString| Str {
            s: c.as_ptr().cast_mut(),
            len: c.as_bytes().len() as c_int,
        };
        let [mut method, mut ruri, mut next_hop, mut ssock, mut headers] =
            fields.each_ref().map(as_str);
        let mut body = Str {
            s: body_buf.as_mut_ptr().cast(),
            len: request.body.len() as c_int,
        };
        // SAFETY: ki_t_uac_send ignores msg; every str points at a live buffer for the call.
        let rc = unsafe {
            (self.func)(
                std::ptr::null_mut(),
                &mut method,
                &mut ruri,
                &mut next_hop,
                &mut ssock,
                &mut headers,
                &mut body,
            )
        };
        if rc < 0 {
            return Err(HostError::Call("t_uac_send", rc));
        }
        Ok(())
    }
}
