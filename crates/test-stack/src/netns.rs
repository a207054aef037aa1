//! Private network namespace for the calling thread, with `lo` up.

use std::io;

/// The inode of the calling thread's network namespace (identifies it).
pub fn current_netns_id() -> io::Result<u64> {
    use std::os::unix::fs::MetadataExt;
    Ok(std::fs::metadata("/proc/thread-self/ns/net")?.ino())
}

/// Moves the calling thread (and every process or thread it starts from now
/// on) into a new, empty network namespace and brings its loopback up, so a
/// test can use fixed ports without meeting any other test. Needs root
/// (CAP_SYS_ADMIN). Returns the new namespace's id.
pub fn enter_private_netns() -> io::Result<u64> {
    let before = current_netns_id()?;
    // SAFETY: plain syscall; CLONE_NEWNET only changes the calling thread.
    if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
        let e = io::Error::last_os_error();
        return Err(io::Error::new(
            e.kind(),
            format!("unshare(CLONE_NEWNET) failed (the real-stack tests must run as root): {e}"),
        ));
    }
    let after = current_netns_id()?;
    if after == before {
        return Err(io::Error::other(
            "unshare(CLONE_NEWNET) returned 0 but the thread is still in the old namespace",
        ));
    }
    set_loopback_up()?;
    Ok(after)
}

/// `ip link set lo up`, done with the ioctl so no helper binary is needed.
fn set_loopback_up() -> io::Result<()> {
    // SAFETY: a socket only used for the two ioctls below, closed at the end;
    // ifreq is plain old data and zero is a valid value for it.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        let mut req: libc::ifreq = std::mem::zeroed();
        for (dst, src) in req.ifr_name.iter_mut().zip(b"lo\0") {
            *dst = *src as libc::c_char;
        }
        let mut res = libc::ioctl(fd, libc::SIOCGIFFLAGS as _, &mut req);
        if res == 0 {
            req.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short;
            res = libc::ioctl(fd, libc::SIOCSIFFLAGS as _, &mut req);
        }
        let err = io::Error::last_os_error();
        libc::close(fd);
        if res != 0 {
            return Err(io::Error::new(err.kind(), format!("bringing up lo: {err}")));
        }
    }
    Ok(())
}
