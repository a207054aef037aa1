//! The worker -> manager channel: a non-blocking `AF_UNIX` datagram socketpair made in
//! `mod_init`, so every Kamailio process inherits it. One datagram is one stanza, ready for the
//! XMPP server (UTF-8, no NUL); a worker never waits on it.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// Largest stanza one datagram carries: far below the XMPP server's limit, and one datagram
/// fits the default socket buffer.
pub const MAX_DATAGRAM: usize = 64 * 1024;
/// Asked for both ends; the kernel caps it at `net.core.wmem_max`. All workers share the
/// sending end, so this bounds what waits for the manager in total.
const SEND_BUFFER: libc::c_int = 4 << 20;

/// The socketpair. Workers send on one end, the manager receives on the other.
pub struct Ipc {
    worker_end: OwnedFd,
    manager_end: OwnedFd,
}

/// Why a stanza was not sent.
#[derive(Debug)]
pub enum SendError {
    /// The socket buffer is full: the manager is not keeping up.
    Full,
    Io(io::Error),
}

/// What one receive found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Received {
    /// A datagram of this many bytes is at the start of the buffer.
    Datagram(usize),
    /// A datagram longer than the buffer (its real length) was discarded.
    Truncated(usize),
    /// Nothing waiting.
    Empty,
}

impl Ipc {
    /// Creates the socketpair, both ends non-blocking and close-on-exec.
    pub fn new() -> io::Result<Self> {
        let mut fds = [-1; 2];
        // SAFETY: socketpair writes two descriptors into `fds` on success.
        let rc = unsafe {
            libc::socketpair(
                libc::AF_UNIX,
                libc::SOCK_DGRAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
                0,
                fds.as_mut_ptr(),
            )
        };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: two fresh descriptors that nothing else owns.
        let (worker_end, manager_end) =
            unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        let size = SEND_BUFFER;
        // SAFETY: setsockopt on our own socket with an int option; a smaller buffer still works.
        unsafe {
            libc::setsockopt(
                worker_end.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_SNDBUF,
                (&raw const size).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            );
        }
        Ok(Self {
            worker_end,
            manager_end,
        })
    }

    /// Sends one datagram without ever blocking.
    pub fn send(&self, datagram: &[u8]) -> Result<(), SendError> {
        loop {
            // SAFETY: sending from a live buffer on our own socket.
            let n = unsafe {
                libc::send(
                    self.worker_end.as_raw_fd(),
                    datagram.as_ptr().cast(),
                    datagram.len(),
                    libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
                )
            };
            if n >= 0 {
                return Ok(());
            }
            let e = io::Error::last_os_error();
            match e.raw_os_error() {
                Some(libc::EINTR) => continue,
                Some(libc::EAGAIN | libc::ENOBUFS) => return Err(SendError::Full),
                _ => return Err(SendError::Io(e)),
            }
        }
    }

    /// Receives one datagram into `buf` without blocking.
    pub fn receive(&self, buf: &mut [u8]) -> io::Result<Received> {
        loop {
            // SAFETY: receiving into a live buffer of `buf.len()` bytes; MSG_TRUNC makes the
            // kernel return the datagram's real length.
            let n = unsafe {
                libc::recv(
                    self.manager_end.as_raw_fd(),
                    buf.as_mut_ptr().cast(),
                    buf.len(),
                    libc::MSG_DONTWAIT | libc::MSG_TRUNC,
                )
            };
            if n >= 0 {
                let n = n as usize;
                return Ok(if n > buf.len() {
                    Received::Truncated(n)
                } else {
                    Received::Datagram(n)
                });
            }
            let e = io::Error::last_os_error();
            match e.raw_os_error() {
                Some(libc::EINTR) => continue,
                Some(libc::EAGAIN) => return Ok(Received::Empty),
                _ => return Err(e),
            }
        }
    }

    /// The manager's end, to poll for input.
    pub fn manager_fd(&self) -> RawFd {
        self.manager_end.as_raw_fd()
    }
}
