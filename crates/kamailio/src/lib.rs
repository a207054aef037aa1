//! Kamailio's module ABI for Rust.
//!
//! Two layers: [`sys`] holds the raw `#[repr(C)]` mirrors of the host's structures (proven by
//! `tests/layout.rs` against the real headers of every supported host); the other modules are a
//! thin safe wrapper over them: logging through the host's logger ([`log`]), panic containment
//! for every `extern "C"` entry ([`guard`]), pseudo-variables ([`pv`]), string parameters
//! ([`fixup`]), other modules ([`modules`], [`pua`], [`xmpp`], [`kemi`]), extra processes
//! ([`process`]), the clock every process agrees on ([`clock`]) and memory shared by all
//! Kamailio processes ([`shared`], [`shared_atomics`]). All of this crate's `unsafe` sits in
//! these modules.

pub mod clock;
pub mod exports;
pub mod fixup;
pub mod guard;
pub mod kemi;
pub mod log;
pub mod modules;
pub mod msg;
pub mod process;
pub mod pua;
pub mod pv;
pub mod shared;
pub mod shared_atomics;
pub mod symbols;
pub mod sys;
pub mod xmpp;

pub use msg::{Reply, SipMsg};

/// The host this build targets: its version-check strings (chosen by build.rs).
pub mod host {
    include!(concat!(env!("OUT_DIR"), "/host.rs"));
}

/// What can go wrong between a module and its host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostError {
    /// The core does not export this symbol (not running inside Kamailio, or an unsupported one).
    MissingSymbol(&'static str),
    /// A module this one needs is not loaded.
    NotLoaded(&'static str),
    /// A module this one needs is loaded after it, so its init has not run yet.
    LoadedAfter(&'static str),
    /// A module's `bind_*` failed or left functions unset.
    BindFailed(&'static str),
    /// A pseudo-variable the core does not know (is the `pv` module loaded?).
    UnknownPv(&'static str),
    /// Reading a pseudo-variable failed.
    PvRead(&'static str),
    MissingParam,
    ParamEval,
    /// A host function returned an error code.
    Call(&'static str, i32),
}

impl std::fmt::Display for HostError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::MissingSymbol(s) => write!(f, "the Kamailio core does not export `{s}`"),
            Self::NotLoaded(m) => write!(
                f,
                "module `{m}` is not loaded: loadmodule it before this one"
            ),
            Self::LoadedAfter(m) => write!(
                f,
                "module `{m}` is loaded after this one: move its loadmodule line before this module's"
            ),
            Self::BindFailed(m) => write!(f, "binding the API of module `{m}` failed"),
            Self::UnknownPv(n) => {
                write!(
                    f,
                    "pseudo-variable `{n}` is unknown: is the `pv` module loaded?"
                )
            }
            Self::PvRead(n) => write!(f, "reading pseudo-variable `{n}` failed"),
            Self::MissingParam => write!(f, "missing function parameter"),
            Self::ParamEval => write!(f, "evaluating a function parameter failed"),
            Self::Call(what, code) => write!(f, "{what} failed with code {code}"),
        }
    }
}

impl std::error::Error for HostError {}

/// Exports the `module_version` and `module_flags` data symbols the core checks on
/// `loadmodule`, with the strings of the host this build targets.
#[macro_export]
macro_rules! export_version_check {
    () => {
        #[allow(non_upper_case_globals)]
        #[unsafe(no_mangle)]
        pub static module_version: $crate::sys::CStrSymbol =
            $crate::sys::CStrSymbol($crate::host::MODULE_VERSION.as_ptr());
        #[allow(non_upper_case_globals)]
        #[unsafe(no_mangle)]
        pub static module_flags: $crate::sys::CStrSymbol =
            $crate::sys::CStrSymbol($crate::host::MODULE_FLAGS.as_ptr());
        /// Exported like the C `MODULE_VERSION` macro does; the core does not read it.
        #[allow(non_upper_case_globals)]
        #[unsafe(no_mangle)]
        pub static module_interface_ver: ::libc::c_uint = 4;
    };
}
