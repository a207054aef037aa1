//! One test's private stack: network namespace, temp dir, an XMPP server (Prosody or ejabberd)
//! and Kamailio, torn down on drop.

use crate::config::{StackConfig, XmppServer};
use crate::netns;
use crate::process::{Proc, file_len, read_from, tail, wait_until};
use crate::sip_ua::SipUa;
use crate::temp_dir;
use crate::xmpp_client::XmppClient;
use crate::{ejabberd, kamailio, prosody};
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Lines of each log printed when a test panics with a stack alive.
const TAIL_LINES: usize = 200;

/// Grace for a clean stop of the XMPP server before SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(10);

/// A running stack (see the crate docs); everything it started is killed when it drops.
pub struct Stack {
    dir: PathBuf,
    netns: u64,
    cfg: StackConfig,
    // Drop stops Kamailio first, so its XMPP link closes before the XMPP server goes.
    kamailio: Option<Proc>,
    xmpp: Option<Proc>,
    /// How many times the XMPP server was started.
    xmpp_starts: u32,
    /// Length of the XMPP server's log right before its latest start.
    xmpp_log_mark: u64,
    /// How often [`Stack::restart_kamailio`] ran.
    kamailio_restarts: u32,
}

impl Stack {
    /// Starts a stack for the calling thread, or panics with the logs.
    ///
    /// The calling thread moves into a new network namespace first; create
    /// the test's [`SipUa`]s and [`XmppClient`]s on this same thread (or on
    /// threads it starts afterwards), because sockets belong to the
    /// namespace of the thread that creates them.
    pub fn start(cfg: StackConfig) -> Stack {
        match Self::try_start(cfg) {
            Ok(s) => s,
            Err(e) => panic!("test stack failed to start: {e}"),
        }
    }

    /// [`Stack::start`] that returns the error (with log tails and the kept dir) instead.
    pub fn try_start(cfg: StackConfig) -> io::Result<Stack> {
        let netns = netns::enter_private_netns()?;
        let dir = temp_dir::fresh("stack", "")?;
        let timeout = cfg.start_timeout;
        let mut stack = Stack {
            dir: dir.clone(),
            netns,
            cfg,
            kamailio: None,
            xmpp: None,
            xmpp_starts: 0,
            xmpp_log_mark: 0,
            kamailio_restarts: 0,
        };
        let res = (|| -> io::Result<()> {
            match stack.cfg.xmpp_server {
                XmppServer::Prosody => prosody::prepare(&dir)?,
                XmppServer::Ejabberd => ejabberd::prepare(&dir)?,
            }
            stack.try_start_xmpp_server()?;
            stack.kamailio = Some(kamailio::start(&stack.cfg, &dir)?);
            stack.wait_component_link(timeout)
        })();
        match res {
            Ok(()) => Ok(stack),
            Err(e) => {
                let server = stack.cfg.xmpp_server.name();
                let msg = format!(
                    "{e}\n--- kamailio.log (tail) ---\n{}\n--- {server} log (tail) ---\n{}\n\
                     --- {server} stdout/stderr ---\n{}\n(files kept in {})",
                    tail(&stack.kamailio_log(), 80),
                    tail(&stack.xmpp_server_log(), 40),
                    tail(&read(&stack.xmpp_out_path(stack.xmpp_starts.max(1))), 20),
                    dir.display()
                );
                stack.kamailio.take();
                stack.xmpp.take();
                std::mem::forget(stack); // keep the directory for inspection
                Err(io::Error::new(e.kind(), msg))
            }
        }
    }

    /// Which XMPP server this stack runs.
    pub fn xmpp_server(&self) -> XmppServer {
        self.cfg.xmpp_server
    }

    /// Pid of the XMPP server's main process (Prosody's Lua, ejabberd's `beam.smp`), `None`
    /// while it is stopped. It leads the process group of everything the server started.
    pub fn xmpp_server_pid(&self) -> Option<i32> {
        self.xmpp.as_ref().map(Proc::pid)
    }

    /// The XMPP server's log file (all starts).
    pub fn xmpp_server_log_path(&self) -> PathBuf {
        match self.cfg.xmpp_server {
            XmppServer::Prosody => prosody::log_path(&self.dir),
            XmppServer::Ejabberd => ejabberd::log_path(&self.dir),
        }
    }

    /// The XMPP server's log (Prosody's `prosody.log` or ejabberd's `ejabberd/ejabberd.log`),
    /// all starts. Both log at debug level; ejabberd's has every stanza.
    pub fn xmpp_server_log(&self) -> String {
        read(&self.xmpp_server_log_path())
    }

    /// What the XMPP server logged since its latest start (or since the latest
    /// [`Stack::restart_kamailio`]).
    pub fn xmpp_server_log_since_start(&self) -> String {
        read_from(&self.xmpp_server_log_path(), self.xmpp_log_mark)
    }

    /// stdout/stderr of start number `n` (1 = the first).
    fn xmpp_out_path(&self, n: u32) -> PathBuf {
        let suffix = if n <= 1 {
            String::new()
        } else {
            format!(".{n}")
        };
        match self.cfg.xmpp_server {
            XmppServer::Prosody => self.dir.join(format!("prosody{suffix}.out")),
            XmppServer::Ejabberd => ejabberd::home(&self.dir).join(format!("ejabberd{suffix}.out")),
        }
    }

    /// Stops the XMPP server cleanly, as its service manager would (ejabberd: SIGTERM;
    /// Prosody: [`prosody::SHUTDOWN_SIGNAL`]; SIGKILL after 10 s): it closes the client
    /// streams and the component link with `system-shutdown`. Every process of it is gone
    /// when this returns. Its data stays for [`Stack::start_xmpp_server`]. Panics when
    /// it is not running.
    pub fn stop_xmpp_server(&mut self) {
        let p = self.xmpp.take().expect("the XMPP server is not running");
        let signal = match self.cfg.xmpp_server {
            XmppServer::Prosody => prosody::SHUTDOWN_SIGNAL,
            XmppServer::Ejabberd => libc::SIGTERM,
        };
        p.terminate(signal, STOP_GRACE);
    }

    /// Kills the XMPP server with SIGKILL (its whole process group); every process of it is
    /// gone when this returns. Panics when it is not running.
    pub fn kill_xmpp_server(&mut self) {
        let p = self.xmpp.take().expect("the XMPP server is not running");
        p.kill();
    }

    /// Starts the XMPP server again with the same config and data (rosters and
    /// subscriptions survive); returns once c2s accepts connections, without waiting for
    /// the gateway's component link (see [`Stack::wait_component_link`]). Panics (with the
    /// server's log) when it fails or is already running.
    pub fn start_xmpp_server(&mut self) {
        assert!(self.xmpp.is_none(), "the XMPP server is already running");
        if let Err(e) = self.try_start_xmpp_server() {
            panic!(
                "restarting {} failed: {e}\n--- log (tail) ---\n{}\n--- stdout/stderr ---\n{}",
                self.cfg.xmpp_server.name(),
                tail(&self.xmpp_server_log_since_start(), 60),
                tail(&read(&self.xmpp_out_path(self.xmpp_starts)), 20)
            );
        }
    }

    fn try_start_xmpp_server(&mut self) -> io::Result<()> {
        self.xmpp_starts += 1;
        self.xmpp_log_mark = file_len(&self.xmpp_server_log_path());
        let out = self.xmpp_out_path(self.xmpp_starts);
        self.xmpp = Some(match self.cfg.xmpp_server {
            XmppServer::Prosody => prosody::spawn(&self.cfg, &self.dir, &out)?,
            XmppServer::Ejabberd => ejabberd::spawn(&self.cfg, &self.dir, &out)?,
        });
        Ok(())
    }

    /// Restarts Kamailio with the same config: SIGTERM (every process gone), then a fresh
    /// start with fresh db_text tables, so nothing of the gateway's, pua's or the presence
    /// server's memory survives (no database). The log so far moves to
    /// `kamailio-before-restart-<n>.log`. Returns once Kamailio answers OPTIONS and its
    /// component link is authenticated again. Panics (with the log) when that fails.
    pub fn restart_kamailio(&mut self) {
        self.kamailio.take().expect("kamailio started").stop();
        self.kamailio_restarts += 1;
        let kept = self.dir.join(format!(
            "kamailio-before-restart-{}.log",
            self.kamailio_restarts
        ));
        std::fs::rename(self.dir.join("kamailio.log"), kept).expect("keeping kamailio.log");
        // The XMPP server's log is read from here on for the new component link.
        self.xmpp_log_mark = file_len(&self.xmpp_server_log_path());
        let started = kamailio::start(&self.cfg, &self.dir).and_then(|k| {
            self.kamailio = Some(k);
            self.wait_component_link(self.cfg.start_timeout)
        });
        if let Err(e) = started {
            panic!(
                "restarting Kamailio failed: {e}\n--- kamailio.log (tail) ---\n{}",
                tail(&self.kamailio_log(), 80)
            );
        }
    }

    /// its latest start (the C xmpp module retries every 3 s while the server is down).
    pub fn wait_component_link(&self, timeout: Duration) -> io::Result<()> {
        let marker = match self.cfg.xmpp_server {
            XmppServer::Prosody => prosody::COMPONENT_AUTHENTICATED,
            XmppServer::Ejabberd => ejabberd::COMPONENT_AUTHENTICATED,
        };
        wait_until(
            &format!(
                "the xmpp module's component link ({} log)",
                self.cfg.xmpp_server.name()
            ),
            timeout,
            || {
                if let Some(k) = &self.kamailio {
                    k.check_alive()?;
                }
                let p = self
                    .xmpp
                    .as_ref()
                    .ok_or_else(|| io::Error::other("the XMPP server is not running"))?;
                p.check_alive()?;
                Ok(self
                    .xmpp_server_log_since_start()
                    .contains(marker)
                    .then_some(()))
            },
        )
    }

    /// The stack's temp dir (configs, db_text tables, logs).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Id (inode) of the stack's network namespace.
    pub fn netns_id(&self) -> u64 {
        self.netns
    }

    /// Panics unless the calling thread is in this stack's namespace.
    pub fn assert_in_netns(&self) {
        let cur = netns::current_netns_id().expect("reading /proc/thread-self/ns/net");
        assert_eq!(
            cur, self.netns,
            "this thread is not in the stack's network namespace: create SIP UAs and XMPP \
             clients on the thread that called Stack::start"
        );
    }

    fn kamailio(&self) -> &Proc {
        self.kamailio.as_ref().expect("kamailio started")
    }

    pub fn kamailio_pid(&self) -> i32 {
        self.kamailio().pid()
    }

    pub fn kamailio_log(&self) -> String {
        read(&self.dir.join("kamailio.log"))
    }

    /// Prosody's log (empty when the stack runs ejabberd; see [`Stack::xmpp_server_log`]).
    pub fn prosody_log(&self) -> String {
        read(&prosody::log_path(&self.dir))
    }

    /// Fails if a Kamailio process died of a signal or the main process exited.
    pub fn assert_no_crash(&self) {
        let log = self.kamailio_log();
        if let Some(line) = log.lines().find(|l| l.contains(kamailio::CRASH_MARK)) {
            panic!(
                "Kamailio crashed: {line}\n--- kamailio.log (tail) ---\n{}",
                tail(&log, 60)
            );
        }
        if let Some(st) = self.kamailio().exited() {
            panic!(
                "Kamailio's main process has exited ({st})\n--- kamailio.log (tail) ---\n{}",
                tail(&log, 60)
            );
        }
    }

    /// A SIP UA on 127.0.0.1 (ephemeral port) talking to this stack.
    pub fn sip_ua(&self, aor: &str) -> SipUa {
        self.assert_in_netns();
        SipUa::new(aor).expect("binding the SIP UA's UDP socket")
    }

    /// A logged-in XMPP client (`user@xmpp.example/resource`).
    pub fn xmpp_client(&self, full_jid: &str) -> XmppClient {
        self.assert_in_netns();
        XmppClient::connect(full_jid, "password")
            .unwrap_or_else(|e| panic!("XMPP login of {full_jid} failed: {e}"))
    }

    /// [`Stack::xmpp_client`] that follows `jid`: adds it to the roster, sends available
    /// presence, subscribes, and waits up to `timeout` until the roster shows the subscription
    /// granted (`to`).
    pub fn xmpp_client_following(
        &self,
        full_jid: &str,
        jid: &str,
        timeout: Duration,
    ) -> XmppClient {
        let client = self.xmpp_client(full_jid);
        let follow = || {
            client.roster_add(jid)?;
            client.available(None, None)?;
            client.subscribe(jid)?;
            client.wait_roster_subscription(timeout, jid, "to")
        };
        follow().unwrap_or_else(|e| panic!("{full_jid} following {jid}: {e}"));
        client
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        let panicking = std::thread::panicking();
        if panicking {
            eprintln!(
                "===== kamailio.log (last {TAIL_LINES} lines) =====\n{}\n\
                 ===== {} (last {TAIL_LINES} lines) =====\n{}\n\
                 ===== files kept in {} =====",
                tail(&self.kamailio_log(), TAIL_LINES),
                self.xmpp_server_log_path().display(),
                tail(&self.xmpp_server_log(), TAIL_LINES),
                self.dir.display()
            );
        }
        self.kamailio.take();
        self.xmpp.take();
        if !panicking && std::env::var_os("KEEP_STACK_DIR").is_none() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

fn read(p: &Path) -> String {
    std::fs::read(p)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}
