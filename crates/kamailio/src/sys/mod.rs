//! Raw `#[repr(C)]` mirrors of the Kamailio structures this project touches, written from the
//! host headers and proven field by field by `tests/layout.rs`. Everything here is plain data;
//! the safe wrapper lives in the parent modules.

mod core;
mod kemi;
mod log;
mod pua;
mod pv;
mod xmpp;

pub use self::core::*;
pub use self::kemi::*;
pub use self::log::*;
pub use self::pua::*;
pub use self::pv::*;
pub use self::xmpp::*;
