//! A SIP message handed over by the host, as an opaque handle (its layout is not ours).

use std::marker::PhantomData;
use std::ptr::NonNull;

use crate::sys::{FAKED_REPLY, SipMsgRaw};

/// A readable `struct sip_msg`, valid for the duration of the host's call (`'a`).
pub struct SipMsg<'a> {
    raw: NonNull<SipMsgRaw>,
    _call: PhantomData<&'a mut SipMsgRaw>,
}

/// What the host handed over as a reply.
pub enum Reply<'a> {
    Message(SipMsg<'a>),
    /// tm's locally generated timeout (`FAKED_REPLY`): there is no message to read.
    Faked,
    Missing,
}

impl<'a> SipMsg<'a> {
    /// # Safety
    /// `raw` must be NULL, `FAKED_REPLY`, or a message the host keeps alive for `'a`.
    pub unsafe fn from_raw(raw: *mut SipMsgRaw) -> Option<Self> {
        if raw == FAKED_REPLY {
            return None;
        }
        NonNull::new(raw).map(|raw| Self {
            raw,
            _call: PhantomData,
        })
    }

    pub(crate) fn as_ptr(&self) -> *mut SipMsgRaw {
        self.raw.as_ptr()
    }
}

impl<'a> Reply<'a> {
    /// # Safety
    /// As [`SipMsg::from_raw`].
    pub unsafe fn from_raw(raw: *mut SipMsgRaw) -> Self {
        if raw == FAKED_REPLY {
            Reply::Faked
        } else {
            // SAFETY: forwarded contract.
            match unsafe { SipMsg::from_raw(raw) } {
                Some(m) => Reply::Message(m),
                None => Reply::Missing,
            }
        }
    }
}
