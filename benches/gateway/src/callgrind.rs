//! Reading callgrind dumps: the total instructions of a process and the inclusive instructions of
//! named functions (through `callgrind_annotate --inclusive=yes`).

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;

/// One process's dump of one phase.
#[derive(Debug, Default)]
pub struct Dump {
    pub total: u64,
    /// Function name (Rust hashes stripped) -> inclusive instructions.
    pub inclusive: BTreeMap<String, u64>,
}

/// The dump files of `part` (`callgrind.out.<pid>.<part>`) in `dir`.
pub fn part_files(dir: &Path, part: u32) -> io::Result<Vec<PathBuf>> {
    let suffix = format!(".{part}");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| Some(e.ok()?.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("callgrind.out.") && n.ends_with(&suffix))
        })
        .collect();
    files.sort();
    Ok(files)
}

pub fn read_dump(path: &Path) -> io::Result<Dump> {
    let text = std::fs::read_to_string(path)?;
    let total = text
        .lines()
        .find_map(|l| {
            l.strip_prefix("summary:")
                .or_else(|| l.strip_prefix("totals:"))
        })
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    let out = Command::new("callgrind_annotate")
        .args(["--inclusive=yes", "--threshold=100", "--auto=no"])
        .arg(path)
        .output()?;
    if !out.status.success() {
        return Err(io::Error::other(format!(
            "callgrind_annotate {}: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    Ok(Dump {
        total,
        inclusive: parse_annotate(&String::from_utf8_lossy(&out.stdout)),
    })
}

/// Lines like `1,234,567 (12.3%)  file.c:function [object]` (the percentage only in newer
/// valgrind versions). With debug info a function's inlined code is also listed under the
/// inlined files, without `[object]`: only the line with the object is the whole function.
/// Same-named functions of several objects are summed.
fn parse_annotate(text: &str) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim_start();
        let Some((num, rest)) = line.split_once(' ') else {
            continue;
        };
        let Ok(ir) = num.replace(',', "").parse::<u64>() else {
            continue;
        };
        let rest = rest.trim_start();
        let rest = match rest.strip_prefix('(') {
            Some(r) => r.split_once(')').map_or(r, |(_, after)| after).trim_start(),
            None => rest,
        };
        let Some((_, func)) = rest.split_once(':') else {
            continue;
        };
        let Some((func, _object)) = func.split_once(" [") else {
            continue;
        };
        let func = func.trim();
        *out.entry(strip_rust_hash(func).to_string()).or_insert(0) += ir;
    }
    out
}

/// `a::b::h0123456789abcdef` -> `a::b`.
fn strip_rust_hash(name: &str) -> &str {
    match name.rsplit_once("::h") {
        Some((head, hash)) if hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => {
            head
        }
        _ => name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_annotate_styles() {
        let text = "--\nIr\n--\n1,000,000  PROGRAM TOTALS\n\n\
            Ir  file:function\n\
            356,000  ???:Notify2Xmpp [/usr/lib/x86_64-linux-gnu/kamailio/modules/pua_xmpp.so]\n\
            12,345 (1.2%)  src/module.rs:pua_xmpp::module::pua_xmpp_notify::h0123456789abcdef [/t/libpua_xmpp.so]\n\
            7 (0.0%)  ???:send_publish [/x/pua.so]\n\
            3  ???:send_publish [/x/pua.so]\n\
            12,000  src/guard.rs:pua_xmpp::module::pua_xmpp_notify\n";
        let m = parse_annotate(text);
        assert_eq!(m["Notify2Xmpp"], 356_000);
        assert_eq!(m["pua_xmpp::module::pua_xmpp_notify"], 12_345);
        assert_eq!(m["send_publish"], 10);
        assert!(!m.contains_key("PROGRAM TOTALS"));
    }
}
