//! One Kamailio under test: config from the template, db_text tables, a private `/etc/hosts`
//! (sip.example is the agent on 127.0.0.2), pinned with `taskset`, optionally under callgrind;
//! its processes, their CPU time and RssAnon from /proc, and its RPC through `kamcmd`.

use std::collections::BTreeMap;
use std::io;
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use kamailio_test_stack::Host;
use kamailio_test_stack::process::{Proc, wait_until};

const TEMPLATE: &str = include_str!("../kamailio.cfg.tmpl");
const DB_TABLES: [&str; 6] = [
    "version",
    "presentity",
    "active_watchers",
    "watchers",
    "xcap",
    "pua",
];
pub const COMPONENT_PORT: u16 = 5347;
pub const COMPONENT_SECRET: &str = "bench-secret";
/// What Kamailio's main process logs when a child dies of a signal.
const CRASH_MARK: &str = "exited by a signal";

/// What varies between runs.
#[derive(Clone, Debug)]
pub struct KamailioSetup {
    pub pua_xmpp_module: PathBuf,
    pub xmpp_module: PathBuf,
    /// `None`: Kamailio's default manager; `Some("tlsf")`: `-x tlsf`.
    pub mem_manager: Option<&'static str>,
    pub extra_pua_xmpp: Vec<String>,
    pub cpu: usize,
    /// Directory for callgrind output files: run under `valgrind --tool=callgrind`.
    pub callgrind_dir: Option<PathBuf>,
    pub start_timeout: Duration,
}

pub struct Kamailio {
    dir: PathBuf,
    proc: Proc,
    /// pid -> description (`core.psx`).
    processes: BTreeMap<i32, String>,
}

/// CPU time and anonymous memory of one process, from /proc.
#[derive(Clone, Copy, Debug, Default)]
pub struct ProcSample {
    /// utime + stime, microseconds.
    pub cpu_us: u64,
    pub rss_anon_kb: u64,
}

impl Kamailio {
    /// Writes the files into `dir` and starts Kamailio; returns once it answers OPTIONS.
    pub fn start(setup: &KamailioSetup, dir: &Path) -> io::Result<Kamailio> {
        let db = dir.join("db");
        std::fs::create_dir_all(&db)?;
        let host = Host::get();
        for t in DB_TABLES {
            std::fs::copy(host.dbtext_dir.join(t), db.join(t))?;
        }
        let conf = dir.join("kamailio.cfg");
        std::fs::write(&conf, render_config(setup, dir))?;
        std::fs::write(
            dir.join("hosts"),
            "127.0.0.1 localhost xmpp-gw.sip.example sip-gw.xmpp.example xmpp.example\n\
             127.0.0.2 sip.example\n",
        )?;
        std::fs::write(dir.join("resolv.conf"), "nameserver 127.0.0.1\n")?;
        let script = r#"set -e
mount --bind "$1" /etc/hosts
if [ -f /etc/resolv.conf ]; then mount --bind "$2" /etc/resolv.conf; fi
shift 2
exec "$@""#;
        let mut cmd = Command::new("taskset");
        cmd.args(["-c", &setup.cpu.to_string()])
            .args([
                "unshare",
                "-m",
                "--propagation",
                "private",
                "sh",
                "-c",
                script,
                "sh",
            ])
            .arg(dir.join("hosts"))
            .arg(dir.join("resolv.conf"));
        if let Some(cg) = &setup.callgrind_dir {
            std::fs::create_dir_all(cg)?;
            cmd.args(["valgrind", "--tool=callgrind", "--trace-children=yes"])
                .arg(format!(
                    "--callgrind-out-file={}/callgrind.out.%p",
                    cg.display()
                ));
        }
        // -DD: foreground, so the process group holds every child. Shared memory is raised: tm
        // keeps every finished transaction for 5 s (about 10 kB each), and a PUBLISH makes two
        // (pua's and the presence server's), 2,500 presences/s so hold 250 MB.
        cmd.arg(&host.kamailio_bin)
            .args(["-DD", "-E", "-m", "1024", "-f"])
            .arg(&conf)
            .arg("-Y")
            .arg(dir)
            .arg("-w")
            .arg(dir);
        if let Some(m) = setup.mem_manager {
            cmd.args(["-x", m]);
        }
        cmd.current_dir(dir);
        let proc = Proc::spawn("kamailio", cmd, &dir.join("kamailio.log"))?;
        let mut k = Kamailio {
            dir: dir.to_path_buf(),
            proc,
            processes: BTreeMap::new(),
        };
        k.wait_options(setup.start_timeout)?;
        k.processes = k.rpc_psx()?;
        Ok(k)
    }

    fn wait_options(&self, timeout: Duration) -> io::Result<()> {
        let probe = UdpSocket::bind("127.0.0.1:0")?;
        probe.set_read_timeout(Some(Duration::from_millis(200)))?;
        let mut n = 0u32;
        wait_until("Kamailio answering OPTIONS", timeout, || {
            self.check_alive()?;
            n += 1;
            let req = format!(
                "OPTIONS sip:127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP {};branch=z9hG4bKp{n}\r\n\
                 Max-Forwards: 70\r\nFrom: <sip:probe@127.0.0.1>;tag=p\r\nTo: <sip:127.0.0.1>\r\n\
                 Call-ID: probe-{n}\r\nCSeq: {n} OPTIONS\r\nContent-Length: 0\r\n\r\n",
                probe.local_addr()?
            );
            let _ = probe.send_to(req.as_bytes(), "127.0.0.1:5060");
            let mut buf = [0u8; 2048];
            Ok(match probe.recv(&mut buf) {
                Ok(len) => buf[..len].starts_with(b"SIP/2.0 200").then_some(()),
                Err(_) => None,
            })
        })
    }

    /// Fails when the main process has exited or the log reports a crashed child.
    pub fn check_alive(&self) -> io::Result<()> {
        self.proc.check_alive()?;
        let log = std::fs::read(self.proc.log_path()).unwrap_or_default();
        if let Some(line) = String::from_utf8_lossy(&log)
            .lines()
            .find(|l| l.contains(CRASH_MARK))
        {
            return Err(io::Error::other(format!("Kamailio crashed: {line}")));
        }
        Ok(())
    }

    /// The last lines of kamailio.log.
    pub fn log_tail(&self, n: usize) -> String {
        kamailio_test_stack::process::tail(&self.proc.log(), n)
    }

    /// Every Kamailio process (pid -> `core.psx` description).
    pub fn processes(&self) -> &BTreeMap<i32, String> {
        &self.processes
    }

    /// /proc sample of every Kamailio process.
    pub fn sample(&self) -> BTreeMap<i32, ProcSample> {
        self.processes
            .keys()
            .filter_map(|&pid| Some((pid, proc_sample(pid)?)))
            .collect()
    }

    /// Runs `kamcmd` against this Kamailio's ctl socket; returns its output.
    pub fn rpc(&self, args: &[&str]) -> io::Result<String> {
        let out = Command::new("kamcmd")
            .arg("-s")
            .arg(format!("unix:{}/kamailio_ctl", self.dir.display()))
            .args(args)
            .output()?;
        if !out.status.success() {
            return Err(io::Error::other(format!(
                "kamcmd {args:?}: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )));
        }
        let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.push_str(&String::from_utf8_lossy(&out.stderr));
        Ok(text)
    }

    fn rpc_psx(&self) -> io::Result<BTreeMap<i32, String>> {
        let out = self.rpc(&["core.psx"])?;
        let procs: BTreeMap<i32, String> = rpc_records(&out)
            .into_iter()
            .filter_map(|r| Some((r.get("PID")?.parse().ok()?, r.get("DSC")?.clone())))
            .collect();
        if procs.is_empty() {
            return Err(io::Error::other(format!(
                "core.psx listed no process: {out}"
            )));
        }
        Ok(procs)
    }

    /// A statistic such as `core:rcv_requests_publish` (`stats.get_statistics` of its group).
    pub fn statistic(&self, name: &str) -> io::Result<u64> {
        let group = name.split(':').next().unwrap_or(name);
        let out = self.rpc(&["stats.get_statistics", &format!("{group}:")])?;
        out.lines()
            .find_map(|l| {
                let (k, v) = l.split_once(" = ")?;
                (k.trim() == name).then(|| v.trim().parse().ok())?
            })
            .ok_or_else(|| io::Error::other(format!("no statistic {name} in: {out}")))
    }

    /// Sum of pkg `used` over all processes (`pkg.stats`, kex) and shm `used` (`core.shmmem`).
    pub fn memory(&self) -> io::Result<(u64, u64)> {
        let pkg = rpc_records(&self.rpc(&["pkg.stats"])?)
            .iter()
            .filter_map(|r| r.get("used")?.parse::<u64>().ok())
            .sum();
        let shm = rpc_records(&self.rpc(&["core.shmmem"])?)
            .first()
            .and_then(|r| r.get("used")?.parse().ok())
            .ok_or_else(|| io::Error::other("core.shmmem has no used value"))?;
        Ok((pkg, shm))
    }

    /// Shared memory in use per allocation site (`mod.mem_stats all shm`): "module: site" ->
    /// bytes; where a growth of shm comes from.
    pub fn shm_sites(&self) -> io::Result<BTreeMap<String, u64>> {
        Ok(mem_stats_sites(&self.rpc(&[
            "mod.mem_stats",
            "all",
            "shm",
        ])?))
    }

    /// callgrind `zero` or `dump` in every Kamailio process (through vgdb).
    pub fn callgrind_control(&self, action: &str) -> io::Result<()> {
        let flag = match action {
            "zero" => "-z",
            _ => "-d",
        };
        let out = Command::new("callgrind_control")
            .arg(flag)
            .args(self.processes.keys().map(|p| p.to_string()))
            .output()?;
        let text = String::from_utf8_lossy(&out.stdout);
        let oks = text.matches("OK.").count();
        if !out.status.success() || oks != self.processes.len() {
            return Err(io::Error::other(format!(
                "callgrind_control {flag}: {oks} of {} processes answered: {text}{}",
                self.processes.len(),
                String::from_utf8_lossy(&out.stderr)
            )));
        }
        Ok(())
    }

    /// Stops Kamailio (the whole process group).
    pub fn stop(self) {
        self.proc.stop();
    }
}

fn render_config(setup: &KamailioSetup, dir: &Path) -> String {
    let host = Host::get();
    let vars = [
        ("EXTRA_GLOBAL", host.global_cfg.join("\n")),
        ("MODULE_DIR", host.module_dir.display().to_string()),
        ("XMPP_MODULE", setup.xmpp_module.display().to_string()),
        (
            "PUA_XMPP_MODULE",
            setup.pua_xmpp_module.display().to_string(),
        ),
        ("DIR", dir.display().to_string()),
        ("DB_DIR", dir.join("db").display().to_string()),
        ("COMPONENT_PORT", COMPONENT_PORT.to_string()),
        ("COMPONENT_SECRET", COMPONENT_SECRET.to_string()),
        ("EXTRA_PUA_XMPP", setup.extra_pua_xmpp.join("\n")),
    ];
    let mut out = TEMPLATE.to_string();
    for (k, v) in vars {
        out = out.replace(&format!("{{{{{k}}}}}"), &v);
    }
    assert!(!out.contains("{{"), "unfilled placeholder in kamailio.cfg");
    out
}

/// `mod.mem_stats` output (`Module: tm`, then `{ build_cell(334): 8336 ... }`), summed per
/// "module: site".
fn mem_stats_sites(text: &str) -> BTreeMap<String, u64> {
    let mut module = "";
    let mut sites = BTreeMap::new();
    for line in text.lines().map(str::trim) {
        if let Some(m) = line.strip_prefix("Module:") {
            module = m.trim();
        } else if let Some((site, bytes)) = line.rsplit_once(':')
            && let Ok(bytes) = bytes.trim().parse::<u64>()
        {
            *sites.entry(format!("{module}: {site}")).or_insert(0) += bytes;
        }
    }
    sites
}

/// kamcmd prints structures as `{ key: value ... }` blocks.
fn rpc_records(text: &str) -> Vec<BTreeMap<String, String>> {
    let mut out = Vec::new();
    let mut cur = BTreeMap::new();
    for line in text.lines().map(str::trim) {
        if line == "}" {
            out.push(std::mem::take(&mut cur));
        } else if let Some((k, v)) = line.split_once(':') {
            cur.insert(k.trim().to_string(), v.trim().to_string());
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn proc_sample(pid: i32) -> Option<ProcSample> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let rss_anon_kb = status
        .lines()
        .find_map(|l| l.strip_prefix("RssAnon:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0);
    Some(ProcSample {
        cpu_us: {
            // Kamailio's processes are single-threaded: the process is its main thread.
            let dir = format!("/proc/{pid}");
            sched_runtime_us(&dir).or_else(|| stat_cpu_us(&dir))?
        },
        rss_anon_kb,
    })
}

/// The scheduler's exact CPU time (`se.sum_exec_runtime`, ms with ns digits) from
/// `<dir>/sched` (dir: /proc/<pid> or /proc/<pid>/task/<tid>), where the kernel has it; for a
/// process it counts the main thread only.
fn sched_runtime_us(dir: &str) -> Option<u64> {
    let sched = std::fs::read_to_string(format!("{dir}/sched")).ok()?;
    let ms: f64 = sched
        .lines()
        .find_map(|l| l.strip_prefix("se.sum_exec_runtime"))?
        .trim_start_matches([' ', ':'])
        .trim()
        .parse()
        .ok()?;
    Some((ms * 1000.0) as u64)
}

/// utime + stime from `<dir>/stat` (10 ms ticks).
fn stat_cpu_us(dir: &str) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("{dir}/stat")).ok()?;
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    Some(ticks * 1_000_000 / hz)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_kamcmd_records() {
        let sites = mem_stats_sites(
            "Module: core\n{\n\tinit_timer(210): 278544\n}\nModule: tm\n{\n\tbuild_cell(334): 8336\n\tbuild_cell(334): 64\n}\n",
        );
        assert_eq!(sites["tm: build_cell(334)"], 8400);
        assert_eq!(sites["core: init_timer(210)"], 278544);

        let text =
            "{\n\tentry: 0\n\tpid: 12\n\tused: 100\n}\n{\n\tentry: 1\n\tpid: 13\n\tused: 50\n}\n";
        let r = rpc_records(text);
        assert_eq!(r.len(), 2);
        assert_eq!(r[1]["pid"], "13");
        assert_eq!(r[0]["used"], "100");
    }

    #[test]
    fn reads_own_cpu_time_both_ways() {
        let pid = std::process::id() as i32;
        // SAFETY: gettid has no preconditions.
        let dir = format!("/proc/{pid}/task/{}", unsafe { libc::gettid() });
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while stat_cpu_us(&dir).unwrap() < 100_000 && std::time::Instant::now() < deadline {
            for i in 0..1_000_000u64 {
                std::hint::black_box(i);
            }
        }
        let stat = stat_cpu_us(&dir).unwrap();
        assert!(stat >= 100_000, "{stat}");
        if let Some(sched) = sched_runtime_us(&dir) {
            assert!(
                sched + 1_000 >= stat && sched < stat + 30_000,
                "sched {sched} stat {stat}"
            );
        }
        assert!(proc_sample(pid).unwrap().rss_anon_kb > 0);
    }
}
