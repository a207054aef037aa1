#!/usr/bin/env bash
# The main job, end to end: installs Debian's Kamailio and Prosody (once), builds pua_xmpp,
# starts Prosody and Kamailio configured as a SIP/XMPP presence gateway on loopback (in a
# private network namespace), and shows presence crossing the gateway both ways.
#   bash tests/stack/demo.sh        (as root, on Debian bookworm)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
bash tests/stack/setup.sh
cargo build --release -p pua_xmpp --example gateway_demo
PUA_XMPP_SO="$PWD/target/release/libpua_xmpp.so" ./target/release/examples/gateway_demo
