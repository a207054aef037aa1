//! A child process in its own process group, killed (group-wide) on drop.

use std::io;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct Proc {
    name: &'static str,
    child: Mutex<Child>,
    pid: i32,
    log: PathBuf,
}

impl Proc {
    /// Starts `cmd` in a new process group with stdout and stderr to `log`.
    pub fn spawn(name: &'static str, mut cmd: Command, log: &Path) -> io::Result<Proc> {
        use std::os::unix::process::CommandExt;
        let out = std::fs::File::create(log)?;
        cmd.stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .process_group(0);
        let child = cmd
            .spawn()
            .map_err(|e| io::Error::new(e.kind(), format!("starting {name} ({cmd:?}): {e}")))?;
        Ok(Proc {
            name,
            pid: child.id() as i32,
            child: Mutex::new(child),
            log: log.to_path_buf(),
        })
    }

    pub fn pid(&self) -> i32 {
        self.pid
    }

    pub fn name(&self) -> &'static str {
        self.name
    }

    pub fn log_path(&self) -> &Path {
        &self.log
    }

    pub fn log(&self) -> String {
        std::fs::read(&self.log)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    }

    /// `Some(status)` once the main process has exited.
    pub fn exited(&self) -> Option<ExitStatus> {
        self.child.lock().unwrap().try_wait().ok().flatten()
    }

    /// Fails when the process has already exited.
    pub fn check_alive(&self) -> io::Result<()> {
        match self.exited() {
            None => Ok(()),
            Some(st) => Err(io::Error::other(format!(
                "{} exited early ({st})",
                self.name
            ))),
        }
    }

    /// SIGTERM to the whole group; once the main process is gone (or after a
    /// grace period) SIGKILL to whatever is left of the group; then reap.
    pub fn stop(&self) {
        let mut child = self.child.lock().unwrap();
        // SAFETY: signalling our own child's process group.
        unsafe { libc::kill(-self.pid, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline && matches!(child.try_wait(), Ok(None)) {
            std::thread::sleep(Duration::from_millis(20));
        }
        // SAFETY: as above; stragglers (or zombies) only.
        unsafe { libc::kill(-self.pid, libc::SIGKILL) };
        let _ = child.wait();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The last `n` lines of `text`.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Polls `f` until it returns `Some`, or fails at `deadline` with `what`.
pub fn wait_until<T>(
    what: &str,
    timeout: Duration,
    mut f: impl FnMut() -> io::Result<Option<T>>,
) -> io::Result<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f()? {
            return Ok(v);
        }
        if Instant::now() >= deadline {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("timed out after {timeout:?} waiting for {what}"),
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
