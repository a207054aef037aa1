//! gateway-bench: a C module against its Rust drop-in in the same Kamailio 5.6.3 and config,
//! alternating the two (C, Rust) per memory manager in every round, inside a private network
//! namespace on loopback. Two comparisons:
//! - `--compare pua_xmpp` (default): Debian's C `pua_xmpp.so` against the Rust
//!   `libpua_xmpp.so`, both on the crash-fixed C `xmpp.so`;
//! - `--compare transport`: the crash-fixed C `xmpp.so` against the Rust `libxmpp.so`, both
//!   under the Rust `libpua_xmpp.so`; adds SIP MESSAGE <-> XMPP chat runs and the XMPP Manager's
//!   share of every path.
//!
//! Per round and subject: gateway subscriptions (K small, then K large for pua_xmpp), NOTIFY
//! runs with a 1-tuple and a 10-tuple PIDF (NOTIFYs/s, Kamailio CPU per NOTIFY, stanzas counted
//! on the XMPP side), and an XMPP presence run (Kamailio CPU per stanza). Then once per subject
//! and manager: memory growth over many messages (pkg, shm, RssAnon) and callgrind instruction
//! counts. Kamailio is pinned to one CPU, the load generator to another. See BENCHMARKS.md.

mod agent;
mod callgrind;
mod component;
mod instance;
mod kamailio;
mod report;
mod workload;

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use instance::{Instance, MemSample, Pace, SipPhase, XmppPhase};
use kamailio::KamailioSetup;
use kamailio_test_stack::Host;
use report::{Module, Results, Row};
use workload::Body;

const USAGE: &str = "usage: gateway-bench [--compare pua_xmpp|transport] [--quick] [--rounds N]
       [--notifies N] [--presences N] [--messages N] [--users N] [--k-small N] [--k-large N]
       [--memory-messages N] [--callgrind-messages N] [--no-memory] [--no-callgrind]
       [--managers qm,tlsf] [--kamailio-cpu N] [--loadgen-cpu N] [--presence-rate N] [--out DIR]
Environment: PUA_XMPP_SO and RUST_XMPP_SO (the Rust modules; default: libpua_xmpp.so and
libxmpp.so next to this binary), KAMAILIO_PREFIX and XMPP_SO (the host, as for the real-stack
tests; default: Debian's Kamailio with target/kamailio/c-xmpp/xmpp.so from
tests/stack/setup.sh).";

/// Which C module is compared with its Rust drop-in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Comparison {
    /// C `pua_xmpp.so` vs Rust `libpua_xmpp.so`, both on the C `xmpp.so`.
    PuaXmpp,
    /// C `xmpp.so` vs Rust `libxmpp.so`, both under the Rust `libpua_xmpp.so`.
    Transport,
}

impl Comparison {
    fn name(self) -> &'static str {
        match self {
            Comparison::PuaXmpp => "pua_xmpp",
            Comparison::Transport => "transport",
        }
    }
}

#[derive(Clone, Debug)]
struct Options {
    compare: Comparison,
    rounds: usize,
    notifies: u64,
    presences: u64,
    /// SIP MESSAGEs and XMPP chat messages per run (transport comparison).
    messages: u64,
    users: u64,
    k_small: usize,
    k_large: usize,
    memory_messages: u64,
    callgrind_messages: u64,
    memory: bool,
    callgrind: bool,
    managers: Vec<&'static str>,
    kamailio_cpu: usize,
    loadgen_cpu: usize,
    presence_rate: u64,
    /// Default: target/gateway-bench, or target/gateway-bench-transport.
    out: Option<PathBuf>,
}

impl Options {
    fn full() -> Self {
        Options {
            compare: Comparison::PuaXmpp,
            rounds: 5,
            notifies: 20_000,
            presences: 20_000,
            messages: 20_000,
            users: 1_000,
            k_small: 100,
            k_large: 10_000,
            memory_messages: 100_000,
            callgrind_messages: 300,
            memory: true,
            callgrind: true,
            managers: vec!["qm", "tlsf"],
            kamailio_cpu: 1,
            loadgen_cpu: 0,
            presence_rate: 2_500,
            out: None,
        }
    }

    /// A smoke run: one round, small counts, no memory or callgrind pass.
    fn quick() -> Self {
        Options {
            rounds: 1,
            notifies: 1_000,
            presences: 400,
            messages: 400,
            users: 100,
            k_small: 10,
            k_large: 200,
            memory: false,
            callgrind: false,
            ..Self::full()
        }
    }

    fn parse(args: &[String]) -> Result<Self, String> {
        let mut o = if args.iter().any(|a| a == "--quick") {
            Self::quick()
        } else {
            Self::full()
        };
        let mut it = args.iter();
        while let Some(a) = it.next() {
            let mut val = || it.next().ok_or(format!("{a} needs a value"));
            let num = |v: &String| v.parse::<u64>().map_err(|e| format!("{a} {v}: {e}"));
            match a.as_str() {
                "--quick" => {}
                "--rounds" => o.rounds = num(val()?)? as usize,
                "--notifies" => o.notifies = num(val()?)?,
                "--presences" => o.presences = num(val()?)?,
                "--messages" => o.messages = num(val()?)?,
                "--compare" => {
                    o.compare = match val()?.as_str() {
                        "pua_xmpp" => Comparison::PuaXmpp,
                        "transport" => Comparison::Transport,
                        other => return Err(format!("unknown comparison {other}\n{USAGE}")),
                    }
                }
                "--users" => o.users = num(val()?)?.max(1),
                "--k-small" => o.k_small = num(val()?)?.max(1) as usize,
                "--k-large" => o.k_large = num(val()?)?.max(1) as usize,
                "--memory-messages" => o.memory_messages = num(val()?)?,
                "--callgrind-messages" => o.callgrind_messages = num(val()?)?,
                "--no-memory" => o.memory = false,
                "--no-callgrind" => o.callgrind = false,
                "--memory" => o.memory = true,
                "--callgrind" => o.callgrind = true,
                "--kamailio-cpu" => o.kamailio_cpu = num(val()?)? as usize,
                "--loadgen-cpu" => o.loadgen_cpu = num(val()?)? as usize,
                "--presence-rate" => o.presence_rate = num(val()?)?.max(1),
                "--out" => o.out = Some(PathBuf::from(val()?)),
                "--managers" => {
                    o.managers = val()?
                        .split(',')
                        .map(|m| match m {
                            "qm" => Ok("qm"),
                            "tlsf" => Ok("tlsf"),
                            "fm" => Ok("fm"),
                            _ => Err(format!("unknown memory manager {m}")),
                        })
                        .collect::<Result<_, _>>()?
                }
                "-h" | "--help" => return Err(USAGE.into()),
                _ => return Err(format!("unknown argument {a}\n{USAGE}")),
            }
        }
        Ok(o)
    }

    fn out_dir(&self) -> PathBuf {
        self.out.clone().unwrap_or_else(|| {
            let dir = match self.compare {
                Comparison::PuaXmpp => "target/gateway-bench",
                Comparison::Transport => "target/gateway-bench-transport",
            };
            kamailio_test_stack::config::workspace_root().join(dir)
        })
    }

    /// Gateway subscription counts of the NOTIFY runs: the transport's cost does not depend
    /// on K, so its comparison runs only the small one.
    fn ks(&self) -> Vec<usize> {
        match self.compare {
            Comparison::PuaXmpp => vec![self.k_small, self.k_large],
            Comparison::Transport => vec![self.k_small],
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let opts = match Options::parse(&args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    match run(&opts) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("gateway-bench failed: {e}");
            ExitCode::from(2)
        }
    }
}

/// One side of a comparison: the module pair Kamailio loads.
struct Subject {
    module: Module,
    pua_xmpp_so: PathBuf,
    /// Whether `pua_xmpp_so` is the Rust module (it takes `max_subscriptions`).
    rust_pua_xmpp: bool,
    xmpp_so: PathBuf,
    /// pua_xmpp's entry functions as callgrind names them (pua_xmpp comparison only).
    entries: Option<(&'static str, &'static str)>,
}

/// A built Rust module: `$env`, else `file` next to this binary.
fn rust_module(file: &str, env: &str, package: &str) -> io::Result<PathBuf> {
    let path = match std::env::var_os(env) {
        Some(p) => PathBuf::from(p),
        None => std::env::current_exe()?
            .parent()
            .map(|d| d.join(file))
            .unwrap_or_default(),
    };
    if !path.is_file() {
        return Err(io::Error::other(format!(
            "{} is missing: build it with `cargo build --release -p {package}` (or set {env})",
            path.display()
        )));
    }
    Ok(path)
}

fn subjects(compare: Comparison) -> io::Result<[Subject; 2]> {
    let host = Host::get();
    let rust_pua_xmpp = rust_module("libpua_xmpp.so", "PUA_XMPP_SO", "pua_xmpp")?;
    if !host.c_xmpp_module.is_file() {
        return Err(io::Error::other(format!(
            "{} is missing: run `bash tests/stack/setup.sh`",
            host.c_xmpp_module.display()
        )));
    }
    Ok(match compare {
        Comparison::PuaXmpp => [
            Subject {
                module: Module::C,
                pua_xmpp_so: host.c_pua_xmpp_module.clone(),
                rust_pua_xmpp: false,
                xmpp_so: host.c_xmpp_module.clone(),
                entries: Some(("Notify2Xmpp", "pres_Xmpp2Sip")),
            },
            Subject {
                module: Module::Rust,
                pua_xmpp_so: rust_pua_xmpp,
                rust_pua_xmpp: true,
                xmpp_so: host.c_xmpp_module.clone(),
                entries: Some((
                    "pua_xmpp::module::pua_xmpp_notify",
                    "pua_xmpp::module::xmpp_presence_callback",
                )),
            },
        ],
        Comparison::Transport => [
            Subject {
                module: Module::C,
                pua_xmpp_so: rust_pua_xmpp.clone(),
                rust_pua_xmpp: true,
                xmpp_so: host.c_xmpp_module.clone(),
                entries: None,
            },
            Subject {
                module: Module::Rust,
                pua_xmpp_so: rust_pua_xmpp,
                rust_pua_xmpp: true,
                xmpp_so: rust_module("libxmpp.so", "RUST_XMPP_SO", "kamailio-xmpp")?,
                entries: None,
            },
        ],
    })
}

fn manager_label(m: &str) -> String {
    if m == "qm" {
        "qm (default)".into()
    } else {
        format!("-x {m}")
    }
}

/// Pins the calling thread (and the threads it starts later) to one CPU.
fn pin_to(cpu: usize) -> io::Result<()> {
    // SAFETY: a zeroed cpu_set_t is valid; CPU_SET and sched_setaffinity only touch it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

struct Bench<'a> {
    opts: &'a Options,
    subjects: [Subject; 2],
    results: Results,
    problems: Vec<String>,
    tmp: PathBuf,
    instance_no: usize,
}

fn run(opts: &Options) -> io::Result<bool> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Err(io::Error::other(
            "must run as root (private network and mount namespaces, taskset)",
        ));
    }
    let subjects = subjects(opts.compare)?;
    let out_dir = opts.out_dir();
    pin_to(opts.loadgen_cpu)?;
    kamailio_test_stack::netns::enter_private_netns()?;
    if out_dir.exists() {
        std::fs::remove_dir_all(&out_dir)?;
    }
    std::fs::create_dir_all(&out_dir)?;
    let tmp = std::env::temp_dir().join(format!("gateway-bench-{}", std::process::id()));
    std::fs::create_dir_all(&tmp)?;
    let started = Instant::now();
    for sub in &subjects {
        eprintln!(
            "gateway-bench --compare {}: {} = {} on {}",
            opts.compare.name(),
            sub.module.label(),
            sub.pua_xmpp_so.display(),
            sub.xmpp_so.display()
        );
    }
    eprintln!(
        "gateway-bench: Kamailio on CPU {}, load on CPU {}, {} rounds",
        opts.kamailio_cpu, opts.loadgen_cpu, opts.rounds
    );
    let mut b = Bench {
        opts,
        subjects,
        results: Results::default(),
        problems: Vec::new(),
        tmp: tmp.clone(),
        instance_no: 0,
    };
    for round in 1..=opts.rounds {
        for mm in &opts.managers {
            for s in 0..2 {
                b.guarded(&format!("round {round} {mm}"), s, |b, s| {
                    b.timed(round, mm, s)
                });
            }
        }
    }
    if opts.memory {
        for mm in &opts.managers {
            for s in 0..2 {
                b.guarded(&format!("memory {mm}"), s, |b, s| b.memory(mm, s));
            }
        }
    }
    if opts.callgrind {
        for mm in &opts.managers {
            for s in 0..2 {
                b.guarded(&format!("callgrind {mm}"), s, |b, s| b.callgrind(mm, s));
            }
        }
    }
    let _ = std::fs::remove_dir_all(&tmp);
    let table = b.results.table();
    let targets = match opts.compare {
        Comparison::PuaXmpp => pua_xmpp_targets(&b.results),
        Comparison::Transport => transport_targets(&b.results),
    };
    println!("{table}\n{targets}");
    std::fs::write(out_dir.join("table.md"), format!("{table}\n{targets}"))?;
    std::fs::write(out_dir.join("results.tsv"), b.results.tsv())?;
    eprintln!(
        "gateway-bench: done in {:.0} s; table and raw values in {}",
        started.elapsed().as_secs_f64(),
        out_dir.display()
    );
    for p in &b.problems {
        eprintln!("PROBLEM: {p}");
    }
    Ok(b.problems.is_empty())
}

impl Bench<'_> {
    /// Runs one instance's work; a failure is recorded as a problem and the run goes on.
    fn guarded(
        &mut self,
        what: &str,
        s: usize,
        f: impl FnOnce(&mut Self, usize) -> io::Result<()>,
    ) {
        let label = format!("{what} {}", self.subjects[s].module.label());
        eprintln!("== {label}");
        let t = Instant::now();
        let res = f(self, s);
        eprintln!("   ({:.1} s)", t.elapsed().as_secs_f64());
        if let Err(e) = res {
            eprintln!("   FAILED: {e}");
            self.problems.push(format!("{label}: {e}"));
        }
    }

    fn setup(&self, mm: &str, s: usize, callgrind_dir: Option<PathBuf>) -> KamailioSetup {
        let sub = &self.subjects[s];
        let extra = if sub.rust_pua_xmpp {
            // The Rust module remembers each subscription's remote contact; 8192 by default.
            vec![format!(
                "modparam(\"pua_xmpp\", \"max_subscriptions\", {})",
                (self.opts.k_large * 2).max(8192)
            )]
        } else {
            Vec::new()
        };
        KamailioSetup {
            pua_xmpp_module: sub.pua_xmpp_so.clone(),
            xmpp_module: sub.xmpp_so.clone(),
            mem_manager: match mm {
                "tlsf" => Some("tlsf"),
                "fm" => Some("fm"),
                _ => None,
            },
            extra_pua_xmpp: extra,
            cpu: self.opts.kamailio_cpu,
            start_timeout: Duration::from_secs(if callgrind_dir.is_some() { 180 } else { 20 }),
            callgrind_dir,
        }
    }

    fn start(&mut self, setup: &KamailioSetup, pace: Pace) -> io::Result<Instance> {
        self.instance_no += 1;
        let dir = self.tmp.join(format!("k{}", self.instance_no));
        std::fs::create_dir_all(&dir)?;
        Instance::start(setup, &dir, pace).map_err(|e| {
            io::Error::other(format!(
                "{e}\n--- kamailio.log (tail) ---\n{}",
                log_tail(&dir)
            ))
        })
    }

    fn pace(&self) -> Pace {
        Pace {
            notify_window: 16,
            subscribe_window: 200,
            stanza_rate: self.opts.presence_rate,
            timeout: Duration::from_secs(10),
        }
    }

    /// Warm-up: a few of every message, so no measured run pays first-use costs.
    fn warm_up(&self, inst: &mut Instance, k: usize, notifies: u64) -> io::Result<()> {
        inst.notify_phase(Body::OneTuple, k, notifies)?;
        inst.notify_phase(Body::TenTuples, k, notifies)?;
        inst.presence_phase(2 * self.opts.users, self.opts.users)?;
        if self.opts.compare == Comparison::Transport {
            inst.message_out_phase(notifies, self.opts.users)?;
            inst.message_in_phase(self.opts.users, self.opts.users)?;
        }
        Ok(())
    }

    fn timed(&mut self, round: usize, mm: &str, s: usize) -> io::Result<()> {
        let setup = self.setup(mm, s, None);
        let mut inst = self.start(&setup, self.pace())?;
        let res = self.timed_phases(&mut inst, round, mm, s);
        let res = res.map_err(|e| with_log(e, &inst));
        inst.stop();
        res
    }

    fn timed_phases(
        &mut self,
        inst: &mut Instance,
        round: usize,
        mm: &str,
        s: usize,
    ) -> io::Result<()> {
        let o = self.opts;
        let mml = manager_label(mm);
        inst.subscribe_up_to(o.k_small)?;
        self.warm_up(inst, o.k_small, 1_000.min(o.notifies))?;
        for k in o.ks() {
            if k != o.k_small {
                let t = Instant::now();
                inst.subscribe_up_to(k)?;
                eprintln!("   {k} subscriptions in {:.1} s", t.elapsed().as_secs_f64());
            }
            for body in [Body::OneTuple, Body::TenTuples] {
                let p = inst.notify_phase(body, k, o.notifies)?;
                let name = format!("{} NOTIFY, K={k}", body.label());
                self.sip_phase_rows(round, &mml, s, &name, "NOTIFY", &p);
            }
            if k == o.k_small {
                let p = inst.presence_phase(o.presences, o.users)?;
                let name = format!("XMPP presence ({} users)", o.users);
                self.xmpp_phase_rows(round, &mml, s, &name, "PUBLISH", &p);
            }
        }
        if o.compare == Comparison::Transport {
            let p = inst.message_out_phase(o.messages, o.users)?;
            self.sip_phase_rows(round, &mml, s, "SIP MESSAGE -> XMPP chat", "MESSAGE", &p);
            let p = inst.message_in_phase(o.messages, o.users)?;
            self.xmpp_phase_rows(round, &mml, s, "XMPP chat -> SIP MESSAGE", "MESSAGE", &p);
        }
        if round == 1 {
            for kind in [
                component::Kind::Available,
                component::Kind::Subscribed,
                component::Kind::Message,
            ] {
                if let Some(st) = inst.last_stanza(kind) {
                    eprintln!("   last {kind:?} stanza: {st}");
                }
            }
            if let Some(m) = inst.last_sip_message() {
                eprintln!("   last SIP MESSAGE from the gateway:\n{}", m.trim_end());
            }
        }
        Ok(())
    }

    /// Log line, checks and rows of a run of SIP requests (`what`: NOTIFY or MESSAGE), each of
    /// which must be answered 2xx and become exactly one stanza.
    fn sip_phase_rows(
        &mut self,
        round: usize,
        mml: &str,
        s: usize,
        name: &str,
        what: &str,
        p: &SipPhase,
    ) {
        let (o, module) = (self.opts, self.subjects[s].module);
        let per_s = p.sip.ok as f64 / p.elapsed.as_secs_f64();
        let per = |x: u64| x as f64 / p.sip.sent as f64;
        let us = per(p.cpu.total());
        eprintln!(
            "   r{round} {name}: {} sent, {} 2xx, {} failed, {} lost, {} stanzas, {per_s:.0}/s, {us:.1} us CPU each (workers {:.1}, XMPP Manager {:.1}, other {:.1})",
            p.sip.sent,
            p.sip.ok,
            p.sip.failed,
            p.sip.lost,
            p.stanzas,
            per(p.cpu.workers),
            per(p.cpu.xmpp_manager),
            per(p.cpu.other)
        );
        self.check(
            p.sip.ok == p.sip.sent && p.stanzas == p.sip.sent,
            &format!(
                "{module:?} {mml} {name}: {} of {} {what}s answered 2xx, {} stanzas ({:?})",
                p.sip.ok, p.sip.sent, p.stanzas, p.first_failure
            ),
        );
        let mut add = |metric: String, v: f64| {
            self.results
                .add(mml, &format!("{name}: {metric}"), module, v)
        };
        add(format!("{what}s/s"), per_s);
        add(format!("CPU us/{what}, all Kamailio processes"), us);
        if o.compare == Comparison::Transport {
            add(format!("CPU us/{what}, SIP workers"), per(p.cpu.workers));
            add(
                format!("CPU us/{what}, XMPP Manager"),
                per(p.cpu.xmpp_manager),
            );
        }
        add(
            format!("stanzas on the XMPP side per {what}"),
            p.stanzas as f64 / p.sip.sent as f64,
        );
    }

    /// Log line, checks and rows of a run of stanzas injected on the XMPP side, each of which
    /// must become exactly one SIP request (`what`: PUBLISH or MESSAGE).
    fn xmpp_phase_rows(
        &mut self,
        round: usize,
        mml: &str,
        s: usize,
        name: &str,
        what: &str,
        p: &XmppPhase,
    ) {
        let (o, module) = (self.opts, self.subjects[s].module);
        let per = |x: u64| x as f64 / p.stanzas as f64;
        eprintln!(
            "   r{round} {name}: {} stanzas, {} {}, {:.1} us CPU each (XMPP Manager {:.1}, workers {:.1}, other {:.1})",
            p.stanzas,
            p.sip_requests,
            plural(what),
            per(p.cpu.total()),
            per(p.cpu.xmpp_manager),
            per(p.cpu.workers),
            per(p.cpu.other)
        );
        self.check(
            p.sip_requests == p.stanzas,
            &format!(
                "{module:?} {mml} {name}: {} stanzas made {} {}",
                p.stanzas,
                p.sip_requests,
                plural(what)
            ),
        );
        let mut add = |metric: String, v: f64| {
            self.results
                .add(mml, &format!("{name}: {metric}"), module, v)
        };
        add(
            "CPU us/stanza, XMPP Manager + SIP workers".into(),
            per(p.cpu.xmpp_manager + p.cpu.workers),
        );
        if o.compare == Comparison::Transport {
            add(
                "CPU us/stanza, XMPP Manager".into(),
                per(p.cpu.xmpp_manager),
            );
        }
        add(
            "CPU us/stanza, all Kamailio processes".into(),
            per(p.cpu.total()),
        );
        add(
            format!("{} per stanza", plural(what)),
            p.sip_requests as f64 / p.stanzas as f64,
        );
    }

    fn check(&mut self, ok: bool, problem: &str) {
        if !ok {
            eprintln!("   PROBLEM: {problem}");
            self.problems.push(problem.to_string());
        }
    }

    fn memory(&mut self, mm: &str, s: usize) -> io::Result<()> {
        let setup = self.setup(mm, s, None);
        let mut inst = self.start(&setup, self.pace())?;
        let res = self.memory_phases(&mut inst, mm, s);
        let res = res.map_err(|e| with_log(e, &inst));
        inst.stop();
        res
    }

    fn memory_phases(&mut self, inst: &mut Instance, mm: &str, s: usize) -> io::Result<()> {
        let (o, module) = (self.opts, self.subjects[s].module);
        let mml = manager_label(mm);
        inst.subscribe_up_to(o.k_small)?;
        self.warm_up(inst, o.k_small, 2_000)?;
        let before = inst.memory()?;
        // pua_xmpp: 2/5 1-tuple and 2/5 10-tuple NOTIFYs, the rest XMPP presences; transport:
        // a fifth each of these and of both chat directions.
        let share = match o.compare {
            Comparison::PuaXmpp => o.memory_messages * 2 / 5,
            Comparison::Transport => o.memory_messages / 5,
        };
        let mut messages = 0;
        for body in [Body::OneTuple, Body::TenTuples] {
            messages += inst.notify_phase(body, o.k_small, share)?.sip.sent;
        }
        if o.compare == Comparison::Transport {
            messages += inst.message_out_phase(share, o.users)?.sip.sent;
            messages += inst.message_in_phase(share, o.users)?.stanzas;
        }
        messages += inst
            .presence_phase(o.memory_messages.saturating_sub(messages), o.users)?
            .stanzas;
        let after = inst.memory()?;
        let per_k = |a: u64, b: u64| (b as f64 - a as f64) * 1000.0 / messages as f64;
        let rss = |m: &MemSample| m.rss_anon_kb.values().sum::<u64>();
        let (worst_pid, worst) = after
            .rss_anon_kb
            .iter()
            .map(|(p, a)| {
                (
                    *p,
                    per_k(before.rss_anon_kb.get(p).copied().unwrap_or(*a), *a),
                )
            })
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .unwrap_or((0, 0.0));
        eprintln!(
            "   {messages} messages: pkg {} -> {} B, shm {} -> {} B, RssAnon {} -> {} kB (largest growth: {} {worst:.2} kB/1000)",
            before.pkg_used,
            after.pkg_used,
            before.shm_used,
            after.shm_used,
            rss(&before),
            rss(&after),
            inst.kam
                .processes()
                .get(&worst_pid)
                .map_or("?", String::as_str)
        );
        let mut grown: Vec<(i64, &String)> = after
            .shm_sites
            .iter()
            .map(|(site, b)| {
                (
                    *b as i64 - before.shm_sites.get(site).map_or(0, |a| *a as i64),
                    site,
                )
            })
            .filter(|(d, _)| *d != 0)
            .collect();
        grown.sort();
        for (delta, site) in grown.iter().rev().take(8) {
            eprintln!("   shm {site}: {delta:+} B");
        }
        let name = format!("memory over {messages} messages");
        for (metric, v) in [
            (
                "pkg used, B/1000 messages (all processes)",
                per_k(before.pkg_used, after.pkg_used),
            ),
            (
                "shm used, B/1000 messages",
                per_k(before.shm_used, after.shm_used),
            ),
            (
                "RssAnon, kB/1000 messages (all processes)",
                per_k(rss(&before), rss(&after)),
            ),
            ("RssAnon, kB/1000 messages (largest process)", worst),
        ] {
            self.results
                .add(&mml, &format!("{name}: {metric}"), module, v);
        }
        Ok(())
    }

    fn callgrind(&mut self, mm: &str, s: usize) -> io::Result<()> {
        let cg_dir = self.opts.out_dir().join(format!(
            "callgrind-{mm}-{}",
            self.subjects[s].module.label()
        ));
        let setup = self.setup(mm, s, Some(cg_dir.clone()));
        let pace = Pace {
            notify_window: 4,
            subscribe_window: 20,
            stanza_rate: 40,
            timeout: Duration::from_secs(60),
        };
        let mut inst = self.start(&setup, pace)?;
        let res = self.callgrind_phases(&mut inst, &cg_dir, mm, s);
        let res = res.map_err(|e| with_log(e, &inst));
        inst.stop();
        res
    }

    fn callgrind_phases(
        &mut self,
        inst: &mut Instance,
        cg_dir: &Path,
        mm: &str,
        s: usize,
    ) -> io::Result<()> {
        let (o, sub) = (self.opts, &self.subjects[s]);
        let (module, entries) = (sub.module, sub.entries);
        let mml = manager_label(mm);
        let (k, users) = (20, 10);
        let n = o.callgrind_messages;
        inst.subscribe_up_to(k)?;
        inst.notify_phase(Body::OneTuple, k, 20)?;
        inst.notify_phase(Body::TenTuples, k, 20)?;
        inst.presence_phase(2 * users, users)?;
        let mut phases = vec!["1-tuple NOTIFY", "10-tuple NOTIFY", "XMPP presence"];
        if o.compare == Comparison::Transport {
            inst.message_out_phase(20, users)?;
            inst.message_in_phase(20, users)?;
            phases.extend(["SIP MESSAGE -> XMPP chat", "XMPP chat -> SIP MESSAGE"]);
        }
        let mut part = 0;
        for phase in phases {
            inst.wait_idle()?;
            inst.kam.callgrind_control("zero")?;
            let msgs = match phase {
                "1-tuple NOTIFY" => inst.notify_phase(Body::OneTuple, k, n)?.sip.ok,
                "10-tuple NOTIFY" => inst.notify_phase(Body::TenTuples, k, n)?.sip.ok,
                "XMPP presence" => inst.presence_phase(n, users)?.stanzas,
                "SIP MESSAGE -> XMPP chat" => inst.message_out_phase(n, users)?.sip.ok,
                _ => inst.message_in_phase(n, users)?.sip_requests,
            };
            inst.wait_idle()?;
            inst.kam.callgrind_control("dump")?;
            part += 1;
            let mut dumps = BTreeMap::new();
            for f in callgrind::part_files(cg_dir, part)? {
                let pid: i32 = f
                    .file_name()
                    .and_then(|n| n.to_str()?.split('.').nth(2)?.parse().ok())
                    .unwrap_or(0);
                dumps.insert(pid, callgrind::read_dump(&f)?);
            }
            let per = |x: u64| x as f64 / msgs as f64;
            let total: u64 = dumps.values().map(|d| d.total).sum();
            let by_desc = |pat: &str| -> u64 {
                dumps
                    .iter()
                    .filter(|(p, _)| inst.kam.processes().get(p).is_some_and(|d| d.contains(pat)))
                    .map(|(_, d)| d.total)
                    .sum()
            };
            let incl = |f: &str| -> u64 {
                dumps
                    .values()
                    .map(|d| d.inclusive.get(f).copied().unwrap_or(0))
                    .sum()
            };
            let name = format!("callgrind, {phase} ({msgs})");
            let mut add = |metric: &str, v: f64| {
                self.results
                    .add(&mml, &format!("{name}: {metric}"), module, v);
            };
            add("instructions/message, all processes", per(total));
            add(
                "instructions/message, SIP workers",
                per(by_desc("udp receiver")),
            );
            add(
                "instructions/message, XMPP Manager",
                per(by_desc("XMPP Manager")),
            );
            match (entries, phase) {
                (None, _) => {}
                (Some((notify_fn, _)), "1-tuple NOTIFY" | "10-tuple NOTIFY") => add(
                    "module NOTIFY entry, inclusive/message",
                    per(incl(notify_fn)),
                ),
                (Some((_, presence_fn)), _) => {
                    let cb = incl(presence_fn);
                    let publish = incl("send_publish");
                    add("module presence callback, inclusive/message", per(cb));
                    add("pua send_publish, inclusive/message", per(publish));
                    add(
                        "module's own part (callback - send_publish)/message",
                        per(cb.saturating_sub(publish)),
                    );
                }
            }
            eprintln!(
                "   {phase}: {msgs} messages, {:.0} instructions each over {} processes",
                per(total),
                dumps.len()
            );
        }
        Ok(())
    }
}

/// PUBLISH -> PUBLISHes, MESSAGE -> MESSAGEs.
fn plural(method: &str) -> String {
    if method.ends_with("SH") {
        format!("{method}es")
    } else {
        format!("{method}s")
    }
}

fn log_tail(dir: &Path) -> String {
    let log = std::fs::read(dir.join("kamailio.log")).unwrap_or_default();
    kamailio_test_stack::process::tail(&String::from_utf8_lossy(&log), 30)
}

fn with_log(e: io::Error, inst: &Instance) -> io::Error {
    io::Error::other(format!(
        "{e}\n--- kamailio.log (tail) ---\n{}",
        inst.kam.log_tail(30)
    ))
}

/// pua_xmpp's targets (issue 5), checked against the medians (ratios: median of the per-round
/// ratios).
fn pua_xmpp_targets(r: &Results) -> String {
    let mut out = String::from("Targets:\n");
    let mut line = |ok: Option<bool>, text: String| target_line(&mut out, ok, &text);
    let ratio = |mm: &str, metric: &str| r.get(mm, metric).and_then(Row::median_ratio);
    for mm in ["qm (default)", "-x tlsf"] {
        for body in ["1-tuple", "10-tuple"] {
            let x = r
                .find(mm, |m| {
                    m.starts_with(&format!("callgrind, {body} NOTIFY"))
                        && m.ends_with("module NOTIFY entry, inclusive/message")
                })
                .and_then(Row::median_ratio);
            line(
                x.map(|x| x <= 1.0 / 3.0),
                format!(
                    "{mm}: module-inclusive instructions per {body} NOTIFY <= 1/3 of C: {}",
                    fmt_opt(x)
                ),
            );
        }
        let x = r
            .find(mm, |m| {
                m.ends_with("module's own part (callback - send_publish)/message")
            })
            .and_then(Row::median_ratio);
        line(
            x.map(|x| x <= 1.0 / 3.0),
            format!(
                "{mm}: module's own instructions per XMPP presence <= 1/3 of C: {}",
                fmt_opt(x)
            ),
        );
    }
    let k_small = r
        .rows
        .iter()
        .find_map(|row| {
            row.metric
                .strip_prefix("1-tuple NOTIFY, K=")?
                .split(':')
                .next()
                .map(str::to_string)
        })
        .unwrap_or_default();
    let x = ratio(
        "qm (default)",
        &format!("1-tuple NOTIFY, K={k_small}: CPU us/NOTIFY, all Kamailio processes"),
    );
    line(
        x.map(|x| x <= 0.7),
        format!(
            "qm (default): Kamailio CPU per 1-tuple NOTIFY (K={k_small}) <= 0.7x C: {}",
            fmt_opt(x)
        ),
    );
    let x = ratio(
        "-x tlsf",
        &format!("10-tuple NOTIFY, K={k_small}: CPU us/NOTIFY, all Kamailio processes"),
    );
    line(
        x.map(|x| x <= 0.5),
        format!(
            "-x tlsf: Kamailio CPU per 10-tuple NOTIFY (K={k_small}) <= 0.5x C: {}",
            fmt_opt(x)
        ),
    );
    memory_targets(r, &mut out);
    out
}

/// The transport's targets: no more Kamailio CPU and no more instructions per message than
/// the C `xmpp.so` on every path, and no memory growth.
fn transport_targets(r: &Results) -> String {
    let mut out = String::from("Targets:\n");
    for row in r.rows.iter().filter(|row| {
        row.metric.contains(": CPU us/") && row.metric.ends_with("all Kamailio processes")
            || row.metric.ends_with("instructions/message, all processes")
    }) {
        let x = row.median_ratio();
        target_line(
            &mut out,
            x.map(|x| x <= 1.0),
            &format!(
                "{}: {}: Rust <= C: Rust/C {}",
                row.mm,
                row.metric,
                fmt_opt(x)
            ),
        );
    }
    memory_targets(r, &mut out);
    out
}

/// Zero growth of the Rust subject's memory.
fn memory_targets(r: &Results, out: &mut String) {
    for row in r
        .rows
        .iter()
        .filter(|row| row.metric.starts_with("memory over"))
    {
        let v = row.median(Module::Rust);
        target_line(
            out,
            (!v.is_nan()).then_some(v <= 0.0),
            &format!(
                "{}: Rust {}: zero growth: {}",
                row.mm,
                row.metric,
                fmt_opt(Some(v))
            ),
        );
    }
}

fn target_line(out: &mut String, ok: Option<bool>, text: &str) {
    let mark = match ok {
        Some(true) => "MET   ",
        Some(false) => "MISSED",
        None => "n/a   ",
    };
    out.push_str(&format!("  {mark} {text}\n"));
}

fn fmt_opt(x: Option<f64>) -> String {
    match x {
        Some(x) if !x.is_nan() => format!("{x:.3}"),
        _ => "not measured".into(),
    }
}
