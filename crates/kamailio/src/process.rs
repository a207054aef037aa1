//! Extra processes a module adds to Kamailio: reserved in `mod_init`, forked from
//! `child_init(PROC_MAIN)` as a loop the core drives with config updates between calls.

use std::ffi::CStr;
use std::time::Duration;

use libc::c_int;

use crate::sys::{PROC_NOCHLDINIT, UtimerFunction};
use crate::{HostError, symbols};

/// Reserves `count` process slots and registers `count` children with the config framework.
/// Call it from `mod_init` only: the core refuses once the process table exists, and a config
/// child registered after fork could miss config changes.
pub fn reserve(count: c_int) -> Result<(), HostError> {
    let process = symbols::process()?;
    // SAFETY: plain integer arguments; called from mod_init in the main process.
    let rc = unsafe { (process.register_procs)(count) };
    if rc < 0 {
        return Err(HostError::Call("register_procs", rc));
    }
    // SAFETY: as above; pairs with the cfg_child_init that fork_basic_utimer does in the child.
    unsafe { (process.cfg_register_child)(count) };
    Ok(())
}

/// Forks a process named `desc` (no module `child_init` runs in it) that calls `tick` forever,
/// `interval` apart, with `cfg_update()` before each call; `make_sock` gives it a socket to
/// tcp_main so it can send SIP over TCP. Call it from `child_init(PROC_MAIN)` after [`reserve`].
///
/// Returns the child's pid, in the parent only: the child never returns from here. If the child
/// cannot initialise its config it exits at once (the core then shuts Kamailio down, as for any
/// dead child) instead of returning into the main process's code.
pub fn fork_timer_loop(
    desc: &'static CStr,
    make_sock: bool,
    tick: UtimerFunction,
    interval: Duration,
) -> Result<c_int, HostError> {
    let process = symbols::process()?;
    let micros = c_int::try_from(interval.as_micros()).unwrap_or(c_int::MAX);
    // SAFETY: getpid has no preconditions.
    let parent = unsafe { libc::getpid() };
    // SAFETY: desc is a static C string (the core copies it into its process table); tick has
    // the utimer_function signature and takes no parameter.
    let pid = unsafe {
        (process.fork_basic_utimer)(
            PROC_NOCHLDINIT,
            desc.as_ptr().cast_mut(),
            c_int::from(make_sock),
            tick,
            std::ptr::null_mut(),
            micros,
        )
    };
    // SAFETY: as above.
    if pid < 0 && unsafe { libc::getpid() } != parent {
        log::error!(
            "{}: cfg_child_init failed in the new process",
            desc.to_string_lossy()
        );
        // SAFETY: leaving the forked child without running the main process's cleanup.
        unsafe { libc::_exit(-1) };
    }
    if pid < 0 {
        return Err(HostError::Call("fork_basic_utimer", pid));
    }
    Ok(pid)
}
