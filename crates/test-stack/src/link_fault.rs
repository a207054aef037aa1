//! Faults of the component link alone, while the XMPP clients stay connected: a network
//! failure between Kamailio and the XMPP server. Uses nftables (Debian's `nftables`) inside
//! the calling thread's network namespace, which must be the stack's own.

use crate::config::COMPONENT_PORT;
use std::io;
use std::process::Command;

const TABLE: &str = "kamailio_test_stack_link";

fn run(program: &str, args: &[&str]) -> io::Result<()> {
    let out = Command::new(program).args(args).output()?;
    if out.status.success() {
        return Ok(());
    }
    Err(io::Error::other(format!(
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr).trim()
    )))
}

/// Cuts the component link: new connections to the component port are refused (TCP reset)
/// and both ends of the established one are killed (`ss -K`; the reset a killed socket sends
/// is dropped by the rule, so the XMPP server's end must be killed too, or it keeps the old
/// component session and refuses the next one as a conflict). Kamailio sees the link lost and
/// cannot get it back until [`restore_component_link`].
pub fn cut_component_link() -> io::Result<()> {
    run("nft", &["add", "table", "inet", TABLE])?;
    run(
        "nft",
        &[
            "add",
            "chain",
            "inet",
            TABLE,
            "out",
            "{ type filter hook output priority 0; }",
        ],
    )?;
    let port = COMPONENT_PORT.to_string();
    run(
        "nft",
        &[
            "add", "rule", "inet", TABLE, "out", "tcp", "dport", &port, "reject", "with", "tcp",
            "reset",
        ],
    )?;
    let filter = format!("( dport = :{port} or sport = :{port} )");
    run("ss", &["-K", "state", "established", &filter])
}

/// Lets the component connect again (Kamailio reconnects on its own schedule).
pub fn restore_component_link() -> io::Result<()> {
    run("nft", &["delete", "table", "inet", TABLE])
}
