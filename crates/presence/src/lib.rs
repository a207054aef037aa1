//! Pure translation between SIP/SIMPLE presence and XMPP presence: bytes in, values or bytes out.
#![forbid(unsafe_code)]
