//! One test's private stack: network namespace, temp dir, Prosody and Kamailio, torn down on drop.

use crate::config::StackConfig;
use crate::netns;
use crate::process::{Proc, tail, wait_until};
use crate::sip_ua::SipUa;
use crate::xmpp_client::XmppClient;
use crate::{kamailio, prosody};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// Lines of each log printed when a test panics with a stack alive.
const TAIL_LINES: usize = 200;

pub struct Stack {
    dir: PathBuf,
    netns: u64,
    // Drop stops Kamailio first, so its XMPP link closes before Prosody goes.
    kamailio: Option<Proc>,
    prosody: Option<Proc>,
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

    pub fn try_start(cfg: StackConfig) -> io::Result<Stack> {
        let netns = netns::enter_private_netns()?;
        let dir = make_temp_dir()?;
        let mut stack = Stack {
            dir: dir.clone(),
            netns,
            kamailio: None,
            prosody: None,
        };
        let res = (|| -> io::Result<()> {
            stack.prosody = Some(prosody::start(&cfg, &dir)?);
            stack.kamailio = Some(kamailio::start(&cfg, &dir)?);
            let (k, p) = (stack.kamailio(), stack.prosody.as_ref().unwrap());
            wait_until(
                "the xmpp module's component link (Prosody log)",
                cfg.start_timeout,
                || {
                    k.check_alive()?;
                    p.check_alive()?;
                    Ok(stack
                        .prosody_log()
                        .contains(prosody::COMPONENT_AUTHENTICATED)
                        .then_some(()))
                },
            )?;
            Ok(())
        })();
        match res {
            Ok(()) => Ok(stack),
            Err(e) => {
                let msg = format!(
                    "{e}\n--- kamailio.log (tail) ---\n{}\n--- prosody.log (tail) ---\n{}\n\
                     --- prosody.out ---\n{}\n(files kept in {})",
                    tail(&stack.kamailio_log(), 80),
                    tail(&stack.prosody_log(), 40),
                    tail(&read(&dir.join("prosody.out")), 20),
                    dir.display()
                );
                stack.kamailio.take();
                stack.prosody.take();
                std::mem::forget(stack); // keep the directory for inspection
                Err(io::Error::new(e.kind(), msg))
            }
        }
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

    pub fn prosody_log(&self) -> String {
        read(&self.dir.join("prosody.log"))
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
                 ===== prosody.log (last {TAIL_LINES} lines) =====\n{}\n\
                 ===== files kept in {} =====",
                tail(&self.kamailio_log(), TAIL_LINES),
                tail(&self.prosody_log(), TAIL_LINES),
                self.dir.display()
            );
        }
        self.kamailio.take();
        self.prosody.take();
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

/// A fresh directory under the system temp dir (unique per process and call).
fn make_temp_dir() -> io::Result<PathBuf> {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!(
        "kamailio-test-stack-{}-{}-{nanos}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
