//! One Kamailio with one pua_xmpp module, its SIP agent and its component server, and the
//! measured phases: gateway subscriptions, NOTIFY runs, XMPP presence runs, SIP MESSAGE <-> XMPP
//! chat runs, memory samples.

use std::collections::BTreeMap;
use std::io;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::agent::{Agent, GwDialog, RequestRun};
use crate::component::{Component, ComponentListener, Kind};
use crate::kamailio::{Kamailio, KamailioSetup, ProcSample};
use crate::workload::{Body, chat_stanza, subscribe_stanza, user_presence};

/// Timeouts and windows; looser under valgrind.
#[derive(Clone, Copy, Debug)]
pub struct Pace {
    pub notify_window: u64,
    pub subscribe_window: u64,
    /// Injected XMPP stanzas (presences, chat messages) per second.
    pub stanza_rate: u64,
    pub timeout: Duration,
}

pub struct Instance {
    pub kam: Kamailio,
    agent: Agent,
    comp: Component,
    dialogs: Vec<GwDialog>,
    pace: Pace,
    /// XMPP presences injected so far (the alternation continues across runs).
    presences: u64,
}

/// A run of SIP requests into the gateway (NOTIFYs, or MESSAGEs to XMPP users) as measured.
#[derive(Clone, Debug)]
pub struct SipPhase {
    pub sip: RequestRun,
    pub stanzas: u64,
    /// Until the last answer and the last stanza.
    pub elapsed: Duration,
    pub cpu: CpuSplit,
    /// The first non-2xx answer the agent has seen in this instance, if any.
    pub first_failure: Option<String>,
}

/// A run of stanzas injected on the XMPP side (presences or chat messages) as measured.
#[derive(Clone, Copy, Debug)]
pub struct XmppPhase {
    pub stanzas: u64,
    /// SIP requests they became: PUBLISHes Kamailio received, or MESSAGEs the agent received.
    pub sip_requests: u64,
    pub cpu: CpuSplit,
}

/// Memory as Kamailio reports it (pkg summed over processes, shm) and RssAnon per process.
#[derive(Clone, Debug)]
pub struct MemSample {
    pub pkg_used: u64,
    pub shm_used: u64,
    /// shm per allocation site ("module: site" -> bytes).
    pub shm_sites: BTreeMap<String, u64>,
    pub rss_anon_kb: BTreeMap<i32, u64>,
}

fn cpu_sum(s: &BTreeMap<i32, ProcSample>) -> u64 {
    s.values().map(|p| p.cpu_us).sum()
}

/// CPU used between two samples: (SIP workers, XMPP Manager, all other processes).
#[derive(Clone, Copy, Debug, Default)]
pub struct CpuSplit {
    pub workers: u64,
    pub xmpp_manager: u64,
    pub other: u64,
}

impl CpuSplit {
    pub fn total(&self) -> u64 {
        self.workers + self.xmpp_manager + self.other
    }
}

fn cpu_split(
    processes: &BTreeMap<i32, String>,
    before: &BTreeMap<i32, ProcSample>,
    after: &BTreeMap<i32, ProcSample>,
) -> CpuSplit {
    let mut split = CpuSplit::default();
    for (pid, a) in after {
        let used = a
            .cpu_us
            .saturating_sub(before.get(pid).map_or(0, |b| b.cpu_us));
        match processes.get(pid).map(String::as_str) {
            Some(d) if d.contains("udp receiver") => split.workers += used,
            Some(d) if d.contains("XMPP Manager") => split.xmpp_manager += used,
            _ => split.other += used,
        }
    }
    split
}

impl Instance {
    pub fn start(setup: &KamailioSetup, dir: &Path, pace: Pace) -> io::Result<Instance> {
        let listener = ComponentListener::bind()?;
        let agent = Agent::bind()?;
        let kam = Kamailio::start(setup, dir)?;
        let comp = listener.accept(setup.start_timeout, || kam.check_alive())?;
        Ok(Instance {
            kam,
            agent,
            comp,
            dialogs: Vec::new(),
            pace,
            presences: 0,
        })
    }

    /// Adds gateway subscriptions (XMPP bobN subscribes to SIP aliceN) until there are `k`:
    /// each is answered by the agent and confirmed to XMPP with `subscribed`.
    pub fn subscribe_up_to(&mut self, k: usize) -> io::Result<()> {
        let from = self.dialogs.len();
        let base = self.comp.count(Kind::Subscribed) - from as u64;
        let mut chunk = String::new();
        let mut i = from;
        let deadline = Instant::now() + self.pace.timeout * 4;
        while i < k {
            let confirmed = (self.comp.count(Kind::Subscribed) - base) as usize;
            if i - confirmed >= self.pace.subscribe_window as usize {
                self.check_progress(deadline, "gateway subscriptions")?;
                std::thread::sleep(Duration::from_micros(200));
                continue;
            }
            chunk.clear();
            let room = self.pace.subscribe_window as usize - (i - confirmed);
            let end = (i + room.min(50)).min(k);
            for n in i..end {
                chunk.push_str(&subscribe_stanza(n));
            }
            i = end;
            self.comp.send(chunk.as_bytes())?;
        }
        if !self
            .comp
            .wait_count(Kind::Subscribed, base + k as u64, self.pace.timeout * 2)
        {
            return Err(io::Error::other(format!(
                "{} of {k} subscriptions confirmed (agent saw {} SUBSCRIBEs)",
                self.comp.count(Kind::Subscribed) - base,
                self.agent.subscribes_received()
            )));
        }
        self.dialogs = self.agent.dialogs(k)?;
        // tm frees finished transactions 5 s later (its wait timer): not in a measured run.
        std::thread::sleep(Duration::from_secs(if k - from > 1_000 { 6 } else { 0 }));
        Ok(())
    }

    fn check_progress(&self, deadline: Instant, what: &str) -> io::Result<()> {
        self.kam.check_alive()?;
        if Instant::now() > deadline || self.comp.is_closed() {
            return Err(io::Error::other(format!("{what}: no progress")));
        }
        Ok(())
    }

    /// `n` NOTIFYs with `body`, round robin over the first `k` subscriptions.
    pub fn notify_phase(&mut self, body: Body, k: usize, n: u64) -> io::Result<SipPhase> {
        let pidf = body.pidf();
        self.sip_phase(Kind::Available, "NOTIFY", |agent, dialogs, pace| {
            agent.notify_run(
                &mut dialogs[..k],
                n,
                &pidf,
                pace.notify_window,
                pace.timeout,
            )
        })
    }

    /// `n` SIP MESSAGEs to XMPP users (`xmpp_send_message()`), over `users` users; each
    /// should become one `<message>` on the XMPP side.
    pub fn message_out_phase(&mut self, n: u64, users: u64) -> io::Result<SipPhase> {
        self.sip_phase(Kind::Message, "MESSAGE", |agent, _, pace| {
            agent.message_run(n, users, pace.notify_window, pace.timeout)
        })
    }

    /// A run of SIP requests (`what`) that `run` sends, each answered 2xx to become one stanza
    /// of kind `expect`; measured until the last answer and the last stanza.
    fn sip_phase(
        &mut self,
        expect: Kind,
        what: &str,
        run: impl FnOnce(&mut Agent, &mut [GwDialog], &Pace) -> io::Result<RequestRun>,
    ) -> io::Result<SipPhase> {
        self.wait_idle()?;
        let before = self.kam.sample();
        let stanzas0 = self.comp.total();
        let expected0 = self.comp.count(expect);
        let start = Instant::now();
        let sip = run(&mut self.agent, &mut self.dialogs, &self.pace)?;
        let complete = self
            .comp
            .wait_count(expect, expected0 + sip.ok, self.pace.timeout);
        let elapsed = start.elapsed();
        let after = self.kam.sample();
        self.kam.check_alive()?;
        if !complete {
            return Err(io::Error::other(format!(
                "{} {what}s answered 2xx but only {} {expect:?} stanzas arrived",
                sip.ok,
                self.comp.count(expect) - expected0
            )));
        }
        Ok(SipPhase {
            sip,
            stanzas: self.comp.total() - stanzas0,
            elapsed,
            cpu: cpu_split(self.kam.processes(), &before, &after),
            first_failure: self.agent.first_failure(),
        })
    }

    /// Writes `n` stanzas (`stanza(i)`) to the gateway at the pace's rate, in batches of 10 ms.
    fn inject(&mut self, n: u64, mut stanza: impl FnMut(u64) -> String) -> io::Result<()> {
        let start = Instant::now();
        let batch = (self.pace.stanza_rate / 100).max(1);
        let mut chunk = String::new();
        let mut sent = 0;
        while sent < n {
            chunk.clear();
            for _ in 0..batch.min(n - sent) {
                chunk.push_str(&stanza(sent));
                sent += 1;
            }
            self.comp.send(chunk.as_bytes())?;
            let due = Duration::from_secs_f64(sent as f64 / self.pace.stanza_rate as f64);
            if let Some(wait) = due.checked_sub(start.elapsed()) {
                std::thread::sleep(wait);
            }
        }
        Ok(())
    }

    /// `n` XMPP presence stanzas (rounded up to whole available/unavailable rounds of `users`
    /// users), injected at the pace's rate; measured until Kamailio is idle again.
    pub fn presence_phase(&mut self, n: u64, users: u64) -> io::Result<XmppPhase> {
        let n = n.div_ceil(2 * users) * 2 * users;
        self.wait_idle()?;
        let publishes0 = self.kam.statistic("core:rcv_requests_publish")?;
        let before = self.kam.sample();
        let first = self.presences;
        self.inject(n, |i| user_presence(first + i, users))?;
        self.presences += n;
        self.wait_idle()?;
        let after = self.kam.sample();
        let publishes = self.kam.statistic("core:rcv_requests_publish")? - publishes0;
        Ok(XmppPhase {
            stanzas: n,
            sip_requests: publishes,
            cpu: cpu_split(self.kam.processes(), &before, &after),
        })
    }

    /// `n` XMPP chat messages to SIP users over `users` users, injected at the pace's rate;
    /// measured until every one has reached the agent as a SIP MESSAGE (or the timeout) and
    /// Kamailio is idle again.
    pub fn message_in_phase(&mut self, n: u64, users: u64) -> io::Result<XmppPhase> {
        self.wait_idle()?;
        let received0 = self.agent.messages_received();
        let before = self.kam.sample();
        self.inject(n, |i| chat_stanza(i, users))?;
        let deadline = Instant::now() + self.pace.timeout;
        while self.agent.messages_received() - received0 < n && Instant::now() < deadline {
            self.kam.check_alive()?;
            std::thread::sleep(Duration::from_millis(1));
        }
        self.wait_idle()?;
        let after = self.kam.sample();
        Ok(XmppPhase {
            stanzas: n,
            sip_requests: self.agent.messages_received() - received0,
            cpu: cpu_split(self.kam.processes(), &before, &after),
        })
    }

    /// Waits until Kamailio's processes together use under 4% of a CPU over 250 ms.
    pub fn wait_idle(&self) -> io::Result<()> {
        let deadline = Instant::now() + self.pace.timeout * 4;
        let mut prev = cpu_sum(&self.kam.sample());
        loop {
            std::thread::sleep(Duration::from_millis(250));
            self.kam.check_alive()?;
            let now = cpu_sum(&self.kam.sample());
            if now - prev <= 10_000 {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(io::Error::other("Kamailio never became idle"));
            }
            prev = now;
        }
    }

    /// Memory once tm's finished transactions are gone (its wait timer is 5 s).
    pub fn memory(&self) -> io::Result<MemSample> {
        self.wait_idle()?;
        std::thread::sleep(Duration::from_secs(6));
        let (pkg_used, shm_used) = self.kam.memory()?;
        Ok(MemSample {
            pkg_used,
            shm_used,
            shm_sites: self.kam.shm_sites()?,
            rss_anon_kb: self
                .kam
                .sample()
                .into_iter()
                .map(|(p, s)| (p, s.rss_anon_kb))
                .collect(),
        })
    }

    /// The last stanza of a kind the XMPP side received (for the log).
    pub fn last_stanza(&self, kind: Kind) -> Option<String> {
        self.comp.last(kind)
    }

    /// The last SIP MESSAGE the agent received from the gateway (for the log).
    pub fn last_sip_message(&self) -> Option<String> {
        self.agent.last_message()
    }

    pub fn stop(self) {
        let Instance {
            kam, agent, comp, ..
        } = self;
        kam.stop();
        drop(comp);
        drop(agent);
    }
}
