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
    /// grace period) SIGKILL to whatever is left of the group and of the main process's
    /// descendants (some leave the group, see [`Proc::terminate`]); then reap.
    pub fn stop(&self) {
        let mut child = self.child.lock().unwrap();
        let tree = self.tree();
        // SAFETY: signalling our own child's process group.
        unsafe { libc::kill(-self.pid, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline && matches!(child.try_wait(), Ok(None)) {
            std::thread::sleep(Duration::from_millis(20));
        }
        self.kill_rest(&tree);
        let _ = child.wait();
        self.wait_gone(&tree);
    }

    /// Clean stop: `signal` (e.g. SIGTERM) to the main process only (it shuts its children
    /// down itself); after `grace` without an exit, SIGKILL. Then SIGKILL to whatever is left
    /// of the group and of the descendants the main process had when signalled (Erlang's
    /// `erl_child_setup` starts a session of its own, and with it every port program:
    /// killing the group alone would miss them); reap; returns (with how the main process
    /// ended) once none of them runs any more.
    pub fn terminate(&self, signal: i32, grace: Duration) -> Option<ExitStatus> {
        let mut child = self.child.lock().unwrap();
        let tree = self.tree();
        // SAFETY: signalling our own child.
        unsafe { libc::kill(self.pid, signal) };
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline && matches!(child.try_wait(), Ok(None)) {
            std::thread::sleep(Duration::from_millis(10));
        }
        self.kill_rest(&tree);
        let st = child.wait().ok();
        self.wait_gone(&tree);
        st
    }

    /// SIGKILL to the whole group and every descendant at once, then reap the main process;
    /// returns once none of them runs any more.
    pub fn kill(&self) -> Option<ExitStatus> {
        let mut child = self.child.lock().unwrap();
        let tree = self.tree();
        self.kill_rest(&tree);
        let st = child.wait().ok();
        self.wait_gone(&tree);
        st
    }

    /// The group's processes and the main process's descendants, as (pid, start time).
    fn tree(&self) -> Vec<(i32, u64)> {
        let procs = proc_table();
        let mut out: Vec<(i32, u64)> = vec![];
        let mut frontier = vec![self.pid];
        for p in &procs {
            if p.pgrp == self.pid && p.pid != self.pid {
                out.push((p.pid, p.start));
            }
        }
        while let Some(parent) = frontier.pop() {
            for p in procs.iter().filter(|p| p.ppid == parent) {
                if !out.iter().any(|(pid, _)| *pid == p.pid) {
                    out.push((p.pid, p.start));
                }
                frontier.push(p.pid);
            }
        }
        out
    }

    /// SIGKILL to the group, to those of `tree` that still are the same processes, and to
    /// every process of the sessions some of them lead (a session a descendant started, like
    /// `erl_child_setup`'s, gains processes after `tree` was taken).
    fn kill_rest(&self, tree: &[(i32, u64)]) {
        // SAFETY: our own child's process group; stragglers (or zombies) only.
        unsafe { libc::kill(-self.pid, libc::SIGKILL) };
        for (pid, start) in tree {
            if proc_info(*pid).is_some_and(|p| p.start == *start) {
                // SAFETY: a descendant of our child, checked by its start time against pid
                // reuse.
                unsafe { libc::kill(*pid, libc::SIGKILL) };
            }
        }
        for p in self.session_members(tree) {
            // SAFETY: a process of a session started by a descendant of our child.
            unsafe { libc::kill(p, libc::SIGKILL) };
        }
    }

    /// Live processes of the sessions led by members of `tree` (never this process's own
    /// session, which the main process shares).
    fn session_members(&self, tree: &[(i32, u64)]) -> Vec<i32> {
        // SAFETY: plain syscall.
        let own = unsafe { libc::getsid(0) };
        let leaders: Vec<i32> = tree
            .iter()
            .map(|(pid, _)| *pid)
            .filter(|pid| *pid != own)
            .collect();
        proc_table()
            .into_iter()
            .filter(|p| !p.dead() && p.session != own && leaders.contains(&p.session))
            .map(|p| p.pid)
            .collect()
    }

    /// Waits (at most 2 s) until none of `tree` (pid, start time) and of the sessions its
    /// members lead runs any more.
    fn wait_gone(&self, tree: &[(i32, u64)]) {
        let deadline = Instant::now() + Duration::from_secs(2);
        let running = || {
            tree.iter()
                .any(|(pid, start)| proc_info(*pid).is_some_and(|p| p.start == *start && !p.dead()))
                || !self.session_members(tree).is_empty()
        };
        while Instant::now() < deadline && running() {
            for p in self.session_members(tree) {
                // SAFETY: as in kill_rest.
                unsafe { libc::kill(p, libc::SIGKILL) };
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Pids of the group's processes that are still running (zombies left out).
    pub fn live_group_members(&self) -> Vec<i32> {
        live_group_members(self.pid)
    }
}

/// What `/proc/<pid>/stat` says about a process.
struct ProcInfo {
    pid: i32,
    state: char,
    ppid: i32,
    pgrp: i32,
    session: i32,
    /// Start time (clock ticks after boot): tells a reused pid apart.
    start: u64,
}

impl ProcInfo {
    fn dead(&self) -> bool {
        matches!(self.state, 'Z' | 'X')
    }
}

fn proc_info(pid: i32) -> Option<ProcInfo> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // "pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime
    // stime cutime cstime priority nice threads itrealvalue starttime ...": comm may contain
    // anything, so split after the last ')'.
    let rest: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    Some(ProcInfo {
        pid,
        state: rest.first()?.chars().next()?,
        ppid: rest.get(1)?.parse().ok()?,
        pgrp: rest.get(2)?.parse().ok()?,
        session: rest.get(3)?.parse().ok()?,
        start: rest.get(19)?.parse().ok()?,
    })
}

fn proc_table() -> Vec<ProcInfo> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(proc_info)
        .collect()
}

/// Pids of the processes of group `pgid` that are not zombies (from `/proc/<pid>/stat`).
pub fn live_group_members(pgid: i32) -> Vec<i32> {
    proc_table()
        .into_iter()
        .filter(|p| p.pgrp == pgid && !p.dead())
        .map(|p| p.pid)
        .collect()
}

/// Length of a file in bytes (0 when it does not exist): a log offset.
pub fn file_len(p: &Path) -> u64 {
    std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
}

/// The text of a file from byte `offset` on (all of it when the file is shorter, i.e. was
/// truncated or recreated since the offset was taken).
pub fn read_from(p: &Path, offset: u64) -> String {
    let bytes = std::fs::read(p).unwrap_or_default();
    let start = usize::try_from(offset)
        .ok()
        .filter(|o| *o <= bytes.len())
        .unwrap_or(0);
    String::from_utf8_lossy(&bytes[start..]).into_owned()
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
