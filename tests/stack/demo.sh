#!/usr/bin/env bash
# The main job, end to end: installs Debian's Kamailio and Prosody (once), builds pua_xmpp and
# the Rust xmpp transport, starts Prosody and Kamailio configured as a SIP/XMPP presence gateway
# on loopback (in a private network namespace), and shows presence crossing the gateway both
# ways, printing what each side receives.
#   bash tests/stack/demo.sh        (as root, on Debian bookworm)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
bash tests/stack/setup.sh
cargo build --release -p pua_xmpp -p kamailio-xmpp
cargo build --release -p pua_xmpp --example gateway_demo
./target/release/examples/gateway_demo
